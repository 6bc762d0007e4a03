/*
 * zone_stress.c - eight threads on two CPUs allocate and free at random
 * from 27 zones (8 B .. 64 KiB, ctor/dtor zones, a secondary zone, a NOFREE
 * zone and a limited zone), hand items to each other so that most frees
 * happen on a thread (and CPU) other than the allocating one, while one
 * thread reclaims and another reads statistics.
 *
 * Every item carries a tag written after allocation and checked before the
 * free, so an item handed out twice is caught.  At the end, quiesced, the
 * statistics of every zone must equal the workload's own counts exactly;
 * after freeing everything and draining, every cache is empty, every page
 * (but NOFREE ones) is back and RSS is where it started.
 *
 * Runs twice: per-CPU caches on restartable sequences, and the locked
 * fallback forced with UMA_TUNABLES=vm.uma_rseq=0.  UMA_STRESS_SECONDS sets
 * the length of each run (default 8 s).
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"
#include "stats.h"
#include "vm.h"

#define	NTHREADS	8
#define	NCPUS_USED	2
#define	MAXHELD		4096	/* items a thread holds at most */
#define	QCAP		1024	/* a thread's inbound queue */
#define	HELD_BYTES_MAX	(3u << 20)	/* bytes a thread holds at most */
#define	NOFREE_MAX	24	/* NOFREE items a thread holds at most */
#define	LIMIT_ITEMS	600
#define	BATCH		64

#define	TAG_LIVE	0x5eedull	/* top 16 bits of a live item's word 0 */
#define	WORD_DEAD	0xdeadbeefdeadbeefull

enum zkind { Z_PLAIN, Z_CTOR, Z_SECONDARY, Z_NOFREE, Z_LIMITED };

struct zdesc {
	const char	*name;
	uint32_t	 size;
	enum zkind	 kind;
	int		 primary;	/* Z_SECONDARY: index of the primary */
	uma_zone_t	 z;
	/* The workload's own counts. */
	_Atomic uint64_t allocs, frees, nulls;
	_Atomic uint64_t ctors, dtors, zinits, zfinis;
	_Atomic uint64_t bad_args;
};

static struct zdesc zd[] = {
	{ "stress-8", 8, Z_PLAIN },
	{ "stress-16", 16, Z_CTOR },
	{ "stress-24", 24, Z_PLAIN },
	{ "stress-32", 32, Z_PLAIN },
	{ "stress-48", 48, Z_CTOR },
	{ "stress-64", 64, Z_PLAIN },
	{ "stress-96", 96, Z_PLAIN },
	{ "stress-128", 128, Z_CTOR },
	{ "stress-192", 192, Z_PLAIN },
	{ "stress-256", 256, Z_PLAIN },
	{ "stress-384", 384, Z_CTOR },
	{ "stress-512", 512, Z_PLAIN },
	{ "stress-768", 768, Z_PLAIN },
	{ "stress-1024", 1024, Z_CTOR },
	{ "stress-1500", 1500, Z_PLAIN },
	{ "stress-2048", 2048, Z_PLAIN },
	{ "stress-3000", 3000, Z_CTOR },
	{ "stress-4096", 4096, Z_PLAIN },
	{ "stress-5000", 5000, Z_PLAIN },
	{ "stress-8192", 8192, Z_CTOR },
	{ "stress-12000", 12000, Z_PLAIN },
	{ "stress-16384", 16384, Z_PLAIN },
	{ "stress-40000", 40000, Z_CTOR },
	{ "stress-65536", 65536, Z_PLAIN },
	{ "stress-sec-256", 256, Z_SECONDARY, 9 },
	{ "stress-nofree-48", 48, Z_NOFREE },
	{ "stress-limited-128", 128, Z_LIMITED },
};
#define	NZONES	((int)(sizeof(zd) / sizeof(zd[0])))
#define	NSMALL	14	/* zd[0 .. NSMALL-1] are <= 1024 bytes */

struct held {
	void		*p;
	uint64_t	 tag;
	int		 zi;
};

struct thr {
	pthread_t	 td;
	int		 id;
	uint64_t	 rng;
	uint32_t	 serial;
	int		 nheld;
	int		 nofree_held;
	size_t		 held_bytes;
	struct held	 held[MAXHELD];
	pthread_mutex_t	 qlock;
	int		 qhead, qcount;
	struct held	 q[QCAP];
	uint64_t	 ops;
};

