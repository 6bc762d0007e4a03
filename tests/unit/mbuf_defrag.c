/*
 * mbuf_defrag.c - m_defrag, m_collapse and m_unshare against mbuf(9):
 * the data and packet header survive every reshaping, the shape is what
 * the page promises, failures leave the chain as the page says (untouched,
 * valid, or freed), and every zone is balanced after.
 */
#include "mbuf_test.h"

/* A packet of `n` mbufs of `each` bytes, with a tag and some flags. */
static struct mbuf *
small_chain(int n, int each)
{
	int lens[64];
	struct mbuf *m;

	CHECK(n <= 64);
	for (int i = 0; i < n; i++)
		lens[i] = each;
	m = mbt_chain(lens, n);
	m->m_flags |= M_BCAST | M_PROTO2;
	m->m_pkthdr.flowid = 0xfeed;
	m_tag_prepend(m, m_tag_get(9, 12, M_WAITOK));
	return (m);
}

/* The header survived: flags, flowid, tag, length. */
static void
check_header(struct mbuf *m, int len)
{
	CHECK((m->m_flags & (M_PKTHDR | M_BCAST | M_PROTO2)) ==
	    (M_PKTHDR | M_BCAST | M_PROTO2));
	CHECK_EQ(m->m_pkthdr.flowid, 0xfeed);
	CHECK(m_tag_find(m, 9, NULL) != NULL);
	CHECK_EQ(m->m_pkthdr.len, len);
	CHECK(m_sanity(m, 0));
}

UMA_TEST(mbuf_defrag_packs_into_fewest_clusters)
{
	static const int counts[] = { 1, 3, 20, 64 };
	struct mbuf *m, *d, *x;
	struct mbt_snap s;
	int len;

	mbt_snap(&s);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		m = small_chain(counts[i], 90);
		len = 90 * counts[i];
		m->m_pkthdr.len = 1;		/* m_defrag fixes it first */
		d = m_defrag(m, M_NOWAIT);
		CHECK(d != NULL && d != m);
		check_header(d, len);
		CHECK(mbt_check_pattern(d, 0, len));
		CHECK_EQ(mbt_count(d), len <= MHLEN ? 1 :
		    (len + MCLBYTES - 1) / MCLBYTES);
		for (x = d; x != NULL; x = x->m_next) {
			CHECK(M_WRITABLE(x));
			CHECK(x->m_next == NULL || x->m_len == MCLBYTES);
		}
		m_freem(d);
	}
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_defrag_leaves_other_holders_and_plain_chains_alone)
{
	static const int lens[] = { 100, 1500, 60, 2000, 10 };
	struct mbuf *m, *c, *d, *p;
	struct mbt_snap s;

	mbt_snap(&s);
	m = mbt_chain(lens, 5);
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	d = m_defrag(c, M_WAITOK);
	CHECK(d != NULL);
	CHECK_EQ(mbt_count(d), 2);
	CHECK(mbt_check_pattern(d, 0, 3670));
	memset(mtod(d, char *), 0x5a, (size_t)d->m_len);
	CHECK(mbt_check_pattern(m, 0, 3670));
	for (p = m; p != NULL; p = p->m_next)
		CHECK(M_WRITABLE(p));	/* the copy's references went */
	m_freem(d);
	/* Without a packet header: returned as it is. */
	p = m->m_next;
	CHECK(m_defrag(p, M_NOWAIT) == p);
	CHECK(m->m_next == p && mbt_check_pattern(m, 0, 3670));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_defrag_failure_keeps_the_chain)
{
	struct mbuf *m;
	struct mbt_snap s;
	void *held;

	mbt_snap(&s);
	m = small_chain(30, 100);
	held = mbt_deny(MBUF_CLUSTER_MEM_NAME);
	CHECK(m_defrag(m, M_NOWAIT) == NULL);
	mbt_allow(MBUF_CLUSTER_MEM_NAME, held);
	CHECK_EQ(mbt_count(m), 30);
	check_header(m, 3000);
	CHECK(mbt_check_pattern(m, 0, 3000));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_collapse_reaches_maxfrags_keeping_the_data)
{
	struct mbuf *m, *c, *first;
	struct mbt_snap s;

	mbt_snap(&s);
	/*
	 * 1920 bytes: the first mbuf (which stays) takes two of the 80-byte
	 * pieces, a cluster the rest, so 2 fragments are the least.
	 */
	for (int maxfrags = 1; maxfrags <= 25; maxfrags++) {
		m = small_chain(24, 80);
		first = m;
		c = m_collapse(m, M_NOWAIT, maxfrags);
		CHECK_EQ(c != NULL, maxfrags >= 2);
		if (c != NULL) {
			CHECK(c == first);
			CHECK(mbt_count(c) <= maxfrags);
		}
		/* Valid either way, and the caller's. */
		check_header(m, 1920);
		CHECK(mbt_check_pattern(m, 0, 1920));
		m_freem(m);
	}
	/* 2400 bytes cannot be had in 2: the first mbuf holds MHLEN at most. */
	m = small_chain(24, 100);
	CHECK(m_collapse(m, M_NOWAIT, 2) == NULL);
	CHECK(m_collapse(m, M_NOWAIT, 3) == m);
	CHECK_EQ(mbt_count(m), 3);
	check_header(m, 2400);
	CHECK(mbt_check_pattern(m, 0, 2400));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_collapse_within_maxfrags_returns_the_chain_as_is)
{
	static const int full[] = { 2000, 2000, 2000 };
	struct mbuf *m, *n2;
	struct mbt_snap s;

	mbt_snap(&s);
	m = mbt_chain(full, 3);
	n2 = m->m_next;
	CHECK(m_collapse(m, M_NOWAIT, 4) == m);
	CHECK(m->m_next == n2 && mbt_count(m) == 3);
	/* Three full clusters do not fit in two: NULL, chain intact. */
	CHECK(m_collapse(m, M_NOWAIT, 2) == NULL);
	CHECK_EQ(mbt_count(m), 3);
	CHECK(mbt_check_pattern(m, 0, 6000));
	m_freem(m);
	/* No cluster to be had: NULL, the chain valid. */
	m = small_chain(24, 100);
	n2 = mbt_deny(MBUF_CLUSTER_MEM_NAME);
	CHECK(m_collapse(m, M_NOWAIT, 3) == NULL);
	mbt_allow(MBUF_CLUSTER_MEM_NAME, n2);
	check_header(m, 2400);
	CHECK(mbt_check_pattern(m, 0, 2400));
	m_freem(m);
	mbt_check_balanced(&s);
}

