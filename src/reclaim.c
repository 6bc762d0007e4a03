/*
 * reclaim.c - giving memory back: uma_reclaim, uma_zone_reclaim and the
 * periodic trim.
 *
 * Layer: zone, across every zone.  Walks the zone list under the read lock
 * and asks each layer to let go, top down: per-CPU caches (cache.c), the
 * bucket cache (bucket.c), then empty slabs (keg.c), whose pages go back
 * to the OS at once (vm_dirty.c keeps only what programs free).
 *
 * Requests, as FreeBSD's: TRIM trims bucket caches to the working-set
 * estimate and frees empty slabs; DRAIN frees every cached bucket and every
 * empty slab; DRAIN_CPU also shrinks future buckets.  In user space DRAIN
 * flushes the per-CPU caches too: a thread's CPU cache is not certain to
 * be used again soon, and a caller asking for memory back expects to get
 * it.
 *
 * The periodic trim runs every vm.uma_timeout seconds (default 20) in a
 * thread of its own, "uma-trim" (started when threads.c says): it folds
 * the per-CPU allocation counters, updates the working-set estimates and
 * trims.
 *
 * Caches that are not zones (malloc's cache of freed large runs) hang a
 * hook here (uma__reclaim_hook); both paths run the hooks first, outside
 * the zone list lock (uma_reclaim to empty them, the periodic trim to age
 * them), so the descriptors they free are drained with uma's own zones in
 * the same pass.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "bucket.h"
#include "cache.h"
#include "keg.h"
#include "kthread.h"
#include "reclaim.h"
#include "sysctl_int.h"
#include "vm.h"

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cv;		/* the trim thread waits here */
	bool		 started;
	bool		 idle;		/* an idle pass is asked for */
	int		 period;
} timeout = { .lock = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER };

/*
 * One reclaim at a time: one that ran beside an idle pass (below) would
 * miss the buckets the pass holds between taking them from their zone
 * and giving their items to the keg, and a uma_reclaim(DRAIN) must leave
 * no free slab.  An idle pass that finds it taken is not needed.
 * Recursive: a reclaim's frees may come back into a low-memory pass.
 */
static pthread_mutex_t reclaim_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

#define	RECLAIM_HOOKS	4

static struct {
	void		(*fn[RECLAIM_HOOKS])(bool periodic);
	_Atomic int	 n;
} hooks;

/* See reclaim.h */
void
uma__reclaim_hook(void (*fn)(bool periodic))
{
	int n = atomic_load(&hooks.n);

	if (n == RECLAIM_HOOKS)
		uma__panic("uma: more than %d reclaim hooks", RECLAIM_HOOKS);
	hooks.fn[n] = fn;
	atomic_store_explicit(&hooks.n, n + 1, memory_order_release);
}

/* The caches that are not zones, before the zones (see the top). */
static void
reclaim_hooks(bool periodic)
{
	int n = atomic_load_explicit(&hooks.n, memory_order_acquire);

	for (int i = 0; i < n; i++)
		hooks.fn[i](periodic);
}

static int timeout_tunable = UMA_TIMEOUT;
UMA_SYSCTL_INT(sysctl_uma_timeout, "vm.uma_timeout", &timeout_tunable,
    UMA_CTLFLAG_RDTUN, 1, 86400, "Seconds between periodic cache trims");

/* One zone's caches, one request; the keg is the caller's. */
void
uma__zone_trim(uma_zone_t zone, int req)
{
	if (req == UMA_RECLAIM_DRAIN || req == UMA_RECLAIM_DRAIN_CPU)
		uma__cache_drain(zone);
	if (req == UMA_RECLAIM_DRAIN_CPU) {
		pthread_mutex_lock(&zone->uz_lock);
		zone->uz_bucket_size = (zone->uz_bucket_size +
		    zone->uz_bucket_size_min) / 2;
		pthread_mutex_unlock(&zone->uz_lock);
	}
	uma__bucket_cache_reclaim(zone, req == UMA_RECLAIM_TRIM);
}

/*
 * Caches of every zone first, kegs after: a secondary zone's caches drain
 * into the keg its primary shares, and uma's own zones (buckets, off-page
 * headers) receive what the user zones let go.  Newest zone first: a zone
 * whose zone fini frees items of an older zone (the mbuf packet zone's
 * cached packets keep clusters) drains before that zone does, so the
 * clusters it lets go are drained in the same pass rather than left in
 * the cluster zone's cache of the reclaiming CPU.
 */
