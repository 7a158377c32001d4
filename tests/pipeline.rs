//! The binary end to end against a real local origin server.

mod common;

use common::{Origin, Workspace, config_for, text};

fn read_feed(path: &std::path::Path) -> feed_rs::model::Feed {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn content(entry: &feed_rs::model::Entry) -> String {
    entry.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default()
}

const EXPECTED_SEED: &str = include_str!("../fixtures/demo/expected/harbour-bridge-review.txt");

#[test]
fn every_feed_format_is_read_and_republished_in_three_formats() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[
        ("rss2", origin.url("/feeds/rss2.xml")),
        ("atom", origin.url("/feeds/atom.xml")),
        ("rss1", origin.url("/feeds/rss1.rdf")),
        ("rss091", origin.url("/redirect/feeds/rss091.xml")),
        ("jsonfeed", origin.url("/feeds/feed.json")),
    ]));
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("5 source(s) ok, 0 failed"), "{}", text(&out.stdout));

    let expect: &[(&str, &[&str])] = &[
        // The undated entry is dated when first seen (now), so it comes first.
        ("rss2", &["Lifeboat open day", "Night ferry"]),
        ("atom", &["Bridge review", "Tide tables"]),
        ("rss1", &["Lifeboat station: café open too"]),
        ("rss091", &["Tide tables (0.91)"]),
        ("jsonfeed", &["Ferry (JSON)"]),
    ];
    for (name, titles) in expect {
        for ext in ["xml", "atom", "json"] {
            let feed = read_feed(&ws.output(&format!("{name}.{ext}")));
            let got: Vec<String> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
            assert_eq!(&got, titles, "{name}.{ext}");
            for entry in &feed.entries {
                let html = content(entry);
                assert!(html.len() > 200, "{name}.{ext}: full text expected, got {html:?}");
                assert!(!html.contains("<script"), "{name}.{ext}");
                let link = &entry.links[0].href;
                assert!(link.starts_with(&origin.base), "{name}.{ext}: link {link} not absolute");
            }
        }
    }
    // Relative entry links are resolved against the feed; entries without dates get one.
    let rss2 = read_feed(&ws.output("rss2.xml"));
    assert_eq!(rss2.entries[0].links[0].href, origin.url("/demo/news/lifeboat-open-day.html"));
    assert!(rss2.entries[0].published.is_some());
    assert_eq!(rss2.entries[1].published.unwrap().to_rfc3339(), "2026-11-21T17:00:00+00:00");
    assert_eq!(rss2.entries[1].media[0].content[0].url.as_ref().unwrap().as_str(), origin.url("/audio/ferry.mp3"));
    // Atom: newest first, authors carried over, HTML title reduced to text.
    let atom = read_feed(&ws.output("atom.atom"));
    assert_eq!(atom.title.unwrap().content, "Atom fixture");
    assert_eq!(atom.entries[1].authors[0].name.as_deref(), Some("Harbour Office"));
    // The RSS 0.91 feed was reached through a redirect.
    assert!(origin.requests().iter().any(|r| r.path == "/redirect/feeds/rss091.xml" && r.status == 301));
    // The OPML lists every source.
    let opml = std::fs::read_to_string(ws.output("index.opml")).unwrap();
    for name in ["rss2", "atom", "rss1", "rss091", "jsonfeed"] {
        assert!(opml.contains(&format!("xmlUrl=\"{name}.xml\"")), "{opml}");
    }
}

#[test]
fn seed_shaped_article_extracts_to_exactly_its_expected_text() {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/news/harbour-bridge-review.html");
    let out = common::refeed(std::path::Path::new("."), &["extract", page]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).trim_end(), EXPECTED_SEED);

    // Through the whole pipeline: the published HTML has the story and none of the rest.
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let feed = read_feed(&ws.output("gazette.xml"));
    let bridge = feed.entries.iter().find(|e| e.id == "gazette-2026-1104").unwrap();
    let html = content(bridge);
    for kept in ["Port Aldwin's harbour council", "What happens next", "until a decision is made.", "bridge-1.jpg"] {
        assert!(html.contains(kept), "missing {kept:?} in {html}");
    }
    for gone in [
        "council chamber on Monday, during",
        "JONAS VIK",
        "COMMENTS",
        "Please let us know",
        "Share",
        "Related",
        "Most read",
        "inbox",
    ] {
        assert!(!html.contains(gone), "{gone:?} leaked into {html}");
    }
}

