//! `refeed serve`: the feeds over HTTP, kept fresh in the background.
//!
//! Every source has its own refresh loop (see [`schedule`]) sharing one [`Engine`] with
//! `run`'s code path: fetch, parse, extract, store, then render the three formats once into
//! memory ([`cached::Cached`], compressed ahead of time) and into the output folder. Requests
//! are answered from memory, so a reader's poll costs a hash lookup and a copy of a pointer.

pub mod any_url;
pub mod cached;
mod listener;
mod metrics;
mod page;
pub mod schedule;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore, watch};

use crate::config::{Config, Source};
use crate::error::{ErrorKind, Failure, RefreshError};
use crate::publish::{Format, OutFeed, Rendered};
use crate::{Engine, RunError, SourceOk, store};
use cached::Cached;
use metrics::{Metrics, Route};
use schedule::{Outcome, Reason};

/// How long clients may keep a feed before asking again (they get 304s when they do).
const FEED_MAX_AGE: u64 = 60;
/// "Refresh now" does nothing more often than this per source.
const REFRESH_COOLDOWN: Duration = Duration::from_secs(30);
/// After SIGTERM/SIGINT, in-flight refreshes and requests get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

const OPML_TYPE: &str = "text/x-opml; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
}

/// How one source is doing, for `/` and `/metrics`.
#[derive(Debug, Clone)]
pub struct SourceStatus {
    pub title: String,
    /// The origin feed's URL.
    pub origin: String,
    /// A feed is in memory to serve.
    pub served: bool,
    pub site_url: Option<String>,
    pub entries: usize,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<Failure>,
    /// Failed refreshes in a row.
    pub failures: u32,
    pub next_due: DateTime<Utc>,
    pub refreshing: bool,
    pub reason: Reason,
    pub notes: Vec<String>,
    /// When "Refresh now" was last pressed (for its cool-down).
    pub asked_at: Option<Instant>,
    /// The next refresh was asked for: it happens even if another process refreshed the
    /// source a moment ago.
    pub forced: bool,
}

/// One feed in its three formats.
#[derive(Debug)]
pub struct Feeds {
    /// One document per format, in the order of [`Format::ALL`].
    docs: Vec<Arc<Cached>>,
}

impl Feeds {
    /// The rendered feed, reusing `old` documents whose bytes did not change (so their
    /// `Last-Modified` stays true).
    pub fn new(rendered: Rendered, old: Option<&Feeds>, now: DateTime<Utc>) -> Feeds {
        let docs = rendered
            .into_docs()
            .map(|(format, body)| match old.map(|f| f.get(format)) {
                Some(c) if c.same_body(body.as_bytes()) => c.clone(),
                _ => Arc::new(Cached::new(format.content_type(), body.into_bytes(), now, FEED_MAX_AGE)),
            })
            .collect();
        Feeds { docs }
    }

    pub fn get(&self, format: Format) -> &Arc<Cached> {
        &self.docs[format as usize]
    }

