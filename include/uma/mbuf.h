/*
 * mbuf.h - network buffers on uma zones ("mbuma"), FreeBSD's mbuf(9).
 *
 * An mbuf is a 256-byte item of the zone "mbuf": a header, then either
 * data in place (m_dat, or m_pktdat after a packet header) or a descriptor
 * of external storage (m_ext), usually a cluster from "mbuf_cluster" or a
 * jumbo zone.  The secondary zone "mbuf_packet" stands on the mbuf keg and
 * keeps a cluster attached to each of its cached mbufs, so m_getcl() is one
 * allocation and m_freem() of such a packet returns mbuf and cluster to the
 * packet zone together (ext_type EXT_PACKET).
 *
 * External storage is shared by reference count (m_copym, m_split): the
 * count lives in the mbuf that owns the storage (EXT_FLAG_EMBREF,
 * m_ext.ext_count); sharing mbufs point m_ext.ext_cnt at it.  The owner
 * stays allocated until the last reference goes.  Counts are atomic: a
 * chain may be copied on one thread and its pieces freed on others.
 *
 * Initialization is lazy: every function that allocates creates the zones
 * on first use (pthread_once).  mbuf_init() does the same explicitly.
 *
 * Limits (FreeBSD's names; boot tunables in UMA_TUNABLES and, except
 * maxmbufmem, writable at run time through uma_sysctlbyname() or
 * mbuf_set_limit()): kern.ipc.maxmbufmem (bytes, default half of physical
 * memory), kern.ipc.nmbclusters (maxmbufmem / MCLBYTES / 4),
 * kern.ipc.nmbjumbop (/ MJUMPAGESIZE / 4), kern.ipc.nmbjumbo9
 * (/ MJUM9BYTES / 6), kern.ipc.nmbjumbo16 (/ MJUM16BYTES / 6) and
 * kern.ipc.nmbufs (max(maxmbufmem / MSIZE / 5, sum of the cluster limits)).
 * At a limit M_NOWAIT fails (counted as the zone's failure) and M_WAITOK
 * sleeps until an item is freed (counted as a sleep).
 */
#ifndef _UMA_MBUF_H_
#define	_UMA_MBUF_H_

#include <stddef.h>
#include <stdint.h>

#include <uma/uma.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Sizes. */
#define	MSIZE		256		/* an mbuf */
#define	MCLBYTES	2048		/* a cluster */
#define	MJUMPAGESIZE	4096		/* a page-sized jumbo cluster */
#define	MJUM9BYTES	(9 * 1024)	/* 9k jumbo cluster */
#define	MJUM16BYTES	(16 * 1024)	/* 16k jumbo cluster */

/* Zone names, as FreeBSD's sys/mbuf.h (libmemstat and netstat -m use them). */
#define	MBUF_MEM_NAME		"mbuf"
#define	MBUF_CLUSTER_MEM_NAME	"mbuf_cluster"
#define	MBUF_PACKET_MEM_NAME	"mbuf_packet"
#define	MBUF_JUMBOP_MEM_NAME	"mbuf_jumbo_page"
#define	MBUF_JUMBO9_MEM_NAME	"mbuf_jumbo_9k"
#define	MBUF_JUMBO16_MEM_NAME	"mbuf_jumbo_16k"
#define	MBUF_TAG_MEM_NAME	"mbuf_tag"

struct mbuf;
struct m_tag;

/* Free function of external storage (m_extadd). */
typedef void m_ext_free_t(struct mbuf *);

/* A packet tag: a typed blob hung on a packet header. */
struct m_tag {
	struct { struct m_tag *sle_next; } m_tag_link;	/* SLIST_ENTRY */
	uint16_t	 m_tag_id;	/* type within the cookie */
	uint16_t	 m_tag_len;	/* bytes of data after the tag */
	uint32_t	 m_tag_cookie;	/* ABI / module id */
	void		(*m_tag_free)(struct m_tag *);
};

