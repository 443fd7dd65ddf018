#!/usr/bin/env bash
# Forecast speed: the default scenario (retail-omnichannel) over a month
# (its calendar widened to 30 days from 2027-11-08, flights and adstock
# kept, about 222,000 customers) with 20 replicates at 5-minute bins,
# release build, three runs each. The baseline, measured in the same run:
# `fogg simulate` of as many customers as the 20 replicates walk. Prints
# the wall time of each command (reports written) and the ratio. A second
# forecast has social drive share instead of acquisition, so its flight
# moves transitions minute by minute (the expected traffic then takes the
# chain's steps one at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed 's/^days = 8$/days = 30/; s/^start = "2027-11-22"$/start = "2027-11-08"/' \
    scenarios/retail-omnichannel.toml > "$dir/retail-month.toml"
sed 's/baseline = 20000, half_saturation = 30000, drives = "acquisition"/baseline = 20000, half_saturation = 30000, drives = "share"/' \
    "$dir/retail-month.toml" > "$dir/retail-month-share.toml"
grep -q 'drives = "share"' "$dir/retail-month-share.toml"
cp scenarios/catalogue.csv "$dir/"
fogg=./target/release/fogg
"$fogg" forecast "$dir/retail-month.toml" --replicates 1 --format json --out "$dir/r" > "$dir/one.json" 2>/dev/null
customers=$(awk -F': ' '/"expected_customers":/ { gsub(/,/, "", $2); printf "%d", $2; exit }' "$dir/one.json")
walked=$((customers * 20))
echo "one replicate: $customers customers; 20 replicates walk about $walked"
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk "BEGIN { printf \"%.3f\", $e - $s }"; }
for run in 1 2 3; do
    f=$(t "$fogg" forecast "$dir/retail-month.toml" --replicates 20 --out "$dir/r" 2>/dev/null)
    m=$(t "$fogg" forecast "$dir/retail-month-share.toml" --replicates 20 --out "$dir/r" 2>/dev/null)
    s=$(t "$fogg" simulate -n "$walked" --out "$dir/r" 2>/dev/null)
    echo "run $run: forecast ${f} s · with a share flight ${m} s · simulate of $walked customers ${s} s · ratios $(awk "BEGIN { printf \"%.1f and %.1f\", $f / $s, $m / $s }")"
done
