/*
 * malloc_contig.c - contigmalloc honours size, [low, high], alignment and
 * boundary over a randomized test, refuses impossible requests with NULL
 * and the right errno, and counts in the type as FreeBSD does.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "malloc_int.h"

MALLOC_DEFINE(M_CONTIG, "contig_test", "contigmalloc");

static uint64_t rng = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

struct run { char *p; size_t size; };

UMA_TEST(contigmalloc_randomized_constraints_hold)
{
	static struct run live[256];
	uintptr_t base, span;
	int ok = 0, refused = 0;

	(void)uma_malloc(1, M_CONTIG, M_WAITOK);	/* starts uma */
	base = uma_vm_base;
	span = 256u << 20;	/* constrain inside the first 256 MiB */
	for (int i = 0; i < 20000; i++) {
		int slot = (int)(rnd() % nitems(live));
		size_t size, align, boundary;
		uintptr_t low, high;
		char *p;

		if (live[slot].p != NULL) {
			contigfree(live[slot].p, live[slot].size, M_CONTIG);
			live[slot].p = NULL;
		}
		size = 1 + rnd() % (64 * UMA_PAGE_SIZE);
		align = rnd() % 3 == 0 ? 0 : (size_t)1 << (rnd() % 22);
		boundary = rnd() % 3 == 0 ? 0 : (size_t)1 << (12 + rnd() % 12);
		low = rnd() % 4 == 0 ? 0 : base + rnd() % span;
		high = rnd() % 4 == 0 ? UINTPTR_MAX : low + rnd() % span;
		errno = 0;
		p = contigmalloc(size, M_CONTIG, M_NOWAIT | M_ZERO, low, high,
		    align, boundary);
		if (p == NULL) {
			size_t len = roundup2(size, UMA_PAGE_SIZE);

			CHECK(errno == EINVAL || errno == ENOMEM);
			if (errno == EINVAL)
				CHECK(boundary != 0 && boundary < len);
			refused++;
			continue;
		}
		ok++;
		CHECK((uintptr_t)p >= low);
		CHECK((uintptr_t)p + roundup2(size, UMA_PAGE_SIZE) - 1 <= high);
		CHECK(((uintptr_t)p & UMA_PAGE_MASK) == 0);
		if (align != 0)
			CHECK(((uintptr_t)p & (align - 1)) == 0);
		if (boundary != 0)
			CHECK(((uintptr_t)p & ~(boundary - 1)) ==
			    (((uintptr_t)p + roundup2(size, UMA_PAGE_SIZE) - 1) &
			    ~(boundary - 1)));
		CHECK(p[0] == 0 && p[size - 1] == 0);
		memset(p, 0x5a, size);
		live[slot].p = p;
		live[slot].size = size;
	}
	for (size_t i = 0; i < nitems(live); i++)
		if (live[i].p != NULL)
			contigfree(live[i].p, live[i].size, M_CONTIG);
	CHECK(ok > 1000);
	CHECK(refused > 100);
}

UMA_TEST(contigmalloc_impossible_requests_give_null)
{
	uintptr_t base;

	(void)uma_malloc(1, M_CONTIG, M_WAITOK);
	base = uma_vm_base;
	errno = 0;
	CHECK(contigmalloc(0, M_CONTIG, M_NOWAIT, 0, UINTPTR_MAX, 0, 0) ==
	    NULL && errno == EINVAL);
	CHECK(contigmalloc(4096, M_CONTIG, M_NOWAIT, 0, UINTPTR_MAX, 3, 0) ==
	    NULL && errno == EINVAL);
	CHECK(contigmalloc(8192, M_CONTIG, M_NOWAIT, 0, UINTPTR_MAX, 0,
	    4096) == NULL && errno == EINVAL);
	CHECK(contigmalloc(4096, M_CONTIG, M_NOWAIT, 0, UINTPTR_MAX, 0,
	    12288) == NULL && errno == EINVAL);
	CHECK(contigmalloc(4096, M_CONTIG, M_NOWAIT, 2 * base, base, 0, 0) ==
	    NULL && errno == EINVAL);
	/* Below the arena, or a window smaller than the run: no memory. */
	CHECK(contigmalloc(4096, M_CONTIG, M_NOWAIT, 0, base - 1, 0, 0) ==
	    NULL && errno == ENOMEM);
	CHECK(contigmalloc(3 * 4096, M_CONTIG, M_NOWAIT, base + (1 << 20),
	    base + (1 << 20) + 2 * 4096 - 1, 0, 0) == NULL && errno == ENOMEM);
	CHECK(contigmalloc(4096, M_CONTIG, M_NOWAIT, uma_vm_base + uma_vm_size,
	    UINTPTR_MAX, 0, 0) == NULL && errno == ENOMEM);
}

UMA_TEST(contigmalloc_counts_round_page_bytes_and_no_size_bit)
{
	struct malloc_type *mtp = malloc_type_create("contig_stats");
	struct malloc_type_totals tt;
	void *p = contigmalloc(5000, mtp, M_WAITOK, 0, UINTPTR_MAX, 65536, 0);

	CHECK(p != NULL);
	uma__malloc_type_totals(mtp, &tt);
	CHECK_EQ(tt.mt_numallocs, 1);
	CHECK_EQ(tt.mt_memalloced, 8192);
	CHECK_EQ(tt.mt_sizemask, 0);
	contigfree(p, 5000, mtp);
	uma__malloc_type_totals(mtp, &tt);
	CHECK_EQ(tt.mt_numfrees, 1);
	CHECK_EQ(tt.mt_memfreed, 8192);
	malloc_type_destroy(mtp);
}
