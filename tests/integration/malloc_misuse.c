/*
 * malloc_misuse.c - misuse of typed malloc is caught, explained and fatal:
 * double free, free of a stack pointer, of the inside of an allocation, of
 * a zone item, realloc of a freed pointer, contigfree with a wrong size
 * (public API only).
 */
#include <stdint.h>
#include <stdlib.h>

#include <uma/malloc.h>

#include "harness.h"
#include "memguard_test.h"

/*
 * What is tested is uma's own diagnosis of a misuse, which MemGuard gives
 * in its own words for a sampled object: no MemGuard samples
 * (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

MALLOC_DEFINE(M_MISUSE, "misuse", "misuse tests");

static void
double_free(void *arg)
{
	void *p = uma_malloc(100, M_MISUSE, M_WAITOK);

	uma_free(p, M_MISUSE);
	uma_free(p, M_MISUSE);
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
}

UMA_TEST(malloc_double_free_aborts)
{
	static const char *const n[] = { "malloc-112", "double free", NULL };

	CHECK(expect_abort(double_free, NULL, n));
}

static void
double_free_large(void *arg)
{
	void *p = uma_malloc(1 << 20, M_MISUSE, M_WAITOK);

	uma_free(p, M_MISUSE);
	uma_free(p, M_MISUSE);
}

UMA_TEST(malloc_double_free_of_large_aborts)
{
	static const char *const n[] = { "free", "not allocated by uma",
	    NULL };

	CHECK(expect_abort(double_free_large, NULL, n));
}

static void
free_stack(void *arg)
{
	char buf[64];

	uma_free(buf, M_MISUSE);
}

UMA_TEST(malloc_free_of_stack_pointer_aborts)
{
	static const char *const n[] = { "free", "outside its arena", NULL };

	CHECK(expect_abort(free_stack, NULL, n));
}

static void
free_inside(void *arg)
{
	char *p = uma_malloc(1000, M_MISUSE, M_WAITOK);

	uma_free(p + 16, M_MISUSE);
}

UMA_TEST(malloc_free_inside_an_allocation_aborts)
{
	static const char *const n[] = { "free", "inside an allocation",
	    NULL };

	CHECK(expect_abort(free_inside, NULL, n));
}

static void
free_zone_item(void *arg)
{
	uma_zone_t z = uma_zcreate("not-malloc", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	uma_free(uma_zalloc(z, M_WAITOK), M_MISUSE);
}

UMA_TEST(malloc_free_of_zone_item_aborts)
{
	static const char *const n[] = { "free", "not a malloc zone", NULL };

	CHECK(expect_abort(free_zone_item, NULL, n));
}

static void
realloc_freed(void *arg)
{
	void *p = uma_malloc(100, M_MISUSE, M_WAITOK);

	uma_free(p, M_MISUSE);
	p = uma_realloc(p, 1000, M_MISUSE, M_WAITOK);
}

UMA_TEST(malloc_realloc_of_freed_pointer_aborts)
{
	static const char *const n[] = { "double free", NULL };

	CHECK(expect_abort(realloc_freed, NULL, n));
}

static void
contigfree_wrong_size(void *arg)
{
	void *p = contigmalloc(8192, M_MISUSE, M_WAITOK, 0, UINTPTR_MAX, 0, 0);

	contigfree(p, 20000, M_MISUSE);
}

UMA_TEST(contigfree_with_wrong_size_aborts)
{
	static const char *const n[] = { "contigfree", "size does not match",
	    NULL };

	CHECK(expect_abort(contigfree_wrong_size, NULL, n));
}
