/*
 * memguard_report.c - MemGuard's report: the stacks it records, the
 * SIGSEGV/SIGBUS handler that tells its faults from the program's, and
 * the one report it prints before it aborts.
 *
 * Layer: MemGuard (memguard_int.h), beside memguard.c; reads records and
 * the page table, changes nothing of them.
 *
 * Stacks are taken when a guarded object is allocated and freed
 * (memguard_stack.c); at report time only the access's, with
 * backtrace(3), primed when MemGuard started.  The report itself is
 * async-signal-safe: write(2) on a buffer on the stack, numbers formatted
 * by hand, and names found without the loader's lock: _dl_find_object(3)
 * gives the object and its link map, whose dynamic symbol table is read
 * directly (as dladdr would, but dladdr locks).  So a function shows by
 * name when it is in a dynamic symbol table (a shared library, or an
 * executable linked with -rdynamic), else as module+offset, for
 * addr2line.
 *
 * The handler is installed once, when the arena is reserved, and only
 * then.  A fault outside the arena goes to the handler the program had
 * before (called as it asked: with or without SA_SIGINFO), or to the
 * default action, unchanged; a program that installs its own handler
 * later replaces MemGuard's, and MemGuard's faults then go to it.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "memguard_int.h"

#define	MG_SKIP		2	/* uma__mg_stack and its caller */

static struct sigaction mg_prev[2];	/* SIGSEGV's and SIGBUS's before */
static char mg_exe[256];
static __thread int mg_tid_cache __attribute__((tls_model("initial-exec")));

/* See memguard_int.h */
int
uma__mg_tid(void)
{
	if (mg_tid_cache == 0)
		mg_tid_cache = uma__gettid();
	return (mg_tid_cache);
}

/* ---- output: async-signal-safe ------------------------------------- */

struct mg_out {
	size_t	 len;
	char	 buf[480];
};

static void
out_flush(struct mg_out *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->len) {
		n = write(STDERR_FILENO, o->buf + off, o->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	o->len = 0;
}

static void
out_str(struct mg_out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (o->len == sizeof(o->buf))
			out_flush(o);
		o->buf[o->len++] = *s;
	}
}

static void
out_num(struct mg_out *o, uint64_t v, unsigned base)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	if (base == 16)
		out_str(o, "0x");
	out_str(o, &tmp[i]);
}

static void
out_dec(struct mg_out *o, uint64_t v)
{
	out_num(o, v, 10);
}

static void
out_hex(struct mg_out *o, uintptr_t v)
{
	out_num(o, v, 16);
}

static void
out_sdec(struct mg_out *o, int64_t v)
{
	if (v < 0)
		out_str(o, "-");
	out_dec(o, v < 0 ? (uint64_t)-v : (uint64_t)v);
}

/* "1 byte", "2 bytes" */
static void
out_bytes(struct mg_out *o, uint64_t n)
{
	out_dec(o, n);
	out_str(o, n == 1 ? " byte" : " bytes");
}

/* ---- names: the dynamic symbol table, without the loader's lock ----- */

/* A d_ptr of the dynamic section: glibc relocates most, not every one. */
static uintptr_t
dyn_ptr(const struct link_map *lm, uintptr_t v)
{
	return (v != 0 && v < lm->l_addr ? v + lm->l_addr : v);
}

/* Symbols in the table: DT_HASH says; DT_GNU_HASH's last chain ends it. */
static size_t
dyn_nsyms(const uint32_t *hash, const uint32_t *gnu)
{
	const uint32_t *buckets, *chain;
	uint32_t nb, off, max = 0;

	if (hash != NULL)
		return (hash[1]);
	if (gnu == NULL)
		return (0);
	nb = gnu[0];
	off = gnu[1];
	buckets = gnu + 4 + gnu[2] * (sizeof(ElfW(Addr)) / 4);
	chain = buckets + nb;
	for (uint32_t b = 0; b < nb; b++)
		if (buckets[b] > max)
			max = buckets[b];
	if (max < off)
		return (off);
	while (!(chain[max - off] & 1) && max - off < (1u << 24))
		max++;
	return ((size_t)max + 1);
}

