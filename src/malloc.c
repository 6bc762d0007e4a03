/*
 * malloc.c - malloc(9) on uma: size-class zones, large page runs,
 * realloc, aligned allocation, and the checks on free.
 *
 * Layer: malloc, above the zones.  Allocates only through uma_zalloc and
 * the page layer's runs (vm.c); counts through malloc_type.c.  Must not
 * call libc's malloc: it runs underneath it (the interposer), which is why
 * a thread that re-enters while starting gets memory from a static
 * bootstrap area instead (fopen and pthread_create in uma's own start-up
 * allocate through libc).
 *
 * free() finds everything from the address: the arena says "ours", the
 * page's vtoslab entry gives the slab, the slab's keg gives the size class
 * (or the pseudo-keg of large runs).  The type argument only picks the
 * counters.
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
struct uma_keg malloc_large_keg = { .uk_name = "malloc large" };

/* size -> class: by 16 bytes up to 1 KiB, by 256 bytes up to 64 KiB. */
static uint8_t class_small[1024 / 16 + 1];
static uint8_t class_big[MALLOC_MAXSIZE / 256 + 1];

static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;
static uma_zone_t large_zone;	/* struct malloc_large descriptors */

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
	if (size <= 1024)
		return (class_small[(size + 15) >> 4]);
	return (class_big[(size + 255) >> 8]);
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
	int i, c;

	uma_ensure_started();
	large_zone = uma__zcreate_internal("malloc large",
	    sizeof(struct malloc_large), UMA_ALIGN_CACHE, 0);
	if (large_zone == NULL)
		uma__panic("uma: cannot create the malloc large zone");
	LIST_INIT(&malloc_large_keg.uk_zones);
	for (i = 0; i < MALLOC_NCLASSES; i++) {
		mc = &malloc_classes[i];
		size = malloc_class_sizes[i];
		mc->mc_zone = uma_zcreate(malloc_class_names[i], size, NULL,
		    NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
		if (mc->mc_zone == NULL)
			uma__panic("uma: cannot create zone %s",
			    malloc_class_names[i]);
		mc->mc_keg = mc->mc_zone->uz_keg;
		mc->mc_size = size;
		mc->mc_inv = ((uint64_t)1 << 40) / size + 1;
	}
	for (c = 0, i = 0; i < (int)nitems(class_small); i++) {
		while (malloc_class_sizes[c] < (uint32_t)i * 16)
			c++;
		class_small[i] = (uint8_t)c;
	}
	for (c = 0, i = 0; i < (int)nitems(class_big); i++) {
		while (malloc_class_sizes[c] < (uint32_t)i * 256)
			c++;
		class_big[i] = (uint8_t)c;
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

/* ---- large runs ------------------------------------------------------ */

void *
uma__malloc_large(size_t size, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary, bool contig, int *errorp)
{
	struct malloc_large *ml;
	size_t len;
	void *mem;
	int error;

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
	error = uma__vm_alloc_run(len, align, low, high, boundary, &mem);
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
	uma__vtoslab_set(mem, 1, ml);
	return (mem);
}

/* The descriptor of the large run starting at addr, or NULL. */
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
 * Take the run back.  Clearing the vtoslab entry with a compare-and-swap
 * makes a racing second free of the same run a reported double free.
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
	uma__vm_free_run(ml->ml_addr, ml->ml_size);
	uma_zfree(large_zone, ml);
}

/* ---- allocation ------------------------------------------------------- */

static void *
malloc_class_alloc(int idx, struct malloc_type *mtp, int flags)
{
	void *item;

	item = uma_zalloc(malloc_classes[idx].mc_zone, flags);
	if (__predict_false(item == NULL)) {
		errno = ENOMEM;
		return (NULL);
	}
	mstat_add(mtp, (size_t)idx, 1);
	return (item);
}

static void *
malloc_large_alloc(size_t size, size_t align, struct malloc_type *mtp)
{
	void *mem;
	int error;

	mem = uma__malloc_large(size, align, 0, UINTPTR_MAX, 0, false, &error);
	if (mem == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	mstat_add(mtp, MSTAT_LARGE_BYTES, roundup2(size, UMA_PAGE_SIZE));
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
		return (malloc_large_alloc(size, UMA_PAGE_SIZE, mtp));
	return (malloc_class_alloc(malloc_class_index(size), mtp, flags));
}

/* See malloc.h */
void *
uma_malloc(size_t size, struct malloc_type *mtp, int flags)
{
	if (__predict_false(size > MALLOC_MAXSIZE || malloc_type_cold(mtp)))
		return (malloc_slow(size, mtp, flags));
	return (malloc_class_alloc(malloc_class_index(size), mtp, flags));
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
	return (malloc_large_alloc(size, align, mtp));
}

/* ---- free ------------------------------------------------------------- */

/*
 * Validate addr as a live-looking item of a malloc class: in the arena, on
 * a slab of a malloc keg, at the start of an item.  Returns the class, or
 * -1 for a large run (*mlp set).  Anything else aborts with a message.
 */
static inline int
malloc_lookup(const char *what, const void *addr, struct malloc_large **mlp)
{
	struct malloc_class *mc;
	uma_slab_t slab;
	uma_keg_t keg;
	uint64_t off, q;
	int idx;

	if (__predict_false(!uma_vm_contains(addr)))
		uma__malloc_invalid(what, addr, "pointer not allocated by uma "
		    "(outside its arena: a stack, static or foreign pointer)");
	slab = uma_vtoslab(addr);
	if (__predict_false(slab == NULL))
		uma__malloc_invalid(what, addr, "pointer not allocated by uma "
		    "(no slab or run starts on its page: never allocated, "
		    "already freed, or inside a large allocation)");
	keg = slab->us_keg;
	if (__predict_false(keg->uk_size - 1 >= MALLOC_MAXSIZE)) {
		*mlp = uma__malloc_large_find(addr);
		if (*mlp == NULL)
			uma__malloc_invalid(what, addr, keg ==
			    &malloc_large_keg ? "pointer inside a large "
			    "allocation" : "pointer to an item of a uma zone "
			    "that is not a malloc zone");
		return (-1);
	}
	idx = malloc_class_index(keg->uk_size);
	mc = &malloc_classes[idx];
	if (__predict_false(mc->mc_keg != keg))
		uma__malloc_invalid(what, addr, "pointer to an item of a uma "
		    "zone that is not a malloc zone");
	off = (uint64_t)((const char *)addr - slab->us_data);
	q = (off * mc->mc_inv) >> 40;
	if (__predict_false(q * mc->mc_size != off || q >= keg->uk_ipers))
		uma__malloc_invalid(what, addr, "pointer inside an allocation "
		    "(not its start)");
	return (idx);
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
	uma_zfree(malloc_classes[idx].mc_zone, addr);
	mstat_add(mtp, MSTAT_FREE + (size_t)idx, 1);
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