static struct thr *thr;		/* [NTHREADS], mmap'd and pre-touched */
static pthread_barrier_t start_barrier;
static _Atomic bool stop;
static _Atomic int ready;	/* workers set up, about to wait */
static _Atomic uint64_t check_failures;

/* A CHECK in a worker thread: count, report once, fail at the end. */
#define	TCHECK(e) do {							\
	if (!(e)) {							\
		if (atomic_fetch_add(&check_failures, 1) < 10)		\
			fprintf(stderr, "%s:%d: thread check failed: %s\n", \
			    __FILE__, __LINE__, #e);			\
	}								\
} while (0)

static uint64_t
rnd(struct thr *t)
{
	uint64_t x = t->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (t->rng = x);
}

/* ---- ctor/dtor and zone init/fini: check their arguments and count ---- */

static int
stress_ctor(void *mem, int size, void *arg, int flags)
{
	struct zdesc *d = arg;
	uint64_t w0;

	if (d == NULL || d < zd || d >= zd + NZONES || (int)d->size != size)
		atomic_fetch_add(&zd[0].bad_args, 1);
	else
		atomic_fetch_add(&d->ctors, 1);
	/* An item being constructed is nobody's. */
	memcpy(&w0, mem, sizeof(w0));
	if (size >= 8 && (w0 >> 48) == TAG_LIVE)
		atomic_fetch_add(&zd[0].bad_args, 1);
	return (0);
}

static void
stress_dtor(void *mem, int size, void *arg)
{
	struct zdesc *d = arg;

	if (d == NULL || d < zd || d >= zd + NZONES || (int)d->size != size)
		atomic_fetch_add(&zd[0].bad_args, 1);
	else
		atomic_fetch_add(&d->dtors, 1);
}

static int
sec_zinit(void *mem, int size, int flags)
{
	atomic_fetch_add(&zd[24].zinits, 1);
	return (0);
}

static void
sec_zfini(void *mem, int size)
{
	atomic_fetch_add(&zd[24].zfinis, 1);
}

/* ---- item tags -------------------------------------------------------- */

/* Words other than word 0 never carry TAG_LIVE in their top bits. */
static inline uint64_t
tag_word(uint64_t tag, uint64_t k)
{
	return (((tag << 17 | tag >> 47) + k) & ~(0xffffull << 48));
}

static void
tag_write(void *p, uint32_t size, uint64_t tag)
{
	uint64_t *w = p;

	w[0] = tag;
	if (size >= 16)
		w[1] = tag_word(tag, 1);
	if (size >= 128)
		for (int k = 2; k < 8; k++)
			w[k] = tag_word(tag, (uint64_t)k);
	if (size >= 32)
		memcpy((char *)p + size - 8, &(uint64_t){ tag_word(tag, size) },
		    8);
}

static bool
tag_ok(const void *p, uint32_t size, uint64_t tag)
{
	const uint64_t *w = p;
	uint64_t last;

	if (w[0] != tag)
		return (false);
	if (size >= 16 && w[1] != tag_word(tag, 1))
		return (false);
	if (size >= 128)
		for (int k = 2; k < 8; k++)
			if (w[k] != tag_word(tag, (uint64_t)k))
				return (false);
	if (size >= 32) {
		memcpy(&last, (const char *)p + size - 8, 8);
		if (last != tag_word(tag, size))
			return (false);
	}
	return (true);
}

static bool
zeroed(const void *p, uint32_t size)
{
	const unsigned char *c = p;
	uint32_t n = size < 256 ? size : 256;

	for (uint32_t i = 0; i < n; i++)
		if (c[i] != 0)
			return (false);
	for (uint32_t i = size - 8; i < size; i++)
		if (c[i] != 0)
			return (false);
	return (true);
}

/* ---- the workload ----------------------------------------------------- */

static void
item_free(struct thr *t, struct held h)
{
	struct zdesc *d = &zd[h.zi];

	TCHECK(tag_ok(h.p, d->size, h.tag));
	*(uint64_t *)h.p = WORD_DEAD;
	uma_zfree_arg(d->z, h.p, d);
	atomic_fetch_add(&d->frees, 1);
}

