#!/usr/bin/env bash
# Builds and runs the consumer against promex installed under PREFIX (by `cmake --install` or
# unpacked from the Debian package): both through pkg-config and through find_package.
# Usage: consume_prefix.sh PREFIX CONSUMER_C
set -euo pipefail
trap 'echo "$0: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
prefix=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
pc=$(find "$prefix" -name promex.pc | head -n1)
[ -n "$pc" ] || { echo "missing after install: promex.pc"; exit 1; }
libdir=$(cd "$(dirname "$pc")/.." && pwd)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
for f in include/promex/promex.h bin/promex share/promex/dashboards/process.json \
         share/promex/alerts/process.rules.yml share/promex/alerts/prom_ex.rules.yml; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
[ -e "$libdir/cmake/promex/promexConfig.cmake" ] || { echo "missing: promexConfig.cmake"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# pkg-config, shared and static.
cc -std=c11 -Wall -Werror "$src" $(pkg-config --cflags --libs promex) -Wl,-rpath,"$libdir" -o "$out/consumer"
"$out/consumer" | grep '^consumer_runs_total 1$' >/dev/null
cc -std=c11 -Wall -Werror "$src" $(pkg-config --cflags promex) "$libdir/libpromex.a" \
  $(pkg-config --libs libmicrohttpd jansson libcurl zlib inih gnutls) -lpthread -lm -ldl -o "$out/consumer_static"
"$out/consumer_static" | grep "^linked " >/dev/null

# find_package(promex CONFIG), shared and static.
cmake -S "$here/consumer_cmake" -B "$out/cm" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCONSUMER_SOURCE="$src" -DCMAKE_BUILD_RPATH="$libdir" >"$out/cm.log" 2>&1 ||
  { cat "$out/cm.log"; exit 1; }
cmake --build "$out/cm" >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
"$out/cm/consumer_shared" | grep '^consumer_runs_total 1$' >/dev/null
"$out/cm/consumer_static" | grep "^linked " >/dev/null
# the shared consumer really uses this prefix's libpromex.so, the static one none
ldd "$out/cm/consumer_shared" | grep "$libdir/libpromex.so" >/dev/null
if ldd "$out/cm/consumer_static" | grep "libpromex.so" >/dev/null; then
  echo "promex::promex_static linked the shared library"; exit 1
fi

# The CLI runs and renders installed-independent rules.
"$prefix/bin/promex" --version | grep '^promex ' >/dev/null
"$prefix/bin/promex" alerts export -d process -s | grep '_prom_ex_process_open_fds' >/dev/null
