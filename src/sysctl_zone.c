/*
 * sysctl_zone.c - the vm.uma.<zone>.* subtree, generated from the zone
 * list at each request, so that creating or destroying a zone registers
 * nothing.
 *
 * Layer: sysctl; reads zones only through stats.h, under the zone list's
 * read lock (uma__zone_foreach), and writes only through uma.h
 * (uma_zone_set_max).  A zone's node name is its name with every
 * character other than [A-Za-z0-9_] made '_' (FreeBSD mangles ". / \ -"
 * and space); the k-th later zone with the same mangled name gets "_k".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "sysctl_int.h"
#include "uma_int.h"

#define	CTLNAME_MAX	128	/* mangled zone name, "_k" included */

/*
 * The leaves of one zone: X(id, leaf, type, access, value, description),
 * value an expression of `zs` (struct uma__zone_stat *).  A new leaf is
 * one line here.
 */
#define	UMA_ZONE_LEAVES(X)						\
	X(size, "size", INT, RD, zs->zs_size, "Allocation size")	\
	X(flags, "flags", INT, RD, zs->zs_flags,			\
	    "Zone creation flags (UMA_ZONE_*)")				\
	X(bucket_size, "bucket_size", INT, RD, zs->zs_bucket_size,	\
	    "Current per-CPU bucket size")				\
	X(keg_name, "keg.name", STRING, RD, zs->zs_keg_name,		\
	    "Keg name (the primary zone's)")				\
	X(keg_rsize, "keg.rsize", INT, RD, zs->zs_rsize,		\
	    "Real object size with alignment")				\
	X(keg_ppera, "keg.ppera", INT, RD, zs->zs_ppera,		\
	    "Pages per slab")						\
	X(keg_ipers, "keg.ipers", INT, RD, zs->zs_ipers,		\
	    "Items per slab")						\
	X(keg_align, "keg.align", INT, RD, zs->zs_align,		\
	    "Item alignment mask")					\
	X(keg_efficiency, "keg.efficiency", INT, RD, zs->zs_efficiency, \
	    "Slab utilization (100 - internal fragmentation %)")	\
	X(keg_pages, "keg.pages", U64, RD, zs->zs_pages,		\
	    "Pages held by the keg")					\
	X(keg_free_items, "keg.free_items", U64, RD, zs->zs_keg_free,	\
	    "Free items in the keg's slabs")				\
	X(keg_free_slabs, "keg.free_slabs", U64, RD,			\
	    zs->zs_keg_free_slabs, "Unused slabs")			\
	X(limit_max_items, "limit.max_items", U64, RW, zs->zs_limit,	\
	    "Maximum items (allocated and cached); 0: no limit")	\
	X(limit_items, "limit.items", U64, RD, zs->zs_items,		\
	    "Items counted against the limit")				\
	X(limit_sleepers, "limit.sleepers", U64, RD, zs->zs_sleepers,	\
	    "Threads sleeping at the limit")				\
	X(limit_sleeps, "limit.sleeps", U64, RD, zs->zs_sleeps,	\
	    "Total sleeps at the limit")				\
	X(stats_current, "stats.current", U64, RD,			\
	    zs->zs_allocs > zs->zs_frees ? zs->zs_allocs - zs->zs_frees : 0, \
	    "Items allocated and not freed")				\
	X(stats_allocs, "stats.allocs", U64, RD, zs->zs_allocs,	\
	    "Allocations")						\
	X(stats_frees, "stats.frees", U64, RD, zs->zs_frees, "Frees")	\
	X(stats_fails, "stats.fails", U64, RD, zs->zs_fails,		\
	    "Failed allocations")					\
	X(stats_sleeps, "stats.sleeps", U64, RD, zs->zs_sleeps,	\
	    "Sleeps at the limit")

enum zone_leaf_id {
#define	X(id, leaf, type, access, value, descr)	LEAF_##id,
	UMA_ZONE_LEAVES(X)
#undef X
	LEAF_COUNT
};

