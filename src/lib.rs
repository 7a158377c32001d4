//! refeed: turns the feeds you follow into clean, full-text feeds.
//!
//! The pipeline, stage after stage: [`config`] -> [`fetch`] -> [`feed`] -> [`extract`] ->
//! [`sanitize`] -> [`store`] -> [`publish`]. [`run`] is the one place where they meet.

pub mod config;
pub mod dates;
pub mod demo;
pub mod error;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod html;
pub mod publish;
pub mod sanitize;
pub mod serve;
pub mod store;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use url::Url;

use config::{Config, Source};
use fetch::guard::Guard;
use fetch::{Access, Fetched, Fetcher, Kind};
use publish::{OpmlSource, OutFeed, OutItem};
use store::{Store, StoredEntry};

/// Length of the plain-text summary in RSS `description` and JSON `summary`.
const SUMMARY_CHARS: usize = 300;

/// Dates further ahead than this are treated as wrong and replaced by the first-seen time
/// (a feed dated next year would otherwise sit on top of every reader's list).
const MAX_FUTURE_SKEW: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What one run did.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    pub sources_ok: usize,
    pub sources_failed: usize,
    pub new_entries: usize,
    /// Articles fetched and extracted in this run.
    pub articles: usize,
    pub article_errors: usize,
    /// Items of the feeds not read into an entry (empty, or a repeated id).
    pub dropped_entries: usize,
    pub bytes: u64,
    pub requests: u64,
    pub elapsed: Duration,
    pub reports: Vec<SourceReport>,
}

/// The outcome for one source.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    pub url: String,
    pub result: Result<SourceOk, String>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceOk {
    /// The origin answered 304 Not Modified.
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
}

/// A problem that stops the whole run (as opposed to one source failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("output folder {path}: {source}")]
    Output { path: String, source: std::io::Error },
    #[error("{0}")]
    Fetch(#[from] fetch::FetchError),
    #[error("another refeed run holds the lock {0} (use --wait to wait for it)")]
    Locked(String),
}

/// Whether a run waits for another one holding the lock, or gives up at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    #[default]
    FailFast,
    Wait,
}

/// Takes the run lock beside the database (overlapping cron jobs must not both work), held
/// until the returned file is dropped.
pub async fn take_lock(config: &Config, mode: LockMode) -> Result<std::fs::File, RunError> {
    let db = &config.settings.database;
    let path = db.with_file_name(format!(
        "{}.lock",
        db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "refeed".into())
    ));
    let shown = path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Output { path: dir.display().to_string(), source })?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| RunError::Output { path: shown.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) if mode == LockMode::Wait => tokio::task::spawn_blocking(move || {
            file.lock().map(|_| file).map_err(|source| RunError::Output { path: shown, source })
        })
        .await
        .map_err(|e| RunError::Output { path: path.display().to_string(), source: std::io::Error::other(e) })?,
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Locked(shown)),
        Err(std::fs::TryLockError::Error(source)) => Err(RunError::Output { path: shown, source }),
    }
}

/// Counters kept while refreshing (for `refeed serve`'s `/metrics`).
#[derive(Debug, Default)]
pub struct Stats {
    pub feed_fetches: AtomicU64,
    pub feed_not_modified: AtomicU64,
    pub feed_errors: AtomicU64,
    pub articles_extracted: AtomicU64,
    pub article_errors: AtomicU64,
    /// Time spent extracting articles (CPU work on blocking threads), in microseconds.
    pub extract_micros: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The shared machinery of `run` and `serve`: the config, one HTTP client, one store.
pub struct Engine {
    pub config: Arc<Config>,
    pub fetcher: Fetcher,
    store: Mutex<Store>,
    pub stats: Stats,
    /// Feeds come from strangers (`/feed?url=`), not from the config: nothing is trusted.
    anonymous: bool,
}

impl Engine {
    /// The engine of the configured sources: their feed URLs are trusted, the links inside
    /// the feeds are not (see [`Engine::article_guard`]).
    pub fn open(config: Arc<Config>) -> Result<Engine, RunError> {
        let mut exceptions = Guard::new(&config.settings.allow_private_hosts);
        for source in &config.sources {
            exceptions = exceptions.union(&source_guard(&config, source));
        }
        let fetcher = Fetcher::new(&config.settings, exceptions)?;
        Engine::with_fetcher(config, fetcher, false)
    }

