/*
 * memstat_malloc.c - the "kern.malloc_stats" stream: validation, the
 * per-type sums (FreeBSD's memstat_sysctl_malloc), the malloc back ends
 * and the malloc(9) size-class table.
 *
 * Layout (version 1, native endianness): a malloc_type_stream_header, then
 * for each of mtsh_count types a malloc_type_header and mtsh_maxcpus
 * malloc_type_stats records.  The buffer must hold exactly that.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "memstat_int.h"
#include "memstat_stream.h"

#define	MTS(f)	offsetof(struct malloc_type_stats, f)

/*
 * The size classes of the source read last: bit i of a size mask is class
 * i, and only the source knows its classes (uma's 48 are not FreeBSD's
 * 14).  Read from its vm.malloc.zone_count and vm.malloc.zone_sizes, as
 * FreeBSD's memstat_malloc_zone_init() does, with every malloc stream;
 * empty until then, and after a source that has no table.
 */
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t zones_count;
static size_t zones_size[MEMSTAT_MALLOC_MAXZONES];

size_t
memstat_malloc_zone_get_count(void)
{
	size_t n;

	pthread_mutex_lock(&zones_lock);
	n = zones_count;
	pthread_mutex_unlock(&zones_lock);
	return (n);
}

size_t
memstat_malloc_zone_get_size(size_t n)
{
	size_t size = 0;

	pthread_mutex_lock(&zones_lock);
	if (n < zones_count)
		size = zones_size[n];
	pthread_mutex_unlock(&zones_lock);
	return (size);
}

/* See memstat_int.h */
int
_memstat_malloc_zones_read(struct memstat_source *src,
    struct memstat_zone_table *zt)
{
	void *cbuf = NULL, *sbuf = NULL;
	size_t clen, slen, n;
	int error, err;

	zt->mzt_count = 0;
	error = _memstat_fetch(src, "vm.malloc.zone_count", &cbuf, &clen, &err);
	if (error == 0)
		error = _memstat_fetch(src, "vm.malloc.zone_sizes", &sbuf,
		    &slen, &err);
	if (error != 0) {
		free(cbuf);
		return (err == ENOENT ? 0 : error);
	}
	n = slen / sizeof(int32_t);
	if (clen != sizeof(int32_t) || slen % sizeof(int32_t) != 0 ||
	    n == 0 || n > MEMSTAT_MALLOC_MAXZONES || _memstat_u32(cbuf, 0) != n)
		error = MEMSTAT_ERROR_DATAERROR;
	for (size_t i = 0; error == 0 && i < n; i++) {
		zt->mzt_size[i] = _memstat_u32(sbuf, i * sizeof(int32_t));
		if (zt->mzt_size[i] == 0 || zt->mzt_size[i] > INT32_MAX ||
		    (i > 0 && zt->mzt_size[i] <= zt->mzt_size[i - 1]))
			error = MEMSTAT_ERROR_DATAERROR;
	}
	if (error == 0)
		zt->mzt_count = n;
	free(cbuf);
	free(sbuf);
	return (error);
}

/* See memstat_int.h */
void
_memstat_malloc_zones_set(const struct memstat_zone_table *zt)
{
	pthread_mutex_lock(&zones_lock);
	zones_count = zt->mzt_count;
	memcpy(zones_size, zt->mzt_size, zt->mzt_count * sizeof(size_t));
	pthread_mutex_unlock(&zones_lock);
}

int
memstat_malloc_zone_used(const struct memory_type *mtp, size_t n)
{
	return (n < 64 && (memstat_get_sizemask(mtp) & (1ull << n)) != 0);
}

