//! `refeed run`: one pass over every source, for cron.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::{FutureExt, StreamExt};

use crate::config::{Config, Source};
use crate::engine::{Engine, SourceOk};
use crate::error::{ErrorKind, RefreshError};
use crate::{html, publish, store};

/// What one run did.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub sources_ok: usize,
    pub sources_failed: usize,
    pub new_entries: usize,
    /// Articles fetched and extracted in this run.
    pub articles: usize,
    pub article_errors: usize,
    /// Items of the feeds not read into an entry (empty, or a repeated id).
    pub dropped_entries: usize,
    /// Entries left out by `include`/`exclude` rules.
    pub filtered_entries: usize,
    /// Article pages that were not the article (feed content kept, tried again later).
    pub not_articles: usize,
    pub bytes: u64,
    pub requests: u64,
    pub elapsed: Duration,
    pub reports: Vec<SourceReport>,
    /// What is wrong but did not stop anything (rule files that could not be read).
    pub warnings: Vec<String>,
}

impl RunSummary {
    fn of(reports: Vec<SourceReport>, stats: crate::engine::StatsSnapshot, elapsed: Duration) -> RunSummary {
        let mut summary = RunSummary { bytes: stats.bytes, requests: stats.requests, elapsed, ..RunSummary::default() };
        for ok in reports.iter().filter_map(|r| r.result.as_ref().ok()) {
            summary.new_entries += ok.new_entries;
            summary.articles += ok.articles;
            summary.article_errors += ok.article_errors;
            summary.dropped_entries += ok.dropped;
            summary.filtered_entries += ok.filtered;
            summary.not_articles += ok.not_articles;
        }
        summary.sources_ok = reports.iter().filter(|r| r.result.is_ok()).count();
        summary.sources_failed = reports.len() - summary.sources_ok;
        summary.reports = reports;
        summary
    }

    /// How many sources failed, by kind of failure (HTTP by status), most first.
    pub fn failures_by_kind(&self) -> Vec<(ErrorKind, usize)> {
        let mut counts: Vec<(ErrorKind, usize)> = Vec::new();
        for kind in self.reports.iter().filter_map(|r| r.result.as_ref().err()).map(RefreshError::kind) {
            match counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((kind, 1)),
            }
        }
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        counts
    }
}

/// The outcome for one source.
#[derive(Debug)]
pub struct SourceReport {
    pub name: String,
    pub url: String,
    pub result: Result<SourceOk, RefreshError>,
}

/// A problem that stops the whole run (as opposed to one source failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("output folder {path}: {source}")]
    Output { path: String, source: std::io::Error },
    #[error(transparent)]
    Engine(Box<RefreshError>),
    #[error("another refeed run holds the lock {0} (use --wait to wait for it)")]
    Locked(String),
}

impl From<RefreshError> for RunError {
    fn from(e: RefreshError) -> RunError {
        RunError::Engine(Box::new(e))
    }
}

/// Whether a run waits for another one holding the lock, or gives up at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    #[default]
    FailFast,
    Wait,
}

/// How `refeed run` runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub lock: LockMode,
    /// Only these sources, by name (all when empty). The OPML index still lists them all.
    pub only: Vec<String>,
}

impl RunOptions {
    /// The sources of `config` this run is about, in config order.
    pub fn sources<'c>(&self, config: &'c Config) -> Vec<&'c Source> {
        config.sources.iter().filter(|s| self.only.is_empty() || self.only.contains(&s.name)).collect()
    }
}

/// The run lock, held until dropped.
pub enum RunLock {
    /// A locked file beside the SQLite database.
    File(std::fs::File),
    /// PostgreSQL: no lock. Processes share the database and claim each source's refresh
    /// ([`crate::store::Store::claim`]), so any number of them may run at once.
    Shared,
}

/// Takes the run lock (overlapping cron jobs must not both work on one SQLite file): a file
/// beside the database. On PostgreSQL there is none to take (see [`RunLock::Shared`]).
pub async fn take_lock(config: &Config, mode: LockMode) -> Result<RunLock, RunError> {
    let path = match &config.settings.database {
        store::Database::Sqlite(db) => db.with_file_name(format!(
            "{}.lock",
            db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "refeed".into())
        )),
        store::Database::Postgres { .. } => return Ok(RunLock::Shared),
    };
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
        Ok(()) => Ok(RunLock::File(file)),
        Err(std::fs::TryLockError::WouldBlock) if mode == LockMode::Wait => tokio::task::spawn_blocking(move || {
            file.lock().map(|_| RunLock::File(file)).map_err(|source| RunError::Output { path: shown, source })
        })
        .await
        .map_err(|e| RunError::Output { path: path.display().to_string(), source: std::io::Error::other(e) })?,
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Locked(shown)),
        Err(std::fs::TryLockError::Error(source)) => Err(RunError::Output { path: shown, source }),
    }
}

