#!/bin/sh
# hitpath.sh BUILD_A BUILD_B: the hit paths of two Release builds side by
# side, for a change to them ("no worse than before").
#
#   callgrind  instructions per operation on the locked fallback (the path
#              valgrind runs: glibc registers no rseq area under it), the
#              difference of two run lengths so that start-up cancels:
#              zone pair, zone batch, malloc pair and batch (64 B, through
#              libuma-malloc.so), m_getcl+m_freem pair.
#   time       ns per operation with rseq, ROUNDS interleaved rounds (A, B,
#              A, B, ...) of each workload, median of the rounds: zone
#              pair, batch and prodcons, malloc pair and batch, m_getcl
#              pair and the hand-off.
#
#   insns      the hit paths' entry points, disassembled: the same
#              instructions in A and B, or the difference (addresses,
#              symbol offsets and the alignment padding after each
#              function left out): uma_zalloc(_arg), uma_zfree(_arg),
#              m_getcl, m_free, m_freem; malloc and free of the preload.
#
# Knobs: ROUNDS (7), CALLGRIND=0, TIME=0 or INSNS=0 to skip a part.
set -u
a=$1 b=$2
rounds=${ROUNDS:-7}

# dis LIB FUNC: its instructions, nothing that moves with the layout.
dis() {
	objdump -d --no-show-raw-insn --no-addresses "$1" 2>/dev/null |
	    awk -v f="<$2>:" '$0 ~ f"$" { p = 1; next } p && /^$/ { exit } p' |
	    sed -E 's/[0-9a-f]+ <([^>+]*)(\+0x[0-9a-f]+)?>/<\1>/g;
		s/0x[0-9a-f]+\(%rip\)/X(%rip)/g; s/ *#.*$//' |
	    grep -v -E '^[[:space:]]*((data16 )*(cs )*nop|xchg +%ax,%ax)'
}

if [ "${INSNS:-1}" != 0 ]; then
	echo "hit path instructions (objdump): A B"
	for f in uma_zalloc uma_zalloc_arg uma_zfree uma_zfree_arg m_getcl \
	    m_free m_freem malloc free; do
		lib=libuma.so
		case $f in malloc|free) lib=libuma-malloc.so ;; esac
		dis "$a/$lib" $f > /tmp/hitpath.$$.a
		dis "$b/$lib" $f > /tmp/hitpath.$$.b
		if cmp -s /tmp/hitpath.$$.a /tmp/hitpath.$$.b; then
			printf "  %-16s same, %d instructions\n" $f \
			    "$(wc -l < /tmp/hitpath.$$.a)"
		else
			printf "  %-16s DIFFERENT:\n" $f
			diff /tmp/hitpath.$$.a /tmp/hitpath.$$.b | sed 's/^/    /'
		fi
	done
	rm -f /tmp/hitpath.$$.a /tmp/hitpath.$$.b
fi

cg() {	# cg PRELOAD PROG ARGS: instructions
	pre=$1
	shift
	env ${pre:+LD_PRELOAD="$pre"} valgrind --tool=callgrind \
	    --callgrind-out-file=/dev/null "$@" 2>&1 |
	    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

# per-op NAME N1 N2 OPS_PER_ITER PRELOAD PROG ARGS-BEFORE-ITERS -- ARGS-AFTER
cg_per_op() {
	name=$1 n1=$2 n2=$3 per=$4 pre=$5 prog=$6
	shift 6
	for build in "$a" "$b"; do
		p=$(echo "$prog" | sed "s|@|$build|")
		q=$(echo "$pre" | sed "s|@|$build|")
		c1=$(cg "$q" $p $(echo "$@" | sed "s/ITERS/$n1/"))
		c2=$(cg "$q" $p $(echo "$@" | sed "s/ITERS/$n2/"))
		printf "%s " "$(awk -v x="$c1" -v y="$c2" -v d=$((n2 - n1)) \
		    -v k="$per" 'BEGIN { printf("%.1f", (y - x) / d / k) }')"
	done | awk -v n="$name" '{ printf("  %-16s %8s %8s\n", n, $1, $2) }'
}

if [ "${CALLGRIND:-1}" != 0 ]; then
	echo "instructions per operation, locked fallback (callgrind): A B"
	zb="@/bench/zone_bench"
	cg_per_op zone-pair 20000 40000 1 "" "$zb" --reps 1 --warmup 0 \
	    --iters ITERS pair
	cg_per_op zone-batch 20000 40000 1 "" "$zb" --reps 1 --warmup 0 \
	    --iters ITERS batch
	cg_per_op malloc-pair 20000 40000 1 "@/libuma-malloc.so" "$zb" \
	    --malloc --reps 1 --warmup 0 --iters ITERS pair
	cg_per_op malloc-batch 20000 40000 1 "@/libuma-malloc.so" "$zb" \
	    --malloc --reps 1 --warmup 0 --iters ITERS batch
	cg_per_op getcl-pair 20000 40000 1 "" "@/bench/mbuf_bench" \
	    getcl_pair ITERS 1
fi

# One timed run: BUILD WORKLOAD -> ns
run() {
	build=$1 w=$2
	case $w in
	zone-*) "$build/bench/zone_bench" --reps 3 "${w#zone-}" ;;
	malloc-*) LD_PRELOAD=$build/libuma-malloc.so \
	    "$build/bench/zone_bench" --malloc --reps 3 "${w#malloc-}" ;;
	getcl-pair) "$build/bench/mbuf_bench" getcl_pair 5000000 3 ;;
	handoff) "$build/bench/mbuf_bench" handoff 2000000 3 ;;
	esac 2>/dev/null | awk '{ v = $NF } END { print v }'
}

if [ "${TIME:-1}" != 0 ]; then
	echo "ns per operation with rseq, median of $rounds interleaved rounds: A B B/A"
	for w in zone-pair zone-batch zone-prodcons malloc-pair malloc-batch \
	    getcl-pair handoff; do
		: > /tmp/hitpath.$$.a
		: > /tmp/hitpath.$$.b
		i=0
		while [ $i -lt "$rounds" ]; do
			run "$a" $w >> /tmp/hitpath.$$.a
			run "$b" $w >> /tmp/hitpath.$$.b
			i=$((i + 1))
		done
		ma=$(sort -g /tmp/hitpath.$$.a | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		mb=$(sort -g /tmp/hitpath.$$.b | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		awk -v n=$w -v x="$ma" -v y="$mb" \
		    'BEGIN { printf("  %-16s %8.2f %8.2f %6.3f\n", n, x, y, y / x) }'
	done
	rm -f /tmp/hitpath.$$.a /tmp/hitpath.$$.b
fi
