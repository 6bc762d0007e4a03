/*
 * zone_cache.c - uma_zcache_create: uma's caches in front of items the
 * caller keeps.  Buckets fill through the caller's import and drain
 * through its release, with the zone init and fini on the way and the
 * ctor and dtor on every allocation and free; uma never touches the
 * items (here: objects of a static array, outside uma's arena); an empty
 * import fails the allocation, limits and statistics hold as for any
 * zone, and a cache zone has no keg to stack on or to init.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <uma/uma.h>

#include "harness.h"
#include "zone_test.h"

#define	NOBJ	1000
#define	OBJSZ	48

/* The caller's objects and its free stack: the back end of the zone. */
struct pool {
	unsigned char	 obj[NOBJ][OBJSZ];
	void		*free[NOBJ];
	int		 nfree;
	int		 imports, releases;	/* calls */
	int		 imported, released;	/* items */
	int		 last_domain;
	bool		 out[NOBJ];		/* with the zone */
};

static struct pool pool;
static _Atomic int ctors, dtors, zinits, zfinis;

static int
obj_index(void *p)
{
	int i = (int)(((unsigned char *)p - &pool.obj[0][0]) / OBJSZ);

	CHECK(i >= 0 && i < NOBJ && (void *)pool.obj[i] == p);
	return (i);
}

static void
pool_fill(void)
{
	memset(&pool, 0, sizeof(pool));
	for (int i = NOBJ - 1; i >= 0; i--) {
		memset(pool.obj[i], 0xee, OBJSZ);	/* the caller's state */
		pool.free[pool.nfree++] = pool.obj[i];
	}
}

static int
pool_import(void *arg, void **store, int count, int domain, int flags)
{
	int n = 0;

	CHECK(arg == &pool);
	pool.imports++;
	pool.last_domain = domain;
	while (n < count && pool.nfree > 0) {
		store[n] = pool.free[--pool.nfree];
		CHECK(!pool.out[obj_index(store[n])]);
		pool.out[obj_index(store[n])] = true;
		n++;
	}
	pool.imported += n;
	return (n);
}

static void
pool_release(void *arg, void **store, int count)
{
	CHECK(arg == &pool);
	pool.releases++;
	for (int i = 0; i < count; i++) {
		int k = obj_index(store[i]);

		CHECK(pool.out[k]);
		pool.out[k] = false;
		pool.free[pool.nfree++] = store[i];
	}
	pool.released += count;
}

static int
obj_zinit(void *mem, int size, int flags)
{
	CHECK_EQ(size, OBJSZ);
	atomic_fetch_add(&zinits, 1);
	return (0);
}

static void
obj_zfini(void *mem, int size)
{
	atomic_fetch_add(&zfinis, 1);
}

static int
obj_ctor(void *mem, int size, void *arg, int flags)
{
	atomic_fetch_add(&ctors, 1);
	((unsigned char *)mem)[0] = 0xc0;
	return (0);
}

static void
obj_dtor(void *mem, int size, void *arg)
{
	atomic_fetch_add(&dtors, 1);
	((unsigned char *)mem)[0] = 0xd0;
}

static uma_zone_t
pool_zone(int flags)
{
	uma_zone_t z;

	test_pin_one_cpu();
	pool_fill();
	z = uma_zcache_create("zcache", OBJSZ, obj_ctor, obj_dtor, obj_zinit,
	    obj_zfini, pool_import, pool_release, &pool, flags);
	CHECK(z != NULL);
	return (z);
}

/*
 * Every item handed out is one of the caller's, once; it passed the
 * zinit once and the ctor every time; frees stay cached (no release)
 * until a drain releases every one, after its zfini.  The rest of the
 * object is the caller's and stays as it left it.
 */
