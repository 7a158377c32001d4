//! Every HTML parse in refeed goes through here, under a budget.
//!
//! html5ever follows the HTML parsing algorithm, which has two costs that grow faster than the
//! input: it re-creates every open formatting element (`<b>`, `<i>`, `<a>`, `<font>`…) for
//! each new text node or tag ("reconstruct the active formatting elements": ~1,000 open `<b>`
//! followed by many small blocks made a 57 KB page cost 45 s and 2 GB), and its scope checks
//! walk the stack of open elements, so deep nesting is quadratic (100,000 levels: 141 s). A
//! scan of the bytes before parsing cannot bound either, because it has to guess how the
//! tokenizer will read them, and hostile pages make it guess wrong.
//!
//! So the budget is enforced where the cost is paid: in the tree builder's sink. Every element
//! the tree builder creates (re-created ones included) is counted against an allowance that
//! grows with the bytes fed so far, every attribute likewise, and every element's depth is
//! checked when it is attached. The input is fed in chunks, and the CPU time of the thread is
//! checked between chunks and every few thousand elements (the tokenizer alone is quadratic in
//! the attributes of one tag, where no element is created). When a limit is reached the parse
//! is abandoned at once (unwinding out of html5ever, without a panic message) and the caller
//! gets an [`HtmlError`] saying which limit and by how much.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use ego_tree::NodeId;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName, local_name, ns};
use scraper::Html;
use scraper::html::HtmlTreeSink;

/// Deeper than this, nesting is an attack: on the 990 pages of the development set the deepest
/// element sits at level 42 (median 17; `examples/html_stats.rs` measures it). html5ever's
/// scope checks are linear in depth, so depth multiplies the cost of every tag.
pub const MAX_DEPTH: u32 = 512;

/// Elements the tree builder may create (comments and processing instructions count as
/// elements: each is a node too): this many plus [`ELEMENTS_PER_KIB`] per KiB fed.
/// A page cannot hold an element in fewer than 3 bytes (`<b>`), but implied elements (`html`,
/// `head`, `body`, `tbody`) and the legitimate re-creation of misnested formatting tags come
/// for free, so small documents get a floor.
const ELEMENTS_FLOOR: usize = 4_096;

/// On the development set the densest page creates 30 elements per KiB (median 8.1, 99th
/// percentile 18.7, comments included). Memory is what bounds this from above: an element and
/// the text node beside it cost about 540 bytes through extraction (scraper's tree, ours, the
/// per-node sums of the page and of one pass), so 56 per KiB keeps the densest markup allowed
/// near 30 times its size (1 MB pages at the limit: `<b>xxxxxxxxxxxx</b>` 30 MB,
/// `xxxxxxxxxxx<!---->` 31 MB, `<div>xxxxxxxxxxxxx</div>` 26 MB) while real pages stay at 4 to
/// 15 times (the development set's largest, 1.6 MB: 6 MB); a numbers table of 86 elements per
/// KiB throughout, or `<p><b>abcdefg</b></p>` over a whole megabyte, is refused.
const ELEMENTS_PER_KIB: usize = 56;

/// Attributes, re-created ones included: a floor plus this many per KiB (development set: at
/// most 27 per KiB, median 12).
const ATTRIBUTES_FLOOR: usize = 8_192;
const ATTRIBUTES_PER_KIB: usize = 160;

/// CPU time a page (or a feed) may take to parse and extract unless `settings.cpu_limit` says
/// otherwise. Real pages take a few milliseconds (the largest of the development set, 1.6 MB,
/// 20 ms); only hostile markup comes near it.
pub const DEFAULT_CPU_LIMIT: Duration = Duration::from_secs(3);

/// Input is fed to the parser in pieces of this size, with a CPU-time check after each.
const CHUNK: usize = 8 * 1024;

/// The CPU time is also checked after every this many elements created.
const CHECK_EVERY: usize = 4_096;

/// Why a document was not parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlError {
    #[error("HTML too complex: the parser created more than {limit} elements from {bytes} bytes")]
    TooManyElements { limit: usize, bytes: usize },
    #[error("HTML too complex: more than {limit} attributes from {bytes} bytes")]
    TooManyAttributes { limit: usize, bytes: usize },
    #[error("HTML nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("took more than {0:?} of CPU time")]
    OutOfTime(Duration),
    #[error("the HTML parser failed: {0}")]
    Crashed(String),
}

