/*
 * kmem_walk.c - the kmem report's extended tier (vm.kmem_stats_extended):
 * what a reclaim would give back now, by source and by age, what it would
 * leave (fragmentation), what no reclaim returns (locked), per zone.
 *
 * Layer: statistics, beside kmem.c; reads caches, bucket caches and slab
 * lists, changes nothing.  Locks: uma_lock for reading throughout (zones
 * stay), then one at a time and briefly: a CPU cache's uc_lock while its
 * two buckets are read, a zone's uz_lock while its bucket list is, a
 * keg's uk_lock while its slabs are looked at (the one slab walk of one
 * zone the report may cost an allocation), and the large-run cache's
 * lock (before uma_lock: fork takes them in that order).  Never two of
 * them at once, so no lock order is added.  Holding uma_lock for the
 * whole walk keeps every zone and keg it has seen alive; the price is
 * that zone creation and destruction (a malloc size class's first use
 * among them) wait for the walk.
 *
 * How.  A reclaim (uma_reclaim(UMA_RECLAIM_DRAIN_CPU)) gives back the
 * cached large runs, then empties every cache into its keg, then frees
 * the slabs that are then wholly free, and with them uma's own items that
 * the caches and slabs held: buckets, off-page slab headers, large-run
 * descriptors, which may free pages of uma's internal kegs in turn.  The
 * walk does the same on paper: every cached item is counted against its
 * slab in a hash table, each count tagged with the stage that returns it
 * and its age; then under each keg's lock a slab is freed at the first
 * stage after which its free count plus the items returned reach the
 * slab's items.  User kegs first, then the internal kegs with the items
 * the first pass freed.  Scratch memory is one anonymous mapping sized up
 * front (no malloc: uma may be malloc), unmapped at the end.
 *
 * Exact when the process is quiet; under allocation, a close picture.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "kmem.h"
#include "malloc_int.h"
#include "memguard.h"
#include "stats.h"
#include "vm.h"

/* Stages of a reclaim, in the order figures are attributed. */
#define	STAGE_FREE	0	/* wholly free slabs: nothing to move */
#define	STAGE_LARGE	1	/* the large-run cache */
#define	STAGE_BUCKET	2	/* the zones' bucket caches */
#define	STAGE_PCPU	3	/* the per-CPU caches */
#define	NSTAGES		4
#define	AGE_OLD		0	/* what the next periodic trim returns */
#define	AGE_NEW		1
#define	NAGES		2

/* A slab that cached items go back to: their counts by stage and age. */
struct walk_slab {
	uma_slab_t	 ws_slab;	/* NULL: empty entry */
	uint32_t	 ws_next;	/* next of its keg, index + 1, or 0 */
	uint16_t	 ws_cnt[NSTAGES][NAGES];
};

/* A keg and what the walk found for it. */
struct walk_keg {
	uma_keg_t	 wk_keg;	/* NULL: empty entry */
	uint32_t	 wk_head;	/* its first walk_slab, index + 1 */
	uint64_t	 wk_cached;	/* items the caches return to it */
	uint64_t	 wk_used;	/* items with callers, all its zones */
	uint64_t	 wk_freed[NSTAGES];	/* bytes, by stage */
	uint64_t	 wk_aged[NAGES];	/* the same bytes, by age */
	uint64_t	 wk_frag;	/* bytes of free items left */
	uint64_t	 wk_locked;	/* bytes of free items kept */
	uint64_t	 wk_full, wk_partial, wk_free;	/* slabs */
};

struct walk {
	struct walk_slab *w_slabs;
	struct walk_keg	*w_kegs;
	struct walk_keg	*w_last;		/* the last one looked up */
	size_t		 w_nslabs, w_nkegs;	/* capacities, powers of 2 */
	size_t		 w_used;		/* slab entries taken */
	void		*w_map;
	size_t		 w_maplen;
	uint64_t	 w_large[NSTAGES], w_large_aged[NAGES];
	uint64_t	 w_guarded[NSTAGES], w_guarded_aged[NAGES];
};

static size_t
hash_ptr(const void *p, size_t cap)
{
	return ((size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull) &
	    (cap - 1));
}

