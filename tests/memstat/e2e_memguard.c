/*
 * e2e_memguard.c - `umastat -g`: MemGuard's settings, counters and live
 * objects of another process, through its export socket and through a
 * saved file, as text, JSON and Prometheus, carry what the process did:
 * five objects of a guarded type allocated, one freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memstat.h>
#include <uma/malloc.h>
#include <uma/memguard.h>

#include "e2e.h"
#include "harness.h"

MALLOC_DEFINE(M_E2EMG, "e2e_mg", "umastat -g's test");

static char dir[] = "/tmp/memstat_e2e_memguard.XXXXXX";

static void
child(int fd, void *arg)
{
	void *p[5];
	int ready = 1;

	test_tunables_add("vm.memguard.desc=e2e_mg");
	for (int i = 0; i < 5; i++) {
		p[i] = uma_malloc(10 * (size_t)(i + 1), M_E2EMG, M_WAITOK);
		if (!is_memguard_addr(p[i]))
			_exit(5);
	}
	uma_free(p[2], M_E2EMG);
	e2e_serve(dir, fd, &ready, sizeof(ready));
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return (n);
}

/* `umastat -f file args`, which must succeed: its output. */
static char *
umastat_file(const char *file, const char *args)
{
	char cmd[512], *out = malloc(E2E_OUT_MAX);
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -f %s %s", UMASTAT_PATH, file, args);
	CHECK((p = popen(cmd, "r")) != NULL);
	while ((n = fread(out + len, 1, E2E_OUT_MAX - 1 - len, p)) > 0)
		len += n;
	CHECK(pclose(p) == 0);
	out[len] = '\0';
	return (out);
}

/* The five figures of this workload, in umastat's JSON. */
static void
check_json(const char *out)
{
	CHECK_EQ(json_num(out, NULL, "numalloc"), 5);
	CHECK_EQ(json_num(out, NULL, "numfree"), 1);
	CHECK_EQ(json_num(out, NULL, "live"), 4);
	CHECK_EQ(json_num(out, NULL, "live_bytes"), 4 * 4096);
	CHECK_EQ(json_num(out, NULL, "wasted"), 4 * 4096 - (10 + 20 + 40 +
	    50));
	CHECK_EQ(count(out, "\"name\":\"e2e_mg\""), 4);
	CHECK(strstr(out, "\"desc\":\"e2e_mg\"") != NULL);
	CHECK(strstr(out, "\"size\":30,") == NULL);	/* the freed one */
	CHECK(strstr(out, "\"size\":40,") != NULL);
}

UMA_TEST(umastat_memguard_view_of_a_process_and_a_saved_file)
{
	char sock[160], args[256], path[200], cmd[600], *out;
	int ready, status;
	pid_t pid;

	pid = e2e_start(dir, child, NULL, &ready, sizeof(ready), sock,
	    sizeof(sock));
	out = e2e_umastat(sock, "-g");
	CHECK(strstr(out, "MemGuard on: desc \"e2e_mg\"") != NULL);
	CHECK(strstr(out, "4 guarded objects live") != NULL);
	CHECK_EQ(count(out, "type e2e_mg"), 4);
	CHECK(strstr(out, "\nnumalloc ") != NULL);
	free(out);
	out = e2e_umastat(sock, "-g --json");
	check_json(out);
	free(out);
	out = e2e_umastat(sock, "-g --prometheus");
	CHECK(strstr(out, "\numa_memguard_live 4\n") != NULL);
	CHECK(strstr(out, "\numa_memguard_numalloc_total 5\n") != NULL);
	free(out);
	snprintf(cmd, sizeof(cmd), "%s --socket %s -g --prometheus | %s",
	    UMASTAT_PATH, sock, PROMTOOL_CHECK);
	status = system(cmd);
	if (WEXITSTATUS(status) == 77)
		printf("(promtool absent: not checked)\n");
	else
		CHECK_EQ(status, 0);
	/* -w: the counters' change a second, 0 in a quiet process. */
	out = e2e_umastat(sock, "-g -w 0.1 -c 2");
	CHECK(strstr(out, "PER SECOND") != NULL);
	free(out);

	/* Saved, the file reads as the process did. */
	snprintf(path, sizeof(path), "%s/save", dir);
	snprintf(args, sizeof(args), "--save %.200s", path);
	free(e2e_umastat(sock, args));
	out = umastat_file(path, "-g --json");
	check_json(out);
	free(out);
	e2e_stop(pid, dir);
}
