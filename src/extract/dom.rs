//! A flat, index-addressed view of a parsed page.
//!
//! Nodes are stored in document (pre-)order, so the subtree of node `i` is the contiguous range
//! `i..end[i]`, a parent always precedes its children, and bottom-up sums are one reverse loop.
//! Nothing here recurses: a page nested 100,000 levels deep costs no stack.
//!
//! This module owns traversal: [`Dom::walk`] (pre-order, with subtrees skipped on request,
//! removed nodes and raw text never entered), [`Dom::ancestors`], [`Dom::subtree`] and
//! [`Dom::has_block_child`]. The extractor loops over nodes only through these.

use std::ops::Range;

use html5ever::LocalName;
use scraper::node::Element;
use scraper::{Html, Node as ScraperNode};

use crate::tags;

#[derive(Debug, Clone, Copy)]
pub enum NodeData<'a> {
    Element(&'a Element),
    Text(&'a str),
    /// Comments, doctypes, processing instructions: never output.
    Other,
}

/// 8 bytes of links and the node's data: a page has one of these per node, beside the
/// parser's own tree, so its size is a share of the memory an extraction takes. Every node
/// takes at least a byte of input and pages are at most 1 GiB (`max_page_size`), so indices
/// fit in 32 bits.
#[derive(Debug)]
pub struct Node<'a> {
    parent: u32,
    /// Index one past the last node of this subtree.
    end: u32,
    pub data: NodeData<'a>,
}

/// An attribute's value, by its interned name (`&local_name!("class")`): `Element::attr`
/// interns the name on every call, which showed as a tenth of extraction time, and comparing
/// names as strings reads every attribute's name from the atom table; comparing interned
/// names is comparing two integers.
pub fn attr_of<'a>(e: &'a Element, name: &LocalName) -> Option<&'a str> {
    e.attrs.iter().find(|(n, _)| n.local == *name).map(|(_, v)| &**v)
}

pub struct Dom<'a> {
    pub nodes: Vec<Node<'a>>,
}

/// Index of the document root; its own parent is itself.
pub const ROOT: usize = 0;

impl<'a> Dom<'a> {
    pub fn new(html: &'a Html) -> Self {
        // Sized once: doubling a vector of a few hundred thousand nodes would leave up to half
        // of it unused at the peak.
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity(html.tree.nodes().len());
        let mut stack: Vec<usize> = Vec::with_capacity(64);
        for edge in html.tree.root().traverse() {
            match edge {
                ego_tree::iter::Edge::Open(node) => {
                    let data = match node.value() {
                        ScraperNode::Element(e) => NodeData::Element(e),
                        ScraperNode::Text(t) => NodeData::Text(t),
                        _ => NodeData::Other,
                    };
                    let index = nodes.len();
                    let parent = stack.last().copied().unwrap_or(ROOT);
                    nodes.push(Node { parent: parent as u32, data, end: (index + 1) as u32 });
                    stack.push(index);
                }
                ego_tree::iter::Edge::Close(_) => {
                    if let Some(index) = stack.pop() {
                        nodes[index].end = nodes.len() as u32;
                    }
                }
            }
        }
        Dom { nodes }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn element(&self, i: usize) -> Option<&'a Element> {
        match self.nodes.get(i)?.data {
            NodeData::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Local tag name, or "" for non-elements.
    pub fn tag(&self, i: usize) -> &'a str {
        self.element(i).map_or("", |e| e.name())
    }

    pub fn attr(&self, i: usize, name: &LocalName) -> Option<&'a str> {
        self.element(i).and_then(|e| attr_of(e, name))
    }

    pub fn text(&self, i: usize) -> Option<&'a str> {
        match self.nodes.get(i)?.data {
            NodeData::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The text of `i`'s first child, when that child is text (the body of a script, a
    /// style or a `noscript`).
    pub fn first_child_text(&self, i: usize) -> Option<&'a str> {
        if self.subtree(i).len() > 1 { self.text(i + 1) } else { None }
    }

