/*
 * malloc.c - malloc(9) on uma: size-class zones, realloc, aligned
 * allocation, and the checks on free (large runs: malloc_large.c).
 *
 * Layer: malloc, above the zones.  Allocates through the zones' front
 * door (zone_fast.h: the hit paths inline in malloc_fast.h, the miss
 * entries behind them) and the page layer's runs (vm.c); counts through
 * malloc_type.c.  Must not
 * call libc's malloc: it runs underneath it (the interposer), which is why
 * a thread that re-enters while starting gets memory from a static
 * bootstrap area instead (fopen and pthread_create in uma's own start-up
 * allocate through libc).
 *
 * free() finds everything from the address: the arena says "ours", the
 * page's tag gives the size class and where the slab starts (no tag: the
 * page's vtoslab entry gives a large run's descriptor).  The type argument
 * only picks the counters.
 */
#include <errno.h>
#include <string.h>

#include "lowmem.h"
#include "malloc_fast.h"
#include "malloc_int.h"
#include "memguard_malloc.h"
#include "sysctl_int.h"

/*
 * 1152, 2304, 4608 and 9216 serve the common "power of two and a small
 * header" (a 4 KiB page and its descriptor), which the next quarter step
 * would waste 20-25% on: sqlite's page cache allocates 1032 and 4104
 * bytes, and its peak RSS fell 52.2 -> 47.7 MiB (glibc 38.3).
 */
const uint32_t malloc_class_sizes[MALLOC_NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1088, 1152, 1280, 1536, 1792, 2048,
	2304, 2560, 3072, 3584, 4096, 4224, 4608, 5120, 6144, 7168, 8192,
	9216, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
	40960, 49152, 57344, 65536,
};
static const char *const malloc_class_names[MALLOC_NCLASSES] = {
	"malloc-16", "malloc-32", "malloc-48", "malloc-64", "malloc-80",
	"malloc-96", "malloc-112", "malloc-128", "malloc-160", "malloc-192",
	"malloc-224", "malloc-256", "malloc-320", "malloc-384", "malloc-448",
	"malloc-512", "malloc-640", "malloc-768", "malloc-896", "malloc-1024",
	"malloc-1088", "malloc-1152", "malloc-1280", "malloc-1536",
	"malloc-1792", "malloc-2048", "malloc-2304", "malloc-2560",
	"malloc-3072", "malloc-3584", "malloc-4096", "malloc-4224",
	"malloc-4608", "malloc-5120",
	"malloc-6144", "malloc-7168", "malloc-8192", "malloc-9216",
	"malloc-10240", "malloc-12288", "malloc-14336", "malloc-16384",
	"malloc-20480", "malloc-24576", "malloc-28672", "malloc-32768",
	"malloc-40960", "malloc-49152", "malloc-57344", "malloc-65536",
};

/*
 * The table as FreeBSD publishes it, for libmemstat's
 * memstat_malloc_zone_get_size(): bit i of a type's size mask is class i,
 * so a reader that assumed FreeBSD's 14 classes would print wrong sizes.
 */
