//! The engine: the stages of the pipeline as one small API, shared by `refeed run`, the
//! server's refresh loops and `/feed?url=`.
//!
//! Each stage takes plain data and gives plain data: [`Engine::fetch_feed`] (fetch and parse a
//! source's feed, following the feed an HTML page advertises), [`Engine::ingest`] (store what
//! is new), [`Engine::fetch_articles`] (fetch and extract the pages behind the entries, on
//! blocking threads), [`Engine::out_feed`] (what to publish), [`Engine::publish`] (render
//! and write it). [`Engine::refresh`] is the composition `run` and `serve` share.
//!
//! The store is SQLite behind a mutex, called from async tasks: every call is one indexed
//! lookup or one small transaction in WAL mode (microseconds to a few milliseconds), no call
//! is held across an `.await`, and the writers queue on SQLite's own lock with a busy
//! timeout. Moving each to `spawn_blocking` would cost more than it saves. The CPU work
//! (parsing feeds, extracting pages) runs on blocking threads.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use url::Url;

use crate::config::{self, Config, Source};
use crate::error::RefreshError;
use crate::fetch::guard::Guard;
use crate::fetch::{self, Access, Fetched, Fetcher, Kind, Validators};
use crate::publish::{self, OpmlSource, OutFeed, OutItem};
use crate::rules::RuleSet;
use crate::store::{self, Database, Store, StoredEntry};
use crate::{extract, feed, html, sanitize, shape};

/// Length of the plain-text summary in RSS `description` and JSON `summary`.
const SUMMARY_CHARS: usize = 300;

/// Dates further ahead than this are treated as wrong and replaced by the first-seen time
/// (a feed dated next year would otherwise sit on top of every reader's list).
const MAX_FUTURE_SKEW: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What a successful refresh did.
#[derive(Debug, Clone, Default)]
pub struct SourceOk {
    /// The origin answered 304 Not Modified (or was not asked: see `retry_after`).
    pub unchanged: bool,
    pub entries: usize,
    pub new_entries: usize,
    pub articles: usize,
    pub article_errors: usize,
    /// Something worth telling that did not stop the source (a feed found by autodiscovery,
    /// articles that could not be fetched).
    pub notes: Vec<String>,
    /// How long the origin said its feed stays fresh (`Cache-Control: max-age`).
    pub max_age: Option<Duration>,
    /// The origin asked not to be fetched before this time (an earlier `Retry-After`).
    pub retry_after: Option<DateTime<Utc>>,
    /// Items of the feed not read into an entry (empty, or a repeated id).
    pub dropped: usize,
    /// Entries whose link is shared with other entries of the feed (a podcast's home page):
    /// not a permalink, so the feed's own content is published for them.
    pub shared_links: usize,
    /// Entries left out by the source's `include`/`exclude` rules.
    pub filtered: usize,
    /// Article pages that were not the article (feed content kept, tried again later).
    pub not_articles: usize,
}

/// Counters kept while refreshing.
#[derive(Debug, Default)]
struct Stats {
    feed_fetches: AtomicU64,
    feed_not_modified: AtomicU64,
    feed_errors: AtomicU64,
    articles_extracted: AtomicU64,
    article_errors: AtomicU64,
    /// Time spent extracting articles (CPU work on blocking threads), in microseconds.
    extract_micros: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// The engine's counters at one moment (for `/metrics` and the run summary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub feed_fetches: u64,
    pub feed_not_modified: u64,
    pub feed_errors: u64,
    pub articles_extracted: u64,
    pub article_errors: u64,
    pub extract_micros: u64,
    /// HTTP requests sent to origins.
    pub requests: u64,
    /// Body bytes received from origins (after decompression).
    pub bytes: u64,
}

impl std::ops::Add for StatsSnapshot {
    type Output = StatsSnapshot;
    fn add(self, o: StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            feed_fetches: self.feed_fetches + o.feed_fetches,
            feed_not_modified: self.feed_not_modified + o.feed_not_modified,
            feed_errors: self.feed_errors + o.feed_errors,
            articles_extracted: self.articles_extracted + o.articles_extracted,
            article_errors: self.article_errors + o.article_errors,
            extract_micros: self.extract_micros + o.extract_micros,
            requests: self.requests + o.requests,
            bytes: self.bytes + o.bytes,
        }
    }
}

/// A fetched feed: unchanged since last time, or parsed.
#[derive(Debug)]
pub enum FeedFetch {
    NotModified { max_age: Option<Duration> },
    Parsed { feed: Box<feed::Feed>, validators: Validators, max_age: Option<Duration>, notes: Vec<String> },
}

/// What [`Engine::fetch_articles`] did.
#[derive(Debug, Default)]
pub struct ArticlesDone {
    pub articles: usize,
    pub article_errors: usize,
    /// Pages that answered but are not the article (a consent wall, a bot challenge…).
    pub not_articles: usize,
    pub shared_links: usize,
    pub notes: Vec<String>,
}

/// The shared machinery of `run` and `serve`: the config, one HTTP client, one store.
pub struct Engine {
    config: Arc<Config>,
    fetcher: Fetcher,
    /// The store's connections: one for SQLite, `database_connections` for PostgreSQL.
    store: Vec<Mutex<Store>>,
    /// Where [`Engine::store`] starts looking for a free connection.
    next_store: AtomicU64,
    /// Other processes may share the store (PostgreSQL).
    shared: bool,
    stats: Stats,
    /// Feeds come from strangers (`/feed?url=`), not from the config: nothing is trusted.
    anonymous: bool,
    /// The site rules of `settings.rules` and `settings.ftr_rules`.
    rules: Arc<RuleSet>,
    /// This process, as other processes on a shared database see it.
    node: store::Node,
}

/// How long a claim on a source outlives its refresh's time budget, for a process that does
/// not renew its claims (`run`): one killed -9 mid-refresh holds its sources this much longer
/// than the refresh could have taken.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// Per-host politeness across the processes sharing a database, on a connection of its own
/// (a request waiting for a slot must not wait for the store's other work, nor it for him).
struct StoreGate {
    store: Mutex<Store>,
    node: String,
    next: AtomicU64,
    /// A slot outlives its request's timeout by this much at most (a killed process's).
    lease: Duration,
}

