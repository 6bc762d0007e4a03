/*
 * zone_ctor.c - building a zone struct, linking it, and keeping its gate
 * (FreeBSD's zone_ctor and zone_dtor).
 *
 * Layer: the zone's back end.  Every zone is built here: uma's own by
 * internal.c, users' by zone.c, which gives the zone its per-CPU caches
 * and bucket sizes first.  The gate (zone_fast.h) is computed here from
 * the zone's callbacks, flags and caches, the CPU mode and the debug
 * level, and again whenever one of them changes.
 */
#include <string.h>

#include "internal.h"
#include "limit.h"
#include "memguard.h"
#include "zone_ctor.h"

/* See zone_ctor.h */
void
uma__zone_set_gate(uma_zone_t zone)
{
	uma_keg_t keg = zone->uz_keg;
	uint32_t gate = 0, old, kept;

	if (zone->uz_ctor != NULL)
		gate |= UZ_GATE_CTOR;
	if (zone->uz_dtor != NULL)
		gate |= UZ_GATE_DTOR;
	if (zone->uz_flags & (UMA_ZONE_NOBUCKET | UMA_ZFLAG_INTERNAL) ||
	    zone->uz_bucket_size == 0)
		gate |= UZ_GATE_NOCACHE;
	if (!uma.ug_rseq)
		gate |= UZ_GATE_LOCKED;
	if (uma__memguard_zone_selected(zone))
		gate |= UZ_GATE_MEMGUARD;
#if UMA_DEBUG > 1
	/*
	 * Trash only items whose "initialized" state is raw memory: no inits,
	 * uma allowed to touch them, and no other zone on the keg (its items
	 * reach this zone through the keg without being trashed).
	 */
	if (keg->uk_init == NULL && keg->uk_fini == NULL &&
	    zone->uz_init == NULL && zone->uz_fini == NULL &&
	    !(keg->uk_flags & (UMA_ZONE_NOTOUCH | UMA_ZFLAG_INTERNAL |
	    UMA_ZFLAG_CACHE | UMA_ZFLAG_FOREIGN)) &&
	    (LIST_EMPTY(&keg->uk_zones) || (LIST_FIRST(&keg->uk_zones) ==
	    zone && LIST_NEXT(zone, uz_link) == NULL)))
		gate |= UZ_GATE_TRASH;
	/* The debug bitset wants to see every alloc and free. */
	if (!(keg->uk_flags & (UMA_ZFLAG_INTERNAL | UMA_ZFLAG_CACHE)))
		gate |= UZ_GATE_CTOR | UZ_GATE_DTOR;
#else
	(void)keg;
#endif
	/*
	 * A class zone's callers read the global gate (zone_fast.h): only
	 * what limit.c mirrors there may close its own.
	 */
	UMA_ASSERT(!(zone->uz_flags & UMA_ZFLAG_CLASS) || UMA_DEBUG > 1 ||
	    (gate & ~UZ_GATE_LOCKED) == 0,
	    "uma: class zone \"%s\" with a gate of its own (%#x)",
	    zone->uz_name, gate);
	/*
	 * Sleepers (limit.c) and live guarded items (memguard_zone.c) are
	 * counted into the gate by others, at any time: keep them.
	 */
	kept = UZ_GATE_SLEEPERS | UZ_GATE_GUARDED;
	old = atomic_load_explicit(&zone->uz_gate, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&zone->uz_gate, &old,
	    gate | (old & kept), memory_order_relaxed, memory_order_relaxed))
		;
}

/* See zone_ctor.h */
void
uma__zone_ctor(uma_zone_t zone, const char *name, uma_keg_t keg,
    uma_ctor ctor, uma_dtor dtor, uma_init zinit, uma_fini zfini,
    uint32_t flags)
{
	uma_zone_t last;

	if (flags & UMA_ZFLAG_CLASS && (ctor != NULL || dtor != NULL ||
	    zinit != NULL || zfini != NULL || keg->uk_init != NULL ||
	    keg->uk_fini != NULL))
		uma__panic("uma: class zone \"%s\" with callbacks", name);
	zone->uz_name = name;
	zone->uz_keg = keg;
	zone->uz_size = keg->uk_size;
	zone->uz_ctor = ctor;
	zone->uz_dtor = dtor;
	zone->uz_init = zinit;
	zone->uz_fini = zfini;
	zone->uz_flags = flags;
	uma__mutex_init(&zone->uz_lock);
	TAILQ_INIT(&zone->uz_buckets);
	if (zone->uz_bucket_max == 0)
		zone->uz_bucket_max = UINT64_MAX;
	uma__limit_init(zone);
	if (zone->uz_cpu == NULL)
		zone->uz_cpu = uma__closed_caches();
	uma__zone_set_gate(zone);

	pthread_rwlock_wrlock(&uma.ug_lock);
	if (flags & UMA_ZONE_SECONDARY) {
		last = LIST_FIRST(&keg->uk_zones);
		while (LIST_NEXT(last, uz_link) != NULL)
			last = LIST_NEXT(last, uz_link);
		LIST_INSERT_AFTER(last, zone, uz_link);
	} else
		LIST_INSERT_HEAD(&keg->uk_zones, zone, uz_link);
	TAILQ_INSERT_TAIL(&uma.ug_zones, zone, uz_all);
	/* A second zone on the keg may change the others' trash bit. */
	LIST_FOREACH(last, &keg->uk_zones, uz_link)
		uma__zone_set_gate(last);
	if (flags & UMA_ZFLAG_INTERNAL)
		uma.ug_nzones_internal++;
	else
		uma.ug_nzones++;
	pthread_rwlock_unlock(&uma.ug_lock);
}

/* See zone_ctor.h */
bool
uma__zone_dtor(uma_zone_t zone)
{
	bool last;

	pthread_rwlock_wrlock(&uma.ug_lock);
	LIST_REMOVE(zone, uz_link);
	TAILQ_REMOVE(&uma.ug_zones, zone, uz_all);
	uma.ug_nzones--;
	last = LIST_EMPTY(&zone->uz_keg->uk_zones);
	pthread_rwlock_unlock(&uma.ug_lock);
	return (last);
}
