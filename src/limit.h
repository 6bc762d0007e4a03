/*
 * limit.h - zone limits: counting the items out of the keg (limit.c).
 *
 * Layer: the zone's back end.  Taking never sleeps: a caller that may
 * wait at the limit does so in the zone's entry (zalloc.c).
 */
#ifndef _UMA_LIMIT_H_
#define	_UMA_LIMIT_H_

#include "uma_int.h"

void	uma__limit_init(uma_zone_t zone) UMA_HIDDEN;
void	uma__limit_fini(uma_zone_t zone) UMA_HIDDEN;
/* Up to `count` items from the limit: how many were granted (0 at it). */
int	uma__limit_take(uma_zone_t zone, int count) UMA_HIDDEN;
/* Give back `count` items and wake whoever sleeps for them. */
void	uma__limit_release(uma_zone_t zone, int count) UMA_HIDDEN;
/* A sleeper comes (true) or goes (false): the gates follow. */
void	uma__limit_sleepers(uma_zone_t zone, bool more) UMA_HIDDEN;
/* uma.ug_class_gate changed (or the arena came): uma__class_free_span follows. */
void	uma__class_gate_sync(void) UMA_HIDDEN;
/* Print the zone's limit warning, at most once per interval. */
void	uma__limit_warn(uma_zone_t zone) UMA_HIDDEN;
/*
 * The zone is at its limit: run its maxaction (uma_zone_set_maxaction),
 * here, outside every lock; a hit while another thread runs it is that
 * thread's to act on, in its next call's pending count.
 */
void	uma__limit_maxaction(uma_zone_t zone) UMA_HIDDEN;

/* Threads sleep at the zone's limit (modern FreeBSD's uma_zone_exhausted). */
static inline bool
uma__zone_sleepers(uma_zone_t zone)
{
	return (atomic_load_explicit(&zone->uz_sleepers,
	    memory_order_relaxed) != 0);
}

/*
 * The zone is at its limit, or threads sleep there: what a caller that
 * may wait checks before it takes a path that only the limit blocks (the
 * mbuf layer's m_getcl and m_clget).  uma_zone_exhausted is only the
 * sleepers, as FreeBSD's since 13.
 */
static inline bool
uma__zone_at_limit(uma_zone_t zone)
{
	uint64_t max = atomic_load_explicit(&zone->uz_max_items,
	    memory_order_relaxed);

	return (uma__zone_sleepers(zone) || (max != 0 &&
	    atomic_load_explicit(&zone->uz_items, memory_order_relaxed) >= max));
}

#endif /* !_UMA_LIMIT_H_ */
