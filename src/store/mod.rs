//! State: sources and their HTTP validators, entries, extracted articles (with the raw page,
//! compressed, so a rule change can re-extract without refetching), and run history.
//!
//! One store, two databases ([`Database`]): a SQLite file (the default) or PostgreSQL. The
//! SQL is written once (`db` translates the little that differs) and the same schema steps
//! ([`MIGRATIONS`]) upgrade both. SQLite runs in WAL mode with `synchronous = NORMAL`, which
//! loses no committed transaction when the process is killed; its write transactions are
//! `BEGIN IMMEDIATE` so that overlapping writers wait for the lock instead of failing on a
//! stale snapshot.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::extract::Article;
use crate::feed::Entry;
use crate::fetch::Validators;

mod conn;
mod db;
mod postgres;

use conn::Conn;
use db::{DbError, Row, Value, args};

pub use crate::config::Database;

#[derive(Debug, thiserror::Error)]
#[error("database {place}: {message}")]
pub struct StoreError {
    /// The file, or the URL without its password.
    pub place: String,
    pub message: String,
    /// The database could not be reached (PostgreSQL down or restarting, the network gone):
    /// the work is tried again once it is back.
    pub unavailable: bool,
}

pub struct Store {
    conn: Conn,
    place: String,
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
    /// The process that made the last refresh (on a shared database).
    pub refreshed_by: Option<String>,
    /// The process refreshing it now, if its lease has not run out.
    pub claimed_by: Option<String>,
}

/// The outcome of [`Store::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This process refreshes the source now, and releases it after.
    Won,
    /// Another process is refreshing it, with a lease until `until`.
    Busy { by: String, until: DateTime<Utc> },
    /// Another process refreshed it already: it is due again at `next_due`.
    NotDue { next_due: DateTime<Utc> },
}

/// A refeed process as it announced itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started: DateTime<Utc>,
    /// When it last said it was alive.
    pub seen: DateTime<Utc>,
    /// Refreshes it made.
    pub refreshes: i64,
}

/// A rendered feed document as kept for the other processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDoc {
    pub name: String,
    pub format: String,
    pub body: Vec<u8>,
    pub etag: String,
    /// Milliseconds since the epoch.
    pub modified: i64,
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

