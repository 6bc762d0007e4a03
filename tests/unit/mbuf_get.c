/*
 * mbuf_get.c - allocation by size (m_get2, m_get3, m_getm2/m_getm), the
 * FreeBSD allocation macros and small inlines of <uma/mbuf.h>, each
 * against what mbuf(9) says, with a pattern written through the whole
 * storage and read back, and every zone balanced after.
 */
#include "mbuf_test.h"

/* m fills its whole buffer with the pattern and reads it back. */
static int
fill_check_storage(struct mbuf *m)
{
	mbt_fill(M_START(m), 11, M_SIZE(m));
	return (mbt_check_bytes(M_START(m), 11, M_SIZE(m)));
}

UMA_TEST(mbuf_get2_gives_smallest_storage_that_fits)
{
	static const struct {
		int	size, flags, storage, exttype;
	} cases[] = {
		{ 0, M_PKTHDR, MHLEN, 0 },
		{ MHLEN, M_PKTHDR, MHLEN, 0 },
		{ MHLEN + 1, M_PKTHDR, MCLBYTES, EXT_PACKET },
		{ MHLEN + 1, 0, MLEN, 0 },
		{ MLEN, 0, MLEN, 0 },
		{ MLEN + 1, 0, MCLBYTES, EXT_PACKET },
		{ MCLBYTES, M_PKTHDR, MCLBYTES, EXT_PACKET },
		{ MCLBYTES + 1, M_PKTHDR, MJUMPAGESIZE, EXT_JUMBOP },
		{ MJUMPAGESIZE, 0, MJUMPAGESIZE, EXT_JUMBOP },
	};
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = m_get2(cases[i].size, M_NOWAIT, MT_OOBDATA,
		    cases[i].flags | M_EOR);
		CHECK(m != NULL);
		CHECK_EQ(m->m_type, MT_OOBDATA);
		CHECK_EQ(m->m_flags & (M_PKTHDR | M_EOR),
		    cases[i].flags | M_EOR);
		CHECK_EQ(M_SIZE(m), cases[i].storage);
		CHECK_EQ(M_TRAILINGSPACE(m), cases[i].storage);
		CHECK_EQ(m->m_len, 0);
		if (cases[i].exttype != 0)
			CHECK_EQ(m->m_ext.ext_type, cases[i].exttype);
		else
			CHECK(!(m->m_flags & M_EXT));
		if (m->m_flags & M_PKTHDR)
			CHECK(m->m_pkthdr.len == 0 && m_tag_first(m) == NULL);
		CHECK(fill_check_storage(m));
		m_freem(m);
	}
	CHECK(m_get2(MJUMPAGESIZE + 1, M_NOWAIT, MT_DATA, 0) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_get3_reaches_the_16k_jumbo_clusters)
{
	static const struct {
		int	size, storage, exttype;
	} cases[] = {
		{ MHLEN, MHLEN, 0 },
		{ MJUMPAGESIZE, MJUMPAGESIZE, EXT_JUMBOP },
		{ MJUMPAGESIZE + 1, MJUM9BYTES, EXT_JUMBO9 },
		{ MJUM9BYTES, MJUM9BYTES, EXT_JUMBO9 },
		{ MJUM9BYTES + 1, MJUM16BYTES, EXT_JUMBO16 },
		{ MJUM16BYTES, MJUM16BYTES, EXT_JUMBO16 },
	};
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = m_get3(cases[i].size, M_WAITOK, MT_DATA, M_PKTHDR);
		CHECK(m != NULL && (m->m_flags & M_PKTHDR));
		CHECK_EQ(M_SIZE(m), cases[i].storage);
		if (cases[i].exttype != 0)
			CHECK_EQ(m->m_ext.ext_type, cases[i].exttype);
		CHECK(fill_check_storage(m));
		m_freem(m);
	}
	CHECK(m_get3(MJUM16BYTES + 1, M_WAITOK, MT_DATA, 0) == NULL);
	mbt_check_balanced(&s);
}

/* Sum of the chain's buffer sizes. */
static int
chain_room(const struct mbuf *m)
{
	int room = 0;

	for (; m != NULL; m = m->m_next)
		room += M_SIZE(m);
	return (room);
}

