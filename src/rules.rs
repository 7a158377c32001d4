//! Site rules: what a user knows about one site's pages, in files they can read and edit.
//!
//! Two formats, each a folder of files named after the host they apply to:
//! - refeed's own TOML (`settings.rules`): `example.com.toml` with `body`, `strip`, `title`,
//!   `author`, `date`, `next_page`, `single_page`, `headers`, `tests`;
//! - Full-Text RSS's `ftr-site-config` text files (`settings.ftr_rules`): `example.com.txt`
//!   with `body:`, `strip:` … lines whose XPath is translated to CSS where it can be (see
//!   [`xpath_to_css`]); what cannot be is reported, never applied half.
//!
//! A file named `.example.com.*` also applies to every subdomain; an exact name wins over a
//! wildcard, the longest wildcard over a shorter one, and `www.` does not count. TOML rules
//! win over ftr rules for the same host. A bad file is reported and skipped: it never stops a
//! run. Loading is bounded: at most [`MAX_RULE_FILES`] files of at most [`MAX_RULE_BYTES`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use crate::extract;

/// Rule files read from one folder.
pub const MAX_RULE_FILES: usize = 20_000;
/// Bytes of one rule file.
pub const MAX_RULE_BYTES: u64 = 256 * 1024;

/// One site's rule, from either format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteRule {
    /// The file it came from.
    pub file: PathBuf,
    pub body: Vec<String>,
    pub strip: Vec<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub next_page: Option<String>,
    pub single_page: Option<String>,
    /// Request headers sent with pages of this host (a consent cookie).
    pub headers: Vec<(String, String)>,
    /// (find, replace) on the page's HTML before parsing.
    pub replace: Vec<(String, String)>,
    pub tests: Vec<RuleTest>,
    /// Directives of an ftr file that could not be used, with why.
    pub skipped: Vec<String>,
}

/// A rule's test: the extraction of `url` contains each of `contains`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub url: String,
    #[serde(default)]
    pub contains: Vec<String>,
    /// The page saved beside the rule file (else `<host>.<n>.html` beside it, else live).
    #[serde(default)]
    pub page: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    body: OneOrMany,
    #[serde(default)]
    strip: OneOrMany,
    title: Option<String>,
    author: Option<String>,
    date: Option<String>,
    next_page: Option<String>,
    single_page: Option<String>,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    replace: Vec<RawReplace>,
    #[serde(default)]
    tests: Vec<RuleTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplace {
    find: String,
    #[serde(default)]
    with: String,
}

#[derive(Deserialize, Default)]
#[serde(untagged, expecting = "a CSS selector or a list of CSS selectors")]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Every rule of the configured folders, by host.
#[derive(Debug, Default)]
pub struct RuleSet {
    exact: HashMap<String, Arc<SiteRule>>,
    wildcard: HashMap<String, Arc<SiteRule>>,
    /// Files skipped or read in part, with why.
    pub problems: Vec<String>,
}

fn selector_ok(sel: &str) -> Result<(), String> {
    scraper::Selector::parse(sel).map(|_| ()).map_err(|e| format!("invalid CSS selector \"{sel}\": {e}"))
}