impl StoreGate {
    fn open(database: &store::Database, node: &str, timeout: Duration) -> Result<StoreGate, RefreshError> {
        Ok(StoreGate {
            store: Mutex::new(Store::open(database)?),
            node: node.to_owned(),
            next: AtomicU64::new(0),
            lease: timeout + Duration::from_secs(10),
        })
    }
}

impl crate::fetch::SharedHostGate for StoreGate {
    fn try_acquire(&self, host: &str, per_host: usize, delay: Duration) -> Result<String, Duration> {
        let token = format!("{}#{}", self.node, self.next.fetch_add(1, Ordering::Relaxed));
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        match store.acquire_host(host, &token, per_host, delay, self.lease, Utc::now()) {
            Ok(Ok(())) => Ok(token),
            Ok(Err(wait)) => Err(wait),
            // The database out of reach: the request goes ahead (the refresh fails on the
            // store anyway) rather than waiting for ever.
            Err(_) => Ok(String::new()),
        }
    }

    fn release(&self, host: &str, token: &str) {
        if !token.is_empty() {
            let _ = self.store.lock().unwrap_or_else(|p| p.into_inner()).release_host(host, token);
        }
    }
}

/// This process: host, pid, version, and an id unique across restarts (the same for every
/// engine of the process: a config reload is not a new process).
fn this_node() -> store::Node {
    static NODE: std::sync::OnceLock<store::Node> = std::sync::OnceLock::new();
    NODE.get_or_init(new_node).clone()
}

fn new_node() -> store::Node {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let host = match unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } {
        0 => String::from_utf8_lossy(&buf[..buf.iter().position(|&b| b == 0).unwrap_or(buf.len())]).into_owned(),
        _ => "unknown".to_owned(),
    };
    let now = Utc::now();
    let pid = std::process::id();
    store::Node {
        id: format!("{host}:{pid}:{}", now.timestamp_millis()),
        host,
        pid: i64::from(pid),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started: now,
        seen: now,
        refreshes: 0,
    }
}

impl Engine {
    /// The engine of the configured sources: their feed URLs are trusted, the links inside
    /// the feeds are not (see [`Engine::article_guard`]).
    pub fn open(config: Arc<Config>) -> Result<Engine, RefreshError> {
        let mut exceptions = Guard::new(&config.settings.allow_private_hosts);
        for source in &config.sources {
            exceptions = exceptions.union(&source_guard(&config, source));
        }
        let database = &config.settings.database;
        let connections = if database.path().is_some() { 1 } else { config.settings.database_connections.max(1) };
        let store = (0..connections).map(|_| Store::open(database)).collect::<Result<Vec<_>, _>>()?;
        Engine::with(config, store, exceptions, false)
    }

    /// The engine of `/feed?url=`: every URL it fetches is checked by the address guard, and
    /// what it fetches is kept in a store of its own ([`anonymous_database`]): an anonymous
    /// caller can neither read the articles of the configured sources (an intranet's, say)
    /// nor use up their attempts.
    pub fn anonymous(config: Arc<Config>) -> Result<Engine, RefreshError> {
        let store = Store::open(&anonymous_database(&config.settings.database))?;
        let exceptions = Guard::new(&config.settings.allow_private_hosts);
        Engine::with(config, vec![store], exceptions, true)
    }

    fn with(
        config: Arc<Config>,
        store: Vec<Store>,
        exceptions: Guard,
        anonymous: bool,
    ) -> Result<Engine, RefreshError> {
        let fetcher = Fetcher::new(&config.settings, exceptions).map_err(|e| RefreshError::Internal(e.to_string()))?;
        let rules = Arc::new(RuleSet::load(config.settings.rules.as_deref(), config.settings.ftr_rules.as_deref()));
        let node = this_node();
        let shared = store.first().is_some_and(Store::is_shared);
        let store = store.into_iter().map(Mutex::new).collect();
        let engine = Engine {
            config,
            fetcher,
            store,
            next_store: AtomicU64::new(0),
            shared,
            stats: Stats::default(),
            anonymous,
            rules,
            node,
        };
        if shared {
            let database = engine.config.settings.database.clone();
            let gate = StoreGate::open(&database, &engine.node.id, engine.config.settings.timeout)?;
            engine.fetcher.share_host_gate(Arc::new(gate));
        }
        Ok(engine)
    }

    /// This process.
    pub fn node(&self) -> &store::Node {
        &self.node
    }

    /// True when other processes may share the store (PostgreSQL).
    pub fn shared(&self) -> bool {
        self.shared
    }

    /// Announces this process in the store (`refeed status` and `/metrics` list them). On a
    /// database this process owns alone (SQLite, under the run lock), claims left by a
    /// killed process are forgotten first.
    pub fn announce(&self) -> Result<(), RefreshError> {
        let store = self.store();
        if !store.is_shared() {
            store.clear_claims()?;
        }
        Ok(store.announce(&store::Node { seen: Utc::now(), ..self.node.clone() })?)
    }

    /// Claims the refresh of `source` for this process (see [`Store::claim`]); `respect_due`
    /// unless the refresh was asked for. `lease`: how long the claim holds unless renewed
    /// ([`Engine::renew_claims`]); `None`: the source's whole time budget and a margin.
    pub fn claim(
        &self,
        source: &Source,
        respect_due: bool,
        lease: Option<Duration>,
    ) -> Result<store::Claim, RefreshError> {
        let lease = lease.unwrap_or(self.config.settings.source_budget + LEASE_MARGIN);
        Ok(self.store().claim(&source.name, source.url.as_str(), &self.node.id, Utc::now(), lease, respect_due)?)
    }

    /// Extends this process's claims (the refreshes it is making) by `lease` from now, and
    /// says it is alive.
    pub fn renew_claims(&self, lease: Duration) -> Result<(), RefreshError> {
        let now = Utc::now();
        let store = self.store();
        store.renew_claims(&self.node.id, now, lease)?;
        Ok(store.heartbeat(&self.node.id, now)?)
    }

