/*
 * umastat.h - the umastat CLI: options shared by the views, the views
 * (one file each), and the JSON / Prometheus text helpers.
 */
#ifndef _UMASTAT_H_
#define	_UMASTAT_H_

#include <stdint.h>
#include <stdio.h>

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


#endif /* !_UMASTAT_H_ */
