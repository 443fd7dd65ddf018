#!/usr/bin/env bash
# A HAR recorded by a real browser, imported and replayed: headless
# Chromium browses `fogg demo` (home → product → basket, whose scripts add
# to a cart, sign in and order), tools/har/record.mjs writes the HAR,
# `fogg import har` turns it into a scenario, and `fogg load` runs it
# against the same shop, which must answer every request (its carts and
# signed-in orders take only values it handed out, so 0 errors means the
# captures worked). Loopback only.
#
#   scripts/har-round-trip.sh [FOGG] [OUT_DIR]
#
# Needs chromium and Node.js 20+ with npm (installed from Debian when
# missing); `npm ci` fetches chrome-har into tools/har/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
fogg=${1:-./target/debug/fogg}
out=${2:-reports/ci/har}
mkdir -p "$out"

source scripts/lib.sh

need node nodejs npm
need npm npm
(cd tools/har && npm ci --no-audit --no-fund --silent)

port=$(free_port)
"$fogg" demo --addr "127.0.0.1:$port" > "$out/demo.log" 2>&1 &
demo=$!
trap 'kill $demo 2> /dev/null || true' EXIT
wait_http "http://127.0.0.1:$port/"

node_run tools/har/record.mjs "http://127.0.0.1:$port" "$out/demo-shop.har"
"$fogg" import har "$out/demo-shop.har" -o "$out/imported.toml"
grep -q 'capture = { token' "$out/imported.toml"
grep -q 'capture = { cart' "$out/imported.toml"
"$fogg" load "$out/imported.toml" --target "http://127.0.0.1:$port" --duration 3s --rate 5 \
    --threshold 'errors < 1' --threshold 'throughput > 0' --out "$out"
