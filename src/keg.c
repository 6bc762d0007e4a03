/*
 * keg.c - kegs: slab layout, and moving items between slabs and zones.
 *
 * Layer: keg, below the zones (which reach it only through
 * uma__zone_import/release) and above the slabs and pages.  Owns the slab
 * lists and keg counters under uk_lock.
 *
 * Slab selection: a partial slab first (keeps free slabs whole so they can
 * go back to the OS), then a free slab, then a new one.  A slab with no
 * free item moves to the full list; one whose items are all back moves to
 * the free list, from which uma__keg_drain gives pages back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debug.h"
#include "internal.h"
#include "keg.h"
#include "slab.h"
#include "sysctl_int.h"
#include "vmhash.h"

UMA_SYSCTL_INT(sysctl_multipage, "vm.debug.uma_multipage_slabs",
    &uma.ug_multipage, UMA_CTLFLAG_RDTUN, 0, 1,
    "Allow slabs of several pages (less waste for large items)");

static inline void
kstat_add(_Atomic uint64_t *p, int64_t d)
{
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) +
	    (uint64_t)d, memory_order_relaxed);
}

/*
 * Off-page slab headers live in internal zones, one per header size.  The
 * names are spelled out rather than formatted: a preloaded malloc(3) makes
 * these zones at start-up, and snprintf there faults in ~120 KiB of libc's
 * stdio code and tables in a program that may never print.
 */
static const char *const slabzone_names[16] = {
	"UMA Slabs 64", "UMA Slabs 128", "UMA Slabs 256", "UMA Slabs 512",
	"UMA Slabs 1024", "UMA Slabs 2048", "UMA Slabs 4096",
	"UMA Slabs 8192", "UMA Slabs 16384", "UMA Slabs 32768",
	"UMA Slabs 65536", "UMA Slabs 131072", "UMA Slabs 262144",
	"UMA Slabs 524288", "UMA Slabs 1048576", "UMA Slabs 2097152",
};

static struct {
	pthread_mutex_t	 lock;
	uma_zone_t	 zones[16];	/* header size 64 << i */
} slabzones = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uma_zone_t
slabzone_lookup(size_t hdrsize)
{
	uma_zone_t z;
	int i = 0;

	while (((size_t)64 << i) < hdrsize)
		i++;
	pthread_mutex_lock(&slabzones.lock);
	z = slabzones.zones[i];
	if (z == NULL) {
		z = uma__internal_zcreate(slabzone_names[i], (size_t)64 << i,
		    UMA_ALIGN_PTR, 0);
		slabzones.zones[i] = z;
	}
	pthread_mutex_unlock(&slabzones.lock);
	return (z);
}

/* Items of `rsize` that fit an inline slab of `bytes` with its header. */
static uint32_t
layout_inline_ipers(uint32_t rsize, size_t bytes, uint32_t flags)
{
	uint32_t ipers = (uint32_t)(bytes / rsize);

	if (ipers > UMA_SLAB_MAXITEMS)
		ipers = UMA_SLAB_MAXITEMS;
	while (ipers > 0 &&
	    (size_t)ipers * rsize + uma__slab_hdrsize(ipers, flags) > bytes)
		ipers--;
	return (ipers);
}

/*
 * Choose the slab size and header placement that waste least: starting
 * from the smallest run of pages that holds an item, try bigger runs (a
 * page at a time for small items, an item at a time for large ones) until
 * the items fill at least 100 - UMA_MAX_WASTE percent of the bytes the slab
 * costs (pages plus an off-page header).  Items of a quarter page or more,
 * which leave a page's worth of waste in a few, go on to 97%: sqlite's
 * 4104-byte page cache entries (class 4608) took 5 pages for 4 (90%) and
 * take 8 for 7 (98%), its peak RSS 46.7 -> 45.2 MiB; its 1032-byte blocks
 * (class 1088) took 2 pages for 7 (93%) and take 3 for 11 (97%).  A
 * slab of several pages costs a program that uses one item of its class a
 * page more (its header's, inline at the end).
 *
 * A slab of items up to a page starts at UMA_SLAB_MINITEMS of them: a
 * slab taken from the page layer and given back costs about 2,500
 * instructions (map, header, page tables), which a slab of one 4 KiB item
 * paid at every allocation of a block not cached (bench reuse: its phases
 * that reuse freed memory took 25 ms, 13 with four items a slab).  Larger
 * items keep the layout their waste alone chooses, often one a slab: a
 * program touches several pages of each, which a slab of several would
 * keep while any one of them lives.
 *
 * NOTOUCH forces the header off-page; internal kegs keep it inline (their
 * headers would recurse), except the bucket kegs: a slab header needs no
 * bucket, and inline their items (2^n words) fit only multi-page slabs
 * whose header sits on the last page, one page more touched by a
 * program's first few buckets (bench thread: 4 of 10 bucket pages).
 */
