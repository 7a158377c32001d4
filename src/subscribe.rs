//! Subscriptions in and out: `refeed import`, `add`, `remove` edit the config in place, and
//! `export` prints the published feeds as OPML.
//!
//! Edits go through `toml_edit`, so the config keeps its comments, order and layout; the
//! edited text is validated as a whole (the same check as `refeed check`) before it is
//! written, and written atomically with the file's permissions, so a failed command leaves
//! the config exactly as it was.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};
use url::Url;

use crate::config::{self, Config, ConfigError};
use crate::feed::opml::{Opml, Subscription};
use crate::fetch::{self, Access, Fetched, Kind, guard::Guard};
use crate::{feed, publish, shape, store};

/// Bytes an OPML file may have.
pub const MAX_OPML_BYTES: u64 = 32 << 20;

/// Feed URLs `refeed add` tries on a page's site when the page advertises none.
pub const COMMON_FEED_PATHS: &[&str] =
    &["/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json", "/feed.xml", "/rss", "/feeds/posts/default"];

/// Candidate feeds `refeed add` checks from one page (a page may advertise hundreds).
const MAX_CANDIDATES: usize = 2 * COMMON_FEED_PATHS.len();

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The edit would make a config that does not validate: nothing was written.
    #[error("{path}: not changed: the edited config would not be valid: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: cannot write the config: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Outside(String),
}

/// A config being edited.
pub struct ConfigEdit {
    path: PathBuf,
    doc: DocumentMut,
    /// The config as it stands (validated), for names and URLs already present.
    current: Config,
    /// Names taken, by the config or by this edit.
    names: HashSet<String>,
    /// Normalised feed URLs present, with their source's name.
    urls: HashMap<String, String>,
}

/// A new config, when `refeed add` or `import` is the first command run.
const NEW_CONFIG: &str = "# refeed configuration (see config.toml in refeed's repository for every option).\n\
[settings]\noutput_dir = \"public\"\ndatabase = \"refeed.db\"\n";

