#!/usr/bin/env bash
# Soak: `fogg load` on the default scenario against the built-in demo shop
# for DURATION (default 3600s, an hour) at RATE customers/s (default 300),
# printing the generator's resident memory every
# EVERY seconds (default 30) from /proc, then the run's totals. Memory
# must stay flat: histograms are fixed per request name, state and
# segment, and the series over time keeps at most 600 points.
#   benches/soak.sh [DURATION] [RATE] [EVERY]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
duration=${1:-3600s}
rate=${2:-300}
every=${3:-30}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
./target/release/fogg load --duration "$duration" --rate "$rate" --quiet --out "$dir" > /dev/null 2> "$dir/stderr" &
pid=$!
start=$(date +%s)
printf "%8s %10s %10s\n" "seconds" "RSS MB" "peak MB"
while kill -0 "$pid" 2> /dev/null; do
  status=$(cat "/proc/$pid/status" 2> /dev/null || true)
  rss=$(awk '/^VmRSS/ { print $2 }' <<< "$status")
  hwm=$(awk '/^VmHWM/ { print $2 }' <<< "$status")
  if [ -n "$rss" ]; then
    awk -v t=$(( $(date +%s) - start )) -v r="$rss" -v h="$hwm" 'BEGIN { printf "%8d %10.1f %10.1f\n", t, r / 1024, h / 1024 }'
  fi
  sleep "$every"
done
wait "$pid" || true
json=$(ls "$dir"/load-*.json)
# The first of each key is the run's own (rows come later).
for key in arrivals arrivals_dropped requests customers_unfinished seconds_per_point; do
  grep -o "\"$key\": *[0-9]*" "$json" | head -1 | tr -d '"' || true
done
