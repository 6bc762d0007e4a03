/*
 * lowmem.c - the low-memory path: what uma does when the OS refuses memory
 * to an allocation that may not fail (M_WAITOK), and the handlers programs
 * hang on it (uma_lowmem_register).
 *
 * Layer: above the reclaim and the threads, below the zone's entry
 * (zalloc.c) and malloc (malloc.c, contig.c), which call it.  It knows no
 * zone: it runs the handlers, then uma_reclaim, which drains every zone
 * and the caches that hang on it (malloc's large runs; MemGuard's).
 *
 * FreeBSD's M_WAITOK never returns NULL: a thread the page allocator
 * cannot serve fires the vm_lowmem event (protocol drains, uma's reclaim,
 * the buffer cache...) and sleeps until the pagedaemon has freed pages.
 * User space has no pagedaemon, and an OS that refuses memory (an
 * address-space limit, no overcommit) may refuse it for good.  So uma
 * runs the event itself, in the thread that was refused, waits a backoff,
 * and tries again; after vm.lowmem_retries tries it gives up with a
 * message that names what could not be had, where FreeBSD would panic.
 *
 * A pass (handlers, then the drain) runs in one thread at a time: a
 * thread refused while another runs one waits for it and counts it as its
 * own, so that a burst of refusals drains once.  Handlers run outside
 * every lock of uma's, in the order of their priority; a handler refused
 * memory itself (it allocated with M_WAITOK) does not start a pass within
 * the pass, and waits like any other caller.
 */
#include <string.h>
#include <time.h>

#include "init.h"
#include "internal.h"
#include "lowmem.h"
#include "sysctl_int.h"
#include "threads.h"

#define	LOWMEM_DELAY_MS_MAX	1000	/* the backoff's ceiling */

static int lowmem_retries = 8;
UMA_SYSCTL_INT(sysctl_lowmem_retries, "vm.lowmem_retries", &lowmem_retries,
    UMA_CTLFLAG_RWTUN, 0, 1000,
    "Low-memory passes before a M_WAITOK allocation the OS refuses aborts");

/* A registered handler: an item of the internal "UMA Lowmem" zone. */
struct uma_lowmem_entry {
	struct uma_lowmem_entry *le_next;	/* by priority */
	uma_lowmem_handler_t	 le_fn;
	void			*le_arg;
	int			 le_priority;
	bool			 le_dead;	/* deregistered during a pass */
};

static struct {
	pthread_mutex_t	 lock;		/* the list, running, gen; a leaf */
	pthread_cond_t	 done;		/* a pass ended */
	pthread_once_t	 once;
	uma_zone_t	 zone;
	struct uma_lowmem_entry *list;
	bool		 running;
	uint64_t	 gen;		/* passes ended */
} lowmem = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
};

static __thread bool lowmem_in_pass __attribute__((tls_model("initial-exec")));

static void
lowmem_fork_prepare(void)
{
	pthread_mutex_lock(&lowmem.lock);
}

static void
lowmem_fork_parent(void)
{
	pthread_mutex_unlock(&lowmem.lock);
}

/* A pass of the parent's other threads does not exist in the child. */
static void
lowmem_fork_child(void)
{
	pthread_mutex_init(&lowmem.lock, NULL);
	pthread_cond_init(&lowmem.done, NULL);
	lowmem.running = false;
}

static void
lowmem_startup(void)
{
	lowmem.zone = uma__internal_zcreate("UMA Lowmem",
	    sizeof(struct uma_lowmem_entry), UMA_ALIGN_PTR, 0);
	uma__atfork(lowmem_fork_prepare, lowmem_fork_parent,
	    lowmem_fork_child);
}

/* Unlink and free the entries deregistered during a pass (lock held). */
static void
lowmem_reap_locked(void)
{
	struct uma_lowmem_entry **ep = &lowmem.list, *e;

	UMA_MTX_ASSERT(&lowmem.lock);
	while ((e = *ep) != NULL) {
		if (e->le_dead) {
			*ep = e->le_next;
			uma__internal_free(lowmem.zone, e);
		} else
			ep = &e->le_next;
	}
}

