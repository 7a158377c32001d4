//! `config.toml` -> a validated [`Config`].
//!
//! Every error names the file and, where the TOML parser or a field span can tell, the line:
//! `config.toml:12: source "news": url: relative URL without a base`. Validation is complete
//! before any network work starts, so a bad line never costs a half-done run.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::{extract, shape};

/// A config problem, with the line it sits on when one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Whole-run settings (`[settings]`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where feeds are written; relative paths are taken from the config file's folder.
    pub output_dir: PathBuf,
    /// The state: a SQLite file (relative paths are taken from the config file's folder) or
    /// a `postgres://` URL shared by several refeed processes. `$REFEED_DATABASE` overrides.
    pub database: Database,
    pub user_agent: String,
    /// Total time budget for one HTTP request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Pause between two requests to the same host.
    pub host_delay: Duration,
    pub max_page_bytes: u64,
    pub max_feed_bytes: u64,
    /// The HTML of one published entry; longer articles are cut, with a link to the original.
    pub max_entry_size: u64,
    /// The HTML of all the entries of one published feed; past it, older entries are
    /// published with their summary only.
    pub max_published_size: u64,
    pub max_redirects: usize,
    /// CPU time one page or one feed may take to parse (and extract); past it, it has failed.
    pub cpu_limit: Duration,
    /// Time one source's refresh may take in all (feed and articles); past it, what is done
    /// is published and the rest waits for the next run.
    pub source_budget: Duration,
    /// Failed article fetches are retried on later runs up to this many attempts in all.
    pub article_attempts: u32,
    /// Public URL of the output folder (ending in `/`), used for self links and the OPML.
    pub base_url: Option<Url>,
    /// Entries kept from one feed when the source sets no `max_items`: a feed listing
    /// 100,000 entries must not mean 100,000 article fetches.
    pub max_entries: usize,
    /// `refeed serve`: address to listen on.
    pub listen: String,
    /// `refeed serve`: how often a source is refreshed unless it sets its own `refresh`.
    pub refresh: Duration,
    /// `refeed serve`: whether `/feed?url=` makes a full-text feed of any feed URL.
    pub allow_any_url: bool,
    /// `refeed serve`: when set, `/feed?url=` needs `&token=` with this value.
    pub any_url_token: Option<String>,
    /// `refeed serve`: requests `/feed?url=` may send to origins per client (address, or
    /// IPv6 /64) and minute; a feed of 15 entries costs 16.
    pub any_url_per_minute: u32,
    /// `refeed serve`: entries of a feed fetched for `/feed?url=` (the newest).
    pub any_url_max_items: usize,
    /// `refeed serve`: pages of a multi-page story fetched for `/feed?url=`.
    pub any_url_max_pages: usize,
    /// `host` or `host:port` on a private address that links inside feeds and `/feed?url=`
    /// may reach anyway (an intranet); everything else private is refused.
    pub allow_private_hosts: Vec<String>,
    /// `refeed serve`: open connections at once, in all (also bounded by the descriptor limit).
    pub max_connections: usize,
    /// PostgreSQL: connections a process keeps for its store work (its pool); SQLite uses one.
    pub database_connections: usize,
    /// `refeed serve`: open connections at once from one client address (an IPv6 /64).
    pub max_connections_per_client: usize,
    /// `refeed serve`: also accept HTTP/2 without TLS (by prior knowledge).
    pub h2c: bool,
    /// `refeed serve`: time a client has to send a request's headers, and how long an idle
    /// keep-alive connection stays open.
    pub client_timeout: Duration,
    /// Keep tracking parameters (`utm_*`, `fbclid`…) in entry links; sources may say otherwise.
    pub keep_tracking: bool,
    /// Folder of site rules in refeed's TOML format (`<host>.toml`).
    pub rules: Option<PathBuf>,
    /// Folder of site rules in Full-Text RSS's ftr-site-config format (`<host>.txt`).
    pub ftr_rules: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            output_dir: PathBuf::from("public"),
            database: Database::Sqlite(PathBuf::from("refeed.db")),
            user_agent: default_user_agent(),
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            concurrency: 8,
            per_host_concurrency: 2,
            host_delay: Duration::ZERO,
            max_page_bytes: 10 * 1024 * 1024,
            max_feed_bytes: 20 * 1024 * 1024,
            max_entry_size: 1024 * 1024,
            max_published_size: 10 * 1024 * 1024,
            max_redirects: 10,
            cpu_limit: crate::html::DEFAULT_CPU_LIMIT,
            source_budget: Duration::from_secs(300),
            article_attempts: 3,
            base_url: None,
            max_entries: 1000,
            listen: "127.0.0.1:8080".into(),
            refresh: Duration::from_secs(30 * 60),
            allow_any_url: false,
            any_url_token: None,
            any_url_per_minute: 60,
            any_url_max_items: 15,
            any_url_max_pages: 1,
            allow_private_hosts: Vec::new(),
            max_connections: 1024,
            database_connections: 4,
            max_connections_per_client: 64,
            h2c: false,
            client_timeout: Duration::from_secs(15),
            keep_tracking: false,
            rules: None,
            ftr_rules: None,
        }
    }
}

