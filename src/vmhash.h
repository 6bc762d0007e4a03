/*
 * vmhash.h - slabs on pages outside the arena (vmhash.c): page -> slab.
 *
 * Layer: pages, beside vm.c.  A keg with a page allocator of its own
 * (uma_zone_set_allocf) gets pages anywhere: huge pages, shared memory,
 * memory a device can reach.  The arena's tables cannot name them, so
 * each such slab's pages are entered here.  Lookups are for frees and
 * checks, not for any hit path; a program without such kegs pays one
 * load of a count.
 */
#ifndef _UMA_VMHASH_H_
#define	_UMA_VMHASH_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define	UMA_VMHASH_HIDDEN	__attribute__((visibility("hidden")))

/* Pages entered; 0 while no keg has pages outside the arena. */
extern _Atomic size_t uma_vmhash_pages UMA_VMHASH_HIDDEN;

/* Enter every page of [mem, mem + npages pages) as `slab`'s: 0 or ENOMEM. */
int	uma__vmhash_insert(void *mem, size_t npages, void *slab)
	    UMA_VMHASH_HIDDEN;
void	uma__vmhash_remove(void *mem, size_t npages) UMA_VMHASH_HIDDEN;
void	*uma__vmhash_lookup(const void *p) UMA_VMHASH_HIDDEN;
void	uma__vmhash_fork_prepare(void) UMA_VMHASH_HIDDEN;
void	uma__vmhash_fork_parent(void) UMA_VMHASH_HIDDEN;
void	uma__vmhash_fork_child(void) UMA_VMHASH_HIDDEN;

/* The slab that holds p, in the arena or out of it, or NULL. */
static inline void *
uma_page_slab(const void *p)
{
	if (__builtin_expect(uma_vm_contains(p), 1))
		return (uma_vtoslab(p));
	if (__atomic_load_n(&uma_vmhash_pages, __ATOMIC_RELAXED) == 0)
		return (NULL);
	return (uma__vmhash_lookup(p));
}

#endif /* !_UMA_VMHASH_H_ */
