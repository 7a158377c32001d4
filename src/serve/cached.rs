//! One served document kept in memory, ready for every kind of request a feed reader sends:
//! compressed at most once per encoding (gzip, brotli: when a reader first asks for it, so that
//! a start-up with a thousand stored feeds or a refresh that changed nothing compresses
//! nothing), answered with `304 Not Modified` when the reader's `If-None-Match` or
//! `If-Modified-Since` says it has it already.

use std::io::Write;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};

/// Bodies smaller than this are sent as they are: compressing them saves nothing.
const MIN_COMPRESS: usize = 512;

#[derive(Debug)]
pub struct Cached {
    content_type: HeaderValue,
    identity: Bytes,
    gzip: OnceLock<Bytes>,
    br: OnceLock<Bytes>,
    /// Weak, so that it holds for every encoding of the same content.
    etag: HeaderValue,
    /// To the second, as HTTP dates are.
    modified: DateTime<Utc>,
    last_modified: HeaderValue,
    cache_control: HeaderValue,
}

/// The `ETag` of `body`: a weak validator from a 64-bit FNV-1a hash and the length.
pub fn etag_of(body: &[u8]) -> String {
    format!("W/\"{:016x}-{:x}\"", crate::feed::fnv1a(body), body.len())
}

/// `Mon, 23 Nov 2026 09:00:00 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

impl Cached {
    /// `body` of `content_type`, last changed at `modified`; clients may keep it for
    /// `max_age` seconds before asking again.
    pub fn new(content_type: &'static str, body: Vec<u8>, modified: DateTime<Utc>, max_age: u64) -> Cached {
        let modified = DateTime::from_timestamp(modified.timestamp(), 0).unwrap_or(modified);
        Cached {
            content_type: HeaderValue::from_static(content_type),
            etag: HeaderValue::from_str(&etag_of(&body)).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\"")),
            identity: Bytes::from(body),
            gzip: OnceLock::new(),
            br: OnceLock::new(),
            modified,
            last_modified: HeaderValue::from_str(&http_date(modified)).unwrap_or_else(|_| HeaderValue::from_static("")),
            cache_control: HeaderValue::from_str(&format!("public, max-age={max_age}"))
                .unwrap_or_else(|_| HeaderValue::from_static("no-cache")),
        }
    }

    /// The same content as `self` (compared by ETag), so that `self` and its date can stay.
    pub fn same_body(&self, body: &[u8]) -> bool {
        self.etag.as_bytes() == etag_of(body).as_bytes()
    }

    pub fn modified(&self) -> DateTime<Utc> {
        self.modified
    }

    pub fn etag(&self) -> &str {
        self.etag.to_str().unwrap_or_default()
    }

    pub fn body(&self) -> &Bytes {
        &self.identity
    }

    /// The response to a GET (or HEAD: the server drops the body) with `request` headers.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut builder = Response::builder()
            .header(header::ETAG, self.etag.clone())
            .header(header::LAST_MODIFIED, self.last_modified.clone())
            .header(header::CACHE_CONTROL, self.cache_control.clone())
            .header(header::VARY, HeaderValue::from_static("Accept-Encoding"))
            // A browser must not take a feed for a page, whatever is in it.
            .header(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if self.not_modified(request) {
            return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
        }
        builder = builder.header(header::CONTENT_TYPE, self.content_type.clone());
        let accept = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let small = self.identity.len() < MIN_COMPRESS;
        let body = match pick_encoding(accept) {
            _ if small => self.identity.clone(),
            Encoding::Brotli => {
                builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
                self.br.get_or_init(|| brotli(&self.identity)).clone()
            }
            Encoding::Gzip => {
                builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                self.gzip.get_or_init(|| gzip(&self.identity)).clone()
            }
            Encoding::Identity => self.identity.clone(),
        };
        builder.status(StatusCode::OK).body(Body::from(body)).unwrap_or_default()
    }

    /// RFC 9110 13.2.2: `If-None-Match` when present (weak comparison), else
    /// `If-Modified-Since`.
    fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(inm) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
            let ours = strip_weak(self.etag());
            return inm.split(',').map(str::trim).any(|tag| tag == "*" || strip_weak(tag) == ours);
        }
        request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
            .is_some_and(|since| self.modified <= since)
    }
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The q-value an `Accept-Encoding` value gives `coding` (0 when absent).
fn quality(accept: &str, coding: &str) -> f32 {
    let mut star = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q =
            parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok())).unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip")) {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// Brotli when the client takes it at least as gladly as gzip, then gzip, then nothing.