pub fn default_user_agent() -> String {
    format!("refeed/{} (full-text feed generator; +https://github.com/refeed/refeed)", env!("CARGO_PKG_VERSION"))
}

/// One `[[source]]`.
#[derive(Debug, Clone)]
pub struct Source {
    /// Slug used for file names: `[a-z0-9-]+`.
    pub name: String,
    pub url: Url,
    pub title: Option<String>,
    /// Fetch and extract the article behind every entry (default true).
    pub full_text: bool,
    /// Publish at most this many entries, newest first (default: all the origin lists).
    pub max_items: Option<usize>,
    /// How this source's pages are extracted (`content`, `remove`, `captions`, `max_pages`,
    /// and `settings.cpu_limit`).
    pub extract: extract::Options,
    /// `refeed serve`: how often to refresh this source (default `settings.refresh`).
    pub refresh: Option<Duration>,
    /// `host` or `host:port` on a private address that this source's article links may
    /// reach, besides `settings.allow_private_hosts` and the feed's own host and port.
    pub allow_private_hosts: Vec<String>,
    /// What is done to the entries before they are stored: filters, rewrites, tracking
    /// parameters.
    pub shaping: Shaping,
    /// History: entries the origin no longer lists stay published this long after refeed
    /// first saw them (with `max_items` alone: the newest `max_items`, listed or not).
    pub keep: Option<Duration>,
    /// A web page read as a feed by these selectors (`page = "…"` instead of `url`; the
    /// page's URL is then `url`).
    pub page: Option<ItemSelectors>,
}

impl Source {
    /// Whether the published feed keeps entries the origin dropped.
    pub fn keeps_history(&self) -> bool {
        self.keep.is_some() || self.max_items.is_some()
    }
}

/// A page source's selectors (`items`, and `item = { … }`): each a CSS selector, matched
/// inside one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSelectors {
    pub items: String,
    /// Default: the item's first heading, else its first link.
    pub title: Option<String>,
    /// Default: the first `a[href]` inside the title, else inside the item (or the item
    /// itself when it is a link).
    pub link: Option<String>,
    /// Default: the first `time` element. Its `datetime` attribute is read first, then its
    /// text.
    pub date: Option<String>,
    /// A chrono format such as `%d %B %Y` for dates that are not RFC 822 / ISO 8601.
    pub date_format: Option<String>,
    pub summary: Option<String>,
    pub author: Option<String>,
}

/// A source's `include`, `exclude`, `rewrite` and `keep_tracking`.
#[derive(Debug, Clone, Default)]
pub struct Shaping {
    pub filters: shape::Filters,
    pub rewrites: Vec<shape::Rewrite>,
    /// Keep `utm_*`, `fbclid`… in entry links (default: taken out).
    pub keep_tracking: bool,
}

impl Source {
    /// A source that is not in the config (`refeed serve`'s `/feed?url=`), with the defaults.
    pub fn adhoc(name: &str, url: Url) -> Source {
        Source {
            name: name.to_owned(),
            url,
            title: None,
            full_text: true,
            max_items: None,
            extract: extract::Options::default(),
            refresh: None,
            allow_private_hosts: Vec::new(),
            shaping: Shaping::default(),
            keep: None,
            page: None,
        }
    }

    /// How often `refeed serve` refreshes this source.
    pub fn refresh_every(&self, settings: &Settings) -> Duration {
        self.refresh.unwrap_or(settings.refresh)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub settings: Settings,
    pub sources: Vec<Source>,
    /// `[[feed]]`: feeds merged from several sources.
    pub feeds: Vec<MergedFeed>,
}

/// One `[[feed]]`: the entries of several sources as one feed, newest first, without
/// duplicates.
#[derive(Debug, Clone)]
pub struct MergedFeed {
    /// Slug used for file names, unique among sources and feeds.
    pub name: String,
    pub title: Option<String>,
    /// Names of configured sources.
    pub sources: Vec<String>,
    /// Publish at most this many entries (default `settings.max_entries`).
    pub max_items: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    settings: Option<Spanned<RawSettings>>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    feed: Vec<Spanned<RawFeed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    title: Option<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    max_items: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    output_dir: Option<String>,
    database: Option<String>,
    user_agent: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host_concurrency: Option<Spanned<i64>>,
    host_delay: Option<Spanned<String>>,
    max_page_size: Option<Spanned<String>>,
    max_feed_size: Option<Spanned<String>>,
    max_entry_size: Option<Spanned<String>>,
    max_published_size: Option<Spanned<String>>,
    max_redirects: Option<Spanned<i64>>,
    cpu_limit: Option<Spanned<String>>,
    source_budget: Option<Spanned<String>>,
    article_attempts: Option<Spanned<i64>>,
    base_url: Option<Spanned<String>>,
    max_entries: Option<Spanned<i64>>,
    listen: Option<Spanned<String>>,
    refresh: Option<Spanned<String>>,
    allow_any_url: Option<bool>,
    any_url_token: Option<Spanned<String>>,
    any_url_per_minute: Option<Spanned<i64>>,
    any_url_max_items: Option<Spanned<i64>>,
    any_url_max_pages: Option<Spanned<i64>>,
    #[serde(default)]
    allow_private_hosts: Vec<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    database_connections: Option<Spanned<i64>>,
    max_connections_per_client: Option<Spanned<i64>>,
    h2c: Option<bool>,
    client_timeout: Option<Spanned<String>>,
    keep_tracking: Option<bool>,
    rules: Option<String>,
    ftr_rules: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
    page: Option<Spanned<String>>,
    items: Option<Spanned<String>>,
    item: Option<Spanned<RawItem>>,
    title: Option<String>,
    full_text: Option<bool>,
    max_items: Option<Spanned<i64>>,
    content: Option<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
    captions: Option<Spanned<String>>,
    max_pages: Option<Spanned<i64>>,
    refresh: Option<Spanned<String>>,
    #[serde(default)]
    allow_private_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    rewrite: Vec<Spanned<RawRewrite>>,
    keep_tracking: Option<bool>,
    keep: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    title: Option<String>,
    link: Option<String>,
    date: Option<String>,
    date_format: Option<String>,
    summary: Option<String>,
    author: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    field: String,
    pattern: String,
    #[serde(default)]
    replace: String,
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_owned(),
        line: None,
        message: format!("cannot read config: {e}"),
    })?;
    let mut config = parse(&text, path)?;
    // The environment's database wins: a password need not be written in the config.
    if let Some(db) = std::env::var("REFEED_DATABASE").ok().filter(|v| !v.trim().is_empty()) {
        config.settings.database = match Database::parse(&db) {
            Database::Sqlite(p) => Database::Sqlite(std::path::absolute(&p).unwrap_or(p)),
            pg => pg,
        };
    }
    Ok(config)
}

