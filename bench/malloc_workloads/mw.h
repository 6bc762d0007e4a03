/*
 * mw.h - what the malloc workloads share: the table of workloads, a fast
 * deterministic random number generator, thread start-up, and the checksum
 * that keeps the compiler from eliding work.  Each workload is a function
 * that does a fixed amount of work with whatever malloc the process has
 * (LD_PRELOAD chooses it) and returns 0, or 1 after saying on stderr what
 * failed (an allocation that returned NULL, a program that did not run).
 */
#ifndef _MW_H_
#define	_MW_H_

#include <stddef.h>
#include <stdint.h>

#define	MW_NTHREADS	2	/* threads of the multi-threaded workloads */

/* One workload: its name on the command line and in the tables. */
struct mw_workload {
	const char	*mw_name;
	int		(*mw_run)(void);
	const char	*mw_what;	/* one line for the usage message */
};

/*
 * The tables each file contributes, ended by a NULL name: classic.c (the
 * eight first workloads), suites.c (models of the published synthetic
 * benchmarks), reuse.c (memory reuse, large blocks, realloc) and
 * programs.c (real programs on generated input).
 */
extern const struct mw_workload mw_classic[];
extern const struct mw_workload mw_suites[];
extern const struct mw_workload mw_reuse[];
extern const struct mw_workload mw_programs[];

/*
 * Peak resident set of the programs a workload ran (programs.c sets it
 * from the children's ru_maxrss), KiB; 0 if it ran none.  main() reports
 * the larger of this and the process's own VmHWM.
 */
extern long mw_child_peak_kib;

/* Work counted here is printed, so no loop can be optimized away. */
extern _Atomic uint64_t mw_sum;

/* xorshift64: deterministic, one multiply-free step per number. */
static inline uint64_t
mw_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Start `n` threads running fn((void *)i), i = 0..n-1, and join them. */
void	mw_run_threads(void *(*fn)(void *), int n);

/*
 * Start the clock again: a workload that first makes its input (the
 * programs) calls this when the timed part begins.
 */
void	mw_clock_restart(void);

/* Report a failed allocation of `size` bytes by `who`; returns 1. */
int	mw_oom(const char *who, size_t size);

#endif /* !_MW_H_ */