static struct walk_keg *
walk_keg(struct walk *w, uma_keg_t keg, bool add)
{
	size_t i;

	/* A zone's items come one after the other: the same keg. */
	if (w->w_last != NULL && w->w_last->wk_keg == keg)
		return (w->w_last);
	i = hash_ptr(keg, w->w_nkegs);

	while (w->w_kegs[i].wk_keg != NULL && w->w_kegs[i].wk_keg != keg)
		i = (i + 1) & (w->w_nkegs - 1);
	if (w->w_kegs[i].wk_keg == NULL) {
		if (!add)
			return (NULL);
		w->w_kegs[i].wk_keg = keg;
	}
	return (w->w_last = &w->w_kegs[i]);
}

/*
 * Count `item` (of keg `keg`, or of any keg the walk knows if NULL)
 * against its slab.  Pointers that no longer lead to such a slab (the
 * caches moved under a racing read) are dropped, as is everything once
 * the table is three quarters full.
 */
static void
walk_item(struct walk *w, uma_keg_t keg, const void *item, int stage,
    int age)
{
	struct walk_keg *wk;
	struct walk_slab *ws;
	uma_slab_t slab;
	size_t i;

	if (item == NULL || !uma_vm_contains(item) ||
	    (slab = uma_vtoslab(item)) == NULL)
		return;
	if ((keg != NULL && slab->us_keg != keg) ||
	    (wk = walk_keg(w, slab->us_keg, false)) == NULL)
		return;
	i = hash_ptr(slab, w->w_nslabs);
	while (w->w_slabs[i].ws_slab != NULL && w->w_slabs[i].ws_slab != slab)
		i = (i + 1) & (w->w_nslabs - 1);
	ws = &w->w_slabs[i];
	if (ws->ws_slab == NULL) {
		if (w->w_used >= w->w_nslabs / 4 * 3)
			return;
		w->w_used++;
		ws->ws_slab = slab;
		ws->ws_next = wk->wk_head;
		wk->wk_head = (uint32_t)i + 1;
	}
	if (ws->ws_cnt[stage][age] < UINT16_MAX)
		ws->ws_cnt[stage][age]++;
	wk->wk_cached++;
}

/*
 * A cached item of `zone`, and what it holds of another zone: an item of
 * a slab, or a guarded one (memguard.h), whose pages go back with it.
 */
static void
walk_cached(struct walk *w, uma_zone_t zone,
    const struct uma__zone_holding *kh, void *item, int stage, int age)
{
	void *held;
	size_t bytes;

	walk_item(w, zone->uz_keg, item, stage, age);
	if (kh == NULL || item == NULL)
		return;
	held = kh->kh_item(item);
	if (uma_memguard_contains(held)) {
		bytes = uma__memguard_pages(held);
		w->w_guarded[stage] += bytes;
		w->w_guarded_aged[age] += bytes;
	} else
		walk_item(w, kh->kh_held->uz_keg, held, stage, age);
}

/*
 * One CPU's cache of a zone, under its lock: the slow path is held off,
 * the hit path (rseq) may still pop or push, so the reads are atomic and
 * the picture may be a few items off while the zone is busy.
 */
static void
walk_cpu(struct walk *w, uma_zone_t zone, const struct uma__zone_holding *kh,
    uma_cache_t c)
{
	uma_bucket_t ab, fb;
	void **items;
	uint32_t n;

	uma_lock(&c->uc_lock);
	n = uc_word_cnt(atomic_load_explicit(&c->uc_word,
	    memory_order_acquire));
	items = c->uc_items;
	ab = c->uc_allocbucket;
	fb = c->uc_freebucket;
	for (uint32_t i = 0; ab != NULL && i < n && i < ab->ub_entries; i++)
		walk_cached(w, zone, kh, __atomic_load_n(&items[i],
		    __ATOMIC_RELAXED), STAGE_PCPU, AGE_NEW);
	n = atomic_load_explicit(&c->uc_fcnt, memory_order_relaxed);
	for (uint32_t i = 0; fb != NULL && i < n && i < fb->ub_entries; i++)
		walk_cached(w, zone, kh, __atomic_load_n(&fb->ub_bucket[i],
		    __ATOMIC_RELAXED), STAGE_PCPU, AGE_NEW);
	walk_item(w, NULL, ab, STAGE_PCPU, AGE_NEW);
	walk_item(w, NULL, fb, STAGE_PCPU, AGE_NEW);
	uma_unlock(&c->uc_lock);
}

