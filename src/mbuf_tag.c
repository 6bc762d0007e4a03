/*
 * mbuf_tag.c - packet tags: typed blobs hung on a packet header, counted
 * under the malloc type "mbuf_tag" (FreeBSD's uipc_mbuf2.c).
 *
 * Layer: mbuf, on typed malloc (<uma/malloc.h>).  A tag is its header and
 * m_tag_len bytes after it, in one allocation.  Lists are singly linked
 * from m_pkthdr.tags, newest first.
 */
#include <string.h>

#include <uma/malloc.h>

#include "mbuf_int.h"

MALLOC_DEFINE(M_PACKET_TAGS, MBUF_TAG_MEM_NAME, "Packet-attached information");

static void
m_tag_free_default(struct m_tag *t)
{
	uma_free(t, M_PACKET_TAGS);
}

/* See mbuf.h */
struct m_tag *
m_tag_alloc(uint32_t cookie, uint16_t type, int len, int how)
{
	struct m_tag *t;

	if (len < 0 || len > UINT16_MAX)
		return (NULL);
	t = uma_malloc(sizeof(*t) + (size_t)len, M_PACKET_TAGS, how);
	if (t == NULL)
		return (NULL);
	t->m_tag_link.sle_next = NULL;
	t->m_tag_id = type;
	t->m_tag_len = (uint16_t)len;
	t->m_tag_cookie = cookie;
	t->m_tag_free = m_tag_free_default;
	return (t);
}

/* See mbuf.h */
void
m_tag_free(struct m_tag *t)
{
	t->m_tag_free(t);
}

/* See mbuf.h */
void
m_tag_prepend(struct mbuf *m, struct m_tag *t)
{
	t->m_tag_link.sle_next = m->m_pkthdr.tags.slh_first;
	m->m_pkthdr.tags.slh_first = t;
}

/* See mbuf.h */
void
m_tag_unlink(struct mbuf *m, struct m_tag *t)
{
	struct m_tag **pp = &m->m_pkthdr.tags.slh_first;

	while (*pp != NULL && *pp != t)
		pp = &(*pp)->m_tag_link.sle_next;
	if (*pp == t)
		*pp = t->m_tag_link.sle_next;
	t->m_tag_link.sle_next = NULL;
}

/* See mbuf.h */
void
m_tag_delete(struct mbuf *m, struct m_tag *t)
{
	m_tag_unlink(m, t);
	m_tag_free(t);
}

/* See mbuf.h */
void
m_tag_delete_chain(struct mbuf *m, struct m_tag *t)
{
	struct m_tag *p, *q;

	p = t != NULL ? t->m_tag_link.sle_next : m->m_pkthdr.tags.slh_first;
	if (t != NULL)
		t->m_tag_link.sle_next = NULL;
	else
		m->m_pkthdr.tags.slh_first = NULL;
	for (; p != NULL; p = q) {
		q = p->m_tag_link.sle_next;
		p->m_tag_link.sle_next = NULL;
		m_tag_free(p);
	}
}

/* See mbuf.h */
struct m_tag *
m_tag_locate(struct mbuf *m, uint32_t cookie, uint16_t type, struct m_tag *t)
{
	struct m_tag *p;

	p = t != NULL ? t->m_tag_link.sle_next : m->m_pkthdr.tags.slh_first;
	for (; p != NULL; p = p->m_tag_link.sle_next)
		if (p->m_tag_cookie == cookie && p->m_tag_id == type)
			return (p);
	return (NULL);
}

/* See mbuf.h */
struct m_tag *
m_tag_copy(struct m_tag *t, int how)
{
	struct m_tag *p;

	p = m_tag_alloc(t->m_tag_cookie, t->m_tag_id, t->m_tag_len, how);
	if (p != NULL)
		memcpy(p + 1, t + 1, t->m_tag_len);
	return (p);
}

/* See mbuf.h */
int
m_tag_copy_chain(struct mbuf *to, const struct mbuf *from, int how)
{
	struct m_tag *p, *t, **tail = &to->m_pkthdr.tags.slh_first;

	while (*tail != NULL)
		tail = &(*tail)->m_tag_link.sle_next;
	for (p = from->m_pkthdr.tags.slh_first; p != NULL;
	    p = p->m_tag_link.sle_next) {
		if ((t = m_tag_copy(p, how)) == NULL) {
			m_tag_delete_chain(to, NULL);
			return (0);
		}
		*tail = t;
		tail = &t->m_tag_link.sle_next;
	}
	return (1);
}

/* See mbuf.h */
void
m_tag_delete_nonpersistent(struct mbuf *m)
{
	struct m_tag **pp = &m->m_pkthdr.tags.slh_first, *t;

	while ((t = *pp) != NULL) {
		if (t->m_tag_id & MTAG_PERSISTENT) {
			pp = &t->m_tag_link.sle_next;
			continue;
		}
		*pp = t->m_tag_link.sle_next;
		t->m_tag_link.sle_next = NULL;
		m_tag_free(t);
	}
}
