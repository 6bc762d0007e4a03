#!/bin/sh
# preload_run.sh LIB CASE SRCDIR [UMASTAT]: run a real program on a fixed
# input with and without LD_PRELOAD=LIB; the outputs must be byte-identical
# and both runs must exit 0.  Exit 77 (skipped) if the program is missing.
# With UMASTAT, a third run has the export endpoint on (UMA_EXPORT=1) and
# must print the same, and while it runs umastat -p PID must answer -z
# (with the malloc zones), -m, -k and sysctl for one of its processes.
set -u
lib=$1 case=$2 src=$3 umastat=${4:-}
tmp=$(mktemp -d /tmp/uma_preload.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "SKIP: $1 is not installed"
	exit 77
}

# Each case: prepare (once) then run_case DIR (prints the output to compare).
case $case in
python)
	need python3
	cat > "$tmp/work.py" <<'PY'
import hashlib, json, random
random.seed(7)
d = {}
for i in range(80000):
    d["k%d" % i] = [random.random() for _ in range(3)] + ["x" * (i % 50)]
s = json.dumps(d, sort_keys=True)
d2 = json.loads(s)
l = sorted(d2.items(), key=lambda kv: kv[1][0])
t = [str(i) * (i % 20) for i in range(100000)]
big = [bytearray(random.randrange(1, 200000)) for _ in range(300)]
print(len(s), hashlib.sha256(s.encode()).hexdigest(), l[0][0], len(t),
      sum(len(b) for b in big))
PY
	run_case() { python3 "$tmp/work.py"; }
	;;
sort)
	need sort
	awk 'BEGIN { srand(11); for (i = 0; i < 1000000; i++)
	    printf "%08x %d line\n", int(rand() * 4294967295), i }' \
	    > "$tmp/lines"
	run_case() { LC_ALL=C sort -S 64M "$tmp/lines" | cksum; }
	;;
