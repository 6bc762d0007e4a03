/*
 * keg.h - kegs: slab layout, and moving items between slabs and zones
 * (keg.c).
 *
 * Layer: below the zone's back end (import.h), above the slabs.
 */
#ifndef _UMA_KEG_H_
#define	_UMA_KEG_H_

#include "uma_int.h"

uma_keg_t uma__keg_create(const char *name, size_t size, uma_init init,
	    uma_fini fini, int align, uint32_t flags) UMA_HIDDEN;
void	uma__keg_destroy(uma_keg_t keg) UMA_HIDDEN;
int	uma__keg_fetch(uma_keg_t keg, void **store, int max, int flags,
	    int *errorp) UMA_HIDDEN;
void	uma__keg_release(uma_keg_t keg, void **store, int cnt,
	    uma_zone_t zone) UMA_HIDDEN;
void	uma__keg_drain(uma_keg_t keg) UMA_HIDDEN;
/*
 * The idle pass (reclaim.c): give back the free slabs that stayed free
 * since the last pass, and `more` beside them.
 */
void	uma__keg_release_idle(uma_keg_t keg, uint64_t more) UMA_HIDDEN;
int	uma__keg_prealloc(uma_keg_t keg, int nslabs) UMA_HIDDEN;
void	uma__keg_layout(uma_keg_t keg) UMA_HIDDEN;
/* A keg's id for page tags: 1..65535, then 0 (none left). */
uint16_t uma__keg_id_alloc(void) UMA_HIDDEN;
/* INVARIANTS: every slab and counter of the keg (keg.c); uk_lock held. */
void	uma__keg_assert_valid_locked(uma_keg_t keg) UMA_HIDDEN;
void	uma__keg_fork_prepare(void) UMA_HIDDEN;
void	uma__keg_fork_parent(void) UMA_HIDDEN;
void	uma__keg_fork_child(void) UMA_HIDDEN;

#endif /* !_UMA_KEG_H_ */