UMA_TEST(mbuf_getm2_builds_a_chain_of_the_asked_capacity)
{
	static const int lens[] = { 1, MHLEN, MINCLSIZE, MCLBYTES,
	    MCLBYTES + 1, 3 * MJUMPAGESIZE + 100, 40000 };
	struct mbt_snap s;
	struct mbuf *m, *x;
	int off;

	mbt_snap(&s);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		m = m_getm2(NULL, lens[i], M_WAITOK, MT_DATA,
		    M_PKTHDR | M_EOR | M_BCAST);
		CHECK(m != NULL && (m->m_flags & M_PKTHDR));
		CHECK(!(m->m_flags & M_BCAST));	/* not a flag it takes */
		CHECK(chain_room(m) >= lens[i]);
		/* Not more than one buffer's worth beyond what was asked. */
		CHECK(chain_room(m) - M_SIZE(m_last(m)) < lens[i]);
		for (x = m; x != NULL; x = x->m_next) {
			CHECK(x == m || !(x->m_flags & M_PKTHDR));
			CHECK_EQ(!!(x->m_flags & M_EOR), x->m_next == NULL);
			CHECK_EQ(x->m_len, 0);
		}
		if (lens[i] > MCLBYTES)
			CHECK_EQ(m->m_ext.ext_type, EXT_JUMBOP);
		/* The pattern over the whole capacity, through m_append. */
		off = 0;
		for (x = m; x != NULL; x = x->m_next) {
			mbt_fill(mtod(x, char *), off, M_TRAILINGSPACE(x));
			x->m_len = M_TRAILINGSPACE(x);
			off += x->m_len;
		}
		m->m_pkthdr.len = off;
		CHECK(mbt_check_pattern(m, 0, off));
		m_freem(m);
	}
	CHECK(m_getm2(NULL, 0, M_WAITOK, MT_DATA, M_PKTHDR) == NULL);
	CHECK(m_getm2(NULL, -1, M_WAITOK, MT_DATA, M_PKTHDR) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_getm_appends_to_a_chain_and_moves_eor)
{
	static const int lens[] = { 50, 1000 };
	struct mbuf *m, *old_last, *x;
	struct mbt_snap s;

	mbt_snap(&s);
	m = mbt_chain(lens, 2);
	old_last = m_last(m);
	old_last->m_flags |= M_EOR;
	CHECK(m_getm(m, 5000, M_WAITOK, MT_DATA) == m);
	CHECK(!(old_last->m_flags & M_EOR));
	CHECK(old_last->m_next != NULL);
	for (x = old_last->m_next; x != NULL; x = x->m_next) {
		CHECK(!(x->m_flags & (M_PKTHDR | M_EOR)));
		CHECK_EQ(x->m_len, 0);
	}
	CHECK(chain_room(old_last->m_next) >= 5000);
	/* The old data and length are untouched. */
	CHECK_EQ(m->m_pkthdr.len, 1050);
	CHECK(mbt_check_pattern(m, 0, 1050));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_getm2_is_all_or_nothing)
{
	static const int lens[] = { 80 };
	struct mbuf *m, *n;
	struct mbt_snap s;
	void *hc;

	m = mbt_chain(lens, 1);
	mbt_snap(&s);
	/* One page jumbo left, no 2k cluster: the second buffer fails. */
	hc = mbt_deny(MBUF_CLUSTER_MEM_NAME);
	uma_zone_set_max(mbuf_zone(MBUF_JUMBOP_MEM_NAME),
	    uma_zone_get_cur(mbuf_zone(MBUF_JUMBOP_MEM_NAME)) + 1);
	n = m_getm2(m, 3 * MJUMPAGESIZE, M_NOWAIT, MT_DATA, 0);
	CHECK(n == NULL);
	CHECK(m->m_next == NULL);
	CHECK(mbt_check_pattern(m, 0, 80));
	mbt_allow(MBUF_JUMBOP_MEM_NAME, NULL);
	mbt_allow(MBUF_CLUSTER_MEM_NAME, hc);
	mbt_check_balanced(&s);
	CHECK(mbt_stat(MBUF_JUMBOP_MEM_NAME).zs_fails > 0);
	m_freem(m);
}

static int extref_frees;

static void
extref_free(struct mbuf *m)
{
	extref_frees++;
	CHECK(m->m_ext.ext_arg1 == (void *)&extref_frees);
}

