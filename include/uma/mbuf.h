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
 * sleeps until an item is freed (counted as a sleep).  M_WAITOK returns no
 * NULL for want of memory either: see uma_lowmem_register in uma.h.  When
 * a M_WAITOK caller waits at the cluster limit, the clusters idling in the
 * packet zone's caches go back to mbuf_cluster (mb_reclaim, the zone's
 * maxaction, as FreeBSD's).
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
/* Protocol-specific flags, cleared when a packet crosses layers. */
#define	M_PROTO1	0x00001000
#define	M_PROTO2	0x00002000
#define	M_PROTO3	0x00004000
#define	M_PROTO4	0x00008000
#define	M_PROTO5	0x00010000
#define	M_PROTO6	0x00020000
#define	M_PROTO7	0x00040000
#define	M_PROTO8	0x00080000
#define	M_PROTO9	0x00100000
#define	M_PROTO10	0x00200000
#define	M_PROTO11	0x00400000
#define	M_PROTO12	0x00800000
#define	M_PROTOFLAGS	(M_PROTO1 | M_PROTO2 | M_PROTO3 | M_PROTO4 |	\
	M_PROTO5 | M_PROTO6 | M_PROTO7 | M_PROTO8 | M_PROTO9 | M_PROTO10 | \
	M_PROTO11 | M_PROTO12)
/* Flags that go with the packet header when it is copied or moved. */
#define	M_COPYFLAGS	(M_PKTHDR | M_EOR | M_RDONLY | M_BCAST | M_MCAST | \
	M_PROMISC | M_VLANTAG | M_PROTOFLAGS)

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
#define	MT_VENDOR1	4	/* 4-7: for vendor-internal use */
#define	MT_VENDOR2	5
#define	MT_VENDOR3	6
#define	MT_VENDOR4	7
#define	MT_SONAME	8
#define	MT_EXP1		9	/* 9-12: for experimental use */
#define	MT_EXP2		10
#define	MT_EXP3		11
#define	MT_EXP4		12
#define	MT_CONTROL	14	/* extra-data protocol message */
#define	MT_EXTCONTROL	15	/* control message, externalized contents */
#define	MT_OOBDATA	16	/* expedited data */
#define	MT_NTYPES	17
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

/*
 * Place an object of len bytes at the end of a fresh mbuf's buffer
 * (MH_ALIGN: FreeBSD's older name for packet header mbufs; m_align
 * serves every kind).
 */
#define	M_ALIGN(m, len)		m_align(m, len)
#define	MH_ALIGN(m, len)	m_align(m, len)

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
 * FreeBSD's allocation macros, kept for the code that still uses them:
 *   MGET, MGETHDR  m = m_get(how, type) / m_gethdr(how, type)
 *   MCLGET         m_clget(m, how): M_EXT if a cluster was attached, else 0
 *   MEXTADD        m_extadd with buf cast to char *
 *   M_MOVE_PKTHDR  m_move_pkthdr(to, from)
 *   MCHTYPE        m_chtype(m, type)
 */
#define	MGET(m, how, type)	((m) = m_get((how), (type)))
#define	MGETHDR(m, how, type)	((m) = m_gethdr((how), (type)))
#define	MCLGET(m, how)		m_clget((m), (how))
#define	MEXTADD(m, buf, size, freef, arg1, arg2, flags, type)		\
	m_extadd((m), (char *)(buf), (size), (freef), (arg1), (arg2),	\
	    (flags), (type))
#define	M_MOVE_PKTHDR(to, from)	m_move_pkthdr((to), (from))
#define	MCHTYPE(m, t)		m_chtype((m), (t))

/*
 * Report a broken mbuf invariant on stderr ("mbuf: " and the message) and
 * abort: FreeBSD's panic for the KPI's own assertions (M_ASSERTPKTHDR).
 */
void mbuf_panic(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/*
 * Abort unless m is a packet header mbuf.  FreeBSD's KASSERT checks this
 * only in INVARIANTS kernels; the check costs one test, so uma always
 * makes it.
 */
#define	M_ASSERTPKTHDR(m) do {						\
	if ((m) == NULL || !((m)->m_flags & M_PKTHDR))			\
		mbuf_panic("%s: no mbuf packet header!", __func__);	\
} while (0)

/* The last mbuf of the chain m. */
static inline struct mbuf *
m_last(struct mbuf *m)
{
	while (m->m_next != NULL)
		m = m->m_next;
	return (m);
}

/* Change m's type (MT_*). */
static inline void
m_chtype(struct mbuf *m, short type)
{
	m->m_type = (uint32_t)type & 0xff;
}

/* Clear the protocol flags (M_PROTOFLAGS) of every mbuf of the chain. */
static inline void
m_clrprotoflags(struct mbuf *m)
{
	for (; m != NULL; m = m->m_next)
		m->m_flags &= ~(uint32_t)M_PROTOFLAGS;
}