static void
reclaim_all_locked(int req, bool periodic)
{
	uma_zone_t zone;
	uma_keg_t keg;

	/* Held for reading: a writer cannot have it. */
	UMA_ASSERT(pthread_rwlock_trywrlock(&uma.ug_lock) == EBUSY,
	    "uma: reclaim_all_locked without the zone list lock");
	TAILQ_FOREACH_REVERSE(zone, &uma.ug_zones, uma_zonelist, uz_all) {
		if (zone->uz_flags & UMA_ZFLAG_INTERNAL)
			continue;
		if (periodic) {
			uma__cache_fold(zone);
			uma__bucket_wss_update(zone);
		}
		if (req != UMA_RECLAIM_TRIM ||
		    !(zone->uz_flags & UMA_ZONE_UNMANAGED))
			uma__zone_trim(zone, req);
	}
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		if (!(keg->uk_flags & UMA_ZFLAG_INTERNAL))
			uma__keg_drain(keg);
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		if (keg->uk_flags & UMA_ZFLAG_INTERNAL)
			uma__keg_drain(keg);
	/*
	 * Last, the freed pages the page layer keeps: all of them, or each
	 * period those unused for a whole period (vm_dirty.c).  What the
	 * caches gave back above went at once (the callers' bypass).
	 */
	if (periodic)
		uma__vm_decay();
	else
		uma__vm_purge();
}

static bool
req_valid(int req)
{
	return (req == UMA_RECLAIM_DRAIN || req == UMA_RECLAIM_DRAIN_CPU ||
	    req == UMA_RECLAIM_TRIM);
}

/* See uma.h */
void
uma_zone_reclaim(uma_zone_t zone, int req)
{
	if (!req_valid(req))
		return;
	pthread_mutex_lock(&reclaim_lock);
	uma__vm_dirty_bypass(true);
	uma__zone_trim(zone, req);
	uma__keg_drain(zone->uz_keg);
	uma__vm_dirty_bypass(false);
	pthread_mutex_unlock(&reclaim_lock);
}

/*
 * See uma.h.  User zones first, then uma's own zones (buckets, slab
 * headers), which the first pass filled with freed buckets and headers.
 */
