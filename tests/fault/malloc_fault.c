/*
 * malloc_fault.c - a page backend that refuses the Nth request, swept over
 * every request a malloc(9) workload makes: malloc's start-up (its
 * size-class caches), a type's counters, size-class slabs, large runs,
 * contigmalloc runs, realloc's growth in place and its moves, a dynamic
 * type.  Every page uma takes comes through the backend (vm.h), so each of
 * them is refused somewhere in the sweep.  For every N: an M_NOWAIT call
 * gets NULL with ENOMEM or its memory, never a crash; what it got is
 * intact; the types' statistics are exact; and once all is freed and
 * reclaimed the page layer holds no live or cached run.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/malloc.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "malloc_int.h"
#include "memguard_test.h"
#include "vm.h"

MALLOC_DEFINE(M_FAULT1, "fault1", "malloc fault sweep");
MALLOC_DEFINE(M_FAULT2, "fault2", "malloc fault sweep, contig");

/*
 * The sweep replays the same page requests in every child: no MemGuard
 * samples, which take no page from the backend and fall at random.
 */
void
test_setup(void)
{
	memguard_off();
}

static const struct uma__backend *arena;
static _Atomic long calls, fail_at, injected;
static _Atomic bool fail_from;

static bool
refuse(void)
{
	long n = atomic_fetch_add(&calls, 1) + 1, at = atomic_load(&fail_at);

	if (at != 0 && (n == at || (atomic_load(&fail_from) && n > at))) {
		atomic_fetch_add(&injected, 1);
		return (true);
	}
	return (false);
}

static int
f_alloc(size_t len, const struct uma__pgreq *req, int flags, void **memp,
    void *arg)
{
	return (refuse() ? ENOMEM : arena->ub_alloc(len, req, flags, memp,
	    arena->ub_arg));
}

static int
f_resize(void *mem, size_t len, size_t newlen, void *arg)
{
	if (newlen > len && refuse())
		return (ENOMEM);
	return (arena->ub_resize(mem, len, newlen, arena->ub_arg));
}

static void
f_free(void *mem, size_t len, void *arg)
{
	arena->ub_free(mem, len, arena->ub_arg);
}

static const struct uma__backend f_backend = { f_alloc, f_resize, f_free,
    NULL };

#define	NSMALL	300
#define	NLARGE	4
#define	NCONTIG	2
#define	GROW_TO	((size_t)2 << 20)

struct held {
	void	*p;
	size_t	 len;
	struct malloc_type *mtp;
	bool	 contig;
};

static struct held held[NSMALL + NLARGE + NCONTIG + 1];
static int nheld;

static void
fill(void *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i += 512)
		((unsigned char *)p)[i] = (unsigned char)(seed + i / 512);
}

static void
check(const void *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i += 512)
		CHECK(((const unsigned char *)p)[i] ==
		    (unsigned char)(seed + i / 512));
}

/* A NULL from M_NOWAIT must say ENOMEM; memory must be ours. */
static void
keep(void *p, size_t len, struct malloc_type *mtp, bool contig)
{
	if (p == NULL) {
		CHECK_EQ(errno, ENOMEM);
		return;
	}
	fill(p, len, (unsigned)nheld);
	held[nheld++] = (struct held){ p, len, mtp, contig };
}

/* The workload; everything M_NOWAIT. */
static void
workload(void)
{
	struct malloc_type *dyn;
	void *p, *q;
	size_t len;

	for (int i = 0; i < NSMALL; i++) {
		errno = 0;
		keep(uma_malloc(40 + (size_t)(i % 7) * 150, M_FAULT1,
		    M_NOWAIT), 40 + (size_t)(i % 7) * 150, M_FAULT1, false);
	}
	for (int i = 0; i < NLARGE; i++) {
		errno = 0;
		keep(uma_malloc((size_t)(i + 1) * 100000, M_FAULT1, M_NOWAIT),
		    (size_t)(i + 1) * 100000, M_FAULT1, false);
	}
	for (int i = 0; i < NCONTIG; i++) {
		errno = 0;
		keep(contigmalloc(65536, M_FAULT2, M_NOWAIT, 0, UINTPTR_MAX,
		    65536, 0), 65536, M_FAULT2, true);
	}
	/* A block grown by realloc: in place, then moved. */
	errno = 0;
	p = uma_malloc(70000, M_FAULT1, M_NOWAIT);
	if (p != NULL) {
		fill(p, 70000, 99);
		for (len = 70000; len < GROW_TO; len += 65536) {
			q = uma_realloc(p, len + 65536, M_FAULT1, M_NOWAIT);
			if (q == NULL) {
				/* Refused: the old block stands. */
				CHECK_EQ(errno, ENOMEM);
				break;
			}
			p = q;
			check(p, 70000, 99);
		}
		uma_free(p, M_FAULT1);
	} else
		CHECK_EQ(errno, ENOMEM);
	errno = 0;
	dyn = malloc_type_create("fault-dyn");
	if (dyn != NULL) {
		p = uma_malloc(64, dyn, M_NOWAIT);
		uma_free(p, dyn);
		malloc_type_destroy(dyn);
	} else
		CHECK_EQ(errno, ENOMEM);
}

