/*
 * zones.c - `umastat -z`: the UMA zones as FreeBSD 14's vmstat -z table
 * (13's has a blank line after the header; 15 laid it out anew), as JSON
 * with vmstat's libxo names, or as Prometheus text exposition.
 */
#include <inttypes.h>
#include <stdio.h>

#include "umastat.h"

/* Counter slots (see counter_delta). */
#define	SLOT_REQ	0
#define	SLOT_FAIL	1
#define	SLOT_SLEEP	2
#define	SLOT_XDOMAIN	3
#define	SLOT_FREES	4

static void
zones_text(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memory_type *mtp;
	char name[MEMTYPE_MAXNAME + 2];

	if (uo->uo_interval > 0 && uo->uo_sample > 0)
		printf("\n(REQ, FAIL, SLEEP, XDOMAIN: change over the last "
		    "%g s)\n", uo->uo_interval);
	printf("%-20s %6s %6s %8s %8s %8s %8s%4s %4s\n", "ITEM", "SIZE",
	    "LIMIT", "USED", "FREE", "REQ", "FAIL", "SLEEP", "XDOMAIN");
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		if (memstat_get_allocator(mtp) != ALLOCATOR_UMA)
			continue;
		snprintf(name, sizeof(name), "%s:", memstat_get_name(mtp));
		printf("%-20s %6ju, %6ju,%8ju,%8ju,%8ju,%4ju,%4ju,%4ju\n",
		    name, (uintmax_t)memstat_get_size(mtp),
		    (uintmax_t)memstat_get_countlimit(mtp),
		    (uintmax_t)memstat_get_count(mtp),
		    (uintmax_t)memstat_get_free(mtp),
		    (uintmax_t)counter_delta(mtp, SLOT_REQ,
		    memstat_get_numallocs(mtp), uo),
		    (uintmax_t)counter_delta(mtp, SLOT_FAIL,
		    memstat_get_failures(mtp), uo),
		    (uintmax_t)counter_delta(mtp, SLOT_SLEEP,
		    memstat_get_sleeps(mtp), uo),
		    (uintmax_t)counter_delta(mtp, SLOT_XDOMAIN,
		    memstat_get_xdomain(mtp), uo));
		counter_seen(mtp);
	}
}

static void
zone_json_rates(struct memory_type *mtp, const struct umastat_opts *uo)
{
	static const struct { const char *key; int slot; } r[] = {
		{ "requests", SLOT_REQ }, { "frees", SLOT_FREES },
		{ "fail", SLOT_FAIL }, { "sleep", SLOT_SLEEP },
	};
	uint64_t v[4] = { memstat_get_numallocs(mtp),
	    memstat_get_numfrees(mtp), memstat_get_failures(mtp),
	    memstat_get_sleeps(mtp) };
	int first = uo->uo_sample == 0 ||
	    memstat_get_caller_uint64(mtp, SLOT_SEEN) == 0;

	if (uo->uo_interval > 0 && !first)
		printf(",\"rates\":{");
	for (int i = 0; i < 4; i++) {
		uint64_t d = counter_delta(mtp, r[i].slot, v[i], uo);

		if (uo->uo_interval > 0 && !first)
			printf("%s\"%s\":%.3f", i ? "," : "", r[i].key,
			    (double)d / uo->uo_interval);
	}
	if (uo->uo_interval > 0 && !first)
		printf("}");
	counter_seen(mtp);
}

static void
zone_json_percpu(struct memory_type *mtp)
{
	printf(",\"percpu\":[");
	for (int cpu = 0; cpu < memstat_get_maxcpus(mtp); cpu++)
		printf("%s{\"allocs\":%" PRIu64 ",\"frees\":%" PRIu64
		    ",\"free\":%" PRIu64 "}", cpu ? "," : "",
		    memstat_get_percpu_numallocs(mtp, cpu),
		    memstat_get_percpu_numfrees(mtp, cpu),
		    memstat_get_percpu_free(mtp, cpu));
	printf("]");
}

static void
zones_json(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memory_type *mtp;
	int n = 0;

	printf("{\"memory-zone-statistics\":{\"zone\":[");
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		if (memstat_get_allocator(mtp) != ALLOCATOR_UMA)
			continue;
		printf("%s\n{\"name\":", n++ ? "," : "");
		json_string(stdout, memstat_get_name(mtp));
		printf(",\"size\":%" PRIu64 ",\"limit\":%" PRIu64
		    ",\"used\":%" PRIu64 ",\"free\":%" PRIu64
		    ",\"requests\":%" PRIu64 ",\"fail\":%" PRIu64
		    ",\"sleep\":%" PRIu64 ",\"xdomain\":%" PRIu64
		    ",\"frees\":%" PRIu64 ",\"rsize\":%" PRIu64
		    ",\"zonefree\":%" PRIu64 ",\"kegfree\":%" PRIu64
		    ",\"pages\":%" PRIu64 ",\"secondary\":%s",
		    memstat_get_size(mtp), memstat_get_countlimit(mtp),
		    memstat_get_count(mtp), memstat_get_free(mtp),
		    memstat_get_numallocs(mtp), memstat_get_failures(mtp),
		    memstat_get_sleeps(mtp), memstat_get_xdomain(mtp),
		    memstat_get_numfrees(mtp), memstat_get_rsize(mtp),
		    memstat_get_zonefree(mtp), memstat_get_kegfree(mtp),
		    memstat_get_pages(mtp),
		    memstat_get_secondary(mtp) ? "true" : "false");
		zone_json_rates(mtp, uo);
		if (uo->uo_percpu)
			zone_json_percpu(mtp);
		printf("}");
	}
	printf("\n]}}\n");
}

static const struct prom_metric zone_metrics[] = {
	{ "uma_zone_size_bytes", "gauge", "Requested item size of the zone.",
	    memstat_get_size },
	{ "uma_zone_limit_items", "gauge",
	    "Item limit of the zone (0: none).", memstat_get_countlimit },
	{ "uma_zone_used_items", "gauge", "Items allocated and not freed.",
	    memstat_get_count },
	{ "uma_zone_free_items", "gauge",
	    "Free items in the zone's caches and, for a primary zone, its keg.",
	    memstat_get_free },
	{ "uma_zone_used_bytes", "gauge", "Bytes of the items in use.",
	    memstat_get_bytes },
	{ "uma_zone_requests_total", "counter", "Allocations from the zone.",
	    memstat_get_numallocs },
	{ "uma_zone_frees_total", "counter", "Frees to the zone.",
	    memstat_get_numfrees },
	{ "uma_zone_failures_total", "counter", "Failed allocations.",
	    memstat_get_failures },
	{ "uma_zone_sleeps_total", "counter",
	    "Allocations that slept at the zone limit.", memstat_get_sleeps },
	{ "uma_zone_xdomain_total", "counter",
	    "Frees of items from another memory domain.", memstat_get_xdomain },
};

void
zones_prom(const struct prom_out *po, const struct prom_target *t, size_t nt)
{
	prom_types(po, zone_metrics, sizeof(zone_metrics) /
	    sizeof(zone_metrics[0]), ALLOCATOR_UMA, "zone", t, nt);
}

int
zones_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	if (uo->uo_format == OUT_JSON)
		zones_json(list, uo);
	else if (uo->uo_format == OUT_PROM)
		prom_show(list, zones_prom);
	else
		zones_text(list, uo);
	return (0);
}
