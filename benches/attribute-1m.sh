#!/usr/bin/env bash
# Attribution speed: one million distinct paths (12 channels, up to 7
# touches each, every path distinct) through `fogg attribute` at orders 1
# and 3, release
# build. Prints the wall time of the run and of reading the file alone
# (`wc -l`), the baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk 'BEGIN {
    print "path;total_conversions;total_conversion_value;total_null"
    srand(7)
    for (i = 0; i < 1000000; i++) {
        n = i; path = ""
        do { c = n % 12; n = int(n / 12); path = path (path == "" ? "" : " > ") "ch" c } while (n > 0)
        conv = int(rand() * 3); null = 1 + int(rand() * 20)
        printf "%s;%d;%.2f;%d\n", path, conv, conv * 50 * rand(), null
    }
}' > "$dir/paths.csv"
echo "$(wc -l < "$dir/paths.csv") lines, $(du -h "$dir/paths.csv" | cut -f1)"
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk "BEGIN { printf \"%.3f\", $e - $s }"; }
echo "read the file (wc -l): $(t wc -l "$dir/paths.csv") s"
echo "fogg attribute:        $(t ./target/release/fogg attribute --paths "$dir/paths.csv" --out "$dir/reports") s"
echo "fogg attribute --order 3: $(t ./target/release/fogg attribute --paths "$dir/paths.csv" --order 3 --out "$dir/reports") s"
