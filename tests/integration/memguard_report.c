/*
 * memguard_report.c - MemGuard catches what it is for, in a child that
 * must die with one report on stderr naming the type or zone and the
 * function that allocated: a write and a read after free, of a guarded
 * malloc type and of a guarded zone; an overrun by one byte past a
 * 100-byte and a 4096-byte object, an underrun with the guard page
 * before; a double free; a free inside an object; realloc keeps
 * guarding; objects of every size class and over 64 KiB.  And faults
 * that are not MemGuard's reach the program's handler, or the default
 * action, as before.  Release builds, public API only.  The program is
 * linked with -rdynamic, so that the report names its functions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <uma/malloc.h>
#include <uma/memguard.h>
#include <uma/uma.h>

#include "harness.h"
#include "malloc_classes_test.h"
#include "memguard_test.h"

MALLOC_DEFINE(M_MGTEST, "mg_test", "MemGuard's tests");

/* Guard the type "mg_test" and the zone "mg_zone" (a fresh process). */
static void
guard_both(void)
{
	test_tunables_add("vm.memguard.desc=mg_test");
}

/* The functions a report must name: global, so -rdynamic exports them. */
__attribute__((noinline)) char *
mg_test_alloc(size_t size)
{
	char *p = uma_malloc(size, M_MGTEST, M_WAITOK);

	CHECK(p != NULL);
	CHECK(is_memguard_addr(p));
	return (p);
}

__attribute__((noinline)) void *
mg_test_zalloc(uma_zone_t z)
{
	void *p = uma_zalloc(z, M_WAITOK);

	CHECK(p != NULL);
	CHECK(is_memguard_addr(p));
	return (p);
}

