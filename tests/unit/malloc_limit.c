/*
 * malloc_limit.c - a limit set on a malloc class zone (uma_zone_set_max,
 * or the zone's limit.max_items sysctl) holds for uma_malloc: M_NOWAIT
 * fails at it, M_WAITOK sleeps, and a uma_free wakes the sleeper.  The
 * class zones' hit paths do not read the zone's uz_gate, so this checks
 * that a free still reaches the keg while a thread sleeps, and that a
 * free which went to a CPU cache just before the thread slept (so woke no
 * one) does not leave it asleep for good.  While the thread sleeps,
 * uma__class_free_span shuts the arena to the class free hit path.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"
#include "malloc_int.h"
#include "vm.h"
#include "zone_fast.h"

MALLOC_DEFINE(M_LIMIT, "limit_test", "class zone limit");

#define	MAXITEMS	4096

static void *items[MAXITEMS * 2];
static _Atomic int woke;

static void *
sleeper(void *arg)
{
	void *p = uma_malloc(64, M_LIMIT, M_WAITOK);

	CHECK(p != NULL);
	atomic_store(&woke, 1);
	uma_free(p, M_LIMIT);
	return (NULL);
}

/* The 64-byte class zone, limited and filled up to its limit. */
static uma_zone_t
fill_to_limit(int *np)
{
	uma_zone_t zone;
	int n = 0;

	/*
	 * One CPU for this thread and the sleeper it starts (which inherits
	 * the mask): moved mid-fill, the filler left items in the first
	 * CPU's cache, which a sleeper there took instead of sleeping (TSan
	 * under load, once).
	 */
	test_pin_one_cpu();
	uma__malloc_startup();
	zone = uma__malloc_class_zone(uma__malloc_class(64));
	uma_zone_set_max(zone, MAXITEMS);
	/* Up to the limit (cached items count against it too). */
	while (n < MAXITEMS * 2 &&
	    (items[n] = uma_malloc(64, M_LIMIT, M_NOWAIT)) != NULL)
		n++;
	CHECK(n > 0 && n <= MAXITEMS);
	/* At the limit, but exhausted only once a thread sleeps there. */
	CHECK_EQ(atomic_load(&zone->uz_items), MAXITEMS);
	CHECK(!uma_zone_exhausted(zone));
	atomic_store(&woke, 0);
	*np = n;
	return (zone);
}

/* Wait up to 5 s for the sleeper to get its item; free everything. */
static void
finish(uma_zone_t zone, pthread_t td, int n)
{
	for (int i = 0; i < 5000 && atomic_load(&woke) == 0; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&woke), 1);
	CHECK(pthread_join(td, NULL) == 0);
	while (n > 0)
		uma_free(items[--n], M_LIMIT);
	uma_zone_set_max(zone, 0);
}

UMA_TEST(malloc_class_zone_limit_sleeps_and_a_free_wakes_it)
{
	uma_zone_t zone;
	pthread_t td;
	int n;

	zone = fill_to_limit(&n);
	CHECK(pthread_create(&td, NULL, sleeper, NULL) == 0);
	/* Wait until it sleeps at the limit, then free one item. */
	for (int i = 0; i < 5000 && atomic_load(&zone->uz_sleepers) == 0;
	    i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&zone->uz_sleepers), 1u);
	CHECK(uma_zone_exhausted(zone));
	/* The gate: no free of the arena takes a class hit path now. */
	CHECK_EQ(atomic_load(&uma__class_free_span), 0);
	CHECK_EQ(atomic_load(&woke), 0);
	uma_free(items[--n], M_LIMIT);
	finish(zone, td, n);
	CHECK_EQ(atomic_load(&zone->uz_sleepers), 0u);
	CHECK_EQ(atomic_load(&uma__class_free_span), uma_vm_size);
}

UMA_TEST(malloc_class_zone_sleeper_finds_an_item_freed_before_it_slept)
{
	uma_zone_t zone;
	pthread_t td;
	int n;

	zone = fill_to_limit(&n);
	/* No one sleeps yet: this free feeds this CPU's cache. */
	uma_free(items[--n], M_LIMIT);
	CHECK(pthread_create(&td, NULL, sleeper, NULL) == 0);
	finish(zone, td, n);
}
