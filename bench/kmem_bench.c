/*
 * kmem_bench.c - what the kmem report costs: the cheap tier and the
 * extended tier read on 1,000 zones holding 1 GiB live (item sizes 16 to
 * 4096 bytes; a quarter of each zone's items freed, every fourth, so the
 * caches and partly used slabs are full), and the longest an alloc+free
 * pair waits while the extended tier walks, against the longest without.
 *
 *	kmem_bench [zones [live MiB]]		(default 1000 1024)
 *
 * Prints bench.h's lines: "kmem_cheap uma <zones> <ns>" (median of 101),
 * "kmem_extended uma <zones> <ns>" (median of 7), both in the reading
 * thread's CPU time, "pair_max_quiet" and
 * "pair_max_walking uma <zones> <ns>" (the longest pair in 2 s each; the
 * count of pairs over 100 us goes to stderr).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uma/kmem.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "bench.h"

static _Atomic int walking, stop;

/* One read of a report, in the thread's CPU time (the machine is shared). */
static double
read_ns(const char *name, void *buf, size_t len)
{
	uint64_t t0 = bench_cpu_now();

	if (uma_sysctlbyname(name, buf, &len, NULL, 0) != 0) {
		perror(name);
		exit(1);
	}
	return ((double)(bench_cpu_now() - t0));
}

static void *
walker(void *arg)
{
	struct uma_kmem_stats_extended *ukx = arg;
	size_t len = 0;

	uma_sysctlbyname("vm.kmem_stats_extended", NULL, &len, NULL, 0);
	while (!stop) {
		if (walking)
			read_ns("vm.kmem_stats_extended", ukx, len + 65536);
		else
			usleep(1000);
	}
	return (NULL);
}

/*
 * Alloc+free pairs on `z` for `seconds`: the longest, and how many took
 * over 100 us (on a shared machine the longest is mostly the scheduler's).
 */
static double
pair_max(uma_zone_t z, double seconds, long *slowp)
{
	uint64_t end = bench_now() + (uint64_t)(seconds * 1e9), t0, t, max = 0;
	void *p;

	*slowp = 0;
	while ((t0 = bench_now()) < end) {
		p = uma_zalloc(z, M_WAITOK);
		uma_zfree(z, p);
		if ((t = bench_now() - t0) > max)
			max = t;
		if (t > 100000)
			(*slowp)++;
	}
	return ((double)max);
}

int
main(int argc, char **argv)
{
	int nzones = argc > 1 ? atoi(argv[1]) : 1000;
	size_t live = (size_t)(argc > 2 ? atol(argv[2]) : 1024) << 20;
	struct uma_kmem_stats_extended *ukx;
	struct uma_kmem_stats uks;
	double cheap[101], ext[7];
	uma_zone_t *zones, pz;
	pthread_t td;
	long slow;
	char name[32];
	size_t len = 0, per = live / (size_t)nzones;

	zones = calloc((size_t)nzones, sizeof(*zones));
	for (int i = 0; i < nzones; i++) {
		size_t size = (size_t)16 << (i % 9);	/* 16 .. 4096 */
		size_t n = per / size;

		snprintf(name, sizeof(name), "kb%d", i);
		zones[i] = uma_zcreate(strdup(name), size, NULL, NULL, NULL,
		    NULL, UMA_ALIGN_PTR, 0);
		void **items = malloc(n * sizeof(*items));
		for (size_t j = 0; j < n; j++) {
			items[j] = uma_zalloc(zones[i], M_WAITOK);
			memset(items[j], 1, size);
		}
		for (size_t j = 0; j < n; j += 4)
			uma_zfree(zones[i], items[j]);
		free(items);
	}
	uma_sysctlbyname("vm.kmem_stats_extended", NULL, &len, NULL, 0);
	ukx = malloc(len + 65536);
	for (int i = 0; i < 101; i++)
		cheap[i] = read_ns("vm.kmem_stats", &uks, sizeof(uks));
	for (int i = 0; i < 7; i++)
		ext[i] = read_ns("vm.kmem_stats_extended", ukx, len + 65536);
	fprintf(stderr, "%d zones, committed %.1f MiB, in use %.1f MiB, "
	    "reclaimable %.1f MiB, fragmentation %.1f MiB; extended record "
	    "%zu bytes\n", nzones, ukx->ukx_stats.uks_committed / 1048576.0,
	    ukx->ukx_stats.uks_inuse / 1048576.0,
	    ukx->ukx_reclaimable / 1048576.0,
	    ukx->ukx_fragmentation / 1048576.0, len);
	bench_report("kmem_cheap", "uma", (size_t)nzones,
	    bench_median(cheap, 101));
	bench_report("kmem_extended", "uma", (size_t)nzones,
	    bench_median(ext, 7));

	pz = uma_zcreate("kb_pair", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	pthread_create(&td, NULL, walker, ukx);
	bench_report("pair_max_quiet", "uma", (size_t)nzones,
	    pair_max(pz, 2, &slow));
	fprintf(stderr, "quiet: %ld pairs over 100 us\n", slow);
	walking = 1;
	bench_report("pair_max_walking", "uma", (size_t)nzones,
	    pair_max(pz, 2, &slow));
	fprintf(stderr, "walking: %ld pairs over 100 us\n", slow);
	stop = 1;
	pthread_join(td, NULL);
	return (0);
}
