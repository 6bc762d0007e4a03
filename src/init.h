/*
 * init.h - starting uma (init.c): the start-up order, in one place.
 */
#ifndef _UMA_INIT_H_
#define	_UMA_INIT_H_

#include "uma_int.h"

void	uma__startup(void) UMA_HIDDEN;
bool	uma__booting(void) UMA_HIDDEN;	/* this thread is starting uma */

/* For every entry that may be uma's first call. */
static inline void
uma_ensure_started(void)
{
	if (__predict_false(!__atomic_load_n(&uma.ug_ready, __ATOMIC_ACQUIRE)))
		uma__startup();
}

#endif /* !_UMA_INIT_H_ */
