/*
 * mbuf_chain.c - the chain KPI: copying into, out of and between chains,
 * trimming, splitting, joining (m_cat, m_catpkt), making headers
 * contiguous (m_pullup), and the packet header's moves (m_move_pkthdr,
 * m_dup_pkthdr, m_demote, m_fixhdr).  More of the KPI, by role:
 * mbuf_copy.c, mbuf_pull.c, mbuf_defrag.c, mbuf_get.c, mbuf_debug.c.
 *
 * Layer: mbuf, on mbuf.c's allocation and free.  FreeBSD's uipc_mbuf.c is
 * the model and its semantics are kept (including what each function does
 * with a packet header), so code written for mbuf(9) behaves the same.
 * External storage is shared (m_copym, m_split), never written through a
 * shared reference by these functions except m_copyback, as in FreeBSD.
 */
#include <string.h>

#include "mbuf_int.h"

static inline int
imin(int a, int b)
{
	return (a < b ? a : b);
}

/* See mbuf.h */
void
m_align(struct mbuf *m, int len)
{
	m->m_data += (M_SIZE(m) - len) & ~(int)(sizeof(long) - 1);
}

/* See mbuf.h */
void
m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	to->m_flags = (from->m_flags & M_COPYFLAGS) | (to->m_flags & M_EXT);
	if (!(to->m_flags & M_EXT))
		to->m_data = to->m_pktdat;
	to->m_pkthdr = from->m_pkthdr;
	from->m_pkthdr.tags.slh_first = NULL;
	from->m_flags &= ~M_PKTHDR;
}

/* See mbuf.h */
int
m_dup_pkthdr(struct mbuf *to, const struct mbuf *from, int how)
{
	to->m_flags = (from->m_flags & M_COPYFLAGS) | (to->m_flags & M_EXT);
	if (!(to->m_flags & M_EXT))
		to->m_data = to->m_pktdat;
	to->m_pkthdr = from->m_pkthdr;
	to->m_pkthdr.tags.slh_first = NULL;
	return (m_tag_copy_chain(to, from, how));
}

