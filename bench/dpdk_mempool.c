/*
 * dpdk_mempool.c - the same workloads as zone_bench on DPDK's rte_mempool
 * with a per-lcore cache: the closest peer to a zone with per-CPU buckets
 * (fixed-size objects, a lock-free per-CPU front, a shared ring behind).
 *
 *   pair      rte_mempool_get + rte_mempool_put on lcore 0, ns per pair
 *   batch N   N gets then N puts, ns per operation
 *   prodcons  get on lcore 0, put on lcore 1 (rte_eal_remote_launch), the
 *             objects passed through bench/spsc.h's ring, ns per item
 *
 * EAL runs without hugepages, PCI or shared config files on lcores 0-1,
 * which EAL pins to CPUs 0 and 1.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "bench.h"
#include "spsc.h"

#define	POOL_ITEMS	65535	/* 2^16 - 1: the mempool's best size */
#define	POOL_CACHE	512	/* RTE_MEMPOOL_CACHE_MAX_SIZE */

static struct rte_mempool	*pool;

static void
pool_empty(void)
{
	fprintf(stderr, "dpdk_mempool: pool exhausted\n");
	exit(1);
}

static __attribute__((noinline)) double
pool_pair(long pairs)
{
	uint64_t t0;
	void *obj;
	long i;

	t0 = bench_cpu_now();
	for (i = 0; i < pairs; i++) {
		if (__builtin_expect(rte_mempool_get(pool, &obj) != 0, 0))
			pool_empty();
		bench_escape(obj);
		rte_mempool_put(pool, obj);
	}
	return ((double)(bench_cpu_now() - t0) / (pairs > 0 ? pairs : 1));
}

static __attribute__((noinline)) double
pool_batch(void **v, long n, long rounds)
{
	uint64_t t0;
	long i, r;

	t0 = bench_cpu_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++)
			if (__builtin_expect(rte_mempool_get(pool, &v[i]) != 0,
			    0))
				pool_empty();
		bench_escape(v);
		for (i = 0; i < n; i++)
			rte_mempool_put(pool, v[i]);
	}
	return ((double)(bench_cpu_now() - t0) / (2.0 * n * rounds));
}

/* prodcons: lcore 1 frees what lcore 0 allocates. */
struct prodcons {
	struct spsc_ring	*pc_ring;
	long			 pc_items;
	atomic_int		 pc_ready;
};

static int
prodcons_consumer(void *arg)
{
	struct prodcons *pc = arg;
	long i;

	atomic_store(&pc->pc_ready, 1);
	for (i = 0; i < pc->pc_items; i++)
		rte_mempool_put(pool, spsc_pop(pc->pc_ring));
	return (0);
}

static double
prodcons_run(struct spsc_ring *ring, long items)
{
	struct prodcons pc = { ring, items, 0 };
	unsigned int worker;
	uint64_t t0;
	void *obj;
	long i;

	spsc_init(ring);
	worker = rte_get_next_lcore(-1, 1, 0);
	if (rte_eal_remote_launch(prodcons_consumer, &pc, worker) != 0) {
		fprintf(stderr, "dpdk_mempool: cannot launch lcore %u\n",
		    worker);
		exit(1);
	}
	/* The clock starts when both sides run, as zone_bench's barrier. */
	while (!atomic_load(&pc.pc_ready))
		__builtin_ia32_pause();
	t0 = bench_now();
	for (i = 0; i < items; i++) {
		if (__builtin_expect(rte_mempool_get(pool, &obj) != 0, 0))
			pool_empty();
		spsc_push(ring, obj);
	}
	spsc_flush(ring);
	rte_eal_wait_lcore(worker);
	return ((double)(bench_now() - t0) / (items > 0 ? items : 1));
}

static double
bench_once(const struct bench_opts *bo, long iters, void **v,
    struct spsc_ring *ring)
{
	long rounds;

	if (strcmp(bo->bo_mode, "pair") == 0)
		return (pool_pair(iters));
	if (strcmp(bo->bo_mode, "batch") == 0) {
		rounds = iters / bo->bo_batch;
		return (pool_batch(v, bo->bo_batch, rounds > 0 ? rounds : 1));
	}
	return (prodcons_run(ring, iters));
}

static void
eal_start(const char *prog)
{
	char *eal_argv[] = {
		(char *)prog, "--no-huge", "--no-pci", "-l", "0-1",
		"--no-shconf", "--no-telemetry", "-m", "512",
		"--log-level=error", NULL
	};
	int eal_argc = sizeof(eal_argv) / sizeof(eal_argv[0]) - 1;

	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "dpdk_mempool: rte_eal_init: %s\n",
		    rte_strerror(rte_errno));
		exit(3);
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts bo = {
		.bo_name = "dpdk", .bo_size = 64, .bo_batch = 1000,
		.bo_iters = 50000000, .bo_reps = 5,
	};
	double ns[BENCH_REPS_MAX];
	struct spsc_ring *ring;
	void **v;
	int i;

	bench_parse(&bo, argc, argv);
	eal_start(argv[0]);
	if (strcmp(bo.bo_mode, "prodcons") == 0 && rte_lcore_count() < 2) {
		fprintf(stderr, "dpdk_mempool: prodcons needs two lcores\n");
		return (3);
	}
	pool = rte_mempool_create("bench", POOL_ITEMS, bo.bo_size, POOL_CACHE,
	    0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (pool == NULL) {
		fprintf(stderr, "dpdk_mempool: rte_mempool_create: %s\n",
		    rte_strerror(rte_errno));
		return (1);
	}
	v = calloc(bo.bo_batch, sizeof(*v));
	ring = aligned_alloc(64, sizeof(*ring));
	if (v == NULL || ring == NULL)
		pool_empty();

	if (bo.bo_warmup > 0)
		(void)bench_once(&bo, bo.bo_warmup, v, ring);
	for (i = 0; i < bo.bo_reps; i++)
		ns[i] = bench_once(&bo, bo.bo_iters, v, ring);
	bench_report_median(&bo, ns, bo.bo_reps);

	free(ring);
	free(v);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return (0);
}
