/*
 * kmem.c - `umastat -k`: the cheap tier of the kmem report (RFC-0011),
 * totals over the zones from counters alone: pages held by kegs, bytes in
 * use, bytes free in the caches (per-CPU and zone buckets) and in kegs,
 * and what is left: slab headers, alignment and fragmentation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "umastat.h"

struct kmem_totals {
	uint64_t	zones, secondary, pages, bytes_total;
	uint64_t	bytes_used, bytes_cache, bytes_keg, bytes_other;
};

static void
kmem_sum(struct memory_type_list *list, struct kmem_totals *t)
{
	struct memory_type *mtp;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), rsize, cached;

	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		if (memstat_get_allocator(mtp) != ALLOCATOR_UMA)
			continue;
		rsize = memstat_get_rsize(mtp);
		t->zones++;
		t->secondary += memstat_get_secondary(mtp) != 0;
		t->pages += memstat_get_pages(mtp);
		t->bytes_used += memstat_get_count(mtp) * rsize;
		cached = memstat_get_free(mtp) - memstat_get_kegfree(mtp);
		t->bytes_cache += cached * rsize;
		t->bytes_keg += memstat_get_kegfree(mtp) * rsize;
	}
	t->bytes_total = t->pages * page;
	cached = t->bytes_used + t->bytes_cache + t->bytes_keg;
	t->bytes_other = t->bytes_total > cached ? t->bytes_total - cached : 0;
}

int
kmem_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct kmem_totals t = { 0 };

	kmem_sum(list, &t);
	if (uo->uo_format == OUT_JSON) {
		printf("{\"kmem\":{\"zones\":%" PRIu64 ",\"secondary\":%" PRIu64
		    ",\"pages\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"used\":%" PRIu64 ",\"free-cache\":%" PRIu64
		    ",\"free-keg\":%" PRIu64 ",\"overhead\":%" PRIu64 "}}\n",
		    t.zones, t.secondary, t.pages, t.bytes_total, t.bytes_used,
		    t.bytes_cache, t.bytes_keg, t.bytes_other);
		return (0);
	}
	if (uo->uo_format == OUT_PROM) {
		printf("# HELP uma_kmem_bytes Bytes of the zones, by state.\n"
		    "# TYPE uma_kmem_bytes gauge\n"
		    "uma_kmem_bytes{state=\"used\"} %" PRIu64 "\n"
		    "uma_kmem_bytes{state=\"free_cache\"} %" PRIu64 "\n"
		    "uma_kmem_bytes{state=\"free_keg\"} %" PRIu64 "\n"
		    "uma_kmem_bytes{state=\"overhead\"} %" PRIu64 "\n",
		    t.bytes_used, t.bytes_cache, t.bytes_keg, t.bytes_other);
		return (0);
	}
	printf("%-26s %12" PRIu64 " (%" PRIu64 " secondary)\n", "zones:",
	    t.zones, t.secondary);
	printf("%-26s %12" PRIu64 " (%" PRIu64 " KiB)\n", "pages held by kegs:",
	    t.pages, t.bytes_total / 1024);
	printf("%-26s %12" PRIu64 " KiB\n", "in use:", t.bytes_used / 1024);
	printf("%-26s %12" PRIu64 " KiB\n", "free in caches:",
	    t.bytes_cache / 1024);
	printf("%-26s %12" PRIu64 " KiB\n", "free in kegs:",
	    t.bytes_keg / 1024);
	printf("%-26s %12" PRIu64 " KiB\n", "headers and fragmentation:",
	    t.bytes_other / 1024);
	return (0);
}
