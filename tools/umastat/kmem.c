/*
 * kmem.c - `umastat -k`: the kmem report (RFC-0011) of the source, the
 * cheap tier (vm.kmem_stats) or with -x the extended one
 * (vm.kmem_stats_extended); and `umastat -z -x`, the extended tier's
 * per-zone view.  Text, JSON or Prometheus; with -w the figures' change
 * per second.  The figures, their keys and their meanings come from
 * libmemstat (<uma/kmem.h>'s lists), so a new figure needs no change here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umastat.h"

/* The previous sample of a -w run, for the rates. */
static int64_t prev[MEMSTAT_KMEM_NFIELDS];
static int have_prev;

static int
kmem_nfields(const struct memstat_kmem *k)
{
	return (memstat_kmem_extended(k) ? MEMSTAT_KMEM_NFIELDS :
	    MEMSTAT_KMEM_FIRST_EXTENDED);
}

static int
kmem_is_part(int f)
{
	return (f >= MEMSTAT_KMEM_FIRST_PART && f <= MEMSTAT_KMEM_LAST_PART);
}

/* The parts of a total are printed under it, indented. */
static int
kmem_is_sub(int f)
{
	return (kmem_is_part(f) || (f > MEMSTAT_KMEM_RECLAIMABLE &&
	    f <= MEMSTAT_KMEM_RECLAIM_NEWEST));
}

static int
kmem_is_count(int f)
{
	return (f >= MEMSTAT_KMEM_SLABS_FULL && f <= MEMSTAT_KMEM_SLABS_FREE);
}

/* Change per second since the previous sample. */
static double
kmem_rate(const struct memstat_kmem *k, int f, const struct umastat_opts *uo)
{
	return ((double)(memstat_kmem_get(k, f) - prev[f]) / uo->uo_interval);
}

static int
kmem_rates(const struct umastat_opts *uo)
{
	return (uo->uo_interval > 0 && uo->uo_sample > 0 && have_prev);
}

static void
kmem_text(const struct memstat_kmem *k, const struct umastat_opts *uo)
{
	char name[40];

	printf("uma memory, %s tier%s\n", memstat_kmem_extended(k) ?
	    "extended" : "cheap", memstat_kmem_extended(k) ?
	    " (walks every cache and slab list)" : " (counters only)");
	if (kmem_rates(uo))
		printf("%-24s %15s %13s  %s\n", "FIGURE", "BYTES", "PER SECOND",
		    "MEANING");
	else
		printf("%-24s %15s  %s\n", "FIGURE", "BYTES", "MEANING");
	for (int f = 0; f < kmem_nfields(k); f++) {
		snprintf(name, sizeof(name), "%s%s", kmem_is_sub(f) ? "  " : "",
		    memstat_kmem_name(f));
		printf("%-24s %15" PRId64, name, memstat_kmem_get(k, f));
		if (kmem_rates(uo))
			printf(" %13.0f", kmem_rate(k, f, uo));
		printf("  %s%s\n", memstat_kmem_descr(f), kmem_is_count(f) ?
		    " (not bytes)" : "");
	}
}

static void
kmem_json(const struct memstat_kmem *k, const struct umastat_opts *uo)
{
	printf("{\"kmem-statistics\":{\"tier\":\"%s\"",
	    memstat_kmem_extended(k) ? "extended" : "cheap");
	for (int f = 0; f < kmem_nfields(k); f++)
		printf(",\"%s\":%" PRId64, memstat_kmem_name(f),
		    memstat_kmem_get(k, f));
	if (kmem_rates(uo)) {
		printf(",\"rates\":{");
		for (int f = 0; f < kmem_nfields(k); f++)
			printf("%s\"%s\":%.3f", f ? "," : "",
			    memstat_kmem_name(f), kmem_rate(k, f, uo));
		printf("}");
	}
	printf("}}\n");
}

/*
 * uma_kmem_bytes of every target with a report; uma_kmem_slabs too when
 * a report is of the extended tier.
 */
