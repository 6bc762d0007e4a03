/*
 * exporter.c - `umastat exporter` against real uma processes: the series
 * of every process with its pid and comm, exactly what each holds;
 * OpenMetrics when asked; 400 (and the right status) for garbage, and the
 * server goes on; a process that exits loses its series; a process that
 * accepts and never answers is skipped and counted, without stalling the
 * scrape; 1,000 bad connections while scrapes keep succeeding; a client
 * that trickles its request is dropped; fd count and RSS stay put over
 * 1,000 scrapes.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "tools.h"

#define	HTTP_TEST_BIG	16384
#define	REQ(s)		s, sizeof(s) - 1

/* Scrape /metrics, which must succeed: the body, malloc'ed. */
static char *
scrape(int port)
{
	char *resp, *body;
	int status;

	resp = http_get(port, "/metrics", NULL, &status);
	CHECK_EQ(status, 200);
	CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n") != NULL);
	body = strdup(http_body(resp));
	free(resp);
	return (body);
}

static long long
series(const char *body, const char *metric, pid_t pid, const char *key,
    const char *name)
{
	char s[256];

	snprintf(s, sizeof(s), "%s{pid=\"%d\",comm=\"fleet_workload\",%s=\"%s\"}",
	    metric, (int)pid, key, name);
	return (sample(body, s));
}

UMA_TEST(exporter_serves_what_every_process_holds)
{
	struct workload w1, w2;
	struct exporter e;
	char *body;

	tools_setup();
	w1 = workload_start(1000, 50);
	w2 = workload_start(2345, 7);
	e = exporter_start(NULL);
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_zone_used_items", w1.w_pid, "zone",
	    "fleet_big"), 1000);
	CHECK_EQ(series(body, "uma_zone_used_items", w2.w_pid, "zone",
	    "fleet_big"), 2345);
	CHECK_EQ(series(body, "uma_zone_used_bytes", w2.w_pid, "zone",
	    "fleet_big"), 2345 * FLEET_BIG_SIZE);
	CHECK_EQ(series(body, "uma_zone_used_items", w1.w_pid, "zone",
	    "fleet_aaa"), FLEET_AAA_ITEMS);
	CHECK_EQ(series(body, "uma_malloc_used_bytes", w1.w_pid, "type",
	    "fleet_buf"), 50 * FLEET_BUF_SIZE);
	CHECK_EQ(series(body, "uma_malloc_used_items", w2.w_pid, "type",
	    "fleet_buf"), 7);
	CHECK(series(body, "uma_kmem_bytes", w1.w_pid, "state",
	    "inuse_zones") >= 1000 * FLEET_BIG_SIZE);
	CHECK(series(body, "uma_kmem_bytes", w1.w_pid, "state",
	    "inuse_malloc") >= 50 * FLEET_BUF_SIZE);
	CHECK_EQ(sample(body, "uma_exporter_targets"), 2);
	CHECK_EQ(sample(body, "uma_exporter_scrape_errors_total"), 0);
	/* Each family once: HELP and TYPE are not repeated per process. */
	CHECK(strstr(body, "# TYPE uma_zone_used_items gauge") != NULL);
	CHECK(strstr(strstr(body, "# TYPE uma_zone_used_items gauge") + 1,
	    "# TYPE uma_zone_used_items gauge") == NULL);
	free(body);
	exporter_stop(&e);
	workload_kill(&w1);
	workload_kill(&w2);
	tools_cleanup();
}

