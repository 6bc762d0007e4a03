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
 * "kern.malloc_stats" and the malloc size-class table
 * ("vm.malloc.zone_count", "vm.malloc.zone_sizes") of the source into a
 * file for memstat_file_* (whose sizes are then those of the source).
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
