/*
 * vm.h - the page layer (internal): where every page uma takes comes from.
 *
 * uma picks one large window of address space at start-up, the arena,
 * maps it from the bottom up as it needs pages, and hands out runs of
 * pages from it through a first-fit map (vmmap.c).  Because every page uma
 * ever gives lies in the arena, "is this pointer ours, and which slab holds
 * it" is one subtraction and one table load (vtoslab).
 *
 * Every page uma takes, for a slab, a large or contigmalloc run, or uma's
 * own runs (malloc's class caches, type counters), comes through one
 * backend (struct uma__backend below) and is counted by what it is for:
 * the fault-injection tests put a backend in front that refuses the Nth
 * request, and the kmem report reads the counts.  Pages of a keg with its
 * own allocf (uma_zone_set_allocf) are the caller's, outside the arena;
 * MemGuard's are in its own arena (memguard.c), counted apart.
 *
 * Layer: the bottom.  It knows pages, slab pointers and tags, nothing of
 * kegs or zones.
 */
#ifndef _UMA_VM_H_
#define	_UMA_VM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define	UMA_PAGE_SHIFT	12
#define	UMA_PAGE_SIZE	((size_t)1 << UMA_PAGE_SHIFT)
#define	UMA_PAGE_MASK	(UMA_PAGE_SIZE - 1)

/*
 * What a run of pages is for.  Every page uma takes is counted under the
 * use it was taken for, and moved between uses when a run changes hands
 * (uma__vm_run_use): the kmem report reads the counts, which add up to
 * uma__vm_pages().
 */
enum uma__pages {
	UMA_PAGES_SLAB,		/* a keg's slab */
	UMA_PAGES_LARGE,	/* a live malloc run over 64 KiB */
	UMA_PAGES_CONTIG,	/* a live contigmalloc run */
	UMA_PAGES_CACHED,	/* a freed run in malloc's large-run cache */
	UMA_PAGES_META,		/* uma's own: class caches, type counters */
	UMA_PAGES_NUSE
};

/* A run's constraints, vmmap_alloc's: alignment, [low, high), boundary. */
struct uma__pgreq {
	size_t		 pr_align;	/* 0: a page */
	uintptr_t	 pr_low;
	uintptr_t	 pr_high;
	size_t		 pr_boundary;	/* 0: none */
};

/*
 * The backend contract: every page uma takes comes through it, so a test
 * backend that refuses the Nth request reaches slabs, large runs,
 * contigmalloc, malloc's class caches and type counters alike.  Lengths
 * are page multiples; nothing here sleeps or aborts.
 *   ub_alloc	a run of `len` bytes meeting `req`, in the arena, zero-
 *		filled if `flags` has M_ZERO (else it may hold what a freed
 *		run left): 0, or ENOMEM (no room) or EINVAL (impossible req);
 *   ub_resize	[mem, mem + len) becomes newlen bytes long in place: a
 *		growth takes the pages right after it (zero-filled), a shrink
 *		gives its tail back: 0 or ENOMEM (no room after the run);
 *   ub_free	gives a whole run back; its contents are lost.
 * The arena backend is the real one; tests install one that forwards to
 * it (uma__backend_arena) and refuses what they choose.
 */
struct uma__backend {
	int	(*ub_alloc)(size_t len, const struct uma__pgreq *req,
		    int flags, void **memp, void *arg);
	int	(*ub_resize)(void *mem, size_t len, size_t newlen, void *arg);
	void	(*ub_free)(void *mem, size_t len, void *arg);
	void	*ub_arg;
};

/* The real backend, and the one in use (set before zones exist or in tests). */
const struct uma__backend *uma__backend_arena(void);
void	uma__backend_set(const struct uma__backend *be);

/*
 * Through the backend in use, counted under `use`: a run with `req`'s
 * constraints (NULL: any page-aligned run) or an errno; a whole run back;
 * a run made newlen bytes long in place (0 or ENOMEM).
 */
int	uma__vm_alloc_run(size_t len, const struct uma__pgreq *req, int use,
	    int flags, void **memp);
void	uma__vm_free_run(void *mem, size_t len, int use);
int	uma__vm_resize_run(void *mem, size_t len, size_t newlen, int use);

/* A slab's pages (UMA_PAGES_SLAB), or NULL; and back. */
void	*uma__page_alloc(size_t npages, int flags);
void	uma__page_free(void *mem, size_t npages);

/* A run changes hands: its pages count under `to` instead of `from`. */
void	uma__vm_run_use(size_t len, int from, int to);

/* Pages counted under `use`. */
uint64_t uma__vm_pages_used(int use);

/* A zero-filled run for uma's own use (UMA_PAGES_META): 0 or an errno. */
int	uma__vm_meta_alloc(size_t len, void **memp);
void	uma__vm_meta_free(void *mem, size_t len);

/* Make a run two runs, [mem, mem + at) and the rest; 0 or an errno. */
int	uma__vm_split_run(void *mem, size_t len, size_t at);

/* Make adjacent runs [mem, mem + len) and the len2 after it one. */
void	uma__vm_merge_runs(void *mem, size_t len, size_t len2);

/*
 * Move the pages of the run [src, src + srclen) into the run [dst, dst +
 * dstlen) that uma__vm_alloc_run returned (dstlen >= srclen; the rest of
 * dst reads as zeros) without copying them: mremap moves the page
 * tables.  dst is then a mapping of its own until uma__vm_reset_run.
 * Returns 0 (src is given back) or the errno of mremap (dst is given back,
 * src is unchanged): a src that spans mappings fails.
 */
