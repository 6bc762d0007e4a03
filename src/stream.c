/*
 * stream.c - the vm.zone_stats stream: FreeBSD's version-1 records
 * (<uma/stream.h>) for every zone, internal ones included.
 *
 * Layer: sysctl; reads zones only through stats.h.  Holds the zone list's
 * read lock while it walks (zones are not created or destroyed meanwhile)
 * and takes no lock of a cache, zone or keg, so allocation never waits for
 * it.  No malloc: the per-CPU snapshot is on the stack, or mmap'ed when
 * there are many CPUs.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <uma/stream.h>

#include "init.h"
#include "stats.h"
#include "sysctl_int.h"

#define	STREAM_STACK_CPUS	256

/*
 * The type header, field by field: X(field, value), value an expression of
 * zs (struct uma__zone_stat *) and of cpu_allocs / cpu_frees (the sums of
 * the per-CPU records, which the header's counters exclude so that header
 * plus per-CPU records add up to the totals, as in FreeBSD).  32-bit
 * fields saturate.
 */
#define	UMA_TYPE_HEADER_FIELDS(X)					\
	X(uth_align, zs->zs_align)					\
	X(uth_size, zs->zs_size)					\
	X(uth_rsize, zs->zs_rsize)					\
	X(uth_maxpages, zs->zs_ipers == 0 ? 0 :				\
	    howmany(zs->zs_limit, zs->zs_ipers) * zs->zs_ppera)	\
	X(uth_limit, zs->zs_limit)					\
	X(uth_pages, zs->zs_pages)					\
	X(uth_keg_free, zs->zs_keg_free)				\
	X(uth_zone_free, zs->zs_zone_free)				\
	X(uth_bucketsize, zs->zs_bucket_size)				\
	X(uth_zone_flags, zs->zs_secondary ? UTH_ZONE_SECONDARY : 0)	\
	X(uth_allocs, zs->zs_allocs - cpu_allocs)			\
	X(uth_frees, zs->zs_frees - cpu_frees)				\
	X(uth_fails, zs->zs_fails)					\
	X(uth_sleeps, zs->zs_sleeps)					\
	X(uth_xdomain, 0)

/* The per-CPU record: X(field, value), value an expression of cs. */
#define	UMA_PERCPU_FIELDS(X)						\
	X(ups_allocs, cs->cs_allocs)					\
	X(ups_frees, cs->cs_frees)					\
	X(ups_cache_free, cs->cs_free)

struct stream_walk {
	struct uma__sysctl_req *sw_req;
	struct uma__cpu_stat *sw_cs;
	int		 sw_ncpus;
	uint32_t	 sw_count;
	int		 sw_error;
};

static uint64_t
stream_sat(uint64_t v, uint64_t max)
{
	return (v > max ? max : v);
}

static void
stream_type_header(struct uma_type_header *uth,
    const struct uma__zone_stat *zs, const struct uma__cpu_stat *cs0,
    int ncpus)
{
	uint64_t cpu_allocs = 0, cpu_frees = 0;

	for (int i = 0; i < ncpus; i++) {
		cpu_allocs += cs0[i].cs_allocs;
		cpu_frees += cs0[i].cs_frees;
	}
	memset(uth, 0, sizeof(*uth));
	memcpy(uth->uth_name, zs->zs_name, sizeof(uth->uth_name));
	uth->uth_name[UTH_MAX_NAME - 1] = '\0';
#define	X(field, value)							\
	uth->field = (__typeof__(uth->field))stream_sat((uint64_t)(value), \
	    (__typeof__(uth->field))-1);
	UMA_TYPE_HEADER_FIELDS(X)
#undef X
}

static int
stream_zone(uma_zone_t zone, void *arg)
{
	struct stream_walk *sw = arg;
	struct uma__sysctl_req *req = sw->sw_req;
	struct uma__zone_stat zs;
	struct uma_type_header uth;
	struct uma_percpu_stat ups;
	const struct uma__cpu_stat *cs;

	sw->sw_count++;
	if (sw->sw_error != 0) {	/* out of room: only count */
		req->oldidx += sizeof(uth) + sizeof(ups) * (size_t)sw->sw_ncpus;
		return (0);
	}
	uma__zone_stat(zone, &zs, sw->sw_cs, sw->sw_ncpus);
	stream_type_header(&uth, &zs, sw->sw_cs, sw->sw_ncpus);
	sw->sw_error = uma__sysctl_out(req, &uth, sizeof(uth));
	memset(&ups, 0, sizeof(ups));
	for (int i = 0; i < sw->sw_ncpus; i++) {
		cs = &sw->sw_cs[i];
#define	X(field, value)	ups.field = (value);
		UMA_PERCPU_FIELDS(X)
#undef X
		if (sw->sw_error == 0)
			sw->sw_error = uma__sysctl_out(req, &ups, sizeof(ups));
		else
			req->oldidx += sizeof(ups);
	}
	return (0);
}

/* See stats.h */
int
uma__zone_stats_handler(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	struct uma__cpu_stat stack_cs[STREAM_STACK_CPUS];
	struct uma_stream_header ush = { .ush_version = UMA_STREAM_VERSION };
	struct stream_walk sw = { .sw_req = req, .sw_cs = stack_cs };
	size_t start = req->oldidx, cslen = 0;

	sw.sw_ncpus = uma__ncpus();
	ush.ush_maxcpus = (uint32_t)sw.sw_ncpus;
	if (req->oldp == NULL) {	/* size probe: no snapshot needed */
		req->oldidx += sizeof(ush) + (size_t)uma__zone_count(1) *
		    (sizeof(struct uma_type_header) +
		    sizeof(struct uma_percpu_stat) * (size_t)sw.sw_ncpus);
		return (0);
	}
	if (sw.sw_ncpus > STREAM_STACK_CPUS) {
		cslen = sizeof(*sw.sw_cs) * (size_t)sw.sw_ncpus;
		sw.sw_cs = mmap(NULL, cslen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sw.sw_cs == MAP_FAILED)
			return (ENOMEM);
	}
	sw.sw_error = uma__sysctl_out(req, &ush, sizeof(ush));
	uma__zone_foreach(stream_zone, &sw, 1);
	/* The count is known only now: patch it into the header. */
	ush.ush_count = sw.sw_count;
	if (sw.sw_error == 0)
		memcpy((char *)req->oldp + start, &ush, sizeof(ush));
	if (cslen != 0)
		munmap(sw.sw_cs, cslen);
	return (sw.sw_error);
}
