/*
 * zone_fault.c - the page backend refuses the Nth request, for every N a
 * workload makes, and the zone allocator fails cleanly every time: a failed
 * allocation returns NULL and counts one failure, the statistics stay
 * exact, and once everything is freed, drained and destroyed, not one page
 * is missing.
 *
 * Each (workload, N, mode) runs in its own child process so that every run
 * starts from the same allocator state.  A dry run counts the requests the
 * workload makes without failures; the sweep then fails request 1, 2, ...
 * of them ("once"), or every request from the Nth on ("from": an OS that
 * stays out of memory).
 *
 * M_WAITOK never returns NULL for want of memory (lowmem.c): with one
 * request refused, the low-memory path runs and the allocation is served;
 * with every request refused from the Nth on, the child either finishes
 * (it needed no more pages) or aborts with uma's "out of memory" message,
 * after vm.lowmem_retries passes (1 here, to keep the sweep short).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "stats.h"
#include "vm.h"

#define	MAXZONES	160
#define	MAXHELD		8192
#define	MAXSWEEP	400	/* requests swept per workload at most */
#define	CHILD_ALARM	5	/* seconds: a hang is a failure */
#define	MAXFAILED	6	/* failed runs before a sweep gives up */
#if defined(UMA_TSAN) || defined(__SANITIZE_THREAD__)
#define	SWEEP_POINTS	12	/* TSan runs are slow: sample N */
#else
#define	SWEEP_POINTS	0	/* every N */
#endif

/* ---- the failing backend ---------------------------------------------- */

enum fault_mode { FAIL_ONCE, FAIL_FROM };

static const struct uma__backend *arena;
static _Atomic long page_calls;		/* requests since installed */
static _Atomic long fail_at;		/* 0 = never */
static _Atomic int fail_mode;
static _Atomic long injected;

/* Is this request for pages (the Nth since installed) to be refused? */
static bool
fault_now(void)
{
	long n = atomic_fetch_add(&page_calls, 1) + 1;
	long at = atomic_load(&fail_at);

	if (at != 0 && (n == at ||
	    (atomic_load(&fail_mode) == FAIL_FROM && n > at))) {
		atomic_fetch_add(&injected, 1);
		return (true);
	}
	return (false);
}

static int
fault_alloc(size_t len, const struct uma__pgreq *req, int flags,
    void **memp, void *arg)
{
	if (fault_now())
		return (ENOMEM);
	return (arena->ub_alloc(len, req, flags, memp, arena->ub_arg));
}

/* A growth takes pages and may be refused; a shrink always passes. */
static int
fault_resize(void *mem, size_t len, size_t newlen, void *arg)
{
	if (newlen > len && fault_now())
		return (ENOMEM);
	return (arena->ub_resize(mem, len, newlen, arena->ub_arg));
}

static void
fault_free(void *mem, size_t len, void *arg)
{
	arena->ub_free(mem, len, arena->ub_arg);
}

static const struct uma__backend fault_backend = {
	.ub_alloc = fault_alloc,
	.ub_resize = fault_resize,
	.ub_free = fault_free,
};

/* ---- workload bookkeeping --------------------------------------------- */

struct wl {
	int		 flags;		/* M_NOWAIT or M_WAITOK */
	uma_zone_t	 z[MAXZONES];
	int		 nz;
	uint64_t	 ok[MAXZONES], nulls[MAXZONES], frees[MAXZONES];
	struct {
		void	*p;
		int	 zi;
	}		 held[MAXHELD];
	int		 nheld;
	int		 creates_failed;
	int		 waitok_nulls;	/* must stay 0 */
};

static _Atomic int kinit_ok, kfini_calls, zinit_ok, zfini_calls;

static int
kinit(void *mem, int size, int flags)
{
	atomic_fetch_add(&kinit_ok, 1);
	return (0);
}

static void
kfini(void *mem, int size)
{
	atomic_fetch_add(&kfini_calls, 1);
}