git)
	need git
	run_case() {
		r=$(mktemp -d "$tmp/repo.XXXXXX")
		export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t \
		    GIT_COMMITTER_EMAIL=t@e GIT_AUTHOR_DATE="2020-01-01T00:00:00Z" \
		    GIT_COMMITTER_DATE="2020-01-01T00:00:00Z" HOME=$tmp \
		    GIT_CONFIG_NOSYSTEM=1
		git -C "$r" init -q -b main
		for d in src include tests; do
			cp -r "$src/$d" "$r/"
			git -C "$r" add -A
			git -C "$r" commit -q -m "add $d"
		done
		sed -i 's/the/THE/g' "$r"/src/*.c
		git -C "$r" commit -q -a -m "edit"
		git -C "$r" log --stat --format='%H %s'
		git -C "$r" diff HEAD~1 | cksum
		git -C "$r" gc -q
		git -C "$r" fsck --full 2>&1
		git -C "$r" count-objects -v | grep -v size
		git -C "$r" rev-list --all --objects | sort | cksum
	}
	;;
gcc)
	need gcc
	run_case() {
		gcc -O2 -S -o - -D_GNU_SOURCE -DUMA_DEBUG=0 -I"$src/include" \
		    -I"$src/src" "$src/src/vmmap.c"
	}
	;;
sqlite)
	need sqlite3
	run_case() {
		rm -f "$tmp/db"
		sqlite3 "$tmp/db" <<'SQL'
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
    WHERE x < 200000)
INSERT INTO t SELECT x, printf('key%08d', (x * 7919) % 200000),
    zeroblob(500) FROM c;
CREATE INDEX tk ON t(k);
SELECT count(*), sum(length(v)) FROM t;
SELECT k FROM t ORDER BY k LIMIT 3;
SELECT count(*) FROM t a JOIN t b ON a.k = b.k WHERE a.id % 1000 = 0;
SELECT sum(id) FROM (SELECT id FROM t ORDER BY k DESC LIMIT 1000);
SQL
		ls -l "$tmp/db" | awk '{ print ($5 > 100000000) }'
	}
	;;
xz)
	need xz
	awk 'BEGIN { srand(3); for (i = 0; i < 200000; i++)
	    printf "%d %s %x\n", i, (rand() < 0.5 ? "alpha" : "beta"),
	    int(rand() * 65536) }' > "$tmp/input"
	run_case() { xz -T2 -3 --block-size=1MiB -c "$tmp/input" | cksum; }
	;;
ulimit)
	# Under an address-space and a data limit, as a user sets them: the
	# program runs as on glibc, and asking for more than the limit is
	# Python's MemoryError, not an abort.
	need python3
	cat > "$tmp/limit.py" <<'PY'
b = bytearray()
for i in range(4096):
    b += bytes([i % 251]) * 4096
l = [str(i) * 10 for i in range(200000)]
print(len(b), sum(b[::4096]), len(l), l[-1])
try:
    bytearray(1 << 30)
except MemoryError:
    print("MemoryError")
PY
	run_case() {
		(ulimit -v 262144 && python3 "$tmp/limit.py") &&
		(ulimit -d 204800 && python3 "$tmp/limit.py")
	}
	;;
*)
	echo "unknown case $case"
	exit 2
	;;
esac

run_case > "$tmp/plain.out" 2> "$tmp/plain.err"
st1=$?
LD_PRELOAD=$lib run_case > "$tmp/uma.out" 2> "$tmp/uma.err"
st2=$?
status=0
if [ $st1 -ne 0 ] || [ $st2 -ne 0 ]; then
	echo "FAIL: exit status plain=$st1 preloaded=$st2"
	status=1
fi
if ! cmp -s "$tmp/plain.out" "$tmp/uma.out"; then
	echo "FAIL: outputs differ"
	diff "$tmp/plain.out" "$tmp/uma.out" | head -20
	status=1
fi
if ! cmp -s "$tmp/plain.err" "$tmp/uma.err"; then
	echo "FAIL: stderr differs"
	diff "$tmp/plain.err" "$tmp/uma.err" | head -20
	status=1
fi
# Every view of one live process, each within 2 s: 0 if all answered.
views() {
	timeout 2 "$umastat" -p $1 -z > "$tmp/z" 2>/dev/null &&
	    grep -q '^malloc-[0-9]*:' "$tmp/z" &&
	    timeout 2 "$umastat" -p $1 -m 2>/dev/null | grep -q '^ *libc ' &&
	    timeout 2 "$umastat" -p $1 -k > /dev/null 2>&1 &&
	    timeout 2 "$umastat" -p $1 sysctl vm.zone_count > /dev/null 2>&1
}

if [ -n "$umastat" ]; then
	export UMA_EXPORT_DIR=$tmp/sock
	UMA_EXPORT=1 LD_PRELOAD=$lib run_case > "$tmp/export.out" \
	    2> "$tmp/export.err" &
	job=$!
	caught=
	while kill -0 $job 2>/dev/null; do
		for s in "$tmp"/sock/*.sock; do
			[ -S "$s" ] || continue
			p=$(basename "$s" .sock)
			[ -z "$caught" ] && views $p && caught=$p
		done
		sleep 0.02
	done
	wait $job
	st3=$?
	if [ $st3 -ne 0 ] || ! cmp -s "$tmp/plain.out" "$tmp/export.out"; then
		echo "FAIL: with UMA_EXPORT=1: status $st3, output differs:"
		diff "$tmp/plain.out" "$tmp/export.out" | head -20
		head -20 "$tmp/export.err"
		status=1
	fi
	if [ -z "$caught" ]; then
		echo "FAIL: with UMA_EXPORT=1 no process answered every view"
		status=1
	else
		echo "with UMA_EXPORT=1: pid $caught answered -z, -m, -k, sysctl"
	fi
fi
echo "$case: $(wc -c < "$tmp/plain.out") bytes of output, status $st1/$st2"
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