#[test]
fn second_run_revalidates_the_feed_and_fetches_no_article() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    assert_eq!(ws.run().status.code(), Some(0));
    let first = origin.requests();
    assert_eq!(first.iter().filter(|r| r.path.ends_with(".html")).count(), 4, "{first:?}");
    assert!(first[0].user_agent.as_deref().unwrap_or("").starts_with("refeed/"));
    let before = std::fs::read(ws.output("gazette.xml")).unwrap();

    origin.clear_log();
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("not modified"), "{}", text(&out.stderr));
    let second = origin.requests();
    assert_eq!(second.len(), 1, "one request for the feed and none for articles: {second:?}");
    assert_eq!(second[0].path, "/demo/feed.xml");
    assert!(second[0].if_none_match.is_some());
    assert_eq!(second[0].if_modified_since.as_deref(), Some("Mon, 23 Nov 2026 09:00:00 GMT"));
    assert_eq!(second[0].status, 304);
    // The feed is still published with the same entries.
    let after = read_feed(&ws.output("gazette.xml"));
    assert_eq!(after.entries.len(), read_feed_bytes(&before).entries.len());
}

fn read_feed_bytes(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap()
}

#[test]
fn a_failing_source_is_reported_and_keeps_its_last_feed_while_others_carry_on() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[
        ("gazette", origin.url("/demo/feed.xml")),
        ("flaky", origin.url("/feeds/rss2.xml")),
        ("missing", origin.url("/feeds/nope.xml")),
    ]));
    let out = ws.run();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("FAILED missing: {}: HTTP 404 Not Found", origin.url("/feeds/nope.xml"))),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("2 source(s) ok, 1 failed"));
    let flaky_before = std::fs::read(ws.output("flaky.xml")).unwrap();

    origin.fail("/feeds/rss2.xml", true);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("FAILED flaky: {}: HTTP 500 Internal Server Error", origin.url("/feeds/rss2.xml"))),
        "{stderr}"
    );
    assert!(stderr.contains("ok     gazette"), "{stderr}");
    assert_eq!(std::fs::read(ws.output("flaky.xml")).unwrap(), flaky_before, "last good feed must stay in place");
    assert!(ws.output("gazette.xml").exists());
    assert!(!ws.output("missing.xml").exists());
    let opml = std::fs::read_to_string(ws.output("index.opml")).unwrap();
    assert!(opml.contains("xmlUrl=\"flaky.xml\"") && !opml.contains("missing"), "{opml}");
}

