# Shared by the integration scripts (source it): a temp dir and the processes started, stopped on
# exit; free loopback ports; waiting for a test program's "metrics at" banner; a Debian
# prometheus scraping it; PromQL checks with a retry while Prometheus starts and scrapes.
#
#   source "$(dirname "$0")/../lib/harness.sh"
#   it_need redis-server prometheus curl python3   # exit 77 (skipped) if one is missing
#   it_init redis.log workload.out workload.err     # logs shown (tail) when a check fails
#   it_bg cmd args...                                 # start in the background, stopped on exit
#   port=$(it_banner_port "$tmp/workload.out" "$!")   # the port of "metrics at http://127.0.0.1:P/"
#   it_prometheus JOB "$port"                         # sets prom_port
#   it_check 'up{job="JOB"}' 1                        # retried up to 30 s
# Everything listens on 127.0.0.1 only.

it_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
  done
}

it_init() {
  tmp=$(mktemp -d)
  it_pids=()
  it_logs=("$@" prom.log)
  trap it_cleanup EXIT
}

it_cleanup() {
  local pid
  for pid in "${it_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${it_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "${it_logs[@]}"; do
    echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2 2>/dev/null || true
  done
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# it_bg CMD...: runs CMD in the background (redirect in the caller: it_bg cmd >log 2>&1) and
# remembers it for the cleanup. $! is the process, as with a plain `&`.
it_bg() {
  "$@" &
  it_pids+=($!)
}

# it_wait_tcp PORT SEND EXPECT: waits up to 10 s until a server on PORT answers SEND with a reply
# starting with EXPECT (both Python bytes literals' contents, e.g. 'PING\r\n' '+PONG').
it_wait_tcp() {
  python3 - "$1" "$2" "$3" <<'PY'
import socket, sys, time
port, send, expect = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode(), sys.argv[3].encode()
deadline = time.time() + 10
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(send)
        if s.recv(64).startswith(expect):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
}

# it_banner_port FILE PID: the metrics port a test program printed ("metrics at
# http://127.0.0.1:PORT/..."), waiting up to 20 s; fails if PID exits first.
it_banner_port() {
  local port="" _
  for _ in $(seq 200); do
    port=$(sed -n 's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$1")
    [ -n "$port" ] && break
    kill -0 "$2" 2>/dev/null || fail "the program writing $1 exited early"
    sleep 0.1
  done
  [ -n "$port" ] || fail "no metrics banner in $1"
  echo "$port"
}

# it_prometheus JOB TARGET_PORT: starts Debian's prometheus scraping 127.0.0.1:TARGET_PORT every
# second as job JOB; sets prom_port.
it_prometheus() {
  prom_port=$(free_port)
  cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: $1
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$2"]
YAML
  it_bg prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1
}

# it_query EXPR: the single value of an instant query, or "none".
it_query() {
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

# it_check EXPR WANT: EXPR must come to equal WANT within 30 s (Prometheus starting and scraping).
it_check() {
  local v _
  for _ in $(seq 60); do
    v=$(it_query "$1")
    [ "$v" = "$2" ] && break
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}
