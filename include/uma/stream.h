/*
 * stream.h - binary records shared by uma (the writer) and their readers
 * (libmemstat, umastat): the vm.zone_stats stream and the export socket's
 * wire protocol.  Standard headers only; all integers are in the writer's
 * native byte order.
 *
 * vm.zone_stats (FreeBSD's version 1, field for field):
 *
 *   struct uma_stream_header                      16 bytes
 *   ush_count times:
 *     struct uma_type_header                      120 bytes
 *     ush_maxcpus times struct uma_percpu_stat    64 bytes each
 *
 * A zone's totals are the header's counter plus the sum over its CPUs:
 * allocs = uth_allocs + sum(ups_allocs), frees likewise.  Items free in the
 * zone = sum(ups_cache_free) + uth_zone_free, plus uth_keg_free unless the
 * zone is UTH_ZONE_SECONDARY (every zone of a keg carries the same keg free
 * count; only the primary may add it).  uth_bucketsize is the zone's
 * current bucket size (FreeBSD leaves it 0).
 */
#ifndef _UMA_STREAM_H_
#define	_UMA_STREAM_H_

#include <stdint.h>

#define	UMA_STREAM_VERSION	0x00000001
#define	UTH_MAX_NAME		32
#define	UTH_ZONE_SECONDARY	0x00000001

struct uma_stream_header {
	uint32_t	ush_version;	/* UMA_STREAM_VERSION */
	uint32_t	ush_maxcpus;	/* per-CPU records per zone */
	uint32_t	ush_count;	/* zones that follow */
	uint32_t	_ush_pad;
};

struct uma_type_header {
	char		uth_name[UTH_MAX_NAME];	/* NUL-terminated, truncated */
	uint32_t	uth_align;	/* keg alignment mask */
	uint32_t	uth_size;	/* requested item size */
	uint32_t	uth_rsize;	/* real item size */
	uint32_t	uth_maxpages;	/* limit in pages, 0 = none */
	uint32_t	uth_limit;	/* limit in items, 0 = none */
	uint32_t	uth_pages;	/* pages of the keg */
	uint32_t	uth_keg_free;	/* free items in the keg's slabs */
	uint32_t	uth_zone_free;	/* items in the zone's full buckets */
	uint32_t	uth_bucketsize;	/* current per-CPU bucket size */
	uint32_t	uth_zone_flags;	/* UTH_ZONE_* */
	uint64_t	uth_allocs;	/* zone-level allocations */
	uint64_t	uth_frees;	/* zone-level frees */
	uint64_t	uth_fails;	/* failed allocations */
	uint64_t	uth_sleeps;	/* sleeps at the limit */
	uint64_t	uth_xdomain;	/* always 0: one memory domain */
	uint64_t	_uth_reserved1[1];
};

struct uma_percpu_stat {
	uint64_t	ups_allocs;	/* allocations through this CPU's cache */
	uint64_t	ups_frees;	/* frees through this CPU's cache */
	uint64_t	ups_cache_free;	/* items in this CPU's buckets */
	uint64_t	_ups_reserved[5];
};

_Static_assert(sizeof(struct uma_stream_header) == 16, "ush size");
_Static_assert(sizeof(struct uma_type_header) == 120, "uth size");
_Static_assert(sizeof(struct uma_percpu_stat) == 64, "ups size");

/*
 * The export socket (uma_export_start in <uma/sysctl.h>).
 *
 * Where: <dir>/<pid>.sock, dir = the one given to uma_export_start, or
 * $UMA_EXPORT_DIR, or $XDG_RUNTIME_DIR/uma, or /tmp/uma-<uid>.  A
 * SOCK_STREAM Unix socket; the server accepts clients of the same uid or
 * root only: a refused client gets one response with error EACCES, to its
 * first request when the server has a free slot to read it in (else at
 * once), and the connection is closed.
 *
 * A connection carries any number of request/response pairs, in order:
 *
 *   request:  struct uma_export_req, then namelen bytes of the node name
 *             (no NUL), then vallen bytes of the value (SET only; 0
 *             otherwise).
 *   response: struct uma_export_resp, then len bytes.
 *
 * ops:
 *   GET   the node's value: INT an int32, U64 a uint64 (native order),
 *         STRING the characters without NUL, OPAQUE the raw bytes (e.g. a
 *         whole vm.zone_stats stream).
 *   SET   write the value (same encodings as GET); len 0.  The node must be
 *         writable at run time (else EPERM); a refused value is EINVAL.
 *   LIST  no name (namelen 0); one line per node:
 *         "name\ttype\taccess\tdescription\n", type one of int, u64,
 *         string, opaque; access one of RD, RW, RDTUN, RWTUN.
 * error is 0 or an errno value (len is then 0): ENOENT unknown node,
 * EPERM read-only, EINVAL malformed request or bad value, E2BIG a request
 * over UMA_EXPORT_MAXREQ bytes.  After a bad magic or E2BIG the server
 * closes the connection (it cannot find the next request).  A client that
 * stalls in the middle of a request for UMA_EXPORT_TIMEOUT_MS, or stays
 * idle for UMA_EXPORT_IDLE_MS, is dropped.
 *
 * The server serves 16 clients at once; a new client of an allowed uid
 * takes the place of the one that made progress least recently, which
 * gets a response with error EBUSY (in place of the answer to the request
 * it is sending or waiting for, or ahead of its next request when idle;
 * not when part of a response was sent) and the close.  A client that
 * finds its send refused (EPIPE) reads that response: the server may have
 * answered and closed before reading the whole request.  EBUSY and the
 * EACCES-after-reading are additions to the first protocol that change no
 * record: a client of the first protocol reads either as the error of its
 * request, so the magic stays the same.
 */
#define	UMA_EXPORT_MAGIC	0x554d4153u	/* 'UMAS' */
#define	UMA_EXPORT_OP_GET	1
#define	UMA_EXPORT_OP_SET	2
#define	UMA_EXPORT_OP_LIST	3
#define	UMA_EXPORT_MAXREQ	65536	/* name + value bytes */
#define	UMA_EXPORT_MAXNAME	1024	/* name bytes */
#define	UMA_EXPORT_TIMEOUT_MS	1000
#define	UMA_EXPORT_IDLE_MS	10000

struct uma_export_req {
	uint32_t	uer_magic;	/* UMA_EXPORT_MAGIC */
	uint32_t	uer_op;		/* UMA_EXPORT_OP_* */
	uint32_t	uer_namelen;
	uint32_t	uer_vallen;
};

struct uma_export_resp {
	uint32_t	ues_magic;	/* UMA_EXPORT_MAGIC */
	int32_t		ues_error;	/* 0 or an errno value */
	uint32_t	ues_len;	/* bytes that follow */
	uint32_t	ues_pad;
};

_Static_assert(sizeof(struct uma_export_req) == 16, "uer size");
_Static_assert(sizeof(struct uma_export_resp) == 16, "ues size");

#endif /* !_UMA_STREAM_H_ */
