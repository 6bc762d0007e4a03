/*
 * zone_pcpu.c - per-CPU items (UMA_ZONE_PCPU, uma_zalloc_pcpu,
 * zpcpu_get) and counter(9) on them: an item is one copy per CPU a page
 * apart, no copy overlaps another item's, M_ZERO zeroes them all, the
 * counters add exactly from many threads, and the kmem report counts
 * every copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <uma/counter.h>
#include <uma/uma.h>

#include "harness.h"
#include "kmem.h"
#include "kmem_test.h"
#include "zone_test.h"

#define	NITEMS	300

struct stat2 {
	uint64_t	packets;
	uint64_t	bytes;
};

static uint64_t
tag(int item, int cpu)
{
	return ((uint64_t)item << 32 | (uint64_t)cpu << 8 | 0x5a);
}

/*
 * Each item has uma_ncpus() copies UMA_PCPU_ALLOC_SIZE apart, zeroed by
 * M_ZERO; every copy of every item is its own memory: a tag written to
 * each reads back intact after all are written.  zpcpu_get is the copy of
 * the thread's CPU.
 */
UMA_TEST(zone_pcpu_item_is_a_copy_per_cpu_a_page_apart)
{
	static struct stat2 *it[NITEMS];
	struct uma__zone_stat zs;
	int ncpus = uma_ncpus();
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate("pcpu-stat", sizeof(struct stat2), NULL, NULL, NULL,
	    NULL, UMA_ALIGNOF(struct stat2), UMA_ZONE_PCPU);
	CHECK(z != NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_ppera, ncpus);
	CHECK_EQ(zs.zs_ipers, UMA_PCPU_ALLOC_SIZE / sizeof(struct stat2));
	CHECK(ncpus >= 1 && ncpus == uma__ncpus());
	for (int i = 0; i < NITEMS; i++) {
		it[i] = uma_zalloc_pcpu(z, M_WAITOK | M_ZERO);
		CHECK(it[i] != NULL);
		for (int c = 0; c < ncpus; c++) {
			CHECK_EQ(zpcpu_get_cpu(it[i], c)->packets, 0);
			CHECK_EQ(zpcpu_get_cpu(it[i], c)->bytes, 0);
			CHECK((char *)zpcpu_get_cpu(it[i], c) ==
			    (char *)it[i] + (size_t)c * 4096);
		}
		CHECK(zpcpu_get_cpu(it[i], 0) == it[i]);
		CHECK(zpcpu_get(it[i]) == zpcpu_get_cpu(it[i], uma_curcpu()));
		CHECK(uma_curcpu() >= 0 && uma_curcpu() < ncpus);
	}
	for (int i = 0; i < NITEMS; i++)
		for (int c = 0; c < ncpus; c++) {
			zpcpu_get_cpu(it[i], c)->packets = tag(i, c);
			zpcpu_get_cpu(it[i], c)->bytes = ~tag(i, c);
		}
	for (int i = 0; i < NITEMS; i++)
		for (int c = 0; c < ncpus; c++) {
			CHECK_EQ(zpcpu_get_cpu(it[i], c)->packets, tag(i, c));
			CHECK_EQ(zpcpu_get_cpu(it[i], c)->bytes, ~tag(i, c));
		}
	/* Back and again with M_ZERO: every copy zero, whichever comes. */
	for (int i = 0; i < NITEMS; i++)
		uma_zfree_pcpu(z, it[i]);
	for (int i = 0; i < NITEMS; i++) {
		it[i] = uma_zalloc_pcpu(z, M_NOWAIT | M_ZERO);
		CHECK(it[i] != NULL);
		for (int c = 0; c < ncpus; c++)
			CHECK_EQ(zpcpu_get_cpu(it[i], c)->packets |
			    zpcpu_get_cpu(it[i], c)->bytes, 0);
	}
	for (int i = 0; i < NITEMS; i++)
		uma_zfree_pcpu(z, it[i]);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, 2 * NITEMS);
	CHECK_EQ(zs.zs_frees, 2 * NITEMS);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	CHECK_EQ(zstat(z).zs_pages, 0);
	uma_zdestroy(z);
}

