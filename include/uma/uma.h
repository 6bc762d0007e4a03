/*
 * uma.h - the UMA zone allocator, in user space.
 *
 * A zone hands out fixed-size items.  Items come from slabs (runs of pages
 * cut into items) held by a keg; in front of the keg sit a cache of full
 * buckets per zone and, per CPU, an alloc and a free bucket that are reached
 * without a lock through restartable sequences.  Several zones may share one
 * keg (uma_zsecond_create): the first is the primary.
 *
 * The names, flags and semantics follow FreeBSD's uma(9); read that page for
 * the long story.  Differences are noted where they exist.
 */
#ifndef _UMA_UMA_H_
#define	_UMA_UMA_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Opaque type used as a handle to the zone. */
struct uma_zone;
typedef struct uma_zone *uma_zone_t;

/*
 * Allocation flags (FreeBSD's <sys/malloc.h> values).  Exactly one of
 * M_NOWAIT and M_WAITOK is given; M_WAITOK is assumed if neither is.
 */
#ifndef M_NOWAIT
#define	M_NOWAIT	0x0001	/* never sleep; may return NULL */
#define	M_WAITOK	0x0002	/* may sleep; no NULL for want of memory */
#define	M_ZERO		0x0100	/* zero the item after the constructor */
#define	M_NOVM		0x0200	/* serve from caches and slabs only, no new pages */
#define	M_USE_RESERVE	0x0400	/* may dip into the zone's reserve */
#endif

/*
 * Item constructor, run on every allocation just before the item is
 * returned.  Returns 0, or an errno value: the allocation then fails (NULL),
 * the item goes back to the zone and the zone counts a failure.
 */
typedef int (*uma_ctor)(void *mem, int size, void *arg, int flags);

/* Item destructor, run on every free.  Leaves the item initialized. */
typedef void (*uma_dtor)(void *mem, int size, void *arg);

/*
 * Item initializer, run when memory enters the cache: the keg init when a
 * slab is created (for every item), the zone init when an item moves from
 * the keg into the zone.  Returns 0 or an errno value; a failure makes the
 * allocation that needed the item fail cleanly.
 */
typedef int (*uma_init)(void *mem, int size, int flags);

/* Inverse of uma_init, run when memory leaves the cache. */
typedef void (*uma_fini)(void *mem, int size);

/*
 * A cache zone's back end (uma_zcache_create): import stores up to
 * `count` items in store[] and returns how many (0: none to be had);
 * release takes `count` items back.  `domain` is UMA_ANYDOMAIN (uma knows
 * no NUMA domains); `flags` are the allocation's.
 */
typedef int (*uma_import)(void *arg, void **store, int count, int domain,
    int flags);
typedef void (*uma_release)(void *arg, void **store, int count);
#define	UMA_ANYDOMAIN	(-1)

/*
 * A keg's own page allocator (uma_zone_set_allocf/freef): alloc returns
 * `size` bytes (whole pages: the keg's slab) aligned to a page, or NULL;
 * `zone` is the keg's primary zone, `domain` UMA_ANYDOMAIN, `wait` the
 * allocation's M_* flags, and what it stores in *pflag (0 before the
 * call) comes back to free.  FreeBSD calls the second type uma_free: here
 * that is malloc(9)'s free (<uma/malloc.h>), so it is uma_freef.
 */
typedef void *(*uma_alloc)(uma_zone_t zone, size_t size, int domain,
    uint8_t *pflag, int wait);
typedef void (*uma_freef)(void *item, size_t size, uint8_t pflag);

/* Alignment masks for uma_zcreate(): the alignment minus one. */
#define	UMA_ALIGN_PTR	(sizeof(void *) - 1)
#define	UMA_ALIGN_LONG	(sizeof(long) - 1)
#define	UMA_ALIGN_INT	(sizeof(int) - 1)
#define	UMA_ALIGN_SHORT	(sizeof(short) - 1)
#define	UMA_ALIGN_CHAR	(sizeof(char) - 1)
#define	UMA_ALIGN_CACHE	63
/* The alignment of `type`, as a mask (FreeBSD 14). */
#define	UMA_ALIGNOF(type)	(_Alignof(type) - 1)
/* A cache line, or `mask` if that is coarser (both are 2^n - 1). */
#define	UMA_ALIGN_CACHE_AND_MASK(mask)	(UMA_ALIGN_CACHE | (mask))
/* The cache-line mask, as FreeBSD 14 spells it (fixed here). */
static inline int
uma_get_cache_align_mask(void)
{
	return (UMA_ALIGN_CACHE);
}

/* The smallest item: smaller sizes are rounded up to it. */
#define	UMA_SMALLEST_UNIT	8

