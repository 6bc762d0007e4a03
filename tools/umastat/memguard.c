/*
 * memguard.c - `umastat -g`: MemGuard (memguard(3)) in the source: what
 * it is set to guard (vm.memguard.desc, .frequency, .options), its arena,
 * its counters (the list UMA_MEMGUARD_COUNTERS of <uma/memguard.h>, so a
 * new counter needs no change here) and the guarded objects live now
 * (vm.memguard.objects).  Text, JSON or Prometheus; with -w the
 * counters' change per second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/memguard.h>

#include "umastat.h"

static const char *const mg_names[] = {
#define	X(name, descr)	#name,
	UMA_MEMGUARD_COUNTERS(X)
#undef X
};
static const char *const mg_descrs[] = {
#define	X(name, descr)	descr,
	UMA_MEMGUARD_COUNTERS(X)
#undef X
};
#define	MG_NCOUNTERS	(sizeof(mg_names) / sizeof(mg_names[0]))

/* Counters that only go up: the rest are gauges (live, bytes). */
static int
mg_is_counter(size_t i)
{
	return (strcmp(mg_names[i], "live") != 0 &&
	    strcmp(mg_names[i], "live_bytes") != 0 &&
	    strcmp(mg_names[i], "wasted") != 0);
}

struct mg_view {
	char		 desc[128];
	int		 frequency, options;
	uint64_t	 mapsize, phys_limit, mapstart;
	uint64_t	 c[MG_NCOUNTERS];
	struct uma_memguard_objects *objs;	/* malloc'ed, or NULL */
};

static uint64_t prev[MG_NCOUNTERS];
static int have_prev;

static int
mg_u64(struct memstat_source *src, const char *name, uint64_t *v)
{
	size_t len = sizeof(*v);
	char full[64];

	snprintf(full, sizeof(full), "vm.memguard.%s", name);
	*v = 0;
	return (memstat_source_sysctl(src, full, v, &len, NULL, 0));
}

static int
mg_int(struct memstat_source *src, const char *name, int *v)
{
	size_t len = sizeof(*v);

	*v = 0;
	return (memstat_source_sysctl(src, name, v, &len, NULL, 0));
}

/* The objects node, checked as <uma/memguard.h> says; NULL if unusable. */
static struct uma_memguard_objects *
mg_objects(struct memstat_source *src)
{
	struct uma_memguard_objects *h;
	size_t len = 0;

	if (memstat_source_sysctl(src, "vm.memguard.objects", NULL, &len,
	    NULL, 0) != 0 || len < sizeof(*h) || (h = malloc(len)) == NULL)
		return (NULL);
	if (memstat_source_sysctl(src, "vm.memguard.objects", h, &len, NULL,
	    0) != 0 || len < sizeof(*h) ||
	    h->umo_version != UMA_MEMGUARD_OBJECTS_VERSION ||
	    h->umo_size != sizeof(struct uma_memguard_object) ||
	    len != sizeof(*h) + (size_t)h->umo_count * h->umo_size) {
		free(h);
		return (NULL);
	}
	return (h);
}

static const struct uma_memguard_object *
mg_object(const struct uma_memguard_objects *h, uint32_t i)
{
	return ((const struct uma_memguard_object *)(const void *)(h + 1) +
	    i);
}

/* Read it all: 0, or 1 after saying why not. */
static int
mg_read(struct memstat_source *src, struct mg_view *v)
{
	size_t len = sizeof(v->desc);

	memset(v, 0, sizeof(*v));
	if (memstat_source_sysctl(src, "vm.memguard.desc", v->desc, &len,
	    NULL, 0) != 0) {
		fprintf(stderr, "umastat: vm.memguard.desc: %s\n",
		    errno == ENOENT ? "no MemGuard in this uma" :
		    strerror(errno));
		return (1);
	}
	v->desc[sizeof(v->desc) - 1] = '\0';
	(void)mg_int(src, "vm.memguard.frequency", &v->frequency);
	(void)mg_int(src, "vm.memguard.options", &v->options);
	(void)mg_u64(src, "mapsize", &v->mapsize);
	(void)mg_u64(src, "phys_limit", &v->phys_limit);
	(void)mg_u64(src, "mapstart", &v->mapstart);
	for (size_t i = 0; i < MG_NCOUNTERS; i++)
		(void)mg_u64(src, mg_names[i], &v->c[i]);
	v->objs = mg_objects(src);
	return (0);
}

static int
mg_rates(const struct umastat_opts *uo)
{
	return (uo->uo_interval > 0 && uo->uo_sample > 0 && have_prev);
}

