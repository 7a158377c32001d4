//! Turning fetched bytes into UTF-8.
//!
//! Feeds and pages arrive in whatever encoding their origin chose, and often mislabelled. The
//! order of evidence follows what browsers and feed readers do: a byte-order mark wins, then
//! what the document says about itself (XML declaration, `<meta charset>`), then the HTTP
//! header, then a UTF-8 validity check, then statistical detection.

use encoding_rs::{Encoding, UTF_8};

/// The decoded text and how we decided on it.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// True when bytes had to be replaced (invalid for the chosen encoding).
    pub had_errors: bool,
}

/// The `charset=` parameter of a Content-Type header value.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes())
        } else {
            None
        }
    })
}

/// The `encoding="…"` of an XML declaration at the start of `bytes`.
fn xml_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(256)];
    let head =
        std::str::from_utf8(head).unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""));
    let head = head.trim_start();
    if !head.starts_with("<?xml") {
        return None;
    }
    let decl = &head[..head.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..][..rest[1..].find(quote)?];
    Encoding::for_label(value.as_bytes())
}

/// `<meta charset>` or `<meta http-equiv content="…charset=…">` in the first 4 KiB, the
/// way the HTML prescan does it (simplified: case-insensitive search, no tokenizer).
fn html_meta_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + 7..];
            let rest = trim_ascii_start(rest);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = trim_ascii_start(rest);
                let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
                let len = rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(enc) = Encoding::for_label(&rest[..len]) {
                    // A page that claims UTF-16 in ASCII-compatible bytes is really UTF-8
                    // (HTML spec, "prescan").
                    return Some(if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        UTF_8
                    } else {
                        enc
                    });
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    &b[n..]
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(&bytes[..bytes.len().min(64 * 1024)], bytes.len() <= 64 * 1024);
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

fn decode_with(bytes: &[u8], declared: Option<&'static Encoding>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded { text: text.into_owned(), encoding: enc, had_errors };
    }
    let utf8_or_none = declared.is_none_or(|enc| enc == UTF_8);
    let encoding = match declared {
        _ if utf8_or_none && std::str::from_utf8(bytes).is_ok() => UTF_8,
        // UTF-8 text with a few stray single bytes (a template in UTF-8 around a database's
        // Latin-1, or the reverse): each part as what it is.
        _ if utf8_or_none && mostly_utf8(bytes) => {
            return Decoded { text: utf8_with_stray_bytes(bytes), encoding: UTF_8, had_errors: true };
        }
        // A declared UTF-8 with no UTF-8 in it is a mislabel (often Windows-1252): trust the
        // bytes over the label.
        Some(enc) if enc != UTF_8 => enc,
        _ => detect(bytes),
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding, had_errors }
}

/// The pieces of `bytes` in turn: valid UTF-8 text, or one invalid sequence's bytes.
fn utf8_pieces(bytes: &[u8]) -> impl Iterator<Item = Result<&str, &[u8]>> {
    let mut rest = bytes;
    let mut invalid: &[u8] = &[];
    std::iter::from_fn(move || {
        if !invalid.is_empty() {
            return Some(Err(std::mem::take(&mut invalid)));
        }
        if rest.is_empty() {
            return None;
        }
        let (valid, bad_len) = match std::str::from_utf8(rest) {
            Ok(s) => (s, 0),
            Err(e) => {
                let (v, tail) = rest.split_at(e.valid_up_to());
                // The first `valid_up_to` bytes are valid UTF-8 (the error says so).
                (std::str::from_utf8(v).unwrap_or_default(), e.error_len().unwrap_or(tail.len()))
            }
        };
        let bad = &rest[valid.len()..valid.len() + bad_len];
        rest = &rest[valid.len() + bad_len..];
        if valid.is_empty() {
            Some(Err(bad))
        } else {
            invalid = bad;
            Some(Ok(valid))
        }
    })
}

/// `bytes` hold at least as many valid multi-byte UTF-8 characters as invalid sequences.
/// One pass over the bytes.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for piece in utf8_pieces(bytes) {
        match piece {
            Ok(text) => multibyte += text.chars().filter(|c| !c.is_ascii()).count(),
            Err(_) => invalid += 1,
        }
    }
    multibyte >= invalid
}

/// `bytes` as UTF-8 where valid, and each byte of an invalid sequence as Windows-1252 (what
/// browsers read Latin-1 as). Linear in the bytes.
fn utf8_with_stray_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    for piece in utf8_pieces(bytes) {
        match piece {
            Ok(text) => out.push_str(text),
            Err(bad) => out.push_str(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(bad).0),
        }
    }
    out
}

