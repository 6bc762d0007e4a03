/*
 * vmmap.c (unit) - the first-fit address-space map.
 *
 * The map only does bookkeeping, so these tests hand it fake arenas (plain
 * numbers, nothing mapped).  The central test drives it with random
 * allocations, constrained allocations and frees and compares every answer
 * with a deliberately naive reference: a sorted array of regions searched by
 * stepping through each gap one alignment unit at a time.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "vm.h"
#include "vmmap.h"

#define	PG	UMA_PAGE_SIZE
#define	S	((uintptr_t)0x40000000)	/* a 1 GiB aligned fake arena start */

/* xorshift64*: deterministic, so a failure replays exactly. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng_next(void)
{

	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

static size_t
rng_below(size_t n)
{

	return ((size_t)(rng_next() % n));
}

/* The reference map: regions sorted by address, first fit by brute force. */
#define	REF_MAX		65536

struct ref_region {
	uintptr_t	start;
	uintptr_t	end;
};

static struct ref_region ref[REF_MAX];
static size_t ref_n;
static uintptr_t ref_start, ref_end;

static int
ref_crosses(uintptr_t a, size_t len, size_t boundary)
{

	return (boundary != 0 && a / boundary != (a + len - 1) / boundary);
}

/* Step through the gap [gs, ge) one alignment unit at a time. */
static int
ref_fit(uintptr_t gs, uintptr_t ge, size_t len, size_t align, uintptr_t low,
    uintptr_t high, size_t boundary, uintptr_t *ap)
{
	uintptr_t a, lim;

	a = gs > low ? gs : low;
	a = (a + align - 1) / align * align;
	lim = ge < high ? ge : high;
	for (; a < lim && lim - a >= len; a += align) {
		if (!ref_crosses(a, len, boundary)) {
			*ap = a;
			return (1);
		}
	}
	return (0);
}

static int
ref_alloc(size_t len, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary, uintptr_t *ap)
{
	uintptr_t gs = ref_start, a = 0;
	size_t i;

	if (len == 0 || len % PG != 0 || low >= high)
		return (EINVAL);
	if (align != 0 && (align & (align - 1)) != 0)
		return (EINVAL);
	if (boundary != 0 && ((boundary & (boundary - 1)) != 0 ||
	    boundary < len))
		return (EINVAL);
	if (align < PG)
		align = PG;
	for (i = 0; i <= ref_n; i++) {
		if (ref_fit(gs, i < ref_n ? ref[i].start : ref_end, len, align,
		    low, high, boundary, &a))
			break;
		if (i < ref_n)
			gs = ref[i].end;
	}
	if (i > ref_n)
		return (ENOMEM);
	memmove(&ref[i + 1], &ref[i], (ref_n - i) * sizeof(ref[0]));
	ref[i].start = a;
	ref[i].end = a + len;
	ref_n++;
	*ap = a;
	return (0);
}

static int
ref_free(uintptr_t a, size_t len)
{

	for (size_t i = 0; i < ref_n; i++) {
		if (ref[i].start == a && ref[i].end - ref[i].start == len) {
			memmove(&ref[i], &ref[i + 1],
			    (ref_n - i - 1) * sizeof(ref[0]));
			ref_n--;
			return (0);
		}
	}
	return (EINVAL);
}

static int
ref_split(uintptr_t a, size_t len, size_t at)
{
	if (at == 0 || at >= len || ((a | len | at) % PG) != 0)
		return (EINVAL);
	for (size_t i = 0; i < ref_n; i++) {
		if (ref[i].start == a && ref[i].end == a + len) {
			memmove(&ref[i + 1], &ref[i], (ref_n - i) *
			    sizeof(ref[0]));
			ref[i].end = ref[i + 1].start = a + at;
			ref_n++;
			return (0);
		}
	}
	return (EINVAL);
}

