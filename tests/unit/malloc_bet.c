/*
 * malloc_bet.c - free()'s bet on the class of the thread's last
 * allocation (malloc_fast.h): a thread that loses it too often stops
 * betting, one that wins again bets again, one that mostly wins keeps
 * betting; and whichever way a free goes, it reaches its own class, with
 * every alloc and free counted there exactly.
 *
 * Each test runs in a thread of its own: the bet's state is per thread
 * and starts betting.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "malloc_fast.h"
#include "malloc_int.h"
#include "memguard_test.h"
#include "stats.h"

/* Items and counts of the classes, not MemGuard's pages. */
void
test_setup(void)
{
	memguard_off();
}

MALLOC_DEFINE(M_BET, "bet", "free() bet test");

#define	WSET	1024

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static void
run_in_thread(void *(*fn)(void *))
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, fn, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
}

static void
class_counts(size_t size, uint64_t *allocs, uint64_t *frees)
{
	struct uma__zone_stat zs;

	uma__zone_stat(malloc_classes[uma__malloc_class(size)].mc_zone, &zs,
	    NULL, 0);
	*allocs = zs.zs_allocs;
	*frees = zs.zs_frees;
}

/*
 * Free random slots of a working set of 16- and 64-byte blocks (3:2) and
 * put a block of a random one of the two sizes back: the bet (the class
 * of the block just allocated) wins about half the frees.
 */
static unsigned mixed_unbet_late;	/* unbet frees in the second half */
static uint64_t mixed_allocs[2], mixed_frees[2], mixed_bad;

static void *
mixed_thread(void *arg)
{
	static const size_t sizes[2] = { 16, 64 };
	uint32_t *ws[WSET];
	size_t wsz[WSET];
	uint64_t s = 12345;
	const int iters = 40000;

	for (int i = 0; i < WSET; i++) {
		wsz[i] = sizes[i % 5 < 3 ? 0 : 1];
		ws[i] = uma_malloc(wsz[i], M_BET, M_WAITOK);
		ws[i][0] = (uint32_t)i;
		mixed_allocs[wsz[i] == 64]++;
	}
	for (int it = 0; it < iters; it++) {
		unsigned slot = (unsigned)(xorshift(&s) % WSET);

		if (ws[slot][0] != slot)
			mixed_bad++;
		if (it >= iters / 2 && uma__malloc_bet.mb_off)
			mixed_unbet_late++;
		uma_free(ws[slot], M_BET);
		mixed_frees[wsz[slot] == 64]++;
		wsz[slot] = sizes[xorshift(&s) % 5 < 3 ? 0 : 1];
		ws[slot] = uma_malloc(wsz[slot], M_BET, M_WAITOK);
		ws[slot][0] = slot;
		mixed_allocs[wsz[slot] == 64]++;
	}
	for (int i = 0; i < WSET; i++) {
		uma_free(ws[i], M_BET);
		mixed_frees[wsz[i] == 64]++;
	}
	return (NULL);
}

UMA_TEST(malloc_bet_stops_when_frees_mix_classes_and_counts_stay_exact)
{
	uint64_t a0[2], f0[2], a1[2], f1[2];

	/* Each class zone is made at its first allocation. */
	uma_free(uma_malloc(16, M_BET, M_WAITOK), M_BET);
	uma_free(uma_malloc(64, M_BET, M_WAITOK), M_BET);
	class_counts(16, &a0[0], &f0[0]);
	class_counts(64, &a0[1], &f0[1]);
	run_in_thread(mixed_thread);
	class_counts(16, &a1[0], &f1[0]);
	class_counts(64, &a1[1], &f1[1]);

	CHECK(mixed_bad == 0);
	/* Half the bets lose: by the second half the thread bets no more. */
	CHECK_EQ(mixed_unbet_late, 20000);
	for (int c = 0; c < 2; c++) {
		CHECK_EQ(a1[c] - a0[c], mixed_allocs[c]);
		CHECK_EQ(f1[c] - f0[c], mixed_frees[c]);
	}
	CHECK_EQ(mixed_allocs[0] + mixed_allocs[1], WSET + 40000);
	CHECK_EQ(mixed_frees[0] + mixed_frees[1], WSET + 40000);
}

/*
 * A thread that stopped betting frees what it just allocated: the next
 * trial's 256 frees all win, and it bets again.
 */
static int pairs_to_bet;

static void *
resume_thread(void *arg)
{
	uma__malloc_bet.mb_off = 1;
	pairs_to_bet = -1;
	for (int i = 0; i < 1024; i++) {
		void *p = uma_malloc(48, M_BET, M_WAITOK);

		memset(p, 0xa5, 48);
		uma_free(p, M_BET);
		if (!uma__malloc_bet.mb_off) {
			pairs_to_bet = i + 1;
			break;
		}
	}
	return (NULL);
}

UMA_TEST(malloc_bet_resumes_when_frees_follow_their_allocations)
{
	run_in_thread(resume_thread);
	/* A trial is 256 frees; the first may have started mid-way. */
	CHECK(pairs_to_bet > 0);
	CHECK(pairs_to_bet <= 2 * 256);
}

/*
 * A thread whose bets win 20 frees in 21: it keeps betting, but for a
 * trial of 256 frees each 1024 losses (1.2% of its frees).
 */
static unsigned mostly_unbet, mostly_frees;

static void *
mostly_thread(void *arg)
{
	for (int round = 0; round < 10000; round++) {
		void *a, *b;

		for (int i = 0; i < 19; i++) {
			a = uma_malloc(16, M_BET, M_WAITOK);
			mostly_unbet += uma__malloc_bet.mb_off;
			uma_free(a, M_BET);
		}
		/* The 16-byte block is freed after a 64-byte allocation. */
		a = uma_malloc(16, M_BET, M_WAITOK);
		b = uma_malloc(64, M_BET, M_WAITOK);
		mostly_unbet += uma__malloc_bet.mb_off;
		uma_free(a, M_BET);
		mostly_unbet += uma__malloc_bet.mb_off;
		uma_free(b, M_BET);
		mostly_frees += 21;
	}
	return (NULL);
}

UMA_TEST(malloc_bet_keeps_betting_when_it_mostly_wins)
{
	run_in_thread(mostly_thread);
	CHECK_EQ(mostly_frees, 210000);
	/* 10,000 losses: 9 trials of 256 unbet frees (2,304), no more. */
	CHECK_EQ(mostly_unbet, 9 * 256);
}
