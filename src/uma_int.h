/*
 * uma_int.h - THE MAP of uma's zone allocator: how the objects relate, the
 * allocation order, the slab layout, the locks, then the structs with their
 * invariants.  Nothing here is seen by users.
 *
 * Objects
 * -------
 * A ZONE is what callers hold: a name, ctor/dtor, zone init/fini, a limit,
 * statistics, one CACHE per CPU and a cache of full BUCKETS.  A zone stands
 * on a KEG: the slab cache of one item size and alignment, with its keg
 * init/fini and its partial, free and full slab lists.  The first zone of a
 * keg is its primary; zones made by uma_zsecond_create stand on the same keg
 * and are secondary (the mbuf "packet" zone is the classic one).  A SLAB is
 * one run of pages cut into items, with a header and a free bitset.  Pages
 * come from the page layer (vm.c) through a backend.
 *
 *   zone "mbuf" ---------\                    /-- slab: [item][item]...[hdr]
 *   zone "mbuf_packet" ---> keg (256 B) ------+-- slab: ...
 *                                             \-- slab: ...
 *
 * Allocation order (free goes back the same way), and the file of each
 * step; each file is one layer and includes only the headers of the
 * layers below it (tools/layers.py checks it):
 *   0) the hit path: one inline pop from this CPU's alloc bucket, behind
 *      one test of the zone's gate word (zone_fast.h); the only door into
 *      the caches, for uma_zalloc (zalloc.c), mbufs and malloc(9) alike;
 *   1) the miss entry (zalloc.c): the zone's own stages (ctor, dtor, debug
 *      checks, the sleep at the limit) around what follows;
 *   2) this CPU's free bucket, swapped in or split with the alloc bucket
 *      (cache.c, per-CPU lock);
 *   3) a full bucket from the zone's bucket cache (bucket.c, zone lock);
 *   4) a new bucket filled from the keg through the zone's back end
 *      (import.c, zone init on each item): partial slabs, then free slabs,
 *      then a new slab (keg.c, slab.c, keg lock);
 *   5) pages from the backend (vm.c), or from the keg's own allocf
 *      (uma_zone_set_allocf: pages outside the arena, whose slabs are
 *      found through vmhash.c, not the arena's tables).
 * Zones without buckets (NOBUCKET, internal zones) go from 1 straight to 4
 * (import.c's single-item path).  A cache zone (uma_zcache_create) has
 * caches and buckets but no slabs: its 4) and 5) are the caller's import
 * and release (import.c); its keg is only the item's shape, on no list.
 *
 * The one door back up.  Kegs, zone structs, per-CPU cache arrays,
 * buckets and off-page slab headers are items of uma's own zones, so the
 * keg and slab layers need items from the zone layer above them: they get
 * them through internal.h (uma__internal_alloc/free/zcreate) and no other
 * way.  The recursion ends at the bootstrap zones, whose kegs are static.
 *
 * Around the allocator: init.c holds the start-up order (boot tunables,
 * the arena, the CPU mode, uma's own zones; then the threads), threads.c
 * decides when uma's threads start and kthread.c makes them, reclaim.c
 * gives memory back, stats.c and the files above it read.
 *
 * MemGuard (memguard.h) sits just above the pages and below the slabs:
 * its core (memguard.c, memguard_policy.c, memguard_report.c) knows
 * pages and records, nothing of kegs; its hooks live in the layers that
 * call it, the zone entry's miss paths (memguard_zone.c), malloc
 * (memguard_malloc.c) and vm.memguard.desc (memguard_select.c).  Its
 * pages are in an arena of its own beside uma's, made inaccessible one
 * run at a time, so they do not come through the backend (whose runs are
 * the arena's, and whose use counts add up to its page count): the kmem
 * report counts them as a part of their own (uks_memguard), and an
 * mmap or mprotect that MemGuard is refused is a counted fallback to the
 * normal path (fail_kva, fail_pgs).
 *
 * Inline slab (header at the end of the run, items from the start):
 *
 *   | item 0 | item 1 | ... | item ipers-1 | pad | uma_slab + bitset |
 *   ^ slab base (page aligned)                    ^ base + uk_pgoff
 *
 * Off-page slabs keep the header in an internal "UMA Slabs" zone; every page
 * of every slab maps to its header through the vtoslab table (vm.c).
 *
 * Locks, in the order they are taken
 * ----------------------------------
 * uma_lock (rwlock): the lists of kegs and zones.  Readers walk zones for
 *   statistics and reclaim; writers create and destroy.
 * uc_lock (mutex, one per CPU per zone): owns the slow path of that CPU's
 *   cache.  The fast path never takes it: it changes the cache only through
 *   one restartable-sequence commit of uc_word.  The slow path first takes
 *   uc_lock, then "closes" the cache by storing a word with no room and no
 *   items (from that CPU inside a restartable sequence, or from elsewhere by
 *   compare-and-swap plus a membarrier rseq fence), works, and reopens it
 *   with one store.  In locked mode (no rseq) every operation takes uc_lock.
 * uz_lock (mutex, per zone): the zone's bucket list and bucket sizing (its
 *   hand-off slots, uz_fslot/uz_eslot, take no lock).
 * uk_lock (mutex, per keg): slab lists and keg counters; shared by every
 *   zone on the keg.
 * vm lock (vm.c): the address map.  Leaf.
 * uz_limit_lock (mutex, per limited zone): sleepers at the limit.  Leaf; it
 *   is never held while taking another lock.
 * Statistics readers take none of uc_lock/uz_lock/uk_lock: they read
 * atomics and retry on a per-cache sequence count.  The one exception is
 * the kmem report's extended walk (kmem_walk.c), which takes them one at
 * a time under uma_lock, never two at once, to read caches and slab lists.
 *
 * Beside the zones, each a leaf unless said:
 *   slabzones.lock (keg.c): the off-page header zones; taken before
 *     uma_lock, as creating one takes it (fork takes it first);
 *   class_lock (malloc.c): a malloc class zone's creation, which takes
 *     uma_lock and the internal zones' locks under it;
 *   malloc_mtx (malloc_type.c): the list of malloc types; the stream
 *     writer holds it;
 *   the large-run cache lock (malloc_large.c): never held while giving
 *     pages back;
 *   the mbuf limits lock (mbuf_limit.c): taken before uma_zone_set_max,
 *     so before uz_lock;
 *   the export endpoint's start/stop lock (export.c): its server thread
 *     reads zones under uma_lock like any reader;
 *   forks.lock (threads.c) and the timeout lock (reclaim.c): never held
 *     while calling into libc's registration or pthread_create;
 *   MemGuard's arena lock and desc lock (memguard.c, memguard_policy.c):
 *     taken under uma_lock or malloc_mtx at most, and around no other
 *     lock.
 * Functions named _locked assert their lock in UMA_DEBUG builds.
 */
