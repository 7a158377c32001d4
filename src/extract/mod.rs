//! Page HTML -> [`Article`]: the story itself, without the page around it.
//!
//! The order matters and each step says why:
//! 1. Parse once into a flat [`dom::Dom`] (no recursion anywhere, so hostile nesting is safe).
//! 2. Read metadata from the whole page (JSON-LD, meta tags, `<time>`), before anything is cut.
//! 3. Mark boilerplate by tag, ARIA role, class/id vocabulary and text shape (comments,
//!    captions, credits, share bars, related lists). Captions are dropped *before* scoring so
//!    that a long caption cannot win the content vote.
//! 4. Score paragraphs into their ancestors (in the spirit of Readability) and pick the
//!    container, plus siblings that belong to the story.
//! 5. Clean the container conditionally (link-heavy lists, form remains, image-only boxes).
//! 6. Serialize HTML (absolute URLs, lazy images restored) and plain text from the same view;
//!    the HTML is sanitized last, so nothing unsafe can be reintroduced by an earlier step.

pub(crate) mod boilerplate;
pub mod dom;
pub mod metadata;
mod output;
pub mod verdict;

use html5ever::local_name;
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use scraper::{Html, Selector};
use url::Url;

use crate::html::Deadline;
pub use crate::html::HtmlError;
use crate::tags;
use boilerplate::Role;
use dom::{Dom, Event, NodeData, Step, attr_of};
pub use metadata::Metadata;

/// What the extractor found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Article {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub lead_image: Option<String>,
    pub site_name: Option<String>,
    pub lang: Option<String>,
    /// Canonical URL when the page names one, else the URL it was fetched from.
    pub url: Option<String>,
    pub description: Option<String>,
    /// Sanitized article HTML with absolute URLs.
    pub html: String,
    /// Plain text: paragraphs separated by a blank line, list items on their own lines.
    pub text: String,
    /// The next page of a story split over several pages, when the page links one.
    #[serde(skip)]
    pub next_page: Option<String>,
    /// The whole story on one page, when a site rule finds a link to it.
    #[serde(skip)]
    pub single_page: Option<String>,
    /// A paywall's notice was cut from the story's end: on a short text, the page is a
    /// teaser (see [`verdict::not_an_article`]).
    #[serde(skip)]
    pub paywall_notice: bool,
}

/// What to do with image captions and photo credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Captions {
    #[default]
    Drop,
    Keep,
}

/// Per-source extraction settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// CSS selector of the article body; overrides detection when it matches.
    pub content: Option<String>,
    /// CSS selectors of elements to strip.
    pub remove: Vec<String>,
    pub captions: Captions,
    /// Pages of a multi-page story to assemble, the first included.
    pub max_pages: usize,
    /// CPU time one page may take to parse and extract; past it the page is a failed article.
    pub cpu_limit: Duration,
    /// A site rule's: CSS selectors of the article body, tried in order after `content`.
    pub body: Vec<String>,
    /// A site rule's: CSS selectors of the title, author and date, over the page's metadata.
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    /// A site rule's: the link to the story's next page, over `rel="next"`.
    pub next_page: Option<String>,
    /// A site rule's: the link to the whole story on one page, fetched instead.
    pub single_page: Option<String>,
    /// A site rule's: (find, replace) applied to the page's HTML before it is parsed.
    pub replace: Vec<(String, String)>,
    /// The site rule applied, for explanations (`rules/example.com.toml`).
    pub rule: Option<String>,
    /// False when only the text is wanted (`extract --batch` writes text files): the article's
    /// HTML is then neither built nor sanitized, and [`Article::html`] is empty.
    pub html: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            content: None,
            remove: Vec::new(),
            captions: Captions::Drop,
            max_pages: DEFAULT_MAX_PAGES,
            cpu_limit: crate::html::DEFAULT_CPU_LIMIT,
            body: Vec::new(),
            title: None,
            author: None,
            date: None,
            next_page: None,
            single_page: None,
            replace: Vec::new(),
            rule: None,
            html: true,
        }
    }
}

/// Multi-page stories are assembled up to this many pages unless configured otherwise.
pub const DEFAULT_MAX_PAGES: usize = 5;

/// Below this many non-space characters an extraction is treated as failed and retried with
/// a looser filter (a short story must not lose to an empty result).
const MIN_ARTICLE_CHARS: u32 = 200;

/// JSON-LD's `articleBody` replaces what the markup gave when it holds this many times its
/// text (the markup held a caption or a teaser, the story is drawn by scripts).
const LD_BODY_FACTOR: usize = 4;

/// Paragraphs shorter than this (non-space characters) do not vote for a container.
const MIN_PARAGRAPH_CHARS: u32 = 20;

/// Text written straight into a block beside other blocks votes from this length on: a
/// sentence, not a label.
const LOOSE_PARAGRAPH_CHARS: u32 = 50;

/// A boilerplate-looking element holding more than this share of the page's text is kept:
/// a share bar never holds half a page, but a wrapper with an unlucky class name does.
const MAX_CHROME_SHARE: f32 = 0.5;

/// Lines after the last paragraph shorter than this (non-space characters) may be template
/// lines (tags, labels, "more info" links). Swept on the development set: 50 -> F1 0.929,
/// 80 -> 0.930, 100 -> 0.931, 130 -> 0.930.
const TRAILING_CHROME_CHARS: usize = 100;

/// Lines before the first paragraph shorter than this may be template lines.
const LEADING_CHROME_CHARS: usize = 40;

/// An intro paragraph has at least this many non-space characters (shorter lines between
/// headline and body are bylines, dates and labels).
const MIN_INTRO_CHARS: u32 = 50;

/// At most this many intro blocks are taken in, whatever they are; past them, only a run of
/// long paragraphs (a story whose first section sits in its own container, up to
/// [`MAX_INTRO_PROSE_BLOCKS`] in all) goes on, and the first block that is not one ends it.
const MAX_INTRO_BLOCKS: usize = 3;
const MAX_INTRO_PROSE_BLOCKS: usize = 12;
/// A paragraph of the story's first section past the first few has this many non-space
/// characters at least and ends a sentence.
const MIN_INTRO_PROSE_CHARS: u32 = 100;

/// A looser pass replaces a stricter one only with at least this many times its prose.
const LOOSER_PASS_GAIN: f32 = 1.5;

/// The consent placeholder of an embedded post is a sentence or three (non-space characters).
const MIN_PLACEHOLDER_CHARS: u32 = 60;
const MAX_PLACEHOLDER_CHARS: u32 = 400;

/// "ALSO READ: <link>" lines and "Related"/"More on this" headings are shorter than this
/// (non-space characters).
const MAX_TEASER_CHARS: u32 = 250;

/// How many levels the chosen container may widen to take in sibling prose.
const MAX_WIDENING: usize = 4;

/// A parent is taken in when at least this share of the text it adds is prose (swept on the
/// development set: 0.5 -> F1 0.906, 0.6 -> 0.908, 0.75 -> 0.909, 0.85 -> 0.908).
const WIDEN_PROSE_SHARE: f32 = 0.75;

/// Extracts the article from a page. `url` is where the page lives (for absolute links).
///
/// A page whose markup is over the parser's budget (see [`crate::html`]) or takes more than
/// `options.cpu_limit` of CPU time is an error, never a hang.
pub fn article(html: &str, url: Option<&Url>, options: &Options) -> Result<Article, HtmlError> {
    extract(html, url, options, None)
}

/// Like [`article`], and also describes the decisions taken: the container chosen and every
/// element cut, with the reason (what `refeed extract --explain` prints).
pub fn explain(html: &str, url: Option<&Url>, options: &Options) -> Result<(Article, String), HtmlError> {
    let mut out = String::new();
    let article = extract(html, url, options, Some(&mut out))?;
    Ok((article, out))
}

struct Attempt {
    pass: Pass,
    roots: Vec<usize>,
    removed: Vec<bool>,
    len: u32,
    /// Prose characters kept (paragraphs with few links), the measure passes compete on.
    prose: u32,
    log: Vec<Cut>,
    /// The sums with this attempt's cuts, exact inside the roots and outside their
    /// ancestors (what the last touches read).
    stats: Stats,
}

/// `tag#id.class` of an element, for explanations.
fn describe(dom: &Dom, i: usize) -> String {
    let mut s = dom.tag(i).to_owned();
    if let Some(id) = dom.attr(i, &local_name!("id")) {
        s.push('#');
        s.push_str(id);
    }
    if let Some(class) = dom.attr(i, &local_name!("class")) {
        for c in class.split_whitespace().take(4) {
            s.push('.');
            s.push_str(c);
        }
    }
    s
}

/// Characters of text shown per cut element.
const EXPLAIN_WIDTH: usize = 100;

fn write_explanation(out: &mut String, dom: &Dom, pass: Pass, roots: &[usize], log: &[Cut]) {
    use std::fmt::Write;
    let _ = writeln!(out, "pass: {pass:?}");
    for &r in roots {
        let mut path: Vec<String> = std::iter::once(r)
            .chain(dom.ancestors(r).take_while(|&a| a != dom::ROOT))
            .take(6)
            .map(|a| describe(dom, a))
            .collect();
        path.reverse();
        let _ = writeln!(out, "content: {}", path.join(" > "));
    }
    for &(i, reason) in log {
        let inside = roots.iter().any(|&r| dom.contains(r, i));
        let mut text = dom.collapsed_text(i);
        if text.is_empty() {
            continue;
        }
        if text.chars().count() > EXPLAIN_WIDTH {
            text = text.chars().take(EXPLAIN_WIDTH).collect::<String>() + "…";
        }
        let _ = writeln!(
            out,
            "cut{} {} ({reason}): {text}",
            if inside { "" } else { " (outside content)" },
            describe(dom, i)
        );
    }
}

fn extract(
    html: &str,
    url: Option<&Url>,
    options: &Options,
    explain: Option<&mut String>,
) -> Result<Article, HtmlError> {
    let deadline = Deadline::start(options.cpu_limit);
    let replaced = apply_replacements(html, &options.replace);
    let html = replaced.as_deref().unwrap_or(html);
    let doc = crate::html::parse_document(html, &deadline)?;
    let mut explained = explain.is_some().then(String::new);
    let (mut article, ld_body) = extract_from(doc, url, options, explained.as_mut(), &deadline)?;
    let mut found = dense_len(&article.text);
    // A story written into <noscript> (after a script template that a browser fills in):
    // read as a browser without scripts does, when that finds more. At most one more parse.
    if found < MIN_ARTICLE_CHARS as usize
        && let Some(opened) = noscript_opened(html)
    {
        let doc = crate::html::parse_document(&opened, &deadline)?;
        let mut second_explained = explained.is_some().then(String::new);
        let (second, _) = extract_from(doc, url, options, second_explained.as_mut(), &deadline)?;
        let second_found = dense_len(&second.text);
        if second_found > found * 2 {
            (article, found) = (second, second_found);
            explained = second_explained.map(|t| format!("read with scripts off (the story is in <noscript>)\n{t}"));
        }
    }
    // A page that draws its story with scripts: the text its JSON-LD gives, when that is a
    // story and the page's markup held none.
    let wins = |len: usize| {
        len >= MIN_ARTICLE_CHARS as usize
            && ((found < MIN_ARTICLE_CHARS as usize && len > found * 2) || len > found * LD_BODY_FACTOR)
    };
    // Its raw length bounds its text's from above: most pages are done after that count.
    if let Some(body) =
        ld_body.filter(|b| wins(dense_len(b))).map(|b| ld_paragraphs(&b, &deadline)).filter(|b| wins(dense_len(b)))
    {
        if options.html {
            let html: String = body.split("\n\n").map(|p| format!("<p>{}</p>\n", crate::sanitize::escape(p))).collect();
            article.html = crate::sanitize::clean_html(&html, None);
        }
        article.text = body;
        explained = explained
            .map(|t| format!("the story from the page's JSON-LD (articleBody, or a HowTo's or Recipe's steps)\n{t}"));
    }
    if let (Some(out), Some(text)) = (explain, explained) {
        out.push_str(&text);
    }
    Ok(article)
}

/// The page with its `<noscript>` elements turned into `<div>`s, so that their content is
/// markup (as a browser with scripts off reads it), when it has any. One pass; the result is
/// never longer than the page.
fn noscript_opened(html: &str) -> Option<String> {
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    for at in (0..bytes.len()).filter(|&at| bytes[at] == b'<') {
        let closing = bytes.get(at + 1) == Some(&b'/');
        let name_at = at + 1 + usize::from(closing);
        let is_noscript = bytes.get(name_at..name_at + 8).is_some_and(|n| n.eq_ignore_ascii_case(b"noscript"))
            && bytes.get(name_at + 8).is_none_or(|&c| c == b'>' || c == b'/' || c.is_ascii_whitespace());
        if is_noscript {
            // "<noscript" and "</noscript" are ASCII: the cut is on a character boundary.
            out.push_str(&html[copied..name_at]);
            out.push_str("div     "); // padded to the same length
            copied = name_at + 8;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&html[copied..]);
    Some(out)
}

/// JSON-LD's `articleBody` as plain text in paragraphs joined by blank lines: one per line of
/// plain text, or as the markup some sites put there reads (scripts and styles left out).
fn ld_paragraphs(body: &str, deadline: &Deadline) -> String {
    let text;
    let body = if body.contains('<') {
        // Line ends are paragraph ends unless the markup has its own paragraphs.
        let lower = body.to_ascii_lowercase();
        let blocks = ["<p", "<div", "<br", "<li"].iter().any(|t| lower.contains(t));
        let markup = if blocks { Cow::Borrowed(body) } else { Cow::Owned(body.replace('\n', "<br>")) };
        text = match crate::html::parse_fragment(&markup, deadline) {
            Ok(doc) => {
                let dom = Dom::new(&doc);
                output::to_text(&dom, &[dom::ROOT], &vec![false; dom.len()])
            }
            Err(_) => return String::new(),
        };
        text.as_str()
    } else {
        body
    };
    let lines = body.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "));
    lines.filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n\n")
}

/// The article from a parsed page (see [`article`]).
fn extract_from(
    doc: Html,
    url: Option<&Url>,
    options: &Options,
    explain: Option<&mut String>,
    deadline: &Deadline,
) -> Result<(Article, Option<String>), HtmlError> {
    let deadline = *deadline;
    let dom = Dom::new(&doc);
    let mut meta = metadata::read(&dom, url);
    rule_metadata(&doc, options, &mut meta);
    let base = meta.canonical_url.as_deref().and_then(|c| Url::parse(c).ok()).or_else(|| url.cloned());
    // Links resolve against the page URL (and a <base href> inside it), not the canonical one.
    let link_base = base_href(&dom, url).or_else(|| url.cloned()).or_else(|| base.clone());
    let kinds = kinds(&dom);
    let raw = Stats::compute(&dom, &vec![false; dom.len()], &kinds, None);
    let page = Page {
        dom: &dom,
        stamps: entry_stamps(&dom, &raw),
        raw,
        kinds,
        classes: class_info(&dom),
        user_removed: select_all(&doc, &dom, &options.remove),
        // The source's `content`, else the first of a site rule's `body` selectors that
        // matches.
        forced_content: options
            .content
            .iter()
            .chain(&options.body)
            .map(|sel| select_all(&doc, &dom, std::slice::from_ref(sel)))
            .find(|found| !found.is_empty())
            .unwrap_or_default(),
        title: meta.title.as_deref(),
        byline: meta.byline.as_deref(),
        description: meta
            .description
            .as_deref()
            .filter(|d| (MIN_DESCRIPTION_CHARS..MAX_DESCRIPTION_CHARS).contains(&d.len())),
        site: base.as_ref().and_then(Url::host_str).map(|h| h.trim_start_matches("www.").to_ascii_lowercase()),
        options,
    };
    let Some(mut best) = page.best_attempt(&deadline)? else {
        return Ok((Article::default(), meta.article_body));
    };
    deadline.check()?;
    page.finish(&mut best, meta.description.as_deref());
    let paywall_notice = best.log.iter().any(|&(_, reason)| reason == PAYWALL_NOTICE);
    if let Some(explain) = explain {
        explain_rule(explain, &doc, &dom, options);
        write_explanation(explain, &dom, best.pass, &best.roots, &best.log);
        let stats = Stats::compute(&dom, &best.removed, &page.kinds, Some(&page.raw));
        write_candidates(explain, &dom, &stats, &page.classes, &best.removed);
    }
    let html_out = if options.html {
        output::to_html(&dom, &best.roots, &best.removed, link_base.as_ref(), options.captions, &deadline)
    } else {
        String::new()
    };
    let mut text = output::to_text(&dom, &best.roots, &best.removed);
    let mut html_out = html_out;
    // A recipe whose ingredients the page draws apart from its steps (a table, a script): its
    // JSON-LD's list opens the story when the story holds fewer than half of them.
    if ingredients_missing(&text, &meta.ingredients) {
        let list = meta.ingredients.join("\n");
        text = if text.is_empty() { list } else { format!("{list}\n\n{text}") };
        if options.html {
            html_out = format!("{}\n{html_out}", metadata::list_markup(&meta.ingredients));
        }
    }
    let next_page = url.and_then(|u| match &options.next_page {
        Some(sel) => rule_link(&doc, sel, u).filter(|n| n.host_str() == u.host_str()).map(String::from),
        None => next_page(&dom, u),
    });
    let single_page = url
        .zip(options.single_page.as_deref())
        .and_then(|(u, sel)| rule_link(&doc, sel, u))
        .filter(|s| Some(s) != url)
        .map(String::from);
    deadline.check()?;
    // The page's trees go before the sanitizer builds its own: peak memory is the larger of
    // the two, not their sum.
    drop((best, page));
    drop(dom);
    drop(doc);
    let article = Article {
        title: meta.title,
        byline: meta.byline,
        published: meta.published,
        lead_image: meta.lead_image,
        site_name: meta.site_name,
        lang: meta.lang,
        url: meta.canonical_url.or_else(|| url.map(|u| u.to_string())),
        description: meta.description,
        html: if options.html {
            output::nfc(crate::sanitize::clean_html(&html_out, link_base.as_ref()))
        } else {
            html_out
        },
        text,
        next_page,
        single_page,
        paywall_notice,
    };
    Ok((article, meta.article_body))
}

/// Fewer than half of a recipe's (at least [`MIN_INGREDIENTS`]) ingredients are in `text`,
/// compared by their letters and digits only ("Pfirsich(e) , je ca." is "Pfirsich(e), je
/// ca."). One look at the text per ingredient, at most [`metadata::MAX_LD_INGREDIENTS`].
fn ingredients_missing(text: &str, ingredients: &[String]) -> bool {
    if ingredients.len() < MIN_INGREDIENTS {
        return false;
    }
    let key = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect() };
    let text = key(text);
    let found = ingredients.iter().filter(|i| text.contains(&key(i))).count();
    found * 2 < ingredients.len()
}

