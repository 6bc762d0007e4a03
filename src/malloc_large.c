/*
 * malloc_large.c - large runs: malloc requests above MALLOC_MAXSIZE and
 * contigmalloc runs, their descriptors, and the cache of freed runs.
 *
 * Layer: malloc, beside the size-class zones.  Gets runs from the page
 * layer (uma__vm_alloc_run) and descriptors from an internal zone; counts
 * nothing (the callers own the type statistics).  Never on the small-object
 * fast path: its lock is taken only for runs.
 *
 * The run cache.  Giving a run back costs a madvise and a map update, and
 * its next use faults every page in again; programs that allocate and free
 * big buffers in a loop pay that each time.  So a freed run of at most a
 * quarter of vm.malloc.large_cache_mb MiB is kept, up to that many MiB in
 * all, in bins of four size steps per doubling of its page count, newest
 * first, and handed out again to a request that fits (the lowest-addressed
 * of the newest few: lcache_find_locked).  A run joins the cached runs it
 * touches, and a request with none of its size splits the smallest larger
 * one (bench large: peak RSS 19.6 -> 15.6 MiB, time 0.040 -> 0.033 s).
 * The oldest run goes when room is needed; the periodic trim gives back
 * runs not reused for a full period, so a program that stops
 * using large blocks keeps them for at most two vm.uma_timeout periods;
 * uma_reclaim gives back them all.  (A cap that followed the large bytes
 * in use was tried: with few blocks live it misses on every change of
 * size, and the workload it helps least is the one it is for.)
 *
 * A cached run is freed memory: the type counted the free, its vtoslab
 * entry is NULL (so a second free is reported, as for a run given back),
 * and only the page count of the arena still includes it.  Its pages hold
 * old data: a reuse is zero-filled only for M_ZERO.
 *
 * Lock order: lcache.lock is a leaf; runs and descriptors it lets go are
 * given back after it is dropped.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lowmem.h"
#include "malloc_int.h"
#include "sysctl_int.h"
#include "vm.h"

#define	LCACHE_NBINS	128		/* bin 127: 2^32 pages and up */
#define	LCACHE_SCAN	8		/* runs a lookup looks at in a bin */

TAILQ_HEAD(malloc_large_list, malloc_large);

/*
 * Invariant (under lock): bytes == sum of ml_size over the runs on `age`,
 * each run is on `age`, on `addrq` (in address order) and on
 * bins[large_bin_floor(its pages)], no two cached runs are adjacent (a
 * run joins its cached neighbours when it comes in), and bytes <= the cap
 * in force when the last run was added.
 */
static struct {
	pthread_mutex_t		 lock;
	struct malloc_large_list bins[LCACHE_NBINS];	/* newest first */
	struct malloc_large_list age;			/* newest first */
	struct malloc_large_list addrq;			/* by address */
	size_t			 bytes;
	uint64_t		 tick;		/* periodic trims so far */
	bool			 ready;		/* lists initialized */
} lcache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uma_zone_t large_zone;		/* struct malloc_large descriptors */
static int large_cache_mb = 64;
static uint64_t large_cache_hits, large_cache_bytes;

struct uma_keg malloc_large_keg = { .uk_name = "malloc large" };

UMA_SYSCTL_INT(sysctl_large_cache_mb, "vm.malloc.large_cache_mb",
    &large_cache_mb, UMA_CTLFLAG_RWTUN, 0, 1 << 20,
    "MiB of freed large runs kept for reuse (0: none)");
