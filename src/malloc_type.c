/*
 * malloc_type.c - malloc types: registration, per-CPU counters, totals,
 * FreeBSD's malloc type stream and the kern.malloc_* / vm.malloc.* nodes.
 *
 * Layer: malloc.  Owns the list of types (malloc_mtx, FreeBSD's name for
 * it) and each type's counter run; reads the size-class table of malloc.c.
 * Nothing here runs on the allocation fast path but the spill-record add
 * of uma__mstat_add.
 *
 * Every registered type owns one page run of the arena (FreeBSD took its
 * per-CPU stats from pcpu_zone_64): a header with a copy of the name, then
 * at MSTAT_RUN_OFF one record per CPU and the spill record.  The run of a
 * static type is never given back, so frees that arrive after its library
 * was unloaded still land on valid counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "malloc_int.h"
#include "lowmem.h"
#include "malloc_mstat.h"
#include "memguard.h"
#include "stats.h"
#include "sysctl_int.h"
#include "vm.h"

#define	MSTAT_RUN_OFF		1024	/* counters start here in the run */
#define	MALLOC_STREAM_VERSION	0x00000001

/* FreeBSD's stream records (sys/malloc.h), field for field. */
struct malloc_type_stream_header {
	uint32_t	mtsh_version;
	uint32_t	mtsh_maxcpus;
	uint32_t	mtsh_count;
	uint32_t	_mtsh_pad;
};

struct malloc_type_header {
	char		mth_name[MALLOC_MAX_NAME];
};

struct malloc_type_stats {
	uint64_t	mts_memalloced;
	uint64_t	mts_memfreed;
	uint64_t	mts_numallocs;
	uint64_t	mts_numfrees;
	uint64_t	mts_size;
	uint64_t	_mts_reserved1;
	uint64_t	_mts_reserved2;
	uint64_t	_mts_reserved3;
};

/* The head of a type's run. */
struct mtype_run {
	struct malloc_type mr_type;	/* used by malloc_type_create */
	char		 mr_name[MALLOC_MAX_NAME];
	size_t		 mr_len;	/* bytes of the run */
	bool		 mr_dynamic;
	struct malloc_type *mr_owner;	/* the type counting here */
	struct mtype_run *mr_all;	/* next on mtype_all */
};

static pthread_mutex_t malloc_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct malloc_type *kmemstatistics;	/* the list of types */
static int kmemcount;

/*
 * The zone-counted type.  One type may leave its size-class counts to the
 * class zones, whose per-CPU caches count every allocation and free in the
 * same commit that moves the item: its counts are the zones' minus every
 * other type's.  The interposer's "libc" type does (its definition of
 * uma__malloc_zone_type overrides this weak one), which saves malloc(3)
 * and free(3) a restartable sequence each.  Its large runs are counted as
 * usual.  mtype_all lists every run with counters, linked or not, and
 * mtype_retired holds the counts of runs given back, so that the
 * difference stays exact (both under mtype_all_mtx, a leaf).
 */
__attribute__((weak)) struct malloc_type *uma__malloc_zone_type;
static pthread_mutex_t mtype_all_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct mtype_run *mtype_all;
static uint64_t *mtype_retired;		/* one record, or NULL */

/* See malloc_fast.h */
size_t uma__malloc_zhot;

/*
 * Every change of a type's counters pointer, under malloc_mtx: the
 * zone-counted type's hit path reads its coldness from uma__malloc_zhot.
 */
static void
mtype_handle_set(struct malloc_type *mtp, void *counts)
{
	__atomic_store_n(&mtp->ks_handle, counts, __ATOMIC_RELEASE);
	if (mtp == uma__malloc_zone_type)
		__atomic_store_n(&uma__malloc_zhot, counts != NULL ?
		    (size_t)MALLOC_TABSIZE + 1 : 0, __ATOMIC_RELEASE);
}

/*
 * Types MemGuard guards whole (vm.memguard.desc names them).  Their
 * counters are here, and their ks_handle is NULL, so that malloc_fast
 * takes them for cold and every uma_malloc of them leaves the hit path
 * for uma__malloc_slow, which guards it: the hit path has no test of
 * its own for them.  Hiding and showing happen under mtype_guarded_mtx
 * (a leaf, after malloc_mtx), with ks_handle changed inside it, so that
 * a reader who finds ks_handle NULL and then takes the lock sees the
 * counters in one place or the other.
 */
