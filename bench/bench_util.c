/*
 * bench_util.c - the helpers of bench.h: command line, pinning, median and
 * the result line.  Shared by every benchmark program, DPDK's included, so
 * it uses nothing but libc.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void
bench_usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s [--malloc] [--name NAME] [--size BYTES] [--iters N]\n"
	    "       [--reps N] [--warmup N] pair | batch [N] | prodcons\n"
	    "  pair      alloc + free of one item, ns per pair\n"
	    "  batch N   N allocs then N frees (N = 1000), ns per op\n"
	    "  prodcons  alloc on CPU 0, free on CPU 1 through a ring,"
	    " ns per item\n", prog);
	exit(2);
}

static long
bench_number(const char *prog, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < 0)
		bench_usage(prog);
	return (v);
}

void
bench_parse(struct bench_opts *bo, int argc, char **argv)
{
	const char *prog = argv[0], *a, *v;
	int i, warmup_set = 0;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--malloc") == 0) {
			bo->bo_malloc = 1;
			continue;
		}
		if (a[0] == '-' && a[1] == '-') {
			if (i + 1 >= argc)
				bench_usage(prog);
			v = argv[++i];
			if (strcmp(a, "--name") == 0)
				bo->bo_name = v;
			else if (strcmp(a, "--size") == 0)
				bo->bo_size = bench_number(prog, v);
			else if (strcmp(a, "--iters") == 0)
				bo->bo_iters = bench_number(prog, v);
			else if (strcmp(a, "--reps") == 0)
				bo->bo_reps = bench_number(prog, v);
			else if (strcmp(a, "--warmup") == 0) {
				bo->bo_warmup = bench_number(prog, v);
				warmup_set = 1;
			} else
				bench_usage(prog);
			continue;
		}
		if (bo->bo_mode != NULL && strcmp(bo->bo_mode, "batch") == 0)
			bo->bo_batch = bench_number(prog, a);
		else if (bo->bo_mode == NULL)
			bo->bo_mode = a;
		else
			bench_usage(prog);
	}
	if (bo->bo_mode == NULL)
		bench_usage(prog);
	if (strcmp(bo->bo_mode, "pair") != 0 &&
	    strcmp(bo->bo_mode, "batch") != 0 &&
	    strcmp(bo->bo_mode, "prodcons") != 0)
		bench_usage(prog);
	if (bo->bo_size == 0 || bo->bo_batch <= 0 || bo->bo_reps < 1 ||
	    bo->bo_reps > BENCH_REPS_MAX)
		bench_usage(prog);
	/* A tenth of a run warms caches and fills per-CPU buckets. */
	if (!warmup_set)
		bo->bo_warmup = bo->bo_iters / 10;
}

int
bench_ncpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return (1);
	return (CPU_COUNT(&set));
}

void
bench_pin(int cpu)
{
	cpu_set_t allowed, set;
	int i, n;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return;
	/* Take the cpu-th allowed CPU, so a restricted cpuset still works. */
	n = cpu % CPU_COUNT(&allowed);
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &allowed))
			continue;
		if (n-- == 0)
			break;
	}
	CPU_ZERO(&set);
	CPU_SET(i, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "bench: cannot pin to CPU %d\n", i);
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

double
bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	if (n % 2 == 1)
		return (v[n / 2]);
	return ((v[n / 2 - 1] + v[n / 2]) / 2);
}

void
bench_report(const char *workload, const char *name, size_t size, double ns)
{
	printf("%s %s %zu %.2f\n", workload, name, size, ns);
	fflush(stdout);
}

void
bench_report_median(const struct bench_opts *bo, double *ns, int n)
{
	char workload[64];

	if (strcmp(bo->bo_mode, "batch") == 0)
		snprintf(workload, sizeof(workload), "batch%ld", bo->bo_batch);
	else
		snprintf(workload, sizeof(workload), "%s", bo->bo_mode);
	bench_report(workload, bo->bo_name, bo->bo_size,
	    bench_median(ns, n));
}