    /// Direct children of `i`, in order.
    pub fn children(&self, i: usize) -> Children<'_, 'a> {
        Children { dom: self, next: i + 1, end: self.end(i) }
    }

    /// The element just before `i` among its parent's children, skipping text and comments.
    ///
    /// In pre-order the node before `i` is its previous sibling or a descendant of it, so one
    /// climb finds the sibling; each text or comment skipped is skipped by this one `i` only,
    /// so calling this for every node of a page costs time linear in the page.
    pub fn prev_element_sibling(&self, i: usize) -> Option<usize> {
        let parent = self.parent(i);
        let mut at = i;
        loop {
            if at <= parent + 1 {
                return None;
            }
            let mut j = at - 1;
            while self.parent(j) != parent {
                j = self.parent(j);
            }
            if self.element(j).is_some() {
                return Some(j);
            }
            at = j;
        }
    }

    /// First element with this tag, in document order.
    pub fn find_tag(&self, tag: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.tag(i) == tag)
    }

    /// True when `ancestor` contains `i` (or is `i`).
    pub fn contains(&self, ancestor: usize, i: usize) -> bool {
        ancestor <= i && i < self.end(ancestor)
    }

    /// All visible text of a subtree, whitespace collapsed (for titles, bylines, headings).
    /// The text nodes are read in document order, raw-text elements skipped (as
    /// [`Dom::walk`] does, without its bookkeeping: the rules ask this of most short blocks).
    pub fn collapsed_text(&self, i: usize) -> String {
        let mut out = String::new();
        let end = self.end(i);
        let mut j = i;
        while j < end {
            match self.nodes[j].data {
                NodeData::Text(t) => {
                    for word in t.split_whitespace() {
                        if !out.is_empty() {
                            out.push(' ');
                        }
                        out.push_str(word);
                    }
                    j += 1;
                }
                NodeData::Element(e) if tags::is_raw_text(e.name()) => j = self.end(j),
                _ => j += 1,
            }
        }
        out
    }
}

/// A step of a [`Dom::walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The walk reaches this node.
    Enter(usize),
    /// The walk is done with the subtree of an element it entered with [`Step::Into`].
    Leave(usize),
}

/// What a walk does after [`Event::Enter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Visit the node's children (followed by [`Event::Leave`] for an element).
    Into,
    /// Skip the node's subtree.
    Over,
    /// End the walk.
    Stop,
}

impl<'a> Dom<'a> {
    pub fn parent(&self, i: usize) -> usize {
        self.nodes[i].parent as usize
    }

    /// Index one past the last node of `i`'s subtree.
    fn end(&self, i: usize) -> usize {
        self.nodes[i].end as usize
    }

    /// The nodes of `i`'s subtree, `i` first, in document order.
    pub fn subtree(&self, i: usize) -> Range<usize> {
        i..self.end(i)
    }

