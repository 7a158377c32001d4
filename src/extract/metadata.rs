//! Article metadata, each field from the best signal the page offers: JSON-LD first (written
//! for machines, usually right), then OpenGraph/Twitter/Dublin Core meta tags, then microdata
//! and visible markup (`<time>`, `rel=author`, `<h1>`, `<title>`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use html5ever::local_name;
use url::Url;

use super::dom::{Dom, attr_of};

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub lead_image: Option<String>,
    pub site_name: Option<String>,
    pub lang: Option<String>,
    pub canonical_url: Option<String>,
    pub description: Option<String>,
    /// The story as the page's JSON-LD gives it (`articleBody`: text, sometimes markup): what
    /// a page that draws its story with scripts still says about it.
    pub article_body: Option<String>,
    /// A `Recipe`'s ingredients as its JSON-LD lists them (at most [`MAX_LD_INGREDIENTS`]).
    pub ingredients: Vec<String>,
}

/// Ingredients read from a recipe's JSON-LD, at most.
pub const MAX_LD_INGREDIENTS: usize = 60;

/// Reads metadata from the whole document.
pub fn read(dom: &Dom, base: Option<&Url>) -> Metadata {
    let mut signals = Signals::default();
    for i in 0..dom.len() {
        if let Some(e) = dom.element(i) {
            signals.element(dom, i, e);
        }
    }
    signals.metadata(base)
}

/// Everything a page says about itself, gathered in one pass before any is chosen.
#[derive(Default)]
struct Signals<'d> {
    /// Meta tags as (lowercased property, name or itemprop; content), in document order.
    meta: Vec<(String, &'d str)>,
    ld: LdFields,
    html_lang: Option<&'d str>,
    canonical: Option<&'d str>,
    title_tag: Option<String>,
    first_h1: Option<String>,
    time_tag: Option<String>,
    itemprop_author: Option<String>,
    rel_author: Option<String>,
    visible_byline: Option<String>,
}

