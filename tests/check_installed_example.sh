#!/bin/sh
# The installed library is enough for FreeBSD-style code: install the build
# to a temporary prefix, build examples/packet_parser.c against it with
# nothing but `pkg-config --cflags --libs uma` (PKG_CONFIG_PATH pointing
# into the prefix), and run it: it checks its own results.
#
#   check_installed_example.sh BUILD_DIR SOURCE CC [extra compiler flags]
# (the extra flags are the build's sanitizer flags, which an instrumented
# libuma needs in its users too).
set -eu
build=$1 src=$2 cc=$3 extra=${4:-}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/uma-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name uma.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || { echo "no uma.pc under $prefix"; echo "0 passed, 1 failed"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
cflags=$(pkg-config --cflags uma)
libs=$(pkg-config --libs uma)
case "$cflags $libs" in
*"$prefix"*) ;;
*) echo "pkg-config points outside $prefix: $cflags $libs"
   echo "0 passed, 1 failed"; exit 1 ;;
esac
# shellcheck disable=SC2086
"$cc" -std=gnu11 -Wall -Wextra -Werror $extra -o "$prefix/packet_parser" \
    "$src" $cflags $libs
libdir=$(pkg-config --variable=libdir uma)
LD_LIBRARY_PATH=$libdir "$prefix/packet_parser" 3000
echo "1 passed, 0 failed"
