/*
 * keg_items.c - items between a keg and its zones a run at a time: a fill
 * takes each free item once, whole bitset words as well as single bits,
 * and a release puts a bucket back one run of a slab's items at a time,
 * leaving every slab on the list its free count says and the keg's
 * counters exact; a double free or a pointer that starts no item inside
 * such a run still stops the program, naming the zone.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "share_line.h"
#include "keg.h"
#include "uma_int.h"
#include "vmhash.h"

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return (x < y ? -1 : x > y);
}

/* Slabs on one of the keg's lists. */
static int
list_len(struct slabhead *h)
{
	uma_slab_t s;
	int n = 0;

	LIST_FOREACH(s, h, us_link)
		n++;
	return (n);
}

/* The keg's lists: free, partial and full slabs. */
static void
check_lists(uma_keg_t keg, int nfree, int npart, int nfull)
{
	pthread_mutex_lock(&keg->uk_lock);
	CHECK_EQ(list_len(&keg->uk_free_slab), nfree);
	CHECK_EQ(list_len(&keg->uk_part_slab), npart);
	CHECK_EQ(list_len(&keg->uk_full_slab), nfull);
	CHECK_EQ(keg->uk_free_slabs, (uint64_t)nfree);
	pthread_mutex_unlock(&keg->uk_lock);
}

static uma_zone_t
zone_make(const char *name, size_t size)
{
	uma_zone_t z = uma_zcreate(name, size, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOBUCKET);

	CHECK(z != NULL);
	return (z);
}

/* `nslabs` whole slabs of a fresh keg, sorted by address. */
static void **
take_slabs(uma_keg_t keg, int nslabs)
{
	int n = nslabs * (int)keg->uk_ipers, error;
	void **v = malloc((size_t)n * sizeof(*v));

	CHECK(v != NULL);
	CHECK_EQ(uma__keg_fetch(keg, v, n, M_WAITOK, &error), n);
	CHECK_EQ(error, 0);
	qsort(v, (size_t)n, sizeof(*v), cmp_ptr);
	check_lists(keg, 0, 0, nslabs);
	return (v);
}

/*
 * Fetches of 1, 63, 64, 65 and 200 items from slabs of 16-byte items
 * (about 250 an item, four bitset words): each of the four slabs' items
 * comes exactly once, at an item's start, and the keg counts the rest.
 */
UMA_TEST(keg_fetch_takes_each_item_once_by_words_and_bits)
{
	static const int sizes[] = { 1, 63, 64, 65, 200 };
	uma_zone_t z = zone_make("keg-fetch-words", 16);
	uma_keg_t keg = z->uz_keg;
	int total, n = 0, got, error, i = 0;
	void **v;

	CHECK(keg->uk_ipers > 128);
	CHECK_EQ(uma__keg_prealloc(keg, 4), 4);
	total = 4 * (int)keg->uk_ipers;
	CHECK((v = malloc((size_t)total * sizeof(*v))) != NULL);
	while (n < total) {
		int want = sizes[i++ % 5];

		if (want > total - n)
			want = total - n;
		got = uma__keg_fetch(keg, v + n, want, M_NOWAIT | M_NOVM,
		    &error);
		CHECK_EQ(got, want);
		n += got;
		CHECK_EQ(keg->uk_free_items, (uint64_t)(total - n));
	}
	/* No fifth slab: M_NOVM refuses pages. */
	CHECK_EQ(uma__keg_fetch(keg, v, 1, M_NOWAIT | M_NOVM, &error), 0);
	qsort(v, (size_t)total, sizeof(*v), cmp_ptr);
	for (int k = 0; k < total; k++) {
		uma_slab_t slab = uma_page_slab(v[k]);

		CHECK(slab != NULL && slab->us_keg == keg);
		CHECK_EQ(((char *)v[k] - slab->us_data) % keg->uk_rsize, 0);
		if (k > 0)
			CHECK(v[k] != v[k - 1]);
	}
	check_lists(keg, 0, 0, 4);
	uma__keg_release(keg, v, total, z);
	check_lists(keg, 4, 0, 0);
	CHECK_EQ(keg->uk_free_items, (uint64_t)total);
	free(v);
	uma_zdestroy(z);
}

