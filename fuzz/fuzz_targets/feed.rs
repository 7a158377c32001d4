//! Feed parsing + republishing: never a panic, and whatever we publish from whatever we read
//! is a well-formed feed that feed-rs reads back with the same number of entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refeed::publish::{OutFeed, OutItem, to_atom, to_json_feed, to_rss};

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://fuzz.example/feed.xml").unwrap();
    let Ok(feed) = refeed::feed::parse_feed(data, None, &base) else { return };
    let now = chrono::Utc::now();
    let items: Vec<OutItem> = feed
        .entries
        .iter()
        .map(|e| {
            let html = refeed::sanitize::clean_html(e.content.as_deref().or(e.summary.as_deref()).unwrap_or(""), Some(&base));
            OutItem {
                guid: e.guid.clone(),
                url: e.url.clone(),
                title: e.title.clone().unwrap_or_default(),
                author: e.author.clone(),
                published: e.published.unwrap_or(now),
                updated: e.updated,
                summary: refeed::feed::html_to_plain(&html),
                html,
                categories: e.categories.clone(),
                enclosures: e.enclosures.clone(),
                image: None,
            }
        })
        .collect();
    let out = OutFeed {
        name: "fuzz".into(),
        title: feed.title.clone().unwrap_or_default(),
        site_url: feed.site_url.as_ref().map(|u| u.to_string()),
        description: feed.description.clone(),
        feed_base: Some("https://feeds.example/".into()),
        updated: now,
        items,
    };
    for (format, doc) in [("rss", to_rss(&out)), ("atom", to_atom(&out)), ("json", to_json_feed(&out))] {
        let reread = feed_rs::parser::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{format} output unreadable: {e}\n{doc}"));
        assert_eq!(reread.entries.len(), out.items.len(), "{format}");
    }
    serde_json::from_str::<serde_json::Value>(&to_json_feed(&out)).expect("JSON Feed is JSON");
});
