/*
 * rseq_baseline.c - the floor under the zone's fast path: a per-CPU array
 * of pointers with a count, one pop then one push per iteration, each a
 * single x86_64 restartable sequence on glibc's registered rseq area.  No
 * zone, no buckets, no statistics: whatever uma's "pair" costs beyond this
 * is the price of being an allocator.
 *
 * Two lines are printed:
 *   pair rseq-call   pop and push are out-of-line calls, as uma_zalloc and
 *                    uma_zfree are: the floor uma's pair is held against.
 *   pair rseq-inline the same sequences inlined into the loop.
 *
 * Each sequence publishes its descriptor in rseq->rseq_cs, then reads the
 * CPU number and commits with one final store.  If the thread is preempted,
 * migrated or signalled in between, the kernel jumps to the abort label,
 * which starts the sequence again, CPU number included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "bench.h"

#define	PCPU_CAP	255	/* items per CPU: the header makes 2 KB */
#define	PCPU_SHIFT	11	/* log2(sizeof(struct pcpu_stack)) */
#define	PCPU_FILL	128	/* items each CPU starts with */

#define	STR_(x)		#x
#define	STR(x)		STR_(x)

/* One CPU's stack.  Invariant: 0 <= ps_count <= PCPU_CAP. */
struct pcpu_stack {
	long	 ps_count;
	void	*ps_items[PCPU_CAP];
};
_Static_assert(sizeof(struct pcpu_stack) == 1 << PCPU_SHIFT,
    "the asm indexes stacks by shifting the CPU number");

static struct pcpu_stack *pcpu_base;

/*
 * The struct rseq_cs of a sequence, in its own section as the kernel's
 * selftests and librseq do, with a pointer to it in __rseq_cs_ptr_array
 * for tools that walk all descriptors.
 */
#define	RSEQ_CS_DESCRIPTOR(label, start, post, abort)			\
	".pushsection __rseq_cs, \"aw\"\n\t"				\
	".balign 32\n\t"						\
	label ":\n\t"							\
	".long 0, 0\n\t"		/* version, flags */		\
	".quad " start "f, (" post "f - " start "f), " abort "f\n\t"	\
	".popsection\n\t"						\
	".pushsection __rseq_cs_ptr_array, \"aw\"\n\t"			\
	".quad " label "b\n\t"						\
	".popsection\n\t"

/*
 * The abort handler, out of line.  The kernel checks that the four bytes
 * before it are RSEQ_SIG; the three bytes before those make the signature
 * the operand of a ud1, so a disassembler stays in step.
 */
#define	RSEQ_ABORT(abort, start)					\
	".pushsection __rseq_failure, \"ax\"\n\t"			\
	".byte 0x0f, 0xb9, 0x3d\n\t"					\
	".long " STR(RSEQ_SIG) "\n\t"					\
	abort ":\n\t"							\
	"jmp " start "b\n\t"						\
	".popsection\n\t"

static inline struct rseq *
rseq_area(void)
{
	return ((struct rseq *)((char *)__builtin_thread_pointer() +
	    __rseq_offset));
}

/* Pop from this CPU's stack; NULL if it is empty. */
static inline __attribute__((always_inline)) void *
pcpu_pop_inline(void)
{
	struct rseq *rs = rseq_area();
	uintptr_t p;
	void *item;
	long cnt;

	__asm__ __volatile__(
	    RSEQ_CS_DESCRIPTOR("3", "1", "2", "4")
	    "1:\n\t"
	    "leaq 3b(%%rip), %[p]\n\t"
	    "movq %[p], %[rseq_cs]\n\t"
	    "movl %[cpu_id], %k[p]\n\t"
	    "shlq $" STR(PCPU_SHIFT) ", %[p]\n\t"
	    "addq %[base], %[p]\n\t"
	    "xorl %k[item], %k[item]\n\t"
	    "movq (%[p]), %[cnt]\n\t"
	    "testq %[cnt], %[cnt]\n\t"
	    "jz 2f\n\t"
	    "movq (%[p], %[cnt], 8), %[item]\n\t"	/* items[cnt - 1] */
	    "decq %[cnt]\n\t"
	    "movq %[cnt], (%[p])\n\t"			/* commit */
	    "2:\n\t"
	    RSEQ_ABORT("4", "1")
	    : [item] "=&r"(item), [cnt] "=&r"(cnt), [p] "=&r"(p),
	      [rseq_cs] "=m"(rs->rseq_cs)
	    : [cpu_id] "m"(rs->cpu_id), [base] "r"(pcpu_base)
	    : "memory", "cc");
	return (item);
}

