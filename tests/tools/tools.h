/*
 * tools.h - what the tests of umastat's fleet views share: a private
 * export directory (UMA_EXPORT_DIR, so that only the test's processes are
 * seen) and fleet_workload processes that hold still.
 */
#ifndef _UMA_TEST_TOOLS_H_
#define	_UMA_TEST_TOOLS_H_

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet.h"
#include "harness.h"

static char tools_dir[] = "/tmp/uma_tools.XXXXXX";

/* The private export directory, in UMA_EXPORT_DIR for every child. */
static inline void
tools_setup(void)
{
	CHECK(mkdtemp(tools_dir) != NULL);
	CHECK(setenv("UMA_EXPORT_DIR", tools_dir, 1) == 0);
	signal(SIGPIPE, SIG_IGN);
}

static inline void
tools_cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tools_dir);
	(void)!system(cmd);
}

struct workload {
	pid_t	w_pid;
	int	w_in;		/* its stdin: closing it ends it */
	FILE	*w_out;		/* its stdout */
};

/* fleet_workload ITEMS BUFS PACKETS, once it is ready (serving). */
static inline struct workload
workload_start_mbufs(long items, long bufs, long packets)
{
	struct workload w;
	char a[32], b[32], c[32], line[64];
	int in[2], out[2];

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	snprintf(a, sizeof(a), "%ld", items);
	snprintf(b, sizeof(b), "%ld", bufs);
	snprintf(c, sizeof(c), "%ld", packets);
	fflush(NULL);
	w.w_pid = fork();
	CHECK(w.w_pid >= 0);
	if (w.w_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(FLEET_WORKLOAD, "fleet_workload", a, b, c, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	w.w_in = in[1];
	w.w_out = fdopen(out[0], "r");
	CHECK(w.w_out != NULL);
	CHECK(fgets(line, sizeof(line), w.w_out) != NULL);
	CHECK(strcmp(line, "ready\n") == 0);
	return (w);
}

static inline struct workload
workload_start(long items, long bufs)
{
	return (workload_start_mbufs(items, bufs, 0));
}

static inline void
workload_kill(struct workload *w)
{
	kill(w->w_pid, SIGKILL);
	waitpid(w->w_pid, NULL, 0);
	close(w->w_in);
	fclose(w->w_out);
}

/* Its socket path. */
static inline void
workload_sock(const struct workload *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d.sock", tools_dir, (int)w->w_pid);
}

#endif
