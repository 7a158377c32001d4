//! `refeed run` killed with SIGKILL at random moments, 50 times: no truncated or invalid feed
//! file, no corrupt store, and the next run completes with every entry present.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Origin, Workspace};

const SOURCES: &[(&str, &str, usize)] = &[
    ("gazette", "/demo/feed.xml", 4),
    ("rss2", "/feeds/rss2.xml", 2),
    ("atom", "/feeds/atom.xml", 2),
    ("rss1", "/feeds/rss1.rdf", 1),
    ("jsonfeed", "/feeds/feed.json", 1),
    ("light", "/multipage/feed.xml", 1),
];

fn check_outputs(ws: &Workspace, round: usize) {
    let dir = ws.dir.path().join("public");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temp file the killed run left; swept at the next start
        }
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".opml") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.starts_with("<?xml") && text.ends_with("</opml>\n"), "round {round}: truncated {name}");
        } else {
            feed_rs::parser::parse(&bytes[..])
                .unwrap_or_else(|e| panic!("round {round}: {name} is not a valid feed: {e}"));
        }
    }
    let db = ws.dir.path().join("state.db");
    if db.exists() {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "round {round}: store corrupt");
    }
}

/// Drops the fetched articles and the HTTP validators, keeping entries and published files.
fn forget_progress(ws: &Workspace) {
    let db = ws.dir.path().join("state.db");
    if db.exists() {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("DELETE FROM articles; UPDATE sources SET etag = NULL, last_modified = NULL;").unwrap();
    }
}

#[test]
fn killing_a_run_at_random_moments_never_leaves_broken_files_or_a_corrupt_store() {
    let origin = Origin::start();
    let mut config = String::from(
        "[settings]\noutput_dir = \"public\"\ndatabase = \"state.db\"\ntimeout = \"5s\"\nhost_delay = \"15ms\"\nper_host_concurrency = 1\n",
    );
    for (name, path, _) in SOURCES {
        config.push_str(&format!("\n[[source]]\nname = \"{name}\"\nurl = \"{}\"\n", origin.url(path)));
    }
    let ws = Workspace::new(&config);
    // How long a full run takes here (the shortest of three: a loaded machine slows some):
    // the kills are spread over that span.
    let mut span = u64::MAX;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        assert_eq!(ws.run().status.code(), Some(0));
        span = span.min(started.elapsed().as_millis().max(50) as u64);
        forget_progress(&ws);
    }
    // Deterministic pseudo-random kill times (xorshift), spread over a run's length.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    for round in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(seed % span);
        let mut child = Command::new(env!("CARGO_BIN_EXE_refeed"))
            .args(["run", "--config", ws.config().to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        check_outputs(&ws, round);
        // Every round must do the whole job again to be killed in the middle of it.
        forget_progress(&ws);
    }
    eprintln!("{kills} of 50 runs killed (runs take about {span} ms here)");
    assert!(kills >= 25, "only {kills} of 50 runs were killed before finishing; the test is not testing");

    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    check_outputs(&ws, 50);
    for (name, _, count) in SOURCES {
        let bytes = std::fs::read(ws.output(&format!("{name}.xml"))).unwrap();
        let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
        assert_eq!(feed.entries.len(), *count, "{name}");
        for entry in &feed.entries {
            let body = entry.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
            assert!(body.len() > 100, "{name}: full text missing after recovery: {body:?}");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(ws.dir.path().join("public"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left after a clean run: {leftovers:?}");
}