UMA_SYSCTL_U64(sysctl_large_cache_bytes, "vm.malloc.large_cache_bytes",
    &large_cache_bytes, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Bytes of freed large runs kept for reuse");
UMA_SYSCTL_U64(sysctl_large_cache_hits, "vm.malloc.large_cache_hits",
    &large_cache_hits, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Large requests served from the run cache");

uint64_t uma__realloc_in_place, uma__realloc_remapped;
uint64_t uma__realloc_remapped_bytes, uma__realloc_copied;
uint64_t uma__realloc_copied_bytes;
static _Atomic unsigned large_remapped_runs;

UMA_SYSCTL_U64(sysctl_realloc_in_place, "vm.malloc.realloc_in_place",
    &uma__realloc_in_place, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Large blocks realloc grew or shrank where they are");
UMA_SYSCTL_U64(sysctl_realloc_remapped, "vm.malloc.realloc_remapped",
    &uma__realloc_remapped, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Large blocks realloc moved by remapping their pages (no copy)");
UMA_SYSCTL_U64(sysctl_realloc_remapped_bytes,
    "vm.malloc.realloc_remapped_bytes", &uma__realloc_remapped_bytes,
    UMA_CTLFLAG_RD, 0, UINT64_MAX, "Bytes realloc moved by remapping");
UMA_SYSCTL_U64(sysctl_realloc_copied, "vm.malloc.realloc_copied",
    &uma__realloc_copied, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Blocks realloc moved by copying");
UMA_SYSCTL_U64(sysctl_realloc_copied_bytes, "vm.malloc.realloc_copied_bytes",
    &uma__realloc_copied_bytes, UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Bytes realloc copied");

/*
 * Bins: sizes 1, 2, 3, 4, then 4 steps per doubling (5 6 7 8, 10 12 14
 * 16, 20 24 28 32, ...) pages.  large_bin_ceil(n) is the bin of the
 * smallest step >= n, large_bin_size(b) its step.
 */
static int
large_bin_ceil(size_t n)
{
	size_t m = n - 1;
	int lg;

	if (n <= 4)
		return ((int)n - 1);
	lg = 63 - __builtin_clzll(m);
	return (4 * (lg - 1) + (int)(m >> (lg - 2)) - 4);
}

static size_t
large_bin_size(int bin)
{
	if (bin < 4)
		return ((size_t)bin + 1);
	return ((size_t)(bin % 4 + 5) << (bin / 4 - 1));
}

/* The bin of the largest step <= n: a run there serves the step. */
static int
large_bin_floor(size_t n)
{
	int bin = large_bin_ceil(n);

	return (large_bin_size(bin) == n ? bin : bin - 1);
}

/*
 * vm.malloc.large_cache_mb, or nothing under an address-space or data
 * limit: there a run kept for speed holds address space that a thread's
 * stack or a file mapping may need, and it pins the arena's top (cached
 * runs are the newest, usually the highest) so that the arena cannot give
 * back the free space under it.
 */
static size_t
lcache_cap(void)
{
	if (uma__vm_limit() != 0)
		return (0);
	return ((size_t)__atomic_load_n(&large_cache_mb, __ATOMIC_RELAXED) <<
	    20);
}

static void
lcache_remove_locked(struct malloc_large *ml)
{
	UMA_MTX_ASSERT(&lcache.lock);
	TAILQ_REMOVE(&lcache.bins[large_bin_floor(ml->ml_size >>
	    UMA_PAGE_SHIFT)], ml, ml_bin);
	TAILQ_REMOVE(&lcache.age, ml, ml_age);
	TAILQ_REMOVE(&lcache.addrq, ml, ml_addrq);
	lcache.bytes -= ml->ml_size;
	__atomic_store_n(&large_cache_bytes, lcache.bytes, __ATOMIC_RELAXED);
}

/* Move the oldest runs to *out until `keep` bytes or fewer are cached. */
static void
lcache_shrink_locked(size_t keep, struct malloc_large_list *out)
{
	struct malloc_large *ml;

	UMA_MTX_ASSERT(&lcache.lock);

	while (lcache.bytes > keep) {
		ml = TAILQ_LAST(&lcache.age, malloc_large_list);
		lcache_remove_locked(ml);
		TAILQ_INSERT_TAIL(out, ml, ml_age);
	}
}

/* Give a run's pages back to the arena, and its descriptor. */
static void
large_run_free(struct malloc_large *ml)
{
	uma__vm_free_run(ml->ml_addr, ml->ml_size, ml->ml_use);
	uma_zfree(large_zone, ml);
}

/* Give back runs taken out of the cache (no lock held). */
static void
lcache_release(struct malloc_large_list *list)
{
	struct malloc_large *ml, *next;

	TAILQ_FOREACH_SAFE(ml, list, ml_age, next)
		large_run_free(ml);
}

/* The cached run just before `addr` in address order, or NULL. */
static struct malloc_large *
lcache_before_locked(const void *addr)
{
	struct malloc_large *ml;

	UMA_MTX_ASSERT(&lcache.lock);

	TAILQ_FOREACH_REVERSE(ml, &lcache.addrq, malloc_large_list, ml_addrq)
		if ((uintptr_t)ml->ml_addr < (uintptr_t)addr)
			return (ml);
	return (NULL);
}

/*
 * Keep a run that is free (its vtoslab entry cleared), or say no: a block
 * just freed (`fresh`: it starts a new age) or the tail of a split run
 * (it keeps its age).  A run whose cached neighbours of the same age
 * touch it takes them in first: freed pieces of a split run, or blocks
 * freed side by side, become one run again that can serve a request of
 * any size up to theirs.  Runs of different ages stay apart, so that the
 * periodic trim still gives back what has not been used for a period.
 * The neighbours leave the cache while the arena's map joins the runs
 * (its lock comes after ours).
 */
static bool
lcache_put(struct malloc_large *ml, bool fresh)
{
	struct malloc_large_list out = TAILQ_HEAD_INITIALIZER(out);
	struct malloc_large *left, *right;
	size_t cap = lcache_cap(), npages = ml->ml_size >> UMA_PAGE_SHIFT;
	int bin;

	if (ml->ml_size > cap || large_bin_floor(npages) >= LCACHE_NBINS)
		return (false);
	/* Its pages count as the cache's from here (vm.h). */
	if (ml->ml_use != UMA_PAGES_CACHED) {
		uma__vm_run_use(ml->ml_size, ml->ml_use, UMA_PAGES_CACHED);
		ml->ml_use = UMA_PAGES_CACHED;
	}
	pthread_mutex_lock(&lcache.lock);
	if (fresh)
		ml->ml_tick = lcache.tick;
	left = lcache_before_locked(ml->ml_addr);
	right = left != NULL ? TAILQ_NEXT(left, ml_addrq) :
	    TAILQ_FIRST(&lcache.addrq);
	if (left != NULL && left->ml_tick == ml->ml_tick &&
	    (char *)left->ml_addr + left->ml_size == (char *)ml->ml_addr)
		lcache_remove_locked(left);
	else
		left = NULL;
	if (right != NULL && right->ml_tick == ml->ml_tick &&
	    (char *)ml->ml_addr + ml->ml_size == (char *)right->ml_addr)
		lcache_remove_locked(right);
	else
		right = NULL;
	pthread_mutex_unlock(&lcache.lock);
	if (left != NULL) {
		uma__vm_merge_runs(left->ml_addr, left->ml_size, ml->ml_size);
		left->ml_size += ml->ml_size;
		uma_zfree(large_zone, ml);
		ml = left;
	}
	if (right != NULL) {
		uma__vm_merge_runs(ml->ml_addr, ml->ml_size, right->ml_size);
		ml->ml_size += right->ml_size;
		uma_zfree(large_zone, right);
	}

	pthread_mutex_lock(&lcache.lock);
	bin = large_bin_floor(ml->ml_size >> UMA_PAGE_SHIFT);
	if (lcache.bytes + ml->ml_size > cap)
		lcache_shrink_locked(cap > ml->ml_size ? cap - ml->ml_size : 0,
		    &out);
	ml->ml_contig = false;
	TAILQ_INSERT_HEAD(&lcache.bins[bin], ml, ml_bin);
	TAILQ_INSERT_HEAD(&lcache.age, ml, ml_age);
	if ((left = lcache_before_locked(ml->ml_addr)) != NULL)
		TAILQ_INSERT_AFTER(&lcache.addrq, left, ml, ml_addrq);
	else
		TAILQ_INSERT_HEAD(&lcache.addrq, ml, ml_addrq);
	lcache.bytes += ml->ml_size;
	__atomic_store_n(&large_cache_bytes, lcache.bytes, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lcache.lock);
	lcache_release(&out);
	return (true);
}

/*
 * Of the newest few runs of `bin`, the lowest-addressed one that is >= len
 * and aligned, or NULL.  Reuse then packs at the bottom of the arena and
 * the pages a program keeps resident stay few; the newest run first let
 * them spread over the whole cache (bench large: peak RSS 15.3 -> 13.8
 * MiB, time 0.034 -> 0.032 s).
 */
static struct malloc_large *
lcache_find_locked(int bin, size_t len, size_t align)
{
	struct malloc_large *ml, *best = NULL;
	int n = 0;

	UMA_MTX_ASSERT(&lcache.lock);

	TAILQ_FOREACH(ml, &lcache.bins[bin], ml_bin) {
		if (ml->ml_size >= len &&
		    ((uintptr_t)ml->ml_addr & (align - 1)) == 0 &&
		    (best == NULL || ml->ml_addr < best->ml_addr))
			best = ml;
		if (++n == LCACHE_SCAN)
			break;
	}
	return (best);
}

/*
 * A cached run of at least len bytes aligned to align, or NULL.  Runs of
 * bin ceil(len) all fit; those of the bin below may (a run of exactly len
 * pages sits there when len is not a step).
 */
static struct malloc_large *
lcache_get(size_t len, size_t align)
{
	struct malloc_large *ml;
	int bin = large_bin_ceil(len >> UMA_PAGE_SHIFT);

	if (bin >= LCACHE_NBINS || __atomic_load_n(&large_cache_bytes,
	    __ATOMIC_RELAXED) == 0)
		return (NULL);
	pthread_mutex_lock(&lcache.lock);
	ml = lcache_find_locked(bin, len, align);
	if (ml == NULL && bin > 0)
		ml = lcache_find_locked(bin - 1, len, align);
	if (ml != NULL)
		lcache_remove_locked(ml);
	pthread_mutex_unlock(&lcache.lock);
	return (ml);
}

/*
 * No cached run in len's own bins: split the smallest larger one.  The
 * request gets its front, the cache keeps the tail (given back instead if
 * no large request could use it).  A program whose big blocks change size
 * then reuses warm pages, where a fresh run would fault in new ones while
 * bigger runs sat idle in the cache.  Freed pieces join their cached
 * neighbours again (lcache_put).
 */
static struct malloc_large *
lcache_split(size_t len, size_t align)
{
	struct malloc_large *ml = NULL, *tail;
	int bin = large_bin_ceil(len >> UMA_PAGE_SHIFT);

	if (bin + 1 >= LCACHE_NBINS || __atomic_load_n(&large_cache_bytes,
	    __ATOMIC_RELAXED) == 0)
		return (NULL);
	if ((tail = uma_zalloc(large_zone, M_NOWAIT)) == NULL)
		return (NULL);
	pthread_mutex_lock(&lcache.lock);
	for (int b = bin + 1; b < LCACHE_NBINS && ml == NULL; b++)
		if (!TAILQ_EMPTY(&lcache.bins[b]))
			ml = lcache_find_locked(b, len, align);
	if (ml != NULL)
		lcache_remove_locked(ml);
	pthread_mutex_unlock(&lcache.lock);
	/* Every run of a larger bin is longer than len. */
	if (ml != NULL &&
	    uma__vm_split_run(ml->ml_addr, ml->ml_size, len) == 0) {
		memset(tail, 0, sizeof(*tail));
		tail->ml_slab.us_keg = &malloc_large_keg;
		tail->ml_addr = (char *)ml->ml_addr + len;
		tail->ml_size = ml->ml_size - len;
		ml->ml_size = len;
		tail->ml_tick = ml->ml_tick;
		tail->ml_use = ml->ml_use;
		if (tail->ml_size <= MALLOC_MAXSIZE || !lcache_put(tail, false))
			large_run_free(tail);
		return (ml);
	}
	uma_zfree(large_zone, tail);
	/* No node to split with: leave the run cached. */
	if (ml != NULL && !lcache_put(ml, false))
		large_run_free(ml);
	return (NULL);
}

/* See malloc_int.h */
void
uma__malloc_large_reclaim(bool periodic)
{
	struct malloc_large_list out = TAILQ_HEAD_INITIALIZER(out);
	struct malloc_large *ml, *next;

	pthread_mutex_lock(&lcache.lock);
	if (!lcache.ready)
		;	/* malloc not started: nothing cached */
	else if (periodic) {
		/* The tail of a split run keeps its age: look at every run. */
		TAILQ_FOREACH_SAFE(ml, &lcache.age, ml_age, next) {
			if (ml->ml_tick < lcache.tick) {
				lcache_remove_locked(ml);
				TAILQ_INSERT_TAIL(&out, ml, ml_age);
			}
		}
		lcache.tick++;
	} else
		lcache_shrink_locked(0, &out);
	pthread_mutex_unlock(&lcache.lock);
	lcache_release(&out);
}

/* See malloc_int.h */
void
uma__malloc_large_forgo(size_t size)
{
	struct malloc_large *ml;
	size_t len = roundup2(size, UMA_PAGE_SIZE);

	if (len >= size && len != 0 &&
	    ((ml = lcache_get(len, UMA_PAGE_SIZE)) != NULL ||
	    (ml = lcache_split(len, UMA_PAGE_SIZE)) != NULL))
		large_run_free(ml);
}

/* See malloc_int.h */
uint64_t
uma__malloc_large_cached(void)
{
	return (__atomic_load_n(&large_cache_bytes, __ATOMIC_RELAXED));
}

/* See malloc_int.h */
void
uma__malloc_large_cache_walk(void (*fn)(struct malloc_large *ml, bool old,
    void *arg), void *arg)
{
	struct malloc_large *ml;

	pthread_mutex_lock(&lcache.lock);
	if (lcache.ready)
		TAILQ_FOREACH(ml, &lcache.age, ml_age)
			fn(ml, ml->ml_tick < lcache.tick, arg);
	pthread_mutex_unlock(&lcache.lock);
}

static void
lcache_fork_prepare(void)
{
	pthread_mutex_lock(&lcache.lock);
}

static void
lcache_fork_parent(void)
{
	pthread_mutex_unlock(&lcache.lock);
}

static void
lcache_fork_child(void)
{
	pthread_mutex_init(&lcache.lock, NULL);
}

/* See malloc_int.h */
void
uma__malloc_large_startup(void)
{
	for (int attempt = 0; (large_zone = uma__internal_zcreate(
	    "malloc large", sizeof(struct malloc_large), UMA_ALIGN_CACHE,
	    0)) == NULL; attempt++)
		uma__lowmem_wait("malloc", "large-run descriptors",
		    sizeof(struct malloc_large), attempt);
	LIST_INIT(&malloc_large_keg.uk_zones);
	pthread_mutex_lock(&lcache.lock);
	for (int i = 0; i < LCACHE_NBINS; i++)
		TAILQ_INIT(&lcache.bins[i]);
	TAILQ_INIT(&lcache.age);
	TAILQ_INIT(&lcache.addrq);
	lcache.ready = true;
	pthread_mutex_unlock(&lcache.lock);
	uma__atfork(lcache_fork_prepare, lcache_fork_parent,
	    lcache_fork_child);
	uma__reclaim_hook(uma__malloc_large_reclaim);
}

/*
 * A run from the page layer, counted under `use`, giving the cache back
 * once if the arena is full.
 */
static int
large_run_alloc(size_t len, const struct uma__pgreq *req, int use,
    int flags, void **memp)
{
	int error;

	flags = M_NOWAIT | (flags & M_ZERO);
	error = uma__vm_alloc_run(len, req, use, flags, memp);
	if (error == ENOMEM && __atomic_load_n(&large_cache_bytes,
	    __ATOMIC_RELAXED) != 0) {
		uma__malloc_large_reclaim(false);
		error = uma__vm_alloc_run(len, req, use, flags, memp);
	}
	return (error);
}

/* What a live run's pages count as. */
static inline int
large_use(const struct malloc_large *ml)
{
	return (ml->ml_contig ? UMA_PAGES_CONTIG : UMA_PAGES_LARGE);
}

/*
 * Point the run's first page at its descriptor: it is live from here, and
 * its pages count as live (a cached run's as the cache's until now).
 */
static void *
large_publish(struct malloc_large *ml)
{
	if (ml->ml_use != large_use(ml)) {
		uma__vm_run_use(ml->ml_size, ml->ml_use, large_use(ml));
		ml->ml_use = (uint8_t)large_use(ml);
	}
	uma__vtoslab_set(ml->ml_addr, 1, ml, 0);
	return (ml->ml_addr);
}

/* See malloc_int.h */
void *
uma__malloc_large(size_t size, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary, bool contig, int flags, int *errorp)
{
	struct malloc_large *ml;
	size_t len;
	void *mem;
	int error;

	uma_threads_poll();
	len = roundup2(size, UMA_PAGE_SIZE);
	if (len < size || len == 0) {
		*errorp = size == 0 ? EINVAL : ENOMEM;
		return (NULL);
	}
	ml = uma_zalloc(large_zone, M_NOWAIT);
	if (ml == NULL) {
		*errorp = ENOMEM;
		return (NULL);
	}
	error = large_run_alloc(len, &(struct uma__pgreq){ align, low, high,
	    boundary }, contig ? UMA_PAGES_CONTIG : UMA_PAGES_LARGE, flags,
	    &mem);
	if (error != 0) {
		uma_zfree(large_zone, ml);
		*errorp = error;
		return (NULL);
	}
	memset(ml, 0, sizeof(*ml));
	ml->ml_slab.us_keg = &malloc_large_keg;
	ml->ml_addr = mem;
	ml->ml_size = len;
	ml->ml_contig = contig;
	ml->ml_use = (uint8_t)large_use(ml);
	return (large_publish(ml));
}

/* See malloc_int.h */
void *
uma__malloc_large_alloc(size_t size, size_t align, int flags, size_t *lenp)
{
	struct malloc_large *ml;
	size_t len = roundup2(size, UMA_PAGE_SIZE);
	void *mem;
	int error;

	if (len >= size && len != 0 && ((ml = lcache_get(len, align)) != NULL ||
	    (ml = lcache_split(len, align)) != NULL)) {
		__atomic_fetch_add(&large_cache_hits, 1, __ATOMIC_RELAXED);
		if (flags & M_ZERO)
			memset(ml->ml_addr, 0, ml->ml_size);
		*lenp = ml->ml_size;
		return (large_publish(ml));
	}
	mem = uma__malloc_large(size, align, 0, UINTPTR_MAX, 0, false, flags,
	    &error);
	if (mem == NULL) {
		errno = error;
		return (NULL);
	}
	*lenp = len;
	return (mem);
}

/*
 * realloc.  A block that grows step by step must not be copied at every
 * step: that made growing a buffer to 32 MiB in 4 KiB steps take 69 s.
 * So a run grows in place when the arena has room after it (a run at the
 * arena's top always has: the arena grows under it), and otherwise moves
 * into a run a quarter larger than asked, so that the moves of a growing
 * block are O(log) and their work O(its final size).  A run of
 * LARGE_REMAP_MIN or more moves by mremap, which moves page tables, not
 * bytes; it is then a mapping of its own (ml_remapped) until it is freed,
 * and one that grows in place grows its mapping (two mappings could not
 * be moved by one mremap).  At most
 * LARGE_REMAP_MAX runs are such mappings at a time (each is up to two more
 * kernel mappings, and vm.max_map_count is 65530); past that, and for
 * smaller runs, a move copies.
 */
#define	LARGE_REMAP_MIN	((size_t)1 << 20)
#define	LARGE_REMAP_MAX	4096

/* Count a run that stopped being a mapping of its own. */
static void
large_unremap(struct malloc_large *ml)
{
	if (ml->ml_remapped) {
		ml->ml_remapped = false;
		atomic_fetch_sub_explicit(&large_remapped_runs, 1,
		    memory_order_relaxed);
	}
}

/*
 * Shrink in place; a remapped run's tail rejoins the arena's mapping, an
 * M_NODUMP run's is dumped again (it may serve anyone).
 */
static void
large_shrink(struct malloc_large *ml, size_t len)
{
	char *tail = (char *)ml->ml_addr + len;

	if (ml->ml_nodump)
		(void)madvise(tail, ml->ml_size - len, MADV_DODUMP);
	if (ml->ml_remapped && !uma__vm_reset_run(tail, ml->ml_size - len,
	    ml->ml_use)) {
		/* The tail is lost: it stays allocated, apart from the run. */
		if (uma__vm_split_run(ml->ml_addr, ml->ml_size, len) != 0)
			return;		/* no node: keep the run whole */
	} else if (uma__vm_resize_run(ml->ml_addr, ml->ml_size, len,
	    ml->ml_use) != 0)
		uma__panic("uma: cannot shrink run %p", ml->ml_addr);
	ml->ml_size = len;
}

/*
 * Move the block to a new run of `room` bytes: its pages by mremap, or a
 * copy.  The old run goes back to the arena.  0 or ENOMEM.
 */
static int
large_move(struct malloc_large *ml, size_t room)
{
	void *old = ml->ml_addr, *dst;
	size_t size = ml->ml_size;
	bool remap;

	/* Past the block's bytes a moved run reads as zeros. */
	if (large_run_alloc(room, NULL, ml->ml_use, M_ZERO, &dst) != 0)
		return (ENOMEM);
	remap = size >= LARGE_REMAP_MIN && (ml->ml_remapped ||
	    atomic_load_explicit(&large_remapped_runs, memory_order_relaxed) <
	    LARGE_REMAP_MAX);
	if (remap && uma__vm_move_run(old, size, dst, room, ml->ml_use) == 0) {
		if (!ml->ml_remapped)
			atomic_fetch_add_explicit(&large_remapped_runs, 1,
			    memory_order_relaxed);
		ml->ml_remapped = true;
		__atomic_fetch_add(&uma__realloc_remapped, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&uma__realloc_remapped_bytes, size,
		    __ATOMIC_RELAXED);
	} else {
		/* A failed move gave dst back. */
		if (remap && large_run_alloc(room, NULL, ml->ml_use, M_ZERO,
		    &dst) != 0)
			return (ENOMEM);
		memcpy(dst, old, size);
		__atomic_fetch_add(&uma__realloc_copied, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&uma__realloc_copied_bytes, size,
		    __ATOMIC_RELAXED);
		if (ml->ml_nodump)
			(void)madvise(old, size, MADV_DODUMP);
		if (!ml->ml_remapped || uma__vm_reset_run(old, size,
		    ml->ml_use))
			uma__vm_free_run(old, size, ml->ml_use);
		large_unremap(ml);
	}
	ml->ml_addr = dst;
	ml->ml_size = room;
	return (0);
}

/*
 * Grow in place to len.  A remapped run's growth costs system calls (its
 * mapping grows), so it takes `room`, a quarter more, when it can.
 */
static int
large_grow(struct malloc_large *ml, size_t len, size_t room)
{
	if (!ml->ml_remapped) {
		if (uma__vm_resize_run(ml->ml_addr, ml->ml_size, len,
		    ml->ml_use) != 0)
			return (ENOMEM);
	} else if (room >= len && uma__vm_extend_run(ml->ml_addr,
	    ml->ml_size, room, ml->ml_use) == 0)
		len = room;
	else if (uma__vm_extend_run(ml->ml_addr, ml->ml_size, len,
	    ml->ml_use) != 0)
		return (ENOMEM);
	ml->ml_size = len;
	return (0);
}

/* A run resized where it is: its dump advice follows. */
static void
large_resized(struct malloc_large *ml, size_t old)
{
	if (ml->ml_nodump && ml->ml_size > old)
		(void)madvise(ml->ml_addr, ml->ml_size, MADV_DONTDUMP);
	__atomic_fetch_add(&uma__realloc_in_place, 1, __ATOMIC_RELAXED);
}

/* See malloc_int.h */
int
uma__malloc_large_resize(struct malloc_large *ml, size_t len)
{
	void *_Atomic *slot;
	void *old = ml->ml_addr, *expect = ml;
	size_t room, size = ml->ml_size;
	int error = 0;

	if (len <= size) {
		if (size - len > size / 4) {
			large_shrink(ml, len);
			large_resized(ml, size);
		}
		return (0);
	}
	room = roundup2(len + len / 4, UMA_PAGE_SIZE);
	if (large_grow(ml, len, room) == 0) {
		large_resized(ml, size);
		return (0);
	}
	/*
	 * The old address stops being live while its pages move: a free
	 * of it from another thread meanwhile is reported, as a double free.
	 */
	slot = &uma_vm_slabtab[((uintptr_t)old - uma_vm_base) >>
	    UMA_PAGE_SHIFT];
	if (!atomic_compare_exchange_strong(slot, &expect, NULL))
		uma__malloc_invalid("realloc", old, "double free");
	if (room < len || large_move(ml, room) != 0)
		error = large_move(ml, len);
	if (error == 0 && ml->ml_nodump)
		(void)madvise(ml->ml_addr, ml->ml_size, MADV_DONTDUMP);
	large_publish(ml);
	return (error);
}

/* See malloc_int.h */
struct malloc_large *
uma__malloc_large_find(const void *addr)
{
	struct malloc_large *ml;

	if (!uma_vm_contains(addr) || ((uintptr_t)addr & UMA_PAGE_MASK) != 0)
		return (NULL);
	ml = uma_vtoslab(addr);
	if (ml == NULL || ml->ml_slab.us_keg != &malloc_large_keg)
		return (NULL);
	return (ml);
}

/*
 * See malloc_int.h.  Clearing the vtoslab entry with a compare-and-swap
 * makes a racing second free of the same run a reported double free,
 * whether the run then goes to the cache or back to the arena.
 */
void
uma__malloc_large_free(struct malloc_large *ml)
{
	void *_Atomic *slot;
	void *expect = ml;

	slot = &uma_vm_slabtab[((uintptr_t)ml->ml_addr - uma_vm_base) >>
	    UMA_PAGE_SHIFT];
	if (!atomic_compare_exchange_strong(slot, &expect, NULL))
		uma__malloc_invalid("free", ml->ml_addr, "double free");
	/* Cached or given back, the pages may serve anyone: dump them. */
	if (ml->ml_nodump) {
		(void)madvise(ml->ml_addr, ml->ml_size, MADV_DODUMP);
		ml->ml_nodump = false;
	}
	/* A moved run's pages rejoin the arena's mapping, or are lost. */
	if (ml->ml_remapped) {
		large_unremap(ml);
		if (!uma__vm_reset_run(ml->ml_addr, ml->ml_size, ml->ml_use)) {
			uma_zfree(large_zone, ml);
			return;
		}
	}
	/* A block of more than a quarter of the cap is not worth keeping. */
	if (ml->ml_size > lcache_cap() / 4 || !lcache_put(ml, true))
		large_run_free(ml);
	/* What the cache keeps, the trim thread ages (threads.c). */
	uma_threads_poll();
}

/*
 * See malloc_int.h.  Best effort, as advice is: a kernel that refuses
 * leaves the run in dumps, and the allocation stands.
 */
void
uma__malloc_large_nodump(struct malloc_large *ml)
{
	if (madvise(ml->ml_addr, ml->ml_size, MADV_DONTDUMP) == 0)
		ml->ml_nodump = true;
}
