//! Any feed -> our [`Feed`] and [`Entry`] model: RSS 0.90 to 2.0 (with or without a version,
//! in any of its namespaces), RSS 1.0 (RDF), Atom 0.3 and 1.0, CDF, and JSON Feed 1 and 1.1,
//! with the extensions readers show (Dublin Core, content, iTunes, Media RSS).
//!
//! Every dialect goes through one forgiving reader ([`xml`]) and one set of rules, modelled on
//! what Python's feedparser reports, so that a feed a reader shows is a feed refeed reads, and
//! one bad element costs that element, never the feed. Nothing is dropped silently: the
//! [`Feed`] says how many items the document held and what was not read.
//!
//! Entries come out normalized: absolute links, UTC dates in a sane range, a stable identity,
//! text titles, and no characters that XML 1.0 forbids.

mod datetime;
mod json;
pub mod opml;
pub mod page;
pub mod xml;

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::fetch::charset;
use crate::html::{Deadline, HtmlError};
use xml::{Element, Ns, Tree};

pub use datetime::parse as parse_date;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feed {
    pub title: Option<String>,
    pub site_url: Option<Url>,
    pub description: Option<String>,
    pub language: Option<String>,
    /// The newest entries, at most [`Limits::max_entries`], in feed order.
    pub entries: Vec<Entry>,
    /// Items (`<item>`, `<entry>`, JSON `items`) the document held.
    pub items_found: usize,
    /// Items not read into an entry (empty, or a repeat of an earlier identity).
    pub dropped: usize,
    /// What was wrong with the document and what could not be read, for the run report.
    pub problems: Vec<String>,
}

impl Feed {
    /// Everything read, as JSON (what `refeed parse` prints and the conformance fixtures hold).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "site_url": self.site_url.as_ref().map(Url::as_str),
            "description": self.description,
            "language": self.language,
            "items_found": self.items_found,
            "dropped": self.dropped,
            "problems": self.problems,
            "entries": self.entries,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Stable identity: the feed's own guid/id, else the link, else a hash of title, date and
    /// enclosure. Two entries with distinct identities are two entries, whatever their links.
    pub guid: String,
    /// The article: the alternate or permalink (never an enclosure, a comments page, a
    /// license, a `related`, `self` or `via` link).
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
    /// Attachments a podcast app offers to download (audio, video, documents).
    pub enclosures: Vec<Enclosure>,
    /// The entry's picture (Media RSS thumbnails and images, `itunes:image`, JSON `image`).
    #[serde(default)]
    pub image: Option<String>,
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
    #[error("feed parsing {0}")]
    Budget(#[from] HtmlError),
    /// A page source's selectors found nothing (or are invalid).
    #[error("{0}")]
    Selector(String),
}

/// What one parse may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries kept (the newest); the rest are counted, not held, however many there are.
    pub max_entries: usize,
    pub cpu_limit: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entries: 1000, cpu_limit: crate::html::DEFAULT_CPU_LIMIT }
    }
}

