#!/bin/sh
# malloc_run.sh [BUILD_DIR]: run every workload of bench/malloc_workloads
# under uma (LD_PRELOAD libuma-malloc.so), glibc, jemalloc, tcmalloc and
# mimalloc, in interleaved rounds, and print markdown tables of wall time
# (median of REPS, timed inside the program) and peak RSS (VmHWM, the
# largest of REPS; the median with RSS=median), each with its ratio to
# glibc, the geometric means, and uma's ratio to the best peer with the
# worst case.  Peers that are not installed are left out.
#
# Environment: REPS (3), RSS (max|median), WORKLOADS (all that
# `malloc_workloads --list` prints), ALLOCS (uma glibc jemalloc tcmalloc
# mimalloc; also uma-base: the libuma-malloc.so of the build UMA_BASE
# names, for a before/after in one run, and uma-memguard: uma with
# MEMGUARD, default vm.memguard.frequency=100, in UMA_TUNABLES), TIMEOUT
# (seconds a run may take, 20: a run cut short counts
# as TIMEOUT seconds and is marked ">"), RAW (a file to keep the raw
# lines in).  Progress goes to stderr, the tables to stdout.
set -eu
b=${1:-build}
prog=$b/bench/malloc_workloads/malloc_workloads
reps=${REPS:-3}
tmo=${TIMEOUT:-20}
if [ ! -x "$prog" ]; then
	echo "malloc_run.sh: no $prog; build first:" >&2
	echo "  cmake -B $b -DCMAKE_BUILD_TYPE=Release && cmake --build $b -j2" >&2
	exit 2
fi
# Absolute: the real programs run in a directory of their own, and a
# relative LD_PRELOAD would not load there (ld.so only warns).
b=$(cd "$b" && pwd)
prog=$b/bench/malloc_workloads/malloc_workloads
workloads=${WORKLOADS:-$("$prog" --list)}
wanted=${ALLOCS:-"uma glibc jemalloc tcmalloc mimalloc"}

# The path of shared library $1 (a soname), from the loader's cache or
# the usual directories; nothing if it is not installed.
find_lib() {
	p=$(ldconfig -p 2>/dev/null | awk -v l="$1" '$1 == l { print $NF; exit }')
	if [ -n "$p" ] && [ -e "$p" ]; then
		echo "$p"
		return
	fi
	for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		if [ -e "$d/$1" ]; then
			echo "$d/$1"
			return
		fi
	done
}

# name=preload pairs, in the order of $wanted; glibc has no preload.
allocs=
for a in $wanted; do
	case $a in
	uma|uma-memguard) lib=$b/libuma-malloc.so ;;
	uma-base) lib=${UMA_BASE:?uma-base needs UMA_BASE=BUILD_DIR}/libuma-malloc.so ;;
	glibc) allocs="$allocs glibc="; continue ;;
	jemalloc) lib=$(find_lib libjemalloc.so.2) ;;
	tcmalloc) lib=$(find_lib libtcmalloc_minimal.so.4) ;;
	mimalloc) lib=$(find_lib libmimalloc.so.2) ;;
	*) echo "malloc_run.sh: unknown allocator $a" >&2; exit 2 ;;
	esac
	if [ -z "$lib" ] || [ ! -e "$lib" ]; then
		echo "malloc_run.sh: $a is not installed, left out" >&2
		continue
	fi
	allocs="$allocs $a=$lib"
done

raw=${RAW:-$(mktemp)}
[ -n "${RAW:-}" ] || trap 'rm -f "$raw"' EXIT
: > "$raw"

# One run: append "<workload> <alloc> <status> <seconds> <peak KiB>" to
# the raw file; status ok, timeout, fail or skip (exit 3: a program the
# workload runs is not installed).
run_one() {	# workload name lib
	set +e
	tun=
	[ "$2" = uma-memguard ] &&
	    tun="UMA_TUNABLES=${MEMGUARD:-vm.memguard.frequency=100}"
	line=$(env ${3:+LD_PRELOAD=$3} $tun timeout "$tmo" "$prog" "$1" \
	    2>"$raw.err")
	rc=$?
	set -e
	case $rc in
	0) echo "$1 $2 ok $(echo "$line" | awk '{ print $2, $3 }')" ;;
	124) echo "$1 $2 timeout $tmo 0" ;;
	3) echo "$1 $2 skip 0 0" ;;
	*) echo "$1 $2 fail 0 0"
	   echo "  $1 under $2: exit $rc: $(tail -n 1 "$raw.err")" >&2 ;;
	esac >> "$raw"
}

# Repetitions go round the allocators, each round starting one further
# on: a stretch of machine noise (this VM has some lasting tens of
# milliseconds) then lands on every allocator alike, not on the
# repetitions of whichever ran at the time.
set -- $allocs
n=$#
started=$(date +%s)
for w in $workloads; do
	echo "$w ..." >&2
	for r in $(seq "$reps"); do
		i=0
		while [ $i -lt $n ]; do
			eval "a=\${$(( (r + i) % n + 1 ))}"
			run_one "$w" "${a%%=*}" "${a#*=}"
			i=$((i + 1))
		done
	done
done
rm -f "$raw.err"

order=
for a in $allocs; do order="$order ${a%%=*}"; done
awk -v rssmode="${RSS:-max}" -v reps="$reps" -v tmo="$tmo" -v order="$order" \
    -v load="$(cut -d' ' -f1-3 /proc/loadavg)" \
    -v secs="$(( $(date +%s) - started ))" '
