/*
 * init.c - starting uma, and fork().
 *
 * Layer: above the allocator and its threads, below the entries that may
 * be a process's first call into uma (zone creation, malloc, mbufs, the
 * statistics), which call uma_ensure_started.  Owns struct uma_global.
 * uma__startup holds the start-up order, in one place; the fork handlers
 * take every lock of the allocator in the lock order of uma_int.h.
 */
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "bucket.h"
#include "init.h"
#include "internal.h"
#include "keg.h"
#include "limit.h"
#include "memguard.h"
#include "reclaim.h"
#include "rseq.h"
#include "sysctl_int.h"
#include "threads.h"
#include "vm.h"
#include "zone_ctor.h"

struct uma_global uma = {
	.ug_lock = PTHREAD_RWLOCK_INITIALIZER,
	.ug_zones = TAILQ_HEAD_INITIALIZER(uma.ug_zones),
	.ug_kegs = LIST_HEAD_INITIALIZER(uma.ug_kegs),
	.ug_warnings = 1,	/* vm.zone_warnings (sysctl.c) */
	.ug_multipage = 1,	/* vm.debug.uma_multipage_slabs */
};

static pthread_once_t uma_once = PTHREAD_ONCE_INIT;
/* This thread is inside uma_startup_once (uma__booting). */
static __thread bool uma_booting_self __attribute__((tls_model("initial-exec")));

/*
 * CPUs that can exist: the kernel's list of possible CPUs ("0-3,8-11"), a
 * superset of the configured ones glibc counts, so that a CPU brought
 * online later still has a cache.  Read and parsed by hand: stdio, scanf
 * and get_nprocs_conf (a directory scan) are each the first caller of
 * their code in a small program, and cost it 50-180 KiB of resident set.
 * get_nprocs_conf is the fallback without /sys.
 */
static int
nprocs_conf(void)
{
	int n = get_nprocs_conf();

	return (n > 0 ? n : 1);
}

static int
ncpus_possible(void)
{
	char buf[256];
	ssize_t len;
	long v = -1, n = 0;
	int fd;

	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (nprocs_conf());
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	/* The largest number in the list is the last possible CPU. */
	for (const char *p = buf;; p++) {
		if (*p >= '0' && *p <= '9') {
			v = (v < 0 ? 0 : v * 10) + (*p - '0');
			if (v > 65535)
				break;
			continue;
		}
		if (v + 1 > n)
			n = v + 1;
		v = -1;
		if (*p == '\0')
			break;
	}
	return (n > 0 && n <= 65536 ? (int)n : nprocs_conf());
}

static void uma_fork_prepare(void);
static void uma_fork_parent(void);
static void uma_fork_child(void);

/*
 * The boot, under uma_once: boot tunables, the CPUs, the arena, the CPU
 * mode, uma's own zones and the bucket zones.  Nothing here starts a
 * thread or registers with libc (see uma__startup).
 */
static void
uma_startup_once(void)
{
	uma__tunables_load();
	uma.ug_ncpus = ncpus_possible();
	if (uma__vm_startup() != 0)
		uma__panic("uma: no address space for the arena (%s)",
		    uma__vm_limit() != 0 ? "ulimit -v or -d is too small" :
		    "mmap failed");
	uma__class_gate_sync();
	uma.ug_rseq = uma__rseq_startup() != 0;
	atomic_store(&uma.ug_class_lmgate, uma.ug_rseq ? 1 : 0);
	uma__internal_startup();
	uma__bucket_startup();
	uma__reclaim_startup();
	uma__atfork(uma_fork_prepare, uma_fork_parent, uma_fork_child);
	__atomic_store_n(&uma.ug_ready, true, __ATOMIC_RELEASE);
}

/* See init.h */
bool
uma__booting(void)
{
	return (uma_booting_self);
}

