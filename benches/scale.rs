//! Speed at scale: `refeed run` against a local origin serving N feeds of M entries, whose
//! article pages are real-size news pages (navigation, comments, captions) from `fixtures/`.
//!
//! ```sh
//! cargo bench --bench scale -- --feeds 200 --entries 20
//! scripts/bench-scale.sh          # both sizes of the README, the politeness check and morss
//! ```
//!
//! The origin runs in this process, pinned to the second core; `refeed run` and the
//! `refeed extract --batch` baseline are pinned to the first (`taskset -c 0`), so that the
//! ratio compares one core with one core. Reported: wall time, pages/s, requests and bytes
//! (counted at the origin), peak RSS of the refeed process (wait4), then the same for a warm
//! run where every feed answers 304; the batch baseline's pages/s on the same pages; with
//! `--politeness`, the most simultaneous requests and the shortest gap between two request
//! starts seen on one host; with `--morss PATH`, morss on the first feeds against refeed on
//! the same feeds, both pinned to the first core.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

struct Args {
    feeds: usize,
    entries: usize,
    hosts: usize,
    concurrency: usize,
    politeness: bool,
    morss: Option<PathBuf>,
    morss_feeds: usize,
    /// Keep the batch baseline's pages here (to profile extraction on them).
    pages_out: Option<PathBuf>,
    /// Keep the run's folder (config, store, published feeds) here, to look at afterwards.
    keep: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        feeds: 200,
        entries: 20,
        hosts: 50,
        concurrency: 16,
        politeness: false,
        morss: None,
        morss_feeds: 10,
        pages_out: None,
        keep: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--feeds" => a.feeds = value().parse().expect("--feeds N"),
            "--entries" => a.entries = value().parse().expect("--entries M"),
            "--hosts" => a.hosts = value().parse().expect("--hosts K"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency C"),
            "--politeness" => a.politeness = true,
            "--morss" => a.morss = Some(PathBuf::from(value())),
            "--morss-feeds" => a.morss_feeds = value().parse().expect("--morss-feeds n"),
            "--pages-out" => a.pages_out = Some(PathBuf::from(value())),
            "--keep" => a.keep = Some(PathBuf::from(value())),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a.hosts = a.hosts.clamp(1, 250);
    a
}

/// What the origin saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    bytes: AtomicU64,
    feeds_304: AtomicU64,
    pages: AtomicU64,
    hosts: Mutex<HashMap<String, HostSeen>>,
}

#[derive(Default, Clone, Copy)]
struct HostSeen {
    in_flight: u32,
    max_in_flight: u32,
    last_start: Option<Instant>,
    min_gap: Option<Duration>,
}

impl Seen {
    fn reset(&self) {
        for c in [&self.requests, &self.bytes, &self.feeds_304, &self.pages] {
            c.store(0, Ordering::Relaxed);
        }
        self.hosts.lock().unwrap().clear();
    }

    fn start(&self, host: &str) {
        let mut hosts = self.hosts.lock().unwrap();
        let h = hosts.entry(host.to_owned()).or_default();
        let now = Instant::now();
        if let Some(last) = h.last_start {
            let gap = now - last;
            h.min_gap = Some(h.min_gap.map_or(gap, |g| g.min(gap)));
        }
        h.last_start = Some(now);
        h.in_flight += 1;
        h.max_in_flight = h.max_in_flight.max(h.in_flight);
    }

    fn end(&self, host: &str) {
        if let Some(h) = self.hosts.lock().unwrap().get_mut(host) {
            h.in_flight -= 1;
        }
    }
}

struct Site {
    seen: Seen,
    /// Real-size article pages, `<title>` marked so each article's bytes are its own.
    templates: Vec<String>,
    entries: usize,
    /// A pause before each answer, so that overlapping requests can be seen (politeness).
    latency: Duration,
}

/// A small deterministic generator (the same pages on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn words(&mut self, n: usize) -> String {
        const WORDS: &[&str] = &[
            "harbour",
            "council",
            "bridge",
            "ferry",
            "timetable",
            "budget",
            "review",
            "engineers",
            "residents",
            "quay",
            "parking",
            "crossing",
            "tide",
            "lifeboat",
            "station",
            "volunteers",
            "weather",
            "storm",
            "fishing",
            "boats",
            "market",
            "school",
            "the",
            "a",
            "of",
            "and",
            "to",
            "in",
            "on",
            "for",
            "with",
            "said",
            "would",
            "after",
            "before",
            "new",
            "plans",
            "week",
            "year",
            "town",
            "people",
            "local",
        ];
        (0..n).map(|_| WORDS[self.next() as usize % WORDS.len()]).collect::<Vec<_>>().join(" ")
    }
}

