#!/bin/sh
# malloc_run.sh [BUILD_DIR]: run bench/malloc_workloads under uma
# (LD_PRELOAD libuma-malloc.so), glibc, jemalloc, tcmalloc and mimalloc;
# print wall time (median of REPS, timed inside the program) and peak RSS
# (VmHWM, the largest of REPS; the median with RSS=median) of each, and each allocator's ratio to the best
# peer (lower is better), plus geometric means.  Peers that are not
# installed are left out.
set -eu
b=${1:-build}
prog=$b/bench/malloc_workloads/malloc_workloads
libdir=/usr/lib/x86_64-linux-gnu
reps=${REPS:-3}
workloads=${WORKLOADS:-"larson mstress xmalloc cache-scratch simple thread small large"}
allocs="uma=$b/libuma-malloc.so glibc= jemalloc=$libdir/libjemalloc.so.2
tcmalloc=$libdir/libtcmalloc_minimal.so.4 mimalloc=$libdir/libmimalloc.so.2"
out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT

# Repetitions go round the allocators, each round starting one further
# on: a stretch of machine noise (this VM has some lasting tens of
# milliseconds) then lands on every allocator alike, not on the five
# repetitions of whichever ran at the time.
names=
for a in $allocs; do
	lib=${a#*=}
	[ -n "$lib" ] && [ ! -e "$lib" ] && continue
	names="$names $a"
done
set -- $names
n=$#
for w in $workloads; do
	for a in $names; do : > "$out.${a%%=*}"; done
	for r in $(seq "$reps"); do
		i=0
		while [ $i -lt $n ]; do
			eval "a=\${$(( (r + i) % n + 1 ))}"
			name=${a%%=*} lib=${a#*=}
			env ${lib:+LD_PRELOAD=$lib} "$prog" "$w" >> "$out.$name"
			i=$((i + 1))
		done
	done
	for a in $names; do
		name=${a%%=*}
		# The median time of the repetitions; the largest peak RSS, or
		# with RSS=median the median one.
		m=$(sort -n -k3 "$out.$name" | awk -v how="${RSS:-max}" '
		    { m[NR] = $3 }
		    END { print how == "median" ? m[int((NR + 1) / 2)] : m[NR] }')
		sort -n -k2 "$out.$name" | awk -v w="$w" -v n="$name" -v m="$m" '
		    { t[NR] = $2 }
		    END { printf "%s %s %s %s\n", w, n, t[int((NR + 1) / 2)], m }' \
		    >> "$out"
	done
done

awk '
{ t[$1, $2] = $3; m[$1, $2] = $4; w[$1] = 1; a[$2] = 1
  if (!($2 in seen)) { order[++na] = $2; seen[$2] = 1 }
  if (!($1 in wseen)) { worder[++nw] = $1; wseen[$1] = 1 } }
END {
	printf "%-14s", "workload"
	for (i = 1; i <= na; i++) printf " %23s", order[i]
	printf "\n"
	for (j = 1; j <= nw; j++) {
		x = worder[j]; bt = 1e9; bm = 1e18
		for (i = 1; i <= na; i++) {
			n = order[i]
			if (n == "uma") continue
			if (t[x, n] < bt) bt = t[x, n]
			if (m[x, n] < bm) bm = m[x, n]
		}
		if (bt <= 0) bt = 0.001
		printf "%-14s", x
		for (i = 1; i <= na; i++) {
			n = order[i]
			tt = (t[x, n] > 0 ? t[x, n] : 0.001)
			printf " %6.3fs %4.0fM %4.2f/%4.2f", t[x, n], m[x, n] / 1024,
			    tt / bt, m[x, n] / bm
			lt[n] += log(tt / bt); lm[n] += log(m[x, n] / bm)
		}
		printf "\n"
	}
	printf "%-14s", "geomean"
	for (i = 1; i <= na; i++)
		printf " %23s", sprintf("%4.2f/%4.2f", exp(lt[order[i]] / nw),
		    exp(lm[order[i]] / nw))
	printf "\n(time s, peak RSS MiB, ratio to the best peer: time/RSS)\n"
}' "$out"
