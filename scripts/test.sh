#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole test suite.
#   scripts/test.sh                    normal build + every test (unit, integration with a real
#                                      Prometheus, promtool, CLI, fuzz corpus replays, ABI check)
#   PMX_SANITIZERS=1 scripts/test.sh   then the suite again under ASan+UBSan, the unit tests under
#                                      TSan, and the cmocka unit tests under valgrind (CI sets it)
# Tests that start a database or broker server carry the ctest label "external_server": they run
# once, in the plain build, and are left out of the sanitizer and valgrind passes (which test the
# same code paths through the unit tests) so that CI stays well inside its time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps

jobs=$(nproc 2>/dev/null || echo 2)
total=0
run_suite() { # <build dir> <ctest args...>
  local dir=$1; shift
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" | tee "$dir/ctest-summary.log"
  local n
  n=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$dir/ctest-summary.log" | tail -n 1)
  total=$((total + ${n:-0}))
}

echo "== build and test (RelWithDebInfo)" >&2
cmake -S . -B build -DPMX_ONLY_TESTS= -DPMX_SANITIZE= -DPMX_BUILD_TOOLS=ON -DPMX_BUILD_EXAMPLES=ON -DPMX_BUILD_BENCH=ON -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
run_suite build

if [ "${PMX_SANITIZERS:-0}" = 1 ]; then
  echo "== ASan+UBSan: whole suite" >&2
  cmake -S . -B build-asan -DPMX_ONLY_TESTS= -DPMX_SANITIZE=address -DPMX_BUILD_TOOLS=ON -DPMX_BUILD_EXAMPLES=ON -DPMX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 run_suite build-asan -LE external_server

  echo "== TSan: unit tests" >&2
  cmake -S . -B build-tsan -DPMX_ONLY_TESTS= -DPMX_SANITIZE=thread -DPMX_BUILD_TOOLS=ON -DPMX_BUILD_EXAMPLES=ON -DPMX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_suite build-tsan -L cmocka -LE external_server

  echo "== valgrind: cmocka unit tests" >&2
  ./scripts/valgrind-unit.sh build | tee build/valgrind-summary.log
  total=$((total + $(grep -c ' clean$' build/valgrind-summary.log)))
fi
# Every step above stops the script on a failure, so reaching here means all of them passed.
echo "summary: $total passed, 0 failed"
