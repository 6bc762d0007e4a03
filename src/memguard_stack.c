/*
 * memguard_stack.c - the stacks MemGuard records when a guarded object
 * is allocated and freed: unwound, or scanned.
 *
 * Layer: MemGuard (memguard_int.h), beside memguard_report.c, which
 * prints them.  Never called at report time for a recorded stack.
 *
 * Unwound: backtrace(3), exact, from the unwind tables, for objects a
 * user selected (vm.memguard.desc, MG_GUARD_ALLLARGE) or every object
 * with MG_EXACTSTACKS.  Its first call loads libgcc_s and allocates, so
 * it is primed when MemGuard starts with one of those set, or when one
 * is set later (uma__mg_stack_prime, outside every lock); until then
 * stacks are scanned.  Its cost is the tables it reads, which stay
 * resident: a sample of a big program's allocations walks through most
 * of them (bench gcc, frequency=100: cc1's peak RSS +2 MiB, clean pages
 * of its 2.4 MiB .eh_frame; priming alone loads libgcc_s, 0.2 MiB).
 *
 * Scanned, for sampled objects, which production runs: the words of
 * this thread's stack above this frame that point just after a call
 * instruction in an executable segment, as Breakpad's stack scan finds
 * frames with no unwind information.  It reads only the stack and the
 * code before each return address, both resident already.  Every true
 * caller is there, its return address pushed by its call; a stale one
 * left in a frame's unused slot may show too, and the report says so.
 * The stack is read with process_vm_readv(2) on this process, which
 * returns short instead of faulting where it ends (a coroutine's stack,
 * an alternate signal stack: its top is not known here).  Where that
 * call is refused (a seccomp filter) or the machine is not x86-64, the
 * stack is unwound if backtrace(3) is primed, else left empty.
 *
 * The report's own stack (uma__mg_stack_access) is unwound when primed,
 * else scanned from the faulting context's stack pointer.  Both are
 * what a signal handler may call once the tables were read before; the
 * scan's dl_iterate_phdr takes the loader's lock, which is recursive,
 * so a fault inside the loader on this thread does not deadlock.
 */
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "memguard_int.h"

#define	MG_SKIP		2	/* uma__mg_stack and its caller */
/*
 * 8 KiB of stack above the scan's frame, as perf's default stack dump:
 * the loader's lazy binding alone saves 1-2 KiB of vector state in its
 * frame, and 4 KiB reached main in no test.
 */
#define	MG_SCAN_BYTES	8192
#define	MG_SCAN_CHUNK	2048	/* read at a time, on this stack */
#define	MG_TEXTS	64	/* executable segments looked at */

static uintptr_t mg_self_start, mg_self_end;	/* uma's object, if a library */

static bool
mg_self(uintptr_t pc)
{
	return (pc - mg_self_start < mg_self_end - mg_self_start);
}

/*
 * dl_iterate_phdr holds the loader's dl_load_write_lock, which fork(2)
 * does not reset: a scan on another thread at the moment of a fork left
 * it held in the child, whose first scan then hung (integration_zone_api
 * fork_while_another_thread_allocates, sampling on: 1 run in 2).  So
 * fork waits for scans to leave it (uma's first fork handler).
 */
static pthread_rwlock_t mg_phdr_lock = PTHREAD_RWLOCK_INITIALIZER;
static bool mg_started;	/* the arena is reserved (atomic) */
static bool mg_primed;	/* backtrace(3) has been called once (atomic) */

/* backtrace(3) from the caller of the function this is inlined in. */
static inline __attribute__((always_inline)) int
mg_unwind(void **frames, int max)
{
	void *all[MG_STACK + MG_SKIP + 24];
	int n = backtrace(all, (int)nitems(all)), i = MG_SKIP, k = 0;

	while (i < n && mg_self((uintptr_t)all[i]))
		i++;
	for (; i < n && k < max; i++)
		frames[k++] = all[i];
	return (k);
}

