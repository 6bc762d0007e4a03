/*
 * cache_fast.h - the per-CPU cache's pop and push as restartable
 * sequences, for the zone's hit paths (zone_fast.h), and the close that
 * the slow paths use.  See cache.c for the slow paths and uma_int.h for
 * the cache word.
 */
#ifndef _UMA_CACHE_FAST_H_
#define	_UMA_CACHE_FAST_H_

#include <sys/rseq.h>

#include "cache.h"
#include "rseq.h"

static inline char *
rseq_ptr(void)
{
	return ((char *)__builtin_thread_pointer() + uma_rseq_offset);
}

#define	UC_SHIFT	7
#define	UC_ALLOC_DELTA_IMM	0x1000fff	/* UC_ALLOC_DELTA, for asm */
#define	RSEQ_CS_OFF	8	/* offsetof(struct rseq, rseq_cs) */
#define	RSEQ_CPU_OFF	4	/* offsetof(struct rseq, cpu_id) */
#define	STR_(x)		#x
#define	STR(x)		STR_(x)


/*
 * The restartable sequences.  Each has a descriptor (struct rseq_cs) in the
 * __rseq_cs section: start (1), length to the commit's end (2), abort
 * handler (4), which is preceded by the RSEQ_SIG signature the kernel
 * checks.  The abort handler goes back to 6, which stores the descriptor
 * pointer again (the kernel clears it when it aborts).  5 leaves for the
 * slow path.
 */
#if defined(__x86_64__)
#define	RSEQ_DESCRIPTOR(tmp)						\
	".pushsection __rseq_cs, \"aw\"\n\t"				\
	".balign 32\n\t"						\
	"3:\n\t"							\
	".long 0, 0\n\t"						\
	".quad 1f, (2f - 1f), 4f\n\t"					\
	".popsection\n\t"						\
	"6:\n\t"							\
	"leaq 3b(%%rip), " tmp "\n\t"					\
	"movq " tmp ", " STR(RSEQ_CS_OFF) "(%[rs])\n\t"			\
	"1:\n\t"

#define	RSEQ_ABORT(fail)						\
	".pushsection __rseq_failure, \"ax\"\n\t"			\
	".byte 0x0f, 0xb9, 0x3d\n\t"					\
	".long " STR(RSEQ_SIG) "\n\t"					\
	"4:\n\t"							\
	"jmp 6b\n\t"							\
	"5:\n\t"							\
	fail								\
	"jmp 2b\n\t"							\
	".popsection\n\t"

/*
 * Pop from this CPU's alloc bucket; NULL sends the caller to a slow path.
 * So does the pop that would wrap the 40-bit allocs field (the add
 * carries out of bit 63): the slow path folds the count first, so no
 * thread has to do it periodically.
 * Scratch registers are pinned to ones that carry no argument, so that
 * the caller's arguments stay where they are for its tail calls, and a
 * miss jumps straight to the caller's NULL branch.  A thread with no
 * registered rseq area reads a negative cpu_id and so a closed guard cache
 * (UMA_CACHE_GUARD): it misses, and the slow path deals with it.
 */
static inline void *
cache_pop_rseq(uma_cache_t caches)
{
	register uint64_t c __asm__("rcx");
	register uint64_t w __asm__("r8");
	register uint64_t ix __asm__("r9");
	register void *it __asm__("rax");
	register char *rs __asm__("r10") = rseq_ptr();
	register uma_cache_t cs __asm__("r11") = caches;

	__asm__ goto __volatile__(
	    RSEQ_DESCRIPTOR("%[it]")
	    "movslq " STR(RSEQ_CPU_OFF) "(%[rs]), %[c]\n\t"
	    "shlq $" STR(UC_SHIFT) ", %[c]\n\t"
	    "addq %[caches], %[c]\n\t"
	    "movq (%[c]), %[w]\n\t"
	    "movl %k[w], %k[ix]\n\t"
	    "andl $0xfff, %k[ix]\n\t"
	    "jz 5f\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "movq -8(%[it],%[ix],8), %[it]\n\t"
	    "addq $" STR(UC_ALLOC_DELTA_IMM) ", %[w]\n\t"
	    "jc 5f\n\t"
	    "movq %[w], (%[c])\n\t"
	    "2:\n\t"
	    RSEQ_ABORT("jmp %l[miss]\n\t")
	    : [c] "=&r" (c), [w] "=&r" (w), [ix] "=&r" (ix), [it] "=&r" (it)
	    : [rs] "r" (rs), [caches] "r" (cs)
	    : "memory", "cc"
	    : miss);
	/* Buckets never hold NULL: tell the compiler, which then drops a test. */
	if (it == NULL)
		__builtin_unreachable();
	return (it);
miss:
	return (NULL);
}

