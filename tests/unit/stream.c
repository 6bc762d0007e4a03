/*
 * stream.c - vm.zone_stats parses back to exactly what uma__zone_stat
 * says: header plus per-CPU records sum to the totals, the secondary flag
 * is set on the secondary only, keg free is the same on both zones of a
 * keg; and 1,000 zones stream quickly while threads allocate.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <uma/stream.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "stats.h"

/* Read vm.zone_stats into an mmap'ed buffer; *lenp gets its length. */
static char *
stream_read(size_t *lenp, size_t *capp)
{
	size_t len = 0, cap;
	char *buf;

	CHECK(uma_sysctlbyname("vm.zone_stats", NULL, &len, NULL, 0) == 0);
	cap = len * 2 + 4096;
	buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(buf != MAP_FAILED);
	len = cap;
	CHECK(uma_sysctlbyname("vm.zone_stats", buf, &len, NULL, 0) == 0);
	*lenp = len;
	*capp = cap;
	return (buf);
}

/* The record of zone `name` in the stream, and its per-CPU records. */
static const struct uma_type_header *
stream_find(const char *buf, size_t len, const char *name,
    const struct uma_percpu_stat **upsp)
{
	struct uma_stream_header ush;
	const char *p = buf + sizeof(ush);
	size_t rec;

	memcpy(&ush, buf, sizeof(ush));
	rec = sizeof(struct uma_type_header) +
	    ush.ush_maxcpus * sizeof(struct uma_percpu_stat);
	CHECK_EQ(len, sizeof(ush) + ush.ush_count * rec);
	for (uint32_t i = 0; i < ush.ush_count; i++, p += rec)
		if (strcmp(((const struct uma_type_header *)p)->uth_name,
		    name) == 0) {
			*upsp = (const void *)(p +
			    sizeof(struct uma_type_header));
			return ((const void *)p);
		}
	CHECK(0);
	return (NULL);
}

static void
check_zone(const char *buf, size_t len, uma_zone_t zone)
{
	const struct uma_percpu_stat *ups;
	const struct uma_type_header *uth;
	struct uma__zone_stat zs;
	uint64_t allocs, frees, cfree = 0;
	int ncpus = uma__ncpus();

	uth = stream_find(buf, len, uma_zone_name(zone), &ups);
	uma__zone_stat(zone, &zs, NULL, 0);
	allocs = uth->uth_allocs;
	frees = uth->uth_frees;
	for (int i = 0; i < ncpus; i++) {
		allocs += ups[i].ups_allocs;
		frees += ups[i].ups_frees;
		cfree += ups[i].ups_cache_free;
	}
	CHECK_EQ(allocs, zs.zs_allocs);
	CHECK_EQ(frees, zs.zs_frees);
	CHECK_EQ(cfree, zs.zs_cpu_free);
	CHECK_EQ(uth->uth_fails, zs.zs_fails);
	CHECK_EQ(uth->uth_sleeps, zs.zs_sleeps);
	CHECK_EQ(uth->uth_size, zs.zs_size);
	CHECK_EQ(uth->uth_rsize, zs.zs_rsize);
	CHECK_EQ(uth->uth_align, zs.zs_align);
	CHECK_EQ(uth->uth_limit, zs.zs_limit);
	CHECK_EQ(uth->uth_pages, zs.zs_pages);
	CHECK_EQ(uth->uth_keg_free, zs.zs_keg_free);
	CHECK_EQ(uth->uth_zone_free, zs.zs_zone_free);
	CHECK_EQ(uth->uth_zone_flags, zs.zs_secondary ? UTH_ZONE_SECONDARY :
	    0);
}

struct work {
	uma_zone_t	 w_zone;
	int		 w_cpu;
	int		 w_allocs;
	int		 w_frees;
};

static void *
work_main(void *arg)
{
	struct work *w = arg;
	cpu_set_t set;
	void *items[64];

	CPU_ZERO(&set);
	CPU_SET(w->w_cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
	for (int i = 0; i < w->w_allocs; i++)
		items[i] = uma_zalloc(w->w_zone, M_WAITOK);
	for (int i = 0; i < w->w_frees; i++)
		uma_zfree(w->w_zone, items[i]);
	return (NULL);
}

static int
usable_cpu(int nth)
{
	cpu_set_t set;
	int seen = 0, last = 0;

	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			last = c;
			if (seen++ == nth)
				return (c);
		}
	return (last);
}

