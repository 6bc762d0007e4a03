/*
 * memstat_int.h - libmemstat internals: the memory type and list structs,
 * the refresh engine shared by the stream parsers, and the sources that
 * fetch stream bytes (this process, an export socket, a saved file).
 *
 * Nothing here is exported: the library is built with hidden visibility
 * and every cross-file function carries the _memstat_ prefix.
 */
#ifndef _MEMSTAT_INT_H_
#define	_MEMSTAT_INT_H_

#include <stddef.h>
#include <stdint.h>

#include "memstat.h"

/* Limits that keep a hostile or corrupt stream from costing much. */
#define	MEMSTAT_MAX_CPUS	65536		/* per-CPU records per type */
#define	MEMSTAT_MAX_STREAM	(1u << 30)	/* bytes of one stream */

/* Library-owned statistics of one type; reset before each refresh. */
struct memory_type_stats {
	uint64_t	mts_countlimit;
	uint64_t	mts_byteslimit;
	uint64_t	mts_sizemask;
	uint64_t	mts_size;
	uint64_t	mts_rsize;
	uint64_t	mts_memalloced;
	uint64_t	mts_memfreed;
	uint64_t	mts_numallocs;
	uint64_t	mts_numfrees;
	uint64_t	mts_bytes;
	uint64_t	mts_count;
	uint64_t	mts_free;
	uint64_t	mts_failures;
	uint64_t	mts_sleeps;
	uint64_t	mts_xdomain;
	uint64_t	mts_zonefree;
	uint64_t	mts_kegfree;
	uint64_t	mts_pages;
	int		mts_secondary;
};

/* Library-owned per-CPU statistics. */
struct memory_type_percpu {
	uint64_t	mtp_memalloced;
	uint64_t	mtp_memfreed;
	uint64_t	mtp_numallocs;
	uint64_t	mtp_numfrees;
	uint64_t	mtp_sizemask;
	uint64_t	mtp_free;
};

/* Caller-owned per-CPU slots, allocated on the first set. */
struct memory_type_caller {
	void		*mtc_pointer[MEMSTAT_MAXCALLER];
	uint64_t	 mtc_uint64[MEMSTAT_MAXCALLER];
};

/*
 * One zone or malloc type.  Invariant: mt_percpu has mt_maxcpus entries,
 * and mt_percpu_caller is NULL or has mt_maxcpus entries.
 */
struct memory_type {
	struct memory_type		*mt_next;	/* list order */
	struct memory_type		*mt_hnext;	/* refresh: same name */
	int				 mt_allocator;
	int				 mt_maxcpus;
	char				 mt_name[MEMTYPE_MAXNAME + 1];
	struct memory_type_stats	 mt_stats;
	struct memory_type_percpu	*mt_percpu;
	struct memory_type_caller	*mt_percpu_caller;
	void				*mt_caller_pointer[MEMSTAT_MAXCALLER];
	uint64_t			 mt_caller_uint64[MEMSTAT_MAXCALLER];
};

struct memory_type_list {
	struct memory_type	*mtl_head;
	int			 mtl_error;
};

/*
 * A validated stream, as the refresh engine sees it: `count` records of
 * `recsize` bytes from `first`, each starting with a 32-byte name; `fill`
 * recomputes an entry's statistics (already zeroed) from its record.
 */
struct memstat_stream {
	int			 mss_allocator;
	uint32_t		 mss_maxcpus;
	uint32_t		 mss_count;
	size_t			 mss_recsize;
	const unsigned char	*mss_first;
	void			(*mss_fill)(struct memory_type *mtp,
				    const unsigned char *rec, uint32_t maxcpus);
};

/* Refresh the list's entries of one allocator; 0 or a MEMSTAT_ERROR_*. */
int	_memstat_refresh(struct memory_type_list *list,
	    const struct memstat_stream *mss);

/* Set the list error and return -1 (0 for error 0 is never used). */
int	_memstat_fail(struct memory_type_list *list, int error);

/* Read a field of a record without alignment assumptions. */
uint32_t	_memstat_u32(const unsigned char *p, size_t off);
uint64_t	_memstat_u64(const unsigned char *p, size_t off);

/*
 * Fetch the whole value of sysctl `name` from a source into a malloc'ed
 * buffer.  Returns 0 or a MEMSTAT_ERROR_*; *errnop gets the errno behind
 * it (ENOENT: the source has no such name).
 */
int	_memstat_fetch(struct memstat_source *src, const char *name,
	    void **bufp, size_t *lenp, int *errnop);

/* A MEMSTAT_ERROR_* for an errno value. */
int	_memstat_errno_error(int error);

/*
 * Read a list through `fn` from a source just opened (NULL: the opening
 * failed, errno says why), then close it: the by-pid, by-socket and
 * by-file entry points of every allocator.
 */
int	_memstat_read_source(struct memory_type_list *list,
	    struct memstat_source *src,
	    int (*fn)(struct memory_type_list *, struct memstat_source *));

/*
 * A source's malloc size classes (vm.malloc.zone_count/zone_sizes): size
 * of class i, i < mzt_count (0: the source has no table).
 */
#define	MEMSTAT_MALLOC_MAXZONES	64	/* bits of a size mask */
struct memstat_zone_table {
	size_t	mzt_count;
	size_t	mzt_size[MEMSTAT_MALLOC_MAXZONES];
};

/* Read the table of a source: 0 (no table is 0 too) or a MEMSTAT_ERROR_*. */
int	_memstat_malloc_zones_read(struct memstat_source *src,
	    struct memstat_zone_table *zt);

/* Make it the table of memstat_malloc_zone_get_count/_size. */
void	_memstat_malloc_zones_set(const struct memstat_zone_table *zt);

/* Fill a list from one stream of a source (the per-allocator backends). */
int	_memstat_source_stream(struct memory_type_list *list,
	    struct memstat_source *src, int allocator, int missing_ok);

#endif /* !_MEMSTAT_INT_H_ */
