/*
 * limit.c - zone limits: counting the items out of the keg, the sleepers'
 * bookkeeping, and the limit warning.
 *
 * Layer: the zone's back end.  uz_items counts every item that left the
 * keg for this zone, with a user or in a cache (FreeBSD counts cached
 * items too, so a zone can show USED < LIMIT and still be at its limit:
 * its caches hold the rest).  Taking is a fetch-and-add that gives back
 * what overshot, and never sleeps: a caller that may wait sleeps in the
 * zone's entry (zalloc.c), on uz_limit_lock and uz_limit_cv, which a
 * release signals.  While anyone sleeps, the UZ_GATE_SLEEPERS bit sends
 * every free of the zone to its keg, so that each free wakes a sleeper
 * instead of feeding a cache; for a class zone, whose callers find it
 * from an address, uma.ug_class_gate counts the class zones in that state
 * and uma__class_free_span shuts the whole arena to their free hit path.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "limit.h"
#include "sysctl_int.h"
#include "vm.h"

UMA_SYSCTL_INT(sysctl_zone_warnings, "vm.zone_warnings", &uma.ug_warnings,
    UMA_CTLFLAG_RWTUN, 0, 1, "Warn when a zone reaches its limit");

#define	UMA_WARN_INTERVAL	300	/* seconds between limit warnings */

void
uma__limit_init(uma_zone_t zone)
{
	pthread_mutex_init(&zone->uz_limit_lock, NULL);
	pthread_cond_init(&zone->uz_limit_cv, NULL);
}

void
uma__limit_fini(uma_zone_t zone)
{
	pthread_cond_destroy(&zone->uz_limit_cv);
	pthread_mutex_destroy(&zone->uz_limit_lock);
}

/* See limit.h */
void
uma__limit_warn(uma_zone_t zone)
{
	struct timespec ts;
	int64_t last;

	if (zone->uz_warning == NULL || !uma.ug_warnings)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	last = atomic_load(&zone->uz_warned_at);
	if (last != 0 && ts.tv_sec - last < UMA_WARN_INTERVAL)
		return;
	if (atomic_compare_exchange_strong(&zone->uz_warned_at, &last,
	    ts.tv_sec != 0 ? ts.tv_sec : 1))
		fprintf(stderr, "[zone: %s] %s\n", zone->uz_name,
		    zone->uz_warning);
}

/*
 * See limit.h.  FreeBSD enqueues the action on a taskqueue, which runs it
 * once for any number of hits since it last ran, and passes that number.
 * Here the thread that hit the limit runs it, unless another already
 * does: that one goes round again for the hits that came meanwhile, so
 * none is lost and no two calls for a zone overlap.
 */
void
uma__limit_maxaction(uma_zone_t zone)
{
	uma_maxaction_t fn = atomic_load_explicit(&zone->uz_maxaction,
	    memory_order_acquire);
	uint32_t n;

	if (fn == NULL)
		return;
	atomic_fetch_add(&zone->uz_ma_pending, 1);
	while (atomic_load(&zone->uz_ma_pending) != 0 &&
	    !atomic_exchange(&zone->uz_ma_busy, true)) {
		n = atomic_exchange(&zone->uz_ma_pending, 0);
		if (n != 0)
			fn(zone, (int)n);
		atomic_store(&zone->uz_ma_busy, false);
	}
}

/* See zone_fast.h */
_Atomic uintptr_t uma__class_free_span;

/*
 * See limit.h.  Whoever changes the gate syncs after it, and syncs again
 * if the gate moved while it stored: the last store is then always one
 * made from the gate's final value.
 */
void
uma__class_gate_sync(void)
{
	uint32_t g;

	do {
		g = atomic_load(&uma.ug_class_gate);
		atomic_store(&uma__class_free_span, g == 0 ? uma_vm_size : 0);
	} while (atomic_load(&uma.ug_class_gate) != g);
}

/* See limit.h */
void
uma__limit_sleepers(uma_zone_t zone, bool more)
{
	if (more) {
		if (atomic_fetch_add(&zone->uz_sleepers, 1) != 0)
			return;
		atomic_fetch_or(&zone->uz_gate, UZ_GATE_SLEEPERS);
		if (zone->uz_flags & UMA_ZFLAG_CLASS) {
			atomic_fetch_add(&uma.ug_class_gate, 1);
			atomic_fetch_add(&uma.ug_class_lmgate, 1);
			uma__class_gate_sync();
		}
	} else {
		if (atomic_fetch_sub(&zone->uz_sleepers, 1) != 1)
			return;
		atomic_fetch_and(&zone->uz_gate, ~UZ_GATE_SLEEPERS);
		if (zone->uz_flags & UMA_ZFLAG_CLASS) {
			atomic_fetch_sub(&uma.ug_class_gate, 1);
			atomic_fetch_sub(&uma.ug_class_lmgate, 1);
			uma__class_gate_sync();
		}
	}
}

/* See limit.h */
int
uma__limit_take(uma_zone_t zone, int count)
{
	uint64_t max, old, over;

	old = atomic_fetch_add(&zone->uz_items, count);
	max = zone->uz_max_items;
	if (max == 0 || old + count <= max)
		return (count);
	over = old + count - max;
	if (over > (uint64_t)count)
		over = count;
	atomic_fetch_sub(&zone->uz_items, over);
	return (count - (int)over);
}

/* See limit.h */
void
uma__limit_release(uma_zone_t zone, int count)
{
	if (count == 0)
		return;
	atomic_fetch_sub(&zone->uz_items, count);
	if (atomic_load(&zone->uz_sleepers) != 0) {
		pthread_mutex_lock(&zone->uz_limit_lock);
		if (count == 1)
			pthread_cond_signal(&zone->uz_limit_cv);
		else
			pthread_cond_broadcast(&zone->uz_limit_cv);
		pthread_mutex_unlock(&zone->uz_limit_lock);
	}
}
