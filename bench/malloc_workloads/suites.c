/*
 * suites.c - models of the synthetic benchmarks that allocator authors
 * compare on (the set mimalloc-bench collects; bench/README.md says where
 * each comes from).  Written for this bench from the published
 * descriptions: same shape of work, fixed amounts instead of timed runs,
 * two threads where the original takes a thread count.
 *
 *   cache-thrash  each thread allocates a small object, writes it many
 *                 times, frees it, over and over (Hoard's cache-thrash:
 *                 active false sharing)
 *   glibc-simple  batches of 25..1600 blocks of 16, 32 and 64 B, each
 *                 written whole, then freed; on the main thread, on a
 *                 second thread, and on the main thread again (glibc's
 *                 bench-malloc-simple)
 *   glibc-thread  each thread replaces random slots of its 1024-block
 *                 working set with blocks of 4 B..32 KiB drawn with an
 *                 inverse-square law, writing every byte (glibc's
 *                 bench-malloc-thread)
 *   rand-mix      each thread replaces random slots of a bounded live
 *                 set with blocks of 8 B..8 KiB, log-uniform (alloc-test)
 *   rptest        each thread runs rounds of allocate / free random slots
 *                 of 16 B..16 KiB, smaller sizes likelier, and hands a
 *                 quarter of its live blocks to the other thread to free
 *                 (rpmalloc's benchmark)
 *   sh6bench      blocks of 1..1000 B allocated in rising sizes, freed
 *                 half from the end and half from the start (SmartHeap's
 *                 sh6bench)
 *   sh8bench      the same, with half of every round's blocks freed by
 *                 the other thread (sh8bench)
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "mw.h"

/*
 * A mailbox of batches of blocks for another thread to free: a batch is
 * an array of pointers whose first slot links it to the next batch, NULL
 * after the last block.  At most MAILBOX_MAX batches wait in a mailbox: a
 * thread that runs ahead (the other one descheduled, as happens on a busy
 * machine) waits for its peer instead of piling up memory, so the peak
 * RSS measures the allocator, not the scheduler.
 */
#define	MAILBOX_MAX	4

struct mailbox {
	pthread_mutex_t	 mb_lock;
	void		**mb_head;
	_Atomic int	 mb_count;	/* batches waiting */
	_Atomic int	 mb_done;	/* the owner has finished */
} __attribute__((aligned(64)));

static struct mailbox mailboxes[MW_NTHREADS];

static void
mailbox_init(void)
{
	for (int i = 0; i < MW_NTHREADS; i++) {
		pthread_mutex_init(&mailboxes[i].mb_lock, NULL);
		mailboxes[i].mb_head = NULL;
		mailboxes[i].mb_count = 0;
		mailboxes[i].mb_done = 0;
	}
}

/* Free every block (and batch) waiting in mailbox `who`. */
static void
mailbox_drain(int who)
{
	struct mailbox *mb = &mailboxes[who];
	void **batch, **next;

	pthread_mutex_lock(&mb->mb_lock);
	batch = mb->mb_head;
	mb->mb_head = NULL;
	mb->mb_count = 0;
	pthread_mutex_unlock(&mb->mb_lock);
	for (; batch != NULL; batch = next) {
		next = batch[0];
		for (size_t i = 1; batch[i] != NULL; i++)
			free(batch[i]);
		free(batch);
	}
}

/*
 * Thread `me` hands `batch` to thread `to`.  While `to`'s mailbox is
 * full, `me` frees what waits in its own (so that two threads posting to
 * each other cannot wait for each other); if `to` has finished, `me`
 * frees `to`'s batches itself.
 */
static void
mailbox_post(int me, int to, void **batch)
{
	struct mailbox *mb = &mailboxes[to];

	while (mb->mb_count >= MAILBOX_MAX) {
		mailbox_drain(me);
		if (mb->mb_done)
			mailbox_drain(to);
		else
			sched_yield();
	}
	pthread_mutex_lock(&mb->mb_lock);
	batch[0] = mb->mb_head;
	mb->mb_head = batch;
	mb->mb_count++;
	pthread_mutex_unlock(&mb->mb_lock);
}