UMA_TEST(exporter_serves_netstat_m_of_a_process_with_mbufs)
{
	struct workload w, plain;
	struct exporter e;
	char *body;

	tools_setup();
	w = workload_start_mbufs(1, 0, 300);	/* 300 packets held */
	plain = workload_start(1, 0);
	e = exporter_start(NULL);
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_mbufs", w.w_pid, "state", "in_use"), 300);
	CHECK_EQ(series(body, "uma_mbuf_clusters", w.w_pid, "state",
	    "in_use"), 300);
	CHECK_EQ(series(body, "uma_zone_used_items", w.w_pid, "zone",
	    "mbuf_packet"), 300);
	/* An mbuf (256) and a 2k cluster each, in use. */
	CHECK_EQ(series(body, "uma_mbuf_bytes", w.w_pid, "state", "in_use"),
	    300 * (256 + 2048));
	CHECK_EQ(series(body, "uma_mbufs", plain.w_pid, "state", "in_use"),
	    -1);
	free(body);
	exporter_stop(&e);
	workload_kill(&w);
	workload_kill(&plain);
	tools_cleanup();
}

UMA_TEST(exporter_serves_the_extended_kmem_tier_only_when_asked)
{
	struct workload w;
	struct exporter e;
	char *resp, *body;
	long long inuse;
	int status;

	tools_setup();
	w = workload_start(1000, 5);
	e = exporter_start(NULL);
	body = scrape(e.e_port);
	inuse = series(body, "uma_kmem_bytes", w.w_pid, "state", "inuse");
	CHECK(inuse >= 1000 * FLEET_BIG_SIZE + 5 * FLEET_BUF_SIZE);
	CHECK_EQ(series(body, "uma_kmem_bytes", w.w_pid, "state",
	    "reclaimable"), -1);
	CHECK(strstr(body, "uma_zone_slabs") == NULL);
	free(body);
	resp = http_get(e.e_port, "/metrics?extended=1", NULL, &status);
	CHECK_EQ(status, 200);
	body = (char *)http_body(resp);
	/* The same process, holding still: the same bytes in use. */
	CHECK_EQ(series(body, "uma_kmem_bytes", w.w_pid, "state", "inuse"),
	    inuse);
	CHECK(series(body, "uma_kmem_bytes", w.w_pid, "state",
	    "reclaimable") >= 0);
	CHECK(series(body, "uma_kmem_slabs", w.w_pid, "state", "full") > 0);
	/* Pages that hold 1,000 items of 200 bytes. */
	CHECK(series(body, "uma_zone_pages", w.w_pid, "zone", "fleet_big") *
	    sysconf(_SC_PAGESIZE) >= 1000 * FLEET_BIG_SIZE);
	CHECK(strstr(body, "# TYPE uma_zone_slabs gauge\n") != NULL);
	free(resp);
	exporter_stop(&e);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(exporter_openmetrics_when_accept_asks)
{
	struct workload w = { 0 };
	struct exporter e;
	const char *body;
	char *resp;
	int status;

	tools_setup();
	w = workload_start(10, 1);
	e = exporter_start(NULL);
	/* Prometheus 2's Accept header: OpenMetrics first. */
	resp = http_get(e.e_port, "/metrics", "application/openmetrics-text;"
	    "version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
	    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", &status);
	CHECK_EQ(status, 200);
	CHECK(strstr(resp, "Content-Type: application/openmetrics-text; "
	    "version=1.0.0; charset=utf-8\r\n") != NULL);
	body = http_body(resp);
	CHECK(strlen(body) > 6 &&
	    strcmp(body + strlen(body) - 6, "# EOF\n") == 0);
	/* A counter's family has no _total; its samples do. */
	CHECK(strstr(body, "# TYPE uma_zone_requests counter\n") != NULL);
	CHECK(series(body, "uma_zone_requests_total", w.w_pid, "zone",
	    "fleet_big") == 10);
	free(resp);
	/* Text preferred: the 0.0.4 format, no EOF. */
	resp = http_get(e.e_port, "/metrics", "application/openmetrics-text;"
	    "q=0.2,text/plain;q=0.9", &status);
	CHECK_EQ(status, 200);
	CHECK(strstr(resp, "version=0.0.4") != NULL);
	CHECK(strstr(resp, "# EOF") == NULL);
	CHECK(strstr(resp, "# TYPE uma_zone_requests_total counter\n") != NULL);
	free(resp);
	exporter_stop(&e);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(exporter_pages_methods_and_head)
{
	struct exporter e;
	char *resp;
	int status;

	tools_setup();
	e = exporter_start(NULL);
	resp = http_get(e.e_port, "/", NULL, &status);
	CHECK_EQ(status, 200);
	CHECK(strstr(resp, "text/html") != NULL);
	CHECK(strstr(resp, "<a href=\"/metrics\">") != NULL);
	free(resp);
	resp = http_get(e.e_port, "/metrics/x", NULL, &status);
	CHECK_EQ(status, 404);
	free(resp);
	resp = http_raw(e.e_port, REQ("DELETE /metrics HTTP/1.1\r\nHost: x\r\n"
	    "\r\n"), &status);
	CHECK_EQ(status, 405);
	CHECK(strstr(resp, "Allow: GET, HEAD\r\n") != NULL);
	free(resp);
	resp = http_raw(e.e_port, REQ("HEAD /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n"), &status);
	CHECK_EQ(status, 200);
	CHECK(strstr(resp, "Content-Length: ") != NULL);
	CHECK(strcmp(http_body(resp), "") == 0);
	CHECK(atoi(strstr(resp, "Content-Length: ") + 16) > 0);
	free(resp);
	exporter_stop(&e);
	tools_cleanup();
}

UMA_TEST(exporter_answers_garbage_with_400_and_goes_on)
{
	static const struct {
		const char	*req;
		int		 status;
	} cases[] = {
		{ "garbage\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\n\r\n", 400 },	/* no Host */
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET /metrics FTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET metrics HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", 400 },
		{ "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		    "\r\nhello", 400 },
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n", 400 },
		{ "\x16\x03\x01\x02\xff\x01\x01\x01\xfc\x03\x03\n\n", 400 },
	};
	char big[HTTP_TEST_BIG], *resp, *body;
	struct workload w;
	struct exporter e;
	int status, n;

	tools_setup();
	w = workload_start(77, 0);
	e = exporter_start(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resp = http_raw(e.e_port, cases[i].req, strlen(cases[i].req),
		    &status);
		if (status != cases[i].status)
			fprintf(stderr, "case %zu: got %d\n", i, status);
		CHECK_EQ(status, cases[i].status);
		CHECK(strstr(resp, "Connection: close\r\n") != NULL);
		free(resp);
	}
	/* A NUL in a header. */
	resp = http_raw(e.e_port, REQ("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"),
	    &status);
	CHECK_EQ(status, 400);
	free(resp);
	/* 100 headers, then a header of 9,000 bytes: both 431. */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 100; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: y\r\n", i);
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	resp = http_raw(e.e_port, big, (size_t)n, &status);
	CHECK_EQ(status, 431);
	free(resp);
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'y', 9000);
	memcpy(big + n + 9000, "\r\n\r\n", 4);
	resp = http_raw(e.e_port, big, (size_t)n + 9004, &status);
	CHECK_EQ(status, 431);
	free(resp);
	/* And the exporter still serves. */
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_zone_used_items", w.w_pid, "zone",
	    "fleet_big"), 77);
	free(body);
	exporter_stop(&e);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(exporter_keeps_alive_and_answers_pipelined_requests)
{
	static const char two[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
	    "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	struct exporter e;
	char *resp, *second;
	int fd;

	tools_setup();
	e = exporter_start(NULL);
	fd = tcp_connect(e.e_port);
	send_all(fd, two, strlen(two));
	resp = recv_all(fd, NULL, 10000);
	close(fd);
	CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(resp, "Connection: keep-alive\r\n") != NULL);
	second = strstr(resp + 1, "HTTP/1.1 200 OK\r\n");
	CHECK(second != NULL);
	CHECK(strstr(second, "<a href=\"/metrics\">") != NULL);
	free(resp);
	exporter_stop(&e);
	tools_cleanup();
}

UMA_TEST(exporter_drops_the_series_of_a_process_that_exits)
{
	struct workload w1, w2;
	struct exporter e;
	struct stat st;
	char *body, sock[256];

	tools_setup();
	w1 = workload_start(100, 1);
	w2 = workload_start(200, 2);
	e = exporter_start(NULL);
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_zone_used_items", w1.w_pid, "zone",
	    "fleet_big"), 100);
	free(body);
	/* SIGKILL: its socket stays behind, stale. */
	workload_sock(&w1, sock, sizeof(sock));
	workload_kill(&w1);
	CHECK(stat(sock, &st) == 0);
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_zone_used_items", w1.w_pid, "zone",
	    "fleet_big"), -1);
	CHECK_EQ(series(body, "uma_zone_used_items", w2.w_pid, "zone",
	    "fleet_big"), 200);
	CHECK_EQ(sample(body, "uma_exporter_targets"), 1);
	/* An exit is not an error, and the stale socket is gone. */
	CHECK_EQ(sample(body, "uma_exporter_scrape_errors_total"), 0);
	CHECK(stat(sock, &st) != 0 && errno == ENOENT);
	free(body);
	exporter_stop(&e);
	workload_kill(&w2);
	tools_cleanup();
}

