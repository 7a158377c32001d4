//! Our model -> RSS 2.0, Atom, JSON Feed 1.1 and OPML, written atomically.
//!
//! Output is built only from refeed's own [`OutFeed`] (never by passing foreign elements
//! through), with XML-forbidden characters already stripped, so every file we write is
//! well-formed whatever the origin sent.

mod atom;
mod json;
mod rss;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::feed::Enclosure;
use crate::sanitize::strip_forbidden_chars;

pub use self::atom::to_atom;
pub use self::json::to_json_feed;
pub use self::rss::to_rss;

/// A feed ready to publish: normalized, sanitized, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFeed {
    pub name: String,
    pub title: String,
    pub site_url: Option<String>,
    pub description: Option<String>,
    /// The public URL of this feed with `{ext}` in place of the format's extension (`xml`,
    /// `atom`, `json`), when known; each format links to itself with it.
    pub self_template: Option<String>,
    pub updated: DateTime<Utc>,
    pub items: Vec<OutItem>,
    /// What was left out to keep the feed within its size limits (see [`OutFeed::fit`]).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutItem {
    pub guid: String,
    pub url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    /// The entry's date, or the time refeed first saw it.
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    /// Sanitized HTML with absolute URLs.
    pub html: String,
    /// Plain-text summary (a few sentences).
    pub summary: String,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
    /// In a merged feed, the source the entry came from.
    pub source: Option<ItemSource>,
    /// The language of the article's page, when the item carries the article.
    pub language: Option<String>,
}

/// `lang` as a well-formed language tag (`en`, `en-GB`, `zh-Hant-TW`: letters, then
/// hyphen-separated parts of letters and digits, at most 35 characters), else `None`.
pub fn language_tag(lang: &str) -> Option<String> {
    let lang = lang.trim().replace('_', "-");
    let mut parts = lang.split('-');
    let first = parts.next()?;
    let ok = (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && lang.len() <= 35;
    ok.then_some(lang)
}

/// The source of an entry in a merged feed: its title and its origin feed's URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSource {
    pub title: String,
    pub url: String,
}

/// A merged feed: the items of `parts` (each a source's feed, with its origin feed URL),
/// newest first, each story once: an item whose link (tracking parameters aside) or whose
/// title (case, punctuation and a trailing " - Site" / " | Site" aside) was already taken
/// from a newer item is left out. At most `limit` items. Linear in the items (hashed keys,
/// no pairwise comparison).
pub fn merge(
    name: &str,
    title: &str,
    self_template: Option<String>,
    parts: Vec<(OutFeed, String)>,
    limit: usize,
) -> OutFeed {
    let mut items: Vec<OutItem> = Vec::new();
    for (feed, url) in parts {
        let source = ItemSource { title: feed.title.clone(), url };
        items.extend(feed.items.into_iter().map(|mut it| {
            it.source = Some(source.clone());
            it
        }));
    }
    // Newest first; the same date keeps the config's order of sources.
    items.sort_by_key(|it| std::cmp::Reverse(it.published));
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut kept = Vec::new();
    for it in items {
        let keys = story_keys(&it);
        if keys.iter().any(|k| seen.contains(k)) {
            continue;
        }
        seen.extend(keys);
        kept.push(it);
        if kept.len() >= limit {
            break;
        }
    }
    OutFeed {
        name: name.to_owned(),
        title: title.to_owned(),
        site_url: None,
        description: None,
        self_template,
        updated: kept
            .iter()
            .map(|i| i.updated.unwrap_or(i.published).max(i.published))
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        items: kept,
        notes: Vec::new(),
    }
}

/// What makes two items of a merged feed the same story: the guid, the canonical link, and
/// the title's words (with and without a trailing site name).
fn story_keys(it: &OutItem) -> Vec<String> {
    let mut keys = vec![format!("id:{}", it.guid)];
    if let Some(url) = it.url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
        let clean = crate::shape::without_tracking(url.as_str());
        let clean = clean.split('#').next().unwrap_or(&clean).trim_end_matches('/');
        let clean = clean.strip_prefix("https://").or_else(|| clean.strip_prefix("http://")).unwrap_or(clean);
        keys.push(format!("url:{}", clean.strip_prefix("www.").unwrap_or(clean)));
    }
    let words = |s: &str| -> String {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let title = words(&it.title);
    if title.split(' ').count() >= 3 {
        keys.push(format!("title:{title}"));
        // "Story - Site" and "Story | Site": the story without the site's name.
        if let Some((head, tail)) = it.title.rsplit_once(['|', '–', '—']).or_else(|| it.title.rsplit_once(" - "))
            && tail.split_whitespace().count() <= 4
            && words(head).split(' ').count() >= 3
        {
            keys.push(format!("title:{}", words(head)));
        }
    }
    keys
}

