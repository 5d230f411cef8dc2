#!/usr/bin/env bash
# ABI guard: the dynamic symbols exported by libpromex.so must be exactly tests/unit/abi/exports.txt
# (sorted). An accidental export (a missing `static`, an internal pmx__ function) or a removed
# public function fails here. After an intended API change: regenerate with
#   nm -D --defined-only build/libpromex.so | awk '$2 ~ /[TDBR]/ {print $3}' | sort > tests/unit/abi/exports.txt
set -euo pipefail
lib=$1
expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | sort)
bad=$(echo "$actual" | grep -v '^pmx_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols without the pmx_ prefix:"; echo "$bad"; exit 1
fi
if ! diff -u "$expected" <(echo "$actual"); then
  echo "libpromex.so exports differ from $expected (see the diff above)"; exit 1
fi
echo "exports: $(echo "$actual" | wc -l) symbols, as expected"
