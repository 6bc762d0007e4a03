/*
 * zone.h - what zone.c offers the layers above beyond uma.h.
 */
#ifndef _UMA_ZONE_H_
#define	_UMA_ZONE_H_

#include "uma_int.h"

/*
 * A malloc size-class zone (UMA_ZFLAG_CLASS: zone_fast.h) whose per-CPU
 * caches are at `caches` (zeroed memory for uma.ug_ncpus caches after
 * UMA_CACHE_GUARD zeroed ones), whose pages carry class tag `cls`
 * (vm.h), whose buckets may grow to `bucket_mult` times uma's choice
 * (bucket.c, uma__bucket_scale) or to `bucket_bytes` of items if that is
 * more, and whose bucket cache keeps at most `cache_items` items.  Pointer-aligned items, no colour: malloc's free()
 * computes an item's start from the page tag.
 */
uma_zone_t uma__zcreate_class(const char *name, size_t size,
	    uma_cache_t caches, uint8_t cls, uint32_t bucket_mult,
	    uint32_t bucket_bytes, uint64_t cache_items) UMA_HIDDEN;

/*
 * Zone `holder` keeps one item of zone `held` with each of its items,
 * found by held_item(item): the mbuf packet zone's packets keep their
 * clusters.  Held by a cached item, that item is free memory, not in use:
 * the kmem report moves it (kmem.c); a reclaim gives it back with its
 * holder.  Set once, at the holder's creation.
 */
#define	UMA_ZONE_HOLDINGS	4
struct uma__zone_holding {
	uma_zone_t	 kh_holder;
	uma_zone_t	 kh_held;
	void		*(*kh_item)(void *item);
	int		 kh_index;	/* 0 .. UMA_ZONE_HOLDINGS - 1 */
};
void	uma__zone_hold(uma_zone_t holder, uma_zone_t held,
	    void *(*held_item)(void *item)) UMA_HIDDEN;
/* The holding of `zone`, if it is a holder; else NULL. */
const struct uma__zone_holding *uma__zone_holding(uma_zone_t zone)
	    UMA_HIDDEN;

#endif /* !_UMA_ZONE_H_ */
