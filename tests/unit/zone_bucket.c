/*
 * zone_bucket.c - the zone's bucket cache between the CPUs: full buckets
 * handed off through the zone (its lock-free slots, then its list), empty
 * buckets stashed for reuse.  Every item stays in exactly one place: with a
 * user, in a CPU cache, in the zone's cache or free in the keg, and a drain
 * gives back exactly what was cached.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include <uma/uma.h>

#include "bucket.h"
#include "harness.h"
#include "share_line.h"
#include "memguard_test.h"
#include "init.h"
#include "rseq.h"
#include "stats.h"
#include "uma_int.h"
#include "vm.h"
#include "zone_test.h"

/*
 * What is tested is how often a CPU's cache goes to its zone, and where
 * each item sits: no MemGuard samples (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

#define	NITEMS	5000	/* about 20 buckets of 64-byte items */

/* Items the keg's slabs hold: with users, cached or free. */
static uint64_t
keg_items(const struct uma__zone_stat *zs)
{
	return (zs->zs_pages / zs->zs_ppera * zs->zs_ipers);
}

/* Each item in exactly one place, `held` of them with users. */
static void
check_conserved(uma_zone_t z, uint64_t held)
{
	struct uma__zone_stat zs = zstat(z);

	CHECK_EQ(zs.zs_allocs - zs.zs_frees, held);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free + zs.zs_keg_free + held,
	    keg_items(&zs));
}

/* Take NITEMS items of z into v; give them back in order. */
static void
take_all(uma_zone_t z, void **v)
{
	for (int i = 0; i < NITEMS; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
}

static void
free_all(uma_zone_t z, void **v)
{
	for (int i = 0; i < NITEMS; i++)
		uma_zfree(z, v[i]);
}

/* Slow-path trips of cache c since its uc_seq read seq0: two steps each. */
static uint32_t
cache_trips(uma_cache_t c, uint32_t seq0)
{
	return ((atomic_load(&c->uc_seq) - seq0) / 2);
}

/*
 * On one CPU: a 64-byte zone named `name`, NITEMS items taken into v and
 * all freed again, in order.
 */
static uma_zone_t
zone_take_and_free(const char *name, void **v)
{
	uma_zone_t z = zone_pinned(name);

	take_all(z, v);
	free_all(z, v);
	return (z);
}

UMA_TEST(zone_bucket_cache_conserves_items_through_drain)
{
	static void *v[NITEMS];
	struct uma__zone_stat zs;
	uma_zone_t z = zone_take_and_free("bucket-handoff", v);

	/* More than a CPU caches: full buckets went to the zone. */
	zs = zstat(z);
	CHECK(zs.zs_zone_free > 0);
	check_conserved(z, 0);

	/*
	 * Take them all again: the zone's buckets come back to the CPU and
	 * leave emptied, to the stash.  An emptied bucket still carries its
	 * old count; a drain must not give those items back a second time.
	 */
	take_all(z, v);
	check_conserved(z, NITEMS);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free, 0);
	CHECK_EQ(zs.zs_zone_free, 0);
	check_conserved(z, NITEMS);

	/* Every item is still its own: write each, then check each. */
	for (int i = 0; i < NITEMS; i++)
		*(uintptr_t *)v[i] = (uintptr_t)i;
	for (int i = 0; i < NITEMS; i++)
		CHECK_EQ(*(uintptr_t *)v[i], (uintptr_t)i);
	free_all(z, v);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	zs = zstat(z);
	CHECK_EQ(zs.zs_keg_free, keg_items(&zs));
	CHECK_EQ(zs.zs_allocs, 2 * NITEMS);
	CHECK_EQ(zs.zs_frees, 2 * NITEMS);
	uma_zdestroy(z);
}

/*
 * A CPU that only frees keeps no full bucket: once it has taken nothing
 * since its last trip to the slow path, a full bucket goes to the zone at
 * once.  (A CPU that also allocates keeps a full one for its next
 * allocations, as FreeBSD does.)
 */