/* A process that accepts and never answers: a child on <dir>/<pid>.sock. */
static pid_t
hung_start(void)
{
	int pfd[2];
	char c;
	pid_t pid;

	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%d.sock",
		    tools_dir, (int)getpid());
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) != 0 || listen(fd, 16) != 0)
			_exit(1);
		(void)!write(pfd[1], "r", 1);
		/* Each connection is held open and never answered. */
		for (;;)
			(void)accept(fd, NULL, NULL);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	return (pid);
}

UMA_TEST(exporter_skips_and_counts_a_process_that_never_answers)
{
	struct workload w;
	struct exporter e;
	char *body, hungpid[32];
	pid_t hung;

	tools_setup();
	hung = hung_start();
	snprintf(hungpid, sizeof(hungpid), "pid=\"%d\"", (int)hung);
	w = workload_start(321, 4);
	e = exporter_start("--timeout=1000");
	for (int i = 1; i <= 3; i++) {
		body = scrape(e.e_port);
		CHECK_EQ(series(body, "uma_zone_used_items", w.w_pid, "zone",
		    "fleet_big"), 321);
		CHECK(strstr(body, hungpid) == NULL);
		CHECK_EQ(sample(body, "uma_exporter_targets"), 1);
		CHECK_EQ(sample(body, "uma_exporter_scrape_errors_total"), i);
		free(body);
	}
	exporter_stop(&e);
	kill(hung, SIGKILL);
	waitpid(hung, NULL, 0);
	workload_kill(&w);
	tools_cleanup();
}

