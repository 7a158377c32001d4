//! PostgreSQL, through the synchronous `postgres` client on a thread of its own.
//!
//! The client runs a small Tokio runtime inside, which may not be started from a thread that
//! is already driving refeed's async tasks; so the connection lives on a dedicated thread and
//! each call is handed to it and waited for, the way a call to SQLite waits for its file. A
//! connection that broke (the server restarted, the network went) is opened again on the
//! next call; the call that found it broken fails as "unavailable".

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use super::db::{DbError, Row, Value, postgres_params};

/// How long opening a connection may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection. The store's statements are a fixed set of a few
/// dozen; the cap only matters if that ever changes.
const STATEMENT_CACHE: usize = 256;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// Serializes `CREATE SCHEMA` between processes connecting at once.
const SCHEMA_LOCK: i64 = 0x0072_6566_6565_6402;

/// A connection on its own thread.
pub struct Pg {
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

struct Session {
    config: postgres::Config,
    schema: Option<String>,
    read_only: bool,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Session {
    /// The open client, opening it first when there is none or it broke.
    fn client(&mut self) -> Result<&mut Client, DbError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.statements.clear();
            self.client = None;
            let mut client = self.config.connect(NoTls).map_err(to_db_error)?;
            let mut setup = String::new();
            if let Some(schema) = &self.schema {
                let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
                if !self.read_only {
                    // Processes starting together take turns: `IF NOT EXISTS` alone races.
                    setup += &format!(
                        "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); CREATE SCHEMA IF NOT EXISTS {quoted}; COMMIT; "
                    );
                }
                setup += &format!("SET search_path TO {quoted}; ");
            }
            if self.read_only {
                setup += "SET default_transaction_read_only = on;";
            }
            client.batch_execute(&setup).map_err(to_db_error)?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("opened above"))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client()?.prepare(&postgres_params(sql)).map_err(to_db_error)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let stmt = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        self.client()?.execute(&stmt, &params).map_err(to_db_error)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let stmt = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = self.client()?.query(&stmt, &params).map_err(to_db_error)?;
        rows.iter().map(read_row).collect()
    }
}

impl Pg {
    /// Connects to `url`, inside `schema` when one is given (created if missing, unless
    /// `read_only`: then every transaction of the session is read-only).
    pub fn open(url: &str, schema: Option<&str>, read_only: bool) -> Result<Pg, DbError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| DbError::other(format!("bad URL: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("refeed");
        }
        let mut session =
            Session { config, schema: schema.map(str::to_owned), read_only, client: None, statements: HashMap::new() };
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, opened) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("refeed-postgres".into())
            .spawn(move || {
                let _ = ready.send(session.client().map(|_| ()));
                while let Ok(job) = inbox.recv() {
                    job(&mut session);
                }
            })
            .map_err(|e| DbError::other(format!("cannot start the database thread: {e}")))?;
        let pg = Pg { jobs: Some(jobs), worker: Some(worker) };
        match opened.recv() {
            Ok(Ok(())) => Ok(pg),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DbError::other("the database thread stopped")),
        }
    }

    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |session| {
            let _ = reply.send(f(session));
        });
        let gone = || DbError { message: "the database thread stopped".into(), unavailable: true };
        self.jobs.as_ref().ok_or_else(gone)?.send(job).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }

    pub fn execute(&self, sql: &str, args: Vec<Value>) -> Result<u64, DbError> {
        let sql = sql.to_owned();
        self.call(move |s| s.execute(&sql, &args))
    }

    pub fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let sql = sql.to_owned();
        self.call(move |s| s.query(&sql, &args))
    }

    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        let sql = sql.to_owned();
        self.call(move |s| s.client()?.batch_execute(&sql).map_err(to_db_error))
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which closes the connection.
        self.jobs.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn to_db_error(e: postgres::Error) -> DbError {
    let unavailable = e.is_closed() || e.as_db_error().is_none() && e.code().is_none();
    let message = match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        None => {
            let mut m = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                m = format!("{m}: {s}");
                source = s.source();
            }
            m
        }
    };
    match unavailable {
        true => DbError { message: format!("out of reach: {message}"), unavailable },
        false => DbError { message, unavailable },
    }
}

fn read_row(row: &postgres::Row) -> Result<Row, DbError> {
    let bad = |e: postgres::Error| DbError::other(format!("reading a row: {e}"));
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_();
            Ok(match *ty {
                Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.into(),
                Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(i64::from).into(),
                Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(i64::from).into(),
                Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(i64::from).into(),
                Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map_err(bad)?.into(),
                _ => row.try_get::<_, Option<String>>(i).map_err(bad)?.into(),
            })
        })
        .collect::<Result<Vec<Value>, DbError>>()
        .map(Row)
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