/// The page's HTML with a site rule's `(find, replace)` pairs applied, when there are some.
/// Bounded: replacements stop once the page has grown to twice its size plus 1 MiB.
fn apply_replacements(html: &str, replace: &[(String, String)]) -> Option<String> {
    if replace.is_empty() {
        return None;
    }
    let cap = html.len() * 2 + (1 << 20);
    let mut out = html.to_owned();
    for (find, with) in replace.iter().filter(|(f, _)| !f.is_empty()) {
        let grows = with.len().saturating_sub(find.len());
        if grows > 0 && out.len() + out.matches(find.as_str()).count() * grows > cap {
            break;
        }
        out = out.replace(find.as_str(), with);
    }
    Some(out)
}

/// The first element `sel` matches.
fn first_match<'a>(doc: &'a Html, sel: &str) -> Option<scraper::ElementRef<'a>> {
    Selector::parse(sel).ok().and_then(|s| doc.select(&s).next())
}

fn element_text(e: scraper::ElementRef) -> String {
    e.text().flat_map(str::split_whitespace).collect::<Vec<_>>().join(" ")
}

/// A site rule's title, author and date, over what the page's metadata said.
fn rule_metadata(doc: &Html, options: &Options, meta: &mut Metadata) {
    if let Some(t) = options.title.as_deref().and_then(|s| first_match(doc, s)).map(element_text) {
        meta.title = Some(t).filter(|t| !t.is_empty()).or(meta.title.take());
    }
    if let Some(a) = options.author.as_deref().and_then(|s| first_match(doc, s)).map(element_text) {
        meta.byline = Some(a).filter(|a| !a.is_empty()).or(meta.byline.take());
    }
    if let Some(e) = options.date.as_deref().and_then(|s| first_match(doc, s)) {
        let attrs = ["datetime", "content"].into_iter().filter_map(|a| e.value().attr(a).map(str::to_owned));
        if let Some(d) = attrs.chain([element_text(e)]).find_map(|s| metadata::parse_date(&s)) {
            meta.published = Some(d);
        }
    }
}

