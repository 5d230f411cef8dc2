#!/usr/bin/env bash
# http_server plugin adapters: run_adapter.sh APP APP_NAME ABORT N_BREW RESP_SIZES
#
# Starts APP (a service instrumented through one adapter: mhd_app.c, evhttp_app.c; its promex
# app name is APP_NAME) on loopback, sends it a known mix of requests (several routes and methods,
# 2xx/4xx/5xx, a 1 MiB body, a suspended/deferred request, an aborted request, unknown and hostile
# paths, N_BREW requests with an unknown method; ABORT says what the client abandons: "upload",
# a half-sent body, or "slow", a deferred reply it does not wait for; "slow_unseen" is "slow" for
# a server that cannot tell the adapter, so the request counts as answered; RESP_SIZES is "yes"
# when the adapter reports response sizes),
# starts Debian's prometheus scraping the service's promex metrics server, and asserts through
# /api/v1/query that the counts and byte sums equal what this script sent, exactly, and that the
# hostile paths added one route value. Exit 77 = skipped (missing tools).
set -euo pipefail

APP=${1:?usage: run_adapter.sh APP APP_NAME ABORT N_BREW}
APP_NAME=${2:?app name}
ABORT=${3:?upload or slow}
N_BREW=${4:?number of requests with an unknown method}
RESP_SIZES=${5:?yes or no}
for tool in prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
app_pid=""
prom_pid=""
cleanup() {
  for pid in $app_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $app_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- app stderr" >&2; cat "$tmp/app.err" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

"$APP" >"$tmp/app.out" 2>"$tmp/app.err" &
app_pid=$!
for _ in $(seq 100); do
  grep -q app_port= "$tmp/app.out" 2>/dev/null && break
  kill -0 "$app_pid" 2>/dev/null || fail "app exited early"
  sleep 0.1
done
read -r app_kv metrics_kv <"$tmp/app.out"
app_port=${app_kv#app_port=}
metrics_port=${metrics_kv#metrics_port=}
base="http://127.0.0.1:$app_port"
export no_proxy='*' NO_PROXY='*'
c() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
want() { [ "$1" = "$2" ] || fail "$3 answered $1, want $2"; }

# ---- the request mix (every expected value below is derived from these counts) ----
N_USERS=5; N_CREATE=3; N_BOOM=2; N_SLOW=2; N_HOSTILE=40
CREATE_BODY=abcd
LARGE=1048576
user_resp_bytes=0
for i in $(seq "$N_USERS"); do
  want "$(c "$base/users/$i?q=$i")" 200 "GET /users/$i"
  user_resp_bytes=$((user_resp_bytes + $(printf 'user %s\n' "$i" | wc -c)))
done
for _ in $(seq "$N_CREATE"); do
  want "$(c -X POST --data-binary "$CREATE_BODY" "$base/users")" 201 "POST /users"
done
head -c "$LARGE" /dev/zero >"$tmp/large.bin"
want "$(c -X POST -H 'Expect:' --data-binary @"$tmp/large.bin" "$base/upload")" 200 "POST /upload"
for _ in $(seq "$N_BOOM"); do want "$(c "$base/boom")" 500 "GET /boom"; done
want "$(c -X DELETE "$base/users/7")" 405 "DELETE /users/7"
for _ in $(seq "$N_SLOW"); do want "$(c "$base/slow")" 200 "GET /slow"; done
for i in $(seq "$N_HOSTILE"); do
  case $((i % 4)) in
    0) p="/$RANDOM$RANDOM/../../etc/passwd" ;;
    1) p="/%2e%2e/%ff%00/$i" ;;
    2) p="/users/$i/extra/$RANDOM" ;;
    3) p="/$(head -c 1500 /dev/zero | tr '\0' 'a')$i" ;;
  esac
  want "$(c --path-as-is "$base$p")" 404 "GET $p"
done
for _ in $(seq "$N_BREW"); do want "$(c -X BREW "$base/coffee/$RANDOM")" 404 "BREW"; done
N_TOTAL=$((N_USERS + N_CREATE + 1 + N_BOOM + 1 + N_SLOW + N_HOSTILE + N_BREW))
N_UNMATCHED=$((N_HOSTILE + N_BREW))

# A request the client abandons, then a reset: an upload whose headers announce 100000 bytes of
# which 1000 arrive, or a GET /slow whose deferred reply it does not wait for.
python3 - "$app_port" "$ABORT" <<'PY'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
if sys.argv[2] == "upload":
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
else:
    s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3 if sys.argv[2] == "upload" else 0.02)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
