/*
 * memguard.h - MemGuard (memguard(9)): what a program, libmemstat and
 * umastat see of it.  Standard headers only.
 *
 * MemGuard gives an allocation pages of its own, with its end at the end
 * of its last page and an inaccessible page after it, and makes the pages
 * inaccessible when the allocation is freed: a use after free, an overrun
 * or an underrun faults at once and is reported, with the stacks of the
 * allocation and the free.  It is turned on by the vm.memguard.* sysctl
 * nodes, all boot tunables (UMA_TUNABLES) and writable at run time:
 *   desc       a malloc type's short description, or a zone's name: every
 *              allocation of it is guarded ("libc" under libuma-malloc.so)
 *   frequency  allocations in 100,000 guarded, of any zone or type
 *   options    0x1 a guard page before the object too, 0x2 every
 *              allocation of a page or more, 0x4 UMA_ZONE_NOFREE zones too
 *   minsize, divisor, frequency_maxlive, frequency_maxrate
 * See memguard(3).
 */
#ifndef _UMA_MEMGUARD_H_
#define	_UMA_MEMGUARD_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/*
 * MemGuard's counters, each the read-only node vm.memguard.<name> (a
 * uint64_t): X(name, description).
 */
#define	UMA_MEMGUARD_COUNTERS(X)					\
	X(numalloc, "objects guarded")					\
	X(numfree, "guarded objects freed")				\
	X(live, "guarded objects live")					\
	X(live_bytes, "bytes of the pages of live guarded objects")	\
	X(wasted, "bytes of those pages beyond the objects")		\
	X(wrapcnt, "times the arena's cursor wrapped to its start")	\
	X(fail_kva, "allocations not guarded: no arena, room, record or mapping") \
	X(fail_pgs, "allocations not guarded: phys_limit reached, or the " \
	    "kernel refused the pages")					\
	X(minsize_reject, "allocations not guarded: below minsize")	\
	X(frequency_hits, "allocations guarded by frequency")		\
	X(frequency_drops, "samples dropped by frequency_maxlive, "	\
	    "frequency_maxbytes or frequency_maxrate")

/*
 * vm.memguard.objects: the guarded objects live now, in no order: one
 * struct uma_memguard_objects, then umo_count records of umo_size bytes.
 * A reader refuses another version and a length the header does not
 * account for.
 */
#define	UMA_MEMGUARD_OBJECTS_VERSION	0x00000001
#define	UMA_MEMGUARD_MAX_NAME		32

struct uma_memguard_objects {
	uint32_t	umo_version;	/* UMA_MEMGUARD_OBJECTS_VERSION */
	uint32_t	umo_size;	/* sizeof(struct uma_memguard_object) */
	uint32_t	umo_count;	/* records that follow */
	uint32_t	_umo_pad;
};

#define	UMA_MEMGUARD_OBJECT_ZONE	0x1	/* an item of a zone */
#define	UMA_MEMGUARD_OBJECT_SAMPLED	0x2	/* chosen by frequency */

struct uma_memguard_object {
	uint64_t	umo_addr;	/* the object */
	uint64_t	umo_bytes;	/* its size, as asked for */
	uint64_t	umo_site;	/* the first caller of uma that allocated it */
	uint32_t	umo_flags;	/* UMA_MEMGUARD_OBJECT_* */
	uint32_t	umo_tid;	/* the allocating thread */
	char		umo_name[UMA_MEMGUARD_MAX_NAME];	/* zone or type */
};

/*
 * FreeBSD's is_memguard_addr(9): nonzero if addr lies in MemGuard's
 * arena, i.e. belongs to an object MemGuard guards (or guarded).
 */
int	is_memguard_addr(void *addr);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_MEMGUARD_H_ */
