/*
 * malloc_large_cache.c - the cache of freed large runs: a freed run comes
 * back to the next request that fits, zero-filled only for M_ZERO; the
 * cache keeps to its cap; uma_reclaim and the periodic trim give the runs
 * (their pages and their RSS) back; a double free of a large block still
 * aborts; and the type statistics stay exact across cache hits.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uma/sysctl.h>

#include "harness.h"
#include "malloc_int.h"
#include "memguard_test.h"
#include "sysctl_test.h"
#include "vm.h"

/*
 * What is tested is which runs the cache hands back, and its byte counts:
 * no MemGuard samples (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

MALLOC_DEFINE(M_LCACHE, "lcache_test", "large run cache");

#define	KB	((size_t)1024)
#define	MB	((size_t)1 << 20)

static void
set_cache_mb(int mb)
{
	CHECK(uma_sysctlbyname("vm.malloc.large_cache_mb", NULL, NULL, &mb,
	    sizeof(mb)) == 0);
}

static bool
all_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return (false);
	return (true);
}

UMA_TEST(malloc_large_cache_reuses_freed_run)
{
	uint64_t hits;
	char *p, *q;

	p = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	hits = sysctl_u64("vm.malloc.large_cache_hits");
	uma_free(p, M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 200 * KB);
	q = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	CHECK(q == p);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_hits"), hits + 1);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
	/*
	 * A run that is not a bin step (25 pages) serves a smaller request
	 * whole (alone in the cache: a larger run would be split instead).
	 */
	uma_free(q, M_LCACHE);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	p = uma_malloc(100 * KB, M_LCACHE, M_WAITOK);
	uma_free(p, M_LCACHE);
	q = uma_malloc(100 * KB, M_LCACHE, M_WAITOK);
	CHECK(q == p);
	uma_free(q, M_LCACHE);
	q = uma_malloc(96 * KB, M_LCACHE, M_WAITOK);
	CHECK(q == p);
	CHECK_EQ(uma_malloc_usable_size(q), 100 * KB);
	uma_free(q, M_LCACHE);
}

UMA_TEST(malloc_large_cache_zeroes_reused_run_for_m_zero)
{
	size_t len = 300 * KB;
	char *a, *p, *q;

	p = uma_malloc(len, M_LCACHE, M_WAITOK);
	memset(p, 0xa5, len);
	uma_free(p, M_LCACHE);
	q = uma_malloc(len, M_LCACHE, M_WAITOK | M_ZERO);
	CHECK(q == p);
	CHECK(all_zero(q, uma_malloc_usable_size(q)));
	memset(q, 0x5a, len);
	uma_free(q, M_LCACHE);
	/* Aligned requests take the M_ZERO path too. */
	a = uma_malloc_aligned(len, 8192, M_LCACHE, M_WAITOK | M_ZERO);
	CHECK(a != NULL && ((uintptr_t)a & 8191) == 0);
	CHECK(all_zero(a, len));
	memset(a, 0x5a, len);
	uma_free(a, M_LCACHE);
	/*
	 * Without M_ZERO a reused run keeps its old bytes (no memset).  Both
	 * cached runs hold 0x5a; if they touch, they joined, and the request
	 * gets the front of the pair.
	 */
	q = uma_malloc(len, M_LCACHE, M_WAITOK);
	CHECK(q == (a < p ? a : p));
	CHECK(q[0] == 0x5a && q[len - 1] == 0x5a);
	uma_free(q, M_LCACHE);
}