function median(v, k,    i, j, t) {	# v[1..k], sorted in place
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return v[int((k + 1) / 2)]
}
BEGIN {
	na = split(order, aorder, " ")
	for (i = 1; i <= na; i++) aseen[aorder[i]] = 1
}
{
	w = $1; a = $2
	if (!(w in wseen)) { wseen[w] = 1; worder[++nw] = w }
	if ($3 == "ok" || $3 == "timeout") {
		k = ++nt[w, a]; tv[w, a, k] = $4; mv[w, a, k] = $5
		if ($3 == "timeout") cut[w, a] = 1
	} else
		bad[w, a] = $3
}
END {
	for (j = 1; j <= nw; j++) {
		w = worder[j]
		for (i = 1; i <= na; i++) {
			a = aorder[i]; k = nt[w, a]
			if (k == 0 || (w, a) in bad) { st[w, a] = "x"; continue }
			for (r = 1; r <= k; r++) { t1[r] = tv[w, a, r]; m1[r] = mv[w, a, r] }
			T[w, a] = median(t1, k)
			median(m1, k)
			M[w, a] = (rssmode == "median" ? m1[int((k + 1) / 2)] : m1[k]) / 1024
			if (T[w, a] <= 0) T[w, a] = 0.0001
		}
	}
	table("Time (s): median of " reps " runs; (ratio to glibc)", "t")
	table("Peak RSS (MiB): " (rssmode == "median" ? "median" : "largest") \
	    " of " reps " runs; (ratio to glibc)", "m")
	printf "\n%d runs of %d workloads, %d s; load average at the end %s.\n", \
	    reps, nw, secs, load
	printf "\">\": cut at TIMEOUT=%d s (a lower bound; no peak RSS).  " \
	    "FAIL: the workload failed (stderr says why).  skip: a program it " \
	    "runs is not installed.\n", tmo
}
function val(w, a, what) { return what == "t" ? T[w, a] : M[w, a] }
# Is there no figure for w under a?  A run cut short has no peak RSS.
function none(w, a, what) {
	return st[w, a] == "x" || (what == "m" && (w, a) in cut)
}
function cell(w, a, what,    s) {
	if (st[w, a] == "x")
		return (bad[w, a] == "skip" ? "skip" : "FAIL")
	if (none(w, a, what))
		return "cut"
	s = sprintf(what == "t" ? "%.3f" : "%.1f", val(w, a, what))
	if (what == "t" && (w, a) in cut) s = ">" s
	if (("glibc" in aseen) && !none(w, "glibc", what))
		s = s sprintf(" (%.2f)", val(w, a, what) / val(w, "glibc", what))
	return s
}
function table(title, what,    i, j, w, a, best, bp, r, line) {
	printf "\n%s\n\n| workload |", title
	for (i = 1; i <= na; i++) printf " %s |", aorder[i]
	printf " uma / best peer |\n|---|"
	for (i = 1; i <= na; i++) printf "---:|"
	printf "---:|\n"
	for (i = 1; i <= na; i++) {
		lg[i] = 0; ng[i] = 0; lb[i] = 0; nb[i] = 0; worst[i] = 0; ww[i] = "-"
		lo[i] = ""
	}
	for (j = 1; j <= nw; j++) {
		w = worder[j]
		printf "| %s |", w
		for (i = 1; i <= na; i++) printf " %s |", cell(w, aorder[i], what)
		# The best peer: the lowest of the other allocators that ran.
		best = 0; bp = ""
		for (i = 1; i <= na; i++) {
			a = aorder[i]
			if (a ~ /^uma/ || none(w, a, what)) continue
			if (bp == "" || val(w, a, what) < best) { best = val(w, a, what); bp = a }
		}
		for (i = 1; i <= na; i++) {
			a = aorder[i]
			if (none(w, a, what)) continue
			if (what == "t" && (w, a) in cut) lo[i] = ">"
			if (("glibc" in aseen) && !none(w, "glibc", what)) {
				lg[i] += log(val(w, a, what) / val(w, "glibc", what)); ng[i]++
			}
			# Each allocator against the best of the others.
			r = 0
			for (k2 = 1; k2 <= na; k2++) {
				o = aorder[k2]
				if (o == a || none(w, o, what)) continue
				if (r == 0 || val(w, o, what) < r) r = val(w, o, what)
			}
			if (r > 0) {
				lb[i] += log(val(w, a, what) / r); nb[i]++
				if (val(w, a, what) / r > worst[i]) {
					worst[i] = val(w, a, what) / r; ww[i] = w
				}
			}
		}
		if (!("uma" in aseen) || bp == "")
			printf " - |\n"
		else if (none(w, "uma", what))
			printf " %s (%s) |\n", cell(w, "uma", what), bp
		else
			printf " %s%.2f (%s) |\n", (what == "t" && (w, "uma") in cut) ? ">" : "", \
			    val(w, "uma", what) / best, bp
	}
	printf "| geomean vs glibc |"
	for (i = 1; i <= na; i++)
		printf " %s |", ng[i] ? sprintf("%s%.2f (%d)", lo[i],
		    exp(lg[i] / ng[i]), ng[i]) : "-"
	printf " |\n| geomean vs best other |"
	for (i = 1; i <= na; i++)
		printf " %s |", nb[i] ? sprintf("%s%.2f", lo[i], exp(lb[i] / nb[i])) : "-"
	printf " |\n| worst vs best other |"
	for (i = 1; i <= na; i++)
		printf " %s |", nb[i] ? sprintf("%.2f %s", worst[i], ww[i]) : "-"
	printf " |\n"
}' "$raw"
