//! The two databases the store runs on, behind one small interface: statements with
//! numbered parameters (`?1`, `?2`…), values of four kinds, rows as vectors of them, and
//! transactions. The store's SQL is written once, in the subset both dialects share; the
//! few things they spell differently (column types, the schema version) are translated here.

use std::fmt;

use super::postgres::Pg;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Blob(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

/// Parameters, in order: `args![name, 3_i64, None::<String>]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::store::db::Value::from($v)),*] };
}
pub(crate) use args;

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> &Value {
        self.0.get(i).unwrap_or(&Value::Null)
    }

    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }

    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.at(i) {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.at(i) {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }

    pub fn opt_blob(&self, i: usize) -> Option<Vec<u8>> {
        match self.at(i) {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(s) => Some(s.clone().into_bytes()),
            _ => None,
        }
    }
}

/// What went wrong, and whether the database itself is out of reach (down, restarting, the
/// network gone) rather than refusing a statement.
#[derive(Debug, Clone)]
pub struct DbError {
    pub message: String,
    pub unavailable: bool,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl DbError {
    pub fn other(message: impl Into<String>) -> DbError {
        DbError { message: message.into(), unavailable: false }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::other(e.to_string())
    }
}

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

/// SQLite's schema text in PostgreSQL's words: 64-bit integers, byte arrays, and an identity
/// column for SQLite's `INTEGER PRIMARY KEY`.
pub fn postgres_ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        .replace(" INTEGER", " BIGINT")
        .replace(" BLOB", " BYTEA")
}

/// `?1`, `?2`… as PostgreSQL's `$1`, `$2`… (the store's SQL holds no `?` inside literals).
pub fn postgres_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_and_parameters_translate_to_postgres() {
        assert_eq!(
            postgres_ddl("CREATE TABLE runs (id INTEGER PRIMARY KEY, started INTEGER NOT NULL, raw BLOB)"),
            "CREATE TABLE runs (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, started BIGINT NOT NULL, raw BYTEA)"
        );
        assert_eq!(
            postgres_params("SELECT ?1 || '%' WHERE a = ?12 AND b = ?"),
            "SELECT $1 || '%' WHERE a = $12 AND b = ?"
        );
    }
}
