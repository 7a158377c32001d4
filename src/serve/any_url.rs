//! `GET /feed?url=<feed>`: the full-text version of a feed that is not in the config, the
//! way morss and Full-Text RSS are used.
//!
//! Off unless `settings.allow_any_url`. Anyone who can reach the server can make it fetch,
//! so: an optional token, a rate limit per client address (cache hits are free), and an
//! HTTP client that refuses loopback, private, link-local and other local addresses on
//! every resolved address and every redirect hop (see [`crate::fetch::guard`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use futures_util::FutureExt;
use url::Url;

use super::metrics::Route;
use super::{App, CurrentApp, Feeds, text_response};
use crate::config::{Config, Source};
use crate::engine::{FeedFetch, build_out_feed, keep_newest, newest_first};
use crate::fetch::guard::Guard;
use crate::publish::{Format, Rendered};
use crate::store::{SourceState, StoredEntry};
use crate::{Engine, ErrorKind, RefreshError};

/// Builds under way at once, from all clients together: past it a new feed waits its turn
/// (503 with Retry-After), however many addresses ask.
const MAX_BUILDS: usize = 4;
/// A feed built this way is served from memory for this long before it is fetched again.
pub const FRESH_FOR: Duration = Duration::from_secs(10 * 60);
/// Feeds kept in memory at once (the least recently built go first).
const CACHE_SIZE: usize = 200;
/// Clients (addresses, IPv6 /64s) the rate limiter remembers at once; when it is full of
/// clients still paying off their requests, new clients wait.
const LIMITER_SIZE: usize = 10_000;
/// The anonymous article store keeps at most this much raw page text...
const STORE_MAX_BYTES: u64 = 64 << 20;
/// ...and nothing older than this.
const STORE_MAX_AGE: Duration = Duration::from_secs(7 * 86400);

pub struct AnyUrl {
    engine: Engine,
    /// Every URL fetched here is someone else's: all of them go through this guard.
    guard: Guard,
    token: Option<String>,
    per_minute: f64,
    /// Per client (address, or IPv6 /64): requests it may still make, and when that was
    /// counted. A build may leave it in debt; it then waits until the debt is paid.
    limiter: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    builds: Arc<tokio::sync::Semaphore>,
    max_items: usize,
    max_pages: usize,
    cache: Mutex<HashMap<String, (Instant, Arc<Feeds>)>>,
    /// Builds under way, by URL: a second request for the same feed waits for the first.
    pending: Mutex<HashMap<String, Pending>>,
    base: String,
}

