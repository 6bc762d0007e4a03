/*
 * zone_fast.h - the zone's front door: one inline hit path for each
 * direction, and one miss entry for each, which starts where the hit path
 * stopped.  uma_zalloc and uma_zfree (zalloc.c), the mbuf packet zone
 * (mbuf.c) and malloc's size classes (malloc_fast.h) all come in here; no
 * layer above touches a per-CPU cache, and no miss tries the hit again.
 *
 * The gate.  Whether a hit path may serve a zone is one word of the zone,
 * uz_gate (zone_ctor.c computes it when the zone is made and whenever
 * something it depends on changes).  An open gate means a pop or a push on
 * this CPU's cache is the whole operation; any bit of the direction's mask
 * sends the caller to the miss entry, which does everything else: the
 * ctor or dtor, debug checks, the locked caches, a refill or a flush, the
 * keg.  A layer that does its zone's ctor and dtor work itself (the mbuf
 * packet zone) gives the zone none: its gate then stays open.
 *
 * Zones made with UMA_ZFLAG_CLASS (malloc's size classes) are reached by
 * the address of their caches, computed from a size or a page tag, with no
 * load of the zone on the way.  Their gate can hold only conditions that
 * are uma's as a whole, and has no test of its own: the locked mode (a
 * thread of a locked-mode process reads CPU -1 and lands on a closed guard
 * cache) and sleepers at the limit, which limit.c turns into
 * uma__class_free_span, the span of the arena whose frees may take the
 * hit path: all of it, or none while any class zone has sleepers.  The
 * caller's range check of the address is the gate's test.  zone_ctor.c
 * refuses a ctor, dtor, init or fini on such a zone.
 */
#ifndef _UMA_ZONE_FAST_H_
#define	_UMA_ZONE_FAST_H_

#include "cache_fast.h"
#include "debug.h"

/*
 * Where a free is checked.  Release builds check nothing on the hit path
 * but a repeated free of the item on top of the CPU's bucket: a foreign
 * pointer or an item of another zone is caught by the miss entry, or when
 * its bucket leaves the CPU (cache.c) or reaches the keg, before any other
 * CPU can hand it out.  Checking every free at the call costs about 30% of
 * the hit path, so it is for UMA_DEBUG builds.
 */
#if UMA_DEBUG > 0
#define	zfree_plausible(zone, item)	uma__item_plausible(zone, item)
#else
#define	zfree_plausible(zone, item)	true
#endif

/*
 * The alloc hit path: an item from this CPU's cache, or NULL (the gate is
 * closed or the cache is empty): the caller goes to uma__zalloc_miss.
 * UMA_DEBUG > 1 builds never take it: the miss entry checks every item.
 */
static inline void *
uma__zalloc_hit(uma_zone_t zone)
{
	if (UMA_DEBUG > 1 || __predict_false(atomic_load_explicit(
	    &zone->uz_gate, memory_order_relaxed) & UZ_GATE_ALLOC))
		return (NULL);
	return (cache_pop_hit(zone->uz_cpu));
}

/* The free hit path; false: the caller goes to uma__zfree_miss. */
static inline bool
uma__zfree_hit(uma_zone_t zone, void *item)
{
	if (UMA_DEBUG > 1 || __predict_false((atomic_load_explicit(
	    &zone->uz_gate, memory_order_relaxed) & UZ_GATE_FREE) ||
	    !zfree_plausible(zone, item)))
		return (false);
	return (cache_push_hit(zone->uz_cpu, item));
}

/* The hit paths of a UMA_ZFLAG_CLASS zone, from its caches' address. */
static inline void *
uma__class_alloc_hit(uma_cache_t caches)
{
	if (UMA_DEBUG > 1)
		return (NULL);
	return (cache_pop_hit(caches));
}

extern _Atomic uintptr_t uma__class_free_span UMA_HIDDEN;

/* May a free of `item` take a class zone's free hit path? */
static inline bool
uma__class_free_open(const void *item)
{
	return ((uintptr_t)item - uma_vm_base < atomic_load_explicit(
	    &uma__class_free_span, memory_order_relaxed));
}

/* The caller checked uma__class_free_open. */
static inline bool
uma__class_free_hit(uma_cache_t caches, void *item)
{
	if (UMA_DEBUG > 1)
		return (false);
	return (cache_push_hit(caches, item));
}

/*
 * The same in locked mode (cache_fast.h's CACHE_LM_*), for a caller that
 * knows the caches: there the hit paths above always miss (their sequence
 * reads no CPU), and malloc's miss entries try these first.  Where a hit
 * path would not serve (rseq mode, debug, sleepers), CACHE_LM_MISS.
 */
static inline __attribute__((always_inline)) int
uma__class_alloc_locked(uma_cache_t caches, void **itemp, uma_cache_t *cp)
{
	if (UMA_DEBUG > 1 || __predict_false(uma.ug_rseq))
		return (CACHE_LM_MISS);
	return (cache_pop_lockmode_try(caches, itemp, cp));
}

static inline __attribute__((always_inline)) int
uma__class_free_locked(uma_cache_t caches, void *item, bool *donep,
    uma_cache_t *cp)
{
	if (UMA_DEBUG > 1 || __predict_false(atomic_load_explicit(
	    &uma.ug_class_lmgate, memory_order_relaxed) != 0))
		return (CACHE_LM_MISS);
	return (cache_push_lockmode_try(caches, item, donep, cp));
}

/*
 * The miss entries (zalloc.c), for everything a hit path did not serve.
 * An allocation with M_ZERO goes straight to uma__zalloc_miss.  A caller
 * that checked the item itself (malloc, against the page tag) frees
 * through uma__zfree_miss_checked, the same path without the check.
 */
void	*uma__zalloc_miss(uma_zone_t zone, void *udata, int flags)
	    UMA_HIDDEN;

/*
 * A malloc size-class zone's miss (uma__zalloc_miss, uma_zalloc) returns
 * UMA_ZALLOC_SAMPLE when a MemGuard sample is due on this CPU's cache
 * (memguard.h; the next is armed already): malloc, which knows the size
 * asked for and the type, guards the allocation, or takes an item with
 * uma__zalloc_class_refill, the slow path without the sample.  One
 * comparison tells it from NULL and from an item, as the test for NULL
 * did, so that the miss costs nothing more when MemGuard is off.
 */
#define	UMA_ZALLOC_SAMPLE	((void *)1)
void	*uma__zalloc_class_refill(uma_zone_t zone, int flags) UMA_HIDDEN;
void	uma__zfree_miss(uma_zone_t zone, void *item, void *udata) UMA_HIDDEN;
void	uma__zfree_miss_checked(uma_zone_t zone, void *item) UMA_HIDDEN;

#endif /* !_UMA_ZONE_FAST_H_ */
