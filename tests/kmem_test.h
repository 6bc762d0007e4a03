/*
 * kmem_test.h - what the kmem report's tests share: reading both tiers
 * through uma_sysctlbyname, adding up the parts, and the resident bytes
 * of the mapping that holds an address (/proc/self/smaps).  Public
 * headers only.
 */
#ifndef _UMA_TEST_KMEM_H_
#define	_UMA_TEST_KMEM_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/kmem.h>
#include <uma/sysctl.h>

#include "harness.h"

/* The cheap tier, which must read. */
static inline void
kmem_cheap(struct uma_kmem_stats *uks)
{
	size_t len = sizeof(*uks);

	CHECK(uma_sysctlbyname("vm.kmem_stats", uks, &len, NULL, 0) == 0);
	CHECK_EQ(len, sizeof(*uks));
	CHECK_EQ(uks->uks_version, UMA_KMEM_STATS_VERSION);
	CHECK_EQ(uks->uks_size, sizeof(*uks));
}

/* The extended tier (malloc'ed; free it), which must read. */
static inline struct uma_kmem_stats_extended *
kmem_extended(void)
{
	struct uma_kmem_stats_extended *ukx;
	size_t len = 0;

	CHECK(uma_sysctlbyname("vm.kmem_stats_extended", NULL, &len, NULL,
	    0) == 0);
	len += 64 * sizeof(struct uma_kmem_zone);	/* room to grow */
	ukx = malloc(len);
	CHECK(ukx != NULL);
	CHECK(uma_sysctlbyname("vm.kmem_stats_extended", ukx, &len, NULL,
	    0) == 0);
	CHECK_EQ(ukx->ukx_version, UMA_KMEM_STATS_VERSION);
	CHECK_EQ(ukx->ukx_size, sizeof(*ukx));
	CHECK_EQ(len, sizeof(*ukx) + (size_t)ukx->ukx_nzones *
	    sizeof(struct uma_kmem_zone));
	return (ukx);
}

/* The parts of committed, added up (other included: signed). */
static inline int64_t
kmem_parts(const struct uma_kmem_stats *uks)
{
	int64_t sum = 0;

#define	X(f, k, d)	sum += (int64_t)uks->uks_##f;
	UMA_KMEM_PARTS(X)
#undef X
	return (sum);
}

/* Print every figure, for a failing test's log. */
static inline void
kmem_print(const char *what, const struct uma_kmem_stats *uks)
{
	fprintf(stderr, "%s:", what);
#define	X(f, k, d)	fprintf(stderr, " %s=%lld", k, (long long)uks->uks_##f);
	UMA_KMEM_FIELDS(X)
#undef X
	fprintf(stderr, "\n");
}

static inline void
kmem_print_ext(const char *what, const struct uma_kmem_stats_extended *ukx)
{
	kmem_print(what, &ukx->ukx_stats);
	fprintf(stderr, "%s:", what);
#define	X(f, k, d)	fprintf(stderr, " %s=%lld", k, (long long)ukx->ukx_##f);
	UMA_KMEM_EXT_FIELDS(X)
#undef X
	fprintf(stderr, "\n");
}

/* Resident bytes of the mapping that holds `addr` (0 if none found). */
static inline uint64_t
mapping_rss(const void *addr)
{
	unsigned long lo, hi, kb;
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "Rss: %lu kB", &kb) == 1) {
			fclose(f);
			return ((uint64_t)kb * 1024);
		}
	}
	fclose(f);
	return (0);
}

#endif
