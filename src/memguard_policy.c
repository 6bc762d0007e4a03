/*
 * memguard_policy.c - what MemGuard guards, and how much: the knobs and
 * counters of vm.memguard.*, which zones and types may be guarded
 * (FreeBSD's memguard_cmp, memguard_cmp_zone), the sampling countdowns
 * and the caps on samples.
 *
 * Layer: MemGuard (memguard_int.h), beside memguard.c, which makes the
 * objects.  Takes only desc_lock, a leaf, around vm.memguard.desc.
 *
 * Sampling (vm.memguard.frequency).  FreeBSD draws random() % 100000 at
 * every malloc(9); here nothing may be added to an allocation's hit
 * path, so the draw is a countdown to the next sample, kept where an
 * allocation leaves the hit path anyway: the allocs field of the
 * per-CPU cache's word, which cache.c arms with uma__memguard_countdown
 * so that the pop of the sample carries and misses; for allocations that
 * are slow anyway (zones without caches, malloc runs over 64 KiB), a
 * per-thread countdown (uma__memguard_tick).  A sample is then admitted
 * under two caps that bound what production pays: frequency_maxlive
 * sampled objects live at once (each costs a page), frequency_maxbytes
 * of their pages (an object of more than a quarter of that is never
 * sampled, as GWP-ASan samples nothing over a page), frequency_maxrate a
 * second (each costs system calls and two stack scans, about 15 us).  A sample one of them drops (counted) still cost a trip
 * through the slow path, so drops stretch the countdowns (each doubles
 * their mean, up to 2^MG_STRETCH_MAX) and admissions with room to spare
 * shorten them again, as do frees that leave room under the live cap:
 * samples then come about as often as the caps let them, whatever the
 * program's allocation rate.
 */
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memguard_int.h"
#include "sysctl_int.h"

#define	MG_DESC_LEN	128	/* FreeBSD's vm_memguard_desc[128] */
#define	MG_BURST_NS	100000000	/* a tenth of a second of samples */
#define	MG_STRETCH_MAX	16	/* countdowns at most 65536 times longer */
/*
 * Pages of sampled objects live at once, and an object of more than a
 * quarter of that is never sampled.  Each sampled page is a page the
 * program's own caches did not save it, and a sampled block a run its
 * cache of large runs holds on to anyway (bench large, 64 KiB-4 MiB
 * blocks, frequency=100, peak RSS: +6-11 MiB with no cap, +1.1-1.5 with
 * 256 KiB blocks sampled, +0.1-0.2 with 64 KiB at most); 256 KiB is the
 * count cap's 64 objects of a page.
 */
#define	MG_MAXBYTES	((uint64_t)256 << 10)
/*
 * Samples a second.  A sample's life costs about 15 us of system calls,
 * page faults and two stack scans, and in a threaded program a TLB
 * shootdown on every CPU it runs on when its pages go: bench malloc_run,
 * frequency=100, time geomean +3.3-4.1% at 1000 a second (4 runs; the
 * control without MemGuard 0.99-1.01), +0.9-1.9% at 200 (2 runs).  200 a
 * second is still 720,000 guarded allocations an hour.
 */
#define	MG_MAXRATE	200

struct mg_knobs uma__mg_knobs = {
	.mk_divisor = 10,		/* FreeBSD's */
	.mk_options = MG_GUARD_AROUND,	/* FreeBSD's */
	.mk_maxlive = 64,
	.mk_maxrate = MG_MAXRATE,
	.mk_maxbytes = MG_MAXBYTES,
};
struct mg_counters uma__mg_ctr;
uint32_t uma__mg_sampling;
void (*uma__memguard_types_hook)(void);

static struct {
	pthread_mutex_t	 desc_lock;
	char		 desc[MG_DESC_LEN];
	uint32_t	 live_sampled;	/* sampled objects live (atomic) */
	uint64_t	 live_sampled_bytes;	/* their pages' bytes (atomic) */
	uint64_t	 tat;		/* the rate cap's schedule, ns (atomic) */
	uint32_t	 stretch;	/* countdowns are 2^stretch longer */
} mp = { .desc_lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- knobs and counters (vm.memguard.*) ---------------------------- */

static void
mg_sampling_update(void)
{
	__atomic_store_n(&uma__mg_sampling, MG_LOAD(uma__mg_knobs.mk_frequency)
	    != 0 || (MG_LOAD(uma__mg_knobs.mk_options) & MG_GUARD_ALLLARGE) !=
	    0, __ATOMIC_RELAXED);
}

static int
sysctl_mg_frequency(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int error = uma__sysctl_rw_int(req, &uma__mg_knobs.mk_frequency, 0,
	    100000);

	if (error == 0 && req->newp != NULL)
		mg_sampling_update();
	return (error);
}

/* See memguard_int.h */
uint64_t
uma__mg_physmem(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return (pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size :
	    (uint64_t)1 << 30);
}

/*
 * See memguard_int.h.  Under a data limit, a divisor-th of it, as the
 * arena is of an address-space limit: guarded pages count against it
 * (bench: every malloc guarded under a 200 MB RLIMIT_DATA, 1000-byte
 * blocks took 4 KiB each until the program had 133 MB of its 200).
 */
uint64_t
uma__mg_phys_limit(void)
{
	uint64_t mem = uma__mg_physmem();
	struct rlimit rl;

	if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < mem)
		mem = rl.rlim_cur;
	return (mem / (uint64_t)MG_LOAD(uma__mg_knobs.mk_divisor));
}

