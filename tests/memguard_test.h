/*
 * memguard_test.h - what tests need of MemGuard (vm.memguard.*): its
 * counters and knobs through uma_sysctlbyname, public headers only.
 *
 * The suite also runs with MemGuard sampling (tests/CMakeLists.txt, the
 * memguard_* variants; or by hand with UMA_TUNABLES set).  A test of how
 * uma's own caches hand objects back (the same address again, a usable
 * size equal to the class size, how often a slow path runs) turns the
 * sampling off for itself with memguard_off(): a guarded object
 * goes past those caches by design; so does a test of uma's own words
 * for a misuse, which MemGuard reports in its own for a sampled object.
 * Tests of exactness keep it on.  uma_sysctlbyname is a weak reference
 * here, so that a program run under libuma-malloc.so without linking
 * uma finds it in the preloaded library.
 */
#ifndef _UMA_TEST_MEMGUARD_H_
#define	_UMA_TEST_MEMGUARD_H_

#include <stdint.h>

#include <uma/sysctl.h>

#include "harness.h"

extern __typeof__(uma_sysctlbyname) uma_sysctlbyname __attribute__((weak));

static inline uint64_t
memguard_counter(const char *name)
{
	uint64_t v = 0;
	size_t len = sizeof(v);

	CHECK(uma_sysctlbyname(name, &v, &len, NULL, 0) == 0);
	CHECK_EQ(len, sizeof(v));
	return (v);
}

static inline void
memguard_set_int(const char *name, int v)
{
	CHECK(uma_sysctlbyname(name, NULL, NULL, &v, sizeof(v)) == 0);
}

/*
 * Both ways: a boot tunable for a uma not started yet in this process
 * (the last word on vm.memguard.frequency wins), and the run-time node
 * for one that has.
 */
static inline void
memguard_off(void)
{
	int zero = 0;

	test_tunables_add("vm.memguard.frequency=0,vm.memguard.desc=");
	CHECK(uma_sysctlbyname != NULL);
	CHECK(uma_sysctlbyname("vm.memguard.frequency", NULL, NULL, &zero,
	    sizeof(zero)) == 0);
	CHECK(uma_sysctlbyname("vm.memguard.desc", NULL, NULL, "", 1) == 0);
}

#endif /* !_UMA_TEST_MEMGUARD_H_ */