    /// The feed as another process rendered and kept it: the same bytes, ETag and date.
    /// `None` unless every format is there.
    fn from_store(docs: &[store::RenderedDoc]) -> Option<Feeds> {
        let docs = Format::ALL
            .iter()
            .map(|format| {
                let doc = docs.iter().find(|d| d.format == format.ext())?;
                let modified = DateTime::from_timestamp_millis(doc.modified)?;
                Some(Arc::new(Cached::new(format.content_type(), doc.body.clone(), modified, FEED_MAX_AGE)))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Feeds { docs })
    }

    /// The documents to keep for the other processes.
    fn to_store(&self, name: &str) -> Vec<store::RenderedDoc> {
        Format::ALL
            .iter()
            .map(|&format| {
                let doc = self.get(format);
                store::RenderedDoc {
                    name: name.to_owned(),
                    format: format.ext().to_owned(),
                    body: doc.body().to_vec(),
                    etag: doc.etag().to_owned(),
                    modified: doc.modified().timestamp_millis(),
                }
            })
            .collect()
    }

    fn same(&self, other: &Feeds) -> bool {
        Format::ALL.iter().all(|&f| self.get(f).etag() == other.get(f).etag())
    }
}

struct App {
    engine: Arc<Engine>,
    any: Option<any_url::AnyUrl>,
    config: Arc<Config>,
    /// The public URL of `/`, ending in `/`.
    base: String,
    feeds: RwLock<HashMap<String, Arc<Feeds>>>,
    opml: RwLock<Arc<Cached>>,
    /// The lines the OPML was last rendered from; held while a feed and the OPML change
    /// together, so that installs take turns there (and only there).
    opml_lines: Mutex<Vec<crate::publish::OpmlSource>>,
    status: Mutex<HashMap<String, SourceStatus>>,
    wake: HashMap<String, Arc<Notify>>,
    /// Refreshes running at once.
    slots: Semaphore,
    csrf: String,
    metrics: Arc<Metrics>,
    started: Instant,
}

/// A hard-to-guess token from the process's random hash keys (for the CSRF token).
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Runs the server until SIGTERM or SIGINT; SIGHUP reloads the config. `on_ready` is told the
/// bound address and the public base URL once requests can be served.
///
/// The HTTP server runs once for the life of the process; a reload swaps the [`App`] behind
/// it (the old one's refresh loops stop first), so no connection is dropped by a reload.
pub async fn serve(
    config: Config,
    listen: Option<String>,
    on_ready: impl FnOnce(SocketAddr, &str),
) -> Result<(), ServeError> {
    let _lock = crate::take_lock(&config, crate::LockMode::FailFast).await?;
    let addr = listen.unwrap_or_else(|| config.settings.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .and_then(|l| l.into_std())
        .map_err(|source| ServeError::Listen { addr: addr.clone(), source })?;
    let local = listener.local_addr().map_err(|source| ServeError::Listen { addr: addr.clone(), source })?;
    // Readers are answered on threads of their own: the refreshes' work (store calls, which
    // wait for the database, and rendering) never holds up a feed that is in memory.
    let http_runtime = HttpRuntime(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(HTTP_THREADS)
            .thread_name("refeed-http")
            .enable_all()
            .build()
            .map_err(|source| ServeError::Listen { addr: addr.clone(), source })?,
    ));
    // Installed first: a SIGHUP must never find the default action (which ends the process).
    let mut signals = Signals::new();
    let shared = Shared { metrics: Arc::new(Metrics::default()), started: Instant::now(), csrf: random_token() };

    let app = build_app(config, local, &shared)?;
    let mut loops = Loops::start(&app);
    let current = Arc::new(Current(RwLock::new(app.clone())));
    let router = Router::new()
        .route("/", get(index))
        .route("/feeds/{file}", get(feed))
        .route("/opml", get(opml))
        .route("/refresh/{name}", post(refresh_now))
        .route("/feed", get(any_url::handle))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(current.clone());
    let router = router.layer(axum::middleware::from_fn_with_state(current.clone(), check_host));
    let (stop_http_tx, stop_http) = watch::channel(false);
    let st = &app.config.settings;
    let limits = listener::limits_for(st, listener::raise_nofile_limit());
    let server = http_runtime.spawn(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener::serve(listener, router, limits, stop_http).await,
            Err(e) => crate::say_err!("refeed: cannot listen: {e}"),
        }
    });
    on_ready(local, &app.base);

    let mut running = app;
    loop {
        match signals.wait(&running.config).await {
            Next::Stop => break,
            Next::Reload(new) => {
                // The old loops end first: two engines must not refresh one source at once.
                loops.stop().await;
                match build_app(*new, local, &shared) {
                    Ok(app) => {
                        *current.0.write().unwrap_or_else(|p| p.into_inner()) = app.clone();
                        running = app;
                        crate::say_err!("refeed: config reloaded");
                    }
                    Err(e) => {
                        crate::say_err!(
                            "refeed: SIGHUP: cannot start with the new config: {e}; keeping the previous one"
                        )
                    }
                }
                loops = Loops::start(&running);
            }
        }
    }
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    let _ = stop_http_tx.send(true);
    loops.stop().await;
    if tokio::time::timeout_at(deadline, server).await.is_err() {
        crate::say_err!("refeed: closing connections still open");
    }
    drop(http_runtime);
    crate::say_err!("refeed: stopped");
    Ok(())
}

/// Whether [`App::install`] renders the OPML at once, or the caller does it after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opml {
    Now,
    Later,
}

/// The app the server answers with now (swapped by a reload).
struct Current(RwLock<Arc<App>>);

/// Extracts the current [`App`] for a handler.
struct CurrentApp(Arc<App>);

impl axum::extract::FromRequestParts<Arc<Current>> for CurrentApp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        current: &Arc<Current>,
    ) -> Result<Self, Self::Rejection> {
        Ok(CurrentApp(current.0.read().unwrap_or_else(|p| p.into_inner()).clone()))
    }
}

/// The refresh loops of one app.
struct Loops {
    stop: watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
}

impl Loops {
    fn start(app: &Arc<App>) -> Loops {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        for source in &app.config.sources {
            tasks.spawn(supervised_refresh_loop(app.clone(), source.clone(), stop_rx.clone()));
        }
        if app.engine.shared() {
            tasks.spawn(shared_loop(app.clone(), stop_rx.clone()));
        }
        Loops { stop, tasks }
    }

    /// Stops taking work; refreshes under way get [`SHUTDOWN_GRACE`], then are abandoned
    /// (the store is transactional and files are replaced atomically: nothing is half-done).
    async fn stop(&mut self) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let tasks = &mut self.tasks;
        let finished = tokio::time::timeout_at(deadline, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            crate::say_err!(
                "refeed: abandoning {} refresh(es) still running (nothing is half-written)",
                self.tasks.len()
            );
            self.tasks.abort_all();
        }
    }
}

/// What outlives a config reload.
struct Shared {
    metrics: Arc<Metrics>,
    started: Instant,
    /// Kept across reloads, so that an open page's button still works.
    csrf: String,
}

/// What the signal handler asks for.
enum Next {
    Stop,
    Reload(Box<Config>),
}

