/*
 * cache.h - the per-CPU caches' slow paths (cache.c); their pop and push
 * are in cache_fast.h.
 *
 * Layer: the top of the zone allocator, below its entry (zalloc.c).
 */
#ifndef _UMA_CACHE_H_
#define	_UMA_CACHE_H_

#include "uma_int.h"

void	uma__cache_init(uma_zone_t zone) UMA_HIDDEN;
void	*uma__cache_alloc_slow(uma_zone_t zone, int flags, int *errorp)
	    UMA_HIDDEN;
void	uma__cache_unwind(uma_zone_t zone) UMA_HIDDEN;
int	uma__cache_free_slow(uma_zone_t zone, void *item) UMA_HIDDEN;
void	uma__cache_drain(uma_zone_t zone) UMA_HIDDEN;
void	uma__cache_fold(uma_zone_t zone) UMA_HIDDEN;
/* A sum that changes whenever a CPU pops an item of the zone. */
uint64_t uma__cache_pops(uma_zone_t zone) UMA_HIDDEN;
void	uma__cache_counts(uma_zone_t zone, int cpu, uint64_t *allocs,
	    uint64_t *frees, uint64_t *cached) UMA_HIDDEN;
void	*uma__cache_pop_fallback(uma_zone_t zone) UMA_HIDDEN;

/*
 * MemGuard's samples (memguard.h): this CPU's cache stopped a pop at its
 * sample (a hint, without the lock: `caches` is the zone's uz_cpu); and
 * under the lock, whether it did, arming the next one if so.
 */
bool	uma__cache_sample_due(uma_cache_t caches) UMA_HIDDEN;
bool	uma__cache_sample_take(uma_zone_t zone) UMA_HIDDEN;
int	uma__cache_push_fallback(uma_zone_t zone, void *item) UMA_HIDDEN;

#endif /* !_UMA_CACHE_H_ */
