#!/usr/bin/env bash
# Prometheus against trickling clients: run.sh TRICKLE_SERVER_BINARY
#
# trickle_server (trickle_server.c) serves 50 gauges with a 1 s header deadline and 8 slots while
# its own threads hold every slot with one-byte-per-100-ms requests from 127.0.0.2..9. Debian's
# prometheus scrapes it every 2 s (timeout 2 s: a scrape may wait up to one deadline for a
# slot). Asserts through the HTTP API that every scrape of the last 12 s succeeded (up == 1 in
# each), that all 50 series arrived with their values, and that the tricklers were really cut.
# Both processes are always stopped (trap). Exit 77 = skipped (missing tools).
set -euo pipefail

SERVER=${1:?usage: run.sh TRICKLE_SERVER_BINARY}
for tool in prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
srv_pid=""
prom_pid=""
cleanup() {
  for pid in $srv_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $srv_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- server stderr" >&2; cat "$tmp/srv.err" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

"$SERVER" >"$tmp/srv.out" 2>"$tmp/srv.err" &
srv_pid=$!
for _ in $(seq 50); do [ -s "$tmp/srv.out" ] && break; sleep 0.1; done
port=$(head -n 1 "$tmp/srv.out")
[ -n "$port" ] || fail "trickle_server printed no port"

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: trickle
    scrape_interval: 2s
    scrape_timeout: 2s
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

query() { # EXPR -> the single result's value, or "none"
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

# Wait until Prometheus has made at least 5 scrape attempts in the last 12 s (up is recorded for
# failed scrapes too, as 0).
n=none
for _ in $(seq 60); do
  kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
  kill -0 "$srv_pid" 2>/dev/null || fail "trickle_server exited"
  n=$(query 'count_over_time(up{job="trickle"}[12s])')
  [ "$n" != none ] && [ "${n%.*}" -ge 5 ] && break
  sleep 0.5
done
[ "$n" != none ] && [ "${n%.*}" -ge 5 ] || fail "only $n scrape attempts recorded"

check() { # EXPR WANT
  local got
  got=$(query "$1")
  [ "$got" = "$2" ] || fail "$1 = $got, want $2"
  echo "ok: $1 = $got"
}
check 'min_over_time(up{job="trickle"}[12s])' 1
check 'count(trickle_series{job="trickle"})' 50
check 'sum(trickle_series{job="trickle"})' 3675
check 'min_over_time(scrape_samples_scraped{job="trickle"}[12s])' 50

kill -TERM "$srv_pid"
wait "$srv_pid" || fail "trickle_server failed"
srv_pid=""
cut=$(sed -n 's/^cut \([0-9]*\)$/\1/p' "$tmp/srv.err")
[ -n "$cut" ] && [ "$cut" -ge 8 ] || fail "tricklers cut $cut times, want >= 8 (did they hold the slots?)"
echo "ok: the server cut the tricklers $cut times; every scrape got through"
