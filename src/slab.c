/*
 * slab.c - one slab: its pages, its header, its free bitset.
 *
 * Layer: keg.  Creates a slab from backend pages (keg init on every item),
 * tears it down (keg fini, pages back), and moves single items in and out
 * of it.  The caller (keg.c) holds uk_lock for the item operations and keeps
 * the slab lists; creation and teardown run without it.
 *
 * Header layout: struct uma_slab, then the free bitset (uk_bitwords words),
 * then in UMA_DEBUG > 1 builds the debug bitset (same size), then for
 * REFCNT kegs one uint32_t per item.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "slab.h"
#include "vm.h"
#include "vmhash.h"

static inline size_t
slab_bitwords(uint32_t ipers)
{
	return (howmany(ipers, 64));
}

/* Header bytes for a slab of `ipers` items with keg flags `flags`. */
size_t
uma__slab_hdrsize(uint32_t ipers, uint32_t flags)
{
	size_t sz = sizeof(struct uma_slab);

	sz += slab_bitwords(ipers) * sizeof(uint64_t);
#if UMA_DEBUG > 1
	sz += slab_bitwords(ipers) * sizeof(uint64_t);
#endif
	if (flags & UMA_ZONE_REFCNT)
		sz += ipers * sizeof(uint32_t);
	return (roundup2(sz, sizeof(void *)));
}

uint64_t *
uma__slab_dbg(uma_keg_t keg, uma_slab_t slab)
{
	return (&slab->us_free[keg->uk_bitwords]);
}

uint32_t *
uma__slab_refcnt(uma_keg_t keg, uma_slab_t slab, int idx)
{
	uint64_t *end = &slab->us_free[keg->uk_bitwords];

#if UMA_DEBUG > 1
	end += keg->uk_bitwords;
#endif
	return ((uint32_t *)end + idx);
}

/*
 * The index of the item at byte `off` of the slab's items: the exact
 * division (uma_divx) when an item starts there, else (a caller checking
 * a bad pointer) the floor of the quotient, by a real division.
 */
static inline uint64_t
slab_index(uma_keg_t keg, uint64_t off)
{
	uint64_t q = uma_divx(off, keg->uk_divx.dx_inv, keg->uk_divx.dx_rot);

	if (__predict_false(q >= keg->uk_ipers))
		q = off / keg->uk_rsize;
	return (q);
}

int
uma__slab_item_index(uma_keg_t keg, uma_slab_t slab, void *item)
{
	return ((int)slab_index(keg, (uint64_t)((char *)item - slab->us_data)));
}

static inline void *
slab_item(uma_keg_t keg, uma_slab_t slab, int idx)
{
	return (slab->us_data + (size_t)idx * keg->uk_rsize);
}

/*
 * CACHESPREAD: successive slabs start their items one cache line further
 * in, within the slack the layout left, so that the same item index of
 * different slabs does not land on the same cache sets.
 */
static uint32_t
slab_colour(uma_keg_t keg)
{
	size_t slack, ncolours;

	if (!(keg->uk_flags & UMA_ZONE_CACHESPREAD))
		return (0);
	slack = keg->uk_ppera * UMA_PAGE_SIZE - (size_t)keg->uk_ipers *
	    keg->uk_rsize;
	if (!(keg->uk_flags & UMA_ZFLAG_OFFPAGE))
		slack -= keg->uk_hdrsize;
	ncolours = slack / UMA_CACHELINE + 1;
	return ((uint32_t)(atomic_fetch_add_explicit(&keg->uk_colour, 1,
	    memory_order_relaxed) % ncolours) * UMA_CACHELINE);
}

/* Set the first n bits of a bitset, a word at a time. */
static void
slab_bits_set(uint64_t *bits, uint32_t n)
{
	uint32_t w;

	for (w = 0; w < n / 64; w++)
		bits[w] = ~0ull;
	if (n % 64 != 0)
		bits[w] = (1ull << (n % 64)) - 1;
}

/*
 * A slab's pages: from the backend, or from the keg's own page allocator
 * (uma_zone_set_allocf, UMA_ZFLAG_FOREIGN), which must give whole pages
 * outside uma's arena; what it says in *pflag goes back to its freef.
 */
static char *
slab_pages_alloc(uma_keg_t keg, int flags, uint8_t *pflag)
{
	char *mem;

	*pflag = 0;
	/*
	 * Pages freed a moment ago come as they are: items are not zero-
	 * filled (M_ZERO does that per item), but the debug trash check
	 * takes an item never freed for one of zeros.
	 */
	if (!(keg->uk_flags & UMA_ZFLAG_FOREIGN))
		return (uma__page_alloc(keg->uk_ppera, (flags & ~M_ZERO) |
		    (UMA_DEBUG > 1 ? M_ZERO : 0)));
	mem = keg->uk_allocf(LIST_FIRST(&keg->uk_zones),
	    (size_t)keg->uk_ppera * UMA_PAGE_SIZE, UMA_ANYDOMAIN, pflag, flags);
	if (mem != NULL && (((uintptr_t)mem & UMA_PAGE_MASK) != 0 ||
	    uma_vm_contains(mem)))
		uma__panic("uma: keg \"%s\": its allocf returned %p, %s",
		    keg->uk_name, (void *)mem, uma_vm_contains(mem) ?
		    "memory of uma's own arena" : "not on a page boundary");
	return (mem);
}

