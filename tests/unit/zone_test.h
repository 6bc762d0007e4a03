/*
 * zone_test.h - helpers the zone unit tests share: a zone's statistics
 * snapshot and a deterministic pseudo-random sequence.
 */
#ifndef _UMA_TEST_ZONE_H_
#define	_UMA_TEST_ZONE_H_

#include <uma/uma.h>

#include "harness.h"
#include "stats.h"

static inline struct uma__zone_stat
zstat(uma_zone_t z)
{
	struct uma__zone_stat zs;

	CHECK(uma__zone_stat(z, &zs, NULL, 0) == 0);
	return (zs);
}

/* Pin this thread to one CPU; a 64-byte zone named `name`. */
static inline uma_zone_t
zone_pinned(const char *name)
{
	uma_zone_t z;

	test_pin_one_cpu();
	z = uma_zcreate(name, 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	CHECK(z != NULL);
	return (z);
}

/* Deterministic choice of which held item to free. */
static inline unsigned
next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16);
}

#endif
