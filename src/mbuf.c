/*
 * mbuf.c - mbufs and clusters on uma zones: the zones with their
 * constructors, destructors and zone init/fini, allocation, and freeing of
 * mbufs and their external storage by reference count.
 *
 * Layer: mbuf, above the zones: uma.h, and for the packet zone, whose
 * ctor and dtor work this file does itself, the zones' front door
 * (zone_fast.h).  Never touches a cache, bucket or keg.  FreeBSD's
 * kern_mbuf.c is the model; names follow it.  The
 * chain KPI is in mbuf_chain.c, tags in mbuf_tag.c, limits in
 * mbuf_limit.c.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mbuf_int.h"
#include "zone.h"
#include "zone_fast.h"

struct mb_zones mb_zones;

/*
 * Initialize an mbuf for use: header, data pointer, packet header.  The
 * external storage descriptor is left alone (packet-zone mbufs keep
 * theirs).
 */
static void
m_init(struct mbuf *m, int flags, short type)
{
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	mb_set_hdr(m, 0, type, flags);
	if (flags & M_PKTHDR) {
		m->m_data = m->m_pktdat;
		mb__pkthdr_init(m);
	} else
		m->m_data = m->m_dat;
}


/* Zone "mbuf": arg is a struct mb_args (NULL: a plain MT_DATA mbuf). */
static int
mb_ctor_mbuf(void *mem, int size, void *arg, int how)
{
	struct mb_args *args = arg;

	if (args == NULL)
		m_init(mem, 0, MT_DATA);
	else if (args->type != MT_NOINIT)
		m_init(mem, args->flags, args->type);
	return (0);
}

/* Zone "mbuf": drop the tags a user left (m_free already did). */
static void
mb_dtor_mbuf(void *mem, int size, void *arg)
{
	struct mbuf *m = mem;

	if (arg != MB_DTOR_SKIP && (m->m_flags & M_PKTHDR) &&
	    m->m_pkthdr.tags.slh_first != NULL)
		m_tag_delete_chain(m, NULL);
}

/* The storage type of a cluster zone's buffers. */
static int
mb_ext_type(int size)
{
	switch (size) {
	case MCLBYTES:
		return (EXT_CLUSTER);
	case MJUMPAGESIZE:
		return (EXT_JUMBOP);
	case MJUM9BYTES:
		return (EXT_JUMBO9);
	default:
		return (EXT_JUMBO16);
	}
}

/*
 * Cluster zones: attach the new buffer to the mbuf passed as arg, which
 * becomes its reference-count owner.  Without an mbuf the buffer is bare.
 */
static int
mb_ctor_clust(void *mem, int size, void *arg, int how)
{
	struct mbuf *m = arg;

	if (m != NULL) {
		m->m_ext.ext_buf = mem;
		m->m_data = mem;
		m->m_flags |= M_EXT;
		m->m_ext.ext_free = NULL;
		m->m_ext.ext_arg1 = NULL;
		m->m_ext.ext_arg2 = NULL;
		m->m_ext.ext_size = (uint32_t)size;
		m->m_ext.ext_type = (uint32_t)mb_ext_type(size);
		m->m_ext.ext_flags = EXT_FLAG_EMBREF;
		m->m_ext.ext_count = 1;
	}
	return (0);
}

/*
 * Zone "mbuf_packet" init: the item enters the zone's cache with a cluster
 * attached.  Never sleeps for the cluster: this runs for every item of a
 * bucket being filled, and a thread sleeping at the cluster limit while
 * holding the clusters of the bucket it fills could wait forever.  m_getcl
 * with M_WAITOK sleeps in m_clget instead.  A refill stops at the first
 * cluster it cannot have and keeps the packets made so far; that refusal
 * is not the cluster zone's failure (M_UMA_QUIET): no caller was refused.
 */
