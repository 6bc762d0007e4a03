/*
 * sysctl_test.h - a 64-bit counter of uma's sysctl tree, read through the
 * public API (uma_sysctlbyname); the test fails if it cannot be read.
 */
#ifndef _UMA_TEST_SYSCTL_H_
#define	_UMA_TEST_SYSCTL_H_

#include <stdint.h>

#include <uma/sysctl.h>

#include "harness.h"

static inline uint64_t
sysctl_u64(const char *name)
{
	uint64_t v = 0;
	size_t len = sizeof(v);

	CHECK(uma_sysctlbyname(name, &v, &len, NULL, 0) == 0);
	return (v);
}

#endif /* !_UMA_TEST_SYSCTL_H_ */
