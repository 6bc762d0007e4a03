/*
 * zone_misuse.c - freeing wrongly is caught, named and fatal: a double
 * free, a free to the wrong zone, and a free of a pointer uma never gave
 * each abort with a message that names the zone (public API only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"

/*
 * What is tested is uma's own diagnosis of a misuse, which MemGuard gives
 * in its own words for a sampled item: no MemGuard samples
 * (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

static uma_zone_t
zone_make(const char *name, size_t size)
{
	uma_zone_t z = uma_zcreate(name, size, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	if (z == NULL)
		abort();	/* would not match the expected message */
	return (z);
}

/* ---- double free ------------------------------------------------------ */

static void
double_free_adjacent(void *arg)
{
	uma_zone_t z = zone_make("misuse-dbl", 64);
	void *p = uma_zalloc(z, M_WAITOK);

	uma_zfree(z, p);
	uma_zfree(z, p);
	/* Caught no later than when the item would go back to its slab. */
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_double_free_aborts_naming_zone)
{
	static const char *const needles[] = { "misuse-dbl", "double free",
	    NULL };

	CHECK(expect_abort(double_free_adjacent, NULL, needles));
}

static void
double_free_nonadjacent(void *arg)
{
	uma_zone_t z = zone_make("misuse-dbl-far", 128);
	void *p = uma_zalloc(z, M_WAITOK);
	void *q = uma_zalloc(z, M_WAITOK);

	uma_zfree(z, p);
	uma_zfree(z, q);
	uma_zfree(z, p);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_nonadjacent_double_free_aborts_by_drain)
{
	static const char *const needles[] = { "misuse-dbl-far",
	    "double free", NULL };

	CHECK(expect_abort(double_free_nonadjacent, NULL, needles));
}

/* With no caches the item goes straight back to the slab: caught at once. */
static void
double_free_nobucket(void *arg)
{
	uma_zone_t z = uma_zcreate("misuse-dbl-nobucket", 32, NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);
	void *p = uma_zalloc(z, M_WAITOK);
	void *q = uma_zalloc(z, M_WAITOK);

	uma_zfree(z, p);
	uma_zfree(z, q);
	uma_zfree(z, p);
}

UMA_TEST(zone_misuse_double_free_nobucket_aborts_immediately)
{
	static const char *const needles[] = { "misuse-dbl-nobucket",
	    "double free", NULL };

	CHECK(expect_abort(double_free_nobucket, NULL, needles));
}