/// The name a built feed is kept under in the (anonymous) store.
fn stored_name(url: &str) -> String {
    format!("any:{url}")
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a `/feed?url=` request got no feed.
#[derive(Debug, Clone)]
struct Refusal {
    status: StatusCode,
    message: String,
    /// Seconds until the rate limit lets this client in again.
    retry_after: Option<u64>,
    /// The address guard refused a URL (counted in `/metrics`).
    refused: bool,
}

impl Refusal {
    fn new(status: StatusCode, message: String) -> Refusal {
        Refusal { status, message, retry_after: None, refused: false }
    }
}

/// A feed being built, awaited by every request for it that arrives meanwhile.
type Pending = futures_util::future::Shared<futures_util::future::BoxFuture<'static, Result<Arc<Feeds>, Refusal>>>;

impl AnyUrl {
    pub fn new(config: Arc<Config>, base: &str) -> Result<AnyUrl, RefreshError> {
        Ok(AnyUrl {
            token: config.settings.any_url_token.clone(),
            per_minute: config.settings.any_url_per_minute as f64,
            guard: Guard::new(&config.settings.allow_private_hosts),
            max_items: config.settings.any_url_max_items,
            max_pages: config.settings.any_url_max_pages,
            engine: Engine::anonymous(config)?,
            limiter: Mutex::new(HashMap::new()),
            builds: Arc::new(tokio::sync::Semaphore::new(MAX_BUILDS)),
            cache: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            base: base.to_owned(),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Lets `client` start a build if its bucket holds a request (`per_minute` requests,
    /// refilled continuously); `Err(seconds)` says when it will.
    fn admit(&self, client: IpAddr) -> Result<(), u64> {
        if self.engine.shared() {
            let key = super::listener::client_key(client).to_string();
            let per_minute = self.per_minute.clamp(1.0, u32::MAX as f64) as u32;
            // With the database out of reach nothing can be built anyway: let the build fail.
            return self.engine.store().admit_client(&key, per_minute, Utc::now()).unwrap_or(Ok(()));
        }
        let mut buckets = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let key = super::listener::client_key(client);
        if !buckets.contains_key(&key) && buckets.len() >= LIMITER_SIZE {
            // Forget clients whose bucket has refilled: they lose nothing.
            buckets.retain(|_, (tokens, at)| *tokens + self.refill(now.duration_since(*at)) < self.per_minute);
            if buckets.len() >= LIMITER_SIZE {
                return Err(60);
            }
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.per_minute, now));
        *tokens = (*tokens + self.refill(now.duration_since(*at))).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 { Ok(()) } else { Err(((1.0 - *tokens) * 60.0 / self.per_minute).ceil() as u64) }
    }

    /// Charges `client` for the requests a build sent (it may go into debt).
    fn charge(&self, client: IpAddr, requests: u64) {
        if self.engine.shared() {
            let key = super::listener::client_key(client).to_string();
            if let Err(e) = self.engine.store().charge_client(&key, requests) {
                tracing::warn!("/feed?url= rate limit in the database: {e}");
            }
            return;
        }
        let mut buckets = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((tokens, _)) = buckets.get_mut(&super::listener::client_key(client)) {
            *tokens -= requests as f64;
        }
    }

    fn refill(&self, elapsed: Duration) -> f64 {
        elapsed.as_secs_f64() * self.per_minute / 60.0
    }

    /// The feed built for `url` less than [`FRESH_FOR`] ago: in memory, else (on a shared
    /// database) as another process built it.
    fn cached(&self, url: &str) -> Option<Arc<Feeds>> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, feeds)) = cache.get(url).filter(|(at, _)| at.elapsed() < FRESH_FOR) {
                return Some(feeds.clone());
            }
        }
        if !self.engine.shared() {
            return None;
        }
        let docs = self.engine.store().rendered(&stored_name(url)).ok()?;
        let fresh_from = (Utc::now() - chrono::TimeDelta::from_std(FRESH_FOR).ok()?).timestamp_millis();
        if docs.iter().any(|d| d.modified < fresh_from) {
            return None;
        }
        let feeds = Arc::new(Feeds::from_store(&docs)?);
        let age = Utc::now().timestamp_millis() - docs.iter().map(|d| d.modified).min().unwrap_or(0);
        let built = Instant::now().checked_sub(Duration::from_millis(age.max(0) as u64)).unwrap_or_else(Instant::now);
        self.remember_at(url.to_owned(), feeds.clone(), built);
        Some(feeds)
    }

    /// Keeps `feeds` in memory and, on a shared database, for the other processes.
    fn remember(&self, url: String, feeds: Arc<Feeds>) {
        if self.engine.shared() {
            let mut store = self.engine.store();
            let stale = (Utc::now() - chrono::TimeDelta::from_std(FRESH_FOR).unwrap_or_default()).timestamp_millis();
            if let Err(e) =
                store.prune_rendered(stale).and_then(|_| store.save_rendered(&feeds.to_store(&stored_name(&url))))
            {
                tracing::warn!("/feed?url= cache in the database: {e}");
            }
        }
        self.remember_at(url, feeds, Instant::now());
    }

    fn remember_at(&self, url: String, feeds: Arc<Feeds>, built: Instant) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_SIZE {
            cache.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            if cache.len() >= CACHE_SIZE
                && let Some(oldest) = cache.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
        }
        cache.insert(url, (built, feeds));
    }

    /// Fetches the feed and its articles (articles already in the store are not fetched
    /// again) and renders the full-text feed.
    ///
    /// Every request it sends goes through a guard of its own, which counts them: the client
    /// is charged what the build cost the origins, not one token per feed.
    async fn build(&self, url: &Url, client: IpAddr) -> Result<Feeds, Refusal> {
        let guard = Guard::new(&self.engine.config().settings.allow_private_hosts);
        let result = self.build_with(url, &guard).await;
        self.charge(client, guard.requests_checked());
        if let Err(e) = self.engine.store().prune_articles(STORE_MAX_BYTES, STORE_MAX_AGE) {
            tracing::warn!("/feed?url= store: {e}");
        }
        result
    }

    async fn build_with(&self, url: &Url, guard: &Guard) -> Result<Feeds, Refusal> {
        let settings = &self.engine.config().settings;
        let mut source = Source::adhoc("feed", url.clone());
        source.extract.max_pages = self.max_pages;
        source.extract.cpu_limit = settings.cpu_limit;
        source.max_items = Some(self.max_items);
        let FeedFetch::Parsed { feed, .. } = self.engine.fetch_feed(&source, None, guard).await? else {
            return Err(Refusal::new(StatusCode::BAD_GATEWAY, format!("{url}: unexpected 304 Not Modified")));
        };
        let now = Utc::now();
        let (title, site_url, description) = (feed.title, feed.site_url, feed.description);
        let entries = keep_newest(feed.entries, feed.items_found, source.max_items, self.max_items, &mut Vec::new());
        let listed: Vec<StoredEntry> =
            entries.into_iter().map(|entry| StoredEntry { entry, first_seen: now, article: None }).collect();
        let deadline = tokio::time::Instant::now() + settings.source_budget;
        self.engine.fetch_articles(&source, guard, &listed, deadline).await?;
        let listed = self.engine.with_articles(listed);
        let state = SourceState { title, site_url: site_url.map(String::from), description, ..SourceState::default() };
        let encoded: String = url::form_urlencoded::byte_serialize(url.as_str().as_bytes()).collect();
        let template = format!("{}feed?url={encoded}&format={{ext}}", self.base);
        let mut out = build_out_feed(&source, &state, &newest_first(listed, None), Some(template));
        out.fit(self.engine.size_limits());
        if out.title == "feed" {
            out.title = url.host_str().unwrap_or("feed").to_owned();
        }
        Ok(Feeds::new(Rendered::of(&out), None, now))
    }
}

