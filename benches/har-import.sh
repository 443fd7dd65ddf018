#!/usr/bin/env bash
# `fogg import har` on a large recording: ENTRIES requests (default
# 3,000; every tenth a page), each answering a JSON body of 100 values,
# each request sending back one value of the response before it, so that
# every one becomes a capture. Prints the time, against the time to read
# the same file as JSON (python3) as a baseline measured in the same run.
#
#   benches/har-import.sh            # 3,000 entries, 300,000 values
#   ENTRIES=10000 benches/har-import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${ENTRIES:-3000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --release --quiet
python3 - "$entries" "$out/big.har" << 'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
entries = []
for i in range(n):
    body = json.dumps({f"k{j}": f"v{i:06d}x{j:03d}" for j in range(100)})
    entries.append({
        "startedDateTime": f"2026-11-30T{10 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000Z", "time": 10,
        "_resourceType": "document" if i % 10 == 0 else "fetch",
        "request": {"method": "GET" if i % 10 == 0 else "POST",
                    "url": f"http://127.0.0.1:8080/p{i % 10}?x=v{max(i - 1, 0):06d}x007", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json", "text": body}}})
json.dump({"log": {"version": "1.2", "entries": entries}}, open(path, "w"))
PY
start=$(date +%s.%N)
python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$out/big.har"
read_s=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
./target/release/fogg import har "$out/big.har" -o "$out/big.toml" | sed -n 2p
import_s=$(echo "$(date +%s.%N) - $start" | bc)
awk -v n="$entries" -v s="$(du -m "$out/big.har" | cut -f1)" -v r="$read_s" -v i="$import_s" \
    'BEGIN { printf "%d entries (%d MB): python3 json.load %.2f s, fogg import har %.2f s (%.1f× the read)\n", n, s, r, i, i / r }'