static void
malloc_fill(struct memory_type *mtp, const unsigned char *mth,
    uint32_t maxcpus)
{
	struct memory_type_stats *st = &mtp->mt_stats;
	const unsigned char *mts = mth + sizeof(struct malloc_type_header);

	for (uint32_t cpu = 0; cpu < maxcpus; cpu++) {
		struct memory_type_percpu *p = &mtp->mt_percpu[cpu];

		p->mtp_memalloced = _memstat_u64(mts, MTS(mts_memalloced));
		p->mtp_memfreed = _memstat_u64(mts, MTS(mts_memfreed));
		p->mtp_numallocs = _memstat_u64(mts, MTS(mts_numallocs));
		p->mtp_numfrees = _memstat_u64(mts, MTS(mts_numfrees));
		p->mtp_sizemask = _memstat_u64(mts, MTS(mts_size));
		st->mts_memalloced += p->mtp_memalloced;
		st->mts_memfreed += p->mtp_memfreed;
		st->mts_numallocs += p->mtp_numallocs;
		st->mts_numfrees += p->mtp_numfrees;
		st->mts_sizemask |= p->mtp_sizemask;
		mts += sizeof(struct malloc_type_stats);
	}
	/* A free may be seen before its alloc on another CPU (bug 3). */
	if (st->mts_numallocs < st->mts_numfrees)
		st->mts_numallocs = st->mts_numfrees;
	if (st->mts_memalloced < st->mts_memfreed)
		st->mts_memalloced = st->mts_memfreed;
	st->mts_bytes = st->mts_memalloced - st->mts_memfreed;
	st->mts_count = st->mts_numallocs - st->mts_numfrees;
}

int
memstat_buf_malloc(struct memory_type_list *list, const void *buf,
    size_t len)
{
	const unsigned char *p = buf;
	struct memstat_stream mss = {
		.mss_allocator = ALLOCATOR_MALLOC,
		.mss_fill = malloc_fill,
	};
	uint64_t need;
	int error;

	if (buf == NULL || len < sizeof(struct malloc_type_stream_header))
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	if (_memstat_u32(p, offsetof(struct malloc_type_stream_header,
	    mtsh_version)) != MALLOC_TYPE_STREAM_VERSION)
		return (_memstat_fail(list, MEMSTAT_ERROR_VERSION));
	mss.mss_maxcpus = _memstat_u32(p,
	    offsetof(struct malloc_type_stream_header, mtsh_maxcpus));
	mss.mss_count = _memstat_u32(p,
	    offsetof(struct malloc_type_stream_header, mtsh_count));
	if (mss.mss_maxcpus == 0 || mss.mss_maxcpus > MEMSTAT_MAX_CPUS)
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	mss.mss_recsize = sizeof(struct malloc_type_header) +
	    (size_t)mss.mss_maxcpus * sizeof(struct malloc_type_stats);
	need = sizeof(struct malloc_type_stream_header) +
	    (uint64_t)mss.mss_count * mss.mss_recsize;
	if (need != len)
		return (_memstat_fail(list, MEMSTAT_ERROR_DATAERROR));
	mss.mss_first = p + sizeof(struct malloc_type_stream_header);
	error = _memstat_refresh(list, &mss);
	if (error != 0)
		return (_memstat_fail(list, error));
	return (0);
}

int
memstat_sysctl_malloc(struct memory_type_list *list, int flags)
{
	return (_memstat_read_source(list, memstat_source_self(),
	    memstat_source_malloc));
}

int
memstat_pid_malloc(struct memory_type_list *list, pid_t pid, int flags)
{
	return (_memstat_read_source(list, memstat_source_pid(pid),
	    memstat_source_malloc));
}

int
memstat_socket_malloc(struct memory_type_list *list, const char *path,
    int flags)
{
	return (_memstat_read_source(list, memstat_source_socket(path),
	    memstat_source_malloc));
}

int
memstat_file_malloc(struct memory_type_list *list, const char *path,
    int flags)
{
	return (_memstat_read_source(list, memstat_source_file(path),
	    memstat_source_malloc));
}

int
memstat_source_malloc(struct memory_type_list *list,
    struct memstat_source *src)
{
	return (_memstat_source_stream(list, src, ALLOCATOR_MALLOC, 0));
}
