#!/usr/bin/env bash
# The promex demo, end to end: installs the Debian packages, builds (build dir `build`), starts
# the demo program and a local Prometheus scraping it every 5 s, prints where to look, and on
# Ctrl-C stops both cleanly.
#
#   scripts/demo.sh [--port N]        (demo metrics port, default 4021)
#
# Everything listens on 127.0.0.1 only. Prometheus keeps its data in a temporary directory that
# is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="${PMX_BUILD_DIR:-$root/build}"   # override for a private build directory
demo_port=4021
if [ "${1:-}" = "--port" ] && [ -n "${2:-}" ]; then demo_port=$2; fi

"$root/scripts/install-deps"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target demo -j"$(nproc)"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
port_busy() {
  python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}
prom_port=9090
if port_busy "$prom_port"; then prom_port=$(free_port); fi
if port_busy "$demo_port"; then
  echo "demo.sh: port $demo_port is in use; pass --port N" >&2
  exit 1
fi

tmp=$(mktemp -d)
demo_pid=""
prom_pid=""
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo.sh: stopping"
  for pid in $demo_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $demo_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$build/examples/demo" --port "$demo_port" --bind 127.0.0.1 &
demo_pid=$!

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: promex_demo
    static_configs:
      - targets: ["127.0.0.1:$demo_port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --enable-feature=native-histograms \
  --log.level=warn >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!

sleep 1
kill -0 "$demo_pid" 2>/dev/null || { echo "demo.sh: the demo did not start" >&2; exit 1; }
kill -0 "$prom_pid" 2>/dev/null || { echo "demo.sh: prometheus did not start:" >&2; cat "$tmp/prometheus.log" >&2; exit 1; }

cat <<INFO

  promex demo is running.
    metrics:     http://127.0.0.1:$demo_port/metrics
    Prometheus:  http://127.0.0.1:$prom_port  (targets: /targets)
    try:         rate(demo_prom_ex_demo_jobs_total[1m])
                 histogram_quantile(0.9, sum(rate(demo_prom_ex_demo_job_duration_seconds[1m])))
                 (a native histogram: Prometheus runs with --enable-feature=native-histograms and
                 scrapes protobuf; the classic _bucket series are in the text exposition)
  Ctrl-C stops both.

INFO
wait "$demo_pid"
