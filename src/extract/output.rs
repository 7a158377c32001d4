//! Serializes the kept part of a page as HTML and as plain text.
//!
//! Both walk the same nodes with the same skips, so the feed's HTML and the text output never
//! disagree about what the article is.

use url::Url;

use super::Captions;
use super::boilerplate::is_block;
use super::dom::{Dom, NodeData, attr_of};
use crate::html::Deadline;

/// Elements we emit as themselves; everything else is unwrapped (its children kept).
fn kept_tag(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "code"
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
            | "picture"
            | "source"
            | "img"
            | "a"
            | "em"
            | "strong"
            | "b"
            | "i"
            | "u"
            | "s"
            | "q"
            | "cite"
            | "abbr"
            | "sub"
            | "sup"
            | "mark"
            | "small"
            | "time"
            | "del"
            | "ins"
            | "kbd"
            | "samp"
            | "var"
            | "hr"
            | "br"
            | "wbr"
    )
}

fn is_void(tag: &str) -> bool {
    matches!(tag, "img" | "br" | "hr" | "source" | "wbr")
}

/// Attributes worth keeping per tag; URL attributes are resolved separately.
fn kept_attr(tag: &str, attr: &str) -> bool {
    matches!(
        (tag, attr),
        (_, "title" | "lang" | "dir")
            | ("img", "alt" | "width" | "height" | "sizes")
            | ("source", "type" | "media" | "sizes")
            | ("td" | "th", "colspan" | "rowspan")
            | ("time", "datetime")
            | ("ol", "start" | "reversed")
    )
}

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
fn image_src(e: &scraper::node::Element) -> Option<&str> {
    let src = attr_of(e, "src").filter(|s| !is_placeholder_src(s));
    let lazy = ["data-src", "data-lazy-src", "data-original", "data-url", "data-lazy", "data-hi-res-src"]
        .iter()
        .find_map(|a| attr_of(e, a))
        .filter(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"));
    lazy.or(src)
}

fn image_srcset(e: &scraper::node::Element) -> Option<&str> {
    attr_of(e, "data-srcset")
        .or_else(|| attr_of(e, "data-lazy-srcset"))
        .or_else(|| attr_of(e, "srcset"))
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

fn has_block_child(dom: &Dom, i: usize, removed: &[bool]) -> bool {
    dom.children(i).any(|c| !removed[c] && is_block(dom.tag(c)))
}

/// True when a subtree has something to show: text or an image.
fn has_content(dom: &Dom, i: usize, removed: &[bool]) -> bool {
    let mut j = i;
    while j < dom.nodes[i].end {
        if removed[j] {
            j = dom.nodes[j].end;
            continue;
        }
        match dom.nodes[j].data {
            NodeData::Text(t) if !t.trim().is_empty() => return true,
            NodeData::Element(e) if matches!(e.name(), "img" | "picture" | "video" | "hr" | "noscript") => return true,
            NodeData::Element(e) if matches!(e.name(), "script" | "style" | "template") => {
                j = dom.nodes[j].end;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    false
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
    if let Some(alt) = attr_of(img.value(), "alt") {
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
    let mut out = String::with_capacity(8 * 1024);
    // Open elements as (end index, closing tag or "" when unwrapped).
    let mut open: Vec<(usize, &str)> = Vec::new();
    let mut last_img_real = false;
    for &root in roots {
        let mut j = root;
        let end = dom.nodes[root].end;
        while j < end {
            while let Some(&(e, tag)) = open.last() {
                if e > j {
                    break;
                }
                open.pop();
                if !tag.is_empty() {
                    out.push_str("</");
                    out.push_str(tag);
                    out.push('>');
                }
            }
            if removed[j] {
                j = dom.nodes[j].end;
                continue;
            }
            match dom.nodes[j].data {
                NodeData::Text(t) => {
                    if !t.trim().is_empty() {
                        last_img_real = false;
                    }
                    if open.iter().any(|(_, tag)| *tag == "pre") {
                        escape_into(&mut out, t, false);
                    } else {
                        // Collapse layout whitespace; the reader's renderer would anyway.
                        let mut prev_space = out.ends_with([' ', '\n', '>']);
                        for c in t.chars() {
                            if c.is_whitespace() && c != '\u{a0}' {
                                if !prev_space {
                                    out.push(' ');
                                    prev_space = true;
                                }
                            } else {
                                escape_into(&mut out, c.encode_utf8(&mut [0; 4]), false);
                                prev_space = false;
                            }
                        }
                    }
                    j += 1;
                }
                NodeData::Other => j += 1,
                NodeData::Element(e) => {
                    let tag = e.name();
                    let node_end = dom.nodes[j].end;
                    if matches!(tag, "script" | "style" | "template" | "head")
                        || (tag == "figcaption" && captions == Captions::Drop)
                    {
                        j = node_end;
                        continue;
                    }
                    if tag == "noscript" {
                        if !last_img_real
                            && let Some(img) = dom
                                .text(j + 1)
                                .filter(|_| j + 1 < node_end)
                                .and_then(|t| noscript_image(t, base, deadline))
                        {
                            out.push_str(&img);
                            last_img_real = true;
                        }
                        j = node_end;
                        continue;
                    }
                    if tag == "img" {
                        last_img_real = false;
                        let src = image_src(e).and_then(|s| resolve(base, s));
                        let tiny = attr_of(e, "width").is_some_and(|w| w.trim() == "1")
                            || attr_of(e, "height").is_some_and(|h| h.trim() == "1");
                        if let (Some(src), false) = (src, tiny) {
                            last_img_real = true;
                            out.push_str("<img src=\"");
                            escape_into(&mut out, &src, true);
                            out.push('"');
                            if let Some(srcset) = image_srcset(e).and_then(|s| resolve_srcset(base, s)) {
                                out.push_str(" srcset=\"");
                                escape_into(&mut out, &srcset, true);
                                out.push('"');
                            }
                            push_attrs(&mut out, e, tag);
                            out.push('>');
                        }
                        j = node_end;
                        continue;
                    }
                    if !matches!(tag, "picture" | "source" | "figure") {
                        last_img_real = false;
                    }
                    // Preformatted text holds phrasing only: blocks inside it are unwrapped.
                    let in_pre = open.iter().any(|(_, t)| *t == "pre");
                    let emit = if in_pre && is_block(tag) {
                        None
                    } else if kept_tag(tag) {
                        // Empty paragraphs and wrappers are noise in a reader.
                        if is_void(tag) || has_content(dom, j, removed) { Some(tag) } else { None }
                    } else if matches!(tag, "div" | "section" | "article" | "main" | "center" | "header" | "font")
                        && !has_block_child(dom, j, removed)
                        && has_content(dom, j, removed)
                    {
                        // A div of inline content is a paragraph.
                        Some("p")
                    } else {
                        None
                    };
                    match emit {
                        Some(out_tag) => {
                            out.push('<');
                            out.push_str(out_tag);
                            if out_tag == "a"
                                && let Some(href) = attr_of(e, "href").and_then(|h| resolve(base, h))
                            {
                                out.push_str(" href=\"");
                                escape_into(&mut out, &href, true);
                                out.push('"');
                            }
                            if out_tag == "source"
                                && let Some(srcset) = image_srcset(e).and_then(|s| resolve_srcset(base, s))
                            {
                                out.push_str(" srcset=\"");
                                escape_into(&mut out, &srcset, true);
                                out.push('"');
                            }
                            if matches!(out_tag, "blockquote" | "q")
                                && let Some(cite) = attr_of(e, "cite").and_then(|h| resolve(base, h))
                            {
                                out.push_str(" cite=\"");
                                escape_into(&mut out, &cite, true);
                                out.push('"');
                            }
                            push_attrs(&mut out, e, out_tag);
                            if out_tag == "a" {
                                // What the sanitizer adds to every link; written here so that
                                // clean output passes it unchanged.
                                out.push_str(" rel=\"noopener noreferrer\"");
                            }
                            out.push('>');
                            if is_void(out_tag) {
                                j = node_end;
                            } else {
                                open.push((node_end, out_tag));
                                j += 1;
                            }
                        }
                        None => {
                            if matches!(tag, "div" | "section" | "article" | "main" | "header") && !out.ends_with('\n')
                            {
                                out.push('\n');
                            }
                            open.push((node_end, ""));
                            j += 1;
                        }
                    }
                }
            }
        }
        while let Some((_, tag)) = open.pop() {
            if !tag.is_empty() {
                out.push_str("</");
                out.push_str(tag);
                out.push('>');
            }
        }
        out.push('\n');
    }
    out.trim().to_owned()
}

fn push_attrs(out: &mut String, e: &scraper::node::Element, tag: &str) {
    for (name, value) in e.attrs() {
        if kept_attr(tag, name) {
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
            if (wrote || starts_with_space) && !self.at_line_start() && !self.out.ends_with([' ', '\t']) {
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
    let mut w = TextWriter { out: String::new(), pending: 0 };
    let mut open: Vec<(usize, &str)> = Vec::new();
    for &root in roots {
        w.request(2);
        let mut j = root;
        let end = dom.nodes[root].end;
        while j < end {
            while let Some(&(e, tag)) = open.last() {
                if e > j {
                    break;
                }
                open.pop();
                w.request(break_for(tag));
            }
            if removed[j] {
                j = dom.nodes[j].end;
                continue;
            }
            match dom.nodes[j].data {
                NodeData::Text(t) => {
                    if open.iter().any(|(_, tag)| *tag == "pre") {
                        w.flush_break();
                        w.out.push_str(t.trim_matches('\n'));
                    } else {
                        w.push_inline(t);
                    }
                    j += 1;
                }
                NodeData::Other => j += 1,
                NodeData::Element(e) => {
                    let tag = e.name();
                    if matches!(tag, "script" | "style" | "template" | "noscript" | "head") {
                        j = dom.nodes[j].end;
                        continue;
                    }
                    if tag == "br" {
                        // Two line breaks in a row are how old pages make paragraphs.
                        w.request(if w.pending >= 1 { 2 } else { 1 });
                        j += 1;
                        continue;
                    } else if matches!(tag, "td" | "th") && !w.at_line_start() && w.pending == 0 {
                        w.out.push('\t');
                    }
                    w.request(break_for(tag));
                    open.push((dom.nodes[j].end, tag));
                    j += 1;
                }
            }
        }
        while let Some((_, tag)) = open.pop() {
            w.request(break_for(tag));
        }
    }
    tidy_text(&w.out)
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
        let mut j = root;
        while j < dom.nodes[root].end {
            if removed[j] {
                j = dom.nodes[j].end;
                continue;
            }
            match dom.nodes[j].data {
                NodeData::Text(t) => n += t.chars().filter(|c| !c.is_whitespace()).count() as u32,
                NodeData::Element(e) if matches!(e.name(), "script" | "style" | "template" | "noscript") => {
                    j = dom.nodes[j].end;
                    continue;
                }
                _ => {}
            }
            j += 1;
        }
    }
    n
}
