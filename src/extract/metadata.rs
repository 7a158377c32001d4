//! Article metadata, each field from the best signal the page offers: JSON-LD first (written
//! for machines, usually right), then OpenGraph/Twitter/Dublin Core meta tags, then microdata
//! and visible markup (`<time>`, `rel=author`, `<h1>`, `<title>`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use url::Url;

use super::dom::{Dom, NodeData, attr_of};

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
}

/// Reads metadata from the whole document.
pub fn read(dom: &Dom, base: Option<&Url>) -> Metadata {
    let mut meta: Vec<(String, &str)> = Vec::new();
    let mut ld = LdFields::default();
    let mut html_lang = None;
    let mut canonical = None;
    let mut title_tag = None;
    let mut first_h1 = None;
    let mut time_tag = None;
    let mut itemprop_author = None;
    let mut rel_author = None;
    let mut visible_byline: Option<String> = None;
    for i in 0..dom.len() {
        let Some(e) = dom.element(i) else { continue };
        match e.name() {
            "html" => html_lang = attr_of(e, "lang").or_else(|| attr_of(e, "xml:lang")),
            "meta" => {
                if let Some(content) = attr_of(e, "content") {
                    for key in
                        [attr_of(e, "property"), attr_of(e, "name"), attr_of(e, "itemprop")].into_iter().flatten()
                    {
                        meta.push((key.trim().to_ascii_lowercase(), content));
                    }
                    if attr_of(e, "http-equiv").is_some_and(|h| h.eq_ignore_ascii_case("content-language")) {
                        meta.push(("content-language".into(), content));
                    }
                }
            }
            "link" => {
                let rel = attr_of(e, "rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical") && canonical.is_none() {
                    canonical = attr_of(e, "href");
                }
            }
            "title" if title_tag.is_none() => title_tag = Some(dom.collapsed_text(i)),
            "h1" if first_h1.is_none() => first_h1 = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty()),
            "time" if time_tag.is_none() => time_tag = attr_of(e, "datetime").map(str::to_owned),
            "script" => {
                if attr_of(e, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
                    && let Some(NodeData::Text(json)) = dom.nodes.get(i + 1).map(|n| n.data)
                {
                    ld.absorb(json);
                }
            }
            "a" if rel_author.is_none()
                && attr_of(e, "rel").is_some_and(|r| r.split_whitespace().any(|r| r == "author")) =>
            {
                rel_author = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty() && t.len() < 100);
            }
            _ => {
                if itemprop_author.is_none() && attr_of(e, "itemprop").is_some_and(|p| p == "author") {
                    itemprop_author = Some(dom.collapsed_text(i)).filter(|t| !t.is_empty() && t.len() < 100);
                }
                if visible_byline.is_none() && is_byline_element(e) {
                    visible_byline = Some(clean_byline(&dom.collapsed_text(i))).filter(|t| (3..80).contains(&t.len()));
                }
            }
        }
    }
    let get = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| meta.iter().find(|(key, v)| key == k && !v.trim().is_empty()).map(|(_, v)| clean(v)))
    };
    let resolve = |u: &str| -> Option<String> {
        let u = u.trim();
        let url = match base {
            Some(b) => b.join(u).ok()?,
            None => Url::parse(u).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then(|| url.into())
    };

    let site_name = ld.site_name.clone().or_else(|| get(&["og:site_name", "application-name"]));
    let title = ld
        .headline
        .clone()
        .or_else(|| get(&["og:title", "twitter:title", "dc.title", "headline"]))
        .or_else(|| first_h1.clone())
        .or_else(|| title_tag.as_deref().map(|t| strip_site_suffix(t, site_name.as_deref())))
        .filter(|t| !t.is_empty());
    let byline = ld
        .author
        .clone()
        .or_else(|| get(&["author", "article:author", "dc.creator", "parsely-author", "sailthru.author"]))
        .filter(|a| !a.starts_with("http"))
        .or(itemprop_author)
        .or(rel_author)
        .or(visible_byline);
    let published = ld
        .published
        .as_deref()
        .and_then(parse_date)
        .or_else(|| {
            get(&[
                "article:published_time",
                "datepublished",
                "dc.date",
                "dc.date.issued",
                "date",
                "pubdate",
                "publishdate",
            ])
            .as_deref()
            .and_then(parse_date)
        })
        .or_else(|| time_tag.as_deref().and_then(parse_date));
    let lead_image = ld.image.as_deref().and_then(resolve).or_else(|| {
        get(&["og:image", "og:image:url", "twitter:image", "twitter:image:src"]).as_deref().and_then(resolve)
    });
    // og:locale writes en_GB; a language tag is en-GB.
    let lang = html_lang
        .map(clean)
        .or_else(|| get(&["content-language", "og:locale", "language"]))
        .map(|l| l.replace('_', "-"));
    let canonical_url = canonical.and_then(resolve).or_else(|| get(&["og:url"]).as_deref().and_then(resolve));
    let description = ld.description.clone().or_else(|| get(&["description", "og:description", "twitter:description"]));
    Metadata {
        title,
        byline,
        published,
        lead_image,
        site_name,
        lang: lang.filter(|l| !l.is_empty()),
        canonical_url,
        description,
    }
}

/// An element whose class names it the author's name (`author-name`, `byline__author`).
fn is_byline_element(e: &scraper::node::Element) -> bool {
    let Some(class) = attr_of(e, "class") else { return false };
    let tokens = super::boilerplate::tokens(Some(class), None);
    let has = |w: &str| tokens.iter().any(|t| t == w);
    (has("author") && (has("name") || has("fn"))) || (has("byline") && has("author"))
}

/// "By Jane Doe" -> "Jane Doe".
fn clean_byline(s: &str) -> String {
    let s = clean(s);
    for prefix in ["By ", "by ", "Von ", "von ", "Par ", "par ", "Por ", "por "] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
    s
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
    headline: Option<String>,
    author: Option<String>,
    published: Option<String>,
    image: Option<String>,
    site_name: Option<String>,
    description: Option<String>,
}

impl LdFields {
    fn absorb(&mut self, json: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json.trim()) else { return };
        let mut stack = vec![&value];
        // Bounded walk: JSON-LD blocks can be large, but we only look a few levels down.
        let mut budget = 2000;
        while let Some(v) = stack.pop() {
            budget -= 1;
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
}
