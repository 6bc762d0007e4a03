/*
 * memstat.c - memory type lists: allocation, iteration, the refresh engine
 * that matches stream records to entries, and the accessors.
 *
 * Owns struct memory_type and struct memory_type_list.  Knows nothing of
 * any stream layout: the parsers (memstat_uma.c, memstat_malloc.c) hand it
 * a validated struct memstat_stream and a fill function.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memstat_int.h"

static const char *const memstat_errors[] = {
	[MEMSTAT_ERROR_UNDEFINED] = "Unknown error",
	[MEMSTAT_ERROR_NOMEMORY] = "Cannot allocate memory",
	[MEMSTAT_ERROR_VERSION] = "Version mismatch",
	[MEMSTAT_ERROR_PERMISSION] = "Permission denied",
	[4] = "Too many CPUs",
	[MEMSTAT_ERROR_DATAERROR] = "Data format error",
	[MEMSTAT_ERROR_KVM] = "KVM error",
	[MEMSTAT_ERROR_KVM_NOSYMBOL] = "KVM unable to find symbol",
	[MEMSTAT_ERROR_KVM_SHORTREAD] = "KVM short read",
	[MEMSTAT_ERROR_NOSOURCE] = "Statistics source not found",
	[MEMSTAT_ERROR_IO] = "Statistics transport error",
	[MEMSTAT_ERROR_BUSY] =
	    "Statistics endpoint busy: newer clients took this one's place",
};

const char *
memstat_strerror(int error)
{
	if (error < 0 || error >= (int)(sizeof(memstat_errors) /
	    sizeof(memstat_errors[0])))
		return (memstat_errors[MEMSTAT_ERROR_UNDEFINED]);
	return (memstat_errors[error]);
}

struct memory_type_list *
memstat_mtl_alloc(void)
{
	struct memory_type_list *list;

	list = calloc(1, sizeof(*list));
	if (list == NULL)
		errno = ENOMEM;
	return (list);
}

struct memory_type *
memstat_mtl_first(struct memory_type_list *list)
{
	return (list->mtl_head);
}

struct memory_type *
memstat_mtl_next(struct memory_type *mtp)
{
	return (mtp->mt_next);
}

struct memory_type *
memstat_mtl_find(struct memory_type_list *list, int allocator,
    const char *name)
{
	struct memory_type *mtp;

	for (mtp = list->mtl_head; mtp != NULL; mtp = mtp->mt_next)
		if ((allocator == ALLOCATOR_ANY ||
		    mtp->mt_allocator == allocator) &&
		    strcmp(mtp->mt_name, name) == 0)
			return (mtp);
	return (NULL);
}

static void
mt_free(struct memory_type *mtp)
{
	free(mtp->mt_percpu);
	free(mtp->mt_percpu_caller);
	free(mtp);
}

void
memstat_mtl_free(struct memory_type_list *list)
{
	struct memory_type *mtp, *next;

	if (list == NULL)
		return;
	for (mtp = list->mtl_head; mtp != NULL; mtp = next) {
		next = mtp->mt_next;
		mt_free(mtp);
	}
	free(list);
}

int
memstat_mtl_geterror(struct memory_type_list *list)
{
	return (list->mtl_error);
}

int
_memstat_fail(struct memory_type_list *list, int error)
{
	list->mtl_error = error;
	return (-1);
}

uint32_t
_memstat_u32(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return (v);
}

uint64_t
_memstat_u64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return (v);
}

/*
 * The refresh engine.  Phase 1 matches every record to an existing entry
 * of the allocator -- the n-th record named X to the n-th entry named X,
 * so duplicate names never collapse -- and allocates whatever the commit
 * needs (new entries, per-CPU arrays of a new size).  Nothing visible
 * changes until phase 1 has succeeded; phase 2 cannot fail.
 */
struct refresh {
	const struct memstat_stream	 *rf_mss;
	struct memory_type		**rf_hash;	/* name -> entries, in order */
	size_t				  rf_hmask;
	struct memory_type		**rf_match;	/* per record */
	struct memory_type_percpu	**rf_percpu;	/* per record, or NULL */
	struct memory_type_caller	**rf_caller;	/* per record, or NULL */
	unsigned char			 *rf_isnew;	/* per record */
};

static size_t
name_hash(const char *name)
{
	size_t h = 5381;

	while (*name != '\0')
		h = h * 33 + (unsigned char)*name++;
	return (h);
}

