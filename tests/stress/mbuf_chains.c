/*
 * mbuf_chains.c - threads doing random chain operations (get, getcl,
 * copym, copypacket, pullup, prepend, split, catpkt, adj, defrag,
 * collapse, unshare, pulldown, tags, freem) on chains they pass to each
 * other through queues, for a bounded time (UMA_STRESS_SECONDS).
 *
 * Every byte of a packet follows a position-dependent pattern: byte i of
 * a packet whose header says base b (m_pkthdr.flowid) is spat(b + i), so
 * a byte copied wrong, lost, doubled or moved by any distance shows.  The
 * packets an operation touched are checked after it (pattern, length,
 * headers only at the front, reference counts of at least one), every
 * packet when it arrives from another thread and before it is freed.
 * Writes go only where M_WRITABLE allows; the regions m_pulldown returns
 * are written and restored, so one it wrongly shared with another thread's
 * packet would be caught by that thread's checks (and by TSan as a race).
 * At the end every mbuf zone has exactly as many items with users as
 * before.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../unit/mbuf_test.h"

#define	NTHREADS	4
#define	NLOCAL		32
#define	QSIZE		256
#define	MAXPKT		100000

struct queue {
	pthread_mutex_t	 lock;
	struct mbuf	*q[QSIZE];
	int		 n;
};

static struct queue queues[NTHREADS];
static double deadline;
static _Atomic uint64_t nops, nhandoffs, nfailed;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* The pattern: a 32-bit position hashed to a byte (period 2^32). */
static inline unsigned char
spat(uint32_t pos)
{
	return ((unsigned char)((pos * 2654435761u) >> 24));
}

/* Write the pattern for packet positions [pos, pos + len) at p. */
static void
spat_fill(char *p, uint32_t pos, int len)
{
	for (int i = 0; i < len; i++)
		p[i] = (char)spat(pos + (uint32_t)i);
}

static int
spat_check(const char *p, uint32_t pos, int len)
{
	for (int i = 0; i < len; i++)
		if ((unsigned char)p[i] != spat(pos + (uint32_t)i))
			return (0);
	return (1);
}

/*
 * The packet is whole: a header first and only first, its length, its
 * pattern from its base, references held.
 */
static void
check_chain(struct mbuf *m)
{
	uint32_t pos;
	int len = 0;

	CHECK(m->m_flags & M_PKTHDR);
	pos = m->m_pkthdr.flowid;
	for (struct mbuf *x = m; x != NULL; x = x->m_next) {
		CHECK(x == m || !(x->m_flags & M_PKTHDR));
		if (x->m_flags & M_EXT)
			CHECK(m_extrefcnt(x) >= 1);
		CHECK(spat_check(mtod(x, char *), pos, x->m_len));
		pos += (uint32_t)x->m_len;
		len += x->m_len;
	}
	CHECK_EQ(len, m->m_pkthdr.len);
}

static void
chain_free(struct mbuf *m)
{
	check_chain(m);
	m_freem(m);
}

/* Rewrite a private packet's bytes from base `pos` (after m_unshare). */
static void
chain_rebase(struct mbuf *m, uint32_t pos)
{
	m->m_pkthdr.flowid = pos;
	for (; m != NULL; m = m->m_next) {
		CHECK(M_WRITABLE(m));
		spat_fill(mtod(m, char *), pos, m->m_len);
		pos += (uint32_t)m->m_len;
	}
}

static struct mbuf *
chain_new(uint64_t *s)
{
	char data[4000];
	struct mbuf *m;
	uint32_t base = (uint32_t)rnd(s);
	int len = (int)(rnd(s) % sizeof(data));

	if (rnd(s) & 1)
		m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	else
		m = m_gethdr(M_WAITOK, MT_DATA);
	CHECK(m != NULL);
	m->m_pkthdr.flowid = base;
	spat_fill(data, base, len);
	if (!m_append(m, len, data))
		CHECK(0);
	if (rnd(s) % 4 == 0) {
		struct m_tag *t = m_tag_get((uint16_t)(1 | ((rnd(s) & 1) ?
		    MTAG_PERSISTENT : 0)), 16, M_WAITOK);

		CHECK(t != NULL);
		m_tag_prepend(m, t);
	}
	check_chain(m);
	return (m);
}