impl From<RefreshError> for Refusal {
    /// The address guard's refusals are the client's fault (403); everything else is the
    /// origin's (502).
    fn from(e: RefreshError) -> Refusal {
        let refused = e.kind() == ErrorKind::Refused;
        let status = if refused { StatusCode::FORBIDDEN } else { StatusCode::BAD_GATEWAY };
        Refusal { status, message: e.to_string(), retry_after: None, refused }
    }
}

/// Builds the feed of `url`, caches it, and takes it off the list of builds under way.
async fn build_and_remember(
    app: Arc<App>,
    url: Url,
    client: IpAddr,
    _slot: tokio::sync::OwnedSemaphorePermit,
) -> Result<Arc<Feeds>, Refusal> {
    let Some(any) = &app.any else {
        return Err(Refusal::new(StatusCode::NOT_FOUND, "/feed?url= is turned off".into()));
    };
    let result = any.build(&url, client).await.map(Arc::new);
    if let Ok(feeds) = &result {
        any.remember(url.to_string(), feeds.clone());
    }
    any.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(url.as_str());
    result
}

/// The handler of `GET /feed`.
pub(super) async fn handle(
    CurrentApp(app): CurrentApp,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let response = match respond(app.clone(), client, &query, &headers).await {
        Ok(r) => r,
        Err(Refusal { status, message, retry_after, refused }) => {
            if refused {
                app.metrics.any_url_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let mut r = text_response(status, format!("{message}\n"));
            if let Some(secs) = retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"refeed\""));
            }
            r
        }
    };
    app.metrics.http(Route::AnyUrl, response.status().as_u16());
    response
}