static int
sysctl_zone_count(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int v = MALLOC_NCLASSES;

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

static int
sysctl_zone_sizes(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int error = 0, v;

	for (int i = 0; i < MALLOC_NCLASSES && error == 0; i++) {
		v = (int)malloc_class_sizes[i];
		error = uma__sysctl_out(req, &v, sizeof(v));
	}
	return (error);
}

UMA_SYSCTL_PROC(sysctl_vm_malloc_zone_count, "vm.malloc.zone_count",
    UMA_CTLTYPE_INT, UMA_CTLFLAG_RD, "I", sysctl_zone_count, NULL,
    "Number of malloc size-class zones (bits of mts_size)");
UMA_SYSCTL_PROC(sysctl_vm_malloc_zone_sizes, "vm.malloc.zone_sizes",
    UMA_CTLTYPE_OPAQUE, UMA_CTLFLAG_RD, "S", sysctl_zone_sizes, NULL,
    "Zone sizes used by malloc (int per class, bit i of mts_size)");

struct malloc_class malloc_classes[MALLOC_NCLASSES];
struct malloc_check malloc_check;

/*
 * Class zones' buckets: this many times a plain zone's (bucket.c), or as
 * many items as fill MALLOC_BUCKET_BYTES if that is more.  FreeBSD gives
 * items of 4 KiB and more buckets of 1 or 2 (kernel memory is dear): with
 * 4 or 8 here, a program replacing random blocks of 1-16 KiB went to the
 * zone's bucket cache on one allocation in ten (8-16 KiB: 33 ns a pair,
 * tcmalloc 12).  A 256 KiB reach makes that 17.5 ns.  Buckets still start
 * at a slab's worth and grow only with demand (bucket_grow), so a program
 * that uses a class lightly never holds more.
 */
#define	MALLOC_BUCKET_SCALE	4
#define	MALLOC_BUCKET_BYTES	(256 * 1024)

/*
 * The most a class zone's bucket cache keeps, in MiB of items; past it,
 * full buckets go back to the slabs.  Cached items cost their buckets too
 * (8 bytes each: half again a 16-byte item), so a program that frees
 * millions of small objects at once held 13% more memory in buckets than
 * in objects (bench "small": peak RSS 258 -> 228 MiB, time unchanged;
 * 4 MiB saved 2 more but cost mstress 8%).
 */
static int class_cache_mb = 8;
UMA_SYSCTL_INT(sysctl_class_cache_mb, "vm.malloc.class_cache_mb",
    &class_cache_mb, UMA_CTLFLAG_RDTUN, 0, 1 << 20,
    "MiB of freed items each malloc size-class zone caches in buckets");

/* See malloc_fast.h */
char *uma__malloc_caches;
unsigned uma__malloc_caches_shift;
uma_cache_t uma__malloc_class_caches[MALLOC_NCLASSES];

/* See malloc_fast.h */
uint8_t uma__malloc_class_index[MALLOC_TABSIZE / 16 + 1];
uint8_t uma__malloc_class_index_mid[MALLOC_MAXSIZE >> MALLOC_MID_SHIFT];

static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

/* See malloc_fast.h */
__thread struct malloc_bet uma__malloc_bet
    __attribute__((tls_model("initial-exec")));

/*
 * The bootstrap area: serves a thread that calls malloc while it is
 * starting uma (libc allocating inside uma's start-up).  Each block has a
 * 16-byte header holding its size; blocks are never reused.
 */
#define	BOOT_SIZE	(512 * 1024)
static char boot_area[BOOT_SIZE] __bss_cold __attribute__((aligned(4096)));
static _Atomic size_t boot_used;
static __thread int malloc_booting __attribute__((tls_model("initial-exec")));

int
uma__malloc_class(size_t size)
{
	uma__malloc_startup();
	if (size > MALLOC_MAXSIZE)
		return (-1);
	return (malloc_class_index_any(size));
}

static bool
boot_contains(const void *p)
{
	return ((uintptr_t)p - (uintptr_t)boot_area < BOOT_SIZE);
}

static void *
boot_alloc(size_t size, size_t align)
{
	size_t off, start;

	if (align < 16)
		align = 16;
	if (size > BOOT_SIZE || align > 4096)
		return (NULL);
	off = atomic_load(&boot_used);
	do {
		start = roundup2(off + 16, align);
		if (start + size > BOOT_SIZE)
			return (NULL);
	} while (!atomic_compare_exchange_weak(&boot_used, &off,
	    roundup2(start + size, 16)));
	*(size_t *)(boot_area + start - 16) = size;
	return (boot_area + start);
}

static size_t
boot_size(const void *p)
{
	return (*(const size_t *)((const char *)p - 16));
}

/*
 * Class zones are made at their class's first allocation, under
 * class_lock: a program pays a zone, a keg and a slab header zone's share
 * only for the classes it uses (a small one uses a third of them: 28 KiB
 * less resident), and its start-up makes a dozen zones instead of 54.
 * The class's caches in the run stay closed until then, so its hit paths
 * miss into uma__malloc_class_alloc, which makes the zone.
 */
static pthread_mutex_t class_lock = PTHREAD_MUTEX_INITIALIZER;

static uma_zone_t
malloc_class_create(int i)
{
	struct malloc_class *mc = &malloc_classes[i];
	uma_zone_t zone;

	/* Its slabs name their class: free() then skips the keg. */
	zone = uma__zcreate_class(malloc_class_names[i], mc->mc_size,
	    malloc_class_caches((unsigned)i), (uint8_t)(i + 1),
	    MALLOC_BUCKET_SCALE, MALLOC_BUCKET_BYTES,
	    ((uint64_t)class_cache_mb << 20) /
	    mc->mc_size);
	if (zone == NULL)
		return (NULL);
	malloc_check.mk_nitems[i + 1] = zone->uz_keg->uk_ipers;
	__atomic_store_n(&mc->mc_zone, zone, __ATOMIC_RELEASE);
	return (zone);
}

/* See malloc_int.h */
uma_zone_t
uma__malloc_class_zone(int idx)
{
	uma_zone_t zone;

	zone = __atomic_load_n(&malloc_classes[idx].mc_zone, __ATOMIC_ACQUIRE);
	if (__predict_false(zone == NULL)) {
		pthread_mutex_lock(&class_lock);
		zone = malloc_classes[idx].mc_zone;
		if (zone == NULL)
			zone = malloc_class_create(idx);
		pthread_mutex_unlock(&class_lock);
	}
	return (zone);
}

/* Fork: class_lock first (a class zone's creation takes uma's locks). */
static void
malloc_fork_prepare(void)
{
	pthread_mutex_lock(&class_lock);
	uma__malloc_type_fork_prepare();
}

static void
malloc_fork_parent(void)
{
	uma__malloc_type_fork_parent();
	pthread_mutex_unlock(&class_lock);
}

static void
malloc_fork_child(void)
{
	uma__malloc_type_fork_child();
	pthread_mutex_init(&class_lock, NULL);
}

static void
malloc_startup_once(void)
{
	struct malloc_class *mc;
	struct uma_divx dx;
	void *mem;
	int i, c;

	uma__malloc_large_startup();
	uma__malloc_type_startup();
	uma__malloc_caches_shift = 7;
	while (((size_t)1 << uma__malloc_caches_shift) < (size_t)(uma.ug_ncpus +
	    UMA_CACHE_GUARD) * sizeof(struct uma_cache))
		uma__malloc_caches_shift++;
	/* Meta runs come zero-filled (uma__vm_meta_alloc). */
	mem = uma__malloc_meta_wait(roundup2((size_t)MALLOC_NCLASSES <<
	    uma__malloc_caches_shift, UMA_PAGE_SIZE), "size-class caches");
	uma__malloc_caches = (char *)mem + UMA_CACHE_GUARD *
	    sizeof(struct uma_cache);
	for (i = 0; i < MALLOC_NCLASSES; i++) {
		mc = &malloc_classes[i];
		mc->mc_size = malloc_class_sizes[i];
		dx = uma_divx_make(mc->mc_size);
		malloc_check.mk_inv[i + 1] = dx.dx_inv;
		malloc_check.mk_rot[i + 1] = (uint8_t)dx.dx_rot;
		uma__malloc_class_caches[i] = malloc_class_caches((unsigned)i);
	}
	for (c = 0, i = 0; i < (int)nitems(uma__malloc_class_index); i++) {
		while (malloc_class_sizes[c] < (uint32_t)i * 16)
			c++;
		uma__malloc_class_index[i] = (uint8_t)c;
	}
	for (i = 0; i < (int)nitems(uma__malloc_class_index_mid); i++) {
		while (malloc_class_sizes[c] < (uint32_t)(i + 1) <<
		    MALLOC_MID_SHIFT)
			c++;
		/* Each 1 KiB step past the table falls in one class. */
		if ((uint32_t)i << MALLOC_MID_SHIFT >= MALLOC_TABSIZE &&
		    malloc_class_sizes[c] % (1u << MALLOC_MID_SHIFT) != 0)
			uma__panic("uma: malloc class %u is not a multiple of "
			    "1 KiB", malloc_class_sizes[c]);
		uma__malloc_class_index_mid[i] = (uint8_t)c;
	}
	uma__atfork(malloc_fork_prepare, malloc_fork_parent,
	    malloc_fork_child);
	__atomic_store_n(&uma__memguard_types_hook,
	    uma__malloc_types_memguard, __ATOMIC_RELEASE);
}

/* See malloc_int.h */
void *
uma__malloc_meta_wait(size_t len, const char *what)
{
	void *mem;

	for (int attempt = 0; uma__vm_meta_alloc(len, &mem) != 0; attempt++)
		uma__lowmem_wait("malloc", what, len, attempt);
	return (mem);
}

/* uma first, outside malloc's once: see uma__startup. */
void
uma__malloc_startup(void)
{
	uma_ensure_started();
	pthread_once(&malloc_once, malloc_startup_once);
}

/* Report a bad pointer handed to malloc's interface and abort. */
void
uma__malloc_invalid(const char *what, const void *addr, const char *why)
{
	uma__panic("uma: %s(%p): %s", what, addr, why);
}

/* ---- allocation ------------------------------------------------------- */

/*
 * A M_NOWAIT allocation failed (M_WAITOK ones take the low-memory path,
 * lowmem.c).  If the arena refused a request since the last look (an
 * address-space or data limit, or the window is full), freed memory may
 * still sit in caches, buckets and empty slabs: give it all back and say
 * to try once more, so that only a real exhaustion makes malloc(3), which
 * asks M_NOWAIT, return NULL.  One drain, no handlers and no wait: not a
 * low-memory pass.  A failure the arena had no part in (a zone's limit, a
 * page allocator of the caller's) reclaims nothing.  Never on the thread
 * starting uma: it may hold locks that reclaim takes.
 */
static bool
malloc_lowmem(void)
{
	static _Atomic uint64_t seen;
	uint64_t fails = uma__vm_fails();

	if (malloc_booting || atomic_exchange_explicit(&seen, fails,
	    memory_order_relaxed) == fails)
		return (false);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	return (true);
}

/*
 * An allocation that took new pages may owe an idle pass (reclaim.h):
 * run it here, where no lock of uma's is held, so that the memory other
 * sizes left idle serves the next pages at once.  Not on the thread
 * starting uma, as malloc_lowmem.
 */
static inline void
malloc_idle_poll(void)
{
	if (__predict_false(atomic_load_explicit(&uma__reclaim_idle_wanted,
	    memory_order_relaxed)) && !malloc_booting)
		uma__reclaim_idle_run(true);
}

/*
 * A class allocation of `size` bytes; `missed`: the hit path (malloc_fast)
 * missed.  The zone may answer that a MemGuard sample is due
 * (UMA_ZALLOC_SAMPLE, zone_fast.h): one comparison tells that from NULL,
 * so with MemGuard off this costs what the test for NULL did.
 */
static inline __attribute__((always_inline)) void *
malloc_class_alloc(size_t size, size_t align, int idx,
    struct malloc_type *mtp, int flags, bool missed)
{
	uma_zone_t zone;
	void *item = NULL;

	zone = uma__malloc_class_zone(idx);
	if (zone != NULL)
		item = missed ? uma__zalloc_miss(zone, NULL, flags) :
		    uma_zalloc(zone, flags);
	if (__predict_false((uintptr_t)item <= (uintptr_t)UMA_ZALLOC_SAMPLE)) {
		/* A sample (counted there), else as a NULL answer. */
		if (item != NULL && (item = uma__malloc_sample(size, align,
		    idx, zone, mtp, flags)) != NULL)
			return (item);
		if (malloc_lowmem() && (zone = uma__malloc_class_zone(idx)) !=
		    NULL && (item = uma_zalloc(zone, flags)) ==
		    UMA_ZALLOC_SAMPLE)
			item = uma__zalloc_class_refill(zone, flags);
		if (item == NULL) {
			errno = ENOMEM;
			return (NULL);
		}
	}
	mstat_class(mtp, (size_t)idx);
	malloc_idle_poll();
	return (item);
}

/* A class allocation that has not tried the hit path. */
__attribute__((noinline)) void *
uma__malloc_class_alloc(size_t size, size_t align, int idx,
    struct malloc_type *mtp, int flags)
{
	return (malloc_class_alloc(size, align, idx, mtp, flags, false));
}

/* The hit path missed: on from where it stopped (zone_fast.h). */
__attribute__((noinline)) void *
uma__malloc_class_miss(int idx, struct malloc_type *mtp, int flags)
{
	uma__malloc_bet.mb_hint = (uint8_t)idx;
	return (malloc_class_alloc(malloc_class_sizes[idx], 16, idx, mtp,
	    flags, true));
}

/* The same, with the size asked for (malloc_fast.h). */
__attribute__((noinline)) void *
uma__malloc_class_miss_size(size_t size, struct malloc_type *mtp, int idx,
    int flags)
{
	uma__malloc_bet.mb_hint = (uint8_t)idx;
	return (malloc_class_alloc(size, 16, idx, mtp, flags, true));
}

/*
 * The interposer's miss (malloc_fast.h), with the class's caches.  In
 * locked mode every hit path misses (its sequence reads no CPU): the pop
 * under the lock comes first here, and is the hit path's (it counts
 * nothing).  Every road off it is a tail call, so that the pop saves no
 * register.  The class is free's bet whether the pop serves or the miss.
 */
static __attribute__((noinline)) void *
malloc_zone_miss_slow(size_t size, uma_cache_t caches, int idx, int flags)
{
	void *item;

	if ((item = cache_pop_lockmode_asked(caches)) != NULL)
		return (item);
	return (uma__malloc_class_miss_size(size, uma__malloc_zone_type, idx,
	    flags));
}

static __attribute__((noinline)) void *
malloc_zone_miss_wake(size_t size, uma_cache_t c, void *item, int idx,
    int flags)
{
	uma__unlock_wake(&c->uc_lock);
	if (item != NULL)
		return (item);
	return (uma__malloc_class_miss_size(size, uma__malloc_zone_type, idx,
	    flags));
}

__attribute__((noinline)) void *
uma__malloc_zone_miss(size_t size, uma_cache_t caches, int idx, int flags)
{
	uma_cache_t c;
	void *item;

	uma__malloc_bet.mb_hint = (uint8_t)idx;
	switch (uma__class_alloc_locked(caches, &item, &c)) {
	case CACHE_LM_DONE:
		return (item);
	case CACHE_LM_EMPTY:
		break;
	case CACHE_LM_SLOW:
		return (malloc_zone_miss_slow(size, caches, idx, flags));
	case CACHE_LM_WAKE:
		return (malloc_zone_miss_wake(size, c, item, idx, flags));
	}
	return (uma__malloc_class_miss_size(size, uma__malloc_zone_type, idx,
	    flags));
}

/* The same for a free's miss: first the push under the lock. */
static __attribute__((noinline)) void
free_class_miss_slow(void *addr, uma_cache_t caches, int idx)
{
	if (!cache_push_lockmode_asked(caches, addr))
		uma__zfree_miss_checked(malloc_classes[idx].mc_zone, addr);
}

static __attribute__((noinline)) void
free_class_miss_wake(void *addr, uma_cache_t c, bool done, int idx)
{
	uma__unlock_wake(&c->uc_lock);
	if (!done)
		uma__zfree_miss_checked(malloc_classes[idx].mc_zone, addr);
}

__attribute__((noinline)) void
uma__free_class_miss(void *addr, uma_cache_t caches, int idx)
{
	uma_cache_t c;
	bool done;

	switch (uma__class_free_locked(caches, addr, &done, &c)) {
	case CACHE_LM_DONE:
		return;
	case CACHE_LM_EMPTY:
		break;
	case CACHE_LM_SLOW:
		free_class_miss_slow(addr, caches, idx);
		return;
	case CACHE_LM_WAKE:
		free_class_miss_wake(addr, c, done, idx);
		return;
	}
	uma__zfree_miss_checked(malloc_classes[idx].mc_zone, addr);
}

/*
 * A run of pages.  Refused with M_WAITOK: the low-memory path and again
 * (lowmem.c), until the run comes or uma gives up naming the type; with
 * M_NOWAIT, one drain if the arena refused (malloc_lowmem).
 */
static void *
malloc_large_alloc(size_t size, size_t align, struct malloc_type *mtp,
    int flags)
{
	size_t len;
	void *mem;

	for (int refused = 0; (mem = uma__malloc_large_alloc(size, align,
	    flags, &len)) == NULL; refused++) {
		if (flags & M_NOWAIT) {
			if (refused == 0 && errno == ENOMEM && malloc_lowmem())
				continue;
			errno = ENOMEM;
			return (NULL);
		}
		uma__lowmem_wait("malloc type", mtp->ks_shortdesc, size,
		    refused);
	}
	if (flags & M_NODUMP)
		uma__malloc_large_nodump(uma__malloc_large_find(mem));
	mstat_large(mtp, 0, len);
	malloc_idle_poll();
	return (mem);
}

/*
 * A guarded object (memguard_malloc.h) for an allocation of `size` bytes
 * aligned to `align` in `mtp`, at the class malloc would have chosen; NULL:
 * allocate as usual.  Not for an M_NODUMP run: MemGuard's pages would be
 * in core dumps.
 */
static void *
malloc_guarded(size_t size, size_t align, struct malloc_type *mtp,
    int flags, bool sampled)
{
	int idx = -1;

	if (size > MALLOC_MAXSIZE && (flags & M_NODUMP))
		return (NULL);
	if (size <= MALLOC_MAXSIZE) {
		idx = uma__malloc_class(size > align ? size : align);
		while (malloc_class_sizes[idx] & (align - 1))
			idx++;
	}
	return (uma__malloc_guarded(size, align, idx, idx >= 0 ?
	    uma__malloc_class_zone(idx) : NULL, mtp, sampled));
}

/*
 * A first call with this type (it is registered now) or a large request.
 * A thread that gets here while it is starting uma is re-entering from
 * libc: it is served from the bootstrap area.
 */
__attribute__((noinline)) void *
uma__malloc_slow(size_t size, struct malloc_type *mtp, int flags)
{
	void *p;
	int idx;

	if (malloc_type_cold(mtp)) {
		if (malloc_booting) {
			p = boot_alloc(size, 16);
			if (p == NULL)
				errno = ENOMEM;
			return (p);
		}
		malloc_booting = 1;
		p = uma__malloc_type_ready(mtp, flags) ? mtp : NULL;
		malloc_booting = 0;
		if (p == NULL) {
			errno = ENOMEM;
			return (NULL);
		}
		/* A type MemGuard guards whole stays cold: malloc_type.c. */
		if (uma__malloc_type_guarded(mtp) &&
		    (p = malloc_guarded(size, 16, mtp, flags, false)) != NULL)
			return (p);
	}
	if (size > MALLOC_MAXSIZE) {
		if (__predict_false(uma__memguard_sampling()) &&
		    (uma__memguard_alllarge(size) || uma__memguard_tick()) &&
		    (p = malloc_guarded(size, UMA_PAGE_SIZE, mtp, flags,
		    !uma__memguard_alllarge(size))) != NULL)
			return (p);
		return (malloc_large_alloc(size, UMA_PAGE_SIZE, mtp, flags));
	}
	/*
	 * Sizes past the hit path's table, and M_ZERO (calloc): the same
	 * pop, with the class from the second table, and zeroed here, as
	 * the zone would zero the item (rand 8-16 KiB: 130 instructions an
	 * allocation less than through uma_zalloc).
	 */
	idx = malloc_class_index_any(size);
	p = uma__class_alloc_hit(malloc_class_caches((unsigned)idx));
	if (p != NULL) {
		uma__malloc_bet.mb_hint = (uint8_t)idx;
		mstat_class(mtp, (size_t)idx);
	} else if ((p = uma__malloc_class_miss_size(size, mtp, idx,
	    flags & ~M_ZERO)) == NULL)
		return (NULL);
	/* A guarded object is `size` bytes: its page ends there. */
	if (flags & M_ZERO)
		memset(p, 0, uma_memguard_contains(p) ? size :
		    malloc_class_sizes[idx]);
	return (p);
}

/* See malloc.h; the hit path is malloc_fast (malloc_fast.h). */
void *
uma_malloc(size_t size, struct malloc_type *mtp, int flags)
{
	return (malloc_fast(size, mtp, flags, false));
}

/* See malloc.h */
void *
uma_malloc_aligned(size_t size, size_t align, struct malloc_type *mtp,
    int flags)
{
	void *p;
	int idx;

	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return (NULL);
	}
	if (align <= 16)
		return (uma_malloc(size, mtp, flags));
	if (malloc_type_cold(mtp) && malloc_booting)
		return (boot_alloc(size, align));
	if (malloc_type_cold(mtp)) {
		if (!uma__malloc_type_ready(mtp, flags)) {
			errno = ENOMEM;
			return (NULL);
		}
		if (align <= UMA_PAGE_SIZE && uma__malloc_type_guarded(mtp) &&
		    (p = malloc_guarded(size, align, mtp, flags,
		    false)) != NULL)
			return (p);
	}
	if (align <= UMA_PAGE_SIZE && size <= MALLOC_MAXSIZE) {
		/*
		 * Items of class c lie at multiples of its size from a page
		 * boundary: a class whose size is a multiple of align gives
		 * aligned items.  65536 is a multiple of every align here.
		 */
		idx = uma__malloc_class(size > align ? size : align);
		while (malloc_class_sizes[idx] & (align - 1))
			idx++;
		return (uma__malloc_class_alloc(size, align, idx, mtp, flags));
	}
	return (malloc_large_alloc(size, align, mtp, flags));
}