/// A CPU-time budget for one piece of work (a page, a feed), shared by every step of it.
///
/// CPU time of the current thread, not wall time: a busy machine slows a page down without
/// making it hostile. A deadline is checked where work is done, never waited on.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: Duration,
    limit: Duration,
}

impl Deadline {
    /// Starts counting now, on this thread.
    pub fn start(limit: Duration) -> Deadline {
        Deadline { started: thread_cpu_time(), limit }
    }

    /// A deadline that never passes (for tests and tools that read trusted files).
    pub fn none() -> Deadline {
        Deadline { started: Duration::ZERO, limit: Duration::MAX }
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// CPU time used since [`Deadline::start`].
    pub fn used(&self) -> Duration {
        thread_cpu_time().saturating_sub(self.started)
    }

    /// `Err` once the budget is spent.
    pub fn check(&self) -> Result<(), HtmlError> {
        if self.limit != Duration::MAX && self.used() > self.limit {
            Err(HtmlError::OutOfTime(self.limit))
        } else {
            Ok(())
        }
    }
}

#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_THREAD_CPUTIME_ID exists on
    // every Unix refeed builds for.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// What the tree builder did, for tuning the budget (see `benches/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub bytes: usize,
    pub elements: usize,
    pub attributes: usize,
    pub max_depth: u32,
}

/// Parses a whole page.
pub fn parse_document(html: &str, deadline: &Deadline) -> Result<Html, HtmlError> {
    parse(html, deadline, None).map(|(doc, _)| doc)
}

/// Parses a fragment as the children of a `<body>` (feed content, titles, `<noscript>` text).
pub fn parse_fragment(html: &str, deadline: &Deadline) -> Result<Html, HtmlError> {
    parse(html, deadline, Some(local_name!("body"))).map(|(doc, _)| doc)
}

/// Checks that a fragment parses within budget as the children of a `<div>`, which is how the
/// sanitizer (ammonia) parses it: the same parser on the same input does the same work.
pub fn check_fragment(html: &str, deadline: &Deadline) -> Result<(), HtmlError> {
    parse(html, deadline, Some(local_name!("div"))).map(|_| ())
}

/// Parses a page and reports what the tree builder did.
pub fn parse_with_stats(html: &str, deadline: &Deadline) -> Result<(Html, ParseStats), HtmlError> {
    parse(html, deadline, None)
}

/// The payload a budgeted sink unwinds with.
struct Abort(HtmlError);

fn parse(
    html: &str,
    deadline: &Deadline,
    fragment_context: Option<html5ever::LocalName>,
) -> Result<(Html, ParseStats), HtmlError> {
    deadline.check()?;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let sink = BudgetSink::new(fragment_context.is_some(), *deadline);
        let budget = sink.budget.clone();
        let mut parser = match fragment_context {
            None => html5ever::driver::parse_document(sink, Default::default()),
            Some(context) => html5ever::driver::parse_fragment(
                sink,
                Default::default(),
                QualName::new(None, ns!(html), context),
                Vec::new(),
                false,
            ),
        };
        let mut rest = html;
        while !rest.is_empty() {
            let mut end = rest.len().min(CHUNK);
            while !rest.is_char_boundary(end) {
                end += 1;
            }
            budget.fed.set(budget.fed.get() + end);
            parser.process(StrTendril::from_slice(&rest[..end]));
            rest = &rest[end..];
            if let Err(e) = deadline.check() {
                resume_unwind(Box::new(Abort(e)));
            }
        }
        let (doc, budget) = parser.finish();
        let stats = ParseStats {
            bytes: html.len(),
            elements: budget.elements.get(),
            attributes: budget.attributes.get(),
            max_depth: budget.max_depth.get(),
        };
        (doc, stats)
    }));
    match result {
        Ok(done) => Ok(done),
        Err(payload) => Err(match payload.downcast::<Abort>() {
            Ok(abort) => abort.0,
            Err(other) => HtmlError::Crashed(panic_message(other.as_ref())),
        }),
    }
}

/// The message of a panic payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The counters of one parse.
#[derive(Debug)]
struct Budget {
    deadline: Deadline,
    /// Bytes handed to the parser so far (the allowances grow with them).
    fed: Cell<usize>,
    elements: Cell<usize>,
    attributes: Cell<usize>,
    max_depth: Cell<u32>,
    /// Depth of every node attached so far, by [`node_index`] (the document is 0). One entry
    /// per node the parser created, so bounded like the nodes themselves.
    depth: RefCell<Vec<u32>>,
}