/// `story` (a fixture's article markup) dressed as a real news page is: a head of meta tags,
/// inline styles and a script blob, a navigation of some 150 links, a sidebar of most-read
/// teasers and ad slots, 25 reader comments, a related-stories list and a footer of links.
/// About 100 KB, like the median page of the development set (94 KB).
fn dress(title: &str, story: &str, seed: u64) -> String {
    let mut r = Lcg(seed);
    let mut p = String::with_capacity(128 * 1024);
    p.push_str(&format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"));
    for i in 0..30 {
        p.push_str(&format!("<meta name=\"m{i}\" content=\"{}\">", r.words(6)));
    }
    p.push_str("<style>");
    for i in 0..220 {
        let (m, pad, color) = (r.next() % 20, r.next() % 20, r.next() % 0xffffff);
        p.push_str(&format!(".c{i}{{margin:{m}px;padding:{pad}px;color:#{color:06x}}}"));
    }
    p.push_str("</style><script>window.__CONFIG__={");
    for i in 0..1_000 {
        p.push_str(&format!("\"k{i}\":\"{}\",", r.words(4)));
    }
    p.push_str("};</script></head><body><header class=\"site-header\"><nav class=\"main-nav\"><ul>");
    for i in 0..150 {
        p.push_str(&format!("<li class=\"nav-item\"><a href=\"/section/{i}\">{}</a></li>", r.words(2)));
    }
    p.push_str("</ul></nav><div class=\"share-bar\"><a href=\"#\">Share</a><a href=\"#\">Tweet</a><a href=\"#\">Email</a></div></header>");
    p.push_str("<div class=\"layout\"><main class=\"content\">");
    p.push_str(story);
    p.push_str("</main><aside class=\"sidebar\"><h3>Most read</h3><ol>");
    for i in 0..10 {
        let (title, teaser) = (r.words(8), r.words(18));
        p.push_str(&format!("<li><a href=\"/story/{i}\">{title}</a><p>{teaser}</p></li>"));
    }
    p.push_str("</ol><div class=\"ad-slot\">Advertisement</div><div class=\"newsletter\"><h3>Get the newsletter</h3><form><input name=\"email\"><button>Sign up</button></form></div></aside></div>");
    p.push_str("<section class=\"comments\" id=\"comments\"><h2>Comments</h2>");
    for i in 0..25 {
        let (author, hours, length) = (r.words(2), 1 + r.next() % 23, 30 + r.next() as usize % 40);
        p.push_str(&format!(
            "<div class=\"comment\"><span class=\"comment-author\">{}</span><time>{} hours ago</time><p>{}</p>\
             <a class=\"reply\" href=\"#c{i}\">Reply</a> <a class=\"report\" href=\"#r{i}\">Report</a></div>",
            author,
            hours,
            r.words(length)
        ));
    }
    p.push_str("</section><section class=\"related\"><h2>More from this section</h2><ul>");
    for i in 0..12 {
        let (title, teaser) = (r.words(9), r.words(14));
        p.push_str(&format!(
            "<li><a href=\"/more/{i}\"><img src=\"/img/{i}.jpg\" alt=\"\">{title}</a><span>{teaser}</span></li>"
        ));
    }
    p.push_str("</ul></section><footer class=\"site-footer\"><ul>");
    for i in 0..80 {
        p.push_str(&format!("<li><a href=\"/footer/{i}\">{}</a></li>", r.words(2)));
    }
    p.push_str("</ul><p>© 2026 The Harbour Press. All rights reserved.</p></footer></body></html>");
    p
}

/// The inside of a page's `<body>`, else the whole page.
fn body_of(page: &str) -> &str {
    let lower = page.to_ascii_lowercase();
    let start = lower.find("<body").and_then(|b| lower[b..].find('>').map(|e| b + e + 1)).unwrap_or(0);
    let end = lower.rfind("</body>").unwrap_or(page.len()).max(start);
    &page[start..end]
}

fn load_templates() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut pages = Vec::new();
    for dir in ["pages"] {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(dir)).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            if let Ok(bytes) = std::fs::read(e.join("source.html")) {
                pages.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    for f in
        ["demo/news/harbour-bridge-review.html", "demo/news/lifeboat-open-day.html", "demo/features/night-ferry.html"]
    {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        pages.push(text.replace("{{BASE}}", "http://127.0.0.1"));
    }
    pages
}

/// Article `entry` of `feed`: a fixture's story, dressed as a real page, its own bytes.
fn article(site: &Site, feed: usize, entry: usize) -> String {
    let n = feed * site.entries + entry;
    let template = &site.templates[n % site.templates.len()];
    dress(&format!("Story {feed}-{entry}"), body_of(template), n as u64)
}

fn feed_xml(base: &str, feed: usize, entries: usize) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Feed {feed}</title>\
         <link>{base}/</link><description>Generated feed {feed}</description>"
    );
    for j in 0..entries {
        let day = 1 + (j % 28);
        xml.push_str(&format!(
            "<item><title>Story {feed}-{j}</title><link>{base}/a/{feed}/{j}.html</link><guid>{base}/a/{feed}/{j}</guid>\
             <pubDate>Mon, {day:02} Nov 2026 {:02}:00:00 +0000</pubDate><description>The short summary of story {feed}-{j}.</description></item>",
            j % 24
        ));
    }
    xml + "</channel></rss>"
}

