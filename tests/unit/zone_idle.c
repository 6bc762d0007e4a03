/*
 * zone_idle.c - the idle pass (reclaim.c), which runs when the process
 * takes new pages: what a zone holds beyond the items its CPUs allocated
 * since the last pass goes back to the page layer at once, where another
 * zone's next slab takes it; a zone no CPU allocated from since gives
 * back everything.  A burst freed just after a pass once waited a second
 * pass, and meanwhile the sizes allocated next took new pages.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"
#include "reclaim.h"
#include "uma_int.h"
#include "zone_test.h"

#define	NITEMS	20000	/* 64-byte items: 320 one-page slabs */

/*
 * The passes run when this test says, not when new pages ask for one:
 * vm.uma_idle_pass_mb=0.  No MemGuard samples: they bypass the caches.
 */
void
test_setup(void)
{
	int zero = 0;

	memguard_off();
	CHECK_EQ(uma_sysctlbyname("vm.uma_idle_pass_mb", NULL, NULL, &zero,
	    sizeof(zero)), 0);
}

static void
idle_pass(void)
{
	atomic_store(&uma__reclaim_idle_wanted, true);
	uma__reclaim_idle_run(false);
}

/* Items cached anywhere in the zone, or free in its keg's slabs. */
static uint64_t
held(const struct uma__zone_stat *zs)
{
	return (zs->zs_cpu_free + zs->zs_zone_free + zs->zs_keg_free);
}

UMA_TEST(zone_idle_pass_keeps_only_what_the_zone_took_since_the_last)
{
	static void *v[NITEMS];
	struct uma__zone_stat zs;
	uint64_t pages;
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("idle-burst", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	for (int i = 0; i < NITEMS / 2; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	idle_pass();
	for (int i = NITEMS / 2; i < NITEMS; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < NITEMS; i++)
		uma_zfree(z, v[i]);
	zs = zstat(z);
	pages = zs.zs_pages;
	CHECK_EQ(held(&zs), pages * zs.zs_ipers);
	CHECK(pages >= NITEMS / zs.zs_ipers);

	/*
	 * The zone took NITEMS / 2 since the last pass: it keeps as many in
	 * its cache, and the slabs they lie on (their free items with them)
	 * but no other: about half its pages go.  The old rule, only what
	 * stayed idle since the last pass, gave back nothing here: the
	 * second half emptied the zone's cache and its keg's free slabs
	 * after that pass.
	 */
	idle_pass();
	zs = zstat(z);
	printf("  %ju pages -> %ju; %ju items in the zone's cache, %ju in "
	    "the CPU's, %ju free in the keg\n", (uintmax_t)pages,
	    (uintmax_t)zs.zs_pages, (uintmax_t)zs.zs_zone_free,
	    (uintmax_t)zs.zs_cpu_free, (uintmax_t)zs.zs_keg_free);
	CHECK(zs.zs_zone_free <= NITEMS / 2);
	CHECK(zs.zs_pages * 100 <= pages * 55);
	CHECK_EQ(held(&zs), zs.zs_pages * zs.zs_ipers);

	/* Nothing taken since: the CPU's cache goes too, and every page. */
	idle_pass();
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free, 0);
	CHECK_EQ(zs.zs_zone_free, 0);
	CHECK_EQ(zs.zs_pages, 0);
	CHECK_EQ(zs.zs_allocs, NITEMS);
	CHECK_EQ(zs.zs_frees, NITEMS);

	/* And the zone works on. */
	for (int i = 0; i < NITEMS; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < NITEMS; i++)
		uma_zfree(z, v[i]);
	uma_zdestroy(z);
}

/*
 * A zone that goes on allocating keeps its cache: the items it took
 * since the last pass are what it may take again.
 */
UMA_TEST(zone_idle_pass_leaves_a_busy_zone_its_cache)
{
	static void *v[NITEMS];
	struct uma__zone_stat zs;
	uint64_t cached;
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("idle-busy", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	for (int i = 0; i < NITEMS; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < NITEMS; i++)
		uma_zfree(z, v[i]);
	idle_pass();
	/* Churn through all of it, twice, and end with everything free. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NITEMS; i++)
			CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		for (int i = 0; i < NITEMS; i++)
			uma_zfree(z, v[i]);
	}
	zs = zstat(z);
	cached = zs.zs_cpu_free + zs.zs_zone_free;
	idle_pass();
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, cached);
	uma_zdestroy(z);
}
