/*
 * memguard.c - MemGuard from inside: what vm.memguard.desc, .options,
 * .minsize and .frequency select; a guarded item meets its keg init, zone
 * init, ctor, dtor and finis as any item does, and their failures unwind
 * and count as they would; a guarded object counts in its zone's and
 * type's statistics as an unguarded one, and against the limit; samples
 * come at about the frequency asked for even in a loop the hit path
 * alone serves, under the caps; the kmem report's parts still add up;
 * vm.memguard.objects lists the live objects.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <uma/malloc.h>
#include <uma/mbuf.h>
#include <uma/memguard.h>
#include <uma/uma.h>

#include "harness.h"
#include "kmem.h"
#include "malloc_int.h"
#include "memguard_test.h"
#include "zone_test.h"

MALLOC_DEFINE(M_MGU, "mg_unit", "MemGuard's unit tests");

static _Atomic int inits, finis, ctors, dtors;
static _Atomic int fail_ctor_at, fail_init_at;	/* the n-th call fails */

static int
count_init(void *mem, int size, int flags)
{
	int n = atomic_fetch_add(&inits, 1) + 1;

	if (n == atomic_load(&fail_init_at))
		return (ENOMEM);
	memset(mem, 0x11, (size_t)size);
	return (0);
}

static void
count_fini(void *mem, int size)
{
	atomic_fetch_add(&finis, 1);
}

static int
count_ctor(void *mem, int size, void *arg, int flags)
{
	int n = atomic_fetch_add(&ctors, 1) + 1;

	/* The init ran first, on this very item. */
	CHECK(((unsigned char *)mem)[size - 1] == 0x11);
	return (n == atomic_load(&fail_ctor_at) ? ENOMEM : 0);
}

static void
count_dtor(void *mem, int size, void *arg)
{
	atomic_fetch_add(&dtors, 1);
}

static uma_zone_t
counted_zone(const char *name, int size, uint32_t flags)
{
	uma_zone_t z = uma_zcreate(name, (size_t)size, count_ctor,
	    count_dtor, count_init, count_fini, UMA_ALIGN_CACHE, flags);

	CHECK(z != NULL);
	return (z);
}

static void
set_desc(const char *desc)
{
	CHECK(uma_sysctlbyname("vm.memguard.desc", NULL, NULL, desc,
	    strlen(desc) + 1) == 0);
}

UMA_TEST(memguard_zone_items_meet_init_ctor_dtor_fini)
{
	enum { N = 40 };
	void *p[N];
	uma_zone_t z;
	struct uma__zone_stat zs;

	test_tunables_add("vm.memguard.desc=mgu_zone");
	z = counted_zone("mgu_zone", 300, 0);
	for (int i = 0; i < N; i++) {
		p[i] = uma_zalloc(z, M_WAITOK);
		CHECK(p[i] != NULL && is_memguard_addr(p[i]));
		/* UMA_ALIGN_CACHE holds, and the object ends its page. */
		CHECK_EQ((uintptr_t)p[i] % 64, 0);
		CHECK_EQ(((uintptr_t)p[i] + 320) % 4096, 0);
	}
	CHECK_EQ(atomic_load(&inits), N);
	CHECK_EQ(atomic_load(&ctors), N);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, N);
	CHECK_EQ(zs.zs_frees, 0);
	CHECK_EQ(uma_zone_get_cur(z), N);
	CHECK_EQ(memguard_counter("vm.memguard.live"), N);
	for (int i = 0; i < N; i++)
		uma_zfree(z, p[i]);
	CHECK_EQ(atomic_load(&dtors), N);
	CHECK_EQ(atomic_load(&finis), N);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, N);
	CHECK_EQ(zs.zs_frees, N);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);	/* never cached */
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
	CHECK_EQ(memguard_counter("vm.memguard.numfree"), N);
	/* No live guarded item: the free gate is open again. */
	CHECK_EQ(atomic_load(&z->uz_gate) & UZ_GATE_GUARDED, 0);
	uma_zdestroy(z);
}