/// One pass over every source: refresh (fetch, parse, store, extract new articles) and
/// publish each, then the OPML index and the run record. `on_source` is called as each source
/// finishes (for progress display).
pub async fn run(
    config: &Config,
    options: &RunOptions,
    on_source: &(dyn Fn(&SourceReport) + Sync),
) -> Result<RunSummary, RunError> {
    let _lock = take_lock(config, options.lock).await?;
    let (started_at, started) = (Utc::now(), Instant::now());
    let out_dir = &config.settings.output_dir;
    std::fs::create_dir_all(out_dir)
        .map_err(|source| RunError::Output { path: out_dir.display().to_string(), source })?;
    publish::sweep_temp_files(out_dir);
    let engine = Engine::open(Arc::new(config.clone()))?;
    engine.announce()?;
    let mut reports: Vec<SourceReport> = futures_util::stream::iter(options.sources(config))
        .map(|source| async {
            let report = refresh_and_publish(&engine, source).await;
            on_source(&report);
            report
        })
        .buffer_unordered(config.settings.concurrency.max(1))
        .collect()
        .await;
    reports.sort_by_key(|r| config.sources.iter().position(|s| s.name == r.name));
    let feed_base = config.settings.base_url.as_ref().map(|u| u.to_string());
    for feed in &config.feeds {
        engine.publish_merged(feed, feed_base.as_deref())?;
    }
    engine.write_opml()?;
    let mut summary = RunSummary::of(reports, engine.stats(), started.elapsed());
    summary.warnings = engine.rules().problems.iter().map(|p| format!("rules: {p}")).collect();
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

/// One source: refreshed, then published (its files written even when nothing changed, so
/// that a new output folder fills). A panic is a bug, but it costs this source only, not the
/// run, the other sources' feeds and the run record.
async fn refresh_and_publish(engine: &Engine, source: &Source) -> SourceReport {
    let feed_base = engine.config().settings.base_url.as_ref().map(|u| u.to_string());
    let work = async {
        // On a shared database another process may be refreshing this source right now:
        // then its result is published, not fetched a second time.
        let mut ok = match engine.claim(source, false, None)? {
            crate::store::Claim::Busy { by, .. } => crate::engine::SourceOk {
                unchanged: true,
                notes: vec![format!("being refreshed by {by}: published as stored")],
                ..crate::engine::SourceOk::default()
            },
            _ => {
                let refreshed = engine.refresh(source).await;
                engine.release(source, None)?;
                refreshed?
            }
        };
        ok.notes.extend(engine.publish(source, feed_base.as_deref())?);
        Ok(ok)
    };
    let result = std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|p| Err(RefreshError::Internal(html::panic_message(&*p))));
    SourceReport { name: source.name.clone(), url: source.url.to_string(), result }
}

/// What `refeed run --dry-run` says a run would do for one source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedSource {
    pub name: String,
    /// The feed request that would be made, or why none would be.
    pub fetch: String,
    /// Article pages already known and still to fetch (new entries add theirs).
    pub articles_pending: usize,
    /// Files that would be written.
    pub writes: Vec<String>,
}

/// What a run would fetch and write, from the config and the store alone: nothing is fetched,
/// created or written (the store, if there is one, is opened read-only).
pub fn plan(config: &Config, options: &RunOptions) -> Result<Vec<PlannedSource>, RunError> {
    let store = store::Store::open_read_only(&config.settings.database)?;
    let mut planned = Vec::new();
    for source in options.sources(config) {
        let state = match &store {
            Some(store) => store.source_state(&source.name)?,
            None => store::SourceState::default(),
        };
        let same_url = state.url.as_deref() == Some(source.url.as_str());
        let fetch = match (state.gone_since, state.retry_after) {
            (Some(since), _) if same_url => {
                format!(
                    "nothing: {} answered 410 Gone on {} (change its url to try again)",
                    source.url,
                    since.to_rfc3339()
                )
            }
            (_, Some(until)) if same_url && until > Utc::now() => {
                format!("nothing: {} asked to wait until {} (Retry-After)", source.url, until.to_rfc3339())
            }
            _ if state.validators.etag.is_some() || state.validators.last_modified.is_some() => {
                format!("GET {} if changed (ETag/Last-Modified from the last run)", source.url)
            }
            _ if state.last_success.is_some() => format!("GET {} (the origin sends no validators)", source.url),
            _ => format!("GET {} (first fetch)", source.url),
        };
        let mut articles_pending = 0;
        if let (Some(store), true) = (&store, source.full_text) {
            let listed = crate::engine::newest_first(store.listed_entries(&source.name)?, source.max_items);
            let attempts = config.settings.article_attempts;
            for url in listed.iter().filter_map(|e| e.entry.url.as_deref()) {
                if store.needs_article(url, attempts)? {
                    articles_pending += 1;
                }
            }
        }
        let writes = publish::Format::ALL
            .iter()
            .map(|f| f.path(&config.settings.output_dir, &source.name).display().to_string())
            .collect();
        planned.push(PlannedSource { name: source.name.clone(), fetch, articles_pending, writes });
    }
    Ok(planned)
}

