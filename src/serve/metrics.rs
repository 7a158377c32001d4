//! `GET /metrics`: counters in the Prometheus text format, kept in atomics so that counting
//! costs a served request nothing measurable.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::engine::StatsSnapshot;
use crate::error::ErrorKind;

/// The routes whose requests are counted apart.
#[derive(Debug, Clone, Copy)]
pub enum Route {
    Feed,
    Index,
    Opml,
    AnyUrl,
    Refresh,
    Other,
}

const ROUTES: [&str; 6] = ["feed", "index", "opml", "any_url", "refresh", "other"];
const CODES: [&str; 5] = ["200", "304", "4xx", "5xx", "other"];
/// Upper bounds (seconds) of the refresh duration histogram.
const BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

#[derive(Debug, Default)]
pub struct Metrics {
    http: [[AtomicU64; 5]; 6],
    refreshes_ok: AtomicU64,
    refreshes_failed: AtomicU64,
    /// Failed refreshes, by [`ErrorKind::index`].
    failures: [AtomicU64; ErrorKind::ALL.len()],
    refresh_buckets: [AtomicU64; 10],
    refresh_count: AtomicU64,
    refresh_micros: AtomicU64,
    pub any_url_refused: AtomicU64,
    pub any_url_rate_limited: AtomicU64,
    /// Due refreshes this process left alone because another one sharing the database had
    /// just made them.
    pub refreshed_elsewhere: AtomicU64,
    /// Times the OPML list was built from the served feeds' lines.
    pub opml_renders: AtomicU64,
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Per-source gauges, read from the scheduler's state when `/metrics` is asked for.
pub struct SourceGauges<'a> {
    pub name: &'a str,
    pub entries: usize,
    pub consecutive_failures: u32,
    pub last_success: Option<i64>,
    pub next_refresh: Option<i64>,
}

