/*
 * zone_bench.c - the three allocation workloads, run on a uma zone or, with
 * --malloc, on malloc(3)/free(3) of the same size (run.sh preloads each peer
 * allocator in turn; no preload is glibc):
 *
 *   pair      allocate one item and free it again, on one pinned CPU: the
 *             per-CPU cache hit path.  ns per pair.
 *   batch N   N allocations, then the N frees in the same order: the
 *             bucket exchange with the zone every bucket-size items.
 *             ns per operation (an alloc or a free).
 *   prodcons  a thread on CPU 0 allocates and passes the items through an
 *             SPSC ring to a thread on CPU 1, which frees them: every item
 *             crosses CPUs, so buckets travel through the zone.  ns per item.
 *
 * The loops are written once, always inline, and instantiated per allocator
 * with constant function pointers, so the measured code makes the same
 * direct calls a user's code would (uma_zalloc is linked statically: no PLT).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/uma.h>

#include "bench.h"
#include "spsc.h"

#define	BENCH_INLINE	static inline __attribute__((always_inline))
#define	BENCH_LOOP	static __attribute__((noinline))

typedef void	*(*item_alloc_fn)(void);
typedef void	 (*item_free_fn)(void *);

/* One allocator's instantiation of every workload. */
struct bench_ops {
	double	(*bop_pair)(long pairs);
	double	(*bop_batch)(void **v, long n, long rounds);
	void	(*bop_produce)(struct spsc_ring *r, long items);
	void	(*bop_consume)(struct spsc_ring *r, long items);
};

static uma_zone_t	bench_zone;
static size_t		bench_size;

static void
bench_oom(void)
{
	fprintf(stderr, "zone_bench: allocation of %zu bytes failed\n",
	    bench_size);
	exit(1);
}

BENCH_INLINE double
loop_pair(long pairs, item_alloc_fn af, item_free_fn ff)
{
	uint64_t t0;
	void *p;
	long i;

	t0 = bench_cpu_now();
	for (i = 0; i < pairs; i++) {
		p = af();
		if (__builtin_expect(p == NULL, 0))
			bench_oom();
		bench_escape(p);
		ff(p);
	}
	return ((double)(bench_cpu_now() - t0) / (pairs > 0 ? pairs : 1));
}

BENCH_INLINE double
loop_batch(void **v, long n, long rounds, item_alloc_fn af, item_free_fn ff)
{
	uint64_t t0;
	long i, r;

	t0 = bench_cpu_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			v[i] = af();
			if (__builtin_expect(v[i] == NULL, 0))
				bench_oom();
		}
		bench_escape(v);
		for (i = 0; i < n; i++)
			ff(v[i]);
	}
	return ((double)(bench_cpu_now() - t0) / (2.0 * n * rounds));
}

BENCH_INLINE void
loop_produce(struct spsc_ring *r, long items, item_alloc_fn af)
{
	void *p;
	long i;

	for (i = 0; i < items; i++) {
		p = af();
		if (__builtin_expect(p == NULL, 0))
			bench_oom();
		spsc_push(r, p);
	}
	spsc_flush(r);
}

BENCH_INLINE void
loop_consume(struct spsc_ring *r, long items, item_free_fn ff)
{
	long i;

	for (i = 0; i < items; i++)
		ff(spsc_pop(r));
}

/* The uma zone. */
BENCH_INLINE void *
zone_item_alloc(void)
{
	return (uma_zalloc(bench_zone, M_NOWAIT));
}

BENCH_INLINE void
zone_item_free(void *p)
{
	uma_zfree(bench_zone, p);
}

BENCH_LOOP double
zone_pair(long pairs)
{
	return (loop_pair(pairs, zone_item_alloc, zone_item_free));
}

BENCH_LOOP double
zone_batch(void **v, long n, long rounds)
{
	return (loop_batch(v, n, rounds, zone_item_alloc, zone_item_free));
}

BENCH_LOOP void
zone_produce(struct spsc_ring *r, long items)
{
	loop_produce(r, items, zone_item_alloc);
}

BENCH_LOOP void
zone_consume(struct spsc_ring *r, long items)
{
	loop_consume(r, items, zone_item_free);
}

/* malloc(3), whichever one is linked or preloaded. */
BENCH_INLINE void *
malloc_item_alloc(void)
{
	return (malloc(bench_size));
}

BENCH_INLINE void
malloc_item_free(void *p)
{
	free(p);
}

BENCH_LOOP double
malloc_pair(long pairs)
{
	return (loop_pair(pairs, malloc_item_alloc, malloc_item_free));
}