void
kmem_prom(const struct prom_out *po, const struct prom_target *t, size_t nt)
{
	const struct memstat_kmem *k;
	int extended = 0;

	prom_family(po, "uma_kmem_bytes", "gauge", "Where uma's memory is, "
	    "by state: the parts inuse_*, free_*, large_cache, metadata, "
	    "waste and other add up to committed.");
	for (size_t i = 0; i < nt; i++) {
		if ((k = t[i].pt_kmem) == NULL)
			continue;
		extended |= memstat_kmem_extended(k);
		for (int f = 0; f < kmem_nfields(k); f++)
			if (!kmem_is_count(f))
				prom_sample_signed(po, "uma_kmem_bytes",
				    t[i].pt_labels, "state",
				    memstat_kmem_name(f),
				    memstat_kmem_get(k, f));
	}
	if (!extended)
		return;
	prom_family(po, "uma_kmem_slabs", "gauge",
	    "Slabs of every keg, by state.");
	for (size_t i = 0; i < nt; i++) {
		if ((k = t[i].pt_kmem) == NULL || !memstat_kmem_extended(k))
			continue;
		for (int f = MEMSTAT_KMEM_SLABS_FULL;
		    f <= MEMSTAT_KMEM_SLABS_FREE; f++)
			prom_sample_signed(po, "uma_kmem_slabs",
			    t[i].pt_labels, "state",
			    memstat_kmem_name(f) + strlen("slabs_"),
			    memstat_kmem_get(k, f));
	}
}

/* Read the report the view asks for: 0, or 1 after saying why not. */
static int
kmem_read(struct memstat_kmem *k, const struct umastat_opts *uo)
{
	if (memstat_kmem_read(k, uo->uo_src, uo->uo_extended) == 0)
		return (0);
	fprintf(stderr, "umastat: reading %s: %s\n", uo->uo_extended ?
	    "vm.kmem_stats_extended" : "vm.kmem_stats",
	    memstat_strerror(memstat_kmem_geterror(k)));
	return (1);
}

int
kmem_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memstat_kmem *k = memstat_kmem_alloc();
	int ret;

	if (k == NULL) {
		perror("umastat");
		return (1);
	}
	if ((ret = kmem_read(k, uo)) == 0) {
		if (uo->uo_format == OUT_JSON)
			kmem_json(k, uo);
		else if (uo->uo_format == OUT_PROM)
			prom_show_kmem(list, k, kmem_prom);
		else
			kmem_text(k, uo);
		for (int f = 0; f < MEMSTAT_KMEM_NFIELDS; f++)
			prev[f] = memstat_kmem_get(k, f);
		have_prev = 1;
	}
	memstat_kmem_free(k);
	return (ret);
}

/* ---- umastat -z -x: the zones of the extended tier ------------------- */

static void
kzones_text(const struct memstat_kmem *k)
{
	char name[MEMTYPE_MAXNAME + 2];

	printf("%-20s %6s %8s %8s %8s %6s %6s %6s %4s %10s %10s\n", "ITEM",
	    "SIZE", "USED", "FREE", "PAGES", "FULL", "PART", "EMPTY", "EFF%",
	    "RECLAIM", "FRAG");
	for (size_t i = 0; i < memstat_kmem_zone_count(k); i++) {
		snprintf(name, sizeof(name), "%s:", memstat_kmem_zone_name(k,
		    i));
		printf("%-20s %6" PRIu64 ",%8" PRIu64 ",%8" PRIu64 ",%8" PRIu64
		    ",%6" PRIu64 ",%6" PRIu64 ",%6" PRIu64 ",%4" PRIu64
		    ",%10" PRIu64 ",%10" PRIu64 "\n", name,
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_SIZE),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_USED),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_FREE),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_PAGES),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_SLABS_FULL),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_SLABS_PARTIAL),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_SLABS_FREE),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_EFFICIENCY),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_RECLAIMABLE),
		    memstat_kmem_zone_get(k, i, MEMSTAT_KMEM_Z_FRAGMENTATION));
	}
}

static void
kzones_json(const struct memstat_kmem *k)
{
	uint32_t fl;

	printf("{\"memory-zone-extended\":{\"zone\":[");
	for (size_t i = 0; i < memstat_kmem_zone_count(k); i++) {
		fl = memstat_kmem_zone_flags(k, i);
		printf("%s\n{\"name\":", i ? "," : "");
		json_string(stdout, memstat_kmem_zone_name(k, i));
		printf(",\"secondary\":%s,\"internal\":%s,\"nofree\":%s",
		    fl & MEMSTAT_KMEM_ZONE_SECONDARY ? "true" : "false",
		    fl & MEMSTAT_KMEM_ZONE_INTERNAL ? "true" : "false",
		    fl & MEMSTAT_KMEM_ZONE_NOFREE ? "true" : "false");
		for (int f = 0; f < MEMSTAT_KMEM_Z_NFIELDS; f++)
			printf(",\"%s\":%" PRIu64,
			    memstat_kmem_zone_field_name(f),
			    memstat_kmem_zone_get(k, i, f));
		printf("}");
	}
	printf("\n]}}\n");
}

