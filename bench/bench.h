/*
 * bench.h - what every benchmark program shares: the command line, the
 * clock, CPU pinning, the median of repetitions and the one output format
 * that bench/run.sh parses:
 *
 *	<workload> <allocator> <item size> <ns>
 *
 * e.g. "pair uma 64 3.21".  Nothing here allocates on a measured path.
 */
#ifndef _BENCH_BENCH_H_
#define	_BENCH_BENCH_H_

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define	BENCH_REPS_MAX	31

/* The command line every program accepts (see bench_usage()). */
struct bench_opts {
	const char	*bo_mode;	/* pair, batch or prodcons */
	const char	*bo_name;	/* allocator name printed */
	size_t		 bo_size;	/* item size in bytes */
	long		 bo_batch;	/* N of "batch N" */
	long		 bo_iters;	/* pairs (pair, batch) or items */
	long		 bo_warmup;	/* untimed pairs or items first */
	int		 bo_reps;	/* timed repetitions; median wins */
	int		 bo_malloc;	/* zone_bench: malloc(3) instead */
};

/*
 * Parse argv into `bo`, whose fields the caller preset to its defaults.
 * Exits with a usage message on a bad argument.
 */
void	bench_parse(struct bench_opts *bo, int argc, char **argv);

/* Pin the calling thread to `cpu` (modulo the CPUs we may run on). */
void	bench_pin(int cpu);

/* Number of CPUs this process may run on. */
int	bench_ncpus(void);

/* Median of `n` values; reorders `v`. */
double	bench_median(double *v, int n);

/* Print one result line and flush, so run.sh sees it even on a crash. */
void	bench_report(const char *workload, const char *name, size_t size,
	    double ns);

/* Report "<mode>[N]" for `bo` with the median of `ns`. */
void	bench_report_median(const struct bench_opts *bo, double *ns,
	    int n);

/* Wall clock, ns: for prodcons, whose two threads wait on each other. */
static inline uint64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/*
 * The calling thread's CPU time, ns: for the one-thread workloads, so that
 * time the thread spends descheduled (another process on its CPU, likely
 * on a small shared machine) is not charged to the allocator.
 */
static inline uint64_t
bench_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/*
 * Make the compiler believe `p` is used, so that a malloc/free pair whose
 * result is otherwise dead is not folded away.
 */
static inline void
bench_escape(void *p)
{
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

#endif /* !_BENCH_BENCH_H_ */
