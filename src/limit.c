/*
 * limit.c - zone limits: counting items out of the keg, sleeping at the
 * limit, and the limit warning.
 *
 * Layer: zone.  uz_items counts every item that left the keg for this zone,
 * with a user or in a cache (FreeBSD counts cached items too, so a zone can
 * show USED < LIMIT and still sleep: its caches hold the rest).  Taking is
 * a fetch-and-add that gives back what overshot; only a thread that got
 * nothing and may wait goes near uz_limit_lock.  While anyone sleeps, the
 * UZ_FAST_SLEEPERS bit sends every free of the zone straight to the keg, so
 * each free wakes a sleeper instead of feeding a cache; uma.ug_sleeping
 * counts such zones for the hit paths that do not read uz_fast
 * (uma__cache_push_mode).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "uma_int.h"

#define	UMA_WARN_INTERVAL	300	/* seconds between limit warnings */
#define	UMA_LIMIT_RECHECK_NS	(10 * 1000 * 1000)	/* a sleeper's period */

void
uma__limit_init(uma_zone_t zone)
{
	pthread_mutex_init(&zone->uz_limit_lock, NULL);
	pthread_cond_init(&zone->uz_limit_cv, NULL);
}

void
uma__limit_fini(uma_zone_t zone)
{
	pthread_cond_destroy(&zone->uz_limit_cv);
	pthread_mutex_destroy(&zone->uz_limit_lock);
}

static void
limit_warn(uma_zone_t zone)
{
	struct timespec ts;
	int64_t last;

	if (zone->uz_warning == NULL || !uma.ug_warnings)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	last = atomic_load(&zone->uz_warned_at);
	if (last != 0 && ts.tv_sec - last < UMA_WARN_INTERVAL)
		return;
	if (atomic_compare_exchange_strong(&zone->uz_warned_at, &last,
	    ts.tv_sec != 0 ? ts.tv_sec : 1))
		fprintf(stderr, "[zone: %s] %s\n", zone->uz_name,
		    zone->uz_warning);
}

/* Wait on the limit's condition for at most one period. */
static int
limit_wait(uma_zone_t zone)
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

/* Sleep until the zone is below its limit (M_WAITOK). */
static void
limit_sleep(uma_zone_t zone)
{
	pthread_mutex_lock(&zone->uz_limit_lock);
	if (atomic_fetch_add(&zone->uz_sleepers, 1) == 0) {
		atomic_fetch_or(&zone->uz_fast, UZ_FAST_SLEEPERS);
		atomic_fetch_add(&uma.ug_sleeping, 1);
	}
	atomic_fetch_add_explicit(&zone->uz_sleeps, 1, memory_order_relaxed);
	while (zone->uz_max_items != 0 &&
	    atomic_load(&zone->uz_items) >= zone->uz_max_items) {
		if (limit_wait(zone) != ETIMEDOUT)
			continue;
		/*
		 * Items the limit counts may lie in CPU caches: a free that
		 * read the zone before UZ_FAST_SLEEPERS was set puts its item
		 * there, and wakes no one.  Each period, give the caches back
		 * to the keg, which wakes us if that made room.
		 */
		pthread_mutex_unlock(&zone->uz_limit_lock);
		uma__cache_drain(zone);
		uma__bucket_cache_reclaim(zone, false);
		pthread_mutex_lock(&zone->uz_limit_lock);
	}
	if (atomic_fetch_sub(&zone->uz_sleepers, 1) == 1) {
		atomic_fetch_and(&zone->uz_fast, ~UZ_FAST_SLEEPERS);
		atomic_fetch_sub(&uma.ug_sleeping, 1);
	}
	pthread_mutex_unlock(&zone->uz_limit_lock);
}

/*
 * Take up to `count` items from the limit.  Returns how many were granted:
 * all of them without a limit, fewer near it, 0 at it with M_NOWAIT.  With
 * M_WAITOK it sleeps until at least one is granted.
 */
