/*
 * malloc_workloads.c - allocator workloads in the spirit of the classic
 * benchmarks, one per sub-command; the allocator is whatever malloc the
 * process has (LD_PRELOAD).  Each is sized to run for about half a second
 * or more under glibc, so that start-up and the 10 ms resolution of
 * time(1) do not decide the result.
 *
 * Output: "<workload> <seconds> <peak RSS KiB> <checksum>": wall time of
 * the workload itself (CLOCK_MONOTONIC), the process's peak RSS (VmHWM)
 * at the end, and a checksum so that no work is elided.  Not ru_maxrss:
 * Linux carries it across execve, so the shell that forked the program
 * (about 2 MiB) was the floor of every small workload's number.
 *
 *   larson        threads replace random slots of a shared-nothing array
 *                 with random sizes, handing arrays to the next round's
 *                 thread (larson: server-like, frees by other threads)
 *   mstress       rounds of allocate-many / free-half / touch (mstress)
 *   xmalloc       producer threads allocate, consumer threads free
 *                 (xmalloc-test: every free is remote)
 *   cache-scratch threads allocate, write and free small objects that
 *                 started on another thread (false-sharing test)
 *   simple        one thread, malloc/free pairs of 16..512 bytes (glibc
 *                 bench-malloc-simple)
 *   thread        the same on 2 threads (glibc bench-malloc-thread)
 *   small         one thread builds and frees 4 million 16-64 byte objects
 *   large         blocks of 64 KiB .. 4 MiB, allocated, touched, freed
 */
#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define	NTHREADS	2

static uint64_t
xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static _Atomic uint64_t sum;

/* ---- larson ---- */
#define	LARSON_SLOTS	4000
static void *larson_slots[NTHREADS][LARSON_SLOTS];

static pthread_barrier_t larson_bar;

static void *
larson_round_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t s = id * 7 + 1, acc = 0;

	for (int round = 0; round < 32; round++) {
		void **slots = larson_slots[(id + (uintptr_t)round) % NTHREADS];

		for (int i = 0; i < 300000; i++) {
			int k = (int)(xs(&s) % LARSON_SLOTS);
			size_t sz = 8 + xs(&s) % 1000;

			free(slots[k]);
			slots[k] = malloc(sz);
			((char *)slots[k])[0] = (char)i;
			acc += sz;
		}
		pthread_barrier_wait(&larson_bar);
	}
	sum += acc;
	return (NULL);
}

static void
larson_rounds(void)
{
	pthread_t t[NTHREADS];

	pthread_barrier_init(&larson_bar, NULL, NTHREADS);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, larson_round_thread, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		for (int k = 0; k < LARSON_SLOTS; k++)
			free(larson_slots[i][k]);
}

/* ---- mstress ---- */
static void *
mstress_thread(void *arg)
{
	uint64_t s = (uintptr_t)arg + 3, acc = 0;
	enum { N = 200000 };
	void **p = malloc(N * sizeof(*p));

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < N; i++) {
			size_t sz = xs(&s) % 100 < 95 ? 8 + xs(&s) % 256 :
			    1000 + xs(&s) % 30000;
			p[i] = malloc(sz);
			memset(p[i], i, sz < 64 ? sz : 64);
		}
		for (int i = 0; i < N; i += 2)
			free(p[i]);
		for (int i = 0; i < N; i += 2)
			p[i] = malloc(8 + xs(&s) % 128);
		for (int i = 0; i < N; i++) {
			acc += ((unsigned char *)p[i])[0];
			free(p[i]);
		}
	}
	free(p);
	sum += acc;
	return (NULL);
}

/* ---- xmalloc: producers allocate, consumers free ---- */
#define	XQ	4096
struct xq {
	void *_Atomic slot[XQ];
	char pad[64];
};
static struct xq xqs[NTHREADS / 2 ? NTHREADS / 2 : 1];

