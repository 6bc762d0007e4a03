/*
 * memguard_select.c - what MemGuard guards whole: vm.memguard.desc (a
 * zone's name or a malloc type's short description) and
 * vm.memguard.options, and making zones and types follow them.
 *
 * Layer: above the zones' back end and reclaim, which it tells (FreeBSD's
 * memguard_sysctl_desc, plus what FreeBSD's memguard_cmp_zone and
 * memguard_cmp_mtp decide at each call, decided here once per change).
 * A zone of that name, or of a page or more under MG_GUARD_ALLLARGE,
 * gets UZ_GATE_MEMGUARD, which sends every allocation and free of it to
 * the miss entries (zone_ctor.c gives the bit to zones made later);
 * its per-CPU and bucket caches are emptied, so that nothing already
 * cached is handed out unguarded.  A type of that name goes cold for the
 * hit path (malloc_type.c, through uma__memguard_types_hook, which malloc
 * sets when it starts: a program that never mallocs links none of it);
 * types registered later are checked when they get their counters.  The
 * nodes are declared beside their variables (memguard_policy.c), whose
 * handlers these are, as stats.c declares the statistics' nodes: a
 * program that links MemGuard links these.  Boot tunables only set the
 * variables: no zone or type exists yet.
 */
#include "memguard_int.h"
#include "reclaim.h"
#include "sysctl_int.h"
#include "zone_ctor.h"

#define	MG_DESC_LEN	128	/* FreeBSD's vm_memguard_desc[128] */

static void
memguard_apply(void)
{
	void (*types)(void);
	uma_zone_t zone;
	uint32_t was;

	pthread_rwlock_rdlock(&uma.ug_lock);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		was = atomic_load(&zone->uz_gate) & UZ_GATE_MEMGUARD;
		uma__zone_set_gate(zone);
		if (!was && (atomic_load(&zone->uz_gate) & UZ_GATE_MEMGUARD))
			uma__zone_trim(zone, UMA_RECLAIM_DRAIN);
	}
	pthread_rwlock_unlock(&uma.ug_lock);
	types = __atomic_load_n(&uma__memguard_types_hook, __ATOMIC_ACQUIRE);
	if (types != NULL)
		types();
	uma__mg_stack_prime();
}

/* See memguard_int.h */
int
uma__memguard_desc_handler(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	char desc[MG_DESC_LEN];
	int error;

	uma__memguard_desc_get(desc, sizeof(desc));
	error = uma__sysctl_rw_string(req, desc, sizeof(desc));
	if (error != 0 || req->newp == NULL)
		return (error);
	uma__memguard_desc_set(desc);
	if (!req->boot)
		memguard_apply();
	return (0);
}

/* See memguard_int.h */
int
uma__memguard_options_handler(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int v = uma__memguard_options_get(), error;

	error = uma__sysctl_rw_int(req, &v, 0, MG_GUARD_ALL);
	if (error != 0 || req->newp == NULL)
		return (error);
	uma__memguard_options_set(v);
	if (!req->boot)
		memguard_apply();
	return (0);
}
