/*
 * zone_threads_exit.c - uma's own threads (uma-trim, uma-export) never keep
 * a process alive: a process whose main thread calls pthread_exit() ends,
 * with status 0, when its last thread of its own ends (POSIX), even though
 * uma's threads run on.  Public API only.
 *
 * Each case runs in a child forked by the test, which the test kills if it
 * has not ended in 10 s: a process whose only live threads are uma's could
 * not be ended by any signal but SIGKILL (they block every signal).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "threads_named.h"

#define	DEADLINE	10.0	/* seconds a case may take to end */

static uma_zone_t zone;

/* The last thread of the program's own: works, then returns. */
static void *
worker(void *arg)
{
	void *items[512];

	usleep(100000);		/* main is gone by now */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 512; i++)
			if ((items[i] = uma_zalloc(zone, M_WAITOK)) == NULL)
				_exit(5);
		for (int i = 0; i < 512; i++)
			uma_zfree(zone, items[i]);
	}
	return (arg);
}

/*
 * The child: make a zone and use it (which starts uma-trim), optionally
 * serve the endpoint too, check that uma's threads run, start the worker
 * and leave main with pthread_exit.  Exit codes other than 0 name the
 * step that failed; 0 comes only from the process ending by itself.
 */
static void
child_main(const char *export_dir)
{
	pthread_t td;
	void *p;

	zone = uma_zcreate("exit_test", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	if (zone == NULL || (p = uma_zalloc(zone, M_WAITOK)) == NULL)
		_exit(2);
	uma_zfree(zone, p);
	if (export_dir != NULL && uma_export_start(export_dir) != 0)
		_exit(3);
	for (int i = 0; i < 100 && (threads_named("uma-trim") != 1 ||
	    (export_dir != NULL && threads_named("uma-export") != 1)); i++)
		usleep(10000);
	if (threads_named("uma-trim") != 1)
		_exit(4);
	if (export_dir != NULL && threads_named("uma-export") != 1)
		_exit(6);
	if (pthread_create(&td, NULL, worker, NULL) != 0)
		_exit(7);
	pthread_exit(NULL);
}

/*
 * Fork the case and check that it ended by itself with status 0.  Not
 * under ThreadSanitizer in a fresh process: its runtime's own background
 * thread keeps any process whose main calls pthread_exit alive, a program
 * without uma too (a fork child has no such thread).
 */
static void
expect_ends(const char *export_dir, bool fresh)
{
	double start = test_now();
	int status = 0;
	pid_t pid, got;

#ifdef UMA_TSAN
	if (fresh)
		SKIP("ThreadSanitizer's background thread keeps a process "
		    "whose main calls pthread_exit alive, with or without uma");
#endif
	(void)fresh;
	fflush(NULL);
	if ((pid = fork()) == 0)
		child_main(export_dir);
	CHECK(pid > 0);
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
	    test_now() - start < DEADLINE)
		usleep(10000);
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fprintf(stderr, "the process was still alive after %.0f s\n",
		    DEADLINE);
	}
	CHECK(got == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

UMA_TEST(process_ends_when_main_pthread_exits_with_trim_thread)
{
	expect_ends(NULL, true);
}

UMA_TEST(process_ends_when_main_pthread_exits_with_export_thread)
{
	char dir[] = "/tmp/uma_exit.XXXXXX", cmd[64];

	CHECK(mkdtemp(dir) != NULL);
	expect_ends(dir, true);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* uma's threads run in this process before the fork: the child's are new. */
UMA_TEST(fork_child_ends_when_main_pthread_exits)
{
	uma_zone_t z = uma_zcreate("exit_parent", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	void *p;

	CHECK(z != NULL);
	CHECK((p = uma_zalloc(z, M_WAITOK)) != NULL);
	uma_zfree(z, p);
	for (int i = 0; i < 100 && threads_named("uma-trim") != 1; i++)
		usleep(10000);
	CHECK_EQ(threads_named("uma-trim"), 1);
	expect_ends(NULL, false);
}