/*
 * A full bucket of the zone's cache; `before`: items ahead of it, `keep`:
 * what the next periodic trim keeps (UINT64_MAX: it keeps everything).
 */
static void
walk_bucket(struct walk *w, uma_zone_t zone,
    const struct uma__zone_holding *kh, uma_bucket_t b, uint64_t *before,
    uint64_t keep)
{
	uint32_t n = __atomic_load_n(&b->ub_cnt, __ATOMIC_RELAXED);
	int age;

	if (n > b->ub_entries)
		n = b->ub_entries;
	/* A trim takes buckets from the tail until `keep` items are left. */
	*before += n;
	age = *before > keep ? AGE_OLD : AGE_NEW;
	for (uint32_t i = 0; i < n; i++)
		walk_cached(w, zone, kh, __atomic_load_n(&b->ub_bucket[i],
		    __ATOMIC_RELAXED), STAGE_BUCKET, age);
	walk_item(w, NULL, b, STAGE_BUCKET, age);
}

/*
 * The zone's bucket cache, in the order a reclaim sees it: the hand-off
 * slots join the list at its head (newest), and empty buckets go.  The
 * next periodic trim first updates the working-set estimate, as
 * uma__bucket_wss_update does, then keeps that many items; it leaves
 * UNMANAGED zones alone.
 */
static void
walk_buckets(struct walk *w, uma_zone_t zone,
    const struct uma__zone_holding *kh)
{
	uint64_t before = 0, keep, swing;
	uma_bucket_t b;

	pthread_mutex_lock(&zone->uz_lock);
	swing = zone->uz_imax - zone->uz_imin;
	keep = swing > zone->uz_wss * 3 / 4 ? swing : zone->uz_wss * 3 / 4;
	if (zone->uz_flags & UMA_ZONE_UNMANAGED)
		keep = UINT64_MAX;
	for (int i = 0; i < UZ_FSLOTS; i++)
		if ((b = atomic_load(&zone->uz_fslot[i])) != NULL)
			walk_bucket(w, zone, kh, b, &before, keep);
	TAILQ_FOREACH(b, &zone->uz_buckets, ub_link)
		walk_bucket(w, zone, kh, b, &before, keep);
	for (int i = 0; i < UZ_ESLOTS; i++)
		walk_item(w, NULL, atomic_load(&zone->uz_eslot[i]),
		    STAGE_BUCKET, keep == UINT64_MAX ? AGE_NEW : AGE_OLD);
	pthread_mutex_unlock(&zone->uz_lock);
}

static void
walk_zone(struct walk *w, uma_zone_t zone)
{
	const struct uma__zone_holding *kh = uma__zone_holding(zone);
	struct uma__zone_stat zs;

	if (zone->uz_flags & UMA_ZFLAG_CACHE ||
	    zone->uz_keg->uk_flags & UMA_ZFLAG_FOREIGN)
		return;		/* its caller's memory, not the arena's */
	uma__zone_stat(zone, &zs, NULL, 0);
	walk_keg(w, zone->uz_keg, true)->wk_used += zs.zs_allocs >
	    zs.zs_frees ? zs.zs_allocs - zs.zs_frees : 0;
	if (zone->uz_flags & UMA_ZFLAG_INTERNAL)
		return;
	if (!(zone->uz_gate & UZ_GATE_NOCACHE) &&
	    zone->uz_cpu != uma__closed_caches())
		for (int cpu = 0; cpu < uma.ug_ncpus; cpu++)
			walk_cpu(w, zone, kh, &zone->uz_cpu[cpu]);
	walk_buckets(w, zone, kh);
}

/*
 * The cached large runs, read before uma_lock is taken: fork takes the
 * cache's lock before uma_lock, so the walk must not take them the other
 * way round.  Their descriptors are counted against their slabs later.
 */
