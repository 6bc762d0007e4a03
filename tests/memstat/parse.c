/*
 * parse.c - libmemstat's stream parsers on hand-built streams: exact
 * numbers, keg free counted once, clamping, refresh keeping caller data,
 * duplicate, reordered and colliding names, vanished types, every
 * malformed stream refused, and random streams answered as the format's
 * rules say.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <memstat.h>

#include "harness.h"
#include "stream_build.h"

static struct uma_type_header
uth_make(const char *name, uint32_t size, uint32_t kegfree, int secondary)
{
	struct uma_type_header uth;

	memset(&uth, 0, sizeof(uth));
	strncpy(uth.uth_name, name, sizeof(uth.uth_name) - 1);
	uth.uth_size = size;
	uth.uth_rsize = size + 8;
	uth.uth_limit = 1000;
	uth.uth_pages = 7;
	uth.uth_keg_free = kegfree;
	uth.uth_zone_free = 11;
	uth.uth_zone_flags = secondary ? UTH_ZONE_SECONDARY : 0;
	uth.uth_allocs = 100;
	uth.uth_frees = 40;
	uth.uth_fails = 3;
	uth.uth_sleeps = 2;
	uth.uth_xdomain = 1;
	return (uth);
}

/* Two CPUs: 10+20 allocs, 5+6 frees, 1+2 cached. */
static const struct uma_percpu_stat ups2[2] = {
	{ .ups_allocs = 10, .ups_frees = 5, .ups_cache_free = 1 },
	{ .ups_allocs = 20, .ups_frees = 6, .ups_cache_free = 2 },
};

static struct sb
stream_mbuf(void)
{
	struct sb sb;
	struct uma_type_header uth;

	sb_uma_start(&sb, 2);
	uth = uth_make("mbuf", 256, 50, 0);
	sb_zone(&sb, &uth, ups2);
	uth = uth_make("mbuf_packet", 256, 50, 1);
	sb_zone(&sb, &uth, ups2);
	return (sb);
}

