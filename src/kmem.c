/*
 * kmem.c - the kmem report's cheap tier (vm.kmem_stats): what every page
 * uma holds is for, from counters alone; the two sysctl nodes.
 *
 * Layer: statistics, above every layer it reads (zones and kegs through
 * their atomics and stats.c, malloc's runs, the page layer's totals); it
 * changes none.  It takes uma_lock for reading (zones are not created or
 * destroyed meanwhile) and the page layer's map lock for an instant, and
 * no lock of a cache, zone or keg: an allocation never waits for it.
 *
 * The parts.  Every committed byte is one of:
 *   - an item of a user keg: held by a caller (inuse_zones, or
 *     inuse_malloc for a malloc size-class zone), in a per-CPU cache, in
 *     a zone's bucket cache, or free in its slab, each at the keg's item
 *     size; a keg's pages less its items and inline headers are waste;
 *   - a live large or contigmalloc run, or a cached large run (the page
 *     layer counts every page it hands out by its use: vm.h), or a freed
 *     page the page layer keeps resident for the next run (vm_dirty.c),
 *     counted with the cached runs;
 *   - uma's own: every page of its internal kegs (zones, kegs, per-CPU
 *     caches, buckets, off-page headers, large-run descriptors), inline
 *     slab headers, its runs (malloc's class caches and type counters),
 *     and outside the arena the map's nodes, the written pages of the
 *     vtoslab and tag tables and the closed guard caches;
 *   - MemGuard's pages (uks_memguard, outside the arena): its objects
 *     count where their zone or type says, the rest of their pages is
 *     waste, its records and tables metadata;
 *   - other: the rest, by subtraction, so the parts add up exactly.
 * Quiet, "other" is 0 but for the pages of a keg destroyed with items
 * still out; busy, it is what moved between the reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kmem.h"
#include "malloc_int.h"
#include "memguard.h"
#include "stats.h"
#include "sysctl_int.h"
#include "vm.h"

/* The in-use part a zone's items count in. */
static uint64_t *
kmem_inuse_part(struct uma_kmem_stats *uks, uma_zone_t zone)
{
	return (zone->uz_keg->uk_slabflags != 0 ? &uks->uks_inuse_malloc :
	    &uks->uks_inuse_zones);
}

/* Items the cached items of holders keep, by where they sit. */
struct kmem_held {
	uint64_t	*hd_part;	/* the in-use part they left */
	uint64_t	 hd_pcpu, hd_buckets;
};

/*
 * One user zone's items.  A holder's cached items keep an item of the
 * held zone each, which the held zone counts as allocated: those are
 * free memory, in the cache that holds them (moved once every zone is
 * counted).
 */
static void
kmem_zone(struct uma_kmem_stats *uks, uma_zone_t zone,
    struct kmem_held held[UMA_ZONE_HOLDINGS])
{
	struct kmem_held *h;
	const struct uma__zone_holding *kh;
	struct uma__zone_stat zs;
	uint64_t size = (uint64_t)zone->uz_keg->uk_size *
	    uma_keg_copies(zone->uz_keg), hsize, used;

	uma__zone_stat(zone, &zs, NULL, 0);
	used = zs.zs_allocs > zs.zs_frees ? zs.zs_allocs - zs.zs_frees : 0;
	*kmem_inuse_part(uks, zone) += used * size;
	uks->uks_free_pcpu += zs.zs_cpu_free * size;
	uks->uks_free_buckets += zs.zs_zone_free * size;
	if (LIST_FIRST(&zone->uz_keg->uk_zones) == zone)
		uks->uks_free_kegs += zs.zs_keg_free * size;
	if ((kh = uma__zone_holding(zone)) != NULL) {
		h = &held[kh->kh_index];
		hsize = kh->kh_held->uz_keg->uk_size;
		h->hd_part = kmem_inuse_part(uks, kh->kh_held);
		h->hd_pcpu += zs.zs_cpu_free * hsize;
		h->hd_buckets += zs.zs_zone_free * hsize;
	}
}