/* A chain to pass on, or one taken from our queue. */
static void
handoff(int self, struct mbuf **slot, uint64_t *s)
{
	struct queue *q;

	if (*slot != NULL) {
		q = &queues[(self + 1 + (int)(rnd(s) % (NTHREADS - 1))) %
		    NTHREADS];
		pthread_mutex_lock(&q->lock);
		if (q->n < QSIZE) {
			q->q[q->n++] = *slot;
			*slot = NULL;
		}
		pthread_mutex_unlock(&q->lock);
	} else {
		q = &queues[self];
		pthread_mutex_lock(&q->lock);
		if (q->n > 0)
			*slot = q->q[--q->n];
		pthread_mutex_unlock(&q->lock);
		if (*slot != NULL)
			check_chain(*slot);
	}
	atomic_fetch_add_explicit(&nhandoffs, 1, memory_order_relaxed);
}

/* An empty slot of ours, or NULL. */
static struct mbuf **
free_slot(struct mbuf **local, uint64_t *s)
{
	struct mbuf **b = &local[rnd(s) % NLOCAL];

	return (*b == NULL ? b : NULL);
}

/* A copy sharing clusters: all of it, or a prefix. */
static void
op_copy(struct mbuf *m, struct mbuf **local, uint64_t *s)
{
	struct mbuf **b = free_slot(local, s);
	int len = m->m_pkthdr.len;

	if (b == NULL)
		return;
	switch (rnd(s) % 3) {
	case 0:
		*b = m_copypacket(m, M_NOWAIT);
		break;
	case 1:
		*b = m_copym(m, 0, M_COPYALL, M_NOWAIT);
		break;
	default:
		if (len > 0)
			*b = m_copym(m, 0, (int)(rnd(s) % (uint64_t)len) + 1,
			    M_NOWAIT);
		break;
	}
	if (*b != NULL)
		check_chain(*b);
}

/* Put `plen` pattern bytes in front (in place if there is room). */
static void
op_prepend(struct mbuf **a, uint64_t *s)
{
	int plen = (int)(rnd(s) % 64 + 1);
	uint32_t base = (*a)->m_pkthdr.flowid - (uint32_t)plen;

	M_PREPEND(*a, plen, M_NOWAIT);
	if (*a == NULL)
		return;
	(*a)->m_pkthdr.flowid = base;
	CHECK((*a)->m_len >= plen);
	spat_fill(mtod(*a, char *), base, plen);
}

static void
op_split(struct mbuf *m, struct mbuf **local, uint64_t *s)
{
	struct mbuf **b = free_slot(local, s);
	int len = m->m_pkthdr.len, at;

	if (b == NULL || len == 0)
		return;
	at = (int)(rnd(s) % (uint64_t)len);
	if ((*b = m_split(m, at, M_NOWAIT)) == NULL)
		return;
	(*b)->m_pkthdr.flowid = m->m_pkthdr.flowid + (uint32_t)at;
	check_chain(*b);
}

/* Append another packet: made private and rebased to follow, then joined. */
static void
op_catpkt(struct mbuf *m, struct mbuf **local, uint64_t *s)
{
	struct mbuf **b = &local[rnd(s) % NLOCAL];

	if (*b == NULL || *b == m || m->m_pkthdr.len + (*b)->m_pkthdr.len >=
	    MAXPKT)
		return;
	if ((*b = m_unshare(*b, M_NOWAIT)) == NULL)
		return;
	chain_rebase(*b, m->m_pkthdr.flowid + (uint32_t)m->m_pkthdr.len);
	m_catpkt(m, *b);
	*b = NULL;
}

static void
op_adj(struct mbuf *m, uint64_t *s)
{
	int trim = (int)(rnd(s) % 40), len = m->m_pkthdr.len;

	if (rnd(s) & 1) {
		m_adj(m, trim);
		m->m_pkthdr.flowid += (uint32_t)(trim < len ? trim : len);
	} else
		m_adj(m, -trim);
}

/*
 * Our other packets that hold a reference to the storage n's data is in
 * are whole: a write through n did not reach them.  (Holders on other
 * threads would see it in their own checks, or TSan as a race.)
 */
static void
check_sharers(struct mbuf *n, struct mbuf **local, struct mbuf *self)
{
	if (!(n->m_flags & M_EXT))
		return;
	for (int i = 0; i < NLOCAL; i++) {
		if (local[i] == NULL || local[i] == self)
			continue;
		for (struct mbuf *x = local[i]; x != NULL; x = x->m_next)
			if ((x->m_flags & M_EXT) &&
			    x->m_ext.ext_buf == n->m_ext.ext_buf) {
				check_chain(local[i]);
				break;
			}
	}
}

/*
 * A region made contiguous: checked, written through (our other packets
 * sharing its storage must not see it), restored.
 */
