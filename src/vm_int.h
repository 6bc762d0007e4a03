/*
 * vm_int.h - the page layer's own state, shared by vm.c (the arena: its
 * window, its mapping in pieces, the map, the tables) and vm_run.c (the
 * backend every page comes through, counted by use, and the runs realloc
 * grows and moves).  Nothing outside the page layer includes it.
 */
#ifndef _UMA_VM_INT_H_
#define	_UMA_VM_INT_H_

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "uma_int.h"
#include "vm.h"
#include "vmmap.h"

#define	VM_RW		(PROT_READ | PROT_WRITE)
#define	VM_ANON		(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

#ifndef MAP_FIXED_NOREPLACE
#define	MAP_FIXED_NOREPLACE	0x100000	/* Linux 4.17 */
#endif

/*
 * Invariant (under lock): the map manages [uma_vm_base + a page, end);
 * [uma_vm_base, end) is mapped read-write and the table entries of
 * [uma_vm_base, tabend) are writable, tabend >= end; the map's free
 * ranges hold no pages; pages == the sum of use[].
 */
struct uma__vm {
	pthread_mutex_t	 lock;
	struct vmmap	 map;
	_Atomic uint64_t pages;		/* handed out by the backend */
	_Atomic uint64_t use[UMA_PAGES_NUSE];	/* the same, by use */
	uintptr_t	 top;		/* highest end handed out */
	const struct uma__backend *backend;
	uintptr_t	 end;
	uintptr_t	 tabend;
	bool		 reserved;	/* the window is, PROT_NONE past end */
	size_t		 limit;		/* RLIMIT_AS or _DATA at start-up, or 0 */
	_Atomic uint64_t lost;		/* bytes never to be handed out again */
	_Atomic uint64_t fails;		/* requests the arena could not serve */
};
extern struct uma__vm uma__vm UMA_HIDDEN;

/* vm.c: the arena, for vm_run.c.  _locked: uma__vm.lock held. */
void	uma__vm_top_locked(uintptr_t addr, size_t len) UMA_HIDDEN;
void	uma__vm_drop(void *mem, size_t len) UMA_HIDDEN;
int	uma__vm_grow_locked(size_t need) UMA_HIDDEN;
void	uma__vm_trim_locked(void) UMA_HIDDEN;
int	uma__vm_alloc_locked(size_t len, size_t align, uintptr_t low,
	    uintptr_t high, size_t boundary, uintptr_t *addrp) UMA_HIDDEN;
void	uma__vm_unmap_run(void *mem, size_t len) UMA_HIDDEN;

#endif /* !_UMA_VM_INT_H_ */
