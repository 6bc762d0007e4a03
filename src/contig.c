/*
 * contig.c - contigmalloc(9) and contigfree(9) over uma's arena.
 *
 * Layer: malloc.  uma has no physical memory to hand out; its arena is the
 * stand-in.  low and high are plain virtual addresses, and the run must
 * lie in [low, high] and inside the arena (so low = 0, high = ~0 mean
 * anywhere, and a range that misses the arena cannot be satisfied).
 * Alignment and boundary are honoured by the first-fit map (vmmap_alloc).
 * The run is a large run of malloc.c (one descriptor, found from its first
 * page), so uma_free accepts it as newer FreeBSD's free(9) does.
 *
 * Statistics as FreeBSD's malloc_type_allocated: round_page(size) bytes
 * and one request in the type, no size-class bit.
 */
#include <errno.h>

#include "lowmem.h"
#include "malloc_int.h"
#include "malloc_mstat.h"
#include "vm.h"

static bool
powerof2(uintptr_t x)
{
	return (x != 0 && (x & (x - 1)) == 0);
}

/*
 * Could a run of `len` bytes in [low, high) lie in the arena at all?  A
 * window beside the arena is refused at once, whatever the flags; one
 * that overlaps it may have room once memory is given back.
 */
static bool
contig_window_in_arena(size_t len, uintptr_t low, uintptr_t high)
{
	uintptr_t end = uma_vm_base + uma_vm_size;
	uintptr_t lo = low > uma_vm_base ? low : uma_vm_base;
	uintptr_t hi = high < end ? high : end;

	return (hi > lo && hi - lo >= len);
}

/* See malloc.h */
void *
contigmalloc(unsigned long size, struct malloc_type *mtp, int flags,
    uintptr_t low, uintptr_t high, unsigned long alignment,
    uintptr_t boundary)
{
	size_t len = roundup2(size, UMA_PAGE_SIZE);
	void *mem;
	int error;

	if (size == 0 || len < size || (alignment != 0 &&
	    !powerof2(alignment)) || (boundary != 0 && (!powerof2(boundary) ||
	    boundary < len)) || low > high) {
		errno = EINVAL;
		return (NULL);
	}
	if (__atomic_load_n(&mtp->ks_handle, __ATOMIC_ACQUIRE) == NULL &&
	    !uma__malloc_type_ready(mtp, flags)) {
		errno = ENOMEM;
		return (NULL);
	}
	if (alignment < UMA_PAGE_SIZE)
		alignment = UMA_PAGE_SIZE;
	/* vmmap takes [low, high); ours is inclusive. */
	if (high != UINTPTR_MAX)
		high++;
	/*
	 * No run: with M_WAITOK, the low-memory path and again, at most
	 * vm.lowmem_retries times; then NULL, as FreeBSD's contigmalloc
	 * gives up after reclaiming (its M_WAITOK may fail).
	 */
	for (int refused = 0; (mem = uma__malloc_large(len, alignment, low,
	    high, boundary, true, M_ZERO, &error)) == NULL; refused++)
		if (error != ENOMEM || flags & M_NOWAIT ||
		    !contig_window_in_arena(len, low, high) ||
		    !uma__lowmem_retry(refused)) {
			errno = error;
			return (NULL);
		}
	/* Zero-filled always (malloc.h): freed pages reused are cleared. */
	if (flags & M_NODUMP)
		uma__malloc_large_nodump(uma__malloc_large_find(mem));
	mstat_large(mtp, 0, len);
	return (mem);
}

/* See malloc.h */
void
contigfree(void *addr, unsigned long size, struct malloc_type *mtp)
{
	struct malloc_large *ml;

	ml = uma__malloc_large_find(addr);
	if (ml == NULL)
		uma__malloc_invalid("contigfree", addr, "not a contigmalloc "
		    "allocation (or already freed)");
	if (ml->ml_size != roundup2(size, UMA_PAGE_SIZE))
		uma__malloc_invalid("contigfree", addr, "size does not match "
		    "the allocation");
	uma__malloc_large_free(ml);
	mstat_large(mtp, MSTAT_FREE, roundup2(size, UMA_PAGE_SIZE));
}
