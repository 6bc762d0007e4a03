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

/* Deterministic choice of which held item to free. */
static inline unsigned
next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16);
}

#endif