#[test]
fn config_errors_name_the_file_and_line_and_exit_2() {
    let cases = [
        ("[settings]\noutput_dir = \"p\"\nfrobnicate = true\n", ":3: unknown field `frobnicate`"),
        (
            "[[source]]\nname = \"a\"\nurl = \"ftp://x.example/feed\"\n",
            ":3: source \"a\": url: must be an http:// or https:// URL",
        ),
        (
            "[[source]]\nname = \"a\"\nurl = \"https://x.example/\"\n[[source]]\nname = \"a\"\nurl = \"https://y.example/\"\n",
            ":5: source \"a\": duplicate source name",
        ),
        (
            "[[source]]\nname = \"a\"\nurl = \"https://x.example/\"\ncontent = \"div[[\"\n",
            ":4: source \"a\": content: invalid CSS selector",
        ),
        (
            "[[source]]\nname = \"../etc\"\nurl = \"https://x.example/\"\n",
            ":2: name \"../etc\": only lowercase letters",
        ),
        ("[[source]\nname = \"a\"\n", ":1: "),
    ];
    for (config, expected) in cases {
        let ws = Workspace::new(config);
        for cmd in ["run", "check"] {
            let out = ws.refeed(&[cmd, "--config", ws.config().to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {config:?}");
            let stderr = text(&out.stderr);
            assert!(stderr.contains(&format!("config.toml{expected}")), "{cmd}: expected {expected:?} in {stderr}");
        }
    }
    let ws = Workspace::new(&config_for(&[("good", "https://x.example/feed".into())]));
    let out = ws.refeed(&["check", "--config", ws.config().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("ok, 1 source(s)"));
    let out = ws.refeed(&["run", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_runs_offline_and_prints_the_clean_article() {
    let out = common::refeed(std::path::Path::new("."), &["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("source gazette: 4 entries, 4 articles extracted"), "{stdout}");
    let indented: String = EXPECTED_SEED
        .lines()
        .map(|l| if l.is_empty() { String::new() } else { format!("  {l}") })
        .collect::<Vec<_>>()
        .join("\n");
    let printed: String = stdout.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    assert!(printed.contains(&indented), "{stdout}");
    let json_path = stdout.lines().find(|l| l.trim_end().ends_with("gazette.json")).unwrap().trim();
    let feed = read_feed(std::path::Path::new(json_path));
    assert_eq!(feed.entries.len(), 4);
    let _ = std::fs::remove_dir_all(std::path::Path::new(json_path).parent().unwrap().parent().unwrap());
}

#[test]
fn an_overlapping_run_is_refused_with_exit_code_3() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    let lock_path = ws.dir.path().join("state.db.lock");
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    held.try_lock().unwrap();
    let out = ws.run();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("another refeed run holds the lock"), "{}", text(&out.stderr));
    assert!(origin.requests().is_empty(), "nothing may be fetched while another run works");
    held.unlock().unwrap();
    assert_eq!(ws.run().status.code(), Some(0));
}

#[test]
fn full_text_off_publishes_the_feed_content_even_when_another_source_extracted_the_page() {
    let origin = Origin::start();
    let mut config = config_for(&[("full", origin.url("/feeds/feed.json"))]);
    config.push_str(&format!(
        "\n[[source]]\nname = \"teaser\"\nurl = \"{}\"\nfull_text = false\n",
        origin.url("/feeds/feed.json")
    ));
    let ws = Workspace::new(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    let full = read_feed(&ws.output("full.json"));
    assert!(content(&full.entries[0]).contains("The last ferry of the day"));
    let teaser = read_feed(&ws.output("teaser.json"));
    assert_eq!(content(&teaser.entries[0]), "<p>Short version.</p>");
    // The article's language (its page's <html lang>) goes with it; the feed's own content
    // has none.
    let json =
        |name: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(ws.output(name)).unwrap()).unwrap() };
    assert_eq!(json("full.json")["items"][0]["language"], "en");
    assert!(json("teaser.json")["items"][0].get("language").is_none());
}

#[test]
fn a_story_split_over_two_pages_is_published_whole() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("light", origin.url("/multipage/feed.xml"))]));
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let feed = read_feed(&ws.output("light.json"));
    let html = content(&feed.entries[0]);
    assert!(html.contains("paid a penny a night"), "{html}");
    assert!(html.contains("replica of the oil lamp every New Year's Eve"), "{html}");
    assert!(!html.contains("Next page") && !html.contains("Previous page"), "{html}");
    let pages: Vec<String> =
        origin.requests().iter().filter(|r| r.path.starts_with("/multipage/harbour")).map(|r| r.path.clone()).collect();
    assert_eq!(pages, vec!["/multipage/harbour-light.html", "/multipage/harbour-light-2.html"]);
}

#[test]
fn no_xss_vector_survives_into_any_published_format() {
    let origin = Origin::start();
    let mut config = config_for(&[]);
    config.push_str(&format!(
        "\n[[source]]\nname = \"xss\"\nurl = \"{}\"\nfull_text = false\n",
        origin.url("/feeds/xss.xml")
    ));
    let ws = Workspace::new(&config);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for ext in ["xml", "atom", "json"] {
        let feed = read_feed(&ws.output(&format!("xss.{ext}")));
        assert_eq!(feed.entries.len(), 27, "{ext}");
        assert_eq!(feed.title.as_ref().unwrap().content, "XSS corpus", "{ext}: markup in titles is reduced to text");
        for entry in &feed.entries {
            let title = &entry.title.as_ref().unwrap().content;
            assert!(!title.contains('<'), "{ext}: {title}");
            let html = content(entry).to_ascii_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "vbscript:",
                "data:text",
                "onerror",
                "onload",
                "ontoggle",
                "<iframe",
                "<object",
                "<style",
                "<base",
                "<meta",
                "<form",
                "expression(",
                "<svg",
                "<math",
            ] {
                assert!(!html.contains(bad), "{ext}: {bad} in {html}");
            }
            for link in &entry.links {
                assert!(
                    link.href.starts_with("https://") || link.href.starts_with("http://"),
                    "{ext}: link {}",
                    link.href
                );
            }
        }
        let safe = feed.entries.iter().filter(|e| content(e).contains("Safe text")).count();
        assert_eq!(safe, 25, "{ext}: the harmless text around each vector is kept");
    }
}

#[test]
fn an_unusable_output_folder_is_a_clear_error() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    std::fs::write(ws.dir.path().join("public"), b"a file where the folder should be").unwrap();
    let out = ws.run();
    // refeed's own side, not an origin: exit code 4.
    assert_eq!(out.status.code(), Some(4));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refeed: output folder ") && stderr.contains("public"), "{stderr}");
}

