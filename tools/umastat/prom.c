/*
 * prom.c - Prometheus text exposition (format 0.0.4) and OpenMetrics 1.0
 * text, for --prometheus and the exporter.  Each family's HELP and TYPE
 * are written once and every target's samples follow, as both formats
 * require (a family split in two is an error to promtool and Prometheus).
 *
 * Names and labels come from the processes read, and a process of another
 * user is not to be trusted when root runs the exporter: a label value
 * that is not valid UTF-8 would make Prometheus reject the whole scrape,
 * so invalid bytes become U+FFFD here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umastat.h"

/* Caller slot that holds an entry's rank among entries of its name. */
#define	SLOT_DUP	14

/* Length of the valid UTF-8 sequence at s (not ASCII), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return (0);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return (0);
	return (n);
}

void
prom_label(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s != '\0') {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s++);
		else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if (*s < 0x80)
			fputc(*s++, f);
		else if ((n = utf8_len(s)) > 0) {
			fwrite(s, 1, n, f);
			s += n;
		} else {
			fputs("\xef\xbf\xbd", f);
			s++;
		}
	}
}

void
prom_family(const struct prom_out *po, const char *name, const char *type,
    const char *help)
{
	size_t len = strlen(name);

	/* OpenMetrics names a counter's family without its "_total". */
	if (po->po_openmetrics && strcmp(type, "counter") == 0 && len > 6 &&
	    strcmp(name + len - 6, "_total") == 0)
		len -= 6;
	fprintf(po->po_f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name,
	    help, (int)len, name, type);
}

/* `name{labels,key="value"}`, without the value. */
static void
prom_series(const struct prom_out *po, const char *name, const char *labels,
    const char *key, const char *value)
{
	FILE *f = po->po_f;

	fputs(name, f);
	if (*labels != '\0' || key != NULL) {
		fprintf(f, "{%s", labels);
		if (key != NULL) {
			fprintf(f, "%s%s=\"", *labels != '\0' ? "," : "", key);
			prom_label(f, value);
			fputc('"', f);
		}
		fputc('}', f);
	}
}

void
prom_sample(const struct prom_out *po, const char *name, const char *labels,
    const char *key, const char *value, uint64_t v)
{
	prom_series(po, name, labels, key, value);
	fprintf(po->po_f, " %" PRIu64 "\n", v);
}

void
prom_sample_signed(const struct prom_out *po, const char *name,
    const char *labels, const char *key, const char *value, int64_t v)
{
	prom_series(po, name, labels, key, value);
	fprintf(po->po_f, " %" PRId64 "\n", v);
}

char *
prom_labels(const char *labels, const char *key, const char *value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return (NULL);
	fprintf(f, "%s%s%s=\"", labels, *labels != '\0' ? "," : "", key);
	prom_label(f, value);
	fputc('"', f);
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

/* Rank each entry of `allocator` among the earlier ones of its name. */
static void
prom_dups(struct memory_type_list *list, int allocator)
{
	struct memory_type *m, *e;
	uint64_t dup;

	for (m = memstat_mtl_first(list); m != NULL; m = memstat_mtl_next(m)) {
		if (memstat_get_allocator(m) != allocator)
			continue;
		dup = 0;
		for (e = memstat_mtl_first(list); e != m;
		    e = memstat_mtl_next(e))
			if (memstat_get_allocator(e) == allocator &&
			    strcmp(memstat_get_name(e), memstat_get_name(m)) ==
			    0)
				dup++;
		memstat_set_caller_uint64(m, SLOT_DUP, dup);
	}
}

void
prom_types(const struct prom_out *po, const struct prom_metric *pm,
    size_t npm, int allocator, const char *key, const struct prom_target *t,
    size_t nt)
{
	struct memory_type *m;
	char name[MEMTYPE_MAXNAME + 24];
	uint64_t dup;

	for (size_t i = 0; i < nt; i++)
		prom_dups(t[i].pt_list, allocator);
	for (size_t i = 0; i < npm; i++) {
		prom_family(po, pm[i].pm_name, pm[i].pm_type, pm[i].pm_help);
		for (size_t j = 0; j < nt; j++)
			for (m = memstat_mtl_first(t[j].pt_list); m != NULL;
			    m = memstat_mtl_next(m)) {
				if (memstat_get_allocator(m) != allocator)
					continue;
				dup = memstat_get_caller_uint64(m, SLOT_DUP);
				if (dup > 0)
					snprintf(name, sizeof(name), "%s_%" PRIu64,
					    memstat_get_name(m), dup);
				else
					snprintf(name, sizeof(name), "%s",
					    memstat_get_name(m));
				prom_sample(po, pm[i].pm_name, t[j].pt_labels,
				    key, name, pm[i].pm_get(m));
			}
	}
}

void
prom_show(struct memory_type_list *list, prom_fn *fn)
{
	prom_show_kmem(list, NULL, fn);
}

void
prom_show_kmem(struct memory_type_list *list, struct memstat_kmem *k,
    prom_fn *fn)
{
	struct prom_out po = { .po_f = stdout };
	struct prom_target t = { .pt_list = list, .pt_kmem = k,
	    .pt_labels = "" };

	fn(&po, &t, 1);
}
