/*
 * mbuf_packet.c - the packet zone: clusters cached with their mbufs in
 * "mbuf_packet" are "cache", not "current", by netstat -m's rules
 * (reference section 5.3), and a drain gives them back to "mbuf_cluster".
 */
#include <stdbool.h>

#include "mbuf_test.h"
#include "memguard_test.h"

#define	BURST	1000

/* netstat -m's cluster and mbuf lines, from the zones' statistics. */
struct netstat_m {
	uint64_t	mbuf_current, mbuf_cache;
	uint64_t	clust_current, clust_cache, clust_total;
	uint64_t	packet_current, packet_cache;
};

static uint64_t
zs_count(const struct uma__zone_stat *zs)
{
	return (zs->zs_allocs > zs->zs_frees ? zs->zs_allocs - zs->zs_frees :
	    0);
}

/* libmemstat's "free": caches, plus the keg's free items on a primary. */
static uint64_t
zs_free(const struct uma__zone_stat *zs)
{
	return (zs->zs_zone_free + zs->zs_cpu_free +
	    (zs->zs_secondary ? 0 : zs->zs_keg_free));
}

static struct netstat_m
netstat_m(void)
{
	struct uma__zone_stat mb = mbt_stat(MBUF_MEM_NAME);
	struct uma__zone_stat pk = mbt_stat(MBUF_PACKET_MEM_NAME);
	struct uma__zone_stat cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);
	struct netstat_m n;
	uint64_t packet_free = zs_free(&pk);

	n.mbuf_current = zs_count(&mb) + zs_count(&pk);
	n.mbuf_cache = zs_free(&mb) + packet_free;
	n.clust_current = zs_count(&cl) >= packet_free ?
	    zs_count(&cl) - packet_free : 0;
	n.clust_cache = zs_free(&cl) + packet_free;
	n.clust_total = zs_count(&cl) + zs_free(&cl);
	n.packet_current = zs_count(&pk);
	n.packet_cache = packet_free;
	return (n);
}

UMA_TEST(mbuf_packet_zone_clusters_are_cache_not_current)
{
	static struct mbuf *m[BURST];
	struct netstat_m n;

	for (int i = 0; i < BURST; i++) {
		m[i] = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
		CHECK(m[i] != NULL && m[i]->m_ext.ext_type == EXT_PACKET);
	}
	n = netstat_m();
	CHECK_EQ(n.packet_current, BURST);
	CHECK_EQ(n.clust_current, BURST);
	CHECK_EQ(n.mbuf_current, BURST);
	for (int i = 0; i < BURST; i++)
		m_freem(m[i]);
	n = netstat_m();
	CHECK_EQ(n.mbuf_current, 0);
	CHECK_EQ(n.packet_current, 0);
	CHECK_EQ(n.clust_current, 0);
	CHECK(n.packet_cache > 0);
	CHECK(n.clust_cache >= n.packet_cache);
	/* The cluster zone itself counts every cached packet's cluster. */
	{
		struct uma__zone_stat cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);

		CHECK_EQ(zs_count(&cl), n.packet_cache);
	}
	/* A drain runs the zone fini: clusters go back to their zone. */
	uma_zone_reclaim(mbuf_zone(MBUF_PACKET_MEM_NAME), UMA_RECLAIM_DRAIN);
	n = netstat_m();
	CHECK_EQ(n.packet_cache, 0);
	CHECK_EQ(n.clust_current, 0);
	{
		struct uma__zone_stat cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);

		CHECK_EQ(zs_count(&cl), 0);
		CHECK(zs_free(&cl) > 0);
	}
}

UMA_TEST(mbuf_packet_shared_cluster_returns_to_packet_zone)
{
	struct uma__zone_stat pk0, pk1;
	struct mbuf *m, *c;
	char *buf;

	/*
	 * Getting the same cluster back is this CPU's cache handing back
	 * what it took last: no MemGuard sample (the suite runs this file
	 * with 1% of objects guarded, and a guarded one goes past the
	 * cache) and no move to another CPU in between.
	 */
	memguard_off();
	test_pin_one_cpu();
	m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	buf = m->m_ext.ext_buf;
	m->m_len = m->m_pkthdr.len = 1000;
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	CHECK_EQ(m_extrefcnt(m), 2);
	pk0 = mbt_stat(MBUF_PACKET_MEM_NAME);
	/* The owner is freed first: it stays until the copy goes. */
	m_freem(m);
	pk1 = mbt_stat(MBUF_PACKET_MEM_NAME);
	CHECK_EQ(pk1.zs_frees, pk0.zs_frees);
	CHECK_EQ(m_extrefcnt(c), 1);
	m_freem(c);
	pk1 = mbt_stat(MBUF_PACKET_MEM_NAME);
	CHECK_EQ(pk1.zs_frees, pk0.zs_frees + 1);
	/* Back in the cache with its cluster, count reset to 1. */
	m = m_getcl(M_WAITOK, MT_DATA, 0);
	CHECK(m->m_ext.ext_buf == buf);
	CHECK_EQ(m_extrefcnt(m), 1);
	CHECK(m->m_ext.ext_flags & EXT_FLAG_EMBREF);
	m_freem(m);
}

/* Dirty every packet header field, as a driver and a protocol would. */
static void
pkthdr_dirty(struct mbuf *m)
{
	memset(&m->m_pkthdr, 0xa5, sizeof(m->m_pkthdr));
	m->m_pkthdr.tags.slh_first = NULL;
}

static bool
pkthdr_is_zero(const struct mbuf *m)
{
	static const struct pkthdr zero;

	return (memcmp(&m->m_pkthdr, &zero, sizeof(zero)) == 0);
}

/*
 * m_getcl(M_PKTHDR) hands out a zeroed packet header whichever way the
 * item came back to the packet zone: the hit path of m_freem, the zone's
 * dtor (last reference dropped by a copy), a non-header use, or a trip
 * through the keg (drain, then a fresh zone init).
 */
UMA_TEST(mbuf_packet_header_is_zero_however_the_item_came_back)
{
	struct mbuf *m, *c;

	test_pin_one_cpu();
	for (int way = 0; way < 4; way++) {
		m = m_getcl(M_WAITOK, MT_DATA, way == 2 ? 0 : M_PKTHDR);
		CHECK(m != NULL);
		pkthdr_dirty(m);
		if (way == 1) {
			m->m_len = 100;
			m->m_pkthdr.len = 100;
			c = m_copym(m, 0, M_COPYALL, M_WAITOK);
			m_freem(m);
			m_freem(c);	/* the zone's dtor takes it back */
		} else
			m_freem(m);
		if (way == 3)
			uma_zone_reclaim(mbuf_zone(MBUF_PACKET_MEM_NAME),
			    UMA_RECLAIM_DRAIN);
		m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
		CHECK(m != NULL);
		CHECK(pkthdr_is_zero(m));
		CHECK(m->m_data == m->m_ext.ext_buf && m->m_len == 0);
		CHECK_EQ(m->m_flags, M_EXT | M_PKTHDR);
		CHECK_EQ(m->m_type, MT_DATA);
		m_freem(m);
	}
}