void
uma_reclaim(int req)
{
	if (!req_valid(req) || !__atomic_load_n(&uma.ug_ready,
	    __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&reclaim_lock);
	uma__vm_dirty_bypass(true);
	reclaim_hooks(false);
	pthread_rwlock_rdlock(&uma.ug_lock);
	reclaim_all_locked(req, false);
	pthread_rwlock_unlock(&uma.ug_lock);
	uma__vm_dirty_bypass(false);
	pthread_mutex_unlock(&reclaim_lock);
}

/*
 * The idle pass: the caches that nothing used while the process took new
 * pages give them back, so that they serve it instead.  Each zone's
 * bucket cache gives back the buckets no CPU fetched since the last pass,
 * and each keg the free slabs no fill took, and the slabs those buckets
 * emptied (FreeBSD's working-set trim, run by demand rather than by the
 * clock).  Freed large runs not reused since the last pass go too.  All
 * of it goes to the page layer, which keeps the pages for the next runs.
 * Without it, a program that freed its 252 MiB of 4 KiB blocks and then
 * allocated other sizes peaked at twice what it used (bench reuse), and
 * one that dropped a hash table of small values kept it (bench redis).
 */
_Atomic bool uma__reclaim_idle_wanted;

/*
 * Does giving back the zone's free items call the caller's code (a zone
 * or keg fini, a cache zone's release, a page allocator's free)?  That
 * code may take a lock the allocating thread holds: only the trim thread
 * runs it.
 */
static bool
zone_calls_out(uma_zone_t zone)
{
	uma_keg_t keg = zone->uz_keg;

	return (zone->uz_fini != NULL || keg->uk_fini != NULL ||
	    (zone->uz_flags | keg->uk_flags) & (UMA_ZFLAG_CACHE |
	    UMA_ZFLAG_FOREIGN));
}

/*
 * Does a zone hold more free slabs than `need` more allocations could
 * take, when its bucket cache holds `cached` items?  Only a keg of one
 * zone says so: a sibling's demand is not counted.
 */
static bool
idle_slabs_spare(uma_zone_t zone, uint64_t need, uint64_t cached)
{
	uma_keg_t keg = zone->uz_keg;
	uint64_t free_items = atomic_load_explicit(&keg->uk_free_slabs,
	    memory_order_relaxed) * keg->uk_ipers;

	if (LIST_NEXT(LIST_FIRST(&keg->uk_zones), uz_link) != NULL)
		return (false);
	return (cached + free_items > need);
}

/*
 * `here`: in an allocating thread (malloc), not the trim thread.
 *
 * What a zone holds beyond the items its CPUs allocated since the last
 * pass goes back too, idle or not for a whole pass: the bucket cache
 * keeps that many items, and the keg gives back all its free slabs.
 * Counting only what stayed idle since the last pass let a burst freed
 * just after one pass wait for the next: sqlite freed 17 MiB of 1 KiB
 * blocks and then grew its page cache by 10, of which 3.5 MiB came as
 * new pages.
 */
static void
reclaim_idle(bool here)
{
	uma_zone_t zone;
	uma_keg_t keg;
	uint64_t freed, pops, need;

	reclaim_hooks(true);
	pthread_rwlock_rdlock(&uma.ug_lock);
	TAILQ_FOREACH_REVERSE(zone, &uma.ug_zones, uma_zonelist, uz_all) {
		if (zone->uz_flags & (UMA_ZFLAG_INTERNAL |
		    UMA_ZONE_UNMANAGED) || (here && zone_calls_out(zone)))
			continue;
		keg = zone->uz_keg;
		freed = atomic_load_explicit(&keg->uk_free_slabs,
		    memory_order_relaxed);
		/*
		 * A zone no CPU allocated from since the last pass gives
		 * back its CPUs' caches too: their items, scattered over
		 * many slabs, would keep those from going back.  (MemGuard
		 * arming moves pops by ~2^40: need then errs large.)
		 */
		pops = uma__cache_pops(zone);
		need = pops - zone->uz_idle_pops;
		zone->uz_idle_pops = pops;
		if (need == 0)
			uma__cache_drain(zone);
		if (uma__bucket_cache_idle(zone, need) == 0 && need != 0 &&
		    !idle_slabs_spare(zone, need, atomic_load_explicit(
		    &zone->uz_nitems, memory_order_relaxed)))
			continue;
		/* The slabs the drain emptied; then the rest, below. */
		freed = atomic_load_explicit(&keg->uk_free_slabs,
		    memory_order_relaxed) - freed;
		uma__keg_release_idle(keg, (int64_t)freed > 0 ? freed : 0);
	}
	/*
	 * A keg released above has reset its idle count to what it kept,
	 * so this gives back all its free slabs; another keg, the slabs no
	 * fill took since the last pass.
	 */
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		if (!here || (keg->uk_fini == NULL &&
		    !(keg->uk_flags & UMA_ZFLAG_FOREIGN)))
			uma__keg_release_idle(keg, 0);
	pthread_rwlock_unlock(&uma.ug_lock);
}

/*
 * The page layer handed out a few MiB of new pages (vm_dirty.c): an idle
 * pass is due, which the next malloc slow path runs, or else the trim
 * thread.  Any thread, in any allocation: it takes only the trim thread's
 * own lock.
 */
static void
reclaim_pressure(void)
{
	atomic_store_explicit(&uma__reclaim_idle_wanted, true,
	    memory_order_relaxed);
	pthread_mutex_lock(&timeout.lock);
	if (timeout.started && !timeout.idle) {
		timeout.idle = true;
		pthread_cond_signal(&timeout.cv);
	}
	pthread_mutex_unlock(&timeout.lock);
}

/* At start-up: the page layer says when an idle pass is due. */
void
uma__reclaim_startup(void)
{
	uma__vm_pressure_hook(reclaim_pressure);
}

/* See reclaim.h */
void
uma__reclaim_idle_run(bool here)
{
	/*
	 * A thread that finds a pass or a reclaim running goes on.  The
	 * zones a pass in a malloc leaves out wait for one the trim thread
	 * runs first, or for the periodic trim.
	 */
	if (pthread_mutex_trylock(&reclaim_lock) == 0) {
		if (atomic_exchange_explicit(&uma__reclaim_idle_wanted, false,
		    memory_order_relaxed))
			reclaim_idle(here);
		pthread_mutex_unlock(&reclaim_lock);
	}
}

static void *
timeout_main(void *arg)
{
	struct timespec next, now;
	bool idle;

	/*
	 * For top -H and /proc/PID/task/TID/comm.  Not pthread_setname_np:
	 * its snprintf maps 150 KiB of libc into a small program.
	 */
	prctl(PR_SET_NAME, "uma-trim");
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += timeout.period;
	for (;;) {
		pthread_mutex_lock(&timeout.lock);
		while (!timeout.idle && pthread_cond_clockwait(&timeout.cv,
		    &timeout.lock, CLOCK_MONOTONIC, &next) != ETIMEDOUT)
			;
		idle = timeout.idle;
		timeout.idle = false;
		pthread_mutex_unlock(&timeout.lock);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec &&
		    now.tv_nsec >= next.tv_nsec)) {
			next = now;
			next.tv_sec += timeout.period;
			pthread_mutex_lock(&reclaim_lock);
			uma__vm_dirty_bypass(true);
			reclaim_hooks(true);
			pthread_rwlock_rdlock(&uma.ug_lock);
			reclaim_all_locked(UMA_RECLAIM_TRIM, true);
			pthread_rwlock_unlock(&uma.ug_lock);
			uma__vm_dirty_bypass(false);
			pthread_mutex_unlock(&reclaim_lock);
		} else if (idle)
			uma__reclaim_idle_run(false);
	}
	return (NULL);
}

/*
 * Start the periodic thread (once per process: again in a fork child).
 * Like every thread of uma's it blocks every signal and does not keep the
 * process alive (kthread.c).
 */
void
uma__timeout_start(void)
{
	pthread_t td;

	pthread_mutex_lock(&timeout.lock);
	if (!timeout.started) {
		timeout.period = timeout_tunable;
		if (uma__kthread_create(&td, timeout_main, NULL, true) == 0)
			timeout.started = true;
	}
	pthread_mutex_unlock(&timeout.lock);
}

/* In a fork child the thread is gone; the next zone creation restarts it. */
void
uma__timeout_child(void)
{
	pthread_mutex_init(&timeout.lock, NULL);
	reclaim_lock = (pthread_mutex_t)PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	pthread_cond_init(&timeout.cv, NULL);
	timeout.started = false;
	timeout.idle = false;
}