    /// The engine of `/feed?url=`: every URL it fetches is checked by the address guard, and
    /// what it fetches is kept in a store of its own ([`anonymous_database`]): an anonymous
    /// caller can neither read the articles of the configured sources (an intranet's, say)
    /// nor use up their attempts.
    pub fn anonymous(config: Arc<Config>) -> Result<Engine, RunError> {
        let fetcher = Fetcher::new(&config.settings, Guard::new(&config.settings.allow_private_hosts))?;
        let store = Store::open(&anonymous_database(&config.settings.database))?;
        Ok(Engine { config, fetcher, store: Mutex::new(store), stats: Stats::default(), anonymous: true })
    }

    fn with_fetcher(config: Arc<Config>, fetcher: Fetcher, anonymous: bool) -> Result<Engine, RunError> {
        let store = Store::open(&config.settings.database)?;
        Ok(Engine { config, fetcher, store: Mutex::new(store), stats: Stats::default(), anonymous })
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

    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fetches `source`, stores what is new and extracts new articles. A failure is recorded
    /// in the store (what was stored before stays) and returned as one line naming the URL.
    pub async fn refresh(&self, source: &Source) -> Result<SourceOk, String> {
        let result = refresh_source(self, source).await;
        if let Err(e) = &result {
            let _ = self.store().record_failure(&source.name, source.url.as_str(), e);
        }
        result
    }

    /// The feed to publish for `source`, from what the store holds. `feed_base` is the URL of
    /// the folder the files are served from (self links).
    pub fn out_feed(&self, source: &Source, feed_base: Option<&str>) -> Result<OutFeed, String> {
        let listed =
            newest_first(self.store().listed_entries(&source.name).map_err(|e| e.to_string())?, source.max_items);
        let state = self.store().source_state(&source.name).map_err(|e| e.to_string())?;
        let template = feed_base.map(|b| OutFeed::template_in(b, &source.name));
        let mut out = build_out_feed(source, &state, &listed, template);
        out.fit(self.size_limits());
        Ok(out)
    }

    /// How much of the entries' HTML is published.
    pub fn size_limits(&self) -> publish::SizeLimits {
        let st = &self.config.settings;
        publish::SizeLimits { entry: st.max_entry_size as usize, feed: st.max_published_size as usize }
    }

    /// Renders the three formats and writes them into the output folder (atomically).
    /// Returns what was left out to keep the feed within its size limits.
    pub fn publish(&self, source: &Source, feed_base: Option<&str>) -> Result<Vec<String>, String> {
        let out = self.out_feed(source, feed_base)?;
        let rendered = publish::Rendered::of(&out);
        let dir = &self.config.settings.output_dir;
        publish::write_rendered(dir, &source.name, &rendered)
            .map_err(|e| format!("cannot write feed files in {}: {e}", dir.display()))?;
        Ok(out.notes)
    }

    /// `index.opml` in the output folder, listing the published sources.
    pub fn write_opml(&self) -> Result<(), RunError> {
        let settings = &self.config.settings;
        let feed_url =
            |file: String| settings.base_url.as_ref().and_then(|b| b.join(&file).ok()).map_or(file, String::from);
        let lines = self.opml_sources(|s| settings.output_dir.join(format!("{}.xml", s.name)).exists(), feed_url)?;
        let path = settings.output_dir.join("index.opml");
        publish::write_atomic(&path, publish::to_opml(&lines, Utc::now()).as_bytes())
            .map_err(|source| RunError::Output { path: path.display().to_string(), source })
    }

    /// The OPML lines of the sources `published` says a reader can subscribe to, with the
    /// URL `feed_url` makes of each RSS file name.
    pub fn opml_sources(
        &self,
        published: impl Fn(&Source) -> bool,
        feed_url: impl Fn(String) -> String,
    ) -> Result<Vec<OpmlSource>, store::StoreError> {
        let mut lines = Vec::new();
        for source in self.config.sources.iter().filter(|s| published(s)) {
            let state = self.store().source_state(&source.name)?;
            lines.push(OpmlSource {
                name: source.name.clone(),
                title: source.title.clone().or(state.title).unwrap_or_else(|| source.name.clone()),
                site_url: state.site_url,
                feed_url: feed_url(format!("{}.xml", source.name)),
            });
        }
        Ok(lines)
    }
}

/// The store of `/feed?url=` beside the configured one: `refeed.db` -> `refeed.any-url.db`.
pub fn anonymous_database(database: &std::path::Path) -> std::path::PathBuf {
    let stem = database.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "refeed".into());
    database.with_file_name(format!("{stem}.any-url.db"))
}

/// The guard of a configured source's links: the config's exceptions, the source's own, and
/// the host and port of its feed (a private intranet feed links to its own host).
fn source_guard(config: &Config, source: &Source) -> Guard {
    Guard::new(&config.settings.allow_private_hosts).with_entries(&source.allow_private_hosts).with_origin(&source.url)
}

/// One pass over every source: fetch, parse, extract new articles, store, publish.
/// `on_source` is called as each source finishes (for progress display).
pub async fn run(
    config: &Config,
    lock: LockMode,
    on_source: &(dyn Fn(&SourceReport) + Sync),
) -> Result<RunSummary, RunError> {
    let _lock = take_lock(config, lock).await?;
    let started_at = Utc::now();
    let started = Instant::now();
    let out_dir = &config.settings.output_dir;
    std::fs::create_dir_all(out_dir)
        .map_err(|source| RunError::Output { path: out_dir.display().to_string(), source })?;
    publish::sweep_temp_files(out_dir);
    let engine = Engine::open(Arc::new(config.clone()))?;
    let feed_base = config.settings.base_url.as_ref().map(|u| u.to_string());

    let reports: Vec<SourceReport> = futures_util::stream::iter(config.sources.iter())
        .map(|source| {
            let engine = &engine;
            let feed_base = feed_base.clone();
            async move {
                let work = async {
                    match engine.refresh(source).await {
                        Ok(mut ok) => engine.publish(source, feed_base.as_deref()).map(|notes| {
                            ok.notes.extend(notes);
                            ok
                        }),
                        Err(e) => Err(e),
                    }
                };
                // A panic is a bug, but it must cost one source, not the run (and the other
                // sources' feeds and the run record).
                let result = std::panic::AssertUnwindSafe(work)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|p| Err(format!("internal error (a bug in refeed): {}", html::panic_message(&*p))));
                let report = SourceReport { name: source.name.clone(), url: source.url.to_string(), result };
                on_source(&report);
                report
            }
        })
        .buffer_unordered(config.settings.concurrency.max(1))
        .collect()
        .await;