#ifndef _UMA_INT_H_
#define	_UMA_INT_H_

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uma/uma.h>

#ifdef UMA_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#include "lock.h"
#include "queue.h"

#define	UMA_HIDDEN	__attribute__((visibility("hidden")))
#define	__predict_false(x)	__builtin_expect(!!(x), 0)
#define	__predict_true(x)	__builtin_expect(!!(x), 1)
#define	UMA_CACHELINE	64
#define	__cacheline	__attribute__((aligned(UMA_CACHELINE)))
/*
 * Zero-filled arrays that a program touches only when it uses what they
 * serve (the export endpoint, sysctl names, UMA_TUNABLES, memory before
 * start-up).  The linker script (cmake/text_layout.cmake) places them
 * after the rest of .bss: between them, the small variables every
 * program touches were strewn over 9 pages, and now share 4.
 */
#define	__bss_cold	__attribute__((section(".bss.~cold")))

#define	howmany(x, y)	(((x) + ((y) - 1)) / (y))
#define	roundup2(x, y)	(((x) + ((y) - 1)) & ~((size_t)(y) - 1))
#define	nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define	UMA_MAX_WASTE		10	/* percent of a slab we may lose */
#define	UMA_MAX_WASTE_LARGE	3	/* the same, items of a quarter page up */
#define	UMA_SLAB_MAXPAGES	32	/* multi-page slabs stop here (128 KiB) */
#define	UMA_SLAB_MAXITEMS	1024	/* bitset size bound */
#define	UMA_SLAB_MINITEMS	4	/* items of up to a page, a slab */
#define	UMA_TIMEOUT		20	/* seconds between trims */