static int
zinit(void *mem, int size, int flags)
{
	atomic_fetch_add(&zinit_ok, 1);
	return (0);
}

static void
zfini(void *mem, int size)
{
	atomic_fetch_add(&zfini_calls, 1);
}

static int
wl_zone(struct wl *w, uma_zone_t z)
{
	if (z == NULL) {
		/* uma_zcreate may fail only for want of memory here. */
		CHECK_EQ(errno, ENOMEM);
		w->creates_failed++;
		return (-1);
	}
	CHECK(w->nz < MAXZONES);
	w->z[w->nz] = z;
	return (w->nz++);
}

static uint64_t
tag_of(void *p, int zi)
{
	return ((uintptr_t)p * 0x9e3779b97f4a7c15ull ^ (uint64_t)zi);
}

static void *
wl_alloc_flags(struct wl *w, int zi, int flags)
{
	struct uma__zone_stat zs;
	uint64_t t;
	void *p;

	if (zi < 0)
		return (NULL);
	p = uma_zalloc(w->z[zi], flags);
	if (p == NULL) {
		w->nulls[zi]++;
		w->waitok_nulls += !(flags & (M_NOWAIT | M_NOVM));
		return (NULL);
	}
	CHECK(uma__zone_stat(w->z[zi], &zs, NULL, 0) == 0);
	t = tag_of(p, zi);
	memcpy(p, &t, sizeof(t));
	memcpy((char *)p + zs.zs_size - sizeof(t), &t, sizeof(t));
	CHECK(w->nheld < MAXHELD);
	w->held[w->nheld].p = p;
	w->held[w->nheld].zi = zi;
	w->nheld++;
	w->ok[zi]++;
	return (p);
}

static void *
wl_alloc(struct wl *w, int zi)
{
	return (wl_alloc_flags(w, zi, w->flags));
}

static void
wl_free(struct wl *w, int k)
{
	struct uma__zone_stat zs;
	int zi = w->held[k].zi;
	void *p = w->held[k].p;
	uint64_t t, a, b;

	CHECK(uma__zone_stat(w->z[zi], &zs, NULL, 0) == 0);
	t = tag_of(p, zi);
	memcpy(&a, p, sizeof(a));
	memcpy(&b, (char *)p + zs.zs_size - sizeof(b), sizeof(b));
	CHECK(a == t && b == t);	/* nobody else got this item */
	uma_zfree(w->z[zi], p);
	w->frees[zi]++;
	w->held[k] = w->held[--w->nheld];
}

/* ---- the workloads ---------------------------------------------------- */

/* First allocation of fresh zones, small and page-sized. */
static void
wl_first_alloc(struct wl *w)
{
	int a = wl_zone(w, uma_zcreate("fault-first-128", 128, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, 0));
	int b = wl_zone(w, uma_zcreate("fault-first-4096", 4096, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, 0));

	wl_alloc(w, a);
	wl_alloc(w, b);
	wl_alloc(w, a);
}

/* Many items: bucket fills, new buckets, many slabs; frees on the way. */
static void
wl_refill(struct wl *w)
{
	int a = wl_zone(w, uma_zcreate("fault-refill-64", 64, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, 0));
	int b = wl_zone(w, uma_zcreate("fault-refill-nobucket", 200, NULL,
	    NULL, NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET));
	int c = wl_zone(w, uma_zcreate("fault-refill-maxbucket", 32, NULL,
	    NULL, NULL, NULL, UMA_ALIGN_CACHE, UMA_ZONE_MAXBUCKET));

	for (int i = 0; i < 2500; i++) {
		wl_alloc(w, a);
		if (i % 4 == 0)
			wl_alloc(w, b);
		if (i % 2 == 0)
			wl_alloc(w, c);
		if (i % 3 == 0 && w->nheld > 0)
			wl_free(w, (i * 7) % w->nheld);
	}
}

