/*
 * threads.h - when uma registers its fork handlers and starts its threads
 * (threads.c); kthread.h makes them.
 */
#ifndef _UMA_THREADS_H_
#define	_UMA_THREADS_H_

#include "uma_int.h"

extern bool uma__threads_lazy UMA_HIDDEN;
void	uma__atfork(void (*prepare)(void), void (*parent)(void),
	    void (*child)(void)) UMA_HIDDEN;
void	uma__forks_register(void) UMA_HIDDEN;
bool	uma__forks_registering(void) UMA_HIDDEN;	/* this thread is */
void	uma__forks_wait(void) UMA_HIDDEN;	/* until libc has them all */
void	uma__threads_start(void) UMA_HIDDEN;
void	uma__threads_check(void) UMA_HIDDEN;
void	uma__threads_child(void) UMA_HIDDEN;

/*
 * At a point that holds none of uma's locks: start the fork handlers and
 * uma's threads if the process now needs them.
 */
static inline void
uma_threads_poll(void)
{
	if (__predict_false(!atomic_load_explicit(&uma.ug_threads,
	    memory_order_relaxed)))
		uma__threads_check();
}

#endif /* !_UMA_THREADS_H_ */
