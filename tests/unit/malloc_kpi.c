/*
 * malloc_kpi.c - the malloc(9) KPI beyond malloc/free: mallocarray,
 * zfree, malloc_size, malloc_type_allocated/freed, malloc_type_list,
 * malloc_desc2type and M_NODUMP, each against FreeBSD's malloc(9), with
 * pattern-filled memory and the type statistics checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uma/malloc.h>

#include "harness.h"
#include "malloc_int.h"

MALLOC_DEFINE(M_KPI_A, "kpi_a", "a type of this test");
MALLOC_DEFINE(M_KPI_B, "kpi_b", "another type of this test");

static unsigned char
pat(size_t i)
{
	return ((unsigned char)(i * 13 + 5));
}

static void
fill(void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)p)[i] = pat(i);
}

static int
check_fill(const void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((const unsigned char *)p)[i] != pat(i))
			return (0);
	return (1);
}

static struct malloc_type_totals
totals(struct malloc_type *mtp)
{
	struct malloc_type_totals tt;

	uma__malloc_type_totals(mtp, &tt);
	return (tt);
}

UMA_TEST(malloc_mallocarray_allocates_the_product)
{
	static const size_t dims[][2] = { { 0, 8 }, { 1, 1 }, { 10, 24 },
	    { 3, 1000 }, { 1000, 70 }, { 7, 20000 } };
	struct malloc_type_totals before, after;
	void *p;

	before = totals(M_KPI_A);
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		size_t bytes = dims[i][0] * dims[i][1];

		p = mallocarray(dims[i][0], dims[i][1], M_KPI_A, M_WAITOK);
		CHECK(p != NULL);
		CHECK(uma_malloc_usable_size(p) >= bytes);
		CHECK_EQ(uma_malloc_usable_size(p), malloc_size(bytes));
		fill(p, bytes);
		CHECK(check_fill(p, bytes));
		uma_free(p, M_KPI_A);
	}
	p = mallocarray(100, 10, M_KPI_A, M_NOWAIT | M_ZERO);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(((unsigned char *)p)[i], 0);
	uma_free(p, M_KPI_A);
	after = totals(M_KPI_A);
	CHECK_EQ(after.mt_numallocs - before.mt_numallocs, 7);
	CHECK_EQ(after.mt_numfrees - before.mt_numfrees, 7);
}

static void
mallocarray_overflow(void *arg)
{
	(void)mallocarray(SIZE_MAX / 2 + 1, 2, M_KPI_A, *(int *)arg);
}

UMA_TEST(malloc_mallocarray_overflow_panics_whatever_the_flags)
{
	static const char *const needles[] = { "mallocarray: ",
	    " * 2 overflowed", NULL };
	int flags[] = { M_NOWAIT, M_WAITOK };

	for (int i = 0; i < 2; i++)
		CHECK(expect_abort(mallocarray_overflow, &flags[i], needles));
}

UMA_TEST(malloc_zfree_zeroes_a_large_allocation)
{
	struct malloc_type_totals before, after;
	unsigned char *p, *q;
	size_t len;

	before = totals(M_KPI_A);
	p = uma_malloc(100000, M_KPI_A, M_WAITOK);
	len = uma_malloc_usable_size(p);
	fill(p, len);
	zfree(p, M_KPI_A);
	after = totals(M_KPI_A);
	CHECK_EQ(after.mt_numfrees - before.mt_numfrees, 1);
	CHECK_EQ(after.mt_memfreed - before.mt_memfreed, len);
	/* The run comes back from the cache as it was left: zero. */
	q = uma_malloc(100000, M_KPI_A, M_WAITOK);
	CHECK(q == p);
	for (size_t i = 0; i < len; i++)
		CHECK_EQ(q[i], 0);
	/* uma_free does not zero: the same test tells them apart. */
	fill(q, len);
	uma_free(q, M_KPI_A);
	q = uma_malloc(100000, M_KPI_A, M_WAITOK);
	CHECK(q == p && check_fill(q, len));
	uma_free(q, M_KPI_A);
	zfree(NULL, M_KPI_A);
}

UMA_TEST(malloc_zfree_zeroes_a_size_class_item)
{
	unsigned char *p, *q;
	size_t len;

	test_pin_one_cpu();
	p = uma_malloc(100, M_KPI_A, M_WAITOK);
	len = uma_malloc_usable_size(p);
	CHECK_EQ(len, 112);
	fill(p, len);
	zfree(p, M_KPI_A);
	/* This CPU's cache hands the item straight back. */
	q = uma_malloc(100, M_KPI_A, M_WAITOK);
	CHECK(q == p);
#if UMA_DEBUG >= 2
	/* Debug builds trash what is freed: zeros would have been lost. */
	CHECK_EQ(*(uint32_t *)q, 0xdeadc0de);
#else
	for (size_t i = 0; i < len; i++)
		CHECK_EQ(q[i], 0);
#endif
	uma_free(q, M_KPI_A);
}

static void
zfree_stack(void *arg)
{
	int x;

	zfree(&x, M_KPI_A);
}

UMA_TEST(malloc_zfree_of_a_foreign_pointer_aborts)
{
	static const char *const needles[] = { "zfree(",
	    "not allocated by uma", NULL };

	CHECK(expect_abort(zfree_stack, NULL, needles));
}

