//! The HTML vocabulary refeed speaks: which elements it publishes and with which attributes,
//! which are blocks, headings and raw text. The extractor's writer and the sanitizer's policy
//! both read these lists, so what one writes the other lets through, by construction.

/// Elements the extractor writes as themselves, with the attributes each may keep (besides
/// [`GLOBAL_ATTRIBUTES`]). URL attributes ([`is_url_attribute`]) are listed too: the writer
/// resolves them against the page, the sanitizer checks their schemes.
pub const ARTICLE_ELEMENTS: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("ul", &[]),
    ("ol", &["start", "reversed"]),
    ("li", &[]),
    ("dl", &[]),
    ("dt", &[]),
    ("dd", &[]),
    ("blockquote", &["cite"]),
    ("pre", &[]),
    ("code", &[]),
    ("table", &[]),
    ("thead", &[]),
    ("tbody", &[]),
    ("tfoot", &[]),
    ("tr", &[]),
    ("td", &["colspan", "rowspan"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("caption", &[]),
    ("figure", &[]),
    ("figcaption", &[]),
    ("picture", &[]),
    ("source", &["srcset", "sizes", "type", "media"]),
    ("img", &["src", "srcset", "sizes", "alt", "width", "height"]),
    ("a", &["href", "hreflang"]),
    ("em", &[]),
    ("strong", &[]),
    ("b", &[]),
    ("i", &[]),
    ("u", &[]),
    ("s", &[]),
    ("q", &["cite"]),
    ("cite", &[]),
    ("abbr", &[]),
    ("sub", &[]),
    ("sup", &[]),
    ("mark", &[]),
    ("small", &[]),
    ("time", &["datetime"]),
    ("del", &["cite", "datetime"]),
    ("ins", &["cite", "datetime"]),
    ("kbd", &[]),
    ("samp", &[]),
    ("var", &[]),
    ("hr", &[]),
    ("br", &[]),
    ("wbr", &[]),
];

/// Elements the extractor never writes (it unwraps them, or turns a `div` of inline content
/// into a `p`) but content copied from a feed may hold, and that are harmless.
pub const FEED_ONLY_ELEMENTS: &[&str] = &["div", "span", "details", "summary", "dfn"];

/// Attributes any published element may keep.
pub const GLOBAL_ATTRIBUTES: &[&str] = &["title", "lang", "dir"];

/// The attributes that hold URLs.
pub fn is_url_attribute(name: &str) -> bool {
    matches!(name, "href" | "src" | "srcset" | "cite")
}

/// The attributes an article element may keep, when the extractor writes it as itself.
pub fn article_attributes(tag: &str) -> Option<&'static [&'static str]> {
    ARTICLE_ELEMENTS.iter().find(|(name, _)| *name == tag).map(|(_, attrs)| *attrs)
}

/// True when the extractor writes `tag` as itself.
pub fn is_article_element(tag: &str) -> bool {
    article_attributes(tag).is_some()
}

/// True when `tag` may keep the attribute `name` in published HTML (URL attributes included).
pub fn keeps_attribute(tag: &str, name: &str) -> bool {
    GLOBAL_ATTRIBUTES.contains(&name) || article_attributes(tag).is_some_and(|attrs| attrs.contains(&name))
}

/// Elements without content or end tag.
pub fn is_void(tag: &str) -> bool {
    matches!(tag, "img" | "br" | "hr" | "source" | "wbr")
}

/// Elements whose content is never text a reader sees: scripts, styles, templates, the
/// document head, and `noscript` (parsed with scripting on, its content is raw markup; a
/// lazy loader's fallback image is read from it on purpose, never its text).
pub fn is_raw_text(tag: &str) -> bool {
    matches!(tag, "script" | "style" | "template" | "noscript" | "head")
}

pub fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Block-level elements (they break paragraphs in text output and end an inline run).
pub fn is_block(tag: &str) -> bool {
    is_heading(tag)
        || matches!(
            tag,
            "p" | "div"
                | "section"
                | "article"
                | "main"
                | "ul"
                | "ol"
                | "li"
                | "dl"
                | "dt"
                | "dd"
                | "blockquote"
                | "pre"
                | "table"
                | "thead"
                | "tbody"
                | "tfoot"
                | "tr"
                | "td"
                | "th"
                | "caption"
                | "figure"
                | "figcaption"
                | "hr"
                | "header"
                | "footer"
                | "aside"
                | "nav"
                | "form"
                | "address"
                | "details"
                | "summary"
                | "center"
                | "fieldset"
                | "picture"
                | "body"
                | "html"
        )
}

/// The elements feedparser accepts in text that "looks like HTML" (its sanitizer's list):
/// text whose tags are all of these is read as HTML, other text as plain text.
const FEEDPARSER_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "event-source",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "m",
    "map",
    "menu",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "noscript",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "sound",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

pub fn is_acceptable_element(name: &str) -> bool {
    FEEDPARSER_ELEMENTS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_article_element_is_known_once() {
        let mut names: Vec<&str> =
            ARTICLE_ELEMENTS.iter().map(|(n, _)| *n).chain(FEED_ONLY_ELEMENTS.iter().copied()).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "an element listed twice");
        for (tag, attrs) in ARTICLE_ELEMENTS {
            for a in *attrs {
                assert!(!a.starts_with("on") && *a != "style", "{tag} {a}");
            }
        }
        assert!(keeps_attribute("th", "scope") && keeps_attribute("p", "lang") && !keeps_attribute("p", "style"));
    }
}
