/*
 * top.c - `umastat top`: a full-screen live view (ncurses) of one uma
 * process or of all of them: the kmem summary at the top, then the zones
 * sorted by memory (or requests/s, failures, name), or the malloc types,
 * or netstat -m's mbuf lines; rates are per second over the refresh.
 *
 * The processes are read as the exporter reads them (discover.c and
 * fetch.c, under a deadline), and each keeps its libmemstat list between
 * refreshes, whose caller slots hold the previous counters.  A process
 * that exits keeps its last figures on screen, marked as gone.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "umastat.h"

#define	TOP_TIMEOUT_MS	1000	/* to read every process, per refresh */
#define	TOP_KEY_MS	100	/* key poll while waiting */

/* Caller slots of the lists: previous counters and the rates, in 1/1000. */
#define	TS_PREV_REQ	0
#define	TS_PREV_FREES	1
#define	TS_SEEN		2
#define	TS_REQ_RATE	3
#define	TS_FREE_RATE	4

struct tproc {
	struct endpoint	 tp_ep;
	pid_t		 tp_pid;
	char		 tp_comm[64];
	struct memory_type_list *tp_list;
	struct memstat_kmem *tp_kmem;	/* its kmem report (cheap tier) */
	double		 tp_when;	/* last good read */
	int		 tp_error;	/* of the last read */
	int		 tp_gone;	/* exited (kept to show, in one mode) */
	int		 tp_found;	/* this round */
};

struct trow {
	struct tproc		*r_proc;
	struct memory_type	*r_mtp;
	uint64_t		 r_mem;		/* bytes held */
};

