//! refeed: turns the feeds you follow into clean, full-text feeds.
//!
//! # Layout
//!
//! The modules are the stages of the pipeline; each uses only the ones below it (no module
//! imports one above it, and there are no import circles):
//!
//! ```text
//! main.rs (the command: arguments, messages, exit codes)
//!   demo                              the bundled demo site, run once or served
//!     serve/                          `refeed serve`: HTTP, scheduler, status page, /feed?url=
//!       status                        `refeed status`: the store, read-only
//!         run                         `refeed run`, `prune`, `reextract`, `--dry-run`'s plan
//!           engine                    the stages as one API: fetch a feed, ingest it, fetch
//!                                     and extract articles, render, publish
//!             subscribe               `import`, `add`, `remove`, `export`: config edits
//!             error                   RefreshError and its ErrorKind
//!               publish/              OutFeed -> RSS, Atom, JSON Feed, OPML; merged feeds
//!               store                 the state: SQLite or PostgreSQL, one API
//!                 feed/               any feed dialect -> Feed and Entry; OPML; page sources
//!                   fetch/            HTTP with limits; the address guard; charsets
//!                     rules           site rules (TOML, ftr-site-config) -> extract::Options
//!                     config          config.toml -> Config (a source holds its extract::Options)
//!                       extract/      page -> Article (dom: the one traversal layer;
//!                                     verdict: is it the article?)
//!                         sanitize    the one HTML policy
//!                           tags      the HTML vocabulary the writer and the policy share
//!                           html      every HTML parse, under a budget
//!                           dates     the range of dates refeed accepts
//!                           shape     filters, rewrites, tracking parameters
//! ```

/// `println!` that never panics: a closed stdout (`refeed check | head -1`, a log pipe that
/// went away) loses the line, not the process.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that never panics (see [`say!`]).
#[macro_export]
macro_rules! say_err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `print!` that never panics (see [`say!`]).
#[macro_export]
macro_rules! say_raw {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// `eprint!` that never panics (see [`say!`]).
#[macro_export]
macro_rules! say_raw_err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
}

pub mod config;
pub mod dates;
pub mod demo;
pub mod engine;
pub mod error;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod html;
pub mod publish;
pub mod rules;
pub mod run;
pub mod sanitize;
pub mod serve;
pub mod shape;
pub mod status;
pub mod store;
pub mod subscribe;
pub mod tags;
#[doc(hidden)]
pub mod testing;

pub use engine::{Engine, SourceOk};
pub use error::{ErrorKind, RefreshError};
pub use run::{LockMode, RunError, RunLock, RunOptions, RunSummary, SourceReport, run, take_lock};