/* Copy a 32-byte, maybe unterminated, stream name. */
static void
name_copy(char *dst, const unsigned char *rec)
{
	size_t len = strnlen((const char *)rec, MEMTYPE_MAXNAME);

	memcpy(dst, rec, len);
	dst[len] = '\0';
}

static struct memory_type **
hash_slot(struct refresh *rf, const char *name)
{
	size_t i = name_hash(name) & rf->rf_hmask;

	while (rf->rf_hash[i] != NULL && strcmp(rf->rf_hash[i]->mt_name,
	    name) != 0)
		i = (i + 1) & rf->rf_hmask;
	return (&rf->rf_hash[i]);
}

static struct memory_type *
chain_reverse(struct memory_type *mtp)
{
	struct memory_type *prev = NULL, *next;

	for (; mtp != NULL; mtp = next) {
		next = mtp->mt_hnext;
		mtp->mt_hnext = prev;
		prev = mtp;
	}
	return (prev);
}

/*
 * Index the allocator's entries by name, each chain in list order.  Each
 * entry is pushed on its chain, and the chains are reversed afterwards:
 * appending would walk the chain, quadratic in the number of duplicates.
 */
static int
refresh_index(struct refresh *rf, struct memory_type_list *list,
    size_t nold)
{
	struct memory_type *mtp, **slot;
	size_t size = 16;

	while (size < 2 * (nold + 1))
		size *= 2;
	rf->rf_hash = calloc(size, sizeof(*rf->rf_hash));
	if (rf->rf_hash == NULL)
		return (MEMSTAT_ERROR_NOMEMORY);
	rf->rf_hmask = size - 1;
	for (mtp = list->mtl_head; mtp != NULL; mtp = mtp->mt_next) {
		if (mtp->mt_allocator != rf->rf_mss->mss_allocator)
			continue;
		slot = hash_slot(rf, mtp->mt_name);
		mtp->mt_hnext = *slot;
		*slot = mtp;
	}
	for (size_t i = 0; i < size; i++)
		rf->rf_hash[i] = chain_reverse(rf->rf_hash[i]);
	return (0);
}

static int
refresh_prepare_one(struct refresh *rf, size_t i)
{
	const struct memstat_stream *mss = rf->rf_mss;
	struct memory_type *mtp, **slot;
	char name[MEMTYPE_MAXNAME + 1];

	name_copy(name, mss->mss_first + i * mss->mss_recsize);
	/*
	 * A claimed entry is marked by pointing mt_hnext at itself.  The last
	 * entry of a chain stays in its slot once claimed: emptying the slot
	 * would end the probes of names that collided past it.
	 */
	slot = hash_slot(rf, name);
	if ((mtp = *slot) != NULL && mtp->mt_hnext != mtp) {
		if (mtp->mt_hnext != NULL)
			*slot = mtp->mt_hnext;
		mtp->mt_hnext = mtp;
		rf->rf_match[i] = mtp;
		if ((uint32_t)mtp->mt_maxcpus == mss->mss_maxcpus)
			return (0);
	} else {
		mtp = calloc(1, sizeof(*mtp));
		if (mtp == NULL)
			return (MEMSTAT_ERROR_NOMEMORY);
		rf->rf_match[i] = mtp;
		rf->rf_isnew[i] = 1;
		mtp->mt_allocator = mss->mss_allocator;
		memcpy(mtp->mt_name, name, sizeof(name));
	}
	rf->rf_percpu[i] = calloc(mss->mss_maxcpus, sizeof(**rf->rf_percpu));
	if (rf->rf_percpu[i] == NULL)
		return (MEMSTAT_ERROR_NOMEMORY);
	if (mtp->mt_percpu_caller != NULL) {
		rf->rf_caller[i] = calloc(mss->mss_maxcpus,
		    sizeof(**rf->rf_caller));
		if (rf->rf_caller[i] == NULL)
			return (MEMSTAT_ERROR_NOMEMORY);
	}
	return (0);
}

static void
refresh_rollback(struct refresh *rf)
{
	for (size_t i = 0; i < rf->rf_mss->mss_count; i++) {
		free(rf->rf_percpu[i]);
		free(rf->rf_caller[i]);
		if (rf->rf_isnew[i])
			free(rf->rf_match[i]);
	}
}