/* The packet header (M_PKTHDR): first mbuf of a packet only. */
struct pkthdr {
	void		*rcvif;		/* receiving interface */
	struct packet_tags { struct m_tag *slh_first; } tags;	/* SLIST */
	int32_t		 len;		/* bytes in the whole packet */
	uint32_t	 flowid;
	uint32_t	 csum_flags;
	uint32_t	 csum_data;
	uint16_t	 fibnum;
	uint16_t	 ether_vtag;
	uint16_t	 tso_segsz;
	uint8_t		 rsstype;
	uint8_t		 numa_domain;
};

/*
 * External storage (M_EXT).  The reference count is ext_count in the
 * owning mbuf (ext_flags has EXT_FLAG_EMBREF); other mbufs sharing the
 * storage have ext_cnt pointing at it.  EXT_EXTREF storage brings its own
 * counter in ext_cnt.
 */
struct m_ext {
	union {
		volatile unsigned int	 ext_count;	/* EXT_FLAG_EMBREF */
		volatile unsigned int	*ext_cnt;	/* otherwise */
	};
	uint32_t	 ext_size;	/* bytes of storage */
	uint32_t	 ext_type:8,	/* EXT_* */
			 ext_flags:24;	/* EXT_FLAG_* */
	char		*ext_buf;	/* start of storage */
	m_ext_free_t	*ext_free;	/* free routine (not for clusters) */
	void		*ext_arg1;
	void		*ext_arg2;
};

/*
 * The mbuf.  The header (FreeBSD's m_hdr: m_next, m_nextpkt, m_data,
 * m_len, m_type, m_flags) is followed by the packet header and external
 * storage descriptor, or by data.
 */
struct mbuf {
	struct mbuf	*m_next;	/* next buffer of this packet */
	struct mbuf	*m_nextpkt;	/* next packet in a queue */
	char		*m_data;	/* where the data starts */
	int32_t		 m_len;		/* bytes of data in this mbuf */
	uint32_t	 m_type:8,	/* MT_* */
			 m_flags:24;	/* M_* */
	union {
		struct {
			struct pkthdr	m_pkthdr;	/* M_PKTHDR */
			union {
				struct m_ext	m_ext;	/* M_EXT */
				char	m_pktdat[0];	/* M_PKTHDR, !M_EXT */
			};
		};
		char	m_dat[0];			/* !M_PKTHDR, !M_EXT */
	};
};

#define	MLEN		((int)(MSIZE - offsetof(struct mbuf, m_dat)))
#define	MHLEN		((int)(MSIZE - offsetof(struct mbuf, m_pktdat)))
#define	MINCLSIZE	(MHLEN + 1)	/* below this, data stays in place */

/* m_flags. */
#define	M_EXT		0x00000001	/* external storage attached */
#define	M_PKTHDR	0x00000002	/* first mbuf of a packet */
#define	M_EOR		0x00000004	/* end of record */
#define	M_RDONLY	0x00000008	/* storage is read-only */
#define	M_BCAST		0x00000010
#define	M_MCAST		0x00000020
#define	M_PROMISC	0x00000040
#define	M_VLANTAG	0x00000080	/* ether_vtag is valid */
#define	M_NOFREE	0x00000200	/* mbuf is not from a zone */
#define	M_PROTO1	0x00002000
#define	M_PROTO2	0x00004000
#define	M_PROTO3	0x00008000
#define	M_PROTO4	0x00010000
/* Flags that go with the packet header when it is copied or moved. */
#define	M_COPYFLAGS	(M_PKTHDR | M_EOR | M_RDONLY | M_BCAST | M_MCAST | \
	M_PROMISC | M_VLANTAG | M_PROTO1 | M_PROTO2 | M_PROTO3 | M_PROTO4)

