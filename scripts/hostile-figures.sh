#!/usr/bin/env bash
# Time and peak memory of refeed on the hostile inputs of the two security reviews, for one
# binary or for two side by side (say, the release before the fixes and this one):
#   scripts/hostile-figures.sh NEW_BINARY [OLD_BINARY]
# Each case runs once, pinned to one core, with a 300 s cap; "exit" is the exit code (124: the
# cap was hit, 101: a panic, 134: an abort).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
new=$(realpath "$1")
old=${2:+$(realpath "$2")}
work=$(mktemp -d)
trap 'kill $site 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import os, sys
d = sys.argv[1]
def w(name, text):
    open(os.path.join(d, name), "w").write(text)
amp = "<html><body><div>" + "".join(f"<b a={i}>" for i in range(990)) + "</div>"
while len(amp) < 57_000:
    amp += "<div>x</div>"
w("amplification.html", amp)
for name, opening in [("unquoted-quote", '<i a=b">'), ("empty-comment", "<!-->"), ("template", "<template>"), ("svg-title", "<svg><title>")]:
    w(name + ".html", opening + "<div>" * 50_000 + "x")
w("attributes-200k.html", "<i" + "".join(f" a{i}" for i in range(200_000)) + ">")
head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
parts, i = [head], 0
while sum(map(len, parts)) < 8_700_000:
    parts.append(f"<item><title>Entry {i}</ttle><guid>g{i}</guid><description>text text text text text text</description></item>\n")
    i += 1
w("broken-8.7mb.xml", "".join(parts) + "</channel></rss>")
w("million-unclosed-items.xml", head + "<item><title>x</title>" * 1_000_000 + "</channel></rss>")
w("json-6m-items.json", '{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[' + ",".join(["{}"] * 6_000_000) + "]}")
w("items-2.8m.xml", head + "<item/>" * 2_800_000 + "</channel></rss>")
w("title-100k-deep.xml", head + "<item><title>" + "&lt;div&gt;" * 100_000 + "x</title><guid>1</guid></item></channel></rss>")
w("html-488k-for-a-feed.html", "<html><head><title>x</title></head><body>" + "<div>" * 97_000 + "</body></html>")
w("dates.xml", '<feed xmlns="http://www.w3.org/2005/Atom"><title>D</title><id>d</id><entry><title>a</title><id>a</id><updated>0000-01-01T00:00:00+23:59</updated></entry><entry><title>b</title><id>b</id><updated>10000-01-01T00:00:00Z</updated></entry></feed>')
PY
port=$(free_port)
serve_dir "$work" "$port"
wait_200 "http://127.0.0.1:$port/dates.xml"

run_case() { # label kind input
    local label=$1 kind=$2 input=$3 bin line
    for bin in "$new" ${old:+"$old"}; do
        rm -rf "$work/ws" && mkdir "$work/ws"
        if [ "$kind" = page ]; then
            set -- extract "$work/$input"
        else
            printf '[settings]\noutput_dir = "public"\ndatabase = "state.db"\nmax_feed_size = "64MiB"\n\n[[source]]\nname = "h"\nurl = "http://127.0.0.1:%s/%s"\nfull_text = false\n' "$port" "$input" >"$work/ws/config.toml"
            set -- run --config "$work/ws/config.toml"
        fi
        local code=0
        /usr/bin/time -o "$work/time" -f "%e s wall, %U s CPU, %M KB peak" taskset -c 0 timeout 300 "$bin" "$@" \
            >/dev/null 2>"$work/stderr" || code=$?
        line="$(cat "$work/time" | grep -v '^Command' | tail -1), exit $code"
        printf '%-28s %-4s %s\n' "$label" "$([ "$bin" = "$new" ] && echo new || echo old)" "$line"
    done
}

printf '%-28s %-4s %s\n' case bin "figures"
run_case "amplification 57 KB" page amplification.html
run_case "quote in unquoted value" page unquoted-quote.html
run_case "<!--> comment" page empty-comment.html
run_case "<template> content" page template.html
run_case "<svg><title> content" page svg-title.html
run_case "200,000 attributes" page attributes-200k.html
run_case "broken feed 8.7 MiB" feed broken-8.7mb.xml
run_case "1,000,000 unclosed items" feed million-unclosed-items.xml
run_case "JSON Feed, 6M items" feed json-6m-items.json
run_case "2.8M empty items" feed items-2.8m.xml
run_case "title 100,000 deep" feed title-100k-deep.xml
run_case "HTML page as a feed" feed html-488k-for-a-feed.html
run_case "dates out of range" feed dates.xml
