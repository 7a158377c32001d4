//! The `refeed` command: parses arguments, calls the library, and turns every failure into a
//! message and an exit code in one place ([`Fail`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use refeed::{RunSummary, SourceReport, config, extract, fetch};

#[derive(Parser)]
#[command(name = "refeed", version, about = "Turns the feeds you follow into clean, full-text feeds")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// One pass over all sources (for cron): fetch, extract, publish.
    Run {
        /// Config file.
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// When another run holds the lock, wait for it instead of exiting with code 3.
        #[arg(long)]
        wait: bool,
        /// Print nothing unless something failed (for cron, which mails any output).
        #[arg(long, short)]
        quiet: bool,
        /// Run only this source (repeat for several).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Say what would be fetched and written, and fetch and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// `json`: one JSON object per line (a line per source, then the summary).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// What the store says of each source: last attempt and success, entries, last error,
    /// failures in a row, next refresh. Read-only: works while `serve` runs.
    Status {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// As JSON (an array of objects).
        #[arg(long)]
        json: bool,
        /// The refeed processes that used the database instead (several share a PostgreSQL
        /// one): up or gone, host, pid, version, refreshes made.
        #[arg(long)]
        processes: bool,
    },
    /// Serve the feeds over HTTP and keep them fresh in the background (instead of cron).
    Serve {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// Address to listen on (default: settings.listen, else 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Add every feed of an OPML subscription list (as readers export it) to the config.
    Import {
        /// The OPML file.
        file: PathBuf,
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// Print what would be added, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also make each top-level folder a merged feed of its sources (`[[feed]]`).
        #[arg(long)]
        folders_as_feeds: bool,
    },
    /// Add a feed to the config: a feed URL, or a web page whose feeds are discovered.
    Add {
        /// A feed or a web page (http/https).
        url: String,
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// The source's name (default: made from the feed's title).
        #[arg(long)]
        name: Option<String>,
        /// When the page offers several feeds: the number of the one to add, as listed.
        #[arg(long)]
        pick: Option<usize>,
    },
    /// Remove a source from the config (and from the merged feeds that list it).
    Remove {
        name: String,
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
    },
    /// Print the OPML of the published feeds (what index.opml holds), to import into a reader.
    Export {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// List the sources' own feed URLs instead (to move the subscriptions elsewhere).
        #[arg(long)]
        origins: bool,
    },
    /// Remove from the store what no source keeps: sources no longer in the config, entries
    /// past their source's history, articles no entry links to.
    Prune {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// Say what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Extract the stored pages again (after a rule or refeed change), without fetching, and
    /// republish.
    Reextract {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// Only this source (repeat for several).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
    },
    /// Site rules: check them against their test pages.
    Rules {
        #[command(subcommand)]
        action: RulesCommand,
    },
    /// Validate the config and list the sources.
    Check {
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
    },
    /// Read one feed (URL or file) and print what refeed makes of it, as JSON: every entry
    /// with its identity, link, title, author, dates, categories, enclosures and image.
    Parse {
        /// A feed URL (http/https) or a file.
        input: String,
        /// URL the file was fetched from (for relative links).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Extract the article from one page (URL or file) to stdout, or a folder of pages.
    Extract {
        /// A page URL (http/https) or an .html / .html.gz file.
        #[arg(required_unless_present = "batch")]
        input: Option<String>,
        /// Use this config's settings (user agent, limits) and site rules (`settings.rules`,
        /// `settings.ftr_rules`). Default: `$REFEED_CONFIG` if set, else built-in settings and no rules.
        #[arg(long, env = "REFEED_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// URL the file was fetched from (for absolute links).
        #[arg(long)]
        base_url: Option<String>,
        /// Also print, on stderr, the container chosen and every element cut, with the reason.
        #[arg(long)]
        explain: bool,
        /// Keep or drop image captions and photo credits (a source's `captions`).
        #[arg(long, value_enum, default_value_t = CaptionsArg::Drop)]
        captions: CaptionsArg,
        /// Extract every *.html and *.html.gz in this folder...
        #[arg(long, requires = "out", conflicts_with = "input")]
        batch: Option<PathBuf>,
        /// ...into OUT/<stem>.txt.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Instead of the article: the items a page source's selectors find on the page
        /// (to write `page`/`items`/`item` in the config).
        #[arg(long, requires = "items_selector", conflicts_with_all = ["batch", "explain"])]
        items: bool,
        /// CSS selector of each item (the source's `items`).
        #[arg(long, value_name = "CSS", requires = "items")]
        items_selector: Option<String>,
        /// Inside an item: its title (default: the first heading, else link).
        #[arg(long, value_name = "CSS", requires = "items")]
        title_selector: Option<String>,
        /// Inside an item: its link (default: the first link in the title, else in the item).
        #[arg(long, value_name = "CSS", requires = "items")]
        link_selector: Option<String>,
        /// Inside an item: its date (default: the first `time`).
        #[arg(long, value_name = "CSS", requires = "items")]
        date_selector: Option<String>,
        /// The date's format, e.g. "%d %B %Y" (default: RFC 822 / ISO 8601 dates).
        #[arg(long, value_name = "FORMAT", requires = "items")]
        date_format: Option<String>,
        #[arg(long, value_name = "CSS", requires = "items")]
        summary_selector: Option<String>,
        #[arg(long, value_name = "CSS", requires = "items")]
        author_selector: Option<String>,
    },
    /// Run the whole pipeline offline against a bundled demo site.
    Demo {
        /// Instead of one run, serve the demo feed as `refeed serve` does, until stopped.
        #[arg(long)]
        serve: bool,
        /// With --serve: the address to listen on.
        #[arg(long, requires = "serve", default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Runs each rule file's tests (`tests` in TOML, `test_url`/`test_contains` in ftr files)
    /// on the pages saved beside it, or live with --live; reports rules whose extraction is
    /// empty, misses a snippet, or is much shorter than without the rule.
    Test {
        /// The folder (default: the config's `settings.rules`, and `settings.ftr_rules`).
        folder: Option<PathBuf>,
        #[arg(long, env = "REFEED_CONFIG", default_value = "config.toml")]
        config: PathBuf,
        /// Fetch each test URL that has no saved page.
        #[arg(long)]
        live: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CaptionsArg {
    Keep,
    Drop,
}

impl From<CaptionsArg> for extract::Captions {
    fn from(c: CaptionsArg) -> Self {
        match c {
            CaptionsArg::Keep => extract::Captions::Keep,
            CaptionsArg::Drop => extract::Captions::Drop,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Html,
    Json,
}

/// `--log-format json`: failures are reported as JSON lines too.
static JSON_ERRORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Why a command failed. The one place where failures become messages and exit codes.
#[derive(Debug)]
enum Fail {
    /// The config or the command line is wrong: exit code 2.
    Usage(String),
    /// Another `refeed run`/`serve` holds the lock: exit code 3.
    Locked(String),
    /// Something outside refeed failed (an origin, an input file): exit code 1.
    Outside(String),
    /// Some sources failed (each already reported on its own line); `own` when one of them
    /// failed on refeed's side (database, disk, a bug) rather than at its origin.
    Sources { own: bool },
    /// refeed's own side failed (database, output folder, disk, listen address, a bug): exit code 4.
    Own(String),
}

impl Fail {
    fn code(&self) -> u8 {
        match self {
            Fail::Outside(_) | Fail::Sources { own: false } => 1,
            Fail::Usage(_) => 2,
            Fail::Locked(_) => 3,
            Fail::Own(_) | Fail::Sources { own: true } => 4,
        }
    }

    fn report(self) -> ExitCode {
        let code = self.code();
        match self {
            Fail::Usage(m) | Fail::Locked(m) | Fail::Outside(m) | Fail::Own(m)
                if JSON_ERRORS.load(std::sync::atomic::Ordering::Relaxed) =>
            {
                refeed::say!("{}", serde_json::json!({ "event": "error", "error": m, "exit_code": code }))
            }
            Fail::Usage(m) | Fail::Locked(m) | Fail::Outside(m) | Fail::Own(m) => refeed::say_err!("refeed: {m}"),
            Fail::Sources { .. } => {}
        }
        ExitCode::from(code)
    }

    /// A run that could not start or finish: the lock, or refeed's own side.
    fn run(e: refeed::RunError) -> Fail {
        match e {
            refeed::RunError::Locked(_) => Fail::Locked(e.to_string()),
            refeed::RunError::Engine(ref r) if !r.kind().is_own() => Fail::Outside(e.to_string()),
            _ => Fail::Own(e.to_string()),
        }
    }
}

fn main() -> ExitCode {
    // Past a file-size limit (RLIMIT_FSIZE, quotas) a write should fail with an error we can
    // report, not kill the process with SIGXFSZ halfway through a run.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,html5ever=off,selectors=off")),
        )
        .with_writer(std::io::stderr);
    match &cli.command {
        // Library logs (RUST_LOG) as JSON lines too, on stderr.
        Command::Run { log_format: LogFormat::Json, .. } => logs.json().init(),
        _ => logs.init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Fail::Own(format!("cannot start the async runtime: {e}")).report(),
    };
    let result = match cli.command {
        Command::Run { config, wait, quiet, sources, dry_run, log_format } => {
            let how = RunHow { wait, quiet, sources, json: log_format == LogFormat::Json };
            match dry_run {
                true => cmd_dry_run(&config, &how),
                false => runtime.block_on(cmd_run(&config, &how)),
            }
        }
        Command::Status { config, json, processes: false } => cmd_status(&config, json),
        Command::Status { config, json, processes: true } => cmd_processes(&config, json),
        Command::Import { file, config, dry_run, folders_as_feeds } => {
            cmd_import(&file, &config, dry_run, folders_as_feeds)
        }
        Command::Add { url, config, name, pick } => runtime.block_on(cmd_add(&url, &config, name, pick)),
        Command::Remove { name, config } => cmd_remove(&name, &config),
        Command::Reextract { config, sources } => runtime.block_on(cmd_reextract(&config, sources)),
        Command::Rules { action: RulesCommand::Test { folder, config, live } } => {
            runtime.block_on(cmd_rules_test(folder.as_deref(), &config, live))
        }
        Command::Export { config, origins } => cmd_export(&config, origins),
        Command::Prune { config, dry_run } => runtime.block_on(cmd_prune(&config, dry_run)),
        Command::Check { config } => cmd_check(&config),
        Command::Parse { input, base_url } => runtime.block_on(cmd_parse(&input, base_url.as_deref())),
        Command::Serve { config, listen } => runtime.block_on(cmd_serve(&config, listen)),
        Command::Extract {
            input,
            format,
            base_url,
            explain,
            captions: _,
            batch,
            out,
            config: _,
            items: true,
            items_selector,
            title_selector,
            link_selector,
            date_selector,
            date_format,
            summary_selector,
            author_selector,
        } => {
            let sel = refeed::config::ItemSelectors {
                items: items_selector.unwrap_or_default(),
                title: title_selector,
                link: link_selector,
                date: date_selector,
                date_format,
                summary: summary_selector,
                author: author_selector,
            };
            let _ = (explain, batch, out);
            runtime.block_on(cmd_extract_items(input.as_deref().unwrap_or(""), &sel, format, base_url.as_deref()))
        }
        Command::Extract { input, format, base_url, explain, captions, batch, out, config, .. } => match (batch, out) {
            (Some(dir), Some(out)) => cmd_extract_batch(&dir, &out, captions.into()),
            _ => runtime.block_on(cmd_extract_one(
                input.as_deref().unwrap_or(""),
                format,
                base_url.as_deref(),
                explain,
                captions.into(),
                config.as_deref(),
            )),
        },
        Command::Demo { serve: false, .. } => runtime.block_on(cmd_demo()),
        Command::Demo { serve: true, listen } => runtime.block_on(cmd_demo_serve(listen)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(fail) => fail.report(),
    }
}

fn load_config(path: &Path) -> Result<config::Config, Fail> {
    config::load(path).map_err(|e| Fail::Usage(e.to_string()))
}

fn cmd_check(path: &Path) -> Result<(), Fail> {
    let config = load_config(path)?;
    refeed::say!("{}: ok, {} source(s)", path.display(), config.sources.len());
    refeed::say!("  output:   {}", config.settings.output_dir.display());
    refeed::say!("  database: {}", config.settings.database);
    let st = &config.settings;
    refeed::say!(
        "  serve:    listen {}, refresh every {}, /feed?url= {}",
        st.listen,
        refeed::serve::schedule::human_duration(st.refresh),
        match (st.allow_any_url, &st.any_url_token) {
            (false, _) => "off",
            (true, None) => "on (no token)",
            (true, Some(_)) => "on (token required)",
        }
    );
    for s in &config.sources {
        let mut flags = Vec::new();
        if !s.full_text {
            flags.push("feed content only".to_string());
        }
        if let Some(n) = s.max_items {
            flags.push(format!("max {n} items"));
        }
        if s.extract.content.is_some() {
            flags.push("content selector".into());
        }
        if !s.extract.remove.is_empty() {
            flags.push(format!("{} remove rule(s)", s.extract.remove.len()));
        }
        let sh = &s.shaping;
        if !sh.filters.is_empty() {
            flags.push(format!("{} include, {} exclude rule(s)", sh.filters.include.len(), sh.filters.exclude.len()));
        }
        if !sh.rewrites.is_empty() {
            flags.push(format!("{} rewrite(s)", sh.rewrites.len()));
        }
        if let Some(page) = &s.page {
            flags.push(format!("page: items \"{}\"", page.items));
        }
        if let Some(keep) = s.keep {
            flags.push(format!("keep {}", refeed::serve::schedule::human_duration(keep)));
        }
        if let Some(every) = s.refresh {
            flags.push(format!("refresh every {}", refeed::serve::schedule::human_duration(every)));
        }
        let flags = if flags.is_empty() { String::new() } else { format!("  ({})", flags.join(", ")) };
        refeed::say!("  {:<20} {}{}", s.name, s.url, flags);
    }
    for f in &config.feeds {
        refeed::say!("  {:<20} merged feed of {}", f.name, f.sources.join(", "));
    }
    Ok(())
}

fn describe(report: &SourceReport) -> String {
    match &report.result {
        Ok(ok) => {
            let mut line = format!("ok     {}: {} entries", report.name, ok.entries);
            if ok.unchanged {
                line.push_str(" (not modified)");
            } else {
                line.push_str(&format!(", {} new", ok.new_entries));
            }
            if ok.articles > 0 || ok.article_errors > 0 {
                line.push_str(&format!(", {} article(s) extracted", ok.articles));
            }
            for note in &ok.notes {
                line.push_str(&format!("\n       note: {note}"));
            }
            line
        }
        Err(e) => format!("FAILED {}: {e}", report.name),
    }
}

/// A source's outcome as one JSON object (`--log-format json`).
fn describe_json(report: &SourceReport) -> serde_json::Value {
    let mut v = serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "event": "source", "source": report.name, "url": report.url,
    });
    let fields = match &report.result {
        Ok(ok) => serde_json::json!({
            "ok": true, "unchanged": ok.unchanged, "entries": ok.entries, "new_entries": ok.new_entries,
            "articles": ok.articles, "article_errors": ok.article_errors, "dropped": ok.dropped,
            "shared_links": ok.shared_links, "filtered": ok.filtered, "not_articles": ok.not_articles, "notes": ok.notes,
        }),
        Err(e) => serde_json::json!({ "ok": false, "kind": e.kind().label(), "error": e.to_string() }),
    };
    if let (Some(v), serde_json::Value::Object(f)) = (v.as_object_mut(), fields) {
        v.extend(f);
    }
    v
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn print_summary(s: &RunSummary) {
    let by_kind: Vec<String> = s.failures_by_kind().iter().map(|(kind, n)| format!("{n} {}", kind.label())).collect();
    refeed::say!(
        "refeed: {} source(s) ok, {} failed{}; {} new entries{}{}; {} article(s) extracted{}; {} fetched in {} request(s); {:.2}s",
        s.sources_ok,
        s.sources_failed,
        if by_kind.is_empty() { String::new() } else { format!(" ({})", by_kind.join(", ")) },
        s.new_entries,
        if s.dropped_entries > 0 { format!(" ({} dropped)", s.dropped_entries) } else { String::new() },
        if s.filtered_entries > 0 { format!(", {} filtered out", s.filtered_entries) } else { String::new() },
        s.articles,
        match (s.article_errors, s.not_articles) {
            (0, 0) => String::new(),
            (e, 0) => format!(" ({e} failed)"),
            (0, n) => format!(" ({n} not the article: feed content kept)"),
            (e, n) => format!(" ({e} failed, {n} not the article: feed content kept)"),
        },
        human_bytes(s.bytes),
        s.requests,
        s.elapsed.as_secs_f64()
    );
}

fn summary_json(s: &RunSummary) -> serde_json::Value {
    let by_kind: serde_json::Map<String, serde_json::Value> =
        s.failures_by_kind().iter().map(|(kind, n)| (kind.label(), (*n).into())).collect();
    serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "event": "summary", "sources_ok": s.sources_ok, "sources_failed": s.sources_failed,
        "failures_by_kind": by_kind, "new_entries": s.new_entries, "dropped_entries": s.dropped_entries, "filtered_entries": s.filtered_entries,
        "articles": s.articles, "article_errors": s.article_errors, "not_articles": s.not_articles, "bytes": s.bytes, "requests": s.requests,
        "seconds": s.elapsed.as_secs_f64(),
    })
}

/// How `refeed run` was asked to run and to speak.
struct RunHow {
    wait: bool,
    quiet: bool,
    sources: Vec<String>,
    json: bool,
}

impl RunHow {
    /// The run's options; a `--source` the config does not name is a usage error.
    fn options(&self, config: &config::Config) -> Result<refeed::RunOptions, Fail> {
        if let Some(unknown) = self.sources.iter().find(|n| !config.sources.iter().any(|s| &s.name == *n)) {
            let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(Fail::Usage(format!(
                "--source {unknown}: no such source in {} (sources: {})",
                config.path.display(),
                names.join(", ")
            )));
        }
        let lock = if self.wait { refeed::LockMode::Wait } else { refeed::LockMode::FailFast };
        Ok(refeed::RunOptions { lock, only: self.sources.clone() })
    }
}

async fn cmd_run(path: &Path, how: &RunHow) -> Result<(), Fail> {
    if how.json {
        JSON_ERRORS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let config = load_config(path)?;
    let options = how.options(&config)?;
    let bar = if std::io::stderr().is_terminal() && !how.quiet && !how.json {
        let bar = indicatif::ProgressBar::new(options.sources(&config).len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} sources  {elapsed}  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let on_source = |r: &SourceReport| {
        if how.quiet && r.result.is_ok() {
            return;
        }
        match (&bar, how.json) {
            (_, true) => refeed::say!("{}", describe_json(r)),
            (Some(bar), false) => bar.println(describe(r)),
            (None, false) => refeed::say_err!("{}", describe(r)),
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let result = refeed::run(&config, &options, &on_source).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = result.map_err(Fail::run)?;
    if !how.quiet {
        for warning in &summary.warnings {
            match how.json {
                true => refeed::say!("{}", serde_json::json!({ "event": "warning", "warning": warning })),
                false => refeed::say_err!("refeed: warning: {warning}"),
            }
        }
    }
    if !how.quiet || summary.sources_failed > 0 {
        match how.json {
            true => refeed::say!("{}", summary_json(&summary)),
            false => print_summary(&summary),
        }
    }
    match summary.sources_failed {
        0 => Ok(()),
        _ => Err(Fail::Sources { own: summary.failures_by_kind().iter().any(|(kind, _)| kind.is_own()) }),
    }
}

/// `run --dry-run`: what a run would fetch and write; nothing is fetched or written.
fn cmd_dry_run(path: &Path, how: &RunHow) -> Result<(), Fail> {
    let config = load_config(path)?;
    let options = how.options(&config)?;
    let planned = refeed::run::plan(&config, &options).map_err(Fail::run)?;
    let st = &config.settings;
    let opml = st.output_dir.join("index.opml").display().to_string();
    if how.json {
        for p in &planned {
            refeed::say!(
                "{}",
                serde_json::json!({ "event": "plan", "source": p.name, "fetch": p.fetch,
                "articles_pending": p.articles_pending, "writes": p.writes })
            );
        }
        refeed::say!(
            "{}",
            serde_json::json!({ "event": "plan", "writes": [opml], "database": st.database.to_string() })
        );
        return Ok(());
    }
    refeed::say!("refeed: dry run of {}: nothing is fetched or written", config.path.display());
    for p in &planned {
        refeed::say!("  {}: {}", p.name, p.fetch);
        match p.articles_pending {
            0 => refeed::say!("      then the article page of each new entry"),
            n => refeed::say!("      then {n} article page(s) still to fetch, and that of each new entry"),
        }
        refeed::say!("      writes {}", p.writes.join(", "));
    }
    for f in &config.feeds {
        let files: Vec<String> = refeed::publish::Format::ALL
            .iter()
            .map(|format| format.path(&st.output_dir, &f.name).display().to_string())
            .collect();
        refeed::say!("  merged feed {}: writes {}", f.name, files.join(", "));
    }
    refeed::say!("  writes {opml}");
    refeed::say!(
        "  records the run in {}{}",
        st.database,
        if st.database.path().is_none_or(Path::exists) { "" } else { " (created)" }
    );
    Ok(())
}

fn cmd_status(path: &Path, json: bool) -> Result<(), Fail> {
    let config = load_config(path)?;
    let rows = refeed::status::status(&config).map_err(Fail::run)?;
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        refeed::say!("refeed: no sources in {}", config.path.display());
        return Ok(());
    }
    let now = chrono::Utc::now();
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        Some(t) => refeed::serve::schedule::relative(t, now),
        None => "-".to_string(),
    };
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(6);
    refeed::say!(
        "{:<width$}  {:<13}  {:>12}  {:>12}  {:>6}  {:>9}  {:>8}  {:>12}",
        "SOURCE",
        "STATE",
        "LAST TRY",
        "LAST OK",
        "STORED",
        "PUBLISHED",
        "FAILURES",
        "NEXT (SERVE)"
    );
    for r in &rows {
        refeed::say!(
            "{:<width$}  {:<13}  {:>12}  {:>12}  {:>6}  {:>9}  {:>8}  {:>12}",
            r.name,
            r.state,
            when(r.last_attempt),
            when(r.last_success),
            r.entries_stored,
            r.entries_published,
            r.consecutive_failures,
            when(r.next_due)
        );
        if let Some(error) = &r.last_error {
            refeed::say!("{:width$}  {}: {error}", "", r.last_error_kind.as_deref().unwrap_or("error"));
        }
        if config.settings.database.path().is_none()
            && let Some(by) = r
                .refreshing_by
                .as_ref()
                .map(|p| format!("being refreshed by {p}"))
                .or_else(|| r.refreshed_by.as_ref().map(|p| format!("last refreshed by {p}")))
        {
            refeed::say!("{:width$}  {by}", "");
        }
        if r.not_articles > 0 {
            refeed::say!(
                "{:width$}  {} page(s) not the article (feed content kept; tried again later)",
                "",
                r.not_articles
            );
        }
    }
    Ok(())
}

/// `rows` as a pretty-printed JSON array on stdout.
fn print_json<T: serde::Serialize>(rows: &[T]) -> Result<(), Fail> {
    let text = serde_json::to_string_pretty(rows).map_err(|e| Fail::Own(e.to_string()))?;
    refeed::say!("{text}");
    Ok(())
}

fn cmd_processes(path: &Path, json: bool) -> Result<(), Fail> {
    let config = load_config(path)?;
    let rows = refeed::status::processes(&config).map_err(Fail::run)?;
    if json {
        return print_json(&rows);
    }
    let now = chrono::Utc::now();
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0).max(7);
    refeed::say!(
        "{:<width$}  {:<5}  {:>12}  {:>12}  {:>9}  VERSION",
        "PROCESS",
        "STATE",
        "STARTED",
        "LAST SEEN",
        "REFRESHES"
    );
    for r in &rows {
        refeed::say!(
            "{:<width$}  {:<5}  {:>12}  {:>12}  {:>9}  {}",
            r.id,
            r.state,
            refeed::serve::schedule::relative(r.started, now),
            refeed::serve::schedule::relative(r.last_seen, now),
            r.refreshes,
            r.version
        );
    }
    Ok(())
}

fn subscribe_fail(e: refeed::subscribe::SubscribeError) -> Fail {
    use refeed::subscribe::SubscribeError as E;
    match e {
        E::Config(_) | E::Invalid { .. } | E::Usage(_) => Fail::Usage(e.to_string()),
        E::Write { .. } => Fail::Own(e.to_string()),
        E::Outside(_) => Fail::Outside(e.to_string()),
    }
}

fn cmd_import(file: &Path, path: &Path, dry_run: bool, folders_as_feeds: bool) -> Result<(), Fail> {
    use refeed::subscribe;
    let opml = subscribe::read_opml(file).map_err(subscribe_fail)?;
    let mut edit = subscribe::ConfigEdit::open(path).map_err(subscribe_fail)?;
    let import = subscribe::import(&mut edit, &opml, folders_as_feeds);
    let verb = if dry_run { "would add" } else { "added" };
    for (name, title, url) in &import.added {
        refeed::say!("  + {name:<24} {url}{}", if title.is_empty() { String::new() } else { format!("  ({title})") });
    }
    for (title, url, existing) in &import.present {
        refeed::say!("  = {:<24} {url}  (already in the config as \"{existing}\")", title);
    }
    for why in &import.skipped {
        refeed::say!("  ! skipped {why}");
    }
    for (name, title, sources) in &import.feeds {
        refeed::say!("  * feed {name} (\"{title}\"): {}", sources.join(", "));
    }
    if !dry_run && (!import.added.is_empty() || !import.feeds.is_empty()) {
        edit.save().map_err(subscribe_fail)?;
    }
    refeed::say!(
        "refeed: {} {} source(s){} to {}; {} already present, {} skipped{}",
        verb,
        import.added.len(),
        if import.feeds.is_empty() { String::new() } else { format!(" and {} merged feed(s)", import.feeds.len()) },
        path.display(),
        import.present.len(),
        import.skipped.len(),
        if dry_run { " (dry run: nothing written)" } else { "" }
    );
    Ok(())
}

async fn cmd_add(input: &str, path: &Path, name: Option<String>, pick: Option<usize>) -> Result<(), Fail> {
    use refeed::subscribe;
    let mut edit = subscribe::ConfigEdit::open(path).map_err(subscribe_fail)?;
    let url = url_argument(input).unwrap_or_else(|| Err(Fail::Usage(format!("{input}: not an http(s) URL"))))?;
    let (url, guard, fetcher) = typed_url_fetcher(url, &edit.config().settings)?;
    let found = subscribe::discover(&fetcher, &url, &guard).await.map_err(subscribe_fail)?;
    if found.is_empty() {
        return Err(Fail::Outside(format!(
            "{url}: no feed found (the page advertises none, and none is at {} of the site or beside the page)",
            subscribe::COMMON_FEED_PATHS.join(", ")
        )));
    }
    for (i, c) in found.iter().enumerate() {
        refeed::say!("  {}. {}  {} ({} entries)", i + 1, c.title.as_deref().unwrap_or("(untitled)"), c.url, c.entries);
    }
    let chosen = match (pick, found.len()) {
        (Some(n), len) if n >= 1 && n <= len => &found[n - 1],
        (Some(n), len) => return Err(Fail::Usage(format!("--pick {n}: choose 1 to {len}"))),
        (None, 1) => &found[0],
        (None, len) => return Err(Fail::Usage(format!("{url} offers {len} feeds: choose one with --pick N"))),
    };
    if let Some(existing) = edit.present(&chosen.url) {
        return Err(Fail::Usage(format!("{}: already in {} as \"{existing}\"", chosen.url, path.display())));
    }
    let name = match name {
        Some(name) => {
            refeed::config::check_name(&name).map_err(|m| Fail::Usage(format!("--name {name}: {m}")))?;
            if edit.config().sources.iter().any(|s| s.name == name)
                || edit.config().feeds.iter().any(|f| f.name == name)
            {
                return Err(Fail::Usage(format!("--name {name}: already used in {}", path.display())));
            }
            name
        }
        None => edit.new_name(chosen.title.as_deref().unwrap_or(""), &chosen.url),
    };
    edit.add_source(&name, &chosen.url, None);
    edit.save().map_err(subscribe_fail)?;
    refeed::say!("refeed: added source \"{name}\" ({}) to {}", chosen.url, path.display());
    Ok(())
}

fn cmd_remove(name: &str, path: &Path) -> Result<(), Fail> {
    let mut edit = refeed::subscribe::ConfigEdit::open(path).map_err(subscribe_fail)?;
    let emptied = edit.remove_source(name).map_err(subscribe_fail)?;
    edit.save().map_err(subscribe_fail)?;
    refeed::say!("refeed: removed source \"{name}\" from {}", path.display());
    for feed in emptied {
        refeed::say!("refeed: removed merged feed \"{feed}\", which had no other source");
    }
    refeed::say!("refeed: its entries stay in the store until `refeed prune`");
    Ok(())
}

async fn cmd_reextract(path: &Path, sources: Vec<String>) -> Result<(), Fail> {
    let config = load_config(path)?;
    let how = RunHow { wait: false, quiet: false, sources, json: false };
    let options = how.options(&config)?;
    let done = refeed::run::reextract(&config, &options).await.map_err(Fail::run)?;
    let (mut pages, mut changed) = (0, 0);
    for r in &done {
        refeed::say!(
            "  {}: {} page(s) extracted again, {} changed{}{}",
            r.source,
            r.pages,
            r.changed,
            if r.multi_page > 0 { format!(", {} multi-page kept as they were", r.multi_page) } else { String::new() },
            if r.failed > 0 { format!(", {} failed (old text kept)", r.failed) } else { String::new() }
        );
        (pages, changed) = (pages + r.pages, changed + r.changed);
    }
    refeed::say!(
        "refeed: {pages} stored page(s) extracted again without fetching; {changed} changed; feeds republished"
    );
    Ok(())
}

/// `rules test`: each rule's tests, on saved pages (or live).
async fn cmd_rules_test(folder: Option<&Path>, path: &Path, live: bool) -> Result<(), Fail> {
    use refeed::rules::RuleSet;
    let config = if path.exists() || folder.is_none() { Some(load_config(path)?) } else { None };
    let settings = config.as_ref().map(|c| c.settings.clone()).unwrap_or_default();
    let (toml_dir, ftr_dir) = match folder {
        Some(f) => (Some(f.to_path_buf()), Some(f.to_path_buf())),
        None => (settings.rules.clone(), settings.ftr_rules.clone()),
    };
    if toml_dir.is_none() && ftr_dir.is_none() {
        return Err(Fail::Usage(format!("{}: no settings.rules or settings.ftr_rules; name a folder", path.display())));
    }
    let rules = RuleSet::load(toml_dir.as_deref(), ftr_dir.as_deref());
    for problem in &rules.problems {
        refeed::say!("  ! {problem}");
    }
    // What each test extracted last time: a rule whose extraction shrank to less than half
    // has stopped matching the site as it was (a redesign).
    let record_dir = toml_dir.as_deref().or(ftr_dir.as_deref()).unwrap_or(Path::new("."));
    let record_path = record_dir.join(".refeed-rules-test.json");
    let previous: std::collections::BTreeMap<String, usize> =
        std::fs::read(&record_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let mut record = previous.clone();
    let (mut passed, mut failed, mut untested) = (0, 0, 0);
    for rule in rules.all() {
        let dir = rule.file.parent().unwrap_or(Path::new("."));
        let stem = rule.file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        for (n, test) in rule.tests.iter().enumerate() {
            let shown = format!("{} test {} ({})", rule.file.display(), n + 1, test.url);
            let Ok(url) = url::Url::parse(&test.url) else {
                refeed::say!("  FAIL {shown}: not a URL");
                failed += 1;
                continue;
            };
            let saved = match &test.page {
                Some(p) => Some(dir.join(p)),
                None => Some(dir.join(format!("{stem}.{}.html", n + 1))).filter(|p| p.exists()),
            };
            let html = match (saved, live) {
                (Some(p), _) => match fetch::charset::read_page_file(&p) {
                    Ok(html) => html,
                    Err(e) => {
                        refeed::say!("  FAIL {shown}: {}: {e}", p.display());
                        failed += 1;
                        continue;
                    }
                },
                (None, true) => {
                    let (url, _, fetcher) = typed_url_fetcher(url.clone(), &settings)?;
                    match fetcher.get_with(&url, fetch::Kind::Page, None, fetch::Access::Trusted, &rule.headers).await {
                        Ok(fetch::Fetched::Body(b)) => {
                            fetch::charset::decode_html(&b.bytes, b.content_type.as_deref()).text
                        }
                        Ok(_) => {
                            refeed::say!("  FAIL {shown}: 304 to a plain request");
                            failed += 1;
                            continue;
                        }
                        Err(e) => {
                            refeed::say!("  FAIL {shown}: {e}");
                            failed += 1;
                            continue;
                        }
                    }
                }
                (None, false) => {
                    refeed::say!("  SKIP {shown}: no saved page {stem}.{}.html (or `page`); --live fetches it", n + 1);
                    untested += 1;
                    continue;
                }
            };
            let base = extract::Options { cpu_limit: settings.cpu_limit, ..extract::Options::default() };
            let with_rule = match extract::article(&html, Some(&url), &rule.apply(&base)) {
                Ok(a) => a.text,
                Err(e) => {
                    refeed::say!("  FAIL {shown}: {e}");
                    failed += 1;
                    continue;
                }
            };
            let missing: Vec<&String> = test.contains.iter().filter(|c| !with_rule.contains(c.as_str())).collect();
            let chars = with_rule.chars().filter(|c| !c.is_whitespace()).count();
            let key = format!("{}#{}", rule.file.file_name().and_then(|f| f.to_str()).unwrap_or(""), n + 1);
            let before = previous.get(&key).copied();
            if chars == 0 {
                refeed::say!("  FAIL {shown}: the extraction is empty");
                failed += 1;
            } else if !missing.is_empty() {
                refeed::say!("  FAIL {shown}: missing {missing:?}");
                failed += 1;
            } else if let Some(before) = before.filter(|&b| chars * 2 < b) {
                refeed::say!("  FAIL {shown}: shrank: {chars} characters, {before} last time");
                failed += 1;
            } else {
                refeed::say!("  ok   {shown}: {chars} characters");
                passed += 1;
                record.insert(key, chars);
            }
        }
    }
    if record != previous {
        // Best effort: a read-only rules folder only loses the comparison next time.
        let _ = refeed::publish::write_atomic(&record_path, &serde_json::to_vec_pretty(&record).unwrap_or_default());
    }
    refeed::say!("refeed: {} rule(s); {passed} test(s) passed, {failed} failed, {untested} skipped", rules.len());
    if failed > 0 { Err(Fail::Sources { own: false }) } else { Ok(()) }
}

fn cmd_export(path: &Path, origins: bool) -> Result<(), Fail> {
    let config = load_config(path)?;
    refeed::say_raw!("{}", refeed::subscribe::export(&config, origins).map_err(subscribe_fail)?);
    Ok(())
}

async fn cmd_prune(path: &Path, dry_run: bool) -> Result<(), Fail> {
    let config = load_config(path)?;
    let pruned = refeed::run::prune(&config, refeed::LockMode::FailFast, dry_run).await.map_err(Fail::run)?;
    refeed::say!(
        "refeed: {} {} source(s) no longer in the config, {} entries and {} article(s): {}; {} published file(s){}",
        if dry_run { "would remove" } else { "removed" },
        pruned.sources,
        pruned.entries,
        pruned.articles,
        human_bytes(pruned.bytes),
        pruned.files,
        if dry_run { " (dry run: nothing removed)" } else { "" }
    );
    Ok(())
}

async fn cmd_serve(path: &Path, listen: Option<String>) -> Result<(), Fail> {
    let config = load_config(path)?;
    if let Some(Err(e)) = listen.as_deref().map(config::check_listen) {
        return Err(Fail::Usage(format!("--listen: {e}")));
    }
    let sources = config.sources.len();
    let any_url = config.settings.allow_any_url;
    let base_set = config.settings.base_url.is_some();
    let result = refeed::serve::serve(config, listen, |addr, base| {
        refeed::say_err!(
            "refeed: serving {sources} source(s) on http://{addr}/ (Ctrl-C or SIGTERM stops, SIGHUP reloads the config)"
        );
        refeed::say_err!("refeed: feeds at {base}feeds/<name>.xml, .atom, .json; list at {base}opml");
        if !base_set && addr.ip().is_unspecified() {
            refeed::say_err!(
                "refeed: note: set settings.base_url to the address readers use, for the feeds' self links"
            );
        }
        if any_url {
            refeed::say_err!("refeed: /feed?url= is on (settings.allow_any_url)");
        }
    })
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(refeed::serve::ServeError::Run(e)) => Err(Fail::run(e)),
        Err(e) => Err(Fail::Own(e.to_string())),
    }
}

async fn cmd_extract_one(
    input: &str,
    format: Format,
    base_url: Option<&str>,
    explain: bool,
    captions: extract::Captions,
    config: Option<&Path>,
) -> Result<(), Fail> {
    let settings = match config {
        Some(path) => load_config(path)?.settings,
        None => config::Settings::default(),
    };
    let rules = refeed::rules::RuleSet::load(settings.rules.as_deref(), settings.ftr_rules.as_deref());
    for problem in &rules.problems {
        refeed::say_err!("refeed: warning: rules: {problem}");
    }
    let options = Arc::new(extract::Options { cpu_limit: settings.cpu_limit, captions, ..extract::Options::default() });
    let base = base_url.map(url::Url::parse).transpose().map_err(|e| Fail::Usage(format!("--base-url: {e}")))?;
    let (html, page_url) = if let Some(url) = url_argument(input) {
        let (url, guard, fetcher) = typed_url_fetcher(url?, &settings)?;
        let fetched = refeed::engine::fetch_and_extract(&fetcher, &url, options.clone(), &rules, &guard).await;
        let extracted = fetched.map_err(|e| Fail::Outside(format!("{url}: {e}")))?;
        if !explain {
            return print_article(&extracted.article, format);
        }
        // The first page again, explained (a story over several pages is explained by its first).
        (extracted.raw, Some(url))
    } else {
        let html =
            fetch::charset::read_page_file(Path::new(input)).map_err(|e| Fail::Outside(format!("{input}: {e}")))?;
        (html, base)
    };
    let options = match &page_url {
        Some(u) => rules.options_for(u, &options),
        None => options,
    };
    let extracted = if explain {
        extract::explain(&html, page_url.as_ref(), &options).map(|(article, why)| {
            refeed::say_raw_err!("{why}");
            article
        })
    } else {
        extract::article(&html, page_url.as_ref(), &options)
    };
    let article = extracted.map_err(|e| Fail::Outside(format!("{input}: {e}")))?;
    print_article(&article, format)
}

fn print_article(article: &extract::Article, format: Format) -> Result<(), Fail> {
    match format {
        Format::Text => refeed::say!("{}", article.text),
        Format::Html => refeed::say!("{}", article.html),
        Format::Json => {
            refeed::say!("{}", serde_json::to_string_pretty(article).map_err(|e| Fail::Own(e.to_string()))?)
        }
    }
    Ok(())
}

/// `extract --items`: what a page source with these selectors would read from the page.
async fn cmd_extract_items(
    input: &str,
    sel: &refeed::config::ItemSelectors,
    format: Format,
    base_url: Option<&str>,
) -> Result<(), Fail> {
    let (html, url) = if let Some(url) = url_argument(input) {
        let (url, _, fetcher) = typed_url_fetcher(url?, &config::Settings::default())?;
        match fetcher.get(&url, fetch::Kind::Page, None, fetch::Access::Trusted).await {
            Ok(fetch::Fetched::Body(b)) => {
                (fetch::charset::decode_html(&b.bytes, b.content_type.as_deref()).text, b.url)
            }
            Ok(fetch::Fetched::NotModified { .. }) => {
                return Err(Fail::Outside(format!("{url}: the origin answered 304 Not Modified to a plain request")));
            }
            Err(e) => return Err(Fail::Outside(format!("{url}: {e}"))),
        }
    } else {
        let html =
            fetch::charset::read_page_file(Path::new(input)).map_err(|e| Fail::Outside(format!("{input}: {e}")))?;
        let base = base_url.map(url::Url::parse).transpose().map_err(|e| Fail::Usage(format!("--base-url: {e}")))?;
        let path = std::path::absolute(input).unwrap_or_else(|_| PathBuf::from(input));
        let url = base
            .or_else(|| url::Url::from_file_path(&path).ok())
            .ok_or_else(|| Fail::Usage(format!("{input}: give --base-url")))?;
        (html, url)
    };
    let feed = refeed::feed::page::parse_page(&html, &url, sel, refeed::feed::Limits::default())
        .map_err(|e| Fail::Outside(format!("{input}: {e}")))?;
    if let Format::Json = format {
        refeed::say!("{}", serde_json::to_string_pretty(&feed.to_json()).map_err(|e| Fail::Own(e.to_string()))?);
        return Ok(());
    }
    for (i, e) in feed.entries.iter().enumerate() {
        refeed::say!("{}. {}", i + 1, e.title.as_deref().unwrap_or(""));
        refeed::say!("   link:    {}", e.url.as_deref().unwrap_or("(none: give --link-selector)"));
        refeed::say!("   date:    {}", e.published.map_or("(none)".to_string(), |d| d.to_rfc3339()));
        if let Some(a) = &e.author {
            refeed::say!("   author:  {a}");
        }
        if let Some(s) = &e.summary {
            refeed::say!("   summary: {}", refeed::publish::summarize(&refeed::feed::html_to_plain(s), 120));
        }
    }
    refeed::say!(
        "refeed: {} item(s) on the page, {} read{}",
        feed.items_found,
        feed.entries.len(),
        feed.problems.iter().map(|p| format!("; {p}")).collect::<String>()
    );
    Ok(())
}

/// `Some` when the argument is an http(s) URL (a usage error when it does not parse), `None`
/// when it is a file.
fn url_argument(input: &str) -> Option<Result<url::Url, Fail>> {
    (input.starts_with("http://") || input.starts_with("https://"))
        .then(|| url::Url::parse(input).map_err(|e| Fail::Usage(format!("{input}: {e}"))))
}

/// A client for a URL typed on the command line: trusted as a configured feed is (its own host
/// and port may be private), the links found from it guarded.
fn typed_url_fetcher(
    url: url::Url,
    settings: &config::Settings,
) -> Result<(url::Url, fetch::guard::Guard, fetch::Fetcher), Fail> {
    let guard = fetch::guard::Guard::new(&settings.allow_private_hosts).with_origin(&url);
    let fetcher = fetch::Fetcher::new(settings, guard.clone()).map_err(|e| Fail::Own(e.to_string()))?;
    Ok((url, guard, fetcher))
}

async fn cmd_parse(input: &str, base_url: Option<&str>) -> Result<(), Fail> {
    let outside = |e: &dyn std::fmt::Display| Fail::Outside(format!("{input}: {e}"));
    let (bytes, content_type, url) = if let Some(url) = url_argument(input) {
        let (url, _, fetcher) = typed_url_fetcher(url?, &config::Settings::default())?;
        match fetcher.get(&url, fetch::Kind::Feed, None, fetch::Access::Trusted).await.map_err(|e| outside(&e))? {
            fetch::Fetched::Body(b) => (b.bytes, b.content_type, b.url),
            // No validators were sent: the origin is confused.
            fetch::Fetched::NotModified { .. } => {
                return Err(outside(&"the origin answered 304 Not Modified to a plain request"));
            }
        }
    } else {
        let base = base_url.map(url::Url::parse).transpose().map_err(|e| Fail::Usage(format!("--base-url: {e}")))?;
        let path = std::path::absolute(input).unwrap_or_else(|_| PathBuf::from(input));
        let url = base.unwrap_or_else(|| {
            url::Url::from_file_path(&path).unwrap_or_else(|_| url::Url::parse("file:///").expect("static"))
        });
        (std::fs::read(input).map_err(|e| outside(&e))?, None, url)
    };
    let feed = refeed::feed::parse_feed(&bytes, content_type.as_deref(), &url, refeed::feed::Limits::default())
        .map_err(|e| outside(&e))?;
    refeed::say!("{}", serde_json::to_string_pretty(&feed.to_json()).map_err(|e| Fail::Own(e.to_string()))?);
    Ok(())
}

/// `<stem>` of `name.html` / `name.html.gz` / `name.htm`.
fn page_stem(name: &str) -> Option<&str> {
    name.strip_suffix(".html.gz").or_else(|| name.strip_suffix(".html")).or_else(|| name.strip_suffix(".htm"))
}

fn cmd_extract_batch(dir: &Path, out: &Path, captions: extract::Captions) -> Result<(), Fail> {
    let mut pages: Vec<(PathBuf, String)> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stem = page_stem(&name)?.to_owned();
                Some((e.path(), stem))
            })
            .collect(),
        Err(e) => return Err(Fail::Usage(format!("{}: {e}", dir.display()))),
    };
    pages.sort();
    std::fs::create_dir_all(out).map_err(|e| Fail::Own(format!("{}: {e}", out.display())))?;
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Only the text is written: the HTML is not built (nor sanitized) for nothing.
    let options = extract::Options { html: false, captions, ..extract::Options::default() };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((path, stem)) = pages.get(i) else { break };
                    let result = fetch::charset::read_page_file(path).and_then(|html| {
                        // A page that panics the extractor is that page's failure, not the batch's.
                        let article = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            extract::article(&html, None, &options)
                        }))
                        .map_err(|p| {
                            std::io::Error::other(format!("extraction failed: {}", refeed::html::panic_message(&*p)))
                        })?
                        .map_err(std::io::Error::other)?;
                        let target = out.join(format!("{stem}.txt"));
                        // An output already holding these bytes is left as it is (no new file,
                        // no rename, its time unchanged): re-running over a corpus rewrites
                        // only what changed.
                        if std::fs::read(&target).is_ok_and(|old| old == article.text.as_bytes()) {
                            return Ok(());
                        }
                        refeed::publish::write_atomic_unsynced(&target, article.text.as_bytes())
                    });
                    if let Err(e) = result {
                        refeed::say_err!("refeed: {}: {e}", path.display());
                        failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    // The outputs are made durable together, once (one fsync per page cost as much as the
    // extraction of small pages).
    if let Err(e) = refeed::publish::sync_folder(out) {
        return Err(Fail::Own(format!("{}: {e}", out.display())));
    }
    let secs = started.elapsed().as_secs_f64();
    let failed = failures.into_inner();
    refeed::say!(
        "refeed: extracted {} page(s) into {} in {:.2}s ({:.1} pages/s on {} thread{}){}",
        pages.len() - failed,
        out.display(),
        secs,
        pages.len() as f64 / secs.max(1e-9),
        threads,
        if threads == 1 { "" } else { "s" },
        if failed > 0 { format!("; {failed} failed") } else { String::new() }
    );
    // Each failure is reported on its own line above.
    if failed > 0 { Err(Fail::Sources { own: false }) } else { Ok(()) }
}

async fn cmd_demo_serve(listen: String) -> Result<(), Fail> {
    config::check_listen(&listen).map_err(|e| Fail::Usage(format!("--listen: {e}")))?;
    let result = refeed::demo::serve_demo(Some(listen), |addr, base| {
        refeed::say_err!("refeed: serving 1 source(s) on http://{addr}/ (Ctrl-C or SIGTERM stops)");
        refeed::say_err!("refeed: feeds at {base}feeds/gazette.xml, .atom, .json; open {base} in a browser");
    })
    .await;
    result.map_err(|e| Fail::Own(format!("demo: {e}")))
}

async fn cmd_demo() -> Result<(), Fail> {
    let report = refeed::demo::run_demo().await.map_err(|e| Fail::Own(format!("demo: {e}")))?;
    refeed::say!("{report}");
    Ok(())
}
