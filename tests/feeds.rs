//! Feed conformance: every file in `fixtures/feeds/conformance/` is read, and what refeed makes
//! of it (entry count, titles, links, identities, authors, categories, dates, enclosures,
//! images, content) must equal `<file>.expected.json` beside it, field by field.
//!
//! The fixtures cover each dialect and quirk feeds are written in (see the README there), a
//! clean file and a messy one for each. `REFEED_BLESS=1 cargo test --test feeds` rewrites the
//! expectations from the current reader: read every changed file before committing it.
//! `scripts/feedparser-compare.sh` compares the same files with Python's feedparser.

use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/feeds/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.ends_with(".expected.json") && !name.ends_with(".md")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_dialect_reads_as_expected() {
    let base = url::Url::parse("https://conformance.example/feed").unwrap();
    let bless = std::env::var_os("REFEED_BLESS").is_some();
    let files = fixtures();
    assert!(files.len() >= 30, "expected at least 30 conformance feeds, found {}", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let got = match refeed::feed::parse_feed(&bytes, None, &base, refeed::feed::Limits::default()) {
            Ok(feed) => feed.to_json(),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        let expected_path = PathBuf::from(format!("{}.expected.json", file.display()));
        if bless {
            std::fs::write(&expected_path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!("{}: no {}", file.display(), expected_path.display()));
            continue;
        };
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        if got != expected {
            failures.push(diff(file, &expected, &got));
        }
    }
    assert!(failures.is_empty(), "{} of {} feeds differ:\n{}", failures.len(), files.len(), failures.join("\n"));
}

/// The first fields that differ, by path.
fn diff(file: &Path, expected: &serde_json::Value, got: &serde_json::Value) -> String {
    let mut out = Vec::new();
    walk("", expected, got, &mut out);
    format!("{}:\n  {}", file.display(), out.into_iter().take(8).collect::<Vec<_>>().join("\n  "))
}

fn walk(path: &str, e: &serde_json::Value, g: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (e, g) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                walk(&format!("{path}.{k}"), v, b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if e != g => out.push(format!("{path}: expected {e}, got {g}")),
        _ => {}
    }
}
