//! Dates as feeds write them: RFC 822 with every liberty taken (no weekday, a wrong weekday,
//! two-digit years, zone names, a missing zone, month before day), and ISO 8601 / W3C-DTF
//! down to a bare year. Anything outside [`crate::dates::sane`] is no date.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// Parses a date from a feed, or `None`.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    let d = if s.as_bytes()[0].is_ascii_digit() && s.len() >= 4 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        iso8601(s).or_else(|| rfc822(s))
    } else {
        rfc822(s).or_else(|| iso8601(s))
    };
    d.and_then(crate::dates::sane)
}

/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `T` or a space and `hh:mm[:ss[.frac]]`, then `Z`,
/// `±hh:mm`, `±hhmm` or `±hh`; also the compact `YYYYMMDDThhmmss`.
fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0u32, |n, d| n * 10 + (d - b'0') as u32))
    };
    let year = num(0, 4)? as i32;
    let (mut month, mut day, mut i) = (1, 1, 4);
    let compact = b.get(4).is_some_and(u8::is_ascii_digit);
    if compact {
        month = num(4, 2)?;
        day = num(6, 2)?;
        i = 8;
    } else if b.get(4) == Some(&b'-') {
        month = num(5, 2)?;
        i = 7;
        if b.get(7) == Some(&b'-') {
            day = num(8, 2)?;
            i = 10;
        }
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if matches!(b.get(i), Some(b'T' | b't' | b' ')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        hour = num(i, 2)?;
        i += 2;
        let colon = b.get(i) == Some(&b':');
        if colon || b.get(i).is_some_and(u8::is_ascii_digit) {
            i += colon as usize;
            minute = num(i, 2)?;
            i += 2;
            let colon = b.get(i) == Some(&b':');
            if (colon && b.get(i + 1).is_some_and(u8::is_ascii_digit)) || b.get(i).is_some_and(u8::is_ascii_digit) {
                i += colon as usize;
                second = num(i, 2)?;
                i += 2;
                if matches!(b.get(i), Some(b'.' | b',')) {
                    i += 1;
                    while b.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                }
            }
        }
    }
    let zone = zone_offset(s.get(i..)?.trim())?;
    let naive = date.and_hms_opt(hour.min(23), minute.min(59), second.min(59))?;
    Some(zone.from_local_datetime(&naive).single()?.with_timezone(&Utc))
}

/// RFC 822/2822 as feeds write it.
fn rfc822(s: &str) -> Option<DateTime<Utc>> {
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut time = None;
    let mut zone = None;
    for token in s.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
        let lower = token.to_ascii_lowercase();
        let lower = lower.trim_end_matches('.');
        if time.is_none() && token.contains(':') {
            let mut parts = token.split(':');
            let h: u32 = parts.next()?.parse().ok()?;
            let m: u32 = parts.next()?.parse().ok()?;
            let sec: u32 = parts.next().and_then(|p| p.split('.').next()?.parse().ok()).unwrap_or(0);
            time = Some((h, m, sec));
        } else if let Some(m) = month_number(lower).filter(|_| month.is_none()) {
            month = Some(m);
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            let n: i32 = token.parse().ok()?;
            if day.is_none() && token.len() <= 2 && year.is_none() {
                day = Some(n as u32);
            } else if year.is_none() {
                year = Some(match (token.len(), n) {
                    (2, n) if n < 50 => 2000 + n,
                    (2, n) => 1900 + n,
                    (3, n) => 1900 + n,
                    (_, n) => n,
                });
            } else if day.is_none() {
                day = Some(n as u32);
            }
        } else if zone.is_none() && (time.is_some() || token.starts_with(['+', '-'])) {
            zone = zone_offset(token);
        }
    }
    let date = NaiveDate::from_ymd_opt(year?, month?, day?)?;
    let (h, m, sec) = time.unwrap_or((0, 0, 0));
    let naive = date.and_hms_opt(h.min(23), m.min(59), sec.min(59))?;
    let zone = zone.unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    Some(zone.from_local_datetime(&naive).single()?.with_timezone(&Utc))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    if name.len() < 3 || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let prefix = &name[..3];
    MONTHS.iter().position(|m| *m == prefix).map(|i| i as u32 + 1).filter(|_| {
        // "march", "sept", "june": a month name, not a word that starts like one.
        name.len() <= 3 || full_month(name)
    })
}

fn full_month(name: &str) -> bool {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    name == "sept" || FULL.contains(&name)
}