UMA_TEST(memstat_uma_exact_numbers)
{
	struct sb sb = stream_mbuf();
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;

	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf");
	CHECK(mtp != NULL);
	CHECK_EQ(memstat_get_allocator(mtp), ALLOCATOR_UMA);
	CHECK_EQ(memstat_get_size(mtp), 256);
	CHECK_EQ(memstat_get_rsize(mtp), 264);
	CHECK_EQ(memstat_get_numallocs(mtp), 130);
	CHECK_EQ(memstat_get_numfrees(mtp), 51);
	CHECK_EQ(memstat_get_count(mtp), 79);
	CHECK_EQ(memstat_get_bytes(mtp), 79 * 256);
	CHECK_EQ(memstat_get_memalloced(mtp), 130 * 256);
	CHECK_EQ(memstat_get_failures(mtp), 3);
	CHECK_EQ(memstat_get_sleeps(mtp), 2);
	CHECK_EQ(memstat_get_xdomain(mtp), 1);
	CHECK_EQ(memstat_get_countlimit(mtp), 1000);
	CHECK_EQ(memstat_get_byteslimit(mtp), 256000);
	CHECK_EQ(memstat_get_zonefree(mtp), 11);
	CHECK_EQ(memstat_get_kegfree(mtp), 50);
	CHECK_EQ(memstat_get_free(mtp), 1 + 2 + 11 + 50);
	CHECK_EQ(memstat_get_pages(mtp), 7);
	CHECK_EQ(memstat_get_maxcpus(mtp), 2);
	CHECK_EQ(memstat_get_percpu_numallocs(mtp, 1), 20);
	CHECK_EQ(memstat_get_percpu_numfrees(mtp, 0), 5);
	CHECK_EQ(memstat_get_percpu_free(mtp, 1), 2);
	CHECK_EQ(memstat_get_percpu_free(mtp, 2), 0);
	CHECK_EQ(memstat_get_percpu_free(mtp, -1), 0);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_uma_secondary_kegfree_once)
{
	struct sb sb = stream_mbuf();
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;

	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf_packet");
	CHECK(mtp != NULL);
	CHECK(memstat_get_secondary(mtp));
	CHECK_EQ(memstat_get_kegfree(mtp), 0);
	CHECK_EQ(memstat_get_free(mtp), 1 + 2 + 11);
	CHECK_EQ(memstat_get_pages(mtp), 0);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_uma_frees_over_allocs_clamped)
{
	struct sb sb;
	struct uma_type_header uth = uth_make("skew", 64, 0, 0);
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;

	uth.uth_allocs = 5;
	uth.uth_frees = 9;
	sb_uma_start(&sb, 1);
	sb_zone(&sb, &uth, NULL);
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_first(list);
	CHECK_EQ(memstat_get_numallocs(mtp), 9);
	CHECK_EQ(memstat_get_count(mtp), 0);
	CHECK_EQ(memstat_get_bytes(mtp), 0);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_refresh_keeps_caller_data)
{
	struct sb sb = stream_mbuf();
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;
	int x;

	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf");
	/* Caller fields start zeroed, per-CPU ones too (bug 5). */
	for (int i = 0; i < MEMSTAT_MAXCALLER; i++) {
		CHECK(memstat_get_caller_pointer(mtp, i) == NULL);
		CHECK_EQ(memstat_get_caller_uint64(mtp, i), 0);
		CHECK_EQ(memstat_get_percpu_caller_uint64(mtp, 1, i), 0);
		CHECK(memstat_get_percpu_caller_pointer(mtp, 0, i) == NULL);
	}
	memstat_set_caller_pointer(mtp, 3, &x);
	memstat_set_caller_uint64(mtp, 15, 77);
	memstat_set_percpu_caller_uint64(mtp, 1, 2, 88);
	memstat_set_percpu_caller_pointer(mtp, 0, 0, &x);
	/* Out of range: ignored, reads 0. */
	memstat_set_caller_uint64(mtp, MEMSTAT_MAXCALLER, 1);
	memstat_set_caller_uint64(mtp, -1, 1);
	memstat_set_percpu_caller_uint64(mtp, 2, 0, 1);
	memstat_set_percpu_caller_uint64(mtp, 0, 16, 1);
	CHECK_EQ(memstat_get_caller_uint64(mtp, MEMSTAT_MAXCALLER), 0);
	CHECK_EQ(memstat_get_percpu_caller_uint64(mtp, 2, 0), 0);

	((struct uma_type_header *)(sb.buf + 16))->uth_allocs = 1000;
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	CHECK(memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf") == mtp);
	CHECK_EQ(memstat_get_numallocs(mtp), 1030);
	CHECK(memstat_get_caller_pointer(mtp, 3) == &x);
	CHECK_EQ(memstat_get_caller_uint64(mtp, 15), 77);
	CHECK_EQ(memstat_get_percpu_caller_uint64(mtp, 1, 2), 88);
	CHECK(memstat_get_percpu_caller_pointer(mtp, 0, 0) == &x);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_refresh_maxcpus_change_keeps_caller_data)
{
	struct sb sb;
	struct uma_type_header uth = uth_make("z", 64, 0, 0);
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;

	sb_uma_start(&sb, 2);
	sb_zone(&sb, &uth, ups2);
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_first(list);
	memstat_set_percpu_caller_uint64(mtp, 1, 1, 5);
	free(sb.buf);
	sb_uma_start(&sb, 4);
	sb_zone(&sb, &uth, NULL);
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	CHECK(memstat_mtl_first(list) == mtp);
	CHECK_EQ(memstat_get_maxcpus(mtp), 4);
	CHECK_EQ(memstat_get_percpu_caller_uint64(mtp, 1, 1), 5);
	CHECK_EQ(memstat_get_percpu_caller_uint64(mtp, 3, 1), 0);
	CHECK_EQ(memstat_get_numallocs(mtp), 100);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_refresh_duplicate_names_stay_apart)
{
	struct sb sb;
	struct uma_type_header a = uth_make("dup", 16, 0, 0);
	struct uma_type_header b = uth_make("dup", 32, 0, 0);
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *m1, *m2;

	sb_uma_start(&sb, 1);
	sb_zone(&sb, &a, NULL);
	sb_zone(&sb, &b, NULL);
	for (int round = 0; round < 3; round++) {
		CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
		m1 = memstat_mtl_first(list);
		m2 = memstat_mtl_next(m1);
		CHECK(m2 != NULL && memstat_mtl_next(m2) == NULL);
		CHECK_EQ(memstat_get_size(m1), 16);
		CHECK_EQ(memstat_get_size(m2), 32);
		if (round == 0) {
			memstat_set_caller_uint64(m1, 0, 1);
			memstat_set_caller_uint64(m2, 0, 2);
		}
		CHECK_EQ(memstat_get_caller_uint64(m1, 0), 1);
		CHECK_EQ(memstat_get_caller_uint64(m2, 0), 2);
	}
	CHECK(memstat_mtl_find(list, ALLOCATOR_ANY, "dup") == m1);
	memstat_mtl_free(list);
	free(sb.buf);
}

/*
 * A stream that lists known types in a new order must not link the list
 * into a cycle: the fuzzer found a refresh that never returned.
 */
UMA_TEST(memstat_refresh_reordered_stream_terminates)
{
	struct sb ab, ba;
	struct uma_type_header a = uth_make("a", 16, 0, 0);
	struct uma_type_header b = uth_make("b", 32, 0, 0);
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *ma, *mb, *mtp;

	sb_uma_start(&ab, 1);
	sb_zone(&ab, &a, NULL);
	sb_zone(&ab, &b, NULL);
	sb_uma_start(&ba, 1);
	sb_zone(&ba, &b, NULL);
	sb_zone(&ba, &a, NULL);
	CHECK(memstat_buf_uma(list, ab.buf, ab.len) == 0);
	ma = memstat_mtl_first(list);
	mb = memstat_mtl_next(ma);
	CHECK(memstat_buf_uma(list, ba.buf, ba.len) == 0);
	mtp = memstat_mtl_first(list);
	CHECK(mtp == mb && memstat_mtl_next(mtp) == ma);
	CHECK(memstat_mtl_next(ma) == NULL);
	memstat_mtl_free(list);
	free(ab.buf);
	free(ba.buf);
}

/*
 * Every known type is matched, whatever its place in the name index: a
 * matched type must not hide the types whose names collided with it.
 */
UMA_TEST(memstat_refresh_many_names_all_matched)
{
	struct sb sb;
	struct malloc_type_stats mts = { .mts_numallocs = 1 };
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;
	char name[16];
	uint64_t n = 0;

	sb_malloc_start(&sb, 1);
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "type%d", i);
		sb_mtype(&sb, name, &mts);
	}
	CHECK(memstat_buf_malloc(list, sb.buf, sb.len) == 0);
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp))
		memstat_set_caller_uint64(mtp, 0, ++n);
	CHECK_EQ(n, 60);
	CHECK(memstat_buf_malloc(list, sb.buf, sb.len) == 0);
	n = 0;
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp))
		CHECK_EQ(memstat_get_caller_uint64(mtp, 0), ++n);
	CHECK_EQ(n, 60);
	memstat_mtl_free(list);
	free(sb.buf);
}

