/*
 * memstat_stream.h - the binary records libmemstat reads.
 *
 * The uma stream and the export wire protocol come from the allocator's
 * public <uma/stream.h>.  The malloc stream (FreeBSD's version 1
 * malloc_type_* records) is defined here until <uma/stream.h> carries it;
 * the static assertions pin the layout either way.
 */
#ifndef _MEMSTAT_STREAM_H_
#define	_MEMSTAT_STREAM_H_

#include <stdint.h>

#include <uma/stream.h>

#ifndef MALLOC_TYPE_STREAM_VERSION
#define	MALLOC_TYPE_STREAM_VERSION	0x00000001
#define	MALLOC_MAX_NAME			32

struct malloc_type_stream_header {
	uint32_t	mtsh_version;	/* MALLOC_TYPE_STREAM_VERSION */
	uint32_t	mtsh_maxcpus;	/* per-CPU records per type */
	uint32_t	mtsh_count;	/* types that follow */
	uint32_t	_mtsh_pad;
};

struct malloc_type_header {
	char		mth_name[MALLOC_MAX_NAME];
};

struct malloc_type_stats {
	uint64_t	mts_memalloced;	/* bytes, at the size-class size */
	uint64_t	mts_memfreed;
	uint64_t	mts_numallocs;
	uint64_t	mts_numfrees;
	uint64_t	mts_size;	/* bit i: size class i used */
	uint64_t	_mts_reserved1;
	uint64_t	_mts_reserved2;
	uint64_t	_mts_reserved3;
};
#endif

_Static_assert(sizeof(struct malloc_type_stream_header) == 16, "mtsh");
_Static_assert(sizeof(struct malloc_type_header) == 32, "mth");
_Static_assert(sizeof(struct malloc_type_stats) == 64, "mts");

#endif /* !_MEMSTAT_STREAM_H_ */
