/*
 * zone.c - creating and destroying zones, and the per-zone settings.
 *
 * Layer: zone.  A zone's struct is an item of the internal "UMA Zones"
 * zone; its per-CPU caches (one struct uma_cache per CPU that can exist,
 * after UMA_CACHE_GUARD closed ones) an item of "UMA Caches", taken only
 * by zones that have caches of their own.  Internal and NOBUCKET zones
 * point uz_cpu at a shared array of closed caches, so the fast path needs
 * no test to send them to the slow path, and malloc's class zones are
 * made on caches in one run (uma__zcreate_at).  On a machine with many
 * CPUs the caches are most of a zone's size: those zones carry none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uma_int.h"

#define	UMA_ZONE_PUBLIC	(UMA_ZONE_UNMANAGED | UMA_ZONE_ZINIT |		\
	UMA_ZONE_NOTOUCH | UMA_ZONE_NOFREE | UMA_ZONE_VM |		\
	UMA_ZONE_NOBUCKET | UMA_ZONE_MAXBUCKET | UMA_ZONE_REFCNT |	\
	UMA_ZONE_CACHESPREAD)
#define	UMA_ITEM_MAX	((size_t)1 << 30)

/* Flags a secondary zone inherits from its keg. */
#define	UMA_ZONE_INHERIT (UMA_ZONE_NOTOUCH | UMA_ZONE_NOFREE |		\
	UMA_ZONE_VM | UMA_ZONE_REFCNT | UMA_ZFLAG_INTERNAL |		\
	UMA_ZFLAG_BUCKET)

/* Decide which work the fast paths must leave to the slow ones. */
static void
zone_set_fast(uma_zone_t zone)
{
	uint32_t fast = 0;
	uma_keg_t keg = zone->uz_keg;

	if (zone->uz_ctor != NULL)
		fast |= UZ_FAST_CTOR;
	if (zone->uz_dtor != NULL)
		fast |= UZ_FAST_DTOR;
	if (zone->uz_flags & (UMA_ZONE_NOBUCKET | UMA_ZFLAG_INTERNAL) ||
	    zone->uz_bucket_size == 0)
		fast |= UZ_FAST_NOCACHE;
	if (!uma.ug_rseq)
		fast |= UZ_FAST_LOCKED;
#if UMA_DEBUG > 1
	/*
	 * Trash only items whose "initialized" state is raw memory: no inits,
	 * uma allowed to touch them, and no other zone on the keg (its items
	 * reach this zone through the keg without being trashed).
	 */
	if (keg->uk_init == NULL && keg->uk_fini == NULL &&
	    zone->uz_init == NULL && zone->uz_fini == NULL &&
	    !(keg->uk_flags & (UMA_ZONE_NOTOUCH | UMA_ZFLAG_INTERNAL)) &&
	    (LIST_EMPTY(&keg->uk_zones) || (LIST_FIRST(&keg->uk_zones) ==
	    zone && LIST_NEXT(zone, uz_link) == NULL)))
		fast |= UZ_FAST_TRASH;
	/* The debug bitset wants to see every alloc and free. */
	if (!(keg->uk_flags & UMA_ZFLAG_INTERNAL))
		fast |= UZ_FAST_CTOR | UZ_FAST_DTOR;
#else
	(void)keg;
#endif
	atomic_store_explicit(&zone->uz_fast,
	    fast | (zone->uz_fast & UZ_FAST_SLEEPERS), memory_order_relaxed);
}

/* Give back the zone's own caches item, if it has one. */
static void
zone_free_caches(uma_zone_t zone)
{
	if (zone->uz_cpu_mem != NULL) {
		uma__zone_free_item(uma__caches_zone(), zone->uz_cpu_mem, NULL,
		    true);
		zone->uz_cpu_mem = NULL;
	}
}

/* Whether a zone created with `flags` has caches of its own. */
static bool
zone_has_caches(uint32_t flags)
{
	return (!(flags & (UMA_ZONE_NOBUCKET | UMA_ZFLAG_INTERNAL)));
}

/*
 * A zeroed zone struct, with per-CPU caches if `caches` (guards closed;
 * uma__zone_setup initializes the rest), or NULL.
 */
static uma_zone_t
zone_alloc_struct(bool caches)
{
	uma_zone_t zone;
	void *mem = NULL;

	if (caches) {
		mem = uma__zone_alloc_item(uma__caches_zone(), NULL, M_NOWAIT);
		if (mem == NULL)
			return (NULL);
	}
	zone = uma__zone_alloc_item(uma__zones_zone(), NULL, M_NOWAIT);
	if (zone == NULL) {
		if (mem != NULL)
			uma__zone_free_item(uma__caches_zone(), mem, NULL,
			    true);
		return (NULL);
	}
	memset(zone, 0, sizeof(*zone));
	if (mem != NULL) {
		memset(mem, 0, UMA_CACHE_GUARD * sizeof(struct uma_cache));
		zone->uz_cpu_mem = mem;
		zone->uz_cpu = (uma_cache_t)mem + UMA_CACHE_GUARD;
	}
	return (zone);
}

