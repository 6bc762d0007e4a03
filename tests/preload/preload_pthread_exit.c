/*
 * preload_pthread_exit.c - under LD_PRELOAD=libuma-malloc.so a program
 * whose main thread calls pthread_exit() ends when its last thread of its
 * own ends, with status 0, as it does without uma: uma's threads
 * (uma-trim, uma-export) must not keep it alive (src/kthread.c).
 *
 * Run with no argument, it runs each case as a fresh program (itself,
 * exec'd with the case's name and the preload inherited) and kills any
 * that has not ended within 10 s:
 *   main-exits         a worker allocates 16 MiB (uma-trim starts), main
 *                      calls pthread_exit
 *   main-exits-export  the same with UMA_EXPORT=1 (uma-export too)
 *   fork-child         a process with threads (uma's running) forks; the
 *                      child does main-exits, the parent waits for it
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "threads_named.h"

#define	DEADLINE_MS	10000

static void *
worker(void *arg)
{
	char *p[256];

	usleep(100000);		/* main has called pthread_exit by now */
	for (int i = 0; i < 256; i++) {
		if ((p[i] = malloc(65536)) == NULL)
			_exit(5);
		memset(p[i], i, 65536);
	}
	for (int i = 0; i < 256; i++)
		free(p[i]);
	return (arg);
}

/* The case: uma's threads run, a worker is started, main leaves. */
static void
main_exits(int want_export)
{
	pthread_t td;
	char *big;

	/* 16 MiB of arena: the trim thread's reason to start (threads.c). */
	if ((big = malloc(16 << 20)) == NULL)
		_exit(2);
	memset(big, 1, 16 << 20);
	free(big);
	if (pthread_create(&td, NULL, worker, NULL) != 0)
		_exit(3);
	for (int i = 0; i < 100 && (threads_named("uma-trim") != 1 ||
	    (want_export && threads_named("uma-export") != 1)); i++)
		usleep(10000);
	if (threads_named("uma-trim") != 1)
		_exit(4);
	if (want_export && threads_named("uma-export") != 1)
		_exit(6);
	pthread_exit(NULL);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait for pid up to the deadline; its status, or -1 (killed). */
static int
wait_deadline(pid_t pid)
{
	long start = now_ms();
	int status;
	pid_t got;

	while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
	    now_ms() - start < DEADLINE_MS)
		usleep(10000);
	if (got == pid)
		return (status);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return (-1);
}

static void
fork_child(void)
{
	pthread_t td;
	pid_t pid;
	int status;

	if (pthread_create(&td, NULL, worker, NULL) != 0 ||
	    pthread_join(td, NULL) != 0)
		_exit(2);
	if (threads_named("uma-trim") != 1)
		_exit(4);
	if ((pid = fork()) == 0)
		main_exits(0);
	status = wait_deadline(pid);
	if (status == -1)
		fprintf(stderr, "fork-child: the child was alive after 10 s\n");
	_exit(status == 0 ? 0 : 7);
}

/* UMA_TUNABLES with vm.memguard.desc emptied last (the last word wins). */
static void
memguard_env_off(void)
{
	const char *t = getenv("UMA_TUNABLES");
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%svm.memguard.desc=", t != NULL ? t : "",
	    t != NULL && t[0] != '\0' ? "," : "");
	setenv("UMA_TUNABLES", buf, 1);
}

static int
run_case(const char *self, const char *name)
{
	char *argv[] = { (char *)self, (char *)name, NULL };
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (strcmp(name, "main-exits-export") == 0)
			setenv("UMA_EXPORT", "1", 1);
		/*
		 * The case needs uma's arena to grow (the trim thread's reason
		 * to start): not with every malloc guarded, as a run of the
		 * suite with vm.memguard.desc=libc does.  MemGuard off.
		 */
		memguard_env_off();
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	status = wait_deadline(pid);
	if (status == 0) {
		printf("ok   %s\n", name);
		return (1);
	}
	if (status == -1)
		printf("FAIL %s: still alive after %d s (killed)\n", name,
		    DEADLINE_MS / 1000);
	else
		printf("FAIL %s: status %#x\n", name, status);
	return (0);
}

int
main(int argc, char **argv)
{
	static const char *cases[] = { "main-exits", "main-exits-export",
	    "fork-child" };
	char dir[] = "/tmp/uma_pexit.XXXXXX", cmd[64];
	int passed = 0;

	if (argc > 1) {
		if (strcmp(argv[1], "fork-child") == 0)
			fork_child();
		main_exits(strcmp(argv[1], "main-exits-export") == 0);
	}
	if (mkdtemp(dir) == NULL)
		return (1);
	setenv("UMA_EXPORT_DIR", dir, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		passed += run_case(argv[0], cases[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	printf("%d passed, %d failed\n", passed, 3 - passed);
	return (passed == 3 ? 0 : 1);
}
