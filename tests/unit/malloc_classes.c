/*
 * malloc_classes.c - typed malloc's size classes, usable sizes, alignment,
 * realloc semantics and large allocations.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <uma/sysctl.h>

#include "harness.h"
#include "memguard_test.h"
#include "malloc_fast.h"
#include "malloc_int.h"
#include "stats.h"

/*
 * What is tested is usable sizes and addresses the classes hand back: no
 * MemGuard samples (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

MALLOC_DEFINE(M_TEST, "test", "unit test type");

UMA_TEST(malloc_every_size_gets_the_smallest_class_that_fits)
{
	for (size_t size = 0; size <= MALLOC_MAXSIZE; size++) {
		int c = uma__malloc_class(size);

		if (c < 0 || c >= MALLOC_NCLASSES) {
			CHECK(!"class out of range");
			return;
		}
		CHECK(malloc_class_sizes[c] >= size);
		CHECK(c == 0 || malloc_class_sizes[c - 1] < size);
	}
	CHECK(uma__malloc_class(MALLOC_MAXSIZE + 1) == -1);
}

UMA_TEST(malloc_freebsd_classes_are_all_present)
{
	static const uint32_t fbsd[] = { 16, 32, 64, 128, 256, 384, 512, 1024,
	    2048, 4096, 8192, 16384, 32768, 65536 };

	for (size_t i = 0; i < nitems(fbsd); i++)
		CHECK(malloc_class_sizes[uma__malloc_class(fbsd[i])] ==
		    fbsd[i]);
}

UMA_TEST(malloc_usable_size_is_the_class_and_items_are_aligned)
{
	for (size_t size = 1; size <= 3 * MALLOC_MAXSIZE; size = size * 5 / 4 +
	    1) {
		char *p = uma_malloc(size, M_TEST, M_WAITOK);
		size_t u = uma_malloc_usable_size(p);

		CHECK(p != NULL);
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(u >= size);
		if (size <= MALLOC_MAXSIZE)
			CHECK_EQ(u, malloc_class_sizes[uma__malloc_class(size)]);
		else
			CHECK_EQ(u, roundup2(size, UMA_PAGE_SIZE));
		memset(p, 0xa5, u);
		uma_free(p, M_TEST);
	}
}

UMA_TEST(malloc_zero_flag_zeroes)
{
	for (int round = 0; round < 2; round++) {
		for (size_t size = 8; size <= 200000; size *= 3) {
			unsigned char *p = uma_malloc(size, M_TEST, M_ZERO);

			for (size_t i = 0; i < size; i++)
				CHECK(p[i] == 0);
			memset(p, 0xff, size);
			uma_free(p, M_TEST);
		}
	}
}

UMA_TEST(malloc_realloc_keeps_contents_and_pointer_when_it_fits)
{
	char *p = uma_malloc(100, M_TEST, M_WAITOK), *q;

	for (int i = 0; i < 100; i++)
		p[i] = (char)i;
	q = uma_realloc(p, 110, M_TEST, M_WAITOK);	/* same class (112) */
	CHECK(q == p);
	q = uma_realloc(p, 5000, M_TEST, M_WAITOK);
	CHECK(q != p);
	for (int i = 0; i < 100; i++)
		CHECK(q[i] == (char)i);
	p = uma_realloc(q, 300000, M_TEST, M_WAITOK);	/* to large */
	for (int i = 0; i < 100; i++)
		CHECK(p[i] == (char)i);
	q = uma_realloc(p, 290000, M_TEST, M_WAITOK);	/* same pages */
	CHECK(q == p);
	p = uma_realloc(q, 50, M_TEST, M_WAITOK);	/* shrinks: moves */
	CHECK(p != q);
	for (int i = 0; i < 50; i++)
		CHECK(p[i] == (char)i);
	CHECK_EQ(uma_malloc_usable_size(p), 64);
	p = uma_reallocf(p, 20, M_TEST, M_WAITOK);
	uma_free(p, M_TEST);
	p = uma_realloc(NULL, 10, M_TEST, M_WAITOK);
	CHECK(p != NULL);
	uma_free(p, M_TEST);
	uma_free(NULL, M_TEST);
}