/* Fill in a zone on `keg`; links it at the head (primary) or the tail. */
void
uma__zone_setup(uma_zone_t zone, const char *name, uma_keg_t keg,
    uma_ctor ctor, uma_dtor dtor, uma_init zinit, uma_fini zfini,
    uint32_t flags)
{
	uma_zone_t last;

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
	zone->uz_bucket_max = UINT64_MAX;
	uma__limit_init(zone);
	if (!zone_has_caches(flags))
		zone->uz_cpu = uma__closed_caches();
	else {
		uma__bucket_select(zone);
		/* Caches given to uma__zcreate_at come zeroed (closed). */
		if (zone->uz_cpu_mem != NULL)
			uma__cache_init(zone);
	}
	zone_set_fast(zone);

	pthread_rwlock_wrlock(&uma.ug_lock);
	if (flags & UMA_ZONE_SECONDARY) {
		last = LIST_FIRST(&keg->uk_zones);
		while (LIST_NEXT(last, uz_link) != NULL)
			last = LIST_NEXT(last, uz_link);
		LIST_INSERT_AFTER(last, zone, uz_link);
	} else
		LIST_INSERT_HEAD(&keg->uk_zones, zone, uz_link);
	TAILQ_INSERT_TAIL(&uma.ug_zones, zone, uz_all);
	LIST_FOREACH(last, &keg->uk_zones, uz_link)
		zone_set_fast(last);
	if (flags & UMA_ZFLAG_INTERNAL)
		uma.ug_nzones_internal++;
	else
		uma.ug_nzones++;
	pthread_rwlock_unlock(&uma.ug_lock);
}

static bool
zone_args_valid(const char *name, size_t size, int align, uint32_t flags)
{
	if (name == NULL || size == 0 || size > UMA_ITEM_MAX)
		return (false);
	if (align < 0 || ((unsigned)align & ((unsigned)align + 1)) != 0 ||
	    (size_t)align >= UMA_PAGE_SIZE)
		return (false);
	return ((flags & ~UMA_ZONE_PUBLIC) == 0);
}

/* uma_zcreate, on per-CPU caches of its own or on `caches`. */
static uma_zone_t
zone_create(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
    uma_init uminit, uma_fini fini, int align, uint32_t flags,
    uma_cache_t caches)
{
	uma_zone_t zone;
	uma_keg_t keg;

	uma_ensure_started();
	if (!zone_args_valid(name, size, align, flags)) {
		errno = EINVAL;
		return (NULL);
	}
	keg = uma__keg_create(name, size, uminit, fini, align, flags);
	if (keg == NULL)
		goto nomem;
	zone = zone_alloc_struct(caches == NULL && zone_has_caches(flags));
	if (zone == NULL) {
		uma__keg_destroy(keg);
		goto nomem;
	}
	if (caches != NULL)
		zone->uz_cpu = caches;
	uma__zone_setup(zone, name, keg, ctor, dtor, NULL, NULL, flags);
	/*
	 * The trim thread may be due (again after a fork); not from malloc's
	 * class zones, made under a lock that pthread_create's own malloc
	 * would take again.
	 */
	if (caches == NULL)
		uma_threads_poll();
	return (zone);
nomem:
	errno = ENOMEM;
	return (NULL);
}

/* See uma.h */
uma_zone_t
uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
    uma_init uminit, uma_fini fini, int align, uint32_t flags)
{
	return (zone_create(name, size, ctor, dtor, uminit, fini, align, flags,
	    NULL));
}

/*
 * A plain zone whose per-CPU caches are at `caches`: zeroed memory for
 * uma.ug_ncpus caches, after UMA_CACHE_GUARD zeroed ones.  A caller that
 * keeps the caches of many zones at a fixed stride computes a zone's
 * caches instead of loading them (malloc's free()).  Zeroed caches are
 * closed, so the zone opens them one CPU at a time as it uses them: the
 * caches of a CPU that never allocates from the zone are never touched.
 */
uma_zone_t
uma__zcreate_at(const char *name, size_t size, int align, uma_cache_t caches)
{
	return (zone_create(name, size, NULL, NULL, NULL, NULL, align, 0,
	    caches));
}

/* An internal zone: no caches, no statistics of users; never destroyed. */
uma_zone_t
uma__zcreate_internal(const char *name, size_t size, int align,
    uint32_t flags)
{
	uma_zone_t zone;
	uma_keg_t keg;

	flags |= UMA_ZFLAG_INTERNAL;
	keg = uma__keg_create(name, size, NULL, NULL, align, flags);
	if (keg == NULL)
		return (NULL);
	zone = zone_alloc_struct(false);
	if (zone == NULL) {
		uma__keg_destroy(keg);
		return (NULL);
	}
	uma__zone_setup(zone, name, keg, NULL, NULL, NULL, NULL, flags);
	return (zone);
}