#define	MTYPE_GUARDED_MAX	8
static pthread_mutex_t mtype_guarded_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct malloc_type *mg_type;
	void		*mg_counts;
} mtype_guarded[MTYPE_GUARDED_MAX];
static int mtype_nguarded;	/* entries in use (atomic reads) */

static uint64_t *
mtype_counts_hidden(struct malloc_type *mtp)
{
	void *c;

	pthread_mutex_lock(&mtype_guarded_mtx);
	c = __atomic_load_n(&mtp->ks_handle, __ATOMIC_ACQUIRE);
	for (int i = 0; c == NULL && i < MTYPE_GUARDED_MAX; i++)
		if (mtype_guarded[i].mg_type == mtp)
			c = mtype_guarded[i].mg_counts;
	pthread_mutex_unlock(&mtype_guarded_mtx);
	return (c);
}

/* The type's counters, or NULL before its first allocation. */
static inline uint64_t *
mtype_counts(struct malloc_type *mtp)
{
	uint64_t *c = __atomic_load_n((uint64_t **)&mtp->ks_handle,
	    __ATOMIC_ACQUIRE);

	if (__predict_false(c == NULL) &&
	    __atomic_load_n(&mtype_nguarded, __ATOMIC_ACQUIRE) != 0)
		c = mtype_counts_hidden(mtp);
	return (c);
}

/* Guard `mtp` whole, or stop (mtype_guarded_mtx). */
static void
mtype_guard_locked(struct malloc_type *mtp, bool guard)
{
	int i, free = -1;

	for (i = 0; i < MTYPE_GUARDED_MAX; i++) {
		if (mtype_guarded[i].mg_type == mtp)
			break;
		if (mtype_guarded[i].mg_type == NULL && free < 0)
			free = i;
	}
	if (guard && i == MTYPE_GUARDED_MAX && free >= 0 &&
	    mtp->ks_handle != NULL) {
		mtype_guarded[free].mg_type = mtp;
		mtype_guarded[free].mg_counts = mtp->ks_handle;
		__atomic_store_n(&mtype_nguarded, mtype_nguarded + 1,
		    __ATOMIC_RELEASE);
		mtype_handle_set(mtp, NULL);
	} else if (!guard && i < MTYPE_GUARDED_MAX) {
		mtype_handle_set(mtp, mtype_guarded[i].mg_counts);
		mtype_guarded[i].mg_type = NULL;
		__atomic_store_n(&mtype_nguarded, mtype_nguarded - 1,
		    __ATOMIC_RELEASE);
	}
}

/* Whether MemGuard guards `mtp` whole, as vm.memguard.desc says now. */
static void
mtype_memguard(struct malloc_type *mtp)
{
	bool guard = uma__memguard_desc_match(mtp->ks_shortdesc);

	pthread_mutex_lock(&mtype_guarded_mtx);
	mtype_guard_locked(mtp, guard);
	pthread_mutex_unlock(&mtype_guarded_mtx);
}

/* See malloc_int.h */
bool
uma__malloc_type_guarded(struct malloc_type *mtp)
{
	bool found = false;

	if (__atomic_load_n(&mtype_nguarded, __ATOMIC_ACQUIRE) == 0)
		return (false);
	pthread_mutex_lock(&mtype_guarded_mtx);
	for (int i = 0; i < MTYPE_GUARDED_MAX && !found; i++)
		found = mtype_guarded[i].mg_type == mtp;
	pthread_mutex_unlock(&mtype_guarded_mtx);
	return (found);
}

/* See malloc_int.h */
void
uma__malloc_types_memguard(void)
{
	struct malloc_type *mtp;

	pthread_mutex_lock(&malloc_mtx);
	/* Types guarded and no longer listed (unloaded) first. */
	pthread_mutex_lock(&mtype_guarded_mtx);
	for (int i = 0; i < MTYPE_GUARDED_MAX; i++)
		if ((mtp = mtype_guarded[i].mg_type) != NULL &&
		    !uma__memguard_desc_match(mtp->ks_shortdesc))
			mtype_guard_locked(mtp, false);
	pthread_mutex_unlock(&mtype_guarded_mtx);
	for (mtp = kmemstatistics; mtp != NULL; mtp = mtp->ks_next)
		if (mtype_counts(mtp) != NULL)
			mtype_memguard(mtp);
	pthread_mutex_unlock(&malloc_mtx);
}