/// Decodes an HTML page: BOM, `<meta charset>`, HTTP charset, then detection.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let declared = html_meta_declared(bytes).or_else(|| content_type.and_then(charset_from_content_type));
    decode_with(bytes, declared)
}

/// Decodes a feed document: BOM, XML declaration, HTTP charset, then detection. The result is
/// UTF-8 with any XML declaration rewritten to say so, ready for feed-rs (which would otherwise
/// re-decode it by the original declaration, and panics on some of them).
pub fn decode_feed(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let declared = xml_declared(bytes).or_else(|| content_type.and_then(charset_from_content_type));
    let mut decoded = decode_with(bytes, declared);
    let trimmed = decoded.text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.starts_with("<?xml")
        && let Some(end) = trimmed.find("?>")
    {
        let rest = trimmed[end + 2..].to_owned();
        decoded.text = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{rest}");
    }
    decoded
}

/// A page saved to disk (`.html`, or gzipped `.html.gz`), decoded as it would be if fetched
/// without a `Content-Type`: what `refeed extract FILE`, the batch mode and the benches read.
pub fn read_page_file(path: &std::path::Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)?;
        out
    } else {
        bytes
    };
    Ok(decode_html(&bytes, None).text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_meta_and_detection() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>Caf\xe9</body></html>";
        assert!(decode_html(latin1, None).text.contains("Café"));
        let meta_equiv = b"<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'><p>\x93q\x94</p>";
        assert!(decode_html(meta_equiv, Some("text/html; charset=utf-8")).text.contains("\u{201c}q\u{201d}"));
        let plain = b"<p>Gr\xfc\xdfe aus M\xfcnchen und K\xf6ln, sch\xf6ne Gr\xfc\xdfe</p>";
        assert!(decode_html(plain, Some("text/html; charset=\"ISO-8859-1\"")).text.contains("Grüße"));
        assert!(decode_html(plain, None).text.contains("Grüße"));
        let utf8 = "<p>Grüße</p>".as_bytes();
        assert_eq!(decode_html(utf8, None).text, "<p>Grüße</p>");
    }

    #[test]
    fn utf8_with_a_few_stray_latin1_bytes_keeps_both() {
        // Declared UTF-8, written in UTF-8, with one word pasted in as Latin-1.
        let mixed = b"<meta charset=\"utf-8\"><p>So sch\xc3\xb6n, gr\xc3\xbc\xc3\x9fe aus K\xf6ln</p>";
        let d = decode_html(mixed, None);
        assert_eq!(d.text, "<meta charset=\"utf-8\"><p>So schön, grüße aus Köln</p>");
        assert_eq!((d.encoding, d.had_errors), (UTF_8, true));
        // Undeclared, the same.
        assert_eq!(decode_html(&mixed[22..], None).text, "<p>So schön, grüße aus Köln</p>");
        // A stray byte at the very end, and a truncated sequence.
        assert_eq!(decode_html(b"\xc3\xa9t\xc3\xa9 \xe9", None).text, "été é");
        assert_eq!(decode_html(b"\xc3\xa9t\xc3\xa9 \xe2\x82", None).text, "été â\u{201a}");
        // A page labelled UTF-8 with no UTF-8 in it is still read as what it is.
        let latin1 = b"<meta charset=\"utf-8\"><p>Gr\xfc\xdfe aus M\xfcnchen und K\xf6ln, sch\xf6ne Gr\xfc\xdfe</p>";
        assert!(decode_html(latin1, None).text.contains("Grüße aus München"));
    }

    #[test]
    fn stray_bytes_cost_time_in_proportion() {
        // Every other byte invalid: one pass to count, one to decode.
        let hostile: Vec<u8> = "é".bytes().chain([0xff]).cycle().take(3_000_000).collect();
        let d = decode_html(&hostile, None);
        assert_eq!(d.text.chars().filter(|&c| c == 'é').count(), 1_000_000);
        assert_eq!(d.text.chars().filter(|&c| c == 'ÿ').count(), 1_000_000);
    }

    #[test]
    fn feed_declaration_is_honoured_and_rewritten() {
        let feed =
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><title>Caf\xe9</title></channel></rss>";
        let d = decode_feed(feed, Some("application/xml; charset=utf-8"));
        assert_eq!(
            d.text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><title>Café</title></channel></rss>"
        );
        let mut utf16: Vec<u8> = vec![0xFE, 0xFF];
        for unit in "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss/>".encode_utf16() {
            utf16.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode_feed(&utf16, None).text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>");
    }
}
