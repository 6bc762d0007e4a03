/*
 * zone_kpi.c - the uma(9) calls and constants FreeBSD code expects, each
 * against its man page: uma_zone_set_maxcache caps what the caches keep,
 * uma_zwait waits until an item could be had, UMA_ALIGNOF,
 * UMA_ALIGN_CACHE_AND_MASK and UMA_SMALLEST_UNIT mean FreeBSD's, and
 * UMA_ZONE_NODUMP keeps a zone's slabs out of core dumps.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"
#include "zone_test.h"

#define	WAIT_S	10

/* ---- uma_zone_set_maxcache ------------------------------------------- */

/*
 * Every CPU's two buckets hold nitems / (4 * CPUs) items each at most, the
 * zone's bucket cache the rest: after any number of frees, no more than
 * nitems are cached; 0 caches nothing, every free goes to the keg.
 */
UMA_TEST(zone_kpi_maxcache_caps_the_items_the_caches_keep)
{
	static void *held[2000];
	struct uma__zone_stat zs;
	int ncpus = uma__ncpus(), cap = 40 * ncpus;
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("kpi-maxcache", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK(zstat(z).zs_bucket_size > 10);
	uma_zone_set_maxcache(z, cap);
	CHECK_EQ(zstat(z).zs_bucket_size, 10);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 2000; i++)
			CHECK((held[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		for (int i = 0; i < 2000; i++)
			uma_zfree(z, held[i]);
		zs = zstat(z);
		CHECK(zs.zs_cpu_free <= 20);	/* this CPU: two buckets */
		CHECK(zs.zs_cpu_free + zs.zs_zone_free <= (uint64_t)cap);
		CHECK_EQ(zs.zs_allocs, zs.zs_frees);
		CHECK_EQ(zs.zs_keg_free + zs.zs_cpu_free + zs.zs_zone_free,
		    zs.zs_pages / zs.zs_ppera * zs.zs_ipers);
	}
	/* 0: nothing cached, whatever the traffic. */
	uma_zone_set_maxcache(z, 0);
	zs = zstat(z);
	CHECK_EQ(zs.zs_bucket_size, 0);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	for (int i = 0; i < 100; i++)
		CHECK((held[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < 100; i++)
		uma_zfree(z, held[i]);
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	CHECK_EQ(zs.zs_allocs, zs.zs_frees);
	/* And back: caches again. */
	uma_zone_set_maxcache(z, cap);
	for (int i = 0; i < 100; i++)
		CHECK((held[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < 100; i++)
		uma_zfree(z, held[i]);
	CHECK(zstat(z).zs_cpu_free > 0);
	uma_zdestroy(z);
}

/* ---- uma_zwait --------------------------------------------------------- */

static uma_zone_t zw_zone;
static _Atomic int zw_done;

static void *
zwait_main(void *arg)
{
	uma_zwait(zw_zone);
	atomic_store(&zw_done, 1);
	return (NULL);
}

/*
 * uma_zwait returns once an item could be had, and holds none: at the
 * limit it sleeps until an item is freed; the zone's counts balance.
 */
UMA_TEST(zone_kpi_zwait_returns_once_an_item_could_be_had)
{
	struct uma__zone_stat zs;
	pthread_t td;
	void *p;

	zw_zone = uma_zcreate("kpi-zwait", 128, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(zw_zone != NULL);
	uma_zwait(zw_zone);
	zs = zstat(zw_zone);
	CHECK_EQ(zs.zs_allocs, 1);
	CHECK_EQ(zs.zs_frees, 1);
	CHECK_EQ(uma_zone_set_max(zw_zone, 1), 1);
	uma_zone_reclaim(zw_zone, UMA_RECLAIM_DRAIN);
	p = uma_zalloc(zw_zone, M_NOWAIT);
	CHECK(p != NULL);
	CHECK_EQ(pthread_create(&td, NULL, zwait_main, NULL), 0);
	for (double end = test_now() + WAIT_S; test_now() < end &&
	    zstat(zw_zone).zs_sleepers == 0; usleep(1000))
		;
	CHECK_EQ(zstat(zw_zone).zs_sleepers, 1);
	CHECK(uma_zone_exhausted(zw_zone));
	CHECK_EQ(atomic_load(&zw_done), 0);
	uma_zfree(zw_zone, p);
	CHECK_EQ(pthread_join(td, NULL), 0);
	CHECK_EQ(atomic_load(&zw_done), 1);
	zs = zstat(zw_zone);
	CHECK_EQ(zs.zs_allocs, 3);
	CHECK_EQ(zs.zs_frees, 3);
	CHECK_EQ(uma_zone_get_cur(zw_zone), 0);
	uma_zdestroy(zw_zone);
}

/* ---- alignment constants ---------------------------------------------- */

struct odd {
	char	c;
	short	s;
};

struct lined {
	_Alignas(128) char buf[200];
};

/*
 * UMA_ALIGNOF is the type's alignment as a mask; a zone made with it
 * aligns its items so.  UMA_ALIGN_CACHE_AND_MASK is the coarser of a
 * cache line and the mask.  Items smaller than UMA_SMALLEST_UNIT take it.
 */
UMA_TEST(zone_kpi_alignment_constants_mean_freebsds)
{
	uma_zone_t a, b, c;
	void *p[64];

	CHECK_EQ(UMA_ALIGNOF(char), 0);
	CHECK_EQ(UMA_ALIGNOF(struct odd), 1);
	CHECK_EQ(UMA_ALIGNOF(uint64_t), 7);
	CHECK_EQ(UMA_ALIGNOF(struct lined), 127);
	CHECK_EQ(UMA_ALIGN_CACHE_AND_MASK(7), 63);
	CHECK_EQ(UMA_ALIGN_CACHE_AND_MASK(UMA_ALIGNOF(struct lined)), 127);
	CHECK_EQ(uma_get_cache_align_mask(), UMA_ALIGN_CACHE);
	CHECK_EQ(UMA_SMALLEST_UNIT, 8);

	a = uma_zcreate("kpi-alignof", sizeof(struct lined), NULL, NULL, NULL,
	    NULL, UMA_ALIGNOF(struct lined), 0);
	b = uma_zcreate("kpi-cachemask", 24, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_CACHE_AND_MASK(UMA_ALIGNOF(uint64_t)), 0);
	c = uma_zcreate("kpi-smallest", 1, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_CHAR, 0);
	CHECK(a != NULL && b != NULL && c != NULL);
	for (int i = 0; i < 64; i++) {
		p[i] = uma_zalloc(a, M_WAITOK);
		CHECK(((uintptr_t)p[i] & 127) == 0);
		memset(p[i], i, sizeof(struct lined));
	}
	for (int i = 0; i < 64; i++) {
		CHECK(((unsigned char *)p[i])[199] == i);
		uma_zfree(a, p[i]);
	}
	for (int i = 0; i < 64; i++)
		CHECK(((uintptr_t)(p[i] = uma_zalloc(b, M_WAITOK)) & 63) == 0);
	for (int i = 0; i < 64; i++)
		uma_zfree(b, p[i]);
	CHECK_EQ(zstat(c).zs_rsize, UMA_SMALLEST_UNIT);
	p[0] = uma_zalloc(c, M_WAITOK);
	p[1] = uma_zalloc(c, M_WAITOK);
	CHECK(p[0] != NULL && p[1] != NULL);
	CHECK((uintptr_t)p[0] - (uintptr_t)p[1] >= UMA_SMALLEST_UNIT ||
	    (uintptr_t)p[1] - (uintptr_t)p[0] >= UMA_SMALLEST_UNIT);
	uma_zfree(c, p[0]);
	uma_zfree(c, p[1]);
	uma_zdestroy(a);
	uma_zdestroy(b);
	uma_zdestroy(c);
}

/* ---- UMA_ZONE_NODUMP --------------------------------------------------- */

/*
 * The slabs of a NODUMP zone, and of its secondary zones (same keg), are
 * left out of core dumps while they exist; a slab given back is dumped
 * again (its pages go to other kegs); other zones' slabs are dumped.
 */
UMA_TEST(zone_kpi_nodump_keeps_the_zones_slabs_out_of_core_dumps)
{
	uma_zone_t nd, sec, plain;
	char *p, *q, *r;

	nd = uma_zcreate("kpi-nodump", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NODUMP);
	plain = uma_zcreate("kpi-dump", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(nd != NULL && plain != NULL);
	sec = uma_zsecond_create("kpi-nodump-sec", NULL, NULL, NULL, NULL,
	    nd);
	CHECK(sec != NULL);
	CHECK(zstat(sec).zs_flags & UMA_ZONE_NODUMP);
	p = uma_zalloc(nd, M_WAITOK);
	q = uma_zalloc(sec, M_WAITOK);
	r = uma_zalloc(plain, M_WAITOK);
	memset(p, 0x11, 512);
	memset(q, 0x22, 512);
	CHECK_EQ(test_dontdump(p), 1);
	CHECK_EQ(test_dontdump(p + 511), 1);
	CHECK_EQ(test_dontdump(q), 1);
	CHECK_EQ(test_dontdump(r), 0);
	CHECK(p[511] == 0x11 && q[0] == 0x22);
	uma_zfree(nd, p);
	uma_zfree(sec, q);
	uma_zone_reclaim(sec, UMA_RECLAIM_DRAIN);
	uma_zone_reclaim(nd, UMA_RECLAIM_DRAIN);
	CHECK_EQ(zstat(nd).zs_pages, 0);
	CHECK_EQ(test_dontdump(p), 0);	/* given back: dumped again */
	uma_zfree(plain, r);
	uma_zdestroy(sec);
	uma_zdestroy(nd);
	uma_zdestroy(plain);
}
