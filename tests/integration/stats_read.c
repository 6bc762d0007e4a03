/*
 * stats_read.c - reading uma's statistics changes nothing in the process
 * read: no zone is made, no malloc layer starts.  (The exporter reads a
 * process's kern.malloc_stats on every scrape; once, that made malloc's
 * "malloc large" zone in a process that never used malloc.)  Public API
 * only.
 */
#include <stdint.h>
#include <stdlib.h>

#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"

static int
zone_count(void)
{
	size_t len = sizeof(int);
	int n = -1;

	CHECK(uma_sysctlbyname("vm.zone_count", &n, &len, NULL, 0) == 0);
	return (n);
}

UMA_TEST(stats_read_makes_no_zone)
{
	uma_zone_t z = uma_zcreate("stats_read", 32, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	size_t len = 0;
	void *buf;
	int before, n;

	CHECK(z != NULL);
	before = zone_count();
	len = sizeof(n);
	CHECK(uma_sysctlbyname("kern.malloc_count", &n, &len, NULL, 0) == 0);
	len = 0;
	CHECK(uma_sysctlbyname("kern.malloc_stats", NULL, &len, NULL, 0) == 0);
	CHECK((buf = malloc(len + 4096)) != NULL);
	len += 4096;
	CHECK(uma_sysctlbyname("kern.malloc_stats", buf, &len, NULL, 0) == 0);
	len = 0;
	CHECK(uma_sysctlbyname("vm.zone_stats", NULL, &len, NULL, 0) == 0);
	CHECK(uma_sysctlbyname("vm.kmem_stats", NULL, &len, NULL, 0) == 0);
	free(buf);
	CHECK_EQ(zone_count(), before);
	uma_zdestroy(z);
}
