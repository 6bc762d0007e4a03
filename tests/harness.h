/*
 * harness.h - the test framework: a test is a function registered by
 * UMA_TEST(name); main() runs each in its own forked process with a
 * timeout and prints "N passed, N failed, N skipped" at the end.
 *
 *   UMA_TEST(zone_secondary_kegfree_once) { ... CHECK(x == y); ... }
 *
 * CHECK fails the test (the child exits 1) with file, line and the
 * expression; CHECK_EQ prints both values.  SKIP(why) ends a test that
 * cannot run here (the machine or the build lacks what it needs): the
 * child exits UMA_TEST_SKIP_CODE, and so does the program if nothing
 * failed, so that ctest (SKIP_RETURN_CODE 77) shows it as skipped, never
 * as passed.  A test that may skip runs as a ctest entry of its own
 * (uma_test_alone in tests/CMakeLists.txt), so that its skip hides no
 * other test's pass.  expect_abort() runs a function in a child and
 * checks that it aborts with a message on stderr.
 */
#ifndef _UMA_TEST_HARNESS_H_
#define	_UMA_TEST_HARNESS_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*uma_test_fn)(void);

#define	UMA_TEST_SKIP_CODE	77	/* automake's and ctest's skip code */

void	uma_test_register(const char *name, uma_test_fn fn);
void	uma_test_fail(const char *file, int line, const char *expr);
void	uma_test_fail_eq(const char *file, int line, const char *expr,
	    unsigned long long a, unsigned long long b);
void	uma_test_skip(const char *why) __attribute__((noreturn));

#define	UMA_TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void reg_##name(void)	\
	{ uma_test_register(#name, test_##name); }			\
	static void test_##name(void)

#define	CHECK(e) do {							\
	if (!(e))							\
		uma_test_fail(__FILE__, __LINE__, #e);			\
} while (0)

#define	CHECK_EQ(a, b) do {						\
	unsigned long long _a = (unsigned long long)(a);		\
	unsigned long long _b = (unsigned long long)(b);		\
	if (_a != _b)							\
		uma_test_fail_eq(__FILE__, __LINE__, #a " == " #b, _a, _b); \
} while (0)

#define	SKIP(why)	uma_test_skip(why)

/*
 * A program may define test_setup(): it runs in each test's process,
 * before the test.
 */
void	test_setup(void) __attribute__((weak));

/*
 * Run fn(arg) in a child.  Returns 1 if the child died of SIGABRT and its
 * stderr contains every non-NULL string of `needles` (NULL-terminated);
 * prints what it saw otherwise.
 */
int	expect_abort(void (*fn)(void *), void *arg, const char *const *needles);

/*
 * Add boot tunables ("name=value,...") to UMA_TUNABLES for a uma that has
 * not started yet in this process: after what the environment already
 * holds (a run of the suite under MemGuard sets some), and winning over it.
 */
void	test_tunables_add(const char *tunables);

/* Resident set size of this process, in bytes (from /proc/self/statm). */
size_t	test_rss(void);

/*
 * Does the kernel leave the mapping that holds addr out of core dumps
 * ("dd" in its VmFlags, /proc/self/smaps)?  -1 if no mapping holds it.
 */
int	test_dontdump(const void *addr);

/* Seconds to run a bounded stress loop: $UMA_STRESS_SECONDS or `dflt`. */
double	test_seconds(double dflt);

/* Monotonic time in seconds. */
double	test_now(void);

/*
 * Pin this thread to the first CPU it may run on, so that "the caches are
 * empty" is a statement about one cache the test can see.
 */
void	test_pin_one_cpu(void);

#endif