UMA_TEST(memstat_refresh_vanished_removed_others_kept)
{
	struct sb sb = stream_mbuf(), sb2, mb;
	struct uma_type_header uth = uth_make("mbuf_packet", 256, 50, 1);
	struct malloc_type_stats mts = { .mts_numallocs = 4 };
	struct memory_type_list *list = memstat_mtl_alloc();

	sb_malloc_start(&mb, 1);
	sb_mtype(&mb, "devbuf", &mts);
	CHECK(memstat_buf_malloc(list, mb.buf, mb.len) == 0);
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	sb_uma_start(&sb2, 2);
	sb_zone(&sb2, &uth, ups2);
	CHECK(memstat_buf_uma(list, sb2.buf, sb2.len) == 0);
	CHECK(memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf") == NULL);
	CHECK(memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf_packet") != NULL);
	CHECK(memstat_mtl_find(list, ALLOCATOR_MALLOC, "devbuf") != NULL);
	memstat_mtl_free(list);
	free(sb.buf);
	free(sb2.buf);
	free(mb.buf);
}

UMA_TEST(memstat_malloc_sums_and_sizemask)
{
	struct sb sb;
	struct malloc_type_stats s[3] = {
		{ .mts_memalloced = 1000, .mts_memfreed = 100,
		  .mts_numallocs = 10, .mts_numfrees = 1, .mts_size = 1 },
		{ .mts_memalloced = 384, .mts_numallocs = 1,
		  .mts_size = 1 << 5 },
		{ 0 },
	};
	struct memory_type_list *list = memstat_mtl_alloc();
	struct memory_type *mtp;

	sb_malloc_start(&sb, 3);
	sb_mtype(&sb, "devbuf", s);
	sb_mtype(&sb, "temp", NULL);
	CHECK(memstat_buf_malloc(list, sb.buf, sb.len) == 0);
	mtp = memstat_mtl_find(list, ALLOCATOR_MALLOC, "devbuf");
	CHECK(mtp != NULL);
	CHECK_EQ(memstat_get_memalloced(mtp), 1384);
	CHECK_EQ(memstat_get_memfreed(mtp), 100);
	CHECK_EQ(memstat_get_bytes(mtp), 1284);
	CHECK_EQ(memstat_get_numallocs(mtp), 11);
	CHECK_EQ(memstat_get_count(mtp), 10);
	CHECK_EQ(memstat_get_sizemask(mtp), 0x21);
	CHECK_EQ(memstat_get_percpu_sizemask(mtp, 1), 0x20);
	CHECK_EQ(memstat_get_percpu_memalloced(mtp, 1), 384);
	CHECK(memstat_malloc_zone_used(mtp, 5));
	CHECK(!memstat_malloc_zone_used(mtp, 4));
	/* Raw bytes carry no size table: only a source has one. */
	CHECK_EQ(memstat_malloc_zone_get_count(), 0);
	CHECK_EQ(memstat_malloc_zone_get_size(5), 0);
	CHECK(memstat_mtl_find(list, ALLOCATOR_UMA, "devbuf") == NULL);
	CHECK(memstat_mtl_find(list, ALLOCATOR_ANY, "temp") != NULL);
	memstat_mtl_free(list);
	free(sb.buf);
}

/* Every prefix of a valid stream, and every wrong version, is refused. */
static void
check_refused(int (*parse)(struct memory_type_list *, const void *, size_t),
    const struct sb *sb)
{
	struct memory_type_list *list = memstat_mtl_alloc();
	unsigned char *copy;
	int err;

	CHECK(parse(list, sb->buf, sb->len) == 0);
	for (size_t len = 0; len < sb->len; len++) {
		copy = malloc(len + 1);
		memcpy(copy, sb->buf, len);
		CHECK(parse(list, copy, len) == -1);
		err = memstat_mtl_geterror(list);
		CHECK(err == MEMSTAT_ERROR_DATAERROR);
		free(copy);
	}
	/* The failures left the list as the good parse made it. */
	CHECK(memstat_mtl_first(list) != NULL);
	copy = malloc(sb->len + 1);
	memcpy(copy, sb->buf, sb->len);
	copy[sb->len] = 0;
	CHECK(parse(list, copy, sb->len + 1) == -1);	/* oversized */
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_DATAERROR);
	copy[0] = 2;
	CHECK(parse(list, copy, sb->len) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_VERSION);
	copy[0] = 1;
	memset(copy + 4, 0, 4);			/* maxcpus 0 */
	CHECK(parse(list, copy, sb->len) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_DATAERROR);
	memset(copy + 4, 0xff, 8);		/* maxcpus and count huge */
	CHECK(parse(list, copy, sb->len) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_DATAERROR);
	copy[4] = 0; copy[5] = 0; copy[6] = 1; copy[7] = 0;	/* 65536 cpus */
	CHECK(parse(list, copy, sb->len) == -1);
	CHECK(parse(list, NULL, 0) == -1);
	free(copy);
	memstat_mtl_free(list);
}

UMA_TEST(memstat_uma_truncated_every_offset)
{
	struct sb sb = stream_mbuf();

	check_refused(memstat_buf_uma, &sb);
	free(sb.buf);
}

UMA_TEST(memstat_malloc_truncated_every_offset)
{
	struct sb sb;

	sb_malloc_start(&sb, 2);
	sb_mtype(&sb, "devbuf", NULL);
	sb_mtype(&sb, "temp", NULL);
	check_refused(memstat_buf_malloc, &sb);
	free(sb.buf);
}

/*
 * The garbage test's reference: the stream rules of <uma/stream.h> and
 * memstat_stream.h written again, independently of the parsers.  A stream
 * is a 16-byte header (version 1, maxcpus in 1..65536, count), then count
 * records of `head` bytes and maxcpus per-CPU records of 64 bytes, and
 * nothing else.
 */
struct fmt {
	int	(*parse)(struct memory_type_list *, const void *, size_t);
	int	allocator;
	size_t	head;		/* type header bytes */
	size_t	frees_off;	/* type header: a frees counter, or 0 */
	size_t	pcpu_frees_off;	/* per-CPU record: its frees counter */
};

static const struct fmt fmts[2] = {
	{ memstat_buf_uma, ALLOCATOR_UMA, sizeof(struct uma_type_header),
	  offsetof(struct uma_type_header, uth_frees),
	  offsetof(struct uma_percpu_stat, ups_frees) },
	{ memstat_buf_malloc, ALLOCATOR_MALLOC,
	  sizeof(struct malloc_type_header), 0,
	  offsetof(struct malloc_type_stats, mts_numfrees) },
};

static uint32_t
le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

/* The error the rules give for buf (0: a valid stream). */
static int
expected_error(const struct fmt *f, const unsigned char *buf, size_t len)
{
	uint32_t maxcpus, count;

	if (len < 16)
		return (MEMSTAT_ERROR_DATAERROR);
	if (le32(buf) != 1)
		return (MEMSTAT_ERROR_VERSION);
	maxcpus = le32(buf + 4);
	count = le32(buf + 8);
	if (maxcpus == 0 || maxcpus > 65536)
		return (MEMSTAT_ERROR_DATAERROR);
	if (16 + (uint64_t)count * (f->head + 64ull * maxcpus) != len)
		return (MEMSTAT_ERROR_DATAERROR);
	return (0);
}

/* The list as it stands, to compare after a refused parse. */
struct snap {
	int		 n;
	const void	*mtp[64];
	int		 allocator[64];
	char		 name[64][MEMTYPE_MAXNAME + 1];
	uint64_t	 frees[64];
};

static void
snap_take(struct memory_type_list *list, struct snap *sn)
{
	struct memory_type *mtp;

	memset(sn, 0, sizeof(*sn));
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		CHECK(sn->n < 64);	/* bounded: a cycle fails here */
		sn->mtp[sn->n] = mtp;
		sn->allocator[sn->n] = memstat_get_allocator(mtp);
		snprintf(sn->name[sn->n], sizeof(sn->name[0]), "%s",
		    memstat_get_name(mtp));
		sn->frees[sn->n] = memstat_get_numfrees(mtp);
		sn->n++;
	}
}

