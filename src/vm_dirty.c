/*
 * vm_dirty.c - freed pages the page layer keeps: free in the map, so that
 * any run (any keg's slab, a large block) can take them, but still
 * resident, so that taking them costs no page fault and giving them back
 * no system call; the periodic trim gives back what stays unused.
 *
 * Layer: the page layer, beside vm.c (the arena) and vm_run.c (the
 * backend).  Knows pages, nothing of slabs.
 *
 * Each page of the arena has a mark in the dirty table (struct uma__vm):
 * 0 for a page in use or clean (never touched, or given back), else the
 * decay epoch in which its run was freed.  A run freed marks its pages; a
 * run handed out (or a run's growth) takes the marks of its pages, and
 * zero-fills those pages if the caller asked for M_ZERO: clean pages read
 * as zeros already.  Invariant (under uma__vm.lock): a marked page is free
 * in the map, and ndirty is the number of marked pages.
 *
 * Giving back (MADV_DONTNEED, under the map's lock so that no one takes
 * the pages meanwhile, a chunk at a time):
 *  - decay: each periodic trim gives back the pages freed before the
 *    previous one, i.e. unused for a whole period (jemalloc's dirty-page
 *    decay, with FreeBSD's trim period as its clock);
 *  - the cap: more marked pages than the recent working set (the most
 *    pages in use since the last period, decayed by a quarter a period),
 *    or vm.uma_dirty_min_mb if that is more, and the freeing thread gives
 *    back the highest first (first fit reuses the lowest) down to three
 *    quarters of it.  So a burst freed serves the next burst of any size
 *    at once, but what is resident stays within twice what was in use;
 *  - fragmentation: a run that had to take clean pages makes as many
 *    kept ones go back, while more are kept than a quarter of the working
 *    set (uma__vm_dirty_owe);
 *  - uma_reclaim gives back all of them;
 *  - what a reclaim (the periodic trim, uma_reclaim, uma_zone_reclaim)
 *    frees goes back at once, unmarked: the caches judged it idle already
 *    (uma__vm_dirty_bypass), and "oldest" in the kmem report is what the
 *    next trim gives back.
 */
#include <string.h>
#include <sys/mman.h>

#include "sysctl_int.h"
#include "vm_int.h"

#define	VM_DIRTY_CHUNK	512	/* pages given back under one hold of the lock */
#define	VM_MARK_FRESH	0xff	/* a run about to be freed is fresh: no mark */

static int dirty_min_mb = 32;
UMA_SYSCTL_INT(sysctl_dirty_min_mb, "vm.uma_dirty_min_mb", &dirty_min_mb,
    UMA_CTLFLAG_RWTUN, 0, 1 << 20,
    "MiB of freed pages kept resident for reuse, whatever the working set");
static int pressure_mb = 1;
UMA_SYSCTL_INT(sysctl_idle_pass_mb, "vm.uma_idle_pass_mb", &pressure_mb,
    UMA_CTLFLAG_RWTUN, 0, 1 << 20,
    "MiB of new pages between two idle passes of the caches (0: none)");
UMA_SYSCTL_U64(sysctl_dirty_purged, "vm.uma_dirty_purged", &uma__vm.purged,
    UMA_CTLFLAG_RD, 0, UINT64_MAX,
    "Freed pages the page layer has given back to the OS");

static int
sysctl_dirty_bytes(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	uint64_t v = atomic_load_explicit(&uma__vm.ndirty,
	    memory_order_relaxed) << UMA_PAGE_SHIFT;

	return (uma__sysctl_out(req, &v, sizeof(v)));
}
UMA_SYSCTL_PROC(sysctl_vm_dirty_bytes, "vm.uma_dirty_bytes", UMA_CTLTYPE_U64,
    UMA_CTLFLAG_RD, "QU", sysctl_dirty_bytes, NULL,
    "Bytes of freed pages kept resident for reuse");

/* This thread is reclaiming: the pages it frees go back at once. */
static __thread bool dirty_bypass __attribute__((tls_model("initial-exec")));

