/*
 * malloc_int.h - internals shared by malloc.c (size classes),
 * malloc_large.c (large runs and their cache), malloc_type.c (types,
 * per-CPU counters, the stream) and contig.c.
 *
 * Size classes.  malloc_classes[i] is the i-th size class; bit i of a
 * type's mts_size says class i was used, so the table is the meaning of
 * the bits (vm.malloc.zone_count / vm.malloc.zone_sizes).  FreeBSD's
 * classes 16, 32, 64, 128, 256, 384, 512, 1024 ... 65536 are all present,
 * with finer ones between them (4 per doubling from 128 up, and one more
 * just past each of 1, 2, 4 and 8 KiB: 1152, 2304, 4608, 9216).  A
 * kilobyte or a page plus a header is a common request, and 1 KiB + 8
 * lost 11% in 1152 (sqlite's 1032-byte blocks): 1088 and 4224 take
 * headers of up to 64 and 128 bytes.
 *
 * Counters.  A type's counters are one record of MSTAT_WORDS 64-bit words
 * per CPU, plus one spill record (index ncpus) for the rare call that
 * cannot tell its CPU:
 *	words [0, 64)	allocs per class; word 62 large bytes, 63 large count
 *	words [64, 128)	frees, the same layout
 * An allocation adds 1 to one word of its CPU's record inside a
 * restartable sequence (no lock prefix, never lost or doubled by a
 * migration), so the byte counts, request counts and size mask all follow
 * from the class counts: memalloced = sum(allocs[c] * size[c]) + large
 * bytes.  Exact once the type is quiet.
 *
 * Large allocations and contigmalloc runs are page runs of the arena whose
 * first page's vtoslab entry points at a descriptor (struct malloc_large)
 * that looks like a slab of the pseudo-keg malloc_large_keg: zone code that
 * meets such a page reports a foreign pointer instead of misreading it.
 */
#ifndef _UMA_MALLOC_INT_H_
#define	_UMA_MALLOC_INT_H_

#include <uma/malloc.h>

#include "init.h"
#include "internal.h"
#include "reclaim.h"
#include "threads.h"
#include "uma_int.h"
#include "zone.h"

#define	MALLOC_NCLASSES		50
#define	MALLOC_MAXSIZE		65536	/* larger requests are page runs */
#define	MALLOC_TABSIZE		8192	/* the hit path's class table ends here */
#define	MSTAT_WORDS		128
#define	MSTAT_SHIFT		10	/* log2(MSTAT_WORDS * 8) */
#define	MSTAT_FREE		64	/* offset of the frees half */
#define	MSTAT_LARGE_BYTES	62
#define	MSTAT_LARGE_COUNT	63

struct malloc_class {
	uma_zone_t	 mc_zone;	/* NULL until the class's first use */
	uint32_t	 mc_size;
} __attribute__((aligned(64)));
extern struct malloc_class malloc_classes[MALLOC_NCLASSES] UMA_HIDDEN;

/*
 * free()'s item check of each class (malloc_fast.h): the exact division
 * by its size (uma_divx) and its items per slab (0 before its zone).
 * Arrays, not fields of malloc_class, so that one base register and the
 * page tag's class address all three (a 64-byte record per class cost a
 * shift and an add on every free), indexed by the tag's class, which is
 * the index plus one (slot 0 is no class: no items).
 */
struct malloc_check {
	uint64_t	 mk_inv[MALLOC_NCLASSES + 1];
	uint64_t	 mk_nitems[MALLOC_NCLASSES + 1];
	uint8_t		 mk_rot[MALLOC_NCLASSES + 1];
};
extern struct malloc_check malloc_check UMA_HIDDEN;
extern const uint32_t malloc_class_sizes[MALLOC_NCLASSES] UMA_HIDDEN;

/*
 * A large run or contigmalloc run (see above).  Live: the vtoslab entry of
 * its first page is the descriptor.  Cached (malloc_large.c): the entry is
 * NULL and the run is on its bin and on the age list.
 */
