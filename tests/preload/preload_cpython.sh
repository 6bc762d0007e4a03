#!/bin/sh
# preload_cpython.sh LIB: CPython's own test_threading (threads that come
# and go, pthread_exit of the main thread, fork from threads, exit while
# threads run) passes under LD_PRELOAD=LIB as it does without: every test
# that passes plainly passes preloaded, and the run ends (a process that
# uma's threads keep alive hangs it).  Exit 77 (skipped) without a python3
# that has its test package (Debian: libpython3.X-testsuite).
set -u
lib=$1
tmp=$(mktemp -d /tmp/uma_cpython.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
py=
for p in python3 /usr/bin/python3; do
	if command -v $p >/dev/null 2>&1 &&
	    $p -c 'import test.test_threading' 2>/dev/null; then
		py=$p
		break
	fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with test.test_threading"; exit 77; }

# run OUT ENV...: one line per test, "<description> ... <outcome>", sorted.
run() {
	out=$1
	shift
	timeout 240 env "$@" $py -m test test_threading -v 2>&1 |
	    grep -E ' \.\.\. (ok|FAIL|ERROR|skipped|expected failure)' |
	    sed 's/ \.\.\. skipped.*/ ... skipped/' | sort > "$out.out"
}
run "$tmp/plain"
run "$tmp/uma" LD_PRELOAD="$lib"
grep ' \.\.\. ok$' "$tmp/plain.out" > "$tmp/plain.ok"
grep ' \.\.\. ok$' "$tmp/uma.out" > "$tmp/uma.ok"
status=0
# Tests that passed plainly but not preloaded.
if ! comm -23 "$tmp/plain.ok" "$tmp/uma.ok" > "$tmp/lost" || [ -s "$tmp/lost" ]; then
	echo "FAIL: passed without uma, not under LD_PRELOAD:"
	cat "$tmp/lost"
	status=1
fi
for t in test_3_join_in_forked_from_thread \
    test_main_thread_after_fork_from_nonmain_thread; do
	grep -q "$t.* \.\.\. ok$" "$tmp/uma.out" ||
	    { echo "FAIL: $t did not pass under LD_PRELOAD"; status=1; }
done
n=$(wc -l < "$tmp/plain.ok")
[ "$n" -gt 100 ] || { echo "FAIL: only $n tests passed plainly"; status=1; }
echo "test_threading: $n passed plainly, $(wc -l < "$tmp/uma.ok") preloaded"
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