static int
mb_zinit_pack(void *mem, int size, int how)
{
	struct mbuf *m = mem;

	m->m_ext.ext_buf = NULL;
	if (uma_zalloc_arg(mb_zones.mz_clust, m, M_NOWAIT | M_UMA_QUIET) ==
	    NULL || m->m_ext.ext_buf == NULL)
		return (ENOMEM);
	m->m_ext.ext_type = EXT_PACKET;
	mb_pkthdr_tail_clear(m);
	return (0);
}

/* Zone "mbuf_packet" fini: the cluster goes back to its zone. */
static void
mb_zfini_pack(void *mem, int size)
{
	struct mbuf *m = mem;

	uma_zfree_arg(mb_zones.mz_clust, m->m_ext.ext_buf, NULL);
}

/* The cluster a cached packet keeps (the kmem report counts it free). */
static void *
mb_pack_cluster(void *mem)
{
	return (((struct mbuf *)mem)->m_ext.ext_buf);
}

/* A packet-zone mbuf handed out: header fields, its cluster as data. */
static inline void
mb_init_pack(struct mbuf *m, int flags, short type)
{
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	m->m_data = m->m_ext.ext_buf;
	mb_set_hdr(m, 0, type, flags | M_EXT);
	if (flags & M_PKTHDR)
		mb_pkthdr_head_clear(m);
}

/*
 * The packet zone "mbuf_packet" has no ctor or dtor of its own: this file
 * does that work around every allocation and free of it, hit or miss
 * (FreeBSD's mb_ctor_pack and mb_dtor_pack), so that its gate stays open
 * and m_getcl and m_freem take the zone's hit paths (zone_fast.h) with the
 * work inlined.  Nothing else allocates from it.
 */

/*
 * A packet from the zone's miss entry (the hit path missed).  Inlined
 * where it is called: m_getcl's first try calls nothing more than before.
 */
static inline __attribute__((always_inline)) struct mbuf *
mb_pack_miss(int how, short type, int flags)
{
	struct mbuf *m = uma__zalloc_miss(mb_zones.mz_pack, NULL, how);

	if (m != NULL)
		mb_init_pack(m, flags, type);
	return (m);
}

/*
 * A packet goes back (mb_dtor_pack's work, then the zone), whole: the
 * mbuf keeps its cluster in the cache.  When threads sleep at the cluster
 * limit, clusters idling in this zone's caches, this one's included, are
 * what they wait for: give them back.  (As FreeBSD since 13, whose
 * uma_zone_exhausted means "has sleepers": an M_NOWAIT caller at the
 * limit drains the caches itself, in m_clget.)
 */
static void
mb_pack_free(struct mbuf *m)
{
	if ((m->m_flags & M_PKTHDR) && m->m_pkthdr.tags.slh_first != NULL)
		m_tag_delete_chain(m, NULL);
	UMA_ASSERT(m->m_ext.ext_type == EXT_PACKET &&
	    m->m_ext.ext_count == 1 && m->m_ext.ext_free == NULL &&
	    m->m_ext.ext_size == MCLBYTES &&
	    (m->m_ext.ext_flags & EXT_FLAG_EMBREF),
	    "mbuf: packet %p returns with a bad cluster (type %u count %u)",
	    (void *)m, m->m_ext.ext_type, m->m_ext.ext_count);
	mb_pkthdr_tail_clear(m);
	if (!uma__zfree_hit(mb_zones.mz_pack, m))
		uma__zfree_miss(mb_zones.mz_pack, m, NULL);
	if (uma__zone_sleepers(mb_zones.mz_clust))
		uma_zone_reclaim(mb_zones.mz_pack, UMA_RECLAIM_DRAIN_CPU);
}

/*
 * The maxaction of the mbuf and cluster zones (FreeBSD's mb_reclaim).
 * FreeBSD's drains the network protocols' caches; what caches mbufs and
 * clusters here is the packet zone, each of whose cached items holds one
 * of each: give them back, so that a thread asleep at either limit finds
 * them (m_clget drains before it sleeps, but a packet freed between that
 * drain and the sleep would otherwise stay cached until the next free).
 */