static void
pcpu_on_plain_zone(void *arg)
{
	uma_zone_t z = uma_zcreate("plain", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	(void)uma_zalloc_pcpu(z, M_WAITOK);
}

/*
 * Items above a page (or spread over cache lines) cannot be per-CPU; the
 * per-CPU calls on a zone that is not per-CPU report it and abort.
 */
UMA_TEST(zone_pcpu_refuses_what_cannot_be_per_cpu)
{
	static const char *const n[] = { "zone \"plain\"",
	    "uma_zalloc_pcpu on a zone without UMA_ZONE_PCPU", NULL };

	errno = 0;
	CHECK(uma_zcreate("pcpu-big", UMA_PCPU_ALLOC_SIZE + 1, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_PCPU) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(uma_zcreate("pcpu-spread", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_PCPU | UMA_ZONE_CACHESPREAD) == NULL);
	CHECK(uma_zcreate("pcpu-page", UMA_PCPU_ALLOC_SIZE, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_PCPU) != NULL);
	CHECK(expect_abort(pcpu_on_plain_zone, NULL, n));
}

/*
 * Per-CPU items in the kmem report: an item's memory is all its copies,
 * so the parts still add up to what uma holds.
 */
UMA_TEST(zone_pcpu_kmem_report_counts_every_copy)
{
	struct uma_kmem_stats k0, k1;
	static void *it[NITEMS];
	uma_zone_t z;

	z = uma_zcreate("pcpu-kmem", 100, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_PCPU);
	CHECK(z != NULL);
	uma__kmem_stats(&k0);
	for (int i = 0; i < NITEMS; i++)
		CHECK((it[i] = uma_zalloc_pcpu(z, M_WAITOK)) != NULL);
	uma__kmem_stats(&k1);
	CHECK_EQ(kmem_parts(&k1), (int64_t)k1.uks_committed);
	CHECK_EQ(k1.uks_other, 0);
	CHECK_EQ(k1.uks_inuse_zones - k0.uks_inuse_zones,
	    (uint64_t)NITEMS * 100 * uma_ncpus());
	for (int i = 0; i < NITEMS; i++)
		uma_zfree_pcpu(z, it[i]);
	uma_zdestroy(z);
}

/* ---- counter(9) ---------------------------------------------------------- */

#define	NTHREADS	4
#define	NADDS		200000

static counter_u64_t shared_counter;

static void *
adder_main(void *arg)
{
	int64_t inc = (int64_t)(intptr_t)arg;

	for (int i = 0; i < NADDS; i++) {
		counter_enter();
		counter_u64_add(shared_counter, inc);
		counter_exit();
		if (i % 4 == 0)
			counter_u64_add(shared_counter, -1);
	}
	return (NULL);
}

/*
 * Threads adding on every CPU, moving as they please: the sum is exact.
 * Zero is zero; free and again.  (COUNTER_U64_DEFINE_EARLY has a program
 * of its own, unit/counter_early.c: it starts uma before main.)
 */
UMA_TEST(counter_u64_adds_from_many_threads_sum_exactly)
{
	pthread_t td[NTHREADS];
	uint64_t want = 0;

	shared_counter = counter_u64_alloc(M_WAITOK);
	CHECK(shared_counter != NULL);
	CHECK_EQ(counter_u64_fetch(shared_counter), 0);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK_EQ(pthread_create(&td[i], NULL, adder_main,
		    (void *)(intptr_t)(i + 1)), 0);
		want += (uint64_t)(i + 1) * NADDS - NADDS / 4;
	}
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_join(td[i], NULL), 0);
	CHECK_EQ(counter_u64_fetch(shared_counter), want);
	counter_u64_zero(shared_counter);
	CHECK_EQ(counter_u64_fetch(shared_counter), 0);
	counter_u64_add(shared_counter, 7);
	CHECK_EQ(counter_u64_fetch(shared_counter), 7);
	counter_u64_free(shared_counter);
	shared_counter = counter_u64_alloc(M_NOWAIT);
	CHECK(shared_counter != NULL);
	CHECK_EQ(counter_u64_fetch(shared_counter), 0);
	counter_u64_free(shared_counter);
	counter_u64_free(NULL);
}