/*
 * A per-CPU keg (UMA_ZONE_PCPU): one page per CPU, the items in the first
 * and their copies at the same offset in the others (FreeBSD's layout), so
 * CPU c's copy of an item is UMA_PCPU_ALLOC_SIZE * c bytes after it.  The
 * header is off-page: inline it would lie in the last CPU's copies.
 */
static void
keg_layout_pcpu(uma_keg_t keg)
{
	uint32_t ipers = (uint32_t)(UMA_PAGE_SIZE / keg->uk_rsize);

	if (ipers > UMA_SLAB_MAXITEMS)
		ipers = UMA_SLAB_MAXITEMS;
	keg->uk_ipers = ipers;
	keg->uk_ppera = (uint32_t)uma.ug_ncpus;
	keg->uk_divx = uma_divx_make(keg->uk_rsize);
	keg->uk_bitwords = (uint32_t)howmany(ipers, 64);
	keg->uk_hdrsize = (uint32_t)uma__slab_hdrsize(ipers, keg->uk_flags);
	keg->uk_flags |= UMA_ZFLAG_OFFPAGE;
	keg->uk_pgoff = 0;
}

void
uma__keg_layout(uma_keg_t keg)
{
	uint32_t rsize = keg->uk_rsize, flags = keg->uk_flags;
	uint32_t best_ipers = 0, best_pages = 0, ipers, pages, maxpages;
	bool best_off = false, can_inline, can_off;
	uint64_t best_eff = 0, eff;
	size_t bytes, cost;

	if (flags & UMA_ZONE_PCPU) {
		keg_layout_pcpu(keg);
		return;
	}
	can_inline = !(flags & UMA_ZONE_NOTOUCH);
	can_off = !(flags & UMA_ZFLAG_INTERNAL) || flags & UMA_ZFLAG_BUCKET;
	maxpages = uma.ug_multipage ? UMA_SLAB_MAXPAGES : 1;
	if (howmany(rsize, UMA_PAGE_SIZE) > maxpages)
		maxpages = (uint32_t)howmany(rsize, UMA_PAGE_SIZE);
	pages = (uint32_t)howmany(rsize, UMA_PAGE_SIZE);
	if (rsize <= UMA_PAGE_SIZE && !(flags & UMA_ZFLAG_INTERNAL)) {
		pages = (uint32_t)howmany(UMA_SLAB_MINITEMS * rsize,
		    UMA_PAGE_SIZE);
		if (pages > maxpages)
			pages = maxpages;
	}
	for (; pages <= maxpages; pages++) {
		bytes = (size_t)pages * UMA_PAGE_SIZE;
		for (int off = 0; off < 2; off++) {
			if (off ? !can_off : !can_inline)
				continue;
			if (off) {
				ipers = (uint32_t)(bytes / rsize);
				if (ipers > UMA_SLAB_MAXITEMS)
					ipers = UMA_SLAB_MAXITEMS;
				cost = bytes + uma__slab_hdrsize(ipers, flags);
			} else {
				ipers = layout_inline_ipers(rsize, bytes,
				    flags);
				cost = bytes;
			}
			if (ipers == 0)
				continue;
			eff = (uint64_t)ipers * rsize * 10000 / cost;
			if (eff > best_eff) {
				best_eff = eff;
				best_ipers = ipers;
				best_pages = pages;
				best_off = off;
			}
		}
		if (best_eff >= (100 - (rsize >= UMA_PAGE_SIZE / 4 ?
		    UMA_MAX_WASTE_LARGE : UMA_MAX_WASTE)) * 100)
			break;
		/*
		 * Large items: the next useful size holds one more item than
		 * this one (not than the best so far: on a tie in efficiency
		 * that would step back and loop forever, e.g. 7168 bytes).
		 */
		if (rsize > UMA_PAGE_SIZE)
			pages = (uint32_t)howmany((bytes / rsize + 1) *
			    rsize, UMA_PAGE_SIZE) - 1;
	}
	if (best_ipers == 0)
		uma__panic("uma: keg \"%s\": no slab layout for %u bytes",
		    keg->uk_name, rsize);
	keg->uk_ipers = best_ipers;
	keg->uk_ppera = best_pages;
	keg->uk_divx = uma_divx_make(rsize);
	keg->uk_bitwords = (uint32_t)howmany(best_ipers, 64);
	keg->uk_hdrsize = (uint32_t)uma__slab_hdrsize(best_ipers, flags);
	if (best_off) {
		keg->uk_flags |= UMA_ZFLAG_OFFPAGE;
		keg->uk_pgoff = 0;
	} else
		keg->uk_pgoff = (uint32_t)(best_pages * UMA_PAGE_SIZE -
		    keg->uk_hdrsize);
}

