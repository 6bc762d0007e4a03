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
 * slow path after an abort, and after the close's failure; the pop and
 * push leave for their caller's miss label directly, a jump less a miss
 * (in locked mode every call misses: 2 instructions a malloc pair).
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
	    "jz %l[miss]\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "movq -8(%[it],%[ix],8), %[it]\n\t"
	    "addq $" STR(UC_ALLOC_DELTA_IMM) ", %[w]\n\t"
	    "jc %l[miss]\n\t"
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
	    "jz %l[slow]\n\t"
	    "movl %k[w], %k[ix]\n\t"
	    "andl $0xfff, %k[ix]\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "cmpq %[item], -8(%[it],%[ix],8)\n\t"
	    "je %l[slow]\n\t"
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
 * What ThreadSanitizer needs to know of an item a cache hands out
 * (acquire: it was released where it went in) or takes.
 */
static inline __attribute__((always_inline)) void
cache_tsan_acquire(void *item)
{
#ifdef UMA_TSAN
	if (item != NULL)
		__tsan_acquire(item);
#else
	(void)item;
#endif
}

static inline __attribute__((always_inline)) void
cache_tsan_release(void *item)
{
#ifdef UMA_TSAN
	__tsan_release(item);
#else
	(void)item;
#endif
}

/*
 * The pop and push of a hit path, once the zone's gate let it through
 * (zone_fast.h), with what ThreadSanitizer needs to know.
 */
static inline void *
cache_pop_hit(uma_cache_t caches)
{
	void *item = cache_pop_rseq(caches);

	cache_tsan_acquire(item);
	return (item);
}

static inline bool
cache_push_hit(uma_cache_t caches, void *item)
{
	cache_tsan_release(item);
	return (cache_push_rseq(caches, item) != 0);
}

/*
 * Locked mode's pop and push: the sequences' work under the lock of the
 * cache of the CPU this thread last saw (rseq.h).  The word is stored
 * whole, as the sequences store it, for the lock-free readers.
 */
static inline __attribute__((always_inline)) void *
cache_pop_held(uma_cache_t c)
{
	uint64_t w = atomic_load_explicit(&c->uc_word, memory_order_relaxed);
	uint64_t cnt = uc_word_cnt(w);
	void *item;

	UMA_LOCK_ASSERT(&c->uc_lock);
	/* Like the sequence: a wrap of the allocs field is the slow path's. */
	if (__predict_false(cnt == 0) ||
	    __predict_false(__builtin_add_overflow(w, UC_ALLOC_DELTA, &w)))
		return (NULL);
	atomic_store_explicit(&c->uc_word, w, memory_order_relaxed);
	item = c->uc_items[cnt - 1];
	if (item == NULL)	/* buckets never hold NULL: a test less */
		__builtin_unreachable();
	return (item);
}

static inline __attribute__((always_inline)) bool
cache_push_held(uma_cache_t c, void *item)
{
	uint64_t w = atomic_load_explicit(&c->uc_word, memory_order_relaxed);
	uint64_t cnt = uc_word_cnt(w);

	UMA_LOCK_ASSERT(&c->uc_lock);
	/*
	 * Freeing the item on top again: the slow path reports it.  As in
	 * the sequence, an empty bucket compares its header's last word,
	 * which is never an item.
	 */
	if (__predict_false(uc_word_room(w) == 0) ||
	    __predict_false(c->uc_items[cnt - 1] == item))
		return (false);
	c->uc_items[cnt] = item;
	atomic_store_explicit(&c->uc_word, w + UC_FREE_DELTA,
	    memory_order_relaxed);
	return (true);
}

/*
 * The same with no call on the way, for the miss entries that try them
 * first (zone_fast.h): a call anywhere would make those save registers on
 * every pop and push (14 instructions each).  CACHE_LM_DONE: *itemp is an
 * item (the push is done); CACHE_LM_EMPTY: no item (no room); CACHE_LM_SLOW:
 * nothing done, the lock is held: take the calls' road
 * (cache_pop_lockmode_asked); CACHE_LM_WAKE: as DONE, but *itemp
 * may be NULL (*donep false), and the caller owes the waiters on *cp's
 * lock uma__unlock_wake.
 */
#define	CACHE_LM_DONE	0
#define	CACHE_LM_EMPTY	1
#define	CACHE_LM_SLOW	2
#define	CACHE_LM_WAKE	3
#define	CACHE_LM_MISS	4	/* zone_fast.h: not for the hit path */

#if defined(__x86_64__) && UMA_DEBUG == 0 && !defined(UMA_TSAN)
/*
 * In assembly, as the sequences are: around the C version the compiler
 * moved the miss entries' arguments to other registers, 6 instructions a
 * pop.  The lock is lock.h's: `lock bts` takes it, `lock sub` drops it,
 * and a result other than 0 means waiters.  A pop that finds nothing
 * drops the lock out of line and leaves by `empty`, or falls through
 * with no item when it owes a wake.
 */
#define	UC_LOCK_OFF	88	/* offsetof(struct uma_cache, uc_lock) */
_Static_assert(offsetof(struct uma_cache, uc_lock) == UC_LOCK_OFF,
    "asm offset");

#define	LM_CACHE							\
	"movq uma_cpu_hint@gottpoff(%%rip), %[ix]\n\t"			\
	"movslq %%fs:(%[ix]), %[c]\n\t"					\
	"shlq $" STR(UC_SHIFT) ", %[c]\n\t"				\
	"addq %[caches], %[c]\n\t"					\
	"lock btsl $0, " STR(UC_LOCK_OFF) "(%[c])\n\t"			\
	"jc %l[slow]\n\t"