static int
ref_merge(uintptr_t a, size_t len, size_t len2)
{
	for (size_t i = 0; i + 1 < ref_n; i++) {
		if (ref[i].start == a && ref[i].end == a + len &&
		    ref[i + 1].start == a + len &&
		    ref[i + 1].end == a + len + len2) {
			ref[i].end = a + len + len2;
			memmove(&ref[i + 1], &ref[i + 2], (ref_n - i - 2) *
			    sizeof(ref[0]));
			ref_n--;
			return (0);
		}
	}
	return (EINVAL);
}

static int
ref_resize(uintptr_t a, size_t len, size_t newlen)
{
	uintptr_t next;

	if (len == 0 || newlen == 0 || ((a | len | newlen) % PG) != 0)
		return (EINVAL);
	for (size_t i = 0; i < ref_n; i++) {
		if (ref[i].start == a && ref[i].end == a + len) {
			next = i + 1 < ref_n ? ref[i + 1].start : ref_end;
			if (a + newlen > next)
				return (ENOMEM);
			ref[i].end = a + newlen;
			return (0);
		}
	}
	return (EINVAL);
}

static int
ref_set_end(uintptr_t end)
{
	if (end % PG != 0 || end <= ref_start)
		return (EINVAL);
	if (ref_n > 0 && ref[ref_n - 1].end > end)
		return (EBUSY);
	ref_end = end;
	return (0);
}

static size_t
ref_largest_free(void)
{
	uintptr_t gs = ref_start, ge;
	size_t best = 0;

	for (size_t i = 0; i <= ref_n; i++) {
		ge = i < ref_n ? ref[i].start : ref_end;
		if (ge - gs > best)
			best = ge - gs;
		if (i < ref_n)
			gs = ref[i].end;
	}
	return (best);
}

static size_t
ref_allocated(void)
{
	size_t sum = 0;

	for (size_t i = 0; i < ref_n; i++)
		sum += ref[i].end - ref[i].start;
	return (sum);
}

/* A random request: mostly the plain call, sometimes every constraint. */
struct req {
	size_t		len;
	size_t		align;
	uintptr_t	low;
	uintptr_t	high;
	size_t		boundary;
};

static void
req_random(struct req *r, uintptr_t start, uintptr_t end)
{
	size_t pages = (end - start) / PG, k = rng_below(100);

	r->len = (k < 70 ? 1 + rng_below(8) : k < 95 ? 1 + rng_below(64) :
	    1 + rng_below(512)) * PG;
	r->align = 0;
	r->boundary = 0;
	r->low = start;
	r->high = end;
	if (rng_below(100) < 50)
		return;
	if (rng_below(100) < 50)
		r->align = PG << rng_below(9);
	else if (rng_below(100) < 5)	/* not a power of 2, or sub-page */
		r->align = rng_below(2) ? 3 * PG : 512;
	if (rng_below(100) < 30)
		r->boundary = PG << rng_below(13);	/* may be < len */
	if (rng_below(100) < 40) {
		/* Windows partly outside the arena and unaligned edges too. */
		r->low = start - 16 * PG + rng_below(pages + 32) * PG;
		r->high = r->low + rng_below(pages / 2) * PG;
		if (rng_below(4) == 0)
			r->low += rng_below(PG);
		if (rng_below(4) == 0)
			r->high -= rng_below(PG);
	}
}

