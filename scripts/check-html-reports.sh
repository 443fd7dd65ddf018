#!/usr/bin/env bash
# Opens every HTML report in a folder with headless Chromium, as a person
# would see it, and fails when a page logs anything to the console (a
# script error, a blocked network request) or when one of its charts drew
# nothing. Saves a screenshot of each page.
#
#   scripts/check-html-reports.sh REPORT_DIR SCREENSHOT_DIR
#
# Every page carries a content security policy that forbids network
# requests, and a few lines of script that count, after layout, the charts
# whose paths have a non-empty box into data-charts-drawn="DRAWN/ALL".
set -euo pipefail

dir=${1:?usage: check-html-reports.sh REPORT_DIR SCREENSHOT_DIR}
shots=${2:?usage: check-html-reports.sh REPORT_DIR SCREENSHOT_DIR}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "error: chromium is not installed (apt-get install chromium)" >&2
    exit 2
fi
mkdir -p "$shots"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions)

failed=0
pages=0
for page in "$dir"/*.html; do
    [ -e "$page" ] || continue
    pages=$((pages + 1))
    name=$(basename "$page" .html)
    url="file://$(realpath "$page")"
    log=$(mktemp)
    dom=$(timeout 120 "$browser" "${flags[@]}" --window-size=1400,2400 --enable-logging=stderr --v=0 \
        --virtual-time-budget=5000 --dump-dom "$url" 2>"$log")
    drawn=$(grep -o 'data-charts-drawn="[0-9]*/[0-9]*"' <<<"$dom" | cut -d'"' -f2 || true)
    console=$(grep -E 'CONSOLE|Refused to|Content Security Policy' "$log" || true)
    rm -f "$log"
    problem=""
    if [ -z "$drawn" ]; then
        problem="the page's check never ran"
    elif [ "${drawn%/*}" != "${drawn#*/}" ]; then
        problem="only $drawn charts drew something"
    elif [ "${drawn#*/}" = 0 ] && [[ "$name" != compare-* ]]; then
        problem="no chart at all"
    fi
    if [ -n "$console" ]; then
        problem="${problem:+$problem; }console output: $console"
    fi
    timeout 120 "$browser" "${flags[@]}" --window-size=1280,2400 \
        --screenshot="$shots/$name.png" "$url" >/dev/null 2>&1 || true
    if [ -n "$problem" ]; then
        echo "FAIL $name: $problem" >&2
        failed=$((failed + 1))
    else
        echo "ok   $name: charts drawn $drawn, no console output, screenshot $shots/$name.png"
    fi
done
if [ "$pages" = 0 ]; then
    echo "error: no HTML report in $dir" >&2
    exit 2
fi
[ "$failed" = 0 ]
