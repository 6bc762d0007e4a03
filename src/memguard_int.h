/*
 * memguard_int.h - what memguard.c (the arena, the objects) and
 * memguard_report.c (stacks, the SIGSEGV handler, the report) share.
 *
 * Records.  Every guarded object has a record: where its run of pages
 * is, the object's address and size, who it is for, and the stacks of
 * its allocation and free.  A per-page table of the arena names the
 * record of each page's run, guard pages included, so that a faulting
 * address or a pointer to free finds its record with one load.  A freed
 * object's record is copied into a ring of the MG_RETAIN latest (records
 * 1 to MG_RETAIN), so that a use after free is reported with both stacks;
 * when the ring comes round, the older run's entries go stale: a record
 * whose run does not cover the page is no record.  Invariants (mg.lock):
 * a live record's run is allocated in the map and its pages' entries
 * name it; the table's pages that hold entries of live or ring records
 * are counted in mg.tabrefs, and no other page of the table is resident.
 * The signal handler reads records and the table without the lock: a
 * record being rewritten at that moment gives a muddled report, never a
 * crash (indices are bounded, pointers are not followed).
 */
#ifndef _UMA_MEMGUARD_INT_H_
#define	_UMA_MEMGUARD_INT_H_

#include <uma/memguard.h>

#include "memguard.h"
#include "vm.h"

#define	MG_STACK	16	/* frames kept per stack */
#define	MG_NAME		32	/* bytes of the owner's name kept */

#define	MG_REC_FREE	0	/* on the free list */
#define	MG_REC_LIVE	1	/* the object is the user's */
#define	MG_REC_FREEING	2	/* a free has begun */
#define	MG_REC_FREED	3	/* retained for reports */

struct mg_rec {
	uintptr_t	 mr_run;	/* first page of the run, guards included */
	uintptr_t	 mr_runlen;	/* bytes of the run */
	uintptr_t	 mr_pages;	/* first page of the object's pages */
	uintptr_t	 mr_addr;	/* the object */
	size_t		 mr_size;	/* bytes requested */
	uint32_t	 mr_state;	/* MG_REC_* (atomic) */
	uint32_t	 mr_next;	/* free list or FIFO link, 0: none */
	struct uma__mg_owner mr_owner;	/* mo_name points at mr_name */
	int		 mr_tid[2];	/* allocating and freeing threads */
	uint8_t		 mr_depth[2];	/* frames in mr_stack[0] and [1] */
	bool		 mr_scanned[2];	/* stack scanned, not unwound */
	char		 mr_name[MG_NAME];
	void		*mr_stack[2][MG_STACK];	/* allocation, free */
};

/* The arena's per-page table and the records (memguard.c). */
extern _Atomic uint32_t *uma__mg_pagetab UMA_HIDDEN;
extern struct mg_rec *uma__mg_recs UMA_HIDDEN;
extern uint32_t uma__mg_nrecs UMA_HIDDEN;	/* records ever made + 1 */

/*
 * memguard_policy.c: the knobs of vm.memguard.* (read them with
 * MG_LOAD: a sysctl write may change them at any time) and the counters
 * (UMA_MEMGUARD_COUNTERS, <uma/memguard.h>).
 */
struct mg_knobs {
	int		 mk_divisor;
	int		 mk_options;	/* MG_GUARD_* */
	int		 mk_frequency;
	int		 mk_maxlive;
	int		 mk_maxrate;
	uint64_t	 mk_maxbytes;
	uint64_t	 mk_minsize;
};
extern struct mg_knobs uma__mg_knobs UMA_HIDDEN;

struct mg_counters {
#define	MG_X(name, descr)	uint64_t name;
	UMA_MEMGUARD_COUNTERS(MG_X)
#undef MG_X
	uint64_t	 acct;		/* of live_bytes, what statistics count */
	uint64_t	 large;		/* of that, malloc runs */
};
extern struct mg_counters uma__mg_ctr UMA_HIDDEN;

#define	MG_ADD(v, n)	__atomic_fetch_add(&(v), (n), __ATOMIC_RELAXED)
#define	MG_SUB(v, n)	__atomic_fetch_sub(&(v), (n), __ATOMIC_RELAXED)
#define	MG_LOAD(v)	__atomic_load_n(&(v), __ATOMIC_RELAXED)

/* Does any knob turn MemGuard on (a desc, a frequency, ALLLARGE)? */
bool	uma__mg_wanted(void) UMA_HIDDEN;
/* Bytes of pages MemGuard may hold for objects under a page. */
uint64_t uma__mg_phys_limit(void) UMA_HIDDEN;
/* Physical memory, as FreeBSD's v_page_count * PAGE_SIZE. */
uint64_t uma__mg_physmem(void) UMA_HIDDEN;
/*
 * The handlers of vm.memguard.desc and .options (memguard_select.c):
 * store, then make zones and types follow.
 */
