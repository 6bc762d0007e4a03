/*
 * mbuf_limit.c - the kern.ipc.* limits of the mbuf zones: defaults from
 * physical memory, boot tunables, run-time changes, and their sysctl nodes.
 *
 * Layer: mbuf.  FreeBSD's tunable_mbinit and sysctl_nmb* handlers are the
 * model: maxmbufmem defaults to half of physical memory (a tunable may
 * raise it to three quarters at most); each cluster limit is a share of it;
 * nmbufs is at least the sum of the cluster limits.  At run time a limit
 * may only grow, and a cluster limit may not make the cluster limits add
 * up past nmbufs (FreeBSD checks that sum before the change; we check the
 * sum the change would make).  A refused change changes nothing.
 *
 * Boot tunables arrive through the sysctl nodes (req->boot) before any
 * zone exists; those handlers only store.  Everything else runs under
 * mb_limits.lock.  The zones get their limits from mb__limits_apply() when
 * mbuf_init() creates them, and from each accepted change afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "mbuf_int.h"
#include "sysctl_int.h"

static struct {
	pthread_mutex_t	 lock;
	pthread_once_t	 once;
	uint64_t	 maxmbufmem;	/* bytes */
	int		 nmbclusters;
	int		 nmbjumbop;
	int		 nmbjumbo9;
	int		 nmbjumbo16;
	int		 nmbufs;
} mb_limits = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.once = PTHREAD_ONCE_INIT,
};

/* One limit: its sysctl name, its value, and the zone it bounds. */
struct mb_limit {
	const char	*ml_name;
	int		*ml_var;
	size_t		 ml_zone;	/* offsetof(struct mb_zones, ...) */
	bool		 ml_cluster;	/* part of the sum nmbufs covers */
};

static const struct mb_limit mb_limit_tab[] = {
	{ "kern.ipc.nmbclusters", &mb_limits.nmbclusters,
	    offsetof(struct mb_zones, mz_clust), true },
	{ "kern.ipc.nmbjumbop", &mb_limits.nmbjumbop,
	    offsetof(struct mb_zones, mz_jumbop), true },
	{ "kern.ipc.nmbjumbo9", &mb_limits.nmbjumbo9,
	    offsetof(struct mb_zones, mz_jumbo9), true },
	{ "kern.ipc.nmbjumbo16", &mb_limits.nmbjumbo16,
	    offsetof(struct mb_zones, mz_jumbo16), true },
	{ "kern.ipc.nmbufs", &mb_limits.nmbufs,
	    offsetof(struct mb_zones, mz_mbuf), false },
};
#define	MB_MAXMBUFMEM	"kern.ipc.maxmbufmem"

static uma_zone_t
mb_limit_zone(const struct mb_limit *ml)
{
	return (*(uma_zone_t *)((char *)&mb_zones + ml->ml_zone));
}

static int
clamp_int(uint64_t v)
{
	return (v > INT_MAX ? INT_MAX : (int)v);
}

static int64_t
mb_cluster_sum(void)
{
	return ((int64_t)mb_limits.nmbclusters + mb_limits.nmbjumbop +
	    mb_limits.nmbjumbo9 + mb_limits.nmbjumbo16);
}

/* Defaults for every limit no tunable set (FreeBSD's tunable_mbinit). */
static void
mb_limits_compute(void)
{
	uint64_t realmem, mem;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	realmem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize :
	    (uint64_t)1 << 30;
	pthread_mutex_lock(&mb_limits.lock);
	mem = mb_limits.maxmbufmem;
	if (mem == 0)
		mem = realmem / 2;
	if (mem > realmem / 4 * 3)
		mem = realmem / 4 * 3;
	mb_limits.maxmbufmem = mem;
	if (mb_limits.nmbclusters == 0)
		mb_limits.nmbclusters = clamp_int(mem / MCLBYTES / 4);
	if (mb_limits.nmbjumbop == 0)
		mb_limits.nmbjumbop = clamp_int(mem / MJUMPAGESIZE / 4);
	if (mb_limits.nmbjumbo9 == 0)
		mb_limits.nmbjumbo9 = clamp_int(mem / MJUM9BYTES / 6);
	if (mb_limits.nmbjumbo16 == 0)
		mb_limits.nmbjumbo16 = clamp_int(mem / MJUM16BYTES / 6);
	if (mb_limits.nmbufs < mb_cluster_sum()) {
		mem = mem / MSIZE / 5;
		mb_limits.nmbufs = clamp_int(mem > (uint64_t)mb_cluster_sum() ?
		    mem : (uint64_t)mb_cluster_sum());
	}
	pthread_mutex_unlock(&mb_limits.lock);
}

void
mb__limits_init(void)
{
	uma_ensure_started();	/* the tunables are in; outside the once */
	pthread_once(&mb_limits.once, mb_limits_compute);
}

void
mb__limits_apply(void)
{
	pthread_mutex_lock(&mb_limits.lock);
	for (size_t i = 0; i < nitems(mb_limit_tab); i++)
		*mb_limit_tab[i].ml_var = uma_zone_set_max(
		    mb_limit_zone(&mb_limit_tab[i]), *mb_limit_tab[i].ml_var);
	pthread_mutex_unlock(&mb_limits.lock);
}

