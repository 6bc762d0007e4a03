/*
 * zone_api.c - the zone allocator through its public interface only:
 * creation and destruction, ctor/dtor/init/fini and their arguments,
 * M_ZERO, alignment, limits and warnings, reserve, prealloc, reclaim and
 * NOFREE, per-item reference counts, bucket flags, and fork().
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/uma.h>

#include "harness.h"

static uma_zone_t
zmake(const char *name, size_t size, uint32_t flags)
{
	uma_zone_t z = uma_zcreate(name, size, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, flags);

	CHECK(z != NULL);
	return (z);
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return (x < y ? -1 : x > y);
}

/* Items are distinct and do not overlap. */
static void
check_disjoint(void **v, int n, size_t size)
{
	uintptr_t *a = malloc(sizeof(*a) * (size_t)n);

	CHECK(a != NULL);
	for (int i = 0; i < n; i++)
		a[i] = (uintptr_t)v[i];
	qsort(a, (size_t)n, sizeof(*a), cmp_ptr);
	for (int i = 1; i < n; i++)
		CHECK(a[i] - a[i - 1] >= size);
	free(a);
}

/* ---- capturing stderr --------------------------------------------------- */

struct capture {
	int	 saved;
	FILE	*tmp;
	char	 buf[8192];
};

static void
capture_begin(struct capture *c)
{
	fflush(stderr);
	c->saved = dup(2);
	c->tmp = tmpfile();
	CHECK(c->saved >= 0 && c->tmp != NULL);
	CHECK(dup2(fileno(c->tmp), 2) == 2);
}

static const char *
capture_end(struct capture *c)
{
	size_t n;

	fflush(stderr);
	CHECK(dup2(c->saved, 2) == 2);
	close(c->saved);
	rewind(c->tmp);
	n = fread(c->buf, 1, sizeof(c->buf) - 1, c->tmp);
	c->buf[n] = '\0';
	fclose(c->tmp);
	return (c->buf);
}

static int
count_occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *s = hay; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return (n);
}

/* ---- basics ------------------------------------------------------------- */

UMA_TEST(zone_api_create_alloc_free_destroy_round_trip)
{
	static void *v[3000];
	uma_zone_t z = zmake("api-basic", 72, 0);

	CHECK(strcmp(uma_zone_name(z), "api-basic") == 0);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 3000; i++) {
			v[i] = uma_zalloc(z, i % 2 ? M_NOWAIT : M_WAITOK);
			CHECK(v[i] != NULL);
			memset(v[i], i & 0xff, 72);
		}
		check_disjoint(v, 3000, 72);
		for (int i = 0; i < 3000; i++) {
			unsigned char *c = v[i];

			CHECK(c[0] == (i & 0xff) && c[71] == (i & 0xff));
			uma_zfree(z, v[i]);
		}
		CHECK_EQ(uma_zone_get_cur(z), 0);
	}
	uma_zdestroy(z);
	/* A zone with the same name can be made again. */
	z = zmake("api-basic", 72, 0);
	CHECK((v[0] = uma_zalloc(z, M_WAITOK)) != NULL);
	uma_zfree(z, v[0]);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_free_of_null_is_ignored)
{
	uma_zone_t z = zmake("api-null", 64, 0);

	uma_zfree(z, NULL);
	uma_zfree_arg(z, NULL, &z);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_zcreate_rejects_bad_alignment_with_einval)
{
	errno = 0;
	CHECK(uma_zcreate("api-badalign", 64, NULL, NULL, NULL, NULL, 5,
	    0) == NULL);
	CHECK_EQ(errno, EINVAL);
}

UMA_TEST(zone_api_get_cur_counts_outstanding_items)
{
	static void *v[100];
	uma_zone_t z = zmake("api-cur", 40, 0);

	for (int i = 0; i < 100; i++)
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	CHECK_EQ(uma_zone_get_cur(z), 100);
	for (int i = 0; i < 40; i++)
		uma_zfree(z, v[i]);
	CHECK_EQ(uma_zone_get_cur(z), 60);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma_zone_get_cur(z), 60);
	for (int i = 40; i < 100; i++)
		uma_zfree(z, v[i]);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	uma_zdestroy(z);
}

