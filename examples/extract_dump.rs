//! Writes, for every `*.html` / `*.html.gz` page in a folder (or every `<case>/source.html`),
//! the extracted HTML, text and metadata to `OUT/<stem>.html`, `.txt` and `.json`: run it before and
//! after a change to the extractor and `diff -r` the two folders to see every difference.
//!
//! `cargo run --release --example extract_dump -- PAGES_DIR OUT_DIR`

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: extract_dump PAGES_DIR OUT_DIR");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out).expect("output folder");
    let mut pages: Vec<(std::path::PathBuf, String)> = Vec::new();
    for entry in std::fs::read_dir(dir).expect("pages folder").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.join("source.html").is_file() {
            pages.push((path.join("source.html"), name));
        } else if let Some(stem) = name.strip_suffix(".html.gz").or_else(|| name.strip_suffix(".html")) {
            pages.push((path.clone(), stem.to_owned()));
        }
    }
    pages.sort();
    let options = refeed::extract::Options::default();
    for (path, stem) in &pages {
        let html = refeed::fetch::charset::read_page_file(path).expect("readable page");
        let url = url::Url::parse(&format!("https://www.example.org/{stem}/article.html")).expect("url");
        let (html_out, text, meta) = match refeed::extract::article(&html, Some(&url), &options) {
            Ok(a) => {
                let meta = serde_json::json!({
                    "title": a.title, "byline": a.byline, "published": a.published, "lead_image": a.lead_image,
                    "site_name": a.site_name, "lang": a.lang, "url": a.url, "description": a.description,
                    "next_page": a.next_page,
                });
                (a.html, a.text, serde_json::to_string_pretty(&meta).expect("json"))
            }
            Err(e) => (format!("error: {e}"), format!("error: {e}"), format!("error: {e}")),
        };
        let out = Path::new(out);
        std::fs::write(out.join(format!("{stem}.html")), html_out).expect("write");
        std::fs::write(out.join(format!("{stem}.txt")), text).expect("write");
        std::fs::write(out.join(format!("{stem}.json")), meta).expect("write");
    }
    println!("{} page(s)", pages.len());
}
