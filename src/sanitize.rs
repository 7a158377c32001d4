//! The one HTML policy for everything refeed republishes.
//!
//! Article HTML from the extractor and content copied from origin feeds both pass through
//! [`clean_html`] as the last step before publishing: no scripts, no event handlers, no
//! `javascript:`/`data:` URLs, no styles, no frames, no forms.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use ammonia::{Builder, UrlRelative};
use url::Url;

fn policy() -> Builder<'static> {
    let tags: HashSet<&'static str> = [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "source",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "var",
        "wbr",
    ]
    .into_iter()
    .collect();
    let mut tag_attributes: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
    let mut allow = |tag: &'static str, attrs: &[&'static str]| {
        tag_attributes.insert(tag, attrs.iter().copied().collect());
    };
    allow("a", &["href", "hreflang"]);
    allow("img", &["src", "srcset", "sizes", "alt", "width", "height"]);
    allow("source", &["srcset", "sizes", "type", "media"]);
    allow("td", &["colspan", "rowspan"]);
    allow("th", &["colspan", "rowspan", "scope"]);
    allow("time", &["datetime"]);
    allow("ol", &["start", "reversed"]);
    allow("blockquote", &["cite"]);
    allow("q", &["cite"]);
    allow("del", &["cite", "datetime"]);
    allow("ins", &["cite", "datetime"]);
    let mut b = Builder::default();
    // ammonia checks URL schemes in href and src but not in srcset, a list of URLs: filter it
    // here, making each candidate absolute against the current base.
    b.attribute_filter(|_element, attribute, value| {
        if attribute != "srcset" {
            return Some(value.into());
        }
        let kept = BASE.with(|base| filter_srcset(value, base.borrow().as_ref()));
        (!kept.is_empty()).then(|| kept.into())
    });
    b.tags(tags)
        .tag_attributes(tag_attributes)
        .generic_attributes(["title", "lang", "dir"].into_iter().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    b
}

thread_local! {
    /// The base URL of the document being cleaned, for the srcset filter.
    static BASE: RefCell<Option<Url>> = const { RefCell::new(None) };
}