/* ---- ctor, dtor, init, fini -------------------------------------------- */

static struct {
	void	*mem;
	int	 size;
	void	*arg;
	int	 flags;
} last_ctor, last_dtor;
static _Atomic int ctors, dtors, kinits, kfinis, zinits, zfinis, bad_size;
static int want_size;

static int
rec_ctor(void *mem, int size, void *arg, int flags)
{
	last_ctor.mem = mem;
	last_ctor.size = size;
	last_ctor.arg = arg;
	last_ctor.flags = flags;
	atomic_fetch_add(&ctors, 1);
	return (0);
}

static void
rec_dtor(void *mem, int size, void *arg)
{
	last_dtor.mem = mem;
	last_dtor.size = size;
	last_dtor.arg = arg;
	atomic_fetch_add(&dtors, 1);
}

static int
rec_kinit(void *mem, int size, int flags)
{
	if (size != want_size)
		atomic_fetch_add(&bad_size, 1);
	atomic_fetch_add(&kinits, 1);
	return (0);
}

static void
rec_kfini(void *mem, int size)
{
	if (size != want_size)
		atomic_fetch_add(&bad_size, 1);
	atomic_fetch_add(&kfinis, 1);
}

static int
rec_zinit(void *mem, int size, int flags)
{
	if (size != want_size)
		atomic_fetch_add(&bad_size, 1);
	atomic_fetch_add(&zinits, 1);
	return (0);
}

static void
rec_zfini(void *mem, int size)
{
	if (size != want_size)
		atomic_fetch_add(&bad_size, 1);
	atomic_fetch_add(&zfinis, 1);
}

