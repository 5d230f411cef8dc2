#!/usr/bin/env bash
# A/B of one bench_promex workload: runs two binaries alternately (so that load from elsewhere on
# the machine hits both alike) and prints each one's median per thread count.
#   bench/ab.sh <workload> <runs> <binary A> <binary B>
# <workload> is a BENCH_ONLY group (bench/README.md). Medians of ns/op lines; quote ratios of A
# and B from one invocation, not absolute figures.
set -euo pipefail
w=${1:?usage: ab.sh <workload> <runs> <binary A> <binary B>}
runs=${2:?runs}
bins=("${3:?binary A}" "${4:?binary B}")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$runs"); do
  for tag in 0 1; do
    BENCH_ONLY=$w "${bins[$tag]}" timing 2>/dev/null |
      sed -n "s/.*threads=\([0-9]*\) value=\([0-9.]*\).*/$tag \1 \2/p" >>"$out"
  done
done
for tag in 0 1; do
  for t in $(awk '{print $2}' "$out" | sort -un); do
    med=$(awk -v g="$tag" -v t="$t" '$1 == g && $2 == t {print $3}' "$out" | sort -n |
      awk '{a[NR] = $1} END {print (NR ? a[int((NR + 1) / 2)] : "none")}')
    echo "workload=$w binary=$([ "$tag" = 0 ] && echo A || echo B) threads=$t median=$med runs=$runs"
  done
done
