/*
 * counter_early.c - COUNTER_U64_DEFINE_EARLY: a counter defined at file
 * scope exists, zeroed, before main, and counts.  A program of its own:
 * the definition starts uma before main in every process of the test
 * harness, which under ThreadSanitizer must then create no thread in a
 * forked test (its record of the parent's threads outlives the fork).
 */
#include <uma/counter.h>

#include "harness.h"

COUNTER_U64_DEFINE_EARLY(early_counter);

static uint64_t seen_before_main = UINT64_MAX;

/* After the definition, so after its constructor (same file, same priority). */
__attribute__((constructor)) static void
look_before_main(void)
{
	if (early_counter != NULL)
		seen_before_main = counter_u64_fetch(early_counter);
}

UMA_TEST(counter_early_is_there_before_main_and_counts)
{
	CHECK(early_counter != NULL);
	CHECK_EQ(seen_before_main, 0);
	counter_u64_add_protected(early_counter, 42);
	counter_u64_add(early_counter, -2);
	CHECK_EQ(counter_u64_fetch(early_counter), 40);
	counter_u64_zero(early_counter);
	CHECK_EQ(counter_u64_fetch(early_counter), 0);
	counter_u64_free(early_counter);
}