/// SIGTERM, SIGINT and SIGHUP, registered once for the life of the server.
struct Signals {
    #[cfg(unix)]
    streams: Option<[tokio::signal::unix::Signal; 3]>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(t), Ok(i), Ok(h)) => Some([t, i, h]),
                _ => None,
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Waits for the next signal: "SIGTERM", "SIGINT" or "SIGHUP".
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some([term, int, hup]) = &mut self.streams {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
                _ = hup.recv() => "SIGHUP",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }

    /// Waits until told to stop, or to reload with a config that loads (a bad one is
    /// reported and the running config kept).
    async fn wait(&mut self, running: &Config) -> Next {
        loop {
            let signal = self.next().await;
            if signal != "SIGHUP" {
                crate::say_err!("refeed: {signal}: stopping (in-flight work gets {}s)", SHUTDOWN_GRACE.as_secs());
                return Next::Stop;
            }
            match crate::config::load(&running.path) {
                Ok(mut new) => {
                    let (old, fresh) = (&running.settings, &mut new.settings);
                    if fresh.database != old.database {
                        crate::say_err!(
                            "refeed: SIGHUP: settings.database changed; it takes a restart (keeping {})",
                            old.database
                        );
                        fresh.database = old.database.clone();
                    }
                    if fresh.listen != old.listen {
                        crate::say_err!("refeed: SIGHUP: settings.listen changed; it takes a restart");
                    }
                    crate::say_err!(
                        "refeed: SIGHUP: reloading {} ({} source(s); in-flight work gets {}s)",
                        running.path.display(),
                        new.sources.len(),
                        SHUTDOWN_GRACE.as_secs()
                    );
                    return Next::Reload(Box::new(new));
                }
                Err(e) => crate::say_err!("refeed: SIGHUP: config not reloaded: {e}; still serving the previous one"),
            }
        }
    }
}

/// The app for `config`: engine, guarded any-URL engine, status of every source, and the
/// feeds the store holds, rendered (served at once; the first refreshes follow).
fn build_app(config: Config, local: SocketAddr, shared: &Shared) -> Result<Arc<App>, ServeError> {
    let base = match &config.settings.base_url {
        Some(url) => url.to_string(),
        None => format!("http://{local}/"),
    };
    let out_dir = &config.settings.output_dir;
    std::fs::create_dir_all(out_dir)
        .map_err(|source| RunError::Output { path: out_dir.display().to_string(), source })?;
    crate::publish::sweep_temp_files(out_dir);

    let config = Arc::new(config);
    let engine = Arc::new(Engine::open(config.clone()).map_err(RunError::from)?);
    engine.announce().map_err(RunError::from)?;
    let any = if config.settings.allow_any_url {
        Some(any_url::AnyUrl::new(config.clone(), &base).map_err(RunError::from)?)
    } else {
        None
    };
    let now = Utc::now();
    let mut status = HashMap::new();
    for source in &config.sources {
        let state = engine.store().source_state(&source.name).map_err(RunError::from)?;
        let interval = source.refresh_every(&config.settings);
        status.insert(
            source.name.clone(),
            SourceStatus {
                title: source.title.clone().or(state.title).unwrap_or_else(|| source.name.clone()),
                origin: source.url.to_string(),
                served: false,
                site_url: state.site_url,
                entries: 0,
                last_attempt: None,
                last_success: state.last_success,
                last_error: state.last_error.map(|message| Failure {
                    kind: state.last_error_kind.as_deref().and_then(ErrorKind::from_stored),
                    message,
                }),
                failures: 0,
                next_due: schedule::first_due(interval, state.last_success, now, fastrand::f64()),
                refreshing: false,
                reason: Reason::Interval,
                notes: Vec::new(),
                asked_at: None,
                forced: false,
            },
        );
    }
    let app = Arc::new(App {
        engine,
        any,
        base,
        feeds: RwLock::new(HashMap::new()),
        opml: RwLock::new(Arc::new(Cached::new(OPML_TYPE, Vec::new(), now, FEED_MAX_AGE))), // rendered below
        opml_lines: Mutex::new(Vec::new()),
        status: Mutex::new(status),
        wake: config.sources.iter().map(|s| (s.name.clone(), Arc::new(Notify::new()))).collect(),
        slots: Semaphore::new(config.settings.concurrency.max(1)),
        csrf: shared.csrf.clone(),
        metrics: shared.metrics.clone(),
        started: shared.started,
        config: config.clone(),
    });
    // What the store holds is served at once; the first refreshes follow in the background.
    // The OPML is rendered once at the end (once per source made start-up quadratic). On a
    // shared database, the feeds other processes rendered are served as they are (the same
    // bytes and dates from every process).
    let shared = app.engine.shared();
    for source in &config.sources {
        if shared && app.load_rendered(&source.name) {
            app.with_status(&source.name, |s| s.served = true);
            continue;
        }
        if app.engine.store().source_state(&source.name).map_err(RunError::from)?.last_success.is_some() {
            let result = app
                .engine
                .out_feed(source, Some(&app.feeds_base()))
                .and_then(|out| app.install(source, out, Opml::Later));
            if let Err(e) = result {
                app.with_status(&source.name, |s| s.last_error = Some(Failure::from(&e)));
            }
        }
    }
    for feed in &config.feeds {
        let _ = app.install_merged(feed, Opml::Later);
    }
    app.publish(None);

    Ok(app)
}

