/*
 * mbuf_header.c - the packet as a whole: m_copypacket, m_catpkt,
 * m_fixhdr, m_demote(_pkthdr), the tag KPI additions, m_sanity, m_print,
 * and the iovec scatter/gather pair, against mbuf(9) and mbuf_tags(9),
 * with pattern-filled data checked after each call and every zone and the
 * "mbuf_tag" malloc type balanced after.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include <uma/malloc.h>

#include "malloc_int.h"
#include "mbuf_test.h"

/* Tags allocated and not freed (the "mbuf_tag" malloc type). */
static int64_t
tags_live(void)
{
	struct malloc_type_totals tt;
	struct malloc_type *mtp = malloc_desc2type(MBUF_TAG_MEM_NAME);

	if (mtp == NULL)
		return (0);
	uma__malloc_type_totals(mtp, &tt);
	return ((int64_t)(tt.mt_numallocs - tt.mt_numfrees));
}

/* Rewrite the chain's bytes with the pattern from `first`. */
static void
refill(struct mbuf *m, int first)
{
	for (; m != NULL; m = m->m_next) {
		mbt_fill(mtod(m, char *), first, m->m_len);
		first += m->m_len;
	}
}

/* Run fn(arg) with stderr going to a buffer; returns the text. */
static char *
capture_stderr(void (*fn)(void *), void *arg)
{
	static char buf[16384];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	CHECK(f != NULL && saved >= 0);
	fflush(stderr);
	dup2(fileno(f), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static void
sanity_quiet(void *arg)
{
	CHECK(m_sanity(arg, 0));
}

static void
sanity_bad(void *arg)
{
	CHECK(!m_sanity(arg, 0));
}

static void
sanity_fix(void *arg)
{
	CHECK(!m_sanity(arg, 1));
}

UMA_TEST(mbuf_copypacket_shares_clusters_and_keeps_leading_room)
{
	static const int lens[] = { 60, 1500, 30, 2000 };
	struct mbuf *m, *c, *mx, *cx;
	struct m_tag *t, *ct;
	struct mbt_snap s;
	int64_t tags;

	mbt_snap(&s);
	tags = tags_live();
	m = mbt_chain(lens, 4);
	memmove(m->m_data + 20, m->m_data, 60);	/* room for a header */
	m->m_data += 20;
	m->m_flags |= M_MCAST;
	t = m_tag_alloc(77, 3, 8, M_WAITOK);
	memcpy(t + 1, "tagdata", 8);
	m_tag_prepend(m, t);
	c = m_copypacket(m, M_WAITOK);
	CHECK(c != NULL && (c->m_flags & (M_PKTHDR | M_MCAST)) ==
	    (M_PKTHDR | M_MCAST));
	CHECK_EQ(c->m_pkthdr.len, 3590);
	CHECK(mbt_check_pattern(c, 0, 3590));
	CHECK_EQ(M_LEADINGSPACE(c), 20);
	ct = m_tag_locate(c, 77, 3, NULL);
	CHECK(ct != NULL && ct != t && memcmp(ct + 1, "tagdata", 8) == 0);
	for (mx = m, cx = c; mx != NULL; mx = mx->m_next, cx = cx->m_next) {
		CHECK_EQ(cx->m_len, mx->m_len);
		if (mx->m_flags & M_EXT) {
			CHECK(cx->m_data == mx->m_data);
			CHECK_EQ(m_extrefcnt(mx), 2);
		} else
			CHECK(cx->m_data != mx->m_data);
	}
	CHECK(cx == NULL);
	m_freem(m);
	CHECK(mbt_check_pattern(c, 0, 3590));
	m_freem(c);
	CHECK_EQ(tags_live(), tags);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_catpkt_joins_packets_and_drops_the_second_header)
{
	static const int la[] = { 100, 1500 }, lb[] = { 40, 2000, 7 };
	struct mbuf *a, *b;
	struct mbt_snap s;
	int64_t tags;

	mbt_snap(&s);
	tags = tags_live();
	a = mbt_chain(la, 2);
	b = mbt_chain(lb, 3);
	refill(b, 1600);
	m_tag_prepend(a, m_tag_get(1, 4, M_WAITOK));
	m_tag_prepend(b, m_tag_get(2, 4, M_WAITOK));
	b->m_flags |= M_BCAST | M_PROTO1;
	m_catpkt(a, b);
	CHECK_EQ(a->m_pkthdr.len, 3647);
	CHECK(mbt_check_pattern(a, 0, 3647));
	CHECK(m_tag_find(a, 1, NULL) != NULL);
	CHECK(m_tag_find(a, 2, NULL) == NULL);
	CHECK_EQ(tags_live(), tags + 1);	/* b's tag went */
	CHECK(m_sanity(a, 0));
	m_freem(a);
	CHECK_EQ(tags_live(), tags);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_fixhdr_sets_the_packet_length)
{
	static const int lens[] = { 10, 1500, 0, 3 };
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	m->m_pkthdr.len = 99999;
	CHECK_EQ(m_fixhdr(m), 1513);
	CHECK_EQ(m->m_pkthdr.len, 1513);
	CHECK(mbt_check_pattern(m, 0, 1513));
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_demote_strips_headers_tags_and_flags)
{
	static const int lens[] = { 50, 60 };
	struct mbuf *m, *h;
	struct mbt_snap s;
	int64_t tags;

	mbt_snap(&s);
	tags = tags_live();
	m = mbt_chain(lens, 2);
	/* A stray packet header in the chain, with a tag, and flags. */
	h = m_gethdr(M_WAITOK, MT_DATA);
	mbt_fill(mtod(h, char *), 110, 30);
	h->m_len = 30;
	h->m_flags |= M_BCAST | M_MCAST | M_PROTO5 | M_EOR;
	m_tag_prepend(h, m_tag_get(3, 16, M_WAITOK));
	m->m_next->m_next = h;
	m->m_pkthdr.len = 140;
	m->m_flags |= M_PROTO7 | M_BCAST;
	CHECK(strstr(capture_stderr(sanity_bad, m),
	    "m_tags on in-chain mbuf") != NULL);
	m_demote(m, 0, M_BCAST);
	CHECK_EQ(h->m_flags, M_BCAST);
	CHECK_EQ(tags_live(), tags);
	CHECK(m->m_flags & M_PROTO7);		/* the first is left alone */
	CHECK(m_sanity(m, 0));
	CHECK(mbt_check_pattern(m, 0, 140));
	m_tag_prepend(m, m_tag_get(4, 16, M_WAITOK));
	m->m_pkthdr.flowid = 5;
	m_demote(m, 1, 0);
	CHECK_EQ(m->m_flags, 0);
	CHECK_EQ(tags_live(), tags);
	CHECK(m->m_pkthdr.flowid == 0 && m->m_pkthdr.len == 0);
	CHECK(mbt_check_pattern(m, 0, 140));
	m_freem(m);
	mbt_check_balanced(&s);
}

static int mytag_frees;

struct mytag {
	struct m_tag	tag;
	uint32_t	payload;
};

static void
mytag_free(struct m_tag *t)
{
	CHECK_EQ(((struct mytag *)t)->payload, 0xabcdef);
	mytag_frees++;
}

UMA_TEST(mbuf_tags_nonpersistent_go_persistent_stay)
{
	static struct mytag mt;
	struct mbuf *m;
	struct m_tag *t;
	struct mbt_snap s;
	int64_t tags;

	mbt_snap(&s);
	tags = tags_live();
	m = m_gethdr(M_WAITOK, MT_DATA);
	m->m_pkthdr.tags.slh_first = (struct m_tag *)&mt;	/* garbage */
	m_tag_init(m);
	CHECK(m_tag_first(m) == NULL);
	/* A tag embedded in the caller's own structure. */
	m_tag_setup(&mt.tag, 1234, 7 | MTAG_PERSISTENT, 4);
	mt.tag.m_tag_free = mytag_free;
	mt.payload = 0xabcdef;
	m_tag_prepend(m, &mt.tag);
	for (int i = 1; i <= 4; i++)
		m_tag_prepend(m, m_tag_alloc(1234, (uint16_t)(i |
		    (i % 2 == 0 ? MTAG_PERSISTENT : 0)), 8, M_WAITOK));
	CHECK_EQ(tags_live(), tags + 4);
	m_tag_delete_nonpersistent(m);
	CHECK_EQ(tags_live(), tags + 2);
	t = m_tag_first(m);
	CHECK(t != NULL && t->m_tag_id == (4 | MTAG_PERSISTENT));
	t = m_tag_next(m, t);
	CHECK(t != NULL && t->m_tag_id == (2 | MTAG_PERSISTENT));
	t = m_tag_next(m, t);
	CHECK(t == &mt.tag && t->m_tag_cookie == 1234 && t->m_tag_len == 4);
	CHECK(m_tag_next(m, t) == NULL);
	CHECK(m_tag_locate(m, 1234, 7 | MTAG_PERSISTENT, NULL) == &mt.tag);
	CHECK_EQ(mytag_frees, 0);
	m_freem(m);
	CHECK_EQ(mytag_frees, 1);
	CHECK_EQ(tags_live(), tags);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_sanity_reports_and_sanitizes)
{
	static const int lens[] = { 50, 1500 };
	struct mbuf *m, *n, *stray;
	struct mbt_snap s;
	int64_t tags;
	char *out, *data;

	mbt_snap(&s);
	tags = tags_live();
	m = mbt_chain(lens, 2);
	/* The last mbuf had a header once: its data sits after it. */
	n = m_gethdr(M_WAITOK, MT_DATA);
	m_demote_pkthdr(n);
	mbt_fill(mtod(n, char *), 1550, 20);
	n->m_len = 20;
	m->m_next->m_next = n;
	m->m_pkthdr.len = 1570;
	out = capture_stderr(sanity_quiet, m);
	CHECK_EQ(strlen(out), 0);
	/* A wrong packet length: reported; sanitized to 0, as FreeBSD. */
	m->m_pkthdr.len = 10;
	out = capture_stderr(sanity_bad, m);
	CHECK(strstr(out, "m_pkthdr.len != mbuf chain length") != NULL);
	out = capture_stderr(sanity_fix, m);
	CHECK(strstr(out, "m_pkthdr.len != mbuf chain length") != NULL);
	CHECK_EQ(m->m_pkthdr.len, 0);
	m_fixhdr(m);
	out = capture_stderr(sanity_quiet, m);
	/* Data past the buffer's end. */
	n->m_len = MLEN + 1;
	out = capture_stderr(sanity_bad, m);
	CHECK(strstr(out, "m_data + m_len exceeds mbuf space") != NULL);
	n->m_len = 20;
	data = n->m_data;
	n->m_data = M_START(n) - 1;
	out = capture_stderr(sanity_bad, m);
	CHECK(strstr(out, "outside mbuf data range left") != NULL);
	n->m_data = data;
	/* A header with a tag and a packet queue inside the chain. */
	n->m_flags |= M_PKTHDR;
	m_tag_prepend(n, m_tag_get(6, 4, M_WAITOK));
	stray = m_gethdr(M_WAITOK, MT_DATA);
	n->m_nextpkt = stray;
	out = capture_stderr(sanity_bad, m);
	CHECK(strstr(out, "m_tags on in-chain mbuf") != NULL);
	CHECK(strstr(out, "m->m_nextpkt on in-chain mbuf") != NULL);
	CHECK(n->m_nextpkt == stray && (n->m_flags & M_PKTHDR));
	out = capture_stderr(sanity_fix, m);
	CHECK(!(n->m_flags & M_PKTHDR));
	CHECK(n->m_nextpkt == (struct mbuf *)(uintptr_t)0xdeadc0de);
	CHECK_EQ(tags_live(), tags);		/* its tag was freed */
	n->m_nextpkt = NULL;
	out = capture_stderr(sanity_quiet, m);
	CHECK(mbt_check_pattern(m, 0, 1570));
	m_freem(m);				/* and the stray packet was */
	mbt_check_balanced(&s);
}

static void
print_it(void *arg)
{
	m_print(arg, 4);
}

static void
print_all(void *arg)
{
	m_print(arg, -1);
}

UMA_TEST(mbuf_print_shows_each_mbuf_and_its_bytes)
{
	static const int lens[] = { 10, 1500, 3 };
	struct mbt_snap s;
	struct mbuf *m;
	char *out, want[128];

	mbt_snap(&s);
	m = mbt_chain(lens, 3);
	m->m_flags |= M_BCAST;
	out = capture_stderr(print_it, m);
	snprintf(want, sizeof(want), "mbuf: %p len: 10, next: %p, "
	    "0x12<PKTHDR,BCAST>, 03-0a-11-18\n", (void *)m,
	    (void *)m->m_next);
	CHECK(strstr(out, want) != NULL);
	/* Byte 10 is 73 = 0x49, in the cluster (M_EXT) mbuf. */
	snprintf(want, sizeof(want), "mbuf: %p len: 1500, next: %p, "
	    "0x1<EXT>, 49-50-57-5e\n", (void *)m->m_next,
	    (void *)m->m_next->m_next);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "len: 3, next: (nil), 0, ") != NULL);
	/* The packet claims more than it holds: the rest is reported. */
	m->m_pkthdr.len = 1600;
	out = capture_stderr(print_all, m);
	CHECK(strstr(out, "87 bytes unaccounted for.\n") != NULL);
	CHECK(strstr(out, ", 4d-54-5b\n") != NULL);	/* bytes 1510..1512 */
	m_freem(m);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_uiotombuf_gathers_iovecs)
{
	static unsigned char a[100], b[3000], c[500];
	struct iovec iov[3] = { { a, 100 }, { b, 3000 }, { c, 500 } };
	struct mbt_snap s;
	struct mbuf *m;

	mbt_fill(a, 0, 100);
	mbt_fill(b, 100, 3000);
	mbt_fill(c, 3100, 500);
	mbt_snap(&s);
	m = m_uiotombuf(iov, 3, M_WAITOK, 0, 16, M_PKTHDR | M_EOR);
	CHECK(m != NULL && (m->m_flags & M_PKTHDR));
	CHECK_EQ(m->m_pkthdr.len, 3600);
	CHECK(mbt_check_pattern(m, 0, 3600));
	CHECK_EQ(M_LEADINGSPACE(m), 16);
	CHECK(m_last(m)->m_flags & M_EOR);
	CHECK(m_sanity(m, 0));
	m_freem(m);
	/* len limits what is taken. */
	m = m_uiotombuf(iov, 3, M_WAITOK, 1000, 0, M_PKTHDR);
	CHECK_EQ(m->m_pkthdr.len, 1000);
	CHECK(mbt_check_pattern(m, 0, 1000));
	m_freem(m);
	/* Without a header; the vectors stay as they were. */
	m = m_uiotombuf(iov + 1, 2, M_WAITOK, -1, 0, 0);
	CHECK(!(m->m_flags & M_PKTHDR));
	CHECK_EQ(m_length(m, NULL), 3500);
	CHECK(mbt_check_pattern(m, 100, 3500));
	CHECK(iov[1].iov_base == b && iov[1].iov_len == 3000);
	m_freem(m);
	/* Nothing to gather: one empty mbuf. */
	m = m_uiotombuf(NULL, 0, M_WAITOK, 0, 0, M_PKTHDR);
	CHECK(m != NULL && m->m_next == NULL && m->m_len == 0);
	CHECK_EQ(m->m_pkthdr.len, 0);
	m_freem(m);
	CHECK(m_uiotombuf(iov, 3, M_WAITOK, 0, MHLEN, M_PKTHDR) == NULL);
	CHECK(m_uiotombuf(iov, -1, M_WAITOK, 0, 0, M_PKTHDR) == NULL);
	mbt_check_balanced(&s);
}