static void
mb_reclaim(uma_zone_t zone, int pending)
{
	uma_zone_reclaim(mb_zones.mz_pack, UMA_RECLAIM_DRAIN_CPU);
}

static uma_zone_t
mb_clust_zone_create(const char *name, int size)
{
	return (uma_zcreate(name, (size_t)size, mb_ctor_clust, NULL, NULL,
	    NULL, UMA_ALIGN_PTR, 0));
}

static pthread_once_t mb_once = PTHREAD_ONCE_INIT;

static void
mb_init_once(void)
{
	struct mb_zones *z = &mb_zones;
	struct mbuf probe;

	memset(&probe, 0, sizeof(probe));
	mb_set_hdr(&probe, -2, MT_DATA, M_EXT | M_PROTO4);
	if (probe.m_len != -2 || probe.m_type != MT_DATA ||
	    probe.m_flags != (M_EXT | M_PROTO4))
		uma__panic("mbuf: m_type/m_flags bit-field layout unexpected");
	mb__limits_init();
	z->mz_mbuf = uma_zcreate(MBUF_MEM_NAME, MSIZE, mb_ctor_mbuf,
	    mb_dtor_mbuf, NULL, NULL, MSIZE - 1, UMA_ZONE_MAXBUCKET);
	z->mz_clust = mb_clust_zone_create(MBUF_CLUSTER_MEM_NAME, MCLBYTES);
	if (z->mz_mbuf != NULL && z->mz_clust != NULL)
		z->mz_pack = uma_zsecond_create(MBUF_PACKET_MEM_NAME,
		    NULL, NULL, mb_zinit_pack, mb_zfini_pack, z->mz_mbuf);
	z->mz_jumbop = mb_clust_zone_create(MBUF_JUMBOP_MEM_NAME,
	    MJUMPAGESIZE);
	z->mz_jumbo9 = mb_clust_zone_create(MBUF_JUMBO9_MEM_NAME, MJUM9BYTES);
	z->mz_jumbo16 = mb_clust_zone_create(MBUF_JUMBO16_MEM_NAME,
	    MJUM16BYTES);
	if (z->mz_mbuf == NULL || z->mz_clust == NULL || z->mz_pack == NULL ||
	    z->mz_jumbop == NULL || z->mz_jumbo9 == NULL ||
	    z->mz_jumbo16 == NULL) {
		z->mz_error = ENOMEM;
		return;
	}
	uma_zone_set_warning(z->mz_mbuf, "kern.ipc.nmbufs limit reached");
	uma_zone_set_warning(z->mz_clust,
	    "kern.ipc.nmbclusters limit reached");
	uma_zone_set_warning(z->mz_jumbop,
	    "kern.ipc.nmbjumbop limit reached");
	uma_zone_set_warning(z->mz_jumbo9,
	    "kern.ipc.nmbjumbo9 limit reached");
	uma_zone_set_warning(z->mz_jumbo16,
	    "kern.ipc.nmbjumbo16 limit reached");
	uma_zone_set_maxaction(z->mz_mbuf, mb_reclaim);
	uma_zone_set_maxaction(z->mz_clust, mb_reclaim);
	uma__zone_hold(z->mz_pack, z->mz_clust, mb_pack_cluster);
	mb__limits_apply();
	atomic_store_explicit(&z->mz_ready, true, memory_order_release);
}

/* See mbuf.h */
int
mbuf_init(void)
{
	uma_ensure_started();	/* outside mb_once: see uma__startup */
	pthread_once(&mb_once, mb_init_once);
	return (mb_zones.mz_error);
}

void
mb__init_slow(void)
{
	if (mbuf_init() != 0)
		uma__panic("mbuf: cannot create the mbuf zones");
}

