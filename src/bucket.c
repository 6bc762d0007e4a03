/*
 * bucket.c - buckets, and each zone's cache of full buckets.
 *
 * Layer: between the per-CPU caches (cache.c) and the keg (through
 * uma__zone_import/release in import.c).  Owns the bucket zones, the zone's
 * bucket cache (lock-free hand-off slots in front of a list under
 * uz_lock), bucket sizing and the working-set estimate.
 *
 * Buckets are items of internal "N Bucket" zones, as in FreeBSD: a bucket
 * of N pointer-sized words holds N - 3 items after its 24-byte header.
 * Bucket zones have no per-CPU caches, so allocating a bucket never needs a
 * bucket.
 */
#include <string.h>

#include "bucket.h"
#include "debug.h"
#include "import.h"
#include "internal.h"
#include "limit.h"

#define	BUCKET_HDR	(sizeof(struct uma_bucket) / sizeof(void *))
#define	BUCKET_SIZE(n)	((n) - BUCKET_HDR)
#define	BUCKET_MIN	BUCKET_SIZE(4)
#define	BUCKET_MAX	BUCKET_SIZE(256)
#define	BUCKET_START_MIN	2	/* items in a scaled zone's first buckets */

static struct bucket_zone {
	uma_zone_t	 bz_zone;
	const char	*bz_name;
	uint32_t	 bz_entries;
	uint32_t	 bz_maxsize;	/* largest item that starts here */
} bucket_zones[] = {
	{ NULL, "4 Bucket", BUCKET_SIZE(4), 4096 },
	{ NULL, "8 Bucket", BUCKET_SIZE(8), 2048 },
	{ NULL, "16 Bucket", BUCKET_SIZE(16), 1024 },
	{ NULL, "32 Bucket", BUCKET_SIZE(32), 512 },
	{ NULL, "64 Bucket", BUCKET_SIZE(64), 256 },
	{ NULL, "128 Bucket", BUCKET_SIZE(128), 128 },
	{ NULL, "256 Bucket", BUCKET_SIZE(256), 64 },
};

void
uma__bucket_startup(void)
{
	struct bucket_zone *bz;

	for (size_t i = 0; i < nitems(bucket_zones); i++) {
		bz = &bucket_zones[i];
		bz->bz_zone = uma__internal_zcreate(bz->bz_name,
		    sizeof(struct uma_bucket) + bz->bz_entries * sizeof(void *),
		    UMA_ALIGN_PTR, UMA_ZFLAG_BUCKET);
		if (bz->bz_zone == NULL)
			uma__panic("uma: cannot create bucket zones");
	}
}

static struct bucket_zone *
bucket_zone_lookup(uint32_t entries)
{
	for (size_t i = 0; i < nitems(bucket_zones); i++)
		if (bucket_zones[i].bz_entries >= entries)
			return (&bucket_zones[i]);
	return (&bucket_zones[nitems(bucket_zones) - 1]);
}

/*
 * The starting and largest bucket size for the zone's item size: big items
 * get small buckets so that a CPU does not sit on megabytes.
 */
void
uma__bucket_select(uma_zone_t zone)
{
	uint32_t size = zone->uz_keg->uk_rsize, n = BUCKET_MIN;

	for (size_t i = 0; i < nitems(bucket_zones); i++)
		if (bucket_zones[i].bz_maxsize >= size)
			n = bucket_zones[i].bz_entries;
	if (size > 4096)
		n = size >= 8192 ? 1 : 2;
	if (zone->uz_flags & UMA_ZONE_MAXBUCKET)
		n = BUCKET_MAX;
	zone->uz_bucket_size_max = n;
	zone->uz_bucket_size_min = n < BUCKET_MIN ? n : BUCKET_MIN;
	zone->uz_bucket_size = n;
}

