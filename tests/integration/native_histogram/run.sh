#!/usr/bin/env bash
# Native histograms and the protobuf exposition against Debian's Prometheus 2.42:
#   run.sh NATIVE_SERVE DEMO
# Starts native_serve (every metric kind; a native and a classic histogram on the same bounds fed
# the same values) and the demo (its job duration histogram is native with classic buckets) on
# free loopback ports, checks that Prometheus' Accept header gets the protobuf exposition, then
# starts prometheus --enable-feature=native-histograms scraping both and asserts through PromQL:
# every family of native_serve is queried back with its value; histogram_quantile over the native
# series agrees with the classic one (and with the exact quantile) within the schema-3 bucket width;
# exemplars on a counter and on classic buckets arrive (exemplar-storage); the demo's native job
# histogram is ingested as a native histogram. Exit 77 = skipped.
set -euo pipefail
NATIVE_SERVE=${1:?usage: run.sh NATIVE_SERVE DEMO}
DEMO=${2:?usage: run.sh NATIVE_SERVE DEMO}
source "$(dirname "$0")/../lib/harness.sh"
it_need prometheus curl python3
it_init serve.out serve.err demo.out demo.err

it_bg "$NATIVE_SERVE" >"$tmp/serve.out" 2>"$tmp/serve.err"
serve_pid=$!
for _ in $(seq 100); do
  [ "$(wc -l <"$tmp/serve.out")" -ge 2 ] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "native_serve exited early"
  sleep 0.1
done
serve_port=$(sed -n 1p "$tmp/serve.out")
read -r exact50 exact90 exact99 < <(sed -n 2p "$tmp/serve.out")
[ -n "$serve_port" ] || fail "native_serve printed no port"

demo_port=$(free_port)
it_bg "$DEMO" --port "$demo_port" --bind 127.0.0.1 --jobs 200 --workers 3 >"$tmp/demo.out" 2>"$tmp/demo.err"

# What Prometheus 2.42 sends with native histograms enabled: protobuf comes back.
accept='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
ctype=$(curl -s --noproxy '*' -o "$tmp/body.pb" -w '%{content_type}' -H "Accept: $accept" \
  "http://127.0.0.1:$serve_port/metrics") || fail "protobuf scrape"
case "$ctype" in
  application/vnd.google.protobuf*proto=io.prometheus.client.MetricFamily*encoding=delimited*) ;;
  *) fail "content type for Prometheus' native-histogram Accept: $ctype" ;;
esac
echo "ok: protobuf served ($ctype)"
# Servers without native histograms scrape text and see the classic buckets of a family with both.
curl -sf --noproxy '*' -H 'Accept: text/plain;version=0.0.4' -o "$tmp/body.txt" \
  "http://127.0.0.1:$serve_port/metrics" || fail "text scrape"
grep -q '^nh_both_seconds_bucket{kind="a",le="0.1"} [0-9]' "$tmp/body.txt" || fail "no classic buckets in text"
grep -q '^nh_native_seconds_bucket{le="+Inf"} 20000$' "$tmp/body.txt" || fail "native-only +Inf bucket in text"
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/body.txt" || fail "promtool check metrics"
fi

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: native_serve
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$serve_port"]
  - job_name: demo
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["127.0.0.1:$demo_port"]
YAML
it_bg prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --enable-feature=native-histograms,exemplar-storage \
  --log.level=warn >"$tmp/prom.log" 2>&1

it_check 'up{job="native_serve"}' 1
it_check 'up{job="demo"}' 1
# Every kind, read back from the protobuf scrape.
it_check 'nh_requests_total{kind="a"}' 5
it_check 'nh_temperature' 21.5
it_check 'nh_bytes_total' 1024
it_check 'nh_level' -3
it_check 'nh_classic_seconds_count' 20000
it_check 'nh_classic_seconds_bucket{le="+Inf"}' 20000
it_check 'histogram_count(nh_native_seconds)' 20000
it_check 'histogram_count(nh_both_seconds{kind="a"})' 20000
it_check 'promex_metric_series{metric="nh_native_seconds"}' 1
# Prometheus 2.42 keeps only the native form of a family that has both (docs/metrics.md says so).
echo "info: classic series stored for nh_both_seconds: $(it_query 'count({__name__=~"nh_both_seconds_(bucket|count|sum)"})')"

# A native histogram, not a float sample: the query result carries "histogram".
# histogram_quantile over native vs classic on the same bounds, and vs the exact value.
python3 - "$prom_port" "$exact50" "$exact90" "$exact99" <<'PY' || fail "native vs classic quantiles"
import json, sys, time, urllib.parse, urllib.request
port = sys.argv[1]
exact = dict(zip(("0.5", "0.9", "0.99"), map(float, sys.argv[2:5])))
def query(q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    r = json.load(opener.open(url, timeout=5))
    assert r["status"] == "success", r
    return r["data"]["result"]
res = query("nh_native_seconds")
assert len(res) == 1 and "histogram" in res[0], res
res = query('nh_both_seconds{kind="a"}')
assert len(res) == 1 and "histogram" in res[0], res
width = 2 ** (1 / 8)  # schema 3: a bucket's upper bound is 2^(1/8) times its lower
for q, want in exact.items():
    native = float(query(f"histogram_quantile({q}, nh_native_seconds)")[0]["value"][1])
    classic = float(query(f"histogram_quantile({q}, nh_classic_seconds_bucket)")[0]["value"][1])
    ratio = max(native, classic) / min(native, classic)
    print(f"q={q}: native {native:.6g}, classic {classic:.6g}, exact {want:.6g}")
    assert ratio <= width, f"native and classic differ by {ratio}"
    assert max(native, want) / min(native, want) <= width, f"native {native} vs exact {want}"
PY
echo "ok: native and classic quantiles agree within 2^(1/8)"

# Exemplars travel in protobuf too: the counter's and the classic buckets'.
python3 - "$prom_port" <<'PY' || fail "exemplars over protobuf"
import json, sys, time, urllib.parse, urllib.request
port = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def exemplars(q):
    now = time.time()
    url = f"http://127.0.0.1:{port}/api/v1/query_exemplars?" + urllib.parse.urlencode(
        {"query": q, "start": now - 600, "end": now + 60})
    r = json.load(opener.open(url, timeout=5))
    return [e for s in r.get("data") or [] for e in s["exemplars"]] if r["status"] == "success" else []
for _ in range(60):
    counter, bucket = exemplars("nh_requests_total"), exemplars("nh_classic_seconds_bucket")
    if counter and bucket:
        assert counter[0]["labels"] == {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}, counter
        assert float(counter[0]["value"]) == 5, counter
        assert all(e["labels"] == {"trace_id": "0af7651916cd43dd8448eb211c80319c"} for e in bucket), bucket
        print(f"ok: counter and {len(bucket)} bucket exemplars stored from protobuf")
        sys.exit(0)
    time.sleep(0.5)
sys.exit(1)
PY

# The demo: its job duration histogram arrives native once jobs ran.
python3 - "$prom_port" <<'PY' || fail "the demo's native job histogram"
import json, sys, time, urllib.parse, urllib.request
port = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
q = 'sum(demo_prom_ex_demo_job_duration_seconds)'
for _ in range(60):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(opener.open(url, timeout=5))
    res = r["data"]["result"] if r["status"] == "success" else []
    if res and "histogram" in res[0] and float(res[0]["histogram"][1]["count"]) >= 100:
        print("ok: demo job histogram native, count", res[0]["histogram"][1]["count"])
        sys.exit(0)
    time.sleep(0.5)
sys.exit(1)
PY
echo PASS