impl App {
    fn feeds_base(&self) -> String {
        format!("{}feeds/", self.base)
    }

    fn with_status<T>(&self, name: &str, f: impl FnOnce(&mut SourceStatus) -> T) -> Option<T> {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.get_mut(name).map(f)
    }

    /// Serves feed `name` as the store keeps it (rendered by another process, or by this
    /// one before a restart); false when the store has none.
    fn load_rendered(&self, name: &str) -> bool {
        let docs = self.engine.store().rendered(name).unwrap_or_default();
        let Some(loaded) = Feeds::from_store(&docs) else { return false };
        let changed = {
            let mut feeds = self.feeds.write().unwrap_or_else(|p| p.into_inner());
            let changed = feeds.get(name).is_none_or(|f| !f.same(&loaded));
            if changed {
                feeds.insert(name.to_owned(), Arc::new(loaded));
            }
            changed
        };
        // Refreshed by another process: its title and site as that one stored them.
        if let (true, Some(source)) = (changed, self.config.sources.iter().find(|s| s.name == name)) {
            let state = self.engine.store().source_state(name).unwrap_or_default();
            self.with_status(name, |s| {
                s.served = true;
                s.title = source.title.clone().or(state.title).unwrap_or_else(|| name.to_owned());
                s.site_url = state.site_url;
                s.last_success = state.last_success.or(s.last_success);
            });
        }
        true
    }

    /// Takes in the feeds other processes rendered since the last call (compared by ETag),
    /// so that every process serves the same bytes. How many changed.
    fn sync_rendered(&self) -> usize {
        let Ok(etags) = self.engine.store().rendered_etags() else { return 0 };
        let stale: std::collections::BTreeSet<String> = {
            let feeds = self.feeds.read().unwrap_or_else(|p| p.into_inner());
            etags
                .into_iter()
                .filter(|(name, format, etag)| {
                    let ours = feeds.get(name).and_then(|f| {
                        Format::ALL.iter().find(|f| f.ext() == format).map(|&format| f.get(format).etag().to_owned())
                    });
                    ours.as_deref() != Some(etag.as_str())
                })
                .map(|(name, _, _)| name)
                .collect()
        };
        let known: Vec<&String> = stale.iter().filter(|n| self.wake.contains_key(*n) || self.is_merged(n)).collect();
        let changed = known.iter().filter(|name| self.load_rendered(name)).count();
        if changed > 0 {
            self.publish(None);
        }
        changed
    }

    fn is_merged(&self, name: &str) -> bool {
        self.config.feeds.iter().any(|f| f.name == name)
    }