/// Parses config text; `path` names the file in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let r = Reader { text, path };
    let raw: RawConfig = toml::from_str(text).map_err(|e| r.err(e.span(), e.message().trim().to_owned()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (mut settings, settings_span) = match raw.settings {
        Some(raw) => (r.settings(raw.get_ref())?, Some(raw.span())),
        None => (Settings::default(), None),
    };
    settings.output_dir = base.join(&settings.output_dir);
    if let Database::Sqlite(p) = &settings.database {
        settings.database = Database::Sqlite(base.join(p));
    }
    settings.rules = settings.rules.map(|r| base.join(r));
    settings.ftr_rules = settings.ftr_rules.map(|r| base.join(r));
    r.check_folders(&settings, settings_span)?;
    let mut names = HashSet::new();
    let sources: Vec<Source> =
        raw.source.into_iter().map(|s| r.source(s, &settings, &mut names)).collect::<Result<_, _>>()?;
    let feeds = raw.feed.into_iter().map(|f| r.merged_feed(f, &sources, &mut names)).collect::<Result<_, _>>()?;
    Ok(Config { path: path.to_owned(), settings, sources, feeds })
}

/// The config text being read: turns a span into a line for every error.
struct Reader<'a> {
    text: &'a str,
    path: &'a Path,
}