#if defined(__x86_64__)
struct mg_texts {
	int		 n;
	uintptr_t	 min, max;	/* all segments are in [min, max) */
	uintptr_t	 lo[MG_TEXTS], hi[MG_TEXTS];
};

/* dl_iterate_phdr: each object's readable executable segments. */
static int
mg_texts_add(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mg_texts *t = arg;
	const ElfW(Phdr) *ph;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum && t->n < MG_TEXTS; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & (PF_X | PF_R)) !=
		    (PF_X | PF_R))
			continue;
		t->lo[t->n] = info->dlpi_addr + ph->p_vaddr;
		t->hi[t->n] = t->lo[t->n] + ph->p_memsz;
		t->n++;
	}
	return (0);
}

/* Segments in address order (insertion: a few dozen at most). */
static void
mg_texts_sort(struct mg_texts *t)
{
	uintptr_t lo, hi;
	int j;

	for (int i = 1; i < t->n; i++) {
		lo = t->lo[i];
		hi = t->hi[i];
		for (j = i; j > 0 && t->lo[j - 1] > lo; j--) {
			t->lo[j] = t->lo[j - 1];
			t->hi[j] = t->hi[j - 1];
		}
		t->lo[j] = lo;
		t->hi[j] = hi;
	}
	t->min = t->n > 0 ? t->lo[0] : 1;
	t->max = 0;
	for (int i = 0; i < t->n; i++)
		if (t->hi[i] > t->max)
			t->max = t->hi[i];
}

/*
 * Could pc be a return address: in a segment, with the 7 bytes before it
 * there too (the longest call below) and itself before the end?  A
 * binary search, after one test against all of them: a linear search
 * over 30 segments for each of a stack's 1,024 words took 10 us a scan.
 */
static bool
mg_in_text(const struct mg_texts *t, uintptr_t pc)
{
	int lo = 0, hi = t->n;

	/* Most words are small numbers or point into the stack: above. */
	if (pc < t->min || pc >= t->max)
		return (false);
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (pc < t->lo[mid])
			hi = mid;
		else if (pc >= t->hi[mid])
			lo = mid + 1;
		else
			return (pc >= t->lo[mid] + 7);
	}
	return (false);
}