/// Keeps the http(s) candidates of a `srcset`, made absolute.
fn filter_srcset(value: &str, base: Option<&Url>) -> String {
    value
        .split(',')
        .filter_map(|candidate| {
            let mut parts = candidate.split_whitespace();
            let raw = parts.next()?;
            let url = match base {
                Some(b) => b.join(raw).ok()?,
                None => Url::parse(raw).ok()?,
            };
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            let descriptor: Vec<&str> = parts.collect();
            Some(if descriptor.is_empty() { url.to_string() } else { format!("{url} {}", descriptor.join(" ")) })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sanitizes `html`. With a `base`, relative URLs are made absolute against it; without
/// one they are left as they are (they cannot carry a scheme, so they cannot be harmful).
pub fn clean_html(html: &str, base: Option<&Url>) -> String {
    thread_local! {
        // Building the policy allocates its tables; one per thread is reused, with only the
        // base URL changed per call.
        static POLICY: RefCell<Builder<'static>> = RefCell::new(policy());
        static NO_PRE: RefCell<Builder<'static>> = RefCell::new({
            let mut p = policy();
            p.rm_tags(["pre"]);
            p
        });
    }
    let html = limit_nesting(html, MAX_NESTING);
    BASE.with(|b| *b.borrow_mut() = base.cloned());
    let cleaned = POLICY.with(|p| {
        let mut policy = p.borrow_mut();
        match base {
            Some(base) => policy.url_relative(UrlRelative::RewriteWithBase(base.clone())),
            None => policy.url_relative(UrlRelative::PassThrough),
        };
        // ammonia is not idempotent on some broken markup (`<li><select><li>` cleans to
        // `<li><li></li></li>`, which cleans again to something else); it is stable after two
        // passes. Publishing a fixed point means a reader's own sanitizer changes nothing.
        let mut out = policy.clean(&html).to_string();
        // Unchanged input is a fixed point already (the extractor writes what ammonia would).
        if out == *html {
            return out;
        }
        for _ in 0..2 {
            let again = policy.clean(&out).to_string();
            if again == out {
                return out;
            }
            out = again;
        }
        // Still moving: html5ever grows newlines at the start of a <pre> that holds blocks,
        // pass after pass. Without <pre> the markup settles.
        NO_PRE.with(|p| {
            let mut p = p.borrow_mut();
            match base {
                Some(base) => p.url_relative(UrlRelative::RewriteWithBase(base.clone())),
                None => p.url_relative(UrlRelative::PassThrough),
            };
            let once = p.clean(&out).to_string();
            p.clean(&once).to_string()
        })
    });
    crate::feed::strip_forbidden_chars(&cleaned).into_owned()
}

/// Deeper than this, nesting is an attack: real pages stay under a few hundred levels, and
/// html5ever's tree building is quadratic in depth (100,000 nested `<div>`s: 19 s).
pub const MAX_NESTING: usize = 1000;

/// Drops start tags (and their end tags) that would nest deeper than `max_depth`, keeping all
/// text. A cheap scan that runs before any HTML parser sees the page; returns the input when
/// there is nothing to drop.
pub fn limit_nesting(html: &str, max_depth: usize) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        let rest = &bytes[start + 1..];
        if rest.starts_with(b"!--") {
            i = html[start + 4..].find("-->").map_or(bytes.len(), |e| start + 4 + e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = start + 1 + closing as usize;
        let name_len = bytes[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-').count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let end = tag_end(bytes, name_start + name_len);
        // Tag names are short: lowercase them on the stack (a long one is a custom element).
        let mut buf = [0u8; 16];
        let name = if name_len <= buf.len() {
            buf[..name_len].copy_from_slice(&bytes[name_start..name_start + name_len]);
            buf[..name_len].make_ascii_lowercase();
            std::str::from_utf8(&buf[..name_len]).unwrap_or("x-long")
        } else {
            "x-long"
        };
        if closing {
            if dropped > 0 && nests(name) {
                dropped -= 1;
                cuts.push((start, end));
            } else if nests(name) {
                depth = depth.saturating_sub(1);
            }
            i = end;
            continue;
        }
        if matches!(name, "script" | "style" | "textarea" | "title" | "xmp" | "noscript" | "template") {
            // Raw text: skip to its end tag without reading the inside as markup.
            i = find_end_tag(html, name, end).unwrap_or(bytes.len());
            continue;
        }
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        if nests(name) && !self_closing {
            if depth >= max_depth {
                dropped += 1;
                cuts.push((start, end));
            } else {
                depth += 1;
            }
        }
        i = end;
    }
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    for (s, e) in cuts {
        out.push_str(&html[at..s]);
        at = e;
    }
    out.push_str(&html[at..]);
    Cow::Owned(out)
}

/// Start of the `</name` that ends a raw-text element, case-insensitively.
fn find_end_tag(html: &str, name: &str, from: usize) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(off) = html.get(at..)?.find("</") {
        let p = at + off;
        let tail = &bytes[p + 2..];
        if tail.len() >= name.len() && tail[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            return Some(p);
        }
        at = p + 2;
    }
    None
}

/// Elements that open a level: not void elements, and not those whose end tag is optional
/// and implied by the next sibling (`<p>`, `<li>`, `<td>`), which real pages leave open.
fn nests(name: &str) -> bool {
    !matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "p"
            | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "rb"
            | "rt"
            | "rp"
            | "html"
            | "head"
            | "body"
    )
}

/// Index just past the `>` closing a tag, quotes respected.
fn tag_end(bytes: &[u8], mut i: usize) -> usize {
    let mut quote = 0u8;
    while i < bytes.len() {
        let c = bytes[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'>' {
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_inside_pre_still_give_a_fixed_point() {
        let base = Url::parse("https://example.com/").unwrap();
        let dirty = "<pre>\n<p>one</p>\n<p>two</p>\n\tcode</pre><p>after</p>";
        let once = clean_html(dirty, Some(&base));
        assert_eq!(clean_html(&once, Some(&base)), once);
    }

    #[test]
    fn nesting_is_capped_and_text_kept() {
        let deep = "<div>".repeat(5) + "<p>text</p>" + &"</div>".repeat(5);
        assert_eq!(limit_nesting(&deep, 3), "<div><div><div><p>text</p></div></div></div>");
        let normal = "<div class='a>b'><p>one<p>two<ul><li>x<li>y</ul><script>if (a<b) {}</script></div>";
        assert!(matches!(limit_nesting(normal, 3), Cow::Borrowed(_)));
        let bomb = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        let started = std::time::Instant::now();
        let limited = limit_nesting(&bomb, MAX_NESTING);
        assert!(limited.len() < 20_000 && limited.contains("deep"));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn dangerous_markup_is_removed() {
        let base = Url::parse("https://example.com/a/").unwrap();
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">j</a>
            <a href="b.html">rel</a><img src="data:image/png;base64,AAAA" onerror="x"><iframe src="https://e.vil"></iframe>
            <svg><script>alert(2)</script></svg><style>p{}</style></p>"#;
        let clean = clean_html(dirty, Some(&base));
        assert_eq!(
            clean,
            "<p>Hi<a rel=\"noopener noreferrer\">j</a>\n            <a href=\"https://example.com/a/b.html\" rel=\"noopener noreferrer\">rel</a><img>\n            </p>"
        );
    }
}