/* Thread `me` is finished: what is posted to it now is freed by others. */
static void
mailbox_close(int me)
{
	mailboxes[me].mb_done = 1;
	mailbox_drain(me);
}

/* ---- cache-thrash ---- */
#define	THRASH_OBJS	2000
#define	THRASH_WRITES	40000
static size_t thrash_size;

static void *
thrash_thread(void *arg)
{
	for (int i = 0; i < THRASH_OBJS; i++) {
		volatile char *o = malloc(thrash_size);

		if (o == NULL)
			exit(mw_oom("cache-thrash", thrash_size));
		for (int r = 0; r < THRASH_WRITES; r++)
			for (size_t k = 0; k < 8; k++)
				o[k] = (char)(o[k] + 1);
		mw_sum += (unsigned char)o[0];
		free((void *)o);
	}
	return (NULL);
}

static int
run_cache_thrash(void)
{
	thrash_size = 8;
	mw_run_threads(thrash_thread, MW_NTHREADS);
	return (0);
}

/*
 * The same at 32 B: where the size class, not only the policy, decides
 * whether two threads' objects fall on one line (uma shared one in every
 * round before its fills spread their items, tcmalloc does at 8 B).
 */
static int
run_cache_thrash32(void)
{
	thrash_size = 32;
	mw_run_threads(thrash_thread, MW_NTHREADS);
	return (0);
}

/* ---- glibc-simple ---- */
#define	SIMPLE_ALLOCS	700000		/* blocks per size and batch */

static void
simple_batches(void)
{
	static const int batches[] = { 25, 100, 400, 1600 };
	int *v[1600];
	uint64_t acc = 0;

	for (size_t size = 16; size <= 64; size *= 2) {
		for (size_t b = 0; b < 4; b++) {
			int n = batches[b];

			for (int it = 0; it < SIMPLE_ALLOCS / n; it++) {
				for (int i = 0; i < n; i++) {
					if ((v[i] = malloc(size)) == NULL)
						exit(mw_oom("glibc-simple",
						    size));
					for (size_t g = 0; g < size /
					    sizeof(int); g++)
						v[i][g] = (int)g;
				}
				for (int i = 0; i < n; i++) {
					acc += (unsigned)v[i][1];
					free(v[i]);
				}
			}
		}
	}
	mw_sum += acc;
}

static void *
simple_batches_thread(void *arg)
{
	simple_batches();
	return (NULL);
}

static int
run_glibc_simple(void)
{
	simple_batches();
	mw_run_threads(simple_batches_thread, 1);
	simple_batches();
	return (0);
}

/* ---- glibc-thread ---- */
#define	GT_WSET		1024
#define	GT_SIZES	8000
#define	GT_OFFSETS	(GT_WSET * 4)
#define	GT_ITERS	20000000

static unsigned gt_sizes[GT_SIZES], gt_offsets[GT_OFFSETS];

/*
 * A size between lo and hi with density proportional to 1/size^2: the
 * inverse of its distribution function at u in [0, 1).
 */
static unsigned
inverse_square(double u, double lo, double hi)
{
	return ((unsigned)(1.0 / (1.0 / lo - u * (1.0 / lo - 1.0 / hi))));
}

static void *
gt_thread(void *arg)
{
	void *wset[GT_WSET] = { 0 };
	unsigned si = 0, oi = 0;
	uint64_t acc = 0;

	for (int it = 0; it < GT_ITERS; it++) {
		unsigned slot = gt_offsets[oi++ % GT_OFFSETS];
		unsigned size = gt_sizes[si++ % GT_SIZES];
		char *p;

		free(wset[slot]);
		if ((p = wset[slot] = malloc(size)) == NULL)
			exit(mw_oom("glibc-thread", size));
		memset(p, (int)it, size);
		acc += (unsigned char)p[size - 1];
	}
	for (int i = 0; i < GT_WSET; i++)
		free(wset[i]);
	mw_sum += acc;
	return (NULL);
}