/* m_ext.ext_type. */
#define	EXT_CLUSTER	1	/* mbuf_cluster */
#define	EXT_SFBUF	2
#define	EXT_JUMBOP	3	/* mbuf_jumbo_page */
#define	EXT_JUMBO9	4	/* mbuf_jumbo_9k */
#define	EXT_JUMBO16	5	/* mbuf_jumbo_16k */
#define	EXT_PACKET	6	/* cluster of an mbuf_packet item */
#define	EXT_MBUF	7
#define	EXT_NET_DRV	252	/* driver storage, ext_free frees it */
#define	EXT_MOD_TYPE	253
#define	EXT_DISPOSABLE	254
#define	EXT_EXTREF	255	/* caller's storage and counter */

/* m_ext.ext_flags. */
#define	EXT_FLAG_EMBREF	0x000001	/* this mbuf holds the count */
#define	EXT_FLAG_EXTREF	0x000002	/* count is external */
#define	EXT_FLAG_NOFREE	0x000010	/* mbuf lives in the storage */

/* m_type. */
#define	MT_NOTMBUF	0
#define	MT_DATA		1
#define	MT_HEADER	MT_DATA
#define	MT_SONAME	8
#define	MT_CONTROL	14
#define	MT_OOBDATA	15
#define	MT_NTYPES	16
#define	MT_NOINIT	255	/* leave the mbuf uninitialized */

/* m_copym and friends: to the end of the chain. */
#define	M_COPYALL	1000000000

/* Data pointer of an mbuf, cast to type t. */
#define	mtod(m, t)	((t)((m)->m_data))
#define	mtodo(m, o)	((void *)(((m)->m_data) + (o)))

/* The reference count of the mbuf's external storage. */
static inline unsigned int
m_extrefcnt(const struct mbuf *m)
{
	/*
	 * Acquire: a count of 1 means the other holders are gone, and what
	 * they did to the storage must be visible before we write to it.
	 */
	return ((m->m_ext.ext_flags & EXT_FLAG_EMBREF) ?
	    __atomic_load_n(&m->m_ext.ext_count, __ATOMIC_ACQUIRE) :
	    __atomic_load_n(m->m_ext.ext_cnt, __ATOMIC_ACQUIRE));
}

/* May the data be written in place (not read-only, not shared)? */
#define	M_WRITABLE(m)	(!((m)->m_flags & M_RDONLY) &&			\
	(!((m)->m_flags & M_EXT) || m_extrefcnt(m) == 1))

/* Start and size of the buffer the data lives in. */
#define	M_START(m)	(((m)->m_flags & M_EXT) ? (m)->m_ext.ext_buf :	\
	((m)->m_flags & M_PKTHDR) ? &(m)->m_pktdat[0] : &(m)->m_dat[0])
#define	M_SIZE(m)	(((m)->m_flags & M_EXT) ? (int)(m)->m_ext.ext_size : \
	((m)->m_flags & M_PKTHDR) ? MHLEN : MLEN)

/* Bytes free before the data and after it (0 if not writable). */
#define	M_LEADINGSPACE(m)	(M_WRITABLE(m) ?			\
	(int)((m)->m_data - M_START(m)) : 0)
#define	M_TRAILINGSPACE(m)	(M_WRITABLE(m) ?			\
	(int)((M_START(m) + M_SIZE(m)) - ((m)->m_data + (m)->m_len)) : 0)

/* Place an object of len bytes at the end of a fresh mbuf's buffer. */
#define	M_ALIGN(m, len)	m_align(m, len)

/*
 * Prepend plen bytes to the packet m: in place if there is room, else
 * with a new mbuf (m_prepend).  m becomes NULL if that fails (the chain is
 * then freed).
 */
#define	M_PREPEND(m, plen, how) do {					\
	struct mbuf **_mmp = &(m);					\
	struct mbuf *_mm = *_mmp;					\
	int _mplen = (plen);						\
	int __mhow = (how);						\
	if (M_LEADINGSPACE(_mm) >= _mplen) {				\
		_mm->m_data -= _mplen;					\
		_mm->m_len += _mplen;					\
	} else								\
		_mm = m_prepend(_mm, _mplen, __mhow);			\
	if (_mm != NULL && (_mm->m_flags & M_PKTHDR))			\
		_mm->m_pkthdr.len += _mplen;				\
	*_mmp = _mm;							\
} while (0)