    /// `i`'s parent, its parent, and so on up to and including [`ROOT`] (nothing for `ROOT`).
    pub fn ancestors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let mut at = i;
        std::iter::from_fn(move || {
            if at == ROOT {
                return None;
            }
            at = self.parent(at);
            Some(at)
        })
    }

    /// True when one of the `levels` nearest ancestors of `i` is an element `tag` accepts.
    pub fn has_ancestor(&self, i: usize, levels: usize, tag: impl Fn(&str) -> bool) -> bool {
        self.ancestors(i).take(levels).any(|a| tag(self.tag(a)))
    }

    /// True when `i` has a child block element that is not removed.
    pub fn has_block_child(&self, i: usize, removed: &[bool]) -> bool {
        self.children(i).any(|c| !removed[c] && tags::is_block(self.tag(c)))
    }

    /// Walks `root`'s subtree in document order: see [`Dom::walk_range`].
    pub fn walk(&self, root: usize, removed: Option<&[bool]>, visit: impl FnMut(Event) -> Step) -> bool {
        self.walk_range(self.subtree(root), removed, visit)
    }

    /// Walks the nodes of `range` in document order, skipping the subtrees of removed nodes
    /// (never shown to `visit`) and of those `visit` steps over. Raw-text elements
    /// ([`tags::is_raw_text`]) are shown but never entered. Every element entered with
    /// [`Step::Into`] is left exactly once, after its subtree (or at the end of the range).
    /// True when `visit` stopped the walk.
    pub fn walk_range(
        &self,
        range: Range<usize>,
        removed: Option<&[bool]>,
        mut visit: impl FnMut(Event) -> Step,
    ) -> bool {
        let mut open: Vec<usize> = Vec::new();
        let mut j = range.start;
        while j < range.end {
            while let Some(&o) = open.last() {
                if self.end(o) > j {
                    break;
                }
                open.pop();
                visit(Event::Leave(o));
            }
            if removed.is_some_and(|r| r[j]) {
                j = self.end(j);
                continue;
            }
            match visit(Event::Enter(j)) {
                Step::Stop => return true,
                Step::Over => j = self.end(j),
                Step::Into => match self.nodes[j].data {
                    NodeData::Element(e) if tags::is_raw_text(e.name()) => {
                        visit(Event::Leave(j));
                        j = self.end(j);
                    }
                    NodeData::Element(_) => {
                        open.push(j);
                        j += 1;
                    }
                    _ => j += 1,
                },
            }
        }
        while let Some(o) = open.pop() {
            visit(Event::Leave(o));
        }
        false
    }
}

pub struct Children<'d, 'a> {
    dom: &'d Dom<'a>,
    next: usize,
    end: usize,
}

impl Iterator for Children<'_, '_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next = self.dom.end(i);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_skips_removed_nodes_and_raw_text_and_leaves_what_it_entered() {
        let doc = Html::parse_fragment("<div><p>a<b>b</b></p><script>x</script><i>c</i></div><p>d</p>");
        let dom = Dom::new(&doc);
        let div = dom.find_tag("div").unwrap();
        let mut removed = vec![false; dom.len()];
        removed[dom.find_tag("i").unwrap()] = true;
        let mut seen = Vec::new();
        dom.walk(div, Some(&removed), |event| {
            seen.push(match event {
                Event::Enter(j) => format!("<{}", dom.text(j).unwrap_or(dom.tag(j))),
                Event::Leave(j) => format!("{}>", dom.tag(j)),
            });
            if dom.tag(match event {
                Event::Enter(j) | Event::Leave(j) => j,
            }) == "b"
            {
                Step::Over
            } else {
                Step::Into
            }
        });
        assert_eq!(seen, ["<div", "<p", "<a", "<b", "p>", "<script", "script>", "div>"]);
        // Text of the whole page (nothing removed), the script left out.
        assert_eq!(dom.collapsed_text(ROOT), "a b c d");
        let b = dom.find_tag("b").unwrap();
        assert_eq!(dom.ancestors(b).map(|a| dom.tag(a)).collect::<Vec<_>>(), ["p", "div", "html", ""]);
        assert!(dom.has_ancestor(b, 2, |t| t == "div") && !dom.has_ancestor(b, 1, |t| t == "div"));
    }

    #[test]
    fn previous_element_siblings_skip_text_and_comments() {
        let doc = Html::parse_fragment("<p>a</p> text <!-- c --> <div><i>x</i></div>tail<span>s</span>");
        let dom = Dom::new(&doc);
        let find = |tag: &str| dom.find_tag(tag).unwrap();
        assert_eq!(dom.prev_element_sibling(find("span")), Some(find("div")));
        assert_eq!(dom.prev_element_sibling(find("div")), Some(find("p")));
        assert_eq!(dom.prev_element_sibling(find("p")), None);
        assert_eq!(dom.prev_element_sibling(find("i")), None);
    }
}