    /// Makes `next` feed `name`'s: kept in a shared store for the other processes when it
    /// changed (no lock held meanwhile), then served.
    fn put_feed(&self, name: &str, rendered: Rendered, opml: Opml) {
        let next = {
            let feeds = self.feeds.read().unwrap_or_else(|p| p.into_inner());
            let old = feeds.get(name);
            let next = Feeds::new(rendered, old.map(|f| &**f), Utc::now());
            (old.is_none_or(|old| !old.same(&next)), next)
        };
        let (changed, next) = next;
        if changed && self.engine.shared() {
            let mut store = self.engine.store();
            if let Err(e) = store.save_rendered(&next.to_store(name)) {
                crate::say_err!("refeed: {name}: keeping the rendered feed for the other processes: {e}");
            }
        }
        match opml {
            Opml::Now => self.publish(Some((name, Arc::new(next)))),
            Opml::Later => {
                self.feeds.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), Arc::new(next));
            }
        }
    }

    /// Serves `feed` (when given) and the OPML of every served feed. The OPML changes first,
    /// so that no reader sees a feed it does not list; it is rendered again only when its
    /// lines changed (a new feed, a new title), from what is in memory: a refresh costs no
    /// pass over every source.
    fn publish(&self, feed: Option<(&str, Arc<Feeds>)>) {
        let mut last = self.opml_lines.lock().unwrap_or_else(|p| p.into_inner());
        let mut published: std::collections::BTreeSet<String> =
            self.feeds.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        if let Some((name, _)) = &feed {
            published.insert((*name).to_owned());
        }
        let lines = self.opml_lines_of(&published);
        if *last != lines || last.is_empty() {
            self.metrics.opml_renders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut opml = self.opml.write().unwrap_or_else(|p| p.into_inner());
            // The OPML carries its own date: rendered with the old one first, an unchanged
            // list keeps its bytes and ETag.
            if !opml.same_body(crate::publish::to_opml(&lines, opml.modified()).as_bytes()) {
                let now = Utc::now();
                let body = crate::publish::to_opml(&lines, now);
                *opml = Arc::new(Cached::new(OPML_TYPE, body.into_bytes(), now, FEED_MAX_AGE));
            }
            *last = lines;
        }
        if let Some((name, feeds)) = feed {
            self.feeds.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), feeds);
        }
    }

    /// The OPML's lines for the `published` feeds, in config order, titles as served.
    fn opml_lines_of(&self, published: &std::collections::BTreeSet<String>) -> Vec<crate::publish::OpmlSource> {
        let feeds_base = self.feeds_base();
        let rss = Format::Rss.ext();
        let status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        let sources = self.config.sources.iter().filter(|s| published.contains(&s.name)).map(|source| {
            let s = status.get(&source.name);
            crate::publish::OpmlSource {
                name: source.name.clone(),
                title: s.map(|s| s.title.clone()).unwrap_or_else(|| source.name.clone()),
                site_url: s.and_then(|s| s.site_url.clone()),
                feed_url: format!("{feeds_base}{}.{rss}", source.name),
            }
        });
        let merged =
            self.config.feeds.iter().filter(|f| published.contains(&f.name)).map(|feed| crate::publish::OpmlSource {
                name: feed.name.clone(),
                title: feed.title.clone().unwrap_or_else(|| feed.name.clone()),
                site_url: None,
                feed_url: format!("{feeds_base}{}.{rss}", feed.name),
            });
        sources.chain(merged).collect()
    }

    /// Renders `out`, writes the files and puts the feed in memory. A write failure is
    /// returned (and shown), but the feed is served from memory all the same.
    fn install(&self, source: &Source, out: OutFeed, opml: Opml) -> Result<(), RefreshError> {
        let entries = out.items.len();
        let title = out.title.clone();
        let rendered = Rendered::of(&out);
        let written = self.engine.write(source, &rendered);
        let state = self.engine.store().source_state(&source.name).ok();
        // The title first: the OPML is rendered from it.
        self.with_status(&source.name, |s| {
            s.entries = entries;
            s.title = title;
            s.served = true;
            if let Some(state) = state {
                s.site_url = state.site_url;
            }
        });
        self.put_feed(&source.name, rendered, opml);
        written
    }

    /// The engine's refresh of `source`, then its feed rendered, written and served.
    async fn refresh_and_install(&self, source: &Source) -> Result<SourceOk, RefreshError> {
        let mut ok = self.engine.refresh(source).await?;
        let out = self.engine.out_feed(source, Some(&self.feeds_base()))?;
        ok.notes.extend(out.notes.iter().cloned());
        self.install(source, out, Opml::Now).inspect_err(|e| self.engine.record_failure(source, e))?;
        for feed in self.config.feeds.iter().filter(|f| f.sources.contains(&source.name)) {
            if let Err(e) = self.install_merged(feed, Opml::Now) {
                ok.notes.push(format!("merged feed {}: {e}", feed.name));
            }
        }
        Ok(ok)
    }

    /// Renders the merged `feed` from what the store holds, writes its files and serves it.
    fn install_merged(&self, feed: &crate::config::MergedFeed, opml: Opml) -> Result<(), RefreshError> {
        let out = self.engine.merged_out_feed(feed, Some(&self.feeds_base()))?;
        let rendered = Rendered::of(&out);
        let written = self.engine.write_named(&feed.name, &rendered);
        self.put_feed(&feed.name, rendered, opml);
        written
    }

    /// Claims the refresh of `source` (see [`crate::store::Store::claim`]): true when this
    /// process refreshes it now. Otherwise another process is at it or just did it: this one
    /// keeps to the shared schedule and serves what that one rendered.
    fn claim(&self, source: &Source) -> bool {
        let forced = self.with_status(&source.name, |s| std::mem::take(&mut s.forced)).unwrap_or(false);
        let next = match self.engine.claim(source, !forced, Some(CLAIM_LEASE)) {
            Ok(store::Claim::Won) => return true,
            Ok(store::Claim::Busy { until, .. }) => until + chrono::TimeDelta::seconds(1),
            // What that process rendered comes in with the next sync (`shared_loop`).
            Ok(store::Claim::NotDue { next_due }) => {
                self.metrics.refreshed_elsewhere.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                next_due
            }
            Err(e) => {
                // The database is out of reach: counted as a failed refresh, tried again soon
                // (the feeds in memory are served meanwhile).
                crate::say_err!("{} FAILED {}: {e}", Utc::now().format("%Y-%m-%dT%H:%M:%SZ"), source.name);
                self.metrics.refresh(Err(e.kind()), Duration::ZERO);
                let retry = source.refresh_every(&self.config.settings).min(CLAIM_RETRY);
                Utc::now() + chrono::TimeDelta::milliseconds(retry.as_millis() as i64)
            }
        };
        self.with_status(&source.name, |s| s.next_due = next);
        false
    }

    /// Sources whose claim lapsed (the process refreshing them died) are refreshed now, not
    /// when this process's own schedule next comes to them.
    fn take_over_lapsed(&self) {
        let lapsed = self.engine.store().lapsed_claims(Utc::now()).unwrap_or_default();
        for name in lapsed {
            if let Some(wake) = self.wake.get(&name) {
                self.with_status(&name, |s| s.next_due = Utc::now());
                wake.notify_one();
            }
        }
    }

    /// One refresh of `source`: fetch, store, extract, publish; status and schedule updated.
    async fn refresh(&self, source: &Source) {
        let started = Instant::now();
        let now = Utc::now();
        self.with_status(&source.name, |s| {
            s.refreshing = true;
            s.last_attempt = Some(now);
        });
        let result = self.refresh_and_install(source).await;
        let took = started.elapsed();
        self.metrics.refresh(result.as_ref().map(|_| ()).map_err(RefreshError::kind), took);
        let interval = source.refresh_every(&self.config.settings);
        let line = self
            .with_status(&source.name, |s| s.settle(&source.name, &result, now, interval, took))
            .unwrap_or_default();
        // The claim ends with the next due time, which every process sharing the store
        // keeps to (and `refeed status` shows).
        let due = self.with_status(&source.name, |s| s.next_due);
        if let Err(e) = self.engine.release(source, due) {
            crate::say_err!("refeed: {}: ending the refresh's claim: {e}", source.name);
        }
        crate::say_err!("{} {line}", Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
    }
}

