/*
 * classic.c - the first eight workloads, in the spirit of the classic
 * allocator benchmarks.  Each is sized to run for about half a second or
 * more under glibc, so that start-up does not decide the result.
 *
 *   larson        threads replace random slots of a shared-nothing array
 *                 with random sizes, handing arrays to the next round's
 *                 thread (larson: server-like; each round's first free of
 *                 every slot, 4,000 of 300,000 frees, is of an object the
 *                 other thread allocated)
 *   mstress       rounds of allocate-many / free-half / touch (mstress)
 *   xmalloc       producer threads allocate, consumer threads free
 *                 (xmalloc-test: every free is remote)
 *   cache-scratch threads allocate, write and free small objects that
 *                 started on another thread (false-sharing test)
 *   simple        one thread, malloc/free pairs of 16..512 bytes (glibc
 *                 bench-malloc-simple)
 *   thread        the same on 2 threads (glibc bench-malloc-thread)
 *   small         one thread builds and frees 4 million 16-64 byte objects
 *   large         blocks of 64 KiB .. 4 MiB, allocated, touched, freed
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mw.h"

/* ---- larson ---- */
#define	LARSON_SLOTS	4000
static void *larson_slots[MW_NTHREADS][LARSON_SLOTS];

static pthread_barrier_t larson_bar;

static void *
larson_round_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t s = id * 7 + 1, acc = 0;

	for (int round = 0; round < 32; round++) {
		void **slots =
		    larson_slots[(id + (uintptr_t)round) % MW_NTHREADS];

		for (int i = 0; i < 300000; i++) {
			int k = (int)(mw_rand(&s) % LARSON_SLOTS);
			size_t sz = 8 + mw_rand(&s) % 1000;

			free(slots[k]);
			slots[k] = malloc(sz);
			((char *)slots[k])[0] = (char)i;
			acc += sz;
		}
		pthread_barrier_wait(&larson_bar);
	}
	mw_sum += acc;
	return (NULL);
}

static void
larson_rounds(void)
{
	pthread_t t[MW_NTHREADS];

	pthread_barrier_init(&larson_bar, NULL, MW_NTHREADS);
	for (uintptr_t i = 0; i < MW_NTHREADS; i++)
		pthread_create(&t[i], NULL, larson_round_thread, (void *)i);
	for (int i = 0; i < MW_NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < MW_NTHREADS; i++)
		for (int k = 0; k < LARSON_SLOTS; k++)
			free(larson_slots[i][k]);
}

/* ---- mstress ---- */
static void *
mstress_thread(void *arg)
{
	uint64_t s = (uintptr_t)arg + 3, acc = 0;
	enum { N = 200000 };
	void **p = malloc(N * sizeof(*p));

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < N; i++) {
			size_t sz = mw_rand(&s) % 100 < 95 ?
			    8 + mw_rand(&s) % 256 :
			    1000 + mw_rand(&s) % 30000;
			p[i] = malloc(sz);
			memset(p[i], i, sz < 64 ? sz : 64);
		}
		for (int i = 0; i < N; i += 2)
			free(p[i]);
		for (int i = 0; i < N; i += 2)
			p[i] = malloc(8 + mw_rand(&s) % 128);
		for (int i = 0; i < N; i++) {
			acc += ((unsigned char *)p[i])[0];
			free(p[i]);
		}
	}
	free(p);
	mw_sum += acc;
	return (NULL);
}

/* ---- xmalloc: producers allocate, consumers free ---- */
#define	XQ	4096
struct xq {
	void *_Atomic slot[XQ];
	char pad[64];
};
static struct xq xqs[MW_NTHREADS / 2 ? MW_NTHREADS / 2 : 1];

