/*
 * mbuf_defrag.c - reshaping chains: fewer, fuller mbufs for a driver's
 * scatter list (m_defrag, m_collapse) and private, writable storage for
 * code that rewrites a packet in place (m_unshare).
 *
 * Layer: mbuf, on mbuf.c's allocation and free.  FreeBSD's uipc_mbuf.c
 * defines the semantics, including who owns the chain after a failure
 * (m_defrag: the caller, untouched; m_collapse: the caller, maybe partly
 * collapsed; m_unshare: nobody, it is freed).  New mbufs and clusters take
 * the type of the mbufs they replace (FreeBSD uses MT_DATA).
 */
#include "mbuf_int.h"

static inline int
imin(int a, int b)
{
	return (a < b ? a : b);
}

/* See mbuf.h */
struct mbuf *
m_defrag(struct mbuf *m0, int how)
{
	struct mbuf *top, *tail, *n;
	short type = (short)m0->m_type;
	int len, chunk, progress;

	if (!(m0->m_flags & M_PKTHDR))
		return (m0);
	len = (int)m_fixhdr(m0);
	top = len > MHLEN ? m_getcl(how, type, M_PKTHDR) :
	    m_gethdr(how, type);
	if (top == NULL)
		return (NULL);
	if (!m_dup_pkthdr(top, m0, how))
		goto nospace;
	top->m_flags &= ~(uint32_t)M_RDONLY;	/* the copy is private */
	tail = n = top;
	for (progress = 0; progress < len; progress += chunk) {
		chunk = imin(len - progress, MCLBYTES);
		if (n == NULL) {
			n = chunk > MLEN ? m_getcl(how, type, 0) :
			    m_get(how, type);
			if (n == NULL)
				goto nospace;
			tail->m_next = n;
			tail = n;
		}
		m_copydata(m0, progress, chunk, mtod(n, char *));
		n->m_len = chunk;
		n = NULL;
	}
	m_freem(m0);
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

/*
 * m_collapse's first technique, from m on: copy each mbuf into the free
 * room of the one before when it fits.  Returns true once the chain is
 * down to maxfrags (*nfrags counts it).
 */
static bool
collapse_into_room(struct mbuf *m, int *nfrags, int maxfrags)
{
	struct mbuf *n;

	while ((n = m->m_next) != NULL) {
		if (n->m_len > M_TRAILINGSPACE(m)) {
			m = n;
			continue;
		}
		memcpy(mtod(m, char *) + m->m_len, mtod(n, char *),
		    (size_t)n->m_len);
		m->m_len += n->m_len;
		m->m_next = n->m_next;
		m_free(n);
		if (--*nfrags <= maxfrags)
			return (true);
	}
	return (false);
}

/*
 * m_collapse's second technique: the first pair of mbufs after the first
 * whose data fit in one cluster is replaced by that cluster.  Returns it,
 * or NULL (*error set if no cluster could be had, clear if no pair fits).
 */
static struct mbuf *
collapse_pair(struct mbuf *m0, int how, bool *error)
{
	struct mbuf **prev, *n, *n2, *c;

	*error = false;
	for (prev = &m0->m_next; (n = *prev) != NULL; prev = &n->m_next) {
		n2 = n->m_next;
		if (n2 == NULL || n->m_len + n2->m_len > MCLBYTES)
			continue;
		if ((c = m_getcl(how, (short)n->m_type, 0)) == NULL) {
			*error = true;
			return (NULL);
		}
		memcpy(mtod(c, char *), mtod(n, char *), (size_t)n->m_len);
		memcpy(mtod(c, char *) + n->m_len, mtod(n2, char *),
		    (size_t)n2->m_len);
		c->m_len = n->m_len + n2->m_len;
		c->m_next = n2->m_next;
		*prev = c;
		m_free(n);
		m_free(n2);
		return (c);
	}
	return (NULL);
}

/*
 * See mbuf.h.  Unlike FreeBSD's, a chain already within maxfrags is
 * returned at once (FreeBSD's can return NULL for it when nothing
 * collapses, e.g. two full clusters and maxfrags 4).
 */
struct mbuf *
m_collapse(struct mbuf *m0, int how, int maxfrags)
{
	struct mbuf *m, *from = m0;
	int nfrags = 0;
	bool error;

	for (m = m0; m != NULL; m = m->m_next)
		nfrags++;
	if (nfrags <= maxfrags)
		return (m0);
	for (;;) {
		if (collapse_into_room(from, &nfrags, maxfrags))
			return (m0);
		/* A pair into a cluster leaves at least the first and it. */
		if (maxfrags < 2)
			return (NULL);
		if ((from = collapse_pair(m0, how, &error)) == NULL)
			return (NULL);
		if (--nfrags <= maxfrags)
			return (m0);
	}
}

/*
 * m_unshare: copy m's data into new clusters (several if m holds more
 * than MCLBYTES: drivers cannot take a larger contiguous buffer), moving
 * its packet header to the first.  Returns the first, *lastp the last,
 * or NULL.
 */
static struct mbuf *
unshare_copy(struct mbuf *m, int how, struct mbuf **lastp)
{
	struct mbuf *first = NULL, *last = NULL, *n;
	int flags = (int)(m->m_flags & M_COPYFLAGS & ~(M_PKTHDR | M_RDONLY));
	int off = 0, cc;

	do {
		if ((n = m_getcl(how, (short)m->m_type, flags)) == NULL) {
			m_freem(first);
			return (NULL);
		}
		if (first == NULL) {
			first = n;
			if (m->m_flags & M_PKTHDR) {
				m_move_pkthdr(n, m);
				n->m_flags &= ~(uint32_t)M_RDONLY;
			}
		} else
			last->m_next = n;
		last = n;
		cc = imin(m->m_len - off, MCLBYTES);
		memcpy(mtod(n, char *), mtod(m, char *) + off, (size_t)cc);
		n->m_len = cc;
		off += cc;
	} while (off < m->m_len);
	*lastp = last;
	return (first);
}

/*
 * See mbuf.h.  Mbufs in place stay unless a cluster before them has room
 * for them: being copied anyway, shared storage goes there first, and
 * small mbufs follow it so that later clusters can be merged too.
 */
struct mbuf *
m_unshare(struct mbuf *m0, int how)
{
	struct mbuf *m, *prev = NULL, *first, *last;

	for (m = m0; m != NULL; m = prev != NULL ? prev->m_next : m0) {
		bool shared = (m->m_flags & M_EXT) && !M_WRITABLE(m);

		if (prev != NULL && (prev->m_flags & M_EXT) &&
		    (shared || !(m->m_flags & M_EXT)) &&
		    m->m_len <= M_TRAILINGSPACE(prev)) {
			memcpy(mtod(prev, char *) + prev->m_len,
			    mtod(m, char *), (size_t)m->m_len);
			prev->m_len += m->m_len;
			prev->m_next = m->m_next;
			m_free(m);
			continue;
		}
		if (!shared) {
			prev = m;
			continue;
		}
		if ((first = unshare_copy(m, how, &last)) == NULL) {
			m_freem(m0);
			return (NULL);
		}
		last->m_next = m->m_next;
		if (prev == NULL)
			m0 = first;
		else
			prev->m_next = first;
		m_free(m);
		prev = last;
	}
	return (m0);
}
