#!/usr/bin/env bash
# redis plugin integration test: run.sh REDIS_WORKLOAD
#
# Starts redis-server on a free loopback port (temp dir, no persistence), runs the workload
# program once (a fixed mix of sync, argv, pipelined and async hiredis calls through the promex
# adapter, with error replies and a refused connection), lets Debian's prometheus scrape it, and
# checks through PromQL that the counts are exactly the mix's. Everything started is stopped on
# exit. Exit 77 = skipped (redis-server, prometheus, curl or python3 missing).
set -euo pipefail
source "$(dirname "$0")/../lib/harness.sh"

WORKLOAD=${1:?usage: run.sh REDIS_WORKLOAD}
it_need redis-server prometheus curl python3
it_init redis.log workload.out workload.err

redis_port=$(free_port)
it_bg redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1
it_wait_tcp "$redis_port" 'PING\r\n' '+PONG' || fail "redis-server did not start"

PMX_TEST_REDIS_PORT=$redis_port it_bg "$WORKLOAD" --port 0 --once >"$tmp/workload.out" \
  2>"$tmp/workload.err"
port=$(it_banner_port "$tmp/workload.out" "$!")
it_prometheus redisit "$port"
check() { it_check "$@"; }
P=redisit_prom_ex_redis
D="${P}_command_duration_seconds_count"
check 'up{job="redisit"}' 1
check "sum($D)" 41
check "sum($D{command=\"SET\"})" 16
check "sum($D{command=\"GET\"})" 14
check "sum($D{command=\"INCR\"})" 2
check "sum($D{command=\"LPUSH\"})" 1
check "sum($D{command=\"other\"})" 1
check "sum($D{command=\"DEL\"})" 3
check "sum($D{command=\"PING\"})" 4
check "sum(${P}_command_duration_seconds_bucket{le=\"+Inf\"})" 41
check "sum(${P}_command_errors_total)" 4
check "sum(${P}_command_errors_total{command=\"INCR\",class=\"ERR\"})" 2
check "sum(${P}_command_errors_total{command=\"LPUSH\",class=\"WRONGTYPE\"})" 1
check "sum(${P}_command_errors_total{command=\"other\",class=\"ERR\"})" 1
check "sum(${P}_pipeline_commands_count)" 2
check "sum(${P}_pipeline_commands_sum)" 10
check "sum(${P}_connection_events_total{event=\"connect\"})" 2
check "sum(${P}_connection_events_total{event=\"connect_error\"})" 1
check "sum(${P}_connection_events_total{event=\"disconnect\"})" 2
check "sum(${P}_connections)" 0
echo "PASS"
