/*
 * mbuf.c - `umastat -n`: FreeBSD's netstat -m lines from the mbuf zones
 * and the mbuf_tag malloc type.  Snapshots are not consistent across
 * zones, so every difference is clamped at 0 rather than wrapped (bug 2).
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

int
mbuf_show(struct memory_type_list *list, const struct umastat_opts *uo)
{
	static const char *const names[] = { "mbuf", "mbuf_packet",
	    "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k",
	    "mbuf_jumbo_16k" };
	struct mbzone z[6], *mb = &z[0], *pk = &z[1], *cl = &z[2];
	struct memory_type *tag;
	uint64_t tag_bytes, cur, cache;
	char page[32];

	for (int i = 0; i < 6; i++)
		if (mbzone_get(list, names[i], &z[i]) != 0) {
			fprintf(stderr, "umastat: zone %s not found: this "
			    "process has no mbuf allocator\n", names[i]);
			return (1);
		}
	tag = memstat_mtl_find(list, ALLOCATOR_MALLOC, "mbuf_tag");
	tag_bytes = tag != NULL ? memstat_get_bytes(tag) : 0;

	printf("%ju/%ju/%ju mbufs in use (current/cache/total)\n",
	    (uintmax_t)(mb->count + pk->count), (uintmax_t)(mb->free +
	    pk->free), (uintmax_t)(mb->count + pk->count + mb->free +
	    pk->free));
	printf("%ju/%ju/%ju/%ju mbuf clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)sub0(cl->count,
	    pk->free), (uintmax_t)(cl->free + pk->free),
	    (uintmax_t)(cl->count + cl->free), (uintmax_t)cl->limit);
	printf("%ju/%ju mbuf+clusters out of packet secondary zone in use "
	    "(current/cache)\n", (uintmax_t)pk->count, (uintmax_t)pk->free);
	snprintf(page, sizeof(page), "%juk (page size)",
	    (uintmax_t)(z[3].size / 1024));
	mbuf_jumbo(&z[3], page);
	mbuf_jumbo(&z[4], "9k");
	mbuf_jumbo(&z[5], "16k");

	cur = mb->bytes + pk->bytes + pk->count * cl->size +
	    sub0(cl->count, pk->count + pk->free) * cl->size + tag_bytes;
	cache = mb->free * mb->size + pk->free * (mb->size + cl->size) +
	    cl->free * cl->size;
	for (int i = 3; i < 6; i++) {
		cur += z[i].count * z[i].size;
		cache += z[i].free * z[i].size;
	}
	printf("%juK/%juK/%juK bytes allocated to network "
	    "(current/cache/total)\n", (uintmax_t)(cur / 1024),
	    (uintmax_t)(cache / 1024), (uintmax_t)((cur + cache) / 1024));
	printf("%ju/%ju/%ju requests for mbufs denied "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb->failures,
	    (uintmax_t)cl->failures, (uintmax_t)pk->failures);
	printf("%ju/%ju/%ju requests for mbufs delayed "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb->sleeps,
	    (uintmax_t)cl->sleeps, (uintmax_t)pk->sleeps);
	printf("%ju/%ju/%ju requests for jumbo clusters delayed "
	    "(4k/9k/16k)\n", (uintmax_t)z[3].sleeps, (uintmax_t)z[4].sleeps,
	    (uintmax_t)z[5].sleeps);
	printf("%ju/%ju/%ju requests for jumbo clusters denied "
	    "(4k/9k/16k)\n", (uintmax_t)z[3].failures,
	    (uintmax_t)z[4].failures, (uintmax_t)z[5].failures);
	(void)uo;
	return (0);
}