UMA_TEST(mbuf_mbuftouio_scatters_into_iovecs)
{
	static const int lens[] = { 33, 1500, 2000, 67 };
	static unsigned char a[7], b[1000], c[5000];
	struct iovec iov[3] = { { a, 7 }, { b, 1000 }, { c, 5000 } };
	struct mbt_snap s;
	struct mbuf *m;

	mbt_snap(&s);
	m = mbt_chain(lens, 4);
	memset(c, 0xee, sizeof(c));
	CHECK_EQ(m_mbuftouio(iov, 3, m, 0), 3600);
	CHECK(mbt_check_bytes(a, 0, 7));
	CHECK(mbt_check_bytes(b, 7, 1000));
	CHECK(mbt_check_bytes(c, 1007, 2593));
	CHECK(c[2593] == 0xee && c[4999] == 0xee);
	/* len, then the vectors' room, bound the copy. */
	memset(b, 0, sizeof(b));
	CHECK_EQ(m_mbuftouio(iov + 1, 1, m, 50), 50);
	CHECK(mbt_check_bytes(b, 0, 50) && b[50] == 0);
	CHECK_EQ(m_mbuftouio(iov, 2, m, 0), 1007);
	CHECK(mbt_check_bytes(b, 7, 1000));
	errno = 0;
	CHECK_EQ(m_mbuftouio(iov, -1, m, 0), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(mbt_check_pattern(m, 0, 3600));
	m_freem(m);
	mbt_check_balanced(&s);
}
