# Shared by the scripts that drive real components (Prometheus, Chromium,
# Node): sourced, not run.

# apt_install PACKAGE...: installs Debian packages.
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# need COMMAND PACKAGE...: installs the Debian packages when COMMAND is
# missing.
need() {
    local command=$1
    shift
    command -v "$command" > /dev/null && return 0
    apt_install "$@"
}

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# node_run SCRIPT ARGS...: runs a Node script with WebSocket available
# (built in from Node 22; behind a flag in 20 and 21), installing Node
# when missing.
node_run() {
    need node nodejs npm
    need npm npm
    local flags=()
    if [ "$(node -e 'process.stdout.write(typeof WebSocket)')" != function ]; then
        flags=(--experimental-websocket)
    fi
    node "${flags[@]}" "$@"
}

# wait_http URL: waits (at most 20 s) until URL answers.
wait_http() {
    for _ in $(seq 200); do
        curl -fs "$1" > /dev/null && return 0
        sleep 0.1
    done
    echo "error: nothing answered at $1" >&2
    return 1
}

# start_prometheus DIR PORT SCRAPED_ADDR: starts Prometheus on loopback
# PORT, scraping SCRAPED_ADDR every second (job "scrape") and taking remote
# writes, its config, data and log in DIR; sets prometheus_pid and waits
# until it is ready.
start_prometheus() {
    local dir=$1 port=$2 scraped=$3
    cat > "$dir/prometheus.yml" << YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: scrape
    static_configs:
      - targets: ["$scraped"]
YML
    rm -rf "$dir/data"
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
        > "$dir/prometheus.log" 2>&1 &
    prometheus_pid=$!
    wait_http "http://127.0.0.1:$port/-/ready"
}
