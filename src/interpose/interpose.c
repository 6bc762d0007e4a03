/*
 * interpose.c - malloc(3) for unmodified programs, built into
 * libuma-malloc.so (LD_PRELOAD) and libuma-malloc.a (link it before libc).
 *
 * Layer: above malloc(9).  Every libc allocation function becomes a
 * uma_malloc/uma_free on the malloc type "libc", so a program's heap shows
 * up as the malloc-<size> zones (umastat -z) and as the type "libc"
 * (umastat -m).  Not part of libuma: it lives outside the src glob.
 *
 * Start-up.  uma is the allocator from the program's first malloc call:
 * ld.so's own early allocations use its private minimal malloc and are
 * never passed to free(), so "free of a pointer from before preloading"
 * cannot happen.  uma never calls malloc, but libc does inside uma's
 * start-up (pthread_create of the trim thread, when the process already
 * has threads): such re-entrant calls on the starting thread are
 * served from a static bootstrap area (malloc.c), and free() of them is a
 * no-op.  Nothing inside uma's boot starts a thread or registers a fork
 * handler; those come after it (init.c, uma__startup), when the calls
 * they make back into this file find uma ready.  dlsym is called only
 * from __register_atfork, after uma is ready.
 *
 * Misuse (double free, free of a stack, static or foreign pointer, free of
 * the inside of a block, realloc of a freed block) prints
 * "uma: free(0x...): <why>" or names the zone, and aborts.
 *
 * Environment: UMA_MALLOC_STATS=1 prints a vmstat -z / vmstat -m like
 * summary on stderr at exit.  UMA_TUNABLES applies as for any uma program;
 * the export endpoint (umastat -p PID) is switched on with UMA_EXPORT=1.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "../malloc_int.h"
#include "../malloc_fast.h"
#include "../stats.h"

#define	IP_EXPORT	__attribute__((visibility("default")))

static struct malloc_type M_LIBC[1] = {
	{ NULL, M_MAGIC, "libc", NULL }
};

/*
 * "libc" leaves its size-class counts to the class zones (malloc_type.c):
 * malloc(3) and free(3) then count nothing beyond the zone's own commit.
 * Overrides libuma's weak NULL, so it holds from the very first call.
 */
struct malloc_type *uma__malloc_zone_type = M_LIBC;

/*
 * Every process pays for what libuma-malloc.so does at start-up: its fork
 * handlers and trim thread wait until the process needs them (threads.c).
 */
bool uma__threads_lazy = true;

/*
 * The hit paths inline: M_LIBC is zone-counted, so they count nothing.
 * Both start on a cache line, as uma_zalloc and uma_zfree do, so that
 * code added elsewhere does not move them across fetch blocks (bench
 * hitpath.sh malloc-pair with rseq: 6.75 ns where they had moved, 6.35
 * aligned, main's 6.36).
 */
IP_EXPORT __attribute__((aligned(64))) void *
malloc(size_t size)
{
	return (malloc_fast(size, M_LIBC, M_NOWAIT, true));
}

IP_EXPORT __attribute__((aligned(64))) void
free(void *ptr)
{
	free_fast(ptr, M_LIBC, true);
}

/* C23: free with the size the block was allocated with. */
IP_EXPORT void
free_sized(void *ptr, size_t size)
{
	free_fast_sized(ptr, size, M_LIBC, true);
}

/* The alignment tells nothing more: an aligned block's class is its own. */
IP_EXPORT void
free_aligned_sized(void *ptr, size_t alignment, size_t size)
{
	(void)alignment;
	(void)size;
	free_fast(ptr, M_LIBC, true);
}

/*
 * C++'s operator delete, by its mangled names.  libstdc++'s operator new
 * is malloc (its loop with the new handler stays libstdc++'s: it throws),
 * and its delete is free, which leaves the size a C++14 compiler passes
 * unused and costs a call more.  Here the sized ones bet on the size's
 * class (free_fast_sized), as tcmalloc, jemalloc and mimalloc use it.  A
 * program that replaces operator delete keeps its own: the executable's
 * definition comes before a preloaded one.  The forms: delete p and
 * delete[] p; with the size (C++14's sized deallocation, which g++ passes
 * by default); nothrow; std::align_val_t (an aligned block's class is its
 * own: the alignment tells nothing more).
 */
