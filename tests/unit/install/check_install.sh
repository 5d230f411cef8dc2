#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a program against it through
# pkg-config (shared library), and against the static archive: headers, libraries, promex.pc,
# dashboards and the CLI must all be where a user looks for them.
set -euo pipefail
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name promex.pc)")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig"
for f in include/promex/promex.h bin/promex share/promex/dashboards/process.json; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
cc -std=c11 -Wall -Werror "$src" $(pkg-config --cflags --libs promex) -Wl,-rpath,"$libdir" -o "$prefix/consumer"
"$prefix/consumer" | grep -q '^consumer_runs_total 1$'
cc -std=c11 -Wall -Werror "$src" $(pkg-config --cflags promex) "$libdir/libpromex.a" \
  $(pkg-config --libs libmicrohttpd jansson libcurl zlib inih gnutls) -lpthread -lm -ldl -o "$prefix/consumer_static"
"$prefix/consumer_static" | grep -q "^linked "
"$prefix/bin/promex" --version | grep -q '^promex '
echo "install: headers, libraries, promex.pc, dashboards and CLI usable from $prefix"