/// Parses a feed document. `url` is where it was fetched from (relative links resolve
/// against it, or against the `xml:base` in force).
pub fn parse_feed(bytes: &[u8], content_type: Option<&str>, url: &Url, limits: Limits) -> Result<Feed, FeedError> {
    let deadline = Deadline::start(limits.cpu_limit);
    let decoded = charset::decode_feed(bytes, content_type);
    let text = crate::sanitize::strip_forbidden_chars(&decoded.text);
    let mut problems = Vec::new();
    if decoded.had_errors {
        problems.push(format!("bytes invalid in {} were replaced", decoded.encoding.name()));
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let mut feed = if body.starts_with('{') {
        json::parse(body, url, limits)?
    } else if body.starts_with('<') {
        parse_xml(body, url, limits, &deadline)?
    } else if body.is_empty() {
        return Err(FeedError::Invalid("empty document".into()));
    } else {
        return Err(FeedError::Invalid("neither XML nor JSON".into()));
    };
    problems.append(&mut feed.problems);
    feed.problems = problems;
    Ok(feed)
}

/// Keeps the newest `max` entries of a stream, in feed order, with bounded memory: when
/// twice the limit are held, the older half goes.
struct Newest {
    max: usize,
    held: Vec<(usize, Entry)>,
    seen: usize,
    identities: std::collections::HashSet<u64>,
    dropped: usize,
}

impl Newest {
    fn new(max: usize) -> Newest {
        Newest { max: max.max(1), held: Vec::new(), seen: 0, identities: Default::default(), dropped: 0 }
    }

    fn push(&mut self, entry: Option<Entry>) {
        let position = self.seen;
        self.seen += 1;
        let Some(entry) = entry else {
            self.dropped += 1;
            return;
        };
        // A repeated identity is the same entry listed twice: the first stays.
        if !self.identities.insert(fnv1a(entry.guid.as_bytes())) {
            self.dropped += 1;
            return;
        }
        self.held.push((position, entry));
        if self.held.len() >= self.max * 2 {
            self.cut();
        }
    }

    fn cut(&mut self) {
        // Newest first; undated entries count as new (they will be dated when seen), and feed
        // order breaks ties.
        self.held.sort_by_key(|(pos, e)| {
            (std::cmp::Reverse(e.published.or(e.updated).unwrap_or(DateTime::<Utc>::MAX_UTC)), *pos)
        });
        self.held.truncate(self.max);
    }

    fn finish(mut self) -> (Vec<Entry>, usize) {
        if self.held.len() > self.max {
            self.cut();
        }
        self.held.sort_by_key(|(pos, _)| *pos);
        (self.held.into_iter().map(|(_, e)| e).collect(), self.dropped)
    }
}

/// The element that holds a feed's own fields: RSS `<channel>` (under `<rss>` or `<rdf:RDF>`),
/// Atom `<feed>`, CDF `<channel>`.
fn feed_element(tree: &Tree) -> Option<usize> {
    let root = tree.nodes[0].children.first().copied()?;
    let r = &tree.nodes[root];
    if r.name == "feed" || r.name == "channel" {
        return Some(root);
    }
    tree.child_indices(root).find(|&c| tree.nodes[c].name == "channel" && tree.nodes[c].ns != Ns::Atom)
}

fn parse_xml(body: &str, url: &Url, limits: Limits, deadline: &Deadline) -> Result<Feed, FeedError> {
    let mut newest = Newest::new(limits.max_entries);
    let mut dropped_content = Vec::new();
    let (tree, counts) = xml::read(body, deadline, |tree, item| {
        newest.push(entry_from(tree, item, url, &mut dropped_content));
    })?;
    let root = tree.nodes[0].children.first().copied();
    let Some(root) = root else {
        return Err(FeedError::Invalid("no XML element in the document".into()));
    };
    let root_name = tree.nodes[root].name.clone();
    let Some(channel) = feed_element(&tree) else {
        if counts.items == 0 {
            return Err(FeedError::Invalid(format!(
                "<{root_name}> is not a feed (expected <rss>, <feed>, <rdf:RDF> or <channel>)"
            )));
        }
        return finish(FeedFields::default(), newest, counts, dropped_content);
    };
    if matches!(root_name.as_str(), "html" | "body") {
        return Err(FeedError::Invalid("an HTML page, not a feed".into()));
    }
    let fields = feed_fields(&tree, channel, url);
    // Entries without an author take the podcast's (`itunes:author` of the channel).
    if let Some(author) = &fields.itunes_author {
        for (_, e) in &mut newest.held {
            e.author.get_or_insert_with(|| author.clone());
        }
    }
    let mut feed = finish(fields, newest, counts, dropped_content)?;
    if feed.entries.is_empty()
        && feed.items_found == 0
        && !matches!(root_name.as_str(), "rss" | "feed" | "rdf" | "channel")
    {
        return Err(FeedError::Invalid(format!("<{root_name}> is not a feed")));
    }
    feed.problems.shrink_to_fit();
    Ok(feed)
}

#[derive(Default)]
struct FeedFields {
    title: Option<String>,
    site_url: Option<Url>,
    description: Option<String>,
    language: Option<String>,
    itunes_author: Option<String>,
}

fn finish(
    fields: FeedFields,
    newest: Newest,
    counts: xml::Counts,
    dropped_content: Vec<String>,
) -> Result<Feed, FeedError> {
    let (entries, dropped) = newest.finish();
    let mut problems = Vec::new();
    if !counts.repairs.is_empty() {
        problems.push(format!("malformed XML read leniently: {}", counts.repairs.join(", ")));
    }
    problems.extend(dropped_content);
    Ok(Feed {
        title: fields.title,
        site_url: fields.site_url,
        description: fields.description,
        language: fields.language,
        entries,
        items_found: counts.items,
        dropped,
        problems,
    })
}

fn feed_fields(tree: &Tree, channel: usize, url: &Url) -> FeedFields {
    let base = base_url(tree, channel, url);
    let mut f = FeedFields::default();
    let c = &tree.nodes[channel];
    // CDF: <CHANNEL HREF="…">.
    if let Some(href) = c.attr("href") {
        f.site_url = resolve(&base, href);
    }
    for child in tree.child_indices(channel) {
        let e = &tree.nodes[child];
        match (e.ns, e.name.as_str()) {
            (ns, "title") if ns.rssish() || ns.atomish() => f.title = f.title.take().or(text_construct(tree, child)),
            (Ns::Dc, "title") => f.title = f.title.take().or(text_construct(tree, child)),
            (ns, "link") if e.attr("href").is_some() && (ns.atomish() || ns == Ns::Atom) => {
                let rel = e.attr("rel").unwrap_or("alternate");
                if rel == "alternate" && f.site_url.is_none() {
                    f.site_url = e.attr("href").and_then(|h| resolve(&base, h));
                }
            }
            (ns, "link") if ns.rssish() && f.site_url.is_none() => f.site_url = resolve(&base, &e.text),
            (ns, "description" | "subtitle" | "tagline") if ns.rssish() || ns.atomish() => {
                f.description = f.description.take().or(text_construct(tree, child))
            }
            (ns, "abstract") if ns.rssish() => f.description = f.description.take().or(text_construct(tree, child)),
            (Ns::Plain | Ns::Dc, "language") => f.language = Some(e.text.trim().to_owned()).filter(|l| !l.is_empty()),
            (Ns::Itunes, "author") => f.itunes_author = plain_text(&e.text),
            _ => {}
        }
    }
    if f.language.is_none() {
        f.language = c.attr_ns(Ns::Xml, "lang").map(str::to_owned);
    }
    f
}

/// The URL relative links of element `i` resolve against: the `xml:base` chain over the
/// document's URL.
fn base_url(tree: &Tree, i: usize, url: &Url) -> Url {
    let mut base = url.clone();
    for b in tree.bases(i) {
        if let Some(next) = resolve(&base, b) {
            base = next;
        }
    }
    base
}

/// The entry of item `i`, or `None` when it holds nothing to publish.
fn entry_from(tree: &Tree, i: usize, feed_url: &Url, dropped_content: &mut Vec<String>) -> Option<Entry> {
    let base = base_url(tree, i, feed_url);
    let item = &tree.nodes[i];
    let mut e = Entry::default();
    let mut links = Links::default();
    let mut guid: Option<(String, bool)> = None;
    let mut explicit_permalink = false;
    let mut atom_id: Option<String> = None;
    let mut rdf_about = item.attr_ns(Ns::Rdf, "about").map(str::to_owned);
    let mut dc_title = None;
    let mut media_title = None;
    let mut summary = None;
    let mut extra_summary = None;
    let mut media_description = None;
    let mut updated = None;
    // CDF: <ITEM HREF="…" LASTMOD="…">.
    if let Some(href) = item.attr("href") {
        links.permalink = resolve(&base, href);
    }
    let mut published = item.attr("lastmod").and_then(datetime::parse);
    let mut visit: Vec<usize> = tree.child_indices(i).collect();
    visit.reverse();
    while let Some(child) = visit.pop() {
        let c = &tree.nodes[child];
        let text = c.text.trim();
        match (c.ns, c.name.as_str()) {
            (ns, "title") if ns.rssish() || ns.atomish() || ns == Ns::Other => {
                e.title = e.title.take().or(text_construct(tree, child))
            }
            (Ns::Dc, "title") => dc_title = dc_title.or(text_construct(tree, child)),
            (_, "link") if c.attr("href").is_some() => links.atom(c, &base, &mut e.enclosures),
            (ns, "link") if ns.rssish() && !text.is_empty() => {
                links.rss = links.rss.take().or_else(|| resolve(&base, text))
            }
            (ns, "guid") if ns.rssish() && !text.is_empty() => {
                // isPermaLink defaults to true; a guid said to be one may be relative.
                let said = c.attr("ispermalink").map(|v| v.trim().to_ascii_lowercase());
                guid = Some((text.to_owned(), said.as_deref() != Some("false")));
                explicit_permalink = said.as_deref() == Some("true");
            }
            (ns, "id") if ns.atomish() && !text.is_empty() => atom_id = Some(text.to_owned()),
            (Ns::Plain | Ns::Rss1 | Ns::Dc | Ns::Itunes | Ns::Atom | Ns::Atom03, "author" | "creator")
                if c.ns != Ns::Dc || c.name == "creator" =>
            {
                if let Some(name) = author_of(tree, child) {
                    e.author = Some(name);
                }
            }
            (ns, "category") if ns.rssish() || ns.atomish() => {
                let term = c.attr("label").or(c.attr("term")).map(str::to_owned).or_else(|| plain_text(text));
                push_category(&mut e.categories, term.as_deref());
            }
            (Ns::Dc, "subject") => push_category(&mut e.categories, plain_text(text).as_deref()),
            (Ns::Itunes | Ns::Media, "keywords") => {
                for k in text.split(',') {
                    push_category(&mut e.categories, Some(k));
                }
            }
            (ns, "pubdate") if ns.rssish() => published = published.or(datetime::parse(text)),
            (ns, "published" | "issued" | "created") if ns.atomish() => published = published.or(datetime::parse(text)),
            (Ns::Dc, "date") | (Ns::DcTerms, "issued" | "created" | "date") => {
                published = published.or(datetime::parse(text))
            }
            (ns, "updated" | "modified") if ns.atomish() => updated = updated.or(datetime::parse(text)),
            (Ns::DcTerms, "modified") => updated = updated.or(datetime::parse(text)),
            (Ns::Content, "encoded") => e.content = e.content.take().or(Some(c.text.clone())),
            (Ns::Xhtml, "body") => e.content = e.content.take().or(Some(inner_markup(tree, child))),
            (ns, "content") if ns.atomish() => match content_construct(tree, child) {
                Ok(Some(html)) => e.content = e.content.take().or(Some(html)),
                Ok(None) => {}
                Err(why) => dropped_content.push(format!(
                    "entry {:?}: its content was dropped ({why}); the rest of it is published",
                    item_label(tree, i)
                )),
            },
            (ns, "description") if ns.rssish() => summary = summary.or(Some(c.text.clone())),
            (ns, "summary") if ns.atomish() => {
                summary = summary.or_else(|| content_construct(tree, child).ok().flatten())
            }
            (Ns::Dc, "description") | (Ns::Itunes, "summary") => extra_summary = extra_summary.or(Some(c.text.clone())),
            (ns, "abstract") if ns.rssish() => extra_summary = extra_summary.or(Some(c.text.clone())),
            (Ns::Plain, "enclosure") => {
                if let Some(url) = c.attr("url").and_then(|u| resolve(&base, u)) {
                    push_enclosure(&mut e.enclosures, url, c.attr("type"), c.attr("length"));
                }
            }
            (Ns::Media, "group") => {
                // Its children (content, thumbnail, title, description) are read as if they
                // were the item's own.
                let mut inner: Vec<usize> = tree.child_indices(child).collect();
                inner.reverse();
                visit.extend(inner);
            }
            (Ns::Media, "content") => {
                let url = c.attr("url").and_then(|u| resolve(&base, u));
                let ty = c.attr("type");
                let is_image =
                    c.attr("medium").is_some_and(|m| m == "image") || ty.is_some_and(|t| t.starts_with("image/"));
                // Audio and video are attachments; a picture is the entry's image; anything
                // else (a Flash player, a web page) is neither.
                let medium = c.attr("medium").unwrap_or("");
                let is_media = matches!(medium, "audio" | "video")
                    || ty.is_some_and(|t| t.starts_with("audio/") || t.starts_with("video/"));
                match url {
                    Some(url) if is_image => e.image = e.image.take().or(Some(url.into())),
                    Some(url) if is_media => push_enclosure(&mut e.enclosures, url, ty, c.attr("filesize")),
                    _ => {}
                }
                let mut inner: Vec<usize> = tree.child_indices(child).collect();
                inner.reverse();
                visit.extend(inner);
            }
            (Ns::Media, "thumbnail") => {
                if let Some(url) = c.attr("url").and_then(|u| resolve(&base, u)) {
                    e.image = e.image.take().or(Some(url.into()));
                }
            }
            (Ns::Itunes, "image") => {
                if let Some(url) = c.attr("href").or(c.attr("url")).and_then(|u| resolve(&base, u)) {
                    e.image = e.image.take().or(Some(url.into()));
                }
            }
            (Ns::Media, "title") => media_title = media_title.or(text_construct(tree, child)),
            (Ns::Media, "description") if !text.is_empty() => {
                let html = if c.attr("type") == Some("html") { c.text.clone() } else { text_to_html(&c.text) };
                media_description = media_description.or(Some(html));
            }
            (Ns::Rdf, "about") => rdf_about = rdf_about.or(Some(text.to_owned())),
            _ => {}
        }
    }
    e.title = e.title.or(dc_title).or(media_title);
    e.summary = summary.or(extra_summary).filter(|s| !s.trim().is_empty());
    e.content = e.content.filter(|c| !c.trim().is_empty());
    if e.content.is_none() && e.summary.is_none() {
        // YouTube and other Media RSS feeds carry the text only there.
        e.content = media_description;
    }
    e.published = published.or(updated);
    e.updated = updated;
    // The link: the alternate, else RSS <link>, else a permalink guid, else an Atom id that is
    // an http(s) URL.
    let permalink_guid = guid
        .as_ref()
        .filter(|(_, permalink)| *permalink)
        .and_then(|(g, _)| resolve_absolute(g).or_else(|| explicit_permalink.then(|| resolve(&base, g)).flatten()));
    let id_url = atom_id.as_deref().and_then(resolve_absolute);
    e.url = links.alternate.or(links.rss).or(links.permalink).or(permalink_guid).or(id_url).map(String::from);
    e.guid = guid.map(|(g, _)| g).or(atom_id).or(rdf_about).or_else(|| e.url.clone()).unwrap_or_else(|| {
        let seed = format!(
            "{}\n{}\n{}",
            e.title.as_deref().unwrap_or(""),
            e.published.map(|d| d.to_rfc3339()).unwrap_or_default(),
            e.enclosures.first().map_or("", |x| x.url.as_str())
        );
        format!("urn:refeed:{:016x}", fnv1a(seed.as_bytes()))
    });
    repair_mojibake_fields(&mut e);
    let empty =
        e.title.is_none() && e.url.is_none() && e.content.is_none() && e.summary.is_none() && e.enclosures.is_empty();
    (!empty).then_some(e)
}

/// The links of an item, sorted by what they are.
#[derive(Default)]
struct Links {
    /// Atom `rel="alternate"` (or no rel): the article.
    alternate: Option<Url>,
    alternate_is_html: bool,
    /// RSS `<link>`.
    rss: Option<Url>,
    /// CDF's `HREF`.
    permalink: Option<Url>,
}

impl Links {
    fn atom(&mut self, link: &Element, base: &Url, enclosures: &mut Vec<Enclosure>) {
        let Some(href) = link.attr("href").and_then(|h| resolve(base, h)) else { return };
        match link.attr("rel").map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "alternate" | "http://www.iana.org/assignments/relation/alternate") => {
                // The first HTML alternate wins; an alternate of another type only when there
                // is none. (An RSS item's own <link href>, as some generators write, counts.)
                let html = link.attr("type").is_none_or(|t| t.contains("html"));
                if self.alternate.is_none() || (html && !self.alternate_is_html) {
                    self.alternate = Some(href);
                    self.alternate_is_html = html;
                }
            }
            Some("enclosure") => push_enclosure(enclosures, href, link.attr("type"), link.attr("length")),
            // license, related, self, via, replies, edit, comments…: never the article.
            _ => {}
        }
    }
}