/*
 * A valid stream was taken: the list holds the other allocator's entries
 * as they were, in their order, and exactly the stream's records in
 * stream order, named as the records, with their per-CPU count and frees.
 */
static void
check_taken(struct memory_type_list *list, const struct fmt *f,
    const unsigned char *buf, const struct snap *before)
{
	uint32_t maxcpus = le32(buf + 4), count = le32(buf + 8);
	size_t rec = f->head + 64 * (size_t)maxcpus;
	struct snap after;
	uint32_t k = 0;
	int other = 0;

	snap_take(list, &after);
	for (int i = 0; i < before->n; i++)
		if (before->allocator[i] != f->allocator)
			other++;
	CHECK_EQ(after.n, other + (int)count);
	for (int i = 0, j = 0; i < after.n; i++) {
		const unsigned char *r = buf + 16 + k * rec;
		uint64_t frees = f->frees_off != 0 ? le64(r + f->frees_off) : 0;
		char name[MEMTYPE_MAXNAME + 1];

		if (after.allocator[i] != f->allocator) {
			while (before->allocator[j] == f->allocator)
				j++;
			CHECK(after.mtp[i] == before->mtp[j]);
			CHECK(strcmp(after.name[i], before->name[j]) == 0);
			j++;
			continue;
		}
		CHECK(k < count);
		snprintf(name, sizeof(name), "%.*s", MEMTYPE_MAXNAME,
		    (const char *)r);
		CHECK(strcmp(after.name[i], name) == 0);
		CHECK_EQ(memstat_get_maxcpus(after.mtp[i]), maxcpus);
		for (uint32_t c = 0; c < maxcpus; c++)
			frees += le64(r + f->head + 64 * c + f->pcpu_frees_off);
		CHECK_EQ(after.frees[i], frees);
		k++;
	}
	CHECK_EQ(k, count);
}

