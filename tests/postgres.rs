//! The binary on PostgreSQL (a real server, started by `refeed::testing`), against a real
//! local origin: the same feeds as on SQLite, the run lock, and a database out of reach.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

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

#[test]
fn a_run_waits_its_turn_while_a_server_holds_the_same_database() {
    let origin = Origin::start();
    let url = refeed::testing::postgres_database();
    let ws = Workspace::new(&on_postgres(&config_for(&[("a", origin.url("/feeds/rss2.xml"))]), &url));
    let mut serve = Command::new(env!("CARGO_BIN_EXE_refeed"))
        .args(["serve", "--config", ws.config().to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .current_dir(ws.dir.path())
        .env_remove("REFEED_CONFIG")
        .env_remove("REFEED_DATABASE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = serve.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(30)).ok())
        .any(|line| line.starts_with("refeed: serving "));
    assert!(started, "serve did not start");
    let out = ws.run();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("another refeed run holds the lock postgres://refeed@127.0.0.1:"), "{err}");
    assert!(err.contains("(advisory lock)"), "{err}");
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    assert!(serve.wait().unwrap().success());
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "the lock goes with the server: {}", text(&out.stderr));
}
