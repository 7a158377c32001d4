//! refeed: turns the feeds you follow into clean, full-text feeds.
//!
//! # Layout
//!
//! The modules are the stages of the pipeline, each using only the ones below it:
//!
//! ```text
//! main.rs (the command)
//!   run, serve/, demo          front-ends: each a short composition of the engine's stages
//!     engine                   the stages as one API: fetch a feed, ingest it, fetch and
//!                              extract articles, render, publish; the refresh they share
//!       config                 config.toml -> Config (sources hold their extract::Options)
//!       fetch/                 HTTP with limits; the address guard; charset decoding
//!       feed/                  any feed dialect -> Feed and Entry
//!       store                  SQLite
//!       publish/               OutFeed -> RSS, Atom, JSON Feed, OPML; atomic writes
//!       error                  RefreshError and its ErrorKind
//!         extract/             page -> Article
//!           sanitize           the one HTML policy
//!             tags             the HTML vocabulary the writer and the sanitizer share
//!             html             every HTML parse, under a budget
//!             dates            the range of dates refeed accepts
//! ```

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
pub mod run;
pub mod sanitize;
pub mod serve;
pub mod store;
pub mod tags;

pub use engine::{Engine, SourceOk};
pub use error::{ErrorKind, RefreshError};
pub use run::{LockMode, RunError, RunSummary, SourceReport, run, take_lock};