struct walk_runs {
	struct malloc_large **wr_ml;	/* descriptors; old ones tagged 1 */
	size_t		 wr_n, wr_cap;
	uint64_t	 wr_bytes[NAGES];
	uint64_t	 wr_dirty, wr_dirty_old;	/* the page layer's, bytes */
};

static void
walk_run_one(struct malloc_large *ml, bool old, void *arg)
{
	struct walk_runs *wr = arg;

	if (wr->wr_n == wr->wr_cap)
		return;		/* grew since it was sized: a close picture */
	wr->wr_bytes[old ? AGE_OLD : AGE_NEW] += ml->ml_size;
	wr->wr_ml[wr->wr_n++] = (struct malloc_large *)((uintptr_t)ml |
	    (old ? 1 : 0));
}

static int
walk_runs_read(struct walk_runs *wr)
{
	memset(wr, 0, sizeof(*wr));
	wr->wr_cap = uma__malloc_large_cached() / UMA_PAGE_SIZE + 64;
	wr->wr_ml = mmap(NULL, wr->wr_cap * sizeof(*wr->wr_ml), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (wr->wr_ml == MAP_FAILED)
		return (ENOMEM);
	uma__malloc_large_cache_walk(walk_run_one, wr);
	wr->wr_dirty_old = uma__vm_dirty_old_pages() * UMA_PAGE_SIZE;
	wr->wr_dirty = uma__vm_dirty_pages() * UMA_PAGE_SIZE;
	if (wr->wr_dirty < wr->wr_dirty_old)
		wr->wr_dirty = wr->wr_dirty_old;
	return (0);
}

/* The runs' pages, and their descriptors freed with them. */
static void
walk_large(struct walk *w, const struct walk_runs *wr)
{
	uintptr_t p;
	int age;

	for (int a = 0; a < NAGES; a++) {
		w->w_large[STAGE_LARGE] += wr->wr_bytes[a];
		w->w_large_aged[a] += wr->wr_bytes[a];
	}
	/* The freed pages the page layer keeps count with the runs. */
	w->w_large[STAGE_LARGE] += wr->wr_dirty;
	w->w_large_aged[AGE_OLD] += wr->wr_dirty_old;
	w->w_large_aged[AGE_NEW] += wr->wr_dirty - wr->wr_dirty_old;
	for (size_t i = 0; i < wr->wr_n; i++) {
		p = (uintptr_t)wr->wr_ml[i];
		age = p & 1 ? AGE_OLD : AGE_NEW;
		walk_item(w, NULL, (void *)(p & ~(uintptr_t)1), STAGE_LARGE,
		    age);
	}
}

/* Count `slabs` slabs of the keg freed at `stage` and `age`. */
static void
keg_freed(struct walk_keg *wk, int stage, int age, uint64_t slabs)
{
	uint64_t bytes = slabs * wk->wk_keg->uk_ppera * UMA_PAGE_SIZE;

	wk->wk_freed[stage] += bytes;
	wk->wk_aged[age] += bytes;
}

/*
 * The stage (and age) after which the slab has every item back, or -1:
 * the slab stays, partly used.
 */
static int
slab_freed_at(const struct walk_slab *ws, uint32_t freecount,
    uint32_t ipers, int *agep)
{
	uint32_t n = freecount;
	int stage = -1;

	for (int s = 0; s < NSTAGES && stage < 0; s++)
		if ((n += ws->ws_cnt[s][AGE_OLD] + ws->ws_cnt[s][AGE_NEW]) >=
		    ipers)
			stage = s;
	n = freecount;
	for (int s = 0; s < NSTAGES; s++)
		n += ws->ws_cnt[s][AGE_OLD];
	*agep = n >= ipers ? AGE_OLD : AGE_NEW;
	return (stage);
}

/*
 * Take back the freeing of `excess` slabs (a reserve keeps them), from the
 * last stages and the newest age first.
 */
static void
keg_keep(struct walk_keg *wk, uint64_t excess)
{
	uint64_t slab = wk->wk_keg->uk_ppera * UMA_PAGE_SIZE, bytes, take;

	bytes = excess * slab;
	for (int s = NSTAGES - 1; s >= 0 && bytes > 0; s--) {
		take = wk->wk_freed[s] < bytes ? wk->wk_freed[s] : bytes;
		wk->wk_freed[s] -= take;
		bytes -= take;
	}
	bytes = excess * slab;
	for (int a = NAGES - 1; a >= 0 && bytes > 0; a--) {
		take = wk->wk_aged[a] < bytes ? wk->wk_aged[a] : bytes;
		wk->wk_aged[a] -= take;
		bytes -= take;
	}
}

/*
 * One keg, under its lock: which of the slabs the caches return items to
 * are then wholly free, the slab lists' lengths, and (off-page headers)
 * the headers the freed slabs give back, which the next pass counts.
 */
static void
walk_eval_keg(struct walk *w, struct walk_keg *wk)
{
	uma_keg_t keg = wk->wk_keg;
	uint64_t total, nfree, freed = 0, kept, items, allowed;
	struct walk_slab *ws;
	uma_slab_t slab;
	int stage, age;
	bool offpage = (keg->uk_flags & UMA_ZFLAG_OFFPAGE) != 0;
	bool nofree = (keg->uk_flags & UMA_ZONE_NOFREE) != 0;

	pthread_mutex_lock(&keg->uk_lock);
	total = atomic_load(&keg->uk_pages) / keg->uk_ppera;
	nfree = atomic_load(&keg->uk_free_slabs);
	items = atomic_load(&keg->uk_free_items) + wk->wk_cached;
	LIST_FOREACH(slab, &keg->uk_part_slab, us_link)
		wk->wk_partial++;
	wk->wk_free = nfree;
	wk->wk_full = total > nfree + wk->wk_partial ? total - nfree -
	    wk->wk_partial : 0;
	keg_freed(wk, STAGE_FREE, AGE_OLD, nfree);
	if (offpage && !nofree)
		LIST_FOREACH(slab, &keg->uk_free_slab, us_link)
			walk_item(w, NULL, slab, STAGE_FREE, AGE_OLD);
	for (uint32_t i = wk->wk_head; i != 0; i = ws->ws_next) {
		ws = &w->w_slabs[i - 1];
		slab = ws->ws_slab;
		/* Freed since it was counted, or on the free list already. */
		if (slab->us_keg != keg || slab->us_freecount >= keg->uk_ipers)
			continue;
		stage = slab_freed_at(ws, slab->us_freecount, keg->uk_ipers,
		    &age);
		if (stage < 0)
			continue;
		keg_freed(wk, stage, age, 1);
		freed++;
		if (offpage && !nofree)
			walk_item(w, NULL, slab, stage, age);
	}
	pthread_mutex_unlock(&keg->uk_lock);

	/* keg_drain keeps free slabs for the reserve; NOFREE keeps all. */
	nfree += freed;
	allowed = nofree ? 0 : items >= keg->uk_reserve ?
	    (items - keg->uk_reserve) / keg->uk_ipers : 0;
	kept = nfree > allowed ? nfree - allowed : 0;
	keg_keep(wk, kept);
	wk->wk_locked = (nofree ? items : kept * keg->uk_ipers) *
	    keg->uk_size * uma_keg_copies(keg);
	wk->wk_frag = nofree || items < nfree * keg->uk_ipers ? 0 :
	    (items - nfree * keg->uk_ipers) * keg->uk_size *
	    uma_keg_copies(keg);
}

/* Size the scratch tables for what the caches and slabs hold now. */
static int
walk_init(struct walk *w)
{
	uint64_t items = 0, slabs = 0, bound;
	struct uma__zone_stat zs;
	uma_zone_t zone;
	uma_keg_t keg;
	size_t nkegs = 0;

	memset(w, 0, sizeof(*w));
	w->w_map = MAP_FAILED;
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		uma__zone_stat(zone, &zs, NULL, 0);
		/* Items, their held items, and up to 2 buckets a CPU. */
		items += 2 * (zs.zs_cpu_free + zs.zs_zone_free) +
		    2 * (uint64_t)uma.ug_ncpus + UZ_FSLOTS + UZ_ESLOTS;
	}
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link) {
		nkegs++;
		slabs += atomic_load(&keg->uk_pages) / keg->uk_ppera;
	}
	items += uma__malloc_large_cached() / UMA_PAGE_SIZE + 64;
	bound = items < slabs ? items : slabs;
	for (w->w_nslabs = 1024; w->w_nslabs < 2 * bound + 1024;)
		w->w_nslabs *= 2;
	for (w->w_nkegs = 64; w->w_nkegs < 2 * nkegs;)
		w->w_nkegs *= 2;
	w->w_maplen = roundup2(w->w_nslabs * sizeof(struct walk_slab) +
	    w->w_nkegs * sizeof(struct walk_keg), UMA_PAGE_SIZE);
	w->w_map = mmap(NULL, w->w_maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (w->w_map == MAP_FAILED)
		return (ENOMEM);
	w->w_kegs = w->w_map;
	w->w_slabs = (struct walk_slab *)(w->w_kegs + w->w_nkegs);
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		walk_keg(w, keg, true);
	return (0);
}

