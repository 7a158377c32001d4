//! A forgiving XML reader for feeds: what Python's feedparser reads, this reads.
//!
//! Feeds in the wild are often not well-formed: HTML entities without a DTD, bare `&`,
//! `&#X41;`, unclosed CDATA sections and `<item>`s, attributes without quotes, stray `<`. A
//! conforming XML parser rejects the whole document for any of these; this reader takes each
//! as a person reading the file would, so one bad element costs that element at most.
//!
//! Bounded by construction: one pass over the input with no backtracking (every scan moves
//! forward and never rescans), nesting capped at [`MAX_DEPTH`], entities never expanded from a
//! DTD (no XXE, no billion laughs), the CPU time checked every few thousand tokens, and each
//! item handed to the caller as soon as it closes and then dropped, so a feed of millions of
//! items never holds more than one in this tree.

use std::ops::Range;

use crate::html::{Deadline, HtmlError};

/// Deeper elements are read as if they were at this depth (real feeds nest a dozen levels;
/// the end-tag search walks the open elements, so depth multiplies its cost).
pub const MAX_DEPTH: usize = 128;

/// The namespaces refeed reads, whatever prefix a feed gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// No namespace, an unknown default namespace, or one of the RSS 2.0 namespaces.
    Plain,
    /// RSS 0.90 (`http://my.netscape.com/rdf/simple/0.9/`) and RSS 1.0 (`http://purl.org/rss/1.0/`).
    Rss1,
    Rdf,
    Atom,
    /// Atom 0.3 (`http://purl.org/atom/ns#`): Atom 1.0's vocabulary with a few older names.
    Atom03,
    Dc,
    DcTerms,
    Content,
    Itunes,
    Media,
    Xhtml,
    Xml,
    /// Anything else (a prefix we do not know is also read as this).
    Other,
}

impl Ns {
    fn of(uri: &str) -> Ns {
        let uri = uri.trim();
        let u = uri.trim_end_matches(['/', '#']).to_ascii_lowercase();
        let u = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://")).unwrap_or(&u);
        match u {
            "" | "backend.userland.com/rss2" | "backend.userland.com/rss" | "blogs.law.harvard.edu/tech/rss" => {
                Ns::Plain
            }
            "purl.org/rss/1.0" | "my.netscape.com/rdf/simple/0.9" => Ns::Rss1,
            "www.w3.org/1999/02/22-rdf-syntax-ns" => Ns::Rdf,
            "www.w3.org/2005/atom" => Ns::Atom,
            "purl.org/atom/ns" => Ns::Atom03,
            "purl.org/dc/elements/1.1" => Ns::Dc,
            "purl.org/dc/terms" => Ns::DcTerms,
            "purl.org/rss/1.0/modules/content" => Ns::Content,
            "www.itunes.com/dtds/podcast-1.0.dtd" | "www.itunes.com/dtds/podcast-1.0" => Ns::Itunes,
            "search.yahoo.com/mrss" | "video.search.yahoo.com/mrss" | "tools.search.yahoo.com/mrss" => Ns::Media,
            "www.w3.org/1999/xhtml" => Ns::Xhtml,
            "www.w3.org/xml/1998/namespace" => Ns::Xml,
            _ => Ns::Other,
        }
    }

    /// Atom 1.0 or 0.3, or an element with no namespace (Atom feeds without `xmlns` exist).
    pub fn atomish(self) -> bool {
        matches!(self, Ns::Atom | Ns::Atom03 | Ns::Plain)
    }

    /// The RSS family: RSS 0.9x/2.0 (no namespace) and RSS 0.90/1.0.
    pub fn rssish(self) -> bool {
        matches!(self, Ns::Plain | Ns::Rss1)
    }
}

/// One element of the tree.
#[derive(Debug, Clone)]
pub struct Element {
    pub ns: Ns,
    /// Local name, lowercased (feedparser reads names without case; CDF writes `<ITEM>`).
    pub name: String,
    /// `(namespace, lowercased local name, value)`, entities decoded.
    pub attrs: Vec<(Ns, String, String)>,
    /// Text directly inside (CDATA included), entities decoded.
    pub text: String,
    pub children: Vec<usize>,
    /// Where in `text` each child stands (text and children interleave in mixed content).
    pub child_at: Vec<usize>,
    pub parent: usize,
    /// The raw markup between the start and the end tag (for XHTML content).
    pub inner: Range<usize>,
}

