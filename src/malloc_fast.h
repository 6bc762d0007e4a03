/*
 * malloc_fast.h - the hit paths of uma_malloc and uma_free, inline so that
 * the malloc(3) interposer gets them with its type and flags known (its
 * type is counted by the class zones: nothing to count, no flags to test).
 * Everything off the hit path is a call into malloc.c.
 */
#ifndef _UMA_MALLOC_FAST_H_
#define	_UMA_MALLOC_FAST_H_

#include "malloc_int.h"
#include "malloc_mstat.h"
#include "zone_fast.h"

/*
 * size -> class, by 16 bytes up to MALLOC_TABSIZE: one load and no branch
 * (malloc.c fills it).  Larger sizes go through uma__malloc_slow: up to
 * MALLOC_MAXSIZE, the table would be 4 KiB of every process's memory.
 */
extern uint8_t uma__malloc_class_index[MALLOC_TABSIZE / 16 + 1] UMA_HIDDEN;

/*
 * Past it, to MALLOC_MAXSIZE, the classes are multiples of 1 KiB: one
 * byte per 1 KiB (uma__malloc_slow; a scan of the classes there cost 36
 * instructions an allocation).
 */
#define	MALLOC_MID_SHIFT	10
extern uint8_t uma__malloc_class_index_mid[MALLOC_MAXSIZE >>
    MALLOC_MID_SHIFT] UMA_HIDDEN;

/*
 * The class zones' per-CPU caches, in one run at a power-of-2 stride:
 * free() computes the caches of the page's class from its tag, with no
 * load on the way from the item to the cache word it pushes to.
 */
extern char *uma__malloc_caches UMA_HIDDEN;		/* class 0's uz_cpu */
extern unsigned uma__malloc_caches_shift UMA_HIDDEN;	/* log2(stride) */

/*
 * The same addresses in a table by class, for the paths whose class comes
 * early (malloc's from the size, free()'s bet): one load, where the shift
 * took a load of the shift, a copy, the shift and an add.
 */
extern uma_cache_t uma__malloc_class_caches[MALLOC_NCLASSES] UMA_HIDDEN;

/*
 * The bet of free(), per thread: the class of this thread's last
 * allocation, and whether betting pays.
 *
 * free() bets the item it is given has that class.  The push of a free
 * goes to an address computed from the item's class, and the next pop of
 * that class waits for it; computed from the page tag, that address comes
 * late (after the item's own load and the tag's), while the bet's comes
 * from this thread-local byte at once.  The tag decides whether the bet
 * holds, by a branch the predictor learns when the program frees what it
 * just allocated (malloc-pair: 6.5 ns betting, 9.9 not).
 *
 * A lost bet is a mispredicted branch, about 13 ns, so below about 80%
 * won it costs: a thread freeing random slots of mixed sizes
 * (glibc-thread) wins 58% and took 1.7x as long betting.  Betting, a
 * thread counts its lost bets; at MALLOC_BET_LOSSES it stops and, not
 * betting, counts in each trial of 256 frees how many the bet would have
 * won, until a trial shows MALLOC_BET_WINS.  A thread that wins 95% pays
 * a trial every 1024 losses: under 1% of its time.
 */
struct malloc_bet {
	uint8_t		mb_hint;	/* class of the last allocation */
	uint8_t		mb_off;		/* not betting */
	uint8_t		mb_trial;	/* unbet frees this trial, mod 256 */
	uint8_t		mb_pad;
	uint16_t	mb_wins;	/* of which the bet would have won */
	uint16_t	mb_losses;	/* lost bets since betting again */
};
#define	MALLOC_BET_LOSSES	1024
#define	MALLOC_BET_WINS		205	/* of 256: 80% */
extern __thread struct malloc_bet uma__malloc_bet UMA_HIDDEN
    __attribute__((tls_model("initial-exec")));

/*
 * The zone-counted type's hit path (the interposer's malloc) serves sizes
 * below this: MALLOC_TABSIZE + 1 while the type has counters, 0 while it
 * is cold (before its first allocation, and while MemGuard guards it
 * whole), so one compare does both tests (malloc_type.c keeps it; 2
 * instructions fewer than a constant bound and the type's counters).
 */
extern size_t uma__malloc_zhot UMA_HIDDEN;

/* malloc.c: everything beyond the hit paths. */
void	*uma__malloc_slow(size_t size, struct malloc_type *mtp, int flags)
	    UMA_HIDDEN;
void	*uma__malloc_class_alloc(size_t size, size_t align, int idx,
	    struct malloc_type *mtp, int flags) UMA_HIDDEN;