static void
held_add(struct thr *t, struct held h)
{
	t->held[t->nheld++] = h;
	t->held_bytes += zd[h.zi].size;
	if (zd[h.zi].kind == Z_NOFREE)
		t->nofree_held++;
}

static struct held
held_take(struct thr *t, int k)
{
	struct held h = t->held[k];

	t->held[k] = t->held[--t->nheld];
	t->held_bytes -= zd[h.zi].size;
	if (zd[h.zi].kind == Z_NOFREE)
		t->nofree_held--;
	return (h);
}

static int
pick_zone(struct thr *t)
{
	uint64_t r = rnd(t) % 100;

	if (r < 60)
		return ((int)(rnd(t) % NSMALL));
	if (r < 75)
		return (NZONES - 3 + (int)(rnd(t) % 3));
	return (NSMALL + (int)(rnd(t) % (NZONES - 3 - NSMALL)));
}

static void
do_alloc(struct thr *t)
{
	int zi = pick_zone(t), flags;
	struct zdesc *d = &zd[zi];
	uint64_t tag;
	void *p;

	if (t->nheld == MAXHELD || t->held_bytes + d->size > HELD_BYTES_MAX ||
	    (d->kind == Z_NOFREE && t->nofree_held >= NOFREE_MAX))
		return;
	flags = (rnd(t) & 1) ? M_WAITOK : M_NOWAIT;
	if (d->kind == Z_LIMITED)
		flags = M_NOWAIT;	/* waiting could deadlock the workload */
	if (d->size <= 4096 && rnd(t) % 10 == 0)
		flags |= M_ZERO;
	p = uma_zalloc_arg(d->z, d, flags);
	if (p == NULL) {
		atomic_fetch_add(&d->nulls, 1);
		/* Only the limited zone may run out. */
		TCHECK(d->kind == Z_LIMITED);
		return;
	}
	atomic_fetch_add(&d->allocs, 1);
	TCHECK(((uintptr_t)p & 7) == 0);
	if (flags & M_ZERO)
		TCHECK(zeroed(p, d->size));
	else
		TCHECK((*(uint64_t *)p >> 48) != TAG_LIVE);
	tag = TAG_LIVE << 48 | (uint64_t)zi << 40 | (uint64_t)t->id << 32 |
	    ++t->serial;
	tag_write(p, d->size, tag);
	held_add(t, (struct held){ p, tag, zi });
}

static void
do_free(struct thr *t)
{
	if (t->nheld > 0)
		item_free(t, held_take(t, (int)(rnd(t) % (uint64_t)t->nheld)));
}

static void
do_handoff(struct thr *t)
{
	struct thr *to;
	struct held h;
	int k;

	if (t->nheld == 0)
		return;
	to = &thr[(t->id + 1 + (int)(rnd(t) % (NTHREADS - 1))) % NTHREADS];
	k = (int)(rnd(t) % (uint64_t)t->nheld);
	pthread_mutex_lock(&to->qlock);
	if (to->qcount < QCAP) {
		h = held_take(t, k);
		to->q[(to->qhead + to->qcount++) % QCAP] = h;
	}
	pthread_mutex_unlock(&to->qlock);
}

/* Items handed to us: half are freed here (a cross-thread free). */
static void
drain_inbox(struct thr *t)
{
	struct held in[QCAP];
	int n = 0;

	pthread_mutex_lock(&t->qlock);
	while (t->qcount > 0) {
		in[n++] = t->q[t->qhead];
		t->qhead = (t->qhead + 1) % QCAP;
		t->qcount--;
	}
	pthread_mutex_unlock(&t->qlock);
	for (int i = 0; i < n; i++) {
		struct zdesc *d = &zd[in[i].zi];

		TCHECK(tag_ok(in[i].p, d->size, in[i].tag));
		if ((rnd(t) & 1) || t->nheld == MAXHELD ||
		    (d->kind == Z_NOFREE && t->nofree_held >= NOFREE_MAX))
			item_free(t, in[i]);
		else
			held_add(t, in[i]);
	}
}