fn push_enclosure(list: &mut Vec<Enclosure>, url: Url, mime_type: Option<&str>, length: Option<&str>) {
    let url = String::from(url);
    if list.iter().any(|e| e.url == url) {
        return;
    }
    list.push(Enclosure {
        url,
        mime_type: mime_type.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        length: length.and_then(|l| l.trim().parse().ok()).filter(|&n: &u64| n > 0),
    });
}

fn push_category(list: &mut Vec<String>, name: Option<&str>) {
    let Some(name) = name.map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")) else { return };
    if !name.is_empty() && !list.contains(&name) {
        list.push(name);
    }
}

/// A short label for an item in messages: its title or its id.
fn item_label(tree: &Tree, i: usize) -> String {
    ["title", "guid", "id"]
        .iter()
        .find_map(|n| tree.children(i).find(|c| c.name == *n).map(|c| c.text.trim().to_owned()))
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(80).collect())
        .unwrap_or_else(|| "(untitled)".into())
}

/// The name of an author element: Atom's `<name>` (or `<email>`), else its text, with
/// "name (email)" and "email (name)" reduced to the name.
fn author_of(tree: &Tree, i: usize) -> Option<String> {
    let e = &tree.nodes[i];
    let child = |n: &str| tree.children(i).find(|c| c.name == n).and_then(|c| plain_text(&c.text));
    if let Some(name) = child("name") {
        return Some(name);
    }
    let text = plain_text(&e.text).or_else(|| child("email"))?;
    Some(author_name(&text))
}