/* Bad connections of every kind, each left open. */
static int
bad_connection(int port, int kind)
{
	static const char *const partial[] = {
		"",				/* half-open: nothing */
		"GET /metrics HTTP/1.1\r\nHo",	/* slow: stopped midway */
		"\xff\xfe garbage without end",
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /",	/* then slow */
	};
	int fd = tcp_connect(port);
	const char *p = partial[kind % 4];

	if (*p != '\0')
		send_all(fd, p, strlen(p));
	return (fd);
}

UMA_TEST(exporter_serves_through_1000_bad_connections)
{
	struct rlimit rl = { 4096, 4096 };
	struct workload w;
	struct exporter e;
	int fds[1000];
	char *body;

	tools_setup();
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
		CHECK(rl.rlim_max >= 1100);
		rl.rlim_cur = rl.rlim_max;
		CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	w = workload_start(4242, 3);
	e = exporter_start(NULL);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 50; i++)
			fds[round * 50 + i] = bad_connection(e.e_port,
			    round * 50 + i);
		body = scrape(e.e_port);
		CHECK_EQ(series(body, "uma_zone_used_items", w.w_pid, "zone",
		    "fleet_big"), 4242);
		free(body);
	}
	for (int i = 0; i < 1000; i++)
		close(fds[i]);
	body = scrape(e.e_port);
	CHECK_EQ(series(body, "uma_zone_used_items", w.w_pid, "zone",
	    "fleet_big"), 4242);
	free(body);
	exporter_stop(&e);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(exporter_drops_a_client_that_trickles_its_request)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n";
	struct pollfd pfd;
	struct exporter e;
	char buf[256];
	size_t i;
	int fd;

	tools_setup();
	e = exporter_start(NULL);
	fd = tcp_connect(e.e_port);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	/* A byte every 200 ms: progress, but never a whole request. */
	for (i = 0; i < 100; i++) {
		if (poll(&pfd, 1, 200) == 1)
			break;
		send(fd, &req[i % (sizeof(req) - 1)], 1, MSG_NOSIGNAL);
	}
	/* Closed (EOF, or a reset) well before the 100 bytes were sent. */
	CHECK(i < 100);
	CHECK(recv(fd, buf, sizeof(buf), 0) <= 0);
	close(fd);
	exporter_stop(&e);
	tools_cleanup();
}

