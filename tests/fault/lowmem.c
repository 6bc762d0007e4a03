/*
 * lowmem.c - M_WAITOK never returns NULL for want of memory: when the OS
 * refuses pages, uma runs the low-memory handlers (uma_lowmem_register)
 * and drains every zone, then tries again; refused for good, it aborts
 * with a message naming what it could not get.  M_NOWAIT still returns
 * NULL.
 *
 * The OS is the fault-injection backend (src/vm.h): it refuses every
 * request, or every request beyond a budget of pages outstanding, so that
 * memory a handler frees is memory the retry can have.  malloc's large
 * runs come from the arena's map, not the backend: those tests run in a
 * child whose arena is 1 GiB (vm.uma_arena_gb), which they fill.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/malloc.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "stats.h"
#include "vm.h"

#define	ALARM_S		20	/* a hang is a failure */
#define	NCACHE		64	/* pages the "program's cache" holds */

static struct uma__zone_stat
zstat(uma_zone_t z)
{
	struct uma__zone_stat zs;

	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	return (zs);
}

/* ---- the OS: refuses all, or beyond a budget of outstanding pages ---- */

static const struct uma__backend *arena;
static _Atomic long budget = -1;	/* pages uma may hold; -1: any */
static _Atomic long refuse_next;	/* refuse this many requests */
static _Atomic long refusals;

/* Does the OS refuse `npages` more pages now? */
static bool
os_refuses(size_t npages)
{
	long b = atomic_load(&budget), n = atomic_load(&refuse_next);

	if ((n > 0 && atomic_compare_exchange_strong(&refuse_next, &n,
	    n - 1)) || (b >= 0 && (long)(uma__vm_pages() + npages) > b)) {
		atomic_fetch_add(&refusals, 1);
		return (true);
	}
	return (false);
}

static int
os_alloc(size_t len, const struct uma__pgreq *req, int flags, void **memp,
    void *arg)
{
	if (os_refuses(len / UMA_PAGE_SIZE))
		return (ENOMEM);
	return (arena->ub_alloc(len, req, flags, memp, arena->ub_arg));
}

static int
os_resize(void *mem, size_t len, size_t newlen, void *arg)
{
	if (newlen > len && os_refuses((newlen - len) / UMA_PAGE_SIZE))
		return (ENOMEM);
	return (arena->ub_resize(mem, len, newlen, arena->ub_arg));
}

static void
os_free(void *mem, size_t len, void *arg)
{
	arena->ub_free(mem, len, arena->ub_arg);
}

static const struct uma__backend os_backend = {
	.ub_alloc = os_alloc,
	.ub_resize = os_resize,
	.ub_free = os_free,
};

