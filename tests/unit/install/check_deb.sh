#!/usr/bin/env bash
# `cpack -G DEB` builds the Debian package from the build tree; the package is checked with
# dpkg-deb (name, dependencies, contents) and unpacked with `dpkg-deb -x` into a temporary
# directory, against which the consumer is built and run through pkg-config and find_package
# (consume_prefix.sh). Unpacking instead of `dpkg -i` keeps the test from changing the system; it
# proves the same files, paths and relocatable promex.pc / promexConfig.cmake, but not apt's
# resolution of the Depends line (checked here only by name).
set -euo pipefail
trap 'echo "$0: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
build=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; exit 1; }
deb=$(find "$work/pkg" -maxdepth 1 -name 'promex_*.deb' | head -n1)
[ -n "$deb" ] || { echo "cpack made no promex_*.deb"; ls -l "$work/pkg"; exit 1; }
info=$(dpkg-deb -I "$deb")
echo "$info" | grep '^ Package: promex$' >/dev/null || { echo "$info"; exit 1; }
for dep in libmicrohttpd-dev libjansson-dev zlib1g-dev libinih-dev libgnutls28-dev; do
  echo "$info" | grep "^ Depends:.*$dep" >/dev/null || { echo "Depends lacks $dep"; echo "$info"; exit 1; }
done
# dpkg-shlibdeps adds the runtime libraries the .so and the CLI need
echo "$info" | grep '^ Depends:.*libc6' >/dev/null || { echo "no shlibdeps in Depends"; echo "$info"; exit 1; }
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/promex ./usr/include/promex/promex.h ./usr/share/promex/alerts/os.rules.yml \
         ./usr/share/promex/dashboards/os.json; do
  echo "$contents" | grep " $f\$" >/dev/null || { echo "package lacks $f"; exit 1; }
done
dpkg-deb -x "$deb" "$work/root"
"$here/consume_prefix.sh" "$work/root/usr" "$src"
echo "deb: $(basename "$deb") unpacked and consumed through pkg-config and find_package"