struct top {
	int		 t_one;		/* one process (-p, --socket) */
	struct endpoint	 t_ep;		/* ... that one */
	double		 t_interval;
	struct tproc	*t_procs;
	size_t		 t_nprocs;
	int		 t_view;	/* 'z', 'm' or 'n' */
	int		 t_sort;	/* 'M', 'R', 'F' or 'N' */
	char		 t_msg[256];	/* what happened lately */
	double		 t_msgtime;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
top_say(struct top *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
top_say(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->t_msg, sizeof(t->t_msg), fmt, ap);
	va_end(ap);
	t->t_msgtime = now_s();
}

static struct tproc *
top_proc(struct top *t, const struct endpoint *ep)
{
	struct tproc *p;

	for (size_t i = 0; i < t->t_nprocs; i++)
		if (strcmp(t->t_procs[i].tp_ep.ep_path, ep->ep_path) == 0)
			return (&t->t_procs[i]);
	p = realloc(t->t_procs, (t->t_nprocs + 1) * sizeof(*p));
	if (p == NULL)
		return (NULL);
	t->t_procs = p;
	p = &t->t_procs[t->t_nprocs];
	memset(p, 0, sizeof(*p));
	if ((p->tp_list = memstat_mtl_alloc()) == NULL)
		return (NULL);
	if ((p->tp_kmem = memstat_kmem_alloc()) == NULL) {
		memstat_mtl_free(p->tp_list);
		return (NULL);
	}
	p->tp_ep = *ep;
	p->tp_pid = ep->ep_pid;
	t->t_nprocs++;
	return (p);
}

/* Rates over the time since the previous good read. */
static void
top_rates(struct tproc *p, double dt)
{
	struct memory_type *m;
	uint64_t req, frees, prev;

	for (m = memstat_mtl_first(p->tp_list); m != NULL;
	    m = memstat_mtl_next(m)) {
		req = memstat_get_numallocs(m);
		frees = memstat_get_numfrees(m);
		if (memstat_get_caller_uint64(m, TS_SEEN) && dt > 0) {
			prev = memstat_get_caller_uint64(m, TS_PREV_REQ);
			memstat_set_caller_uint64(m, TS_REQ_RATE, req > prev ?
			    (uint64_t)((double)(req - prev) * 1000 / dt) : 0);
			prev = memstat_get_caller_uint64(m, TS_PREV_FREES);
			memstat_set_caller_uint64(m, TS_FREE_RATE,
			    frees > prev ? (uint64_t)((double)(frees - prev) *
			    1000 / dt) : 0);
		}
		memstat_set_caller_uint64(m, TS_PREV_REQ, req);
		memstat_set_caller_uint64(m, TS_PREV_FREES, frees);
		memstat_set_caller_uint64(m, TS_SEEN, 1);
	}
}

static void
proc_read(struct top *t, struct tproc *p, const struct fetch *fe, double now)
{
	p->tp_found = 1;
	/* An older uma has no kmem report: its summary stays 0. */
	if (fe->fe_error == 0 && fetch_list(fe, p->tp_list) == 0 &&
	    (fetch_kmem(fe, p->tp_kmem) == 0 ||
	    fe->fe_srverr[FETCH_KMEM] == ENOENT)) {
		top_rates(p, p->tp_when > 0 ? now - p->tp_when : 0);
		p->tp_when = now;
		p->tp_error = 0;
		p->tp_pid = fe->fe_pid;
		proc_comm(p->tp_pid, p->tp_comm, sizeof(p->tp_comm));
		p->tp_gone = 0;
		return;
	}
	p->tp_error = fe->fe_error != 0 ? fe->fe_error : EBADMSG;
	if (fetch_gone(fe) || (p->tp_pid > 0 && kill(p->tp_pid, 0) != 0 &&
	    errno == ESRCH)) {
		if (!p->tp_gone)
			top_say(t, "process %d (%s) has exited", (int)p->tp_pid,
			    p->tp_comm);
		p->tp_gone = 1;
	} else
		top_say(t, "cannot read process %d (%s): %s", (int)p->tp_pid,
		    p->tp_comm, strerror(p->tp_error));
}

/* All mode: a process no longer found is dropped. */
static void
top_prune(struct top *t)
{
	size_t j = 0;

	for (size_t i = 0; i < t->t_nprocs; i++) {
		struct tproc *p = &t->t_procs[i];

		if (p->tp_found && !p->tp_gone) {
			t->t_procs[j++] = *p;
			continue;
		}
		if (p->tp_when > 0)
			top_say(t, "process %d (%s) has exited",
			    (int)p->tp_pid, p->tp_comm);
		memstat_mtl_free(p->tp_list);
		memstat_kmem_free(p->tp_kmem);
	}
	t->t_nprocs = j;
}

static void
top_refresh(struct top *t)
{
	struct endpoint *ep = NULL;
	struct fetch *fe;
	size_t n = 0;
	double now;

	if (t->t_one) {
		if ((ep = malloc(sizeof(*ep))) != NULL) {
			*ep = t->t_ep;
			n = 1;
		}
	} else
		(void)discover(&ep, &n);
	if ((fe = calloc(n + 1, sizeof(*fe))) == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++)
		fe[i].fe_ep = &ep[i];
	fetch_run(fe, n, FETCH_WANT(FETCH_ZONES) | FETCH_WANT(FETCH_MALLOC) |
	    FETCH_WANT(FETCH_KMEM), TOP_TIMEOUT_MS);
	now = now_s();
	for (size_t i = 0; i < t->t_nprocs; i++)
		t->t_procs[i].tp_found = 0;
	for (size_t i = 0; i < n; i++) {
		struct tproc *p;

		if (!t->t_one && fetch_gone(&fe[i]))
			continue;
		if ((p = top_proc(t, &ep[i])) != NULL)
			proc_read(t, p, &fe[i], now);
	}
	if (!t->t_one)
		top_prune(t);
	fetch_free(fe, n);
	free(fe);
	free(ep);
}

static double
rate(const struct memory_type *m, int slot)
{
	return ((double)memstat_get_caller_uint64(m, slot) / 1000);
}

static const struct top *sort_top;	/* qsort has no argument */

static int
row_cmp(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	int c = 0;

	switch (sort_top->t_sort) {
	case 'R':
		c = (rate(y->r_mtp, TS_REQ_RATE) > rate(x->r_mtp,
		    TS_REQ_RATE)) - (rate(y->r_mtp, TS_REQ_RATE) <
		    rate(x->r_mtp, TS_REQ_RATE));
		break;
	case 'F':
		c = (memstat_get_failures(y->r_mtp) >
		    memstat_get_failures(x->r_mtp)) -
		    (memstat_get_failures(y->r_mtp) <
		    memstat_get_failures(x->r_mtp));
		break;
	case 'M':
		c = (y->r_mem > x->r_mem) - (y->r_mem < x->r_mem);
		break;
	}
	if (c == 0)
		c = strcmp(memstat_get_name(x->r_mtp),
		    memstat_get_name(y->r_mtp));
	if (c == 0)
		c = (x->r_proc->tp_pid > y->r_proc->tp_pid) -
		    (x->r_proc->tp_pid < y->r_proc->tp_pid);
	return (c);
}

/* The rows of the view, sorted; *np of them, malloc'ed. */
static struct trow *
top_rows(struct top *t, size_t *np)
{
	int allocator = t->t_view == 'm' ? ALLOCATOR_MALLOC : ALLOCATOR_UMA;
	struct trow *rows = NULL, *r;
	struct memory_type *m;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < t->t_nprocs; i++)
		for (m = memstat_mtl_first(t->t_procs[i].tp_list); m != NULL;
		    m = memstat_mtl_next(m)) {
			if (memstat_get_allocator(m) != allocator)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				if ((r = realloc(rows, cap * sizeof(*r))) ==
				    NULL)
					break;
				rows = r;
			}
			r = &rows[n++];
			r->r_proc = &t->t_procs[i];
			r->r_mtp = m;
			r->r_mem = allocator == ALLOCATOR_MALLOC ?
			    memstat_get_bytes(m) :
			    (memstat_get_count(m) + memstat_get_free(m)) *
			    memstat_get_rsize(m);
		}
	sort_top = t;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), row_cmp);
	*np = n;
	return (rows);
}