/*
 * Statistics read while the workload runs.  uma counts an allocation
 * before uma_zalloc returns and the workload counts it after; frees
 * likewise.  So uma's count of a zone read between two readings of the
 * workload's count lies between the first and the second plus the
 * operations in flight (one a thread).  Every counter only grows, so a
 * sum of counters read one after the other keeps that bound, however
 * the reads interleave with the workload.
 */
#define	IN_FLIGHT	NTHREADS

/* Thread 1's buffers: this read's per-CPU records and the last ones. */
struct reader {
	struct uma__cpu_stat	*cs;		/* [ncpus] */
	struct uma__cpu_stat	*last;		/* [NZONES][ncpus] */
};

static void
live_check(int zi, const struct uma__zone_stat *zs, uint64_t a0, uint64_t f0,
    struct reader *rd)
{
	struct zdesc *d = &zd[zi];
	uint64_t a1 = atomic_load(&d->allocs), f1 = atomic_load(&d->frees);
	uint64_t ca = 0, cf = 0, cfree = 0;
	int ncpus = uma__ncpus();
	struct uma__cpu_stat *last = &rd->last[zi * ncpus];

	TCHECK(zs->zs_allocs >= a0 && zs->zs_allocs <= a1 + IN_FLIGHT);
	TCHECK(zs->zs_frees >= f0 && zs->zs_frees <= f1 + IN_FLIGHT);
	for (int c = 0; c < ncpus; c++) {
		/* A CPU's counters never go down from one read to the next. */
		TCHECK(rd->cs[c].cs_allocs >= last[c].cs_allocs);
		TCHECK(rd->cs[c].cs_frees >= last[c].cs_frees);
		last[c] = rd->cs[c];
		ca += rd->cs[c].cs_allocs;
		cf += rd->cs[c].cs_frees;
		cfree += rd->cs[c].cs_free;
	}
	/* The per-CPU records are part of the totals they came with. */
	TCHECK(ca <= zs->zs_allocs && cf <= zs->zs_frees);
	TCHECK(cfree == zs->zs_cpu_free);
}

/* uma__zone_foreach's reader: the zones of the workload, under its lock. */
static int
stat_read_one(uma_zone_t z, void *arg)
{
	struct reader *rd = arg;
	struct uma__zone_stat zs;
	uint64_t a0, f0;

	for (int i = 0; i < NZONES; i++)
		if (zd[i].z == z) {
			a0 = atomic_load(&zd[i].allocs);
			f0 = atomic_load(&zd[i].frees);
			uma__zone_stat(z, &zs, rd->cs, uma__ncpus());
			live_check(i, &zs, a0, f0, rd);
		}
	return (0);
}

/*
 * uma_zone_get_cur, read live: allocs - frees (clamped at 0), so between
 * a0 - f1 - IN_FLIGHT and a1 + IN_FLIGHT - f0.
 */
static void
cur_check(struct zdesc *d)
{
	uint64_t a0 = atomic_load(&d->allocs), f0 = atomic_load(&d->frees);
	uint64_t cur = (uint64_t)uma_zone_get_cur(d->z);
	uint64_t a1 = atomic_load(&d->allocs), f1 = atomic_load(&d->frees);

	TCHECK(cur <= a1 + IN_FLIGHT - f0);
	TCHECK(a0 < f1 + IN_FLIGHT || cur >= a0 - f1 - IN_FLIGHT);
}

/* Thread 0 reclaims now and then; thread 1 reads statistics. */
static void
background_op(struct thr *t, uint64_t batch, struct reader *rd)
{
	if (t->id == 0 && batch % 40 == 0) {
		switch ((batch / 40) % 4) {
		case 0:
			uma_reclaim(UMA_RECLAIM_TRIM);
			break;
		case 1:
			uma_zone_reclaim(zd[rnd(t) % NZONES].z,
			    UMA_RECLAIM_DRAIN);
			break;
		case 2:
			uma_zone_reclaim(zd[rnd(t) % NZONES].z,
			    UMA_RECLAIM_DRAIN_CPU);
			break;
		case 3:
			uma_reclaim(UMA_RECLAIM_DRAIN);
			break;
		}
	}
	if (t->id == 1 && batch % 10 == 0) {
		uma__zone_foreach(stat_read_one, rd, 1);
		for (int i = 0; i < NZONES; i++)
			cur_check(&zd[i]);
	}
}