static int
run_glibc_thread(void)
{
	uint64_t s = 88;

	for (int i = 0; i < GT_SIZES; i++)
		gt_sizes[i] = inverse_square((double)(mw_rand(&s) >> 11) /
		    (double)(1ull << 53), 4, 32768);
	for (int i = 0; i < GT_OFFSETS; i++)
		gt_offsets[i] = (unsigned)(mw_rand(&s) % GT_WSET);
	mw_run_threads(gt_thread, MW_NTHREADS);
	return (0);
}

/* ---- rand-mix ---- */
#define	MIX_LIVE	8192
#define	MIX_OPS		6000000

/* 8 B .. 8 KiB, the same number of sizes in every power of two. */
static size_t
log_uniform_size(uint64_t *s)
{
	uint64_t r = mw_rand(s);
	unsigned k = 3 + (unsigned)(r % 10);	/* 2^3 .. 2^12 */

	return (((size_t)1 << k) + (size_t)((r >> 8) % ((uint64_t)1 << k)));
}

static void *
mix_thread(void *arg)
{
	void **live = calloc(MIX_LIVE, sizeof(*live));
	uint64_t s = 0x9e3779b97f4a7c15ull + (uintptr_t)arg, acc = 0;

	if (live == NULL)
		exit(mw_oom("rand-mix", MIX_LIVE * sizeof(*live)));
	for (int op = 0; op < MIX_OPS; op++) {
		size_t k = (size_t)(mw_rand(&s) % MIX_LIVE), size;

		if (live[k] != NULL) {
			acc += *(unsigned char *)live[k];
			free(live[k]);
			live[k] = NULL;
			continue;
		}
		size = log_uniform_size(&s);
		if ((live[k] = malloc(size)) == NULL)
			exit(mw_oom("rand-mix", size));
		memset(live[k], op, size < 64 ? size : 64);
	}
	for (int k = 0; k < MIX_LIVE; k++)
		free(live[k]);
	free(live);
	mw_sum += acc;
	return (NULL);
}

static int
run_rand_mix(void)
{
	mw_run_threads(mix_thread, MW_NTHREADS);
	return (0);
}

/* ---- rptest ---- */
#define	RP_SLOTS	1000
#define	RP_ROUNDS	3000
#define	RP_OPS		400
#define	RP_CROSS	4	/* every 4th round hands blocks over */

/* 16 B .. 16 KiB, density falling linearly: the smaller of two draws. */
static size_t
falling_size(uint64_t *s)
{
	uint64_t a = mw_rand(s) % 16369, b = mw_rand(s) % 16369;

	return (16 + (size_t)(a < b ? a : b));
}

static void *
rp_thread(void *arg)
{
	int me = (int)(uintptr_t)arg, other = (me + 1) % MW_NTHREADS;
	uint64_t s = 4141 + (uintptr_t)arg, acc = 0;
	void *slot[RP_SLOTS] = { 0 };

	for (int round = 0; round < RP_ROUNDS; round++) {
		mailbox_drain(me);
		for (int op = 0; op < RP_OPS; op++) {
			size_t k = (size_t)(mw_rand(&s) % RP_SLOTS);
			size_t size = falling_size(&s);
			char *p;

			free(slot[k]);
			if ((p = slot[k] = malloc(size)) == NULL)
				exit(mw_oom("rptest", size));
			p[0] = (char)op;
			p[size - 1] = (char)round;
			acc += (unsigned char)p[0];
		}
		if (round % RP_CROSS == RP_CROSS - 1) {
			/* A quarter of the slots, a NULL-ended batch. */
			void **batch = malloc((RP_SLOTS / 4 + 2) *
			    sizeof(*batch));
			size_t n = 1;

			if (batch == NULL)
				exit(mw_oom("rptest", RP_SLOTS));
			for (size_t k = (size_t)round % 4; k < RP_SLOTS;
			    k += 4) {
				if (slot[k] != NULL)
					batch[n++] = slot[k];
				slot[k] = NULL;
			}
			batch[n] = NULL;
			mailbox_post(me, other, batch);
		}
	}
	mailbox_close(me);
	for (int k = 0; k < RP_SLOTS; k++)
		free(slot[k]);
	mw_sum += acc;
	return (NULL);
}

