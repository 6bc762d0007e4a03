/*
 * kmem_cost.c - the kmem report's cheap tier takes no lock an allocation
 * takes: with every CPU cache lock, zone lock and keg lock of the process
 * held (in locked mode the hit path itself takes the cache locks), another
 * thread still reads it 10,000 times, and each read adds up.  The extended
 * tier, which does take those locks one at a time, then reads too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <uma/uma.h>

#include "harness.h"
#include "internal.h"
#include "kmem.h"
#include "kmem_test.h"
#include "stats.h"

#define	READS	10000

static void *
reader(void *arg)
{
	struct uma_kmem_stats uks;

	for (int i = 0; i < READS; i++) {
		uma__kmem_stats(&uks);
		if (kmem_parts(&uks) != (int64_t)uks.uks_committed)
			return (NULL);
	}
	*(int *)arg = READS;
	return (arg);
}

/*
 * Take (lock != 0) or drop every cache, zone and keg lock, in the lock
 * order, with the zone list held for reading from the first to the last
 * (readers of it, the reader thread among them, still get in).
 */
static void
all_locks(int lock)
{
	uma_zone_t zone;
	uma_keg_t keg;

	if (lock)
		pthread_rwlock_rdlock(&uma.ug_lock);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		if (zone->uz_cpu != uma__closed_caches())
			for (int cpu = 0; cpu < uma.ug_ncpus; cpu++) {
				if (lock)
					uma_lock(&zone->uz_cpu[cpu].uc_lock);
				else
					uma_unlock(&zone->uz_cpu[cpu].uc_lock);
			}
		if (lock)
			pthread_mutex_lock(&zone->uz_lock);
		else
			pthread_mutex_unlock(&zone->uz_lock);
	}
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link) {
		if (lock)
			pthread_mutex_lock(&keg->uk_lock);
		else
			pthread_mutex_unlock(&keg->uk_lock);
	}
	if (!lock)
		pthread_rwlock_unlock(&uma.ug_lock);
}

UMA_TEST(kmem_cheap_takes_no_cache_zone_or_keg_lock)
{
	struct uma_kmem_stats_extended *ukx;
	struct timespec ts;
	void *items[256], *ret = NULL;
	pthread_t td;
	uma_zone_t z;
	int done = 0;

	test_tunables_add("vm.uma_rseq=0,vm.uma_timeout=86400,"
	    "vm.uma_idle_pass_mb=0");
	z = uma_zcreate("cost_locked", 96, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (int i = 0; i < 256; i++)
		CHECK((items[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < 256; i += 2)
		uma_zfree(z, items[i]);
	CHECK(uma__rseq_active() == 0);
	all_locks(1);
	CHECK(pthread_create(&td, NULL, reader, &done) == 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	CHECK_EQ(pthread_timedjoin_np(td, &ret, &ts), 0);
	all_locks(0);
	CHECK(ret == &done && done == READS);
	ukx = kmem_extended();
	CHECK(ukx->ukx_stats.uks_inuse_zones >= 128 * 96);
	free(ukx);
}
