/*
 * mbuf_int.h - the mbuf layer's internals: its zones, the constructor
 * arguments, the limits, and the helpers the KPI files share.
 *
 * Files of the layer (each uses only the zone API of uma.h):
 *   mbuf.c        zones, their ctor/dtor/init/fini, allocation and free
 *                 of mbufs and external storage (reference counts)
 *   mbuf_limit.c  kern.ipc.* limits: defaults, boot tunables, run-time
 *                 changes, sysctl nodes
 *   mbuf_chain.c  the chain KPI (m_copym, m_pullup, m_split, ...)
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

#include <uma/mbuf.h>

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

/* Packet header setup for a fresh mbuf (tags empty). */
void	mb__pkthdr_init(struct mbuf *m) UMA_HIDDEN;

/* mbuf_limit.c: compute limits once; apply them to the zones. */
void	mb__limits_init(void) UMA_HIDDEN;
void	mb__limits_apply(void) UMA_HIDDEN;

#endif /* !_UMA_MBUF_INT_H_ */
