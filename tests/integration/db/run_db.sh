#!/usr/bin/env bash
# db plugin integration test: run_db.sh ENGINE DB_WORKLOAD_BINARY (ENGINE: sqlite | pq | mariadb)
#
# For pq, starts a real PostgreSQL on a free 127.0.0.1 port in a temp dir (as the postgres user:
# it refuses root); for mariadb, a real MariaDB the same way (as root, --user=root). For sqlite, the workload uses a database file in the temp dir. Then runs
# db_workload (its known workload, see db_workload.c) serving /metrics, has Debian's prometheus
# scrape it every second, and checks through /api/v1/query that the counts per table, command,
# result and error class are exactly the workload's. Everything started is stopped (trap).
# Exit 77 = skipped: prometheus/curl/python3, or the database server, is not installed.
set -euo pipefail

ENGINE=${1:?usage: run_db.sh sqlite|pq DB_WORKLOAD}
WORKLOAD=${2:?usage: run_db.sh sqlite|pq DB_WORKLOAD}

for tool in prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
chmod 755 "$tmp"
wl_pid=""
prom_pid=""
pg_bin=""
my_pid=""
cleanup() {
  if [ -n "$my_pid" ]; then
    kill -TERM "$my_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$my_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$my_pid" 2>/dev/null || true
  fi
  for pid in $wl_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $wl_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_bin" ] && [ -f "$tmp/pg/data/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate -w -t 20 stop \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
fail() {
  echo "FAIL: $*" >&2
  echo "--- workload output" >&2; cat "$tmp/wl.out" "$tmp/wl.err" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  [ -f "$tmp/pg/log" ] && { echo "--- postgres log (tail)" >&2; tail -n 20 "$tmp/pg/log" >&2; }
  exit 1
}

case "$ENGINE" in
  sqlite)
    target="$tmp/shop.db"
    DUP=SQLITE_CONSTRAINT MISSING=SQLITE_ERROR SLOW_SRC=slow DBNAME=shop.db
    ;;
  pq)
    pg_bin=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$pg_bin/initdb" ] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || { echo "skip: PostgreSQL server not installed" >&2; exit 77; }
    id postgres >/dev/null 2>&1 || { echo "skip: no postgres user" >&2; exit 77; }
    pg_port=$(free_port)
    mkdir -p "$tmp/pg"
    chown postgres "$tmp/pg"
    runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/pg/data" -A trust -U postgres >"$tmp/initdb.log" 2>&1 ||
      { cat "$tmp/initdb.log" >&2; fail "initdb failed"; }
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$tmp/pg/data" -w -t 30 -l "$tmp/pg/log" \
      -o "-p $pg_port -k $tmp/pg -c listen_addresses=127.0.0.1" start >/dev/null ||
      fail "PostgreSQL did not start"
    target="host=127.0.0.1 port=$pg_port dbname=postgres user=postgres connect_timeout=10"
    DUP=23505 MISSING=42P01 SLOW_SRC=source_unavailable DBNAME=postgres
    ;;
  mariadb)
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || { echo "skip: MariaDB server not installed" >&2; exit 77; }
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    my_port=$(free_port)
    mkdir -p "$tmp/my"
    mariadb-install-db --no-defaults --datadir="$tmp/my/data" --user=root \
      --auth-root-authentication-method=normal >"$tmp/my/install.log" 2>&1 ||
      { cat "$tmp/my/install.log" >&2; fail "mariadb-install-db failed"; }
    "$mariadbd" --no-defaults --datadir="$tmp/my/data" --user=root --port="$my_port" \
      --bind-address=127.0.0.1 --socket="$tmp/my/sock" --pid-file="$tmp/my/pid" \
      --skip-name-resolve >"$tmp/my/log" 2>&1 &
    my_pid=$!
    for _ in $(seq 150); do
      [ -S "$tmp/my/sock" ] && break
      kill -0 "$my_pid" 2>/dev/null || { cat "$tmp/my/log" >&2; fail "mariadbd exited"; }
      sleep 0.1
    done
    target=$my_port
    DUP=23000 MISSING=42S02 SLOW_SRC=source_unavailable DBNAME=shop
    ;;
  *) echo "unknown engine $ENGINE" >&2; exit 2 ;;