/* Zone creation flags (FreeBSD's values where FreeBSD has the flag). */
#define	UMA_ZONE_UNMANAGED	0x0001	/* never trimmed by reclaim */
#define	UMA_ZONE_ZINIT		0x0002	/* keg init zero-fills items */
#define	UMA_ZONE_NOTOUCH	0x0008	/* uma never writes items: off-page header */
#define	UMA_ZONE_OFFPAGE	UMA_ZONE_NOTOUCH
#define	UMA_ZONE_NOFREE		0x0020	/* slabs never go back: type stability */
#define	UMA_ZONE_VM		0x0080	/* buckets only from existing memory */
#define	UMA_ZONE_SECONDARY	0x0200	/* set on zones from uma_zsecond_create */
#define	UMA_ZONE_NOBUCKET	0x0400	/* no per-CPU caches */
#define	UMA_ZONE_MAXBUCKET	0x0800	/* start with the largest bucket */
#define	UMA_ZONE_REFCNT		0x1000	/* a 32-bit reference count per item */
#define	UMA_ZONE_CACHESPREAD	0x2000	/* spread items over cache lines */
#define	UMA_ZONE_NODUMP		0x4000	/* slabs left out of core dumps */
#define	UMA_ZONE_PCPU		0x8000	/* an item is a copy per CPU */

/*
 * Reclaim requests for uma_reclaim() and uma_zone_reclaim().  Unlike
 * FreeBSD's, DRAIN also flushes the per-CPU caches: in user space a
 * thread's CPU cache is not sure to be used again soon.
 */
#define	UMA_RECLAIM_DRAIN	1	/* free every cached item, empty slabs */
#define	UMA_RECLAIM_DRAIN_CPU	2	/* the same, and shrink future buckets */
#define	UMA_RECLAIM_TRIM	3	/* trim caches to the working set */

/*
 * Create a zone of items of `size` bytes aligned to `align` + 1 (a
 * UMA_ALIGN_* mask).  `name` must outlive the zone.  Returns NULL only if
 * the arguments are invalid (errno EINVAL) or memory for the zone itself is
 * not available (ENOMEM).
 */
uma_zone_t uma_zcreate(const char *name, size_t size, uma_ctor ctor,
    uma_dtor dtor, uma_init uminit, uma_fini fini, int align,
    uint32_t flags);

/*
 * Create a secondary zone on the keg of `primary`: same items and slabs,
 * its own ctor/dtor, zone init/fini, caches and statistics.
 */
uma_zone_t uma_zsecond_create(const char *name, uma_ctor ctor,
    uma_dtor dtor, uma_init zinit, uma_fini zfini, uma_zone_t primary);

/*
 * Create a cache zone: uma's per-CPU caches and bucket cache in front of
 * items the caller keeps (FreeBSD's).  There are no slabs: buckets fill by
 * zimport(arg, ...) and drain by zrelease(arg, ...), with the zone init and
 * fini on the way, and ctor/dtor on every allocation and free as for any
 * zone.  uma never reads or writes the items and cannot check a free's
 * pointer beyond a repeated one.  An import that returns nothing fails the
 * allocation, with M_WAITOK too (the import decides whether to wait).
 * `flags`: UMA_ZONE_NOBUCKET, UMA_ZONE_MAXBUCKET, UMA_ZONE_UNMANAGED.
 * Limits, reclaim, maxcache and the statistics work as for any zone;
 * uma_zone_memory is the cached items' bytes.  No keg: uma_zsecond_create,
 * uma_zone_set_init and _fini refuse it (EINVAL), uma_prealloc and
 * uma_zone_reserve do nothing.  Returns NULL with errno EINVAL or ENOMEM.
 */
uma_zone_t uma_zcache_create(const char *name, int size, uma_ctor ctor,
    uma_dtor dtor, uma_init zinit, uma_fini zfini, uma_import zimport,
    uma_release zrelease, void *arg, int flags);

/*
 * Destroy a zone: its caches are drained and, for the last zone on a keg,
 * the keg and its slabs are freed.  Items still allocated are reported on
 * stderr and their pages are lost.  Secondary zones go before their primary.
 */
void uma_zdestroy(uma_zone_t zone);

/*
 * Allocate an item.  `udata` is passed to the constructor.  M_WAITOK at
 * the limit sleeps until an item is freed (counted as a sleep).  M_WAITOK
 * never returns NULL for want of memory, as FreeBSD's: when the OS refuses
 * pages, uma runs its low-memory path (uma_lowmem_register) and tries
 * again, and after vm.lowmem_retries tries (about 3 s) prints
 * "uma: out of memory: zone ..." and aborts, where FreeBSD would panic.
 * Returns NULL if M_NOWAIT was given and the zone is at its limit or the
 * OS refused memory, if M_NOVM was given and no cached item is left, or if
 * an init or the constructor failed (with M_WAITOK too).  Every NULL is
 * counted as a failure in the zone's statistics.
 */
