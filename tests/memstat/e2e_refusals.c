/*
 * e2e_refusals.c - umastat and libmemstat say why: -w and -c out of
 * range, a pid that does not export, a sysctl write refused (read-only
 * node, boot tunable, value refused, not a value), a server that refuses
 * or evicts a client before it has sent its request, and the export
 * endpoint's own eviction notice.  Never "Broken pipe", never a bare
 * "Statistics transport error".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memstat.h>
#include <uma/stream.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"

#define	SERVER_SLOTS	16	/* clients the endpoint serves at once */

static char dir[] = "/tmp/memstat_refusals.XXXXXX";

static const char *
tmpdir(void)
{
	if (strstr(dir, "XXXXXX") != NULL)
		CHECK(mkdtemp(dir) != NULL);
	return (dir);
}

/* Run umastat with `args`; its stdout and stderr in a malloc'ed string. */
static char *
run(const char *args, int *status)
{
	char cmd[2048], buf[4096], *out = NULL;
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "UMA_EXPORT_DIR=%s %s %s 2>&1", tmpdir(),
	    UMASTAT_PATH, args);
	CHECK((p = popen(cmd, "r")) != NULL);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		CHECK((out = realloc(out, len + n + 1)) != NULL);
		memcpy(out + len, buf, n);
		len += n;
	}
	*status = pclose(p);
	if (out == NULL)
		CHECK((out = calloc(1, 1)) != NULL);
	out[len] = '\0';
	return (out);
}

/* umastat `args` exits `code` and says `needle` (and no errno string). */
static void
says(const char *args, int code, const char *needle)
{
	int status;
	char *out = run(args, &status);

	if (strstr(out, needle) == NULL || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != code)
		fprintf(stderr, "umastat %s: status %#x, said:\n%s", args,
		    status, out);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), code);
	CHECK(strstr(out, needle) != NULL);
	CHECK(strstr(out, "Broken pipe") == NULL);
	CHECK(strstr(out, "No such file") == NULL);
	CHECK(strstr(out, "transport error") == NULL);
	free(out);
}

/* A saved file of this process's statistics. */
static const char *
saved(void)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/save", tmpdir());
	CHECK(uma_zcreate("refusals", 64, NULL, NULL, NULL, NULL, 7, 0) !=
	    NULL);
	CHECK(memstat_save(memstat_source_self(), path) == 0);
	return (path);
}

static int
count_of(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return (n);
}

UMA_TEST(umastat_wait_refuses_inf_nan_and_below_a_tenth)
{
	static const char *const bad[] = { "inf", "nan", "1e-9", "0.05",
	    "-1", "0", "86401", "1e5", "abc", "1s", "''" };
	char args[512];
	const char *f = saved();
	int status;
	char *out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "-w %s -c 1 -f %s", bad[i], f);
		says(args, 2, "the interval must be a number of seconds "
		    "from 0.1 to 86400");
	}
	/* The bounds themselves are fine: 3 samples a tenth apart. */
	snprintf(args, sizeof(args), "-w 0.1 -c 3 -f %s", f);
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK_EQ(count_of(out, "\nrefusals:"), 3);
	free(out);
}

UMA_TEST(umastat_count_refuses_zero_negative_and_overflow)
{
	static const char *const bad[] = { "0", "-1", "5x", "1.5",
	    "99999999999999999999999", "''" };
	char args[512];
	const char *f = saved();
	int status;
	char *out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "-w 1 -c %s -f %s", bad[i], f);
		says(args, 2, "the count must be a whole number of samples");
	}
	/* -c alone samples every second (vmstat's default), not once. */
	snprintf(args, sizeof(args), "-c 2 -f %s", f);
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK_EQ(count_of(out, "\nrefusals:"), 2);
	free(out);
}

UMA_TEST(umastat_pid_that_does_not_export_says_how_to_turn_it_on)
{
	char args[512], save[300];
	int status;
	pid_t pid;

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Holds no pipe of ours, and ends even if the test does not. */
		(void)!freopen("/dev/null", "w", stdout);
		(void)!freopen("/dev/null", "w", stderr);
		alarm(30);
		pause();
		_exit(0);
	}
	snprintf(save, sizeof(save), "%s/never", tmpdir());
	snprintf(args, sizeof(args), "-p %d --save %s", (int)pid, save);
	says(args, 1, "does not export its statistics");
	says(args, 1, "UMA_EXPORT=1");
	CHECK(access(save, F_OK) != 0);
	snprintf(args, sizeof(args), "-p %d -z", (int)pid);
	says(args, 1, "does not export its statistics");
	snprintf(args, sizeof(args), "-p %d sysctl -a", (int)pid);
	says(args, 1, "does not export its statistics");
	/* Once it is gone: no such process. */
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	snprintf(args, sizeof(args), "-p %d -z", (int)pid);
	says(args, 1, "no process");
}

