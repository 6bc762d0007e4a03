/*
 * kthread.h - uma's own threads (kthread.c): created with every signal
 * blocked and left out of the count that keeps a process alive.
 */
#ifndef _UMA_KTHREAD_H_
#define	_UMA_KTHREAD_H_

#include <pthread.h>
#include <stdbool.h>

/*
 * pthread_create for a thread of uma's; 0 or an errno value.  The thread
 * does not keep the process alive.
 */
int	uma__kthread_create(pthread_t *td, void *(*fn)(void *), void *arg,
	    bool detached) __attribute__((visibility("hidden")));

/*
 * Called by a thread of uma's just before it returns (one that is joined
 * or stopped, unlike uma-trim): it counts as a live thread again, so that
 * its end takes away what its start added.
 */
void	uma__kthread_exiting(void) __attribute__((visibility("hidden")));

#endif /* !_UMA_KTHREAD_H_ */
