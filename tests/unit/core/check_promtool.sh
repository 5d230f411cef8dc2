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
# OpenMetrics: ends with # EOF and every line is TYPE/HELP/EOF or a sample.
"$sample" openmetrics > "$out"
[ "$(tail -n 1 "$out")" = "# EOF" ]
! grep -v -E '^(# (TYPE|HELP) |# EOF$|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? )' "$out"
echo "promtool: clean"
