/*
 * zone_limit.c - uma_zone_set_max: at the limit M_NOWAIT fails (one counted
 * failure each), M_WAITOK sleeps (counted) until an item is freed, and
 * frees wake the sleepers one by one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"
#include "stats.h"
#include "zone_test.h"

#define	NLIMIT		32
#define	NSLEEPERS	4
#define	WAIT_SECONDS	10.0	/* bound on every wait for another thread */

static void
nap(void)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

struct sleeper {
	pthread_t	 td;
	uma_zone_t	 z;
	void		*item;
	_Atomic int	*done;
};

static void *
sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	s->item = uma_zalloc(s->z, M_WAITOK);
	atomic_fetch_add(s->done, 1);
	return (NULL);
}

/* Poll until *v >= want or the bound passes; returns the last value. */
static int
wait_atomic(_Atomic int *v, int want)
{
	double end = test_now() + WAIT_SECONDS;
	int x;

	while ((x = atomic_load(v)) < want && test_now() < end)
		nap();
	return (x);
}

static uint64_t
wait_sleepers(uma_zone_t z, uint64_t want)
{
	double end = test_now() + WAIT_SECONDS;
	uint64_t x;

	while ((x = zstat(z).zs_sleepers) != want && test_now() < end)
		nap();
	return (x);
}

UMA_TEST(zone_limit_waitok_sleeps_until_free_and_nowait_fails_once)
{
	static struct sleeper s[NSLEEPERS];
	static void *held[NLIMIT];
	struct uma__zone_stat zs;
	_Atomic int done = 0;
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("limit", 128, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_get_max(z), 0);
	CHECK_EQ(uma_zone_set_max(z, NLIMIT), NLIMIT);
	CHECK_EQ(uma_zone_get_max(z), NLIMIT);
	CHECK_EQ(zstat(z).zs_limit, NLIMIT);
	CHECK(uma_zone_exhausted(z) == 0);

	for (int i = 0; i < NLIMIT; i++) {
		held[i] = uma_zalloc(z, i % 2 ? M_NOWAIT : M_WAITOK);
		CHECK(held[i] != NULL);
	}
	zs = zstat(z);
	CHECK_EQ(zs.zs_items, NLIMIT);
	CHECK_EQ(zs.zs_allocs, NLIMIT);
	CHECK_EQ(zs.zs_fails, 0);
	CHECK_EQ(uma_zone_get_cur(z), NLIMIT);
	/* At the limit, but nobody sleeps: not exhausted (FreeBSD 13+). */
	CHECK(uma_zone_exhausted(z) == 0);

	/* At the limit M_NOWAIT fails, and counts exactly one failure. */
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_allocs, NLIMIT);
	CHECK_EQ(zs.zs_sleeps, 0);

	/* Four threads block in M_WAITOK. */
	for (int i = 0; i < NSLEEPERS; i++) {
		s[i].z = z;
		s[i].done = &done;
		CHECK(pthread_create(&s[i].td, NULL, sleeper_main, &s[i]) == 0);
	}
	CHECK_EQ(wait_sleepers(z, NSLEEPERS), NSLEEPERS);
	CHECK_EQ(atomic_load(&done), 0);
	CHECK(uma_zone_exhausted(z) != 0);
	zs = zstat(z);
	CHECK(zs.zs_sleeps >= NSLEEPERS);
	CHECK_EQ(zs.zs_items, NLIMIT);
	CHECK_EQ(zs.zs_fails, 1);

	/* Each free lets exactly one sleeper through. */
	for (int i = 0; i < NSLEEPERS; i++) {
		uma_zfree(z, held[NLIMIT - 1 - i]);
		CHECK_EQ(wait_atomic(&done, i + 1), i + 1);
		/* Give a wrongly woken second sleeper the chance to run. */
		for (int k = 0; k < 5; k++)
			nap();
		CHECK_EQ(atomic_load(&done), i + 1);
		CHECK_EQ(wait_sleepers(z, NSLEEPERS - 1 - i),
		    NSLEEPERS - 1 - i);
	}
	for (int i = 0; i < NSLEEPERS; i++) {
		CHECK(pthread_join(s[i].td, NULL) == 0);
		CHECK(s[i].item != NULL);
		for (int j = 0; j < NLIMIT - NSLEEPERS; j++)
			CHECK(s[i].item != held[j]);
	}
	zs = zstat(z);
	CHECK_EQ(zs.zs_sleepers, 0);
	CHECK(uma_zone_exhausted(z) == 0);	/* at the limit, none asleep */
	CHECK(zs.zs_sleeps >= NSLEEPERS);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_allocs, NLIMIT + NSLEEPERS);
	CHECK_EQ(zs.zs_frees, NSLEEPERS);
	CHECK_EQ(zs.zs_items, NLIMIT);
	CHECK_EQ(uma_zone_get_cur(z), NLIMIT);

	/* Still at the limit: M_NOWAIT fails again, one more failure. */
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK_EQ(zstat(z).zs_fails, 2);

	for (int i = 0; i < NSLEEPERS; i++)
		uma_zfree(z, s[i].item);
	for (int i = 0; i < NLIMIT - NSLEEPERS; i++)
		uma_zfree(z, held[i]);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, zs.zs_frees);
	CHECK(zs.zs_items <= NLIMIT);
	CHECK(uma_zone_exhausted(z) == 0);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	zs = zstat(z);
	CHECK_EQ(zs.zs_items, 0);
	CHECK_EQ(zs.zs_pages, 0);
	CHECK(uma_zone_exhausted(z) == 0);
	/* After the drain the whole limit is available again. */
	for (int i = 0; i < NLIMIT; i++)
		CHECK((held[i] = uma_zalloc(z, M_NOWAIT)) != NULL);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	for (int i = 0; i < NLIMIT; i++)
		uma_zfree(z, held[i]);
	uma_zdestroy(z);
}

