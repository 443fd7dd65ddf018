#!/usr/bin/env bash
# fogg against a real third-party app: a stock Django site with its admin
# (tests/django), SQLite, under gunicorn on loopback, both from PyPI in a
# throwaway venv. Each run is judged by the site's own evidence, never by
# fogg's report alone: gunicorn's access log (method, path and status of
# every request it served) and the groups in Django's database.
#
#   1. tests/django/admin-flow.toml, the right password: every login is a
#      302 to /admin/ in the log, every customer's group is a row in the
#      database, and fogg counted exactly the requests the log holds.
#   2. The same scenario with a wrong password: Django answers every login
#      with 200 and the form again. fogg must fail every login's
#      expect_redirect check and exit 1 on `errors{class=check} < 1`, its
#      report saying why (status 200, the check, the page Django sent
#      back, and not the password); the log holds no 302 for a login and
#      the database no new group.
#   3. The same visit recorded fresh by a real browser, twice: headless
#      Chromium through the project's CDP recorder (tools/har/record.mjs)
#      and through Playwright's recordHar (tools/har/record-playwright.mjs),
#      both following tests/django/record-flow.json. Each recording is
#      imported with `fogg import har` and replayed unchanged (only the
#      password comes from the environment): 0 errors, every login a 302
#      in the log, and as many new groups in the database as fogg sent.
#
#   scripts/django-admin.sh [FOGG] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fogg=$(realpath "${1:-./target/debug/fogg}")
out=${2:-reports/ci/django}
mkdir -p "$out"
out=$(realpath "$out")

source scripts/lib.sh

python3 -c 'import ensurepip' 2> /dev/null || apt_install python3-venv
venv=$(mktemp -d)
site=$(mktemp -d)
cleanup() {
    [ -n "${gunicorn_pid:-}" ] && kill "$gunicorn_pid" 2> /dev/null || true
    rm -rf "$venv" "$site"
}
trap cleanup EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'django==5.2.*' 'gunicorn==23.*'

cp -r tests/django/. "$site"
export FOGG_DJANGO_DB="$site/db.sqlite3"
export DJANGO_SETTINGS_MODULE=foggsite.settings
user=admin # the scenario's username
password="fogg-$RANDOM-$RANDOM"
(
    cd "$site"
    "$venv/bin/python" manage.py migrate -v 0
    DJANGO_SUPERUSER_PASSWORD="$password" "$venv/bin/python" manage.py createsuperuser \
        --noinput --username "$user" --email admin@example.com
)
port=$(free_port)
log="$out/access.log"
: > "$log"
(
    cd "$site"
    exec "$venv/bin/gunicorn" foggsite.wsgi --bind "127.0.0.1:$port" --workers 2 \
        --access-logfile "$log" --access-logformat '%(m)s %(U)s %(s)s' --error-logfile "$out/gunicorn.log"
) &
gunicorn_pid=$!
wait_http "http://127.0.0.1:$port/admin/login/"
# The readiness probe is not a customer's: once logged, it is emptied away.
for _ in $(seq 100); do
    [ -s "$log" ] && break
    sleep 0.1
done
: > "$log"

customers=12
# run NAME SCENARIO PASSWORD THRESHOLD...: one fogg run; the access log of
# its requests is left in $out/NAME.log, its JSON report in $out/NAME.json.
run() {
    local name=$1 scenario=$2 pass=$3
    shift 3
    local code=0
    FOGG_DJANGO_PASSWORD="$pass" HAR_PASSWORD="$pass" "$fogg" load "$scenario" \
        --target "http://127.0.0.1:$port" --customers "$customers" --rate 4 --duration 60s --grace 30s \
        "$@" --format json --out "$out/$name" > "$out/$name.json" || code=$?
    # gunicorn logs a request just after answering it: wait (at most 10 s)
    # for as many lines as fogg sent requests before taking the log.
    local sent
    sent=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"])' "$out/$name.json")
    for _ in $(seq 100); do
        [ "$(wc -l < "$log")" -ge "$sent" ] && break
        sleep 0.1
    done
    # gunicorn appends (O_APPEND): emptied, the log starts again at 0.
    cp "$log" "$out/$name.log"
    : > "$log"
    echo "$code"
}

good=$(run right-password tests/django/admin-flow.toml "$password" --threshold 'errors < 1')
bad=$(run wrong-password tests/django/admin-flow.toml "not-$password" --threshold 'errors{class=check} < 1')

# record NAME RECORDER: a fresh recording of the visit in $out/NAME.har,
# the server's log of it in $out/NAME-recording.log.
need node nodejs npm
need npm npm
(cd tools/har && npm ci --no-audit --no-fund --silent)
record() {
    local name=$1 recorder=$2
    FOGG_DJANGO_PASSWORD="$password" FOGG_DJANGO_GROUP="recorded-$name" \
        node_run "tools/har/$recorder" "http://127.0.0.1:$port" "$out/$name.har" tests/django/record-flow.json >&2
    # The logout is the visit's last request: logged, the visit is whole.
    for _ in $(seq 100); do
        grep -q '^POST /admin/logout/' "$log" && break
        sleep 0.1
    done
    cp "$log" "$out/$name-recording.log"
    : > "$log"
}
replays=()
for recorder in cdp:record.mjs playwright:record-playwright.mjs; do
    name=${recorder%%:*}
    record "$name" "${recorder#*:}"
    # Imported and replayed unchanged: no edit between the two.
    "$fogg" import har "$out/$name.har" -o "$out/$name.toml" > "$out/$name-import.txt"
    replays+=("$name" "$(run "$name-replay" "$out/$name.toml" "$password" --threshold 'errors < 1')")
