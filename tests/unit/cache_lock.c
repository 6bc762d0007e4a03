/*
 * cache_lock.c - the per-CPU cache lock (lock.h) excludes, wakes every
 * thread that sleeps on it, and is free again afterwards, with more
 * threads than CPUs; and locked mode's CPU hint (rseq.h) starts on a
 * closed guard cache and is asked of the kernel at a thread's first call.
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"
#include "lock.h"
#include "rseq.h"
#include "uma_int.h"

#define	THREADS	8
#define	ROUNDS	4000

static uma_lock_t lock;
static volatile uint64_t counter;	/* only under `lock` */
#ifndef UMA_TSAN
static _Atomic int sleepers_seen;
#endif

static void *
hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		uma_lock(&lock);
		counter = counter + 1;
#ifndef UMA_TSAN
		/* The held bit plus at least one waiter counted. */
		if (atomic_load(&lock.ul_state) >= 3)
			atomic_fetch_add(&sleepers_seen, 1);
#endif
		/* A holder that sleeps: the others must count and sleep too. */
		if (i % 256 == 0)
			usleep(200);
		else if (i % 16 == 0)
			sched_yield();
		uma_unlock(&lock);
	}
	return (NULL);
}

UMA_TEST(cache_lock_excludes_and_wakes_more_threads_than_cpus)
{
	pthread_t t[THREADS];

	uma_lock_init(&lock);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, NULL) == 0);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK_EQ(counter, (uint64_t)THREADS * ROUNDS);
#ifndef UMA_TSAN
	CHECK(atomic_load(&sleepers_seen) > 0);
	CHECK_EQ(atomic_load(&lock.ul_state), 0);
#endif
}

#ifndef UMA_TSAN
static _Atomic int waiter_done;

static void *
waiter(void *arg)
{
	(void)arg;
	uma_lock(&lock);
	atomic_store(&waiter_done, 1);
	uma_unlock(&lock);
	return (NULL);
}
#endif

/*
 * The halves without a call: a held lock fails the try, and the unlock
 * that finds a sleeper says so; the caller's wake lets it in.
 */
UMA_TEST(cache_lock_unlock_nowake_reports_a_waiter_and_the_wake_admits_it)
{
#ifdef UMA_TSAN
	SKIP("ThreadSanitizer builds use a pthread mutex (lock.h)");
#else
	pthread_t t;

	uma_lock_init(&lock);
	CHECK(uma_trylock(&lock));
	CHECK(!uma_trylock(&lock));
	CHECK(uma_unlock_nowake(&lock));
	CHECK_EQ(atomic_load(&lock.ul_state), 0);

	CHECK(uma_trylock(&lock));
	CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
	/* Until the waiter has counted itself (after its spins). */
	while (atomic_load(&lock.ul_state) != 3)
		sched_yield();
	CHECK(!uma_unlock_nowake(&lock));
	uma__unlock_wake(&lock);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_EQ(atomic_load(&waiter_done), 1);
	CHECK_EQ(atomic_load(&lock.ul_state), 0);
#endif
}

static int hint_before, hint_after;

static void *
first_call(void *arg)
{
	uma_zone_t z = arg;

	hint_before = uma_cpu_hint;
	uma_zfree(z, uma_zalloc(z, M_WAITOK));
	hint_after = uma_cpu_hint;
	return (NULL);
}

UMA_TEST(cache_lock_hint_starts_on_a_guard_and_the_first_call_asks)
{
	uma_zone_t z;
	pthread_t t;

	test_tunables_add("vm.uma_rseq=0");
	z = uma_zcreate("hint", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	uma_zfree(z, uma_zalloc(z, M_WAITOK));
	CHECK(!uma.ug_rseq);
	CHECK(pthread_create(&t, NULL, first_call, z) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_EQ(hint_before, -1);
	CHECK(hint_after >= 0 && hint_after < uma.ug_ncpus);
	uma_zdestroy(z);
}
