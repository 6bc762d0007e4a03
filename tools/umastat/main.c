/*
 * main.c - umastat: FreeBSD's vmstat -z / vmstat -m / netstat -m views,
 * a kmem report and sysctl(8), for uma processes, through libmemstat.
 *
 * Owns option parsing, the choice of source (this process, -p PID,
 * --socket PATH, -f FILE), the -w/-c sampling loop and the output
 * helpers; each view lives in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "umastat.h"

uint64_t
counter_delta(struct memory_type *mtp, int slot, uint64_t value,
    const struct umastat_opts *uo)
{
	uint64_t prev = memstat_get_caller_uint64(mtp, slot);
	int first = uo->uo_sample == 0 ||
	    memstat_get_caller_uint64(mtp, SLOT_SEEN) == 0;

	memstat_set_caller_uint64(mtp, slot, value);
	if (first)
		return (value);
	return (value > prev ? value - prev : 0);
}

void
counter_seen(struct memory_type *mtp)
{
	memstat_set_caller_uint64(mtp, SLOT_SEEN, 1);
}

void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: umastat [-z | -m | -n | -k | -g] [-x] [-p pid | "
	    "--socket path | -f file]\n"
	    "               [--json | --prometheus] [--percpu] "
	    "[-w seconds [-c count]]\n"
	    "       umastat [-p pid | --socket path] --save file\n"
	    "       umastat [-p pid | --socket path | -f file] sysctl [-a] "
	    "[-d] [name[=value] ...]\n"
	    "       umastat -l [--json]\n"
	    "       umastat top [-p pid | --socket path] [-w seconds]\n"
	    "       umastat exporter [--listen addr:port] [--timeout ms]\n");
	exit(2);
}

/*
 * -w takes a finite number of seconds from WAIT_MIN to WAIT_MAX.  Each
 * sample makes the target's export thread write a record per zone: with
 * -w 1e-9 and no -c, umastat printed 1.28 M lines in 5 s and kept that
 * thread at half a core, and nobody reads a display that changes faster
 * than ten times a second.  A day is the longest interval anyone samples
 * at; past it (or at inf) a typo would make umastat sleep for ever.
 */
#define	WAIT_MIN	0.1
#define	WAIT_MAX	86400.0
#define	WAIT_DEFAULT	1.0	/* -c without -w, as vmstat(8) */

struct umastat_args {
	int		 view;		/* 'z', 'm', 'n', 'k', 'g' or 'l' */
	pid_t		 pid;
	const char	*socket, *file, *save;
	long		 count;
	struct umastat_opts opts;
};

static void
bad_arg(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "umastat: %s %s: %s\n", opt, arg, want);
	exit(2);
}

double
wait_parse(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	/* !(v >= min) also refuses nan; the range refuses inf. */
	if (end == arg || *end != '\0' || errno != 0 || !(v >= WAIT_MIN) ||
	    v > WAIT_MAX)
		bad_arg("-w", arg, "the interval must be a number of seconds "
		    "from 0.1 to 86400");
	return (v);
}

static long
count_parse(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || v <= 0)
		bad_arg("-c", arg, "the count must be a whole number of "
		    "samples, 1 or more");
	return (v);
}

static void
args_parse(struct umastat_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "percpu", no_argument, NULL, 'C' },
		{ "extended", no_argument, NULL, 'x' },
		{ "socket", required_argument, NULL, 'S' },
		{ "save", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+zmnkglxp:f:w:c:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'z': case 'm': case 'n': case 'k': case 'g': case 'l':
			a->view = c;
			break;
		case 'p':
			a->pid = (pid_t)strtol(optarg, &end, 10);
			if (*end != '\0' || a->pid <= 0)
				usage();
			break;
		case 'f': a->file = optarg; break;
		case 'S': a->socket = optarg; break;
		case 'V': a->save = optarg; break;
		case 'J': a->opts.uo_format = OUT_JSON; break;
		case 'P': a->opts.uo_format = OUT_PROM; break;
		case 'C': a->opts.uo_percpu = 1; break;
		case 'x': a->opts.uo_extended = 1; break;
		case 'w':
			a->opts.uo_interval = wait_parse(optarg);
			break;
		case 'c':
			a->count = count_parse(optarg);
			break;
		default:
			usage();
		}
	}
}

/*
 * -p PID names a socket by convention (memstat_socket_path): when it is
 * not there, say why before any request fails with "No such file": no
 * such process, or one that does not export its statistics.
 */
