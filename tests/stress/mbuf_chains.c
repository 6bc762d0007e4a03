/*
 * mbuf_chains.c - threads doing random chain operations (get, getcl,
 * copym, pullup, prepend, split, cat, tags, freem) on chains they pass to
 * each other through queues, for a bounded time (UMA_STRESS_SECONDS).
 * Proves: packet lengths stay consistent, no external reference count is
 * ever below one while a chain holds it (checked on every free here, and
 * by assertion in UMA_DEBUG builds), and at the end every mbuf zone has
 * exactly as many items with users as before.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "../unit/mbuf_test.h"

#define	NTHREADS	4
#define	NLOCAL		32
#define	QSIZE		256

struct queue {
	pthread_mutex_t	 lock;
	struct mbuf	*q[QSIZE];
	int		 n;
};

static struct queue queues[NTHREADS];
static double deadline;
static _Atomic uint64_t nops, nhandoffs;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Every external reference of the chain is held: count >= 1. */
static void
check_refs(struct mbuf *m)
{
	for (; m != NULL; m = m->m_next)
		if (m->m_flags & M_EXT)
			CHECK(m_extrefcnt(m) >= 1);
}

static void
check_len(struct mbuf *m)
{
	CHECK(m->m_flags & M_PKTHDR);
	CHECK_EQ(m_length(m, NULL), (unsigned)m->m_pkthdr.len);
}

static void
chain_free(struct mbuf *m)
{
	check_refs(m);
	m_freem(m);
}

static struct mbuf *
chain_new(uint64_t *s)
{
	static const char fill[4096] = { 0 };
	struct mbuf *m;
	int len = (int)(rnd(s) % 4000);

	if (rnd(s) & 1)
		m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	else
		m = m_gethdr(M_WAITOK, MT_DATA);
	CHECK(m != NULL);
	if (!m_append(m, len, fill))
		CHECK(0);
	if (rnd(s) % 4 == 0) {
		struct m_tag *t = m_tag_get(1, 16, M_WAITOK);

		CHECK(t != NULL);
		m_tag_prepend(m, t);
	}
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
	}
	atomic_fetch_add_explicit(&nhandoffs, 1, memory_order_relaxed);
}

static void
chain_op(int self, struct mbuf **local, uint64_t *s)
{
	struct mbuf **a = &local[rnd(s) % NLOCAL], **b, *m;
	int len, off;

	if (*a == NULL) {
		if (rnd(s) & 1)
			*a = chain_new(s);
		else
			handoff(self, a, s);
		return;
	}
	m = *a;
	len = m->m_pkthdr.len;
	switch (rnd(s) % 8) {
	case 0:		/* copym, sharing clusters */
		b = &local[rnd(s) % NLOCAL];
		if (*b == NULL) {
			off = len > 0 ? (int)(rnd(s) % (uint64_t)len) : 0;
			*b = (rnd(s) & 1) ? m_copym(m, 0, M_COPYALL,
			    M_NOWAIT) : m_copym(m, 0, off, M_NOWAIT);
			if (*b != NULL && !((*b)->m_flags & M_PKTHDR)) {
				chain_free(*b);
				*b = NULL;
			}
		}
		break;
	case 1:		/* pullup */
		if (len >= 20)
			*a = m_pullup(m, (int)(rnd(s) % 100 < (uint64_t)len ?
			    rnd(s) % 100 + 1 : 20));
		break;
	case 2:		/* prepend */
		M_PREPEND(*a, (int)(rnd(s) % 64 + 1), M_NOWAIT);
		break;
	case 3:		/* split */
		b = &local[rnd(s) % NLOCAL];
		if (*b == NULL && len > 0)
			*b = m_split(m, (int)(rnd(s) % (uint64_t)len),
			    M_NOWAIT);
		break;
	case 4:		/* cat */
		b = &local[rnd(s) % NLOCAL];
		if (*b != NULL && *b != m && len + (*b)->m_pkthdr.len <
		    100000) {
			m->m_pkthdr.len += (*b)->m_pkthdr.len;
			m_tag_delete_chain(*b, NULL);
			(*b)->m_flags &= ~M_PKTHDR;
			m_cat(m, *b);
			*b = NULL;
		}
		break;
	case 5:		/* adj */
		m_adj(m, (rnd(s) & 1) ? 10 : -10);
		break;
	case 6:
		handoff(self, a, s);
		break;
	default:
		chain_free(m);
		*a = NULL;
		break;
	}
	for (int i = 0; i < NLOCAL; i++)
		if (local[i] != NULL)
			check_len(local[i]);
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
	printf("%llu chain operations, %llu hand-offs\n",
	    (unsigned long long)nops, (unsigned long long)nhandoffs);
	mbt_check_balanced(&before);
}