/*
 * Keg ids for page tags, never reused (a page of a destroyed keg may still
 * be named by a stale pointer, and must not look like a new keg's).  Past
 * 65535 kegs, new ones get 0 and are checked through their slab headers.
 */
uint16_t
uma__keg_id_alloc(void)
{
	static _Atomic uint32_t next = 1;
	uint32_t id = atomic_fetch_add_explicit(&next, 1,
	    memory_order_relaxed);

	return (id <= UINT16_MAX ? (uint16_t)id : 0);
}

uma_keg_t
uma__keg_create(const char *name, size_t size, uma_init init,
    uma_fini fini, int align, uint32_t flags)
{
	uma_keg_t keg;

	keg = uma__internal_alloc(uma__kegs_zone(), M_NOWAIT);
	if (keg == NULL)
		return (NULL);
	memset(keg, 0, sizeof(*keg));
	uma__mutex_init(&keg->uk_lock);
	LIST_INIT(&keg->uk_part_slab);
	LIST_INIT(&keg->uk_free_slab);
	LIST_INIT(&keg->uk_full_slab);
	LIST_INIT(&keg->uk_zones);
	keg->uk_name = name;
	/*
	 * A cache zone's keg has no pages to tag; a per-CPU keg on more than
	 * 256 CPUs has slabs too long to tag (vm.h): its items are checked
	 * through their slab headers, as those of kegs past 65535.
	 */
	keg->uk_id = flags & UMA_ZFLAG_CACHE || (flags & UMA_ZONE_PCPU &&
	    uma.ug_ncpus > 256) ? 0 : uma__keg_id_alloc();
	keg->uk_init = init;
	keg->uk_fini = fini;
	keg->uk_size = (uint32_t)size;
	keg->uk_align = (uint32_t)align;
	keg->uk_flags = flags;
	if (flags & UMA_ZONE_ZINIT && init == NULL)
		keg->uk_init = uma__zero_init;
	keg->uk_rsize = (uint32_t)roundup2(size < UMA_SMALLEST_UNIT ?
	    UMA_SMALLEST_UNIT : size, (size_t)align + 1);
	if (flags & UMA_ZONE_CACHESPREAD) {
		/* An odd number of cache lines walks every cache set. */
		keg->uk_rsize = (uint32_t)roundup2(keg->uk_rsize, UMA_CACHELINE);
		if ((keg->uk_rsize / UMA_CACHELINE) % 2 == 0)
			keg->uk_rsize += UMA_CACHELINE;
	}
	uma__keg_layout(keg);
	if (flags & UMA_ZFLAG_CACHE)
		return (keg);	/* the item's shape only: on no list */
	if (keg->uk_flags & UMA_ZFLAG_OFFPAGE) {
		keg->uk_slabzone = slabzone_lookup(keg->uk_hdrsize);
		if (keg->uk_slabzone == NULL) {
			uma__internal_free(uma__kegs_zone(), keg);
			return (NULL);
		}
	}
	pthread_rwlock_wrlock(&uma.ug_lock);
	LIST_INSERT_HEAD(&uma.ug_kegs, keg, uk_link);
	pthread_rwlock_unlock(&uma.ug_lock);
	return (keg);
}

