/*
 * threads.c - when uma registers its fork handlers and starts its threads:
 * uma-trim, and uma-export when the endpoint is asked for from the
 * environment (uma.export, UMA_EXPORT=1).  kthread.c makes them, so that
 * they never keep a process alive.
 *
 * Layer: the frame, beside init.c.  Both exist for a process with more
 * than one thread: fork handlers keep a lock some other thread holds out
 * of the child, and the trim thread gives back what an idle process keeps
 * cached.  A process of one thread needs neither while its arena is small.
 *
 * libuma.so starts both with uma itself.  libuma-malloc.so, which every
 * process it is preloaded into pays for, waits (uma__threads_lazy): the
 * first pthread_atfork and pthread_create of a process bring in pages of
 * libc that a small program never touches otherwise, 150 KiB of the peak
 * resident set of a single-threaded one (bench simple: 1620 -> 1460 KiB).
 * They start at the first of:
 *   - the process has a second thread: glibc clears __libc_single_threaded
 *     in pthread_create before it allocates the new thread's TLS vector
 *     with calloc, so the interposer's calloc sees it in the creating
 *     thread, before the new one exists;
 *   - a slow path (uma__zalloc_slow, large allocations and frees, zone
 *     creation) sees a second thread (with a libc that allocates no TLS
 *     vector, a thread may then take a lock before the handlers are in),
 *     or an arena of UMA_THREADS_PAGES or more;
 *   - uma's start-up is complete and the endpoint is asked for.
 * Fork handlers are registered before the trim thread starts, so no
 * thread of uma's can hold a lock in a fork without them.  They are also
 * registered before anyone else's: libc runs prepare handlers last
 * registered first, and a handler whose prepare calls malloc must run
 * before uma's takes uma's locks, or the malloc waits on a lock its own
 * thread holds (a hang in fork).  So the interposer's __register_atfork
 * registers uma's handlers before the first other one (interpose.c).
 * A fork child of a process that had none needs nothing from them: no
 * other thread held a lock, and the membarrier registration the rseq
 * caches rely on comes with the copied address space.  A child of a
 * process that exported starts its own endpoint, on its own socket, at its
 * first poll.
 *
 * The per-CPU allocation counters do not depend on the trim thread: the
 * pop that would wrap one takes the slow path, which folds it (cache.c).
 */
#include <sched.h>
#include <sys/single_threaded.h>

#include "export.h"
#include "reclaim.h"
#include "threads.h"
#include "vm.h"

/* libuma-malloc.so's interposer defines it true. */
__attribute__((weak)) bool uma__threads_lazy = false;

/* A process of one thread, with this much arena, gets the trim thread. */
#define	UMA_THREADS_PAGES	1024	/* 4 MiB */

#define	UMA_ATFORK_MAX	4

static struct {
	pthread_mutex_t	 lock;
	_Atomic bool	 live;		/* registration with libc began */
	bool		 draining;	/* a thread is registering h[next..] */
	int		 n, next;	/* queued; registered with libc */
	struct {
		void	(*prepare)(void);
		void	(*parent)(void);
		void	(*child)(void);
	} h[UMA_ATFORK_MAX];
} forks = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* This thread is registering uma's handlers (see forks_drain). */
static __thread bool forks_self __attribute__((tls_model("initial-exec")));

/*
 * Register the queued handlers that libc does not have yet, in queue
 * order, from one thread at a time and without forks.lock held: libc's
 * registration may allocate, and under libuma-malloc.so it passes through
 * the interposer's __register_atfork.  A handler queued meanwhile by
 * another thread is picked up by the loop, or by that thread if the loop
 * has ended (both decide under forks.lock).
 */
static void
forks_drain(void)
{
	__typeof__(forks.h[0]) h;

	pthread_mutex_lock(&forks.lock);
	if (forks.draining) {
		pthread_mutex_unlock(&forks.lock);
		return;
	}
	forks.draining = true;
	forks_self = true;
	while (forks.next < forks.n) {
		h = forks.h[forks.next++];
		pthread_mutex_unlock(&forks.lock);
		pthread_atfork(h.prepare, h.parent, h.child);
		pthread_mutex_lock(&forks.lock);
	}
	forks_self = false;
	forks.draining = false;
	pthread_mutex_unlock(&forks.lock);
}

/*
 * pthread_atfork, deferred until uma__forks_register.  The layers call it
 * in their lock order (uma, then malloc above it, ...); the queue keeps the
 * order, and libc runs prepare handlers last registered first.
 */
void
uma__atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	pthread_mutex_lock(&forks.lock);
	if (forks.n == UMA_ATFORK_MAX)
		uma__panic("uma: more than %d fork handlers", UMA_ATFORK_MAX);
	forks.h[forks.n++] = (__typeof__(forks.h[0])){ prepare, parent, child };
	pthread_mutex_unlock(&forks.lock);
	if (atomic_load(&forks.live))
		forks_drain();
}

/*
 * Register the queued fork handlers with libc; from now on, later ones as
 * they are queued.
 */
void
uma__forks_register(void)
{
	atomic_store(&forks.live, true);
	forks_drain();
}

/* See uma_int.h. */
bool
uma__forks_registering(void)
{
	return (forks_self);
}

/* See uma_int.h. */
void
uma__forks_wait(void)
{
	bool pending;

	for (;;) {
		pthread_mutex_lock(&forks.lock);
		pending = forks.draining || forks.next < forks.n;
		pthread_mutex_unlock(&forks.lock);
		if (!pending)
			return;
		sched_yield();
	}
}

/*
 * Register the fork handlers, then start the trim thread and, if asked
 * for, the export endpoint's; once per process (again in a fork child,
 * where the threads are gone but the handlers stay).  The flag is set
 * first: pthread_create allocates, and its allocations must not come back
 * here.  Runs only where uma holds no lock and no start-up is in progress
 * (uma__startup's tail, the polls), because what it starts comes back
 * through the interposer: the fork handlers' registration through its
 * __register_atfork, the threads' creation through its calloc.
 */
void
uma__threads_start(void)
{
	bool expect = false;

	if (!atomic_compare_exchange_strong(&uma.ug_threads, &expect, true))
		return;
	uma__forks_register();
	uma__timeout_start();
	uma__export_boot();
}

/* See uma_int.h: the test behind uma_threads_poll, out of line. */
void
uma__threads_check(void)
{
	if (uma__threads_lazy && __libc_single_threaded &&
	    uma__vm_pages() < UMA_THREADS_PAGES && !uma_export_tunable)
		return;
	uma__threads_start();
}

/*
 * A fork child: the trim thread is gone, the handlers stay.  glibc leaves
 * __libc_single_threaded false in the child of a process that had threads
 * (ours included), so the child's first slow path starts the thread again,
 * and registers any handler whose registration the fork cut short.
 */
void
uma__threads_child(void)
{
	pthread_mutex_init(&forks.lock, NULL);
	forks.draining = false;		/* its thread is gone */
	atomic_store(&uma.ug_threads, false);
}