/// Every number, size and duration has bounds: a value past them is a mistake (or an attack
/// on whoever runs the config), and some would otherwise panic or hang. Each helper leaves
/// `into` alone when the key is absent.
impl Reader<'_> {
    fn err(&self, span: Option<Range<usize>>, message: String) -> ConfigError {
        ConfigError { path: self.path.to_owned(), line: span.map(|s| line_of(self.text, s.start)), message }
    }

    fn at(&self, v: &Spanned<impl Sized>, message: String) -> ConfigError {
        self.err(Some(v.span()), message)
    }

    fn duration(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        min: Duration,
        max: Duration,
        into: &mut Duration,
    ) -> Result<(), ConfigError> {
        let Some(v) = v else { return Ok(()) };
        let d = parse_duration(v.get_ref()).map_err(|m| self.at(v, format!("{key}: {m}")))?;
        if !(min..=max).contains(&d) {
            return Err(self.at(v, format!("{key}: must be between {} and {}", show_duration(min), show_duration(max))));
        }
        *into = d;
        Ok(())
    }

    fn size(&self, v: &Option<Spanned<String>>, key: &str, into: &mut u64) -> Result<(), ConfigError> {
        let Some(v) = v else { return Ok(()) };
        let n = parse_size(v.get_ref()).map_err(|m| self.at(v, format!("{key}: {m}")))?;
        if !(1024..=MAX_SIZE).contains(&n) {
            return Err(self.at(v, format!("{key}: must be between 1KiB and 1GiB")));
        }
        *into = n;
        Ok(())
    }

    fn count<T: TryFrom<i64>>(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        max: i64,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        let Some(v) = v else { return Ok(()) };
        let n = Some(*v.get_ref()).filter(|n| (min..=max).contains(n)).and_then(|n| T::try_from(n).ok());
        *into = n.ok_or_else(|| self.at(v, format!("{key}: must be between {min} and {max}")))?;
        Ok(())
    }

    /// One string key through its own check.
    fn string<T>(
        &self,
        v: &Option<Spanned<String>>,
        check: impl FnOnce(&str) -> Result<T, String>,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        let Some(v) = v else { return Ok(()) };
        *into = check(v.get_ref()).map_err(|m| self.at(v, m))?;
        Ok(())
    }

    fn hosts(&self, values: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
        values.iter().map(|v| private_host(v.get_ref()).map_err(|m| self.at(v, m))).collect()
    }

    /// `[settings]`.
    fn settings(&self, s: &RawSettings) -> Result<Settings, ConfigError> {
        let mut st = Settings::default();
        if let Some(dir) = &s.output_dir {
            st.output_dir = PathBuf::from(dir);
        }
        if let Some(db) = &s.database {
            st.database = Database::parse(db);
        }
        self.string(&s.user_agent, |v| user_agent(v).map(str::to_owned), &mut st.user_agent)?;
        self.fetch_limits(s, &mut st)?;
        self.serve_settings(s, &mut st)?;
        st.allow_private_hosts = self.hosts(&s.allow_private_hosts)?;
        st.keep_tracking = s.keep_tracking.unwrap_or(false);
        st.rules = s.rules.as_ref().map(PathBuf::from);
        st.ftr_rules = s.ftr_rules.as_ref().map(PathBuf::from);
        Ok(st)
    }

    /// The limits of fetching and extracting.
    fn fetch_limits(&self, s: &RawSettings, st: &mut Settings) -> Result<(), ConfigError> {
        let (secs, ms) = (Duration::from_secs, Duration::from_millis);
        self.duration(&s.timeout, "timeout", secs(1), secs(600), &mut st.timeout)?;
        self.duration(&s.connect_timeout, "connect_timeout", ms(100), secs(300), &mut st.connect_timeout)?;
        self.duration(&s.source_budget, "source_budget", secs(1), secs(6 * 3600), &mut st.source_budget)?;
        self.duration(&s.cpu_limit, "cpu_limit", ms(100), secs(600), &mut st.cpu_limit)?;
        self.duration(&s.host_delay, "host_delay", Duration::ZERO, secs(60), &mut st.host_delay)?;
        self.size(&s.max_page_size, "max_page_size", &mut st.max_page_bytes)?;
        self.size(&s.max_feed_size, "max_feed_size", &mut st.max_feed_bytes)?;
        self.size(&s.max_entry_size, "max_entry_size", &mut st.max_entry_size)?;
        self.size(&s.max_published_size, "max_published_size", &mut st.max_published_size)?;
        self.count(&s.concurrency, "concurrency", 1, 1024, &mut st.concurrency)?;
        self.count(&s.per_host_concurrency, "per_host_concurrency", 1, 256, &mut st.per_host_concurrency)?;
        self.count(&s.max_redirects, "max_redirects", 0, 50, &mut st.max_redirects)?;
        self.count(&s.max_entries, "max_entries", 1, 100_000, &mut st.max_entries)?;
        self.count(&s.article_attempts, "article_attempts", 1, 100, &mut st.article_attempts)
    }

    /// What `refeed serve` reads.
    fn serve_settings(&self, s: &RawSettings, st: &mut Settings) -> Result<(), ConfigError> {
        let (secs, ms) = (Duration::from_secs, Duration::from_millis);
        self.string(&s.base_url, |v| base_url(v).map(Some), &mut st.base_url)?;
        self.string(
            &s.listen,
            |v| check_listen(v).map(|()| v.trim().to_owned()).map_err(|m| format!("listen: {m}")),
            &mut st.listen,
        )?;
        self.string(&s.refresh, refresh_interval, &mut st.refresh)?;
        st.allow_any_url = s.allow_any_url.unwrap_or(st.allow_any_url);
        self.string(&s.any_url_token, |v| any_url_token(v).map(Some), &mut st.any_url_token)?;
        self.count(&s.any_url_per_minute, "any_url_per_minute", 1, 10_000, &mut st.any_url_per_minute)?;
        self.count(&s.any_url_max_items, "any_url_max_items", 1, 100, &mut st.any_url_max_items)?;
        self.count(&s.any_url_max_pages, "any_url_max_pages", 1, 10, &mut st.any_url_max_pages)?;
        self.count(&s.max_connections, "max_connections", 1, 1_000_000, &mut st.max_connections)?;
        self.count(&s.database_connections, "database_connections", 1, 64, &mut st.database_connections)?;
        self.count(
            &s.max_connections_per_client,
            "max_connections_per_client",
            1,
            1_000_000,
            &mut st.max_connections_per_client,
        )?;
        st.h2c = s.h2c.unwrap_or(st.h2c);
        self.duration(&s.client_timeout, "client_timeout", ms(100), secs(3600), &mut st.client_timeout)
    }

    /// The output folder is what readers (or a web server) see: the state must not be in
    /// it, and it must not be a folder that holds everything else.
    fn check_folders(&self, settings: &Settings, span: Option<Range<usize>>) -> Result<(), ConfigError> {
        let absolute = |p: &Path| normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_owned()));
        let output = absolute(&settings.output_dir);
        if output.parent().is_none() {
            return Err(self.err(span, "output_dir: the root folder cannot be the output folder".into()));
        }
        if let Some(path) = settings.database.path()
            && absolute(path).starts_with(&output)
        {
            let (db, out) = (path.display(), settings.output_dir.display());
            let message =
                format!("database: {db} is inside output_dir {out}, which is published; keep the state elsewhere");
            return Err(self.err(span, message));
        }
        Ok(())
    }

    /// One `[[source]]`.
    fn source(
        &self,
        raw: Spanned<RawSource>,
        settings: &Settings,
        names: &mut HashSet<String>,
    ) -> Result<Source, ConfigError> {
        let table = raw.span();
        let s = raw.into_inner();
        let name = s.name.get_ref().clone();
        validate_name(&name).map_err(|m| self.at(&s.name, format!("name \"{name}\": {m}")))?;
        let at = |span: Range<usize>, message: String| self.err(Some(span), format!("source \"{name}\": {message}"));
        if !names.insert(name.clone()) {
            return Err(at(s.name.span(), "duplicate source name".into()));
        }
        let (url, page) = match (&s.url, &s.page) {
            (Some(url), None) => (source_url(url.get_ref()).map_err(|m| at(url.span(), m))?, None),
            (None, Some(page)) => {
                let url = source_url(page.get_ref()).map_err(|m| at(page.span(), m.replacen("url", "page", 1)))?;
                (url, Some(self.item_selectors(&s).map_err(|(span, m)| at(span.unwrap_or(page.span()), m))?))
            }
            (Some(_), Some(page)) => {
                return Err(at(page.span(), "give either url (a feed) or page (a web page), not both".into()));
            }
            (None, None) => {
                return Err(at(
                    table,
                    "url: missing (the feed's URL; or page = \"…\" with items = \"CSS\" for a page without a feed)"
                        .into(),
                ));
            }
        };
        if let (Some(items), None) = (&s.items, &s.page) {
            return Err(at(items.span(), "items: only for a page source (page = \"…\" instead of url)".into()));
        }
        let mut max_items = None;
        if let Some(v) = &s.max_items {
            max_items = Some(
                usize::try_from(*v.get_ref())
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| at(v.span(), "max_items: must be at least 1".into()))?,
            );
        }
        let extract = self
            .extract_options(&s, settings)
            .map_err(|e| ConfigError { message: format!("source \"{name}\": {}", e.message), ..e })?;
        let mut refresh = None;
        self.string(&s.refresh, |v| refresh_interval(v).map(Some), &mut refresh)
            .map_err(|e| at(s.refresh.as_ref().map_or(table, |r| r.span()), e.message))?;
        let allow_private_hosts = self
            .hosts(&s.allow_private_hosts)
            .map_err(|e| ConfigError { message: format!("source \"{name}\": {}", e.message), ..e })?;
        let shaping = self
            .shaping(&s, settings)
            .map_err(|e| ConfigError { message: format!("source \"{name}\": {}", e.message), ..e })?;
        let mut keep = None;
        if let Some(v) = &s.keep {
            let mut d = Duration::ZERO;
            self.duration(&s.keep, "keep", Duration::from_secs(3600), Duration::from_secs(3650 * 86400), &mut d)
                .map_err(|e| at(v.span(), e.message))?;
            keep = Some(d);
        }
        Ok(Source {
            keep,
            page,
            name,
            url,
            title: s.title,
            full_text: s.full_text.unwrap_or(true),
            max_items,
            extract,
            refresh,
            allow_private_hosts,
            shaping,
        })
    }

    /// A page source's `items` and `item = { … }`, each selector checked.
    fn item_selectors(&self, s: &RawSource) -> Result<ItemSelectors, (Option<Range<usize>>, String)> {
        let Some(items) = &s.items else {
            return Err((None, "page: needs items = \"CSS selector of each item\"".into()));
        };
        check_selector(items.get_ref()).map_err(|m| (Some(items.span()), format!("items: {m}")))?;
        let mut sel = ItemSelectors { items: items.get_ref().clone(), ..ItemSelectors::default() };
        if let Some(item) = &s.item {
            let span = Some(item.span());
            let raw = item.get_ref();
            for (key, value, into) in [
                ("title", &raw.title, &mut sel.title),
                ("link", &raw.link, &mut sel.link),
                ("date", &raw.date, &mut sel.date),
                ("summary", &raw.summary, &mut sel.summary),
                ("author", &raw.author, &mut sel.author),
            ] {
                if let Some(v) = value {
                    check_selector(v).map_err(|m| (span.clone(), format!("item.{key}: {m}")))?;
                    *into = Some(v.clone());
                }
            }
            if let Some(f) = &raw.date_format {
                check_date_format(f).map_err(|m| (span.clone(), format!("item.date_format: {m}")))?;
                sel.date_format = Some(f.clone());
            }
        }
        Ok(sel)
    }

    /// One `[[feed]]`: its name unique among sources and feeds, every source it names configured.
    fn merged_feed(
        &self,
        raw: Spanned<RawFeed>,
        sources: &[Source],
        names: &mut HashSet<String>,
    ) -> Result<MergedFeed, ConfigError> {
        let f = raw.into_inner();
        let name = f.name.get_ref().clone();
        validate_name(&name).map_err(|m| self.at(&f.name, format!("feed name \"{name}\": {m}")))?;
        if !names.insert(name.clone()) {
            return Err(self.at(&f.name, format!("feed \"{name}\": the name is already used by a source or feed")));
        }
        if f.sources.get_ref().is_empty() {
            return Err(self.at(&f.sources, format!("feed \"{name}\": sources: name at least one source")));
        }
        let mut list = Vec::new();
        for s in f.sources.get_ref() {
            if !sources.iter().any(|source| source.name == *s.get_ref()) {
                return Err(self.at(s, format!("feed \"{name}\": sources: no source named \"{}\"", s.get_ref())));
            }
            if !list.contains(s.get_ref()) {
                list.push(s.get_ref().clone());
            }
        }
        let mut max_items = None;
        if let Some(v) = &f.max_items {
            max_items = Some(
                usize::try_from(*v.get_ref())
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| self.at(v, format!("feed \"{name}\": max_items: must be at least 1")))?,
            );
        }
        Ok(MergedFeed { name, title: f.title, sources: list, max_items })
    }

    /// A source's filters and rewrites, each rule checked (and compiled) here.
    fn shaping(&self, s: &RawSource, settings: &Settings) -> Result<Shaping, ConfigError> {
        let rules = |key: &str, list: &[Spanned<String>]| -> Result<Vec<shape::Rule>, ConfigError> {
            if let Some(past) = list.get(shape::MAX_RULES) {
                return Err(self.at(past, format!("{key}: at most {} rules", shape::MAX_RULES)));
            }
            list.iter()
                .map(|v| shape::Rule::parse(v.get_ref()).map_err(|m| self.at(v, format!("{key}: {m}"))))
                .collect()
        };
        let filters = shape::Filters { include: rules("include", &s.include)?, exclude: rules("exclude", &s.exclude)? };
        if let Some(past) = s.rewrite.get(shape::MAX_RULES) {
            return Err(self.err(Some(past.span()), format!("rewrite: at most {} rules", shape::MAX_RULES)));
        }
        let rewrites = s
            .rewrite
            .iter()
            .map(|r| {
                let raw = r.get_ref();
                shape::Rewrite::new(&raw.field, &raw.pattern, &raw.replace).map_err(|m| self.err(Some(r.span()), m))
            })
            .collect::<Result<_, _>>()?;
        Ok(Shaping { filters, rewrites, keep_tracking: s.keep_tracking.unwrap_or(settings.keep_tracking) })
    }

    /// A source's extraction options.
    fn extract_options(&self, s: &RawSource, settings: &Settings) -> Result<extract::Options, ConfigError> {
        let mut options = extract::Options { cpu_limit: settings.cpu_limit, ..extract::Options::default() };
        let selector = |key: &'static str| {
            move |v: &str| check_selector(v).map(|()| v.to_owned()).map_err(|m| format!("{key}: {m}"))
        };
        let mut content = None;
        self.string(&s.content, |v| selector("content")(v).map(Some), &mut content)?;
        options.content = content;
        for v in &s.remove {
            options.remove.push(selector("remove")(v.get_ref()).map_err(|m| self.at(v, m))?);
        }
        self.string(&s.captions, captions, &mut options.captions)?;
        self.count(&s.max_pages, "max_pages", 1, 50, &mut options.max_pages)?;
        Ok(options)
    }
}

