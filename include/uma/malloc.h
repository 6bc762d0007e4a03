/*
 * malloc.h - typed malloc(9) and contigmalloc(9) on uma zones.
 *
 * Every allocation names a malloc type, a statistics bucket defined once
 * with MALLOC_DEFINE and declared elsewhere with MALLOC_DECLARE.  Small
 * requests come from the size-class zones "malloc-16" ... "malloc-65536"
 * (each made at its class's first allocation, so a process lists only the
 * classes it uses); larger ones are page runs of uma's arena.  The type
 * only decides where the allocation is counted: free() finds the zone from
 * the page.
 *
 * The names follow FreeBSD's malloc(9) with a uma_ prefix where libc has
 * the plain name (malloc, free, realloc, ...; <uma/freebsd.h> brings
 * FreeBSD's spellings back for ported code).  The others (contigmalloc,
 * mallocarray, zfree, ...) keep FreeBSD's names.
 */
#ifndef _UMA_MALLOC_H_
#define	_UMA_MALLOC_H_

#include <stddef.h>
#include <stdint.h>

#include <uma/uma.h>	/* M_NOWAIT, M_WAITOK, M_ZERO */

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/*
 * Exclude a large allocation (above 64 KiB, the largest size class: the
 * ones below share their pages) from core dumps (MADV_DONTDUMP), as
 * FreeBSD's M_NODUMP does above a page.  Ignored for smaller sizes and by
 * the zone API.  The pages are dumped again once freed.
 */
#ifndef M_NODUMP
#define	M_NODUMP	0x0800
#endif

#define	M_MAGIC		877983977	/* FreeBSD's ks_magic */
#define	MALLOC_MAX_NAME	32		/* bytes of a type's name in streams */

/*
 * A malloc type.  Fields are uma's; users only take its address.
 * ks_handle is NULL until the type is registered (by its constructor).
 */
struct malloc_type {
	struct malloc_type *ks_next;	/* on the list of types */
	unsigned long	 ks_magic;	/* M_MAGIC */
	const char	*ks_shortdesc;	/* the name streams and vmstat -m show */
	void		*ks_handle;	/* per-CPU counters (internal) */
};

/* Register and unregister a statically defined type (MALLOC_DEFINE). */
void	malloc_init(struct malloc_type *type);
void	malloc_uninit(struct malloc_type *type);

/*
 * Define a type: a static struct registered by a constructor when the
 * program or library is loaded, and unregistered silently when a library
 * is unloaded (its counters stay valid for late frees).  `longdesc` is
 * accepted for FreeBSD compatibility and not kept.
 */
#define	MALLOC_DEFINE(type, shortdesc, longdesc)			\
	struct malloc_type type[1] = {					\
		{ NULL, M_MAGIC, shortdesc, NULL }			\
	};								\
	__attribute__((constructor)) static void			\
	type##_malloc_init(void)					\
	{								\
		malloc_init(type);					\
	}								\
	__attribute__((destructor)) static void				\
	type##_malloc_uninit(void)					\
	{								\
		malloc_uninit(type);					\
	}

#define	MALLOC_DECLARE(type)	extern struct malloc_type type[1]

/*
 * Create a type at run time; `name` is copied (up to MALLOC_MAX_NAME - 1
 * bytes).  Returns NULL with errno ENOMEM if no memory.
 */
struct malloc_type *malloc_type_create(const char *name);

/*
 * Destroy a type made by malloc_type_create: it leaves the statistics.
 * If allocations are still live it prints FreeBSD's "Warning: memory type
 * %s leaked memory on destroy (%ld allocations, %ld bytes leaked)." on
 * stderr; the leaked memory stays valid.
 */
void	malloc_type_destroy(struct malloc_type *type);

/*
 * Allocate `size` bytes counted in `type`.  flags: M_WAITOK or M_NOWAIT,
 * optionally M_ZERO and M_NODUMP.  Memory is aligned to 16 bytes (to the
 * largest power of two dividing the size class, up to a page, for small
 * sizes; to a page for large ones).  size 0 gives a 16-byte allocation.
 * With M_NOWAIT, returns NULL with errno ENOMEM when memory cannot be had.
 * M_WAITOK never returns NULL, as FreeBSD's: an OS refusal runs the
 * low-memory path (uma_lowmem_register in uma.h) and tries again, and
 * after vm.lowmem_retries passes prints "uma: out of memory: <size> bytes
 * for malloc type "<name>"" (for a size class: its zone, "malloc-64")
 * and aborts, where FreeBSD would panic.
 */
void	*uma_malloc(size_t size, struct malloc_type *type, int flags);

/*
 * Free memory from uma_malloc (or contigmalloc), counting the free in
 * `type`.  NULL is ignored.  A pointer uma never gave, the inside of an
 * allocation, or a double free is reported on stderr and aborts.
 */
