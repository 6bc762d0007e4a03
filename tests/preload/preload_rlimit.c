/*
 * preload_rlimit.c - programs on uma run under an address-space or data
 * limit as they do on glibc: a program that needs 10 MiB runs under
 * `ulimit -v 65536`, one that needs 100 MiB under `ulimit -d 204800`, and
 * one that asks for more than the limit gets NULL with ENOMEM (never an
 * abort), then frees and allocates again, and memory freed in blocks of
 * one size serves blocks of other sizes at once.  Each case runs rlimit_child in
 * a child process that set the limit before exec, so that uma starts
 * under it, both on malloc(3) with libuma-malloc.so preloaded and on
 * uma_malloc(9) through libuma.
 *
 * CMake defines RLIMIT_CHILD_LIBC and RLIMIT_CHILD_UMA (the two builds of
 * rlimit_child.c) and UMA_PRELOAD_LIB.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define	MB	((rlim_t)1 << 20)

enum via { VIA_PRELOAD, VIA_LIBUMA };

/* Run the child under the limit; its exit status, or 128 + its signal. */
static int
run_limited(int resource, rlim_t bytes, enum via via, const char *arg1,
    const char *arg2)
{
	const char *prog = via == VIA_PRELOAD ? RLIMIT_CHILD_LIBC :
	    RLIMIT_CHILD_UMA;
	struct rlimit rl = { bytes, bytes };
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (via == VIA_PRELOAD)
			setenv("LD_PRELOAD", UMA_PRELOAD_LIB, 1);
		else
			unsetenv("LD_PRELOAD");
		if (setrlimit(resource, &rl) != 0)
			_exit(126);
		execl(prog, prog, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (WEXITSTATUS(status));
}

UMA_TEST(rlimit_as_64m_preloaded_program_allocates_10m)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 64 * MB, VIA_PRELOAD, "need", "10"),
	    0);
}

UMA_TEST(rlimit_as_64m_libuma_program_allocates_10m)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 64 * MB, VIA_LIBUMA, "need", "10"), 0);
}

UMA_TEST(rlimit_data_200m_preloaded_program_allocates_100m)
{
	CHECK_EQ(run_limited(RLIMIT_DATA, 200 * MB, VIA_PRELOAD, "need",
	    "100"), 0);
}

UMA_TEST(rlimit_data_200m_libuma_program_allocates_100m)
{
	CHECK_EQ(run_limited(RLIMIT_DATA, 200 * MB, VIA_LIBUMA, "need", "100"),
	    0);
}

/*
 * Past the limit: NULL and ENOMEM, after most of the limit was used
 * (glibc reaches 60 MiB of 1 MiB blocks under a 64 MiB limit), and memory
 * comes again once freed.
 */
UMA_TEST(rlimit_as_64m_preloaded_exhaustion_is_enomem_then_recovers)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 64 * MB, VIA_PRELOAD, "exhaust",
	    "48"), 0);
}

UMA_TEST(rlimit_as_64m_libuma_exhaustion_is_enomem_then_recovers)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 64 * MB, VIA_LIBUMA, "exhaust", "48"),
	    0);
}

UMA_TEST(rlimit_data_200m_preloaded_exhaustion_is_enomem_then_recovers)
{
	CHECK_EQ(run_limited(RLIMIT_DATA, 200 * MB, VIA_PRELOAD, "exhaust",
	    "160"), 0);
}

UMA_TEST(rlimit_data_200m_libuma_exhaustion_is_enomem_then_recovers)
{
	CHECK_EQ(run_limited(RLIMIT_DATA, 200 * MB, VIA_LIBUMA, "exhaust",
	    "160"), 0);
}

/*
 * 112 MiB of 4 KiB blocks freed, then 112 MiB of 1 KiB blocks under a
 * 192 MiB address-space limit: the second size must take the memory the
 * first freed (the two together do not fit), at once (the peak resident
 * set stays near 112 MiB: rlimit_child reuse).
 */
UMA_TEST(rlimit_as_192m_preloaded_freed_memory_serves_other_sizes)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 192 * MB, VIA_PRELOAD, "reuse",
	    "112"), 0);
}

UMA_TEST(rlimit_as_192m_libuma_freed_memory_serves_other_sizes)
{
	CHECK_EQ(run_limited(RLIMIT_AS, 192 * MB, VIA_LIBUMA, "reuse", "112"),
	    0);
}