/* One zone's record; its keg's figures if it is the keg's first zone. */
static void
walk_zone_record(struct walk *w, uma_zone_t zone, struct uma_kmem_zone *z)
{
	uma_keg_t keg = zone->uz_keg;
	struct walk_keg *wk = walk_keg(w, keg, false);
	struct uma__zone_stat zs;
	uint64_t bytes;

	memset(z, 0, sizeof(*z));
	uma__zone_stat(zone, &zs, NULL, 0);
	memcpy(z->ukz_name, zs.zs_name, sizeof(z->ukz_name));
	z->ukz_name[sizeof(z->ukz_name) - 1] = '\0';
	z->ukz_flags = (zs.zs_secondary ? UMA_KMEM_ZONE_SECONDARY : 0) |
	    (zone->uz_flags & UMA_ZFLAG_INTERNAL ? UMA_KMEM_ZONE_INTERNAL : 0) |
	    (keg->uk_flags & UMA_ZONE_NOFREE ? UMA_KMEM_ZONE_NOFREE : 0);
	z->ukz_size = keg->uk_size;
	z->ukz_rsize = keg->uk_rsize;
	z->ukz_ipers = keg->uk_ipers;
	z->ukz_ppera = keg->uk_ppera;
	z->ukz_used = zs.zs_allocs > zs.zs_frees ? zs.zs_allocs - zs.zs_frees :
	    0;
	z->ukz_free = zs.zs_cpu_free + zs.zs_zone_free;
	if (LIST_FIRST(&keg->uk_zones) != zone || wk == NULL)
		return;
	z->ukz_free += zs.zs_keg_free;
	z->ukz_pages = zs.zs_pages;
	z->ukz_slabs_full = wk->wk_full;
	z->ukz_slabs_partial = wk->wk_partial;
	z->ukz_slabs_free = wk->wk_free;
	bytes = zs.zs_pages * UMA_PAGE_SIZE;
	z->ukz_efficiency = bytes == 0 ? 0 : wk->wk_used * keg->uk_size *
	    uma_keg_copies(keg) * 100 / bytes;
	for (int s = 0; s < NSTAGES; s++)
		z->ukz_reclaimable += wk->wk_freed[s];
	z->ukz_fragmentation = wk->wk_frag;
}

