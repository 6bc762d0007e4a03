/*
 * exporter.c - `umastat exporter`: a Prometheus exporter for every uma
 * process this user may read (every one, as root).
 *
 * Each scrape of /metrics finds the processes (discover.c), reads them
 * all at once under one deadline (fetch.c; a process that does not
 * answer in time is left out and counted in
 * uma_exporter_scrape_errors_total), and writes the series of
 * `--prometheus` (prom.c and the views' tables) with the labels pid and
 * comm added.  Nothing is kept between scrapes but that counter, so a
 * process that exits simply stops having series.  OpenMetrics when the
 * scraper's Accept prefers it, the 0.0.4 text format otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "http.h"
#include "umastat.h"

/*
 * The default port: Prometheus's list of default ports has had no free
 * number since 2023; 9124 is the FreeBSD sysctl exporter's, which serves
 * FreeBSD's own UMA statistics and runs only on FreeBSD, where uma does
 * not, so the two never meet on one host.
 */
#define	EXPORTER_LISTEN		"127.0.0.1:9124"
#define	EXPORTER_TIMEOUT_MS	500

#define	CT_TEXT		"text/plain; version=0.0.4; charset=utf-8"
#define	CT_OPENMETRICS	"application/openmetrics-text; version=1.0.0; " \
			"charset=utf-8"

struct exporter {
	int		 ex_timeout_ms;	/* per scrape, for every process */
	uint64_t	 ex_errors;	/* processes not read, since start */
};

/* What a scrape's query asks for. */
struct scrape_opts {
	int	so_extended;	/* ?extended=1 */
};

/*
 * The series of one scrape, in order.  With ?extended=1 the kmem report is
 * the extended tier (vm.kmem_stats_extended, which walks every cache and
 * slab list of the process, so only when asked): reclaimable, locked,
 * fragmentation and available join uma_kmem_bytes, with the slab counts
 * and the per-zone figures.
 */
