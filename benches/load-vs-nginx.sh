#!/usr/bin/env bash
# fogg load beside wrk and oha against one nginx on loopback: the CPU each
# generator spends per request, closed loop (as fast as it can) and open
# loop (a fixed rate), in interleaved repetitions of one run.
#
# The target is Debian's nginx started by this script (worker_processes 1,
# access log off, `/` answers 200 "ok"), on 127.0.0.1 only, stopped on
# exit. CPU is user + system time of the generator (GNU time).
#
#   benches/load-vs-nginx.sh                       # 5 s runs, 3 repetitions
#   SECONDS_PER_RUN=10 REPS=5 RATE=4000 CONNECTIONS=50 benches/load-vs-nginx.sh
#   FOGG_BASELINE=/path/to/older/fogg benches/load-vs-nginx.sh   # also that build
#
# Closed loop: wrk -t1 -cC, oha -cC, fogg with a closed pool of C customers
# on a one-page journey without think time. Open loop: oha -q RATE and
# fogg --rate RATE (one request per customer). Prints a table per mode
# with the median of the repetitions and fogg's ratios to oha.
# Needs nginx, wrk and time (Debian) and oha (crates.io); installs what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=${SECONDS_PER_RUN:-5}
REPS=${REPS:-3}
RATE=${RATE:-2000}
CONNECTIONS=${CONNECTIONS:-50}
PORT=${PORT:-18182}
TARGET="http://127.0.0.1:$PORT"

need_apt=()
[ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk > /dev/null || need_apt+=(wrk)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" > /dev/null
fi
command -v oha > /dev/null || cargo install oha --locked --quiet
cargo build --release --quiet
FOGG=./target/release/fogg
OUT=$(mktemp -d)

cat > "$OUT/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $OUT/body;
    proxy_temp_path $OUT/proxy;
    fastcgi_temp_path $OUT/fastcgi;
    uwsgi_temp_path $OUT/uwsgi;
    scgi_temp_path $OUT/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT;
        location / { return 200 "ok"; }
    }
}
EOF
/usr/sbin/nginx -c "$OUT/nginx.conf" -p "$OUT" &
NGINX=$!
trap 'kill $NGINX 2> /dev/null || true; wait 2> /dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null; then break; fi
    sleep 0.1
done

# The one-page journey, as a closed pool and at a constant rate.
sed 's/^max_in_flight = 100000$/max_in_flight = 100000\nprofile = { kind = "closed", customers = '"$CONNECTIONS"' }/' \
    benches/one-page.toml > "$OUT/closed.toml"
grep -q 'kind = "closed"' "$OUT/closed.toml"

# measure NAME COMMAND...: runs it under GNU time; prints its CPU seconds.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "%U %S" -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
    awk '{ printf "%.3f\n", $1 + $2 }' "$OUT/$name.time"
}
fogg_requests() { python3 -c "import json; print(json.load(open('$1'))['requests'])"; }
oha_requests() {
    python3 -c "import json; d=json.load(open('$1')); print(sum(d['statusCodeDistribution'].values()))"
}

# One line per generator, mode and repetition: "mode generator requests cpu".
results="$OUT/results"
: > "$results"
run_fogg() { # MODE NAME BINARY ARGS...
    local mode=$1 name=$2 bin=$3
    shift 3
    local cpu
    cpu=$(measure "$name" "$bin" load "$@" --target "$TARGET" --duration "${RUN}s" --grace 5s --format json --out "$OUT/r")
    echo "$mode $name $(fogg_requests "$OUT/$name.out") $cpu" >> "$results"
}
for rep in $(seq "$REPS"); do
    cpu=$(measure wrk wrk -t1 -c"$CONNECTIONS" -d"${RUN}s" "$TARGET/")
    echo "closed wrk $(awk '/requests in/ { print $1 }' "$OUT/wrk.out") $cpu" >> "$results"
    cpu=$(measure oha oha -z "${RUN}s" -c "$CONNECTIONS" --no-tui --output-format json "$TARGET/")
    echo "closed oha $(oha_requests "$OUT/oha.out") $cpu" >> "$results"
    run_fogg closed fogg "$FOGG" "$OUT/closed.toml"
    [ -z "${FOGG_BASELINE:-}" ] || run_fogg closed baseline "$FOGG_BASELINE" "$OUT/closed.toml"
    cpu=$(measure oha oha -z "${RUN}s" -q "$RATE" -c "$CONNECTIONS" --no-tui --output-format json "$TARGET/")
    echo "open oha $(oha_requests "$OUT/oha.out") $cpu" >> "$results"
    run_fogg open fogg "$FOGG" benches/one-page.toml --rate "$RATE"
    [ -z "${FOGG_BASELINE:-}" ] || run_fogg open baseline "$FOGG_BASELINE" benches/one-page.toml --rate "$RATE"
    echo "repetition $rep of $REPS done" >&2
done

echo "Target: nginx (1 worker, access log off) on loopback; $RUN s per run, $REPS interleaved repetitions, $(nproc) cores."
echo "Closed loop: $CONNECTIONS connections or customers, as fast as each can. Open loop: $RATE requests/s."
python3 - "$results" "$RUN" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
run = float(sys.argv[2])
for mode in ("closed", "open"):
    names = [n for n in dict.fromkeys(r[1] for r in rows if r[0] == mode)]
    print(f"\n{mode} loop (medians)\n")
    print("| generator | requests/s | CPU ms per 1,000 requests | requests/s per CPU core |")
    print("|---|---:|---:|---:|")
    med = {}
    for n in names:
        rs = [(int(r[2]), float(r[3])) for r in rows if r[0] == mode and r[1] == n]
        rate = statistics.median(q / run for q, _ in rs)
        per = statistics.median(c * 1e6 / q for q, c in rs)
        per_core = statistics.median(q / c for q, c in rs)
        med[n] = (rate, per, per_core)
        print(f"| {n} | {rate:,.0f} | {per:.1f} | {per_core:,.0f} |")
    if "oha" in med:
        for n in [n for n in names if n not in ("oha", "wrk")]:
            print(f"\n{n} CPU per request / oha's: {med[n][1] / med['oha'][1]:.2f}×; "
                  f"requests/s per core / oha's: {med[n][2] / med['oha'][2]:.2f}×")
EOF