/// The `href` of the first element `sel` matches (or of the first link inside it), absolute.
fn rule_link(doc: &Html, sel: &str, base: &Url) -> Option<Url> {
    let e = first_match(doc, sel)?;
    let href = e.value().attr("href").map(str::to_owned).or_else(|| {
        let a = Selector::parse("a[href]").expect("static selector");
        e.select(&a).next().and_then(|a| a.value().attr("href")).map(str::to_owned)
    })?;
    base.join(href.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Which site rule applied, and what each of its selectors matched.
fn explain_rule(out: &mut String, doc: &Html, dom: &Dom, options: &Options) {
    use std::fmt::Write;
    let Some(rule) = &options.rule else { return };
    let _ = writeln!(out, "rule: {rule}");
    let count = |sel: &str| select_all(doc, dom, std::slice::from_ref(&sel.to_owned())).len();
    let used_body = options.content.is_none() || options.content.as_deref().is_some_and(|c| count(c) == 0);
    for sel in &options.body {
        let n = count(sel);
        let note = if used_body { "" } else { " (not used: the source's content wins)" };
        let _ = writeln!(out, "rule: body \"{sel}\": {n} element(s){note}");
    }
    for sel in &options.remove {
        let _ = writeln!(out, "rule: strip \"{sel}\": {} element(s)", count(sel));
    }
    for (key, sel) in [("title", &options.title), ("author", &options.author), ("date", &options.date)] {
        if let Some(sel) = sel {
            let found = first_match(doc, sel).map(element_text).unwrap_or_else(|| "(nothing)".into());
            let _ = writeln!(out, "rule: {key} \"{sel}\": {found}");
        }
    }
    for (key, sel) in [("next_page", &options.next_page), ("single_page", &options.single_page)] {
        if let Some(sel) = sel {
            let _ = writeln!(out, "rule: {key} \"{sel}\": {} element(s)", count(sel));
        }
    }
    for (find, _) in &options.replace {
        let _ = writeln!(out, "rule: replace \"{find}\"");
    }
}

/// Candidates shown by `--explain`, best first.
const EXPLAIN_CANDIDATES: usize = 5;

/// The containers the paragraphs voted for, with their scores and text: why this one won.
fn write_candidates(out: &mut String, dom: &Dom, stats: &Stats, classes: &[ClassInfo], removed: &[bool]) {
    use std::fmt::Write;
    let votes = Votes::cast(dom, stats, classes, removed);
    let mut candidates: Vec<(usize, f32)> =
        (0..dom.len()).filter(|&i| votes.scored[i] && !removed[i]).map(|i| (i, votes.final_score(stats, i))).collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (rank, &(i, score)) in candidates.iter().take(EXPLAIN_CANDIDATES).enumerate() {
        let _ = writeln!(
            out,
            "candidate {}: {} score {score:.1}, {} characters, link density {:.2}",
            rank + 1,
            describe(dom, i),
            stats[i].text,
            stats[i].link_density()
        );
    }
}

/// What every pass over one page reads.
struct Page<'p, 'd> {
    dom: &'p Dom<'d>,
    /// The sums of the whole page, nothing removed.
    raw: Stats,
    /// What each node is, for the sums.
    kinds: Vec<u16>,
    classes: Vec<ClassInfo>,
    /// Elements the source's `remove` selectors match.
    user_removed: Vec<usize>,
    /// Elements the source's `content` selector matches.
    forced_content: Vec<usize>,
    title: Option<&'p str>,
    /// The author's name from the page's metadata.
    byline: Option<&'p str>,
    /// The page's description from its metadata, when it is a few sentences long.
    description: Option<&'p str>,
    /// The page's host without `www.` (from its canonical URL, else its URL).
    site: Option<String>,
    /// See [`entry_stamps`].
    stamps: Vec<bool>,
    options: &'p Options,
}

impl Page<'_, '_> {
    /// Runs the passes, strictest first, until one finds a story of a reasonable length;
    /// a looser pass wins only with clearly more prose.
    fn best_attempt(&self, deadline: &Deadline) -> Result<Option<Attempt>, HtmlError> {
        let mut best: Option<Attempt> = None;
        for pass in [Pass::Strict, Pass::NoClassFilter, Pass::NoConditionalClean] {
            deadline.check()?;
            let attempt = self.attempt(pass);
            let len = attempt.len;
            consider(&mut best, attempt);
            if len >= MIN_ARTICLE_CHARS || !self.forced_content.is_empty() {
                break;
            }
        }
        // Little prose outside the comments and much in them: perhaps a thread, whose first
        // post the comment rules cut. Its reading wins only with a post that comes before
        // what the other passes found (a story above its comments stays the story).
        if self.forced_content.is_empty()
            && attempt_prose(&best).saturating_mul(THREAD_PROSE_FACTOR) < self.comments_prose()
        {
            deadline.check()?;
            let thread = self.attempt(Pass::Thread);
            let first_found = best.as_ref().and_then(|b| b.roots.first().copied());
            let post_first = thread.roots.first().is_some_and(|&post| {
                self.classes[post].role == Some(Role::Comments)
                    && first_found.is_none_or(|f| post < f || self.dom.contains(f, post))
            });
            // Posts are often not written in paragraphs: the post must bring twice the text.
            if post_first && best.as_ref().is_none_or(|b| thread.len >= b.len.saturating_mul(2)) {
                best = Some(thread);
            }
        }
        // A short story found and captions holding far more prose: a gallery told in them (a
        // story followed by a gallery of other pictures stays the story). Its reading wins
        // only with twice the text.
        if self.forced_content.is_empty()
            && self.options.captions != Captions::Keep
            && best.as_ref().is_none_or(|b| b.len < MAX_GALLERY_INTRO_CHARS)
            && attempt_prose(&best).saturating_mul(GALLERY_PROSE_FACTOR) < self.captions_prose()
        {
            deadline.check()?;
            let gallery = self.attempt(Pass::Gallery);
            if best.as_ref().is_none_or(|b| gallery.len >= b.len.saturating_mul(2)) {
                best = Some(gallery);
            }
        }
        Ok(best)
    }

    /// Text outside links in the page's `<figcaption>`s, when it has at least
    /// [`MIN_GALLERY_CAPTIONS`] of them; else 0.
    fn captions_prose(&self) -> u32 {
        let (prose, count) = self.outermost_prose(|i| self.dom.tag(i) == "figcaption");
        if count >= MIN_GALLERY_CAPTIONS { prose } else { 0 }
    }

    /// Text outside links in the page's comment sections: posts are often not written in
    /// paragraphs.
    fn comments_prose(&self) -> u32 {
        self.outermost_prose(|i| self.classes[i].role == Some(Role::Comments)).0
    }

    /// Text outside links in the outermost elements that are `wanted`, and how many there
    /// are. One walk over the page: a match's subtree is skipped.
    fn outermost_prose(&self, wanted: impl Fn(usize) -> bool) -> (u32, u32) {
        let (mut prose, mut count) = (0, 0);
        let mut i = 1;
        while i < self.dom.len() {
            if wanted(i) {
                prose += self.raw[i].text.saturating_sub(self.raw[i].link);
                count += 1;
                i = self.dom.subtree(i).end;
            } else {
                i += 1;
            }
        }
        (prose, count)
    }

    fn attempt(&self, pass: Pass) -> Attempt {
        let dom = self.dom;
        let mut log = Vec::new();
        let mut removed = classify(self, pass, &mut log);
        let mut stats = Stats::compute(dom, &removed, &self.kinds, Some(&self.raw));
        let mut roots = if self.forced_content.is_empty() {
            choose_content(dom, &stats, &self.classes, &removed)
        } else {
            top_level(dom, &self.forced_content)
        };
        if pass == Pass::Thread {
            roots = roots.iter().map(|&r| first_post(dom, &stats, &self.classes, &removed, r)).collect();
        }
        if pass != Pass::NoConditionalClean {
            clean_conditionally(dom, &mut stats, &self.classes, &self.stamps, &roots, &mut removed, &mut log);
        }
        let len = output::text_len(dom, &roots, &removed);
        let prose = roots.iter().map(|&r| stats[r].prose).sum();
        // The sums go with the attempt: at most two passes' sums are held beside the page's
        // (the best so far and the one that may beat it).
        Attempt { pass, roots, removed, len, prose, log, stats }
    }

    /// The last touches on the chosen attempt: template lines at either end go, and an
    /// intro or standfirst set apart from the body comes in.
    fn finish(&self, best: &mut Attempt, description: Option<&str>) {
        let dom = self.dom;
        let mut stats = std::mem::replace(&mut best.stats, Stats(Vec::new()));
        trim_trailing_chrome(dom, &mut stats, &self.stamps, &best.roots, &mut best.removed, &mut best.log);
        trim_further_reading(dom, &self.raw, &mut stats, &best.roots, &mut best.removed, &mut best.log);
        if best.pass != Pass::Strict && best.pass != Pass::Gallery {
            trim_other_stories(dom, &self.classes, &mut stats, &best.roots, &mut best.removed, &mut best.log);
        }
        if self.forced_content.is_empty() {
            let intro = find_intro(dom, &stats, &best.removed, &best.roots);
            if !intro.is_empty() {
                best.roots.splice(0..0, intro);
            } else if let Some(lead) = find_lead(dom, &best.removed, &best.roots, description) {
                best.roots.insert(0, lead);
            }
            if let Some(list) = ingredients_apart(dom, &self.kinds, &best.removed, &best.roots) {
                let at = best.roots.partition_point(|&r| r < list);
                best.roots.insert(at, list);
            }
        }
        trim_embedded_stories(dom, &mut stats, &best.roots, &mut best.removed, &mut best.log, self.byline);
        let blocks = leaf_blocks(dom, &best.roots, &best.removed);
        trim_leading_disclosure(dom, &mut stats, &blocks, &mut best.removed, &mut best.log);
        if let Some(byline) = self.byline {
            trim_author_lines(dom, &mut stats, &blocks, &mut best.removed, &mut best.log, byline);
        }
        trim_dangling_label(dom, &mut stats, &blocks, &mut best.removed, &mut best.log);
    }
}

/// The page's `rel="next"` link, when it continues this story (same site, same path with a
/// page number) rather than pointing at the next story of a blog.
fn next_page(dom: &Dom, url: &Url) -> Option<String> {
    let href = (0..dom.len()).find_map(|i| {
        let e = dom.element(i)?;
        if matches!(e.name(), "link" | "a")
            && attr_of(e, &local_name!("rel"))?.split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
        {
            attr_of(e, &local_name!("href"))
        } else {
            None
        }
    })?;
    let next = url.join(href.trim()).ok()?;
    is_continuation(url, &next).then(|| next.to_string())
}

/// True when `next` is another page of `current`: `/story` -> `/story/2`, `/story?page=2`,
/// `/story-2.html`, `/story/page/2/`.
pub fn is_continuation(current: &Url, next: &Url) -> bool {
    if current.host_str() != next.host_str() || current.scheme() != next.scheme() || current == next {
        return false;
    }
    let strip = |u: &Url| -> String {
        let path = u.path().trim_end_matches('/');
        let path = path.strip_suffix(".html").or_else(|| path.strip_suffix(".htm")).unwrap_or(path);
        let path = path.trim_end_matches(|c: char| c.is_ascii_digit());
        let path = path.trim_end_matches(['-', '_', '/']);
        let path = path.strip_suffix("/page").or_else(|| path.strip_suffix("/seite")).unwrap_or(path);
        path.to_owned()
    };
    let page_query = |u: &Url| {
        u.query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "page" | "pg" | "seite" | "pagina" | "strona"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    let numbered = |u: &Url| {
        u.path().trim_end_matches('/').ends_with(|c: char| c.is_ascii_digit())
            || u.path().trim_end_matches('/').trim_end_matches(".html").ends_with(|c: char| c.is_ascii_digit())
            || u.query_pairs().any(|(k, _)| matches!(k.as_ref(), "page" | "pg" | "seite" | "pagina" | "strona"))
    };
    numbered(next) && strip(current) == strip(next) && page_query(current) == page_query(next)
}

fn base_href(dom: &Dom, url: Option<&Url>) -> Option<Url> {
    let i = dom.find_tag("base")?;
    let href = dom.attr(i, &local_name!("href"))?;
    match url {
        Some(u) => u.join(href).ok(),
        None => Url::parse(href).ok(),
    }
    .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Indices of the elements matching any of `selectors` (invalid selectors match nothing;
/// the config loader has already rejected them).
fn select_all(doc: &Html, dom: &Dom, selectors: &[String]) -> Vec<usize> {
    if selectors.is_empty() {
        return Vec::new();
    }
    let index: HashMap<*const scraper::node::Element, usize> =
        (0..dom.len()).filter_map(|i| dom.element(i).map(|e| (e as *const _, i))).collect();
    let mut out: Vec<usize> = selectors
        .iter()
        .filter_map(|s| Selector::parse(s).ok())
        .flat_map(|sel| {
            doc.select(&sel).filter_map(|e| index.get(&(e.value() as *const _)).copied()).collect::<Vec<_>>()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Keeps only the nodes not contained in another one of the list.
fn top_level(dom: &Dom, nodes: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for &n in nodes {
        if out.last().is_none_or(|&last| !dom.contains(last, n)) {
            out.push(n);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Everything on.
    Strict,
    /// Class/id vocabulary off (a wrapper with an unlucky class name hid the story).
    NoClassFilter,
    /// Conditional cleaning off too.
    NoConditionalClean,
    /// A page that is a thread (a forum topic, a question and its answers) marks every post
    /// as a comment, the first too: with the class vocabulary off, comments kept, and the
    /// first post taken from the list of posts.
    Thread,
    /// A gallery or a listicle told in its pictures' captions (a heading, a picture and a
    /// `<figcaption>` per item): everything on, captions kept.
    Gallery,
}

/// One node's sums over its subtree (removed nodes left out).
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    /// Non-whitespace characters of text.
    text: u32,
    /// Non-whitespace characters of text inside links.
    link: u32,
    commas: u32,
    paragraphs: u32,
    images: u32,
    /// Images inside links: thumbnails of other stories, not pictures of this one.
    linked_images: u32,
    list_items: u32,
    inputs: u32,
    embeds: u32,
    heading_text: u32,
    /// Text inside `<blockquote>`s: quoted words (an embedded post's text among them).
    quote_text: u32,
    /// Text of prose blocks (paragraphs, quotes, list items) with few links: what a story
    /// is made of, as opposed to link lists and labels.
    prose: u32,
    /// The subtree holds an `<h1>`, `<main>` or `itemprop=articleBody` (never subtracted:
    /// a landmark that was cut still says where the story was).
    landmark: bool,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.text += o.text;
        self.link += o.link;
        self.commas += o.commas;
        self.paragraphs += o.paragraphs;
        self.images += o.images;
        self.linked_images += o.linked_images;
        self.list_items += o.list_items;
        self.inputs += o.inputs;
        self.embeds += o.embeds;
        self.heading_text += o.heading_text;
        self.quote_text += o.quote_text;
        self.prose += o.prose;
        self.landmark |= o.landmark;
    }

    fn subtract(&mut self, o: &Counts) {
        self.text -= o.text;
        self.link -= o.link;
        self.commas -= o.commas;
        self.paragraphs -= o.paragraphs;
        self.images -= o.images;
        self.linked_images -= o.linked_images;
        self.list_items -= o.list_items;
        self.inputs -= o.inputs;
        self.embeds -= o.embeds;
        self.heading_text -= o.heading_text;
        self.quote_text -= o.quote_text;
        self.prose -= o.prose;
    }

    fn link_density(&self) -> f32 {
        if self.text == 0 { 0.0 } else { self.link as f32 / self.text as f32 }
    }

    /// Characters and commas of a text node.
    fn of_text(t: &str) -> Counts {
        let mut c = Counts::default();
        for ch in t.chars() {
            if !ch.is_whitespace() {
                c.text += 1;
            }
            if matches!(ch, ',' | '，' | '、' | '،') {
                c.commas += 1;
            }
        }
        c
    }

    /// What an element of kind `k` adds to the sums of its children (`self`).
    fn of_element(mut self, k: u16) -> Counts {
        if k & kind::LINK != 0 {
            self.link = self.text;
            self.linked_images = self.images;
        }
        self.paragraphs += u32::from(k & kind::PARAGRAPH != 0);
        self.images += u32::from(k & kind::IMAGE != 0);
        self.list_items += u32::from(k & kind::LIST_ITEM != 0);
        self.inputs += u32::from(k & kind::INPUT != 0);
        self.embeds += u32::from(k & kind::EMBED != 0);
        if k & kind::LANDMARK != 0 {
            self.landmark = true;
        }
        if k & kind::HEADING != 0 {
            self.heading_text = self.text;
        }
        // A quote that is all link is a link card (an embedded page's title), not words.
        if k & kind::QUOTE != 0 && self.link * 2 < self.text {
            self.quote_text = self.text;
        }
        if k & kind::PROSE != 0 && self.text >= MIN_PARAGRAPH_CHARS && self.link * 10 < self.text * 3 {
            self.prose = self.text;
        }
        self
    }
}

/// What each node is, as the sums see it: worked out once per page (tag names and
/// attributes are compared once, not once per pass).
mod kind {
    /// Left out of the sums: comments, raw-text elements (script, style…) and their text.
    pub const SKIP: u16 = 1;
    pub const TEXT: u16 = 1 << 1;
    pub const ELEMENT: u16 = 1 << 2;
    /// A `<noscript>` holding a lazy loader's fallback image (raw text while scripting is
    /// on): an image of its parent's.
    pub const NOSCRIPT_IMAGE: u16 = 1 << 3;
    pub const LINK: u16 = 1 << 4;
    pub const PARAGRAPH: u16 = 1 << 5;
    pub const IMAGE: u16 = 1 << 6;
    pub const LIST_ITEM: u16 = 1 << 7;
    pub const INPUT: u16 = 1 << 8;
    pub const EMBED: u16 = 1 << 9;
    /// `<h1>`, `<main>` or `itemprop=articleBody` (not `<article>`: comment threads are made
    /// of `<article>`s too).
    pub const LANDMARK: u16 = 1 << 10;
    pub const HEADING: u16 = 1 << 11;
    /// Blocks whose text counts as prose when it has few links.
    pub const PROSE: u16 = 1 << 12;
    /// A recipe's ingredient (`itemprop=recipeIngredient`, schema.org microdata).
    pub const INGREDIENT: u16 = 1 << 13;
    pub const QUOTE: u16 = 1 << 14;
}

/// [`kind`] of every node of `dom`.
fn kinds(dom: &Dom) -> Vec<u16> {
    (0..dom.len())
        .map(|i| match dom.nodes[i].data {
            // Script and style bodies (often large JSON blobs) are never text.
            NodeData::Text(_) if tags::is_raw_text(dom.tag(dom.parent(i))) => kind::SKIP,
            NodeData::Text(_) => kind::TEXT,
            NodeData::Element(e) if e.name() == "noscript" => {
                match dom.first_child_text(i).is_some_and(|t| t.contains("<img")) {
                    true => kind::SKIP | kind::NOSCRIPT_IMAGE,
                    false => kind::SKIP,
                }
            }
            NodeData::Element(e) if tags::is_raw_text(e.name()) => kind::SKIP,
            NodeData::Element(e) => {
                let tag = e.name();
                let mut k = kind::ELEMENT
                    | match tag {
                        "a" => kind::LINK,
                        "p" => kind::PARAGRAPH | kind::PROSE,
                        "img" => kind::IMAGE,
                        "li" => kind::LIST_ITEM | kind::PROSE,
                        "input" | "select" | "textarea" | "button" => kind::INPUT,
                        "object" | "embed" | "iframe" | "video" | "audio" => kind::EMBED,
                        "h1" => kind::LANDMARK | kind::HEADING,
                        "main" => kind::LANDMARK,
                        "blockquote" => kind::PROSE | kind::QUOTE,
                        "pre" | "dd" | "td" => kind::PROSE,
                        t if tags::is_heading(t) => kind::HEADING,
                        _ => 0,
                    };
                match attr_of(e, &local_name!("itemprop")) {
                    Some(p) if p.eq_ignore_ascii_case("articleBody") => k |= kind::LANDMARK,
                    Some(p) if p.eq_ignore_ascii_case("recipeIngredient") || p.eq_ignore_ascii_case("ingredients") => {
                        k |= kind::INGREDIENT
                    }
                    _ => {}
                }
                k
            }
            NodeData::Other => kind::SKIP,
        })
        .collect()
}

/// Bottom-up sums over each subtree, ignoring removed nodes.
#[derive(Clone)]
struct Stats(Vec<Counts>);

impl std::ops::Index<usize> for Stats {
    type Output = Counts;
    fn index(&self, i: usize) -> &Counts {
        &self.0[i]
    }
}

impl Stats {
    /// Sums over the page with `removed` nodes left out, from the nodes' [`kinds`]. `raw`,
    /// the sums of the whole page, saves counting the characters of every text node again.
    fn compute(dom: &Dom, removed: &[bool], kinds: &[u16], raw: Option<&Stats>) -> Stats {
        let mut s = vec![Counts::default(); dom.len()];
        for i in (1..dom.len()).rev() {
            let k = kinds[i];
            if removed[i] || k & (kind::SKIP | kind::TEXT | kind::ELEMENT) == 0 {
                continue;
            }
            let parent = dom.parent(i);
            if k & kind::SKIP != 0 {
                s[parent].images += u32::from(k & kind::NOSCRIPT_IMAGE != 0);
                continue;
            }
            let own = match (k & kind::TEXT != 0, raw) {
                (true, Some(raw)) => raw[i],
                (true, None) => dom.text(i).map(Counts::of_text).unwrap_or_default(),
                (false, _) => s[i].of_element(k),
            };
            s[i] = own;
            s[parent].add(&own);
        }
        Stats(s)
    }

    /// Takes node `i`'s sums out of every ancestor up to `stop` (after `i` was removed).
    fn subtract(&mut self, dom: &Dom, i: usize, stop: usize) {
        if i == stop {
            return;
        }
        let gone = self.0[i];
        for a in dom.ancestors(i) {
            self.0[a].subtract(&gone);
            if a == stop {
                break;
            }
        }
    }
}

/// What an element's class and id say, worked out once per page (token splitting allocates,
/// and every pass asks again).
#[derive(Debug, Clone, Copy, Default)]
struct ClassInfo {
    role: Option<Role>,
    weight: f32,
    consent: bool,
    /// Named as a box of other stories ([`boilerplate::is_other_stories_box`]).
    other_stories: bool,
}

fn class_info(dom: &Dom) -> Vec<ClassInfo> {
    // Templates repeat the same class strings hundreds of times (every comment, every card):
    // each distinct one is read once.
    // foldhash: seeded per process like SipHash's (class strings are the page author's), at a
    // fraction of its cost on short keys.
    let mut seen: foldhash::HashMap<(&str, &str), ClassInfo> = Default::default();
    let mut buf = String::new();
    (0..dom.len())
        .map(|i| {
            let Some(e) = dom.element(i) else { return ClassInfo::default() };
            // One look at the attributes for both.
            let (mut class, mut id) = (None, None);
            for (name, value) in &e.attrs {
                if name.local == local_name!("class") {
                    class = Some(&**value);
                } else if name.local == local_name!("id") {
                    id = Some(&**value);
                }
            }
            let tag = if e.name().contains('-') { e.name() } else { "" };
            if class.is_none() && id.is_none() && tag.is_empty() {
                return ClassInfo::default();
            }
            let read = |key: (&str, &str, &str), buf: &mut String| {
                boilerplate::tokens_into(&[key.0, key.1, key.2], buf);
                let tokens: Vec<&str> = buf.split_ascii_whitespace().collect();
                let role = boilerplate::role_of(&tokens);
                ClassInfo {
                    role,
                    weight: boilerplate::class_weight(&tokens, role),
                    consent: role == Some(Role::Chrome) && boilerplate::is_consent_box(&tokens),
                    other_stories: role == Some(Role::Chrome) && boilerplate::is_other_stories_box(&tokens),
                }
            };
            let class = class.unwrap_or("");
            match id {
                // An id names one element: it is read with its class, never looked up.
                Some(id) => {
                    let info = read((class, id, tag), &mut buf);
                    // The answer depends on the heading's words.
                    if info.role.is_some() && is_anchor_heading(dom, i, id) {
                        read((class, "", tag), &mut buf)
                    } else {
                        info
                    }
                }
                None => *seen.entry((class, tag)).or_insert_with(|| read((class, "", tag), &mut buf)),
            }
        })
        .collect()
}

fn is_hidden(dom: &Dom, i: usize) -> bool {
    let Some(e) = dom.element(i) else { return false };
    // One look at the attributes for all three.
    e.attrs.iter().any(|(name, value)| match name.local {
        local_name!("hidden") => true,
        local_name!("aria-hidden") => value.trim() == "true",
        local_name!("style") => {
            let s: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
            s.contains("display:none") || s.contains("visibility:hidden")
        }
        _ => false,
    })
}

/// Element `i` holds a password field: a login, sign-up or account form, whatever its text.
fn has_password_field(dom: &Dom, i: usize) -> bool {
    dom.subtree(i).any(|j| {
        dom.element(j).is_some_and(|e| {
            e.name() == "input"
                && attr_of(e, &local_name!("type")).is_some_and(|t| t.trim().eq_ignore_ascii_case("password"))
        })
    })
}

/// Why an element was cut (for `refeed extract --explain`).
pub type Cut = (usize, &'static str);

/// The one way a subtree is cut: marked removed and logged with its reason; with `sums`,
/// also taken out of the sums of its ancestors up to the given one.
fn cut(
    dom: &Dom,
    removed: &mut [bool],
    log: &mut Vec<Cut>,
    i: usize,
    reason: &'static str,
    sums: Option<(&mut Stats, usize)>,
) {
    // Cut already (by another rule, or with an ancestor): its text is out of the sums, and
    // taking it out again would drive them below zero.
    if removed[i] {
        return;
    }
    log.push((i, reason));
    if let Some((stats, stop)) = sums {
        stats.subtract(dom, i, stop);
    }
    removed[dom.subtree(i)].fill(true);
}

/// Marks every node that is not article content. A removed node's whole subtree is removed.
/// Each top-level cut is logged with its reason.
fn classify(page: &Page, pass: Pass, log: &mut Vec<Cut>) -> Vec<bool> {
    let (dom, raw) = (page.dom, &page.raw);
    let n = dom.len();
    let mut removed = vec![false; n];
    for &i in &page.user_removed {
        cut(dom, &mut removed, log, i, "site rule: remove", None);
    }
    // The chosen container and its ancestors are never removed by the general rules.
    let mut protected = vec![false; n];
    for &i in &page.forced_content {
        // The ancestors of a protected node are protected already.
        for a in std::iter::once(i).chain(dom.ancestors(i)) {
            if std::mem::replace(&mut protected[a], true) {
                break;
            }
        }
    }
    let mut rules = Rules {
        site: page.site.as_deref(),
        dom,
        raw,
        classes: &page.classes,
        pass,
        keep_captions: page.options.captions == Captions::Keep || pass == Pass::Gallery,
        page_text: raw[dom::ROOT].text.max(1) as f32,
        page_prose: raw[dom::ROOT].prose.max(1) as f32,
        title: page.title,
        title_len: page.title.map_or(0, dense_len),
        description: page.description,
        description_checks: 0,
        stamps: &page.stamps,
        title_seen: false,
    };
    // After a "Comments" heading, the rest of its container is the comment section.
    let mut cut_after_heading = vec![false; n];
    for i in 1..n {
        if removed[i] {
            continue;
        }
        let parent = dom.parent(i);
        if cut_after_heading[parent] {
            match dom.element(i) {
                Some(_) => cut(dom, &mut removed, log, i, "follows a comments heading", None),
                None => removed[i] = true,
            }
            continue;
        }
        if protected[i] {
            continue;
        }
        let Some(e) = dom.element(i) else { continue };
        if let Some(reason) = rules.reason(i, e) {
            cut_after_heading[parent] |= reason == COMMENTS_HEADING && pass != Pass::Thread;
            cut(dom, &mut removed, log, i, reason, None);
        } else if matches!(e.name(), "b" | "strong")
            && let Some(line) = server_diagnostic(dom, raw, i)
        {
            log.push((i, "server error message"));
            removed[line].fill(true);
        }
    }
    removed
}

/// A PHP diagnostic a broken server printed into the page ("<b>Warning</b>: Creating default
/// object from empty value in <b>/www/…/classes.php</b> on line <b>407</b><br>"): from its
/// label `i` to the line break that ends it (the nodes, contiguous in document order). At
/// most [`DIAGNOSTIC_SIBLINGS`] siblings and [`DIAGNOSTIC_CHARS`] bytes are read.
fn server_diagnostic(dom: &Dom, raw: &Stats, i: usize) -> Option<std::ops::Range<usize>> {
    const LABELS: &[&str] = &[
        "Warning",
        "Notice",
        "Deprecated",
        "Fatal error",
        "Parse error",
        "Strict Standards",
        "Catchable fatal error",
        "Recoverable fatal error",
    ];
    if raw[i].text > 25 || !LABELS.contains(&dom.collapsed_text(i).as_str()) {
        return None;
    }
    let parent = dom.parent(i);
    let mut line = String::new();
    let mut end = dom.subtree(i).end;
    for _ in 0..DIAGNOSTIC_SIBLINGS {
        if end >= dom.len() || dom.parent(end) != parent || dom.tag(end) == "br" || line.len() > DIAGNOSTIC_CHARS {
            break;
        }
        match dom.text(end) {
            Some(t) => line.push_str(t),
            // A long sibling is no part of a diagnostic's line (and is not read).
            None if raw[end].text as usize > DIAGNOSTIC_CHARS => return None,
            None => line.push_str(&dom.collapsed_text(end)),
        }
        end = dom.subtree(end).end;
    }
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let said = line.starts_with(':') && line.contains(" in ") && line.contains(" on line ");
    // The line break goes with it.
    let end = if end < dom.len() && dom.parent(end) == parent && dom.tag(end) == "br" { end + 1 } else { end };
    said.then_some(i..end)
}

/// See [`server_diagnostic`].
const DIAGNOSTIC_SIBLINGS: usize = 8;
const DIAGNOSTIC_CHARS: usize = 1000;

const COMMENTS_HEADING: &str = "comments heading";

/// The general rules of what is not article content, for one pass over one page.
struct Rules<'p, 'd> {
    /// See [`Page::site`].
    site: Option<&'p str>,
    dom: &'p Dom<'d>,
    raw: &'p Stats,
    classes: &'p [ClassInfo],
    pass: Pass,
    keep_captions: bool,
    /// Text of the whole page (at least 1).
    page_text: f32,
    /// Prose of the whole page (at least 1).
    page_prose: f32,
    title: Option<&'p str>,
    title_len: usize,
    /// See [`entry_stamps`].
    stamps: &'p [bool],
    /// Only the first repetition of the title is cut.
    title_seen: bool,
    /// See [`Page::description`].
    description: Option<&'p str>,
    /// Captions compared with the description so far (at most [`MAX_DESCRIPTION_CHECKS`]).
    description_checks: u8,
}

impl Rules<'_, '_> {
    /// Why element `i` is not article content, when it is not.
    fn reason(&mut self, i: usize, e: &scraper::node::Element) -> Option<&'static str> {
        let (dom, raw) = (self.dom, self.raw);
        let tag = e.name();
        // Most of the page's text, or most of its prose (beside a long list of links).
        let big = raw[i].text as f32 / self.page_text > MAX_CHROME_SHARE
            || raw[i].prose as f32 / self.page_prose > MAX_CHROME_SHARE
            || raw[i].landmark;
        if boilerplate::is_never_content_tag(tag) {
            // A page wrapped whole in <aside> or <footer> is rare, but it must not vanish.
            (!(matches!(tag, "aside" | "footer") && big)).then_some("tag never holds article text")
        } else if tag == "figcaption" {
            (!self.keep_captions).then_some("caption")
        } else if is_hidden(dom, i) {
            (!big).then_some("hidden")
        } else if boilerplate::is_chrome_aria(attr_of(e, &local_name!("role"))) {
            (!big).then_some("ARIA role of page chrome")
        } else if tag == "form" && !big && has_password_field(dom, i) {
            // The parser never nests forms: each form's subtree is walked once per pass.
            Some("login or sign-up form")
        } else if let Some(reason) = self.by_text(i, tag) {
            Some(reason)
        } else if matches!(tag, "body" | "html" | "main") {
            None
        } else {
            self.by_class(i, big)
        }
    }

    /// Rules on the element's text: headings, the title, credits, labels, teasers, dates.
    fn by_text(&mut self, i: usize, tag: &str) -> Option<&'static str> {
        let (dom, raw) = (self.dom, self.raw);
        let len = raw[i].text;
        let keep_captions = self.keep_captions;
        // The element's text, built at most once and only when a rule needs it.
        let text_cell = std::cell::OnceCell::new();
        let text = || text_cell.get_or_init(|| dom.collapsed_text(i)).as_str();
        if tags::is_heading(tag) && len < 60 && boilerplate::is_comments_heading(text()) {
            Some(COMMENTS_HEADING)
        } else if len > 0
            && len < 40
            && raw[i].link == 0
            && matches!(tag, "div" | "p" | "span" | "strong" | "b" | "td")
            && boilerplate::is_comments_heading(text())
            && written_before(dom, raw, i) >= MIN_ARTICLE_CHARS
        {
            // A "Comments" label set as a bar, not a heading, after the story.
            Some(COMMENTS_HEADING)
        } else if !self.title_seen && len < 400 && self.repeats_title(tag, len, text) {
            self.title_seen = true;
            Some("repeats the title")
        } else if len < 200 && !keep_captions && is_credit_line(dom, i, tag, text) {
            Some("photo credit")
        } else if !keep_captions && len > 0 && is_figure_caption(dom, raw, i, tag) {
            Some("caption inside a figure")
        } else if !keep_captions && len > 0 && len <= PICTURE_CAPTION_CHARS && is_picture_caption(dom, raw, i, tag) {
            Some("caption beside a picture")
        } else if len < 40 && len > 0 && boilerplate::is_ad_label(text()) {
            Some("ad label")
        } else if len < 40
            && len > 0
            && matches!(tag, "p" | "div" | "span" | "li" | "small" | "time")
            && boilerplate::is_reading_time(text())
        {
            Some("reading time")
        } else if len < MAX_TEASER_CHARS
            && matches!(tag, "p" | "div" | "li" | "h2" | "h3" | "h4" | "h5" | "h6" | "strong" | "blockquote")
            && is_teaser_line(raw, i, tag, text())
        {
            Some(TEASER_LABEL)
        } else if len < MAX_TEASER_CHARS && tag == "p" && raw[i].link * 2 > len && is_cross_link_line(dom, i, self.site)
        {
            Some("cross-link to another story")
        } else if (MIN_PLACEHOLDER_CHARS..MAX_PLACEHOLDER_CHARS).contains(&len)
            && matches!(tag, "p" | "div" | "span" | "section" | "aside" | "figure")
            && boilerplate::is_embed_placeholder(text())
        {
            Some("placeholder of an embedded post (consent)")
        } else if len < 120
            && len > 0
            && matches!(tag, "p" | "div" | "span" | "small")
            && !keep_captions
            && boilerplate::has_credit_prefix(text())
        {
            Some("photo credit")
        } else if len < 40
            && !self.stamps[i]
            && (tag == "time" && raw[dom.parent(i)].text == len
                || matches!(tag, "p" | "div" | "span") && len >= 3 && boilerplate::is_date_only(text()))
        {
            Some("date line")
        } else {
            None
        }
    }

    /// A heading that says the title, or a bold line or block that is exactly it.
    fn repeats_title<'t>(&self, tag: &str, len: u32, text: impl Fn() -> &'t str) -> bool {
        let Some(title) = self.title else { return false };
        tags::is_heading(tag) && same_text(text(), title)
            || matches!(tag, "b" | "strong" | "p" | "div" | "span" | "font")
                && len as usize == self.title_len
                && exactly_same_text(text(), title)
    }

    /// Rules on the class and id vocabulary. Looser passes drop only the chrome vocabulary
    /// (the wrapper with an unlucky class name): captions and comment threads are named
    /// precisely enough.
    fn by_class(&mut self, i: usize, big: bool) -> Option<&'static str> {
        let raw = &self.raw[i];
        let info = self.classes[i];
        match info.role.filter(|r| matches!(self.pass, Pass::Strict | Pass::Gallery) || *r != Role::Chrome) {
            Some(Role::Chrome) if info.consent && !raw.landmark => Some("class/id: cookie or consent box"),
            Some(Role::Comments) if self.pass == Pass::Thread => None,
            Some(Role::Comments) => (!raw.landmark).then_some("class/id: comments"),
            // No size guard: a long caption beside a short story is still a caption.
            // A caption is one or two paragraphs; more means a wrapper.
            // The caption's text goes, not the picture: a captioned figure stays and
            // loses its caption element.
            Some(Role::Caption) => (!self.keep_captions
                && raw.paragraphs <= 2
                && raw.images == 0
                && !raw.landmark
                && !self.describes_page(i))
            .then_some("class/id: caption or credit"),
            Some(Role::Chrome) => (!big && !opens_paragraph(self.dom, self.raw, i))
                .then_some("class/id: page chrome (share, related, ads, nav...)"),
            None => None,
        }
    }
}

/// A section heading whose id is a slug of its own words, prefixed for the page's table of
/// contents (`<h3 id="nav_the_last_step__1">The last step</h3>`): the id names the heading,
/// not a role, and only its class is read. Only the heading's own few words are looked at.
fn is_anchor_heading(dom: &Dom, i: usize, id: &str) -> bool {
    if !matches!(dom.tag(i), "h2" | "h3" | "h4") {
        return false;
    }
    let id = boilerplate::tokens(None, Some(id));
    let text = dom.collapsed_text(i).to_lowercase();
    let words: Vec<&str> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 1).take(MAX_ANCHOR_WORDS).collect();
    let named = words.iter().filter(|w| id.iter().any(|t| t == *w)).count();
    named >= 2 && named * 2 >= words.len()
}

/// The words of a heading compared with its id.
const MAX_ANCHOR_WORDS: usize = 8;

/// A block marked as the article's body with more of its text in links is a list of links.
const MAX_ARTICLE_BODY_LINK_DENSITY: f32 = 0.3;

/// Prose (non-whitespace characters) that keeps a block whose class holds only a weak
/// boilerplate word from being cut for it.
const MIN_WEAK_WORD_PROSE: u32 = 400;

/// Text a paragraph holds after an opening element for that element to be its first words.
const MIN_OPENED_PROSE: u32 = 100;

/// A short inline element that opens a paragraph of prose ("<p><span class=dateline>KOBE
/// –</span> A total of…"): the first words of the story's sentence, whatever its class says.
/// Only the few nodes before it in the paragraph are read.
fn opens_paragraph(dom: &Dom, raw: &Stats, i: usize) -> bool {
    let parent = dom.parent(i);
    matches!(dom.tag(i), "span" | "strong" | "b" | "em" | "time")
        && dom.tag(parent) == "p"
        && raw[i].text > 0
        && raw[i].text <= 40
        && raw[parent].text >= raw[i].text + MIN_OPENED_PROSE
        && i - parent <= 3
        && (parent + 1..i).all(|j| dom.text(j).is_some_and(|t| t.trim().is_empty()))
}

impl Rules<'_, '_> {
    /// Element `i` holds the page's description (a video's or a gallery's text set as the
    /// caption of the page's media): the page's story, not a caption. Only a few elements
    /// of a length close to the description's are compared, so a page of captions costs
    /// little more than its text.
    fn describes_page(&mut self, i: usize) -> bool {
        let Some(description) = self.description else { return false };
        let (len, want) = (self.raw[i].text as usize, dense_len(description));
        if !(want..want * 2).contains(&len) || self.description_checks >= MAX_DESCRIPTION_CHECKS {
            return false;
        }
        self.description_checks += 1;
        // The element's text comes with its whitespace collapsed already.
        let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
        self.dom.collapsed_text(i).contains(&description)
    }
}

/// See [`Page::description`]: a description of a sentence or two, not a title or a story.
const MIN_DESCRIPTION_CHARS: usize = 80;
const MAX_DESCRIPTION_CHARS: usize = 1000;
/// See [`Rules::describes_page`].
const MAX_DESCRIPTION_CHECKS: u8 = 4;

/// Equal after whitespace and case are normalised (for non-heading elements, where a prefix
/// match would take the first sentence of a story for its title).
fn exactly_same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let a = norm(a);
    !a.is_empty() && a == norm(b)
}

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && (a == b || (a.len() > 20 && b.starts_with(&a)) || (b.len() > 20 && a.starts_with(&b)))
}

/// A short line crediting a photo, next to or inside a figure ("Photo: …", "NAME/AGENCY").
fn is_credit_line<'t>(dom: &Dom, i: usize, tag: &str, text: impl Fn() -> &'t str) -> bool {
    if !matches!(tag, "small" | "span" | "p" | "div" | "cite" | "em" | "i") {
        return false;
    }
    if tag == "small" || dom.has_ancestor(i, 4, |t| matches!(t, "figure" | "picture")) {
        return boilerplate::looks_like_credit(text()) || boilerplate::ends_with_credit(text());
    }
    // Outside a figure only a line standing alone in its block counts, and only when it
    // directly follows an image.
    let prev = dom.prev_element_sibling(i);
    let after_image = prev.is_some_and(|p| {
        matches!(dom.tag(p), "img" | "picture" | "figure") || (dom.tag(p) != "p" && subtree_has_img_only(dom, p))
    });
    after_image && (boilerplate::looks_like_credit(text()) || boilerplate::ends_with_credit(text()))
}

/// "ALSO READ: <link>" or a bare "Related" label: a teaser opener with a link, in a heading,
/// or standing alone.
fn is_teaser_line(raw: &Stats, i: usize, tag: &str, text: &str) -> bool {
    if raw[i].link > 0 || tags::is_heading(tag) {
        boilerplate::is_teaser(text)
    } else {
        boilerplate::is_teaser_label(text)
    }
}

/// Text before `i` in its parent (its earlier siblings'). Called only for elements that
/// read like a comments label; once one has story text before it the rest of its parent is
/// cut unread, and each label before that adds its own words to the sum, so a parent is
/// walked at most about 30 times whatever a page repeats.
fn written_before(dom: &Dom, raw: &Stats, i: usize) -> u32 {
    dom.children(dom.parent(i)).take_while(|&c| c != i).map(|c| raw[c].text).sum()
}

/// A paragraph that is one link to another page, titled like a story ("Spielabbruch in der
/// Kreisliga …"), alone or after a short label ("Read also:", "VEA TAMBIÉN:", "»"): a
/// cross-link set into the story, in whatever language. The paragraph is short (the caller
/// checks), so the walk is too.
fn is_cross_link_line(dom: &Dom, i: usize, site: Option<&str>) -> bool {
    let mut links = dom.subtree(i).filter(|&j| dom.tag(j) == "a");
    let (Some(link), None) = (links.next(), links.next()) else { return false };
    let Some(href) =
        dom.attr(link, &local_name!("href")).map(str::trim).filter(|h| !h.is_empty() && !h.starts_with('#'))
    else {
        return false;
    };
    // To another page of this site: a link out is a source, a link blog's entry, a post's
    // subject.
    let same_site = match Url::parse(href)
        .ok()
        .or_else(|| href.starts_with("//").then(|| Url::parse(&format!("https:{href}")).ok()).flatten())
    {
        Some(target) => {
            target.host_str().zip(site).is_some_and(|(h, s)| h.trim_start_matches("www.").eq_ignore_ascii_case(s))
        }
        None => true,
    };
    if !same_site {
        return false;
    }
    let title = dom.collapsed_text(link);
    if title.split_whitespace().count() < CROSS_LINK_WORDS {
        return false;
    }
    let text = dom.collapsed_text(i);
    let Some((before, after)) = text.split_once(title.as_str()) else { return false };
    let (before, after) = (before.trim(), after.trim());
    let label = before.is_empty()
        || (before.ends_with(':') && before.chars().count() <= CROSS_LINK_LABEL_CHARS)
        || !before.chars().any(char::is_alphanumeric);
    label && !after.chars().any(char::is_alphanumeric)
}

/// A cross-link's title has at least this many words (a headline, not "here" or a name).
const CROSS_LINK_WORDS: usize = 4;
/// ...and its label ("Lesen Sie auch:") at most this many characters.
const CROSS_LINK_LABEL_CHARS: usize = 30;

/// Text beside the picture in an image figure, in whatever element the template uses
/// (`<span class="description">`, `<div class="credit">`, a bare `<p>`). Figures that hold
/// quotes, tables or code are content, not pictures.
fn is_figure_caption(dom: &Dom, raw: &Stats, i: usize, tag: &str) -> bool {
    if matches!(
        tag,
        "img" | "picture" | "source" | "video" | "audio" | "figure" | "table" | "blockquote" | "pre" | "code"
    ) || raw[i].images > 0
    {
        return false;
    }
    let parent = dom.parent(i);
    if dom.tag(parent) != "figure" {
        return false;
    }
    let mut has_picture = false;
    for j in dom.subtree(parent) {
        match dom.tag(j) {
            "img" | "picture" | "video" | "iframe" => has_picture = true,
            "table" | "blockquote" | "pre" | "code" => return false,
            _ => {}
        }
    }
    has_picture
}

/// A caption without a `<figure>`: a picture, maybe a line break, then one inline element
/// holding all the rest of the block's text (`<p><img><br><em>Figure 4: …</em></p>`, `<div
/// class="imginline"><img><span>…</span></div>`). The picture stays; its line goes.
fn is_picture_caption(dom: &Dom, raw: &Stats, i: usize, tag: &str) -> bool {
    if !matches!(tag, "em" | "i" | "small" | "sub" | "span" | "font") || raw[i].images > 0 {
        return false;
    }
    let parent = dom.parent(i);
    if !matches!(dom.tag(parent), "p" | "div") || raw[parent].text != raw[i].text || raw[parent].images == 0 {
        return false;
    }
    // The element before it, past line breaks, is the picture (or a link around it).
    let mut before = dom.prev_element_sibling(i);
    for _ in 0..PICTURE_CAPTION_BREAKS {
        match before {
            Some(b) if dom.tag(b) == "br" => before = dom.prev_element_sibling(b),
            _ => break,
        }
    }
    before.is_some_and(|b| matches!(dom.tag(b), "img" | "picture" | "a") && raw[b].images > 0 && raw[b].text == 0)
}

/// A caption beside a picture is at most this long (non-space characters)...
const PICTURE_CAPTION_CHARS: u32 = 300;
/// ...and at most this many line breaks below it.
const PICTURE_CAPTION_BREAKS: usize = 2;

fn subtree_has_img_only(dom: &Dom, i: usize) -> bool {
    let mut has_img = false;
    for j in dom.subtree(i) {
        match dom.nodes[j].data {
            NodeData::Element(e) if e.name() == "img" => has_img = true,
            NodeData::Text(t) if !t.trim().is_empty() => return false,
            _ => {}
        }
    }
    has_img
}

/// Tag-based starting score (Readability): containers of prose start ahead of list and
/// heading elements.
fn tag_score(tag: &str) -> f32 {
    match tag {
        "div" | "article" | "section" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// Picks the container(s) of the story: scored paragraphs vote for their ancestors.
fn choose_content(dom: &Dom, stats: &Stats, classes: &[ClassInfo], removed: &[bool]) -> Vec<usize> {
    let body = dom.find_tag("body").unwrap_or(dom::ROOT);
    let votes = Votes::cast(dom, stats, classes, removed);
    let mut candidates: Vec<(usize, f32)> =
        (0..dom.len()).filter(|&i| votes.scored[i] && !removed[i]).map(|i| (i, votes.final_score(stats, i))).collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let Some(&(mut top, mut top_score)) = candidates.first() else {
        return vec![body];
    };
    // The short block the story outweighed is not taken back in as a sibling of the story.
    let mut outweighed = None;
    if let Some(&(alt, alt_score)) = outweighed_by(dom, stats, &candidates) {
        outweighed = Some(top);
        (top, top_score) = (alt, alt_score);
    }
    if matches!(dom.tag(top), "html" | "body") {
        return vec![body];
    }
    // The ancestors of a node below the body.
    let climb = |from: usize| dom.ancestors(from).take_while(move |&a| a != body && a != dom::ROOT);
    let top = common_container(dom, &candidates, climb(top)).unwrap_or(top);
    // One piece followed by others of its kind: the piece alone.
    if let Some(piece) = piece_among_its_kind(dom, stats, removed, top) {
        return vec![piece];
    }
    let container = top;
    let top = climb_while_higher(dom, stats, &votes, top, climb(top));
    let top = widen(stats, top, climb(top));
    let top = marked_article_body(dom, stats, climb(top)).unwrap_or(top);
    if let Some(piece) = (top != container).then(|| piece_among_its_kind(dom, stats, removed, top)).flatten() {
        return vec![piece];
    }
    let mut roots = story_siblings(dom, stats, &votes, removed, top, top_score);
    if let Some(block) = outweighed {
        // (a root that holds the block, the story's own container, stays).
        if roots.len() > 1 {
            roots.retain(|&r| r != block && !dom.contains(block, r));
        }
    }
    roots
}

/// A page that shows one item (a quote, a short post, a product note) followed by a list of
/// related items in the same markup: the child of `top` that holds the page's headline
/// (`<h1>`), when at least [`MIN_OTHER_PIECES`] of its siblings share its class and each
/// heads itself with a link to its own page.
fn piece_among_its_kind(dom: &Dom, stats: &Stats, removed: &[bool], top: usize) -> Option<usize> {
    let piece = dom.children(top).find(|&c| !removed[c] && is_piece(dom, stats, c))?;
    let class = dom.attr(piece, &local_name!("class"));
    let others: Vec<usize> =
        dom.children(top).filter(|&c| c != piece && !removed[c] && is_other_piece(dom, c, class)).collect();
    // The piece is writing, as much as any of the others (not a header row of a grid).
    let most = others.iter().map(|&o| stats[o].prose).max().unwrap_or(0);
    (others.len() >= MIN_OTHER_PIECES && stats[piece].prose >= MIN_INTRO_CHARS && stats[piece].prose * 2 >= most)
        .then_some(piece)
}

/// The element holds the headline and has a class (what its kind shares).
fn is_piece(dom: &Dom, stats: &Stats, i: usize) -> bool {
    stats[i].text > 0
        && dom.attr(i, &local_name!("class")).is_some_and(|c| !c.trim().is_empty())
        && dom.subtree(i).any(|j| dom.tag(j) == "h1")
}

/// An element of `class` headed by a link elsewhere (its heading is a link, or in one).
fn is_other_piece(dom: &Dom, i: usize, class: Option<&str>) -> bool {
    if dom.attr(i, &local_name!("class")) != class || class.is_none() {
        return false;
    }
    let Some(heading) = dom.subtree(i).find(|&j| tags::is_heading(dom.tag(j))) else { return false };
    let linked = |j: usize| {
        dom.tag(j) == "a" && dom.attr(j, &local_name!("href")).is_some_and(|h| !h.trim_start().starts_with('#'))
    };
    dom.subtree(heading).any(linked) || dom.ancestors(heading).take_while(|&a| a != i).any(linked)
}

/// In a thread, the first post: the first of at least [`MIN_THREAD_POSTS`] elements of one
/// class, named as comments, that list the posts under `root` (looked for at most
/// [`MAX_THREAD_DEPTH`] levels down, each list's children counted once); `root` itself when
/// it lists none.
fn first_post(dom: &Dom, stats: &Stats, classes: &[ClassInfo], removed: &[bool], root: usize) -> usize {
    let mut level = vec![root];
    for _ in 0..MAX_THREAD_DEPTH {
        let mut next = Vec::new();
        for &parent in &level {
            let posts: Vec<usize> = dom
                .children(parent)
                .filter(|&c| !removed[c] && classes[c].role == Some(Role::Comments) && stats[c].text > 0)
                .collect();
            if let Some(&first) = posts.first() {
                let class = dom.attr(first, &local_name!("class"));
                if class.is_some()
                    && posts.iter().filter(|&&p| dom.attr(p, &local_name!("class")) == class).count()
                        >= MIN_THREAD_POSTS
                {
                    return first;
                }
            }
            next.extend(dom.children(parent).filter(|&c| !removed[c] && dom.element(c).is_some()));
        }
        level = next;
    }
    root
}

/// Takes `attempt` as the best when it is: a looser pass must bring in real prose, not just
/// the share bar and link lists the stricter one rightly cut from a short story.
fn consider(best: &mut Option<Attempt>, attempt: Attempt) {
    let better =
        best.as_ref().is_none_or(|b| attempt.len > b.len && attempt.prose as f32 >= b.prose as f32 * LOOSER_PASS_GAIN);
    if better {
        *best = Some(attempt);
    }
}

/// A recipe's ingredients marked up as such (schema.org microdata) but set apart from the
/// steps the story holds (in a tab, a sidebar box): the first list of them, when none of
/// them is in the story and it holds at least [`MIN_INGREDIENTS`]. One look at each node.
fn ingredients_apart(dom: &Dom, kinds: &[u16], removed: &[bool], roots: &[usize]) -> Option<usize> {
    let items: Vec<usize> = (1..dom.len()).filter(|&i| kinds[i] & kind::INGREDIENT != 0 && !removed[i]).collect();
    if items.len() < MIN_INGREDIENTS || items.iter().any(|&i| roots.iter().any(|&r| dom.contains(r, i))) {
        return None;
    }
    // The first list of them (a page may show a copy for small screens too).
    let list = dom.parent(items[0]);
    let in_list = items.iter().filter(|&&i| dom.parent(i) == list).count();
    (in_list >= MIN_INGREDIENTS
        && !matches!(dom.tag(list), "body" | "html" | "")
        && !roots.iter().any(|&r| dom.contains(list, r)))
    .then_some(list)
}

/// A recipe lists at least this many ingredients.
const MIN_INGREDIENTS: usize = 2;

/// See [`Page::captions_prose`]: a gallery has this many captions at least, holding this many
/// times the prose the other passes found.
const MIN_GALLERY_CAPTIONS: u32 = 3;
const GALLERY_PROSE_FACTOR: u32 = 2;
/// A gallery's own text (its introduction) is shorter than this (non-space characters).
const MAX_GALLERY_INTRO_CHARS: u32 = 1000;

/// The prose of the best attempt so far.
fn attempt_prose(best: &Option<Attempt>) -> u32 {
    best.as_ref().map_or(0, |b| b.prose)
}

/// A page is read as a thread when its comments hold this many times the prose found
/// outside them.
const THREAD_PROSE_FACTOR: u32 = 5;

/// Posts of one class that make a list of them.
const MIN_THREAD_POSTS: usize = 3;
/// A list of posts sits at most this many levels below the chosen container.
const MAX_THREAD_DEPTH: usize = 8;

/// At least this many others of its kind make a piece's siblings a list of related items.
const MIN_OTHER_PIECES: usize = 2;

/// A short story beside a long footer, address or "about us" block: the block's few long
/// sentences can outvote the story's many short ones. When the top candidate is a short
/// block and a nearly as well scored candidate elsewhere on the page (neither inside the
/// other) holds several times its prose with few links, that one is the story.
fn outweighed_by<'c>(dom: &Dom, stats: &Stats, candidates: &'c [(usize, f32)]) -> Option<&'c (usize, f32)> {
    let &(top, top_score) = candidates.first()?;
    if stats[top].text >= SHORT_BLOCK_CHARS {
        return None;
    }
    // Prose (paragraphs with few links), or text outside links for a story not written in
    // paragraphs: either measures a body of writing.
    // The larger of the two measures each block by its own writing.
    let body = |i: usize| stats[i].prose.max(stats[i].text.saturating_sub(stats[i].link));
    let outweighs = |c: usize| body(c) >= body(top).max(1).saturating_mul(OUTWEIGH_PROSE_FACTOR);
    candidates.iter().skip(1).take(OUTWEIGH_CANDIDATES).find(|&&(c, score)| {
        score >= top_score * OUTWEIGH_SCORE_SHARE
            && outweighs(c)
            && stats[c].link_density() < OUTWEIGH_MAX_LINK_DENSITY
            && !dom.contains(c, top)
            && !dom.contains(top, c)
    })
}

/// A top candidate with less text than this (non-space characters) may be a site block.
const SHORT_BLOCK_CHARS: u32 = 600;
/// How many runners-up are looked at.
const OUTWEIGH_CANDIDATES: usize = 5;
/// A runner-up must score at least this share of the top candidate's score...
const OUTWEIGH_SCORE_SHARE: f32 = 0.6;
/// ...hold this many times its prose (swept on the development set: 4 -> F1 0.933, 3 and 2
/// -> 0.934; the score share 0.4-0.6 and the short-block size 600-1500 change nothing)...
const OUTWEIGH_PROSE_FACTOR: u32 = 3;
/// ...and be mostly text, not links.
const OUTWEIGH_MAX_LINK_DENSITY: f32 = 0.5;

/// What the paragraphs of a page voted for their ancestors (Readability's content score).
struct Votes {
    score: Vec<f32>,
    /// The element got a vote (and its starting score).
    scored: Vec<bool>,
}

impl Votes {
    fn cast(dom: &Dom, stats: &Stats, classes: &[ClassInfo], removed: &[bool]) -> Votes {
        let n = dom.len();
        let mut votes = Votes { score: vec![0f32; n], scored: vec![false; n] };
        for i in 1..n {
            if removed[i] {
                continue;
            }
            let Some(e) = dom.element(i) else { continue };
            let is_paragraph = match e.name() {
                "p" | "pre" | "td" | "blockquote" => true,
                // A div of inline content is a paragraph too (Readability turns it into <p>).
                "div" | "section" | "article" => {
                    if !dom.has_block_child(i, removed) {
                        true
                    } else {
                        votes.loose_paragraphs(dom, stats, classes, removed, i);
                        false
                    }
                }
                _ => false,
            };
            if is_paragraph {
                votes.paragraph(dom, classes, dom.ancestors(i), stats[i].text, stats[i].commas);
            }
        }
        votes
    }

    /// A paragraph of `text` characters and `commas` votes for its first `ancestors`.
    fn paragraph(
        &mut self,
        dom: &Dom,
        classes: &[ClassInfo],
        ancestors: impl Iterator<Item = usize>,
        text: u32,
        commas: u32,
    ) {
        if text < MIN_PARAGRAPH_CHARS {
            return;
        }
        let content_score = 1.0 + commas as f32 + (text as f32 / 100.0).floor().min(3.0);
        for (level, a) in ancestors.take(5).enumerate() {
            if a == dom::ROOT || dom.element(a).is_none() {
                break;
            }
            if !std::mem::replace(&mut self.scored[a], true) {
                self.score[a] = tag_score(dom.tag(a)) + classes[a].weight;
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            self.score[a] += content_score / divider;
        }
    }

    /// Text written straight into a block beside other blocks (lines split by `<br>` after
    /// a picture box, say): each run of text and inline elements between `<br>`s and blocks
    /// is a paragraph of `i`'s (Readability wraps such runs in `<p>`). Each child is looked
    /// at once.
    fn loose_paragraphs(&mut self, dom: &Dom, stats: &Stats, classes: &[ClassInfo], removed: &[bool], i: usize) {
        let mut run = Counts::default();
        let vote = |votes: &mut Votes, run: &mut Counts| {
            // A label ("Subscribers only") or a run of links is no paragraph.
            if run.text >= LOOSE_PARAGRAPH_CHARS && run.link * 2 < run.text {
                votes.paragraph(dom, classes, std::iter::once(i).chain(dom.ancestors(i)), run.text, run.commas);
            }
            *run = Counts::default();
        };
        for c in dom.children(i) {
            if removed[c] {
                continue;
            }
            let tag = dom.tag(c);
            if tags::is_block(tag) || tag == "br" {
                vote(self, &mut run);
            } else {
                run.add(&stats[c]);
            }
        }
        vote(self, &mut run);
    }

    /// The score with the share of link text taken off (0 without a vote).
    fn final_score(&self, stats: &Stats, i: usize) -> f32 {
        if self.scored[i] { self.score[i] * (1.0 - stats[i].link_density()) } else { 0.0 }
    }
}

/// Several strong candidates sharing an ancestor: the story is split into blocks, and their
/// common container (among `ancestors` of the top one) holds it.
fn common_container(
    dom: &Dom,
    candidates: &[(usize, f32)],
    mut ancestors: impl Iterator<Item = usize>,
) -> Option<usize> {
    let top_score = candidates.first()?.1;
    let alternatives: Vec<usize> =
        candidates.iter().skip(1).take(4).filter(|(_, s)| *s >= top_score * 0.75).map(|(i, _)| *i).collect();
    if alternatives.len() < 3 {
        return None;
    }
    ancestors.find(|&a| alternatives.iter().filter(|&&alt| dom.contains(a, alt)).count() >= 3)
}

/// Climbs to an ancestor that scores higher (the story continues beside this block), while
/// the scores on the way stay above a third of `top`'s.
fn climb_while_higher(
    dom: &Dom,
    stats: &Stats,
    votes: &Votes,
    top: usize,
    ancestors: impl Iterator<Item = usize>,
) -> usize {
    let mut last = votes.final_score(stats, top);
    let threshold = last / 3.0;
    // One low list of sections on the way (a wrapper of several scored blocks, scoring low
    // because its votes come from far below) does not end the climb; anything else does.
    let mut low = false;
    for a in ancestors.filter(|&a| votes.scored[a]) {
        let s = votes.final_score(stats, a);
        if s < threshold {
            let sections = dom.children(a).filter(|&c| votes.scored[c]).take(2).count();
            if std::mem::replace(&mut low, true) || sections < 2 {
                break;
            }
            continue;
        }
        if s > last {
            return a;
        }
        last = s;
    }
    top
}

/// Widens to the parent while what it adds is mostly prose: a story split over sibling
/// blocks (lead, body, a second body after an ad) is one story. A parent that only adds
/// links, labels and boxes keeps the narrower choice.
fn widen(stats: &Stats, mut top: usize, ancestors: impl Iterator<Item = usize>) -> usize {
    for p in ancestors.take(MAX_WIDENING) {
        let extra_text = stats[p].text - stats[top].text;
        let extra_prose = stats[p].prose - stats[top].prose;
        if extra_text == 0 || (extra_prose as f32 >= WIDEN_PROSE_SHARE * extra_text as f32 && stats[top].prose > 0) {
            top = p;
        } else {
            break;
        }
    }
    top
}

/// The nearest ancestor the page marks as the article's body (`itemprop=articleBody`), when
/// it is not a link list: the page says where its story is, and a story in sections (an
/// accordion of chapters, a series of boxes) is all of it, not the longest section.
fn marked_article_body(dom: &Dom, stats: &Stats, mut ancestors: impl Iterator<Item = usize>) -> Option<usize> {
    ancestors
        .find(|&a| dom.attr(a, &local_name!("itemprop")).is_some_and(|p| p.trim().eq_ignore_ascii_case("articleBody")))
        .filter(|&a| stats[a].link_density() < MAX_ARTICLE_BODY_LINK_DENSITY)
}

/// `top` and the siblings that belong to the story with it (a lead paragraph outside the
/// body div, a second block after an inline ad), in document order.
fn story_siblings(dom: &Dom, stats: &Stats, votes: &Votes, removed: &[bool], top: usize, top_score: f32) -> Vec<usize> {
    let top_final = votes.final_score(stats, top).max(top_score);
    let threshold = (top_final * 0.2).max(10.0);
    let top_class = dom.attr(top, &local_name!("class")).unwrap_or("");
    let belongs = |s: usize| {
        if s == top {
            return true;
        }
        let bonus = if !top_class.is_empty() && dom.attr(s, &local_name!("class")) == Some(top_class) {
            top_final * 0.2
        } else {
            0.0
        };
        if votes.scored[s] && votes.final_score(stats, s) + bonus >= threshold {
            return true;
        }
        // A block of the story's own kind (a page builder's next row, too deep below its
        // paragraphs to be scored) that is prose with few links.
        if bonus > 0.0 && stats[s].prose * 2 >= stats[s].text && stats[s].prose > 0 && stats[s].link_density() < 0.25 {
            return true;
        }
        if dom.tag(s) != "p" {
            return false;
        }
        let len = stats[s].text;
        let density = stats[s].link_density();
        (len > 70 && density < 0.25)
            || (len > 0 && density == 0.0 && {
                let sentence = dom.collapsed_text(s);
                sentence.contains(". ") || sentence.ends_with('.')
            })
    };
    let siblings: Vec<usize> =
        dom.children(dom.parent(top)).filter(|&s| !removed[s] && dom.element(s).is_some()).collect();
    let Some(at) = siblings.iter().position(|&s| s == top) else { return vec![top] };
    // Outwards from the story: a block left out that holds more text than the story (a
    // sidebar, a link list) ends it on that side; what lies beyond belongs to the page.
    let mut keep = vec![false; siblings.len()];
    keep[at] = true;
    let gap_limit = stats[top].text;
    for side in [&mut (0..at).rev() as &mut dyn Iterator<Item = usize>, &mut (at + 1..siblings.len())] {
        let mut gap = 0u32;
        for k in side {
            let s = siblings[k];
            // A picture right beside the story (a featured image over it) is its picture.
            if belongs(s) || (gap == 0 && is_story_picture(dom, stats, s)) {
                keep[k] = true;
                gap = 0;
            } else {
                gap = gap.saturating_add(stats[s].text);
                if gap > gap_limit {
                    break;
                }
            }
        }
    }
    siblings.iter().zip(keep).filter(|(_, k)| *k).map(|(&s, _)| s).collect()
}

/// The times that head the entries of a live blog (or any page that is a series of dated
/// entries): a short `<time>` at the start of an entry, where at least [`MIN_LIVE_ENTRIES`]
/// entries (siblings of one tag and class) each start with one. A lone date line is the
/// template's and goes; these say when each entry was written and stay. Marked: each such
/// time and its ancestors inside its entry.
///
/// Cost: each `<time>` climbs at most [`MAX_STAMP_DEPTH`] levels and looks at most
/// [`MAX_STAMP_LEAD`] earlier siblings on each; each parent's children are counted by kind
/// once. Linear in the page.
fn entry_stamps(dom: &Dom, raw: &Stats) -> Vec<bool> {
    let mut stamps = vec![false; dom.len()];
    let times: Vec<usize> =
        (1..dom.len()).filter(|&i| dom.tag(i) == "time" && (1..40).contains(&raw[i].text)).collect();
    if times.len() < MIN_LIVE_ENTRIES {
        return stamps;
    }
    let kind = |i: usize| (dom.tag(i), dom.attr(i, &local_name!("class")).unwrap_or(""));
    // How many children of each kind a parent has, counted once per parent.
    let mut counted: foldhash::HashMap<usize, foldhash::HashMap<(&str, &str), usize>> = Default::default();
    // The entries (by their parent) whose first thing is a time, and those times.
    let mut entries: foldhash::HashMap<usize, Vec<(usize, usize)>> = Default::default();
    for &t in &times {
        let mut node = t;
        for _ in 0..MAX_STAMP_DEPTH {
            // Nothing written before the time inside its entry.
            let mut lead = 0;
            let mut before = dom.prev_element_sibling(node);
            while let Some(b) = before {
                lead += 1;
                if raw[b].text > 0 || lead > MAX_STAMP_LEAD {
                    break;
                }
                before = dom.prev_element_sibling(b);
            }
            if before.is_some() {
                break;
            }
            let parent = dom.parent(node);
            if parent == dom::ROOT || matches!(dom.tag(parent), "body" | "html") {
                break;
            }
            let unit = parent;
            let grand = dom.parent(unit);
            let kinds = counted.entry(grand).or_insert_with(|| {
                let mut m: foldhash::HashMap<(&str, &str), usize> = Default::default();
                for c in dom.children(grand).filter(|&c| dom.element(c).is_some()) {
                    *m.entry(kind(c)).or_default() += 1;
                }
                m
            });
            if kinds.get(&kind(unit)).copied().unwrap_or(0) >= MIN_LIVE_ENTRIES {
                entries.entry(grand).or_default().push((unit, t));
                break;
            }
            node = unit;
        }
    }
    for (_, found) in entries {
        if found.len() < MIN_LIVE_ENTRIES {
            continue;
        }
        for (unit, t) in found {
            for a in std::iter::once(t).chain(dom.ancestors(t)).take_while(|&a| a != unit) {
                stamps[a] = true;
            }
        }
    }
    stamps
}

/// A series of at least this many dated entries is a live blog.
const MIN_LIVE_ENTRIES: usize = 3;
/// An entry's time sits at most this many levels below the entry.
const MAX_STAMP_DEPTH: usize = 4;
/// Empty elements (icons, anchors) that may come before an entry's time on one level.
const MAX_STAMP_LEAD: usize = 3;

/// A figure or picture holding pictures of its own (not links to other pages) and at most a
/// caption's text: the featured image set beside the story's body rather than in it.
fn is_story_picture(dom: &Dom, stats: &Stats, i: usize) -> bool {
    let c = &stats[i];
    let picture_box = match dom.tag(i) {
        "figure" | "picture" => true,
        // A plain box around a picture, with no text of its own.
        "div" | "p" => c.text == 0,
        _ => false,
    };
    picture_box
        && c.images > c.linked_images
        && c.text <= MAX_STORY_PICTURE_TEXT
        && c.link * 2 <= c.text
        && c.paragraphs <= 1
}

/// A featured picture beside the story carries no more text than a caption and credit.
const MAX_STORY_PICTURE_TEXT: u32 = 400;

/// Removes link lists, form remains and image boxes from inside the chosen container, inner
/// elements first so that an outer block is judged on what is left of it.
fn clean_conditionally(
    dom: &Dom,
    stats: &mut Stats,
    classes: &[ClassInfo],
    stamps: &[bool],
    roots: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
) {
    for &root in roots {
        for i in dom.subtree(root).skip(1).rev() {
            if removed[i] {
                continue;
            }
            let tag = dom.tag(i);
            let judged = tags::is_heading(tag)
                || matches!(tag, "div" | "section" | "ul" | "ol" | "dl" | "table" | "form" | "fieldset" | "header");
            // The header of a live entry is its time.
            if !judged || stamps[i] {
                continue;
            }
            let mut weight = classes[i].weight;
            // A weak word alone ("media", "meta", "contact": no boilerplate role) does not
            // outweigh paragraphs of prose: a layout's "media" sections hold the story.
            if weight < 0.0 && classes[i].role.is_none() && stats[i].prose >= MIN_WEAK_WORD_PROSE {
                weight = 0.0;
            }
            let reason = conditional_reason(dom, stats, i, tag, weight);
            if let Some(reason) = reason {
                cut(dom, removed, log, i, reason, Some((stats, root)));
            }
        }
    }
}

/// Blocks of text with no block inside them, in document order: the paragraphs a reader
/// sees.
fn leaf_blocks(dom: &Dom, roots: &[usize], removed: &[bool]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut among_blocks: foldhash::HashMap<usize, bool> = Default::default();
    for &root in roots {
        dom.walk(root, Some(removed), |event| match event {
            Event::Enter(j) if tags::is_block(dom.tag(j)) && !dom.has_block_child(j, removed) => {
                out.push(j);
                Step::Over
            }
            // A link set straight among blocks ("« back to the list") is a line of its own.
            Event::Enter(j) if dom.tag(j) == "a" => {
                let parent = dom.parent(j);
                // Asked once per parent, however many links it holds.
                let among_blocks = *among_blocks.entry(parent).or_insert_with(|| dom.has_block_child(parent, removed));
                if among_blocks && stands_alone(dom, j, removed) {
                    out.push(j);
                }
                Step::Over
            }
            _ => Step::Into,
        });
    }
    out
}

/// An inline element that is a line of its own: between its container's edges, blocks and
/// `<br>`s, with nothing but blank text beside it (the caller checks that the container
/// holds blocks: a link alone in its paragraph is that paragraph's). Each node looked at
/// lies between `i` and its nearest neighbour that counts, so doing this for every link of a
/// page is linear.
fn stands_alone(dom: &Dom, i: usize, removed: &[bool]) -> bool {
    let parent = dom.parent(i);
    let siblings = dom.subtree(parent);
    // Whether sibling `k` ends the line (true), is nothing (None), or shares it (false).
    let ends_line = |k: usize| -> Option<bool> {
        if removed[k] {
            return None;
        }
        match dom.text(k) {
            Some(t) => (!t.trim().is_empty()).then_some(false),
            None if dom.element(k).is_none() => None,
            None => Some(tags::is_block(dom.tag(k)) || dom.tag(k) == "br"),
        }
    };
    let mut before = i;
    let alone_before = loop {
        if before <= parent + 1 {
            break true;
        }
        let mut k = before - 1;
        while dom.parent(k) != parent {
            k = dom.parent(k);
        }
        match ends_line(k) {
            Some(ends) => break ends,
            None => before = k,
        }
    };
    let mut after = dom.subtree(i).end;
    let alone_after = loop {
        if after >= siblings.end {
            break true;
        }
        match ends_line(after) {
            Some(ends) => break ends,
            None => after = dom.subtree(after).end,
        }
    };
    alone_before && alone_after
}

/// The last visible character of a block, if any.
/// `removed`: the nodes left out, if any are.
fn last_char(dom: &Dom, i: usize, removed: Option<&[bool]>) -> Option<char> {
    dom.subtree(i)
        .rev()
        .filter(|&j| removed.is_none_or(|r| !r[j]))
        .find_map(|j| dom.text(j).and_then(|t| t.trim_end().chars().last()))
}

/// Lines that close a page template rather than the story: tag lists, "More info" links,
/// author names, labels. Short, without a sentence's end, or mostly links.
fn is_trailing_chrome(dom: &Dom, stats: &Stats, removed: &[bool], i: usize) -> bool {
    let len = stats[i].text as usize;
    if len == 0 {
        return false;
    }
    if len >= TRAILING_CHROME_CHARS {
        return is_link_list(dom, stats, removed, i);
    }
    let sentence = last_char(dom, i, Some(removed)).is_some_and(|c| ends_sentence(c) || is_smiley(c));
    stats[i].link as usize * 2 > len || !sentence
}

/// A character that ends a sentence (or the quote or bracket closing one).
fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '"' | '”' | '“' | '»' | '«' | ')' | '…' | '。' | '！' | '？' | '）' | '」' | '』')
}

