/*
 * malloc_realloc.c - realloc's work is linear in what it keeps: a block
 * grown in small steps to 256 MiB copies or remaps a small multiple of
 * its final size (bounded by work, counted by vm.malloc.realloc_*, never
 * by time); a large block shrinks and grows in place; a moved block keeps
 * its bytes and reads zeros past its old end; the type statistics and
 * the kmem report's live large bytes stay exact through every kind of
 * resize; an M_NODUMP block stays out of core dumps, all of it, and what
 * it leaves is dumped again; moved runs give their mappings back when
 * freed; and no page of the arena leaks.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <uma/sysctl.h>

#include "harness.h"
#include "kmem.h"
#include "malloc_int.h"
#include "memguard_test.h"
#include "sysctl_test.h"
#include "vm.h"

MALLOC_DEFINE(M_REALLOC, "realloc_test", "realloc growth");

#define	KB	((size_t)1024)
#define	MB	((size_t)1 << 20)

/* Bytes realloc has moved so far, by copying or by remapping pages. */
static uint64_t
realloc_work(void)
{
	return (sysctl_u64("vm.malloc.realloc_copied_bytes") +
	    sysctl_u64("vm.malloc.realloc_remapped_bytes"));
}

static uint64_t
realloc_moves(void)
{
	return (sysctl_u64("vm.malloc.realloc_copied") +
	    sysctl_u64("vm.malloc.realloc_remapped"));
}

/* The byte a block holds at offset off: it differs page to page. */
static unsigned char
pattern(size_t off, int seed)
{
	return ((unsigned char)((off >> 12) * 31 + (off & 0xfff) + seed));
}

/* Type totals: live bytes and live blocks of M_REALLOC. */
static void
type_live(uint64_t *bytes, uint64_t *blocks)
{
	struct malloc_type_totals tt;

	uma__malloc_type_totals(M_REALLOC, &tt);
	*bytes = tt.mt_memalloced - tt.mt_memfreed;
	*blocks = tt.mt_numallocs - tt.mt_numfrees;
}

/* The kmem report's live large runs (vm.kmem_stats' inuse_large). */
static uint64_t
kmem_large(void)
{
	return (uma__vm_pages_used(UMA_PAGES_LARGE) * UMA_PAGE_SIZE);
}

/*
 * Two blocks grown in turn by `step` bytes to `final` each: each blocks
 * the other's growth in place, so every growth past a block's room is a
 * move.  After every step the work done (bytes copied or remapped) must
 * stay within a small multiple of the bytes the blocks hold; a quadratic
 * realloc breaks the bound within the first megabytes.  One byte in
 * every 64 KiB is written and checked, so the test keeps little resident.
 */