    /// Ends this process's claim on `source`; every process refreshes it next at `next_due`.
    pub fn release(&self, source: &Source, next_due: Option<chrono::DateTime<Utc>>) -> Result<(), RefreshError> {
        let mut store = self.store();
        Ok(store.release(&source.name, &self.node.id, next_due)?)
    }

    /// The site rules (and what could not be read of them).
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The store (see the module's notes on calling it from async code): a free connection
    /// of the pool, else the next one as soon as it is free.
    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        let n = self.store.len();
        let start = self.next_store.fetch_add(1, Ordering::Relaxed) as usize % n;
        for k in 0..n {
            if let Ok(guard) = self.store[(start + k) % n].try_lock() {
                return guard;
            }
        }
        self.store[start].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> StatsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            feed_fetches: load(&self.stats.feed_fetches),
            feed_not_modified: load(&self.stats.feed_not_modified),
            feed_errors: load(&self.stats.feed_errors),
            articles_extracted: load(&self.stats.articles_extracted),
            article_errors: load(&self.stats.article_errors),
            extract_micros: load(&self.stats.extract_micros),
            requests: self.fetcher.requests(),
            bytes: self.fetcher.bytes_fetched(),
        }
    }

    /// What a link inside `source`'s feed may reach: public addresses, plus the exceptions
    /// of the config and, for a configured source, its feed's own host and port.
    pub fn article_guard(&self, source: &Source) -> Guard {
        if self.anonymous {
            Guard::new(&self.config.settings.allow_private_hosts)
        } else {
            source_guard(&self.config, source)
        }
    }

    /// How many entries of one feed are kept.
    fn entry_limit(&self, source: &Source) -> usize {
        source.max_items.unwrap_or(self.config.settings.max_entries)
    }

    /// Refreshes `source`: fetches its feed, stores what is new and extracts new articles, all
    /// within `source_budget`. A failure is recorded in the store with its kind (what was
    /// stored before stays).
    pub async fn refresh(&self, source: &Source) -> Result<SourceOk, RefreshError> {
        let result = self.refresh_stages(source).await;
        if let Err(e) = &result {
            add(&self.stats.feed_errors, 1);
            self.record_failure(source, e);
        }
        result
    }

    /// Records `source`'s failure in the store, with its kind (what was stored before stays).
    pub fn record_failure(&self, source: &Source, e: &RefreshError) {
        let _ = self.store().record_failure(&source.name, source.url.as_str(), &e.kind().to_stored(), &e.to_string());
    }

    async fn refresh_stages(&self, source: &Source) -> Result<SourceOk, RefreshError> {
        let deadline = tokio::time::Instant::now() + self.config.settings.source_budget;
        let mut ok = SourceOk::default();
        let state = self.store().source_state(&source.name)?;
        let same_url = state.url.as_deref() == Some(source.url.as_str());
        if let (Some(since), true) = (state.gone_since, same_url) {
            return Err(RefreshError::Gone { url: source.url.clone(), since });
        }
        if let (Some(until), true) = (state.retry_after, same_url)
            && until > Utc::now()
        {
            ok.unchanged = true;
            ok.entries = self.store().listed_entries(&source.name)?.len();
            ok.retry_after = Some(until);
            ok.notes.push(format!("not fetched: the origin asked to wait until {} (Retry-After)", until.to_rfc3339()));
            return Ok(ok);
        }
        let guard = self.article_guard(source);
        match self.fetch_feed(source, Some(&state.validators), &guard).await? {
            FeedFetch::NotModified { max_age } => {
                (ok.unchanged, ok.max_age) = (true, max_age);
                self.store().record_unchanged(&source.name, Utc::now())?;
            }
            FeedFetch::Parsed { feed, validators, max_age, notes } => {
                ok.max_age = max_age;
                ok.notes = notes;
                self.ingest(source, *feed, &validators, &mut ok)?;
            }
        }
        let listed = newest_first(self.store().listed_entries(&source.name)?, source.max_items);
        ok.entries = listed.len();
        if source.full_text {
            let done = self.fetch_articles(source, &guard, &listed, deadline).await?;
            (ok.articles, ok.article_errors, ok.shared_links) = (done.articles, done.article_errors, done.shared_links);
            ok.not_articles = done.not_articles;
            ok.notes.extend(done.notes);
        }
        Ok(ok)
    }

    /// Fetches and parses `source`'s feed (conditionally with `validators`); when the origin
    /// sends an HTML page, follows the feed the page advertises, as feed readers do, and says
    /// so in the notes.
    pub async fn fetch_feed(
        &self,
        source: &Source,
        validators: Option<&Validators>,
        guard: &Guard,
    ) -> Result<FeedFetch, RefreshError> {
        add(&self.stats.feed_fetches, 1);
        let access = if self.anonymous { Access::Guarded(guard) } else { Access::Trusted };
        let body = match self.fetcher.get(&source.url, Kind::Feed, validators, access).await {
            Ok(Fetched::Body(body)) => body,
            Ok(Fetched::NotModified { max_age }) => {
                add(&self.stats.feed_not_modified, 1);
                return Ok(FeedFetch::NotModified { max_age });
            }
            Err(e) => return Err(self.fetch_failed(source, e)),
        };
        let (max_age, validators) = (body.max_age, body.validators.clone());
        let mut notes = Vec::new();
        let feed = self.parse_or_discover(source, guard, body, &mut notes).await?;
        notes.extend(feed.problems.iter().cloned());
        Ok(FeedFetch::Parsed { feed: Box::new(feed), validators, max_age, notes })
    }

    /// A failed feed fetch as the error to report, recording what the origin said: `410 Gone`
    /// (not fetched again until the URL changes) and `Retry-After` (not before then).
    fn fetch_failed(&self, source: &Source, e: fetch::FetchError) -> RefreshError {
        let url = source.url.clone();
        let now = Utc::now();
        let message = format!("{url}: {e}");
        let recorded = match &e {
            fetch::FetchError::Status { status: 410, .. } => {
                let recorded = self.store().record_gone(&source.name, url.as_str(), &message, now);
                recorded.map(|()| RefreshError::GoneNow { url })
            }
            &fetch::FetchError::Status { status: status @ (429 | 503), retry_after: Some(ref value) } => {
                match fetch::retry_after_time(value, now) {
                    Some(until) => {
                        let recorded = self.store().record_retry_after(&source.name, url.as_str(), &message, until);
                        recorded.map(|()| RefreshError::RateLimited { url, status, until })
                    }
                    None => Ok(RefreshError::Fetch { url, source: e }),
                }
            }
            _ => Ok(RefreshError::Fetch { url, source: e }),
        };
        recorded.unwrap_or_else(RefreshError::Store)
    }

    /// Parses a feed body; when it is an HTML page, follows the feed link the page advertises.
    async fn parse_or_discover(
        &self,
        source: &Source,
        guard: &Guard,
        body: fetch::Body,
        notes: &mut Vec<String>,
    ) -> Result<feed::Feed, RefreshError> {
        if body.bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(RefreshError::Empty { url: body.url });
        }
        let (result, body) = self.parse(source, body).await;
        let error = match result {
            Ok(feed) => return Ok(feed),
            // A page source is a page: its selectors are all there is to follow.
            Err(e) if source.page.is_some() => return Err(RefreshError::Feed { url: body.url, source: e }),
            Err(e) => e,
        };
        let looks_html = body.content_type.as_deref().is_some_and(|c| c.contains("html"))
            || String::from_utf8_lossy(&body.bytes[..body.bytes.len().min(1024)])
                .to_ascii_lowercase()
                .contains("<html");
        let links = if looks_html {
            let text = fetch::charset::decode_html(&body.bytes, body.content_type.as_deref()).text;
            feed::discover_feed_links(&text, &body.url)
        } else {
            Vec::new()
        };
        let Some(feed_url) = links.into_iter().find(|l| *l != body.url) else {
            return Err(match looks_html {
                true => RefreshError::PageWithoutFeed { url: body.url },
                false => RefreshError::Feed { url: body.url, source: error },
            });
        };
        // The page is the configured URL's, but the link in it is the page's: trusted only
        // where it stays on the configured feed's own host and port.
        let same_origin = feed_url.origin() == source.url.origin();
        let access = if same_origin && !self.anonymous { Access::Trusted } else { Access::Guarded(guard) };
        let advertised = |source| RefreshError::Advertised { page: body.url.clone(), source: Box::new(source) };
        let second = match self.fetcher.get(&feed_url, Kind::Feed, None, access).await {
            Ok(Fetched::Body(b)) => b,
            Ok(Fetched::NotModified { .. }) => {
                let e = fetch::FetchError::Status { status: 304, retry_after: None };
                return Err(advertised(RefreshError::Fetch { url: feed_url, source: e }));
            }
            Err(e) => return Err(advertised(RefreshError::Fetch { url: feed_url, source: e })),
        };
        let (result, _) = self.parse(source, second).await;
        let feed = result.map_err(|e| advertised(RefreshError::Feed { url: feed_url.clone(), source: e }))?;
        notes.push(format!(
            "{} is an HTML page; using the feed it advertises: {feed_url} (update the config)",
            body.url
        ));
        Ok(feed)
    }

    /// Parses on a blocking thread (it is CPU work), handing the body back.
    async fn parse(&self, source: &Source, body: fetch::Body) -> (Result<feed::Feed, feed::FeedError>, fetch::Body) {
        let limits = feed::Limits { max_entries: self.entry_limit(source), cpu_limit: self.config.settings.cpu_limit };
        let (bytes, ct, url) = (body.bytes, body.content_type.clone(), body.url.clone());
        let page = source.page.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let r = match &page {
                Some(sel) => {
                    let html = fetch::charset::decode_html(&bytes, ct.as_deref()).text;
                    feed::page::parse_page(&html, &url, sel, limits)
                }
                None => feed::parse_feed(&bytes, ct.as_deref(), &url, limits),
            };
            (r, bytes)
        })
        .await;
        match parsed {
            Ok((r, bytes)) => (r, fetch::Body { bytes, ..body }),
            Err(e) => (
                Err(feed::FeedError::Invalid(format!("internal error (a bug in refeed's feed reader): {e}"))),
                fetch::Body { bytes: Vec::new(), ..body },
            ),
        }
    }

    /// Stores the entries of a freshly parsed feed (the newest `max_items`, else
    /// `max_entries`); says what was dropped and cut. A feed whose items all fail to read is
    /// a failure, not an empty feed: its last good entries stay.
    pub fn ingest(
        &self,
        source: &Source,
        feed: feed::Feed,
        validators: &Validators,
        ok: &mut SourceOk,
    ) -> Result<(), RefreshError> {
        if feed.entries.is_empty() && feed.items_found > 0 {
            return Err(RefreshError::NoEntries { url: source.url.clone(), items: feed.items_found });
        }
        if feed.dropped > 0 {
            ok.dropped = feed.dropped;
            ok.notes.push(format!(
                "{} item(s) of the feed dropped: empty, or repeating an earlier entry's id",
                feed.dropped
            ));
        }
        let (entries, filtered) = shape_entries(&source.shaping, feed.entries);
        if !filtered.is_empty() {
            ok.filtered = filtered.len();
            let shown: Vec<String> =
                filtered.iter().take(3).map(|(title, rule)| format!("\"{title}\" by {rule}")).collect();
            ok.notes.push(format!(
                "{} entries filtered out (include/exclude): {}{}",
                filtered.len(),
                shown.join(", "),
                if filtered.len() > shown.len() { ", …" } else { "" }
            ));
        }
        let entries =
            keep_newest(entries, feed.items_found, source.max_items, self.config.settings.max_entries, &mut ok.notes);
        ok.new_entries = self.store().record_feed(
            &source.name,
            source.url.as_str(),
            validators,
            feed.title.as_deref(),
            feed.site_url.as_ref().map(Url::as_str),
            feed.description.as_deref(),
            &entries,
            Utc::now(),
        )?;
        Ok(())
    }

    /// Fetches and extracts the article behind each of `listed` that needs one (never
    /// extracted, or failed fewer than `article_attempts` times), storing each as it arrives,
    /// until `deadline`: what is under way then is abandoned without counting against it.
    pub async fn fetch_articles(
        &self,
        source: &Source,
        guard: &Guard,
        listed: &[StoredEntry],
        deadline: tokio::time::Instant,
    ) -> Result<ArticlesDone, RefreshError> {
        let mut done = ArticlesDone::default();
        let attempts = self.config.settings.article_attempts;
        let shared = shared_links(listed);
        let mut todo: Vec<Url> = Vec::new();
        // How much text the feed itself gives for each link (the quality guard's yardstick).
        let mut feed_text: HashMap<Url, usize> = HashMap::new();
        for e in listed {
            let Some(url) = e.entry.url.as_deref().and_then(|u| Url::parse(u).ok()) else { continue };
            if shared.contains(url.as_str()) {
                done.shared_links += 1;
            } else if self.store().needs_article(url.as_str(), attempts)? {
                let own = e.entry.content.as_deref().or(e.entry.summary.as_deref()).unwrap_or("");
                let chars = html::strip_tags(own).chars().filter(|c| !c.is_whitespace()).count();
                feed_text.insert(url.clone(), chars);
                todo.push(url);
            }
        }
        if done.shared_links > 0 {
            done.notes.push(format!(
                "{} entries share their link with another entry (shared link, feed content kept)",
                done.shared_links
            ));
        }
        let options = Arc::new(source.extract.clone());
        let total = todo.len();
        let in_flight: Mutex<HashSet<Url>> = Mutex::new(HashSet::new());
        let mut results = futures_util::stream::iter(todo)
            .map(|url| {
                let options = options.clone();
                let in_flight = &in_flight;
                async move {
                    // Counted before it is made: a page that kills the process is not retried
                    // for ever.
                    self.store().begin_article(url.as_str(), Utc::now())?;
                    in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(url.clone());
                    let result = fetch_and_extract_timed(&self.fetcher, &url, options, &self.rules, guard).await;
                    in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&url);
                    Ok::<_, RefreshError>((url, result))
                }
            })
            .buffer_unordered(self.config.settings.concurrency.max(1));
        let mut first_error = None;
        let mut first_flag = None;
        let mut finished = 0;
        // Each article is stored as it arrives: only the pages in flight are held in memory.
        loop {
            let next = match tokio::time::timeout_at(deadline, results.next()).await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(_) => {
                    drop(results);
                    let cut: Vec<Url> = in_flight.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
                    for url in &cut {
                        self.store().cancel_article(url.as_str())?;
                    }
                    done.notes.push(format!(
                        "the source's time (source_budget = {}) ran out: {} article(s) left for the next run",
                        config::show_duration(self.config.settings.source_budget),
                        total - finished
                    ));
                    break;
                }
            };
            finished += 1;
            let (url, result) = next?;
            let now = Utc::now();
            match result {
                Ok((Extracted { raw, article, more_pages }, took)) => {
                    add(&self.stats.extract_micros, took.as_micros() as u64);
                    let own = feed_text.get(&url).copied().unwrap_or(0);
                    match extract::verdict::not_an_article(&article, own) {
                        // The feed's own text is published meanwhile; tried again next time.
                        Some(why) => {
                            self.store().save_article_error(
                                url.as_str(),
                                &format!("{}{why}", store::NOT_AN_ARTICLE),
                                now,
                            )?;
                            done.not_articles += 1;
                            first_flag.get_or_insert(format!("{url}: {why}"));
                        }
                        None => {
                            self.store().save_article(url.as_str(), &raw, &article, now)?;
                            for (page_url, page_raw) in &more_pages {
                                self.store().save_page(page_url.as_str(), page_raw, now)?;
                            }
                            done.articles += 1;
                            add(&self.stats.articles_extracted, 1);
                        }
                    }
                }
                Err(e) => {
                    add(&self.stats.article_errors, 1);
                    self.store().save_article_error(url.as_str(), &e, now)?;
                    done.article_errors += 1;
                    first_error.get_or_insert(format!("{url}: {e}"));
                }
            }
        }
        if let Some(e) = first_flag {
            done.notes.push(format!(
                "{} page(s) are not the article (feed content kept, tried again next run); first: {e}",
                done.not_articles
            ));
        }
        if let Some(e) = first_error {
            done.notes.push(format!(
                "{} article(s) could not be fetched (feed content used instead); first: {e}",
                done.article_errors
            ));
        }
        Ok(done)
    }

    /// `listed` with the articles the store holds for their links.
    pub fn with_articles(&self, mut listed: Vec<StoredEntry>) -> Vec<StoredEntry> {
        let store = self.store();
        for e in &mut listed {
            if let Some(u) = &e.entry.url {
                e.article = store.article(u).ok().flatten();
            }
        }
        listed
    }

    /// The feed to publish for `source`, from what the store holds, within the size limits.
    /// `feed_base` is the URL of the folder the files are served from (self links).
    pub fn out_feed(&self, source: &Source, feed_base: Option<&str>) -> Result<OutFeed, RefreshError> {
        let mut out = self.unfitted_out_feed(source, feed_base)?;
        out.fit(self.size_limits());
        Ok(out)
    }

    fn unfitted_out_feed(&self, source: &Source, feed_base: Option<&str>) -> Result<OutFeed, RefreshError> {
        let published = self.published_entries(source)?;
        let state = self.store().source_state(&source.name)?;
        let template = feed_base.map(|b| OutFeed::template_in(b, &source.name));
        Ok(build_out_feed(source, &state, &published, template))
    }

    /// The entries `source`'s feed publishes, newest first: those the origin lists, and with
    /// `keep` or `max_items` also those it dropped, within them (see [`Source::keeps_history`]).
    pub fn published_entries(&self, source: &Source) -> Result<Vec<StoredEntry>, RefreshError> {
        let limit = source.max_items.unwrap_or(self.config.settings.max_entries);
        let entries = match source.keeps_history() {
            true => {
                let since = source.keep.and_then(|k| chrono::TimeDelta::from_std(k).ok()).map(|k| Utc::now() - k);
                self.store().history_entries(&source.name, since, limit)?
            }
            false => self.store().listed_entries(&source.name)?,
        };
        Ok(newest_first(entries, Some(limit).filter(|_| source.keeps_history()).or(source.max_items)))
    }

    /// The merged `feed`: its sources' published entries, newest first, each once (see
    /// [`publish::merge`]), within the size limits.
    pub fn merged_out_feed(&self, feed: &config::MergedFeed, feed_base: Option<&str>) -> Result<OutFeed, RefreshError> {
        let mut parts = Vec::new();
        for name in &feed.sources {
            if let Some(source) = self.config.sources.iter().find(|s| s.name == *name) {
                parts.push((self.unfitted_out_feed(source, feed_base)?, source.url.to_string()));
            }
        }
        let limit = feed.max_items.unwrap_or(self.config.settings.max_entries);
        let title = feed.title.clone().unwrap_or_else(|| feed.name.clone());
        let template = feed_base.map(|b| OutFeed::template_in(b, &feed.name));
        let mut out = publish::merge(&feed.name, &title, template, parts, limit);
        out.fit(self.size_limits());
        Ok(out)
    }

    /// Renders the merged `feed` and writes its files.
    pub fn publish_merged(
        &self,
        feed: &config::MergedFeed,
        feed_base: Option<&str>,
    ) -> Result<Vec<String>, RefreshError> {
        let out = self.merged_out_feed(feed, feed_base)?;
        self.write_named(&feed.name, &publish::Rendered::of(&out))?;
        Ok(out.notes)
    }

    /// How much of the entries' HTML is published.
    pub fn size_limits(&self) -> publish::SizeLimits {
        let st = &self.config.settings;
        publish::SizeLimits { entry: st.max_entry_size as usize, feed: st.max_published_size as usize }
    }

    /// Writes a rendered feed into the output folder (atomically, all formats or none).
    pub fn write(&self, source: &Source, rendered: &publish::Rendered) -> Result<(), RefreshError> {
        self.write_named(&source.name, rendered)
    }

    /// Writes the files of the feed `name` (a source's or a merged feed's).
    pub fn write_named(&self, name: &str, rendered: &publish::Rendered) -> Result<(), RefreshError> {
        let dir = &self.config.settings.output_dir;
        publish::write_rendered(dir, name, rendered).map_err(|source| RefreshError::Output { dir: dir.clone(), source })
    }

    /// Renders `source`'s feed in every format and writes the files. Returns what was left
    /// out to keep the feed within its size limits.
    pub fn publish(&self, source: &Source, feed_base: Option<&str>) -> Result<Vec<String>, RefreshError> {
        let out = self.out_feed(source, feed_base)?;
        self.write(source, &publish::Rendered::of(&out))?;
        Ok(out.notes)
    }

    /// `index.opml` in the output folder, listing the published sources.
    pub fn write_opml(&self) -> Result<(), RefreshError> {
        let settings = &self.config.settings;
        let feed_url =
            |file: String| settings.base_url.as_ref().and_then(|b| b.join(&file).ok()).map_or(file, String::from);
        let rss = publish::Format::Rss;
        let lines = self.opml_sources(|name| rss.path(&settings.output_dir, name).exists(), feed_url)?;
        let path = settings.output_dir.join("index.opml");
        publish::write_atomic(&path, publish::to_opml(&lines, Utc::now()).as_bytes())
            .map_err(|source| RefreshError::Output { dir: settings.output_dir.clone(), source })
    }

    /// The OPML lines of the sources `published` says a reader can subscribe to, with the
    /// URL `feed_url` makes of each RSS file name.
    pub fn opml_sources(
        &self,
        published: impl Fn(&str) -> bool,
        feed_url: impl Fn(String) -> String,
    ) -> Result<Vec<OpmlSource>, store::StoreError> {
        let mut lines = Vec::new();
        let rss = publish::Format::Rss.ext();
        for source in self.config.sources.iter().filter(|s| published(&s.name)) {
            let state = self.store().source_state(&source.name)?;
            lines.push(OpmlSource {
                name: source.name.clone(),
                title: source.title.clone().or(state.title).unwrap_or_else(|| source.name.clone()),
                site_url: state.site_url,
                feed_url: feed_url(format!("{}.{rss}", source.name)),
            });
        }
        for feed in self.config.feeds.iter().filter(|f| published(&f.name)) {
            lines.push(OpmlSource {
                name: feed.name.clone(),
                title: feed.title.clone().unwrap_or_else(|| feed.name.clone()),
                site_url: None,
                feed_url: feed_url(format!("{}.{rss}", feed.name)),
            });
        }
        Ok(lines)
    }
}