UMA_TEST(stream_parses_to_zone_counts)
{
	uma_zone_t prim = uma_zcreate("stream prim", 200, NULL, NULL, NULL,
	    NULL, UMA_ALIGN_PTR, 0);
	uma_zone_t sec = uma_zsecond_create("stream sec", NULL, NULL, NULL,
	    NULL, prim);
	uma_zone_t lim = uma_zcreate("stream lim", 64, NULL, NULL, NULL, NULL,
	    0, UMA_ZONE_NOBUCKET);
	struct work w[4] = {
		{ prim, usable_cpu(0), 60, 25 }, { prim, usable_cpu(1), 33, 33 },
		{ sec, usable_cpu(0), 17, 4 }, { sec, usable_cpu(1), 40, 39 },
	};
	const struct uma_type_header *up, *us;
	const struct uma_percpu_stat *ups;
	struct uma_stream_header ush;
	pthread_t td[4];
	void *a, *b;
	size_t len, cap;
	char *buf;

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&td[i], NULL, work_main, &w[i]) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(td[i], NULL);
	uma_zone_set_max(lim, 1);
	a = uma_zalloc(lim, M_NOWAIT);
	b = uma_zalloc(lim, M_NOWAIT);
	CHECK(a != NULL && b == NULL);

	buf = stream_read(&len, &cap);
	memcpy(&ush, buf, sizeof(ush));
	CHECK_EQ(ush.ush_version, UMA_STREAM_VERSION);
	CHECK_EQ(ush.ush_maxcpus, uma__ncpus());
	CHECK_EQ(ush.ush_count, uma__zone_count(1));
	check_zone(buf, len, prim);
	check_zone(buf, len, sec);
	check_zone(buf, len, lim);
	up = stream_find(buf, len, "stream prim", &ups);
	us = stream_find(buf, len, "stream sec", &ups);
	CHECK_EQ(up->uth_zone_flags, 0);
	CHECK_EQ(us->uth_zone_flags, UTH_ZONE_SECONDARY);
	CHECK_EQ(up->uth_keg_free, us->uth_keg_free);
	CHECK_EQ(up->uth_pages, us->uth_pages);
	us = stream_find(buf, len, "stream lim", &ups);
	CHECK_EQ(us->uth_fails, 1);
	CHECK_EQ(us->uth_limit, 1);
	stream_find(buf, len, "UMA Zones", &ups);	/* internal zones too */
	munmap(buf, cap);

	/* A short buffer: ENOMEM and the size needed. */
	len = sizeof(ush) + 10;
	char small[sizeof(ush) + 10];
	errno = 0;
	CHECK(uma_sysctlbyname("vm.zone_stats", small, &len, NULL, 0) == -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(len, sizeof(ush) + (size_t)uma__zone_count(1) *
	    (sizeof(struct uma_type_header) + (size_t)uma__ncpus() *
	    sizeof(struct uma_percpu_stat)));
	uma_zfree(lim, a);
}

#define	NZONES	1000
#define	NTHREADS 4

static uma_zone_t zones[NZONES];
static atomic_bool stop;
static atomic_ulong ops;

static void *
churn_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	void *items[16];
	uma_zone_t z;

	while (!atomic_load(&stop)) {
		z = zones[rand_r(&seed) % NZONES];
		for (int i = 0; i < 16; i++)
			items[i] = uma_zalloc(z, M_WAITOK);
		for (int i = 0; i < 16; i++)
			uma_zfree(z, items[i]);
		atomic_fetch_add(&ops, 16);
	}
	return (NULL);
}

UMA_TEST(stream_1000_zones_while_allocating)
{
	pthread_t td[NTHREADS];
	char name[NZONES][24];
	double t0, dt, best = 1e9, worst = 0;
	unsigned long before;
	size_t len, cap;
	char *buf;

	for (int i = 0; i < NZONES; i++) {
		snprintf(name[i], sizeof(name[i]), "churn-%d", i);
		zones[i] = uma_zcreate(name[i], 16 + (size_t)(i % 64) * 8,
		    NULL, NULL, NULL, NULL, 0, 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&td[i], NULL, churn_main,
		    (void *)(uintptr_t)(i + 1)) == 0);
	for (int r = 0; r < 20; r++) {
		before = atomic_load(&ops);
		t0 = test_now();
		buf = stream_read(&len, &cap);
		dt = test_now() - t0;
		best = dt < best ? dt : best;
		worst = dt > worst ? dt : worst;
		CHECK(len > (size_t)NZONES * sizeof(struct uma_type_header));
		munmap(buf, cap);
		while (atomic_load(&ops) == before)	/* allocators move on */
			sched_yield();
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(td[i], NULL);
	fprintf(stderr, "vm.zone_stats, %d zones, %d CPUs, %zu bytes: "
	    "best %.3f ms, worst %.3f ms (probe + read)\n", uma__zone_count(1),
	    uma__ncpus(), len, best * 1e3, worst * 1e3);
	CHECK(worst < 1.0);
	for (int i = 0; i < NZONES; i++)
		uma_zdestroy(zones[i]);
}
