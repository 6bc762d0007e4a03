#!/usr/bin/env bash
#
# run.sh - run every benchmark against every peer allocator and print one
# table per workload: ns per operation, and uma's time over the peer's
# (below 1: uma is faster).  Builds nothing; see bench/README.md.
#
#   bench/run.sh [BUILD_DIR]               timing tables (default build/)
#   bench/run.sh --callgrind [BUILD_DIR]   instructions per alloc+free pair
#   bench/run.sh --sizes [BUILD_DIR]       malloc pair and batch, 16..2048 B,
#                                          uma's malloc(3) against the peers
#
# Knobs (environment): BENCH_SIZE (64), BENCH_REPS (5), BENCH_BATCH (1000),
# PAIR_ITERS (50000000), BATCH_ITERS (20000000), PRODCONS_ITERS (2000000);
# for --sizes: MALLOC_SIZES ("16 32 64 128 256 512 1024 2048"),
# SIZES_ITERS (5000000 pairs, or operations of a batch).

set -u

callgrind=0
sizes=0
if [ "${1:-}" = "--callgrind" ]; then
	callgrind=1
	shift
elif [ "${1:-}" = "--sizes" ]; then
	sizes=1
	shift
fi
build=${1:-build}
bin=$build/bench
size=${BENCH_SIZE:-64}
reps=${BENCH_REPS:-5}
batch=${BENCH_BATCH:-1000}
pair_iters=${PAIR_ITERS:-50000000}
batch_iters=${BATCH_ITERS:-20000000}
prodcons_iters=${PRODCONS_ITERS:-2000000}

if [ ! -x "$bin/zone_bench" ]; then
	echo "run.sh: no $bin/zone_bench; build first:" >&2
	echo "  cmake -B $build -DCMAKE_BUILD_TYPE=Release &&" \
	    "cmake --build $build -j2" >&2
	exit 2
fi

# The peers, preloaded in front of zone_bench --malloc: name and soname.
peers="jemalloc:libjemalloc.so.2 tcmalloc:libtcmalloc_minimal.so.4
mimalloc:libmimalloc.so.2"

