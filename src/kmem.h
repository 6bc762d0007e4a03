/*
 * kmem.h - the kmem report (internal): what kmem.c and kmem_walk.c share.
 *
 * Slab pages are counted by their kegs (uk_pages); every other page uma
 * takes comes through the page backend and is counted there by its use
 * (vm.h: live large and contigmalloc runs, the large-run cache, uma's own
 * runs).  A zone whose cached items hold an item of another zone (the
 * mbuf packet zone and its clusters) says so to the zone layer
 * (uma__zone_hold, zone.h).
 */
#ifndef _UMA_KMEM_INT_H_
#define	_UMA_KMEM_INT_H_

#include <stdbool.h>
#include <stdint.h>

#include <uma/kmem.h>

#include "uma_int.h"

/*
 * The cheap tier into *uks (kmem.c).  Takes uma_lock for reading and the
 * page layer's map lock for an instant; no cache, zone or keg lock.
 */
void	uma__kmem_stats(struct uma_kmem_stats *uks) UMA_HIDDEN;

/*
 * The extended tier (kmem_walk.c): the whole record, header and zone
 * records, in a fresh mapping of *lenp bytes (munmap it), or NULL with
 * *errorp set (no memory for it or for the walk's scratch tables).
 */
void	*uma__kmem_stats_extended(size_t *lenp, int *errorp) UMA_HIDDEN;

#endif /* !_UMA_KMEM_INT_H_ */