/// The position of a node in the parser's tree. ego_tree keeps the index private but hashes
/// it as one `usize`; a hasher that keeps that number recovers it. Depths then live in a vector
/// indexed by node, not a hash map (the map's inserts and lookups were a tenth of parsing).
fn node_index(id: &NodeId) -> usize {
    #[derive(Default)]
    struct Capture(usize);
    impl Hasher for Capture {
        fn finish(&self) -> u64 {
            self.0 as u64
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = self.0.wrapping_shl(8) | b as usize;
            }
        }
        fn write_usize(&mut self, n: usize) {
            self.0 = n;
        }
    }
    let mut h = Capture::default();
    id.hash(&mut h);
    h.0
}

impl Budget {
    fn allowance(&self, floor: usize, per_kib: usize) -> usize {
        floor.saturating_add(self.fed.get() / 1024 * per_kib)
    }

    fn abort(&self, e: HtmlError) -> ! {
        resume_unwind(Box::new(Abort(e)))
    }

    fn count_element(&self, attrs: usize) {
        let elements = self.elements.get() + 1;
        self.elements.set(elements);
        let limit = self.allowance(ELEMENTS_FLOOR, ELEMENTS_PER_KIB);
        if elements > limit {
            self.abort(HtmlError::TooManyElements { limit, bytes: self.fed.get() });
        }
        self.count_attributes(attrs);
        if elements.is_multiple_of(CHECK_EVERY)
            && let Err(e) = self.deadline.check()
        {
            self.abort(e);
        }
    }

    fn count_attributes(&self, n: usize) {
        let attributes = self.attributes.get() + n;
        self.attributes.set(attributes);
        let limit = self.allowance(ATTRIBUTES_FLOOR, ATTRIBUTES_PER_KIB);
        if attributes > limit {
            self.abort(HtmlError::TooManyAttributes { limit, bytes: self.fed.get() });
        }
    }

    fn depth_of(&self, node: &NodeId) -> u32 {
        self.depth.borrow().get(node_index(node)).copied().unwrap_or(0)
    }

    fn set_depth(&self, node: NodeId, depth: u32) {
        if depth > MAX_DEPTH {
            self.abort(HtmlError::TooDeep);
        }
        if depth > self.max_depth.get() {
            self.max_depth.set(depth);
        }
        let i = node_index(&node);
        let mut depths = self.depth.borrow_mut();
        if depths.len() <= i {
            depths.resize(i + 1, 0);
        }
        depths[i] = depth;
    }
}

/// scraper's tree sink with the budget in front of it.
struct BudgetSink {
    inner: HtmlTreeSink,
    budget: std::rc::Rc<Budget>,
}

impl BudgetSink {
    fn new(fragment: bool, deadline: Deadline) -> BudgetSink {
        let html = if fragment { Html::new_fragment() } else { Html::new_document() };
        BudgetSink {
            inner: HtmlTreeSink::new(html),
            budget: std::rc::Rc::new(Budget {
                deadline,
                fed: Cell::new(0),
                elements: Cell::new(0),
                attributes: Cell::new(0),
                max_depth: Cell::new(0),
                depth: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Records the depth of a node just attached under `parent`.
    fn attached(&self, parent: &NodeId, child: &NodeOrText<NodeId>) {
        if let NodeOrText::AppendNode(id) = child {
            self.budget.set_depth(*id, self.budget.depth_of(parent) + 1);
        }
    }
}

impl TreeSink for BudgetSink {
    type Output = (Html, std::rc::Rc<Budget>);
    type Handle = NodeId;
    type ElemName<'a> = <HtmlTreeSink as TreeSink>::ElemName<'a>;

    fn finish(self) -> Self::Output {
        (self.inner.finish(), self.budget)
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.inner.parse_error(msg)
    }

    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        self.inner.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.budget.count_element(attrs.len());
        self.inner.create_element(name, attrs, flags)
    }

    // A comment or processing instruction is a node like an element (and splits the text
    // around it into two nodes): it counts against the same budget.
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.budget.count_element(0);
        self.inner.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.budget.count_element(0);
        self.inner.create_pi(target, data)
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        self.attached(parent, &child);
        self.inner.append(parent, child)
    }

    fn append_based_on_parent_node(&self, element: &NodeId, prev_element: &NodeId, child: NodeOrText<NodeId>) {
        // The child goes beside `element` or into `prev_element`: count the deeper of the two.
        let depth = self.budget.depth_of(element).max(self.budget.depth_of(prev_element) + 1);
        if let NodeOrText::AppendNode(id) = &child {
            self.budget.set_depth(*id, depth);
        }
        self.inner.append_based_on_parent_node(element, prev_element, child)
    }

    fn append_doctype_to_document(&self, name: StrTendril, public_id: StrTendril, system_id: StrTendril) {
        self.inner.append_doctype_to_document(name, public_id, system_id)
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        let contents = self.inner.get_template_contents(target);
        self.budget.set_depth(contents, self.budget.depth_of(target) + 1);
        contents
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.inner.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        if let NodeOrText::AppendNode(id) = &new_node {
            self.budget.set_depth(*id, self.budget.depth_of(sibling).max(1));
        }
        self.inner.append_before_sibling(sibling, new_node)
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.budget.count_attributes(attrs.len());
        self.inner.add_attrs_if_missing(target, attrs)
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target)
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent)
    }
}

