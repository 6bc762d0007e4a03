/*
 * memguard_malloc.c - MemGuard for malloc: guarded objects of selected
 * types and of samples, counted as the allocations they stand for.
 *
 * Layer: malloc (memguard_malloc.h).  A guarded object of size s counts
 * in its type as an allocation of s would have (class size, or the run's
 * page-rounded length above 64 KiB), and a class-sized one also in its
 * class zone (uz_allocs, uz_frees), whose counts are the interposer's
 * "libc" type's: so every malloc statistic stays exact.  Its free counts
 * in the type free() names, as any free does, and a class-sized one
 * against its class zone's limit.
 */
#include "cache.h"
#include "limit.h"
#include "malloc_fast.h"
#include "memguard_malloc.h"

/* See memguard_malloc.h */
void *
uma__malloc_guarded(size_t size, size_t align, int idx, uma_zone_t zone,
    struct malloc_type *mtp, bool sampled)
{
	struct uma__mg_owner o = { zone, mtp, mtp->ks_shortdesc, idx,
	    idx >= 0 ? malloc_class_sizes[idx] : roundup2(size, UMA_PAGE_SIZE),
	    sampled, idx < 0 };
	void *p;

	if (uma__booting() || (idx >= 0 && zone == NULL))
		return (NULL);
	if (!uma__memguard_admit(size, sampled))
		return (NULL);
	/* A class item counts against its zone's limit, guarded or not. */
	if (idx >= 0 && uma__limit_take(zone, 1) == 0) {
		uma__memguard_unadmit(size, sampled);
		return (NULL);
	}
	if ((p = uma__memguard_alloc(&o, size, align)) == NULL) {
		if (idx >= 0)
			uma__limit_release(zone, 1);
		uma__memguard_unadmit(size, sampled);
		return (NULL);
	}
	if (idx >= 0) {
		atomic_fetch_add_explicit(&zone->uz_allocs, 1,
		    memory_order_relaxed);
		mstat_class(mtp, (size_t)idx);
	} else {
		mstat_large(mtp, 0, o.mo_acct);
		/*
		 * A sample stands for a run the cache would have handed out:
		 * that run goes back (bench large-churn, frequency=100: peak
		 * RSS +10.9 MiB without this, the guarded run beside the
		 * cached one it replaced).
		 */
		if (sampled)
			uma__malloc_large_forgo(size);
	}
	return (p);
}

/* See memguard_malloc.h */
void *
uma__malloc_sample(size_t size, size_t align, int idx, uma_zone_t zone,
    struct malloc_type *mtp, int flags)
{
	bool selected = uma__memguard_alllarge(size);
	void *p;

	/*
	 * Under MG_GUARD_ALLLARGE, classes of a page or more stop at every
	 * allocation; one smaller than a page is a sample only by this
	 * thread's countdown.
	 */
	if ((selected || !uma__memguard_alllarge(malloc_class_sizes[idx]) ||
	    uma__memguard_tick()) && (p = uma__malloc_guarded(size, align, idx,
	    zone, mtp, !selected)) != NULL)
		return (p);
	if ((p = uma__zalloc_class_refill(zone, flags)) != NULL)
		mstat_class(mtp, (size_t)idx);
	return (p);
}

/* See memguard_malloc.h */
void
uma__free_guarded(void *addr, struct malloc_type *mtp)
{
	struct uma__mg_owner o;

	uma__memguard_free_begin(addr, NULL, "free", &o);
	uma__memguard_free_end(addr);
	if (o.mo_zone != NULL) {
		atomic_fetch_add_explicit(&o.mo_zone->uz_frees, 1,
		    memory_order_relaxed);
		uma__limit_release(o.mo_zone, 1);
		mstat_class(mtp, MSTAT_FREE + (size_t)o.mo_class);
	} else
		mstat_large(mtp, MSTAT_FREE, o.mo_acct);
}
