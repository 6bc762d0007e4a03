/*
 * kmem_truth.c - the extended tier's "reclaimable now" is what
 * uma_reclaim(UMA_RECLAIM_DRAIN_CPU) then gives back, within 1%, measured
 * by the arena's committed bytes (and, above 8 MiB and without a
 * sanitizer's shadow memory, by the kernel's resident set, within 1% and
 * RSS_SLACK), and
 * its "fragmentation" is the free memory that stays in slabs; for several
 * workloads, the interleaved free of every other item among them (which
 * frees items but almost no slab).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uma/malloc.h>
#include <uma/mbuf.h>
#include <uma/uma.h>

#include "harness.h"
#include "kmem_test.h"

MALLOC_DEFINE(M_KT, "kmem_truth", "the kmem truth test's type");

#define	MIB		(1024 * 1024)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define	SANITIZED	1
#else
#define	SANITIZED	0
#endif
/*
 * The resident set moves by what the reclaim gives back less the pages
 * uma handed out that nobody wrote (items a bucket fill took beyond what
 * the program asked for, clusters a packet zone's fill attached), and
 * with the test's own pages.  Those stay under this much.
 */
#define	RSS_SLACK	(256 * 1024)

static void *
fill(void *p, size_t len)
{
	CHECK(p != NULL);
	memset(p, 0x5a, len);
	return (p);
}

/*
 * A program that writes all it holds writes the whole size class: what
 * malloc_usable_size says of that very allocation (of a guarded one,
 * MemGuard's, exactly the size asked for).
 */
static void *
fill_usable(void *p)
{
	CHECK(p != NULL);
	return (fill(p, uma_malloc_usable_size(p)));
}

static uint64_t
within(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : b - a;

	return (d * 100 <= (a > b ? a : b));
}

/*
 * Predict, reclaim, measure.  Committed must drop by "reclaimable" within
 * 1%; when that is large enough to see over the test's own noise, the
 * resident set too; and what stays free in slabs is "fragmentation" plus
 * "locked", with the caches empty.
 */
static void
check_truth(const char *what)
{
	struct uma_kmem_stats_extended *ukx, *after;
	struct uma_kmem_stats k;
	uint64_t rss0, rss1, freed, rss_freed;

	ukx = kmem_extended();
	rss0 = test_rss();
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	rss1 = test_rss();
	kmem_cheap(&k);
	after = kmem_extended();
	freed = ukx->ukx_stats.uks_committed - k.uks_committed;
	rss_freed = rss0 > rss1 ? rss0 - rss1 : 0;
	fprintf(stderr, "%s: reclaimable %llu (free slabs %llu, large %llu, "
	    "buckets %llu, pcpu %llu; oldest %llu), freed %llu, rss freed "
	    "%llu; fragmentation %llu locked %llu, free in kegs after %llu\n",
	    what, (unsigned long long)ukx->ukx_reclaimable,
	    (unsigned long long)ukx->ukx_reclaim_free_slabs,
	    (unsigned long long)ukx->ukx_reclaim_large_cache,
	    (unsigned long long)ukx->ukx_reclaim_buckets,
	    (unsigned long long)ukx->ukx_reclaim_pcpu,
	    (unsigned long long)ukx->ukx_reclaim_oldest,
	    (unsigned long long)freed, (unsigned long long)rss_freed,
	    (unsigned long long)ukx->ukx_fragmentation,
	    (unsigned long long)ukx->ukx_locked,
	    (unsigned long long)k.uks_free_kegs);
	CHECK(within(ukx->ukx_reclaimable, freed));
	/* Sanitizers keep shadow pages of what uma gives back: no RSS. */
	if (ukx->ukx_reclaimable >= 8 * MIB && !SANITIZED)
		CHECK(rss_freed + ukx->ukx_reclaimable / 100 + RSS_SLACK >=
		    ukx->ukx_reclaimable && rss_freed <=
		    ukx->ukx_reclaimable + ukx->ukx_reclaimable / 100 +
		    RSS_SLACK);
	CHECK_EQ(k.uks_free_pcpu, 0);
	CHECK_EQ(k.uks_free_buckets, 0);
	CHECK_EQ(k.uks_large_cache, 0);
	CHECK_EQ(k.uks_free_kegs, ukx->ukx_fragmentation + ukx->ukx_locked);
	/* Nothing more to give back, and the same memory still available. */
	CHECK_EQ(after->ukx_reclaimable, 0);
	CHECK_EQ(after->ukx_fragmentation, ukx->ukx_fragmentation);
	CHECK_EQ(after->ukx_locked, ukx->ukx_locked);
	free(ukx);
	free(after);
}

/*
 * No periodic trim, and one CPU: what its cache filled beyond what the
 * workload asked for (never written, so in committed but not resident)
 * is then one CPU's, the same every run, not up to every CPU's.
 */
static void
quiet(void)
{
	test_tunables_add("vm.uma_timeout=86400,vm.uma_idle_pass_mb=0");
	test_pin_one_cpu();
}

