//! When each source is refreshed next: its own interval, stretched by what the origin asked
//! (`Cache-Control: max-age`, `Retry-After`) and by exponential backoff while it fails, with
//! jitter so that sources configured alike do not all fire at the same second.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// An origin's `max-age` is honoured up to this: a lying server must not silence a feed.
pub const MAX_AGE_CAP: Duration = Duration::from_secs(24 * 3600);
/// Backoff never waits longer than this (or the source's interval, if that is longer).
pub const BACKOFF_CAP: Duration = Duration::from_secs(24 * 3600);

/// What the last refresh of a source said about the next one.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Failed refreshes in a row (0 after a success).
    pub failures: u32,
    pub max_age: Option<Duration>,
    pub retry_after: Option<DateTime<Utc>>,
}

/// Why the next refresh is when it is (shown on `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Interval,
    MaxAge(Duration),
    RetryAfter,
    Backoff(u32),
}

/// The delay before the next refresh, before jitter.
pub fn next_delay(interval: Duration, outcome: &Outcome, now: DateTime<Utc>) -> (Duration, Reason) {
    let (mut delay, mut reason) = if outcome.failures > 0 {
        let factor = 1u32.checked_shl(outcome.failures - 1).unwrap_or(u32::MAX);
        let cap = BACKOFF_CAP.max(interval);
        let delay = interval.saturating_mul(factor).min(cap);
        (delay, if delay > interval { Reason::Backoff(outcome.failures) } else { Reason::Interval })
    } else {
        match outcome.max_age.map(|a| a.min(MAX_AGE_CAP)) {
            Some(age) if age > interval => (age, Reason::MaxAge(age)),
            _ => (interval, Reason::Interval),
        }
    };
    if let Some(until) = outcome.retry_after
        && let Ok(wait) = (until - now).to_std()
        && wait > delay
    {
        delay = wait;
        reason = Reason::RetryAfter;
    }
    (delay, reason)
}

/// `delay` moved by up to a tenth either way (at most a minute early: never before the
/// origin's own `Retry-After` or `max-age`, which only ever add jitter upwards).
pub fn with_jitter(delay: Duration, reason: &Reason, random: f64) -> Duration {
    let spread = delay.as_secs_f64() * 0.1;
    let offset = match reason {
        Reason::RetryAfter | Reason::MaxAge(_) => spread * random,
        _ => spread * (2.0 * random - 1.0),
    };
    Duration::from_secs_f64((delay.as_secs_f64() + offset).max(1.0))
}

/// When a source is first refreshed after the server starts: when its interval since the last
/// success runs out, or at once if it is due already (spread over a few seconds, so that a
/// hundred sources do not start in the same instant; the concurrency limit does the rest).
pub fn first_due(
    interval: Duration,
    last_success: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    random: f64,
) -> DateTime<Utc> {
    let due = last_success.and_then(|t| t.checked_add_signed(TimeDelta::from_std(interval).ok()?));
    // A source never fetched has nothing to serve yet: it goes first.
    let spread = if last_success.is_none() { Duration::from_secs(1) } else { Duration::from_secs(5) };
    match due {
        Some(due) if due > now => due,
        _ => now + TimeDelta::milliseconds((random * (interval / 10).min(spread).as_millis() as f64) as i64),
    }
}

impl Reason {
    /// In plain words, for the page.
    pub fn describe(&self) -> String {
        match self {
            Reason::Interval => String::new(),
            Reason::MaxAge(age) => format!("the origin says its feed stays fresh for {}", human_duration(*age)),
            Reason::RetryAfter => "the origin asked to wait (Retry-After)".into(),
            Reason::Backoff(n) => format!("backing off after {n} failure{} in a row", if *n == 1 { "" } else { "s" }),
        }
    }
}

/// "3 min ago" / "in 25 min" / "just now"; the exact time when too far to say.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (t - now).to_std() {
        Ok(ahead) if ahead.as_secs() < 5 => "now".to_string(),
        Ok(ahead) => format!("in {}", human_duration(ahead)),
        Err(_) => match (now - t).to_std() {
            Ok(ago) if ago.as_secs() < 5 => "just now".to_string(),
            Ok(ago) => format!("{} ago", human_duration(ago)),
            Err(_) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
    }
}

