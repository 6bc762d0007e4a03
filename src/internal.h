/*
 * internal.h - uma's own zones, and the one door back up to them
 * (internal.c).
 *
 * Kegs, zone structs, per-CPU cache arrays, buckets and off-page slab
 * headers are items of internal zones, as in FreeBSD, so the keg and slab
 * layers need items from the zone layer above them.  They get them here
 * and nowhere else: this is the only call from a lower layer to a higher
 * one in the allocator, and the recursion ends at the bootstrap zones,
 * whose kegs and zones are static.
 */
#ifndef _UMA_INTERNAL_H_
#define	_UMA_INTERNAL_H_

#include "uma_int.h"

/* The bootstrap zones: "UMA Kegs", "UMA Zones", "UMA Caches". */
void	uma__internal_startup(void) UMA_HIDDEN;
uma_zone_t uma__kegs_zone(void) UMA_HIDDEN;
uma_zone_t uma__zones_zone(void) UMA_HIDDEN;
uma_zone_t uma__caches_zone(void) UMA_HIDDEN;
/* The shared per-CPU caches of zones that have none: always closed. */
uma_cache_t uma__closed_caches(void) UMA_HIDDEN;

/* An internal zone: no caches, no limit; never destroyed. */
uma_zone_t uma__internal_zcreate(const char *name, size_t size, int align,
	    uint32_t flags) UMA_HIDDEN;
/* An item of an internal zone (never sleeps), and back. */
void	*uma__internal_alloc(uma_zone_t zone, int flags) UMA_HIDDEN;
void	uma__internal_free(uma_zone_t zone, void *item) UMA_HIDDEN;

#endif /* !_UMA_INTERNAL_H_ */
