/*
 * reuse.c - workloads about memory that changes hands: freed memory used
 * again by other sizes, large blocks replaced, buffers grown by realloc,
 * and a key-value store flushed and refilled.
 *
 *   reuse         fill 252 MiB with 4 KiB blocks, free them all, fill
 *                 252 MiB with blocks of other sizes (64 B .. 16 KiB),
 *                 free them, then 4 KiB blocks again: the peak stays near
 *                 252 MiB only if freed memory serves the other sizes
 *   reuse-as400   the same under a 400 MiB address-space limit (ulimit
 *                 -v): an allocator that cannot reuse fails here
 *   large-churn   20 live buffers of 5-25 MiB, each replacement
 *                 zero-filled as C++'s make_unique<char[]> does, 500
 *                 replacements at random (mimalloc-bench's malloc-large,
 *                 a quarter of its length)
 *   realloc-4k    a buffer grown by 4 KiB steps to 32 MiB, each step
 *                 written, 16 times (a log or a string builder)
 *   realloc-64k   the same by 64 KiB steps to 256 MiB, twice
 *   redis         a chained hash table of 400,000 keys with values of
 *                 16-256 B: SETs, GETs, overwrites and DELs, then a
 *                 FLUSHALL, then 100,000 lists of 10 small elements each
 *                 (a redis server's allocation pattern)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mw.h"

#define	MIB	((size_t)1 << 20)

/* ---- reuse ---- */
#define	REUSE_BYTES	(252 * MIB)

/*
 * Fill REUSE_BYTES with blocks whose sizes cycle through `sizes`, writing
 * one byte in every page of each, then free them all.
 */
static int
reuse_phase(const char *what, const size_t *sizes, size_t nsizes)
{
	size_t cap = REUSE_BYTES / sizes[0] + 1, n = 0, bytes = 0;
	char **v;

	for (size_t i = 1; i < nsizes; i++)
		if (REUSE_BYTES / sizes[i] + 1 > cap)
			cap = REUSE_BYTES / sizes[i] + 1;
	if ((v = malloc(cap * sizeof(*v))) == NULL)
		return (mw_oom(what, cap * sizeof(*v)));
	while (bytes < REUSE_BYTES) {
		size_t size = sizes[n % nsizes];

		if ((v[n] = malloc(size)) == NULL) {
			while (n > 0)
				free(v[--n]);
			free(v);
			return (mw_oom(what, size));
		}
		for (size_t o = 0; o < size; o += 4096)
			v[n][o] = (char)n;
		bytes += size;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		mw_sum += (unsigned char)v[i][0];
		free(v[i]);
	}
	free(v);
	return (0);
}

static int
run_reuse(void)
{
	static const size_t page[] = { 4096 };
	static const size_t other[] = { 64, 192, 1024, 16384, 64, 640 };

	if (reuse_phase("reuse, 4 KiB blocks", page, 1) != 0 ||
	    reuse_phase("reuse, other sizes after 4 KiB", other,
	    sizeof(other) / sizeof(other[0])) != 0 ||
	    reuse_phase("reuse, 4 KiB after other sizes", page, 1) != 0)
		return (1);
	return (0);
}

/* ---- large-churn ---- */
#define	CHURN_BUFS	20
#define	CHURN_REPLACE	500

static int
run_large_churn(void)
{
	char *buf[CHURN_BUFS] = { 0 };
	uint64_t s = 42;

	for (int i = 0; i < CHURN_REPLACE; i++) {
		size_t size = 5 * MIB + (size_t)(mw_rand(&s) % (20 * MIB + 1));
		int k = (int)(mw_rand(&s) % CHURN_BUFS);

		free(buf[k]);
		if ((buf[k] = malloc(size)) == NULL)
			return (mw_oom("large-churn", size));
		memset(buf[k], 0, size);
		buf[k][size / 2] = (char)i;
		mw_sum += (unsigned char)buf[k][size / 2];
	}
	for (int k = 0; k < CHURN_BUFS; k++)
		free(buf[k]);
	return (0);
}

/* ---- realloc-4k / realloc-64k ---- */
static int
realloc_grow(size_t step, size_t max, int rounds)
{
	for (int r = 0; r < rounds; r++) {
		char *p = NULL, *q;
		size_t n;

		for (n = 0; n < max; n += step) {
			if ((q = realloc(p, n + step)) == NULL) {
				free(p);
				return (mw_oom("realloc", n + step));
			}
			p = q;
			memset(p + n, (int)(n / step), step);
		}
		/* The copies kept every step's bytes. */
		for (n = 0; n < max; n += step)
			if (p[n] != (char)(n / step) ||
			    p[n + step - 1] != (char)(n / step)) {
				fprintf(stderr, "malloc_workloads: realloc "
				    "lost the bytes at %zu\n", n);
				free(p);
				return (1);
			}
		mw_sum += (unsigned char)p[max - 1];
		free(p);
	}
	return (0);
}

static int
run_realloc_4k(void)
{
	return (realloc_grow(4096, 32 * MIB, 16));
}

static int
run_realloc_64k(void)
{
	return (realloc_grow(65536, 256 * MIB, 2));
}

/* ---- redis ---- */
#define	REDIS_KEYS	400000
#define	REDIS_LISTS	100000
#define	REDIS_LISTLEN	10

struct entry {
	struct entry	*e_next;
	char		*e_key;
	char		*e_val;
};

