/*
 * zone_layout.c - slab layout: every item size from 8 B to 64 KiB gets a
 * slab that wastes at most UMA_MAX_WASTE (10%), items over a page 3%, and
 * the layout numbers the statistics report are consistent with the items
 * the zone hands out.
 *
 * Prints one table row per size: size, rsize, ipers, ppera, where the slab
 * header lives and the efficiency.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "stats.h"
#include "vm.h"

#define	PAGE	4096u

static const uint32_t odd_sizes[] = {
	24, 40, 48, 96, 100, 192, 384, 500, 1000, 1500, 3000, 5000, 9000,
	12000, 40000,
};

/* Sizes to lay out: powers of two, the odd ones, multiples of 8 to 512. */
static int
layout_sizes(uint32_t *out, int max)
{
	int n = 0;

	for (uint32_t s = 8; s <= 65536; s <<= 1)
		out[n++] = s;
	for (size_t i = 0; i < sizeof(odd_sizes) / sizeof(odd_sizes[0]); i++)
		out[n++] = odd_sizes[i];
	for (uint32_t s = 8; s <= 512; s += 8)
		out[n++] = s;
	/* Sort and drop duplicates. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			uint32_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	int m = 0;
	for (int i = 0; i < n; i++)
		if (m == 0 || out[m - 1] != out[i])
			out[m++] = out[i];
	CHECK(m <= max);
	return (m);
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * One zone of `size` bytes: check the layout invariants and print its row.
 * Returns the efficiency in percent (ipers * rsize over the slab's pages).
 */
static unsigned
layout_check_one(uint32_t size, int align)
{
	struct uma__zone_stat zs;
	char name[32];
	void *item;
	uma_zone_t z;

	snprintf(name, sizeof(name), "layout-%u", size);
	z = uma_zcreate(name, size, NULL, NULL, NULL, NULL, align, 0);
	CHECK(z != NULL);
	item = uma_zalloc(z, M_WAITOK);
	CHECK(item != NULL);
	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);

	CHECK(zs.zs_size == size);
	CHECK(zs.zs_rsize >= size);
	CHECK(zs.zs_rsize >= 8);
	CHECK((zs.zs_rsize & (uint32_t)align) == 0);
	CHECK(zs.zs_ipers >= 1);
	CHECK(zs.zs_ppera >= 1);
	CHECK((uint64_t)zs.zs_ipers * zs.zs_rsize <=
	    (uint64_t)zs.zs_ppera * PAGE);
	/* An inline header needs room after the items. */
	if (!zs.zs_offpage)
		CHECK((uint64_t)zs.zs_ipers * zs.zs_rsize <
		    (uint64_t)zs.zs_ppera * PAGE);
	CHECK(zs.zs_pages >= zs.zs_ppera);
	CHECK(zs.zs_pages % zs.zs_ppera == 0);
	CHECK_EQ(uma_zone_memory(z), zs.zs_pages * PAGE);

	unsigned eff = (unsigned)((uint64_t)zs.zs_ipers * zs.zs_rsize * 100 /
	    ((uint64_t)zs.zs_ppera * PAGE));
	printf("%6u %6u %5u %5u %-8s %4u%% (reported %u%%)\n", size,
	    zs.zs_rsize, zs.zs_ipers, zs.zs_ppera,
	    zs.zs_offpage ? "off-page" : "inline", eff, zs.zs_efficiency);
	if (eff < 90 || zs.zs_efficiency < 90)
		fprintf(stderr, "size %u: efficiency %u%% (reported %u%%) < 90%%\n",
		    size, eff, zs.zs_efficiency);
	/* The reported efficiency may count an off-page header, never more. */
	CHECK(zs.zs_efficiency <= eff);

	/*
	 * Items handed out are aligned, distinct and do not overlap: take
	 * two slabs' worth and look at their addresses.
	 */
	int n = (int)zs.zs_ipers * 2;
	if (n < 16)
		n = 16;
	if (n > 2048)
		n = 2048;
	uintptr_t *addr = calloc((size_t)n + 1, sizeof(*addr));
	CHECK(addr != NULL);
	addr[0] = (uintptr_t)item;
	for (int i = 1; i <= n; i++) {
		void *p = uma_zalloc(z, M_WAITOK);

		CHECK(p != NULL);
		addr[i] = (uintptr_t)p;
	}
	qsort(addr, (size_t)n + 1, sizeof(*addr), cmp_ptr);
	for (int i = 0; i <= n; i++) {
		CHECK((addr[i] & (uintptr_t)align) == 0);
		if (i > 0)
			CHECK(addr[i] - addr[i - 1] >= zs.zs_rsize);
		memset((void *)addr[i], 0xa5, size);
	}
	for (int i = 0; i <= n; i++)
		uma_zfree(z, (void *)addr[i]);
	free(addr);
	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	CHECK_EQ(zs.zs_allocs, zs.zs_frees);
	uma_zdestroy(z);
	return (eff < zs.zs_efficiency ? eff : zs.zs_efficiency);
}