if [ "$ABORT" = upload ]; then abort_route=/upload abort_method=POST; else abort_route=/slow abort_method=GET; fi
N_EXCEPTIONS=1
if [ "$ABORT" = slow_unseen ]; then # the server reported the abandoned request as answered
  N_EXCEPTIONS=0 N_SLOW=$((N_SLOW + 1)) N_TOTAL=$((N_TOTAL + 1))
fi

# The ready /metrics handler on the application's own daemon (ignored by ignore_routes).
code=$(curl -s -o "$tmp/own.gz" -w '%{http_code}' --max-time 10 -H 'Accept-Encoding: gzip' "$base/metrics")
want "$code" 200 "GET /metrics"
# Decompressed to a file, not piped: under pipefail, `grep -q` closing the pipe early would fail
# the check with gzip's SIGPIPE whenever the match comes before the end.
gzip -dc "$tmp/own.gz" >"$tmp/own.txt" && grep -q "^${APP_NAME}_prom_ex_http_server_requests_total{" "$tmp/own.txt" ||
  fail "the app's /metrics did not serve gzip'd metrics"

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: $APP_NAME
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
prom_port=$(free_port)
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

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
check() { # check EXPR WANT (retried up to 30 s while Prometheus starts and scrapes)
  local v
  for _ in $(seq 60); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}
P=${APP_NAME}_prom_ex_http_server
check "sum($P""_requests_total)" "$N_TOTAL"
check "$P""_requests_total{route=\"/users/:id\",method=\"GET\",status=\"200\",host=\"api\"}" "$N_USERS"
check "$P""_requests_total{route=\"/users/:id\",method=\"DELETE\",status=\"405\"}" 1
check "$P""_requests_total{route=\"/users\",method=\"POST\",status=\"201\"}" "$N_CREATE"
check "$P""_requests_total{route=\"/upload\",method=\"POST\",status=\"200\"}" 1
check "$P""_requests_total{route=\"/boom\",status=\"500\"}" "$N_BOOM"
check "$P""_requests_total{route=\"/slow\",status=\"200\"}" "$N_SLOW"
check "sum($P""_requests_total{route=\"unmatched\"})" "$N_UNMATCHED"
# Hostile paths and methods: one route value, two method values (GET, OTHER), one status.
check "count($P""_requests_total{route=\"unmatched\"})" "$(( N_BREW > 0 ? 2 : 1 ))"
[ "$N_BREW" = 0 ] || check "$P""_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"404\"}" "$N_BREW"
check "count(count by (route) ($P""_requests_total))" 6
check "sum($P""_request_duration_seconds_count)" "$N_TOTAL"
check "sum($P""_request_duration_seconds_bucket{le=\"+Inf\"})" "$N_TOTAL"
# Suspended for 60 ms: never under 50 ms.
check "$P""_request_duration_seconds_bucket{route=\"/slow\",le=\"0.05\"}" 0
check "$P""_request_duration_seconds_bucket{route=\"/slow\",le=\"+Inf\"}" "$N_SLOW"
check "$P""_request_size_bytes_sum{route=\"/users\"}" "$((N_CREATE * ${#CREATE_BODY}))"
check "$P""_request_size_bytes_sum{route=\"/upload\"}" "$LARGE"
# (le as the exposition writes it: "1e+06" in text, "1000000.0" in OpenMetrics)
check "$P""_request_size_bytes_bucket{route=\"/upload\",le=~\"1e.06|1000000|1000000.0\"}" 0
check "$P""_request_size_bytes_bucket{route=\"/upload\",le=~\"1e.07|10000000|10000000.0\"}" 1
if [ "$RESP_SIZES" = yes ]; then
  check "$P""_response_size_bytes_sum{route=\"/users/:id\",status=\"200\"}" "$user_resp_bytes"
  check "sum($P""_response_size_bytes_count)" "$N_TOTAL"
fi
if [ "$N_EXCEPTIONS" = 1 ]; then
  check "$P""_exceptions_total{route=\"$abort_route\",kind=\"client_abort\",method=\"$abort_method\"}" 1
  check "sum($P""_exceptions_total)" 1
fi
check "$P""_requests_in_flight" 0
check "$P""_endpoint_port_info{endpoint=\"api\",port=\"$app_port\"}" 1
check "$P""_endpoint_url_info{endpoint=\"api\",url=\"http://127.0.0.1:$app_port\"}" 1
check "$P""_route_templates{kind=\"route\"}" 5
# The service must stop cleanly on SIGTERM: under ASan/UBSan this is where leaks and errors show.
kill -TERM "$app_pid"
app_rc=0
wait "$app_pid" || app_rc=$?
app_pid=""
[ "$app_rc" = 0 ] || fail "the service exited with status $app_rc after SIGTERM"
if grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$tmp/app.err"; then
  fail "sanitizer report from the service"
fi
echo "PASS ($APP_NAME)"