/* ---- free ------------------------------------------------------------- */

/*
 * malloc_lookup for a page without a class tag: a large run's first page,
 * or nothing malloc handed out.
 */
__attribute__((noinline)) int
uma__malloc_lookup_other(const char *what, const void *addr,
    struct malloc_large **mlp)
{
	uma_slab_t slab = uma_vtoslab(addr);

	if (slab == NULL)
		uma__malloc_invalid(what, addr, "pointer not allocated by uma "
		    "(no slab or run starts on its page: never allocated, "
		    "already freed, or inside a large allocation)");
	if (slab->us_keg != &malloc_large_keg)
		uma__malloc_invalid(what, addr, "pointer to an item of a uma "
		    "zone that is not a malloc zone");
	*mlp = uma__malloc_large_find(addr);
	if (*mlp == NULL)
		uma__malloc_invalid(what, addr, "pointer inside a large "
		    "allocation");
	return (-1);
}

static __attribute__((noinline)) void
free_large(struct malloc_large *ml, struct malloc_type *mtp)
{
	size_t size = ml->ml_size;

	uma__malloc_large_free(ml);
	mstat_large(mtp, MSTAT_FREE, size);
}

/*
 * A free the hit path does not take: NULL, the bootstrap area, a large
 * run, a bad pointer (reported by malloc_lookup), or a class item while
 * a class zone has sleepers (uma__class_free_span), for the miss entry.
 */
