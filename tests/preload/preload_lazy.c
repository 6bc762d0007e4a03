/*
 * preload_lazy.c - under libuma-malloc.so a process of one thread has no
 * fork handlers and no trim thread ("uma-trim") until it needs them
 * (src/threads.c): its second thread brings both, and so does an arena
 * grown past 4 MiB, or kept at that size by malloc's cache of large
 * runs.  A fork child of such a process, which ran no fork handlers,
 * still drains every CPU's cache (closing another CPU's cache takes a
 * membarrier).  Each test runs in its own process, forked by the
 * harness from a parent of one thread.
 *
 * The program carries 512 KiB of static TLS, which glibc carves out of
 * every thread's stack: more than the 256 KiB stacks uma gives its own
 * threads (src/kthread.c) can hold, so uma-trim must start on a default
 * stack instead.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"

__thread char preload_lazy_tls[512 * 1024];

/*
 * Threads of this process, and how many of them are named "uma-trim".
 * Read with getdents64 into a stack buffer: no allocation of its own that
 * could be the one to start the thread.
 */
static int
threads(int *trim)
{
	char buf[4096], path[64], comm[32];
	struct dirent64 *d;
	int n = 0, dfd, fd;
	ssize_t len, got;

	*trim = 0;
	CHECK((dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY)) >= 0);
	while ((got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < got; off += d->d_reclen) {
			d = (struct dirent64 *)(buf + off);
			if (d->d_name[0] == '.')
				continue;
			n++;
			snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			    d->d_name);
			if ((fd = open(path, O_RDONLY)) < 0)
				continue;
			len = read(fd, comm, sizeof(comm) - 1);
			close(fd);
			if (len > 0 &&
			    strncmp(comm, "uma-trim\n", (size_t)len) == 0)
				(*trim)++;
		}
	}
	CHECK(got == 0);
	close(dfd);
	return (n);
}

/*
 * Threads, once uma-trim has had time to name itself (it does so first
 * thing, but runs on its own schedule): up to two seconds.
 */
static int
threads_settled(int *trim)
{
	int n;

	for (int i = 0; i < 200; i++) {
		n = threads(trim);
		if (*trim == 1 || n == 1)
			break;
		usleep(10000);
	}
	return (n);
}

/* Allocate and free a little of several sizes. */
static void
churn(void)
{
	void *p[64];

	for (int r = 0; r < 100; r++) {
		for (int i = 0; i < 64; i++)
			CHECK((p[i] = malloc((size_t)16 << (i % 10))) != NULL);
		for (int i = 0; i < 64; i++)
			free(p[i]);
	}
}

static void *
thread_churn(void *arg)
{
	preload_lazy_tls[sizeof(preload_lazy_tls) - 1] = 1;
	churn();
	return (arg);
}

UMA_TEST(preload_lazy_one_thread_has_no_trim_thread)
{
	int trim;

	churn();
	CHECK_EQ(threads(&trim), 1);
	CHECK_EQ(trim, 0);
}

UMA_TEST(preload_lazy_second_thread_brings_the_trim_thread)
{
	pthread_t td;
	int trim;

	churn();
	CHECK(pthread_create(&td, NULL, thread_churn, NULL) == 0);
	CHECK(pthread_join(td, NULL) == 0);
	CHECK_EQ(threads_settled(&trim), 2);
	CHECK_EQ(trim, 1);
}

UMA_TEST(preload_lazy_big_arena_brings_the_trim_thread)
{
	enum { N = 100000 };	/* 10 MiB of 100-byte items */
	void **v;
	int trim;

	memguard_off();		/* guarded items would not grow the arena */
	v = malloc(N * sizeof(*v));
	CHECK(v != NULL);
	for (int i = 0; i < N; i++)
		CHECK((v[i] = malloc(100)) != NULL);
	CHECK_EQ(threads_settled(&trim), 2);
	CHECK_EQ(trim, 1);
	for (int i = 0; i < N; i++)
		free(v[i]);
	free(v);
}

/* Freed, it stays in malloc's cache of large runs, which the thread ages. */
UMA_TEST(preload_lazy_freed_large_block_brings_the_trim_thread)
{
	char *p;
	int trim;

	memguard_off();	/* a guarded block skips the cache */
	p = malloc(8 << 20);

	CHECK(p != NULL);
	p[0] = 1;
	CHECK_EQ(threads(&trim), 1);
	free(p);
	CHECK_EQ(threads_settled(&trim), 2);
	CHECK_EQ(trim, 1);
}

/* Caches on every CPU this process may run on, then a drain in a child. */
UMA_TEST(preload_lazy_fork_child_drains_every_cpu)
{
	cpu_set_t all, one;
	int status, trim;
	pid_t pid;

	CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
		churn();
	}
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
	CHECK_EQ(threads(&trim), 1);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		churn();
		uma_reclaim(UMA_RECLAIM_DRAIN);
		churn();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * A fork handler whose prepare allocates, registered while the process has
 * one thread, before uma's handlers exist: uma's are registered ahead of
 * it (the interposer's __register_atfork), so its prepare runs first and
 * allocates before uma's prepare takes uma's locks.  Registered after it,
 * uma's prepare ran first and the allocation waited on a lock of its own
 * thread: fork hung.
 */
static void *prep_kept[48];
static int prep_runs;

static void
prep_alloc(void)
{
	for (int i = 0; i < 48; i++)
		prep_kept[i] = malloc((size_t)i * 700 + 16);	/* fresh classes */
	free(malloc(3 << 20));		/* and the large path */
	prep_runs++;
}

static void
prep_release(void)
{
	for (int i = 0; i < 48; i++)
		free(prep_kept[i]);
}

static void *
thread_alloc(void *arg)
{
	return (malloc(100));
}

UMA_TEST(preload_lazy_fork_handler_that_allocates_runs_first)
{
	pthread_t t;
	void *r;
	int status, trim;
	pid_t pid;

	CHECK_EQ(threads(&trim), 1);
	CHECK_EQ(trim, 0);		/* one thread: uma's handlers wait */
	CHECK(pthread_atfork(prep_alloc, prep_release, prep_release) == 0);
	CHECK(pthread_create(&t, NULL, thread_alloc, NULL) == 0);
	CHECK(pthread_join(t, &r) == 0);
	free(r);
	alarm(30);			/* a hang fails the test */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		free(malloc(5000));
		_exit(prep_runs == 1 ? 0 : 1);
	}
	alarm(0);
	CHECK_EQ(prep_runs, 1);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
