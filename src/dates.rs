//! Dates from outside (feeds, page metadata, HTTP headers): the one range refeed accepts, and
//! formatting that cannot panic whatever is stored.
//!
//! chrono's `to_rfc2822` panics outside the years 0 to 9999 (an Atom date of
//! `0000-01-01T00:00:00+23:59` is year -1 in UTC), and adding to a date can overflow. A date
//! outside [`EARLIEST`, `LATEST`] is taken as no date where it enters, and rendering clamps
//! again, so that a store written by an older refeed cannot make a feed panic either.

use chrono::{DateTime, TimeZone, Utc};

/// No feed entry or article was published before this (dates before it are placeholders,
/// such as the Unix epoch or year 1, or garbage).
pub fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1970, 1, 2, 0, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The last date every output format can write.
pub fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `d` when it is a plausible date, else nothing.
pub fn sane(d: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (earliest()..=latest()).contains(&d).then_some(d)
}

/// `d` moved into the range every format can write (for rendering).
pub fn clamped(d: DateTime<Utc>) -> DateTime<Utc> {
    d.clamp(earliest(), latest())
}

/// RFC 2822 (RSS), never panicking.
pub fn rfc2822(d: DateTime<Utc>) -> String {
    clamped(d).to_rfc2822()
}

/// RFC 3339 (Atom, JSON Feed), never panicking.
pub fn rfc3339(d: DateTime<Utc>) -> String {
    clamped(d).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_out_of_range_are_refused_on_entry_and_clamped_on_output() {
        let year_minus_one = DateTime::parse_from_rfc3339("0000-01-01T00:00:00+23:59").unwrap().with_timezone(&Utc);
        assert_eq!(sane(year_minus_one), None);
        assert_eq!(rfc2822(year_minus_one), "Fri, 2 Jan 1970 00:00:00 +0000");
        let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(sane(far), None);
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59+00:00");
        assert_eq!(rfc2822(DateTime::<Utc>::MAX_UTC), "Fri, 31 Dec 9999 23:59:59 +0000");
        let fine = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        assert_eq!(sane(fine), Some(fine));
    }
}
