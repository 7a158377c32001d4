//! Serializes the kept part of a page as HTML and as plain text.
//!
//! Both walk the same nodes with the same skips, so the feed's HTML and the text output never
//! disagree about what the article is.

use html5ever::{LocalName, local_name};
use url::Url;

use super::Captions;
use super::dom::{Dom, Event, NodeData, Step, attr_of};
use crate::html::Deadline;
use crate::tags::{self, is_block};

/// Image placeholders that lazy loaders swap out: data URIs and 1x1 spacers.
fn is_placeholder_src(src: &str) -> bool {
    let s = src.trim().to_ascii_lowercase();
    s.is_empty()
        || s.starts_with("data:")
        || s.contains("blank.gif")
        || s.contains("spacer.gif")
        || s.contains("placeholder")
        || s.contains("lazy")
}

fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => match Url::parse(href) {
            Ok(u) => u,
            // Without a base a relative URL stays as it was.
            Err(_) => return Some(href.to_owned()),
        },
    };
    matches!(url.scheme(), "http" | "https" | "mailto").then(|| url.into())
}

fn resolve_srcset(base: Option<&Url>, srcset: &str) -> Option<String> {
    let parts: Vec<String> = srcset
        .split(',')
        .filter_map(|candidate| {
            let mut it = candidate.split_whitespace();
            let url = resolve(base, it.next()?)?;
            let descriptor: Vec<&str> = it.collect();
            Some(if descriptor.is_empty() { url } else { format!("{url} {}", descriptor.join(" ")) })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The real image URL of an `<img>`, looking past lazy-loading placeholders.
/// Lazy loaders' attributes for an image's URL, then for its srcset, most telling first. Not
/// in html5ever's static set: interned once (interning takes a process-wide lock), not per
/// image.
static LAZY_SRC: std::sync::LazyLock<[LocalName; 6]> = std::sync::LazyLock::new(|| {
    ["data-src", "data-lazy-src", "data-original", "data-url", "data-lazy", "data-hi-res-src"].map(LocalName::from)
});
static LAZY_SRCSET: std::sync::LazyLock<[LocalName; 2]> =
    std::sync::LazyLock::new(|| ["data-srcset", "data-lazy-srcset"].map(LocalName::from));

fn image_src(e: &scraper::node::Element) -> Option<&str> {
    let src = attr_of(e, &local_name!("src")).filter(|s| !is_placeholder_src(s));
    let lazy = LAZY_SRC
        .iter()
        .find_map(|a| attr_of(e, a))
        .filter(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"));
    lazy.or(src)
}

fn image_srcset(e: &scraper::node::Element) -> Option<&str> {
    LAZY_SRCSET
        .iter()
        .find_map(|a| attr_of(e, a))
        .or_else(|| attr_of(e, &local_name!("srcset")))
        .filter(|s| !s.trim().is_empty())
}

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            // Serialized as html5ever (and so ammonia) does, so that clean output passes the
            // sanitizer unchanged: `<` and `>` are escaped in text only.
            '<' if !attr => out.push_str("&lt;"),
            '>' if !attr => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            _ => out.push(c),
        }
    }
}

/// True when a subtree has something to show: text or an image.
fn has_content(dom: &Dom, i: usize, removed: &[bool]) -> bool {
    dom.walk(i, Some(removed), |event| match event {
        Event::Enter(j) => match dom.nodes[j].data {
            NodeData::Text(t) if !t.trim().is_empty() => Step::Stop,
            NodeData::Element(e) if matches!(e.name(), "img" | "picture" | "video" | "hr" | "noscript") => Step::Stop,
            _ => Step::Into,
        },
        Event::Leave(_) => Step::Into,
    })
}

/// The image inside a `<noscript>` (its content is raw text when scripting is on), used when
/// a lazy loader left only a placeholder outside it.
fn noscript_image(text: &str, base: Option<&Url>, deadline: &Deadline) -> Option<String> {
    if !text.contains("<img") {
        return None;
    }
    let frag = crate::html::parse_fragment(text, deadline).ok()?;
    let sel = scraper::Selector::parse("img").ok()?;
    let img = frag.select(&sel).next()?;
    let src = resolve(base, image_src(img.value())?)?;
    let mut out = String::from("<img src=\"");
    escape_into(&mut out, &src, true);
    out.push('"');
    if let Some(alt) = attr_of(img.value(), &local_name!("alt")) {
        out.push_str(" alt=\"");
        escape_into(&mut out, alt, true);
        out.push('"');
    }
    out.push('>');
    Some(out)
}

/// HTML of the kept nodes under `roots`.
pub fn to_html(
    dom: &Dom,
    roots: &[usize],
    removed: &[bool],
    base: Option<&Url>,
    captions: Captions,
    deadline: &Deadline,
) -> String {
    let mut w = HtmlWriter {
        dom,
        removed,
        base,
        captions,
        deadline,
        out: String::with_capacity(8 * 1024),
        open: Vec::new(),
        in_pre: 0,
        last_img_real: false,
    };
    for &root in roots {
        dom.walk(root, Some(removed), |event| match event {
            Event::Enter(j) => w.enter(j),
            Event::Leave(_) => {
                w.close();
                Step::Into
            }
        });
        w.out.push('\n');
    }
    w.out.trim().to_owned()
}

/// The state of [`to_html`]'s walk.
struct HtmlWriter<'w, 'd> {
    dom: &'w Dom<'d>,
    removed: &'w [bool],
    base: Option<&'w Url>,
    captions: Captions,
    deadline: &'w Deadline,
    out: String,
    /// The tag written for each element entered ("" when unwrapped), innermost last.
    open: Vec<&'d str>,
    /// How many of them are `<pre>`.
    in_pre: usize,
    /// The last thing written is a real image (a `<noscript>` fallback after it is a duplicate).
    last_img_real: bool,
}

impl<'d> HtmlWriter<'_, 'd> {
    fn enter(&mut self, j: usize) -> Step {
        match self.dom.nodes[j].data {
            NodeData::Text(t) => {
                self.text(t);
                Step::Into
            }
            NodeData::Other => Step::Into,
            NodeData::Element(e) => self.element(j, e),
        }
    }

    fn text(&mut self, t: &str) {
        if !t.trim().is_empty() {
            self.last_img_real = false;
        }
        if self.in_pre > 0 {
            escape_into(&mut self.out, t, false);
            return;
        }
        // Collapse layout whitespace; the reader's renderer would anyway. After a block's tag
        // a space is layout; after an inline one ("<a>Poland</a> and") it parts two words.
        let mut prev_space = self.out.ends_with([' ', '\n']) || self.out.ends_with('>') && !after_inline_tag(&self.out);
        for c in t.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !prev_space {
                    self.out.push(' ');
                    prev_space = true;
                }
            } else {
                escape_into(&mut self.out, c.encode_utf8(&mut [0; 4]), false);
                prev_space = false;
            }
        }
    }

    fn element(&mut self, j: usize, e: &'d scraper::node::Element) -> Step {
        let tag = e.name();
        if tags::is_raw_text(tag) && tag != "noscript" || (tag == "figcaption" && self.captions == Captions::Drop) {
            return Step::Over;
        }
        if tag == "noscript" {
            if !self.last_img_real
                && let Some(img) =
                    self.dom.first_child_text(j).and_then(|t| noscript_image(t, self.base, self.deadline))
            {
                self.out.push_str(&img);
                self.last_img_real = true;
            }
            return Step::Over;
        }
        if tag == "img" {
            self.img(e);
            return Step::Over;
        }
        if !matches!(tag, "picture" | "source" | "figure") {
            self.last_img_real = false;
        }
        match self.written_tag(j, tag) {
            Some(out_tag) => {
                self.start_tag(e, out_tag);
                if tags::is_void(out_tag) {
                    return Step::Over;
                }
                self.push(out_tag);
            }
            None => {
                if matches!(tag, "div" | "section" | "article" | "main" | "header") && !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
                self.push("");
            }
        }
        Step::Into
    }

    /// The tag an element is written as, or `None` to unwrap it (its children kept).
    fn written_tag(&self, j: usize, tag: &'d str) -> Option<&'d str> {
        let (dom, removed) = (self.dom, self.removed);
        if self.in_pre > 0 && is_block(tag) {
            // Preformatted text holds phrasing only: blocks inside it are unwrapped.
            None
        } else if tags::is_article_element(tag) {
            // Empty paragraphs and wrappers are noise in a reader.
            (tags::is_void(tag) || has_content(dom, j, removed)).then_some(tag)
        } else if matches!(tag, "div" | "section" | "article" | "main" | "center" | "header" | "font")
            && !dom.has_block_child(j, removed)
            && has_content(dom, j, removed)
        {
            // A div of inline content is a paragraph.
            Some("p")
        } else {
            None
        }
    }

    fn img(&mut self, e: &scraper::node::Element) {
        self.last_img_real = false;
        let src = image_src(e).and_then(|s| resolve(self.base, s));
        let tiny = attr_of(e, &local_name!("width")).is_some_and(|w| w.trim() == "1")
            || attr_of(e, &local_name!("height")).is_some_and(|h| h.trim() == "1");
        let (Some(src), false) = (src, tiny) else { return };
        self.last_img_real = true;
        self.out.push_str("<img");
        self.url_attr("src", &src);
        if let Some(srcset) = image_srcset(e).and_then(|s| resolve_srcset(self.base, s)) {
            self.url_attr("srcset", &srcset);
        }
        push_attrs(&mut self.out, e, "img");
        self.out.push('>');
    }

    fn start_tag(&mut self, e: &scraper::node::Element, out_tag: &str) {
        self.out.push('<');
        self.out.push_str(out_tag);
        let keeps = |name| tags::keeps_attribute(out_tag, name);
        if keeps("href")
            && let Some(href) = attr_of(e, &local_name!("href")).and_then(|h| resolve(self.base, h))
        {
            self.url_attr("href", &href);
        }
        if keeps("srcset")
            && let Some(srcset) = image_srcset(e).and_then(|s| resolve_srcset(self.base, s))
        {
            self.url_attr("srcset", &srcset);
        }
        if keeps("cite")
            && let Some(cite) = attr_of(e, &local_name!("cite")).and_then(|h| resolve(self.base, h))
        {
            self.url_attr("cite", &cite);
        }
        push_attrs(&mut self.out, e, out_tag);
        if out_tag == "a" {
            // What the sanitizer adds to every link; written here so that clean output
            // passes it unchanged.
            self.out.push_str(" rel=\"noopener noreferrer\"");
        }
        self.out.push('>');
    }

    fn url_attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value, true);
        self.out.push('"');
    }

    fn push(&mut self, tag: &'d str) {
        self.in_pre += usize::from(tag == "pre");
        self.open.push(tag);
    }

    /// Closes the innermost element entered.
    fn close(&mut self) {
        let Some(tag) = self.open.pop() else { return };
        self.in_pre -= usize::from(tag == "pre");
        if !tag.is_empty() {
            self.out.push_str("</");
            self.out.push_str(tag);
            self.out.push('>');
        }
    }
}

