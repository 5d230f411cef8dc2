#!/usr/bin/env bash
# amqp integration test: run.sh AMQP_APP PROMEX_CLI SOURCE_DIR
#
# Starts one RabbitMQ node on free loopback ports in a temp dir (its own node name, cookie, Mnesia
# and log dirs; no plugins), then:
#   1. runs the app (known publishes, confirms, a return, acks/nacks/rejects and a redelivery, see
#      amqp_app.c) under Debian's Prometheus and asserts the exact counts through PromQL, and the
#      polled depth and consumer count of each queue (0 for a missing queue);
#   2. stops the broker (rabbitmqctl stop_app) and starts it again: the app's publish fails, its
#      reconnect fails while the broker is away and succeeds once it is back, and Prometheus shows
#      connection_up 0 then 1, the disconnect, the failed connect, the reconnect and every count
#      from before unchanged;
#   3. runs tests/integration/dashboards_data/check_panels.py with the app in the demo's place on
#      dashboards/amqp.json alone: every panel query returns data.
# Everything started is stopped by the trap (the node; epmd only if this run started it).
# Exit 77 = skipped (rabbitmq-server, prometheus or python3 not installed).
set -euo pipefail

APP=${1:?usage: run.sh AMQP_APP PROMEX_CLI SOURCE_DIR}
PROMEX=${2:?}
SRC=${3:?}

RABBIT_BIN=/usr/lib/rabbitmq/bin
[ -x "$RABBIT_BIN/rabbitmq-server" ] || RABBIT_BIN=$(dirname "$(command -v rabbitmq-server 2>/dev/null || echo /nonexistent/x)")
[ -x "$RABBIT_BIN/rabbitmq-server" ] && [ -x "$RABBIT_BIN/rabbitmqctl" ] ||
  { echo "skip: rabbitmq-server not installed" >&2; exit 77; }
for tool in prometheus curl python3 epmd; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
app_pid=""
prom_pid=""
rabbit_pid=""
epmd_was_running=0
epmd -names >/dev/null 2>&1 && epmd_was_running=1

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
amqp_port=$(free_port)
dist_port=$(free_port)
export HOME="$tmp" RABBITMQ_MNESIA_BASE="$tmp/mnesia" RABBITMQ_LOG_BASE="$tmp/log" \
  RABBITMQ_NODENAME="pmx$$-$RANDOM@localhost" RABBITMQ_NODE_PORT="$amqp_port" \
  RABBITMQ_DIST_PORT="$dist_port" RABBITMQ_ENABLED_PLUGINS_FILE="$tmp/enabled_plugins" \
  RABBITMQ_CONFIG_FILE="$tmp/rabbitmq" RABBITMQ_PID_FILE="$tmp/rabbit.pid" \
  PMX_AMQP_PORT="$amqp_port"
echo '[].' >"$tmp/enabled_plugins"
printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$amqp_port" >"$tmp/rabbitmq.conf"