/// A face or a heart ending a line ("… and that was the best part 😉", "… ♥"): a sentence's
/// end in a personal post.
fn is_smiley(c: char) -> bool {
    matches!(c, '\u{1F600}'..='\u{1F64F}' | '\u{1F90C}'..='\u{1F92F}' | '\u{1F970}'..='\u{1F97F}' | '☺' | '♥' | '❤')
}

/// A block of links and little else, however long: at least [`MIN_LIST_LINKS`] links
/// holding nearly all its text ("See also" and the titles of other stories, one per line).
fn is_link_list(dom: &Dom, stats: &Stats, removed: &[bool], i: usize) -> bool {
    if stats[i].link * 10 < stats[i].text * 9 {
        return false;
    }
    let mut links = 0;
    dom.walk(i, Some(removed), |event| match event {
        Event::Enter(j) if dom.tag(j) == "a" => {
            links += usize::from(stats[j].text > 0);
            if links >= MIN_LIST_LINKS { Step::Stop } else { Step::Over }
        }
        _ => Step::Into,
    });
    links >= MIN_LIST_LINKS
}

/// A block with this many links holding nearly all its text is a list of links.
const MIN_LIST_LINKS: usize = 3;

/// The story's very last line is a short question to the reader ("Was this helpful?"): a
/// prompt of the template, not the story's end.
fn is_trailing_prompt(dom: &Dom, stats: &Stats, removed: &[bool], i: usize) -> bool {
    let len = stats[i].text as usize;
    len > 0
        && len < TRAILING_PROMPT_CHARS
        && last_char(dom, i, Some(removed)) == Some('?')
        && !tags::is_heading(dom.tag(i))
}

