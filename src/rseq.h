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
extern __thread int uma_cpu_hint UMA_HIDDEN
    __attribute__((tls_model("initial-exec")));
extern __thread unsigned uma_cpu_hint_uses UMA_HIDDEN
    __attribute__((tls_model("initial-exec")));

/* The CPU for locked mode: the thread's hint, refreshed every 64 calls. */
static inline int
uma_curcpu_locked(void)
{
	if (__predict_true(uma_cpu_hint >= 0 &&
	    (++uma_cpu_hint_uses & 63) != 0))
		return (uma_cpu_hint);
	return (uma__curcpu());
}

/* The rseq area from the thread pointer (locked mode: one never registered). */
extern ptrdiff_t uma_rseq_offset UMA_HIDDEN;

#endif /* !_UMA_RSEQ_H_ */