/// It goes into every request's header: visible ASCII and spaces only.
fn user_agent(v: &str) -> Result<&str, String> {
    if v.trim().is_empty() || !v.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err("user_agent: must be one non-empty line of visible ASCII characters".into());
    }
    Ok(v)
}

fn base_url(v: &str) -> Result<Url, String> {
    let mut text = v.trim().to_owned();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text).map_err(|e| format!("base_url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("base_url: must be an http:// or https:// URL".into());
    }
    Ok(url)
}

fn any_url_token(v: &str) -> Result<String, String> {
    let token = v.trim();
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("any_url_token: use at least 16 visible ASCII characters (no spaces)".into());
    }
    Ok(token.to_owned())
}

fn source_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v.trim()).map_err(|e| format!("url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("url: must be an http:// or https:// URL".into());
    }
    Ok(url)
}

fn captions(v: &str) -> Result<extract::Captions, String> {
    match v {
        "drop" => Ok(extract::Captions::Drop),
        "keep" => Ok(extract::Captions::Keep),
        other => Err(format!("captions: expected \"keep\" or \"drop\", found \"{other}\"")),
    }
}

/// One `allow_private_hosts` entry: `host` or `host:port`, lowercased.
fn private_host(value: &str) -> Result<String, String> {
    let host = value.trim().to_ascii_lowercase();
    if host.is_empty()
        || Url::parse(&format!("http://{host}/")).ok().and_then(|u| u.host_str().map(str::len)).is_none()
        || host.contains(['/', '@', '?', '#'])
    {
        return Err(format!("allow_private_hosts: \"{host}\" is not a host or host:port"));
    }
    Ok(host)
}

