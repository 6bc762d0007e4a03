/*
 * e2e_malloc.c - end to end for malloc(9) types: a child runs a known
 * workload on two types in four threads (small sizes of several classes,
 * a large run, frees of a known subset) and serves its sysctl tree;
 * `umastat --socket ... -m --json` and the vmstat -m text give exactly
 * those requests, in-use counts, bytes at size-class size and sizes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uma/malloc.h>

#include "e2e.h"
#include "harness.h"

#define	NTHREADS	4

MALLOC_DEFINE(M_E2EA, "e2e_typea", "end to end test type A");
static struct malloc_type *e2eb;	/* "e2e_typeb", made at run time */

/* One line of the workload: per thread, `allocs` of `size`, `frees` freed. */
struct step {
	int	 type;		/* 0: e2e_typea, 1: e2e_typeb */
	size_t	 size;
	size_t	 rsize;		/* the size class, or the page-rounded run */
	int	 allocs, frees;
};

static const struct step steps[] = {
	{ 0, 24, 32, 100, 60 },
	{ 0, 100, 112, 50, 10 },
	{ 0, 384, 384, 20, 20 },	/* all freed: class still listed */
	{ 0, 5000, 5120, 10, 3 },
	{ 0, 70000, 73728, 3, 1 },	/* large: no size class */
	{ 1, 24, 32, 30, 0 },
	{ 1, 2000, 2048, 10, 4 },
};
#define	NSTEPS	(sizeof(steps) / sizeof(steps[0]))
#define	MAXALLOCS	100

static const char *const type_names[2] = { "e2e_typea", "e2e_typeb" };
static const char *const type_sizes[2] = { "32,112,384,5120", "32,2048" };
static const char vmstat_m_header[] =
    "         Type InUse MemUse Requests  Size(s)\n";
static const char json_head[] = "{\"malloc-statistics\":{\"memory\":[";
static char dir[] = "/tmp/memstat_e2e_malloc.XXXXXX";

static struct malloc_type *
step_type(const struct step *s)
{
	return (s->type == 0 ? M_E2EA : e2eb);
}

static void *
worker(void *arg)
{
	void *p[MAXALLOCS];

	for (size_t i = 0; i < NSTEPS; i++) {
		const struct step *s = &steps[i];

		for (int j = 0; j < s->allocs; j++)
			if ((p[j] = uma_malloc(s->size, step_type(s),
			    M_WAITOK)) == NULL)
				_exit(3);
		for (int j = 0; j < s->frees; j++)
			uma_free(p[j], step_type(s));
	}
	return (arg);
}

/* The workload; then report readiness on `fd` and wait to be killed. */
static void
child(int fd, void *arg)
{
	pthread_t t[NTHREADS];

	if ((e2eb = malloc_type_create("e2e_typeb")) == NULL)
		_exit(2);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	e2e_serve(dir, fd, "r", 1);
}

static pid_t
start(char *sock, size_t len)
{
	char c;

	return (e2e_start(dir, child, NULL, &c, 1, sock, len));
}

/* The JSON object of malloc type `name` (a copy, without its braces). */
static char *
json_type(const char *json, const char *name)
{
	char pat[128];
	const char *o, *end;

	snprintf(pat, sizeof(pat), "{\"type\":\"%s\",", name);
	o = strstr(json, pat);
	CHECK(o != NULL);
	end = strchr(o, '}');
	CHECK(end != NULL);
	return (strndup(o + 1, (size_t)(end - o - 1)));
}

struct expect {
	unsigned long long requests, frees, inuse, bytes;
};

static struct expect
expected(int type)
{
	struct expect e = { 0, 0, 0, 0 };

	for (size_t i = 0; i < NSTEPS; i++) {
		const struct step *s = &steps[i];

		if (s->type != type)
			continue;
		e.requests += NTHREADS * s->allocs;
		e.frees += NTHREADS * s->frees;
		e.inuse += NTHREADS * (s->allocs - s->frees);
		e.bytes += NTHREADS * (s->allocs - s->frees) * s->rsize;
	}
	return (e);
}

/* The table's class sizes are the library's: check them on this process. */
static void
check_rsizes(void)
{
	for (size_t i = 0; i < NSTEPS; i++) {
		void *p = uma_malloc(steps[i].size, M_E2EA, M_WAITOK);

		CHECK(p != NULL);
		CHECK_EQ(uma_malloc_usable_size(p), steps[i].rsize);
		uma_free(p, M_E2EA);
	}
}

UMA_TEST(e2e_umastat_malloc_json_exact)
{
	char sock[256], line[256], *json, *text, *obj;
	struct expect e;
	pid_t pid;

	pid = start(sock, sizeof(sock));
	check_rsizes();		/* after the fork: not counted in the child */
	json = e2e_umastat(sock, "-m --json");
	CHECK(strncmp(json, json_head, strlen(json_head)) == 0);
	text = e2e_umastat(sock, "-m");
	CHECK(strncmp(text, vmstat_m_header, strlen(vmstat_m_header)) == 0);
	for (int t = 0; t < 2; t++) {
		e = expected(t);
		obj = json_type(json, type_names[t]);
		CHECK_EQ(json_num(obj, NULL, "requests"), e.requests);
		CHECK_EQ(json_num(obj, NULL, "frees"), e.frees);
		CHECK_EQ(json_num(obj, NULL, "in-use"), e.inuse);
		CHECK_EQ(json_num(obj, NULL, "bytes"), e.bytes);
		CHECK_EQ(json_num(obj, NULL, "memory-use"),
		    (e.bytes + 1023) / 1024);
		snprintf(line, sizeof(line), "\"size\":[%s]", type_sizes[t]);
		if (strstr(obj, line) == NULL)
			fprintf(stderr, "%s: want %s in %s\n", type_names[t],
			    line, obj);
		CHECK(strstr(obj, line) != NULL);
		free(obj);

		snprintf(line, sizeof(line), "\n%13s %5llu %5lluK %8llu  "
		    "%s\n", type_names[t], e.inuse, (e.bytes + 1023) / 1024,
		    e.requests, type_sizes[t]);
		if (strstr(text, line) == NULL)
			fprintf(stderr, "want%sin:\n%s", line, text);
		CHECK(strstr(text, line) != NULL);
	}
	free(json);
	free(text);
	e2e_stop(pid, dir);
}