/*
 * Move the held items from in use to the caches.  Racing reads can count
 * more held than in use: never more than that moves (other explains it).
 */
static void
kmem_held_move(struct uma_kmem_stats *uks, struct kmem_held *h)
{
	if (h->hd_part == NULL)
		return;
	if (h->hd_pcpu > *h->hd_part)
		h->hd_pcpu = *h->hd_part;
	*h->hd_part -= h->hd_pcpu;
	uks->uks_free_pcpu += h->hd_pcpu;
	if (h->hd_buckets > *h->hd_part)
		h->hd_buckets = *h->hd_part;
	*h->hd_part -= h->hd_buckets;
	uks->uks_free_buckets += h->hd_buckets;
}

/* One keg's pages: uma's own, or items, inline headers and waste. */
static void
kmem_keg(struct uma_kmem_stats *uks, uma_keg_t keg)
{
	uint64_t pages = atomic_load_explicit(&keg->uk_pages,
	    memory_order_relaxed);
	uint64_t bytes = pages * UMA_PAGE_SIZE, slabs, hdr;

	if (keg->uk_flags & UMA_ZFLAG_INTERNAL) {
		uks->uks_metadata += bytes;
		return;
	}
	slabs = pages / keg->uk_ppera;
	hdr = keg->uk_flags & UMA_ZFLAG_OFFPAGE ? 0 : slabs * keg->uk_hdrsize;
	uks->uks_metadata += hdr;
	uks->uks_waste += bytes - hdr - slabs * keg->uk_ipers * keg->uk_size *
	    uma_keg_copies(keg);
}

/* The resident set from the kernel, without stdio (no malloc here). */
static uint64_t
kmem_rss(void)
{
	char buf[128], *p;
	uint64_t pages = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	p = strchr(buf, ' ');	/* the second field: resident pages */
	if (p == NULL)
		return (0);
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	return (pages * (uint64_t)sysconf(_SC_PAGESIZE));
}

/* uma's mappings outside the arena: the map and tables, the guard caches. */
static uint64_t
kmem_outside(void)
{
	return (uma__vm_meta_bytes() + roundup2((size_t)(uma.ug_ncpus +
	    UMA_CACHE_GUARD) * sizeof(struct uma_cache), UMA_PAGE_SIZE));
}

/*
 * MemGuard's pages (memguard.h) are uma's too, outside the arena: its
 * objects count where their zone or type says (in use; large runs here,
 * the rest by the zones' statistics), the rest of their pages is waste,
 * and its records and tables are metadata.
 */
static void
kmem_memguard(struct uma_kmem_stats *uks)
{
	struct uma__mg_kmem mk;

	uma__memguard_kmem(&mk);
	uks->uks_memguard = mk.mk_pages + mk.mk_meta;
	uks->uks_committed += uks->uks_memguard;
	uks->uks_inuse_large += mk.mk_large;
	uks->uks_waste += mk.mk_pages - mk.mk_acct;
	uks->uks_metadata += mk.mk_meta;
}