/* See vm.h */
void
uma__vm_dirty_bypass(bool on)
{
	dirty_bypass = on;
}

/* See vm_int.h */
bool
uma__vm_dirty_bypassed(void)
{
	return (dirty_bypass);
}

static inline size_t
dirty_index(uintptr_t addr)
{
	return ((addr - uma_vm_base) >> UMA_PAGE_SHIFT);
}

/*
 * May a page with this mark be given back now?  A fresh mark is on a run
 * in use, on its way to being freed.  `old`: only marks of earlier epochs.
 */
static inline bool
dirty_purgeable(uint8_t mark, bool old, uint8_t epoch)
{
	return (mark != 0 && mark != VM_MARK_FRESH && (!old || mark != epoch));
}

/* See vm_int.h */
void
uma__vm_dirty_mark_locked(uintptr_t addr, size_t len, bool keep)
{
	uint8_t *d = &uma__vm.dirty[dirty_index(addr)];
	size_t n = len >> UMA_PAGE_SHIFT, fresh = 0;

	UMA_MTX_ASSERT(&uma__vm.lock);
	if (!keep) {
		memset(d, 0, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (d[i] == VM_MARK_FRESH)
			fresh++;
		d[i] = d[i] == VM_MARK_FRESH ? 0 : uma__vm.epoch;
	}
	atomic_store_explicit(&uma__vm.ndirty, uma__vm.ndirty + n - fresh,
	    memory_order_relaxed);
}

/* See vm_int.h */
void
uma__vm_dirty_fresh_locked(uintptr_t addr, size_t len)
{
	UMA_MTX_ASSERT(&uma__vm.lock);
	memset(&uma__vm.dirty[dirty_index(addr)], VM_MARK_FRESH,
	    len >> UMA_PAGE_SHIFT);
}

/*
 * See vm_int.h.  mincore a chunk at a time: a large run is often touched
 * only in part (an array sized for the worst case), and its untouched
 * pages kept as freed ones would be handed out as if they cost nothing.
 */
void
uma__vm_dirty_absent(uintptr_t addr, size_t len)
{
	unsigned char vec[1024];
	size_t npages = len >> UMA_PAGE_SHIFT, n, i, j;
	uint8_t *d = &uma__vm.dirty[dirty_index(addr)];

	for (i = 0; i < npages; i += n) {
		n = npages - i < sizeof(vec) ? npages - i : sizeof(vec);
		if (mincore((void *)(addr + (i << UMA_PAGE_SHIFT)),
		    n << UMA_PAGE_SHIFT, vec) != 0)
			return;
		pthread_mutex_lock(&uma__vm.lock);
		for (j = 0; j < n; j++)
			if (!(vec[j] & 1))
				d[i + j] = VM_MARK_FRESH;
		pthread_mutex_unlock(&uma__vm.lock);
	}
}

/*
 * See vm_int.h.  Word by word over the unmarked stretches: a slab's page
 * is one byte, a large run's thousands.
 */
size_t
uma__vm_dirty_take_locked(uintptr_t addr, size_t len, uintptr_t *lop,
    uintptr_t *hip)
{
	uint8_t *d = &uma__vm.dirty[dirty_index(addr)];
	size_t n = len >> UMA_PAGE_SHIFT, cnt = 0, lo = n, hi = 0, i = 0;
	uint64_t w;

	UMA_MTX_ASSERT(&uma__vm.lock);
	while (i < n) {
		if (n - i >= 8 && ((uintptr_t)&d[i] & 7) == 0) {
			memcpy(&w, &d[i], 8);
			if (w == 0) {
				i += 8;
				continue;
			}
		}
		if (d[i] != 0) {
			d[i] = 0;
			cnt++;
			if (lo == n)
				lo = i;
			hi = i + 1;
		}
		i++;
	}
	if (cnt != 0)
		atomic_store_explicit(&uma__vm.ndirty, uma__vm.ndirty - cnt,
		    memory_order_relaxed);
	*lop = addr + (lo << UMA_PAGE_SHIFT);
	*hip = addr + (hi << UMA_PAGE_SHIFT);
	return (cnt);
}

/* See vm_int.h */
void
uma__vm_dirty_forget_locked(uintptr_t addr, size_t len)
{
	uintptr_t lo, hi;
	size_t n;

	n = uma__vm_dirty_take_locked(addr, len, &lo, &hi);
	if (n == 0)
		return;
	uma__vm_drop((void *)lo, hi - lo);
	atomic_fetch_add_explicit(&uma__vm.purged, n, memory_order_relaxed);
}

/* See vm_int.h */
void
uma__vm_dirty_zero(uintptr_t lo, uintptr_t hi)
{
	if (hi > lo)
		memset((void *)lo, 0, hi - lo);
}

/*
 * Give back marked pages from page `pos` down, at most `want` and one
 * chunk's worth, `old`: only those marked before this epoch.  Returns the
 * page below which nothing was looked at yet (0: done), *donep the pages
 * given back.
 */
static size_t
dirty_purge_chunk_locked(size_t pos, bool old, uint64_t want,
    uint64_t *donep)
{
	uint8_t *d = uma__vm.dirty, e = uma__vm.epoch;
	size_t top, bot, i = pos;
	uint64_t w;

	UMA_MTX_ASSERT(&uma__vm.lock);
	*donep = 0;
	/* The highest page to give back below pos. */
	while (i > 0) {
		if (i >= 8 && (i & 7) == 0) {
			memcpy(&w, &d[i - 8], 8);
			if (w == 0) {
				i -= 8;
				continue;
			}
		}
		if (dirty_purgeable(d[i - 1], old, e))
			break;
		i--;
	}
	if (i == 0)
		return (0);
	top = bot = i;
	while (bot > 0 && top - bot < VM_DIRTY_CHUNK && top - bot < want &&
	    dirty_purgeable(d[bot - 1], old, e))
		bot--;
	uma__vm_drop((void *)(uma_vm_base + (bot << UMA_PAGE_SHIFT)),
	    (top - bot) << UMA_PAGE_SHIFT);
	memset(&d[bot], 0, top - bot);
	*donep = top - bot;
	atomic_store_explicit(&uma__vm.ndirty, uma__vm.ndirty - *donep,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&uma__vm.purged, *donep,
	    memory_order_relaxed);
	return (bot);
}

/*
 * Give back up to `want` marked pages, the highest first (`old`: only
 * those of earlier epochs), a chunk per hold of the map's lock.  Then the
 * arena's free top may go too.  Returns the pages given back.
 */
static uint64_t
dirty_purge(bool old, uint64_t want)
{
	uint64_t done = 0, n;
	size_t pos;

	pthread_mutex_lock(&uma__vm.lock);
	pos = dirty_index(uma__vm.end);
	while (done < want && pos > 0) {
		pos = dirty_purge_chunk_locked(pos, old, want - done, &n);
		done += n;
		if (n != 0 && pos > 0) {
			pthread_mutex_unlock(&uma__vm.lock);
			pthread_mutex_lock(&uma__vm.lock);
			if (pos > dirty_index(uma__vm.end))
				pos = dirty_index(uma__vm.end);
		}
	}
	if (done != 0)
		uma__vm_trim_locked();
	pthread_mutex_unlock(&uma__vm.lock);
	return (done);
}

/* The most marked pages kept: the recent working set, or the minimum. */
static uint64_t
dirty_cap(void)
{
	uint64_t min = ((uint64_t)__atomic_load_n(&dirty_min_mb,
	    __ATOMIC_RELAXED) << 20) >> UMA_PAGE_SHIFT;
	uint64_t wss = __atomic_load_n(&uma__vm.wss, __ATOMIC_RELAXED);

	return (wss > min ? wss : min);
}

/* See vm_int.h */
void
uma__vm_dirty_limit(void)
{
	uint64_t cap = dirty_cap(), n = atomic_load_explicit(&uma__vm.ndirty,
	    memory_order_relaxed);

	if (__predict_false(n > cap))
		dirty_purge(false, n - cap * 3 / 4);
}

/*
 * See vm_int.h.  A run that takes clean pages while freed ones are kept
 * elsewhere (they did not fit it) adds to what is resident: as many freed
 * pages go back, the highest first, once a chunk's worth is owed, down to
 * a quarter of the working set or vm.uma_dirty_min_mb, whichever is more.
 * So fragmentation does not grow what is resident beyond that slack,
 * which is what saves a program that replaces large blocks of random
 * sizes most of its page faults (bench large-churn: 436,000 minor faults
 * with no slack but the minimum, 158,000 with a quarter, glibc 265,000;
 * peak RSS 465, 524 and 479 MiB).  Every vm.uma_idle_pass_mb MiB of
 * clean pages, the pressure hook asks for an idle pass (reclaim.c).
 */
void
uma__vm_dirty_owe(size_t clean)
{
	uint64_t every = ((uint64_t)__atomic_load_n(&pressure_mb,
	    __ATOMIC_RELAXED) << 20) >> UMA_PAGE_SHIFT;
	uint64_t keep = ((uint64_t)__atomic_load_n(&dirty_min_mb,
	    __ATOMIC_RELAXED) << 20) >> UMA_PAGE_SHIFT;
	uint64_t n = atomic_load_explicit(&uma__vm.ndirty,
	    memory_order_relaxed);
	uint64_t slack = __atomic_load_n(&uma__vm.wss, __ATOMIC_RELAXED) / 4;
	uint64_t before, owed;
	void (*hook)(void);

	before = atomic_fetch_add_explicit(&uma__vm.fresh, clean,
	    memory_order_relaxed);
	if (every != 0 && before / every != (before + clean) / every &&
	    (hook = atomic_load_explicit(&uma__vm.pressure,
	    memory_order_acquire)) != NULL)
		hook();
	if (slack > keep)
		keep = slack;
	if (n <= keep)
		return;
	owed = atomic_fetch_add_explicit(&uma__vm.owed, clean,
	    memory_order_relaxed) + clean;
	if (owed < VM_DIRTY_CHUNK)
		return;
	owed = atomic_exchange_explicit(&uma__vm.owed, 0,
	    memory_order_relaxed);
	dirty_purge(false, owed < n - keep ? owed : n - keep);
}

/* See vm.h */
void
uma__vm_pressure_hook(void (*fn)(void))
{
	atomic_store_explicit(&uma__vm.pressure, fn, memory_order_release);
}

/* See vm.h */
void
uma__vm_decay(void)
{
	uint64_t used;

	dirty_purge(true, UINT64_MAX);
	pthread_mutex_lock(&uma__vm.lock);
	uma__vm.epoch = (uint8_t)(uma__vm.epoch % 254 + 1);
	used = atomic_load_explicit(&uma__vm.pages, memory_order_relaxed);
	used = used > uma__vm.wss * 3 / 4 ? used : uma__vm.wss * 3 / 4;
	__atomic_store_n(&uma__vm.wss, used, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&uma__vm.lock);
}

/* See vm.h */
void
uma__vm_purge(void)
{
	dirty_purge(false, UINT64_MAX);
}

/* See vm.h */
uint64_t
uma__vm_dirty_pages(void)
{
	return (atomic_load_explicit(&uma__vm.ndirty, memory_order_relaxed));
}

/* See vm.h */
uint64_t
uma__vm_dirty_old_pages(void)
{
	uint8_t *d = uma__vm.dirty;
	uint64_t old = 0;
	size_t n;

	pthread_mutex_lock(&uma__vm.lock);
	n = dirty_index(uma__vm.end);
	for (size_t i = 0; i < n; i++)
		old += dirty_purgeable(d[i], true, uma__vm.epoch);
	pthread_mutex_unlock(&uma__vm.lock);
	return (old);
}