/*
 * Create the mbuf zones and apply the limits.  Every allocating function
 * below does this on first use; calling it is optional.  Returns 0, or
 * ENOMEM if the zones could not be created (the allocating functions then
 * abort with a message).
 */
int mbuf_init(void);

/*
 * The zone with a FreeBSD mbuf zone name ("mbuf", "mbuf_packet",
 * "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k", "mbuf_jumbo_16k"),
 * for uma_zone_get_cur() and the like; NULL for another name.
 */
uma_zone_t mbuf_zone(const char *name);

/*
 * Read or set a limit by its sysctl name ("kern.ipc.nmbclusters") or its
 * last component ("nmbclusters").
 * mbuf_get_limit: 0 and *valuep, or ENOENT.
 * mbuf_set_limit: 0 (the same value is a no-op), or
 *   ENOENT  no such limit;
 *   EPERM   kern.ipc.maxmbufmem (a boot tunable only);
 *   EINVAL  a decrease, a value past INT_MAX, or a cluster limit that
 *           would exceed nmbufs: nothing changed.
 * Raising a limit wakes the threads that sleep at it.
 */
int mbuf_get_limit(const char *name, unsigned long *valuep);
int mbuf_set_limit(const char *name, unsigned long value);

/*
 * Allocation.  how is M_NOWAIT or M_WAITOK; type is MT_*; flags are
 * M_PKTHDR and others to set.  NULL only with M_NOWAIT (counted as a
 * failure of the zone that refused).
 *   m_get     an mbuf (zone "mbuf"); m_gethdr: with a packet header.
 *   m_getcl   an mbuf with a 2k cluster, from "mbuf_packet".
 *   m_getjcl  an mbuf with a cluster of size MCLBYTES, MJUMPAGESIZE,
 *             MJUM9BYTES or MJUM16BYTES.
 *   m_clget   attach a cluster to m; returns M_EXT if it did, else 0.
 *   m_cljget  a cluster of `size` attached to m or, if m is NULL, bare
 *             (free it with uma_zfree(mbuf_zone(...), buf)); returns the
 *             buffer or NULL.
 *   m_extadd  attach caller storage; freef(m) runs when the last
 *             reference goes (type EXT_NET_DRV, EXT_MOD_TYPE,
 *             EXT_DISPOSABLE; EXT_EXTREF: the caller set m->m_ext.ext_cnt
 *             before the call and freef is called with the last mbuf).
 */
struct mbuf *m_get(int how, short type);
struct mbuf *m_gethdr(int how, short type);
struct mbuf *m_getcl(int how, short type, int flags);
struct mbuf *m_getjcl(int how, short type, int flags, int size);
int m_clget(struct mbuf *m, int how);
void *m_cljget(struct mbuf *m, int how, int size);
void m_extadd(struct mbuf *m, char *buf, unsigned int size,
    m_ext_free_t *freef, void *arg1, void *arg2, int flags, int type);

/*
 * m_free frees one mbuf (and its reference to external storage, the
 * storage itself with the last reference) and returns m->m_next; m_freem
 * frees a chain.  NULL is ignored by m_freem.
 */
struct mbuf *m_free(struct mbuf *m);
void m_freem(struct mbuf *m);

