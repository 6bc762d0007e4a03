/*
 * memstat.h - libmemstat: memory allocator statistics as lists of opaque
 * memory types, read from this process, from another process's export
 * endpoint, or from a saved file.
 *
 * The interface is FreeBSD's libmemstat(3): a memory_type_list holds one
 * memory_type per UMA zone or malloc type; accessors read its statistics;
 * refreshing a list with the same source keeps the caller-owned fields.
 * Differences from FreeBSD are marked "(uma)" below.  libmemstat includes
 * no header of the allocator: it only parses the versioned binary streams
 * "vm.zone_stats" and "kern.malloc_stats".
 */
#ifndef _MEMSTAT_H_
#define	_MEMSTAT_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Number of caller-owned pointer and uint64 slots per type and per CPU. */
#define	MEMSTAT_MAXCALLER	16

/* Longest type name, including the terminating NUL. */
#define	MEMTYPE_MAXNAME		32

/* Allocators a memory type can come from. */
#define	ALLOCATOR_UNKNOWN	0
#define	ALLOCATOR_MALLOC	1
#define	ALLOCATOR_UMA		2
#define	ALLOCATOR_ANY		255

/* Error codes of memstat_mtl_geterror() (FreeBSD's values, then ours). */
#define	MEMSTAT_ERROR_UNDEFINED		0	/* Unknown error */
#define	MEMSTAT_ERROR_NOMEMORY		1	/* Cannot allocate memory */
#define	MEMSTAT_ERROR_VERSION		2	/* Version mismatch */
#define	MEMSTAT_ERROR_PERMISSION	3	/* Permission denied */
#define	MEMSTAT_ERROR_DATAERROR		5	/* Data format error */
#define	MEMSTAT_ERROR_KVM		6	/* never set: no kvm back end */
#define	MEMSTAT_ERROR_KVM_NOSYMBOL	7	/* never set */
#define	MEMSTAT_ERROR_KVM_SHORTREAD	8	/* never set */
#define	MEMSTAT_ERROR_NOSOURCE		9	/* (uma) source or stream absent */
#define	MEMSTAT_ERROR_IO		10	/* (uma) transport failed */
#define	MEMSTAT_ERROR_BUSY		11	/* (uma) endpoint evicted us */

struct memory_type;
struct memory_type_list;

/* A human-readable string for a MEMSTAT_ERROR_* code. */
const char	*memstat_strerror(int error);

/*
 * Lists.  memstat_mtl_alloc returns an empty list (NULL with errno ENOMEM
 * on failure).  first/next iterate in stream order; find returns the first
 * entry of `allocator` (or ALLOCATOR_ANY) named `name`.  memstat_mtl_free
 * frees the list and every entry.  geterror is the error of the last call
 * that failed on the list.
 */
struct memory_type_list	*memstat_mtl_alloc(void);
struct memory_type	*memstat_mtl_first(struct memory_type_list *list);
struct memory_type	*memstat_mtl_next(struct memory_type *mtp);
struct memory_type	*memstat_mtl_find(struct memory_type_list *list,
			    int allocator, const char *name);
void	memstat_mtl_free(struct memory_type_list *list);
int	memstat_mtl_geterror(struct memory_type_list *list);

/*
 * Filling and refreshing a list.  Each returns 0, or -1 with the reason in
 * memstat_mtl_geterror(list).  `flags` is unused; pass 0.
 *
 * Refresh: an entry is matched by (allocator, name, n) where n counts
 * earlier entries of the same name, so duplicate names keep their own
 * entries.  A matched entry keeps its caller-owned slots; its statistics
 * are reset and recomputed.  Entries of the refreshed allocator that the
 * stream no longer has are freed (pointers to them become invalid).  The
 * whole stream is validated first: on any error the list is unchanged.
 *
 * _sysctl_: this process, through uma_sysctlbyname() found at run time
 * (MEMSTAT_ERROR_NOSOURCE if libuma is not loaded).
 * _pid_: the export endpoint of process `pid` (see memstat_socket_path).
 * _socket_: the export endpoint at `path`.
 * _file_: a file written by memstat_save() or `umastat --save`.
 * _buf_: raw stream bytes, as produced by "vm.zone_stats" or
 * "kern.malloc_stats".
 * _all: malloc then uma; a source without a malloc stream adds no malloc
 * types and is not an error.
 */
