/*
 * harness.c - runs every registered test in its own process.
 *
 * Usage: <test> [name ...]   (no names: all tests but those named in
 * $UMA_TEST_EXCLUDE, a comma-separated list: the ones ctest runs alone).
 * The timeout per test is $UMA_TEST_TIMEOUT seconds (default 100).
 *
 * Exit status: 1 if a test failed or none ran, else UMA_TEST_SKIP_CODE if
 * a test skipped, else 0.  The last line is "N passed, N failed, N
 * skipped".
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define	MAXTESTS	256

static struct {
	const char	*name;
	uma_test_fn	 fn;
} tests[MAXTESTS];
static int ntests;

void
uma_test_register(const char *name, uma_test_fn fn)
{
	if (ntests == MAXTESTS) {
		fprintf(stderr, "harness: too many tests\n");
		abort();
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void
uma_test_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
	fflush(stderr);
	_exit(1);
}

void
uma_test_fail_eq(const char *file, int line, const char *expr,
    unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "%s:%d: CHECK failed: %s (%llu != %llu)\n", file, line,
	    expr, a, b);
	fflush(stderr);
	_exit(1);
}

void
uma_test_skip(const char *why)
{
	printf("  skipped: %s\n", why);
	fflush(NULL);
	_exit(UMA_TEST_SKIP_CODE);
}

double
test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

void
test_pin_one_cpu(void)
{
	cpu_set_t set;

	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
			return;
		}
	CHECK(0);
}

double
test_seconds(double dflt)
{
	const char *s = getenv("UMA_STRESS_SECONDS");

	return (s != NULL ? atof(s) : dflt);
}

size_t
test_rss(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return (0);
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (resident * (size_t)sysconf(_SC_PAGESIZE));
}

int
test_dontdump(const void *addr)
{
	char line[512];
	unsigned long start, end, a = (unsigned long)addr;
	int in = 0, found = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (f == NULL)
		return (-1);
	while (found < 0 && fgets(line, sizeof(line), f) != NULL) {
		if (line[strspn(line, "0123456789abcdef")] == '-' &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			in = a >= start && a < end;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			found = strstr(line, " dd") != NULL;
	}
	fclose(f);
	return (found);
}

int
expect_abort(void (*fn)(void *), void *arg, const char *const *needles)
{
	char buf[8192];
	int pfd[2], status, ok;
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(pfd) != 0)
		return (0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);	/* it did not abort */
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
	for (int i = 0; ok && needles != NULL && needles[i] != NULL; i++)
		if (strstr(buf, needles[i]) == NULL)
			ok = 0;
	if (!ok)
		fprintf(stderr, "expect_abort: status %#x, stderr was:\n%s\n",
		    status, buf);
	return (ok);
}

enum outcome { FAILED, PASSED, SKIPPED };

static enum outcome
run_one(int i)
{
	const char *t = getenv("UMA_TEST_TIMEOUT");
	int status, timeout = t != NULL ? atoi(t) : 100;
	double start = test_now();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return (FAILED);
	}
	if (pid == 0) {
		alarm(timeout);
		if (test_setup != NULL)
			test_setup();
		tests[i].fn();
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok   %-50s %.2fs\n", tests[i].name, test_now() - start);
		return (PASSED);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == UMA_TEST_SKIP_CODE) {
		printf("skip %-50s\n", tests[i].name);
		return (SKIPPED);
	}
	if (WIFSIGNALED(status))
		printf("FAIL %-50s signal %d%s\n", tests[i].name,
		    WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	else
		printf("FAIL %-50s exit %d\n", tests[i].name,
		    WEXITSTATUS(status));
	return (FAILED);
}

/* See harness.h */
void
test_tunables_add(const char *tunables)
{
	const char *old = getenv("UMA_TUNABLES");
	char *buf;

	if (old == NULL || *old == '\0') {
		setenv("UMA_TUNABLES", tunables, 1);
		return;
	}
	if (asprintf(&buf, "%s,%s", old, tunables) < 0) {
		perror("asprintf");
		exit(1);
	}
	setenv("UMA_TUNABLES", buf, 1);
	free(buf);
}

/* Is `name` in the comma-separated `list` (NULL: empty)? */
static int
listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (p != NULL) {
		if (strncmp(p, name, len) == 0 && (p[len] == ',' ||
		    p[len] == '\0'))
			return (1);
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return (0);
}

int
main(int argc, char **argv)
{
	const char *exclude = getenv("UMA_TEST_EXCLUDE");
	int n[3] = { 0, 0, 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ntests; i++) {
		int want = argc < 2 && !listed(exclude, tests[i].name);

		for (int j = 1; j < argc; j++)
			if (strcmp(argv[j], tests[i].name) == 0)
				want = 1;
		if (want)
			n[run_one(i)]++;
	}
	printf("%d passed, %d failed, %d skipped\n", n[PASSED], n[FAILED],
	    n[SKIPPED]);
	if (n[FAILED] != 0 || n[PASSED] + n[SKIPPED] == 0)
		return (1);
	return (n[SKIPPED] != 0 ? UMA_TEST_SKIP_CODE : 0);
}
