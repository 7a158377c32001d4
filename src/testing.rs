//! For tests only: a real PostgreSQL server on a loopback port.
//!
//! `$REFEED_TEST_POSTGRES` (a `postgres://` URL) names a server to use. Otherwise the first
//! call starts one of its own: `initdb` and `pg_ctl` from Debian's `postgresql` package (or
//! the `PATH`) in a temporary folder, as the `postgres` user when the tests run as root
//! (PostgreSQL refuses to run as root), on a free port of 127.0.0.1. It is stopped and its
//! folder removed when the test process exits. Each caller gets a schema of its own, so
//! tests running side by side never see each other's rows.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::Database;

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

/// A database in a fresh schema of the test server. Panics with what to install when there
/// is no PostgreSQL (a test that silently skipped would prove nothing).
pub fn postgres() -> Database {
    let url = server_url();
    let n = SCHEMAS.fetch_add(1, Ordering::Relaxed);
    Database::Postgres { url, schema: Some(format!("t{}_{n}", std::process::id())) }
}

/// The URL of a fresh, empty database on the test server (for a whole `refeed` process,
/// whose config names a URL, not a schema).
pub fn postgres_database() -> String {
    let url = server_url();
    let name = format!("t{}_{}", std::process::id(), SCHEMAS.fetch_add(1, Ordering::Relaxed));
    let mut client = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {url}: {e}"));
    client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("unexpected test server URL {url}"),
    }
}

/// The test server's URL (started on the first call).
pub fn server_url() -> String {
    match SERVER.get_or_init(start) {
        Ok(url) => url.clone(),
        Err(e) => panic!("no PostgreSQL for the tests: {e}"),
    }
}

fn start() -> Result<String, String> {
    if let Ok(url) = std::env::var("REFEED_TEST_POSTGRES")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let cluster = Cluster::create("shared")?;
    let url = cluster.url();
    let _ = SHARED.set(cluster);
    // SAFETY: registers a plain `extern "C"` function with no arguments; it runs once at exit.
    unsafe {
        libc::atexit(stop_shared);
    }
    Ok(url)
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

extern "C" fn stop_shared() {
    if let Some(cluster) = SHARED.get() {
        cluster.remove();
    }
}

/// A PostgreSQL cluster of its own, for a test that stops and restarts its server. Removed
/// when dropped.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    user: Option<String>,
}

impl Cluster {
    /// `initdb` in a fresh temporary folder, then started.
    pub fn create(tag: &str) -> Result<Cluster, String> {
        let bin = pg_bin().ok_or(
            "initdb not found (in PATH or /usr/lib/postgresql/*/bin): install Debian's `postgresql` package (scripts/test.sh does), or set REFEED_TEST_POSTGRES to a server's URL",
        )?;
        let n = SCHEMAS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("refeed-test-pg-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let user = is_root().then(|| "postgres".to_owned());
        if let Some(u) = &user {
            let status = Command::new("chown").args([u.as_str(), &dir.display().to_string()]).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!("cannot hand {} to the {u} user", dir.display()));
            }
        }
        let cluster = Cluster { bin, dir, port: free_port()?, user };
        let data = cluster.data();
        run(
            &cluster.user,
            &cluster.bin.join("initdb"),
            &["-D", &data, "-U", "refeed", "--auth=trust", "-E", "UTF8", "--no-sync"],
        )?;
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// `postgres://refeed@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://refeed@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        run(
            &self.user,
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "-t", "60", "start"],
        )
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
    }

    /// Stops the server at once (`-m immediate`: connections are cut, as by a crash).
    pub fn stop(&self) -> Result<(), String> {
        run(&self.user, &self.bin.join("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"])
    }

    fn remove(&self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.remove();
    }
}

fn run(user: &Option<String>, program: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = cmd.args(args).output().map_err(|e| format!("{}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {}: {}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The folder holding `initdb` and `pg_ctl`: the `PATH`'s, else the newest Debian version's.
fn pg_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("initdb").is_file());
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
