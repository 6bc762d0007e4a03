/*
 * mbuf_bench.c - packet buffers on uma: what a driver's receive and
 * transmit paths cost.
 *
 *   getcl_pair  m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR) + m_freem on one CPU,
 *               ns per pair (thread CPU time)
 *   handoff     m_getcl on CPU 0, m_freem on CPU 1, the packets passed
 *               through bench/spsc.h's ring, ns per packet (wall clock)
 *
 * Output: "<workload> uma 2048 <ns>", the median of the repetitions.
 * bench/dpdk_pktmbuf.c runs the same on DPDK's rte_pktmbuf.
 *
 *   mbuf_bench [getcl_pair|handoff|all] [iterations] [repetitions]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/mbuf.h>

#include "bench.h"
#include "spsc.h"

static __attribute__((noinline)) double
getcl_pair(long pairs)
{
	struct mbuf *m;
	uint64_t t0;

	t0 = bench_cpu_now();
	for (long i = 0; i < pairs; i++) {
		m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		if (__builtin_expect(m == NULL, 0))
			abort();
		bench_escape(m);
		m_freem(m);
	}
	return ((double)(bench_cpu_now() - t0) / (double)pairs);
}

struct handoff {
	struct spsc_ring	*ho_ring;
	long			 ho_items;
	atomic_int		 ho_ready;
};

static void *
handoff_consumer(void *arg)
{
	struct handoff *ho = arg;

	bench_pin(1);
	atomic_store(&ho->ho_ready, 1);
	for (long i = 0; i < ho->ho_items; i++)
		m_freem(spsc_pop(ho->ho_ring));
	return (NULL);
}

static void *
handoff_producer(void *arg)
{
	struct handoff *ho = arg;
	struct mbuf *m;

	bench_pin(0);
	while (!atomic_load(&ho->ho_ready))
		__builtin_ia32_pause();
	for (long i = 0; i < ho->ho_items; i++) {
		m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		if (__builtin_expect(m == NULL, 0))
			abort();
		spsc_push(ho->ho_ring, m);
	}
	spsc_flush(ho->ho_ring);
	return (NULL);
}

/* Both sides pinned by threads of their own: main stays unpinned. */
static double
handoff_run(struct spsc_ring *ring, long items)
{
	struct handoff ho = { ring, items, 0 };
	pthread_t prod, cons;
	uint64_t t0;

	spsc_init(ring);
	if (pthread_create(&cons, NULL, handoff_consumer, &ho) != 0)
		abort();
	while (!atomic_load(&ho.ho_ready))
		__builtin_ia32_pause();
	t0 = bench_now();
	if (pthread_create(&prod, NULL, handoff_producer, &ho) != 0)
		abort();
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	return ((double)(bench_now() - t0) / (double)items);
}

struct pair_run {
	long	 pr_iters;
	int	 pr_reps;
	double	*pr_ns;
};

static void *
pair_main(void *arg)
{
	struct pair_run *pr = arg;

	bench_pin(0);
	(void)getcl_pair(pr->pr_iters / 10);
	for (int i = 0; i < pr->pr_reps; i++)
		pr->pr_ns[i] = getcl_pair(pr->pr_iters);
	return (NULL);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	long iters = argc > 2 ? atol(argv[2]) : 5000000;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	double ns[BENCH_REPS_MAX];
	struct spsc_ring *ring;

	if (reps < 1 || reps > BENCH_REPS_MAX || iters < 1) {
		fprintf(stderr, "usage: mbuf_bench [getcl_pair|handoff|all] "
		    "[iterations] [repetitions <= %d]\n", BENCH_REPS_MAX);
		return (2);
	}
	mbuf_init();
	ring = aligned_alloc(64, sizeof(*ring));
	if (strcmp(mode, "all") == 0 || strcmp(mode, "getcl_pair") == 0) {
		struct pair_run pr = { iters, reps, ns };
		pthread_t t;

		if (pthread_create(&t, NULL, pair_main, &pr) != 0)
			abort();
		pthread_join(t, NULL);
		bench_report("getcl_pair", "uma", MCLBYTES,
		    bench_median(ns, reps));
	}
	if ((strcmp(mode, "all") == 0 || strcmp(mode, "handoff") == 0) &&
	    bench_ncpus() >= 2) {
		(void)handoff_run(ring, iters / 10);
		for (int i = 0; i < reps; i++)
			ns[i] = handoff_run(ring, iters);
		bench_report("handoff", "uma", MCLBYTES,
		    bench_median(ns, reps));
	}
	free(ring);
	return (0);
}
