/*
 * preload_threads.c - under libuma-malloc.so (or linked with
 * libuma-malloc.a): threads that come and go, and fork() in the middle of
 * allocation from other threads; the child allocates and exits cleanly.
 * Every thread (and child) checks its own work: each block it asked for,
 * at least as usable as asked, holding its pattern until its free, and
 * the counts of blocks and bytes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "memguard_test.h"

extern size_t malloc_usable_size(void *);

#define	ROUNDS	200
#define	LIVE	200		/* blocks a thread holds at once */

/* What one churn did, checked by whoever waits for it. */
struct churn {
	int		 id;
	long		 allocs;	/* blocks that malloc gave */
	long		 verified;	/* blocks whose contents held to the free */
	long		 bad;		/* NULL, short or overwritten blocks */
	unsigned long	 bytes;		/* bytes asked for */
};

/* The word at `off` of block i of round r of thread `id`. */
static unsigned long
pattern(int id, int r, int i, size_t off)
{
	return (((unsigned long)id << 48 | (unsigned long)r << 32 |
	    (unsigned long)i << 16) ^ (off * 0x9e3779b97f4a7c15ul));
}

/*
 * Write (or check) the block's pattern: a word at each 64-byte step and
 * the last byte (every byte of a block under a word), so that two live
 * blocks that overlap, or a block written by another thread, show.
 */
static int
block_mark(unsigned char *p, size_t n, int id, int r, int i, int check)
{
	unsigned char last = (unsigned char)(id + r + i);
	unsigned long w;
	int ok = 1;

	for (size_t off = 0; off + sizeof(w) <= n; off += 64) {
		w = pattern(id, r, i, off);
		if (!check)
			memcpy(p + off, &w, sizeof(w));
		else if (memcmp(p + off, &w, sizeof(w)) != 0)
			ok = 0;
	}
	/* The last byte, unless a word holds it; every byte if no word fits. */
	for (size_t k = n < sizeof(w) ? 0 : (n - 1) % 64 < sizeof(w) ? n :
	    n - 1; k < n; k++) {
		if (!check)
			p[k] = (unsigned char)(last + k);
		else if (p[k] != (unsigned char)(last + k))
			ok = 0;
	}
	return (ok);
}

static size_t
churn_size(int r, int i)
{
	return ((size_t)(i * 37 + r) % 9000 + 1);
}

static void *
churn(void *arg)
{
	struct churn *ch = arg;
	unsigned char *p[LIVE];

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < LIVE; i++) {
			size_t n = churn_size(r, i);

			p[i] = malloc(n);
			if (p[i] == NULL || malloc_usable_size(p[i]) < n) {
				ch->bad++;
				p[i] = NULL;
				continue;
			}
			ch->allocs++;
			ch->bytes += n;
			block_mark(p[i], n, ch->id, r, i, 0);
		}
		for (int i = 0; i < LIVE; i++) {
			if (p[i] == NULL)
				continue;
			if (block_mark(p[i], churn_size(r, i), ch->id, r, i, 1))
				ch->verified++;
			else
				ch->bad++;
			free(p[i]);
		}
	}
	return (ch);
}

/* What every churn must have done: the same work as one run by hand. */
static void
churn_check(const struct churn *ch)
{
	unsigned long bytes = 0;

	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < LIVE; i++)
			bytes += churn_size(r, i);
	CHECK_EQ(ch->bad, 0);
	CHECK_EQ(ch->allocs, ROUNDS * LIVE);
	CHECK_EQ(ch->verified, ROUNDS * LIVE);
	CHECK_EQ(ch->bytes, bytes);
}

UMA_TEST(preload_threads_come_and_go)
{
	for (int round = 0; round < 20; round++) {
		struct churn ch[4];
		pthread_t t[4];
		void *ret;

		for (int i = 0; i < 4; i++) {
			ch[i] = (struct churn){ .id = round * 4 + i };
			CHECK(pthread_create(&t[i], NULL, churn, &ch[i]) == 0);
		}
		for (int i = 0; i < 4; i++) {
			CHECK(pthread_join(t[i], &ret) == 0);
			CHECK(ret == &ch[i]);
			churn_check(&ch[i]);
		}
	}
}

/*
 * The child churns too and reports through its exit status; the parent's
 * threads go on allocating across every fork and are checked at the end.
 */
UMA_TEST(preload_fork_while_threads_allocate)
{
	struct churn ch[2];
	pthread_t t[2];
	void *ret;

	for (int i = 0; i < 2; i++) {
		ch[i] = (struct churn){ .id = 100 + i };
		CHECK(pthread_create(&t[i], NULL, churn, &ch[i]) == 0);
	}
	for (int k = 0; k < 20; k++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct churn c = { .id = 200 + k };

			churn(&c);
			_exit(c.bad == 0 && c.allocs == ROUNDS * LIVE &&
			    c.verified == ROUNDS * LIVE ? 0 : 3);
		}
		CHECK(pid > 0);
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < 2; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		churn_check(&ch[i]);
	}
}

UMA_TEST(preload_malloc_is_uma)
{
	void *p;

	memguard_off();		/* a guarded object's usable size is its own */
	p = malloc(100);
	/* uma's size classes: 100 bytes come from malloc-112. */
	CHECK(malloc_usable_size(p) == 112);
	free(p);
}