UMA_TEST(zone_layout_every_size_wastes_at_most_ten_percent)
{
	uint32_t sizes[128];
	int n = layout_sizes(sizes, 128), bad = 0;

	printf("  size  rsize ipers ppera header    eff\n");
	for (int i = 0; i < n; i++)
		if (layout_check_one(sizes[i], UMA_ALIGN_PTR) < 90)
			bad++;
	CHECK_EQ(bad, 0);
}

UMA_TEST(zone_layout_cache_aligned_items_are_aligned_and_dense)
{
	static const uint32_t sizes[] = { 8, 24, 64, 100, 192, 500, 1000,
	    3000, 4096, 9000, 65536 };
	int bad = 0;

	/*
	 * Cache alignment pads small items to 64 bytes; efficiency counts
	 * real (padded) sizes, as FreeBSD's keg efficiency does.
	 */
	printf("  size  rsize ipers ppera header    eff\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (layout_check_one(sizes[i], UMA_ALIGN_CACHE) < 90)
			bad++;
	CHECK_EQ(bad, 0);
}

UMA_TEST(zone_layout_offpage_flag_forces_offpage_header)
{
	static const uint32_t sizes[] = { 64, 256, 4096, 12000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uma__zone_stat zs;
		uma_zone_t z;
		void *p;

		z = uma_zcreate("layout-notouch", sizes[i], NULL, NULL, NULL,
		    NULL, UMA_ALIGN_PTR, UMA_ZONE_NOTOUCH);
		CHECK(z != NULL);
		p = uma_zalloc(z, M_WAITOK);
		CHECK(p != NULL);
		CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
		CHECK_EQ(zs.zs_offpage, 1);
		CHECK(zs.zs_efficiency >= 90);
		uma_zfree(z, p);
		uma_zdestroy(z);
	}
}

/*
 * Items of a quarter page or more go on to bigger runs until they waste
 * at most 3% (UMA_MAX_WASTE_LARGE): 4608 bytes, malloc's class for a
 * 4 KiB page and its header (sqlite's page cache), once had 5 pages for 4
 * items (90%), and 1088 bytes (a kilobyte and its header) 2 pages for 7
 * (93%).  Every size here reaches 97% within the 32-page limit.
 */
UMA_TEST(zone_layout_items_of_a_quarter_page_up_waste_at_most_three_percent)
{
	static const uint32_t sizes[] = { 1024, 1088, 1100, 1280, 1536,
	    2304, 2560, 3000, 4224, 4608, 5000, 5120, 6144, 7168, 9000,
	    9216, 12000, 20480, 40000, 65536 };
	int bad = 0;

	printf("  size  rsize ipers ppera header    eff\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (layout_check_one(sizes[i], UMA_ALIGN_PTR) < 97)
			bad++;
	CHECK_EQ(bad, 0);
}

/*
 * Items of up to a page come at least UMA_SLAB_MINITEMS (4) a slab: a
 * slab costs its keg a trip to the page layer and back, which one 4 KiB
 * item a slab paid at every allocation.  Bigger items keep their layout
 * (each fills pages of its own).
 */
UMA_TEST(zone_layout_items_up_to_a_page_come_four_a_slab)
{
	static const uint32_t sizes[] = { 1024, 1366, 1500, 2048, 2049,
	    3000, 3584, 4000, 4096 };

	printf("  size  rsize ipers ppera header    eff\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uma__zone_stat zs;
		uma_zone_t z;
		void *p;

		CHECK(layout_check_one(sizes[i], UMA_ALIGN_PTR) >= 90);
		z = uma_zcreate("layout-min", sizes[i], NULL, NULL, NULL,
		    NULL, UMA_ALIGN_PTR, 0);
		CHECK(z != NULL);
		p = uma_zalloc(z, M_WAITOK);
		CHECK(p != NULL);
		CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
		CHECK(zs.zs_ipers >= 4);
		/* No more pages than four items need, or a 97% fit. */
		CHECK(zs.zs_ppera <= (4 * zs.zs_rsize + PAGE - 1) / PAGE ||
		    zs.zs_efficiency >= 97);
		uma_zfree(z, p);
		uma_zdestroy(z);
	}
}