static const char *
export_path(void)
{
	static char path[300];
	int error = uma_export_start(tmpdir());

	CHECK(error == 0 || error == EEXIST);
	snprintf(path, sizeof(path), "%s/%d.sock", tmpdir(), (int)getpid());
	return (path);
}

UMA_TEST(umastat_sysctl_write_refusals_name_the_node_and_why)
{
	char args[512];
	const char *sock = export_path();

	snprintf(args, sizeof(args), "--socket %s sysctl vm.zone_count=5",
	    sock);
	says(args, 1, "vm.zone_count=5: read-only node");
	snprintf(args, sizeof(args), "--socket %s sysctl vm.uma_rseq=0", sock);
	says(args, 1, "vm.uma_rseq=0: a boot tunable, read-only once the "
	    "process runs (set it at start: UMA_TUNABLES=vm.uma_rseq=0)");
	/* nmbclusters takes increases only, as FreeBSD's. */
	snprintf(args, sizeof(args), "--socket %s sysctl "
	    "kern.ipc.nmbclusters=1", sock);
	says(args, 1, "kern.ipc.nmbclusters=1: value refused by the node");
	snprintf(args, sizeof(args), "--socket %s sysctl "
	    "vm.zone_warnings=yes", sock);
	says(args, 1, "vm.zone_warnings=yes: not a value of type int");
	/* A saved file is a source that cannot be written. */
	snprintf(args, sizeof(args), "-f %s sysctl vm.zone_stats=1", saved());
	says(args, 1, "vm.zone_stats=1: not a value of type opaque");
	uma_export_stop();
}

/* ---- a fake server that refuses or evicts on cue ----------------------- */

struct fake {
	char		 path[108];
	int		 lfd;
	int		 error;		/* what it answers */
	int		 serve_first;	/* answer one request first */
	int		 conns;		/* connections to take */
	int		 closed;	/* pipe: a byte per connection closed */
	pthread_t	 td;
};

static int
io_all(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) :
		    recv(fd, p, len, MSG_WAITALL);

		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Read one request whole (its name and value are discarded). */
static int
read_request(int fd)
{
	struct uma_export_req rq;
	char skip[256];

	if (io_all(fd, &rq, sizeof(rq), 0) != 0)
		return (-1);
	for (size_t left = (size_t)rq.uer_namelen + rq.uer_vallen; left > 0;) {
		size_t n = left < sizeof(skip) ? left : sizeof(skip);

		if (io_all(fd, skip, n, 0) != 0)
			return (-1);
		left -= n;
	}
	return (0);
}

/*
 * Each connection: optionally answer one GET with an int 7; then send a
 * response with `error` and close at once, without reading the next
 * request, as a server refusing or evicting a client does.
 */
static void *
fake_main(void *arg)
{
	struct fake *fk = arg;
	struct uma_export_resp r = { .ues_magic = UMA_EXPORT_MAGIC };
	int32_t seven = 7;
	char b = 1;

	for (int i = 0; i < fk->conns; i++) {
		int fd = accept(fk->lfd, NULL, NULL);

		if (fd < 0)
			break;
		if (fk->serve_first && i == 0 && read_request(fd) == 0) {
			r.ues_error = 0;
			r.ues_len = sizeof(seven);
			(void)io_all(fd, &r, sizeof(r), 1);
			(void)io_all(fd, &seven, sizeof(seven), 1);
		}
		r.ues_error = fk->error;
		r.ues_len = 0;
		(void)io_all(fd, &r, sizeof(r), 1);
		close(fd);
		(void)!write(fk->closed, &b, 1);
	}
	return (NULL);
}

