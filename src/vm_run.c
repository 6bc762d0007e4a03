/*
 * vm_run.c - the backend every page uma takes comes through, the pages'
 * count by use, and the runs that realloc grows in place and moves.
 *
 * Layer: the page layer, beside vm.c (the arena).  The arena backend is
 * the real one; a test may put another in front of it (vm.h).  A large
 * run that realloc moves keeps its pages: mremap moves its page tables
 * into a new run (uma__vm_move_run).  The new run is then a mapping of its
 * own, which uma__vm_reset_run merges back into the arena's when it is
 * freed, so that the process's mapping count stays small.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vm_int.h"

/*
 * See vm.h: the arena backend.  A run may be made of pages freed a moment
 * ago (vm_dirty.c): those are zero-filled only for M_ZERO.  The most pages
 * handed out at once is the working set vm_dirty.c's cap follows.
 */
static int
arena_alloc(size_t len, const struct uma__pgreq *req, int flags,
    void **memp, void *arg)
{
	uintptr_t addr, lo, hi;
	uint64_t used;
	size_t dirty = 0;
	int error;

	pthread_mutex_lock(&uma__vm.lock);
	error = uma__vm_alloc_locked(len, req->pr_align, req->pr_low, req->pr_high,
	    req->pr_boundary, &addr);
	if (error == 0) {
		dirty = uma__vm_dirty_take_locked(addr, len, &lo, &hi);
		used = atomic_load_explicit(&uma__vm.pages,
		    memory_order_relaxed) + (len >> UMA_PAGE_SHIFT);
		if (used > uma__vm.wss)
			__atomic_store_n(&uma__vm.wss, used, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&uma__vm.lock);
	if (error != 0)
		return (error);
	if (dirty != 0 && (flags & M_ZERO))
		uma__vm_dirty_zero(lo, hi);
	if (dirty < len >> UMA_PAGE_SHIFT)
		uma__vm_dirty_owe((len >> UMA_PAGE_SHIFT) - dirty);
	*memp = (void *)addr;
	return (0);
}

/*
 * Its pages stay resident, for the next run (vm_dirty.c); those of a run
 * of VM_ABSENT_MIN or more that were never touched are not counted so.
 * A reclaim's go back at once: the range may be handed out as soon as
 * the map has it, so its contents go first.
 */
#define	VM_ABSENT_MIN	((size_t)64 << 10)

static void
arena_free(void *mem, size_t len, void *arg)
{
	bool keep = !uma__vm_dirty_bypassed();

	if (!keep)
		uma__vm_drop(mem, len);
	else if (len >= VM_ABSENT_MIN)
		uma__vm_dirty_absent((uintptr_t)mem, len);
	uma__vm_unmap_run(mem, len, keep);
}

/*
 * A growth takes the free pages after the run (zero-filled: freed ones
 * are cleared), a shrink leaves its tail to be reused like a freed run.
 */
static int
arena_resize(void *mem, size_t len, size_t newlen, void *arg)
{
	uintptr_t a = (uintptr_t)mem, lo = 0, hi = 0;
	size_t tail;
	int error;

	pthread_mutex_lock(&uma__vm.lock);
	error = vmmap_resize(&uma__vm.map, a, len, newlen);
	if (error == ENOMEM) {
		/* At the top: the arena grows under it. */
		tail = vmmap_tail_free(&uma__vm.map);
		if (a + len + tail == uma__vm.end &&
		    uma__vm_grow_locked(newlen - len - tail) == 0)
			error = vmmap_resize(&uma__vm.map, a, len, newlen);
	}
	if (error == 0 && newlen < len) {
		uma__vm_dirty_mark_locked(a + newlen, len - newlen, true);
		uma__vm_trim_locked();
	} else if (error == 0)
		(void)uma__vm_dirty_take_locked(a + len, newlen - len, &lo,
		    &hi);
	if (error == 0)
		uma__vm_top_locked(a, newlen);
	pthread_mutex_unlock(&uma__vm.lock);
	if (error == EINVAL)
		uma__panic("uma: page run %p (%zu bytes) was not allocated",
		    mem, len);
	uma__vm_dirty_zero(lo, hi);
	if (error == 0 && newlen < len)
		uma__vm_dirty_limit();
	return (error);
}

static const struct uma__backend arena_backend = {
	.ub_alloc = arena_alloc,
	.ub_resize = arena_resize,
	.ub_free = arena_free,
};

const struct uma__backend *
uma__backend_arena(void)
{
	return (&arena_backend);
}

void
uma__backend_set(const struct uma__backend *be)
{
	__atomic_store_n(&uma__vm.backend, be != NULL ? be : &arena_backend,
	    __ATOMIC_RELEASE);
}

static inline const struct uma__backend *
vm_backend(void)
{
	return (__atomic_load_n(&uma__vm.backend, __ATOMIC_ACQUIRE));
}

/* Pages come (npages > 0) or go under `use`. */
static inline void
vm_count(int64_t npages, int use)
{
	atomic_fetch_add_explicit(&uma__vm.pages, (uint64_t)npages,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&uma__vm.use[use], (uint64_t)npages,
	    memory_order_relaxed);
}

/* See vm.h */
int
uma__vm_alloc_run(size_t len, const struct uma__pgreq *req, int use,
    int flags, void **memp)
{
	static const struct uma__pgreq any = { 0, 0, UINTPTR_MAX, 0 };
	const struct uma__backend *be = vm_backend();
	int error;

	error = be->ub_alloc(len, req != NULL ? req : &any, flags, memp,
	    be->ub_arg);
	if (error == 0)
		vm_count((int64_t)(len >> UMA_PAGE_SHIFT), use);
	return (error);
}

/* See vm.h */
void
uma__vm_free_run(void *mem, size_t len, int use)
{
	const struct uma__backend *be = vm_backend();

	vm_count(-(int64_t)(len >> UMA_PAGE_SHIFT), use);
	be->ub_free(mem, len, be->ub_arg);
}

/* See vm.h */
int
uma__vm_resize_run(void *mem, size_t len, size_t newlen, int use)
{
	const struct uma__backend *be = vm_backend();
	int error;

	error = be->ub_resize(mem, len, newlen, be->ub_arg);
	if (error == 0)
		vm_count((int64_t)(newlen >> UMA_PAGE_SHIFT) -
		    (int64_t)(len >> UMA_PAGE_SHIFT), use);
	return (error);
}

/* See vm.h */
void *
uma__page_alloc(size_t npages, int flags)
{
	void *mem;

	if (uma__vm_alloc_run(npages * UMA_PAGE_SIZE, NULL, UMA_PAGES_SLAB,
	    flags, &mem) != 0)
		return (NULL);
	return (mem);
}

/* See vm.h */
void
uma__page_free(void *mem, size_t npages)
{
	uma__vm_free_run(mem, npages * UMA_PAGE_SIZE, UMA_PAGES_SLAB);
}

/* See vm.h */
int
uma__vm_meta_alloc(size_t len, void **memp)
{
	return (uma__vm_alloc_run(len, NULL, UMA_PAGES_META, M_ZERO, memp));
}

void
uma__vm_meta_free(void *mem, size_t len)
{
	uma__vm_free_run(mem, len, UMA_PAGES_META);
}

/* See vm.h */
void
uma__vm_run_use(size_t len, int from, int to)
{
	atomic_fetch_sub_explicit(&uma__vm.use[from], len >> UMA_PAGE_SHIFT,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&uma__vm.use[to], len >> UMA_PAGE_SHIFT,
	    memory_order_relaxed);
}

/* See vm.h */
uint64_t
uma__vm_pages_used(int use)
{
	return (atomic_load_explicit(&uma__vm.use[use], memory_order_relaxed));
}

int
uma__vm_split_run(void *mem, size_t len, size_t at)
{
	int error;

	pthread_mutex_lock(&uma__vm.lock);
	error = vmmap_split(&uma__vm.map, (uintptr_t)mem, len, at);
	pthread_mutex_unlock(&uma__vm.lock);
	return (error);
}

void
uma__vm_merge_runs(void *mem, size_t len, size_t len2)
{
	int error;

	pthread_mutex_lock(&uma__vm.lock);
	error = vmmap_merge(&uma__vm.map, (uintptr_t)mem, len, len2);
	pthread_mutex_unlock(&uma__vm.lock);
	if (error != 0)
		uma__panic("uma: runs %p+%zu and +%zu are not adjacent runs",
		    mem, len, len2);
}

/*
 * Make sure [mem, mem + len), a range of the arena the map has handed
 * out, is mapped; false if part of it is another mapping or cannot be
 * mapped, and the range must never be handed out again.  A range mapped
 * anew holds nothing: if it is to be freed next (`freeing`), its pages
 * are marked fresh (vm_dirty.c), so that the free does not count them as
 * resident.
 */
static bool
vm_refill(void *mem, size_t len, bool freeing)
{
	void *p;

	if (msync(mem, len, MS_ASYNC) == 0)	/* ENOMEM: a hole in it */
		return (true);
	p = mmap(mem, len, VM_RW, VM_ANON | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == mem && !freeing)
		return (true);
	if (p == mem) {
		pthread_mutex_lock(&uma__vm.lock);
		uma__vm_dirty_fresh_locked((uintptr_t)mem, len);
		pthread_mutex_unlock(&uma__vm.lock);
		return (true);
	}
	if (p != MAP_FAILED)
		munmap(p, len);
	return (false);
}

/* A range that cannot be mapped again stays allocated in the map. */
static void
vm_lose(size_t len)
{
	atomic_fetch_add_explicit(&uma__vm.lost, len, memory_order_relaxed);
}

/*
 * See vm.h.  With MREMAP_FIXED the kernel unmaps dst first, then moves
 * src's page tables there and maps the rest of dst fresh, all as one
 * mapping; src is left a hole, which is mapped again at once.  The kernel
 * may also fail after it unmapped dst (before Linux 6.x, a src of more
 * than one mapping: EFAULT).  A hole another thread's mmap took in
 * between is lost rather than handed out over someone else's mapping.
 */
int
uma__vm_move_run(void *src, size_t srclen, void *dst, size_t dstlen,
    int use)
{
	int error;

	if (mremap(src, srclen, dstlen, MREMAP_MAYMOVE | MREMAP_FIXED,
	    dst) == MAP_FAILED) {
		error = errno;
		if (vm_refill(dst, dstlen, true))
			uma__vm_free_run(dst, dstlen, use);
		else {
			vm_count(-(int64_t)(dstlen >> UMA_PAGE_SHIFT), use);
			vm_lose(dstlen);
		}
		return (error);
	}
	/* src is a fresh hole now: mapped again, it goes back as any run. */
	if (vm_refill(src, srclen, true))
		uma__vm_free_run(src, srclen, use);
	else {
		vm_count(-(int64_t)(srclen >> UMA_PAGE_SHIFT), use);
		vm_lose(srclen);
	}
	return (0);
}

/*
 * See vm.h.  The map gives the run the free pages after it first; their
 * mapping goes, and mremap without MREMAP_MAYMOVE grows the run's mapping
 * over the hole.  If it cannot (another thread's mmap took the hole in
 * between, or a limit), the hole is mapped again and given back, or lost.
 */
int
uma__vm_extend_run(void *mem, size_t len, size_t newlen, int use)
{
	char *tail = (char *)mem + len;
	int error;

	if ((error = uma__vm_resize_run(mem, len, newlen, use)) != 0)
		return (error);
	if (munmap(tail, newlen - len) == 0 &&
	    mremap(mem, len, newlen, 0) == mem)
		return (0);
	error = errno;
	if (vm_refill(tail, newlen - len, true)) {
		uma__vm_resize_run(mem, newlen, len, use);
		return (error);
	}
	vm_count(-(int64_t)((newlen - len) >> UMA_PAGE_SHIFT), use);
	vm_lose(newlen - len);
	if (uma__vm_split_run(mem, newlen, len) != 0)
		uma__panic("uma: run %p: no node to set a lost range apart",
		    mem);
	return (error);
}

/* See vm.h */
bool
uma__vm_reset_run(void *mem, size_t len, int use)
{
	if (mmap(mem, len, VM_RW, VM_ANON | MAP_FIXED, -1, 0) == mem)
		return (true);
	/* The kernel may have unmapped it before it failed. */
	if (vm_refill(mem, len, false)) {
		uma__vm_drop(mem, len);
		return (true);
	}
	vm_count(-(int64_t)(len >> UMA_PAGE_SHIFT), use);
	vm_lose(len);
	return (false);
}
