/*
 * stats.h - the per-zone statistics snapshot (internal).
 *
 * One function fills a plain struct for one zone, without taking any lock
 * that an allocation's fast path takes.  The stream writer, the sysctl tree
 * and the tests read zones through it and through nothing else.
 */
#ifndef _UMA_STATS_H_
#define	_UMA_STATS_H_

#include <stdint.h>

#include <uma/uma.h>

#define	UMA__MAXNAME	32

/*
 * Counters of one zone.  Once the zone is quiet:
 *   allocs - frees == items allocated and not freed, and
 *   allocs == sum of the per-CPU allocs + zone-level allocs (same for frees).
 * Items the allocator moves on its own (bucket drains, teardown, unwinding a
 * failed ctor) are never counted as frees.
 */
struct uma__zone_stat {
	char		zs_name[UMA__MAXNAME];
	char		zs_keg_name[UMA__MAXNAME];	/* primary's name */
	uint32_t	zs_size;	/* requested item size */
	uint32_t	zs_rsize;	/* real item size */
	uint32_t	zs_align;	/* alignment mask */
	uint32_t	zs_ipers;	/* items per slab */
	uint32_t	zs_ppera;	/* pages per slab */
	uint32_t	zs_flags;	/* UMA_ZONE_* given at creation */
	uint32_t	zs_offpage;	/* 1 if the slab header is off-page */
	uint32_t	zs_efficiency;	/* percent of slab bytes in items */
	uint32_t	zs_bucket_size;	/* current per-CPU bucket size */
	uint32_t	zs_secondary;	/* not the first zone of its keg */
	uint64_t	zs_limit;	/* max items, 0 = none */
	uint64_t	zs_items;	/* items counted against the limit */
	uint64_t	zs_pages;	/* keg pages */
	uint64_t	zs_reserve;	/* keg reserve */
	uint64_t	zs_keg_free;	/* free items in the keg's slabs */
	uint64_t	zs_keg_free_slabs;
	uint64_t	zs_zone_free;	/* items in the zone's full buckets */
	uint64_t	zs_cpu_free;	/* items in per-CPU buckets */
	uint64_t	zs_allocs;
	uint64_t	zs_frees;
	uint64_t	zs_fails;
	uint64_t	zs_sleeps;
	uint64_t	zs_sleepers;
};

struct uma__cpu_stat {
	uint64_t	cs_allocs;
	uint64_t	cs_frees;
	uint64_t	cs_free;	/* items in this CPU's buckets */
};

/* CPUs that can exist: the length of every per-CPU array. */
int	uma__ncpus(void);

/*
 * Fill *zs and, if cs is not NULL, cs[0 .. ncpus-1] (CPUs beyond the
 * configured ones are zero-filled).  Returns 0.
 */
int	uma__zone_stat(uma_zone_t zone, struct uma__zone_stat *zs,
	    struct uma__cpu_stat *cs, int ncpus);

/*
 * Call fn for every zone (internal zones included when `internal` is set),
 * in creation order, under the zone list's read lock: fn must not create or
 * destroy zones.  Stops early and returns fn's value if it is not 0.
 */
int	uma__zone_foreach(int (*fn)(uma_zone_t, void *), void *arg,
	    int internal);

/* Number of zones (the same set as uma__zone_foreach). */
int	uma__zone_count(int internal);

/* 1 if per-CPU caches run on restartable sequences, 0 if on locks. */
int	uma__rseq_active(void);

/*
 * The statistics' sysctl nodes, registered by stats.c so that a program
 * linking any of it gets them all: vm.zone_stats (stream.c) and the
 * vm.uma.<zone> subtree (sysctl_zone.c).
 */
struct uma__sysctl_req;
struct uma__sysctl_oid;
struct uma_sysctl_info;
int	uma__zone_stats_handler(struct uma__sysctl_req *req,
	    const struct uma__sysctl_oid *oid);
int	uma__zone_sysctl_req(const char *rest, struct uma__sysctl_req *req);
int	uma__zone_sysctl_list(int (*fn)(const struct uma_sysctl_info *,
	    void *), void *arg);

#endif /* !_UMA_STATS_H_ */