/*
 * The function holding pc (*namep, *offp) and its object (*modp,
 * *modoffp, the offset addr2line takes).  False if no object holds pc.
 */
static bool
symbolize(uintptr_t pc, const char **namep, uintptr_t *offp,
    const char **modp, uintptr_t *modoffp)
{
	const ElfW(Sym) *syms = NULL, *best = NULL;
	const uint32_t *hash = NULL, *gnu = NULL;
	const char *strs = NULL;
	struct dl_find_object d;
	const struct link_map *lm;
	const ElfW(Dyn) *dyn;
	size_t n, strsz = 0;
	uintptr_t a, besta = 0;

	*namep = NULL;
	if (_dl_find_object((void *)pc, &d) != 0 || d.dlfo_link_map == NULL)
		return (false);
	lm = d.dlfo_link_map;
	*modp = lm->l_name != NULL && lm->l_name[0] != '\0' ? lm->l_name :
	    mg_exe;
	*modoffp = pc - lm->l_addr;
	for (dyn = lm->l_ld; dyn != NULL && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			syms = (const void *)dyn_ptr(lm, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strs = (const void *)dyn_ptr(lm, dyn->d_un.d_ptr);
			break;
		case DT_STRSZ:
			strsz = dyn->d_un.d_val;
			break;
		case DT_HASH:
			hash = (const void *)dyn_ptr(lm, dyn->d_un.d_ptr);
			break;
		case DT_GNU_HASH:
			gnu = (const void *)dyn_ptr(lm, dyn->d_un.d_ptr);
			break;
		}
	}
	if (syms == NULL || strs == NULL)
		return (true);
	n = dyn_nsyms(hash, gnu);
	for (size_t i = 0; i < n && i < (1u << 24); i++) {
		int type = ELF64_ST_TYPE(syms[i].st_info);

		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    syms[i].st_shndx == SHN_UNDEF || syms[i].st_value == 0 ||
		    syms[i].st_name >= strsz)
			continue;
		a = lm->l_addr + syms[i].st_value;
		if (a <= pc && a >= besta && (syms[i].st_size == 0 ||
		    pc < a + syms[i].st_size)) {
			best = &syms[i];
			besta = a;
		}
	}
	if (best != NULL) {
		*namep = strs + best->st_name;
		*offp = pc - besta;
	}
	return (true);
}

/* One frame: `#i 0x... name+0x.. (module+0x..)`; return addresses - 1. */
static void
out_frame(struct mg_out *o, int i, uintptr_t pc, bool ret)
{
	const char *name, *mod;
	uintptr_t off, modoff;

	out_str(o, "    #");
	out_dec(o, (uint64_t)i);
	out_str(o, " ");
	out_hex(o, pc);
	if (symbolize(ret ? pc - 1 : pc, &name, &off, &mod, &modoff)) {
		if (name != NULL) {
			out_str(o, " in ");
			out_str(o, name);
			out_str(o, "+");
			out_hex(o, off + ret);
		}
		out_str(o, " (");
		out_str(o, mod);
		out_str(o, "+");
		out_hex(o, modoff + ret);
		out_str(o, ")");
	}
	out_str(o, "\n");
	out_flush(o);
}

static void
out_stack(struct mg_out *o, const char *what, int tid, void *const *f,
    int n, int first, bool scanned)
{
	out_str(o, "  ");
	out_str(o, what);
	out_str(o, " by thread ");
	out_dec(o, (uint64_t)tid);
	out_str(o, scanned ? " (stack scanned: a stale frame may show):\n" :
	    ":\n");
	if (n == 0)
		out_str(o, "    (no frames)\n");
	for (int i = first; i < n; i++)
		out_frame(o, i - first, (uintptr_t)f[i], true);
	out_flush(o);
}

/* "the 100-byte object at 0x..., of zone "x" (sampled)". */
static void
out_object(struct mg_out *o, const struct mg_rec *r)
{
	out_str(o, "the ");
	out_dec(o, r->mr_size);
	out_str(o, "-byte object at ");
	out_hex(o, r->mr_addr);
	out_str(o, r->mr_owner.mo_type != NULL ? ", of malloc type \"" :
	    ", of zone \"");
	out_str(o, r->mr_name);
	out_str(o, r->mr_owner.mo_sampled ? "\" (sampled)" : "\"");
}

