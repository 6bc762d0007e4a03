/*
 * malloc_mstat.h - the per-CPU counter add of malloc types, inlined into
 * uma_malloc and uma_free (see malloc_int.h for the record layout).
 *
 * One restartable sequence: read the CPU number, find this CPU's record,
 * add to one word.  The add is the commit: a preemption or migration
 * before it restarts the sequence, so no count is lost or doubled and no
 * lock prefix is needed.  Without rseq (or before a thread's area is
 * registered) uma__mstat_add adds atomically, to the CPU's record in
 * locked mode or to the spill record in rseq mode, so plain and atomic
 * adds never meet on one word.
 */
#ifndef _UMA_MALLOC_MSTAT_H_
#define	_UMA_MALLOC_MSTAT_H_

#include "cache_fast.h"
#include "malloc_int.h"

#if defined(__x86_64__)
static inline int
mstat_add_rseq(uint64_t *counts, size_t word, uint64_t delta)
{
	register uint64_t t;

	__asm__ goto __volatile__(
	    RSEQ_DESCRIPTOR("%[t]")
	    "movslq " STR(RSEQ_CPU_OFF) "(%[rs]), %[t]\n\t"
	    "testq %[t], %[t]\n\t"
	    "js 5f\n\t"
	    "shlq $" STR(MSTAT_SHIFT) ", %[t]\n\t"
	    "addq %[counts], %[t]\n\t"
	    "addq %[delta], (%[t],%[word],8)\n\t"
	    "2:\n\t"
	    RSEQ_ABORT("jmp %l[slow]\n\t")
	    : [t] "=&r" (t)
	    : [rs] "r" (rseq_ptr()), [counts] "r" (counts),
	      [word] "r" (word), [delta] "r" (delta)
	    : "memory", "cc"
	    : slow);
	return (1);
slow:
	return (0);
}
#else
static inline int
mstat_add_rseq(uint64_t *counts, size_t word, uint64_t delta)
{
	return (0);
}
#endif

static inline void
mstat_add(struct malloc_type *mtp, size_t word, uint64_t delta)
{
	uint64_t *counts = mtp->ks_handle;

	if (__predict_true(uma.ug_rseq && counts != NULL) &&
	    __predict_true(mstat_add_rseq(counts, word, delta)))
		return;
	uma__mstat_add(mtp, word, delta);
}

/* Count a large or contigmalloc run: `side` is 0 (alloc) or MSTAT_FREE. */
static inline void
mstat_large(struct malloc_type *mtp, size_t side, size_t bytes)
{
	mstat_add(mtp, side + MSTAT_LARGE_BYTES, bytes);
	mstat_add(mtp, side + MSTAT_LARGE_COUNT, 1);
}

#endif /* !_UMA_MALLOC_MSTAT_H_ */
