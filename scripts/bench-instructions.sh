#!/usr/bin/env bash
# The noise-free side of scripts/bench-extract.sh: instructions counted by valgrind's
# callgrind for `refeed extract --batch` and for the parse-only process
# (examples/parse_only.rs) over the same pages, and their ratio. Instruction counts do not move
# with a shared machine's load (time does), but they are not time: cache misses and system
# calls count as one instruction each. Each page of every STEP-th (default 5) is used, since
# callgrind runs about 50 times slower than the program. About 1 minute for 198 pages.
#
# Usage: [STEP=5] scripts/bench-instructions.sh [PAGES_DIR]   (default: ../shared/extraction-dev/pages)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
need_debian valgrind valgrind
pages=$(cd "${1:-../shared/extraction-dev/pages}" && pwd)
cargo build --release --quiet --bin refeed --example parse_only
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pages" "$work/out"
n=0
# (Some page names hold spaces: one name per line.)
while IFS= read -r f; do
    ln -s "$pages/$f" "$work/pages/$f"
    n=$((n + 1))
done < <(cd "$pages" && ls | grep -E '\.html(\.gz)?$' | awk -v s="${STEP:-5}" 'NR % s == 0')
count() { valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
parse=$(count target/release/examples/parse_only "$work/pages")
extract=$(count target/release/refeed extract --batch "$work/pages" --out "$work/out")
python3 - "$n" "$parse" "$extract" <<'PY'
import sys
n, parse, extract = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"pages:            {n}")
print(f"parse only:       {parse / 1e9:.3f} G instructions")
print(f"refeed --batch:   {extract / 1e9:.3f} G instructions")
print(f"parse / extract:  {parse / extract:.3f}  (whole processes)")
PY