/* See uma.h */
uma_lowmem_tag_t
uma_lowmem_register(uma_lowmem_handler_t fn, void *arg, int priority)
{
	struct uma_lowmem_entry *e, **ep;

	uma_ensure_started();
	pthread_once(&lowmem.once, lowmem_startup);
	if (fn == NULL || lowmem.zone == NULL ||
	    (e = uma__internal_alloc(lowmem.zone, M_NOWAIT)) == NULL)
		return (NULL);
	e->le_fn = fn;
	e->le_arg = arg;
	e->le_priority = priority;
	e->le_dead = false;
	pthread_mutex_lock(&lowmem.lock);
	for (ep = &lowmem.list; *ep != NULL &&
	    (*ep)->le_priority <= priority; ep = &(*ep)->le_next)
		;
	e->le_next = *ep;
	*ep = e;
	pthread_mutex_unlock(&lowmem.lock);
	return (e);
}

/*
 * See uma.h.  During another thread's pass the handler may be running:
 * wait for the pass to end.  From inside a pass (a handler deregisters),
 * the pass frees the entry when it ends.
 */
void
uma_lowmem_deregister(uma_lowmem_tag_t tag)
{
	if (tag == NULL)
		return;
	pthread_mutex_lock(&lowmem.lock);
	tag->le_dead = true;
	while (lowmem.running && !lowmem_in_pass)
		pthread_cond_wait(&lowmem.done, &lowmem.lock);
	if (!lowmem.running)
		lowmem_reap_locked();
	pthread_mutex_unlock(&lowmem.lock);
}

/*
 * One pass: every live handler, lowest priority first, then the drain.
 * The lock drops around each handler; entries stay linked meanwhile (a
 * deregistration marks them dead), so the walk may go on from the one it
 * called.  A thread that finds a pass running waits for its end instead.
 */
static void
lowmem_pass(void)
{
	struct uma_lowmem_entry *e;
	uma_lowmem_handler_t fn;
	uint64_t gen;
	void *arg;

	if (lowmem_in_pass)
		return;
	pthread_once(&lowmem.once, lowmem_startup);
	pthread_mutex_lock(&lowmem.lock);
	if (lowmem.running) {
		gen = lowmem.gen;
		while (lowmem.gen == gen)
			pthread_cond_wait(&lowmem.done, &lowmem.lock);
		pthread_mutex_unlock(&lowmem.lock);
		return;
	}
	lowmem.running = true;
	lowmem_in_pass = true;
	for (e = lowmem.list; e != NULL; e = e->le_next) {
		if (e->le_dead)
			continue;
		fn = e->le_fn;
		arg = e->le_arg;
		pthread_mutex_unlock(&lowmem.lock);
		fn(arg, UMA_LOWMEM_PAGES);
		pthread_mutex_lock(&lowmem.lock);
	}
	pthread_mutex_unlock(&lowmem.lock);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	pthread_mutex_lock(&lowmem.lock);
	lowmem.running = false;
	lowmem_in_pass = false;
	lowmem.gen++;
	lowmem_reap_locked();
	pthread_cond_broadcast(&lowmem.done);
	pthread_mutex_unlock(&lowmem.lock);
}

/* Try `attempt` waits 0 ms (the pass may have been enough), then 1, 4, ... */
static void
lowmem_backoff(int attempt)
{
	struct timespec ts;
	long ms = 1;

	if (attempt == 0)
		return;
	for (int i = 1; i < attempt && ms < LOWMEM_DELAY_MS_MAX; i++)
		ms *= 4;
	if (ms > LOWMEM_DELAY_MS_MAX)
		ms = LOWMEM_DELAY_MS_MAX;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* See lowmem.h */
bool
uma__lowmem_retry(int attempt)
{
	if (attempt >= __atomic_load_n(&lowmem_retries, __ATOMIC_RELAXED))
		return (false);
	lowmem_pass();
	lowmem_backoff(attempt);
	return (true);
}

/* See lowmem.h */
void
uma__lowmem_wait(const char *kind, const char *what, size_t size,
    int attempt)
{
	if (!uma__lowmem_retry(attempt))
		uma__panic("uma: out of memory: %zu bytes for %s \"%s\": the "
		    "OS refused memory %d times, with the low-memory handlers "
		    "run and every zone drained in between; a M_WAITOK "
		    "allocation cannot return NULL", size, kind, what,
		    attempt + 1);
}