/*
 * Let a zone's buckets grow to `mult` times the size uma__bucket_select
 * chose (before the zone's first allocation).  FreeBSD sizes buckets for
 * kernel memory; malloc(3) in a user process trades a little more cached
 * memory per CPU for fewer trips to the zone's bucket cache (larson -20%,
 * mstress -25%).  They start at one slab's worth of items and grow with
 * each fill (bucket_grow): a program that uses a class lightly keeps
 * small buckets, and its first fill takes one slab's pages, not several
 * (bench simple/thread: peak RSS -6%/-8%).  Not less than a slab, though
 * half a slab, the second CPU taking the other half, would save a page per
 * class and CPU (bench thread: -78 KiB): cache-scratch ran 3x slower.  Its
 * main thread's two objects, the top two of a fresh bucket, then shared a
 * cache line that its two threads went on writing; with whole-slab fills
 * the top item starts a line.  Neither fill size prevents that kind of
 * false sharing in general; this one does not cause it there.
 */
void
uma__bucket_scale(uma_zone_t zone, uint32_t mult)
{
	uint32_t n = zone->uz_bucket_size_max * mult;
	uint32_t start = zone->uz_keg->uk_ipers;

	zone->uz_bucket_size_max = n > BUCKET_MAX ? BUCKET_MAX : n;
	if (start < BUCKET_START_MIN)
		start = BUCKET_START_MIN;
	if (start < zone->uz_bucket_size)
		zone->uz_bucket_size = start;
}

/* See bucket.h */
void
uma__bucket_reach(uma_zone_t zone, uint32_t bytes)
{
	uint32_t n = bytes / zone->uz_keg->uk_rsize;

	if (n > BUCKET_MAX)
		n = BUCKET_MAX;
	if (n > zone->uz_bucket_size_max)
		zone->uz_bucket_size_max = n;
}

/*
 * The hand-off slots.  Where one CPU empties buckets and another fills
 * them (a producer and a consumer), every bucket crosses between them
 * twice: full through the zone's cache, empty back through its bucket
 * zone.  Taking uz_lock for the one and the bucket keg's lock for the
 * other made both CPUs queue on the same two locks once per bucket.  A
 * slot is an atomic pointer: a put fills an empty slot with one
 * compare-and-swap, a take empties a full one with one exchange, so there
 * is no ABA and no lock; the locked list takes what the slots cannot.
 */
static bool
slot_put(_Atomic(uma_bucket_t) *slot, int n, uma_bucket_t b)
{
	uma_bucket_t expect;

	for (int i = 0; i < n; i++) {
		expect = NULL;
		if (atomic_load_explicit(&slot[i], memory_order_relaxed) ==
		    NULL && atomic_compare_exchange_strong_explicit(&slot[i],
		    &expect, b, memory_order_release, memory_order_relaxed))
			return (true);
	}
	return (false);
}

static uma_bucket_t
slot_take(_Atomic(uma_bucket_t) *slot, int n)
{
	uma_bucket_t b;

	for (int i = 0; i < n; i++)
		if (atomic_load_explicit(&slot[i], memory_order_relaxed) !=
		    NULL && (b = atomic_exchange_explicit(&slot[i], NULL,
		    memory_order_acquire)) != NULL)
			return (b);
	return (NULL);
}

/*
 * Keep an empty bucket for the next CPU that needs one, or free it.  Its
 * ub_cnt may be stale (a cache keeps the live count in its word): zero it,
 * or a reclaim would drain items the bucket no longer holds.
 */
void
uma__bucket_stash(uma_zone_t zone, uma_bucket_t b)
{
	b->ub_cnt = 0;
	if (!slot_put(zone->uz_eslot, UZ_ESLOTS, b))
		uma__bucket_free(zone, b);
}

/* Cap the items the zone's bucket cache keeps (FreeBSD's maxcache). */
void
uma__bucket_cache_max(uma_zone_t zone, uint64_t nitems)
{
	pthread_mutex_lock(&zone->uz_lock);
	zone->uz_bucket_max = nitems;
	pthread_mutex_unlock(&zone->uz_lock);
}

