#!/usr/bin/env bash
# Renders refeed serve's `/` page in headless Chromium (Debian package) and writes a PNG.
# The page is served with two sources: the bundled demo site (working) and a source whose
# origin fails, so both looks of a source are on the picture.
#
# Usage: scripts/screenshot.sh [OUT.png] [WIDTHxHEIGHT]   (default: refeed-index.png, 1200x1000)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-refeed-index.png}")
size=${2:-1200x1000}

. scripts/common.sh
need_debian chromium chromium

cargo build --release --quiet
work=$(mktemp -d)
# An origin: the demo site's files, plus nothing at /gone.xml (404) and a refused port.
mkdir -p "$work/site/demo"
cp -r fixtures/demo/. "$work/site/demo/"
site_port=$(free_port)
grep -rl '{{BASE}}' "$work/site" | xargs sed -i "s#{{BASE}}#http://127.0.0.1:$site_port#g"
serve_dir "$work/site" "$site_port"
port=$(free_port)
cat >"$work/config.toml" <<TOML
[settings]
output_dir = "public"
database = "refeed.db"
allow_any_url = true

[[source]]
name = "gazette"
url = "http://127.0.0.1:$site_port/demo/feed.xml"

[[source]]
name = "tides"
title = "Tide tables (feed content only)"
url = "http://127.0.0.1:$site_port/demo/feed.xml"
full_text = false
max_items = 2

[[source]]
name = "old-blog"
title = "An old blog that moved"
url = "http://127.0.0.1:$site_port/gone.xml"
TOML
target/release/refeed serve --config "$work/config.toml" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
trap 'kill $server $site 2>/dev/null || true; rm -rf "$work"' EXIT
wait_200 "http://127.0.0.1:$port/feeds/tides.xml"
sleep 1
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
    --window-size="${size/x/,}" --screenshot="$out" "http://127.0.0.1:$port/" 2>/dev/null
echo "wrote $out"
