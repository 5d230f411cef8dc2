#!/usr/bin/env bash
# redis plugin integration test: run.sh REDIS_WORKLOAD
#
# Starts redis-server on a free loopback port (temp dir, no persistence), runs the workload
# program once (a fixed mix of sync, argv, pipelined and async hiredis calls through the promex
# adapter, with error replies and a refused connection), lets Debian's prometheus scrape it, and
# checks through PromQL that the counts are exactly the mix's. Everything started is stopped on
# exit. Exit 77 = skipped (redis-server, prometheus, curl or python3 missing).
set -euo pipefail

WORKLOAD=${1:?usage: run.sh REDIS_WORKLOAD}
for tool in redis-server prometheus curl python3; do
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
  for f in redis.log workload.out workload.err prom.log; do
    echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2 2>/dev/null || true
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1 &
pids+=($!)
python3 - "$redis_port" <<'PY' || fail "redis-server did not start"
import socket, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        s.sendall(b"PING\r\n")
        if s.recv(16).startswith(b"+PONG"):
            sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY

PMX_TEST_REDIS_PORT=$redis_port "$WORKLOAD" --port 0 --once >"$tmp/workload.out" \
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
  - job_name: redisit
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
P=redisit_prom_ex_redis
D="${P}_command_duration_seconds_count"
check 'up{job="redisit"}' 1
check "sum($D)" 41
check "sum($D{command=\"SET\"})" 16
check "sum($D{command=\"GET\"})" 14
check "sum($D{command=\"INCR\"})" 2
check "sum($D{command=\"LPUSH\"})" 1
check "sum($D{command=\"other\"})" 1
check "sum($D{command=\"DEL\"})" 3
check "sum($D{command=\"PING\"})" 4
check "sum(${P}_command_duration_seconds_bucket{le=\"+Inf\"})" 41
check "sum(${P}_command_errors_total)" 4
check "sum(${P}_command_errors_total{command=\"INCR\",class=\"ERR\"})" 2
check "sum(${P}_command_errors_total{command=\"LPUSH\",class=\"WRONGTYPE\"})" 1
check "sum(${P}_command_errors_total{command=\"other\",class=\"ERR\"})" 1
check "sum(${P}_pipeline_commands_count)" 2
check "sum(${P}_pipeline_commands_sum)" 10
check "sum(${P}_connection_events_total{event=\"connect\"})" 2
check "sum(${P}_connection_events_total{event=\"connect_error\"})" 1
check "sum(${P}_connection_events_total{event=\"disconnect\"})" 2
check "sum(${P}_connections)" 0
echo "PASS"
