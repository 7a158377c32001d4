//! SQLite state: sources and their HTTP validators, entries, extracted articles (with the raw
//! page, compressed, so a rule change can re-extract without refetching), and run history.
//!
//! WAL mode with `synchronous = NORMAL` loses no committed transaction when the process is
//! killed; every write transaction is `BEGIN IMMEDIATE` so that overlapping writers wait for
//! the lock instead of failing on a stale snapshot.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::extract::Article;
use crate::feed::Entry;
use crate::fetch::Validators;

#[derive(Debug, thiserror::Error)]
#[error("database {path}: {source}")]
pub struct StoreError {
    pub path: String,
    #[source]
    pub source: rusqlite::Error,
}

pub struct Store {
    conn: Connection,
    path: String,
}

/// What the store knows about one source.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    pub validators: Validators,
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub description: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The kind of the last error, as [`crate::error::ErrorKind::to_stored`] writes it.
    pub last_error_kind: Option<String>,
    /// The URL these facts are about (the config may have changed since).
    pub url: Option<String>,
    /// When the origin answered 410 Gone.
    pub gone_since: Option<DateTime<Utc>>,
    /// The origin asked (429/503 with Retry-After) not to be fetched before this time.
    pub retry_after: Option<DateTime<Utc>>,
}

/// One source as `refeed status` shows it.
#[derive(Debug, Clone)]
pub struct StatusRow {
    pub name: String,
    pub url: String,
    pub title: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    /// Failed refreshes since the last success.
    pub failures: i64,
    /// When `serve` means to refresh it next (`None` under cron).
    pub next_due: Option<DateTime<Utc>>,
    pub gone_since: Option<DateTime<Utc>>,
    pub retry_after: Option<DateTime<Utc>>,
    pub entries_stored: i64,
    /// Entries the origin lists now.
    pub entries_listed: i64,
    /// Listed entries whose page was not the article (their feed content is published).
    pub not_articles: i64,
}

/// What `refeed prune` keeps of one configured source.
#[derive(Debug, Clone)]
pub struct Retention {
    pub name: String,
    /// Entries the origin dropped are kept: those first seen at or after `since` (all when
    /// `None`), the newest `limit` of them. `false`: only listed entries are kept.
    pub history: bool,
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// What `refeed prune` removed (or would remove).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Pruned {
    /// Sources the config no longer names.
    pub sources: usize,
    /// Their names.
    pub source_names: Vec<String>,
    /// Published files of theirs removed from the output folder.
    pub files: usize,
    pub entries: usize,
    pub articles: usize,
    /// Bytes of entries and articles removed.
    pub bytes: u64,
}

/// What one `refeed run` did, as the store keeps it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub sources_ok: usize,
    pub sources_failed: usize,
    pub new_entries: usize,
    pub articles: usize,
    pub bytes: u64,
}

/// An entry as stored, with its article when one was extracted.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub entry: Entry,
    pub first_seen: DateTime<Utc>,
    pub article: Option<StoredArticle>,
}

#[derive(Debug, Clone)]
pub struct StoredArticle {
    pub title: Option<String>,
    pub html: String,
    pub text: String,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub lead_image: Option<String>,
}

/// The error an article carries while an attempt at it is under way; it stays if the attempt
/// never finished.
pub const INTERRUPTED: &str =
    "the last attempt did not finish (refeed stopped or crashed while fetching or extracting it)";

/// How the error of an article page that is not the article starts (a consent wall, a bot
/// challenge…: see `extract::verdict`); `refeed status` counts them by it.
pub const NOT_AN_ARTICLE: &str = "not an article: ";

/// The error of an article whose attempt was abandoned because its source's time ran out.
pub const ABANDONED: &str = "not finished: the source's time ran out (source_budget); tried again on the next run";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    title TEXT,
    site_url TEXT,
    description TEXT,
    last_success INTEGER,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    source TEXT NOT NULL,
    guid TEXT NOT NULL,
    url TEXT,
    data TEXT NOT NULL,            -- the normalized Entry as JSON
    first_seen INTEGER NOT NULL,
    listed INTEGER NOT NULL,       -- 1 while the origin feed still lists it
    position INTEGER NOT NULL,     -- order in the origin feed
    PRIMARY KEY (source, guid)
);
CREATE INDEX IF NOT EXISTS entries_url ON entries (source, url);
CREATE TABLE IF NOT EXISTS articles (
    url TEXT PRIMARY KEY,
    fetched_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    raw_html BLOB,                 -- deflate-compressed page as fetched (decoded to UTF-8)
    html TEXT,
    text TEXT,
    meta TEXT,                     -- extracted metadata as JSON
    error TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    finished INTEGER,
    sources_ok INTEGER,
    sources_failed INTEGER,
    new_entries INTEGER,
    articles INTEGER,
    bytes INTEGER
);
";