/*
 * One release of items from three slabs: the first half of slabs A and B
 * interleaved (runs of one item), then all of C in order (one run).  A
 * and B end partial and C free; then the rest of A and B, in reverse,
 * makes all three free.  For a keg whose headers are off-page (64-byte
 * items: the slab table names them) and one whose headers are inline
 * (112-byte items: found from the page tag).
 */
static void
release_runs(size_t size, bool offpage)
{
	uma_zone_t z = zone_make("keg-release-runs", size);
	uma_keg_t keg = z->uz_keg;
	int ip, n = 0;
	void **v, **b;

	CHECK_EQ(!!(keg->uk_flags & UMA_ZFLAG_OFFPAGE), offpage);
	v = take_slabs(keg, 3);
	ip = (int)keg->uk_ipers;
	CHECK((b = malloc((size_t)3 * ip * sizeof(*b))) != NULL);
	/* Sorted: slab A is v[0..ip), B v[ip..2ip), C v[2ip..3ip). */
	CHECK(uma_page_slab(v[0]) != uma_page_slab(v[ip]));
	CHECK(uma_page_slab(v[ip]) != uma_page_slab(v[2 * ip]));
	for (int i = 0; i < ip / 2; i++) {
		b[n++] = v[i];
		b[n++] = v[ip + i];
	}
	for (int i = 0; i < ip; i++)
		b[n++] = v[2 * ip + i];
	uma__keg_release(keg, b, n, z);
	check_lists(keg, 1, 2, 0);
	CHECK_EQ(keg->uk_free_items, (uint64_t)(ip / 2 * 2 + ip));
	CHECK_EQ(((uma_slab_t)uma_page_slab(v[0]))->us_freecount, ip / 2);
	CHECK_EQ(((uma_slab_t)uma_page_slab(v[ip]))->us_freecount, ip / 2);
	n = 0;
	for (int i = 2 * ip - 1; i >= ip / 2; i--)
		if (i < ip || i >= ip + ip / 2)
			b[n++] = v[i];
	uma__keg_release(keg, b, n, z);
	check_lists(keg, 3, 0, 0);
	CHECK_EQ(keg->uk_free_items, (uint64_t)(3 * ip));
	free(b);
	free(v);
	uma_zdestroy(z);
}

UMA_TEST(keg_release_files_each_slab_of_interleaved_runs)
{
	release_runs(64, true);
	release_runs(112, false);
}

/*
 * Fills from partial slabs: a slab that stays partial keeps its place
 * first on the list, one that runs out goes to the full list, and the
 * counters follow.
 */
UMA_TEST(keg_fetch_moves_only_the_slabs_that_run_out)
{
	uma_zone_t z = zone_make("keg-fetch-part", 112);
	uma_keg_t keg = z->uz_keg;
	int ip, error, half;
	void **v, *w[64];

	v = take_slabs(keg, 2);
	ip = (int)keg->uk_ipers;
	half = ip / 2;
	uma__keg_release(keg, v, half, z);		/* A half free */
	uma__keg_release(keg, v + ip, ip, z);		/* B free */
	check_lists(keg, 1, 1, 0);
	CHECK_EQ(uma__keg_fetch(keg, w, 3, M_NOWAIT | M_NOVM, &error), 3);
	check_lists(keg, 1, 1, 0);
	CHECK_EQ(((uma_slab_t)uma_page_slab(v[0]))->us_freecount, half - 3);
	/* The rest of A, and 2 of B, which becomes partial. */
	CHECK_EQ(uma__keg_fetch(keg, w, half - 1, M_NOWAIT | M_NOVM, &error),
	    half - 1);
	check_lists(keg, 0, 1, 1);
	CHECK_EQ(keg->uk_free_items, (uint64_t)(ip - 2));
	CHECK_EQ(((uma_slab_t)uma_page_slab(v[ip]))->us_freecount, ip - 2);
	free(v);
	uma_zdestroy(z);
}

/* A bucket whose third item repeats its second: one run, then a repeat. */
static void
release_double(void *arg)
{
	uma_zone_t z = zone_make("keg-release-dbl", 64);
	void **v = take_slabs(z->uz_keg, 1);
	void *b[4] = { v[0], v[1], v[2], v[1] };

	(void)arg;
	uma__keg_release(z->uz_keg, b, 4, z);
}

UMA_TEST(keg_release_double_free_inside_a_run_aborts)
{
	static const char *const needles[] = { "keg-release-dbl",
	    "double free", NULL };

	CHECK(expect_abort(release_double, NULL, needles));
}