static inline struct mtype_run *
mtype_run(struct malloc_type *mtp)
{
	return ((struct mtype_run *)((char *)mtype_counts(mtp) - MSTAT_RUN_OFF));
}

/* A counter run for `name`: zeroed, or NULL. */
static struct mtype_run *
mtype_run_alloc(const char *name)
{
	struct mtype_run *mr;
	size_t len, n;
	void *mem;

	len = roundup2(MSTAT_RUN_OFF + ((size_t)uma__ncpus() + 1) *
	    MSTAT_WORDS * sizeof(uint64_t), UMA_PAGE_SIZE);
	if (uma__vm_meta_alloc(len, &mem) != 0)
		return (NULL);
	mr = mem;
	/* A bounded copy, not snprintf: see slabzone_names in keg.c. */
	if (name == NULL)
		name = "(null)";
	n = strnlen(name, sizeof(mr->mr_name) - 1);
	memcpy(mr->mr_name, name, n);
	mr->mr_name[n] = '\0';
	mr->mr_len = len;
	return (mr);
}

/* A new counter run of `owner` joins mtype_all. */
static void
mtype_all_add(struct mtype_run *mr, struct malloc_type *owner)
{
	mr->mr_owner = owner;
	pthread_mutex_lock(&mtype_all_mtx);
	mr->mr_all = mtype_all;
	mtype_all = mr;
	pthread_mutex_unlock(&mtype_all_mtx);
}

/*
 * The counts of destroyed types (malloc_type_destroy): taken at malloc's
 * start-up, so that destroying a type never needs memory.
 */
void
uma__malloc_type_startup(void)
{
	mtype_retired = uma__malloc_meta_wait(roundup2(MSTAT_WORDS *
	    sizeof(uint64_t), UMA_PAGE_SIZE), "retired type counters");
}

/* A run is about to be given back: keep its counts in mtype_retired. */
static void
mtype_all_retire(struct mtype_run *mr)
{
	const uint64_t *counts = (const uint64_t *)((char *)mr +
	    MSTAT_RUN_OFF);
	struct mtype_run **mp;

	pthread_mutex_lock(&mtype_all_mtx);
	for (mp = &mtype_all; *mp != NULL; mp = &(*mp)->mr_all)
		if (*mp == mr) {
			*mp = mr->mr_all;
			break;
		}

	for (int cpu = 0; cpu <= uma.ug_ncpus; cpu++)
		for (int w = 0; w < MSTAT_WORDS; w++)
			mtype_retired[w] += __atomic_load_n(&counts[(size_t)cpu *
			    MSTAT_WORDS + w], __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mtype_all_mtx);
}

static void
mtype_link_locked(struct malloc_type *mtp)
{
	struct malloc_type *t;

	UMA_MTX_ASSERT(&malloc_mtx);

	for (t = kmemstatistics; t != NULL; t = t->ks_next)
		if (t == mtp)
			return;
	mtp->ks_next = kmemstatistics;
	kmemstatistics = mtp;
	kmemcount++;
}

static bool
mtype_unlink_locked(struct malloc_type *mtp)
{
	struct malloc_type **tp;

	UMA_MTX_ASSERT(&malloc_mtx);

	for (tp = &kmemstatistics; *tp != NULL; tp = &(*tp)->ks_next) {
		if (*tp == mtp) {
			*tp = mtp->ks_next;
			mtp->ks_next = NULL;
			kmemcount--;
			return (true);
		}
	}
	return (false);
}

/*
 * See malloc.h.  Only links the type: MALLOC_DEFINE runs this from a load
 * time constructor, and loading a library must not start uma (its boot
 * tunables may not be set yet).  The counters come with the first
 * allocation (uma__malloc_type_ready).
 */
void
malloc_init(struct malloc_type *mtp)
{
	pthread_mutex_lock(&malloc_mtx);
	mtype_link_locked(mtp);
	pthread_mutex_unlock(&malloc_mtx);
}

/*
 * A type's first use: start uma, give the type its counters.  No memory
 * for them: false with M_NOWAIT (the type stays cold, and its next use
 * tries again), else the low-memory path until there is.
 */