/* Touch stack pages now so that RSS does not grow from them later. */
static void __attribute__((noinline))
touch_stack(void)
{
	volatile char buf[96 * 1024];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = (char)i;
}

static void *
worker(void *arg)
{
	struct thr *t = arg;
	struct reader rd;
	size_t ncpus = (size_t)uma__ncpus();
	uint64_t batch = 0;

	rd.cs = calloc(ncpus, sizeof(*rd.cs));
	rd.last = calloc(ncpus * NZONES, sizeof(*rd.last));
	TCHECK(rd.cs != NULL && rd.last != NULL);
	touch_stack();
	atomic_fetch_add(&ready, 1);
	pthread_barrier_wait(&start_barrier);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < BATCH; i++) {
			uint64_t r = rnd(t) % 100;

			if (r < 48)
				do_alloc(t);
			else if (r < 88)
				do_free(t);
			else
				do_handoff(t);
		}
		t->ops += BATCH;
		drain_inbox(t);
		background_op(t, ++batch, &rd);
	}
	free(rd.cs);
	free(rd.last);
	return (NULL);
}

/* ---- setup and the final accounting ----------------------------------- */

static void
use_two_cpus(void)
{
	cpu_set_t set, two;
	int n = 0;

	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CPU_ZERO(&two);
	for (int c = 0; c < CPU_SETSIZE && n < NCPUS_USED; c++)
		if (CPU_ISSET(c, &set)) {
			CPU_SET(c, &two);
			n++;
		}
	CHECK(sched_setaffinity(0, sizeof(two), &two) == 0);
	if (n < NCPUS_USED)
		printf("  note: only %d CPU available\n", n);
}

/* Can this process use restartable sequences the way uma does? */
static bool
environment_has_rseq(void)
{
#if defined(__x86_64__)
	long r;

	errno = 0;
	r = syscall(__NR_rseq, NULL, 0, 0, 0);
	if (r == 0 || errno == ENOSYS || errno == EPERM)
		return (false);
	r = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	return (r > 0 && (r & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) != 0);
#else
	return (false);
#endif
}

static void
zones_create(void)
{
	for (int i = 0; i < NZONES; i++) {
		struct zdesc *d = &zd[i];

		switch (d->kind) {
		case Z_PLAIN:
			d->z = uma_zcreate(d->name, d->size, NULL, NULL, NULL,
			    NULL, UMA_ALIGN_PTR, 0);
			break;
		case Z_CTOR:
			d->z = uma_zcreate(d->name, d->size, stress_ctor,
			    stress_dtor, NULL, NULL, UMA_ALIGN_PTR, 0);
			break;
		case Z_SECONDARY:
			d->z = uma_zsecond_create(d->name, stress_ctor,
			    stress_dtor, sec_zinit, sec_zfini,
			    zd[d->primary].z);
			break;
		case Z_NOFREE:
			d->z = uma_zcreate(d->name, d->size, NULL, NULL, NULL,
			    NULL, UMA_ALIGN_PTR, UMA_ZONE_NOFREE);
			break;
		case Z_LIMITED:
			d->z = uma_zcreate(d->name, d->size, NULL, NULL, NULL,
			    NULL, UMA_ALIGN_PTR, 0);
			CHECK(d->z != NULL);
			CHECK_EQ(uma_zone_set_max(d->z, LIMIT_ITEMS),
			    LIMIT_ITEMS);
			break;
		}
		CHECK(d->z != NULL);
	}
}

