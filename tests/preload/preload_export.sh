#!/bin/sh
# preload_export.sh LIB UMASTAT CASE: the README's promise, literally: an
# unmodified program started with LD_PRELOAD=libuma-malloc.so and the
# endpoint switched on from its environment answers `umastat -p PID`.
#
#   python100  python3 started 100 times with UMA_EXPORT=1; each time
#              `umastat -p PID -z` must answer within 2 s and show the
#              malloc zones (a start-up that hangs or races fails here)
#   views      one python3: -z, -m, -k and sysctl all answer, and show it
#   tunable    the same switched on with UMA_TUNABLES=uma.export=1
#   fork PROG  preload_export_fork: a threaded program that forks; parent
#              and child each answer on their own socket, each with its
#              own count of the blocks it holds
# Exit 77 (skipped) if python3 is missing.
set -u
lib=$1 umastat=$2 case=$3 prog=${4:-}
tmp=$(mktemp -d /tmp/uma_export.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
[ $case = fork ] || command -v python3 >/dev/null 2>&1 ||
    { echo "SKIP: no python3"; exit 77; }
export UMA_EXPORT_DIR=$tmp/sock

fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

# Start python3 preloaded (with the environment given as arguments): it
# allocates, then blocks reading a pipe that this script holds open.
start() {
	mkfifo "$tmp/in"
	env LD_PRELOAD="$lib" "$@" python3 -c '
import sys
keep = [str(i) * 8 for i in range(20000)]
sys.stdin.read()
' < "$tmp/in" &
	pid=$!
	exec 3> "$tmp/in"	# opened only once python3 opened its end
}

stop() {
	exec 3>&-
	wait $pid || fail "python3 exited with status $?"
	pid=
	rm -f "$tmp/in"
}

# `umastat -p $pid ARGS...` until it answers with a line matching the
# extended regular expression PATTERN, for at most 2 s (the endpoint may
# answer before the program made the zones); its output is in $tmp/out.
ask() {
	pattern=$1
	shift
	deadline=$(($(date +%s%N) + 2000000000))
	while :; do
		if timeout 2 "$umastat" -p $pid "$@" > "$tmp/out" 2> "$tmp/err" &&
		    grep -Eq "$pattern" "$tmp/out"; then
			return 0
		fi
		[ "$(date +%s%N)" -lt $deadline ] || break
		sleep 0.02
	done
	cat "$tmp/err" "$tmp/out" | head -20
	fail "umastat -p $pid $* gave no line matching '$pattern' within 2 s"
}

case $case in
python100)
	i=0
	while [ $i -lt 100 ]; do
		start UMA_EXPORT=1
		ask '^malloc-[0-9]+:' -z
		stop
		i=$((i + 1))
	done
	echo "100 rounds answered"
	;;
views|tunable)
	if [ $case = views ]; then
		start UMA_EXPORT=1
	else
		start UMA_TUNABLES=uma.export=1
	fi
	ask '^malloc-[0-9]+:' -z
	ask '^ *libc +[0-9]+' -m
	ask '[0-9]' -k
	ask '^vm.zone_count: ([4-9]|[1-9][0-9]+)$' sysctl vm.zone_count
	ask '^uma.export: 1$' sysctl uma.export
	stop
	;;
fork)
	mkfifo "$tmp/in"
	# Its malloc's class zones are what the views must show: a run of
	# the suite that guards every malloc (vm.memguard.desc=libc) would
	# leave them empty; MemGuard is off here.
	env LD_PRELOAD="$lib" UMA_EXPORT=1 \
	    UMA_TUNABLES="${UMA_TUNABLES:+$UMA_TUNABLES,}vm.memguard.desc=" \
	    "$prog" < "$tmp/in" > "$tmp/pids" &
	pid=$!
	exec 3> "$tmp/in"
	i=0
	while [ ! -s "$tmp/pids" ] && [ $i -lt 500 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	read parent child < "$tmp/pids" || fail "no pids from $prog"
	[ "$parent" = $pid ] || fail "parent pid $parent, expected $pid"
	for who in "$parent 37" "$child 53"; do
		set -- $who
		pid=$1
		ask '"name":"malloc-10240"' -z --json
		used=$(sed -n 's/.*"name":"malloc-10240",[^}]*"used":\([0-9]*\).*/\1/p' \
		    "$tmp/out")
		[ "$used" = $2 ] ||
		    fail "pid $1 holds $2 blocks of malloc-10240, umastat says '$used'"
		[ -S "$UMA_EXPORT_DIR/$1.sock" ] || fail "no socket for pid $1"
	done
	pid=$parent
	stop
	;;
*)
	fail "unknown case $case"
	;;
esac
echo "1 passed, 0 failed"
