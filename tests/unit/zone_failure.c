/*
 * zone_failure.c - a failing ctor, zone init or keg init fails exactly the
 * allocation that needed it, cleanly: NULL, one counted failure, no user
 * free counted, no limit unit kept, and every item back in the keg once the
 * zone is freed and drained.
 *
 * The thread is pinned to one CPU so that "the caches are empty" is a
 * statement about one cache the test can see.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"
#include "stats.h"
#include "vm.h"
#include "zone_test.h"

/*
 * What is tested is what the keg holds: every item with a keg init is in a
 * slab, and a guarded item is in none: no MemGuard samples
 * (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

#define	LIMIT		100000	/* large: only there to make zs_items count */
#define	ATTEMPTS	350

static _Atomic int ctor_calls, dtor_calls;
static _Atomic int init_calls, init_ok, fini_calls;
static _Atomic bool init_armed;	/* every init call fails while set */
static _Atomic int init_allow = -1;	/* while armed: successes let through */
static _Atomic int init_every;	/* or every n-th call fails (0 = never) */

static int
ctor_fail_7th(void *mem, int size, void *arg, int flags)
{
	int n = atomic_fetch_add(&ctor_calls, 1) + 1;

	if (n % 7 == 0)
		return (ENOMEM);
	memset(mem, 0x5a, (size_t)size);
	return (0);
}

static void
dtor_count(void *mem, int size, void *arg)
{
	atomic_fetch_add(&dtor_calls, 1);
}

/* Used as zone init and as keg init: fails when armed or on every n-th. */
static int
init_maybe_fail(void *mem, int size, int flags)
{
	int n = atomic_fetch_add(&init_calls, 1) + 1;
	int every = atomic_load(&init_every);

	if (atomic_load(&init_armed)) {
		/* Let init_allow calls succeed first: fail in mid-slab. */
		if (atomic_load(&init_allow) <= 0)
			return (ENOMEM);
		atomic_fetch_sub(&init_allow, 1);
	} else if (every != 0 && n % every == 0)
		return (ENOMEM);
	atomic_fetch_add(&init_ok, 1);
	return (0);
}

static void
fini_count(void *mem, int size)
{
	atomic_fetch_add(&fini_calls, 1);
}

static uint64_t
capacity(const struct uma__zone_stat *zs)
{
	return (zs->zs_pages / zs->zs_ppera * zs->zs_ipers);
}

static int
keg_pages_one(uma_zone_t z, void *arg)
{
	struct uma__zone_stat zs;

	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	if (zs.zs_secondary == 0)
		*(uint64_t *)arg += zs.zs_pages;
	return (0);
}

/*
 * Pages the backend handed out that no keg accounts for: constant unless
 * a failure path forgot to give pages back.
 */
static int64_t
pages_outside_kegs(void)
{
	uint64_t keg_pages = 0;

	CHECK(uma__zone_foreach(keg_pages_one, &keg_pages, 1) == 0);
	return ((int64_t)uma__vm_pages() - (int64_t)keg_pages);
}

static int64_t outside_at_start;

/*
 * Everything was freed: every item of the keg is free somewhere (keg, zone
 * buckets, CPU buckets); after a drain all of them are in the keg, the
 * caches are empty and no limit unit is held.  `zones` share one keg.
 */
static void
check_nothing_leaks(uma_zone_t *zones, int n)
{
	struct uma__zone_stat zs, z0;
	uint64_t cached = 0;

	z0 = zstat(zones[0]);
	for (int i = 0; i < n; i++) {
		zs = zstat(zones[i]);
		CHECK_EQ(zs.zs_allocs, zs.zs_frees);
		CHECK_EQ(zs.zs_keg_free, z0.zs_keg_free);
		cached += zs.zs_zone_free + zs.zs_cpu_free;
	}
	CHECK_EQ(z0.zs_keg_free + cached, capacity(&z0));

	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(pages_outside_kegs(), outside_at_start);
	for (int i = 0; i < n; i++) {
		zs = zstat(zones[i]);
		CHECK_EQ(zs.zs_zone_free, 0);
		CHECK_EQ(zs.zs_cpu_free, 0);
		CHECK_EQ(zs.zs_items, 0);
		CHECK_EQ(zs.zs_keg_free, capacity(&zs));
		/* Every slab is empty, so a drain gives every page back. */
		CHECK_EQ(zs.zs_pages, 0);
		CHECK_EQ(zs.zs_allocs, zs.zs_frees);
	}
}

