#!/usr/bin/env bash
# jobs_pg integration test: run.sh JOBS_PG_APP
#
# Starts a throw-away PostgreSQL cluster on a free loopback port (temp dir, trust auth), runs the
# app (known jobs through the PostgreSQL queue adapter, see jobs_pg_app.c), starts Debian's
# Prometheus scraping it every second, and asserts through PromQL the exact counts the jobs
# produced, and that the queue lengths polled from the jobs table are zero-filled for every queue
# and state. Everything started is stopped by the trap. Exit 77 = skipped (PostgreSQL, Prometheus
# or python3 not installed).
set -euo pipefail

APP=${1:?usage: run.sh JOBS_PG_APP}

bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] ||
  { echo "skip: PostgreSQL server binaries not installed" >&2; exit 77; }
for tool in prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
app_pid=""
prom_pid=""
pg_started=0
# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "skip: running as root and no postgres user" >&2; exit 77; }
  as_pg=(runuser -u postgres --)
  chown postgres "$tmp"
fi
cleanup() {
  for pid in $app_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $app_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  if [ "$pg_started" = 1 ]; then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
fail() {
  echo "FAIL: $*" >&2
  echo "--- app stderr" >&2; cat "$tmp/app.err" >&2 || true
  echo "--- postgres log (tail)" >&2; tail -n 20 "$tmp/pg.log" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}

pg_port=$(free_port)
"${as_pg[@]}" "$bindir/initdb" -D "$tmp/data" -A trust -U promex >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; fail "initdb failed"; }
"${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -w -t 30 -l "$tmp/pg.log" \
  -o "-p $pg_port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
  fail "PostgreSQL did not start"
pg_started=1

# Two apps, each with its own table: "active" counts live states only (the default), "finished"
# also counts completed and discarded rows.
conninfo="host=127.0.0.1 port=$pg_port user=promex dbname=postgres connect_timeout=5"
app_port=$(free_port)
"$APP" "$conninfo" "$app_port" jobs_active active >"$tmp/app.out" 2>"$tmp/app.err" &
app_pid=$!
app2_port=$(free_port)
"$APP" "$conninfo" "$app2_port" jobs_all finished >"$tmp/app2.out" 2>>"$tmp/app.err" &
app_pid="$app_pid $!"
for out in app app2; do
  for _ in $(seq 200); do
    grep -q '^ready$' "$tmp/$out.out" && break
    for pid in $app_pid; do kill -0 "$pid" 2>/dev/null || fail "an app exited early"; done
    sleep 0.1
  done
  grep -q '^ready$' "$tmp/$out.out" || fail "the $out did not get ready"
done

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: jobs_pg
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$app_port", "127.0.0.1:$app2_port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

# query EXPR -> the single result's value, or "none"
query() {
  { curl -s --noproxy '*' --max-time 5 --data-urlencode "query=$1" \
      "http://127.0.0.1:$prom_port/api/v1/query" |
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
P=jpg_prom_ex_jobs
checks=0
check() { # check EXPR WANT: retried for up to 30 s (the first scrapes and polls settle)
  local got=none
  for _ in $(seq 60); do
    got=$(query "$1")
    [ "$got" = "$2" ] && { checks=$((checks + 1)); return 0; }
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    sleep 0.5
  done
  fail "$1 = $got, want $2"
}
for inst in "127.0.0.1:$app_port" "127.0.0.1:$app2_port"; do
S="job=\"jobs_pg\", instance=\"$inst\""
# runs: 4 ok + flaky (2nd attempt) succeed; flaky's 1st and broken's 1st fail; broken's 2nd is
# discarded
check "sum(${P}_job_processing_duration_seconds_count{$S, queue=\"default\", state=\"success\"})" 5
check "sum(${P}_job_processing_duration_seconds_count{$S, worker=\"ok\"})" 4
check "sum(${P}_job_complete_attempts_sum{$S, worker=\"flaky\"})" 2
check "sum(${P}_job_exception_duration_seconds_count{$S, state=\"failure\"})" 2
check "sum(${P}_job_exception_duration_seconds_count{$S, state=\"discard\", worker=\"broken\"})" 1
check "sum(${P}_job_exception_attempts_sum{$S, state=\"discard\"})" 2
check "sum(${P}_job_queue_time_seconds_count{$S})" 5
# 9 fetches (8 jobs + the empty one), 8 jobs dispatched
check "sum(${P}_producer_duration_seconds_count{$S, queue=\"default\"})" 9
check "sum(${P}_producer_dispatched_jobs_sum{$S, queue=\"default\"})" 8
check "${P}_init_queue_concurrency_limit{$S, queue=\"default\"}" 1
# queue lengths from the table (one GROUP BY per poll), zero-filled for every queue and state
check "${P}_queue_length{$S, queue=\"mailers\", state=\"available\"}" 3
check "${P}_queue_length{$S, queue=\"default\", state=\"available\"}" 0
check "${P}_queue_length{$S, queue=\"mailers\", state=\"executing\"}" 0
check "${P}_queue_length{$S, queue=\"default\", state=\"scheduled\"}" 0
done
# active: 2 queues x 4 live states, finished rows not read
S="job=\"jobs_pg\", instance=\"127.0.0.1:$app_port\""
check "count(${P}_queue_length{$S})" 8
check "sum(${P}_queue_length{$S})" 3
# finished: 2 queues x Oban's 7 states, the 5 completed and 1 discarded rows counted
S="job=\"jobs_pg\", instance=\"127.0.0.1:$app2_port\""
check "${P}_queue_length{$S, queue=\"default\", state=\"completed\"}" 5
check "${P}_queue_length{$S, queue=\"default\", state=\"discarded\"}" 1
check "count(${P}_queue_length{$S})" 14
check "sum(${P}_queue_length{$S})" 9

for pid in $app_pid; do
  kill -TERM "$pid"
  wait "$pid" || fail "an app exited with status $? on SIGTERM"
done
app_pid=""
echo "jobs_pg: $checks PromQL checks passed"
