/*
 * zalloc.c - uma_zalloc and uma_zfree: the fast paths and the item-level
 * slow paths beneath them.
 *
 * Layer: zone.  The fast path is a pop or a push on this CPU's cache
 * (cache_fast.h) and one test of uz_fast; everything else (ctor, dtor,
 * debug checks, limits, a missing bucket) is out of line.  Items pass
 * between the zone and its keg only through uma__zone_import and
 * uma__zone_release, which run the zone init and fini.
 */
#include <errno.h>
#include <string.h>

#include "uma_int.h"
#include "cache_fast.h"


static void *zalloc_ctor(uma_zone_t zone, void *item, void *udata,
    int flags, bool cached);

/*
 * Import up to `max` items from the keg into store[], zone init on each.
 * An init failure stops the import there: the item goes back to the keg,
 * *errorp is set, and the items already imported are returned.
 */
int
uma__zone_import(uma_zone_t zone, void **store, int max, int flags,
    int *errorp)
{
	int got, i, error;

	got = uma__keg_fetch(zone->uz_keg, store, max, flags, errorp);
	if (zone->uz_init == NULL)
		return (got);
	for (i = 0; i < got; i++) {
		error = zone->uz_init(store[i], zone->uz_size, flags);
		if (error != 0) {
			*errorp = error;
			uma__keg_release(zone->uz_keg, &store[i], got - i,
			    zone);
			return (i);
		}
	}
	return (got);
}

/* Give items back to the keg, zone fini first. */
void
uma__zone_release(uma_zone_t zone, void **store, int cnt)
{
	if (zone->uz_fini != NULL)
		for (int i = 0; i < cnt; i++)
			zone->uz_fini(store[i], zone->uz_size);
	uma__keg_release(zone->uz_keg, store, cnt, zone);
}

/*
 * The single-item path: limit (may sleep), one item from the keg, ctor.
 * Counted at the zone level.  Used by zones without caches and when no
 * bucket can be had.
 */
void *
uma__zone_alloc_item(uma_zone_t zone, void *udata, int flags)
{
	void *item;
	int error = 0;

	if (uma__limit_take(zone, 1, flags) == 0)
		goto fail;
	if (uma__zone_import(zone, &item, 1, flags, &error) != 1) {
		uma__limit_release(zone, 1);
		goto fail;
	}
	if (zone->uz_fast & (UZ_FAST_CTOR | UZ_FAST_TRASH) || flags & M_ZERO)
		item = zalloc_ctor(zone, item, udata, flags, false);
	if (item != NULL)
		atomic_fetch_add_explicit(&zone->uz_allocs, 1,
		    memory_order_relaxed);
	return (item);
fail:
	atomic_fetch_add_explicit(&zone->uz_fails, 1, memory_order_relaxed);
	return (NULL);
}

/*
 * Free one item straight to the keg: zone fini, keg, limit.  `user` says
 * whether a user freed it (counted) or uma is unwinding (not counted).
 */
void
uma__zone_free_item(uma_zone_t zone, void *item, void *udata, bool user)
{
	uma__zone_release(zone, &item, 1);
	uma__limit_release(zone, 1);
	if (user)
		atomic_fetch_add_explicit(&zone->uz_frees, 1,
		    memory_order_relaxed);
}

/*
 * The ctor stage: debug checks, ctor, M_ZERO.  A failed ctor sends the item
 * back to the keg (dtor skipped, zone fini run) with its limit unit, counts
 * a failure and un-counts the allocation.
 */
static void *
zalloc_ctor(uma_zone_t zone, void *item, void *udata, int flags, bool cached)
{
	int error;

#if UMA_DEBUG > 1
	if (!(zone->uz_flags & UMA_ZFLAG_INTERNAL))
		uma__dbg_alloc(zone, item);
#endif
	if (zone->uz_fast & UZ_FAST_TRASH)
		uma__trash_check(zone, item);
	if (zone->uz_ctor != NULL) {
		error = zone->uz_ctor(item, zone->uz_size, udata, flags);
		if (__predict_false(error != 0)) {
#if UMA_DEBUG > 1
			if (!(zone->uz_flags & UMA_ZFLAG_INTERNAL))
				uma__dbg_free(zone, item);
#endif
			if (cached)
				uma__cache_unwind(zone);
			uma__zone_free_item(zone, item, udata, false);
			atomic_fetch_add_explicit(&zone->uz_fails, 1,
			    memory_order_relaxed);
			return (NULL);
		}
	}
	if (flags & M_ZERO)
		memset(item, 0, zone->uz_size);
	return (item);
}

/*
 * The cache missed: refill it (cache.c), or fall back to one item.  An init
 * failure during a refill fails this allocation, exactly once per failure.
 */
