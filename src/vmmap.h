/*
 * vmmap.h - the first-fit address-space map (internal).
 *
 * A vmmap manages one range [start, end) of virtual addresses, the part of
 * uma's arena mapped so far (its end moves as the arena grows or gives its
 * top back: vmmap_set_end), and hands out page-granular regions of it: the
 * page layer (vm.c) carves slabs from it and contigmalloc carves aligned,
 * boundary-respecting runs; a large run may grow or shrink in place
 * (vmmap_resize).  The map never touches the memory it manages; it only
 * does the bookkeeping.
 *
 * The allocated regions are the nodes of an AVL tree ordered by address
 * (FreeBSD's vm_map used a splay tree from 2007 to 2019; an AVL tree gives
 * the same augmented search with a worst-case bound and read-only lookups).
 * Each node carries
 *	adj_free = start of the next entry (or the arena end) - end of this one
 *	max_free = max(adj_free over the node's subtree)
 * so the lowest gap of at least `len` bytes is found by one descent.  A
 * sentinel entry of length 0 at `start` owns the gap before the first real
 * entry, so every gap is some node's adj_free.
 *
 * Locking is the caller's business.  The map never calls malloc(3): it may
 * run underneath a malloc replacement, so its nodes come from a private pool
 * of mmap'd chunks that vmmap_fini unmaps.
 */
#ifndef _UMA_VMMAP_H_
#define	_UMA_VMMAP_H_

#include <stddef.h>
#include <stdint.h>

struct vmmap_entry;		/* a tree node, private to vmmap.c */
struct vmmap_chunk;		/* a 64 KiB slab of nodes, private to vmmap.c */

/*
 * One map.  Invariant: vmm_count real entries (the sentinel excluded) cover
 * vmm_allocated bytes, and vmm_allocated + sum(adj_free) == end - start.
 */
struct vmmap {
	struct vmmap_entry	*vmm_root;	/* AVL root; never NULL once inited */
	struct vmmap_entry	*vmm_freenodes;	/* node pool free list */
	struct vmmap_chunk	*vmm_chunks;	/* mmap'd node chunks, for fini */
	uintptr_t		 vmm_start;	/* arena, page aligned */
	uintptr_t		 vmm_end;
	size_t			 vmm_count;	/* entries, sentinel excluded */
	size_t			 vmm_allocated;	/* bytes in entries */
};

/*
 * Make `map` manage [start, end), all free.
 * Returns 0, EINVAL if start or end is not page aligned or start >= end,
 * ENOMEM if the first node chunk cannot be mapped.
 */
int	vmmap_init(struct vmmap *map, uintptr_t start, uintptr_t end);

/* Forget every entry and unmap the node pool.  The map may be inited again. */
void	vmmap_fini(struct vmmap *map);

/*
 * Find the lowest address a such that
 *	[a, a + len) lies inside [low, high), inside the arena and in free space,
 *	a % align == 0 (align a power of 2; 0 or anything below a page means
 *	    a page),
 *	[a, a + len) does not cross a multiple of `boundary` (a power of 2, or
 *	    0 for none),
 * mark [a, a + len) allocated and store a in *addrp.
 *
 * Returns 0; ENOMEM if no address qualifies; EAGAIN if none of the map's
 * node chunks has room and no new one could be mapped (an address-space
 * or data limit: the caller may give some of the arena back and retry);
 * EINVAL for bad arguments: len 0 or not a page multiple, align or boundary
 * not a power of 2, boundary nonzero and below len, low >= high, addrp NULL.
 * On error the map is unchanged.
 *
 * Cost: the common call (align a page, boundary 0, [low, high) covering the
 * arena) is one O(log n) descent.  Constrained calls walk the gaps of at
 * least len bytes in address order, pruning subtrees whose max_free < len
 * or which lie outside [low, high): O(log n) per candidate gap examined.
 */
int	vmmap_alloc(struct vmmap *map, size_t len, size_t align, uintptr_t low,
	    uintptr_t high, size_t boundary, uintptr_t *addrp);

/*
 * Free [addr, addr + len), which must be exactly a region vmmap_alloc
 * returned.  Returns 0, or EINVAL (map unchanged) if there is no such entry.
 */
int	vmmap_free(struct vmmap *map, uintptr_t addr, size_t len);

/*
 * Split the region [addr, addr + len) that vmmap_alloc returned into
 * [addr, addr + at) and [addr + at, addr + len), each then freed on its
 * own; no page changes hands.  Returns 0, EINVAL (no such region, or `at`
 * not a page multiple strictly inside it) or EAGAIN (no node), the map
 * unchanged on error.
 */
int	vmmap_split(struct vmmap *map, uintptr_t addr, size_t len, size_t at);

/*
 * The reverse of vmmap_split: make the adjacent regions [addr, addr + len)
 * and [addr + len, addr + len + len2) one.  Returns 0 or EINVAL (either
 * region missing), the map unchanged on error.
 */
int	vmmap_merge(struct vmmap *map, uintptr_t addr, size_t len, size_t len2);

/*
 * Make the region [addr, addr + len) that vmmap_alloc returned
 * [addr, addr + newlen) in place: a shrink gives the tail back, a growth
 * takes the free space right after the region.  Returns 0, EINVAL (no
 * such region, or a length 0 or not a page multiple) or ENOMEM (the gap
 * after it is smaller than newlen - len), the map unchanged on error.
 */
int	vmmap_resize(struct vmmap *map, uintptr_t addr, size_t len,
	    size_t newlen);

/*
 * Move the end of the managed range to `end`: the arena grew or gave its
 * top back.  Returns 0, EINVAL (end not page aligned, or not above the
 * start) or EBUSY (an entry lies above end), the map unchanged on error.
 */
int	vmmap_set_end(struct vmmap *map, uintptr_t end);

/* The free bytes between the last entry (or the start) and the end. */
size_t	vmmap_tail_free(const struct vmmap *map);

/* Entries allocated, bytes allocated, and the largest free gap in bytes. */
size_t	vmmap_count(const struct vmmap *map);
size_t	vmmap_allocated(const struct vmmap *map);
size_t	vmmap_largest_free(const struct vmmap *map);

/* Bytes of the node pool's pages that nodes were ever carved from. */
size_t	vmmap_node_bytes(const struct vmmap *map);

/*
 * The validity walker: 1 if ordering, page alignment, adj_free, max_free,
 * AVL heights and balance, the sentinel and the counters all hold, else 0.
 * O(n); for tests and debug builds.
 */
int	vmmap_is_valid(const struct vmmap *map);

#endif /* !_UMA_VMMAP_H_ */