/* See mbuf.h */
uma_zone_t
mbuf_zone(const char *name)
{
	static const struct { const char *name; size_t off; } tab[] = {
		{ MBUF_MEM_NAME, offsetof(struct mb_zones, mz_mbuf) },
		{ MBUF_PACKET_MEM_NAME, offsetof(struct mb_zones, mz_pack) },
		{ MBUF_CLUSTER_MEM_NAME, offsetof(struct mb_zones, mz_clust) },
		{ MBUF_JUMBOP_MEM_NAME, offsetof(struct mb_zones, mz_jumbop) },
		{ MBUF_JUMBO9_MEM_NAME, offsetof(struct mb_zones, mz_jumbo9) },
		{ MBUF_JUMBO16_MEM_NAME,
		    offsetof(struct mb_zones, mz_jumbo16) },
	};

	mb_ensure_init();
	for (size_t i = 0; i < nitems(tab); i++)
		if (strcmp(name, tab[i].name) == 0)
			return (*(uma_zone_t *)((char *)&mb_zones +
			    tab[i].off));
	return (NULL);
}

uma_zone_t
mb__zone_for_size(int size)
{
	switch (size) {
	case MCLBYTES:
		return (mb_zones.mz_clust);
	case MJUMPAGESIZE:
		return (mb_zones.mz_jumbop);
	case MJUM9BYTES:
		return (mb_zones.mz_jumbo9);
	case MJUM16BYTES:
		return (mb_zones.mz_jumbo16);
	default:
		return (NULL);
	}
}

/* See mbuf.h */
struct mbuf *
m_get(int how, short type)
{
	struct mb_args args = { 0, type };

	mb_ensure_init();
	return (uma_zalloc_arg(mb_zones.mz_mbuf, &args, how));
}

/* See mbuf.h */
struct mbuf *
m_gethdr(int how, short type)
{
	struct mb_args args = { M_PKTHDR, type };

	mb_ensure_init();
	return (uma_zalloc_arg(mb_zones.mz_mbuf, &args, how));
}

/*
 * m_getcl when the packet zone cannot help without sleeping: an mbuf from
 * "mbuf", then a cluster, sleeping at the cluster limit if need be.
 */
static __attribute__((noinline)) struct mbuf *
m_getcl_slow(short type, int flags)
{
	struct mb_args args = { flags, type };
	struct mbuf *m;

	m = uma_zalloc_arg(mb_zones.mz_mbuf, &args, M_WAITOK);
	if (m == NULL)
		return (NULL);
	if (!m_clget(m, M_WAITOK)) {
		uma_zfree_arg(mb_zones.mz_mbuf, m, MB_DTOR_SKIP);
		return (NULL);
	}
	return (m);
}

/*
 * The packet zone's quiet first try got nothing.  A waiting caller goes
 * the long way, which sleeps for a cluster (m_getcl_slow).  An M_NOWAIT
 * one at the cluster limit gives back the clusters idling in the packet
 * zone's caches (other CPUs', or a bucket another refill left) and tries
 * once more, counted, as m_clget does; so a request refused in the end
 * counts one failure of the packet zone, and a served one none.
 */
static __attribute__((noinline)) struct mbuf *
m_getcl_refused(int how, short type, int flags)
{
	if (!(how & M_NOWAIT))
		return (m_getcl_slow(type, flags));
	if (uma__zone_at_limit(mb_zones.mz_clust))
		uma_zone_reclaim(mb_zones.mz_pack, UMA_RECLAIM_DRAIN_CPU);
	return (mb_pack_miss(how, type, flags));
}

/* m_getcl beyond the packet zone's hit path. */
static __attribute__((noinline)) struct mbuf *
m_getcl_zone(int how, short type, int flags)
{
	struct mbuf *m;

	mb_ensure_init();
	if (__predict_false(!(how & M_NOWAIT) &&
	    uma__zone_at_limit(mb_zones.mz_clust)))
		return (m_getcl_slow(type, flags));
	m = mb_pack_miss(how | M_UMA_QUIET, type, flags);
	if (__predict_false(m == NULL))
		return (m_getcl_refused(how, type, flags));
	return (m);
}