/*
 * Chains (FreeBSD's semantics):
 *   m_copym     copy len bytes (M_COPYALL: to the end) from offset off;
 *               external storage is shared, not copied (read-only after).
 *   m_dup       deep copy of a packet, with new clusters as needed.
 *   m_copydata  copy len bytes at off out to cp.
 *   m_copyback  write len bytes at off, extending the chain if needed
 *               (M_NOWAIT mbufs; it stops short if none can be had).
 *   m_append    append len bytes; returns 1, or 0 if it ran out of mbufs.
 *   m_prepend   put a new mbuf with room for len bytes in front.
 *   m_pullup    make the first len bytes contiguous in the first mbuf;
 *               NULL (chain freed) if it cannot.
 *   m_adj       trim len bytes from the head (len > 0) or tail (len < 0).
 *   m_length    bytes in the chain; *last gets its last mbuf.
 *   m_cat       append chain n to m, copying small mbufs into m's last
 *               (n's packet header is not merged: fix m_pkthdr.len).
 *   m_split     cut the chain at len0; returns the tail, m keeps the head.
 *   m_align     place len bytes at the end of a fresh mbuf's buffer.
 *   m_dup_pkthdr / m_move_pkthdr  copy (tags duplicated) or move a packet
 *               header to a fresh mbuf.
 */
struct mbuf *m_copym(struct mbuf *m, int off, int len, int how);
struct mbuf *m_dup(const struct mbuf *m, int how);
void m_copydata(const struct mbuf *m, int off, int len, void *cp);
void m_copyback(struct mbuf *m, int off, int len, const void *cp);
int m_append(struct mbuf *m, int len, const void *cp);
struct mbuf *m_prepend(struct mbuf *m, int len, int how);
struct mbuf *m_pullup(struct mbuf *m, int len);
void m_adj(struct mbuf *m, int len);
unsigned int m_length(struct mbuf *m, struct mbuf **last);
void m_cat(struct mbuf *m, struct mbuf *n);
struct mbuf *m_split(struct mbuf *m, int len0, int how);
void m_align(struct mbuf *m, int len);
int m_dup_pkthdr(struct mbuf *to, const struct mbuf *from, int how);
void m_move_pkthdr(struct mbuf *to, struct mbuf *from);

/*
 * Packet tags, counted under the malloc type "mbuf_tag".
 *   m_tag_alloc   a tag with len bytes of data after it (NULL: M_NOWAIT
 *                 and no memory, or len out of range).
 *   m_tag_free    free a tag that is on no list.
 *   m_tag_prepend put t first on m's list; m_tag_unlink takes it off.
 *   m_tag_delete  unlink and free t.
 *   m_tag_delete_chain  delete every tag of m after t (NULL: all).
 *   m_tag_locate  the first tag after t (NULL: from the start) with this
 *                 cookie and type, or NULL.
 *   m_tag_copy, m_tag_copy_chain  duplicate a tag / all of from's tags
 *                 onto to (returns 1, or 0 on failure).
 */
#define	MTAG_ABI_COMPAT	0	/* the cookie of m_tag_get/m_tag_find */
struct m_tag *m_tag_alloc(uint32_t cookie, uint16_t type, int len, int how);
void m_tag_free(struct m_tag *t);
void m_tag_prepend(struct mbuf *m, struct m_tag *t);
void m_tag_unlink(struct mbuf *m, struct m_tag *t);
void m_tag_delete(struct mbuf *m, struct m_tag *t);
void m_tag_delete_chain(struct mbuf *m, struct m_tag *t);
struct m_tag *m_tag_locate(struct mbuf *m, uint32_t cookie, uint16_t type,
    struct m_tag *t);
struct m_tag *m_tag_copy(struct m_tag *t, int how);
int m_tag_copy_chain(struct mbuf *to, const struct mbuf *from, int how);

static inline struct m_tag *
m_tag_get(uint16_t type, int len, int how)
{
	return (m_tag_alloc(MTAG_ABI_COMPAT, type, len, how));
}

static inline struct m_tag *
m_tag_find(struct mbuf *m, uint16_t type, struct m_tag *start)
{
	return (m_tag_locate(m, MTAG_ABI_COMPAT, type, start));
}

static inline struct m_tag *
m_tag_first(struct mbuf *m)
{
	return (m->m_pkthdr.tags.slh_first);
}

static inline struct m_tag *
m_tag_next(struct mbuf *m, struct m_tag *t)
{
	(void)m;
	return (t->m_tag_link.sle_next);
}

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_MBUF_H_ */
