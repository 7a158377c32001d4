//! Accepting connections: no client may hold more than its share of the server.
//!
//! A socket costs a file descriptor, and descriptors are few (often 1,024): 1,100 idle sockets
//! from one client used to stop all service. So every connection has a header-read deadline
//! (which also closes a keep-alive connection idle between requests), every request a total
//! deadline, and connections are capped in all and per client (an IPv6 client by its /64,
//! since one host has a whole /64 to pick addresses from). Past a cap, a connection is closed
//! at once, which costs the server nothing. HTTP/1.1 only, unless `settings.h2c` allows HTTP/2
//! by prior knowledge.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

/// A request (its body, and our answer) must be done within this long. Feed builds of
/// `/feed?url=` run on their own task and go on past it; the reader finds them cached.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub total: usize,
    pub per_client: usize,
    pub h2c: bool,
    /// A client must send a request's headers within this long; it is also how long a
    /// keep-alive connection may sit idle between requests (`settings.client_timeout`).
    pub header_timeout: Duration,
}

/// Open connections, in all and per client.
#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// The key a client is counted under: its address, or its /64 for IPv6.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
        v4 => v4,
    }
}

/// Takes a connection slot for `ip`, released when the returned guard is dropped.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    key: IpAddr,
}

impl Slot {
    fn take(counts: &Arc<Mutex<Counts>>, ip: IpAddr, limits: &Limits) -> Option<Slot> {
        let key = client_key(ip);
        let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
        let mine = c.per_client.get(&key).copied().unwrap_or(0);
        if c.total >= limits.total || mine >= limits.per_client {
            return None;
        }
        c.total += 1;
        c.per_client.insert(key, mine + 1);
        Some(Slot { counts: counts.clone(), key })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_client.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                c.per_client.remove(&self.key);
            }
        }
    }
}

/// Serves `router` on `listener` until `stop` turns true; then stops accepting, asks every
/// open connection to finish its request in flight, and returns when all are closed (the
/// caller bounds how long it waits).
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, mut stop: watch::Receiver<bool>) {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
            // Reap finished connection tasks as we go.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (EMFILE) or a connection reset before accept: wait a
                // moment instead of spinning, the caps will free descriptors.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&counts, peer.ip(), &limits) else {
            // Over a cap: closed at once (dropping the stream).
            continue;
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_one(stream, peer, router.clone(), limits, stop.clone(), slot));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_one(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _slot: Slot,
) {
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        async move {
            let request = request.map(axum::body::Body::new);
            match tokio::time::timeout(REQUEST_TIMEOUT, router.call(request)).await {
                Ok(response) => response,
                Err(_) => Ok((StatusCode::REQUEST_TIMEOUT, "request took too long\n").into_response()),
            }
        }
    });
    let io = TokioIo::new(stream);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(limits.header_timeout));
    // HTTP/2 without TLS (by prior knowledge) only when asked for.
    let builder = if limits.h2c { builder } else { builder.http1_only() };
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = tokio::select! {
        _ = conn.as_mut() => false,
        stopped = stop.wait_for(|s| *s) => stopped.is_ok(),
    };
    if stopping {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Raises the soft limit on open files to the hard limit (a server's descriptors are its
/// capacity) and returns the soft limit now in force.
pub fn raise_nofile_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit read and write the struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let want = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                    lim = want;
                }
            }
        }
        // rlim_t is u64 here, not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The connection caps for a descriptor limit: the configured ones, but always leaving room
/// for the store, the output files and the outgoing fetches.
pub fn limits_for(settings: &crate::config::Settings, nofile: Option<u64>) -> Limits {
    /// Descriptors kept for everything that is not a reader's connection.
    const RESERVED: u64 = 128;
    let total = settings.max_connections;
    let fits = nofile.map_or(total as u64, |n| n.saturating_sub(RESERVED).max(16));
    Limits {
        total: total.min(fits as usize).max(1),
        per_client: settings.max_connections_per_client.max(1),
        h2c: settings.h2c,
        header_timeout: settings.client_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_slots_are_released() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
        let counts = Arc::new(Mutex::new(Counts::default()));
        let limits = Limits { total: 3, per_client: 2, h2c: false, header_timeout: Duration::from_secs(1) };
        let first = Slot::take(&counts, a, &limits).unwrap();
        let _second = Slot::take(&counts, b, &limits).unwrap();
        assert!(Slot::take(&counts, a, &limits).is_none(), "a third from the same /64");
        let _other = Slot::take(&counts, "192.0.2.1".parse().unwrap(), &limits).unwrap();
        assert!(Slot::take(&counts, "192.0.2.2".parse().unwrap(), &limits).is_none(), "total reached");
        drop(first);
        assert!(Slot::take(&counts, a, &limits).is_some());
        let settings = crate::config::Settings::default();
        assert_eq!(limits_for(&settings, Some(1024)).total, 896);
        assert_eq!(limits_for(&settings, Some(100)).total, 16);
        assert_eq!(limits_for(&settings, Some(1 << 20)).total, 1024);
    }
}
