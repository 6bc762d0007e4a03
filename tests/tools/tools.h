/*
 * tools.h - what the tests of umastat's fleet views share: a private
 * export directory (UMA_EXPORT_DIR, so that only the test's processes are
 * seen), fleet_workload processes that hold still, the exporter on a port
 * of its choosing, and a small HTTP client.
 */
#ifndef _UMA_TEST_TOOLS_H_
#define	_UMA_TEST_TOOLS_H_

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

/* Close its stdin: it exits, and its socket goes with it. */
static inline void
workload_end(struct workload *w)
{
	int status;

	close(w->w_in);
	CHECK(waitpid(w->w_pid, &status, 0) == w->w_pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(w->w_out);
}

/* Its socket path. */
static inline void
workload_sock(const struct workload *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d.sock", tools_dir, (int)w->w_pid);
}

struct exporter {
	pid_t	e_pid;
	int	e_port;
};

/* `umastat exporter --listen 127.0.0.1:0 [extra]`, once it listens. */
static inline struct exporter
exporter_start(const char *extra)
{
	struct exporter e;
	char line[256], *p;
	int err[2];
	FILE *f;

	CHECK(pipe(err) == 0);
	fflush(NULL);
	e.e_pid = fork();
	CHECK(e.e_pid >= 0);
	if (e.e_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(err[1], 2);
		close(err[0]);
		execl(UMASTAT_PATH, "umastat", "exporter", "--listen",
		    "127.0.0.1:0", extra != NULL ? extra : (char *)NULL,
		    (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	f = fdopen(err[0], "r");
	CHECK(f != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	fclose(f);
	p = strstr(line, "http://127.0.0.1:");
	CHECK(p != NULL);
	e.e_port = atoi(p + strlen("http://127.0.0.1:"));
	CHECK(e.e_port > 0);
	return (e);
}

/* Stop it with SIGTERM; it must exit 0 (a clean shutdown). */
static inline void
exporter_stop(struct exporter *e)
{
	int status;

	kill(e->e_pid, SIGTERM);
	CHECK(waitpid(e->e_pid, &status, 0) == e->e_pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static inline int
tcp_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return (fd);
}

static inline void
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Everything the server sends on fd until it closes (at most `limit_ms`
 * of waiting for each read), NUL-terminated, malloc'ed.
 */
static inline char *
recv_all(int fd, size_t *lenp, int limit_ms)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	CHECK(buf != NULL);
	for (;;) {
		CHECK(poll(&pfd, 1, limit_ms) == 1);
		if (len + 1 == cap) {
			cap *= 2;
			CHECK((buf = realloc(buf, cap)) != NULL);
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/*
 * Send `request` as is on a new connection and return the whole answer
 * (the request should close the connection), its status in *status.
 */
static inline char *
http_raw(int port, const char *request, size_t reqlen, int *status)
{
	int fd = tcp_connect(port);
	char *resp;

	send_all(fd, request, reqlen);
	resp = recv_all(fd, NULL, 10000);
	close(fd);
	*status = strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : -1;
	return (resp);
}

/* GET path with an Accept header (or none); the whole response. */
static inline char *
http_get(int port, const char *path, const char *accept, int *status)
{
	char req[1024];
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
	    "\r\n%s%s%sConnection: close\r\n\r\n", path,
	    accept != NULL ? "Accept: " : "", accept != NULL ? accept : "",
	    accept != NULL ? "\r\n" : "");
	return (http_raw(port, req, (size_t)n, status));
}

/* The body of a response (after the empty line). */
static inline const char *
http_body(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	CHECK(p != NULL);
	return (p + 4);
}

/*
 * The value of the sample whose line starts with `series` (name and
 * labels, as the exporter writes them), or -1 if absent.
 */
static inline long long
sample(const char *body, const char *series)
{
	size_t len = strlen(series);
	const char *p = body;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[len] == ' ')
			return (atoll(p + len + 1));
		p += len;
	}
	return (-1);
}

#endif
