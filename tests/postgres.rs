//! The binary on PostgreSQL (a real server, started by `refeed::testing`), against a real
//! local origin: the same feeds as on SQLite, the run lock, and a database out of reach.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Origin, Workspace, config_for, text};

fn entries(path: &std::path::Path) -> Vec<(String, String)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    feed.entries
        .iter()
        .map(|e| {
            let title = e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default();
            (title, e.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default())
        })
        .collect()
}

fn on_postgres(config: &str, url: &str) -> String {
    config.replace("database = \"state.db\"", &format!("database = \"{url}\""))
}

#[test]
fn a_run_on_postgres_publishes_what_a_run_on_sqlite_does() {
    let origin = Origin::start();
    let config = config_for(&[
        ("rss2", origin.url("/feeds/rss2.xml")),
        ("atom", origin.url("/feeds/atom.xml")),
        ("jsonfeed", origin.url("/feeds/feed.json")),
    ]);
    let lite = Workspace::new(&config);
    let out = lite.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let url = refeed::testing::postgres_database();
    let pg = Workspace::new(&on_postgres(&config, &url));
    let out = pg.run();
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("3 source(s) ok, 0 failed"), "{}", text(&out.stdout));
    assert!(!pg.dir.path().join("state.db").exists());
    for name in ["rss2", "atom", "jsonfeed"] {
        for ext in ["xml", "atom", "json"] {
            let file = format!("{name}.{ext}");
            let (a, b) = (entries(&lite.output(&file)), entries(&pg.output(&file)));
            assert!(!a.is_empty() && a.iter().all(|(_, body)| body.len() > 200), "{file}: full text expected");
            assert_eq!(a, b, "{file}");
        }
    }
    // The state is in the database: the second run asks the origin conditionally.
    origin.clear_log();
    let out = pg.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let conditional = origin
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/feeds/"))
        .filter(|r| r.if_none_match.is_some() || r.if_modified_since.is_some())
        .count();
    assert_eq!(conditional, 3, "{:?}", origin.requests());
    let out = pg.refeed(&["status", "--config", pg.config().to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = status.as_array().unwrap_or_else(|| panic!("{status}"));
    assert_eq!(rows.iter().filter(|r| r["state"] == "ok").count(), 3, "{status}");
    assert_eq!(rows.iter().map(|r| r["entries_published"].as_i64().unwrap()).sum::<i64>(), 5, "{status}");
}

#[test]
fn a_database_out_of_reach_is_a_clear_error_naming_it_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let origin = Origin::start();
    let url = format!("postgres://refeed:s3cret@127.0.0.1:{port}/refeed");
    let ws = Workspace::new(&on_postgres(&config_for(&[("a", origin.url("/feeds/rss2.xml"))]), &url));
    let out = ws.run();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains(&format!("database postgres://refeed:***@127.0.0.1:{port}/refeed: ")), "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(origin.requests().is_empty(), "nothing is fetched without a store");
}

/// A `refeed serve` process and the address it listens on.
struct Node {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Node {
    fn start(ws: &Workspace) -> Node {
        Node::start_all(&[ws]).pop().unwrap()
    }

    /// Starts a server in each workspace at once, then waits for all of them.
    fn start_all(workspaces: &[&Workspace]) -> Vec<Node> {
        let started: Vec<_> = workspaces.iter().map(|ws| common::spawn_serve(ws)).collect();
        started
            .into_iter()
            .map(|serving| {
                let addr = serving.address();
                Node { child: serving.child, addr, log: serving.log }
            })
            .collect()
    }