static void *
xproducer(void *arg)
{
	struct xq *q = arg;
	uint64_t s = 5;

	for (int i = 0; i < 3000000; i++) {
		void *p = malloc(16 + xs(&s) % 240), *e = NULL;

		((char *)p)[0] = 1;
		while (!__atomic_compare_exchange_n(&q->slot[i % XQ], &e, p, 0,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			e = NULL;
	}
	return (NULL);
}

static void *
xconsumer(void *arg)
{
	struct xq *q = arg;

	for (int i = 0; i < 3000000; i++) {
		void *p;

		while ((p = __atomic_exchange_n(&q->slot[i % XQ], NULL,
		    __ATOMIC_ACQUIRE)) == NULL)
			;
		sum += ((char *)p)[0];
		free(p);
	}
	return (NULL);
}

/* ---- cache-scratch ---- */
static void *scratch_objs[NTHREADS];

static void *
scratch_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	char *o = scratch_objs[id];

	free(o);		/* an object allocated by the main thread */
	for (int i = 0; i < 20000000; i++) {
		o = malloc(8);
		for (int k = 0; k < 8; k++)
			o[k] = (char)k;
		free(o);
	}
	return (NULL);
}

/* ---- simple / thread ---- */
static void *
simple_thread(void *arg)
{
	uint64_t acc = 0;

	for (int r = 0; r < 800; r++) {
		for (size_t sz = 16; sz <= 512; sz += 16) {
			for (int i = 0; i < 2000; i++) {
				char *p = malloc(sz);

				p[0] = (char)i;
				acc += (unsigned char)p[0];
				free(p);
			}
		}
	}
	sum += acc;
	return (NULL);
}

/* ---- small ---- */
static void
small(void)
{
	enum { N = 4000000 };
	void **p = malloc(N * sizeof(*p));
	uint64_t s = 9;

	for (int i = 0; i < N; i++) {
		p[i] = malloc(16 + xs(&s) % 48);
		((char *)p[i])[0] = (char)i;
	}
	for (int i = 0; i < N; i++) {
		sum += ((unsigned char *)p[i])[0];
		free(p[i]);
	}
	free(p);
}

/* ---- large ---- */
static void
large(void)
{
	uint64_t s = 13;
	void *keep[16] = { 0 };

	for (int i = 0; i < 40000; i++) {
		size_t sz = (size_t)65536 << (xs(&s) % 7);
		int k = (int)(xs(&s) % 16);
		char *p;

		free(keep[k]);
		p = malloc(sz);
		for (size_t o = 0; o < sz; o += 16384)
			p[o] = 1;
		keep[k] = p;
	}
	for (int k = 0; k < 16; k++)
		free(keep[k]);
}

static void
run_threads(void *(*fn)(void *), int n)
{
	pthread_t t[8];

	for (intptr_t i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/*
 * This process's peak resident set, from VmHWM in /proc/self/status (read
 * with open/read: no allocation of its own); -1 if it cannot be read.
 */
static long
peak_rss_kib(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/status", O_RDONLY)) < 0)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((p = strstr(buf, "VmHWM:")) == NULL)
		return (-1);
	return (strtol(p + 6, NULL, 10));
}

int
main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "";
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(w, "larson") == 0) {
		larson_rounds();
	} else if (strcmp(w, "mstress") == 0) {
		run_threads(mstress_thread, NTHREADS);
	} else if (strcmp(w, "xmalloc") == 0) {
		pthread_t p, c;

		pthread_create(&p, NULL, xproducer, &xqs[0]);
		pthread_create(&c, NULL, xconsumer, &xqs[0]);
		pthread_join(p, NULL);
		pthread_join(c, NULL);
	} else if (strcmp(w, "cache-scratch") == 0) {
		for (int i = 0; i < NTHREADS; i++)
			scratch_objs[i] = malloc(8);
		run_threads(scratch_thread, NTHREADS);
	} else if (strcmp(w, "simple") == 0) {
		simple_thread(NULL);
	} else if (strcmp(w, "thread") == 0) {
		run_threads(simple_thread, NTHREADS);
	} else if (strcmp(w, "small") == 0) {
		small();
	} else if (strcmp(w, "large") == 0) {
		large();
	} else {
		fprintf(stderr, "usage: malloc_workloads larson|mstress|"
		    "xmalloc|cache-scratch|simple|thread|small|large\n");
		return (2);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s %.4f %ld %llu\n", w, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, peak_rss_kib(),
	    (unsigned long long)sum);
	return (0);
}
