/*
 * kmem.h - the kmem report (internal): the hooks through which the layers
 * say what their pages are for, and what kmem.c and kmem_walk.c share.
 *
 * Slab pages are counted by their kegs (uk_pages).  Every other page uma
 * takes is counted here, once per purpose, by the code that takes or
 * gives it back: a live large run or contigmalloc run, and uma's own runs
 * of the arena (malloc's per-CPU class caches, type counters).  These are
 * the only page sources besides slabs (vm.c); when every page goes
 * through struct uma__backend the calls move there, tagged by purpose.
 */
#ifndef _UMA_KMEM_INT_H_
#define	_UMA_KMEM_INT_H_

#include <stdbool.h>
#include <stdint.h>

#include <uma/kmem.h>

#include "uma_int.h"

/* Bytes of arena runs, by purpose; atomics, read without a lock. */
struct uma__kmem_runs {
	_Atomic uint64_t kr_large;	/* live malloc runs over 64 KiB */
	_Atomic uint64_t kr_contig;	/* live contigmalloc runs */
	_Atomic uint64_t kr_meta;	/* uma's own runs */
};
extern struct uma__kmem_runs uma__kmem_runs UMA_HIDDEN;

/* A large (or contigmalloc) run of `bytes` becomes live, or stops being. */
static inline void
uma__kmem_run_live(bool contig, int64_t bytes)
{
	atomic_fetch_add_explicit(contig ? &uma__kmem_runs.kr_contig :
	    &uma__kmem_runs.kr_large, (uint64_t)bytes, memory_order_relaxed);
}

/* A run of the arena for uma's own use, zero-filled: 0 or an errno. */
int	uma__meta_run_alloc(size_t len, void **memp) UMA_HIDDEN;
void	uma__meta_run_free(void *mem, size_t len) UMA_HIDDEN;

/*
 * Zone `holder` keeps one item of zone `held` with each of its free items
 * that is cached (per-CPU or in buckets), found by held_item(item): the
 * mbuf packet zone's cached packets keep their clusters.  Those clusters
 * are free memory, not in use; a reclaim gives them back with the packet.
 */
void	uma__kmem_hold(uma_zone_t holder, uma_zone_t held,
	    void *(*held_item)(void *item)) UMA_HIDDEN;

/* The holding of `zone`, if it is a holder (zone NULL: none). */
struct uma__kmem_holding {
	uma_zone_t	 kh_holder;
	uma_zone_t	 kh_held;
	void		*(*kh_item)(void *item);
};
const struct uma__kmem_holding *uma__kmem_holding(uma_zone_t zone)
	    UMA_HIDDEN;

/*
 * The cheap tier into *uks (kmem.c).  Takes uma_lock for reading and the
 * page layer's map lock for an instant; no cache, zone or keg lock.
 */
void	uma__kmem_stats(struct uma_kmem_stats *uks) UMA_HIDDEN;

/*
 * The extended tier (kmem_walk.c): the whole record, header and zone
 * records, in a fresh mapping of *lenp bytes (munmap it), or NULL with
 * *errorp set (no memory for it or for the walk's scratch tables).
 */
void	*uma__kmem_stats_extended(size_t *lenp, int *errorp) UMA_HIDDEN;

#endif /* !_UMA_KMEM_INT_H_ */