static void *
xproducer(void *arg)
{
	struct xq *q = arg;
	uint64_t s = 5;

	for (int i = 0; i < 3000000; i++) {
		void *p = malloc(16 + mw_rand(&s) % 240), *e = NULL;

		((char *)p)[0] = 1;
		while (!__atomic_compare_exchange_n(&q->slot[i % XQ], &e, p, 0,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			e = NULL;
	}
	return (NULL);
}

static void *
xconsumer(void *arg)
{
	struct xq *q = arg;

	for (int i = 0; i < 3000000; i++) {
		void *p;

		while ((p = __atomic_exchange_n(&q->slot[i % XQ], NULL,
		    __ATOMIC_ACQUIRE)) == NULL)
			;
		mw_sum += ((char *)p)[0];
		free(p);
	}
	return (NULL);
}

/* ---- cache-scratch ---- */
static void *scratch_objs[MW_NTHREADS];

static void *
scratch_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	char *o = scratch_objs[id];

	free(o);		/* an object allocated by the main thread */
	for (int i = 0; i < 20000000; i++) {
		o = malloc(8);
		for (int k = 0; k < 8; k++)
			o[k] = (char)k;
		free(o);
	}
	return (NULL);
}

/* ---- simple / thread ---- */
static void *
simple_thread(void *arg)
{
	uint64_t acc = 0;

	for (int r = 0; r < 800; r++) {
		for (size_t sz = 16; sz <= 512; sz += 16) {
			for (int i = 0; i < 2000; i++) {
				char *p = malloc(sz);

				p[0] = (char)i;
				acc += (unsigned char)p[0];
				free(p);
			}
		}
	}
	mw_sum += acc;
	return (NULL);
}

/* ---- small ---- */
static void
small(void)
{
	enum { N = 4000000 };
	void **p = malloc(N * sizeof(*p));
	uint64_t s = 9;

	for (int i = 0; i < N; i++) {
		p[i] = malloc(16 + mw_rand(&s) % 48);
		((char *)p[i])[0] = (char)i;
	}
	for (int i = 0; i < N; i++) {
		mw_sum += ((unsigned char *)p[i])[0];
		free(p[i]);
	}
	free(p);
}

/* ---- large ---- */
static void
large(void)
{
	uint64_t s = 13;
	void *keep[16] = { 0 };

	for (int i = 0; i < 40000; i++) {
		size_t sz = (size_t)65536 << (mw_rand(&s) % 7);
		int k = (int)(mw_rand(&s) % 16);
		char *p;

		free(keep[k]);
		p = malloc(sz);
		for (size_t o = 0; o < sz; o += 16384)
			p[o] = 1;
		keep[k] = p;
	}
	for (int k = 0; k < 16; k++)
		free(keep[k]);
}


static int
run_larson(void)
{
	larson_rounds();
	return (0);
}

static int
run_mstress(void)
{
	mw_run_threads(mstress_thread, MW_NTHREADS);
	return (0);
}

static int
run_xmalloc(void)
{
	pthread_t p, c;

	pthread_create(&p, NULL, xproducer, &xqs[0]);
	pthread_create(&c, NULL, xconsumer, &xqs[0]);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	return (0);
}

static int
run_cache_scratch(void)
{
	for (int i = 0; i < MW_NTHREADS; i++)
		scratch_objs[i] = malloc(8);
	mw_run_threads(scratch_thread, MW_NTHREADS);
	return (0);
}

static int
run_simple(void)
{
	simple_thread(NULL);
	return (0);
}

static int
run_thread(void)
{
	mw_run_threads(simple_thread, MW_NTHREADS);
	return (0);
}

static int
run_small(void)
{
	small();
	return (0);
}

static int
run_large(void)
{
	large();
	return (0);
}

const struct mw_workload mw_classic[] = {
	{ "larson", run_larson, "server churn, frees by other threads" },
	{ "mstress", run_mstress, "allocate many, free half, touch" },
	{ "xmalloc", run_xmalloc, "producer allocates, consumer frees" },
	{ "cache-scratch", run_cache_scratch, "passive false sharing" },
	{ "simple", run_simple, "one thread, pairs of 16..512 B" },
	{ "thread", run_thread, "the same on two threads" },
	{ "small", run_small, "4 million 16-64 B objects, then freed" },
	{ "large", run_large, "64 KiB .. 4 MiB blocks replaced" },
	{ NULL, NULL, NULL },
};