    let mut reports = reports;
    reports.sort_by_key(|r| config.sources.iter().position(|s| s.name == r.name));
    engine.write_opml()?;

    let mut summary = RunSummary {
        bytes: engine.fetcher.bytes_fetched(),
        requests: engine.fetcher.requests(),
        elapsed: started.elapsed(),
        ..RunSummary::default()
    };
    for r in &reports {
        match &r.result {
            Ok(ok) => {
                summary.sources_ok += 1;
                summary.new_entries += ok.new_entries;
                summary.articles += ok.articles;
                summary.article_errors += ok.article_errors;
                summary.dropped_entries += ok.dropped;
            }
            Err(_) => summary.sources_failed += 1,
        }
    }
    summary.reports = reports;
    engine.store().record_run(&store::RunRecord {
        started: started_at,
        finished: Utc::now(),
        sources_ok: summary.sources_ok,
        sources_failed: summary.sources_failed,
        new_entries: summary.new_entries,
        articles: summary.articles,
        bytes: summary.bytes,
    })?;
    Ok(summary)
}

async fn refresh_source(ctx: &Engine, source: &Source) -> Result<SourceOk, String> {
    let deadline = tokio::time::Instant::now() + ctx.config.settings.source_budget;
    let mut ok = SourceOk::default();
    let state = ctx.store().source_state(&source.name).map_err(|e| e.to_string())?;
    let now = Utc::now();
    let same_url = state.url.as_deref() == Some(source.url.as_str());
    if let (Some(since), true) = (state.gone_since, same_url) {
        return Err(format!(
            "{}: gone (HTTP 410 since {}); not fetched again: remove the source or give it a new URL",
            source.url,
            since.format("%Y-%m-%d")
        ));
    }
    if let (Some(until), true) = (state.retry_after, same_url)
        && until > now
    {
        ok.unchanged = true;
        ok.entries = ctx.store().listed_entries(&source.name).map_err(|e| e.to_string())?.len();
        ok.retry_after = Some(until);
        ok.notes.push(format!("not fetched: the origin asked to wait until {} (Retry-After)", until.to_rfc3339()));
        return Ok(ok);
    }
    Stats::add(&ctx.stats.feed_fetches, 1);
    let guard = ctx.article_guard(source);
    let access = if ctx.anonymous { Access::Guarded(&guard) } else { Access::Trusted };
    let fetched = match ctx.fetcher.get(&source.url, Kind::Feed, Some(&state.validators), access).await {
        Ok(f) => f,
        Err(e) => {
            Stats::add(&ctx.stats.feed_errors, 1);
            let message = format!("{}: {e}", source.url);
            let mut store = ctx.store();
            match &e {
                fetch::FetchError::Status { status: 410, .. } => {
                    store.record_gone(&source.name, source.url.as_str(), &message, now).map_err(|e| e.to_string())?;
                    return Err(format!("{message}: the feed is gone and will not be fetched again"));
                }
                fetch::FetchError::Status { status: 429 | 503, retry_after: Some(value) } => {
                    if let Some(until) = fetch::retry_after_time(value, now) {
                        store
                            .record_retry_after(&source.name, source.url.as_str(), &message, until)
                            .map_err(|e| e.to_string())?;
                        return Err(format!("{message}: next try after {} as the origin asked", until.to_rfc3339()));
                    }
                }
                _ => {}
            }
            return Err(message);
        }
    };
    match fetched {
        Fetched::NotModified { max_age } => {
            Stats::add(&ctx.stats.feed_not_modified, 1);
            ok.unchanged = true;
            ok.max_age = max_age;
            ctx.store().record_unchanged(&source.name, now).map_err(|e| e.to_string())?;
        }
        Fetched::Body(body) => {
            ok.max_age = body.max_age;
            let (feed, body) = parse_or_discover(ctx, source, &guard, body, &mut ok.notes).await.inspect_err(|_| {
                Stats::add(&ctx.stats.feed_errors, 1);
            })?;
            ok.notes.extend(feed.problems.iter().cloned());
            if feed.entries.is_empty() && feed.items_found > 0 {
                // Never silent: a feed whose items all fail to read is a failed source, not an
                // empty one (its last good feed stays published).
                return Err(format!(
                    "{}: the feed lists {} item(s) but none could be read",
                    source.url, feed.items_found
                ));
            }
            if feed.dropped > 0 {
                ok.dropped = feed.dropped;
                ok.notes.push(format!(
                    "{} item(s) of the feed dropped: empty, or repeating an earlier entry's id",
                    feed.dropped
                ));
            }
            let entries = keep_newest(
                feed.entries,
                feed.items_found,
                source.max_items,
                ctx.config.settings.max_entries,
                &mut ok.notes,
            );
            let site_url = feed.site_url.as_ref().map(Url::as_str);
            ok.new_entries = ctx
                .store()
                .record_feed(
                    &source.name,
                    source.url.as_str(),
                    &body.validators,
                    feed.title.as_deref(),
                    site_url,
                    feed.description.as_deref(),
                    &entries,
                    now,
                )
                .map_err(|e| e.to_string())?;
        }
    }

    let listed = newest_first(ctx.store().listed_entries(&source.name).map_err(|e| e.to_string())?, source.max_items);
    ok.entries = listed.len();
    if source.full_text {
        fetch_articles(ctx, source, &guard, &listed, &mut ok, deadline).await?;
    }
    Ok(ok)
}

