#!/usr/bin/env bash
# memcached plugin integration test: run.sh MEMCACHED_WORKLOAD
#
# Starts memcached on a free loopback port, runs the workload program once (a fixed mix of
# libmemcached calls through the promex adapter: hits, misses, not-stored, errors and a refused
# server), lets Debian's prometheus scrape it, and checks through PromQL that the counts are
# exactly the mix's. Everything started is stopped on exit. Exit 77 = skipped (memcached,
# prometheus, curl or python3 missing).
set -euo pipefail
source "$(dirname "$0")/../lib/harness.sh"

WORKLOAD=${1:?usage: run.sh MEMCACHED_WORKLOAD}
it_need memcached prometheus curl python3
it_init memcached.log workload.out workload.err

mc_port=$(free_port)
it_bg memcached -u root -l 127.0.0.1 -p "$mc_port" -U 0 >"$tmp/memcached.log" 2>&1
it_wait_tcp "$mc_port" 'version\r\n' 'VERSION' || fail "memcached did not start"

PMX_TEST_MEMCACHED_PORT=$mc_port it_bg "$WORKLOAD" --port 0 --once >"$tmp/workload.out" \
  2>"$tmp/workload.err"
port=$(it_banner_port "$tmp/workload.out" "$!")
it_prometheus mcit "$port"
check() { it_check "$@"; }
P=mcit_prom_ex_memcached
D="${P}_command_duration_seconds_count"
check 'up{job="mcit"}' 1
check "sum($D)" 31
check "sum($D{command=\"set\",result=\"ok\"})" 11
check "sum($D{command=\"get\",result=\"hit\"})" 5
check "sum($D{command=\"get\",result=\"miss\"})" 3
check "sum($D{command=\"get\",result=\"error\"})" 1
check "sum($D{command=\"add\",result=\"not_stored\"})" 2
check "sum($D{command=\"add\",result=\"ok\"})" 1
check "sum($D{command=\"replace\",result=\"not_stored\"})" 1
check "sum($D{command=\"delete\"})" 2
check "sum($D{command=\"increment\",result=\"hit\"})" 2
check "sum($D{command=\"increment\",result=\"error\"})" 1
check "sum(${P}_command_duration_seconds_bucket{le=\"+Inf\"})" 31
check "sum(${P}_cache_hits_total)" 10
check "sum(${P}_cache_hits_total{command=\"get\"})" 5
check "sum(${P}_cache_misses_total)" 4
check "sum(${P}_cache_misses_total{command=\"delete\"})" 1
check "sum(${P}_command_errors_total)" 2
check "sum(${P}_command_errors_total{command=\"get\",code=\"CONNECTION_FAILURE\"})" 1
check "count(${P}_command_errors_total{command=\"increment\",code!=\"OTHER\"})" 1
echo "PASS"