/// How much of the entries' HTML is published (`max_entry_size`, `max_published_size`).
#[derive(Debug, Clone, Copy)]
pub struct SizeLimits {
    /// The HTML of one entry.
    pub entry: usize,
    /// The HTML of all the entries of one feed, together (each file is that plus titles,
    /// summaries and markup).
    pub feed: usize,
}

impl OutFeed {
    /// Keeps the feed within `limits`: an entry's HTML past `limits.entry` is cut at a tag
    /// and ends with a link to the original; once the entries together pass `limits.feed`,
    /// the older ones are published with their summary only. Returns what was cut, for the
    /// run report (a reader would otherwise get a 156 MB feed from 40 legal 3.9 MiB pages).
    pub fn fit(&mut self, limits: SizeLimits) -> &[String] {
        let notes = &mut self.notes;
        let mut cut = 0;
        let mut total = 0usize;
        let mut summarized = 0;
        for item in self.items.iter_mut() {
            if total + item.html.len().min(limits.entry) > limits.feed {
                item.html = summary_only(item);
                summarized += 1;
            } else if item.html.len() > limits.entry {
                item.html = cut_html(&item.html, limits.entry, item.url.as_deref());
                cut += 1;
            }
            total += item.html.len();
        }
        if cut > 0 {
            notes.push(format!(
                "{cut} entr{} longer than max_entry_size ({}) published cut, with a link to the original",
                if cut == 1 { "y" } else { "ies" },
                crate::fetch::human_size(limits.entry as u64)
            ));
        }
        if summarized > 0 {
            notes.push(format!(
                "the feed's entries together pass max_published_size ({}): the {summarized} oldest published with their summary only",
                crate::fetch::human_size(limits.feed as u64)
            ));
        }
        &self.notes
    }

    /// The public URL of this feed in `format`, when a base URL is known.
    pub fn self_url(&self, format: Format) -> Option<String> {
        self.self_template.as_ref().map(|t| t.replace("{ext}", format.ext()))
    }

    /// The `self_template` of feed `name` served as `<folder><name>.<ext>`.
    pub fn template_in(folder: &str, name: &str) -> String {
        format!("{folder}{name}.{{ext}}")
    }
}

/// `html` cut to at most about `max` bytes at a tag boundary (open elements closed by the
/// sanitizer), with a line pointing to the original.
fn cut_html(html: &str, max: usize, url: Option<&str>) -> String {
    let mut end = max.min(html.len());
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    // Never in the middle of a tag.
    if let Some(lt) = html[..end].rfind('<')
        && !html[lt..end].contains('>')
    {
        end = lt;
    }
    let kept = crate::sanitize::clean_html(&html[..end], None);
    format!("{kept}{}", more_at(url, "This article is longer than refeed publishes in a feed"))
}

/// An entry reduced to its summary and a link.
fn summary_only(item: &OutItem) -> String {
    format!(
        "<p>{}</p>{}",
        crate::sanitize::escape(&item.summary),
        more_at(item.url.as_deref(), "The full text is left out to keep this feed small")
    )
}

fn more_at(url: Option<&str>, why: &str) -> String {
    let mut out = format!("<p><em>[{why}");
    if let Some(url) = url {
        out.push_str(&format!(
            ": read it at <a href=\"{}\" rel=\"noopener noreferrer\">the original</a>",
            crate::sanitize::escape(url)
        ));
    }
    out.push_str(".]</em></p>");
    out
}

/// Media RSS, for an entry's picture in RSS and Atom (`<media:thumbnail url="…"/>`), which
/// readers show beside the entry and podcast apps do not offer as a download.
pub(crate) const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// Characters XML 1.0 forbids, removed from a string bound for output.
pub(crate) fn xml_text(s: &str) -> String {
    strip_forbidden_chars(s).into_owned()
}

/// Plain-text summary of at most about `max` characters, cut at a word boundary.
pub fn summarize(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(pos) if pos > max / 2 => &cut[..pos],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees either the old file or the new
/// one, never a mix: temp file in the same folder, fsync, rename, fsync the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_all_atomic(&[(path, bytes)])
}

