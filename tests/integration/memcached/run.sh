#!/usr/bin/env bash
# memcached plugin integration test: run.sh MEMCACHED_WORKLOAD
#
# Starts memcached on a free loopback port, runs the workload program once (a fixed mix of
# libmemcached calls through the promex adapter: hits, misses, not-stored, errors and a refused
# server), lets Debian's prometheus scrape it, and checks through PromQL that the counts are
# exactly the mix's. Everything started is stopped on exit. Exit 77 = skipped (memcached,
# prometheus, curl or python3 missing).
set -euo pipefail

WORKLOAD=${1:?usage: run.sh MEMCACHED_WORKLOAD}
for tool in memcached prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in memcached.log workload.out workload.err prom.log; do
    echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2 2>/dev/null || true
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

mc_port=$(free_port)
memcached -u root -l 127.0.0.1 -p "$mc_port" -U 0 >"$tmp/memcached.log" 2>&1 &
pids+=($!)
python3 - "$mc_port" <<'PY' || fail "memcached did not start"
import socket, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        s.sendall(b"version\r\n")
        if s.recv(32).startswith(b"VERSION"):
            sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY

PMX_TEST_MEMCACHED_PORT=$mc_port "$WORKLOAD" --port 0 --once >"$tmp/workload.out" \
  2>"$tmp/workload.err" &
pids+=($!)
wl_pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/workload.out")
  [ -n "$port" ] && break
  kill -0 "$wl_pid" 2>/dev/null || fail "the workload exited early"
  sleep 0.1
done
[ -n "$port" ] || fail "the workload did not finish"

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: mcit
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
pids+=($!)

query() {
  { curl -s --noproxy '*' --max-time 5 --data-urlencode "query=$1" \
      "http://127.0.0.1:$prom_port/api/v1/query" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
    res = r["data"]["result"] if r.get("status") == "success" else []
    print(res[0]["value"][1] if len(res) == 1 else "none")
except Exception:
    print("none")'
  } || true
}
check() { # check EXPR WANT (retried for up to 30 s while Prometheus starts and scrapes)
  local v
  for _ in $(seq 60); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}
P=mcit_prom_ex_memcached
D="${P}_command_duration_seconds_count"
check 'up{job="mcit"}' 1
check "sum($D)" 31
check "sum($D{command=\"set\",result=\"ok\"})" 11
check "sum($D{command=\"get\",result=\"hit\"})" 5
check "sum($D{command=\"get\",result=\"miss\"})" 3
check "sum($D{command=\"get\",result=\"error\"})" 1
check "sum($D{command=\"add\",result=\"not_stored\"})" 2
check "sum($D{command=\"add\",result=\"ok\"})" 1
check "sum($D{command=\"replace\",result=\"not_stored\"})" 1
check "sum($D{command=\"delete\"})" 2
check "sum($D{command=\"increment\",result=\"hit\"})" 2
check "sum($D{command=\"increment\",result=\"error\"})" 1
check "sum(${P}_command_duration_seconds_bucket{le=\"+Inf\"})" 31
check "sum(${P}_cache_hits_total)" 10
check "sum(${P}_cache_hits_total{command=\"get\"})" 5
check "sum(${P}_cache_misses_total)" 4
check "sum(${P}_cache_misses_total{command=\"delete\"})" 1
check "sum(${P}_command_errors_total)" 2
check "sum(${P}_command_errors_total{command=\"get\",code=\"CONNECTION_FAILURE\"})" 1
check "count(${P}_command_errors_total{command=\"increment\",code!=\"OTHER\"})" 1
echo "PASS"
