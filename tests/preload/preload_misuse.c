/*
 * preload_misuse.c - misuse through malloc(3) under libuma-malloc.so is
 * reported with a clear message and aborts: double free, free of a stack
 * pointer, free of a foreign (mmap'd) pointer, realloc of a freed pointer.
 */
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>

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

static void *volatile sink;

static void
double_free(void *arg)
{
	char *p = malloc(40);

	sink = p;
	free(p);
	free(p);
}

UMA_TEST(preload_double_free_aborts)
{
	static const char *const n[] = { "malloc-48", "double free", NULL };

	CHECK(expect_abort(double_free, NULL, n));
}

static void
free_stack(void *arg)
{
	char buf[32];

	sink = buf;
	free(sink);
}

UMA_TEST(preload_free_of_stack_pointer_aborts)
{
	static const char *const n[] = { "free(", "not allocated by uma",
	    NULL };

	CHECK(expect_abort(free_stack, NULL, n));
}

static void
free_foreign(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	free(p);
}

UMA_TEST(preload_free_of_foreign_pointer_aborts)
{
	static const char *const n[] = { "free(", "not allocated by uma",
	    NULL };

	CHECK(expect_abort(free_foreign, NULL, n));
}

static void
realloc_freed(void *arg)
{
	char *p = malloc(100);

	free(p);
	sink = realloc(p, 2000);
}

UMA_TEST(preload_realloc_of_freed_pointer_aborts)
{
	static const char *const n[] = { "double free", NULL };

	CHECK(expect_abort(realloc_freed, NULL, n));
}

UMA_TEST(preload_allocation_functions_behave)
{
	volatile size_t huge = SIZE_MAX / 2;
	void *p;
	char *s;

	CHECK(posix_memalign(&p, 4096, 100) == 0 &&
	    ((uintptr_t)p & 4095) == 0);
	free(p);
	CHECK(posix_memalign(&p, 3, 100) != 0);
	p = aligned_alloc(256, 1000);
	CHECK(((uintptr_t)p & 255) == 0);
	free(p);
	p = valloc(10);
	CHECK(((uintptr_t)p & 4095) == 0);
	free(p);
	p = calloc(1000, 1000);
	CHECK(((char *)p)[999999] == 0);
	free(p);
	CHECK(calloc(huge, 4) == NULL);
	s = strdup("hello");
	CHECK(strcmp(s, "hello") == 0);
	CHECK(malloc_usable_size(s) >= 6);
	free(s);
	p = malloc(10);
	CHECK(realloc(p, 0) == NULL);
	p = reallocarray(NULL, 10, 10);
	CHECK(p != NULL);
	free(p);
}