UMA_TEST(malloc_large_cache_respects_cap)
{
	void *p[80], *low;

	/* The default, 64 MiB: 40 runs of 1 MiB fit (they join as one). */
	uma_reclaim(UMA_RECLAIM_DRAIN);
	for (int i = 0; i < 40; i++)
		p[i] = uma_malloc(MB, M_LCACHE, M_WAITOK);
	for (int i = 0; i < 40; i++)
		uma_free(p[i], M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 40 * MB);
	/*
	 * 40 runs of 2 MiB do not.  Every other one is freed, so that no two
	 * cached runs touch and the cap counts runs of one size.
	 */
	uma_reclaim(UMA_RECLAIM_DRAIN);
	for (int i = 0; i < 80; i++)
		p[i] = uma_malloc(2 * MB, M_LCACHE, M_WAITOK);
	for (int i = 0; i < 80; i += 2) {
		uma_free(p[i], M_LCACHE);
		CHECK(sysctl_u64("vm.malloc.large_cache_bytes") <= 64 * MB);
	}
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 64 * MB);
	for (int i = 1; i < 80; i += 2)
		uma_free(p[i], M_LCACHE);
	CHECK(sysctl_u64("vm.malloc.large_cache_bytes") <= 64 * MB);

	/* 8 MiB: the oldest runs make room. */
	set_cache_mb(8);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	for (int i = 0; i < 80; i++)
		p[i] = uma_malloc(MB, M_LCACHE, M_WAITOK);
	for (int i = 0; i < 80; i += 2) {
		uma_free(p[i], M_LCACHE);
		CHECK(sysctl_u64("vm.malloc.large_cache_bytes") <= 8 * MB);
	}
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 8 * MB);
	/*
	 * The oldest went: the 8 cached are p[64], p[66] ... p[78], and a
	 * request gets the lowest-addressed of them.
	 */
	low = p[64];
	for (int i = 66; i < 80; i += 2)
		if ((uintptr_t)p[i] < (uintptr_t)low)
			low = p[i];
	p[0] = uma_malloc(MB, M_LCACHE, M_WAITOK);
	CHECK(p[0] == low);
	uma_free(p[0], M_LCACHE);
	for (int i = 1; i < 80; i += 2)
		uma_free(p[i], M_LCACHE);

	/* 1 MiB: at most 1 MiB cached, runs over 256 KiB never. */
	set_cache_mb(1);
	for (int i = 0; i < 20; i++)
		p[i] = uma_malloc(128 * KB, M_LCACHE, M_WAITOK);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

/* Fill the cache with n touched runs of len bytes; returns bytes cached. */
static uint64_t
fill_cache(int n, size_t len)
{
	void *p[16];

	for (int i = 0; i < n; i++) {
		p[i] = uma_malloc(len, M_LCACHE, M_WAITOK);
		memset(p[i], 1, len);
	}
	for (int i = 0; i < n; i++)
		uma_free(p[i], M_LCACHE);
	return (sysctl_u64("vm.malloc.large_cache_bytes"));
}

/*
 * With no cached run of a request's size, the smallest larger one is split:
 * the request gets its front, the tail stays cached for the next one, and
 * every piece is a run of its own (freed, reused, given back alone).
 */
UMA_TEST(malloc_large_cache_splits_a_larger_run)
{
	uint64_t pages;
	char *p, *q, *r;

	uma_reclaim(UMA_RECLAIM_DRAIN);
	p = uma_malloc(MB, M_LCACHE, M_WAITOK);
	memset(p, 7, MB);
	uma_free(p, M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), MB);
	pages = uma__vm_pages();
	q = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	CHECK(q == p);
	CHECK_EQ(uma_malloc_usable_size(q), 200 * KB);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), MB - 200 * KB);
	r = uma_malloc(500 * KB, M_LCACHE, M_ZERO | M_WAITOK);
	CHECK(r == p + 200 * KB);
	CHECK(all_zero(r, 500 * KB));
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 324 * KB);
	/* No run came from the arena (at most a page for descriptors). */
	CHECK(uma__vm_pages() <= pages + 1);
	uma_free(q, M_LCACHE);
	uma_free(r, M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), MB);
	/* The pieces go back to the arena one by one. */
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
	CHECK(uma__vm_pages() + MB / UMA_PAGE_SIZE <= pages + 1);
}

/*
 * Cached runs that touch join: the two halves of a split run, freed, come
 * back as one run that serves a request for the whole.
 */
UMA_TEST(malloc_large_cache_joins_adjacent_runs)
{
	uint64_t pages;
	char *p, *a, *b;

	uma_reclaim(UMA_RECLAIM_DRAIN);
	p = uma_malloc(400 * KB, M_LCACHE, M_WAITOK);
	uma_free(p, M_LCACHE);
	pages = uma__vm_pages();
	a = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	b = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	CHECK(a == p && b == p + 200 * KB);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
	uma_free(b, M_LCACHE);
	uma_free(a, M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 400 * KB);
	p = uma_malloc(400 * KB, M_LCACHE, M_WAITOK);
	CHECK(p == a);
	CHECK_EQ(uma_malloc_usable_size(p), 400 * KB);
	CHECK(uma__vm_pages() <= pages + 1);
	uma_free(p, M_LCACHE);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

/*
 * Runs of different ages stay apart: a block freed next to a run cached
 * in an earlier period does not refresh it, so the periodic trim still
 * gives the old run back.
 */
UMA_TEST(malloc_large_cache_joins_only_runs_of_one_age)
{
	char *p, *a;

	uma_reclaim(UMA_RECLAIM_DRAIN);
	p = uma_malloc(400 * KB, M_LCACHE, M_WAITOK);
	uma_free(p, M_LCACHE);
	uma__malloc_large_reclaim(true);	/* p's run is a period old */
	a = uma_malloc(200 * KB, M_LCACHE, M_WAITOK);
	CHECK(a == p);
	uma_free(a, M_LCACHE);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 400 * KB);
	uma__malloc_large_reclaim(true);	/* the old half goes */
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 200 * KB);
	uma__malloc_large_reclaim(true);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