UMA_TEST(mbuf_macros_allocate_and_attach_as_the_functions)
{
	static char storage[600];
	unsigned int refs = 1;
	struct mbuf *m, *h, *c;
	struct mbt_snap s;

	mbt_snap(&s);
	MGET(m, M_WAITOK, MT_CONTROL);
	CHECK(m != NULL && m->m_type == MT_CONTROL && m->m_flags == 0);
	CHECK_EQ(MCLGET(m, M_WAITOK), M_EXT);
	CHECK_EQ(m->m_ext.ext_type, EXT_CLUSTER);
	MCHTYPE(m, MT_EXTCONTROL);
	CHECK_EQ(m->m_type, MT_EXTCONTROL);
	MGETHDR(h, M_WAITOK, MT_DATA);
	CHECK(h != NULL && (h->m_flags & M_PKTHDR));
	h->m_pkthdr.len = 7;
	h->m_flags |= M_BCAST | M_PROTO3;
	M_MOVE_PKTHDR(m, h);
	CHECK((m->m_flags & (M_PKTHDR | M_EXT | M_BCAST | M_PROTO3)) ==
	    (M_PKTHDR | M_EXT | M_BCAST | M_PROTO3));
	CHECK_EQ(m->m_pkthdr.len, 7);
	CHECK(!(h->m_flags & M_PKTHDR));
	m_free(h);
	m_clrprotoflags(m);
	CHECK((m->m_flags & M_PROTOFLAGS) == 0 && (m->m_flags & M_BCAST));
	m_freem(m);

	/* MH_ALIGN puts the object at the end of a header mbuf. */
	MGETHDR(h, M_WAITOK, MT_DATA);
	MH_ALIGN(h, 40);
	CHECK_EQ(M_TRAILINGSPACE(h), 40 + ((MHLEN - 40) & (int)(sizeof(long) -
	    1)));
	CHECK(M_LEADINGSPACE(h) >= MHLEN - 40 - 7);
	m_free(h);

	/* MEXTADD: storage the caller frees, shared by a copy. */
	mbt_fill(storage, 0, sizeof(storage));
	MGETHDR(h, M_WAITOK, MT_DATA);
	MEXTADD(h, storage, sizeof(storage), extref_free, &extref_frees, NULL,
	    M_RDONLY, EXT_NET_DRV);
	CHECK((h->m_flags & (M_EXT | M_RDONLY)) == (M_EXT | M_RDONLY));
	h->m_len = h->m_pkthdr.len = 600;
	c = m_copypacket(h, M_WAITOK);
	CHECK(mbt_check_pattern(c, 0, 600));
	m_freem(h);
	CHECK_EQ(extref_frees, 0);
	m_freem(c);
	CHECK_EQ(extref_frees, 1);

	/* m_extaddref: the caller's count, one reference per mbuf. */
	MGET(m, M_WAITOK, MT_DATA);
	m_extaddref(m, storage, sizeof(storage), &refs, extref_free,
	    &extref_frees, NULL);
	CHECK_EQ(refs, 2);
	CHECK_EQ(m->m_ext.ext_type, EXT_EXTREF);
	CHECK_EQ(m_extrefcnt(m), 2);
	CHECK(m->m_data == storage && m->m_ext.ext_size == sizeof(storage));
	m->m_len = 300;
	c = m_copym(m, 100, 200, M_WAITOK);
	CHECK_EQ(refs, 3);
	CHECK(mbt_check_pattern(c, 100, 200));
	m_freem(m);
	m_freem(c);
	CHECK_EQ(refs, 1);		/* the caller's own reference */
	CHECK_EQ(extref_frees, 1);	/* never reached 0 */
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_types_and_flags_have_freebsd_values)
{
	CHECK_EQ(MT_EXTCONTROL, 15);
	CHECK_EQ(MT_OOBDATA, 16);
	CHECK_EQ(MT_CONTROL, 14);
	CHECK_EQ(M_PROTO1, 0x1000);
	CHECK_EQ(M_PROTO12, 0x800000);
	CHECK_EQ(M_PROTOFLAGS, 0xfff000);
	CHECK_EQ(M_COPYFLAGS & M_PROTOFLAGS, M_PROTOFLAGS);
	CHECK_EQ(MTAG_PERSISTENT, 0x800);
}

static void
assert_pkthdr_of_plain(void *arg)
{
	struct mbuf *m = m_get(M_WAITOK, MT_DATA);

	M_ASSERTPKTHDR(m);
}

UMA_TEST(mbuf_assertpkthdr_aborts_on_a_plain_mbuf)
{
	static const char *const needles[] = { "mbuf: ",
	    "assert_pkthdr_of_plain: no mbuf packet header!", NULL };
	struct mbuf *m;

	/*
	 * The child makes the mbuf zones: forking after they exist here
	 * would hold more locks across fork() than TSan's deadlock detector
	 * can track.
	 */
	CHECK(expect_abort(assert_pkthdr_of_plain, NULL, needles));
	m = m_gethdr(M_WAITOK, MT_DATA);
	M_ASSERTPKTHDR(m);		/* passes */
	m_free(m);
}
