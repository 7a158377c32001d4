//! Everyday use: quiet cron runs, subsets, dry runs, JSON logs, `refeed status`.

mod common;

use common::{Origin, Workspace, config_for, text};

fn three_sources(origin: &Origin) -> Workspace {
    Workspace::new(&config_for(&[
        ("gazette", origin.url("/demo/feed.xml")),
        ("flaky", origin.url("/feeds/rss2.xml")),
        ("atom", origin.url("/feeds/atom.xml")),
    ]))
}

fn arg(ws: &Workspace) -> String {
    ws.config().to_str().unwrap().to_owned()
}

#[test]
fn quiet_prints_nothing_when_all_is_well_and_the_failure_when_not() {
    let origin = Origin::start();
    let ws = three_sources(&origin);
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!((text(&out.stdout), text(&out.stderr)), (String::new(), String::new()));
    assert!(ws.output("gazette.xml").exists());

    origin.fail("/feeds/rss2.xml", true);
    let out = ws.refeed(&["run", "--config", &arg(&ws), "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!("FAILED flaky: {}: HTTP 500 Internal Server Error", origin.url("/feeds/rss2.xml"))
    );
    assert!(text(&out.stdout).starts_with("refeed: 2 source(s) ok, 1 failed (1 http 500);"), "{}", text(&out.stdout));
}

#[test]
fn source_runs_a_subset_and_an_unknown_name_is_a_usage_error() {
    let origin = Origin::start();
    let ws = three_sources(&origin);
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--source", "atom", "--source", "flaky"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut feeds: Vec<String> =
        origin.requests().into_iter().map(|r| r.path).filter(|p| !p.ends_with(".html")).collect();
    feeds.sort();
    assert_eq!(feeds, ["/feeds/atom.xml", "/feeds/rss2.xml"], "only the chosen sources are fetched");
    assert!(ws.output("atom.xml").exists() && ws.output("flaky.xml").exists());
    assert!(!ws.output("gazette.xml").exists());

    let out = ws.refeed(&["run", "--config", &arg(&ws), "--source", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!("refeed: --source nope: no such source in {} (sources: gazette, flaky, atom)", ws.config().display())
    );
}

#[test]
fn dry_run_fetches_and_writes_nothing_and_says_what_a_run_would_do() {
    let origin = Origin::start();
    let ws = three_sources(&origin);
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("  gazette: GET {} (first fetch)", origin.url("/demo/feed.xml"))), "{stdout}");
    assert!(stdout.contains(&format!("writes {}", ws.output("gazette.xml").display())), "{stdout}");
    assert!(stdout.contains("(created)"), "{stdout}");
    assert!(origin.requests().is_empty(), "{:?}", origin.requests());
    let files: Vec<_> = std::fs::read_dir(ws.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["config.toml"], "nothing may be created");

    assert_eq!(ws.run().status.code(), Some(0));
    let db = ws.dir.path().join("state.db");
    let (db_before, feed_before) = (std::fs::read(&db).unwrap(), std::fs::metadata(ws.output("gazette.xml")).unwrap());
    origin.clear_log();
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--dry-run", "--source", "gazette"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("  gazette: GET {} if changed (ETag/Last-Modified", origin.url("/demo/feed.xml"))),
        "{stdout}"
    );
    assert!(!stdout.contains("flaky"), "{stdout}");
    assert!(origin.requests().is_empty());
    assert_eq!(std::fs::read(&db).unwrap(), db_before, "the store is not written");
    let feed_after = std::fs::metadata(ws.output("gazette.xml")).unwrap();
    assert_eq!(feed_after.modified().unwrap(), feed_before.modified().unwrap());
}