static void
os_install(void)
{
	uma_zone_t warm;

	/* uma and its internal zones start on the real backend. */
	warm = uma_zcreate("lowmem-warm", 32, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(warm != NULL);
	uma_zfree(warm, uma_zalloc(warm, M_WAITOK));
	arena = uma__backend_arena();
	uma__backend_set(&os_backend);
	alarm(ALARM_S);
}

static void
set_retries(int n)
{
	CHECK_EQ(uma_sysctlbyname("vm.lowmem_retries", NULL, NULL, &n,
	    sizeof(n)), 0);
}

/* Calls of each handler, shared with the parent of expect_abort. */
struct calls {
	_Atomic int	 n[4];
	_Atomic int	 order[16];
	_Atomic int	 norder;
};

static struct calls *
calls_shared(void)
{
	struct calls *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(c != MAP_FAILED);
	memset(c, 0, sizeof(*c));
	return (c);
}

static struct calls *calls;

static void
note(int who, int flags)
{
	CHECK_EQ(flags, UMA_LOWMEM_PAGES);
	atomic_fetch_add(&calls->n[who], 1);
	calls->order[atomic_fetch_add(&calls->norder, 1) % 16] = who;
}

static void
handler0(void *arg, int flags)
{
	CHECK(arg == &calls);
	note(0, flags);
}

static void
handler1(void *arg, int flags)
{
	note(1, flags);
}

static void
handler2(void *arg, int flags)
{
	note(2, flags);
}

/* ---- refused for good ---------------------------------------------- */

static void
waitok_refused_for_good(void *arg)
{
	uma_zone_t z;

	set_retries(3);
	CHECK(uma_lowmem_register(handler0, &calls, UMA_LOWMEM_PRI_ANY) !=
	    NULL);
	z = uma_zcreate("lowmem-zone", 256, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	os_install();
	atomic_store(&refuse_next, 1000000);
	(void)uma_zalloc(z, M_WAITOK);
	fprintf(stderr, "uma_zalloc(M_WAITOK) returned\n");
}

/*
 * The OS refuses every page: the handler runs once per pass, three passes
 * (vm.lowmem_retries), and the fourth refusal aborts with the message.
 */
UMA_TEST(lowmem_waitok_refused_for_good_runs_the_handlers_then_aborts)
{
	static const char *const n[] = { "uma: out of memory: ",
	    "256 bytes for zone \"lowmem-zone\"",
	    "refused memory 4 times",
	    "a M_WAITOK allocation cannot return NULL", NULL };

	calls = calls_shared();
	CHECK(expect_abort(waitok_refused_for_good, NULL, n));
	CHECK_EQ(atomic_load(&calls->n[0]), 3);
}

/* ---- memory a handler frees -------------------------------------- */

static uma_zone_t cache_zone;
static void *cache_items[NCACHE];

/* The program's own cache: what it can spare when memory is short. */
static void
free_cache(void *arg, int flags)
{
	note(1, flags);
	for (int i = 0; i < NCACHE; i++) {
		uma_zfree(cache_zone, cache_items[i]);
		cache_items[i] = NULL;
	}
}

/*
 * The OS refuses anything beyond what uma holds now, a program cache of
 * NCACHE pages included; a M_WAITOK allocation of another zone is refused
 * until the handler frees the cache, and the pass's drain gives its pages
 * back.  One pass does it: the handlers run before the drain.
 */
UMA_TEST(lowmem_waitok_is_served_once_a_handler_frees_memory)
{
	struct uma__zone_stat zs;
	uma_lowmem_tag_t tag;
	uma_zone_t z;
	unsigned char *p;

	calls = calls_shared();
	set_retries(3);
	cache_zone = uma_zcreate("lowmem-cache", 4096, NULL, NULL, NULL,
	    NULL, UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	z = uma_zcreate("lowmem-want", 512, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(cache_zone != NULL && z != NULL);
	tag = uma_lowmem_register(free_cache, NULL, UMA_LOWMEM_PRI_ANY);
	CHECK(tag != NULL);
	os_install();
	for (int i = 0; i < NCACHE; i++) {
		cache_items[i] = uma_zalloc(cache_zone, M_WAITOK);
		CHECK(cache_items[i] != NULL);
		memset(cache_items[i], i, 4096);
	}
	atomic_store(&budget, (long)uma__vm_pages());
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL);
	memset(p, 0xa5, 512);
	CHECK(p[0] == 0xa5 && p[511] == 0xa5);
	CHECK(atomic_load(&refusals) >= 1);
	CHECK_EQ(atomic_load(&calls->n[1]), 1);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 0);
	CHECK_EQ(zs.zs_allocs, 1);
	CHECK_EQ(zstat(cache_zone).zs_pages, 0);
	uma_zfree(z, p);
	atomic_store(&budget, -1);
	uma_lowmem_deregister(tag);
}

/* ---- handlers: priority, deregistration ----------------------------- */

static uma_lowmem_tag_t self_tag;
static uma_zone_t side_zone;

/* Deregisters itself and allocates, from inside the pass. */
static void
handler_self(void *arg, int flags)
{
	void *p;

	note(3, flags);
	uma_lowmem_deregister(self_tag);
	p = uma_zalloc(side_zone, M_NOWAIT);
	uma_zfree(side_zone, p);
}

/*
 * One refusal, one pass: the handlers run lowest priority first, a
 * deregistered one not at all; a handler that deregisters itself in the
 * pass runs that once, and is gone from the next pass.
 */
UMA_TEST(lowmem_handlers_run_by_priority_and_can_leave)
{
	uma_lowmem_tag_t t0, t1, t2;
	uma_zone_t z;
	void *p, *q;

	calls = calls_shared();
	set_retries(3);
	/* Each item a slab of its own: each allocation asks the OS. */
	z = uma_zcreate("lowmem-order", 16384, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	side_zone = uma_zcreate("lowmem-side", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL && side_zone != NULL);
	uma_zfree(side_zone, uma_zalloc(side_zone, M_WAITOK));
	t0 = uma_lowmem_register(handler0, &calls, UMA_LOWMEM_PRI_LAST);
	t1 = uma_lowmem_register(handler1, NULL, UMA_LOWMEM_PRI_FIRST);
	t2 = uma_lowmem_register(handler2, NULL, UMA_LOWMEM_PRI_ANY);
	self_tag = uma_lowmem_register(handler_self, NULL,
	    UMA_LOWMEM_PRI_ANY + 1);
	CHECK(t0 != NULL && t1 != NULL && t2 != NULL && self_tag != NULL);
	uma_lowmem_deregister(t2);
	os_install();
	atomic_store(&refuse_next, 1);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&refusals), 1);
	CHECK_EQ(atomic_load(&calls->norder), 3);
	CHECK_EQ(calls->order[0], 1);	/* FIRST */
	CHECK_EQ(calls->order[1], 3);	/* ANY + 1 */
	CHECK_EQ(calls->order[2], 0);	/* LAST */
	CHECK_EQ(atomic_load(&calls->n[2]), 0);
	/* The next pass: without the one that left. */
	atomic_store(&refuse_next, 1);
	q = uma_zalloc(z, M_WAITOK);
	CHECK(q != NULL && q != p);
	CHECK_EQ(atomic_load(&calls->norder), 5);
	CHECK_EQ(calls->order[3], 1);
	CHECK_EQ(calls->order[4], 0);
	CHECK_EQ(atomic_load(&calls->n[3]), 1);
	uma_zfree(z, p);
	uma_zfree(z, q);
	uma_lowmem_deregister(t0);
	uma_lowmem_deregister(t1);
}

/* ---- M_NOWAIT and many threads ---------------------------------------- */

/*
 * M_NOWAIT refused: NULL, a failure, no pass.  The same M_WAITOK request
 * is then served after one refusal, with one pass.
 */
UMA_TEST(lowmem_nowait_refused_returns_null_without_a_pass)
{
	uma_lowmem_tag_t tag;
	uma_zone_t z;
	void *p;

	calls = calls_shared();
	/* No buckets: one request to the OS per allocation. */
	z = uma_zcreate("lowmem-nowait", 100, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	CHECK(z != NULL);
	tag = uma_lowmem_register(handler2, NULL, UMA_LOWMEM_PRI_ANY);
	os_install();
	atomic_store(&refuse_next, 1000);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK_EQ(zstat(z).zs_fails, 1);
	CHECK_EQ(atomic_load(&calls->n[2]), 0);
	atomic_store(&refuse_next, 1);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&calls->n[2]), 1);
	CHECK_EQ(zstat(z).zs_fails, 1);
	uma_zfree(z, p);
	uma_lowmem_deregister(tag);
}