int
uma__limit_take(uma_zone_t zone, int count, int flags)
{
	uint64_t max, old, over;

	for (;;) {
		old = atomic_fetch_add(&zone->uz_items, count);
		max = zone->uz_max_items;
		if (max == 0 || old + count <= max)
			return (count);
		over = old + count - max;
		if (over > (uint64_t)count)
			over = count;
		atomic_fetch_sub(&zone->uz_items, over);
		if (over < (uint64_t)count)
			return (count - (int)over);
		limit_warn(zone);
		if (flags & M_NOWAIT)
			return (0);
		limit_sleep(zone);
	}
}

/* Give back `count` items and wake whoever sleeps for them. */
void
uma__limit_release(uma_zone_t zone, int count)
{
	if (count == 0)
		return;
	atomic_fetch_sub(&zone->uz_items, count);
	if (atomic_load(&zone->uz_sleepers) != 0) {
		pthread_mutex_lock(&zone->uz_limit_lock);
		if (count == 1)
			pthread_cond_signal(&zone->uz_limit_cv);
		else
			pthread_cond_broadcast(&zone->uz_limit_cv);
		pthread_mutex_unlock(&zone->uz_limit_lock);
	}
}

/*
 * Keep caches from holding most of a small limit: with nb buckets per CPU
 * cache (two), a bucket may hold a quarter of the limit split over the
 * CPUs, and the zone's bucket cache half of it.  FreeBSD's set_maxcache.
 */
static void
limit_set_maxcache(uma_zone_t zone, int nitems)
{
	uint32_t bsize, nb = 2 * uma.ug_ncpus;

	pthread_mutex_lock(&zone->uz_lock);
	if (nitems == 0) {
		uma__bucket_select(zone);
		zone->uz_bucket_max = UINT64_MAX;
	} else if (!(zone->uz_fast & UZ_FAST_NOCACHE) ||
	    zone->uz_bucket_size_max != 0) {
		uma__bucket_select(zone);
		bsize = (uint32_t)nitems / nb / 4;
		if (bsize < zone->uz_bucket_size_max)
			zone->uz_bucket_size_max = bsize;
		if (zone->uz_bucket_size > zone->uz_bucket_size_max)
			zone->uz_bucket_size = zone->uz_bucket_size_max;
		if (zone->uz_bucket_size_min > zone->uz_bucket_size_max)
			zone->uz_bucket_size_min = zone->uz_bucket_size_max;
		zone->uz_bucket_max = (uint64_t)nitems / 2;
	}
	pthread_mutex_unlock(&zone->uz_lock);
	uma__zone_set_fast(zone);
}

/* See uma.h */
int
uma_zone_set_max(uma_zone_t zone, int nitems)
{
	if (nitems < 0)
		nitems = 0;
	limit_set_maxcache(zone, nitems);
	pthread_mutex_lock(&zone->uz_limit_lock);
	zone->uz_max_items = (uint64_t)nitems;
	if (nitems != 0)
		zone->uz_flags |= UMA_ZFLAG_LIMIT;
	else
		zone->uz_flags &= ~UMA_ZFLAG_LIMIT;
	pthread_cond_broadcast(&zone->uz_limit_cv);
	pthread_mutex_unlock(&zone->uz_limit_lock);
	return (nitems);
}

/* See uma.h */
int
uma_zone_get_max(uma_zone_t zone)
{
	return ((int)zone->uz_max_items);
}

/* See uma.h */
int
uma_zone_get_cur(uma_zone_t zone)
{
	struct uma__zone_stat zs;

	uma__zone_stat(zone, &zs, NULL, 0);
	return (zs.zs_allocs > zs.zs_frees ?
	    (int)(zs.zs_allocs - zs.zs_frees) : 0);
}

/* See uma.h */
void
uma_zone_set_warning(uma_zone_t zone, const char *msg)
{
	zone->uz_warning = msg;
}

/* See uma.h */
int
uma_zone_exhausted(uma_zone_t zone)
{
	return (uma__zone_exhausted(zone));
}