impl Element {
    pub fn is(&self, ns: Ns, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The value of attribute `name` in no namespace (or any namespace when none matches).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, n, _)| *ns == Ns::Plain && n == name)
            .or_else(|| self.attrs.iter().find(|(_, n, _)| n == name))
            .map(|(_, _, v)| v.as_str())
    }

    pub fn attr_ns(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n_ns, n, _)| *n_ns == ns && n == name).map(|(_, _, v)| v.as_str())
    }
}

/// The tree of the document as read so far; index 0 is a virtual root.
#[derive(Debug)]
pub struct Tree<'a> {
    pub source: &'a str,
    pub nodes: Vec<Element>,
}

impl Tree<'_> {
    pub fn children(&self, i: usize) -> impl Iterator<Item = &Element> + '_ {
        self.nodes[i].children.iter().map(move |&c| &self.nodes[c])
    }

    pub fn child_indices(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes[i].children.iter().copied()
    }

    /// The first child of `i` named `name` in `ns`.
    pub fn child(&self, i: usize, ns: Ns, name: &str) -> Option<usize> {
        self.nodes[i].children.iter().copied().find(|&c| self.nodes[c].is(ns, name))
    }

    /// All text inside `i`, its descendants' included, in document order.
    pub fn deep_text(&self, i: usize) -> String {
        let mut out = String::new();
        // (element, next child, how much of its own text is written)
        let mut stack = vec![(i, 0usize, 0usize)];
        while let Some((node, next, written)) = stack.pop() {
            let e = &self.nodes[node];
            match e.children.get(next) {
                Some(&child) => {
                    let at = e.child_at[next].max(written).min(e.text.len());
                    out.push_str(e.text.get(written..at).unwrap_or(""));
                    stack.push((node, next + 1, at));
                    stack.push((child, 0, 0));
                }
                None => out.push_str(e.text.get(written..).unwrap_or("")),
            }
        }
        out
    }

    /// The `xml:base` in force at `i`, outermost first.
    pub fn bases(&self, mut i: usize) -> Vec<&str> {
        let mut out = Vec::new();
        while i != 0 {
            if let Some(b) = self.nodes[i].attr_ns(Ns::Xml, "base") {
                out.push(b);
            }
            i = self.nodes[i].parent;
        }
        out.reverse();
        out
    }
}

/// What the reader saw besides the tree.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// `<item>`/`<entry>` elements in the document.
    pub items: usize,
    /// Things that are not well-formed XML and were read leniently (for the run report).
    pub repairs: Vec<&'static str>,
}

impl Counts {
    fn repaired(&mut self, what: &'static str) {
        if !self.repairs.contains(&what) {
            self.repairs.push(what);
        }
    }
}

/// True for the elements that hold one entry of a feed.
fn is_item(ns: Ns, name: &str) -> bool {
    (name == "item" && (ns.rssish() || ns == Ns::Other)) || (name == "entry" && ns.atomish())
}

/// Reads `source`. Each item (`<item>`, `<entry>`) is passed to `on_item` with the tree and
/// its index as soon as it closes, then removed from the tree; what remains at the end (the
/// channel, its title, its links) is returned.
pub fn read<'a>(
    source: &'a str,
    deadline: &Deadline,
    mut on_item: impl FnMut(&Tree<'a>, usize),
) -> Result<(Tree<'a>, Counts), HtmlError> {
    let mut r = Reader {
        src: source,
        at: 0,
        tree: Tree {
            source,
            nodes: vec![Element {
                ns: Ns::Plain,
                name: String::new(),
                attrs: Vec::new(),
                text: String::new(),
                children: Vec::new(),
                child_at: Vec::new(),
                parent: 0,
                inner: 0..source.len(),
            }],
        },
        open: vec![Open { node: 0, scope: 0, raw_name: String::new() }],
        prefixes: vec![("xml".into(), "http://www.w3.org/XML/1998/namespace".into())],
        counts: Counts::default(),
        open_item: None,
    };
    let mut tokens = 0usize;
    while r.at < r.src.len() {
        tokens += 1;
        if tokens.is_multiple_of(4096) {
            deadline.check()?;
        }
        r.step(&mut on_item);
    }
    // Whatever is still open closes at the end of the document.
    while r.open.len() > 1 {
        r.close_top(r.src.len(), &mut on_item);
    }
    Ok((r.tree, r.counts))
}

struct Open {
    node: usize,
    /// Length of `prefixes` before this element's declarations.
    scope: usize,
    /// The name as written (with its prefix), for matching the end tag.
    raw_name: String,
}

