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
source "$(dirname "$0")/../lib/harness.sh"

WORKLOAD=${1:?usage: run.sh WORKLOAD SERVER_PY}
SERVER_PY=${2:?usage: run.sh WORKLOAD SERVER_PY}
it_need prometheus curl python3 openssl
it_init server.err workload.out workload.err

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
it_bg python3 "$SERVER_PY" "$tmp/ports" "$tmp/cert.pem" "$tmp/key.pem" 2>"$tmp/server.err"
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
[ -s "$tmp/ports" ] || fail "server.py did not start"
read -r http_port https_port <"$tmp/ports"
refused_port=$(free_port)

it_bg "$WORKLOAD" "$http_port" "$https_port" "$tmp/cert.pem" "$refused_port" \
  >"$tmp/workload.out" 2>"$tmp/workload.err"
port=$(it_banner_port "$tmp/workload.out" "$!")
it_prometheus hcit "$port"
P=hcit_prom_ex_http_client
check() { it_check "$@"; }
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
