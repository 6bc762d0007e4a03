/*
 * zalloc.c - the zone's entry: uma_zalloc and uma_zfree, and the miss
 * entries behind every hit path (zone_fast.h).
 *
 * Layer: the top of the zone allocator.  The hit path is a pop or a push
 * on this CPU's cache behind one test of the zone's gate; everything else
 * starts here, in the miss entries, and goes down in allocation order:
 * the per-CPU cache's slow path (cache.c), which reaches the zone's bucket
 * cache and the keg below it, or the single-item path (import.c).  The
 * stages of an allocation that are the zone's own, its ctor and dtor, the
 * debug checks, the sleep at the limit and the wait for pages the OS
 * refused (lowmem.c), are here too, and nowhere below.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "bucket.h"
#include "cache.h"
#include "debug.h"
#include "import.h"
#include "limit.h"
#include "lowmem.h"
#include "memguard_zone.h"
#include "threads.h"
#include "zone_fast.h"

/* The gate word, for the miss paths: a plain load (atomics are not). */
static inline uint32_t
zone_gate(uma_zone_t zone)
{
	return (atomic_load_explicit(&zone->uz_gate, memory_order_relaxed));
}

#define	UMA_LIMIT_RECHECK_NS	(10 * 1000 * 1000)	/* a sleeper's period */

/* An allocation returns NULL: a failure, unless the caller said M_UMA_QUIET. */
static inline void
zalloc_failed(uma_zone_t zone, int flags)
{
	if (!(flags & M_UMA_QUIET))
		atomic_fetch_add_explicit(&zone->uz_fails, 1,
		    memory_order_relaxed);
}

/* M_ZERO: the item, and for a per-CPU zone every CPU's copy of it. */
static void
zalloc_zero(uma_zone_t zone, void *item)
{
	uint32_t copies = uma_keg_copies(zone->uz_keg);

	for (uint32_t c = 0; c < copies; c++)
		memset((char *)item + (size_t)c * UMA_PCPU_ALLOC_SIZE, 0,
		    zone->uz_size);
}

/*
 * The ctor stage: debug checks, ctor, M_ZERO.  A failed ctor sends the item
 * back to the keg (dtor skipped, zone fini run) with its unit of the limit,
 * counts a failure and un-counts the allocation (`cached`: a CPU cache
 * counted it; else the caller has not counted it yet).
 */
static void *
zalloc_ctor(uma_zone_t zone, void *item, void *udata, int flags, bool cached)
{
	int error;

#if UMA_DEBUG > 1
	if (!(zone->uz_flags & (UMA_ZFLAG_INTERNAL | UMA_ZFLAG_CACHE)))
		uma__dbg_alloc(zone, item);
#endif
	if (zone_gate(zone) & UZ_GATE_TRASH)
		uma__trash_check(zone, item);
	if (zone->uz_ctor != NULL) {
		error = zone->uz_ctor(item, zone->uz_size, udata, flags);
		if (__predict_false(error != 0)) {
#if UMA_DEBUG > 1
			if (!(zone->uz_flags & (UMA_ZFLAG_INTERNAL |
			    UMA_ZFLAG_CACHE)))
				uma__dbg_free(zone, item);
#endif
			if (cached)
				uma__cache_unwind(zone);
			uma__zone_free_item(zone, item);
			zalloc_failed(zone, flags);
			return (NULL);
		}
	}
	if (flags & M_ZERO)
		zalloc_zero(zone, item);
	return (item);
}

/* Wait on the limit's condition for at most one period. */
static int
zalloc_limit_wait(uma_zone_t zone)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += UMA_LIMIT_RECHECK_NS;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return (pthread_cond_timedwait(&zone->uz_limit_cv,
	    &zone->uz_limit_lock, &ts));
}

