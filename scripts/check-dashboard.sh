#!/usr/bin/env bash
# fogg's live dashboard in headless Chromium: a load run against the
# built-in demo shop serves --dashboard on loopback; tools/dashboard-check.mjs
# opens it as a person would, and fails unless every chart draws points
# within the run, the page turns into the final report when the run ends,
# and nothing reaches the browser console. The run must still exit 0 and
# write its report.
#
#   scripts/check-dashboard.sh [FOGG] [OUT_DIR]
#
# Needs chromium and Node.js 20+ (Node is installed from Debian when
# missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
fogg=${1:-./target/debug/fogg}
out=${2:-reports/ci/dashboard}
mkdir -p "$out"
need chromium chromium

port=$(free_port)
"$fogg" load --duration 15s --grace 5s --rate 40 --threshold 'p99 < 5s' --threshold 'error_rate < 5%' \
    --dashboard "127.0.0.1:$port" --format json --out "$out" > "$out/load.json" 2> "$out/load.log" &
run=$!
trap 'kill $run 2> /dev/null || true' EXIT
wait_http "http://127.0.0.1:$port/"
node_run tools/dashboard-check.mjs "http://127.0.0.1:$port/" "$out/screenshots" 4
wait "$run"
python3 -c "import json; r = json.load(open('$out/load.json')); assert r['requests'] > 0, r['requests']"