/// Several files replaced together: every new file is written and synced before the first
/// rename, so running out of disk space or quota leaves all the old files in place.
pub fn write_all_atomic(files: &[(&Path, &[u8])]) -> std::io::Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        staged.push((stage(path, bytes, None, true)?, *path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| e.error)?;
        sync_parent(path);
    }
    Ok(())
}

/// Replaces `path` atomically and durably with `bytes`, giving the new file `permissions`
/// (a config keeps its own mode).
pub fn write_atomic_with(path: &Path, bytes: &[u8], permissions: fs::Permissions) -> std::io::Result<()> {
    stage(path, bytes, Some(permissions), true)?.persist(path).map_err(|e| e.error)?;
    sync_parent(path);
    Ok(())
}

/// Replaces `path` atomically (temp file, rename) without waiting for the disk: for many
/// derived files written in a row (`extract --batch`), made durable together afterwards with
/// [`sync_folder`]. A reader still sees the old file or the new one, never a mix.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    stage(path, bytes, None, false)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A temp file beside `path` holding `bytes`, ready to be renamed over it: readable by all
/// unless `permissions` say otherwise (temp files are created private, and published feeds
/// are meant to be served), synced to disk when `sync`.
fn stage(
    path: &Path,
    bytes: &[u8],
    permissions: Option<fs::Permissions>,
    sync: bool,
) -> std::io::Result<tempfile::NamedTempFile> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{file_name}."))
        .suffix(".tmp")
        .tempfile_in(folder_of(path))?;
    tmp.write_all(bytes)?;
    match permissions {
        Some(p) => tmp.as_file().set_permissions(p)?,
        #[cfg(unix)]
        None => {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file().set_permissions(fs::Permissions::from_mode(0o644))?;
        }
        #[cfg(not(unix))]
        None => {}
    }
    if sync {
        tmp.as_file().sync_all()?;
    }
    Ok(tmp)
}

/// Makes a rename in `path`'s folder durable (best effort: not every file system can).
fn sync_parent(path: &Path) {
    if let Ok(d) = fs::File::open(folder_of(path)) {
        let _ = d.sync_all();
    }
}

/// Makes everything written in `dir`'s file system durable at once (one `syncfs`, not one
/// fsync per file).
pub fn sync_folder(dir: &Path) -> std::io::Result<()> {
    let folder = fs::File::open(dir)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor for the call's duration.
        if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    folder.sync_all()
}

/// Every temp file refeed writes starts with this, so that the sweep never touches another
/// program's files in a shared folder.
const TEMP_PREFIX: &str = ".refeed-";

/// Removes refeed's own temp files left behind by a run that was killed mid-write.
pub fn sweep_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The formats refeed publishes: the one place where a format's file extension, media type
/// and writer meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The extension of its file (`<name>.xml`, `.atom`, `.json`).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "xml",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    /// Its media type (for links and `type=` attributes).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// Its `Content-Type`, as served.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The name people know it by, short (`RSS`, `Atom`, `JSON`) and long (`JSON Feed`).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Format::Rss => ("RSS", "RSS"),
            Format::Atom => ("Atom", "Atom"),
            Format::Json => ("JSON", "JSON Feed"),
        }
    }

    /// The format of an extension or a `format=` value (`rss` is RSS too).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "xml" | "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn render(self, feed: &OutFeed) -> String {
        match self {
            Format::Rss => to_rss(feed),
            Format::Atom => to_atom(feed),
            Format::Json => to_json_feed(feed),
        }
    }

    /// The file of feed `name` in `dir`.
    pub fn path(self, dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.{}", self.ext()))
    }
}

/// One feed rendered in every format, in the order of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    docs: [String; 3],
}

impl Rendered {
    pub fn of(feed: &OutFeed) -> Rendered {
        Rendered { docs: Format::ALL.map(|f| f.render(feed)) }
    }

    pub fn get(&self, format: Format) -> &str {
        &self.docs[format as usize]
    }

    /// Each format with its document.
    pub fn iter(&self) -> impl Iterator<Item = (Format, &str)> {
        Format::ALL.into_iter().map(|f| (f, self.get(f)))
    }

    pub fn into_docs(self) -> impl Iterator<Item = (Format, String)> {
        Format::ALL.into_iter().zip(self.docs)
    }
}