#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub title: Option<String>,
    pub html: String,
    pub text: String,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub lead_image: Option<String>,
    /// The page's language (`<html lang>`), as a well-formed tag.
    pub lang: Option<String>,
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
    // 5: several processes on one database. A refresh is claimed (by a process, until the
    // lease ends) so that each due source is refreshed by one of them; processes announce
    // themselves; rendered feeds are kept so that every process serves the same bytes.
    "ALTER TABLE sources ADD COLUMN claimed_by TEXT;
     ALTER TABLE sources ADD COLUMN claim_until INTEGER;
     ALTER TABLE sources ADD COLUMN refreshed_by TEXT;
     CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
       version TEXT NOT NULL, started INTEGER NOT NULL, seen INTEGER NOT NULL, refreshes INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE IF NOT EXISTS rendered (name TEXT NOT NULL, format TEXT NOT NULL, body BLOB NOT NULL,
       etag TEXT NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY (name, format));
     CREATE TABLE IF NOT EXISTS client_limits (client TEXT PRIMARY KEY, tokens INTEGER NOT NULL, at INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS host_gates (host TEXT PRIMARY KEY, last_start INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS host_slots (host TEXT NOT NULL, token TEXT NOT NULL, until INTEGER NOT NULL,
       PRIMARY KEY (host, token));",
];

/// The schema version of PostgreSQL databases (SQLite keeps it in `PRAGMA user_version`).
const PG_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS refeed_schema (version BIGINT NOT NULL)";

/// Seconds after which a process not heard from is forgotten.
const FORGET_NODES_AFTER: i64 = 7 * 86_400;

/// Serializes schema changes between processes starting at once on one PostgreSQL database.
const PG_SCHEMA_LOCK: i64 = 0x7265_6665_6564; // "refeed"

fn schema_version(conn: &Conn) -> Result<i64, DbError> {
    match conn {
        Conn::Sqlite(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
        Conn::Postgres(_) => Ok(conn
            .query_row("SELECT max(version) FROM refeed_schema", vec![])?
            .and_then(|r| r.opt_int(0))
            .unwrap_or(0)),
    }
}

fn newer_schema(version: i64) -> DbError {
    // A newer refeed changed the schema in ways this one does not know: writing to it could
    // lose what the newer one keeps.
    DbError::other(format!(
        "written by a newer refeed (schema version {version}; this refeed knows up to {}): upgrade refeed, or use another database",
        MIGRATIONS.len()
    ))
}

/// Creates the schema and applies the migrations it lacks, in one transaction per step. On
/// PostgreSQL, processes that start together take turns (an advisory lock), so each step is
/// applied once.
fn migrate(conn: &mut Conn) -> Result<(), DbError> {
    if conn.is_postgres() {
        return conn.transaction(|tx| {
            // Processes starting together wait here; even `IF NOT EXISTS` races otherwise.
            tx.batch(&format!("SELECT pg_advisory_xact_lock({PG_SCHEMA_LOCK})"))?;
            tx.batch(PG_VERSION_TABLE)?;
            let version = schema_version(tx)?;
            if version > MIGRATIONS.len() as i64 {
                return Err(newer_schema(version));
            }
            tx.batch(&db::postgres_ddl(SCHEMA))?;
            for sql in MIGRATIONS.iter().skip(version.max(0) as usize) {
                tx.batch(&db::postgres_ddl(sql))?;
            }
            tx.execute("DELETE FROM refeed_schema", vec![])?;
            tx.execute("INSERT INTO refeed_schema (version) VALUES (?1)", args![MIGRATIONS.len() as i64])?;
            Ok(())
        });
    }
    conn.batch(SCHEMA)?;
    let version = schema_version(conn)?;
    if version > MIGRATIONS.len() as i64 {
        return Err(newer_schema(version));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        conn.batch(&format!("BEGIN IMMEDIATE; {sql} PRAGMA user_version = {}; COMMIT;", i + 1))?;
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
        lang: meta["lang"].as_str().and_then(crate::publish::language_tag),
    }
}

/// An entry row (`data, first_seen, html, text, meta`) as a stored entry; `None` when its
/// JSON no longer reads.
fn stored_entry(r: &Row) -> Option<StoredEntry> {
    let entry = serde_json::from_str::<Entry>(&r.text(0)).ok()?;
    let article = r.opt_text(2).map(|html| stored_article(html, r.opt_text(3), r.opt_text(4)));
    Some(StoredEntry { entry, first_seen: from_ts(r.int(1)), article })
}

/// Bytes an article row takes, as SQL.
const ARTICLE_BYTES: &str = "coalesce(length(raw_html), 0) + coalesce(length(html), 0) + coalesce(length(text), 0)";

impl Store {
    /// Opens (creating and upgrading when needed) the store in `database`.
    pub fn open(database: &Database) -> Result<Store, StoreError> {
        let place = database.to_string();
        let wrap = |e: DbError| StoreError { place: place.clone(), message: e.message, unavailable: e.unavailable };
        let mut conn = match database {
            Database::Sqlite(path) => Conn::Sqlite(open_sqlite(path).map_err(wrap)?),
            Database::Postgres { url, schema } => {
                Conn::Postgres(postgres::Pg::open(url, schema.as_deref(), false).map_err(wrap)?)
            }
        };
        migrate(&mut conn).map_err(wrap)?;
        Ok(Store { conn, place })
    }

    /// Opens an existing store for reading only (`refeed status`, `run --dry-run`): nothing
    /// is created, migrated or written, and a `serve` or `run` holding the lock is no
    /// obstacle. `None` when there is no store yet.
    pub fn open_read_only(database: &Database) -> Result<Option<Store>, StoreError> {
        let place = database.to_string();
        let wrap = |e: DbError| StoreError { place: place.clone(), message: e.message, unavailable: e.unavailable };
        let conn = match database {
            Database::Sqlite(path) => {
                if !path.exists() {
                    return Ok(None);
                }
                let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(|e| wrap(e.into()))?;
                conn.busy_timeout(Duration::from_secs(30)).map_err(|e| wrap(e.into()))?;
                Conn::Sqlite(conn)
            }
            Database::Postgres { url, schema } => {
                let conn = Conn::Postgres(postgres::Pg::open(url, schema.as_deref(), true).map_err(wrap)?);
                let exists = conn
                    .query_row("SELECT to_regclass('refeed_schema') IS NOT NULL", vec![])
                    .map_err(wrap)?
                    .is_some_and(|r| r.int(0) != 0);
                if !exists {
                    return Ok(None);
                }
                conn
            }
        };
        let version = schema_version(&conn).map_err(wrap)?;
        if version != MIGRATIONS.len() as i64 {
            let why = match version > MIGRATIONS.len() as i64 {
                true => "a newer refeed: upgrade refeed",
                false => "an older refeed: one `refeed run` or `refeed serve` upgrades it",
            };
            return Err(wrap(DbError::other(format!(
                "written by {why} (schema version {version}; this refeed reads {})",
                MIGRATIONS.len()
            ))));
        }
        Ok(Some(Store { conn, place }))
    }

    fn err(&self, e: DbError) -> StoreError {
        StoreError { place: self.place.clone(), message: e.message, unavailable: e.unavailable }
    }

    fn execute(&self, sql: &str, args: Vec<Value>) -> Result<u64, StoreError> {
        self.conn.execute(sql, args).map_err(|e| self.err(e))
    }

    fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>, StoreError> {
        self.conn.query(sql, args).map_err(|e| self.err(e))
    }

    fn query_row(&self, sql: &str, args: Vec<Value>) -> Result<Option<Row>, StoreError> {
        self.conn.query_row(sql, args).map_err(|e| self.err(e))
    }

    /// What `refeed status` shows of every source the store knows, by name.
    pub fn status(&self) -> Result<Vec<StatusRow>, StoreError> {
        let rows = self.query(
            "SELECT s.name, s.url, s.title, s.last_attempt, s.last_success, s.last_error, s.last_error_kind,
               s.failures, s.next_due, s.gone_since, s.retry_after,
               (SELECT count(*) FROM entries e WHERE e.source = s.name),
               (SELECT count(*) FROM entries e WHERE e.source = s.name AND e.listed = 1),
               (SELECT count(*) FROM entries e JOIN articles a ON a.url = e.url
                  WHERE e.source = s.name AND e.listed = 1 AND a.error LIKE ?1 || '%'),
               s.refreshed_by, CASE WHEN s.claim_until >= ?2 THEN s.claimed_by END
             FROM sources s ORDER BY s.name",
            args![NOT_AN_ARTICLE, ts(Utc::now())],
        )?;
        let time = |r: &Row, i| r.opt_int(i).map(from_ts);
        Ok(rows
            .iter()
            .map(|r| StatusRow {
                name: r.text(0),
                url: r.text(1),
                title: r.opt_text(2),
                last_attempt: time(r, 3),
                last_success: time(r, 4),
                last_error: r.opt_text(5),
                last_error_kind: r.opt_text(6),
                failures: r.int(7),
                next_due: time(r, 8),
                gone_since: time(r, 9),
                retry_after: time(r, 10),
                entries_stored: r.int(11),
                entries_listed: r.int(12),
                not_articles: r.int(13),
                refreshed_by: r.opt_text(14),
                claimed_by: r.opt_text(15),
            })
            .collect())
    }

    /// Claims the refresh of `name` for process `node` until `now + lease`: won when no other
    /// process holds it (or its lease ran out) and, with `respect_due`, when the source is
    /// due (`next_due` at most a second away). One conditional UPDATE: of processes racing
    /// for a source, one changes the row and the others find it taken.
    pub fn claim(
        &self,
        name: &str,
        url: &str,
        node: &str,
        now: DateTime<Utc>,
        lease: Duration,
        respect_due: bool,
    ) -> Result<Claim, StoreError> {
        self.execute("INSERT INTO sources (name, url) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING", args![name, url])?;
        let until = ts(now).saturating_add(lease.as_secs().min(i64::MAX as u64 / 2) as i64);
        let free = "name = ?1 AND (claimed_by IS NULL OR claim_until < ?4 OR claimed_by = ?2)";
        let won = match respect_due {
            true => self.execute(
                &format!(
                    "UPDATE sources SET claimed_by = ?2, claim_until = ?3 WHERE {free} AND (next_due IS NULL OR next_due <= ?5)"
                ),
                args![name, node, until, ts(now), ts(now) + 1],
            )?,
            false => self.execute(
                &format!("UPDATE sources SET claimed_by = ?2, claim_until = ?3 WHERE {free}"),
                args![name, node, until, ts(now)],
            )?,
        };
        if won > 0 {
            return Ok(Claim::Won);
        }
        let row =
            self.query_row("SELECT claimed_by, claim_until, next_due FROM sources WHERE name = ?1", args![name])?;
        let (by, until, next_due) = row.map_or((None, None, None), |r| (r.opt_text(0), r.opt_int(1), r.opt_int(2)));
        Ok(match (by, until) {
            (Some(by), Some(until)) if until >= ts(now) => Claim::Busy { by, until: from_ts(until) },
            _ => Claim::NotDue { next_due: next_due.map_or(now, from_ts) },
        })
    }

    /// Ends `node`'s claim on `name` after its refresh: it made the last refresh, and the
    /// source is due again at `next_due` (for every process).
    /// One transaction, so no reader sees the claim gone and the process's count not yet raised.
    pub fn release(&mut self, name: &str, node: &str, next_due: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        let result = self.conn.transaction(|tx| {
            tx.execute(
                "UPDATE sources SET claimed_by = NULL, claim_until = NULL, refreshed_by = ?2, next_due = coalesce(?3, next_due)
                 WHERE name = ?1 AND claimed_by = ?2",
                args![name, node, next_due.map(ts)],
            )?;
            tx.execute("UPDATE nodes SET refreshes = refreshes + 1 WHERE id = ?1", args![node]).map(|_| ())
        });
        result.map_err(|e| self.err(e))
    }

    /// Extends the claims of process `node` to `now + lease`.
    pub fn renew_claims(&self, node: &str, now: DateTime<Utc>, lease: Duration) -> Result<(), StoreError> {
        let until = ts(now).saturating_add(lease.as_secs().min(i64::MAX as u64 / 2) as i64);
        self.execute("UPDATE sources SET claim_until = ?2 WHERE claimed_by = ?1", args![node, until]).map(|_| ())
    }

    /// Sources whose claim ran out without being released: the process refreshing them died
    /// (or lost the database) mid-refresh.
    pub fn lapsed_claims(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT name FROM sources WHERE claimed_by IS NOT NULL AND claim_until < ?1 ORDER BY name",
            args![ts(now)],
        )?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    /// Forgets every claim: for a process that owns the database alone (SQLite, under the
    /// run lock), claims left by one that was killed mean nothing.
    pub fn clear_claims(&self) -> Result<(), StoreError> {
        self.execute("UPDATE sources SET claimed_by = NULL, claim_until = NULL WHERE claimed_by IS NOT NULL", vec![])
            .map(|_| ())
    }

    /// Announces process `node`, alive at `node.seen`. Processes not heard from for a week
    /// are forgotten (every start announces a new one).
    pub fn announce(&self, node: &Node) -> Result<(), StoreError> {
        self.execute("DELETE FROM nodes WHERE seen < ?1", args![ts(node.seen) - FORGET_NODES_AFTER])?;
        self.execute(
            "INSERT INTO nodes (id, host, pid, version, started, seen, refreshes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
             ON CONFLICT(id) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version,
               started = excluded.started, seen = excluded.seen",
            args![
                node.id.as_str(),
                node.host.as_str(),
                node.pid,
                node.version.as_str(),
                ts(node.started),
                ts(node.seen)
            ],
        )
        .map(|_| ())
    }

    /// Says that process `node` is still alive at `now`.
    pub fn heartbeat(&self, node: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute("UPDATE nodes SET seen = ?2 WHERE id = ?1", args![node, ts(now)]).map(|_| ())
    }

    /// The processes that announced themselves, the most recently seen first.
    pub fn nodes(&self) -> Result<Vec<Node>, StoreError> {
        let rows = self.query(
            "SELECT id, host, pid, version, started, seen, refreshes FROM nodes ORDER BY seen DESC, id",
            vec![],
        )?;
        Ok(rows
            .iter()
            .map(|r| Node {
                id: r.text(0),
                host: r.text(1),
                pid: r.int(2),
                version: r.text(3),
                started: from_ts(r.int(4)),
                seen: from_ts(r.int(5)),
                refreshes: r.int(6),
            })
            .collect())
    }

    /// Keeps the rendered documents of one feed (replacing the previous ones).
    pub fn save_rendered(&mut self, docs: &[RenderedDoc]) -> Result<(), StoreError> {
        let result = self.conn.transaction(|tx| {
            for d in docs {
                tx.execute(
                    "INSERT INTO rendered (name, format, body, etag, modified) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name, format) DO UPDATE SET body = excluded.body, etag = excluded.etag,
                       modified = excluded.modified",
                    args![d.name.as_str(), d.format.as_str(), d.body.clone(), d.etag.as_str(), d.modified],
                )?;
            }
            Ok(())
        });
        result.map_err(|e| self.err(e))
    }

    /// `/feed?url=`'s rate limit shared by every process: refills `client`'s bucket (at most
    /// `per_minute` requests, refilled continuously) and says whether it holds a request;
    /// `Err(seconds)` until it will. Buckets that refilled are forgotten, so the table holds
    /// only clients seen lately or still in debt.
    pub fn admit_client(
        &self,
        client: &str,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<Result<(), u64>, StoreError> {
        const TOKEN: i64 = 1_000_000;
        let cap = i64::from(per_minute.max(1)) * TOKEN;
        // Micro-tokens per millisecond, times 3: per_minute * 1e6 / 60e3 = per_minute * 50 / 3.
        let rate3 = i64::from(per_minute.max(1)) * 50;
        let now = now.timestamp_millis();
        let refilled = "client_limits.tokens + (?3 - client_limits.at) * ?4 / 3";
        self.execute("DELETE FROM client_limits WHERE tokens + (?1 - at) * ?2 / 3 >= ?3", args![now, rate3, cap])?;
        let row = self.query_row(
            &format!(
                "INSERT INTO client_limits (client, tokens, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(client) DO UPDATE SET tokens = CASE WHEN {refilled} > ?2 THEN ?2 ELSE {refilled} END, at = ?3
                 RETURNING tokens"
            ),
            args![client, cap, now, rate3],
        )?;
        let tokens = row.map_or(cap, |r| r.int(0));
        Ok(match tokens >= TOKEN {
            true => Ok(()),
            false => Err(((TOKEN - tokens) as f64 * 60.0 / cap as f64).ceil().max(1.0) as u64),
        })
    }

    /// Per-host politeness shared by every process: takes a slot of `host` (token `token`,
    /// held until `now + lease` unless given back) when fewer than `per_host` are held and
    /// `delay` has passed since the last request to it began; otherwise how long to wait.
    /// The host's row is locked for the decision, so processes asking at once take turns.
    /// Slots of a process that died run out with their lease.
    pub fn acquire_host(
        &mut self,
        host: &str,
        token: &str,
        per_host: usize,
        delay: Duration,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, StoreError> {
        let now = now.timestamp_millis();
        let delay = delay.as_millis().min(i64::MAX as u128) as i64;
        let until = now.saturating_add(lease.as_millis().min(i64::MAX as u128 / 2) as i64);
        let lock = if self.conn.is_postgres() { " FOR UPDATE" } else { "" };
        let result = self.conn.transaction(|tx| {
            tx.execute(
                "INSERT INTO host_gates (host, last_start) VALUES (?1, 0) ON CONFLICT(host) DO NOTHING",
                args![host],
            )?;
            let last = tx
                .query_row(&format!("SELECT last_start FROM host_gates WHERE host = ?1{lock}"), args![host])?
                .map_or(0, |r| r.int(0));
            tx.execute("DELETE FROM host_slots WHERE host = ?1 AND until < ?2", args![host, now])?;
            let held =
                tx.query_row("SELECT count(*) FROM host_slots WHERE host = ?1", args![host])?.map_or(0, |r| r.int(0));
            if held >= per_host as i64 {
                return Ok(Err(Duration::from_millis(50)));
            }
            if last.saturating_add(delay) > now {
                return Ok(Err(Duration::from_millis((last + delay - now) as u64)));
            }
            tx.execute("INSERT INTO host_slots (host, token, until) VALUES (?1, ?2, ?3)", args![host, token, until])?;
            tx.execute("UPDATE host_gates SET last_start = ?2 WHERE host = ?1", args![host, now])?;
            Ok(Ok(()))
        });
        result.map_err(|e| self.err(e))
    }

    /// Gives back the slot [`Store::acquire_host`] took.
    pub fn release_host(&self, host: &str, token: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM host_slots WHERE host = ?1 AND token = ?2", args![host, token]).map(|_| ())
    }

    /// Charges `client` the requests a build sent (it may go into debt).
    pub fn charge_client(&self, client: &str, requests: u64) -> Result<(), StoreError> {
        let cost = (requests.min(1 << 30) as i64) * 1_000_000;
        self.execute("UPDATE client_limits SET tokens = tokens - ?2 WHERE client = ?1", args![client, cost]).map(|_| ())
    }

    /// Forgets the rendered documents older than `modified_before` (milliseconds).
    pub fn prune_rendered(&mut self, modified_before: i64) -> Result<usize, StoreError> {
        self.execute("DELETE FROM rendered WHERE modified < ?1", args![modified_before]).map(|n| n as usize)
    }

    /// (name, format, etag) of every rendered document: what a process compares with what
    /// it serves, to fetch only those that changed.
    pub fn rendered_etags(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = self.query("SELECT name, format, etag FROM rendered", vec![])?;
        Ok(rows.iter().map(|r| (r.text(0), r.text(1), r.text(2))).collect())
    }

    /// The rendered documents of feed `name`.
    pub fn rendered(&self, name: &str) -> Result<Vec<RenderedDoc>, StoreError> {
        let rows = self.query("SELECT format, body, etag, modified FROM rendered WHERE name = ?1", args![name])?;
        Ok(rows
            .iter()
            .map(|r| RenderedDoc {
                name: name.to_owned(),
                format: r.text(0),
                body: r.opt_blob(1).unwrap_or_default(),
                etag: r.text(2),
                modified: r.int(3),
            })
            .collect())
    }

    /// True on PostgreSQL: other processes may share this database.
    pub fn is_shared(&self) -> bool {
        self.conn.is_postgres()
    }

    /// When `serve` means to refresh `name` next (shown by `refeed status`).
    pub fn record_next_due(&mut self, name: &str, due: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute("UPDATE sources SET next_due = ?2 WHERE name = ?1", args![name, ts(due)]).map(|_| ())
    }

    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        let row = self.query_row(
            "SELECT etag, last_modified, title, site_url, description, last_success, last_error, url, gone_since, retry_after,
               last_error_kind
             FROM sources WHERE name = ?1",
            args![name],
        )?;
        Ok(row
            .map(|r| SourceState {
                validators: Validators { etag: r.opt_text(0), last_modified: r.opt_text(1) },
                title: r.opt_text(2),
                site_url: r.opt_text(3),
                description: r.opt_text(4),
                last_success: r.opt_int(5).map(from_ts),
                last_error: r.opt_text(6),
                url: r.opt_text(7),
                gone_since: r.opt_int(8).map(from_ts),
                retry_after: r.opt_int(9).map(from_ts),
                last_error_kind: r.opt_text(10),
            })
            .unwrap_or_default())
    }

    /// Records a failed refresh (its kind, as [`crate::error::ErrorKind::to_stored`] writes
    /// it, and its message); what was stored before stays.
    pub fn record_failure(&mut self, name: &str, url: &str, kind: &str, error: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO sources (name, url, last_error, last_error_kind, last_attempt, failures)
             VALUES (?1, ?2, ?3, ?4, ?5, 1)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
               last_error_kind = excluded.last_error_kind, last_attempt = excluded.last_attempt,
               failures = sources.failures + 1",
            args![name, url, error, kind, ts(Utc::now())],
        )
        .map(|_| ())
    }

    /// Records a 410 Gone: the source is not fetched again until its URL changes.
    pub fn record_gone(&mut self, name: &str, url: &str, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO sources (name, url, last_error, gone_since) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
               gone_since = coalesce(sources.gone_since, excluded.gone_since)",
            args![name, url, error, ts(now)],
        )
        .map(|_| ())
    }

    /// Records an origin's request to come back later (429/503 with Retry-After).
    pub fn record_retry_after(
        &mut self,
        name: &str,
        url: &str,
        error: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO sources (name, url, last_error, retry_after) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url, last_error = excluded.last_error,
               retry_after = excluded.retry_after",
            args![name, url, error, ts(until)],
        )
        .map(|_| ())
    }

    /// Records a 304: the validators stay, the error is cleared.
    pub fn record_unchanged(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE sources SET last_success = ?2, last_attempt = ?2, failures = 0, last_error = NULL,
               last_error_kind = NULL, gone_since = NULL, retry_after = NULL WHERE name = ?1",
            args![name, ts(now)],
        )
        .map(|_| ())
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
        let mut data = Vec::with_capacity(entries.len());
        for entry in entries {
            data.push(serde_json::to_string(entry).map_err(|e| self.err(DbError::other(e.to_string())))?);
        }
        let result = self.conn.transaction(|tx| {
            tx.execute(
                "INSERT INTO sources (name, url, etag, last_modified, title, site_url, description, last_success, last_error,
                   last_attempt, failures)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?8, 0)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
                   last_modified = excluded.last_modified, title = excluded.title, site_url = excluded.site_url,
                   description = excluded.description, last_success = excluded.last_success, last_error = NULL,
                   last_error_kind = NULL, last_attempt = excluded.last_attempt, failures = 0,
                   gone_since = NULL, retry_after = NULL",
                args![
                    name,
                    url,
                    validators.etag.as_ref(),
                    validators.last_modified.as_ref(),
                    title,
                    site_url,
                    description,
                    ts(now)
                ],
            )?;
            tx.execute("UPDATE entries SET listed = 0 WHERE source = ?1", args![name])?;
            let mut new = 0;
            for (position, (entry, data)) in entries.iter().zip(data).enumerate() {
                let known = tx
                    .query_row("SELECT 1 FROM entries WHERE source = ?1 AND guid = ?2", args![name, entry.guid.as_str()])?
                    .is_some();
                if !known {
                    new += 1;
                }
                tx.execute(
                    "INSERT INTO entries (source, guid, url, data, first_seen, listed, position) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                     ON CONFLICT(source, guid) DO UPDATE SET url = excluded.url, data = excluded.data, listed = 1,
                       position = excluded.position",
                    args![name, entry.guid.as_str(), entry.url.as_ref(), data, ts(now), position as i64],
                )?;
            }
            Ok(new)
        });
        result.map_err(|e| self.err(e))
    }

    /// The entries the origin currently lists, in feed order, with their articles.
    pub fn listed_entries(&self, name: &str) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = self.query(
            "SELECT e.data, e.first_seen, a.html, a.text, a.meta FROM entries e
             LEFT JOIN articles a ON a.url = e.url AND a.error IS NULL
             WHERE e.source = ?1 AND e.listed = 1 ORDER BY e.position",
            args![name],
        )?;
        Ok(rows.iter().filter_map(stored_entry).collect())
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
        let rows = self.query(
            "SELECT e.data, e.first_seen, a.html, a.text, a.meta FROM entries e
             LEFT JOIN articles a ON a.url = e.url AND a.error IS NULL
             WHERE e.source = ?1 AND e.listed = 0 AND e.first_seen >= ?2
             ORDER BY e.first_seen DESC, e.position LIMIT ?3",
            args![name, since.map_or(i64::MIN, ts), limit.min(i64::MAX as usize) as i64],
        )?;
        out.extend(rows.iter().filter_map(stored_entry));
        Ok(out)
    }

    /// Removes what no configured source keeps (`retention`): sources not in it, entries the
    /// origin dropped past their source's history, articles no entry links to. With
    /// `dry_run`, only counts (the transaction is rolled back). Then VACUUM, to give the
    /// space back.
    pub fn prune(&mut self, retention: &[Retention], dry_run: bool) -> Result<Pruned, StoreError> {
        let keep: std::collections::HashSet<&str> = retention.iter().map(|r| r.name.as_str()).collect();
        let result = self.conn.transaction_then(!dry_run, |tx| {
            let mut pruned = Pruned::default();
            let known = tx.query("SELECT name FROM sources UNION SELECT DISTINCT source FROM entries", vec![])?;
            let mut gone: Vec<String> = known.iter().map(|r| r.text(0)).filter(|n| !keep.contains(n.as_str())).collect();
            gone.sort();
            for name in &gone {
                let counts = tx
                    .query_row(
                        "SELECT count(*), coalesce(sum(length(data)), 0) FROM entries WHERE source = ?1",
                        args![name.as_str()],
                    )?
                    .map_or((0, 0), |r| (r.int(0), r.int(1)));
                pruned.entries += counts.0 as usize;
                pruned.bytes += counts.1 as u64;
                tx.execute("DELETE FROM entries WHERE source = ?1", args![name.as_str()])?;
                if tx.execute("DELETE FROM sources WHERE name = ?1", args![name.as_str()])? > 0 {
                    pruned.sources += 1;
                    pruned.source_names.push(name.clone());
                }
            }
            for r in retention {
                // Unlisted entries past the source's history: older than `since`, or past the
                // newest `limit`; all of them without history.
                let (doomed, args) = match r.history {
                    false => ("source = ?1 AND listed = 0", args![r.name.as_str()]),
                    true => (
                        "source = ?1 AND listed = 0 AND (first_seen < ?2 OR guid NOT IN
                           (SELECT guid FROM entries WHERE source = ?1 AND listed = 0
                            ORDER BY first_seen DESC, position LIMIT ?3))",
                        args![r.name.as_str(), r.since.map_or(i64::MIN, ts), r.limit.min(i64::MAX as usize) as i64],
                    ),
                };
                let counts = tx
                    .query_row(
                        &format!("SELECT count(*), coalesce(sum(length(data)), 0) FROM entries WHERE {doomed}"),
                        args.clone(),
                    )?
                    .map_or((0, 0), |r| (r.int(0), r.int(1)));
                pruned.entries += counts.0 as usize;
                pruned.bytes += counts.1 as u64;
                tx.execute(&format!("DELETE FROM entries WHERE {doomed}"), args)?;
            }
            let orphans = "url NOT IN (SELECT url FROM entries WHERE url IS NOT NULL)";
            let counts = tx
                .query_row(
                    &format!(
                        "SELECT count(*), coalesce(sum({ARTICLE_BYTES} + coalesce(length(meta), 0)), 0) FROM articles WHERE {orphans}"
                    ),
                    vec![],
                )?
                .map_or((0, 0), |r| (r.int(0), r.int(1)));
            (pruned.articles, pruned.bytes) = (counts.0 as usize, pruned.bytes + counts.1 as u64);
            tx.execute(&format!("DELETE FROM articles WHERE {orphans}"), vec![])?;
            Ok(pruned)
        });
        let pruned = result.map_err(|e| self.err(e))?;
        if !dry_run {
            self.conn.batch("VACUUM").map_err(|e| self.err(e))?;
        }
        Ok(pruned)
    }

    /// How many entries [`Store::history_entries`] would give, counted without reading them.
    pub fn history_count(&self, name: &str, since: Option<DateTime<Utc>>, limit: usize) -> Result<usize, StoreError> {
        let counts = self
            .query_row(
                "SELECT (SELECT count(*) FROM entries WHERE source = ?1 AND listed = 1),
                        (SELECT count(*) FROM entries WHERE source = ?1 AND listed = 0 AND first_seen >= ?2)",
                args![name, since.map_or(i64::MIN, ts)],
            )?
            .map_or((0, 0), |r| (r.int(0), r.int(1)));
        Ok(counts.0 as usize + (counts.1 as usize).min(limit))
    }

    /// The article extracted from `url`, if one was.
    pub fn article(&self, url: &str) -> Result<Option<StoredArticle>, StoreError> {
        let row = self.query_row(
            "SELECT html, text, meta FROM articles WHERE url = ?1 AND error IS NULL AND html IS NOT NULL",
            args![url],
        )?;
        Ok(row.map(|r| stored_article(r.text(0), r.opt_text(1), r.opt_text(2))))
    }

    /// True when this URL needs fetching: never extracted, and not failed too often.
    pub fn needs_article(&self, url: &str, max_attempts: u32) -> Result<bool, StoreError> {
        let row = self.query_row("SELECT error, attempts FROM articles WHERE url = ?1", args![url])?;
        Ok(match row {
            None => true,
            Some(r) => r.opt_text(0).is_some() && r.int(1) < i64::from(max_attempts),
        })
    }

    /// Counts an attempt at `url` before it is made: if the process dies while fetching or
    /// extracting (a page that exhausts memory, a kill), the attempt still counts, so a page
    /// that kills refeed is tried at most `article_attempts` times, not on every run.
    pub fn begin_article(&mut self, url: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO articles (url, fetched_at, attempts, error) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, attempts = articles.attempts + 1,
               error = excluded.error",
            args![url, ts(now), INTERRUPTED],
        )
        .map(|_| ())
    }

    /// Takes back the attempt [`Store::begin_article`] counted, for an attempt refeed itself
    /// abandoned (the source's time ran out): it is tried again next time, at no cost.
    pub fn cancel_article(&mut self, url: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE articles SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, error = ?2
             WHERE url = ?1 AND error = ?3",
            args![url, ABANDONED, INTERRUPTED],
        )
        .map(|_| ())
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
        self.execute(
            "INSERT INTO articles (url, fetched_at, attempts, raw_html, html, text, meta, error) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, NULL)
             ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, raw_html = excluded.raw_html,
               html = excluded.html, text = excluded.text, meta = excluded.meta, error = NULL",
            args![url, ts(now), compressed, article.html.as_str(), article.text.as_str(), meta.to_string()],
        )
        .map(|_| ())
    }

    pub fn save_article_error(&mut self, url: &str, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO articles (url, fetched_at, attempts, error) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, error = excluded.error",
            args![url, ts(now), error],
        )
        .map(|_| ())
    }

    /// Keeps the articles within `max_bytes` of raw pages and `max_age`, dropping the oldest
    /// first (the anonymous store of `/feed?url=`, which strangers fill).
    pub fn prune_articles(&mut self, max_bytes: u64, max_age: Duration) -> Result<usize, StoreError> {
        let cutoff = ts(Utc::now()) - max_age.as_secs() as i64;
        let mut gone = self.execute("DELETE FROM articles WHERE fetched_at < ?1", args![cutoff])? as usize;
        let total = self
            .query_row(&format!("SELECT coalesce(sum({ARTICLE_BYTES}), 0) FROM articles"), vec![])?
            .map_or(0, |r| r.int(0));
        if total as u64 > max_bytes {
            // Oldest first, until the rest fits.
            gone += self.execute(
                &format!(
                    "DELETE FROM articles WHERE url IN (
                       SELECT url FROM (
                         SELECT url, sum({ARTICLE_BYTES}) OVER (ORDER BY fetched_at DESC, url) AS running
                         FROM articles) AS sized
                       WHERE running > ?1)"
                ),
                args![max_bytes.min(i64::MAX as u64) as i64],
            )? as usize;
        }
        Ok(gone)
    }

    /// Keeps a later page of a multi-page story, as fetched.
    pub fn save_page(&mut self, url: &str, raw_html: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO pages (url, fetched_at, raw_html) VALUES (?1, ?2, ?3)
             ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at, raw_html = excluded.raw_html",
            args![url, ts(now), deflate(raw_html)],
        )
        .map(|_| ())
    }

    /// A later page of a multi-page story, as [`Store::save_page`] kept it.
    pub fn page_raw(&self, url: &str) -> Result<Option<String>, StoreError> {
        let row = self.query_row("SELECT raw_html FROM pages WHERE url = ?1", args![url])?;
        Ok(row.and_then(|r| r.opt_blob(0)).and_then(|b| inflate(&b)))
    }

    /// The raw page stored for `url`, for re-extraction without a refetch.
    pub fn raw_html(&self, url: &str) -> Result<Option<String>, StoreError> {
        let row = self.query_row("SELECT raw_html FROM articles WHERE url = ?1", args![url])?;
        Ok(row.and_then(|r| r.opt_blob(0)).and_then(|b| inflate(&b)))
    }

    pub fn record_run(&mut self, run: &RunRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO runs (started, finished, sources_ok, sources_failed, new_entries, articles, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![
                ts(run.started),
                ts(run.finished),
                run.sources_ok as i64,
                run.sources_failed as i64,
                run.new_entries as i64,
                run.articles as i64,
                run.bytes.min(i64::MAX as u64) as i64
            ],
        )
        .map(|_| ())
    }
}

