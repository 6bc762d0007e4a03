/*
 * zone.c - creating and destroying zones, and the per-zone settings.
 *
 * Layer: zone.  A zone's struct is an item of the internal "UMA Zones"
 * zone; its per-CPU caches (one struct uma_cache per CPU that can exist,
 * after UMA_CACHE_GUARD closed ones) an item of "UMA Caches", taken only
 * by zones that have caches of their own.  Internal and NOBUCKET zones
 * point uz_cpu at a shared array of closed caches, so the fast path needs
 * no test to send them to the slow path, and malloc's class zones are
 * made on caches in one run (uma__zcreate_class).  On a machine with many
 * CPUs the caches are most of a zone's size: those zones carry none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bucket.h"
#include "cache.h"
#include "debug.h"
#include "init.h"
#include "internal.h"
#include "keg.h"
#include "limit.h"
#include "rseq.h"
#include "slab.h"
#include "stats.h"
#include "threads.h"
#include "zone.h"
#include "zone_ctor.h"

#define	UMA_ZONE_PUBLIC	(UMA_ZONE_UNMANAGED | UMA_ZONE_ZINIT |		\
	UMA_ZONE_NOTOUCH | UMA_ZONE_NOFREE | UMA_ZONE_VM |		\
	UMA_ZONE_NOBUCKET | UMA_ZONE_MAXBUCKET | UMA_ZONE_REFCNT |	\
	UMA_ZONE_CACHESPREAD | UMA_ZONE_NODUMP | UMA_ZONE_PCPU)
#define	UMA_ITEM_MAX	((size_t)1 << 30)

/* Flags a secondary zone inherits from its keg. */
#define	UMA_ZONE_INHERIT (UMA_ZONE_NOTOUCH | UMA_ZONE_NOFREE |		\
	UMA_ZONE_VM | UMA_ZONE_REFCNT | UMA_ZONE_NODUMP | UMA_ZONE_PCPU | \
	UMA_ZFLAG_INTERNAL | UMA_ZFLAG_BUCKET)