static void
fake_start(struct fake *fk, int error, int serve_first, int conns, int *pfd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(fk, 0, sizeof(*fk));
	snprintf(fk->path, sizeof(fk->path), "%s/fake%d.sock", tmpdir(),
	    error);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fk->path);
	(void)unlink(fk->path);
	CHECK((fk->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	CHECK(bind(fk->lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(fk->lfd, 8) == 0);
	CHECK(pipe(pfd) == 0);
	fk->error = error;
	fk->serve_first = serve_first;
	fk->conns = conns;
	fk->closed = pfd[1];
	CHECK(pthread_create(&fk->td, NULL, fake_main, fk) == 0);
}

static void
fake_stop(struct fake *fk, int *pfd)
{
	CHECK(pthread_join(fk->td, NULL) == 0);
	close(fk->lfd);
	close(pfd[0]);
	close(pfd[1]);
	(void)unlink(fk->path);
}

/*
 * The server answered one request, then refused the connection and closed
 * it before the next request: sending that request fails with EPIPE, and
 * the client reports the server's EACCES, read after the failed send.
 */
UMA_TEST(memstat_refusal_before_the_request_is_reported_not_epipe)
{
	struct memstat_source *src;
	struct fake fk;
	int32_t v = 0;
	size_t len = sizeof(v);
	int pfd[2];
	char b;

	fake_start(&fk, EACCES, 1, 1, pfd);
	CHECK((src = memstat_source_socket(fk.path)) != NULL);
	CHECK(memstat_source_sysctl(src, "vm.zone_count", &v, &len, NULL,
	    0) == 0);
	CHECK_EQ(v, 7);
	CHECK(read(pfd[0], &b, 1) == 1);	/* the server has closed */
	errno = 0;
	CHECK(memstat_source_sysctl(src, "vm.zone_count", &v, &len, NULL,
	    0) == -1);
	CHECK_EQ(errno, EACCES);
	memstat_source_close(src);
	fake_stop(&fk, pfd);
}

/*
 * An idle connection evicted (EBUSY ahead of its next request) is opened
 * again once; evicted again, the client reports the eviction, and
 * umastat prints it.
 */
UMA_TEST(memstat_eviction_is_reported_after_one_reconnect)
{
	struct memory_type_list *list;
	struct memstat_source *src;
	struct fake fk;
	int32_t v = 0;
	size_t len = sizeof(v);
	char args[256], b;
	int pfd[2];

	fake_start(&fk, EBUSY, 1, 2, pfd);
	CHECK((src = memstat_source_socket(fk.path)) != NULL);
	CHECK(memstat_source_sysctl(src, "vm.zone_count", &v, &len, NULL,
	    0) == 0);
	CHECK(read(pfd[0], &b, 1) == 1);
	CHECK((list = memstat_mtl_alloc()) != NULL);
	CHECK_EQ(memstat_source_uma(list, src), -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_BUSY);
	CHECK(strstr(memstat_strerror(MEMSTAT_ERROR_BUSY), "busy") != NULL);
	memstat_mtl_free(list);
	memstat_source_close(src);
	fake_stop(&fk, pfd);

	fake_start(&fk, EBUSY, 0, 1, pfd);
	snprintf(args, sizeof(args), "--socket %s -z", fk.path);
	says(args, 1, "umastat: reading statistics: Statistics endpoint "
	    "busy: newer clients took this one's place");
	fake_stop(&fk, pfd);
}

/* ---- the real endpoint's eviction ------------------------------------- */

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	CHECK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	return (fd);
}

/* One GET of vm.zone_count on fd; the response's error. */
static int
raw_get(int fd)
{
	struct uma_export_req rq = { .uer_magic = UMA_EXPORT_MAGIC,
	    .uer_op = UMA_EXPORT_OP_GET, .uer_namelen = 13 };
	struct uma_export_resp rs;
	char body[64];

	CHECK(io_all(fd, &rq, sizeof(rq), 1) == 0);
	CHECK(io_all(fd, "vm.zone_count", 13, 1) == 0);
	CHECK(io_all(fd, &rs, sizeof(rs), 0) == 0);
	CHECK_EQ(rs.ues_magic, UMA_EXPORT_MAGIC);
	CHECK(rs.ues_len <= sizeof(body));
	CHECK(io_all(fd, body, rs.ues_len, 0) == 0);
	return (rs.ues_error);
}

/*
 * A client idle since its request, then SERVER_SLOTS newer clients each
 * served: the idle one is told EBUSY, then closed.  A libmemstat source
 * evicted the same way reconnects once and is served.
 */
UMA_TEST(export_evicted_client_is_told_busy)
{
	const char *sock = export_path();
	struct uma_export_resp rs;
	struct memstat_source *src;
	int idle, flood[SERVER_SLOTS];
	int32_t v;
	size_t len = sizeof(v);
	char c;

	idle = raw_connect(sock);
	CHECK_EQ(raw_get(idle), 0);
	CHECK((src = memstat_source_socket(sock)) != NULL);
	CHECK(memstat_source_sysctl(src, "vm.zone_count", &v, &len, NULL,
	    0) == 0);
	for (int i = 0; i < SERVER_SLOTS; i++) {
		flood[i] = raw_connect(sock);
		CHECK_EQ(raw_get(flood[i]), 0);
	}
	CHECK(io_all(idle, &rs, sizeof(rs), 0) == 0);
	CHECK_EQ(rs.ues_magic, UMA_EXPORT_MAGIC);
	CHECK_EQ(rs.ues_error, EBUSY);
	CHECK_EQ(rs.ues_len, 0);
	CHECK(recv(idle, &c, 1, 0) == 0);	/* then the close */
	len = sizeof(v);
	CHECK(memstat_source_sysctl(src, "vm.zone_count", &v, &len, NULL,
	    0) == 0);
	memstat_source_close(src);
	close(idle);
	for (int i = 0; i < SERVER_SLOTS; i++)
		close(flood[i]);
	uma_export_stop();
}