int	memstat_sysctl_all(struct memory_type_list *list, int flags);
int	memstat_sysctl_malloc(struct memory_type_list *list, int flags);
int	memstat_sysctl_uma(struct memory_type_list *list, int flags);
int	memstat_pid_all(struct memory_type_list *list, pid_t pid, int flags);
int	memstat_pid_malloc(struct memory_type_list *list, pid_t pid, int flags);
int	memstat_pid_uma(struct memory_type_list *list, pid_t pid, int flags);
int	memstat_socket_all(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_socket_malloc(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_socket_uma(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_file_all(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_file_malloc(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_file_uma(struct memory_type_list *list, const char *path,
	    int flags);
int	memstat_buf_uma(struct memory_type_list *list, const void *buf,
	    size_t len);
int	memstat_buf_malloc(struct memory_type_list *list, const void *buf,
	    size_t len);

/*
 * Sources (uma).  A source is where sysctl values come from; a socket
 * source keeps its connection open between requests.  memstat_source_*
 * open functions return NULL with errno set on failure.
 *
 * memstat_source_sysctl has sysctlbyname(3) semantics: returns 0, or -1
 * with errno (ENOENT unknown name, ENOMEM short buffer with *oldlenp set
 * to the needed length, EPERM read-only, EINVAL bad value, EIO transport).
 * memstat_source_list returns a malloc'ed text of lines
 * "name\ttype\taccess\tdescription\n" in *textp (free it).
 * memstat_source_{all,uma,malloc} fill a list like the functions above.
 * memstat_save writes "vm.zone_stats" and, where present,
 * "kern.malloc_stats", the malloc size-class table
 * ("vm.malloc.zone_count", "vm.malloc.zone_sizes") and the kmem report
 * ("vm.kmem_stats", "vm.kmem_stats_extended") of the source into a file
 * for memstat_file_* and memstat_source_file (whose sizes and reports
 * are then those of the source).
 */
struct memstat_source;
struct memstat_source	*memstat_source_self(void);
struct memstat_source	*memstat_source_pid(pid_t pid);
struct memstat_source	*memstat_source_socket(const char *path);
struct memstat_source	*memstat_source_file(const char *path);
void	memstat_source_close(struct memstat_source *src);
int	memstat_source_sysctl(struct memstat_source *src, const char *name,
	    void *oldp, size_t *oldlenp, const void *newp, size_t newlen);
int	memstat_source_list(struct memstat_source *src, char **textp,
	    size_t *lenp);
int	memstat_source_all(struct memory_type_list *list,
	    struct memstat_source *src);
int	memstat_source_uma(struct memory_type_list *list,
	    struct memstat_source *src);
int	memstat_source_malloc(struct memory_type_list *list,
	    struct memstat_source *src);
int	memstat_save(struct memstat_source *src, const char *path);

/*
 * The endpoint path of process `pid`: $XDG_RUNTIME_DIR/uma/<pid>.sock, or
 * /tmp/uma-<uid>/<pid>.sock without XDG_RUNTIME_DIR.  Returns 0, or -1
 * (ENAMETOOLONG) if it does not fit in `len` bytes.
 */
int	memstat_socket_path(pid_t pid, char *buf, size_t len);

/*
 * malloc(9) size classes: their number, the size of class n (0 if n is out
 * of range), and whether a type used class n (bit n of its size mask).
 * The table is the source's (its vm.malloc.zone_count and
 * vm.malloc.zone_sizes), read with every malloc stream from a source, as
 * FreeBSD's memstat_sysctl_malloc reads the kernel's; empty (count 0)
 * before that and after a source without one.  memstat_buf_malloc leaves
 * it as it is.
 */
size_t	memstat_malloc_zone_get_count(void);
size_t	memstat_malloc_zone_get_size(size_t n);
int	memstat_malloc_zone_used(const struct memory_type *mtp, size_t n);

/*
 * The kmem report (uma; Fuchsia's RFC-0011): where a uma process's memory
 * is, in two tiers (the records are <uma/kmem.h>'s).
 *
 * memstat_kmem_read fills `kmem` from a source: the cheap tier
 * ("vm.kmem_stats": counters only, O(zones), takes no lock an allocation
 * takes), or with `extended` set the extended one
 * ("vm.kmem_stats_extended": walks every cache and slab list, each zone's
 * locks briefly in turn, to say what a reclaim would give back).  Returns
 * 0, or -1 with memstat_kmem_geterror(): MEMSTAT_ERROR_NOSOURCE (no such
 * node: not a uma process, or an older one or file), _VERSION (a record
 * version this library does not know), _DATAERROR (a record shorter or
 * longer than it says), or the source's error.  On an error `kmem` is as
 * it was.  memstat_kmem_buf parses raw record bytes the same way.
 *
 * memstat_kmem_get returns a MEMSTAT_KMEM_* figure in bytes (counts for
 * the slab figures); the extended-only ones read 0 after a cheap read.
 * The parts MEMSTAT_KMEM_FIRST_PART .. MEMSTAT_KMEM_LAST_PART add up to
 * MEMSTAT_KMEM_COMMITTED exactly; MEMSTAT_KMEM_OTHER, what they leave
 * unexplained, is the one that may be negative (figures that moved while
 * they were read).  memstat_kmem_name gives a figure's key (as in
 * umastat's JSON and Prometheus labels), memstat_kmem_descr what it
 * means; NULL out of range.
 *
 * After an extended read, memstat_kmem_zone_count zones, in vm.zone_stats
 * order, each with a name, MEMSTAT_KMEM_ZONE_* flags and
 * MEMSTAT_KMEM_Z_* figures (slab figures on a keg's primary zone).
 */
#define	MEMSTAT_KMEM_RESERVED		0	/* arena address space */
#define	MEMSTAT_KMEM_COMMITTED		1	/* = the parts, exactly */
#define	MEMSTAT_KMEM_ARENA_COMMITTED	2	/* of it, in the arena */
#define	MEMSTAT_KMEM_INUSE_ZONES	3	/* parts: ... */
#define	MEMSTAT_KMEM_INUSE_MALLOC	4
#define	MEMSTAT_KMEM_INUSE_LARGE	5
#define	MEMSTAT_KMEM_INUSE_CONTIG	6
#define	MEMSTAT_KMEM_FREE_PCPU		7
#define	MEMSTAT_KMEM_FREE_BUCKETS	8
#define	MEMSTAT_KMEM_FREE_KEGS		9
#define	MEMSTAT_KMEM_LARGE_CACHE	10
#define	MEMSTAT_KMEM_METADATA		11
#define	MEMSTAT_KMEM_WASTE		12
#define	MEMSTAT_KMEM_OTHER		13	/* ... the last part */
#define	MEMSTAT_KMEM_INUSE		14	/* the four inuse parts */
#define	MEMSTAT_KMEM_RSS		15	/* the process's, for comparison */
#define	MEMSTAT_KMEM_MEMGUARD		16
#define	MEMSTAT_KMEM_RECLAIMABLE	17	/* extended only from here */
#define	MEMSTAT_KMEM_RECLAIM_FREE_SLABS	18
#define	MEMSTAT_KMEM_RECLAIM_LARGE_CACHE 19
#define	MEMSTAT_KMEM_RECLAIM_BUCKETS	20
#define	MEMSTAT_KMEM_RECLAIM_PCPU	21
#define	MEMSTAT_KMEM_RECLAIM_OLDEST	22
#define	MEMSTAT_KMEM_RECLAIM_NEWEST	23
#define	MEMSTAT_KMEM_LOCKED		24
#define	MEMSTAT_KMEM_FRAGMENTATION	25
#define	MEMSTAT_KMEM_AVAILABLE		26
#define	MEMSTAT_KMEM_SLABS_FULL		27
#define	MEMSTAT_KMEM_SLABS_PARTIAL	28
#define	MEMSTAT_KMEM_SLABS_FREE		29
#define	MEMSTAT_KMEM_NFIELDS		30
#define	MEMSTAT_KMEM_FIRST_PART		MEMSTAT_KMEM_INUSE_ZONES
#define	MEMSTAT_KMEM_LAST_PART		MEMSTAT_KMEM_OTHER
#define	MEMSTAT_KMEM_FIRST_EXTENDED	MEMSTAT_KMEM_RECLAIMABLE

#define	MEMSTAT_KMEM_Z_SIZE		0	/* item size */
#define	MEMSTAT_KMEM_Z_RSIZE		1
#define	MEMSTAT_KMEM_Z_IPERS		2	/* items per slab */
#define	MEMSTAT_KMEM_Z_PPERA		3	/* pages per slab */
#define	MEMSTAT_KMEM_Z_USED		4	/* items with callers */
#define	MEMSTAT_KMEM_Z_FREE		5	/* free items */
#define	MEMSTAT_KMEM_Z_PAGES		6
#define	MEMSTAT_KMEM_Z_SLABS_FULL	7
#define	MEMSTAT_KMEM_Z_SLABS_PARTIAL	8
#define	MEMSTAT_KMEM_Z_SLABS_FREE	9
#define	MEMSTAT_KMEM_Z_EFFICIENCY	10	/* percent of pages in use */
#define	MEMSTAT_KMEM_Z_RECLAIMABLE	11	/* bytes */
#define	MEMSTAT_KMEM_Z_FRAGMENTATION	12	/* bytes */
#define	MEMSTAT_KMEM_Z_NFIELDS		13

#define	MEMSTAT_KMEM_ZONE_SECONDARY	0x1
#define	MEMSTAT_KMEM_ZONE_INTERNAL	0x2
#define	MEMSTAT_KMEM_ZONE_NOFREE	0x4

struct memstat_kmem;
struct memstat_kmem	*memstat_kmem_alloc(void);
void	memstat_kmem_free(struct memstat_kmem *kmem);
int	memstat_kmem_read(struct memstat_kmem *kmem,
	    struct memstat_source *src, int extended);
int	memstat_kmem_buf(struct memstat_kmem *kmem, const void *buf,
	    size_t len, int extended);
int	memstat_kmem_geterror(const struct memstat_kmem *kmem);
int	memstat_kmem_extended(const struct memstat_kmem *kmem);
int64_t	memstat_kmem_get(const struct memstat_kmem *kmem, int field);
const char	*memstat_kmem_name(int field);
const char	*memstat_kmem_descr(int field);
size_t	memstat_kmem_zone_count(const struct memstat_kmem *kmem);
const char	*memstat_kmem_zone_name(const struct memstat_kmem *kmem,
		    size_t zone);
uint32_t memstat_kmem_zone_flags(const struct memstat_kmem *kmem,
	    size_t zone);
uint64_t memstat_kmem_zone_get(const struct memstat_kmem *kmem, size_t zone,
	    int field);
const char	*memstat_kmem_zone_field_name(int field);

/*
 * Accessors.  Fields that do not apply to the type's allocator read 0.
 * For uma zones: size is the requested item size, count = numallocs -
 * numfrees (numallocs is clamped to >= numfrees), bytes = count * size,
 * free = per-CPU cache + zone bucket items + keg free items (keg free only
 * on a primary zone: every zone of a keg reports the same keg).  For malloc
 * types: size mask ORed over CPUs, bytes = memalloced - memfreed.
 */
const char	*memstat_get_name(const struct memory_type *mtp);
int		 memstat_get_allocator(const struct memory_type *mtp);
uint64_t	 memstat_get_countlimit(const struct memory_type *mtp);
uint64_t	 memstat_get_byteslimit(const struct memory_type *mtp);
uint64_t	 memstat_get_sizemask(const struct memory_type *mtp);
uint64_t	 memstat_get_size(const struct memory_type *mtp);
uint64_t	 memstat_get_rsize(const struct memory_type *mtp);
uint64_t	 memstat_get_memalloced(const struct memory_type *mtp);
uint64_t	 memstat_get_memfreed(const struct memory_type *mtp);
uint64_t	 memstat_get_numallocs(const struct memory_type *mtp);
uint64_t	 memstat_get_numfrees(const struct memory_type *mtp);
uint64_t	 memstat_get_bytes(const struct memory_type *mtp);
uint64_t	 memstat_get_count(const struct memory_type *mtp);
uint64_t	 memstat_get_free(const struct memory_type *mtp);
uint64_t	 memstat_get_failures(const struct memory_type *mtp);
uint64_t	 memstat_get_sleeps(const struct memory_type *mtp);
uint64_t	 memstat_get_xdomain(const struct memory_type *mtp);
uint64_t	 memstat_get_zonefree(const struct memory_type *mtp);
uint64_t	 memstat_get_kegfree(const struct memory_type *mtp);
/* (uma) keg pages, 0 on secondary zones; 1 if a secondary zone. */
uint64_t	 memstat_get_pages(const struct memory_type *mtp);
int		 memstat_get_secondary(const struct memory_type *mtp);
/* (uma) number of per-CPU records the source reported. */
int		 memstat_get_maxcpus(const struct memory_type *mtp);

/* Per-CPU statistics; 0 for a CPU outside [0, maxcpus). */
uint64_t	 memstat_get_percpu_memalloced(const struct memory_type *mtp,
		    int cpu);
uint64_t	 memstat_get_percpu_memfreed(const struct memory_type *mtp,
		    int cpu);
uint64_t	 memstat_get_percpu_numallocs(const struct memory_type *mtp,
		    int cpu);
uint64_t	 memstat_get_percpu_numfrees(const struct memory_type *mtp,
		    int cpu);
uint64_t	 memstat_get_percpu_sizemask(const struct memory_type *mtp,
		    int cpu);
uint64_t	 memstat_get_percpu_free(const struct memory_type *mtp, int cpu);

/*
 * Caller-owned slots, zero until set and kept across refreshes.  An index
 * outside [0, MEMSTAT_MAXCALLER) or a CPU outside [0, maxcpus) reads as
 * 0/NULL and a set to it is ignored.
 */
void	*memstat_get_caller_pointer(const struct memory_type *mtp, int index);
void	 memstat_set_caller_pointer(struct memory_type *mtp, int index,
	    void *value);
uint64_t memstat_get_caller_uint64(const struct memory_type *mtp, int index);
void	 memstat_set_caller_uint64(struct memory_type *mtp, int index,
	    uint64_t value);
void	*memstat_get_percpu_caller_pointer(const struct memory_type *mtp,
	    int cpu, int index);
void	 memstat_set_percpu_caller_pointer(struct memory_type *mtp, int cpu,
	    int index, void *value);
uint64_t memstat_get_percpu_caller_uint64(const struct memory_type *mtp,
	    int cpu, int index);
void	 memstat_set_percpu_caller_uint64(struct memory_type *mtp, int cpu,
	    int index, uint64_t value);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_MEMSTAT_H_ */
