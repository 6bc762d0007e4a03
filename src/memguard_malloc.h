/*
 * memguard_malloc.h - MemGuard for malloc(9) and malloc(3)
 * (memguard_malloc.c): FreeBSD's memguard_cmp_mtp, memguard_alloc,
 * memguard_free and memguard_realloc at malloc's layer.
 *
 * Layer: malloc.  malloc.c calls it where an allocation already left the
 * hit path, and where a pointer outside uma's arena arrives (free,
 * realloc, malloc_usable_size).
 */
#ifndef _UMA_MEMGUARD_MALLOC_H_
#define	_UMA_MEMGUARD_MALLOC_H_

#include "cache.h"
#include "malloc_int.h"
#include "memguard.h"

/*
 * A guarded object of `size` bytes for `mtp`, counted as the allocation
 * it stands for: in the type at the size of class idx (and in the class
 * zone `zone`), or for idx -1 at the page-rounded size of a run, as
 * malloc would have; NULL: allocate as usual.  `sampled`: by
 * vm.memguard.frequency (the caps apply), else the type or size is
 * selected.  align: a power of 2 up to a page.
 */
void	*uma__malloc_guarded(size_t size, size_t align, int idx,
	    uma_zone_t zone, struct malloc_type *mtp, bool sampled)
	    UMA_HIDDEN;

/*
 * The class zone of idx answered that a sample is due
 * (UMA_ZALLOC_SAMPLE, zone_fast.h) for an allocation of `size` bytes in
 * `mtp`: the guarded object, else an item of the zone; counted either
 * way; NULL: no memory.
 */
void	*uma__malloc_sample(size_t size, size_t align, int idx,
	    uma_zone_t zone, struct malloc_type *mtp, int flags) UMA_HIDDEN;

/* free() of a guarded object, counted in `mtp`. */
void	uma__free_guarded(void *addr, struct malloc_type *mtp) UMA_HIDDEN;

#endif /* !_UMA_MEMGUARD_MALLOC_H_ */
