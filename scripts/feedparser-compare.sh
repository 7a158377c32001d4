#!/usr/bin/env bash
# Compares refeed's reading of the feed fixtures with Python's feedparser, field by field.
# Installs feedparser in a virtual environment of its own (target/feedparser-venv).
#   scripts/feedparser-compare.sh [FILES...]     (default: every fixture under fixtures/feeds)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/feedparser-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet feedparser==6.0.14
fi
cargo build --quiet
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find fixtures/feeds -type f ! -name '*.expected.json' ! -name '*.md' | sort)
fi
"$venv/bin/python" scripts/feedparser_compare.py target/debug/refeed "${files[@]}"