UMA_TEST(malloc_size_is_what_malloc_gives)
{
	void *p;

	for (size_t size = 0; size < 300000; size = size * 5 / 4 + 7) {
		/* A run from the large cache may be longer: none cached. */
		uma_reclaim(UMA_RECLAIM_DRAIN);
		p = uma_malloc(size, M_KPI_B, M_WAITOK);
		CHECK_EQ(malloc_size(size), uma_malloc_usable_size(p));
		uma_free(p, M_KPI_B);
	}
	CHECK_EQ(malloc_size(0), 16);
	CHECK_EQ(malloc_size(65536), 65536);
	CHECK_EQ(malloc_size(65537), 65536 + 4096);
	CHECK_EQ(malloc_size(SIZE_MAX - 10), 0);
}

UMA_TEST(malloc_type_allocated_and_freed_count_in_the_type)
{
	struct malloc_type_totals tt;
	struct malloc_type *mtp = malloc_type_create("kpi_ext");

	CHECK(mtp != NULL);
	for (int i = 0; i < 3; i++)
		malloc_type_allocated(mtp, 1000);
	malloc_type_allocated(mtp, 0);		/* counts nothing */
	malloc_type_freed(mtp, 1000);
	tt = totals(mtp);
	CHECK_EQ(tt.mt_numallocs, 3);
	CHECK_EQ(tt.mt_numfrees, 1);
	CHECK_EQ(tt.mt_memalloced, 3000);
	CHECK_EQ(tt.mt_memfreed, 1000);
	CHECK_EQ(tt.mt_sizemask, 0);		/* no size class used */
	malloc_type_freed(mtp, 1000);
	malloc_type_freed(mtp, 1000);
	tt = totals(mtp);
	CHECK_EQ(tt.mt_numallocs - tt.mt_numfrees, 0);
	CHECK_EQ(tt.mt_memalloced - tt.mt_memfreed, 0);
	malloc_type_destroy(mtp);
	CHECK(malloc_desc2type("kpi_ext") == NULL);
}

struct list_state {
	int			 n, a, b;
	struct malloc_type	*made;
};

static void
list_visit(struct malloc_type *mtp, void *arg)
{
	struct list_state *st = arg;

	CHECK_EQ(mtp->ks_magic, M_MAGIC);
	st->n++;
	st->a += mtp == M_KPI_A;
	st->b += mtp == M_KPI_B;
	/* The list lock is not held: types can be made and looked up. */
	if (st->made == NULL) {
		st->made = malloc_type_create("kpi_made_in_walk");
		CHECK(st->made != NULL);
	}
	CHECK(malloc_desc2type(mtp->ks_shortdesc) != NULL);
}

UMA_TEST(malloc_type_list_visits_every_type_once)
{
	struct list_state st = { 0 };
	int before;

	uma_free(uma_malloc(8, M_KPI_A, M_WAITOK), M_KPI_A);
	before = uma__malloc_count();
	malloc_type_list(list_visit, &st);
	CHECK_EQ(st.n, before);			/* the list as it was */
	CHECK_EQ(st.a, 1);
	CHECK_EQ(st.b, 1);
	CHECK_EQ(uma__malloc_count(), before + 1);
	CHECK(malloc_desc2type("kpi_made_in_walk") == st.made);
	malloc_type_destroy(st.made);
}

UMA_TEST(malloc_desc2type_finds_types_by_name)
{
	struct malloc_type *mtp;

	CHECK(malloc_desc2type("kpi_a") == M_KPI_A);
	CHECK(malloc_desc2type("kpi_b") == M_KPI_B);
	CHECK(malloc_desc2type("kpi_") == NULL);
	CHECK(malloc_desc2type("no such type") == NULL);
	mtp = malloc_type_create("kpi_runtime");
	CHECK(malloc_desc2type("kpi_runtime") == mtp);
	malloc_type_destroy(mtp);
	CHECK(malloc_desc2type("kpi_runtime") == NULL);
}

UMA_TEST(malloc_nodump_keeps_large_allocations_out_of_core_dumps)
{
	void *p, *q, *small, *c;

	p = uma_malloc(200000, M_KPI_A, M_WAITOK | M_NODUMP);
	q = uma_malloc(200000, M_KPI_A, M_WAITOK);
	small = uma_malloc(5000, M_KPI_A, M_WAITOK | M_NODUMP);
	fill(p, 200000);
	CHECK_EQ(test_dontdump(p), 1);
	CHECK_EQ(test_dontdump((char *)p + 199999), 1);
	CHECK_EQ(test_dontdump(q), 0);
	CHECK_EQ(test_dontdump(small), 0);	/* shares its pages: ignored */
	CHECK(check_fill(p, 200000));
	uma_free(p, M_KPI_A);
	CHECK_EQ(test_dontdump(p), 0);	/* freed: dumped again */
	/* Reused from the cache without M_NODUMP: dumped. */
	p = uma_malloc(200000, M_KPI_A, M_WAITOK);
	CHECK_EQ(test_dontdump(p), 0);
	c = contigmalloc(3 * 4096, M_KPI_B, M_WAITOK | M_NODUMP, 0, ~0UL,
	    4096, 0);
	CHECK(c != NULL);
	CHECK_EQ(test_dontdump(c), 1);
	contigfree(c, 3 * 4096, M_KPI_B);
	CHECK_EQ(test_dontdump(c), 0);
	uma_free(p, M_KPI_A);
	uma_free(q, M_KPI_A);
	uma_free(small, M_KPI_A);
}
