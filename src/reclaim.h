/*
 * reclaim.h - giving memory back: uma_reclaim, the periodic trim, and the
 * handlers other layers hang on them (reclaim.c).
 *
 * Layer: across every zone, above the caches, buckets and kegs.
 */
#ifndef _UMA_RECLAIM_H_
#define	_UMA_RECLAIM_H_

#include "uma_int.h"

/* One zone's caches, one request (UMA_RECLAIM_*). */
void	uma__zone_trim(uma_zone_t zone, int req) UMA_HIDDEN;
void	uma__timeout_start(void) UMA_HIDDEN;
void	uma__timeout_child(void) UMA_HIDDEN;

/*
 * A cache of memory that is not a zone (malloc's large runs) is trimmed
 * with the zones: fn(false) runs first on every uma_reclaim (give all
 * back), fn(true) on every periodic trim (give back what aged), outside
 * every zone lock.  Registered once, at the layer's start-up.
 */
void	uma__reclaim_hook(void (*fn)(bool periodic)) UMA_HIDDEN;

/*
 * The idle pass (reclaim.c): the caches that nothing used while the
 * process took a few MiB of new pages give them back.  When
 * uma__reclaim_idle_wanted says one is due, a caller that holds no lock
 * of uma's (malloc's slow paths) runs it with uma__reclaim_idle_run(true),
 * leaving out the zones whose give-back calls the caller's code; the trim
 * thread does otherwise, all of them.
 */
extern _Atomic bool uma__reclaim_idle_wanted UMA_HIDDEN;
void	uma__reclaim_idle_run(bool here) UMA_HIDDEN;
void	uma__reclaim_startup(void) UMA_HIDDEN;

#endif /* !_UMA_RECLAIM_H_ */
