/*
 * mbuf.c - `umastat -n`: FreeBSD's netstat -m lines from the mbuf zones
 * and the mbuf_tag malloc type, as text or as JSON with the names and in
 * the order of netstat's libxo output (usr.bin/netstat/mbuf.c, FreeBSD
 * 10 to 14), its quirks included: the page-size jumbo figures are
 * "jumbo-*" but their sleeps and failures "jumbop-*", and the 16k maximum
 * is "jumbo16-limit".  Snapshots are not consistent across zones, so
 * every difference is clamped at 0 rather than wrapped (bug 2).
 */
#include <inttypes.h>
#include <stdio.h>

#include "umastat.h"

struct mbzone {
	uint64_t	count, free, failures, sleeps, size, limit, bytes;
};

static int
mbzone_get(struct memory_type_list *list, const char *name, struct mbzone *z)
{
	struct memory_type *mtp = memstat_mtl_find(list, ALLOCATOR_UMA, name);

	if (mtp == NULL)
		return (-1);
	z->count = memstat_get_count(mtp);
	z->free = memstat_get_free(mtp);
	z->failures = memstat_get_failures(mtp);
	z->sleeps = memstat_get_sleeps(mtp);
	z->size = memstat_get_size(mtp);
	z->limit = memstat_get_countlimit(mtp);
	z->bytes = memstat_get_bytes(mtp);
	return (0);
}

/* a - b, or 0 when a snapshot skew would make it negative. */
static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : 0);
}

static void
mbuf_jumbo(const struct mbzone *j, const char *what)
{
	printf("%ju/%ju/%ju/%ju %s jumbo clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)j->count,
	    (uintmax_t)j->free, (uintmax_t)(j->count + j->free),
	    (uintmax_t)j->limit, what);
}

/* The numbers netstat -m prints, by their libxo names. */
struct mbstat {
	uint64_t	mb_cur, mb_cache, cl_cur, cl_cache, cl_total;
	uint64_t	bytes_cur, bytes_cache;
};

static void
mbuf_text(const struct mbzone *z, const struct mbstat *s)
{
	const struct mbzone *mb = &z[0], *pk = &z[1], *cl = &z[2];
	char page[32];

	printf("%ju/%ju/%ju mbufs in use (current/cache/total)\n",
	    (uintmax_t)s->mb_cur, (uintmax_t)s->mb_cache,
	    (uintmax_t)(s->mb_cur + s->mb_cache));
	printf("%ju/%ju/%ju/%ju mbuf clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)s->cl_cur,
	    (uintmax_t)s->cl_cache, (uintmax_t)s->cl_total,
	    (uintmax_t)cl->limit);
	printf("%ju/%ju mbuf+clusters out of packet secondary zone in use "
	    "(current/cache)\n", (uintmax_t)pk->count, (uintmax_t)pk->free);
	snprintf(page, sizeof(page), "%juk (page size)",
	    (uintmax_t)(z[3].size / 1024));
	mbuf_jumbo(&z[3], page);
	mbuf_jumbo(&z[4], "9k");
	mbuf_jumbo(&z[5], "16k");
	printf("%juK/%juK/%juK bytes allocated to network "
	    "(current/cache/total)\n", (uintmax_t)(s->bytes_cur / 1024),
	    (uintmax_t)(s->bytes_cache / 1024),
	    (uintmax_t)((s->bytes_cur + s->bytes_cache) / 1024));
	printf("%ju/%ju/%ju requests for mbufs denied "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb->failures,
	    (uintmax_t)cl->failures, (uintmax_t)pk->failures);
	printf("%ju/%ju/%ju requests for mbufs delayed "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb->sleeps,
	    (uintmax_t)cl->sleeps, (uintmax_t)pk->sleeps);
	printf("%ju/%ju/%ju requests for jumbo clusters delayed "
	    "(%juk/9k/16k)\n", (uintmax_t)z[3].sleeps, (uintmax_t)z[4].sleeps,
	    (uintmax_t)z[5].sleeps, (uintmax_t)(z[3].size / 1024));
	printf("%ju/%ju/%ju requests for jumbo clusters denied "
	    "(%juk/9k/16k)\n", (uintmax_t)z[3].failures,
	    (uintmax_t)z[4].failures, (uintmax_t)z[5].failures,
	    (uintmax_t)(z[3].size / 1024));
}

