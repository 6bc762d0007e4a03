/*
 * share_line.h - do two items of `size` bytes touch a common cache line?
 * For the tests of the fill order that keeps neighbours apart (keg.c's
 * spread).  Needs UMA_CACHELINE (uma_int.h).
 */
#ifndef _UMA_TEST_SHARE_LINE_H_
#define	_UMA_TEST_SHARE_LINE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uma_int.h"

static bool
share_line(const void *a, const void *b, size_t size)
{
	uintptr_t a0 = (uintptr_t)a / UMA_CACHELINE;
	uintptr_t a1 = ((uintptr_t)a + size - 1) / UMA_CACHELINE;
	uintptr_t b0 = (uintptr_t)b / UMA_CACHELINE;
	uintptr_t b1 = ((uintptr_t)b + size - 1) / UMA_CACHELINE;

	return (a0 <= b1 && b0 <= a1);
}

#endif /* !_UMA_TEST_SHARE_LINE_H_ */