UMA_TEST(malloc_aligned_honours_every_power_of_two)
{
	for (size_t align = 16; align <= (1u << 20); align <<= 1) {
		for (size_t size = 1; size < 200000; size = size * 3 + 7) {
			char *p = uma_malloc_aligned(size, align, M_TEST,
			    M_WAITOK);

			CHECK(p != NULL);
			CHECK(((uintptr_t)p & (align - 1)) == 0);
			CHECK(uma_malloc_usable_size(p) >= size);
			memset(p, 1, size);
			uma_free(p, M_TEST);
		}
	}
	errno = 0;
	CHECK(uma_malloc_aligned(10, 24, M_TEST, M_WAITOK) == NULL);
	CHECK(errno == EINVAL);
}

UMA_TEST(malloc_large_runs_are_page_aligned_and_reused)
{
	void *p[64];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 64; i++) {
			p[i] = uma_malloc(MALLOC_MAXSIZE + 1 + (size_t)i *
			    10000, M_TEST, M_WAITOK);
			CHECK(((uintptr_t)p[i] & UMA_PAGE_MASK) == 0);
			memset(p[i], i, MALLOC_MAXSIZE + 1);
		}
		for (int i = 0; i < 64; i++)
			uma_free(p[i], M_TEST);
	}
}

static int
count_named(uma_zone_t zone, void *arg)
{
	struct { const char *name; int n; } *c = arg;

	c->n += strcmp(uma_zone_name(zone), c->name) == 0;
	return (0);
}

static int
zones_named(const char *name)
{
	struct { const char *name; int n; } c = { name, 0 };

	uma__zone_foreach(count_named, &c, 0);
	return (c.n);
}

#define	RACERS	8

static pthread_barrier_t race_bar;

static void *
race_first_use(void *arg)
{
	void *p[16];

	(void)arg;
	pthread_barrier_wait(&race_bar);
	for (int i = 0; i < 16; i++)
		CHECK((p[i] = uma_malloc(49152, M_TEST, M_WAITOK)) != NULL);
	for (int i = 0; i < 16; i++)
		uma_free(p[i], M_TEST);
	return (NULL);
}

/*
 * A class zone is made at its class's first allocation, once, however
 * many threads race to make it; the classes nobody used have none.
 */