struct uma__sysctl_req;
struct uma__sysctl_oid;
int	uma__memguard_desc_handler(struct uma__sysctl_req *req,
	    const struct uma__sysctl_oid *oid) UMA_HIDDEN;
int	uma__memguard_options_handler(struct uma__sysctl_req *req,
	    const struct uma__sysctl_oid *oid) UMA_HIDDEN;
void	uma__mg_policy_fork_prepare(void) UMA_HIDDEN;
void	uma__mg_policy_fork_parent(void) UMA_HIDDEN;
void	uma__mg_policy_fork_child(void) UMA_HIDDEN;

/* The record whose run holds `addr`, or NULL (lock-free). */
static inline struct mg_rec *
mg_rec_of(uintptr_t addr)
{
	uint32_t i;
	struct mg_rec *r;

	uintptr_t size = __atomic_load_n(&uma_mg_size, __ATOMIC_ACQUIRE);
	uintptr_t base = __atomic_load_n(&uma_mg_base, __ATOMIC_RELAXED);

	if (addr - base >= size)
		return (NULL);
	i = atomic_load_explicit(&uma__mg_pagetab[(addr - base) >>
	    UMA_PAGE_SHIFT], memory_order_acquire);
	if (i == 0 || i >= __atomic_load_n(&uma__mg_nrecs, __ATOMIC_ACQUIRE))
		return (NULL);
	r = &uma__mg_recs[i];
	if (addr - __atomic_load_n(&r->mr_run, __ATOMIC_RELAXED) >=
	    __atomic_load_n(&r->mr_runlen, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE) == MG_REC_FREE)
		return (NULL);
	return (r);
}

/*
 * memguard_stack.c.  Stacks: this thread's, at most MG_STACK frames of
 * callers of MemGuard (its own frames and uma's are left out when uma is
 * a library of its own).  uma__mg_stack: scanned if `scan` or backtrace
 * is not primed yet, else unwound (*scannedp says which); 0 frames if
 * neither can be done.  uma__mg_stack_access: the stack of a fault at
 * pc with stack pointer sp, from pc on.  uma__mg_stack_start, called once
 * when the arena is reserved, outside every lock, and
 * uma__mg_stack_prime, whenever the selection changes, prime
 * backtrace(3) (its first call loads libgcc_s and allocates) if
 * uma__mg_exact_wanted: something selected wants exact stacks.
 *
 * memguard_report.c.  The SIGSEGV/SIGBUS handler is installed by
 * uma__mg_report_start, at the same moment.
 */
int	uma__mg_stack(void **frames, bool scan, bool *scannedp) UMA_HIDDEN;
int	uma__mg_stack_access(void **frames, int max, uintptr_t pc,
	    uintptr_t sp, bool *scannedp) UMA_HIDDEN;
void	uma__mg_stack_start(void) UMA_HIDDEN;
void	uma__mg_stack_prime(void) UMA_HIDDEN;
bool	uma__mg_exact_wanted(void) UMA_HIDDEN;

/*
 * Does a call instruction end just before pc (x86-64: call rel32, e8, 5
 * bytes; or call through a register or memory, ff /2, 2 to 7 bytes, a
 * REX prefix before it changing nothing after)?  The 7 bytes before pc
 * must be readable.  What the scan asks of each word of a stack.
 */
bool	uma__mg_after_call(const uint8_t *pc) UMA_HIDDEN;
int	uma__mg_tid(void) UMA_HIDDEN;
void	uma__mg_report_start(void) UMA_HIDDEN;
void	uma__mg_report_child(void) UMA_HIDDEN;

/* What went wrong, for uma__mg_report. */
#define	MG_BAD_DOUBLE_FREE	1
#define	MG_BAD_INSIDE		2	/* free of a pointer inside an object */
#define	MG_BAD_NO_OBJECT	3	/* free of a pointer to no object */
#define	MG_BAD_WRONG_ZONE	4
#define	MG_BAD_OVERRUN_FREE	5	/* bytes after the end, seen at free */
#define	MG_BAD_UNDERRUN_FREE	6	/* bytes before the start, seen at free */
#define	MG_BAD_BUCKET		7	/* a guarded item in a zone's bucket */

/*
 * Report a misuse found by MemGuard's checks (not a fault) with the
 * current stack, and abort.  `what` is the call, `zone` the zone it
 * named (MG_BAD_WRONG_ZONE), `off` the offending byte's offset from the
 * object (MG_BAD_*_FREE) or the pointer's (MG_BAD_INSIDE).
 */
void	uma__mg_report(int bad, const void *p, const struct mg_rec *r,
	    const char *what, const char *zone, intptr_t off) UMA_HIDDEN
	    __attribute__((noreturn));

#endif /* !_UMA_MEMGUARD_INT_H_ */
