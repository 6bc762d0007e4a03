/*
 * zone_ctor.h - building a zone struct and keeping its gate (zone_ctor.c).
 *
 * Layer: the zone's back end; both uma's own zones (internal.c) and
 * users' zones (zone.c) are built here.
 */
#ifndef _UMA_ZONE_CTOR_H_
#define	_UMA_ZONE_CTOR_H_

#include "uma_int.h"

/*
 * Fill in `zone` (zeroed, uz_cpu set if it has caches of its own, bucket
 * sizes chosen) on `keg`, and link it: at the head of the keg's zones
 * (primary) or the tail (UMA_ZONE_SECONDARY), and on the zone list.
 */
void	uma__zone_ctor(uma_zone_t zone, const char *name, uma_keg_t keg,
	    uma_ctor ctor, uma_dtor dtor, uma_init zinit, uma_fini zfini,
	    uint32_t flags) UMA_HIDDEN;
/* Unlink a zone; true if it was its keg's last. */
bool	uma__zone_dtor(uma_zone_t zone) UMA_HIDDEN;
/* Recompute uz_gate (zone_fast.h) after a change of what it depends on. */
void	uma__zone_set_gate(uma_zone_t zone) UMA_HIDDEN;

#endif /* !_UMA_ZONE_CTOR_H_ */
