/*
 * spsc.h - a single-producer single-consumer ring of pointers, the wire
 * between the two CPUs of the prodcons workload.  zone_bench and the DPDK
 * benchmark use this same ring, so the allocators differ and the transport
 * does not.
 *
 * Each side owns one index and keeps a private copy of the other's, read
 * again only when the copy says the ring is full (producer) or empty
 * (consumer): the shared cache lines move once per many items, not once
 * per item.  Invariant: 0 <= sr_head - sr_tail <= SPSC_SIZE.
 */
#ifndef _BENCH_SPSC_H_
#define	_BENCH_SPSC_H_

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define	SPSC_SIZE	1024		/* a power of two */
#define	SPSC_MASK	(SPSC_SIZE - 1)

struct spsc_ring {
	/* Producer's line: its index and its copy of the consumer's. */
	_Alignas(64) _Atomic uint64_t sr_head;
	uint64_t	sr_tail_seen;
	/* Consumer's line. */
	_Alignas(64) _Atomic uint64_t sr_tail;
	uint64_t	sr_head_seen;
	_Alignas(64) void *sr_items[SPSC_SIZE];
};

static inline void
spsc_init(struct spsc_ring *r)
{
	atomic_init(&r->sr_head, 0);
	atomic_init(&r->sr_tail, 0);
	r->sr_tail_seen = 0;
	r->sr_head_seen = 0;
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
	uint64_t head;

	head = atomic_load_explicit(&r->sr_head, memory_order_relaxed);
	while (head - r->sr_tail_seen == SPSC_SIZE) {
		r->sr_tail_seen = atomic_load_explicit(&r->sr_tail,
		    memory_order_acquire);
		if (head - r->sr_tail_seen == SPSC_SIZE)
			spsc_wait(&spins);
	}
	r->sr_items[head & SPSC_MASK] = p;
	atomic_store_explicit(&r->sr_head, head + 1, memory_order_release);
}

/* Consumer: take the oldest pointer, spinning while the ring is empty. */
static inline void *
spsc_pop(struct spsc_ring *r)
{
	unsigned int spins = 0;
	uint64_t tail;
	void *p;

	tail = atomic_load_explicit(&r->sr_tail, memory_order_relaxed);
	while (r->sr_head_seen == tail) {
		r->sr_head_seen = atomic_load_explicit(&r->sr_head,
		    memory_order_acquire);
		if (r->sr_head_seen == tail)
			spsc_wait(&spins);
	}
	p = r->sr_items[tail & SPSC_MASK];
	atomic_store_explicit(&r->sr_tail, tail + 1, memory_order_release);
	return (p);
}

#endif /* !_BENCH_SPSC_H_ */