/// Schema changes after the first release, applied in order; `PRAGMA user_version` counts
/// how many a database has had.
const MIGRATIONS: &[&str] = &[
    // 1: a source that answered 410 Gone, and one that asked us to come back later.
    "ALTER TABLE sources ADD COLUMN gone_since INTEGER;
     ALTER TABLE sources ADD COLUMN retry_after INTEGER;",
    // 2: the kind of the last failure (dns, tls, http:500...), so that it is explained by
    // what it was, not by its words.
    "ALTER TABLE sources ADD COLUMN last_error_kind TEXT;",
    // 3: for `refeed status`: when the source was last tried, how many times in a row it
    // failed, and when `serve` means to refresh it next.
    "ALTER TABLE sources ADD COLUMN last_attempt INTEGER;
     ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE sources ADD COLUMN next_due INTEGER;",
    // 4: the later pages of stories told over several, as fetched (deflate-compressed), so
    // that a re-extraction can rebuild the whole story.
    "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, fetched_at INTEGER NOT NULL, raw_html BLOB NOT NULL);",
];

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        // A newer refeed changed the schema in ways this one does not know: writing to it
        // could lose what the newer one keeps.
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!(
                "written by a newer refeed (schema version {version}; this refeed knows up to {}): upgrade refeed, or use another database",
                MIGRATIONS.len()
            )),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {sql} PRAGMA user_version = {}; COMMIT;", i + 1))?;
    }
    Ok(())
}

fn deflate(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).and_then(|_| enc.finish()).unwrap_or_default()
}

