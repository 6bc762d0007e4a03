/*
 * import.c - the zone's back end: items between a zone and its keg.
 *
 * Layer: zone, below the buckets and the per-CPU caches, above the keg.
 * Items enter a zone only through uma__zone_import, which runs the zone
 * init on each, and leave it only through uma__zone_release, which runs
 * the zone fini (FreeBSD's zone_import / zone_release).  For a cache zone
 * (uma_zcache_create) the keg's part is the caller's import and release:
 * everything above, buckets and caches, is the same.  The single-item
 * path (uma__zone_alloc_item / uma__zone_free_item) serves zones without
 * caches and allocations no bucket could be had for; it never sleeps: a
 * caller that may wait at the limit does so in the zone's entry
 * (zalloc.c).  Nothing here counts allocations or frees: the callers
 * know whether a user or uma itself moved the item.
 */
#include <errno.h>
#include <string.h>

#include "import.h"
#include "keg.h"
#include "limit.h"

/* Items that never passed the zone init back to where they came from. */
static void
import_back(uma_zone_t zone, void **store, int cnt)
{
	if (zone->uz_flags & UMA_ZFLAG_CACHE)
		zone->uz_release(zone->uz_arg, store, cnt);
	else
		uma__keg_release(zone->uz_keg, store, cnt, zone);
}

/* See import.h */
int
uma__zone_import(uma_zone_t zone, void **store, int max, int flags,
    int *errorp)
{
	int got, i, error;

	if (zone->uz_flags & UMA_ZFLAG_CACHE) {
		/* The caller's items: none is no refusal of pages. */
		*errorp = 0;
		got = zone->uz_import(zone->uz_arg, store, max, UMA_ANYDOMAIN,
		    flags);
	} else
		got = uma__keg_fetch(zone->uz_keg, store, max, flags, errorp);
	if (zone->uz_init == NULL)
		return (got);
	for (i = 0; i < got; i++) {
		error = zone->uz_init(store[i], zone->uz_size, flags);
		if (error != 0) {
			*errorp = UMA_EINIT;
			import_back(zone, &store[i], got - i);
			return (i);
		}
	}
	return (got);
}

/* See import.h */
void
uma__zone_release(uma_zone_t zone, void **store, int cnt)
{
#ifdef UMA_TSAN
	/*
	 * An item pushed by rseq (no lock: cache_push_hit releases it) comes
	 * here in a bucket moved under other locks.  Acquire it, so that its
	 * slab's pages, freed from here and taken by another thread, come
	 * after the pusher's last use of it (a realloc's copy from the old
	 * item, and another thread's zero-fill of the reused page, were
	 * reported as a race: CI, stress_malloc_large under TSan, 1 in 7).
	 */
	for (int i = 0; i < cnt; i++)
		__tsan_acquire(store[i]);
#endif
	if (zone->uz_fini != NULL)
		for (int i = 0; i < cnt; i++)
			zone->uz_fini(store[i], zone->uz_size);
	import_back(zone, store, cnt);
}

/* See import.h */
void *
uma__zone_alloc_item(uma_zone_t zone, int flags, int *errorp)
{
	void *item;

	*errorp = 0;
	if (uma__limit_take(zone, 1) == 0) {
		*errorp = UMA_ELIMIT;
		return (NULL);
	}
	if (uma__zone_import(zone, &item, 1, flags, errorp) != 1) {
		uma__limit_release(zone, 1);
		return (NULL);
	}
	return (item);
}

/* See import.h */
void
uma__zone_free_item(uma_zone_t zone, void *item)
{
	uma__zone_release(zone, &item, 1);
	uma__limit_release(zone, 1);
}