/// Opens (creating its folder) a SQLite file in WAL mode: `synchronous = NORMAL` loses no
/// committed transaction when the process is killed.
fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError::other(format!("cannot create folder {}: {e}", dir.display())))?;
    }
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test, once on a SQLite file and once on a real PostgreSQL server.
    macro_rules! on_both {
        ($($name:ident),* $(,)?) => {
            mod sqlite {
                $(#[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(crate::store::Database::Sqlite(dir.path().join("s.db")));
                })*
            }
            mod postgres {
                $(#[test]
                fn $name() {
                    super::$name(crate::testing::postgres());
                })*
            }
        };
    }

    on_both!(
        pruning_keeps_the_newest_articles_within_the_size_cap,
        entries_stored_by_an_earlier_refeed_still_read,
        a_store_from_a_newer_refeed_is_refused_with_both_versions,
        entries_validators_and_articles_round_trip,
        failures_gone_and_retry_after_are_recorded_and_cleared,
        history_and_prune_keep_what_each_source_keeps,
        status_counts_and_read_only_opening,
        one_process_wins_a_claim_and_a_dead_ones_lease_runs_out,
        processes_announce_themselves_and_share_rendered_feeds,
        the_shared_rate_limit_refills_charges_and_forgets,
        host_slots_are_shared_spaced_and_run_out,
    );

    fn host_slots_are_shared_spaced_and_run_out(db: Database) {
        let (mut a, mut b) = (Store::open(&db).unwrap(), Store::open(&db).unwrap());
        let t0 = DateTime::from_timestamp_millis(1_800_000_000_000).unwrap();
        let ms = chrono::TimeDelta::milliseconds;
        let (delay, lease) = (Duration::from_millis(300), Duration::from_secs(10));
        assert_eq!(a.acquire_host("h.example", "a1", 1, delay, lease, t0).unwrap(), Ok(()));
        assert_eq!(
            b.acquire_host("h.example", "b1", 1, delay, lease, t0 + ms(400)).unwrap(),
            Err(Duration::from_millis(50))
        );
        assert_eq!(b.acquire_host("other.example", "b2", 1, delay, lease, t0).unwrap(), Ok(()), "hosts apart");
        a.release_host("h.example", "a1").unwrap();
        assert_eq!(
            b.acquire_host("h.example", "b1", 1, delay, lease, t0 + ms(100)).unwrap(),
            Err(Duration::from_millis(200))
        );
        assert_eq!(b.acquire_host("h.example", "b1", 1, delay, lease, t0 + ms(300)).unwrap(), Ok(()));
        // A process killed holding a slot: the slot runs out with its lease.
        assert_eq!(
            a.acquire_host("h.example", "a2", 1, delay, lease, t0 + ms(5_000)).unwrap(),
            Err(Duration::from_millis(50))
        );
        assert_eq!(a.acquire_host("h.example", "a2", 1, delay, lease, t0 + ms(10_301)).unwrap(), Ok(()));
        assert_eq!(a.acquire_host("h.example", "a3", 2, Duration::ZERO, lease, t0 + ms(10_302)).unwrap(), Ok(()));
    }

    fn the_shared_rate_limit_refills_charges_and_forgets(db: Database) {
        let mut store = Store::open(&db).unwrap();
        let t0 = from_ts(ts(Utc::now()));
        // 6 a minute: one every 10 s.
        assert_eq!(store.admit_client("10.0.0.1", 6, t0).unwrap(), Ok(()));
        store.charge_client("10.0.0.1", 8).unwrap();
        // 6 - 8 = -2 tokens: 3 tokens short of one, 30 s.
        assert_eq!(store.admit_client("10.0.0.1", 6, t0).unwrap(), Err(30));
        assert_eq!(store.admit_client("10.0.0.2", 6, t0).unwrap(), Ok(()), "another client is not charged");
        assert_eq!(store.admit_client("10.0.0.1", 6, t0 + chrono::TimeDelta::seconds(20)).unwrap(), Err(10));
        assert_eq!(store.admit_client("10.0.0.1", 6, t0 + chrono::TimeDelta::seconds(30)).unwrap(), Ok(()));
        // Refilled buckets are forgotten.
        assert_eq!(store.admit_client("10.0.0.3", 6, t0 + chrono::TimeDelta::minutes(5)).unwrap(), Ok(()));
        let rows = store.query("SELECT client FROM client_limits ORDER BY client", vec![]).unwrap();
        assert_eq!(rows.iter().map(|r| r.text(0)).collect::<Vec<_>>(), ["10.0.0.3"]);
        let doc = |name: &str, modified| RenderedDoc {
            name: name.into(),
            format: "xml".into(),
            body: b"<rss/>".to_vec(),
            etag: "e".into(),
            modified,
        };
        store.save_rendered(&[doc("old", 1_000), doc("new", 5_000)]).unwrap();
        assert_eq!(store.prune_rendered(2_000).unwrap(), 1);
        assert_eq!(store.rendered_etags().unwrap(), [("new".into(), "xml".into(), "e".into())]);
    }

    fn entry(guid: &str) -> Entry {
        Entry {
            guid: guid.into(),
            url: Some(format!("https://e.example/{guid}")),
            title: Some(guid.into()),
            ..Entry::default()
        }
    }

    fn article_bytes(store: &Store) -> i64 {
        store.query_row(&format!("SELECT sum({ARTICLE_BYTES}) FROM articles"), vec![]).unwrap().unwrap().int(0)
    }

    fn pruning_keeps_the_newest_articles_within_the_size_cap(db: Database) {
        let mut store = Store::open(&db).unwrap();
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
        let total = article_bytes(&store);
        assert_eq!(total, 10 * 2000 + 10 * deflate(&"r".repeat(1000)).len() as i64);
        store.prune_articles(total as u64 / 2, Duration::from_secs(7 * 86400)).unwrap();
        assert!(store.article("https://e.example/9").unwrap().is_some(), "the newest stays");
        assert!(store.article("https://e.example/0").unwrap().is_none(), "the oldest goes");
        let left = article_bytes(&store);
        assert!(left <= total / 2 && left > 0, "{left} of {total}");
    }

    fn entries_stored_by_an_earlier_refeed_still_read(db: Database) {
        let mut store = Store::open(&db).unwrap();
        let v = Validators::default();
        store.record_feed("a", "https://e.example/f", &v, None, None, None, &[entry("1")], Utc::now()).unwrap();
        // An entry as the previous version wrote it: no `image` field.
        let old = r#"{"guid":"https://e.example/1","url":"https://e.example/1","title":"Old","author":null,"published":null,"updated":null,"summary":null,"content":null,"categories":[],"enclosures":[]}"#;
        store.execute("UPDATE entries SET data = ?1", args![old]).unwrap();
        let listed = store.listed_entries("a").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].entry.title.as_deref(), Some("Old"));
        assert_eq!(listed[0].entry.image, None);
    }

    fn a_store_from_a_newer_refeed_is_refused_with_both_versions(db: Database) {
        let store = Store::open(&db).unwrap();
        match &db {
            Database::Sqlite(_) => store.conn.batch("PRAGMA user_version = 99").unwrap(),
            Database::Postgres { .. } => {
                store.execute("UPDATE refeed_schema SET version = 99", vec![]).unwrap();
            }
        }
        drop(store);
        let e = Store::open(&db).err().unwrap().to_string();
        let known = MIGRATIONS.len();
        assert!(
            e.contains(&format!("written by a newer refeed (schema version 99; this refeed knows up to {known})")),
            "{e}"
        );
        let e = Store::open_read_only(&db).err().unwrap().to_string();
        assert!(
            e.contains(&format!(
                "written by a newer refeed: upgrade refeed (schema version 99; this refeed reads {known})"
            )),
            "{e}"
        );
    }

    fn entries_validators_and_articles_round_trip(db: Database) {
        let mut store = Store::open(&db).unwrap();
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
        let state = store.source_state("a").unwrap();
        assert_eq!(state.validators, v);
        assert_eq!((state.title.as_deref(), state.last_success.map(ts)), (Some("T"), Some(ts(now))));
        assert!(store.needs_article("https://e.example/2", 3).unwrap());
        let article = Article {
            html: "<p>x</p>".into(),
            text: "x".into(),
            title: Some("Title".into()),
            byline: Some("Ann".into()),
            ..Article::default()
        };
        store.save_article("https://e.example/2", "<html>raw é</html>", &article, now).unwrap();
        assert!(!store.needs_article("https://e.example/2", 3).unwrap());
        assert_eq!(store.raw_html("https://e.example/2").unwrap().as_deref(), Some("<html>raw é</html>"));
        let stored = store.listed_entries("a").unwrap()[0].article.clone().unwrap();
        assert_eq!((stored.text.as_str(), stored.html.as_str()), ("x", "<p>x</p>"));
        assert_eq!((stored.title.as_deref(), stored.byline.as_deref()), (Some("Title"), Some("Ann")));
        for _ in 0..2 {
            store.begin_article("https://e.example/3", now).unwrap();
            store.save_article_error("https://e.example/3", "HTTP 500", now).unwrap();
        }
        assert!(store.needs_article("https://e.example/3", 3).unwrap());
        // An attempt that never finished (a crash mid-extraction) counts as well.
        store.begin_article("https://e.example/3", now).unwrap();
        assert!(!store.needs_article("https://e.example/3", 3).unwrap());
        // One refeed abandoned itself is taken back.
        store.cancel_article("https://e.example/3").unwrap();
        assert!(store.needs_article("https://e.example/3", 3).unwrap());
        store.save_page("https://e.example/2?page=2", "<p>two</p>", now).unwrap();
        assert_eq!(store.page_raw("https://e.example/2?page=2").unwrap().as_deref(), Some("<p>two</p>"));
        assert_eq!(store.page_raw("https://e.example/nope").unwrap(), None);
    }

    fn failures_gone_and_retry_after_are_recorded_and_cleared(db: Database) {
        let mut store = Store::open(&db).unwrap();
        let now = from_ts(ts(Utc::now()));
        store.record_failure("a", "https://e.example/f", "dns", "no such host").unwrap();
        store.record_failure("a", "https://e.example/f", "http 500", "HTTP 500").unwrap();
        let state = store.source_state("a").unwrap();
        assert_eq!(
            (state.last_error.as_deref(), state.last_error_kind.as_deref()),
            (Some("HTTP 500"), Some("http 500"))
        );
        assert_eq!(store.status().unwrap()[0].failures, 2);
        store.record_gone("a", "https://e.example/f", "410", now).unwrap();
        store.record_gone("a", "https://e.example/f", "410", now + chrono::TimeDelta::hours(1)).unwrap();
        assert_eq!(store.source_state("a").unwrap().gone_since, Some(now), "the first 410 is kept");
        store.record_retry_after("a", "https://e.example/f", "503", now + chrono::TimeDelta::hours(2)).unwrap();
        assert_eq!(store.source_state("a").unwrap().retry_after, Some(now + chrono::TimeDelta::hours(2)));
        store.record_next_due("a", now + chrono::TimeDelta::minutes(5)).unwrap();
        assert_eq!(store.status().unwrap()[0].next_due, Some(now + chrono::TimeDelta::minutes(5)));
        store.record_unchanged("a", now).unwrap();
        let state = store.source_state("a").unwrap();
        assert_eq!((state.last_error, state.gone_since, state.retry_after), (None, None, None));
        assert_eq!(store.status().unwrap()[0].failures, 0);
    }

    fn history_and_prune_keep_what_each_source_keeps(db: Database) {
        let mut store = Store::open(&db).unwrap();
        let v = Validators::default();
        let t0 = from_ts(ts(Utc::now())) - chrono::TimeDelta::days(10);
        for day in 0..5 {
            let e = [entry(&format!("a{day}"))];
            store
                .record_feed("a", "https://e.example/a", &v, None, None, None, &e, t0 + chrono::TimeDelta::days(day))
                .unwrap();
        }
        store.record_feed("gone", "https://e.example/g", &v, None, None, None, &[entry("g1")], t0).unwrap();
        let article = Article { html: "<p>g</p>".into(), text: "g".into(), ..Article::default() };
        store.save_article("https://e.example/g1", "raw", &article, t0).unwrap();
        let guids = |store: &Store, since, limit| {
            let mut g: Vec<String> =
                store.history_entries("a", since, limit).unwrap().into_iter().map(|e| e.entry.guid).collect();
            g.sort();
            g
        };
        assert_eq!(guids(&store, None, 10), ["a0", "a1", "a2", "a3", "a4"]);
        assert_eq!(guids(&store, None, 2), ["a2", "a3", "a4"], "the listed one and the newest two dropped");
        assert_eq!(guids(&store, Some(t0 + chrono::TimeDelta::days(3)), 10), ["a3", "a4"]);
        assert_eq!(store.history_count("a", None, 2).unwrap(), 3);
        assert_eq!(store.history_count("a", Some(t0 + chrono::TimeDelta::days(3)), 10).unwrap(), 2);
        let keep = [Retention { name: "a".into(), history: true, since: None, limit: 2 }];
        let counted = store.prune(&keep, true).unwrap();
        assert_eq!((counted.sources, counted.entries, counted.articles), (1, 3, 1));
        assert_eq!(counted.source_names, ["gone"]);
        assert_eq!(guids(&store, None, 10).len(), 5, "a dry run changes nothing");
        let pruned = store.prune(&keep, false).unwrap();
        assert_eq!((pruned.sources, pruned.entries, pruned.articles, pruned.bytes), (1, 3, 1, counted.bytes));
        assert_eq!(guids(&store, None, 10), ["a2", "a3", "a4"]);
        assert!(store.listed_entries("gone").unwrap().is_empty());
        assert_eq!(store.article("https://e.example/g1").unwrap(), None);
        let keep = [Retention { name: "a".into(), history: false, since: None, limit: 0 }];
        assert_eq!(store.prune(&keep, false).unwrap().entries, 2);
        assert_eq!(guids(&store, None, 10), ["a4"]);
    }

    fn one_process_wins_a_claim_and_a_dead_ones_lease_runs_out(db: Database) {
        let lease = Duration::from_secs(60);
        let (mut a, mut b) = (Store::open(&db).unwrap(), Store::open(&db).unwrap());
        let now = from_ts(ts(Utc::now()));
        let url = "https://e.example/f";
        assert_eq!(a.claim("s", url, "a", now, lease, true).unwrap(), Claim::Won);
        assert_eq!(
            b.claim("s", url, "b", now, lease, true).unwrap(),
            Claim::Busy { by: "a".into(), until: now + chrono::TimeDelta::seconds(60) }
        );
        let due = now + chrono::TimeDelta::minutes(10);
        a.release("s", "a", Some(due)).unwrap();
        assert_eq!(b.claim("s", url, "b", now, lease, true).unwrap(), Claim::NotDue { next_due: due });
        assert_eq!(b.claim("s", url, "b", now, lease, false).unwrap(), Claim::Won, "asked for: due or not");
        b.release("s", "b", None).unwrap();
        let rows = a.status().unwrap();
        assert_eq!((rows[0].refreshed_by.as_deref(), rows[0].claimed_by.as_deref()), (Some("b"), None));
        assert_eq!(rows[0].next_due, Some(due), "kept when the release names none");
        // A process killed mid-refresh: its lease runs out and another takes the source over.
        let then = now - chrono::TimeDelta::seconds(120);
        assert_eq!(a.claim("t", url, "a", then, lease, true).unwrap(), Claim::Won);
        assert_eq!(b.lapsed_claims(now).unwrap(), ["t"]);
        assert_eq!(b.claim("t", url, "b", now, lease, true).unwrap(), Claim::Won);
        // Eight processes racing for one source: one wins.
        let won: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let db = db.clone();
                    scope.spawn(move || {
                        let store = Store::open(&db).unwrap();
                        let node = format!("n{i}");
                        (store.claim("race", url, &node, now, lease, true).unwrap() == Claim::Won) as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(won, 1);
        a.clear_claims().unwrap();
        assert_eq!(b.claim("race", url, "b", now, lease, true).unwrap(), Claim::Won);
    }

    fn processes_announce_themselves_and_share_rendered_feeds(db: Database) {
        let mut store = Store::open(&db).unwrap();
        let now = from_ts(ts(Utc::now()));
        let node = Node {
            id: "h1:10:1".into(),
            host: "h1".into(),
            pid: 10,
            version: "0.1.0".into(),
            started: now,
            seen: now,
            refreshes: 0,
        };
        store.announce(&node).unwrap();
        store.announce(&Node { id: "h2:20:1".into(), host: "h2".into(), pid: 20, ..node.clone() }).unwrap();
        store.heartbeat("h1:10:1", now + chrono::TimeDelta::seconds(5)).unwrap();
        store.claim("s", "https://e.example/f", "h1:10:1", now, Duration::from_secs(60), true).unwrap();
        store.release("s", "h1:10:1", None).unwrap();
        let nodes = store.nodes().unwrap();
        assert_eq!(nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["h1:10:1", "h2:20:1"]);
        assert_eq!(
            (nodes[0].seen, nodes[0].refreshes, nodes[1].refreshes),
            (now + chrono::TimeDelta::seconds(5), 1, 0)
        );
        let doc = |format: &str, body: &str| RenderedDoc {
            name: "s".into(),
            format: format.into(),
            body: body.as_bytes().to_vec(),
            etag: format!("\"{body}\""),
            modified: 1_700_000_000_123,
        };
        store.save_rendered(&[doc("xml", "<rss/>"), doc("json", "{}")]).unwrap();
        store.save_rendered(&[doc("xml", "<rss>2</rss>")]).unwrap();
        let mut etags = store.rendered_etags().unwrap();
        etags.sort();
        assert_eq!(
            etags,
            [("s".into(), "json".into(), "\"{}\"".into()), ("s".into(), "xml".into(), "\"<rss>2</rss>\"".into())]
        );
        let mut docs = store.rendered("s").unwrap();
        docs.sort_by(|a, b| a.format.cmp(&b.format));
        assert_eq!(docs, [doc("json", "{}"), doc("xml", "<rss>2</rss>")]);
    }

    fn status_counts_and_read_only_opening(db: Database) {
        if let Database::Sqlite(path) = &db {
            assert!(Store::open_read_only(&db).unwrap().is_none());
            assert!(!path.exists(), "reading creates nothing");
        }
        let mut store = Store::open(&db).unwrap();
        let now = Utc::now();
        let v = Validators::default();
        store
            .record_feed("b", "https://e.example/b", &v, Some("B"), None, None, &[entry("1"), entry("2")], now)
            .unwrap();
        store.record_feed("b", "https://e.example/b", &v, Some("B"), None, None, &[entry("2")], now).unwrap();
        store.save_article_error("https://e.example/2", &format!("{NOT_AN_ARTICLE}consent wall"), now).unwrap();
        store
            .record_run(&RunRecord {
                started: now,
                finished: now,
                sources_ok: 1,
                sources_failed: 0,
                new_entries: 2,
                articles: 0,
                bytes: 10,
            })
            .unwrap();
        let mut reader = Store::open_read_only(&db).unwrap().expect("a store now");
        let rows = reader.status().unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.name.as_str(), r.title.as_deref()), ("b", Some("B")));
        assert_eq!((r.entries_stored, r.entries_listed, r.not_articles), (2, 1, 1));
        let e = reader.record_next_due("b", now).expect_err("read-only").to_string();
        assert!(e.contains("read"), "{e}");
    }
}