#define	IP_UNUSED	__attribute__((unused))

IP_EXPORT void
_ZdlPv(void *ptr)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdaPv(void *ptr)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdlPvm(void *ptr, size_t size)
{
	free_fast_sized(ptr, size, M_LIBC, true);
}

IP_EXPORT void
_ZdaPvm(void *ptr, size_t size)
{
	free_fast_sized(ptr, size, M_LIBC, true);
}

IP_EXPORT void
_ZdlPvRKSt9nothrow_t(void *ptr, IP_UNUSED const void *nt)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdaPvRKSt9nothrow_t(void *ptr, IP_UNUSED const void *nt)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdlPvSt11align_val_t(void *ptr, IP_UNUSED size_t al)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdaPvSt11align_val_t(void *ptr, IP_UNUSED size_t al)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdlPvmSt11align_val_t(void *ptr, IP_UNUSED size_t size, IP_UNUSED size_t al)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdaPvmSt11align_val_t(void *ptr, IP_UNUSED size_t size, IP_UNUSED size_t al)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, IP_UNUSED size_t al,
    IP_UNUSED const void *nt)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
_ZdaPvSt11align_val_tRKSt9nothrow_t(void *ptr, IP_UNUSED size_t al,
    IP_UNUSED const void *nt)
{
	free_fast(ptr, M_LIBC, true);
}

IP_EXPORT void
cfree(void *ptr)
{
	uma_free(ptr, M_LIBC);
}

IP_EXPORT void *
calloc(size_t nmemb, size_t size)
{
	size_t n;

	/*
	 * pthread_create allocates the new thread's TLS vector here, in the
	 * creating thread, once the process is no longer single-threaded:
	 * the moment for uma's fork handlers and trim thread (threads.c).
	 * Before uma is ready its start-up does it (tunables read first).
	 */
	if (__predict_false(!__libc_single_threaded) &&
	    __atomic_load_n(&uma.ug_ready, __ATOMIC_ACQUIRE))
		uma_threads_poll();
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return (NULL);
	}
	return (uma_malloc(n, M_LIBC, M_NOWAIT | M_ZERO));
}

/* glibc semantics: realloc(p, 0) frees p and returns NULL. */
IP_EXPORT void *
realloc(void *ptr, size_t size)
{
	if (ptr != NULL && size == 0) {
		uma_free(ptr, M_LIBC);
		return (NULL);
	}
	return (uma_realloc(ptr, size, M_LIBC, M_NOWAIT));
}

IP_EXPORT void *
reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return (NULL);
	}
	return (realloc(ptr, n));
}

IP_EXPORT int
posix_memalign(void **memptr, size_t alignment, size_t size)
{
	void *p;

	if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
		return (EINVAL);
	p = uma_malloc_aligned(size, alignment, M_LIBC, M_NOWAIT);
	if (p == NULL)
		return (ENOMEM);
	*memptr = p;
	return (0);
}

IP_EXPORT void *
aligned_alloc(size_t alignment, size_t size)
{
	return (uma_malloc_aligned(size, alignment, M_LIBC, M_NOWAIT));
}

/* glibc rounds a non-power-of-2 alignment up; so do we. */
IP_EXPORT void *
memalign(size_t alignment, size_t size)
{
	size_t a = 16;

	while (a < alignment && a != 0)
		a <<= 1;
	if (a == 0) {
		errno = EINVAL;
		return (NULL);
	}
	return (uma_malloc_aligned(size, a, M_LIBC, M_NOWAIT));
}

IP_EXPORT void *
__libc_memalign(size_t alignment, size_t size)
{
	return (memalign(alignment, size));
}

IP_EXPORT void *
valloc(size_t size)
{
	return (uma_malloc_aligned(size, UMA_PAGE_SIZE, M_LIBC, M_NOWAIT));
}

IP_EXPORT void *
pvalloc(size_t size)
{
	size_t n = roundup2(size, UMA_PAGE_SIZE);

	if (n < size) {
		errno = ENOMEM;
		return (NULL);
	}
	return (uma_malloc_aligned(n == 0 ? UMA_PAGE_SIZE : n, UMA_PAGE_SIZE,
	    M_LIBC, M_NOWAIT));
}

IP_EXPORT size_t
malloc_usable_size(void *ptr)
{
	return (uma_malloc_usable_size(ptr));
}

