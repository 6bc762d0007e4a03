/*
 * umastat.h - the umastat CLI: options shared by the views, the views
 * (one file each), and the JSON / Prometheus text helpers.
 */
#ifndef _UMASTAT_H_
#define	_UMASTAT_H_

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <memstat.h>

#define	OUT_TEXT	0
#define	OUT_JSON	1
#define	OUT_PROM	2

struct umastat_opts {
	int	uo_format;	/* OUT_* */
	int	uo_percpu;	/* JSON: per-CPU arrays */
	int	uo_sample;	/* 0 for the first sample of a -w run */
	double	uo_interval;	/* -w seconds, 0 without -w */
	int	uo_extended;	/* -x: the kmem report's extended tier */
	struct memstat_source *uo_src;	/* where the kmem report comes from */
};

/* Caller slots of libmemstat that hold the previous sample's counters. */
#define	SLOT_SEEN	15

/*
 * A counter for display: its total on the first sample, else its change
 * since the previous sample (0 if it went backwards); remembers `value`.
 */
uint64_t	counter_delta(struct memory_type *mtp, int slot, uint64_t value,
		    const struct umastat_opts *uo);
void		counter_seen(struct memory_type *mtp);

/* JSON string, escaped. */
void	json_string(FILE *f, const char *s);

int	zones_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	malloc_show(struct memory_type_list *list,
	    const struct umastat_opts *uo);
int	mbuf_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	kmem_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	kmem_zones_show(struct memory_type_list *list,
	    const struct umastat_opts *uo);
int	sysctl_main(struct memstat_source *src, int argc, char **argv);
int	memguard_show(const struct umastat_opts *uo);	/* -g */

/*
 * Prometheus text exposition 0.0.4 and OpenMetrics 1.0 (prom.c).  A
 * family's HELP and TYPE come once, then the samples of every target: one
 * process's list and its labels (`pid="1",comm="x"`, or "" for one
 * process on its own).  Label values are escaped and made valid UTF-8.
 */
struct prom_out {
	FILE	*po_f;
	int	 po_openmetrics;	/* counters' family drops "_total" */
};

struct prom_target {
	struct memory_type_list	*pt_list;
	struct memstat_kmem	*pt_kmem;	/* its kmem report, or NULL */
	const char		*pt_labels;
};

struct prom_metric {
	const char	*pm_name;
	const char	*pm_type;	/* "gauge" or "counter" */
	const char	*pm_help;
	uint64_t	(*pm_get)(const struct memory_type *);
};

void	prom_label(FILE *f, const char *s);
void	prom_family(const struct prom_out *po, const char *name,
	    const char *type, const char *help);
/* `name{labels,key="value"} v`; key may be NULL, labels "". */
void	prom_sample(const struct prom_out *po, const char *name,
	    const char *labels, const char *key, const char *value, uint64_t v);
void	prom_sample_signed(const struct prom_out *po, const char *name,
	    const char *labels, const char *key, const char *value, int64_t v);
/* `labels,key="value"`, escaped, malloc'ed (NULL without memory). */
char	*prom_labels(const char *labels, const char *key, const char *value);
/*
 * One family per metric, a sample per entry of `allocator` labelled
 * key=<its name, "_N" appended for the N-th duplicate>.
 */
void	prom_types(const struct prom_out *po, const struct prom_metric *pm,
	    size_t npm, int allocator, const char *key,
	    const struct prom_target *t, size_t nt);
/* --prometheus: fn on `list` alone, to stdout. */
typedef void prom_fn(const struct prom_out *, const struct prom_target *,
    size_t);
void	prom_show(struct memory_type_list *list, prom_fn *fn);
void	prom_show_kmem(struct memory_type_list *list, struct memstat_kmem *k,
	    prom_fn *fn);

/*
 * The series of each view, for every target (--prometheus, exporter);
 * kmem_prom and kzones_prom (the extended tier's zones) use pt_kmem.
 */
prom_fn	zones_prom, malloc_prom, mbuf_prom, kmem_prom, kzones_prom;

/*
 * The uma processes this user may read (discover.c): the endpoints
 * <pid>.sock in $UMA_EXPORT_DIR alone when it is set, else in
 * $XDG_RUNTIME_DIR/uma and /tmp/uma-<uid>; as root also every user's
 * /run/user/<uid>/uma and /tmp/uma-<uid>.  The socket of a dead process
 * is skipped, and removed from a directory of our own.
 */
struct endpoint {
	pid_t	ep_pid;		/* from the file name */
	uid_t	ep_uid;		/* the directory's owner */
	char	ep_path[108];	/* sizeof(sun_path) */
};
int	discover(struct endpoint **epp, size_t *np);

/*
 * Reading many endpoints at once (fetch.c): every connection is
 * non-blocking and the whole read ends at one deadline, so a process that
 * hangs costs `timeout_ms` and never stalls the others.
 */
#define	FETCH_ZONES	0	/* vm.zone_stats */
#define	FETCH_MALLOC	1	/* kern.malloc_stats */
#define	FETCH_KMEM	2	/* vm.kmem_stats (or _extended) */
#define	FETCH_NVALUES	3
/* `want` of fetch_run: (1 << FETCH_*) bits, FETCH_EXTENDED for _extended. */
#define	FETCH_WANT(v)	(1 << (v))
#define	FETCH_EXTENDED	0x100

struct fetch {
	const struct endpoint *fe_ep;		/* in */
	pid_t	 fe_pid;	/* the server's pid, from its credentials */
	int	 fe_error;	/* 0, or an errno value (fetch_gone) */
	void	*fe_buf[FETCH_NVALUES];		/* values, malloc'ed */
	size_t	 fe_len[FETCH_NVALUES];
	int	 fe_srverr[FETCH_NVALUES];	/* the server's errno */
	/* Connection state. */
	int	 fe_want;
	int	 fe_fd;
	int	 fe_cur;	/* value whose response is being read */
	unsigned char *fe_out;
	size_t	 fe_outlen, fe_outoff, fe_inoff;
	unsigned char fe_hdr[16];	/* struct uma_export_resp */
};
void	fetch_run(struct fetch *fe, size_t n, int want, int timeout_ms);
void	fetch_free(struct fetch *fe, size_t n);
/* The endpoint is no uma process any more (exited, or a stale socket). */
int	fetch_gone(const struct fetch *fe);
/* Fill `list` from the zones and (if read) the malloc types. */
int	fetch_list(const struct fetch *fe, struct memory_type_list *list);
/* Fill `k` from the kmem report read. */
int	fetch_kmem(const struct fetch *fe, struct memstat_kmem *k);
/* /proc/<pid>/comm, printable ASCII, "?" if unknown. */
void	proc_comm(pid_t pid, char *buf, size_t len);

/* -l, and the list shown when there is no source (list.c). */
int	list_main(int json);
int	list_no_source(void);

/* -w's seconds, checked (main.c); exits with a message if out of range. */
double	wait_parse(const char *arg);

int	exporter_main(int argc, char **argv);	/* exporter.c */
int	top_main(int argc, char **argv);	/* top.c */

#endif /* !_UMASTAT_H_ */
