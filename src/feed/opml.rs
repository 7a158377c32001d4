//! Reading OPML subscription lists, as feed readers export them (newsboat, Feedly, Inoreader,
//! NetNewsWire, Miniflux…): `<outline>`s with an `xmlUrl` (in any case) are feeds, the
//! outlines around them folders.
//!
//! Read with the feed reader's forgiving XML reader (HTML entities, bare `&`, unquoted
//! attributes), so it is bounded the same way: one pass, nesting capped at
//! [`super::xml::MAX_DEPTH`], the CPU time checked. The caller caps the file's size; at most
//! [`MAX_OUTLINES`] feeds are read.

use url::Url;

use super::xml::{self, Ns, Tree};
use crate::html::{Deadline, HtmlError};

/// Feeds read from one OPML file; past it the rest is reported, not read.
pub const MAX_OUTLINES: usize = 100_000;

/// One feed of a subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `title`, else `text`, else empty.
    pub title: String,
    pub xml_url: Url,
    pub html_url: Option<String>,
    /// The folders it sits in, outermost first (empty at the top level).
    pub folders: Vec<String>,
}

/// What an OPML file holds.
#[derive(Debug, Default)]
pub struct Opml {
    pub title: Option<String>,
    pub subscriptions: Vec<Subscription>,
    /// Outlines that could not be read, with why (an `xmlUrl` that is not an http(s) URL).
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("not an OPML file: {0}")]
    NotOpml(String),
    #[error("{0}")]
    Budget(#[from] HtmlError),
}

/// Reads an OPML document (already decoded to text).
pub fn parse(text: &str, deadline: &Deadline) -> Result<Opml, OpmlError> {
    let (tree, _) = xml::read(text, deadline, |_, _| {})?;
    let root = tree
        .child_indices(0)
        .find(|&i| tree.nodes[i].name == "opml")
        .ok_or_else(|| OpmlError::NotOpml(format!("the root element is not <opml>{}", found(&tree))))?;
    let body = tree
        .child(root, Ns::Plain, "body")
        .or_else(|| tree.child_indices(root).find(|&i| tree.nodes[i].name == "body"))
        .ok_or_else(|| OpmlError::NotOpml("no <body> in <opml>".into()))?;
    let title = tree
        .child_indices(root)
        .find(|&i| tree.nodes[i].name == "head")
        .and_then(|head| tree.child_indices(head).find(|&i| tree.nodes[i].name == "title"))
        .map(|t| tree.deep_text(t).trim().to_owned())
        .filter(|t| !t.is_empty());
    let mut opml = Opml { title, ..Opml::default() };
    let mut folders = Vec::new();
    outlines(&tree, body, &mut folders, &mut opml);
    Ok(opml)
}

fn found(tree: &Tree) -> String {
    match tree.children(0).next() {
        Some(e) => format!(" but <{}>", e.name),
        None => String::new(),
    }
}