/*
 * Sleep until the zone is below its limit (M_WAITOK).  Items the limit
 * counts may lie in CPU caches: a free that read the gate before
 * UZ_GATE_SLEEPERS was set put its item there and woke no one.  Each
 * period the sleeper gives the caches back to the keg, which wakes it if
 * that made room, and runs the zone's maxaction, which may give back
 * items that idle elsewhere (the mbuf packet zone's clusters).
 */
static void
zalloc_limit_sleep(uma_zone_t zone)
{
	pthread_mutex_lock(&zone->uz_limit_lock);
	uma__limit_sleepers(zone, true);
	atomic_fetch_add_explicit(&zone->uz_sleeps, 1, memory_order_relaxed);
	while (zone->uz_max_items != 0 &&
	    atomic_load(&zone->uz_items) >= zone->uz_max_items) {
		if (zalloc_limit_wait(zone) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&zone->uz_limit_lock);
		uma__cache_drain(zone);
		uma__bucket_cache_reclaim(zone, false);
		uma__limit_maxaction(zone);
		pthread_mutex_lock(&zone->uz_limit_lock);
	}
	uma__limit_sleepers(zone, false);
	pthread_mutex_unlock(&zone->uz_limit_lock);
}

/* May the caller wait for memory the OS refused (FreeBSD's M_WAITOK)? */
static inline bool
zalloc_waits_for_pages(int flags)
{
	return (!(flags & (M_NOWAIT | M_NOVM)));
}

/*
 * The single-item path: an item from the keg, sleeping at the limit if
 * the caller may, and for pages the OS refused, through the low-memory
 * path (lowmem.c: M_WAITOK does not return NULL for want of memory); then
 * the ctor stage.  Counted at the zone level.  Used by zones without
 * caches and when no bucket could be had.
 */
static void *
zalloc_item(uma_zone_t zone, void *udata, int flags)
{
	void *item;
	int error, refused = 0;

	for (;;) {
		item = uma__zone_alloc_item(zone, flags, &error);
		if (item != NULL)
			break;
		if (error == UMA_ELIMIT) {
			uma__limit_warn(zone);
			if (!(flags & M_UMA_QUIET))
				uma__limit_maxaction(zone);
			if (flags & M_NOWAIT)
				break;
			zalloc_limit_sleep(zone);
		} else if (error == UMA_ENOPAGES &&
		    zalloc_waits_for_pages(flags))
			uma__lowmem_wait("zone", zone->uz_name, zone->uz_size,
			    refused++);
		else
			break;
	}
	if (item == NULL) {
		zalloc_failed(zone, flags);
		return (NULL);
	}
	if (zone_gate(zone) & (UZ_GATE_CTOR | UZ_GATE_TRASH) || flags & M_ZERO)
		item = zalloc_ctor(zone, item, udata, flags, false);
	if (item != NULL)
		atomic_fetch_add_explicit(&zone->uz_allocs, 1,
		    memory_order_relaxed);
	return (item);
}

/*
 * The cache is empty: refill it (cache.c), or fall back to one item.  A
 * refill that got no item at all because the zone init failed on the
 * first one fails this allocation, and so does one the OS refused pages
 * unless the caller waits for them (the single-item path does); one that
 * got some serves it.
 */
static void *
zalloc_refill(uma_zone_t zone, void *udata, int flags)
{
	void *item;
	int error = 0;

	if (!(zone_gate(zone) & (UZ_GATE_NOCACHE | UZ_GATE_MEMGUARD))) {
		item = uma__cache_alloc_slow(zone, flags, &error);
		if (item != NULL) {
#ifdef UMA_TSAN
			__tsan_acquire(item);
#endif
			if (zone_gate(zone) & (UZ_GATE_CTOR | UZ_GATE_TRASH) ||
			    flags & M_ZERO)
				item = zalloc_ctor(zone, item, udata, flags,
				    true);
			return (item);
		}
		if (error == UMA_EINIT || (error == UMA_ENOPAGES &&
		    !zalloc_waits_for_pages(flags))) {
			zalloc_failed(zone, flags);
			return (NULL);
		}
	}
	return (zalloc_item(zone, udata, flags));
}

