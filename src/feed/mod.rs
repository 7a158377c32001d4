//! Any feed format (RSS 0.9x/1.0/2.0, Atom, JSON Feed) -> our [`Feed`] and [`Entry`] model.
//!
//! Entries come out normalized: absolute links, UTC dates, a stable GUID, text titles, and no
//! characters that XML 1.0 forbids, so every later stage can trust them.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use url::Url;

use crate::fetch::charset;

mod repair;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feed {
    pub title: Option<String>,
    pub site_url: Option<Url>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub entries: Vec<Entry>,
    /// What was wrong with the document and what could not be read, for the run report.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Stable identity: the feed's own id/guid, else the link, else a hash of title and content.
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// HTML summary as the feed gave it (unsanitized).
    pub summary: Option<String>,
    /// HTML content as the feed gave it (unsanitized).
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Enclosure {
    pub url: String,
    pub mime_type: Option<String>,
    pub length: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("not a feed: {0}")]
    Invalid(String),
    #[error("the feed parser crashed on this document ({0})")]
    ParserPanic(String),
}

/// Parses a feed document. `url` is where it was fetched from, used to resolve relative links.
pub fn parse_feed(bytes: &[u8], content_type: Option<&str>, url: &Url) -> Result<Feed, FeedError> {
    let decoded = charset::decode_feed(bytes, content_type);
    let text = strip_forbidden_chars(&decoded.text);
    let mut problems = Vec::new();
    if decoded.had_errors {
        problems.push(format!("bytes invalid in {} were replaced", decoded.encoding.name()));
    }
    let first_error = match parse_document(&text, url) {
        Ok(mut feed) => {
            feed.problems = problems;
            return Ok(feed);
        }
        Err(e) => e,
    };
    // Not well-formed: fix what feeds commonly get wrong, then try again.
    let repaired = repair::repair(&text);
    if let Ok(mut feed) = parse_document(&repaired, url) {
        problems
            .push(format!("malformed XML ({first_error}); repaired entities and read {} entries", feed.entries.len()));
        feed.problems = problems;
        return Ok(feed);
    }
    // Still broken: read each entry on its own and keep those that parse.
    let Some(pieces) = repair::split_entries(&repaired) else { return Err(first_error) };
    let mut feed = parse_document(&format!("{}{}", pieces.head, pieces.tail), url).unwrap_or_default();
    let mut unreadable = 0;
    for entry in &pieces.entries {
        match parse_document(&format!("{}{entry}{}", pieces.head, pieces.tail), url) {
            Ok(one) if one.entries.len() == 1 => feed.entries.extend(one.entries),
            _ => unreadable += 1,
        }
    }
    if feed.entries.is_empty() {
        return Err(first_error);
    }
    problems.push(format!(
        "malformed XML ({first_error}); read {} of {} entries, {unreadable} could not be read",
        feed.entries.len(),
        pieces.entries.len()
    ));
    feed.problems = problems;
    Ok(feed)
}