fn inflate(bytes: &[u8]) -> Option<String> {
    let mut s = String::new();
    flate2::read::DeflateDecoder::new(bytes).read_to_string(&mut s).ok().map(|_| s)
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn from_ts(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

fn stored_article(html: String, text: Option<String>, meta: Option<String>) -> StoredArticle {
    let meta: serde_json::Value = meta.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default();
    StoredArticle {
        title: meta["title"].as_str().map(str::to_owned),
        html,
        text: text.unwrap_or_default(),
        byline: meta["byline"].as_str().map(str::to_owned),
        published: meta["published"]
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc)),
        lead_image: meta["lead_image"].as_str().map(str::to_owned),
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let wrap = |source| StoreError { path: name.clone(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                wrap(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot create folder {}: {e}", dir.display())),
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(wrap)?;
        conn.execute_batch(SCHEMA).map_err(wrap)?;
        migrate(&conn).map_err(wrap)?;
        Ok(Store { conn, path: name })
    }

    /// Opens an existing store for reading only (`refeed status`, `run --dry-run`): nothing
    /// is created, migrated or written, and a `serve` or `run` holding the lock is no
    /// obstacle. `None` when there is no store yet.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let name = path.display().to_string();
        let wrap = |source| StoreError { path: name.clone(), source };
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(wrap)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(wrap)?;
        if version != MIGRATIONS.len() as i64 {
            let why = match version > MIGRATIONS.len() as i64 {
                true => "a newer refeed: upgrade refeed",
                false => "an older refeed: one `refeed run` or `refeed serve` upgrades it",
            };
            return Err(wrap(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("written by {why} (schema version {version}; this refeed reads {})", MIGRATIONS.len())),
            )));
        }
        Ok(Some(Store { conn, path: name }))
    }

    /// What `refeed status` shows of every source the store knows, by name.
    pub fn status(&self) -> Result<Vec<StatusRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.name, s.url, s.title, s.last_attempt, s.last_success, s.last_error, s.last_error_kind,
                   s.failures, s.next_due, s.gone_since, s.retry_after,
                   (SELECT count(*) FROM entries e WHERE e.source = s.name),
                   (SELECT count(*) FROM entries e WHERE e.source = s.name AND e.listed = 1),
                   (SELECT count(*) FROM entries e JOIN articles a ON a.url = e.url
                      WHERE e.source = s.name AND e.listed = 1 AND a.error LIKE ?1 || '%')
                 FROM sources s ORDER BY s.name",
            )
            .map_err(|e| self.err(e))?;
        let time = |v: Option<i64>| v.map(from_ts);
        let rows = stmt
            .query_map([NOT_AN_ARTICLE], |r| {
                Ok(StatusRow {
                    name: r.get(0)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    last_attempt: time(r.get(3)?),
                    last_success: time(r.get(4)?),
                    last_error: r.get(5)?,
                    last_error_kind: r.get(6)?,
                    failures: r.get(7)?,
                    next_due: time(r.get(8)?),
                    gone_since: time(r.get(9)?),
                    retry_after: time(r.get(10)?),
                    entries_stored: r.get(11)?,
                    entries_listed: r.get(12)?,
                    not_articles: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// When `serve` means to refresh `name` next (shown by `refeed status`).
    pub fn record_next_due(&mut self, name: &str, due: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE sources SET next_due = ?2 WHERE name = ?1", params![name, ts(due)])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError { path: self.path.clone(), source }
    }

    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified, title, site_url, description, last_success, last_error, url, gone_since, retry_after,
                   last_error_kind
                 FROM sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(SourceState {
                        validators: Validators { etag: r.get(0)?, last_modified: r.get(1)? },
                        title: r.get(2)?,
                        site_url: r.get(3)?,
                        description: r.get(4)?,
                        last_success: r.get::<_, Option<i64>>(5)?.map(from_ts),
                        last_error: r.get(6)?,
                        url: r.get(7)?,
                        gone_since: r.get::<_, Option<i64>>(8)?.map(from_ts),
                        retry_after: r.get::<_, Option<i64>>(9)?.map(from_ts),
                        last_error_kind: r.get(10)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    /// Records a failed refresh (its kind, as [`crate::error::ErrorKind::to_stored`] writes
    /// it, and its message); what was stored before stays.
    pub fn record_failure(&mut self, name: &str, url: &str, kind: &str, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (name, url, last_error, last_error_kind, last_attempt, failures)
                 VALUES (?1, ?2, ?3, ?4, CAST(strftime('%s', 'now') AS INTEGER), 1)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
                   last_error_kind = excluded.last_error_kind, last_attempt = excluded.last_attempt,
                   failures = sources.failures + 1",
                params![name, url, error, kind],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Records a 410 Gone: the source is not fetched again until its URL changes.
    pub fn record_gone(&mut self, name: &str, url: &str, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (name, url, last_error, gone_since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
                   gone_since = coalesce(sources.gone_since, excluded.gone_since)",
                params![name, url, error, ts(now)],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Records an origin's request to come back later (429/503 with Retry-After).
    pub fn record_retry_after(
        &mut self,
        name: &str,
        url: &str,
        error: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (name, url, last_error, retry_after) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
                   retry_after = excluded.retry_after",
                params![name, url, error, ts(until)],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Records a 304: the validators stay, the error is cleared.
    pub fn record_unchanged(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE sources SET last_success = ?2, last_attempt = ?2, failures = 0, last_error = NULL,
                   last_error_kind = NULL, gone_since = NULL, retry_after = NULL WHERE name = ?1",
                params![name, ts(now)],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Stores a freshly parsed feed: new entries are inserted, known ones updated, and the
    /// listing is replaced by what the origin lists now. Returns how many entries were new.
    #[allow(clippy::too_many_arguments)]
    pub fn record_feed(
        &mut self,
        name: &str,
        url: &str,
        validators: &Validators,
        title: Option<&str>,
        site_url: Option<&str>,
        description: Option<&str>,
        entries: &[Entry],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(wrap)?;
        tx.execute(
            "INSERT INTO sources (name, url, etag, last_modified, title, site_url, description, last_success, last_error,
               last_attempt, failures)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?8, 0)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
               last_modified = excluded.last_modified, title = excluded.title, site_url = excluded.site_url,
               description = excluded.description, last_success = excluded.last_success, last_error = NULL,
               last_error_kind = NULL, last_attempt = excluded.last_attempt, failures = 0,
               gone_since = NULL, retry_after = NULL",
            params![name, url, validators.etag, validators.last_modified, title, site_url, description, ts(now)],
        )
        .map_err(wrap)?;
        tx.execute("UPDATE entries SET listed = 0 WHERE source = ?1", [name]).map_err(wrap)?;
        let mut new = 0;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entries (source, guid, url, data, first_seen, listed, position) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                     ON CONFLICT(source, guid) DO UPDATE SET url = excluded.url, data = excluded.data, listed = 1,
                       position = excluded.position",
                )
                .map_err(wrap)?;
            let mut exists =
                tx.prepare_cached("SELECT 1 FROM entries WHERE source = ?1 AND guid = ?2").map_err(wrap)?;
            for (position, entry) in entries.iter().enumerate() {
                let known = exists.exists(params![name, entry.guid]).map_err(wrap)?;
                if !known {
                    new += 1;
                }
                let data = serde_json::to_string(entry)
                    .map_err(|e| wrap(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
                insert.execute(params![name, entry.guid, entry.url, data, ts(now), position as i64]).map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)?;
        Ok(new)
    }

    /// The entries the origin currently lists, in feed order, with their articles.
    pub fn listed_entries(&self, name: &str) -> Result<Vec<StoredEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.data, e.first_seen, a.html, a.text, a.meta FROM entries e
                 LEFT JOIN articles a ON a.url = e.url AND a.error IS NULL
                 WHERE e.source = ?1 AND e.listed = 1 ORDER BY e.position",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([name], |r| {
                let data: String = r.get(0)?;
                let html: Option<String> = r.get(2)?;
                let meta: Option<String> = r.get(4)?;
                Ok((data, r.get::<_, i64>(1)?, html, r.get::<_, Option<String>>(3)?, meta))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (data, first_seen, html, text, meta) = row.map_err(|e| self.err(e))?;
            let Ok(entry) = serde_json::from_str::<Entry>(&data) else { continue };
            let article = html.map(|html| stored_article(html, text, meta));
            out.push(StoredEntry { entry, first_seen: from_ts(first_seen), article });
        }
        Ok(out)
    }

    /// The entries to publish with history: every listed one, and the newest `limit` of
    /// those the origin dropped that refeed first saw at or after `since` (all of them when
    /// `since` is `None`), in no particular order.
    pub fn history_entries(
        &self,
        name: &str,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let mut out = self.listed_entries(name)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.data, e.first_seen, a.html, a.text, a.meta FROM entries e
                 LEFT JOIN articles a ON a.url = e.url AND a.error IS NULL
                 WHERE e.source = ?1 AND e.listed = 0 AND e.first_seen >= ?2
                 ORDER BY e.first_seen DESC, e.position LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let since = since.map_or(i64::MIN, ts);
        let rows = stmt
            .query_map(params![name, since, limit.min(i64::MAX as usize) as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (data, first_seen, html, text, meta): (String, i64, Option<String>, Option<String>, Option<String>) =
                row.map_err(|e| self.err(e))?;
            let Ok(entry) = serde_json::from_str::<Entry>(&data) else { continue };
            let article = html.map(|html| stored_article(html, text, meta));
            out.push(StoredEntry { entry, first_seen: from_ts(first_seen), article });
        }
        Ok(out)
    }

    /// Removes what no configured source keeps (`retention`): sources not in it, entries the
    /// origin dropped past their source's history, articles no entry links to. With
    /// `dry_run`, only counts (the transaction is rolled back). Then VACUUM, to give the
    /// space back.
    pub fn prune(&mut self, retention: &[Retention], dry_run: bool) -> Result<Pruned, StoreError> {
        let path = self.path.clone();
        let wrap = |source| StoreError { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(wrap)?;
        let mut pruned = Pruned::default();
        tx.execute_batch("CREATE TEMP TABLE keep_sources (name TEXT PRIMARY KEY)").map_err(wrap)?;
        for r in retention {
            tx.execute("INSERT OR IGNORE INTO temp.keep_sources VALUES (?1)", [&r.name]).map_err(wrap)?;
        }
        let entry_bytes = "coalesce(sum(length(data)), 0)";
        let (n, b): (i64, i64) = tx
            .query_row(
                &format!("SELECT count(*), {entry_bytes} FROM entries WHERE source NOT IN (SELECT name FROM temp.keep_sources)"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(wrap)?;
        pruned.entries += n as usize;
        pruned.bytes += b as u64;
        tx.execute("DELETE FROM entries WHERE source NOT IN (SELECT name FROM temp.keep_sources)", []).map_err(wrap)?;
        {
            let mut gone = tx
                .prepare("SELECT name FROM sources WHERE name NOT IN (SELECT name FROM temp.keep_sources)")
                .map_err(wrap)?;
            let names = gone.query_map([], |r| r.get(0)).map_err(wrap)?;
            pruned.source_names = names.collect::<Result<_, _>>().map_err(wrap)?;
        }
        pruned.sources = tx
            .execute("DELETE FROM sources WHERE name NOT IN (SELECT name FROM temp.keep_sources)", [])
            .map_err(wrap)?;
        for r in retention {
            // Unlisted entries past the source's history: older than `since`, or past the
            // newest `limit`; all of them without history.
            let doomed = "SELECT rowid FROM entries WHERE source = ?1 AND listed = 0 AND (?2 = 0 OR first_seen < ?3
                 OR rowid NOT IN (SELECT rowid FROM entries WHERE source = ?1 AND listed = 0
                                  ORDER BY first_seen DESC, position LIMIT ?4))";
            let args =
                params![r.name, r.history as i64, r.since.map_or(i64::MIN, ts), r.limit.min(i64::MAX as usize) as i64];
            let (n, b): (i64, i64) = tx
                .query_row(
                    &format!("SELECT count(*), {entry_bytes} FROM entries WHERE rowid IN ({doomed})"),
                    args,
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(wrap)?;
            pruned.entries += n as usize;
            pruned.bytes += b as u64;
            tx.execute(&format!("DELETE FROM entries WHERE rowid IN ({doomed})"), args).map_err(wrap)?;
        }
        let orphans = "url NOT IN (SELECT url FROM entries WHERE url IS NOT NULL)";
        let (n, b): (i64, i64) = tx
            .query_row(
                &format!(
                    "SELECT count(*), coalesce(sum(coalesce(length(raw_html), 0) + coalesce(length(html), 0)
                       + coalesce(length(text), 0) + coalesce(length(meta), 0)), 0) FROM articles WHERE {orphans}"
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(wrap)?;
        (pruned.articles, pruned.bytes) = (n as usize, pruned.bytes + b as u64);
        tx.execute(&format!("DELETE FROM articles WHERE {orphans}"), []).map_err(wrap)?;
        tx.execute_batch("DROP TABLE temp.keep_sources").map_err(wrap)?;
        if dry_run {
            tx.rollback().map_err(wrap)?;
        } else {
            tx.commit().map_err(wrap)?;
            self.conn.execute_batch("VACUUM").map_err(wrap)?;
        }
        Ok(pruned)
    }

    /// How many entries [`Store::history_entries`] would give, counted without reading them.
    pub fn history_count(&self, name: &str, since: Option<DateTime<Utc>>, limit: usize) -> Result<usize, StoreError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let (listed, dropped): (i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM entries WHERE source = ?1 AND listed = 1),
                        (SELECT min(count(*), ?3) FROM entries WHERE source = ?1 AND listed = 0 AND first_seen >= ?2)",
                params![name, since.map_or(i64::MIN, ts), limit],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok((listed + dropped) as usize)
    }

    /// The article extracted from `url`, if one was.
    pub fn article(&self, url: &str) -> Result<Option<StoredArticle>, StoreError> {
        self.conn
            .query_row(
                "SELECT html, text, meta FROM articles WHERE url = ?1 AND error IS NULL AND html IS NOT NULL",
                [url],
                |r| Ok(stored_article(r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// True when this URL needs fetching: never extracted, and not failed too often.
    pub fn needs_article(&self, url: &str, max_attempts: u32) -> Result<bool, StoreError> {
        let row: Option<(Option<String>, u32)> = self
            .conn
            .query_row("SELECT error, attempts FROM articles WHERE url = ?1", [url], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match row {
            None => true,
            Some((None, _)) => false,
            Some((Some(_), attempts)) => attempts < max_attempts,
        })
    }

    /// Counts an attempt at `url` before it is made: if the process dies while fetching or
    /// extracting (a page that exhausts memory, a kill), the attempt still counts, so a page
    /// that kills refeed is tried at most `article_attempts` times, not on every run.
    pub fn begin_article(&mut self, url: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO articles (url, fetched_at, attempts, error) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, attempts = attempts + 1,
                   error = excluded.error",
                params![url, ts(now), INTERRUPTED],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Takes back the attempt [`Store::begin_article`] counted, for an attempt refeed itself
    /// abandoned (the source's time ran out): it is tried again next time, at no cost.
    pub fn cancel_article(&mut self, url: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE articles SET attempts = max(attempts - 1, 0), error = ?2 WHERE url = ?1 AND error = ?3",
                params![url, ABANDONED, INTERRUPTED],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn save_article(
        &mut self,
        url: &str,
        raw_html: &str,
        article: &Article,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let compressed = deflate(raw_html);
        let meta = serde_json::json!({
            "title": article.title, "byline": article.byline, "published": article.published.map(|d| d.to_rfc3339()),
            "lead_image": article.lead_image, "site_name": article.site_name, "lang": article.lang, "url": article.url,
        });
        self.conn
            .execute(
                "INSERT INTO articles (url, fetched_at, attempts, raw_html, html, text, meta, error) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, NULL)
                 ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, raw_html = excluded.raw_html,
                   html = excluded.html, text = excluded.text, meta = excluded.meta, error = NULL",
                params![url, ts(now), compressed, article.html, article.text, meta.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn save_article_error(&mut self, url: &str, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO articles (url, fetched_at, attempts, error) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, error = excluded.error",
                params![url, ts(now), error],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Keeps the articles within `max_bytes` of raw pages and `max_age`, dropping the oldest
    /// first (the anonymous store of `/feed?url=`, which strangers fill).
    pub fn prune_articles(&mut self, max_bytes: u64, max_age: Duration) -> Result<usize, StoreError> {
        let cutoff = ts(Utc::now()) - max_age.as_secs() as i64;
        let mut gone =
            self.conn.execute("DELETE FROM articles WHERE fetched_at < ?1", [cutoff]).map_err(|e| self.err(e))?;
        let total: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(sum(length(raw_html) + length(html) + length(text)), 0) FROM articles",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if total as u64 > max_bytes {
            // Oldest first, until the rest fits.
            gone += self
                .conn
                .execute(
                    "DELETE FROM articles WHERE url IN (
                       SELECT url FROM (
                         SELECT url, sum(coalesce(length(raw_html), 0) + coalesce(length(html), 0) + coalesce(length(text), 0))
                           OVER (ORDER BY fetched_at DESC, url) AS running
                         FROM articles)
                       WHERE running > ?1)",
                    [max_bytes as i64],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(gone)
    }

    /// Keeps a later page of a multi-page story, as fetched.
    pub fn save_page(&mut self, url: &str, raw_html: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO pages (url, fetched_at, raw_html) VALUES (?1, ?2, ?3)
                 ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, raw_html = excluded.raw_html",
                params![url, ts(now), deflate(raw_html)],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// A later page of a multi-page story, as [`Store::save_page`] kept it.
    pub fn page_raw(&self, url: &str) -> Result<Option<String>, StoreError> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT raw_html FROM pages WHERE url = ?1", [url], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(blob.and_then(|b| inflate(&b)))
    }

    /// The raw page stored for `url`, for re-extraction without a refetch.
    pub fn raw_html(&self, url: &str) -> Result<Option<String>, StoreError> {
        let blob: Option<Option<Vec<u8>>> = self
            .conn
            .query_row("SELECT raw_html FROM articles WHERE url = ?1", [url], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(blob.flatten().and_then(|b| inflate(&b)))
    }

    pub fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (started, finished, sources_ok, sources_failed, new_entries, articles, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    ts(run.started),
                    ts(run.finished),
                    run.sources_ok as i64,
                    run.sources_failed as i64,
                    run.new_entries as i64,
                    run.articles as i64,
                    run.bytes as i64
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(guid: &str) -> Entry {
        Entry {
            guid: guid.into(),
            url: Some(format!("https://e.example/{guid}")),
            title: Some(guid.into()),
            ..Entry::default()
        }
    }

    #[test]
    fn pruning_keeps_the_newest_articles_within_the_size_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let now = Utc::now();
        for i in 0..10 {
            let article = Article { html: "h".repeat(1000), text: "t".repeat(1000), ..Article::default() };
            let when = now - chrono::TimeDelta::minutes(10 - i);
            store.save_article(&format!("https://e.example/{i}"), &"r".repeat(1000), &article, when).unwrap();
        }
        let old = Article { html: "x".into(), text: "x".into(), ..Article::default() };
        store.save_article("https://e.example/old", "x", &old, now - chrono::TimeDelta::days(30)).unwrap();
        // Raw pages are stored compressed: measure what is kept, then cap at half of it.
        assert_eq!(store.prune_articles(u64::MAX, Duration::from_secs(7 * 86400)).unwrap(), 1, "too old");
        let total: i64 = store
            .conn
            .query_row("SELECT sum(length(raw_html) + length(html) + length(text)) FROM articles", [], |r| r.get(0))
            .unwrap();
        store.prune_articles(total as u64 / 2, Duration::from_secs(7 * 86400)).unwrap();
        assert!(store.article("https://e.example/9").unwrap().is_some(), "the newest stays");
        assert!(store.article("https://e.example/0").unwrap().is_none(), "the oldest goes");
        let left: i64 = store
            .conn
            .query_row("SELECT sum(length(raw_html) + length(html) + length(text)) FROM articles", [], |r| r.get(0))
            .unwrap();
        assert!(left <= total / 2, "{left} > {}", total / 2);
    }

    #[test]
    fn entries_stored_by_an_earlier_refeed_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .record_feed(
                "a",
                "https://e.example/f",
                &Validators::default(),
                None,
                None,
                None,
                &[entry("1")],
                Utc::now(),
            )
            .unwrap();
        // An entry as the previous version wrote it: no `image` field.
        let old = r#"{"guid":"https://e.example/1","url":"https://e.example/1","title":"Old","author":null,"published":null,"updated":null,"summary":null,"content":null,"categories":[],"enclosures":[]}"#;
        store.conn.execute("UPDATE entries SET data = ?1", [old]).unwrap();
        let listed = store.listed_entries("a").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].entry.title.as_deref(), Some("Old"));
        assert_eq!(listed[0].entry.image, None);
    }

    #[test]
    fn a_store_from_a_newer_refeed_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let e = Store::open(&path).err().unwrap().to_string();
        assert!(e.contains("written by a newer refeed (schema version 99; this refeed knows up to"), "{e}");
    }

    #[test]
    fn entries_validators_and_articles_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let v = Validators { etag: Some("\"x\"".into()), last_modified: None };
        let now = Utc::now();
        assert_eq!(
            store
                .record_feed("a", "https://e.example/f", &v, Some("T"), None, None, &[entry("1"), entry("2")], now)
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .record_feed("a", "https://e.example/f", &v, Some("T"), None, None, &[entry("2"), entry("3")], now)
                .unwrap(),
            1
        );
        let listed = store.listed_entries("a").unwrap();
        assert_eq!(listed.iter().map(|e| e.entry.guid.as_str()).collect::<Vec<_>>(), vec!["2", "3"]);
        assert_eq!(store.source_state("a").unwrap().validators, v);
        assert!(store.needs_article("https://e.example/2", 3).unwrap());
        let article = Article { html: "<p>x</p>".into(), text: "x".into(), ..Article::default() };
        store.save_article("https://e.example/2", "<html>raw</html>", &article, now).unwrap();
        assert!(!store.needs_article("https://e.example/2", 3).unwrap());
        assert_eq!(store.raw_html("https://e.example/2").unwrap().as_deref(), Some("<html>raw</html>"));
        assert_eq!(store.listed_entries("a").unwrap()[0].article.as_ref().unwrap().text, "x");
        for _ in 0..2 {
            store.begin_article("https://e.example/3", now).unwrap();
            store.save_article_error("https://e.example/3", "HTTP 500", now).unwrap();
        }
        assert!(store.needs_article("https://e.example/3", 3).unwrap());
        // An attempt that never finished (a crash mid-extraction) counts as well.
        store.begin_article("https://e.example/3", now).unwrap();
        assert!(!store.needs_article("https://e.example/3", 3).unwrap());
    }
}
