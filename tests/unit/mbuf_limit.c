/*
 * mbuf_limit.c - kern.ipc.nmbclusters set low as a boot tunable: M_NOWAIT
 * is denied and counted, M_WAITOK sleeps and is counted, lowering the
 * limit at run time fails with EINVAL and changes nothing, raising it
 * wakes the sleeper.  The test re-executes itself with UMA_TUNABLES set,
 * since uma reads tunables once, before its first zone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/sysctl.h>

#include "mbuf_test.h"

#define	LOW	64
#define	HELD_MAX 1024

static struct mbuf *held[HELD_MAX];
static int nheld;
static _Atomic int waiter_done;
static struct mbuf *waiter_got;

static void *
waiter_main(void *arg)
{
	waiter_got = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	atomic_store(&waiter_done, 1);
	return (NULL);
}

/* Take clusters with M_NOWAIT until five requests in a row fail. */
static void
take_nowait(void)
{
	struct mbuf *m;
	int misses = 0;

	while (misses < 5 && nheld < HELD_MAX) {
		m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		if (m == NULL && (m = m_get(M_NOWAIT, MT_DATA)) != NULL &&
		    !m_clget(m, M_NOWAIT)) {
			m_free(m);
			m = NULL;
		}
		if (m == NULL) {
			misses++;
			continue;
		}
		misses = 0;
		held[nheld++] = m;
	}
}

/*
 * Take clusters with M_NOWAIT until five requests in a row fail, then give
 * the cluster and packet zones' caches back and take again: clusters left
 * idle in another CPU's cache (the thread may have moved) count against
 * the limit, and a sleeper at the limit would find them (it drains the
 * caches every 10 ms).  Until a round takes nothing: then every cluster
 * the limit counts is held.
 */
static void
take_all_nowait(void)
{
	int before;

	do {
		before = nheld;
		take_nowait();
		uma_zone_reclaim(mbuf_zone(MBUF_PACKET_MEM_NAME),
		    UMA_RECLAIM_DRAIN);
		uma_zone_reclaim(mbuf_zone(MBUF_CLUSTER_MEM_NAME),
		    UMA_RECLAIM_DRAIN);
	} while (nheld > before && nheld < HELD_MAX);
}

static void
limit_child(void)
{
	struct uma__zone_stat cl, pk;
	unsigned long v;
	pthread_t t;
	size_t len;
	int iv;

	CHECK_EQ(mbuf_get_limit("kern.ipc.nmbclusters", &v), 0);
	CHECK_EQ(v, LOW);
	len = sizeof(iv);
	CHECK_EQ(uma_sysctlbyname("kern.ipc.nmbclusters", &iv, &len, NULL, 0),
	    0);
	CHECK_EQ(iv, LOW);
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)), LOW);

	take_all_nowait();
	CHECK(nheld > 0 && nheld <= LOW);
	cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);
	pk = mbt_stat(MBUF_PACKET_MEM_NAME);
	CHECK(cl.zs_fails > 0);		/* denied: clusters */
	CHECK(pk.zs_fails > 0);		/* denied: mbuf+clusters */
	CHECK_EQ(cl.zs_items, LOW);

	/* Lowering fails and changes nothing, by either way in. */
	CHECK_EQ(mbuf_set_limit("kern.ipc.nmbclusters", LOW / 2), EINVAL);
	iv = LOW / 2;
	errno = 0;
	CHECK_EQ(uma_sysctlbyname("kern.ipc.nmbclusters", NULL, NULL, &iv,
	    sizeof(iv)), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(mbuf_get_limit("nmbclusters", &v), 0);
	CHECK_EQ(v, LOW);
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)), LOW);

	/* M_WAITOK sleeps at the limit... */
	CHECK_EQ(pthread_create(&t, NULL, waiter_main, NULL), 0);
	for (double end = test_now() + 10; test_now() < end; usleep(1000)) {
		cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);
		if (cl.zs_sleepers > 0)
			break;
	}
	CHECK(cl.zs_sleepers > 0);
	CHECK(cl.zs_sleeps > 0);
	usleep(50000);
	CHECK(!atomic_load(&waiter_done));
	/* ... until the limit is raised. */
	iv = 2 * LOW;
	CHECK_EQ(uma_sysctlbyname("kern.ipc.nmbclusters", NULL, NULL, &iv,
	    sizeof(iv)), 0);
	for (double end = test_now() + 10; test_now() < end &&
	    !atomic_load(&waiter_done); usleep(1000))
		;
	CHECK(atomic_load(&waiter_done));
	pthread_join(t, NULL);
	CHECK(waiter_got != NULL && (waiter_got->m_flags & M_EXT));
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)), 2 * LOW);
	m_freem(waiter_got);
	for (int i = 0; i < nheld; i++)
		m_freem(held[i]);
}

UMA_TEST(mbuf_limit_nmbclusters_boot_tunable)
{
	int status;
	pid_t pid;

	if (getenv("MBUF_LIMIT_CHILD") != NULL) {
		limit_child();
		return;
	}
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		test_tunables_add("kern.ipc.nmbclusters=64");
		setenv("MBUF_LIMIT_CHILD", "1", 1);
		execl("/proc/self/exe", "mbuf_limit",
		    "mbuf_limit_nmbclusters_boot_tunable", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

UMA_TEST(mbuf_limit_maxmbufmem_tunable_sets_defaults)
{
	unsigned long v;
	int status;
	pid_t pid;

	if (getenv("MBUF_LIMIT_CHILD2") != NULL) {
		CHECK_EQ(mbuf_get_limit("kern.ipc.maxmbufmem", &v), 0);
		CHECK_EQ(v, 64ul << 20);
		CHECK_EQ(mbuf_get_limit("kern.ipc.nmbclusters", &v), 0);
		CHECK_EQ(v, (64ul << 20) / MCLBYTES / 4);
		CHECK_EQ(mbuf_get_limit("kern.ipc.nmbjumbop", &v), 0);
		CHECK_EQ(v, (64ul << 20) / MJUMPAGESIZE / 4);
		CHECK_EQ(mbuf_get_limit("kern.ipc.nmbjumbo9", &v), 0);
		CHECK_EQ(v, (64ul << 20) / MJUM9BYTES / 6);
		CHECK_EQ(mbuf_get_limit("kern.ipc.nmbjumbo16", &v), 0);
		CHECK_EQ(v, (64ul << 20) / MJUM16BYTES / 6);
		CHECK_EQ(mbuf_get_limit("kern.ipc.nmbufs", &v), 0);
		CHECK_EQ(v, (64ul << 20) / MSIZE / 5);
		return;
	}
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		test_tunables_add("kern.ipc.maxmbufmem=67108864");
		setenv("MBUF_LIMIT_CHILD2", "1", 1);
		execl("/proc/self/exe", "mbuf_limit",
		    "mbuf_limit_maxmbufmem_tunable_sets_defaults", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}