#define	LM_UNLOCK_COLD							\
	"lock subl $1, " STR(UC_LOCK_OFF) "(%[c])\n\t"			\
	"10:\n\t"							\
	".pushsection .text.unlikely, \"ax\", @progbits\n\t"		\
	"8:\n\t"							\
	"xorl %k[it], %k[it]\n\t"					\
	"lock subl $1, " STR(UC_LOCK_OFF) "(%[c])\n\t"			\
	"jz %l[empty]\n\t"						\
	"jmp 10b\n\t"							\
	".popsection\n\t"

static inline __attribute__((always_inline)) int
cache_pop_lockmode_try(uma_cache_t caches, void **itemp, uma_cache_t *cp)
{
	uint64_t c, w, ix;
	void *it;
	bool wake;

	__asm__ goto __volatile__(
	    LM_CACHE
	    "movq (%[c]), %[w]\n\t"
	    "movl %k[w], %k[ix]\n\t"
	    "andl $0xfff, %k[ix]\n\t"
	    "jz 8f\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "movq -8(%[it],%[ix],8), %[it]\n\t"
	    "addq $" STR(UC_ALLOC_DELTA_IMM) ", %[w]\n\t"
	    "jc 8f\n\t"
	    "movq %[w], (%[c])\n\t"
	    LM_UNLOCK_COLD
	    : [c] "=&r" (c), [w] "=&r" (w), [ix] "=&r" (ix), [it] "=&r" (it),
	      "=@ccnz" (wake)
	    : [caches] "r" (caches)
	    : "memory"
	    : slow, empty);
	*itemp = it;
	if (__predict_false(wake)) {
		*cp = (uma_cache_t)c;
		return (CACHE_LM_WAKE);
	}
	if (it == NULL)		/* buckets never hold NULL */
		__builtin_unreachable();
	return (CACHE_LM_DONE);
slow:
	return (CACHE_LM_SLOW);
empty:
	return (CACHE_LM_EMPTY);
}

static inline __attribute__((always_inline)) int
cache_push_lockmode_try(uma_cache_t caches, void *item, bool *donep,
    uma_cache_t *cp)
{
	uint64_t c, w, ix;
	void *it;
	bool wake;

	__asm__ goto __volatile__(
	    LM_CACHE
	    "movq (%[c]), %[w]\n\t"
	    "testq $0xfff000, %[w]\n\t"
	    "jz 8f\n\t"
	    "movl %k[w], %k[ix]\n\t"
	    "andl $0xfff, %k[ix]\n\t"
	    "movq 8(%[c]), %[it]\n\t"
	    "cmpq %[item], -8(%[it],%[ix],8)\n\t"
	    "je 8f\n\t"
	    "movq %[item], (%[it],%[ix],8)\n\t"
	    "addq $-4095, %[w]\n\t"
	    "movq %[w], (%[c])\n\t"
	    LM_UNLOCK_COLD
	    : [c] "=&r" (c), [w] "=&r" (w), [ix] "=&r" (ix), [it] "=&r" (it),
	      "=@ccnz" (wake)
	    : [caches] "r" (caches), [item] "r" (item)
	    : "memory"
	    : slow, empty);
	if (__predict_false(wake)) {
		/* The out-of-line drop cleared `it`; a push leaves it set. */
		*donep = it != NULL;
		*cp = (uma_cache_t)c;
		return (CACHE_LM_WAKE);
	}
	return (CACHE_LM_DONE);
slow:
	return (CACHE_LM_SLOW);
empty:
	return (CACHE_LM_EMPTY);
}
#undef LM_CACHE
#undef LM_UNLOCK_COLD
#else
static inline __attribute__((always_inline)) int
cache_pop_lockmode_try(uma_cache_t caches, void **itemp, uma_cache_t *cp)
{
	uma_cache_t c;

	*cp = c = &caches[uma_cpu_hint];
	if (__predict_false(!uma_trylock(&c->uc_lock)))
		return (CACHE_LM_SLOW);
	*itemp = cache_pop_held(c);
	cache_tsan_acquire(*itemp);
	if (__predict_false(!uma_unlock_nowake(&c->uc_lock)))
		return (CACHE_LM_WAKE);
	return (*itemp != NULL ? CACHE_LM_DONE : CACHE_LM_EMPTY);
}

static inline __attribute__((always_inline)) int
cache_push_lockmode_try(uma_cache_t caches, void *item, bool *donep,
    uma_cache_t *cp)
{
	uma_cache_t c;

	*cp = c = &caches[uma_cpu_hint];
	cache_tsan_release(item);
	if (__predict_false(!uma_trylock(&c->uc_lock)))
		return (CACHE_LM_SLOW);
	*donep = cache_push_held(c, item);
	if (__predict_false(!uma_unlock_nowake(&c->uc_lock)))
		return (CACHE_LM_WAKE);
	return (*donep ? CACHE_LM_DONE : CACHE_LM_EMPTY);
}
#endif

/*
 * With calls, after CACHE_LM_SLOW: another thread held the lock, maybe
 * because this one moved and shares its cache: ask the kernel where this
 * thread runs (which sets the hint, rseq.h), then wait for that lock.
 */
static inline void *
cache_pop_lockmode_asked(uma_cache_t caches)
{
	uma_cache_t c = &caches[uma__curcpu()];
	void *item;

	uma_lock(&c->uc_lock);
	item = cache_pop_held(c);
	uma_unlock(&c->uc_lock);
	cache_tsan_acquire(item);
	return (item);
}

static inline bool
cache_push_lockmode_asked(uma_cache_t caches, void *item)
{
	uma_cache_t c = &caches[uma__curcpu()];
	bool done;

	cache_tsan_release(item);
	uma_lock(&c->uc_lock);
	done = cache_push_held(c, item);
	uma_unlock(&c->uc_lock);
	return (done);
}

#endif /* !_UMA_CACHE_FAST_H_ */