impl ConfigEdit {
    /// Opens the config at `path` (which must validate), or a new one when there is none.
    pub fn open(path: &Path) -> Result<ConfigEdit, SubscribeError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => NEW_CONFIG.to_owned(),
            Err(e) => return Err(ConfigError { path: path.to_owned(), line: None, message: e.to_string() }.into()),
        };
        let current = config::parse(&text, path)?;
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| ConfigError {
            path: path.to_owned(),
            line: None,
            message: e.message().to_owned(),
        })?;
        let names = current
            .sources
            .iter()
            .map(|s| s.name.clone())
            .chain(current.feeds.iter().map(|f| f.name.clone()))
            .collect();
        let urls = current.sources.iter().map(|s| (same_feed_key(&s.url), s.name.clone())).collect();
        Ok(ConfigEdit { path: path.to_owned(), doc, current, names, urls })
    }

    pub fn config(&self) -> &Config {
        &self.current
    }

    /// The name of the source already reading `url` (same URL after normalisation).
    pub fn present(&self, url: &Url) -> Option<&str> {
        self.urls.get(&same_feed_key(url)).map(String::as_str)
    }

    /// A name for a new source from `title` (else the URL's host): a valid slug, unique.
    pub fn new_name(&self, title: &str, url: &Url) -> String {
        let base = Some(slug(title))
            .filter(|s| !s.is_empty())
            .or_else(|| url.host_str().map(|h| slug(h.trim_start_matches("www."))))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "feed".into());
        let base = if config::check_name(&base).is_ok() { base } else { format!("{base}-feed") };
        if !self.names.contains(&base) {
            return base;
        }
        (2..).map(|n| format!("{}-{n}", cut(&base, 60))).find(|n| !self.names.contains(n)).expect("an unused number")
    }

    fn sources(&mut self) -> &mut ArrayOfTables {
        if !self.doc.contains_key("source") {
            self.doc.insert("source", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        self.doc["source"].as_array_of_tables_mut().expect("`source` is an array of tables: the config validated")
    }

    /// Appends a `[[source]]`.
    pub fn add_source(&mut self, name: &str, url: &Url, title: Option<&str>) {
        let mut table = Table::new();
        table.insert("name", value(name));
        table.insert("url", value(url.as_str()));
        if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
            table.insert("title", value(title.trim()));
        }
        self.sources().push(table);
        self.names.insert(name.to_owned());
        self.urls.insert(same_feed_key(url), name.to_owned());
    }

    /// Appends a `[[feed]]` merging `sources`.
    pub fn add_feed(&mut self, name: &str, title: &str, sources: &[String]) {
        if !self.doc.contains_key("feed") {
            self.doc.insert("feed", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        let mut table = Table::new();
        table.insert("name", value(name));
        table.insert("title", value(title));
        table.insert("sources", value(sources.iter().map(String::as_str).collect::<Array>()));
        if let Some(feeds) = self.doc["feed"].as_array_of_tables_mut() {
            feeds.push(table);
        }
        self.names.insert(name.to_owned());
    }

    /// Removes the `[[source]]` named `name`, and its name from every `[[feed]]`'s
    /// `sources` (a merged feed left with none is removed too, and named in the result).
    pub fn remove_source(&mut self, name: &str) -> Result<Vec<String>, SubscribeError> {
        let sources = self.sources();
        let Some(at) = sources.iter().position(|t| t.get("name").and_then(|n| n.as_str()) == Some(name)) else {
            let names: Vec<&str> = self.current.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(SubscribeError::Usage(format!(
                "no source named \"{name}\" in {} (sources: {})",
                self.path.display(),
                names.join(", ")
            )));
        };
        sources.remove(at);
        if sources.is_empty() {
            self.doc.remove("source");
        }
        let mut emptied = Vec::new();
        if let Some(feeds) = self.doc.get_mut("feed").and_then(Item::as_array_of_tables_mut) {
            for feed in feeds.iter_mut() {
                if let Some(list) = feed.get_mut("sources").and_then(Item::as_array_mut) {
                    list.retain(|v| v.as_str() != Some(name));
                    if list.is_empty() {
                        emptied.push(feed.get("name").and_then(|n| n.as_str()).unwrap_or("").to_owned());
                    }
                }
            }
            feeds.retain(|f| !emptied.iter().any(|n| f.get("name").and_then(|v| v.as_str()) == Some(n)));
            if feeds.is_empty() {
                self.doc.remove("feed");
            }
        }
        Ok(emptied)
    }

    /// The edited config's text.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Validates the edited config and writes it in place of the old one, atomically and with
    /// its permissions (a symlinked config is written where the link points).
    pub fn save(&self) -> Result<Config, SubscribeError> {
        let text = self.text();
        let config = config::parse(&text, &self.path)
            .map_err(|e| SubscribeError::Invalid { path: self.path.display().to_string(), message: e.to_string() })?;
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let permissions = match std::fs::metadata(&target) {
            Ok(m) => m.permissions(),
            Err(_) => new_file_permissions(),
        };
        publish::write_atomic_with(&target, text.as_bytes(), permissions)
            .map_err(|e| SubscribeError::Write { path: self.path.display().to_string(), source: e })?;
        Ok(config)
    }
}

#[cfg(unix)]
fn new_file_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn new_file_permissions() -> std::fs::Permissions {
    std::fs::metadata(".").map(|m| m.permissions()).unwrap_or_else(|_| unreachable!("the current folder exists"))
}

/// `title` as a source name: lowercase ASCII letters and digits, `-` between words.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    out.trim_matches('-').to_owned()
}

fn cut(s: &str, max: usize) -> &str {
    s.get(..max.min(s.len())).unwrap_or(s).trim_end_matches('-')
}

/// `é` -> `e`, `ß` -> `ss`: common Latin letters, so that "Café" becomes `cafe`.
fn fold_accent(c: char) -> Vec<char> {
    const FOLDS: &[(&str, &str)] = &[
        ("àáâãäåā", "a"),
        ("çćč", "c"),
        ("èéêëēę", "e"),
        ("ìíîïī", "i"),
        ("ñń", "n"),
        ("òóôõöøō", "o"),
        ("ùúûüū", "u"),
        ("ýÿ", "y"),
        ("šś", "s"),
        ("žźż", "z"),
        ("ł", "l"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("œ", "oe"),
    ];
    let lower = c.to_lowercase().next().unwrap_or(c);
    match FOLDS.iter().find(|(from, _)| from.contains(lower)) {
        Some((_, to)) => to.chars().collect(),
        None => vec![c],
    }
}

/// A feed URL as compared for "already subscribed": scheme, `www.`, default port, fragment,
/// trailing slash, letter case of the host and tracking parameters do not count.
pub fn same_feed_key(url: &Url) -> String {
    let mut key = String::new();
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    key.push_str(host.trim_start_matches("www."));
    if let Some(port) = url.port() {
        key.push_str(&format!(":{port}"));
    }
    key.push_str(url.path().trim_end_matches('/'));
    let clean = shape::without_tracking(url.as_str());
    if let Some(query) = Url::parse(&clean).ok().as_ref().and_then(Url::query) {
        key.push('?');
        key.push_str(query);
    }
    key
}

/// What `refeed import` adds (or would add).
#[derive(Debug, Default)]
pub struct Import {
    /// (name, title, URL) of each new source.
    pub added: Vec<(String, String, Url)>,
    /// (title, URL, name of the source already reading it).
    pub present: Vec<(String, Url, String)>,
    /// Outlines that could not be read.
    pub skipped: Vec<String>,
    /// (name, title, sources) of each merged feed made from a folder.
    pub feeds: Vec<(String, String, Vec<String>)>,
}

/// Adds `opml`'s feeds to `edit` as sources (and, with `folders_as_feeds`, one merged feed per
/// top-level folder). Each feed is looked at once: linear in the outlines.
pub fn import(edit: &mut ConfigEdit, opml: &Opml, folders_as_feeds: bool) -> Import {
    let mut import = Import { skipped: opml.skipped.clone(), ..Import::default() };
    let mut folders: Vec<(String, Vec<String>)> = Vec::new();
    for Subscription { title, xml_url, folders: path, .. } in &opml.subscriptions {
        let name = match edit.present(xml_url) {
            Some(existing) => {
                let existing = existing.to_owned();
                import.present.push((title.clone(), xml_url.clone(), existing.clone()));
                existing
            }
            None => {
                let name = edit.new_name(title, xml_url);
                edit.add_source(&name, xml_url, Some(title).filter(|t| !t.is_empty()).map(String::as_str));
                import.added.push((name.clone(), title.clone(), xml_url.clone()));
                name
            }
        };
        if let (true, Some(top)) = (folders_as_feeds, path.first()) {
            match folders.iter_mut().find(|(f, _)| f == top) {
                Some((_, names)) if !names.contains(&name) => names.push(name),
                Some(_) => {}
                None => folders.push((top.clone(), vec![name])),
            }
        }
    }
    for (folder, names) in folders {
        let url = Url::parse("https://folder.invalid/").expect("static");
        let name = edit.new_name(&folder, &url);
        edit.add_feed(&name, &folder, &names);
        import.feeds.push((name, folder, names));
    }
    import
}

/// Reads an OPML file from disk, within [`MAX_OPML_BYTES`].
pub fn read_opml(path: &Path) -> Result<Opml, SubscribeError> {
    let shown = path.display();
    let outside = |m: String| SubscribeError::Outside(format!("{shown}: {m}"));
    let file = std::fs::File::open(path).map_err(|e| outside(e.to_string()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_OPML_BYTES + 1), &mut bytes)
        .map_err(|e| outside(e.to_string()))?;
    if bytes.len() as u64 > MAX_OPML_BYTES {
        return Err(outside(format!("larger than {} MiB: not a subscription list", MAX_OPML_BYTES >> 20)));
    }
    let text = fetch::charset::decode_feed(&bytes, None).text;
    let deadline = crate::html::Deadline::start(std::time::Duration::from_secs(30));
    crate::feed::opml::parse(&text, &deadline).map_err(|e| outside(e.to_string()))
}

/// A feed `refeed add` found.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub url: Url,
    pub title: Option<String>,
    pub entries: usize,
}

/// The feeds at `url`: itself when it is a feed; else those the page advertises
/// (`<link rel="alternate">`), else those at [`COMMON_FEED_PATHS`] beside the page and at
/// its site's root. Each is
/// fetched and parsed, so every candidate is a feed refeed reads.
pub async fn discover(fetcher: &fetch::Fetcher, url: &Url, guard: &Guard) -> Result<Vec<Candidate>, SubscribeError> {
    let outside = |u: &Url, e: &dyn std::fmt::Display| SubscribeError::Outside(format!("{u}: {e}"));
    let body = match fetcher.get(url, Kind::Feed, None, Access::Trusted).await.map_err(|e| outside(url, &e))? {
        Fetched::Body(body) => body,
        Fetched::NotModified { .. } => return Err(outside(url, &"the origin answered 304 to a plain request")),
    };
    if let Ok(feed) = feed::parse_feed(&body.bytes, body.content_type.as_deref(), &body.url, feed::Limits::default())
        && (feed.items_found > 0 || feed.title.is_some())
    {
        return Ok(vec![Candidate { url: body.url.clone(), title: feed.title, entries: feed.entries.len() }]);
    }
    let html = fetch::charset::decode_html(&body.bytes, body.content_type.as_deref()).text;
    let mut tried = HashSet::new();
    let mut found = Vec::new();
    let advertised = feed::discover_feed_links(&html, &body.url);
    // Beside the page (a blog under /blog/ has /blog/feed), then at the site's root.
    let common: Vec<Url> = COMMON_FEED_PATHS
        .iter()
        .filter_map(|p| body.url.join(p.trim_start_matches('/')).ok())
        .chain(COMMON_FEED_PATHS.iter().filter_map(|p| body.url.join(p).ok()))
        .collect();
    for list in [advertised, common] {
        for candidate in list.into_iter().take(MAX_CANDIDATES) {
            if !tried.insert(same_feed_key(&candidate)) {
                continue;
            }
            // The site's own host is trusted as the typed URL is; links elsewhere are guarded.
            let access = if candidate.origin() == url.origin() { Access::Trusted } else { Access::Guarded(guard) };
            let Ok(Fetched::Body(b)) = fetcher.get(&candidate, Kind::Feed, None, access).await else { continue };
            if let Ok(feed) = feed::parse_feed(&b.bytes, b.content_type.as_deref(), &b.url, feed::Limits::default())
                && feed.items_found > 0
            {
                found.push(Candidate { url: b.url.clone(), title: feed.title, entries: feed.entries.len() });
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    Ok(found)
}

/// The OPML of the published feeds, sources' and merged (what `index.opml` holds); with
/// `origins`, of every source's own feed URL instead (to move the subscriptions elsewhere).
pub fn export(config: &Config, origins: bool) -> Result<String, SubscribeError> {
    let store =
        store::Store::open_read_only(&config.settings.database).map_err(|e| SubscribeError::Outside(e.to_string()))?;
    let settings = &config.settings;
    let rss = publish::Format::Rss;
    let published = |name: &str| rss.path(&settings.output_dir, name).exists();
    let public_url = |name: &str| {
        let file = format!("{name}.{}", rss.ext());
        settings.base_url.as_ref().and_then(|b| b.join(&file).ok()).map_or(file, String::from)
    };
    let mut lines = Vec::new();
    for source in config.sources.iter().filter(|s| origins || published(&s.name)) {
        let state = match &store {
            Some(store) => store.source_state(&source.name).map_err(|e| SubscribeError::Outside(e.to_string()))?,
            None => store::SourceState::default(),
        };
        lines.push(publish::OpmlSource {
            name: source.name.clone(),
            title: source.title.clone().or(state.title).unwrap_or_else(|| source.name.clone()),
            site_url: state.site_url,
            feed_url: if origins { source.url.to_string() } else { public_url(&source.name) },
        });
    }
    for feed in config.feeds.iter().filter(|f| !origins && published(&f.name)) {
        lines.push(publish::OpmlSource {
            name: feed.name.clone(),
            title: feed.title.clone().unwrap_or_else(|| feed.name.clone()),
            site_url: None,
            feed_url: public_url(&feed.name),
        });
    }
    Ok(publish::to_opml(&lines, chrono::Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_names() {
        assert_eq!(slug("Café & Code — Weekly!"), "cafe-code-weekly");
        assert_eq!(slug("  ***  "), "");
        assert_eq!(slug("日本語のブログ"), "");
        assert_eq!(slug(&"word ".repeat(40)).len(), 48);
        assert!(config::check_name(&slug("Straße Ærø Œuvre")).is_ok(), "{}", slug("Straße Ærø Œuvre"));
    }

    #[test]
    fn same_feed_ignores_what_does_not_name_another_feed() {
        let key = |s: &str| same_feed_key(&Url::parse(s).unwrap());
        assert_eq!(key("https://www.Example.org/feed/?utm_source=x#top"), key("http://example.org/feed"));
        assert_eq!(key("http://example.org:80/feed"), key("https://example.org/feed"));
        assert_ne!(key("https://example.org/feed?cat=2"), key("https://example.org/feed"));
        assert_ne!(key("https://example.org:8080/feed"), key("https://example.org/feed"));
    }
}