UMA_TEST(zone_bucket_free_only_cpu_parks_at_most_one_bucket)
{
	static void *v[NITEMS];
	struct uma__zone_stat zs;
	uma_zone_t z = zone_take_and_free("bucket-free-only", v);

	zs = zstat(z);
	CHECK(zs.zs_cpu_free <= zs.zs_bucket_size);
	CHECK(zs.zs_zone_free >= NITEMS - zs.zs_bucket_size);
	check_conserved(z, 0);
	/* Allocating again: the CPU fetches the zone's buckets back. */
	take_all(z, v);
	check_conserved(z, NITEMS);
	free_all(z, v);
	check_conserved(z, 0);
	uma_zdestroy(z);
}

/*
 * A CPU whose allocs and frees come in random order (a server) reaches
 * the ends of its alloc bucket rarely: there the slow path leaves the
 * bucket half full, where a swap with the other bucket (full or empty)
 * would put it at its other end, for the next free or alloc to miss again
 * half the time.  Slow-path trips are counted by the cache's write
 * sections (two uc_seq steps each).
 */
UMA_TEST(zone_bucket_random_order_rarely_leaves_the_cpu)
{
	enum { OPS = 1000000, POOL = 4096 };
	static void *v[POOL];
	unsigned s = 7, held = 0, k;
	uint32_t seq0, trips;
	uma_cache_t c;
	uma_zone_t z;

	z = zone_pinned("bucket-random");
	while (held < POOL / 2)
		CHECK((v[held++] = uma_zalloc(z, M_WAITOK)) != NULL);
	c = &z->uz_cpu[uma__curcpu()];
	seq0 = atomic_load(&c->uc_seq);
	for (int op = 0; op < OPS; op++) {
		if (next_rand(&s) & 1 ? held < POOL : held == 0) {
			CHECK((v[held++] = uma_zalloc(z, M_WAITOK)) != NULL);
			continue;
		}
		k = next_rand(&s) % held;
		uma_zfree(z, v[k]);
		v[k] = v[--held];
	}
	trips = cache_trips(c, seq0);
	/* 146-157 trips for the seeds tried; swapping made 1,945. */
	CHECK(trips < OPS / 2000);
	check_conserved(z, held);
	while (held > 0)
		uma_zfree(z, v[--held]);
	check_conserved(z, 0);
	uma_zdestroy(z);
}

/*
 * A CPU that allocates a batch and then frees it misses on alternate sides
 * too, but far apart: it keeps swapping whole buckets, one trip per
 * bucket's worth.  (Splitting there would halve every run between trips.)
 */
UMA_TEST(zone_bucket_batches_keep_whole_buckets)
{
	enum { ROUNDS = 200 };
	static void *v[NITEMS];
	uint32_t seq0, trips, batch;
	uma_cache_t c;
	uma_zone_t z;

	z = zone_pinned("bucket-batch");
	batch = zstat(z).zs_bucket_size * 3 / 2;
	CHECK(batch > 0 && batch <= NITEMS);
	c = &z->uz_cpu[uma__curcpu()];
	seq0 = atomic_load(&c->uc_seq);
	for (int r = 0; r < ROUNDS; r++) {
		for (uint32_t i = 0; i < batch; i++)
			CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		for (uint32_t i = 0; i < batch; i++)
			uma_zfree(z, v[i]);
	}
	trips = cache_trips(c, seq0);
	/*
	 * 403 trips here, two a round; splitting at every change of side
	 * made 1,398.
	 */
	CHECK(trips <= 3 * ROUNDS);
	check_conserved(z, 0);
	uma_zdestroy(z);
}

/* A producer and a consumer on two threads, passing items by a queue. */
#define	FLOW_ITEMS	200000
#define	FLOW_QLEN	4096

struct flow {
	uma_zone_t	 f_zone;
	pthread_mutex_t	 f_lock;
	pthread_cond_t	 f_cv;
	void		*f_q[FLOW_QLEN];
	unsigned	 f_head, f_tail;
};

