#!/usr/bin/env bash
# Exemplars against a real Prometheus: run.sh DEMO_BINARY
#
# Starts the demo on a free loopback port doing exactly N jobs (every tenth fails; job n's stop
# event carries trace_id = n + 1 as 32 hex digits), checks that an OpenMetrics scrape carries
# exemplars on _bucket lines and a text 0.0.4 scrape none, then starts Debian's prometheus with
# --enable-feature=exemplar-storage scraping the demo and asserts through /api/v1/query_exemplars
# that the exemplars stored for the job duration histogram are trace ids the demo emitted for
# successful jobs, with values inside their bucket. Both processes are always stopped (trap).
# Exit 77 = skipped (missing tools).
set -euo pipefail

DEMO=${1:?usage: run.sh DEMO_BINARY}
N=60

for tool in prometheus curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed" >&2; exit 77; }
done

tmp=$(mktemp -d)
demo_pid=""
prom_pid=""
cleanup() {
  for pid in $demo_pid $prom_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $demo_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
fail() {
  echo "FAIL: $*" >&2
  echo "--- demo stderr" >&2; cat "$tmp/demo.err" >&2 || true
  echo "--- prometheus log (tail)" >&2; tail -n 20 "$tmp/prom.log" >&2 || true
  exit 1
}

demo_port=$(free_port)
prom_port=$(free_port)
"$DEMO" --port "$demo_port" --bind 127.0.0.1 --jobs "$N" --workers 3 >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo_pid=$!
metrics_url="http://127.0.0.1:$demo_port/metrics"
for _ in $(seq 100); do
  curl -sf -o /dev/null "$metrics_url" && break
  kill -0 "$demo_pid" 2>/dev/null || fail "demo exited early"
  sleep 0.1
done

# Both expositions, once the jobs are done (the demo's jobs take at most ~50 ms each).
hist=demo_prom_ex_demo_job_duration_seconds
for _ in $(seq 100); do
  curl -sf -H 'Accept: application/openmetrics-text;version=1.0.0' -o "$tmp/om.txt" "$metrics_url" || true
  grep -q "^${hist}_bucket.* # {trace_id=\"" "$tmp/om.txt" 2>/dev/null && break
  sleep 0.1
done
grep -q "^${hist}_bucket.* # {trace_id=\"[0-9a-f]\{32\}\"} [0-9.e-]* [0-9]*\.[0-9]\{3\}$" "$tmp/om.txt" ||
  fail "no exemplar on the OpenMetrics _bucket lines of $hist"
curl -sf -H 'Accept: text/plain;version=0.0.4' -o "$tmp/text.txt" "$metrics_url" || fail "text scrape"
grep -q 'trace_id' "$tmp/text.txt" && fail "text 0.0.4 carries exemplars"
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/text.txt" || fail "promtool check metrics reported problems"
fi

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: promex_demo
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$demo_port"]
YAML
start=$(date +%s)
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --enable-feature=exemplar-storage \
  --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

# Every exemplar Prometheus stored for the histogram: a trace id of a successful job (n + 1 with
# n % 10 != 9, n < N), a value inside its bucket (le), and a timestamp since the demo started.
check_exemplars() {
  curl -s --max-time 5 --data-urlencode "query=${hist}_bucket" \
    --data-urlencode "start=$((start - 60))" --data-urlencode "end=$(($(date +%s) + 60))" \
    "http://127.0.0.1:$prom_port/api/v1/query_exemplars" >"$tmp/ex.json" || return 1
  python3 - "$tmp/ex.json" "$N" "$start" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, start = int(sys.argv[2]), float(sys.argv[3])
if r.get("status") != "success":
    sys.exit(1)
ids = set()
for series in r["data"]:
    le = float(series["seriesLabels"]["le"])
    for ex in series["exemplars"]:
        tid = ex["labels"]["trace_id"]
        assert len(tid) == 32, tid
        job = int(tid, 16) - 1
        assert 0 <= job < n and job % 10 != 9, f"trace id {tid} was not emitted for a successful job"
        v = float(ex["value"])
        assert 0 < v <= le, f"exemplar value {v} outside bucket le={le}"
        assert ex["timestamp"] >= start - 120, ex
        ids.add(tid)
if not ids:
    sys.exit(1)
print(f"ok: {len(ids)} distinct trace ids stored as exemplars, all emitted by the demo")
PY
}
for _ in $(seq 60); do
  kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
  check_exemplars && { echo PASS; exit 0; }
  sleep 0.5
done
cat "$tmp/ex.json" >&2 || true
fail "query_exemplars did not return the demo's trace ids"
