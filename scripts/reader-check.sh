#!/usr/bin/env bash
# Reads what `refeed serve` serves with real feed readers, offline:
#   - newsboat (Debian package), which loads the RSS and Atom feeds and prints what it loaded
#     (newsboat 2.21, Debian 12's, does not read JSON Feed at all: "XML root node is NULL");
#   - Python feedparser (PyPI), which must parse the RSS and Atom feeds with no `bozo` flag;
#   - JSON Feed, which feedparser 6.0.14 (the newest release) cannot read at all: checked
#     against the JSON Feed 1.1 spec's required fields here, and read by the npm package
#     @extractus/feed-extractor (a feed-reading library readers are built on).
# The feeds come from `refeed demo --serve` (the bundled demo site on 127.0.0.1), through both
# the configured-source URLs (/feeds/gazette.*) and /feed?url=.
#
# Usage: scripts/reader-check.sh        (installs what is missing; needs root or sudo for apt)
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/common.sh
need_debian newsboat newsboat
python3 -c 'import feedparser' 2>/dev/null || python3 -m pip install --quiet feedparser

cargo build --release --quiet
work=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
target/release/refeed demo --serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
wait_200 "$base/feeds/gazette.xml"
origin=$(sed -n 's/.*demo site is at \([^ ;]*\);.*/\1/p' "$work/serve.log")
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$origin")
urls=(
    "$base/feeds/gazette.xml" "$base/feeds/gazette.atom" "$base/feeds/gazette.json"
    "$base/feed?url=$enc&format=rss" "$base/feed?url=$enc&format=atom" "$base/feed?url=$enc&format=json"
)

echo "== newsboat $(newsboat -v | head -1 | awk '{print $2}')"
# One run per URL, each with its own cache: newsboat merges items with the same GUID across
# feeds, and every URL here serves the same four stories.
i=0
for url in "${urls[@]}"; do
    case "$url" in *.json | *format=json) continue ;; esac
    i=$((i + 1))
    echo "$url" >"$work/urls$i"
    # A private home: newsboat must not touch the user's own configuration or cache.
    HOME="$work" TERM=dumb newsboat -u "$work/urls$i" -c "$work/cache$i.db" -C /dev/null -x reload \
        >"$work/newsboat$i.out" 2>&1 || { cat "$work/newsboat$i.out"; exit 1; }
    cat "$work/newsboat$i.out"
    python3 - "$work/cache$i.db" "$url" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
url = sys.argv[2]
feed = db.execute("SELECT title FROM rss_feed WHERE rssurl = ?", (url,)).fetchone()
rows = db.execute("SELECT title, content FROM rss_item WHERE feedurl = ? ORDER BY pubDate DESC", (url,)).fetchall()
sizes = [len(c or "") for _, c in rows]
print(f"{url}\n  loaded feed {feed[0] if feed else None!r}: {len(rows)} items, {min(sizes, default=0)}-{max(sizes, default=0)} chars of content each")
for title, _ in rows:
    print(f"    - {title}")
sys.exit(0 if rows else 1)
PY
done

echo "== feedparser $(python3 -c 'import feedparser; print(feedparser.__version__)')"
python3 - "${urls[@]}" <<'PY'
import sys, feedparser
bad = 0
for url in sys.argv[1:]:
    if url.endswith(".json") or url.endswith("format=json"):
        continue
    d = feedparser.parse(url)
    print(f"{url}\n  status {d.get('status')}, version {d.version!r}, bozo {d.bozo}, "
          f"{len(d.entries)} entries, title {d.feed.get('title')!r}")
    if d.bozo:
        print(f"  bozo_exception: {d.bozo_exception!r}")
    for e in d.entries:
        print(f"    - {e.title} ({len(e.get('content', [{}])[0].get('value', ''))} chars of content)")
    bad += bool(d.bozo) or not d.entries or not d.version
sys.exit(1 if bad else 0)
PY

echo "== JSON Feed 1.1: required fields, then @extractus/feed-extractor"
python3 - "${urls[@]}" <<'PY'
import json, sys, urllib.request
from datetime import datetime
bad = 0
for url in sys.argv[1:]:
    if not (url.endswith(".json") or url.endswith("format=json")):
        continue
    with urllib.request.urlopen(url) as r:
        ctype = r.headers["Content-Type"]
        doc = json.load(r)
    problems = []
    if doc.get("version") != "https://jsonfeed.org/version/1.1": problems.append("version")
    if not isinstance(doc.get("title"), str): problems.append("title")
    for i, item in enumerate(doc.get("items", [])):
        if not isinstance(item.get("id"), str): problems.append(f"items[{i}].id")
        if not (item.get("content_html") or item.get("content_text")): problems.append(f"items[{i}].content")
        for key in ("date_published", "date_modified"):
            if key in item: datetime.fromisoformat(item[key])
    print(f"{url}\n  {ctype}, {len(doc.get('items', []))} items, problems: {problems or 'none'}")
    bad += bool(problems) or not doc.get("items")
sys.exit(1 if bad else 0)
PY
mkdir -p "$work/npm" && (cd "$work/npm" && npm init -y >/dev/null && npm install --silent @extractus/feed-extractor@8.0.3)
cat >"$work/npm/read.mjs" <<'JS'
import { extract } from '@extractus/feed-extractor'
for (const url of process.argv.slice(2)) {
  const feed = await extract(url, { descriptionMaxLen: 0, getExtraEntryFields: (e) => ({ html: e.content_html || '' }) })
  console.log(`${url}\n  loaded feed '${feed.title}': ${feed.entries.length} items`)
  for (const e of feed.entries) console.log(`    - ${e.title} (${e.html.length} chars of content_html)`)
  if (!feed.entries.length) process.exit(1)
}
JS
node "$work/npm/read.mjs" "${urls[2]}" "${urls[5]}"

kill -TERM $server
wait $server && echo "== refeed serve stopped on SIGTERM with exit code 0"