/*
 * See mbuf.h.  The hit path: the packet zone's cache, its ctor inlined
 * (mb_init_pack).  A waiting caller at the cluster limit goes the long way
 * (m_getcl_slow), so its check comes first.  The hit paths' entry points
 * (here and m_freem) start on a cache line: measured 2% faster, steadier.
 */
__attribute__((aligned(64))) struct mbuf *
m_getcl(int how, short type, int flags)
{
	struct mbuf *m;

	if (__predict_false(!atomic_load_explicit(&mb_zones.mz_ready,
	    memory_order_acquire)) || (!(how & M_NOWAIT) &&
	    uma__zone_at_limit(mb_zones.mz_clust)))
		return (m_getcl_zone(how, type, flags));
	m = uma__zalloc_hit(mb_zones.mz_pack);
	if (__predict_false(m == NULL))
		return (m_getcl_zone(how, type, flags));
	mb_init_pack(m, flags, type);
	return (m);
}

/* See mbuf.h */
int
m_clget(struct mbuf *m, int how)
{
	mb_ensure_init();
	m->m_ext.ext_buf = NULL;
	/*
	 * Clusters idling in the packet zone's caches may be the ones
	 * missing: with M_NOWAIT give them back after a (quiet) failure and
	 * try once more, counted; with M_WAITOK give them back before
	 * sleeping at the limit.
	 */
	if (how & M_NOWAIT) {
		uma_zalloc_arg(mb_zones.mz_clust, m, how | M_UMA_QUIET);
		if (m->m_ext.ext_buf == NULL) {
			uma_zone_reclaim(mb_zones.mz_pack,
			    UMA_RECLAIM_DRAIN_CPU);
			uma_zalloc_arg(mb_zones.mz_clust, m, how);
		}
	} else {
		if (uma__zone_at_limit(mb_zones.mz_clust))
			uma_zone_reclaim(mb_zones.mz_pack,
			    UMA_RECLAIM_DRAIN_CPU);
		uma_zalloc_arg(mb_zones.mz_clust, m, how);
	}
	return (m->m_ext.ext_buf != NULL ? M_EXT : 0);
}

/* See mbuf.h */
void *
m_cljget(struct mbuf *m, int how, int size)
{
	uma_zone_t zone;

	mb_ensure_init();
	if ((zone = mb__zone_for_size(size)) == NULL)
		return (NULL);
	if (m != NULL)
		m->m_ext.ext_buf = NULL;
	return (uma_zalloc_arg(zone, m, how));
}

/* See mbuf.h */
struct mbuf *
m_getjcl(int how, short type, int flags, int size)
{
	struct mb_args args = { flags, type };
	struct mbuf *m;
	uma_zone_t zone;

	if (size == MCLBYTES)
		return (m_getcl(how, type, flags));
	mb_ensure_init();
	if ((zone = mb__zone_for_size(size)) == NULL)
		return (NULL);
	m = uma_zalloc_arg(mb_zones.mz_mbuf, &args, how);
	if (m == NULL)
		return (NULL);
	if (uma_zalloc_arg(zone, m, how) == NULL) {
		uma_zfree_arg(mb_zones.mz_mbuf, m, MB_DTOR_SKIP);
		return (NULL);
	}
	return (m);
}

/* See mbuf.h */
void
m_extadd(struct mbuf *m, char *buf, unsigned int size, m_ext_free_t *freef,
    void *arg1, void *arg2, int flags, int type)
{
	m->m_flags |= (uint32_t)(M_EXT | flags) & 0xffffff;
	m->m_ext.ext_buf = buf;
	m->m_data = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_free = freef;
	m->m_ext.ext_arg1 = arg1;
	m->m_ext.ext_arg2 = arg2;
	m->m_ext.ext_type = (uint32_t)type & 0xff;
	if (type != EXT_EXTREF) {
		m->m_ext.ext_count = 1;
		m->m_ext.ext_flags = EXT_FLAG_EMBREF;
	} else
		m->m_ext.ext_flags = EXT_FLAG_EXTREF;
}