UMA_TEST(memguard_zone_ctor_failure_unwinds_and_counts)
{
	uma_zone_t z;
	struct uma__zone_stat zs;
	void *a, *b;

	test_tunables_add("vm.memguard.desc=mgu_zone");
	z = counted_zone("mgu_zone", 100, 0);
	atomic_store(&fail_ctor_at, 2);
	CHECK((a = uma_zalloc(z, M_WAITOK)) != NULL);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);	/* the second ctor fails */
	CHECK((b = uma_zalloc(z, M_WAITOK)) != NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_allocs, 2);
	CHECK_EQ(uma_zone_get_cur(z), 2);
	CHECK_EQ(atomic_load(&inits), 3);
	CHECK_EQ(atomic_load(&finis), 1);	/* the failed one's */
	CHECK_EQ(atomic_load(&dtors), 0);	/* never constructed */
	CHECK_EQ(memguard_counter("vm.memguard.live"), 2);
	uma_zfree(z, a);
	uma_zfree(z, b);
	CHECK_EQ(atomic_load(&finis), 3);
	uma_zdestroy(z);
}

UMA_TEST(memguard_zone_init_failure_fails_the_allocation)
{
	uma_zone_t z;
	struct uma__zone_stat zs;

	test_tunables_add("vm.memguard.desc=mgu_zone");
	z = counted_zone("mgu_zone", 100, 0);
	atomic_store(&fail_init_at, 1);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 1);
	CHECK_EQ(zs.zs_allocs, 0);
	CHECK_EQ(atomic_load(&ctors), 0);
	CHECK_EQ(atomic_load(&finis), 0);	/* the init did not take */
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
	uma_zdestroy(z);
}

