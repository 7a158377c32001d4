//! The `/` page: every source, how it is doing and how to subscribe to it. Plain HTML and a
//! little CSS; the one button is a form (POST with a CSRF token), so no script is needed.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::SourceStatus;
use crate::publish::Format;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    crate::sanitize::escape(s)
}

/// "3 min ago" / "in 25 min", with the exact time for a tooltip.
fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let exact = t.format("%Y-%m-%d %H:%M:%S UTC");
    let words = super::schedule::relative(t, now);
    format!("<time datetime=\"{}\" title=\"{exact}\">{words}</time>", t.to_rfc3339())
}

const STYLE: &str = "
:root{color-scheme:light dark;--fg:#1d2430;--muted:#5b6577;--bg:#f6f7f9;--card:#fff;--line:#e3e6eb;--accent:#2456c9;--ok:#1f8a4c;--bad:#c0392b;--wait:#b7791f}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa4b5;--bg:#15181d;--card:#1e232b;--line:#2d3440;--accent:#7aa2ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:980px;margin:0 auto;padding:0 20px}
header{padding-top:28px;display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 18px}
h1{font-size:26px;margin:0;letter-spacing:-.01em}h1 span{color:var(--accent)}
.summary{color:var(--muted)}.summary b{color:var(--fg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.source{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:14px 0;display:grid;grid-template-columns:1fr auto;gap:6px 16px}
.source h2{font-size:17px;margin:0;display:flex;align-items:center;gap:8px}
.dot{width:10px;height:10px;border-radius:50%;display:inline-block;flex:none}.dot.ok{background:var(--ok)}.dot.bad{background:var(--bad)}.dot.wait{background:var(--wait)}
.name{font:12px ui-monospace,monospace;color:var(--muted);font-weight:normal}
.facts{color:var(--muted);font-size:13.5px;display:flex;flex-wrap:wrap;gap:2px 16px;grid-column:1}
.facts b{color:var(--fg);font-weight:600}
.subscribe{grid-column:2;grid-row:1/span 2;display:flex;flex-direction:column;align-items:flex-end;gap:6px}
.formats{display:flex;gap:6px}.none{color:var(--muted);font-size:13px}.formats a{border:1px solid var(--line);border-radius:6px;padding:2px 9px;font-size:13px}
button{font:inherit;font-size:13px;border:1px solid var(--line);background:transparent;color:var(--fg);border-radius:6px;padding:2px 10px;cursor:pointer}
button:hover{border-color:var(--accent);color:var(--accent)}
.error{grid-column:1/span 2;background:rgba(192,57,43,.08);border-left:3px solid var(--bad);padding:8px 12px;border-radius:4px;font-size:13.5px}
.error code{display:block;color:var(--muted);font-size:12px;word-break:break-all;margin-top:2px}
.note{grid-column:1/span 2;color:var(--muted);font-size:13px}
.anyurl{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px;margin:22px 0}
.anyurl form{display:flex;gap:8px;flex-wrap:wrap}.anyurl input{flex:1;min-width:240px;font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
footer{color:var(--muted);font-size:13px;padding-bottom:30px}
@media (max-width:640px){.source{grid-template-columns:1fr}.subscribe{grid-column:1;grid-row:auto;align-items:flex-start}}
";

/// What the page needs besides the sources.
pub struct PageInfo<'a> {
    pub csrf: &'a str,
    pub any_url: bool,
    pub any_url_token: bool,
    pub version: &'a str,
}

/// The whole page.
pub fn render(sources: &[(String, SourceStatus)], info: &PageInfo, now: DateTime<Utc>) -> String {
    let mut h = String::with_capacity(8192);
    let failing = sources.iter().filter(|(_, s)| s.last_error.is_some()).count();
    let entries: usize = sources.iter().map(|(_, s)| s.entries).sum();
    h.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>refeed</title>\n");
    for (name, s) in sources.iter().filter(|(_, s)| s.served) {
        // Relative links: right whatever name or proxy path the page was reached by.
        let title = esc(&s.title);
        for format in Format::ALL {
            // The RSS feed carries the plain title: it is the one readers pick by default.
            let suffix = if format == Format::Rss { String::new() } else { format!(" ({})", format.label().1) };
            let _ = writeln!(
                h,
                "<link rel=\"alternate\" type=\"{}\" title=\"{title}{suffix}\" href=\"feeds/{name}.{}\">",
                format.media_type(),
                format.ext()
            );
        }
    }
    let _ = write!(h, "<style>{STYLE}</style>\n</head>\n<body>\n<header><h1>re<span>feed</span></h1>");
    let _ = write!(
        h,
        "<div class=\"summary\"><b>{}</b> source{} · <b>{entries}</b> entries · {} · <a href=\"opml\">OPML</a> · <a href=\"metrics\">metrics</a></div></header>\n<main>\n",
        sources.len(),
        if sources.len() == 1 { "" } else { "s" },
        if failing == 0 { "all fine".to_string() } else { format!("<b>{failing}</b> failing") },
    );
    if sources.is_empty() {
        h.push_str("<p>No sources yet: add a <code>[[source]]</code> to the config and restart.</p>\n");
    }
    for (name, s) in sources {
        let (dot, state) = match (&s.last_error, s.refreshing, s.last_attempt) {
            (_, true, _) => ("wait", "refreshing now"),
            (Some(_), _, _) => ("bad", "failing"),
            (None, _, None) => ("wait", "not fetched yet"),
            (None, _, Some(_)) => ("ok", "ok"),
        };
        let title = match &s.site_url {
            Some(site) => format!("<a href=\"{}\">{}</a>", esc(site), esc(&s.title)),
            None => esc(&s.title),
        };
        let _ = write!(
            h,
            "<section class=\"source\" id=\"{name}\">\n<h2><span class=\"dot {dot}\" title=\"{state}\"></span>{title} <span class=\"name\">{name}</span></h2>\n"
        );
        let last = match (s.last_attempt, s.last_success) {
            (Some(a), _) => relative(a, now),
            (None, Some(ok)) => relative(ok, now),
            (None, None) => "never".into(),
        };
        let next = if s.refreshing { "now".into() } else { relative(s.next_due, now) };
        let host = url::Url::parse(&s.origin).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"facts\"><span>Last refresh <b>{last}</b></span><span>Next <b>{next}</b></span><span><b>{}</b> entries</span><span>from <a href=\"{}\">{}</a></span>",
            s.entries,
            esc(&s.origin),
            esc(&host)
        );
        if let Some(ok) = s.last_success.filter(|_| s.last_error.is_some()) {
            let _ = write!(h, "<span>Last success {}</span>", relative(ok, now));
        }
        h.push_str("</div>\n");
        let formats = if s.served {
            Format::ALL
                .iter()
                .map(|f| {
                    format!("<a href=\"feeds/{name}.{}\" type=\"{}\">{}</a>", f.ext(), f.media_type(), f.label().0)
                })
                .collect::<String>()
        } else {
            "<span class=\"none\">no feed yet</span>".to_string()
        };
        let _ = writeln!(
            h,
            "<div class=\"subscribe\"><div class=\"formats\">{formats}</div>\
             <form method=\"post\" action=\"refresh/{name}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Refresh now</button></form></div>",
            esc(info.csrf)
        );
        if let Some(error) = &s.last_error {
            let streak = if s.failures > 1 { format!(" ({} failures in a row)", s.failures) } else { String::new() };
            let _ = writeln!(
                h,
                "<div class=\"error\"><b>{}</b>{streak}<code>{}</code></div>",
                esc(&error.explain()),
                esc(&error.message)
            );
        }
        let why = s.reason.describe();
        if !why.is_empty() || !s.notes.is_empty() {
            let mut notes: Vec<String> = s.notes.iter().map(|n| esc(n)).collect();
            if !why.is_empty() {
                notes.insert(0, format!("Next refresh later than usual: {}.", esc(&why)));
            }
            let _ = writeln!(h, "<div class=\"note\">{}</div>", notes.join("<br>"));
        }
        h.push_str("</section>\n");
    }
    if info.any_url {
        let token = if info.any_url_token {
            "<input name=\"token\" type=\"password\" placeholder=\"token\" style=\"flex:0 1 140px\">"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<section class=\"anyurl\"><h2 style=\"font-size:16px;margin:0 0 8px\">Full text for any feed</h2>\
             <form method=\"get\" action=\"feed\"><input name=\"url\" type=\"url\" required placeholder=\"https://example.org/feed.xml\">{token}\
             <button type=\"submit\">Get full-text feed</button></form></section>"
        );
    }
    let _ = write!(
        h,
        "</main>\n<footer>refeed {} · hover a time for the exact UTC time · reload the page for fresh figures</footer>\n</body>\n</html>\n",
        esc(info.version)
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    /// The page for one failing source.
    fn page_for(error: &crate::error::RefreshError) -> String {
        let now = Utc::now();
        let status = SourceStatus {
            title: "T".into(),
            origin: "https://origin.example/feed".into(),
            served: false,
            site_url: None,
            entries: 0,
            last_attempt: Some(now),
            last_success: None,
            last_error: Some(crate::error::Failure::from(error)),
            failures: 1,
            next_due: now,
            refreshing: false,
            reason: super::super::schedule::Reason::Interval,
            notes: Vec::new(),
            asked_at: None,
            forced: false,
        };
        let info = PageInfo { csrf: "t", any_url: false, any_url_token: false, version: "0" };
        render(&[("s".into(), status)], &info, now)
    }

    #[test]
    fn failures_are_explained_by_their_kind_not_by_the_words_of_the_url() {
        use crate::error::RefreshError;
        use crate::fetch::FetchError;
        let url = |u: &str| url::Url::parse(u).unwrap();
        let page = page_for(&RefreshError::Fetch {
            url: url("https://www.bygone-era.example/feed.xml"),
            source: FetchError::Status { status: 500, retry_after: None },
        });
        assert!(page.contains("The site&#39;s server had an error (500)."), "{page}");
        assert!(!page.contains("gone for good"), "{page}");
        let page = page_for(&RefreshError::Fetch {
            url: url("https://dnsimple.example/feed"),
            source: FetchError::Tls("invalid peer certificate: UnknownIssuer".into()),
        });
        assert!(page.contains("secure connection could not be verified"), "{page}");
        assert!(!page.contains("could not be found"), "{page}");
        let page = page_for(&RefreshError::RateLimited {
            url: url("https://busy.example/feed"),
            status: 503,
            until: Utc::now() + chrono::TimeDelta::minutes(10),
        });
        assert!(page.contains("The site asked us to slow down; refeed waits as long as it asked."), "{page}");
        assert!(!page.contains("server had an error"), "{page}");
    }
}
