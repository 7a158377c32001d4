//! Feed parsing + republishing: never a panic, and whatever we publish from whatever we read
//! (dates out of range included) is a well-formed feed that reads back, with refeed's own
//! reader and with feed-rs, with the same number of entries. The last 16 bytes of the input
//! are also tried as a `Retry-After` value, which must never overflow a date.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refeed::feed::Limits;
use refeed::publish::{OutFeed, OutItem, to_atom, to_json_feed, to_rss};

fuzz_target!(|data: &[u8]| {
    let now = chrono::Utc::now();
    let tail = String::from_utf8_lossy(&data[data.len().saturating_sub(16)..]).into_owned();
    if let Some(at) = refeed::fetch::retry_after_time(&tail, now) {
        assert!(at >= now && at <= now + refeed::fetch::MAX_RETRY_AFTER, "{tail:?} -> {at}");
    }
    let _ = refeed::feed::parse_date(&tail);
    let base = url::Url::parse("https://fuzz.example/feed.xml").unwrap();
    let limits = Limits { max_entries: 50, cpu_limit: std::time::Duration::from_secs(2) };
    let Ok(feed) = refeed::feed::parse_feed(data, None, &base, limits) else { return };
    assert!(feed.entries.len() <= 50);
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
                // Whatever the feed said, even a date no format can write.
                published: e.published.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
                updated: e.updated.or(Some(chrono::DateTime::<chrono::Utc>::MIN_UTC)),
                summary: refeed::feed::html_to_plain(&html),
                html,
                categories: e.categories.clone(),
                enclosures: e.enclosures.clone(),
                image: e.image.clone(),
            }
        })
        .collect();
    let out = OutFeed {
        name: "fuzz".into(),
        title: feed.title.clone().unwrap_or_default(),
        site_url: feed.site_url.as_ref().map(|u| u.to_string()),
        description: feed.description.clone(),
        self_template: Some("https://feeds.example/fuzz.{ext}".into()),
        updated: now,
        items,
        notes: Vec::new(),
    };
    for (format, doc) in [("rss", to_rss(&out)), ("atom", to_atom(&out)), ("json", to_json_feed(&out))] {
        let reread = feed_rs::parser::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{format} output unreadable: {e}\n{doc}"));
        assert_eq!(reread.entries.len(), out.items.len(), "{format}");
        let ours = refeed::feed::parse_feed(doc.as_bytes(), None, &base, Limits::default())
            .unwrap_or_else(|e| panic!("{format} output unreadable by refeed: {e}\n{doc}"));
        assert_eq!(ours.items_found, out.items.len(), "{format}");
    }
    serde_json::from_str::<serde_json::Value>(&to_json_feed(&out)).expect("JSON Feed is JSON");
});
