/*
 * e2e.h - what the end-to-end tests share: a forked child that runs a
 * workload, serves its sysctl tree on a socket in a fresh directory and
 * reports readiness on a pipe; umastat run against that socket; and a
 * number read out of umastat's JSON.
 */
#ifndef _UMA_TEST_E2E_H_
#define	_UMA_TEST_E2E_H_

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/sysctl.h>

#include "harness.h"

#define	E2E_OUT_MAX	(1 << 24)	/* bytes of umastat output kept */

/*
 * Make the directory `dir` (a mkdtemp template), fork, and run
 * child(fd, arg) in the child, which must not return: it writes exactly
 * `readylen` bytes to `fd` once its export endpoint is up.  Those bytes
 * go to `ready`; `sock` gets the child's socket path.
 */
static inline pid_t
e2e_start(char *dir, void (*child)(int fd, void *arg), void *arg,
    void *ready, size_t readylen, char *sock, size_t len)
{
	int pfd[2];
	pid_t pid;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(pipe(pfd) == 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		child(pfd[1], arg);
		_exit(127);
	}
	close(pfd[1]);
	alarm(60);
	if (read(pfd[0], ready, readylen) != (ssize_t)readylen) {
		int status;

		waitpid(pid, &status, 0);
		fprintf(stderr, "child status %#x\n", status);
		CHECK(0);
	}
	close(pfd[0]);
	snprintf(sock, len, "%s/%d.sock", dir, (int)pid);
	return (pid);
}

/*
 * The child's end, once its workload is done: serve the sysctl tree in
 * `dir`, write `ready` (`len` bytes) to `fd`, and wait to be killed.
 */
static inline void
e2e_serve(const char *dir, int fd, const void *ready, size_t len)
{
	if (uma_export_start(dir) != 0)
		_exit(4);
	if (write(fd, ready, len) != (ssize_t)len)
		_exit(10);
	for (;;)
		pause();
}

static inline void
e2e_stop(pid_t pid, const char *dir)
{
	char cmd[256];

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

/* `umastat --socket sock args`, which must succeed: its output. */
static inline char *
e2e_umastat(const char *sock, const char *args)
{
	char cmd[512], *out = malloc(E2E_OUT_MAX);
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --socket %s %s", UMASTAT_PATH, sock,
	    args);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while ((n = fread(out + len, 1, E2E_OUT_MAX - 1 - len, p)) > 0)
		len += n;
	CHECK(pclose(p) == 0);
	out[len] = '\0';
	return (out);
}

/*
 * The number after "key": in `json`: in the object of zone `name` (and
 * before that object's first '}'), or anywhere if `name` is NULL.
 */
static inline unsigned long long
json_num(const char *json, const char *name, const char *key)
{
	char pat[128];
	const char *o = json, *k;

	if (name != NULL) {
		snprintf(pat, sizeof(pat), "{\"name\":\"%s\",", name);
		o = strstr(json, pat);
		CHECK(o != NULL);
	}
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	k = strstr(o, pat);
	CHECK(k != NULL);
	if (name != NULL)
		CHECK(k < strchr(o, '}'));
	return (strtoull(k + strlen(pat), NULL, 10));
}

#endif
