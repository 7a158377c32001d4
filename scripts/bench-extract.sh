#!/usr/bin/env bash
# Extraction speed as whole processes on one core: `refeed extract --batch` against a process
# that only parses the same pages (scraper's Html::parse_document, examples/parse_only.rs),
# both pinned to core 0 (taskset), and the ratio of their page rates. The two run in turn
# (parse, refeed, parse, refeed, ...) so that a neighbour's load hits both alike, and each one's
# best run counts (RUNS of each, default 5).
#
# Usage: [RUNS=5] scripts/bench-extract.sh [PAGES_DIR]   (default: ../shared/extraction-dev/pages)
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-../shared/extraction-dev/pages}
cargo build --release --quiet --bin refeed --example parse_only
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$pages" "$out" "${RUNS:-5}" <<'PY'
import os, subprocess, sys, time
pages, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = sum(1 for f in os.listdir(pages) if f.endswith((".html", ".html.gz")))
def timed(cmd):
    t = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", *cmd], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
parse_cmd = ["target/release/examples/parse_only", pages]
extract_cmd = ["target/release/refeed", "extract", "--batch", pages, "--out", out]
pairs = [(timed(parse_cmd), timed(extract_cmd)) for _ in range(runs)]
parse, extract = min(p for p, _ in pairs), min(e for _, e in pairs)
print(f"pages:            {n} in {pages}")
print(f"parse only:       {parse:.2f} s  ({n / parse:.0f} pages/s)")
print(f"refeed --batch:   {extract:.2f} s  ({n / extract:.0f} pages/s)")
print(f"extract / parse:  {parse / extract:.2f}  (one core each, whole processes, best of {runs}, in turn)")
PY