/// "ann@example.com (Ann Writer)" and "Ann Writer (ann@example.com)" -> "Ann Writer"; an
/// address alone stays (feedparser keeps it too).
pub fn author_name(text: &str) -> String {
    let text = text.trim();
    if let (Some(open), true) = (text.find('('), text.ends_with(')')) {
        let outside = text[..open].trim();
        let inside = text[open + 1..text.len() - 1].trim();
        let is_email = |s: &str| s.contains('@') && !s.contains(' ');
        if is_email(outside) && !inside.is_empty() {
            return inside.to_owned();
        }
        if is_email(inside) && !outside.is_empty() {
            return outside.to_owned();
        }
    }
    if let (Some(open), true) = (text.find('<'), text.ends_with('>')) {
        let name = text[..open].trim().trim_matches('"');
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    text.to_owned()
}

/// The text of a title-like element as a reader shows it.
///
/// Atom says what it holds (`type="text"`, `"html"`, `"xhtml"`); RSS does not, so text that
/// looks like HTML (feedparser's test: a closing tag or a character reference, all of known
/// kinds) is read as HTML, and the rest as text: "History of the <blink> tag" stays whole.
fn text_construct(tree: &Tree, i: usize) -> Option<String> {
    let e = &tree.nodes[i];
    let ty = e.attr("type").map(|t| t.trim().to_ascii_lowercase());
    let mode = e.attr("mode").map(|m| m.trim().to_ascii_lowercase());
    let atom = e.ns == Ns::Atom || e.ns == Ns::Atom03;
    let text = match (ty.as_deref(), mode.as_deref()) {
        (Some("xhtml" | "application/xhtml+xml"), _) | (_, Some("xml")) => tree.deep_text(i),
        (Some("html" | "text/html"), _) | (_, Some("escaped")) => {
            crate::html::fragment_text(&e.text, &Deadline::none())
        }
        (_, Some("base64")) => decode_base64_text(&e.text).unwrap_or_default(),
        (Some("text" | "text/plain"), _) if atom => e.text.clone(),
        _ if looks_like_html(&e.text) || active_markup(&e.text) => {
            crate::html::fragment_text(&e.text, &Deadline::none())
        }
        _ if !e.children.is_empty() => tree.deep_text(i),
        _ => e.text.clone(),
    };
    plain_text(&text)
}

/// HTML of a content element (Atom `<content>`/`<summary>`), `Ok(None)` when empty,
/// `Err(why)` when it cannot be read (binary content, undecodable base64).
fn content_construct(tree: &Tree, i: usize) -> Result<Option<String>, String> {
    let e = &tree.nodes[i];
    let ty = e.attr("type").map(|t| t.trim().to_ascii_lowercase()).unwrap_or_default();
    let mode = e.attr("mode").map(|m| m.trim().to_ascii_lowercase()).unwrap_or_default();
    if e.attr("src").is_some() && e.text.trim().is_empty() {
        return Ok(None); // out-of-line content: the entry's link says where
    }
    let html = match (ty.as_str(), mode.as_str()) {
        ("xhtml" | "application/xhtml+xml", _) | (_, "xml") => inner_markup(tree, i),
        (_, "base64") => base64_content(&e.text, &ty)?,
        ("" | "text" | "text/plain", _) => {
            if e.ns == Ns::Atom03 && (mode == "escaped" || (mode.is_empty() && looks_like_html(&e.text))) {
                e.text.clone()
            } else if !e.children.is_empty() {
                inner_markup(tree, i)
            } else {
                text_to_html(&e.text)
            }
        }
        ("html" | "text/html", _) => e.text.clone(),
        (t, _) if t.starts_with("text/") || t.ends_with("+xml") || t.ends_with("/xml") => {
            if e.children.is_empty() {
                text_to_html(&e.text)
            } else {
                inner_markup(tree, i)
            }
        }
        // Anything else is base64 by RFC 4287 (3.1.1.3).
        (t, _) => base64_content(&e.text, t)?,
    };
    Ok(Some(html).filter(|h| !h.trim().is_empty()))
}

fn base64_content(text: &str, ty: &str) -> Result<String, String> {
    let decoded = decode_base64_text(text).ok_or_else(|| format!("base64 of type {ty:?} that is not text"))?;
    Ok(if ty.contains("html") { decoded } else { text_to_html(&decoded) })
}

fn decode_base64_text(text: &str) -> Option<String> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
    String::from_utf8(bytes).ok().filter(|s| !s.contains('\0'))
}