/* See uma.h */
uma_zone_t
uma_zsecond_create(const char *name, uma_ctor ctor, uma_dtor dtor,
    uma_init zinit, uma_fini zfini, uma_zone_t primary)
{
	uma_zone_t zone;
	uint32_t flags;

	if (name == NULL || primary == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	flags = (primary->uz_keg->uk_flags & UMA_ZONE_INHERIT) |
	    (primary->uz_flags & (UMA_ZONE_NOBUCKET | UMA_ZONE_MAXBUCKET |
	    UMA_ZONE_UNMANAGED)) | UMA_ZONE_SECONDARY;
	zone = zone_alloc_struct(zone_has_caches(flags));
	if (zone == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	uma__zone_setup(zone, name, primary->uz_keg, ctor, dtor, zinit,
	    zfini, flags);
	return (zone);
}

/* See uma.h */
void
uma_zdestroy(uma_zone_t zone)
{
	struct uma__zone_stat zs;
	uma_keg_t keg = zone->uz_keg;
	bool last;

	pthread_rwlock_wrlock(&uma.ug_lock);
	LIST_REMOVE(zone, uz_link);
	TAILQ_REMOVE(&uma.ug_zones, zone, uz_all);
	uma.ug_nzones--;
	last = LIST_EMPTY(&keg->uk_zones);
	pthread_rwlock_unlock(&uma.ug_lock);

	uma__cache_drain(zone);
	uma__bucket_cache_reclaim(zone, false);
	uma__zone_stat(zone, &zs, NULL, 0);
	if (zs.zs_allocs != zs.zs_frees)
		fprintf(stderr, "uma: zone \"%s\" destroyed with %jd items "
		    "still allocated\n", zone->uz_name,
		    (intmax_t)(zs.zs_allocs - zs.zs_frees));
	if (last)
		uma__keg_destroy(keg);
	uma__limit_fini(zone);
	pthread_mutex_destroy(&zone->uz_lock);
	zone_free_caches(zone);
	uma__zone_free_item(uma__zones_zone(), zone, NULL, true);
}

/* The zone init/fini and the keg init/fini may change only while cold. */
static int
zone_set_cold(uma_zone_t zone, void **fieldp, void *fn, bool keg)
{
	int error = 0;

	pthread_mutex_lock(&zone->uz_keg->uk_lock);
	if (atomic_load(&zone->uz_used) || (keg && zone->uz_keg->uk_pages != 0))
		error = EBUSY;
	else
		*fieldp = fn;
	pthread_mutex_unlock(&zone->uz_keg->uk_lock);
	if (error == 0)
		zone_set_fast(zone);
	return (error);
}

/* See uma.h */
int
uma_zone_set_init(uma_zone_t zone, uma_init uminit)
{
	return (zone_set_cold(zone, (void **)&zone->uz_keg->uk_init,
	    (void *)uminit, true));
}

/* See uma.h */
int
uma_zone_set_fini(uma_zone_t zone, uma_fini fini)
{
	return (zone_set_cold(zone, (void **)&zone->uz_keg->uk_fini,
	    (void *)fini, true));
}

/* See uma.h */
int
uma_zone_set_zinit(uma_zone_t zone, uma_init zinit)
{
	return (zone_set_cold(zone, (void **)&zone->uz_init, (void *)zinit, false));
}

/* See uma.h */
int
uma_zone_set_zfini(uma_zone_t zone, uma_fini zfini)
{
	return (zone_set_cold(zone, (void **)&zone->uz_fini, (void *)zfini, false));
}

/* See uma.h */
void
uma_zone_reserve(uma_zone_t zone, int nitems)
{
	uma_keg_t keg = zone->uz_keg;

	pthread_mutex_lock(&keg->uk_lock);
	keg->uk_reserve = nitems > 0 ? (uint32_t)nitems : 0;
	pthread_mutex_unlock(&keg->uk_lock);
}

/* See uma.h */
void
uma_prealloc(uma_zone_t zone, int nitems)
{
	uma_keg_t keg = zone->uz_keg;

	if (nitems > 0)
		uma__keg_prealloc(keg, howmany((uint32_t)nitems,
		    keg->uk_ipers));
}

/* See uma.h */
size_t
uma_zone_memory(uma_zone_t zone)
{
	return ((size_t)atomic_load_explicit(&zone->uz_keg->uk_pages,
	    memory_order_relaxed) * UMA_PAGE_SIZE);
}

/* See uma.h */
const char *
uma_zone_name(uma_zone_t zone)
{
	return (zone->uz_name);
}

/* See uma.h */
uint32_t *
uma_find_refcnt(uma_zone_t zone, void *item)
{
	uma_keg_t keg = zone->uz_keg;
	uma_slab_t slab;

	if (!(keg->uk_flags & UMA_ZONE_REFCNT))
		return (NULL);
	slab = uma__item_check(zone, item);
	return (uma__slab_refcnt(keg, slab,
	    uma__slab_item_index(keg, slab, item)));
}

/* Recompute uz_fast after a change of the sleepers bit or the callbacks. */
void
uma__zone_set_fast(uma_zone_t zone)
{
	zone_set_fast(zone);
}