/* Give an entry the per-CPU arrays prepared for it, keeping caller data. */
static void
refresh_resize(struct refresh *rf, size_t i, struct memory_type *mtp)
{
	int ncpu = (int)rf->rf_mss->mss_maxcpus;

	if (rf->rf_percpu[i] == NULL)
		return;
	free(mtp->mt_percpu);
	mtp->mt_percpu = rf->rf_percpu[i];
	if (mtp->mt_percpu_caller != NULL) {
		memcpy(rf->rf_caller[i], mtp->mt_percpu_caller,
		    (size_t)(ncpu < mtp->mt_maxcpus ? ncpu : mtp->mt_maxcpus) *
		    sizeof(struct memory_type_caller));
		free(mtp->mt_percpu_caller);
		mtp->mt_percpu_caller = rf->rf_caller[i];
	}
	mtp->mt_maxcpus = ncpu;
}

/*
 * Rebuild the list: entries of other allocators keep their places, the
 * refreshed allocator's entries take the place of its first old entry (or
 * the end) in stream order, and its unmatched entries are freed.  The
 * matched entries are linked only after the walk of the old list: linking
 * them during it would rewrite the mt_next of entries not yet walked, and
 * a stream that reorders known types would close the list into a cycle.
 */
static void
refresh_relink(struct refresh *rf, struct memory_type_list *list)
{
	const struct memstat_stream *mss = rf->rf_mss;
	struct memory_type *mtp, *next, *rest, *head = NULL, **tail = &head;
	struct memory_type **at = NULL;

	for (mtp = list->mtl_head; mtp != NULL; mtp = next) {
		next = mtp->mt_next;
		if (mtp->mt_allocator != mss->mss_allocator) {
			*tail = mtp;
			tail = &mtp->mt_next;
		} else if (mtp->mt_hnext != mtp)
			mt_free(mtp);
		else if (at == NULL)
			at = tail;
	}
	*tail = NULL;
	if (at == NULL)
		at = tail;
	rest = *at;
	for (size_t i = 0; i < mss->mss_count; i++) {
		*at = rf->rf_match[i];
		at = &rf->rf_match[i]->mt_next;
	}
	*at = rest;
	list->mtl_head = head;
}

/* Fill the matched entries from their records, then relink the list. */
static void
refresh_commit(struct refresh *rf, struct memory_type_list *list)
{
	const struct memstat_stream *mss = rf->rf_mss;
	struct memory_type *mtp;

	for (size_t i = 0; i < mss->mss_count; i++) {
		mtp = rf->rf_match[i];
		refresh_resize(rf, i, mtp);
		mtp->mt_hnext = mtp;	/* mark: kept */
		memset(&mtp->mt_stats, 0, sizeof(mtp->mt_stats));
		memset(mtp->mt_percpu, 0, (size_t)mtp->mt_maxcpus *
		    sizeof(*mtp->mt_percpu));
		mss->mss_fill(mtp, mss->mss_first + i * mss->mss_recsize,
		    mss->mss_maxcpus);
	}
	refresh_relink(rf, list);
	for (size_t i = 0; i < mss->mss_count; i++)
		rf->rf_match[i]->mt_hnext = NULL;
}

int
_memstat_refresh(struct memory_type_list *list,
    const struct memstat_stream *mss)
{
	struct refresh rf = { .rf_mss = mss };
	struct memory_type *mtp;
	size_t nold = 0, n = mss->mss_count;
	int error;

	for (mtp = list->mtl_head; mtp != NULL; mtp = mtp->mt_next)
		nold++;
	rf.rf_match = calloc(n + 1, sizeof(*rf.rf_match));
	rf.rf_percpu = calloc(n + 1, sizeof(*rf.rf_percpu));
	rf.rf_caller = calloc(n + 1, sizeof(*rf.rf_caller));
	rf.rf_isnew = calloc(n + 1, 1);
	error = MEMSTAT_ERROR_NOMEMORY;
	if (rf.rf_match != NULL && rf.rf_percpu != NULL &&
	    rf.rf_caller != NULL && rf.rf_isnew != NULL)
		error = refresh_index(&rf, list, nold);
	for (size_t i = 0; error == 0 && i < n; i++)
		error = refresh_prepare_one(&rf, i);
	if (error == 0)
		refresh_commit(&rf, list);
	else if (rf.rf_match != NULL && rf.rf_percpu != NULL &&
	    rf.rf_caller != NULL && rf.rf_isnew != NULL)
		refresh_rollback(&rf);
	/* Clear the chains left by refresh_index on entries not matched. */
	for (mtp = list->mtl_head; mtp != NULL; mtp = mtp->mt_next)
		mtp->mt_hnext = NULL;
	free(rf.rf_hash);
	free(rf.rf_match);
	free(rf.rf_percpu);
	free(rf.rf_caller);
	free(rf.rf_isnew);
	return (error);
}

