/*
 * malloc_stats.c - per-type statistics are exact: several threads run a
 * known workload, and numallocs, numfrees, memalloced, memfreed and the
 * size mask come out exactly, through the totals and through FreeBSD's
 * kern.malloc_stats stream.  Types come and go from the stream, and a
 * type destroyed with live allocations is reported as leaking.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "malloc_int.h"
#include "stats.h"
#include "vm.h"

MALLOC_DEFINE(M_STATS, "stats_test", "exactness");

#define	NTHREADS	4
#define	ROUNDS		20000

static const size_t sizes[] = { 1, 17, 100, 384, 1000, 5000, 70000 };

static void *
worker(void *arg)
{
	struct malloc_type *mtp = arg;
	void *keep[nitems(sizes)];

	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < nitems(sizes); i++) {
			if (r % 50 != 0 && sizes[i] > MALLOC_MAXSIZE)
				continue;
			keep[i] = uma_malloc(sizes[i], mtp, M_WAITOK);
			if (r % 500 == 0)
				sched_yield();
		}
		for (size_t i = 0; i < nitems(sizes); i++) {
			if (r % 50 != 0 && sizes[i] > MALLOC_MAXSIZE)
				continue;
			if (r == ROUNDS - 1 && i == 0)
				continue;	/* leave one 16-byte item live */
			uma_free(keep[i], mtp);
		}
	}
	return (NULL);
}

static void
expected(struct malloc_type_totals *tt)
{
	uint64_t large_rounds = (ROUNDS + 49) / 50;

	memset(tt, 0, sizeof(*tt));
	for (size_t i = 0; i < nitems(sizes); i++) {
		uint64_t n = sizes[i] > MALLOC_MAXSIZE ? large_rounds : ROUNDS;
		uint64_t b = sizes[i] > MALLOC_MAXSIZE ?
		    roundup2(sizes[i], UMA_PAGE_SIZE) :
		    malloc_class_sizes[uma__malloc_class(sizes[i])];

		tt->mt_numallocs += n * NTHREADS;
		tt->mt_memalloced += n * NTHREADS * b;
		if (sizes[i] <= MALLOC_MAXSIZE)
			tt->mt_sizemask |= 1ull << uma__malloc_class(sizes[i]);
	}
	tt->mt_numfrees = tt->mt_numallocs - NTHREADS;
	tt->mt_memfreed = tt->mt_memalloced - NTHREADS * 16;
}

static void
run_workload(struct malloc_type *mtp)
{
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, mtp);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
}

UMA_TEST(malloc_stats_exact_after_threaded_workload)
{
	struct malloc_type_totals tt, want;

	run_workload(M_STATS);
	if (getenv("MALLOC_EXPECT_LOCKED") != NULL)
		CHECK(!uma.ug_rseq);
	uma__malloc_type_totals(M_STATS, &tt);
	expected(&want);
	CHECK_EQ(tt.mt_numallocs, want.mt_numallocs);
	CHECK_EQ(tt.mt_numfrees, want.mt_numfrees);
	CHECK_EQ(tt.mt_memalloced, want.mt_memalloced);
	CHECK_EQ(tt.mt_memfreed, want.mt_memfreed);
	CHECK_EQ(tt.mt_sizemask, want.mt_sizemask);
}

/* The stream's layout, as libmemstat reads it. */
struct mtsh { uint32_t version, maxcpus, count, pad; };
struct mts { uint64_t memalloced, memfreed, numallocs, numfrees, size, r[3]; };

static int
stream_find(const char *name, struct malloc_type_totals *tt)
{
	size_t len = uma__malloc_stream(NULL, 0);
	char *buf = malloc(len), *p;
	struct mtsh h;
	int found = 0;

	CHECK_EQ(uma__malloc_stream(buf, len), len);
	memcpy(&h, buf, sizeof(h));
	CHECK_EQ(h.version, 1);
	CHECK_EQ(h.maxcpus, uma__ncpus());
	CHECK_EQ(h.count, uma__malloc_count());
	CHECK_EQ(len, sizeof(h) + h.count * (32 + h.maxcpus * 64));
	memset(tt, 0, sizeof(*tt));
	p = buf + sizeof(h);
	for (uint32_t t = 0; t < h.count; t++) {
		bool match = strncmp(p, name, 32) == 0;

		p += 32;
		for (uint32_t c = 0; c < h.maxcpus; c++, p += 64) {
			struct mts s;

			memcpy(&s, p, sizeof(s));
			if (!match)
				continue;
			tt->mt_memalloced += s.memalloced;
			tt->mt_memfreed += s.memfreed;
			tt->mt_numallocs += s.numallocs;
			tt->mt_numfrees += s.numfrees;
			tt->mt_sizemask |= s.size;
		}
		found += match;
	}
	free(buf);
	return (found);
}

UMA_TEST(malloc_stream_reports_runtime_type_exactly_then_drops_it)
{
	struct malloc_type *mtp = malloc_type_create("runtime_type");
	struct malloc_type_totals tt, want;
	int before = uma__malloc_count();

	CHECK(mtp != NULL);
	run_workload(mtp);
	CHECK_EQ(stream_find("runtime_type", &tt), 1);
	expected(&want);
	CHECK_EQ(tt.mt_numallocs, want.mt_numallocs);
	CHECK_EQ(tt.mt_numfrees, want.mt_numfrees);
	CHECK_EQ(tt.mt_memalloced, want.mt_memalloced);
	CHECK_EQ(tt.mt_memfreed, want.mt_memfreed);
	CHECK_EQ(tt.mt_sizemask, want.mt_sizemask);
	CHECK(stream_find("stats_test", &tt) == 1);
	malloc_type_destroy(mtp);	/* leaks: warns, keeps counters */
	CHECK_EQ(uma__malloc_count(), before - 1);
	CHECK_EQ(stream_find("runtime_type", &tt), 0);
}

UMA_TEST(malloc_type_destroy_with_live_allocations_warns)
{
	struct malloc_type *mtp = malloc_type_create("leaky");
	char path[] = "/tmp/uma_leakXXXXXX", buf[512];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	uma_malloc(100, mtp, M_WAITOK);
	uma_malloc(100000, mtp, M_WAITOK);
	dup2(fd, 2);
	malloc_type_destroy(mtp);
	dup2(saved, 2);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	unlink(path);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "Warning: memory type leaky leaked memory on "
	    "destroy (2 allocations, 102512 bytes leaked).") != NULL);
}

UMA_TEST(malloc_type_destroy_clean_is_silent)
{
	struct malloc_type *mtp = malloc_type_create("clean");
	char path[] = "/tmp/uma_cleanXXXXXX";
	int fd = mkstemp(path), saved = dup(2);

	uma_free(uma_malloc(100, mtp, M_WAITOK), mtp);
	dup2(fd, 2);
	malloc_type_destroy(mtp);
	dup2(saved, 2);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 0);
	unlink(path);
}

/* The same workload with the caches in locked mode (a fresh process). */
UMA_TEST(malloc_stats_exact_in_locked_mode)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char cmd[8300];

	CHECK(n > 0);
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "UMA_TUNABLES=vm.uma_rseq=0 "
	    "MALLOC_EXPECT_LOCKED=1 '%s' malloc_stats_exact_after_threaded_"
	    "workload >/dev/null", self);
	CHECK(system(cmd) == 0);
}