/* See kmem.h */
void
uma__kmem_stats(struct uma_kmem_stats *uks)
{
	struct kmem_held held[UMA_ZONE_HOLDINGS];
	uint64_t outside, dirty, sum = 0;
	uma_zone_t zone;
	uma_keg_t keg;

	memset(uks, 0, sizeof(*uks));
	memset(held, 0, sizeof(held));
	uks->uks_version = UMA_KMEM_STATS_VERSION;
	uks->uks_size = sizeof(*uks);
	uma_ensure_started();
	pthread_rwlock_rdlock(&uma.ug_lock);
	/*
	 * A cache zone's items are its caller's memory, not uma's, and so
	 * are the pages of a keg's own allocf (not the arena's).
	 */
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
		if (!(zone->uz_flags & (UMA_ZFLAG_INTERNAL | UMA_ZFLAG_CACHE)) &&
		    !(zone->uz_keg->uk_flags & UMA_ZFLAG_FOREIGN))
			kmem_zone(uks, zone, held);
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		if (!(keg->uk_flags & UMA_ZFLAG_FOREIGN))
			kmem_keg(uks, keg);
	pthread_rwlock_unlock(&uma.ug_lock);
	for (int i = 0; i < UMA_ZONE_HOLDINGS; i++)
		kmem_held_move(uks, &held[i]);
	/* Every other page uma takes is counted by its use (vm.h). */
	uks->uks_inuse_large = uma__vm_pages_used(UMA_PAGES_LARGE) *
	    UMA_PAGE_SIZE;
	uks->uks_inuse_contig = uma__vm_pages_used(UMA_PAGES_CONTIG) *
	    UMA_PAGE_SIZE;
	/*
	 * Freed runs kept for reuse: malloc's cached large runs, and the
	 * freed pages the page layer keeps resident (vm_dirty.c), which
	 * are in committed too.
	 */
	dirty = uma__vm_dirty_pages();
	uks->uks_large_cache = (uma__vm_pages_used(UMA_PAGES_CACHED) +
	    dirty) * UMA_PAGE_SIZE;
	outside = kmem_outside();
	uks->uks_metadata += uma__vm_pages_used(UMA_PAGES_META) *
	    UMA_PAGE_SIZE + outside;
	uks->uks_arena_committed = (uma__vm_pages() + dirty) * UMA_PAGE_SIZE;
	uks->uks_committed = uks->uks_arena_committed + outside;
	kmem_memguard(uks);
	uks->uks_reserved = uma_vm_size;
#define	X(f, k, d)	sum += uks->uks_##f;
	UMA_KMEM_PARTS(X)
#undef X
	uks->uks_other = uks->uks_committed - sum;
	uks->uks_inuse = uks->uks_inuse_zones + uks->uks_inuse_malloc +
	    uks->uks_inuse_large + uks->uks_inuse_contig;
	uks->uks_rss = kmem_rss();
}

static int
sysctl_kmem_stats(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	struct uma_kmem_stats uks;

	if (req->oldp == NULL)
		return (uma__sysctl_out(req, NULL, sizeof(uks)));
	uma__kmem_stats(&uks);
	return (uma__sysctl_out(req, &uks, sizeof(uks)));
}

/*
 * The extended record is built in a scratch mapping (no malloc: uma may be
 * malloc), then copied out.  A size probe does not walk: it counts zones.
 */
static int
sysctl_kmem_stats_extended(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	size_t len;
	void *buf;
	int error;

	if (req->oldp == NULL)
		return (uma__sysctl_out(req, NULL,
		    sizeof(struct uma_kmem_stats_extended) +
		    (size_t)uma__zone_count(1) * sizeof(struct uma_kmem_zone)));
	buf = uma__kmem_stats_extended(&len, &error);
	if (buf == NULL)
		return (error);
	error = uma__sysctl_out(req, buf, len);
	munmap(buf, len);
	return (error);
}

UMA_SYSCTL_PROC(sysctl_vm_kmem_stats, "vm.kmem_stats", UMA_CTLTYPE_OPAQUE,
    UMA_CTLFLAG_RD, "S,uma_kmem_stats", sysctl_kmem_stats, NULL,
    "Where uma's memory is, from counters: O(zones), no allocation waits "
    "(struct uma_kmem_stats, <uma/kmem.h>)");
UMA_SYSCTL_PROC(sysctl_vm_kmem_stats_extended, "vm.kmem_stats_extended",
    UMA_CTLTYPE_OPAQUE, UMA_CTLFLAG_RD, "S,uma_kmem_stats_extended",
    sysctl_kmem_stats_extended, NULL,
    "The kmem report with what a reclaim would give back, by walking every "
    "cache and slab list (struct uma_kmem_stats_extended, <uma/kmem.h>)");