struct dict {
	struct entry	**d_table;
	size_t		  d_size;	/* buckets, a power of two */
	size_t		  d_used;
};

static uint64_t
str_hash(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	while (*k != '\0')
		h = (h ^ (unsigned char)*k++) * 1099511628211ull;
	return (h);
}

static char *
str_dup(const char *src, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, src, len);
		s[len] = '\0';
	}
	return (s);
}

/* Double the table, moving every entry (redis rehashes the same way). */
static int
dict_grow(struct dict *d)
{
	size_t nsize = d->d_size == 0 ? 16 : d->d_size * 2;
	struct entry **nt = calloc(nsize, sizeof(*nt)), *e, *next;

	if (nt == NULL)
		return (mw_oom("redis", nsize * sizeof(*nt)));
	for (size_t i = 0; i < d->d_size; i++)
		for (e = d->d_table[i]; e != NULL; e = next) {
			next = e->e_next;
			e->e_next = nt[str_hash(e->e_key) & (nsize - 1)];
			nt[str_hash(e->e_key) & (nsize - 1)] = e;
		}
	free(d->d_table);
	d->d_table = nt;
	d->d_size = nsize;
	return (0);
}

static struct entry **
dict_slot(struct dict *d, const char *key)
{
	struct entry **ep = &d->d_table[str_hash(key) & (d->d_size - 1)];

	while (*ep != NULL && strcmp((*ep)->e_key, key) != 0)
		ep = &(*ep)->e_next;
	return (ep);
}

/* SET key val: a new value string replaces the old one. */
static int
dict_set(struct dict *d, const char *key, size_t vlen, int fill)
{
	struct entry **ep, *e;
	char *val;

	if (d->d_used >= d->d_size && dict_grow(d) != 0)
		return (1);
	if ((val = malloc(vlen)) == NULL)
		return (mw_oom("redis", vlen));
	memset(val, fill, vlen);
	ep = dict_slot(d, key);
	if ((e = *ep) != NULL) {
		free(e->e_val);
		e->e_val = val;
		return (0);
	}
	if ((e = malloc(sizeof(*e))) == NULL ||
	    (e->e_key = str_dup(key, strlen(key))) == NULL)
		return (mw_oom("redis", sizeof(*e)));
	e->e_val = val;
	e->e_next = NULL;
	*ep = e;
	d->d_used++;
	return (0);
}

static void
dict_del(struct dict *d, const char *key)
{
	struct entry **ep = dict_slot(d, key), *e = *ep;

	if (e == NULL)
		return;
	*ep = e->e_next;
	free(e->e_key);
	free(e->e_val);
	free(e);
	d->d_used--;
}

/* FLUSHALL: every entry, key, value and the table. */
static void
dict_flush(struct dict *d)
{
	struct entry *e, *next;

	for (size_t i = 0; i < d->d_size; i++)
		for (e = d->d_table[i]; e != NULL; e = next) {
			next = e->e_next;
			free(e->e_key);
			free(e->e_val);
			free(e);
		}
	free(d->d_table);
	memset(d, 0, sizeof(*d));
}

/* A list node: next pointer, then the element's bytes (8-64 B). */
static int
lists_fill_free(uint64_t *s)
{
	void **heads = calloc(REDIS_LISTS, sizeof(*heads));

	if (heads == NULL)
		return (mw_oom("redis", REDIS_LISTS * sizeof(*heads)));
	for (int e = 0; e < REDIS_LISTLEN; e++)
		for (int l = 0; l < REDIS_LISTS; l++) {
			size_t size = sizeof(void *) + 8 + mw_rand(s) % 57;
			void **node = malloc(size);

			if (node == NULL)
				return (mw_oom("redis", size));
			node[0] = heads[l];
			((char *)node)[size - 1] = (char)e;
			heads[l] = node;
		}
	for (int l = 0; l < REDIS_LISTS; l++)
		while (heads[l] != NULL) {
			void **next = *(void ***)heads[l];

			mw_sum += 1;
			free(heads[l]);
			heads[l] = next;
		}
	free(heads);
	return (0);
}

static int
run_redis(void)
{
	struct dict d = { 0 };
	uint64_t s = 7;
	char key[32];

	for (int i = 0; i < 2 * REDIS_KEYS; i++) {
		int k = (int)(mw_rand(&s) % REDIS_KEYS);

		snprintf(key, sizeof(key), "key:%08d", k);
		if (i % 4 == 3) {
			struct entry *e = *dict_slot(&d, key);

			mw_sum += e != NULL ? (unsigned char)e->e_val[0] : 0;
		} else if (i % 16 == 5)
			dict_del(&d, key);
		else if (dict_set(&d, key, 16 + mw_rand(&s) % 241, i) != 0)
			return (1);
	}
	mw_sum += d.d_used;
	dict_flush(&d);
	return (lists_fill_free(&s));
}

const struct mw_workload mw_reuse[] = {
	{ "reuse", run_reuse, "252 MiB of 4 KiB, freed, then other sizes" },
	{ "reuse-as400", run_reuse, "the same under ulimit -v 400 MiB" },
	{ "large-churn", run_large_churn, "20 live 5-25 MiB buffers replaced" },
	{ "realloc-4k", run_realloc_4k, "grow by 4 KiB to 32 MiB" },
	{ "realloc-64k", run_realloc_64k, "grow by 64 KiB to 256 MiB" },
	{ "redis", run_redis, "hash table, FLUSHALL, then lists" },
	{ NULL, NULL, NULL },
};