/*
 * "at offset N of the S-byte object at ..." and, outside it, how far:
 * " (K bytes past its end)" or " (K bytes before its start)".
 */
static void
out_at(struct mg_out *o, uintptr_t a, const struct mg_rec *r)
{
	out_str(o, "at offset ");
	out_sdec(o, (int64_t)(a - r->mr_addr));
	out_str(o, " of ");
	out_object(o, r);
	if (a >= r->mr_addr + r->mr_size) {
		out_str(o, " (");
		out_bytes(o, a - r->mr_addr - r->mr_size + 1);
		out_str(o, " past its end)");
	} else if (a < r->mr_addr) {
		out_str(o, " (");
		out_bytes(o, r->mr_addr - a);
		out_str(o, " before its start)");
	}
}

/* The object's two stacks, then the current one. */
static void
out_stacks(struct mg_out *o, const struct mg_rec *r, const char *now,
    void *const *cur, int ncur, int first, bool scanned)
{
	if (r != NULL) {
		out_stack(o, "allocated", r->mr_tid[0], r->mr_stack[0],
		    r->mr_depth[0], 0, r->mr_scanned[0]);
		if (__atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE) ==
		    MG_REC_FREED)
			out_stack(o, "freed", r->mr_tid[1], r->mr_stack[1],
			    r->mr_depth[1], 0, r->mr_scanned[1]);
	}
	out_stack(o, now, uma__mg_tid(), cur, ncur, first, scanned);
}

static __attribute__((noreturn)) void
mg_abort(struct mg_out *o)
{
	out_str(o, "MemGuard: aborting\n");
	out_flush(o);
	abort();
}

/* See memguard_int.h */
void
uma__mg_report(int bad, const void *p, const struct mg_rec *r,
    const char *what, const char *zone, intptr_t off)
{
	struct mg_out o = { 0 };
	void *cur[MG_STACK];
	bool scanned;
	int ncur = uma__mg_stack(cur, false, &scanned);

	out_str(&o, "\nMemGuard: ");
	switch (bad) {
	case MG_BAD_OVERRUN_FREE:
	case MG_BAD_UNDERRUN_FREE:
		out_str(&o, bad == MG_BAD_OVERRUN_FREE ? "overrun: write of " :
		    "underrun: write of ");
		out_hex(&o, r->mr_addr + (uintptr_t)off);
		out_str(&o, ", ");
		out_at(&o, r->mr_addr + (uintptr_t)off, r);
		out_str(&o, ", found when it was freed");
		break;
	case MG_BAD_BUCKET:
		out_str(&o, "guarded object ");
		out_hex(&o, (uintptr_t)p);
		out_str(&o, " found among the free items of zone \"");
		out_str(&o, what);
		out_str(&o, "\": freed twice (the second free went to the "
		    "zone's cache), or freed to the wrong zone");
		break;
	default:
		out_str(&o, bad == MG_BAD_DOUBLE_FREE ? "double free: " :
		    bad == MG_BAD_WRONG_ZONE ? "free to the wrong zone: " :
		    "invalid free: ");
		out_str(&o, what);
		out_str(&o, "(");
		if (zone != NULL) {
			out_str(&o, "zone \"");
			out_str(&o, zone);
			out_str(&o, "\", ");
		}
		out_hex(&o, (uintptr_t)p);
		out_str(&o, ")");
		if (bad == MG_BAD_INSIDE) {
			out_str(&o, " is ");
			out_bytes(&o, (uint64_t)off);
			out_str(&o, " inside ");
		} else if (bad == MG_BAD_NO_OBJECT && r != NULL)
			out_str(&o, " is not the start of ");
		else if (bad == MG_BAD_NO_OBJECT)
			out_str(&o, ": no guarded object is there (a guard "
			    "page, or an object freed long ago)");
		else
			out_str(&o, " of ");
		if (r != NULL)
			out_object(&o, r);
		if (bad == MG_BAD_DOUBLE_FREE)
			out_str(&o, ", already freed");
		break;
	}
	out_str(&o, "\n");
	out_stacks(&o, r, "this call,", cur, ncur, 0, scanned);
	mg_abort(&o);
}