/*
 * Internal zone flags share the 32-bit space with UMA_ZONE_* (uma.h);
 * these must not overlap the public ones.
 */
#define	UMA_ZFLAG_OFFPAGE	0x00200000	/* slab header off-page */
#define	UMA_ZFLAG_CACHE		0x01000000	/* uma_zcache_create: no slabs */
#define	UMA_ZFLAG_FOREIGN	0x02000000	/* pages from uk_allocf */
#define	UMA_ZFLAG_CLASS		0x04000000	/* malloc class: zone_fast.h */
#define	UMA_ZFLAG_BUCKET	0x10000000	/* a bucket zone */
#define	UMA_ZFLAG_INTERNAL	0x20000000	/* uma's own zone: no caches */

/*
 * Why the zone's back end gave no item: the *errorp of import.h, keg.h,
 * slab.h and bucket.h.  UMA_ELIMIT: the zone is at its limit (the entry
 * may sleep).  UMA_ENOPAGES: the page layer refused pages (the OS, or
 * M_NOVM; the entry runs the low-memory path for M_WAITOK).  UMA_EINIT: a
 * keg or zone init failed; whatever errno it returned, it is reported as
 * this, so that an init can never pass for one of the others.
 */
#define	UMA_ELIMIT	EAGAIN
#define	UMA_ENOPAGES	ENOMEM
#define	UMA_EINIT	ECANCELED

/*
 * uma's own allocation flag, above FreeBSD's M_* bits: a NULL is not
 * counted as the zone's failure, because the caller will try again
 * another way (the mbuf layer's first try, and the packet zone's init
 * asking for a cluster).  FreeBSD counts those as failures; netstat -m's
 * "denied" then counts requests that were in the end served.
 */
#define	M_UMA_QUIET	0x40000000

/*
 * uz_gate: why a hit path may not serve the zone (zone_fast.h); 0 in the
 * direction's mask: a pop or a push is the whole operation.
 */
#define	UZ_GATE_CTOR	0x01	/* ctor (or the debug bitset) on alloc */
#define	UZ_GATE_DTOR	0x02	/* dtor (or the debug bitset) on free */
#define	UZ_GATE_TRASH	0x04	/* debug trash fill and check */
#define	UZ_GATE_SLEEPERS 0x08	/* threads sleep at the limit: free to keg */
#define	UZ_GATE_NOCACHE	0x10	/* no per-CPU cache (NOBUCKET, internal) */
#define	UZ_GATE_LOCKED	0x20	/* caches in locked mode (no rseq) */
#define	UZ_GATE_MEMGUARD 0x40	/* MemGuard guards every item (memguard.h) */
/*
 * Guarded items of the zone now live, counted in the gate itself: while
 * any is, every free of the zone takes the miss entry, which tells a
 * guarded item from a cached one; a guarded item must never reach a
 * per-CPU cache.  The count goes up before the item is handed out, so a
 * free of it (which the program orders after the allocation) sees it;
 * its own free takes it down, so no other free can open the gate under
 * it.  One word, so no bit can go stale beside a count.
 */
#define	UZ_GATE_GUARDED_ONE	0x10000u
#define	UZ_GATE_GUARDED		0xffff0000u
#define	UZ_GATE_ALLOC	(UZ_GATE_CTOR | UZ_GATE_TRASH | UZ_GATE_LOCKED | \
	UZ_GATE_MEMGUARD)
#define	UZ_GATE_FREE	(UZ_GATE_DTOR | UZ_GATE_TRASH | UZ_GATE_SLEEPERS | \
	UZ_GATE_NOCACHE | UZ_GATE_LOCKED | UZ_GATE_MEMGUARD | UZ_GATE_GUARDED)

/*
 * Debug levels (UMA_DEBUG, set by the build).  1, FreeBSD's INVARIANTS:
 * UMA_ASSERT, every free checked at the call, functions named _locked
 * assert their lock, and the validity walkers (keg.c, bucket.c,
 * zone_ctor.c) check the equations of the structs below wherever uma
 * drains, reclaims or destroys.  2 adds the per-slab debug bitsets and
 * trash (debug.c).
 */
