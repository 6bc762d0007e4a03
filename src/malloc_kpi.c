/*
 * malloc_kpi.c - the rest of FreeBSD's malloc(9) KPI, on top of malloc.c
 * and malloc_type.c: mallocarray, zfree, malloc_size, the statistics
 * hooks for other allocators (malloc_type_allocated/freed) and the walks
 * over the type list (malloc_type_list, malloc_desc2type).
 *
 * Layer: malloc.  Calls uma_malloc/uma_free and the type list's foreach;
 * never on a hit path, never a zone's insides.
 */
#include <string.h>

#include "malloc_fast.h"
#include "malloc_int.h"

/* See malloc.h */
void *
mallocarray(size_t nmemb, size_t size, struct malloc_type *mtp, int flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(nmemb, size, &bytes))
		uma__panic("mallocarray: %zu * %zu overflowed", nmemb, size);
	return (uma_malloc(bytes, mtp, flags));
}

/* See malloc.h */
void
zfree(void *addr, struct malloc_type *mtp)
{
	if (addr == NULL)
		return;
	explicit_bzero(addr, uma__malloc_alloc_size("zfree", addr));
	uma_free(addr, mtp);
}

/* See malloc.h */
size_t
malloc_size(size_t size)
{
	size_t len;

	if (size <= MALLOC_MAXSIZE)
		return (malloc_class_sizes[uma__malloc_class(size)]);
	len = roundup2(size, UMA_PAGE_SIZE);
	return (len < size ? 0 : len);
}

/*
 * See malloc.h.  Counted as large runs are: bytes and a count, no size
 * class bit (FreeBSD's zone index -1).
 */
void
malloc_type_allocated(struct malloc_type *mtp, unsigned long size)
{
	if (size > 0)
		mstat_large(mtp, 0, size);
}

/* See malloc.h */
void
malloc_type_freed(struct malloc_type *mtp, unsigned long size)
{
	mstat_large(mtp, MSTAT_FREE, size);
}

/* A copy of the type list: room for `cap` types, `n` taken. */
struct mtype_snap {
	struct malloc_type	**ms_types;
	int			  ms_cap;
	int			  ms_n;
};

static int
mtype_snap_add(struct malloc_type *mtp, void *arg)
{
	struct mtype_snap *ms = arg;

	if (ms->ms_n == ms->ms_cap)
		return (1);	/* the list grew: take a larger copy */
	ms->ms_types[ms->ms_n++] = mtp;
	return (0);
}

/*
 * See malloc.h.  The copy is a page run of its own (no type counts it; the
 * kmem report counts it as uma's), sized from the count and taken again
 * if types were added meanwhile.
 */
void
malloc_type_list(malloc_type_list_func_t *func, void *arg)
{
	struct mtype_snap ms;
	size_t len;
	void *mem;

	uma__malloc_startup();
	for (;;) {
		ms.ms_cap = uma__malloc_count() + 8;
		len = roundup2((size_t)ms.ms_cap * sizeof(ms.ms_types[0]),
		    UMA_PAGE_SIZE);
		if (uma__vm_meta_alloc(len, &mem) != 0)
			uma__panic("malloc_type_list: no memory for a copy "
			    "of %d types", ms.ms_cap);
		ms.ms_types = mem;
		ms.ms_n = 0;
		if (uma__malloc_type_foreach(mtype_snap_add, &ms) == 0)
			break;
		uma__vm_meta_free(mem, len);
	}
	for (int i = 0; i < ms.ms_n; i++)
		func(ms.ms_types[i], arg);
	uma__vm_meta_free(mem, len);
}

struct desc2type_arg {
	const char		*d_desc;
	struct malloc_type	*d_found;
};

static int
desc2type_match(struct malloc_type *mtp, void *arg)
{
	struct desc2type_arg *d = arg;

	if (strcmp(mtp->ks_shortdesc, d->d_desc) != 0)
		return (0);
	d->d_found = mtp;
	return (1);
}

/* See malloc.h */
struct malloc_type *
malloc_desc2type(const char *desc)
{
	struct desc2type_arg d = { desc, NULL };

	(void)uma__malloc_type_foreach(desc2type_match, &d);
	return (d.d_found);
}
