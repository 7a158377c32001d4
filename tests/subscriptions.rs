//! Subscriptions in and out (`import`, `add`, `remove`, `export`), merged feeds, history and
//! `prune`, against a real origin on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};

use common::{Origin, Workspace, config_for, text};

const COMMENTED: &str = "# My feeds. Keep this comment.\n[settings]\noutput_dir = \"public\"   # published here\n\
database = \"state.db\"\ntimeout = \"5s\"\n\n# the first source\n[[source]]\nname = \"first\"\n\
url = \"https://first.example/feed\"   # keep this one\n";

fn arg(ws: &Workspace) -> String {
    ws.config().to_str().unwrap().to_owned()
}

/// An OPML fixture with the origin's URL in it, written into the workspace.
fn opml(ws: &Workspace, origin: &Origin, name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/opml").join(name);
    let text = std::fs::read_to_string(path).unwrap().replace("{{BASE}}", &origin.base);
    let out = ws.dir.path().join(name);
    std::fs::write(&out, text).unwrap();
    out
}

fn source_names(ws: &Workspace) -> Vec<String> {
    let out = ws.refeed(&["check", "--config", &arg(ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout).lines().skip(4).map(|l| l.split_whitespace().next().unwrap().to_owned()).collect()
}

#[test]
fn imports_from_four_readers_keep_the_config_and_its_comments() {
    let origin = Origin::start();
    let cases: [(&str, &[&str]); 4] = [
        ("newsboat.opml", &["the-harbour-gazette", "cafe-code", "127-0-0-1"]),
        ("feedly.opml", &["the-harbour-gazette", "atom-example", "rss-two", "json-feed"]),
        ("inoreader.xml", &["the-harbour-gazette", "the-harbour-gazette-mirror", "atom-example"]),
        ("netnewswire.opml", &["the-harbour-gazette", "rss-0-91-old-school", "rdf"]),
    ];
    for (file, names) in cases {
        let ws = Workspace::new(COMMENTED);
        let list = opml(&ws, &origin, file);
        let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws)]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out.stderr));
        let after = std::fs::read_to_string(ws.config()).unwrap();
        assert!(after.starts_with(COMMENTED), "{file}: the config's text is kept as it was:\n{after}");
        let mut expected = vec!["first".to_string()];
        expected.extend(names.iter().map(|n| n.to_string()));
        assert_eq!(source_names(&ws), expected, "{file}");
        // Importing again adds nothing: every feed is present (same URL after normalisation).
        let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws)]);
        assert!(text(&out.stdout).contains("refeed: added 0 source(s)"), "{file}: {}", text(&out.stdout));
        assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), after, "{file}");
        // And the imported sources run.
        let out = ws.run();
        assert_eq!(out.status.code(), Some(1), "{file}: only first.example fails: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr).matches("FAILED").count(), 1, "{file}: {}", text(&out.stderr));
    }
}

#[test]
fn import_titles_and_duplicates_are_read_as_readers_write_them() {
    let origin = Origin::start();
    let ws = Workspace::new(COMMENTED);
    let list = opml(&ws, &origin, "inoreader.xml");
    let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws), "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), COMMENTED, "a dry run writes nothing");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "  = The Harbour Gazette      {}  (already in the config as \"the-harbour-gazette\")",
            origin.url("/demo/feed.xml?utm_source=inoreader")
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!(
            "refeed: would add 3 source(s) to {}; 1 already present, 0 skipped (dry run: nothing written)\n",
            arg(&ws)
        )),
        "{stdout}"
    );

    let ws = Workspace::new(COMMENTED);
    let list = opml(&ws, &origin, "newsboat.opml");
    ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws)]);
    let config = std::fs::read_to_string(ws.config()).unwrap();
    assert!(config.contains("title = \"Café & Code\""), "{config}");
}

