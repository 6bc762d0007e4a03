/*
 * spsc.h - a single-producer single-consumer ring of pointers, the wire
 * between the two CPUs of the prodcons workload.  zone_bench and the DPDK
 * benchmark use this same ring, so the allocators differ and the transport
 * does not.
 *
 * Each side owns one index and keeps a private copy of the other's, read
 * again only when the copy says the ring is full (producer) or empty
 * (consumer).  Each side also publishes its own index only every
 * SPSC_BATCH items (and whenever it has to wait, and at the producer's
 * spsc_flush): a ring that publishes every item degenerates, as soon as
 * one side is slower, into the two CPUs trading the index lines once per
 * item, and the benchmark then measures that ping-pong, not the
 * allocators.  Invariant: 0 <= sr_head - sr_tail <= SPSC_SIZE.
 */
#ifndef _BENCH_SPSC_H_
#define	_BENCH_SPSC_H_

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define	SPSC_SIZE	1024		/* a power of two */
#define	SPSC_MASK	(SPSC_SIZE - 1)

#define	SPSC_BATCH	32		/* items between index stores */

struct spsc_ring {
	/* Published indexes: each on a line of its own. */
	_Alignas(64) _Atomic uint64_t sr_head;
	_Alignas(64) _Atomic uint64_t sr_tail;
	/* Producer's private line: its index and its copy of the tail. */
	_Alignas(64) uint64_t sr_phead;
	uint64_t	sr_tail_seen;
	/* Consumer's private line. */
	_Alignas(64) uint64_t sr_ctail;
	uint64_t	sr_head_seen;
	_Alignas(64) void *sr_items[SPSC_SIZE];
};

static inline void
spsc_init(struct spsc_ring *r)
{
	atomic_init(&r->sr_head, 0);
	atomic_init(&r->sr_tail, 0);
	r->sr_phead = r->sr_tail_seen = 0;
	r->sr_ctail = r->sr_head_seen = 0;
}

#define	SPSC_SPINS	4096	/* waits before yielding the CPU */

/*
 * One wait step of a spinning side.  Past SPSC_SPINS in a row the other
 * side is likely not running at all (another process took its CPU), so
 * give ours away instead of burning the rest of the time slice.
 */
static inline void
spsc_wait(unsigned int *spins)
{
	if (++*spins < SPSC_SPINS)
		__builtin_ia32_pause();
	else {
		*spins = 0;
		sched_yield();
	}
}

/* Producer: append `p`, spinning while the ring is full. */
static inline void
spsc_push(struct spsc_ring *r, void *p)
{
	unsigned int spins = 0;
	uint64_t head = r->sr_phead;

	while (head - r->sr_tail_seen == SPSC_SIZE) {
		/* Let the consumer see everything before waiting on it. */
		atomic_store_explicit(&r->sr_head, head, memory_order_release);
		r->sr_tail_seen = atomic_load_explicit(&r->sr_tail,
		    memory_order_acquire);
		if (head - r->sr_tail_seen == SPSC_SIZE)
			spsc_wait(&spins);
	}
	r->sr_items[head & SPSC_MASK] = p;
	r->sr_phead = ++head;
	if (head % SPSC_BATCH == 0)
		atomic_store_explicit(&r->sr_head, head, memory_order_release);
}

/* Producer: publish what spsc_push has not yet (after the last push). */
static inline void
spsc_flush(struct spsc_ring *r)
{
	atomic_store_explicit(&r->sr_head, r->sr_phead, memory_order_release);
}

/* Consumer: take the oldest pointer, spinning while the ring is empty. */
static inline void *
spsc_pop(struct spsc_ring *r)
{
	unsigned int spins = 0;
	uint64_t tail = r->sr_ctail;
	void *p;

	while (r->sr_head_seen == tail) {
		atomic_store_explicit(&r->sr_tail, tail, memory_order_release);
		r->sr_head_seen = atomic_load_explicit(&r->sr_head,
		    memory_order_acquire);
		if (r->sr_head_seen == tail)
			spsc_wait(&spins);
	}
	p = r->sr_items[tail & SPSC_MASK];
	r->sr_ctail = ++tail;
	if (tail % SPSC_BATCH == 0)
		atomic_store_explicit(&r->sr_tail, tail, memory_order_release);
	return (p);
}

#endif /* !_BENCH_SPSC_H_ */
