#!/usr/bin/env bash
# Speed at scale (see benches/scale.rs): refeed run against a local origin of N feeds x 20
# real-size article pages, cold and warm, against `refeed extract --batch` on the same pages,
# per-host politeness measured at the origin, and morss on the same origin. refeed, the batch
# baseline and morss are each pinned to core 0 (taskset), the origin to core 1.
#
# Usage: scripts/bench-scale.sh [N...]        (default: 200 1000)
# Installs morss (pip) into target/bench-scale/venv the first time: needs python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 1000)

venv=target/bench-scale/venv
if [ ! -x "$venv/bin/morss" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "morss==20230627.2039"
fi
morss=$(realpath "$venv/bin/morss")

first=1
for n in "${sizes[@]}"; do
    extra=()
    if [ $first = 1 ]; then
        extra=(--politeness --morss "$morss" --morss-feeds 20)
        first=0
    fi
    cargo bench --quiet --bench scale -- --feeds "$n" --entries 20 "${extra[@]}"
done
