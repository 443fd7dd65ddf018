#!/usr/bin/env bash
# fogg's live series in a real Prometheus (Debian's package, installed
# when missing): Prometheus scrapes a load run's --metrics every second on
# loopback while fogg also pushes the same series to its remote-write
# receiver (--prometheus-remote-write). Once the run is over, Prometheus's
# own query API must give, for the scraped series and for the pushed ones
# alike, the totals of fogg's JSON report: requests summed over every name
# and outcome, and the latency histogram's count against the successful
# requests. promtool (same package) lints a plain scrape of the run.
#
#   scripts/prometheus-scrape.sh [FOGG] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fogg=${1:-./target/debug/fogg}
out=${2:-reports/ci/prometheus}
mkdir -p "$out"

source scripts/lib.sh

need prometheus prometheus
need promtool prometheus
metrics_port=$(free_port)
prom_port=$(free_port)
start_prometheus "$out" "$prom_port" "127.0.0.1:$metrics_port"
trap 'kill $prometheus_pid 2> /dev/null || true' EXIT
api="http://127.0.0.1:$prom_port/api/v1"

"$fogg" load --duration 12s --grace 5s --rate 30 --metrics "127.0.0.1:$metrics_port" \
    --prometheus-remote-write "http://127.0.0.1:$prom_port/api/v1/write" \
    --format json --out "$out" > "$out/load.json" &
fogg_pid=$!

# promtool lints the classic text a plain scrape gets (once requests
# have been counted): it must find nothing.
for _ in $(seq 100); do
    if curl -fs "http://127.0.0.1:$metrics_port/metrics" > "$out/classic.txt" &&
        grep -q '^fogg_requests_total{.*outcome="ok"} [1-9]' "$out/classic.txt"; then
        break
    fi
    sleep 0.1
done
grep -q '^# TYPE fogg_requests_total counter$' "$out/classic.txt"
findings=$(promtool check metrics < "$out/classic.txt" 2>&1) || true
if [ -n "$findings" ]; then
    echo "promtool check metrics found:" >&2
    echo "$findings" >&2
    exit 1
fi
echo "promtool check metrics: no finding on $(grep -vc '^#' "$out/classic.txt") samples"
wait "$fogg_pid"

# Each series at its last value (counters only grow), summed.
query() {
    curl -fsG "$api/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else -1)'
}
read -r requests successful < <(python3 -c "
import json
r = json.load(open('$out/load.json'))
print(r['requests'], r['requests'] - sum(r['errors'].values()) - r['requests_unfinished'])")
[ "$requests" -gt 0 ]
for job in scrape fogg; do
    got_requests=$(query "sum(max_over_time(fogg_requests_total{job=\"$job\"}[10m]))")
    got_latencies=$(query "sum(max_over_time(fogg_request_duration_seconds_count{job=\"$job\"}[10m]))")
    how=$([ "$job" = scrape ] && echo scraped || echo pushed)
    echo "fogg JSON: $requests requests, $successful successful; Prometheus, $how: $got_requests requests, $got_latencies latencies"
    [ "$got_requests" = "$requests" ]
    [ "$got_latencies" = "$successful" ]
done

# Every query of the Grafana dashboard (deploy/grafana/fogg-run.json), its
# variables set to "all", must run on this Prometheus and find series.
python3 - "$api" deploy/grafana/fogg-run.json << 'PY'
import json, sys, urllib.parse, urllib.request
api, path = sys.argv[1], sys.argv[2]
dashboard = json.load(open(path))
failed = 0
queries = 0
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        expr = (target["expr"].replace("$scenario", ".*").replace("$shard", ".*")
                .replace("$__rate_interval", "1m"))
        url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})
        answer = json.load(urllib.request.urlopen(url))
        queries += 1
        if answer["status"] != "success" or not answer["data"]["result"]:
            print(f"FAIL Grafana panel {panel['title']!r}: {expr} -> {answer}", file=sys.stderr)
            failed += 1
print(f"Grafana dashboard: {queries - failed} of {queries} queries found series")
sys.exit(1 if failed else 0)
PY