/*
 * Allocate ATTEMPTS times, freeing a pseudo-random held item every third
 * attempt.  fail_expected(i) says whether attempt i (1-based) must fail.
 * Checks the counters around every attempt.  Returns the number of NULLs.
 */
struct run {
	uma_zone_t	 z;
	int		 flags;
	bool		(*fail_expected)(struct run *, int);
	void		(*before)(struct run *, int, bool);
	void		*held[ATTEMPTS];
	int		 nheld;
	int		 ok, nulls, frees;
	unsigned	 seed;
};

static void
run_attempts(struct run *r)
{
	struct uma__zone_stat b, a;

	for (int i = 1; i <= ATTEMPTS; i++) {
		bool fail = r->fail_expected(r, i);
		void *p;

		if (r->before != NULL)
			r->before(r, i, fail);
		b = zstat(r->z);
		p = uma_zalloc(r->z, r->flags);
		atomic_store(&init_armed, false);
		a = zstat(r->z);
		if (fail) {
			if (p != NULL)
				fprintf(stderr, "attempt %d: expected NULL\n", i);
			CHECK(p == NULL);
			CHECK_EQ(a.zs_fails, b.zs_fails + 1);
			CHECK_EQ(a.zs_allocs, b.zs_allocs);
			r->nulls++;
		} else {
			if (p == NULL)
				fprintf(stderr, "attempt %d: unexpected NULL\n",
				    i);
			CHECK(p != NULL);
			CHECK_EQ(a.zs_fails, b.zs_fails);
			CHECK_EQ(a.zs_allocs, b.zs_allocs + 1);
			r->held[r->nheld++] = p;
			r->ok++;
		}
		CHECK_EQ(a.zs_frees, b.zs_frees);
		if (i % 3 == 0 && r->nheld > 0) {
			int k = (int)(next_rand(&r->seed) % (unsigned)r->nheld);

			uma_zfree(r->z, r->held[k]);
			r->held[k] = r->held[--r->nheld];
			r->frees++;
		}
	}
	a = zstat(r->z);
	CHECK_EQ(a.zs_fails, r->nulls);
	CHECK_EQ(a.zs_allocs, r->ok);
	CHECK_EQ(a.zs_frees, r->frees);
	CHECK_EQ(a.zs_allocs - a.zs_frees, r->nheld);
	CHECK_EQ(uma_zone_get_cur(r->z), r->nheld);
	CHECK(r->nulls >= 3);
}

static void
run_free_all(struct run *r)
{
	while (r->nheld > 0) {
		uma_zfree(r->z, r->held[--r->nheld]);
		r->frees++;
	}
	CHECK_EQ(zstat(r->z).zs_frees, r->frees);
}

/* ---- ctor ------------------------------------------------------------ */

static bool
every_7th(struct run *r, int i)
{
	return (i % 7 == 0);
}