/* A double free of an item that sits in another slab than the last one. */
static void
double_free_after_many(void *arg)
{
	uma_zone_t z = zone_make("misuse-dbl-many", 256);
	void *v[500];

	for (int i = 0; i < 500; i++)
		v[i] = uma_zalloc(z, M_WAITOK);
	for (int i = 0; i < 500; i++)
		uma_zfree(z, v[i]);
	uma_zfree(z, v[17]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_double_free_among_many_aborts_by_reclaim)
{
	static const char *const needles[] = { "misuse-dbl-many",
	    "double free", NULL };

	CHECK(expect_abort(double_free_after_many, NULL, needles));
}

/* ---- wrong zone ------------------------------------------------------- */

static void
free_to_wrong_zone(void *arg)
{
	size_t beta_size = (size_t)(uintptr_t)arg;
	uma_zone_t alpha = zone_make("alpha", 64);
	uma_zone_t beta = zone_make("beta", beta_size);
	void *p = uma_zalloc(alpha, M_WAITOK);
	void *q = uma_zalloc(beta, M_WAITOK);

	uma_zfree(beta, q);
	uma_zfree(beta, p);
	uma_zone_reclaim(beta, UMA_RECLAIM_DRAIN);
	uma_zone_reclaim(alpha, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_free_to_wrong_zone_same_size_names_both)
{
	static const char *const needles[] = { "beta", "alpha", NULL };

	CHECK(expect_abort(free_to_wrong_zone, (void *)(uintptr_t)64,
	    needles));
}

UMA_TEST(zone_misuse_free_to_wrong_zone_other_size_names_both)
{
	static const char *const needles[] = { "beta", "alpha", NULL };

	CHECK(expect_abort(free_to_wrong_zone, (void *)(uintptr_t)512,
	    needles));
}

/* An item of a secondary zone freed to a zone on another keg. */
static void
free_secondary_item_to_other_keg(void *arg)
{
	uma_zone_t alpha = zone_make("alpha", 96);
	uma_zone_t sec = uma_zsecond_create("alpha-sec", NULL, NULL, NULL,
	    NULL, alpha);
	uma_zone_t beta = zone_make("beta", 96);
	void *p = uma_zalloc(sec, M_WAITOK);

	uma_zfree(beta, p);
	uma_zone_reclaim(beta, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_free_secondary_item_to_stranger_names_both)
{
	static const char *const needles[] = { "beta", "alpha", NULL };

	CHECK(expect_abort(free_secondary_item_to_other_keg, NULL, needles));
}

/* ---- pointers uma never gave ------------------------------------------ */

static void
free_stack_pointer(void *arg)
{
	uma_zone_t z = zone_make("misuse-never-stack", 64);
	char local[64];
	void *p = uma_zalloc(z, M_WAITOK);

	memset(local, 0, sizeof(local));
	uma_zfree(z, local);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	uma_zfree(z, p);
}

UMA_TEST(zone_misuse_free_of_stack_pointer_aborts_never)
{
	static const char *const needles[] = { "misuse-never-stack", "never",
	    NULL };

	CHECK(expect_abort(free_stack_pointer, NULL, needles));
}

static void
free_malloc_pointer(void *arg)
{
	uma_zone_t z = zone_make("misuse-never-malloc", 64);
	void *m = malloc(64);

	uma_zfree(z, m);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_free_of_malloc_pointer_aborts_never)
{
	static const char *const needles[] = { "misuse-never-malloc", "never",
	    NULL };

	CHECK(expect_abort(free_malloc_pointer, NULL, needles));
}

static void
free_interior_pointer(void *arg)
{
	uma_zone_t z = zone_make("misuse-never-interior", 64);
	char *p = uma_zalloc(z, M_WAITOK);

	uma_zfree(z, p + 1);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_free_of_item_plus_one_aborts_never)
{
	static const char *const needles[] = { "misuse-never-interior",
	    "never", NULL };

	CHECK(expect_abort(free_interior_pointer, NULL, needles));
}

/* A pointer inside a slab but past the last item (the header, the pad). */
static void
free_slab_tail_pointer(void *arg)
{
	uma_zone_t z = zone_make("misuse-never-tail", 1000);
	char *p = uma_zalloc(z, M_WAITOK);
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;

	/* The last 8 bytes of the item's page hold no item start. */
	uma_zfree(z, (void *)(page + 4096 - 8));
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
}

UMA_TEST(zone_misuse_free_of_pointer_past_items_aborts_never)
{
	static const char *const needles[] = { "misuse-never-tail", "never",
	    NULL };

	CHECK(expect_abort(free_slab_tail_pointer, NULL, needles));
}

/* ---- and correct use does not abort ----------------------------------- */

UMA_TEST(zone_misuse_correct_use_passes_all_checks)
{
	uma_zone_t a = zone_make("alpha", 64), b = zone_make("beta", 64);
	uma_zone_t s = uma_zsecond_create("alpha-sec", NULL, NULL, NULL, NULL,
	    a);
	void *v[300];

	CHECK(s != NULL);
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 300; i++)
			CHECK((v[i] = uma_zalloc(i % 3 == 0 ? a : i % 3 == 1 ?
			    b : s, M_WAITOK)) != NULL);
		for (int i = 299; i >= 0; i--)
			uma_zfree(i % 3 == 0 ? a : i % 3 == 1 ? b : s, v[i]);
		uma_reclaim(UMA_RECLAIM_DRAIN);
	}
	uma_zfree(a, NULL);
	uma_zdestroy(s);
	uma_zdestroy(a);
	uma_zdestroy(b);
}