/* Accessors. */
#define	MT_GET(field)							\
uint64_t								\
memstat_get_##field(const struct memory_type *mtp)			\
{									\
	return (mtp->mt_stats.mts_##field);				\
}

MT_GET(countlimit)
MT_GET(byteslimit)
MT_GET(sizemask)
MT_GET(size)
MT_GET(rsize)
MT_GET(memalloced)
MT_GET(memfreed)
MT_GET(numallocs)
MT_GET(numfrees)
MT_GET(bytes)
MT_GET(count)
MT_GET(free)
MT_GET(failures)
MT_GET(sleeps)
MT_GET(xdomain)
MT_GET(zonefree)
MT_GET(kegfree)
MT_GET(pages)

const char *
memstat_get_name(const struct memory_type *mtp)
{
	return (mtp->mt_name);
}

int
memstat_get_allocator(const struct memory_type *mtp)
{
	return (mtp->mt_allocator);
}

int
memstat_get_secondary(const struct memory_type *mtp)
{
	return (mtp->mt_stats.mts_secondary);
}

int
memstat_get_maxcpus(const struct memory_type *mtp)
{
	return (mtp->mt_maxcpus);
}

static int
cpu_ok(const struct memory_type *mtp, int cpu)
{
	return (cpu >= 0 && cpu < mtp->mt_maxcpus);
}

static int
index_ok(int index)
{
	return (index >= 0 && index < MEMSTAT_MAXCALLER);
}

#define	MT_GET_PERCPU(field)						\
uint64_t								\
memstat_get_percpu_##field(const struct memory_type *mtp, int cpu)	\
{									\
	return (cpu_ok(mtp, cpu) ? mtp->mt_percpu[cpu].mtp_##field : 0);\
}

MT_GET_PERCPU(memalloced)
MT_GET_PERCPU(memfreed)
MT_GET_PERCPU(numallocs)
MT_GET_PERCPU(numfrees)
MT_GET_PERCPU(sizemask)
MT_GET_PERCPU(free)

void *
memstat_get_caller_pointer(const struct memory_type *mtp, int index)
{
	return (index_ok(index) ? mtp->mt_caller_pointer[index] : NULL);
}

void
memstat_set_caller_pointer(struct memory_type *mtp, int index, void *value)
{
	if (index_ok(index))
		mtp->mt_caller_pointer[index] = value;
}

uint64_t
memstat_get_caller_uint64(const struct memory_type *mtp, int index)
{
	return (index_ok(index) ? mtp->mt_caller_uint64[index] : 0);
}

void
memstat_set_caller_uint64(struct memory_type *mtp, int index, uint64_t value)
{
	if (index_ok(index))
		mtp->mt_caller_uint64[index] = value;
}

/* The per-CPU caller slots of `cpu`, allocated (zeroed) if `create`. */
static struct memory_type_caller *
percpu_caller(const struct memory_type *mtp, int cpu, int index, int create)
{
	struct memory_type *m = (struct memory_type *)(uintptr_t)mtp;

	if (!cpu_ok(mtp, cpu) || !index_ok(index))
		return (NULL);
	if (m->mt_percpu_caller == NULL && create)
		m->mt_percpu_caller = calloc((size_t)m->mt_maxcpus,
		    sizeof(*m->mt_percpu_caller));
	return (m->mt_percpu_caller != NULL ? &m->mt_percpu_caller[cpu] :
	    NULL);
}

void *
memstat_get_percpu_caller_pointer(const struct memory_type *mtp, int cpu,
    int index)
{
	struct memory_type_caller *c = percpu_caller(mtp, cpu, index, 0);

	return (c != NULL ? c->mtc_pointer[index] : NULL);
}

void
memstat_set_percpu_caller_pointer(struct memory_type *mtp, int cpu,
    int index, void *value)
{
	struct memory_type_caller *c = percpu_caller(mtp, cpu, index, 1);

	if (c != NULL)
		c->mtc_pointer[index] = value;
}

uint64_t
memstat_get_percpu_caller_uint64(const struct memory_type *mtp, int cpu,
    int index)
{
	struct memory_type_caller *c = percpu_caller(mtp, cpu, index, 0);

	return (c != NULL ? c->mtc_uint64[index] : 0);
}

void
memstat_set_percpu_caller_uint64(struct memory_type *mtp, int cpu,
    int index, uint64_t value)
{
	struct memory_type_caller *c = percpu_caller(mtp, cpu, index, 1);

	if (c != NULL)
		c->mtc_uint64[index] = value;
}
