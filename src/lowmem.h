/*
 * lowmem.h - the low-memory path: what an allocation that may not fail
 * (M_WAITOK) does when the OS refuses memory (lowmem.c).
 *
 * Layer: above the reclaim and the threads, below the zone's entry and
 * malloc, which call it.
 */
#ifndef _UMA_LOWMEM_H_
#define	_UMA_LOWMEM_H_

#include "uma_int.h"

/*
 * The OS refused memory to a M_WAITOK allocation of `size` bytes, for the
 * zone or malloc type `what` (`kind` says which: "zone", "malloc type"),
 * and this was try number `attempt` (0, 1, ...).  Runs the low-memory
 * path (the handlers registered with uma_lowmem_register, then a drain of
 * every zone and of the caches that hang on uma_reclaim) and waits the
 * attempt's backoff; the caller then tries again.  After vm.lowmem_retries
 * tries it prints uma's "out of memory" message, naming `what` and
 * `size`, and aborts (FreeBSD's kernel would panic).
 */
void	uma__lowmem_wait(const char *kind, const char *what, size_t size,
	    int attempt) UMA_HIDDEN;

/*
 * As uma__lowmem_wait, but returns false instead of aborting once the
 * tries are used up (contigmalloc's M_WAITOK, which may fail).
 */
bool	uma__lowmem_retry(int attempt) UMA_HIDDEN;

#endif /* !_UMA_LOWMEM_H_ */