/* A secondary zone on a primary with a keg init. */
static void
wl_secondary(struct wl *w)
{
	int p, s = -1;
	uma_zone_t pz;

	p = wl_zone(w, pz = uma_zcreate("fault-prim", 256, NULL, NULL, kinit,
	    kfini, UMA_ALIGN_PTR, 0));
	if (p >= 0)
		s = wl_zone(w, uma_zsecond_create("fault-sec", NULL, NULL,
		    zinit, zfini, pz));
	for (int i = 0; i < 400; i++) {
		wl_alloc(w, s);
		if (i % 3 == 0)
			wl_alloc(w, p);
		if (i % 5 == 0 && w->nheld > 0)
			wl_free(w, (i * 13) % w->nheld);
	}
}

/* uma_prealloc, then allocations that must not touch the backend. */
static void
wl_prealloc(struct wl *w)
{
	int a = wl_zone(w, uma_zcreate("fault-prealloc", 512, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, 0));
	int b = wl_zone(w, uma_zcreate("fault-prealloc-big", 20000, NULL,
	    NULL, NULL, NULL, UMA_ALIGN_PTR, 0));

	if (a >= 0)
		uma_prealloc(w->z[a], 300);
	if (b >= 0)
		uma_prealloc(w->z[b], 10);
	for (int i = 0; i < 300; i++)
		wl_alloc_flags(w, a, M_NOWAIT | M_NOVM);
	for (int i = 0; i < 10; i++)
		wl_alloc_flags(w, b, M_NOWAIT | M_NOVM);
	for (int i = 0; i < 100; i++)
		wl_alloc(w, a);
}

/* A keg init and fini on every item of every slab. */
static void
wl_keg_init(struct wl *w)
{
	int a = wl_zone(w, uma_zcreate("fault-keginit", 300, NULL, NULL,
	    kinit, kfini, UMA_ALIGN_PTR, 0));
	int b = wl_zone(w, uma_zcreate("fault-keginit-offpage", 1000, NULL,
	    NULL, kinit, kfini, UMA_ALIGN_PTR, UMA_ZONE_NOTOUCH));

	for (int i = 0; i < 600; i++) {
		wl_alloc(w, a);
		if (i % 2 == 0)
			wl_alloc(w, b);
	}
}

/* Multi-page slabs. */
static void
wl_large(struct wl *w)
{
	static const size_t sizes[] = { 5000, 9000, 12000, 40000, 65536 };
	int zi[5];

	for (int i = 0; i < 5; i++)
		zi[i] = wl_zone(w, uma_zcreate("fault-large", sizes[i], NULL,
		    NULL, NULL, NULL, UMA_ALIGN_PTR, 0));
	for (int r = 0; r < 12; r++)
		for (int i = 0; i < 5; i++)
			wl_alloc(w, zi[i]);
}

/* Zone creation itself: zone and keg structures come from pages too. */
static void
wl_create(struct wl *w)
{
	static char names[120][24];

	for (int i = 0; i < 120; i++) {
		uma_zone_t z;
		int zi;

		snprintf(names[i], sizeof(names[i]), "fault-create-%d", i);
		z = uma_zcreate(names[i], (size_t)(16 + 8 * (i % 50)), NULL,
		    NULL, NULL, NULL, UMA_ALIGN_PTR,
		    i % 10 == 9 ? UMA_ZONE_NOBUCKET : 0);
		zi = wl_zone(w, z);
		wl_alloc(w, zi);
		if (zi >= 0 && i % 4 == 0) {
			uma_zone_t s = uma_zsecond_create(names[i], NULL,
			    NULL, NULL, NULL, z);

			wl_alloc(w, wl_zone(w, s));
		}
	}
}

struct workload {
	const char	*name;
	void		(*fn)(struct wl *);
};

