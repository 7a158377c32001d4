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