/*
 * The slow path: MemGuard's items bypass the caches (a zone it guards
 * whole, a sample due: memguard_zone.h), then a refill.  A sample due on
 * a malloc class zone goes back to malloc, which knows the size and the
 * type (UMA_ZALLOC_SAMPLE, zone_fast.h).
 */
static __attribute__((noinline)) void *
zalloc_slow(uma_zone_t zone, void *udata, int flags)
{
	void *item;
	int error;

	uma_threads_poll();
	/* Every zone's first allocation comes here: its caches start empty. */
	if (__predict_false(!atomic_load_explicit(&zone->uz_used,
	    memory_order_relaxed)))
		atomic_store(&zone->uz_used, true);
	if (__predict_false(zalloc_memguard_due(zone))) {
		if (zone->uz_flags & UMA_ZFLAG_CLASS) {
			/* Under MG_GUARD_ALLLARGE, a class's first too. */
			if (uma__cache_sample_take(zone) ||
			    uma__memguard_alllarge(zone->uz_size))
				return (UMA_ZALLOC_SAMPLE);
		} else {
			item = uma__zalloc_guarded(zone, udata, flags, &error);
			if (item != NULL || error != 0)
				return (item);
		}
	}
	return (zalloc_refill(zone, udata, flags));
}

/* See zone_fast.h */
void *
uma__zalloc_class_refill(uma_zone_t zone, int flags)
{
	return (zalloc_refill(zone, NULL, flags));
}

/*
 * See zone_fast.h.  In locked mode the hit path never pops: pop under the
 * CPU's lock.  With the gate open and no M_ZERO the hit path popped and
 * found the cache empty: straight to the slow path.  Otherwise (a ctor,
 * debug work, M_ZERO) the pop has not been tried: try it, then the ctor
 * stage.
 */
__attribute__((noinline)) void *
uma__zalloc_miss(uma_zone_t zone, void *udata, int flags)
{
	void *item;

	/*
	 * Locked mode is uma's as a whole (the gate's LOCKED bit mirrors it):
	 * one compare with memory.  The gate is read after the pop: fewer
	 * registers to keep.
	 */
	if (!uma.ug_rseq)
		item = uma__cache_pop_fallback(zone);
	else if (!(zone_gate(zone) & UZ_GATE_ALLOC) && !(flags & M_ZERO))
		return (zalloc_slow(zone, udata, flags));
	else
		item = cache_pop_hit(zone->uz_cpu);
	if (item == NULL)
		return (zalloc_slow(zone, udata, flags));
	if (zone_gate(zone) & (UZ_GATE_CTOR | UZ_GATE_TRASH) || flags & M_ZERO)
		return (zalloc_ctor(zone, item, udata, flags, true));
	return (item);
}

