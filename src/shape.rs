//! Shaping a source's entries before they are stored: `include`/`exclude` filters, `rewrite`
//! rules, and tracking parameters taken out of links.
//!
//! Rules are compiled once, when the config is read. Matching uses the `regex` crate (linear
//! in the text, whatever the pattern), compiled patterns are capped at [`REGEX_SIZE_LIMIT`],
//! and a list holds at most [`MAX_RULES`] rules: the cost per entry is bounded by the rules'
//! count times the entry's size.

use std::fmt;

use regex::{Regex, RegexBuilder};
use url::Url;

/// Rules in one `include`, `exclude` or `rewrite` list.
pub const MAX_RULES: usize = 200;
/// Memory one compiled pattern may take.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    /// The entry's content and summary, as text.
    Content,
    Author,
    Category,
    Link,
}

impl Field {
    const ALL: [Field; 5] = [Field::Title, Field::Content, Field::Author, Field::Category, Field::Link];

    fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Content => "content",
            Field::Author => "author",
            Field::Category => "category",
            Field::Link => "link",
        }
    }

    fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One filter rule: `words`, `field:words`, `/regex/` or `field:/regex/`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `None`: any field.
    field: Option<Field>,
    pattern: Regex,
    text: String,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string().lines().last().unwrap_or("invalid").trim().to_owned())
}

impl Rule {
    /// Plain words match case-insensitively, as whole words (`ad` does not match `road`); a
    /// `/regex/` is case-insensitive too unless it says `(?-i)`.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let (field, rest) = match text.split_once(':') {
            Some((name, rest)) if Field::from_name(name.trim()).is_some() => (Field::from_name(name.trim()), rest),
            _ => (None, text),
        };
        let rest = rest.trim();
        let pattern = if rest.len() >= 2 && rest.starts_with('/') && rest.ends_with('/') {
            compile(&rest[1..rest.len() - 1], true).map_err(|e| format!("\"{text}\": invalid regex: {e}"))?
        } else {
            if rest.is_empty() {
                return Err(format!("\"{text}\": nothing to match"));
            }
            let words = rest.split_whitespace().map(regex::escape).collect::<Vec<_>>().join(r"\s+");
            let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let (start, end) = (word_char(rest.chars().next()), word_char(rest.chars().last()));
            let pattern = format!("{}{words}{}", if start { r"\b" } else { "" }, if end { r"\b" } else { "" });
            compile(&pattern, true).map_err(|e| format!("\"{text}\": {e}"))?
        };
        Ok(Rule { field, pattern, text: text.to_owned() })
    }

    fn matches(&self, entry: &dyn Fields) -> bool {
        let fields: &[Field] = match &self.field {
            Some(f) => std::slice::from_ref(f),
            None => &Field::ALL,
        };
        fields.iter().any(|&f| entry.values(f).iter().any(|v| self.pattern.is_match(v)))
    }
}

/// An entry as the rules see it.
pub trait Fields {
    /// The texts of `field` (several for categories; none when absent).
    fn values(&self, field: Field) -> Vec<&str>;
}

/// A source's `include` and `exclude` lists.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub include: Vec<Rule>,
    pub exclude: Vec<Rule>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// `None` when the entry is kept; else the rule that drops it (an `exclude` that
    /// matched, or the first `include` when none matched).
    pub fn drops<'a>(&'a self, entry: &dyn Fields) -> Option<&'a Rule> {
        if let Some(rule) = self.exclude.iter().find(|r| r.matches(entry)) {
            return Some(rule);
        }
        match self.include.is_empty() || self.include.iter().any(|r| r.matches(entry)) {
            true => None,
            false => self.include.first(),
        }
    }
}

/// A `rewrite` rule: a regex substitution on the title or the link.
#[derive(Debug, Clone)]
pub struct Rewrite {
    pub field: Field,
    pattern: Regex,
    replace: String,
}

impl Rewrite {
    pub fn new(field: &str, pattern: &str, replace: &str) -> Result<Rewrite, String> {
        let field = match Field::from_name(field) {
            Some(f @ (Field::Title | Field::Link)) => f,
            _ => return Err(format!("rewrite: field must be \"title\" or \"link\", found \"{field}\"")),
        };
        let pattern = compile(pattern, false).map_err(|e| format!("rewrite: invalid regex \"{pattern}\": {e}"))?;
        Ok(Rewrite { field, pattern, replace: replace.to_owned() })
    }

    /// `value` with every match replaced (`$1`, `${name}` refer to groups).
    pub fn apply(&self, value: &str) -> String {
        self.pattern.replace_all(value, self.replace.as_str()).into_owned()
    }
}

/// Query parameters that only tell a site where a click came from.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "igshid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "vero_conv",
    "rb_clickid",
    "s_kwcid",
    "ef_id",
    "_ga",
    "_gl",
    "wickedid",
    "__s",
    "ncid",
    "sr_share",
    "cmpid",
];