static void *
flow_producer(void *arg)
{
	struct flow *f = arg;
	uintptr_t *p;

	for (uintptr_t i = 0; i < FLOW_ITEMS; i++) {
		p = uma_zalloc(f->f_zone, M_WAITOK);
		CHECK(p != NULL);
		p[0] = i;
		p[1] = ~i;
		pthread_mutex_lock(&f->f_lock);
		while (f->f_head - f->f_tail == FLOW_QLEN)
			pthread_cond_wait(&f->f_cv, &f->f_lock);
		f->f_q[f->f_head++ % FLOW_QLEN] = p;
		pthread_cond_broadcast(&f->f_cv);
		pthread_mutex_unlock(&f->f_lock);
	}
	return (NULL);
}

static void *
flow_consumer(void *arg)
{
	struct flow *f = arg;
	uintptr_t *p;

	for (uintptr_t i = 0; i < FLOW_ITEMS; i++) {
		pthread_mutex_lock(&f->f_lock);
		while (f->f_head == f->f_tail)
			pthread_cond_wait(&f->f_cv, &f->f_lock);
		p = f->f_q[f->f_tail++ % FLOW_QLEN];
		pthread_cond_broadcast(&f->f_cv);
		pthread_mutex_unlock(&f->f_lock);
		/* In order, and nobody else wrote it while it was in flight. */
		CHECK_EQ(p[0], i);
		CHECK_EQ(p[1], ~i);
		uma_zfree(f->f_zone, p);
	}
	return (NULL);
}