UMA_TEST(vmmap_first_fit_matches_linear_reference)
{
	struct vmmap map;
	struct req r;
	uintptr_t end = S + 8192 * PG, a, ra;
	size_t i, k, allocs = 0, nomems = 0, invals = 0, splits = 0;
	size_t merges = 0, resizes = 0, resize_nomems = 0, ends = 0, busy = 0;
	int grow = 1, rc, rrc;

	CHECK_EQ(vmmap_init(&map, S, end), 0);
	ref_n = 0;
	ref_start = S;
	ref_end = end;
	for (i = 0; i < 100000; i++) {
		if (i % 5000 == 0)
			grow = !grow;
		if (ref_n == 0 || rng_below(100) < (grow ? 70u : 30u)) {
			req_random(&r, S, end);
			a = ra = 0;
			rc = vmmap_alloc(&map, r.len, r.align, r.low, r.high,
			    r.boundary, &a);
			rrc = ref_alloc(r.len, r.align, r.low, r.high,
			    r.boundary, &ra);
			CHECK_EQ(rc, rrc);
			CHECK_EQ(a, ra);
			allocs += rc == 0;
			nomems += rc == ENOMEM;
			invals += rc == EINVAL;
		} else {
			struct ref_region g = ref[rng_below(ref_n)];
			uintptr_t fa = g.start;
			size_t flen = g.end - g.start;

			switch (rng_below(20)) {	/* a few bad frees */
			case 0:
				flen += PG;
				break;
			case 1:
				fa += PG;
				flen = PG;
				break;
			case 2:
				fa = S + rng_below(8192) * PG;
				break;
			}
			/*
			 * A quarter split (a few at bad points), an eighth
			 * merged with the next region (adjacent or not), an
			 * eighth resized, the rest freed.
			 */
			k = rng_below(8);
			if (k < 2) {
				size_t at = rng_below(flen / PG + 1) * PG;

				if (rng_below(20) == 0)
					at += PG / 2;
				CHECK_EQ(vmmap_split(&map, fa, flen, at),
				    ref_split(fa, flen, at));
				splits++;
			} else if (k == 2) {
				size_t j = 0, len2 = PG;

				while (j < ref_n && ref[j].start != g.start)
					j++;
				if (j + 1 < ref_n)
					len2 = ref[j + 1].end - ref[j + 1].start;
				rc = vmmap_merge(&map, fa, flen, len2);
				CHECK_EQ(rc, ref_merge(fa, flen, len2));
				merges += rc == 0;
			} else if (k == 3) {
				size_t nl = (1 + rng_below(2 * flen / PG + 2)) *
				    PG;

				if (rng_below(20) == 0)
					nl -= PG / 2;
				rc = vmmap_resize(&map, fa, flen, nl);
				CHECK_EQ(rc, ref_resize(fa, flen, nl));
				resizes += rc == 0;
				resize_nomems += rc == ENOMEM;
			} else
				CHECK_EQ(vmmap_free(&map, fa, flen),
				    ref_free(fa, flen));
		}
		if (i % 499 == 0) {
			/*
			 * The arena grows or gives its top back: half the
			 * time to an end at or past the last region, half the
			 * time anywhere in the upper half (mostly refused).
			 */
			uintptr_t last = ref_n > 0 ? ref[ref_n - 1].end : S;
			uintptr_t ne = S + (4096 + rng_below(4097)) * PG;

			if (rng_below(2) == 0)
				ne = last + rng_below((end - last) / PG + 1) *
				    PG;
			rc = vmmap_set_end(&map, ne);
			CHECK_EQ(rc, ref_set_end(ne));
			ends += rc == 0;
			busy += rc == EBUSY;
			CHECK_EQ(vmmap_tail_free(&map), ref_end -
			    (ref_n > 0 ? ref[ref_n - 1].end : S));
		}
		CHECK_EQ(vmmap_count(&map), ref_n);
		CHECK_EQ(vmmap_allocated(&map), ref_allocated());
		if (i % 16 == 0)
			CHECK_EQ(vmmap_largest_free(&map), ref_largest_free());
		if (i % 1000 == 0)
			CHECK(vmmap_is_valid(&map));
	}
	CHECK(vmmap_is_valid(&map));
	/* The run must have exercised success, exhaustion and bad arguments. */
	CHECK(allocs > 20000);
	CHECK(nomems > 1000);
	CHECK(invals > 500);
	CHECK(splits > 5000);
	CHECK(merges > 500);
	CHECK(resizes > 2000);
	CHECK(resize_nomems > 500);
	CHECK(ends > 20);
	CHECK(busy > 20);
	vmmap_fini(&map);
}

