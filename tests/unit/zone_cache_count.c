/*
 * zone_cache_count.c - a CPU cache's allocation count stays exact across
 * a wrap of its 40-bit field (uma_int.h, struct uma_cache) without help
 * from the trim thread: the pop that would wrap it takes the slow path,
 * which folds the count.  Both the rseq pop and the locked one.
 */
#include <sched.h>
#include <stdlib.h>

#include <uma/uma.h>

#include "harness.h"
#include "memguard_test.h"
#include "uma_int.h"
#include "zone_test.h"

/*
 * What is tested is the cache word's allocs field, which MemGuard's
 * countdown moves: no MemGuard samples (memguard_test.h).
 */
void
test_setup(void)
{
	memguard_off();
}

#define	PAIRS	10

/*
 * Make cache c look as if it had popped 2^40 - 3 items since its last
 * fold, without changing the count: the field three pops short of a wrap,
 * the fold point at 0, the base that much lower.  Three more pops without
 * a fold in between and the count is 2^40 short.
 */
static void
cache_near_wrap(uma_cache_t c)
{
	uint64_t mask = (1ull << UC_ALLOC_BITS) - 1, field = mask - 2;
	uint64_t w, pending;

	uma_lock(&c->uc_lock);
	atomic_fetch_add(&c->uc_seq, 1);
	w = atomic_load(&c->uc_word);
	pending = (uc_word_allocs(w) - atomic_load(&c->uc_allocs_last)) & mask;
	atomic_store(&c->uc_allocs_base, atomic_load(&c->uc_allocs_base) +
	    pending - field);
	atomic_store(&c->uc_allocs_last, 0);
	atomic_store(&c->uc_word, (w & ((1ull << UC_ALLOC_SHIFT) - 1)) |
	    (field << UC_ALLOC_SHIFT));
	atomic_fetch_add(&c->uc_seq, 1);
	uma_unlock(&c->uc_lock);
}

static void
wrap_is_counted(void)
{
	struct uma__zone_stat before, after;
	uma_zone_t z;
	uma_cache_t c;
	uint32_t seq0;
	void *item;

	test_pin_one_cpu();
	z = uma_zcreate("wrap", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	/* A bucket on this CPU, then nearly 2^40 pops not folded. */
	CHECK((item = uma_zalloc(z, M_WAITOK)) != NULL);
	uma_zfree(z, item);
	c = &z->uz_cpu[sched_getcpu()];
	cache_near_wrap(c);
	before = zstat(z);
	seq0 = atomic_load(&c->uc_seq);

	for (int i = 0; i < PAIRS; i++) {
		CHECK((item = uma_zalloc(z, M_WAITOK)) != NULL);
		uma_zfree(z, item);
	}

	after = zstat(z);
	CHECK_EQ(after.zs_allocs - before.zs_allocs, PAIRS);
	CHECK_EQ(after.zs_frees - before.zs_frees, PAIRS);
	/* It wrapped, on this CPU, through the slow path. */
	CHECK(uc_word_allocs(atomic_load(&c->uc_word)) < PAIRS);
	CHECK(atomic_load(&c->uc_seq) != seq0);
	uma_zdestroy(z);
}

UMA_TEST(zone_cache_count_wrap_is_folded_rseq)
{
	wrap_is_counted();
}

UMA_TEST(zone_cache_count_wrap_is_folded_locked_mode)
{
	test_tunables_add("vm.uma_rseq=0");
	wrap_is_counted();
}