__attribute__((noinline)) void
uma__free_other(void *addr, struct malloc_type *mtp)
{
	struct malloc_large *ml;
	int idx;

	if (addr == NULL || boot_contains(addr))
		return;
	if (uma_memguard_contains(addr)) {
		uma__free_guarded(addr, mtp);
		return;
	}
	idx = malloc_lookup("free", addr, &ml);
	if (idx < 0) {
		free_large(ml, mtp);
		return;
	}
	uma__free_class_miss(addr, malloc_class_caches((unsigned)idx), idx);
	mstat_class(mtp, MSTAT_FREE + (size_t)idx);
}

/* See malloc.h; the hit path is free_fast (malloc_fast.h). */
void
uma_free(void *addr, struct malloc_type *mtp)
{
	free_fast(addr, mtp, false);
}

/* See malloc_int.h */
size_t
uma__malloc_alloc_size(const char *what, const void *addr)
{
	struct malloc_large *ml;
	int idx;

	if (boot_contains(addr))
		return (boot_size(addr));
	if (uma_memguard_contains(addr))
		return (uma__memguard_size(addr, what));
	idx = malloc_lookup(what, addr, &ml);
	return (idx < 0 ? ml->ml_size : malloc_class_sizes[idx]);
}

/* See malloc.h */
size_t
uma_malloc_usable_size(const void *addr)
{
	if (addr == NULL)
		return (0);
	return (uma__malloc_alloc_size("malloc_usable_size", addr));
}