struct malloc_large {
	struct uma_slab	 ml_slab;	/* us_keg == &malloc_large_keg */
	uint64_t	 ml_pad;
	void		*ml_addr;
	size_t		 ml_size;	/* bytes, a page multiple */
	bool		 ml_contig;
	uint8_t		 ml_use;	/* UMA_PAGES_*: its pages' count (vm.h) */
	bool		 ml_nodump;	/* live, MADV_DONTDUMP (M_NODUMP) */
	bool		 ml_remapped;	/* a mapping of its own (realloc) */
	uint64_t	 ml_tick;	/* cached: trim tick when freed */
	TAILQ_ENTRY(malloc_large) ml_bin;	/* cached: newest first */
	TAILQ_ENTRY(malloc_large) ml_age;	/* cached: newest first */
	TAILQ_ENTRY(malloc_large) ml_addrq;	/* cached: by address */
};
extern struct uma_keg malloc_large_keg UMA_HIDDEN;

/* malloc.c */
void	uma__malloc_startup(void) UMA_HIDDEN;
bool	uma__malloc_type_ready(struct malloc_type *mtp, int flags) UMA_HIDDEN;
/*
 * A run for malloc's own use that it cannot do without (its start-up,
 * statistics): the low-memory path (lowmem.h) until the OS gives it.
 */
void	*uma__malloc_meta_wait(size_t len, const char *what) UMA_HIDDEN;
int	uma__malloc_class(size_t size) UMA_HIDDEN;
/* Class idx's zone, made now if this is its first use; NULL: no memory. */
uma_zone_t uma__malloc_class_zone(int idx) UMA_HIDDEN;
void	uma__malloc_invalid(const char *what, const void *addr,
	    const char *why) UMA_HIDDEN __attribute__((noreturn));
/*
 * The bytes of the allocation at addr (a class size, a run's length);
 * anything malloc did not hand out is reported as `what`'s and aborts.
 */
size_t	uma__malloc_alloc_size(const char *what, const void *addr)
	    UMA_HIDDEN;

/* malloc_large.c */
void	uma__malloc_large_startup(void) UMA_HIDDEN;
/*
 * A fresh run of roundup(size) bytes with vmmap_alloc's constraints
 * (contigmalloc and cache misses), zero-filled for M_ZERO in `flags`.
 * NULL with *errorp set.
 */
void	*uma__malloc_large(size_t size, size_t align, uintptr_t low,
	    uintptr_t high, size_t boundary, bool contig, int flags,
	    int *errorp) UMA_HIDDEN;
/*
 * A run for malloc: from the run cache if one fits (zero-filled only for
 * M_ZERO), else fresh.  *lenp gets its length, which the type counts.
 * NULL with errno set.
 */
void	*uma__malloc_large_alloc(size_t size, size_t align, int flags,
	    size_t *lenp) UMA_HIDDEN;
/*
 * realloc of a live malloc run to len bytes (a page multiple above
 * MALLOC_MAXSIZE): in place when the arena has room after it (a shrink
 * always is, unless it gives back less than a quarter: then the run is
 * kept as it is), else into a new run with a quarter more room, the pages
 * moved with mremap or copied.  ml describes the block after it too; bytes
 * beyond the old size read as zeros; an M_NODUMP run stays out of dumps.
 * Returns 0 or ENOMEM (ml unchanged).
 */
int	uma__malloc_large_resize(struct malloc_large *ml, size_t len)
	    UMA_HIDDEN;

/*
 * realloc's work, for vm.malloc.realloc_*: large runs resized in place,
 * moved by remapping (and their bytes), blocks moved by copying (class
 * or large, and the bytes copied).
 */
extern uint64_t uma__realloc_in_place UMA_HIDDEN;
extern uint64_t uma__realloc_remapped UMA_HIDDEN;
extern uint64_t uma__realloc_remapped_bytes UMA_HIDDEN;
extern uint64_t uma__realloc_copied UMA_HIDDEN;
extern uint64_t uma__realloc_copied_bytes UMA_HIDDEN;

