#!/usr/bin/env bash
# What watching a run costs: CPU per request of fogg load with every live
# view on (--metrics scraped each second by a real Prometheus, the same
# series pushed to it with --prometheus-remote-write, and --dashboard
# followed by an open event stream) against the same run with none, in
# interleaved pairs, on one loopback target. The goal (issue 16): at most
# 1.05× at 2,000 requests/s.
#
#   benches/live-overhead.sh                 # 3 pairs of 10 s runs at 2,000 requests/s
#   PAIRS=5 SECONDS_PER_RUN=20 RATE=4000 benches/live-overhead.sh
#   VIEWS=metrics benches/live-overhead.sh   # one view: metrics, remote-write or dashboard
#
# Needs GNU time and Prometheus (Debian packages time and prometheus);
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RUN=${SECONDS_PER_RUN:-10}
RATE=${RATE:-2000}
PAIRS=${PAIRS:-3}
VIEWS=${VIEWS:-metrics remote-write dashboard}
need prometheus prometheus
need /usr/bin/time time
cargo build --release --quiet
FOGG=./target/release/fogg
OUT=$(mktemp -d)

target_port=$(free_port)
metrics_port=$(free_port)
dashboard_port=$(free_port)
prom_port=$(free_port)
$FOGG demo --addr "127.0.0.1:$target_port" --capacity 1000000 --latency 1 --queue 1000000 2> "$OUT/demo.log" &
pids=($!)
trap 'kill "${pids[@]}" 2> /dev/null || true; rm -rf "$OUT"' EXIT
start_prometheus "$OUT" "$prom_port" "127.0.0.1:$metrics_port"
pids+=("$prometheus_pid")
wait_http "http://127.0.0.1:$target_port/"

# run NAME [FLAGS...]: one run; prints CPU µs per request.
run() {
    local name=$1
    shift
    /usr/bin/time -f "%U %S" -o "$OUT/$name.time" $FOGG load benches/one-page.toml \
        --target "http://127.0.0.1:$target_port" --rate "$RATE" --duration "${RUN}s" --grace 5s \
        --format json --quiet --out "$OUT/reports" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
    local requests
    requests=$(python3 -c "import json; print(json.load(open('$OUT/reports/load-one-page.json'))['requests'])")
    awk -v r="$requests" '{ printf "%.2f\n", ($1 + $2) * 1e6 / r }' "$OUT/$name.time"
}

# A page that follows the dashboard: its event stream, read to the end.
follow_dashboard() {
    wait_http "http://127.0.0.1:$dashboard_port/" 2> /dev/null || return 0
    curl -sN "http://127.0.0.1:$dashboard_port/events" > "$OUT/events.txt" || true
}

flags=()
for view in $VIEWS; do
    case $view in
        metrics) flags+=(--metrics "127.0.0.1:$metrics_port") ;;
        remote-write) flags+=(--prometheus-remote-write "http://127.0.0.1:$prom_port/api/v1/write") ;;
        dashboard) flags+=(--dashboard "127.0.0.1:$dashboard_port") ;;
        *) echo "unknown view $view (metrics, remote-write, dashboard)" >&2; exit 2 ;;
    esac
done

plain=()
live=()
for i in $(seq "$PAIRS"); do
    plain+=("$(run "plain$i")")
    follower=""
    if [[ " $VIEWS " == *" dashboard "* ]]; then
        follow_dashboard &
        follower=$!
    fi
    live+=("$(run "live$i" "${flags[@]}")")
    if [ -n "$follower" ]; then
        wait "$follower"
        grep -q '^event: frame' "$OUT/events.txt"
    fi
    echo "pair $i: ${plain[-1]} µs per request without live views, ${live[-1]} with"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p=$(median "${plain[@]}")
l=$(median "${live[@]}")
echo
echo "One-page journey at $RATE requests/s, $PAIRS interleaved pairs of ${RUN} s runs, on $(nproc) cores:"
awk -v p="$p" -v l="$l" -v v="$VIEWS" 'BEGIN { printf "median CPU per request: %.1f µs without, %.1f µs with %s: %.3f×\n", p, l, v, l / p }'
