/*
 * mbuf_pull.c - making headers contiguous in the middle of a chain
 * (m_pulldown, KAME's) and at its front with room to prepend (m_copyup).
 * m_pullup, the classic, is in mbuf_chain.c.
 *
 * Layer: mbuf, on mbuf.c's allocation and free.  FreeBSD's uipc_mbuf.c
 * and uipc_mbuf2.c define the semantics: bytes before the requested
 * region never move, the packet length never changes, and a failure
 * frees the chain.  Neither function waits for memory (FreeBSD's do not).
 */
#include "mbuf_int.h"

static inline int
imin(int a, int b)
{
	return (a < b ? a : b);
}

/*
 * May m_pulldown write into n's buffer?  Its own storage, or a cluster of
 * uma's zones that nobody shares.  (FreeBSD allows only EXT_CLUSTER, and
 * its comment calls that too strict; the packet zone's and the jumbo
 * clusters are the same kind of memory.)  Caller storage is never written.
 */
static bool
pulldown_writable(struct mbuf *n)
{
	if (!M_WRITABLE(n))
		return (false);
	if (!(n->m_flags & M_EXT))
		return (true);
	switch (n->m_ext.ext_type) {
	case EXT_CLUSTER:
	case EXT_PACKET:
	case EXT_JUMBOP:
	case EXT_JUMBO9:
	case EXT_JUMBO16:
		return (true);
	default:
		return (false);
	}
}

/*
 * A fresh mbuf (with a cluster for more than MLEN bytes) for len bytes,
 * or NULL.  A plain data mbuf, never a packet header.
 */
static struct mbuf *
pulldown_get(int len, short type)
{
	if (len > MLEN)
		return (m_get3(len, M_NOWAIT, type, 0));
	return (m_get(M_NOWAIT, type));
}

/*
 * The region is [off, off + len) of n's data, off > 0 or the caller gave
 * no offp, or n is not writable: move n's bytes from off on into a new
 * mbuf after n, which then holds the region at its start.
 */
static struct mbuf *
pulldown_split(struct mbuf *n, int off)
{
	struct mbuf *o;
	int rest = n->m_len - off;

	if ((o = pulldown_get(rest, (short)n->m_type)) == NULL)
		return (NULL);
	memcpy(mtod(o, char *), mtod(n, char *) + off, (size_t)rest);
	o->m_len = rest;
	n->m_len = off;
	o->m_next = n->m_next;
	n->m_next = o;
	return (o);
}

/*
 * The region straddles n (hlen bytes from off to its end) and what
 * follows (tlen bytes): gather it into a new mbuf put after n.
 */
static struct mbuf *
pulldown_gather(struct mbuf *n, int off, int hlen, int tlen)
{
	struct mbuf *o;

	if ((o = pulldown_get(hlen + tlen, (short)n->m_type)) == NULL)
		return (NULL);
	memcpy(mtod(o, char *), mtod(n, char *) + off, (size_t)hlen);
	n->m_len -= hlen;
	m_copydata(n->m_next, 0, tlen, mtod(o, char *) + hlen);
	o->m_len = hlen + tlen;
	m_adj(n->m_next, tlen);
	o->m_next = n->m_next;
	n->m_next = o;
	return (o);
}

/* See mbuf.h */
struct mbuf *
m_pulldown(struct mbuf *m, int off, int len, int *offp)
{
	struct mbuf *n, *o;
	int hlen, tlen, olen;
	bool writable, startok;

	if (m == NULL)
		mbuf_panic("m_pulldown: NULL chain");
	if (off < 0 || len < 0 || len > MCLBYTES)
		goto fail;
	for (n = m; n != NULL && off > 0 && off >= n->m_len; n = n->m_next)
		off -= n->m_len;
	while (n != NULL && n->m_len == 0)
		n = n->m_next;
	if (n == NULL)
		goto fail;		/* the chain ends before off */
	writable = pulldown_writable(n);
	startok = off == 0 || offp != NULL;
	if (len <= n->m_len - off) {
		/* In n already: done, unless n's start or storage won't do. */
		if (!(startok && writable)) {
			if ((n = pulldown_split(n, off)) == NULL)
				goto fail;
			off = 0;
		}
		goto ok;
	}
	hlen = n->m_len - off;
	tlen = len - hlen;
	for (olen = 0, o = n->m_next; o != NULL; o = o->m_next)
		olen += o->m_len;
	if (olen < tlen)
		goto fail;		/* the chain ends inside the region */
	if (startok && writable && M_TRAILINGSPACE(n) >= tlen) {
		/* Pull the tail into n's free room. */
		m_copydata(n->m_next, 0, tlen, mtod(n, char *) + n->m_len);
		n->m_len += tlen;
		m_adj(n->m_next, tlen);
		goto ok;
	}
	o = n->m_next;
	if (startok && pulldown_writable(o) && o->m_len >= tlen &&
	    M_LEADINGSPACE(o) >= hlen) {
		/*
		 * Push n's part into the room in front of the next mbuf,
		 * which holds the rest and is where the region will be
		 * written (FreeBSD tests n's writability instead, and
		 * forgets to check that o holds the rest; NetBSD checks).
		 */
		o->m_data -= hlen;
		o->m_len += hlen;
		memcpy(mtod(o, char *), mtod(n, char *) + off, (size_t)hlen);
		n->m_len -= hlen;
		n = o;
		off = 0;
		goto ok;
	}
	if ((n = pulldown_gather(n, off, hlen, tlen)) == NULL)
		goto fail;
	off = 0;
ok:
	if (offp != NULL)
		*offp = off;
	return (n);
fail:
	m_freem(m);
	return (NULL);
}

/*
 * m_pullup's and m_copyup's common end: move len bytes from the front of
 * chain n to the end of m's data, which has `space` bytes of room after
 * it, freeing the mbufs it empties; m then heads what is left of n.  A
 * chain shorter than len frees both and gives NULL, as FreeBSD's do.
 */
struct mbuf *
mb__gather(struct mbuf *m, struct mbuf *n, int len, int space)
{
	int count;

	do {
		count = imin(imin(len, space), n->m_len);
		memcpy(mtod(m, char *) + m->m_len, mtod(n, char *),
		    (size_t)count);
		len -= count;
		m->m_len += count;
		n->m_len -= count;
		space -= count;
		if (n->m_len != 0)
			n->m_data += count;
		else
			n = m_free(n);
	} while (len > 0 && n != NULL);
	if (len > 0) {
		(void)m_free(m);
		m_freem(n);
		return (NULL);
	}
	m->m_next = n;
	return (m);
}

/* See mbuf.h */
struct mbuf *
m_copyup(struct mbuf *n, int len, int dstoff)
{
	struct mbuf *m;

	if (dstoff < 0 || len > MHLEN - dstoff)
		goto bad;
	if ((m = m_get(M_NOWAIT, (short)n->m_type)) == NULL)
		goto bad;
	if (n->m_flags & M_PKTHDR)
		m_move_pkthdr(m, n);
	m->m_data += dstoff;
	return (mb__gather(m, n, len,
	    (int)(M_START(m) + M_SIZE(m) - (m->m_data + m->m_len))));
bad:
	m_freem(n);
	return (NULL);
}