/* A guarded item takes its unit of the limit, and gives it back. */
UMA_TEST(memguard_zone_items_count_against_the_limit)
{
	void *p[8];
	uma_zone_t z;

	test_tunables_add("vm.memguard.desc=mgu_limited");
	z = uma_zcreate("mgu_limited", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	uma_zone_set_max(z, 8);
	for (int i = 0; i < 8; i++)
		CHECK((p[i] = uma_zalloc(z, M_NOWAIT)) != NULL &&
		    is_memguard_addr(p[i]));
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	uma_zfree(z, p[0]);
	CHECK((p[0] = uma_zalloc(z, M_NOWAIT)) != NULL);
	for (int i = 0; i < 8; i++)
		uma_zfree(z, p[i]);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	uma_zdestroy(z);
}

/* Counted as the allocations they stand for: class size, or pages. */
UMA_TEST(memguard_type_statistics_count_as_unguarded)
{
	static const size_t sizes[] = { 1, 100, 1000, 5000, 65536, 70000 };
	struct malloc_type_totals tt;
	uint64_t want = 0;
	void *p[6];
	uma_zone_t z112;
	struct uma__zone_stat before, after;

	test_tunables_add("vm.memguard.desc=mg_unit");
	z112 = uma__malloc_class_zone(uma__malloc_class(100));
	before = zstat(z112);
	for (int i = 0; i < 6; i++) {
		p[i] = uma_malloc(sizes[i], M_MGU, M_WAITOK);
		CHECK(p[i] != NULL && is_memguard_addr(p[i]));
		CHECK_EQ(uma_malloc_usable_size(p[i]), sizes[i]);
		want += sizes[i] <= 65536 ?
		    malloc_class_sizes[uma__malloc_class(sizes[i])] :
		    (sizes[i] + 4095) / 4096 * 4096;
	}
	uma__malloc_type_totals(M_MGU, &tt);
	CHECK_EQ(tt.mt_numallocs, 6);
	CHECK_EQ(tt.mt_memalloced, want);
	after = zstat(z112);
	CHECK_EQ(after.zs_allocs - before.zs_allocs, 1);	/* the 100 */
	for (int i = 0; i < 6; i++)
		uma_free(p[i], M_MGU);
	uma__malloc_type_totals(M_MGU, &tt);
	CHECK_EQ(tt.mt_numfrees, 6);
	CHECK_EQ(tt.mt_memfreed, want);
	after = zstat(z112);
	CHECK_EQ(after.zs_frees - before.zs_frees, 1);
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
}

/* desc set and unset at run time; the type keeps its counters. */
UMA_TEST(memguard_desc_at_run_time)
{
	struct malloc_type_totals tt;
	uma_zone_t z;
	void *a, *b, *c, *d;

	z = uma_zcreate("mgu_late", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	a = uma_malloc(64, M_MGU, M_WAITOK);
	b = uma_zalloc(z, M_WAITOK);
	CHECK(!is_memguard_addr(a) && !is_memguard_addr(b));
	uma_zfree(z, b);		/* cached on this CPU */
	set_desc("mg_unit");
	c = uma_malloc(64, M_MGU, M_WAITOK);
	CHECK(is_memguard_addr(c));
	set_desc("mgu_late");
	CHECK((b = uma_zalloc(z, M_WAITOK)) != NULL && is_memguard_addr(b));
	d = uma_malloc(64, M_MGU, M_WAITOK);
	CHECK(!is_memguard_addr(d));
	set_desc("");
	uma_zfree(z, b);
	CHECK((b = uma_zalloc(z, M_WAITOK)) != NULL && !is_memguard_addr(b));
	uma_free(a, M_MGU);
	uma_free(c, M_MGU);
	uma_free(d, M_MGU);
	uma_zfree(z, b);
	uma__malloc_type_totals(M_MGU, &tt);
	CHECK_EQ(tt.mt_numallocs, 3);
	CHECK_EQ(tt.mt_numfrees, 3);
	CHECK_EQ(zstat(z).zs_allocs - zstat(z).zs_frees, 0);
	uma_zdestroy(z);
}

/* 0x2: every allocation of a page or more; smaller ones are not. */
UMA_TEST(memguard_option_alllarge_guards_page_sized_allocations)
{
	void *small, *page, *run;

	test_tunables_add("vm.memguard.options=3");
	small = uma_malloc(1000, M_MGU, M_WAITOK);
	page = uma_malloc(4096, M_MGU, M_WAITOK);
	run = uma_malloc(100000, M_MGU, M_WAITOK);
	CHECK(!is_memguard_addr(small));
	CHECK(is_memguard_addr(page) && is_memguard_addr(run));
	CHECK_EQ(memguard_counter("vm.memguard.frequency_hits"), 0);
	uma_free(small, M_MGU);
	uma_free(page, M_MGU);
	uma_free(run, M_MGU);
}

/* A NOFREE zone's items may be read after free by design: 0x4 only. */
UMA_TEST(memguard_nofree_zone_only_with_option)
{
	uma_zone_t z;
	void *p;

	test_tunables_add("vm.memguard.desc=mgu_nofree");
	z = uma_zcreate("mgu_nofree", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NOFREE);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(!is_memguard_addr(p));
	uma_zfree(z, p);
	memguard_set_int("vm.memguard.options", 5);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(is_memguard_addr(p));
	uma_zfree(z, p);
}

UMA_TEST(memguard_minsize_rejects_and_counts)
{
	void *a, *b;

	test_tunables_add("vm.memguard.desc=mg_unit,vm.memguard.minsize=100");
	a = uma_malloc(99, M_MGU, M_WAITOK);
	b = uma_malloc(100, M_MGU, M_WAITOK);
	CHECK(!is_memguard_addr(a) && is_memguard_addr(b));
	CHECK_EQ(memguard_counter("vm.memguard.minsize_reject"), 1);
	uma_free(a, M_MGU);
	uma_free(b, M_MGU);
}

/*
 * Sampling reaches allocations the hit path alone serves (one item
 * allocated and freed over and over never leaves its CPU's cache):
 * about frequency in 100,000 of them, and they all go back.
 */
UMA_TEST(memguard_sampling_hits_a_hit_path_loop_at_its_frequency)
{
	enum { N = 200000 };
	uma_zone_t z;
	uint64_t hits;
	void *p;

	test_tunables_add("vm.memguard.frequency=1000,"
	    "vm.memguard.frequency_maxrate=0,vm.memguard.frequency_maxlive=0");
	test_pin_one_cpu();
	z = uma_zcreate("mgu_sampled", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (int i = 0; i < N; i++) {
		CHECK((p = uma_zalloc(z, M_WAITOK)) != NULL);
		uma_zfree(z, p);
	}
	hits = memguard_counter("vm.memguard.frequency_hits");
	fprintf(stderr, "%d pairs, %llu sampled (1%% would be %d)\n", N,
	    (unsigned long long)hits, N / 100);
	CHECK(hits >= N / 100 * 7 / 10 && hits <= N / 100 * 13 / 10);
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
	CHECK_EQ(zstat(z).zs_allocs, N);
	CHECK_EQ(zstat(z).zs_frees, N);
	uma_zdestroy(z);
}

/* The same for malloc's classes, whose samples keep the size asked for. */
UMA_TEST(memguard_sampling_malloc_classes_at_its_frequency)
{
	enum { N = 200000 };
	struct malloc_type_totals tt;
	uint64_t hits;
	void *p;

	test_tunables_add("vm.memguard.frequency=1000,"
	    "vm.memguard.frequency_maxrate=0,vm.memguard.frequency_maxlive=0");
	test_pin_one_cpu();
	for (int i = 0; i < N; i++) {
		CHECK((p = uma_malloc(40 + i % 200, M_MGU, M_WAITOK)) != NULL);
		uma_free(p, M_MGU);
	}
	hits = memguard_counter("vm.memguard.frequency_hits");
	CHECK(hits >= N / 100 * 7 / 10 && hits <= N / 100 * 13 / 10);
	uma__malloc_type_totals(M_MGU, &tt);
	CHECK_EQ(tt.mt_numallocs, N);
	CHECK_EQ(tt.mt_numfrees, N);
	CHECK_EQ(tt.mt_memalloced, tt.mt_memfreed);
}

/* At most frequency_maxlive sampled objects live; the rest dropped. */
UMA_TEST(memguard_sampling_caps_live_objects)
{
	enum { N = 50 };
	void *p[N];
	uint64_t drops;
	int guarded = 0;

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxlive=5,vm.memguard.frequency_maxrate=0,"
	    "vm.memguard.frequency_maxbytes=0");
	for (int i = 0; i < N; i++) {
		p[i] = uma_malloc(200000, M_MGU, M_WAITOK);
		guarded += is_memguard_addr(p[i]);
	}
	CHECK_EQ(guarded, 5);
	guarded = 0;
	CHECK_EQ(memguard_counter("vm.memguard.frequency_hits"), 5);
	/* Each drop stretched the countdown: fewer samples came to drop. */
	drops = memguard_counter("vm.memguard.frequency_drops");
	CHECK(drops >= 1 && drops < N - 5);
	for (int i = 0; i < N; i++)
		uma_free(p[i], M_MGU);
	/*
	 * Room again: the next sample is admitted.  It comes when the
	 * countdown drawn at the last drop runs out, which the drops may
	 * have stretched: at most 2 * 2^16 - 1 allocations (the longest a
	 * stretch of MG_STRETCH_MAX draws).  200 tries failed 0.3% of runs
	 * (a simulation of the countdowns; seen in ctest under load).
	 */
	for (int i = 0; i < (2 << 16) && !guarded; i++) {
		p[0] = uma_malloc(200000, M_MGU, M_WAITOK);
		guarded = is_memguard_addr(p[0]);
		uma_free(p[0], M_MGU);
	}
	CHECK(guarded);
	CHECK_EQ(memguard_counter("vm.memguard.frequency_hits"), 6);
}

/*
 * At most frequency_maxbytes of sampled objects' pages live: 16 KiB is
 * four objects of 1,000 bytes (a page each).  An object of more than a
 * quarter of the cap (20,000 bytes: 5 pages) is never sampled, and its
 * drop does not stretch the countdown: the next small allocation is
 * sampled as if it had not come.
 */
UMA_TEST(memguard_sampling_caps_live_bytes)
{
	enum { N = 20 };
	uint64_t drops, hits;
	void *p[N], *big;
	int guarded = 0;

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxlive=0,vm.memguard.frequency_maxrate=0,"
	    "vm.memguard.frequency_maxbytes=16384");
	/*
	 * The first allocation of a class on a CPU fills its cache and is
	 * not a sample (cache.c arms the countdown then): one of each first.
	 */
	uma_free(uma_malloc(20000, M_MGU, M_WAITOK), M_MGU);
	uma_free(uma_malloc(1000, M_MGU, M_WAITOK), M_MGU);
	drops = memguard_counter("vm.memguard.frequency_drops");
	hits = memguard_counter("vm.memguard.frequency_hits");
	for (int i = 0; i < 10; i++) {
		big = uma_malloc(20000, M_MGU, M_WAITOK);
		CHECK(!is_memguard_addr(big));
		uma_free(big, M_MGU);
	}
	CHECK_EQ(memguard_counter("vm.memguard.frequency_drops"), drops + 10);
	/* frequency=100000, not stretched: every allocation is a sample. */
	for (int i = 0; i < 3; i++) {
		p[i] = uma_malloc(1000, M_MGU, M_WAITOK);
		guarded += is_memguard_addr(p[i]);
	}
	CHECK_EQ(guarded, 3);
	for (int i = 3; i < N; i++) {
		p[i] = uma_malloc(1000, M_MGU, M_WAITOK);
		guarded += is_memguard_addr(p[i]);
	}
	CHECK_EQ(guarded, 4);
	CHECK_EQ(memguard_counter("vm.memguard.frequency_hits"), hits + 4);
	CHECK_EQ(memguard_counter("vm.memguard.live_bytes"), 4 * 4096);
	for (int i = 0; i < N; i++)
		uma_free(p[i], M_MGU);
	CHECK_EQ(memguard_counter("vm.memguard.live_bytes"), 0);
}

/* At most a burst of frequency_maxrate a second, and a tenth's burst. */
UMA_TEST(memguard_sampling_caps_the_rate)
{
	uint64_t hits, drops;
	double t0 = test_now();
	struct timespec res;
	void *p;

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxrate=100,vm.memguard.frequency_maxbytes=0");
	for (int i = 0; i < 2000; i++) {
		p = uma_malloc(100000, M_MGU, M_WAITOK);
		uma_free(p, M_MGU);
	}
	hits = memguard_counter("vm.memguard.frequency_hits");
	drops = memguard_counter("vm.memguard.frequency_drops");
	fprintf(stderr, "2000 allocations, every one a sample: %llu guarded, "
	    "%llu dropped, in %.3f s\n", (unsigned long long)hits,
	    (unsigned long long)drops, test_now() - t0);
	/*
	 * A tenth of a second's burst, and what the run's time allows.  The
	 * cap reads CLOCK_MONOTONIC_COARSE, whose ticks (4 ms here) can put
	 * its view of the run a tick longer than test_now()'s: a sample more
	 * than the bound without it (ctest under load failed this check
	 * once in about 200 runs).
	 */
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	CHECK(hits >= 10);
	CHECK(hits <= 10 + 100 * (test_now() - t0 + (double)res.tv_sec +
	    (double)res.tv_nsec / 1e9) + 1);
	/* Drops stretched the countdown: most allocations were no sample. */
	CHECK(drops >= 1 && hits + drops < 2000);
}

/* mbufs: packets (a secondary zone whose init takes a cluster). */
UMA_TEST(memguard_sampled_mbuf_packets_come_and_go)
{
	struct mbuf *m[64];

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxrate=0,vm.memguard.frequency_maxlive=0");
	CHECK(mbuf_init() == 0);
	for (int r = 0; r < 20; r++) {
		for (int i = 0; i < 64; i++) {
			CHECK((m[i] = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR)) !=
			    NULL);
			memset(mtod(m[i], char *), r, MCLBYTES);
		}
		for (int i = 0; i < 64; i++)
			m_freem(m[i]);
	}
	CHECK(memguard_counter("vm.memguard.numalloc") > 0);
	/* Cached packets keep their clusters, guarded ones too, till now. */
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(memguard_counter("vm.memguard.live"), 0);
}

