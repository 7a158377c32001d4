//! A web page that lists items without offering a feed (a blog index, a changelog, a job
//! board), read as a feed by CSS selectors: `items` selects each item, and inside each one
//! `title`, `link`, `date`, `summary` and `author` select its fields.
//!
//! Bounded as every page is: the HTML parser's element budget and CPU deadline, at most
//! `Limits::max_entries` items kept, each field's text capped.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use scraper::{ElementRef, Selector};
use url::Url;

use super::{Entry, Feed, FeedError, Limits};
use crate::html::Deadline;

pub use crate::config::ItemSelectors;

/// Text of one field is cut past this many characters.
const MAX_FIELD_CHARS: usize = 2_000;
/// A summary keeps more.
const MAX_SUMMARY_BYTES: usize = 64 * 1024;

fn selector(key: &str, sel: &str) -> Result<Selector, FeedError> {
    Selector::parse(sel).map_err(|e| FeedError::Selector(format!("{key} selector \"{sel}\" is invalid: {e}")))
}

/// The entries of the page `html` (fetched from `url`), as `sel` describes them.
pub fn parse_page(html: &str, url: &Url, sel: &ItemSelectors, limits: Limits) -> Result<Feed, FeedError> {
    let deadline = Deadline::start(limits.cpu_limit);
    let doc = crate::html::parse_document(html, &deadline)?;
    let items = selector("items", &sel.items)?;
    let field = |key: &str, s: &Option<String>| s.as_deref().map(|s| selector(key, s)).transpose();
    let (title, link, date) = (field("title", &sel.title)?, field("link", &sel.link)?, field("date", &sel.date)?);
    let (summary, author) = (field("summary", &sel.summary)?, field("author", &sel.author)?);
    let heading = Selector::parse("h1, h2, h3, h4, h5, h6, a").expect("static selector");
    let any_link = Selector::parse("a[href]").expect("static selector");
    let time = Selector::parse("time").expect("static selector");

    let mut feed = Feed {
        title: doc
            .select(&Selector::parse("title").expect("static selector"))
            .next()
            .map(|t| clip(&text_of(t), MAX_FIELD_CHARS))
            .filter(|t| !t.is_empty()),
        site_url: Some(url.clone()),
        description: None,
        language: None,
        entries: Vec::new(),
        items_found: 0,
        dropped: 0,
        problems: Vec::new(),
    };
    let mut untitled = 0;
    let mut seen = std::collections::HashSet::new();
    for (n, item) in doc.select(&items).enumerate() {
        if n % 256 == 0 {
            deadline.check()?;
        }
        feed.items_found += 1;
        if feed.entries.len() >= limits.max_entries {
            continue;
        }
        let title_el = item.select(title.as_ref().unwrap_or(&heading)).next();
        let Some(title_text) = title_el.map(text_of).filter(|t| !t.is_empty()) else {
            untitled += 1;
            continue;
        };
        let href = match &link {
            Some(link) => item.select(link).next().and_then(|a| a.value().attr("href")),
            None => title_el
                .and_then(|t| if t.value().name() == "a" { Some(t) } else { t.select(&any_link).next() })
                .or_else(|| (item.value().name() == "a").then_some(item))
                .or_else(|| item.select(&any_link).next())
                .and_then(|a| a.value().attr("href")),
        };
        let entry_url = href.and_then(|h| url.join(h.trim()).ok()).filter(|u| matches!(u.scheme(), "http" | "https"));
        let date_el = item.select(date.as_ref().unwrap_or(&time)).next();
        let published = date_el.and_then(|d| {
            let attr = d.value().attr("datetime").map(str::to_owned);
            attr.into_iter().chain([text_of(d)]).find_map(|s| parse_date(&s, sel.date_format.as_deref()))
        });
        let title_text = clip(&title_text, MAX_FIELD_CHARS);
        let guid = match &entry_url {
            Some(u) => u.to_string(),
            None => format!("page:{:016x}", super::fnv1a(title_text.as_bytes())),
        };
        if !seen.insert(guid.clone()) {
            feed.dropped += 1;
            continue;
        }
        feed.entries.push(Entry {
            guid,
            url: entry_url.map(String::from),
            title: Some(title_text),
            author: author.as_ref().and_then(|a| item.select(a).next()).map(|a| clip(&text_of(a), MAX_FIELD_CHARS)),
            published,
            updated: None,
            summary: summary.as_ref().and_then(|s| item.select(s).next()).map(|s| clip_html(&s.html())),
            content: None,
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
        });
    }
    if feed.items_found == 0 {
        return Err(FeedError::Selector(format!("items selector \"{}\" matches nothing on the page", sel.items)));
    }
    if feed.entries.is_empty() && untitled > 0 {
        let what = sel.title.as_deref().unwrap_or("h1, h2, h3, h4, h5, h6, a");
        return Err(FeedError::Selector(format!(
            "title selector \"{what}\" matches nothing inside the {untitled} item(s) \"{}\" selects",
            sel.items
        )));
    }
    if untitled > 0 {
        feed.dropped += untitled;
        feed.problems.push(format!("{untitled} item(s) without a title were left out"));
    }
    if feed.items_found > limits.max_entries {
        feed.problems.push(format!("the page lists {} items; read the first {}", feed.items_found, limits.max_entries));
    }
    Ok(feed)
}

