//! A flat, index-addressed view of a parsed page.
//!
//! Nodes are stored in document (pre-)order, so the subtree of node `i` is the contiguous range
//! `i..end[i]`, a parent always precedes its children, and bottom-up sums are one reverse loop.
//! Nothing here recurses: a page nested 100,000 levels deep costs no stack.

use scraper::node::Element;
use scraper::{Html, Node as ScraperNode};

#[derive(Debug, Clone, Copy)]
pub enum NodeData<'a> {
    Element(&'a Element),
    Text(&'a str),
    /// Comments, doctypes, processing instructions: never output.
    Other,
}

#[derive(Debug)]
pub struct Node<'a> {
    pub parent: usize,
    pub data: NodeData<'a>,
    /// Index one past the last node of this subtree.
    pub end: usize,
    pub depth: u32,
}

/// An attribute's value. `Element::attr` interns the name on every call, which showed as
/// a tenth of extraction time; comparing the few attributes an element has is far cheaper.
pub fn attr_of<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs().find(|(n, _)| *n == name).map(|(_, v)| v)
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
                    nodes.push(Node { parent, data, end: index + 1, depth: stack.len() as u32 });
                    stack.push(index);
                }
                ego_tree::iter::Edge::Close(_) => {
                    if let Some(index) = stack.pop() {
                        nodes[index].end = nodes.len();
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
        match self.nodes[i].data {
            NodeData::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Local tag name, or "" for non-elements.
    pub fn tag(&self, i: usize) -> &'a str {
        self.element(i).map_or("", |e| e.name())
    }

    pub fn attr(&self, i: usize, name: &str) -> Option<&'a str> {
        self.element(i).and_then(|e| attr_of(e, name))
    }

    pub fn text(&self, i: usize) -> Option<&'a str> {
        match self.nodes[i].data {
            NodeData::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Direct children of `i`, in order.
    pub fn children(&self, i: usize) -> Children<'_, 'a> {
        Children { dom: self, next: i + 1, end: self.nodes[i].end }
    }

    /// The element just before `i` among its parent's children, skipping text and comments.
    ///
    /// In pre-order the node before `i` is its previous sibling or a descendant of it, so one
    /// climb finds the sibling; each text or comment skipped is skipped by this one `i` only,
    /// so calling this for every node of a page costs time linear in the page.
    pub fn prev_element_sibling(&self, i: usize) -> Option<usize> {
        let parent = self.nodes[i].parent;
        let mut at = i;
        loop {
            if at <= parent + 1 {
                return None;
            }
            let mut j = at - 1;
            while self.nodes[j].parent != parent {
                j = self.nodes[j].parent;
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
        ancestor <= i && i < self.nodes[ancestor].end
    }

    /// All visible text of a subtree, whitespace collapsed (for titles, bylines, headings).
    pub fn collapsed_text(&self, i: usize) -> String {
        let mut out = String::new();
        let mut j = i;
        while j < self.nodes[i].end {
            match self.nodes[j].data {
                NodeData::Element(e) if matches!(e.name(), "script" | "style" | "noscript" | "template") => {
                    j = self.nodes[j].end;
                    continue;
                }
                NodeData::Text(t) => {
                    for word in t.split_whitespace() {
                        if !out.is_empty() {
                            out.push(' ');
                        }
                        out.push_str(word);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        out
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
        self.next = self.dom.nodes[i].end;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