/*
 * A slab's pages back.  Pages of a NODUMP keg are made dumpable again
 * first: the arena hands them to other kegs next.
 */
static void
slab_pages_free(uma_keg_t keg, char *mem, uint8_t pflag)
{
	size_t len = (size_t)keg->uk_ppera * UMA_PAGE_SIZE;

	if (keg->uk_flags & UMA_ZONE_NODUMP)
		(void)madvise(mem, len, MADV_DODUMP);
	/* An allocf without a freef: its pages are the caller's for good. */
	if (keg->uk_flags & UMA_ZFLAG_FOREIGN) {
		if (keg->uk_freef != NULL)
			keg->uk_freef(mem, len, pflag);
	} else
		uma__page_free(mem, keg->uk_ppera);
}

/* Publish the slab: the arena's tables, or the hash for foreign pages. */
static int
slab_publish(uma_keg_t keg, uma_slab_t slab, char *mem)
{
	if (keg->uk_flags & UMA_ZFLAG_FOREIGN)
		return (uma__vmhash_insert(mem, keg->uk_ppera, slab));
	uma__vtoslab_set(mem, keg->uk_ppera, slab,
	    uma_pagetag_make(keg->uk_id, (uint8_t)keg->uk_slabflags));
	return (0);
}

/* Keg init on every item; a failure finis the ones before.  0 or not. */
static int
slab_init_items(uma_keg_t keg, uma_slab_t slab, int flags)
{
	int i;

	if (keg->uk_init == NULL)
		return (0);
	for (i = 0; i < (int)keg->uk_ipers; i++)
		if (keg->uk_init(slab_item(keg, slab, i), keg->uk_size,
		    flags) != 0)
			break;
	if (i == (int)keg->uk_ipers)
		return (0);
	if (keg->uk_fini != NULL)
		while (--i >= 0)
			keg->uk_fini(slab_item(keg, slab, i), keg->uk_size);
	return (UMA_EINIT);
}

/*
 * A new slab: pages, header inline or off-page, keg init on every item.
 * No pages (refused, or M_NOVM; or no room to enter foreign ones): *errorp
 * UMA_ENOPAGES.  A failing keg init on item i finis items 0..i-1 and gives
 * everything back: *errorp UMA_EINIT.
 */
uma_slab_t
uma__slab_alloc(uma_keg_t keg, int flags, int *errorp)
{
	uma_slab_t slab;
	uint8_t pflag;
	char *mem;

	*errorp = UMA_ENOPAGES;
	if (flags & M_NOVM)
		return (NULL);
	mem = slab_pages_alloc(keg, flags, &pflag);
	if (mem == NULL)
		return (NULL);
	/* Best effort, as M_NODUMP: a kernel without it dumps the pages. */
	if (keg->uk_flags & UMA_ZONE_NODUMP)
		(void)madvise(mem, keg->uk_ppera * UMA_PAGE_SIZE,
		    MADV_DONTDUMP);
	if (keg->uk_flags & UMA_ZFLAG_OFFPAGE) {
		slab = uma__internal_alloc(keg->uk_slabzone, M_NOWAIT);
		if (slab == NULL) {
			slab_pages_free(keg, mem, pflag);
			return (NULL);
		}
	} else
		slab = (uma_slab_t)(mem + keg->uk_pgoff);
	/* Neither the arena's pages nor an allocf's come zeroed. */
	memset(slab, 0, keg->uk_hdrsize);
	slab->us_keg = keg;
	slab->us_flags = (uint16_t)(keg->uk_slabflags | pflag << 8);
	slab->us_colour = slab_colour(keg);
	slab->us_data = mem + slab->us_colour;
	slab->us_freecount = (uint16_t)keg->uk_ipers;
	slab_bits_set(slab->us_free, keg->uk_ipers);
	if ((*errorp = slab_init_items(keg, slab, flags)) == 0) {
		if (slab_publish(keg, slab, mem) == 0)
			return (slab);
		*errorp = UMA_ENOPAGES;
		if (keg->uk_fini != NULL)
			for (int i = 0; i < (int)keg->uk_ipers; i++)
				keg->uk_fini(slab_item(keg, slab, i),
				    keg->uk_size);
	}
	if (keg->uk_flags & UMA_ZFLAG_OFFPAGE)
		uma__internal_free(keg->uk_slabzone, slab);
	slab_pages_free(keg, mem, pflag);
	return (NULL);
}