fn is_tracking(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING.contains(&lower.as_str())
}

/// `link` without its tracking parameters (`utm_*`, `fbclid`, `gclid`…); other parameters
/// keep their order and spelling. A link that is not an absolute URL is returned as it is.
pub fn without_tracking(link: &str) -> String {
    let Ok(mut url) = Url::parse(link) else { return link.to_owned() };
    let Some(query) = url.query() else { return link.to_owned() };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !is_tracking(&percent_decoded(name))
        })
        .collect();
    if kept.len() == query.split('&').count() {
        return link.to_owned();
    }
    let kept = kept.join("&");
    url.set_query(if kept.is_empty() { None } else { Some(&kept) });
    url.into()
}

fn percent_decoded(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct E(&'static str, &'static str, &'static [&'static str]);

    impl Fields for E {
        fn values(&self, field: Field) -> Vec<&str> {
            match field {
                Field::Title => vec![self.0],
                Field::Content => vec![self.1],
                Field::Category => self.2.to_vec(),
                Field::Author | Field::Link => Vec::new(),
            }
        }
    }

    fn filters(include: &[&str], exclude: &[&str]) -> Filters {
        let rules = |l: &[&str]| l.iter().map(|r| Rule::parse(r).unwrap()).collect();
        Filters { include: rules(include), exclude: rules(exclude) }
    }

    #[test]
    fn plain_words_are_whole_words_in_any_case() {
        let f = filters(&[], &["Sponsored post"]);
        assert!(f.drops(&E("A SPONSORED   post: buy", "", &[])).is_some());
        assert!(f.drops(&E("Unsponsored posting", "", &[])).is_none());
        let f = filters(&[], &["ad"]);
        assert!(f.drops(&E("Road works", "", &[])).is_none());
        assert!(f.drops(&E("An ad for you", "", &[])).is_some());
        let f = filters(&[], &["[ad]"]);
        assert!(f.drops(&E("[AD] Buy now", "", &[])).is_some());
    }

    #[test]
    fn fields_regexes_and_include() {
        let f = filters(&["category:rust", "title:/^release \\d+/"], &["content:/giveaway|contest/"]);
        assert_eq!(f.drops(&E("Release 12 notes", "", &[])).map(|r| r.to_string()), None);
        assert_eq!(f.drops(&E("Weekly", "", &["Rust", "news"])).map(|r| r.to_string()), None);
        assert_eq!(f.drops(&E("Weekly", "rust", &["news"])).map(|r| r.to_string()).as_deref(), Some("category:rust"));
        let contest = f.drops(&E("Release 13", "Enter our CONTEST", &[]));
        assert_eq!(contest.map(|r| r.to_string()).as_deref(), Some("content:/giveaway|contest/"));
        // Not a field name: the colon is part of the words.
        assert!(filters(&[], &["note: sponsored"]).drops(&E("Note: Sponsored", "", &[])).is_some());
    }

    #[test]
    fn bad_rules_say_why() {
        assert_eq!(
            Rule::parse("title:/(unclosed/").unwrap_err(),
            "\"title:/(unclosed/\": invalid regex: error: unclosed group"
        );
        assert_eq!(Rule::parse("title:  ").unwrap_err(), "\"title:  \": nothing to match");
        // A pattern that compiles to more than the size limit is refused, not built.
        let huge = format!("/{}/", "(a|b|c|d|e){1000}".repeat(20));
        assert!(Rule::parse(&huge).unwrap_err().contains("size limit"), "{:?}", Rule::parse(&huge).err());
        assert!(Rewrite::new("content", "x", "y").unwrap_err().contains("\"title\" or \"link\""));
    }

    #[test]
    fn tracking_parameters_go_and_the_rest_stays() {
        assert_eq!(
            without_tracking("https://ex.org/a?id=3&utm_source=rss&UTM_Medium=feed&fbclid=x&b=&gclid=1#top"),
            "https://ex.org/a?id=3&b=#top"
        );
        assert_eq!(without_tracking("https://ex.org/a?utm_source=rss"), "https://ex.org/a");
        assert_eq!(without_tracking("https://ex.org/a?q=utm_source"), "https://ex.org/a?q=utm_source");
        assert_eq!(without_tracking("https://ex.org/a?%75tm_source=x&k=1"), "https://ex.org/a?k=1");
        assert_eq!(without_tracking("not a url?utm_source=x"), "not a url?utm_source=x");
    }

    #[test]
    fn rewrites_substitute_with_groups() {
        let r = Rewrite::new("title", r"^(.*) \| Example News$", "$1").unwrap();
        assert_eq!(r.apply("Bridge vote | Example News"), "Bridge vote");
        let r = Rewrite::new("link", r"^http://", "https://").unwrap();
        assert_eq!(r.apply("http://ex.org/a"), "https://ex.org/a");
    }
}