static void
ctor_fail_run(int flags)
{
	struct run r = { .flags = flags, .fail_expected = every_7th,
	    .seed = 7 };

	test_pin_one_cpu();
	r.z = uma_zcreate("ctor-fail", 96, ctor_fail_7th, dtor_count, NULL,
	    NULL, UMA_ALIGN_PTR, 0);
	CHECK(r.z != NULL);
	CHECK_EQ(uma_zone_set_max(r.z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	run_attempts(&r);
	/* The ctor runs once per attempt; the dtor only on user frees. */
	CHECK_EQ(atomic_load(&ctor_calls), ATTEMPTS);
	CHECK_EQ(atomic_load(&dtor_calls), r.frees);
	run_free_all(&r);
	CHECK_EQ(atomic_load(&dtor_calls), r.frees);
	check_nothing_leaks(&r.z, 1);
	uma_zdestroy(r.z);
}

UMA_TEST(zone_ctor_failing_every_7th_fails_exactly_those_nowait)
{
	ctor_fail_run(M_NOWAIT);
}

UMA_TEST(zone_ctor_failing_every_7th_fails_exactly_those_waitok)
{
	ctor_fail_run(M_WAITOK);
}

/* A ctor failure on an item that came from the CPU cache and on one that
 * had to come from the keg: both unwind without touching zs_frees. */
UMA_TEST(zone_ctor_failure_on_cached_item_keeps_counts_exact)
{
	struct uma__zone_stat zs;
	void *p[6];
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("ctor-fail-cached", 64, ctor_fail_7th, dtor_count,
	    NULL, NULL, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_max(z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	for (int i = 0; i < 6; i++)
		CHECK((p[i] = uma_zalloc(z, M_NOWAIT)) != NULL);
	for (int i = 0; i < 6; i++)
		uma_zfree(z, p[i]);
	/* The 7th ctor call fails on an item now cached in this CPU. */
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, 6);
	CHECK_EQ(zs.zs_frees, 6);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	check_nothing_leaks(&z, 1);
	uma_zdestroy(z);
}

/* ---- zone init, no buckets: one zinit per allocation ------------------ */

static void
zinit_nobucket_run(int flags)
{
	struct run r = { .flags = flags, .fail_expected = every_7th,
	    .seed = 11 };

	test_pin_one_cpu();
	r.z = uma_zcreate("zinit-fail", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	CHECK(r.z != NULL);
	CHECK_EQ(uma_zone_set_zinit(r.z, init_maybe_fail), 0);
	CHECK_EQ(uma_zone_set_zfini(r.z, fini_count), 0);
	CHECK_EQ(uma_zone_set_max(r.z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	atomic_store(&init_every, 7);
	run_attempts(&r);
	atomic_store(&init_every, 0);
	/* Without buckets every allocation moves one item keg -> zone. */
	CHECK_EQ(atomic_load(&init_calls), ATTEMPTS);
	CHECK_EQ(atomic_load(&init_ok) - atomic_load(&fini_calls), r.nheld);
	run_free_all(&r);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	check_nothing_leaks(&r.z, 1);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(r.z);
}

UMA_TEST(zone_zinit_failing_every_7th_nobucket_nowait)
{
	zinit_nobucket_run(M_NOWAIT);
}

UMA_TEST(zone_zinit_failing_every_7th_nobucket_waitok)
{
	zinit_nobucket_run(M_WAITOK);
}

/* ---- zone init with buckets: fail when the item must come from the keg -- */

/*
 * Before every 7th attempt, drain this zone's caches so that the attempt
 * must move items keg -> zone, and arm the init so that all of them fail.
 */
static void
drain_and_arm(struct run *r, int i, bool fail)
{
	struct uma__zone_stat zs;

	if (!fail)
		return;
	uma_zone_reclaim(r->z, UMA_RECLAIM_DRAIN_CPU);
	zs = zstat(r->z);
	CHECK_EQ(zs.zs_cpu_free, 0);
	CHECK_EQ(zs.zs_zone_free, 0);
	atomic_store(&init_armed, true);
}

static void
zinit_bucket_check(uma_zone_t z, int nheld)
{
	struct uma__zone_stat zs = zstat(z);

	/* Items in the zone (with users or cached) passed a zinit. */
	CHECK_EQ(atomic_load(&init_ok) - atomic_load(&fini_calls),
	    nheld + zs.zs_zone_free + zs.zs_cpu_free);
}

static void
zinit_bucket_run(int flags)
{
	struct run r = { .flags = flags, .fail_expected = every_7th,
	    .before = drain_and_arm, .seed = 13 };

	test_pin_one_cpu();
	r.z = uma_zcreate("zinit-bucket", 128, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(r.z != NULL);
	CHECK_EQ(uma_zone_set_zinit(r.z, init_maybe_fail), 0);
	CHECK_EQ(uma_zone_set_zfini(r.z, fini_count), 0);
	CHECK_EQ(uma_zone_set_max(r.z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	run_attempts(&r);
	zinit_bucket_check(r.z, r.nheld);
	run_free_all(&r);
	check_nothing_leaks(&r.z, 1);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(r.z);
}

UMA_TEST(zone_set_zinit_failure_fails_allocation_from_keg_nowait)
{
	zinit_bucket_run(M_NOWAIT);
}

UMA_TEST(zone_set_zinit_failure_fails_allocation_from_keg_waitok)
{
	zinit_bucket_run(M_WAITOK);
}

/* ---- secondary zone init --------------------------------------------- */

static void
zinit_secondary_run(int flags)
{
	struct run r = { .flags = flags, .fail_expected = every_7th,
	    .before = drain_and_arm, .seed = 17 };
	void *pp[ATTEMPTS];
	uma_zone_t prim, zones[2];
	int np = 0;

	test_pin_one_cpu();
	prim = uma_zcreate("zinit-prim", 256, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(prim != NULL);
	r.z = uma_zsecond_create("zinit-sec", NULL, NULL, init_maybe_fail,
	    fini_count, prim);
	CHECK(r.z != NULL);
	CHECK_EQ(uma_zone_set_max(r.z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	/* Items of the primary share the slabs but never see the zinit. */
	for (int i = 0; i < 40; i++)
		CHECK((pp[np++] = uma_zalloc(prim, flags)) != NULL);
	CHECK_EQ(atomic_load(&init_calls), 0);
	run_attempts(&r);
	zinit_bucket_check(r.z, r.nheld);
	CHECK_EQ(zstat(prim).zs_fails, 0);
	run_free_all(&r);
	while (np > 0)
		uma_zfree(prim, pp[--np]);
	zones[0] = prim;
	zones[1] = r.z;
	check_nothing_leaks(zones, 2);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(r.z);
	uma_zdestroy(prim);
}

UMA_TEST(zone_secondary_zinit_failure_fails_allocation_nowait)
{
	zinit_secondary_run(M_NOWAIT);
}

UMA_TEST(zone_secondary_zinit_failure_fails_allocation_waitok)
{
	zinit_secondary_run(M_WAITOK);
}

/* ---- keg init: fails when the allocation needs a new slab ------------- */

/* A new slab is needed when no item is free anywhere in the zone. */
static bool
keg_is_empty(struct run *r, int i)
{
	struct uma__zone_stat zs = zstat(r->z);

	return (zs.zs_keg_free + zs.zs_zone_free + zs.zs_cpu_free == 0);
}

static bool
keg_empty_and_arm(struct run *r, int i)
{
	static int last_armed = -10;

	/* Arm at most every other attempt, so that slabs do get made. */
	if (i - last_armed < 2 || !keg_is_empty(r, i))
		return (false);
	last_armed = i;
	return (true);
}

/* The third item of the new slab fails: the first two must be finied. */
static void
arm_mid_slab(struct run *r, int i, bool fail)
{
	if (fail) {
		atomic_store(&init_allow, 2);
		atomic_store(&init_armed, true);
	}
}

static void
keg_init_run(int flags)
{
	struct run r = { .flags = flags, .fail_expected = keg_empty_and_arm,
	    .before = arm_mid_slab, .seed = 19 };
	struct uma__zone_stat zs;

	test_pin_one_cpu();
	r.z = uma_zcreate("keginit-fail", 1000, NULL, NULL, init_maybe_fail,
	    fini_count, UMA_ALIGN_PTR, 0);
	CHECK(r.z != NULL);
	CHECK(zstat(r.z).zs_ipers > 2);		/* so the init fails mid-slab */
	CHECK_EQ(uma_zone_set_max(r.z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	run_attempts(&r);
	/* Every item in a slab passed the keg init; failed slabs were
	 * finalized item by item and given back. */
	zs = zstat(r.z);
	CHECK_EQ(atomic_load(&init_ok) - atomic_load(&fini_calls),
	    capacity(&zs));
	run_free_all(&r);
	check_nothing_leaks(&r.z, 1);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(r.z);
}

UMA_TEST(zone_keg_init_failure_fails_allocation_needing_slab_nowait)
{
	keg_init_run(M_NOWAIT);
}

UMA_TEST(zone_keg_init_failure_fails_allocation_needing_slab_waitok)
{
	keg_init_run(M_WAITOK);
}

/* A keg init set with uma_zone_set_init behaves like uma_zcreate's. */
UMA_TEST(zone_set_init_failure_on_first_allocation_is_clean)
{
	struct uma__zone_stat zs;
	uma_zone_t z;
	void *p;

	test_pin_one_cpu();
	z = uma_zcreate("setinit-fail", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_init(z, init_maybe_fail), 0);
	CHECK_EQ(uma_zone_set_fini(z, fini_count), 0);
	CHECK_EQ(uma_zone_set_max(z, LIMIT), LIMIT);
	outside_at_start = pages_outside_kegs();
	for (int flags = M_NOWAIT; flags <= M_WAITOK; flags <<= 1) {
		atomic_store(&init_armed, true);
		p = uma_zalloc(z, flags);
		atomic_store(&init_armed, false);
		CHECK(p == NULL);
	}
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 2);
	CHECK_EQ(zs.zs_allocs, 0);
	CHECK_EQ(zs.zs_frees, 0);
	CHECK_EQ(zs.zs_pages, 0);
	CHECK_EQ(zs.zs_items, 0);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	/* The next allocation builds a slab and succeeds. */
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL);
	uma_zfree(z, p);
	check_nothing_leaks(&z, 1);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(z);
}
