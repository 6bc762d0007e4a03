/*
 * memguard.c - MemGuard's arena and its guarded objects: the knobs and
 * counters of vm.memguard.*, the reservation, runs of pages and their
 * records, what may be guarded, and the sampling countdown.
 *
 * Layer: just above the pages (see memguard.h).  Takes mg.lock, a leaf,
 * around the map, the cursor and the records' lists; system calls that
 * change pages run outside it.  It never calls up: the zone and malloc
 * layers decide what to guard and count it, memguard_report.c reports.
 *
 * A run, in the arena (MG_GUARD_AROUND adds the leading guard page):
 *
 *   | guard | pattern ... object pattern | guard |
 *           ^ mr_pages      ^ mr_addr     ^ mr_pages + the object's pages
 *
 * The run's address space comes from a first-fit map (vmmap.c) searched
 * from a cursor that moves past every run handed out and wraps to the
 * start of the arena only when nothing fits after it (FreeBSD's vmem
 * cursor): a freed run is not reused until then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memguard_int.h"
#include "sysctl_int.h"
#include "vmmap.h"

#define	MG_MAP_MIN	((size_t)1 << 20)	/* smallest arena worth having */
#define	MG_RECS_MAX	65536			/* records at most */
#define	MG_RETAIN	256	/* freed objects whose records are kept */
#define	MG_LIVE0	(MG_RETAIN + 1)	/* first live object's record */
#define	MG_SHRINK	((size_t)64 << 10)	/* records' top given back by */
#define	MG_PIECE	((size_t)64 << 10)	/* commit unit of tables */
#define	MG_TAB_PIECES	1024
#define	MG_PATTERN	0xdb	/* the bytes around an object */

#define	MG_OFF		0	/* arena not reserved */
#define	MG_STARTING	1	/* one thread is reserving it */
#define	MG_ON		2
#define	MG_FAILED	3	/* it could not be reserved */

uintptr_t uma_mg_base;
uintptr_t uma_mg_size;
_Atomic uint32_t *uma__mg_pagetab;
struct mg_rec *uma__mg_recs;
uint32_t uma__mg_nrecs = 1;	/* record 0 is "none" */

/* All of MemGuard's state. */
static struct {
	pthread_mutex_t	 lock;		/* map, cursor, lists, commits */
	int		 state;		/* MG_OFF ... (atomic) */
	struct vmmap	 map;
	uintptr_t	 cursor;	/* next run at or after it */
	uint32_t	 reccap;	/* records the reservation can hold */
	size_t		 reccommit;	/* bytes of records made writable */
	size_t		 rectouched;	/* bytes of records maybe resident */
	uint64_t	 recfree[MG_RECS_MAX / 64];	/* free live records */
	uint32_t	 recfree_hint;	/* no bit below this word */
	uint32_t	 livetop;	/* live records are below */
	uint32_t	 ring_next;	/* the ring's next (oldest) record */
	size_t		 tabpiece;	/* bytes of the table per commit */
	uint64_t	 tabcommitted[MG_TAB_PIECES / 64];
	uint32_t	*tabrefs;	/* per table page: runs counted there */
	uint64_t	 tabresident;	/* bytes of table pages with runs */
	size_t		 booklen;	/* bytes of tabrefs */
	uint64_t	 maxruns;	/* live objects the map count allows */
} mg = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the arena's figures (vm.memguard.*) ---------------------------- */

/*
 * The arena's size, as FreeBSD's memguard_fudge: a divisor-th of the
 * arena MemGuard stands beside (uma's, as FreeBSD's is the kernel map's),
 * at most twice the physical memory; under an address-space limit, a
 * divisor-th of what it allows.
 */
static size_t
mg_plan_mapsize(void)
{
	uint64_t d = (uint64_t)MG_LOAD(uma__mg_knobs.mk_divisor), len;
	struct rlimit rl;

	len = (uma_vm_size != 0 ? uma_vm_size : (uint64_t)64 << 30) / d;
	if (len > 2 * uma__mg_physmem())
		len = 2 * uma__mg_physmem();
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    len > rl.rlim_cur / d)
		len = rl.rlim_cur / d;
	len &= ~(uint64_t)UMA_PAGE_MASK;
	return (len > MG_MAP_MIN ? (size_t)len : MG_MAP_MIN);
}