/// A `refresh` value: at least a second (a feed polled faster than that is a mistake), at
/// most 30 days.
fn refresh_interval(v: &str) -> Result<Duration, String> {
    match parse_duration(v) {
        Ok(d) if d < Duration::from_secs(1) => Err("refresh: must be at least 1s".into()),
        Ok(d) if d > Duration::from_secs(30 * 86400) => Err("refresh: must be at most 30d".into()),
        Ok(d) => Ok(d),
        Err(m) => Err(format!("refresh: {m}")),
    }
}

/// Sizes are at most this (1 GiB): far above any page or feed, far below any overflow.
const MAX_SIZE: u64 = 1 << 30;

/// `Duration` as the config writes it: "100ms", "60s".
pub fn show_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.is_zero() { format!("{}ms", d.as_millis()) } else { format!("{}s", d.as_secs()) }
}

/// `a/./b/../c` -> `a/c`, without touching the file system (the folders may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `listen` is an `ip:port` (`127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:80`).
pub fn check_listen(value: &str) -> Result<(), String> {
    value
        .trim()
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .map_err(|_| format!("\"{value}\" is not an address such as \"127.0.0.1:8080\" or \"[::]:8080\""))
}

fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Source names become file names, so they are kept to a safe alphabet: no `..`, no
/// separators, no names that some file systems reserve.
/// Whether `name` can name a source or feed (a slug that makes a safe file name).
pub fn check_name(name: &str) -> Result<(), String> {
    validate_name(name)
}

fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("only lowercase letters, digits and '-' are allowed".into());
    }
    if name.starts_with('-') {
        return Err("must not start with '-'".into());
    }
    const RESERVED: &[&str] = &["con", "prn", "aux", "nul", "index", "com1", "com2", "com3", "lpt1", "lpt2", "lpt3"];
    if RESERVED.contains(&name) {
        return Err("is a reserved name".into());
    }
    Ok(())
}

/// A chrono format: every `%` directive known (an unknown one would fail every date).
fn check_date_format(f: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if f.trim().is_empty() || StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
        return Err(format!("\"{f}\" is not a date format such as \"%d %B %Y\" (chrono's strftime)"));
    }
    Ok(())
}

fn check_selector(sel: &str) -> Result<(), String> {
    scraper::Selector::parse(sel).map(|_| ()).map_err(|e| format!("invalid CSS selector \"{sel}\": {e}"))
}

/// Parses `"500ms"`, `"20s"`, `"30m"`, `"2h"`, `"1d"`; a bare number means seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("\"{s}\" is not a duration such as \"20s\" or \"30m\""))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        other => return Err(format!("unknown unit \"{other}\" (use ms, s, m, h or d)")),
    };
    if !secs.is_finite() || !(0.0..=365.0 * 86400.0).contains(&secs) {
        return Err(format!("\"{s}\" is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `"10MiB"`, `"512KiB"`, `"20MB"`, `"1GiB"`, or a bare number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: u64 = num.parse().map_err(|_| format!("\"{s}\" is not a size such as \"10MiB\""))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown unit \"{other}\" (use B, KiB, MiB or GiB)")),
    };
    value.checked_mul(mult).filter(|&v| v > 0).ok_or_else(|| format!("\"{s}\" is out of range"))
}

/// Where the state lives: a SQLite file (the default; nothing to install) or a PostgreSQL
/// database that several refeed processes share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A `postgres://` URL, and the schema inside it (`None`: the connection's default,
    /// normally `public`).
    Postgres {
        url: String,
        schema: Option<String>,
    },
}

impl Database {
    /// A config's `database` value: a `postgres://` or `postgresql://` URL, else a path.
    pub fn parse(value: &str) -> Database {
        let lower = value.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres { url: value.trim().to_owned(), schema: None }
        } else {
            Database::Sqlite(PathBuf::from(value))
        }
    }

    /// The SQLite file, if this is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres { .. } => None,
        }
    }
}

impl std::fmt::Display for Database {
    /// The path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres { url, schema } => {
                let shown = match url::Url::parse(url) {
                    Ok(mut u) if u.password().is_some() => {
                        let _ = u.set_password(Some("***"));
                        u.to_string()
                    }
                    Ok(u) => u.to_string(),
                    Err(_) => "postgres://(unreadable URL)".to_owned(),
                };
                match schema {
                    Some(s) => write!(f, "{shown} (schema {s})"),
                    None => f.write_str(&shown),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(text, Path::new("conf/refeed.toml"))
    }

    #[test]
    fn database_urls_and_their_connections() {
        let c =
            parse_str("[settings]\ndatabase = \"postgres://refeed@db.internal/refeed\"\ndatabase_connections = 8\n")
                .unwrap();
        assert_eq!(
            c.settings.database,
            Database::Postgres { url: "postgres://refeed@db.internal/refeed".into(), schema: None }
        );
        assert_eq!(c.settings.database_connections, 8);
        let shown = Database::parse("postgresql://refeed:s3cret@db.internal:5433/refeed").to_string();
        assert_eq!(shown, "postgresql://refeed:***@db.internal:5433/refeed");
        let e = parse_str("[settings]\ndatabase_connections = 0\n").unwrap_err().to_string();
        assert_eq!(e, "conf/refeed.toml:2: database_connections: must be between 1 and 64");
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse_str("[[source]]\nname = \"a\"\nurl = \"https://example.com/feed\"\n").unwrap();
        assert_eq!(c.sources.len(), 1);
        assert!(c.sources[0].full_text);
        assert_eq!(c.sources[0].max_items, None);
        assert_eq!(c.settings.output_dir, PathBuf::from("conf/public"));
        assert_eq!(c.settings.database, Database::Sqlite(PathBuf::from("conf/refeed.db")));
        assert_eq!(c.settings.per_host_concurrency, 2);
    }