static uma_zone_t
mg_zone(size_t size)
{
	uma_zone_t z = uma_zcreate("mg_zone", size, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	CHECK(z != NULL);
	return (z);
}

/* Volatile accesses: the compiler must not drop them. */
static void
poke(char *p, ptrdiff_t off)
{
	((volatile char *)p)[off] = 1;
}

static char
peek(const char *p, ptrdiff_t off)
{
	return (((const volatile char *)p)[off]);
}

static void
type_write_after_free(void *arg)
{
	char *p = mg_test_alloc(100);

	uma_free(p, M_MGTEST);
	poke(p, 10);
}

UMA_TEST(memguard_type_write_after_free_reports)
{
	static const char *const n[] = { "MemGuard: use after free: write of",
	    "at offset 10 of the 100-byte object", "malloc type \"mg_test\"",
	    "allocated by thread", "mg_test_alloc", "freed by thread",
	    "the access", NULL };

	guard_both();
	CHECK(expect_abort(type_write_after_free, NULL, n));
}

static void
type_read_after_free(void *arg)
{
	char *p = mg_test_alloc(100);

	uma_free(p, M_MGTEST);
	(void)peek(p, 99);
}

UMA_TEST(memguard_type_read_after_free_reports)
{
	static const char *const n[] = { "use after free: read of",
	    "at offset 99 of the 100-byte object", "malloc type \"mg_test\"",
	    "mg_test_alloc", NULL };

	guard_both();
	CHECK(expect_abort(type_read_after_free, NULL, n));
}

/* Option 0x8: no stacks kept, the access's still shown. */
UMA_TEST(memguard_nostacks_reports_the_access_only)
{
	static const char *const n[] = { "use after free: write of",
	    "at offset 10 of the 100-byte object", "malloc type \"mg_test\"",
	    "allocated by thread", "(no frames)", "freed by thread",
	    "the access", NULL };

	test_tunables_add("vm.memguard.desc=mg_test,vm.memguard.options=9");
	CHECK(expect_abort(type_write_after_free, NULL, n));
}

/*
 * A sampled object (vm.memguard.frequency, the production mode): its
 * stacks are scanned from the stack's words, not unwound, and the report
 * says so; they still name the functions that allocated and freed.
 */
__attribute__((noinline)) char *
mg_test_sampled_alloc(size_t size)
{
	char *p = uma_malloc(size, M_MGTEST, M_WAITOK);

	CHECK(p != NULL);
	return (p);
}

__attribute__((noinline)) void
mg_test_sampled_free(char *p)
{
	uma_free(p, M_MGTEST);
	__asm__ volatile("" ::: "memory");	/* a call, not a tail jump */
}

static void
sampled_write_after_free(void *arg)
{
	char *p;

	/* A CPU's first allocation of a class fills its cache: no sample. */
	uma_free(mg_test_sampled_alloc(100), M_MGTEST);
	p = mg_test_sampled_alloc(100);
	CHECK(is_memguard_addr(p));
	mg_test_sampled_free(p);
	poke(p, 10);
}

static void
sample_everything(const char *more)
{
	char t[256];

	snprintf(t, sizeof(t), "vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxrate=0%s", more);
	test_tunables_add(t);
}

UMA_TEST(memguard_sampled_report_names_the_functions_from_a_scan)
{
	static const char *const n[] = { "use after free: write of",
	    "at offset 10 of the ", "\"mg_test\" (sampled)",
	    "allocated by thread", "(stack scanned: a stale frame may show)",
	    "mg_test_sampled_alloc", "freed by thread", "mg_test_sampled_free",
	    "the access", "in expect_abort+", NULL };

	sample_everything("");
	CHECK(expect_abort(sampled_write_after_free, NULL, n));
}

/* Option 0x10: sampled objects' stacks unwound, as selected ones are. */
UMA_TEST(memguard_sampled_exact_stacks_option_unwinds)
{
	static const char *const n[] = { "use after free: write of",
	    "(sampled)", "mg_test_sampled_alloc", "mg_test_sampled_free",
	    NULL };
	static const char *const scanned[] = { "stack scanned", NULL };

	sample_everything(",vm.memguard.options=0x11");
	CHECK(expect_abort(sampled_write_after_free, NULL, n));
	/* The same case must not say "scanned" now. */
	CHECK(!expect_abort(sampled_write_after_free, NULL, scanned));
}

#if defined(__x86_64__)
/*
 * A sandbox that refuses process_vm_readv (a seccomp filter, as gVisor's
 * or a container's may): the scan cannot read the stack.  The report
 * still comes, with no frames for a sample, or with the unwound ones
 * when exact stacks were asked for (backtrace(3) needs no system call).
 */
static void
deny_process_vm_readv(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

static void
sandboxed_write_after_free(void *arg)
{
	deny_process_vm_readv();
	sampled_write_after_free(arg);
}

UMA_TEST(memguard_sampled_report_in_a_sandbox_without_process_vm_readv)
{
	static const char *const none[] = { "use after free: write of",
	    "(sampled)", "allocated by thread", "(no frames)",
	    "freed by thread", "the access", NULL };
	static const char *const exact[] = { "use after free: write of",
	    "(sampled)", "mg_test_sampled_alloc", "mg_test_sampled_free",
	    NULL };

	sample_everything(",vm.memguard.desc=");
	CHECK(expect_abort(sandboxed_write_after_free, NULL, none));
	memguard_set_int("vm.memguard.options", 0x11);
	CHECK(expect_abort(sandboxed_write_after_free, NULL, exact));
}
#endif

/* Is a library whose path holds `name` mapped in this process? */
static bool
mapped(const char *name)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	CHECK(f != NULL);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, name) != NULL;
	fclose(f);
	return (found);
}

/*
 * Sampling alone never loads the unwinder (libgcc_s, which backtrace(3)
 * loads at its first call: 0.2 MiB resident): scanned stacks do not need
 * it.  A selection that wants exact stacks, set at run time, loads it.
 */
UMA_TEST(memguard_sampling_alone_does_not_load_the_unwinder)
{
	bool before = mapped("libgcc_s");
	char *p[64];
	int guarded = 0;

	/* Sampling alone: no desc, whatever the suite's run set. */
	sample_everything(",vm.memguard.desc=");
	for (int i = 0; i < 64; i++) {
		p[i] = mg_test_sampled_alloc(100);
		guarded += is_memguard_addr(p[i]);
	}
	for (int i = 0; i < 64; i++)
		mg_test_sampled_free(p[i]);
	CHECK(guarded >= 60);
	if (before) {
		fprintf(stderr, "libgcc_s was loaded before uma started\n");
		exit(77);
	}
	CHECK(!mapped("libgcc_s"));
	CHECK(uma_sysctlbyname("vm.memguard.desc", NULL, NULL, "mg_test",
	    sizeof("mg_test")) == 0);
	CHECK(mapped("libgcc_s"));
}

static void
zone_write_after_free(void *arg)
{
	uma_zone_t z = mg_zone(200);
	char *p = mg_test_zalloc(z);

	uma_zfree(z, p);
	poke(p, 0);
}

