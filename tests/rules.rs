//! Site rules, the quality guard, re-extraction and rule tests, against a real origin.

mod common;

use common::{Origin, Workspace, config_for, text};

fn arg(ws: &Workspace) -> String {
    ws.config().to_str().unwrap().to_owned()
}

fn entry_text(ws: &Workspace, name: &str, title: &str) -> String {
    let feed = feed_rs::parser::parse(&std::fs::read(ws.output(&format!("{name}.xml"))).unwrap()[..]).unwrap();
    let e = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content == title).unwrap();
    e.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default()
}

#[test]
fn pages_that_are_not_the_article_keep_the_feed_content_are_counted_and_tried_again() {
    let origin = Origin::start();
    let ws = Workspace::new(&config_for(&[("courier", origin.url("/guard/feed.xml"))]));
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("; 1 article(s) extracted (4 not the article: feed content kept);"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("4 page(s) are not the article (feed content kept, tried again next run); first: "),
        "{stderr}"
    );
    for (title, own) in [
        ("Council backs the harbour plan", "after a public session that ran late"),
        ("Lifeboat crew rescues two sailors", "lost its mast off the point"),
        ("Ferry fares to rise in spring", "blaming fuel costs and the new pier fees"),
        ("Market hall to reopen", "twelve stalls and a café"),
    ] {
        let body = entry_text(&ws, "courier", title);
        assert!(body.contains(own), "{title}: {body}");
        for wall in ["cookies", "JavaScript", "Subscribe", "looking for"] {
            assert!(!body.contains(wall), "{title}: {body}");
        }
    }
    assert!(entry_text(&ws, "courier", "Bridge review delayed").contains("independent review of the costs"));

    let status = ws.refeed(&["status", "--config", &arg(&ws), "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(rows[0]["not_articles"], 4);
    let table = text(&ws.refeed(&["status", "--config", &arg(&ws)]).stdout);
    assert!(table.contains("4 page(s) not the article (feed content kept; tried again later)"), "{table}");

    // Tried again on the next run (the feed answers 304: the pages are still due).
    origin.clear_log();
    assert_eq!(ws.run().status.code(), Some(0));
    let mut pages: Vec<String> =
        origin.requests().into_iter().map(|r| r.path).filter(|p| p.ends_with(".html")).collect();
    pages.sort();
    assert_eq!(pages, ["/guard/challenge.html", "/guard/consent.html", "/guard/gone.html", "/guard/paywall.html"]);
}

/// A workspace whose `rules` folder holds the fixtures' rule files (both formats).
fn with_rules(config: &str) -> Workspace {
    let ws = Workspace::new(config);
    let dir = ws.dir.path().join("rules");
    std::fs::create_dir(&dir).unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for f in std::fs::read_dir(fixtures.join("rules")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    // The page the TOML rule's test names, saved beside it as a user would.
    std::fs::copy(fixtures.join("rulesite/story.html"), dir.join("story.html")).unwrap();
    ws
}

const RULES: &str = "rules = \"rules\"\nftr_rules = \"rules\"\n";

#[test]
fn a_site_rule_fixes_a_page_generic_extraction_gets_wrong_in_run_extract_and_explain() {
    let origin = Origin::start();
    // The same site by two names: 127.0.0.1 has a TOML rule, localhost an ftr rule.
    let local_base = origin.base.replace("127.0.0.1", "localhost");
    let feed =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rulesite/feed.xml"))
            .unwrap()
            .replace("{{BASE}}", &local_base);
    origin.set("/rulesite/local.xml", "application/rss+xml", feed);
    let local = format!("{local_base}/rulesite/local.xml");
    let config = config_for(&[("notes", origin.url("/rulesite/feed.xml")), ("ftr", local.clone())])
        .replace("timeout = \"5s\"\n", &format!("timeout = \"5s\"\n{RULES}"));
    let ws = with_rules(&config);
    let out = ws.run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("localhost.txt: line 4: strip: cannot translate the test \"[last()]\""), "{stderr}");

    let body = entry_text(&ws, "notes", "Pier lights fixed");
    assert!(body.contains("salt water had eaten through"), "{body}");
    assert!(body.contains("The pier reopens to anglers on Saturday."), "the rule's next_page: {body}");
    assert!(!body.contains("community newsletter") && !body.contains("Advertisement"), "{body}");
    let ftr = entry_text(&ws, "ftr", "Pier lights fixed");
    assert!(ftr.contains("salt water had eaten through") && !ftr.contains("Advertisement"), "{ftr}");
    assert!(!ftr.contains("community newsletter"), "{ftr}");
    // The rule's headers go with its host's pages only.
    let cookies: Vec<(String, Option<String>)> =
        origin.requests().into_iter().map(|r| (r.path, r.cookie)).filter(|(p, _)| p.ends_with(".html")).collect();
    assert!(cookies.contains(&("/rulesite/story.html".into(), Some("consent=yes".into()))), "{cookies:?}");
    assert!(cookies.contains(&("/rulesite/story.html".into(), Some("consent=ftr".into()))), "{cookies:?}");
    assert!(origin.requests().iter().filter(|r| r.path.ends_with(".xml")).all(|r| r.cookie.is_none()));

    // `extract URL --config` applies the rules; --explain names them and the candidates.
    let out = ws.refeed(&["extract", &origin.url("/rulesite/story.html"), "--config", &arg(&ws), "--explain"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("The lights on the north pier are working again."), "{}", text(&out.stdout));
    let why = text(&out.stderr);
    let rule_file = ws.dir.path().join("rules/127.0.0.1.toml");
    assert!(why.contains(&format!("rule: {}\n", rule_file.display())), "{why}");
    assert!(why.contains("rule: body \".entry-text\": 1 element(s)\n"), "{why}");
    assert!(why.contains("rule: strip \".ad-note\": 1 element(s)\n"), "{why}");
    assert!(why.contains("rule: author \".writer\": Nora Fell\n"), "{why}");
    assert!(why.contains("candidate 1: div.site-info score "), "{why}");
    let json = ws.refeed(&["extract", &origin.url("/rulesite/story.html"), "--config", &arg(&ws), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (json["title"].as_str(), json["byline"].as_str()),
        (Some("Pier lights fixed after a week in the dark"), Some("Nora Fell"))
    );
    assert_eq!(json["published"], "2026-11-18T00:00:00Z");
    // Without the config, generic extraction (which gets this page wrong).
    let plain = ws.refeed(&["extract", &origin.url("/rulesite/story.html")]);
    assert!(text(&plain.stdout).starts_with("Harbour Notes is a community newsletter"), "{}", text(&plain.stdout));
}

#[test]
fn reextract_applies_a_new_rule_to_stored_pages_without_fetching() {
    let origin = Origin::start();
    let config = config_for(&[("notes", origin.url("/rulesite/feed.xml"))]);
    let ws = with_rules(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    assert!(entry_text(&ws, "notes", "Pier lights fixed").contains("community newsletter"));

    // A rule written afterwards (without next_page: the second page was never fetched).
    std::fs::write(ws.dir.path().join("rules/127.0.0.1.toml"), "body = \".entry-text\"\nstrip = [\".ad-note\"]\n")
        .unwrap();
    std::fs::write(ws.config(), config.replace("timeout = \"5s\"\n", &format!("timeout = \"5s\"\n{RULES}"))).unwrap();
    origin.clear_log();
    let out = ws.refeed(&["reextract", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "  notes: 1 page(s) extracted again, 1 changed\n\
         refeed: 1 stored page(s) extracted again without fetching; 1 changed; feeds republished\n"
    );
    assert!(origin.requests().is_empty(), "{:?}", origin.requests());
    let body = entry_text(&ws, "notes", "Pier lights fixed");
    assert!(body.contains("salt water had eaten through") && !body.contains("community newsletter"), "{body}");
    let again = ws.refeed(&["reextract", "--config", &arg(&ws), "--source", "notes"]);
    assert!(text(&again.stdout).contains("1 page(s) extracted again, 0 changed\n"), "{}", text(&again.stdout));
}

#[test]
fn reextract_rebuilds_a_story_from_all_its_stored_pages() {
    let origin = Origin::start();
    let config = config_for(&[("notes", origin.url("/rulesite/feed.xml"))])
        .replace("timeout = \"5s\"\n", &format!("timeout = \"5s\"\n{RULES}"));
    let ws = with_rules(&config);
    assert_eq!(ws.run().status.code(), Some(0));
    let before = entry_text(&ws, "notes", "Pier lights fixed");
    assert!(before.contains("The pier reopens to anglers on Saturday."), "{before}");
    origin.clear_log();
    let out = ws.refeed(&["reextract", "--config", &arg(&ws)]);
    assert_eq!(text(&out.stdout).lines().next(), Some("  notes: 1 page(s) extracted again, 0 changed"));
    assert!(origin.requests().is_empty());
    assert_eq!(entry_text(&ws, "notes", "Pier lights fixed"), before);
}

#[test]
fn rules_test_checks_each_rule_on_its_saved_page() {
    let ws = with_rules(&format!("[settings]\noutput_dir = \"public\"\n{RULES}"));
    let out = ws.refeed(&["rules", "test", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = text(&out.stdout);
    let dir = ws.dir.path().join("rules");
    assert!(
        report.contains(&format!(
            "  ok   {} test 1 (http://127.0.0.1/rulesite/story.html): ",
            dir.join("127.0.0.1.toml").display()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "  SKIP {} test 1 (http://localhost/rulesite/story.html): no saved page localhost.1.html",
            dir.join("localhost.txt").display()
        )),
        "{report}"
    );
    assert!(report.ends_with("refeed: 2 rule(s); 1 test(s) passed, 0 failed, 1 skipped\n"), "{report}");

    // A redesign: the rule now finds a sliver of what it found; a snippet goes missing; a
    // rule strips everything; a broken file. Each reported, exit 1.
    std::fs::write(dir.join("localhost.1.html"), std::fs::read(dir.join("story.html")).unwrap()).unwrap();
    std::fs::write(
        dir.join("localhost.txt"),
        "body: //div[@class='entry-text']\nstrip: //div[@class='entry-text']\ntest_url: http://localhost/rulesite/story.html\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("127.0.0.1.toml"),
        "body = \".entry-text\"\nstrip = [\".ad-note\"]\ntests = [{ url = \"http://127.0.0.1/rulesite/story.html\", page = \"story.html\", contains = [\"not on the page\"] }]\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.example.toml"), "body = [1, 2]\n").unwrap();
    let out = ws.refeed(&["rules", "test", "--config", &arg(&ws)]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains("broken.example.toml: ") && report.contains("(file skipped)"), "{report}");
    assert!(
        report.contains("127.0.0.1.toml test 1 (http://127.0.0.1/rulesite/story.html): missing [\"not on the page\"]"),
        "{report}"
    );
    assert!(
        report.contains("localhost.txt test 1 (http://localhost/rulesite/story.html): the extraction is empty"),
        "{report}"
    );
    assert!(report.ends_with("0 test(s) passed, 2 failed, 0 skipped\n"), "{report}");

    // The story shrinks on the saved page (the site now wraps each paragraph in its own box).
    std::fs::write(
        dir.join("127.0.0.1.toml"),
        "body = \".entry-text\"\ntests = [{ url = \"http://127.0.0.1/rulesite/story.html\", page = \"story.html\" }]\n",
    )
    .unwrap();
    std::fs::remove_file(dir.join("localhost.txt")).unwrap();
    let redesigned = std::fs::read_to_string(dir.join("story.html"))
        .unwrap()
        .replace("<div class=\"entry-text\">", "<div class=\"entry-text\">The lights work.</div><div class=\"old\">");
    std::fs::write(dir.join("story.html"), redesigned).unwrap();
    let out = ws.refeed(&["rules", "test", "--config", &arg(&ws)]);
    let report = text(&out.stdout);
    assert!(
        report.contains(
            "127.0.0.1.toml test 1 (http://127.0.0.1/rulesite/story.html): shrank: 14 characters, 122 last time"
        ),
        "{report}"
    );
    assert_eq!(out.status.code(), Some(1));
}
