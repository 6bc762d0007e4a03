/*
 * freebsd_spellings.c - <uma/freebsd.h> lets a file use malloc(9)'s
 * spellings (malloc(size, type, flags), free(addr, type), realloc and
 * reallocf with type and flags) next to libc's, with libc's headers
 * included after it: each call goes to the allocator its arguments name.
 */
#include <uma/freebsd.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

MALLOC_DEFINE(M_SPELL, "spellings", "malloc(9) spellings");

static unsigned char
pat(int i)
{
	return ((unsigned char)(i * 11 + 1));
}

UMA_TEST(freebsd_header_sends_each_spelling_to_its_allocator)
{
	char *k, *l;
	void (*libc_free)(void *) = free;

	k = malloc(100, M_SPELL, M_WAITOK | M_ZERO);
	l = malloc(100);
	CHECK(k != NULL && l != NULL);
	CHECK_EQ(uma_malloc_usable_size(k), 112);	/* uma's class */
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(k[i], 0);
		k[i] = (char)pat(i);
		l[i] = (char)pat(i);
	}
	k = realloc(k, 3000, M_SPELL, M_WAITOK);
	l = realloc(l, 3000);
	CHECK(k != NULL && l != NULL);
	CHECK_EQ(uma_malloc_usable_size(k), 3072);
	for (int i = 0; i < 100; i++)
		CHECK(k[i] == (char)pat(i) && l[i] == (char)pat(i));
	/* libc's free of a uma pointer (or uma's of libc's) would abort. */
	free(k, M_SPELL);
	free(l);
	k = reallocf(NULL, 50, M_SPELL, M_NOWAIT);
	CHECK_EQ(uma_malloc_usable_size(k), 64);
	free(k, M_SPELL);
	/* Naming a function is not a call: libc's. */
	libc_free(malloc(10));
	CHECK(malloc_desc2type("spellings") == M_SPELL);
}