async fn respond(
    app: Arc<App>,
    client: SocketAddr,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let Some(any) = &app.any else {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "/feed?url= is turned off on this server (settings.allow_any_url = false)".into(),
        ));
    };
    if let Some(expected) = &any.token {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match query.get("token").map(String::as_str).or(bearer) {
            None => {
                return Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "/feed?url= needs a token on this server: add &token=<token> to the URL".into(),
                ));
            }
            Some(given) if !same_secret(given, expected) => {
                return Err(Refusal::new(StatusCode::FORBIDDEN, "wrong token for /feed?url=".into()));
            }
            Some(_) => {}
        }
    }
    let Some(raw) = query.get("url").map(|u| u.trim()).filter(|u| !u.is_empty()) else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, "missing url: use /feed?url=<feed URL>".into()));
    };
    let url = Url::parse(raw)
        .or_else(|_| Url::parse(&format!("https://{raw}")))
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("url {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("url {raw:?}: only http and https feed URLs are fetched"),
        ));
    }
    let asked = query.get("format").map(String::as_str).unwrap_or("xml");
    let Some(format) = Format::from_name(asked) else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, format!("format {asked:?}: use rss, atom or json")));
    };
    let feeds = match any.cached(url.as_str()) {
        Some(feeds) => feeds,
        None => {
            // Refused before anything is counted or fetched: an IP literal we will not fetch.
            if let Err(why) = any.guard.check_url(&url) {
                return Err(Refusal { refused: true, ..Refusal::new(StatusCode::FORBIDDEN, format!("{url}: {why}")) });
            }
            let pending = {
                let mut pending = any.pending.lock().unwrap_or_else(|p| p.into_inner());
                match pending.get(url.as_str()) {
                    Some(build) => build.clone(),
                    None => {
                        if let Err(secs) = any.admit(client.ip()) {
                            app.metrics.any_url_rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return Err(Refusal {
                                status: StatusCode::TOO_MANY_REQUESTS,
                                message: format!(
                                    "too many requests to origins for {} (settings.any_url_per_minute = {}); try again in {secs} s",
                                    client.ip(),
                                    app.config.settings.any_url_per_minute
                                ),
                                retry_after: Some(secs),
                                refused: false,
                            });
                        }
                        let Ok(slot) = any.builds.clone().try_acquire_owned() else {
                            return Err(Refusal {
                                status: StatusCode::SERVICE_UNAVAILABLE,
                                message: format!(
                                    "{MAX_BUILDS} feeds are being built for /feed?url= already; try again in 10 s"
                                ),
                                retry_after: Some(10),
                                refused: false,
                            });
                        };
                        // Built on its own task: a reader that gives up waiting does not cancel
                        // the work, and its next poll finds the feed in the cache.
                        let build = tokio::spawn(build_and_remember(app.clone(), url.clone(), client.ip(), slot));
                        let build: Pending = async move {
                            build.await.unwrap_or_else(|e| {
                                Err(Refusal::new(
                                    StatusCode::INTERNAL_SERVER_ERROR,
                                    format!("building the feed failed: {e}"),
                                ))
                            })
                        }
                        .boxed()
                        .shared();
                        pending.insert(url.to_string(), build.clone());
                        build
                    }
                }
            };
            pending.await?
        }
    };
    let doc = feeds.get(format).clone();
    let mut response = doc.respond(headers);
    if any.token.is_some() {
        // An answer behind a token is for this client only: no shared cache may hand it to
        // someone without the token.
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Authorization"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }
}
