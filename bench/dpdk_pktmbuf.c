/*
 * dpdk_pktmbuf.c - mbuf_bench's workloads on DPDK's packet buffers:
 * rte_pktmbuf_alloc / rte_pktmbuf_free on a pktmbuf pool with a per-lcore
 * cache, the peer of m_getcl / m_freem on the packet zone.
 *
 *   getcl_pair  alloc + free on lcore 0, ns per pair (thread CPU time)
 *   handoff     alloc on lcore 0, free on lcore 1 (rte_eal_remote_launch),
 *               through bench/spsc.h's ring, ns per packet (wall clock)
 *
 * Output: "<workload> dpdk 2048 <ns>".  EAL runs without hugepages, PCI
 * or shared files on lcores 0-1.
 *
 *   dpdk_pktmbuf [getcl_pair|handoff|all] [iterations] [repetitions]
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench.h"
#include "spsc.h"

#define	POOL_MBUFS	65535
#define	POOL_CACHE	512

static struct rte_mempool *pool;

static __attribute__((noinline)) double
getcl_pair(long pairs)
{
	struct rte_mbuf *m;
	uint64_t t0;

	t0 = bench_cpu_now();
	for (long i = 0; i < pairs; i++) {
		m = rte_pktmbuf_alloc(pool);
		if (__builtin_expect(m == NULL, 0))
			abort();
		bench_escape(m);
		rte_pktmbuf_free(m);
	}
	return ((double)(bench_cpu_now() - t0) / (double)pairs);
}

struct handoff {
	struct spsc_ring	*ho_ring;
	long			 ho_items;
	atomic_int		 ho_ready;
};

static int
handoff_consumer(void *arg)
{
	struct handoff *ho = arg;

	atomic_store(&ho->ho_ready, 1);
	for (long i = 0; i < ho->ho_items; i++)
		rte_pktmbuf_free(spsc_pop(ho->ho_ring));
	return (0);
}

static double
handoff_run(struct spsc_ring *ring, long items)
{
	struct handoff ho = { ring, items, 0 };
	struct rte_mbuf *m;
	unsigned int worker;
	uint64_t t0;

	spsc_init(ring);
	worker = rte_get_next_lcore(-1, 1, 0);
	if (rte_eal_remote_launch(handoff_consumer, &ho, worker) != 0)
		abort();
	while (!atomic_load(&ho.ho_ready))
		__builtin_ia32_pause();
	t0 = bench_now();
	for (long i = 0; i < items; i++) {
		m = rte_pktmbuf_alloc(pool);
		if (__builtin_expect(m == NULL, 0))
			abort();
		spsc_push(ring, m);
	}
	spsc_flush(ring);
	rte_eal_wait_lcore(worker);
	return ((double)(bench_now() - t0) / (double)items);
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "-l", "0-1", "--no-shconf",
		"--no-telemetry", "-m", "512", "--log-level=error", NULL
	};
	const char *mode = argc > 1 ? argv[1] : "all";
	long iters = argc > 2 ? atol(argv[2]) : 5000000;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	double ns[BENCH_REPS_MAX];
	struct spsc_ring *ring;

	if (reps < 1 || reps > BENCH_REPS_MAX || iters < 1) {
		fprintf(stderr, "usage: dpdk_pktmbuf [getcl_pair|handoff|all] "
		    "[iterations] [repetitions <= %d]\n", BENCH_REPS_MAX);
		return (2);
	}
	if (rte_eal_init((int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1,
	    eal_argv) < 0) {
		fprintf(stderr, "dpdk_pktmbuf: rte_eal_init: %s\n",
		    rte_strerror(rte_errno));
		return (3);
	}
	pool = rte_pktmbuf_pool_create("bench_pkt", POOL_MBUFS, POOL_CACHE, 0,
	    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "dpdk_pktmbuf: rte_pktmbuf_pool_create: %s\n",
		    rte_strerror(rte_errno));
		return (1);
	}
	ring = aligned_alloc(64, sizeof(*ring));
	if (strcmp(mode, "all") == 0 || strcmp(mode, "getcl_pair") == 0) {
		(void)getcl_pair(iters / 10);
		for (int i = 0; i < reps; i++)
			ns[i] = getcl_pair(iters);
		bench_report("getcl_pair", "dpdk", 2048,
		    bench_median(ns, reps));
	}
	if ((strcmp(mode, "all") == 0 || strcmp(mode, "handoff") == 0) &&
	    rte_lcore_count() >= 2) {
		(void)handoff_run(ring, iters / 10);
		for (int i = 0; i < reps; i++)
			ns[i] = handoff_run(ring, iters);
		bench_report("handoff", "dpdk", 2048,
		    bench_median(ns, reps));
	}
	free(ring);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return (0);
}
