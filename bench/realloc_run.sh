#!/bin/sh
# realloc_run.sh [BUILD_DIR]: realloc_grow under uma (LD_PRELOAD
# libuma-malloc.so), glibc and whichever of jemalloc, tcmalloc and mimalloc
# are installed, for each case MODE:FINAL_MIB:STEP of $CASES: the median
# time of REPS (3) runs, its ratio to glibc's and, for uma, the MiB that
# realloc moved (copied or remapped).
set -eu
b=$(cd "${1:-build}" && pwd)
prog=$b/bench/realloc_grow
libdir=/usr/lib/x86_64-linux-gnu
reps=${REPS:-3}
allocs="uma=$b/libuma-malloc.so glibc= jemalloc=$libdir/libjemalloc.so.2
tcmalloc=$libdir/libtcmalloc_minimal.so.4 mimalloc=$libdir/libmimalloc.so.2"
cases=${CASES:-"alone:32:4096 alone:256:65536 alone:1024:1048576
walled:32:4096 walled:256:65536 two:32:4096 two:256:4096 two:256:65536
two:1024:1048576"}

# median LIB MODE MIB STEP: "<seconds> <MiB moved>" of the median run.
median() {
	lib=$1
	shift
	for r in $(seq "$reps"); do
		env ${lib:+LD_PRELOAD=$lib} "$prog" "$@"
	done | sort -n -k4 | awk -v n="$reps" \
	    'NR == int((n + 1) / 2) { print $4, $5 }'
}

names=
for a in $allocs; do
	lib=${a#*=}
	[ -n "$lib" ] && [ ! -e "$lib" ] && continue
	names="$names $a"
done
printf "%-22s" "mode MiB step"
for a in $names; do
	printf " %18s" "${a%%=*}"
done
printf "\n"
for c in $cases; do
	args=$(echo "$c" | tr : ' ')
	glibc=$(median "" $args)
	base=${glibc% *}
	printf "%-22s" "$args"
	for a in $names; do
		name=${a%%=*} lib=${a#*=}
		if [ "$name" = glibc ]; then
			set -- $glibc
		else
			set -- $(median "$lib" $args)
		fi
		ratio=$(echo "$1 $base" | awk '{ printf "%.2f", $1 / $2 }')
		if [ "$name" = uma ]; then
			printf " %7.3f %4s %4.0fM" "$1" "$ratio" "$2"
		else
			printf " %12.3f %5s" "$1" "$ratio"
		fi
	done
	printf "\n"
done
printf "(seconds, ratio to glibc; uma: MiB realloc moved)\n"
