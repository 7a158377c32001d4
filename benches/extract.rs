//! Extraction speed against the floor of its cost, the HTML parse, on the same pages in one
//! run, single-threaded:
//!
//!     cargo bench --bench extract -- [DIR] [--rounds N]
//!
//! DIR holds `*.html` / `*.html.gz` pages (default: `../shared/extraction-dev/pages` when it
//! exists, else `fixtures/pages`, searched recursively). Reports pages/s for
//! `scraper::Html::parse_document` alone and for `refeed::extract::article`, and their ratio.
//! Quote the ratio: both figures are measured in the same process, on the same machine state.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if let Some(name) = p.file_name().and_then(|n| n.to_str())
            && (name.ends_with(".html") || name.ends_with(".html.gz"))
        {
            out.push(p);
        }
    }
}

fn load(path: &Path) -> String {
    refeed::fetch::charset::read_page_file(path).expect("readable page")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut rounds = 3;
    let mut dir = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--rounds" {
            rounds = it.next().and_then(|n| n.parse().ok()).unwrap_or(3);
        } else {
            dir = Some(PathBuf::from(a));
        }
    }
    let dir = dir.unwrap_or_else(|| {
        let dev = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/extraction-dev/pages"));
        if dev.is_dir() { dev } else { PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pages")) }
    });
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    if files.is_empty() {
        eprintln!("no pages in {}", dir.display());
        std::process::exit(2);
    }
    let pages: Vec<String> = files.iter().map(|p| load(p)).collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    println!(
        "{} pages, {:.0} KB on average, from {}",
        pages.len(),
        bytes as f64 / pages.len() as f64 / 1024.0,
        dir.display()
    );

    let options = refeed::extract::Options::default();
    let mut parse_best = Duration::MAX;
    let mut extract_best = Duration::MAX;
    // Alternate the two measurements so that machine noise hits both alike; keep the best
    // round of each.
    for _ in 0..rounds {
        let t = Instant::now();
        for page in &pages {
            let doc = scraper::Html::parse_document(page);
            std::hint::black_box(&doc);
        }
        parse_best = parse_best.min(t.elapsed());
        let t = Instant::now();
        for page in &pages {
            let article = refeed::extract::article(page, None, &options).expect("within budget");
            std::hint::black_box(&article);
        }
        extract_best = extract_best.min(t.elapsed());
    }
    let rate = |d: Duration| pages.len() as f64 / d.as_secs_f64();
    println!("parse only (scraper): {:>8.1} pages/s", rate(parse_best));
    println!("refeed extract:       {:>8.1} pages/s", rate(extract_best));
    println!("extract / parse:      {:>8.2}  (target >= 0.50)", rate(extract_best) / rate(parse_best));
}