    /// Status line, headers (lowercased names) and body of a GET.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())))
            .collect();
        (status, headers, raw[split + 4..].to_vec())
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn status_json(ws: &Workspace, args: &[&str]) -> serde_json::Value {
    let config = ws.config();
    let mut all = vec!["status", "--config", config.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let out = ws.refeed(&all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn two_servers_on_one_database_refresh_each_source_once_and_serve_the_same_bytes() {
    let origin = Origin::start();
    let url = refeed::testing::postgres_database();
    let names = ["rss2", "atom", "rss1", "jsonfeed"];
    let paths = ["/feeds/rss2.xml", "/feeds/atom.xml", "/feeds/rss1.rdf", "/feeds/feed.json"];
    let sources: Vec<(&str, String)> = names.iter().zip(paths).map(|(n, p)| (*n, origin.url(p))).collect();
    let config = on_postgres(&config_for(&sources), &url).replace("[settings]\n", "[settings]\nrefresh = \"1h\"\n");
    let (ws_a, ws_b) = (Workspace::new(&config), Workspace::new(&config));
    let (a, b) = (Node::start(&ws_a), Node::start(&ws_b));
    // Every source refreshed once, by one of the two, and its claim released (the source's
    // state is saved before the claim is let go).
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending = |r: &serde_json::Value| r["state"] != "ok" || !r["refreshing_by"].is_null();
    while status_json(&ws_a, &[]).as_array().unwrap().iter().any(pending) {
        assert!(Instant::now() < deadline, "not all refreshed:\n{}\n{}", a.log(), b.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    for path in paths {
        let n = origin.requests().iter().filter(|r| r.path == path).count();
        assert_eq!(n, 1, "{path} fetched {n} times:\n{}\n{}", a.log(), b.log());
    }
    let processes = status_json(&ws_a, &["--processes"]);
    let processes = processes.as_array().unwrap();
    assert_eq!(processes.len(), 2, "{processes:?}");
    assert!(processes.iter().all(|p| p["state"] == "up"), "{processes:?}");
    assert_eq!(processes.iter().map(|p| p["refreshes"].as_i64().unwrap()).sum::<i64>(), 4, "{processes:?}");
    // Within a sync (2 s) both serve the same bytes, ETag and dates, and honour each other's
    // validators.
    std::thread::sleep(Duration::from_secs(3));
    for name in names {
        for ext in ["xml", "atom", "json"] {
            let path = format!("/feeds/{name}.{ext}");
            let (sa, ha, ba) = a.get(&path, &[]);
            let (sb, hb, bb) = b.get(&path, &[]);
            assert_eq!((sa, sb), (200, 200), "{path}");
            assert!(ba == bb, "{path}: different bytes");
            for h in ["etag", "last-modified"] {
                assert_eq!(header(&ha, h), header(&hb, h), "{path}: {h}");
            }
            let etag = header(&ha, "etag").unwrap();
            assert_eq!(b.get(&path, &[("If-None-Match", etag)]).0, 304, "{path}");
        }
    }
    // Each server keeps a bounded set of connections: its pool of 4 and its host gate's one.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let held: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'refeed'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 2 * 5);
    let metrics = String::from_utf8(a.get("/metrics", &[]).2).unwrap();
    assert!(metrics.contains("refeed_process_info{process=\""), "{metrics}");
    assert!(metrics.contains(&format!(",pid=\"{}\",", a.pid())), "{metrics}");
    assert_eq!(metrics.matches("refeed_process_up{").count(), 2, "{metrics}");
}

#[test]
fn a_server_killed_mid_refresh_has_its_source_taken_over_after_the_lease() {
    let slow = common::hostile::Hostile::start();
    let url = refeed::testing::postgres_database();
    let config = on_postgres(&config_for(&[("drip", slow.url("/drip"))]), &url)
        .replace("timeout = \"5s\"", "timeout = \"300s\"\nsource_budget = \"300s\"");
    let (ws_a, ws_b) = (Workspace::new(&config), Workspace::new(&config));
    let mut nodes = vec![Node::start(&ws_a), Node::start(&ws_b)];
    let holder = |ws: &Workspace| -> Option<u32> {
        let rows = status_json(ws, &[]);
        let by = rows[0]["refreshing_by"].as_str()?.to_owned();
        by.split(':').nth(1)?.parse().ok()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        if let Some(pid) = holder(&ws_a) {
            break pid;
        }
        assert!(Instant::now() < deadline, "nobody claimed the source");
        std::thread::sleep(Duration::from_millis(200));
    };
    let index = nodes.iter().position(|n| n.pid() == first).expect("one of ours holds it");
    let mut killed = nodes.remove(index);
    killed.child.kill().unwrap(); // SIGKILL
    let _ = killed.child.wait();
    let killed_at = Instant::now();
    let survivor = nodes[0].pid();
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        if holder(&ws_a) == Some(survivor) {
            break;
        }
        assert!(Instant::now() < deadline, "not taken over:\n{}", nodes[0].log());
        std::thread::sleep(Duration::from_millis(250));
    }
    let took = killed_at.elapsed();
    // The lease is 20 s, renewed every 5 s: taken over after at most about 21 s.
    assert!(took <= Duration::from_secs(23), "taken over after {took:?}");
    let processes = status_json(&ws_a, &["--processes"]);
    let killed_row = processes.as_array().unwrap().iter().find(|p| p["pid"] == first).unwrap().clone();
    assert_eq!(killed_row["state"], "gone", "three heartbeats (15 s) missed: {killed_row}");
    let alive = processes.as_array().unwrap().iter().find(|p| p["pid"] == survivor).unwrap().clone();
    assert_eq!(alive["state"], "up", "{alive}");
}

#[test]
fn servers_ride_out_a_database_restart_serving_what_they_have() {
    let origin = Origin::start();
    let cluster = refeed::testing::Cluster::create("outage").unwrap();
    let config = on_postgres(&config_for(&[("rss2", origin.url("/feeds/rss2.xml"))]), &cluster.url())
        .replace("[settings]\n", "[settings]\nrefresh = \"1s\"\n");
    let ws = Workspace::new(&config);
    let node = Node::start(&ws);
    let wait_for = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ok() {
            assert!(Instant::now() < deadline, "{what}:\n{}", node.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for("first refresh", &|| node.get("/feeds/rss2.xml", &[]).0 == 200);
    let (_, _, before) = node.get("/feeds/rss2.xml", &[]);
    cluster.stop().unwrap();
    wait_for("failures while the database is down", &|| node.log().matches("FAILED rss2").count() >= 2);
    let (status, _, during) = node.get("/feeds/rss2.xml", &[]);
    assert_eq!(status, 200, "still served from memory");
    assert!(during == before);
    let (status, _, body) = node.get("/healthz", &[]);
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let metrics = String::from_utf8(node.get("/metrics", &[]).2).unwrap();
    assert!(!metrics.contains("refeed_refresh_failures_total{kind=\"store\"} 0"), "counted: {metrics}");
    let failed_line = node.log().lines().find(|l| l.contains("FAILED rss2")).unwrap().to_owned();
    assert!(failed_line.contains("database postgres://refeed@127.0.0.1:"), "{failed_line}");
    assert!(failed_line.contains(": out of reach: "), "{failed_line}");
    cluster.start().unwrap();
    let failures = node.log().matches("FAILED rss2").count();
    wait_for("recovery", &|| {
        node.log().lines().skip_while(|l| !l.contains("FAILED rss2")).any(|l| l.contains("ok     rss2"))
    });
    assert_eq!(node.get("/healthz", &[]).0, 200);
    assert!(node.log().matches("FAILED rss2").count() <= failures + 1, "{}", node.log());
}

#[test]
fn feed_by_url_is_built_once_for_all_servers_and_its_rate_limit_is_shared() {
    let origin = Origin::start();
    let origin_host = origin.base.trim_start_matches("http://").to_owned();
    let url = refeed::testing::postgres_database();
    let config = format!(
        "[settings]\noutput_dir = \"public\"\ndatabase = \"{url}\"\ntimeout = \"5s\"\nallow_any_url = true\nany_url_per_minute = 2\nallow_private_hosts = [\"{origin_host}\"]\n"
    );
    let (ws_a, ws_b) = (Workspace::new(&config), Workspace::new(&config));
    let (a, b) = (Node::start(&ws_a), Node::start(&ws_b));
    let path = format!("/feed?url={}&format=atom", origin.url("/feeds/feed.json"));
    let (status, headers, first) = a.get(&path, &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let fetched = origin.requests().len();
    assert_eq!(fetched, 2, "the feed and its one article");
    // The other server has it from the database: same bytes and ETag, nothing fetched.
    let (status, other_headers, second) = b.get(&path, &[]);
    assert_eq!(status, 200);
    assert!(first == second, "different bytes");
    assert_eq!(header(&headers, "etag"), header(&other_headers, "etag"));
    let etag = header(&headers, "etag").unwrap();
    assert_eq!(b.get(&path, &[("If-None-Match", etag)]).0, 304);
    assert_eq!(origin.requests().len(), fetched);
    // The build cost this client its two requests a minute, on either server.
    let (status, headers, body) = b.get(&format!("/feed?url={}", origin.url("/feeds/atom.xml")), &[]);
    assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
    let wait: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    assert!((25..=30).contains(&wait), "one request's refill at 2 a minute: {wait}");
    assert_eq!(origin.requests().len(), fetched);
}

#[test]
fn per_host_politeness_holds_across_servers() {
    let origin = Origin::start();
    let url = refeed::testing::postgres_database();
    let paths = ["/feeds/rss2.xml", "/feeds/atom.xml", "/feeds/rss1.rdf", "/feeds/feed.json", "/feeds/rss091.xml"];
    // Each feed twice (the origin ignores the query): ten sources keep the first server busy
    // for seconds at 300 ms a request, so the second takes part even when it starts late on
    // a loaded machine (with five, one server once refreshed them all before the other was up).
    let sources: Vec<(String, String)> = paths
        .iter()
        .flat_map(|p| (0..2).map(move |copy| format!("{p}?copy={copy}")))
        .enumerate()
        .map(|(i, p)| (format!("s{i}"), origin.url(&p)))
        .collect();
    let sources: Vec<(&str, String)> = sources.iter().map(|(n, u)| (n.as_str(), u.clone())).collect();
    let config = on_postgres(&config_for(&sources), &url)
        .replace("[settings]\n", "[settings]\nrefresh = \"1h\"\nper_host_concurrency = 1\nhost_delay = \"300ms\"\n");
    let (ws_a, ws_b) = (Workspace::new(&config), Workspace::new(&config));
    let nodes = Node::start_all(&[&ws_a, &ws_b]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = || {
        let processes = status_json(&ws_a, &["--processes"]);
        processes.as_array().unwrap().iter().map(|p| p["refreshes"].as_i64().unwrap()).sum::<i64>()
            == sources.len() as i64
    };
    while !done() {
        assert!(Instant::now() < deadline, "not all refreshed:\n{}\n{}", nodes[0].log(), nodes[1].log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let requests = origin.requests();
    assert!(requests.len() >= 6, "the five feeds and their articles: {requests:?}");
    let mut times: Vec<Instant> = requests.iter().map(|r| r.at).collect();
    times.sort();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let shortest = gaps.iter().min().unwrap();
    let processes = status_json(&ws_a, &["--processes"]);
    let refreshes: Vec<i64> = processes.as_array().unwrap().iter().map(|p| p["refreshes"].as_i64().unwrap()).collect();
    assert!(refreshes.len() == 2 && refreshes.iter().all(|&n| n > 0), "both servers took part: {refreshes:?}");
    // One host, one request at a time, 300 ms apart, whichever server sends it. The gaps are
    // seen at the origin: a request's own way there (a new connection, a busy CPU) moves its
    // arrival a little either way, up to 15 ms on a loaded 2-core machine; a request let
    // through beside another would arrive within a few ms of it.
    assert!(*shortest >= Duration::from_millis(250), "{} requests, shortest gap {shortest:?}", requests.len());
}

#[test]
fn a_server_refuses_a_database_a_newer_refeed_upgraded_with_both_versions() {
    let origin = Origin::start();
    let url = refeed::testing::postgres_database();
    let ws = Workspace::new(&on_postgres(&config_for(&[("a", origin.url("/feeds/rss2.xml"))]), &url));
    assert_eq!(ws.run().status.code(), Some(0));
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.batch_execute("UPDATE refeed_schema SET version = version + 1").unwrap();
    let out = ws.refeed(&["serve", "--config", ws.config().to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("written by a newer refeed (schema version 6; this refeed knows up to 5)"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
