/*
 * mbuf_cluster_limit.c - m_getcl at kern.ipc.nmbclusters, a limit below
 * one packet bucket (253 packets): every cluster under the limit is
 * served with M_NOWAIT, from the very first m_getcl; a M_WAITOK caller
 * asleep at the limit wakes when a packet is freed; and netstat -m's
 * "denied" counts (the zones' failures) count the requests that were
 * refused, and nothing else.
 *
 * Each test re-executes itself with UMA_TUNABLES set, since uma reads its
 * tunables once, before its first zone.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mbuf_test.h"

#define	LOW	64		/* kern.ipc.nmbclusters in the child */
#define	WAIT_S	10		/* seconds: longer is a hang */

static struct mbuf *held[LOW];
static _Atomic int waiter_done;
static struct mbuf *waiter_got;

/* Run test `name` again in a child with nmbclusters=LOW. */
static bool
in_child(const char *name)
{
	int status;
	pid_t pid;

	if (getenv("MBUF_CLUSTER_LIMIT_CHILD") != NULL)
		return (true);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("UMA_TUNABLES", "kern.ipc.nmbclusters=64", 1);
		setenv("MBUF_CLUSTER_LIMIT_CHILD", "1", 1);
		execl("/proc/self/exe", "mbuf_cluster_limit", name,
		    (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return (false);
}

/* The packet is whole: a cluster of its own that holds a pattern. */
static void
check_packet(struct mbuf *m, int seed)
{
	CHECK(m != NULL);
	CHECK(m->m_flags & M_EXT);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK_EQ(m->m_ext.ext_size, MCLBYTES);
	mbt_fill(mtod(m, void *), seed, MCLBYTES);
	m->m_len = m->m_pkthdr.len = MCLBYTES;
	CHECK(mbt_check_pattern(m, seed, MCLBYTES));
}

/*
 * Take LOW packets of the packet zone (each an mbuf with its cluster,
 * EXT_PACKET), retrying a refusal a few times: the packet zone is where
 * a freed packet keeps its cluster.
 */
static void
take_packets(void)
{
	for (int i = 0; i < LOW; i++) {
		for (int tries = 0; tries < 3 && held[i] == NULL; tries++)
			held[i] = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		check_packet(held[i], i);
		CHECK_EQ(held[i]->m_ext.ext_type, EXT_PACKET);
	}
}

static void *
waiter_main(void *arg)
{
	waiter_got = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	atomic_store(&waiter_done, 1);
	return (NULL);
}

static bool
wait_for(bool (*cond)(void))
{
	for (double end = test_now() + WAIT_S; test_now() < end;
	    usleep(1000))
		if (cond())
			return (true);
	return (cond());
}

static bool
cluster_zone_has_sleepers(void)
{
	return (mbt_stat(MBUF_CLUSTER_MEM_NAME).zs_sleepers > 0);
}

static bool
waiter_woke(void)
{
	return (atomic_load(&waiter_done) != 0);
}

/*
 * The reproduction: all 64 clusters held as packets, a second
 * thread asleep in m_getcl(M_WAITOK), one packet freed: the sleeper wakes
 * with that packet's cluster.
 */
UMA_TEST(mbuf_cluster_limit_waitok_sleeper_wakes_when_a_packet_is_freed)
{
	pthread_t t;

	if (!in_child(
	    "mbuf_cluster_limit_waitok_sleeper_wakes_when_a_packet_is_freed"))
		return;
	CHECK_EQ(uma_zone_get_max(mbuf_zone(MBUF_CLUSTER_MEM_NAME)), LOW);
	take_packets();
	CHECK_EQ(mbt_stat(MBUF_CLUSTER_MEM_NAME).zs_items, LOW);
	CHECK(m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR) == NULL);

	CHECK_EQ(pthread_create(&t, NULL, waiter_main, NULL), 0);
	CHECK(wait_for(cluster_zone_has_sleepers));
	usleep(50000);
	CHECK(!atomic_load(&waiter_done));	/* asleep, as it must be */

	m_freem(held[LOW - 1]);
	held[LOW - 1] = NULL;
	CHECK(wait_for(waiter_woke));
	CHECK_EQ(pthread_join(t, NULL), 0);
	check_packet(waiter_got, 1000);
	CHECK_EQ(mbt_stat(MBUF_CLUSTER_MEM_NAME).zs_sleepers, 0);
	/* The others are intact. */
	for (int i = 0; i < LOW - 1; i++)
		CHECK(mbt_check_pattern(held[i], i, MCLBYTES));
	m_freem(waiter_got);
	for (int i = 0; i < LOW - 1; i++)
		m_freem(held[i]);
}

/*
 * nmbclusters below one packet bucket: m_getcl(M_NOWAIT) is served from
 * the first call to the LOW-th, and refused after; only that refusal is
 * counted ("0/0/1 requests for mbufs denied"), none for the clusters the
 * packet zone's refills could not attach.
 */
UMA_TEST(mbuf_cluster_limit_nowait_serves_every_cluster_under_the_limit)
{
	struct uma__zone_stat mb, pk, cl;
	struct mbuf *m;

	if (!in_child(
	    "mbuf_cluster_limit_nowait_serves_every_cluster_under_the_limit"))
		return;
	CHECK(LOW < mbt_stat(MBUF_PACKET_MEM_NAME).zs_bucket_size);
	for (int i = 0; i < LOW; i++) {
		held[i] = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		check_packet(held[i], i);
	}
	CHECK(m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR) == NULL);
	mb = mbt_stat(MBUF_MEM_NAME);
	pk = mbt_stat(MBUF_PACKET_MEM_NAME);
	cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);
	CHECK_EQ(mb.zs_fails, 0);
	CHECK_EQ(cl.zs_fails, 0);
	CHECK_EQ(pk.zs_fails, 1);
	CHECK_EQ(cl.zs_items, LOW);
	/* A freed packet serves the next request, wherever it went. */
	m_freem(held[LOW - 1]);
	held[LOW - 1] = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
	check_packet(held[LOW - 1], LOW - 1);
	for (int i = 0; i < LOW; i++)
		CHECK(mbt_check_pattern(held[i], i, MCLBYTES));
	/* A cluster freed bare (m_clget's) serves m_getcl too. */
	m_freem(held[0]);
	m = m_get(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	CHECK_EQ(m_clget(m, M_NOWAIT), M_EXT);
	m_freem(m);
	held[0] = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
	check_packet(held[0], 0);
	pk = mbt_stat(MBUF_PACKET_MEM_NAME);
	cl = mbt_stat(MBUF_CLUSTER_MEM_NAME);
	CHECK_EQ(pk.zs_fails, 1);
	CHECK_EQ(cl.zs_fails, 0);
	for (int i = 0; i < LOW; i++)
		m_freem(held[i]);
}