static void
scrape_series(const struct prom_out *po, const struct prom_target *t,
    size_t nt, const struct scrape_opts *so)
{
	zones_prom(po, t, nt);
	malloc_prom(po, t, nt);
	mbuf_prom(po, t, nt);
	kmem_prom(po, t, nt);
	if (so->so_extended)
		kzones_prom(po, t, nt);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* pid="1",comm="x", in a malloc'ed string. */
static char *
target_labels(pid_t pid)
{
	char comm[64], *buf = NULL;
	size_t len = 0;
	FILE *f;

	proc_comm(pid, comm, sizeof(comm));
	if ((f = open_memstream(&buf, &len)) == NULL)
		return (NULL);
	fprintf(f, "pid=\"%d\",comm=\"", (int)pid);
	prom_label(f, comm);
	fputc('"', f);
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

static void
exporter_self(const struct prom_out *po, const struct exporter *ex,
    size_t ntargets, double seconds)
{
	prom_family(po, "uma_exporter_scrape_errors_total", "counter",
	    "Processes that could not be read in time (or at all), over "
	    "every scrape.");
	prom_sample(po, "uma_exporter_scrape_errors_total", "", NULL, NULL,
	    ex->ex_errors);
	prom_family(po, "uma_exporter_targets", "gauge",
	    "Processes read by this scrape.");
	prom_sample(po, "uma_exporter_targets", "", NULL, NULL, ntargets);
	prom_family(po, "uma_exporter_scrape_duration_seconds", "gauge",
	    "Seconds this scrape took to read the processes.");
	fprintf(po->po_f, "uma_exporter_scrape_duration_seconds %.6f\n",
	    seconds);
}

/*
 * One process's list and kmem report into t: 0, or -1 if it could not be
 * read.  A process without a kmem report (an older uma) has no kmem
 * series, and that is not an error.
 */
static int
target_read(struct prom_target *t, const struct fetch *fe)
{
	if ((t->pt_list = memstat_mtl_alloc()) == NULL ||
	    fetch_list(fe, t->pt_list) != 0)
		return (-1);
	if (fe->fe_srverr[FETCH_KMEM] != ENOENT &&
	    ((t->pt_kmem = memstat_kmem_alloc()) == NULL ||
	    fetch_kmem(fe, t->pt_kmem) != 0))
		return (-1);
	if ((t->pt_labels = target_labels(fe->fe_pid)) == NULL)
		return (-1);
	return (0);
}

static void
target_free(struct prom_target *t)
{
	memstat_mtl_free(t->pt_list);
	memstat_kmem_free(t->pt_kmem);
	free((void *)t->pt_labels);
	memset(t, 0, sizeof(*t));
}

/* Read every process and write the page to po. */
static void
scrape(struct exporter *ex, const struct prom_out *po,
    const struct scrape_opts *so)
{
	struct endpoint *ep = NULL;
	struct prom_target *t;
	struct fetch *fe;
	size_t n = 0, nt = 0;
	double start = now_s();
	int want = FETCH_WANT(FETCH_ZONES) | FETCH_WANT(FETCH_MALLOC) |
	    FETCH_WANT(FETCH_KMEM) | (so->so_extended ? FETCH_EXTENDED : 0);

	(void)discover(&ep, &n);
	fe = calloc(n + 1, sizeof(*fe));
	t = calloc(n + 1, sizeof(*t));
	if (fe == NULL || t == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++)
		fe[i].fe_ep = &ep[i];
	fetch_run(fe, n, want, ex->ex_timeout_ms);
	for (size_t i = 0; i < n; i++) {
		if (fetch_gone(&fe[i]))
			continue;
		if (target_read(&t[nt], &fe[i]) != 0) {
			ex->ex_errors++;
			target_free(&t[nt]);
			continue;
		}
		nt++;
	}
	fetch_free(fe, n);
	scrape_series(po, t, nt, so);
	exporter_self(po, ex, nt, now_s() - start);
	if (po->po_openmetrics)
		fputs("# EOF\n", po->po_f);
	for (size_t i = 0; i < nt; i++)
		target_free(&t[i]);
	free(t);
	free(fe);
	free(ep);
}

/* The q value of the Accept entry for `type` (-1 if absent). */
static double
accept_q(const char *accept, const char *type)
{
	size_t tlen = strlen(type);
	const char *p = accept, *q;
	double best = -1;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		if (len >= tlen && strncasecmp(p, type, tlen) == 0 &&
		    (len == tlen || p[tlen] == ';' || p[tlen] == ' ')) {
			double v = 1;

			q = p + tlen;
			while ((q = strchr(q, ';')) != NULL && q < p + len) {
				while (*++q == ' ')
					;
				if (strncmp(q, "q=", 2) == 0)
					v = strtod(q + 2, NULL);
			}
			if (v > best)
				best = v;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return (best);
}

static int
wants_openmetrics(const char *accept)
{
	double om = accept_q(accept, "application/openmetrics-text");

	return (om > 0 && om >= accept_q(accept, "text/plain"));
}

static void
query_parse(const char *query, struct scrape_opts *so)
{
	const char *p = query;

	while (*p != '\0') {
		size_t len = strcspn(p, "&");

		if (len == strlen("extended=1") &&
		    strncmp(p, "extended=1", len) == 0)
			so->so_extended = 1;
		p += len;
		if (*p == '&')
			p++;
	}
}

static const char index_html[] =
    "<!DOCTYPE html>\n<html><head><title>uma exporter</title></head>\n"
    "<body><h1>uma exporter</h1>\n"
    "<p>Zones, malloc types, mbufs and the kmem report of every uma process "
    "this exporter may read: <a href=\"/metrics\">/metrics</a>, and with "
    "the kmem report's extended tier (it walks every slab list, so it "
    "costs the processes more): <a href=\"/metrics?extended=1\">"
    "/metrics?extended=1</a>.</p>\n"
    "</body></html>\n";

static void
exporter_handle(const struct http_request *rq, struct http_response *rs,
    void *arg)
{
	struct scrape_opts so = { 0 };
	struct prom_out po = { 0 };
	size_t len = 0;

	if (strcmp(rq->hr_path, "/") == 0) {
		rs->hs_type = "text/html; charset=utf-8";
		rs->hs_body = strdup(index_html);
		rs->hs_len = rs->hs_body != NULL ? strlen(index_html) : 0;
		return;
	}
	if (strcmp(rq->hr_path, "/metrics") != 0) {
		rs->hs_status = 404;
		rs->hs_body = strdup("not found\n");
		rs->hs_len = rs->hs_body != NULL ? strlen(rs->hs_body) : 0;
		return;
	}
	query_parse(rq->hr_query, &so);
	po.po_openmetrics = wants_openmetrics(rq->hr_accept);
	if ((po.po_f = open_memstream(&rs->hs_body, &len)) == NULL) {
		rs->hs_status = 500;
		return;
	}
	scrape(arg, &po, &so);
	if (fclose(po.po_f) != 0) {
		free(rs->hs_body);
		rs->hs_body = NULL;
		rs->hs_status = 500;
		return;
	}
	rs->hs_len = len;
	rs->hs_type = po.po_openmetrics ? CT_OPENMETRICS : CT_TEXT;
}

static void
exporter_usage(void)
{
	fprintf(stderr, "usage: umastat exporter [--listen addr:port] "
	    "[--timeout ms]\n");
	exit(2);
}

/* Every fd we may have: a connection per client and per process. */
static void
fd_limit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
exporter_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct exporter ex = { .ex_timeout_ms = EXPORTER_TIMEOUT_MS };
	const char *listen_addr = EXPORTER_LISTEN;
	struct http_server *hs;
	char bound[300], err[512], *end;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > 60000) {
				fprintf(stderr, "umastat exporter: --timeout "
				    "%s: a number of milliseconds from 1 to "
				    "60000\n", optarg);
				exit(2);
			}
			ex.ex_timeout_ms = (int)v;
			break;
		default:
			exporter_usage();
		}
	}
	if (optind != argc)
		exporter_usage();
	fd_limit_raise();
	if ((hs = http_listen(listen_addr, bound, sizeof(bound), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "umastat exporter: --listen %s\n", err);
		return (1);
	}
	fprintf(stderr, "umastat exporter: serving http://%s/metrics\n",
	    bound);
	c = http_serve(hs, exporter_handle, &ex);
	http_close(hs);
	return (c == 0 ? 0 : 1);
}
