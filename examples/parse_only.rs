//! The floor of extraction's cost, as a whole process: reads every `*.html` / `*.html.gz` in a
//! folder (gunzipped, decoded as refeed decodes pages: `read_page_file`) and parses it with scraper's
//! `Html::parse_document`, nothing else. `scripts/bench-extract.sh` times it against
//! `refeed extract --batch` on the same folder.
//!
//! `cargo run --release --example parse_only -- PAGES_DIR`

fn main() {
    let dir = std::env::args().nth(1).expect("usage: parse_only PAGES_DIR");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("pages folder").flatten().map(|e| e.path()).collect();
    paths.retain(|p| p.to_str().is_some_and(|s| s.ends_with(".html") || s.ends_with(".html.gz")));
    paths.sort();
    let mut nodes = 0usize;
    for path in &paths {
        let html = refeed::fetch::charset::read_page_file(path).expect("readable page");
        let doc = scraper::Html::parse_document(&html);
        nodes += doc.tree.nodes().count();
    }
    println!("parsed {} page(s), {nodes} nodes", paths.len());
}