/*
 * An item the keg holds is certainly free: realloc of such a pointer is a
 * use after free.  (Items freed into a CPU cache are caught by the free
 * that follows the copy, if they are on top of it.)
 */
static void
realloc_check_live(const void *addr, int idx)
{
	uma_slab_t slab = uma_vtoslab(addr);
	int i = (int)(((const char *)addr - slab->us_data) /
	    malloc_class_sizes[idx]);

	if (__atomic_load_n(&slab->us_free[i / 64], __ATOMIC_RELAXED) &
	    (1ull << (i % 64)))
		uma__malloc_invalid("realloc", addr, "pointer already freed");
}

/*
 * realloc of a large run that stays large: in place or moved by the run
 * layer (malloc_large.c), the type counting the change.  A block resized
 * in place is the same allocation: only its bytes change; a moved one
 * counts as a new allocation and a free, as a copy does.
 */
static void *
realloc_large(struct malloc_large *ml, size_t size, struct malloc_type *mtp,
    int flags)
{
	size_t len = roundup2(size, UMA_PAGE_SIZE), old = ml->ml_size;
	void *addr = ml->ml_addr;
	int error;

	if (len < size) {
		errno = ENOMEM;
		return (NULL);
	}
	/* Refused: as malloc_large_alloc (the old block stays as it was). */
	for (int refused = 0; (error = uma__malloc_large_resize(ml, len)) != 0;
	    refused++) {
		if (flags & M_NOWAIT) {
			if (refused == 0 && malloc_lowmem())
				continue;
			errno = error;
			return (NULL);
		}
		uma__lowmem_wait("malloc type", mtp->ks_shortdesc, len,
		    refused);
	}
	if (ml->ml_addr != addr) {
		mstat_large(mtp, 0, ml->ml_size);
		mstat_large(mtp, MSTAT_FREE, old);
	} else if (ml->ml_size > old)
		mstat_add(mtp, MSTAT_LARGE_BYTES, ml->ml_size - old);
	else if (ml->ml_size < old)
		mstat_add(mtp, MSTAT_FREE + MSTAT_LARGE_BYTES, old - ml->ml_size);
	return (ml->ml_addr);
}