/* Put a slab on the list its free count says (uk_lock held). */
static void
keg_file_slab_locked(uma_keg_t keg, uma_slab_t slab)
{
	UMA_MTX_ASSERT(&keg->uk_lock);
	if (slab->us_freecount == 0)
		LIST_INSERT_HEAD(&keg->uk_full_slab, slab, us_link);
	else if (slab->us_freecount == keg->uk_ipers)
		LIST_INSERT_HEAD(&keg->uk_free_slab, slab, us_link);
	else
		LIST_INSERT_HEAD(&keg->uk_part_slab, slab, us_link);
}

/* Account for and file a new slab (uk_lock held). */
static void
keg_add_slab_locked(uma_keg_t keg, uma_slab_t slab)
{
	UMA_MTX_ASSERT(&keg->uk_lock);
	kstat_add(&keg->uk_pages, keg->uk_ppera);
	kstat_add(&keg->uk_free_items, keg->uk_ipers);
	kstat_add(&keg->uk_free_slabs, 1);
	keg_file_slab_locked(keg, slab);
}

/* The slab to take from next, or NULL (uk_lock held). */
static uma_slab_t
keg_first_slab_locked(uma_keg_t keg, int flags)
{
	uma_slab_t slab;

	UMA_MTX_ASSERT(&keg->uk_lock);

	if (!(flags & M_USE_RESERVE) &&
	    atomic_load_explicit(&keg->uk_free_items, memory_order_relaxed) <=
	    keg->uk_reserve)
		return (NULL);
	if ((slab = LIST_FIRST(&keg->uk_part_slab)) != NULL)
		return (slab);
	if ((slab = LIST_FIRST(&keg->uk_free_slab)) != NULL) {
		kstat_add(&keg->uk_free_slabs, -1);
		if (keg->uk_free_slabs < keg->uk_idle)
			keg->uk_idle = keg->uk_free_slabs;
	}
	return (slab);
}

/*
 * Reorder a fill so that no two neighbours in store[] share a cache line.
 * A bucket hands out its items from the top, one after the other, and on
 * a busy machine two threads often take theirs on one CPU before they run
 * on two: with neighbours in memory every write then moves the line
 * between the CPUs (at 32 B two threads shared a line in 2,000 of 2,000
 * rounds; bench cache-thrash).  Items `stride` apart leave at least a
 * line between them, so store[] is taken in stride order: 0, s, 2s, ...,
 * 1, s + 1, ...  Items of whole lines on line boundaries need nothing.
 *
 * In blocks of KEG_SPREAD_ROWS strides, not over the whole fill: the
 * order then sweeps a few lines at a time instead of the fill's pages
 * once per residue (bench small: D1 misses 9.80M -> 8.90M, callgrind's
 * cache model).  Odd blocks take their residues from s - 1 down, so a
 * block's last item and the next one's first are s apart too; within a
 * block of 4 or more rows a residue's last item and the next one's first
 * are 2s - 1 or more apart.  The last block takes the remainder (up to
 * two blocks).
 *
 * The fill gathers into a buffer of KEG_SPREAD_MAX (more than a bucket
 * holds) and keg_spread writes the order straight into store[], one copy
 * instead of two.
 */
#define	KEG_SPREAD_MAX	256
#define	KEG_SPREAD_ROWS	4	/* keg_spread's full blocks take four */