void	*uma__malloc_class_miss(int idx, struct malloc_type *mtp, int flags)
	    UMA_HIDDEN;
void	*uma__malloc_class_miss_size(size_t size, struct malloc_type *mtp,
	    int idx, int flags) UMA_HIDDEN;
void	*uma__malloc_zone_miss(size_t size, uma_cache_t caches, int idx,
	    int flags) UMA_HIDDEN;
void	uma__free_class_miss(void *addr, uma_cache_t caches, int idx)
	    UMA_HIDDEN;
void	uma__free_other(void *addr, struct malloc_type *mtp) UMA_HIDDEN;
int	uma__malloc_lookup_other(const char *what, const void *addr,
	    struct malloc_large **mlp) UMA_HIDDEN;

static inline int
malloc_class_index(size_t size)
{
	return (uma__malloc_class_index[(size + 15) >> 4]);
}

/* Any size up to MALLOC_MAXSIZE. */
static inline int
malloc_class_index_any(size_t size)
{
	if (size <= MALLOC_TABSIZE)
		return (malloc_class_index(size));
	return (uma__malloc_class_index_mid[(size - 1) >> MALLOC_MID_SHIFT]);
}

static inline uma_cache_t
malloc_class_caches(unsigned idx)
{
	return ((uma_cache_t)(uma__malloc_caches +
	    ((size_t)idx << uma__malloc_caches_shift)));
}

/* The type has no counters yet: its first allocation gives it some. */
static inline bool
malloc_type_cold(struct malloc_type *mtp)
{
	return (__atomic_load_n(&mtp->ks_handle, __ATOMIC_ACQUIRE) == NULL);
}

