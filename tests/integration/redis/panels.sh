#!/usr/bin/env bash
# The redis dashboard's data test: panels.sh REDIS_WORKLOAD PROMEX_CLI DASHBOARD_DIR CHECK_PANELS
#
# The demo cannot call Redis, so this starts redis-server on a free loopback port and runs the
# shared panel check (tests/integration/dashboards_data/check_panels.py) with the redis workload
# program (looping over its mix) in the demo's place: a real Prometheus scrapes it and every
# panel query of redis.json must return data. Exit 77 = skipped (redis-server missing; the panel
# check itself skips without prometheus).
set -euo pipefail
WORKLOAD=$1 PROMEX=$2 DASHBOARDS=$3 CHECK=$4
command -v redis-server >/dev/null || { echo "skip: redis-server not installed" >&2; exit 77; }
tmp=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.05
done
# check_panels.py checks every dashboard of its directory: give it this one alone.
mkdir "$tmp/dash"
cp "$DASHBOARDS/redis.json" "$tmp/dash/"
rc=0
PMX_TEST_REDIS_PORT=$port python3 "$CHECK" --demo "$WORKLOAD" --promex "$PROMEX" \
  --dashboards "$tmp/dash" || rc=$?
exit $rc