int	uma__vm_move_run(void *src, size_t srclen, void *dst, size_t dstlen,
	    int use);

/*
 * uma__vm_resize_run for a run that uma__vm_move_run made a mapping of
 * its own: the mapping grows with it.  Returns 0, ENOMEM (no room after
 * the run) or the errno of the remapping (the run is unchanged).
 */
int	uma__vm_extend_run(void *mem, size_t len, size_t newlen, int use);

/*
 * Replace the pages of [mem, mem + len), part of a run, with fresh zero
 * ones that join the arena's mapping again (after uma__vm_move_run).
 * false: the range could not be mapped again; it is lost (no longer
 * counted under `use`), and must not be given back.
 */
bool	uma__vm_reset_run(void *mem, size_t len, int use);

/*
 * The address-space or data limit (RLIMIT_AS, RLIMIT_DATA: the smaller)
 * in force when uma started, in bytes, or 0 for none.
 */
size_t	uma__vm_limit(void);

/*
 * Requests the arena could not serve (it could not grow): an allocation
 * that failed while this moved may succeed once caches give memory back.
 */
uint64_t uma__vm_fails(void);

/* Bytes of the arena lost to a failed remapping (never handed out). */
uint64_t uma__vm_lost(void);

/* Page counts the backend has handed out and not taken back. */
uint64_t uma__vm_pages(void);

/*
 * Freed pages the page layer keeps resident for the next run of any use
 * (vm_dirty.c): how many, and how many of them the next decay gives back.
 * uma__vm_decay is the periodic trim's step: it gives back those freed
 * before the previous step.  uma__vm_purge gives back all of them.
 */
uint64_t uma__vm_dirty_pages(void);
uint64_t uma__vm_dirty_old_pages(void);
void	uma__vm_decay(void);
void	uma__vm_purge(void);
/*
 * While on, the pages this thread frees go back to the OS at once, not
 * kept: reclaim.c's passes that give back what the caches judged idle.
 */
void	uma__vm_dirty_bypass(bool on);

/*
 * fn runs (in the allocating thread, no lock of the page layer held)
 * whenever the page layer has handed out a few more MiB of pages that no
 * freed run could give: memory that caches above might hold idle.  It
 * must only take leaf locks of its own (reclaim.c wakes the trim thread).
 */
void	uma__vm_pressure_hook(void (*fn)(void));

/*
 * The page layer's own memory outside the arena, in bytes: the map's node
 * pages and the resident pages of the vtoslab and tag tables.  For the
 * kmem report; takes the map's lock for an instant and asks the kernel.
 */
uint64_t uma__vm_meta_bytes(void);

int	uma__vm_startup(void);
void	uma__vm_fork_prepare(void);
void	uma__vm_fork_parent(void);
void	uma__vm_fork_child(void);

/*
 * The arena, and per page a slab pointer and a tag.  A tag is one load
 * from a dense table that says, for free() and the bucket checks, which
 * keg a page's slab belongs to, its malloc class, and where the slab
 * starts, without reading the slab header:
 *   bits  0-7   the slab's malloc class + 1, or 0
 *   bits  8-15  the page's index in its slab (tagged slabs: <= 256 pages)
 *   bits 16-31  the keg's id, or 0
 */
#define	UMA_VM_HIDDEN	__attribute__((visibility("hidden")))
extern uintptr_t uma_vm_base UMA_VM_HIDDEN;
extern uintptr_t uma_vm_size UMA_VM_HIDDEN;
extern void * _Atomic *uma_vm_slabtab UMA_VM_HIDDEN;
extern _Atomic uint32_t *uma_vm_pagetag UMA_VM_HIDDEN;

#define	UMA_PAGETAG_CLASS(t)	((t) & 0xff)
#define	UMA_PAGETAG_INDEX(t)	(((t) >> 8) & 0xff)
#define	UMA_PAGETAG_OFFSET(t)	(((t) << 4) & 0xff000)	/* index * page */
#define	UMA_PAGETAG_KEG(t)	((t) >> 16)

/* A run's tag for its first page: keg id and class (the index is added). */
static inline uint32_t
uma_pagetag_make(uint16_t keg_id, uint8_t cls)
{
	return ((uint32_t)keg_id << 16 | cls);
}

/*
 * Point every page of a run at `slab` (or NULL) and give it `tag` with
 * its index in the run (tag 0: untagged).
 */
void	uma__vtoslab_set(void *mem, size_t npages, void *slab, uint32_t tag);

static inline bool
uma_vm_contains(const void *p)
{
	return ((uintptr_t)p - uma_vm_base < uma_vm_size);
}

static inline void *
uma_vtoslab(const void *p)
{
	return (__atomic_load_n(&uma_vm_slabtab[((uintptr_t)p -
	    uma_vm_base) >> UMA_PAGE_SHIFT], __ATOMIC_RELAXED));
}

static inline unsigned
uma_vm_pagetag_of(const void *p)
{
	return (__atomic_load_n(&uma_vm_pagetag[((uintptr_t)p -
	    uma_vm_base) >> UMA_PAGE_SHIFT], __ATOMIC_RELAXED));
}

#endif /* !_UMA_VM_H_ */