UMA_TEST(zone_cache_fills_and_drains_through_the_callers_functions)
{
	static void *held[500];
	struct uma__zone_stat zs;
	uma_zone_t z = pool_zone(0);

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 500; i++) {
			held[i] = uma_zalloc(z, M_WAITOK);
			CHECK(held[i] != NULL);
			CHECK(pool.out[obj_index(held[i])]);
			CHECK(((unsigned char *)held[i])[0] == 0xc0);
			CHECK(((unsigned char *)held[i])[OBJSZ - 1] == 0xee);
			for (int j = 0; j < i; j++)
				CHECK(held[j] != held[i]);
		}
		for (int i = 0; i < 500; i++)
			uma_zfree(z, held[i]);
	}
	CHECK_EQ(pool.last_domain, UMA_ANYDOMAIN);
	CHECK_EQ(atomic_load(&ctors), 1000);
	CHECK_EQ(atomic_load(&dtors), 1000);
	CHECK(pool.imported >= 500);
	CHECK_EQ(atomic_load(&zinits), pool.imported);
	CHECK_EQ(pool.released, 0);
	zs = zstat(z);
	CHECK_EQ(zs.zs_allocs, 1000);
	CHECK_EQ(zs.zs_frees, 1000);
	CHECK_EQ(zs.zs_pages, 0);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, (uint64_t)pool.imported);
	CHECK_EQ(uma_zone_memory(z), (size_t)pool.imported * OBJSZ);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	CHECK_EQ(pool.released, pool.imported);
	CHECK_EQ(pool.nfree, NOBJ);
	CHECK_EQ(atomic_load(&zfinis), atomic_load(&zinits));
	CHECK_EQ(uma_zone_memory(z), 0);
	zs = zstat(z);
	CHECK_EQ(zs.zs_cpu_free + zs.zs_zone_free, 0);
	CHECK_EQ(zs.zs_items, 0);
	uma_zdestroy(z);
}

/*
 * The pool runs dry: the allocation fails, with M_WAITOK too, and counts
 * one failure; a limit bounds what the zone takes from the pool; zone
 * destruction gives everything back.
 */
UMA_TEST(zone_cache_empty_import_fails_and_a_limit_bounds_the_zone)
{
	static void *held[NOBJ];
	struct uma__zone_stat zs;
	int n = 0;
	uma_zone_t z = pool_zone(UMA_ZONE_MAXBUCKET);

	while (n < NOBJ && (held[n] = uma_zalloc(z, M_NOWAIT)) != NULL)
		n++;
	CHECK_EQ(n, NOBJ);
	CHECK(uma_zalloc(z, M_NOWAIT) == NULL);
	CHECK(uma_zalloc(z, M_WAITOK) == NULL);
	zs = zstat(z);
	CHECK_EQ(zs.zs_fails, 2);
	CHECK_EQ(zs.zs_allocs, NOBJ);
	while (n > 0)
		uma_zfree(z, held[--n]);
	uma_zone_reclaim(z, UMA_RECLAIM_DRAIN);
	CHECK_EQ(pool.nfree, NOBJ);

	CHECK_EQ(uma_zone_set_max(z, 10), 10);
	while (n < 20 && (held[n] = uma_zalloc(z, M_NOWAIT)) != NULL)
		n++;
	CHECK_EQ(n, 10);
	CHECK_EQ(NOBJ - pool.nfree, 10);
	while (n > 0)
		uma_zfree(z, held[--n]);
	uma_zdestroy(z);
	CHECK_EQ(pool.nfree, NOBJ);
	CHECK_EQ(atomic_load(&zfinis), atomic_load(&zinits));
}

/* No keg: nothing to stack a zone on, to init, to preallocate. */
UMA_TEST(zone_cache_has_no_keg_to_stack_on_or_init)
{
	uma_zone_t z = pool_zone(0);

	errno = 0;
	CHECK(uma_zsecond_create("zcache-sec", NULL, NULL, NULL, NULL, z) ==
	    NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(uma_zone_set_init(z, obj_zinit), EINVAL);
	CHECK_EQ(uma_zone_set_fini(z, obj_zfini), EINVAL);
	uma_prealloc(z, 100);
	CHECK_EQ(pool.imports, 0);
	CHECK_EQ(zstat(z).zs_pages, 0);
	errno = 0;
	CHECK(uma_zcache_create("bad", OBJSZ, NULL, NULL, NULL, NULL, NULL,
	    pool_release, &pool, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(uma_zcache_create("bad", OBJSZ, NULL, NULL, NULL, NULL,
	    pool_import, pool_release, &pool, UMA_ZONE_NOFREE) == NULL);
	CHECK(uma_zcache_create("bad", 0, NULL, NULL, NULL, NULL,
	    pool_import, pool_release, &pool, 0) == NULL);
	uma_zdestroy(z);
}
