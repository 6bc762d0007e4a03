/*
 * memguard.h - MemGuard (memguard(9)), the guard-page allocator: its
 * arena, its guarded objects and their records, the knobs that select
 * what it guards, and its report (memguard.c, memguard_report.c).
 *
 * Layer: just above the pages.  It knows zones and malloc types only by
 * their names and flags; the layers that own them decide, count and run
 * their callbacks (memguard_zone.c for zones, memguard_malloc.c for
 * malloc, memguard_select.c for vm.memguard.desc and .options).
 *
 * A guarded object has pages of its own in MemGuard's arena, a range of
 * address space reserved for it alone (vm.memguard.divisor sizes it, as
 * FreeBSD's memguard_fudge does).  The object ends where its last page
 * ends (its size rounded up to its alignment, 16 at least), a guard page
 * follows, and with MG_GUARD_AROUND one precedes its pages; the bytes
 * around the object inside its pages hold a pattern checked at free.  On
 * free the pages lose their memory and all access (one mmap over them),
 * and the arena hands their addresses out again only when its cursor
 * wraps (wrapcnt): every read or write after free faults.  A fault in the
 * arena is reported by MemGuard's SIGSEGV handler (memguard_report.c).
 *
 * Two ways in:
 *   selected  vm.memguard.desc names a zone or a malloc type, or the
 *             options select all large allocations: every allocation of
 *             it is guarded (the zone's gate, UZ_GATE_MEMGUARD; the
 *             type's hidden counters, malloc_type.c);
 *   sampled   vm.memguard.frequency of every 100,000 allocations of any
 *             eligible zone or type, chosen where an allocation already
 *             leaves the hit path: the per-CPU cache's allocs field
 *             counts down to the next sample and its carry makes that
 *             pop miss (cache.c, uma__cache_sample_due), or for paths
 *             that are slow anyway a per-thread countdown.  Bounded by
 *             vm.memguard.frequency_maxlive objects live at once and
 *             vm.memguard.frequency_maxrate per second.
 * A guarded object counts in its zone's and type's statistics as an
 * unguarded one would; MemGuard's own counters say what it did.
 */
#ifndef _UMA_MEMGUARD_SRC_H_
#define	_UMA_MEMGUARD_SRC_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uma_int.h"

/* vm.memguard.options, FreeBSD's bits. */
#define	MG_GUARD_AROUND		0x001	/* a guard page before the object too */
#define	MG_GUARD_ALLLARGE	0x002	/* every allocation of a page or more */
#define	MG_GUARD_NOFREE		0x004	/* UMA_ZONE_NOFREE zones too */
/*
 * uma's: no allocation or free stacks (the report has the faulting
 * access's).  Each stack costs a microsecond or two.
 */
#define	MG_NOSTACKS		0x008
/*
 * uma's: sampled objects' stacks unwound, as selected objects' are,
 * instead of scanned (memguard_stack.c).  Exact, but the unwind tables
 * it reads stay resident: bench gcc, frequency=100, cc1's peak RSS
 * +2.5 MiB unwound, +0.3 MiB scanned.
 */
#define	MG_EXACTSTACKS		0x010
#define	MG_GUARD_ALL		0x01f

/*
 * Start MemGuard now if the boot tunables turned it on (init.c, after the
 * start-up's once); otherwise it starts at its first guarded allocation.
 */
void	uma__memguard_startup(void) UMA_HIDDEN;

/* The arena: [uma_mg_base, uma_mg_base + uma_mg_size), 0 until reserved. */
extern uintptr_t uma_mg_base UMA_HIDDEN;
extern uintptr_t uma_mg_size UMA_HIDDEN;

/*
 * Is p in MemGuard's arena?  The one test free paths add, off the hit path.
 * The size is published last (release) and read first (acquire): an arena
 * not yet reserved has size 0 and contains nothing.
 */
static inline bool
uma_memguard_contains(const void *p)
{
	uintptr_t size = __atomic_load_n(&uma_mg_size, __ATOMIC_ACQUIRE);

	return ((uintptr_t)p - __atomic_load_n(&uma_mg_base,
	    __ATOMIC_RELAXED) < size);
}

/*
 * Sampling is on (vm.memguard.frequency, or MG_GUARD_ALLLARGE for the
 * malloc classes of a page or more): one load, for the miss paths.
 */
extern uint32_t uma__mg_sampling UMA_HIDDEN;

static inline bool
uma__memguard_sampling(void)
{
	return (__predict_false(__atomic_load_n(&uma__mg_sampling,
	    __ATOMIC_RELAXED) != 0));
}

/*
 * The next sample in `zone`'s per-CPU cache comes this many allocations
 * from now (cache.c arms the cache with it); 0: none for this zone
 * (sampling off, the zone not eligible, or guarded whole by its gate).
 */
uint64_t uma__memguard_countdown(uma_zone_t zone) UMA_HIDDEN;

/* A per-thread countdown, for allocation paths that are slow anyway. */
bool	uma__memguard_tick(void) UMA_HIDDEN;

/*
 * May `zone`'s items be guarded at all (FreeBSD's memguard_cmp_zone
 * without the name): not uma's own, not a malloc class (malloc samples
 * those), no per-item state in the slab (UMA_ZONE_REFCNT), NOFREE only
 * with MG_GUARD_NOFREE, an alignment a page can give.
 */