#[test]
fn json_log_format_is_one_object_per_line() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[
        ("gazette", origin.url("/demo/feed.xml")),
        ("missing", origin.url("/feeds/nope.xml")),
    ]));
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let by = |name: &str| lines.iter().find(|l| l["source"] == name).unwrap();
    assert_eq!(by("gazette")["ok"], true);
    assert_eq!(by("gazette")["new_entries"], 4);
    assert_eq!(by("missing")["ok"], false);
    assert_eq!(by("missing")["kind"], "http 404");
    assert_eq!(by("missing")["error"], format!("{}: HTTP 404 Not Found", origin.url("/feeds/nope.xml")));
    let summary = &lines[2];
    assert_eq!(summary["event"], "summary");
    assert_eq!((summary["sources_ok"].as_u64(), summary["sources_failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(summary["failures_by_kind"]["http 404"], 1);

    // A failure before any source ran is a JSON line too.
    let out = ws.refeed(&["run", "--config", &arg(&ws), "--log-format", "json", "--source", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!((line["event"].as_str(), line["exit_code"].as_u64()), (Some("error"), Some(2)));
}

#[test]
fn status_reads_the_store_even_while_the_lock_is_held() {
    let origin = Origin::start();
    let ws = three_sources(&origin);
    let out = ws.refeed(&["status", "--config", &arg(&ws), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert_eq!(rows[0]["state"], "never fetched");
    assert!(!ws.dir.path().join("state.db").exists(), "status creates no store");

    origin.fail("/feeds/rss2.xml", true);
    ws.run();
    ws.run();
    // Hold the run lock, as `serve` does.
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.dir.path().join("state.db.lock"))
        .unwrap();
    held.try_lock().unwrap();
    let out = ws.refeed(&["status", "--config", &arg(&ws), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by = |name: &str| rows.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap().clone();
    let gazette = by("gazette");
    assert_eq!(gazette["state"], "ok");
    assert_eq!((gazette["entries_stored"].as_i64(), gazette["entries_published"].as_i64()), (Some(4), Some(4)));
    assert_eq!(gazette["consecutive_failures"], 0);
    assert!(gazette["last_success"].is_string() && gazette["last_error"].is_null());
    let flaky = by("flaky");
    assert_eq!(flaky["state"], "failing");
    assert_eq!(flaky["consecutive_failures"], 2);
    assert_eq!(flaky["last_error_kind"], "http 500");
    assert!(flaky["last_success"].is_null() && flaky["last_attempt"].is_string(), "{flaky}");

    // A source taken out of the config is still shown, as such.
    std::fs::write(ws.config(), config_for(&[("gazette", origin.url("/demo/feed.xml"))])).unwrap();
    let out = ws.refeed(&["status", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SOURCE "), "{table}");
    assert!(lines[1].starts_with("gazette ") && lines[1].contains(" ok "), "{table}");
    let flaky_line = lines.iter().find(|l| l.starts_with("flaky ")).unwrap();
    assert!(flaky_line.contains("not in config"), "{table}");
    assert!(table.contains(&format!("http 500: {}: HTTP 500 Internal Server Error", origin.url("/feeds/rss2.xml"))));
}

fn feed_of(origin: &Origin, items: &[(&str, &str, &str, &str)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Shaped</title>");
    for (i, (title, path, category, description)) in items.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{title}</title><link>{}</link><guid>item-{i}</guid><category>{category}</category>\
             <description>{description}</description></item>",
            origin.url(path)
        ));
    }
    xml + "</channel></rss>"
}

#[test]
fn filters_leave_entries_out_unfetched_and_links_lose_their_tracking() {
    let origin = Origin::start();
    origin.set(
        "/shaped.xml",
        "application/rss+xml",
        feed_of(
            &origin,
            &[
                (
                    "Council refuses bridge plan | Gazette",
                    "/demo/news/harbour-bridge-review.html?utm_source=rss&amp;id=7&amp;fbclid=abc",
                    "News",
                    "The vote.",
                ),
                ("SPONSORED: the best ferry insurance", "/demo/features/night-ferry.html", "News", "Buy."),
                ("Tide tables explained", "/demo/blog/tide-tables.html", "Promoted", "Tides."),
                (
                    "Lifeboat open day | Gazette",
                    "/demo/news/lifeboat-open-day.html",
                    "Events",
                    "Enter our GIVEAWAY today.",
                ),
            ],
        ),
    );
    let mut config = config_for(&[("shaped", origin.url("/shaped.xml"))]);
    config.push_str(
        "exclude = [\"sponsored\", \"category:promoted\", \"content:/give-?away/\"]\n\
         rewrite = [{ field = \"title\", pattern = \" \\\\| Gazette$\", replace = \"\" }]\n",
    );
    let ws = Workspace::new(&config);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("; 1 new entries, 3 filtered out;"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "note: 3 entries filtered out (include/exclude): \"SPONSORED: the best ferry insurance\" by sponsored, \
             \"Tide tables explained\" by category:promoted, \"Lifeboat open day\" by content:/give-?away/"
        ),
        "{stderr}"
    );
    let pages: Vec<String> = origin.requests().into_iter().map(|r| r.path).filter(|p| p.ends_with(".html")).collect();
    assert_eq!(pages, ["/demo/news/harbour-bridge-review.html"], "filtered entries are never fetched");
    let feed = feed_rs::parser::parse(&std::fs::read(ws.output("shaped.xml")).unwrap()[..]).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Council refuses bridge plan");
    assert_eq!(feed.entries[0].links[0].href, origin.url("/demo/news/harbour-bridge-review.html?id=7"));
}

#[test]
fn include_keeps_only_what_matches_and_keep_tracking_keeps_the_parameters() {
    let origin = Origin::start();
    origin.set(
        "/shaped.xml",
        "application/rss+xml",
        feed_of(
            &origin,
            &[
                ("Rust 1.99 released", "/demo/news/harbour-bridge-review.html?utm_campaign=x", "Rust", ""),
                ("Weekly links", "/demo/blog/tide-tables.html", "Links", ""),
            ],
        ),
    );
    let mut config = config_for(&[("shaped", origin.url("/shaped.xml"))]);
    config.push_str("include = [\"title:/^rust \\\\d/\"]\nkeep_tracking = true\nfull_text = false\n");
    let ws = Workspace::new(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    let feed = feed_rs::parser::parse(&std::fs::read(ws.output("shaped.xml")).unwrap()[..]).unwrap();
    let links: Vec<&str> = feed.entries.iter().map(|e| e.links[0].href.as_str()).collect();
    assert_eq!(links, [origin.url("/demo/news/harbour-bridge-review.html?utm_campaign=x")]);
}

#[test]
fn a_bad_filter_or_rewrite_is_a_config_error_with_its_line() {
    let cases = [
        (
            "exclude = [\"title:/(unclosed/\"]",
            "9: source \"a\": exclude: \"title:/(unclosed/\": invalid regex: error: unclosed group",
        ),
        ("include = [\"  \"]", "9: source \"a\": include: \"  \": nothing to match"),
        (
            "rewrite = [{ field = \"author\", pattern = \"x\" }]",
            "9: source \"a\": rewrite: field must be \"title\" or \"link\", found \"author\"",
        ),
        (
            "rewrite = [{ field = \"title\", pattern = \"[\" }]",
            "9: source \"a\": rewrite: invalid regex \"[\": error: unclosed character class",
        ),
    ];
    for (line, expected) in cases {
        let config = format!("{}{line}\n", config_for(&[("a", "http://127.0.0.1:9/f".to_string())]));
        let ws = Workspace::new(&config);
        let out = ws.refeed(&["check", "--config", &arg(&ws)]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert_eq!(text(&out.stderr).trim_end(), format!("refeed: {}:{expected}", ws.config().display()), "{line}");
    }
}

const CHANGELOG: &str = r#"<!doctype html><html><head><title>Harbour changes</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<ul class="changes">
  <li class="change"><h3><a href="/demo/news/harbour-bridge-review.html">Bridge review</a></h3><span class="on">23 November 2026</span><p>The council waits.</p></li>
  <li class="change"><h3><a href="/demo/news/lifeboat-open-day.html">Lifeboat open day</a></h3><span class="on">21 November 2026</span><p>Visitors welcome.</p></li>
</ul></body></html>"#;

#[test]
fn a_page_without_a_feed_is_read_by_its_selectors_and_previewed() {
    let origin = Origin::start();
    origin.set("/changes.html", "text/html", CHANGELOG);
    let config = format!(
        "[settings]\noutput_dir = \"public\"\ndatabase = \"state.db\"\n\n[[source]]\nname = \"changes\"\n\
         page = \"{}\"\nitems = \"li.change\"\nitem = {{ date = \".on\", date_format = \"%d %B %Y\", summary = \"p\" }}\n\n\
         [[source]]\nname = \"wrong\"\npage = \"{}\"\nitems = \"article.post\"\n",
        origin.url("/changes.html"),
        origin.url("/changes.html")
    );
    let ws = Workspace::new(&config);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "FAILED wrong: {}: items selector \"article.post\" matches nothing on the page",
            origin.url("/changes.html")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ok     changes: 2 entries, 2 new, 2 article(s) extracted"), "{stderr}");
    let feed = feed_rs::parser::parse(&std::fs::read(ws.output("changes.xml")).unwrap()[..]).unwrap();
    assert_eq!(feed.title.unwrap().content, "Harbour changes");
    let first = &feed.entries[0];
    assert_eq!(first.title.as_ref().unwrap().content, "Bridge review");
    assert_eq!(first.links[0].href, origin.url("/demo/news/harbour-bridge-review.html"));
    assert_eq!(first.published.unwrap().to_rfc3339(), "2026-11-23T00:00:00+00:00");
    // The full text of the linked article, not the page's line.
    let body = first.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(body.contains("independent review of the costs"), "{body}");

    // The preview shows what the selectors find.
    let out = ws.refeed(&[
        "extract",
        &origin.url("/changes.html"),
        "--items",
        "--items-selector",
        "li.change",
        "--date-selector",
        ".on",
        "--date-format",
        "%d %B %Y",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "1. Bridge review\n   link:    {}\n   date:    2026-11-23T00:00:00+00:00\n\
             2. Lifeboat open day\n   link:    {}\n   date:    2026-11-21T00:00:00+00:00\n\
             refeed: 2 item(s) on the page, 2 read\n",
            origin.url("/demo/news/harbour-bridge-review.html"),
            origin.url("/demo/news/lifeboat-open-day.html")
        )
    );
    let out = ws.refeed(&["extract", &origin.url("/changes.html"), "--items", "--items-selector", ".nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("items selector \".nothing\" matches nothing on the page"));
}

#[test]
fn page_sources_are_checked_when_the_config_is_read() {
    let cases = [
        ("page = \"http://127.0.0.1:9/p\"\n", "source \"a\": page: needs items = \"CSS selector of each item\""),
        ("page = \"http://127.0.0.1:9/p\"\nitems = \"li[\"\n", "source \"a\": items: invalid CSS selector \"li[\""),
        (
            "page = \"http://127.0.0.1:9/p\"\nitems = \"li\"\nitem = { date_format = \"%Q\" }\n",
            "source \"a\": item.date_format: \"%Q\" is not a date format",
        ),
        ("url = \"http://127.0.0.1:9/f\"\nitems = \"li\"\n", "source \"a\": items: only for a page source"),
    ];
    for (lines, expected) in cases {
        let ws = Workspace::new(&format!("[settings]\noutput_dir = \"public\"\n\n[[source]]\nname = \"a\"\n{lines}"));
        let out = ws.refeed(&["check", "--config", &arg(&ws)]);
        assert_eq!(out.status.code(), Some(2), "{lines}");
        assert!(text(&out.stderr).contains(expected), "{lines}: {}", text(&out.stderr));
        assert!(text(&out.stderr).starts_with(&format!("refeed: {}:", ws.config().display())), "{}", text(&out.stderr));
    }
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let origin = Origin::start();
    let ws = three_sources(&origin);
    for args in [vec!["check"], vec!["status"], vec!["export"], vec!["run"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_refeed"));
        command.args(&args).args(["--config", &arg(&ws)]).current_dir(ws.dir.path()).env_remove("REFEED_CONFIG");
        let out = command.stdout(writer).stderr(std::process::Stdio::piped()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}: {}", text(&out.stderr));
    }
    assert!(ws.output("gazette.xml").exists(), "the run did its work");
}

#[test]
fn extract_batch_rewrites_only_the_outputs_that_changed() {
    use std::os::unix::fs::MetadataExt;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    let (pages, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for name in ["german-news", "ghost-post"] {
        std::fs::copy(fixtures.join(name).join("source.html"), pages.path().join(format!("{name}.html"))).unwrap();
    }
    let batch = || {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_refeed"))
            .args(["extract", "--batch"])
            .arg(pages.path())
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    };
    let output = |name: &str| out.path().join(format!("{name}.txt"));
    batch();
    for name in ["german-news", "ghost-post"] {
        let expected = std::fs::read_to_string(fixtures.join(name).join("expected.txt")).unwrap();
        assert_eq!(std::fs::read_to_string(output(name)).unwrap(), expected.trim_end(), "{name}");
    }
    let inode = |name: &str| std::fs::metadata(output(name)).unwrap().ino();
    let (german, ghost) = (inode("german-news"), inode("ghost-post"));
    // One page changes: its output is replaced (a new file renamed over the old), the other's
    // is left as it was.
    let page = pages.path().join("ghost-post.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let first = html.find("<p>").expect("a paragraph") + 3;
    std::fs::write(&page, format!("{}Changed: {}", &html[..first], &html[first..])).unwrap();
    batch();
    assert_eq!(inode("german-news"), german, "an unchanged output is not rewritten");
    assert_ne!(inode("ghost-post"), ghost, "a changed output is replaced");
    assert!(std::fs::read_to_string(output("ghost-post")).unwrap().contains("Changed: "));
    let names: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 2, "no temp file left: {names:?}");
}