fn text_of(e: ElementRef) -> String {
    let mut out = String::new();
    for t in e.text() {
        for w in t.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
        if out.len() > MAX_SUMMARY_BYTES {
            break;
        }
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

fn clip_html(html: &str) -> String {
    if html.len() <= MAX_SUMMARY_BYTES {
        return html.to_owned();
    }
    // Cut markup is repaired by the sanitizer when it is published.
    let mut at = MAX_SUMMARY_BYTES;
    while !html.is_char_boundary(at) {
        at -= 1;
    }
    html[..at].to_owned()
}

/// A date as the page writes it: with `format` (a chrono format; a date without a time is
/// midnight UTC), else as feeds write dates.
pub fn parse_date(s: &str, format: Option<&str>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    let d = match format {
        Some(f) => DateTime::parse_from_str(s, f)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(s, f).ok().map(|d| Utc.from_utc_datetime(&d)))
            .or_else(|| {
                NaiveDate::parse_from_str(s, f)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| Utc.from_utc_datetime(&d))
            }),
        None => super::parse_date(s),
    };
    d.and_then(crate::dates::sane)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><head><title>Changelog</title></head><body>
      <nav><a href="/">Home</a></nav>
      <article class="release"><h2><a href="/v2">Version 2.0</a></h2><time datetime="2026-11-20">20 Nov</time>
        <p class="sum">Faster <b>everything</b>.</p><span class="by">Ana</span></article>
      <article class="release"><h2>Version 1.9</h2><span class="when">3 October 2026</span>
        <a href="v1.9.html">notes</a></article>
      <article class="release"><p>no heading here</p></article>
    </body></html>"#;

    fn read(sel: ItemSelectors) -> Result<Feed, FeedError> {
        parse_page(PAGE, &Url::parse("https://ex.org/changes/").unwrap(), &sel, Limits::default())
    }

    #[test]
    fn items_and_their_fields() {
        let feed = read(ItemSelectors {
            items: "article.release".into(),
            summary: Some(".sum".into()),
            author: Some(".by".into()),
            ..ItemSelectors::default()
        })
        .unwrap();
        assert_eq!(feed.title.as_deref(), Some("Changelog"));
        assert_eq!((feed.items_found, feed.entries.len(), feed.dropped), (3, 2, 1));
        assert_eq!(feed.problems, ["1 item(s) without a title were left out"]);
        let a = &feed.entries[0];
        assert_eq!((a.title.as_deref(), a.url.as_deref()), (Some("Version 2.0"), Some("https://ex.org/v2")));
        assert_eq!(a.published.unwrap().to_rfc3339(), "2026-11-20T00:00:00+00:00");
        assert_eq!(a.summary.as_deref(), Some("<p class=\"sum\">Faster <b>everything</b>.</p>"));
        assert_eq!(a.author.as_deref(), Some("Ana"));
        let b = &feed.entries[1];
        assert_eq!(
            (b.title.as_deref(), b.url.as_deref()),
            (Some("Version 1.9"), Some("https://ex.org/changes/v1.9.html"))
        );
        assert_eq!(b.published, None);
    }

    #[test]
    fn a_date_format_reads_the_pages_own_dates() {
        let feed = read(ItemSelectors {
            items: "article.release".into(),
            date: Some(".when".into()),
            date_format: Some("%d %B %Y".into()),
            ..ItemSelectors::default()
        })
        .unwrap();
        assert_eq!(feed.entries[1].published.unwrap().to_rfc3339(), "2026-10-03T00:00:00+00:00");
    }

    #[test]
    fn selectors_that_match_nothing_say_which() {
        let e = read(ItemSelectors { items: ".post".into(), ..ItemSelectors::default() }).unwrap_err();
        assert_eq!(e.to_string(), "items selector \".post\" matches nothing on the page");
        let e = read(ItemSelectors { items: "article".into(), title: Some("h5".into()), ..ItemSelectors::default() })
            .unwrap_err();
        assert_eq!(e.to_string(), "title selector \"h5\" matches nothing inside the 3 item(s) \"article\" selects");
    }
}