UMA_TEST(malloc_class_zone_is_made_once_at_first_use)
{
	int idx = uma__malloc_class(49152);
	pthread_t t[RACERS];

	CHECK(malloc_classes[idx].mc_zone == NULL);
	CHECK_EQ(zones_named("malloc-49152"), 0);
	pthread_barrier_init(&race_bar, NULL, RACERS);
	for (int i = 0; i < RACERS; i++)
		CHECK(pthread_create(&t[i], NULL, race_first_use, NULL) == 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(zones_named("malloc-49152"), 1);
	CHECK(malloc_classes[idx].mc_zone == uma__malloc_class_zone(idx));
	CHECK_EQ(zones_named("malloc-57344"), 0);
}

UMA_TEST(malloc_zones_are_named_like_freebsd)
{
	uma__malloc_startup();		/* types start uma at first use */
	for (int i = 0; i < MALLOC_NCLASSES; i++) {
		char want[32];

		snprintf(want, sizeof(want), "malloc-%u", malloc_class_sizes[i]);
		CHECK(strcmp(uma_zone_name(uma__malloc_class_zone(i)),
		    want) == 0);
	}
}

/*
 * free() takes the class from the page's tag: every page of a class slab
 * carries class + 1, its keg and its index in the slab while the slab
 * lives, and 0 once its pages go back; large runs carry 0, other zones'
 * pages their keg and class 0.
 */
UMA_TEST(malloc_pages_are_tagged_with_their_class_while_they_live)
{
	enum { N = 64 };
	static void *p[MALLOC_NCLASSES][N];
	uma_zone_t other;
	void *big, *item;

	for (int c = 0; c < MALLOC_NCLASSES; c++) {
		for (int i = 0; i < N; i++) {
			char *q = uma_malloc(malloc_class_sizes[c], M_TEST,
			    M_WAITOK);
			char *last = q + malloc_class_sizes[c] - 1;
			unsigned t = uma_vm_pagetag_of(q);
			uma_slab_t s = uma_vtoslab(q);

			p[c][i] = q;
			CHECK_EQ(UMA_PAGETAG_CLASS(t), (unsigned)c + 1);
			/* Every page of a multi-page slab: the last byte's. */
			CHECK_EQ(UMA_PAGETAG_CLASS(uma_vm_pagetag_of(last)),
			    (unsigned)c + 1);
			/* The page index finds the item's offset in its slab. */
			CHECK_EQ(((uintptr_t)q & UMA_PAGE_MASK) +
			    ((uintptr_t)UMA_PAGETAG_INDEX(t) << UMA_PAGE_SHIFT),
			    (uintptr_t)(q - s->us_data));
		}
	}
	big = uma_malloc(MALLOC_MAXSIZE + 1, M_TEST, M_WAITOK);
	CHECK_EQ(uma_vm_pagetag_of(big), 0u);
	other = uma_zcreate("tag test", 64, NULL, NULL, NULL, NULL, 0, 0);
	item = uma_zalloc(other, M_WAITOK);
	/* Another zone's page: its keg, no class. */
	CHECK_EQ(UMA_PAGETAG_CLASS(uma_vm_pagetag_of(item)), 0u);
	CHECK_EQ(UMA_PAGETAG_KEG(uma_vm_pagetag_of(item)),
	    (unsigned)other->uz_keg->uk_id);
	CHECK(other->uz_keg->uk_id != 0);
	uma_zfree(other, item);
	uma_zdestroy(other);
	uma_free(big, M_TEST);
	for (int c = 0; c < MALLOC_NCLASSES; c++)
		for (int i = 0; i < N; i++)
			uma_free(p[c][i], M_TEST);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	for (int c = 0; c < MALLOC_NCLASSES; c++)
		for (int i = 0; i < N; i++)
			CHECK(uma_vtoslab(p[c][i]) == NULL &&
			    uma_vm_pagetag_of(p[c][i]) == 0);
}

/*
 * free()'s item check: every byte offset a page tag can name (256 pages)
 * is accepted exactly when an item of the class starts there.
 */
UMA_TEST(malloc_item_check_accepts_exactly_the_item_starts)
{
	uma__malloc_startup();
	for (int c = 0; c < MALLOC_NCLASSES; c++) {
		uint64_t size = malloc_class_sizes[c];
		uint64_t bad = 0, limit;

		CHECK(uma__malloc_class_zone(c) != NULL);  /* sets mk_nitems */
		CHECK(malloc_check.mk_inv[c + 1] *
		    (size >> malloc_check.mk_rot[c + 1]) == 1);
		limit = malloc_check.mk_nitems[c + 1] * size;
		CHECK(limit > 0 && limit <= ((uint64_t)1 << 20));
		for (uint64_t off = 0; off < ((uint64_t)1 << 20); off++)
			if (malloc_class_offset_ok((unsigned)c + 1, off) !=
			    (off % size == 0 && off < limit))
				bad++;
		CHECK_EQ(bad, 0);
	}
}

/*
 * A class zone's bucket cache keeps at most vm.malloc.class_cache_mb MiB
 * of items: freeing more than that sends whole buckets back to the slabs,
 * and every item is still in exactly one place.
 */
UMA_TEST(malloc_class_cache_is_capped)
{
	enum { N = 6000 };
	static void *v[N];
	struct uma__zone_stat zs;
	int mb = 0, idx = uma__malloc_class(4096);
	size_t len = sizeof(mb);
	uint64_t cap, total;

	test_pin_one_cpu();
	CHECK(uma_sysctlbyname("vm.malloc.class_cache_mb", &mb, &len, NULL,
	    0) == 0);
	CHECK_EQ(mb, 8);
	cap = ((uint64_t)mb << 20) / 4096;
	CHECK(N > 2 * cap);
	for (int i = 0; i < N; i++)
		CHECK((v[i] = uma_malloc(4096, M_TEST, M_WAITOK)) != NULL);
	for (int i = 0; i < N; i++)
		uma_free(v[i], M_TEST);
	CHECK(uma__zone_stat(uma__malloc_class_zone(idx), &zs, NULL, 0) == 0);
	CHECK(zs.zs_zone_free <= cap);
	total = zs.zs_pages / zs.zs_ppera * zs.zs_ipers;
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free + zs.zs_keg_free +
	    (zs.zs_allocs - zs.zs_frees), total);
	CHECK(zs.zs_keg_free >= N - cap - zs.zs_cpu_free);
}
