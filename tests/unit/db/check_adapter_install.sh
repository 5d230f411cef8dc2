#!/usr/bin/env bash
# The db adapters install for a consumer: check_adapter_install.sh BUILD_DIR SOURCE_DIR
# `cmake --install` into a temp prefix, then for every adapter built (its .pc installed) a small
# program is compiled and linked through `pkg-config promex-<adapter>` alone; the SQLite one also
# runs (a query through the adapter on an in-memory database, no server needed).
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(dirname "$(find "$tmp/prefix" -name promex.pc | head -n 1)")
export PKG_CONFIG_PATH=$pcdir
n=0
for a in sqlite pq mariadb; do
  [ -f "$pcdir/promex-$a.pc" ] || { echo "adapter $a not built: skipped"; continue; }
  libdir=$(pkg-config --variable=libdir "promex-$a")
  cc -std=c11 -Wall -Werror -DADAPTER_$a "$src/tests/unit/db/adapter_consumer.c" \
    $(pkg-config --cflags --libs "promex-$a") -Wl,-rpath,"$libdir" -o "$tmp/consumer_$a"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no adapter installed"; exit 1; }
if [ -x "$tmp/consumer_sqlite" ]; then
  "$tmp/consumer_sqlite" || { echo "FAIL: the installed SQLite adapter did not work"; exit 1; }
fi
echo "ok: $n adapter(s) installed and consumed through pkg-config"
