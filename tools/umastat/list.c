/*
 * list.c - `umastat -l`: the uma processes this user may read, with their
 * command, zones, bytes in use (the kmem report's "inuse": zones, malloc,
 * large runs and contigmalloc, as -k says) and socket; and the
 * same list, with how to pick one, when umastat is given no source and
 * has no uma of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umastat.h"

#define	LIST_TIMEOUT_MS	1000

struct proc_row {
	pid_t		 pr_pid;
	char		 pr_comm[64];
	int		 pr_error;	/* 0, or why it could not be read */
	uint64_t	 pr_zones, pr_bytes;
	const char	*pr_path;
};

/* Read every process found; the rows of those that are uma processes. */
static size_t
list_read(struct endpoint **epp, struct proc_row **rowsp)
{
	struct memory_type_list *list;
	struct memstat_kmem *k;
	struct memory_type *m;
	struct endpoint *ep;
	struct proc_row *rows;
	struct fetch *fe;
	size_t n, nr = 0;

	if (discover(&ep, &n) != 0)
		n = 0;
	fe = calloc(n + 1, sizeof(*fe));
	rows = calloc(n + 1, sizeof(*rows));
	list = memstat_mtl_alloc();
	k = memstat_kmem_alloc();
	if (fe == NULL || rows == NULL || list == NULL || k == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++)
		fe[i].fe_ep = &ep[i];
	fetch_run(fe, n, FETCH_WANT(FETCH_ZONES) | FETCH_WANT(FETCH_KMEM),
	    LIST_TIMEOUT_MS);
	for (size_t i = 0; i < n; i++) {
		struct proc_row *r = &rows[nr];

		if (fetch_gone(&fe[i]))
			continue;
		r->pr_pid = fe[i].fe_pid != 0 ? fe[i].fe_pid : ep[i].ep_pid;
		r->pr_path = ep[i].ep_path;
		proc_comm(r->pr_pid, r->pr_comm, sizeof(r->pr_comm));
		if (fetch_list(&fe[i], list) == 0 &&
		    fetch_kmem(&fe[i], k) == 0) {
			for (m = memstat_mtl_first(list); m != NULL;
			    m = memstat_mtl_next(m))
				r->pr_zones += memstat_get_allocator(m) ==
				    ALLOCATOR_UMA;
			r->pr_bytes = (uint64_t)memstat_kmem_get(k,
			    MEMSTAT_KMEM_INUSE);
		} else
			r->pr_error = fe[i].fe_error != 0 ? fe[i].fe_error :
			    EBADMSG;
		nr++;
	}
	fetch_free(fe, n);
	free(fe);
	memstat_mtl_free(list);
	memstat_kmem_free(k);
	*epp = ep;
	*rowsp = rows;
	return (nr);
}

static void
list_text(FILE *f, const struct proc_row *rows, size_t n)
{
	fprintf(f, "%7s %-16s %6s %12s  %s\n", "PID", "COMMAND", "ZONES",
	    "INUSE", "SOCKET");
	for (size_t i = 0; i < n; i++) {
		const struct proc_row *r = &rows[i];

		if (r->pr_error != 0)
			fprintf(f, "%7d %-16s %6s %12s  %s (%s)\n",
			    (int)r->pr_pid, r->pr_comm, "-", "-", r->pr_path,
			    strerror(r->pr_error));
		else
			fprintf(f, "%7d %-16s %6" PRIu64 " %11" PRIu64 "K  "
			    "%s\n", (int)r->pr_pid, r->pr_comm, r->pr_zones,
			    (r->pr_bytes + 1023) / 1024, r->pr_path);
	}
}

static void
list_json(const struct proc_row *rows, size_t n)
{
	printf("{\"uma-processes\":[");
	for (size_t i = 0; i < n; i++) {
		const struct proc_row *r = &rows[i];

		printf("%s\n{\"pid\":%d,\"command\":", i ? "," : "",
		    (int)r->pr_pid);
		json_string(stdout, r->pr_comm);
		printf(",\"socket\":");
		json_string(stdout, r->pr_path);
		if (r->pr_error != 0) {
			printf(",\"error\":");
			json_string(stdout, strerror(r->pr_error));
		} else
			printf(",\"zones\":%" PRIu64 ",\"bytes-in-use\":%"
			    PRIu64, r->pr_zones, r->pr_bytes);
		printf("}");
	}
	printf("\n]}\n");
}

int
list_main(int json)
{
	struct endpoint *ep;
	struct proc_row *rows;
	size_t n = list_read(&ep, &rows);

	if (json)
		list_json(rows, n);
	else
		list_text(stdout, rows, n);
	free(rows);
	free(ep);
	return (0);
}

int
list_no_source(void)
{
	struct endpoint *ep;
	struct proc_row *rows;
	size_t n = list_read(&ep, &rows);

	if (n == 0)
		fprintf(stderr, "umastat: this process has no uma, and no uma "
		    "process serves its statistics here.\n"
		    "Start one with UMA_EXPORT=1 (or uma_export_start()), "
		    "e.g.\n"
		    "  LD_PRELOAD=libuma-malloc.so UMA_EXPORT=1 program &\n"
		    "or read a saved file with -f FILE.\n");
	else {
		printf("umastat: this process has no uma; the uma processes "
		    "you may read:\n\n");
		list_text(stdout, rows, n);
		printf("\nPick one with -p PID (or --socket PATH), e.g. "
		    "umastat -p %d -z\n", (int)rows[0].pr_pid);
	}
	free(rows);
	free(ep);
	return (n == 0 ? 1 : 0);
}