void
mb__dupcl(struct mbuf *n, struct mbuf *m)
{
	volatile unsigned int *refcnt;
	unsigned int old;

	/*
	 * Field by field: the count union of an owner (EMBREF) changes under
	 * other threads' atomics, and is not ours to copy.
	 */
	n->m_ext.ext_size = m->m_ext.ext_size;
	n->m_ext.ext_type = m->m_ext.ext_type;
	n->m_ext.ext_flags = m->m_ext.ext_flags;
	n->m_ext.ext_buf = m->m_ext.ext_buf;
	n->m_ext.ext_free = m->m_ext.ext_free;
	n->m_ext.ext_arg1 = m->m_ext.ext_arg1;
	n->m_ext.ext_arg2 = m->m_ext.ext_arg2;
	n->m_flags |= M_EXT | (m->m_flags & M_RDONLY);
	if (m->m_ext.ext_flags & EXT_FLAG_EMBREF) {
		refcnt = n->m_ext.ext_cnt = &m->m_ext.ext_count;
		n->m_ext.ext_flags &= ~EXT_FLAG_EMBREF;
	} else
		refcnt = n->m_ext.ext_cnt = m->m_ext.ext_cnt;
	/* A count of 1 is ours alone: nobody else can change it. */
	if (__atomic_load_n(refcnt, __ATOMIC_RELAXED) == 1) {
		__atomic_store_n(refcnt, 2, __ATOMIC_RELAXED);
		return;
	}
	old = __atomic_fetch_add(refcnt, 1, __ATOMIC_RELAXED);
	UMA_ASSERT(old >= 1, "mbuf: reference count of %p was %u when shared",
	    (void *)m->m_ext.ext_buf, old);
	(void)old;
}

/* Free a bare mbuf (no external storage) to the mbuf zone. */
static inline void
m_free_raw(struct mbuf *m)
{
	uma_zfree_arg(mb_zones.mz_mbuf, m, MB_DTOR_SKIP);
}

/* The last reference to m's storage is gone: free it and its owner. */
static void
mb_free_storage(struct mbuf *m, struct mbuf *mref, volatile unsigned int
    *refcnt)
{
	switch (m->m_ext.ext_type) {
	case EXT_PACKET:
		/* mbuf and cluster go back to the cache together. */
		*refcnt = 1;
		mb_pack_free(mref);
		break;
	case EXT_CLUSTER:
	case EXT_JUMBOP:
	case EXT_JUMBO9:
	case EXT_JUMBO16:
		uma_zfree_arg(mb__zone_for_size((int)mref->m_ext.ext_size),
		    mref->m_ext.ext_buf, NULL);
		m_free_raw(mref);
		break;
	case EXT_EXTREF:
		m->m_ext.ext_free(m);
		break;
	default:
		UMA_ASSERT(mref->m_ext.ext_free != NULL,
		    "mbuf: storage of type %u without a free routine",
		    mref->m_ext.ext_type);
		if (mref->m_ext.ext_free != NULL)
			mref->m_ext.ext_free(mref);
		m_free_raw(mref);
		break;
	}
}

