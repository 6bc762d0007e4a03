/*
 * kmem.h - the two-tier memory report (Fuchsia's RFC-0011 for uma): the
 * records of the sysctl nodes vm.kmem_stats and vm.kmem_stats_extended,
 * shared by uma (the writer) and libmemstat (the reader).  Standard
 * headers only; native byte order.
 *
 * vm.kmem_stats, the cheap tier: one struct uma_kmem_stats, from counters
 * alone, O(zones), taking no lock an allocation's hit path takes.
 *
 * vm.kmem_stats_extended: one struct uma_kmem_stats_extended (the cheap
 * figures, taken in the same call, and what a walk of every cache and
 * slab list finds), then ukx_nzones records of ukx_zone_size bytes, one
 * struct uma_kmem_zone per zone in vm.zone_stats order.  It takes each
 * zone's locks in turn, never two kegs' at once.
 *
 * Every record starts with its version and size; a reader refuses a
 * version it does not know and a buffer shorter or longer than the sizes
 * say.  A new field is a new version.
 *
 * All figures are bytes.  The cheap parts (UMA_KMEM_PARTS) add up to
 * uks_committed exactly, by construction: uks_other is what the other
 * parts do not explain (negative, in two's complement, if counters moved
 * while they were read; 0 in a quiet process but for the pages of a keg
 * destroyed with items still out).
 */
#ifndef _UMA_KMEM_H_
#define	_UMA_KMEM_H_

#include <stdint.h>

#define	UMA_KMEM_STATS_VERSION	0x00000001
#define	UMA_KMEM_MAX_NAME	32

/*
 * The cheap tier, field by field: X(field, key, description).  `key` is
 * the JSON key and the Prometheus state label; the parts of committed are
 * in UMA_KMEM_PARTS, the rest beside them.
 */
#define	UMA_KMEM_PARTS(X)						\
	X(inuse_zones, "inuse_zones",					\
	    "items of uma zones held by callers, at item size")	\
	X(inuse_malloc, "inuse_malloc",					\
	    "malloc items held by callers, at size-class size")	\
	X(inuse_large, "inuse_large",					\
	    "malloc runs over 64 KiB held by callers, whole pages")	\
	X(inuse_contig, "inuse_contig",					\
	    "contigmalloc runs held by callers, whole pages")		\
	X(free_pcpu, "free_pcpu", "free items in per-CPU caches")	\
	X(free_buckets, "free_buckets",					\
	    "free items in the zones' bucket caches")			\
	X(free_kegs, "free_kegs", "free items in slabs")		\
	X(large_cache, "large_cache",					\
	    "freed runs kept for reuse: malloc's large runs, and freed " \
	    "pages not given back yet")					\
	X(metadata, "metadata",						\
	    "uma's own memory: zones, kegs, slab headers, buckets, per-CPU " \
	    "caches, malloc counters, the arena map and page tables")	\
	X(waste, "waste",						\
	    "slab bytes no item can use: alignment padding, slab tails") \
	X(other, "other",						\
	    "committed bytes the parts above do not explain (signed)")

#define	UMA_KMEM_FIELDS(X)						\
	X(reserved, "reserved", "address space reserved for the arena")	\
	X(committed, "committed",					\
	    "pages uma has touched and not given back, arena and tables") \
	X(arena_committed, "arena_committed",				\
	    "of committed, the pages of the arena")			\
	UMA_KMEM_PARTS(X)						\
	X(inuse, "inuse", "held by callers: the four inuse parts")	\
	X(rss, "rss", "the process's resident set (/proc/self/statm)")	\
	X(memguard, "memguard",						\
	    "of committed, MemGuard's: guarded objects' pages, its records")

struct uma_kmem_stats {
	uint32_t	uks_version;	/* UMA_KMEM_STATS_VERSION */
	uint32_t	uks_size;	/* sizeof(struct uma_kmem_stats) */
#define	UMA_KMEM_X(f, k, d)	uint64_t uks_##f;
	UMA_KMEM_FIELDS(UMA_KMEM_X)
#undef UMA_KMEM_X
};

/*
 * The extended tier.  "Reclaimable now" is what
 * uma_reclaim(UMA_RECLAIM_DRAIN_CPU) would give back to the OS, in pages,
 * split by what frees them (each split adds up to ukx_reclaimable):
 * wholly free slabs, the large-run cache, the zones' bucket caches and the
 * per-CPU caches (a slab whose free items sit in several goes to the last
 * of these to let go; uma's own pages freed with them, buckets and slab
 * headers, go with what freed them); and by age: "oldest" is what the
 * periodic trim would give back next (free slabs, bucket-cache items
 * beyond the working-set estimate, large runs unused for a period),
 * "newest" the rest.  Locked is free memory no reclaim returns (NOFREE
 * kegs, keg reserves); fragmentation the free items that stay in partly
 * used slabs after the reclaim.  Available = reclaimable + fragmentation
 * + locked: what uma can hand to callers without asking the OS for more.
 */
