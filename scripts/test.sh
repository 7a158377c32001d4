#!/usr/bin/env bash
# The test suite, from a fresh machine: installs what the tests start for real (PostgreSQL,
# from Debian's `postgresql` package, when no `initdb` is found), then `cargo test`.
# The tests start their own PostgreSQL server on a loopback port (src/testing.rs); set
# REFEED_TEST_POSTGRES=postgres://… to use a running one instead.
set -euo pipefail
cd "$(dirname "$0")/.."
have_initdb() {
    command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if [ -z "${REFEED_TEST_POSTGRES:-}" ] && ! have_initdb; then
    echo "scripts/test.sh: installing PostgreSQL for the store tests (Debian package postgresql)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    # The package starts a cluster of its own; the tests do not use it.
    $sudo service postgresql stop >/dev/null 2>&1 || true
fi
exec cargo test "$@"
