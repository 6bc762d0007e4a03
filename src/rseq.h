/*
 * rseq.h - which CPU a thread is on, and restartable sequences (rseq.c).
 *
 * Layer: a leaf.  Decides at start-up whether the per-CPU caches run on
 * restartable sequences (glibc's area, or one uma registers) or on
 * per-CPU locks, and fences another CPU's sequences for cache.c.
 */
#ifndef _UMA_RSEQ_H_
#define	_UMA_RSEQ_H_

#include <stddef.h>

#include "uma_int.h"

int	uma__rseq_startup(void) UMA_HIDDEN;	/* 1: rseq mode */
int	uma__curcpu(void) UMA_HIDDEN;
int	uma__rseq_fence(int cpu) UMA_HIDDEN;	/* that CPU's sequences */
int	uma__rseq_child(void) UMA_HIDDEN;	/* 1: rseq still usable */
void	uma__rseq_off(void) UMA_HIDDEN;		/* locked mode from now */
/*
 * Locked mode's CPU for this thread: the one the kernel named at its first
 * slow path, or when it last met another thread on a cache lock
 * (cache_fast.h).  Any cache is correct there (each has its lock); the
 * CPU only buys locality, which a thread that moved without meeting
 * anyone has no use for, and a thread that keeps its cache has its double
 * frees caught on top of it, as on a CPU.  So a hit reads this word and
 * nothing else: a count beside it, to ask every 64 calls, cost 2
 * instructions a call more and 2.5 a malloc pair in sched_getcpu.  It
 * starts at -1, which lands on a closed guard cache (UMA_CACHE_GUARD): the
 * first call misses and asks.
 */
extern __thread int uma_cpu_hint UMA_HIDDEN
    __attribute__((tls_model("initial-exec")));

/* The rseq area from the thread pointer (locked mode: one never registered). */
extern ptrdiff_t uma_rseq_offset UMA_HIDDEN;

#endif /* !_UMA_RSEQ_H_ */
