#!/usr/bin/env bash
# Extraction speed as whole processes on one core: `refeed extract --batch` against a process
# that only parses the same pages (scraper's Html::parse_document, examples/parse_only.rs),
# both pinned to core 0 (taskset), best of 3 each, and the ratio of their page rates.
#
# Usage: scripts/bench-extract.sh [PAGES_DIR]   (default: ../shared/extraction-dev/pages)
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-../shared/extraction-dev/pages}
cargo build --release --quiet --bin refeed --example parse_only
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$pages" "$out" <<'PY'
import os, subprocess, sys, time
pages, out = sys.argv[1], sys.argv[2]
n = sum(1 for f in os.listdir(pages) if f.endswith((".html", ".html.gz")))
def best(cmd):
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(["taskset", "-c", "0", *cmd], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)
parse = best(["target/release/examples/parse_only", pages])
extract = best(["target/release/refeed", "extract", "--batch", pages, "--out", out])
print(f"pages:            {n} in {pages}")
print(f"parse only:       {parse:.2f} s  ({n / parse:.0f} pages/s)")
print(f"refeed --batch:   {extract:.2f} s  ({n / extract:.0f} pages/s)")
print(f"extract / parse:  {parse / extract:.2f}  (one core each, whole processes, best of 3)")
PY