#ifndef UMA_DEBUG
#define	UMA_DEBUG	0
#endif
#if UMA_DEBUG > 0
#define	UMA_ASSERT(e, ...) do {						\
	if (__predict_false(!(e)))					\
		uma__panic(__VA_ARGS__);				\
} while (0)
/* glibc's mutexes record their owner's thread id. */
#define	UMA_MTX_ASSERT(m) UMA_ASSERT((m)->__data.__owner == uma__gettid(), \
	"uma: %s:%d: %s not held", __FILE__, __LINE__, #m)
#define	UMA_LOCK_ASSERT(l) UMA_ASSERT(uma_lock_owned(l),		\
	"uma: %s:%d: %s not held", __FILE__, __LINE__, #l)
#else
#define	UMA_ASSERT(e, ...)	do { } while (0)
#define	UMA_MTX_ASSERT(m)	do { } while (0)
#define	UMA_LOCK_ASSERT(l)	do { } while (0)
#endif

struct uma_keg;
struct uma_slab;
struct uma_bucket;

LIST_HEAD(slabhead, uma_slab);
TAILQ_HEAD(bucketlist, uma_bucket);

/*
 * A slab.  Invariant: us_freecount == popcount(us_free) ==
 * ipers - items handed to zones; a slab is on uk_free_slab iff
 * us_freecount == ipers, on uk_full_slab iff 0, else on uk_part_slab.
 * us_free has bit i set iff item i is in the keg (free).  In UMA_DEBUG
 * builds us_dbg (after us_free) has bit i set iff item i is with a user.
 * REFCNT kegs keep a uint32_t per item after the bitsets.
 */
struct uma_slab {
	struct uma_keg	*us_keg;
	LIST_ENTRY(uma_slab) us_link;
	char		*us_data;	/* first item */
	uint16_t	 us_freecount;
	uint16_t	 us_flags;	/* uk_slabflags (malloc class) | pflag << 8 */
	uint32_t	 us_colour;	/* us_data - start of the run */
	uint64_t	 us_free[];	/* free bitset, then debug, then refcnt */
};
typedef struct uma_slab *uma_slab_t;

/*
 * Exact division by a fixed size (Granlund and Montgomery, "Division by
 * invariant integers using multiplication", section 9): for a size
 * d = o << k, o odd, with inv the inverse of o modulo 2^64, off * inv
 * rotated right by k is off / d when d divides off, and more than
 * (2^64 - 1) / d when it does not (low bits of off set come out on top;
 * otherwise the odd part's test).  So one multiply, a rotate and one
 * compare with the items of a slab say both "an item starts here" and
 * "inside the slab's items", and give the item's index.
 */
struct uma_divx {
	uint64_t	dx_inv;		/* inverse of size's odd part */
	uint32_t	dx_rot;		/* size's trailing zero bits */
};

static inline struct uma_divx
uma_divx_make(uint32_t size)
{
	struct uma_divx dx;
	uint64_t o;

	dx.dx_rot = (uint32_t)__builtin_ctz(size);
	o = size >> dx.dx_rot;
	/* Newton's iteration: right in 3 bits (o * o = 1 mod 8), then 96. */
	dx.dx_inv = o;
	for (int i = 0; i < 5; i++)
		dx.dx_inv *= 2 - o * dx.dx_inv;
	return (dx);
}

/* off / size if size divides off; otherwise more than UINT64_MAX / size. */
static inline uint64_t
uma_divx(uint64_t off, uint64_t inv, uint32_t rot)
{
	uint64_t q = off * inv;

	return ((q >> rot) | (q << ((64 - rot) & 63)));
}

/*
 * A keg: the slab cache of one item shape.  Invariant (under uk_lock):
 * uk_free_items == sum of us_freecount over all slabs, and
 * uk_pages == uk_ppera * (number of slabs).
 */
struct uma_keg {
	pthread_mutex_t	 uk_lock;
	struct slabhead	 uk_part_slab;
	struct slabhead	 uk_free_slab;
	struct slabhead	 uk_full_slab;
	_Atomic uint64_t uk_pages;	/* counters: written under uk_lock, */
	_Atomic uint64_t uk_free_items;	/* read without it */
	_Atomic uint64_t uk_free_slabs;
	uint32_t	 uk_reserve;	/* free items kept for M_USE_RESERVE */