#define	UMA_KMEM_EXT_FIELDS(X)						\
	X(reclaimable, "reclaimable",					\
	    "what uma_reclaim(UMA_RECLAIM_DRAIN_CPU) gives back now")	\
	X(reclaim_free_slabs, "reclaim_free_slabs",			\
	    "of it, wholly free slabs")					\
	X(reclaim_large_cache, "reclaim_large_cache",			\
	    "of it, the large-run cache and freed pages kept")		\
	X(reclaim_buckets, "reclaim_buckets",				\
	    "of it, slabs freed by draining the bucket caches")	\
	X(reclaim_pcpu, "reclaim_pcpu",					\
	    "of it, slabs freed by draining the per-CPU caches")	\
	X(reclaim_oldest, "reclaim_oldest",				\
	    "of it, what the next periodic trim gives back")		\
	X(reclaim_newest, "reclaim_newest",				\
	    "of it, recently used memory")				\
	X(locked, "locked",						\
	    "free memory no reclaim returns: NOFREE kegs, reserves")	\
	X(fragmentation, "fragmentation",				\
	    "free items left in partly used slabs after the reclaim")	\
	X(available, "available",					\
	    "reclaimable + fragmentation + locked")			\
	X(slabs_full, "slabs_full", "slabs with no free item (count)")	\
	X(slabs_partial, "slabs_partial", "slabs partly used (count)")	\
	X(slabs_free, "slabs_free", "slabs wholly free (count)")

struct uma_kmem_stats_extended {
	uint32_t	ukx_version;	/* UMA_KMEM_STATS_VERSION */
	uint32_t	ukx_size;	/* sizeof(struct uma_kmem_stats_extended) */
	uint32_t	ukx_nzones;	/* zone records that follow */
	uint32_t	ukx_zone_size;	/* sizeof(struct uma_kmem_zone) */
	struct uma_kmem_stats ukx_stats;	/* the cheap tier */
#define	UMA_KMEM_X(f, k, d)	uint64_t ukx_##f;
	UMA_KMEM_EXT_FIELDS(UMA_KMEM_X)
#undef UMA_KMEM_X
};

/*
 * One zone of the extended tier.  Slab figures are its keg's, on the
 * keg's primary zone (a secondary zone shows 0 there and
 * UMA_KMEM_ZONE_SECONDARY); efficiency is the percentage of the keg's
 * pages that hold items in use, at item size.
 */
#define	UMA_KMEM_ZONE_SECONDARY	0x1	/* not the first zone of its keg */
#define	UMA_KMEM_ZONE_INTERNAL	0x2	/* uma's own (buckets, headers...) */
#define	UMA_KMEM_ZONE_NOFREE	0x4	/* its slabs never go back */

#define	UMA_KMEM_ZONE_FIELDS(X)						\
	X(size, "size", "item size")					\
	X(rsize, "rsize", "item size with alignment")			\
	X(ipers, "ipers", "items per slab")				\
	X(ppera, "ppera", "pages per slab")				\
	X(used, "used", "items held by callers")			\
	X(free, "free", "free items: caches, and the keg on a primary")	\
	X(pages, "pages", "pages of the keg")				\
	X(slabs_full, "slabs_full", "slabs with no free item")		\
	X(slabs_partial, "slabs_partial", "slabs partly used")		\
	X(slabs_free, "slabs_free", "slabs wholly free")		\
	X(efficiency, "efficiency", "percent of the pages in use")	\
	X(reclaimable, "reclaimable", "bytes a DRAIN_CPU reclaim frees")	\
	X(fragmentation, "fragmentation",				\
	    "free bytes left in partly used slabs after it")

struct uma_kmem_zone {
	char		ukz_name[UMA_KMEM_MAX_NAME];	/* NUL-terminated */
	uint32_t	ukz_flags;	/* UMA_KMEM_ZONE_* */
	uint32_t	_ukz_pad;
#define	UMA_KMEM_X(f, k, d)	uint64_t ukz_##f;
	UMA_KMEM_ZONE_FIELDS(UMA_KMEM_X)
#undef UMA_KMEM_X
};

_Static_assert(sizeof(struct uma_kmem_stats) == 8 + 8 * 17, "uks size");
_Static_assert(sizeof(struct uma_kmem_zone) == 40 + 8 * 13, "ukz size");

#endif /* !_UMA_KMEM_H_ */