/// The markup inside element `i`, as written, without a wrapping XHTML `<div>`.
fn inner_markup(tree: &Tree, i: usize) -> String {
    let inner = tree.source.get(tree.nodes[i].inner.clone()).unwrap_or("").trim();
    let open_end = inner.find('>').map_or(0, |e| e + 1);
    let wrapped = inner.as_bytes().get(..4).is_some_and(|b| b.eq_ignore_ascii_case(b"<div"))
        && inner.ends_with("</div>")
        && open_end <= inner.len() - 6;
    let unwrapped = if wrapped { &inner[open_end..inner.len() - 6] } else { inner };
    // XHTML may be written with a prefix (<xhtml:p>): HTML knows the names without it.
    unwrapped.replace("<xhtml:", "<").replace("</xhtml:", "</").replace("<html:", "<").replace("</html:", "</")
}

/// Plain text as HTML: escaped, paragraphs at blank lines, line breaks kept.
fn text_to_html(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", crate::sanitize::escape(p).replace('\n', "<br>")))
        .collect::<String>()
}

/// feedparser's test for text that is really HTML: it has a closing tag or a character
/// reference, every tag is a known HTML element, and every named reference is a known one.
pub fn looks_like_html(s: &str) -> bool {
    let has_close = s.match_indices("</").any(|(i, _)| {
        let rest = &s[i + 2..];
        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
        n > 0 && rest[n..].starts_with('>')
    });
    let has_ref = s.match_indices('&').any(|(i, _)| {
        let rest = &s[i + 1..];
        let rest = rest.strip_prefix('#').unwrap_or(rest);
        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        n > 0 && rest[n..].starts_with(';')
    });
    if !has_close && !has_ref {
        return false;
    }
    let tags_known = s.match_indices('<').all(|(i, _)| {
        let rest = s[i + 1..].strip_prefix('/').unwrap_or(&s[i + 1..]);
        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
        n == 0 || crate::tags::is_acceptable_element(&rest[..n].to_ascii_lowercase())
    });
    let refs_known = s.match_indices('&').all(|(i, _)| {
        let rest = &s[i + 1..];
        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        n == 0 || !rest[n..].starts_with(';') || xml::html_entity(&rest[..n]).is_some() || matches!(&rest[..n], "apos")
    });
    tags_known && refs_known
}

