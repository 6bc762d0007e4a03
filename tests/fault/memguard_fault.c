/*
 * memguard_fault.c - MemGuard out of room: a full arena, pages the kernel
 * refuses, an arena it will not reserve.  Each time the allocation is
 * served as usual, the fallback is counted (fail_kva, fail_pgs), the
 * statistics stay exact, and nothing crashes.  The kernel's refusals are
 * real ones: RLIMIT_DATA for the pages (a writable private mapping counts
 * against it), RLIMIT_AS for the reservation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uma/malloc.h>
#include <uma/memguard.h>

#include "harness.h"
#include "malloc_int.h"
#include "memguard_test.h"

MALLOC_DEFINE(M_MGF, "mg_fault", "MemGuard's fault tests");

/*
 * The counts are exact for the type guarded here: no samples beside it
 * (the suite's MemGuard runs set vm.memguard.frequency for every test).
 */
void
test_setup(void)
{
	memguard_off();
}

#define	N	1000

static void
set_desc(const char *desc)
{
	CHECK(uma_sysctlbyname("vm.memguard.desc", NULL, NULL, desc,
	    strlen(desc) + 1) == 0);
}

/* A figure of /proc/self/status, in bytes ("VmData:", "VmSize:"). */
static uint64_t
status_bytes(const char *key)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			kb = strtoull(line + strlen(key), NULL, 10);
	fclose(f);
	CHECK(kb > 0);
	return (kb * 1024);
}

/* N objects of `size` bytes, all live, then all freed: counted exactly. */
static int
alloc_all_free_all(size_t size)
{
	struct malloc_type_totals tt;
	void *p[N];
	int guarded = 0;

	for (int i = 0; i < N; i++) {
		p[i] = uma_malloc(size, M_MGF, M_NOWAIT);
		CHECK(p[i] != NULL);
		memset(p[i], i, size);
		guarded += is_memguard_addr(p[i]) != 0;
	}
	for (int i = 0; i < N; i++)
		uma_free(p[i], M_MGF);
	uma__malloc_type_totals(M_MGF, &tt);
	CHECK_EQ(tt.mt_numallocs - tt.mt_numfrees, 0);
	CHECK_EQ(tt.mt_memalloced, tt.mt_memfreed);
	return (guarded);
}

/*
 * The smallest arena (divisor so large that a divisor-th of uma's is
 * below MemGuard's 1 MiB floor) holds a few dozen runs of a page and its
 * two guards: the rest fall back, counted in fail_kva; freed runs come
 * back after the cursor wraps.  (Objects of a page or more: phys_limit,
 * which the divisor makes tiny too, is for smaller ones, as FreeBSD's.)
 */
UMA_TEST(memguard_full_arena_falls_back_and_wraps)
{
	uint64_t kva;
	int guarded;

	test_tunables_add("vm.memguard.desc=mg_fault,"
	    "vm.memguard.divisor=1048576");
	guarded = alloc_all_free_all(4096);
	kva = memguard_counter("vm.memguard.fail_kva");
	fprintf(stderr, "arena %llu bytes: %d guarded, %llu fell back\n",
	    (unsigned long long)memguard_counter("vm.memguard.mapsize"),
	    guarded, (unsigned long long)kva);
	CHECK_EQ(memguard_counter("vm.memguard.mapsize"), 1 << 20);
	CHECK(guarded > 20 && guarded < N);
	CHECK_EQ(kva, (uint64_t)(N - guarded));
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
	/* Freed, the runs come back once the cursor wraps. */
	CHECK_EQ(alloc_all_free_all(4096), guarded);
	CHECK(memguard_counter("vm.memguard.wrapcnt") > 0);
}

/*
 * The kernel refuses the pages (the data limit is reached): the
 * allocation falls back, counted in fail_pgs.  The arena and the first
 * pieces of its tables are in place before the limit, and the class
 * zone has slabs to serve the fallbacks from.
 */
UMA_TEST(memguard_refused_pages_fall_back)
{
	struct rlimit rl;
	void *p;
	int guarded;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	SKIP("the sanitizer's runtime maps memory of its own as the program "
	    "runs, which the data limit refuses too");
#endif
	test_tunables_add("vm.memguard.desc=mg_fault");
	p = uma_malloc(100, M_MGF, M_WAITOK);
	CHECK(is_memguard_addr(p));
	uma_free(p, M_MGF);
	set_desc("");
	CHECK_EQ(alloc_all_free_all(100), 0);	/* the class zone's slabs */
	set_desc("mg_fault");
	CHECK(getrlimit(RLIMIT_DATA, &rl) == 0);
	rl.rlim_cur = status_bytes("VmData:");
	CHECK(setrlimit(RLIMIT_DATA, &rl) == 0);
	guarded = alloc_all_free_all(100);
	fprintf(stderr, "%d guarded, %llu refused\n", guarded,
	    (unsigned long long)memguard_counter("vm.memguard.fail_pgs"));
	CHECK_EQ(guarded, 0);
	CHECK_EQ(memguard_counter("vm.memguard.fail_pgs"), N);
	CHECK_EQ(memguard_counter("vm.memguard.numalloc"), 1);
}

/*
 * No room for the arena at all (the address-space limit is reached
 * before MemGuard starts): every guarded allocation falls back, counted
 * in fail_kva.  The limit leaves half a MiB, less than MemGuard's
 * smallest arena (1 MiB), for what else maps memory meanwhile (ASan's
 * signal stacks: without it the ASan build failed one run in ten).
 */
UMA_TEST(memguard_refused_arena_falls_back)
{
	struct rlimit rl;

	CHECK_EQ(alloc_all_free_all(100), 0);	/* uma starts, MemGuard not */
	if (memguard_counter("vm.memguard.mapstart") != 0) {
		/* A run of the suite with UMA_TUNABLES=vm.memguard.desc=... */
		fprintf(stderr, "MemGuard's arena was reserved at start-up (the "
		    "environment's UMA_TUNABLES): no arena to refuse\n");
		exit(77);
	}
	CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
	rl.rlim_cur = status_bytes("VmSize:") + (512 << 10);
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	set_desc("mg_fault");
	CHECK_EQ(alloc_all_free_all(100), 0);
	CHECK_EQ(memguard_counter("vm.memguard.fail_kva"), N);
	CHECK_EQ(memguard_counter("vm.memguard.mapstart"), 0);
}
