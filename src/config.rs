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

use crate::extract;

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
    /// SQLite state; relative paths are taken from the config file's folder.
    pub database: PathBuf,
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
    /// `refeed serve`: open connections at once from one client address (an IPv6 /64).
    pub max_connections_per_client: usize,
    /// `refeed serve`: also accept HTTP/2 without TLS (by prior knowledge).
    pub h2c: bool,
    /// `refeed serve`: time a client has to send a request's headers, and how long an idle
    /// keep-alive connection stays open.
    pub client_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            output_dir: PathBuf::from("public"),
            database: PathBuf::from("refeed.db"),
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
            max_connections_per_client: 64,
            h2c: false,
            client_timeout: Duration::from_secs(15),
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    settings: Option<Spanned<RawSettings>>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
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
    max_connections_per_client: Option<Spanned<i64>>,
    h2c: Option<bool>,
    client_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    url: Spanned<String>,
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
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_owned(),
        line: None,
        message: format!("cannot read config: {e}"),
    })?;
    parse(&text, path)
}

/// Parses config text; `path` names the file in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let err = |span: Option<Range<usize>>, message: String| ConfigError {
        path: path.to_owned(),
        line: span.map(|s| line_of(text, s.start)),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| err(e.span(), e.message().trim().to_owned()))?;

    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut settings = Settings::default();
    let mut settings_span = None;
    if let Some(raw_settings) = raw.settings {
        let raw_settings_span = raw_settings.span();
        let s = raw_settings.into_inner();
        if let Some(dir) = s.output_dir {
            settings.output_dir = PathBuf::from(dir);
        }
        if let Some(db) = s.database {
            settings.database = PathBuf::from(db);
        }
        if let Some(ua) = s.user_agent {
            // It goes into every request's header: visible ASCII and spaces only.
            let text = ua.get_ref();
            if text.trim().is_empty() || !text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                return Err(err(
                    Some(ua.span()),
                    "user_agent: must be one non-empty line of visible ASCII characters".into(),
                ));
            }
            settings.user_agent = ua.into_inner();
        }
        // Every number and duration has bounds: a value past them is a mistake (or an attack on
        // whoever runs the config), and some would otherwise panic or hang.
        let duration = |v: &Spanned<String>, key: &str, min: Duration, max: Duration| {
            let d = parse_duration(v.get_ref()).map_err(|m| err(Some(v.span()), format!("{key}: {m}")))?;
            if !(min..=max).contains(&d) {
                return Err(err(
                    Some(v.span()),
                    format!("{key}: must be between {} and {}", show_duration(min), show_duration(max)),
                ));
            }
            Ok(d)
        };
        let size = |v: &Spanned<String>, key: &str| {
            let n = parse_size(v.get_ref()).map_err(|m| err(Some(v.span()), format!("{key}: {m}")))?;
            if !(1024..=MAX_SIZE).contains(&n) {
                return Err(err(Some(v.span()), format!("{key}: must be between 1KiB and 1GiB")));
            }
            Ok(n)
        };
        let count = |v: &Spanned<i64>, key: &str, min: i64, max: i64| {
            if !(min..=max).contains(v.get_ref()) {
                Err(err(Some(v.span()), format!("{key}: must be between {min} and {max}")))
            } else {
                Ok(*v.get_ref() as usize)
            }
        };
        let secs = Duration::from_secs;
        if let Some(v) = &s.timeout {
            settings.timeout = duration(v, "timeout", secs(1), secs(600))?;
        }
        if let Some(v) = &s.connect_timeout {
            settings.connect_timeout = duration(v, "connect_timeout", Duration::from_millis(100), secs(300))?;
        }
        if let Some(v) = &s.source_budget {
            settings.source_budget = duration(v, "source_budget", secs(1), secs(6 * 3600))?;
        }
        if let Some(v) = &s.cpu_limit {
            settings.cpu_limit = duration(v, "cpu_limit", Duration::from_millis(100), secs(600))?;
        }
        if let Some(v) = &s.host_delay {
            settings.host_delay = duration(v, "host_delay", Duration::ZERO, secs(60))?;
        }
        if let Some(v) = &s.max_page_size {
            settings.max_page_bytes = size(v, "max_page_size")?;
        }
        if let Some(v) = &s.max_feed_size {
            settings.max_feed_bytes = size(v, "max_feed_size")?;
        }
        if let Some(v) = &s.max_entry_size {
            settings.max_entry_size = size(v, "max_entry_size")?;
        }
        if let Some(v) = &s.max_published_size {
            settings.max_published_size = size(v, "max_published_size")?;
        }
        if let Some(v) = &s.concurrency {
            settings.concurrency = count(v, "concurrency", 1, 1024)?;
        }
        if let Some(v) = &s.per_host_concurrency {
            settings.per_host_concurrency = count(v, "per_host_concurrency", 1, 256)?;
        }
        if let Some(v) = &s.max_redirects {
            settings.max_redirects = count(v, "max_redirects", 0, 50)?;
        }
        if let Some(v) = &s.max_entries {
            settings.max_entries = count(v, "max_entries", 1, 100_000)?;
        }
        if let Some(v) = &s.article_attempts {
            settings.article_attempts = count(v, "article_attempts", 1, 100)? as u32;
        }
        if let Some(v) = &s.base_url {
            let mut text = v.get_ref().trim().to_owned();
            if !text.ends_with('/') {
                text.push('/');
            }
            let url = Url::parse(&text).map_err(|e| err(Some(v.span()), format!("base_url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(err(Some(v.span()), "base_url: must be an http:// or https:// URL".into()));
            }
            settings.base_url = Some(url);
        }
        if let Some(v) = &s.listen {
            check_listen(v.get_ref()).map_err(|m| err(Some(v.span()), format!("listen: {m}")))?;
            settings.listen = v.get_ref().trim().to_owned();
        }
        if let Some(v) = &s.refresh {
            settings.refresh = refresh_interval(v).map_err(|m| err(Some(v.span()), m))?;
        }
        if let Some(v) = s.allow_any_url {
            settings.allow_any_url = v;
        }
        if let Some(v) = &s.any_url_token {
            let token = v.get_ref().trim();
            if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(err(
                    Some(v.span()),
                    "any_url_token: use at least 16 visible ASCII characters (no spaces)".into(),
                ));
            }
            settings.any_url_token = Some(token.to_owned());
        }
        if let Some(v) = &s.any_url_per_minute {
            settings.any_url_per_minute = count(v, "any_url_per_minute", 1, 10_000)? as u32;
        }
        if let Some(v) = &s.any_url_max_items {
            settings.any_url_max_items = count(v, "any_url_max_items", 1, 100)?;
        }
        if let Some(v) = &s.any_url_max_pages {
            settings.any_url_max_pages = count(v, "any_url_max_pages", 1, 10)?;
        }
        if let Some(v) = &s.max_connections {
            settings.max_connections = count(v, "max_connections", 1, 1_000_000)?;
        }
        if let Some(v) = &s.max_connections_per_client {
            settings.max_connections_per_client = count(v, "max_connections_per_client", 1, 1_000_000)?;
        }
        if let Some(v) = s.h2c {
            settings.h2c = v;
        }
        if let Some(v) = &s.client_timeout {
            settings.client_timeout = duration(v, "client_timeout", Duration::from_millis(100), secs(3600))?;
        }
        for v in &s.allow_private_hosts {
            let host = private_host(v.get_ref()).map_err(|m| err(Some(v.span()), m))?;
            settings.allow_private_hosts.push(host);
        }
        settings_span = Some(raw_settings_span);
    }
    settings.output_dir = base.join(&settings.output_dir);
    settings.database = base.join(&settings.database);
    // The output folder is what readers (or a web server) see: the state must not be in it,
    // and it must not be a folder that holds everything else.
    let absolute = |p: &Path| normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_owned()));
    let (output, database) = (absolute(&settings.output_dir), absolute(&settings.database));
    if output.parent().is_none() {
        return Err(err(settings_span.clone(), "output_dir: the root folder cannot be the output folder".into()));
    }
    if database.starts_with(&output) {
        return Err(err(
            settings_span,
            format!(
                "database: {} is inside output_dir {}, which is published; keep the state elsewhere",
                settings.database.display(),
                settings.output_dir.display()
            ),
        ));
    }

    let mut sources = Vec::with_capacity(raw.source.len());
    let mut names = HashSet::new();
    for raw_source in raw.source {
        let table_span = raw_source.span();
        let s = raw_source.into_inner();
        let name = s.name.get_ref().clone();
        let at = |span: Range<usize>, message: String| err(Some(span), format!("source \"{name}\": {message}"));
        if let Err(m) = validate_name(&name) {
            return Err(err(Some(s.name.span()), format!("name \"{name}\": {m}")));
        }
        if !names.insert(name.clone()) {
            return Err(at(s.name.span(), "duplicate source name".into()));
        }
        let url = Url::parse(s.url.get_ref().trim()).map_err(|e| at(s.url.span(), format!("url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(at(s.url.span(), "url: must be an http:// or https:// URL".into()));
        }
        let max_items = match s.max_items {
            Some(v) if *v.get_ref() < 1 => return Err(at(v.span(), "max_items: must be at least 1".into())),
            Some(v) => Some(*v.get_ref() as usize),
            None => None,
        };
        if let Some(sel) = &s.content {
            check_selector(sel.get_ref()).map_err(|m| at(sel.span(), format!("content: {m}")))?;
        }
        for sel in &s.remove {
            check_selector(sel.get_ref()).map_err(|m| at(sel.span(), format!("remove: {m}")))?;
        }
        let captions = match s.captions.as_ref().map(|c| c.get_ref().as_str()) {
            None | Some("drop") => extract::Captions::Drop,
            Some("keep") => extract::Captions::Keep,
            Some(other) => {
                let span = s.captions.as_ref().map(|c| c.span()).unwrap_or(table_span.clone());
                return Err(at(span, format!("captions: expected \"keep\" or \"drop\", found \"{other}\"")));
            }
        };
        let max_pages = match s.max_pages {
            Some(v) if !(1..=50).contains(v.get_ref()) => {
                return Err(at(v.span(), "max_pages: must be 1 to 50".into()));
            }
            Some(v) => *v.get_ref() as usize,
            None => extract::DEFAULT_MAX_PAGES,
        };
        let refresh = s
            .refresh
            .as_ref()
            .map(refresh_interval)
            .transpose()
            .map_err(|m| at(s.refresh.as_ref().map_or(table_span.clone(), |r| r.span()), m))?;
        let allow_private_hosts = s
            .allow_private_hosts
            .iter()
            .map(|v| private_host(v.get_ref()).map_err(|m| at(v.span(), m)))
            .collect::<Result<Vec<_>, _>>()?;
        sources.push(Source {
            name,
            url,
            title: s.title,
            full_text: s.full_text.unwrap_or(true),
            max_items,
            extract: extract::Options {
                content: s.content.map(Spanned::into_inner),
                remove: s.remove.into_iter().map(Spanned::into_inner).collect(),
                captions,
                max_pages,
                cpu_limit: settings.cpu_limit,
            },
            refresh,
            allow_private_hosts,
        });
    }
    Ok(Config { path: path.to_owned(), settings, sources })
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
fn refresh_interval(v: &Spanned<String>) -> Result<Duration, String> {
    match parse_duration(v.get_ref()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(text, Path::new("conf/refeed.toml"))
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse_str("[[source]]\nname = \"a\"\nurl = \"https://example.com/feed\"\n").unwrap();
        assert_eq!(c.sources.len(), 1);
        assert!(c.sources[0].full_text);
        assert_eq!(c.sources[0].max_items, None);
        assert_eq!(c.settings.output_dir, PathBuf::from("conf/public"));
        assert_eq!(c.settings.database, PathBuf::from("conf/refeed.db"));
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
        let e = parse_str("[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\nrefresh = \"40d\"\n").unwrap_err();
        assert_eq!(e.to_string(), "conf/refeed.toml:4: source \"a\": refresh: must be at most 30d");
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