static void *bare_got;

static void *
bare_waiter_main(void *arg)
{
	bare_got = uma_zalloc(mbuf_zone(MBUF_CLUSTER_MEM_NAME), M_WAITOK);
	atomic_store(&waiter_done, 1);
	return (NULL);
}

/*
 * The packet is freed before anyone sleeps, so it stays in the packet
 * zone's cache with its cluster; then a thread asks the cluster zone
 * itself (no m_clget to drain the packet zone first) and sleeps at the
 * limit.  The cluster zone's maxaction, mb_reclaim, gives the packet
 * zone's clusters back within the sleeper's period.
 */
UMA_TEST(mbuf_cluster_limit_sleeper_gets_a_cluster_idle_in_the_packet_cache)
{
	pthread_t t;

	if (!in_child(
	    "mbuf_cluster_limit_sleeper_gets_a_cluster_idle_in_the_packet_cache"))
		return;
	test_pin_one_cpu();
	take_packets();
	m_freem(held[0]);
	held[0] = NULL;
	CHECK_EQ(mbt_stat(MBUF_CLUSTER_MEM_NAME).zs_items, LOW);
	CHECK_EQ(mbt_stat(MBUF_PACKET_MEM_NAME).zs_cpu_free, 1);
	CHECK_EQ(pthread_create(&t, NULL, bare_waiter_main, NULL), 0);
	CHECK(wait_for(waiter_woke));
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK(bare_got != NULL);
	mbt_fill(bare_got, 7, MCLBYTES);
	CHECK(mbt_check_bytes(bare_got, 7, MCLBYTES));
	CHECK_EQ(mbt_stat(MBUF_PACKET_MEM_NAME).zs_cpu_free, 0);
	for (int i = 1; i < LOW; i++)
		CHECK(mbt_check_pattern(held[i], i, MCLBYTES));
	uma_zfree(mbuf_zone(MBUF_CLUSTER_MEM_NAME), bare_got);
	for (int i = 1; i < LOW; i++)
		m_freem(held[i]);
}