UMA_TEST(zone_bucket_cross_thread_flow_counts_exactly)
{
	static struct flow f;
	struct uma__zone_stat zs;
	pthread_t prod, cons;

	f.f_zone = uma_zcreate("bucket-flow", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(f.f_zone != NULL);
	pthread_mutex_init(&f.f_lock, NULL);
	pthread_cond_init(&f.f_cv, NULL);
	CHECK(pthread_create(&prod, NULL, flow_producer, &f) == 0);
	CHECK(pthread_create(&cons, NULL, flow_consumer, &f) == 0);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	zs = zstat(f.f_zone);
	CHECK_EQ(zs.zs_allocs, FLOW_ITEMS);
	CHECK_EQ(zs.zs_frees, FLOW_ITEMS);
	check_conserved(f.f_zone, 0);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	zs = zstat(f.f_zone);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	CHECK_EQ(zs.zs_keg_free, keg_items(&zs));
	uma_zdestroy(f.f_zone);
	pthread_cond_destroy(&f.f_cv);
	pthread_mutex_destroy(&f.f_lock);
}

/* A zone whose buckets start small and grow, as malloc's class zones. */
static uma_zone_t
scaled_zone(const char *name, size_t size)
{
	uma_zone_t z;

	z = uma_zcreate(name, size, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	uma__bucket_scale(z, 4);
	return (z);
}

/*
 * Buckets grow at a fill only when demand outgrew them: not when other
 * CPUs handed full buckets in since the last fill (the zone is a hand-off
 * whose next bucket was not full yet).  Driven at the bucket layer: fills
 * as an allocating CPU makes them, a put as a freeing CPU does.
 */
UMA_TEST(zone_bucket_fill_after_handoff_keeps_size)
{
	uma_bucket_t b1, b2, b3;
	uint32_t s0, s1;
	uma_zone_t z;
	int error;

	z = scaled_zone("bucket-grow", 64);
	s0 = atomic_load(&z->uz_bucket_size);
	CHECK(s0 < z->uz_bucket_size_max);

	CHECK((b1 = uma__bucket_fill(z, false, M_WAITOK, &error)) != NULL);
	s1 = atomic_load(&z->uz_bucket_size);
	CHECK(s1 > s0);			/* demand: grows */
	uma__bucket_put(z, b1);		/* another CPU hands a bucket in */
	CHECK((b2 = uma__bucket_fill(z, false, M_WAITOK, &error)) != NULL);
	CHECK_EQ(atomic_load(&z->uz_bucket_size), s1);	/* hand-off: not */
	CHECK((b3 = uma__bucket_fill(z, false, M_WAITOK, &error)) != NULL);
	CHECK(atomic_load(&z->uz_bucket_size) > s1);	/* demand again */

	uma__bucket_put(z, b2);
	uma__bucket_put(z, b3);
	check_conserved(z, 0);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	uma_zdestroy(z);
}

/*
 * A CPU's first fill (it holds no bucket) does not grow the buckets: each
 * CPU that starts on the zone takes one slab's worth, not a slab and a few
 * items of the next one.
 */
UMA_TEST(zone_bucket_cold_fill_keeps_size)
{
	uma_bucket_t b1, b2, b3;
	uint32_t s0, ipers;
	uma_zone_t z;
	int error;

	z = scaled_zone("bucket-cold", 48);
	s0 = atomic_load(&z->uz_bucket_size);
	ipers = z->uz_keg->uk_ipers;
	CHECK_EQ(s0, ipers);		/* starts at one slab */

	CHECK((b1 = uma__bucket_fill(z, true, M_WAITOK, &error)) != NULL);
	CHECK((b2 = uma__bucket_fill(z, true, M_WAITOK, &error)) != NULL);
	CHECK_EQ(atomic_load(&z->uz_bucket_size), s0);
	CHECK_EQ((uint32_t)b1->ub_cnt, ipers);
	CHECK_EQ((uint32_t)b2->ub_cnt, ipers);
	CHECK_EQ(atomic_load(&z->uz_keg->uk_pages),
	    2 * (uint64_t)z->uz_keg->uk_ppera);	/* two slabs, no third */
	CHECK((b3 = uma__bucket_fill(z, false, M_WAITOK, &error)) != NULL);
	CHECK(atomic_load(&z->uz_bucket_size) > s0);	/* a warm one grows */

	uma__bucket_put(z, b1);
	uma__bucket_put(z, b2);
	uma__bucket_put(z, b3);
	check_conserved(z, 0);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	uma_zdestroy(z);
}

/*
 * A CPU that allocates a burst and frees it, round after round, takes back
 * from the zone's cache the buckets it gave there a moment before: its
 * buckets grow until its two hold a burst, and its trips stop.
 */
UMA_TEST(zone_bucket_bursts_grow_buckets_until_they_fit)
{
	enum { ROUNDS = 100, LAST = 10 };
	static void *v[NITEMS];
	uint32_t s0, burst, puts0 = 0, puts1 = 0;
	uma_zone_t z;

	test_pin_one_cpu();
	z = scaled_zone("bucket-burst", 64);
	s0 = atomic_load(&z->uz_bucket_size);
	burst = 3 * s0;		/* 192: three of the first buckets */
	CHECK(burst / 2 < z->uz_bucket_size_max);
	for (int r = 0; r < ROUNDS; r++) {
		if (r == 1)
			puts1 = atomic_load(&z->uz_puts);
		if (r == ROUNDS - LAST)
			puts0 = atomic_load(&z->uz_puts);
		for (uint32_t i = 0; i < burst; i++)
			CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		for (uint32_t i = 0; i < burst; i++)
			uma_zfree(z, v[i]);
	}
	/* The first rounds gave buckets to the zone; the last ones none. */
	CHECK(puts0 > puts1);
	CHECK_EQ(atomic_load(&z->uz_puts), puts0);
	CHECK(atomic_load(&z->uz_bucket_size) >= burst / 2);
	check_conserved(z, 0);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	uma_zdestroy(z);
}

/*
 * Bounces grow the buckets to 128 items and 128 KiB, and no further,
 * short of the zone's largest: 128 items of 64 bytes, 64 of 2 KiB.
 */
UMA_TEST(zone_bucket_bounce_growth_stops_at_128_items_or_128_kib)
{
	static const struct {
		size_t	size;
		uint32_t cap;
	} t[] = { { 64, 128 }, { 2048, 64 } };

	for (size_t k = 0; k < nitems(t); k++) {
		uma_zone_t z = scaled_zone("bucket-bounce-cap", t[k].size);
		uint32_t n;

		uma__bucket_reach(z, 1024 * 1024);
		CHECK(z->uz_bucket_size_max > t[k].cap + t[k].cap / 8);
		for (int i = 0; i < 1000; i++)
			uma__bucket_bounced(z);
		/* Grown by eighths: past the cap by less than a step. */
		n = atomic_load(&z->uz_bucket_size);
		CHECK(n >= t[k].cap);
		CHECK(n < t[k].cap + t[k].cap / 8);
		uma_zdestroy(z);
	}
}

/* Pin this thread to the n-th CPU it may run on; false if there is none. */
static bool
pin_nth_cpu(int n)
{
	static cpu_set_t allowed;
	static bool saved;
	cpu_set_t set;

	if (!saved) {
		CHECK(sched_getaffinity(0, sizeof(allowed), &allowed) == 0);
		saved = true;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && n-- == 0) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
			return (true);
		}
	return (false);
}

/*
 * A hand-off: one CPU allocates every burst, another frees it.  The
 * allocating CPU fetches the buckets the other gave, but its own trips
 * are all allocations: no bounce, and its buckets keep their size (the
 * fills, which the hand-off spares too, stop after the first round).
 */
UMA_TEST(zone_bucket_handoff_does_not_grow_buckets)
{
	enum { ROUNDS = 50 };
	static void *v[NITEMS];
	uint32_t s1 = 0, burst;
	uma_zone_t z;

	if (!pin_nth_cpu(1))
		SKIP("one CPU: no hand-off between two");
	z = scaled_zone("bucket-handoff", 64);
	burst = 3 * atomic_load(&z->uz_bucket_size);
	for (int r = 0; r < ROUNDS; r++) {
		if (r == 1)
			s1 = atomic_load(&z->uz_bucket_size);
		CHECK(pin_nth_cpu(0));
		for (uint32_t i = 0; i < burst; i++)
			CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		CHECK(pin_nth_cpu(1));
		for (uint32_t i = 0; i < burst; i++)
			uma_zfree(z, v[i]);
	}
	CHECK_EQ(atomic_load(&z->uz_bucket_size), s1);
	check_conserved(z, 0);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	uma_zdestroy(z);
}

/*
 * Bucket kegs lay out one-page slabs (their headers off-page when inline
 * would not fit): a program's first few buckets of a size touch the pages
 * they sit on and no header page at the end of a multi-page run.
 */
UMA_TEST(zone_bucket_kegs_use_one_page_slabs)
{
	uma_zone_t z;
	int n = 0;

	uma_ensure_started();
	pthread_rwlock_rdlock(&uma.ug_lock);
	TAILQ_FOREACH(z, &uma.ug_zones, uz_all) {
		if (!(z->uz_flags & UMA_ZFLAG_BUCKET))
			continue;
		CHECK_EQ(z->uz_keg->uk_ppera, 1);
		CHECK(z->uz_keg->uk_ipers * z->uz_keg->uk_rsize * 100 >=
		    (100 - UMA_MAX_WASTE) * UMA_PAGE_SIZE);
		n++;
	}
	pthread_rwlock_unlock(&uma.ug_lock);
	CHECK_EQ(n, 7);
}

/*
 * A fill orders its items so that two taken one after the other (by two
 * threads on one CPU, say, which then run on two) never share a cache
 * line; whole lines on line boundaries are left as they come.  Each
 * size's fill also hands out every item it took, once.
 */
UMA_TEST(zone_bucket_fill_spreads_lines)
{
	static const size_t sizes[] = { 8, 16, 24, 32, 40, 48, 56, 80, 96,
	    100, 120, 200 };
	uma_bucket_t b;
	uma_zone_t z;
	int error;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		z = scaled_zone("bucket-spread", sizes[s]);
		CHECK((b = uma__bucket_fill(z, true, M_WAITOK, &error)) != NULL);
		CHECK(b->ub_cnt > 8);
		for (int i = 0; i + 1 < b->ub_cnt; i++)
			CHECK(!share_line(b->ub_bucket[i], b->ub_bucket[i + 1],
			    z->uz_size));
		for (int i = 0; i < b->ub_cnt; i++)
			for (int j = i + 1; j < b->ub_cnt; j++)
				CHECK(b->ub_bucket[i] != b->ub_bucket[j]);
		uma__bucket_put(z, b);
		check_conserved(z, 0);
		uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
		uma_zdestroy(z);
	}
}
