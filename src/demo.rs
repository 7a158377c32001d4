//! `refeed demo`: the whole pipeline against a bundled news site, with no network.
//!
//! A tiny origin server on 127.0.0.1 serves a feed and four article pages from
//! `fixtures/demo/` (compiled into the binary, so the demo works from any folder); refeed
//! then runs exactly as `refeed run` would, into a temporary folder that is kept for a look.

use std::fmt::Write as _;
use std::path::PathBuf;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::{Config, Settings, Source};

/// The demo site: URL path, content type, body (`{{BASE}}` is replaced by the server's URL).
const SITE: &[(&str, &str, &[u8])] = &[
    ("demo/feed.xml", "application/rss+xml; charset=utf-8", include_bytes!("../fixtures/demo/feed.xml")),
    (
        "demo/news/harbour-bridge-review.html",
        "text/html; charset=utf-8",
        include_bytes!("../fixtures/demo/news/harbour-bridge-review.html"),
    ),
    (
        "demo/features/night-ferry.html",
        "text/html; charset=utf-8",
        include_bytes!("../fixtures/demo/features/night-ferry.html"),
    ),
    // Served without a charset, as many old sites are: the page's <meta> must be honoured.
    ("demo/blog/tide-tables.html", "text/html", include_bytes!("../fixtures/demo/blog/tide-tables.html")),
    (
        "demo/news/lifeboat-open-day.html",
        "text/html; charset=utf-8",
        include_bytes!("../fixtures/demo/news/lifeboat-open-day.html"),
    ),
];

/// The article whose clean text the demo prints (shaped like `shared/seed`: a caption and a
/// photo credit between paragraphs, a share bar, and a comments stub).
const SHOWCASE: &str = "demo/news/harbour-bridge-review.html";

async fn serve_file(State(base): State<String>, UrlPath(path): UrlPath<String>) -> Response {
    match SITE.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => {
            let body = replace_base(body, &base);
            ([(header::CONTENT_TYPE, *content_type)], body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn replace_base(body: &[u8], base: &str) -> Vec<u8> {
    let marker = b"{{BASE}}";
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(marker) {
            out.extend_from_slice(base.as_bytes());
            i += marker.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// Starts the demo site on a free port of 127.0.0.1; returns its base URL.
pub async fn start_demo_site() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new().route("/{*path}", axum::routing::get(serve_file)).with_state(base.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}

/// `refeed demo --serve`: the demo site, served by `refeed serve` (a place to try the server
/// and feed readers with no network). Runs until SIGTERM/SIGINT.
pub async fn serve_demo(
    listen: Option<String>,
    on_ready: impl FnOnce(std::net::SocketAddr, &str),
) -> Result<(), Box<dyn std::error::Error>> {
    let base = start_demo_site().await?;
    let dir: PathBuf = tempfile::Builder::new().prefix("refeed-demo-").tempdir()?.keep();
    let config = Config {
        path: dir.join("config.toml"),
        settings: Settings {
            output_dir: dir.join("public"),
            database: crate::store::Database::Sqlite(dir.join("refeed.db")),
            allow_any_url: true,
            // The demo site is on 127.0.0.1; let /feed?url= reach it (and nothing else local).
            allow_private_hosts: vec![base.trim_start_matches("http://").to_owned()],
            ..Settings::default()
        },
        sources: vec![Source::adhoc("gazette", url::Url::parse(&format!("{base}/demo/feed.xml"))?)],
        feeds: Vec::new(),
    };
    crate::serve::serve(config, listen, |addr, public| {
        on_ready(addr, public);
        crate::say_err!("refeed demo: the demo site is at {base}/demo/feed.xml; state in {}", dir.display());
    })
    .await?;
    Ok(())
}

/// Runs the demo and returns the report to print.
pub async fn run_demo() -> Result<String, Box<dyn std::error::Error>> {
    let base = start_demo_site().await?;
    let dir: PathBuf = tempfile::Builder::new().prefix("refeed-demo-").tempdir()?.keep();
    let config = Config {
        path: dir.join("config.toml"),
        settings: Settings {
            output_dir: dir.join("public"),
            database: crate::store::Database::Sqlite(dir.join("refeed.db")),
            ..Settings::default()
        },
        sources: vec![Source::adhoc("gazette", url::Url::parse(&format!("{base}/demo/feed.xml"))?)],
        feeds: Vec::new(),
    };
    let summary = crate::run(&config, &crate::RunOptions::default(), &|_| {}).await?;
    let mut out = String::new();
    writeln!(out, "refeed demo: a local news site at {base}/demo/feed.xml, fetched and extracted offline.")?;
    for r in &summary.reports {
        match &r.result {
            Ok(ok) => writeln!(out, "  source {}: {} entries, {} articles extracted", r.name, ok.entries, ok.articles)?,
            Err(e) => writeln!(out, "  source {} FAILED: {e}", r.name)?,
        }
    }
    writeln!(out, "\nFeeds written to {}:", config.settings.output_dir.display())?;
    for format in crate::publish::Format::ALL {
        writeln!(out, "  {}", format.path(&config.settings.output_dir, "gazette").display())?;
    }
    writeln!(out, "  {}", config.settings.output_dir.join("index.opml").display())?;
    let store = crate::store::Store::open(&config.settings.database)?;
    let showcase = format!("{base}/{SHOWCASE}");
    let entry =
        store.listed_entries("gazette")?.into_iter().find(|e| e.entry.url.as_deref() == Some(showcase.as_str()));
    if let Some(e) = entry {
        writeln!(out, "\nClean text of \"{}\":\n", e.entry.title.as_deref().unwrap_or(""))?;
        let text = e.article.map(|a| a.text).unwrap_or_default();
        for line in text.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(
        out,
        "\nCompare with the page itself: its caption, photo credit, share bar and comments are gone.\n\
         Next: copy config.toml, list your own feeds, and run `refeed run`."
    )?;
    Ok(out)
}
