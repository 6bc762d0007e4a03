/*
 * malloc_zone_type.c - the zone-counted type (the interposer's "libc"):
 * its size-class counts are the class zones' minus every other type's, and
 * they must come out exactly like an explicitly counted type's, per CPU
 * and in total, while other types allocate from the same zones on the
 * same threads, with cross-thread frees, migrations, a dynamic type that
 * is destroyed (its counts retired) and a static type that is unlinked.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "malloc_int.h"
#include "stats.h"
#include "vm.h"

MALLOC_DEFINE(M_ZONED, "zoned", "counted by the class zones");
MALLOC_DEFINE(M_PLAIN, "plain", "counted explicitly");
MALLOC_DEFINE(M_GONE, "gone", "unlinked half way");

#define	NTHREADS	6	/* more than the CPUs: migrations */
#define	ROUNDS		20000

static const size_t sizes[] = { 1, 17, 100, 384, 1000, 5000, 70000 };
static struct malloc_type *dyn;		/* created and destroyed */

struct worker {
	pthread_t	 td;
	int		 id;
	void		*handoff[nitems(sizes)];	/* freed by the next */
	struct worker	*next;
	pthread_barrier_t *bar;
};

static void *
worker(void *arg)
{
	struct worker *w = arg;
	void *zoned[nitems(sizes)], *plain[nitems(sizes)], *gone;

	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < nitems(sizes); i++) {
			if (sizes[i] > MALLOC_MAXSIZE && r % 50 != 0)
				continue;
			zoned[i] = uma_malloc(sizes[i], M_ZONED, M_WAITOK);
			plain[i] = uma_malloc(sizes[i], M_PLAIN, M_WAITOK);
		}
		gone = uma_malloc(64, M_GONE, M_WAITOK);
		uma_free(gone, M_GONE);
		gone = uma_malloc(48, dyn, M_WAITOK);
		uma_free(gone, dyn);
		for (size_t i = 0; i < nitems(sizes); i++) {
			if (sizes[i] > MALLOC_MAXSIZE && r % 50 != 0)
				continue;
			uma_free(plain[i], M_PLAIN);
			if (r == ROUNDS - 1 && sizes[i] <= MALLOC_MAXSIZE)
				w->handoff[i] = zoned[i];
			else
				uma_free(zoned[i], M_ZONED);
		}
		if (r % 1000 == 0)
			sched_yield();
	}
	/*
	 * Free the next thread's last small items here (another CPU, maybe),
	 * all but the first: one 16-byte item per thread stays live.
	 */
	pthread_barrier_wait(w->bar);
	for (size_t i = 1; i < nitems(sizes); i++)
		if (sizes[i] <= MALLOC_MAXSIZE)
			uma_free(w->next->handoff[i], M_ZONED);
	return (NULL);
}

UMA_TEST(malloc_zone_counted_type_is_exact_beside_other_types)
{
	static struct worker w[NTHREADS];
	struct malloc_type_totals zt, pt, want;
	pthread_barrier_t bar;
	uint64_t large = (ROUNDS + 49) / 50, n, b, sum[4] = { 0 };
	const uint64_t *recs;
	size_t len, off;
	char *buf;
	int ncpus = uma__ncpus(), found = 0;

	uma__malloc_zone_type = M_ZONED;
	dyn = malloc_type_create("dynamic");
	CHECK(dyn != NULL);
	CHECK(pthread_barrier_init(&bar, NULL, NTHREADS) == 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].next = &w[(i + 1) % NTHREADS];
		w[i].bar = &bar;
		CHECK(pthread_create(&w[i].td, NULL, worker, &w[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(w[i].td, NULL) == 0);
	malloc_uninit(M_GONE);		/* unlinked: still subtracted */
	malloc_type_destroy(dyn);	/* run given back: its counts retire */

	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < nitems(sizes); i++) {
		n = (sizes[i] > MALLOC_MAXSIZE ? large : ROUNDS) * NTHREADS;
		b = sizes[i] > MALLOC_MAXSIZE ? roundup2(sizes[i],
		    UMA_PAGE_SIZE) : malloc_class_sizes[uma__malloc_class(
		    sizes[i])];
		want.mt_numallocs += n;
		want.mt_memalloced += n * b;
		/* The first size's last item of each thread stays live. */
		want.mt_numfrees += i == 0 ? n - NTHREADS : n;
		want.mt_memfreed += (i == 0 ? n - NTHREADS : n) * b;
		if (sizes[i] <= MALLOC_MAXSIZE)
			want.mt_sizemask |= 1ull << uma__malloc_class(sizes[i]);
	}
	uma__malloc_type_totals(M_ZONED, &zt);
	uma__malloc_type_totals(M_PLAIN, &pt);
	CHECK_EQ(zt.mt_numallocs, want.mt_numallocs);
	CHECK_EQ(zt.mt_numfrees, want.mt_numfrees);
	CHECK_EQ(zt.mt_memalloced, want.mt_memalloced);
	CHECK_EQ(zt.mt_memfreed, want.mt_memfreed);
	CHECK_EQ(zt.mt_sizemask, want.mt_sizemask);
	/* The explicitly counted type: the same workload, all freed. */
	CHECK_EQ(pt.mt_numallocs, want.mt_numallocs);
	CHECK_EQ(pt.mt_numfrees, want.mt_numallocs);
	CHECK_EQ(pt.mt_sizemask, want.mt_sizemask);

	/* The stream's per-CPU records sum to the totals, none wrapped. */
	len = uma__malloc_stream(NULL, 0);
	buf = malloc(len);
	CHECK(buf != NULL);
	CHECK_EQ(uma__malloc_stream(buf, len), len);
	off = 16;
	while (off < len) {
		bool ours = strcmp(buf + off, "zoned") == 0;

		off += MALLOC_MAX_NAME;
		for (int cpu = 0; cpu < ncpus; cpu++, off += 64) {
			/* memalloced, memfreed, numallocs, numfrees */
			recs = (const uint64_t *)(buf + off);
			if (!ours)
				continue;
			CHECK(recs[0] <= zt.mt_memalloced);
			CHECK(recs[1] <= zt.mt_memfreed);
			CHECK(recs[2] <= zt.mt_numallocs);
			CHECK(recs[3] <= zt.mt_numfrees);
			for (int k = 0; k < 4; k++)
				sum[k] += recs[k];
		}
		found += ours;
	}
	CHECK_EQ(found, 1);
	CHECK_EQ(sum[0], zt.mt_memalloced);
	CHECK_EQ(sum[1], zt.mt_memfreed);
	CHECK_EQ(sum[2], zt.mt_numallocs);
	CHECK_EQ(sum[3], zt.mt_numfrees);
	free(buf);

	for (int i = 0; i < NTHREADS; i++)
		uma_free(w[i].handoff[0], M_ZONED);
	uma__malloc_type_totals(M_ZONED, &zt);
	CHECK_EQ(zt.mt_numfrees, zt.mt_numallocs);
	CHECK_EQ(zt.mt_memfreed, zt.mt_memalloced);
}