/*
 * Push onto this CPU's alloc bucket; 0 sends the caller to a slow path.
 * Freeing the item on top of the bucket again is a double free: the slow
 * path reports it.
 */
static inline int
cache_push_rseq(uma_cache_t caches, void *item)
{
	register uint64_t c __asm__("rcx");
	register uint64_t w __asm__("r8");
	register uint64_t ix __asm__("r9");
	register uint64_t it __asm__("rax");
	register char *rs __asm__("r10") = rseq_ptr();
	register uma_cache_t cs __asm__("r11") = caches;

	__asm__ goto __volatile__(
	    RSEQ_DESCRIPTOR("%[it]")
	    "movslq " STR(RSEQ_CPU_OFF) "(%[rs]), %[c]\n\t"
	    "shlq $" STR(UC_SHIFT) ", %[c]\n\t"
	    "addq %[caches], %[c]\n\t"
	    "movq (%[c]), %[w]\n\t"
	    "testq $0xfff000, %[w]\n\t"
	    "jz 5f\n\t"
	    "movl %k[w], %k[ix]\n\t"
	    "andl $0xfff, %k[ix]\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "cmpq %[item], -8(%[it],%[ix],8)\n\t"
	    "je 5f\n\t"
	    "movq %[item], (%[it],%[ix],8)\n\t"
	    "addq $-4095, %[w]\n\t"
	    "movq %[w], (%[c])\n\t"
	    "2:\n\t"
	    RSEQ_ABORT("jmp %l[slow]\n\t")
	    : [c] "=&r" (c), [w] "=&r" (w), [ix] "=&r" (ix), [it] "=&r" (it)
	    : [rs] "r" (rs), [caches] "r" (cs), [item] "r" (item)
	    : "memory", "cc"
	    : slow);
	return (1);
slow:
	return (0);
}

/*
 * Close the cache of `cpu` from that CPU: store the word with no items and
 * no room.  Fails (returns false) if we are not on `cpu`.
 */
static inline bool
cache_close_rseq(uma_cache_t c, int cpu, uint64_t *wp)
{
	uint64_t w;
	int ok;

	__asm__ __volatile__(
	    "movl $1, %[ok]\n\t"
	    RSEQ_DESCRIPTOR("%%rax")
	    "cmpl " STR(RSEQ_CPU_OFF) "(%[rs]), %[cpu]\n\t"
	    "jne 5f\n\t"
	    "movq (%[c]), %[w]\n\t"
	    "movq %[w], %%rdx\n\t"
	    "andq $-16777216, %%rdx\n\t"
	    "movq %%rdx, (%[c])\n\t"
	    "2:\n\t"
	    RSEQ_ABORT("xorl %[ok], %[ok]\n\t")
	    : [ok] "=&r" (ok), [w] "=&r" (w)
	    : [rs] "r" (rseq_ptr()), [c] "r" (c), [cpu] "r" (cpu)
	    : "rax", "rdx", "memory", "cc");
	*wp = w;
	return (ok != 0);
}
#else
static inline void *
cache_pop_rseq(uma_cache_t caches)
{
	return (NULL);
}

static inline int
cache_push_rseq(uma_cache_t caches, void *item)
{
	return (0);
}

static inline bool
cache_close_rseq(uma_cache_t c, int cpu, uint64_t *wp)
{
	return (false);
}
#endif
_Static_assert(UC_ALLOC_DELTA_IMM == UC_ALLOC_DELTA, "asm immediate");
_Static_assert(-4095 == (int64_t)UC_FREE_DELTA, "asm immediate");


/* Pop an item from this CPU's cache, or NULL: go to the slow path. */
static inline void *
cache_pop(uma_zone_t zone)
{
	if (__predict_true(uma.ug_rseq))
		return (cache_pop_rseq(zone->uz_cpu));
	return (uma__cache_pop_fallback(zone));
}

/* Push an item onto this CPU's cache; 0: go to the slow path. */
static inline int
cache_push(uma_zone_t zone, void *item)
{
	if (__predict_true(uma.ug_rseq))
		return (cache_push_rseq(zone->uz_cpu, item));
	return (uma__cache_push_fallback(zone, item));
}

/*
 * The pop and push of a hit path, once the zone's gate let it through
 * (zone_fast.h), with what ThreadSanitizer needs to know.
 */
static inline void *
cache_pop_hit(uma_cache_t caches)
{
	void *item = cache_pop_rseq(caches);

#ifdef UMA_TSAN
	if (item != NULL)
		__tsan_acquire(item);
#endif
	return (item);
}

static inline bool
cache_push_hit(uma_cache_t caches, void *item)
{
#ifdef UMA_TSAN
	__tsan_release(item);
#endif
	return (cache_push_rseq(caches, item) != 0);
}

#endif /* !_UMA_CACHE_FAST_H_ */