static void
mg_text(const struct mg_view *v, const struct umastat_opts *uo)
{
	const struct uma_memguard_object *o;

	printf("MemGuard %s: desc \"%s\", frequency %d in 100000, "
	    "options %#x\n", v->mapstart != 0 ? "on" : "not started",
	    v->desc, v->frequency, v->options);
	printf("arena %" PRIu64 " bytes at %#" PRIx64 ", phys_limit %" PRIu64
	    " bytes\n", v->mapsize, v->mapstart, v->phys_limit);
	printf("%-16s %15s%s  %s\n", "COUNTER", "VALUE",
	    mg_rates(uo) ? "    PER SECOND" : "", "MEANING");
	for (size_t i = 0; i < MG_NCOUNTERS; i++) {
		printf("%-16s %15" PRIu64, mg_names[i], v->c[i]);
		if (mg_rates(uo))
			printf(" %13.0f", ((double)v->c[i] - (double)prev[i]) /
			    uo->uo_interval);
		printf("  %s\n", mg_descrs[i]);
	}
	if (v->objs == NULL)
		return;
	printf("\n%u guarded objects live\n", v->objs->umo_count);
	if (v->objs->umo_count == 0)
		return;
	printf("%-18s %10s %-8s %8s %-18s %s\n", "ADDRESS", "SIZE", "HOW",
	    "THREAD", "ALLOCATED AT", "ZONE OR TYPE");
	for (uint32_t i = 0; i < v->objs->umo_count; i++) {
		o = mg_object(v->objs, i);
		printf("%#-18" PRIx64 " %10" PRIu64 " %-8s %8u %#-18" PRIx64
		    " %s%.*s\n", o->umo_addr, o->umo_bytes,
		    o->umo_flags & UMA_MEMGUARD_OBJECT_SAMPLED ? "sampled" :
		    "selected", o->umo_tid, o->umo_site,
		    o->umo_flags & UMA_MEMGUARD_OBJECT_ZONE ? "zone " : "type ",
		    UMA_MEMGUARD_MAX_NAME, o->umo_name);
	}
}

static void
mg_json(const struct mg_view *v)
{
	const struct uma_memguard_object *o;
	char name[UMA_MEMGUARD_MAX_NAME + 1];

	printf("{\"memguard\":{\"desc\":");
	json_string(stdout, v->desc);
	printf(",\"frequency\":%d,\"options\":%d,\"mapstart\":%" PRIu64
	    ",\"mapsize\":%" PRIu64 ",\"phys_limit\":%" PRIu64,
	    v->frequency, v->options, v->mapstart, v->mapsize, v->phys_limit);
	for (size_t i = 0; i < MG_NCOUNTERS; i++)
		printf(",\"%s\":%" PRIu64, mg_names[i], v->c[i]);
	printf(",\"objects\":[");
	for (uint32_t i = 0; v->objs != NULL && i < v->objs->umo_count; i++) {
		o = mg_object(v->objs, i);
		memcpy(name, o->umo_name, UMA_MEMGUARD_MAX_NAME);
		name[UMA_MEMGUARD_MAX_NAME] = '\0';
		printf("%s{\"address\":%" PRIu64 ",\"size\":%" PRIu64
		    ",\"sampled\":%s,\"zone\":%s,\"thread\":%u,"
		    "\"site\":%" PRIu64 ",\"name\":", i > 0 ? "," : "",
		    o->umo_addr, o->umo_bytes,
		    o->umo_flags & UMA_MEMGUARD_OBJECT_SAMPLED ? "true" :
		    "false", o->umo_flags & UMA_MEMGUARD_OBJECT_ZONE ? "true" :
		    "false", o->umo_tid, o->umo_site);
		json_string(stdout, name);
		printf("}");
	}
	printf("]}}\n");
}

static void
mg_prom(const struct mg_view *v)
{
	struct prom_out po = { .po_f = stdout };
	char name[64], help[160];

	for (size_t i = 0; i < MG_NCOUNTERS; i++) {
		snprintf(name, sizeof(name), "uma_memguard_%s%s", mg_names[i],
		    mg_is_counter(i) ? "_total" : "");
		snprintf(help, sizeof(help), "MemGuard: %s.", mg_descrs[i]);
		prom_family(&po, name, mg_is_counter(i) ? "counter" : "gauge",
		    help);
		prom_sample(&po, name, "", NULL, NULL, v->c[i]);
	}
	prom_family(&po, "uma_memguard_frequency", "gauge",
	    "MemGuard: allocations in 100000 it guards (vm.memguard.frequency).");
	prom_sample(&po, "uma_memguard_frequency", "", NULL, NULL,
	    (uint64_t)v->frequency);
	prom_family(&po, "uma_memguard_arena_bytes", "gauge",
	    "MemGuard's arena (0 until it starts).");
	prom_sample(&po, "uma_memguard_arena_bytes", "", NULL, NULL,
	    v->mapstart != 0 ? v->mapsize : 0);
}

int
memguard_show(const struct umastat_opts *uo)
{
	struct mg_view v;

	if (mg_read(uo->uo_src, &v) != 0)
		return (1);
	if (uo->uo_format == OUT_JSON)
		mg_json(&v);
	else if (uo->uo_format == OUT_PROM)
		mg_prom(&v);
	else
		mg_text(&v, uo);
	memcpy(prev, v.c, sizeof(prev));
	have_prev = 1;
	free(v.objs);
	return (0);
}