/*
 * Attach caller storage whose reference count the caller keeps: *ref_cnt
 * gains one (atomically) for m, and freef(m) runs when a free takes the
 * count from 1 to 0 (type EXT_EXTREF; copies share the count).
 */
static inline void
m_extaddref(struct mbuf *m, char *buf, unsigned int size,
    unsigned int *ref_cnt, m_ext_free_t *freef, void *arg1, void *arg2)
{
	__atomic_fetch_add(ref_cnt, 1, __ATOMIC_RELAXED);
	m->m_flags |= M_EXT;
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_cnt = ref_cnt;
	m->m_data = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_free = freef;
	m->m_ext.ext_arg1 = arg1;
	m->m_ext.ext_arg2 = arg2;
	m->m_ext.ext_type = EXT_EXTREF;
	m->m_ext.ext_flags = EXT_FLAG_EXTREF;
}

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
 * M_PKTHDR and others to set.  NULL only with M_NOWAIT (one failure,
 * counted by the zone that refused the request: m_getcl's by
 * "mbuf_packet").
 *   m_get     an mbuf (zone "mbuf"); m_gethdr: with a packet header.
 *   m_getcl   an mbuf with a 2k cluster, from "mbuf_packet".
 *   m_getjcl  an mbuf with a cluster of size MCLBYTES, MJUMPAGESIZE,
 *             MJUM9BYTES or MJUM16BYTES.
 *   m_get2    the smallest of mbuf, mbuf + cluster and mbuf + page-sized
 *             jumbo cluster that holds `size` bytes (with a packet header
 *             if flags has M_PKTHDR); NULL above MJUMPAGESIZE.
 *   m_get3    m_get2 up to MJUM16BYTES (9k and 16k jumbo clusters too).
 *   m_getm2   a chain with room for `len` bytes (page-sized jumbo
 *             clusters, taken without waiting, then 2k clusters, then an
 *             mbuf for a tail below MINCLSIZE; flags: M_PKTHDR on the
 *             first, M_EOR on the last), appended to m if m is not NULL
 *             (M_PKTHDR is then ignored and m's last mbuf loses M_EOR).
 *             Returns m (or the new chain); all or nothing: NULL with
 *             nothing allocated and m untouched.  m_getm: flags M_PKTHDR.
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
struct mbuf *m_get2(int size, int how, short type, int flags);
struct mbuf *m_get3(int size, int how, short type, int flags);
struct mbuf *m_getm2(struct mbuf *m, int len, int how, short type,
    int flags);
#define	m_getm(m, len, how, type)					\
	m_getm2((m), (len), (how), (type), M_PKTHDR)
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
 * More of the chain KPI (FreeBSD's semantics; how is M_NOWAIT or M_WAITOK):
 *   m_copypacket  m_copym(m, 0, M_COPYALL, how) of a packet (m must have a
 *               header), keeping the room in front of the first mbuf's
 *               data; clusters are shared (read-only after).
 *   m_catpkt    append packet n to packet m: the lengths add up, n loses
 *               its header and tags (m_demote), then m_cat.
 *   m_fixhdr    set m_pkthdr.len to the chain's length; returns it.
 *   m_getptr    the mbuf holding byte `loc` of the chain, *off its offset
 *               there; at loc == the chain's length, the last mbuf and its
 *               m_len; NULL past that.
 *   m_apply     call f(arg, data, count) on each piece of bytes [off,
 *               off + len), in order; stops at and returns the first
 *               non-zero result, else 0.
 *   m_demote_pkthdr  drop m's packet header: tags freed, M_PKTHDR cleared,
 *               m_pkthdr zeroed.
 *   m_demote    m_demote_pkthdr every mbuf of the chain that has a header
 *               (the first too only if `all`), and clear every flag but
 *               M_EXT, M_RDONLY, M_NOFREE and `flags`.
 */
struct mbuf *m_copypacket(struct mbuf *m, int how);
void m_catpkt(struct mbuf *m, struct mbuf *n);
unsigned int m_fixhdr(struct mbuf *m);
struct mbuf *m_getptr(struct mbuf *m, int loc, int *off);
int m_apply(struct mbuf *m, int off, int len,
    int (*f)(void *arg, void *data, unsigned int len), void *arg);
void m_demote_pkthdr(struct mbuf *m);
void m_demote(struct mbuf *m, int all, int flags);

/*
 * Contiguous headers.
 *   m_pulldown  make bytes [off, off + len) contiguous and writable in
 *               one mbuf of the chain, and return that mbuf: the bytes
 *               start at its m_data + *offp, or at its m_data if offp is
 *               NULL.  Bytes before off stay where they are (pointers to
 *               them remain valid); the packet length does not change.
 *               len is at most MCLBYTES.  NULL, with the chain freed, if
 *               the chain is shorter than off + len, len is out of range,
 *               or no mbuf could be had (it never waits).
 *   m_copyup    like m_pullup, but always into a new mbuf, with dstoff
 *               bytes of room left in front of the data (for headers to
 *               prepend); len + dstoff must not exceed MHLEN.  NULL, with
 *               the chain freed, on failure.
 */
struct mbuf *m_pulldown(struct mbuf *m, int off, int len, int *offp);
struct mbuf *m_copyup(struct mbuf *m, int len, int dstoff);

/*
 * Reshaping a packet for a driver or a writer (m must have a header for
 * m_defrag; the others take any chain).
 *   m_defrag    copy the packet into the shortest chain of 2k clusters (an
 *               mbuf for a tail of at most MLEN bytes, or for a packet of
 *               at most MHLEN); the old chain is freed.  NULL with the old
 *               chain untouched if memory runs out; a chain without a
 *               packet header is returned as it is.
 *   m_collapse  reduce the chain to at most maxfrags mbufs, by copying
 *               mbufs into the free room of the one before, then pairs of
 *               mbufs into new clusters; the first mbuf stays first.
 *               Returns the chain, or NULL if it cannot be done (the chain
 *               is left valid, possibly partly collapsed, and is still the
 *               caller's).
 *   m_unshare   a chain whose every byte may be written (M_WRITABLE):
 *               shared or read-only external storage is copied into new
 *               clusters, or into the free room of the cluster before;
 *               small mbufs are merged into that room too.  The data and
 *               the packet header stay the same.  The old chain is always
 *               consumed: on failure it is freed and NULL returned.
 */
struct mbuf *m_defrag(struct mbuf *m, int how);
struct mbuf *m_collapse(struct mbuf *m, int how, int maxfrags);
struct mbuf *m_unshare(struct mbuf *m, int how);

/*
 * Scatter/gather I/O.  FreeBSD moves data between chains and a struct uio,
 * which user space does not have; uma takes the uio's iovec array instead
 * and leaves it unchanged (FreeBSD advances the uio):
 *   m_uiotombuf  a new chain (m_getm2: all or nothing) holding `len`
 *               bytes gathered from iov[0..iovcnt) (len <= 0, or more
 *               than the vectors hold: all of them), with `align` bytes
 *               free in front of the first mbuf's data; flags M_PKTHDR
 *               (m_pkthdr.len is set) and M_EOR as m_getm2.  An empty
 *               source gives one empty mbuf.  NULL if memory runs out,
 *               align >= MHLEN, or iovcnt < 0.
 *   m_mbuftouio  scatter the chain's bytes (at most `len`, if len > 0)
 *               into iov[0..iovcnt).  Returns the number of bytes copied,
 *               or -1 with errno EINVAL if iovcnt < 0.
 */
struct iovec;
struct mbuf *m_uiotombuf(const struct iovec *iov, int iovcnt, int how,
    int len, int align, int flags);
int m_mbuftouio(const struct iovec *iov, int iovcnt, const struct mbuf *m,
    int len);

/*
 * Debugging.
 *   m_print    print the chain on stderr, one line per mbuf (address,
 *              length, next, flags) with up to maxlen bytes of its data in
 *              hex (maxlen -1: all); for a packet, only as many bytes as
 *              m_pkthdr.len says.
 *   m_sanity   check the chain: data inside each mbuf's buffer, m_nextpkt,
 *              packet headers and tags only on the first mbuf, m_pkthdr.len
 *              equal to the chain's length.  Each problem is printed on
 *              stderr and, if `sanitize`, treated as FreeBSD does, so that
 *              it shows up loudly later rather than silently now: a stray
 *              m_nextpkt chain is freed and the pointer poisoned with
 *              0xdeadc0de, a stray header loses its tags and M_PKTHDR, a
 *              wrong packet length becomes 0.  Returns 1 if the chain was
 *              sane, 0 if not (FreeBSD panics in INVARIANTS kernels, and
 *              otherwise returns 1 either way).
 */
void m_print(const struct mbuf *m, int maxlen);
int m_sanity(struct mbuf *m, int sanitize);

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
 *   m_tag_delete_nonpersistent  delete every tag of m whose type lacks
 *                 MTAG_PERSISTENT (what a packet loses when it passes
 *                 through an interface).
 *   m_tag_init    empty m's tag list (a fresh header's, without freeing).
 *   m_tag_setup   set a tag's cookie, type and length (not its free
 *                 routine: the caller sets that).
 */
#define	MTAG_ABI_COMPAT	0	/* the cookie of m_tag_get/m_tag_find */
#define	MTAG_PERSISTENT	0x800	/* or'ed into a type: the tag stays */
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
void m_tag_delete_nonpersistent(struct mbuf *m);

static inline void
m_tag_init(struct mbuf *m)
{
	m->m_pkthdr.tags.slh_first = NULL;
}

static inline void
m_tag_setup(struct m_tag *t, uint32_t cookie, uint16_t type, int len)
{
	t->m_tag_id = type;
	t->m_tag_len = (uint16_t)len;
	t->m_tag_cookie = cookie;
}

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
