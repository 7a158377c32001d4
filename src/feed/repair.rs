//! Reading feeds that are not well-formed XML, as feed readers do: fix what is commonly broken
//! (bare `&`, HTML entities XML does not know), and when that is not enough, read each entry
//! on its own and keep those that parse.

use std::borrow::Cow;

/// HTML entities seen in feeds, which XML does not define.
const HTML_ENTITIES: &[(&str, char)] = &[
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("bull", '•'),
    ("middot", '·'),
    ("euro", '€'),
    ("pound", '£'),
    ("deg", '°'),
    ("eacute", 'é'),
    ("egrave", 'è'),
    ("ecirc", 'ê'),
    ("agrave", 'à'),
    ("aacute", 'á'),
    ("acirc", 'â'),
    ("ccedil", 'ç'),
    ("iacute", 'í'),
    ("oacute", 'ó'),
    ("ocirc", 'ô'),
    ("uacute", 'ú'),
    ("ntilde", 'ñ'),
    ("auml", 'ä'),
    ("ouml", 'ö'),
    ("uuml", 'ü'),
    ("Auml", 'Ä'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("szlig", 'ß'),
];

/// Escapes bare `&` and turns HTML entities into characters. Returns the input unchanged
/// when there is nothing to fix.
pub fn repair(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let name_len = after.find(';').filter(|&n| n > 0 && n <= 10).unwrap_or(0);
        let name = &after[..name_len];
        let numeric = name.strip_prefix('#').is_some_and(|n| {
            n.strip_prefix(['x', 'X'])
                .map_or(n.chars().all(|c| c.is_ascii_digit()), |h| h.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if name_len > 0 && (numeric || matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")) {
            out.push('&');
            out.push_str(name);
            out.push(';');
            rest = &after[name_len + 1..];
        } else if let Some((_, c)) = HTML_ENTITIES.iter().find(|(n, _)| name_len > 0 && *n == name) {
            out.push_str(&format!("&#{};", *c as u32));
            rest = &after[name_len + 1..];
        } else {
            out.push_str("&amp;");
            rest = after;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A broken feed cut into its head and its entries, each of which can be tried alone.
pub struct Pieces {
    pub head: String,
    pub entries: Vec<String>,
    pub tail: String,
}

/// Splits an RSS or Atom document at its `<item>`/`<entry>` elements.
pub fn split_entries(text: &str) -> Option<Pieces> {
    let (open, close) = if text.contains("<item") { ("<item", "</item>") } else { ("<entry", "</entry>") };
    let first = find_tag(text, open, 0)?;
    let head = text[..first].to_owned();
    let mut entries = Vec::new();
    let mut at = first;
    loop {
        let next = find_tag(text, open, at + open.len());
        let end = text[at..].find(close).map(|e| at + e + close.len());
        // An entry runs to its closing tag, or to the next entry if it never closes.
        let stop = match (end, next) {
            (Some(e), Some(n)) if e <= n => e,
            (_, Some(n)) => n,
            (Some(e), None) => e,
            (None, None) => text.len(),
        };
        entries.push(text[at..stop].to_owned());
        match next {
            Some(n) => at = n,
            None => {
                let tail = text[stop..].to_owned();
                return Some(Pieces { head, entries, tail });
            }
        }
    }
}

/// The next `<item` or `<entry` that is a tag, not `<itemscope` or `<entryway`.
fn find_tag(text: &str, open: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(pos) = text.get(at..)?.find(open) {
        let i = at + pos;
        if text[i + open.len()..].starts_with(['>', ' ', '\t', '\r', '\n', '/']) {
            return Some(i);
        }
        at = i + open.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_and_html_entities_are_fixed() {
        assert_eq!(
            repair("Fish & Chips &nbsp;&amp; &#233; &#xE9; &bogus; &"),
            "Fish &amp; Chips &#160;&amp; &#233; &#xE9; &amp;bogus; &amp;"
        );
        assert!(matches!(repair("no entities"), Cow::Borrowed(_)));
    }

    #[test]
    fn entries_are_split_even_when_one_never_closes() {
        let p = split_entries("<rss><channel><title>t</title><item><title>a</title></item><item><title>b<item><title>c</title></item></channel></rss>").unwrap();
        assert_eq!(p.head, "<rss><channel><title>t</title>");
        assert_eq!(p.entries, vec!["<item><title>a</title></item>", "<item><title>b", "<item><title>c</title></item>"]);
        assert_eq!(p.tail, "</channel></rss>");
    }
}
