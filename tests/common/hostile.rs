//! An origin that misbehaves on purpose, on raw TCP so that it can do what no well-behaved
//! HTTP library would: drip bytes, never finish, reset mid-body, lie about lengths.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct Hostile {
    pub base: String,
    stop: Arc<AtomicBool>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub const GOOD_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Good feed</title><link>https://good.example/</link><description>d</description>
<item><title>Good entry one</title><link>https://good.example/1</link><guid>good-1</guid><description>&lt;p&gt;First.&lt;/p&gt;</description><pubDate>Mon, 23 Nov 2026 09:00:00 +0000</pubDate></item>
<item><title>Good entry two</title><link>https://good.example/2</link><guid>good-2</guid><description>&lt;p&gt;Second.&lt;/p&gt;</description><pubDate>Tue, 24 Nov 2026 09:00:00 +0000</pubDate></item>
</channel></rss>"#;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile").join(name)).unwrap()
}

fn head(status: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn respond(mut stream: TcpStream, path: &str, stop: &AtomicBool) -> std::io::Result<()> {
    let ok = |body: &[u8], ctype: &str| {
        let mut r = head("200 OK", &[("Content-Type", ctype.to_owned()), ("Content-Length", body.len().to_string())]);
        r.extend_from_slice(body);
        r
    };
    let redirect = |to: &str| head("302 Found", &[("Location", to.to_owned()), ("Content-Length", "0".into())]);
    match path {
        "/good.xml" => stream.write_all(&ok(GOOD_FEED.as_bytes(), "application/rss+xml")),
        "/endless" => {
            stream.write_all(&head("200 OK", &[("Content-Type", "application/rss+xml".into()), ("Transfer-Encoding", "chunked".into())]))?;
            let start = b"<rss version=\"2.0\"><channel><title>";
            stream.write_all(format!("{:x}\r\n", start.len()).as_bytes())?;
            stream.write_all(start)?;
            stream.write_all(b"\r\n")?;
            let chunk = vec![b' '; 64 * 1024];
            while !stop.load(Ordering::Relaxed) {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                stream.write_all(&chunk)?;
                stream.write_all(b"\r\n")?;
            }
            Ok(())
        }
        "/drip" => {
            stream.write_all(&head("200 OK", &[("Content-Type", "application/rss+xml".into()), ("Content-Length", "1000".into())]))?;
            for b in GOOD_FEED.bytes().take(1000) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                stream.write_all(&[b])?;
                std::thread::sleep(Duration::from_millis(500));
            }
            Ok(())
        }
        "/huge" => {
            stream.write_all(&head("200 OK", &[("Content-Type", "application/rss+xml".into()), ("Content-Length", (200u64 << 20).to_string())]))?;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..3200 {
                stream.write_all(&chunk)?;
            }
            Ok(())
        }
        "/gzip-bomb" | "/brotli-bomb" => {
            let (file, enc) = if path == "/gzip-bomb" { ("bomb.xml.gz", "gzip") } else { ("bomb.xml.br", "br") };
            let body = fixture(file);
            let mut r = head(
                "200 OK",
                &[
                    ("Content-Type", "application/rss+xml".into()),
                    ("Content-Encoding", enc.into()),
                    ("Content-Length", body.len().to_string()),
                ],
            );
            r.extend_from_slice(&body);
            stream.write_all(&r)
        }
        "/loop-a" => stream.write_all(&redirect("/loop-b")),
        "/loop-b" => stream.write_all(&redirect("/loop-a")),
        p if p.starts_with("/chain/") => {
            let n: u32 = p["/chain/".len()..].parse().unwrap_or(0);
            stream.write_all(&redirect(&format!("/chain/{}", n + 1)))
        }
        "/status/404" => stream.write_all(&head("404 Not Found", &[("Content-Length", "0".into())])),
        "/status/500" => stream.write_all(&head("500 Internal Server Error", &[("Content-Length", "0".into())])),
        "/page-without-feed.html" => stream.write_all(&ok(
            b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>No feed here.</p></body></html>",
            "text/html",
        )),
        "/page-with-private-feed.html" => stream.write_all(&ok(
            b"<!DOCTYPE html><html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"http://10.255.0.1/feed.xml\"></head><body></body></html>",
            "text/html",
        )),
        "/unreadable-items.xml" => stream.write_all(&ok(
            b"<rss version=\"2.0\"><channel><title>Empty items</title><item></item><item><title> </title></item></channel></rss>",
            "application/rss+xml",
        )),
        "/status/410" => stream.write_all(&head("410 Gone", &[("Content-Length", "0".into())])),
        "/status/429" => stream.write_all(&head("429 Too Many Requests", &[("Retry-After", "3600".into()), ("Content-Length", "0".into())])),
        "/status/503-forever" => stream.write_all(&head(
            "503 Service Unavailable",
            &[("Retry-After", "99999999999999".into()), ("Content-Length", "0".into())],
        )),
        "/status/503" => stream.write_all(&head(
            "503 Service Unavailable",
            &[("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT".into()), ("Content-Length", "0".into())],
        )),
        "/reset" => {
            stream.write_all(&head("200 OK", &[("Content-Type", "application/rss+xml".into()), ("Content-Length", "10000".into())]))?;
            stream.write_all(&GOOD_FEED.as_bytes()[..200])?;
            stream.flush()?;
            // SO_LINGER 0 turns the close into a reset.
            socket2_linger_zero(&stream);
            drop(stream);
            Ok(())
        }
        "/text-plain.xml" => stream.write_all(&ok(GOOD_FEED.as_bytes(), "text/plain")),
        "/slow-good.xml" => {
            // A good feed that takes 1.5 s to come.
            std::thread::sleep(Duration::from_millis(1500));
            stream.write_all(&ok(GOOD_FEED.as_bytes(), "application/rss+xml"))
        }
        "/fresh-for-an-hour.xml" => {
            let mut r = head(
                "200 OK",
                &[
                    ("Content-Type", "application/rss+xml".into()),
                    ("Cache-Control", "public, max-age=3600".into()),
                    ("Content-Length", GOOD_FEED.len().to_string()),
                ],
            );
            r.extend_from_slice(GOOD_FEED.as_bytes());
            stream.write_all(&r)
        }
        "/no-type.xml" => {
            let mut r = head("200 OK", &[("Content-Length", GOOD_FEED.len().to_string())]);
            r.extend_from_slice(GOOD_FEED.as_bytes());
            stream.write_all(&r)
        }
        "/page.html" => stream.write_all(&ok(
            b"<!DOCTYPE html><html><head><title>Blog</title><link rel=\"alternate\" type=\"application/rss+xml\" title=\"Feed\" href=\"/good.xml\"></head><body><p>Welcome</p></body></html>",
            "text/html; charset=utf-8",
        )),
        "/latin1-as-utf8.xml" => {
            let feed = GOOD_FEED.replace("Good entry one", "Caf\u{e9} cr\u{e8}me");
            let bytes: Vec<u8> = feed.chars().map(|c| c as u32 as u8).collect();
            stream.write_all(&ok(&bytes, "application/rss+xml; charset=utf-8"))
        }
        "/invalid-utf8.xml" => {
            let mut bytes = GOOD_FEED.replace("Good entry two", "Broken \u{0}X bytes").into_bytes();
            let at = bytes.windows(6).position(|w| w == b"Broken").unwrap() + 7;
            bytes[at] = 0xff;
            bytes[at + 1] = 0xfe;
            stream.write_all(&ok(&bytes, "application/rss+xml"))
        }
        "/empty" => stream.write_all(&ok(b"", "application/rss+xml")),
        "/big-feed" => {
            let mut feed = String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>");
            for i in 0..100_000 {
                feed.push_str(&format!(
                    "<item><title>Entry {i}</title><link>https://big.example/{i}</link><guid>big-{i}</guid><pubDate>{}</pubDate><description>Entry number {i}.</description></item>",
                    chrono::DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0).unwrap().to_rfc2822()
                ));
            }
            feed.push_str("</channel></rss>");
            stream.write_all(&ok(feed.as_bytes(), "application/rss+xml"))
        }
        // Issue-sized hostile feeds (second review): each costs a naive reader far more than
        // its size.
        "/broken-big.xml" | "/million-unclosed.xml" | "/json-6m.json" | "/items-2.8m.xml" | "/deep-title.xml" => {
            let head = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>";
            let body = match path {
                "/broken-big.xml" => {
                    let mut b = String::from(head);
                    let mut i = 0;
                    while b.len() < 8_700_000 {
                        b.push_str(&format!("<item><title>Entry {i}</ttle><guid>g{i}</guid><description>text text text text text text</description></item>\n"));
                        i += 1;
                    }
                    b + "</channel></rss>"
                }
                "/million-unclosed.xml" => format!("{head}{}</channel></rss>", "<item><title>x</title>".repeat(1_000_000)),
                "/json-6m.json" => format!("{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"J\",\"items\":[{}{{}}]}}", "{},".repeat(5_999_999)),
                "/items-2.8m.xml" => format!("{head}{}</channel></rss>", "<item/>".repeat(2_800_000)),
                _ => format!("{head}<item><title>{}x</title><link>https://x.example/</link></item></channel></rss>", "&lt;div&gt;".repeat(100_000)),
            };
            stream.write_all(&ok(body.as_bytes(), "application/rss+xml"))
        }
        "/deep-page-as-feed" => {
            // An HTML page where a feed was expected, nested 100,000 deep: looking for the feed
            // it advertises must not cost a quadratic parse.
            let body = format!("<html><head><title>x</title></head><body>{}</body></html>", "<div>".repeat(100_000));
            stream.write_all(&ok(body.as_bytes(), "text/html"))
        }
        "/tarpit.xml" => {
            // Ten stories, each on pages that answer just inside a 2 s timeout.
            let items: String = (0..10)
                .map(|i| format!("<item><title>Slow {i}</title><link>/slow/{i}/1</link><guid>slow-{i}</guid><description>Feed text {i}.</description></item>"))
                .collect();
            let feed = format!("<rss version=\"2.0\"><channel><title>Tarpit</title><link>/</link>{items}</channel></rss>");
            stream.write_all(&ok(feed.as_bytes(), "application/rss+xml"))
        }
        slow if slow.starts_with("/slow/") => {
            std::thread::sleep(Duration::from_millis(1500));
            let page: u32 = slow.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(1);
            let next = slow.rsplit_once('/').map(|(story, _)| format!("{story}/{}", page + 1)).unwrap_or_default();
            let body = format!(
                "<html><head><link rel=\"next\" href=\"{next}\"></head><body><article><p>{}</p></article></body></html>",
                format!("Page {page} of a story that never ends, told slowly enough to stay inside every timeout. ").repeat(4)
            );
            stream.write_all(&ok(body.as_bytes(), "text/html"))
        }
        _ => stream.write_all(&head("404 Not Found", &[("Content-Length", "0".into())])),
    }
}

fn socket2_linger_zero(stream: &TcpStream) {
    // std exposes linger only on nightly; set it through the raw socket.
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

fn serve(mut stream: TcpStream, stop: Arc<AtomicBool>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request = String::from_utf8_lossy(&buf);
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let _ = respond(stream.try_clone().unwrap(), &path, &stop);
    let _ = stream.shutdown(Shutdown::Both);
}

impl Hostile {
    pub fn start() -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let stop = stop2.clone();
                        std::thread::spawn(move || serve(stream, stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Hostile { base, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}