fn pick_encoding(accept: &str) -> Encoding {
    let (br, gz) = (quality(accept, "br"), quality(accept, "gzip"));
    if br > 0.0 && br >= gz {
        Encoding::Brotli
    } else if gz > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::best());
    let _ = enc.write_all(body);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Brotli quality 9 and up uses a hasher with tables of tens of MiB per call, allocated and
/// touched for every feed however small (1,000 feeds: seconds of page faults at start-up);
/// 6 compresses a 195 KB feed within a few percent of 9's size at a fraction of the cost.
const BROTLI_QUALITY: i32 = 6;

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 3);
    // A window no larger than the body: the encoder's tables grow with the window, and the
    // default 4 MiB one made compressing a small feed cost mostly allocation (a thousand
    // stored feeds took seconds to serve at start-up).
    let lgwin = (usize::BITS - body.len().max(1).leading_zeros()).clamp(10, 22) as i32;
    let params = brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY, lgwin, ..Default::default() };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.clone(), HeaderValue::from_str(v).unwrap())).collect()
    }

    fn doc() -> Cached {
        let body = "<rss>".to_string() + &"<item>words words words</item>".repeat(100) + "</rss>";
        let modified = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        Cached::new("application/rss+xml; charset=utf-8", body.into_bytes(), modified, 60)
    }

    #[test]
    fn revalidation_by_etag_and_by_date() {
        let d = doc();
        let etag = d.etag().to_owned();
        assert!(etag.starts_with("W/\""));
        let status = |h: &[(header::HeaderName, &str)]| d.respond(&headers(h)).status();
        assert_eq!(status(&[]), StatusCode::OK);
        assert_eq!(status(&[(header::IF_NONE_MATCH, &etag)]), StatusCode::NOT_MODIFIED);
        // Some clients send the strong form of a weak tag back; weak comparison matches it.
        assert_eq!(status(&[(header::IF_NONE_MATCH, etag.trim_start_matches("W/"))]), StatusCode::NOT_MODIFIED);
        assert_eq!(status(&[(header::IF_NONE_MATCH, "\"other\", *")]), StatusCode::NOT_MODIFIED);
        assert_eq!(status(&[(header::IF_NONE_MATCH, "\"other\"")]), StatusCode::OK);
        assert_eq!(status(&[(header::IF_MODIFIED_SINCE, "Sat, 28 Nov 2026 10:00:00 GMT")]), StatusCode::NOT_MODIFIED);
        assert_eq!(status(&[(header::IF_MODIFIED_SINCE, "Sat, 28 Nov 2026 09:59:59 GMT")]), StatusCode::OK);
        // If-None-Match wins over If-Modified-Since.
        let both = [(header::IF_NONE_MATCH, "\"other\""), (header::IF_MODIFIED_SINCE, "Sat, 28 Nov 2026 11:00:00 GMT")];
        assert_eq!(status(&both), StatusCode::OK);
        assert_eq!(status(&[(header::IF_MODIFIED_SINCE, "yesterday")]), StatusCode::OK);
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        assert_eq!(pick_encoding("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(pick_encoding("gzip"), Encoding::Gzip);
        assert_eq!(pick_encoding("br;q=0.5, gzip"), Encoding::Gzip);
        assert_eq!(pick_encoding("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(pick_encoding("*"), Encoding::Brotli);
        assert_eq!(pick_encoding("identity"), Encoding::Identity);
        assert_eq!(pick_encoding(""), Encoding::Identity);
        let d = doc();
        let r = d.respond(&headers(&[(header::ACCEPT_ENCODING, "gzip")]));
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let r = d.respond(&headers(&[(header::ACCEPT_ENCODING, "br")]));
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        let r = d.respond(&headers(&[]));
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