/* Tear down a slab whose items are all free: keg fini, pages back. */
void
uma__slab_free(uma_keg_t keg, uma_slab_t slab)
{
	char *mem = slab->us_data - slab->us_colour;
	uint8_t pflag = (uint8_t)(slab->us_flags >> 8);

	if (keg->uk_fini != NULL)
		for (int i = 0; i < (int)keg->uk_ipers; i++)
			keg->uk_fini(slab_item(keg, slab, i), keg->uk_size);
	if (keg->uk_flags & UMA_ZFLAG_FOREIGN)
		uma__vmhash_remove(mem, keg->uk_ppera);
	else
		uma__vtoslab_set(mem, keg->uk_ppera, NULL, 0);
	if (keg->uk_flags & UMA_ZFLAG_OFFPAGE)
		uma__internal_free(keg->uk_slabzone, slab);
	slab_pages_free(keg, mem, pflag);
}

/*
 * Take up to `max` free items, lowest first, into store (uk_lock held);
 * returns how many.  One pass over the bitset: a fill takes a whole fresh
 * slab at a time.  The slab's fields are read once into locals (the
 * stores to store[] could alias them), and a word with every bit set,
 * a fresh slab's, gives its items by adding the size: 17 instructions an
 * item before, under callgrind (bench small).
 */
int
uma__slab_alloc_items_locked(uma_keg_t keg, uma_slab_t slab, void **store, int max)
{
	uint32_t rsize = keg->uk_rsize, nwords = keg->uk_bitwords;
	char *base = slab->us_data;
	int n = 0;

	UMA_MTX_ASSERT(&keg->uk_lock);

	/*
	 * Bitset words are stored atomically: uma__item_check reads them
	 * without uk_lock to spot a double free early.
	 */
	for (uint32_t w = 0; w < nwords && n < max; w++,
	    base += (size_t)64 * rsize) {
		uint64_t bits = slab->us_free[w];

		if (bits == 0)
			continue;
		if (bits == ~0ull && max - n >= 64) {
			char *p = base;

			for (int i = 0; i < 64; i++, p += rsize)
				store[n + i] = p;
			n += 64;
			bits = 0;
		} else
			for (; bits != 0 && n < max; bits &= bits - 1)
				store[n++] = base + (size_t)rsize *
				    (uint32_t)__builtin_ctzll(bits);
		__atomic_store_n(&slab->us_free[w], bits, __ATOMIC_RELAXED);
	}
	slab->us_freecount = (uint16_t)(slab->us_freecount - n);
	return (n);
}

/*
 * See slab.h.  Each item is checked as the single-item free did (the
 * start of an item of this slab, not free already), with the slab's
 * fields in locals and its free count written once: a bucket drained
 * back to its keg mostly holds runs of one slab's items.
 */
int
uma__slab_free_items_locked(uma_keg_t keg, uma_slab_t slab, void **store,
    int max, int *errorp)
{
	uint64_t inv = keg->uk_divx.dx_inv, ipers = keg->uk_ipers, span =
	    ipers * keg->uk_rsize, off, idx, bit, word;
	uint32_t rot = keg->uk_divx.dx_rot;
	char *data = slab->us_data;
	int n;

	UMA_MTX_ASSERT(&keg->uk_lock);

	*errorp = 0;
	for (n = 0; n < max; n++) {
		off = (uint64_t)((char *)store[n] - data);
		idx = uma_divx(off, inv, rot);
		if (__predict_false(idx >= ipers)) {
			/* Another slab's item ends the run; else not an item. */
			if (off < span)
				*errorp = -1;
			break;
		}
		bit = 1ull << (idx % 64);
		word = slab->us_free[idx / 64];
		if (word & bit) {
			*errorp = 1;
			break;
		}
		__atomic_store_n(&slab->us_free[idx / 64], word | bit,
		    __ATOMIC_RELAXED);
	}
	slab->us_freecount = (uint16_t)(slab->us_freecount + n);
	return (n);
}

/*
 * See slab.h: the slab's invariant (uma_int.h), its free bitset against
 * its count, and its pages against the page table.
 */
void
uma__slab_assert_valid(uma_keg_t keg, uma_slab_t slab)
{
	uint32_t n = 0, w;
	char *mem;

	UMA_ASSERT(slab->us_keg == keg, "uma: keg \"%s\": slab %p of keg %p",
	    keg->uk_name, (void *)slab, (void *)slab->us_keg);
	for (w = 0; w < keg->uk_bitwords; w++)
		n += (uint32_t)__builtin_popcountll(slab->us_free[w]);
	if (keg->uk_ipers % 64 != 0)
		UMA_ASSERT((slab->us_free[keg->uk_bitwords - 1] >>
		    (keg->uk_ipers % 64)) == 0,
		    "uma: keg \"%s\": slab %p: free bits past its items",
		    keg->uk_name, (void *)slab);
	UMA_ASSERT(n == slab->us_freecount, "uma: keg \"%s\": slab %p: "
	    "%u free bits, free count %u", keg->uk_name, (void *)slab, n,
	    slab->us_freecount);
	mem = slab->us_data - slab->us_colour;
	for (uint32_t p = 0; p < keg->uk_ppera; p++)
		UMA_ASSERT(uma_page_slab(mem + (size_t)p * UMA_PAGE_SIZE) ==
		    slab, "uma: keg \"%s\": page %u of slab %p maps elsewhere",
		    keg->uk_name, p, (void *)slab);
	(void)n;
	(void)mem;
}
