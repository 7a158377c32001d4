//! Why a source's refresh failed, typed from where it happens to where it is shown: the run
//! report, the status page, `/metrics`, the scheduler and the exit code all read the
//! [`ErrorKind`], never the text (which holds the source's URL, and a URL may say anything:
//! `https://www.bygone-era.example/` answering 500 is a server error, not "gone").

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use url::Url;

use crate::feed::FeedError;
use crate::fetch::FetchError;
use crate::store::StoreError;

/// What kind of failure it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The host name could not be resolved.
    Dns,
    /// Nothing answered, or the connection broke off.
    Connect,
    /// The secure connection could not be set up or verified.
    Tls,
    Timeout,
    /// The origin answered with this HTTP status.
    Http(u16),
    /// A redirect refeed does not follow (a loop, too many hops, not http(s)).
    Redirect,
    /// Larger than `max_feed_size` / `max_page_size`.
    TooLarge,
    /// The document is not a feed (and advertises none).
    NotAFeed,
    /// A feed that could not be read (no readable item, over its CPU time).
    Parse,
    /// Refused by the address guard (a private or local address).
    Refused,
    /// `410 Gone`: the source is not fetched again until its URL changes.
    Gone,
    /// `429`/`503` with `Retry-After`: fetched again when the origin asked.
    RateLimited,
    /// refeed's own database or output folder failed.
    Store,
    /// A bug in refeed.
    Internal,
}

impl ErrorKind {
    /// Every kind, for metrics (one `Http` stands for all statuses).
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Http(0),
        ErrorKind::Redirect,
        ErrorKind::TooLarge,
        ErrorKind::NotAFeed,
        ErrorKind::Parse,
        ErrorKind::Refused,
        ErrorKind::Gone,
        ErrorKind::RateLimited,
        ErrorKind::Store,
        ErrorKind::Internal,
    ];

    /// A short name (metrics labels, the run summary).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Http(_) => "http",
            ErrorKind::Redirect => "redirect",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::NotAFeed => "not-a-feed",
            ErrorKind::Parse => "parse",
            ErrorKind::Refused => "refused",
            ErrorKind::Gone => "gone",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::Store => "store",
            ErrorKind::Internal => "internal",
        }
    }

    /// As the run summary names it: the short name, with the status for HTTP (`http 500`).
    pub fn label(self) -> String {
        match self {
            ErrorKind::Http(code) => format!("http {code}"),
            other => other.as_str().to_owned(),
        }
    }

    /// A failure on refeed's own side (its database or disk, a bug), not at the origin.
    pub fn is_own(self) -> bool {
        matches!(self, ErrorKind::Store | ErrorKind::Internal)
    }

    /// Its index in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        ErrorKind::ALL.iter().position(|k| k.as_str() == self.as_str()).unwrap_or(0)
    }

    /// As the store keeps it: the short name, with the status for HTTP (`http:500`).
    pub fn to_stored(self) -> String {
        match self {
            ErrorKind::Http(code) => format!("http:{code}"),
            other => other.as_str().to_owned(),
        }
    }

    pub fn from_stored(s: &str) -> Option<ErrorKind> {
        if let Some(code) = s.strip_prefix("http:") {
            return code.parse().ok().map(ErrorKind::Http);
        }
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s && !matches!(k, ErrorKind::Http(_)))
    }

    /// The failure in plain words, for people who do not read error messages.
    pub fn explain(self) -> String {
        match self {
            ErrorKind::Dns => "The site's name could not be found (DNS).".into(),
            ErrorKind::Connect => "Nothing answered at the feed's address, or the connection broke off.".into(),
            ErrorKind::Tls => "The site's secure connection could not be verified.".into(),
            ErrorKind::Timeout => "The site did not answer in time.".into(),
            ErrorKind::Http(404) => "The feed's address no longer exists (404). Check the URL in the config.".into(),
            ErrorKind::Http(401 | 403) => "The site refused access to the feed.".into(),
            ErrorKind::Http(429) => "The site asked us to slow down.".into(),
            ErrorKind::Http(code @ 500..=599) => format!("The site's server had an error ({code})."),
            ErrorKind::Http(code) => format!("The site answered with an error (HTTP {code})."),
            ErrorKind::Redirect => {
                "The feed's address redirects where refeed does not follow (a loop, too many hops, or not http).".into()
            }
            ErrorKind::TooLarge => "The feed is larger than refeed accepts (max_feed_size).".into(),
            ErrorKind::NotAFeed => "The address does not hold a feed, and the page there advertises none.".into(),
            ErrorKind::Parse => "The feed could not be read.".into(),
            ErrorKind::Refused => {
                "The address is on a private or local network, which refeed does not fetch unless allowed.".into()
            }
            ErrorKind::Gone => "The site says this feed is gone for good.".into(),
            ErrorKind::RateLimited => "The site asked us to slow down; refeed waits as long as it asked.".into(),
            ErrorKind::Store => "refeed could not save what it fetched (disk or database problem).".into(),
            ErrorKind::Internal => "refeed hit a bug; the detail below says where.".into(),
        }
    }
}