/* The same numbers as FreeBSD's `netstat -m --libxo json` names them. */
static void
mbuf_json(const struct mbzone *z, const struct mbstat *s)
{
	static const char *const jumbo[3] = { "jumbo", "jumbo9", "jumbo16" };
	static const char *const jmax[3] = { "max", "max", "limit" };
	const struct mbzone *mb = &z[0], *pk = &z[1], *cl = &z[2];

	printf("{\"mbuf-statistics\":{\"mbuf-current\":%" PRIu64
	    ",\"mbuf-cache\":%" PRIu64 ",\"mbuf-total\":%" PRIu64
	    ",\"cluster-current\":%" PRIu64 ",\"cluster-cache\":%" PRIu64
	    ",\"cluster-total\":%" PRIu64 ",\"cluster-max\":%" PRIu64
	    ",\"packet-count\":%" PRIu64 ",\"packet-free\":%" PRIu64,
	    s->mb_cur, s->mb_cache, s->mb_cur + s->mb_cache, s->cl_cur,
	    s->cl_cache, s->cl_total, cl->limit, pk->count, pk->free);
	for (int i = 0; i < 3; i++) {
		printf(",\"%s-count\":%" PRIu64 ",\"%s-cache\":%" PRIu64
		    ",\"%s-total\":%" PRIu64 ",\"%s-%s\":%" PRIu64,
		    jumbo[i], z[3 + i].count, jumbo[i], z[3 + i].free,
		    jumbo[i], z[3 + i].count + z[3 + i].free, jumbo[i], jmax[i],
		    z[3 + i].limit);
		if (i == 0)
			printf(",\"jumbo-page-size\":%" PRIu64,
			    z[3].size / 1024);
	}
	printf(",\"bytes-in-use\":%" PRIu64 ",\"bytes-in-cache\":%" PRIu64
	    ",\"bytes-total\":%" PRIu64
	    ",\"mbuf-failures\":%" PRIu64 ",\"cluster-failures\":%" PRIu64
	    ",\"packet-failures\":%" PRIu64 ",\"mbuf-sleeps\":%" PRIu64
	    ",\"cluster-sleeps\":%" PRIu64 ",\"packet-sleeps\":%" PRIu64
	    ",\"jumbop-sleeps\":%" PRIu64 ",\"jumbo9-sleeps\":%" PRIu64
	    ",\"jumbo16-sleeps\":%" PRIu64 ",\"jumbop-failures\":%" PRIu64
	    ",\"jumbo9-failures\":%" PRIu64 ",\"jumbo16-failures\":%" PRIu64
	    "}}\n", s->bytes_cur / 1024, s->bytes_cache / 1024,
	    (s->bytes_cur + s->bytes_cache) / 1024, mb->failures,
	    cl->failures, pk->failures, mb->sleeps, cl->sleeps, pk->sleeps,
	    z[3].sleeps, z[4].sleeps, z[5].sleeps, z[3].failures,
	    z[4].failures, z[5].failures);
}

/* netstat -m's figures of a list: 0, or -1 (and *missing) without mbufs. */
static int
mbuf_stat(struct memory_type_list *list, struct mbzone *z, struct mbstat *s,
    const char **missing)
{
	static const char *const names[] = { "mbuf", "mbuf_packet",
	    "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k",
	    "mbuf_jumbo_16k" };
	struct mbzone *mb = &z[0], *pk = &z[1], *cl = &z[2];
	struct memory_type *tag;

	for (int i = 0; i < 6; i++)
		if (mbzone_get(list, names[i], &z[i]) != 0) {
			*missing = names[i];
			return (-1);
		}
	tag = memstat_mtl_find(list, ALLOCATOR_MALLOC, "mbuf_tag");

	s->mb_cur = mb->count + pk->count;
	s->mb_cache = mb->free + pk->free;
	s->cl_cur = sub0(cl->count, pk->free);
	s->cl_cache = cl->free + pk->free;
	s->cl_total = cl->count + cl->free;
	s->bytes_cur = mb->bytes + pk->bytes + pk->count * cl->size +
	    sub0(cl->count, pk->count + pk->free) * cl->size +
	    (tag != NULL ? memstat_get_bytes(tag) : 0);
	s->bytes_cache = mb->free * mb->size + pk->free * (mb->size +
	    cl->size) + cl->free * cl->size;
	for (int i = 3; i < 6; i++) {
		s->bytes_cur += z[i].count * z[i].size;
		s->bytes_cache += z[i].free * z[i].size;
	}
	return (0);
}

/* netstat -m's mbufs, clusters and bytes, in use and cached. */
void
mbuf_prom(const struct prom_out *po, const struct prom_target *t, size_t nt)
{
	static const char *const names[] = { "uma_mbufs", "uma_mbuf_clusters",
	    "uma_mbuf_bytes" };
	static const char *const help[] = {
	    "Mbufs (with or without a cluster), as netstat -m counts them.",
	    "Mbuf clusters, as netstat -m counts them.",
	    "Bytes allocated to network, as netstat -m counts them." };
	struct mbzone z[6];
	struct mbstat s;
	const char *missing;

	for (int f = 0; f < 3; f++) {
		prom_family(po, names[f], "gauge", help[f]);
		for (size_t i = 0; i < nt; i++) {
			uint64_t v[2];

			if (mbuf_stat(t[i].pt_list, z, &s, &missing) != 0)
				continue;
			v[0] = f == 0 ? s.mb_cur : f == 1 ? s.cl_cur :
			    s.bytes_cur;
			v[1] = f == 0 ? s.mb_cache : f == 1 ? s.cl_cache :
			    s.bytes_cache;
			prom_sample(po, names[f], t[i].pt_labels, "state",
			    "in_use", v[0]);
			prom_sample(po, names[f], t[i].pt_labels, "state",
			    "cache", v[1]);
		}
	}
}

int
mbuf_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	struct mbzone z[6];
	struct mbstat s;
	const char *missing;

	if (mbuf_stat(list, z, &s, &missing) != 0) {
		fprintf(stderr, "umastat: zone %s not found: this "
		    "process has no mbuf allocator\n", missing);
		return (1);
	}
	if (uo->uo_format == OUT_JSON)
		mbuf_json(z, &s);
	else if (uo->uo_format == OUT_PROM)
		prom_show(list, mbuf_prom);
	else
		mbuf_text(z, &s);
	return (0);
}