/* Cached items count against the limit, but a drain returns them. */
UMA_TEST(zone_limit_counts_cached_items_until_drained)
{
	static void *held[NLIMIT];
	struct uma__zone_stat zs;
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("limit-cache", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_max(z, NLIMIT), NLIMIT);
	for (int i = 0; i < NLIMIT / 2; i++)
		CHECK((held[i] = uma_zalloc(z, M_NOWAIT)) != NULL);
	for (int i = 0; i < NLIMIT / 2; i++)
		uma_zfree(z, held[i]);
	zs = zstat(z);
	/* Items out of the keg are those cached: allocated ones are back. */
	CHECK_EQ(zs.zs_items, zs.zs_cpu_free + zs.zs_zone_free);
	CHECK(zs.zs_items <= NLIMIT);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN_CPU);
	zs = zstat(z);
	CHECK_EQ(zs.zs_items, 0);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	uma_zdestroy(z);
}

/* A sleeper is woken by a free from another thread, on another CPU. */
UMA_TEST(zone_limit_sleeper_woken_by_free_from_other_thread)
{
	static struct sleeper s;
	static void *held[NLIMIT];
	_Atomic int done = 0;
	uma_zone_t z;

	z = uma_zcreate("limit-xthread", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_max(z, 1), 1);
	CHECK((held[0] = uma_zalloc(z, M_WAITOK)) != NULL);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	s.z = z;
	s.done = &done;
	CHECK(pthread_create(&s.td, NULL, sleeper_main, &s) == 0);
	CHECK_EQ(wait_sleepers(z, 1), 1);
	CHECK_EQ(atomic_load(&done), 0);
	uma_zfree(z, held[0]);
	CHECK_EQ(wait_atomic(&done, 1), 1);
	CHECK(pthread_join(s.td, NULL) == 0);
	CHECK(s.item != NULL);
	uma_zfree(z, s.item);
	CHECK_EQ(zstat(z).zs_fails, 1);
	CHECK(zstat(z).zs_sleeps >= 1);
	uma_zdestroy(z);
}

/* ---- uma_zone_set_maxaction ------------------------------------------ */

static uma_zone_t ma_zone;
static _Atomic int ma_calls, ma_pending, ma_freed;
static void *_Atomic ma_spare;		/* an item the action may free */

static void
maxaction_count(uma_zone_t zone, int pending)
{
	CHECK(zone == ma_zone);
	CHECK(pending >= 1);
	atomic_fetch_add(&ma_calls, 1);
	atomic_fetch_add(&ma_pending, pending);
}

/* Gives back the spare item: what a cache of the program's would do. */
static void
maxaction_free(uma_zone_t zone, int pending)
{
	void *p = atomic_exchange(&ma_spare, NULL);

	maxaction_count(zone, pending);
	if (p != NULL) {
		uma_zfree(zone, p);
		atomic_fetch_add(&ma_freed, 1);
	}
}

