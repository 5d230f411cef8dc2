#!/usr/bin/env bash
# Runs every cmocka unit test (ctest label "cmocka") of a build directory under valgrind memcheck:
# any invalid access, use of uninitialised memory or definite leak fails the run.
#   scripts/valgrind-unit.sh <build dir>
set -euo pipefail
dir=${1:?usage: valgrind-unit.sh <build dir>}
ctest --test-dir "$dir" -L cmocka --show-only=json-v1 > "$dir/cmocka-tests.json"
mapfile -t cmds < <(python3 - "$dir/cmocka-tests.json" <<'PY'
import json, shlex, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    print(shlex.join(t["command"]))
PY
)
failed=0
for cmd in "${cmds[@]}"; do
  name=$(basename "${cmd%% *}")
  log="$dir/valgrind-$name.log"
  # PMX_UNDER_VALGRIND lets timing-sensitive tests widen their deadlines.
  if PMX_UNDER_VALGRIND=1 eval valgrind --quiet --error-exitcode=99 --leak-check=full \
       --errors-for-leak-kinds=definite --show-leak-kinds=definite "$cmd" >"$log" 2>&1; then
    echo "valgrind: $name clean"
  else
    echo "valgrind: $name FAILED (see $log)"; tail -30 "$log"; failed=1
  fi
done
exit $failed