/*
 * uma's start-up, in its order: boot tunables (UMA_TUNABLES, UMA_EXPORT),
 * the arena, the CPU mode, uma's own zones; then, once that is complete
 * and no once-guard of uma's is held, MemGuard if the tunables turned it
 * on (its handler, and backtrace(3)'s first call, which loads a library
 * and allocates), and the threads (fork handlers, uma-trim and
 * uma-export: threads.c decides which).  Starting them comes back
 * through the malloc(3) interposer (pthread_create allocates, and
 * pthread_atfork reaches its __register_atfork), so it must find uma
 * ready; and nothing inside the boot may start anything that does.  A
 * thread that re-enters the boot is a bug: it would wait on itself.
 * Layers above (malloc, mbufs) call this before taking their own once.
 */
void
uma__startup(void)
{
	if (uma_booting_self)
		uma__panic("uma: start-up re-entered on its own thread");
	uma_booting_self = true;
	pthread_once(&uma_once, uma_startup_once);
	uma_booting_self = false;
	uma__memguard_startup();
	uma_threads_poll();
}

/*
 * fork(): take every lock, in the lock order, so that the child gets
 * consistent lists, caches and slabs; the child then re-initializes the
 * locks (its thread is not the one that took them) and the sleep state
 * (nobody sleeps in the child).
 */
static void
uma_fork_prepare(void)
{
	uma_zone_t zone;
	uma_keg_t keg;

	uma__mg_stack_fork_prepare();
	uma__keg_fork_prepare();	/* before uma_lock: see slabzone_lookup */
	pthread_rwlock_wrlock(&uma.ug_lock);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		if (zone->uz_cpu != uma__closed_caches())
			for (int i = 0; i < uma.ug_ncpus; i++)
				uma_lock(&zone->uz_cpu[i].uc_lock);
		pthread_mutex_lock(&zone->uz_lock);
	}
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		pthread_mutex_lock(&keg->uk_lock);
	uma__vm_fork_prepare();
	uma__memguard_fork_prepare();
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
		pthread_mutex_lock(&zone->uz_limit_lock);
}

static void
uma_fork_parent(void)
{
	uma_zone_t zone;
	uma_keg_t keg;

	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
		pthread_mutex_unlock(&zone->uz_limit_lock);
	uma__memguard_fork_parent();
	uma__vm_fork_parent();
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		pthread_mutex_unlock(&keg->uk_lock);
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		pthread_mutex_unlock(&zone->uz_lock);
		if (zone->uz_cpu != uma__closed_caches())
			for (int i = 0; i < uma.ug_ncpus; i++)
				uma_unlock(&zone->uz_cpu[i].uc_lock);
	}
	pthread_rwlock_unlock(&uma.ug_lock);
	uma__keg_fork_parent();
	uma__mg_stack_fork_parent();
}

static void
uma_fork_child(void)
{
	uma_zone_t zone;
	uma_keg_t keg;

	atomic_store(&uma.ug_class_gate, 0);
	uma__class_gate_sync();
	TAILQ_FOREACH(zone, &uma.ug_zones, uz_all) {
		pthread_mutex_init(&zone->uz_limit_lock, NULL);
		pthread_cond_init(&zone->uz_limit_cv, NULL);
		atomic_store(&zone->uz_sleepers, 0);
		atomic_fetch_and(&zone->uz_gate, ~UZ_GATE_SLEEPERS);
		uma__mutex_init(&zone->uz_lock);
		if (zone->uz_cpu != uma__closed_caches())
			for (int i = 0; i < uma.ug_ncpus; i++)
				uma_lock_init(&zone->uz_cpu[i].uc_lock);
	}
	uma__memguard_fork_child();
	uma__mg_stack_fork_child();
	uma__vm_fork_child();
	uma__keg_fork_child();
	LIST_FOREACH(keg, &uma.ug_kegs, uk_link)
		uma__mutex_init(&keg->uk_lock);
	for (int i = 0; i < uma.ug_ncpus; i++)
		uma_lock_init(&uma__closed_caches()[i].uc_lock);
	pthread_rwlock_init(&uma.ug_lock, NULL);
	if (uma.ug_rseq && !uma__rseq_child()) {
		uma.ug_rseq = false;
		uma__rseq_off();
		TAILQ_FOREACH(zone, &uma.ug_zones, uz_all)
			uma__zone_set_gate(zone);
	}
	atomic_store(&uma.ug_class_lmgate, uma.ug_rseq ? 1 : 0);
	uma__timeout_child();
	uma__threads_child();
}
