/*
 * malloc_contig.c - contigmalloc honours size, [low, high], alignment and
 * boundary over a randomized test checked request by request against a
 * first-fit model of the arena, refuses impossible requests with NULL and
 * the right errno, and counts in the type as FreeBSD does.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <uma/sysctl.h>

#include "harness.h"
#include "malloc_int.h"
#include "vm.h"

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

/*
 * The reference: a first-fit model of the arena written from contigmalloc's
 * contract alone.  Windowed requests (low at or above W) see only the runs
 * this test put there: slabs, descriptors and runs with low 0 take the
 * lowest free pages, and below W there are 2 GiB for them.  So whether a
 * windowed request can be met, and where first fit puts it, follows from
 * the live windowed runs.
 */
#define	NLIVE		256
#define	WINDOW_OFF	((uintptr_t)2 << 30)	/* W = arena base + 2 GiB */
#define	SPAN		((uintptr_t)256 << 20)	/* lows and highs within */

struct run {
	char		*p;
	size_t		 size;	/* as asked */
	bool		 windowed;
};

static struct run live[NLIVE];

static uintptr_t
roundup_pow2(uintptr_t a, uintptr_t align)
{
	return ((a + align - 1) & ~(align - 1));
}

/* The live windowed run overlapping [a, a + len), or NULL. */
static const struct run *
model_conflict(uintptr_t a, size_t len)
{
	for (int i = 0; i < NLIVE; i++) {
		uintptr_t s = (uintptr_t)live[i].p;

		if (live[i].p != NULL && live[i].windowed &&
		    s < a + len && a < s + roundup2(live[i].size, UMA_PAGE_SIZE))
			return (&live[i]);
	}
	return (0);
}

/*
 * Lowest a >= low, aligned, with [a, a + len) inside [low, high] and the
 * arena, free in the model and crossing no multiple of boundary; 0 if
 * there is none.
 */
static uintptr_t
model_first_fit(size_t len, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary)
{
	uintptr_t end = uma_vm_base + uma_vm_size, a;
	const struct run *r;

	align = align > UMA_PAGE_SIZE ? align : UMA_PAGE_SIZE;
	for (a = roundup_pow2(low, align);;) {
		if (a + len - 1 > high || a + len > end)
			return (0);
		if (boundary != 0 && a / boundary != (a + len - 1) / boundary)
			a = roundup_pow2(roundup_pow2(a + 1, boundary), align);
		else if ((r = model_conflict(a, len)) != NULL)
			a = roundup_pow2((uintptr_t)r->p +
			    roundup2(r->size, UMA_PAGE_SIZE), align);
		else
			return (a);
	}
}

static bool
powerof2_or_0(size_t x)
{
	return ((x & (x - 1)) == 0);
}

static uint64_t
pick(uint64_t n)
{
	return (rnd() % n);
}

/*
 * 20000 random requests: anywhere, below or above the arena, low > high,
 * and windowed ones with random sizes, alignments, boundaries and
 * windows.  Each answer is checked against the model: EINVAL exactly when
 * the arguments are bad, ENOMEM exactly when the model has no place, and
 * with `exact` (no run cache) the address first fit gives; with the run
 * cache on, freed runs stay mapped until a request needs their place
 * (contigmalloc gives the cache back and tries again), so only the
 * outcome is exact and the address must be a free place of the model.
 */