done

FOGG_DJANGO_PASSWORD_SENT="not-$password" "$venv/bin/python" - "$out" "$customers" "$good" "$bad" "${replays[@]}" << 'PY'
import collections, json, sqlite3, sys, os
out, customers, good, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
replays = dict(zip(sys.argv[5::2], map(int, sys.argv[6::2])))
password = os.environ["FOGG_DJANGO_PASSWORD_SENT"]
failed = []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)

def served(name):
    lines = [l.split() for l in open(f"{out}/{name}.log") if l.strip()]
    return collections.Counter((m, path, status) for m, path, status in lines), len(lines)

def groups(run_id, prefix="fogg"):
    db = sqlite3.connect(os.environ["FOGG_DJANGO_DB"])
    return db.execute("select count(*) from auth_group where name like ?", (f"{prefix}-{run_id}-%",)).fetchone()[0]

# Run 1: the right password.
report = json.load(open(f"{out}/right-password.json"))
log, total = served("right-password")
run_id = report["traces"]["run_ids"][0]
check(good == 0, f"right password: fogg exits 0 (got {good})")
# fogg counts a request with the redirects it followed as one; the log
# has a line per hop: one more for each redirect served.
hops = sum(n for (m, path, status), n in log.items() if status.startswith("3"))
check(report["requests"] + hops == total,
      f"fogg counted {report['requests']} requests and followed {hops} redirects; the server logged {total}")
check(sum(report["errors"].values()) == 0, f"fogg saw no error: {report['errors']}")
check(log[("POST", "/admin/login/", "302")] == customers,
      f"server: {log[('POST', '/admin/login/', '302')]} of {customers} logins redirected (302)")
check(log[("POST", "/admin/auth/group/add/", "302")] == customers,
      f"server: {log[('POST', '/admin/auth/group/add/', '302')]} of {customers} groups saved (302)")
check(log[("POST", "/admin/logout/", "200")] == customers, f"server: {log[('POST', '/admin/logout/', '200')]} logouts")
check(groups(run_id) == customers, f"database: {groups(run_id)} groups named fogg-{run_id}-…, {customers} customers")
check(report["conversions"] == customers, f"fogg: {report['conversions']} conversions")

# Run 2: a wrong password, which Django answers with 200.
report = json.load(open(f"{out}/wrong-password.json"))
log, total = served("wrong-password")
run_id = report["traces"]["run_ids"][0]
sign_in = next(r for r in report["by_request"] if r["name"] == "sign_in")
check(bad == 1, f"wrong password: fogg exits 1 (got {bad})")
check(report["verdict"] == "fail", f"verdict {report['verdict']}")
check(log[("POST", "/admin/login/", "200")] == customers,
      f"server: {log[('POST', '/admin/login/', '200')]} of {customers} logins answered 200 with the form")
check(not any(k for k in log if k[0] == "POST" and k[2] == "302"), "server: no POST redirected")
check(sign_in["errors"]["check"] == customers, f"fogg: {sign_in['errors']['check']} of {customers} logins failed their check")
check(report["requests"] == total, f"fogg counted {report['requests']} requests, the server logged {total} (no redirect)")
check(groups(run_id) == 0, f"database: {groups(run_id)} groups from the failed run")
why = next(f for f in report["failures"] if f["request"] == "sign_in")
check(why["statuses"] == {"200": customers}, f"fogg's report: sign_in failed with statuses {why['statuses']}")
reason = 'expect_redirect = "/admin/": the first response was 200, not a redirect'
check(why["reasons"] == {reason: customers}, f"fogg's report says why: {why['reasons']}")
sample = why["samples"][0]
check("<title>Log in" in sample["body"] or "Log in |" in sample["body"],
      "fogg's report keeps the login form Django sent back")
check(all(password not in json.dumps(f) for f in report["failures"]), "no password in the report's samples")

# Run 3: fresh browser recordings, imported and replayed unchanged.
for name, code in replays.items():
    recorded, _ = served(f"{name}-recording")
    check(recorded[("POST", "/admin/login/", "302")] == 1 and recorded[("POST", "/admin/auth/group/add/", "302")] == 1,
          f"{name}: the browser signed in and added its group while recording")
    report = json.load(open(f"{out}/{name}-replay.json"))
    log, total = served(f"{name}-replay")
    run_id = report["traces"]["run_ids"][0]
    sent = {r["name"]: r["requests"] for r in report["by_request"]}
    check(code == 0, f"{name}: the imported recording replays with exit 0 (got {code})")
    check(sum(report["errors"].values()) == 0, f"{name}: fogg saw no error: {report['errors']}")
    hops = sum(n for (m, path, status), n in log.items() if status.startswith("3"))
    check(report["requests"] + hops == total,
          f"{name}: fogg counted {report['requests']} requests and followed {hops} redirects; the server logged {total}")
    logins = sent.get("post_admin_login", 0)
    check(logins > 0 and log[("POST", "/admin/login/", "302")] == logins,
          f"{name}: server: {log[('POST', '/admin/login/', '302')]} of {logins} logins fogg sent redirected (302)")
    added = sent.get("post_group_add", 0)
    check(added > 0 and log[("POST", "/admin/auth/group/add/", "302")] == added,
          f"{name}: server: {log[('POST', '/admin/auth/group/add/', '302')]} of {added} group forms fogg sent saved (302)")
    made = groups(run_id, f"recorded-{name}")
    check(made == added, f"{name}: database: {made} groups named recorded-{name}-{run_id}-…, {added} sent")
sys.exit(1 if failed else 0)
PY