/// The newest `max_items` (or `max_entries`, said in a note) of a feed's entries; `listed` is
/// how many items the feed held (the parser keeps no more than the limit in memory).
pub(crate) fn keep_newest(
    mut entries: Vec<feed::Entry>,
    listed: usize,
    max_items: Option<usize>,
    max_entries: usize,
    notes: &mut Vec<String>,
) -> Vec<feed::Entry> {
    let limit = entry_limit(max_items, max_entries);
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

/// How many entries of one feed are kept.
fn entry_limit(max_items: Option<usize>, max_entries: usize) -> usize {
    max_items.unwrap_or(max_entries)
}

/// Parses a feed body; when the origin sent an HTML page instead, follows the feed link the
/// page advertises (as feed readers do) and says so.
pub(crate) async fn parse_or_discover(
    ctx: &Engine,
    source: &Source,
    guard: &Guard,
    body: fetch::Body,
    notes: &mut Vec<String>,
) -> Result<(feed::Feed, fetch::Body), String> {
    let limits = feed::Limits {
        max_entries: entry_limit(source.max_items, ctx.config.settings.max_entries),
        cpu_limit: ctx.config.settings.cpu_limit,
    };
    let parse = |body: fetch::Body| async move {
        let (bytes, ct, url) = (body.bytes, body.content_type.clone(), body.url.clone());
        let res = tokio::task::spawn_blocking(move || {
            let r = feed::parse_feed(&bytes, ct.as_deref(), &url, limits);
            (r, bytes)
        })
        .await;
        match res {
            Ok((r, bytes)) => (r, fetch::Body { bytes, ..body }),
            Err(e) => (
                Err(feed::FeedError::Invalid(format!("internal error (a bug in refeed's feed reader): {e}"))),
                fetch::Body { bytes: Vec::new(), ..body },
            ),
        }
    };
    if body.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("{}: empty response", body.url));
    }
    let (result, body) = parse(body).await;
    match result {
        Ok(feed) => Ok((feed, body)),
        Err(e) => {
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
                return Err(format!("{}: {e}", body.url));
            };
            // The page is the configured URL's, but the link in it is the page's: trusted
            // only where it stays on the configured feed's own host and port.
            let same_origin = feed_url.origin() == source.url.origin();
            let access = if same_origin && !ctx.anonymous { Access::Trusted } else { Access::Guarded(guard) };
            let second = match ctx.fetcher.get(&feed_url, Kind::Feed, None, access).await {
                Ok(Fetched::Body(b)) => b,
                Ok(Fetched::NotModified { .. }) => return Err(format!("{feed_url}: unexpected 304")),
                Err(e) => {
                    return Err(format!("{} is an HTML page; its advertised feed {feed_url} failed: {e}", body.url));
                }
            };
            let (result, second) = parse(second).await;
            let feed =
                result.map_err(|e| format!("{} is an HTML page; its advertised feed {feed_url}: {e}", body.url))?;
            notes.push(format!(
                "{} is an HTML page; using the feed it advertises: {feed_url} (update the config)",
                body.url
            ));
            Ok((feed, second))
        }
    }
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

