/*
 * malloc.c - malloc(9) on uma: size-class zones, realloc, aligned
 * allocation, and the checks on free (large runs: malloc_large.c).
 *
 * Layer: malloc, above the zones.  Allocates only through uma_zalloc and
 * the page layer's runs (vm.c); counts through malloc_type.c.  Must not
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

#include "malloc_int.h"
#include "malloc_mstat.h"

const uint32_t malloc_class_sizes[MALLOC_NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
	10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
	40960, 49152, 57344, 65536,
};
static const char *const malloc_class_names[MALLOC_NCLASSES] = {
	"malloc-16", "malloc-32", "malloc-48", "malloc-64", "malloc-80",
	"malloc-96", "malloc-112", "malloc-128", "malloc-160", "malloc-192",
	"malloc-224", "malloc-256", "malloc-320", "malloc-384", "malloc-448",
	"malloc-512", "malloc-640", "malloc-768", "malloc-896", "malloc-1024",
	"malloc-1280", "malloc-1536", "malloc-1792", "malloc-2048",
	"malloc-2560", "malloc-3072", "malloc-3584", "malloc-4096",
	"malloc-5120", "malloc-6144", "malloc-7168", "malloc-8192",
	"malloc-10240", "malloc-12288", "malloc-14336", "malloc-16384",
	"malloc-20480", "malloc-24576", "malloc-28672", "malloc-32768",
	"malloc-40960", "malloc-49152", "malloc-57344", "malloc-65536",
};

struct malloc_class malloc_classes[MALLOC_NCLASSES];

/*
 * The class zones' per-CPU caches, in one run at a power-of-2 stride:
 * free() computes the caches of the page's class from its tag, with no
 * load on the way from the item to the cache word it pushes to.
 */
static char *malloc_caches;		/* class 0's uz_cpu */
static unsigned malloc_caches_shift;	/* log2 of the stride */

static inline uma_cache_t
malloc_class_caches(unsigned idx)
{
	return ((uma_cache_t)(malloc_caches +
	    ((size_t)idx << malloc_caches_shift)));
}

/*
 * size -> class, by 16 bytes: one load and no branch on the way in and
 * on the way out (free looks its keg's size up here), for 4 KiB.
 */
static uint8_t class_index[MALLOC_MAXSIZE / 16 + 1];

static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

/*
 * The class of this thread's last allocation: free() bets the item it is
 * given has it.  The push of a free goes to an address computed from the
 * item's class, and the next pop of that class waits for it; computed from
 * the page tag, that address comes late (after the item's own load and the
 * tag's), while the bet's comes from this thread-local byte at once.  The
 * tag decides first whether the bet holds, by a branch the predictor
 * learns: programs that free what they just allocated win it; the others
 * mostly skip it.
 */
static __thread uint8_t malloc_hint __attribute__((tls_model("initial-exec")));

/*
 * The bootstrap area: serves a thread that calls malloc while it is
 * starting uma (libc allocating inside uma's start-up).  Each block has a
 * 16-byte header holding its size; blocks are never reused.
 */
#define	BOOT_SIZE	(512 * 1024)
static char boot_area[BOOT_SIZE] __attribute__((aligned(4096)));
static _Atomic size_t boot_used;
static __thread int malloc_booting __attribute__((tls_model("initial-exec")));

/* The type has no counters yet: its first allocation gives it some. */
static inline bool
malloc_type_cold(struct malloc_type *mtp)
{
	return (__atomic_load_n(&mtp->ks_handle, __ATOMIC_ACQUIRE) == NULL);
}

static inline int
malloc_class_index(size_t size)
{
	return (class_index[(size + 15) >> 4]);
}

