/*
 * kmem_cost.c - the kmem report's cheap tier under a thread that hammers
 * the hit path: 10,000 reads, each adding up to committed exactly, while
 * the hammer keeps allocating (it never waits on the reader: the count of
 * its pairs moves across the reads), and the in-use figure stays within
 * the few items the hammer can hold.  Under ThreadSanitizer this is also
 * the race check of every counter the cheap tier reads.
 */
#include <pthread.h>
#include <stdlib.h>

#include <uma/malloc.h>
#include <uma/uma.h>

#include "harness.h"
#include "kmem_test.h"

MALLOC_DEFINE(M_KC, "kmem_cost", "the kmem cost test's type");

#define	READS	10000

static _Atomic int stop;
static _Atomic unsigned long pairs;

static void *
hammer(void *arg)
{
	uma_zone_t z = arg;
	void *p, *q;

	while (!stop) {
		p = uma_zalloc(z, M_WAITOK);
		q = uma_malloc(48, M_KC, M_WAITOK);
		uma_zfree(z, p);
		uma_free(q, M_KC);
		pairs++;
	}
	return (NULL);
}

UMA_TEST(kmem_cheap_reads_beside_a_hit_path_hammer)
{
	struct uma_kmem_stats base, k;
	unsigned long before, after;
	int64_t other_max = 0;
	pthread_t td;
	uma_zone_t z;

	test_tunables_add("vm.uma_timeout=86400,vm.uma_idle_pass_mb=0");
	z = uma_zcreate("cost_hammer", 100, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	kmem_cheap(&base);
	CHECK(pthread_create(&td, NULL, hammer, z) == 0);
	while (pairs < 1000)
		;
	before = pairs;
	for (int i = 0; i < READS; i++) {
		kmem_cheap(&k);
		CHECK_EQ(kmem_parts(&k), (int64_t)k.uks_committed);
		/* The hammer holds at most one item of each at a time. */
		CHECK(k.uks_inuse_zones <= base.uks_inuse_zones + 4 * 100);
		CHECK(k.uks_inuse_malloc <= base.uks_inuse_malloc + 4 * 48);
		if (llabs((long long)k.uks_other) > other_max)
			other_max = llabs((long long)k.uks_other);
	}
	after = pairs;
	stop = 1;
	pthread_join(td, NULL);
	fprintf(stderr, "%d reads; the hammer did %lu pairs meanwhile; "
	    "|other| at most %lld bytes\n", READS, after - before,
	    (long long)other_max);
	CHECK(after > before);
	/* Quiet again, nothing is unexplained. */
	kmem_cheap(&k);
	CHECK_EQ(k.uks_other, 0);
	CHECK_EQ(k.uks_inuse_zones, base.uks_inuse_zones);
}