/* Quiesced: the statistics of every zone equal the workload's counts. */
static void
check_accounting(uint64_t *held_per_zone)
{
	int ncpus = uma__ncpus();
	struct uma__cpu_stat *cs = calloc((size_t)ncpus, sizeof(*cs));
	struct uma__zone_stat zs;

	CHECK(cs != NULL);
	CHECK(ncpus >= 1);
	for (int i = 0; i < NZONES; i++) {
		struct zdesc *d = &zd[i];
		uint64_t ca = 0, cf = 0, cfree = 0;

		CHECK(uma__zone_stat(d->z, &zs, cs, ncpus) == 0);
		for (int c = 0; c < ncpus; c++) {
			ca += cs[c].cs_allocs;
			cf += cs[c].cs_frees;
			cfree += cs[c].cs_free;
		}
		if (zs.zs_allocs != atomic_load(&d->allocs) ||
		    zs.zs_frees != atomic_load(&d->frees) ||
		    zs.zs_allocs - zs.zs_frees != held_per_zone[i])
			fprintf(stderr, "%s: stats allocs %llu frees %llu "
			    "fails %llu; workload allocs %llu frees %llu "
			    "nulls %llu held %llu\n", d->name,
			    (unsigned long long)zs.zs_allocs,
			    (unsigned long long)zs.zs_frees,
			    (unsigned long long)zs.zs_fails,
			    (unsigned long long)atomic_load(&d->allocs),
			    (unsigned long long)atomic_load(&d->frees),
			    (unsigned long long)atomic_load(&d->nulls),
			    (unsigned long long)held_per_zone[i]);
		CHECK_EQ(zs.zs_allocs, atomic_load(&d->allocs));
		CHECK_EQ(zs.zs_frees, atomic_load(&d->frees));
		CHECK_EQ(zs.zs_fails, atomic_load(&d->nulls));
		CHECK_EQ(zs.zs_allocs - zs.zs_frees, held_per_zone[i]);
		CHECK_EQ(uma_zone_get_cur(d->z), held_per_zone[i]);
		/* Per-CPU counts are part of the totals. */
		CHECK(ca <= zs.zs_allocs);
		CHECK(cf <= zs.zs_frees);
		CHECK_EQ(cfree, zs.zs_cpu_free);
		if (d->kind == Z_CTOR || d->kind == Z_SECONDARY) {
			CHECK_EQ(atomic_load(&d->ctors), zs.zs_allocs);
			CHECK_EQ(atomic_load(&d->dtors), zs.zs_frees);
		}
		if (d->kind == Z_SECONDARY)
			CHECK_EQ(atomic_load(&d->zinits) -
			    atomic_load(&d->zfinis),
			    held_per_zone[i] + zs.zs_zone_free +
			    zs.zs_cpu_free);
		if (d->kind == Z_LIMITED) {
			CHECK(zs.zs_items <= LIMIT_ITEMS);
			CHECK(held_per_zone[i] <= LIMIT_ITEMS);
		}
	}
	CHECK_EQ(atomic_load(&zd[0].bad_args), 0);
	free(cs);
}

/* All freed and drained: caches empty, every item in its keg, pages back. */
static uint64_t
check_drained(void)
{
	struct uma__zone_stat zs;
	uint64_t nofree_pages = 0;

	for (int i = 0; i < NZONES; i++) {
		struct zdesc *d = &zd[i];

		CHECK(uma__zone_stat(d->z, &zs, NULL, 0) == 0);
		CHECK_EQ(zs.zs_allocs, zs.zs_frees);
		CHECK_EQ(uma_zone_get_cur(d->z), 0);
		CHECK_EQ(zs.zs_cpu_free, 0);
		CHECK_EQ(zs.zs_zone_free, 0);
		CHECK_EQ(zs.zs_items, 0);
		CHECK_EQ(zs.zs_keg_free, zs.zs_pages / zs.zs_ppera *
		    zs.zs_ipers);
		if (d->kind == Z_NOFREE)
			nofree_pages = zs.zs_pages;
		else
			CHECK_EQ(zs.zs_pages, 0);
	}
	CHECK_EQ(atomic_load(&zd[24].zinits), atomic_load(&zd[24].zfinis));
	return (nofree_pages);
}