UMA_TEST(malloc_large_cache_drain_gives_pages_back)
{
	uint64_t cached, pages;
	size_t rss;

	cached = fill_cache(8, MB);
	CHECK_EQ(cached, 8 * MB);
	pages = uma__vm_pages();
	rss = test_rss();
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
	CHECK(pages - uma__vm_pages() >= cached / UMA_PAGE_SIZE);
	CHECK(rss - test_rss() >= cached * 9 / 10);

	/* TRIM from uma_reclaim empties it as well. */
	CHECK(fill_cache(4, MB) == 4 * MB);
	uma_reclaim(UMA_RECLAIM_TRIM);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

UMA_TEST(malloc_large_cache_periodic_trim_ages_runs)
{
	void *p;

	CHECK(fill_cache(4, MB) == 4 * MB);
	/* The first trim after a free keeps the run: it may be reused. */
	uma__malloc_large_reclaim(true);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 4 * MB);
	/* A run used again starts a new period. */
	p = uma_malloc(MB, M_LCACHE, M_WAITOK);
	uma_free(p, M_LCACHE);
	uma__malloc_large_reclaim(true);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), MB);
	uma__malloc_large_reclaim(true);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

UMA_TEST(malloc_large_cache_timeout_thread_gives_runs_back)
{
	double end;

	/* Before uma starts in this process (each test is a fresh child). */
	test_tunables_add("vm.uma_timeout=1");
	CHECK(fill_cache(4, MB) == 4 * MB);
	end = test_now() + 10;
	while (sysctl_u64("vm.malloc.large_cache_bytes") != 0 &&
	    test_now() < end)
		usleep(50000);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
}

static void
double_free_large(void *arg)
{
	void *p = uma_malloc((size_t)(uintptr_t)arg, M_LCACHE, M_WAITOK);

	uma_free(p, M_LCACHE);
	uma_free(p, M_LCACHE);
}

static void
double_free_after_reuse_cycle(void *arg)
{
	void *p = uma_malloc(256 * KB, M_LCACHE, M_WAITOK);

	uma_free(p, M_LCACHE);
	p = uma_malloc(256 * KB, M_LCACHE, M_WAITOK);	/* the cached run */
	uma_free(p, M_LCACHE);
	uma_free(p, M_LCACHE);
}

UMA_TEST(malloc_large_cache_double_free_aborts)
{
	static const char *const n[] = { "free", "already freed", NULL };

	CHECK(expect_abort(double_free_large, (void *)(uintptr_t)(200 * KB),
	    n));
	CHECK(expect_abort(double_free_large, (void *)(uintptr_t)(32 * MB),
	    n));	/* too big for the cache: given back */
	CHECK(expect_abort(double_free_after_reuse_cycle, NULL, n));
}

UMA_TEST(malloc_large_cache_type_stats_exact_across_hits)
{
	static const size_t sizes[] = { 70 * KB, 100 * KB, 97 * KB, 128 * KB,
	    1 * MB, 3 * MB + 1, 2 * MB };
	struct malloc_type_totals tt;
	uint64_t bytes = 0, hits, n = 0;
	void *keep[4] = { 0 };

	hits = sysctl_u64("vm.malloc.large_cache_hits");
	for (int r = 0; r < 2000; r++) {
		size_t size = sizes[(size_t)r % nitems(sizes)];
		int k = r % 4;

		if (keep[k] != NULL)
			uma_free(keep[k], M_LCACHE);
		keep[k] = uma_malloc(size, M_LCACHE, r % 3 ? M_WAITOK :
		    M_WAITOK | M_ZERO);
		CHECK(uma_malloc_usable_size(keep[k]) >= size);
		bytes += uma_malloc_usable_size(keep[k]);
		n++;
		uma__malloc_type_totals(M_LCACHE, &tt);
		CHECK_EQ(tt.mt_numallocs, n);
		CHECK_EQ(tt.mt_memalloced, bytes);
		CHECK_EQ(tt.mt_numallocs - tt.mt_numfrees, r < 4 ? r + 1 : 4);
	}
	CHECK(sysctl_u64("vm.malloc.large_cache_hits") - hits > 500);
	for (int k = 0; k < 4; k++)
		uma_free(keep[k], M_LCACHE);
	uma__malloc_type_totals(M_LCACHE, &tt);
	CHECK_EQ(tt.mt_numfrees, n);
	CHECK_EQ(tt.mt_memfreed, bytes);
	CHECK_EQ(tt.mt_sizemask, 0);
}
