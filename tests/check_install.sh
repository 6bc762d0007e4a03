#!/bin/sh
# What `cmake --install` gives a user, used as the README says, from a
# prefix outside the loader's path and with no LD_LIBRARY_PATH:
#   - the installed umastat runs (its run path finds libmemstat);
#   - examples/zone_hello.c and examples/packet_parser.c (FreeBSD-style
#     mbuf code) build with nothing but `pkg-config --cflags --libs uma`
#     (PKG_CONFIG_PATH pointing into the prefix), and run;
#   - a program built with `pkg-config --cflags --libs memstat` runs;
#   - the installed libuma-malloc.so preloaded into python3 with
#     UMA_EXPORT=1 is read by the installed umastat -p PID (not in the
#     sanitizer builds, whose libraries cannot be preloaded);
#   - the man pages are there.
#
#   check_install.sh BUILD_DIR SOURCE_DIR CC [extra compiler flags]
# (the extra flags are the build's sanitizer flags, which an instrumented
# libuma needs in its users too; they also mark a sanitizer build).
set -u
build=$1 src=$2 cc=$3 extra=${4:-}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/uma-install.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$prefix"' EXIT
unset LD_LIBRARY_PATH LD_PRELOAD

fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null || fail "cmake --install"
pc=$(find "$prefix" -name uma.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no uma.pc under $prefix"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir uma)
for m in memstat uma; do
	case "$(pkg-config --cflags --libs $m)" in
	*"$prefix"*) ;;
	*) fail "pkg-config $m points outside $prefix" ;;
	esac
done

# The installed tool, from the prefix alone.
"$prefix/bin/umastat" --help > "$prefix/help.out" 2>&1
grep -q '^usage: umastat' "$prefix/help.out" ||
    fail "installed umastat: $(head -3 "$prefix/help.out")"

# Users' programs, built as the README and the examples say.
# shellcheck disable=SC2086
for ex in zone_hello packet_parser; do
	"$cc" -std=gnu11 -Wall -Wextra -Werror $extra -o "$prefix/$ex" \
	    "$src/examples/$ex.c" $(pkg-config --cflags --libs uma) ||
	    fail "building $ex with pkg-config"
done
"$prefix/zone_hello" > "$prefix/hello.out" ||
    fail "zone_hello: $(head -3 "$prefix/hello.out")"
"$prefix/packet_parser" 3000 > "$prefix/parser.out" ||
    fail "packet_parser: $(tail -3 "$prefix/parser.out")"
cat > "$prefix/ms.c" <<'EOF'
#include <memstat.h>
#include <stdio.h>
int
main(void)
{
	struct memory_type_list *l = memstat_mtl_alloc();

	if (l == NULL)
		return (1);
	printf("%s\n", memstat_strerror(MEMSTAT_ERROR_NOMEMORY));
	memstat_mtl_free(l);
	return (0);
}
EOF
# shellcheck disable=SC2086
"$cc" -std=gnu11 -Wall -Werror $extra -o "$prefix/ms" "$prefix/ms.c" \
    $(pkg-config --cflags --libs memstat) || fail "building against memstat"
"$prefix/ms" > /dev/null || fail "a memstat program did not run"

for page in man1/umastat.1 man3/uma.3 man3/memstat.3 man3/libuma-malloc.3; do
	[ -n "$(find "$prefix" -path "*/man/$page")" ] || fail "no $page"
done

# The preload and the endpoint, with the installed pieces only.
malloc_so=$libdir/libuma-malloc.so
if [ -n "$extra" ]; then
	echo "sanitizer build: the preload part is left to the plain build"
elif ! command -v python3 > /dev/null; then
	fail "python3 is needed for the preload part"
else
	[ -e "$malloc_so" ] || fail "no $malloc_so"
	export UMA_EXPORT_DIR=$prefix/sock
	mkfifo "$prefix/in"
	LD_PRELOAD=$malloc_so UMA_EXPORT=1 python3 -c '
import sys
keep = [str(i) * 8 for i in range(20000)]
sys.stdin.read()' < "$prefix/in" &
	pid=$!
	exec 3> "$prefix/in"
	ok=
	for _ in $(seq 100); do
		if "$prefix/bin/umastat" -p $pid -z > "$prefix/z.out" 2>&1 &&
		    grep -q '^malloc-[0-9]*:' "$prefix/z.out"; then
			ok=1
			break
		fi
		sleep 0.02
	done
	[ -n "$ok" ] || fail "installed umastat -p $pid: $(head -3 "$prefix/z.out")"
	exec 3>&-
	wait $pid || fail "python3 under the installed libuma-malloc.so failed"
	pid=
fi
echo "1 passed, 0 failed"