pub(crate) async fn fetch_articles(
    ctx: &Engine,
    source: &Source,
    guard: &Guard,
    listed: &[StoredEntry],
    ok: &mut SourceOk,
    deadline: tokio::time::Instant,
) -> Result<(), String> {
    let attempts = ctx.config.settings.article_attempts;
    let shared = shared_links(listed);
    let mut todo: Vec<Url> = Vec::new();
    for e in listed {
        let Some(url) = e.entry.url.as_deref().and_then(|u| Url::parse(u).ok()) else { continue };
        if shared.contains(url.as_str()) {
            ok.shared_links += 1;
            continue;
        }
        if ctx.store().needs_article(url.as_str(), attempts).map_err(|e| e.to_string())? {
            todo.push(url);
        }
    }
    if ok.shared_links > 0 {
        ok.notes.push(format!(
            "{} entries share their link with another entry (shared link, feed content kept)",
            ok.shared_links
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
                // Counted before it is made: a page that kills the process is not retried forever.
                ctx.store().begin_article(url.as_str(), Utc::now()).map_err(|e| e.to_string())?;
                in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(url.clone());
                let result = fetch_and_extract_timed(&ctx.fetcher, &url, options, guard).await;
                in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&url);
                Ok::<_, String>((url, result))
            }
        })
        .buffer_unordered(ctx.config.settings.concurrency.max(1));
    let mut first_error = None;
    let mut done_count = 0;
    // Each article is stored as it arrives: only the pages in flight are held in memory.
    loop {
        let next = match tokio::time::timeout_at(deadline, results.next()).await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(_) => {
                // The source's time is up: what is done is kept, what is under way is
                // abandoned without counting against it, the rest waits for the next run.
                drop(results);
                let cut: Vec<Url> = in_flight.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
                for url in &cut {
                    ctx.store().cancel_article(url.as_str()).map_err(|e| e.to_string())?;
                }
                ok.notes.push(format!(
                    "the source's time (source_budget = {}) ran out: {} article(s) left for the next run",
                    config::show_duration(ctx.config.settings.source_budget),
                    total - done_count
                ));
                break;
            }
        };
        done_count += 1;
        let (url, result) = next?;
        let now = Utc::now();
        let mut store = ctx.store();
        match result {
            Ok(((raw, article), took)) => {
                store.save_article(url.as_str(), &raw, &article, now).map_err(|e| e.to_string())?;
                ok.articles += 1;
                Stats::add(&ctx.stats.articles_extracted, 1);
                Stats::add(&ctx.stats.extract_micros, took.as_micros() as u64);
            }
            Err(e) => {
                Stats::add(&ctx.stats.article_errors, 1);
                store.save_article_error(url.as_str(), &e, now).map_err(|e| e.to_string())?;
                ok.article_errors += 1;
                first_error.get_or_insert(format!("{url}: {e}"));
            }
        }
    }
    if let Some(e) = first_error {
        ok.notes.push(format!(
            "{} article(s) could not be fetched (feed content used instead); first: {e}",
            ok.article_errors
        ));
    }
    Ok(())
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