UMA_TEST(vmmap_constrained_search_agrees_with_fast_path)
{
	struct vmmap fast, slow;
	uintptr_t a, b, live[4096];
	size_t n = 0, len;

	/* A boundary far above the arena constrains nothing but the path. */
	CHECK_EQ(vmmap_init(&fast, S, S + 4096 * PG), 0);
	CHECK_EQ(vmmap_init(&slow, S, S + 4096 * PG), 0);
	for (int i = 0; i < 20000; i++) {
		if (n > 0 && (n == 4096 || rng_below(2) == 0)) {
			size_t k = rng_below(n);

			CHECK_EQ(vmmap_free(&fast, live[k], PG), 0);
			CHECK_EQ(vmmap_free(&slow, live[k], PG), 0);
			live[k] = live[--n];
			continue;
		}
		len = PG;
		CHECK_EQ(vmmap_alloc(&fast, len, 0, S, S + 4096 * PG, 0, &a), 0);
		CHECK_EQ(vmmap_alloc(&slow, len, 0, 0, UINTPTR_MAX,
		    (size_t)1 << 40, &b), 0);
		CHECK_EQ(a, b);
		live[n++] = a;
	}
	CHECK(vmmap_is_valid(&fast));
	CHECK(vmmap_is_valid(&slow));
	vmmap_fini(&fast);
	vmmap_fini(&slow);
}

UMA_TEST(vmmap_init_rejects_bad_ranges)
{
	struct vmmap map;

	CHECK_EQ(vmmap_init(&map, S + 1, S + PG), EINVAL);
	CHECK_EQ(vmmap_init(&map, S, S + PG + 1), EINVAL);
	CHECK_EQ(vmmap_init(&map, S, S), EINVAL);
	CHECK_EQ(vmmap_init(&map, S + PG, S), EINVAL);
	CHECK_EQ(vmmap_init(&map, S, S + PG), 0);
	CHECK(vmmap_is_valid(&map));
	CHECK_EQ(vmmap_count(&map), 0);
	CHECK_EQ(vmmap_allocated(&map), 0);
	CHECK_EQ(vmmap_largest_free(&map), PG);
	vmmap_fini(&map);
}

