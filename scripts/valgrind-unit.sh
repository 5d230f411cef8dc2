#!/usr/bin/env bash
# Runs every cmocka unit test (ctest label "cmocka", less those labelled "external_server") of a build directory under valgrind memcheck:
# any invalid access, use of uninitialised memory or definite leak fails the run.
#   scripts/valgrind-unit.sh <build dir>
set -euo pipefail
dir=${1:?usage: valgrind-unit.sh <build dir>}
ctest --test-dir "$dir" -L cmocka -LE external_server --show-only=json-v1 > "$dir/cmocka-tests.json"
mapfile -t cmds < <(python3 - "$dir/cmocka-tests.json" <<'PY'
import json, shlex, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    env = []
    for prop in t.get("properties", []):
        if prop["name"] == "ENVIRONMENT":
            env += prop["value"]
    print(" ".join(["env"] + [shlex.quote(e) for e in env] + [shlex.quote(c) for c in t["command"]]))
PY
)
failed=0
recap=""
for cmd in "${cmds[@]}"; do
  name=$(basename "$(echo "$cmd" | awk '{for (i = 2; i <= NF; i++) if ($i !~ /=/) {print $i; exit}}')")
  log="$dir/valgrind-$name.log"
  # PMX_UNDER_VALGRIND lets timing-sensitive tests widen their deadlines. --fair-sched makes
  # threads take turns; without it one thread can hold valgrind's big lock for long stretches
  # and tests whose threads must interleave starve.
  # "env VAR=... /path/test": valgrind goes in front of the test binary, after the variables.
  vg="valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
  vcmd=$(echo "$cmd" | awk -v vg="$vg" '{out = ""; done = 0
    for (i = 1; i <= NF; i++) { if (!done && i > 1 && $i !~ /=/) { out = out " " vg; done = 1 } out = out " " $i }
    print out}')
  if PMX_UNDER_VALGRIND=1 eval "$vcmd" >"$log" 2>&1; then
    echo "valgrind: $name clean"
  else
    echo "valgrind: $name FAILED (see $log)"; tail -30 "$log"; failed=1
    # What failed, recapped after the last test: CI keeps only the end of the output.
    recap+="valgrind: $name FAILED:"$'\n'
    recap+=$(grep -E '^\[  ERROR   \]|: error: |==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Process terminating)' "$log" | head -20 || true)$'\n'
  fi
done
printf "%s" "$recap"
exit $failed