/// Removes every XML declaration: the text is UTF-8 already, and quick-xml panics on an
/// encoding declaration it meets after the start ("set_encoding() called after prefix buffer
/// was drained"), which broken or concatenated feeds contain.
fn strip_xml_declarations(text: &str) -> Cow<'_, str> {
    let is_decl = |rest: &str| rest.len() > 5 && rest[5..].starts_with(|c: char| c.is_ascii_whitespace() || c == '?');
    let Some(first) = text.match_indices("<?xml").find(|(i, _)| is_decl(&text[*i..])).map(|(i, _)| i) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = &text[first..];
    out.push_str(&text[..first]);
    while let Some(pos) = rest.match_indices("<?xml").find(|(i, _)| is_decl(&rest[*i..])).map(|(i, _)| i) {
        out.push_str(&rest[..pos]);
        rest = match rest[pos..].find("?>") {
            Some(end) => &rest[pos + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn parse_document(text: &str, url: &Url) -> Result<Feed, FeedError> {
    let text = strip_xml_declarations(text);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(url.as_str()))
        // An empty id tells us the feed had none; we derive our own stable one below.
        .id_generator(|_, _, _| String::new())
        .build();
    // feed-rs panics on a few malformed inputs instead of returning an error; one bad feed
    // must not end a run.
    let parsed = catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|p| FeedError::ParserPanic(panic_message(&p)))?
        .map_err(|e| FeedError::Invalid(e.to_string()))?;
    Ok(convert(parsed, url))
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Removes characters XML 1.0 does not allow (C0 controls other than tab, LF, CR, and the
/// non-characters U+FFFE/U+FFFF), which would make our own output unreadable.
pub fn strip_forbidden_chars(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}';
    if s.chars().any(bad) { s.chars().filter(|&c| !bad(c)).collect::<String>().into() } else { s.into() }
}

fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Text of a feed text construct: HTML titles are reduced to their text.
fn plain(text: &feed_rs::model::Text) -> String {
    let content = if text.content_type.to_string().contains("html") || text.content.contains('<') {
        html_to_plain(&text.content)
    } else {
        text.content.clone()
    };
    content.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Visible text of an HTML fragment, whitespace collapsed.
pub fn html_to_plain(html: &str) -> String {
    crate::html::fragment_text(html, &crate::html::Deadline::start(TEXT_CPU_LIMIT))
}

/// CPU time for reducing one piece of feed HTML to text (a title, a summary).
const TEXT_CPU_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

fn convert(parsed: feed_rs::model::Feed, feed_url: &Url) -> Feed {
    let site_url = parsed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| resolve(feed_url, &l.href));
    let entries = parsed.entries.into_iter().map(|e| convert_entry(e, site_url.as_ref().unwrap_or(feed_url))).collect();
    Feed {
        title: parsed.title.as_ref().map(plain).filter(|t| !t.is_empty()),
        site_url,
        description: parsed.description.as_ref().map(plain).filter(|t| !t.is_empty()),
        language: parsed.language,
        entries,
        problems: Vec::new(),
    }
}

fn convert_entry(e: feed_rs::model::Entry, base: &Url) -> Entry {
    let base = e.base.as_deref().and_then(|b| resolve(base, b)).unwrap_or_else(|| base.clone());
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| e.links.first())
        .and_then(|l| resolve(&base, &l.href));
    let title = e.title.as_ref().map(plain).filter(|t| !t.is_empty());
    let content = e.content.as_ref().and_then(|c| c.body.clone()).filter(|b| !b.trim().is_empty());
    let summary = e.summary.as_ref().map(|s| s.content.clone()).filter(|b| !b.trim().is_empty());
    let author = e
        .authors
        .iter()
        .filter_map(|a| a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut enclosures: Vec<Enclosure> = Vec::new();
    for link in e.links.iter().filter(|l| l.rel.as_deref() == Some("enclosure")) {
        if let Some(url) = resolve(&base, &link.href) {
            enclosures.push(Enclosure { url: url.into(), mime_type: link.media_type.clone(), length: link.length });
        }
    }
    for media in &e.media {
        for c in &media.content {
            if let Some(url) = c.url.as_ref().and_then(|u| resolve(&base, u.as_str())) {
                let url = String::from(url);
                if !enclosures.iter().any(|x| x.url == url) {
                    enclosures.push(Enclosure {
                        url,
                        mime_type: c.content_type.as_ref().map(|m| m.to_string()),
                        length: c.size,
                    });
                }
            }
        }
    }
    let mut categories: Vec<String> = Vec::new();
    for c in &e.categories {
        let name = c.label.as_deref().unwrap_or(&c.term).trim().to_owned();
        if !name.is_empty() && !categories.contains(&name) {
            categories.push(name);
        }
    }
    let guid = if !e.id.trim().is_empty() {
        e.id.trim().to_owned()
    } else if let Some(link) = &link {
        link.to_string()
    } else {
        let seed =
            format!("{}\n{}", title.as_deref().unwrap_or(""), content.as_deref().or(summary.as_deref()).unwrap_or(""));
        format!("urn:refeed:{:016x}", fnv1a(seed.as_bytes()))
    };
    Entry {
        guid,
        url: link.map(String::from),
        title,
        author: (!author.is_empty()).then_some(author),
        published: e.published.and_then(crate::dates::sane).or(e.updated.and_then(crate::dates::sane)),
        updated: e.updated.and_then(crate::dates::sane),
        summary,
        content,
        categories,
        enclosures,
    }
}

/// FNV-1a, 64 bit: a stable hash (std's hasher may change between Rust releases, and our
/// GUIDs must not).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Finds feed links a page advertises (`<link rel="alternate" type="application/rss+xml">`),
/// the way feed readers autodiscover them.
pub fn discover_feed_links(html: &str, base: &Url) -> Vec<Url> {
    let Ok(doc) = crate::html::parse_document(html, &crate::html::Deadline::start(TEXT_CPU_LIMIT)) else {
        return Vec::new();
    };
    let sel = scraper::Selector::parse("link[rel~=alternate][href]").expect("static selector");
    doc.select(&sel)
        .filter(|l| {
            let t = l.value().attr("type").unwrap_or("").to_ascii_lowercase();
            t.contains("rss") || t.contains("atom") || t.contains("feed+json")
        })
        .filter_map(|l| resolve(base, l.value().attr("href")?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/feed.xml").unwrap()
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
        let feed = parse_feed(xml.as_bytes(), None, &base()).unwrap();
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
        let again = parse_feed(xml.as_bytes(), None, &base()).unwrap();
        assert_eq!(again.entries[2].guid, feed.entries[2].guid);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_feed(b"<html><body>hello</body></html>", None, &base()).is_err());
        assert!(parse_feed(b"", None, &base()).is_err());
        assert!(parse_feed(&[0xff, 0xfe, 0x00], None, &base()).is_err());
    }

    #[test]
    fn malformed_feeds_are_repaired_or_salvaged_and_say_so() {
        let amp = "<rss version=\"2.0\"><channel><title>Fish & Chips&nbsp;Daily</title>
            <item><title>Cod &amp; more</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(amp.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Fish & Chips Daily"));
        assert_eq!(feed.entries[0].title.as_deref(), Some("Cod & more"));
        assert!(feed.problems[0].starts_with("malformed XML ("), "{:?}", feed.problems);
        assert!(feed.problems[0].ends_with("repaired entities and read 1 entries"), "{:?}", feed.problems);

        let broken = "<rss version=\"2.0\"><channel><title>T</title>
            <item><title>One</title><guid>1</guid></item>
            <item><title>Two</ttle><guid>2</guid></item>
            <item><title>Three</title><guid>3</guid></item></channel></rss>";
        let feed = parse_feed(broken.as_bytes(), None, &base()).unwrap();
        let titles: Vec<_> = feed.entries.iter().map(|e| e.title.clone().unwrap()).collect();
        assert_eq!(titles, vec!["One", "Three"]);
        assert!(feed.problems[0].ends_with("read 2 of 3 entries, 1 could not be read"), "{:?}", feed.problems);
    }

    #[test]
    fn entities_are_never_expanded_from_outside_or_recursively() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <rss version="2.0"><channel><title>&xxe;</title><item><title>x&xxe;</title><guid>1</guid></item></channel></rss>"#;
        if let Ok(feed) = parse_feed(xxe.as_bytes(), None, &base()) {
            let all = format!("{:?}", feed);
            assert!(!all.contains("root:"), "file contents leaked: {all}");
        }
        let mut lol = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
            lol.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
        }
        lol.push_str("]><rss version=\"2.0\"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>1</guid></item></channel></rss>");
        let started = std::time::Instant::now();
        if let Ok(feed) = parse_feed(lol.as_bytes(), None, &base()) {
            assert!(format!("{:?}", feed).len() < 100_000, "entities were expanded");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_second_xml_declaration_is_no_panic() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>T</title><?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><item><title>A</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(text.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(strip_xml_declarations("<?xml-stylesheet href=\"a\"?><a/>"), "<?xml-stylesheet href=\"a\"?><a/>");
    }

    #[test]
    fn control_characters_are_removed() {
        let xml = "<rss version=\"2.0\"><channel><title>a\u{1}b</title></channel></rss>";
        assert_eq!(parse_feed(xml.as_bytes(), None, &base()).unwrap().title.as_deref(), Some("ab"));
    }
}
