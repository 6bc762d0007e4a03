/*
 * slab.h - one slab: its pages, its header, its free bitset (slab.c).
 *
 * Layer: below the keg, above the pages.  Off-page headers come from
 * uma's own zones through the one door back up (internal.h).
 */
#ifndef _UMA_SLAB_H_
#define	_UMA_SLAB_H_

#include "uma_int.h"

uma_slab_t uma__slab_alloc(uma_keg_t keg, int flags, int *errorp)
	    UMA_HIDDEN;
void	uma__slab_free(uma_keg_t keg, uma_slab_t slab) UMA_HIDDEN;
/* Items in and out, uk_lock held. */
int	uma__slab_alloc_items_locked(uma_keg_t keg, uma_slab_t slab, void **store,
	    int max) UMA_HIDDEN;
/*
 * Put back the items of store[] that lie in the slab's items, from the
 * first on, until one does not (uk_lock held); returns how many went
 * back.  *errorp: 0, or for store[n] (n the return) -1 if it lies among
 * the slab's items but starts none, 1 if it is free already.
 */
int	uma__slab_free_items_locked(uma_keg_t keg, uma_slab_t slab,
	    void **store, int max, int *errorp) UMA_HIDDEN;
int	uma__slab_item_index(uma_keg_t keg, uma_slab_t slab, void *item)
	    UMA_HIDDEN;
size_t	uma__slab_hdrsize(uint32_t ipers, uint32_t flags) UMA_HIDDEN;
uint32_t *uma__slab_refcnt(uma_keg_t keg, uma_slab_t slab, int idx)
	    UMA_HIDDEN;
uint64_t *uma__slab_dbg(uma_keg_t keg, uma_slab_t slab) UMA_HIDDEN;
/* INVARIANTS: the slab's equations (slab.c). */
void	uma__slab_assert_valid(uma_keg_t keg, uma_slab_t slab) UMA_HIDDEN;

#endif /* !_UMA_SLAB_H_ */