impl<'d> Signals<'d> {
    fn element(&mut self, dom: &Dom<'d>, i: usize, e: &'d scraper::node::Element) {
        match e.name() {
            "html" => {
                self.html_lang = attr_of(e, &local_name!("lang")).or_else(|| attr_of(e, &local_name!("xml:lang")))
            }
            "meta" => self.meta_tag(e),
            "link" => {
                let rel = attr_of(e, &local_name!("rel")).unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical") && self.canonical.is_none() {
                    self.canonical = attr_of(e, &local_name!("href"));
                }
            }
            "title" if self.title_tag.is_none() => self.title_tag = Some(dom.collapsed_text(i)),
            "h1" if self.first_h1.is_none() => self.first_h1 = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty()),
            "time" if self.time_tag.is_none() => {
                self.time_tag = attr_of(e, &local_name!("datetime")).map(str::to_owned)
            }
            "script" => {
                if attr_of(e, &local_name!("type"))
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
                    && let Some(json) = dom.first_child_text(i)
                {
                    self.ld.absorb(json);
                }
            }
            "a" if self.rel_author.is_none()
                && attr_of(e, &local_name!("rel")).is_some_and(|r| r.split_whitespace().any(|r| r == "author")) =>
            {
                self.rel_author = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty() && t.len() < 100);
            }
            _ => {
                if self.itemprop_author.is_none() && attr_of(e, &local_name!("itemprop")).is_some_and(|p| p == "author")
                {
                    self.itemprop_author = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty() && t.len() < 100);
                }
                if self.visible_byline.is_none() {
                    match byline_element(e) {
                        Some(Byline::Name) => {
                            self.visible_byline =
                                Some(clean_byline(&dom.collapsed_text(i))).filter(|t| (3..80).contains(&t.len()));
                        }
                        Some(Byline::Line) => self.visible_byline = byline_name(&dom.collapsed_text(i)),
                        None => {}
                    }
                }
            }
        }
    }

    fn meta_tag(&mut self, e: &'d scraper::node::Element) {
        let Some(content) = attr_of(e, &local_name!("content")) else { return };
        for key in [
            attr_of(e, &local_name!("property")),
            attr_of(e, &local_name!("name")),
            attr_of(e, &local_name!("itemprop")),
        ]
        .into_iter()
        .flatten()
        {
            self.meta.push((key.trim().to_ascii_lowercase(), content));
        }
        if attr_of(e, &local_name!("http-equiv")).is_some_and(|h| h.eq_ignore_ascii_case("content-language")) {
            self.meta.push(("content-language".into(), content));
        }
    }

    /// The first of the meta tags `keys` (in that order of preference) with content.
    fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter()
            .find_map(|k| self.meta.iter().find(|(key, v)| key == k && !v.trim().is_empty()).map(|(_, v)| clean(v)))
    }

    /// Each field from the best signal that has it.
    fn metadata(mut self, base: Option<&Url>) -> Metadata {
        let resolve = |u: &str| -> Option<String> {
            let u = u.trim();
            let url = match base {
                Some(b) => b.join(u).ok()?,
                None => Url::parse(u).ok()?,
            };
            matches!(url.scheme(), "http" | "https").then(|| url.into())
        };
        let site_name = self.ld.site_name.clone().or_else(|| self.get(&["og:site_name", "application-name"]));
        let title = self
            .ld
            .headline
            .clone()
            .or_else(|| self.get(&["og:title", "twitter:title", "dc.title", "headline"]))
            .or_else(|| self.first_h1.clone())
            .or_else(|| self.title_tag.as_deref().map(|t| strip_site_suffix(t, site_name.as_deref())))
            .filter(|t| !t.is_empty());
        let lead_image = self.ld.image.as_deref().and_then(resolve).or_else(|| {
            self.get(&["og:image", "og:image:url", "twitter:image", "twitter:image:src"]).as_deref().and_then(resolve)
        });
        // og:locale writes en_GB; a language tag is en-GB.
        let lang = self
            .html_lang
            .map(clean)
            .or_else(|| self.get(&["content-language", "og:locale", "language"]))
            .map(|l| l.replace('_', "-"));
        let canonical_url =
            self.canonical.and_then(resolve).or_else(|| self.get(&["og:url"]).as_deref().and_then(resolve));
        let description =
            self.ld.description.clone().or_else(|| self.get(&["description", "og:description", "twitter:description"]));
        Metadata {
            title,
            published: self.published(),
            lead_image,
            site_name,
            lang: lang.filter(|l| !l.is_empty()),
            canonical_url,
            description,
            article_body: self.ld.body.take().or_else(|| self.ld.steps.take()),
            ingredients: std::mem::take(&mut self.ld.ingredients),
            byline: self.byline(),
        }
    }

    fn byline(self) -> Option<String> {
        self.ld
            .author
            .clone()
            .or_else(|| self.get(&["author", "article:author", "dc.creator", "parsely-author", "sailthru.author"]))
            .filter(|a| !a.starts_with("http"))
            .or(self.itemprop_author)
            .or(self.rel_author)
            .or(self.visible_byline)
    }

    fn published(&self) -> Option<DateTime<Utc>> {
        const META_KEYS: &[&str] =
            &["article:published_time", "datepublished", "dc.date", "dc.date.issued", "date", "pubdate", "publishdate"];
        self.ld
            .published
            .as_deref()
            .and_then(parse_date)
            .or_else(|| self.get(META_KEYS).as_deref().and_then(parse_date))
            .or_else(|| self.time_tag.as_deref().and_then(parse_date))
    }
}

enum Byline {
    /// The element holds the author's name.
    Name,
    /// The element is the byline, which may hold a date and more after the name.
    Line,
}

/// An element whose class names it the author's name (`author-name`, `byline__author`), or
/// the byline (`byline`).
fn byline_element(e: &scraper::node::Element) -> Option<Byline> {
    let class = attr_of(e, &local_name!("class"))?;
    // Both need "author" or "byline": most classes are ruled out without splitting them.
    // (Both words have six letters: one pass looks for either.)
    if !class.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"author") || w.eq_ignore_ascii_case(b"byline")) {
        return None;
    }
    let tokens = super::boilerplate::tokens(Some(class), None);
    let has = |w: &str| tokens.iter().any(|t| t == w);
    if (has("author") && (has("name") || has("fn"))) || (has("byline") && has("author")) {
        Some(Byline::Name)
    } else {
        has("byline").then_some(Byline::Line)
    }
}

const BY_PREFIXES: [&str; 8] = ["By ", "by ", "Von ", "von ", "Par ", "par ", "Por ", "por "];