/*
 * The maxaction runs when an allocation finds the zone at its limit: for
 * each refused M_NOWAIT request (not when the limit is merely reached),
 * and for a M_WAITOK sleeper, whose wait it can end by freeing an item.
 * NULL removes it.
 */
UMA_TEST(zone_limit_maxaction_runs_at_the_limit_and_can_free_for_a_sleeper)
{
	static struct sleeper s;
	void *held[4];
	_Atomic int done = 0;

	test_pin_one_cpu();
	ma_zone = uma_zcreate("limit-maxaction", 96, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(ma_zone != NULL);
	CHECK_EQ(uma_zone_set_max(ma_zone, 4), 4);
	uma_zone_set_maxaction(ma_zone, maxaction_count);
	for (int i = 0; i < 4; i++)
		CHECK((held[i] = uma_zalloc(ma_zone, M_NOWAIT)) != NULL);
	CHECK_EQ(atomic_load(&ma_calls), 0);
	CHECK(uma_zalloc(ma_zone, M_NOWAIT) == NULL);
	CHECK_EQ(atomic_load(&ma_calls), 1);
	CHECK_EQ(atomic_load(&ma_pending), 1);
	CHECK(uma_zalloc(ma_zone, M_NOWAIT) == NULL);
	CHECK_EQ(atomic_load(&ma_calls), 2);

	/* A sleeper: the action frees the spare, and the sleeper has it. */
	atomic_store(&ma_spare, held[3]);
	uma_zone_set_maxaction(ma_zone, maxaction_free);
	s.z = ma_zone;
	s.done = &done;
	CHECK(pthread_create(&s.td, NULL, sleeper_main, &s) == 0);
	CHECK_EQ(wait_atomic(&done, 1), 1);
	CHECK(pthread_join(s.td, NULL) == 0);
	CHECK(s.item != NULL);
	CHECK_EQ(atomic_load(&ma_freed), 1);
	CHECK(atomic_load(&ma_calls) >= 3);
	held[3] = s.item;

	/* Removed: a refusal runs nothing. */
	uma_zone_set_maxaction(ma_zone, NULL);
	atomic_store(&ma_calls, 0);
	CHECK(uma_zalloc(ma_zone, M_NOWAIT) == NULL);
	CHECK_EQ(atomic_load(&ma_calls), 0);
	CHECK_EQ(zstat(ma_zone).zs_fails, 3);
	for (int i = 0; i < 4; i++)
		uma_zfree(ma_zone, held[i]);
	uma_zdestroy(ma_zone);
}

/*
 * A limit too small for per-CPU buckets, set on a zone whose caches hold
 * items: they go back to the keg (they would count against the limit for
 * good), the counts stay exact, and a larger limit brings caching back.
 */
UMA_TEST(zone_limit_small_limit_on_a_used_zone_strands_nothing)
{
	struct uma__zone_stat zs;
	uma_zone_t z;
	void *p, *q[8];

	test_pin_one_cpu();
	z = uma_zcreate("limit-shrink", 128, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	for (int i = 0; i < 8; i++)
		CHECK((q[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < 8; i++)
		uma_zfree(z, q[i]);
	CHECK(zstat(z).zs_cpu_free > 0);
	CHECK_EQ(uma_zone_set_max(z, 1), 1);
	zs = zstat(z);
	CHECK_EQ(zs.zs_bucket_size, 0);
	CHECK_EQ(zs.zs_items, 0);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	CHECK_EQ(zs.zs_allocs, 8);
	CHECK_EQ(zs.zs_frees, 8);
	CHECK((p = uma_zalloc(z, M_NOWAIT)) != NULL);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	uma_zfree(z, p);
	CHECK_EQ(uma_zone_set_max(z, 1000), 1000);
	CHECK(zstat(z).zs_bucket_size > 0);
	for (int i = 0; i < 8; i++)
		CHECK((q[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < 8; i++)
		uma_zfree(z, q[i]);
	zs = zstat(z);
	CHECK(zs.zs_cpu_free > 0);
	CHECK_EQ(zs.zs_allocs, 17);
	CHECK_EQ(zs.zs_frees, 17);
	uma_zdestroy(z);
}
