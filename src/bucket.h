/*
 * bucket.h - buckets, and each zone's cache of full buckets (bucket.c).
 *
 * Layer: between the per-CPU caches and the zone's back end.
 */
#ifndef _UMA_BUCKET_H_
#define	_UMA_BUCKET_H_

#include "uma_int.h"

void	uma__bucket_startup(void) UMA_HIDDEN;
uma_bucket_t uma__bucket_alloc(uma_zone_t zone, int flags) UMA_HIDDEN;
void	uma__bucket_free(uma_zone_t zone, uma_bucket_t b) UMA_HIDDEN;
uma_bucket_t uma__bucket_fetch(uma_zone_t zone) UMA_HIDDEN;
void	uma__bucket_bounced(uma_zone_t zone) UMA_HIDDEN;
void	uma__bucket_put(uma_zone_t zone, uma_bucket_t b) UMA_HIDDEN;
void	uma__bucket_stash(uma_zone_t zone, uma_bucket_t b) UMA_HIDDEN;
void	uma__bucket_cache_max(uma_zone_t zone, uint64_t nitems) UMA_HIDDEN;
void	uma__bucket_drain(uma_zone_t zone, uma_bucket_t b) UMA_HIDDEN;
void	uma__bucket_cache_reclaim(uma_zone_t zone, bool trim) UMA_HIDDEN;
uint64_t uma__bucket_cache_idle(uma_zone_t zone, uint64_t need) UMA_HIDDEN;
void	uma__bucket_select(uma_zone_t zone) UMA_HIDDEN;
void	uma__bucket_scale(uma_zone_t zone, uint32_t mult) UMA_HIDDEN;
/* ... and to `bytes` of items, if that is more (before its first use). */
void	uma__bucket_reach(uma_zone_t zone, uint32_t bytes) UMA_HIDDEN;
uma_bucket_t uma__bucket_fill(uma_zone_t zone, bool cold, int flags,
	    int *errorp) UMA_HIDDEN;
void	uma__bucket_wss_update(uma_zone_t zone) UMA_HIDDEN;
/* INVARIANTS: the zone's bucket cache (uz_lock held). */
void	uma__bucket_assert_valid_locked(uma_zone_t zone) UMA_HIDDEN;

#endif /* !_UMA_BUCKET_H_ */
