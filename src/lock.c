/*
 * lock.c - the sleeping half of the cache lock (lock.h), and the mutexes
 * of zones, kegs and the arena map.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

/*
 * Zone, keg and map mutexes guard a few list operations at a time, and
 * threads on other CPUs meet on them when their caches refill and spill
 * together: spin a little before sleeping (glibc's adaptive mutex), which
 * costs less than a futex sleep and wake-up every time two CPUs meet.
 */
void
uma__mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
}

#ifndef UMA_TSAN
/*
 * The held bit was set: spin a little, then count ourselves a waiter and
 * sleep until the bit clears.  Taking the bit and leaving the waiters in
 * one compare-and-swap keeps the count exact, so the holder's unlock
 * wakes someone whenever a thread sleeps or is about to.
 */
void
uma__lock_slow(uma_lock_t *l)
{
	int s;

	for (int spin = 0; spin < 64; spin++) {
		s = atomic_load_explicit(&l->ul_state, memory_order_relaxed);
		if (!(s & 1) && atomic_compare_exchange_weak_explicit(
		    &l->ul_state, &s, s | 1, memory_order_acquire,
		    memory_order_relaxed))
			return;
		__builtin_ia32_pause();
	}
	s = atomic_fetch_add_explicit(&l->ul_state, 2, memory_order_relaxed) +
	    2;
	for (;;) {
		if (!(s & 1)) {
			if (atomic_compare_exchange_weak_explicit(&l->ul_state,
			    &s, (s | 1) - 2, memory_order_acquire,
			    memory_order_relaxed))
				return;
			continue;
		}
		syscall(SYS_futex, &l->ul_state, FUTEX_WAIT_PRIVATE, s, NULL,
		    NULL, 0);
		s = atomic_load_explicit(&l->ul_state, memory_order_relaxed);
	}
}

/* The holder dropped the bit with waiters counted: wake one of them. */
void
uma__unlock_wake(uma_lock_t *l)
{
	syscall(SYS_futex, &l->ul_state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#endif
