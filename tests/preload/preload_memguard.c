/*
 * preload_memguard.c - MemGuard under the malloc(3) interposer, for an
 * unmodified program (run with LD_PRELOAD=libuma-malloc.so and
 * UMA_TUNABLES=vm.memguard.desc=libc): every malloc is guarded, and a
 * write or read after free, an overrun and a double free each end in a
 * report naming the type "libc" and the function that allocated.  The
 * program does not link uma: is_memguard_addr is found in the preloaded
 * library (a weak reference), and -rdynamic names its functions.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int	is_memguard_addr(void *addr) __attribute__((weak));

__attribute__((noinline)) char *
mg_preload_alloc(size_t size)
{
	char *p = malloc(size);

	CHECK(p != NULL);
	CHECK(is_memguard_addr != NULL && is_memguard_addr(p));
	return (p);
}

static void
poke(char *p, ptrdiff_t off)
{
	((volatile char *)p)[off] = 1;
}

static char
peek(const char *p, ptrdiff_t off)
{
	return (((const volatile char *)p)[off]);
}

static void
write_after_free(void *arg)
{
	char *p = mg_preload_alloc(100);

	free(p);
	poke(p, 50);
}

UMA_TEST(preload_memguard_write_after_free_reports)
{
	static const char *const n[] = { "use after free: write of",
	    "at offset 50 of the 100-byte object", "malloc type \"libc\"",
	    "mg_preload_alloc", "freed by thread", NULL };

	CHECK(expect_abort(write_after_free, NULL, n));
}

static void
read_after_free(void *arg)
{
	char *p = mg_preload_alloc(33);

	free(p);
	(void)peek(p, 0);
}

UMA_TEST(preload_memguard_read_after_free_reports)
{
	static const char *const n[] = { "use after free: read of",
	    "at offset 0 of the 33-byte object", "malloc type \"libc\"",
	    "mg_preload_alloc", NULL };

	CHECK(expect_abort(read_after_free, NULL, n));
}

static void
overrun(void *arg)
{
	char *p = mg_preload_alloc(100);

	/* malloc_usable_size is the size asked for: nothing to round up. */
	CHECK(malloc_usable_size(p) == 100);
	poke(p, 100);
	free(p);
}

UMA_TEST(preload_memguard_overrun_reports)
{
	static const char *const n[] = { "overrun: write of",
	    "at offset 100 of the 100-byte object", "(1 byte past its end)",
	    "mg_preload_alloc", NULL };

	CHECK(expect_abort(overrun, NULL, n));
}

static void
double_free(void *arg)
{
	char *p = mg_preload_alloc(16);

	free(p);
	free(p);
}

UMA_TEST(preload_memguard_double_free_reports)
{
	static const char *const n[] = { "double free: free(",
	    "the 16-byte object", "malloc type \"libc\"", "already freed",
	    NULL };

	CHECK(expect_abort(double_free, NULL, n));
}

/* calloc, realloc, posix_memalign: guarded too, and they work. */
UMA_TEST(preload_memguard_every_entry_point_is_guarded)
{
	char *c = calloc(10, 10), *r;
	void *a = NULL;

	CHECK(c != NULL && is_memguard_addr(c));
	for (int i = 0; i < 100; i++)
		CHECK(c[i] == 0);
	memset(c, 'x', 100);
	r = realloc(c, 3000);
	CHECK(r != NULL && is_memguard_addr(r));
	CHECK(r[0] == 'x' && r[99] == 'x');
	CHECK(posix_memalign(&a, 256, 1000) == 0);
	CHECK(a != NULL && is_memguard_addr(a));
	CHECK_EQ((uintptr_t)a % 256, 0);
	free(r);
	free(a);
}
