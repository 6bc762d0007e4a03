/*
 * malloc_large.c - threads allocating and freeing large blocks of random
 * sizes (64 KiB .. 4 MiB, a few odd page counts) for a bounded time
 * (UMA_STRESS_SECONDS), some freed by another thread, with the run cache
 * small enough that it splits, joins and evicts all the time.
 * Proves: no two live blocks overlap and none changes under its owner
 * (each is stamped and checked before it is freed), the type counts what
 * the threads did, and at the end, after uma_reclaim, the cache is empty
 * and the arena holds no page more than before.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <uma/sysctl.h>

#include "harness.h"
#include "malloc_int.h"
#include "vm.h"

MALLOC_DEFINE(M_LSTRESS, "large_stress", "large block stress test");

#define	NTHREADS	4
#define	NSLOTS		8
#define	KB		((size_t)1024)

struct block {
	uint64_t	*b_mem;
	size_t		 b_size;
	uint64_t	 b_stamp;
};

/* A hand-off slot per thread: a block another thread will free. */
static struct {
	pthread_mutex_t	 lock;
	struct block	 blk;
} handoff[NTHREADS];

static double deadline;
static _Atomic uint64_t nallocs, nfrees;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Stamp the first and last word of every page: cheap, and covers it all. */
static void
stamp(struct block *b)
{
	for (size_t o = 0; o < b->b_size / 8; o += 512) {
		b->b_mem[o] = b->b_stamp + o;
		b->b_mem[o + 511] = ~(b->b_stamp + o);
	}
}

static void
check_and_free(struct block *b)
{
	if (b->b_mem == NULL)
		return;
	for (size_t o = 0; o < b->b_size / 8; o += 512) {
		CHECK_EQ(b->b_mem[o], b->b_stamp + o);
		CHECK_EQ(b->b_mem[o + 511], ~(b->b_stamp + o));
	}
	uma_free(b->b_mem, M_LSTRESS);
	atomic_fetch_add(&nfrees, 1);
	b->b_mem = NULL;
}

static void
fill(struct block *b, uint64_t *s)
{
	static const size_t odd[] = { 68 * KB, 100 * KB, 260 * KB, 1028 * KB };
	uint64_t r = rnd(s);

	b->b_size = r % 4 == 0 ? odd[(r >> 8) % 4] :
	    (size_t)64 * KB << ((r >> 8) % 7);
	b->b_mem = uma_malloc(b->b_size, M_LSTRESS, M_WAITOK);
	CHECK(b->b_mem != NULL);
	CHECK_EQ(uma_malloc_usable_size(b->b_mem) >= b->b_size, 1);
	b->b_stamp = rnd(s);
	stamp(b);
	atomic_fetch_add(&nallocs, 1);
}

static void *
worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	struct block mine[NSLOTS] = { { 0 } }, t;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (id + 1);
	int k, peer;

	while (test_now() < deadline) {
		k = (int)(rnd(&s) % NSLOTS);
		if (rnd(&s) % 4 == 0) {
			/* Swap a block with a peer's slot: it frees ours. */
			peer = (int)(rnd(&s) % NTHREADS);
			pthread_mutex_lock(&handoff[peer].lock);
			t = handoff[peer].blk;
			handoff[peer].blk = mine[k];
			pthread_mutex_unlock(&handoff[peer].lock);
			mine[k] = t;
		}
		check_and_free(&mine[k]);
		fill(&mine[k], &s);
	}
	for (k = 0; k < NSLOTS; k++)
		check_and_free(&mine[k]);
	return (NULL);
}

UMA_TEST(malloc_large_stress_runs_split_join_and_count_exactly)
{
	struct malloc_type_totals before, after;
	pthread_t td[NTHREADS];
	uint64_t pages, cached = 1;
	size_t len = sizeof(cached);
	int mb = 16;

	/* A small cache: splits, joins and evictions on most operations. */
	CHECK(uma_sysctlbyname("vm.malloc.large_cache_mb", NULL, NULL, &mb,
	    sizeof(mb)) == 0);
	/* One block first: uma, the type's counters and descriptors exist. */
	uma_free(uma_malloc(MALLOC_MAXSIZE + 1, M_LSTRESS, M_WAITOK),
	    M_LSTRESS);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	pages = uma__vm_pages();
	CHECK(pages > 0);
	uma__malloc_type_totals(M_LSTRESS, &before);
	for (int i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&handoff[i].lock, NULL);
	deadline = test_now() + test_seconds(4);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&td[i], NULL, worker, (void *)i) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(td[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		check_and_free(&handoff[i].blk);
	CHECK_EQ(atomic_load(&nallocs), atomic_load(&nfrees));
	CHECK(atomic_load(&nallocs) > 1000);
	uma__malloc_type_totals(M_LSTRESS, &after);
	CHECK_EQ(after.mt_numallocs - before.mt_numallocs,
	    atomic_load(&nallocs));
	CHECK_EQ(after.mt_numfrees - before.mt_numfrees,
	    atomic_load(&nfrees));
	CHECK_EQ(after.mt_memalloced - after.mt_memfreed,
	    before.mt_memalloced - before.mt_memfreed);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK(uma_sysctlbyname("vm.malloc.large_cache_bytes", &cached, &len,
	    NULL, 0) == 0);
	CHECK_EQ(cached, 0);
	CHECK(uma__vm_pages() <= pages);
}
