//! Extraction fixtures: every `fixtures/pages/<case>/source.html` must extract to exactly
//! `expected.txt`, to the metadata in `expected.json`, and, when `expected-images.txt` is
//! present, to HTML holding exactly those image URLs in that order (one per line).
//!
//! Adding a case is adding files. To write the expectations of new or changed cases from the
//! current extractor, run `REFEED_BLESS=1 cargo test --test pages`, then read every changed
//! file before committing it: a blessed expectation is a claim that the output is right.

use std::path::{Path, PathBuf};

use refeed::extract::{Article, Options, article};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("source.html").is_file())
        .collect();
    cases.sort();
    cases
}

/// Each case is served from its own URL, so relative links have something to resolve against.
fn base_url(case: &Path) -> url::Url {
    let name = case.file_name().unwrap().to_str().unwrap();
    url::Url::parse(&format!("https://www.example.org/{name}/article.html")).unwrap()
}

fn options(case: &Path) -> Options {
    let mut options = Options::default();
    if let Ok(flags) = std::fs::read_to_string(case.join("options.txt")) {
        for line in flags.lines() {
            match line.trim() {
                "captions = keep" => options.captions = refeed::extract::Captions::Keep,
                "" => {}
                other => panic!("{}: unknown option line {other:?}", case.display()),
            }
        }
    }
    options
}

/// `src` of every `<img>` in published HTML, in order.
fn image_sources(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
    let sel = scraper::Selector::parse("img").unwrap();
    doc.select(&sel).filter_map(|i| i.value().attr("src").map(str::to_owned)).collect()
}

fn metadata(a: &Article) -> serde_json::Value {
    serde_json::json!({
        "title": a.title,
        "byline": a.byline,
        "published": a.published.map(|d| d.to_rfc3339()),
        "lead_image": a.lead_image,
        "site_name": a.site_name,
        "lang": a.lang,
    })
}

#[test]
fn every_page_fixture_extracts_to_its_expected_text_and_metadata() {
    let bless = std::env::var_os("REFEED_BLESS").is_some();
    let cases = cases();
    assert!(cases.len() >= 25, "expected at least 25 page fixtures, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(case.join("source.html")).unwrap();
        let html = refeed::fetch::charset::decode_html(&bytes, None).text;
        let got = article(&html, Some(&base_url(case)), &options(case)).expect("fixture pages are within budget");

        for bad in ["<script", "onerror", "onclick", "javascript:", "<iframe", "<style"] {
            if got.html.to_ascii_lowercase().contains(bad) {
                failures.push(format!("{name}: unsanitized {bad:?} in HTML output"));
            }
        }
        let expected_path = case.join("expected.txt");
        let json_path = case.join("expected.json");
        if bless {
            std::fs::write(&expected_path, format!("{}\n", got.text)).unwrap();
            let json = serde_json::to_string_pretty(&metadata(&got)).unwrap();
            std::fs::write(&json_path, format!("{json}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got.text != expected.trim_end_matches('\n') {
            failures.push(format!(
                "{name}: text differs\n--- expected\n{}\n--- got\n{}\n",
                expected.trim_end(),
                got.text
            ));
        }
        if let Ok(images) = std::fs::read_to_string(case.join("expected-images.txt")) {
            let want: Vec<&str> = images.lines().filter(|l| !l.is_empty()).collect();
            let have = image_sources(&got.html);
            if have != want {
                failures.push(format!("{name}: images differ\n  expected {want:?}\n  got      {have:?}"));
            }
        }
        if let Ok(json) = std::fs::read_to_string(&json_path) {
            let want: serde_json::Value = serde_json::from_str(&json).unwrap();
            let have = metadata(&got);
            for (key, value) in want.as_object().unwrap() {
                if have[key] != *value {
                    failures.push(format!("{name}: {key}: expected {value}, got {}", have[key]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures failed:\n\n{}", failures.len(), cases.len(), failures.join("\n"));
}