void	uma_free(void *addr, struct malloc_type *type);

/*
 * Resize.  A block of a size class: the same pointer when the new size
 * fits it and uses more than half of it, otherwise a new allocation with
 * the contents copied and the old one freed.  A large block (above 64
 * KiB) that stays large grows or shrinks in place when it can, else moves
 * into a block a quarter larger than asked, its pages remapped (1 MiB and
 * up) or copied: growth in small steps costs time in proportion to the
 * final size.  NULL addr acts as uma_malloc.  Flags as uma_malloc's
 * (M_WAITOK: never NULL for want of memory).  On failure returns NULL and
 * the old memory is untouched (uma_realloc) or freed (uma_reallocf).
 */
void	*uma_realloc(void *addr, size_t size, struct malloc_type *type,
	    int flags);
void	*uma_reallocf(void *addr, size_t size, struct malloc_type *type,
	    int flags);

/*
 * Allocate with `align` (a power of 2) alignment: small sizes from a size
 * class whose items fall on that alignment, larger ones as aligned page
 * runs.  Returns NULL with errno EINVAL (bad align) or ENOMEM.
 */
void	*uma_malloc_aligned(size_t size, size_t align,
	    struct malloc_type *type, int flags);

/* Bytes usable at addr (the size class, or the page-rounded size). */
size_t	uma_malloc_usable_size(const void *addr);

/*
 * uma_malloc(nmemb * size, type, flags) (M_WAITOK: never NULL, as
 * uma_malloc's).  If the product overflows,
 * mallocarray panics as FreeBSD's malloc(9) says it does, whatever the
 * flags: it prints "mallocarray: <nmemb> * <size> overflowed" on stderr
 * and aborts.
 */
void	*mallocarray(size_t nmemb, size_t size, struct malloc_type *type,
	    int flags);

/*
 * uma_free, after zeroing the whole allocation (uma_malloc_usable_size
 * bytes), for memory that held secrets.  NULL is ignored; a bad pointer
 * is reported and aborts as for uma_free.
 */
void	zfree(void *addr, struct malloc_type *type);

/*
 * The bytes an allocation of `size` takes: its size class (16 for 0), or
 * above 64 KiB the size rounded up to pages (a run reused from the cache
 * of freed large runs may be longer); 0 if that does not fit in a size_t.
 */
size_t	malloc_size(size_t size);

/*
 * Count memory that a caller's own allocator hands out (or takes back)
 * under `type`, so that it shows in the type's statistics: one allocation
 * (free) of `size` bytes.  As FreeBSD's, malloc_type_allocated counts
 * nothing when size is 0.
 */
void	malloc_type_allocated(struct malloc_type *type, unsigned long size);
void	malloc_type_freed(struct malloc_type *type, unsigned long size);

/*
 * Call func(type, arg) for every registered type.  The list is copied
 * first and func runs without uma's type list lock (so it may allocate,
 * define or look up types); types must not be destroyed meanwhile.
 */
typedef void malloc_type_list_func_t(struct malloc_type *type, void *arg);
void	malloc_type_list(malloc_type_list_func_t *func, void *arg);

/*
 * The registered type whose name (ks_shortdesc) is `desc`, or NULL.
 * FreeBSD's caller holds malloc_mtx; uma takes its list lock itself.
 */
struct malloc_type *malloc_desc2type(const char *desc);

/*
 * contigmalloc: `size` bytes (rounded up to pages) of uma's arena, the
 * user-space stand-in for physical memory, such that
 *	low <= start and start + size - 1 <= high (addresses, clipped to the
 *	    arena; low = 0, high = ~0UL mean anywhere),
 *	start % alignment == 0 (a power of 2; 0 or up to a page means a page),
 *	[start, start + size) does not cross a multiple of boundary (a power
 *	    of 2, or 0 for none).
 * The memory is zero-filled (whether or not M_ZERO is given; M_NODUMP
 * keeps it out of core dumps) and counted
 * in `type` as round_page(size) bytes, with no size-class bit.  Returns
 * NULL with errno EINVAL for malformed arguments (size 0, alignment or
 * boundary not a power of 2, boundary below the rounded size, low > high)
 * and ENOMEM when no run satisfies the constraints.  With M_WAITOK and a
 * window that meets the arena, it first runs the low-memory path up to
 * vm.lowmem_retries times (uma.h); then, as FreeBSD's, it may return NULL.
 */
void	*contigmalloc(unsigned long size, struct malloc_type *type, int flags,
	    uintptr_t low, uintptr_t high, unsigned long alignment,
	    uintptr_t boundary);

/*
 * Free a contigmalloc run; `size` must be the size given to contigmalloc
 * (a different size is reported and aborts).  uma_free() also accepts it.
 */
void	contigfree(void *addr, unsigned long size, struct malloc_type *type);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_MALLOC_H_ */