static const struct workload workloads[] = {
	{ "first_alloc", wl_first_alloc },
	{ "refill", wl_refill },
	{ "secondary", wl_secondary },
	{ "prealloc", wl_prealloc },
	{ "keg_init", wl_keg_init },
	{ "large", wl_large },
	{ "create", wl_create },
};

/* ---- accounting across all zones -------------------------------------- */

struct pagesum {
	uint64_t	keg_pages;
};

static int
pagesum_one(uma_zone_t z, void *arg)
{
	struct pagesum *ps = arg;
	struct uma__zone_stat zs;

	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	if (zs.zs_secondary == 0)
		ps->keg_pages += zs.zs_pages;
	return (0);
}

/* Pages the backend gave out that no keg accounts for. */
static int64_t
pages_outside_kegs(int *nzones)
{
	struct pagesum ps = { 0 };

	CHECK(uma__zone_foreach(pagesum_one, &ps, 1) == 0);
	/* User zones only: uma makes internal ones (slab headers) lazily. */
	if (nzones != NULL)
		*nzones = uma__zone_count(0);
	return ((int64_t)uma__vm_pages() - (int64_t)ps.keg_pages);
}

/* ---- one run in a child ----------------------------------------------- */

struct shared {
	long	calls;		/* page requests of the dry run */
};

static void
set_lowmem_retries(int n)
{
	CHECK_EQ(uma_sysctlbyname("vm.lowmem_retries", NULL, NULL, &n,
	    sizeof(n)), 0);
}

static struct wl wl;

static void
run_child(const struct workload *wk, int flags, long at, int mode,
    struct shared *sh)
{
	struct uma__zone_stat zs;
	int64_t outside0, outside1;
	int nzones0, nzones1;
	uma_zone_t warm;
	void *p;

