/*
 * malloc_freed_pages.c - the large-block policy of the page layer: the
 * pages of a freed run stay resident for the next run (no page fault, no
 * madvise), while the program's working set needs them, and go back to
 * the OS once they stay unused, within two trim periods.
 *
 * The large-run cache is switched off (vm.malloc.large_cache_mb=0) so
 * that every freed run reaches the page layer; the figures are read
 * through the sysctls vm.uma_dirty_bytes (freed pages kept) and
 * vm.uma_dirty_purged (freed pages given back, the madvise count).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uma/malloc.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "sysctl_test.h"

MALLOC_DEFINE(M_FREED, "freed_pages", "the freed-pages test's type");

#define	MB		((size_t)1 << 20)
#define	PAGE		((size_t)4096)

/* A run of `size` bytes with every page written (so resident). */
static char *
touched(size_t size, int seed)
{
	char *p = uma_malloc(size, M_FREED, M_WAITOK);

	CHECK(p != NULL);
	for (size_t o = 0; o < size; o += PAGE)
		p[o] = (char)(seed + o / PAGE);
	return (p);
}

static uint64_t
minor_faults(void)
{
	struct rusage ru;

	CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
	return ((uint64_t)ru.ru_minflt);
}

/*
 * A burst of 64 MiB freed: the periodic trim (every second here) gives
 * its pages back: the resident set falls by most of the burst and the
 * purged count covers it, within a deadline of several periods.
 */
UMA_TEST(freed_burst_goes_back_within_the_trim_periods)
{
	enum { N = 16 };
	size_t burst = N * 4 * MB;
	uint64_t purged0, rss_full, rss;
	char *p[N];
	double end;

	setenv("UMA_TUNABLES", "vm.uma_timeout=1,vm.malloc.large_cache_mb=0",
	    1);
	for (int i = 0; i < N; i++)
		p[i] = touched(4 * MB, i);
	rss_full = test_rss();
	purged0 = sysctl_u64("vm.uma_dirty_purged");
	for (int i = 0; i < N; i++)
		uma_free(p[i], M_FREED);
	/*
	 * That they are kept at first is the next test's (here a trim
	 * between two frees may shrink the working set and the cap).  The
	 * trim gives them back a chunk at a time: wait for both figures.
	 */
	end = test_now() + 15;
	while (((rss = test_rss()) + burst * 3 / 4 > rss_full ||
	    sysctl_u64("vm.uma_dirty_bytes") >= burst / 8) && test_now() < end)
		usleep(50000);
	fprintf(stderr, "rss with the burst %llu, after %llu; kept %llu, "
	    "purged %llu pages\n", (unsigned long long)rss_full,
	    (unsigned long long)rss,
	    (unsigned long long)sysctl_u64("vm.uma_dirty_bytes"),
	    (unsigned long long)(sysctl_u64("vm.uma_dirty_purged") -
	    purged0));
	CHECK(rss + burst * 3 / 4 <= rss_full);
	CHECK(sysctl_u64("vm.uma_dirty_bytes") < burst / 8);
	CHECK(sysctl_u64("vm.uma_dirty_purged") - purged0 >=
	    (burst - burst / 8) / PAGE);
}

/*
 * Large buffers replaced one at a time, the working set steady: each new
 * buffer takes the pages the one before it left, so nothing is given
 * back (the purged count does not move, even with no minimum kept:
 * vm.uma_dirty_min_mb=0) and the pages written fault far less than once
 * each.  The trim is off (a day) so that only the policy acts.  Then
 * uma_reclaim gives back all the pages kept, which the count shows.
 */
UMA_TEST(freed_pages_not_given_back_while_the_working_set_needs_them)
{
	enum { N = 6, WARM = 4 * N, ROUNDS = 120 };
	size_t size = 4 * MB;
	uint64_t purged0 = 0, faults0 = 0, faults, written = 0, kept, rss;
	char *p[N];

	setenv("UMA_TUNABLES", "vm.uma_timeout=86400,"
	    "vm.malloc.large_cache_mb=0,vm.uma_dirty_min_mb=0", 1);
	srandom(21);
	for (int i = 0; i < N; i++)
		p[i] = touched(size, i);
	/* A few rounds first: the buffers settle in the lowest places. */
	for (int r = 0; r < WARM + ROUNDS; r++) {
		int i = (int)(random() % N);

		if (r == WARM) {
			purged0 = sysctl_u64("vm.uma_dirty_purged");
			faults0 = minor_faults();
		}
		CHECK(p[i][PAGE] == (char)(i + 1));
		uma_free(p[i], M_FREED);
		p[i] = touched(size, i);
		if (r >= WARM)
			written += size / PAGE;
	}
	faults = minor_faults() - faults0;
	fprintf(stderr, "%llu pages written, %llu minor faults, %llu pages "
	    "purged, %llu bytes kept\n", (unsigned long long)written,
	    (unsigned long long)faults,
	    (unsigned long long)(sysctl_u64("vm.uma_dirty_purged") - purged0),
	    (unsigned long long)sysctl_u64("vm.uma_dirty_bytes"));
	CHECK_EQ(sysctl_u64("vm.uma_dirty_purged"), purged0);
	CHECK(faults < written / 4);
	/* A burst freed is kept whole for the next runs, resident. */
	rss = test_rss();
	for (int i = 0; i < N; i++)
		uma_free(p[i], M_FREED);
	kept = sysctl_u64("vm.uma_dirty_bytes");
	CHECK(kept >= N * size);
	CHECK(test_rss() + N * size / 4 > rss);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(sysctl_u64("vm.uma_dirty_bytes"), 0);
	CHECK(sysctl_u64("vm.uma_dirty_purged") - purged0 >= kept / PAGE);
}