impl SourceStatus {
    /// Takes in the outcome of a refresh started at `now` and schedules the next one; the
    /// log line.
    fn settle(
        &mut self,
        name: &str,
        result: &Result<SourceOk, RefreshError>,
        now: DateTime<Utc>,
        interval: Duration,
        took: Duration,
    ) -> String {
        self.refreshing = false;
        // When the origin asked to be left alone: said by this failure, or by an earlier one.
        let retry_after = match result {
            Ok(ok) => ok.retry_after,
            Err(e) => e.retry_after(),
        };
        let mut outcome = Outcome { retry_after, ..Outcome::default() };
        let line = match result {
            Ok(ok) => {
                self.failures = 0;
                self.last_error = None;
                self.last_success = Some(now);
                self.notes = ok.notes.clone();
                outcome.max_age = ok.max_age;
                if ok.unchanged {
                    format!("ok     {name}: {} entries (not modified)", self.entries)
                } else {
                    format!(
                        "ok     {name}: {} entries, {} new, {} article(s) extracted",
                        self.entries, ok.new_entries, ok.articles
                    )
                }
            }
            Err(e) => {
                self.failures += 1;
                self.last_error = Some(Failure::from(e));
                self.notes.clear();
                outcome.failures = self.failures;
                format!("FAILED {name}: {e}")
            }
        };
        let (delay, reason) = schedule::next_delay(interval, &outcome, Utc::now());
        let delay = schedule::with_jitter(delay, &reason, fastrand::f64());
        self.next_due = chrono::TimeDelta::from_std(delay)
            .ok()
            .and_then(|d| Utc::now().checked_add_signed(d))
            .unwrap_or(crate::dates::latest());
        self.reason = reason;
        format!("{line} ({:.1}s; next in {})", took.as_secs_f64(), schedule::human_duration(delay))
    }
}

/// The runtime that answers readers. It lives inside the main one's async code, where a
/// runtime may not be dropped the ordinary way (that waits): on every way out of [`serve`]
/// (a stop, or a start that failed) it is shut down without waiting.
struct HttpRuntime(Option<tokio::runtime::Runtime>);

impl HttpRuntime {
    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(&self, f: F) -> tokio::task::JoinHandle<()> {
        self.0.as_ref().expect("runtime until dropped").spawn(f)
    }
}

impl Drop for HttpRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Threads that answer readers (beside the ones that refresh).
const HTTP_THREADS: usize = 2;

/// How long a source waits after its claim could not be made (the database out of reach).
const CLAIM_RETRY: Duration = Duration::from_secs(30);

/// How often a process on a shared database takes in the feeds the others rendered.
const SYNC_EVERY: Duration = Duration::from_secs(2);

/// How often a process on a shared database says it is alive and renews the claims of the
/// refreshes it is making; one not heard from for three times this long is shown as gone.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// How long a claim of `serve` holds without renewal: a process killed -9 mid-refresh has its
/// sources taken over by another at most this long after.
pub const CLAIM_LEASE: Duration = Duration::from_secs(20);

/// On a shared database: takes in the feeds other processes rendered, says this one is alive
/// and renews its claims, until told to stop.
async fn shared_loop(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut beat = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SYNC_EVERY) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        app.sync_rendered();
        if beat.elapsed() >= HEARTBEAT_EVERY {
            beat = Instant::now();
            if let Err(e) = app.engine.renew_claims(CLAIM_LEASE) {
                crate::say_err!("refeed: renewing this process's claims: {e}");
            }
            app.take_over_lapsed();
        }
    }
}

/// How long a source's refresh task waits before starting again after it crashed.
const RESTART_DELAY: Duration = Duration::from_secs(60);