/// `www.example.com` -> `example.com`.
fn bare_host(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

impl RuleSet {
    /// Reads the TOML rules in `toml_dir` and the ftr rules in `ftr_dir` (either may be
    /// absent). Never fails: what cannot be read is in [`RuleSet::problems`].
    pub fn load(toml_dir: Option<&Path>, ftr_dir: Option<&Path>) -> RuleSet {
        let mut set = RuleSet::default();
        // ftr first: TOML rules for the same host replace them.
        if let Some(dir) = ftr_dir {
            set.load_dir(dir, "txt", |text, path| Ok(parse_ftr(text, path)));
        }
        if let Some(dir) = toml_dir {
            set.load_dir(dir, "toml", parse_toml);
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }

    pub fn len(&self) -> usize {
        self.exact.len() + self.wildcard.len()
    }

    fn load_dir(&mut self, dir: &Path, ext: &str, parse: impl Fn(&str, &Path) -> Result<SiteRule, String>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.problems.push(format!("{}: {e}", dir.display()));
                return;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .take(MAX_RULE_FILES + 1)
            .collect();
        if files.len() > MAX_RULE_FILES {
            self.problems
                .push(format!("{}: more than {MAX_RULE_FILES} rule files; the rest are not read", dir.display()));
            files.truncate(MAX_RULE_FILES);
        }
        files.sort();
        for path in files {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
            let text = match std::fs::metadata(&path) {
                Ok(m) if m.len() > MAX_RULE_BYTES => Err(format!("larger than {} KiB", MAX_RULE_BYTES >> 10)),
                Ok(_) => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let rule = text.and_then(|t| parse(&t, &path));
            match rule {
                Ok(rule) => {
                    for why in &rule.skipped {
                        self.problems.push(format!("{}: {why}", path.display()));
                    }
                    let rule = Arc::new(rule);
                    match stem.strip_prefix('.') {
                        Some(domain) => self.wildcard.insert(bare_host(domain), rule),
                        None => self.exact.insert(bare_host(&stem), rule),
                    };
                }
                Err(why) => self.problems.push(format!("{}: {why} (file skipped)", path.display())),
            }
        }
    }

    /// The rule for `host`: its own file, else the longest wildcard that covers it.
    pub fn for_host(&self, host: &str) -> Option<Arc<SiteRule>> {
        let host = bare_host(host);
        if let Some(rule) = self.exact.get(&host) {
            return Some(rule.clone());
        }
        let mut rest = host.as_str();
        loop {
            if let Some(rule) = self.wildcard.get(rest) {
                return Some(rule.clone());
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// Every rule, by file name.
    pub fn all(&self) -> Vec<Arc<SiteRule>> {
        let mut all: Vec<Arc<SiteRule>> = self.exact.values().chain(self.wildcard.values()).cloned().collect();
        all.sort_by(|a, b| a.file.cmp(&b.file));
        all
    }

    /// The rule for the host of `url`.
    pub fn for_url(&self, url: &Url) -> Option<Arc<SiteRule>> {
        url.host_str().and_then(|h| self.for_host(h))
    }

    /// `base` (a source's options) with the rule for `url`'s host applied: the source's own
    /// `content` and `remove` still win (its `content` is tried before the rule's `body`, and
    /// its `remove` comes on top of the rule's `strip`).
    pub fn options_for(&self, url: &Url, base: &Arc<extract::Options>) -> Arc<extract::Options> {
        match self.for_url(url) {
            Some(rule) => Arc::new(rule.apply(base)),
            None => base.clone(),
        }
    }
}

impl SiteRule {
    /// `base` with this rule applied.
    pub fn apply(&self, base: &extract::Options) -> extract::Options {
        let mut o = base.clone();
        o.body = self.body.clone();
        o.remove = self.strip.iter().chain(&base.remove).cloned().collect();
        o.title = self.title.clone();
        o.author = self.author.clone();
        o.date = self.date.clone();
        o.next_page = self.next_page.clone();
        o.single_page = self.single_page.clone();
        o.replace = self.replace.clone();
        o.rule = Some(self.file.display().to_string());
        o
    }
}

fn parse_toml(text: &str, path: &Path) -> Result<SiteRule, String> {
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(l) => format!("line {l}: {}", e.message().trim()),
            None => e.message().trim().to_owned(),
        }
    })?;
    let body = raw.body.into_vec();
    let strip = raw.strip.into_vec();
    for sel in body
        .iter()
        .chain(&strip)
        .chain([&raw.title, &raw.author, &raw.date, &raw.next_page, &raw.single_page].into_iter().flatten())
    {
        selector_ok(sel)?;
    }
    let mut headers: Vec<(String, String)> = raw.headers.into_iter().collect();
    headers.sort();
    for (name, value) in &headers {
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("headers: bad name \"{name}\""))?;
        reqwest::header::HeaderValue::from_str(value).map_err(|_| format!("headers: bad value for \"{name}\""))?;
    }
    Ok(SiteRule {
        file: path.to_owned(),
        body,
        strip,
        title: raw.title,
        author: raw.author,
        date: raw.date,
        next_page: raw.next_page,
        single_page: raw.single_page,
        headers,
        replace: raw.replace.into_iter().map(|r| (r.find, r.with)).collect(),
        tests: raw.tests,
        skipped: Vec::new(),
    })
}

/// Reads an ftr-site-config file: `directive: value` lines, `#` comments. Every XPath is
/// translated to CSS, or the directive is listed in `skipped`.
pub fn parse_ftr(text: &str, path: &Path) -> SiteRule {
    let mut rule = SiteRule { file: path.to_owned(), ..SiteRule::default() };
    let mut finds: Vec<String> = Vec::new();
    let mut test_url: Option<RuleTest> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            rule.skipped.push(format!("line {}: not a \"directive: value\" line", n + 1));
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let css = |rule: &mut SiteRule| match xpath_to_css(value) {
            Ok(css) => Some(css),
            Err(why) => {
                rule.skipped.push(format!("line {}: {key}: {why}: {value}", n + 1));
                None
            }
        };
        match key {
            "body" => {
                if let Some(c) = css(&mut rule) {
                    rule.body.push(c)
                }
            }
            "strip" => {
                if let Some(c) = css(&mut rule) {
                    rule.strip.push(c)
                }
            }
            "title" => rule.title = css(&mut rule).or(rule.title.take()),
            "author" => rule.author = css(&mut rule).or(rule.author.take()),
            "date" => rule.date = css(&mut rule).or(rule.date.take()),
            "next_page_link" => rule.next_page = css(&mut rule).or(rule.next_page.take()),
            "single_page_link" => rule.single_page = css(&mut rule).or(rule.single_page.take()),
            "strip_id_or_class" => {
                let v = value.trim_matches(['\'', '"']).replace('"', "");
                if !v.is_empty() {
                    rule.strip.push(format!("[id*=\"{v}\"], [class*=\"{v}\"]"));
                }
            }
            "strip_image_src" => {
                let v = value.trim_matches(['\'', '"']).replace('"', "");
                if !v.is_empty() {
                    rule.strip.push(format!("img[src*=\"{v}\"]"));
                }
            }
            "find_string" => finds.push(value.to_owned()),
            "replace_string" => match finds.pop() {
                Some(find) => rule.replace.push((find, value.to_owned())),
                None => rule.skipped.push(format!("line {}: replace_string without a find_string", n + 1)),
            },
            k if k.starts_with("replace_string(") && k.ends_with(')') => {
                let find = &k["replace_string(".len()..k.len() - 1];
                rule.replace.push((find.to_owned(), value.to_owned()));
            }
            k if k.starts_with("http_header(") && k.ends_with(')') => {
                let name = &k["http_header(".len()..k.len() - 1];
                rule.headers.push((name.to_owned(), value.to_owned()));
            }
            "test_url" => {
                if let Some(t) = test_url.take() {
                    rule.tests.push(t);
                }
                test_url = Some(RuleTest { url: value.to_owned(), ..RuleTest::default() });
            }
            "test_contains" => match test_url.as_mut() {
                Some(t) => t.contains.push(value.to_owned()),
                None => rule.skipped.push(format!("line {}: test_contains before any test_url", n + 1)),
            },
            // Directives about Full-Text RSS's own machinery, with nothing to do here.
            "tidy"
            | "prune"
            | "autodetect_on_failure"
            | "parser"
            | "dissolve"
            | "move_into"
            | "login_uri"
            | "login_username_field"
            | "login_password_field"
            | "not_logged_in_xpath"
            | "skip_json_ld"
            | "src_lazy_load_attr"
            | "insert_detected_image"
            | "wrap_in"
            | "if_page_contains" => {}
            other => rule.skipped.push(format!("line {}: unknown directive \"{other}\"", n + 1)),
        }
    }
    rule.tests.extend(test_url);
    rule.replace.retain(|(f, _)| !f.is_empty());
    rule
}

/// Longest XPath translated (real rules are a line; past this it is not a rule).
const MAX_XPATH: usize = 2_000;

/// Translates the XPath that site rules use (location paths with attribute tests) to a CSS
/// selector: `//div[@id='a']//p`, `//*[@class='x y']`, `//div[contains(@class,'story')]`,
/// `//div[contains(concat(' ',normalize-space(@class),' '),' body ')]`, `starts-with(...)`,
/// `[@attr]`, `and`, `[1]`, and `a | b`. Anything else (text nodes, axes, parents, other
/// functions, `or`) is an error naming what could not be translated.
pub fn xpath_to_css(xpath: &str) -> Result<String, String> {
    if xpath.len() > MAX_XPATH {
        return Err(format!("longer than {MAX_XPATH} characters"));
    }
    let alternatives = split_top(xpath, '|');
    let css: Result<Vec<String>, String> = alternatives.iter().map(|a| path_to_css(a.trim())).collect();
    Ok(css?.join(", "))
}

/// Splits at `sep` outside brackets, parentheses and quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut quote, mut start, mut out) = (0i32, None, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, c) if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn path_to_css(path: &str) -> Result<String, String> {
    let mut css = String::new();
    // `//time/@datetime`: the element (its `datetime` or `content` is what dates are read from).
    let path = match path.rsplit_once("/@") {
        Some((element, attr)) if !element.is_empty() && attr_name(&format!("@{attr}")).is_some() => element,
        _ => path,
    };
    let mut rest = path;
    if rest.is_empty() {
        return Err("empty path".into());
    }
    let mut first = true;
    while !rest.is_empty() {
        let (combinator, after) = if let Some(r) = rest.strip_prefix("//") {
            (" ", r)
        } else if let Some(r) = rest.strip_prefix('/') {
            (" > ", r)
        } else if first {
            (" ", rest)
        } else {
            return Err(format!("cannot translate \"{rest}\""));
        };
        if !first {
            css.push_str(combinator);
        }
        first = false;
        // One step: a name test and predicates, up to the next '/' outside brackets.
        let mut end = after.len();
        let (mut depth, mut quote) = (0i32, None);
        for (i, c) in after.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[') => depth += 1,
                (None, ']') => depth -= 1,
                (None, '/') if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        css.push_str(&step_to_css(&after[..end])?);
        rest = &after[end..];
    }
    Ok(css.trim().to_owned())
}

fn step_to_css(step: &str) -> Result<String, String> {
    let (name, mut preds) = match step.find('[') {
        Some(i) => (&step[..i], &step[i..]),
        None => (step, ""),
    };
    let name = name.trim();
    if name.contains("::") || name == ".." || name == "." || name.contains('(') || name.is_empty() {
        return Err(format!("cannot translate the step \"{step}\""));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '-' || c == '_') {
        return Err(format!("cannot translate the name \"{name}\""));
    }
    let mut css = if name == "*" { String::new() } else { name.to_ascii_lowercase() };
    while !preds.is_empty() {
        let close = matching_bracket(preds).ok_or_else(|| format!("unbalanced brackets in \"{step}\""))?;
        let inner = &preds[1..close];
        for part in split_and(inner) {
            css.push_str(&predicate_to_css(part.trim(), name)?);
        }
        preds = preds[close + 1..].trim_start();
    }
    Ok(if css.is_empty() { "*".into() } else { css })
}

fn matching_bracket(s: &str) -> Option<usize> {
    let (mut depth, mut quote) = (0i32, None);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a predicate at ` and ` outside quotes and parentheses.
fn split_and(s: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start, mut out) = (0i32, None, 0, Vec::new());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = bytes[i] as char;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ' ') if depth == 0 && s[i..].starts_with(" and ") => {
                out.push(&s[start..i]);
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// A quoted XPath string literal's content.
fn literal(s: &str) -> Option<&str> {
    let s = s.trim();
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    s.strip_prefix(q)?.strip_suffix(q).filter(|v| !v.contains(q))
}

fn attr_name(s: &str) -> Option<&str> {
    let name = s.trim().strip_prefix('@')?;
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':').then_some(name)
}

fn css_string(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn predicate_to_css(p: &str, name: &str) -> Result<String, String> {
    let cannot = || format!("cannot translate the test \"[{p}]\"");
    if let Ok(n) = p.parse::<usize>() {
        return match name {
            "*" => Err(cannot()),
            _ => Ok(format!(":nth-of-type({n})")),
        };
    }
    if let Some(attr) = attr_name(p) {
        return Ok(format!("[{attr}]"));
    }
    if let Some((lhs, rhs)) = p.split_once('=') {
        let (attr, value) = (attr_name(lhs).ok_or_else(cannot)?, literal(rhs).ok_or_else(cannot)?);
        return Ok(match attr {
            "id" if !value.contains(char::is_whitespace) && !value.is_empty() => format!("[id={}]", css_string(value)),
            _ => format!("[{attr}={}]", css_string(value)),
        });
    }
    let call =
        |f: &str| p.strip_prefix(f).and_then(|r| r.trim_start().strip_prefix('(')).and_then(|r| r.strip_suffix(')'));
    if let Some(args) = call("contains") {
        let parts = split_top(args, ',');
        if parts.len() != 2 {
            return Err(cannot());
        }
        let value = literal(parts[1]).ok_or_else(cannot)?;
        if let Some(attr) = attr_name(parts[0]) {
            return Ok(format!("[{attr}*={}]", css_string(value)));
        }
        // contains(concat(' ', normalize-space(@class), ' '), ' x '): the class token x.
        let compact: String = parts[0].chars().filter(|c| !c.is_whitespace()).collect();
        let token = value.trim();
        if compact.contains("normalize-space(@class)") && compact.starts_with("concat(") && !token.is_empty() {
            if token.contains(char::is_whitespace) {
                return Err(cannot());
            }
            return Ok(format!("[class~={}]", css_string(token)));
        }
        return Err(cannot());
    }
    if let Some(args) = call("starts-with") {
        let parts = split_top(args, ',');
        if parts.len() == 2
            && let (Some(attr), Some(value)) = (attr_name(parts[0]), literal(parts[1]))
        {
            return Ok(format!("[{attr}^={}]", css_string(value)));
        }
    }
    Err(cannot())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_xpath_becomes_css() {
        let cases = [
            ("//div[@id='story']", "div[id=\"story\"]"),
            ("//div[@class='post entry']//p", "div[class=\"post entry\"] p"),
            ("//article/div[contains(@class, 'body')]", "article > div[class*=\"body\"]"),
            ("//*[contains(concat(' ',normalize-space(@class),' '),' content ')]", "[class~=\"content\"]"),
            ("//div[starts-with(@id,'post-') and @data-type]", "div[id^=\"post-\"][data-type]"),
            ("//h1 | //h2[@itemprop=\"headline\"]", "h1, h2[itemprop=\"headline\"]"),
            ("//ul[@class='pager']/li[2]/a", "ul[class=\"pager\"] > li:nth-of-type(2) > a"),
            ("//span[@class=\"x\"][@lang='en']", "span[class=\"x\"][lang=\"en\"]"),
        ];
        for (xpath, css) in cases {
            assert_eq!(xpath_to_css(xpath).as_deref(), Ok(css), "{xpath}");
            assert!(scraper::Selector::parse(css).is_ok(), "{css}");
        }
    }

    #[test]
    fn what_css_cannot_say_is_refused_by_name() {
        for (xpath, why) in [
            ("//div[@id='a']/text()", "cannot translate the step \"text()\""),
            ("//p/..", "cannot translate the step \"..\""),
            ("//div/following-sibling::p", "cannot translate the step \"following-sibling::p\""),
            ("//div[@a='x' or @b='y']", "cannot translate the test \"[@a='x' or @b='y']\""),
            ("//div[string-length(.) > 3]", "cannot translate the test \"[string-length(.) > 3]\""),
            ("//div[@id='a'", "unbalanced brackets in \"div[@id='a'\""),
        ] {
            assert_eq!(xpath_to_css(xpath), Err(why.to_string()), "{xpath}");
        }
        assert!(xpath_to_css(&"/a".repeat(2_000)).is_err());
    }

    #[test]
    fn ftr_files_read_with_their_problems_listed() {
        let rule = parse_ftr(
            "# a comment\nbody: //div[@itemprop='articleBody']\nbody: //article\nstrip: //div[@class='share']\n\
             strip: //p[last()]\nstrip_id_or_class: related\nstrip_image_src: /pixel.gif\ntitle: //h1\n\
             date: //time/@datetime\nfind_string: <br><br>\nreplace_string: </p><p>\nhttp_header(Cookie): ok=1\n\
             next_page_link: //a[@rel='next']\ntidy: no\nwhatever: x\ntest_url: https://ex.org/a\ntest_contains: Hello\n",
            Path::new("rules/ex.org.txt"),
        );
        assert_eq!(rule.body, ["div[itemprop=\"articleBody\"]", "article"]);
        assert_eq!(
            rule.strip,
            ["div[class=\"share\"]", "[id*=\"related\"], [class*=\"related\"]", "img[src*=\"/pixel.gif\"]"]
        );
        assert_eq!(rule.title.as_deref(), Some("h1"));
        assert_eq!(rule.date.as_deref(), Some("time"));
        assert_eq!(rule.replace, [("<br><br>".to_string(), "</p><p>".to_string())]);
        assert_eq!(rule.headers, [("Cookie".to_string(), "ok=1".to_string())]);
        assert_eq!(rule.next_page.as_deref(), Some("a[rel=\"next\"]"));
        assert_eq!(
            rule.tests,
            [RuleTest { url: "https://ex.org/a".into(), contains: vec!["Hello".into()], page: None }]
        );
        assert_eq!(
            rule.skipped,
            [
                "line 5: strip: cannot translate the test \"[last()]\": //p[last()]",
                "line 15: unknown directive \"whatever\"",
            ]
        );
    }

    #[test]
    fn hosts_match_exactly_then_by_the_longest_wildcard() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("example.com.toml"), "body = \"article\"").unwrap();
        std::fs::write(dir.path().join(".example.com.toml"), "body = \".any\"").unwrap();
        std::fs::write(dir.path().join(".news.example.com.toml"), "body = \".news\"").unwrap();
        std::fs::write(dir.path().join("broken.org.toml"), "body = [").unwrap();
        std::fs::write(dir.path().join("bad-selector.org.toml"), "strip = [\"div[\"]").unwrap();
        let huge = format!("body = \"article\"\n#{}\n", "x".repeat(MAX_RULE_BYTES as usize));
        std::fs::write(dir.path().join("huge.org.toml"), huge).unwrap();
        let set = RuleSet::load(Some(dir.path()), None);
        let body = |host: &str| set.for_host(host).map(|r| r.body[0].clone());
        assert_eq!(body("www.example.com").as_deref(), Some("article"));
        assert_eq!(body("example.com").as_deref(), Some("article"));
        assert_eq!(body("blog.example.com").as_deref(), Some(".any"));
        assert_eq!(body("a.b.news.example.com").as_deref(), Some(".news"));
        assert_eq!(body("example.org"), None);
        assert_eq!(body("notexample.com"), None);
        assert_eq!(set.problems.len(), 3, "{:?}", set.problems);
        assert!(set.problems.iter().any(|p| p.ends_with("huge.org.toml: larger than 256 KiB (file skipped)")));
        assert_eq!(set.for_host("huge.org"), None);
        assert!(set.problems.iter().any(|p| p.contains("broken.org.toml: line 1:")), "{:?}", set.problems);
        assert!(set.problems.iter().any(|p| p.contains("invalid CSS selector \"div[\"")), "{:?}", set.problems);
    }
}
