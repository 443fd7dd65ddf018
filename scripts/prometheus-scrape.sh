#!/usr/bin/env bash
# fogg's --metrics scraped by a real Prometheus (Debian's package,
# installed when missing): Prometheus scrapes a load run every second on
# loopback, and once the run is over its own query API must give the same
# totals as fogg's JSON report: requests summed over every name and
# outcome, and the latency histogram's count against the successful
# requests.
#
#   scripts/prometheus-scrape.sh [FOGG] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fogg=${1:-./target/debug/fogg}
out=${2:-reports/ci/prometheus}
mkdir -p "$out"

if ! command -v prometheus > /dev/null; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port)
prom_port=$(free_port)
cat > "$out/prometheus.yml" << YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fogg
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YML
rm -rf "$out/data"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/data" \
    --web.listen-address="127.0.0.1:$prom_port" > "$out/prometheus.log" 2>&1 &
prom=$!
trap 'kill $prom 2> /dev/null || true' EXIT
api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$prom_port/-/ready" > /dev/null && break
    sleep 0.2
done

"$fogg" load --duration 12s --grace 5s --rate 30 --metrics "127.0.0.1:$metrics_port" \
    --format json --out "$out" > "$out/load.json"

# Each series at its last value (counters only grow), summed.
query() {
    curl -fsG "$api/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else -1)'
}
scraped_requests=$(query 'sum(max_over_time(fogg_requests_total[10m]))')
scraped_latencies=$(query 'sum(max_over_time(fogg_request_duration_seconds_count[10m]))')
read -r requests successful < <(python3 -c "
import json
r = json.load(open('$out/load.json'))
print(r['requests'], r['requests'] - sum(r['errors'].values()) - r['requests_unfinished'])")
echo "fogg JSON: $requests requests, $successful successful; Prometheus: $scraped_requests requests, $scraped_latencies latencies"
[ "$requests" -gt 0 ]
[ "$scraped_requests" = "$requests" ]
[ "$scraped_latencies" = "$successful" ]