/// [`refresh_loop`], restarted when it panics: a bug hit by one source's data must not stop
/// that source for good (nor the others).
async fn supervised_refresh_loop(app: Arc<App>, source: Source, mut stop: watch::Receiver<bool>) {
    use futures_util::FutureExt;
    loop {
        let run = std::panic::AssertUnwindSafe(refresh_loop(app.clone(), source.clone(), stop.clone()));
        let Err(panic) = run.catch_unwind().await else { return };
        let why = RefreshError::Internal(crate::html::panic_message(&*panic));
        crate::say_err!(
            "{} FAILED {}: {why}; refresh task restarted in {} s",
            Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            source.name,
            RESTART_DELAY.as_secs()
        );
        app.engine.record_failure(&source, &why);
        app.metrics.refresh(Err(why.kind()), Duration::ZERO);
        app.with_status(&source.name, |s| {
            s.refreshing = false;
            s.failures += 1;
            s.last_error = Some(Failure::from(&why));
            s.next_due = Utc::now() + chrono::TimeDelta::seconds(RESTART_DELAY.as_secs() as i64);
        });
        tokio::select! {
            _ = tokio::time::sleep(RESTART_DELAY) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Refreshes `source` whenever it is due or asked for, until told to stop.
async fn refresh_loop(app: Arc<App>, source: Source, mut stop: watch::Receiver<bool>) {
    let Some(wake) = app.wake.get(&source.name).cloned() else { return };
    loop {
        let due = app.with_status(&source.name, |s| s.next_due).unwrap_or_else(Utc::now);
        let wait = (due - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        // The schedule may have moved while we slept (a refresh asked for, then done).
        let due = app.with_status(&source.name, |s| s.next_due).unwrap_or_else(Utc::now);
        if due > Utc::now() + chrono::TimeDelta::seconds(1) {
            continue;
        }
        let permit = tokio::select! {
            p = app.slots.acquire() => p,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        let Ok(_permit) = permit else { return };
        if !app.claim(&source) {
            continue;
        }
        app.refresh(&source).await;
        if *stop.borrow() {
            return;
        }
    }
}

/// Answers only requests addressed to this server by one of its names: an IP address,
/// `localhost`, or `base_url`'s host. A page on another site that rebinds its own name to
/// this server's address (DNS rebinding) sends that name, and gets nothing.
async fn check_host(
    axum::extract::State(current): axum::extract::State<Arc<Current>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    let app = current.0.read().unwrap_or_else(|p| p.into_inner()).clone();
    if !is_own_host(host, app.config.settings.base_url.as_ref()) {
        app.metrics.http(Route::Other, 421);
        return text_response(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server does not answer to the name {host:?}: use its address, or set settings.base_url to the name readers use\n"
            ),
        );
    }
    next.run(request).await
}

/// True for a `Host` value naming this server (see [`check_host`]).
fn is_own_host(host: &str, base_url: Option<&url::Url>) -> bool {
    let Ok(parsed) = url::Url::parse(&format!("http://{host}/")) else { return false };
    match parsed.host() {
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost") || base_url.and_then(|b| b.host_str()) == Some(name)
        }
        None => false,
    }
}

fn text_response(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], text)
        .into_response()
}

async fn feed(CurrentApp(app): CurrentApp, UrlPath(file): UrlPath<String>, headers: HeaderMap) -> Response {
    let response = feed_response(&app, &file, &headers);
    app.metrics.http(Route::Feed, response.status().as_u16());
    response
}

fn feed_response(app: &App, file: &str, headers: &HeaderMap) -> Response {
    let Some((name, ext)) = file.rsplit_once('.') else {
        return text_response(
            StatusCode::NOT_FOUND,
            format!("no feed {file}: use /feeds/<name>.xml, .atom or .json\n"),
        );
    };
    let format = Format::from_name(ext);
    let doc = format.and_then(|format| {
        app.feeds.read().unwrap_or_else(|p| p.into_inner()).get(name).map(|f| f.get(format).clone())
    });
    if let Some(doc) = doc {
        let mut response = doc.respond(headers);
        // The configured feeds are public: web-based readers may fetch them from any page.
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        return response;
    }
    match app.config.sources.iter().find(|s| s.name == name) {
        Some(_) if format.is_some() => {
            let mut r = text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{name}: not fetched yet (its first refresh is under way or failed; see /); try again shortly\n"
                ),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            r
        }
        Some(_) => text_response(StatusCode::NOT_FOUND, format!("no format .{ext}: use .xml, .atom or .json\n")),
        None => text_response(StatusCode::NOT_FOUND, format!("no source named {name} in the config\n")),
    }
}

async fn opml(CurrentApp(app): CurrentApp, headers: HeaderMap) -> Response {
    let doc = app.opml.read().unwrap_or_else(|p| p.into_inner()).clone();
    let response = doc.respond(&headers);
    app.metrics.http(Route::Opml, response.status().as_u16());
    response
}

/// Headers of our own HTML pages: no framing, no scripts, forms only to ourselves.
fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        body,
    )
        .into_response()
}

async fn index(CurrentApp(app): CurrentApp) -> Response {
    let mut sources: Vec<(String, SourceStatus)> = {
        let status = app.status.lock().unwrap_or_else(|p| p.into_inner());
        app.config.sources.iter().filter_map(|s| Some((s.name.clone(), status.get(&s.name)?.clone()))).collect()
    };
    // Failing sources first: they are what a person opens the page for.
    sources.sort_by_key(|(_, s)| s.last_error.is_none());
    let info = page::PageInfo {
        csrf: &app.csrf,
        any_url: app.any.is_some(),
        any_url_token: app.config.settings.any_url_token.is_some(),
        version: env!("CARGO_PKG_VERSION"),
    };
    app.metrics.http(Route::Index, 200);
    html_response(StatusCode::OK, page::render(&sources, &info, Utc::now()))
}