UMA_TEST(zone_api_ctor_dtor_get_udata_size_and_flags)
{
	int udata_a, udata_b;
	uma_zone_t z;
	void *p, *q;

	want_size = 100;
	z = uma_zcreate("api-args", 100, rec_ctor, rec_dtor, rec_kinit,
	    rec_kfini, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	p = uma_zalloc_arg(z, &udata_a, M_NOWAIT);
	CHECK(p != NULL);
	CHECK(last_ctor.mem == p);
	CHECK_EQ(last_ctor.size, 100);
	CHECK(last_ctor.arg == &udata_a);
	CHECK((last_ctor.flags & M_NOWAIT) != 0);
	q = uma_zalloc(z, M_WAITOK);
	CHECK(q != NULL && q != p);
	CHECK(last_ctor.mem == q);
	CHECK(last_ctor.arg == NULL);
	CHECK((last_ctor.flags & M_NOWAIT) == 0);
	CHECK_EQ(atomic_load(&ctors), 2);
	CHECK_EQ(atomic_load(&dtors), 0);

	uma_zfree_arg(z, p, &udata_b);
	CHECK(last_dtor.mem == p);
	CHECK_EQ(last_dtor.size, 100);
	CHECK(last_dtor.arg == &udata_b);
	uma_zfree(z, q);
	CHECK(last_dtor.mem == q);
	CHECK(last_dtor.arg == NULL);
	CHECK_EQ(atomic_load(&dtors), 2);

	/* Keg init ran for whole slabs, before the ctor. */
	CHECK(atomic_load(&kinits) >= 2);
	for (int i = 0; i < 500; i++) {
		p = uma_zalloc(z, M_WAITOK);
		CHECK(p != NULL);
		uma_zfree(z, p);
	}
	CHECK_EQ(atomic_load(&ctors), 502);
	CHECK_EQ(atomic_load(&dtors), 502);
	uma_zdestroy(z);
	/* Destroying the zone finalized every item the keg init touched. */
	CHECK_EQ(atomic_load(&kinits), atomic_load(&kfinis));
	CHECK_EQ(atomic_load(&bad_size), 0);
}

UMA_TEST(zone_api_zone_init_fini_balance_and_get_size)
{
	static void *v[400];
	uma_zone_t prim, sec;

	want_size = 200;
	prim = uma_zcreate("api-zinit", 200, NULL, NULL, rec_kinit,
	    rec_kfini, UMA_ALIGN_PTR, 0);
	CHECK(prim != NULL);
	CHECK_EQ(uma_zone_set_zinit(prim, rec_zinit), 0);
	CHECK_EQ(uma_zone_set_zfini(prim, rec_zfini), 0);
	sec = uma_zsecond_create("api-zinit-sec", NULL, NULL, rec_zinit,
	    rec_zfini, prim);
	CHECK(sec != NULL);
	for (int i = 0; i < 400; i++)
		CHECK((v[i] = uma_zalloc(i % 2 ? sec : prim, M_WAITOK)) !=
		    NULL);
	/* Each item out of the keg passed one zone init. */
	CHECK(atomic_load(&zinits) - atomic_load(&zfinis) >= 400);
	for (int i = 0; i < 400; i++)
		uma_zfree(i % 2 ? sec : prim, v[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(atomic_load(&zinits), atomic_load(&zfinis));
	CHECK_EQ(atomic_load(&kinits), atomic_load(&kfinis));
	CHECK_EQ(uma_zone_memory(prim), 0);
	uma_zdestroy(sec);
	uma_zdestroy(prim);
	CHECK_EQ(atomic_load(&bad_size), 0);
}

UMA_TEST(zone_api_set_init_fini_zinit_zfini_ebusy_after_first_alloc)
{
	uma_zone_t z;
	void *p;

	want_size = 64;
	z = zmake("api-ebusy", 64, 0);
	CHECK_EQ(uma_zone_set_init(z, rec_kinit), 0);
	CHECK_EQ(uma_zone_set_fini(z, rec_kfini), 0);
	CHECK_EQ(uma_zone_set_zinit(z, rec_zinit), 0);
	CHECK_EQ(uma_zone_set_zfini(z, rec_zfini), 0);
	p = uma_zalloc(z, M_WAITOK);
	CHECK(p != NULL);
	CHECK(atomic_load(&kinits) >= 1);
	CHECK(atomic_load(&zinits) >= 1);
	CHECK_EQ(uma_zone_set_init(z, NULL), EBUSY);
	CHECK_EQ(uma_zone_set_fini(z, NULL), EBUSY);
	CHECK_EQ(uma_zone_set_zinit(z, NULL), EBUSY);
	CHECK_EQ(uma_zone_set_zfini(z, NULL), EBUSY);
	uma_zfree(z, p);
	/* Still EBUSY once the zone is empty again. */
	CHECK_EQ(uma_zone_set_init(z, NULL), EBUSY);
	uma_zdestroy(z);
	/* The functions set first stayed in force. */
	CHECK_EQ(atomic_load(&kinits), atomic_load(&kfinis));
	CHECK_EQ(atomic_load(&zinits), atomic_load(&zfinis));
}

/* ---- M_ZERO and alignment ----------------------------------------------- */

static int
ctor_scribble(void *mem, int size, void *arg, int flags)
{
	memset(mem, 0xab, (size_t)size);
	return (0);
}

static bool
all_bytes(const void *p, size_t n, unsigned char b)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != b)
			return (false);
	return (true);
}

UMA_TEST(zone_api_mzero_zeroes_after_a_writing_ctor)
{
	static const size_t sizes[] = { 8, 100, 4096, 9000, 65536 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uma_zone_t z = uma_zcreate("api-zero", sizes[i],
		    ctor_scribble, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
		void *p;

		CHECK(z != NULL);
		for (int k = 0; k < 20; k++) {
			p = uma_zalloc(z, M_WAITOK | M_ZERO);
			CHECK(p != NULL);
			CHECK(all_bytes(p, sizes[i], 0));
			memset(p, 0x77, sizes[i]);
			uma_zfree(z, p);
			p = uma_zalloc(z, M_NOWAIT);
			CHECK(p != NULL);
			CHECK(all_bytes(p, sizes[i], 0xab));
			uma_zfree(z, p);
			p = uma_zalloc(z, M_NOWAIT | M_ZERO);
			CHECK(p != NULL);
			CHECK(all_bytes(p, sizes[i], 0));
			memset(p, 0x55, sizes[i]);
			uma_zfree(z, p);
		}
		uma_zdestroy(z);
	}
}

UMA_TEST(zone_api_mzero_without_ctor_zeroes_reused_items)
{
	uma_zone_t z = zmake("api-zero-noctor", 300, 0);
	void *p;

	test_pin_one_cpu();
	for (int k = 0; k < 50; k++) {
		p = uma_zalloc(z, M_WAITOK);
		CHECK(p != NULL);
		memset(p, 0xee, 300);
		uma_zfree(z, p);
		p = uma_zalloc(z, M_WAITOK | M_ZERO);
		CHECK(p != NULL);
		CHECK(all_bytes(p, 300, 0));
		uma_zfree(z, p);
	}
	uma_zdestroy(z);
}

UMA_TEST(zone_api_items_respect_every_alignment_mask)
{
	static const int aligns[] = { UMA_ALIGN_CHAR, UMA_ALIGN_SHORT,
	    UMA_ALIGN_INT, UMA_ALIGN_PTR, UMA_ALIGN_LONG, 15, UMA_ALIGN_CACHE,
	    127, 255, 4095 };
	static const size_t sizes[] = { 1, 7, 24, 100, 1000, 5000 };
	void *v[64];

	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uma_zone_t z = uma_zcreate("api-align", sizes[s], NULL,
			    NULL, NULL, NULL, aligns[a], 0);

			CHECK(z != NULL);
			for (int i = 0; i < 64; i++) {
				v[i] = uma_zalloc(z, M_WAITOK);
				CHECK(v[i] != NULL);
				if (((uintptr_t)v[i] & (uintptr_t)aligns[a]) != 0)
					fprintf(stderr, "size %zu align %d: %p\n",
					    sizes[s], aligns[a], v[i]);
				CHECK(((uintptr_t)v[i] &
				    (uintptr_t)aligns[a]) == 0);
				memset(v[i], 0x3c, sizes[s]);
			}
			check_disjoint(v, 64, sizes[s]);
			for (int i = 0; i < 64; i++)
				uma_zfree(z, v[i]);
			uma_zdestroy(z);
		}
}

UMA_TEST(zone_api_cachespread_items_are_aligned_and_disjoint)
{
	uma_zone_t z = uma_zcreate("api-spread", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_CACHE, UMA_ZONE_CACHESPREAD);
	void *v[200];

	CHECK(z != NULL);
	for (int i = 0; i < 200; i++) {
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		CHECK(((uintptr_t)v[i] & UMA_ALIGN_CACHE) == 0);
		memset(v[i], 1, 200);
	}
	check_disjoint(v, 200, 200);
	for (int i = 0; i < 200; i++)
		uma_zfree(z, v[i]);
	uma_zdestroy(z);
}

/* ---- limits and warnings ------------------------------------------------ */

UMA_TEST(zone_api_limit_refuses_nowait_and_warns_once)
{
	struct capture cap;
	const char *out;
	uma_zone_t z = zmake("api-warn", 64, 0);
	void *p[4];

	test_pin_one_cpu();
	CHECK_EQ(uma_zone_get_max(z), 0);
	CHECK_EQ(uma_zone_set_max(z, 4), 4);
	CHECK_EQ(uma_zone_get_max(z), 4);
	uma_zone_set_warning(z, "api-warn is full");
	for (int i = 0; i < 4; i++)
		CHECK((p[i] = uma_zalloc(z, M_NOWAIT)) != NULL);
	/* Exhausted means threads sleep there, not merely at the limit. */
	CHECK(uma_zone_exhausted(z) == 0);
	capture_begin(&cap);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	out = capture_end(&cap);
	CHECK(strstr(out, "[zone: api-warn] api-warn is full") != NULL);
	CHECK_EQ(count_occurrences(out, "api-warn is full"), 1);
	uma_zfree(z, p[0]);
	CHECK((p[0] = uma_zalloc(z, M_NOWAIT)) != NULL);
	for (int i = 0; i < 4; i++)
		uma_zfree(z, p[i]);
	/* Removing the limit. */
	CHECK_EQ(uma_zone_set_max(z, 0), 0);
	CHECK_EQ(uma_zone_get_max(z), 0);
	CHECK(uma_zone_exhausted(z) == 0);
	uma_zdestroy(z);
}

/* ---- memory: prealloc, reserve, reclaim, NOFREE, M_NOVM ------------------ */

UMA_TEST(zone_api_novm_on_empty_zone_returns_null)
{
	uma_zone_t z = zmake("api-novm", 128, 0);
	void *p;

	test_pin_one_cpu();
	CHECK(uma_zalloc(z, M_NOWAIT | M_NOVM) == NULL);
	CHECK_EQ(uma_zone_memory(z), 0);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	p = uma_zalloc(z, M_NOWAIT);
	CHECK(p != NULL);
	uma_zfree(z, p);
	/* Now an item is cached: M_NOVM finds it. */
	p = uma_zalloc(z, M_NOWAIT | M_NOVM);
	CHECK(p != NULL);
	uma_zfree(z, p);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_prealloc_gives_memory_and_novm_items)
{
	static void *v[100];
	uma_zone_t z = zmake("api-prealloc", 512, 0);

	test_pin_one_cpu();
	CHECK_EQ(uma_zone_memory(z), 0);
	uma_prealloc(z, 100);
	CHECK(uma_zone_memory(z) >= 100 * 512);
	for (int i = 0; i < 100; i++) {
		v[i] = uma_zalloc(z, M_NOWAIT | M_NOVM);
		CHECK(v[i] != NULL);
	}
	for (int i = 0; i < 100; i++)
		uma_zfree(z, v[i]);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_reserve_reachable_only_with_use_reserve)
{
	enum { R = 4 };
	static void *v[4096];
	int n = 0, plain, res;
	uma_zone_t z = zmake("api-reserve", 256, 0);

	test_pin_one_cpu();
	uma_zone_reserve(z, R);
	uma_prealloc(z, R);
	CHECK(uma_zone_memory(z) > 0);
	/* Without M_USE_RESERVE the keg stops at its reserve. */
	while (n < 4096 && (v[n] = uma_zalloc(z, M_NOWAIT | M_NOVM)) != NULL)
		n++;
	plain = n;
	CHECK(plain >= 1);
	CHECK(plain < 4096);
	CHECK(uma_zalloc(z, M_NOWAIT | M_NOVM) == NULL);
	/* With it, exactly the reserve is there. */
	while (n < 4096 && (v[n] = uma_zalloc(z,
	    M_NOWAIT | M_NOVM | M_USE_RESERVE)) != NULL)
		n++;
	res = n - plain;
	CHECK_EQ(res, R);
	/* Normal allocations still get new slabs. */
	CHECK((v[n] = uma_zalloc(z, M_NOWAIT)) != NULL);
	n++;
	while (n > 0)
		uma_zfree(z, v[--n]);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_reclaim_gives_pages_back_except_nofree)
{
	static void *a[2000], *b[2000];
	uma_zone_t nf = zmake("api-nofree", 128, UMA_ZONE_NOFREE);
	uma_zone_t rg = zmake("api-regular", 128, 0);
	size_t nf_mem, nf_mem2, rg_mem;

	for (int i = 0; i < 2000; i++) {
		CHECK((a[i] = uma_zalloc(nf, M_WAITOK)) != NULL);
		CHECK((b[i] = uma_zalloc(rg, M_WAITOK)) != NULL);
	}
	nf_mem = uma_zone_memory(nf);
	rg_mem = uma_zone_memory(rg);
	CHECK(nf_mem >= 2000 * 128);
	CHECK(rg_mem >= 2000 * 128);
	for (int i = 0; i < 2000; i++) {
		uma_zfree(nf, a[i]);
		uma_zfree(rg, b[i]);
	}
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma_zone_memory(nf), nf_mem);
	CHECK_EQ(uma_zone_memory(rg), 0);
	/* The NOFREE zone's pages are reused and still never given back. */
	for (int i = 0; i < 2000; i++)
		CHECK((a[i] = uma_zalloc(nf, M_WAITOK)) != NULL);
	nf_mem2 = uma_zone_memory(nf);
	CHECK(nf_mem2 >= nf_mem);
	CHECK(nf_mem2 <= nf_mem + nf_mem / 4);
	for (int i = 0; i < 2000; i++)
		uma_zfree(nf, a[i]);
	uma_zone_reclaim(nf, UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma_zone_memory(nf), nf_mem2);
	uma_zdestroy(rg);
	uma_zdestroy(nf);
}