async fn handle(State(site): State<Arc<Site>>, uri: Uri, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
    site.seen.start(&host);
    site.seen.requests.fetch_add(1, Ordering::Relaxed);
    if !site.latency.is_zero() {
        tokio::time::sleep(site.latency).await;
    }
    let path = uri.path();
    let base = format!("http://{host}");
    let response = if let Some(rest) = path.strip_prefix("/f/").and_then(|r| r.strip_suffix(".xml")) {
        let feed: usize = rest.parse().unwrap_or(0);
        let etag = format!("\"feed-{feed}\"");
        if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            site.seen.feeds_304.fetch_add(1, Ordering::Relaxed);
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
        } else {
            let body = feed_xml(&base, feed, site.entries);
            site.seen.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
            ([(header::CONTENT_TYPE, "application/rss+xml".to_owned()), (header::ETAG, etag)], body).into_response()
        }
    } else if let Some(rest) = path.strip_prefix("/a/").and_then(|r| r.strip_suffix(".html")) {
        let (feed, entry) = rest.split_once('/').unwrap_or(("0", "0"));
        let body = article(&site, feed.parse().unwrap_or(0), entry.parse().unwrap_or(0));
        site.seen.pages.fetch_add(1, Ordering::Relaxed);
        site.seen.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        (StatusCode::NOT_FOUND, "no").into_response()
    };
    site.seen.end(&host);
    response
}