static void
contig_against_model(bool exact)
{
	uintptr_t base, wlo, expect;
	int ok = 0, einval = 0, enomem = 0, full = 0, moved = 0;

	(void)uma_malloc(1, M_CONTIG, M_WAITOK);	/* starts uma */
	base = uma_vm_base;
	if (uma_vm_size < 2 * WINDOW_OFF)
		SKIP("the arena is smaller than the window test needs (4 GiB)");
	wlo = base + WINDOW_OFF;
	for (int i = 0; i < 20000; i++) {
		int slot = (int)pick(NLIVE), kind = (int)pick(10), want;
		size_t size, len, align, boundary;
		uintptr_t low, high;
		char *p;

		if (live[slot].p != NULL) {
			contigfree(live[slot].p, live[slot].size, M_CONTIG);
			live[slot].p = NULL;
		}
		size = 1 + pick(64 * UMA_PAGE_SIZE);
		len = roundup2(size, UMA_PAGE_SIZE);
		align = pick(3) == 0 ? 0 : (size_t)1 << pick(22);
		boundary = pick(3) == 0 ? 0 : (size_t)1 << (12 + pick(12));
		switch (kind) {
		case 0:		/* anywhere: below W, as first fit goes */
			low = 0;
			high = UINTPTR_MAX;
			break;
		case 1:		/* below the arena */
			low = 0;
			high = base - 1 - pick(SPAN);
			break;
		case 2:		/* above it */
			low = base + uma_vm_size + pick(SPAN);
			high = UINTPTR_MAX;
			break;
		case 3:		/* an empty window */
			low = wlo + pick(SPAN) + 1;
			high = low - 1 - pick(UMA_PAGE_SIZE);
			break;
		case 4: case 5: case 6:	/* a window at or above W */
			low = wlo + pick(SPAN);
			high = pick(4) == 0 ? UINTPTR_MAX : low + pick(SPAN);
			break;
		default:	/* a tight one in W's first 8 MiB, often full */
			low = wlo + pick(8u << 20);
			high = low + pick(8 * len);
			/* Often whole pages: a run may end on high exactly. */
			if (pick(2) == 0) {
				low = roundup2(low, UMA_PAGE_SIZE);
				high = low + (pick(8 * len / UMA_PAGE_SIZE) + 1) *
				    UMA_PAGE_SIZE - 1;
			}
			break;
		}
		if (!powerof2_or_0(align) || (boundary != 0 &&
		    boundary < len) || low > high)
			want = EINVAL;
		else if (kind == 0)
			want = 0;
		else if (kind == 1 || kind == 2)
			want = ENOMEM;
		else
			want = model_first_fit(len, align, low, high,
			    boundary) != 0 ? 0 : ENOMEM;
		expect = want == 0 && kind != 0 ? model_first_fit(len, align,
		    low, high, boundary) : 0;
		errno = 0;
		p = contigmalloc(size, M_CONTIG, M_NOWAIT | M_ZERO, low, high,
		    align, boundary);
		if (want != 0) {
			CHECK(p == NULL);
			CHECK_EQ(errno, want);
			if (want == EINVAL)
				einval++;
			else
				enomem++;
			full += want == ENOMEM && kind > 3;
			continue;
		}
		CHECK(p != NULL);
		ok++;
		/* First fit had to pass a live run or a boundary. */
		moved += kind > 3 && expect != roundup_pow2(low, align >
		    UMA_PAGE_SIZE ? align : UMA_PAGE_SIZE);
		if (kind == 0)
			CHECK((uintptr_t)p >= base && (uintptr_t)p < wlo);
		else if (exact)
			CHECK_EQ((uintptr_t)p, expect);
		else
			CHECK(model_conflict((uintptr_t)p, len) == NULL);
		CHECK((uintptr_t)p >= low);
		CHECK((uintptr_t)p + len - 1 <= high);
		CHECK(((uintptr_t)p & UMA_PAGE_MASK) == 0);
		if (align != 0)
			CHECK(((uintptr_t)p & (align - 1)) == 0);
		if (boundary != 0)
			CHECK((uintptr_t)p / boundary ==
			    ((uintptr_t)p + len - 1) / boundary);
		/* Zero-filled, though the run may have held 0x5a before. */
		for (size_t off = 0; off < size; off += 509)
			CHECK(p[off] == 0);
		CHECK(p[size - 1] == 0);
		memset(p, 0x5a, size);
		live[slot] = (struct run){ p, size, kind != 0 };
	}
	for (int i = 0; i < NLIVE; i++)
		if (live[i].p != NULL)
			contigfree(live[i].p, live[i].size, M_CONTIG);
	printf("  %d met (%d past a live run or a boundary), %d EINVAL, "
	    "%d ENOMEM (%d in a window the model had no room in)\n", ok,
	    moved, einval, enomem, full);
	/* The mix reached every outcome often. */
	CHECK(ok > 5000 && einval > 1000 && enomem > 1000);
	CHECK(moved > 500 && full > 200);
}

UMA_TEST(contigmalloc_matches_a_first_fit_model_of_the_arena)
{
	int zero = 0;

	CHECK(uma_sysctlbyname("vm.malloc.large_cache_mb", NULL, NULL, &zero,
	    sizeof(zero)) == 0);
	contig_against_model(true);
}

UMA_TEST(contigmalloc_with_the_run_cache_meets_exactly_what_the_model_can)
{
	contig_against_model(false);
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
