#!/usr/bin/env bash
# fogg load against wrk and oha on the same loopback target, in one run.
#
# Measures, for each generator: requests/s achieved and CPU time (user +
# system) per 1,000 requests; for fogg also the memory each in-flight
# customer costs and whether memory stays flat as a run gets longer.
# The target is fogg's demo shop with ample capacity and a 1 ms service
# time, in its own process. Only loopback is used.
#
#   benches/load-vs.sh            # 10 s per generator, fogg and oha at 2,000 req/s
#   SECONDS_PER_RUN=20 RATE=4000 benches/load-vs.sh
#   FOGG_BASELINE=/path/to/older/fogg benches/load-vs.sh   # also that build, for a before/after ratio
#
# Needs wrk and GNU time (Debian packages wrk and time) and oha (cargo
# install oha); it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=${SECONDS_PER_RUN:-10}
RATE=${RATE:-2000}
PORT=${PORT:-18181}
TARGET="http://127.0.0.1:$PORT"

need_apt=()
command -v wrk > /dev/null || need_apt+=(wrk)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
command -v oha > /dev/null || cargo install oha --locked
cargo build --release --quiet
FOGG=./target/release/fogg
OUT=$(mktemp -d)

$FOGG demo --addr "127.0.0.1:$PORT" --capacity 1000000 --latency 1 --queue 1000000 2> "$OUT/demo.log" &
DEMO=$!
trap 'kill $DEMO 2> /dev/null || true; rm -rf "$OUT"' EXIT
sleep 1

# measure NAME COMMAND...: runs it under GNU time; prints "cpu_s max_rss_kb".
measure() {
    local name=$1
    shift
    /usr/bin/time -f "%U %S %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
    awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$OUT/$name.time"
}

row() { # NAME REQUESTS CPU_S
    awk -v n="$1" -v r="$2" -v c="$3" -v t="$RUN" \
        'BEGIN { printf "| %s | %d | %.0f | %.3f | %.1f |\n", n, r, r / t, c, c * 1e6 / r }'
}

read -r wrk_cpu _ < <(measure wrk wrk -t1 -c32 -d"${RUN}s" "$TARGET/")
wrk_requests=$(awk '/requests in/ { print $1 }' "$OUT/wrk.out")

read -r oha_cpu _ < <(measure oha oha -z "${RUN}s" -q "$RATE" -c 64 --no-tui --output-format json "$TARGET/")
oha_requests=$(python3 -c "import json,sys; d=json.load(open('$OUT/oha.out')); print(sum(d['statusCodeDistribution'].values()))")

read -r fogg_cpu _ < <(measure fogg $FOGG load benches/one-page.toml --target "$TARGET" --rate "$RATE" \
    --duration "${RUN}s" --grace 5s --format json --out "$OUT")
fogg_requests=$(python3 -c "import json; print(json.load(open('$OUT/fogg.out'))['requests'])")
if [ -n "${FOGG_BASELINE:-}" ]; then
    read -r base_cpu _ < <(measure base "$FOGG_BASELINE" load benches/one-page.toml --target "$TARGET" --rate "$RATE" \
        --duration "${RUN}s" --grace 5s --format json --out "$OUT")
    base_requests=$(python3 -c "import json; print(json.load(open('$OUT/base.out'))['requests'])")
fi

echo "Loopback target: fogg demo shop (1 ms service time), ${RUN} s per generator, on $(nproc) cores."
echo "wrk runs closed-loop (32 connections, as fast as it can); oha and fogg run open-loop at $RATE requests/s."
echo
echo "| generator | requests | requests/s | CPU (s) | CPU µs per request |"
echo "|---|---:|---:|---:|---:|"
row "wrk -t1 -c32" "$wrk_requests" "$wrk_cpu"
row "oha -q $RATE" "$oha_requests" "$oha_cpu"
row "fogg load --rate $RATE" "$fogg_requests" "$fogg_cpu"
if [ -n "${FOGG_BASELINE:-}" ]; then
    row "baseline fogg load --rate $RATE" "$base_requests" "$base_cpu"
fi
awk -v f="$fogg_cpu" -v fr="$fogg_requests" -v o="$oha_cpu" -v orq="$oha_requests" \
    'BEGIN { printf "\nfogg CPU per request / oha CPU per request: %.2f×\n", (f / fr) / (o / orq) }'
if [ -n "${FOGG_BASELINE:-}" ]; then
    awk -v f="$fogg_cpu" -v fr="$fogg_requests" -v b="$base_cpu" -v br="$base_requests" \
        'BEGIN { printf "fogg CPU per request / baseline CPU per request: %.2f×\n", (f / fr) / (b / br) }'
fi

# Memory per in-flight customer: customers who load one page and then
# think for a minute, arriving over 2 s (so that few requests overlap),
# small count against large; resident size sampled 3.5 s in, while they
# all think. Then the same number arriving at once (a closed pool), where
# every customer also holds a connection and a request in flight.
rss_while_thinking() { # CUSTOMERS -> KB
    $FOGG load benches/idle-customers.toml --target "$TARGET" --rate "$(($1 / 2))" --duration 2s --grace 3s \
        --out "$OUT" > /dev/null 2>&1 &
    local pid=$!
    sleep 3.5
    awk '/VmRSS/ { print $2 }' "/proc/$pid/status"
    wait $pid || true
}
peak_all_at_once() { # CUSTOMERS -> KB
    python3 - "$1" << 'PY' > "$OUT/pool$1.toml"
import sys
text = open("benches/idle-customers.toml").read()
print(text.replace("max_in_flight = 1000000", "max_in_flight = 1000000\nprofile = { kind = \"closed\", customers = %s }" % sys.argv[1]))
PY
    measure "pool$1" $FOGG load "$OUT/pool$1.toml" --target "$TARGET" --duration 3s --grace 0s --out "$OUT" | awk '{ print $2 }'
}
small=$(rss_while_thinking 20)
large=$(rss_while_thinking 20000)
small_peak=$(peak_all_at_once 20)
large_peak=$(peak_all_at_once 20000)
echo
awk -v s="$small" -v l="$large" -v sp="$small_peak" -v lp="$large_peak" 'BEGIN {
    printf "Memory per in-flight customer (thinking): %.1f MB with 20, %.1f MB with 20,000: %.2f KB each\n", s / 1024, l / 1024, (l - s) / 19980
    printf "All 20,000 starting at once (a connection and a request each): peak %.1f vs %.1f MB: %.2f KB each\n", sp / 1024, lp / 1024, (lp - sp) / 19980
}'

# Flat memory: the same rate for RUN seconds and for 4 × RUN seconds.
short=$(measure flat1 $FOGG load benches/one-page.toml --target "$TARGET" --rate 500 --duration "${RUN}s" --out "$OUT" | awk '{ print $2 }')
long=$(measure flat4 $FOGG load benches/one-page.toml --target "$TARGET" --rate 500 --duration "$((RUN * 4))s" --out "$OUT" | awk '{ print $2 }')
awk -v s="$short" -v l="$long" -v t="$RUN" \
    'BEGIN { printf "Max RSS at 500 customers/s: %.1f MB over %d s, %.1f MB over %d s\n", s / 1024, t, l / 1024, 4 * t }'