/* Every mbuf of the chain may be written. */
static int
all_writable(const struct mbuf *m)
{
	for (; m != NULL; m = m->m_next)
		if (!M_WRITABLE(m))
			return (0);
	return (1);
}

UMA_TEST(mbuf_unshare_copies_shared_storage_only)
{
	static const int lens[] = { 100, 1500, 60, 2000, 10 };
	struct mbuf *m, *c, *u, *x;
	struct mbt_snap s;
	char *own;

	mbt_snap(&s);
	m = mbt_chain(lens, 5);
	m_tag_prepend(m, m_tag_get(9, 12, M_WAITOK));
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	CHECK(!all_writable(c));
	u = m_unshare(c, M_WAITOK);
	CHECK(u != NULL && all_writable(u));
	CHECK(u->m_flags & M_PKTHDR);
	CHECK_EQ(u->m_pkthdr.len, 3670);
	CHECK(m_tag_find(u, 9, NULL) != NULL);
	CHECK(mbt_check_pattern(u, 0, 3670));
	CHECK(m_sanity(u, 0));
	/* Writing all of it leaves the original alone, writable again. */
	for (x = u; x != NULL; x = x->m_next)
		memset(mtod(x, char *), 0xc3, (size_t)x->m_len);
	CHECK(mbt_check_pattern(m, 0, 3670));
	CHECK(all_writable(m));
	m_freem(u);
	/* Nothing shared: the same mbufs, the same storage. */
	own = m->m_next->m_data;
	CHECK(m_unshare(m, M_WAITOK) == m);
	CHECK(m->m_next->m_data == own);
	CHECK(mbt_check_pattern(m, 0, 3670));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_unshare_splits_shared_jumbo_into_clusters)
{
	struct mbuf *m, *c, *u, *x;
	struct mbt_snap s;

	mbt_snap(&s);
	m = m_getjcl(M_WAITOK, MT_DATA, M_PKTHDR, MJUM9BYTES);
	mbt_fill(mtod(m, char *), 0, 9000);
	m->m_len = m->m_pkthdr.len = 9000;
	c = m_copypacket(m, M_WAITOK);
	u = m_unshare(c, M_WAITOK);
	CHECK(u != NULL && all_writable(u));
	CHECK_EQ(mbt_count(u), (9000 + MCLBYTES - 1) / MCLBYTES);
	for (x = u; x != NULL; x = x->m_next)
		CHECK(x->m_len <= MCLBYTES && (x == u) ==
		    !!(x->m_flags & M_PKTHDR));
	CHECK(mbt_check_pattern(u, 0, 9000));
	m_freem(u);
	CHECK(M_WRITABLE(m) && mbt_check_pattern(m, 0, 9000));
	m_freem(m);
	mbt_check_balanced(&s);
}

static int rdonly_frees;

static void
rdonly_free(struct mbuf *m)
{
	rdonly_frees++;
}

UMA_TEST(mbuf_unshare_copies_read_only_storage_to_writable)
{
	static unsigned char rom[700];
	struct mbuf *m;
	struct mbt_snap s;

	mbt_snap(&s);
	mbt_fill(rom, 0, sizeof(rom));
	m = m_gethdr(M_WAITOK, MT_DATA);
	m_extadd(m, (char *)rom, sizeof(rom), rdonly_free, NULL, NULL,
	    M_RDONLY, EXT_MOD_TYPE);
	m->m_len = m->m_pkthdr.len = 700;
	CHECK(!M_WRITABLE(m));
	m = m_unshare(m, M_WAITOK);
	CHECK(m != NULL && all_writable(m));
	CHECK_EQ(rdonly_frees, 1);	/* the old storage went back */
	CHECK(mtod(m, unsigned char *) != rom);
	CHECK(mbt_check_pattern(m, 0, 700));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_unshare_failure_frees_the_chain)
{
	static const int lens[] = { 100, 1500, 2000 };
	struct mbuf *m, *c;
	struct mbt_snap s;
	void *held;

	mbt_snap(&s);
	m = mbt_chain(lens, 3);
	c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	held = mbt_deny(MBUF_CLUSTER_MEM_NAME);
	CHECK(m_unshare(c, M_NOWAIT) == NULL);
	mbt_allow(MBUF_CLUSTER_MEM_NAME, held);
	/* c is gone with its references: the original is whole, alone. */
	CHECK(mbt_check_pattern(m, 0, 3600));
	CHECK(all_writable(m));
	m_freem(m);
	mbt_check_balanced(&s);
}