/// The attributes of `e` that `tag` keeps, but its URLs (written resolved, apart).
fn push_attrs(out: &mut String, e: &scraper::node::Element, tag: &str) {
    for (name, value) in e.attrs() {
        if tags::keeps_attribute(tag, name) && !tags::is_url_attribute(name) {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_into(out, value, true);
            out.push('"');
        }
    }
}

/// Paragraph break strength requested by an element: 2 = blank line, 1 = newline.
fn break_for(tag: &str) -> u8 {
    match tag {
        "td" | "th" => 0,
        "li" | "tr" | "dt" | "dd" | "br" | "thead" | "tbody" | "tfoot" => 1,
        _ if is_block(tag) => 2,
        _ => 0,
    }
}

struct TextWriter {
    out: String,
    pending: u8,
    /// A `<time>` just ended: a word written straight after it ("21:22Jane Doe", set
    /// apart on screen by style) gets a space.
    after_time: bool,
}

impl TextWriter {
    fn request(&mut self, level: u8) {
        self.pending = self.pending.max(level);
    }

    fn flush_break(&mut self) {
        if self.pending > 0 && !self.out.is_empty() {
            let trimmed = self.out.trim_end_matches([' ', '\t']).len();
            self.out.truncate(trimmed);
            let have = self.out.len() - self.out.trim_end_matches('\n').len();
            for _ in have..self.pending as usize {
                self.out.push('\n');
            }
        }
        self.pending = 0;
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn push_inline(&mut self, text: &str) {
        let words = text.split(|c: char| c.is_whitespace() && c != '\u{a0}').peekable();
        let starts_with_space = text.starts_with(|c: char| c.is_whitespace() && c != '\u{a0}');
        let ends_with_space = text.ends_with(|c: char| c.is_whitespace() && c != '\u{a0}');
        let mut wrote = false;
        for w in words {
            if w.is_empty() {
                continue;
            }
            self.flush_break();
            let glued = std::mem::take(&mut self.after_time) && w.starts_with(char::is_alphanumeric);
            if (wrote || starts_with_space || glued) && !self.at_line_start() && !self.out.ends_with([' ', '\t']) {
                self.out.push(' ');
            }
            // Soft hyphens are invisible hyphenation hints; in plain text they only break
            // words apart for search and copy.
            for c in w.chars() {
                match c {
                    '\u{a0}' => self.out.push(' '),
                    '\u{ad}' | '\u{200b}' => {}
                    c => self.out.push(c),
                }
            }
            wrote = true;
        }
        // A space at either edge separates this text from its inline neighbours.
        let space_only = !wrote && starts_with_space && !self.at_line_start() && self.pending == 0;
        if (wrote && ends_with_space) || (space_only && !self.out.ends_with(' ')) {
            self.out.push(' ');
        }
    }
}

/// Plain text of the kept nodes under `roots`.
pub fn to_text(dom: &Dom, roots: &[usize], removed: &[bool]) -> String {
    let mut w = TextWriter { out: String::new(), pending: 0, after_time: false };
    let mut in_pre = 0usize;
    for &root in roots {
        w.request(2);
        dom.walk(root, Some(removed), |event| {
            let j = match event {
                Event::Enter(j) => j,
                Event::Leave(j) => {
                    in_pre -= usize::from(dom.tag(j) == "pre");
                    w.after_time |= dom.tag(j) == "time";
                    w.request(break_for(dom.tag(j)));
                    return Step::Into;
                }
            };
            let tag = match dom.nodes[j].data {
                NodeData::Text(t) if in_pre > 0 => {
                    w.flush_break();
                    w.out.push_str(t.trim_matches('\n'));
                    return Step::Into;
                }
                NodeData::Text(t) => {
                    w.push_inline(t);
                    return Step::Into;
                }
                NodeData::Other => return Step::Into,
                NodeData::Element(e) => e.name(),
            };
            // Ruby readings sit above the text they gloss: in plain text they would split
            // every word in two.
            if tags::is_raw_text(tag) || matches!(tag, "rt" | "rp") {
                return Step::Over;
            }
            if tag == "br" {
                // Two line breaks in a row are how old pages make paragraphs.
                w.request(if w.pending >= 1 { 2 } else { 1 });
                return Step::Over;
            } else if matches!(tag, "td" | "th") && !w.at_line_start() && w.pending == 0 {
                w.out.push('\t');
            } else if tag == "p" && w.pending == 0 && ends_with_capital(&w.out) && opens_lowercase(dom, j, removed) {
                // A drop capital set before its paragraph (`<span>T</span><p>urkey`): one word.
                return Step::Into;
            }
            w.request(break_for(tag));
            in_pre += usize::from(tag == "pre");
            Step::Into
        });
    }
    nfc(tidy_text(&w.out))
}

/// The markup written so far ends with an inline element's tag (`</a>`, `<em>`, `<img …>`),
/// not a block's. Reads back at most [`MAX_TAG_LOOKBACK`] bytes: a longer tag (a long `title`
/// or `src`) counts as inline, and the space it keeps is harmless after a block.
fn after_inline_tag(out: &str) -> bool {
    let mut from = out.len().saturating_sub(MAX_TAG_LOOKBACK);
    while !out.is_char_boundary(from) {
        from += 1;
    }
    let Some(at) = out[from..].rfind('<').map(|at| from + at) else { return true };
    let name = out[at + 1..].trim_start_matches('/');
    let end = name.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(name.len());
    let name = &name[..end];
    !name.is_empty() && !tags::is_block(name) && !matches!(name, "br" | "hr" | "table" | "tr" | "td" | "th")
}

/// Bytes read back for the last tag's name.
const MAX_TAG_LOOKBACK: usize = 256;

/// The text written so far ends with a line of one or two letters, the first a capital: a
/// drop capital (or two) set apart from the rest of its word.
fn ends_with_capital(out: &str) -> bool {
    let line = out.rsplit('\n').next().unwrap_or("").trim();
    let mut chars = line.chars();
    chars.next().is_some_and(char::is_uppercase) && line.chars().count() <= 2 && chars.all(char::is_alphabetic)
}

/// Element `i`'s first visible character is a lowercase letter (the rest of a word). Reads up
/// to its first text.
fn opens_lowercase(dom: &Dom, i: usize, removed: &[bool]) -> bool {
    dom.subtree(i)
        .filter(|&j| !removed[j])
        .find_map(|j| dom.text(j).and_then(|t| t.trim_start().chars().next()))
        .is_some_and(char::is_lowercase)
}

/// `s` in Unicode normalization form C, the web's (W3C character model): a letter a page
/// spelled as base and mark ("য" + "়") reads, matches and searches like the composed one.
/// Most text is NFC already and is returned as it is after one quick check.
pub fn nfc(s: String) -> String {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => s,
        _ => s.nfc().collect(),
    }
}

/// Trims each line and removes empty runs: at most one blank line between paragraphs.
fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        // Only trailing space goes: the writer never starts a line with layout space, so
        // leading space is indentation from <pre>.
        let line = line.trim_end_matches([' ', '\t']);
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

/// Non-space characters of the kept text (cheap: no string is built).
pub fn text_len(dom: &Dom, roots: &[usize], removed: &[bool]) -> u32 {
    let mut n = 0u32;
    for &root in roots {
        dom.walk(root, Some(removed), |event| {
            if let Event::Enter(j) = event
                && let Some(t) = dom.text(j)
            {
                n += t.chars().filter(|c| !c.is_whitespace()).count() as u32;
            }
            Step::Into
        });
    }
    n
}
