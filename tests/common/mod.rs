//! A real HTTP origin on 127.0.0.1 for integration tests: serves `fixtures/` (with `{{BASE}}`
//! replaced by its own URL), answers conditional requests like a well-behaved server, logs
//! every request, redirects `/redirect/<path>` to `/<path>`, and can be told to fail a path.

#![allow(dead_code)]

pub mod hostile;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
    pub cookie: Option<String>,
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Shared {
    base: String,
    log: Vec<Request>,
    failing: HashSet<String>,
    /// Paths answered with this body instead of a fixture file: (content type, body).
    overrides: std::collections::HashMap<String, (String, Vec<u8>)>,
}

#[derive(Clone)]
pub struct Origin {
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    _runtime: Arc<tokio::runtime::Runtime>,
}

const LAST_MODIFIED: &str = "Mon, 23 Nov 2026 09:00:00 GMT";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("xml") if path.contains("atom") => "application/atom+xml",
        Some("xml") => "application/rss+xml",
        Some("rdf") => "application/rdf+xml",
        Some("json") => "application/feed+json",
        Some("html") => "text/html",
        _ => "application/octet-stream",
    }
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut request = Request {
        path: path.clone(),
        if_none_match: header(header::IF_NONE_MATCH),
        if_modified_since: header(header::IF_MODIFIED_SINCE),
        user_agent: header(header::USER_AGENT),
        cookie: header(header::COOKIE),
        status: 200,
        at: std::time::Instant::now(),
    };
    let (base, failing, overridden) = {
        let s = shared.lock().unwrap();
        (s.base.clone(), s.failing.contains(&path), s.overrides.get(&path).cloned())
    };
    let bounce = uri.query().and_then(|q| q.strip_prefix("to=")).filter(|_| path == "/bounce");
    let response = if let Some(to) = bounce {
        // `/bounce?to=<url>` redirects anywhere (to test what a client does with that).
        request.status = 302;
        let to: String = url::form_urlencoded::parse(format!("x={to}").as_bytes()).next().unwrap().1.into_owned();
        (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
    } else if let Some(target) = path.strip_prefix("/redirect") {
        request.status = 301;
        (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target.to_owned())]).into_response()
    } else if failing {
        request.status = 500;
        (StatusCode::INTERNAL_SERVER_ERROR, "broken on purpose").into_response()
    } else if let Some((content_type, body)) = overridden {
        let etag = format!("\"{:x}\"", fnv(&body));
        if request.if_none_match.as_deref() == Some(etag.as_str()) {
            request.status = 304;
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
        } else {
            ([(header::CONTENT_TYPE, content_type), (header::ETAG, etag)], body).into_response()
        }
    } else {
        let rel = path.trim_start_matches('/');
        let file = fixtures().join(rel);
        match (rel.contains(".."), std::fs::read(&file)) {
            (false, Ok(bytes)) => {
                let body = String::from_utf8_lossy(&bytes).contains("{{BASE}}");
                let bytes = if body {
                    // Replace on bytes: some fixtures are not UTF-8 on purpose.
                    replace(&bytes, b"{{BASE}}", base.as_bytes())
                } else {
                    bytes
                };
                let etag = format!("\"{:x}\"", fnv(&bytes));
                if request.if_none_match.as_deref() == Some(etag.as_str()) {
                    request.status = 304;
                    (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
                } else {
                    (
                        [
                            (header::CONTENT_TYPE, content_type(rel).to_string()),
                            (header::ETAG, etag),
                            (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
                        ],
                        bytes,
                    )
                        .into_response()
                }
            }
            _ => {
                request.status = 404;
                (StatusCode::NOT_FOUND, "not found").into_response()
            }
        }
    };
    shared.lock().unwrap().log.push(request);
    response
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

impl Origin {
    /// Starts the server on a free port, on its own runtime thread.
    pub fn start() -> Origin {
        let runtime =
            Arc::new(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        shared.lock().unwrap().base = base.clone();
        let app = Router::new().fallback(handle).with_state(shared.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Origin { base, shared, _runtime: runtime }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.shared.lock().unwrap().log.clear();
    }

    /// Serves `body` at `path` from now on (replacing any fixture there).
    pub fn set(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        self.shared.lock().unwrap().overrides.insert(path.to_owned(), (content_type.to_owned(), body.into()));
    }

    pub fn fail(&self, path: &str, failing: bool) {
        let mut s = self.shared.lock().unwrap();
        if failing {
            s.failing.insert(path.to_owned());
        } else {
            s.failing.remove(path);
        }
    }
}

/// A temporary folder with a config file in it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Workspace { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn output(&self, file: &str) -> PathBuf {
        self.dir.path().join("public").join(file)
    }

    pub fn refeed(&self, args: &[&str]) -> Output {
        refeed(self.dir.path(), args)
    }

    pub fn run(&self) -> Output {
        self.refeed(&["run", "--config", self.config().to_str().unwrap()])
    }
}

pub fn refeed(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refeed"))
        .args(args)
        .current_dir(cwd)
        .env_remove("REFEED_CONFIG")
        .env_remove("REFEED_DATABASE")
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A config with one `[[source]]` per (name, url).
pub fn config_for(sources: &[(&str, String)]) -> String {
    let mut c = String::from("[settings]\noutput_dir = \"public\"\ndatabase = \"state.db\"\ntimeout = \"5s\"\n");
    for (name, url) in sources {
        c.push_str(&format!("\n[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    c
}

/// A `refeed serve` started on a free port of 127.0.0.1, its stderr collected line by line.
pub struct Serving {
    pub child: std::process::Child,
    /// Receives the address once the server says it is serving.
    pub ready: std::sync::mpsc::Receiver<String>,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Starts `refeed serve` on `ws`'s config, without waiting for it ([`Serving::address`] waits).
pub fn spawn_serve(ws: &Workspace) -> Serving {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_refeed"))
        .args(["serve", "--config", ws.config().to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .current_dir(ws.dir.path())
        .env_remove("REFEED_CONFIG")
        .env_remove("REFEED_DATABASE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, ready) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("refeed: serving ") {
                let addr = rest.split("on http://").nth(1).unwrap().split('/').next().unwrap().to_owned();
                let _ = tx.send(addr);
            }
            sink.lock().unwrap().push(line);
        }
    });
    Serving { child, ready, log }
}

impl Serving {
    /// The address it serves on, once it says so (30 s at most).
    pub fn address(&self) -> String {
        self.ready
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", self.log.lock().unwrap()))
    }
}