static void
grow_two(size_t final, size_t step)
{
	char *b[2] = { NULL, NULL };
	uint64_t work0 = realloc_work(), moves0 = realloc_moves(), moves;
	size_t n = 0;

	for (n = 0; n < final; n += step) {
		for (int i = 0; i < 2; i++) {
			b[i] = uma_realloc(b[i], n + step, M_REALLOC, M_NOWAIT);
			CHECK(b[i] != NULL);
			for (size_t o = roundup2(n, 64 * KB); o < n + step;
			    o += 64 * KB)
				b[i][o] = (char)pattern(o, i);
		}
		if (realloc_work() - work0 > 8 * 2 * (n + step) + 4 * MB) {
			fprintf(stderr, "at %zu bytes each: %ju bytes moved\n",
			    n + step, (uintmax_t)(realloc_work() - work0));
			CHECK(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		for (size_t o = 0; o < final; o += 64 * KB)
			CHECK_EQ((unsigned char)b[i][o], pattern(o, i));
		CHECK(uma_malloc_usable_size(b[i]) >= final);
	}
	moves = realloc_moves() - moves0;
	printf("  %zu MiB in %zu-byte steps, twice: %ju moves, %ju MiB moved\n",
	    final / MB, step, (uintmax_t)moves,
	    (uintmax_t)((realloc_work() - work0) / MB));
	/* The blocks did move (the test tests something), O(log) times. */
	CHECK(moves >= 10);
	CHECK(moves <= 2 * 80);
	uma_free(b[0], M_REALLOC);
	uma_free(b[1], M_REALLOC);
}

UMA_TEST(malloc_realloc_growth_to_256m_by_4k_steps_is_linear)
{
	grow_two(256 * MB, 4 * KB);
}

UMA_TEST(malloc_realloc_growth_to_256m_by_64k_steps_is_linear)
{
	grow_two(256 * MB, 64 * KB);
}

/* One block alone grows at the arena's top: in place, never moved. */
UMA_TEST(malloc_realloc_alone_at_the_top_grows_in_place)
{
	uint64_t moves0, inplace0;
	char *p;

	p = uma_malloc(128 * KB, M_REALLOC, M_WAITOK);
	moves0 = realloc_moves();
	inplace0 = sysctl_u64("vm.malloc.realloc_in_place");
	for (size_t n = 128 * KB; n < 64 * MB; n += 4 * KB) {
		CHECK(uma_realloc(p, n + 4 * KB, M_REALLOC, M_NOWAIT) == p);
		p[n] = 1;
	}
	CHECK_EQ(realloc_moves(), moves0);
	CHECK_EQ(sysctl_u64("vm.malloc.realloc_in_place") - inplace0,
	    (64 * MB - 128 * KB) / (4 * KB));
	uma_free(p, M_REALLOC);
}

UMA_TEST(malloc_realloc_shrinks_and_regrows_large_in_place)
{
	uint64_t pages, bytes, blocks;
	unsigned char *p;

	p = uma_malloc(8 * MB, M_REALLOC, M_WAITOK);
	for (size_t o = 0; o < 8 * MB; o += 4 * KB)
		p[o] = pattern(o, 3);
	pages = uma__vm_pages();
	CHECK(uma_realloc(p, MB + 1, M_REALLOC, M_NOWAIT) == p);
	CHECK_EQ(uma_malloc_usable_size(p), MB + 4 * KB);
	CHECK_EQ(pages - uma__vm_pages(), (8 * MB - MB - 4 * KB) / (4 * KB));
	type_live(&bytes, &blocks);
	CHECK_EQ(bytes, MB + 4 * KB);
	CHECK_EQ(blocks, 1);
	CHECK_EQ(kmem_large(), MB + 4 * KB);
	/* A shrink by less than a quarter keeps the block as it is. */
	CHECK(uma_realloc(p, MB - 100 * KB, M_REALLOC, M_NOWAIT) == p);
	CHECK_EQ(uma_malloc_usable_size(p), MB + 4 * KB);
	/* The tail it gave back is free again: it grows back in place. */
	CHECK(uma_realloc(p, 4 * MB, M_REALLOC, M_NOWAIT) == p);
	for (size_t o = 0; o < MB + 4 * KB; o += 4 * KB)
		CHECK_EQ(p[o], pattern(o, 3));
	for (size_t o = MB + 4 * KB; o < 4 * MB; o++)
		if (p[o] != 0)
			CHECK_EQ(p[o], 0);
	type_live(&bytes, &blocks);
	CHECK_EQ(bytes, 4 * MB);
	CHECK_EQ(blocks, 1);
	CHECK_EQ(kmem_large(), 4 * MB);
	uma_free(p, M_REALLOC);
	type_live(&bytes, &blocks);
	CHECK_EQ(bytes, 0);
	CHECK_EQ(blocks, 0);
	CHECK_EQ(kmem_large(), 0);
}

/*
 * Moves of both kinds (a copy below LARGE_REMAP_MIN, a remap above) keep
 * the bytes, read zeros past the old end, and count as one allocation and
 * one free; the old address is no longer a block.
 */
UMA_TEST(malloc_realloc_moves_keep_bytes_and_statistics)
{
	uint64_t bytes, blocks, remapped, copied;
	unsigned char *p, *q, *wall;
	size_t sizes[] = { 200 * KB, 3 * MB };

	for (int k = 0; k < 2; k++) {
		size_t sz = sizes[k];

		uma_reclaim(UMA_RECLAIM_DRAIN);	/* no cached run to reuse */
		remapped = sysctl_u64("vm.malloc.realloc_remapped");
		copied = sysctl_u64("vm.malloc.realloc_copied");
		p = uma_malloc(sz, M_REALLOC, M_WAITOK);
		wall = uma_malloc(100 * KB, M_REALLOC, M_WAITOK);
		CHECK(wall == p + sz);	/* first fit: right after p */
		for (size_t o = 0; o < sz; o++)
			p[o] = pattern(o, k);
		q = uma_realloc(p, 2 * sz, M_REALLOC, M_NOWAIT | M_ZERO);
		CHECK(q != NULL && q != p);
		for (size_t o = 0; o < sz; o++)
			if (q[o] != pattern(o, k))
				CHECK_EQ(q[o], pattern(o, k));
		for (size_t o = sz; o < uma_malloc_usable_size(q); o++)
			if (q[o] != 0)
				CHECK_EQ(q[o], 0);
		CHECK_EQ(sysctl_u64("vm.malloc.realloc_remapped") - remapped,
		    k == 1);
		CHECK_EQ(sysctl_u64("vm.malloc.realloc_copied") - copied,
		    k == 0);
		CHECK(uma__malloc_large_find(p) == NULL);
		type_live(&bytes, &blocks);
		CHECK_EQ(bytes, uma_malloc_usable_size(q) + 100 * KB);
		CHECK_EQ(blocks, 2);
		CHECK_EQ(kmem_large(), bytes);
		uma_free(q, M_REALLOC);
		uma_free(wall, M_REALLOC);
		type_live(&bytes, &blocks);
		CHECK_EQ(bytes, 0);
		CHECK_EQ(blocks, 0);
		CHECK_EQ(kmem_large(), 0);
	}
}

/* Crossing from a size class into a large run and back copies once each. */
UMA_TEST(malloc_realloc_crosses_between_classes_and_runs)
{
	uint64_t bytes, blocks, copied;
	unsigned char *p;

	p = uma_malloc(60000, M_REALLOC, M_WAITOK);
	for (size_t o = 0; o < 60000; o++)
		p[o] = pattern(o, 5);
	copied = sysctl_u64("vm.malloc.realloc_copied_bytes");
	p = uma_realloc(p, 70000, M_REALLOC, M_NOWAIT);
	CHECK(p != NULL);
	CHECK(uma__malloc_large_find(p) != NULL);
	CHECK_EQ(sysctl_u64("vm.malloc.realloc_copied_bytes") - copied, 65536);
	p = uma_realloc(p, 1000, M_REALLOC, M_NOWAIT);
	CHECK(p != NULL && uma__malloc_large_find(p) == NULL);
	for (size_t o = 0; o < 1000; o++)
		CHECK_EQ(p[o], pattern(o, 5));
	type_live(&bytes, &blocks);
	CHECK_EQ(bytes, 1024);
	CHECK_EQ(blocks, 1);
	uma_free(p, M_REALLOC);
}

/* Every page of a live block is out of dumps. */
static void
check_nodump(const char *p)
{
	size_t size = uma_malloc_usable_size(p);

	for (size_t o = 0; o < size; o += 4 * KB)
		if (test_dontdump(p + o) != 1)
			CHECK_EQ(test_dontdump(p + o), 1);
}

/*
 * An M_NODUMP block stays out of core dumps through every resize (grown
 * in place, shrunk, moved by copying and by remapping), and the memory it
 * leaves behind is dumped again: it may serve anyone.
 */
UMA_TEST(malloc_realloc_keeps_m_nodump_blocks_out_of_dumps)
{
	size_t sizes[] = { 200 * KB, 3 * MB };
	char *p, *q, *wall;

	/* Where the next run lies is the subject: no MemGuard samples. */
	memguard_off();
	for (int k = 0; k < 2; k++) {
		size_t sz = sizes[k];

		uma_reclaim(UMA_RECLAIM_DRAIN);
		p = uma_malloc(sz, M_REALLOC, M_WAITOK | M_NODUMP);
		check_nodump(p);
		/* At the top: grown in place, then shrunk. */
		CHECK(uma_realloc(p, 2 * sz, M_REALLOC, M_NOWAIT) == p);
		check_nodump(p);
		CHECK(uma_realloc(p, sz, M_REALLOC, M_NOWAIT) == p);
		check_nodump(p);
		CHECK_EQ(test_dontdump(p + sz), 0);
		/* Walled in: moved, by a copy (k 0) or by remapping (k 1). */
		wall = uma_malloc(100 * KB, M_REALLOC, M_WAITOK);
		CHECK(wall == p + sz);
		q = uma_realloc(p, 2 * sz, M_REALLOC, M_NOWAIT);
		CHECK(q != NULL && q != p);
		check_nodump(q);
		CHECK_EQ(test_dontdump(p), 0);
		uma_free(q, M_REALLOC);
		CHECK_EQ(test_dontdump(q), 0);
		uma_free(wall, M_REALLOC);
	}
}

/*
 * The mappings that start inside the arena (lines of /proc/self/maps),
 * read with open/read: the sanitizers' allocators map memory of their own.
 */
static int
arena_mappings(void)
{
	uintptr_t start = 0;
	char buf[4096];
	ssize_t n;
	int fd, d, count = 0;
	bool line_start = true, in_addr = true;

	fd = open("/proc/self/maps", O_RDONLY);
	CHECK(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (line_start) {
				start = 0;
				in_addr = true;
				line_start = false;
			}
			d = buf[i] >= 'a' ? buf[i] - 'a' + 10 : buf[i] - '0';
			if (in_addr && d >= 0 && d < 16)
				start = start << 4 | (uintptr_t)d;
			else if (in_addr) {
				in_addr = false;
				count += start - uma_vm_base < uma_vm_size;
			}
			if (buf[i] == '\n')
				line_start = true;
		}
	}
	close(fd);
	return (count);
}

/*
 * A remapped run is a mapping of its own while it lives; freed, its
 * pages rejoin the arena's mapping, so that a program that grows and
 * frees many blocks does not pile up mappings (vm.max_map_count) or
 * leak pages.  (The arena itself is one or two mappings: the part in use
 * and, reserved, the rest.)
 */
UMA_TEST(malloc_realloc_freed_moves_give_mappings_back)
{
	uint64_t pages, remapped = sysctl_u64("vm.malloc.realloc_remapped");
	void *blocks[64], *walls[64];
	int maps;

	/* Every block remapped, none guarded: no MemGuard samples. */
	memguard_off();
	/* Warm up the zones and the arena so the baselines hold. */
	for (int i = 0; i < 64; i++)
		walls[i] = uma_malloc(100 * KB, M_REALLOC, M_WAITOK);
	for (int i = 0; i < 64; i++)
		uma_free(walls[i], M_REALLOC);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	maps = arena_mappings();
	pages = uma__vm_pages();
	for (int round = 0; round < 4; round++) {
		uma_reclaim(UMA_RECLAIM_DRAIN);	/* no cached run to reuse */
		for (int i = 0; i < 64; i++) {
			blocks[i] = uma_malloc(2 * MB, M_REALLOC, M_WAITOK);
			walls[i] = uma_malloc(100 * KB, M_REALLOC, M_WAITOK);
			memset(blocks[i], i, 2 * MB);
		}
		for (int i = 0; i < 64; i++) {
			blocks[i] = uma_realloc(blocks[i], 3 * MB, M_REALLOC,
			    M_NOWAIT);
			CHECK(blocks[i] != NULL);
		}
		CHECK(arena_mappings() > maps + 32);
		for (int i = 0; i < 64; i++) {
			CHECK_EQ(((unsigned char *)blocks[i])[2 * MB - 1], i);
			uma_free(blocks[i], M_REALLOC);
			uma_free(walls[i], M_REALLOC);
		}
	}
	CHECK(sysctl_u64("vm.malloc.realloc_remapped") - remapped >= 4 * 64);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(arena_mappings(), maps);
	CHECK_EQ(uma__vm_pages(), pages);
	CHECK_EQ(uma__vm_lost(), 0);
}

/*
 * Runs freed into the large-run cache around a block that realloc moves
 * stay cached and counted, and everything goes back on reclaim.
 */
UMA_TEST(malloc_realloc_leaves_the_run_cache_consistent)
{
	uint64_t pages, bytes, blocks;
	void *a, *b, *c;
	char *p;

	uma_free(uma_malloc(512 * KB, M_REALLOC, M_WAITOK), M_REALLOC);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	pages = uma__vm_pages();
	p = uma_malloc(512 * KB, M_REALLOC, M_WAITOK);
	a = uma_malloc(256 * KB, M_REALLOC, M_WAITOK);
	b = uma_malloc(256 * KB, M_REALLOC, M_WAITOK);
	c = uma_malloc(256 * KB, M_REALLOC, M_WAITOK);
	uma_free(a, M_REALLOC);
	uma_free(c, M_REALLOC);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 512 * KB);
	for (size_t n = 512 * KB; n < 8 * MB; n += 64 * KB) {
		p = uma_realloc(p, n + 64 * KB, M_REALLOC, M_NOWAIT);
		CHECK(p != NULL);
		p[n] = 7;
	}
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 512 * KB);
	type_live(&bytes, &blocks);
	CHECK_EQ(bytes, uma_malloc_usable_size(p) + 256 * KB);
	CHECK_EQ(blocks, 2);
	uma_free(p, M_REALLOC);
	uma_free(b, M_REALLOC);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(sysctl_u64("vm.malloc.large_cache_bytes"), 0);
	CHECK_EQ(uma__vm_pages(), pages);
}
