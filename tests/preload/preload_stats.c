/*
 * preload_stats.c - under libuma-malloc.so, the malloc type "libc" counts
 * exactly what the program did: four threads run a known workload (sizes
 * of many classes, frees of their own items and of another thread's, some
 * items left live), and kern.malloc_stats, FreeBSD's type stream, read by
 * the program itself before and after, moves by exactly that.  "libc" is
 * the type the class zones count (malloc_type.c), so this checks that
 * derivation end to end, per-CPU records summed as consumers sum them.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uma/malloc.h>
#include <uma/sysctl.h>

#include "harness.h"

#define	NTHREADS	4
#define	ROUNDS		20000
#define	NSIZES		8
#define	nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* FreeBSD's malloc type stream records (sys/malloc.h), version 1. */
struct mtsh {
	uint32_t	version, maxcpus, count, pad;
};
struct mts {
	uint64_t	memalloced, memfreed, numallocs, numfrees, size;
	uint64_t	reserved[3];
};

/* The sizes the workload asks for, and the class sizes it gets. */
static const size_t sizes[NSIZES] = { 1, 24, 100, 200, 700, 3000, 9000, 40000 };
static const size_t classes[NSIZES] = { 16, 32, 112, 224, 768, 3072, 9216,
    40960 };

static pthread_barrier_t bar;
static void *handoff[NTHREADS][ROUNDS];
static void *keep[NTHREADS][NSIZES];

struct totals {
	uint64_t	allocs, frees, memalloced, memfreed;
};

/*
 * The "libc" record summed over CPUs.  buf is allocated before the first
 * snapshot, so reading allocates nothing the workload would be charged.
 */
static struct totals
libc_totals(char *buf, size_t cap)
{
	struct totals t = { 0, 0, 0, 0 };
	size_t len = cap, off;
	struct mtsh h;
	struct mts s;
	int found = 0;

	CHECK(uma_sysctlbyname("kern.malloc_stats", buf, &len, NULL, 0) == 0);
	memcpy(&h, buf, sizeof(h));
	CHECK_EQ(h.version, 1u);
	off = sizeof(h);
	for (uint32_t i = 0; i < h.count; i++) {
		bool libc = strcmp(buf + off, "libc") == 0;

		off += MALLOC_MAX_NAME;
		for (uint32_t c = 0; c < h.maxcpus; c++, off += sizeof(s)) {
			if (!libc)
				continue;
			memcpy(&s, buf + off, sizeof(s));
			t.allocs += s.numallocs;
			t.frees += s.numfrees;
			t.memalloced += s.memalloced;
			t.memfreed += s.memfreed;
		}
		found += libc;
	}
	CHECK_EQ(found, 1);
	return (t);
}

static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	void *p;

	pthread_barrier_wait(&bar);	/* the first snapshot is taken */
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < nitems(sizes); i++) {
			p = malloc(sizes[i]);
			CHECK(p != NULL);
			memset(p, id, sizes[i] < 8 ? sizes[i] : 8);
			if (i == 0)
				handoff[id][r] = p;	/* the next thread frees */
			else if (r == ROUNDS - 1)
				keep[id][i] = p;	/* stays live */
			else
				free(p);
		}
	}
	pthread_barrier_wait(&bar);	/* everyone allocated */
	for (int r = 0; r < ROUNDS; r++)
		free(handoff[(id + 1) % NTHREADS][r]);
	pthread_barrier_wait(&bar);	/* done: the second snapshot */
	pthread_barrier_wait(&bar);	/* it is taken: exit */
	return (NULL);
}

UMA_TEST(preload_libc_type_counts_exactly_what_the_program_did)
{
	static char buf[1 << 20];
	struct totals before, after;
	pthread_t td[NTHREADS];
	uint64_t allocs = 0, frees = 0, bytes = 0, freed = 0;

	for (size_t i = 0; i < nitems(sizes); i++) {
		allocs += (uint64_t)NTHREADS * ROUNDS;
		bytes += (uint64_t)NTHREADS * ROUNDS * classes[i];
		/* All of size 0 (handed off), the others but the last round. */
		frees += (uint64_t)NTHREADS * (i == 0 ? ROUNDS : ROUNDS - 1);
		freed += (uint64_t)NTHREADS * (i == 0 ? ROUNDS : ROUNDS - 1) *
		    classes[i];
	}
	CHECK(pthread_barrier_init(&bar, NULL, NTHREADS + 1) == 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&td[i], NULL, worker,
		    (void *)(intptr_t)i) == 0);
	before = libc_totals(buf, sizeof(buf));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	after = libc_totals(buf, sizeof(buf));
	pthread_barrier_wait(&bar);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(td[i], NULL) == 0);

	CHECK_EQ(after.allocs - before.allocs, allocs);
	CHECK_EQ(after.frees - before.frees, frees);
	CHECK_EQ(after.memalloced - before.memalloced, bytes);
	CHECK_EQ(after.memfreed - before.memfreed, freed);

	for (int i = 0; i < NTHREADS; i++)
		for (size_t k = 1; k < nitems(sizes); k++)
			free(keep[i][k]);
}
