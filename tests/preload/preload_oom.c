/*
 * preload_oom.c - malloc(3) under libuma-malloc.so never aborts when
 * memory runs out: C's malloc returns NULL with errno ENOMEM, and so do
 * calloc, realloc (the old block intact), posix_memalign and
 * aligned_alloc.  uma_malloc's M_WAITOK promise is not the interposer's.
 *
 * Run with UMA_TUNABLES=vm.uma_arena_gb=1 (tests/preload/CMakeLists.txt):
 * the 1 GiB arena is what this process can have, so the test fills it,
 * large blocks first, then small ones, then frees everything, drains, and
 * allocates again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"

#define	BIG	((size_t)8 << 20)
#define	SMALL	1000
#define	MAXBIG	1024		/* 8 GiB: far past the arena */
#define	MAXSMALL (1 << 22)

/* Blocks held, each linked through its first word; the tag after it. */
struct held {
	struct held	*next;
	uint64_t	 tag;
};

static struct held *
take(struct held *list, void *p, uint64_t tag)
{
	struct held *h = p;

	h->next = list;
	h->tag = tag;
	return (h);
}

static int
release(struct held *h)
{
	struct held *next;
	int n = 0;

	for (; h != NULL; h = next, n++) {
		next = h->next;
		free(h);
	}
	return (n);
}

UMA_TEST(preload_oom_malloc_family_returns_enomem_and_never_aborts)
{
	struct held *big = NULL, *small = NULL, *h;
	int nbig = 0, nsmall = 0;
	void *p, *q;

	for (errno = 0; nbig < MAXBIG && (p = malloc(BIG)) != NULL; nbig++)
		big = take(big, p, (uint64_t)nbig);
	CHECK(nbig < MAXBIG);
	CHECK_EQ(errno, ENOMEM);
	CHECK(nbig > 16);
	for (errno = 0; nsmall < MAXSMALL && (p = malloc(SMALL)) != NULL;
	    nsmall++)
		small = take(small, p, (uint64_t)nsmall);
	CHECK(nsmall < MAXSMALL);
	CHECK_EQ(errno, ENOMEM);

	/* Every way in says ENOMEM, and the old block of realloc stays. */
	errno = 0;
	CHECK(calloc(1, BIG) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(realloc(small, BIG) == NULL && errno == ENOMEM);
	CHECK_EQ(small->tag, (uint64_t)nsmall - 1);
	errno = 0;
	CHECK(aligned_alloc(4096, BIG) == NULL && errno == ENOMEM);
	q = NULL;
	CHECK_EQ(posix_memalign(&q, 4096, BIG), ENOMEM);
	CHECK(q == NULL);

	/* Nothing was handed out twice: the tags count down in order. */
	for (h = big; h != NULL; h = h->next)
		CHECK_EQ(h->tag, (uint64_t)--nbig);
	CHECK_EQ(nbig, 0);
	nbig = release(big);
	release(small);
	/* All back (the small blocks' slabs once drained): as much again. */
	uma_reclaim(UMA_RECLAIM_DRAIN);
	big = NULL;
	for (int i = 0; i < nbig; i++) {
		p = malloc(BIG);
		CHECK(p != NULL);
		big = take(big, p, (uint64_t)i);
	}
	release(big);
}
