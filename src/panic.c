/*
 * panic.c - uma__panic: print the message and abort.
 *
 * Layer: a leaf, so that every layer may panic (uma_int.h).  uma panics on
 * its own broken invariants, on misuse that must not go on (debug.c names
 * the zone), and where FreeBSD's kernel would.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "uma_int.h"

/* See uma_int.h */
void
uma__panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}