static const struct zone_leaf {
	const char	*zl_name;
	int		 zl_type;
	int		 zl_flags;
	const char	*zl_descr;
} zone_leaves[] = {
#define	X(id, leaf, type, access, value, descr)				\
	{ leaf, UMA_CTLTYPE_##type, UMA_CTLFLAG_##access, descr },
	UMA_ZONE_LEAVES(X)
#undef X
};

/* Put leaf i of the zone whose snapshot is *zs out to req. */
static int
zone_leaf_out(int i, const struct uma__zone_stat *zs,
    struct uma__sysctl_req *req)
{
	uint64_t u = 0;
	const char *s = NULL;
	int v;

	switch (i) {
#define	X(id, leaf, type, access, value, descr)				\
	case LEAF_##id:							\
		s = _Generic((value), const char *: (value), char *: (value), \
		    default: NULL);					\
		u = _Generic((value), const char *: 0, char *: 0,	\
		    default: (value));					\
		break;
	UMA_ZONE_LEAVES(X)
#undef X
	}
	switch (zone_leaves[i].zl_type) {
	case UMA_CTLTYPE_STRING:
		return (uma__sysctl_out(req, s, strlen(s) + 1));
	case UMA_CTLTYPE_INT:
		v = u > INT_MAX ? INT_MAX : (int)u;
		return (uma__sysctl_out(req, &v, sizeof(v)));
	default:
		return (uma__sysctl_out(req, &u, sizeof(u)));
	}
}

/* Set leaf i of `zone` from req (the writable leaves only). */
static int
zone_leaf_set(int i, uma_zone_t zone, struct uma__sysctl_req *req)
{
	uint64_t v;

	if (i != LEAF_limit_max_items || req->newlen != sizeof(v))
		return (EINVAL);
	memcpy(&v, req->newp, sizeof(v));
	if (v > INT_MAX)
		return (EINVAL);
	uma_zone_set_max(zone, (int)v);
	return (0);
}

/* The mangled name of a zone; returns its length. */
static size_t
zone_mangle(const char *name, char *buf, size_t size)
{
	size_t n;
	char c;

	for (n = 0; name[n] != '\0' && n < size - 8; n++) {
		c = name[n];
		buf[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' ? c : '_';
	}
	buf[n] = '\0';
	return (n);
}

struct zone_req {
	const char	*zr_target;	/* the zone's node name */
	size_t		 zr_tlen;
	size_t		 zr_blen;	/* "base_k": length of base, or 0 */
	unsigned long	 zr_k;
	unsigned long	 zr_seen_t;	/* zones mangled to the target */
	unsigned long	 zr_seen_b;	/* zones mangled to the base */
	uma_zone_t	 zr_zone;
	int		 zr_leaf;
	int		 zr_error;
	struct uma__sysctl_req *zr_req;
};

static int
zone_req_one(uma_zone_t zone, void *arg)
{
	struct zone_req *zr = arg;
	struct uma__zone_stat zs;
	char m[CTLNAME_MAX];
	size_t len = zone_mangle(zone->uz_name, m, sizeof(m));
	bool match = false;

	if (len == zr->zr_tlen && memcmp(m, zr->zr_target, len) == 0)
		match = zr->zr_seen_t++ == 0;
	if (!match && len == zr->zr_blen && memcmp(m, zr->zr_target, len) == 0)
		match = zr->zr_seen_b++ == zr->zr_k;
	if (!match)
		return (0);
	zr->zr_req->type = zone_leaves[zr->zr_leaf].zl_type;
	zr->zr_error = 0;
	if (zr->zr_req->newp != NULL) {
		if (!(zone_leaves[zr->zr_leaf].zl_flags & UMA_CTLFLAG_WR))
			zr->zr_error = EPERM;
		else if (zr->zr_req->newlen != sizeof(uint64_t))
			zr->zr_error = EINVAL;
		if (zr->zr_error != 0)
			return (1);
	}
	uma__zone_stat(zone, &zs, NULL, 0);
	zr->zr_error = zone_leaf_out(zr->zr_leaf, &zs, zr->zr_req);
	if (zr->zr_error == 0 && zr->zr_req->newp != NULL)
		zr->zr_error = zone_leaf_set(zr->zr_leaf, zone, zr->zr_req);
	return (1);
}

/* See stats.h */
int
uma__zone_sysctl_req(const char *rest, struct uma__sysctl_req *req)
{
	struct zone_req zr = { .zr_target = rest, .zr_req = req,
	    .zr_leaf = -1, .zr_error = ENOENT };
	const char *dot = strchr(rest, '.'), *us;
	char *end;

	if (dot == NULL || dot == rest)
		return (ENOENT);
	for (int i = 0; i < LEAF_COUNT; i++)
		if (strcmp(dot + 1, zone_leaves[i].zl_name) == 0)
			zr.zr_leaf = i;
	if (zr.zr_leaf < 0)
		return (ENOENT);
	zr.zr_tlen = (size_t)(dot - rest);
	for (us = dot - 1; us > rest && *us >= '0' && *us <= '9'; us--)
		;
	if (*us == '_' && us + 1 < dot && us[1] != '0') {
		zr.zr_k = strtoul(us + 1, &end, 10);
		if (end == dot && zr.zr_k > 0)
			zr.zr_blen = (size_t)(us - rest);
	}
	uma__zone_foreach(zone_req_one, &zr, 1);
	return (zr.zr_error);
}

/*
 * Listing calls the caller's function, which may allocate: under the
 * preload its malloc may make a class zone, whose creation takes the
 * zone list's lock for writing.  So names are gathered under the lock a
 * batch at a time and handed out after it is dropped (a program running
 * `umastat sysctl` on itself, preloaded, hung here).  A zone made or
 * destroyed between batches may shift the rest by one.
 */
#define	ZONE_LIST_BATCH	8

struct zone_list {
	uma_zone_t	 zl_first;
	unsigned long	 zl_skip;	/* zones listed by earlier batches */
	unsigned long	 zl_seen;
	int		 zl_n;
	char		 zl_names[ZONE_LIST_BATCH][CTLNAME_MAX + 24];
};

/* How many zones before `zone` mangle to the same name. */
static unsigned long
zone_dup_index(uma_zone_t first, uma_zone_t zone, const char *m)
{
	char m2[CTLNAME_MAX];
	unsigned long k = 0;

	for (uma_zone_t z = first; z != zone; z = TAILQ_NEXT(z, uz_all)) {
		zone_mangle(z->uz_name, m2, sizeof(m2));
		if (strcmp(m, m2) == 0)
			k++;
	}
	return (k);
}

static int
zone_list_one(uma_zone_t zone, void *arg)
{
	struct zone_list *zl = arg;
	char m[CTLNAME_MAX];
	unsigned long k;

	if (zl->zl_first == NULL)
		zl->zl_first = zone;
	if (zl->zl_seen++ < zl->zl_skip)
		return (0);
	zone_mangle(zone->uz_name, m, sizeof(m));
	k = zone_dup_index(zl->zl_first, zone, m);
	snprintf(zl->zl_names[zl->zl_n], sizeof(zl->zl_names[0]),
	    k > 0 ? "%s_%lu" : "%s", m, k);
	return (++zl->zl_n == ZONE_LIST_BATCH);
}

/* See stats.h */
int
uma__zone_sysctl_list(int (*fn)(const struct uma_sysctl_info *, void *),
    void *arg)
{
	struct uma_sysctl_info info;
	char name[CTLNAME_MAX + 64];
	struct zone_list zl;
	int error;

	zl.zl_skip = 0;
	do {
		zl.zl_first = NULL;
		zl.zl_seen = 0;
		zl.zl_n = 0;
		uma__zone_foreach(zone_list_one, &zl, 1);
		for (int z = 0; z < zl.zl_n; z++)
			for (int i = 0; i < LEAF_COUNT; i++) {
				snprintf(name, sizeof(name), "vm.uma.%s.%s",
				    zl.zl_names[z], zone_leaves[i].zl_name);
				info = (struct uma_sysctl_info){ name,
				    zone_leaves[i].zl_type,
				    zone_leaves[i].zl_flags,
				    zone_leaves[i].zl_descr, NULL };
				if ((error = fn(&info, arg)) != 0)
					return (error);
			}
		zl.zl_skip += (unsigned long)zl.zl_n;
	} while (zl.zl_n == ZONE_LIST_BATCH);
	return (0);
}
