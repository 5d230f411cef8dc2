#!/bin/sh
# Runs promex and the peer benchmarks side by side and prints one comparison table.
#
# Builds bench_promex (cmake build dir `build` at the repository root unless PMX_BENCH_BUILD says
# otherwise), runs the peers (../shared/bench/peers/run.sh: prometheus-cpp and client_golang; their
# Debian packages come from scripts/install-deps), runs `bench_promex timing` once and
# `bench_promex memory` in 5 fresh processes (median, as the peers), checks the first scrape_10k
# render with `promtool check metrics` (reported, never fatal), then prints the raw result lines
# and a markdown table. Ratios are ours / the faster (smaller) peer: below 1 means promex wins.
#
# Environment: PMX_BENCH_BUILD (build dir), BENCH_OUT (directory for raw files; default a fresh
# /tmp/pmx-bench.XXXXXX), SKIP_PEERS=1 (only promex), SKIP_SHARED=1 (no multi-process table),
# BENCH_OPS (forwarded; quick runs only).
# Exit status: 0, or 1 when bench_promex reported a verification failure (see its stderr).
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PMX_BENCH_BUILD:-$REPO/build}
PEERS=$REPO/../shared/bench/peers/run.sh
OUT=${BENCH_OUT:-$(mktemp -d /tmp/pmx-bench.XXXXXX)}
mkdir -p "$OUT"

# ---- build ----
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    # A default configure first; if some other part of the tree does not configure yet, fall back
    # to a configure of just the library and the benchmarks.
    if ! cmake -S "$REPO" -B "$BUILD" >&2; then
        echo "run.sh: full configure failed; configuring without tests, examples and tools" >&2
        cmake -S "$REPO" -B "$BUILD" -DBUILD_TESTING=OFF -DPMX_BUILD_EXAMPLES=OFF \
            -DPMX_BUILD_TOOLS=OFF >&2
    fi
fi
if grep -Eq '^PMX_SANITIZE:STRING=.+' "$BUILD/CMakeCache.txt" ||
   grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$BUILD/CMakeCache.txt"; then
    echo "run.sh: WARNING: $BUILD is a Debug or sanitizer build; numbers are not comparable" >&2
fi
if [ -n "${BENCH_OPS:-}" ]; then
    echo "run.sh: WARNING: BENCH_OPS=$BENCH_OPS: promex numbers are not comparable with the peers" >&2
fi
cmake --build "$BUILD" --target bench_promex -j"$(nproc)" >&2
BIN=$BUILD/bench/bench_promex

# ---- peers ----
: > "$OUT/peers.txt"
if [ "${SKIP_PEERS:-0}" = 1 ]; then
    echo "run.sh: SKIP_PEERS=1: peers not run" >&2
elif [ -x "$PEERS" ]; then
    echo "run.sh: running peers ($PEERS, about 3 minutes)" >&2
    env -u BENCH_DUMP "$PEERS" > "$OUT/peers.txt" ||
        echo "run.sh: WARNING: peer run failed (status $?); table has their partial results" >&2
else
    echo "run.sh: WARNING: $PEERS not found; peers not run" >&2
fi

# ---- promex ----
status=0
echo "run.sh: running $BIN timing" >&2
BENCH_DUMP="$OUT/promex_scrape.prom" "$BIN" timing > "$OUT/promex.txt" || status=1
i=0
while [ $i -lt 5 ]; do
    "$BIN" memory || status=1
    i=$((i + 1))
done > "$OUT/promex_memory_all.txt"
# Median of the memory processes: sort on the number after "value=" (field 4, from char 7).
n=$(wc -l < "$OUT/promex_memory_all.txt")
if [ "$n" -gt 0 ]; then
    sort -g -k4.7,4 "$OUT/promex_memory_all.txt" | sed -n "$(((n + 1) / 2))p" >> "$OUT/promex.txt"
fi

# ---- exposition check ----
if [ -s "$OUT/promex_scrape.prom" ] && command -v promtool > /dev/null; then
    if promtool check metrics < "$OUT/promex_scrape.prom" > "$OUT/promtool.txt" 2>&1; then
        echo "promtool check metrics: OK ($OUT/promex_scrape.prom)" >&2
    else
        echo "promtool check metrics: PROBLEMS ($OUT/promex_scrape.prom):" >&2
        head -20 "$OUT/promtool.txt" >&2
    fi
else
    echo "promtool check metrics: skipped (no dump or no promtool)" >&2
fi

