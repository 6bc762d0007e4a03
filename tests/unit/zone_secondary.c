/*
 * zone_secondary.c - a primary and a secondary zone on one keg: they share
 * slabs, each counts its own items, keg free items are reported once (on
 * the primary), and the secondary's zone init/fini run exactly when items
 * move between the keg and the secondary.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"
#include "stats.h"
#include "zone_test.h"

/*
 * What is tested is what the shared keg holds, item by item: a guarded
 * item is in no slab: no MemGuard samples (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

static _Atomic int keg_init_ok, keg_fini_calls;
static _Atomic int sec_init_ok, sec_fini_calls;
static _Atomic int prim_ctor_calls, sec_ctor_calls;

static int
keg_init(void *mem, int size, int flags)
{
	atomic_fetch_add(&keg_init_ok, 1);
	return (0);
}

static void
keg_fini(void *mem, int size)
{
	atomic_fetch_add(&keg_fini_calls, 1);
}

static int
sec_zinit(void *mem, int size, int flags)
{
	CHECK_EQ(size, 256);
	atomic_fetch_add(&sec_init_ok, 1);
	return (0);
}

static void
sec_zfini(void *mem, int size)
{
	atomic_fetch_add(&sec_fini_calls, 1);
}

static int
prim_ctor(void *mem, int size, void *arg, int flags)
{
	atomic_fetch_add(&prim_ctor_calls, 1);
	return (0);
}

static int
sec_ctor(void *mem, int size, void *arg, int flags)
{
	atomic_fetch_add(&sec_ctor_calls, 1);
	return (0);
}

struct pair {
	uma_zone_t	 prim, sec;
	void		*held[2][2000];
	int		 nheld[2];
	int		 allocs[2], frees[2];
};

/*
 * The accounting of a quiet pair: per zone allocs - frees == held; both
 * report the same keg; FREE summed over the zones, with keg free added for
 * the primary only, is what the keg holds.
 */
static void
pair_check(struct pair *p)
{
	struct uma__zone_stat a = zstat(p->prim), b = zstat(p->sec);
	uint64_t cap, free_sum;

	CHECK_EQ(a.zs_secondary, 0);
	CHECK_EQ(b.zs_secondary, 1);
	CHECK((b.zs_flags & UMA_ZONE_SECONDARY) != 0);
	CHECK((a.zs_flags & UMA_ZONE_SECONDARY) == 0);
	CHECK(strcmp(a.zs_keg_name, "sec-primary") == 0);
	CHECK(strcmp(b.zs_keg_name, "sec-primary") == 0);
	CHECK(strcmp(b.zs_name, "sec-secondary") == 0);
	CHECK_EQ(a.zs_size, b.zs_size);
	CHECK_EQ(a.zs_rsize, b.zs_rsize);
	CHECK_EQ(a.zs_ipers, b.zs_ipers);
	CHECK_EQ(a.zs_ppera, b.zs_ppera);
	CHECK_EQ(a.zs_pages, b.zs_pages);
	CHECK_EQ(a.zs_keg_free, b.zs_keg_free);
	CHECK_EQ(a.zs_keg_free_slabs, b.zs_keg_free_slabs);

	CHECK_EQ(a.zs_allocs, p->allocs[0]);
	CHECK_EQ(a.zs_frees, p->frees[0]);
	CHECK_EQ(b.zs_allocs, p->allocs[1]);
	CHECK_EQ(b.zs_frees, p->frees[1]);
	CHECK_EQ(a.zs_allocs - a.zs_frees, p->nheld[0]);
	CHECK_EQ(b.zs_allocs - b.zs_frees, p->nheld[1]);
	CHECK_EQ(uma_zone_get_cur(p->prim), p->nheld[0]);
	CHECK_EQ(uma_zone_get_cur(p->sec), p->nheld[1]);

	cap = a.zs_pages / a.zs_ppera * a.zs_ipers;
	free_sum = 0;
	struct uma__zone_stat *zs[2] = { &a, &b };
	for (int i = 0; i < 2; i++) {
		free_sum += zs[i]->zs_zone_free + zs[i]->zs_cpu_free;
		if (zs[i]->zs_secondary == 0)
			free_sum += zs[i]->zs_keg_free;
	}
	CHECK_EQ(free_sum, cap - (uint64_t)p->nheld[0] - p->nheld[1]);

	/* Keg init ran for every item of every slab, for both zones. */
	CHECK_EQ(atomic_load(&keg_init_ok) - atomic_load(&keg_fini_calls),
	    cap);
	/* The secondary's zone init covers exactly its items out of the keg. */
	CHECK_EQ(atomic_load(&sec_init_ok) - atomic_load(&sec_fini_calls),
	    (uint64_t)p->nheld[1] + b.zs_zone_free + b.zs_cpu_free);
	/* The uma_zone_memory of both is the keg's. */
	CHECK_EQ(uma_zone_memory(p->prim), a.zs_pages * 4096);
	CHECK_EQ(uma_zone_memory(p->sec), a.zs_pages * 4096);
}

static void
pair_alloc(struct pair *p, int w)
{
	uma_zone_t z = w ? p->sec : p->prim;
	void *it = uma_zalloc(z, (p->allocs[w] & 1) ? M_NOWAIT : M_WAITOK);

	CHECK(it != NULL);
	memset(it, w ? 0xbb : 0xaa, 256);
	p->held[w][p->nheld[w]++] = it;
	p->allocs[w]++;
}

