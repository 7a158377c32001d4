//! HTTP: one client with hard limits, conditional GET, and politeness per host.
//!
//! Every request has a connect timeout and a total time budget (a server that drips one byte
//! a second defeats a read timeout), bodies are capped after decompression while streaming (a
//! gzip bomb never reaches memory), redirects are limited and must stay on http(s), and at most
//! `per_host_concurrency` requests go to one host at a time, spaced by `host_delay`.

pub mod charset;
pub mod guard;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::Settings;

/// HTTP cache validators kept between runs for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What is fetched decides the size cap and the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Feed,
    Page,
}

/// A successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// The origin answered 304: what we have is current (for `max_age` more, if it said).
    NotModified {
        max_age: Option<Duration>,
    },
    Body(Body),
}

#[derive(Debug)]
pub struct Body {
    /// The URL after redirects.
    pub url: Url,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// How long the origin says the body stays fresh (`Cache-Control: max-age`).
    pub max_age: Option<Duration>,
    pub bytes: Vec<u8>,
}

/// `max-age` of a `Cache-Control` value; `no-cache`, `no-store` and `must-revalidate` with
/// no age mean "ask every time".
pub fn cache_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-cache" || directive == "no-store" {
            return None;
        }
        if let Some(secs) = directive.strip_prefix("max-age=") {
            max_age = secs.trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    max_age
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {status}{}", reason_suffix(*.status))]
    Status { status: u16, retry_after: Option<String> },
    #[error("response larger than {} ({})", human_size(*.limit), match .kind { Kind::Feed => "max_feed_size", Kind::Page => "max_page_size" })]
    TooLarge { limit: u64, kind: Kind },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("redirected to {0}, which is not an http(s) URL")]
    BadRedirect(String),
    /// The address guard refused the URL (see [`guard`]).
    #[error("{0}")]
    Refused(String),
    /// A redirect left for the caller to check and follow (guarded requests).
    #[error("redirected to {0}")]
    Redirect(String),
    /// A redirect loop, or more redirects than `max_redirects`.
    #[error("{0}")]
    Redirects(String),
    #[error("{0}")]
    Dns(String),
    /// Nothing answered, or the connection broke off.
    #[error("{0}")]
    Connect(String),
    #[error("secure connection failed: {0}")]
    Tls(String),
    #[error("{0}")]
    Network(String),
}

/// The longest an origin's `Retry-After` is honoured: a lying server must not silence a
/// source for ever (nor overflow a date: `Retry-After: 99999999999999` once panicked here).
pub const MAX_RETRY_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// When a `Retry-After` value (seconds or an HTTP date) tells us to come back, capped to
/// [`MAX_RETRY_AFTER`].
pub fn retry_after_time(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = value.trim();
    let latest = now.checked_add_signed(MAX_RETRY_AFTER).unwrap_or(now);
    let at = if let Ok(secs) = value.parse::<u64>() {
        let secs = secs.min(MAX_RETRY_AFTER.num_seconds() as u64) as i64;
        now.checked_add_signed(chrono::TimeDelta::try_seconds(secs)?).unwrap_or(latest)
    } else {
        chrono::DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&chrono::Utc)
    };
    Some(at.clamp(now, latest))
}