static int
run_rptest(void)
{
	mailbox_init();
	mw_run_threads(rp_thread, MW_NTHREADS);
	for (int i = 0; i < MW_NTHREADS; i++)
		mailbox_drain(i);
	return (0);
}

/* ---- sh6bench / sh8bench ---- */
#define	SH_BLOCKS	2000
#define	SH_ROUNDS	3000
#define	SH_MAXSIZE	1000

static int sh_cross;		/* sh8bench: hand half to the other thread */

static void *
sh_thread(void *arg)
{
	int me = (int)(uintptr_t)arg, other = (me + 1) % MW_NTHREADS;
	void **v = malloc(SH_BLOCKS * sizeof(*v));
	size_t size = 1 + (uintptr_t)arg * 97;
	uint64_t acc = 0;

	if (v == NULL)
		exit(mw_oom("sh6bench", SH_BLOCKS * sizeof(*v)));
	for (int round = 0; round < SH_ROUNDS; round++) {
		void **batch = NULL;
		size_t n = 1;

		if (sh_cross) {
			mailbox_drain(me);
			if ((batch = malloc((SH_BLOCKS / 2 + 2) *
			    sizeof(*batch))) == NULL)
				exit(mw_oom("sh8bench", SH_BLOCKS));
		}
		for (int i = 0; i < SH_BLOCKS; i++) {
			if ((v[i] = malloc(size)) == NULL)
				exit(mw_oom("sh6bench", size));
			((char *)v[i])[0] = (char)i;
			((char *)v[i])[size - 1] = (char)i;
			size = size + 7 > SH_MAXSIZE ? 1 : size + 7;
		}
		/* Odd blocks from the end (LIFO), even ones from the start. */
		for (int i = SH_BLOCKS - 1; i > 0; i -= 2) {
			acc += *(unsigned char *)v[i];
			free(v[i]);
		}
		for (int i = 0; i < SH_BLOCKS; i += 2) {
			if (batch != NULL)
				batch[n++] = v[i];
			else
				free(v[i]);
		}
		if (batch != NULL) {
			batch[n] = NULL;
			mailbox_post(me, other, batch);
		}
	}
	if (sh_cross)
		mailbox_close(me);
	free(v);
	mw_sum += acc;
	return (NULL);
}

static int
run_sh6bench(void)
{
	sh_cross = 0;
	mw_run_threads(sh_thread, MW_NTHREADS);
	return (0);
}

static int
run_sh8bench(void)
{
	sh_cross = 1;
	mailbox_init();
	mw_run_threads(sh_thread, MW_NTHREADS);
	for (int i = 0; i < MW_NTHREADS; i++)
		mailbox_drain(i);
	return (0);
}

const struct mw_workload mw_suites[] = {
	{ "cache-thrash", run_cache_thrash, "active false sharing" },
	{ "cache-thrash-32", run_cache_thrash32, "the same at 32 B" },
	{ "glibc-simple", run_glibc_simple, "batches of 16-64 B, written" },
	{ "glibc-thread", run_glibc_thread, "1024-block sets, 4 B-32 KiB" },
	{ "rand-mix", run_rand_mix, "bounded live set, 8 B-8 KiB, 2 threads" },
	{ "rptest", run_rptest, "random slots 16 B-16 KiB, cross-thread" },
	{ "sh6bench", run_sh6bench, "rising sizes, LIFO and FIFO frees" },
	{ "sh8bench", run_sh8bench, "the same, half freed by another thread" },
	{ NULL, NULL, NULL },
};