/* See uma.h */
void *
uma_zalloc_arg(uma_zone_t zone, void *udata, int flags)
{
	void *item;

	if (__predict_false(flags & M_ZERO) ||
	    __predict_false((item = uma__zalloc_hit(zone)) == NULL))
		return (uma__zalloc_miss(zone, udata, flags));
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

/* One item to the keg, counted as a user's free. */
static void
zfree_item(uma_zone_t zone, void *item)
{
	uma__zone_free_item(zone, item);
	atomic_fetch_add_explicit(&zone->uz_frees, 1, memory_order_relaxed);
}

/*
 * The free miss: the one check of the pointer (release builds check
 * nothing on the hit path; `checked`: the caller did), where a guarded
 * item turns off to MemGuard, then the zone's own stages, then a push if
 * the hit path has not tried it (locked mode, a dtor, debug work, guarded
 * items live), else on past a full cache to the zone's bucket cache; the
 * keg when the zone has no caches, threads sleep at its limit or MemGuard
 * guards it whole (its caches stay empty), or no bucket could be had.
 */
static inline __attribute__((always_inline)) void
zfree_miss(uma_zone_t zone, void *item, void *udata, bool checked)
{
	uint32_t gate;

	if (!checked && (UMA_DEBUG > 0 || !uma__item_plausible(zone, item))) {
		if (uma_memguard_contains(item)) {
			uma__zfree_guarded(zone, item, udata);
			return;
		}
		uma__item_check(zone, item);
	}
	if (zone->uz_dtor != NULL)
		zone->uz_dtor(item, zone->uz_size, udata);
#if UMA_DEBUG > 1
	if (!(zone->uz_flags & (UMA_ZFLAG_INTERNAL | UMA_ZFLAG_CACHE)))
		uma__dbg_free(zone, item);
#endif
	gate = zone_gate(zone);	/* after the dtor: fewer registers to keep */
	if (gate & UZ_GATE_TRASH)
		uma__trash_fill(zone, item);
	if (!(gate & (UZ_GATE_NOCACHE | UZ_GATE_SLEEPERS | UZ_GATE_MEMGUARD))) {
		if (gate & UZ_GATE_LOCKED) {
			if (uma__cache_push_fallback(zone, item))
				return;
		} else if (gate & (UZ_GATE_DTOR | UZ_GATE_TRASH |
		    UZ_GATE_GUARDED) && cache_push_hit(zone->uz_cpu, item))
			return;
#ifdef UMA_TSAN
		__tsan_release(item);
#endif
		if (uma__cache_free_slow(zone, item))
			return;
	}
	zfree_item(zone, item);
}

/* See zone_fast.h */
__attribute__((noinline)) void
uma__zfree_miss(uma_zone_t zone, void *item, void *udata)
{
	zfree_miss(zone, item, udata, false);
}

/* See zone_fast.h */
__attribute__((noinline)) void
uma__zfree_miss_checked(uma_zone_t zone, void *item)
{
	zfree_miss(zone, item, NULL, true);
}

/* See uma.h */
void
uma_zfree_arg(uma_zone_t zone, void *item, void *udata)
{
	if (__predict_false(item == NULL))
		return;
	if (__predict_false(!uma__zfree_hit(zone, item)))
		uma__zfree_miss(zone, item, udata);
}

/* See uma.h; aligned as uma_zalloc. */
__attribute__((aligned(64))) void
uma_zfree(uma_zone_t zone, void *item)
{
	uma_zfree_arg(zone, item, NULL);
}

/* See uma.h */
void
uma_zwait(uma_zone_t zone)
{
	uma_zfree(zone, uma_zalloc_arg(zone, NULL, M_WAITOK));
}

/* A per-CPU call on a zone that is not per-CPU: FreeBSD asserts. */
static void
zone_assert_pcpu(uma_zone_t zone, const char *what)
{
	if (__predict_false(!(zone->uz_flags & UMA_ZONE_PCPU)))
		uma__misuse(zone, "%s on a zone without UMA_ZONE_PCPU", what);
}

/* See uma.h */
void *
uma_zalloc_pcpu_arg(uma_zone_t zone, void *udata, int flags)
{
	zone_assert_pcpu(zone, "uma_zalloc_pcpu");
	return (uma_zalloc_arg(zone, udata, flags));
}

/* See uma.h */
void *
uma_zalloc_pcpu(uma_zone_t zone, int flags)
{
	return (uma_zalloc_pcpu_arg(zone, NULL, flags));
}

/* See uma.h */
void
uma_zfree_pcpu_arg(uma_zone_t zone, void *item, void *udata)
{
	zone_assert_pcpu(zone, "uma_zfree_pcpu");
	uma_zfree_arg(zone, item, udata);
}

/* See uma.h */
void
uma_zfree_pcpu(uma_zone_t zone, void *item)
{
	uma_zfree_pcpu_arg(zone, item, NULL);
}