	uma_init	 uk_init;
	uma_fini	 uk_fini;
	uma_alloc	 uk_allocf;	/* UMA_ZFLAG_FOREIGN: the keg's own */
	uma_freef	 uk_freef;	/* page allocator (vmhash.c) */
	uint32_t	 uk_size;	/* requested item size */
	uint32_t	 uk_rsize;	/* real item size */
	struct uma_divx	 uk_divx;	/* uma_divx_make(rsize) */
	uint32_t	 uk_align;	/* alignment mask */
	uint32_t	 uk_ipers;	/* items per slab */
	uint32_t	 uk_ppera;	/* pages per slab */
	uint32_t	 uk_pgoff;	/* inline header offset */
	uint32_t	 uk_hdrsize;	/* header bytes (inline or off-page) */
	uint32_t	 uk_bitwords;	/* 64-bit words in one bitset */
	uint32_t	 uk_flags;	/* UMA_ZONE_* | UMA_ZFLAG_* */
	uint16_t	 uk_slabflags;	/* copied to each slab's us_flags */
	uint16_t	 uk_id;		/* in its pages' tags; 0: none left */
	_Atomic uint32_t uk_colour;	/* CACHESPREAD: slabs made so far */
	uma_zone_t	 uk_slabzone;	/* off-page headers come from here */
	const char	*uk_name;	/* the primary zone's name */
	LIST_HEAD(, uma_zone) uk_zones;	/* primary first */
	LIST_ENTRY(uma_keg) uk_link;
	uint64_t	 uk_idle;	/* fewest free slabs since the idle pass */
};
typedef struct uma_keg *uma_keg_t;

/*
 * Copies of each item: a per-CPU keg (UMA_ZONE_PCPU) keeps one per CPU,
 * a page apart (its slab is uk_ppera == CPUs pages, items in the first
 * page), so an item's memory is this many times uk_size.
 */
static inline uint32_t
uma_keg_copies(uma_keg_t keg)
{
	return (keg->uk_flags & UMA_ZONE_PCPU ? keg->uk_ppera : 1);
}

/*
 * A bucket: a stack of free items in the zone-initialized state.
 * 0 <= ub_cnt <= ub_entries.  While a bucket is installed in a CPU cache
 * its live count is in the cache word and ub_cnt is stale.
 */
struct uma_bucket {
	TAILQ_ENTRY(uma_bucket) ub_link;
	uint16_t	 ub_cnt;
	uint16_t	 ub_entries;
	uint32_t	 ub_pad;
	void		*ub_bucket[];
};
typedef struct uma_bucket *uma_bucket_t;

/*
 * A per-CPU cache.  uc_word packs what the fast path changes in one store:
 *   bits  0-11  cnt    items in the alloc bucket
 *   bits 12-23  room   free slots in the alloc bucket (0 when closed)
 *   bits 24-63  allocs items popped, modulo 2^40
 * An alloc pops and adds UC_ALLOC_DELTA; a free pushes and adds
 * UC_FREE_DELTA.  cnt == 0 sends an alloc to the slow path, room == 0 a
 * free; a closed cache (word with cnt = room = 0) sends both.
 *
 * frees are not counted on the fast path; they follow from
 *   frees == allocs + (items now in this cache) - uc_loaded + uc_unloaded
 * because every item enters a CPU cache either by a user free or by a load
 * from the zone, and leaves it by a user alloc or an unload.  uc_loaded and
 * uc_unloaded change only under uc_lock, inside a uc_seq write section, so
 * readers get a consistent set by retrying on uc_seq.  The 40-bit allocs
 * field is widened by uc_allocs_base / uc_allocs_last, which every slow
 * path advances (cache_fold_locked).  The pop that would wrap the field
 * carries out of bit 63 and takes the slow path instead, so a fold comes
 * at least once per 2^40 pops even on a CPU that never misses, with or
 * without the trim thread.
 */
