//! Measures what the tree builder does on a folder of pages (for tuning `html`'s budget):
//! `cargo run --release --example html_stats -- ../shared/extraction-dev/pages`

fn main() {
    let dir = std::env::args().nth(1).expect("folder of .html or .html.gz pages");
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("readable folder").flatten() {
        let path = entry.path();
        let html = refeed::fetch::charset::read_page_file(&path).expect("readable page");
        match refeed::html::parse_with_stats(&html, &refeed::html::Deadline::none()) {
            Ok((_, s)) => rows.push((path.display().to_string(), s)),
            Err(e) => println!("{}: {e}", path.display()),
        }
    }
    let per_kib = |n: usize, bytes: usize| n as f64 * 1024.0 / bytes.max(1) as f64;
    let mut el: Vec<f64> = rows.iter().map(|(_, s)| per_kib(s.elements, s.bytes)).collect();
    let mut at: Vec<f64> = rows.iter().map(|(_, s)| per_kib(s.attributes, s.bytes)).collect();
    let mut depth: Vec<u32> = rows.iter().map(|(_, s)| s.max_depth).collect();
    el.sort_by(f64::total_cmp);
    at.sort_by(f64::total_cmp);
    depth.sort();
    let pct = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p) as usize];
    println!("pages: {}", rows.len());
    println!("elements per KiB: median {:.1}, p99 {:.1}, max {:.1}", pct(&el, 0.5), pct(&el, 0.99), el[el.len() - 1]);
    println!("attributes per KiB: median {:.1}, p99 {:.1}, max {:.1}", pct(&at, 0.5), pct(&at, 0.99), at[at.len() - 1]);
    println!(
        "max depth: median {}, p99 {}, max {}",
        depth[depth.len() / 2],
        depth[depth.len() * 99 / 100],
        depth[depth.len() - 1]
    );
    let max_el = rows.iter().map(|(_, s)| s.elements).max().unwrap_or(0);
    println!("most elements on one page: {max_el}");
}
