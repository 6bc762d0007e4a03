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

/* JSON string and Prometheus label value, escaped. */
void	json_string(FILE *f, const char *s);
void	prom_label(FILE *f, const char *s);
/* The label value of mtp: its name, "_N" appended for the N-th duplicate. */
void	prom_label_name(FILE *f, struct memory_type_list *list,
	    struct memory_type *mtp);

int	zones_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	malloc_show(struct memory_type_list *list,
	    const struct umastat_opts *uo);
int	mbuf_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	kmem_show(struct memory_type_list *list, const struct umastat_opts *uo);
int	kmem_zones_show(struct memory_type_list *list,
	    const struct umastat_opts *uo);
int	sysctl_main(struct memstat_source *src, int argc, char **argv);

#endif /* !_UMASTAT_H_ */