#[test]
fn running_out_of_disk_space_keeps_the_previous_feeds() {
    use std::os::unix::process::CommandExt;
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    assert_eq!(ws.run().status.code(), Some(0));
    let before: Vec<Vec<u8>> =
        ["gazette.xml", "gazette.atom", "gazette.json"].iter().map(|f| std::fs::read(ws.output(f)).unwrap()).collect();
    // New content to write, and no room to write it: a 4 KiB file-size limit.
    let db = rusqlite::Connection::open(ws.dir.path().join("state.db")).unwrap();
    db.execute_batch("DELETE FROM articles; UPDATE sources SET etag = NULL, last_modified = NULL;").unwrap();
    drop(db);
    let out = unsafe {
        std::process::Command::new(env!("CARGO_BIN_EXE_refeed"))
            .args(["run", "--config", ws.config().to_str().unwrap()])
            .pre_exec(|| {
                let limit = libc::rlimit { rlim_cur: 4096, rlim_max: 4096 };
                libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
                Ok(())
            })
            .output()
            .unwrap()
    };
    // The disk is refeed's own side, not the origin's: exit code 4.
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert!(stderr.contains("gazette") || stderr.contains("database"), "{stderr}");
    let after: Vec<Vec<u8>> =
        ["gazette.xml", "gazette.atom", "gazette.json"].iter().map(|f| std::fs::read(ws.output(f)).unwrap()).collect();
    assert_eq!(before, after, "the previous feeds must stay");
    // With room again, the next run succeeds.
    assert_eq!(ws.run().status.code(), Some(0));
}

#[test]
fn run_wait_waits_for_the_other_run() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("gazette", origin.url("/demo/feed.xml"))]));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.dir.path().join("state.db.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(800));
        lock.unlock().unwrap();
    });
    let started = std::time::Instant::now();
    let out = ws.refeed(&["run", "--wait", "--config", ws.config().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(started.elapsed() >= std::time::Duration::from_millis(700));
    holder.join().unwrap();
}

#[test]
fn podcast_episodes_sharing_one_link_are_all_published_with_their_own_text() {
    let origin = Origin::start();
    // Every episode links to the show's home page: that page is not fetched and pasted into
    // every episode; each keeps its own notes and its enclosure.
    let feed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/feeds/conformance/podcast-shared-link.xml"),
    )
    .unwrap()
    .replace("https://harbourtalk.example/", &format!("{}/demo/", origin.base));
    origin.set("/podcast.xml", "application/rss+xml", feed);
    let ws = Workspace::new(&config_for(&[("talk", origin.url("/podcast.xml"))]));
    let out = ws.run();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("3 entries share their link with another entry (shared link, feed content kept)"),
        "{stderr}"
    );
    assert!(!origin.requests().iter().any(|r| r.path == "/demo/"), "the shared link was fetched");
    let feed = read_feed(&ws.output("talk.json"));
    assert_eq!(feed.entries.len(), 3);
    let texts: Vec<String> = feed.entries.iter().map(content).collect();
    assert!(texts[0].contains("We talk to the crews."), "{texts:?}");
    assert!(texts[1].contains("The volunteers of the station."), "{texts:?}");
    assert!(texts[2].contains("Why we started."), "{texts:?}");
    let rss = read_feed(&ws.output("talk.xml"));
    let enclosures: Vec<usize> = rss.entries.iter().map(|e| e.media.len()).collect();
    assert_eq!(enclosures, [1, 1, 1], "each episode keeps its audio");
}

#[test]
fn a_feed_whose_items_cannot_be_read_is_a_failure_not_an_empty_feed() {
    let origin = Origin::start();
    origin.set("/good.xml", "application/rss+xml", "<rss version=\"2.0\"><channel><title>T</title><item><title>One</title><link>https://x.example/1</link></item></channel></rss>");
    let ws = Workspace::new(
        &config_for(&[("empty", origin.url("/good.xml"))]).replace("\n[[source]]", "\n[[source]]\nfull_text = false"),
    );
    assert_eq!(ws.run().status.code(), Some(0));
    // The origin now lists three items with nothing in them.
    origin.set(
        "/good.xml",
        "application/rss+xml",
        "<rss version=\"2.0\"><channel><title>T</title><item></item><item/><item> </item></channel></rss>",
    );
    let out = ws.run();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the feed lists 3 item(s) but none could be read"), "{stderr}");
    assert_eq!(read_feed(&ws.output("empty.json")).entries.len(), 1, "the last good feed stays published");
}
