/*
 * malloc.c - `umastat -m`: the malloc types as FreeBSD 14's vmstat -m
 * table (13's is the same: Type, InUse, MemUse, Requests, Size(s); the
 * HighUse column went in 13.0), as JSON with vmstat's libxo names, or as
 * Prometheus text exposition.  Sizes are the source's size classes
 * (libmemstat reads its vm.malloc.zone_sizes): bit i of a size mask is
 * class i of that table, never a power of two computed here.
 */
#include <inttypes.h>
#include <stdio.h>

#include "umastat.h"

#define	SLOT_REQ	0

static void
malloc_sizes(struct memory_type *mtp)
{
	size_t count = memstat_malloc_zone_get_count();
	int n = 0;

	for (size_t i = 0; i < count; i++)
		if (memstat_malloc_zone_used(mtp, i))
			printf("%s%zu", n++ ? "," : "",
			    memstat_malloc_zone_get_size(i));
}

static int
malloc_skip(struct memory_type *mtp)
{
	return (memstat_get_allocator(mtp) != ALLOCATOR_MALLOC ||
	    (memstat_get_numallocs(mtp) == 0 && memstat_get_count(mtp) == 0));
}

static void
malloc_text(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memory_type *mtp;

	if (uo->uo_interval > 0 && uo->uo_sample > 0)
		printf("\n(Requests: change over the last %g s)\n",
		    uo->uo_interval);
	printf("%13s %5s %6s %8s  %s\n", "Type", "InUse", "MemUse",
	    "Requests", "Size(s)");
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		if (malloc_skip(mtp))
			continue;
		printf("%13s %5ju %5juK %8ju  ", memstat_get_name(mtp),
		    (uintmax_t)memstat_get_count(mtp),
		    (uintmax_t)((memstat_get_bytes(mtp) + 1023) / 1024),
		    (uintmax_t)counter_delta(mtp, SLOT_REQ,
		    memstat_get_numallocs(mtp), uo));
		counter_seen(mtp);
		malloc_sizes(mtp);
		printf("\n");
	}
}

static void
malloc_json(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memory_type *mtp;
	int n = 0;

	printf("{\"malloc-statistics\":{\"memory\":[");
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		if (malloc_skip(mtp))
			continue;
		printf("%s\n{\"type\":", n++ ? "," : "");
		json_string(stdout, memstat_get_name(mtp));
		printf(",\"in-use\":%" PRIu64 ",\"memory-use\":%" PRIu64
		    ",\"requests\":%" PRIu64 ",\"size\":[",
		    memstat_get_count(mtp),
		    (memstat_get_bytes(mtp) + 1023) / 1024,
		    memstat_get_numallocs(mtp));
		malloc_sizes(mtp);
		printf("],\"frees\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
		    memstat_get_numfrees(mtp), memstat_get_bytes(mtp));
	}
	printf("\n]}}\n");
}

static const struct prom_metric malloc_metrics[] = {
	{ "uma_malloc_used_items", "gauge",
	    "Allocations of the malloc type not freed.", memstat_get_count },
	{ "uma_malloc_used_bytes", "gauge",
	    "Bytes of the malloc type in use, at size-class size.",
	    memstat_get_bytes },
	{ "uma_malloc_requests_total", "counter",
	    "Allocations of the malloc type.", memstat_get_numallocs },
	{ "uma_malloc_frees_total", "counter", "Frees of the malloc type.",
	    memstat_get_numfrees },
};

void
malloc_prom(const struct prom_out *po, const struct prom_target *t, size_t nt)
{
	prom_types(po, malloc_metrics, sizeof(malloc_metrics) /
	    sizeof(malloc_metrics[0]), ALLOCATOR_MALLOC, "type", t, nt);
}

int
malloc_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	if (uo->uo_format == OUT_JSON)
		malloc_json(list, uo);
	else if (uo->uo_format == OUT_PROM)
		prom_show(list, malloc_prom);
	else
		malloc_text(list, uo);
	return (0);
}