uma_bucket_t
uma__bucket_alloc(uma_zone_t zone, int flags)
{
	struct bucket_zone *bz;
	uma_bucket_t b;
	uint32_t entries = zone->uz_bucket_size;

	if (entries == 0)
		return (NULL);
	/* A stashed bucket will do unless buckets have grown since. */
	if ((b = slot_take(zone->uz_eslot, UZ_ESLOTS)) != NULL) {
		if (b->ub_entries >= entries)
			return (b);
		uma__bucket_free(zone, b);
	}
	/* Only M_NOVM passes through: a bucket never sleeps or gets zeroed. */
	flags = M_NOWAIT | (flags & M_NOVM);
	if (zone->uz_flags & UMA_ZONE_VM)
		flags |= M_NOVM;
	bz = bucket_zone_lookup(entries);
	b = uma__internal_alloc(bz->bz_zone, flags);
	if (b == NULL)
		return (NULL);
	b->ub_cnt = 0;
	b->ub_entries = entries < bz->bz_entries ? entries : bz->bz_entries;
	return (b);
}

void
uma__bucket_free(uma_zone_t zone, uma_bucket_t b)
{
	struct bucket_zone *bz = bucket_zone_lookup(b->ub_entries);

	uma__internal_free(bz->bz_zone, b);
}

/*
 * Give every item of b back to the keg (zone fini first).  Not counted as
 * frees: the items were counted when users freed them.
 */
void
uma__bucket_drain(uma_zone_t zone, uma_bucket_t b)
{
	if (b->ub_cnt == 0)
		return;
	uma__zone_release(zone, b->ub_bucket, b->ub_cnt);
	uma__limit_release(zone, b->ub_cnt);
	b->ub_cnt = 0;
}

