/*
 * realloc_grow.c - buffers grown by realloc in small steps, on whatever
 * malloc the process has (LD_PRELOAD chooses; realloc_run.sh runs the
 * peers).  Every new byte is written, as a log, a string builder or a
 * read loop writes it, and the contents are checked at the end.
 *
 *   realloc_grow MODE FINAL_MIB STEP
 *	alone	one buffer, nothing else allocated: it can always grow
 *		where it is
 *	walled	one buffer, and a 100 KB block allocated (and kept) after
 *		every step: something new keeps landing where it would grow
 *	two	two buffers grown in turn: each is in the other's way
 *
 * Output: "<mode> <final MiB> <step> <seconds> <moved MiB>", the last
 * from uma's vm.malloc.realloc_{copied,remapped}_bytes when the
 * allocator is uma (0 otherwise).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define	MIB	((size_t)1 << 20)

static uint64_t
uma_counter(const char *name)
{
	int (*get)(const char *, void *, size_t *, const void *, size_t);
	uint64_t v = 0;
	size_t len = sizeof(v);

	get = (__typeof__(get))dlsym(RTLD_DEFAULT, "uma_sysctlbyname");
	if (get == NULL || get(name, &v, &len, NULL, 0) != 0)
		return (0);
	return (v);
}

static uint64_t
uma_moved(void)
{
	return (uma_counter("vm.malloc.realloc_copied_bytes") +
	    uma_counter("vm.malloc.realloc_remapped_bytes"));
}

static char *
grow(char *p, size_t n, size_t step, int seed)
{
	if ((p = realloc(p, n + step)) == NULL) {
		fprintf(stderr, "realloc_grow: realloc(%zu) failed\n", n + step);
		exit(1);
	}
	for (size_t o = n; o < n + step; o++)
		p[o] = (char)(o * 7 + (o >> 12) + seed);
	return (p);
}

static void
check(const char *p, size_t n, int seed)
{
	for (size_t o = 0; o < n; o += 509)
		if (p[o] != (char)(o * 7 + (o >> 12) + seed)) {
			fprintf(stderr, "realloc_grow: byte %zu changed\n", o);
			exit(1);
		}
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	char *a = NULL, *b = NULL, **walls = NULL;
	size_t final, step, n, nwalls = 0;
	uint64_t moved0 = uma_moved();
	const char *mode;

	if (argc != 4 || (strcmp(argv[1], "alone") != 0 &&
	    strcmp(argv[1], "walled") != 0 && strcmp(argv[1], "two") != 0)) {
		fprintf(stderr, "usage: realloc_grow alone|walled|two "
		    "FINAL_MIB STEP\n");
		return (2);
	}
	mode = argv[1];
	final = strtoull(argv[2], NULL, 10) * MIB;
	step = strtoull(argv[3], NULL, 10);
	if (step == 0 || final < step)
		return (2);
	if (strcmp(mode, "walled") == 0 &&
	    (walls = malloc(final / step * sizeof(*walls))) == NULL)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n + step <= final; n += step) {
		a = grow(a, n, step, 1);
		if (mode[0] == 't')
			b = grow(b, n, step, 2);
		else if (mode[0] == 'w' && (walls[nwalls++] = malloc(100000)) ==
		    NULL)
			return (1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	check(a, n, 1);
	if (b != NULL)
		check(b, n, 2);
	printf("%s %zu %zu %.4f %.1f\n", mode, final / MIB, step,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (double)(uma_moved() - moved0) / MIB);
	free(a);
	free(b);
	while (nwalls > 0)
		free(walls[--nwalls]);
	free(walls);
	return (0);
}
