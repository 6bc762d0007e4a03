#!/bin/sh
# boot_export.sh UMASTAT TARGET CASE: a uma program (tests/tools/
# boot_target.c, linked with libuma: in the sanitizer builds too) whose
# endpoint comes from its environment alone, read by `umastat -p PID`:
#   env100   UMA_EXPORT=1: started 100 times, each answers -z with its
#            zone within 2 s (a start-up that hangs or races fails here)
#   tunable  UMA_TUNABLES=uma.export=1, every view
#   fork     a fork child exports too, on its own socket, its own zones
set -u
umastat=$1 target=$2 case=$3
tmp=$(mktemp -d /tmp/uma_boot.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
export UMA_EXPORT_DIR=$tmp/sock

fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

# start ENV... -- ARGS...: the target with stdin on a fifo we hold open.
start() {
	mkfifo "$tmp/in"
	env "$@" "$target" 1000 ${fork_args:-} < "$tmp/in" > "$tmp/pids" &
	pid=$!
	exec 3> "$tmp/in"
}

stop() {
	exec 3>&-
	wait $pid || fail "the target exited with status $?"
	pid=
	rm -f "$tmp/in" "$tmp/pids"
}

# ask PID PATTERN ARGS...: umastat -p PID ARGS until a line matches, 2 s.
ask() {
	p=$1 pattern=$2
	shift 2
	deadline=$(($(date +%s%N) + 2000000000))
	while :; do
		if timeout 2 "$umastat" -p $p "$@" > "$tmp/out" 2> "$tmp/err" &&
		    grep -Eq "$pattern" "$tmp/out"; then
			return 0
		fi
		[ "$(date +%s%N)" -lt $deadline ] || break
		sleep 0.02
	done
	cat "$tmp/err" "$tmp/out" | head -20
	fail "umastat -p $p $* gave no line matching '$pattern' within 2 s"
}

case $case in
env100)
	i=0
	while [ $i -lt 100 ]; do
		start UMA_EXPORT=1
		ask $pid '^boot_target:' -z
		stop
		i=$((i + 1))
	done
	echo "100 rounds answered"
	;;
tunable)
	start UMA_TUNABLES=uma.export=1
	ask $pid '^boot_target: +96, +0, +1000,' -z
	ask $pid '[0-9]' -k
	ask $pid '^uma.export: 1$' sysctl uma.export
	stop
	;;
fork)
	fork_args="fork 333"
	start UMA_EXPORT=1
	i=0
	while [ ! -s "$tmp/pids" ] && [ $i -lt 500 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	read parent child < "$tmp/pids" || fail "no pids from the target"
	ask $parent '^boot_target: +96, +0, +1000,' -z
	grep -q '^boot_child:' "$tmp/out" && fail "the parent shows the child's zone"
	ask $child '^boot_child: +96, +0, +333,' -z
	[ -S "$UMA_EXPORT_DIR/$parent.sock" ] && [ -S "$UMA_EXPORT_DIR/$child.sock" ] ||
	    fail "not one socket each"
	stop
	;;
*)
	fail "unknown case $case"
	;;
esac
echo "1 passed, 0 failed"
