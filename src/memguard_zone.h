/*
 * memguard_zone.h - MemGuard in the zone's entry (memguard_zone.c): a
 * guarded item instead of a cached one, and its free.
 *
 * Layer: the zone entry, beside zalloc.c, whose miss entries call it.
 */
#ifndef _UMA_MEMGUARD_ZONE_H_
#define	_UMA_MEMGUARD_ZONE_H_

#include "cache.h"
#include "memguard.h"

/*
 * Does this allocation, which missed, go to MemGuard?  The zone is
 * guarded whole (its gate), or a sample is due: on this CPU's cache, or
 * for a zone without caches on this thread's countdown.
 */
static inline bool
zalloc_memguard_due(uma_zone_t zone)
{
	uint32_t gate = atomic_load_explicit(&zone->uz_gate,
	    memory_order_relaxed);

	if (__predict_false(gate & UZ_GATE_MEMGUARD))
		return (true);
	if (!uma__memguard_sampling())
		return (false);
	if (zone->uz_flags & UMA_ZFLAG_CLASS &&
	    uma__memguard_alllarge(zone->uz_size))
		return (true);
	return (gate & UZ_GATE_NOCACHE ? uma__memguard_tick() :
	    uma__cache_sample_due(zone->uz_cpu));
}

/*
 * A guarded item for the zone, initialized and constructed as an item
 * from its keg would be, counted as a zone-level allocation and against
 * the limit.  NULL with *errorp 0: allocate as usual (not eligible, not
 * admitted, at the limit, or MemGuard had no room); NULL with *errorp
 * set: an init or ctor failed, the allocation fails (counted in fails).
 */
void	*uma__zalloc_guarded(uma_zone_t zone, void *udata, int flags,
	    int *errorp) UMA_HIDDEN;

/* Free a guarded item (uma_memguard_contains(item)) of the zone. */
void	uma__zfree_guarded(uma_zone_t zone, void *item, void *udata)
	    UMA_HIDDEN;

#endif /* !_UMA_MEMGUARD_ZONE_H_ */
