//! Memory bounds of whole `refeed` processes, measured by the kernel (`wait4`). Alone in its
//! own test binary: a child's peak counts its parent's peak at exec, and the other hostile
//! tests make their process large.

/// Runs `refeed ARGS` and returns its exit code and its own peak resident memory in MiB (from
/// `wait4`, so other tests' children do not count).
#[allow(clippy::zombie_processes)] // reaped by wait4, which std does not know about
fn refeed_peak_mib(args: &[&str]) -> (Option<i32>, f64) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_refeed"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, usage.ru_maxrss as f64 / 1024.0)
}

#[test]
fn the_densest_markup_the_budget_allows_costs_about_thirty_times_its_size() {
    let dir = tempfile::tempdir().unwrap();
    // Memory is what is measured here: an unoptimised build may take more than the default
    // CPU limit of 3 s for the densest page, which would refuse it.
    let config = dir.path().join("refeed.toml");
    std::fs::write(&config, "[settings]\ncpu_limit = \"60s\"\n").unwrap();
    let config = config.to_str().unwrap();
    let tiny = dir.path().join("tiny.html");
    std::fs::write(&tiny, "<p>One short paragraph.</p>").unwrap();
    let (_, baseline) = refeed_peak_mib(&["extract", "--config", config, tiny.to_str().unwrap()]);
    // A child's peak counts its parent's at the moment it was started (the kernel keeps the
    // larger at exec): alone in its test binary, this parent stays small.
    assert!(baseline < 60.0, "a tiny page's run peaked at {baseline:.1} MiB: the parent's memory leaked in");
    // 1 MB of each of the densest shapes just inside the budget (about 56 nodes per KiB),
    // and one just past it, which is refused early.
    for (unit, accepted) in [
        ("<b>xxxxxxxxxxxx</b>", true),
        ("xxxxxxxxxxx<!---->", true),
        ("<div>xxxxxxxxxxxxx</div>", true),
        ("<b a=1 b=2>xxxxxxxxxxx</b>", true),
        ("<p><b>abcdefg</b></p>", false),
    ] {
        let page = dir.path().join("page.html");
        std::fs::write(&page, format!("<html><body>{}</body></html>", unit.repeat(1_000_000 / unit.len()))).unwrap();
        let (code, peak) = refeed_peak_mib(&["extract", "--config", config, page.to_str().unwrap()]);
        assert_eq!(code, Some(if accepted { 0 } else { 1 }), "{unit}");
        let over = peak - baseline;
        eprintln!("{unit}: {over:.1} MiB over the {baseline:.1} MiB of a tiny page");
        assert!(over < 35.0, "{unit}: {over:.1} MiB for a 1 MB page");
    }
}
