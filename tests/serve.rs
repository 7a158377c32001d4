//! `refeed serve` end to end: the binary on a random port against a real local origin,
//! spoken to over plain HTTP/1.1 (no client library that would hide compression or caching).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Origin, Workspace, text};

/// A running `refeed serve`, stopped (SIGKILL) when dropped if a test did not stop it.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
    _ws: Workspace,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        text(&self.body)
    }
}

impl Server {
    fn start(config: &str) -> Server {
        Server::start_in(Workspace::new(config))
    }

    /// A server on an existing workspace (its store and output folder as they are).
    fn start_in(ws: Workspace) -> Server {
        let serving = common::spawn_serve(&ws);
        let addr = serving.address();
        let common::Serving { child, log, .. } = serving;
        Server { child, addr, log, _ws: ws }
    }

    /// Stops the server with SIGTERM and hands back its workspace.
    fn stop(mut self) -> Workspace {
        self.signal(libc::SIGTERM);
        assert_eq!(self.wait_exit(30), Some(0), "{}", self.log());
        let _ = self.child.wait();
        let ws = Workspace { dir: tempfile::tempdir().unwrap() };
        std::mem::replace(&mut self._ws, ws)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            }
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
        let mut body = raw[split + 4..].to_vec();
        if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")) {
            body = dechunk(&body);
        }
        Resp { status, headers, body }
    }

    fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], "")
    }

    /// GETs `path` until `done` holds (or panics after `secs`).
    fn wait_for(&self, path: &str, secs: u64, done: impl Fn(&Resp) -> bool) -> Resp {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.get(path);
            if done(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: gave up waiting; last {} {}\nlog:\n{}",
                r.status,
                r.text(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Waits for the process to exit, returning its exit code.
    fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "server still running after {secs}s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn settings(extra: &str) -> String {
    format!("[settings]\noutput_dir = \"public\"\ndatabase = \"state.db\"\ntimeout = \"5s\"\n{extra}\n")
}

fn source(name: &str, url: &str, extra: &str) -> String {
    format!("\n[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect()
}

fn parse(r: &Resp) -> feed_rs::model::Feed {
    feed_rs::parser::parse(&r.body[..]).unwrap_or_else(|e| panic!("does not parse: {e}\n{}", r.text()))
}

#[test]
fn each_format_is_served_with_its_type_validators_compression_and_head() {
    let origin = Origin::start();
    let config = settings("") + &source("gazette", &origin.url("/feeds/rss2.xml"), "");
    let server = Server::start(&config);
    let base = format!("http://{}", server.addr);
    let rss = server.wait_for("/feeds/gazette.xml", 30, |r| r.status == 200);

    for (ext, content_type, self_marker) in [
        ("xml", "application/rss+xml; charset=utf-8", "<atom:link href=\"BASE/feeds/gazette.xml\" rel=\"self\""),
        ("atom", "application/atom+xml; charset=utf-8", "<link href=\"BASE/feeds/gazette.atom\" rel=\"self\""),
        ("json", "application/feed+json; charset=utf-8", "\"feed_url\": \"BASE/feeds/gazette.json\""),
    ] {
        let path = format!("/feeds/gazette.{ext}");
        let r = server.get(&path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(content_type), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert!(r.text().contains(&self_marker.replace("BASE", &base)), "{path}: self link missing:\n{}", r.text());
        let feed = parse(&r);
        assert_eq!(titles(&feed), ["Lifeboat open day", "Night ferry"], "{path}");
        // The full text of the article page, not the feed's teaser.
        let body = feed.entries[1].content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
        assert!(body.contains("Deckhand Saoirse Quinn has worked the night rota"), "{path}: {body}");

        let etag = r.header("etag").unwrap().to_owned();
        let last_modified = r.header("last-modified").unwrap().to_owned();
        let again = server.request("GET", &path, &[("If-None-Match", &etag)], "");
        assert_eq!((again.status, again.body.len()), (304, 0), "{path}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let since = server.request("GET", &path, &[("If-Modified-Since", &last_modified)], "");
        assert_eq!(since.status, 304, "{path}");
        let other = server.request("GET", &path, &[("If-None-Match", "\"something-else\"")], "");
        assert_eq!(other.status, 200, "{path}");

        let gz = server.request("GET", &path, &[("Accept-Encoding", "gzip")], "");
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
        assert!(gz.body.len() < r.body.len() / 2, "{path}: {} vs {}", gz.body.len(), r.body.len());
        assert_eq!(gunzip(&gz.body), r.body, "{path}");
        let br = server.request("GET", &path, &[("Accept-Encoding", "gzip, deflate, br")], "");
        assert_eq!(br.header("content-encoding"), Some("br"), "{path}");
        let mut unbr = Vec::new();
        brotli::Decompressor::new(&br.body[..], 4096).read_to_end(&mut unbr).unwrap();
        assert_eq!(unbr, r.body, "{path}");

        let head = server.request("HEAD", &path, &[], "");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-type"), Some(content_type));
        assert_eq!(head.header("content-length"), Some(r.body.len().to_string().as_str()), "{path}");
        assert!(head.body.is_empty());
    }
    assert_eq!(parse(&rss).title.unwrap().content, "RSS 2.0 fixture");

    let index = server.get("/");
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    let html = index.text();
    for link in [
        "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"RSS 2.0 fixture\" href=\"feeds/gazette.xml\">",
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"RSS 2.0 fixture (Atom)\" href=\"feeds/gazette.atom\">",
        "<link rel=\"alternate\" type=\"application/feed+json\" title=\"RSS 2.0 fixture (JSON Feed)\" href=\"feeds/gazette.json\">",
    ] {
        assert!(html.contains(link), "{link} missing from /:\n{html}");
    }
    assert!(html.contains("<b>2</b> entries"), "{html}");
    assert!(!html.contains("<script"), "no script on the page");

    let opml = server.get("/opml");
    assert_eq!(opml.header("content-type"), Some("text/x-opml; charset=utf-8"));
    assert!(opml.text().contains(&format!("xmlUrl=\"{base}/feeds/gazette.xml\"")), "{}", opml.text());
    assert_eq!(server.get("/healthz").text(), "ok\n");
    let metrics = server.get("/metrics").text();
    for line in [
        "refeed_refreshes_total{result=\"ok\"} 1",
        "refeed_articles_extracted_total 2",
        "refeed_source_entries{source=\"gazette\"} 2",
        "refeed_http_requests_total{route=\"feed\",code=\"304\"} 6",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} missing from /metrics:\n{metrics}");
    }
    // Unknown things are 404 with a sentence; the any-URL feature is off by default.
    assert_eq!(server.get("/feeds/nope.xml").status, 404);
    assert_eq!(server.get("/feeds/gazette.html").status, 404);
    let any = server.get(&format!("/feed?url={}", origin.url("/feeds/atom.xml")));
    assert_eq!(any.status, 404);
    assert!(any.text().contains("settings.allow_any_url"), "{}", any.text());
    // The same feed files are in the output folder, with the same bytes.
    let on_disk = std::fs::read(server._ws.output("gazette.xml")).unwrap();
    assert_eq!(on_disk, rss.body);
}

#[test]
fn base_url_sets_the_self_links_behind_a_proxy() {
    let origin = Origin::start();
    let config = settings("base_url = \"https://feeds.example.org/refeed/\"")
        + &source("gazette", &origin.url("/feeds/atom.xml"), "full_text = false");
    let server = Server::start(&config);
    let atom = server.wait_for("/feeds/gazette.atom", 30, |r| r.status == 200).text();
    assert!(atom.contains("<link href=\"https://feeds.example.org/refeed/feeds/gazette.atom\" rel=\"self\""), "{atom}");
    let opml = server.get("/opml").text();
    assert!(opml.contains("xmlUrl=\"https://feeds.example.org/refeed/feeds/gazette.xml\""), "{opml}");
    // The refresh button works when the proxy hands on its own Host: the page's public
    // origin is base_url's.
    let page = server.get("/").text();
    let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let form = format!("csrf={token}");
    let public = server.request("POST", "/refresh/gazette", &[("Origin", "https://feeds.example.org")], &form);
    assert_eq!(public.status, 303);
    let other =
        server.request("POST", "/refresh/gazette", &[("Origin", "https://feeds.example.org.evil.example")], &form);
    assert_eq!(other.status, 403);
}

const ONE: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Changing</title><link>http://example.org/</link>
<item><title>First story</title><guid>one</guid><description>The first story of the day.</description><pubDate>Sat, 28 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"#;

#[test]
fn scheduled_refresh_picks_up_a_new_entry_without_a_restart() {
    let origin = Origin::start();
    origin.set("/changing.xml", "application/rss+xml", ONE);
    let config =
        settings("") + &source("changing", &origin.url("/changing.xml"), "full_text = false\nrefresh = \"1s\"");
    let server = Server::start(&config);
    let first = server.wait_for("/feeds/changing.xml", 30, |r| r.status == 200);
    assert_eq!(titles(&parse(&first)), ["First story"]);
    let etag = first.header("etag").unwrap().to_owned();
    // On schedule, refeed revalidates with the origin (which answers 304: nothing new).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !origin.requests().iter().any(|r| r.path == "/changing.xml" && r.status == 304) {
        assert!(Instant::now() < deadline, "no conditional refresh: {:?}", origin.requests());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.get("/feeds/changing.xml").header("etag"), Some(etag.as_str()), "unchanged feed, same ETag");

    let two = ONE.replace(
        "<item>",
        "<item><title>Second story</title><guid>two</guid><description>Later news.</description><pubDate>Sat, 28 Nov 2026 09:00:00 GMT</pubDate></item><item>",
    );
    origin.set("/changing.xml", "application/rss+xml", two);
    let second = server.wait_for("/feeds/changing.xml", 20, |r| r.text().contains("Second story"));
    assert_eq!(titles(&parse(&second)), ["Second story", "First story"]);
    assert_ne!(second.header("etag").unwrap(), etag, "a changed feed has a new ETag");
    // The reader's old ETag no longer matches; its new one does.
    assert_eq!(server.request("GET", "/feeds/changing.xml", &[("If-None-Match", &etag)], "").status, 200);
    assert!(server.log().contains("ok     changing: 2 entries, 1 new"), "{}", server.log());
}

#[test]
fn a_failing_origin_is_shown_on_the_page_and_does_not_take_the_others_down() {
    let origin = Origin::start();
    origin.fail("/feeds/atom.xml", true);
    let config = settings("refresh = \"1s\"")
        + &source("broken", &origin.url("/feeds/atom.xml"), "title = \"Broken Times\"")
        + &source("missing", &origin.url("/nowhere.xml"), "")
        + &source("fine", &origin.url("/feeds/feed.json"), "full_text = false");
    let server = Server::start(&config);
    let page = server.wait_for("/", 30, |r| r.text().matches("class=\"error\"").count() == 2).text();
    assert!(page.contains("The site&#39;s server had an error (500)."), "{page}");
    assert!(page.contains(&format!("{}: HTTP 500 Internal Server Error", origin.url("/feeds/atom.xml"))), "{page}");
    assert!(page.contains("The feed&#39;s address no longer exists (404)."), "{page}");
    assert!(page.contains("Broken Times"), "{page}");
    assert!(page.contains("<b>2</b> failing"), "{page}");
    // The healthy source is served all the while.
    let fine = server.wait_for("/feeds/fine.json", 30, |r| r.status == 200);
    assert_eq!(fine.header("content-type"), Some("application/feed+json; charset=utf-8"));
    // A source never fetched successfully says so instead of serving an empty feed.
    let broken = server.get("/feeds/broken.xml");
    assert_eq!(broken.status, 503);
    assert_eq!(broken.header("retry-after"), Some("30"));
    // Failures back off: after the second failure in a row the next try is ~2 s away, not 1.
    let page = server.wait_for("/", 30, |r| r.text().contains("failures in a row)")).text();
    assert!(page.contains("backing off after"), "{page}");
    let metrics = server.get("/metrics").text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("refeed_source_consecutive_failures{source=\"broken\"} ") && !l.ends_with(" 0")),
        "{metrics}"
    );

    // Mended, it recovers on its own.
    origin.fail("/feeds/atom.xml", false);
    let atom = server.wait_for("/feeds/broken.atom", 30, |r| r.status == 200);
    assert_eq!(parse(&atom).title.unwrap().content, "Broken Times");
}

#[test]
fn the_refresh_button_is_a_post_with_a_csrf_token() {
    let origin = Origin::start();
    let config = settings("") + &source("gazette", &origin.url("/feeds/feed.json"), "full_text = false");
    let server = Server::start(&config);
    server.wait_for("/feeds/gazette.xml", 30, |r| r.status == 200);
    let page = server.get("/").text();
    assert!(page.contains("<form method=\"post\" action=\"refresh/gazette\">"), "{page}");
    let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(token.len() >= 32);
    let fetches = || origin.requests().iter().filter(|r| r.path == "/feeds/feed.json").count();
    let before = fetches();

    let forged = server.request("POST", "/refresh/gazette", &[], "csrf=0000");
    assert_eq!(forged.status, 403);
    let not_a_form = server.request("POST", "/refresh/gazette", &[("Content-Type", "application/json")], "{}");
    assert_eq!(not_a_form.status, 403, "{}", not_a_form.text());
    assert!(forged.text().contains("CSRF token"), "{}", forged.text());
    let cross_site =
        server.request("POST", "/refresh/gazette", &[("Origin", "https://evil.example")], &format!("csrf={token}"));
    assert_eq!(cross_site.status, 403);
    assert_eq!(server.request("GET", "/refresh/gazette", &[], "").status, 405);
    assert_eq!(fetches(), before, "refused requests fetch nothing");

    let origin_header = format!("http://{}", server.addr);
    let ok = server.request("POST", "/refresh/gazette", &[("Origin", &origin_header)], &format!("csrf={token}"));
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("../#gazette"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while fetches() == before {
        assert!(Instant::now() < deadline, "the button did not refresh the source");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Pressed again at once: a cool-down, not another fetch.
    let again = server.request("POST", "/refresh/gazette", &[("Origin", &origin_header)], &format!("csrf={token}"));
    assert_eq!(again.status, 429, "{}", again.text());
    assert!(again.text().contains("try again in"), "{}", again.text());
    assert_eq!(again.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(server.request("POST", "/refresh/nope", &[], &format!("csrf={token}")).status, 404);
}

#[test]
fn any_url_needs_its_token_and_never_fetches_local_or_private_addresses() {
    let origin = Origin::start();
    let origin_host = origin.base.trim_start_matches("http://").to_owned();
    let token = "s3cret-token-0123456789";
    let config = settings(&format!(
        "allow_any_url = true\nany_url_token = \"{token}\"\nany_url_per_minute = 100\nallow_private_hosts = [\"{origin_host}\"]"
    ));
    let server = Server::start(&config);
    let enc = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();
    let ask = |target: &str| server.get(&format!("/feed?url={}&token={token}", enc(target)));

    let feed_url = origin.url("/feeds/rss2.xml");
    let no_token = server.get(&format!("/feed?url={}", enc(&feed_url)));
    assert_eq!(no_token.status, 401);
    assert!(no_token.text().contains("needs a token"), "{}", no_token.text());
    assert_eq!(server.get(&format!("/feed?url={}&token=wrong", enc(&feed_url))).status, 403);

    // The exception (the origin's host:port) works, with full text.
    let r = ask(&feed_url);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/rss+xml; charset=utf-8"));
    // Behind a token, an answer is for this client only.
    assert_eq!(r.header("cache-control"), Some("private, max-age=60"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Authorization"));
    let feed = parse(&r);
    assert_eq!(titles(&feed), ["Lifeboat open day", "Night ferry"]);
    let body = feed.entries[1].content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
    assert!(body.contains("Deckhand Saoirse Quinn has worked the night rota"), "{body}");
    let json = server.get(&format!("/feed?url={}&token={token}&format=json", enc(&feed_url)));
    assert_eq!(json.header("content-type"), Some("application/feed+json; charset=utf-8"));
    // Bearer works as well as the query parameter.
    let bearer = server.request(
        "GET",
        &format!("/feed?url={}&format=atom", enc(&feed_url)),
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(bearer.status, 200);

    let port = origin_host.rsplit(':').next().unwrap();
    let other_port = if port == "9" { "10" } else { "9" };
    let before = origin.requests().len();
    for (target, why) in [
        (format!("http://127.0.0.1:{other_port}/feed.xml"), "127.0.0.1 is a loopback address"),
        ("http://10.1.2.3/feed.xml".into(), "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data/".into(), "169.254.169.254 is a link-local address"),
        (format!("http://[::1]:{port}/feeds/rss2.xml"), "::1 is a loopback address"),
        (format!("http://[::ffff:127.0.0.1]:{other_port}/"), "is a loopback address"),
        ("http://2130706433/".into(), "127.0.0.1 is a loopback address"),
        (format!("http://localhost:{other_port}/feed.xml"), "localhost resolves to"),
        // Redirects from an allowed origin to a forbidden one are refused at the hop.
        (
            origin.url(&format!("/bounce?to={}", enc(&format!("http://127.0.0.1:{other_port}/x")))),
            "refused: 127.0.0.1 is a loopback address",
        ),
        (
            origin.url(&format!("/bounce?to={}", enc("http://10.0.0.1/feed.xml"))),
            "refused: 10.0.0.1 is a private address",
        ),
        (
            origin.url(&format!("/bounce?to={}", enc("http://169.254.169.254/"))),
            "refused: 169.254.169.254 is a link-local address",
        ),
        (
            origin.url(&format!("/bounce?to={}", enc(&format!("http://[::1]:{port}/feeds/rss2.xml")))),
            "refused: ::1 is a loopback address",
        ),
        (
            origin.url(&format!("/bounce?to={}", enc(&format!("http://localhost:{port}/feeds/rss2.xml")))),
            "localhost resolves to",
        ),
    ] {
        let r = ask(&target);
        assert_eq!(r.status, 403, "{target}: {}", r.text());
        assert!(r.text().contains(why), "{target}: expected {why:?} in {}", r.text());
        assert!(r.text().contains("does not fetch private or local addresses"), "{}", r.text());
    }
    // Only the bounces themselves reached the origin; no refused target was ever fetched.
    let reached: Vec<String> = origin.requests()[before..].iter().map(|r| r.path.clone()).collect();
    assert!(reached.iter().all(|p| p == "/bounce"), "{reached:?}");
    assert!(ask("ftp://example.org/feed").status == 400);
    let metrics = server.get("/metrics").text();
    assert!(metrics.contains("refeed_any_url_refused_total 12"), "{metrics}");
}

#[test]
fn an_exception_for_a_host_and_port_allows_no_other_port_on_that_host() {
    let origin = Origin::start();
    let other = Origin::start();
    let port = origin.base.rsplit(':').next().unwrap().to_owned();
    let other_port = other.base.rsplit(':').next().unwrap().to_owned();
    let config = settings(&format!(
        "allow_any_url = true\nany_url_per_minute = 100\nallow_private_hosts = [\"localhost:{port}\"]"
    ));
    let server = Server::start(&config);
    let enc = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();
    let ask = |target: &str| server.get(&format!("/feed?url={}", enc(target)));

    let allowed = ask(&format!("http://localhost:{port}/feeds/rss2.xml"));
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    // Directly, and by a redirect from the allowed port: refused.
    for target in [
        format!("http://localhost:{other_port}/feeds/rss2.xml"),
        format!("http://localhost:{port}/bounce?to={}", enc(&format!("http://localhost:{other_port}/feeds/rss2.xml"))),
    ] {
        let r = ask(&target);
        assert_eq!(r.status, 403, "{target}: {}", r.text());
        let text = r.text();
        assert!(text.contains("localhost resolves to ") && text.contains("(a loopback address)"), "{text}");
    }
    // Through the links of a feed on the allowed port: the feed is built, the link not fetched.
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>L</title><item><title>Inside</title><link>http://localhost:{other_port}/demo/news/lifeboat-open-day.html</link><guid>1</guid><description>From the feed.</description></item></channel></rss>"
    );
    origin.set("/lh.xml", "application/rss+xml", feed);
    let r = ask(&format!("http://localhost:{port}/lh.xml"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("From the feed."), "{}", r.text());
    assert!(other.requests().is_empty(), "another port was reached: {:?}", other.requests());
}

#[test]
fn any_url_survives_a_feed_whose_entries_all_link_to_a_hostile_page() {
    let origin = Origin::start();
    let origin_host = origin.base.trim_start_matches("http://").to_owned();
    let mut page = String::from("<html><body><div>");
    for i in 0..400 {
        page.push_str(&format!("<b a={i}>"));
    }
    page.push_str("</div>");
    while page.len() < 57_000 {
        page.push_str("<div>x</div>");
    }
    origin.set("/bomb.html", "text/html", page);
    let items: String = (0..6)
        .map(|i| format!("<item><title>T{i}</title><link>{}?{i}</link><guid>{i}</guid><description>Feed text {i}.</description></item>", origin.url("/bomb.html")))
        .collect();
    origin.set(
        "/bombs.xml",
        "application/rss+xml",
        format!("<rss version=\"2.0\"><channel><title>B</title>{items}</channel></rss>"),
    );
    let config =
        settings(&format!("allow_any_url = true\nany_url_per_minute = 100\nallow_private_hosts = [\"{origin_host}\"]"));
    let server = Server::start(&config);
    let r = server.get(&format!("/feed?url={}", origin.url("/bombs.xml")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Feed text 5."), "the feed's own text stands in: {}", r.text());
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn any_url_is_rate_limited_per_client_but_cached_feeds_are_free() {
    let origin = Origin::start();
    let origin_host = origin.base.trim_start_matches("http://").to_owned();
    let config =
        settings(&format!("allow_any_url = true\nany_url_per_minute = 2\nallow_private_hosts = [\"{origin_host}\"]"));
    let server = Server::start(&config);
    let before = origin.requests().len();
    let first = server.get(&format!("/feed?url={}&format=atom", origin.url("/feeds/feed.json")));
    assert_eq!(first.status, 200, "{}", first.text());
    // The client is charged the requests the build sent (the feed and its articles), not one
    // per feed: two requests a minute allow this one build (the feed and its one article),
    // not a second.
    let sent = origin.requests().len() - before;
    assert_eq!(sent, 2);
    let limited = server.get(&format!("/feed?url={}", origin.url("/feeds/atom.xml")));
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(limited.text().contains("too many requests to origins"), "{}", limited.text());
    assert!(limited.text().contains("any_url_per_minute = 2"), "{}", limited.text());
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((25..=30).contains(&wait), "one request's refill at 2 a minute: {wait}");
    // The same feed again comes from memory: no fetch, no token spent, and 304 works.
    let fetched = origin.requests().len();
    let etag = first.header("etag").unwrap().to_owned();
    let again = server.request(
        "GET",
        &format!("/feed?url={}&format=atom", origin.url("/feeds/feed.json")),
        &[("If-None-Match", &etag)],
        "",
    );
    assert_eq!(again.status, 304);
    assert_eq!(origin.requests().len(), fetched);
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly_with_exit_code_zero() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let origin = Origin::start();
        let config = settings("") + &source("gazette", &origin.url("/feeds/rss2.xml"), "");
        let mut server = Server::start(&config);
        server.wait_for("/feeds/gazette.xml", 30, |r| r.status == 200);
        server.signal(sig);
        assert_eq!(server.wait_exit(15), Some(0), "{}", server.log());
        // The reader thread may still be reading the last lines.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.log().ends_with("refeed: stopped") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = server.log();
        assert!(log.contains(": stopping") && log.ends_with("refeed: stopped"), "{log}");
        // Nothing half-written: the files parse, no temp files remain, the lock is free.
        let dir = server._ws.dir.path().join("public");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(!name.ends_with(".tmp"), "{name}");
        }
        let out = server._ws.run();
        assert_ne!(out.status.code(), Some(3), "the lock was not released: {}", text(&out.stderr));
    }
}

#[test]
fn a_second_server_or_run_on_the_same_config_is_refused() {
    let origin = Origin::start();
    let config = settings("") + &source("gazette", &origin.url("/feeds/feed.json"), "full_text = false");
    let server = Server::start(&config);
    let out = server._ws.run();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("another refeed run holds the lock"), "{}", text(&out.stderr));
    let out =
        server._ws.refeed(&["serve", "--config", server._ws.config().to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = server._ws.refeed(&["serve", "--config", server._ws.config().to_str().unwrap(), "--listen", "nonsense"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn shutdown_abandons_a_refresh_stuck_on_a_slow_origin_and_still_exits_zero() {
    let slow = common::hostile::Hostile::start();
    let config = settings("").replace("timeout = \"5s\"", "timeout = \"120s\"")
        + &source("good", &slow.url("/good.xml"), "full_text = false")
        + &source("drip", &slow.url("/drip"), "");
    let mut server = Server::start(&config);
    server.wait_for("/feeds/good.xml", 30, |r| r.status == 200);
    // The dripping origin holds its refresh open (1 byte every 500 ms).
    let page = server.wait_for("/", 10, |r| r.text().contains("title=\"refreshing now\"")).text();
    assert!(page.contains("drip"), "{page}");
    let stopped = Instant::now();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(30), Some(0), "{}", server.log());
    let took = stopped.elapsed();
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(20), "{took:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.log().ends_with("refeed: stopped") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.log().contains("abandoning 1 refresh(es) still running"), "{}", server.log());
    // The good feed's files are intact and the store is usable by the next run.
    let good = std::fs::read_to_string(server._ws.output("good.xml")).unwrap();
    assert!(good.contains("Good entry two"), "{good}");
}

#[test]
fn an_origin_asking_to_wait_is_not_asked_again_until_then() {
    let slow = common::hostile::Hostile::start();
    let config = settings("refresh = \"1s\"") + &source("busy", &slow.url("/status/429"), "");
    let server = Server::start(&config);
    let page = server.wait_for("/", 30, |r| r.text().contains("class=\"error\"")).text();
    assert!(page.contains("The site asked us to slow down"), "{page}");
    // Retry-After: 3600 wins over the 1 s interval.
    assert!(page.contains("Next <b><time") && page.contains(">in 1 h"), "{page}");
    assert!(page.contains("Next refresh later than usual: the origin asked to wait (Retry-After)."), "{page}");
    std::thread::sleep(Duration::from_secs(3));
    let metrics = server.get("/metrics").text();
    assert!(metrics.lines().any(|l| l == "refeed_feed_fetches_total 1"), "fetched again:\n{metrics}");
}

#[test]
fn an_origin_max_age_longer_than_the_interval_is_honoured() {
    let origin = common::hostile::Hostile::start();
    let config =
        settings("refresh = \"1s\"") + &source("fresh", &origin.url("/fresh-for-an-hour.xml"), "full_text = false");
    let server = Server::start(&config);
    server.wait_for("/feeds/fresh.xml", 30, |r| r.status == 200);
    let page = server.wait_for("/", 10, |r| r.text().contains("Next refresh later")).text();
    assert!(page.contains("Next refresh later than usual: the origin says its feed stays fresh for 1 h."), "{page}");
    std::thread::sleep(Duration::from_secs(3));
    let metrics = server.get("/metrics").text();
    assert!(metrics.lines().any(|l| l == "refeed_feed_fetches_total 1"), "fetched again within max-age:\n{metrics}");
}

#[test]
fn after_a_restart_the_stored_feeds_are_served_at_once_and_not_refetched() {
    let origin = Origin::start();
    // A fixed base URL: the port changes between the two starts of this test, and the self
    // links would with it.
    let config =
        settings("base_url = \"https://feeds.example.org/\"") + &source("gazette", &origin.url("/feeds/rss2.xml"), "");
    let server = Server::start(&config);
    let before = server.wait_for("/feeds/gazette.xml", 30, |r| r.status == 200);
    let ws = server.stop();
    let requests = origin.requests().len();

    let server = Server::start_in(ws);
    let after = server.get("/feeds/gazette.xml");
    assert_eq!(after.status, 200, "{}", after.text());
    // Same bytes, same ETag: readers that polled before the restart get 304s after it.
    assert_eq!(after.text(), before.text());
    assert_eq!(after.header("etag"), before.header("etag"));
    let etag = before.header("etag").unwrap();
    assert_eq!(server.request("GET", "/feeds/gazette.atom", &[], "").status, 200);
    assert_eq!(server.request("GET", "/feeds/gazette.xml", &[("If-None-Match", etag)], "").status, 304);
    assert!(server.get("/opml").text().contains("/feeds/gazette.xml"), "{}", server.get("/opml").text());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(origin.requests().len(), requests, "nothing is due: nothing is fetched");
}

#[test]
fn any_url_builds_once_for_concurrent_readers_and_finishes_when_a_reader_gives_up() {
    let slow = common::hostile::Hostile::start();
    let slow_host = slow.base.trim_start_matches("http://").to_owned();
    let config =
        settings(&format!("allow_any_url = true\nany_url_per_minute = 1\nallow_private_hosts = [\"{slow_host}\"]"));
    let server = Arc::new(Server::start(&config));
    let path = format!("/feed?url={}", slow.url("/slow-good.xml"));

    // A reader that gives up after 200 ms (the origin takes 1.5 s).
    let mut quitter = TcpStream::connect(&server.addr).unwrap();
    write!(quitter, "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(quitter);
    // Two readers asking for the same feed while it is being built: neither is refused by
    // the one-per-minute limit (they wait for the build under way), both get it.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (server, path) = (server.clone(), path.clone());
            std::thread::spawn(move || server.get(&path))
        })
        .collect();
    for reader in readers {
        let r = reader.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(titles(&parse(&r)), ["Good entry two", "Good entry one"]);
    }
    let metrics = server.get("/metrics").text();
    assert!(metrics.lines().any(|l| l == "refeed_feed_fetches_total 1"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "refeed_any_url_rate_limited_total 0"), "{metrics}");
}

#[test]
fn sighup_reloads_the_config_and_a_bad_one_is_refused_without_stopping() {
    let origin = Origin::start();
    let one = settings("") + &source("first", &origin.url("/feeds/feed.json"), "full_text = false");
    let server = Server::start(&one);
    server.wait_for("/feeds/first.xml", 30, |r| r.status == 200);
    let token_before =
        server.get("/").text().split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // A bad line: reported with its line, nothing changes.
    std::fs::write(
        server._ws.config(),
        one.clone() + "\n[[source]]\nname = \"Bad Name\"\nurl = \"https://x.example/\"\n",
    )
    .unwrap();
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("config not reloaded") {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.log().contains("config.toml:13: name \"Bad Name\": only lowercase letters"), "{}", server.log());
    assert_eq!(server.get("/feeds/first.xml").status, 200);

    // A good one: the new source is fetched and served, the old one still is, without a restart.
    let two = one + &source("second", &origin.url("/feeds/atom.xml"), "full_text = false");
    std::fs::write(server._ws.config(), &two).unwrap();
    // Readers polling through the reload: every request answered, none dropped.
    let server = Arc::new(server);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (server, done) = (server.clone(), done.clone());
        std::thread::spawn(move || {
            let mut answered = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(server.get("/feeds/first.xml").status, 200);
                answered += 1;
            }
            answered
        })
    };
    server.signal(libc::SIGHUP);
    let second = server.wait_for("/feeds/second.atom", 30, |r| r.status == 200);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = poller.join().expect("a request failed during the reload");
    assert!(answered > 0);
    assert_eq!(parse(&second).title.unwrap().content, "Atom fixture");
    assert_eq!(server.get("/feeds/first.xml").status, 200);
    assert!(server.log().contains("SIGHUP: reloading"), "{}", server.log());
    // The page lists both, and a form from before the reload still works.
    let page = server.get("/").text();
    assert!(page.contains("refresh/second") && page.contains("refresh/first"), "{page}");
    let r = server.request("POST", "/refresh/second", &[], &format!("csrf={token_before}"));
    assert_eq!(r.status, 303);
}

/// Sends `raw` on a fresh connection (from `from`, a loopback address) and returns what comes
/// back before the server closes or `wait` passes.
fn raw_exchange(addr: &str, from: &str, raw: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let socket = tokio_free_connect(addr, from);
    let mut stream = socket;
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(raw);
    let mut got = Vec::new();
    let closed = match stream.read_to_end(&mut got) {
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    };
    (got, closed)
}

/// A TCP connection to `addr` from the local address `from` (127.0.0.x are all loopback).
fn tokio_free_connect(addr: &str, from: &str) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&format!("{from}:0").parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    socket.connect(&addr.parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    socket.into()
}

#[test]
fn idle_and_slow_clients_are_cut_off_and_one_client_cannot_take_every_connection() {
    let config = settings("client_timeout = \"1s\"\nmax_connections_per_client = 10");
    let server = Server::start(&config);
    // One client opens 50 connections and sends nothing: it keeps at most 10.
    let idle: Vec<TcpStream> = (0..50).map(|_| tokio_free_connect(&server.addr, "127.0.0.3")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut open = 0;
    for mut s in idle.iter() {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut b = [0u8; 1];
        if matches!(s.read(&mut b), Err(ref e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
        {
            open += 1;
        }
    }
    assert_eq!(open, 10, "connections past the per-client cap are closed at once");
    // Another client is served meanwhile.
    let (answer, _) = raw_exchange(
        &server.addr,
        "127.0.0.4",
        format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr).as_bytes(),
        Duration::from_secs(5),
    );
    assert!(text(&answer).starts_with("HTTP/1.1 200"), "{}", text(&answer));
    // Headers dripped slower than client_timeout: the connection is closed.
    let started = Instant::now();
    let (_, closed) = raw_exchange(&server.addr, "127.0.0.5", b"GET / HTTP/1.1\r\nX-Slow: ", Duration::from_secs(5));
    assert!(closed && started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    // The idle ones are gone after client_timeout too, and their client may connect again.
    std::thread::sleep(Duration::from_millis(1500));
    let (answer, _) = raw_exchange(
        &server.addr,
        "127.0.0.3",
        format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr).as_bytes(),
        Duration::from_secs(5),
    );
    assert!(text(&answer).starts_with("HTTP/1.1 200"), "{}", text(&answer));
}

#[test]
fn only_its_own_names_are_answered_and_http2_needs_a_setting() {
    let server = Server::start(&settings("base_url = \"https://feeds.example.org/\""));
    let ask = |host: &str| {
        let (answer, _) = raw_exchange(
            &server.addr,
            "127.0.0.1",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
            Duration::from_secs(5),
        );
        text(&answer)
    };
    for good in [server.addr.clone(), "localhost:8080".into(), "feeds.example.org".into(), "[::1]:1".into()] {
        assert!(ask(&good).starts_with("HTTP/1.1 200"), "{good}: {}", ask(&good));
    }
    // A page that rebinds its own name to this address sends that name.
    let rebound = ask("attacker.example:8080");
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
    assert!(rebound.contains("does not answer to the name \"attacker.example:8080\""), "{rebound}");
    // HTTP/2 by prior knowledge is not spoken unless settings.h2c says so.
    let (answer, _) =
        raw_exchange(&server.addr, "127.0.0.1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Duration::from_secs(5));
    assert!(!answer.starts_with(&[0, 0]), "an HTTP/2 SETTINGS frame came back: {answer:?}");
}

#[test]
fn serve_survives_hostile_origins_and_keeps_serving_the_others() {
    let origin = Origin::start();
    let hostile = common::hostile::Hostile::start();
    origin.set(
        "/dates.xml",
        "application/atom+xml",
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Dates</title><id>urn:d</id>
<entry><title>Year minus one</title><id>urn:a</id><updated>0000-01-01T00:00:00+23:59</updated><content>a</content></entry>
<entry><title>Year ten thousand</title><id>urn:b</id><updated>10000-01-01T00:00:00Z</updated><content>b</content></entry></feed>"#,
    );
    let config = settings("refresh = \"1s\"")
        + &source("dates", &origin.url("/dates.xml"), "full_text = false")
        + &source("forever", &hostile.url("/status/503-forever"), "full_text = false")
        + &source("good", &origin.url("/feeds/rss2.xml"), "full_text = false");
    let mut server = Server::start(&config);
    let dates = server.wait_for("/feeds/dates.xml", 30, |r| r.status == 200);
    assert_eq!(parse(&dates).entries.len(), 2);
    server.wait_for("/feeds/good.json", 30, |r| r.status == 200);
    // Several refresh rounds later the server still answers, and the hostile source is
    // scheduled a week out rather than dead.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.get("/healthz").status, 200);
    let page = server.get("/").text();
    assert!(page.contains("the origin asked to wait (Retry-After)"), "{page}");
    assert!(server.child.try_wait().unwrap().is_none(), "the server died: {}", server.log());
}

#[test]
fn any_url_cannot_read_the_configured_sources_articles_nor_fan_out() {
    let intranet = Origin::start();
    let public = Origin::start();
    let public_host = public.base.trim_start_matches("http://").to_owned();
    let secret = intranet.url("/demo/news/lifeboat-open-day.html");
    intranet.set(
        "/intranet.xml",
        "application/rss+xml",
        format!("<rss version=\"2.0\"><channel><title>I</title><item><title>S</title><link>{secret}</link><guid>s</guid></item></channel></rss>"),
    );
    // A stranger's feed (on a host /feed?url= may reach) links to the intranet article, and
    // to thirty stories of five pages each.
    let mut items = format!(
        "<item><title>Leak</title><link>{secret}</link><guid>leak</guid><description>stranger</description></item>"
    );
    for i in 0..30 {
        items.push_str(&format!(
            "<item><title>P{i}</title><link>{}</link><guid>p{i}</guid></item>",
            public.url(&format!("/story-{i}/1"))
        ));
    }
    public.set(
        "/stranger.xml",
        "application/rss+xml",
        format!("<rss version=\"2.0\"><channel><title>X</title>{items}</channel></rss>"),
    );
    let config = settings(&format!(
        "allow_any_url = true\nany_url_per_minute = 1000\nallow_private_hosts = [\"{public_host}\"]"
    )) + &source("intranet", &intranet.url("/intranet.xml"), "");
    let server = Server::start(&config);
    let own = server.wait_for("/feeds/intranet.json", 30, |r| r.status == 200).text();
    assert!(own.contains("The volunteer lifeboat station"), "the configured source has its article: {own}");

    let before = public.requests().len();
    let r = server.get(&format!("/feed?url={}&format=json", public.url("/stranger.xml")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("The volunteer lifeboat station"), "the intranet article leaked: {}", r.text());
    assert!(r.text().contains("stranger"), "{}", r.text());
    // Fifteen entries at most, one page each: the feed and 15 article requests (one of them
    // refused before it was sent), not 151.
    let sent = public.requests().len() - before;
    assert!(sent <= 15, "{sent} requests to the stranger's host");
}

#[test]
fn start_up_with_a_thousand_stored_feeds_builds_the_opml_once() {
    let origin = Origin::start();
    let mut config = settings("concurrency = 32\nper_host_concurrency = 32");
    for i in 0..1000 {
        config.push_str(&source(&format!("s{i}"), &origin.url("/feeds/rss2.xml"), "full_text = false"));
    }
    let ws = Workspace::new(&config);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let server = Server::start_in(ws);
    let opml = server.get("/opml").text();
    assert_eq!(opml.matches("<outline ").count(), 1000);
    // Rendering the OPML once per stored feed took 30 s for 1,000 sources: it is built once
    // for all of them (counted, not timed: a loaded machine says nothing about the work done).
    let metrics = server.get("/metrics").text();
    let renders = metrics.lines().find_map(|l| l.strip_prefix("refeed_opml_renders_total ")).unwrap_or("missing");
    assert_eq!(renders, "1", "{metrics}");
}

#[test]
fn a_merged_feed_is_served_and_follows_its_sources() {
    let origin = Origin::start();
    origin.set("/changing.xml", "application/rss+xml", ONE);
    let config = settings("")
        + &source("changing", &origin.url("/changing.xml"), "full_text = false\nrefresh = \"1s\"")
        + &source("gazette", &origin.url("/demo/feed.xml"), "full_text = false")
        + "\n[[feed]]\nname = \"morning\"\ntitle = \"Morning\"\nsources = [\"changing\", \"gazette\"]\n";
    let server = Server::start(&config);
    let first = server.wait_for("/feeds/morning.xml", 30, |r| r.status == 200 && parse(r).entries.len() == 5);
    assert_eq!(first.header("content-type"), Some("application/rss+xml; charset=utf-8"));
    let feed = parse(&first);
    assert_eq!(feed.title.unwrap().content, "Morning");
    assert!(titles(&parse(&first)).contains(&"First story".to_string()));
    let json = server.get("/feeds/morning.json");
    let json: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    let from: Vec<&str> =
        json["items"].as_array().unwrap().iter().map(|i| i["_refeed"]["source"]["title"].as_str().unwrap()).collect();
    assert!(from.contains(&"The Harbour Gazette") && from.len() == 5, "{from:?}");
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(server.request("GET", "/feeds/morning.xml", &[("If-None-Match", &etag)], "").status, 304);
    assert!(server.get("/opml").text().contains("feeds/morning.xml"));

    // A new entry in one source reaches the merged feed on that source's refresh.
    let two = ONE.replace(
        "<item>",
        "<item><title>Second story</title><guid>two</guid><description>Later news.</description><pubDate>Sat, 28 Nov 2026 09:00:00 GMT</pubDate></item><item>",
    );
    origin.set("/changing.xml", "application/rss+xml", two);
    let merged = server.wait_for("/feeds/morning.xml", 20, |r| r.text().contains("Second story"));
    assert_eq!(parse(&merged).entries.len(), 6);

    // `refeed status` reads the store while the server holds the lock, with its schedule.
    let out = server._ws.refeed(&["status", "--config", server._ws.config().to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changing = rows.as_array().unwrap().iter().find(|r| r["name"] == "changing").unwrap();
    assert_eq!(changing["state"], "ok");
    let due = chrono::DateTime::parse_from_rfc3339(changing["next_due"].as_str().unwrap()).unwrap();
    let ahead = due.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!((-5..=5).contains(&ahead), "a 1 s refresh is due within seconds: {changing}");
}

#[test]
fn any_url_extracts_with_the_site_rules() {
    let origin = Origin::start();
    let origin_host = origin.base.trim_start_matches("http://").to_owned();
    let config = settings(&format!(
        "allow_any_url = true\nany_url_per_minute = 100\nallow_private_hosts = [\"{origin_host}\"]\nrules = \"rules\""
    ));
    let ws = Workspace::new(&config);
    std::fs::create_dir(ws.dir.path().join("rules")).unwrap();
    std::fs::write(ws.dir.path().join("rules/127.0.0.1.toml"), "body = \".entry-text\"\nstrip = [\".ad-note\"]\n")
        .unwrap();
    let server = Server::start_in(ws);
    let r = server.get(&format!("/feed?url={}", origin.url("/rulesite/feed.xml")));
    assert_eq!(r.status, 200, "{}", r.text());
    let feed = parse(&r);
    let body = feed.entries[0].content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
    assert!(body.contains("salt water had eaten through"), "{body}");
    assert!(!body.contains("community newsletter") && !body.contains("Advertisement"), "{body}");
}