/// Writes the three rendered files of feed `name` into `dir`, replacing all or none. Files
/// whose bytes are already these are left alone: no write, no fsync, and the modification
/// time a static web server derives its validators from stays.
pub fn write_rendered(dir: &Path, name: &str, r: &Rendered) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let files: Vec<(PathBuf, &[u8])> = r.iter().map(|(f, doc)| (f.path(dir, name), doc.as_bytes())).collect();
    let changed: Vec<(&Path, &[u8])> = files
        .iter()
        .filter(|(path, bytes)| fs::read(path).map_or(true, |old| old != *bytes))
        .map(|(path, bytes)| (path.as_path(), *bytes))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    write_all_atomic(&changed)
}

/// One line of the OPML index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlSource {
    pub name: String,
    pub title: String,
    pub site_url: Option<String>,
    /// Absolute when a base URL is known, else the file name next to the OPML.
    pub feed_url: String,
}

fn xml_escape(s: &str) -> String {
    crate::sanitize::escape(&xml_text(s))
}

/// An OPML 2.0 subscription list of all sources.
pub fn to_opml(sources: &[OpmlSource], now: DateTime<Utc>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str("    <title>refeed</title>\n");
    out.push_str(&format!("    <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n", crate::dates::rfc2822(now)));
    for s in sources {
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{u}\"",
            t = xml_escape(&s.title),
            u = xml_escape(&s.feed_url)
        ));
        if let Some(site) = &s.site_url {
            out.push_str(&format!(" htmlUrl=\"{}\"", xml_escape(site)));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub fn sample() -> OutFeed {
        OutFeed {
            name: "news".into(),
            title: "News & \u{1}Views".into(),
            site_url: Some("https://news.example/".into()),
            description: Some("All the news".into()),
            self_template: None,
            updated: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
            items: vec![
                OutItem {
                    guid: "https://news.example/a".into(),
                    url: Some("https://news.example/a".into()),
                    title: "First <story>".into(),
                    author: Some("Ann Writer".into()),
                    published: Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 0).unwrap(),
                    updated: None,
                    html: "<p>Hello <a href=\"https://news.example/x\">world</a>.</p>".into(),
                    summary: "Hello world.".into(),
                    categories: vec!["World".into(), "Politics".into()],
                    enclosures: vec![Enclosure {
                        url: "https://news.example/a.mp3".into(),
                        mime_type: Some("audio/mpeg".into()),
                        length: Some(1234),
                    }],
                    image: Some("https://news.example/lead.jpg".into()),
                    source: None,
                    language: Some("en-GB".into()),
                },
                OutItem {
                    guid: "id-2".into(),
                    url: None,
                    title: "Second".into(),
                    author: None,
                    published: Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap(),
                    updated: Some(Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap()),
                    html: "<p>Two</p>".into(),
                    summary: "Two".into(),
                    categories: vec![],
                    enclosures: vec![],
                    image: None,
                    source: None,
                    language: None,
                },
            ],
            notes: Vec::new(),
        }
    }

    #[test]
    fn every_format_reads_back_with_feed_rs() {
        let feed = sample();
        for (format, doc) in Rendered::of(&feed).into_docs() {
            let name = format.ext();
            let parsed = feed_rs::parser::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}\n{doc}"));
            assert_eq!(parsed.title.unwrap().content, "News & Views", "{name}");
            assert_eq!(parsed.entries.len(), 2, "{name}");
            let first = &parsed.entries[0];
            assert_eq!(first.id, "https://news.example/a", "{name}");
            // RSS titles are read as HTML by most readers (feed-rs leaves that step to them).
            let title = if format == Format::Rss { "First &lt;story&gt;" } else { "First <story>" };
            assert_eq!(first.title.as_ref().unwrap().content, title, "{name}");
            assert_eq!(first.published.unwrap().to_rfc3339(), "2026-11-27T09:30:00+00:00", "{name}");
            assert_eq!(first.authors[0].name.as_deref(), Some("Ann Writer"), "{name}");
            let body = first.content.as_ref().and_then(|c| c.body.clone()).unwrap();
            assert_eq!(body, "<p>Hello <a href=\"https://news.example/x\">world</a>.</p>", "{name}");
            let mut cats: Vec<&str> = first.categories.iter().map(|c| c.term.as_str()).collect();
            cats.sort();
            assert_eq!(cats, vec!["Politics", "World"], "{name}");
            // Atom ids must be IRIs, so a plain GUID is turned into a stable urn there.
            // The entry's picture is its image (media:thumbnail, JSON image), not an attachment:
            // refeed's own reader finds it where it put it.
            let base = url::Url::parse("https://news.example/feed").unwrap();
            let ours = crate::feed::parse_feed(doc.as_bytes(), None, &base, crate::feed::Limits::default()).unwrap();
            assert_eq!(ours.entries[0].image.as_deref(), Some("https://news.example/lead.jpg"), "{name}");
            assert_eq!(ours.entries[0].enclosures.len(), 1, "{name}");
            let second = if format == Format::Atom {
                format!("urn:refeed:news:{:016x}", crate::feed::fnv1a(b"id-2"))
            } else {
                "id-2".into()
            };
            assert_eq!(parsed.entries[1].id, second, "{name}");
        }
    }

    #[test]
    fn plain_text_that_shows_markup_stays_text_in_rss() {
        let mut feed = sample();
        feed.items[0].summary = "Shown as code: <img src=x onerror=alert(1)> and ]]> too".into();
        feed.items[1].title = "Fish & Chips".into();
        let rss = to_rss(&feed);
        let parsed = feed_rs::parser::parse(rss.as_bytes()).unwrap();
        // The description is HTML to a reader: the text arrives escaped, whole.
        assert_eq!(
            parsed.entries[0].summary.as_ref().unwrap().content,
            "Shown as code: &lt;img src=x onerror=alert(1)&gt; and ]]&gt; too"
        );
        assert_eq!(parsed.entries[1].title.as_ref().unwrap().content, "Fish & Chips", "plain text left alone");
    }

    #[test]
    fn entries_and_feeds_over_their_size_are_cut_and_say_so() {
        let mut feed = sample();
        let paragraph = "<p>".to_string() + &"word ".repeat(40) + "</p>";
        feed.items[0].html = paragraph.repeat(100);
        feed.items[1].html = paragraph.repeat(10);
        let notes = feed.fit(SizeLimits { entry: 1000, feed: 1500 }).to_vec();
        let first = &feed.items[0].html;
        assert!(first.len() < 1400, "{}", first.len());
        assert!(first.starts_with("<p>word word"), "{first}");
        assert!(
            first.ends_with("<p><em>[This article is longer than refeed publishes in a feed: read it at <a href=\"https://news.example/a\" rel=\"noopener noreferrer\">the original</a>.]</em></p>"),
            "{first}"
        );
        assert_eq!(crate::sanitize::clean_html(first, None), *first, "balanced, sanitized HTML");
        assert_eq!(
            feed.items[1].html,
            "<p>Two</p><p><em>[The full text is left out to keep this feed small.]</em></p>"
        );
        assert_eq!(
            notes,
            [
                "1 entry longer than max_entry_size (1000 bytes) published cut, with a link to the original",
                "the feed's entries together pass max_published_size (1.5 KiB): the 1 oldest published with their summary only"
            ]
        );
    }

    #[test]
    fn json_items_carry_their_language_when_well_formed() {
        let json: serde_json::Value = serde_json::from_str(&json::to_json_feed(&sample())).unwrap();
        assert_eq!(json["items"][0]["language"], "en-GB");
        assert!(json["items"][1].get("language").is_none());
        assert_eq!(language_tag(" en_GB "), Some("en-GB".into()));
        assert_eq!(language_tag("zh-Hant-TW"), Some("zh-Hant-TW".into()));
        for bad in ["", "en GB", "<script>", "en--GB", "toolongpart-x", &"a-".repeat(20)] {
            assert_eq!(language_tag(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn summary_is_cut_at_a_word() {
        assert_eq!(summarize("one two three four five", 12), "one two…");
        assert_eq!(summarize("short", 12), "short");
    }

    #[test]
    fn atomic_write_replaces_and_sweep_cleans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.xml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        }
        fs::write(dir.path().join(".refeed-f.xml.abc.tmp"), b"partial").unwrap();
        // Another program's hidden temp file in a shared folder is not ours to delete.
        fs::write(dir.path().join(".editor-swap.tmp"), b"someone else's").unwrap();
        sweep_temp_files(dir.path());
        let mut names: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, vec![".editor-swap.tmp".to_string(), "f.xml".to_string()]);
    }
}