void *
uma__zalloc_slow(uma_zone_t zone, void *udata, int flags)
{
	void *item;
	int error = 0;

	uma_threads_poll();
	/* Every zone's first allocation comes here: its caches start empty. */
	if (__predict_false(!atomic_load_explicit(&zone->uz_used,
	    memory_order_relaxed)))
		atomic_store(&zone->uz_used, true);
	if (!(zone->uz_fast & UZ_FAST_NOCACHE)) {
		item = uma__cache_alloc_slow(zone, flags, &error);
		if (item != NULL) {
#ifdef UMA_TSAN
			__tsan_acquire(item);
#endif
			if (zone->uz_fast & (UZ_FAST_CTOR | UZ_FAST_TRASH) ||
			    flags & M_ZERO)
				item = zalloc_ctor(zone, item, udata, flags,
				    true);
			return (item);
		}
		if (error != 0) {
			atomic_fetch_add_explicit(&zone->uz_fails, 1,
			    memory_order_relaxed);
			return (NULL);
		}
	}
	return (uma__zone_alloc_item(zone, udata, flags));
}

/*
 * An allocation the rseq fast path does not make: the zone has a ctor or
 * debug work, the caller wants M_ZERO, or the caches are in locked mode.
 * Out of line, so that the fast path makes only tail calls and keeps its
 * arguments in their registers.
 */
static __attribute__((noinline)) void *
zalloc_full(uma_zone_t zone, void *udata, int flags)
{
	void *item;

	item = uma.ug_rseq ? cache_pop_rseq(zone->uz_cpu) :
	    uma__cache_pop_locked(zone);
	if (item == NULL)
		return (uma__zalloc_slow(zone, udata, flags));
#ifdef UMA_TSAN
	__tsan_acquire(item);
#endif
	if (zone->uz_fast & (UZ_FAST_CTOR | UZ_FAST_TRASH) || flags & M_ZERO)
		return (zalloc_ctor(zone, item, udata, flags, true));
	return (item);
}

/* See uma.h */
void *
uma_zalloc_arg(uma_zone_t zone, void *udata, int flags)
{
	void *item;

	if (__predict_false(flags & M_ZERO) ||
	    __predict_false(zone->uz_fast & UZ_FAST_ALLOC))
		return (zalloc_full(zone, udata, flags));
	item = cache_pop_rseq(zone->uz_cpu);
	if (__predict_false(item == NULL))
		return (uma__zalloc_slow(zone, udata, flags));
#ifdef UMA_TSAN
	__tsan_acquire(item);
#endif
	return (item);
}

/*
 * See uma.h.  The two entry points every caller uses start on a cache
 * line, so that edits elsewhere in this file do not move the hit path
 * across fetch blocks (pair: 2.50-2.56 ns unaligned, 2.48-2.51 aligned).
 */
__attribute__((aligned(64))) void *
uma_zalloc(uma_zone_t zone, int flags)
{
	return (uma_zalloc_arg(zone, NULL, flags));
}

/*
 * Everything a free may need beyond a push: full validation, dtor, debug
 * work, a cache refill, or the keg when threads sleep at the limit.
 */
void
uma__zfree_slow(uma_zone_t zone, void *item, void *udata)
{
	/*
	 * Before a dtor runs on it: is it an item of this zone at all?  The
	 * full check (double free in the keg, start of an item) is for debug
	 * builds; release builds get it at the bucket flush and the keg.
	 */
	if (UMA_DEBUG > 0 || !uma__item_plausible(zone, item))
		uma__item_check(zone, item);
	if (zone->uz_dtor != NULL)
		zone->uz_dtor(item, zone->uz_size, udata);
#if UMA_DEBUG > 1
	if (!(zone->uz_flags & UMA_ZFLAG_INTERNAL))
		uma__dbg_free(zone, item);
#endif
	if (zone->uz_fast & UZ_FAST_TRASH)
		uma__trash_fill(zone, item);
	if (!(zone->uz_fast & (UZ_FAST_NOCACHE | UZ_FAST_SLEEPERS))) {
#ifdef UMA_TSAN
		__tsan_release(item);
#endif
		if (cache_push(zone, item) || uma__cache_free_slow(zone, item))
			return;
	}
	uma__zone_free_item(zone, item, udata, true);
}

/* See uma.h */
void
uma_zfree_arg(uma_zone_t zone, void *item, void *udata)
{
	if (__predict_false(item == NULL))
		return;
	if (__predict_false(zone->uz_fast & UZ_FAST_FREE ||
	    !zfree_plausible(zone, item))) {
		uma__zfree_slow(zone, item, udata);
		return;
	}
#ifdef UMA_TSAN
	__tsan_release(item);
#endif
	if (__predict_true(cache_push_rseq(zone->uz_cpu, item)))
		return;
	uma__zfree_slow(zone, item, udata);
}

/* See uma.h; aligned as uma_zalloc. */
__attribute__((aligned(64))) void
uma_zfree(uma_zone_t zone, void *item)
{
	uma_zfree_arg(zone, item, NULL);
}