/*
 * realloc of a guarded object is guarded again, whatever chose the first
 * (FreeBSD's memguard_realloc): a sampled object stays a witness for its
 * whole life, still under the sampling caps.  If MemGuard cannot, the new
 * object is an ordinary one.
 * Always a copy (counted as one): a guarded object has no room after it.
 */
static void *
realloc_guarded(void *addr, size_t size, struct malloc_type *mtp, int flags)
{
	size_t old = uma__memguard_size(addr, "realloc");
	size_t n = size < old ? size : old;
	void *p;

	p = malloc_guarded(size, 16, mtp, flags,
	    uma__memguard_sampled(addr));
	if (p == NULL && (p = uma_malloc(size, mtp, flags & ~M_ZERO)) == NULL)
		return (NULL);
	memcpy(p, addr, n);
	__atomic_fetch_add(&uma__realloc_copied, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&uma__realloc_copied_bytes, n, __ATOMIC_RELAXED);
	if ((flags & M_ZERO) && size > old)
		memset((char *)p + old, 0, size - old);
	uma__free_guarded(addr, mtp);
	return (p);
}

/*
 * See malloc.h.  A class item is kept while the new size fits and uses
 * more than half of it; classes are four to a doubling, so a block that
 * grows through them is copied O(log) times, O(its size) bytes in all.
 * A large run that stays large never copies more than once per quarter
 * of growth (realloc_large).  Other changes copy: into or out of the
 * classes (at most MALLOC_MAXSIZE bytes), contigmalloc runs, and blocks
 * from the bootstrap area.  A guarded object is guarded again
 * (realloc_guarded).
 */
