/*
 * vmmap_bench.c - the first-fit map's cost per alloc+free pair against the
 * number of live regions.
 *
 * For each size the map holds `live` regions of 1-16 pages, and the free
 * space is fragmented (twice as many were allocated and a random half
 * freed).  Columns, each the best of several runs since the numbers are
 * noisy on a shared machine:
 *   random   free a random live region, allocate a random size in its place
 *            (the plain call: one O(log n) descent per operation); the
 *            random victim costs cache misses once the nodes outgrow L2
 *   same     allocate one page and free it again: the same O(log n) work on
 *            a warm path, so what is left is the algorithm alone
 *   aligned  like random, but one request in 16 asks for 64 KiB alignment:
 *            the constrained walk, O(log n) per candidate gap examined, and
 *            fragmentation leaves more near-miss candidates as the map grows
 * The arena is fake: the map never touches the memory it manages.
 *
 *   cc -O2 -Isrc -D_GNU_SOURCE bench/vmmap_bench.c src/vmmap.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vm.h"
#include "vmmap.h"

#define	PG		UMA_PAGE_SIZE
#define	BASE		((uintptr_t)1 << 40)
#define	STEPS		200000
#define	RUNS		5

struct region {
	uintptr_t	addr;
	size_t		len;
};

static struct vmmap map;
static struct region *regions;
static size_t live;
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng_next(void)
{

	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
region_alloc(struct region *r, size_t align)
{

	r->len = (1 + rng_next() % 16) * PG;
	if (vmmap_alloc(&map, r->len, align, 0, UINTPTR_MAX, 0,
	    &r->addr) != 0) {
		fprintf(stderr, "vmmap_bench: arena too small\n");
		exit(1);
	}
}

/* Fill the map with 2n regions, then free a random half. */
static void
map_setup(size_t n)
{
	size_t i, k;

	regions = malloc(2 * n * sizeof(*regions));
	if (regions == NULL ||
	    vmmap_init(&map, BASE, BASE + n * 64 * PG) != 0) {
		fprintf(stderr, "vmmap_bench: setup failed\n");
		exit(1);
	}
	for (i = 0; i < 2 * n; i++)
		region_alloc(&regions[i], 0);
	for (i = 2 * n; i > n; i--) {
		k = rng_next() % i;
		vmmap_free(&map, regions[k].addr, regions[k].len);
		regions[k] = regions[i - 1];
	}
	live = n;
}

static void
map_teardown(void)
{

	if (!vmmap_is_valid(&map) || vmmap_count(&map) != live) {
		fprintf(stderr, "vmmap_bench: map corrupt\n");
		exit(1);
	}
	vmmap_fini(&map);
	free(regions);
}

/* ns per pair: replace random regions; every `every`th request aligned. */
static double
run_random(unsigned every)
{
	double t0 = now();
	size_t k;

	for (size_t i = 0; i < STEPS; i++) {
		k = rng_next() % live;
		vmmap_free(&map, regions[k].addr, regions[k].len);
		region_alloc(&regions[k],
		    every != 0 && rng_next() % every == 0 ? 64 * 1024 : 0);
	}
	return ((now() - t0) * 1e9 / STEPS);
}

static double
run_same(unsigned pages)
{
	double t0 = now();
	uintptr_t a;

	for (size_t i = 0; i < STEPS; i++) {
		if (vmmap_alloc(&map, pages * PG, 0, 0, UINTPTR_MAX, 0,
		    &a) != 0)
			exit(1);
		vmmap_free(&map, a, pages * PG);
	}
	return ((now() - t0) * 1e9 / STEPS);
}

static double
run_best(double (*fn)(unsigned), unsigned arg)
{
	double best = 1e300, t;

	for (int i = 0; i < RUNS; i++)
		if ((t = fn(arg)) < best)
			best = t;
	return (best);
}

int
main(void)
{
	static const size_t sizes[] = { 100, 1000, 10000, 100000 };
	double rnd, same, aligned;

	printf("%12s %12s %12s %12s   (ns per alloc+free pair)\n",
	    "live regions", "random", "same", "aligned");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		map_setup(sizes[i]);
		rnd = run_best(run_random, 0);
		same = run_best(run_same, 1);
		aligned = run_best(run_random, 16);
		map_teardown();
		printf("%12zu %12.1f %12.1f %12.1f\n", sizes[i], rnd, same,
		    aligned);
		fflush(stdout);
	}
	return (0);
}