/// The store of `/feed?url=` beside the configured one: `refeed.db` -> `refeed.any-url.db`.
pub fn anonymous_database(database: &Database) -> Database {
    match database {
        Database::Sqlite(path) => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "refeed".into());
            Database::Sqlite(path.with_file_name(format!("{stem}.any-url.db")))
        }
        // A schema of its own in the same database: pruning what strangers asked for never
        // touches the configured sources' rows.
        Database::Postgres { url, .. } => {
            Database::Postgres { url: url.clone(), schema: Some("refeed_any_url".into()) }
        }
    }
}

/// The guard of a configured source's links: the config's exceptions, the source's own, and
/// the host and port of its feed (a private intranet feed links to its own host).
fn source_guard(config: &Config, source: &Source) -> Guard {
    Guard::new(&config.settings.allow_private_hosts).with_entries(&source.allow_private_hosts).with_origin(&source.url)
}

/// The newest `max_items` (or `max_entries`, said in a note) of a feed's entries; `listed` is
/// how many items the feed held (the parser keeps no more than the limit in memory).
pub fn keep_newest(
    mut entries: Vec<feed::Entry>,
    listed: usize,
    max_items: Option<usize>,
    max_entries: usize,
    notes: &mut Vec<String>,
) -> Vec<feed::Entry> {
    let limit = max_items.unwrap_or(max_entries);
    if listed > limit && max_items.is_none() {
        notes.push(format!("the feed lists {listed} entries; kept the newest {limit} (settings.max_entries)"));
    }
    if entries.len() > limit {
        // Newest first; undated entries count as new (they will be dated when seen).
        entries.sort_by_key(|e| std::cmp::Reverse(e.published.or(e.updated).unwrap_or(DateTime::<Utc>::MAX_UTC)));
        entries.truncate(limit);
    }
    entries
}