/*
 * Free a live run into the cache or the arena; a double free aborts.  A
 * M_NODUMP run is made dumpable again first.
 */
void	uma__malloc_large_free(struct malloc_large *ml) UMA_HIDDEN;
/* Keep a live run out of core dumps until it is freed (M_NODUMP). */
void	uma__malloc_large_nodump(struct malloc_large *ml) UMA_HIDDEN;
/* The descriptor of the live large run starting at addr, or NULL. */
struct malloc_large *uma__malloc_large_find(const void *addr) UMA_HIDDEN;
/*
 * Give cached runs back: periodic (the timeout thread's trim) those not
 * reused since the last periodic trim, otherwise (uma_reclaim) all.
 */
void	uma__malloc_large_reclaim(bool periodic) UMA_HIDDEN;
/*
 * A large request of `size` bytes that MemGuard served instead (a sample):
 * give back the cached run it would have reused, so that the guarded run's
 * fresh pages take that run's place in the resident set, not add to it.
 */
void	uma__malloc_large_forgo(size_t size) UMA_HIDDEN;

/* Bytes of freed runs the cache keeps (the kmem report's large_cache). */
uint64_t uma__malloc_large_cached(void) UMA_HIDDEN;
/*
 * Call fn on every cached run, under the cache's lock (fn must not call
 * malloc); `old`: not reused since the last periodic trim, which gives it
 * back next.
 */
void	uma__malloc_large_cache_walk(void (*fn)(struct malloc_large *ml,
	    bool old, void *arg), void *arg) UMA_HIDDEN;

/* malloc_type.c */
void	uma__mstat_add(struct malloc_type *mtp, size_t word, uint64_t delta)
	    UMA_HIDDEN;
/*
 * The type whose size-class counts are the class zones' minus the other
 * types' (see malloc_type.c), or NULL; set once, before it allocates much.
 */
extern struct malloc_type *uma__malloc_zone_type UMA_HIDDEN;
void	uma__malloc_type_register(struct malloc_type *mtp) UMA_HIDDEN;
void	uma__malloc_type_startup(void) UMA_HIDDEN;
void	uma__malloc_type_fork_prepare(void) UMA_HIDDEN;
void	uma__malloc_type_fork_parent(void) UMA_HIDDEN;
void	uma__malloc_type_fork_child(void) UMA_HIDDEN;

/*
 * Totals of one type over all CPUs; *sizemask gets the classes used.
 * Returns allocations live (numallocs - numfrees).
 */
struct malloc_type_totals {
	uint64_t	mt_memalloced;
	uint64_t	mt_memfreed;
	uint64_t	mt_numallocs;
	uint64_t	mt_numfrees;
	uint64_t	mt_sizemask;
};
void	uma__malloc_type_totals(struct malloc_type *mtp,
	    struct malloc_type_totals *tt) UMA_HIDDEN;

/*
 * kern.malloc_stats: write FreeBSD's malloc type stream (version 1) into
 * buf if it holds `len` bytes.  Returns the stream's length either way
 * (call with NULL, 0 to size the buffer).
 */
size_t	uma__malloc_stream(void *buf, size_t len) UMA_HIDDEN;

/* kern.malloc_count: types registered. */
int	uma__malloc_count(void) UMA_HIDDEN;

/*
 * MemGuard (vm.memguard.desc): whether it guards `mtp` whole, and make
 * every registered type follow the current desc (memguard_select.c).
 */
bool	uma__malloc_type_guarded(struct malloc_type *mtp) UMA_HIDDEN;
void	uma__malloc_types_memguard(void) UMA_HIDDEN;

/* Call fn on every registered type, under the type list lock. */
int	uma__malloc_type_foreach(int (*fn)(struct malloc_type *, void *),
	    void *arg) UMA_HIDDEN;

#endif /* !_UMA_MALLOC_INT_H_ */
