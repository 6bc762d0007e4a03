#!/bin/sh
# top_tmux.sh UMASTAT FLEET_WORKLOAD - `umastat top` in a real terminal
# (a detached tmux session of a fixed size, driven by send-keys and read
# with capture-pane): it shows a running workload's zones sorted by
# memory, re-sorts by name on N, shows the malloc types on m, survives a
# resize and its process exiting (and says so), and quits on q.  Without
# a terminal it refuses and points at -w.  Exit 77 (skipped) without tmux.
umastat=$1
workload=$2
if ! command -v tmux >/dev/null 2>&1; then
	echo "tmux not installed: skipped (apt-get install tmux)" >&2
	exit 77
fi
dir=$(mktemp -d /tmp/uma_top.XXXXXX)
export UMA_EXPORT_DIR="$dir"
tsock="$dir/tmux.sock"
pids=""
cleanup() {
	tmux -S "$tsock" kill-server 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	echo "--- screen:" >&2
	tmux -S "$tsock" capture-pane -p -t "${target:-top}" >&2 2>/dev/null
	exit 1
}
screen() { tmux -S "$tsock" capture-pane -p -t "$target"; }
# The line number of the first screen line matching $1 (0: none).
line_of() { screen | grep -n -m1 -- "$1" | cut -d: -f1 | grep . || echo 0; }
# Wait up to 10 s for `eval $1` to succeed.
wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "timed out waiting for: $1"
		sleep 0.1
	done
}
# A workload that holds ITEMS items until killed; its pid in $wpid.
start_workload() {
	mkfifo "$dir/in.$1"
	"$workload" "$1" 20 <"$dir/in.$1" >"$dir/out.$1" &
	wpid=$!
	pids="$pids $wpid"
	exec 9>"$dir/in.$1"	# its stdin stays open
	wait_for "grep -q ready '$dir/out.$1'"
}

# No terminal: a clear refusal that points at -w.
if "$umastat" top </dev/null >"$dir/out" 2>"$dir/err"; then
	fail "top ran without a terminal"
fi
grep -q -- "-w SECONDS" "$dir/err" || fail "no pointer to -w: $(cat "$dir/err")"

start_workload 5000
w1=$wpid
target=top
tmux -S "$tsock" new-session -d -s top -x 150 -y 30 \
    "env UMA_EXPORT_DIR='$dir' '$umastat' top -w 0.2" ||
    fail "tmux new-session"
wait_for '[ $(line_of "fleet_aaa") -gt 0 ] && [ $(line_of "fleet_big") -gt 0 ]'
screen | grep -q "^ *$w1 fleet_workload  fleet_big  *200  *5000 " ||
    fail "fleet_big's row"
# Sorted by memory: fleet_big (5,000 items) above fleet_aaa (3).
[ "$(line_of fleet_big)" -lt "$(line_of fleet_aaa)" ] ||
    fail "not sorted by memory"
tmux -S "$tsock" send-keys -t top N
wait_for '[ $(line_of "fleet_aaa") -lt $(line_of "fleet_big") ] &&
    screen | grep -q "\[N name\]"'
tmux -S "$tsock" send-keys -t top m
wait_for 'screen | grep -q "fleet_buf  *20 "'
tmux -S "$tsock" send-keys -t top z
wait_for '[ $(line_of "fleet_big") -gt 0 ]'
# A smaller terminal: redrawn, the header on its first line and the
# footer on its last (tmux's own reflow of the old screen has not both).
tmux -S "$tsock" resize-window -t top -x 70 -y 12
wait_for '[ "$(screen | sed -n 12p | cut -c1-7)" = "z zones" ] &&
    screen | head -1 | grep -q "^umastat top - 1 uma process"'
kill "$w1"
wait_for 'screen | grep -q "process $w1 (fleet_workload) has exited"'
tmux -S "$tsock" send-keys -t top q
wait_for '! tmux -S "$tsock" has-session -t top 2>/dev/null'

# One process (-p): it stays on screen, marked, once it exits.
start_workload 100
w2=$wpid
target=one
tmux -S "$tsock" new-session -d -s one -x 150 -y 30 \
    "env UMA_EXPORT_DIR='$dir' '$umastat' top -p $w2 -w 0.2" ||
    fail "tmux new-session"
wait_for 'screen | grep -q "^fleet_big  *200  *100 "'
kill "$w2"
wait_for 'screen | head -1 | grep -q "process $w2 (fleet_workload), EXITED" &&
    screen | grep -q "^fleet_big  *200  *100 "'
tmux -S "$tsock" send-keys -t one q
wait_for '! tmux -S "$tsock" has-session -t one 2>/dev/null'
echo "ok"