/// The date an entry is published under: its own, unless missing or implausibly far in the
/// future, then when we first saw it.
fn entry_date(e: &StoredEntry) -> DateTime<Utc> {
    let page_date = e.article.as_ref().and_then(|a| a.published);
    match e.entry.published.or(e.entry.updated).or(page_date) {
        Some(d) if d <= e.first_seen.max(Utc::now()) + MAX_FUTURE_SKEW => d,
        _ => e.first_seen,
    }
}

/// Newest first (feed order breaks ties), cut to `max_items`.
pub fn newest_first(mut entries: Vec<StoredEntry>, max_items: Option<usize>) -> Vec<StoredEntry> {
    entries.sort_by_key(|e| std::cmp::Reverse(entry_date(e)));
    if let Some(max) = max_items {
        entries.truncate(max);
    }
    entries
}

/// Links that more than one listed entry points to: a podcast's or a comic's home page, not
/// a permalink. Fetching it would paste the same page into every entry.
fn shared_links(listed: &[StoredEntry]) -> HashSet<&str> {
    let mut seen = HashSet::new();
    let mut shared = HashSet::new();
    for url in listed.iter().filter_map(|e| e.entry.url.as_deref()) {
        if !seen.insert(url) {
            shared.insert(url);
        }
    }
    shared
}