static const struct kzone_metric {
	const char	*km_name;
	const char	*km_help;
	int		 km_field;
} kzone_metrics[] = {
	{ "uma_zone_pages", "Pages of the zone's keg (on its primary zone).",
	    MEMSTAT_KMEM_Z_PAGES },
	{ "uma_zone_efficiency_percent",
	    "Percent of the keg's pages that hold items in use.",
	    MEMSTAT_KMEM_Z_EFFICIENCY },
	{ "uma_zone_reclaimable_bytes",
	    "Bytes a DRAIN_CPU reclaim would give back from the keg.",
	    MEMSTAT_KMEM_Z_RECLAIMABLE },
	{ "uma_zone_fragmentation_bytes",
	    "Free bytes left in partly used slabs after that reclaim.",
	    MEMSTAT_KMEM_Z_FRAGMENTATION },
};

/*
 * The target's labels and zone="<name>", "_n" appended for the n-th
 * duplicate of a name, malloc'ed (NULL without memory).
 */
static char *
kzone_labels(const struct memstat_kmem *k, size_t z,
    const struct prom_target *t)
{
	char name[MEMTYPE_MAXNAME + 24];
	int dup = 0;

	for (size_t j = 0; j < z; j++)
		dup += strcmp(memstat_kmem_zone_name(k, j),
		    memstat_kmem_zone_name(k, z)) == 0;
	if (dup > 0)
		snprintf(name, sizeof(name), "%s_%d",
		    memstat_kmem_zone_name(k, z), dup);
	else
		snprintf(name, sizeof(name), "%s",
		    memstat_kmem_zone_name(k, z));
	return (prom_labels(t->pt_labels, "zone", name));
}

/* The extended tier's zone series of every target with one. */
void
kzones_prom(const struct prom_out *po, const struct prom_target *t,
    size_t nt)
{
	static const char *const slab[3] = { "full", "partial", "free" };
	const struct memstat_kmem *k;
	char *zl;

	for (size_t m = 0; m < sizeof(kzone_metrics) / sizeof(kzone_metrics[0]);
	    m++) {
		prom_family(po, kzone_metrics[m].km_name, "gauge",
		    kzone_metrics[m].km_help);
		for (size_t i = 0; i < nt; i++) {
			if ((k = t[i].pt_kmem) == NULL)
				continue;
			for (size_t z = 0; z < memstat_kmem_zone_count(k);
			    z++) {
				zl = kzone_labels(k, z, &t[i]);
				prom_sample(po, kzone_metrics[m].km_name,
				    zl != NULL ? zl : t[i].pt_labels, NULL,
				    NULL, memstat_kmem_zone_get(k, z,
				    kzone_metrics[m].km_field));
				free(zl);
			}
		}
	}
	prom_family(po, "uma_zone_slabs", "gauge",
	    "Slabs of the zone's keg, by state.");
	for (size_t i = 0; i < nt; i++) {
		if ((k = t[i].pt_kmem) == NULL)
			continue;
		for (size_t z = 0; z < memstat_kmem_zone_count(k); z++) {
			zl = kzone_labels(k, z, &t[i]);
			for (int s = 0; s < 3; s++)
				prom_sample(po, "uma_zone_slabs",
				    zl != NULL ? zl : t[i].pt_labels, "state",
				    slab[s], memstat_kmem_zone_get(k, z,
				    MEMSTAT_KMEM_Z_SLABS_FULL + s));
			free(zl);
		}
	}
}

int
kmem_zones_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct memstat_kmem *k = memstat_kmem_alloc();
	int ret;

	if (k == NULL) {
		perror("umastat");
		return (1);
	}
	if ((ret = kmem_read(k, uo)) == 0) {
		if (uo->uo_format == OUT_JSON)
			kzones_json(k);
		else if (uo->uo_format == OUT_PROM)
			prom_show_kmem(list, k, kzones_prom);
		else
			kzones_text(k);
	}
	memstat_kmem_free(k);
	return (ret);
}
