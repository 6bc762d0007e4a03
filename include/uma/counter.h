/*
 * counter.h - FreeBSD's counter(9): 64-bit counters that many threads add
 * to without sharing a cache line, one copy per CPU (an item of a
 * UMA_ZONE_PCPU zone, "pcpu-8", as FreeBSD's pcpu_zone_8).
 *
 * counter_u64_add adds to the calling thread's CPU's copy with one
 * relaxed atomic (a thread may move to another CPU at any time; FreeBSD's
 * kernel adds in a critical section instead); counter_u64_fetch sums the
 * copies, a value the counter had at some moment only when nobody adds
 * meanwhile; counter_u64_zero zeroes them one by one, so adds racing with
 * it may be kept or lost, as in FreeBSD.  counter_enter and counter_exit
 * are there for ported code and do nothing.
 */
#ifndef _UMA_COUNTER_H_
#define	_UMA_COUNTER_H_

#include <stdint.h>

#include <uma/uma.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef uint64_t *counter_u64_t;

/*
 * A counter, zeroed.  flags: M_WAITOK (never NULL: see uma.h) or M_NOWAIT
 * (NULL when memory cannot be had).
 */
counter_u64_t counter_u64_alloc(int flags);
void	counter_u64_free(counter_u64_t c);
void	counter_u64_zero(counter_u64_t c);
uint64_t counter_u64_fetch(counter_u64_t c);

static inline void
counter_u64_add(counter_u64_t c, int64_t inc)
{
	__atomic_fetch_add(zpcpu_get(c), (uint64_t)inc, __ATOMIC_RELAXED);
}

#define	counter_enter()				do { } while (0)
#define	counter_exit()				do { } while (0)
#define	counter_u64_add_protected(c, inc)	counter_u64_add(c, inc)

/*
 * A counter defined at file scope and allocated before main (FreeBSD
 * allocates it at SYSINIT time).
 */
#define	COUNTER_U64_DEFINE_EARLY(c)					\
	counter_u64_t c;						\
	__attribute__((constructor)) static void			\
	c##_counter_early(void)						\
	{								\
		c = counter_u64_alloc(M_WAITOK);			\
	}

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_COUNTER_H_ */