bool	uma__memguard_zone_eligible(uma_zone_t zone) UMA_HIDDEN;
/* Is `zone` guarded whole (its gate's UZ_GATE_MEMGUARD)? */
bool	uma__memguard_zone_selected(uma_zone_t zone) UMA_HIDDEN;
/* Is a malloc type of this short description guarded whole? */
bool	uma__memguard_desc_match(const char *name) UMA_HIDDEN;
/* Is a malloc request of `size` guarded by MG_GUARD_ALLLARGE? */
bool	uma__memguard_alllarge(size_t size) UMA_HIDDEN;
/*
 * Make every malloc type follow vm.memguard.desc: set by malloc when it
 * starts (uma__malloc_types_memguard), NULL in a program without it.
 */
extern void (*uma__memguard_types_hook)(void) UMA_HIDDEN;

/* vm.memguard.desc and .options, for their handlers (memguard_select.c). */
void	uma__memguard_desc_get(char *buf, size_t len) UMA_HIDDEN;
void	uma__memguard_desc_set(const char *desc) UMA_HIDDEN;
int	uma__memguard_options_get(void) UMA_HIDDEN;
void	uma__memguard_options_set(int options) UMA_HIDDEN;

/*
 * May a guarded object of `size` be made now?  Counts minsize_reject;
 * for a sample also the live, byte and rate caps (frequency_drops) and
 * frequency_hits.  A caller that was admitted and then does not call
 * uma__memguard_alloc gives a sample's place back with
 * uma__memguard_unadmit.
 */
bool	uma__memguard_admit(size_t size, bool sampled) UMA_HIDDEN;
void	uma__memguard_unadmit(size_t size, bool sampled) UMA_HIDDEN;

/* Who a guarded object is for, and how its statistics count it. */
struct uma__mg_owner {
	uma_zone_t	 mo_zone;	/* the zone that counts it, or NULL */
	const void	*mo_type;	/* the malloc type, or NULL */
	const char	*mo_name;	/* the zone's or type's name */
	int		 mo_class;	/* malloc size class, -1 if none */
	uint64_t	 mo_acct;	/* bytes the statistics count for it */
	bool		 mo_sampled;	/* by frequency: the caps count it */
	bool		 mo_large;	/* a malloc run over 64 KiB */
};

/*
 * A guarded object of `size` bytes aligned to `align` (a power of 2 up to
 * a page) for `o`: its own pages, zero-filled, with its allocation stack
 * recorded.  NULL when MemGuard cannot (its arena could not be reserved
 * or is full: fail_kva; the kernel refused the pages or phys_limit is
 * reached: fail_pgs; or it is starting on another thread): the caller
 * then allocates as usual.  Never sleeps, never aborts.
 */
void	*uma__memguard_alloc(const struct uma__mg_owner *o, size_t size,
	    size_t align) UMA_HIDDEN;

/*
 * A free of p begins: p must start a live guarded object, an item of
 * `zone`, or a malloc object when zone is NULL.  Anything else (double free, a pointer inside the
 * object, another zone's, no object) is reported and aborts; `what` names
 * the call ("free", "uma_zfree", "realloc").  *o receives the owner, and
 * the object is marked as being freed, so that a racing second free is
 * caught too.  uma__memguard_free_end ends it: the pattern around the
 * object is checked (a write past either end is reported), the free's
 * stack recorded, and the pages made inaccessible.
 */
void	uma__memguard_free_begin(void *p, uma_zone_t zone, const char *what,
	    struct uma__mg_owner *o) UMA_HIDDEN;
void	uma__memguard_free_end(void *p) UMA_HIDDEN;

/* Take back an object no caller ever saw (its init or ctor failed). */
void	uma__memguard_discard(void *p) UMA_HIDDEN;

/* Bytes of the pages of the live guarded object at p, or 0 (no lock). */
size_t	uma__memguard_pages(const void *p) UMA_HIDDEN;

/* The size requested for live guarded object p (checked as free_begin). */
size_t	uma__memguard_size(const void *p, const char *what) UMA_HIDDEN;

/* Was live guarded object p a sample (vm.memguard.frequency)? */
bool	uma__memguard_sampled(const void *p) UMA_HIDDEN;

/*
 * A guarded pointer met where only a zone's own item may be (a bucket
 * leaving a CPU, debug.c): report it and abort.
 */
void	uma__memguard_misuse(const void *p, const char *where) UMA_HIDDEN
	    __attribute__((noreturn));

/* For the kmem report: MemGuard's memory, in bytes. */
struct uma__mg_kmem {
	uint64_t	mk_pages;	/* pages of live objects */
	uint64_t	mk_acct;	/* of them, what statistics count */
	uint64_t	mk_large;	/* of that, malloc runs (inuse_large) */
	uint64_t	mk_meta;	/* records, page table, map nodes */
};
void	uma__memguard_kmem(struct uma__mg_kmem *mk) UMA_HIDDEN;


/*
 * The stack scan's lock (memguard_stack.c): fork waits for scans to be
 * out of the loader's lock.  Taken first, before every uma lock (no scan
 * runs under one).
 */
void	uma__mg_stack_fork_prepare(void) UMA_HIDDEN;
void	uma__mg_stack_fork_parent(void) UMA_HIDDEN;
void	uma__mg_stack_fork_child(void) UMA_HIDDEN;
void	uma__memguard_fork_prepare(void) UMA_HIDDEN;
void	uma__memguard_fork_parent(void) UMA_HIDDEN;
void	uma__memguard_fork_child(void) UMA_HIDDEN;

#endif /* !_UMA_MEMGUARD_SRC_H_ */