/* An item's address plus 8 in the middle of a run of its slab. */
static void
release_inside(void *arg)
{
	uma_zone_t z = zone_make("keg-release-mid", 64);
	void **v = take_slabs(z->uz_keg, 1);
	void *b[3] = { v[0], (char *)v[1] + 8, v[2] };

	(void)arg;
	uma__keg_release(z->uz_keg, b, 3, z);
}

UMA_TEST(keg_release_pointer_inside_an_item_aborts)
{
	static const char *const needles[] = { "keg-release-mid",
	    "not the start of an item", NULL };

	CHECK(expect_abort(release_inside, NULL, needles));
}

/*
 * A pointer on the slab's page past its last item (the inline header of
 * a slab of 112-byte items, 36 of them and 64 bytes left): the page names
 * the slab, yet the run stops before it.
 */
static void
release_past(void *arg)
{
	uma_zone_t z = zone_make("keg-release-past", 112);
	uma_keg_t keg = z->uz_keg;
	void **v = take_slabs(keg, 1);
	char *past = (char *)v[keg->uk_ipers - 1] + keg->uk_rsize;
	void *b[2] = { v[0], past };

	(void)arg;
	CHECK(!(keg->uk_flags & UMA_ZFLAG_OFFPAGE));
	CHECK(uma_page_slab(past) == uma_page_slab(v[0]));
	uma__keg_release(keg, b, 2, z);
}

UMA_TEST(keg_release_pointer_past_the_items_aborts)
{
	static const char *const needles[] = { "keg-release-past",
	    "not the start of an item", NULL };

	CHECK(expect_abort(release_past, NULL, needles));
}

/*
 * Fills of every length from three strides to a full bucket (253), of
 * items whose stride is 5, 3 and 2 (16, 48 and 200 bytes): no two
 * neighbours share a line, across the blocks of the spread order and its
 * last, longer block, and no item comes twice.
 */
UMA_TEST(keg_fetch_spread_keeps_neighbours_apart_at_every_length)
{
	static const size_t sizes[] = { 16, 48, 200 };
	void *v[253];
	int error;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uma_zone_t z = zone_make("keg-spread", sizes[s]);
		uma_keg_t keg = z->uz_keg;
		int stride = (int)((UMA_CACHELINE + keg->uk_rsize - 1) /
		    keg->uk_rsize) + 1;

		for (int n = 3 * stride; n <= 253; n++) {
			CHECK_EQ(uma__keg_fetch(keg, v, n, M_WAITOK, &error), n);
			for (int i = 0; i + 1 < n; i++)
				CHECK(!share_line(v[i], v[i + 1], sizes[s]));
			qsort(v, (size_t)n, sizeof(*v), cmp_ptr);
			for (int i = 0; i + 1 < n; i++)
				CHECK(v[i] != v[i + 1]);
			uma__keg_release(keg, v, n, z);
		}
		CHECK_EQ(keg->uk_free_items, keg->uk_pages / keg->uk_ppera *
		    keg->uk_ipers);
		uma_zdestroy(z);
	}
}

/*
 * The exact division behind every item check (uma_divx): for every item
 * size up to 8 KiB and a sample of larger ones, each offset of the first
 * 300 items gives its index where an item starts, and more than
 * UINT64_MAX / size (far past any slab's items) one byte, half an item
 * and one item less a byte after it.
 */
UMA_TEST(keg_exact_division_gives_the_index_or_a_huge_value)
{
	uint64_t bad = 0;

	for (uint32_t size = 1; size <= 65536; size += size < 8192 ? 1 : 97) {
		struct uma_divx dx = uma_divx_make(size);
		uint64_t most = UINT64_MAX / size;
		uint32_t r[3] = { 1, size / 2, size - 1 };

		CHECK_EQ(dx.dx_inv * (size >> dx.dx_rot), 1);
		for (uint64_t k = 0; k < 300; k++) {
			uint64_t off = k * size;

			bad += uma_divx(off, dx.dx_inv, dx.dx_rot) != k;
			for (int i = 0; i < 3; i++)
				if (r[i] % size != 0)
					bad += uma_divx(off + r[i], dx.dx_inv,
					    dx.dx_rot) <= most;
		}
	}
	CHECK_EQ(bad, 0);
}
