/*
 * mbuf_test.h - helpers the mbuf tests share: pattern-filled chains and
 * the per-zone "items with users" snapshot (allocs - frees, exact once
 * quiet) that every test compares before and after.
 */
#ifndef _UMA_TEST_MBUF_H_
#define	_UMA_TEST_MBUF_H_

#include <string.h>

#include <uma/mbuf.h>

#include "harness.h"
#include "stats.h"

static const char *const mbt_zone_names[] = {
	MBUF_MEM_NAME, MBUF_PACKET_MEM_NAME, MBUF_CLUSTER_MEM_NAME,
	MBUF_JUMBOP_MEM_NAME, MBUF_JUMBO9_MEM_NAME, MBUF_JUMBO16_MEM_NAME,
};
#define	MBT_NZONES	6

/*
 * Items with users per zone.  Clusters cached in the packet zone (with
 * their mbufs) count as used in the cluster zone: netstat -m moves them to
 * "cache", and so does this snapshot.
 */
struct mbt_snap {
	int64_t	used[MBT_NZONES];
};

static inline struct uma__zone_stat
mbt_stat(const char *name)
{
	struct uma__zone_stat zs;

	uma__zone_stat(mbuf_zone(name), &zs, NULL, 0);
	return (zs);
}

static inline void
mbt_snap(struct mbt_snap *s)
{
	struct uma__zone_stat pack = mbt_stat(MBUF_PACKET_MEM_NAME);

	for (int i = 0; i < MBT_NZONES; i++) {
		struct uma__zone_stat zs = mbt_stat(mbt_zone_names[i]);

		s->used[i] = (int64_t)(zs.zs_allocs - zs.zs_frees);
	}
	s->used[2] -= (int64_t)(pack.zs_zone_free + pack.zs_cpu_free);
}

/* Every zone has as many items with users as in `before`. */
static inline void
mbt_check_balanced(const struct mbt_snap *before)
{
	struct mbt_snap now;

	mbt_snap(&now);
	for (int i = 0; i < MBT_NZONES; i++) {
		if (now.used[i] != before->used[i])
			fprintf(stderr, "zone %s: %lld used, %lld before\n",
			    mbt_zone_names[i], (long long)now.used[i],
			    (long long)before->used[i]);
		CHECK_EQ(now.used[i], before->used[i]);
	}
}

static inline unsigned char
mbt_byte(int i)
{
	return ((unsigned char)(i * 7 + 3));
}

/*
 * A packet of n mbufs: lens[i] bytes in the i-th, in a cluster when
 * lens[i] does not fit in place.  Bytes follow mbt_byte(offset).
 */
static inline struct mbuf *
mbt_chain(const int *lens, int n)
{
	struct mbuf *top = NULL, **np = &top, *m;
	int off = 0;

	for (int i = 0; i < n; i++) {
		int room = i == 0 ? MHLEN : MLEN;

		if (lens[i] > room)
			m = m_getcl(M_WAITOK, MT_DATA, i == 0 ? M_PKTHDR : 0);
		else
			m = i == 0 ? m_gethdr(M_WAITOK, MT_DATA) :
			    m_get(M_WAITOK, MT_DATA);
		CHECK(m != NULL);
		for (int j = 0; j < lens[i]; j++)
			mtod(m, unsigned char *)[j] = mbt_byte(off + j);
		m->m_len = lens[i];
		off += lens[i];
		*np = m;
		np = &m->m_next;
	}
	top->m_pkthdr.len = off;
	return (top);
}

/* The chain holds len bytes of the pattern starting at `first`. */
static inline int
mbt_check_pattern(const struct mbuf *m, int first, int len)
{
	int off = 0;

	for (; m != NULL; m = m->m_next)
		for (int j = 0; j < m->m_len; j++, off++)
			if (mtod(m, unsigned char *)[j] !=
			    mbt_byte(first + off))
				return (0);
	return (off == len);
}

/* len contiguous bytes at p follow the pattern from `first`. */
static inline int
mbt_check_bytes(const void *p, int first, int len)
{
	const unsigned char *b = p;

	for (int i = 0; i < len; i++)
		if (b[i] != mbt_byte(first + i))
			return (0);
	return (1);
}

/* Fill len bytes at p with the pattern from `first`. */
static inline void
mbt_fill(void *p, int first, int len)
{
	unsigned char *b = p;

	for (int i = 0; i < len; i++)
		b[i] = mbt_byte(first + i);
}

/* Mbufs in the chain. */
static inline int
mbt_count(const struct mbuf *m)
{
	int n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return (n);
}

/*
 * Make zone `name` refuse new items from now on: the packet and cluster
 * zones' caches go back to their kegs (so no cached item can serve), and
 * the zone's limit becomes the items users hold, at least one: if none,
 * one is taken and returned for mbt_allow to give back.
 */
static inline void *
mbt_deny(const char *name)
{
	uma_zone_t zone = mbuf_zone(name);
	void *held = NULL;
	int cur;

	uma_zone_reclaim(mbuf_zone(MBUF_PACKET_MEM_NAME), UMA_RECLAIM_DRAIN);
	uma_zone_reclaim(mbuf_zone(MBUF_CLUSTER_MEM_NAME), UMA_RECLAIM_DRAIN);
	uma_zone_reclaim(zone, UMA_RECLAIM_DRAIN);
	cur = uma_zone_get_cur(zone);
	uma_zone_set_max(zone, cur > 0 ? cur : 1);
	if (cur == 0) {
		held = uma_zalloc(zone, M_NOWAIT);
		CHECK(held != NULL);
	}
	CHECK(uma_zalloc(zone, M_NOWAIT) == NULL);
	return (held);
}

/* Undo mbt_deny. */
static inline void
mbt_allow(const char *name, void *held)
{
	uma_zone_set_max(mbuf_zone(name), 0);
	if (held != NULL)
		uma_zfree(mbuf_zone(name), held);
}

#endif