/* Give back the zone's own caches item, if it has one. */
static void
zone_free_caches(uma_zone_t zone)
{
	if (zone->uz_cpu_mem != NULL) {
		uma__internal_free(uma__caches_zone(), zone->uz_cpu_mem);
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
 * A zeroed zone struct with per-CPU caches if `caches` (guards closed), or
 * NULL.
 */
static uma_zone_t
zone_alloc_struct(bool caches)
{
	uma_zone_t zone;
	void *mem = NULL;

	if (caches) {
		mem = uma__internal_alloc(uma__caches_zone(), M_NOWAIT);
		if (mem == NULL)
			return (NULL);
	}
	zone = uma__internal_alloc(uma__zones_zone(), M_NOWAIT);
	if (zone == NULL) {
		if (mem != NULL)
			uma__internal_free(uma__caches_zone(), mem);
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

/*
 * A user's zone on `keg`: its caches and bucket sizes, then the struct
 * (zone_ctor.c).  Caches given to uma__zcreate_class come zeroed (closed);
 * the zone's own are initialized here.
 */
static void
zone_setup(uma_zone_t zone, const char *name, uma_keg_t keg, uma_ctor ctor,
    uma_dtor dtor, uma_init zinit, uma_fini zfini, uint32_t flags)
{
	zone->uz_keg = keg;
	zone->uz_flags = flags;
	zone->uz_bucket_max = UINT64_MAX;
	if (zone_has_caches(flags)) {
		uma__bucket_select(zone);
		if (zone->uz_cpu_mem != NULL)
			uma__cache_init(zone);
	} else
		zone->uz_cpu = NULL;
	uma__zone_ctor(zone, name, keg, ctor, dtor, zinit, zfini, flags);
}

static bool
zone_args_valid(const char *name, size_t size, int align, uint32_t flags)
{
	if (name == NULL || size == 0 || size > UMA_ITEM_MAX)
		return (false);
	if (align < 0 || ((unsigned)align & ((unsigned)align + 1)) != 0 ||
	    (size_t)align >= UMA_PAGE_SIZE)
		return (false);
	/* Per-CPU items: a page each at most, at a fixed stride. */
	if (flags & UMA_ZONE_PCPU && (size > UMA_PCPU_ALLOC_SIZE ||
	    flags & UMA_ZONE_CACHESPREAD))
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
	if (!zone_args_valid(name, size, align, flags & ~UMA_ZFLAG_CLASS)) {
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
	zone_setup(zone, name, keg, ctor, dtor, NULL, NULL, flags);
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
 * See zone.h.  A zone whose per-CPU caches are at `caches`: zeroed memory for
 * uma.ug_ncpus caches, after UMA_CACHE_GUARD zeroed ones.  A caller that
 * keeps the caches of many zones at a fixed stride computes a zone's
 * caches instead of loading them (malloc's free()).  Zeroed caches are
 * closed, so the zone opens them one CPU at a time as it uses them: the
 * caches of a CPU that never allocates from the zone are never touched.
 */
uma_zone_t
uma__zcreate_class(const char *name, size_t size, uma_cache_t caches,
    uint8_t cls, uint32_t bucket_mult, uint32_t bucket_bytes,
    uint64_t cache_items)
{
	uma_zone_t zone;

	zone = zone_create(name, size, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR,
	    UMA_ZFLAG_CLASS, caches);
	if (zone == NULL)
		return (NULL);
	/* Before its first allocation: no slab is tagged yet. */
	zone->uz_keg->uk_slabflags = cls;
	uma__bucket_scale(zone, bucket_mult);
	uma__bucket_reach(zone, bucket_bytes);
	uma__bucket_cache_max(zone, cache_items);
	return (zone);
}

#define	UMA_ZCACHE_FLAGS (UMA_ZONE_NOBUCKET | UMA_ZONE_MAXBUCKET |	\
	UMA_ZONE_UNMANAGED)

/*
 * See uma.h.  The zone stands on a keg that only gives the item's shape
 * (size, bucket choice, statistics) and is on no list of kegs: no slab is
 * ever made, no reclaim walks it.
 */
uma_zone_t
uma_zcache_create(const char *name, int size, uma_ctor ctor, uma_dtor dtor,
    uma_init zinit, uma_fini zfini, uma_import zimport, uma_release zrelease,
    void *arg, int flags)
{
	uint32_t zflags = (uint32_t)flags | UMA_ZFLAG_CACHE;
	uma_zone_t zone;
	uma_keg_t keg;

	uma_ensure_started();
	if (zimport == NULL || zrelease == NULL || size <= 0 ||
	    (flags & ~UMA_ZCACHE_FLAGS) != 0 ||
	    !zone_args_valid(name, (size_t)size, UMA_ALIGN_PTR, 0)) {
		errno = EINVAL;
		return (NULL);
	}
	keg = uma__keg_create(name, (size_t)size, NULL, NULL, UMA_ALIGN_PTR,
	    zflags);
	if (keg == NULL)
		goto nomem;
	zone = zone_alloc_struct(zone_has_caches(zflags));
	if (zone == NULL) {
		uma__keg_destroy(keg);
		goto nomem;
	}
	zone->uz_import = zimport;
	zone->uz_release = zrelease;
	zone->uz_arg = arg;
	zone_setup(zone, name, keg, ctor, dtor, zinit, zfini, zflags);
	uma_threads_poll();
	return (zone);
nomem:
	errno = ENOMEM;
	return (NULL);
}

/* See uma.h */
uma_zone_t
uma_zsecond_create(const char *name, uma_ctor ctor, uma_dtor dtor,
    uma_init zinit, uma_fini zfini, uma_zone_t primary)
{
	uma_zone_t zone;
	uint32_t flags;

	if (name == NULL || primary == NULL ||
	    primary->uz_flags & UMA_ZFLAG_CACHE) {
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
	zone_setup(zone, name, primary->uz_keg, ctor, dtor, zinit, zfini,
	    flags);
	return (zone);
}

/* See uma.h */
void
uma_zdestroy(uma_zone_t zone)
{
	struct uma__zone_stat zs;
	uma_keg_t keg = zone->uz_keg;
	bool last;

	last = uma__zone_dtor(zone);
	uma__cache_drain(zone);
	uma__bucket_cache_reclaim(zone, false);
	uma__zone_stat(zone, &zs, NULL, 0);
	/* Drained: what the limit counts is what users hold. */
	UMA_ASSERT(zs.zs_cpu_free == 0 && zs.zs_zone_free == 0 &&
	    zs.zs_items == zs.zs_allocs - zs.zs_frees,
	    "uma: zone \"%s\" destroyed: %ju items counted, %ju held, "
	    "%ju cached", zone->uz_name, (uintmax_t)zs.zs_items,
	    (uintmax_t)(zs.zs_allocs - zs.zs_frees),
	    (uintmax_t)(zs.zs_cpu_free + zs.zs_zone_free));
	if (zs.zs_allocs != zs.zs_frees)
		fprintf(stderr, "uma: zone \"%s\" destroyed with %jd items "
		    "still allocated\n", zone->uz_name,
		    (intmax_t)(zs.zs_allocs - zs.zs_frees));
	if (last)
		uma__keg_destroy(keg);
	uma__limit_fini(zone);
	pthread_mutex_destroy(&zone->uz_lock);
	zone_free_caches(zone);
	uma__internal_free(uma__zones_zone(), zone);
}

/* The zone init/fini and the keg init/fini may change only while cold. */
static int
zone_set_cold(uma_zone_t zone, void **fieldp, void *fn, bool keg)
{
	int error = 0;

	if (keg && zone->uz_flags & UMA_ZFLAG_CACHE)
		return (EINVAL);
	pthread_mutex_lock(&zone->uz_keg->uk_lock);
	if (atomic_load(&zone->uz_used) || (keg && zone->uz_keg->uk_pages != 0))
		error = EBUSY;
	else
		*fieldp = fn;
	pthread_mutex_unlock(&zone->uz_keg->uk_lock);
	if (error == 0)
		uma__zone_set_gate(zone);
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

/*
 * The keg's page allocator may change only while the keg has no page: its
 * slabs' pages are entered in the arena's tables or in the hash
 * (vmhash.c), and go back to where they came from.  Foreign pages carry
 * no tag: the keg's id goes (its items are checked through their slabs),
 * and so does the debug trash of its zones (the pages are not zeroed).
 */
static int
keg_set_pages(uma_zone_t zone, uma_alloc allocf, uma_freef freef,
    bool set_allocf)
{
	uma_keg_t keg = zone->uz_keg;
	uma_zone_t z;
	int error = 0;

	if (zone->uz_flags & (UMA_ZFLAG_CACHE | UMA_ZFLAG_INTERNAL |
	    UMA_ZFLAG_CLASS) || keg->uk_flags & UMA_ZONE_PCPU)
		return (EINVAL);
	pthread_mutex_lock(&keg->uk_lock);
	if (keg->uk_pages != 0 || atomic_load(&zone->uz_used))
		error = EBUSY;
	else if (set_allocf) {
		keg->uk_allocf = allocf;
		if (allocf != NULL) {
			keg->uk_flags |= UMA_ZFLAG_FOREIGN;
			keg->uk_id = 0;
		} else {
			keg->uk_flags &= ~UMA_ZFLAG_FOREIGN;
			keg->uk_id = uma__keg_id_alloc();
		}
	} else
		keg->uk_freef = freef;
	pthread_mutex_unlock(&keg->uk_lock);
	if (error == 0 && set_allocf) {
		pthread_rwlock_rdlock(&uma.ug_lock);
		LIST_FOREACH(z, &keg->uk_zones, uz_link)
			uma__zone_set_gate(z);
		pthread_rwlock_unlock(&uma.ug_lock);
	}
	return (error);
}

/* See uma.h */
int
uma_zone_set_allocf(uma_zone_t zone, uma_alloc allocf)
{
	return (keg_set_pages(zone, allocf, NULL, true));
}

/* See uma.h */
int
uma_zone_set_freef(uma_zone_t zone, uma_freef freef)
{
	return (keg_set_pages(zone, NULL, freef, false));
}

/* See uma.h */
void
uma_zone_reserve(uma_zone_t zone, int nitems)
{
	uma_keg_t keg = zone->uz_keg;

	if (zone->uz_flags & UMA_ZFLAG_CACHE)
		return;
	pthread_mutex_lock(&keg->uk_lock);
	keg->uk_reserve = nitems > 0 ? (uint32_t)nitems : 0;
	pthread_mutex_unlock(&keg->uk_lock);
}

/* See uma.h */
void
uma_prealloc(uma_zone_t zone, int nitems)
{
	uma_keg_t keg = zone->uz_keg;

	if (nitems > 0 && !(zone->uz_flags & UMA_ZFLAG_CACHE))
		uma__keg_prealloc(keg, howmany((uint32_t)nitems,
		    keg->uk_ipers));
}

/* See uma.h */
size_t
uma_zone_memory(uma_zone_t zone)
{
	struct uma__zone_stat zs;

	if (zone->uz_flags & UMA_ZFLAG_CACHE) {
		uma__zone_stat(zone, &zs, NULL, 0);
		return ((size_t)(zs.zs_cpu_free + zs.zs_zone_free) *
		    zone->uz_size);
	}
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

/* ---- the limit (limit.c counts; zalloc.c sleeps) -------------------- */

/*
 * New bucket sizes for the zone: uma's choice for its item size, capped
 * at `bsize` items per bucket, and at most `cached` items in its bucket
 * cache.  The caches go back to the keg first: buckets of the old size
 * would otherwise hold more than the cap, and with a size of 0 (no
 * caching: UZ_GATE_NOCACHE) nothing would ever empty them.  Zones without
 * caches, and malloc's class zones, whose gate may not close, keep theirs.
 */
static void
zone_cache_resize(uma_zone_t zone, uint32_t bsize, uint64_t cached)
{
	if (zone->uz_flags & (UMA_ZONE_NOBUCKET | UMA_ZFLAG_INTERNAL))
		return;
	if (zone->uz_flags & UMA_ZFLAG_CLASS && bsize == 0)
		bsize = 1;
	uma__cache_drain(zone);
	uma__bucket_cache_reclaim(zone, false);
	pthread_mutex_lock(&zone->uz_lock);
	uma__bucket_select(zone);
	if (bsize < zone->uz_bucket_size_max)
		zone->uz_bucket_size_max = bsize;
	if (zone->uz_bucket_size > zone->uz_bucket_size_max)
		zone->uz_bucket_size = zone->uz_bucket_size_max;
	if (zone->uz_bucket_size_min > zone->uz_bucket_size_max)
		zone->uz_bucket_size_min = zone->uz_bucket_size_max;
	zone->uz_bucket_max = cached;
	pthread_mutex_unlock(&zone->uz_lock);
	uma__zone_set_gate(zone);
}

/*
 * Keep caches from holding most of a small limit: with nb buckets per CPU
 * cache (two), a bucket may hold a quarter of the limit split over the
 * CPUs, and the zone's bucket cache half of it.
 */
static void
limit_set_maxcache(uma_zone_t zone, int nitems)
{
	uint32_t nb = 2 * (uint32_t)uma.ug_ncpus;

	if (nitems == 0)
		zone_cache_resize(zone, UINT32_MAX, UINT64_MAX);
	else
		zone_cache_resize(zone, (uint32_t)nitems / nb / 4,
		    (uint64_t)nitems / 2);
}

/* See uma.h */
int
uma_zone_set_max(uma_zone_t zone, int nitems)
{
	if (nitems < 0)
		nitems = 0;
	limit_set_maxcache(zone, nitems);
	pthread_mutex_lock(&zone->uz_limit_lock);
	zone->uz_max_items = (uint64_t)nitems;
	pthread_cond_broadcast(&zone->uz_limit_cv);
	pthread_mutex_unlock(&zone->uz_limit_lock);
	return (nitems);
}

/* See uma.h */
int
uma_zone_get_max(uma_zone_t zone)
{
	return ((int)zone->uz_max_items);
}

/* See uma.h */
int
uma_zone_get_cur(uma_zone_t zone)
{
	struct uma__zone_stat zs;

	uma__zone_stat(zone, &zs, NULL, 0);
	return (zs.zs_allocs > zs.zs_frees ?
	    (int)(zs.zs_allocs - zs.zs_frees) : 0);
}

/* See uma.h */
void
uma_zone_set_warning(uma_zone_t zone, const char *msg)
{
	zone->uz_warning = msg;
}

/*
 * See uma.h.  FreeBSD's arithmetic: two buckets per CPU, each at most half
 * of the cap's share, rounded down to 0 only when the share is 0; the
 * zone's bucket cache gets the rest.
 */
void
uma_zone_set_maxcache(uma_zone_t zone, int nitems)
{
	uint32_t nb = 2 * (uint32_t)uma.ug_ncpus, bsize, n;

	if (zone->uz_flags & UMA_ZFLAG_CLASS)
		return;		/* malloc's own: uma__zcreate_class's cap */
	n = nitems > 0 ? (uint32_t)nitems : 0;
	bsize = n / nb / 2;
	if (bsize == 0 && n / nb > 0)
		bsize = 1;
	zone_cache_resize(zone, bsize, n - (uint64_t)nb * bsize);
}

/* See uma.h */
void
uma_zone_set_maxaction(uma_zone_t zone, uma_maxaction_t fn)
{
	atomic_store_explicit(&zone->uz_maxaction, fn, memory_order_release);
}

/* See uma.h */
int
uma_zone_exhausted(uma_zone_t zone)
{
	return (uma__zone_sleepers(zone));
}

/* See uma.h */
int
uma_curcpu(void)
{
	uma_ensure_started();
	return (uma__curcpu());
}

/* See uma.h */
int
uma_ncpus(void)
{
	uma_ensure_started();
	return (uma.ug_ncpus);
}

/* ---- holdings (zone.h) ------------------------------------------------ */

static struct uma__zone_holding holdings[UMA_ZONE_HOLDINGS];
static _Atomic int nholdings;

/* See zone.h */
void
uma__zone_hold(uma_zone_t holder, uma_zone_t held,
    void *(*held_item)(void *item))
{
	int n = atomic_load_explicit(&nholdings, memory_order_relaxed);

	if (n == UMA_ZONE_HOLDINGS)
		uma__panic("uma: more than %d zone holdings",
		    UMA_ZONE_HOLDINGS);
	holdings[n] = (struct uma__zone_holding){ holder, held, held_item, n };
	atomic_store_explicit(&nholdings, n + 1, memory_order_release);
}

/* See zone.h */
const struct uma__zone_holding *
uma__zone_holding(uma_zone_t zone)
{
	int n = atomic_load_explicit(&nholdings, memory_order_acquire);

	for (int i = 0; i < n; i++)
		if (holdings[i].kh_holder == zone)
			return (&holdings[i]);
	return (NULL);
}