/* Everything back, then the books must balance. */
static void
verify_and_free(void)
{
	struct malloc_type_totals tt;

	for (int i = 0; i < nheld; i++)
		check(held[i].p, held[i].len, (unsigned)i);
	for (int i = 0; i < nheld; i++) {
		if (held[i].contig)
			contigfree(held[i].p, held[i].len, held[i].mtp);
		else
			uma_free(held[i].p, held[i].mtp);
	}
	nheld = 0;
	for (int t = 0; t < 2; t++) {
		uma__malloc_type_totals(t == 0 ? M_FAULT1 : M_FAULT2, &tt);
		CHECK_EQ(tt.mt_numallocs, tt.mt_numfrees);
		CHECK_EQ(tt.mt_memalloced, tt.mt_memfreed);
	}
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma__vm_pages_used(UMA_PAGES_LARGE), 0);
	CHECK_EQ(uma__vm_pages_used(UMA_PAGES_CONTIG), 0);
	CHECK_EQ(uma__vm_pages_used(UMA_PAGES_CACHED), 0);
	CHECK_EQ(uma__vm_pages(), uma__vm_pages_used(UMA_PAGES_SLAB) +
	    uma__vm_pages_used(UMA_PAGES_META));
}

/* uma up (a zone used), malloc not yet: its start-up is in the sweep. */
static void
start(bool warm_malloc)
{
	uma_zone_t z = uma_zcreate("fault-warm", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	int retries = 1;

	CHECK(z != NULL);
	uma_zfree(z, uma_zalloc(z, M_WAITOK));
	CHECK_EQ(uma_sysctlbyname("vm.lowmem_retries", NULL, NULL, &retries,
	    sizeof(retries)), 0);
	if (warm_malloc)
		uma_free(uma_malloc(16, M_FAULT1, M_WAITOK), M_FAULT1);
	arena = uma__backend_arena();
	uma__backend_set(&f_backend);
}

/* Requests the workload makes with nothing refused. */
static long
count_requests(bool warm_malloc)
{
	int fds[2];
	long n = 0;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		start(warm_malloc);
		workload();
		n = atomic_load(&calls);
		uma__backend_set(arena);
		verify_and_free();
		_exit(write(fds[1], &n, sizeof(n)) == sizeof(n) ? 0 : 1);
	}
	close(fds[1]);
	CHECK(read(fds[0], &n, sizeof(n)) == sizeof(n));
	close(fds[0]);
	CHECK(waitpid(pid, NULL, 0) == pid);
	return (n);
}

/* One run with request `at` refused (and every later one, `from`). */
static void
sweep_one(long at, bool from, bool warm_malloc)
{
	int status;
	pid_t pid;

	if ((pid = fork()) == 0) {
		start(warm_malloc);
		atomic_store(&fail_from, from);
		atomic_store(&fail_at, at);
		workload();
		if (atomic_load(&injected) == 0)
			_exit(3);	/* the sweep reached no request */
		uma__backend_set(arena);
		verify_and_free();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "request %ld refused%s: status %#x\n", at,
		    from ? " and after" : "", status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

UMA_TEST(malloc_fault_every_request_refused_once)
{
	long n = count_requests(false);

	fprintf(stderr, "%ld page requests, each refused in turn\n", n);
	/* Start-up, counters, class slabs, runs: a few dozen at least. */
	CHECK(n > 20);
	for (long at = 1; at <= n; at++)
		sweep_one(at, false, false);
}

UMA_TEST(malloc_fault_every_request_refused_from_then_on)
{
	long n = count_requests(true);

	fprintf(stderr, "%ld page requests, refused from each on\n", n);
	CHECK(n > 10);
	for (long at = 1; at <= n; at++)
		sweep_one(at, true, true);
}