/// A fetched page (decoded to UTF-8), what the extractor made of it, and the later pages of
/// a story told over several (each as fetched, so a re-extraction can rebuild it).
#[derive(Debug, Clone)]
pub struct Extracted {
    pub raw: String,
    pub article: extract::Article,
    pub more_pages: Vec<(Url, String)>,
}

/// An extraction and the time it took.
type Timed = (Extracted, Duration);

/// Fetches one article page and extracts it (on a blocking thread: extraction is CPU work),
/// assembling a story told over several pages. The site rule for each page's host (if any)
/// applies over `options`.
pub async fn fetch_and_extract(
    fetcher: &Fetcher,
    url: &Url,
    options: Arc<extract::Options>,
    rules: &RuleSet,
    guard: &Guard,
) -> Result<Extracted, String> {
    fetch_and_extract_timed(fetcher, url, options, rules, guard).await.map(|(extracted, _)| extracted)
}

/// [`fetch_and_extract`], also telling how long extraction itself took.
async fn fetch_and_extract_timed(
    fetcher: &Fetcher,
    url: &Url,
    options: Arc<extract::Options>,
    rules: &RuleSet,
    guard: &Guard,
) -> Result<Timed, String> {
    let ((mut raw, mut article), mut took) = fetch_page(fetcher, url, &options, rules, guard).await?;
    // A rule's link to the whole story on one page: that page instead.
    if let Some(single) = article.single_page.take().and_then(|s| Url::parse(&s).ok())
        && let Ok(((single_raw, single_article), single_took)) =
            fetch_page(fetcher, &single, &options, rules, guard).await
        && !single_article.text.trim().is_empty()
    {
        (raw, article, took) = (single_raw, single_article, took + single_took);
        article.next_page = None;
    }
    // Multi-page stories: follow the page's own "next" link while it continues this story.
    let mut more_pages = Vec::new();
    let mut story = Story::new(url, &options);
    while let Some(next_url) = story.next(&article) {
        let Ok(((page_raw, page), page_took)) = fetch_page(fetcher, &next_url, &options, rules, guard).await else {
            break;
        };
        took += page_took;
        if !story.append(&mut article, page) {
            break;
        }
        more_pages.push((next_url, page_raw));
    }
    article.next_page = None;
    article.single_page = None;
    Ok((Extracted { raw, article, more_pages }, took))
}