/// `refeed prune`: removes from the store what no configured source keeps (see
/// [`store::Store::prune`]); with `dry_run`, only says what it would remove. Takes the run
/// lock, as a run does.
pub async fn prune(config: &Config, lock: LockMode, dry_run: bool) -> Result<store::Pruned, RunError> {
    if config.settings.database.path().is_some_and(|p| !p.exists()) {
        return Ok(store::Pruned::default());
    }
    let _lock = take_lock(config, lock).await?;
    let mut store = store::Store::open(&config.settings.database)?;
    let now = Utc::now();
    let retention: Vec<store::Retention> = config
        .sources
        .iter()
        .map(|s| store::Retention {
            name: s.name.clone(),
            history: s.keeps_history(),
            since: s.keep.and_then(|k| chrono::TimeDelta::from_std(k).ok()).map(|k| now - k),
            limit: s.max_items.unwrap_or(config.settings.max_entries),
        })
        .collect();
    let mut pruned = store.prune(&retention, dry_run)?;
    // The removed sources' published files, unless a merged feed now has the name.
    for name in pruned.source_names.iter().filter(|n| !config.feeds.iter().any(|f| &f.name == *n)) {
        for format in publish::Format::ALL {
            let path = format.path(&config.settings.output_dir, name);
            if path.exists() && (dry_run || std::fs::remove_file(&path).is_ok()) {
                pruned.files += 1;
            }
        }
    }
    Ok(pruned)
}

/// What `refeed reextract` did for one source.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Reextracted {
    pub source: String,
    /// Stored pages extracted again.
    pub pages: usize,
    /// Of those, how many gave another text.
    pub changed: usize,
    /// Stories over several pages, kept as they were (only their first page is stored).
    pub multi_page: usize,
    /// Pages whose new extraction failed or was not the article (the old text stays).
    pub failed: usize,
}

/// `refeed reextract`: extracts the stored pages of `options`' sources again with today's
/// extractor, settings and site rules, without fetching anything, and republishes. Takes the
/// run lock.
pub async fn reextract(config: &Config, options: &RunOptions) -> Result<Vec<Reextracted>, RunError> {
    let _lock = take_lock(config, options.lock).await?;
    let engine = Engine::open(Arc::new(config.clone()))?;
    let feed_base = config.settings.base_url.as_ref().map(|u| u.to_string());
    let mut done = Vec::new();
    for source in options.sources(config) {
        let mut report = Reextracted { source: source.name.clone(), ..Reextracted::default() };
        let base = Arc::new(source.extract.clone());
        for entry in engine.published_entries(source)? {
            let (Some(url), Some(old)) = (entry.entry.url.as_deref(), entry.article.as_ref()) else { continue };
            let Ok(page_url) = url::Url::parse(url) else { continue };
            let Some(raw) = engine.store().raw_html(url)? else { continue };
            report.pages += 1;
            let extract_options = engine.rules().options_for(&page_url, &base);
            let fresh = tokio::task::spawn_blocking(move || {
                crate::extract::article(&raw, Some(&page_url), &extract_options).map(|a| (raw, a))
            })
            .await
            .map_err(|e| RefreshError::Internal(html::panic_message(&*e.into_panic())))?;
            let Ok((raw, mut article)) = fresh else {
                report.failed += 1;
                continue;
            };
            // A story over several pages is rebuilt from its stored pages, or kept as it was.
            let first = url::Url::parse(url).expect("parsed above");
            let mut story = crate::engine::Story::new(&first, &source.extract);
            let mut whole = true;
            while let Some(next) = story.next(&article) {
                let Some(page_raw) = engine.store().page_raw(next.as_str())? else {
                    whole = false;
                    break;
                };
                let page_options = engine.rules().options_for(&next, &base);
                match crate::extract::article(&page_raw, Some(&next), &page_options) {
                    Ok(page) => {
                        if !story.append(&mut article, page) {
                            break;
                        }
                    }
                    Err(_) => {
                        whole = false;
                        break;
                    }
                }
            }
            if !whole {
                report.multi_page += 1;
                continue;
            }
            (article.next_page, article.single_page) = (None, None);
            if crate::extract::verdict::not_an_article(&article, 0).is_some() {
                report.failed += 1;
                continue;
            }
            if article.text != old.text || article.html != old.html {
                report.changed += 1;
                engine.store().save_article(url, &raw, &article, Utc::now())?;
            }
        }
        engine.publish(source, feed_base.as_deref())?;
        done.push(report);
    }
    for feed in &config.feeds {
        engine.publish_merged(feed, feed_base.as_deref())?;
    }
    engine.write_opml()?;
    Ok(done)
}