/* ---- faults ------------------------------------------------------- */

/* 1 a write, 0 a read, -1 unknown (the page fault's error code). */
static int
fault_is_write(const void *ctx)
{
#if defined(__x86_64__)
	return ((((const ucontext_t *)ctx)->uc_mcontext.gregs[REG_ERR] & 2) !=
	    0);
#else
	return (-1);
#endif
}

/* The faulting context's program counter (sp false) or stack pointer. */
static uintptr_t
fault_reg(const void *ctx, bool sp)
{
#if defined(__x86_64__)
	return ((uintptr_t)((const ucontext_t *)ctx)->uc_mcontext.gregs[sp ?
	    REG_RSP : REG_RIP]);
#else
	(void)ctx;
	(void)sp;
	return (0);
#endif
}

static __attribute__((noreturn)) void
mg_fault_report(int sig, uintptr_t a, const void *ctx)
{
	const struct mg_rec *r = mg_rec_of(a);
	struct mg_out o = { 0 };
	void *cur[MG_STACK + MG_SKIP + 24];
	int ncur, w = fault_is_write(ctx);
	bool scanned;
	uintptr_t pc = fault_reg(ctx, false);
	uint32_t state;

	out_str(&o, "\nMemGuard: ");
	if (r == NULL) {
		out_str(&o, "access to ");
		out_hex(&o, a);
		out_str(&o, " in MemGuard's arena, at no guarded object (a "
		    "guard page, or an object freed long ago)");
	} else {
		state = __atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE);
		out_str(&o, state != MG_REC_LIVE ? "use after free: " :
		    a >= r->mr_addr ? "overrun: " : "underrun: ");
		out_str(&o, w == 1 ? "write of " : w == 0 ? "read of " :
		    "access to ");
		out_hex(&o, a);
		out_str(&o, ", ");
		out_at(&o, a, r);
		if (state != MG_REC_LIVE)
			out_str(&o, ", freed");
	}
	out_str(&o, "\n");
	/* The access's stack: from the faulting instruction on. */
	ncur = uma__mg_stack_access(cur, MG_STACK, pc, fault_reg(ctx, true),
	    &scanned);
	out_stacks(&o, r, "the access,", cur, ncur, 0, scanned);
	out_str(&o, "MemGuard: signal ");
	out_dec(&o, (uint64_t)sig);
	out_str(&o, " at ");
	out_hex(&o, pc);
	out_str(&o, "\n");
	mg_abort(&o);
}

/* Not MemGuard's: what the program had before, as if MemGuard were not. */
static void
mg_chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *prev = &mg_prev[sig == SIGBUS];
	struct sigaction dfl;

	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, si, ctx);
		return;
	}
	if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
		return;
	}
	/*
	 * The default action, or ignored: a fault cannot be ignored (the
	 * kernel kills for it), so both end in the default action, which the
	 * faulting instruction meets again on return.  A signal that was
	 * sent is sent again, or dropped if it was ignored.
	 */
	if (si->si_code <= 0 && prev->sa_handler == SIG_IGN)
		return;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

static void
mg_fault(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;

	if (si->si_code > 0 && uma_memguard_contains((void *)a))
		mg_fault_report(sig, a, ctx);
	mg_chain(sig, si, ctx);
	errno = saved;
}

/* See memguard_int.h */
void
uma__mg_report_start(void)
{
	struct sigaction sa;
	ssize_t n;

	uma__mg_stack_start();
	n = readlink("/proc/self/exe", mg_exe, sizeof(mg_exe) - 1);
	mg_exe[n > 0 ? n : 0] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mg_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &mg_prev[0]);
	sigaction(SIGBUS, &sa, &mg_prev[1]);
}

/* See memguard_int.h */
void
uma__mg_report_child(void)
{
	mg_tid_cache = 0;
}