/// A story over several pages being put together: which page comes next, and whether it
/// adds anything.
pub struct Story {
    seen: Vec<Url>,
    max_pages: usize,
    next: Option<String>,
}

impl Story {
    pub fn new(first: &Url, options: &extract::Options) -> Story {
        Story { seen: vec![first.clone()], max_pages: options.max_pages.max(1), next: None }
    }

    /// The page after the last one appended (or after `first`, read from `article`), unless
    /// the story is long enough or loops.
    pub fn next(&mut self, article: &extract::Article) -> Option<Url> {
        let next = match self.seen.len() {
            1 => article.next_page.clone(),
            _ => self.next.take(),
        };
        let next = next.and_then(|n| Url::parse(&n).ok())?;
        if self.seen.len() >= self.max_pages || self.seen.contains(&next) {
            return None;
        }
        self.seen.push(next.clone());
        Some(next)
    }

    /// Appends `page` to `article`; false when it adds nothing (the story ended).
    pub fn append(&mut self, article: &mut extract::Article, page: extract::Article) -> bool {
        if page.text.is_empty() || article.text.contains(&page.text) {
            return false;
        }
        article.html.push('\n');
        article.html.push_str(&page.html);
        article.text.push_str("\n\n");
        article.text.push_str(&page.text);
        self.next = page.next_page;
        true
    }
}

/// One page as fetched (decoded), its extraction, and the time that took.
type PageTimed = ((String, extract::Article), Duration);

async fn fetch_page(
    fetcher: &Fetcher,
    url: &Url,
    options: &Arc<extract::Options>,
    rules: &RuleSet,
    guard: &Guard,
) -> Result<PageTimed, String> {
    let rule = rules.for_url(url);
    let headers = rule.as_ref().map(|r| r.headers.clone()).unwrap_or_default();
    let options = match &rule {
        Some(rule) => Arc::new(rule.apply(options)),
        None => options.clone(),
    };
    let fetched = fetcher.get_with(url, Kind::Page, None, Access::Guarded(guard), &headers).await;
    let body = match fetched.map_err(|e| e.to_string())? {
        Fetched::Body(b) => b,
        Fetched::NotModified { .. } => return Err("unexpected 304".into()),
    };
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let html = fetch::charset::decode_html(&body.bytes, body.content_type.as_deref()).text;
        let article =
            extract::article(&html, Some(&body.url), &options).map_err(|e| format!("extraction failed: {e}"))?;
        Ok(((html, article), started.elapsed()))
    })
    .await
    .map_err(|e| format!("extraction failed: {}", html::panic_message(&*e.into_panic())))?
}