/// Text holding markup that would do something if a reader rendered it (a script, a frame, an
/// event handler, a `javascript:` URL): never kept as literal text, whatever feedparser would
/// do, in case a reader shows a title as HTML. Harmless markup in text ("the <blink> tag")
/// stays.
fn active_markup(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let tag_names =
        ["script", "style", "iframe", "object", "embed", "svg", "math", "img", "link", "meta", "base", "form", "frame"];
    lower.match_indices('<').any(|(i, _)| {
        let rest = lower[i + 1..].trim_start_matches('/');
        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
        if n == 0 {
            return false;
        }
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        tag_names.contains(&&rest[..n])
            || tag.contains("javascript:")
            || tag
                .split(|c: char| c.is_whitespace() || c == '/')
                .skip(1)
                .any(|a| a.starts_with("on") && a.contains('='))
    })
}

/// Whitespace collapsed; `None` when nothing is left.
fn plain_text(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

/// Text that was UTF-8, read as Latin-1 or Windows-1252 and written out again as UTF-8
/// ("FÃ³rmula" for "Fórmula"), turned back, only when doing so decodes cleanly.
pub fn repair_mojibake(s: &str) -> Option<String> {
    // The sign: a lead byte of a UTF-8 sequence (Ã, Â, â…) followed by continuation bytes.
    let looks = s.chars().zip(s.chars().skip(1)).any(|(a, b)| {
        matches!(a, '\u{c2}'..='\u{f4}')
            && (matches!(b, '\u{80}'..='\u{bf}') || cp1252_byte(b).is_some_and(|x| (0x80..=0xbf).contains(&x)))
    });
    if !looks {
        return None;
    }
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c as u32 {
            n @ 0..=0xff => bytes.push(n as u8),
            _ => bytes.push(cp1252_byte(c)?),
        }
    }
    let fixed = String::from_utf8(bytes).ok()?;
    (fixed != s).then_some(fixed)
}

/// The Windows-1252 byte of a character it has above Latin-1.
fn cp1252_byte(c: char) -> Option<u8> {
    let mut buf = [0; 4];
    let (enc, _, bad) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
    (!bad && enc.len() == 1).then(|| enc[0])
}

fn repair_mojibake_fields(e: &mut Entry) {
    for field in [&mut e.title, &mut e.author, &mut e.summary, &mut e.content] {
        if let Some(fixed) = field.as_deref().and_then(repair_mojibake) {
            *field = Some(fixed);
        }
    }
    for c in &mut e.categories {
        if let Some(fixed) = repair_mojibake(c) {
            *c = fixed;
        }
    }
}

fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// `s` when it is an absolute http(s) URL.
fn resolve_absolute(s: &str) -> Option<Url> {
    Url::parse(s.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Visible text of an HTML fragment, whitespace collapsed.
pub fn html_to_plain(html: &str) -> String {
    crate::html::fragment_text(html, &crate::html::Deadline::start(TEXT_CPU_LIMIT))
}

/// CPU time for reducing one piece of feed HTML to text (a title, a summary).
const TEXT_CPU_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

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
mod tests;