/* See mbuf.h */
struct mbuf *
m_copym(struct mbuf *m, int off0, int len, int how)
{
	struct mbuf *n, **np, *top = NULL;
	int off = off0, copyhdr = off == 0 && (m->m_flags & M_PKTHDR);

	while (m != NULL && off >= m->m_len && off > 0) {
		off -= m->m_len;
		m = m->m_next;
	}
	np = &top;
	while (len > 0 && m != NULL) {
		n = copyhdr ? m_gethdr(how, (short)m->m_type) :
		    m_get(how, (short)m->m_type);
		*np = n;
		if (n == NULL)
			goto nospace;
		if (copyhdr) {
			if (!m_dup_pkthdr(n, m, how))
				goto nospace;
			n->m_pkthdr.len = len == M_COPYALL ?
			    n->m_pkthdr.len - off0 : len;
			copyhdr = 0;
		}
		n->m_len = imin(len, m->m_len - off);
		if (m->m_flags & M_EXT) {
			n->m_data = m->m_data + off;
			mb__dupcl(n, m);
		} else
			memcpy(mtod(n, char *), mtod(m, char *) + off,
			    (size_t)n->m_len);
		if (len != M_COPYALL)
			len -= n->m_len;
		off = 0;
		m = m->m_next;
		np = &n->m_next;
	}
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

/* See mbuf.h */
struct mbuf *
m_dup(const struct mbuf *m, int how)
{
	struct mbuf **p, *n, *top = NULL;
	int remain, moff = 0, nsize, chunk;

	if (m == NULL || !(m->m_flags & M_PKTHDR))
		return (NULL);
	remain = m->m_pkthdr.len;
	p = &top;
	while (remain > 0 || top == NULL) {
		if (remain >= MINCLSIZE) {
			n = m_getcl(how, (short)m->m_type, 0);
			nsize = MCLBYTES;
		} else {
			n = m_get(how, (short)m->m_type);
			nsize = MLEN;
		}
		if (n == NULL)
			goto nospace;
		if (top == NULL) {
			if (!m_dup_pkthdr(n, m, how)) {
				m_free(n);
				goto nospace;
			}
			if (!(n->m_flags & M_EXT))
				nsize = MHLEN;
			n->m_flags &= ~M_RDONLY;
		}
		n->m_len = 0;
		*p = n;
		p = &n->m_next;
		while (n->m_len < nsize && m != NULL) {
			chunk = imin(nsize - n->m_len, m->m_len - moff);
			memcpy(n->m_data + n->m_len, m->m_data + moff,
			    (size_t)chunk);
			moff += chunk;
			n->m_len += chunk;
			remain -= chunk;
			if (moff == m->m_len) {
				m = m->m_next;
				moff = 0;
			}
		}
		if (m == NULL)		/* m_pkthdr.len said more: stop */
			break;
	}
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

/* See mbuf.h */
void
m_copydata(const struct mbuf *m, int off, int len, void *cp)
{
	char *p = cp;
	int count;

	while (off > 0 && m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0 && m != NULL) {
		count = imin(m->m_len - off, len);
		memcpy(p, mtod(m, char *) + off, (size_t)count);
		len -= count;
		p += count;
		off = 0;
		m = m->m_next;
	}
	UMA_ASSERT(len == 0, "m_copydata: chain %p too short by %d", cp, len);
}

/* See mbuf.h */
void
m_copyback(struct mbuf *m0, int off, int len, const void *cp0)
{
	const char *cp = cp0;
	struct mbuf *m = m0, *n;
	int mlen, totlen = 0;

	if (m0 == NULL)
		return;
	while (off > (mlen = m->m_len)) {
		off -= mlen;
		totlen += mlen;
		if (m->m_next == NULL) {
			if ((n = m_get(M_NOWAIT, (short)m->m_type)) == NULL)
				goto out;
			memset(mtod(n, char *), 0, MLEN);
			n->m_len = imin(MLEN, len + off);
			m->m_next = n;
		}
		m = m->m_next;
	}
	while (len > 0) {
		if (m->m_next == NULL && len > m->m_len - off)
			m->m_len += imin(len - (m->m_len - off),
			    M_TRAILINGSPACE(m));
		mlen = imin(m->m_len - off, len);
		memcpy(mtod(m, char *) + off, cp, (size_t)mlen);
		cp += mlen;
		len -= mlen;
		totlen += mlen + off;
		off = 0;
		if (len == 0)
			break;
		if (m->m_next == NULL) {
			if ((n = m_get(M_NOWAIT, (short)m->m_type)) == NULL)
				break;
			n->m_len = imin(MLEN, len);
			m->m_next = n;
		}
		m = m->m_next;
	}
out:
	if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len < totlen)
		m0->m_pkthdr.len = totlen;
}

/* See mbuf.h */
int
m_append(struct mbuf *m0, int len, const void *cp0)
{
	const char *cp = cp0;
	struct mbuf *m, *n;
	int remainder = len, space;

	for (m = m0; m->m_next != NULL; m = m->m_next)
		;
	space = M_TRAILINGSPACE(m);
	if (space > 0) {
		space = imin(space, remainder);
		memcpy(mtod(m, char *) + m->m_len, cp, (size_t)space);
		m->m_len += space;
		cp += space;
		remainder -= space;
	}
	while (remainder > 0) {
		if ((n = m_get(M_NOWAIT, (short)m->m_type)) == NULL)
			break;
		n->m_len = imin(MLEN, remainder);
		memcpy(mtod(n, char *), cp, (size_t)n->m_len);
		cp += n->m_len;
		remainder -= n->m_len;
		m->m_next = n;
		m = n;
	}
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len += len - remainder;
	return (remainder == 0);
}

/* See mbuf.h */
struct mbuf *
m_prepend(struct mbuf *m, int len, int how)
{
	struct mbuf *mn;

	mn = (m->m_flags & M_PKTHDR) ? m_gethdr(how, (short)m->m_type) :
	    m_get(how, (short)m->m_type);
	if (mn == NULL) {
		m_freem(m);
		return (NULL);
	}
	if (m->m_flags & M_PKTHDR)
		m_move_pkthdr(mn, m);
	mn->m_next = m;
	if (len < M_SIZE(mn))
		m_align(mn, len);
	mn->m_len = len;
	return (mn);
}

/* See mbuf.h */
struct mbuf *
m_pullup(struct mbuf *n, int len)
{
	struct mbuf *m;

	if (n->m_len >= len)
		return (n);
	/*
	 * If the first mbuf has no external storage and room for len bytes
	 * without moving its data, pull up into it; otherwise put a new
	 * mbuf in front.
	 */
	if (!(n->m_flags & M_EXT) && n->m_data + len < &n->m_dat[MLEN] &&
	    n->m_next != NULL) {
		m = n;
		n = n->m_next;
		len -= m->m_len;
	} else {
		if (len > MHLEN)
			goto bad;
		if ((m = m_get(M_NOWAIT, (short)n->m_type)) == NULL)
			goto bad;
		if (n->m_flags & M_PKTHDR)
			m_move_pkthdr(m, n);
	}
	return (mb__gather(m, n, len,
	    (int)(&m->m_dat[MLEN] - (m->m_data + m->m_len))));
bad:
	m_freem(n);
	return (NULL);
}

/* See mbuf.h */
void
m_adj(struct mbuf *mp, int req_len)
{
	struct mbuf *m = mp;
	int len = req_len, count;

	if (m == NULL)
		return;
	if (len >= 0) {
		/* Trim from the head. */
		while (m != NULL && len > 0) {
			if (m->m_len <= len) {
				len -= m->m_len;
				m->m_len = 0;
				m = m->m_next;
			} else {
				m->m_len -= len;
				m->m_data += len;
				len = 0;
			}
		}
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len -= req_len - len;
		return;
	}
	/* Trim from the tail: find the length to keep, cut there. */
	len = -len;
	count = 0;
	for (;;) {
		count += m->m_len;
		if (m->m_next == NULL)
			break;
		m = m->m_next;
	}
	if (m->m_len >= len) {
		m->m_len -= len;
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len -= len;
		return;
	}
	count = count > len ? count - len : 0;
	if (mp->m_flags & M_PKTHDR)
		mp->m_pkthdr.len = count;
	for (m = mp; m != NULL; m = m->m_next) {
		if (m->m_len >= count) {
			m->m_len = count;
			if (m->m_next != NULL) {
				m_freem(m->m_next);
				m->m_next = NULL;
			}
			break;
		}
		count -= m->m_len;
	}
}

/* See mbuf.h */
unsigned int
m_length(struct mbuf *m0, struct mbuf **last)
{
	struct mbuf *m;
	unsigned int len = 0;

	for (m = m0; m != NULL; m = m->m_next) {
		len += (unsigned int)m->m_len;
		if (m->m_next == NULL)
			break;
	}
	if (last != NULL)
		*last = m;
	return (len);
}

/* See mbuf.h */
void
m_cat(struct mbuf *m, struct mbuf *n)
{
	while (m->m_next != NULL)
		m = m->m_next;
	while (n != NULL) {
		if (!M_WRITABLE(m) || (n->m_flags & M_EXT) ||
		    M_TRAILINGSPACE(m) < n->m_len) {
			m->m_next = n;	/* just join the chains */
			return;
		}
		memcpy(mtod(m, char *) + m->m_len, mtod(n, char *),
		    (size_t)n->m_len);
		m->m_len += n->m_len;
		n = m_free(n);
	}
}

/* See mbuf.h */
struct mbuf *
m_split(struct mbuf *m0, int len0, int how)
{
	struct mbuf *m, *n;
	int len = len0, remain;

	for (m = m0; m != NULL && len > m->m_len; m = m->m_next)
		len -= m->m_len;
	if (m == NULL)
		return (NULL);
	remain = m->m_len - len;
	if ((m0->m_flags & M_PKTHDR) && remain == 0) {
		if ((n = m_gethdr(how, (short)m0->m_type)) == NULL)
			return (NULL);
		n->m_next = m->m_next;
		m->m_next = NULL;
		n->m_pkthdr.rcvif = m0->m_pkthdr.rcvif;
		n->m_pkthdr.len = m0->m_pkthdr.len - len0;
		m0->m_pkthdr.len = len0;
		return (n);
	} else if (m0->m_flags & M_PKTHDR) {
		if ((n = m_gethdr(how, (short)m0->m_type)) == NULL)
			return (NULL);
		n->m_pkthdr.rcvif = m0->m_pkthdr.rcvif;
		n->m_pkthdr.len = m0->m_pkthdr.len - len0;
		if (m->m_flags & M_EXT)
			goto extpacket;
		if (remain > MHLEN) {
			/* The tail cannot fit the header mbuf: split m. */
			m_align(n, 0);
			n->m_next = m_split(m, len, how);
			if (n->m_next == NULL) {
				(void)m_free(n);
				return (NULL);
			}
			m0->m_pkthdr.len = len0;
			n->m_len = 0;
			return (n);
		}
		m_align(n, remain);
	} else if (remain == 0) {
		n = m->m_next;
		m->m_next = NULL;
		return (n);
	} else {
		if ((n = m_get(how, (short)m->m_type)) == NULL)
			return (NULL);
		m_align(n, remain);
	}
extpacket:
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len = len0;
	if (m->m_flags & M_EXT) {
		n->m_data = m->m_data + len;
		mb__dupcl(n, m);
	} else
		memcpy(mtod(n, char *), mtod(m, char *) + len,
		    (size_t)remain);
	n->m_len = remain;
	m->m_len = len;
	n->m_next = m->m_next;
	m->m_next = NULL;
	return (n);
}

/* See mbuf.h */
unsigned int
m_fixhdr(struct mbuf *m)
{
	unsigned int len = m_length(m, NULL);

	m->m_pkthdr.len = (int32_t)len;
	return (len);
}

/* See mbuf.h */
void
m_demote_pkthdr(struct mbuf *m)
{
	M_ASSERTPKTHDR(m);
	m_tag_delete_chain(m, NULL);
	m->m_flags &= ~(uint32_t)M_PKTHDR;
	memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
}

/* See mbuf.h */
void
m_demote(struct mbuf *m0, int all, int flags)
{
	struct mbuf *m;

	for (m = all ? m0 : m0->m_next; m != NULL; m = m->m_next) {
		UMA_ASSERT(m->m_nextpkt == NULL, "m_demote: m_nextpkt set "
		    "in mbuf %p of chain %p", (void *)m, (void *)m0);
		if (m->m_flags & M_PKTHDR)
			m_demote_pkthdr(m);
		m->m_flags &= (uint32_t)(M_EXT | M_RDONLY | M_NOFREE | flags);
	}
}

/* See mbuf.h */
void
m_catpkt(struct mbuf *m, struct mbuf *n)
{
	M_ASSERTPKTHDR(m);
	M_ASSERTPKTHDR(n);
	m->m_pkthdr.len += n->m_pkthdr.len;
	m_demote(n, 1, 0);
	m_cat(m, n);
}