static void
stress_run(bool locked)
{
	uint64_t held_per_zone[NZONES], total_ops = 0, nofree_pages;
	size_t rss0, rss1;
	double secs = test_seconds(8.0), t0;
	const char *tun = getenv("UMA_TUNABLES");
	bool rseq_off_by_env = tun != NULL && strstr(tun, "vm.uma_rseq=0");

	/* Must happen before the first zone: uma reads tunables once. */
	if (locked) {
		char buf[512];

		snprintf(buf, sizeof(buf), "%s%svm.uma_rseq=0",
		    tun != NULL ? tun : "", tun != NULL && *tun ? "," : "");
		CHECK(setenv("UMA_TUNABLES", buf, 1) == 0);
	}
	/* The rseq run proves nothing about rseq where it would run locked. */
	if (!locked && (!environment_has_rseq() || rseq_off_by_env))
		SKIP(rseq_off_by_env ? "UMA_TUNABLES has vm.uma_rseq=0" :
		    "no restartable sequences here (kernel, seccomp)");
	use_two_cpus();
	thr = mmap(NULL, sizeof(*thr) * NTHREADS, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(thr != MAP_FAILED);
	memset(thr, 0x11, sizeof(*thr) * NTHREADS);	/* fault it all in */
	memset(thr, 0, sizeof(*thr) * NTHREADS);

	zones_create();
	CHECK_EQ(uma__rseq_active(), !locked);
	printf("  mode %s, %d threads, %d zones, %.1f s, %d CPUs known\n",
	    uma__rseq_active() ? "rseq" : "locked", NTHREADS, NZONES, secs,
	    uma__ncpus());

	CHECK(pthread_barrier_init(&start_barrier, NULL, NTHREADS + 1) == 0);
	for (int i = 0; i < NTHREADS; i++) {
		thr[i].id = i;
		thr[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) + 1;
		CHECK(pthread_mutex_init(&thr[i].qlock, NULL) == 0);
		CHECK(pthread_create(&thr[i].td, NULL, worker, &thr[i]) == 0);
	}
	touch_stack();
	/* The workers' stacks and malloc arenas count in the baseline. */
	while (atomic_load(&ready) < NTHREADS)
		usleep(1000);
	usleep(10 * 1000);
	rss0 = test_rss();
	t0 = test_now();
	pthread_barrier_wait(&start_barrier);
	while (test_now() - t0 < secs)
		usleep(20 * 1000);
	atomic_store(&stop, true);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK(pthread_join(thr[i].td, NULL) == 0);
		total_ops += thr[i].ops;
	}
	CHECK_EQ(atomic_load(&check_failures), 0);

	/* Quiesced: every item the test holds, in hand or in a queue. */
	memset(held_per_zone, 0, sizeof(held_per_zone));
	for (int i = 0; i < NTHREADS; i++) {
		for (int k = 0; k < thr[i].nheld; k++)
			held_per_zone[thr[i].held[k].zi]++;
		for (int k = 0; k < thr[i].qcount; k++)
			held_per_zone[thr[i].q[(thr[i].qhead + k) % QCAP].zi]++;
	}
	check_accounting(held_per_zone);
	printf("  %llu operations; accounting exact; RSS at the end of the "
	    "workload %zu KiB\n", (unsigned long long)total_ops,
	    test_rss() / 1024);

	/* Free everything from this thread, then drain. */
	for (int i = 0; i < NTHREADS; i++) {
		while (thr[i].nheld > 0)
			item_free(&thr[i], held_take(&thr[i], thr[i].nheld - 1));
		while (thr[i].qcount > 0) {
			item_free(&thr[i], thr[i].q[thr[i].qhead]);
			thr[i].qhead = (thr[i].qhead + 1) % QCAP;
			thr[i].qcount--;
		}
	}
	CHECK_EQ(atomic_load(&check_failures), 0);
	memset(held_per_zone, 0, sizeof(held_per_zone));
	check_accounting(held_per_zone);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	nofree_pages = check_drained();

	rss1 = test_rss();
	printf("  RSS before %zu KiB, after %zu KiB (NOFREE %llu KiB)\n",
	    rss0 / 1024, rss1 / 1024,
	    (unsigned long long)nofree_pages * UMA_PAGE_SIZE / 1024);
#if defined(UMA_TSAN) || defined(__SANITIZE_THREAD__)
	printf("  note: RSS not compared under TSan (shadow memory)\n");
#else
	CHECK(rss1 - nofree_pages * UMA_PAGE_SIZE <= rss0 + rss0 / 10);
#endif

	for (int i = NZONES - 1; i >= 0; i--)
		uma_zdestroy(zd[i].z);
}

UMA_TEST(zone_stress_rseq_caches_count_exactly_and_give_memory_back)
{
	stress_run(false);
}

UMA_TEST(zone_stress_locked_caches_count_exactly_and_give_memory_back)
{
	stress_run(true);
}
