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
/* Mark the lock contended, then sleep until it is handed free. */
void
uma__lock_slow(uma_lock_t *l)
{
	for (int spin = 0; spin < 64; spin++) {
		int free = 0;

		if (atomic_load_explicit(&l->ul_state, memory_order_relaxed) ==
		    0 && atomic_compare_exchange_weak_explicit(&l->ul_state,
		    &free, 1, memory_order_acquire, memory_order_relaxed))
			return;
		__builtin_ia32_pause();
	}
	while (atomic_exchange_explicit(&l->ul_state, 2,
	    memory_order_acquire) != 0)
		syscall(SYS_futex, &l->ul_state, FUTEX_WAIT_PRIVATE, 2, NULL,
		    NULL, 0);
}

void
uma__unlock_wake(uma_lock_t *l)
{
	syscall(SYS_futex, &l->ul_state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#endif
