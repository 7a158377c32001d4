#!/usr/bin/env bash
# Several `refeed serve` processes on one PostgreSQL database (see benches/nodes.rs): 1, 2
# and 4 processes against a loopback origin of 1,000 sources refreshed every 60 s; counted at
# the origin (refreshes per minute, sources refreshed twice in an interval), cached-feed GET
# latency per process, and a kill -9 of one process mid-refresh (time until its sources are
# fetched again). About 12 minutes. Needs PostgreSQL's initdb (scripts/test.sh installs it).
#
# Usage: scripts/bench-nodes.sh [extra arguments for benches/nodes.rs, e.g. --nodes 2]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin refeed
cargo bench --quiet --bench nodes -- "$@"