void
mb__free_ext(struct mbuf *m)
{
	volatile unsigned int *refcnt;
	struct mbuf *mref;
	unsigned int old;
	bool freembuf;

	if (m->m_ext.ext_flags & EXT_FLAG_EMBREF) {
		refcnt = &m->m_ext.ext_count;
		mref = m;
	} else {
		refcnt = m->m_ext.ext_cnt;
		mref = m->m_ext.ext_type == EXT_EXTREF ? m :
		    (struct mbuf *)((char *)refcnt -
		    offsetof(struct mbuf, m_ext.ext_count));
	}
	/* The owner of the count stays until the last reference goes. */
	freembuf = !(m->m_flags & M_NOFREE) &&
	    (m != mref || m->m_ext.ext_type == EXT_EXTREF);
	/* Fast path: a count of 1 is ours alone. */
	if (__atomic_load_n(refcnt, __ATOMIC_ACQUIRE) == 1)
		mb_free_storage(m, mref, refcnt);
	else {
		old = __atomic_fetch_sub(refcnt, 1, __ATOMIC_ACQ_REL);
		UMA_ASSERT(old >= 1, "mbuf: reference count of %p below zero",
		    (void *)m->m_ext.ext_buf);
		if (old == 1)
			mb_free_storage(m, mref, refcnt);
	}
	if (freembuf)
		m_free_raw(m);
}

/*
 * The common case of a free: a packet-zone mbuf that owns its cluster
 * alone and carries no tags goes straight back to this CPU's packet cache,
 * mb_pack_free's work done inline.  FREE_GENERAL: take the general path;
 * FREE_MISSED: the work is done but the hit path missed, the caller goes
 * on to the zone's miss entry (no second try).
 */
#define	FREE_DONE	0
#define	FREE_GENERAL	1
#define	FREE_MISSED	2

static inline int
m_free_packet(struct mbuf *m)
{
	if ((m->m_flags & (M_EXT | M_NOFREE)) != M_EXT ||
	    m->m_ext.ext_type != EXT_PACKET ||
	    !(m->m_ext.ext_flags & EXT_FLAG_EMBREF) ||
	    __atomic_load_n(&m->m_ext.ext_count, __ATOMIC_ACQUIRE) != 1 ||
	    ((m->m_flags & M_PKTHDR) && m->m_pkthdr.tags.slh_first != NULL))
		return (FREE_GENERAL);
	if (__predict_false(uma__zone_sleepers(mb_zones.mz_clust)))
		return (FREE_GENERAL);	/* mb_pack_free gives clusters back */
	mb_pkthdr_tail_clear(m);
	return (uma__zfree_hit(mb_zones.mz_pack, m) ? FREE_DONE : FREE_MISSED);
}

/* One mbuf that the hit path did not free (m_free_packet's answer). */
static struct mbuf *
m_free_rest(struct mbuf *m, int how)
{
	struct mbuf *n = m->m_next;

	if (how == FREE_MISSED) {
		uma__zfree_miss(mb_zones.mz_pack, m, NULL);
		return (n);
	}
	if ((m->m_flags & M_PKTHDR) && m->m_pkthdr.tags.slh_first != NULL)
		m_tag_delete_chain(m, NULL);
	if (m->m_flags & M_EXT)
		mb__free_ext(m);
	else if (!(m->m_flags & M_NOFREE))
		m_free_raw(m);
	return (n);
}

/* See mbuf.h */
struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *n = m->m_next;
	int how = m_free_packet(m);

	if (__predict_true(how == FREE_DONE))
		return (n);
	return (m_free_rest(m, how));
}

/* m_freem from the first mbuf the hit path did not free. */
static __attribute__((noinline)) void
m_freem_slow(struct mbuf *m, int how)
{
	m = m_free_rest(m, how);
	while (m != NULL)
		m = m_free(m);
}

/*
 * See mbuf.h.  Packet-zone mbufs go back by the hit path in a loop that
 * calls nothing (no stack frame); the first other mbuf hands the rest of
 * the chain to m_freem_slow.
 */
__attribute__((aligned(64))) void
m_freem(struct mbuf *m)
{
	struct mbuf *n;
	int how;

	while (m != NULL) {
		n = m->m_next;
		if (__predict_false((how = m_free_packet(m)) != FREE_DONE)) {
			m_freem_slow(m, how);
			return;
		}
		m = n;
	}
}
