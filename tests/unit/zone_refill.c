/*
 * zone_refill.c - a zone init (zinit) that fails part-way through a
 * bucket refill: the items it initialized before the failure are kept and
 * serve the allocation that asked and the ones after it; the allocation
 * fails only when the init failed on the refill's first item, and only
 * that one counts as a failure (FreeBSD's zone_alloc_bucket).
 *
 * Pinned to one CPU: the refills are this CPU's, and "served from the
 * cache" is a statement about the cache the test can see.  No MemGuard
 * samples (memguard_test.h): a sampled allocation runs the zinit on an
 * object of its own, outside the refill, and after the allowed inits
 * fails (CI's pass at vm.memguard.frequency=1000, once: "p != NULL").
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"
#include "zone_test.h"

#define	ITEM	128
#define	ALLOWED	5		/* zinits that succeed before they fail */

void
test_setup(void)
{
	memguard_off();
}

static _Atomic int init_calls, init_ok, fini_calls;
static _Atomic int init_allow = -1;	/* successes left; -1: no failures */

/* Succeeds init_allow times, then fails until init_allow is reset. */
static int
zinit_allow(void *mem, int size, int flags)
{
	int left;

	atomic_fetch_add(&init_calls, 1);
	left = atomic_load(&init_allow);
	if (left == 0)
		return (ENOMEM);
	if (left > 0)
		atomic_fetch_sub(&init_allow, 1);
	memset(mem, 0x6b, (size_t)size);
	atomic_fetch_add(&init_ok, 1);
	return (0);
}

static void
zfini_count(void *mem, int size)
{
	atomic_fetch_add(&fini_calls, 1);
}

static uma_zone_t
refill_zone(void)
{
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("refill", ITEM, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_zinit(z, zinit_allow), 0);
	CHECK_EQ(uma_zone_set_zfini(z, zfini_count), 0);
	/* A bucket wants more items than the init will let through. */
	CHECK(zstat(z).zs_bucket_size > ALLOWED);
	return (z);
}

/* An item that passed the zinit, not handed out twice. */
static void
check_item(void *p, void **held, int n)
{
	CHECK(p != NULL);
	CHECK(((unsigned char *)p)[0] == 0x6b);
	CHECK(((unsigned char *)p)[ITEM - 1] == 0x6b);
	for (int i = 0; i < n; i++)
		CHECK(held[i] != p);
}

static void
refill_run(int flags)
{
	struct uma__zone_stat zs;
	void *held[ALLOWED + 2];
	uma_zone_t z = refill_zone();

	atomic_store(&init_allow, ALLOWED);
	/* The first refill stops at the sixth init, and serves this. */
	held[0] = uma_zalloc(z, flags);
	check_item(held[0], held, 0);
	CHECK_EQ(atomic_load(&init_ok), ALLOWED);
	CHECK_EQ(atomic_load(&init_calls), ALLOWED + 1);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 0);
	CHECK_EQ(zs.zs_allocs, 1);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, ALLOWED - 1);
	/* The other initialized items serve the next allocations. */
	for (int i = 1; i < ALLOWED; i++) {
		held[i] = uma_zalloc(z, flags);
		check_item(held[i], held, i);
	}
	CHECK_EQ(atomic_load(&init_calls), ALLOWED + 1);
	/* Now a refill's first init fails: that allocation fails, once. */
	CHECK(uma_zalloc(z, flags) == NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_allocs, ALLOWED);
	/* Items the init did not reach went back to the keg untouched. */
	CHECK_EQ(atomic_load(&fini_calls), 0);
	CHECK_EQ(zs.zs_items, ALLOWED);
	atomic_store(&init_allow, -1);
	held[ALLOWED] = uma_zalloc(z, flags);
	check_item(held[ALLOWED], held, ALLOWED);
	for (int i = 0; i <= ALLOWED; i++)
		uma_zfree(z, held[i]);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, zs.zs_frees);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_items, 0);
	CHECK_EQ(zs.zs_pages, 0);
	CHECK_EQ(atomic_load(&init_ok), atomic_load(&fini_calls));
	uma_zdestroy(z);
}

UMA_TEST(zone_refill_zinit_failure_mid_bucket_serves_what_it_initialized_nowait)
{
	refill_run(M_NOWAIT);
}

UMA_TEST(zone_refill_zinit_failure_mid_bucket_serves_what_it_initialized_waitok)
{
	refill_run(M_WAITOK);
}

/*
 * Under a limit: the refill takes its items from the limit, gives back
 * the ones the init did not reach, and the zone counts exactly the items
 * it holds.
 */
UMA_TEST(zone_refill_zinit_failure_gives_unreached_items_back_to_the_limit)
{
	struct uma__zone_stat zs;
	void *p;
	uma_zone_t z = refill_zone();

	CHECK_EQ(uma_zone_set_max(z, 1000), 1000);
	atomic_store(&init_allow, 2);
	p = uma_zalloc(z, M_NOWAIT);
	CHECK(p != NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_items, 2);
	CHECK_EQ(zs.zs_fails, 0);
	CHECK_EQ(uma_zone_get_cur(z), 1);
	atomic_store(&init_allow, -1);
	uma_zfree(z, p);
	uma_zdestroy(z);
}
