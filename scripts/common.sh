# Shared by the scripts in this folder (sourced, not run).

# Runs a command as root (directly, or through sudo).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# need_debian COMMAND PACKAGE...: installs the Debian packages when COMMAND is missing.
need_debian() {
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null && return
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve_dir DIR PORT: a static HTTP server for DIR on 127.0.0.1:PORT, in the background
# (its pid in $site).
serve_dir() {
    python3 -m http.server "$2" --bind 127.0.0.1 --directory "$1" >/dev/null 2>&1 &
    site=$!
}

# wait_200 URL: waits (up to 20 s) until URL answers 200.
wait_200() {
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
        sleep 0.2
    done
    echo "no 200 from $1" >&2
    return 1
}
