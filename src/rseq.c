/*
 * rseq.c - which CPU are we on, and how to stop another CPU's fast path.
 *
 * Layer: below cache.c.  Owns the restartable-sequence registration (glibc's
 * when it made one, ours otherwise), the CPU number and the membarrier
 * fence.  It knows nothing of zones.
 *
 * glibc 2.35+ registers an rseq area for every thread and publishes its
 * offset from the thread pointer in __rseq_offset (with __rseq_size > 0).
 * If glibc did not (GLIBC_TUNABLES=glibc.pthread.rseq=0, an older glibc),
 * we register our own initial-exec TLS area, thread by thread, the first
 * time a thread reaches a slow path.  If the kernel refuses (valgrind,
 * seccomp, old kernels) or the vm.uma_rseq tunable is 0, caches run in
 * locked mode and nothing here is used but uma__curcpu().
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rseq.h"
#include "sysctl_int.h"

ptrdiff_t uma_rseq_offset;

/*
 * Our own area, used only when glibc registered none.  Until a thread
 * registers it, cpu_id must read as negative: the fast paths index the
 * caches with it and must land on a closed guard cache (UMA_CACHE_GUARD).
 */
static __thread struct rseq rseq_own
    __attribute__((tls_model("initial-exec"), aligned(32))) = {
	.cpu_id = RSEQ_CPU_ID_UNINITIALIZED,
};
static __thread int rseq_own_state;	/* 0 untried, 1 registered, -1 failed */

/*
 * The area uma_rseq_offset names in locked mode: never registered, so its
 * cpu_id reads -1 on every thread, and a fast path that runs anyway (the
 * malloc hit paths do not test the mode) lands on a closed guard cache and
 * goes to the slow path, which takes the lock.
 */
static __thread struct rseq rseq_none
    __attribute__((tls_model("initial-exec"), aligned(32))) = {
	.cpu_id = RSEQ_CPU_ID_UNINITIALIZED,
};
static int rseq_tunable = 1;
UMA_SYSCTL_INT(sysctl_uma_rseq, "vm.uma_rseq", &rseq_tunable,
    UMA_CTLFLAG_RDTUN, 0, 1,
    "Per-CPU caches on restartable sequences (0: per-CPU locks)");

static bool rseq_ours;			/* the offset is rseq_own's */

static int
rseq_register_own(void)
{
	if (rseq_own_state != 0)
		return (rseq_own_state > 0 ? 0 : -1);
	memset(&rseq_own, 0, sizeof(rseq_own));
	rseq_own.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
	if (syscall(__NR_rseq, &rseq_own, sizeof(rseq_own), 0,
	    RSEQ_SIG) != 0) {
		rseq_own_state = -1;
		return (-1);
	}
	rseq_own_state = 1;
	return (0);
}

static inline struct rseq *
rseq_area(void)
{
	return ((struct rseq *)((char *)__builtin_thread_pointer() +
	    uma_rseq_offset));
}

/*
 * Decide the mode once, on the thread that starts uma.  Returns 1 when the
 * fast paths may use restartable sequences.
 */
static int
rseq_startup_area(void)
{
#if defined(__x86_64__)
	if (rseq_tunable == 0)
		return (0);
	if (__rseq_size > 0) {
		uma_rseq_offset = __rseq_offset;
	} else {
		if (rseq_register_own() != 0)
			return (0);
		uma_rseq_offset = (char *)&rseq_own -
		    (char *)__builtin_thread_pointer();
		rseq_ours = true;
	}
	if ((int32_t)rseq_area()->cpu_id < 0)
		return (0);
	/* Closing another CPU's cache needs the rseq fence; no fence, no rseq. */
	if (syscall(__NR_membarrier,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) != 0)
		return (0);
	return (1);
#else
	return (0);
#endif
}

int
uma__rseq_startup(void)
{
	if (rseq_startup_area())
		return (1);
	uma__rseq_off();
	return (0);
}

/* Locked mode from now on: the fast paths read rseq_none. */
void
uma__rseq_off(void)
{
	rseq_ours = false;
	uma_rseq_offset = (char *)&rseq_none -
	    (char *)__builtin_thread_pointer();
}

/* See rseq.h */
__thread int uma_cpu_hint __attribute__((tls_model("initial-exec"))) = -1;

/*
 * The current CPU, in [0, ncpus).  In rseq mode a thread whose area is not
 * registered yet (ours, lazily) gets registered here.
 */
int
uma__curcpu(void)
{
	int cpu;

	if (uma.ug_rseq) {
		cpu = (int32_t)rseq_area()->cpu_id;
		if (__predict_false(cpu < 0) && rseq_ours &&
		    rseq_register_own() == 0)
			cpu = (int32_t)rseq_area()->cpu_id;
		if (__predict_true(cpu >= 0 && cpu < uma.ug_ncpus))
			return (cpu);
	}
	cpu = sched_getcpu();
	if (cpu < 0 || cpu >= uma.ug_ncpus)
		cpu = 0;
	uma_cpu_hint = cpu;
	return (cpu);
}

/*
 * Abort any restartable sequence in progress on `cpu`: when this returns, a
 * fast path that read a cache word before our last store to it has either
 * committed already or will restart and read the word again.
 */
int
uma__rseq_fence(int cpu)
{
	int error;

	error = syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
	    MEMBARRIER_CMD_FLAG_CPU, cpu);
	if (error != 0 && errno == EINVAL)	/* an offline CPU: nothing runs */
		error = 0;
	return (error);
}

/*
 * In a child of fork(): the calling thread keeps its rseq registration,
 * but the membarrier registration belongs to the old address space.
 * Returns 1 if the child can keep using restartable sequences.
 */
int
uma__rseq_child(void)
{
	return (syscall(__NR_membarrier,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0);
}