# ---- report ----
cat "$OUT/peers.txt" "$OUT/promex.txt" > "$OUT/results.txt"
echo "## Raw result lines"
echo
echo '```'
cat "$OUT/results.txt"
echo '```'
echo
echo "## Comparison ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m))"
echo
awk '
function val(peer, key) { return ((peer SUBSEP key) in v) ? v[peer, key] : "" }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
function cell(x) { return x == "" ? "-" : x }
{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["workload"] " " f["threads"] " " f["unit"]
    v[f["peer"], key] = f["value"]
    if (f["peer"] !~ /^promex/ && !(f["peer"] in seen)) { seen[f["peer"]] = 1; peers[++np] = f["peer"] }
}
END {
    split("counter_inc 1 ns/op|counter_inc 2 ns/op|counter_labels 1 ns/op|counter_labels 2 ns/op|" \
          "histogram_labels 1 ns/op|histogram_labels 2 ns/op|scrape_10k 1 ms|scrape_10k 1 bytes|" \
          "memory_per_series 1 bytes/series", keys, "|")
    hdr = "| workload | threads | unit | promex | promex-events"
    sep = "|---|---|---|---:|---:"
    for (p = 1; p <= np; p++) { hdr = hdr " | " peers[p]; sep = sep "|---:" }
    print hdr " | promex / best peer | events / best peer |"
    print sep "|---:|---:|"
    for (k = 1; k in keys; k++) {
        split(keys[k], kp, " ")
        best = ""
        line = "| " kp[1] " | " kp[2] " | " kp[3] " | " cell(val("promex", keys[k])) " | " \
               cell(val("promex-events", keys[k]))
        for (p = 1; p <= np; p++) {
            x = val(peers[p], keys[k])
            line = line " | " cell(x)
            if (x != "" && (best == "" || x + 0 < best + 0)) best = x
        }
        print line " | " ratio(val("promex", keys[k]), best) " | " \
              ratio(val("promex-events", keys[k]), best) " |"
    }
}' "$OUT/results.txt"

# The opt-in inline increment (promex/inline.h): counter_inc only, against the same peers.
if grep -q '^peer=promex-inline ' "$OUT/results.txt"; then
    echo
    echo "Opt-in inline increment (promex/inline.h, pmx_series_inc_inline; the program is tied to this promex build):"
    echo
    awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["workload"] != "counter_inc") next
      key = f["threads"]; v[f["peer"], key] = f["value"]
      if (f["peer"] !~ /^promex/ && (!((key) in best) || f["value"] + 0 < best[key] + 0)) best[key] = f["value"] }
    END {
      print "| workload | threads | unit | promex-inline | promex | best peer | promex-inline / best peer |"
      print "|---|---|---|---:|---:|---:|---:|"
      for (t = 1; t <= 2; t++) {
        a = v["promex-inline", t]; b = best[t]
        print "| counter_inc | " t " | ns/op | " (a == "" ? "-" : a) " | " v["promex", t] " | " (b == "" ? "-" : b) " | " \
              ((a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b)) " |"
      }
    }' "$OUT/results.txt"
fi

# ---- multi-process store (bench_shared: 4 processes on a shared registry vs 4 threads) ----
if [ "${SKIP_SHARED:-0}" != 1 ]; then
    cmake --build "$BUILD" --target bench_shared -j"$(nproc)" >&2
    echo "run.sh: running $BUILD/bench/bench_shared" >&2
    "$BUILD/bench/bench_shared" > "$OUT/shared.txt" || status=1
    echo
    echo "## Multi-process store: 4 processes (promex-shared) vs 4 threads (promex)"
    echo
    echo '```'
    cat "$OUT/shared.txt"
    echo '```'
    echo
    awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      key = f["workload"] " " f["unit"]; v[f["peer"], key] = f["value"]
      if (!(key in seen)) { seen[key] = 1; keys[++n] = key } }
    END {
      print "| workload | unit | promex (threads) | promex-shared (processes) | shared / in-process |"
      print "|---|---|---:|---:|---:|"
      for (k = 1; k <= n; k++) {
        a = v["promex", keys[k]]; b = v["promex-shared", keys[k]]; split(keys[k], kp, " ")
        print "| " kp[1] " | " kp[2] " | " a " | " b " | " ((a + 0) ? sprintf("%.2f", b / a) : "-") " |"
      }
    }' "$OUT/shared.txt"
fi
echo
echo "(raw files in $OUT)"
exit $status