    #[test]
    fn unknown_key_names_its_line() {
        let e = parse_str("[settings]\noutput_dir = \"x\"\ncolour = 3\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown field `colour`"), "{}", e.message);
    }

    #[test]
    fn duplicate_names_and_bad_urls_name_their_lines() {
        let text = "[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n[[source]]\nname = \"a\"\nurl = \"https://b.example/\"\n";
        let e = parse_str(text).unwrap_err();
        assert_eq!(e.to_string(), "conf/refeed.toml:6: source \"a\": duplicate source name");
        let e = parse_str("[[source]]\nname = \"a\"\nurl = \"not a url\"\n").unwrap_err();
        assert_eq!(e.to_string(), "conf/refeed.toml:3: source \"a\": url: relative URL without a base");
        let e = parse_str("[[source]]\nname = \"a\"\nurl = \"file:///etc/passwd\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn bad_selector_and_name_are_errors() {
        let e = parse_str("[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\nremove = [\".ok\", \"div[\"]\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.starts_with("source \"a\": remove: invalid CSS selector \"div[\""), "{}", e.message);
        for bad in ["../x", "/etc", "Caps", "con", ""] {
            let e = parse_str(&format!("[[source]]\nname = \"{bad}\"\nurl = \"https://a.example/\"\n")).unwrap_err();
            assert_eq!(e.line, Some(2), "{bad}");
        }
    }

    #[test]
    fn serve_settings_are_checked_with_their_lines() {
        let c = parse_str(
            "[settings]\nlisten = \"[::]:9000\"\nrefresh = \"2h\"\nallow_any_url = true\nallow_private_hosts = [\"Intranet.example:8080\"]\n\n[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\nrefresh = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(c.settings.listen, "[::]:9000");
        assert_eq!(c.settings.refresh, Duration::from_secs(7200));
        assert!(c.settings.allow_any_url);
        assert_eq!(c.settings.allow_private_hosts, ["intranet.example:8080"]);
        assert_eq!(c.sources[0].refresh_every(&c.settings), Duration::from_secs(300));
        let e = parse_str("[settings]\nlisten = \"localhost\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "conf/refeed.toml:2: listen: \"localhost\" is not an address such as \"127.0.0.1:8080\" or \"[::]:8080\""
        );
        let e = parse_str("[settings]\nany_url_token = \"short\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse_str("[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\nrefresh = \"100ms\"\n").unwrap_err();
        assert_eq!(e.to_string(), "conf/refeed.toml:4: source \"a\": refresh: must be at least 1s");
        let e = parse_str("[settings]\nallow_private_hosts = [\"ok.example\", \"http://x/\"]\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn hostile_values_are_errors_naming_the_key_and_line() {
        for (line, expected) in [
            ("concurrency = 9223372036854775807", "conf/refeed.toml:2: concurrency: must be between 1 and 1024"),
            ("per_host_concurrency = 0", "conf/refeed.toml:2: per_host_concurrency: must be between 1 and 256"),
            ("host_delay = \"365d\"", "conf/refeed.toml:2: host_delay: must be between 0ms and 60s"),
            ("timeout = \"0s\"", "conf/refeed.toml:2: timeout: must be between 1s and 600s"),
            ("max_page_size = \"100GiB\"", "conf/refeed.toml:2: max_page_size: must be between 1KiB and 1GiB"),
            ("max_entries = -1", "conf/refeed.toml:2: max_entries: must be between 1 and 100000"),
            (
                "user_agent = \"bot\\u0007bell\"",
                "conf/refeed.toml:2: user_agent: must be one non-empty line of visible ASCII characters",
            ),
            (
                "database = \"public/news.json\"",
                "conf/refeed.toml:1: database: conf/public/news.json is inside output_dir conf/public, which is published; keep the state elsewhere",
            ),
            ("output_dir = \"/\"", "conf/refeed.toml:1: output_dir: the root folder cannot be the output folder"),
        ] {
            let e = parse_str(&format!("[settings]\n{line}\n")).unwrap_err();
            let shown = e.to_string();
            // The database message shows absolute paths; compare the part that is stable.
            let shown = shown.replace(&format!("{}/", std::env::current_dir().unwrap().display()), "");
            assert_eq!(shown, expected, "{line}");
        }
        for (line, expected) in [
            ("refresh = \"40d\"", "refresh: must be at most 30d"),
            ("max_pages = 51", "max_pages: must be between 1 and 50"),
            ("max_items = 0", "max_items: must be at least 1"),
            ("captions = \"hide\"", "captions: expected \"keep\" or \"drop\", found \"hide\""),
            ("allow_private_hosts = [\"a/b\"]", "allow_private_hosts: \"a/b\" is not a host or host:port"),
            ("url = \"ftp://a.example/\"", "url: must be an http:// or https:// URL"),
        ] {
            let text = format!(
                "[[source]]\nname = \"a\"\n{}\n{line}\n",
                if line.starts_with("url") { "" } else { "url = \"https://a.example/\"" }
            );
            let e = parse_str(&text).unwrap_err();
            // The bad value is on line 4 either way (an empty line stands for the url).
            assert_eq!(e.to_string(), format!("conf/refeed.toml:4: source \"a\": {expected}"), "{line}");
        }
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("20s").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_size("10MiB").unwrap(), 10 * 1024 * 1024);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("0").is_err());
        let e = parse_str("[settings]\ntimeout = \"forever\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