impl Metrics {
    pub fn http(&self, route: Route, status: u16) {
        let code = match status {
            200 => 0,
            304 => 1,
            400..=499 => 2,
            500..=599 => 3,
            _ => 4,
        };
        self.http[route as usize][code].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refresh: `Err` with its kind when it failed.
    pub fn refresh(&self, outcome: Result<(), ErrorKind>, took: Duration) {
        match outcome {
            Ok(()) => self.refreshes_ok.fetch_add(1, Ordering::Relaxed),
            Err(kind) => {
                self.failures[kind.index()].fetch_add(1, Ordering::Relaxed);
                self.refreshes_failed.fetch_add(1, Ordering::Relaxed)
            }
        };
        let secs = took.as_secs_f64();
        for (bucket, bound) in self.refresh_buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.refresh_count.fetch_add(1, Ordering::Relaxed);
        self.refresh_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The whole exposition: ours, the engine's counters and the per-source gauges.
    pub fn render(&self, stats: StatsSnapshot, sources: &[SourceGauges]) -> String {
        let engine_counters: [(&str, &str, u64); 7] = [
            ("refeed_feed_fetches_total", "Origin feeds requested.", stats.feed_fetches),
            ("refeed_feed_not_modified_total", "Origin feeds that answered 304 Not Modified.", stats.feed_not_modified),
            ("refeed_feed_errors_total", "Origin feeds that could not be fetched or read.", stats.feed_errors),
            ("refeed_articles_extracted_total", "Article pages fetched and extracted.", stats.articles_extracted),
            ("refeed_article_errors_total", "Article pages that could not be fetched.", stats.article_errors),
            ("refeed_http_client_requests_total", "HTTP requests sent to origins.", stats.requests),
            ("refeed_http_client_bytes_total", "Body bytes received from origins (after decompression).", stats.bytes),
        ];
        let own_counters = [
            (
                "refeed_any_url_refused_total",
                "/feed?url= requests refused by the address guard.",
                &self.any_url_refused,
            ),
            (
                "refeed_any_url_rate_limited_total",
                "/feed?url= requests refused by the rate limit.",
                &self.any_url_rate_limited,
            ),
            (
                "refeed_refreshes_by_other_processes_total",
                "Due refreshes left to another process sharing the database, which had just made them.",
                &self.refreshed_elsewhere,
            ),
            (
                "refeed_opml_renders_total",
                "Times the OPML list was built: once at start, then when the list of served feeds or a title changes.",
                &self.opml_renders,
            ),
        ];
        let mut out = String::new();
        let counters = engine_counters
            .iter()
            .map(|(name, help, value)| (name, help, *value))
            .chain(own_counters.iter().map(|(name, help, value)| (name, help, load(value))));
        for (name, help, value) in counters {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
        }
        let _ = write!(
            out,
            "# HELP refeed_extract_seconds_total Time spent extracting articles.\n# TYPE refeed_extract_seconds_total counter\nrefeed_extract_seconds_total {:.6}\n",
            stats.extract_micros as f64 / 1e6
        );
        out.push_str(
            "# HELP refeed_refreshes_total Source refreshes by outcome.\n# TYPE refeed_refreshes_total counter\n",
        );
        let _ = writeln!(out, "refeed_refreshes_total{{result=\"ok\"}} {}", load(&self.refreshes_ok));
        let _ = writeln!(out, "refeed_refreshes_total{{result=\"error\"}} {}", load(&self.refreshes_failed));
        out.push_str(
            "# HELP refeed_refresh_failures_total Failed source refreshes, by kind of failure.\n# TYPE refeed_refresh_failures_total counter\n",
        );
        for (kind, n) in ErrorKind::ALL.iter().zip(&self.failures) {
            let _ = writeln!(out, "refeed_refresh_failures_total{{kind=\"{}\"}} {}", kind.as_str(), load(n));
        }
        out.push_str(
            "# HELP refeed_refresh_duration_seconds Time one source refresh took.\n# TYPE refeed_refresh_duration_seconds histogram\n",
        );
        for (bucket, bound) in self.refresh_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "refeed_refresh_duration_seconds_bucket{{le=\"{bound}\"}} {}", load(bucket));
        }
        let count = load(&self.refresh_count);
        let _ = writeln!(out, "refeed_refresh_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "refeed_refresh_duration_seconds_sum {:.6}", load(&self.refresh_micros) as f64 / 1e6);
        let _ = writeln!(out, "refeed_refresh_duration_seconds_count {count}");
        out.push_str("# HELP refeed_http_requests_total Requests served, by route and status.\n# TYPE refeed_http_requests_total counter\n");
        for (route, codes) in ROUTES.iter().zip(&self.http) {
            for (code, n) in CODES.iter().zip(codes) {
                let n = load(n);
                if n > 0 {
                    let _ = writeln!(out, "refeed_http_requests_total{{route=\"{route}\",code=\"{code}\"}} {n}");
                }
            }
        }
        let gauge =
            |out: &mut String, name: &str, help: &str, values: &mut dyn Iterator<Item = (&str, Option<i64>)>| {
                let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n");
                for (source, value) in values {
                    if let Some(v) = value {
                        let _ = writeln!(out, "{name}{{source=\"{source}\"}} {v}");
                    }
                }
            };
        gauge(
            &mut out,
            "refeed_source_entries",
            "Entries the source's feed publishes.",
            &mut sources.iter().map(|s| (s.name, Some(s.entries as i64))),
        );
        gauge(
            &mut out,
            "refeed_source_consecutive_failures",
            "Failed refreshes in a row (0 when the last one worked).",
            &mut sources.iter().map(|s| (s.name, Some(s.consecutive_failures as i64))),
        );
        gauge(
            &mut out,
            "refeed_source_last_success_timestamp_seconds",
            "When the source was last refreshed successfully (Unix time).",
            &mut sources.iter().map(|s| (s.name, s.last_success)),
        );
        gauge(
            &mut out,
            "refeed_source_next_refresh_timestamp_seconds",
            "When the source will next be refreshed (Unix time).",
            &mut sources.iter().map(|s| (s.name, s.next_refresh)),
        );
        out
    }
}
