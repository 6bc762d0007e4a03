/*
 * freebsd.h - opt-in: FreeBSD's kernel spellings of the malloc(9) calls
 * whose names libc has too, for code ported from the FreeBSD kernel.
 *
 * malloc(9) is malloc(size, type, flags); libc's is malloc(size).  uma
 * calls the kernel one uma_malloc (and uma_free, uma_realloc,
 * uma_reallocf).  A file that includes this header may use either
 * spelling: each name becomes a macro that picks by the number of
 * arguments,
 *	malloc(size, type, flags)		uma_malloc
 *	free(addr, type)			uma_free
 *	realloc(addr, size, type, flags)	uma_realloc
 *	reallocf(addr, size, type, flags)	uma_reallocf
 * and leaves libc's calls (and libc's declarations, wherever they are
 * included) as they were.  Taking a function's address (&free) is not a
 * call and gets libc's.  Only function-like uses are changed, so nothing
 * else in the program is affected.
 *
 * Everything else FreeBSD names in malloc(9) and mbuf(9) has the same
 * name in <uma/malloc.h> and <uma/mbuf.h>, which this header includes.
 */
#ifndef _UMA_FREEBSD_H_
#define	_UMA_FREEBSD_H_

#include <stdlib.h>

#include <uma/malloc.h>
#include <uma/mbuf.h>

/* The fifth argument: picks a name by how many arguments come before. */
#define	UMA__ARGN(_1, _2, _3, _4, name, ...)	name

#define	malloc(...)							\
	UMA__ARGN(__VA_ARGS__, uma__bad_malloc_args, uma_malloc,	\
	    uma__bad_malloc_args, malloc, 0)(__VA_ARGS__)
#define	free(...)							\
	UMA__ARGN(__VA_ARGS__, uma__bad_free_args, uma__bad_free_args,	\
	    uma_free, free, 0)(__VA_ARGS__)
#define	realloc(...)							\
	UMA__ARGN(__VA_ARGS__, uma_realloc, uma__bad_realloc_args,	\
	    realloc, uma__bad_realloc_args, 0)(__VA_ARGS__)
#define	reallocf(...)							\
	UMA__ARGN(__VA_ARGS__, uma_reallocf, uma__bad_reallocf_args,	\
	    reallocf, uma__bad_reallocf_args, 0)(__VA_ARGS__)

#endif /* !_UMA_FREEBSD_H_ */