/// A time zone: empty (UTC), `Z`, `±hh:mm`, `±hhmm`, `±hh`, or a North American or military
/// zone name. Unknown names are UTC (feedparser does the same).
fn zone_offset(z: &str) -> Option<FixedOffset> {
    let z = z.trim();
    let hours = |h: i32| FixedOffset::east_opt(h * 3600);
    if z.is_empty() {
        return hours(0);
    }
    if let Some(rest) = z.strip_prefix(['+', '-']) {
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().ok()?, 0),
            3 => (digits[..1].parse::<i32>().ok()?, digits[1..].parse::<i32>().ok()?),
            4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
            _ => return None,
        };
        if h > 23 || m > 59 {
            return None;
        }
        return FixedOffset::east_opt(sign * (h * 3600 + m * 60));
    }
    let upper = z.to_ascii_uppercase();
    Some(match upper.as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "Z." => hours(0)?,
        "EST" => hours(-5)?,
        "EDT" => hours(-4)?,
        "CST" => hours(-6)?,
        "CDT" => hours(-5)?,
        "MST" => hours(-7)?,
        "MDT" => hours(-6)?,
        "PST" => hours(-8)?,
        "PDT" => hours(-7)?,
        "AST" => hours(-4)?,
        "ADT" => hours(-3)?,
        "CET" => hours(1)?,
        "CEST" => hours(2)?,
        "BST" => hours(1)?,
        _ if upper.len() == 1 && upper.as_bytes()[0].is_ascii_alphabetic() => military(upper.as_bytes()[0])?,
        _ if upper.bytes().all(|b| b.is_ascii_alphabetic()) => hours(0)?,
        _ => return None,
    })
}

/// Military single-letter zones (RFC 822 gets their sign backwards; feeds follow the spec).
fn military(letter: u8) -> Option<FixedOffset> {
    let h = match letter {
        b'A'..=b'I' => -((letter - b'A' + 1) as i32),
        b'K'..=b'M' => -((letter - b'K' + 10) as i32),
        b'N'..=b'Y' => (letter - b'N' + 1) as i32,
        _ => 0,
    };
    FixedOffset::east_opt(h * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        parse(s).map(|d| d.to_rfc3339()).unwrap_or_else(|| "none".into())
    }

    #[test]
    fn rfc822_as_feeds_write_it() {
        assert_eq!(at("Tue, 10 Nov 2020 12:00:00 +0100"), "2020-11-10T11:00:00+00:00");
        assert_eq!(at("Mon, 10 Nov 2020 12:00:00 GMT"), "2020-11-10T12:00:00+00:00", "wrong weekday");
        assert_eq!(at("10 Nov 2020 12:00 EST"), "2020-11-10T17:00:00+00:00");
        assert_eq!(at("Sun, 25 Dec 05 04:20:51 PDT"), "2005-12-25T11:20:51+00:00");
        assert_eq!(at("December 25, 2005 04:20:51"), "2005-12-25T04:20:51+00:00");
        assert_eq!(at("Thu, 01 Jan 2004 19:48:21 Z"), "2004-01-01T19:48:21+00:00");
        assert_eq!(at("Fri, 5 Sept 2003"), "2003-09-05T00:00:00+00:00");
        assert_eq!(at("not a date"), "none");
        assert_eq!(at("Mon, 31 Feb 2020 00:00:00 GMT"), "none");
    }

    #[test]
    fn iso8601_and_w3cdtf() {
        assert_eq!(at("2003-12-13T18:30:02Z"), "2003-12-13T18:30:02+00:00");
        assert_eq!(at("2003-12-13T18:30:02.25+01:00"), "2003-12-13T17:30:02+00:00");
        assert_eq!(at("2003-12-13T18:30-0500"), "2003-12-13T23:30:00+00:00");
        assert_eq!(at("2003-12-13 18:30:02"), "2003-12-13T18:30:02+00:00");
        assert_eq!(at("20031213T183002Z"), "2003-12-13T18:30:02+00:00");
        assert_eq!(at("2003-12-13"), "2003-12-13T00:00:00+00:00");
        assert_eq!(at("2003-12"), "2003-12-01T00:00:00+00:00");
        assert_eq!(at("2003"), "2003-01-01T00:00:00+00:00");
        assert_eq!(at("0000-01-01T00:00:00+23:59"), "none", "year -1 in UTC");
        assert_eq!(at("10000-01-01T00:00:00Z"), "none");
    }
}