/// 1048576 -> "1 MiB", 1536 -> "1.5 KiB".
pub fn human_size(n: u64) -> String {
    let units = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in units {
        if n >= size {
            let v = n as f64 / size as f64;
            return if v.fract() == 0.0 { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") };
        }
    }
    format!("{n} bytes")
}

pub(crate) fn reason_suffix(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl FetchError {
    fn from_reqwest(e: reqwest::Error, timeout: Duration) -> Self {
        if e.is_timeout() {
            return FetchError::Timeout(timeout);
        }
        // reqwest's Display stops at the outermost layer ("error sending request"); the
        // cause chain is what tells a user what went wrong (refused, DNS, TLS, reset).
        // The caller names the URL already.
        let e = e.without_url();
        let connect = e.is_connect();
        // The resolver's refusals and DNS failures, and TLS failures, travel inside the
        // client's error: each is told apart by its type, never by its words.
        let mut kind: Option<fn(String) -> FetchError> = None;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
        while let Some(c) = cause {
            // An io::Error hides the error it wraps from source(), and io::Errors nest (a
            // TLS failure comes as Other(InvalidData(rustls::Error))): look inside each.
            let mut candidate = Some(c);
            while let Some(here) = candidate {
                if let Some(refusal) = here.downcast_ref::<guard::Refusal>() {
                    return FetchError::Refused(refusal.0.clone());
                }
                if let Some(dns) = here.downcast_ref::<guard::DnsError>() {
                    return FetchError::Dns(dns.0.clone());
                }
                if here.downcast_ref::<rustls::Error>().is_some() {
                    kind = Some(FetchError::Tls);
                }
                candidate = here
                    .downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .map(|i| i as &(dyn std::error::Error + 'static));
            }
            cause = c.source();
        }
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(": ");
                msg.push_str(&text);
            }
            source = s.source();
        }
        match kind {
            Some(make) => make(msg),
            None if e.is_redirect() => FetchError::Redirects(msg),
            None if connect => FetchError::Connect(msg),
            None => FetchError::Network(msg),
        }
    }
}

/// Politeness shared with other processes (several refeed servers on one database): a slot
/// of a host is taken there before each request, so that `per_host_concurrency` and
/// `host_delay` hold for all of them together.
pub trait SharedHostGate: Send + Sync {
    /// Takes a slot of `host` if one is free and `delay` has passed since the last request
    /// to it began (from any process): its token, or how long to wait before asking again.
    fn try_acquire(&self, host: &str, per_host: usize, delay: Duration) -> Result<String, Duration>;
    /// Gives the slot of `token` back.
    fn release(&self, host: &str, token: &str);
}

/// Longest wait between two asks for a shared host slot.
const SHARED_GATE_POLL: Duration = Duration::from_millis(200);

/// One gate per host: a semaphore for concurrency and the time of the last request start.
struct HostGate {
    permits: Semaphore,
    last_start: tokio::sync::Mutex<Option<Instant>>,
}

/// A slot of a host held in the shared gate, given back when dropped.
struct SharedSlot {
    gate: Arc<dyn SharedHostGate>,
    host: String,
    token: String,
}

impl SharedSlot {
    async fn take(gate: Arc<dyn SharedHostGate>, url: &Url, per_host: usize, delay: Duration) -> SharedSlot {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        loop {
            match gate.try_acquire(&host, per_host, delay) {
                Ok(token) => return SharedSlot { gate, host, token },
                Err(wait) => tokio::time::sleep(wait.clamp(Duration::from_millis(5), SHARED_GATE_POLL)).await,
            }
        }
    }
}

impl Drop for SharedSlot {
    fn drop(&mut self) {
        self.gate.release(&self.host, &self.token);
    }
}

/// Whose URL a request fetches, which decides whether private addresses may be reached.
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    /// A URL from the config (a source's feed): fetched wherever it points.
    Trusted,
    /// A URL someone else chose (a link inside a feed, anything given to `/feed?url=`):
    /// private and local addresses are refused on every hop, except what the guard allows.
    Guarded(&'a guard::Guard),
}

pub struct Fetcher {
    /// For trusted URLs: reqwest follows redirects (limited, http(s) only).
    client: reqwest::Client,
    /// For guarded URLs: a resolver that refuses private addresses, and no redirects of its
    /// own (each hop is checked against the request's own guard, see [`Fetcher::get`]).
    guarded: reqwest::Client,
    /// Every exception any request of this fetcher may make: the guarded client's resolver
    /// lets these names through, and each request checks its own.
    exceptions: Arc<guard::Guard>,
    global: Semaphore,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    per_host: usize,
    host_delay: Duration,
    /// Set on a shared database: politeness across processes.
    shared_gate: std::sync::OnceLock<Arc<dyn SharedHostGate>>,
    timeout: Duration,
    max_redirects: usize,
    max_feed_bytes: u64,
    max_page_bytes: u64,
    bytes_fetched: std::sync::atomic::AtomicU64,
    requests: std::sync::atomic::AtomicU64,
}

impl Fetcher {
    /// A fetcher whose guarded requests may use at most the exceptions of `exceptions` (the
    /// union of every guard its requests will carry).
    pub fn new(settings: &Settings, exceptions: guard::Guard) -> Result<Self, FetchError> {
        // reqwest is built without a default crypto provider (aws-lc needs cmake); ring
        // builds with a plain C compiler. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let max_redirects = settings.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                let url = attempt.url().to_string();
                attempt.error(format!("redirect to non-http(s) URL {url}"))
            } else if attempt.previous().contains(attempt.url()) {
                let url = attempt.url().to_string();
                attempt.error(format!("redirect loop at {url}"))
            } else {
                attempt.follow()
            }
        });
        let exceptions = Arc::new(exceptions);
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .user_agent(settings.user_agent.clone())
                .connect_timeout(settings.connect_timeout)
                .timeout(settings.timeout)
                .read_timeout(settings.timeout)
                .gzip(true)
                .brotli(true)
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| FetchError::Network(format!("cannot build HTTP client: {e}")))
        };
        let client =
            build(reqwest::Client::builder().redirect(policy).dns_resolver(Arc::new(guard::Resolver { guard: None })))?;
        // Proxies are off for guarded requests: a proxy would resolve names where we cannot see.
        let guarded = build(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(guard::Resolver { guard: Some(exceptions.clone()) })),
        )?;
        Ok(Fetcher {
            client,
            guarded,
            exceptions,
            global: Semaphore::new(settings.concurrency),
            hosts: Mutex::new(HashMap::new()),
            per_host: settings.per_host_concurrency,
            host_delay: settings.host_delay,
            shared_gate: std::sync::OnceLock::new(),
            timeout: settings.timeout,
            max_redirects: settings.max_redirects,
            max_feed_bytes: settings.max_feed_bytes,
            max_page_bytes: settings.max_page_bytes,
            bytes_fetched: Default::default(),
            requests: Default::default(),
        })
    }

    /// Coordinates politeness with other processes through `gate` from now on.
    pub fn share_host_gate(&self, gate: Arc<dyn SharedHostGate>) {
        let _ = self.shared_gate.set(gate);
    }

    /// Bytes of bodies received so far (after decompression).
    pub fn bytes_fetched(&self) -> u64 {
        self.bytes_fetched.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn gate(&self, url: &Url) -> Arc<HostGate> {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host)
            .or_insert_with(|| {
                Arc::new(HostGate { permits: Semaphore::new(self.per_host), last_start: Default::default() })
            })
            .clone()
    }

    /// GETs `url`, conditionally when `validators` are given. A guarded request is checked
    /// before it is sent and at every redirect hop.
    pub async fn get(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
        access: Access<'_>,
    ) -> Result<Fetched, FetchError> {
        self.get_with(url, kind, validators, access, &[]).await
    }

    /// [`Fetcher::get`] with `extra` request headers (a site rule's cookie), sent to `url`'s
    /// host only: not to another host a redirect leads to.
    pub async fn get_with(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
        access: Access<'_>,
        extra: &[(String, String)],
    ) -> Result<Fetched, FetchError> {
        if let Access::Guarded(guard) = access {
            guard.check_request(url, &self.exceptions).await.map_err(FetchError::Refused)?;
        }
        let gate = self.gate(url);
        // Host first, then the global pool: a slow host then cannot hold global slots idle.
        let _host = gate.permits.acquire().await.map_err(|_| FetchError::Network("shutting down".into()))?;
        let _global = self.global.acquire().await.map_err(|_| FetchError::Network("shutting down".into()))?;
        if !self.host_delay.is_zero() {
            let mut last = gate.last_start.lock().await;
            if let Some(prev) = *last {
                let ready = prev + self.host_delay;
                if ready > Instant::now() {
                    tokio::time::sleep_until(ready.into()).await;
                }
            }
            *last = Some(Instant::now());
        }
        let _shared = match self.shared_gate.get() {
            Some(shared) => Some(SharedSlot::take(shared.clone(), url, self.per_host, self.host_delay).await),
            None => None,
        };
        let work = async {
            match access {
                // The trusted client follows redirects itself; one it leaves is an error.
                Access::Trusted => {
                    self.get_once(&self.client, url, kind, validators, extra).await.map_err(|e| match e {
                        FetchError::Redirect(to) => FetchError::BadRedirect(to),
                        e => e,
                    })
                }
                Access::Guarded(guard) => self.get_guarded(url, kind, validators, guard, extra).await,
            }
        };
        tokio::time::timeout(self.timeout, work).await.unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    /// Follows redirects by hand, checking each hop against `guard`.
    async fn get_guarded(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
        guard: &guard::Guard,
        extra: &[(String, String)],
    ) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut seen = vec![url.clone()];
        loop {
            let extra = if current.host_str() == url.host_str() { extra } else { &[] };
            match self.get_once(&self.guarded, &current, kind, validators, extra).await {
                Err(FetchError::Redirect(location)) => {
                    let next = current.join(&location).map_err(|_| FetchError::BadRedirect(location.clone()))?;
                    if !matches!(next.scheme(), "http" | "https") {
                        return Err(FetchError::BadRedirect(next.to_string()));
                    }
                    if seen.len() > self.max_redirects {
                        return Err(FetchError::Redirects(format!("more than {} redirects", self.max_redirects)));
                    }
                    if seen.contains(&next) {
                        return Err(FetchError::Redirects(format!("redirect loop at {next}")));
                    }
                    guard
                        .check_request(&next, &self.exceptions)
                        .await
                        .map_err(|why| FetchError::Refused(format!("redirect to {next} refused: {why}")))?;
                    seen.push(next.clone());
                    current = next;
                }
                other => return other,
            }
        }
    }

    /// One request, no redirect followed by us (the trusted client follows its own).
    async fn get_once(
        &self,
        client: &reqwest::Client,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
        extra: &[(String, String)],
    ) -> Result<Fetched, FetchError> {
        self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut headers = HeaderMap::new();
        for (name, value) in extra {
            if let (Ok(name), Ok(value)) =
                (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                headers.insert(name, value);
            }
        }
        let accept = match kind {
            Kind::Feed => {
                "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
            }
            Kind::Page => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
        };
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        if let Some(v) = validators {
            if let Some(etag) = v.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
                headers.insert(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v.last_modified.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
                headers.insert(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let response = client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| FetchError::from_reqwest(e, self.timeout))?;
        let status = response.status();
        let max_age =
            response.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(cache_max_age);
        if status == reqwest::StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok(Fetched::NotModified { max_age });
        }
        if status.is_redirection() {
            let to = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok());
            return Err(match to {
                // Only the guarded client leaves redirects to us; the other has refused them.
                Some(to) if status != reqwest::StatusCode::NOT_MODIFIED => FetchError::Redirect(to.to_owned()),
                to => FetchError::BadRedirect(to.unwrap_or("nowhere").to_owned()),
            });
        }
        if !status.is_success() {
            let retry_after =
                response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            return Err(FetchError::Status { status: status.as_u16(), retry_after });
        }
        let header_str =
            |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        let content_type = header_str(header::CONTENT_TYPE);
        let validators =
            Validators { etag: header_str(header::ETAG), last_modified: header_str(header::LAST_MODIFIED) };
        let final_url = response.url().clone();
        let limit = match kind {
            Kind::Feed => self.max_feed_bytes,
            Kind::Page => self.max_page_bytes,
        };
        // An honest Content-Length over the limit is refused before reading anything (it
        // counts compressed bytes, so it is only a lower bound on the real size).
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit, kind });
        }
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if e.is_timeout() {
                    return FetchError::Timeout(self.timeout);
                }
                // The innermost cause says what happened ("end of file before message
                // length reached", "connection reset by peer").
                let mut cause: &dyn std::error::Error = &e;
                while let Some(inner) = cause.source() {
                    cause = inner;
                }
                FetchError::Network(format!("connection broke off mid-body: {cause}"))
            })?;
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit, kind });
            }
            bytes.extend_from_slice(&chunk);
        }
        self.bytes_fetched.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(Fetched::Body(Body { url: final_url, content_type, validators, max_age, bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_capped_and_never_overflows() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(retry_after_time("120", now), Some(now + chrono::TimeDelta::seconds(120)));
        for huge in ["99999999999999", "18446744073709551615", "Fri, 31 Dec 9999 23:59:59 GMT"] {
            assert_eq!(retry_after_time(huge, now), Some(now + MAX_RETRY_AFTER), "{huge}");
        }
        assert_eq!(retry_after_time("Mon, 01 Jan 1990 00:00:00 GMT", now), Some(now), "a past date means now");
        assert_eq!(retry_after_time("soon", now), None);
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(cache_max_age("public, max-age=3600"), Some(Duration::from_secs(3600)));
        assert_eq!(cache_max_age("Max-Age=60, must-revalidate"), Some(Duration::from_secs(60)));
        assert_eq!(cache_max_age("no-cache, max-age=3600"), None);
        assert_eq!(cache_max_age("no-store"), None);
        assert_eq!(cache_max_age("private"), None);
        assert_eq!(cache_max_age("max-age=soon"), None);
    }
}
