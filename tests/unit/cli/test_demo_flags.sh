#!/usr/bin/env bash
# The demo's command-line flags win over its --config file (issue 8 item 14), also when a flag
# repeats the default value (--bind 127.0.0.1), and --port turns on a server the file left off.
# Usage: test_demo_flags.sh <path to the demo binary>
set -u
DEMO=$(realpath "$1")
WORK=$(mktemp -d)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 1
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# run_demo <expected regex in the "metrics at" line> -- args...: starts the demo, waits for its
# banner, checks it and stops the demo again.
run_demo() {
  local want=$1
  shift 2
  # The background demo truncates out.txt only once it runs: without removing it first, the loop
  # below can read the previous run's banner (it did once in CI, then signalled a demo that had
  # not started yet).
  rm -f out.txt err.txt
  "$DEMO" --workers 1 --jobs 1 "$@" >out.txt 2>err.txt &
  PID=$!
  for _ in $(seq 100); do
    grep -qs 'metrics at' out.txt && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  local line
  line=$(grep -s 'metrics at' out.txt)
  kill -INT "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  PID=
  if ! grep -Eq -- "$want" <<<"$line"; then
    fail "demo $*: banner '$line' does not match /$want/; stderr: $(cat err.txt 2>/dev/null)"
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cat >with_server.ini <<'INI'
[promex]
app = demo_flags
[metrics_server]
port = 0
bind_address = localhost
INI
cat >no_server.ini <<'INI'
[promex]
app = demo_flags
INI

# The file's values apply when no flag is given ...
run_demo 'http://localhost:[0-9]+/metrics' -- --config with_server.ini
# ... and an explicit flag wins, even when it equals the demo's default.
run_demo 'http://127\.0\.0\.1:[0-9]+/metrics' -- --config with_server.ini --bind 127.0.0.1
P=$(free_port)
run_demo "http://127\.0\.0\.1:$P/metrics" -- --config with_server.ini --bind 127.0.0.1 --port "$P"
P=$(free_port)
run_demo "http://127\.0\.0\.1:$P/metrics" -- --config no_server.ini --port "$P"
[ "$FAILS" = 0 ]