# Print the path of shared library $1, or nothing.
find_lib() {
	local p d

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

# Run one benchmark program; its result lines go to $results, a failure is
# reported and skipped.  Usage: bench NAME [VAR=VALUE ...] -- PROGRAM ARGS
bench() {
	local name=$1 out rc
	shift
	local envs=()
	while [ "$1" != "--" ]; do
		envs+=("$1")
		shift
	done
	shift
	out=$(env "${envs[@]}" "$@" 2>"$errfile")
	rc=$?
	if [ $rc -ne 0 ] || [ -z "$out" ]; then
		echo "  $name: skipped ($(basename "$1") exit $rc:" \
		    "$(tail -n 1 "$errfile"))" >&2
		return
	fi
	echo "$out" >>"$results"
}

# Every allocator on one workload: MODE [N] and the iteration count.
run_workload() {
	local iters=$1 peer name lib
	shift
	local args=(--size "$size" --reps "$reps" --iters "$iters" "$@")

	echo "running $* ..." >&2
	bench uma -- "$bin/zone_bench" --name uma "${args[@]}"
	bench uma-locked UMA_TUNABLES=vm.uma_rseq=0 -- \
	    "$bin/zone_bench" --name uma-locked "${args[@]}"
	if [ "$1" = "pair" ]; then
		bench rseq -- "$bin/rseq_baseline" "${args[@]}"
	fi
	bench glibc -- "$bin/zone_bench" --malloc --name glibc "${args[@]}"
	for peer in $peers; do
		name=${peer%%:*}
		lib=$(find_lib "${peer#*:}")
		if [ -z "$lib" ]; then
			echo "  $name: skipped (${peer#*:} not installed)" >&2
			continue
		fi
		bench "$name" LD_PRELOAD="$lib" -- \
		    "$bin/zone_bench" --malloc --name "$name" "${args[@]}"
	done
	if [ ! -x "$bin/dpdk_mempool" ]; then
		echo "  dpdk: skipped (not built: pkg-config found no libdpdk)" >&2
	elif [ "$(id -u)" -ne 0 ]; then
		echo "  dpdk: skipped (EAL needs root here)" >&2
	else
		bench dpdk -- "$bin/dpdk_mempool" "${args[@]}"
	fi
}

# One table per workload from the "<workload> <name> <size> <ns>" lines.
print_tables() {
	awk -v reps="$reps" -v size="$size" '
	{
		if (!($1 in seen)) {
			seen[$1] = 1
			order[++nw] = $1
		}
		ns[$1, ++n[$1]] = $4
		who[$1, n[$1]] = $2
		if ($2 == "uma")
			uma[$1] = $4
	}
	function title(w) {
		if (w == "pair")
			return "pair: alloc + free of one item, ns per pair"
		if (w ~ /^batch/)
			return w ": " substr(w, 6) " allocs then " substr(w, 6) \
			    " frees, ns per op (one alloc or one free)"
		if (w == "prodcons")
			return "prodcons: alloc on CPU 0, free on CPU 1, ns per item"
		return w
	}
	END {
		for (i = 1; i <= nw; i++) {
			w = order[i]
			printf("\n%s (%d B items, median of %d)\n", title(w), size,
			    reps)
			printf("  %-12s %10s %10s\n", "allocator", "ns", "uma/peer")
			for (j = 1; j <= n[w]; j++) {
				r = "-"
				if ((w in uma) && ns[w, j] > 0)
					r = sprintf("%.2f", uma[w] / ns[w, j])
				printf("  %-12s %10.2f %10s\n", who[w, j], ns[w, j], r)
			}
		}
	}' "$results"
	echo
	echo "uma/peer < 1: uma is faster.  uma-locked: UMA_TUNABLES=vm.uma_rseq=0" \
	    "(no rseq); rseq-call: the bare per-CPU rseq floor."
	echo "Load average before/after: $load_before / $(cut -d' ' -f1-3 \
	    /proc/loadavg); prodcons is only meaningful on a quiet machine."
}

# Instructions callgrind counts for one run: PRELOAD PROGRAM ARGS.  The
# preload is set for valgrind itself, which passes it on to its client
# (valgrind does not follow an "env" child).
cg_count() {
	local pre=$1
	shift
	env ${pre:+LD_PRELOAD="$pre"} valgrind --tool=callgrind \
	    --callgrind-out-file=/dev/null "$@" 2>&1 |
	    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

# Instructions per pair: the difference of two runs, so start-up, zone
# creation and the first bucket fills cancel.
# Usage: cg_pair NAME PRELOAD PROGRAM ARGS
cg_pair() {
	local name=$1 n1=100000 n2=200000 c1 c2
	shift
	c1=$(cg_count "$@" --size "$size" --reps 1 --warmup 0 --iters $n1 pair)
	c2=$(cg_count "$@" --size "$size" --reps 1 --warmup 0 --iters $n2 pair)
	if [ -z "$c1" ] || [ -z "$c2" ]; then
		echo "  $name: skipped (the run under valgrind failed)" >&2
		return
	fi
	awk -v n="$name" -v a="$c1" -v b="$c2" -v d=$((n2 - n1)) \
	    'BEGIN { printf("  %-12s %10.1f\n", n, (b - a) / d) }'
}

run_callgrind() {
	local peer name lib

	if ! command -v valgrind >/dev/null; then
		echo "run.sh: valgrind is not installed" >&2
		exit 2
	fi
	echo "pair under callgrind: instructions per alloc+free pair" \
	    "($size B items)"
	echo "Note: valgrind does not emulate rseq, so uma runs its locked" \
	    "per-CPU fallback here, not the rseq fast path."
	printf "  %-12s %10s\n" "allocator" "instr/pair"
	cg_pair uma "" "$bin/zone_bench"
	cg_pair uma-malloc "$build/libuma-malloc.so" "$bin/zone_bench" --malloc
	cg_pair glibc "" "$bin/zone_bench" --malloc
	for peer in $peers; do
		name=${peer%%:*}
		lib=$(find_lib "${peer#*:}")
		if [ -z "$lib" ]; then
			echo "  $name: skipped (${peer#*:} not installed)" >&2
			continue
		fi
		cg_pair "$name" "$lib" "$bin/zone_bench" --malloc
	done
}

# --sizes: zone_bench --malloc pair and batch at each size under every
# malloc: uma's (libuma-malloc.so preloaded), glibc's and the peers'.  The
# allocators take turns at each size, so machine noise spreads over all.
run_sizes() {
	local iters=${SIZES_ITERS:-5000000} sz mode peer name lib
	local list=("uma-malloc:$build/libuma-malloc.so" "glibc:")

	for peer in $peers; do
		name=${peer%%:*}
		lib=$(find_lib "${peer#*:}")
		if [ -z "$lib" ]; then
			echo "  $name: skipped (${peer#*:} not installed)" >&2
			continue
		fi
		list+=("$name:$lib")
	done
	for sz in ${MALLOC_SIZES:-16 32 64 128 256 512 1024 2048}; do
		echo "size $sz ..." >&2
		for mode in pair "batch $batch"; do
			for peer in "${list[@]}"; do
				name=${peer%%:*}
				lib=${peer#*:}
				bench "$name" ${lib:+LD_PRELOAD="$lib"} -- \
				    "$bin/zone_bench" --malloc --name "$name" \
				    --size "$sz" --reps "$reps" --iters "$iters" $mode
			done
		done
	done
	awk '
	{
		w = ($1 == "pair") ? "pair" : "batch"
		if (!($2 in seen)) { seen[$2] = 1; order[++na] = $2 }
		if (!($3 in sseen)) { sseen[$3] = 1; sizes[++ns] = $3 }
		ns_[w, $2, $3] = $4
	}
	function table(w, title,    i, j, a, s, best, bp) {
		printf "\n%s\n\n| size |", title
		for (i = 1; i <= na; i++) printf " %s |", order[i]
		printf " uma / best peer |\n|---:|"
		for (i = 1; i <= na; i++) printf "---:|"
		printf "---:|\n"
		for (j = 1; j <= ns; j++) {
			s = sizes[j]; best = 0; bp = ""
			printf "| %s |", s
			for (i = 1; i <= na; i++) {
				a = order[i]
				printf " %s |", ((w, a, s) in ns_) ? \
				    sprintf("%.2f", ns_[w, a, s]) : "-"
				if (a != "uma-malloc" && ((w, a, s) in ns_) &&
				    (bp == "" || ns_[w, a, s] < best)) {
					best = ns_[w, a, s]; bp = a
				}
			}
			if (bp != "" && ((w, "uma-malloc", s) in ns_))
				printf " %.2f (%s) |\n", ns_[w, "uma-malloc", s] / best, bp
			else
				printf " - |\n"
		}
	}
	END {
		table("pair", "malloc+free pair, ns per pair (median of the runs)")
		table("batch", "batch: N mallocs then N frees, ns per operation")
	}' "$results"
	echo
	echo "Load average before/after: $load_before / $(cut -d' ' -f1-3 \
	    /proc/loadavg)."
}

if [ $callgrind -eq 1 ]; then
	run_callgrind
	exit 0
fi

results=$(mktemp)
errfile=$(mktemp)
trap 'rm -f "$results" "$errfile"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if [ $sizes -eq 1 ]; then
	run_sizes
	exit 0
fi
run_workload "$pair_iters" pair
run_workload "$batch_iters" batch "$batch"
run_workload "$prodcons_iters" prodcons
print_tables
