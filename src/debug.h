/*
 * debug.h - catching misuse: bad frees, writes after free (debug.c).
 *
 * Layer: beside the slabs; reads slab headers, kegs' shapes and the page
 * tags, changes nothing but the debug bitsets and the trash pattern.
 */
#ifndef _UMA_DEBUG_H_
#define	_UMA_DEBUG_H_

#include "uma_int.h"
#include "vm.h"

int	uma__zero_init(void *mem, int size, int flags) UMA_HIDDEN;
void	uma__misuse(uma_zone_t zone, const char *fmt, ...) UMA_HIDDEN
	    __attribute__((noreturn, format(printf, 2, 3)));
uma_slab_t uma__item_check(uma_zone_t zone, void *item) UMA_HIDDEN;
void	uma__trash_fill(uma_zone_t zone, void *item) UMA_HIDDEN;
void	uma__trash_check(uma_zone_t zone, void *item) UMA_HIDDEN;
void	uma__dbg_alloc(uma_zone_t zone, void *item) UMA_HIDDEN;
void	uma__dbg_free(uma_zone_t zone, void *item) UMA_HIDDEN;
/* uma__item_plausible for an item outside the arena (debug.c). */
bool	uma__item_plausible_outside(uma_zone_t zone, const void *item)
	    UMA_HIDDEN;

/*
 * Is `item` in a slab of this zone's keg?  Two loads; a false answer goes
 * to uma__item_check for the full diagnosis.  Always, for a cache zone.
 */
static inline bool
uma__item_plausible(uma_zone_t zone, const void *item)
{
	uma_keg_t keg = zone->uz_keg;
	uma_slab_t slab;

	if (__predict_false(!uma_vm_contains(item)))
		return (uma__item_plausible_outside(zone, item));
	/* The page's tag names its keg: no slab header to read. */
	if (__predict_true(keg->uk_id != 0))
		return (UMA_PAGETAG_KEG(uma_vm_pagetag_of(item)) == keg->uk_id);
	if (keg->uk_flags & UMA_ZFLAG_CACHE)
		return (true);
	slab = uma_vtoslab(item);
	return (__predict_true(slab != NULL && slab->us_keg == keg));
}

#endif /* !_UMA_DEBUG_H_ */
