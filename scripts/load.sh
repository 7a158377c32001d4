#!/usr/bin/env bash
# Load figure for `refeed serve`: wrk (Debian package) on loopback against a 100-entry feed
# served from memory, then against 304 revalidations; the server's resident memory before,
# between and after. Baseline in the same run: nginx (Debian package) serving the very same
# file from refeed's output folder, with the same wrk settings; the ratio is what to quote.
#
# Usage: scripts/load.sh [SECONDS] [CONNECTIONS]    (defaults: 30 s, 64 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-64}

. scripts/common.sh
need_debian wrk wrk
need_debian nginx nginx

cargo build --release --quiet
work=$(mktemp -d)
mkdir -p "$work/site"
# A feed of 100 entries with a few paragraphs each (about what a news site's full feed holds).
python3 - "$work/site/feed.xml" <<'PY'
import random, sys
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
t0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
# Varied text (fixed seed), so that compression ratios are those of real prose, not of a
# repeated sentence.
rng = random.Random(1)
words = ("harbour council bridge ferry timetable budget review engineers residents quay parking "
         "crossing tide gauge lifeboat station volunteers weather storm fishing boats market "
         "school library mayor vote tender soil survey foundation estimate funding report").split()
def para():
    return "<p>" + " ".join(rng.choice(words) for _ in range(rng.randint(40, 80))).capitalize() + ".</p>"
items = "".join(
    f"<item><title>Story number {i}</title><link>https://news.example.org/{i}.html</link>"
    f"<guid>story-{i}</guid><pubDate>{format_datetime(t0 - timedelta(hours=i))}</pubDate>"
    f"<description><![CDATA[{para()}{para()}{para()}]]></description></item>"
    for i in range(100))
open(sys.argv[1], "w").write(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Load test</title>'
                             f'<link>https://news.example.org/</link><description>100 entries</description>{items}</channel></rss>')
PY
site_port=$(free_port)
serve_dir "$work/site" "$site_port"
port=$(free_port)
cat >"$work/config.toml" <<TOML
[settings]
output_dir = "public"
database = "refeed.db"

[[source]]
name = "big"
url = "http://127.0.0.1:$site_port/feed.xml"
full_text = false
TOML
target/release/refeed serve --config "$work/config.toml" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
trap 'kill $server $site 2>/dev/null || true; rm -rf "$work"' EXIT
url="http://127.0.0.1:$port/feeds/big.xml"
wait_200 "$url"
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$server/status; }
etag=$(curl -sI "$url" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
entries=$(curl -s "$url" | grep -o '<item>' | wc -l)
echo "feed: $url ($entries entries, $(curl -s "$url" | wc -c) bytes, $(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c) gzipped)"
echo "machine: $(nproc) cores; wrk -t2 -c$conns -d${secs}s on the same machine"
nginx_port=$(free_port)
mkdir -p "$work/nginx"
chmod a+rx "$work"  # nginx workers run as an unprivileged user
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { application/rss+xml xml; }
    client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
    server { listen 127.0.0.1:$nginx_port; root $work/public; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
trap 'kill $server $site 2>/dev/null || true; kill $(cat "$work/nginx/nginx.pid") 2>/dev/null || true; rm -rf "$work"' EXIT
base_url="http://127.0.0.1:$nginx_port/big.xml"
cmp <(curl -s "$url") <(curl -s "$base_url") && echo "nginx serves the same bytes at $base_url"
base_etag=$(curl -sI "$base_url" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')

bench() { # label url [header]
    local res
    res=$(wrk -t2 -c"$conns" -d"${secs}s" --latency ${3:+-H "$3"} "$2")
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$res")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$res")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$res")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$res")
    printf '%-34s %10s req/s   p50 %8s   p99 %8s   %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
    echo "$rps" >"$work/last"
}
echo "server memory before: $(rss)"
bench "refeed 200 (identity)" "$url"; r1=$(cat "$work/last")
bench "nginx  200 (identity, sendfile)" "$base_url"; n1=$(cat "$work/last")
bench "refeed 200 (gzip)" "$url" "Accept-Encoding: gzip"
bench "refeed 304 (If-None-Match)" "$url" "If-None-Match: $etag"; r3=$(cat "$work/last")
bench "nginx  304 (If-None-Match)" "$base_url" "If-None-Match: $base_etag"; n3=$(cat "$work/last")
echo "server memory after: $(rss)"
echo "ratio refeed/nginx: 200 $(python3 -c "print(round($r1/$n1, 2))"), 304 $(python3 -c "print(round($r3/$n3, 2))")"