/// A question shorter than this (non-space characters) after the last paragraph is a prompt.
const TRAILING_PROMPT_CHARS: usize = 40;
/// A heading shorter than this with nothing of the story after it introduces the template's
/// matter (a rating form, a list of links).
const TRAILING_HEADING_CHARS: usize = 60;

/// Cuts template lines after the story's last real paragraph and before its first one. A
/// page with no real paragraph keeps everything: a short item is still an item.
fn trim_trailing_chrome(
    dom: &Dom,
    stats: &mut Stats,
    stamps: &[bool],
    roots: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
) {
    let mut end = Ending::new(dom, roots, removed);
    trim_paywall_notice(&mut end, stats, removed, log);
    trim_reader_appeal(&mut end, stats, removed, log);
    for (groups, limit, reason) in [
        (boilerplate::disclosure_groups as fn(&str) -> u32, PAYWALL_NOTICE_CHARS, DISCLOSURE),
        (boilerplate::cookie_notice_groups, APPEAL_CHARS, "cookie notice"),
        (boilerplate::post_meta_groups, APPEAL_CHARS, "post metadata line"),
        (boilerplate::disclaimer_groups, APPEAL_CHARS, "editor's disclaimer"),
    ] {
        let groups = |text: &str| Some(groups(text)).filter(|&mask| mask != 0);
        end.trim_notice(stats, removed, log, (limit, false), groups, reason);
    }
    let blocks = end.into_blocks(removed);
    let structural = |b: usize| matches!(dom.tag(b), "li" | "td" | "th" | "tr" | "dd" | "dt" | "pre" | "blockquote");
    // The author's sign-off ("x Anna") is the story's last line, not the template's.
    let chrome = |b: usize, removed: &[bool], stats: &Stats| {
        stats[b].text == 0
            || is_trailing_chrome(dom, stats, removed, b)
                && !(stats[b].link == 0
                    && stats[b].text as usize <= boilerplate::MAX_SIGN_OFF_CHARS
                    && boilerplate::is_sign_off(&dom.collapsed_text(b)))
    };
    let Some(last_real) = blocks.iter().rposition(|&b| !chrome(b, removed, stats)) else { return };
    // The last real line may be a prompt; the lines before it stay (a list the prompt ends
    // is still the story's).
    // So may a short heading, which introduces what the template put after the story.
    let last = blocks[last_real];
    let prompt = last_real > 0
        && (is_trailing_prompt(dom, stats, removed, last)
            || tags::is_heading(dom.tag(last))
                && (stats[last].text as usize) < TRAILING_HEADING_CHARS
                && last_char(dom, last, Some(removed)) != Some('.'));
    for &b in blocks[last_real + 1..].iter().rev() {
        // A list of links after the story ("Read next", "More on this") goes with its label;
        // any other list, table or quote is the story's.
        let link_item = dom.tag(b) == "li" && stats[b].text > 0 && stats[b].link * 2 > stats[b].text;
        if structural(b) && !link_item {
            break;
        }
        if stats[b].text > 0 {
            cut(dom, removed, log, b, "trailing template line", Some((stats, dom::ROOT)));
        }
    }
    if prompt {
        cut(dom, removed, log, blocks[last_real], "trailing prompt", Some((stats, dom::ROOT)));
    }
    // Before the first paragraph: labels, dates and breadcrumbs, but not headings nor the
    // time of a live entry, nor the label of a list that opens the story ("Before you
    // start:" over its items).
    for (k, &b) in blocks.iter().enumerate() {
        if structural(b) || tags::is_heading(dom.tag(b)) || stamps[b] || !chrome(b, removed, stats) {
            break;
        }
        let labels_list = blocks.get(k + 1).is_some_and(|&next| matches!(dom.tag(next), "li" | "dt"))
            && last_char(dom, b, Some(removed)).is_some_and(|c| matches!(c, ':' | '：'));
        if labels_list {
            break;
        }
        if stats[b].text == 0 || stats[b].text as usize >= LEADING_CHROME_CHARS {
            break;
        }
        cut(dom, removed, log, b, "leading template line", Some((stats, dom::ROOT)));
    }
}