/// 90 -> "1 min", 7200 -> "2 h", 30 -> "30 s".
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 if s.is_multiple_of(3600) => format!("{} h", s / 3600),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{:.1} days", s as f64 / 86400.0).replace(".0 ", " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const MIN: Duration = Duration::from_secs(60);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_day() {
        let delays: Vec<Duration> =
            (0..9).map(|failures| next_delay(30 * MIN, &Outcome { failures, ..Outcome::default() }, now()).0).collect();
        let minutes: Vec<u64> = delays.iter().map(|d| d.as_secs() / 60).collect();
        assert_eq!(minutes, vec![30, 30, 60, 120, 240, 480, 960, 1440, 1440]);
        assert_eq!(next_delay(30 * MIN, &Outcome { failures: 3, ..Outcome::default() }, now()).1, Reason::Backoff(3));
        // The first failure is retried at the usual time: that is not backing off yet.
        assert_eq!(next_delay(30 * MIN, &Outcome { failures: 1, ..Outcome::default() }, now()).1, Reason::Interval);
        // A weekly source is not brought forward by the cap.
        let week = Duration::from_secs(7 * 86400);
        assert_eq!(next_delay(week, &Outcome { failures: 5, ..Outcome::default() }, now()).0, week);
        assert_eq!(next_delay(MIN, &Outcome { failures: 200, ..Outcome::default() }, now()).0, BACKOFF_CAP);
    }

    #[test]
    fn origin_max_age_and_retry_after_are_honoured() {
        let fresh = Outcome { max_age: Some(2 * 3600 * Duration::from_secs(1)), ..Outcome::default() };
        assert_eq!(next_delay(30 * MIN, &fresh, now()), (120 * MIN, Reason::MaxAge(120 * MIN)));
        let short = Outcome { max_age: Some(MIN), ..Outcome::default() };
        assert_eq!(next_delay(30 * MIN, &short, now()), (30 * MIN, Reason::Interval));
        let liar = Outcome { max_age: Some(Duration::from_secs(365 * 86400)), ..Outcome::default() };
        assert_eq!(next_delay(30 * MIN, &liar, now()).0, MAX_AGE_CAP);
        let wait = Outcome { failures: 1, retry_after: Some(now() + TimeDelta::hours(3)), ..Outcome::default() };
        assert_eq!(next_delay(30 * MIN, &wait, now()), (180 * MIN, Reason::RetryAfter));
    }

    #[test]
    fn jitter_stays_within_a_tenth_and_never_comes_before_the_origin_asked() {
        let d = 30 * MIN;
        assert_eq!(with_jitter(d, &Reason::Interval, 0.0), 27 * MIN);
        assert_eq!(with_jitter(d, &Reason::Interval, 1.0), 33 * MIN);
        assert_eq!(with_jitter(d, &Reason::RetryAfter, 0.0), d);
        assert_eq!(with_jitter(Duration::from_millis(10), &Reason::Interval, 0.0), Duration::from_secs(1));
    }

    #[test]
    fn first_refresh_after_a_start() {
        let last = now() - TimeDelta::minutes(10);
        assert_eq!(first_due(30 * MIN, Some(last), now(), 0.5), now() + TimeDelta::minutes(20));
        assert_eq!(first_due(30 * MIN, None, now(), 0.5), now() + TimeDelta::milliseconds(500));
        let overdue = Some(now() - TimeDelta::hours(1));
        assert_eq!(first_due(30 * MIN, overdue, now(), 0.5), now() + TimeDelta::milliseconds(2500));
        assert_eq!(first_due(Duration::from_secs(2), overdue, now(), 0.5), now() + TimeDelta::milliseconds(100));
        assert_eq!(first_due(30 * MIN, Some(now() - TimeDelta::hours(5)), now(), 0.0), now());
        assert_eq!(human_duration(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(human_duration(Duration::from_secs(172800)), "2 days");
    }
}
