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
	/* Freed pages kept resident (vm_dirty.c). */
	uint8_t		*dirty;		/* per page: 0, or its free's epoch */
	_Atomic uint64_t ndirty;	/* pages marked */
	uint64_t	 wss;		/* recent peak of pages handed out */
	uint64_t	 purged;	/* pages given back by vm_dirty.c */
	_Atomic uint64_t owed;		/* clean pages handed out since */
	_Atomic uint64_t fresh;		/* clean pages handed out, ever */
	void		(*_Atomic pressure)(void);	/* uma__vm_pressure_hook */
	uint8_t		 epoch;		/* 1..254: the decay period's */
};
extern struct uma__vm uma__vm UMA_HIDDEN;

/* vm.c: the arena, for vm_run.c.  _locked: uma__vm.lock held. */
void	uma__vm_top_locked(uintptr_t addr, size_t len) UMA_HIDDEN;
void	uma__vm_drop(void *mem, size_t len) UMA_HIDDEN;
int	uma__vm_grow_locked(size_t need) UMA_HIDDEN;
void	uma__vm_trim_locked(void) UMA_HIDDEN;
int	uma__vm_alloc_locked(size_t len, size_t align, uintptr_t low,
	    uintptr_t high, size_t boundary, uintptr_t *addrp) UMA_HIDDEN;
void	uma__vm_unmap_run(void *mem, size_t len, bool keep) UMA_HIDDEN;

/*
 * vm_dirty.c, the freed pages kept resident.  _locked: uma__vm.lock held.
 *   mark	a run freed: its pages are marked with this epoch (but those
 *		marked fresh, which are clean), or none if not `keep` (its
 *		pages were dropped);
 *   bypassed	this thread is reclaiming (uma__vm_dirty_bypass);
 *   fresh	a run in use is about to be freed, and its pages are new
 *		mappings (vm_run.c's moves): the free marks none of them;
 *   absent	a run in use is about to be freed: its pages not resident
 *		are marked fresh (no lock: it takes it);
 *   take	a run (or a growth) handed out takes its pages' marks;
 *		returns how many, and [*lop, *hip) bounds them;
 *   forget	the arena's top [addr, addr + len) goes: its kept pages are
 *		given back and unmarked;
 *   zero	zero-fill [lo, hi) (no lock: the run is the caller's);
 *   limit	after a free: give back the highest past the cap (no lock);
 *   owe	after a run took `clean` pages that were not kept ones:
 *		give as many kept ones back (no lock).
 */
void	uma__vm_dirty_mark_locked(uintptr_t addr, size_t len, bool keep)
	    UMA_HIDDEN;
bool	uma__vm_dirty_bypassed(void) UMA_HIDDEN;
void	uma__vm_dirty_fresh_locked(uintptr_t addr, size_t len) UMA_HIDDEN;
void	uma__vm_dirty_absent(uintptr_t addr, size_t len) UMA_HIDDEN;
size_t	uma__vm_dirty_take_locked(uintptr_t addr, size_t len,
	    uintptr_t *lop, uintptr_t *hip) UMA_HIDDEN;
void	uma__vm_dirty_forget_locked(uintptr_t addr, size_t len) UMA_HIDDEN;
void	uma__vm_dirty_zero(uintptr_t lo, uintptr_t hi) UMA_HIDDEN;
void	uma__vm_dirty_limit(void) UMA_HIDDEN;
void	uma__vm_dirty_owe(size_t clean) UMA_HIDDEN;

#endif /* !_UMA_VM_INT_H_ */