/// `POST /refresh/<name>` from the page's button: refreshes the source now.
async fn refresh_now(
    CurrentApp(app): CurrentApp,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    // Read by hand rather than with axum's `Form`: a body that is not a form is a missing
    // token (403 with our sentence), not a content-type lecture.
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let response = refresh_response(&app, &name, &headers, &form);
    app.metrics.http(Route::Refresh, response.status().as_u16());
    response
}

fn refresh_response(app: &App, name: &str, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    let token_ok = form.get("csrf").is_some_and(|t| any_url::same_secret(t, &app.csrf));
    // A browser says where a form was sent from; another site's page must not refresh ours.
    // Behind a proxy the Host header may be the proxy's own; base_url names the public one.
    let public = app.config.settings.base_url.as_ref().map(|u| u.origin().ascii_serialization());
    let origin_ok = match (headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")), headers.get(header::HOST)) {
        (Some(origin), _) if public.as_deref() == Some(origin) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) == host.to_str().ok(),
        (Some(_), None) => false,
        (None, _) => true,
    };
    if !token_ok || !origin_ok {
        return text_response(
            StatusCode::FORBIDDEN,
            "refused: the form's CSRF token is missing or stale, or it was sent from another site; reload the page and try again\n".into(),
        );
    }
    let Some(wake) = app.wake.get(name) else {
        return text_response(StatusCode::NOT_FOUND, format!("no source named {name} in the config\n"));
    };
    // A button pressed again and again (or a script posting in a loop) must not make us hammer
    // the origin: one refresh per source per cool-down.
    let since = app.with_status(name, |s| s.asked_at.map(|t| t.elapsed())).flatten();
    if let Some(since) = since.filter(|s| *s < REFRESH_COOLDOWN) {
        let wait = (REFRESH_COOLDOWN - since).as_secs().max(1);
        let mut r = text_response(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{name} was asked to refresh moments ago; try again in {wait} s\n"),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return r;
    }
    app.with_status(name, |s| {
        s.next_due = Utc::now();
        s.asked_at = Some(Instant::now());
        s.forced = true;
    });
    wake.notify_one();
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("../#{name}"))]).into_response()
}

async fn metrics(CurrentApp(app): CurrentApp) -> Response {
    let status = app.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let gauges: Vec<metrics::SourceGauges> = app
        .config
        .sources
        .iter()
        .filter_map(|src| {
            let s = status.get(&src.name)?;
            Some(metrics::SourceGauges {
                name: &src.name,
                entries: s.entries,
                consecutive_failures: s.failures,
                last_success: s.last_success.map(|t| t.timestamp()),
                next_refresh: Some(s.next_due.timestamp()),
            })
        })
        .collect();
    let stats = app.engine.stats() + app.any.as_ref().map(|any| any.engine().stats()).unwrap_or_default();
    let mut body = app.metrics.render(stats, &gauges);
    body.push_str(&format!(
        "# HELP refeed_uptime_seconds Seconds since the server started.\n# TYPE refeed_uptime_seconds gauge\nrefeed_uptime_seconds {}\n",
        app.started.elapsed().as_secs()
    ));
    body.push_str(&node_metrics(&app));
    app.metrics.http(Route::Other, 200);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// This process and the others sharing its database: who they are, whether they are alive,
/// and how many refreshes each made.
fn node_metrics(app: &App) -> String {
    use std::fmt::Write;
    let me = app.engine.node();
    let nodes = app.engine.store().nodes().unwrap_or_default();
    let mut out =
        String::from("# HELP refeed_process_info This process (value 1).\n# TYPE refeed_process_info gauge\n");
    let label = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(
        out,
        "refeed_process_info{{process=\"{}\",host=\"{}\",pid=\"{}\",version=\"{}\"}} 1",
        label(&me.id),
        label(&me.host),
        me.pid,
        label(&me.version)
    );
    out.push_str("# HELP refeed_process_up Processes on this database: 1 when heard from lately, 0 when gone.\n# TYPE refeed_process_up gauge\n");
    let stale = Utc::now() - chrono::TimeDelta::seconds(3 * HEARTBEAT_EVERY.as_secs() as i64);
    for n in &nodes {
        let up = n.id == me.id || n.seen >= stale;
        let _ = writeln!(out, "refeed_process_up{{process=\"{}\"}} {}", label(&n.id), up as u8);
    }
    out.push_str("# HELP refeed_process_refreshes Source refreshes each process on this database made.\n# TYPE refeed_process_refreshes gauge\n");
    for n in &nodes {
        let _ = writeln!(out, "refeed_process_refreshes{{process=\"{}\"}} {}", label(&n.id), n.refreshes);
    }
    out
}

/// `ok` while the server can serve and store; 503 with the reason when its database fails.
async fn healthz(CurrentApp(app): CurrentApp) -> Response {
    let response = match app.engine.store().source_state("") {
        Ok(_) => text_response(StatusCode::OK, "ok\n".into()),
        Err(e) => text_response(StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {e}\n")),
    };
    app.metrics.http(Route::Other, response.status().as_u16());
    response
}

async fn not_found(CurrentApp(app): CurrentApp) -> Response {
    app.metrics.http(Route::Other, 404);
    text_response(StatusCode::NOT_FOUND, "not found: see / for the feeds this server has\n".into())
}