/// The kind of a fetch failure is told here, where the kinds are, so that fetching depends
/// on nothing above it.
impl FetchError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Status { status: 410, .. } => ErrorKind::Gone,
            FetchError::Status { status: 429, .. } => ErrorKind::RateLimited,
            FetchError::Status { status, .. } => ErrorKind::Http(*status),
            FetchError::TooLarge { .. } => ErrorKind::TooLarge,
            FetchError::Timeout(_) => ErrorKind::Timeout,
            FetchError::BadRedirect(_) | FetchError::Redirect(_) | FetchError::Redirects(_) => ErrorKind::Redirect,
            FetchError::Refused(_) => ErrorKind::Refused,
            FetchError::Dns(_) => ErrorKind::Dns,
            FetchError::Connect(_) | FetchError::Network(_) => ErrorKind::Connect,
            FetchError::Tls(_) => ErrorKind::Tls,
        }
    }
}

/// Why one source's refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("{url}: {source}")]
    Fetch {
        url: Url,
        #[source]
        source: FetchError,
    },
    /// `429`/`503` with a `Retry-After` the origin will be held to.
    #[error("{url}: HTTP {status}{}: next try after {} as the origin asked", crate::fetch::reason_suffix(*.status), until.to_rfc3339())]
    RateLimited { url: Url, status: u16, until: DateTime<Utc> },
    /// The origin has just answered `410 Gone`.
    #[error("{url}: HTTP 410 Gone: the feed is gone and will not be fetched again")]
    GoneNow { url: Url },
    /// The origin answered `410 Gone` on an earlier run: not fetched again.
    #[error("{url}: gone (HTTP 410 since {}); not fetched again: remove the source or give it a new URL", since.format("%Y-%m-%d"))]
    Gone { url: Url, since: DateTime<Utc> },
    #[error("{url}: empty response")]
    Empty { url: Url },
    #[error("{url}: {source}")]
    Feed {
        url: Url,
        #[source]
        source: FeedError,
    },
    /// The feed URL holds an HTML page that advertises no feed.
    #[error(
        "{url}: an HTML page, not a feed, and it advertises no feed (no <link rel=\"alternate\"> to RSS, Atom or JSON Feed)"
    )]
    PageWithoutFeed { url: Url },
    /// The feed URL held an HTML page; the feed it advertises failed.
    #[error("{page} is an HTML page; its advertised feed failed: {source}")]
    Advertised { page: Url, source: Box<RefreshError> },
    #[error("{url}: the feed lists {items} item(s) but none could be read")]
    NoEntries { url: Url, items: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write feed files in {}: {source}", dir.display())]
    Output { dir: PathBuf, source: std::io::Error },
    #[error("internal error (a bug in refeed): {0}")]
    Internal(String),
}

impl RefreshError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            RefreshError::Fetch { source, .. } => source.kind(),
            RefreshError::RateLimited { .. } => ErrorKind::RateLimited,
            RefreshError::GoneNow { .. } | RefreshError::Gone { .. } => ErrorKind::Gone,
            RefreshError::Empty { .. } | RefreshError::PageWithoutFeed { .. } => ErrorKind::NotAFeed,
            RefreshError::Feed { source: FeedError::Invalid(_), .. } => ErrorKind::NotAFeed,
            RefreshError::Feed { source: FeedError::Budget(_) | FeedError::Selector(_), .. } => ErrorKind::Parse,
            RefreshError::Advertised { source, .. } => source.kind(),
            RefreshError::NoEntries { .. } => ErrorKind::Parse,
            RefreshError::Store(_) | RefreshError::Output { .. } => ErrorKind::Store,
            RefreshError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// When the origin asked to be fetched again, if it did.
    pub fn retry_after(&self) -> Option<DateTime<Utc>> {
        match self {
            RefreshError::RateLimited { until, .. } => Some(*until),
            RefreshError::Advertised { source, .. } => source.retry_after(),
            _ => None,
        }
    }
}

/// A failure as the status page keeps it: its kind (unknown for failures a store recorded
/// before kinds were kept) and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Option<ErrorKind>,
    pub message: String,
}

impl Failure {
    /// In plain words.
    pub fn explain(&self) -> String {
        self.kind.map_or_else(|| "The feed could not be read.".to_owned(), ErrorKind::explain)
    }
}

impl From<&RefreshError> for Failure {
    fn from(e: &RefreshError) -> Failure {
        Failure { kind: Some(e.kind()), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn the_kind_comes_from_the_failure_never_from_the_url() {
        // A server error at a host whose name says "gone".
        let e = RefreshError::Fetch {
            url: url("https://www.bygone-era.example/feed.xml"),
            source: FetchError::Status { status: 500, retry_after: None },
        };
        assert_eq!(e.kind(), ErrorKind::Http(500));
        assert_eq!(e.kind().explain(), "The site's server had an error (500).");
        // A certificate failure at a host whose name says "dns".
        let e = RefreshError::Fetch {
            url: url("https://dnsimple.example/feed"),
            source: FetchError::Tls("invalid peer certificate: UnknownIssuer".into()),
        };
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert_eq!(e.kind().explain(), "The site's secure connection could not be verified.");
        // A 503 with Retry-After is the origin asking us to wait, not a server error.
        let until = Utc::now() + chrono::TimeDelta::hours(1);
        let e = RefreshError::RateLimited { url: url("https://busy.example/feed"), status: 503, until };
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(until));
        assert_eq!(e.kind().explain(), "The site asked us to slow down; refeed waits as long as it asked.");
    }

    #[test]
    fn kinds_are_stored_and_read_back() {
        for kind in ErrorKind::ALL.into_iter().chain([ErrorKind::Http(404), ErrorKind::Http(503)]) {
            assert_eq!(ErrorKind::from_stored(&kind.to_stored()), Some(kind), "{kind:?}");
        }
        assert_eq!(ErrorKind::from_stored("nonsense"), None);
    }
}
