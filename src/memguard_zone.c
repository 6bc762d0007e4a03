/*
 * memguard_zone.c - MemGuard for zones (FreeBSD's uma_zalloc_debug and
 * uma_zfree_debug): a guarded item meets the stages an item of its keg
 * would meet on its way to a user, and back.
 *
 * Layer: the zone entry (memguard_zone.h).  An item of the keg got its
 * keg init when its slab was made and its zone init when it entered the
 * zone's cache; a guarded item gets both when it is made, then the ctor,
 * and the dtor, zone fini and keg fini when it is freed, so a zone cannot
 * tell one from the other.  It counts as an item of the single-item path
 * does (uz_allocs, uz_frees, uz_fails) and against the limit (uz_items),
 * and the statistics stay exact.  A failed init or ctor unwinds what ran
 * and fails the allocation, as it would have.
 *
 * Not guarded (uma__memguard_zone_eligible): uma's own zones and malloc's
 * classes (sampled in malloc), UMA_ZONE_REFCNT zones, whose per-item
 * count lives in the slab header a guarded item has not got, per-CPU
 * zones (an item is a copy per CPU, UMA_PCPU_ALLOC_SIZE apart, which
 * zpcpu_get reaches past its first page), cache zones (their items are
 * the caller's, from its import), zones with their own page allocator
 * (uma_zone_set_allocf: their items must lie in the caller's pages),
 * UMA_ZONE_NODUMP zones (MemGuard's pages would be in core dumps), and
 * UMA_ZONE_NOFREE zones unless MG_GUARD_NOFREE (their users may read an
 * item after its free, by design).  Secondary zones are guarded like
 * any other: their keg's and their own init run, as on their items.
 */
#include <string.h>

#include "init.h"
#include "limit.h"
#include "memguard_zone.h"

/* One more guarded item live: the gate closes to the free hit path. */
static bool
zone_guard_hold(uma_zone_t zone)
{
	uint32_t g = atomic_load_explicit(&zone->uz_gate,
	    memory_order_relaxed);

	do {
		if ((g & UZ_GATE_GUARDED) == UZ_GATE_GUARDED)
			return (false);
	} while (!atomic_compare_exchange_weak_explicit(&zone->uz_gate, &g,
	    g + UZ_GATE_GUARDED_ONE, memory_order_seq_cst,
	    memory_order_relaxed));
	return (true);
}

static void
zone_guard_drop(uma_zone_t zone)
{
	atomic_fetch_sub_explicit(&zone->uz_gate, UZ_GATE_GUARDED_ONE,
	    memory_order_release);
}

/*
 * Take the sample, if this is one, and the places a guarded item holds:
 * MemGuard's admission, a unit of the limit, a count in the gate.
 */
static bool
zalloc_guard_begin(uma_zone_t zone, bool sampled)
{
	if (uma__booting() || (sampled &&
	    !uma__memguard_zone_eligible(zone)))
		return (false);
	if (sampled && !(zone->uz_gate & UZ_GATE_NOCACHE) &&
	    !uma__cache_sample_take(zone))
		return (false);
	if (!uma__memguard_admit(zone->uz_size, sampled))
		return (false);
	if (uma__limit_take(zone, 1) == 1) {
		if (zone_guard_hold(zone))
			return (true);
		uma__limit_release(zone, 1);
	}
	uma__memguard_unadmit(zone->uz_size, sampled);
	return (false);
}

static void
zalloc_guard_undo(uma_zone_t zone)
{
	zone_guard_drop(zone);
	uma__limit_release(zone, 1);
}

/* See memguard_zone.h */
void *
uma__zalloc_guarded(uma_zone_t zone, void *udata, int flags, int *errorp)
{
	bool sampled = !(zone->uz_gate & UZ_GATE_MEMGUARD);
	struct uma__mg_owner o = { zone, NULL, zone->uz_name, -1,
	    zone->uz_keg->uk_size, sampled, false };
	uma_keg_t keg = zone->uz_keg;
	void *item;
	int error;

	*errorp = 0;
	if (!zalloc_guard_begin(zone, sampled))
		return (NULL);
	item = uma__memguard_alloc(&o, zone->uz_size, keg->uk_align + 1);
	if (item == NULL) {
		uma__memguard_unadmit(zone->uz_size, sampled);
		zalloc_guard_undo(zone);
		return (NULL);
	}
	if (keg->uk_init != NULL &&
	    (error = keg->uk_init(item, keg->uk_size, flags)) != 0)
		goto fail;
	if (zone->uz_init != NULL &&
	    (error = zone->uz_init(item, zone->uz_size, flags)) != 0)
		goto fail_keg;
	if (zone->uz_ctor != NULL &&
	    (error = zone->uz_ctor(item, zone->uz_size, udata, flags)) != 0)
		goto fail_zone;
	if (flags & M_ZERO)
		memset(item, 0, zone->uz_size);
	atomic_fetch_add_explicit(&zone->uz_allocs, 1, memory_order_relaxed);
	return (item);
fail_zone:
	if (zone->uz_fini != NULL)
		zone->uz_fini(item, zone->uz_size);
fail_keg:
	if (keg->uk_fini != NULL)
		keg->uk_fini(item, keg->uk_size);
fail:
	uma__memguard_discard(item);
	zalloc_guard_undo(zone);
	/* A failure, unless the caller said M_UMA_QUIET (zalloc.c's rule). */
	if (!(flags & M_UMA_QUIET))
		atomic_fetch_add_explicit(&zone->uz_fails, 1,
		    memory_order_relaxed);
	*errorp = error;
	return (NULL);
}

/* See memguard_zone.h */
void
uma__zfree_guarded(uma_zone_t zone, void *item, void *udata)
{
	uma_keg_t keg = zone->uz_keg;
	struct uma__mg_owner o;

	uma__memguard_free_begin(item, zone, "uma_zfree", &o);
	if (zone->uz_dtor != NULL)
		zone->uz_dtor(item, zone->uz_size, udata);
	if (zone->uz_fini != NULL)
		zone->uz_fini(item, zone->uz_size);
	if (keg->uk_fini != NULL)
		keg->uk_fini(item, keg->uk_size);
	uma__memguard_free_end(item);
	atomic_fetch_add_explicit(&zone->uz_frees, 1, memory_order_relaxed);
	zalloc_guard_undo(zone);
}
