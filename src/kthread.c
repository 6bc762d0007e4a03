/*
 * kthread.c - creating uma's own threads (uma-trim, uma-export), after
 * FreeBSD's kthread_add.
 *
 * Layer: a leaf beside lock.c; it knows nothing of zones.
 *
 * uma's threads must be invisible to the program.  They block every
 * signal, so a signal meant for the program never runs in them and never
 * waits on them.  And they do not keep the process alive: POSIX ends a
 * process with exit(0) when its last thread terminates, and a program
 * whose main thread calls pthread_exit() counts on it.  glibc keeps that
 * rule with a count of live threads (__nptl_nthreads, GLIBC_PRIVATE):
 * pthread_create adds one, and a thread's end (or the main thread's
 * pthread_exit) takes one away and calls exit(0) at zero.  uma takes each
 * of its threads out of the count once pthread_create has put it in, and
 * puts it back just before such a thread returns, so that the count is
 * the program's own threads.  A fork child starts with a count of one
 * (glibc resets it) and without uma's threads, which start again there.
 * Where the count cannot be found (not glibc), uma's threads keep a
 * process alive as any thread would; uma.3 says so.
 *
 * Their stacks are KTHREAD_STACK, not RLIMIT_STACK's 8 MiB: under
 * `ulimit -v 65536` a default stack for uma-trim was an eighth of the
 * limit (a program filling memory with 1 MiB blocks got 50 MiB where
 * glibc gets 60; 57 with this).  Their deepest paths (a drain down to
 * madvise, a sysctl request) need a few KiB.  glibc carves a thread's
 * static TLS out of its stack and refuses a stack too small for it
 * (EINVAL): a program with that much TLS gets default stacks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>

#include "kthread.h"

#define	KTHREAD_STACK	(256 * 1024)

static int *_Atomic nthreads;
static _Atomic int nthreads_state;	/* 0 unresolved, 1 done */

static int *
kthread_count(void)
{
	int *p;

	if (atomic_load_explicit(&nthreads_state, memory_order_acquire))
		return (atomic_load_explicit(&nthreads, memory_order_relaxed));
	p = dlvsym(RTLD_DEFAULT, "__nptl_nthreads", "GLIBC_PRIVATE");
	atomic_store_explicit(&nthreads, p, memory_order_relaxed);
	atomic_store_explicit(&nthreads_state, 1, memory_order_release);
	return (p);
}

/* See kthread.h */
int
uma__kthread_create(pthread_t *td, void *(*fn)(void *), void *arg,
    bool detached)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int *count = kthread_count();
	int error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, KTHREAD_STACK);
	error = pthread_create(td, &attr, fn, arg);
	if (error == EINVAL) {
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
		if (detached)
			pthread_attr_setdetachstate(&attr,
			    PTHREAD_CREATE_DETACHED);
		error = pthread_create(td, &attr, fn, arg);
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* The creator is a live thread of the count: it cannot reach 0. */
	if (error == 0 && count != NULL)
		__atomic_sub_fetch(count, 1, __ATOMIC_SEQ_CST);
	return (error);
}

/* See kthread.h */
void
uma__kthread_exiting(void)
{
	int *count = kthread_count();

	if (count != NULL)
		__atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
}