void *
uma_realloc(void *addr, size_t size, struct malloc_type *mtp, int flags)
{
	struct malloc_large *ml = NULL;
	size_t alloc, n;
	void *p;
	int idx;

	if (addr == NULL)
		return (uma_malloc(size, mtp, flags));
	if (uma_memguard_contains(addr))
		return (realloc_guarded(addr, size, mtp, flags));
	if (boot_contains(addr)) {
		alloc = boot_size(addr);
	} else {
		idx = malloc_lookup("realloc", addr, &ml);
		if (idx >= 0) {
			realloc_check_live(addr, idx);
			alloc = malloc_class_sizes[idx];
			/* Keep it if it fits and uses more than half of it. */
			if (size <= alloc && (size > alloc / 2 || alloc == 16))
				return (addr);
		} else if (!ml->ml_contig && size > MALLOC_MAXSIZE)
			return (realloc_large(ml, size, mtp, flags));
		else
			alloc = ml->ml_size;
	}
	p = uma_malloc(size, mtp, flags & ~M_ZERO);
	if (p == NULL)
		return (NULL);
	n = size < alloc ? size : alloc;
	memcpy(p, addr, n);
	__atomic_fetch_add(&uma__realloc_copied, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&uma__realloc_copied_bytes, n, __ATOMIC_RELAXED);
	if ((flags & M_ZERO) && size > alloc)
		memset((char *)p + alloc, 0, size - alloc);
	uma_free(addr, mtp);
	return (p);
}

/* See malloc.h */
void *
uma_reallocf(void *addr, size_t size, struct malloc_type *mtp, int flags)
{
	void *p = uma_realloc(addr, size, mtp, flags);

	if (p == NULL)
		uma_free(addr, mtp);
	return (p);
}