esac

port=$(free_port)
prom_port=$(free_port)
"$WORKLOAD" "$ENGINE" "$port" "$target" >"$tmp/wl.out" 2>"$tmp/wl.err" &
wl_pid=$!
for _ in $(seq 300); do
  grep -q "workload done" "$tmp/wl.out" 2>/dev/null && break
  kill -0 "$wl_pid" 2>/dev/null || fail "db_workload exited early"
  sleep 0.1
done
grep -q "workload done, 0 unexpected" "$tmp/wl.out" || fail "the workload did not run as planned"

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: db
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
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
check() { # check EXPR WANT (retried for up to 20 s while Prometheus starts and scrapes)
  local v=none
  for _ in $(seq 40); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    sleep 0.5
  done
  [ "$v" = "$2" ] || fail "$1 = $v, want $2"
  echo "ok: $1 = $v"
}

P=dbt_prom_ex_db
S="job=\"db\", repo=\"$ENGINE\""
check "up{job=\"db\"}" 1
check "${P}_repo_init_status_info{$S, database_name=\"$DBNAME\"}" 1
check "sum(${P}_repo_query_execution_time_seconds_count{$S, command=\"create\", source=\"items\"})" 1
check "sum(${P}_repo_query_execution_time_seconds_count{$S, command=\"insert\", source=\"items\"})" 12
check "sum(${P}_repo_query_errors_total{$S, command=\"insert\", source=\"items\", error_class=\"$DUP\"})" 2
check "sum(${P}_repo_query_results_returned_sum{$S, command=\"insert\", source=\"items\"})" 10
check "sum(${P}_repo_query_execution_time_seconds_count{$S, command=\"select\", source=\"items\"})" 5
check "sum(${P}_repo_query_results_returned_sum{$S, command=\"select\", source=\"items\"})" 50
check "sum(${P}_repo_query_results_returned_sum{$S, command=\"update\", source=\"items\"})" 3
check "sum(${P}_repo_query_results_returned_sum{$S, command=\"delete\", source=\"items\"})" 1
check "sum(${P}_repo_query_errors_total{$S, command=\"select\", source=\"missing_table\", error_class=\"$MISSING\"})" 1
check "sum(${P}_repo_query_execution_time_seconds_count{$S, command=\"begin\"})" 1
check "sum(${P}_repo_query_execution_time_seconds_count{$S, command=\"commit\"})" 1
# the slow query: above 0.1 s, and the only select of its source
check "sum(${P}_repo_query_execution_time_seconds_bucket{$S, command=\"select\", source=\"$SLOW_SRC\", le=\"0.1\"})" 0
check "sum(${P}_repo_query_execution_time_seconds_bucket{$S, command=\"select\", source=\"$SLOW_SRC\", le=\"+Inf\"})" 1
# every error is accounted for by class, and nothing was skipped
if [ "$ENGINE" = pq ]; then
  # the failed prepare, and the prepared statement the server forgot at PQreset
  check "sum(${P}_repo_query_errors_total{$S, command=\"select\", source=\"nope\", error_class=\"42P01\"})" 1
  check "sum(${P}_repo_query_errors_total{$S, command=\"unavailable\", source=\"source_unavailable\", error_class=\"26000\"})" 1
fi
check "sum(${P}_repo_query_errors_total{$S})" "$([ "$ENGINE" = pq ] && echo 5 || echo 3)"
check "sum(dbt_prom_ex_prom_ex_events_skipped_total{job=\"db\"}) or vector(0)" 0
echo "PASS ($ENGINE)"