static int
sysctl_mg_mapsize(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	uint64_t v = __atomic_load_n(&mg.state, __ATOMIC_ACQUIRE) == MG_ON ?
	    uma_mg_size : mg_plan_mapsize();

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

static int
sysctl_mg_cursor(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	uint64_t v = oid->oid_arg != NULL ? (__atomic_load_n(&uma_mg_size,
	    __ATOMIC_ACQUIRE) != 0 ? __atomic_load_n(&uma_mg_base,
	    __ATOMIC_RELAXED) : 0) :
	    __atomic_load_n(&mg.cursor, __ATOMIC_RELAXED);

	return (uma__sysctl_out(req, &v, sizeof(v)));
}

UMA_SYSCTL_PROC(sysctl_mg_mapsize_node, "vm.memguard.mapsize",
    UMA_CTLTYPE_U64, UMA_CTLFLAG_RD, "QU", sysctl_mg_mapsize, NULL,
    "MemGuard's arena size (bytes; before it is reserved, what it would be)");
UMA_SYSCTL_PROC(sysctl_mg_cursor_node, "vm.memguard.cursor",
    UMA_CTLTYPE_U64, UMA_CTLFLAG_RD, "QU", sysctl_mg_cursor, NULL,
    "MemGuard's cursor: the next run is at or after it");
UMA_SYSCTL_PROC(sysctl_mg_mapstart_node, "vm.memguard.mapstart",
    UMA_CTLTYPE_U64, UMA_CTLFLAG_RD, "QU", sysctl_mg_cursor, &mg,
    "MemGuard's arena base (0 until reserved)");

/* ---- the page table ------------------------------------------------ */

/* Make entries [from, to) of the page table writable (mg.lock). */
static int
mg_tab_commit_locked(size_t from, size_t to)
{
	size_t piece = mg.tabpiece, bfrom = from * sizeof(uint32_t);
	size_t bto = to * sizeof(uint32_t);

	for (size_t i = bfrom / piece; i <= (bto - 1) / piece; i++) {
		if (mg.tabcommitted[i / 64] & (1ull << (i % 64)))
			continue;
		if (mprotect((char *)uma__mg_pagetab + i * piece, piece,
		    PROT_READ | PROT_WRITE) != 0)
			return (ENOMEM);
		mg.tabcommitted[i / 64] |= 1ull << (i % 64);
	}
	return (0);
}

/*
 * A run's entries: point its pages at record i and count the run on the
 * table's pages (mg.lock).  mg_tab_forget_locked stops counting it, which
 * leaves its entries stale (mg_rec_of tells); a table page that no run
 * counts on any more is given back at once, so the table holds memory
 * for live and retained objects only, wherever the cursor has been.
 */
static void
mg_tab_pages(const struct mg_rec *r, size_t *first, size_t *n,
    size_t *t0, size_t *t1)
{
	*first = (r->mr_run - uma_mg_base) >> UMA_PAGE_SHIFT;
	*n = r->mr_runlen >> UMA_PAGE_SHIFT;
	*t0 = *first * sizeof(uint32_t) >> UMA_PAGE_SHIFT;
	*t1 = ((*first + *n) * sizeof(uint32_t) - 1) >> UMA_PAGE_SHIFT;
}

static void
mg_tab_set_locked(const struct mg_rec *r, uint32_t i, bool count)
{
	size_t first, n, t0, t1;

	mg_tab_pages(r, &first, &n, &t0, &t1);
	for (size_t p = 0; p < n; p++)
		atomic_store_explicit(&uma__mg_pagetab[first + p], i,
		    memory_order_release);
	for (size_t t = t0; count && t <= t1; t++)
		if (mg.tabrefs[t]++ == 0)
			mg.tabresident += UMA_PAGE_SIZE;
}

static void
mg_tab_forget_locked(const struct mg_rec *r)
{
	size_t first, n, t0, t1;

	mg_tab_pages(r, &first, &n, &t0, &t1);
	for (size_t t = t0; t <= t1; t++) {
		if (--mg.tabrefs[t] != 0)
			continue;
		mg.tabresident -= UMA_PAGE_SIZE;
		(void)madvise((char *)uma__mg_pagetab + (t << UMA_PAGE_SHIFT),
		    UMA_PAGE_SIZE, MADV_DONTNEED);
	}
}

/* ---- records ---------------------------------------------------------- */

/*
 * Records 1 to MG_RETAIN are a ring of the most recently freed objects
 * (their stacks, for a report of a use after free); live objects have the
 * records above, the lowest free one first, so that they stay packed and
 * the top given back when it empties (mg_rec_free_locked).  A record's
 * memory is so bounded by the live objects at their peak since the top
 * last emptied, plus the ring.
 */
/* Make records [0, i] writable (mg.lock): false if the kernel refused. */
static bool
mg_rec_commit_locked(uint32_t i)
{
	size_t need = (size_t)(i + 1) * sizeof(struct mg_rec), len;

	if (need <= mg.reccommit)
		return (true);
	len = roundup2(need, MG_PIECE) - mg.reccommit;
	if (mprotect((char *)uma__mg_recs + mg.reccommit, len,
	    PROT_READ | PROT_WRITE) != 0)
		return (false);
	mg.reccommit += len;
	return (true);
}

/* Record i is written: its page may be resident (mg.lock). */
static void
mg_rec_touched_locked(uint32_t i)
{
	size_t end = roundup2((size_t)(i + 1) * sizeof(struct mg_rec),
	    UMA_PAGE_SIZE);

	if (end > mg.rectouched)
		mg.rectouched = end;
}

/* A live object's record (mg.lock): the lowest free one, or a new one; 0. */
static uint32_t
mg_rec_get_locked(void)
{
	uint32_t w, i, nw = howmany(mg.livetop, 64);

	for (w = mg.recfree_hint; w < nw; w++)
		if (mg.recfree[w] != 0)
			break;
	mg.recfree_hint = w;
	if (w < nw) {
		i = w * 64 + (uint32_t)__builtin_ctzll(mg.recfree[w]);
		mg.recfree[i / 64] &= ~(1ull << (i % 64));
		return (i);
	}
	i = mg.livetop;
	if (i >= mg.reccap || !mg_rec_commit_locked(i))
		return (0);
	mg.livetop = i + 1;
	if (mg.livetop > __atomic_load_n(&uma__mg_nrecs, __ATOMIC_RELAXED))
		__atomic_store_n(&uma__mg_nrecs, mg.livetop,
		    __ATOMIC_RELEASE);
	return (i);
}

/*
 * Live record i is free again (mg.lock).  When the top of the live
 * records empties by MG_SHRINK, its pages go back.
 */
static void
mg_rec_free_locked(uint32_t i)
{
	struct mg_rec *r = &uma__mg_recs[i];
	size_t keep;

	__atomic_store_n(&r->mr_runlen, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->mr_state, MG_REC_FREE, __ATOMIC_RELEASE);
	mg.recfree[i / 64] |= 1ull << (i % 64);
	if (i / 64 < mg.recfree_hint)
		mg.recfree_hint = i / 64;
	while (mg.livetop > MG_LIVE0 && (mg.recfree[(mg.livetop - 1) / 64] &
	    (1ull << ((mg.livetop - 1) % 64)))) {
		mg.livetop--;
		mg.recfree[mg.livetop / 64] &= ~(1ull << (mg.livetop % 64));
	}
	keep = roundup2((size_t)mg.livetop * sizeof(struct mg_rec),
	    UMA_PAGE_SIZE);
	if (mg.rectouched >= keep + MG_SHRINK) {
		(void)madvise((char *)uma__mg_recs + keep, mg.rectouched - keep,
		    MADV_DONTNEED);
		mg.rectouched = keep;
	}
}

/*
 * A user freed the object of live record i (mg.lock): its record moves to
 * the ring, over the oldest there (whose run the table forgets), its
 * run's entries follow it, and the live record is free.
 */
static void
mg_rec_retain_locked(uint32_t i)
{
	uint32_t s = mg.ring_next;
	struct mg_rec *old = &uma__mg_recs[s];

	mg.ring_next = s == MG_RETAIN ? 1 : s + 1;
	if (old->mr_runlen != 0)
		mg_tab_forget_locked(old);
	__atomic_store_n(&old->mr_state, MG_REC_FREE, __ATOMIC_RELEASE);
	memcpy(old, &uma__mg_recs[i], sizeof(*old));
	old->mr_owner.mo_name = old->mr_name;
	mg_tab_set_locked(old, s, false);
	__atomic_store_n(&old->mr_state, MG_REC_FREED, __ATOMIC_RELEASE);
	mg_rec_touched_locked(s);
	mg_rec_free_locked(i);
}

/* ---- the arena --------------------------------------------------------- */

static void *
mg_reserve_range(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
}

/*
 * The kernel's count of mappings is address space too: each live object
 * splits the arena's mapping in two more (its pages between guards), and
 * at vm.max_map_count every mmap and mprotect of the process fails, uma's
 * own and the program's (tests/preload/preload_lazy, every malloc guarded:
 * malloc returned NULL at 32,000 live objects).  MemGuard takes at most
 * half of the count.
 */
static uint64_t
mg_plan_maxruns(void)
{
	char buf[24];
	ssize_t n;
	long max = 65530;	/* Linux's default */
	int fd;

	fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			max = strtol(buf, NULL, 10);
		}
		close(fd);
	}
	return (max > 64 ? (uint64_t)max / 4 : 16);
}