bool
uma__malloc_type_ready(struct malloc_type *mtp, int flags)
{
	struct mtype_run *mr;
	int attempt = 0;

	uma__malloc_startup();
	pthread_mutex_lock(&malloc_mtx);
	while (mtype_counts(mtp) == NULL) {
		mr = mtype_run_alloc(mtp->ks_shortdesc);
		if (mr == NULL) {
			pthread_mutex_unlock(&malloc_mtx);
			if (flags & (M_NOWAIT | M_NOVM))
				return (false);
			uma__lowmem_wait("malloc type", mtp->ks_shortdesc,
			    MSTAT_RUN_OFF, attempt++);
			pthread_mutex_lock(&malloc_mtx);
			continue;
		}
		mtype_all_add(mr, mtp);
		mtype_handle_set(mtp, (char *)mr + MSTAT_RUN_OFF);
		mtype_memguard(mtp);
	}
	mtype_link_locked(mtp);
	pthread_mutex_unlock(&malloc_mtx);
	return (true);
}

/* See malloc.h */
void
malloc_uninit(struct malloc_type *mtp)
{
	pthread_mutex_lock(&malloc_mtx);
	mtype_unlink_locked(mtp);
	pthread_mutex_unlock(&malloc_mtx);
}

/* See malloc.h */
struct malloc_type *
malloc_type_create(const char *name)
{
	struct mtype_run *mr;

	uma__malloc_startup();
	mr = mtype_run_alloc(name);
	if (mr == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	mr->mr_dynamic = true;
	mr->mr_type.ks_magic = M_MAGIC;
	mr->mr_type.ks_shortdesc = mr->mr_name;
	mr->mr_type.ks_handle = (char *)mr + MSTAT_RUN_OFF;
	mtype_all_add(mr, &mr->mr_type);
	pthread_mutex_lock(&malloc_mtx);
	mtype_link_locked(&mr->mr_type);
	mtype_memguard(&mr->mr_type);
	pthread_mutex_unlock(&malloc_mtx);
	return (&mr->mr_type);
}

/* See malloc.h */
void
malloc_type_destroy(struct malloc_type *mtp)
{
	struct malloc_type_totals tt;
	struct mtype_run *mr;
	bool linked;

	if (mtp == NULL || mtype_counts(mtp) == NULL)
		return;
	mr = mtype_run(mtp);
	pthread_mutex_lock(&malloc_mtx);
	linked = mtype_unlink_locked(mtp);
	pthread_mutex_lock(&mtype_guarded_mtx);
	mtype_guard_locked(mtp, false);
	pthread_mutex_unlock(&mtype_guarded_mtx);
	pthread_mutex_unlock(&malloc_mtx);
	if (!linked)
		uma__panic("uma: malloc_type_destroy(%p): not a registered "
		    "type", (void *)mtp);
	uma__malloc_type_totals(mtp, &tt);
	if (tt.mt_numallocs != tt.mt_numfrees) {
		fprintf(stderr, "Warning: memory type %s leaked memory on "
		    "destroy (%ld allocations, %ld bytes leaked).\n",
		    mtp->ks_shortdesc, (long)(tt.mt_numallocs -
		    tt.mt_numfrees), (long)(tt.mt_memalloced -
		    tt.mt_memfreed));
		return;		/* the leaked memory may still be freed */
	}
	if (mr->mr_dynamic) {
		mtype_all_retire(mr);
		uma__vm_meta_free(mr, mr->mr_len);
	}
}

/*
 * The slow add: the type is not registered yet, or this thread has no rseq
 * area (registered now, for next time), or caches run in locked mode.
 */
void
uma__mstat_add(struct malloc_type *mtp, size_t word, uint64_t delta)
{
	uint64_t *counts;
	int cpu;

	if (mtype_counts(mtp) == NULL)
		(void)uma__malloc_type_ready(mtp, M_WAITOK);
	counts = mtype_counts(mtp);
	cpu = uma__curcpu();
	if (uma.ug_rseq) {
		if (mstat_add_rseq(counts, word, delta))
			return;
		cpu = uma.ug_ncpus;	/* the spill record */
	}
	__atomic_fetch_add(&counts[(size_t)cpu * MSTAT_WORDS + word], delta,
	    __ATOMIC_RELAXED);
}

/*
 * The zone-counted type's class counts, per CPU: ztab[cpu][0][c] allocs and
 * ztab[cpu][1][c] frees of class c.  Each is the class zone's count on that
 * CPU (zone-level counts go to CPU 0) minus the other types' counts on it.
 * A CPU can come out negative (another type's alloc counted on the CPU it
 * migrated to, after the zone counted it on the first): those go to 0 and
 * the excess is taken from the largest CPUs, so that the sum over CPUs is
 * exactly the zones' total minus the other types' (0 at worst, racing).
 */
typedef uint64_t ztab_t[2][MALLOC_NCLASSES];

static void
ztab_fill(ztab_t *ztab, int ncpus)
{
	const struct mtype_run *mr;
	const uint64_t *rec;
	int64_t v[ncpus], total, sum;
	uint64_t a, f, cached;
	uma_zone_t zone;
	int big;

	pthread_mutex_lock(&mtype_all_mtx);
	for (int side = 0; side < 2; side++) {
		for (int c = 0; c < MALLOC_NCLASSES; c++) {
			zone = __atomic_load_n(&malloc_classes[c].mc_zone,
			    __ATOMIC_ACQUIRE);
			if (zone == NULL) {	/* never used: nothing counted */
				for (int cpu = 0; cpu < ncpus; cpu++)
					ztab[cpu][side][c] = 0;
				continue;
			}
			total = 0;
			for (int cpu = 0; cpu < ncpus; cpu++) {
				uma__cache_counts(zone, cpu, &a, &f, &cached);
				v[cpu] = (int64_t)(side == 0 ? a : f);
			}
			v[0] += (int64_t)atomic_load(side == 0 ?
			    &zone->uz_allocs : &zone->uz_frees);
			for (mr = mtype_all; mr != NULL; mr = mr->mr_all) {
				if (mr->mr_owner == uma__malloc_zone_type)
					continue;
				rec = (const uint64_t *)((const char *)mr +
				    MSTAT_RUN_OFF);
				for (int cpu = 0; cpu <= ncpus; cpu++)
					v[cpu < ncpus ? cpu : 0] -=
					    (int64_t)__atomic_load_n(&rec[
					    (size_t)cpu * MSTAT_WORDS +
					    (size_t)side * MSTAT_FREE + c],
					    __ATOMIC_RELAXED);
			}
			if (mtype_retired != NULL)
				v[0] -= (int64_t)mtype_retired[
				    (size_t)side * MSTAT_FREE + c];
			sum = 0;
			for (int cpu = 0; cpu < ncpus; cpu++) {
				total += v[cpu];
				if (v[cpu] < 0)
					v[cpu] = 0;
				sum += v[cpu];
			}
			if (total < 0)
				total = 0;
			while (sum > total) {
				big = 0;
				for (int cpu = 1; cpu < ncpus; cpu++)
					if (v[cpu] > v[big])
						big = cpu;
				if (v[big] >= sum - total) {
					v[big] -= sum - total;
					sum = total;
				} else {
					sum -= v[big];
					v[big] = 0;
				}
			}
			for (int cpu = 0; cpu < ncpus; cpu++)
				ztab[cpu][side][c] = (uint64_t)v[cpu];
		}
	}
	pthread_mutex_unlock(&mtype_all_mtx);
}

/*
 * A ztab for `mtp` if it is the zone-counted type (give it back with
 * ztab_free), else NULL.
 */
static ztab_t *
ztab_get(struct malloc_type *mtp, int ncpus)
{
	void *mem;

	if (mtp != uma__malloc_zone_type || mtype_counts(mtp) == NULL)
		return (NULL);
	mem = uma__malloc_meta_wait(roundup2((size_t)ncpus * sizeof(ztab_t),
	    UMA_PAGE_SIZE), "statistics of the zone-counted type");
	ztab_fill(mem, ncpus);
	return (mem);
}

static void
ztab_free(ztab_t *ztab, int ncpus)
{
	if (ztab != NULL)
		uma__vm_meta_free(ztab, roundup2((size_t)ncpus *
		    sizeof(ztab_t), UMA_PAGE_SIZE));
}

/*
 * One CPU's figures (the spill record folds into CPU 0).  ztab: the class
 * counts of the zone-counted type (ztab_get), NULL for any other type.
 */
static void
mstat_cpu(struct malloc_type *mtp, int cpu, struct malloc_type_stats *mts,
    const ztab_t *ztab)
{
	const uint64_t *counts = mtype_counts(mtp);
	const uint64_t *recs[2];
	uint64_t a, f;
	int nrecs = 1;

	memset(mts, 0, sizeof(*mts));
	if (counts == NULL)		/* defined, never used */
		return;
	recs[0] = counts + (size_t)cpu * MSTAT_WORDS;
	if (cpu == 0) {
		recs[1] = counts + (size_t)uma.ug_ncpus * MSTAT_WORDS;
		nrecs = 2;
	}
	for (int c = 0; c < MALLOC_NCLASSES; c++) {
		a = f = 0;
		if (ztab != NULL) {
			a = ztab[cpu][0][c];
			f = ztab[cpu][1][c];
		} else {
			for (int r = 0; r < nrecs; r++) {
				a += __atomic_load_n(&recs[r][c],
				    __ATOMIC_RELAXED);
				f += __atomic_load_n(&recs[r][MSTAT_FREE + c],
				    __ATOMIC_RELAXED);
			}
		}
		mts->mts_numallocs += a;
		mts->mts_numfrees += f;
		mts->mts_memalloced += a * malloc_class_sizes[c];
		mts->mts_memfreed += f * malloc_class_sizes[c];
		if (a != 0)
			mts->mts_size |= 1ull << c;
	}
	for (int r = 0; r < nrecs; r++) {
		mts->mts_numallocs += __atomic_load_n(
		    &recs[r][MSTAT_LARGE_COUNT], __ATOMIC_RELAXED);
		mts->mts_numfrees += __atomic_load_n(
		    &recs[r][MSTAT_FREE + MSTAT_LARGE_COUNT], __ATOMIC_RELAXED);
		mts->mts_memalloced += __atomic_load_n(
		    &recs[r][MSTAT_LARGE_BYTES], __ATOMIC_RELAXED);
		mts->mts_memfreed += __atomic_load_n(
		    &recs[r][MSTAT_FREE + MSTAT_LARGE_BYTES], __ATOMIC_RELAXED);
	}
}

void
uma__malloc_type_totals(struct malloc_type *mtp, struct malloc_type_totals *tt)
{
	struct malloc_type_stats mts;
	ztab_t *ztab;

	memset(tt, 0, sizeof(*tt));
	if (mtype_counts(mtp) == NULL)
		return;
	ztab = ztab_get(mtp, uma.ug_ncpus);
	for (int cpu = 0; cpu < uma.ug_ncpus; cpu++) {
		mstat_cpu(mtp, cpu, &mts, ztab);
		tt->mt_memalloced += mts.mts_memalloced;
		tt->mt_memfreed += mts.mts_memfreed;
		tt->mt_numallocs += mts.mts_numallocs;
		tt->mt_numfrees += mts.mts_numfrees;
		tt->mt_sizemask |= mts.mts_size;
	}
	ztab_free(ztab, uma.ug_ncpus);
}

int
uma__malloc_type_foreach(int (*fn)(struct malloc_type *, void *), void *arg)
{
	struct malloc_type *mtp;
	int error = 0;

	pthread_mutex_lock(&malloc_mtx);
	for (mtp = kmemstatistics; mtp != NULL && error == 0;
	    mtp = mtp->ks_next)
		error = fn(mtp, arg);
	pthread_mutex_unlock(&malloc_mtx);
	return (error);
}

int
uma__malloc_count(void)
{
	int n;

	pthread_mutex_lock(&malloc_mtx);
	n = kmemcount;
	pthread_mutex_unlock(&malloc_mtx);
	return (n);
}

static size_t
stream_len(int ntypes, int ncpus)
{
	return (sizeof(struct malloc_type_stream_header) + (size_t)ntypes *
	    (sizeof(struct malloc_type_header) + (size_t)ncpus *
	    sizeof(struct malloc_type_stats)));
}

size_t
uma__malloc_stream(void *buf, size_t len)
{
	struct malloc_type_stream_header mtsh = {
		.mtsh_version = MALLOC_STREAM_VERSION };
	struct malloc_type_header mth;
	struct malloc_type *mtp;
	char *p = buf;
	size_t need;
	int ncpus = uma__ncpus();

	pthread_mutex_lock(&malloc_mtx);
	need = stream_len(kmemcount, ncpus);
	if (buf == NULL || len < need) {
		pthread_mutex_unlock(&malloc_mtx);
		return (need);
	}
	mtsh.mtsh_maxcpus = (uint32_t)ncpus;
	mtsh.mtsh_count = (uint32_t)kmemcount;
	memcpy(p, &mtsh, sizeof(mtsh));
	p += sizeof(mtsh);
	for (mtp = kmemstatistics; mtp != NULL; mtp = mtp->ks_next) {
		memset(&mth, 0, sizeof(mth));
		snprintf(mth.mth_name, sizeof(mth.mth_name), "%s",
		    mtype_counts(mtp) != NULL ? mtype_run(mtp)->mr_name :
		    mtp->ks_shortdesc);
		memcpy(p, &mth, sizeof(mth));
		p += sizeof(mth);
		ztab_t *ztab = ztab_get(mtp, ncpus);

		for (int cpu = 0; cpu < ncpus; cpu++) {
			struct malloc_type_stats mts;

			mstat_cpu(mtp, cpu, &mts, ztab);
			memcpy(p, &mts, sizeof(mts));
			p += sizeof(mts);
		}
		ztab_free(ztab, ncpus);
	}
	pthread_mutex_unlock(&malloc_mtx);
	return (need);
}

/* fork(): the child must not inherit a held list lock. */
void
uma__malloc_type_fork_prepare(void)
{
	pthread_mutex_lock(&malloc_mtx);
	pthread_mutex_lock(&mtype_all_mtx);
	pthread_mutex_lock(&mtype_guarded_mtx);
}

void
uma__malloc_type_fork_parent(void)
{
	pthread_mutex_unlock(&mtype_guarded_mtx);
	pthread_mutex_unlock(&mtype_all_mtx);
	pthread_mutex_unlock(&malloc_mtx);
}

void
uma__malloc_type_fork_child(void)
{
	pthread_mutex_init(&mtype_guarded_mtx, NULL);
	pthread_mutex_init(&mtype_all_mtx, NULL);
	pthread_mutex_init(&malloc_mtx, NULL);
}

/* ---- sysctl nodes ----------------------------------------------------- */

static int
sysctl_malloc_count(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	int v;

	/* Reading statistics starts no allocator: uma, not malloc's zones. */
	uma_ensure_started();
	v = uma__malloc_count();
	return (uma__sysctl_out(req, &v, sizeof(v)));
}

/*
 * The stream is written to a buffer first (the list may grow between the
 * size probe and the copy: retry with the new size a few times).
 */
static int
sysctl_malloc_stats(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	size_t need, got;
	void *buf;
	int error;

	uma_ensure_started();	/* as sysctl_malloc_count */
	need = uma__malloc_stream(NULL, 0);
	if (req->oldp == NULL)
		return (uma__sysctl_out(req, NULL, need));
	for (int tries = 0; tries < 8; tries++) {
		if (uma__vm_meta_alloc(roundup2(need, UMA_PAGE_SIZE),
		    &buf) != 0)
			return (ENOMEM);
		got = uma__malloc_stream(buf, roundup2(need, UMA_PAGE_SIZE));
		if (got <= roundup2(need, UMA_PAGE_SIZE)) {
			error = uma__sysctl_out(req, buf, got);
			uma__vm_meta_free(buf, roundup2(need, UMA_PAGE_SIZE));
			return (error);
		}
		uma__vm_meta_free(buf, roundup2(need, UMA_PAGE_SIZE));
		need = got;
	}
	return (EAGAIN);
}

UMA_SYSCTL_PROC(sysctl_kern_malloc_count, "kern.malloc_count",
    UMA_CTLTYPE_INT, UMA_CTLFLAG_RD, "I", sysctl_malloc_count, NULL,
    "Count of kernel malloc types");
UMA_SYSCTL_PROC(sysctl_kern_malloc_stats, "kern.malloc_stats",
    UMA_CTLTYPE_OPAQUE, UMA_CTLFLAG_RD, "S,malloc_type_ustats",
    sysctl_malloc_stats, NULL,
    "Return malloc types (struct malloc_type_stream_header, version 1)");