/* A byte count in at most 6 characters: 1023, 12.3K, 456M ... */
static const char *
human(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 10000) {
		snprintf(buf, len, "%" PRIu64, v);
		return (buf);
	}
	while (d >= 1000 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, d < 10 ? "%.1f%c" : "%.0f%c", d, units[u]);
	return (buf);
}

static void
line(int y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line(int y, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (y >= LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mvaddnstr(y, 0, buf, COLS);
}

/* A kmem figure summed over the processes. */
static uint64_t
kmem_total(const struct top *t, int field)
{
	int64_t sum = 0;

	for (size_t i = 0; i < t->t_nprocs; i++)
		sum += memstat_kmem_get(t->t_procs[i].tp_kmem, field);
	return (sum > 0 ? (uint64_t)sum : 0);
}

static int
draw_head(struct top *t)
{
	char a[16], b[16], c[16], d[16], e[16], f[16], g[16];
	size_t live = 0;
	int y = 0;

	for (size_t i = 0; i < t->t_nprocs; i++)
		live += !t->t_procs[i].tp_gone;
	if (t->t_one && t->t_nprocs > 0)
		line(y++, "umastat top - process %d (%s)%s, every %g s",
		    (int)t->t_procs[0].tp_pid, t->t_procs[0].tp_comm,
		    t->t_procs[0].tp_gone ? ", EXITED" : "", t->t_interval);
	else
		line(y++, "umastat top - %zu uma process%s, every %g s", live,
		    live == 1 ? "" : "es", t->t_interval);
	line(y++, "kmem: %s committed: %s in use, %s free in caches, %s in "
	    "kegs, %s large-run cache, %s metadata; RSS %s",
	    human(kmem_total(t, MEMSTAT_KMEM_COMMITTED), a, sizeof(a)),
	    human(kmem_total(t, MEMSTAT_KMEM_INUSE), b, sizeof(b)),
	    human(kmem_total(t, MEMSTAT_KMEM_FREE_PCPU) +
	    kmem_total(t, MEMSTAT_KMEM_FREE_BUCKETS), c, sizeof(c)),
	    human(kmem_total(t, MEMSTAT_KMEM_FREE_KEGS), d, sizeof(d)),
	    human(kmem_total(t, MEMSTAT_KMEM_LARGE_CACHE), e, sizeof(e)),
	    human(kmem_total(t, MEMSTAT_KMEM_METADATA), f, sizeof(f)),
	    human(kmem_total(t, MEMSTAT_KMEM_RSS), g, sizeof(g)));
	if (t->t_msg[0] != '\0' && now_s() - t->t_msgtime < 10)
		line(y, "%s", t->t_msg);
	else if (!t->t_one && t->t_nprocs == 0)
		line(y, "no uma process found (start one with UMA_EXPORT=1)");
	return (y + 2);
}

static void
draw_table(struct top *t, int y, int bottom)
{
	char pidcol[32], a[16], b[16];
	struct trow *rows;
	size_t n;

	rows = top_rows(t, &n);
	attron(A_REVERSE);
	if (t->t_view == 'm')
		line(y++, "%s%-20s %8s %7s %9s %9s", t->t_one ? "" :
		    "    PID COMMAND         ", "TYPE", "INUSE", "MEMUSE",
		    "REQ/s", "FREE/s");
	else
		line(y++, "%s%-20s %6s %8s %8s %7s %9s %9s %6s %6s",
		    t->t_one ? "" : "    PID COMMAND         ", "ZONE", "SIZE",
		    "USED", "FREE", "MEMORY", "REQ/s", "FREE/s", "FAIL",
		    "SLEEP");
	attroff(A_REVERSE);
	for (size_t i = 0; i < n && y < bottom; i++, y++) {
		struct memory_type *m = rows[i].r_mtp;

		pidcol[0] = '\0';
		if (!t->t_one)
			snprintf(pidcol, sizeof(pidcol), "%7d %-15.15s ",
			    (int)rows[i].r_proc->tp_pid,
			    rows[i].r_proc->tp_comm);
		if (t->t_view == 'm')
			line(y, "%s%-20.20s %8" PRIu64 " %7s %9.0f %9.0f",
			    pidcol, memstat_get_name(m),
			    memstat_get_count(m), human(rows[i].r_mem, a,
			    sizeof(a)), rate(m, TS_REQ_RATE),
			    rate(m, TS_FREE_RATE));
		else
			line(y, "%s%-20.20s %6" PRIu64 " %8" PRIu64 " %8"
			    PRIu64 " %7s %9.0f %9.0f %6s %6" PRIu64, pidcol,
			    memstat_get_name(m), memstat_get_size(m),
			    memstat_get_count(m), memstat_get_free(m),
			    human(rows[i].r_mem, a, sizeof(a)),
			    rate(m, TS_REQ_RATE), rate(m, TS_FREE_RATE),
			    human(memstat_get_failures(m), b, sizeof(b)),
			    memstat_get_sleeps(m));
	}
	free(rows);
}

/* netstat -m of each process that has mbufs, as `umastat -n` prints it. */
static void
draw_mbufs(struct top *t, int y, int bottom)
{
	struct umastat_opts uo = { .uo_format = OUT_TEXT };
	FILE *save_out = stdout, *save_err = stderr, *f;
	char *buf = NULL, *p, *nl;
	size_t len = 0;
	int shown = 0;

	for (size_t i = 0; i < t->t_nprocs && y < bottom; i++) {
		struct tproc *tp = &t->t_procs[i];

		if (memstat_mtl_find(tp->tp_list, ALLOCATOR_UMA, "mbuf") ==
		    NULL || (f = open_memstream(&buf, &len)) == NULL)
			continue;
		/* glibc's stdout is a variable; mbuf_show writes to it. */
		stdout = stderr = f;
		(void)mbuf_show(tp->tp_list, &uo);
		stdout = save_out;
		stderr = save_err;
		if (fclose(f) == 0) {
			if (!t->t_one)
				line(y++, "process %d (%s):", (int)tp->tp_pid,
				    tp->tp_comm);
			for (p = buf; *p != '\0' && y < bottom; p = nl + 1) {
				if ((nl = strchr(p, '\n')) == NULL)
					break;
				*nl = '\0';
				line(y++, "  %s", p);
			}
			y++;
			shown++;
		}
		free(buf);
		buf = NULL;
	}
	if (!shown)
		line(y, "no process with mbufs");
}

static void
top_draw(struct top *t)
{
	int y, bottom = LINES - 1;

	erase();
	y = draw_head(t);
	if (t->t_view == 'n')
		draw_mbufs(t, y, bottom);
	else
		draw_table(t, y, bottom);
	attron(A_REVERSE);
	line(LINES - 1, "z zones  m malloc types  n mbufs   sort: %s  %s  %s"
	    "  %s   q quit", t->t_sort == 'M' ? "[M memory]" : "M memory",
	    t->t_sort == 'R' ? "[R req/s]" : "R req/s",
	    t->t_sort == 'F' ? "[F failures]" : "F failures",
	    t->t_sort == 'N' ? "[N name]" : "N name");
	attroff(A_REVERSE);
	refresh();
}

/* A key: 1 to redraw, 0 if nothing changed, -1 to quit. */
static int
top_key(struct top *t, int ch)
{
	switch (ch) {
	case 'q': case 'Q':
		return (-1);
	case 'z': case 'm': case 'n':
		t->t_view = ch;
		return (1);
	case 'M': case 'R': case 'F': case 'N':
		t->t_sort = ch;
		return (1);
	case KEY_RESIZE: case 12:	/* ^L */
		clear();
		return (1);
	default:
		return (0);
	}
}

static int
top_loop(struct top *t)
{
	double next = 0;
	int ch, r;

	for (;;) {
		if (now_s() >= next) {
			top_refresh(t);
			next = now_s() + t->t_interval;
			top_draw(t);
		}
		if ((ch = getch()) == ERR)
			continue;
		if ((r = top_key(t, ch)) < 0)
			return (0);
		if (r > 0)
			top_draw(t);
	}
}

static void
top_usage(void)
{
	fprintf(stderr, "usage: umastat top [-p pid | --socket path] "
	    "[-w seconds]\n");
	exit(2);
}

/* -p PID: the endpoint discovery finds for it (root sees every user's). */
static void
top_pick_pid(struct top *t, pid_t pid)
{
	struct endpoint *ep = NULL;
	size_t n = 0;

	(void)discover(&ep, &n);
	for (size_t i = 0; i < n; i++)
		if (ep[i].ep_pid == pid) {
			t->t_ep = ep[i];
			free(ep);
			return;
		}
	free(ep);
	t->t_ep.ep_pid = pid;
	t->t_ep.ep_uid = geteuid();
	if (memstat_socket_path(pid, t->t_ep.ep_path,
	    sizeof(t->t_ep.ep_path)) != 0) {
		fprintf(stderr, "umastat top: -p %d: %s\n", (int)pid,
		    strerror(errno));
		exit(1);
	}
}

/*
 * Whose server we accept at an explicit path: ours, as libmemstat; root
 * reads any user's, so it accepts the socket's owner.
 */
static uid_t
socket_owner(const char *path)
{
	struct stat st;

	if (geteuid() == 0 && lstat(path, &st) == 0)
		return (st.st_uid);
	return (geteuid());
}

static void
top_args(struct top *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long pid;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end != '\0' || pid <= 0 || pid > INT32_MAX)
				top_usage();
			top_pick_pid(t, (pid_t)pid);
			t->t_one = 1;
			break;
		case 'S':
			if (strlen(optarg) >= sizeof(t->t_ep.ep_path))
				top_usage();
			snprintf(t->t_ep.ep_path, sizeof(t->t_ep.ep_path),
			    "%s", optarg);
			t->t_ep.ep_uid = socket_owner(optarg);
			t->t_one = 1;
			break;
		case 'w':
			t->t_interval = wait_parse(optarg);
			break;
		default:
			top_usage();
		}
	}
	if (optind != argc)
		top_usage();
}

int
top_main(int argc, char **argv)
{
	struct top t = { .t_interval = 1, .t_view = 'z', .t_sort = 'M' };
	SCREEN *scr;

	top_args(&t, argc, argv);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "umastat top: needs a terminal; for samples "
		    "in a pipe or a file, use umastat -z -w SECONDS (or -m, "
		    "-n, -k)\n");
		return (1);
	}
	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		fprintf(stderr, "umastat top: cannot use terminal \"%s\"\n",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		return (1);
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(TOP_KEY_MS);
	top_loop(&t);
	endwin();
	delscreen(scr);
	for (size_t i = 0; i < t.t_nprocs; i++) {
		memstat_mtl_free(t.t_procs[i].tp_list);
		memstat_kmem_free(t.t_procs[i].tp_kmem);
	}
	free(t.t_procs);
	return (0);
}
