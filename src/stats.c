/*
 * stats.c - the statistics snapshot of one zone (see stats.h).
 *
 * Layer: reads every layer, changes none, and takes no lock a fast path
 * takes: per-CPU counters come from cache.c's lock-free reader, zone and
 * keg counters are atomics.  Under concurrency the numbers are a close,
 * not a simultaneous, picture; once the zone is quiet they are exact.
 */
#include <string.h>

#include "cache.h"
#include "init.h"
#include "stats.h"
#include "sysctl_int.h"
#include "vm.h"

int
uma__zone_stat(uma_zone_t zone, struct uma__zone_stat *zs,
    struct uma__cpu_stat *cs, int ncpus)
{
	uma_keg_t keg = zone->uz_keg;
	uint64_t allocs, frees, cached;

	memset(zs, 0, sizeof(*zs));
	snprintf(zs->zs_name, sizeof(zs->zs_name), "%s", zone->uz_name);
	snprintf(zs->zs_keg_name, sizeof(zs->zs_keg_name), "%s", keg->uk_name);
	zs->zs_size = keg->uk_size;
	zs->zs_rsize = keg->uk_rsize;
	zs->zs_align = keg->uk_align;
	zs->zs_ipers = keg->uk_ipers;
	zs->zs_ppera = keg->uk_ppera;
	zs->zs_flags = zone->uz_flags & 0xffff;
	zs->zs_offpage = (keg->uk_flags & UMA_ZFLAG_OFFPAGE) != 0;
	zs->zs_efficiency = (uint32_t)((uint64_t)keg->uk_ipers * keg->uk_rsize *
	    uma_keg_copies(keg) * 100 / ((uint64_t)keg->uk_ppera *
	    UMA_PAGE_SIZE +
	    (zs->zs_offpage ? keg->uk_hdrsize : 0)));
	zs->zs_bucket_size = zone->uz_gate & UZ_GATE_NOCACHE ? 0 :
	    zone->uz_bucket_size;
	zs->zs_secondary = (zone->uz_flags & UMA_ZONE_SECONDARY) != 0 &&
	    LIST_FIRST(&keg->uk_zones) != zone;
	zs->zs_limit = atomic_load(&zone->uz_max_items);
	zs->zs_items = atomic_load(&zone->uz_items);
	zs->zs_pages = atomic_load(&keg->uk_pages);
	zs->zs_reserve = keg->uk_reserve;
	zs->zs_keg_free = atomic_load(&keg->uk_free_items);
	zs->zs_keg_free_slabs = atomic_load(&keg->uk_free_slabs);
	zs->zs_zone_free = atomic_load(&zone->uz_nitems) +
	    atomic_load(&zone->uz_nslot);
	zs->zs_sleepers = atomic_load(&zone->uz_sleepers);
	zs->zs_allocs = atomic_load(&zone->uz_allocs);
	zs->zs_frees = atomic_load(&zone->uz_frees);
	zs->zs_fails = atomic_load(&zone->uz_fails);
	zs->zs_sleeps = atomic_load(&zone->uz_sleeps);
	if (cs != NULL)
		memset(cs, 0, sizeof(*cs) * (size_t)(ncpus > 0 ? ncpus : 0));
	for (int cpu = 0; cpu < uma.ug_ncpus; cpu++) {
		uma__cache_counts(zone, cpu, &allocs, &frees, &cached);
		zs->zs_allocs += allocs;
		zs->zs_frees += frees;
		zs->zs_cpu_free += cached;
		if (cs != NULL && cpu < ncpus) {
			cs[cpu].cs_allocs = allocs;
			cs[cpu].cs_frees = frees;
			cs[cpu].cs_free = cached;
		}
	}
	return (0);
}

/* See stats.h */
int
uma__ncpus(void)
{
	uma_ensure_started();
	return (uma.ug_ncpus);
}

/* See stats.h */
int
uma__rseq_active(void)
{
	uma_ensure_started();
	return (uma.ug_rseq);
}

int
uma__zone_foreach(int (*fn)(uma_zone_t, void *), void *arg, int internal)
{
	uma_zone_t zone;
	int error = 0;

	uma_ensure_started();
	pthread_rwlock_rdlock(&uma.ug_lock);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		if (!internal && zone->uz_flags & UMA_ZFLAG_INTERNAL)
			continue;
		if ((error = fn(zone, arg)) != 0)
			break;
	}
	pthread_rwlock_unlock(&uma.ug_lock);
	return (error);
}

int
uma__zone_count(int internal)
{
	int n;

	uma_ensure_started();
	pthread_rwlock_rdlock(&uma.ug_lock);
	n = uma.ug_nzones + (internal ? uma.ug_nzones_internal : 0);
	pthread_rwlock_unlock(&uma.ug_lock);
	return (n);
}

/* The nodes of the zone layer as a whole. */

static int
sysctl_handle_ncpus(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int v = uma__ncpus() - (oid->oid_arg != NULL ? 1 : 0);

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

static int
sysctl_handle_zone_count(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int v = uma__zone_count(1);

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

UMA_SYSCTL_PROC(sysctl_maxcpus, "kern.smp.maxcpus", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RD, "I", sysctl_handle_ncpus, NULL,
    "CPUs that can exist (per-CPU records in each stream)");
UMA_SYSCTL_PROC(sysctl_maxid, "kern.smp.maxid", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RD, "I", sysctl_handle_ncpus, (void *)1,
    "Highest CPU id that can exist (kern.smp.maxcpus - 1)");
UMA_SYSCTL_PROC(sysctl_zone_count, "vm.zone_count", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RD, "I", sysctl_handle_zone_count, NULL,
    "Number of UMA zones, internal ones included");
UMA_SYSCTL_PROC(sysctl_zone_stats, "vm.zone_stats", UMA_CTLTYPE_OPAQUE,
    UMA_CTLFLAG_RD, "S,uma_type_header", uma__zone_stats_handler, NULL,
    "Zone statistics stream (struct uma_stream_header, <uma/stream.h>)");
UMA_SYSCTL_SUBTREE(sysctl_vm_uma, "vm.uma", uma__zone_sysctl_req,
    uma__zone_sysctl_list);
