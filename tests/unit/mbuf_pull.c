/*
 * mbuf_pull.c - reaching into chains: m_pulldown, m_copyup, m_getptr and
 * m_apply, against mbuf(9): the region asked for is contiguous, writable
 * and holds the right bytes, the bytes before it did not move, the
 * packet's data and length are unchanged, and every zone is balanced.
 */
#include "mbuf_test.h"

/* Chains of several shapes: small and cluster mbufs, empty ones. */
static const int shape_a[] = { 20, 30, 1500, 10, 700 };
static const int shape_b[] = { 30, 0, 40, 0, 100, 1800, 5 };
static const int shape_c[] = { 2000, 2000, 2000 };
static const struct {
	const int	*lens;
	int		 n;
} shapes[] = {
	{ shape_a, 5 }, { shape_b, 7 }, { shape_c, 3 },
};
static const int pull_lens[] = { 1, 4, 20, 40, 100, 300, 1600, MCLBYTES };

static int
shape_len(int i)
{
	int len = 0;

	for (int j = 0; j < shapes[i].n; j++)
		len += shapes[i].lens[j];
	return (len);
}

/*
 * Move each mbuf's data `lead` bytes into its buffer where it has the
 * room: free room in front, as protocols leave after m_adj, which
 * m_pulldown may fill.
 */
static void
chain_lead(struct mbuf *m, int lead)
{
	for (; m != NULL; m = m->m_next) {
		if (M_TRAILINGSPACE(m) < lead)
			continue;
		memmove(m->m_data + lead, m->m_data, (size_t)m->m_len);
		m->m_data += lead;
	}
}

/*
 * One m_pulldown on a fresh chain of shape `sh` (with `lead` bytes free
 * in front of each mbuf's data where they fit), checked; with a copy
 * sharing its clusters if `shared` (the pull then must not write them).
 */
static void
pulldown_one(int sh, int off, int len, int use_offp, int shared, int lead)
{
	struct mbuf *m, *c = NULL, *n, *before = NULL, *p;
	int total = shape_len(sh), o = -1, boff, x;
	char *region, *byte_before = NULL;

	m = mbt_chain(shapes[sh].lens, shapes[sh].n);
	chain_lead(m, lead);
	if (shared)
		c = m_copym(m, 0, M_COPYALL, M_WAITOK);
	if (off > 0) {
		before = m_getptr(m, off - 1, &boff);
		byte_before = mtod(before, char *) + boff;
	}
	n = m_pulldown(m, off, len, use_offp ? &o : NULL);
	CHECK(n != NULL);
	if (!use_offp)
		o = 0;
	CHECK(o >= 0 && n->m_len - o >= len);
	region = mtod(n, char *) + o;
	CHECK(mbt_check_bytes(region, off, len));
	/* n is in the chain, and the region is at packet offset off. */
	p = m_getptr(m, off, &x);
	CHECK(p == n && x == o);
	CHECK(M_WRITABLE(n));
	/* What came before off did not move. */
	if (off > 0) {
		p = m_getptr(m, off - 1, &x);
		CHECK(mtod(p, char *) + x == byte_before);
		CHECK_EQ((unsigned char)*byte_before, mbt_byte(off - 1));
	}
	CHECK_EQ(m->m_pkthdr.len, total);
	CHECK_EQ(m_length(m, NULL), total);
	CHECK(mbt_check_pattern(m, 0, total));
	CHECK(m_sanity(m, 0));
	if (shared) {
		/* Writing the region leaves the other holder's data alone. */
		memset(region, 0xa5, (size_t)len);
		CHECK(mbt_check_pattern(c, 0, total));
		m_freem(c);
	}
	m_freem(m);
}

