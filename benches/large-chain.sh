#!/usr/bin/env bash
# Exact answers of large chains: generates a scenario of N states (default
# 65,534, the most a scenario holds), each leading to three random states
# and the exit, and a single N-state cycle; times `fogg validate` and
# `fogg simulate` on each with their peak memory (max RSS). Chains above
# model::exact::DENSE_STATES states are solved by sparse iteration with a
# proven stopping rule. The baseline of the same run: a 400-state chain,
# which is solved densely.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
n=${1:-65534}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# random N: a funnel of N states in five stages and eight channels.
random_chain() {
  awk -v n="$1" 'BEGIN {
    srand(5)
    print "[scenario]\nname = \"large\"\nstages = [\"a\", \"b\", \"c\", \"d\", \"e\"]"
    for (c = 0; c < 8; c++) printf "[[channel]]\nid = \"c%d\"\nkind = \"online\"\n", c
    print "[entry]"
    for (i = 0; i < 20 && i < n; i++) printf "s%d = 1\n", i * int(n / 20)
    for (i = 0; i < n; i++) {
      printf "[[state]]\nid = \"s%d\"\nstage = \"%s\"\nchannel = \"c%d\"\n", i, substr("abcde", i % 5 + 1, 1), i % 8
      if (i % 97 == 0) print "conversion = true\nvalue = { dist = \"constant\", value = 50 }"
      a = int(rand() * n); b = int(rand() * n); c = int(rand() * n)
      row = sprintf("s%d = %d", a, 1 + int(rand() * 9))
      if (b != a) row = row sprintf(", s%d = %d", b, 1 + int(rand() * 9))
      if (c != a && c != b) row = row sprintf(", s%d = %d", c, 1 + int(rand() * 9))
      printf "next = { %s, exit = 3 }\n", row
    }
  }'
}

# cycle N: s0 → s1 → … → s0, each leaving with probability 1/100.
cycle() {
  awk -v n="$1" 'BEGIN {
    print "[scenario]\nname = \"cycle\"\nstages = [\"a\"]\n[[channel]]\nid = \"web\"\nkind = \"online\"\n[entry]\ns0 = 1"
    for (i = 0; i < n; i++) {
      printf "[[state]]\nid = \"s%d\"\nstage = \"a\"\nchannel = \"web\"\n", i
      if (i % 100 == 0) print "conversion = true"
      printf "next = { s%d = 99, exit = 1 }\n", (i + 1) % n
    }
  }'
}

measure() {
  local label=$1 file=$2
  for command in "validate $file" "simulate $file -n 200000 --out $dir"; do
    local line
    line=$( { /usr/bin/time -f "%e %M" ./target/release/fogg $command > /dev/null 2> "$dir/err"; } 2>&1; tail -1 "$dir/err")
    printf "%-28s %-9s %8s s %8.0f MB\n" "$label" "${command%% *}" "${line% *}" "$(awk "BEGIN { print ${line#* } / 1024 }")"
  done
}

random_chain 400 > "$dir/dense.toml"
random_chain "$n" > "$dir/random.toml"
cycle "$n" > "$dir/cycle.toml"
measure "random, 400 states (dense)" "$dir/dense.toml"
measure "random, $n states" "$dir/random.toml"
measure "cycle, $n states" "$dir/cycle.toml"