/* Guarded objects are uma's memory: in committed, parts add up. */
UMA_TEST(memguard_kmem_parts_add_up_with_guarded_objects)
{
	struct uma_kmem_stats k;
	void *p[20];

	test_tunables_add("vm.memguard.desc=mg_unit,vm.uma_timeout=86400");
	for (int i = 0; i < 20; i++)
		p[i] = uma_malloc(100 + i * 1000, M_MGU, M_WAITOK);
	uma__kmem_stats(&k);
	CHECK(k.uks_memguard >= 20 * 4096);
	CHECK(k.uks_committed >= k.uks_arena_committed + k.uks_memguard);
	CHECK_EQ(k.uks_other, 0);
	for (int i = 0; i < 20; i++)
		uma_free(p[i], M_MGU);
	uma__kmem_stats(&k);
	CHECK_EQ(k.uks_other, 0);
}

/* vm.memguard.objects: the live ones, as they are. */
UMA_TEST(memguard_objects_node_lists_the_live_objects)
{
	struct {
		struct uma_memguard_objects h;
		struct uma_memguard_object o[8];
	} buf;
	size_t len = sizeof(buf);
	void *p[3];

	test_tunables_add("vm.memguard.desc=mg_unit");
	for (int i = 0; i < 3; i++)
		p[i] = uma_malloc(10 + i, M_MGU, M_WAITOK);
	uma_free(p[1], M_MGU);
	CHECK(uma_sysctlbyname("vm.memguard.objects", &buf, &len, NULL,
	    0) == 0);
	CHECK_EQ(buf.h.umo_version, UMA_MEMGUARD_OBJECTS_VERSION);
	CHECK_EQ(buf.h.umo_size, sizeof(struct uma_memguard_object));
	CHECK_EQ(buf.h.umo_count, 2);
	CHECK_EQ(len, sizeof(buf.h) + 2 * sizeof(buf.o[0]));
	for (int i = 0; i < 2; i++) {
		CHECK(buf.o[i].umo_addr == (uintptr_t)p[0] ||
		    buf.o[i].umo_addr == (uintptr_t)p[2]);
		CHECK_EQ(buf.o[i].umo_bytes, buf.o[i].umo_addr ==
		    (uintptr_t)p[0] ? 10 : 12);
		CHECK(strcmp(buf.o[i].umo_name, "mg_unit") == 0);
		CHECK_EQ(buf.o[i].umo_flags, 0);
		CHECK(buf.o[i].umo_site != 0);
	}
	uma_free(p[0], M_MGU);
	uma_free(p[2], M_MGU);
}

