#!/usr/bin/env bash
# Prometheus integration test: run.sh DEMO_BINARY [plain|bearer]
#
# Starts the demo on a free loopback port doing exactly N jobs (every tenth fails), starts Debian's
# prometheus scraping it every second (with `authorization: {credentials: ...}` in bearer mode,
# where the demo requires the token), waits for scrapes, then asserts through /api/v1/query that
# up == 1 and that the PromQL results equal the counts the demo produced. Both processes are
# always stopped (trap). Exit 77 = skipped (missing tools).
set -euo pipefail

DEMO=${1:?usage: run.sh DEMO_BINARY [plain|bearer]}
MODE=${2:-plain}
N=50
EXPECT_OK=$((N - N / 10))
EXPECT_FAILED=$((N / 10))
WORKERS=3

for tool in prometheus promtool curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
demo_pid=""
prom_pid=""
cleanup() {
  for pid in $demo_pid $prom_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $demo_pid $prom_pid; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
fail() {
  echo "FAIL: $*" >&2
  echo "--- demo stderr" >&2; cat "$tmp/demo.err" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}

demo_port=$(free_port)
prom_port=$(free_port)
demo_args=(--port "$demo_port" --bind 127.0.0.1 --jobs "$N" --workers "$WORKERS")
curl_auth=()
auth_yaml=""
if [ "$MODE" = bearer ]; then
  token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  demo_args+=(--auth-token "$token")
  curl_auth=(-H "Authorization: Bearer $token")
  auth_yaml="    authorization:
      credentials: $token"
fi

"$DEMO" "${demo_args[@]}" >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo_pid=$!

metrics_url="http://127.0.0.1:$demo_port/metrics"
for _ in $(seq 100); do
  curl -sf "${curl_auth[@]}" -o /dev/null "$metrics_url" && break
  kill -0 "$demo_pid" 2>/dev/null || fail "demo exited early"
  sleep 0.1
done
curl -sf "${curl_auth[@]}" -o "$tmp/scrape.txt" "$metrics_url" || fail "demo does not answer on $metrics_url"
promtool check metrics <"$tmp/scrape.txt" || fail "promtool check metrics reported problems"
if [ "$MODE" = bearer ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' "$metrics_url")
  [ "$code" = 401 ] || fail "scrape without token answered $code, want 401"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$metrics_url")
  [ "$code" = 401 ] || fail "scrape with a wrong token answered $code, want 401"
fi

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: promex_demo
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$demo_port"]
$auth_yaml
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "bad generated prometheus config"

prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

# query EXPR -> prints the single result's value, or "none" (never fails: Prometheus may still be
# starting).
query() {
  { curl -s --max-time 5 --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query" |
    python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
    res = r["data"]["result"] if r.get("status") == "success" else []
    print(res[0]["value"][1] if len(res) == 1 else "none")
except Exception:
    print("none")'
  } || true
}

# Wait until Prometheus has scraped the demo after all N jobs finished.
jobs_q='sum(demo_prom_ex_demo_jobs_total{job="promex_demo"})'
got=none
for _ in $(seq 90); do
  kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
  got=$(query "$jobs_q")
  [ "$got" = "$EXPECT_OK" ] && break
  sleep 0.5
done

check() { # check EXPR WANT: retried for up to 12 s (polled plugin values settle within a poll)
  local v
  for _ in $(seq 24); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}
check "$jobs_q" "$EXPECT_OK"
check 'up{job="promex_demo"}' 1
check 'sum(demo_prom_ex_demo_job_exceptions_total{job="promex_demo"})' "$EXPECT_FAILED"
check 'sum(demo_prom_ex_demo_job_duration_seconds_count{job="promex_demo"})' "$EXPECT_OK"
check 'sum(demo_prom_ex_demo_job_duration_seconds_bucket{job="promex_demo",le="+Inf"})' "$EXPECT_OK"
check 'count(demo_prom_ex_demo_jobs_total{job="promex_demo"})' 3
check 'demo_prom_ex_demo_workers{job="promex_demo"}' "$WORKERS"
check 'demo_prom_ex_prom_ex_status_info{job="promex_demo",app="demo"}' 1
check 'sum(demo_prom_ex_prom_ex_poll_errors_total{job="promex_demo"})' 0
# The first-party plugins, checked against independent sources where they are exact.
mem_total=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
check "demo_prom_ex_os_memory_total_bytes{job=\"promex_demo\"} == bool $mem_total" 1
check 'count(demo_prom_ex_os_load1{job="promex_demo"}) + count(demo_prom_ex_os_load5{job="promex_demo"}) + count(demo_prom_ex_os_load15{job="promex_demo"})' 3
check "demo_prom_ex_process_threads{job=\"promex_demo\"} >= bool $((WORKERS + 2))" 1
check 'demo_prom_ex_process_memory_resident_bytes{job="promex_demo"} > bool 1000000' 1
check 'demo_prom_ex_process_open_fds{job="promex_demo"} > bool 2' 1
check 'demo_prom_ex_application_primary_info{job="promex_demo",name="demo"}' 1
check 'count(demo_prom_ex_application_dependency_info{job="promex_demo",name=~"libc|libpthread|libm"}) > bool 0' 1
# Prometheus parsed our exposition: the scrapes yielded samples.
check 'sum(scrape_samples_scraped{job="promex_demo"}) > bool 100' 1
echo "PASS ($MODE)"
