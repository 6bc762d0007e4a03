/*
 * lock.h - the per-CPU cache lock: a futex mutex with a held bit.
 *
 * The locked fallback takes a cache lock on every allocation and free, so
 * the lock's uncontended path must be a few instructions: one `lock bts`
 * and a branch to take it, one `lock sub` and a branch to drop it, inlined
 * (a compare-and-swap and an exchange took 8 instructions a pair where
 * these take 4).  The word is the held bit plus twice the threads waiting;
 * dropping the bit leaves the word 0 unless someone waits, who is then
 * woken.  A contended lock sleeps on the futex, so a thread preempted
 * while holding it costs the others no spinning.
 * ThreadSanitizer builds use a pthread mutex, which it understands.
 */
#ifndef _UMA_LOCK_H_
#define	_UMA_LOCK_H_

#include <pthread.h>
#include <stdbool.h>
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
#define	uma_trylock(l)		(pthread_mutex_trylock(l) == 0)
#define	uma_unlock_nowake(l)	(pthread_mutex_unlock(l), 1)
/* Never owed: the pthread mutex wakes its waiters itself. */
static inline void
uma__unlock_wake(uma_lock_t *l)
{
	(void)l;
}
#else
/*
 * UMA_DEBUG builds record the holder (pthread_self: one TLS read, where
 * a thread id would be a system call on every lock) for uma_lock_owned.
 */
typedef struct {
	_Atomic int	ul_state;	/* bit 0 held, bits 1-31 waiters */
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
	if (__builtin_expect(atomic_fetch_or_explicit(&l->ul_state, 1,
	    memory_order_acquire) & 1, 0))
		uma__lock_slow(l);
	UMA_LOCK_OWNER_SET(l, pthread_self());
}

/*
 * The halves of uma_lock and uma_unlock that make no call, for a caller
 * whose hit path must not (cache_fast.h): a held lock fails the try, and
 * an unlock that finds waiters returns false, and the caller then owes
 * them uma__unlock_wake.
 */
static inline bool
uma_trylock(uma_lock_t *l)
{
	if (__builtin_expect(atomic_fetch_or_explicit(&l->ul_state, 1,
	    memory_order_acquire) & 1, 0))
		return (false);
	UMA_LOCK_OWNER_SET(l, pthread_self());
	return (true);
}

static inline bool
uma_unlock_nowake(uma_lock_t *l)
{
	UMA_LOCK_OWNER_SET(l, (pthread_t)0);
	return (__builtin_expect(atomic_fetch_sub_explicit(&l->ul_state, 1,
	    memory_order_release) == 1, 1));
}

static inline void
uma_unlock(uma_lock_t *l)
{
	UMA_LOCK_OWNER_SET(l, (pthread_t)0);
	if (__builtin_expect(atomic_fetch_sub_explicit(&l->ul_state, 1,
	    memory_order_release) != 1, 0))
		uma__unlock_wake(l);
}
#endif

#endif /* !_UMA_LOCK_H_ */