static inline int
keg_spread_stride(uma_keg_t keg)
{
	uint32_t rsize = keg->uk_rsize;

	if (rsize % UMA_CACHELINE == 0 && keg->uk_align + 1 >= UMA_CACHELINE)
		return (0);
	return ((int)((UMA_CACHELINE + rsize - 1) / rsize) + 1);
}

static void
keg_spread(void **store, void *const *from, int n, int stride)
{
	int block = stride * KEG_SPREAD_ROWS, j = 0, len;

	if (n < 2 * block) {
		for (int i = 0; i < stride; i++)
			for (int m = i; m < n; m += stride)
				store[j++] = from[m];
		return;
	}
	for (int base = 0, odd = 0; base < n; base += len, odd ^= 1) {
		len = n - base < 2 * block ? n - base : block;
		for (int k = 0; k < stride; k++) {
			int i = base + (odd ? stride - 1 - k : k);

			if (len == block) {	/* KEG_SPREAD_ROWS of them */
				store[j] = from[i];
				store[j + 1] = from[i + stride];
				store[j + 2] = from[i + 2 * stride];
				store[j + 3] = from[i + 3 * stride];
				j += KEG_SPREAD_ROWS;
				continue;
			}
			for (int m = i; m < base + len; m += stride)
				store[j++] = from[m];
		}
	}
}

/*
 * Fill store[] with up to `max` items, lowest first (uk_lock taken here).
 * New slabs are made as needed; a failure to make one (no pages, M_NOVM,
 * a keg init failure in *errorp) ends the fetch with what was found.
 */
static int
keg_take(uma_keg_t keg, void **store, int max, int flags, int *errorp)
{
	uma_slab_t slab;
	bool was_free;
	int n = 0, got;

	pthread_mutex_lock(&keg->uk_lock);
	while (n < max) {
		slab = keg_first_slab_locked(keg, flags);
		if (slab == NULL) {
			pthread_mutex_unlock(&keg->uk_lock);
			slab = uma__slab_alloc(keg, flags, errorp);
			pthread_mutex_lock(&keg->uk_lock);
			if (slab == NULL)
				break;
			keg_add_slab_locked(keg, slab);
			continue;
		}
		/*
		 * A partial slab that stays partial stays first on its list:
		 * moving it touched the next slab's header and the list's
		 * (perf, mstress: keg_take's own share 20 ms of 700).
		 */
		was_free = slab->us_freecount == keg->uk_ipers;
		got = uma__slab_alloc_items_locked(keg, slab, store + n,
		    max - n);
		if (was_free || slab->us_freecount == 0) {
			LIST_REMOVE(slab, us_link);
			keg_file_slab_locked(keg, slab);
		}
		/* Each slab at once: the lock may drop before the next. */
		kstat_add(&keg->uk_free_items, -got);
		n += got;
	}
	pthread_mutex_unlock(&keg->uk_lock);
	return (n);
}

/*
 * Fill store[] with up to `max` items (keg_take), in keg_spread's order
 * where neighbours could share a line; *errorp as keg_take's.
 */
int
uma__keg_fetch(uma_keg_t keg, void **store, int max, int flags,
    int *errorp)
{
	void *tmp[KEG_SPREAD_MAX];
	int stride = keg_spread_stride(keg), n = 0, k, got;

	*errorp = 0;
	if (stride == 0 || max <= stride)
		return (keg_take(keg, store, max, flags, errorp));
	for (; n < max; n += got) {
		k = max - n < KEG_SPREAD_MAX ? max - n : KEG_SPREAD_MAX;
		got = keg_take(keg, tmp, k, flags, errorp);
		keg_spread(store + n, tmp, got, stride);
		if (got < k) {
			n += got;
			break;
		}
	}
	return (n);
}

/*
 * Take up to `max` free slabs, beyond the reserve, off the free list into
 * *q, counted out of the keg (uk_lock held); the caller gives them back
 * after dropping the lock.
 */