/// The feeds under `parent`, depth first (the nesting is capped by the XML reader).
fn outlines(tree: &Tree, parent: usize, folders: &mut Vec<String>, opml: &mut Opml) {
    for i in tree.child_indices(parent) {
        let e = &tree.nodes[i];
        if e.name != "outline" {
            continue;
        }
        let attr = |name: &str| e.attrs.iter().find(|(_, n, _)| n == name).map(|(_, _, v)| v.trim());
        let label = attr("title").filter(|t| !t.is_empty()).or(attr("text")).unwrap_or("").to_owned();
        match attr("xmlurl").filter(|u| !u.is_empty()) {
            Some(_) if opml.subscriptions.len() >= MAX_OUTLINES => {
                if opml.skipped.len() < 10 {
                    opml.skipped.push(format!("\"{label}\": past the first {MAX_OUTLINES} feeds"));
                }
            }
            Some(raw) => match Url::parse(raw).ok().filter(|u| matches!(u.scheme(), "http" | "https")) {
                Some(xml_url) => opml.subscriptions.push(Subscription {
                    title: label,
                    xml_url,
                    html_url: attr("htmlurl").filter(|u| !u.is_empty()).map(str::to_owned),
                    folders: folders.clone(),
                }),
                None => opml.skipped.push(format!("\"{label}\": xmlUrl \"{raw}\" is not an http(s) URL")),
            },
            None => {
                folders.push(label);
                outlines(tree, i, folders, opml);
                folders.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn read(text: &str) -> Opml {
        parse(text, &Deadline::start(Duration::from_secs(5))).unwrap()
    }

    #[test]
    fn folders_any_case_and_entities() {
        let opml = read(
            r#"<?xml version="1.0"?><opml version="1.0"><head><title>My feeds</title></head><body>
              <outline text="Tech" title="Tech">
                <outline text="Caf&eacute; &amp; Code" type="rss" xmlUrl="https://cafe.example/feed" htmlUrl="https://cafe.example/"/>
                <outline text="Deep"><outline text="Rust" XMLURL="https://rust.example/rss"/></outline>
              </outline>
              <outline title="Top" text="ignored" xmlurl="http://top.example/atom.xml"/>
              <outline text="Mail" xmlUrl="mailto:x@example.org"/>
            </body></opml>"#,
        );
        assert_eq!(opml.title.as_deref(), Some("My feeds"));
        let got: Vec<(&str, &str, Vec<String>)> =
            opml.subscriptions.iter().map(|s| (s.title.as_str(), s.xml_url.as_str(), s.folders.clone())).collect();
        assert_eq!(
            got,
            [
                ("Café & Code", "https://cafe.example/feed", vec!["Tech".to_string()]),
                ("Rust", "https://rust.example/rss", vec!["Tech".to_string(), "Deep".to_string()]),
                ("Top", "http://top.example/atom.xml", vec![]),
            ]
        );
        assert_eq!(opml.subscriptions[0].html_url.as_deref(), Some("https://cafe.example/"));
        assert_eq!(opml.skipped, ["\"Mail\": xmlUrl \"mailto:x@example.org\" is not an http(s) URL"]);
    }

    #[test]
    fn not_opml_says_what_it_is() {
        let e = parse("<rss><channel/></rss>", &Deadline::none()).unwrap_err();
        assert_eq!(e.to_string(), "not an OPML file: the root element is not <opml> but <rss>");
        let e = parse("<opml><head/></opml>", &Deadline::none()).unwrap_err();
        assert_eq!(e.to_string(), "not an OPML file: no <body> in <opml>");
    }

    #[test]
    fn ten_thousand_outlines_in_deep_folders_read_in_one_pass() {
        let mut text = String::from("<opml><body>");
        text.push_str(&"<outline text=\"f\">".repeat(100));
        for i in 0..10_000 {
            text.push_str(&format!("<outline text=\"Feed {i}\" xmlUrl=\"https://f{i}.example/feed\"/>"));
        }
        text.push_str(&"</outline>".repeat(100));
        text.push_str("</body></opml>");
        // Within `read`'s CPU limit, or it fails.
        let opml = read(&text);
        assert_eq!(opml.subscriptions.len(), 10_000);
        assert_eq!(opml.subscriptions[9_999].folders.len(), 100);
        assert_eq!(opml.subscriptions[9_999].xml_url.as_str(), "https://f9999.example/feed");
    }

    #[test]
    fn hostile_nesting_costs_one_pass() {
        // 200,000 unclosed folders: what is deeper than the XML reader's cap is read as text,
        // so the outlines there are not feeds; nothing recurses past the cap.
        let text =
            format!("<opml><body>{}<outline xmlUrl=\"https://a.example/\"/>", "<outline text=\"f\">".repeat(200_000));
        let opml = read(&text);
        assert!(opml.subscriptions.is_empty());
        let text = format!("<opml><body>{}<outline xmlUrl=\"https://a.example/\"/>", "<outline text=\"f\">".repeat(50));
        assert_eq!(read(&text).subscriptions[0].folders.len(), 50);
    }
}