UMA_TEST(mbuf_pulldown_every_offset_and_shape)
{
	struct mbt_snap s;
	int total;

	mbt_snap(&s);
	for (int sh = 0; sh < (int)(sizeof(shapes) / sizeof(shapes[0])); sh++) {
		total = shape_len(sh);
		for (size_t l = 0; l < sizeof(pull_lens) / sizeof(int); l++)
			for (int off = 0; off + pull_lens[l] <= total;
			    off += 17)
				for (int v = 0; v < 4; v++)
					pulldown_one(sh, off, pull_lens[l],
					    v & 1, 0, v & 2 ? 64 : 0);
	}
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_pulldown_never_writes_shared_clusters)
{
	struct mbt_snap s;
	int total;

	mbt_snap(&s);
	for (int sh = 0; sh < (int)(sizeof(shapes) / sizeof(shapes[0])); sh++) {
		total = shape_len(sh);
		for (size_t l = 0; l < sizeof(pull_lens) / sizeof(int); l++)
			for (int off = 0; off + pull_lens[l] <= total;
			    off += 41)
				for (int v = 0; v < 4; v++)
					pulldown_one(sh, off, pull_lens[l],
					    v & 1, 1, v & 2 ? 64 : 0);
	}
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_pulldown_fails_by_freeing_the_chain)
{
	struct mbt_snap s;
	struct mbuf *m;
	int o = -7;

	mbt_snap(&s);
	/* The region runs past the end. */
	m = mbt_chain(shape_a, 5);
	CHECK(m_pulldown(m, 2250, 11, &o) == NULL);
	CHECK_EQ(o, -7);
	/* It starts at the end. */
	m = mbt_chain(shape_a, 5);
	CHECK(m_pulldown(m, 2260, 1, NULL) == NULL);
	/* More than a cluster. */
	m = mbt_chain(shape_c, 3);
	CHECK(m_pulldown(m, 0, MCLBYTES + 1, NULL) == NULL);
	m = mbt_chain(shape_c, 3);
	CHECK(m_pulldown(m, -1, 10, NULL) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_copyup_leaves_room_in_front)
{
	static const int lens[] = { 10, 20, 1500 };
	struct mbuf *m, *first;
	struct mbt_snap s;

	mbt_snap(&s);
	for (int dstoff = 0; dstoff <= 64; dstoff += 8) {
		m = mbt_chain(lens, 3);
		m_tag_prepend(m, m_tag_get(5, 4, M_WAITOK));
		first = m;
		m = m_copyup(m, 25, dstoff);
		CHECK(m != NULL && m != first);
		CHECK(m->m_flags & M_PKTHDR && !(m->m_flags & M_EXT));
		CHECK(m_tag_find(m, 5, NULL) != NULL);
		CHECK(m->m_len >= 25);
		CHECK_EQ(M_LEADINGSPACE(m), dstoff);
		CHECK_EQ(m->m_pkthdr.len, 1530);
		CHECK(mbt_check_pattern(m, 0, 1530));
		CHECK(m_sanity(m, 0));
		/* A header prepended into that room needs no new mbuf. */
		first = m;
		M_PREPEND(m, dstoff, M_NOWAIT);
		CHECK(m == first);
		m_freem(m);
	}
	/* len + dstoff beyond MHLEN: NULL, the chain freed. */
	m = mbt_chain(lens, 3);
	CHECK(m_copyup(m, MHLEN - 15, 16) == NULL);
	/* The chain holds less than len: the same. */
	m = mbt_chain(lens, 2);
	CHECK(m_copyup(m, 31, 0) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_getptr_every_location)
{
	struct mbt_snap s;
	struct mbuf *m, *n;
	int total, off;

	mbt_snap(&s);
	m = mbt_chain(shape_b, 7);
	total = shape_len(1);
	for (int loc = 0; loc < total; loc++) {
		off = -1;
		n = m_getptr(m, loc, &off);
		CHECK(n != NULL && off >= 0 && off < n->m_len);
		CHECK_EQ(mtod(n, unsigned char *)[off], mbt_byte(loc));
	}
	/* The end: the last mbuf, just past its data. */
	n = m_getptr(m, total, &off);
	CHECK(n == m_last(m) && off == n->m_len);
	CHECK(m_getptr(m, total + 1, &off) == NULL);
	CHECK(m_getptr(m, -1, &off) == NULL);
	m_freem(m);
	mbt_check_balanced(&s);
}

struct apply_state {
	unsigned char	buf[4096];
	int		len, calls, stop_after;
};

static int
apply_gather(void *arg, void *data, unsigned int len)
{
	struct apply_state *st = arg;

	CHECK(len > 0);
	memcpy(st->buf + st->len, data, len);
	st->len += (int)len;
	st->calls++;
	return (st->stop_after != 0 && st->len >= st->stop_after ? 42 : 0);
}

UMA_TEST(mbuf_apply_visits_each_piece_in_order)
{
	struct apply_state st;
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(shape_a, 5);
	for (int off = 0; off < 2260; off += 97) {
		for (int len = 0; off + len <= 2260; len += 301) {
			memset(&st, 0, sizeof(st));
			CHECK_EQ(m_apply(m, off, len, apply_gather, &st), 0);
			CHECK_EQ(st.len, len);
			CHECK(mbt_check_bytes(st.buf, off, len));
		}
	}
	/* Bytes 15..75 lie in three mbufs: three calls. */
	memset(&st, 0, sizeof(st));
	CHECK_EQ(m_apply(m, 15, 60, apply_gather, &st), 0);
	CHECK_EQ(st.calls, 3);
	/* A non-zero result stops the walk and is returned. */
	memset(&st, 0, sizeof(st));
	st.stop_after = 40;
	CHECK_EQ(m_apply(m, 0, 2260, apply_gather, &st), 42);
	CHECK_EQ(st.calls, 2);
	CHECK_EQ(st.len, 50);
	CHECK(mbt_check_pattern(m, 0, 2260));
	m_freem(m);
	mbt_check_balanced(&s);
}
