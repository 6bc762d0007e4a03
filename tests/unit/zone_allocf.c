/*
 * zone_allocf.c - uma_zone_set_allocf/freef: a keg's slabs on pages of
 * its own page allocator, outside uma's arena.  A counting backend (mmap,
 * munmap) sees every slab come and go, with its pflag; the items are on
 * its pages and behave as any zone's (free checks included); a failing
 * backend is a refusal of memory (M_NOWAIT NULL, M_WAITOK the low-memory
 * path); the setters are refused once the zone is in use.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <uma/malloc.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "vm.h"
#include "zone_test.h"

#define	PFLAG	0x5a
#define	MAXRUNS	4096

/* The counting backend: every run it handed out, until it is back. */
static struct {
	void		*mem[MAXRUNS];
	size_t		 size[MAXRUNS];
	int		 n;
	int		 allocs, frees, refuse;
	uma_zone_t	 zone;		/* what allocf was told */
	bool		 bad_pflag;
} be;

static void *
count_alloc(uma_zone_t zone, size_t size, int domain, uint8_t *pflag,
    int wait)
{
	void *p;

	CHECK_EQ(domain, UMA_ANYDOMAIN);
	CHECK_EQ(*pflag, 0);
	CHECK_EQ(size % 4096, 0);
	be.zone = zone;
	if (be.refuse > 0) {
		be.refuse--;
		return (NULL);
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0xa5, size);	/* not zeroed: uma must not count on it */
	CHECK(be.n < MAXRUNS);
	be.mem[be.n] = p;
	be.size[be.n++] = size;
	be.allocs++;
	*pflag = PFLAG;
	return (p);
}

static void
count_free(void *item, size_t size, uint8_t pflag)
{
	int i;

	if (pflag != PFLAG)
		be.bad_pflag = true;
	for (i = 0; i < be.n && be.mem[i] != item; i++)
		;
	CHECK(i < be.n);
	CHECK_EQ(be.size[i], size);
	be.mem[i] = be.mem[--be.n];
	be.size[i] = be.size[be.n];
	CHECK(munmap(item, size) == 0);
	be.frees++;
}

/* Is p inside a run the backend handed out? */
static bool
backend_owns(const void *p, size_t len)
{
	for (int i = 0; i < be.n; i++)
		if ((const char *)p >= (char *)be.mem[i] &&
		    (const char *)p + len <= (char *)be.mem[i] + be.size[i])
			return (true);
	return (false);
}

static uma_zone_t
backend_zone(const char *name, size_t size)
{
	uma_zone_t z;

	z = uma_zcreate(name, size, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_allocf(z, count_alloc), 0);
	CHECK_EQ(uma_zone_set_freef(z, count_free), 0);
	return (z);
}

/*
 * Every slab comes from allocf (told the zone, handed back its pflag by
 * freef); every item lies on its pages, none in the arena; frees, a
 * secondary zone on the keg and a drain work as for any zone, and the
 * drain gives every run back.  Enough slabs to grow the page hash and
 * empty it again, twice.
 */
UMA_TEST(zone_allocf_counting_backend_serves_and_takes_back_the_slabs)
{
	static void *held[3000];
	struct uma__zone_stat zs;
	uma_zone_t z = backend_zone("allocf-count", 1000), sec;

	sec = uma_zsecond_create("allocf-count-sec", NULL, NULL, NULL, NULL,
	    z);
	CHECK(sec != NULL);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000; i++) {
			held[i] = uma_zalloc(i % 3 ? z : sec, M_WAITOK);
			CHECK(held[i] != NULL);
			CHECK(!uma_vm_contains(held[i]));
			CHECK(backend_owns(held[i], 1000));
			memset(held[i], i & 0xff, 1000);
		}
		CHECK(be.zone == z);
		zs = zstat(z);
		CHECK_EQ(zs.zs_pages / zs.zs_ppera, (uint64_t)be.n);
		CHECK_EQ(zs.zs_pages * 4096, (uint64_t)be.n * be.size[0]);
		CHECK_EQ(uma_zone_memory(z), zs.zs_pages * 4096);
		for (int i = 0; i < 3000; i++) {
			CHECK(((unsigned char *)held[i])[999] == (i & 0xff));
			uma_zfree(i % 3 ? z : sec, held[i]);
		}
		uma_zone_reclaim(sec, UMA_RECLAIM_DRAIN);
		uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
		CHECK_EQ(be.n, 0);
		CHECK_EQ(be.frees, be.allocs);
		CHECK_EQ(zstat(z).zs_pages, 0);
	}
	CHECK(!be.bad_pflag);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, 4000);
	CHECK_EQ(zs.zs_frees, 4000);
	CHECK_EQ(zstat(sec).zs_allocs, 2000);
	uma_zdestroy(sec);
	uma_zdestroy(z);
}

static uma_zone_t misuse_a, misuse_b;

/*
 * An item goes back to its slab (a one-page slab that another item held
 * keeps), and is freed again.
 */
