/*
 * threads.c - when uma registers its fork handlers and starts its trim
 * thread.
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
 *     or an arena of UMA_THREADS_PAGES or more.
 * Fork handlers are registered before the trim thread starts, so no
 * thread of uma's can hold a lock in a fork without them.  A fork child of
 * a process that had none needs nothing from them: no other thread held a
 * lock, and the membarrier registration the rseq caches rely on comes
 * with the copied address space.
 *
 * The per-CPU allocation counters do not depend on the trim thread: the
 * pop that would wrap one takes the slow path, which folds it (cache.c).
 */
#include <sys/single_threaded.h>

#include "uma_int.h"

/* libuma-malloc.so's interposer defines it true. */
__attribute__((weak)) bool uma__threads_lazy = false;

/* A process of one thread, with this much arena, gets the trim thread. */
#define	UMA_THREADS_PAGES	1024	/* 4 MiB */

#define	UMA_ATFORK_MAX	4

static struct {
	pthread_mutex_t	 lock;
	bool		 live;		/* handlers registered with libc */
	int		 n;
	struct {
		void	(*prepare)(void);
		void	(*parent)(void);
		void	(*child)(void);
	} h[UMA_ATFORK_MAX];
} forks = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * pthread_atfork, deferred until uma__threads_start.  The layers call it
 * in their lock order (uma, then malloc above it, ...); deferral keeps the
 * order, and libc runs prepare handlers last registered first.
 */
void
uma__atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	pthread_mutex_lock(&forks.lock);
	if (forks.live)
		pthread_atfork(prepare, parent, child);
	else if (forks.n < UMA_ATFORK_MAX)
		forks.h[forks.n++] = (__typeof__(forks.h[0])){ prepare, parent,
		    child };
	else
		uma__panic("uma: more than %d fork handlers", UMA_ATFORK_MAX);
	pthread_mutex_unlock(&forks.lock);
}

/*
 * Register the fork handlers, then start the trim thread; once per process
 * (again in a fork child, where the thread is gone but the handlers stay).
 * The flag is set first: pthread_atfork and pthread_create allocate, and
 * those allocations must not come back here.
 */
void
uma__threads_start(void)
{
	bool expect = false;

	if (!atomic_compare_exchange_strong(&uma.ug_threads, &expect, true))
		return;
	pthread_mutex_lock(&forks.lock);
	if (!forks.live) {
		for (int i = 0; i < forks.n; i++)
			pthread_atfork(forks.h[i].prepare, forks.h[i].parent,
			    forks.h[i].child);
		forks.live = true;
	}
	pthread_mutex_unlock(&forks.lock);
	uma__timeout_start();
}

/* See uma_int.h: the test behind uma_threads_poll, out of line. */
void
uma__threads_check(void)
{
	if (uma__threads_lazy && __libc_single_threaded &&
	    uma__vm_pages() < UMA_THREADS_PAGES)
		return;
	uma__threads_start();
}

/*
 * A fork child: the trim thread is gone, the handlers stay.  glibc leaves
 * __libc_single_threaded false in the child of a process that had threads
 * (ours included), so the child's first slow path starts the thread again.
 */
void
uma__threads_child(void)
{
	pthread_mutex_init(&forks.lock, NULL);
	atomic_store(&uma.ug_threads, false);
}
