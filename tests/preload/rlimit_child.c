/*
 * rlimit_child.c - the program preload_rlimit runs under an address-space
 * or data limit, built twice: on malloc(3), run with libuma-malloc.so
 * preloaded, and with -DRLIMIT_UMA on uma_malloc(9) with a type of its
 * own, linked to libuma.  Exit 0 when the case holds; a failed check
 * prints why and exits 1; an abort is uma's.
 *
 *   rlimit_child need MIB
 *	allocate MIB MiB in 1 MiB blocks, write every page, check, free
 *   rlimit_child exhaust MIN_MIB
 *	allocate 1 MiB blocks until the allocator says no: it must say so
 *	with NULL and ENOMEM, after at least MIN_MIB MiB; the same with
 *	small blocks and with a block grown by realloc (which must leave
 *	the block as it was); then free it all, and 10 MiB must come again
 *   rlimit_child reuse MIB
 *	allocate MIB MiB in 4 KiB blocks, write every one, free them all,
 *	then MIB MiB in 1 KiB blocks and 1 MiB in 64 B blocks: the freed
 *	memory must serve the other sizes at once, so that the peak
 *	resident set (VmHWM) stays within a quarter above MIB MiB (more
 *	means the second size took new pages until the limit, and only a
 *	low-memory drain made room)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifdef RLIMIT_UMA
#include <uma/malloc.h>

MALLOC_DEFINE(M_RLIMIT, "rlimit", "rlimit test");
#define	ALLOC(n)	uma_malloc((n), M_RLIMIT, M_NOWAIT)
#define	REALLOC(p, n)	uma_realloc((p), (n), M_RLIMIT, M_NOWAIT)
#define	FREE(p)		uma_free((p), M_RLIMIT)
#else
#define	ALLOC(n)	malloc(n)
#define	REALLOC(p, n)	realloc((p), (n))
#define	FREE(p)		free(p)
#endif

#define	MB		((size_t)1 << 20)
#define	MAXBLOCKS	(1 << 18)

static void *blocks[MAXBLOCKS];

#define	REQUIRE(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "rlimit_child: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #e);					\
		exit(1);						\
	}								\
} while (0)

/* uma's, when it is there (preloaded, or linked): weak. */
int	uma_sysctlbyname(const char *name, void *oldp, size_t *oldlenp,
	    const void *newp, size_t newlen) __attribute__((weak));

/*
 * MiB of address space MemGuard holds, if it is on (UMA_TUNABLES, as the
 * suite's MemGuard runs set it) and the limit is RLIMIT_AS: its arena,
 * a vm.memguard.divisor-th of the limit as FreeBSD's is of kmem, is
 * address space the program cannot allocate.
 */
static size_t
memguard_mib(void)
{
	uint64_t start = 0, size = 0;
	size_t len = sizeof(start);
	struct rlimit rl;

	if (uma_sysctlbyname == NULL || getrlimit(RLIMIT_AS, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    uma_sysctlbyname("vm.memguard.mapstart", &start, &len, NULL,
	    0) != 0 || start == 0)
		return (0);
	len = sizeof(size);
	REQUIRE(uma_sysctlbyname("vm.memguard.mapsize", &size, &len, NULL,
	    0) == 0);
	return ((size_t)((size + MB - 1) / MB));
}

/* Blocks of `size` until the allocator says no; their count. */
static size_t
fill(size_t size)
{
	size_t n = 0;

	errno = 0;
	while (n < MAXBLOCKS && (blocks[n] = ALLOC(size)) != NULL) {
		memset(blocks[n], (int)n, size < 4096 ? size : 4096);
		n++;
	}
	REQUIRE(n < MAXBLOCKS);
	REQUIRE(errno == ENOMEM);
	return (n);
}

static void
release(size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		REQUIRE(*(unsigned char *)blocks[i] == (unsigned char)i);
		FREE(blocks[i]);
	}
	printf("%zu blocks of %zu bytes: %zu MiB\n", n, size, n * size / MB);
}

static void
need(size_t mib)
{
	for (size_t i = 0; i < mib; i++) {
		blocks[i] = ALLOC(MB);
		REQUIRE(blocks[i] != NULL);
		for (size_t o = 0; o < MB; o += 4096)
			((char *)blocks[i])[o] = (char)(i + o / 4096);
	}
	for (size_t i = 0; i < mib; i++) {
		for (size_t o = 0; o < MB; o += 4096)
			REQUIRE(((char *)blocks[i])[o] == (char)(i + o / 4096));
		FREE(blocks[i]);
	}
}

/* Grow one block by 1 MiB steps until realloc says no. */
static size_t
grow(void)
{
	char *p = NULL, *q;
	size_t n = 0;

	for (;;) {
		errno = 0;
		q = REALLOC(p, n + MB);
		if (q == NULL)
			break;
		p = q;
		memset(p + n, 0x5a, MB);
		n += MB;
	}
	REQUIRE(errno == ENOMEM);
	REQUIRE(n > 0);
	/* The block realloc refused is as it was. */
	for (size_t o = 0; o < n; o += 4096)
		REQUIRE(p[o] == 0x5a);
	FREE(p);
	printf("one block grown to %zu MiB\n", n / MB);
	return (n / MB);
}

static void
exhaust(size_t min_mib)
{
	size_t n;

	n = fill(MB);
	min_mib -= memguard_mib();
	REQUIRE(n >= min_mib);
	release(n, MB);
	n = fill(1000);
	release(n, 1000);
	REQUIRE(n * 1000 >= min_mib * MB);
	REQUIRE(grow() >= min_mib / 2);
	need(10);
}

/* The process's peak resident set, in bytes (VmHWM). */
static size_t
peak_rss(void)
{
	char line[256];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	REQUIRE(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %zu kB", &kib) == 1)
			break;
	fclose(f);
	REQUIRE(kib > 0);
	return (kib << 10);
}

/* n blocks of `size`, each written whole, then freed; NULL is a failure. */
static void
phase(size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		blocks[i] = ALLOC(size);
		REQUIRE(blocks[i] != NULL);
		memset(blocks[i], (int)(i + size), size);
	}
	for (size_t i = 0; i < n; i++) {
		REQUIRE(((unsigned char *)blocks[i])[size - 1] ==
		    (unsigned char)(i + size));
		FREE(blocks[i]);
	}
}

static void
reuse(size_t mib)
{
	size_t peak;

	REQUIRE(mib * MB / 1024 <= MAXBLOCKS);
	phase(mib * MB / 4096, 4096);
	phase(mib * MB / 1024, 1024);
	phase(MB / 64, 64);
	peak = peak_rss();
	printf("%zu MiB of 4 KiB blocks, then of 1 KiB and 64 B ones: peak "
	    "%zu MiB\n", mib, peak / MB);
	REQUIRE(peak <= mib * MB + mib * MB / 4);
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "need") == 0)
		need(strtoul(argv[2], NULL, 10));
	else if (argc == 3 && strcmp(argv[1], "exhaust") == 0)
		exhaust(strtoul(argv[2], NULL, 10));
	else if (argc == 3 && strcmp(argv[1], "reuse") == 0)
		reuse(strtoul(argv[2], NULL, 10));
	else {
		fprintf(stderr, "usage: rlimit_child need MIB | exhaust MIN | reuse MIB\n");
		return (2);
	}
	return (0);
}