struct uma_cache {
	_Atomic uint64_t uc_word;
	void		**uc_items;	/* alloc bucket's ub_bucket */
	uma_bucket_t	 uc_allocbucket;
	uma_bucket_t	 uc_freebucket;
	_Atomic uint32_t uc_seq;	/* odd while the slow path works */
	_Atomic uint16_t uc_fcnt;	/* items in uc_freebucket */
	uint16_t	 uc_miss;	/* last slow path: UC_MISS_* | cnt left << 2 */
	_Atomic uint64_t uc_loaded;
	_Atomic uint64_t uc_unloaded;
	_Atomic uint64_t uc_allocs_base;
	_Atomic uint64_t uc_allocs_last;
	_Atomic uint64_t uc_unwound;	/* pops undone by a failed ctor */
	uint64_t	 uc_free_mark;	/* allocs field at the last free slow path */
	uma_lock_t	 uc_lock;
} __cacheline;
typedef struct uma_cache *uma_cache_t;
#define	UC_MISS_ALLOC	1
#define	UC_MISS_FREE	2

/*
 * Every array of per-CPU caches (uz_cpu) is preceded by UMA_CACHE_GUARD
 * caches that are always closed (no items, no room).  A thread whose rseq
 * area is not registered reads cpu_id -1 (uninitialized) or -2
 * (registration failed); the fast path indexes with it as it is, lands on
 * a closed cache and goes to the slow path, which sorts the thread out.
 * That saves the fast path a test and a branch.
 */
#define	UMA_CACHE_GUARD	2

#define	UC_CNT_BITS	12
#define	UC_CNT_MASK	((1ull << UC_CNT_BITS) - 1)
#define	UC_ROOM_SHIFT	12
#define	UC_ROOM_MASK	(UC_CNT_MASK << UC_ROOM_SHIFT)
#define	UC_ALLOC_SHIFT	24
#define	UC_ALLOC_BITS	40
#define	UC_ALLOC_DELTA	((1ull << UC_ALLOC_SHIFT) + (1ull << UC_ROOM_SHIFT) - 1)
#define	UC_FREE_DELTA	(1ull - (1ull << UC_ROOM_SHIFT))
#define	UC_BUCKET_MAX	UC_CNT_MASK	/* largest bucket a cache can hold */

static inline uint32_t
uc_word_cnt(uint64_t w)
{
	return ((uint32_t)(w & UC_CNT_MASK));
}

static inline uint32_t
uc_word_room(uint64_t w)
{
	return ((uint32_t)((w >> UC_ROOM_SHIFT) & UC_CNT_MASK));
}

static inline uint64_t
uc_word_allocs(uint64_t w)
{
	return (w >> UC_ALLOC_SHIFT);
}

static inline uint64_t
uc_word_make(uint64_t allocs, uint32_t cnt, uint32_t room)
{
	return ((allocs << UC_ALLOC_SHIFT) |
	    ((uint64_t)room << UC_ROOM_SHIFT) | cnt);
}

/*
 * A zone.  Statistics invariant (quiesced):
 *   allocs = uz_allocs + sum over CPUs of cache allocs,
 *   frees  = uz_frees  + sum over CPUs of cache frees,
 *   allocs - frees = items with users.
 * uz_items counts items out of the keg (with users or cached): it is what
 * the limit bounds.  uz_nitems == items in uz_buckets.
 */
#define	UZ_FSLOTS	4
#define	UZ_ESLOTS	3

struct uma_zone {
	/* Read by every fast path: keep together. */
	uma_cache_t	 uz_cpu;	/* [uma_ncpus]; fixed before first use */
	_Atomic uint32_t uz_gate;	/* UZ_GATE_* */
	uint32_t	 uz_size;
	uma_keg_t	 uz_keg;
	uma_ctor	 uz_ctor;
	uma_dtor	 uz_dtor;
	uma_init	 uz_init;	/* zone init (keg -> zone) */
	uma_fini	 uz_fini;	/* zone fini (zone -> keg) */
	uint32_t	 uz_flags;
	const char	*uz_name;
	/* Set once or rarely: they share the first line's tail. */
	void		*uz_cpu_mem;	/* our "UMA Caches" item, or NULL */
	_Atomic bool	 uz_used;	/* an allocation happened */
	LIST_ENTRY(uma_zone) uz_link;	/* on the keg's list */
	TAILQ_ENTRY(uma_zone) uz_all;	/* on the global list */