static void
double_free(void *arg)
{
	static void *p[50];
	int k = -1;

	for (int i = 0; i < 50; i++)
		CHECK((p[i] = uma_zalloc(misuse_a, M_WAITOK)) != NULL);
	CHECK_EQ(zstat(misuse_a).zs_ppera, 1);
	for (int i = 0; i < 50 && k < 0; i++)
		for (int j = i + 1; j < 50 && k < 0; j++)
			if ((uintptr_t)p[i] >> 12 == (uintptr_t)p[j] >> 12)
				k = i;
	CHECK(k >= 0);
	uma_zfree(misuse_a, p[k]);
	uma_zone_reclaim(misuse_a, UMA_RECLAIM_DRAIN_CPU);
	uma_zfree(misuse_a, p[k]);
	uma_zone_reclaim(misuse_a, UMA_RECLAIM_DRAIN_CPU);
}

static void
wrong_zone(void *arg)
{
	uma_zfree(misuse_b, uma_zalloc(misuse_a, M_WAITOK));
	uma_zone_reclaim(misuse_b, UMA_RECLAIM_DRAIN_CPU);
}

static void
inside_item(void *arg)
{
	uma_zfree(misuse_a, (char *)uma_zalloc(misuse_a, M_WAITOK) + 8);
	uma_zone_reclaim(misuse_a, UMA_RECLAIM_DRAIN_CPU);
}

/* Items on foreign pages are checked like any: found through the hash. */
UMA_TEST(zone_allocf_misuse_of_its_items_is_caught)
{
	static const char *const dbl[] = { "zone \"allocf-a\"",
	    "double free", NULL };
	static const char *const wrong[] = { "zone \"allocf-b\"",
	    "belongs to zone \"allocf-a\"", NULL };
	static const char *const inside[] = { "zone \"allocf-a\"",
	    "not the start of an item", NULL };

	misuse_a = backend_zone("allocf-a", 200);
	misuse_b = uma_zcreate("allocf-b", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(misuse_b != NULL);
	CHECK(expect_abort(double_free, NULL, dbl));
	CHECK(expect_abort(wrong_zone, NULL, wrong));
	CHECK(expect_abort(inside_item, NULL, inside));
}

static void
waitok_never_served(void *arg)
{
	int one = 1;
	uma_zone_t z = backend_zone("allocf-dry", 128);

	CHECK_EQ(uma_sysctlbyname("vm.lowmem_retries", NULL, NULL, &one,
	    sizeof(one)), 0);
	be.refuse = 1000;
	(void)uma_zalloc(z, M_WAITOK);
	fprintf(stderr, "uma_zalloc(M_WAITOK) returned\n");
}

/*
 * A NULL from allocf is a refusal of memory: M_NOWAIT gets NULL and
 * counts a failure; M_WAITOK is served once allocf gives again, and
 * refused for good, ends with the out-of-memory message naming the zone.
 */
UMA_TEST(zone_allocf_failing_backend_is_a_refusal_of_memory)
{
	static const char *const n[] = { "uma: out of memory: ",
	    "128 bytes for zone \"allocf-dry\"", NULL };
	uma_zone_t z = backend_zone("allocf-fail", 128);
	void *p;

	be.refuse = 1;
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK_EQ(zstat(z).zs_fails, 1);
	CHECK_EQ(be.refuse, 0);
	/* The refill's, the single item's and a retry's: then served. */
	be.refuse = 3;
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL && backend_owns(p, 128));
	CHECK_EQ(be.refuse, 0);
	CHECK_EQ(zstat(z).zs_fails, 1);
	uma_zfree(z, p);
	CHECK(expect_abort(waitok_never_served, NULL, n));
	uma_zdestroy(z);
}

static void
arena_alloc(void *arg)
{
	uma_zone_t z = uma_zcreate("allocf-arena", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	CHECK_EQ(uma_zone_set_allocf(z, arg), 0);
	(void)uma_zalloc(z, M_WAITOK);
}

MALLOC_DEFINE(M_ALLOCF, "allocf_test", "pages from uma_malloc");

static void *
malloc_pages(uma_zone_t zone, size_t size, int domain, uint8_t *pflag,
    int wait)
{
	return (uma_malloc_aligned(size, 4096, M_ALLOCF, M_WAITOK));
}

/*
 * The setters: only before the first allocation (EBUSY after), not for
 * cache or per-CPU zones (EINVAL), and NULL gives the keg uma's pages
 * back; an allocf that returns uma's own memory is a misuse.
 */
UMA_TEST(zone_allocf_only_while_cold_and_not_on_uma_memory)
{
	static const char *const n[] = { "keg \"allocf-arena\"",
	    "memory of uma's own arena", NULL };
	uma_zone_t z, pcpu;
	void *p;

	z = uma_zcreate("allocf-late", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	CHECK_EQ(uma_zone_set_allocf(z, count_alloc), 0);
	CHECK_EQ(uma_zone_set_allocf(z, NULL), 0);	/* back to uma's */
	p = uma_zalloc(z, M_WAITOK);
	CHECK(uma_vm_contains(p));
	CHECK_EQ(uma_zone_set_allocf(z, count_alloc), EBUSY);
	CHECK_EQ(uma_zone_set_freef(z, count_free), EBUSY);
	uma_zfree(z, p);
	pcpu = uma_zcreate("allocf-pcpu", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_PCPU);
	CHECK_EQ(uma_zone_set_allocf(pcpu, count_alloc), EINVAL);
	CHECK(expect_abort(arena_alloc, (void *)malloc_pages, n));
	uma_zdestroy(z);
	uma_zdestroy(pcpu);
}
