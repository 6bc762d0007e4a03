/*
 * list.c - `umastat -l` and umastat given no source: every uma process
 * with its command, zones, bytes in use (as -k says) and socket; a stale
 * socket is neither listed nor kept, a socket nobody serves of a live
 * process is not listed but left alone; with no source the list comes
 * with how to pick one (exit 0), and with no process at all a hint and
 * exit 1; -p PID finds a process where -l does.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "tools.h"

/* Run `cmd` through sh; its stdout, and its exit status in *status. */
static char *
run(const char *cmd, int *status)
{
	char *out = malloc(1 << 20);
	size_t len = 0, n;
	FILE *p;

	CHECK(out != NULL);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while ((n = fread(out + len, 1, (1 << 20) - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	*status = pclose(p);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
	return (out);
}

/* A number after "key": in a JSON text. */
static unsigned long long
json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	CHECK(p != NULL);
	return (strtoull(p + strlen(pat), NULL, 10));
}

/* Zones of the process at `sock` (-z --json) and its bytes in use (-k). */
static void
zones_and_inuse(const char *sock, unsigned long long *zones,
    unsigned long long *inuse)
{
	char cmd[512], *out, *p;
	int status;

	snprintf(cmd, sizeof(cmd), UMASTAT_PATH " --socket %s -z --json", sock);
	out = run(cmd, &status);
	CHECK_EQ(status, 0);
	*zones = 0;
	for (p = out; (p = strstr(p, "{\"name\":")) != NULL; p++)
		(*zones)++;
	free(out);
	snprintf(cmd, sizeof(cmd), UMASTAT_PATH " --socket %s -k --json", sock);
	out = run(cmd, &status);
	CHECK_EQ(status, 0);
	*inuse = json_num(out, "inuse");
	free(out);
}

UMA_TEST(list_shows_every_process_with_its_zones_and_bytes)
{
	struct workload w1, w2;
	char line[512], sock[256], *out, *l;
	unsigned long long zones, inuse;
	int status;

	tools_setup();
	w1 = workload_start(1500, 2);
	w2 = workload_start(30, 0);
	out = run(UMASTAT_PATH " -l", &status);
	CHECK_EQ(status, 0);
	CHECK(strncmp(out, "    PID COMMAND", 15) == 0);
	for (int i = 0; i < 2; i++) {
		struct workload *w = i == 0 ? &w1 : &w2;

		workload_sock(w, sock, sizeof(sock));
		zones_and_inuse(sock, &zones, &inuse);
		CHECK(zones >= 2);
		CHECK(inuse >= (i == 0 ? 1500 * FLEET_BIG_SIZE +
		    2 * FLEET_BUF_SIZE : 30 * FLEET_BIG_SIZE));
		snprintf(line, sizeof(line), "%7d %-16s %6llu %11lluK  %s\n",
		    (int)w->w_pid, "fleet_workload", zones,
		    (inuse + 1023) / 1024, sock);
		l = strstr(out, line);
		if (l == NULL)
			fprintf(stderr, "no line\n%sin\n%s", line, out);
		CHECK(l != NULL);
	}
	free(out);
	/* --json: the same figures. */
	out = run(UMASTAT_PATH " -l --json", &status);
	CHECK_EQ(status, 0);
	snprintf(line, sizeof(line), "{\"pid\":%d,\"command\":\"fleet_workload\"",
	    (int)w2.w_pid);
	CHECK((l = strstr(out, line)) != NULL);
	workload_sock(&w2, sock, sizeof(sock));
	zones_and_inuse(sock, &zones, &inuse);
	CHECK_EQ(json_num(l, "bytes-in-use"), inuse);
	CHECK_EQ(json_num(l, "zones"), zones);
	free(out);
	workload_kill(&w1);
	workload_kill(&w2);
	tools_cleanup();
}

UMA_TEST(list_skips_and_removes_the_socket_of_a_dead_process)
{
	struct workload w, dead;
	char sock[256], pid[32], *out;
	struct stat st;
	int status;

	tools_setup();
	w = workload_start(5, 0);
	dead = workload_start(5, 0);
	workload_sock(&dead, sock, sizeof(sock));
	workload_kill(&dead);			/* the socket stays */
	CHECK(stat(sock, &st) == 0);
	out = run(UMASTAT_PATH " -l", &status);
	CHECK_EQ(status, 0);
	snprintf(pid, sizeof(pid), "%7d ", (int)w.w_pid);
	CHECK(strstr(out, pid) != NULL);
	snprintf(pid, sizeof(pid), "%7d ", (int)dead.w_pid);
	CHECK(strstr(out, pid) == NULL);
	CHECK(stat(sock, &st) != 0 && errno == ENOENT);
	free(out);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(list_leaves_alone_a_socket_of_a_live_process_nobody_serves)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char pid[32], *out;
	struct stat st;
	int fd, status;

	tools_setup();
	/* Our own pid's name, bound and not listening: refused. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%d.sock", tools_dir,
	    (int)getpid());
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	out = run(UMASTAT_PATH " -l", &status);
	CHECK_EQ(status, 0);
	snprintf(pid, sizeof(pid), "%7d ", (int)getpid());
	CHECK(strstr(out, pid) == NULL);
	CHECK(stat(sun.sun_path, &st) == 0);
	free(out);
	close(fd);
	tools_cleanup();
}

UMA_TEST(no_source_lists_the_processes_and_how_to_pick_one)
{
	struct workload w;
	char want[64], *out;
	int status;

	tools_setup();
	w = workload_start(5, 0);
	out = run(UMASTAT_PATH " -z 2>/dev/null", &status);
	CHECK_EQ(status, 0);
	CHECK(strstr(out, "this process has no uma") != NULL);
	snprintf(want, sizeof(want), "%7d fleet_workload", (int)w.w_pid);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "umastat -p %d -z", (int)w.w_pid);
	CHECK(strstr(out, want) != NULL);
	free(out);
	workload_kill(&w);
	tools_cleanup();
}

UMA_TEST(no_source_and_no_process_says_how_to_start_one_and_fails)
{
	char *out;
	int status;

	tools_setup();
	out = run(UMASTAT_PATH " -m 2>&1", &status);
	CHECK_EQ(status, 1);
	CHECK(strstr(out, "UMA_EXPORT=1") != NULL);
	CHECK(strstr(out, "Statistics source not found") == NULL);
	free(out);
	tools_cleanup();
}

UMA_TEST(pid_finds_the_process_where_list_does)
{
	char xdg[] = "/tmp/uma_tools_xdg.XXXXXX", cmd[512], want[64], *out;
	struct workload w;
	int status;

	/*
	 * Started without XDG_RUNTIME_DIR, it serves in /tmp/uma-<uid>; the
	 * default path of -p with XDG_RUNTIME_DIR set is elsewhere.
	 */
	CHECK(unsetenv("UMA_EXPORT_DIR") == 0 &&
	    unsetenv("XDG_RUNTIME_DIR") == 0);
	w = workload_start(4321, 0);
	CHECK(mkdtemp(xdg) != NULL);
	snprintf(cmd, sizeof(cmd), "XDG_RUNTIME_DIR=%s %s -p %d -z --json",
	    xdg, UMASTAT_PATH, (int)w.w_pid);
	out = run(cmd, &status);
	CHECK_EQ(status, 0);
	snprintf(want, sizeof(want), "\"name\":\"fleet_big\"");
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "\"used\":4321,") != NULL);
	free(out);
	workload_end(&w);
	rmdir(xdg);
}
