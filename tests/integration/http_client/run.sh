#!/usr/bin/env bash
# http_client integration test: run.sh WORKLOAD_BINARY SERVER_PY
#
# Starts server.py (HTTP and HTTPS with a fresh self-signed certificate, loopback, free ports),
# runs the workload program (a fixed mix of libcurl transfers through the promex adapter: 2xx,
# 4xx, 5xx, followed redirects, TLS, the multi interface, a timeout and a refused connection),
# starts Debian's prometheus scraping it every second, and checks through PromQL that the
# scraped counts are exactly the mix's. Every process is stopped on exit (trap).
# Exit 77 = skipped (a tool is missing).
set -euo pipefail

WORKLOAD=${1:?usage: run.sh WORKLOAD SERVER_PY}
SERVER_PY=${2:?usage: run.sh WORKLOAD SERVER_PY}
for tool in prometheus curl python3 openssl; do
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
  for f in server.err workload.out workload.err prom.log; do
    echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2 2>/dev/null || true
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
python3 "$SERVER_PY" "$tmp/ports" "$tmp/cert.pem" "$tmp/key.pem" 2>"$tmp/server.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
[ -s "$tmp/ports" ] || fail "server.py did not start"
read -r http_port https_port <"$tmp/ports"
refused_port=$(free_port)

"$WORKLOAD" "$http_port" "$https_port" "$tmp/cert.pem" "$refused_port" \
  >"$tmp/workload.out" 2>"$tmp/workload.err" &
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
  - job_name: hcit
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
P=hcit_prom_ex_http_client
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
check 'up{job="hcit"}' 1
D="${P}_request_duration_seconds_count"
check "sum($D{scheme=\"http\",status=\"200\",host=\"127.0.0.1\",port=\"$http_port\",method=\"GET\"})" 11
check "sum($D{scheme=\"http\",status=\"404\"})" 2
check "sum($D{scheme=\"http\",status=\"500\"})" 3
check "sum($D{scheme=\"https\",status=\"200\",port=\"$https_port\"})" 3
check "sum(${P}_request_duration_seconds_bucket{le=\"+Inf\"})" 19
check "sum(${P}_request_exceptions_total{reason=\"OPERATION_TIMEDOUT\"})" 1
check "sum(${P}_request_exceptions_total{reason=\"COULDNT_CONNECT\",port=\"$refused_port\"})" 2
check "count(${P}_request_exceptions_total)" 2
check "sum(${P}_request_redirects_total)" 2
check "sum(${P}_request_connections_total{scheme=\"http\"})" 16
check "sum(${P}_request_connections_total{scheme=\"https\",connection=\"new\"})" 1
check "sum(${P}_request_connections_total{scheme=\"https\",connection=\"reused\"})" 2
check "sum(${P}_request_connections_total{scheme=\"http\",connection=\"reused\"}) >= bool 11" 1
check "sum(${P}_request_phase_duration_seconds_count{phase=\"tls\"})" 1
check "sum(${P}_request_phase_duration_seconds_count{phase=\"redirect\"})" 2
check "sum(${P}_request_phase_duration_seconds_count{phase=\"wait\"})" 19
check "sum(${P}_request_phase_duration_seconds_count{phase=\"dns\"}) == bool sum(${P}_request_connections_total{connection=\"new\"})" 1
check "sum(${P}_request_size_bytes_count)" 19
check "sum(${P}_response_size_bytes_sum{status=\"404\"}) > bool 24" 1
check "${P}_library_info{job=\"hcit\"}" 1
echo "PASS"
