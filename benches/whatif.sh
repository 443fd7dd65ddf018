#!/usr/bin/env bash
# What-if speed: `fogg whatif` on the default scenario (4 strategies plus
# the baseline, each walked by the same customers and paired with the
# baseline's walk) against `fogg simulate` of the same customers, the
# baseline measured in the same run. Release build, all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
n=${1:-10M}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); awk "BEGIN { printf \"%.3f\", $e - $s }"; }
sim=$(t ./target/release/fogg simulate -n "$n" --out "$dir")
whatif=$(t ./target/release/fogg whatif -n "$n" --out "$dir")
curve=$(t ./target/release/fogg whatif -n 1k --curve social --points 101 --out "$dir")
alloc=$(t ./target/release/fogg whatif -n 1k --allocate 65000 --out "$dir")
echo "fogg simulate -n $n:                 $sim s"
echo "fogg whatif -n $n (4 strategies):    $whatif s  ($(awk "BEGIN { printf \"%.1f\", $whatif / $sim }")× simulate; each customer walks 5 journeys)"
echo "fogg whatif --curve social --points 101: $curve s (exact)"
echo "fogg whatif --allocate 65000:          $alloc s (exact, 3 channels)"