/* Every other item freed: the items come back, the slabs stay. */
UMA_TEST(kmem_truth_interleaved_free_is_fragmentation)
{
	enum { N = 200000 };
	void **p = malloc(N * sizeof(*p));
	uma_zone_t z;

	quiet();
	z = uma_zcreate("truth_64", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (int i = 0; i < N; i++)
		p[i] = fill(uma_zalloc(z, M_WAITOK), 64);
	for (int i = 0; i < N; i += 2)
		uma_zfree(z, p[i]);
	check_truth("interleaved");
	free(p);
}

/* Everything freed: the slabs come back whole. */
UMA_TEST(kmem_truth_all_freed_is_reclaimable)
{
	enum { N = 100000 };
	void **p = malloc(N * sizeof(*p));
	uma_zone_t z;

	quiet();
	z = uma_zcreate("truth_200", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (int i = 0; i < N; i++)
		p[i] = fill(uma_zalloc(z, M_WAITOK), 200);
	for (int i = 0; i < N; i++)
		uma_zfree(z, p[i]);
	check_truth("all freed");
	free(p);
}

/* malloc's classes and large runs, freed in blocks and one by one. */
UMA_TEST(kmem_truth_malloc_classes_and_large_runs)
{
	enum { N = 3000 };
	static const size_t sizes[6] = { 24, 100, 640, 3000, 20000, 60000 };
	void **p = malloc(6 * N * sizeof(*p)), *l[16];

	quiet();
	for (int s = 0; s < 6; s++)
		for (int i = 0; i < N; i++)
			p[s * N + i] = fill_usable(uma_malloc(sizes[s], M_KT,
			    M_WAITOK));
	for (int i = 0; i < 16; i++)
		l[i] = fill_usable(uma_malloc(100000 + i * 50000, M_KT,
		    M_WAITOK));
	/* The first half of each class, then a run of every third. */
	for (int s = 0; s < 6; s++)
		for (int i = 0; i < N; i++)
			if (i < N / 2 || i % 3 == 0)
				uma_free(p[s * N + i], M_KT);
	for (int i = 0; i < 16; i += 2)
		uma_free(l[i], M_KT);
	check_truth("malloc");
	free(p);
}

/* Cached mbuf packets give back their clusters too. */
UMA_TEST(kmem_truth_cached_packets_and_nofree)
{
	enum { N = 4000 };
	struct mbuf **m = malloc(N * sizeof(*m));
	void **p = malloc(N * sizeof(*p));
	uma_zone_t nf;

	quiet();
	CHECK(mbuf_init() == 0);
	for (int i = 0; i < N; i++) {
		m[i] = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
		CHECK(m[i] != NULL);
		fill(mtod(m[i], void *), MCLBYTES);
	}
	for (int i = 0; i < N; i++)
		m_freem(m[i]);
	/* A NOFREE zone keeps its free slabs: locked, not reclaimable. */
	nf = uma_zcreate("truth_nofree", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOFREE);
	for (int i = 0; i < N; i++)
		p[i] = fill(uma_zalloc(nf, M_WAITOK), 512);
	for (int i = 0; i < N; i++)
		uma_zfree(nf, p[i]);
	check_truth("packets and nofree");
	free(m);
	free(p);
}

/*
 * "Oldest" is what the next periodic trim gives back: bucket-cache items
 * beyond the working-set estimate it will compute, and free slabs.  The
 * trim runs every 2 s here; a prediction the trim overtook (committed
 * moved while the walk ran) is made again.  The next trim starts 2 s
 * after one ends, so 1 s after the first page it frees, that trim is over
 * (on a loaded machine, or under a sanitizer, it can pause mid-way for
 * longer than any short "no change" window).
 */
UMA_TEST(kmem_truth_oldest_is_the_next_periodic_trim)
{
	enum { N = 60000 };
	struct uma_kmem_stats_extended *ukx;
	struct uma_kmem_stats k;
	void **p = malloc(N * sizeof(*p));
	uint64_t base, freed = 0;
	uma_zone_t z;
	double end;
	int tries;

	test_tunables_add("vm.uma_timeout=2");
	z = uma_zcreate("truth_trim", 128, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (int i = 0; i < N; i++)
		p[i] = fill(uma_zalloc(z, M_WAITOK), 128);
	for (int i = 0; i < N; i++)
		uma_zfree(z, p[i]);
	usleep(2500000);	/* a trim: the estimate starts decaying */
	for (tries = 0; tries < 5; tries++) {
		ukx = kmem_extended();
		base = ukx->ukx_stats.uks_committed;
		kmem_cheap(&k);
		if (k.uks_committed != base || ukx->ukx_reclaim_oldest == 0) {
			free(ukx);	/* overtaken, or nothing left to trim */
			continue;
		}
		for (end = test_now() + 5; test_now() < end; usleep(5000)) {
			kmem_cheap(&k);
			if (k.uks_committed != base)
				break;
		}
		usleep(1000000);	/* the trim frees keg after keg */
		kmem_cheap(&k);
		freed = base - k.uks_committed;
		fprintf(stderr, "oldest %llu (of reclaimable %llu), the trim "
		    "gave back %llu\n",
		    (unsigned long long)ukx->ukx_reclaim_oldest,
		    (unsigned long long)ukx->ukx_reclaimable,
		    (unsigned long long)freed);
		break;
	}
	CHECK(tries < 5);
	CHECK(within(ukx->ukx_reclaim_oldest, freed));
	CHECK(ukx->ukx_reclaim_oldest < ukx->ukx_reclaimable);
	free(ukx);
	free(p);
}