struct Reader<'a> {
    src: &'a str,
    at: usize,
    tree: Tree<'a>,
    open: Vec<Open>,
    /// `(prefix, namespace URI)` in scope, innermost last; `""` is the default namespace.
    prefixes: Vec<(String, String)>,
    counts: Counts,
    /// The index in `open` of the item being read, if any.
    open_item: Option<usize>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.at..]
    }

    fn step(&mut self, on_item: &mut impl FnMut(&Tree<'a>, usize)) {
        let rest = self.rest();
        let Some(lt) = rest.find('<') else {
            self.text(self.at, self.src.len());
            self.at = self.src.len();
            return;
        };
        if lt > 0 {
            self.text(self.at, self.at + lt);
            self.at += lt;
            return;
        }
        let rest = self.rest();
        if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let start = self.at + 9;
            match body.find("]]>") {
                Some(end) => {
                    let text = self.src[start..start + end].to_owned();
                    self.push_text(&text);
                    self.at = start + end + 3;
                }
                None => {
                    // Unclosed: the section runs to the end tag of the element it is in.
                    self.counts.repaired("an unclosed CDATA section");
                    let raw = self.open.last().map(|o| o.raw_name.clone()).unwrap_or_default();
                    let end =
                        find_ascii_ci(body, &format!("</{raw}")).filter(|_| !raw.is_empty()).unwrap_or(body.len());
                    let text = self.src[start..start + end].to_owned();
                    self.push_text(&text);
                    self.at = start + end;
                }
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            // `<!-->` and `<!--->` are complete (empty) comments, as in HTML.
            let skip = if after.starts_with('>') {
                5
            } else if after.starts_with("->") {
                6
            } else {
                after.find("-->").map_or(rest.len(), |e| 4 + e + 3)
            };
            self.at += skip;
        } else if rest.starts_with("<!") {
            self.skip_declaration();
        } else if rest.starts_with("<?") {
            self.at += rest.find("?>").map_or(rest.len(), |e| e + 2);
        } else if rest.starts_with("</") {
            self.end_tag(on_item);
        } else if rest[1..].starts_with(|c: char| c.is_alphabetic() || c == '_' || c == ':') {
            self.start_tag(on_item);
        } else {
            // A `<` that starts no markup is text.
            self.counts.repaired("a bare <");
            self.push_text("<");
            self.at += 1;
        }
    }

    /// `<!DOCTYPE …>` with its internal subset, or any other `<!…>`: skipped. Entities
    /// declared there are not expanded (no XXE, no billion laughs).
    fn skip_declaration(&mut self) {
        let bytes = self.rest().as_bytes();
        let mut depth = 0i32;
        let mut quote = 0u8;
        for (i, &b) in bytes.iter().enumerate().skip(2) {
            match b {
                _ if quote != 0 && b == quote => quote = 0,
                _ if quote != 0 => {}
                b'"' | b'\'' if depth > 0 => quote = b,
                b'[' => depth += 1,
                b']' => depth -= 1,
                b'>' if depth <= 0 => {
                    self.at += i + 1;
                    return;
                }
                _ => {}
            }
        }
        self.at = self.src.len();
    }

    fn text(&mut self, start: usize, end: usize) {
        let raw = &self.src[start..end];
        if self.open.len() <= 1 && raw.trim().is_empty() {
            return;
        }
        let decoded = decode_entities(raw, &mut self.counts);
        self.push_text(&decoded);
    }

    fn push_text(&mut self, text: &str) {
        let node = self.open.last().map_or(0, |o| o.node);
        self.tree.nodes[node].text.push_str(text);
    }

    fn resolve(&self, prefix: &str) -> Ns {
        match self.prefixes.iter().rev().find(|(p, _)| p == prefix) {
            Some((_, uri)) => Ns::of(uri),
            None if prefix.is_empty() => Ns::Plain,
            None => known_prefix(prefix),
        }
    }

    fn start_tag(&mut self, on_item: &mut impl FnMut(&Tree<'a>, usize)) {
        let tag_start = self.at;
        let (raw_name, attrs_raw, self_closing, end) = scan_tag(self.src, self.at + 1);
        self.at = end;
        let scope = self.prefixes.len();
        let mut attrs: Vec<(String, String)> = Vec::with_capacity(attrs_raw.len());
        for (name, value) in attrs_raw {
            let value = decode_entities(value, &mut self.counts);
            if name == "xmlns" {
                self.prefixes.push((String::new(), value));
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                self.prefixes.push((p.to_owned(), value));
            } else if !attrs.iter().any(|(n, _)| *n == name) {
                attrs.push((name.to_owned(), value));
            }
        }
        let (prefix, local) = raw_name.split_once(':').unwrap_or(("", raw_name));
        let ns = self.resolve(prefix);
        let name = local.to_ascii_lowercase();
        // An item opening while another is open: the first never closed.
        if is_item(ns, &name)
            && let Some(item_depth) = self.open_item
        {
            self.counts.repaired("an unclosed item");
            while self.open.len() > item_depth {
                self.close_top(tag_start, on_item);
            }
        }
        // `<title>Two</ttle><guid>2</guid>`: an item's field never holds another field, so a
        // field that is still open when the next one starts was not closed.
        if is_item_field(ns, &name)
            && let Some(top) = self.open.last()
            && self.open.len().checked_sub(2).is_some_and(|d| self.open_item == Some(d))
            && is_item_field(self.tree.nodes[top.node].ns, &self.tree.nodes[top.node].name)
        {
            self.counts.repaired("an element left open");
            self.close_top(tag_start, on_item);
        }
        let attrs = attrs
            .into_iter()
            .map(|(n, v)| {
                let (p, l) = n.split_once(':').unwrap_or(("", &n));
                let ns = if p.is_empty() { Ns::Plain } else { self.resolve(p) };
                (ns, l.to_ascii_lowercase(), v)
            })
            .collect();
        if self.open.len() > MAX_DEPTH {
            // Too deep: read as text of the element at the limit.
            self.prefixes.truncate(scope);
            return;
        }
        let parent = self.open.last().map_or(0, |o| o.node);
        let index = self.tree.nodes.len();
        self.tree.nodes.push(Element {
            ns,
            name,
            attrs,
            text: String::new(),
            children: Vec::new(),
            child_at: Vec::new(),
            parent,
            inner: end..end,
        });
        let at = self.tree.nodes[parent].text.len();
        self.tree.nodes[parent].children.push(index);
        self.tree.nodes[parent].child_at.push(at);
        if is_item(ns, &self.tree.nodes[index].name) {
            self.counts.items += 1;
        }
        if self_closing {
            self.prefixes.truncate(scope);
            self.finish_item_if_any(index, self.open.len(), on_item);
        } else {
            if is_item(ns, &self.tree.nodes[index].name) && self.open_item.is_none() {
                self.open_item = Some(self.open.len());
            }
            self.open.push(Open { node: index, scope, raw_name: raw_name.to_owned() });
        }
    }

    fn end_tag(&mut self, on_item: &mut impl FnMut(&Tree<'a>, usize)) {
        let start = self.at;
        let rest = self.rest();
        let close = rest.find('>').map_or(rest.len(), |e| e + 1);
        let raw_name = rest[2..close].trim_end_matches('>').trim();
        self.at += close;
        // The innermost open element of that name closes, with everything inside it; an end
        // tag that matches nothing open is ignored.
        let found = self.open.iter().rposition(|o| o.raw_name.eq_ignore_ascii_case(raw_name));
        let Some(depth) = found.filter(|&d| d > 0) else {
            self.counts.repaired("an end tag that closes nothing");
            return;
        };
        if depth != self.open.len() - 1 {
            self.counts.repaired("an element left open");
        }
        while self.open.len() > depth {
            self.close_top(start, on_item);
        }
    }

    /// Closes the innermost open element, its content ending at `end`.
    fn close_top(&mut self, end: usize, on_item: &mut impl FnMut(&Tree<'a>, usize)) {
        let Some(open) = self.open.pop() else { return };
        self.prefixes.truncate(open.scope);
        let node = &mut self.tree.nodes[open.node];
        node.inner.end = end.max(node.inner.start);
        self.finish_item_if_any(open.node, self.open.len(), on_item);
    }

    /// When `node` (which was at depth `depth`) is the open item, hands it over and drops it.
    fn finish_item_if_any(&mut self, node: usize, depth: usize, on_item: &mut impl FnMut(&Tree<'a>, usize)) {
        let element = &self.tree.nodes[node];
        if !is_item(element.ns, &element.name) || self.open_item.is_some_and(|d| d != depth) {
            return;
        }
        self.open_item = None;
        on_item(&self.tree, node);
        // The item's subtree is the tail of the arena (elements are pushed in document order
        // and nothing after it is open): drop it.
        let parent = self.tree.nodes[node].parent;
        let p = &mut self.tree.nodes[parent];
        if let Some(pos) = p.children.iter().rposition(|&c| c == node) {
            p.children.remove(pos);
            p.child_at.remove(pos);
        }
        self.tree.nodes.truncate(node);
    }
}

/// The plain-text fields of an RSS item, which hold no elements.
fn is_item_field(ns: Ns, name: &str) -> bool {
    ns.rssish() && matches!(name, "title" | "link" | "guid" | "pubdate" | "author" | "category" | "comments")
}

/// Prefixes feeds use without declaring them (feedparser knows them too).
fn known_prefix(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "dc" => Ns::Dc,
        "dcterms" => Ns::DcTerms,
        "content" => Ns::Content,
        "itunes" => Ns::Itunes,
        "media" => Ns::Media,
        "atom" | "atom10" => Ns::Atom,
        "rdf" => Ns::Rdf,
        "xhtml" => Ns::Xhtml,
        _ => Ns::Other,
    }
}

/// Scans a start tag from `from` (just after `<`): its name, raw attributes, whether it closes
/// itself, and the index after its `>`. Attribute values may be quoted either way or not at
/// all; a quote inside an unquoted value is part of the value.
fn scan_tag(src: &str, from: usize) -> (&str, Vec<(&str, &str)>, bool, usize) {
    let bytes = src.as_bytes();
    let mut i = from;
    let is_name = |b: u8| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'/' | b'=');
    while i < bytes.len() && is_name(bytes[i]) {
        i += 1;
    }
    let name = &src[from..i];
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len()
            && (bytes[i].is_ascii_whitespace() || (bytes[i] == b'/' && bytes.get(i + 1) != Some(&b'>')))
        {
            i += 1;
        }
        if i >= bytes.len() {
            return (name, attrs, false, bytes.len());
        }
        match bytes[i] {
            b'>' => return (name, attrs, false, i + 1),
            b'/' => return (name, attrs, true, (i + 2).min(bytes.len())),
            _ => {}
        }
        let start = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let attr_name = &src[start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if attr_name.is_empty() {
            i += 1; // a lone `=`: step over it
            continue;
        }
        if bytes.get(i) != Some(&b'=') {
            attrs.push((attr_name, ""));
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let rest = &src[i + 1..];
                // A value never holds `<`: a quote left open ends at the tag's `>` before it,
                // rather than swallowing the rest of the document.
                let lt = rest.find('<').unwrap_or(rest.len());
                match rest[..lt].find(q as char) {
                    Some(e) => {
                        let v = &rest[..e];
                        i += 1 + e + 1;
                        v
                    }
                    None => {
                        let gt = rest[..lt].rfind('>').unwrap_or(lt);
                        let v = &rest[..gt];
                        i += 1 + gt;
                        v
                    }
                }
            }
            _ => {
                let s = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                // `<link href=x rel=alternate/>`: the slash closes the tag, it is not the value's.
                if i > s + 1 && bytes[i - 1] == b'/' && bytes.get(i) == Some(&b'>') {
                    i -= 1;
                }
                &src[s..i]
            }
        };
        attrs.push((attr_name, value));
    }
}

/// Position of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Decodes character references: the five of XML, every HTML named entity (feeds use them
/// without declaring them), decimal and hexadecimal (`&#x41;` and `&#X41;`). What is not a
/// reference (a bare `&`, an unknown name) stays as it is.
pub fn decode_entities(raw: &str, counts: &mut Counts) -> String {
    let Some(first) = raw.find('&') else { return raw.to_owned() };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference(rest) {
            Some((decoded, len, standard)) => {
                if !standard {
                    counts.repaired("HTML entities that XML does not define");
                }
                out.push_str(&decoded);
                rest = &rest[len..];
            }
            None => {
                counts.repaired("a bare &");
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The reference at the start of `s` (which starts with `&`): its text, its length, and
/// whether XML itself defines it.
fn reference(s: &str) -> Option<(String, usize, bool)> {
    let body = &s[1..];
    let semi = body.bytes().take(40).position(|b| b == b';')?;
    let name = &body[..semi];
    let len = semi + 2;
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        let c = char::from_u32(code).filter(|&c| c != '\0').unwrap_or('\u{FFFD}');
        return Some((c.to_string(), len, !num.starts_with('X')));
    }
    let standard = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    };
    if !standard.is_empty() {
        return Some((standard.to_owned(), len, true));
    }
    html_entity(name).map(|t| (t, len, false))
}

/// An HTML named entity (`eacute` -> `é`), from html5ever's table.
pub fn html_entity(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 32 || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let &(a, b) = markup5ever::data::NAMED_ENTITIES.get(format!("{name};").as_str())?;
    if a == 0 {
        return None;
    }
    let mut out = String::new();
    out.extend(char::from_u32(a));
    if b != 0 {
        out.extend(char::from_u32(b));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(src: &str) -> (Vec<String>, Tree<'_>, Counts) {
        let mut items = Vec::new();
        let (tree, counts) = read(src, &Deadline::none(), |t, i| {
            let title = t.child(i, t.nodes[i].ns, "title").map(|c| t.nodes[c].text.clone()).unwrap_or_default();
            items.push(title);
        })
        .unwrap();
        (items, tree, counts)
    }

    #[test]
    fn what_xml_parsers_refuse_is_read() {
        let src = "<rss><channel><title>Caf&eacute; &amp; b&nbsp;r &#X41; &bogus; Fish & Chips</title>\
            <item><title><![CDATA[one]]></title></item>\
            <item><title>two</title>\
            <item><title>three <b>bold</b></title></item>\
            <item a=b\"c x='y' flag z=\"open><title>four</title><description><![CDATA[never closed</description></item>\
            </channel></rss>";
        let (items, tree, counts) = read_all(src);
        assert_eq!(items, ["one", "two", "three ", "four"]);
        let channel = tree.child(0, Ns::Plain, "rss").and_then(|r| tree.child(r, Ns::Plain, "channel")).unwrap();
        let title = &tree.nodes[tree.child(channel, Ns::Plain, "title").unwrap()].text;
        assert_eq!(title, "Café & b\u{a0}r A &bogus; Fish & Chips");
        assert_eq!(counts.items, 4);
        assert!(counts.repairs.contains(&"an unclosed item"), "{:?}", counts.repairs);
        assert!(counts.repairs.contains(&"an unclosed CDATA section"), "{:?}", counts.repairs);
    }

    #[test]
    fn namespaces_are_resolved_whatever_the_prefix() {
        let src = r#"<feed xmlns="http://purl.org/atom/ns#" xmlns:x="http://purl.org/dc/elements/1.1/">
            <entry><x:creator>Ann</x:creator><title>t</title></entry></feed>"#;
        let mut seen = Vec::new();
        read(src, &Deadline::none(), |t, i| {
            seen.push((t.nodes[i].ns, t.children(i).map(|c| (c.ns, c.name.clone())).collect::<Vec<_>>()));
        })
        .unwrap();
        assert_eq!(seen, vec![(Ns::Atom03, vec![(Ns::Dc, "creator".to_string()), (Ns::Atom03, "title".to_string())])]);
    }

    #[test]
    fn millions_of_items_are_read_one_at_a_time_and_depth_is_capped() {
        let src = format!("<rss><channel>{}</channel></rss>", "<item/>".repeat(1_000_000));
        let mut n = 0;
        let (tree, counts) = read(&src, &Deadline::none(), |_, _| n += 1).unwrap();
        assert_eq!((n, counts.items), (1_000_000, 1_000_000));
        assert!(tree.nodes.len() < 10, "items are not kept: {}", tree.nodes.len());
        let deep = format!("<rss>{}x", "<a>".repeat(100_000));
        let (tree, _) = read(&deep, &Deadline::none(), |_, _| {}).unwrap();
        assert!(tree.nodes.len() <= MAX_DEPTH + 2, "{}", tree.nodes.len());
    }

    #[test]
    fn an_item_field_outside_any_element_is_no_panic() {
        // Found by the fuzzer: a field tag at the top level, with no item open.
        let (items, _, _) = read_all("<title>a<guid>b");
        assert!(items.is_empty());
        let (items, _, _) = read_all("<item><title>a<guid>b");
        assert_eq!(items, ["a"]);
    }

    #[test]
    fn entity_declarations_are_never_expanded() {
        let src = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY l "lol">]><r><t>&x;&l;</t></r>"#;
        let (_, tree, _) = read_all(src);
        let r = tree.child(0, Ns::Plain, "r").unwrap();
        assert_eq!(tree.nodes[tree.child(r, Ns::Plain, "t").unwrap()].text, "&x;&l;");
    }
}