/// A fetched page (decoded to UTF-8) and what the extractor made of it.
pub type Extracted = (String, extract::Article);

/// An extraction and the time it took.
type Timed = (Extracted, Duration);

/// Fetches one article page and extracts it (on a blocking thread: extraction is CPU work).
pub async fn fetch_and_extract(
    fetcher: &Fetcher,
    url: &Url,
    options: Arc<extract::Options>,
    guard: &Guard,
) -> Result<Extracted, String> {
    fetch_and_extract_timed(fetcher, url, options, guard).await.map(|(extracted, _)| extracted)
}

/// [`fetch_and_extract`], also telling how long extraction itself took.
async fn fetch_and_extract_timed(
    fetcher: &Fetcher,
    url: &Url,
    options: Arc<extract::Options>,
    guard: &Guard,
) -> Result<Timed, String> {
    let ((raw, mut article), mut took) = fetch_page(fetcher, url, options.clone(), guard).await?;
    // Multi-page stories: follow the page's own "next" link while it continues this story.
    let mut seen = vec![url.clone()];
    let mut next = article.next_page.clone();
    while let Some(next_url) = next.take().and_then(|n| Url::parse(&n).ok()) {
        if seen.len() >= options.max_pages.max(1) || seen.contains(&next_url) {
            break;
        }
        seen.push(next_url.clone());
        let Ok(((_, page), page_took)) = fetch_page(fetcher, &next_url, options.clone(), guard).await else { break };
        took += page_took;
        if page.text.is_empty() || article.text.contains(&page.text) {
            break;
        }
        article.html.push('\n');
        article.html.push_str(&page.html);
        article.text.push_str("\n\n");
        article.text.push_str(&page.text);
        next = page.next_page;
    }
    article.next_page = None;
    Ok(((raw, article), took))
}

async fn fetch_page(
    fetcher: &Fetcher,
    url: &Url,
    options: Arc<extract::Options>,
    guard: &Guard,
) -> Result<Timed, String> {
    let body = match fetcher.get(url, Kind::Page, None, Access::Guarded(guard)).await.map_err(|e| e.to_string())? {
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
    .map_err(|e| format!("extraction failed: {e}"))?
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
