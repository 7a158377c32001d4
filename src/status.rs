//! `refeed status`: what the store says of every source, read-only (a running `serve` or
//! `run` holding the lock is no obstacle).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::error::ErrorKind;
use crate::run::RunError;
use crate::store::{StatusRow, Store};

/// One source: configured, stored, or both.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub url: String,
    /// `ok`, `failing`, `gone`, `waiting` (Retry-After), `never fetched`, `not in config`.
    pub state: &'static str,
    pub in_config: bool,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub entries_stored: i64,
    /// What the published feed holds.
    pub entries_published: i64,
    pub last_error: Option<String>,
    /// `dns`, `http 404`, `timeout`…
    pub last_error_kind: Option<String>,
    pub consecutive_failures: i64,
    /// Listed entries whose page was not the article (a consent wall, a bot challenge…):
    /// their feed content is published, and the page is tried again on later runs.
    pub not_articles: i64,
    /// When `refeed serve` means to refresh it next.
    pub next_due: Option<DateTime<Utc>>,
    /// The process that made the last refresh (see [`processes`]).
    pub refreshed_by: Option<String>,
    /// The process refreshing it now, if any.
    pub refreshing_by: Option<String>,
}

/// A refeed process that used this database (`serve` or `run`), as it announced itself.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessStatus {
    pub id: String,
    /// `up` when heard from in the last three heartbeats, else `gone`.
    pub state: &'static str,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub refreshes: i64,
}

/// The processes that used the store, the most recently seen first. A process that stops
/// saying it is alive (`serve` does every ten seconds on a shared database; `run` only once,
/// at its start) is shown as gone.
pub fn processes(config: &Config) -> Result<Vec<ProcessStatus>, RunError> {
    let Some(store) = Store::open_read_only(&config.settings.database)? else { return Ok(Vec::new()) };
    let stale = Utc::now() - chrono::TimeDelta::seconds(3 * crate::serve::HEARTBEAT_EVERY.as_secs() as i64);
    Ok(store
        .nodes()?
        .into_iter()
        .map(|n| ProcessStatus {
            state: if n.seen >= stale { "up" } else { "gone" },
            id: n.id,
            host: n.host,
            pid: n.pid,
            version: n.version,
            started: n.started,
            last_seen: n.seen,
            refreshes: n.refreshes,
        })
        .collect())
}

/// Every configured source (in config order), then every source the store still holds that
/// the config no longer names (`refeed prune` frees them).
pub fn status(config: &Config) -> Result<Vec<SourceStatus>, RunError> {
    let store = Store::open_read_only(&config.settings.database)?;
    let rows = match &store {
        Some(store) => store.status()?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for source in &config.sources {
        let row = rows.iter().find(|r| r.name == source.name);
        let limit = source.max_items.unwrap_or(config.settings.max_entries);
        out.push(match row {
            Some(row) => {
                let mut status = of_row(row, true, limit as i64);
                if let (Some(store), true) = (&store, source.keeps_history()) {
                    let since = source.keep.and_then(|k| chrono::TimeDelta::from_std(k).ok()).map(|k| Utc::now() - k);
                    status.entries_published = store.history_count(&source.name, since, limit)?.min(limit) as i64;
                }
                status
            }
            None => SourceStatus {
                name: source.name.clone(),
                url: source.url.to_string(),
                state: "never fetched",
                in_config: true,
                last_attempt: None,
                last_success: None,
                entries_stored: 0,
                entries_published: 0,
                last_error: None,
                last_error_kind: None,
                consecutive_failures: 0,
                not_articles: 0,
                next_due: None,
                refreshed_by: None,
                refreshing_by: None,
            },
        });
    }
    for row in rows.iter().filter(|r| !config.sources.iter().any(|s| s.name == r.name)) {
        out.push(of_row(row, false, 0));
    }
    Ok(out)
}

fn of_row(row: &StatusRow, in_config: bool, limit: i64) -> SourceStatus {
    let now = Utc::now();
    let state = match row {
        _ if !in_config => "not in config",
        r if r.gone_since.is_some() => "gone",
        r if r.retry_after.is_some_and(|t| t > now) => "waiting",
        r if r.last_error.is_some() => "failing",
        r if r.last_success.is_none() => "never fetched",
        _ => "ok",
    };
    SourceStatus {
        name: row.name.clone(),
        url: row.url.clone(),
        state,
        in_config,
        last_attempt: row.last_attempt.or(row.last_success),
        last_success: row.last_success,
        entries_stored: row.entries_stored,
        entries_published: if in_config { row.entries_listed.min(limit) } else { 0 },
        last_error: row.last_error.clone(),
        last_error_kind: row.last_error_kind.as_deref().and_then(ErrorKind::from_stored).map(ErrorKind::label),
        consecutive_failures: row.failures,
        not_articles: row.not_articles,
        next_due: row.next_due.filter(|_| in_config),
        refreshed_by: row.refreshed_by.clone(),
        refreshing_by: row.claimed_by.clone(),
    }
}