static int
fd_count(pid_t pid)
{
	char cmd[128], line[32];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
	p = popen(cmd, "r");
	CHECK(p != NULL && fgets(line, sizeof(line), p) != NULL);
	pclose(p);
	return (atoi(line));
}

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return (kib);
}

UMA_TEST(exporter_fds_and_rss_stay_put_over_1000_scrapes)
{
	struct workload w[3];
	struct exporter e;
	long rss0, rss1;
	int fds0, fds1;
	char *body, asan[512];

	tools_setup();
	for (int i = 0; i < 3; i++)
		w[i] = workload_start(100 * (i + 1), i);
	/*
	 * AddressSanitizer holds freed memory in quarantine (256 MiB), which
	 * would grow the RSS of any program; without it, a leak still shows.
	 */
	snprintf(asan, sizeof(asan), "%s:quarantine_size_mb=0",
	    getenv("ASAN_OPTIONS") != NULL ? getenv("ASAN_OPTIONS") : "");
	CHECK(setenv("ASAN_OPTIONS", asan, 1) == 0);
	e = exporter_start(NULL);
	for (int i = 0; i < 100; i++)
		free(scrape(e.e_port));
	fds0 = fd_count(e.e_pid);
	rss0 = rss_kib(e.e_pid);
	for (int i = 0; i < 1000; i++) {
		body = scrape(e.e_port);
		if (i % 100 == 0)
			CHECK_EQ(sample(body, "uma_exporter_targets"), 3);
		free(body);
	}
	fds1 = fd_count(e.e_pid);
	rss1 = rss_kib(e.e_pid);
	fprintf(stderr, "exporter: %d fds, RSS %ld KiB; after 1,000 scrapes "
	    "%d fds, RSS %ld KiB\n", fds0, rss0, fds1, rss1);
	CHECK_EQ(fds1, fds0);
	CHECK(rss1 <= rss0 + 256);
	exporter_stop(&e);
	for (int i = 0; i < 3; i++)
		workload_kill(&w[i]);
	tools_cleanup();
}

UMA_TEST(exporter_refuses_bad_options)
{
	char cmd[512];
	int status;

	snprintf(cmd, sizeof(cmd), "%s exporter --listen nonsense 2>&1 | "
	    "grep -q 'not ADDR:PORT'", UMASTAT_PATH);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s exporter --listen 127.0.0.1:http-x "
	    ">/dev/null 2>&1", UMASTAT_PATH);
	status = system(cmd);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(cmd, sizeof(cmd), "%s exporter --timeout 0 >/dev/null 2>&1",
	    UMASTAT_PATH);
	status = system(cmd);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}