static void
pid_check(pid_t pid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (memstat_socket_path(pid, path, sizeof(path)) != 0)
		return;
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "umastat: no process %d\n", (int)pid);
		exit(1);
	}
	if (stat(path, &st) != 0 && errno == ENOENT) {
		fprintf(stderr, "umastat: process %d does not export its "
		    "statistics (no %s)\n"
		    "umastat: start it with UMA_EXPORT=1 (or "
		    "UMA_TUNABLES=uma.export=1), or have it call "
		    "uma_export_start(); UMA_EXPORT_DIR must match\n",
		    (int)pid, path);
		exit(1);
	}
}

/*
 * -p PID: the socket where -l finds the process (root finds any user's,
 * and one started without XDG_RUNTIME_DIR is in /tmp/uma-<uid>), else
 * the conventional one, checked.
 */
static struct memstat_source *
pid_open(pid_t pid)
{
	struct memstat_source *src = NULL;
	struct endpoint *ep = NULL;
	size_t n = 0;

	(void)discover(&ep, &n);
	for (size_t i = 0; i < n && src == NULL; i++)
		if (ep[i].ep_pid == pid)
			src = memstat_source_socket(ep[i].ep_path);
	free(ep);
	if (src != NULL)
		return (src);
	pid_check(pid);
	return (memstat_source_pid(pid));
}

/* Whether umastat itself runs on uma (preloaded): its own source. */
static int
self_has_uma(void)
{
	size_t len = 0;

	return (memstat_source_sysctl(memstat_source_self(), "vm.zone_count",
	    NULL, &len, NULL, 0) == 0 || errno != ENOSYS);
}

static struct memstat_source *
source_open(const struct umastat_args *a)
{
	struct memstat_source *src;
	const char *what;

	if (a->file != NULL) {
		src = memstat_source_file(a->file);
		what = a->file;
	} else if (a->socket != NULL) {
		src = memstat_source_socket(a->socket);
		what = a->socket;
	} else if (a->pid != 0) {
		src = pid_open(a->pid);
		what = "pid";
	} else if (self_has_uma())
		return (memstat_source_self());
	else
		exit(list_no_source());
	if (src == NULL) {
		fprintf(stderr, "umastat: %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return (src);
}

static int
sample(struct memory_type_list *list, struct memstat_source *src,
    const struct umastat_args *a)
{
	int ret;

	/* The kmem report and MemGuard are records, not lists of types. */
	if (a->view == 'k')
		return (kmem_show(list, &a->opts));
	if (a->view == 'g')
		return (memguard_show(&a->opts));
	if (a->view == 'z' && a->opts.uo_extended)
		return (kmem_zones_show(list, &a->opts));
	ret = a->view == 'z' ?
	    memstat_source_uma(list, src) : memstat_source_all(list, src);
	if (ret != 0) {
		fprintf(stderr, "umastat: reading statistics: %s\n",
		    memstat_strerror(memstat_mtl_geterror(list)));
		return (1);
	}
	switch (a->view) {
	case 'm': return (malloc_show(list, &a->opts));
	case 'n': return (mbuf_show(list, &a->opts));
	default: return (zones_show(list, &a->opts));
	}
}

static void
sleep_seconds(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
	    .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct umastat_args a = { .view = 'z' };
	struct memory_type_list *list;
	struct memstat_source *src;
	int status = 0;

	if (argc > 1 && strcmp(argv[1], "exporter") == 0)
		return (exporter_main(argc - 1, argv + 1));
	if (argc > 1 && strcmp(argv[1], "top") == 0)
		return (top_main(argc - 1, argv + 1));
	args_parse(&a, argc, argv);
	if (a.view == 'l')
		return (list_main(a.opts.uo_format == OUT_JSON));
	src = source_open(&a);
	if (optind < argc && strcmp(argv[optind], "sysctl") == 0) {
		status = sysctl_main(src, argc - optind, argv + optind);
		memstat_source_close(src);
		return (status);
	}
	if (optind < argc)
		usage();
	if (a.save != NULL) {
		if (memstat_save(src, a.save) != 0) {
			fprintf(stderr, "umastat: --save %s: %s\n", a.save,
			    strerror(errno));
			status = 1;
		}
		memstat_source_close(src);
		return (status);
	}
	if ((list = memstat_mtl_alloc()) == NULL) {
		perror("umastat");
		return (1);
	}
	a.opts.uo_src = src;
	if (a.opts.uo_interval <= 0 && a.count > 0)
		a.opts.uo_interval = WAIT_DEFAULT;
	else if (a.opts.uo_interval <= 0)
		a.count = 1;
	for (long i = 0; status == 0 && (a.count == 0 || i < a.count); i++) {
		if (i > 0)
			sleep_seconds(a.opts.uo_interval);
		a.opts.uo_sample = (int)(i > 0);
		status = sample(list, src, &a);
		fflush(stdout);
	}
	memstat_mtl_free(list);
	memstat_source_close(src);
	return (status);
}