/* Bytes of a ModRM operand from its ModRM byte on (SIB, displacement). */
static int
mg_modrm_len(const uint8_t *m)
{
	int mod = m[0] >> 6, rm = m[0] & 7, n = 1;

	if (mod == 3)
		return (1);
	if (rm == 4) {
		n = 2;
		if (mod == 0 && (m[1] & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5)
		n += 4;
	return (n + (mod == 1 ? 1 : mod == 2 ? 4 : 0));
}

/* See memguard_int.h */
bool
uma__mg_after_call(const uint8_t *pc)
{
	if (pc[-5] == 0xe8)
		return (true);
	for (int k = 2; k <= 7; k++)
		if (pc[-k] == 0xff && (pc[-k + 1] & 0x38) == 0x10 &&
		    mg_modrm_len(pc - k + 1) == k - 1)
			return (true);
	return (false);
}

/*
 * Up to max return addresses found in the stack from sp up, uma's own
 * leading frames left out; -1 if the stack cannot be read.
 */
static int
mg_scan(void **frames, int max, uintptr_t sp)
{
	uintptr_t pc, buf[MG_SCAN_CHUNK / sizeof(uintptr_t)];
	struct iovec local = { buf, sizeof(buf) }, remote;
	bool leading = true;
	struct mg_texts t;
	pid_t pid = getpid();
	ssize_t got;
	int k = 0;

	t.n = 0;
	pthread_rwlock_rdlock(&mg_phdr_lock);
	dl_iterate_phdr(mg_texts_add, &t);
	pthread_rwlock_unlock(&mg_phdr_lock);
	mg_texts_sort(&t);
	for (size_t off = 0; off < MG_SCAN_BYTES && k < max;
	    off += sizeof(buf)) {
		remote.iov_base = (void *)(sp + off);
		remote.iov_len = sizeof(buf);
		got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (got < 0)
			return (off == 0 ? -1 : k);
		for (size_t i = 0; i < (size_t)got / sizeof(buf[0]) &&
		    k < max; i++) {
			pc = buf[i];
			if (!mg_in_text(&t, pc) ||
			    !uma__mg_after_call((const uint8_t *)pc))
				continue;
			/* uma's own frames, above its caller's, are left out. */
			if (leading && mg_self(pc))
				continue;
			leading = false;
			frames[k++] = (void *)pc;
		}
		if ((size_t)got < sizeof(buf))
			break;
	}
	return (k);
}
#else
/* See memguard_int.h */
bool
uma__mg_after_call(const uint8_t *pc)
{
	(void)pc;
	return (false);
}

static int
mg_scan(void **frames, int max, uintptr_t sp)
{
	(void)frames;
	(void)max;
	(void)sp;
	return (-1);
}
#endif

/* See memguard_int.h */
__attribute__((noinline)) int
uma__mg_stack(void **frames, bool scan, bool *scannedp)
{
	bool primed = __atomic_load_n(&mg_primed, __ATOMIC_ACQUIRE);
	int n = -1;

	if (scan || !primed)
		n = mg_scan(frames, MG_STACK,
		    (uintptr_t)__builtin_frame_address(0));
	*scannedp = n >= 0;
	if (n < 0 && primed)
		n = mg_unwind(frames, MG_STACK);
	return (n < 0 ? 0 : n);
}

/* See memguard_int.h */
int
uma__mg_stack_access(void **frames, int max, uintptr_t pc, uintptr_t sp,
    bool *scannedp)
{
	int n, first = 0;

	*scannedp = false;
	if (__atomic_load_n(&mg_primed, __ATOMIC_ACQUIRE)) {
		/* From the faulting instruction on. */
		n = backtrace(frames, max);
		while (first < n && (uintptr_t)frames[first] != pc)
			first++;
		if (first < n) {
			memmove(frames, frames + first,
			    (size_t)(n - first) * sizeof(*frames));
			return (n - first);
		}
	}
	frames[0] = (void *)pc;
	n = mg_scan(frames + 1, max - 1, sp);
	*scannedp = n >= 0;
	return (n < 0 ? 1 : n + 1);
}

/* See memguard_int.h */
void
uma__mg_stack_prime(void)
{
	void *prime[4];

	if (!__atomic_load_n(&mg_started, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&mg_primed, __ATOMIC_ACQUIRE) ||
	    !uma__mg_exact_wanted())
		return;
	(void)backtrace(prime, (int)nitems(prime));
	__atomic_store_n(&mg_primed, true, __ATOMIC_RELEASE);
}

/* See memguard_int.h */
void
uma__mg_stack_start(void)
{
	struct dl_find_object d;

	/* uma's own frames are left out of stacks when it is a library. */
	if (_dl_find_object((void *)uma__mg_stack, &d) == 0 &&
	    d.dlfo_link_map != NULL && d.dlfo_link_map->l_name != NULL &&
	    d.dlfo_link_map->l_name[0] != '\0') {
		mg_self_start = (uintptr_t)d.dlfo_map_start;
		mg_self_end = (uintptr_t)d.dlfo_map_end;
	}
	__atomic_store_n(&mg_started, true, __ATOMIC_RELEASE);
	uma__mg_stack_prime();
}

/* See memguard_int.h */
void
uma__mg_stack_fork_prepare(void)
{
	pthread_rwlock_wrlock(&mg_phdr_lock);
}

void
uma__mg_stack_fork_parent(void)
{
	pthread_rwlock_unlock(&mg_phdr_lock);
}

void
uma__mg_stack_fork_child(void)
{
	pthread_rwlock_init(&mg_phdr_lock, NULL);
}