/// The feed to publish: stored entries (newest first) with their articles. `self_template` is
/// the feed's public URL with `{ext}` for the format (see [`OutFeed::self_url`]).
pub fn build_out_feed(
    source: &Source,
    state: &store::SourceState,
    listed: &[StoredEntry],
    self_template: Option<String>,
) -> OutFeed {
    let shared = shared_links(listed);
    let items: Vec<OutItem> = listed
        .iter()
        .map(|e| {
            let entry = &e.entry;
            let base = entry.url.as_deref().and_then(|u| Url::parse(u).ok()).unwrap_or_else(|| source.url.clone());
            // Articles are stored per URL and may come from another source that shares it;
            // a source with `full_text = false` publishes only its feed's own content, and so
            // do entries whose link is shared by others (see `shared_links`).
            let own_link = entry.url.as_deref().is_none_or(|u| !shared.contains(u));
            let article = e.article.as_ref().filter(|a| source.full_text && own_link && !a.text.trim().is_empty());
            let (html, text) = match article {
                Some(a) => (a.html.clone(), a.text.clone()),
                None => {
                    let raw = entry.content.as_deref().or(entry.summary.as_deref()).unwrap_or("");
                    let html = sanitize::clean_html(raw, Some(&base));
                    let text = feed::html_to_plain(&html);
                    (html, text)
                }
            };
            let title = entry
                .title
                .clone()
                .or_else(|| article.and_then(|a| a.title.clone()))
                .unwrap_or_else(|| publish::summarize(&text, 80));
            OutItem {
                guid: entry.guid.clone(),
                url: entry.url.clone(),
                title,
                author: entry.author.clone().or_else(|| article.and_then(|a| a.byline.clone())),
                published: entry_date(e),
                updated: entry.updated.filter(|u| Some(*u) != entry.published),
                summary: publish::summarize(&text, SUMMARY_CHARS),
                html,
                categories: entry.categories.clone(),
                enclosures: entry.enclosures.clone(),
                image: entry.image.clone().or_else(|| article.and_then(|a| a.lead_image.clone())),
                source: None,
                language: article.and_then(|a| a.lang.clone()),
            }
        })
        .collect();
    OutFeed {
        name: source.name.clone(),
        title: source.title.clone().or_else(|| state.title.clone()).unwrap_or_else(|| source.name.clone()),
        site_url: state.site_url.clone(),
        description: state.description.clone(),
        self_template,
        // The newest item's date, not the time of rendering: an unchanged feed renders to the
        // same bytes, so its ETag stays and readers get 304s.
        updated: items
            .iter()
            .map(|i| i.updated.unwrap_or(i.published).max(i.published))
            .max()
            .or(state.last_success)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        items,
        notes: Vec::new(),
    }
}

/// A feed entry as filter rules see it; its content as text, made once.
struct EntryFields<'a> {
    entry: &'a feed::Entry,
    content: String,
}

impl shape::Fields for EntryFields<'_> {
    fn values(&self, field: shape::Field) -> Vec<&str> {
        let e = self.entry;
        match field {
            shape::Field::Title => e.title.as_deref().into_iter().collect(),
            shape::Field::Content => vec![self.content.as_str()],
            shape::Field::Author => e.author.as_deref().into_iter().collect(),
            shape::Field::Category => e.categories.iter().map(String::as_str).collect(),
            shape::Field::Link => e.url.as_deref().into_iter().collect(),
        }
    }
}

/// The entries a source keeps, rewritten (titles, links; tracking parameters out), and the
/// ones its filters left out, as (title or link, rule).
fn shape_entries(shaping: &config::Shaping, entries: Vec<feed::Entry>) -> (Vec<feed::Entry>, Vec<(String, String)>) {
    let mut kept = Vec::with_capacity(entries.len());
    let mut filtered = Vec::new();
    for mut e in entries {
        for rewrite in &shaping.rewrites {
            let value = match rewrite.field {
                shape::Field::Title => &mut e.title,
                _ => &mut e.url,
            };
            if let Some(v) = value.as_mut() {
                *v = rewrite.apply(v);
            }
        }
        if !shaping.keep_tracking {
            e.url = e.url.map(|u| shape::without_tracking(&u));
        }
        if !shaping.filters.is_empty() {
            let text = |html: &Option<String>| html.as_deref().map(html::strip_tags).unwrap_or_default();
            let content = format!("{} {}", text(&e.content), text(&e.summary));
            if let Some(rule) = shaping.filters.drops(&EntryFields { entry: &e, content }) {
                let label = e.title.clone().or_else(|| e.url.clone()).unwrap_or_else(|| e.guid.clone());
                filtered.push((label, rule.to_string()));
                continue;
            }
        }
        kept.push(e);
    }
    (kept, filtered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(guid: &str, url: Option<&str>, published: Option<DateTime<Utc>>) -> feed::Entry {
        feed::Entry { guid: guid.into(), url: url.map(str::to_owned), published, ..feed::Entry::default() }
    }

    #[test]
    fn future_and_missing_dates_fall_back_to_first_seen() {
        let first_seen = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let stored = |published| StoredEntry { entry: entry("x", None, published), first_seen, article: None };
        let next_year = Utc::now() + chrono::TimeDelta::days(365);
        assert_eq!(entry_date(&stored(Some(next_year))), first_seen);
        assert_eq!(entry_date(&stored(None)), first_seen);
        let long_ago = Utc.with_ymd_and_hms(1995, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(entry_date(&stored(Some(long_ago))), long_ago, "old dates are real dates");
    }
}