UMA_TEST(memguard_zone_write_after_free_reports)
{
	static const char *const n[] = { "use after free: write of",
	    "at offset 0 of the 200-byte object", "zone \"mg_zone\"",
	    "mg_test_zalloc", "freed by thread", NULL };

	test_tunables_add("vm.memguard.desc=mg_zone");
	CHECK(expect_abort(zone_write_after_free, NULL, n));
}

static void
zone_read_after_free(void *arg)
{
	uma_zone_t z = mg_zone(200);
	char *p = mg_test_zalloc(z);

	uma_zfree(z, p);
	(void)peek(p, 150);
}

UMA_TEST(memguard_zone_read_after_free_reports)
{
	static const char *const n[] = { "use after free: read of",
	    "at offset 150 of the 200-byte object", "zone \"mg_zone\"",
	    "mg_test_zalloc", NULL };

	test_tunables_add("vm.memguard.desc=mg_zone");
	CHECK(expect_abort(zone_read_after_free, NULL, n));
}

/* One byte past 100: inside the page, found by the pattern at free. */
static void
overrun_100(void *arg)
{
	char *p = mg_test_alloc(100);

	poke(p, 100);
	uma_free(p, M_MGTEST);
}

UMA_TEST(memguard_overrun_by_one_past_100_bytes_reports)
{
	static const char *const n[] = { "MemGuard: overrun: write of",
	    "at offset 100 of the 100-byte object", "(1 byte past its end)",
	    "found when it was freed", "mg_test_alloc", NULL };

	guard_both();
	CHECK(expect_abort(overrun_100, NULL, n));
}

/* One byte past 4096: the guard page after, at once. */
static void
overrun_4096(void *arg)
{
	char *p = mg_test_alloc(4096);

	poke(p, 4096);
}

UMA_TEST(memguard_overrun_by_one_past_4096_bytes_faults)
{
	static const char *const n[] = { "MemGuard: overrun: write of",
	    "at offset 4096 of the 4096-byte object", "(1 byte past its end)",
	    "mg_test_alloc", "the access", "MemGuard: signal 11", NULL };

	guard_both();
	CHECK(expect_abort(overrun_4096, NULL, n));
}

/* The guard page before (MG_GUARD_AROUND, the default option). */
static void
underrun_4096(void *arg)
{
	char *p = mg_test_alloc(4096);

	(void)peek(p, -1);
}

UMA_TEST(memguard_underrun_with_guard_around_faults)
{
	static const char *const n[] = { "MemGuard: underrun: read of",
	    "at offset -1 of the 4096-byte object", "(1 byte before its start)",
	    "mg_test_alloc", NULL };

	test_tunables_add("vm.memguard.desc=mg_test,vm.memguard.options=1");
	CHECK(expect_abort(underrun_4096, NULL, n));
}

/* A byte before a small object is in its page: the pattern tells. */
static void
underrun_100(void *arg)
{
	char *p = mg_test_alloc(100);

	poke(p, -3);
	uma_free(p, M_MGTEST);
}

UMA_TEST(memguard_underrun_before_100_bytes_reports)
{
	static const char *const n[] = { "MemGuard: underrun: write of",
	    "at offset -3 of the 100-byte object", "(3 bytes before its start)",
	    "found when it was freed", NULL };

	guard_both();
	CHECK(expect_abort(underrun_100, NULL, n));
}

static void
double_free_type(void *arg)
{
	char *p = mg_test_alloc(64);

	uma_free(p, M_MGTEST);
	uma_free(p, M_MGTEST);
}

UMA_TEST(memguard_double_free_of_type_reports)
{
	static const char *const n[] = { "MemGuard: double free: free(",
	    "the 64-byte object", "malloc type \"mg_test\"", "already freed",
	    "mg_test_alloc", "freed by thread", "this call", NULL };

	guard_both();
	CHECK(expect_abort(double_free_type, NULL, n));
}

static void
double_free_zone(void *arg)
{
	uma_zone_t z = mg_zone(48);
	void *p = mg_test_zalloc(z);

	uma_zfree(z, p);
	uma_zfree(z, p);
}

UMA_TEST(memguard_double_free_of_zone_item_reports)
{
	static const char *const n[] = { "MemGuard: double free: uma_zfree(",
	    "the 48-byte object", "zone \"mg_zone\"", "already freed",
	    "mg_test_zalloc", NULL };

	test_tunables_add("vm.memguard.desc=mg_zone");
	CHECK(expect_abort(double_free_zone, NULL, n));
}