/// Starts the origin on 127.0.0.1 ... 127.0.0.K (one port), on its own runtime.
fn start_origin(
    hosts: usize,
    entries: usize,
    latency: Duration,
) -> (Vec<SocketAddr>, Arc<Site>, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let site = Arc::new(Site { seen: Seen::default(), templates: load_templates(), entries, latency });
    let first = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = first.local_addr().unwrap().port();
    let mut listeners = vec![first];
    for k in 2..=hosts {
        listeners.push(runtime.block_on(tokio::net::TcpListener::bind(format!("127.0.0.{k}:{port}"))).unwrap());
    }
    let addrs = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    for listener in listeners {
        let app = Router::new().fallback(handle).with_state(site.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    (addrs, site, runtime)
}

/// Runs `program args` pinned to core 0; its wall time and peak RSS (KiB).
// Reaped by wait4 (for its rusage), which clippy does not see.
#[allow(clippy::zombie_processes)]
fn pinned(program: &Path, args: &[&str], env: &[(&str, &str)], stdout: Option<&Path>) -> (Duration, u64, bool) {
    let mut command = Command::new("taskset");
    command.arg("-c").arg("0");
    // SCALE_PERF=FILE: the first refeed run under `perf record -g` (to profile it).
    static PROFILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Some(out) = std::env::var_os("SCALE_PERF").filter(|_| args.first() == Some(&"run"))
        && !PROFILED.swap(true, Ordering::Relaxed)
    {
        command.args(["perf", "record", "-g", "-o"]).arg(out);
    }
    command.arg(program).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    match stdout {
        Some(path) => command.stdout(std::fs::File::create(path).unwrap()),
        None => command.stdout(std::process::Stdio::null()),
    };
    command.stderr(std::process::Stdio::null());
    let started = Instant::now();
    let child = command.spawn().expect("taskset (util-linux) and the program");
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (started.elapsed(), usage.ru_maxrss as u64, ok)
}

fn write_config(
    dir: &Path,
    feeds: &[String],
    concurrency: usize,
    per_host: usize,
    host_delay: &str,
    entries: usize,
) -> PathBuf {
    let mut c = format!(
        "[settings]\noutput_dir = \"public\"\ndatabase = \"refeed.db\"\ntimeout = \"60s\"\nsource_budget = \"6h\"\n\
         concurrency = {concurrency}\nper_host_concurrency = {per_host}\nhost_delay = \"{host_delay}\"\nmax_entries = {entries}\n\
         allow_private_hosts = [\"127.0.0.1\"]\n"
    );
    for (i, url) in feeds.iter().enumerate() {
        c.push_str(&format!("\n[[source]]\nname = \"f{i}\"\nurl = \"{url}\"\n"));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, c).unwrap();
    path
}

/// The run's folder: removed at the end unless `--keep` asked for it.
struct Workdir(PathBuf, bool);

impl Workdir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            println!("kept: {}", self.0.display());
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn pin_self_to_core_1() {
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(1, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn main() {
    let a = args();
    pin_self_to_core_1();
    let refeed = PathBuf::from(env!("CARGO_BIN_EXE_refeed"));
    let (addrs, site, _runtime) = start_origin(a.hosts, a.entries, Duration::ZERO);
    let url = |i: usize| {
        let addr = addrs[i % addrs.len()];
        format!("http://{addr}/f/{i}.xml")
    };
    let work = tempfile::tempdir().unwrap();
    let work = match &a.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).unwrap();
            tempfile::Builder::new().prefix("scale-").tempdir_in(dir).unwrap().keep()
        }
        None => work.keep(),
    };
    let work = Workdir(work, a.keep.is_none());
    let feeds: Vec<String> = (0..a.feeds).map(url).collect();
    let config = write_config(work.path(), &feeds, a.concurrency, 2, "0s", a.entries);
    let articles = a.feeds * a.entries;
    println!(
        "scale: {} feeds x {} entries = {articles} articles on {} hosts; refeed pinned to core 0, origin to core 1",
        a.feeds,
        a.entries,
        addrs.len()
    );

    let summary_file = work.path().join("cold.txt");
    let (cold, cold_rss, ok) =
        pinned(&refeed, &["run", "--config", config.to_str().unwrap()], &[], Some(&summary_file));
    let s = &site.seen;
    let (req, bytes, pages) =
        (s.requests.load(Ordering::Relaxed), s.bytes.load(Ordering::Relaxed), s.pages.load(Ordering::Relaxed));
    let cold_rate = pages as f64 / cold.as_secs_f64();
    println!(
        "cold:  {:.2} s, {cold_rate:.0} pages/s, {req} requests, {:.1} MiB, peak RSS {:.1} MiB{}",
        cold.as_secs_f64(),
        bytes as f64 / (1 << 20) as f64,
        mib(cold_rss),
        if ok { "" } else { " (run reported failures)" }
    );
    // refeed's own summary line: articles extracted, failed, not the article.
    let summary = std::fs::read_to_string(&summary_file).unwrap_or_default();
    println!("       refeed: {}", summary.lines().last().unwrap_or("").trim_start_matches("refeed: "));
    s.reset();
    let (warm, warm_rss, _) = pinned(&refeed, &["run", "--config", config.to_str().unwrap()], &[], None);
    println!(
        "warm:  {:.2} s, {} requests ({} answered 304), {} pages fetched again, peak RSS {:.1} MiB",
        warm.as_secs_f64(),
        s.requests.load(Ordering::Relaxed),
        s.feeds_304.load(Ordering::Relaxed),
        s.pages.load(Ordering::Relaxed),
        mib(warm_rss)
    );

    // The baseline: `refeed extract --batch` on the same pages (a sample of up to 1,000).
    let pages_dir = a.pages_out.clone().unwrap_or_else(|| work.path().join("pages"));
    std::fs::create_dir_all(&pages_dir).unwrap();
    let sample = articles.min(1_000);
    for n in 0..sample {
        let (feed, entry) = (n / a.entries, n % a.entries);
        std::fs::write(pages_dir.join(format!("{feed}-{entry}.html")), article(&site, feed, entry)).unwrap();
    }
    let out_dir = work.path().join("batch-out");
    let report = work.path().join("batch.txt");
    let (batch, _, _) = pinned(
        &refeed,
        &["extract", "--batch", pages_dir.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        &[],
        Some(&report),
    );
    let batch_rate = sample as f64 / batch.as_secs_f64();
    println!(
        "batch: {sample} of the same pages in {:.2} s, {batch_rate:.0} pages/s (whole process); run/batch throughput {:.2}",
        batch.as_secs_f64(),
        cold_rate / batch_rate
    );

    if a.politeness {
        politeness(&refeed);
    }
    if let Some(morss) = &a.morss {
        compare_morss(&refeed, morss, &feeds[..a.morss_feeds.min(feeds.len())], a.entries, &site);
    }
}

/// All feeds on one host, `per_host_concurrency = 2`, the origin answering after 50 ms: the
/// most requests in flight at once seen by the origin; then with `host_delay = 100ms`, the
/// shortest gap between two request starts it saw.
fn politeness(refeed: &Path) {
    for (delay, latency) in [("0s", 50), ("100ms", 20)] {
        let (addrs, site, _runtime) = start_origin(1, 5, Duration::from_millis(latency));
        let work = tempfile::tempdir().unwrap();
        let feeds: Vec<String> = (0..20).map(|i| format!("http://{}/f/{i}.xml", addrs[0])).collect();
        let config = write_config(work.path(), &feeds, 16, 2, delay, 5);
        let (wall, _, _) = pinned(refeed, &["run", "--config", config.to_str().unwrap()], &[], None);
        let hosts = site.seen.hosts.lock().unwrap();
        let h = hosts.values().next().copied().unwrap_or_default();
        println!(
            "politeness: 20 feeds x 5 entries on one host, per_host_concurrency 2, host_delay {delay}, origin answers \
             in {latency} ms: {} requests in {:.2} s; at most {} at once; shortest gap between two starts {:.1} ms",
            site.seen.requests.load(Ordering::Relaxed),
            wall.as_secs_f64(),
            h.max_in_flight,
            h.min_gap.unwrap_or_default().as_secs_f64() * 1000.0
        );
    }
}

/// morss, one process per feed as it is run from cron, against one `refeed run` of the same
/// feeds; both pinned to core 0, both cold.
fn compare_morss(refeed: &Path, morss: &Path, feeds: &[String], entries: usize, site: &Site) {
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path(), feeds, 16, 2, "0s", entries);
    site.seen.reset();
    let (refeed_wall, _, _) = pinned(refeed, &["run", "--config", config.to_str().unwrap()], &[], None);
    let refeed_pages = site.seen.pages.load(Ordering::Relaxed);
    let refeed_bytes: u64 = (0..feeds.len())
        .filter_map(|i| std::fs::metadata(work.path().join(format!("public/f{i}.xml"))).ok())
        .map(|m| m.len())
        .sum();
    site.seen.reset();
    // Every item's full text, no time cap (morss stops at 5 items or 2 s by default).
    let env = [("MAX_ITEM", "-1"), ("MAX_TIME", "-1"), ("LIM_ITEM", "-1"), ("LIM_TIME", "-1")];
    let mut morss_wall = Duration::ZERO;
    let mut morss_bytes = 0;
    for (i, url) in feeds.iter().enumerate() {
        let out = work.path().join(format!("morss-{i}.xml"));
        let (wall, _, _) = pinned(morss, &["--format", "rss", url], &env, Some(&out));
        morss_wall += wall;
        morss_bytes += std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    }
    let morss_pages = site.seen.pages.load(Ordering::Relaxed);
    println!(
        "morss: {} feeds, cold: refeed {:.2} s ({refeed_pages} pages, {:.1} KiB of RSS), morss {:.2} s ({morss_pages} pages, \
         {:.1} KiB of RSS); refeed is {:.1}x faster",
        feeds.len(),
        refeed_wall.as_secs_f64(),
        refeed_bytes as f64 / 1024.0,
        morss_wall.as_secs_f64(),
        morss_bytes as f64 / 1024.0,
        morss_wall.as_secs_f64() / refeed_wall.as_secs_f64()
    );
}