/// Visible text of an HTML fragment, whitespace collapsed; when the fragment is over budget,
/// its text with the tags stripped by a plain scan (no parser: the fallback must be cheap).
pub fn fragment_text(html: &str, deadline: &Deadline) -> String {
    let text: String = match parse_fragment(html, deadline) {
        Ok(fragment) => fragment.root_element().text().collect(),
        Err(_) => strip_tags(html),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with everything between `<` and `>` removed and the common entities decoded: the
/// linear fallback for markup the parser refused.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => {
                in_tag = false;
                out.push(' ');
            }
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&nbsp;", " ").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(html: &str) -> ParseStats {
        parse_with_stats(html, &Deadline::none()).unwrap().1
    }

    #[test]
    fn ordinary_pages_parse_and_are_measured() {
        let stats = ok("<!doctype html><title>t</title><div class=a><p>one<p>two <b>bold</b></div>");
        // html, head, title, body, div, p, p, b
        assert_eq!(stats.elements, 8);
        assert_eq!(stats.attributes, 1);
        assert_eq!(stats.max_depth, 5, "html > body > div > p > b");
    }

    #[test]
    fn formatting_element_amplification_is_stopped_at_the_budget() {
        // Each <div>x</div> re-creates every <b> still in the list of active formatting elements.
        // 400 keeps the depth under MAX_DEPTH, so that only the element budget can stop it.
        let mut page = String::from("<div>");
        for i in 0..400 {
            page.push_str(&format!("<b a={i}>"));
        }
        page.push_str("</div>");
        page.push_str(&"<div>x</div>".repeat(4000));
        let started = std::time::Instant::now();
        let err = parse_document(&page, &Deadline::none()).unwrap_err();
        assert!(matches!(err, HtmlError::TooManyElements { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn deep_nesting_is_refused_whatever_the_spelling() {
        let plain = "<div>".repeat(MAX_DEPTH as usize + 10);
        assert_eq!(parse_document(&plain, &Deadline::none()).unwrap_err(), HtmlError::TooDeep);
        // What a scan before parsing read differently from the tokenizer (each hid the
        // nesting after it from the old pre-scan): a quote in an unquoted value, the complete
        // comment `<!-->`, and content that is markup although a scanner may skip it as text.
        for opening in ["<i a=b\">", "<!-->", "<template>", "<svg><title>"] {
            let page = format!("{opening}{}x", "<div>".repeat(50_000));
            let started = std::time::Instant::now();
            let err = parse_document(&page, &Deadline::none()).unwrap_err();
            assert_eq!(err, HtmlError::TooDeep, "{opening}");
            assert!(started.elapsed() < Duration::from_secs(10), "{opening}: {:?}", started.elapsed());
        }
    }

    #[test]
    fn many_attributes_are_refused_or_stopped_by_the_clock() {
        let mut page = String::from("<i");
        for i in 0..200_000 {
            page.push_str(&format!(" a{i}"));
        }
        page.push('>');
        let err = parse_document(&page, &Deadline::start(Duration::from_millis(300))).unwrap_err();
        assert!(matches!(err, HtmlError::OutOfTime(_) | HtmlError::TooManyAttributes { .. }), "{err}");
    }

    #[test]
    fn fragments_fall_back_to_stripped_text() {
        assert_eq!(fragment_text("<p>Fish &amp; <b>chips</b></p>", &Deadline::none()), "Fish & chips");
        let deep = "<div>".repeat(5000) + "deep &amp; down";
        assert_eq!(fragment_text(&deep, &Deadline::none()), "deep & down");
    }
}