BENCH_LOOP double
malloc_batch(void **v, long n, long rounds)
{
	return (loop_batch(v, n, rounds, malloc_item_alloc,
	    malloc_item_free));
}

BENCH_LOOP void
malloc_produce(struct spsc_ring *r, long items)
{
	loop_produce(r, items, malloc_item_alloc);
}

BENCH_LOOP void
malloc_consume(struct spsc_ring *r, long items)
{
	loop_consume(r, items, malloc_item_free);
}

static const struct bench_ops zone_ops = {
	zone_pair, zone_batch, zone_produce, zone_consume
};
static const struct bench_ops malloc_ops = {
	malloc_pair, malloc_batch, malloc_produce, malloc_consume
};

/* prodcons: one thread per side, both released by one barrier. */
struct prodcons {
	const struct bench_ops	*pc_ops;
	struct spsc_ring	*pc_ring;
	pthread_barrier_t	 pc_start;
	long			 pc_items;
};

static void *
prodcons_producer(void *arg)
{
	struct prodcons *pc = arg;

	bench_pin(0);
	pthread_barrier_wait(&pc->pc_start);
	pc->pc_ops->bop_produce(pc->pc_ring, pc->pc_items);
	return (NULL);
}

static void *
prodcons_consumer(void *arg)
{
	struct prodcons *pc = arg;

	bench_pin(1);
	pthread_barrier_wait(&pc->pc_start);
	pc->pc_ops->bop_consume(pc->pc_ring, pc->pc_items);
	return (NULL);
}

static double
prodcons_run(const struct bench_ops *ops, struct spsc_ring *ring, long items)
{
	struct prodcons pc = { ops, ring, { { 0 } }, items };
	pthread_t prod, cons;
	uint64_t t0;

	spsc_init(ring);
	pthread_barrier_init(&pc.pc_start, NULL, 3);
	if (pthread_create(&prod, NULL, prodcons_producer, &pc) != 0 ||
	    pthread_create(&cons, NULL, prodcons_consumer, &pc) != 0) {
		fprintf(stderr, "zone_bench: pthread_create failed\n");
		exit(1);
	}
	pthread_barrier_wait(&pc.pc_start);
	t0 = bench_now();
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	pthread_barrier_destroy(&pc.pc_start);
	return ((double)(bench_now() - t0) / (items > 0 ? items : 1));
}

/* One timed repetition of `mode` with `iters` pairs or items. */
static double
bench_once(const struct bench_opts *bo, const struct bench_ops *ops,
    long iters, void **v, struct spsc_ring *ring)
{
	long rounds;

	if (strcmp(bo->bo_mode, "pair") == 0)
		return (ops->bop_pair(iters));
	if (strcmp(bo->bo_mode, "batch") == 0) {
		rounds = iters / bo->bo_batch;
		return (ops->bop_batch(v, bo->bo_batch, rounds > 0 ? rounds : 1));
	}
	return (prodcons_run(ops, ring, iters));
}

int
main(int argc, char **argv)
{
	struct bench_opts bo = {
		.bo_size = 64, .bo_batch = 1000, .bo_iters = 50000000,
		.bo_reps = 5,
	};
	const struct bench_ops *ops;
	double ns[BENCH_REPS_MAX];
	struct spsc_ring *ring;
	void **v;
	int i;

	bench_parse(&bo, argc, argv);
	if (bo.bo_name == NULL)
		bo.bo_name = bo.bo_malloc ? "malloc" : "uma";
	bench_size = bo.bo_size;
	if (bo.bo_malloc)
		ops = &malloc_ops;
	else {
		bench_zone = uma_zcreate("bench", bo.bo_size, NULL, NULL, NULL,
		    NULL, UMA_ALIGN_PTR, 0);
		if (bench_zone == NULL) {
			perror("zone_bench: uma_zcreate");
			return (1);
		}
		ops = &zone_ops;
	}
	/* Set up everything that allocates before the clock runs. */
	v = calloc(bo.bo_batch, sizeof(*v));
	ring = aligned_alloc(64, sizeof(*ring));
	if (v == NULL || ring == NULL)
		bench_oom();

	/* pair and batch stay on CPU 0; prodcons pins its own threads. */
	if (strcmp(bo.bo_mode, "prodcons") != 0)
		bench_pin(0);
	if (bo.bo_warmup > 0)
		(void)bench_once(&bo, ops, bo.bo_warmup, v, ring);
	for (i = 0; i < bo.bo_reps; i++)
		ns[i] = bench_once(&bo, ops, bo.bo_iters, v, ring);
	bench_report_median(&bo, ns, bo.bo_reps);

	free(ring);
	free(v);
	if (bench_zone != NULL)
		uma_zdestroy(bench_zone);
	return (0);
}