/// "By Jane Doe" -> "Jane Doe".
fn clean_byline(s: &str) -> String {
    let s = clean(s);
    for prefix in BY_PREFIXES {
        if let Some(rest) = s.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
    s
}

/// `line` says only `name`, maybe after "By" ("By Jane Doe", "JANE DOE").
pub fn is_byline_of(line: &str, name: &str) -> bool {
    let line = clean_byline(line);
    let line = line.trim_end_matches([',', '|', '·', '-', ' ']);
    !name.trim().is_empty() && line.to_lowercase() == clean(name).to_lowercase()
}

/// The name in a byline that starts with "By" ("By Jane Doe | 3 March 2026" -> "Jane Doe").
pub fn byline_name(line: &str) -> Option<String> {
    let line = clean(line);
    let rest = BY_PREFIXES.iter().find_map(|p| line.strip_prefix(p))?;
    let end = [" | ", " · ", " • ", " - ", " – ", " — ", " on ", " am ", " le "]
        .iter()
        .filter_map(|sep| rest.find(sep))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned()).filter(|n| (3..80).contains(&n.len()) && !n.chars().any(|c| c.is_ascii_digit()))
}

/// `items` as a list's markup, each escaped.
pub fn list_markup<T: AsRef<str>>(items: &[T]) -> String {
    let items: String = items.iter().map(|i| format!("<li>{}</li>", crate::sanitize::escape(i.as_ref()))).collect();
    format!("<ul>{items}</ul>")
}

