/*
 * mbuf_kpi.c - what each mbuf KPI function does to data, lengths, packet
 * headers and reference counts, and that every zone is balanced after.
 */
#include <errno.h>

#include "mbuf_test.h"

UMA_TEST(mbuf_layout_sizes)
{
	struct mbuf *m;

	CHECK(sizeof(struct mbuf) <= MSIZE);
	CHECK(MLEN > MHLEN && MHLEN >= 160);
	m = m_get(M_WAITOK, MT_DATA);
	CHECK(m != NULL && m->m_data == m->m_dat && m->m_len == 0);
	CHECK(m->m_type == MT_DATA && m->m_flags == 0 && m->m_next == NULL);
	CHECK(((uintptr_t)m & (MSIZE - 1)) == 0);
	CHECK_EQ(M_TRAILINGSPACE(m), MLEN);
	m_free(m);
	m = m_gethdr(M_WAITOK, MT_DATA);
	CHECK(m->m_data == m->m_pktdat && (m->m_flags & M_PKTHDR));
	CHECK(m->m_pkthdr.len == 0 && m_tag_first(m) == NULL);
	CHECK_EQ(M_TRAILINGSPACE(m), MHLEN);
	m_free(m);
}

UMA_TEST(mbuf_getcl_packet_zone_keeps_cluster)
{
	struct mbt_snap s;
	struct mbuf *m;
	char *buf;

	mbt_snap(&s);
	m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	CHECK((m->m_flags & (M_EXT | M_PKTHDR)) == (M_EXT | M_PKTHDR));
	CHECK_EQ(m->m_ext.ext_type, EXT_PACKET);
	CHECK_EQ(m->m_ext.ext_size, MCLBYTES);
	CHECK(m->m_data == m->m_ext.ext_buf);
	CHECK_EQ(m_extrefcnt(m), 1);
	CHECK(M_WRITABLE(m));
	CHECK_EQ(M_TRAILINGSPACE(m), MCLBYTES);
	buf = m->m_ext.ext_buf;
	m_freem(m);
	/* LIFO per-CPU cache: the same mbuf comes back, cluster attached. */
	m = m_getcl(M_WAITOK, MT_DATA, 0);
	CHECK(m->m_ext.ext_buf == buf && m->m_data == buf);
	CHECK(!(m->m_flags & M_PKTHDR));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_clget_jumbo_types)
{
	static const int sizes[] = { MCLBYTES, MJUMPAGESIZE, MJUM9BYTES,
	    MJUM16BYTES };
	static const int types[] = { EXT_PACKET, EXT_JUMBOP, EXT_JUMBO9,
	    EXT_JUMBO16 };
	struct mbt_snap s;
	struct mbuf *m;
	void *buf;

	mbt_snap(&s);
	for (int i = 0; i < 4; i++) {
		m = m_getjcl(M_WAITOK, MT_DATA, M_PKTHDR, sizes[i]);
		CHECK(m != NULL && (m->m_flags & M_EXT));
		CHECK_EQ(m->m_ext.ext_type, types[i]);
		CHECK_EQ(m->m_ext.ext_size, sizes[i]);
		CHECK_EQ(M_TRAILINGSPACE(m), sizes[i]);
		memset(m->m_data, 0xab, (size_t)sizes[i]);
		m_freem(m);
	}
	m = m_get(M_WAITOK, MT_DATA);
	CHECK_EQ(m_clget(m, M_WAITOK), M_EXT);
	CHECK_EQ(m->m_ext.ext_type, EXT_CLUSTER);
	CHECK(m->m_ext.ext_flags & EXT_FLAG_EMBREF);
	m_free(m);
	m = m_get(M_WAITOK, MT_DATA);
	CHECK(m_cljget(m, M_WAITOK, MJUM9BYTES) == m->m_ext.ext_buf);
	CHECK_EQ(m->m_ext.ext_type, EXT_JUMBO9);
	m_free(m);
	buf = m_cljget(NULL, M_WAITOK, MJUMPAGESIZE);
	CHECK(buf != NULL);
	uma_zfree(mbuf_zone(MBUF_JUMBOP_MEM_NAME), buf);
	CHECK(m_cljget(NULL, M_WAITOK, 1000) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_copym_shares_clusters_by_refcount)
{
	static const int lens[] = { 100, 1500, 60, 2000 };
	struct mbuf *m, *c, *c2;
	struct mbt_snap s;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	CHECK(c != NULL && (c->m_flags & M_PKTHDR));
	CHECK_EQ(c->m_pkthdr.len, 3660);
	CHECK(mbt_check_pattern(c, 0, 3660));
	/* Clusters are shared, small mbufs copied. */
	CHECK(c->m_data != m->m_data);
	CHECK(c->m_next->m_data == m->m_next->m_data);
	CHECK_EQ(m_extrefcnt(m->m_next), 2);
	CHECK_EQ(m_extrefcnt(c->m_next), 2);
	CHECK(!(c->m_next->m_ext.ext_flags & EXT_FLAG_EMBREF));
	CHECK(c->m_next->m_ext.ext_cnt == &m->m_next->m_ext.ext_count);
	CHECK(!M_WRITABLE(m->m_next) && !M_WRITABLE(c->m_next));
	CHECK_EQ(M_TRAILINGSPACE(m->m_next), 0);
	/* A copy of a copy counts on the owner's count. */
	c2 = m_copym(c, 150, 2000, M_WAITOK);
	CHECK(!(c2->m_flags & M_PKTHDR));
	CHECK_EQ(m_length(c2, NULL), 2000);
	CHECK(mbt_check_pattern(c2, 150, 2000));
	CHECK_EQ(m_extrefcnt(m->m_next), 3);
	CHECK_EQ(m_extrefcnt(m->m_next->m_next->m_next), 3);
	/* The owner goes first: the copies still read the data. */
	m_freem(m);
	CHECK_EQ(m_extrefcnt(c->m_next), 2);
	CHECK_EQ(m_extrefcnt(c->m_next->m_next->m_next), 2);
	CHECK(mbt_check_pattern(c, 0, 3660));
	m_freem(c);
	CHECK_EQ(m_extrefcnt(c2), 1);
	CHECK(M_WRITABLE(c2));
	CHECK(mbt_check_pattern(c2, 150, 2000));
	m_freem(c2);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_copydata_copyback)
{
	static const int lens[] = { 50, 200, 1800, 10 };
	unsigned char buf[4096], pat[300];
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	for (int off = 0; off < 2060; off += 37) {
		int len = 2060 - off < 300 ? 2060 - off : 300;

		m_copydata(m, off, len, buf);
		for (int j = 0; j < len; j++)
			CHECK_EQ(buf[j], mbt_byte(off + j));
	}
	/* Overwrite across an mbuf boundary. */
	memset(pat, 0x5a, sizeof(pat));
	m_copyback(m, 200, 100, pat);
	m_copydata(m, 190, 120, buf);
	CHECK_EQ(buf[9], mbt_byte(199));
	for (int j = 10; j < 110; j++)
		CHECK_EQ(buf[j], 0x5a);
	CHECK_EQ(buf[110], mbt_byte(300));
	CHECK_EQ(m->m_pkthdr.len, 2060);
	/* Past the end: the chain grows, the gap is zero-filled. */
	m_copyback(m, 2100, 300, pat);
	CHECK_EQ(m->m_pkthdr.len, 2400);
	CHECK_EQ(m_length(m, NULL), 2400);
	m_copydata(m, 2050, 350, buf);
	CHECK_EQ(buf[9], mbt_byte(2059));
	for (int j = 10; j < 50; j++)
		CHECK_EQ(buf[j], 0);
	for (int j = 50; j < 350; j++)
		CHECK_EQ(buf[j], 0x5a);
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_append_and_length)
{
	unsigned char data[1000];
	struct mbuf *m, *last;
	struct mbt_snap s;

	for (int i = 0; i < 1000; i++)
		data[i] = mbt_byte(i);
	mbt_snap(&s);
	m = m_gethdr(M_WAITOK, MT_DATA);
	CHECK(m_append(m, 100, data));
	CHECK_EQ(m->m_len, 100);
	CHECK(m_append(m, 900, data + 100));
	CHECK_EQ(m->m_pkthdr.len, 1000);
	CHECK_EQ(m_length(m, &last), 1000);
	CHECK(last->m_next == NULL && m->m_next != NULL);
	CHECK_EQ(m->m_len, MHLEN);
	CHECK(mbt_check_pattern(m, 0, 1000));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_prepend_in_place_and_new)
{
	static const int lens[] = { 40 };
	struct mbt_snap s;
	struct mbuf *m, *first;

	mbt_snap(&s);
	m = mbt_chain(lens, 1);
	m->m_data += 20;		/* room in front, as after m_adj */
	memmove(m->m_data, m->m_pktdat, 40);
	first = m;
	M_PREPEND(m, 16, M_NOWAIT);
	CHECK(m == first && m->m_len == 56 && m->m_pkthdr.len == 56);
	CHECK(m->m_data == m->m_pktdat + 4);
	M_PREPEND(m, 16, M_NOWAIT);	/* no room: a new header mbuf */
	CHECK(m != first && m->m_next == first);
	CHECK((m->m_flags & M_PKTHDR) && !(first->m_flags & M_PKTHDR));
	CHECK_EQ(m->m_len, 16);
	CHECK_EQ(m->m_pkthdr.len, 72);
	/* The new data sits at the end of the buffer: room to prepend. */
	CHECK_EQ(M_TRAILINGSPACE(m), 0);
	CHECK(M_LEADINGSPACE(m) >= MHLEN - 16 - 7);
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_pullup_contiguous)
{
	static const int lens[] = { 10, 20, 30, 40, 1500 };
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(lens, 5);
	m = m_pullup(m, 55);
	CHECK(m != NULL && m->m_len >= 55);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK_EQ(m->m_pkthdr.len, 1600);
	CHECK_EQ(m_length(m, NULL), 1600);
	CHECK(mbt_check_pattern(m, 0, 1600));
	/* A cluster in front: a new mbuf is put before it. */
	{
		static const int l2[] = { 1000, 100 };
		struct mbuf *p = mbt_chain(l2, 2), *q;

		q = m_pullup(p, 10);
		CHECK(q == p);		/* already contiguous */
		p->m_len = 4;
		p->m_pkthdr.len = 104;
		q = m_pullup(p, 50);
		CHECK(q != NULL && q != p && q->m_len >= 50);
		CHECK(q->m_flags & M_PKTHDR && !(q->m_flags & M_EXT));
		CHECK_EQ(m_length(q, NULL), 104);
		m_freem(q);
	}
	/* More than fits: the chain is freed and NULL returned. */
	CHECK(m_pullup(m, MHLEN + 1) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_split_every_offset)
{
	static const int lens[] = { 30, 100, 1700, 5 };
	struct mbt_snap s;
	struct mbuf *m, *n;

	mbt_snap(&s);
	for (int at = 0; at <= 1835; at += 7) {
		m = mbt_chain(lens, 4);
		n = m_split(m, at, M_WAITOK);
		CHECK(n != NULL);
		CHECK_EQ(m->m_pkthdr.len, at);
		CHECK_EQ(m_length(m, NULL), at);
		CHECK(n->m_flags & M_PKTHDR);
		CHECK_EQ(n->m_pkthdr.len, 1835 - at);
		CHECK_EQ(m_length(n, NULL), 1835 - at);
		CHECK(mbt_check_pattern(m, 0, at));
		CHECK(mbt_check_pattern(n, at, 1835 - at));
		m_freem(m);
		m_freem(n);
	}
	/* Inside a cluster: both halves share it. */
	m = mbt_chain(lens, 4);
	n = m_split(m, 1000, M_WAITOK);
	CHECK(n->m_flags & M_EXT);
	CHECK_EQ(m_extrefcnt(n), 2);
	m_freem(m);
	CHECK_EQ(m_extrefcnt(n), 1);
	CHECK(mbt_check_pattern(n, 1000, 835));
	m_freem(n);
	/* Past the end: NULL, nothing changed. */
	m = mbt_chain(lens, 4);
	CHECK(m_split(m, 2000, M_WAITOK) == NULL);
	CHECK_EQ(m->m_pkthdr.len, 1835);
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_adj_head_and_tail)
{
	static const int lens[] = { 30, 100, 1700, 5 };
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	m_adj(m, 50);
	CHECK_EQ(m->m_pkthdr.len, 1785);
	CHECK_EQ(m->m_len, 0);
	CHECK(mbt_check_pattern(m, 50, 1785));
	m_adj(m, -3);
	CHECK_EQ(m->m_pkthdr.len, 1782);
	CHECK(mbt_check_pattern(m, 50, 1782));
	m_adj(m, -1000);		/* frees the tail mbufs */
	CHECK_EQ(m->m_pkthdr.len, 782);
	CHECK_EQ(m_length(m, NULL), 782);
	CHECK(m->m_next->m_next->m_next == NULL);
	CHECK(mbt_check_pattern(m, 50, 782));
	m_adj(m, -5000);
	CHECK_EQ(m->m_pkthdr.len, 0);
	CHECK_EQ(m_length(m, NULL), 0);
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_cat_copies_small_joins_clusters)
{
	static const int la[] = { 100 }, lb[] = { 30, 40 }, lc[] = { 1000 };
	struct mbuf *a, *b, *c;
	struct mbt_snap s;

	mbt_snap(&s);
	a = mbt_chain(la, 1);
	b = mbt_chain(lb, 2);
	b->m_flags &= ~M_PKTHDR;
	m_cat(a, b);			/* both fit in a: b is freed */
	CHECK(a->m_next == NULL && a->m_len == 170);
	c = mbt_chain(lc, 1);
	m_cat(a, c);			/* a cluster is joined, not copied */
	CHECK(a->m_next == c);
	CHECK_EQ(m_length(a, NULL), 1170);
	m_freem(a);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_dup_deep_copy)
{
	static const int lens[] = { 100, 1500, 60, 2000 };
	struct mbuf *m, *d, *x;
	struct mbt_snap s;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	d = m_dup(m, M_WAITOK);
	CHECK(d != NULL && (d->m_flags & M_PKTHDR));
	CHECK_EQ(d->m_pkthdr.len, 3660);
	CHECK_EQ(m_length(d, NULL), 3660);
	CHECK(mbt_check_pattern(d, 0, 3660));
	for (x = m; x != NULL; x = x->m_next)
		if (x->m_flags & M_EXT)
			CHECK_EQ(m_extrefcnt(x), 1);
	for (x = d; x != NULL; x = x->m_next)
		CHECK(M_WRITABLE(x));
	m_freem(m);
	CHECK(mbt_check_pattern(d, 0, 3660));
	m_freem(d);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_tags_follow_the_header)
{
	struct m_tag *t1, *t2, *t;
	struct mbuf *m, *c;
	struct mbt_snap s;

	mbt_snap(&s);
	m = m_gethdr(M_WAITOK, MT_DATA);
	t1 = m_tag_alloc(42, 1, 8, M_WAITOK);
	t2 = m_tag_get(2, 100, M_WAITOK);
	CHECK(t1 != NULL && t2 != NULL && t2->m_tag_len == 100);
	memcpy(t1 + 1, "abcdefg", 8);
	m_tag_prepend(m, t1);
	m_tag_prepend(m, t2);
	CHECK(m_tag_first(m) == t2 && m_tag_next(m, t2) == t1);
	CHECK(m_tag_locate(m, 42, 1, NULL) == t1);
	CHECK(m_tag_locate(m, 42, 2, NULL) == NULL);
	CHECK(m_tag_find(m, 2, NULL) == t2);
	CHECK(m_tag_find(m, 2, t2) == NULL);
	/* Copies of the header carry copies of the tags. */
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	t = m_tag_locate(c, 42, 1, NULL);
	CHECK(t != NULL && t != t1 && memcmp(t + 1, "abcdefg", 8) == 0);
	CHECK(m_tag_find(c, 2, NULL) != NULL);
	m_tag_delete(m, t2);
	CHECK(m_tag_first(m) == t1 && m_tag_find(m, 2, NULL) == NULL);
	m_freem(m);			/* frees t1 */
	m_tag_delete_chain(c, NULL);
	CHECK(m_tag_first(c) == NULL);
	m_freem(c);
	CHECK(m_tag_alloc(0, 0, -1, M_NOWAIT) == NULL);
	mbt_check_balanced(&s);
}

static int extfree_calls;
static void *extfree_arg;

static void
ext_free_fn(struct mbuf *m)
{
	extfree_calls++;
	extfree_arg = m->m_ext.ext_arg1;
}

UMA_TEST(mbuf_extadd_frees_once_at_last_reference)
{
	static char storage[3000];
	struct mbuf *m, *c;
	struct mbt_snap s;

	mbt_snap(&s);
	m = m_gethdr(M_WAITOK, MT_DATA);
	m_extadd(m, storage, sizeof(storage), ext_free_fn, storage + 1, NULL,
	    0, EXT_NET_DRV);
	CHECK(m->m_flags & M_EXT && m->m_data == storage);
	m->m_len = 3000;
	m->m_pkthdr.len = 3000;
	c = m_copym(m, 10, 100, M_WAITOK);
	CHECK(c->m_data == storage + 10);
	CHECK_EQ(m_extrefcnt(m), 2);
	m_freem(m);
	CHECK_EQ(extfree_calls, 0);
	m_freem(c);
	CHECK_EQ(extfree_calls, 1);
	CHECK(extfree_arg == storage + 1);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_limits_api_rules)
{
	unsigned long v, clusters, nmbufs;

	CHECK_EQ(mbuf_get_limit("kern.ipc.nmbclusters", &clusters), 0);
	CHECK(clusters > 0);
	CHECK_EQ(mbuf_get_limit("nmbufs", &nmbufs), 0);
	CHECK_EQ(mbuf_get_limit("kern.ipc.maxmbufmem", &v), 0);
	CHECK_EQ(clusters, v / MCLBYTES / 4);
	CHECK(nmbufs >= v / MSIZE / 5);
	CHECK_EQ(mbuf_get_limit("nope", &v), ENOENT);
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)),
	    clusters);
	CHECK_EQ(mbuf_set_limit("kern.ipc.nmbclusters", clusters - 1),
	    EINVAL);
	CHECK_EQ(mbuf_set_limit("kern.ipc.nmbclusters", clusters), 0);
	CHECK_EQ(mbuf_set_limit("kern.ipc.maxmbufmem", v * 2), EPERM);
	CHECK_EQ(mbuf_set_limit("kern.ipc.nmbclusters", nmbufs + 1), EINVAL);
	CHECK_EQ(mbuf_get_limit("nmbclusters", &v), 0);
	CHECK_EQ(v, clusters);
	CHECK_EQ(mbuf_set_limit("nmbclusters", clusters + 10), 0);
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)),
	    clusters + 10);
	CHECK_EQ(mbuf_set_limit("nmbufs", nmbufs + 1), 0);
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_MEM_NAME)), nmbufs + 1);
	CHECK_EQ(mbuf_set_limit("nope", 1), ENOENT);
}