/* Push onto this CPU's stack; 0 if it is full. */
static inline __attribute__((always_inline)) int
pcpu_push_inline(void *item)
{
	struct rseq *rs = rseq_area();
	uintptr_t p;
	long cnt;
	int ok;

	__asm__ __volatile__(
	    RSEQ_CS_DESCRIPTOR("3", "1", "2", "4")
	    "1:\n\t"
	    "leaq 3b(%%rip), %[p]\n\t"
	    "movq %[p], %[rseq_cs]\n\t"
	    "movl %[cpu_id], %k[p]\n\t"
	    "shlq $" STR(PCPU_SHIFT) ", %[p]\n\t"
	    "addq %[base], %[p]\n\t"
	    "xorl %[ok], %[ok]\n\t"
	    "movq (%[p]), %[cnt]\n\t"
	    "cmpq $" STR(PCPU_CAP) ", %[cnt]\n\t"
	    "jae 2f\n\t"
	    "movq %[item], 8(%[p], %[cnt], 8)\n\t"	/* items[cnt] */
	    "incq %[cnt]\n\t"
	    "movl $1, %[ok]\n\t"
	    "movq %[cnt], (%[p])\n\t"			/* commit */
	    "2:\n\t"
	    RSEQ_ABORT("4", "1")
	    : [ok] "=&r"(ok), [cnt] "=&r"(cnt), [p] "=&r"(p),
	      [rseq_cs] "=m"(rs->rseq_cs)
	    : [cpu_id] "m"(rs->cpu_id), [base] "r"(pcpu_base),
	      [item] "r"(item)
	    : "memory", "cc");
	return (ok);
}

static __attribute__((noinline)) void *
pcpu_pop(void)
{
	return (pcpu_pop_inline());
}

static __attribute__((noinline)) int
pcpu_push(void *item)
{
	return (pcpu_push_inline(item));
}

static void
pcpu_fail(const char *what)
{
	fprintf(stderr, "rseq_baseline: per-CPU stack %s\n", what);
	exit(1);
}

static __attribute__((noinline)) double
pair_call(long pairs)
{
	uint64_t t0;
	void *p;
	long i;

	t0 = bench_cpu_now();
	for (i = 0; i < pairs; i++) {
		p = pcpu_pop();
		if (__builtin_expect(p == NULL, 0))
			pcpu_fail("empty");
		bench_escape(p);
		if (__builtin_expect(!pcpu_push(p), 0))
			pcpu_fail("full");
	}
	return ((double)(bench_cpu_now() - t0) / (pairs > 0 ? pairs : 1));
}

static __attribute__((noinline)) double
pair_inline(long pairs)
{
	uint64_t t0;
	void *p;
	long i;

	t0 = bench_cpu_now();
	for (i = 0; i < pairs; i++) {
		p = pcpu_pop_inline();
		if (__builtin_expect(p == NULL, 0))
			pcpu_fail("empty");
		bench_escape(p);
		if (__builtin_expect(!pcpu_push_inline(p), 0))
			pcpu_fail("full");
	}
	return ((double)(bench_cpu_now() - t0) / (pairs > 0 ? pairs : 1));
}

/* Give every possible CPU a stack half full of items of `size` bytes. */
static void
pcpu_setup(size_t size)
{
	long c, i, ncpu;

	ncpu = sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu < 1)
		ncpu = 1;
	pcpu_base = aligned_alloc(4096, ncpu << PCPU_SHIFT);
	if (pcpu_base == NULL)
		pcpu_fail("allocation failed");
	for (c = 0; c < ncpu; c++) {
		pcpu_base[c].ps_count = PCPU_FILL;
		for (i = 0; i < PCPU_FILL; i++)
			if ((pcpu_base[c].ps_items[i] = malloc(size)) == NULL)
				pcpu_fail("allocation failed");
	}
}

static void
run(const struct bench_opts *bo, const char *name,
    double (*loop)(long pairs))
{
	double ns[BENCH_REPS_MAX];
	int i;

	if (bo->bo_warmup > 0)
		(void)loop(bo->bo_warmup);
	for (i = 0; i < bo->bo_reps; i++)
		ns[i] = loop(bo->bo_iters);
	bench_report("pair", name, bo->bo_size, bench_median(ns, bo->bo_reps));
}

int
main(int argc, char **argv)
{
	struct bench_opts bo = {
		.bo_size = 64, .bo_batch = 1000, .bo_iters = 50000000,
		.bo_reps = 5,
	};

	bench_parse(&bo, argc, argv);
	if (strcmp(bo.bo_mode, "pair") != 0) {
		fprintf(stderr, "rseq_baseline: only the pair mode\n");
		return (2);
	}
	/* glibc leaves __rseq_size 0 if the kernel refused (or valgrind). */
	if (__rseq_size == 0) {
		fprintf(stderr, "rseq_baseline: no rseq area registered "
		    "(old kernel, GLIBC_TUNABLES=glibc.pthread.rseq=0 or "
		    "valgrind)\n");
		return (3);
	}
	pcpu_setup(bo.bo_size);
	bench_pin(0);
	run(&bo, "rseq-call", pair_call);
	run(&bo, "rseq-inline", pair_inline);
	return (0);
}