/// A `HowTo`'s or `Recipe`'s text as markup: its description, its ingredients as a list, then
/// its steps (`step`, `recipeInstructions`: strings, `HowToStep`s with a name and a text or
/// directions, `HowToSection`s of steps), each step's name as a heading when it says more
/// than its text's start. Strings that hold markup keep it (the caller reads it as a browser
/// would); plain ones are escaped. Each value visited costs one unit of `budget`, shared with
/// the walk that found the object, so the work is bounded by the JSON's size and that budget.
fn steps_markup(map: &serde_json::Map<String, serde_json::Value>, budget: &mut usize) -> Option<String> {
    use serde_json::Value;
    /// `<tag>s</tag>`: markup kept, plain text escaped.
    fn block(out: &mut String, tag: &str, s: &str) {
        out.push_str(&format!("<{tag}>"));
        match s.contains('<') {
            true => out.push_str(s),
            false => out.push_str(&crate::sanitize::escape(s).replace('\n', "<br>")),
        }
        out.push_str(&format!("</{tag}>"));
    }
    fn step(v: &Value, out: &mut String, budget: &mut usize, depth: usize) {
        *budget = budget.saturating_sub(1);
        if *budget == 0 || depth > 4 {
            return;
        }
        match v {
            Value::String(s) if !s.trim().is_empty() => block(out, "p", s),
            Value::Array(items) => items.iter().for_each(|i| step(i, out, budget, depth + 1)),
            Value::Object(o) => {
                let text = o.get("text").and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
                let name = o.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
                if let Some(name) = name.filter(|n| text.is_none_or(|t| !t.starts_with(n.trim_end_matches(['.', '…']))))
                {
                    block(out, "h3", name);
                }
                if let Some(text) = text {
                    block(out, "p", text);
                }
                if let Some(children) = o.get("itemListElement") {
                    step(children, out, budget, depth + 1);
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    if let Some(d) = map.get("description").and_then(Value::as_str).filter(|d| !d.trim().is_empty()) {
        block(&mut out, "p", d);
    }
    let ingredients: Vec<&str> = match map.get("recipeIngredient") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).filter(|s| !s.trim().is_empty()).collect(),
        _ => vec![],
    };
    if !ingredients.is_empty() {
        *budget = budget.saturating_sub(ingredients.len());
        out.push_str(&list_markup(&ingredients));
    }
    let before = out.len();
    for key in ["step", "recipeInstructions"] {
        if let Some(v) = map.get(key) {
            step(v, &mut out, budget, 0);
        }
    }
    (out.len() > before).then_some(out)
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "Story title | Site" -> "Story title" when the suffix is the site's name or the title has
/// one clear separator.
fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
    for sep in [" | ", " - ", " – ", " — ", " :: ", " · "] {
        if let Some(pos) = title.rfind(sep) {
            let (head, tail) = (&title[..pos], &title[pos + sep.len()..]);
            let tail_is_site = site.is_some_and(|s| tail.trim().eq_ignore_ascii_case(s.trim()));
            if tail_is_site || (head.split_whitespace().count() >= 3 && tail.split_whitespace().count() <= 4) {
                return head.trim().to_owned();
            }
        }
    }
    title.trim().to_owned()
}

/// Parses the date formats pages use: RFC 3339 (with or without zone), RFC 2822, plain dates.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    parse_any_date(s).and_then(crate::dates::sane)
}

fn parse_any_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

/// The fields we take from JSON-LD `Article`-like objects (including inside `@graph`).
#[derive(Default)]
struct LdFields {
    body: Option<String>,
    headline: Option<String>,
    author: Option<String>,
    published: Option<String>,
    image: Option<String>,
    site_name: Option<String>,
    description: Option<String>,
    /// A `HowTo`'s or `Recipe`'s description, ingredients and steps as markup: the story of a
    /// page that draws its instructions with scripts.
    steps: Option<String>,
    ingredients: Vec<String>,
}

impl LdFields {
    fn absorb(&mut self, json: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json.trim()) else { return };
        let mut stack = vec![&value];
        // Bounded walk: JSON-LD blocks can be large, but we only look a few levels down.
        let mut budget: usize = 2000;
        while let Some(v) = stack.pop() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                break;
            }
            match v {
                serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
                serde_json::Value::Object(map) => {
                    if let Some(graph) = map.get("@graph") {
                        stack.push(graph);
                    }
                    let types: Vec<&str> = match map.get("@type") {
                        Some(serde_json::Value::String(s)) => vec![s.as_str()],
                        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|t| t.as_str()).collect(),
                        _ => vec![],
                    };
                    let is_article = types.iter().any(|t| {
                        t.ends_with("Article") || *t == "BlogPosting" || *t == "Report" || *t == "LiveBlogPosting"
                    });
                    if is_article {
                        self.take_article(map);
                    } else if types.iter().any(|t| *t == "HowTo" || *t == "Recipe") {
                        if self.steps.is_none() {
                            self.steps = steps_markup(map, &mut budget);
                        }
                        if self.ingredients.is_empty()
                            && let Some(serde_json::Value::Array(items)) = map.get("recipeIngredient")
                        {
                            self.ingredients = items
                                .iter()
                                .filter_map(|i| i.as_str().map(|i| clean(i).replace(" ,", ",")))
                                .filter(|i| !i.is_empty())
                                .take(MAX_LD_INGREDIENTS)
                                .collect();
                        }
                    } else if types.contains(&"WebSite") && self.site_name.is_none() {
                        self.site_name = map.get("name").and_then(|n| n.as_str()).map(clean);
                    }
                }
                _ => {}
            }
        }
    }

    fn take_article(&mut self, map: &serde_json::Map<String, serde_json::Value>) {
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(clean).filter(|s| !s.is_empty());
        self.headline = self.headline.take().or_else(|| text(map.get("headline")).or_else(|| text(map.get("name"))));
        self.published = self.published.take().or_else(|| text(map.get("datePublished")));
        self.description = self.description.take().or_else(|| text(map.get("description")));
        if self.body.is_none() {
            self.body =
                map.get("articleBody").and_then(|v| v.as_str()).filter(|b| !b.trim().is_empty()).map(str::to_owned);
        }
        if self.author.is_none() {
            let names: Vec<String> = match map.get("author") {
                Some(serde_json::Value::String(s)) => vec![clean(s)],
                Some(serde_json::Value::Object(o)) => text(o.get("name")).into_iter().collect(),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| match x {
                        serde_json::Value::String(s) => Some(clean(s)),
                        serde_json::Value::Object(o) => text(o.get("name")),
                        _ => None,
                    })
                    .collect(),
                _ => vec![],
            };
            let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
            if !names.is_empty() {
                self.author = Some(names.join(", "));
            }
        }
        if self.image.is_none() {
            self.image = match map.get("image") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Object(o)) => text(o.get("url")),
                Some(serde_json::Value::Array(a)) => a.first().and_then(|x| match x {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(o) => text(o.get("url")),
                    _ => None,
                }),
                _ => None,
            };
        }
        if self.site_name.is_none()
            && let Some(serde_json::Value::Object(p)) = map.get("publisher")
        {
            self.site_name = text(p.get("name"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_beats_meta_and_title_suffix_is_stripped() {
        let html = r#"<html lang="en-GB"><head><title>Big news today | The Paper</title>
            <meta property="og:site_name" content="The Paper"><meta property="og:image" content="/img/lead.jpg">
            <meta name="author" content="Meta Author">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle",
              "headline":"Big news today","author":[{"@type":"Person","name":"Ann Writer"}],"datePublished":"2024-03-01T08:30:00+01:00"}]}</script>
            </head><body><h1>Big news today</h1></body></html>"#;
        let doc = scraper::Html::parse_document(html);
        let dom = Dom::new(&doc);
        let m = read(&dom, Some(&Url::parse("https://paper.example/a/b").unwrap()));
        assert_eq!(m.title.as_deref(), Some("Big news today"));
        assert_eq!(m.byline.as_deref(), Some("Ann Writer"));
        assert_eq!(m.published.unwrap().to_rfc3339(), "2024-03-01T07:30:00+00:00");
        assert_eq!(m.lead_image.as_deref(), Some("https://paper.example/img/lead.jpg"));
        assert_eq!(m.site_name.as_deref(), Some("The Paper"));
        assert_eq!(m.lang.as_deref(), Some("en-GB"));
        assert_eq!(strip_site_suffix("Big news today | The Paper", Some("The Paper")), "Big news today");
    }

    #[test]
    fn an_article_body_beats_how_to_steps_and_the_steps_walk_is_bounded() {
        let body = |ld: &str| {
            let doc = scraper::Html::parse_document(&format!(
                r#"<html><head><script type="application/ld+json">{ld}</script></head><body></body></html>"#
            ));
            read(&Dom::new(&doc), None).article_body
        };
        let howto = r#"{"@type":"HowTo","description":"Why & how.","step":[{"@type":"HowToStep","name":"Prepare","text":"Cut it."}]}"#;
        assert_eq!(body(howto).as_deref(), Some("<p>Why &amp; how.</p><h3>Prepare</h3><p>Cut it.</p>"));
        let both = format!(r#"[{howto},{{"@type":"Article","articleBody":"The story."}}]"#);
        assert_eq!(body(&both).as_deref(), Some("The story."));
        // No steps: a description alone is not a story.
        assert_eq!(body(r#"{"@type":"Recipe","description":"Tasty."}"#), None);
        // A hostile list of 200,000 steps, nested sections too: the walk stops at its budget.
        let steps = vec![r#"{"@type":"HowToSection","itemListElement":[{"text":"Step."}]}"#; 200_000].join(",");
        let out = body(&format!(r#"{{"@type":"HowTo","step":[{steps}]}}"#)).unwrap();
        let count = out.matches("<p>Step.</p>").count();
        assert!((400..2000).contains(&count), "{count} steps taken");
    }

    #[test]
    fn a_byline_line_gives_the_name_after_by_and_before_the_date() {
        let byline = |body: &str| {
            let doc = scraper::Html::parse_document(&format!("<html><body>{body}</body></html>"));
            read(&Dom::new(&doc), None).byline
        };
        assert_eq!(byline(r#"<p class="byline">By Ann Lee</p>"#).as_deref(), Some("Ann Lee"));
        assert_eq!(
            byline(r#"<div class="post-byline byline">By Ann Lee | 3 March 2026</div>"#).as_deref(),
            Some("Ann Lee")
        );
        assert_eq!(
            byline(r#"<p class="byline">Von Jana Petersen, Kiel – 3. März</p>"#).as_deref(),
            Some("Jana Petersen, Kiel")
        );
        // Without "By" a byline line may hold anything (a date, a place): no name from it.
        assert_eq!(byline(r#"<p class="byline">3 March 2026</p>"#), None);
        // A name with digits is a date or a count, not a name.
        assert_eq!(byline(r#"<p class="byline">By 3 March 2026</p>"#), None);
        assert!(is_byline_of("By  Ann Lee", "Ann Lee"));
        assert!(is_byline_of("ANN LEE", "Ann Lee"));
        assert!(!is_byline_of("Ann Lee reports from Lagos", "Ann Lee"));
        // Whole tokens: `bylines-widget` is not a byline.
        assert_eq!(byline(r#"<p class="bylines-widget">By Ann Lee</p>"#), None);
    }
}
