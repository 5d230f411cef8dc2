#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole test suite.
#   scripts/test.sh            normal build + every test (unit, integration, promtool, fuzz replays)
#   PMX_SANITIZERS=1 scripts/test.sh   also the suite under ASan+UBSan and the concurrency tests
#                                      under TSan (CI sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps

jobs=$(nproc 2>/dev/null || echo 2)
run_suite() { # <build dir> <ctest args...>
  local dir=$1; shift
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@"
}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
run_suite build

if [ "${PMX_SANITIZERS:-0}" = 1 ]; then
  echo "== ASan+UBSan" >&2
  cmake -S . -B build-asan -DPMX_SANITIZE=address -DPMX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_suite build-asan -L unit
  echo "== TSan" >&2
  cmake -S . -B build-tsan -DPMX_SANITIZE=thread -DPMX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
  TSAN_OPTIONS=halt_on_error=1 run_suite build-tsan -L concurrency
fi
