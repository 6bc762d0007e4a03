/*
 * preload_export_fork.c - a threaded program that forks, run under
 * LD_PRELOAD=libuma-malloc.so with UMA_EXPORT=1 by preload_export.sh
 * (case fork): parent and child must each serve their own statistics.
 *
 * Four threads allocate and free until the fork (which then happens with
 * threads inside malloc); after it the parent holds PARENT_BLOCKS and the
 * child CHILD_BLOCKS blocks of BLOCK bytes, a size nothing else here uses
 * (class malloc-10240), prints "<parent pid> <child pid>" and both wait
 * until their stdin closes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define	BLOCK		10000
#define	PARENT_BLOCKS	37
#define	CHILD_BLOCKS	53

static atomic_bool stop;

static void *
churn(void *arg)
{
	void *p[64];

	while (!atomic_load(&stop)) {
		for (int i = 0; i < 64; i++)
			p[i] = malloc(16 + (size_t)i * 24);
		for (int i = 0; i < 64; i++)
			free(p[i]);
	}
	return (arg);
}

static void
hold(int n)
{
	char **keep = malloc(sizeof(char *) * (size_t)n), c;

	for (int i = 0; i < n; i++) {
		keep[i] = malloc(BLOCK);
		memset(keep[i], i, BLOCK);
	}
	while (read(0, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++)
		free(keep[i]);
	free(keep);
}

int
main(void)
{
	pthread_t td[4];
	pid_t child;
	int fds[2], status;
	char c;

	for (int i = 0; i < 4; i++)
		if (pthread_create(&td[i], NULL, churn, NULL) != 0)
			return (2);
	usleep(20000);
	if (pipe(fds) != 0 || (child = fork()) < 0)
		return (3);
	if (child == 0) {
		close(fds[0]);
		hold(CHILD_BLOCKS);
		_exit(0);
	}
	close(fds[1]);
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(td[i], NULL);
	printf("%d %d\n", (int)getpid(), (int)child);
	fflush(stdout);
	hold(PARENT_BLOCKS);
	(void)!read(fds[0], &c, 1);	/* the child's end: it exited */
	if (waitpid(child, &status, 0) != child || status != 0)
		return (4);
	return (0);
}
