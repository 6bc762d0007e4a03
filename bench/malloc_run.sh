#!/bin/sh
# malloc_run.sh [BUILD_DIR]: run bench/malloc_workloads under uma
# (LD_PRELOAD libuma-malloc.so), glibc, jemalloc, tcmalloc and mimalloc;
# print wall time and peak RSS of each, and each allocator's ratio to the
# best peer (lower is better), plus geometric means.  Peers that are not
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
trap 'rm -f "$out" "$out.t"' EXIT

for w in $workloads; do
	for a in $allocs; do
		name=${a%%=*} lib=${a#*=}
		[ -n "$lib" ] && [ ! -e "$lib" ] && continue
		best_t=999999 best_m=0
		for r in $(seq "$reps"); do
			env ${lib:+LD_PRELOAD=$lib} /usr/bin/time -f "%e %M" \
			    -o "$out.t" "$prog" "$w" >/dev/null
			read -r t m < "$out.t"
			best_t=$(awk -v a="$t" -v b="$best_t" \
			    'BEGIN { print (a < b ? a : b) }')
			best_m=$m
		done
		echo "$w $name $best_t $best_m" >> "$out"
	done
done

awk '
{ t[$1, $2] = $3; m[$1, $2] = $4; w[$1] = 1; a[$2] = 1
  if (!($2 in seen)) { order[++na] = $2; seen[$2] = 1 }
  if (!($1 in wseen)) { worder[++nw] = $1; wseen[$1] = 1 } }
END {
	printf "%-14s", "workload"
	for (i = 1; i <= na; i++) printf " %16s", order[i]
	printf "\n"
	for (j = 1; j <= nw; j++) {
		x = worder[j]; bt = 1e9; bm = 1e18
		for (i = 1; i <= na; i++) {
			n = order[i]
			if (n == "uma") continue
			if (t[x, n] < bt) bt = t[x, n]
			if (m[x, n] < bm) bm = m[x, n]
		}
		if (bt <= 0) bt = 0.01
		printf "%-14s", x
		for (i = 1; i <= na; i++) {
			n = order[i]
			tt = (t[x, n] > 0 ? t[x, n] : 0.01)
			printf " %5.2fs %4.0fM %4.2f/%4.2f", t[x, n], m[x, n] / 1024,
			    tt / bt, m[x, n] / bm
			lt[n] += log(tt / bt); lm[n] += log(m[x, n] / bm)
		}
		printf "\n"
	}
	printf "%-14s", "geomean"
	for (i = 1; i <= na; i++)
		printf " %16s", sprintf("%4.2f/%4.2f", exp(lt[order[i]] / nw),
		    exp(lm[order[i]] / nw))
	printf "\n(time s, peak RSS MiB, ratio to the best peer: time/RSS)\n"
}' "$out"