static int
sysctl_mg_phys_limit(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	uint64_t v = uma__mg_phys_limit();

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

UMA_SYSCTL_INT(sysctl_mg_divisor, "vm.memguard.divisor",
    &uma__mg_knobs.mk_divisor, UMA_CTLFLAG_RWTUN, 1, 1 << 20,
    "phys_limit is physical memory / divisor, and the arena a divisor-th "
    "of uma's (its size is set when it is reserved)");
UMA_SYSCTL_U64(sysctl_mg_minsize, "vm.memguard.minsize",
    &uma__mg_knobs.mk_minsize, UMA_CTLFLAG_RWTUN, 0, UINT64_MAX,
    "Smallest allocation MemGuard guards (bytes)");
UMA_SYSCTL_PROC(sysctl_mg_frequency_node, "vm.memguard.frequency",
    UMA_CTLTYPE_INT, UMA_CTLFLAG_RWTUN, "I", sysctl_mg_frequency, NULL,
    "Allocations in 100000 that MemGuard guards, of any zone or type");
UMA_SYSCTL_INT(sysctl_mg_maxlive, "vm.memguard.frequency_maxlive",
    &uma__mg_knobs.mk_maxlive, UMA_CTLFLAG_RWTUN, 0, 65536,
    "Most sampled objects live at once (0: no cap but the records')");
UMA_SYSCTL_U64(sysctl_mg_maxbytes, "vm.memguard.frequency_maxbytes",
    &uma__mg_knobs.mk_maxbytes, UMA_CTLFLAG_RWTUN, 0, UINT64_MAX,
    "Most bytes of pages sampled objects hold at once; an object of more "
    "than a quarter of it is never sampled (0: no cap)");
UMA_SYSCTL_INT(sysctl_mg_maxrate, "vm.memguard.frequency_maxrate",
    &uma__mg_knobs.mk_maxrate, UMA_CTLFLAG_RWTUN, 0, 1000000,
    "Most objects sampled a second (0: no cap)");
UMA_SYSCTL_PROC(sysctl_mg_desc_node, "vm.memguard.desc", UMA_CTLTYPE_STRING,
    UMA_CTLFLAG_RWTUN, "A", uma__memguard_desc_handler, NULL,
    "Short description of the malloc type, or name of the zone, that "
    "MemGuard guards (every allocation after it is set)");
UMA_SYSCTL_PROC(sysctl_mg_options_node, "vm.memguard.options",
    UMA_CTLTYPE_INT, UMA_CTLFLAG_RWTUN, "I", uma__memguard_options_handler,
    NULL, "MemGuard options: 0x1 a guard page before each object too, 0x2 "
    "guard every allocation of a page or more, 0x4 guard UMA_ZONE_NOFREE "
    "zones, 0x8 keep no allocation or free stacks");
UMA_SYSCTL_PROC(sysctl_mg_phys_limit_node, "vm.memguard.phys_limit",
    UMA_CTLTYPE_U64, UMA_CTLFLAG_RD, "QU", sysctl_mg_phys_limit, NULL,
    "Limit on MemGuard's pages: objects under a page fall back past it");

#define	MG_X(name, descr)						\
	UMA_SYSCTL_U64(sysctl_mg_##name, "vm.memguard." #name,		\
	    &uma__mg_ctr.name, UMA_CTLFLAG_RD, 0, UINT64_MAX, "MemGuard: " descr);
UMA_MEMGUARD_COUNTERS(MG_X)
#undef MG_X

/* See memguard.h */
int
uma__memguard_options_get(void)
{
	return (MG_LOAD(uma__mg_knobs.mk_options));
}

/* See memguard.h */
void
uma__memguard_options_set(int options)
{
	__atomic_store_n(&uma__mg_knobs.mk_options, options & MG_GUARD_ALL,
	    __ATOMIC_RELAXED);
	mg_sampling_update();
}

/* See memguard.h */
void
uma__memguard_desc_get(char *buf, size_t len)
{
	pthread_mutex_lock(&mp.desc_lock);
	strncpy(buf, mp.desc, len - 1);
	buf[len - 1] = '\0';
	pthread_mutex_unlock(&mp.desc_lock);
}

/* See memguard.h */
void
uma__memguard_desc_set(const char *desc)
{
	pthread_mutex_lock(&mp.desc_lock);
	strncpy(mp.desc, desc, sizeof(mp.desc) - 1);
	mp.desc[sizeof(mp.desc) - 1] = '\0';
	pthread_mutex_unlock(&mp.desc_lock);
}

/* Does vm.memguard.desc name something? */
static bool
mg_desc_named(void)
{
	bool desc;

	pthread_mutex_lock(&mp.desc_lock);
	desc = mp.desc[0] != '\0';
	pthread_mutex_unlock(&mp.desc_lock);
	return (desc);
}

/* See memguard_int.h */
bool
uma__mg_wanted(void)
{
	return (mg_desc_named() || uma__memguard_sampling());
}

/* See memguard_int.h */
bool
uma__mg_exact_wanted(void)
{
	return (mg_desc_named() || (MG_LOAD(uma__mg_knobs.mk_options) &
	    (MG_GUARD_ALLLARGE | MG_EXACTSTACKS)) != 0);
}

/* fork(): desc_lock is a leaf. */
void
uma__mg_policy_fork_prepare(void)
{
	pthread_mutex_lock(&mp.desc_lock);
}

void
uma__mg_policy_fork_parent(void)
{
	pthread_mutex_unlock(&mp.desc_lock);
}

void
uma__mg_policy_fork_child(void)
{
	pthread_mutex_init(&mp.desc_lock, NULL);
}

/* ---- what may be guarded --------------------------------------------- */

/* See memguard.h */
bool
uma__memguard_desc_match(const char *name)
{
	bool match;

	if (name == NULL)
		return (false);
	pthread_mutex_lock(&mp.desc_lock);
	match = mp.desc[0] != '\0' && strcmp(mp.desc, name) == 0;
	pthread_mutex_unlock(&mp.desc_lock);
	return (match);
}

/* See memguard.h */
bool
uma__memguard_alllarge(size_t size)
{
	return ((MG_LOAD(uma__mg_knobs.mk_options) & MG_GUARD_ALLLARGE) &&
	    size >= UMA_PAGE_SIZE);
}

/* See memguard.h */
bool
uma__memguard_zone_eligible(uma_zone_t zone)
{
	uint32_t flags = zone->uz_flags | zone->uz_keg->uk_flags;

	if (flags & (UMA_ZFLAG_INTERNAL | UMA_ZFLAG_BUCKET | UMA_ZFLAG_CLASS |
	    UMA_ZONE_REFCNT | UMA_ZONE_PCPU | UMA_ZFLAG_CACHE |
	    UMA_ZFLAG_FOREIGN | UMA_ZONE_NODUMP))
		return (false);
	if ((flags & UMA_ZONE_NOFREE) &&
	    !(MG_LOAD(uma__mg_knobs.mk_options) & MG_GUARD_NOFREE))
		return (false);
	return (zone->uz_keg->uk_align < UMA_PAGE_SIZE);
}

/* See memguard.h */
bool
uma__memguard_zone_selected(uma_zone_t zone)
{
	return (uma__memguard_zone_eligible(zone) &&
	    (uma__memguard_alllarge(zone->uz_size) ||
	    uma__memguard_desc_match(zone->uz_name)));
}

/* ---- sampling --------------------------------------------------------- */

/*
 * The countdowns draw from a per-thread xorshift: uniform in
 * [1, 2 * 100000 / frequency - 1], whose mean is one sample in
 * 100000 / frequency allocations (GWP-ASan draws the same way).
 */
static __thread uint64_t mg_rand_state
    __attribute__((tls_model("initial-exec")));
static __thread uint32_t mg_tick_left
    __attribute__((tls_model("initial-exec")));

static uint64_t
mg_countdown(void)
{
	uint64_t x = mg_rand_state, mean;
	int f = MG_LOAD(uma__mg_knobs.mk_frequency);
	struct timespec ts;

	if (f <= 0)
		return (0);
	if (x == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		    (uintptr_t)&mg_rand_state ^ 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	mg_rand_state = x;
	mean = (100000 / (uint64_t)f) << MG_LOAD(mp.stretch);
	return (mean <= 1 ? 1 : 1 + x % (2 * mean - 1));
}

/* A sample was dropped (stretch) or admitted with room (shorten). */
static void
mg_stretch(bool longer)
{
	uint32_t s = MG_LOAD(mp.stretch);

	if (longer ? s < MG_STRETCH_MAX : s > 0)
		__atomic_store_n(&mp.stretch, longer ? s + 1 : s - 1,
		    __ATOMIC_RELAXED);
}

/* See memguard.h */
uint64_t
uma__memguard_countdown(uma_zone_t zone)
{
	if (zone->uz_flags & UMA_ZFLAG_CLASS)
		return (uma__memguard_alllarge(zone->uz_size) ? 1 :
		    mg_countdown());
	if (MG_LOAD(uma__mg_knobs.mk_frequency) == 0 ||
	    (atomic_load_explicit(&zone->uz_gate, memory_order_relaxed) &
	    UZ_GATE_MEMGUARD) || !uma__memguard_zone_eligible(zone))
		return (0);
	return (mg_countdown());
}

/* See memguard.h */
bool
uma__memguard_tick(void)
{
	uint64_t k;

	if (mg_tick_left == 0) {
		if ((k = mg_countdown()) == 0)
			return (false);
		mg_tick_left = k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
	}
	return (--mg_tick_left == 0);
}

/*
 * The rate cap: a sample may come if the schedule allows (the generic
 * cell rate algorithm), with a burst of MG_BURST_NS worth of samples.
 * *roomp: more than half the burst is left.  The coarse clock is a read
 * of the vDSO page, not a system call.
 */
static bool
mg_rate_take(bool *roomp)
{
	uint64_t rate = (uint64_t)MG_LOAD(uma__mg_knobs.mk_maxrate), now;
	uint64_t tat, next;
	struct timespec ts;

	*roomp = true;
	if (rate == 0)
		return (true);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	tat = __atomic_load_n(&mp.tat, __ATOMIC_RELAXED);
	do {
		if (tat > now + MG_BURST_NS)
			return (false);
		next = (tat > now ? tat : now) + 1000000000 / rate;
	} while (!__atomic_compare_exchange_n(&mp.tat, &tat, next, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*roomp = next < now + MG_BURST_NS / 2;
	return (true);
}

/* Bytes of the pages a sampled object of `size` holds. */
static uint64_t
mg_sample_bytes(size_t size)
{
	return (roundup2((uint64_t)(size > 0 ? size : 1), UMA_PAGE_SIZE));
}

/* See memguard.h */
bool
uma__memguard_admit(size_t size, bool sampled)
{
	uint64_t maxb, bytes, liveb;
	uint32_t max, live;
	bool room;

	if (size < MG_LOAD(uma__mg_knobs.mk_minsize)) {
		MG_ADD(uma__mg_ctr.minsize_reject, 1);
		return (false);
	}
	if (!sampled)
		return (true);
	maxb = MG_LOAD(uma__mg_knobs.mk_maxbytes);
	bytes = mg_sample_bytes(size);
	if (maxb != 0 && bytes > maxb / 4) {
		/* Never sampled, whatever the countdowns: no stretch. */
		MG_ADD(uma__mg_ctr.frequency_drops, 1);
		return (false);
	}
	max = (uint32_t)MG_LOAD(uma__mg_knobs.mk_maxlive);
	live = __atomic_add_fetch(&mp.live_sampled, 1, __ATOMIC_RELAXED);
	liveb = __atomic_add_fetch(&mp.live_sampled_bytes, bytes,
	    __ATOMIC_RELAXED);
	if ((max != 0 && live > max) || (maxb != 0 && liveb > maxb) ||
	    !mg_rate_take(&room)) {
		MG_SUB(mp.live_sampled, 1);
		MG_SUB(mp.live_sampled_bytes, bytes);
		MG_ADD(uma__mg_ctr.frequency_drops, 1);
		mg_stretch(true);
		return (false);
	}
	if (room && (max == 0 || live <= max / 2) &&
	    (maxb == 0 || liveb <= maxb / 2))
		mg_stretch(false);
	MG_ADD(uma__mg_ctr.frequency_hits, 1);
	return (true);
}

/* See memguard.h.  Room under the live caps again: shorten. */
void
uma__memguard_unadmit(size_t size, bool sampled)
{
	uint32_t max = (uint32_t)MG_LOAD(uma__mg_knobs.mk_maxlive);
	uint64_t maxb = MG_LOAD(uma__mg_knobs.mk_maxbytes), liveb;

	if (!sampled)
		return;
	liveb = __atomic_sub_fetch(&mp.live_sampled_bytes,
	    mg_sample_bytes(size), __ATOMIC_RELAXED);
	if (__atomic_sub_fetch(&mp.live_sampled, 1, __ATOMIC_RELAXED) <=
	    max / 2 && liveb <= maxb / 2)
		mg_stretch(false);
}
