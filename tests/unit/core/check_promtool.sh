#!/usr/bin/env bash
# Runs expo_sample in text format through `promtool check metrics` (Debian's prometheus package):
# exit 0 means no parse error and no lint complaint. promtool reads only the text format; the
# OpenMetrics output is checked by a real Prometheus scrape in tests/integration/prometheus.
set -euo pipefail
sample=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$sample" text > "$out"
grep -q 'sample_http_requests_total{method="GET",path="/with \\"quotes\\""}' "$out"
grep -q 'path="/new\\nline"' "$out"
grep -q 'which="nan"} NaN' "$out"
grep -q 'which="pos_inf"} +Inf' "$out"
promtool check metrics < "$out"
grep -q '^sample_temperature_delta_celsius_sum -2$' "$out"
grep -q '^sample_big_bytes_total 9.909e+18$' "$out"
# OpenMetrics: ends with # EOF and every line is TYPE/HELP/EOF or a sample.
"$sample" openmetrics > "$out"
[ "$(tail -n 1 "$out")" = "# EOF" ]
# ("! grep" would not stop the script under set -e, hence the explicit tests.)
if grep -v -E '^(# (TYPE|HELP) |# EOF$|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? )' "$out"; then
  echo "unexpected OpenMetrics lines above" >&2; exit 1
fi
# A histogram with a negative bound: buckets only (OpenMetrics forbids its _sum; _count goes too).
grep -q '^sample_temperature_delta_celsius_bucket{le="+Inf"} 2$' "$out"
if grep '^sample_temperature_delta_celsius_\(sum\|count\)' "$out"; then
  echo "OpenMetrics _sum/_count on a histogram with a negative bound" >&2; exit 1
fi
grep -q '^sample_big_bytes_total 9.909e+18$' "$out"
echo "promtool: clean"
