/*
 * preload_sized.c - frees that are told the size, under libuma-malloc.so:
 * C23's free_sized and free_aligned_sized, and C++'s operator delete in
 * all its forms (the mangled names a C++ program calls; g++ passes the
 * size by default since C++14).  Each resolves to uma's, frees into the
 * block's own class whatever size it is told (a wrong size is not a
 * corruption), and a double free still aborts with uma's message.  The
 * functions are looked up by name: glibc 2.36 declares no free_sized and
 * a C program cannot name operator delete.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memguard_test.h"

typedef void sized_fn(void *, size_t);
typedef void plain_fn(void *);

static void *volatile sink;

/* name's definition, which must be libuma-malloc.so's. */
static void *
uma_sym(const char *name)
{
	Dl_info info;
	void *f = dlsym(RTLD_DEFAULT, name);

	CHECK(f != NULL);
	CHECK(dladdr(f, &info) != 0);
	if (strstr(info.dli_fname, "libuma-malloc") == NULL) {
		fprintf(stderr, "%s is %s's\n", name, info.dli_fname);
		CHECK(0);
	}
	return (f);
}

UMA_TEST(preload_sized_free_names_are_uma)
{
	static const char *const names[] = { "free_sized",
	    "free_aligned_sized", "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm",
	    "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
	    "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
	    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
	    "_ZdlPvSt11align_val_tRKSt9nothrow_t",
	    "_ZdaPvSt11align_val_tRKSt9nothrow_t" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)uma_sym(names[i]);
}

/*
 * Blocks of every small size and a few large ones, filled with a pattern
 * of their own, freed with their size in a shuffled order while the
 * others are checked: nothing freed early, nothing overwritten.
 */
static void
sized_round_trip(const char *name)
{
	enum { N = 3000 };
	sized_fn *fsized = (sized_fn *)uma_sym(name);
	static unsigned char *p[N];
	static size_t sz[N];
	unsigned seed = 7;

	for (int i = 0; i < N; i++) {
		sz[i] = i < N - 8 ? 1 + (size_t)i % 2100 : (size_t)(64 + i) << 10;
		CHECK((p[i] = malloc(sz[i])) != NULL);
		memset(p[i], (int)(i * 31 + 7) & 0xff, sz[i]);
	}
	for (int i = N - 1; i > 0; i--) {
		int j = (int)((seed = seed * 1103515245 + 12345) >> 8) % (i + 1);
		unsigned char *tp = p[i];
		size_t ts = sz[i];

		p[i] = p[j], sz[i] = sz[j];
		p[j] = tp, sz[j] = ts;
	}
	for (int i = 0; i < N; i++) {
		/* Its pattern is whatever byte it starts with, all through. */
		for (size_t k = 1; k < sz[i]; k++)
			if (p[i][k] != p[i][0]) {
				fprintf(stderr, "block %d byte %zu\n", i, k);
				CHECK(0);
			}
		fsized(p[i], sz[i]);
	}
}

UMA_TEST(preload_free_sized_round_trip)
{
	sized_round_trip("free_sized");
}

UMA_TEST(preload_sized_delete_round_trip)
{
	sized_round_trip("_ZdlPvm");
	sized_round_trip("_ZdaPvm");
}

/*
 * A wrong size frees the block into its own class: had the size been
 * trusted, a 100-byte block told 17 would sit in the 32-byte class's
 * cache and be the next malloc(17).
 */
UMA_TEST(preload_sized_free_wrong_size_keeps_class)
{
	static const char *const names[] = { "free_sized", "_ZdlPvm" };

	for (size_t n = 0; n < 2; n++) {
		sized_fn *fsized = (sized_fn *)uma_sym(names[n]);
		void *p, *q[1000];

		CHECK((p = malloc(100)) != NULL);
		fsized(p, 17);
		for (int i = 0; i < 1000; i++) {
			CHECK((q[i] = malloc(17)) != NULL);
			CHECK(q[i] != p);
		}
		for (int i = 0; i < 1000; i++)
			free(q[i]);
		/* realloc shrank in place: its size is legitimately smaller. */
		CHECK((p = malloc(1000)) != NULL);
		CHECK((p = realloc(p, 900)) != NULL);
		fsized(p, 900);
	}
}

static void
double_sized(void *arg)
{
	sized_fn *fsized = (sized_fn *)uma_sym(arg);
	void *p = malloc(40);

	sink = p;
	fsized(p, 40);
	fsized(p, 40);
}

UMA_TEST(preload_sized_double_free_aborts)
{
	static const char *const n[] = { "malloc-48", "double free", NULL };

	memguard_off();		/* uma's own words, not MemGuard's */
	CHECK(expect_abort(double_sized, "free_sized", n));
	CHECK(expect_abort(double_sized, "_ZdlPvm", n));
}

static void
delete_stack(void *arg)
{
	plain_fn *del = (plain_fn *)uma_sym("_ZdlPv");
	char buf[32];

	sink = buf;
	del(sink);
}

UMA_TEST(preload_delete_of_stack_pointer_aborts)
{
	static const char *const n[] = { "free(", "not allocated by uma",
	    NULL };

	CHECK(expect_abort(delete_stack, NULL, n));
}