#define	NTHREADS	4

static uma_zone_t mt_zone;
static void *mt_got[NTHREADS];

static void *
mt_main(void *arg)
{
	int i = (int)(intptr_t)arg;

	mt_got[i] = uma_zalloc(mt_zone, M_WAITOK);
	if (mt_got[i] != NULL)
		memset(mt_got[i], i, 2000);
	return (NULL);
}

/*
 * Threads refused together: each is served once the handler has freed
 * the cache (in one of their passes), none gets NULL, none hangs.
 */
UMA_TEST(lowmem_threads_refused_together_are_all_served)
{
	pthread_t td[NTHREADS];
	uma_lowmem_tag_t tag;

	calls = calls_shared();
	set_retries(5);
	cache_zone = uma_zcreate("lowmem-cache", 4096, NULL, NULL, NULL,
	    NULL, UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	mt_zone = uma_zcreate("lowmem-mt", 2000, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	CHECK(cache_zone != NULL && mt_zone != NULL);
	tag = uma_lowmem_register(free_cache, NULL, UMA_LOWMEM_PRI_ANY);
	os_install();
	for (int i = 0; i < NCACHE; i++)
		CHECK((cache_items[i] = uma_zalloc(cache_zone, M_WAITOK)) !=
		    NULL);
	atomic_store(&budget, (long)uma__vm_pages());
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_create(&td[i], NULL, mt_main,
		    (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_join(td[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK(mt_got[i] != NULL);
		CHECK(((unsigned char *)mt_got[i])[1999] == i);
		for (int j = 0; j < i; j++)
			CHECK(mt_got[i] != mt_got[j]);
	}
	CHECK(atomic_load(&calls->n[1]) >= 1);
	CHECK_EQ(zstat(mt_zone).zs_fails, 0);
	for (int i = 0; i < NTHREADS; i++)
		uma_zfree(mt_zone, mt_got[i]);
	uma_lowmem_deregister(tag);
}

/* ---- malloc's large runs and contigmalloc, in a 1 GiB arena ----------- */

MALLOC_DEFINE(M_LOWMEM_HELD, "lowmem_held", "runs a handler frees");
MALLOC_DEFINE(M_LOWMEM_BIG, "lowmem_big", "the request");

#define	MB		((size_t)1 << 20)
#define	NRUNS		48
#define	RUN		(12 * MB)

static void *runs[NRUNS];

static bool
in_small_arena(const char *name)
{
	int status;
	pid_t pid;

	if (getenv("LOWMEM_SMALL_ARENA") != NULL)
		return (true);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("UMA_TUNABLES", "vm.uma_arena_gb=1", 1);
		setenv("LOWMEM_SMALL_ARENA", "1", 1);
		execl("/proc/self/exe", "lowmem", name, (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return (false);
}

static void
free_runs(void *arg, int flags)
{
	note(1, flags);
	for (int i = 0; i < NRUNS; i++) {
		uma_free(runs[i], M_LOWMEM_HELD);
		runs[i] = NULL;
	}
}

static void
big_waitok(void *arg)
{
	set_retries(2);
	(void)uma_malloc(2048 * MB, M_LOWMEM_BIG, M_WAITOK);
	fprintf(stderr, "uma_malloc(M_WAITOK) returned\n");
}

/*
 * More than the arena: M_NOWAIT gets NULL and ENOMEM; M_WAITOK runs the
 * passes, then aborts naming the malloc type and the size.  Runs held by
 * the program and freed by its handler serve a M_WAITOK request that did
 * not fit; contigmalloc(M_WAITOK) likewise, and returns NULL (as
 * FreeBSD's may) for a window beside the arena, without a pass.
 */
UMA_TEST(lowmem_malloc_large_and_contigmalloc_wait_for_memory)
{
	static const char *const n[] = { "uma: out of memory: ",
	    "2147483648 bytes for malloc type \"lowmem_big\"",
	    "refused memory 3 times", NULL };
	uma_lowmem_tag_t tag;
	unsigned char *p;

	if (!in_small_arena(
	    "lowmem_malloc_large_and_contigmalloc_wait_for_memory"))
		return;
	calls = calls_shared();
	errno = 0;
	CHECK(uma_malloc(2048 * MB, M_LOWMEM_BIG, M_NOWAIT) == NULL);
	CHECK_EQ(uma_vm_size, 1024 * MB);
	CHECK_EQ(errno, ENOMEM);
	CHECK(expect_abort(big_waitok, NULL, n));

	set_retries(3);
	tag = uma_lowmem_register(free_runs, NULL, UMA_LOWMEM_PRI_ANY);
	CHECK(tag != NULL);
	for (int i = 0; i < NRUNS; i++)
		CHECK((runs[i] = uma_malloc(RUN, M_LOWMEM_HELD, M_NOWAIT)) !=
		    NULL);
	/* 576 MiB held: 600 do not fit until the handler frees them. */
	CHECK(uma_malloc(600 * MB, M_LOWMEM_BIG, M_NOWAIT) == NULL);
	CHECK_EQ(atomic_load(&calls->n[1]), 0);
	p = uma_malloc(600 * MB, M_LOWMEM_BIG, M_WAITOK);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&calls->n[1]), 1);
	p[0] = 1;
	p[600 * MB - 1] = 2;
	uma_free(p, M_LOWMEM_BIG);

	for (int i = 0; i < NRUNS; i++)
		CHECK((runs[i] = uma_malloc(RUN, M_LOWMEM_HELD, M_NOWAIT)) !=
		    NULL);
	p = contigmalloc(600 * MB, M_LOWMEM_BIG, M_WAITOK, 0, ~0UL, 0, 0);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&calls->n[1]), 2);
	contigfree(p, 600 * MB, M_LOWMEM_BIG);
	/* A window below the arena: no pass could help. */
	errno = 0;
	CHECK(contigmalloc(4096, M_LOWMEM_BIG, M_WAITOK, 0, uma_vm_base - 1,
	    0, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(atomic_load(&calls->n[1]), 2);
	uma_lowmem_deregister(tag);
}

static void *grown;

static void
realloc_waitok(void *arg)
{
	set_retries(2);
	(void)uma_realloc(grown, 2048 * MB, M_LOWMEM_BIG, M_WAITOK);
	fprintf(stderr, "uma_realloc(M_WAITOK) returned\n");
}

/*
 * realloc of a large block beyond the arena: M_NOWAIT gets NULL and
 * ENOMEM with the block as it was; M_WAITOK runs the passes and aborts
 * naming the type; and with runs held that a handler frees, M_WAITOK grows
 * the block after one pass, its bytes kept.
 */
UMA_TEST(lowmem_realloc_waits_for_memory_and_keeps_the_block)
{
	static const char *const n[] = { "uma: out of memory: ",
	    "bytes for malloc type \"lowmem_big\"", "refused memory 3 times",
	    NULL };
	uma_lowmem_tag_t tag;
	unsigned char *p;

	if (!in_small_arena("lowmem_realloc_waits_for_memory_and_keeps_the_"
	    "block"))
		return;
	calls = calls_shared();
	p = grown = uma_malloc(100 * MB, M_LOWMEM_BIG, M_WAITOK);
	for (size_t o = 0; o < 100 * MB; o += 4096)
		p[o] = (unsigned char)(o >> 12);
	errno = 0;
	CHECK(uma_realloc(p, 2048 * MB, M_LOWMEM_BIG, M_NOWAIT) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(uma_malloc_usable_size(p), 100 * MB);
	CHECK(expect_abort(realloc_waitok, NULL, n));

	set_retries(3);
	tag = uma_lowmem_register(free_runs, NULL, UMA_LOWMEM_PRI_ANY);
	CHECK(tag != NULL);
	for (int i = 0; i < NRUNS; i++)
		CHECK((runs[i] = uma_malloc(RUN, M_LOWMEM_HELD, M_NOWAIT)) !=
		    NULL);
	/* 100 + 576 MiB held: 500 more do not fit until the handler runs. */
	CHECK(uma_realloc(p, 600 * MB, M_LOWMEM_BIG, M_NOWAIT) == NULL);
	CHECK_EQ(atomic_load(&calls->n[1]), 0);
	p = uma_realloc(p, 600 * MB, M_LOWMEM_BIG, M_WAITOK);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&calls->n[1]), 1);
	for (size_t o = 0; o < 100 * MB; o += 4096)
		if (p[o] != (unsigned char)(o >> 12))
			CHECK_EQ(p[o], (unsigned char)(o >> 12));
	p[600 * MB - 1] = 1;
	uma_free(p, M_LOWMEM_BIG);
	uma_lowmem_deregister(tag);
}
