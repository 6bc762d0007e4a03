/*
 * lock.h - the per-CPU cache lock: a three-state futex mutex.
 *
 * The locked fallback takes a cache lock on every allocation and free, so
 * the lock's uncontended path must be a few instructions: one
 * compare-and-swap to take it and one exchange to drop it, inlined.  A
 * contended lock sleeps on a futex (state 2 = held with waiters), so a
 * thread preempted while holding it costs the others no spinning.
 * ThreadSanitizer builds use a pthread mutex, which it understands.
 */
#ifndef _UMA_LOCK_H_
#define	_UMA_LOCK_H_

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's id of this thread: what a glibc mutex records as owner. */
static inline int
uma__gettid(void)
{
	return ((int)syscall(SYS_gettid));
}

/* A zone, keg or map mutex: spins briefly before it sleeps (lock.c). */
void	uma__mutex_init(pthread_mutex_t *m)
	    __attribute__((visibility("hidden")));

#ifdef UMA_TSAN
typedef pthread_mutex_t uma_lock_t;
#define	uma_lock_init(l)	pthread_mutex_init((l), NULL)
#define	uma_lock(l)		pthread_mutex_lock(l)
#define	uma_unlock(l)		pthread_mutex_unlock(l)
#define	uma_lock_owned(l)	((l)->__data.__owner == uma__gettid())
#else
/*
 * UMA_DEBUG builds record the holder (pthread_self: one TLS read, where
 * a thread id would be a system call on every lock) for uma_lock_owned.
 */
typedef struct {
	_Atomic int	ul_state;	/* 0 free, 1 held, 2 held + waiters */
#if UMA_DEBUG > 0
	pthread_t	ul_owner;
#endif
} uma_lock_t;

#if UMA_DEBUG > 0
#define	uma_lock_owned(l)	pthread_equal((l)->ul_owner, pthread_self())
#define	UMA_LOCK_OWNER_SET(l, t)	((l)->ul_owner = (t))
#else
#define	uma_lock_owned(l)	1
#define	UMA_LOCK_OWNER_SET(l, t)	do { } while (0)
#endif

void	uma__lock_slow(uma_lock_t *l) __attribute__((visibility("hidden")));
void	uma__unlock_wake(uma_lock_t *l) __attribute__((visibility("hidden")));

static inline void
uma_lock_init(uma_lock_t *l)
{
	atomic_store_explicit(&l->ul_state, 0, memory_order_relaxed);
}

static inline void
uma_lock(uma_lock_t *l)
{
	int free = 0;

	if (__builtin_expect(!atomic_compare_exchange_strong_explicit(
	    &l->ul_state, &free, 1, memory_order_acquire,
	    memory_order_relaxed), 0))
		uma__lock_slow(l);
	UMA_LOCK_OWNER_SET(l, pthread_self());
}

static inline void
uma_unlock(uma_lock_t *l)
{
	UMA_LOCK_OWNER_SET(l, (pthread_t)0);
	if (__builtin_expect(atomic_exchange_explicit(&l->ul_state, 0,
	    memory_order_release) == 2, 0))
		uma__unlock_wake(l);
}
#endif

#endif /* !_UMA_LOCK_H_ */
