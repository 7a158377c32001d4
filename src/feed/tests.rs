use super::*;

fn base() -> Url {
    Url::parse("https://example.com/feed.xml").unwrap()
}

fn parse(xml: &str) -> Feed {
    parse_feed(xml.as_bytes(), None, &base(), Limits::default()).unwrap()
}

#[test]
fn rss_entry_is_normalized() {
    let xml = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.com/</link>
        <item><title>A &lt;b&gt;bold&lt;/b&gt; title</title><link>/a/1</link><guid isPermaLink="false">id-1</guid>
        <pubDate>Tue, 10 Nov 2020 12:00:00 +0100</pubDate><category>World</category><category>World</category>
        <enclosure url="/a.mp3" length="123" type="audio/mpeg"/><description>&lt;p&gt;Hi&lt;/p&gt;</description></item>
        <item><title>No guid</title><link>https://example.com/b</link></item>
        <item><title>Nothing</title><description>text</description></item>
        <item><title>Protocol-relative</title><link>//cdn.example.org/p</link><pubDate>not a date</pubDate></item>
        <item><title>Script</title><link>javascript:alert(1)</link><guid>js</guid></item>
        </channel></rss>"#;
    let feed = parse(xml);
    assert_eq!(feed.title.as_deref(), Some("T"));
    let a = &feed.entries[0];
    assert_eq!(a.guid, "id-1");
    assert_eq!(a.url.as_deref(), Some("https://example.com/a/1"));
    assert_eq!(a.title.as_deref(), Some("A bold title"));
    assert_eq!(a.published.unwrap().to_rfc3339(), "2020-11-10T11:00:00+00:00");
    assert_eq!(a.categories, vec!["World".to_string()]);
    assert_eq!(a.enclosures[0].url, "https://example.com/a.mp3");
    assert_eq!(a.enclosures[0].length, Some(123));
    assert_eq!(feed.entries[1].guid, "https://example.com/b");
    assert!(feed.entries[2].guid.starts_with("urn:refeed:"));
    assert_eq!(feed.entries[3].url.as_deref(), Some("https://cdn.example.org/p"));
    assert_eq!(feed.entries[3].published, None, "a garbage date is no date");
    assert_eq!(feed.entries[4].url, None, "javascript: links are dropped");
    // The same input gives the same GUID on every run.
    assert_eq!(parse(xml).entries[2].guid, feed.entries[2].guid);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let parse = |b: &[u8]| parse_feed(b, None, &base(), Limits::default());
    assert!(parse(b"<html><body>hello</body></html>").is_err());
    assert!(parse(b"").is_err());
    assert!(parse(&[0xff, 0xfe, 0x00]).is_err());
    assert!(parse(b"{\"error\": \"not found\"}").is_err());
}

#[test]
fn malformed_feeds_are_read_and_say_so() {
    let amp = "<rss version=\"2.0\"><channel><title>Fish & Chips&nbsp;Daily</title>
        <item><title>Cod &amp; more</title><guid>1</guid></item></channel></rss>";
    let feed = parse(amp);
    assert_eq!(feed.title.as_deref(), Some("Fish & Chips Daily"));
    assert_eq!(feed.entries[0].title.as_deref(), Some("Cod & more"));
    assert_eq!(feed.problems, ["malformed XML read leniently: a bare &, HTML entities that XML does not define"]);

    let broken = "<rss version=\"2.0\"><channel><title>T</title>
        <item><title>One</title><guid>1</guid></item>
        <item><title>Two</ttle><guid>2</guid></item>
        <item><title>Three</title><guid>3</guid></item></channel></rss>";
    let titles: Vec<_> = parse(broken).entries.iter().map(|e| e.title.clone().unwrap_or_default()).collect();
    assert_eq!(titles, vec!["One", "Two", "Three"], "one bad element costs that element at most");
}

#[test]
fn entities_are_never_expanded_from_outside_or_recursively() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <rss version="2.0"><channel><title>&xxe;</title><item><title>x&xxe;</title><guid>1</guid></item></channel></rss>"#;
    let feed = parse(xxe);
    assert_eq!(feed.entries[0].title.as_deref(), Some("x&xxe;"));
    let mut lol = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
        lol.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
    }
    lol.push_str("]><rss version=\"2.0\"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>1</guid></item></channel></rss>");
    assert_eq!(parse(&lol).entries[0].title.as_deref(), Some("&lol9;"));
}

#[test]
fn a_second_xml_declaration_is_no_panic() {
    let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>T</title><?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><item><title>A</title><guid>1</guid></item></channel></rss>";
    assert_eq!(parse(text).entries.len(), 1);
}

#[test]
fn control_characters_are_removed() {
    let xml = "<rss version=\"2.0\"><channel><title>a\u{1}b</title></channel></rss>";
    assert_eq!(parse(xml).title.as_deref(), Some("ab"));
}

#[test]
fn memory_and_time_are_bounded_by_max_entries_while_parsing() {
    // The bound on entries is what is tested: an unoptimised build of our parser needs about
    // the default CPU limit for 200,000 items, so the limit is raised.
    let limits = Limits { max_entries: 10, cpu_limit: std::time::Duration::from_secs(30) };
    let items: String = (0..200_000).map(|i| format!("<item><title>x{i}</title></item>")).collect();
    let many = format!("<rss><channel><title>T</title>{items}</channel></rss>");
    let feed = parse_feed(many.as_bytes(), None, &base(), limits).unwrap();
    assert_eq!((feed.entries.len(), feed.items_found), (10, 200_000));
    let json = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{}{{}}]}}",
        "{\"id\":\"a\",\"title\":\"t\"},".repeat(100_000)
    );
    let feed = parse_feed(json.as_bytes(), None, &base(), limits).unwrap();
    assert_eq!(feed.items_found, 100_001);
    assert_eq!(feed.entries.len(), 1, "one identity, repeated");
    assert_eq!(feed.dropped, 100_000);
}

#[test]
fn xhtml_content_of_any_shape_is_no_panic() {
    // Found by the fuzzer: a multi-byte character where `<div` was looked for.
    for content in ["<r\u{2014}s>x</div>", "<div</div>", "<div>", "<div>ok</div>"] {
        let xml = format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><title>t</title><content type=\"xhtml\">{content}</content></entry></feed>"
        );
        let feed = parse(&xml);
        assert_eq!(feed.entries.len(), 1, "{content}");
    }
    let xml = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">ok</div></content></entry></feed>";
    assert_eq!(parse(xml).entries[0].content.as_deref(), Some("ok"));
}

#[test]
fn mojibake_is_repaired_only_when_it_decodes_cleanly() {
    assert_eq!(repair_mojibake("FÃ³rmula 1").as_deref(), Some("Fórmula 1"));
    assert_eq!(repair_mojibake("itâ€™s").as_deref(), Some("it’s"));
    assert_eq!(repair_mojibake("Fórmula"), None);
    assert_eq!(repair_mojibake("Ã la carte"), None, "Ã and a space is not a UTF-8 sequence");
}

#[test]
fn authors_in_every_form() {
    assert_eq!(author_name("ann@example.com (Ann Writer)"), "Ann Writer");
    assert_eq!(author_name("Ann Writer (ann@example.com)"), "Ann Writer");
    assert_eq!(author_name("Ann Writer <ann@example.com>"), "Ann Writer");
    assert_eq!(author_name("ann@example.com"), "ann@example.com");
}
