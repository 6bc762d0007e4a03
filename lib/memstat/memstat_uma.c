/*
 * memstat_uma.c - the "vm.zone_stats" stream: validation, the per-zone
 * arithmetic (FreeBSD's memstat_sysctl_uma), and the uma back ends.
 *
 * Layout (version 1, native endianness): a uma_stream_header, then for
 * each of ush_count zones a uma_type_header and ush_maxcpus
 * uma_percpu_stat records.  The buffer must hold exactly that.
 */
#include <errno.h>
#include <stddef.h>

#include "memstat_int.h"
#include "memstat_stream.h"

#define	UTH(f)	offsetof(struct uma_type_header, f)
#define	UPS(f)	offsetof(struct uma_percpu_stat, f)

static void
uma_fill_percpu(struct memory_type *mtp, const unsigned char *ups,
    uint32_t maxcpus)
{
	struct memory_type_stats *st = &mtp->mt_stats;

	for (uint32_t cpu = 0; cpu < maxcpus; cpu++) {
		struct memory_type_percpu *p = &mtp->mt_percpu[cpu];

		p->mtp_numallocs = _memstat_u64(ups, UPS(ups_allocs));
		p->mtp_numfrees = _memstat_u64(ups, UPS(ups_frees));
		p->mtp_free = _memstat_u64(ups, UPS(ups_cache_free));
		p->mtp_memalloced = p->mtp_numallocs * st->mts_size;
		p->mtp_memfreed = p->mtp_numfrees * st->mts_size;
		st->mts_numallocs += p->mtp_numallocs;
		st->mts_numfrees += p->mtp_numfrees;
		st->mts_free += p->mtp_free;
		ups += sizeof(struct uma_percpu_stat);
	}
}

static void
uma_fill(struct memory_type *mtp, const unsigned char *uth, uint32_t maxcpus)
{
	struct memory_type_stats *st = &mtp->mt_stats;

	st->mts_size = _memstat_u32(uth, UTH(uth_size));
	st->mts_rsize = _memstat_u32(uth, UTH(uth_rsize));
	st->mts_numallocs = _memstat_u64(uth, UTH(uth_allocs));
	st->mts_numfrees = _memstat_u64(uth, UTH(uth_frees));
	st->mts_failures = _memstat_u64(uth, UTH(uth_fails));
	st->mts_sleeps = _memstat_u64(uth, UTH(uth_sleeps));
	st->mts_xdomain = _memstat_u64(uth, UTH(uth_xdomain));
	uma_fill_percpu(mtp, uth + sizeof(struct uma_type_header), maxcpus);

	/* Unlocked snapshots may see a free before its alloc (bug 3). */
	if (st->mts_numallocs < st->mts_numfrees)
		st->mts_numallocs = st->mts_numfrees;
	st->mts_count = st->mts_numallocs - st->mts_numfrees;
	st->mts_memalloced = st->mts_numallocs * st->mts_size;
	st->mts_memfreed = st->mts_numfrees * st->mts_size;
	st->mts_bytes = st->mts_memalloced - st->mts_memfreed;
	st->mts_countlimit = _memstat_u32(uth, UTH(uth_limit));
	st->mts_byteslimit = st->mts_countlimit * st->mts_size;
	st->mts_zonefree = _memstat_u32(uth, UTH(uth_zone_free));
	st->mts_free += st->mts_zonefree;

	/*
	 * Every zone of a keg reports the same keg free items and pages;
	 * they belong to the primary zone alone (bug 1).
	 */
	st->mts_secondary = (_memstat_u32(uth, UTH(uth_zone_flags)) &
	    UTH_ZONE_SECONDARY) != 0;
	if (!st->mts_secondary) {
		st->mts_kegfree = _memstat_u32(uth, UTH(uth_keg_free));
		st->mts_free += st->mts_kegfree;
		st->mts_pages = _memstat_u32(uth, UTH(uth_pages));
	}
}

int
memstat_buf_uma(struct memory_type_list *list, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct memstat_stream mss = {
		.mss_allocator = ALLOCATOR_UMA,
		.mss_fill = uma_fill,
	};
	uint64_t need;
	int error;

	if (buf == NULL || len < sizeof(struct uma_stream_header))
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	if (_memstat_u32(p, offsetof(struct uma_stream_header,
	    ush_version)) != UMA_STREAM_VERSION)
		return (_memstat_fail(list, MEMSTAT_ERROR_VERSION));
	mss.mss_maxcpus = _memstat_u32(p, offsetof(struct uma_stream_header,
	    ush_maxcpus));
	mss.mss_count = _memstat_u32(p, offsetof(struct uma_stream_header,
	    ush_count));
	if (mss.mss_maxcpus == 0 || mss.mss_maxcpus > MEMSTAT_MAX_CPUS)
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	mss.mss_recsize = sizeof(struct uma_type_header) +
	    (size_t)mss.mss_maxcpus * sizeof(struct uma_percpu_stat);
	/* < 2^32 records of < 2^23 bytes: no 64-bit overflow. */
	need = sizeof(struct uma_stream_header) +
	    (uint64_t)mss.mss_count * mss.mss_recsize;
	if (need != len)
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	mss.mss_first = p + sizeof(struct uma_stream_header);
	error = _memstat_refresh(list, &mss);
	if (error != 0)
		return (_memstat_fail(list, error));
	return (0);
}

int
memstat_sysctl_uma(struct memory_type_list *list, int flags)
{
	return (_memstat_read_source(list, memstat_source_self(),
	    memstat_source_uma));
}

int
memstat_pid_uma(struct memory_type_list *list, pid_t pid, int flags)
{
	return (_memstat_read_source(list, memstat_source_pid(pid),
	    memstat_source_uma));
}

int
memstat_socket_uma(struct memory_type_list *list, const char *path,
    int flags)
{
	return (_memstat_read_source(list, memstat_source_socket(path),
	    memstat_source_uma));
}

int
memstat_file_uma(struct memory_type_list *list, const char *path, int flags)
{
	return (_memstat_read_source(list, memstat_source_file(path),
	    memstat_source_uma));
}

int
memstat_source_uma(struct memory_type_list *list, struct memstat_source *src)
{
	return (_memstat_source_stream(list, src, ALLOCATOR_UMA, 0));
}