static void
keg_trim_free_locked(uma_keg_t keg, uint64_t max, struct slabhead *q)
{
	uma_slab_t slab;

	UMA_MTX_ASSERT(&keg->uk_lock);
	while (max-- > 0 && atomic_load_explicit(&keg->uk_free_items,
	    memory_order_relaxed) >= keg->uk_reserve + keg->uk_ipers &&
	    (slab = LIST_FIRST(&keg->uk_free_slab)) != NULL) {
		LIST_REMOVE(slab, us_link);
		LIST_INSERT_HEAD(q, slab, us_link);
		kstat_add(&keg->uk_free_slabs, -1);
		kstat_add(&keg->uk_free_items, -(int64_t)keg->uk_ipers);
		kstat_add(&keg->uk_pages, -(int64_t)keg->uk_ppera);
	}
}

/* Tear down the slabs of q (no lock held). */
static void
keg_free_slabs(uma_keg_t keg, struct slabhead *q)
{
	uma_slab_t slab;

	while ((slab = LIST_FIRST(q)) != NULL) {
		LIST_REMOVE(slab, us_link);
		uma__slab_free(keg, slab);
	}
}

/*
 * Where the header of the slab holding `item` (in the arena) would be, if
 * its page is tagged with this keg (an inline header, at uk_pgoff of the
 * slab's run, which starts the tag's index of pages before the item's
 * page), or NULL.  One load from the tag table, which free() read for the
 * item already, instead of the slab table's.
 */
static inline uma_slab_t
keg_tagged_slab(uma_keg_t keg, const void *item)
{
	uint32_t tag = uma_vm_pagetag_of(item);

	if (UMA_PAGETAG_KEG(tag) != keg->uk_id)
		return (NULL);
	return ((uma_slab_t)(((uintptr_t)item & ~(uintptr_t)UMA_PAGE_MASK) -
	    UMA_PAGETAG_OFFSET(tag) + keg->uk_pgoff));
}

/*
 * Bring the header of the slab of `item` towards the CPU: items freed in
 * no particular order (bench mstress frees every other one) lie on many
 * slabs, and the release under uk_lock waited on each header line in
 * turn (perf, mstress, 6 runs: uma__keg_release 16.9 -> 10.0 ms of
 * about 600).  From inside the walk, KEG_AHEAD items ahead at each run,
 * it costs a bucket of runs of one slab's items next to nothing (a pass
 * over the bucket before the lock cost 8 instructions an item).
 * `tagged`: the keg's headers are inline and its pages tagged
 * (keg_tagged_slab); else the slab table says.  A prefetch of a bad
 * address is harmless: the walk checks every item.
 */
#define	KEG_AHEAD	8

static inline void
keg_prefetch_slab(uma_keg_t keg, const void *item, bool tagged)
{
	uma_slab_t slab;

	if (!uma_vm_contains(item))
		return;
	slab = tagged ? keg_tagged_slab(keg, item) : uma_vtoslab(item);
	if (slab != NULL)
		__builtin_prefetch(slab, 1);
}

/*
 * Items back from a zone.  Each must be an item of this keg that is not
 * free already; anything else is a misuse, reported against `zone`.
 * A bucket mostly holds runs of one slab's items (a fill takes a slab's
 * items in order, and programs free in order of allocation or its
 * reverse), so each run costs one lookup of its slab and one move of it
 * between lists (callgrind, bench small: 53 instructions an item with a
 * lookup and a call each, 26 now).
 */