/// Why a line introducing other stories ("Read more", "Related", "Siehe auch") was cut.
const TEASER_LABEL: &str = "\"read more\" teaser";

/// What a label of further reading ("Related", "Further reading", "Siehe auch") introduces
/// after the story: when the story's last label without a link is followed only by short
/// blocks (two or more, or one template line) holding at most half as much text as the story,
/// those are the list it announced (teasers, other stories, a reading list) and go.
fn trim_further_reading(
    dom: &Dom,
    raw: &Stats,
    stats: &mut Stats,
    roots: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
) {
    let inside = |i: usize| roots.iter().any(|&r| dom.contains(r, i));
    let Some(label) = log
        .iter()
        .filter(|&&(i, reason)| reason == TEASER_LABEL && raw[i].link == 0 && inside(i))
        .map(|&(i, _)| i)
        .max()
    else {
        return;
    };
    let after_label = dom.subtree(label).end;
    let blocks = leaf_blocks(dom, roots, removed);
    let (mut before, mut after, mut list) = (0u32, 0u32, Vec::new());
    for &b in &blocks {
        let text = stats[b].text;
        if b < label {
            before += text;
        } else if b >= after_label && text > 0 {
            // Items of a list that are not links are the story's notes, not other stories.
            let note = dom.tag(b) == "li" && stats[b].link * 2 <= text;
            if text >= FURTHER_READING_BLOCK_CHARS || note {
                return;
            }
            after += text;
            list.push(b);
        }
    }
    // One paragraph after a label may be the story's last (the label set into it); a list
    // has two items or more, or is one line of links or labels.
    let a_list = match list[..] {
        [] => false,
        [one] => is_trailing_chrome(dom, stats, removed, one),
        _ => true,
    };
    if !a_list || after.saturating_mul(2) > before {
        return;
    }
    for b in list {
        cut(dom, removed, log, b, "further reading after its label", Some((stats, dom::ROOT)));
    }
}

/// A box named as other stories ("related-posts", "recommended", "trending") after the
/// story, kept by a pass that reads no class words (because some other class word hid the
/// story in the strict pass: an "elementor-widget" around every paragraph): it goes when no
/// paragraph of the story follows it and it holds less than half of the kept text. One
/// pass over the roots' nodes.
fn trim_other_stories(
    dom: &Dom,
    classes: &[ClassInfo],
    stats: &mut Stats,
    roots: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
) {
    for &root in roots {
        // The outermost boxes, and the story's last paragraph outside them.
        let (mut boxes, mut last_paragraph) = (Vec::new(), None);
        dom.walk(root, Some(removed), |event| match event {
            Event::Enter(j) if j != root && classes[j].other_stories => {
                boxes.push(j);
                Step::Over
            }
            Event::Enter(j) => {
                if dom.tag(j) == "p" && stats[j].prose > 0 {
                    last_paragraph = Some(j);
                }
                Step::Into
            }
            Event::Leave(_) => Step::Into,
        });
        let Some(last_paragraph) = last_paragraph else { continue };
        for b in boxes {
            if b > last_paragraph && stats[b].text > 0 && stats[b].text * 2 < stats[root].text {
                cut(dom, removed, log, b, "box of other stories after the story", Some((stats, dom::ROOT)));
            }
        }
    }
}

/// A block after a further-reading label with this much text (non-space characters) or more
/// is the story going on, not a list.
const FURTHER_READING_BLOCK_CHARS: u32 = 300;

/// Why [`trim_paywall_notice`] cut a block.
const PAYWALL_NOTICE: &str = "paywall notice";

/// Blocks under this many non-space characters can be a subscription notice.
const PAYWALL_NOTICE_CHARS: u32 = 300;

/// A paywall's notice at the story's end ("To read the full story, please subscribe…",
/// "Already a subscriber? Log in…"): the last blocks, each short and speaking of
/// subscribing or signing in (or pressing the publisher's app), one of them of two such
/// things (the quality guard's vocabulary). A story that merely ends on the word
/// "subscribers" keeps its line.
fn trim_paywall_notice(end: &mut Ending, stats: &mut Stats, removed: &mut [bool], log: &mut Vec<Cut>) {
    let groups = |text: &str| match verdict::paywall_groups(text) {
        0 if verdict::is_app_promo(text) => Some(0),
        0 => None,
        mask => Some(mask),
    };
    end.trim_notice(stats, removed, log, (PAYWALL_NOTICE_CHARS, false), groups, PAYWALL_NOTICE);
}

/// Why an advertising disclosure was cut, before the story or after it (see
/// [`boilerplate::disclosure_groups`]): among the first [`LEADING_DISCLOSURE_BLOCKS`] blocks
/// or at the end.
const DISCLOSURE: &str = "advertising disclosure";

/// See [`DISCLOSURE`].
fn trim_leading_disclosure(dom: &Dom, stats: &mut Stats, blocks: &[usize], removed: &mut [bool], log: &mut Vec<Cut>) {
    let mut written = blocks.iter().filter(|&&b| !removed[b] && stats[b].text > 0);
    let first: Vec<usize> = written.by_ref().take(LEADING_DISCLOSURE_BLOCKS).copied().collect();
    // Never the whole story.
    if written.next().is_none() {
        return;
    }
    for b in first {
        if stats[b].text < APPEAL_CHARS && boilerplate::disclosure_groups(&dom.collapsed_text(b)).count_ones() >= 2 {
            cut(dom, removed, log, b, DISCLOSURE, Some((stats, dom::ROOT)));
        }
    }
}

/// The author's lines that the metadata carries: the story's first line when it is only the
/// author's name ("Jane Doe", "By Jane Doe"), and its last block when it is the author's short
/// biography, opening with the byline's full name and going on about them ("Jana Berg ist
/// Redakteurin bei …", "Jane Doe is a reporter covering …"; a one-word byline is too weak a
/// sign for that). Neither goes when it is the whole story.
fn trim_author_lines(
    dom: &Dom,
    stats: &mut Stats,
    blocks: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
    byline: &str,
) {
    let written: Vec<usize> = blocks.iter().copied().filter(|&b| !removed[b] && stats[b].text > 0).collect();
    let (Some(&first), Some(&last)) = (written.first(), written.last()) else { return };
    if first == last {
        return;
    }
    let byline_cut =
        stats[first].text as usize <= byline.len() + 8 && metadata::is_byline_of(&dom.collapsed_text(first), byline);
    if byline_cut {
        cut(dom, removed, log, first, "byline", Some((stats, dom::ROOT)));
    }
    let name = byline.trim();
    let story_left = written.len() - usize::from(byline_cut) > 1;
    if !story_left || name.split_whitespace().count() < 2 || stats[last].text > MAX_BIO_CHARS {
        return;
    }
    let line = dom.collapsed_text(last);
    let Some(rest) = line.strip_prefix(name) else { return };
    let goes_on = rest.starts_with(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | '–' | '—'));
    if goes_on && rest.trim().chars().count() >= MIN_BIO_TAIL_CHARS {
        cut(dom, removed, log, last, "author's biography", Some((stats, dom::ROOT)));
    }
}