	/* The zone's bucket cache (uz_lock). */
	pthread_mutex_t	 uz_lock __cacheline;
	struct bucketlist uz_buckets;	/* full buckets, most recent first */
	_Atomic uint64_t uz_nitems;	/* items in uz_buckets */
	uint64_t	 uz_bucket_max;	/* cap on uz_nitems */
	_Atomic uint32_t uz_bucket_size;	/* entries of new buckets */
	uint32_t	 uz_bucket_size_min;
	uint32_t	 uz_bucket_size_max;
	uint64_t	 uz_imax;	/* working-set estimate, per period */
	uint64_t	 uz_imin;
	uint64_t	 uz_wss;
	uint64_t	 uz_idle;	/* fewest uz_nitems since the idle pass */
	_Atomic uint32_t uz_puts;	/* full buckets handed in (bucket_grow) */
	_Atomic uint32_t uz_fill_puts;	/* uz_puts at the last fill */

	/*
	 * Hand-off slots (bucket.c): full and empty buckets passed between
	 * CPUs without uz_lock.  One line, so that a CPU that trades a full
	 * bucket for an empty one moves a single line.
	 */
	_Atomic(struct uma_bucket *) uz_fslot[UZ_FSLOTS] __cacheline;
	_Atomic(struct uma_bucket *) uz_eslot[UZ_ESLOTS];
	_Atomic uint64_t uz_nslot;	/* items in uz_fslot (never fewer) */

	/* Limits (atomics; uz_limit_lock only for sleepers). */
	_Atomic uint64_t uz_items __cacheline;
	_Atomic uint64_t uz_max_items;	/* 0 = no limit */
	_Atomic uint32_t uz_sleepers;
	pthread_mutex_t	 uz_limit_lock;
	pthread_cond_t	 uz_limit_cv;
	const char	*uz_warning;
	_Atomic int64_t	 uz_warned_at;	/* seconds, monotonic */
	_Atomic(uma_maxaction_t) uz_maxaction;	/* at the limit (limit.c) */
	_Atomic uint32_t uz_ma_pending;	/* limit hits not yet acted on */
	_Atomic bool	 uz_ma_busy;	/* a thread runs uz_maxaction */

	/* Zone-level counters (slow paths only). */
	_Atomic uint64_t uz_allocs;
	_Atomic uint64_t uz_frees;
	_Atomic uint64_t uz_fails;
	_Atomic uint64_t uz_sleeps;

	/*
	 * A cache zone's back end (UMA_ZFLAG_CACHE, import.c): last, so that
	 * the lines the hit paths and the limit read keep their offsets.
	 */
	uma_import	 uz_import;
	uma_release	 uz_release;
	void		*uz_arg;

	uint64_t	 uz_idle_pops;	/* uma__cache_pops at the idle pass */
};

/* Globals of uma (init.c). */
struct uma_global {
	bool		 ug_ready;
	bool		 ug_rseq;	/* fast paths on restartable sequences */
	_Atomic uint32_t ug_class_gate;	/* class zones with sleepers */
	/*
	 * The same plus one in rseq mode: 0 when locked mode's class free
	 * may push (zone_fast.h), one compare where two took 5 instructions.
	 */
	_Atomic uint32_t ug_class_lmgate;
	_Atomic bool	 ug_threads;	/* fork handlers and trim thread on */
	int		 ug_ncpus;	/* CPUs that can exist */
	int		 ug_warnings;	/* vm.zone_warnings */
	int		 ug_multipage;	/* vm.debug.uma_multipage_slabs */
	pthread_rwlock_t ug_lock;	/* uma_lock: zone and keg lists */
	TAILQ_HEAD(uma_zonelist, uma_zone) ug_zones;
	LIST_HEAD(, uma_keg) ug_kegs;
	int		 ug_nzones;
	int		 ug_nzones_internal;
};
extern struct uma_global uma UMA_HIDDEN;

/*
 * Every layer may panic: print the message and abort (panic.c).  Used for
 * uma's own broken invariants and for misuse that must not go on.
 */
void	uma__panic(const char *fmt, ...) UMA_HIDDEN
	    __attribute__((noreturn, format(printf, 1, 2)));

#endif /* !_UMA_INT_H_ */