cleanup() {
  for pid in $app_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $app_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$rabbit_pid" ]; then
    timeout 30 "$RABBIT_BIN/rabbitmqctl" stop >/dev/null 2>&1 || kill -KILL -- "-$rabbit_pid" 2>/dev/null || true
    wait "$rabbit_pid" 2>/dev/null || true
  fi
  [ "$epmd_was_running" = 1 ] || epmd -kill >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- app stderr" >&2; cat "$tmp/app.err" >&2 || true
  echo "--- rabbitmq log (tail)" >&2; tail -n 20 "$tmp"/log/*.log >&2 2>/dev/null || tail -n 20 "$tmp/rabbit.out" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}

t0=$SECONDS
setsid "$RABBIT_BIN/rabbitmq-server" >"$tmp/rabbit.out" 2>&1 &
rabbit_pid=$!
ready=0
for _ in $(seq 600); do
  if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $amqp_port), 0.2)" 2>/dev/null; then
    ready=1; break
  fi
  kill -0 "$rabbit_pid" 2>/dev/null || fail "rabbitmq-server exited"
  sleep 0.1
done
[ "$ready" = 1 ] || fail "RabbitMQ did not listen on $amqp_port within 60 s"
echo "rabbitmq ready after $((SECONDS - t0)) s"

app_port=$(free_port)
"$APP" --port "$app_port" --bind 127.0.0.1 >"$tmp/app.out" 2>"$tmp/app.err" &
app_pid=$!
for _ in $(seq 300); do
  grep -q '^ready$' "$tmp/app.out" && break
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited early"
  sleep 0.1
done
grep -q '^ready$' "$tmp/app.out" || fail "the app did not get ready"

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: amqp
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$app_port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

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
checks=0
check() { # check EXPR WANT: retried for up to 30 s
  local got=none
  for _ in $(seq 60); do
    got=$(query "$1")
    [ "$got" = "$2" ] && { checks=$((checks + 1)); return 0; }
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    sleep 0.5
  done
  fail "$1 = $got, want $2"
}
P=amqp_app_prom_ex_amqp
S='job="amqp"'
counts() { # the counts of phase 1; unchanged after the fault
  check "sum(${P}_published_bytes_total{$S})" 1254
  check "sum(${P}_publish_duration_seconds_count{$S})" "$1"
  check "sum(${P}_publish_confirms_total{$S, result=\"ack\"})" "$2"
  check "sum(${P}_publish_returns_total{$S})" 1
  check "sum(${P}_consumed_messages_total{$S, queue=\"work\"})" 11
  check "${P}_consumed_messages_total{$S, queue=\"work\", outcome=\"ack\"}" 8
  check "${P}_consumed_messages_total{$S, queue=\"work\", outcome=\"nack\"}" 1
  check "${P}_consumed_messages_total{$S, queue=\"work\", outcome=\"reject\"}" 2
  check "${P}_redelivered_messages_total{$S, queue=\"work\"}" 1
  check "sum(${P}_consumed_bytes_total{$S})" 1100
  check "sum(${P}_handling_duration_seconds_count{$S})" 11
  check "${P}_connection_events_total{$S, broker=\"pub\", event=\"connected\"}" 1
  check "${P}_connection_events_total{$S, broker=\"con\", event=\"connected\"}" 1
}
# 10 + 5 + 1 publishes, all confirmed; 10*100 + 5*50 + 4 bytes
check "${P}_published_messages_total{$S, exchange=\"\", result=\"ok\"}" 16
counts 16 16
check "${P}_queue_messages{$S, queue=\"idle\"}" 5
check "${P}_queue_messages{$S, queue=\"work\"}" 0
check "${P}_queue_consumers{$S, queue=\"work\"}" 1
check "${P}_queue_consumers{$S, queue=\"idle\"}" 0
check "${P}_queue_messages{$S, queue=\"missing\"}" 0
check "${P}_connection_up{$S, broker=\"poll\"}" 1
echo "phase 1: $checks PromQL checks passed"

# Phase 2: the broker goes away (stop_app closes every connection and the listener) and comes
# back; the app must neither hang nor lose its counts.
wait_line() { # wait_line WORD: the app printed WORD within 20 s
  for _ in $(seq 200); do
    grep -q "^$1\$" "$tmp/app.out" && return 0
    kill -0 "$app_pid" 2>/dev/null || fail "the app exited during the fault"
    sleep 0.1
  done
  fail "the app did not print '$1'"
}
timeout 60 "$RABBIT_BIN/rabbitmqctl" stop_app >/dev/null 2>&1 || fail "rabbitmqctl stop_app failed"
kill -USR1 "$app_pid"
wait_line down
check "${P}_connection_up{$S, broker=\"pub\"}" 0
check "${P}_connection_up{$S, broker=\"poll\"}" 0
check "${P}_connection_events_total{$S, broker=\"pub\", event=\"connect_failed\"}" 1
timeout 60 "$RABBIT_BIN/rabbitmqctl" start_app >/dev/null 2>&1 || fail "rabbitmqctl start_app failed"
kill -USR2 "$app_pid"
wait_line recovered
check "${P}_published_messages_total{$S, exchange=\"\", result=\"error\"}" 1
check "${P}_published_messages_total{$S, exchange=\"\", result=\"ok\"}" 17
check "${P}_connection_events_total{$S, broker=\"pub\", event=\"disconnected\"}" 1
check "${P}_connection_events_total{$S, broker=\"pub\", event=\"reconnected\"}" 1
check "${P}_connection_events_total{$S, broker=\"poll\", event=\"reconnected\"}" 1
check "${P}_connection_up{$S, broker=\"pub\"}" 1
check "${P}_connection_up{$S, broker=\"poll\"}" 1
# the transient queues did not survive the restart: "work" is gone (0), "idle" was declared again
# and holds the one message published since
check "${P}_queue_messages{$S, queue=\"work\"}" 0
check "${P}_queue_messages{$S, queue=\"idle\"}" 1
# the failed publish carried 5 bytes too; the rest of phase 1 is unchanged
check "sum(${P}_published_bytes_total{$S})" 1264
check "sum(${P}_consumed_messages_total{$S, queue=\"work\"})" 11
check "${P}_redelivered_messages_total{$S, queue=\"work\"}" 1
check "sum(${P}_publish_confirms_total{$S, result=\"ack\"})" 17
kill -TERM "$app_pid"
wait "$app_pid" || fail "the app exited with status $? on SIGTERM"
app_pid=""
kill -TERM "$prom_pid"; wait "$prom_pid" 2>/dev/null || true; prom_pid=""
echo "phase 2: $checks PromQL checks passed in all"

# Phase 3: every panel of the amqp dashboard shows data.
mkdir "$tmp/dash"
cp "$SRC/dashboards/amqp.json" "$tmp/dash/"
python3 "$SRC/tests/integration/dashboards_data/check_panels.py" --demo "$APP" --promex "$PROMEX" \
  --dashboards "$tmp/dash" --prometheus "$(command -v prometheus)" >"$tmp/panels.log" 2>&1 ||
  { cat "$tmp/panels.log" >&2; fail "check_panels.py: a panel of amqp.json has no data"; }
grep -E 'amqp.json' "$tmp/panels.log" | tail -n 1
echo "amqp: done in $((SECONDS - t0)) s"