/* The totals over every keg and the large-run cache. */
static void
walk_totals(struct walk *w, struct uma_kmem_stats_extended *ukx)
{
	uint64_t freed[NSTAGES] = { 0 }, aged[NAGES] = { 0 };
	struct walk_keg *wk;

	for (int s = 0; s < NSTAGES; s++)
		freed[s] = w->w_large[s] + w->w_guarded[s];
	for (int a = 0; a < NAGES; a++)
		aged[a] = w->w_large_aged[a] + w->w_guarded_aged[a];
	for (size_t i = 0; i < w->w_nkegs; i++) {
		if ((wk = &w->w_kegs[i])->wk_keg == NULL)
			continue;
		for (int s = 0; s < NSTAGES; s++)
			freed[s] += wk->wk_freed[s];
		for (int a = 0; a < NAGES; a++)
			aged[a] += wk->wk_aged[a];
		ukx->ukx_locked += wk->wk_locked;
		if (!(wk->wk_keg->uk_flags & UMA_ZFLAG_INTERNAL))
			ukx->ukx_fragmentation += wk->wk_frag;
		ukx->ukx_slabs_full += wk->wk_full;
		ukx->ukx_slabs_partial += wk->wk_partial;
		ukx->ukx_slabs_free += wk->wk_free;
	}
	ukx->ukx_reclaim_free_slabs = freed[STAGE_FREE];
	ukx->ukx_reclaim_large_cache = freed[STAGE_LARGE];
	ukx->ukx_reclaim_buckets = freed[STAGE_BUCKET];
	ukx->ukx_reclaim_pcpu = freed[STAGE_PCPU];
	ukx->ukx_reclaimable = freed[STAGE_FREE] + freed[STAGE_LARGE] +
	    freed[STAGE_BUCKET] + freed[STAGE_PCPU];
	ukx->ukx_reclaim_oldest = aged[AGE_OLD];
	ukx->ukx_reclaim_newest = aged[AGE_NEW];
	ukx->ukx_available = ukx->ukx_reclaimable + ukx->ukx_fragmentation +
	    ukx->ukx_locked;
}