/*
 * Zones whose items cannot live on pages of their own are never guarded,
 * neither sampled nor named in vm.memguard.desc: a per-CPU item is a copy
 * per CPU a page apart, a cache zone's items are the caller's, and an
 * allocf zone's must lie in the caller's pages.  A plain zone beside them
 * is guarded, so that the setup is known to guard what it may.
 */
#define	MGU_POOL	256
static char mgu_pool[MGU_POOL][128] __attribute__((aligned(64)));
static _Atomic int mgu_pool_next;

static int
mgu_import(void *arg, void **store, int count, int domain, int flags)
{
	int n = 0, i;

	while (n < count && (i = atomic_fetch_add(&mgu_pool_next, 1)) <
	    MGU_POOL)
		store[n++] = mgu_pool[i];
	return (n);
}

static void
mgu_release(void *arg, void **store, int count)
{
}

static void *
mgu_allocf(uma_zone_t zone, size_t size, int domain, uint8_t *pflag,
    int wait)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
}

/* n items of the zone: how many were guarded; each written whole. */
static int
mgu_guarded_items(uma_zone_t z, bool pcpu)
{
	void *p[20];
	int guarded = 0;

	for (int i = 0; i < 20; i++) {
		p[i] = pcpu ? uma_zalloc_pcpu(z, M_WAITOK | M_ZERO) :
		    uma_zalloc(z, M_WAITOK);
		CHECK(p[i] != NULL);
		guarded += is_memguard_addr(p[i]) != 0;
		for (int c = 0; c < (pcpu ? uma_ncpus() : 1); c++)
			memset(zpcpu_get_cpu((char *)p[i], c), 0x5a, 64);
	}
	for (int i = 0; i < 20; i++) {
		if (pcpu)
			uma_zfree_pcpu(z, p[i]);
		else
			uma_zfree(z, p[i]);
	}
	return (guarded);
}

