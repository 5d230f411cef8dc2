#!/usr/bin/env bash
# The pre-forking example against a real Prometheus: run.sh PREFORK_SERVER_BINARY
#
# Starts the example with 4 workers on free loopback ports, sends N requests to / and M to an
# unknown path, kills two workers in the middle of a request (/crash: SIGKILL while in flight; the
# master reaps and replaces them) and one more from outside, sends N more, then checks the
# master's /metrics and what Prometheus scraped: the request counters equal exactly what was
# answered (the dead workers' counts included), the in-flight gauge is 0 (the dead workers'
# contributions removed), 4 workers are live with one per-worker series each, and the process
# plugin (polled by the master's runtime) counts 4 workers and reports the group's resident
# memory as the sum of the master's and the workers' /proc/<pid>/statm read here.
# Exit 77 = skipped (missing tools).
set -euo pipefail
BIN=${1:?usage: run.sh PREFORK_SERVER_BINARY}
N=40
M=7
source "$(dirname "$0")/../lib/harness.sh"
it_need prometheus curl python3
it_init server.out server.err

it_bg "$BIN" 4 "$(free_port)" "$(free_port)" >"$tmp/server.out" 2>"$tmp/server.err"
server=$!
metrics_port=$(it_banner_port "$tmp/server.out" "$server")
app_port=$(sed -n 's|app at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/server.out")
get() { curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$app_port$1" || true; }

for _ in $(seq $N); do [ "$(get /)" = 200 ] || fail "GET / did not answer 200"; done
for _ in $(seq $M); do [ "$(get /nothing-here)" = 404 ] || fail "GET /nothing-here did not answer 404"; done
get /crash >/dev/null
get /crash >/dev/null
sleep 0.5 # the master reaps and replaces within 100 ms
victim=$(pgrep -P "$server" | head -n 1)
kill -KILL "$victim"
sleep 0.5 # the master reaps and replaces within 100 ms
for _ in $(seq $N); do [ "$(get /)" = 200 ] || fail "GET / after the crashes did not answer 200"; done

# The group's resident memory from /proc, before and after the process plugin's next poll (it
# polls every second): the exposed value was sampled between the two reads.
page=$(getconf PAGESIZE)
group_rss() {
  local sum=0 pid
  for pid in "$server" $(pgrep -P "$server"); do
    sum=$((sum + $(awk '{print $2}' "/proc/$pid/statm") * page))
  done
  echo "$sum"
}
rss_before=$(group_rss)
sleep 1.5
scrape=$(curl -s --noproxy '*' "http://127.0.0.1:$metrics_port/metrics")
rss_after=$(group_rss)
want() { grep -qxF "$1" <<<"$scrape" || fail "/metrics lacks the line: $1"; echo "ok: $1"; }
H=prefork_prom_ex_http_server
want "${H}_requests_total{method=\"GET\",route=\"/\",status=\"200\",host=\"default\"} $((2 * N))"
want "${H}_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\",host=\"default\"} $M"
want "${H}_request_duration_seconds_count{method=\"GET\",route=\"/\",status=\"200\",host=\"default\"} $((2 * N))"
want "${H}_requests_in_flight 0"
want "prefork_prom_ex_process_workers 4"
rss=$(sed -n 's/^prefork_prom_ex_process_memory_resident_bytes \([0-9.e+]*\)$/\1/p' <<<"$scrape")
[ -n "$rss" ] || fail "/metrics lacks prefork_prom_ex_process_memory_resident_bytes"
python3 - "$rss" "$rss_before" "$rss_after" <<'PY' || fail "group RSS $rss is not the /proc sum ($rss_before .. $rss_after)"
import sys
got, a, b = (float(x) for x in sys.argv[1:])
lo, hi = min(a, b) * 0.95, max(a, b) * 1.05
print(f"ok: group RSS {got:.0f} within [{lo:.0f}, {hi:.0f}] (/proc sums {a:.0f}, {b:.0f})")
sys.exit(0 if lo <= got <= hi else 1)
PY
[ "$(grep -c '^prefork_worker_requests{pid=' <<<"$scrape")" = 4 ] || fail "not 4 per-worker series"
grep -q "pid=\"$victim\"" <<<"$scrape" && fail "the killed worker $victim still has a series"

it_prometheus prefork "$metrics_port"
it_check 'up{job="prefork"}' 1
it_check 'sum(prefork_prom_ex_http_server_requests_total{job="prefork"})' $((2 * N + M))
it_check 'prefork_prom_ex_http_server_request_duration_seconds_count{job="prefork",route="/"}' $((2 * N))
it_check 'prefork_prom_ex_http_server_requests_in_flight{job="prefork"}' 0
it_check 'prefork_prom_ex_process_workers{job="prefork"}' 4
it_check 'count(prefork_worker_requests{job="prefork"})' 4
it_check 'sum(prefork_worker_requests{job="prefork"}) <= bool 80' 1
echo "PASS"