/// Another story set inside this one (a box floated beside the text that tells a related
/// story whole): a box that opens with a heading and then a byline line ("By Jane Doe for
/// Agency") naming someone other than the page's author, holding less than half the story's
/// text. Each heading looks at most [`MAX_EMBEDDED_SCAN`] nodes ahead for its byline and as
/// many of its box's children before it.
fn trim_embedded_stories(
    dom: &Dom,
    stats: &mut Stats,
    roots: &[usize],
    removed: &mut [bool],
    log: &mut Vec<Cut>,
    byline: Option<&str>,
) {
    for &root in roots {
        for h in dom.subtree(root).skip(1) {
            if removed[h] || !matches!(dom.tag(h), "h2" | "h3" | "h4") || stats[h].text == 0 {
                continue;
            }
            let b = dom.parent(h);
            if b == root || !dom.contains(root, b) || removed[b] || stats[b].text * 2 >= stats[root].text {
                continue;
            }
            // The heading opens the box: nothing with text before it among its first children.
            let mut written = dom.children(b).take(MAX_EMBEDDED_SCAN).filter(|&c| !removed[c] && stats[c].text > 0);
            if written.next() != Some(h) {
                continue;
            }
            let end = dom.subtree(b).end.min(dom.subtree(h).end + MAX_EMBEDDED_SCAN);
            let Some(line) = (dom.subtree(h).end..end).find(|&j| {
                !removed[j] && stats[j].text > 0 && tags::is_block(dom.tag(j)) && !dom.has_block_child(j, removed)
            }) else {
                continue;
            };
            if stats[line].text > MAX_EMBEDDED_BYLINE_CHARS {
                continue;
            }
            let text = dom.collapsed_text(line);
            // A name, not a sentence ("By law, a loaf must be…").
            let other_author = !text.trim_end().ends_with('.')
                && metadata::byline_name(&text).is_some_and(|name| {
                    name.starts_with(char::is_uppercase) && byline.is_none_or(|own| !metadata::is_byline_of(&name, own))
                });
            if other_author {
                cut(dom, removed, log, b, "another story inside the story", Some((stats, root)));
            }
        }
    }
}

/// Nodes after a box's heading looked at for its byline, and children of the box looked at
/// before the heading.
const MAX_EMBEDDED_SCAN: usize = 32;
/// The byline line of a story set inside another is shorter than this (non-space characters).
const MAX_EMBEDDED_BYLINE_CHARS: u32 = 80;

/// The story's last block when it is a short label announcing what is not there ("See also:",
/// "Internet:", "Code *:", "Click here:"): what it introduced was cut or never was the story's.
/// A form's labels ("Email *:", "Code *:") go one after the other, a few at most.
fn trim_dangling_label(dom: &Dom, stats: &mut Stats, blocks: &[usize], removed: &mut [bool], log: &mut Vec<Cut>) {
    for _ in 0..MAX_DANGLING_LABELS {
        let mut written = blocks.iter().rev().filter(|&&b| !removed[b] && stats[b].text > 0);
        let (Some(&last), Some(_)) = (written.next(), written.next()) else { return };
        if stats[last].text >= MAX_DANGLING_LABEL_CHARS || !dom.collapsed_text(last).trim_end().ends_with([':', '：'])
        {
            return;
        }
        cut(dom, removed, log, last, "label with nothing after it", Some((stats, dom::ROOT)));
    }
}

/// Labels left at the story's end, at most, that go.
const MAX_DANGLING_LABELS: usize = 3;

/// A label left at the story's end is shorter than this (non-space characters).
const MAX_DANGLING_LABEL_CHARS: u32 = 50;

/// An author's biography after the story is shorter than this (non-space characters).
const MAX_BIO_CHARS: u32 = 500;
/// What a biography says after the name, at least (characters).
const MIN_BIO_TAIL_CHARS: usize = 20;

/// A disclosure before the story is among its first this many blocks.
const LEADING_DISCLOSURE_BLOCKS: usize = 2;

/// An appeal to the reader after the story: follow us, write to us, support us, join us
/// (see [`boilerplate::appeal_groups`]); its heading goes with it.
fn trim_reader_appeal(end: &mut Ending, stats: &mut Stats, removed: &mut [bool], log: &mut Vec<Cut>) {
    let groups = |text: &str| Some(boilerplate::appeal_groups(text)).filter(|&mask| mask != 0);
    // Cutting the appeal's last blocks can leave its first lines alone in their box (text
    // set beside the blocks cut): another look takes them.
    for _ in 0..APPEAL_ROUNDS {
        if !end.trim_notice(stats, removed, log, (APPEAL_CHARS, true), groups, "appeal to the reader") {
            break;
        }
    }
}

/// Looks at the story's end for an appeal at most this many times.
const APPEAL_ROUNDS: usize = 3;

/// An appeal's blocks are shorter than this (non-space characters): a paragraph asking for
/// support runs longer than a paywall's line.
const APPEAL_CHARS: u32 = 500;

/// A notice at the story's end has at most this many blocks.
const MAX_NOTICE_BLOCKS: usize = 16;
/// Template lines in a row among a notice's lines, at most.
const MAX_NOTICE_GAP: usize = 3;

/// The story's leaf blocks, for the rules that read its end, with the texts of those they
/// read: each rule looks at the last few blocks, and most at the very same ones. Cutting a
/// block can make its box a leaf block in turn, so the blocks are listed again after a cut.
struct Ending<'e, 'd> {
    dom: &'e Dom<'d>,
    roots: &'e [usize],
    blocks: Vec<usize>,
    /// The blocks are listed again before the next use.
    stale: bool,
    texts: foldhash::HashMap<usize, String>,
}

impl<'e, 'd> Ending<'e, 'd> {
    fn new(dom: &'e Dom<'d>, roots: &'e [usize], removed: &[bool]) -> Self {
        Ending { dom, roots, blocks: leaf_blocks(dom, roots, removed), stale: false, texts: Default::default() }
    }

    fn blocks(&mut self, removed: &[bool]) -> &[usize] {
        if std::mem::take(&mut self.stale) {
            self.blocks = leaf_blocks(self.dom, self.roots, removed);
        }
        &self.blocks
    }

    fn into_blocks(mut self, removed: &[bool]) -> Vec<usize> {
        self.blocks(removed);
        self.blocks
    }

    /// Cuts the run of short blocks at the story's end that each say something of a notice
    /// (`groups` of its vocabulary, one bit each; `None` for a block that says nothing of
    /// it), when one of them says two groups or more, or the run says three. Each block is
    /// shorter than `limit.0`; headings may be part of the run when `limit.1`. The notice
    /// never takes the whole story. Whether it cut.
    fn trim_notice(
        &mut self,
        stats: &mut Stats,
        removed: &mut [bool],
        log: &mut Vec<Cut>,
        (limit, headings): (u32, bool),
        groups: impl Fn(&str) -> Option<u32>,
        reason: &'static str,
    ) -> bool {
        let dom = self.dom;
        self.blocks(removed);
        let mut run = Vec::new();
        let mut strong = false;
        let mut said = 0u32;
        let mut notice_end = 0;
        for &b in self.blocks.iter().rev() {
            if stats[b].text == 0 {
                continue;
            }
            if stats[b].text >= limit || (!headings && tags::is_heading(dom.tag(b))) {
                break;
            }
            // A notice is a few lines: the walk up from the end stops after a few lines
            // that say nothing of it (on any page, however many short lines it ends with).
            if run.len() >= MAX_NOTICE_BLOCKS {
                break;
            }
            let text = self.texts.entry(b).or_insert_with(|| dom.collapsed_text(b));
            let Some(mask) = groups(text) else {
                // A template line (short, no sentence, or links) may sit among the notice's
                // lines.
                if run.len() - notice_end < MAX_NOTICE_GAP
                    && is_trailing_chrome(dom, stats, removed, b)
                    && stats[b].text < TRAILING_CHROME_CHARS as u32
                {
                    run.push(b);
                    continue;
                }
                break;
            };
            strong |= mask.count_ones() >= 2;
            said |= mask;
            run.push(b);
            notice_end = run.len();
        }
        // Template lines above the notice's first line are not the notice's.
        run.truncate(notice_end);
        strong |= said.count_ones() >= 3;
        if !strong || run.len() == self.blocks.iter().filter(|&&b| stats[b].text > 0).count() {
            return false;
        }
        for b in run {
            cut(dom, removed, log, b, reason, Some((stats, dom::ROOT)));
        }
        self.stale = true;
        true
    }
}

/// Non-space characters of a string.
fn dense_len(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Intro paragraphs between the headline and the chosen content: templates put the
/// standfirst in the article header, apart from the body, but it is the story's first
/// paragraph. Only prose counts (no bylines, dates or link lists), and only inside the
/// container that holds both the headline and the body.
fn find_intro(dom: &Dom, stats: &Stats, removed: &[bool], roots: &[usize]) -> Vec<usize> {
    let Some(&first) = roots.first() else { return Vec::new() };
    let Some(h1) = (1..first).rev().find(|&i| dom.tag(i) == "h1" && !dom.contains(i, first)) else {
        return Vec::new();
    };
    // The lowest common ancestor of the headline and the body.
    let scope = dom.ancestors(h1).find(|&a| dom.contains(a, first)).unwrap_or(dom::ROOT);
    if matches!(dom.tag(scope), "body" | "html" | "") {
        return Vec::new();
    }
    let mut out = Vec::new();
    dom.walk_range(dom.subtree(h1).end..first, Some(removed), |event| {
        let Event::Enter(j) = event else { return Step::Into };
        if out.len() >= MAX_INTRO_PROSE_BLOCKS {
            return Step::Stop;
        }
        let prose_like = match dom.tag(j) {
            "p" => true,
            "h2" | "h3" | "div" | "section" | "span" => !dom.has_block_child(j, removed),
            _ => false,
        };
        if !prose_like || dom.contains(j, first) {
            return Step::Into;
        }
        let c = stats[j];
        // A picture's caption ending with its credit ("… in Bremen. © Agency") is not the intro.
        let caption = || c.text < 250 && boilerplate::ends_with_credit(&dom.collapsed_text(j));
        if c.text >= MIN_INTRO_CHARS && c.link * 4 < c.text && !dom.has_ancestor(j, 4, |t| t == "figure") && !caption()
        {
            if out.len() >= MAX_INTRO_BLOCKS
                && (c.text < MIN_INTRO_PROSE_CHARS || !last_char(dom, j, Some(removed)).is_some_and(ends_sentence))
            {
                return Step::Stop;
            }
            out.push(j);
        } else if out.len() >= MAX_INTRO_BLOCKS && c.text > 0 {
            return Step::Stop;
        }
        Step::Over
    });
    out
}

/// The standfirst: a paragraph before the chosen content that says what the page's
/// description says. News and blog templates often set it apart from the body (in the
/// header, above the image), but it is the first paragraph of the story.
fn find_lead(dom: &Dom, removed: &[bool], roots: &[usize], description: Option<&str>) -> Option<usize> {
    let description = description?;
    let first = *roots.first()?;
    let want = dense_len(description);
    if want < 40 {
        return None;
    }
    let key: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let key: String = key.trim_end_matches(['.', '…']).chars().take(60).collect();
    let mut lead = None;
    dom.walk_range(1..first, Some(removed), |event| {
        let Event::Enter(i) = event else { return Step::Into };
        let tag = dom.tag(i);
        let candidate = matches!(tag, "p" | "h2" | "h3" | "div" | "span" | "strong" | "em" | "section")
            && (tag != "div" && tag != "section" || !dom.has_block_child(i, removed));
        if candidate && !dom.contains(i, first) {
            let text = dom.collapsed_text(i);
            let len = dense_len(&text);
            if len * 10 >= want * 8 && len <= want * 3 && text.starts_with(&key) {
                lead = Some(i);
                return Step::Stop;
            }
        }
        Step::Into
    });
    lead
}

/// Readability's `_cleanConditionally` tests, each named: why a block inside the story is
/// not part of it.
fn conditional_reason(dom: &Dom, stats: &Stats, i: usize, tag: &str, weight: f32) -> Option<&'static str> {
    let text = stats[i].text;
    let density = stats[i].link_density();
    if tags::is_heading(tag) {
        return if weight < 0.0 {
            Some("conditional: heading with a boilerplate class")
        } else if density > 0.5 && text > 0 {
            Some("conditional: heading that is a link")
        } else {
            None
        };
    }
    if weight < 0.0 {
        return Some("conditional: boilerplate class weight");
    }
    // Data tables and comma-rich prose are content whatever their links.
    if (tag == "table" && is_data_table(dom, stats, i)) || stats[i].commas >= 10 {
        return None;
    }
    let is_list = matches!(tag, "ul" | "ol" | "dl");
    let p = stats[i].paragraphs as f32;
    let img = stats[i].images as f32;
    let heading_density = if text == 0 { 0.0 } else { stats[i].heading_text as f32 / text as f32 };
    let in_figure = dom.has_ancestor(i, 3, |t| t == "figure");
    // Step-by-step lists and galleries with text under each picture are content: only a
    // box of pictures with little text is not.
    let blocks = p + stats[i].list_items as f32;
    let linked = stats[i].linked_images as f32;
    // A quoted post's hashtags and links are the quote's: the link density of a box that is
    // mostly a quote says nothing about it.
    let mostly_quote = stats[i].quote_text * 10 >= text * 8;
    // A paragraph of prose with links set into its words (topic links) is not a link list.
    // Its anchors may be long ("passengers returning from <a>Denmark, Iceland and …</a>"): a
    // sentence of 100+ characters, under half of it link, is still a sentence.
    let one_paragraph = || {
        wrapped_paragraph(dom, i).is_some_and(|p| {
            let s = stats[p];
            s.prose * 10 >= text * 8
                || s.text * 10 >= text * 8
                    && s.text >= MIN_INTRO_PROSE_CHARS
                    && s.link * 2 < s.text
                    && last_char(dom, p, None).is_some_and(ends_sentence)
        })
    };
    if img > 1.0 && blocks / img < 0.5 && (text as f32) / img < 150.0 && linked * 2.0 >= img && !in_figure {
        Some("conditional: a box of linked pictures")
    } else if stats[i].inputs as f32 > (p / 3.0).floor() {
        Some("conditional: form fields")
    } else if !is_list
        && heading_density < 0.9
        && text < 20
        && (img == 0.0 || (img > 2.0 && linked * 2.0 >= img))
        && !in_figure
        && !wraps_one_block(dom, stats, i)
    {
        Some("conditional: almost no text")
    } else if !is_list && weight < 25.0 && density > 0.2 && !mostly_quote && !one_paragraph() {
        Some("conditional: link density over 0.2")
    } else if (weight >= 25.0 || is_list) && density > 0.5 {
        Some("conditional: link density over 0.5")
    } else if (stats[i].embeds == 1 && text < 65) || stats[i].embeds > 1 {
        Some("conditional: embeds")
    } else {
        None
    }
}

/// The one block element among `i`'s children, when it is a paragraph (beside inline
/// elements such as a drop capital).
fn wrapped_paragraph(dom: &Dom, i: usize) -> Option<usize> {
    sole_child(dom, i, |c| tags::is_block(dom.tag(c))).filter(|&p| dom.tag(p) == "p")
}

