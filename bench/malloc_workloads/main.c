/*
 * main.c - malloc_workloads WORKLOAD: run one allocator workload with
 * whatever malloc the process has (bench/malloc_run.sh preloads uma and
 * each peer in turn) and print one line:
 *
 *	<workload> <seconds> <peak RSS KiB> <checksum>
 *
 * the wall time of the workload itself (CLOCK_MONOTONIC, start-up not
 * included), the peak resident set, and a checksum so that no work is
 * elided.  The peak is the process's VmHWM from /proc/self/status, or for
 * the workloads that run programs the largest ru_maxrss of those programs
 * if that is larger.  Not the process's own ru_maxrss: Linux carries it
 * across execve, so the shell that forked the program (about 2 MiB) was
 * the floor of every small workload's number.
 *
 * A workload whose name ends in -asN runs under an address-space limit of
 * N MiB (ulimit -v): the program sets RLIMIT_AS and executes itself again,
 * so the preloaded allocator starts, as it would under the shell's ulimit,
 * with the limit already in force.
 *
 * Exit status: 0, 1 when the workload failed (it says why on stderr, and
 * no result line is printed), 2 on a usage error.
 */
#include <sys/resource.h>

#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mw.h"

_Atomic uint64_t mw_sum;
long mw_child_peak_kib;
static struct timespec t0;

static const struct mw_workload *const mw_tables[] = {
	mw_classic, mw_suites, mw_reuse, mw_programs,
};

void
mw_run_threads(void *(*fn)(void *), int n)
{
	pthread_t t[16];

	for (intptr_t i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, (void *)i) != 0) {
			perror("malloc_workloads: pthread_create");
			exit(1);
		}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

void
mw_clock_restart(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

int
mw_oom(const char *who, size_t size)
{
	fprintf(stderr, "malloc_workloads: %s: malloc(%zu) failed: %m\n",
	    who, size);
	return (1);
}

/*
 * This process's peak resident set, from VmHWM in /proc/self/status (read
 * with open/read: no allocation of its own); -1 if it cannot be read.
 */
static long
peak_rss_kib(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/status", O_RDONLY)) < 0)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((p = strstr(buf, "VmHWM:")) == NULL)
		return (-1);
	return (strtol(p + 6, NULL, 10));
}

static const struct mw_workload *
workload_find(const char *name)
{
	for (size_t t = 0; t < sizeof(mw_tables) / sizeof(mw_tables[0]); t++)
		for (const struct mw_workload *w = mw_tables[t];
		    w->mw_name != NULL; w++)
			if (strcmp(w->mw_name, name) == 0)
				return (w);
	return (NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: malloc_workloads WORKLOAD\n"
	    "       malloc_workloads --list\n");
	for (size_t t = 0; t < sizeof(mw_tables) / sizeof(mw_tables[0]); t++)
		for (const struct mw_workload *w = mw_tables[t];
		    w->mw_name != NULL; w++)
			fprintf(stderr, "  %-14s %s\n", w->mw_name, w->mw_what);
	exit(2);
}

/*
 * For a name ending in -asN: unless this process already runs under the
 * limit, set RLIMIT_AS to N MiB and execute this program again.
 */
static void
as_limit_reexec(const char *name, char **argv)
{
	const char *p = strrchr(name, '-');
	struct rlimit rl;
	long mib;

	if (p == NULL || strncmp(p, "-as", 3) != 0 ||
	    (mib = strtol(p + 3, NULL, 10)) <= 0 ||
	    getenv("MW_AS_LIMITED") != NULL)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)mib << 20;
	if (setrlimit(RLIMIT_AS, &rl) != 0 ||
	    setenv("MW_AS_LIMITED", "1", 1) != 0) {
		perror("malloc_workloads: setrlimit");
		exit(1);
	}
	execv("/proc/self/exe", argv);
	perror("malloc_workloads: execv /proc/self/exe");
	exit(1);
}

int
main(int argc, char **argv)
{
	const struct mw_workload *w;
	struct timespec t1;
	long peak;

	if (argc != 2)
		usage();
	if (strcmp(argv[1], "--list") == 0) {
		for (size_t t = 0; t < sizeof(mw_tables) / sizeof(mw_tables[0]);
		    t++)
			for (w = mw_tables[t]; w->mw_name != NULL; w++)
				printf("%s\n", w->mw_name);
		return (0);
	}
	if ((w = workload_find(argv[1])) == NULL)
		usage();
	as_limit_reexec(w->mw_name, argv);

	mw_clock_restart();
	if (w->mw_run() != 0)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	peak = peak_rss_kib();
	if (mw_child_peak_kib > peak)
		peak = mw_child_peak_kib;
	printf("%s %.4f %ld %llu\n", w->mw_name,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, peak,
	    (unsigned long long)mw_sum);
	return (0);
}
