//! The one HTML policy for everything refeed republishes.
//!
//! Article HTML from the extractor and content copied from origin feeds both pass through
//! [`clean_html`] as the last step before publishing: no scripts, no event handlers, no
//! `javascript:`/`data:` URLs, no styles, no frames, no forms.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ammonia::{Builder, UrlRelative};
use url::Url;

use crate::html::Deadline;
use crate::tags;

/// CPU time the sanitizer may spend on one piece of HTML (an article is cleaned in a few
/// milliseconds; the budget only matters for hostile markup, which the parser budget stops
/// first in all but the tokenizer's worst cases).
const SANITIZE_CPU_LIMIT: Duration = Duration::from_secs(1);

/// The text of markup the parser refused, escaped, as one paragraph.
fn text_only(html: &str) -> String {
    let text = crate::html::strip_tags(html);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return String::new();
    }
    let text = strip_forbidden_chars(&text).into_owned();
    format!("<p>{}</p>", escape(&text))
}

/// The policy: the elements and attributes of [`crate::tags`], the vocabulary the extractor
/// writes with, plus the few harmless elements feed content may hold.
fn policy() -> Builder<'static> {
    let tags: HashSet<&'static str> =
        tags::ARTICLE_ELEMENTS.iter().map(|(name, _)| *name).chain(tags::FEED_ONLY_ELEMENTS.iter().copied()).collect();
    let tag_attributes: HashMap<&'static str, HashSet<&'static str>> = tags::ARTICLE_ELEMENTS
        .iter()
        .filter(|(_, attrs)| !attrs.is_empty())
        .map(|(name, attrs)| (*name, attrs.iter().copied().collect()))
        .collect();
    let mut b = Builder::default();
    // ammonia checks URL schemes in href and src but not in srcset, a list of URLs: filter it
    // here, making each candidate absolute against the current base.
    b.attribute_filter(|_element, attribute, value| match attribute {
        "srcset" => {
            let kept = BASE.with(|base| filter_srcset(value, base.borrow().as_ref()));
            (!kept.is_empty()).then(|| kept.into())
        }
        // ammonia checks the schemes of href and src, but `cite` is a URL too.
        "cite" => BASE.with(|base| safe_url(value, base.borrow().as_ref())).map(Into::into),
        _ => Some(value.into()),
    });
    b.tags(tags)
        .tag_attributes(tag_attributes)
        .generic_attributes(tags::GLOBAL_ATTRIBUTES.iter().copied().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    b
}

thread_local! {
    /// The base URL of the document being cleaned, for the srcset filter.
    static BASE: RefCell<Option<Url>> = const { RefCell::new(None) };
}

/// Removes characters XML 1.0 does not allow (C0 controls other than tab, LF, CR, and the
/// non-characters U+FFFE/U+FFFF), which would make our own output unreadable.
pub fn strip_forbidden_chars(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}';
    if s.chars().any(bad) { s.chars().filter(|&c| !bad(c)).collect::<String>().into() } else { s.into() }
}

/// `s` as HTML text: `&`, `<`, `>`, `"` and `'` as character references (safe in element
/// content and in quoted attribute values alike).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An http(s) URL, made absolute, or nothing.
fn safe_url(value: &str, base: Option<&Url>) -> Option<String> {
    let url = match base {
        Some(b) => b.join(value.trim()).ok()?,
        None => Url::parse(value.trim()).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
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
    // ammonia parses with html5ever, without a budget: the same parse is tried under one first
    // (see crate::html); markup over it is published as its text.
    if let Err(e) = crate::html::check_fragment(html, &Deadline::start(SANITIZE_CPU_LIMIT)) {
        tracing::debug!("sanitizer: {e}; publishing the text only");
        return text_only(html);
    }
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
        let mut out = policy.clean(html).to_string();
        // Unchanged input is a fixed point already (the extractor writes what ammonia would).
        if out == html {
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
    strip_forbidden_chars(&cleaned).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lets_through_every_element_and_attribute_the_writer_uses() {
        let policy = policy();
        let allowed_tags = policy.clone_tags();
        let allowed_attributes = policy.clone_tag_attributes();
        for (tag, attrs) in tags::ARTICLE_ELEMENTS {
            assert!(allowed_tags.contains(tag), "{tag}");
            for attr in *attrs {
                assert!(allowed_attributes.get(tag).is_some_and(|a| a.contains(attr)), "{tag} {attr}");
            }
        }
        // And nothing else: no element or attribute the vocabulary does not name.
        assert_eq!(allowed_tags.len(), tags::ARTICLE_ELEMENTS.len() + tags::FEED_ONLY_ELEMENTS.len());
        for (tag, attrs) in &allowed_attributes {
            for attr in attrs {
                assert!(tags::keeps_attribute(tag, attr), "{tag} {attr}");
            }
        }
        assert_eq!(policy.clone_generic_attributes().len(), tags::GLOBAL_ATTRIBUTES.len());
    }

    #[test]
    fn blocks_inside_pre_still_give_a_fixed_point() {
        let base = Url::parse("https://example.com/").unwrap();
        let dirty = "<pre>\n<p>one</p>\n<p>two</p>\n\tcode</pre><p>after</p>";
        let once = clean_html(dirty, Some(&base));
        assert_eq!(clean_html(&once, Some(&base)), once);
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

    #[test]
    fn cite_urls_are_checked_like_links() {
        let base = Url::parse("https://example.com/a/").unwrap();
        let dirty = r#"<blockquote cite="javascript:alert(1)">one</blockquote><q cite=" JaVaScRiPt:alert(1)">two</q><del cite="/why">three</del>"#;
        assert_eq!(
            clean_html(dirty, Some(&base)),
            "<blockquote>one</blockquote><q>two</q><del cite=\"https://example.com/why\">three</del>"
        );
    }

    #[test]
    fn markup_over_the_parser_budget_is_published_as_its_text() {
        let deep = "<div>".repeat(5000) + "deep & <b>down</b>";
        assert_eq!(clean_html(&deep, None), "<p>deep &amp; down</p>");
    }
}
