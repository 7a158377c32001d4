//! The one HTML policy for everything refeed republishes.
//!
//! Article HTML from the extractor and content copied from origin feeds both pass through
//! [`clean_html`] as the last step before publishing: no scripts, no event handlers, no
//! `javascript:`/`data:` URLs, no styles, no frames, no forms.

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
    b.tags(tags)
        .tag_attributes(tag_attributes)
        .generic_attributes(["title", "lang", "dir"].into_iter().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    b
}

/// Sanitizes `html`. With a `base`, relative URLs are made absolute against it; without
/// one they are left as they are (they cannot carry a scheme, so they cannot be harmful).
pub fn clean_html(html: &str, base: Option<&Url>) -> String {
    thread_local! {
        // Building the policy allocates its tables; one per thread is reused, with only the
        // base URL changed per call.
        static POLICY: RefCell<Builder<'static>> = RefCell::new(policy());
    }
    let cleaned = POLICY.with(|p| {
        let mut policy = p.borrow_mut();
        match base {
            Some(base) => policy.url_relative(UrlRelative::RewriteWithBase(base.clone())),
            None => policy.url_relative(UrlRelative::PassThrough),
        };
        policy.clean(html).to_string()
    });
    crate::feed::strip_forbidden_chars(&cleaned).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
