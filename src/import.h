/*
 * import.h - the zone's back end: items between a zone and its keg
 * (import.c).
 *
 * Layer: zone, below the buckets and caches, above the keg.
 */
#ifndef _UMA_IMPORT_H_
#define	_UMA_IMPORT_H_

#include "uma_int.h"

/*
 * Up to `max` items from the keg into store[], zone init on each.  An init
 * failure stops the import there: that item and the ones after it go
 * back to the keg, *errorp is UMA_EINIT, and the items already imported
 * are returned.  Fewer items than `max` with *errorp UMA_ENOPAGES: the
 * page layer refused a slab (uma_int.h).
 */
int	uma__zone_import(uma_zone_t zone, void **store, int max, int flags,
	    int *errorp) UMA_HIDDEN;
/* Items back to the keg, zone fini first. */
void	uma__zone_release(uma_zone_t zone, void **store, int cnt) UMA_HIDDEN;
/*
 * One item: a unit of the limit, then an import.  NULL with *errorp
 * UMA_ELIMIT, UMA_ENOPAGES or UMA_EINIT (uma_int.h).  Counts nothing.
 */
void	*uma__zone_alloc_item(uma_zone_t zone, int flags, int *errorp)
	    UMA_HIDDEN;
/* One item back to the keg, and its unit of the limit.  Counts nothing. */
void	uma__zone_free_item(uma_zone_t zone, void *item) UMA_HIDDEN;

#endif /* !_UMA_IMPORT_H_ */