static void
free_inside(void *arg)
{
	char *p = mg_test_alloc(100);

	uma_free(p + 8, M_MGTEST);
}

UMA_TEST(memguard_free_inside_an_object_reports)
{
	static const char *const n[] = { "MemGuard: invalid free: free(",
	    "is 8 bytes inside the 100-byte object", NULL };

	guard_both();
	CHECK(expect_abort(free_inside, NULL, n));
}

/*
 * realloc of a guarded object guards the new one even when nothing else
 * would (the type is no longer selected); the old one is freed.
 */
static void
realloc_guarded(void *arg)
{
	char *p = mg_test_alloc(100), *q;

	CHECK(uma_sysctlbyname("vm.memguard.desc", NULL, NULL, "", 1) == 0);
	memset(p, 7, 100);
	q = uma_realloc(p, 5000, M_MGTEST, M_WAITOK);
	CHECK(q != NULL && q != p && is_memguard_addr(q));
	CHECK(q[0] == 7 && q[99] == 7);
	CHECK_EQ(uma_malloc_usable_size(q), 5000);
	if (arg != NULL) {
		poke(q, 5000);		/* the new one: an overrun */
		uma_free(q, M_MGTEST);
	} else
		(void)peek(p, 0);	/* the old one: freed */
}

UMA_TEST(memguard_realloc_keeps_guarding)
{
	static const char *const old[] = { "use after free: read of",
	    "at offset 0 of the 100-byte object", NULL };
	static const char *const new[] = { "overrun: write of",
	    "at offset 5000 of the 5000-byte object", NULL };

	guard_both();
	CHECK(expect_abort(realloc_guarded, NULL, old));
	CHECK(expect_abort(realloc_guarded, (void *)1, new));
}

/*
 * Every size class, and runs over 64 KiB: the byte after the object
 * faults at once (each size is a multiple of 16, so the object ends
 * where its page does).
 */
static void
overrun_size(void *arg)
{
	size_t size = (size_t)(uintptr_t)arg;
	char *p = mg_test_alloc(size);

	memset(p, 1, size);
	poke(p, (ptrdiff_t)size);
}

UMA_TEST(memguard_every_size_class_and_large_overrun_faults)
{
	static const size_t large[] = { 70000, 1 << 20, (3 << 20) + 4096 };
	const char *n[] = { "overrun: write of", "(1 byte past its end)",
	    NULL };

	guard_both();
	for (int c = 0; c < NCLASSES; c++)
		CHECK(expect_abort(overrun_size, (void *)(uintptr_t)classes[c],
		    n));
	for (size_t i = 0; i < sizeof(large) / sizeof(large[0]); i++)
		CHECK(expect_abort(overrun_size, (void *)(uintptr_t)large[i],
		    n));
}

/*
 * Faults that are not MemGuard's go where they would have gone: to the
 * handler the program had (here one that jumps back), and with none to
 * the default action (the process dies of SIGSEGV, not of an abort).
 */
static sigjmp_buf mg_jmp;
static volatile sig_atomic_t mg_caught;
static char *volatile mg_bad = (char *)16;	/* no page there */

static void
program_handler(int sig)
{
	mg_caught = sig;
	siglongjmp(mg_jmp, 1);
}

UMA_TEST(memguard_program_sigsegv_handler_keeps_working)
{
	struct sigaction sa;
	char *p;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = program_handler;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	guard_both();
	p = mg_test_alloc(32);	/* MemGuard starts: its handler goes in */
	CHECK(is_memguard_addr(p));
	if (sigsetjmp(mg_jmp, 1) == 0)
		(void)peek(mg_bad, 0);
	CHECK_EQ(mg_caught, SIGSEGV);
	uma_free(p, M_MGTEST);
}

static void
null_read(void *arg)
{
	char *p = mg_test_alloc(32);

	uma_free(p, M_MGTEST);
	(void)peek(mg_bad, 0);
}

UMA_TEST(memguard_other_faults_keep_the_default_action)
{
	pid_t pid;
	int status;

	guard_both();
	fflush(NULL);
	if ((pid = fork()) == 0) {
		signal(SIGSEGV, SIG_DFL);
		null_read(NULL);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
}