static void
op_pulldown(struct mbuf **a, struct mbuf **local, uint64_t *s)
{
	struct mbuf *n;
	int len = (*a)->m_pkthdr.len, plen, off, o = 0, at = -1;
	bool use_offp = rnd(s) & 1;
	uint32_t pos;
	char *p;

	if (len == 0)
		return;
	plen = (int)(rnd(s) % (uint64_t)(len < 300 ? len : 300)) + 1;
	off = (int)(rnd(s) % (uint64_t)(len - plen + 1));
	pos = (*a)->m_pkthdr.flowid + (uint32_t)off;
	n = m_pulldown(*a, off, plen, use_offp ? &o : NULL);
	if (n == NULL) {
		*a = NULL;		/* freed with the failure */
		return;
	}
	CHECK(n->m_len - o >= plen);
	CHECK(m_getptr(*a, off, &at) == n && at == o);
	p = mtod(n, char *) + o;
	CHECK(spat_check(p, pos, plen));
	for (int i = 0; i < plen; i++)
		p[i] = (char)~p[i];
	CHECK(!spat_check(p, pos, 1));
	check_sharers(n, local, *a);
	spat_fill(p, pos, plen);
}

static void
op_defrag(struct mbuf **a)
{
	struct mbuf *d = m_defrag(*a, M_NOWAIT);

	if (d != NULL)
		*a = d;		/* else the old chain is intact */
	else
		atomic_fetch_add_explicit(&nfailed, 1, memory_order_relaxed);
}

static void
op_collapse(struct mbuf *m, uint64_t *s)
{
	int maxfrags = (int)(rnd(s) % 8) + 2;
	struct mbuf *c = m_collapse(m, M_NOWAIT, maxfrags);

	if (c != NULL)
		CHECK(c == m && mbt_count(c) <= maxfrags);
	else
		atomic_fetch_add_explicit(&nfailed, 1, memory_order_relaxed);
}

static void
op_unshare(struct mbuf **a)
{
	if ((*a = m_unshare(*a, M_NOWAIT)) == NULL)
		return;
	for (struct mbuf *x = *a; x != NULL; x = x->m_next)
		CHECK(M_WRITABLE(x));
}

static void
chain_op(int self, struct mbuf **local, uint64_t *s)
{
	struct mbuf **a = &local[rnd(s) % NLOCAL], *m;

	if (*a == NULL) {
		if (rnd(s) & 1)
			*a = chain_new(s);
		else
			handoff(self, a, s);
		return;
	}
	m = *a;
	switch (rnd(s) % 13) {
	case 0:
		op_copy(m, local, s);
		break;
	case 1:
		if (m->m_pkthdr.len >= 20)
			*a = m_pullup(m, (int)(rnd(s) % 100 <
			    (uint64_t)m->m_pkthdr.len ? rnd(s) % 100 + 1 :
			    20));
		break;
	case 2:
		op_prepend(a, s);
		break;
	case 3:
		op_split(m, local, s);
		break;
	case 4:
		op_catpkt(m, local, s);
		break;
	case 5:
		op_adj(m, s);
		break;
	case 6:
		handoff(self, a, s);
		return;
	case 7:
		chain_free(m);
		*a = NULL;
		return;
	case 8:
		op_defrag(a);
		break;
	case 9:
		op_collapse(m, s);
		break;
	case 10:
		op_unshare(a);
		break;
	case 11:
		op_pulldown(a, local, s);
		break;
	default:
		m_tag_delete_nonpersistent(m);
		break;
	}
	if (*a != NULL)
		check_chain(*a);
}

static void *
worker(void *arg)
{
	int self = (int)(intptr_t)arg;
	struct mbuf *local[NLOCAL] = { 0 };
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(self + 1), ops = 0;

	while (test_now() < deadline) {
		for (int i = 0; i < 64; i++)
			chain_op(self, local, &s);
		ops += 64;
	}
	for (int i = 0; i < NLOCAL; i++)
		if (local[i] != NULL)
			chain_free(local[i]);
	atomic_fetch_add(&nops, ops);
	return (NULL);
}

UMA_TEST(mbuf_stress_chains_across_threads_balance)
{
	pthread_t t[NTHREADS];
	struct mbt_snap before;
	struct mbuf *m;

	mbuf_init();
	mbt_snap(&before);
	for (int i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	deadline = test_now() + test_seconds(5);
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, worker,
		    (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		while (queues[i].n > 0) {
			m = queues[i].q[--queues[i].n];
			chain_free(m);
		}
	printf("%llu chain operations, %llu hand-offs, %llu refused "
	    "(defrag/collapse)\n", (unsigned long long)nops,
	    (unsigned long long)nhandoffs, (unsigned long long)nfailed);
	mbt_check_balanced(&before);
}