/* ---- UMA_MALLOC_STATS ------------------------------------------------- */

static int
stats_zone(uma_zone_t zone, void *arg)
{
	struct uma__zone_stat zs;

	uma__zone_stat(zone, &zs, NULL, 0);
	if (zs.zs_allocs == 0)
		return (0);
	fprintf(stderr, "%-18s %6u, %6ju, %8ju, %8ju, %10ju, %4ju, %4ju\n",
	    zs.zs_name, zs.zs_size, (uintmax_t)zs.zs_limit,
	    (uintmax_t)(zs.zs_allocs - zs.zs_frees),
	    (uintmax_t)(zs.zs_keg_free + zs.zs_zone_free + zs.zs_cpu_free),
	    (uintmax_t)zs.zs_allocs, (uintmax_t)zs.zs_fails,
	    (uintmax_t)zs.zs_sleeps);
	return (0);
}

static int
stats_type(struct malloc_type *mtp, void *arg)
{
	struct malloc_type_totals tt;
	const char *sep = "";

	uma__malloc_type_totals(mtp, &tt);
	if (tt.mt_numallocs == 0)
		return (0);
	fprintf(stderr, "%13s %5ju %5juK %7s %8ju  ", mtp->ks_shortdesc,
	    (uintmax_t)(tt.mt_numallocs - tt.mt_numfrees),
	    (uintmax_t)((tt.mt_memalloced - tt.mt_memfreed + 1023) / 1024),
	    "-", (uintmax_t)tt.mt_numallocs);
	for (int i = 0; i < MALLOC_NCLASSES; i++) {
		if (tt.mt_sizemask & (1ull << i)) {
			fprintf(stderr, "%s%u", sep, malloc_class_sizes[i]);
			sep = ",";
		}
	}
	fputc('\n', stderr);
	return (0);
}

static void
stats_print(void)
{
	fprintf(stderr, "%-18s %6s %7s %9s %9s %11s %5s %5s\n", "ITEM",
	    "SIZE", "LIMIT", "USED", "FREE", "REQ", "FAIL", "SLEEP");
	uma__zone_foreach(stats_zone, NULL, 0);
	fprintf(stderr, "\n%13s %5s %6s %7s %8s  %s\n", "Type", "InUse",
	    "MemUse", "HighUse", "Requests", "Size(s)");
	uma__malloc_type_foreach(stats_type, NULL);
}

/*
 * Every fork handler registered in the process comes after uma's, so that
 * its prepare runs before uma's takes uma's locks: a prepare that
 * allocates would otherwise hang the fork (threads.c).  Programs and
 * libraries built on glibc 2.28 or later reach libc's registration only
 * through this symbol (pthread_atfork is a stub that calls it), and so
 * does uma's own, which passes straight through.  libc's is found with
 * dlsym: a reference by version from this library would bind to this
 * definition.
 */
IP_EXPORT int
__register_atfork(void (*prepare)(void), void (*parent)(void),
    void (*child)(void), void *dso_handle)
{
	static int (*_Atomic libc_register)(void (*)(void), void (*)(void),
	    void (*)(void), void *);
	int (*fn)(void (*)(void), void (*)(void), void (*)(void), void *);

	/*
	 * Not uma's own, and not from inside uma's start-up on this thread
	 * (a library it calls may register handlers; waiting for uma there
	 * would wait on ourselves: uma__startup).
	 */
	if (!uma__forks_registering() && !uma__booting()) {
		uma__malloc_startup();	/* every layer's handlers queued */
		uma__forks_register();
		uma__forks_wait();
	}
	if ((fn = atomic_load(&libc_register)) == NULL) {
		fn = (__typeof__(fn))dlsym(RTLD_NEXT, "__register_atfork");
		if (fn == NULL)
			uma__panic("uma: no __register_atfork after "
			    "libuma-malloc.so: %s", dlerror());
		atomic_store(&libc_register, fn);
	}
	return (fn(prepare, parent, child, dso_handle));
}

__attribute__((constructor)) static void
interpose_init(void)
{
	const char *s = getenv("UMA_MALLOC_STATS");

	free(malloc(1));	/* start uma and register "libc" now */
	if (s != NULL && *s != '\0' && *s != '0')
		atexit(stats_print);
}