	alarm(CHILD_ALARM);
	set_lowmem_retries(1);
	/* Start uma and its internal zones with the real backend. */
	warm = uma_zcreate("fault-warm", 32, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(warm != NULL);
	p = uma_zalloc(warm, M_WAITOK);
	CHECK(p != NULL);
	uma_zfree(warm, p);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	outside0 = pages_outside_kegs(&nzones0);

	memset(&wl, 0, sizeof(wl));
	wl.flags = flags;
	arena = uma__backend_arena();
	CHECK(arena != NULL);
	atomic_store(&fail_at, at);
	atomic_store(&fail_mode, mode);
	uma__backend_set(&fault_backend);
	wk->fn(&wl);
	atomic_store(&fail_at, 0);
	uma__backend_set(arena);
	if (sh != NULL)
		sh->calls = atomic_load(&page_calls);
	if (at != 0)
		CHECK(atomic_load(&injected) >= 1);
	else
		CHECK_EQ(atomic_load(&injected), 0);

	/* M_WAITOK was served every time; the OS refused once at most. */
	CHECK_EQ(wl.waitok_nulls, 0);
	/* Every failed allocation returned NULL and counted one failure. */
	for (int i = 0; i < wl.nz; i++) {
		CHECK(uma__zone_stat(wl.z[i], &zs, NULL, 0) == 0);
		if (zs.zs_fails != wl.nulls[i] || zs.zs_allocs != wl.ok[i])
			fprintf(stderr, "zone %s: fails %llu nulls %llu "
			    "allocs %llu ok %llu\n", zs.zs_name,
			    (unsigned long long)zs.zs_fails,
			    (unsigned long long)wl.nulls[i],
			    (unsigned long long)zs.zs_allocs,
			    (unsigned long long)wl.ok[i]);
		CHECK_EQ(zs.zs_fails, wl.nulls[i]);
		CHECK_EQ(zs.zs_allocs, wl.ok[i]);
		CHECK_EQ(zs.zs_frees, wl.frees[i]);
	}
	if (at == 0) {
		/* Without failures nothing fails. */
		for (int i = 0; i < wl.nz; i++)
			CHECK_EQ(wl.nulls[i], 0);
		CHECK_EQ(wl.creates_failed, 0);
	}
	/* Items in hand are intact, then go back. */
	while (wl.nheld > 0)
		wl_free(&wl, wl.nheld - 1);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	for (int i = 0; i < wl.nz; i++) {
		CHECK(uma__zone_stat(wl.z[i], &zs, NULL, 0) == 0);
		CHECK_EQ(zs.zs_allocs, zs.zs_frees);
		CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
		CHECK_EQ(zs.zs_pages, 0);
		CHECK_EQ(zs.zs_items, 0);
		CHECK_EQ(uma_zone_get_cur(wl.z[i]), 0);
	}
	/* Inits and finis balance: no slab was half built and forgotten. */
	CHECK_EQ(atomic_load(&kinit_ok), atomic_load(&kfini_calls));
	CHECK_EQ(atomic_load(&zinit_ok), atomic_load(&zfini_calls));
	/* Secondaries were created after their primaries: destroy backwards. */
	for (int i = wl.nz - 1; i >= 0; i--)
		uma_zdestroy(wl.z[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	outside1 = pages_outside_kegs(&nzones1);
	if (outside1 != outside0)
		fprintf(stderr, "pages outside kegs: %lld before, %lld after\n",
		    (long long)outside0, (long long)outside1);
	CHECK_EQ(outside1, outside0);
	CHECK_EQ(nzones1, nzones0);
	/* The allocator still works. */
	p = uma_zalloc(warm, M_NOWAIT);
	CHECK(p != NULL);
	uma_zfree(warm, p);
	uma_zdestroy(warm);
}

/*
 * Did the child abort with uma's "out of memory" message?  Its stderr is
 * in `fd`.  Only a M_WAITOK run that the OS refuses for good may end so.
 */
static bool
aborted_out_of_memory(int status, int fd)
{
	char buf[4096];
	ssize_t n;

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		return (false);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return (strstr(buf, "uma: out of memory: ") != NULL &&
	    strstr(buf, "a M_WAITOK allocation cannot return NULL") != NULL);
}

/*
 * Fork, run, and report how the child ended.  Returns 1 if it finished,
 * 2 if it aborted as a M_WAITOK run refused for good must, 0 otherwise.
 */
static int
run_forked(const struct workload *wk, int flags, long at, int mode,
    struct shared *sh)
{
	char errpath[] = "/tmp/zone_fault.XXXXXX";
	char buf[4096];
	int status, errfd;
	ssize_t n;
	pid_t pid;

	errfd = mkstemp(errpath);
	CHECK(errfd >= 0);
	unlink(errpath);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		cpu_set_t one;

		dup2(errfd, 2);

		/*
		 * One CPU: every run must make the dry run's page requests in
		 * the same order, and a migration makes a second CPU's
		 * buckets (more requests) in one run and not in another.
		 */
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
		(void)sched_setaffinity(0, sizeof(one), &one);
		run_child(wk, flags, at, mode, sh);
		fflush(NULL);
#if SWEEP_POINTS > 0
		/* Skip TSan's exit-time sleep (atexit_sleep_ms, 1 s a child). */
		syscall(SYS_exit_group, 0);
#endif
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close(errfd);
		return (1);
	}
	if (flags == M_WAITOK && mode == FAIL_FROM &&
	    aborted_out_of_memory(status, errfd)) {
		close(errfd);
		return (2);
	}
	n = pread(errfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(errfd);
	fprintf(stderr, "%s  workload %s, %s, fail %s request %ld: %s %d\n",
	    buf, wk->name, flags == M_NOWAIT ? "M_NOWAIT" : "M_WAITOK",
	    mode == FAIL_ONCE ? "only" : "from", at,
	    WIFSIGNALED(status) ? "signal" : "exit",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return (0);
}

static void
sweep(const struct workload *wk)
{
	struct shared *sh;
	int failed = 0, runs = 0, oom = 0, r;
	long k, step;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh->calls = -1;
	/* The dry run: no failures, count the requests. */
	CHECK(run_forked(wk, M_NOWAIT, 0, FAIL_ONCE, sh));
	k = sh->calls;
	CHECK(k >= 1);
	if (k > MAXSWEEP)
		k = MAXSWEEP;
#if SWEEP_POINTS > 0
	step = k > SWEEP_POINTS ? k / SWEEP_POINTS : 1;
#else
	step = 1;
#endif
	for (int f = 0; f < 2; f++) {
		int flags = f == 0 ? M_NOWAIT : M_WAITOK;

		for (long n = 1; n <= k && failed < MAXFAILED; n += step) {
			runs += 2;
			failed += run_forked(wk, flags, n, FAIL_ONCE, NULL) != 1;
			r = run_forked(wk, flags, n, FAIL_FROM, NULL);
			failed += r == 0;
			oom += r == 2;
		}
	}
	printf("  %-12s %ld page requests, %d runs, %d failed, %d M_WAITOK "
	    "runs out of memory\n", wk->name, sh->calls, runs, failed, oom);
	munmap(sh, sizeof(*sh));
	CHECK_EQ(failed, 0);
	/* Refused for good, a M_WAITOK run that needs pages gives up. */
	CHECK(oom > 0);
}

UMA_TEST(zone_fault_first_allocation_fails_cleanly)
{
	sweep(&workloads[0]);
}

UMA_TEST(zone_fault_bucket_refills_fail_cleanly)
{
	sweep(&workloads[1]);
}

UMA_TEST(zone_fault_secondary_zone_fails_cleanly)
{
	sweep(&workloads[2]);
}

UMA_TEST(zone_fault_prealloc_fails_cleanly)
{
	sweep(&workloads[3]);
}

UMA_TEST(zone_fault_keg_init_zone_fails_cleanly)
{
	sweep(&workloads[4]);
}

UMA_TEST(zone_fault_large_items_fail_cleanly)
{
	sweep(&workloads[5]);
}

UMA_TEST(zone_fault_zone_creation_fails_cleanly)
{
	sweep(&workloads[6]);
}

/*
 * M_NOWAIT when the backend refuses every request: NULL, one failure
 * counted, and no low-memory pass (a pass is for callers that may wait).
 * M_WAITOK | M_NOVM is no wait for pages either.
 */
static _Atomic int nowait_passes;

static void
count_pass(void *arg, int flags)
{
	CHECK_EQ(flags, UMA_LOWMEM_PAGES);
	atomic_fetch_add(&nowait_passes, 1);
}

UMA_TEST(zone_fault_nowait_without_memory_returns_null_and_counts)
{
	struct uma__zone_stat zs;
	uma_lowmem_tag_t tag;
	uma_zone_t z;

	z = uma_zcreate("fault-nowait", 256, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	tag = uma_lowmem_register(count_pass, NULL, UMA_LOWMEM_PRI_ANY);
	CHECK(tag != NULL);
	arena = uma__backend_arena();
	atomic_store(&fail_mode, FAIL_FROM);
	atomic_store(&fail_at, 1);
	uma__backend_set(&fault_backend);
	alarm(CHILD_ALARM);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK(uma_zalloc(z, M_NOWAIT | M_ZERO) == NULL);
	CHECK(uma_zalloc(z, M_WAITOK | M_NOVM) == NULL);
	alarm(0);
	atomic_store(&fail_at, 0);
	uma__backend_set(arena);
	CHECK(atomic_load(&injected) >= 2);
	CHECK_EQ(atomic_load(&nowait_passes), 0);
	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	CHECK_EQ(zs.zs_fails, 3);
	CHECK_EQ(zs.zs_allocs, 0);
	CHECK_EQ(zs.zs_pages, 0);
	uma_lowmem_deregister(tag);
	uma_zdestroy(z);
}