/* Apply a run-time change (FreeBSD's sysctl_nmb* rules). */
static int
mb_limit_set(const struct mb_limit *ml, int64_t v)
{
	int64_t cur, sum;
	int error = 0;

	mb_ensure_init();
	pthread_mutex_lock(&mb_limits.lock);
	cur = *ml->ml_var;
	sum = mb_cluster_sum() - (ml->ml_cluster ? cur : 0) +
	    (ml->ml_cluster ? v : 0);
	if (v == cur)
		goto out;
	if (v < cur || v > INT_MAX || (ml->ml_cluster ?
	    sum > mb_limits.nmbufs : v < sum)) {
		error = EINVAL;
		goto out;
	}
	*ml->ml_var = uma_zone_set_max(mb_limit_zone(ml), (int)v);
out:
	pthread_mutex_unlock(&mb_limits.lock);
	return (error);
}

static const struct mb_limit *
mb_limit_find(const char *name)
{
	const char *last;

	for (size_t i = 0; i < nitems(mb_limit_tab); i++) {
		last = strrchr(mb_limit_tab[i].ml_name, '.') + 1;
		if (strcmp(name, mb_limit_tab[i].ml_name) == 0 ||
		    strcmp(name, last) == 0)
			return (&mb_limit_tab[i]);
	}
	return (NULL);
}

static bool
mb_is_maxmbufmem(const char *name)
{
	return (strcmp(name, MB_MAXMBUFMEM) == 0 ||
	    strcmp(name, "maxmbufmem") == 0);
}

/* See mbuf.h */
int
mbuf_get_limit(const char *name, unsigned long *valuep)
{
	const struct mb_limit *ml = mb_limit_find(name);

	if (ml == NULL && !mb_is_maxmbufmem(name))
		return (ENOENT);
	mb__limits_init();
	pthread_mutex_lock(&mb_limits.lock);
	*valuep = ml != NULL ? (unsigned long)*ml->ml_var :
	    (unsigned long)mb_limits.maxmbufmem;
	pthread_mutex_unlock(&mb_limits.lock);
	return (0);
}

/* See mbuf.h */
int
mbuf_set_limit(const char *name, unsigned long value)
{
	const struct mb_limit *ml = mb_limit_find(name);

	if (ml == NULL)
		return (mb_is_maxmbufmem(name) ? EPERM : ENOENT);
	if (value > INT_MAX)
		return (EINVAL);
	return (mb_limit_set(ml, (int64_t)value));
}

/*
 * The nodes.  At boot a tunable is only stored (0 means "the default");
 * at run time a read shows the value in force and a write goes through
 * mb_limit_set.
 */
static int
mb_sysctl_nmb(struct uma__sysctl_req *req, const struct uma__sysctl_oid *oid)
{
	const struct mb_limit *ml = oid->oid_arg;
	bool taken;
	int v, error;

	if (req->boot)
		return (uma__sysctl_rw_int(req, ml->ml_var, 0, INT_MAX));
	mb__limits_init();
	pthread_mutex_lock(&mb_limits.lock);
	v = *ml->ml_var;
	pthread_mutex_unlock(&mb_limits.lock);
	if ((error = uma__sysctl_scalar(req, &v, sizeof(v), &taken)) != 0 ||
	    !taken)
		return (error);
	return (mb_limit_set(ml, v));
}

static int
mb_sysctl_maxmbufmem(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	uint64_t v;

	if (req->boot)
		return (uma__sysctl_rw_u64(req, &mb_limits.maxmbufmem, 0,
		    UINT64_MAX));
	if (req->newp != NULL)
		return (EPERM);
	mb__limits_init();
	pthread_mutex_lock(&mb_limits.lock);
	v = mb_limits.maxmbufmem;
	pthread_mutex_unlock(&mb_limits.lock);
	return (uma__sysctl_out(req, &v, sizeof(v)));
}

UMA_SYSCTL_PROC(sysctl_nmbclusters, "kern.ipc.nmbclusters", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RWTUN, "I", mb_sysctl_nmb, (void *)&mb_limit_tab[0],
    "Maximum number of mbuf clusters allowed");
UMA_SYSCTL_PROC(sysctl_nmbjumbop, "kern.ipc.nmbjumbop", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RWTUN, "I", mb_sysctl_nmb, (void *)&mb_limit_tab[1],
    "Maximum number of mbuf page size jumbo clusters allowed");
UMA_SYSCTL_PROC(sysctl_nmbjumbo9, "kern.ipc.nmbjumbo9", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RWTUN, "I", mb_sysctl_nmb, (void *)&mb_limit_tab[2],
    "Maximum number of mbuf 9k jumbo clusters allowed");
UMA_SYSCTL_PROC(sysctl_nmbjumbo16, "kern.ipc.nmbjumbo16", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RWTUN, "I", mb_sysctl_nmb, (void *)&mb_limit_tab[3],
    "Maximum number of mbuf 16k jumbo clusters allowed");
UMA_SYSCTL_PROC(sysctl_nmbufs, "kern.ipc.nmbufs", UMA_CTLTYPE_INT,
    UMA_CTLFLAG_RWTUN, "I", mb_sysctl_nmb, (void *)&mb_limit_tab[4],
    "Maximum number of mbufs allowed");
UMA_SYSCTL_PROC(sysctl_maxmbufmem, MB_MAXMBUFMEM, UMA_CTLTYPE_U64,
    UMA_CTLFLAG_RDTUN, "QU", mb_sysctl_maxmbufmem, NULL,
    "Maximum real memory allocatable to various mbuf types");
