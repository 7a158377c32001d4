//! Several `refeed serve` processes on one PostgreSQL database: do they share the work, and
//! what happens when one is killed?
//!
//! ```sh
//! cargo bench --bench nodes                       # 1, 2 and 4 processes, 1,000 sources
//! cargo bench --bench nodes -- --nodes 2 --sources 200 --seconds 90
//! scripts/bench-nodes.sh                          # the README's figures
//! ```
//!
//! One PostgreSQL (started by `refeed::testing`, on a loopback port), a loopback origin in
//! this process serving `--sources` feeds on 50 host names (127.0.0.1–50, one port; each feed
//! answers after `--latency-ms` and then 304 while unchanged, its 5 article pages are small),
//! and N release `refeed serve` processes with `refresh = "--interval"`, each in its own folder
//! with the same config. Counted at the origin: refreshes per minute in the steady state
//! (after the first interval), and for every source the gaps between its feed requests: a gap
//! under half the interval is a source refreshed twice in one interval (must be 0). Timed by a
//! client per process: GET of a random cached feed, p50 and p99. With N >= 2, the first
//! process is then killed -9 while it holds claims: reported is how long until each source it
//! was refreshing is fetched again (by another process), and the longest any source waited.
//! The machine's two cores are shared by PostgreSQL, the origin and every process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

struct Args {
    nodes: Vec<usize>,
    sources: usize,
    seconds: u64,
    interval: u64,
    latency_ms: u64,
}

fn args() -> Args {
    let mut a = Args { nodes: vec![1, 2, 4], sources: 1000, seconds: 150, interval: 60, latency_ms: 200 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--nodes" => a.nodes = value().split(',').map(|n| n.parse().expect("--nodes 1,2,4")).collect(),
            "--sources" => a.sources = value().parse().expect("--sources N"),
            "--seconds" => a.seconds = value().parse().expect("--seconds S"),
            "--interval" => a.interval = value().parse().expect("--interval S"),
            "--latency-ms" => a.latency_ms = value().parse().expect("--latency-ms MS"),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

const HOSTS: usize = 50;

struct Origin {
    /// Request times of each feed, by source index.
    feeds: Mutex<Vec<Vec<Instant>>>,
    latency: Duration,
}

async fn handle(State(origin): State<Arc<Origin>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
    if let Some(i) = path.strip_prefix("/f/").and_then(|r| r.strip_suffix(".xml")).and_then(|r| r.parse::<usize>().ok())
    {
        if let Some(times) = origin.feeds.lock().unwrap().get_mut(i) {
            times.push(Instant::now());
        }
        tokio::time::sleep(origin.latency).await;
        let etag = format!("\"feed-{i}\"");
        if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        }
        let mut xml = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {i}</title><link>http://{host}/</link><description>d</description>"
        );
        for j in 0..5 {
            xml.push_str(&format!(
                "<item><title>Story {i}-{j}</title><link>http://{host}/a/{i}/{j}.html</link><guid>s{i}-{j}</guid><pubDate>Mon, 0{} Nov 2026 10:00:00 +0000</pubDate></item>",
                j + 1
            ));
        }
        xml.push_str("</channel></rss>");
        return ([(header::CONTENT_TYPE, "application/rss+xml".to_owned()), (header::ETAG, etag)], xml).into_response();
    }
    if path.starts_with("/a/") {
        let para = "<p>The council met on Tuesday to discuss the harbour, the ferry timetable and the new \
                    footbridge, and agreed that the works would start in the spring, weather permitting.</p>";
        let body = format!(
            "<html><head><title>Story {path}</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>Story {path}</h1>{}</article></body></html>",
            para.repeat(5)
        );
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    }
    (StatusCode::NOT_FOUND, "no").into_response()
}