int
uma__malloc_class(size_t size)
{
	uma__malloc_startup();
	return (size > MALLOC_MAXSIZE ? -1 : malloc_class_index(size));
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

static void
malloc_startup_once(void)
{
	struct malloc_class *mc;
	uint32_t size;
	void *mem;
	int i, c;

	uma_ensure_started();
	uma__malloc_large_startup();
	malloc_caches_shift = 7;
	while (((size_t)1 << malloc_caches_shift) < (size_t)(uma.ug_ncpus +
	    UMA_CACHE_GUARD) * sizeof(struct uma_cache))
		malloc_caches_shift++;
	if (uma__vm_alloc_run(roundup2((size_t)MALLOC_NCLASSES <<
	    malloc_caches_shift, UMA_PAGE_SIZE), 0, 0, UINTPTR_MAX, 0,
	    &mem) != 0)
		uma__panic("uma: no memory for the malloc zones' caches");
	malloc_caches = (char *)mem + UMA_CACHE_GUARD *
	    sizeof(struct uma_cache);
	for (i = 0; i < MALLOC_NCLASSES; i++) {
		mc = &malloc_classes[i];
		size = malloc_class_sizes[i];
		mc->mc_zone = uma_zcreate(malloc_class_names[i], size, NULL,
		    NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
		if (mc->mc_zone == NULL)
			uma__panic("uma: cannot create zone %s",
			    malloc_class_names[i]);
		mc->mc_keg = mc->mc_zone->uz_keg;
		if (mc->mc_keg->uk_flags & UMA_ZONE_CACHESPREAD)
			uma__panic("uma: %s: coloured slabs break free()'s "
			    "item check", malloc_class_names[i]);
		uma__zone_move_caches(mc->mc_zone, malloc_class_caches(i));
		/* Its slabs name their class: free() then skips the keg. */
		mc->mc_keg->uk_slabflags = (uint16_t)(i + 1);
		mc->mc_ipers = mc->mc_keg->uk_ipers;
		mc->mc_size = size;
		mc->mc_inv = ((uint64_t)1 << 40) / size + 1;
	}
	for (c = 0, i = 0; i < (int)nitems(class_index); i++) {
		while (malloc_class_sizes[c] < (uint32_t)i * 16)
			c++;
		class_index[i] = (uint8_t)c;
	}
	pthread_atfork(uma__malloc_type_fork_prepare,
	    uma__malloc_type_fork_parent, uma__malloc_type_fork_child);
}

void
uma__malloc_startup(void)
{
	pthread_once(&malloc_once, malloc_startup_once);
}

/* Report a bad pointer handed to malloc's interface and abort. */
void
uma__malloc_invalid(const char *what, const void *addr, const char *why)
{
	uma__panic("uma: %s(%p): %s", what, addr, why);
}

/* ---- allocation ------------------------------------------------------- */

/* Count a size-class alloc or free, unless the class zones count it. */
static inline void
mstat_class(struct malloc_type *mtp, size_t word)
{
	if (mtp != uma__malloc_zone_type)
		mstat_add(mtp, word, 1);
}

static void *
malloc_class_alloc(int idx, struct malloc_type *mtp, int flags)
{
	void *item;

	item = uma_zalloc(malloc_classes[idx].mc_zone, flags);
	if (__predict_false(item == NULL)) {
		errno = ENOMEM;
		return (NULL);
	}
	mstat_class(mtp, (size_t)idx);
	return (item);
}

static void *
malloc_large_alloc(size_t size, size_t align, struct malloc_type *mtp,
    int flags)
{
	size_t len;
	void *mem;

	mem = uma__malloc_large_alloc(size, align, flags, &len);
	if (mem == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	mstat_add(mtp, MSTAT_LARGE_BYTES, len);
	mstat_add(mtp, MSTAT_LARGE_COUNT, 1);
	return (mem);
}

/*
 * A first call with this type (it is registered now) or a large request.
 * A thread that gets here while it is starting uma is re-entering from
 * libc: it is served from the bootstrap area.
 */
static __attribute__((noinline)) void *
malloc_slow(size_t size, struct malloc_type *mtp, int flags)
{
	void *p;

	if (malloc_type_cold(mtp)) {
		if (malloc_booting) {
			p = boot_alloc(size, 16);
			if (p == NULL)
				errno = ENOMEM;
			return (p);
		}
		malloc_booting = 1;
		uma__malloc_type_ready(mtp);
		malloc_booting = 0;
	}
	if (size > MALLOC_MAXSIZE)
		return (malloc_large_alloc(size, UMA_PAGE_SIZE, mtp, flags));
	return (malloc_class_alloc(malloc_class_index(size), mtp, flags));
}

/*
 * See malloc.h.  The hit path pops from the class zone's CPU cache inline
 * (the class zones have no ctor) and counts; anything else is a call.
 */
void *
uma_malloc(size_t size, struct malloc_type *mtp, int flags)
{
	void *item;
	int idx;

	if (__predict_false(size > MALLOC_MAXSIZE || malloc_type_cold(mtp) ||
	    (flags & M_ZERO)))
		return (malloc_slow(size, mtp, flags));
	idx = malloc_class_index(size);
	item = uma__zalloc_hit_cpu(malloc_classes[idx].mc_zone,
	    malloc_class_caches((unsigned)idx));
	if (__predict_false(item == NULL))
		return (malloc_class_alloc(idx, mtp, flags));
	malloc_hint = (uint8_t)idx;
	mstat_class(mtp, (size_t)idx);
	return (item);
}

/* See malloc.h */
void *
uma_malloc_aligned(size_t size, size_t align, struct malloc_type *mtp,
    int flags)
{
	int idx;

	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return (NULL);
	}
	if (align <= 16)
		return (uma_malloc(size, mtp, flags));
	if (malloc_type_cold(mtp) && malloc_booting)
		return (boot_alloc(size, align));
	if (malloc_type_cold(mtp))
		uma__malloc_type_ready(mtp);
	if (align <= UMA_PAGE_SIZE && size <= MALLOC_MAXSIZE) {
		/*
		 * Items of class c lie at multiples of its size from a page
		 * boundary: a class whose size is a multiple of align gives
		 * aligned items.  65536 is a multiple of every align here.
		 */
		idx = malloc_class_index(size > align ? size : align);
		while (malloc_class_sizes[idx] & (align - 1))
			idx++;
		return (malloc_class_alloc(idx, mtp, flags));
	}
	return (malloc_large_alloc(size, align, mtp, flags));
}

/* ---- free ------------------------------------------------------------- */

/*
 * malloc_lookup for a page without a class tag: a large run's first page,
 * or nothing malloc handed out.
 */
static __attribute__((noinline)) int
malloc_lookup_other(const char *what, const void *addr, uma_slab_t slab,
    struct malloc_large **mlp)
{
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

/*
 * Validate addr as a live-looking item of a malloc class: in the arena, on
 * a slab of a malloc keg, at the start of an item.  Returns the class, or
 * -1 for a large run (*mlp set).  Anything else aborts with a message.
 *
 * All from the page's tag: its class, and the page's index in its slab,
 * which with the class's size says whether addr starts an item (class
 * slabs have no colour: items start at the slab's first byte).  Neither
 * the slab header nor the vtoslab entry is read, so a free of a cold item
 * takes no cache miss there, and the class zone's cache follows from the
 * tag without another load.
 */
static inline int
malloc_lookup(const char *what, const void *addr, struct malloc_large **mlp)
{
	struct malloc_class *mc;
	uint64_t off, q;
	unsigned tag;

	if (__predict_false(!uma_vm_contains(addr)))
		uma__malloc_invalid(what, addr, "pointer not allocated by uma "
		    "(outside its arena: a stack, static or foreign pointer)");
	tag = uma_vm_pagetag_of(addr);
	if (__predict_false(UMA_PAGETAG_CLASS(tag) == 0))
		return (malloc_lookup_other(what, addr, uma_vtoslab(addr),
		    mlp));
	mc = &malloc_classes[UMA_PAGETAG_CLASS(tag) - 1];
	off = ((uintptr_t)addr & UMA_PAGE_MASK) +
	    ((uint64_t)UMA_PAGETAG_INDEX(tag) << UMA_PAGE_SHIFT);
	q = (off * mc->mc_inv) >> 40;
	if (__predict_false(q * mc->mc_size != off || q >= mc->mc_ipers))
		uma__malloc_invalid(what, addr, "pointer inside an allocation "
		    "(not its start)");
	return ((int)UMA_PAGETAG_CLASS(tag) - 1);
}

static __attribute__((noinline)) void
free_large(struct malloc_large *ml, struct malloc_type *mtp)
{
	size_t size = ml->ml_size;

	uma__malloc_large_free(ml);
	mstat_add(mtp, MSTAT_FREE + MSTAT_LARGE_BYTES, size);
	mstat_add(mtp, MSTAT_FREE + MSTAT_LARGE_COUNT, 1);
}

/* See malloc.h */
void
uma_free(void *addr, struct malloc_type *mtp)
{
	struct malloc_large *ml;
	uma_cache_t hcaches;
	uma_zone_t hzone;
	unsigned hint;
	int idx;

	if (__predict_false(!uma_vm_contains(addr))) {
		if (addr == NULL || boot_contains(addr))
			return;
	}
	idx = malloc_lookup("free", addr, &ml);
	if (__predict_false(idx < 0)) {
		free_large(ml, mtp);
		return;
	}
	/*
	 * The bet's cache, computed before the tag is known and hidden from
	 * the compiler, which would otherwise recompute it from the equal
	 * (and late) class in the branch below.
	 */
	hint = malloc_hint;
	hcaches = malloc_class_caches(hint);
	hzone = malloc_classes[hint].mc_zone;
	__asm__("" : "+r" (hcaches), "+r" (hzone));
	if (idx == (int)hint) {
		if (__predict_true(uma__zfree_hit_cpu(hzone, hcaches, addr)))
			goto counted;
	} else if (__predict_true(uma__zfree_hit_cpu(
	    malloc_classes[idx].mc_zone, malloc_class_caches((unsigned)idx),
	    addr)))
		goto counted;
	uma_zfree(malloc_classes[idx].mc_zone, addr);
counted:
	mstat_class(mtp, MSTAT_FREE + (size_t)idx);
}

/* See malloc.h */
size_t
uma_malloc_usable_size(const void *addr)
{
	struct malloc_large *ml;
	int idx;

	if (addr == NULL)
		return (0);
	if (boot_contains(addr))
		return (boot_size(addr));
	idx = malloc_lookup("malloc_usable_size", addr, &ml);
	return (idx < 0 ? ml->ml_size : malloc_class_sizes[idx]);
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

/* See malloc.h */
void *
uma_realloc(void *addr, size_t size, struct malloc_type *mtp, int flags)
{
	struct malloc_large *ml = NULL;
	size_t alloc;
	void *p;
	int idx;

	if (addr == NULL)
		return (uma_malloc(size, mtp, flags));
	if (boot_contains(addr)) {
		alloc = boot_size(addr);
	} else {
		idx = malloc_lookup("realloc", addr, &ml);
		if (idx >= 0) {
			realloc_check_live(addr, idx);
			alloc = malloc_class_sizes[idx];
		} else
			alloc = ml->ml_size;
		/* Keep it if it fits and uses more than half of it. */
		if (size <= alloc && (size > alloc / 2 || alloc == 16))
			return (addr);
		if (ml != NULL && roundup2(size, UMA_PAGE_SIZE) == alloc)
			return (addr);
	}
	p = uma_malloc(size, mtp, flags & ~M_ZERO);
	if (p == NULL)
		return (NULL);
	memcpy(p, addr, size < alloc ? size : alloc);
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