void
uma__keg_release(uma_keg_t keg, void **store, int cnt, uma_zone_t zone)
{
	uma_slab_t slab;
	uint32_t ipers = keg->uk_ipers;
	uint16_t before;
	bool tagged;
	int error, n;

	tagged = keg->uk_id != 0 && !(keg->uk_flags & UMA_ZFLAG_OFFPAGE);
	for (int i = 0; i < cnt && i < KEG_AHEAD; i++)
		keg_prefetch_slab(keg, store[i], tagged);
	pthread_mutex_lock(&keg->uk_lock);
	for (int i = 0; i < cnt; i += n) {
		if (i + KEG_AHEAD < cnt)
			keg_prefetch_slab(keg, store[i + KEG_AHEAD], tagged);
		slab = tagged && uma_vm_contains(store[i]) ?
		    keg_tagged_slab(keg, store[i]) : uma_page_slab(store[i]);
		if (slab == NULL || slab->us_keg != keg) {
			pthread_mutex_unlock(&keg->uk_lock);
			uma__item_check(zone, store[i]);
			uma__panic("uma: keg \"%s\": bad item %p",
			    keg->uk_name, store[i]);
		}
		before = slab->us_freecount;
		n = uma__slab_free_items_locked(keg, slab, store + i, cnt - i,
		    &error);
		if (n != 0 && (before == 0 || slab->us_freecount == ipers)) {
			LIST_REMOVE(slab, us_link);
			keg_file_slab_locked(keg, slab);
			if (slab->us_freecount == ipers)
				kstat_add(&keg->uk_free_slabs, 1);
		}
		/* Its page names this slab, yet it is not one of its items. */
		if (n == 0 && error == 0)
			error = -1;
		if (error != 0) {
			kstat_add(&keg->uk_free_items, i + n);
			pthread_mutex_unlock(&keg->uk_lock);
			if (error > 0)
				uma__misuse(zone, "double free of %p",
				    store[i + n]);
			uma__misuse(zone, "free of %p, which uma never "
			    "allocated (not the start of an item)",
			    store[i + n]);
		}
	}
	kstat_add(&keg->uk_free_items, cnt);
	pthread_mutex_unlock(&keg->uk_lock);
}

/* The slabs of one list, for uma__keg_assert_valid_locked. */
static void
keg_assert_list_locked(uma_keg_t keg, struct slabhead *list,
    int which, uint64_t *free_items, uint64_t *nslabs)
{
	uma_slab_t slab;

	UMA_MTX_ASSERT(&keg->uk_lock);
	LIST_FOREACH(slab, list, us_link) {
		uma__slab_assert_valid(keg, slab);
		UMA_ASSERT(which == 0 ? slab->us_freecount == keg->uk_ipers :
		    which == 2 ? slab->us_freecount == 0 :
		    slab->us_freecount > 0 &&
		    slab->us_freecount < keg->uk_ipers,
		    "uma: keg \"%s\": slab %p with %u free items on list %d",
		    keg->uk_name, (void *)slab, slab->us_freecount, which);
		*free_items += slab->us_freecount;
		(*nslabs)++;
	}
}

/*
 * See keg.h: the map's equations for a keg (uma_int.h), slab by slab.
 * O(slabs): at drain, reclaim and destroy, in UMA_DEBUG builds.
 */
void
uma__keg_assert_valid_locked(uma_keg_t keg)
{
	uint64_t free_items = 0, nslabs = 0, nfree;

	UMA_MTX_ASSERT(&keg->uk_lock);
	if (UMA_DEBUG == 0)
		return;
	keg_assert_list_locked(keg, &keg->uk_free_slab, 0, &free_items,
	    &nslabs);
	nfree = nslabs;
	keg_assert_list_locked(keg, &keg->uk_part_slab, 1, &free_items,
	    &nslabs);
	keg_assert_list_locked(keg, &keg->uk_full_slab, 2, &free_items,
	    &nslabs);
	UMA_ASSERT(free_items == keg->uk_free_items &&
	    nfree == keg->uk_free_slabs &&
	    nslabs * keg->uk_ppera == keg->uk_pages,
	    "uma: keg \"%s\": %ju free items, %ju free slabs, %ju slabs of "
	    "%u pages; counters %ju, %ju, %ju pages", keg->uk_name,
	    (uintmax_t)free_items, (uintmax_t)nfree, (uintmax_t)nslabs,
	    keg->uk_ppera, (uintmax_t)keg->uk_free_items,
	    (uintmax_t)keg->uk_free_slabs, (uintmax_t)keg->uk_pages);
	(void)nfree;
}

/* May the keg's free slabs go back (NOFREE, a foreign keg without freef)? */
static bool
keg_may_free(uma_keg_t keg)
{
	return (!(keg->uk_flags & UMA_ZONE_NOFREE || (keg->uk_flags &
	    UMA_ZFLAG_FOREIGN && keg->uk_freef == NULL)));
}

