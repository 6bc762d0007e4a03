/*
 * mbuf_int.h - the mbuf layer's internals: its zones, the constructor
 * arguments, the limits, and the helpers the KPI files share.
 *
 * Files of the layer (each uses only the zone API of uma.h, except that
 * mbuf.c inlines the packet zone's ctor and dtor around the bare hit path
 * of cache_fast.h, so that m_getcl and m_freem cost little more than a
 * zone's alloc and free):
 *   mbuf.c        zones, their ctor/dtor/init/fini, allocation and free
 *                 of mbufs and external storage (reference counts)
 *   mbuf_limit.c  kern.ipc.* limits: defaults, boot tunables, run-time
 *                 changes, sysctl nodes
 *   mbuf_get.c    allocation by size (m_get2, m_get3, m_getm2)
 *   mbuf_chain.c  the chain KPI (m_copym, m_pullup, m_split, m_catpkt,
 *                 m_demote, ...)
 *   mbuf_copy.c   whole-chain copies and reads (m_copypacket, m_apply,
 *                 m_getptr) and iovec scatter/gather (m_uiotombuf, ...)
 *   mbuf_pull.c   contiguous regions (m_pulldown, m_copyup)
 *   mbuf_defrag.c reshaping (m_defrag, m_collapse, m_unshare)
 *   mbuf_debug.c  m_print, m_sanity, mbuf_panic
 *   mbuf_tag.c    packet tags
 *
 * Zones and kegs:
 *   keg 256 B:  "mbuf" (primary)  "mbuf_packet" (secondary: each cached
 *               item keeps a cluster from "mbuf_cluster", attached by its
 *               zone init and given back by its zone fini)
 *   "mbuf_cluster" 2k, "mbuf_jumbo_page" 4k, "mbuf_jumbo_9k",
 *   "mbuf_jumbo_16k": their ctor attaches the buffer to the mbuf passed as
 *   the allocation's argument.
 *
 * Reference count invariant: for storage of types other than EXT_EXTREF,
 * the count in the owning mbuf (EXT_FLAG_EMBREF) == 1 + number of other
 * mbufs whose ext_cnt points at it; the owner and the storage are freed
 * together when it drops to 0.  An mbuf_packet item is cached with its
 * count reset to 1.
 */
#ifndef _UMA_MBUF_INT_H_
#define	_UMA_MBUF_INT_H_

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <uma/mbuf.h>

#include "init.h"
#include "limit.h"
#include "uma_int.h"

/* The zones; all NULL until mbuf_init() ran. */
struct mb_zones {
	uma_zone_t	 mz_mbuf;
	uma_zone_t	 mz_pack;
	uma_zone_t	 mz_clust;
	uma_zone_t	 mz_jumbop;
	uma_zone_t	 mz_jumbo9;
	uma_zone_t	 mz_jumbo16;
	_Atomic bool	 mz_ready;
	int		 mz_error;	/* mbuf_init's result */
};
extern struct mb_zones mb_zones UMA_HIDDEN;

/* Constructor argument of the mbuf and packet zones. */
struct mb_args {
	int	 flags;		/* M_* to set */
	short	 type;		/* MT_* */
};

/* Dtor argument of the mbuf zone: tags were already dealt with. */
#define	MB_DTOR_SKIP	((void *)1)

/* mbuf_init(), aborting if the zones cannot be had. */
void	mb__init_slow(void) UMA_HIDDEN;

static inline void
mb_ensure_init(void)
{
	if (__predict_false(!atomic_load_explicit(&mb_zones.mz_ready,
	    memory_order_acquire)))
		mb__init_slow();
}

/* The cluster zone for a size (MCLBYTES...MJUM16BYTES), or NULL. */
uma_zone_t mb__zone_for_size(int size) UMA_HIDDEN;

/* Give up m's reference to its external storage, and m itself. */
void	mb__free_ext(struct mbuf *m) UMA_HIDDEN;

/* Make n share m's external storage (one more reference). */
void	mb__dupcl(struct mbuf *n, struct mbuf *m) UMA_HIDDEN;

/* m_pullup's and m_copyup's copy of a chain's front into m (mbuf_pull.c). */
struct mbuf *mb__gather(struct mbuf *m, struct mbuf *n, int len, int space)
	    UMA_HIDDEN;

/*
 * Set m_len, m_type and m_flags with one 64-bit store.  Bit-field stores
 * followed by m_free's 32-bit load of the same word defeat the CPU's
 * store forwarding and stall every m_getcl + m_freem pair, and on the hit
 * path every store counts.  The layout (m_type in the low byte of the
 * word after m_len, as gcc and clang lay out bit-fields on every ABI we
 * build for) is checked once by mbuf_init.
 */
static inline void
mb_set_hdr(struct mbuf *m, int32_t len, int type, int flags)
{
	uint64_t w = (uint32_t)len |
	    ((uint64_t)(((uint32_t)type & 0xff) | ((uint32_t)flags << 8)) << 32);

	memcpy(&m->m_len, &w, sizeof(w));
}

/* Packet header setup for a fresh mbuf (tags empty). */
static inline void
mb__pkthdr_init(struct mbuf *m)
{
	memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
}

/*
 * The packet header straddles the mbuf's first two cache lines: its tail
 * (fibnum onwards) shares the second with m_ext.  Packet-zone items are
 * cached with that tail already zero, cleared by whoever frees them, so
 * that m_getcl writes only the first line and the freeing CPU, not the
 * allocating one, owns the second: when packets cross CPUs the second
 * line then moves once, not twice (the hand-off benchmark: 100 -> 40 ns).
 */
#define	MB_PKTHDR_TAIL	offsetof(struct pkthdr, fibnum)
_Static_assert(offsetof(struct mbuf, m_pkthdr) + MB_PKTHDR_TAIL == 64,
    "the packet header's tail starts the mbuf's second cache line");

static inline void
mb_pkthdr_tail_clear(struct mbuf *m)
{
	memset((char *)&m->m_pkthdr + MB_PKTHDR_TAIL, 0,
	    sizeof(m->m_pkthdr) - MB_PKTHDR_TAIL);
}

/* mb__pkthdr_init for a packet-zone item, whose tail is zero already. */
static inline void
mb_pkthdr_head_clear(struct mbuf *m)
{
	memset(&m->m_pkthdr, 0, MB_PKTHDR_TAIL);
}

/* mbuf_limit.c: compute limits once; apply them to the zones. */
void	mb__limits_init(void) UMA_HIDDEN;
void	mb__limits_apply(void) UMA_HIDDEN;

#endif /* !_UMA_MBUF_INT_H_ */