#[test]
fn folders_become_merged_feeds_published_once_per_story() {
    let origin = Origin::start();
    let ws = Workspace::new(
        COMMENTED
            .replace("url = \"https://first.example/feed\"", &format!("url = \"{}\"", origin.url("/feeds/rss2.xml")))
            .as_str(),
    );
    let list = opml(&ws, &origin, "inoreader.xml");
    let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws), "--folders-as-feeds"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("  * feed harbour (\"Harbour\"): the-harbour-gazette, the-harbour-gazette-mirror"),
        "{stdout}"
    );
    assert!(stdout.contains("  * feed elsewhere (\"Elsewhere\"): atom-example"), "{stdout}");
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Both sources list the same four stories: the merged feed has each once, newest first,
    // each saying where it came from.
    let bytes = std::fs::read(ws.output("harbour.xml")).unwrap();
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
    assert_eq!(feed.title.unwrap().content, "Harbour");
    let titles: Vec<String> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    let dates: Vec<_> = feed.entries.iter().map(|e| e.published.unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let rss = String::from_utf8(bytes).unwrap();
    assert_eq!(
        rss.matches(&format!("<source url=\"{}\">The Harbour Gazette</source>", origin.url("/demo/feed.xml"))).count(),
        4,
        "{rss}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(ws.output("harbour.json")).unwrap()).unwrap();
    assert_eq!(json["items"][0]["_refeed"]["source"]["feed_url"], origin.url("/demo/feed.xml"));
    let atom = std::fs::read_to_string(ws.output("harbour.atom")).unwrap();
    assert!(atom.contains("<source>"), "{atom}");
    // Listed in the OPML beside the sources.
    let index = std::fs::read_to_string(ws.output("index.opml")).unwrap();
    assert!(index.contains("xmlUrl=\"harbour.xml\"") && index.contains("xmlUrl=\"elsewhere.xml\""), "{index}");
}

#[test]
fn bad_subscription_lists_change_nothing_and_say_why() {
    let origin = Origin::start();
    let ws = Workspace::new(COMMENTED);
    let html = ws.dir.path().join("page.opml");
    std::fs::write(&html, "<!doctype html><html><body>Sign in</body></html>").unwrap();
    let out = ws.refeed(&["import", html.to_str().unwrap(), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!("refeed: {}: not an OPML file: the root element is not <opml> but <html>", html.display())
    );
    let out = ws.refeed(&["import", "missing.opml", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("refeed: missing.opml: No such file"), "{}", text(&out.stderr));
    // A truncated export is read as far as it goes, as a reader would.
    let list = opml(&ws, &origin, "truncated.opml");
    let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws), "--dry-run"]);
    assert!(text(&out.stdout).contains("  + a "), "{}", text(&out.stdout));
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), COMMENTED);

    // 10,000 outlines: all added with unique names, and the config still validates.
    let mut big = String::from("<opml><body><outline text=\"Folder\">");
    for i in 0..10_000 {
        big.push_str(&format!("<outline text=\"Daily News\" xmlUrl=\"https://n{i}.example/feed\"/>"));
    }
    big.push_str("</outline></body></opml>");
    let path = ws.dir.path().join("big.opml");
    std::fs::write(&path, big).unwrap();
    let out = ws.refeed(&["import", path.to_str().unwrap(), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = source_names(&ws);
    assert_eq!(names.len(), 10_001);
    assert_eq!(
        (names[1].as_str(), names[2].as_str(), names[10_000].as_str()),
        ("daily-news", "daily-news-2", "daily-news-10000")
    );

    // A config that does not validate is not edited.
    let ws = Workspace::new("[settings]\ntimeout = \"forever\"\n");
    let list = opml(&ws, &origin, "newsboat.opml");
    let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("config.toml:2: timeout:"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), "[settings]\ntimeout = \"forever\"\n");
}

