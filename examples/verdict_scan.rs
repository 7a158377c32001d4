//! Runs the quality guard over a folder of pages and lists those it would flag (to check it
//! against real articles: `cargo run --release --example verdict_scan -- ../shared/extraction-dev/pages`).

fn main() {
    let dir = std::env::args().nth(1).expect("a folder of .html / .html.gz pages");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    let (mut total, mut flagged) = (0, 0);
    for path in paths {
        let html = refeed::fetch::charset::read_page_file(&path).expect("readable page");
        let Ok(article) = refeed::extract::article(&html, None, &refeed::extract::Options::default()) else { continue };
        total += 1;
        if let Some(why) = refeed::extract::verdict::not_an_article(&article, 0) {
            flagged += 1;
            println!("{}: {why} ({} chars)", path.display(), article.text.len());
        }
    }
    println!("{flagged} of {total} pages flagged");
}