/*
 * Give wholly free slabs back to the page layer (which keeps their pages
 * for a period, vm_dirty.c), keeping enough to cover the reserve.  NOFREE
 * kegs keep everything (type stability).
 */
void
uma__keg_drain(uma_keg_t keg)
{
	struct slabhead freeq = LIST_HEAD_INITIALIZER(freeq);

	pthread_mutex_lock(&keg->uk_lock);
	uma__keg_assert_valid_locked(keg);
	/* NOFREE, and pages of an allocf with no freef, stay. */
	if (keg_may_free(keg))
		keg_trim_free_locked(keg, UINT64_MAX, &freeq);
	keg->uk_idle = keg->uk_free_slabs;
	pthread_mutex_unlock(&keg->uk_lock);
	keg_free_slabs(keg, &freeq);
}

/*
 * See keg.h.  The free slabs no fetch took since the last pass, and
 * `more` that a drain of the zone's idle buckets freed in this one, go
 * back to the page layer, where any keg or a large run can use them.
 */
void
uma__keg_release_idle(uma_keg_t keg, uint64_t more)
{
	struct slabhead freeq = LIST_HEAD_INITIALIZER(freeq);
	uint64_t n;

	pthread_mutex_lock(&keg->uk_lock);
	n = keg->uk_idle + more;
	if (keg_may_free(keg))
		keg_trim_free_locked(keg, n, &freeq);
	keg->uk_idle = keg->uk_free_slabs;
	pthread_mutex_unlock(&keg->uk_lock);
	keg_free_slabs(keg, &freeq);
}

/* Make `nslabs` slabs now, onto the free list.  Returns how many. */
int
uma__keg_prealloc(uma_keg_t keg, int nslabs)
{
	uma_slab_t slab;
	int i, error;

	for (i = 0; i < nslabs; i++) {
		slab = uma__slab_alloc(keg, M_WAITOK, &error);
		if (slab == NULL)
			break;
		pthread_mutex_lock(&keg->uk_lock);
		keg_add_slab_locked(keg, slab);
		pthread_mutex_unlock(&keg->uk_lock);
	}
	return (i);
}

/*
 * The last zone of the keg is gone.  Free slabs go back; slabs with items
 * still out are reported and their pages lost (they may still be used).
 */
void
uma__keg_destroy(uma_keg_t keg)
{
	uint64_t out = 0, lost = 0;
	uma_slab_t slab;

	if (keg->uk_flags & UMA_ZFLAG_CACHE) {
		pthread_mutex_destroy(&keg->uk_lock);
		uma__internal_free(uma__kegs_zone(), keg);
		return;
	}
	pthread_rwlock_wrlock(&uma.ug_lock);
	LIST_REMOVE(keg, uk_link);
	pthread_rwlock_unlock(&uma.ug_lock);
	keg->uk_flags &= ~UMA_ZONE_NOFREE;
	keg->uk_reserve = 0;
	uma__keg_drain(keg);
	LIST_FOREACH(slab, &keg->uk_part_slab, us_link) {
		out += keg->uk_ipers - slab->us_freecount;
		lost += keg->uk_ppera;
	}
	LIST_FOREACH(slab, &keg->uk_full_slab, us_link) {
		out += keg->uk_ipers;
		lost += keg->uk_ppera;
	}
	if (out != 0)
		fprintf(stderr, "Freed UMA keg (%s) was not empty (%ju items)."
		    "  Lost %ju pages of memory.\n", keg->uk_name,
		    (uintmax_t)out, (uintmax_t)lost);
	pthread_mutex_destroy(&keg->uk_lock);
	uma__internal_free(uma__kegs_zone(), keg);
}

/* fork: the off-page header zones' lock, like every other lock. */
void
uma__keg_fork_prepare(void)
{
	pthread_mutex_lock(&slabzones.lock);
}

void
uma__keg_fork_parent(void)
{
	pthread_mutex_unlock(&slabzones.lock);
}

void
uma__keg_fork_child(void)
{
	pthread_mutex_init(&slabzones.lock, NULL);
}