#[test]
fn a_config_that_cannot_be_written_is_left_as_it_was() {
    let origin = Origin::start();
    let ws = Workspace::new(COMMENTED);
    let list = opml(&ws, &origin, "newsboat.opml");
    let config_dir = ws.dir.path().join("etc");
    std::fs::create_dir(&config_dir).unwrap();
    let config = config_dir.join("refeed.toml");
    std::fs::write(&config, COMMENTED).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = std::fs::write(config_dir.join("probe"), "x").is_ok();
    let out = ws.refeed(&["import", list.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    std::fs::set_permissions(&config_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if probe {
        // Root writes into a read-only folder: the edit went through; start again.
        assert_eq!(out.status.code(), Some(0));
        std::fs::write(&config, COMMENTED).unwrap();
    } else {
        assert_eq!(out.status.code(), Some(4));
        assert!(
            text(&out.stderr)
                .starts_with(&format!("refeed: {}: cannot write the config: Permission denied", config.display())),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), COMMENTED);

    // A full disk (a file-size limit of 0 bytes, which holds for root too): the write fails
    // before anything replaces the config.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_refeed"));
    command.args(["import", list.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    use std::os::unix::process::CommandExt;
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 0, rlim_max: libc::RLIM_INFINITY };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .starts_with(&format!("refeed: {}: cannot write the config: File too large", config.display())),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), COMMENTED);
    let leftovers: Vec<_> = std::fs::read_dir(&config_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.iter().all(|n| n == "refeed.toml" || n == "probe"), "{leftovers:?}");
}

fn page_with_links(links: &[&str]) -> String {
    let links: String =
        links.iter().map(|l| format!("<link rel=\"alternate\" type=\"application/rss+xml\" href=\"{l}\">")).collect();
    format!("<!doctype html><html><head><title>Blog</title>{links}</head><body><p>Hello</p></body></html>")
}

#[test]
fn add_discovers_feeds_from_a_page_checks_them_and_refuses_what_it_cannot_add() {
    let origin = Origin::start();
    let ws = Workspace::new(COMMENTED);
    // A feed URL: added under its title.
    let out = ws.refeed(&["add", &origin.url("/demo/feed.xml"), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "  1. The Harbour Gazette  {} (4 entries)\nrefeed: added source \"the-harbour-gazette\" ({}) to {}\n",
            origin.url("/demo/feed.xml"),
            origin.url("/demo/feed.xml"),
            arg(&ws)
        )
    );
    // Again: already there (tracking parameters do not make it another feed).
    let out = ws.refeed(&["add", &origin.url("/demo/feed.xml?utm_source=x"), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("already in"), "{}", text(&out.stderr));

    // A page advertising two feeds: listed, and one must be picked.
    origin.set("/blog/", "text/html", page_with_links(&["/feeds/atom.xml", "/feeds/rss2.xml"]));
    let out = ws.refeed(&["add", &origin.url("/blog/"), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("offers 2 feeds: choose one with --pick N"), "{}", text(&out.stderr));
    let listed: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[0].starts_with("  1. ") && listed[0].contains(&origin.url("/feeds/atom.xml")), "{listed:?}");
    assert!(
        listed[1].starts_with("  2. RSS 2.0 fixture  ") && listed[1].contains(&origin.url("/feeds/rss2.xml")),
        "{listed:?}"
    );
    let out = ws.refeed(&["add", &origin.url("/blog/"), "--config", &arg(&ws), "--pick", "2", "--name", "rss-two"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(source_names(&ws), ["first", "the-harbour-gazette", "rss-two"]);
    assert!(
        std::fs::read_to_string(ws.config()).unwrap().contains(&format!("url = \"{}\"", origin.url("/feeds/rss2.xml")))
    );

    // A page advertising none, with a feed at a common path.
    origin.set("/site/page.html", "text/html", page_with_links(&[]));
    origin.set(
        "/feed.json",
        "application/feed+json",
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/feeds/feed.json")).unwrap(),
    );
    let out = ws.refeed(&["add", &origin.url("/site/page.html"), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains(&origin.url("/feed.json")), "{}", text(&out.stdout));

    // Beside the page: a blog under /blog2/ has its feed at /blog2/feed.
    origin.set("/blog2/", "text/html", page_with_links(&[]));
    let rss = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/feeds/rss091.xml")).unwrap();
    origin.set("/blog2/feed", "application/rss+xml", rss.replace("{{BASE}}", &origin.base));
    let out = ws.refeed(&["add", &origin.url("/blog2/"), "--config", &arg(&ws), "--pick", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.starts_with(&format!(
            "  1. RSS 0.91 fixture  {} (1 entries)\n  2. JSON Feed fixture  {}",
            origin.url("/blog2/feed"),
            origin.url("/feed.json")
        )),
        "{listed}"
    );

    // No feed anywhere, and a broken advertised feed: nothing added.
    let bare = Origin::start();
    bare.set("/p", "text/html", page_with_links(&["/broken.xml"]));
    bare.set("/broken.xml", "application/rss+xml", "<html>not a feed</html>");
    let before = std::fs::read_to_string(ws.config()).unwrap();
    let out = ws.refeed(&["add", &bare.url("/p"), "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!("refeed: {}: no feed found", bare.url("/p"))),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), before);
}

#[test]
fn remove_edits_sources_and_merged_feeds_and_export_lists_what_is_published() {
    let origin = Origin::start();
    let mut config = COMMENTED
        .replace("url = \"https://first.example/feed\"", &format!("url = \"{}\"", origin.url("/feeds/rss2.xml")));
    config.push_str(&format!(
        "\n[[source]]\nname = \"gazette\"\nurl = \"{}\"\n\n# both together\n[[feed]]\nname = \"all\"\ntitle = \"All\"\nsources = [\"first\", \"gazette\"]\n\n[[feed]]\nname = \"only-gazette\"\nsources = [\"gazette\"]\n",
        origin.url("/demo/feed.xml")
    ));
    let ws = Workspace::new(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    let out = ws.refeed(&["export", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0));
    let exported = text(&out.stdout);
    for file in ["first.xml", "gazette.xml", "all.xml", "only-gazette.xml"] {
        assert!(exported.contains(&format!("xmlUrl=\"{file}\"")), "{exported}");
    }
    assert!(exported.contains("title=\"The Harbour Gazette\""), "{exported}");
    let out = ws.refeed(&["export", "--config", &arg(&ws), "--origins"]);
    assert!(text(&out.stdout).contains(&format!("xmlUrl=\"{}\"", origin.url("/demo/feed.xml"))));

    let out = ws.refeed(&["remove", "gazette", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("removed merged feed \"only-gazette\""), "{}", text(&out.stdout));
    let after = std::fs::read_to_string(ws.config()).unwrap();
    assert!(after.starts_with(COMMENTED.split("url =").next().unwrap()), "{after}");
    assert!(after.contains("# both together") && after.contains("sources = [\"first\"]"), "{after}");
    assert!(!after.contains("only-gazette") && !after.contains("/demo/feed.xml"), "{after}");
    let out = ws.refeed(&["remove", "gazette", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!("refeed: no source named \"gazette\" in {} (sources: first)", arg(&ws))
    );
}

fn feed_with(origin: &Origin, items: &[usize]) -> String {
    let mut xml = String::from("<rss version=\"2.0\"><channel><title>History</title>");
    for i in items {
        xml.push_str(&format!(
            "<item><title>Story number {i}</title><link>{}</link><guid>story-{i}</guid><description>Text {i}.</description></item>",
            origin.url(&format!("/story-{i}.html"))
        ));
    }
    xml + "</channel></rss>"
}

#[test]
fn history_keeps_what_the_origin_dropped_and_prune_frees_what_nothing_keeps() {
    let origin = Origin::start();
    origin.set("/h.xml", "application/rss+xml", feed_with(&origin, &[1, 2, 3]));
    let mut config = config_for(&[("kept", origin.url("/h.xml")), ("plain", origin.url("/h.xml"))]);
    config = config.replace(
        &format!("name = \"kept\"\nurl = \"{}\"\n", origin.url("/h.xml")),
        &format!("name = \"kept\"\nurl = \"{}\"\nkeep = \"30d\"\nfull_text = false\n", origin.url("/h.xml")),
    );
    config = config.replace(
        &format!("name = \"plain\"\nurl = \"{}\"\n", origin.url("/h.xml")),
        &format!("name = \"plain\"\nurl = \"{}\"\nfull_text = false\n", origin.url("/h.xml")),
    );
    let ws = Workspace::new(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    origin.set("/h.xml", "application/rss+xml", feed_with(&origin, &[3, 4]));
    assert_eq!(ws.run().status.code(), Some(0));
    let titles = |name: &str| -> Vec<String> {
        let feed = feed_rs::parser::parse(&std::fs::read(ws.output(&format!("{name}.xml"))).unwrap()[..]).unwrap();
        let mut t: Vec<String> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        t.sort();
        t
    };
    assert_eq!(titles("kept"), ["Story number 1", "Story number 2", "Story number 3", "Story number 4"]);
    assert_eq!(titles("plain"), ["Story number 3", "Story number 4"]);

    // `plain`'s dropped entries and a source taken out of the config are what prune frees.
    let out = ws.refeed(&["prune", "--config", &arg(&ws), "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("refeed: would remove 0 source(s) no longer in the config, 2 entries and 0 article(s):"),
        "{}",
        text(&out.stdout)
    );
    let config = config.replace(
        &format!("\n[[source]]\nname = \"plain\"\nurl = \"{}\"\nfull_text = false\n", origin.url("/h.xml")),
        "",
    );
    std::fs::write(ws.config(), &config).unwrap();
    let out = ws.refeed(&["prune", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("refeed: removed 1 source(s) no longer in the config, 4 entries and 0 article(s):"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).ends_with("; 3 published file(s)\n"), "{}", text(&out.stdout));
    assert!(!ws.output("plain.xml").exists() && !ws.output("plain.json").exists() && ws.output("kept.xml").exists());
    let status = ws.refeed(&["status", "--config", &arg(&ws), "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!((rows[0]["entries_stored"].as_i64(), rows[0]["entries_published"].as_i64()), (Some(4), Some(4)));
    assert_eq!(ws.run().status.code(), Some(0));
    assert_eq!(titles("kept").len(), 4, "the history survives the prune");
}
