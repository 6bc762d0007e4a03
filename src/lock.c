/*
 * lock.c - the sleeping half of the cache lock (lock.h).
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

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