UMA_TEST(zone_api_zone_reclaim_trim_and_drain_cpu_keep_items_valid)
{
	static void *v[1000];
	uma_zone_t z = zmake("api-trim", 48, 0);

	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < 1000; i++) {
			CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
			memset(v[i], r, 48);
		}
		for (int i = 0; i < 1000; i += 2)
			uma_zfree(z, v[i]);
		uma_zone_reclaim(z, r % 2 ? UMA_RECLAIM_TRIM :
		    UMA_RECLAIM_DRAIN_CPU);
		for (int i = 1; i < 1000; i += 2) {
			CHECK(all_bytes(v[i], 48, (unsigned char)r));
			uma_zfree(z, v[i]);
		}
		CHECK_EQ(uma_zone_get_cur(z), 0);
	}
	uma_reclaim(UMA_RECLAIM_DRAIN_CPU);
	CHECK_EQ(uma_zone_memory(z), 0);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_destroy_with_outstanding_items_warns_and_survives)
{
	struct capture cap;
	const char *out;
	uma_zone_t z = zmake("api-leaky", 64, 0), y;
	void *p[3];

	for (int i = 0; i < 3; i++)
		CHECK((p[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	capture_begin(&cap);
	uma_zdestroy(z);
	out = capture_end(&cap);
	CHECK(strstr(out, "api-leaky") != NULL);
	/* Life goes on. */
	y = zmake("api-after-leak", 64, 0);
	for (int i = 0; i < 3; i++)
		CHECK((p[i] = uma_zalloc(y, M_WAITOK)) != NULL);
	for (int i = 0; i < 3; i++)
		uma_zfree(y, p[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	uma_zdestroy(y);
}

/* ---- secondary zones ------------------------------------------------------ */

UMA_TEST(zone_api_secondary_shares_primary_memory)
{
	static void *v[600];
	uma_zone_t prim = zmake("api-prim", 256, 0);
	uma_zone_t sec = uma_zsecond_create("api-sec", NULL, NULL, NULL,
	    NULL, prim);

	CHECK(sec != NULL);
	CHECK(strcmp(uma_zone_name(sec), "api-sec") == 0);
	for (int i = 0; i < 600; i++)
		CHECK((v[i] = uma_zalloc(i % 2 ? sec : prim, M_WAITOK)) !=
		    NULL);
	check_disjoint(v, 600, 256);
	CHECK(uma_zone_memory(prim) > 0);
	CHECK_EQ(uma_zone_memory(prim), uma_zone_memory(sec));
	CHECK_EQ(uma_zone_get_cur(prim), 300);
	CHECK_EQ(uma_zone_get_cur(sec), 300);
	for (int i = 0; i < 600; i++)
		uma_zfree(i % 2 ? sec : prim, v[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma_zone_memory(sec), 0);
	uma_zdestroy(sec);
	uma_zdestroy(prim);
}

/* ---- reference counts ------------------------------------------------------ */

UMA_TEST(zone_api_find_refcnt_gives_stable_per_item_counter)
{
	enum { N = 300 };
	static void *v[N];
	static uint32_t *rc[N];
	uma_zone_t z = zmake("api-refcnt", 2048, UMA_ZONE_REFCNT);
	uma_zone_t other = zmake("api-norefcnt", 2048, 0);
	void *o;

	test_pin_one_cpu();
	for (int i = 0; i < N; i++) {
		CHECK((v[i] = uma_zalloc(z, M_WAITOK)) != NULL);
		memset(v[i], 0xee, 2048);
		rc[i] = uma_find_refcnt(z, v[i]);
		CHECK(rc[i] != NULL);
		CHECK_EQ(*rc[i], 0);
		CHECK(uma_find_refcnt(z, v[i]) == rc[i]);
		*rc[i] = 0x10000 + (uint32_t)i;
	}
	/* Distinct counters, none inside an item. */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			CHECK(i == j || rc[i] != rc[j]);
			CHECK((uintptr_t)rc[i] + sizeof(uint32_t) <=
			    (uintptr_t)v[j] ||
			    (uintptr_t)rc[i] >= (uintptr_t)v[j] + 2048);
		}
	for (int i = 0; i < N; i++) {
		CHECK(all_bytes(v[i], 2048, 0xee));
		CHECK_EQ(*rc[i], 0x10000 + (uint32_t)i);
	}
	/* Stable while the item is free: the same item, the same counter. */
	for (int i = 0; i < N; i++)
		uma_zfree(z, v[i]);
	for (int i = 0; i < N; i++) {
		void *p = uma_zalloc(z, M_WAITOK);

		CHECK(p != NULL);
		for (int j = 0; j < N; j++)
			if (v[j] == p)
				CHECK(uma_find_refcnt(z, p) == rc[j]);
		v[i] = p;
	}
	for (int i = 0; i < N; i++)
		uma_zfree(z, v[i]);
	/* Not a REFCNT zone: no counter. */
	o = uma_zalloc(other, M_WAITOK);
	CHECK(o != NULL);
	CHECK(uma_find_refcnt(other, o) == NULL);
	uma_zfree(other, o);
	uma_zdestroy(other);
	uma_zdestroy(z);
}

/* ---- bucket flags, from two threads ------------------------------------------ */

struct churn {
	uma_zone_t	 z;
	size_t		 size;
	int		 seed;
	pthread_t	 td;
	_Atomic int	*bad;
};

static void *
churn_main(void *arg)
{
	struct churn *c = arg;
	void *v[256];
	unsigned s = (unsigned)c->seed;

	for (int r = 0; r < 60; r++) {
		int n = 1 + (int)((s = s * 1103515245u + 12345u) >> 16) % 256;

		for (int i = 0; i < n; i++) {
			v[i] = uma_zalloc(c->z, i % 2 ? M_NOWAIT : M_WAITOK);
			if (v[i] == NULL) {
				atomic_fetch_add(c->bad, 1);
				n = i;
				break;
			}
			memset(v[i], c->seed, c->size);
		}
		for (int i = 0; i < n; i++) {
			if (!all_bytes(v[i], c->size, (unsigned char)c->seed))
				atomic_fetch_add(c->bad, 1);
			uma_zfree(c->z, v[i]);
		}
	}
	return (NULL);
}

static void
churn_zone(uint32_t flags, const char *name, size_t size)
{
	struct churn c[4];
	_Atomic int bad = 0;
	uma_zone_t z = zmake(name, size, flags);

	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ .z = z, .size = size, .seed = i + 1,
		    .bad = &bad };
		CHECK(pthread_create(&c[i].td, NULL, churn_main, &c[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(c[i].td, NULL) == 0);
	CHECK_EQ(atomic_load(&bad), 0);
	CHECK_EQ(uma_zone_get_cur(z), 0);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	CHECK_EQ(uma_zone_memory(z), 0);
	uma_zdestroy(z);
}

UMA_TEST(zone_api_nobucket_zone_works_from_threads)
{
	churn_zone(UMA_ZONE_NOBUCKET, "api-nobucket", 96);
}

UMA_TEST(zone_api_maxbucket_zone_works_from_threads)
{
	churn_zone(UMA_ZONE_MAXBUCKET, "api-maxbucket", 24);
}

UMA_TEST(zone_api_offpage_zone_works_from_threads)
{
	churn_zone(UMA_ZONE_NOTOUCH, "api-offpage", 512);
}

/* ---- fork ------------------------------------------------------------------ */

static uma_zone_t fork_zone;

/*
 * TSan kills a child that starts a thread after a multi-threaded fork
 * (uma restarts its timeout thread there) unless die_after_fork=0 (as
 * .ci/run sets): without it the fork tests skip.
 */
static void
fork_testable(void)
{
#if defined(UMA_TSAN) || defined(__SANITIZE_THREAD__)
	const char *o = getenv("TSAN_OPTIONS");

	if (o == NULL || strstr(o, "die_after_fork=0") == NULL)
		SKIP("under TSan without TSAN_OPTIONS=die_after_fork=0");
#endif
}

/* In a child: use the zone the parent made, and make a new one. */
static void
fork_child_work(void)
{
	static void *v[500];
	uma_zone_t nz;

	alarm(5);	/* a deadlock left by fork() ends the child */
	for (int i = 0; i < 500; i++) {
		v[i] = uma_zalloc(fork_zone, M_WAITOK);
		CHECK(v[i] != NULL);
		memset(v[i], 0x42, 64);
	}
	for (int i = 0; i < 500; i++)
		uma_zfree(fork_zone, v[i]);
	nz = zmake("api-fork-child", 200, 0);
	for (int i = 0; i < 500; i++)
		CHECK((v[i] = uma_zalloc(nz, M_NOWAIT)) != NULL);
	for (int i = 0; i < 500; i++)
		uma_zfree(nz, v[i]);
	uma_reclaim(UMA_RECLAIM_DRAIN);
	uma_zdestroy(nz);
}

static int
fork_and_check(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fork_child_work();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "fork child: status %#x%s\n", status,
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
		    " (hung)" : "");
		return (0);
	}
	return (1);
}

UMA_TEST(zone_api_fork_child_allocates_and_creates_zones)
{
	static void *v[100];

	fork_testable();
	fork_zone = zmake("api-fork", 64, 0);
	for (int i = 0; i < 100; i++)
		CHECK((v[i] = uma_zalloc(fork_zone, M_WAITOK)) != NULL);
	CHECK(fork_and_check());
	/* The parent's items and zone are untouched by the child. */
	CHECK_EQ(uma_zone_get_cur(fork_zone), 100);
	for (int i = 0; i < 100; i++)
		uma_zfree(fork_zone, v[i]);
	CHECK(fork_and_check());
	uma_zdestroy(fork_zone);
}

static _Atomic bool busy_stop;

static void *
busy_main(void *arg)
{
	void *v[64];
	long n = 0;

	while (!atomic_load(&busy_stop)) {
		for (int i = 0; i < 64; i++)
			v[i] = uma_zalloc(fork_zone, M_WAITOK);
		for (int i = 0; i < 64; i++)
			uma_zfree(fork_zone, v[i]);
		if (++n % 64 == 0) {
			uma_zone_t t = uma_zcreate("api-busy-tmp", 128, NULL,
			    NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
			void *p = uma_zalloc(t, M_WAITOK);

			uma_zfree(t, p);
			uma_zdestroy(t);
			uma_zone_reclaim(fork_zone, UMA_RECLAIM_DRAIN);
		}
	}
	return (NULL);
}

static void
fork_while_busy(void)
{
	pthread_t td;
	int ok = 0;

	fork_testable();
	fork_zone = zmake("api-fork-busy", 64, 0);
	CHECK(pthread_create(&td, NULL, busy_main, NULL) == 0);
	for (int i = 0; i < 40; i++) {
		usleep(1000 + (i % 7) * 500);
		if (!fork_and_check())
			break;		/* one hung child says it all */
		ok++;
	}
	atomic_store(&busy_stop, true);
	CHECK(pthread_join(td, NULL) == 0);
	CHECK_EQ(ok, 40);
	CHECK_EQ(uma_zone_get_cur(fork_zone), 0);
	uma_zdestroy(fork_zone);
}

UMA_TEST(zone_api_fork_while_another_thread_allocates)
{
	fork_while_busy();
}

UMA_TEST(zone_api_fork_while_another_thread_allocates_locked_mode)
{
	test_tunables_add("vm.uma_rseq=0");
	fork_while_busy();
}
