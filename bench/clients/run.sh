#!/usr/bin/env bash
# Runs bench_clients with a redis-server and a memcached on free loopback ports (stopped on
# exit): bench/clients/run.sh BUILD_DIR [N]
set -euo pipefail
BIN=${1:?usage: run.sh BUILD_DIR [N]}/bench/clients/bench_clients
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$tmp"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rp=$(port); mp=$(port)
redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" >/dev/null &
pids+=($!)
memcached -u root -l 127.0.0.1 -p "$mp" -U 0 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
PMX_TEST_REDIS_PORT=$rp PMX_TEST_MEMCACHED_PORT=$mp "$BIN" "${2:-20000}"