void *uma_zalloc_arg(uma_zone_t zone, void *udata, int flags);
void *uma_zalloc(uma_zone_t zone, int flags);

/*
 * Per-CPU items (FreeBSD's, the base of counter(9)).  An item of a zone
 * made with UMA_ZONE_PCPU (size at most UMA_PCPU_ALLOC_SIZE) is one copy
 * per CPU, UMA_PCPU_ALLOC_SIZE bytes apart: uma_zalloc_pcpu returns CPU
 * 0's copy, zpcpu_get_cpu(p, cpu) is CPU cpu's and zpcpu_get(p) the
 * calling thread's CPU's.  M_ZERO zeroes every copy; the ctor, dtor and
 * inits see CPU 0's.  A thread may move to another CPU at any time: its
 * updates through zpcpu_get must be atomic (counter(9) adds with one
 * relaxed atomic), and readers sum the copies of CPUs 0 .. uma_ncpus() -
 * 1.  Unlike FreeBSD's, the pointer is an address, not an offset.  The
 * _pcpu calls on a zone without UMA_ZONE_PCPU report it and abort.
 */
#define	UMA_PCPU_ALLOC_SIZE	4096
void *uma_zalloc_pcpu_arg(uma_zone_t zone, void *udata, int flags);
void *uma_zalloc_pcpu(uma_zone_t zone, int flags);
void uma_zfree_pcpu_arg(uma_zone_t zone, void *item, void *udata);
void uma_zfree_pcpu(uma_zone_t zone, void *item);
/* The calling thread's CPU now, in [0, uma_ncpus()); CPUs that can exist. */
int uma_curcpu(void);
int uma_ncpus(void);
#define	zpcpu_get_cpu(base, cpu)					\
	((__typeof__(base))((char *)(base) +				\
	    (size_t)UMA_PCPU_ALLOC_SIZE * (size_t)(cpu)))
#define	zpcpu_get(base)	zpcpu_get_cpu(base, uma_curcpu())

/*
 * Free an item to the zone it came from.  NULL is ignored.  Freeing an item
 * twice, to the wrong zone, or a pointer uma never gave is reported on
 * stderr, naming the zone, and aborts: at the call when the item is on top
 * of the CPU's cache or in the keg, or in UMA_DEBUG builds; otherwise no
 * later than when its bucket leaves the CPU's cache (before another thread
 * on another CPU can be handed it) or a reclaim drains it.
 */
void uma_zfree_arg(uma_zone_t zone, void *item, void *udata);
void uma_zfree(uma_zone_t zone, void *item);

/*
 * Limit the zone to `nitems` items (allocated and cached); 0 removes the
 * limit.  Returns the limit set.  At the limit M_NOWAIT fails and M_WAITOK
 * sleeps until an item is freed; while it sleeps, the zone's caches go
 * back to the keg every 10 ms, so items idling there are found too.
 * Per-CPU caching shrinks so that caches cannot hold most of the limit.
 */
int uma_zone_set_max(uma_zone_t zone, int nitems);
int uma_zone_get_max(uma_zone_t zone);

/* Items allocated and not freed (exact once the zone is quiet). */
int uma_zone_get_cur(uma_zone_t zone);

/*
 * Cap the items the zone's caches keep (FreeBSD's): each CPU's two
 * buckets hold at most nitems / (4 * CPUs) items each, never more than
 * uma would choose for the item size (0: no per-CPU caching), and the
 * zone's bucket cache what is left of nitems.  The caches are emptied, so
 * that the cap holds at once.  uma_zone_set_max sets a cap of its own.
 */
void uma_zone_set_maxcache(uma_zone_t zone, int nitems);

/*
 * Wait until an item of the zone could be had: allocate one with M_WAITOK
 * and free it (FreeBSD's uma_zwait).
 */
void uma_zwait(uma_zone_t zone);

/* Print "[zone: <name>] <msg>" at most once a 300 s when the limit is hit. */
void uma_zone_set_warning(uma_zone_t zone, const char *msg);

/*
 * Run fn(zone, pending) when an allocation finds the zone at its limit:
 * for each refused M_NOWAIT request, and every 10 ms while M_WAITOK
 * callers sleep there, so that fn may give back items that idle elsewhere
 * (FreeBSD's mbuf zones use it to drain the network protocols).  It runs
 * in the allocating thread, outside uma's locks, one call at a time per
 * zone: limit hits while it runs are coalesced into the next call,
 * `pending` of them (FreeBSD runs it from a taskqueue, with the same
 * count).  NULL removes it.
 */
typedef void (*uma_maxaction_t)(uma_zone_t zone, int pending);
void uma_zone_set_maxaction(uma_zone_t zone, uma_maxaction_t fn);