static void
pair_free(struct pair *p, int w, int k)
{
	uma_zone_t z = w ? p->sec : p->prim;
	unsigned char *it = p->held[w][k];

	CHECK_EQ(it[0], w ? 0xbb : 0xaa);
	CHECK_EQ(it[255], w ? 0xbb : 0xaa);
	uma_zfree(z, it);
	p->held[w][k] = p->held[w][--p->nheld[w]];
	p->frees[w]++;
}

static void
pair_create(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->prim = uma_zcreate("sec-primary", 256, prim_ctor, NULL, keg_init,
	    keg_fini, UMA_ALIGN_PTR, 0);
	CHECK(p->prim != NULL);
	p->sec = uma_zsecond_create("sec-secondary", sec_ctor, NULL,
	    sec_zinit, sec_zfini, p->prim);
	CHECK(p->sec != NULL);
	CHECK(strcmp(uma_zone_name(p->sec), "sec-secondary") == 0);
}

UMA_TEST(zone_secondary_kegfree_reported_once_and_sums_to_keg)
{
	static struct pair p;
	unsigned seed = 1;

	test_pin_one_cpu();
	pair_create(&p);
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 1500; i++) {
			int w = (int)(next_rand(&seed) % 2);
			int hold = round % 2 == 0 ? 70 : 30; /* grow, shrink */

			if (p.nheld[w] < 2000 &&
			    (p.nheld[w] == 0 ||
			    (int)(next_rand(&seed) % 100) < hold))
				pair_alloc(&p, w);
			else
				pair_free(&p, w,
				    (int)(next_rand(&seed) %
				    (unsigned)p.nheld[w]));
		}
		pair_check(&p);
		if (round == 3) {
			uma_zone_reclaim(p.sec, UMA_RECLAIM_DRAIN_CPU);
			pair_check(&p);
		}
	}
	CHECK_EQ(atomic_load(&prim_ctor_calls), p.allocs[0]);
	CHECK_EQ(atomic_load(&sec_ctor_calls), p.allocs[1]);

	for (int w = 0; w < 2; w++)
		while (p.nheld[w] > 0)
			pair_free(&p, w, p.nheld[w] - 1);
	pair_check(&p);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	pair_check(&p);
	CHECK_EQ(zstat(p.prim).zs_pages, 0);
	CHECK_EQ(atomic_load(&sec_init_ok), atomic_load(&sec_fini_calls));
	CHECK_EQ(atomic_load(&keg_init_ok), atomic_load(&keg_fini_calls));
	uma_zdestroy(p.sec);
	uma_zdestroy(p.prim);
}

UMA_TEST(zone_secondary_zinit_zfini_run_on_keg_zone_transitions_only)
{
	static struct pair p;
	struct uma__zone_stat b;
	void *it;
	int before;

	test_pin_one_cpu();
	pair_create(&p);
	CHECK_EQ(atomic_load(&sec_init_ok), 0);
	it = uma_zalloc(p.sec, M_WAITOK);
	CHECK(it != NULL);
	/* Items came out of the keg into the secondary: zinit ran. */
	CHECK(atomic_load(&sec_init_ok) >= 1);
	CHECK_EQ(atomic_load(&sec_fini_calls), 0);
	uma_zfree(p.sec, it);
	b = zstat(p.sec);
	CHECK_EQ(atomic_load(&sec_init_ok), b.zs_zone_free + b.zs_cpu_free);
	/* An item cached in the zone is handed out again without a zinit. */
	before = atomic_load(&sec_init_ok);
	if (b.zs_cpu_free > 0) {
		it = uma_zalloc(p.sec, M_WAITOK);
		CHECK(it != NULL);
		CHECK_EQ(atomic_load(&sec_init_ok), before);
		uma_zfree(p.sec, it);
	}
	/* The primary never runs the secondary's init. */
	for (int i = 0; i < 50; i++)
		pair_alloc(&p, 0);
	CHECK_EQ(atomic_load(&sec_init_ok), before);
	while (p.nheld[0] > 0)
		pair_free(&p, 0, p.nheld[0] - 1);
	/* Going back to the keg runs the zfini once per cached item. */
	uma_zone_reclaim(p.sec, UMA_RECLAIM_DRAIN_CPU);
	b = zstat(p.sec);
	CHECK_EQ(b.zs_zone_free + b.zs_cpu_free, 0);
	CHECK_EQ(atomic_load(&sec_fini_calls), before);
	uma_zdestroy(p.sec);
	uma_zdestroy(p.prim);
}

UMA_TEST(zone_secondary_destroy_keeps_primary_working)
{
	static struct pair p;
	void *a, *b;

	test_pin_one_cpu();
	pair_create(&p);
	a = uma_zalloc(p.prim, M_WAITOK);
	b = uma_zalloc(p.sec, M_WAITOK);
	CHECK(a != NULL && b != NULL && a != b);
	uma_zfree(p.sec, b);
	uma_zdestroy(p.sec);
	CHECK_EQ(atomic_load(&sec_init_ok), atomic_load(&sec_fini_calls));
	b = uma_zalloc(p.prim, M_WAITOK);
	CHECK(b != NULL && b != a);
	uma_zfree(p.prim, a);
	uma_zfree(p.prim, b);
	uma_zdestroy(p.prim);
	CHECK_EQ(atomic_load(&keg_init_ok), atomic_load(&keg_fini_calls));
}