UMA_TEST(vmmap_alloc_rejects_bad_arguments)
{
	struct vmmap map;
	uintptr_t a, e = S + 256 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	CHECK_EQ(vmmap_alloc(&map, 0, 0, S, e, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG + 1, 0, S, e, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG / 2, 0, S, e, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG, 3 * PG, S, e, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 3 * PG, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, 4 * PG, 0, S, e, 2 * PG, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S + PG, S + PG, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, e, S, 0, &a), EINVAL);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, NULL), EINVAL);
	CHECK_EQ(vmmap_count(&map), 0);
	CHECK_EQ(vmmap_largest_free(&map), 256 * PG);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_alloc_is_first_fit_and_refills_holes)
{
	struct vmmap map;
	uintptr_t a[8], b, e = S + 64 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(vmmap_alloc(&map, 2 * PG, 0, S, e, 0, &a[i]), 0);
		CHECK_EQ(a[i], S + 2 * PG * i);
	}
	CHECK_EQ(vmmap_free(&map, a[1], 2 * PG), 0);
	CHECK_EQ(vmmap_free(&map, a[5], 2 * PG), 0);
	CHECK_EQ(vmmap_free(&map, a[6], 2 * PG), 0);
	/* 3 pages skip the 2-page hole at a[1] for the 4-page one at a[5]. */
	CHECK_EQ(vmmap_alloc(&map, 3 * PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(b, a[5]);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(b, a[1]);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(b, a[1] + PG);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(b, a[5] + 3 * PG);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(b, a[7] + 2 * PG);
	CHECK_EQ(vmmap_count(&map), 10);
	CHECK_EQ(vmmap_allocated(&map), 17 * PG);
	CHECK_EQ(vmmap_largest_free(&map), 47 * PG);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_alloc_honours_alignment)
{
	struct vmmap map;
	uintptr_t a, e = S + 1024 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(a, S);
	CHECK_EQ(vmmap_alloc(&map, PG, 16 * PG, S, e, 0, &a), 0);
	CHECK_EQ(a, S + 16 * PG);
	/* The hole left below the aligned entry is still first fit. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(a, S + PG);
	/* A power of 2 below a page means a page. */
	CHECK_EQ(vmmap_alloc(&map, PG, 512, S, e, 0, &a), 0);
	CHECK_EQ(a, S + 2 * PG);
	CHECK_EQ(vmmap_alloc(&map, 8 * PG, 8 * PG, S, e, 0, &a), 0);
	CHECK_EQ(a, S + 8 * PG);
	CHECK_EQ(vmmap_alloc(&map, 8 * PG, 8 * PG, S, e, 0, &a), 0);
	CHECK_EQ(a, S + 24 * PG);
	for (size_t al = PG; al <= 256 * PG; al <<= 1) {
		CHECK_EQ(vmmap_alloc(&map, PG, al, S, e, 0, &a), 0);
		CHECK_EQ(a % al, 0);
	}
	/* The next 1 GiB multiple after S lies beyond the arena. */
	CHECK_EQ(vmmap_alloc(&map, PG, (size_t)1 << 30, S, e, 0, &a), ENOMEM);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_alloc_honours_boundary)
{
	struct vmmap map;
	uintptr_t a, e = S + 256 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	CHECK_EQ(vmmap_alloc(&map, 15 * PG, 0, S, e, 0, &a), 0);
	/* S+15 pages .. S+17 pages would cross S+16 pages. */
	CHECK_EQ(vmmap_alloc(&map, 2 * PG, 0, S, e, 16 * PG, &a), 0);
	CHECK_EQ(a, S + 16 * PG);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 16 * PG, &a), 0);
	CHECK_EQ(a, S + 15 * PG);
	/* len == boundary: only runs starting at a multiple qualify. */
	CHECK_EQ(vmmap_alloc(&map, 16 * PG, 0, S, e, 16 * PG, &a), 0);
	CHECK_EQ(a, S + 32 * PG);
	/* Boundary and alignment together, alignment the larger. */
	CHECK_EQ(vmmap_alloc(&map, 4 * PG, 64 * PG, S, e, 4 * PG, &a), 0);
	CHECK_EQ(a, S + 64 * PG);
	CHECK_EQ(vmmap_alloc(&map, 3 * PG, 0, S, e, 2 * PG, &a), EINVAL);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_alloc_honours_low_and_high)
{
	struct vmmap map;
	uintptr_t a, e = S + 256 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	/* An unaligned low rounds up to the next page. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S + 100 * PG + 1, e, 0, &a), 0);
	CHECK_EQ(a, S + 101 * PG);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, S + PG, 0, &a), 0);
	CHECK_EQ(a, S);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, S + PG, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, 2 * PG, 0, S + 8 * PG, S + 9 * PG + 5, 0,
	    &a), ENOMEM);
	/* An unaligned high still admits the whole page below it. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S + 200 * PG, S + 201 * PG + 5, 0,
	    &a), 0);
	CHECK_EQ(a, S + 200 * PG);
	/* A window entirely outside the arena. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, e, e + 64 * PG, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, 0, S, 0, &a), ENOMEM);
	/* A window around the whole arena is the plain call. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, 0, UINTPTR_MAX, 0, &a), 0);
	CHECK_EQ(a, S + PG);
	/* low above a fitting hole skips it. */
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S + 101 * PG, e, 0, &a), 0);
	CHECK_EQ(a, S + 102 * PG);
	CHECK_EQ(vmmap_count(&map), 5);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_impossible_requests_leave_map_unchanged)
{
	struct vmmap map;
	uintptr_t a, e = S + 64 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	CHECK_EQ(vmmap_alloc(&map, 8 * PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(vmmap_alloc(&map, 57 * PG, 0, S, e, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, 65 * PG, 0, S, e, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, 8 * PG, 0, S, S + 12 * PG, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, PG, (size_t)1 << 62, S, e, 0, &a), ENOMEM);
	/*
	 * 16 free, 8-page-aligned pages from S+8 pages to S+24 pages, but they
	 * cross a 16-page boundary: the next start that does not is S+16.
	 */
	CHECK_EQ(vmmap_alloc(&map, 16 * PG, 8 * PG, S, S + 24 * PG,
	    16 * PG, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, 16 * PG, 8 * PG, S, S + 32 * PG,
	    16 * PG, &a), 0);
	CHECK_EQ(a, S + 16 * PG);
	CHECK_EQ(vmmap_alloc(&map, (size_t)1 << 62, 0, S, e, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_count(&map), 2);
	CHECK_EQ(vmmap_allocated(&map), 24 * PG);
	CHECK_EQ(vmmap_largest_free(&map), 32 * PG);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_free_rejects_double_and_bad_frees)
{
	struct vmmap map;
	uintptr_t a, b, e = S + 64 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	CHECK_EQ(vmmap_alloc(&map, 4 * PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(vmmap_alloc(&map, 4 * PG, 0, S, e, 0, &b), 0);
	CHECK_EQ(vmmap_free(&map, a, 2 * PG), EINVAL);	/* short */
	CHECK_EQ(vmmap_free(&map, a, 8 * PG), EINVAL);	/* spans two */
	CHECK_EQ(vmmap_free(&map, a + PG, 3 * PG), EINVAL);	/* inside */
	CHECK_EQ(vmmap_free(&map, a + 1, 4 * PG), EINVAL);	/* unaligned */
	CHECK_EQ(vmmap_free(&map, a, 4 * PG + 1), EINVAL);
	CHECK_EQ(vmmap_free(&map, S, 0), EINVAL);	/* the sentinel */
	CHECK_EQ(vmmap_free(&map, S + 32 * PG, PG), EINVAL);	/* free space */
	CHECK_EQ(vmmap_free(&map, UINTPTR_MAX & ~(uintptr_t)(PG - 1), 2 * PG),
	    EINVAL);
	CHECK_EQ(vmmap_count(&map), 2);
	CHECK(vmmap_is_valid(&map));
	CHECK_EQ(vmmap_free(&map, a, 4 * PG), 0);
	CHECK_EQ(vmmap_free(&map, a, 4 * PG), EINVAL);	/* double */
	CHECK_EQ(vmmap_count(&map), 1);
	CHECK_EQ(vmmap_allocated(&map), 4 * PG);
	CHECK(vmmap_is_valid(&map));
	CHECK_EQ(vmmap_free(&map, b, 4 * PG), 0);
	CHECK_EQ(vmmap_free(&map, b, 4 * PG), EINVAL);
	CHECK_EQ(vmmap_largest_free(&map), 64 * PG);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_exhausts_and_refills_the_arena)
{
	struct vmmap map;
	uintptr_t a, pages[256], e = S + 256 * PG;

	CHECK_EQ(vmmap_init(&map, S, e), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 256; i++) {
			CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &pages[i]),
			    0);
			CHECK_EQ(pages[i], S + (uintptr_t)i * PG);
		}
		CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), ENOMEM);
		CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 16 * PG, &a), ENOMEM);
		CHECK_EQ(vmmap_count(&map), 256);
		CHECK_EQ(vmmap_allocated(&map), 256 * PG);
		CHECK_EQ(vmmap_largest_free(&map), 0);
		CHECK(vmmap_is_valid(&map));
		for (int i = 255; i > 0; i--) {	/* shuffle, then free */
			int j = (int)rng_below((size_t)i + 1);
			uintptr_t t = pages[i];

			pages[i] = pages[j];
			pages[j] = t;
		}
		for (int i = 0; i < 256; i++)
			CHECK_EQ(vmmap_free(&map, pages[i], PG), 0);
		CHECK_EQ(vmmap_count(&map), 0);
		CHECK_EQ(vmmap_largest_free(&map), 256 * PG);
		CHECK(vmmap_is_valid(&map));
	}
	CHECK_EQ(vmmap_alloc(&map, 256 * PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(a, S);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_free(&map, S, 256 * PG), 0);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_tree_stays_balanced_with_many_entries)
{
	struct vmmap map;
	size_t n = 100000;
	uintptr_t a, e = S + n * PG;

	/* Ascending inserts are the worst case for an unbalanced tree. */
	CHECK_EQ(vmmap_init(&map, S, e), 0);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
		CHECK_EQ(a, S + i * PG);
	}
	CHECK(vmmap_is_valid(&map));
	CHECK_EQ(vmmap_largest_free(&map), 0);
	for (size_t i = 1; i < n; i += 2)
		CHECK_EQ(vmmap_free(&map, S + i * PG, PG), 0);
	CHECK(vmmap_is_valid(&map));
	CHECK_EQ(vmmap_largest_free(&map), PG);
	CHECK_EQ(vmmap_alloc(&map, 2 * PG, 0, S, e, 0, &a), ENOMEM);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S + n / 2 * PG, e, 0, &a), 0);
	CHECK_EQ(a, S + (n / 2 + 1) * PG);
	CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
	CHECK_EQ(a, S + PG);
	for (size_t i = n; i-- > 0;)
		(void)vmmap_free(&map, S + i * PG, PG);
	CHECK_EQ(vmmap_count(&map), 0);
	CHECK_EQ(vmmap_largest_free(&map), n * PG);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_window_search_skips_gaps_outside_the_window)
{
	struct vmmap map;
	size_t n = 100000;
	uintptr_t a, e = S + n * PG, low = S + (n - 100) * PG;
	double t0;

	/* 50,000 one-page holes, every one a candidate by size. */
	CHECK_EQ(vmmap_init(&map, S, e), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
	for (size_t i = 1; i < n; i += 2)
		CHECK_EQ(vmmap_free(&map, S + i * PG, PG), 0);
	/*
	 * Walking the holes outside the window would take seconds for these
	 * 20,000 calls; pruning by address makes each one O(log n).
	 */
	t0 = test_now();
	for (int i = 0; i < 10000; i++) {
		CHECK_EQ(vmmap_alloc(&map, PG, 0, low, e, 0, &a), 0);
		CHECK_EQ(a, low + PG);
		CHECK_EQ(vmmap_free(&map, a, PG), 0);
		CHECK_EQ(vmmap_alloc(&map, PG, 0, S, S + PG, 0, &a), ENOMEM);
	}
	CHECK(test_now() - t0 < 1.0);
	CHECK(vmmap_is_valid(&map));
	vmmap_fini(&map);
}

UMA_TEST(vmmap_fini_returns_node_memory)
{
	struct vmmap map;
	uintptr_t a, e = S + 20000 * PG;
	size_t rss0 = 0;

	/* 20,000 nodes are over 1 MiB; leaking 30 rounds would show. */
	for (int round = 0; round < 30; round++) {
		CHECK_EQ(vmmap_init(&map, S, e), 0);
		for (int i = 0; i < 20000; i++)
			CHECK_EQ(vmmap_alloc(&map, PG, 0, S, e, 0, &a), 0);
		vmmap_fini(&map);
		if (round == 0)
			rss0 = test_rss();
	}
	CHECK(test_rss() < rss0 + 4 * 1024 * 1024);
}