/// `i`'s one child element that `counts`, when there is exactly one. The children are read up
/// to the second such element.
fn sole_child(dom: &Dom, i: usize, counts: impl Fn(usize) -> bool) -> Option<usize> {
    let mut found = dom.children(i).filter(|&c| dom.element(c).is_some() && counts(c));
    match (found.next(), found.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Element `i` only wraps one short block of the story: a code listing (`<div><pre>pip
/// install x</pre></div>`) or a paragraph with no links (a subheading set as a bold line). Only
/// its children are read, up to the second element (a heading left alone after its list was
/// cut is not such a block).
fn wraps_one_block(dom: &Dom, stats: &Stats, i: usize) -> bool {
    let Some(block) = sole_child(dom, i, |_| true) else { return false };
    match dom.tag(block) {
        "pre" => true,
        "p" => stats[block].text == stats[i].text && stats[i].link == 0 && stats[i].images == 0 && stats[i].text > 0,
        _ => false,
    }
}

/// A table of data (rows and columns of facts), not a layout table.
fn is_data_table(dom: &Dom, stats: &Stats, i: usize) -> bool {
    if dom.attr(i, &local_name!("role")) == Some("presentation") {
        return false;
    }
    let mut rows = 0;
    let mut cells = 0;
    let mut header = false;
    for j in dom.subtree(i) {
        match dom.tag(j) {
            "tr" => rows += 1,
            "td" => cells += 1,
            "th" | "caption" | "thead" => {
                header = true;
                cells += 1;
            }
            "table" if j != i => return false,
            _ => {}
        }
    }
    (header || (rows >= 3 && cells >= rows * 2)) && stats[i].link_density() < 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(html: &str) -> Article {
        article(html, Some(&Url::parse("https://news.example/world/story.html").unwrap()), &Options::default()).unwrap()
    }

    #[test]
    fn a_story_that_ends_on_subscribers_keeps_its_line() {
        let para = "<p>The water board met on Tuesday and agreed to replace the old mains under the high street \
                    over the winter, street by street, so that no house is without water for more than a day.</p>";
        let html = format!(
            "<html><body><article><h1>Mains</h1>{para}{para}<p>Subscribers to the scheme will see lower bills \
             from March.</p></article></body></html>"
        );
        assert!(extract(&html).text.ends_with("Subscribers to the scheme will see lower bills from March."));
        // Subscribing and signing in, said together at the end: a paywall's notice.
        let html = html.replace("</article>", "<p>Already a subscriber? Log in to read on.</p></article>");
        let text = extract(&html).text;
        assert!(text.ends_with("no house is without water for more than a day."), "{text}");
        // A notice followed by a line pressing the publisher's app.
        let html = html.replace(
            "<p>Already a subscriber? Log in to read on.</p>",
            "<p>Subscribe now to our print edition for the full story.</p><p>Download our apps for iOS and Android.</p>",
        );
        let text = extract(&html).text;
        assert!(text.ends_with("no house is without water for more than a day."), "{text}");
    }

    const PARA: &str = "The committee met on Tuesday to discuss the budget, which has grown by a third since last year, and agreed to publish its findings in the spring.";

    #[test]
    fn picks_the_story_and_drops_chrome() {
        let html = format!(
            r#"<html><head><title>Budget grows | Daily</title></head><body>
            <nav><a href="/">Home</a><a href="/world">World</a></nav>
            <div class="main"><h1>Budget grows</h1>
              <div class="share-bar"><a href="x">Share on Facebook</a></div>
              <div class="article-body"><p>{PARA}</p><p>{PARA}</p>
                <figure><img src="/img/a.jpg" alt="A"><figcaption>The committee room on Tuesday.</figcaption></figure>
                <p>{PARA}</p><ul class="related-links"><li><a href="/o">Other story</a></li></ul></div>
              <div id="comments"><h3>3 Comments</h3><p>Great article, thanks for sharing it with us all.</p></div>
            </div><footer>Copyright</footer></body></html>"#
        );
        let a = extract(&html);
        assert_eq!(a.text, format!("{PARA}\n\n{PARA}\n\n{PARA}"));
        assert!(a.html.contains(r#"<img src="https://news.example/img/a.jpg" alt="A">"#), "{}", a.html);
        assert!(!a.html.contains("figcaption"));
        assert_eq!(a.title.as_deref(), Some("Budget grows"));
    }

    #[test]
    fn captions_can_be_kept() {
        let html = format!(
            "<body><article><p>{PARA}</p><figure><img src='a.jpg'><figcaption>Room.</figcaption></figure><p>{PARA}</p></article></body>"
        );
        let opts = Options { captions: Captions::Keep, ..Options::default() };
        let a = article(&html, None, &opts).unwrap();
        assert_eq!(a.text, format!("{PARA}\n\nRoom.\n\n{PARA}"));
    }

    #[test]
    fn forced_content_and_remove_selectors() {
        let html = format!(
            "<body><div id='a'><p>{PARA}</p><p class='x'>Drop me please now</p></div><div id='b'><p>{PARA} B</p></div></body>"
        );
        let opts = Options { content: Some("#a".into()), remove: vec![".x".into()], ..Options::default() };
        assert_eq!(article(&html, None, &opts).unwrap().text, PARA);
    }

    #[test]
    fn continuation_pages() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_continuation(&u("https://a.example/news/story"), &u("https://a.example/news/story/2")));
        assert!(is_continuation(&u("https://a.example/news/story.html"), &u("https://a.example/news/story-2.html")));
        assert!(is_continuation(&u("https://a.example/s?id=4"), &u("https://a.example/s?id=4&page=2")));
        assert!(is_continuation(&u("https://a.example/blog/post/"), &u("https://a.example/blog/post/page/2/")));
        assert!(!is_continuation(&u("https://a.example/news/story"), &u("https://a.example/news/other-story")));
        assert!(!is_continuation(&u("https://a.example/blog/post"), &u("https://b.example/blog/post/2")));
        assert!(!is_continuation(&u("https://a.example/s?id=4"), &u("https://a.example/s?id=5")));
        // WordPress post ids are not page numbers.
        assert!(!is_continuation(&u("https://a.example/?p=123"), &u("https://a.example/?p=124")));
    }

    #[test]
    fn empty_and_odd_inputs_do_not_panic() {
        for html in ["", "<", "<html>", "<body><p>short</p></body>", "\u{0}\u{feff}<p>x", "<table><tr><td>a"] {
            let _ = extract(html);
        }
        // Nesting past the parser's limit is a failed article (the feed's own content is used).
        let deep = "<div>".repeat(5000) + "deep text here" + &"</div>".repeat(5000);
        let options = Options::default();
        assert_eq!(article(&deep, None, &options).unwrap_err(), HtmlError::TooDeep);
        let deep_enough = "<div>".repeat(400) + "deep text here" + &"</div>".repeat(400);
        assert_eq!(extract(&deep_enough).text, "deep text here");
    }

    #[test]
    fn noscript_elements_are_opened_as_divs_and_nothing_else_changes() {
        assert_eq!(
            noscript_opened("<p>a</p><NoScript class=x><p>b</p></NOSCRIPT ><noscripts>c</noscripts></noscript"),
            Some("<p>a</p><div      class=x><p>b</p></div      ><noscripts>c</noscripts></div     ".to_owned())
        );
        assert_eq!(noscript_opened("<p>no such element</p><noscrip"), None);
        // One pass, whatever the page: a million openings cost a million steps.
        let hostile = "<noscript>".repeat(1_000_000);
        assert_eq!(noscript_opened(&hostile).map(|s| s.len()), Some(hostile.len()));
    }

    #[test]
    fn an_empty_noscript_as_the_last_node_of_the_page_is_read_safely() {
        // Its first child was looked for one past the end of the page (a panic).
        for page in [
            format!("<html><body><p>{PARA}</p><noscript></noscript>"),
            format!("<html><body><p>{PARA}</p><script type=\"application/ld+json\"></script>"),
        ] {
            assert_eq!(extract(&page).text, PARA, "{page}");
        }
    }

    #[test]
    fn many_short_paragraphs_cost_time_in_proportion() {
        // Each short paragraph once looked for its previous sibling from the first child of
        // its parent: 40,000 siblings made 800 million steps and ran out of CPU time.
        let page = format!("<html><body>{}</body></html>", "<p>a paragraph</p>".repeat(40_000));
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        assert!(article(&page, None, &options).is_ok());
    }

    #[test]
    fn words_after_a_link_keep_their_space_in_html_and_a_drop_capital_joins_its_word() {
        let page = format!(
            "<html><body><article><div><span class=dropcap>T</span><p><a href=/t>urkey</a>, <a href=/p>Poland</a> and \
             <em>Malta</em> <b>have</b> been removed.</p><p>{PARA}</p><p>{PARA}</p></div></article></body></html>"
        );
        let options = Options { html: true, ..Options::default() };
        let a = article(&page, None, &options).unwrap();
        assert!(a.html.contains("Poland</a> and <em>Malta</em> <b>have</b> been"), "{}", a.html);
        assert!(a.text.starts_with("Turkey, Poland and Malta have been removed.\n\n"), "{}", a.text);
    }

    #[test]
    fn a_long_tag_before_many_spaces_costs_time_in_proportion() {
        // Each text after a tag reads back for the tag's name: behind a 1 MB title, 250,000
        // spaces set apart by scripts would cost 250 billion steps if each read back to its '<'.
        let title = "x".repeat(1_000_000);
        let spaces = " <script></script>".repeat(250_000);
        let page = format!(
            "<html><body><article><div><p>{PARA}</p><p>{PARA}</p><blockquote title=\"{title}\">{spaces}<p>{PARA}</p></blockquote></div></article></body></html>"
        );
        let options = Options { html: true, cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        let a = article(&page, None, &options).unwrap();
        assert!(a.text.starts_with(PARA), "{}", &a.text[..200.min(a.text.len())]);
    }

    #[test]
    fn a_recipe_lacks_its_ingredients_when_the_story_holds_fewer_than_half() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ingredients = list(&["250 g flour", "2 Dose/n Pfirsiche , je ca. 400 g", "1 egg", "pinch of salt"]);
        // Spacing and punctuation aside, the story's list holds them.
        let story = "250 g Flour\n2 Dose/n Pfirsiche, je ca. 400 g\n1 egg\n\nMix and bake.";
        assert!(!ingredients_missing(story, &ingredients));
        // Steps that name two of four are not the list.
        assert!(ingredients_missing("Mix the flour with 1 egg and bake.", &ingredients[1..]));
        assert!(!ingredients_missing("Mix the flour with 1 egg and a pinch of salt.", &ingredients[2..]));
        // One ingredient is not a recipe's list.
        assert!(!ingredients_missing("", &ingredients[..1]));
    }

    #[test]
    fn many_headings_in_one_box_cost_time_in_proportion() {
        // Each heading asks whether it opens its box and whether a byline follows it: 40,000
        // headings after 40,000 empty children would cost 1.6 billion steps if each looked
        // at all the children before it.
        // (Padded: a page may hold one element per so many bytes.)
        let box_ = format!(
            "<div>{}{}</div>",
            "<span class=padding-padding></span>".repeat(40_000),
            "<h3 class=padding-padding>x</h3>".repeat(40_000)
        );
        // A story long enough for the box to be a small part of it.
        let story = format!("<p>{PARA}</p>").repeat(1_000);
        let page = format!("<html><body><div>{story}{box_}</div></body></html>");
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        let a = article(&page, None, &options).unwrap();
        assert!(a.text.starts_with(PARA), "{}", &a.text[..200.min(a.text.len())]);
    }

    #[test]
    fn a_line_cut_at_the_end_is_not_cut_again_at_the_start() {
        // Two short lines and nothing else: the question is the story's last line and is cut
        // as a trailing prompt; the look for template lines before the story then reached it
        // too (the label before it went, so it came next) and took its text out of the sums a
        // second time (below zero: a panic in a debug build, wrapped sums in a release one).
        let (a, why) =
            explain("<html><body><p>A label</p><p>Why?</p></body></html>", None, &Options::default()).unwrap();
        assert_eq!(a.text, "");
        assert_eq!(why.matches("cut p (").count(), 2, "{why}");
    }

    #[test]
    fn many_boxes_of_other_stories_deep_in_the_page_cost_time_in_proportion() {
        // A story in a page builder's widget (so a pass without class words wins) followed by
        // 60,000 "related" boxes, 400 levels down: each box cut takes its text out of its
        // ancestors' sums, at most the parser's depth limit (512) of them, so 24 million steps
        // here; the search for the boxes is one walk.
        let deep = "<div>".repeat(400);
        let page = format!(
            "<html><body>{deep}<section><div class=pb-widget><p>{PARA}</p></div>{}</section></body></html>",
            "<div class=related><p>x y z.</p></div>".repeat(60_000)
        );
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        let (a, why) = explain(&page, None, &options).unwrap();
        assert_eq!(a.text, PARA);
        assert_eq!(why.matches("(box of other stories after the story)").count(), 60_000);
    }

    #[test]
    fn many_links_among_blocks_cost_time_in_proportion() {
        // Each link looks at its neighbours for what ends its line: 40,000 links, each
        // between blank text and removed blocks, would cost 1.6 billion steps if each looked
        // past the others.
        let story = format!("<div><p>{PARA}</p><p>{PARA}</p></div>");
        let links = "<a href=/x>x</a> <script>s</script> ".repeat(40_000);
        let page = format!("<html><body><div>{story}{links}<div>end</div></div></body></html>");
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        let a = article(&page, None, &options).unwrap();
        assert!(a.text.starts_with(PARA), "{}", &a.text[..200.min(a.text.len())]);
        // Links each alone on a line in one container that holds blocks too: whether the
        // container holds blocks is asked once, not once per link.
        let lines = "<a href=/section/x>a link</a><br>\n".repeat(20_000);
        let page = format!("<html><body><div><p>{PARA}</p><p>{PARA}</p>{lines}<p>end</p></div></body></html>");
        if let Err(e) = article(&page, None, &options) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_comments_bar_after_the_story_ends_it_and_many_bars_stay_cheap() {
        let page = format!(
            "<html><body><div id=c><h1>T</h1><p>{PARA}</p><p>{PARA}</p><div class=bar>Comments</div><p>Great story, thanks for writing it up so clearly!</p></div></body></html>"
        );
        let a = extract(&page);
        assert_eq!(a.text, format!("{PARA}\n\n{PARA}"));
        let hostile = format!(
            "<html><body><div>{}</div></body></html>",
            "<div class=empty></div> <div>Comments</div> ".repeat(20_000)
        );
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        if let Err(e) = article(&hostile, None, &options) {
            panic!("{e}");
        }
    }

    #[test]
    fn the_times_heading_live_entries_stay_and_a_lone_date_line_goes() {
        let entry = |t: &str, body: &str| {
            format!("<article class=entry><div class=meta><time>{t}</time><b>Ann Lee</b></div><p>{body}</p></article>")
        };
        let page = format!(
            "<html><body><div id=live><p class=dateline><time>3 May 2026</time></p>{}{}{}</div></body></html>",
            entry("11:42", PARA),
            entry("09:15", PARA),
            entry("06:02", PARA)
        );
        let a = extract(&page);
        assert_eq!(a.text, format!("11:42 Ann Lee\n\n{PARA}\n\n09:15 Ann Lee\n\n{PARA}\n\n06:02 Ann Lee\n\n{PARA}"));
        // Two dated blocks are not yet a series: their dates are the template's.
        let page =
            format!("<html><body><div id=live>{}{}</div></body></html>", entry("11:42", PARA), entry("09:15", PARA));
        assert_eq!(extract(&page).text, format!("{PARA}\n\n{PARA}"));
    }

    #[test]
    fn one_paragraph_after_a_label_is_the_story_s_last() {
        let last = "The council will decide in March whether the trial becomes permanent.";
        let page = format!(
            "<html><body><div id=s><p>{PARA}</p><p>{PARA}</p><p>{PARA}</p><p>Related</p><p>{last}</p></div></body></html>"
        );
        assert_eq!(extract(&page).text, format!("{PARA}\n\n{PARA}\n\n{PARA}\n\n{last}"));
        // Two short blocks after it are a list.
        let page = format!(
            "<html><body><div id=s><p>{PARA}</p><p>{PARA}</p><p>{PARA}</p><p>Related</p><p>{last}</p><p>{last}</p></div></body></html>"
        );
        assert_eq!(extract(&page).text, format!("{PARA}\n\n{PARA}\n\n{PARA}"));
    }

    #[test]
    fn a_notice_is_looked_for_among_the_last_few_lines_only() {
        let appeal = "Follow us on Twitter and email us your tips.";
        let lines = |n: usize| "<div>Opening hours and prices for the season</div>".repeat(n);
        let page = |n: usize| {
            format!("<html><body><div id=s><p>{PARA}</p><p>{PARA}</p><p>{appeal}</p>{}</div></body></html>", lines(n))
        };
        // Behind three template lines the appeal is found; behind more, the walk has stopped
        // (a page ending in 40,000 short lines is not read 40,000 times over).
        assert_eq!(extract(&page(MAX_NOTICE_GAP)).text, format!("{PARA}\n\n{PARA}"));
        assert_eq!(extract(&page(MAX_NOTICE_GAP + 1)).text, format!("{PARA}\n\n{PARA}\n\n{appeal}"));
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        if let Err(e) = article(&page(40_000), None, &options) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_caption_holding_the_description_stays_and_only_a_few_are_compared() {
        let description = "Harbour seals breed in the estuary again, for the first time in forty years, and rangers counted eleven pups.";
        let head = format!("<html><head><meta name=description content=\"{description}\"></head><body>");
        let caption = format!("<div class=caption><p>{description}</p></div>");
        let page =
            format!("{head}<div>{caption}<div class=photo-credit>Photo: Ann Lee / Agency</div></div></body></html>");
        assert_eq!(extract(&page).text, description);
        // A page of 20,000 such captions: the first MAX_DESCRIPTION_CHECKS are compared and
        // kept in each pass, the rest go unread as captions.
        let many = format!("{head}<div>{}<p>{PARA}</p></div></body></html>", caption.repeat(20_000));
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        let text = article(&many, None, &options).unwrap_or_else(|e| panic!("{e}")).text;
        let kept = text.matches(description).count();
        assert!((1..=usize::from(MAX_DESCRIPTION_CHECKS)).contains(&kept), "{kept} captions kept");
    }

    #[test]
    fn a_server_diagnostic_goes_and_its_reading_is_bounded() {
        let diagnostic = "<b>Notice</b>: Undefined index: id in <b>/var/www/index.php</b> on line <b>12</b><br>";
        let page = format!("<html><body><div><p>{PARA}</p>{diagnostic}<p>{PARA}</p></div></body></html>");
        assert_eq!(extract(&page).text, format!("{PARA}\n\n{PARA}"));
        // 40 chains of labels nested in what follows them, 500 deep (the parser's limit is
        // 512): each label reads only short siblings, not the rest of its chain.
        let chain = "<div><b>Warning</b>: see the notes kept below this line.".repeat(500) + &"</div>".repeat(500);
        let nested = chain.repeat(40);
        let page = format!("<html><body><p>{PARA}</p>{nested}</body></html>");
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        if let Err(e) = article(&page, None, &options) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_story_followed_by_a_gallery_keeps_its_captions_out() {
        // Nine paragraphs of story (over MAX_GALLERY_INTRO_CHARS), then a gallery of other
        // pictures whose captions hold more than twice the story's prose.
        let story = format!("<p>{PARA}</p>").repeat(9);
        let caption = format!("<figure><img src=/a.jpg><figcaption><p>{PARA} {PARA} {PARA}</p></figcaption></figure>");
        let page = format!("<html><body><article><div>{story}</div>{}</article></body></html>", caption.repeat(8));
        assert_eq!(extract(&page).text, [PARA; 9].join("\n\n"));
    }

    #[test]
    fn an_author_s_biography_goes_but_never_the_whole_story() {
        let bio = "Jane Doe is a reporter covering the courts and city hall for the paper.";
        let page = |body: &str| {
            format!(
                "<html><head><meta name=author content='Jane Doe'></head><body><article>{body}</article></body></html>"
            )
        };
        let story = format!("<p>{PARA}</p><p>{PARA}</p><p>{bio}</p>");
        assert_eq!(extract(&page(&story)).text, [PARA; 2].join("\n\n"));
        // A story that opens with its author's name is not a biography when it is all there is.
        let alone = format!("<p>Jane Doe, who wrote this, {PARA}</p>");
        assert_eq!(extract(&page(&alone)).text, format!("Jane Doe, who wrote this, {PARA}"));
        // A one-word byline is too weak a sign.
        let short = story.replace("Jane Doe", "Jane");
        assert!(extract(&page(&short).replace("'Jane Doe'", "Jane")).text.ends_with("for the paper."));
    }

    #[test]
    fn many_times_stay_cheap() {
        let options = Options { cpu_limit: std::time::Duration::from_secs(10), ..Options::default() };
        // 20,000 entries, each headed by its time; 20,000 times side by side, each after
        // empty icons; 20,000 entries each of a class of its own.
        let entries =
            "<div class=e><span><time>10:00</time></span><p>An entry of a few words.</p></div>".repeat(20_000);
        let side_by_side = "<span class=icon></span>".repeat(5) + "<time>10:00</time>";
        let side_by_side = side_by_side.repeat(20_000);
        let classes: String = (0..20_000)
            .map(|n| format!("<div class=e{n}><time>10:00</time><p>An entry of a few words.</p></div>"))
            .collect();
        for hostile in [entries, side_by_side, classes] {
            let page = format!("<html><body><div><p>{PARA}</p>{hostile}</div></body></html>");
            if let Err(e) = article(&page, None, &options) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn hostile_nesting_and_huge_attributes_stay_cheap() {
        let started = std::time::Instant::now();
        let bomb = "<div>".repeat(100_000) + "<p>still here</p>" + &"<span>".repeat(100_000);
        assert_eq!(article(&bomb, None, &Options::default()).unwrap_err(), HtmlError::TooDeep);
        let attr = format!("<p title=\"{}\">A paragraph with a huge attribute.</p>", "x".repeat(5 << 20));
        assert_eq!(extract(&attr).text, "A paragraph with a huge attribute.");
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
