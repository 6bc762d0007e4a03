/*
 * mbuf_get.c - allocation by size: the smallest mbuf or mbuf + cluster
 * that holds a given number of bytes (m_get2, m_get3), and whole chains
 * of a given capacity (m_getm2).
 *
 * Layer: mbuf, on mbuf.c's allocation functions and the zones of
 * mbuf_int.h; never touches a zone's insides.  FreeBSD's kern_mbuf.c
 * defines what each returns; the zone chosen for each size is the same.
 */
#include "mbuf_int.h"

/*
 * An mbuf with `flags` (M_PKTHDR and others) and no storage: m_gethdr and
 * m_get set only M_PKTHDR or nothing.
 */
static struct mbuf *
mb_get_flags(int how, short type, int flags)
{
	struct mb_args args = { flags, type };

	mb_ensure_init();
	return (uma_zalloc_arg(mb_zones.mz_mbuf, &args, how));
}

/* See mbuf.h */
struct mbuf *
m_get2(int size, int how, short type, int flags)
{
	if (size <= MHLEN || (size <= MLEN && !(flags & M_PKTHDR)))
		return (mb_get_flags(how, type, flags));
	if (size <= MCLBYTES)
		return (m_getcl(how, type, flags));
	if (size <= MJUMPAGESIZE)
		return (m_getjcl(how, type, flags, MJUMPAGESIZE));
	return (NULL);
}

/* See mbuf.h */
struct mbuf *
m_get3(int size, int how, short type, int flags)
{
	if (size <= MJUMPAGESIZE)
		return (m_get2(size, how, type, flags));
	if (size <= MJUM9BYTES)
		return (m_getjcl(how, type, flags, MJUM9BYTES));
	if (size <= MJUM16BYTES)
		return (m_getjcl(how, type, flags, MJUM16BYTES));
	return (NULL);
}

/*
 * The next mbuf of an m_getm2 chain for `len` more bytes.  A page-sized
 * jumbo cluster is tried without waiting first, as FreeBSD does: a 2k
 * cluster is the size that must not fail, the larger one a saving.
 */
static struct mbuf *
getm2_one(int len, int how, short type, int pkthdr)
{
	struct mbuf *m = NULL;

	if (len > MCLBYTES)
		m = m_getjcl(M_NOWAIT, type, pkthdr, MJUMPAGESIZE);
	if (m != NULL)
		return (m);
	if (len >= MINCLSIZE)
		return (m_getcl(how, type, pkthdr));
	return (pkthdr ? m_gethdr(how, type) : m_get(how, type));
}

/* See mbuf.h */
struct mbuf *
m_getm2(struct mbuf *m, int len, int how, short type, int flags)
{
	struct mbuf *top = NULL, *tail = NULL, *n;

	if (len < 0)
		return (NULL);
	flags &= M_PKTHDR | M_EOR;
	if (m != NULL)
		flags &= ~M_PKTHDR;	/* only a chain's first mbuf has one */
	while (len > 0) {
		n = getm2_one(len, how, type, flags & M_PKTHDR);
		if (n == NULL) {
			m_freem(top);
			return (NULL);
		}
		len -= M_SIZE(n);
		if (tail != NULL)
			tail->m_next = n;
		else
			top = n;
		tail = n;
		flags &= ~M_PKTHDR;
	}
	if ((flags & M_EOR) && tail != NULL)
		tail->m_flags |= M_EOR;
	if (m == NULL)
		return (top);
	tail = m_last(m);
	tail->m_next = top;
	tail->m_flags &= ~(uint32_t)M_EOR;
	return (m);
}