/*
 * Reserve the arena, halved until the kernel agrees, and beside it the
 * page table and the records, inaccessible: their pieces become writable
 * as runs and records need them, so that neither counts against a data
 * limit before it is used.  The count of runs on each page of the table
 * (mg.tabrefs) is small and writable at once.
 */
static int
mg_reserve(void)
{
	size_t len, tablen = 0, reclen = 0, booklen = 0, ntab = 0;
	void *base = NULL, *tab = NULL, *recs = NULL, *book = MAP_FAILED;

	for (len = mg_plan_mapsize(); len >= MG_MAP_MIN; len /= 2) {
		tablen = (len >> UMA_PAGE_SHIFT) * sizeof(uint32_t);
		mg.tabpiece = roundup2(howmany(tablen, MG_TAB_PIECES),
		    MG_PIECE);
		tablen = roundup2(tablen, mg.tabpiece);
		ntab = tablen >> UMA_PAGE_SHIFT;
		booklen = roundup2(ntab * sizeof(uint32_t), UMA_PAGE_SIZE);
		/* Live objects take two pages of the arena at least. */
		mg.reccap = MG_LIVE0 + (uint32_t)((len >> UMA_PAGE_SHIFT) / 2);
		if (mg.reccap > MG_RECS_MAX)
			mg.reccap = MG_RECS_MAX;
		reclen = roundup2((size_t)(mg.reccap + 1) *
		    sizeof(struct mg_rec), MG_PIECE);
		base = mg_reserve_range(len);
		tab = base != NULL ? mg_reserve_range(tablen) : NULL;
		recs = tab != NULL ? mg_reserve_range(reclen) : NULL;
		book = recs != NULL ? mmap(NULL, booklen, PROT_READ |
		    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
		    MAP_FAILED;
		if (book != MAP_FAILED)
			break;
		if (recs != NULL)
			munmap(recs, reclen);
		if (tab != NULL)
			munmap(tab, tablen);
		if (base != NULL)
			munmap(base, len);
		base = NULL;
	}
	if (base == NULL || vmmap_init(&mg.map, (uintptr_t)base,
	    (uintptr_t)base + len) != 0)
		return (ENOMEM);
	mg.cursor = (uintptr_t)base;
	mg.maxruns = mg_plan_maxruns();
	mg.tabrefs = book;
	mg.booklen = booklen;
	uma__mg_recs = recs;
	if (!mg_rec_commit_locked(MG_RETAIN))
		return (ENOMEM);
	mg.livetop = MG_LIVE0;
	mg.ring_next = 1;
	__atomic_store_n(&uma__mg_nrecs, MG_LIVE0, __ATOMIC_RELEASE);
	uma__mg_pagetab = tab;
	/*
	 * The base first, the size last and released: a reader that loads
	 * the size (acquire) before the base sees either an empty arena or
	 * the whole of it, never [0, len).
	 */
	__atomic_store_n(&uma_mg_base, (uintptr_t)base, __ATOMIC_RELAXED);
	__atomic_store_n(&uma_mg_size, len, __ATOMIC_RELEASE);
	return (0);
}

/*
 * Reserve the arena at the first guarded allocation.  The thread that
 * does also installs the report's handler and primes backtrace(3), whose
 * first call allocates: a guarded allocation on any thread meanwhile,
 * this one included, falls back instead of waiting.
 */
static bool
mg_ready(bool alloc)
{
	int state = __atomic_load_n(&mg.state, __ATOMIC_ACQUIRE);

	if (__predict_true(state == MG_ON))
		return (true);
	if (state == MG_OFF && __atomic_compare_exchange_n(&mg.state, &state,
	    MG_STARTING, false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		state = mg_reserve() == 0 ? MG_ON : MG_FAILED;
		if (state == MG_ON)
			uma__mg_report_start();
		__atomic_store_n(&mg.state, state, __ATOMIC_RELEASE);
	}
	if (state == MG_ON)
		return (true);
	if (state == MG_FAILED && alloc)
		MG_ADD(uma__mg_ctr.fail_kva, 1);
	return (false);
}

/* See memguard.h */
void
uma__memguard_startup(void)
{
	if (uma__mg_wanted())
		(void)mg_ready(false);
}

/*
 * Address space for a run of `len` bytes at or after the cursor, or
 * after a wrap (mg.lock); 0 when the arena has no room.
 */
static uintptr_t
mg_va_alloc_locked(size_t len)
{
	uintptr_t a, end = uma_mg_base + uma_mg_size;

	for (;;) {
		if (vmmap_alloc(&mg.map, len, 0, mg.cursor, end, 0, &a) == 0)
			break;
		if (mg.cursor == uma_mg_base)
			return (0);
		MG_ADD(uma__mg_ctr.wrapcnt, 1);
		mg.cursor = uma_mg_base;
	}
	__atomic_store_n(&mg.cursor, a + len, __ATOMIC_RELAXED);
	return (a);
}

/*
 * Take a run and a record for an object of `objlen` bytes of pages
 * (mg.lock), its table entries written; the record's index, or 0 with
 * the counter of why bumped.
 */
static uint32_t
mg_run_alloc_locked(size_t objlen, size_t lead, bool small)
{
	size_t runlen = lead + objlen + UMA_PAGE_SIZE, first;
	struct mg_rec *r;
	uintptr_t run;
	uint32_t i;

	if (small && MG_LOAD(uma__mg_ctr.live_bytes) + objlen > uma__mg_phys_limit()) {
		MG_ADD(uma__mg_ctr.fail_pgs, 1);
		return (0);
	}
	if (MG_LOAD(uma__mg_ctr.live) >= mg.maxruns ||
	    (run = mg_va_alloc_locked(runlen)) == 0) {
		MG_ADD(uma__mg_ctr.fail_kva, 1);
		return (0);
	}
	first = (run - uma_mg_base) >> UMA_PAGE_SHIFT;
	if ((i = mg_rec_get_locked()) == 0 || mg_tab_commit_locked(first,
	    first + (runlen >> UMA_PAGE_SHIFT)) != 0) {
		if (i != 0)
			mg_rec_free_locked(i);
		vmmap_free(&mg.map, run, runlen);
		MG_ADD(*(i == 0 ? &uma__mg_ctr.fail_kva : &uma__mg_ctr.fail_pgs), 1);
		return (0);
	}
	r = &uma__mg_recs[i];
	__atomic_store_n(&r->mr_run, run, __ATOMIC_RELAXED);
	__atomic_store_n(&r->mr_runlen, runlen, __ATOMIC_RELAXED);
	r->mr_pages = run + lead;
	mg_tab_set_locked(r, i, true);
	mg_rec_touched_locked(i);
	return (i);
}

/* Give a run's pages back to the kernel, inaccessible: false if it refused. */
static bool
mg_decommit(uintptr_t pages, size_t len)
{
	if (mmap((void *)pages, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED)
		return (true);
	if (mprotect((void *)pages, len, PROT_NONE) != 0)
		return (false);
	(void)madvise((void *)pages, len, MADV_DONTNEED);
	return (true);
}

/* The bytes of an object's pages: its size, 1 at least, to pages. */
static size_t
mg_objlen(size_t size)
{
	return (roundup2(size > 0 ? size : 1, UMA_PAGE_SIZE));
}

/* ---- guarded objects ------------------------------------------------ */

/*
 * Stack k of r (0 allocation, 1 free): none, scanned for a sample, else
 * unwound (memguard_stack.c).  Inline: the frames skipped at the top of
 * an unwound stack are uma__mg_stack's and its caller's.
 */
static inline __attribute__((always_inline)) void
mg_take_stack(struct mg_rec *r, int k)
{
	int opt = MG_LOAD(uma__mg_knobs.mk_options);

	r->mr_scanned[k] = false;
	r->mr_depth[k] = opt & MG_NOSTACKS ? 0 : (uint8_t)uma__mg_stack(
	    r->mr_stack[k], r->mr_owner.mo_sampled && !(opt & MG_EXACTSTACKS),
	    &r->mr_scanned[k]);
}

/* See memguard.h */
void *
uma__memguard_alloc(const struct uma__mg_owner *o, size_t size, size_t align)
{
	size_t objlen = mg_objlen(size), lead, n;
	struct mg_rec *r;
	uint32_t i;

	if (!mg_ready(true))
		return (NULL);
	if (align < 16)
		align = 16;
	lead = MG_LOAD(uma__mg_knobs.mk_options) & MG_GUARD_AROUND ? UMA_PAGE_SIZE : 0;
	pthread_mutex_lock(&mg.lock);
	i = mg_run_alloc_locked(objlen, lead, size < UMA_PAGE_SIZE);
	pthread_mutex_unlock(&mg.lock);
	if (i == 0)
		return (NULL);
	r = &uma__mg_recs[i];
	if (mprotect((void *)r->mr_pages, objlen, PROT_READ | PROT_WRITE) !=
	    0) {
		MG_ADD(uma__mg_ctr.fail_pgs, 1);
		pthread_mutex_lock(&mg.lock);
		vmmap_free(&mg.map, r->mr_run, r->mr_runlen);
		mg_tab_forget_locked(r);
		mg_rec_free_locked(i);
		pthread_mutex_unlock(&mg.lock);
		return (NULL);
	}
	r->mr_size = size;
	r->mr_addr = r->mr_pages + objlen - roundup2(size > 0 ? size : 1,
	    align);
	r->mr_owner = *o;
	n = strnlen(o->mo_name != NULL ? o->mo_name : "", MG_NAME - 1);
	memcpy(r->mr_name, o->mo_name != NULL ? o->mo_name : "", n);
	r->mr_name[n] = '\0';
	r->mr_owner.mo_name = r->mr_name;
	mg_take_stack(r, 0);
	r->mr_depth[1] = 0;
	r->mr_tid[0] = uma__mg_tid();
	r->mr_tid[1] = 0;
	/* The pattern on both sides of the object, checked at free. */
	memset((void *)r->mr_pages, MG_PATTERN, r->mr_addr - r->mr_pages);
	memset((void *)(r->mr_addr + size), MG_PATTERN, r->mr_pages + objlen -
	    r->mr_addr - size);
	MG_ADD(uma__mg_ctr.numalloc, 1);
	MG_ADD(uma__mg_ctr.live, 1);
	MG_ADD(uma__mg_ctr.live_bytes, objlen);
	MG_ADD(uma__mg_ctr.wasted, objlen - size);
	MG_ADD(uma__mg_ctr.acct, o->mo_acct);
	if (o->mo_large)
		MG_ADD(uma__mg_ctr.large, o->mo_acct);
	__atomic_store_n(&r->mr_state, MG_REC_LIVE, __ATOMIC_RELEASE);
	return ((void *)r->mr_addr);
}

/* The live object starting at p, or a report of what p is instead. */
static struct mg_rec *
mg_rec_live(const void *p, const char *what)
{
	struct mg_rec *r = mg_rec_of((uintptr_t)p);
	uint32_t state;

	if (r == NULL)
		uma__mg_report(MG_BAD_NO_OBJECT, p, NULL, what, NULL, 0);
	state = __atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE);
	if (state != MG_REC_LIVE)
		uma__mg_report(MG_BAD_DOUBLE_FREE, p, r, what, NULL, 0);
	if ((uintptr_t)p != r->mr_addr)
		uma__mg_report((uintptr_t)p - r->mr_addr < r->mr_size ?
		    MG_BAD_INSIDE : MG_BAD_NO_OBJECT, p, r, what, NULL,
		    (intptr_t)((uintptr_t)p - r->mr_addr));
	return (r);
}

/* See memguard.h */
void
uma__memguard_free_begin(void *p, uma_zone_t zone, const char *what,
    struct uma__mg_owner *o)
{
	struct mg_rec *r = mg_rec_live(p, what);
	uint32_t live = MG_REC_LIVE;

	if (zone != NULL ? r->mr_owner.mo_zone != zone ||
	    r->mr_owner.mo_type != NULL : r->mr_owner.mo_type == NULL)
		uma__mg_report(MG_BAD_WRONG_ZONE, p, r, what,
		    zone != NULL ? zone->uz_name : NULL, 0);
	if (!__atomic_compare_exchange_n(&r->mr_state, &live, MG_REC_FREEING,
	    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		uma__mg_report(MG_BAD_DOUBLE_FREE, p, r, what, NULL, 0);
	*o = r->mr_owner;
}

/* The first byte of [from, to) that is not the pattern, or `to`. */
static uintptr_t
mg_pattern_bad(uintptr_t from, uintptr_t to)
{
	const unsigned char *c = (const unsigned char *)from;

	for (; (uintptr_t)c < to && ((uintptr_t)c & 7) != 0; c++)
		if (*c != MG_PATTERN)
			return ((uintptr_t)c);
	for (; (uintptr_t)c + 8 <= to; c += 8)
		if (*(const uint64_t *)(const void *)c !=
		    0x0101010101010101ull * MG_PATTERN)
			break;
	for (; (uintptr_t)c < to; c++)
		if (*c != MG_PATTERN)
			return ((uintptr_t)c);
	return (to);
}

/*
 * The object's run goes back: its pages, its address space (reused only
 * after the cursor wraps), its record (retained, or to reuse at once).
 */
static void
mg_release(struct mg_rec *r, bool retain)
{
	size_t objlen = mg_objlen(r->mr_size);
	bool gone = mg_decommit(r->mr_pages, objlen);

	if (!gone)
		MG_ADD(uma__mg_ctr.fail_pgs, 1);
	MG_SUB(uma__mg_ctr.live, 1);
	MG_SUB(uma__mg_ctr.live_bytes, objlen);
	MG_SUB(uma__mg_ctr.wasted, objlen - r->mr_size);
	MG_SUB(uma__mg_ctr.acct, r->mr_owner.mo_acct);
	if (r->mr_owner.mo_large)
		MG_SUB(uma__mg_ctr.large, r->mr_owner.mo_acct);
	if (r->mr_owner.mo_sampled)
		uma__memguard_unadmit(r->mr_size, true);
	pthread_mutex_lock(&mg.lock);
	/* Pages the kernel would not take back stay out of the map. */
	if (gone)
		vmmap_free(&mg.map, r->mr_run, r->mr_runlen);
	if (retain)
		mg_rec_retain_locked((uint32_t)(r - uma__mg_recs));
	else {
		mg_tab_forget_locked(r);
		mg_rec_free_locked((uint32_t)(r - uma__mg_recs));
	}
	pthread_mutex_unlock(&mg.lock);
}

/* See memguard.h */
void
uma__memguard_free_end(void *p)
{
	struct mg_rec *r = mg_rec_of((uintptr_t)p);
	uintptr_t end = r->mr_pages + mg_objlen(r->mr_size), bad;

	bad = mg_pattern_bad(r->mr_pages, r->mr_addr);
	if (bad != r->mr_addr)
		uma__mg_report(MG_BAD_UNDERRUN_FREE, p, r, "free", NULL,
		    (intptr_t)(bad - r->mr_addr));
	bad = mg_pattern_bad(r->mr_addr + r->mr_size, end);
	if (bad != end)
		uma__mg_report(MG_BAD_OVERRUN_FREE, p, r, "free", NULL,
		    (intptr_t)(bad - r->mr_addr));
	mg_take_stack(r, 1);
	r->mr_tid[1] = uma__mg_tid();
	MG_ADD(uma__mg_ctr.numfree, 1);
	mg_release(r, true);
}

/* See memguard.h */
void
uma__memguard_discard(void *p)
{
	struct mg_rec *r = mg_rec_of((uintptr_t)p);

	__atomic_store_n(&r->mr_state, MG_REC_FREEING, __ATOMIC_RELEASE);
	MG_SUB(uma__mg_ctr.numalloc, 1);
	mg_release(r, false);
}

/* See memguard.h */
size_t
uma__memguard_pages(const void *p)
{
	const struct mg_rec *r = mg_rec_of((uintptr_t)p);

	return (r != NULL && __atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE) ==
	    MG_REC_LIVE ? mg_objlen(r->mr_size) : 0);
}

/* See memguard.h */
size_t
uma__memguard_size(const void *p, const char *what)
{
	return (mg_rec_live(p, what)->mr_size);
}

/* See memguard.h */
bool
uma__memguard_sampled(const void *p)
{
	return (mg_rec_live(p, "realloc")->mr_owner.mo_sampled);
}

/* See memguard.h */
void
uma__memguard_misuse(const void *p, const char *where)
{
	uma__mg_report(MG_BAD_BUCKET, p, mg_rec_of((uintptr_t)p), where,
	    NULL, 0);
}

/* See memguard.h */
void
uma__memguard_kmem(struct uma__mg_kmem *mk)
{
	mk->mk_pages = MG_LOAD(uma__mg_ctr.live_bytes);
	mk->mk_acct = MG_LOAD(uma__mg_ctr.acct);
	mk->mk_large = MG_LOAD(uma__mg_ctr.large);
	pthread_mutex_lock(&mg.lock);
	if (__atomic_load_n(&mg.state, __ATOMIC_ACQUIRE) == MG_ON)
		mk->mk_meta = mg.rectouched + mg.tabresident + mg.booklen +
		    vmmap_node_bytes(&mg.map);
	else
		mk->mk_meta = 0;
	pthread_mutex_unlock(&mg.lock);
}

/* See <uma/memguard.h> */
int
is_memguard_addr(void *addr)
{
	return (uma_memguard_contains(addr));
}

/*
 * vm.memguard.objects (<uma/memguard.h>): the live objects, copied under
 * mg.lock into a scratch mapping (no malloc: uma may be malloc), then out.
 */
static size_t
mg_objects_fill(struct uma_memguard_object *o, size_t max)
{
	const struct mg_rec *r;
	size_t n = 0;

	for (uint32_t i = MG_LIVE0; i < mg.livetop; i++) {
		r = &uma__mg_recs[i];
		if (__atomic_load_n(&r->mr_state, __ATOMIC_ACQUIRE) !=
		    MG_REC_LIVE)
			continue;
		if (n < max) {
			memset(&o[n], 0, sizeof(o[n]));
			o[n].umo_addr = r->mr_addr;
			o[n].umo_bytes = r->mr_size;
			o[n].umo_site = r->mr_depth[0] > 0 ?
			    (uintptr_t)r->mr_stack[0][0] : 0;
			o[n].umo_tid = (uint32_t)r->mr_tid[0];
			o[n].umo_flags = (r->mr_owner.mo_type == NULL ?
			    UMA_MEMGUARD_OBJECT_ZONE : 0) |
			    (r->mr_owner.mo_sampled ?
			    UMA_MEMGUARD_OBJECT_SAMPLED : 0);
			memcpy(o[n].umo_name, r->mr_name, sizeof(r->mr_name));
		}
		n++;
	}
	return (n);
}

static int
sysctl_mg_objects(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	struct uma_memguard_objects h = { UMA_MEMGUARD_OBJECTS_VERSION,
	    sizeof(struct uma_memguard_object), 0, 0 };
	size_t max = MG_LOAD(uma__mg_ctr.live) + 16, len;
	struct uma_memguard_object *o;
	int error;

	if (__atomic_load_n(&mg.state, __ATOMIC_ACQUIRE) != MG_ON)
		return (uma__sysctl_out(req, &h, sizeof(h)));
	if (req->oldp == NULL)
		return (uma__sysctl_out(req, NULL, sizeof(h) + max *
		    sizeof(*o)));
	len = roundup2(max * sizeof(*o), UMA_PAGE_SIZE);
	o = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (o == MAP_FAILED)
		return (ENOMEM);
	pthread_mutex_lock(&mg.lock);
	h.umo_count = (uint32_t)mg_objects_fill(o, max);
	pthread_mutex_unlock(&mg.lock);
	if (h.umo_count > max)
		h.umo_count = (uint32_t)max;	/* more came meanwhile */
	error = uma__sysctl_out(req, &h, sizeof(h));
	if (error == 0)
		error = uma__sysctl_out(req, o, h.umo_count * sizeof(*o));
	munmap(o, len);
	return (error);
}

UMA_SYSCTL_PROC(sysctl_mg_objects_node, "vm.memguard.objects",
    UMA_CTLTYPE_OPAQUE, UMA_CTLFLAG_RD, "S,uma_memguard_objects",
    sysctl_mg_objects, NULL,
    "The guarded objects live now (struct uma_memguard_objects, then "
    "struct uma_memguard_object each, <uma/memguard.h>)");

/* fork(): the child gets the lists whole; mg.lock is a leaf, taken last. */
void
uma__memguard_fork_prepare(void)
{
	uma__mg_policy_fork_prepare();
	pthread_mutex_lock(&mg.lock);
}

void
uma__memguard_fork_parent(void)
{
	pthread_mutex_unlock(&mg.lock);
	uma__mg_policy_fork_parent();
}

void
uma__memguard_fork_child(void)
{
	pthread_mutex_init(&mg.lock, NULL);
	uma__mg_policy_fork_child();
	uma__mg_report_child();
}