/* Count a size-class alloc or free, unless the class zones count it. */
static inline void
mstat_class(struct malloc_type *mtp, size_t word)
{
	if (mtp != uma__malloc_zone_type)
		mstat_add(mtp, word, 1);
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
/*
 * Does an item of the tag's class `tc` (index + 1) start at byte `off` of
 * its slab?  The exact division (uma_divx): one multiply, a rotate and a
 * compare with the items per slab (a unit test tries every offset a page
 * tag can name).  Lemire's multiple test and a separate limit took 3
 * instructions more; a quotient and its check, two dependent multiplies,
 * made free() 20% slower.
 */
static inline bool
malloc_class_offset_ok(unsigned tc, uint64_t off)
{
	return (uma_divx(off, malloc_check.mk_inv[tc],
	    malloc_check.mk_rot[tc]) < malloc_check.mk_nitems[tc]);
}

static inline int
malloc_check_item(const char *what, const void *addr, unsigned tag)
{
	unsigned tc = UMA_PAGETAG_CLASS(tag);
	uint64_t off;

	off = ((uintptr_t)addr & UMA_PAGE_MASK) | UMA_PAGETAG_OFFSET(tag);
	if (__predict_false(!malloc_class_offset_ok(tc, off)))
		uma__malloc_invalid(what, addr, "pointer inside an allocation "
		    "(not its start)");
	return ((int)tc - 1);
}

static inline int
malloc_lookup(const char *what, const void *addr, struct malloc_large **mlp)
{
	unsigned tag;

	if (__predict_false(!uma_vm_contains(addr)))
		uma__malloc_invalid(what, addr, "pointer not allocated by uma "
		    "(outside its arena: a stack, static or foreign pointer)");
	tag = uma_vm_pagetag_of(addr);
	if (__predict_false(UMA_PAGETAG_CLASS(tag) == 0))
		return (uma__malloc_lookup_other(what, addr, mlp));
	return (malloc_check_item(what, addr, tag));
}

/*
 * uma_malloc's hit path: pop from the class zone's CPU cache and count.
 * `zcounted`: mtp is the zone-counted type.
 */
static inline __attribute__((always_inline)) void *
malloc_fast(size_t size, struct malloc_type *mtp, int flags, bool zcounted)
{
	uma_cache_t caches;
	void *item;
	size_t idx;

	if (zcounted ? __predict_false(size >= __atomic_load_n(
	    &uma__malloc_zhot, __ATOMIC_ACQUIRE) || (flags & M_ZERO)) :
	    __predict_false(size > MALLOC_TABSIZE || malloc_type_cold(mtp) ||
	    (flags & M_ZERO)))
		return (uma__malloc_slow(size, mtp, flags));
	idx = (size_t)malloc_class_index(size);
	caches = uma__malloc_class_caches[idx];
	item = uma__class_alloc_hit(caches);
	/*
	 * A miss may be a MemGuard sample, which wants the size asked for.
	 * The interposer's hit path keeps it at no cost (it stays in the
	 * argument register), and the caches, which the sequence left in a
	 * register, for locked mode; uma_malloc's would need a register
	 * saved, so its samples get the class size.
	 */
	if (__predict_false(item == NULL))
		return (zcounted ? uma__malloc_zone_miss(size, caches,
		    (int)idx, flags) : uma__malloc_class_miss((int)idx, mtp,
		    flags));
	uma__malloc_bet.mb_hint = (uint8_t)idx;
	if (!zcounted)
		mstat_class(mtp, idx);
	return (item);
}

/*
 * uma_free's hit path: push to the item's class zone's CPU cache, betting
 * that the item is of class `bet` (or, for -1, of this thread's last
 * allocation's).  A lost bet costs a branch, never correctness: the page
 * tag decides.
 */
static inline __attribute__((always_inline)) void
free_fast_bet(void *addr, struct malloc_type *mtp, bool zcounted, int bet)
{
	struct malloc_bet *mb = &uma__malloc_bet;
	uma_cache_t hcaches;
	size_t hint;
	unsigned tag;
	int idx;

	/*
	 * NULL, the bootstrap area, large runs, bad pointers, and every free
	 * while a class zone has sleepers (zone_fast.h): a call.
	 */
	if (__predict_false(!uma__class_free_open(addr))) {
		uma__free_other(addr, mtp);
		return;
	}
	tag = uma_vm_pagetag_of(addr);
	if (__predict_false(UMA_PAGETAG_CLASS(tag) == 0)) {
		uma__free_other(addr, mtp);
		return;
	}
	idx = malloc_check_item("free", addr, tag);
	hint = bet < 0 ? mb->mb_hint : (size_t)bet;
	if (bet < 0 && __predict_false(mb->mb_off)) {
		/* Not betting: the cache from the tag, and a trial's count. */
		mb->mb_wins += (size_t)idx == hint;
		if (__predict_false(++mb->mb_trial == 0)) {
			mb->mb_off = mb->mb_wins < MALLOC_BET_WINS;
			mb->mb_wins = 0;
			mb->mb_losses = 0;
		}
		hcaches = malloc_class_caches((unsigned)idx);
		if (__predict_true(uma__class_free_hit(hcaches, addr)))
			goto counted;
		goto miss;
	}
	/*
	 * The bet's cache, computed before the tag is known and hidden from
	 * the compiler, which would otherwise recompute it from the equal
	 * (and late) class in the branch below.  Each branch has its own
	 * push: with one push shared by a label, malloc-pair took 8.9 ns
	 * instead of 6.4.  (mb_hint and mb_off read as one 16-bit word would
	 * save the test of mb_off, but malloc stores the byte just before:
	 * the load then waits for the store instead of taking its value,
	 * and malloc-pair took 5% longer.)
	 */
	hcaches = uma__malloc_class_caches[hint];
	__asm__("" : "+r" (hcaches));
	if (__predict_true((size_t)idx == hint)) {
		if (__predict_true(uma__class_free_hit(hcaches, addr)))
			goto counted;
	} else {
		if (bet < 0 && __predict_false(++mb->mb_losses ==
		    MALLOC_BET_LOSSES))
			mb->mb_off = 1;
		hcaches = malloc_class_caches((unsigned)idx);
		if (__predict_true(uma__class_free_hit(hcaches, addr)))
			goto counted;
	}
miss:
	/* The caches are in the sequence's register: for locked mode. */
	uma__free_class_miss(addr, hcaches, idx);
counted:
	if (!zcounted)
		mstat_class(mtp, MSTAT_FREE + (size_t)idx);
}

/* The bet: the class of this thread's last allocation. */
static inline __attribute__((always_inline)) void
free_fast(void *addr, struct malloc_type *mtp, bool zcounted)
{
	free_fast_bet(addr, mtp, zcounted, -1);
}

/*
 * A free that is told the size (C23 free_sized, C++'s sized delete): the
 * bet is the class of that size, right whenever the caller is, and known
 * before the item's page tag is loaded.  A wrong size (or a block that
 * realloc shrank in place, legitimately in a larger class) loses the bet
 * and is freed as an unsized free would be.
 */
static inline __attribute__((always_inline)) void
free_fast_sized(void *addr, size_t size, struct malloc_type *mtp,
    bool zcounted)
{
	free_fast_bet(addr, mtp, zcounted, size <= MALLOC_TABSIZE ?
	    malloc_class_index(size) : -1);
}

#endif /* !_UMA_MALLOC_FAST_H_ */
