/*
 * mbuf_copy.c - reading and copying whole chains: m_copypacket, m_apply,
 * m_getptr, and the scatter/gather pair m_uiotombuf / m_mbuftouio.
 *
 * Layer: mbuf, on mbuf.c's allocation and free and mbuf_get.c's m_getm2.
 * FreeBSD's uipc_mbuf.c defines the semantics.  FreeBSD moves data to and
 * from a struct uio, which user space does not have: here the caller's
 * iovec array stands for the uio and is left unchanged (see mbuf.h).
 */
#include <errno.h>
#include <limits.h>
#include <sys/uio.h>

#include "mbuf_int.h"

static inline int
imin(int a, int b)
{
	return (a < b ? a : b);
}

/*
 * n (fresh, no storage) gets m's data: a reference to m's external
 * storage, or a copy at the same offset from the buffer's start, so that
 * room left in front of the data for headers is still there.
 */
static void
copypacket_one(struct mbuf *n, struct mbuf *m)
{
	n->m_len = m->m_len;
	if (m->m_flags & M_EXT) {
		n->m_data = m->m_data;
		mb__dupcl(n, m);
		return;
	}
	n->m_data = M_START(n) + (m->m_data - M_START(m));
	memcpy(n->m_data, m->m_data, (size_t)m->m_len);
}

/* See mbuf.h */
struct mbuf *
m_copypacket(struct mbuf *m, int how)
{
	struct mbuf *top = NULL, **np = &top, *n;

	M_ASSERTPKTHDR(m);
	for (; m != NULL; m = m->m_next) {
		if ((n = m_get(how, (short)m->m_type)) == NULL)
			goto nospace;
		*np = n;
		np = &n->m_next;
		if (n == top && !m_dup_pkthdr(n, m, how))
			goto nospace;
		copypacket_one(n, m);
	}
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

/* See mbuf.h */
int
m_apply(struct mbuf *m, int off, int len,
    int (*f)(void *, void *, unsigned int), void *arg)
{
	int count, rval;

	UMA_ASSERT(off >= 0 && len >= 0, "m_apply: off %d len %d", off, len);
	while (m != NULL && off > 0 && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	for (; len > 0 && m != NULL; m = m->m_next, off = 0) {
		count = imin(m->m_len - off, len);
		if ((rval = f(arg, mtod(m, char *) + off,
		    (unsigned int)count)) != 0)
			return (rval);
		len -= count;
	}
	UMA_ASSERT(len <= 0, "m_apply: chain too short by %d", len);
	return (0);
}

/* See mbuf.h */
struct mbuf *
m_getptr(struct mbuf *m, int loc, int *off)
{
	if (loc < 0)
		return (NULL);
	for (; m != NULL; m = m->m_next) {
		if (loc < m->m_len) {
			*off = loc;
			return (m);
		}
		loc -= m->m_len;
		if (m->m_next == NULL && loc == 0) {
			*off = m->m_len;	/* just past the data */
			return (m);
		}
	}
	return (NULL);
}

/* A position in an iovec array, and the bytes the array holds. */
struct iov_cursor {
	const struct iovec	*ic_iov;
	int			 ic_cnt;
	size_t			 ic_off;	/* into ic_iov[0] */
};

static size_t
iov_bytes(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	return (total);
}

/*
 * Move len bytes between buf and the vectors at the cursor (into the
 * vectors if `out`), advancing the cursor; the caller checked that the
 * vectors hold them.
 */
static void
iov_move(struct iov_cursor *ic, char *buf, size_t len, bool out)
{
	size_t n;
	char *base;

	while (len > 0) {
		if (ic->ic_off == ic->ic_iov->iov_len) {
			ic->ic_iov++;
			ic->ic_cnt--;
			ic->ic_off = 0;
			continue;
		}
		n = ic->ic_iov->iov_len - ic->ic_off;
		if (n > len)
			n = len;
		base = (char *)ic->ic_iov->iov_base + ic->ic_off;
		if (out)
			memcpy(base, buf, n);
		else
			memcpy(buf, base, n);
		ic->ic_off += n;
		buf += n;
		len -= n;
	}
}

/* See mbuf.h */
struct mbuf *
m_uiotombuf(const struct iovec *iov, int iovcnt, int how, int len,
    int align, int flags)
{
	struct iov_cursor ic = { iov, iovcnt, 0 };
	struct mbuf *m, *mb;
	size_t avail;
	int total, progress = 0, n;

	if (iovcnt < 0 || align < 0 || align >= MHLEN)
		return (NULL);
	avail = iov_bytes(iov, iovcnt);
	if (avail > (size_t)(INT_MAX - MHLEN))
		avail = (size_t)(INT_MAX - MHLEN);
	total = len > 0 && (size_t)len < avail ? len : (int)avail;
	m = m_getm2(NULL, total + align > 0 ? total + align : 1, how, MT_DATA,
	    flags);
	if (m == NULL)
		return (NULL);
	m->m_data += align;
	for (mb = m; mb != NULL; mb = mb->m_next) {
		n = imin(M_TRAILINGSPACE(mb), total - progress);
		iov_move(&ic, mtod(mb, char *), (size_t)n, false);
		mb->m_len = n;
		progress += n;
	}
	if (flags & M_PKTHDR)
		m->m_pkthdr.len = progress;
	return (m);
}

/* See mbuf.h */
int
m_mbuftouio(const struct iovec *iov, int iovcnt, const struct mbuf *m,
    int len)
{
	struct iov_cursor ic = { iov, iovcnt, 0 };
	size_t room, n, done = 0;

	if (iovcnt < 0) {
		errno = EINVAL;
		return (-1);
	}
	room = iov_bytes(iov, iovcnt);
	if (len > 0 && (size_t)len < room)
		room = (size_t)len;
	if (room > INT_MAX)
		room = INT_MAX;
	for (; m != NULL && done < room; m = m->m_next) {
		n = (size_t)m->m_len;
		if (n > room - done)
			n = room - done;
		iov_move(&ic, mtod(m, char *), n, true);
		done += n;
	}
	return ((int)done);
}
