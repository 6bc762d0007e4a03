/*
 * preload_threads.c - under libuma-malloc.so (or linked with
 * libuma-malloc.a): threads that come and go, and fork() in the middle of
 * allocation from other threads; the child allocates and exits cleanly.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern size_t malloc_usable_size(void *);

static void *
churn(void *arg)
{
	void *p[200];

	for (int r = 0; r < 200; r++) {
		for (int i = 0; i < 200; i++) {
			p[i] = malloc((size_t)(i * 37 + r) % 9000 + 1);
			memset(p[i], i, 8);
		}
		for (int i = 0; i < 200; i++)
			free(p[i]);
	}
	return (NULL);
}

UMA_TEST(preload_threads_come_and_go)
{
	for (int round = 0; round < 20; round++) {
		pthread_t t[4];

		for (int i = 0; i < 4; i++)
			CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	}
}

UMA_TEST(preload_fork_while_threads_allocate)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
	for (int k = 0; k < 20; k++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			churn(NULL);
			_exit(0);
		}
		CHECK(pid > 0);
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

UMA_TEST(preload_malloc_is_uma)
{
	void *p = malloc(100);

	/* uma's size classes: 100 bytes come from malloc-112. */
	CHECK(malloc_usable_size(p) == 112);
	free(p);
}
