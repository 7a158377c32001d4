//! An open database, SQLite or PostgreSQL, behind one small interface: statements with
//! numbered parameters (`?1`, `?2`…), rows of [`Value`]s, and transactions.

use super::db::{DbError, Row, Value};
use super::postgres::Pg;

/// An open database.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Pg),
}

impl Conn {
    /// Runs one statement; how many rows it changed.
    pub fn execute(&self, sql: &str, args: Vec<Value>) -> Result<u64, DbError> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(args.iter().map(to_sqlite)))? as u64)
            }
            Conn::Postgres(pg) => pg.execute(sql, args),
        }
    }

    /// Runs one query; all its rows.
    pub fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let rows = stmt.query_map(rusqlite::params_from_iter(args.iter().map(to_sqlite)), |r| {
                    (0..n).map(|i| r.get_ref(i).map(from_sqlite)).collect::<Result<Vec<_>, _>>().map(Row)
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            }
            Conn::Postgres(pg) => pg.query(sql, args),
        }
    }

    /// The first row of a query, if there is one.
    pub fn query_row(&self, sql: &str, args: Vec<Value>) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Runs statements without parameters, separated by `;`.
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back
    /// otherwise. SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so that
    /// overlapping writers wait for it instead of failing on a stale snapshot.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T, DbError>) -> Result<T, DbError> {
        self.transaction_then(true, f)
    }

    /// [`Conn::transaction`], rolled back even when `f` succeeds unless `commit` (a dry run
    /// counts what it would change).
    pub fn transaction_then<T>(
        &mut self,
        commit: bool,
        f: impl FnOnce(&mut Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let begin = match self {
            Conn::Sqlite(_) => "BEGIN IMMEDIATE",
            Conn::Postgres(_) => "BEGIN",
        };
        self.batch(begin)?;
        match f(self) {
            Ok(v) => {
                self.batch(if commit { "COMMIT" } else { "ROLLBACK" })?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }
}

fn to_sqlite(v: &Value) -> rusqlite::types::ToSqlOutput<'_> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    ToSqlOutput::Borrowed(match v {
        Value::Null => ValueRef::Null,
        Value::Int(n) => ValueRef::Integer(*n),
        Value::Text(s) => ValueRef::Text(s.as_bytes()),
        Value::Blob(b) => ValueRef::Blob(b),
    })
}

fn from_sqlite(v: rusqlite::types::ValueRef) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        // No column holds a float; an integer reading of one is the closest.
        ValueRef::Real(f) => Value::Int(f as i64),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}