/* Take the most recent full bucket from the zone's cache, or NULL. */
uma_bucket_t
uma__bucket_fetch(uma_zone_t zone)
{
	uma_bucket_t b;

	if (atomic_load_explicit(&zone->uz_nslot, memory_order_relaxed) != 0 &&
	    (b = slot_take(zone->uz_fslot, UZ_FSLOTS)) != NULL) {
		atomic_fetch_sub_explicit(&zone->uz_nslot, b->ub_cnt,
		    memory_order_relaxed);
		return (b);
	}
	if (atomic_load_explicit(&zone->uz_nitems, memory_order_relaxed) == 0)
		return (NULL);		/* a peek: full buckets hold items */
	if (pthread_mutex_trylock(&zone->uz_lock) != 0) {
		pthread_mutex_lock(&zone->uz_lock);
		/* Contention: bigger buckets mean fewer trips here. */
		if (zone->uz_bucket_size < zone->uz_bucket_size_max)
			zone->uz_bucket_size++;
	}
	b = TAILQ_FIRST(&zone->uz_buckets);
	if (b != NULL) {
		TAILQ_REMOVE(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems -= b->ub_cnt;
		if (zone->uz_nitems < zone->uz_imin)
			zone->uz_imin = zone->uz_nitems;
		if (zone->uz_nitems < zone->uz_idle)
			zone->uz_idle = zone->uz_nitems;
	}
	pthread_mutex_unlock(&zone->uz_lock);
	return (b);
}

/*
 * May the zone's cache take `cnt` more items?  Not past its cap, nor while
 * threads wait at the limit (their items must reach the keg).
 */
static bool
bucket_cache_room(uma_zone_t zone, uint64_t cnt)
{
	return (atomic_load_explicit(&zone->uz_sleepers,
	    memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&zone->uz_nitems, memory_order_relaxed) +
	    atomic_load_explicit(&zone->uz_nslot, memory_order_relaxed) + cnt <=
	    zone->uz_bucket_max);
}

/* Put a full bucket in the zone's cache, or drain it past the cap. */
void
uma__bucket_put(uma_zone_t zone, uma_bucket_t b)
{
	atomic_fetch_add_explicit(&zone->uz_puts, 1, memory_order_relaxed);
	/*
	 * A slot if there is room; uz_nslot goes up first, so that it never
	 * counts fewer items than the slots hold.  Else the list, where the
	 * room is checked again under uz_lock.
	 */
	if (bucket_cache_room(zone, b->ub_cnt)) {
		atomic_fetch_add_explicit(&zone->uz_nslot, b->ub_cnt,
		    memory_order_relaxed);
		if (slot_put(zone->uz_fslot, UZ_FSLOTS, b))
			return;
		atomic_fetch_sub_explicit(&zone->uz_nslot, b->ub_cnt,
		    memory_order_relaxed);
	}
	pthread_mutex_lock(&zone->uz_lock);
	if (bucket_cache_room(zone, b->ub_cnt)) {
		TAILQ_INSERT_HEAD(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems += b->ub_cnt;
		if (zone->uz_nitems > zone->uz_imax)
			zone->uz_imax = zone->uz_nitems;
		b = NULL;
	}
	pthread_mutex_unlock(&zone->uz_lock);
	if (b != NULL) {
		uma__bucket_drain(zone, b);
		uma__bucket_free(zone, b);
	}
}

/* The next buckets are an eighth larger, up to the zone's largest. */
static void
bucket_size_grow(uma_zone_t zone, uint32_t n)
{
	uint32_t grown = n + (n + 7) / 8, max = zone->uz_bucket_size_max;

	if (n < max)
		atomic_store_explicit(&zone->uz_bucket_size,
		    grown < max ? grown : max, memory_order_relaxed);
}

/*
 * A fill means the zone's cache ran dry: demand outgrows the buckets, so
 * the next ones are an eighth larger, up to the zone's largest.  Unless
 * other CPUs handed in full buckets since the last fill: then the cache
 * is a hand-off between a CPU that frees and one that allocates, which
 * ran dry only because the next bucket was not full yet.  Bigger buckets
 * would not make it run dry less often; they would put more items in
 * transit, each fill a bucket more (bench xmalloc: peak RSS -7%).
 */
static void
bucket_grow(uma_zone_t zone, uint32_t n)
{
	uint32_t puts = atomic_load_explicit(&zone->uz_puts,
	    memory_order_relaxed);

	if (atomic_exchange_explicit(&zone->uz_fill_puts, puts,
	    memory_order_relaxed) != puts)
		return;
	bucket_size_grow(zone, n);
}

/*
 * A CPU takes back from the zone's cache a full bucket just after it gave
 * one there: its bursts of allocations and of frees outgrow its two
 * buckets, and each burst costs it a locked trip a bucket.  Its buckets
 * grow, to BUCKET_BOUNCE_ITEMS items and BUCKET_BOUNCE_BYTES: bench
 * sh6bench (each thread allocates 2,000 blocks of 1-1,000 B, then frees
 * them: up to 256 of one class) runs in 0.094 s, 0.119 when the buckets
 * stopped at 64 KiB (64 items of 1 KiB), 0.15 when they did not grow.
 * Not further: where frees come from other threads, the trips never stop
 * and the buckets went to their largest (253 items), which a CPU then
 * holds: bench sh8bench (sh6bench, the other thread freeing half) peaks
 * at 7.5 MiB with this cap, as with 64 KiB, 8.0 with 160 items.  A CPU
 * that only allocates what others free (a hand-off) never gets here: its
 * trips are all on one side.
 */
#define	BUCKET_BOUNCE_ITEMS	128
#define	BUCKET_BOUNCE_BYTES	(128 * 1024)

void
uma__bucket_bounced(uma_zone_t zone)
{
	uint32_t n = atomic_load_explicit(&zone->uz_bucket_size,
	    memory_order_relaxed);

	if (n < BUCKET_BOUNCE_ITEMS &&
	    (uint64_t)n * zone->uz_keg->uk_rsize < BUCKET_BOUNCE_BYTES)
		bucket_size_grow(zone, n);
}

/*
 * Fill a new bucket from the keg: take up to a bucket of items from the
 * limit without sleeping, import them (zone init on each).  An import cut
 * short, by an init that failed or by the page layer, still fills the
 * bucket with what it got: those items serve the allocation that asked
 * (FreeBSD's zone_alloc_bucket keeps the items initialized before the
 * failure).  Returns NULL only if nothing could be had; *errorp then says
 * why (uma_int.h), or is 0 at the limit or without a bucket.  `cold` says
 * the CPU asking holds no bucket at all: its first fill is not demand
 * outgrowing the buckets, so it does not grow them.  Growing there made
 * every CPU after the first take a slab and a few items of the next one,
 * and touch that slab's header (bench thread: 9 classes with a third
 * page).
 */
uma_bucket_t
uma__bucket_fill(uma_zone_t zone, bool cold, int flags, int *errorp)
{
	uma_bucket_t b;
	int n, got;

	*errorp = 0;
	n = zone->uz_bucket_size;
	if (n == 0)
		return (NULL);
	if (!cold)
		bucket_grow(zone, (uint32_t)n);
	n = uma__limit_take(zone, n);
	if (n == 0)
		return (NULL);
	b = uma__bucket_alloc(zone, flags);
	if (b == NULL) {
		uma__limit_release(zone, n);
		return (NULL);
	}
	if (n > b->ub_entries) {
		uma__limit_release(zone, n - b->ub_entries);
		n = b->ub_entries;
	}
	got = uma__zone_import(zone, b->ub_bucket, n, flags, errorp);
	if (got < n)
		uma__limit_release(zone, n - got);
	b->ub_cnt = got;
	if (got == 0) {
		uma__bucket_free(zone, b);
		return (NULL);
	}
	*errorp = 0;
	return (b);
}

/*
 * See bucket.h: the bucket cache's invariant (uz_nitems == items in
 * uz_buckets), and every cached item on a page of the zone's keg.
 */
void
uma__bucket_assert_valid_locked(uma_zone_t zone)
{
	uint32_t id = zone->uz_keg->uk_id;
	uint64_t n = 0;
	uma_bucket_t b;

	UMA_MTX_ASSERT(&zone->uz_lock);
	if (UMA_DEBUG == 0)
		return;
	TAILQ_FOREACH(b, &zone->uz_buckets, ub_link) {
		UMA_ASSERT(b->ub_cnt > 0 && b->ub_cnt <= b->ub_entries,
		    "uma: zone \"%s\": cached bucket %p holds %u of %u",
		    zone->uz_name, (void *)b, b->ub_cnt, b->ub_entries);
		for (uint32_t i = 0; id != 0 && i < b->ub_cnt; i++)
			UMA_ASSERT(uma_vm_contains(b->ub_bucket[i]) &&
			    UMA_PAGETAG_KEG(uma_vm_pagetag_of(
			    b->ub_bucket[i])) == id,
			    "uma: zone \"%s\": cached item %p is not its keg's",
			    zone->uz_name, b->ub_bucket[i]);
		n += b->ub_cnt;
	}
	UMA_ASSERT(n == zone->uz_nitems, "uma: zone \"%s\": %ju items in "
	    "cached buckets, uz_nitems %ju", zone->uz_name, (uintmax_t)n,
	    (uintmax_t)zone->uz_nitems);
	(void)id;
}

/*
 * Give cached buckets back to the keg: all of them (drain), or down to the
 * working-set estimate (trim).  Draining also makes future buckets smaller,
 * as FreeBSD does on each reclaim.
 */
void
uma__bucket_cache_reclaim(uma_zone_t zone, bool trim)
{
	struct bucketlist drain = TAILQ_HEAD_INITIALIZER(drain);
	uma_bucket_t b;
	uint64_t target;

	pthread_mutex_lock(&zone->uz_lock);
	/* Slotted buckets join the list as its newest; empty ones go. */
	while ((b = slot_take(zone->uz_fslot, UZ_FSLOTS)) != NULL) {
		atomic_fetch_sub_explicit(&zone->uz_nslot, b->ub_cnt,
		    memory_order_relaxed);
		TAILQ_INSERT_HEAD(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems += b->ub_cnt;
	}
	while ((b = slot_take(zone->uz_eslot, UZ_ESLOTS)) != NULL)
		TAILQ_INSERT_TAIL(&drain, b, ub_link);
	uma__bucket_assert_valid_locked(zone);
	target = trim ? zone->uz_wss : 0;
	/* The oldest buckets are at the tail: they go first. */
	while (zone->uz_nitems > target &&
	    (b = TAILQ_LAST(&zone->uz_buckets, bucketlist)) != NULL) {
		TAILQ_REMOVE(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems -= b->ub_cnt;
		TAILQ_INSERT_TAIL(&drain, b, ub_link);
	}
	zone->uz_imax = zone->uz_imin = zone->uz_idle = zone->uz_nitems;
	if (!trim && zone->uz_bucket_size > zone->uz_bucket_size_min)
		zone->uz_bucket_size--;
	pthread_mutex_unlock(&zone->uz_lock);
	while ((b = TAILQ_FIRST(&drain)) != NULL) {
		TAILQ_REMOVE(&drain, b, ub_link);
		uma__bucket_drain(zone, b);
		uma__bucket_free(zone, b);
	}
}

/*
 * The idle pass (reclaim.c): the buckets in the hand-off slots join the
 * list, newest; then the oldest, as many items as no fetch took since the
 * last pass, or all but `need` (the items the zone's CPUs allocated
 * since) if that is more, go back to the keg.  Returns the items given
 * back.
 */
uint64_t
uma__bucket_cache_idle(uma_zone_t zone, uint64_t need)
{
	struct bucketlist drain = TAILQ_HEAD_INITIALIZER(drain);
	uint64_t idle, n = 0;
	uma_bucket_t b;

	pthread_mutex_lock(&zone->uz_lock);
	while ((b = slot_take(zone->uz_fslot, UZ_FSLOTS)) != NULL) {
		atomic_fetch_sub_explicit(&zone->uz_nslot, b->ub_cnt,
		    memory_order_relaxed);
		TAILQ_INSERT_HEAD(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems += b->ub_cnt;
	}
	idle = zone->uz_idle < zone->uz_nitems ? zone->uz_idle :
	    zone->uz_nitems;
	if (zone->uz_nitems > need && zone->uz_nitems - need > idle)
		idle = zone->uz_nitems - need;
	while (n < idle &&
	    (b = TAILQ_LAST(&zone->uz_buckets, bucketlist)) != NULL) {
		TAILQ_REMOVE(&zone->uz_buckets, b, ub_link);
		zone->uz_nitems -= b->ub_cnt;
		n += b->ub_cnt;
		TAILQ_INSERT_TAIL(&drain, b, ub_link);
	}
	if (zone->uz_imin > zone->uz_nitems)
		zone->uz_imin = zone->uz_nitems;
	zone->uz_idle = zone->uz_nitems;
	pthread_mutex_unlock(&zone->uz_lock);
	while ((b = TAILQ_FIRST(&drain)) != NULL) {
		TAILQ_REMOVE(&drain, b, ub_link);
		uma__bucket_drain(zone, b);
		uma__bucket_free(zone, b);
	}
	return (n);
}

/*
 * Once a period: the working set is what the cache swung through, decayed
 * so that one quiet period does not throw away a busy cache.
 */
void
uma__bucket_wss_update(uma_zone_t zone)
{
	uint64_t swing;

	pthread_mutex_lock(&zone->uz_lock);
	swing = zone->uz_imax - zone->uz_imin;
	zone->uz_wss = swing > zone->uz_wss * 3 / 4 ? swing :
	    zone->uz_wss * 3 / 4;
	zone->uz_imax = zone->uz_imin = zone->uz_nitems;
	pthread_mutex_unlock(&zone->uz_lock);
}