/*
 * Replace the keg init/fini (uma_zone_set_init/fini) or the zone init/fini
 * (zinit/zfini).  Only before the first allocation; returns 0, or EBUSY
 * after it (FreeBSD asserts instead), or EINVAL for a keg init/fini of a
 * cache zone, which has no keg.
 */
int uma_zone_set_init(uma_zone_t zone, uma_init uminit);
int uma_zone_set_fini(uma_zone_t zone, uma_fini fini);
int uma_zone_set_zinit(uma_zone_t zone, uma_init zinit);
int uma_zone_set_zfini(uma_zone_t zone, uma_fini zfini);

/*
 * Give the zone's keg a page allocator of its own (FreeBSD's): its slabs
 * come from allocf and go back to freef, so that the items lie on huge
 * pages, in shared memory, or where a device can reach them.  The pages
 * must lie outside uma's arena (not from uma_malloc or contigmalloc); uma
 * finds their slabs through a hash (frees and checks only: the hit paths
 * are the same).  They need not be zeroed: a new item is as allocf left
 * it (M_ZERO, UMA_ZONE_ZINIT or an init make it what it must be).  A
 * NULL from allocf is a refusal of memory: M_NOWAIT gets NULL, M_WAITOK
 * the low-memory path (uma_lowmem_register).  Without a freef the keg
 * never gives pages back.  Only before the zone's first allocation, and
 * with NULL back to uma's pages; returns 0, EBUSY after it (FreeBSD
 * asserts), or EINVAL for cache and per-CPU zones.  The kmem report
 * leaves such zones out (their memory is not uma's).
 */
int uma_zone_set_allocf(uma_zone_t zone, uma_alloc allocf);
int uma_zone_set_freef(uma_zone_t zone, uma_freef freef);

/* Keep `nitems` free items in the keg for M_USE_RESERVE allocations. */
void uma_zone_reserve(uma_zone_t zone, int nitems);

/* Allocate slabs for `nitems` items now, onto the keg's free list. */
void uma_prealloc(uma_zone_t zone, int nitems);

/*
 * Non-zero while threads sleep at the zone's limit (FreeBSD 13's meaning;
 * before it, "at the limit").  A zone at its limit that nobody waits on
 * is not exhausted: its M_NOWAIT callers fail, nobody is held up.
 */
int uma_zone_exhausted(uma_zone_t zone);

/* Bytes of pages the zone's keg holds. */
size_t uma_zone_memory(uma_zone_t zone);

/* Give memory back: one of the UMA_RECLAIM_* requests. */
void uma_reclaim(int req);
void uma_zone_reclaim(uma_zone_t zone, int req);

/*
 * For UMA_ZONE_REFCNT zones: the item's reference count, kept in its slab
 * header (FreeBSD 2005-2014).  It is 0 when the item is first handed out
 * and stays where it is while the item is free.  NULL for other zones.
 */
uint32_t *uma_find_refcnt(uma_zone_t zone, void *item);

/*
 * The low-memory event, FreeBSD's vm_lowmem.  When the OS refuses memory
 * to an allocation that may not fail (M_WAITOK: uma_zalloc, uma_malloc,
 * mbufs; contigmalloc), uma calls every registered handler, lowest
 * `priority` first, as fn(arg, UMA_LOWMEM_PAGES), then drains every zone
 * and cache back to the OS (uma_reclaim(UMA_RECLAIM_DRAIN)), waits a
 * backoff (0, 1, 4, 16 ... ms, at most 1 s) and tries again.  A handler
 * gives back what the program can spare (a cache of its own, freed to
 * uma).  Handlers run in the thread that was refused, one pass at a time,
 * outside every lock of uma's; they may allocate (a refusal within a pass
 * does not start another).  uma_lowmem_register returns a tag, or NULL
 * with no memory for it; uma_lowmem_deregister waits for a pass that may
 * be running the handler (from inside a handler it does not wait).
 */
#define	UMA_LOWMEM_PAGES	0x02	/* FreeBSD's VM_LOW_PAGES */
#define	UMA_LOWMEM_PRI_FIRST	0	/* FreeBSD's EVENTHANDLER_PRI_* */
#define	UMA_LOWMEM_PRI_ANY	10000
#define	UMA_LOWMEM_PRI_LAST	20000
typedef void (*uma_lowmem_handler_t)(void *arg, int flags);
typedef struct uma_lowmem_entry *uma_lowmem_tag_t;
uma_lowmem_tag_t uma_lowmem_register(uma_lowmem_handler_t fn, void *arg,
    int priority);
void uma_lowmem_deregister(uma_lowmem_tag_t tag);

/* The zone's name, as given at creation. */
const char *uma_zone_name(uma_zone_t zone);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_UMA_H_ */