/* The walk proper, under uma_lock; the record goes to ukx. */
static void
walk_run(struct walk *w, const struct walk_runs *wr,
    struct uma_kmem_stats_extended *ukx)
{
	struct uma_kmem_zone *z = (struct uma_kmem_zone *)(ukx + 1);
	uma_zone_t zone;
	uma_keg_t keg;

	walk_large(w, wr);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
		walk_zone(w, zone);
	/*
	 * In reclaim's order: user kegs, whose freed slabs give their
	 * off-page headers back, then the internal kegs in list order (a
	 * bucket keg's freed slabs give theirs to a slab-header keg drained
	 * after it).
	 */
	for (int internal = 0; internal < 2; internal++)
		LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
			if (!(keg->uk_flags & UMA_ZFLAG_INTERNAL) == !internal &&
			    !(keg->uk_flags & UMA_ZFLAG_FOREIGN))
				walk_eval_keg(w, walk_keg(w, keg, false));
	walk_totals(w, ukx);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
		walk_zone_record(w, zone, z++);
}

/* See kmem.h */
void *
uma__kmem_stats_extended(size_t *lenp, int *errorp)
{
	struct uma_kmem_stats_extended *ukx = MAP_FAILED;
	struct uma_kmem_stats uks;
	struct walk_runs wr;
	struct walk w = { .w_map = MAP_FAILED };
	size_t len = 0;
	int nzones;

	uma__kmem_stats(&uks);
	if ((*errorp = walk_runs_read(&wr)) != 0)
		return (NULL);
	pthread_rwlock_rdlock(&uma.ug_lock);
	nzones = uma.ug_nzones + uma.ug_nzones_internal;
	len = sizeof(*ukx) + (size_t)nzones * sizeof(struct uma_kmem_zone);
	if ((*errorp = walk_init(&w)) == 0) {
		ukx = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		*errorp = ukx == MAP_FAILED ? ENOMEM : 0;
	}
	if (*errorp == 0) {
		ukx->ukx_version = UMA_KMEM_STATS_VERSION;
		ukx->ukx_size = sizeof(*ukx);
		ukx->ukx_nzones = (uint32_t)nzones;
		ukx->ukx_zone_size = sizeof(struct uma_kmem_zone);
		ukx->ukx_stats = uks;
		walk_run(&w, &wr, ukx);
	}
	pthread_rwlock_unlock(&uma.ug_lock);
	if (w.w_map != MAP_FAILED)
		munmap(w.w_map, w.w_maplen);
	munmap(wr.wr_ml, wr.wr_cap * sizeof(*wr.wr_ml));
	*lenp = len;
	return (ukx == MAP_FAILED ? NULL : ukx);
}
