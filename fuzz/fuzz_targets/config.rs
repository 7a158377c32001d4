//! Config parsing: never a panic, and every error that names a line names one that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = refeed::config::parse(text, std::path::Path::new("fuzz.toml")) {
        if let Some(line) = e.line {
            assert!(line >= 1 && line <= text.lines().count().max(1) + 1, "line {line} out of range: {e}");
        }
    }
});
