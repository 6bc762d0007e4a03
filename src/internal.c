/*
 * internal.c - uma's own zones, and the one door back up to them.
 *
 * Layer: the zone's back end.  Kegs, zone structs and per-CPU cache arrays
 * are items of the bootstrap zones "UMA Kegs", "UMA Zones" and "UMA
 * Caches" (a zone's caches: one struct uma_cache per CPU that can exist,
 * a size known only at start-up), which stand on static kegs and zones;
 * buckets (bucket.c) and off-page slab headers (keg.c) are items of
 * internal zones made here too.  The keg and slab layers below reach them
 * through uma__internal_alloc and uma__internal_free and no other way: the
 * allocator's only call from a lower layer to a higher one (see
 * internal.h).
 *
 * Internal zones have no per-CPU caches and no limit: their uz_cpu is the
 * shared array of closed caches, so any hit path that meets one misses.
 */
#include <string.h>
#include <sys/mman.h>

#include "import.h"
#include "internal.h"
#include "keg.h"
#include "zone_ctor.h"

static struct uma_keg kegs_keg, zones_keg, caches_keg;
static struct uma_zone kegs_zone, zones_zone, caches_zone;
static uma_cache_t closed_caches;

uma_zone_t
uma__kegs_zone(void)
{
	return (&kegs_zone);
}

uma_zone_t
uma__zones_zone(void)
{
	return (&zones_zone);
}

uma_zone_t
uma__caches_zone(void)
{
	return (&caches_zone);
}

uma_cache_t
uma__closed_caches(void)
{
	return (closed_caches);
}

/* A static keg and zone: they cannot come from the zones they make. */
static void
bootstrap_zone(uma_zone_t zone, uma_keg_t keg, const char *name,
    size_t size)
{
	memset(keg, 0, sizeof(*keg));
	keg->uk_id = uma__keg_id_alloc();
	uma__mutex_init(&keg->uk_lock);
	LIST_INIT(&keg->uk_part_slab);
	LIST_INIT(&keg->uk_free_slab);
	LIST_INIT(&keg->uk_full_slab);
	LIST_INIT(&keg->uk_zones);
	keg->uk_name = name;
	keg->uk_size = (uint32_t)size;
	keg->uk_align = UMA_CACHELINE - 1;
	keg->uk_rsize = (uint32_t)roundup2(size, UMA_CACHELINE);
	keg->uk_flags = UMA_ZFLAG_INTERNAL;
	uma__keg_layout(keg);
	LIST_INSERT_HEAD(&uma.ug_kegs, keg, uk_link);
	memset(zone, 0, sizeof(*zone));
	uma__zone_ctor(zone, name, keg, NULL, NULL, NULL, NULL,
	    UMA_ZFLAG_INTERNAL);
}

/*
 * The closed caches first (every zone without caches points at them),
 * with UMA_CACHE_GUARD closed ones before them for a thread whose rseq
 * area reads CPU -1 or -2; then the bootstrap zones.
 */
void
uma__internal_startup(void)
{
	size_t csize = (size_t)(uma.ug_ncpus + UMA_CACHE_GUARD) *
	    sizeof(struct uma_cache);
	uma_cache_t c;

	c = mmap(NULL, csize, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		uma__panic("uma: cannot map the closed caches");
	closed_caches = c + UMA_CACHE_GUARD;
	for (int i = 0; i < uma.ug_ncpus; i++)
		uma_lock_init(&closed_caches[i].uc_lock);
	bootstrap_zone(&kegs_zone, &kegs_keg, "UMA Kegs",
	    sizeof(struct uma_keg));
	bootstrap_zone(&zones_zone, &zones_keg, "UMA Zones",
	    sizeof(struct uma_zone));
	bootstrap_zone(&caches_zone, &caches_keg, "UMA Caches", csize);
}

/* See internal.h */
uma_zone_t
uma__internal_zcreate(const char *name, size_t size, int align,
    uint32_t flags)
{
	uma_zone_t zone;
	uma_keg_t keg;

	flags |= UMA_ZFLAG_INTERNAL;
	keg = uma__keg_create(name, size, NULL, NULL, align, flags);
	if (keg == NULL)
		return (NULL);
	zone = uma__internal_alloc(&zones_zone, M_NOWAIT);
	if (zone == NULL) {
		uma__keg_destroy(keg);
		return (NULL);
	}
	memset(zone, 0, sizeof(*zone));
	uma__zone_ctor(zone, name, keg, NULL, NULL, NULL, NULL, flags);
	return (zone);
}

/* See internal.h */
void *
uma__internal_alloc(uma_zone_t zone, int flags)
{
	void *item;
	int error;

	UMA_ASSERT(zone->uz_flags & UMA_ZFLAG_INTERNAL,
	    "uma: zone \"%s\" through the internal door", zone->uz_name);
	item = uma__zone_alloc_item(zone, flags | M_NOWAIT, &error);
	atomic_fetch_add_explicit(item != NULL ? &zone->uz_allocs :
	    &zone->uz_fails, 1, memory_order_relaxed);
	return (item);
}

/* See internal.h */
void
uma__internal_free(uma_zone_t zone, void *item)
{
	UMA_ASSERT(zone->uz_flags & UMA_ZFLAG_INTERNAL,
	    "uma: zone \"%s\" through the internal door", zone->uz_name);
	uma__zone_free_item(zone, item);
	atomic_fetch_add_explicit(&zone->uz_frees, 1, memory_order_relaxed);
}