UMA_TEST(memguard_never_guards_per_cpu_cache_or_allocf_zones)
{
	static const char *const names[] = { "mgu_pcpu", "mgu_zcache",
	    "mgu_allocf" };
	uma_zone_t plain, z[3];
	void *p;

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxrate=0");
	plain = uma_zcreate("mgu_plain", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	z[0] = uma_zcreate(names[0], 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_PCPU);
	z[1] = uma_zcache_create(names[1], 128, NULL, NULL, NULL, NULL,
	    mgu_import, mgu_release, NULL, 0);
	z[2] = uma_zcreate(names[2], 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	CHECK(plain != NULL && z[0] != NULL && z[1] != NULL && z[2] != NULL);
	CHECK_EQ(uma_zone_set_allocf(z[2], mgu_allocf), 0);
	/*
	 * Sampled: every allocation of a zone that may be guarded is, but
	 * the first on each CPU's cache, which arms the countdown.
	 */
	CHECK(mgu_guarded_items(plain, false) >= 20 - uma_ncpus());
	for (int i = 0; i < 3; i++)
		CHECK_EQ(mgu_guarded_items(z[i], i == 0), 0);
	/* Named whole, at run time. */
	memguard_set_int("vm.memguard.frequency", 0);
	for (int i = 0; i < 3; i++) {
		set_desc(names[i]);
		CHECK_EQ(mgu_guarded_items(z[i], i == 0), 0);
	}
	set_desc("mgu_plain");
	p = uma_zalloc(plain, M_WAITOK);
	CHECK(is_memguard_addr(p));
	uma_zfree(plain, p);
}

/* What must stay out of core dumps stays on uma's pages, which do. */
UMA_TEST(memguard_never_guards_what_must_stay_out_of_core_dumps)
{
	uma_zone_t z;
	void *p, *q;

	test_tunables_add("vm.memguard.desc=mg_unit");
	p = uma_malloc(200 * 1024, M_MGU, M_WAITOK | M_NODUMP);
	q = uma_malloc(200 * 1024, M_MGU, M_WAITOK);
	CHECK(!is_memguard_addr(p) && is_memguard_addr(q));
	uma_free(p, M_MGU);
	uma_free(q, M_MGU);
	/* Below 64 KiB M_NODUMP does nothing: guarded as asked. */
	p = uma_malloc(1000, M_MGU, M_WAITOK | M_NODUMP);
	CHECK(is_memguard_addr(p));
	uma_free(p, M_MGU);
	set_desc("mgu_nodump");
	z = uma_zcreate("mgu_nodump", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, UMA_ZONE_NODUMP);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL && !is_memguard_addr(p));
	uma_zfree(z, p);
}

/*
 * Sizes past malloc's hit table, and M_ZERO (calloc), take the slow
 * path's own pop: a sample there guards the size asked for, and is
 * zeroed within it (the class's 10240 bytes would run past its page).
 */
UMA_TEST(memguard_samples_of_the_slow_pop_guard_the_size_asked_for)
{
	unsigned char *p[20];
	int guarded = 0;

	test_tunables_add("vm.memguard.frequency=100000,"
	    "vm.memguard.frequency_maxrate=0");
	for (int i = 0; i < 20; i++) {
		p[i] = uma_malloc(10000, M_MGU, M_WAITOK | M_ZERO);
		CHECK(p[i] != NULL);
		for (int b = 0; b < 10000; b++)
			if (p[i][b] != 0)
				CHECK_EQ(p[i][b], 0);
		if (is_memguard_addr(p[i])) {
			guarded++;
			CHECK_EQ(uma_malloc_usable_size(p[i]), 10000);
		}
		memset(p[i], 0x5a, 10000);
	}
	/* Most: a refill of an empty cache is no sample (and re-arms). */
	printf("  %d of 20 guarded\n", guarded);
	CHECK(guarded >= 10);
	for (int i = 0; i < 20; i++)
		uma_free(p[i], M_MGU);
}
