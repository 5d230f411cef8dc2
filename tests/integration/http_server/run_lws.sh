#!/usr/bin/env bash
# http_server plugin, libwebsockets adapter: run_lws.sh LWS_APP
#
# Starts lws_app (a libwebsockets service whose protocol "echo" is instrumented through
# promex/http_lws.h) on loopback, opens N_CONN WebSocket connections with a raw client (RFC 6455
# handshake, masked frames) sending N_TEXT text and N_BIN binary messages each, and N_REJECT
# handshakes the application refuses, then checks through a real Prometheus that the socket and
# message counts are exactly those. Exit 77 = skipped (missing tools).
set -euo pipefail
APP=${1:?usage: run_lws.sh LWS_APP}
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
  exit 1
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

N_CONN=3; N_TEXT=4; N_BIN=2; N_REJECT=2
python3 - "$app_port" "$N_CONN" "$N_TEXT" "$N_BIN" "$N_REJECT" <<'PY' || fail "websocket client failed"
import base64, os, socket, struct, sys, time
port, n_conn, n_text, n_bin, n_reject = map(int, sys.argv[1:])

def handshake(path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: echo\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return s, head.split(b"\r\n", 1)[0]

def frame(opcode, payload):
    mask = os.urandom(4)
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + data

for _ in range(n_conn):
    s, status = handshake("/chat")
    assert b" 101 " in status, status
    for i in range(n_text):
        s.sendall(frame(1, f"hello {i}".encode()))
    for i in range(n_bin):
        s.sendall(frame(2, bytes([i, 1, 2, 3])))
    time.sleep(0.1)
    s.sendall(frame(8, struct.pack("!H", 1000)))
    time.sleep(0.05)
    s.close()
for _ in range(n_reject):
    s, status = handshake("/reject")
    assert b" 101 " not in status, status
    s.close()
PY

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: wsapp
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
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
check() {
  local v
  for _ in $(seq 60); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}
P=wsapp_prom_ex_http_server
check "$P""_socket_connected_duration_seconds_count{endpoint=\"ws\",transport=\"websocket\",result=\"ok\"}" "$N_CONN"
check "$P""_socket_connected_duration_seconds_count{result=\"error\"}" "$N_REJECT"
check "$P""_channel_joined_total{result=\"ok\"}" "$N_CONN"
check "$P""_channel_handled_in_duration_seconds_count{handler=\"echo\",event=\"text\"}" "$((N_CONN * N_TEXT))"
check "$P""_channel_handled_in_duration_seconds_count{handler=\"echo\",event=\"binary\"}" "$((N_CONN * N_BIN))"
check "count($P""_channel_handled_in_duration_seconds_count)" 2
# The service must stop cleanly on SIGTERM: under ASan/UBSan this is where leaks and errors show.
kill -TERM "$app_pid"
app_rc=0
wait "$app_pid" || app_rc=$?
app_pid=""
[ "$app_rc" = 0 ] || fail "the service exited with status $app_rc after SIGTERM"
if grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$tmp/app.err"; then
  fail "sanitizer report from the service"
fi
echo "PASS (wsapp)"
