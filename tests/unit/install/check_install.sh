#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a program against it through
# pkg-config (shared library, and the static archive) and through the CMake package
# (find_package(promex CONFIG): promex::promex and promex::promex_static): headers, libraries,
# promex.pc, promexConfig.cmake, dashboards, alert rules and the CLI must all be where a user
# looks for them.
set -euo pipefail
trap 'echo "$0: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
build=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
"$here/consume_prefix.sh" "$prefix" "$src"
echo "install: headers, libraries, promex.pc, CMake package, dashboards, alerts and CLI usable from $prefix"
