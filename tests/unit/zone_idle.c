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

/* Items [from, to) of v taken from z, or given back to it. */
static void
take(uma_zone_t z, void **v, int from, int to)
{
	for (int i = from; i < to; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
}

static void
give(uma_zone_t z, void **v, int from, int to)
{
	for (int i = from; i < to; i++)
		uma_zfree(z, v[i]);
}

/*
 * The burst: half of NITEMS taken before a pass, half after, then all
 * freed; so the zone took NITEMS / 2 since the last pass.
 */
static void
burst(uma_zone_t z, void **v)
{
	take(z, v, 0, NITEMS / 2);
	idle_pass();
	take(z, v, NITEMS / 2, NITEMS);
	give(z, v, 0, NITEMS);
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

	z = zone_pinned("idle-burst");
	burst(z, v);
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
	take(z, v, 0, NITEMS);
	give(z, v, 0, NITEMS);
	uma_zdestroy(z);
}

/*
 * The same burst in a zone that caches no buckets (uma_zone_set_maxcache
 * 0): its frees go straight to free slabs, which the old rule kept too,
 * having seen none free at the last pass.  Now all of them go back.
 */
UMA_TEST(zone_idle_pass_gives_back_free_slabs_beyond_recent_demand)
{
	static void *v[NITEMS];
	struct uma__zone_stat zs;
	uint64_t pages;
	uma_zone_t z;

	z = zone_pinned("idle-nocache");
	uma_zone_set_maxcache(z, 0);
	burst(z, v);
	zs = zstat(z);
	pages = zs.zs_pages;
	CHECK_EQ(zs.zs_zone_free, 0);
	CHECK(zs.zs_keg_free >= NITEMS - 2 * 256);
	idle_pass();
	zs = zstat(z);
	printf("  %ju pages -> %ju; %ju items in the CPU's cache, %ju free "
	    "in the keg\n", (uintmax_t)pages, (uintmax_t)zs.zs_pages,
	    (uintmax_t)zs.zs_cpu_free, (uintmax_t)zs.zs_keg_free);
	/* What is left: the slabs under the CPU's cached items. */
	CHECK(zs.zs_pages <= howmany(zs.zs_cpu_free, zs.zs_ipers) + 2);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_keg_free, zs.zs_pages * zs.zs_ipers);
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

	z = zone_pinned("idle-busy");
	take(z, v, 0, NITEMS);
	give(z, v, 0, NITEMS);
	idle_pass();
	/* Churn through all of it, twice, and end with everything free. */
	for (int round = 0; round < 2; round++) {
		take(z, v, 0, NITEMS);
		give(z, v, 0, NITEMS);
	}
	zs = zstat(z);
	cached = zs.zs_cpu_free + zs.zs_zone_free;
	CHECK(cached > NITEMS / 2);
	idle_pass();
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, cached);
	uma_zdestroy(z);
}