/* Set the list's error to `error` with a call that must fail so. */
static void
error_prime(struct memory_type_list *list, int error)
{
	static const uint32_t v2[4] = { 2, 1, 0, 0 };

	if (error == MEMSTAT_ERROR_VERSION)
		CHECK(memstat_buf_uma(list, v2, sizeof(v2)) == -1);
	else
		CHECK(memstat_buf_uma(list, NULL, 0) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), error);
}

/*
 * Random bytes, random bytes under a plausible header, and well-framed
 * streams of random records (names unterminated or with bytes past the
 * NUL, counters anything), for both parsers on one list.  Each answer is
 * the reference's: -1 sets exactly the error the rules give (the list's
 * error was set to another one first) and leaves the list as it was; 0
 * leaves a list that walks to its end with the stream's entries.
 */
UMA_TEST(memstat_garbage_matches_the_format_rules)
{
	struct memory_type_list *list = memstat_mtl_alloc();
	static unsigned char buf[16 + 7 * (120 + 4 * 64)];
	uint64_t x = 88172645463325252ull;
	int taken = 0, refused[11] = { 0 };

	for (int round = 0; round < 20000; round++) {
		const struct fmt *f;
		struct snap before;
		size_t len;
		int want, mode;

		for (size_t i = 0; i < sizeof(buf); i += 8) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		f = &fmts[x >> 63];
		mode = (int)(x % 4);
		len = (size_t)((x >> 8) % sizeof(buf));
		if (mode >= 1 && len >= 16) {	/* plausible header */
			uint32_t h[3] = { 1, (uint32_t)(x >> 20) % 4 + 1,
			    (uint32_t)(x >> 28) % 8 };

			if (mode == 3)		/* sometimes out of range */
				h[1] = (uint32_t)(x >> 36) % 3 == 0 ? 0 :
				    h[1];
			memcpy(buf, h, sizeof(h));
			if (mode >= 2)		/* framed exactly */
				len = 16 + h[2] * (f->head + 64 * h[1]);
		}
		want = expected_error(f, buf, len);
		snap_take(list, &before);
		if (want != 0)
			error_prime(list, want == MEMSTAT_ERROR_VERSION ?
			    MEMSTAT_ERROR_DATAERROR : MEMSTAT_ERROR_VERSION);
		if (want == 0) {
			CHECK_EQ(f->parse(list, buf, len), 0);
			check_taken(list, f, buf, &before);
			taken++;
		} else {
			struct snap after;

			CHECK_EQ(f->parse(list, buf, len), -1);
			CHECK_EQ(memstat_mtl_geterror(list), want);
			snap_take(list, &after);
			CHECK(memcmp(&before, &after, sizeof(before)) == 0);
			refused[want]++;
		}
	}
	/* Every kind of answer came up often. */
	CHECK(taken > 2000);
	CHECK(refused[MEMSTAT_ERROR_VERSION] > 2000);
	CHECK(refused[MEMSTAT_ERROR_DATAERROR] > 2000);
	memstat_mtl_free(list);
}

UMA_TEST(memstat_strerror_strings)
{
	CHECK(strcmp(memstat_strerror(MEMSTAT_ERROR_VERSION),
	    "Version mismatch") == 0);
	CHECK(strcmp(memstat_strerror(MEMSTAT_ERROR_DATAERROR),
	    "Data format error") == 0);
	CHECK(strcmp(memstat_strerror(12345), "Unknown error") == 0);
	CHECK(strcmp(memstat_strerror(-1), "Unknown error") == 0);
}

UMA_TEST(memstat_long_name_unterminated)
{
	struct sb sb;
	struct uma_type_header uth = uth_make("x", 8, 0, 0);
	struct memory_type_list *list = memstat_mtl_alloc();

	memset(uth.uth_name, 'a', sizeof(uth.uth_name));
	sb_uma_start(&sb, 1);
	sb_zone(&sb, &uth, NULL);
	CHECK(memstat_buf_uma(list, sb.buf, sb.len) == 0);
	CHECK_EQ(strlen(memstat_get_name(memstat_mtl_first(list))), 32);
	memstat_mtl_free(list);
	free(sb.buf);
}