fn start_origin(sources: usize, latency: Duration) -> (u16, Arc<Origin>, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let origin = Arc::new(Origin { feeds: Mutex::new(vec![Vec::new(); sources]), latency });
    let first = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = first.local_addr().unwrap().port();
    let mut listeners = vec![first];
    for k in 2..=HOSTS {
        listeners.push(runtime.block_on(tokio::net::TcpListener::bind(format!("127.0.0.{k}:{port}"))).unwrap());
    }
    for listener in listeners {
        let app = Router::new().fallback(handle).with_state(origin.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    (port, origin, runtime)
}

struct Node {
    child: Child,
    addr: String,
}

fn start_node(refeed: &Path, dir: &Path) -> Node {
    let mut child = Command::new(refeed)
        .args(["serve", "--config", dir.join("config.toml").to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("REFEED_DATABASE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = dir.join("serve.log");
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut file = std::fs::File::create(log).unwrap();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("refeed: serving ") {
                let _ = tx.send(rest.split("on http://").nth(1).unwrap().split('/').next().unwrap().to_owned());
            }
            let _ = writeln!(file, "{line}");
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(120)).expect("serve started");
    Node { child, addr }
}

fn get(addr: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    String::from_utf8_lossy(&raw).split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args = args();
    let refeed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/refeed");
    assert!(refeed.exists(), "build it first: cargo build --release");
    println!(
        "{} sources on {HOSTS} hosts, refresh every {} s, origin latency {} ms, {} s per run; {} core(s) shared by everything",
        args.sources,
        args.interval,
        args.latency_ms,
        args.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for &n in &args.nodes {
        run(&refeed, &args, n);
    }
}

fn run(refeed: &Path, args: &Args, n: usize) {
    let (port, origin, _runtime) = start_origin(args.sources, Duration::from_millis(args.latency_ms));
    let url = refeed::testing::postgres_database();
    let mut config = format!(
        "[settings]\noutput_dir = \"public\"\ndatabase = \"{url}\"\nrefresh = \"{}s\"\ntimeout = \"10s\"\n",
        args.interval
    );
    for i in 0..args.sources {
        let host = 1 + i % HOSTS;
        config.push_str(&format!("\n[[source]]\nname = \"s{i}\"\nurl = \"http://127.0.0.{host}:{port}/f/{i}.xml\"\n"));
    }
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..n).map(|k| root.path().join(format!("node{k}"))).collect();
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.toml"), &config).unwrap();
    }
    let started = Instant::now();
    let mut nodes: Vec<Node> = dirs.iter().map(|d| start_node(refeed, d)).collect();
    // A client per process, asking for cached feeds.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = nodes
        .iter()
        .map(|node| {
            let (addr, stop, sources) = (node.addr.clone(), stop.clone(), args.sources);
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut rng = 0x2545_f491_4f6c_dd1du64;
                while !stop.load(Ordering::Relaxed) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let path = format!("/feeds/s{}.xml", rng as usize % sources);
                    let t = Instant::now();
                    if get(&addr, &path) == Some(200) {
                        times.push((t, t.elapsed()));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                times
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(args.seconds));
    stop.store(true, Ordering::Relaxed);
    let latencies: Vec<Vec<(Instant, Duration)>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let window_end = Instant::now();
    let feeds = origin.feeds.lock().unwrap().clone();
    let interval = Duration::from_secs(args.interval);
    let steady_from = started + interval;
    let steady: usize = feeds.iter().map(|t| t.iter().filter(|&&t| t >= steady_from && t < window_end).count()).sum();
    let steady_minutes = (window_end - steady_from).as_secs_f64() / 60.0;
    let twice = feeds.iter().filter(|t| t.windows(2).any(|w| w[1] - w[0] < interval / 2)).count();
    let never = feeds.iter().filter(|t| t.is_empty()).count();
    let total: usize = feeds.iter().map(Vec::len).sum();
    println!("\n{n} process(es):");
    println!(
        "  feed requests at the origin: {total} in {} s; steady state {:.0} refreshes/min (ideal {:.0})",
        args.seconds,
        steady as f64 / steady_minutes,
        args.sources as f64 * 60.0 / args.interval as f64
    );
    println!(
        "  sources refreshed twice within half an interval: {twice}; never refreshed: {never} (of {})",
        args.sources
    );
    for (k, l) in latencies.into_iter().enumerate() {
        let mut all: Vec<Duration> = l.iter().map(|&(_, d)| d).collect();
        let mut steady: Vec<Duration> = l.iter().filter(|&&(t, _)| t >= steady_from).map(|&(_, d)| d).collect();
        all.sort();
        steady.sort();
        println!(
            "  process {k}: cached-feed GETs: steady state {} p50 {} p99 {} max {}; first interval included {} p99 {}",
            steady.len(),
            ms(percentile(&steady, 0.5)),
            ms(percentile(&steady, 0.99)),
            ms(steady.last().copied().unwrap_or_default()),
            all.len(),
            ms(percentile(&all, 0.99)),
        );
    }
    if n >= 2 {
        kill_one(&url, &mut nodes, &origin, interval);
    }
    for mut node in nodes {
        let _ = node.child.kill();
        let _ = node.child.wait();
    }
}

/// Kills the first process -9 while it holds claims, then times the takeover.
fn kill_one(url: &str, nodes: &mut Vec<Node>, origin: &Origin, interval: Duration) {
    let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let victim = nodes.remove(0);
    let pid = victim.child.id() as i64;
    let id: String = db.query_one("SELECT id FROM nodes WHERE pid = $1", &[&pid]).unwrap().get(0);
    // Wait for a moment when it is refreshing something.
    let deadline = Instant::now() + Duration::from_secs(120);
    let held: Vec<String> = loop {
        let rows = db.query("SELECT name FROM sources WHERE claimed_by = $1", &[&id]).unwrap();
        if !rows.is_empty() || Instant::now() > deadline {
            break rows.iter().map(|r| r.get(0)).collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut victim = victim;
    victim.child.kill().unwrap();
    let killed = Instant::now();
    let _ = victim.child.wait();
    let held_idx: Vec<usize> = held.iter().filter_map(|n| n.strip_prefix('s')?.parse().ok()).collect();
    let observe = interval + Duration::from_secs(30);
    std::thread::sleep(observe);
    let feeds = origin.feeds.lock().unwrap().clone();
    let mut takeovers: Vec<Duration> =
        held_idx.iter().filter_map(|&i| feeds[i].iter().find(|&&t| t > killed).map(|&t| t - killed)).collect();
    takeovers.sort();
    // The longest any source waited between two refreshes across the kill.
    let longest = feeds
        .iter()
        .filter_map(|t| {
            let before = t.iter().rev().find(|&&x| x <= killed)?;
            let after = t.iter().find(|&&x| x > killed).copied().unwrap_or_else(Instant::now);
            Some(after - *before)
        })
        .max()
        .unwrap_or_default();
    // A source the killed process was fetching is fetched again by design (that refresh never
    // finished): those are counted apart.
    let twice = feeds
        .iter()
        .enumerate()
        .filter(|(i, t)| !held_idx.contains(i) && t.windows(2).any(|w| w[1] - w[0] < interval / 2))
        .count();
    println!(
        "  killed process 0 (-9) while it refreshed {} source(s): fetched again by another after {} (max {}) ",
        held.len(),
        takeovers.first().map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64())),
        takeovers.last().map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64())),
    );
    println!(
        "    {} of them not fetched again within {} s; longest wait of any source across the kill {:.1} s (interval {} s); other sources fetched twice within half an interval: {twice}",
        held_idx.len() - takeovers.len(),
        observe.as_secs(),
        longest.as_secs_f64(),
        interval.as_secs()
    );
}
