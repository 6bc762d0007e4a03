/*
 * e2e_mbuf.c - end to end for netstat -m: a child started with
 * kern.ipc.nmbclusters low (a boot tunable, so the child is this program
 * re-executed with UMA_TUNABLES set) is denied packets (m_getcl) and
 * clusters (m_clget) at the limit, each counted once where it was refused
 * (mbuf+clusters, clusters), then
 * raises it and runs a known mbuf workload: mbufs, packets, copies sharing
 * clusters, frees, and a burst that leaves clusters cached in the packet
 * zone.  `umastat --socket ... -n` (text and --json) shows exactly the
 * workload's mbufs and clusters, those cached clusters as cache and not as
 * current, and the denials.
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE
#endif
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uma/mbuf.h>

#include "e2e.h"
#include "harness.h"

#define	LOW		128	/* kern.ipc.nmbclusters at boot */
#define	HIGH		4096	/* ... after the denials */
#define	MISSES		4	/* failures in a row that mean "at the limit" */
#define	EXTRA_DENIED	5	/* then this many more, each denied */
#define	CL_DENIED	3	/* then m_clget, each denied */
#define	NMBUF		50	/* m_get */
#define	NMBUF_FREED	20
#define	NPACK		30	/* m_getcl */
#define	NCOPY		10	/* m_copym of packets 0 .. NCOPY-1 */
#define	BURST		200	/* m_getcl then m_freem */

/* What the child reports to the parent: what the workload saw. */
struct report {
	int	granted;	/* m_getcl M_NOWAIT that succeeded at LOW */
	int	denied;		/* ... and that failed */
	int	cl_denied;	/* m_clget M_NOWAIT that failed */
	int	mbufs;		/* mbufs of zone "mbuf" held */
	int	packets;	/* mbuf_packet items in use */
	int	clusters;	/* clusters held */
};

#define	ENV_FD	"E2E_MBUF_CHILD_FD"
#define	ENV_DIR	"E2E_MBUF_CHILD_DIR"

static struct mbuf *grab[LOW + 1], *mb[NMBUF], *pk[NPACK], *cp[NCOPY];
static struct mbuf *burst[BURST];

/* Stay on one CPU, so no cache of another CPU hides clusters. */
static void
pin_one_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		_exit(5);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			if (sched_setaffinity(0, sizeof(set), &set) != 0)
				_exit(5);
			return;
		}
}

/* Take clusters with M_NOWAIT until MISSES failures in a row. */
static void
limit_phase(struct report *r)
{
	struct mbuf *m;
	int misses = 0;

	while (misses < MISSES) {
		m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		if (m == NULL) {
			misses++;
			r->denied++;
			continue;
		}
		misses = 0;
		if (r->granted == LOW)
			_exit(6);		/* past the limit */
		grab[r->granted++] = m;
	}
	for (int i = 0; i < EXTRA_DENIED; i++) {
		if ((m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR)) != NULL)
			_exit(7);
		r->denied++;
	}
	for (int i = 0; i < CL_DENIED; i++) {
		if ((m = m_get(M_NOWAIT, MT_DATA)) == NULL ||
		    m_clget(m, M_NOWAIT) != 0)
			_exit(10);
		m_free(m);
		r->cl_denied++;
	}
	if (mbuf_set_limit("kern.ipc.nmbclusters", HIGH) != 0)
		_exit(8);
	/* Back to the packet zone's caches, clusters attached. */
	for (int i = 0; i < r->granted; i++)
		m_freem(grab[i]);
}

static void
workload(struct report *r)
{
	for (int i = 0; i < NMBUF; i++)
		mb[i] = m_get(M_WAITOK, MT_DATA);
	for (int i = 0; i < NPACK; i++) {
		pk[i] = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
		pk[i]->m_len = pk[i]->m_pkthdr.len = 100;
	}
	for (int i = 0; i < NCOPY; i++)
		if ((cp[i] = m_copym(pk[i], 0, M_COPYALL, M_WAITOK)) == NULL ||
		    cp[i]->m_next != NULL || m_extrefcnt(pk[i]) != 2)
			_exit(9);
	for (int i = 0; i < NMBUF_FREED; i++)
		m_free(mb[i]);
	/* Packets 0-4: the copies keep them (mbuf and cluster) in use. */
	for (int i = 0; i < 5; i++)
		m_freem(pk[i]);
	/* Copies 5-9: the originals stay. */
	for (int i = 5; i < NCOPY; i++)
		m_freem(cp[i]);
	/* Packets 20-29: back to the packet zone's caches. */
	for (int i = 20; i < NPACK; i++)
		m_freem(pk[i]);
	for (int i = 0; i < BURST; i++)
		burst[i] = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
	for (int i = 0; i < BURST; i++)
		m_freem(burst[i]);
	r->mbufs = NMBUF - NMBUF_FREED + 5;	/* and copies 0-4 */
	r->packets = 20;			/* packets 0-19 */
	r->clusters = 20;			/* theirs */
}

/*
 * The re-executed child: run before main(), so the harness never sees it.
 * UMA_TUNABLES is in its environment from the start.
 */
__attribute__((constructor)) static void
e2e_mbuf_child(void)
{
	struct report r = { 0 };
	const char *fd = getenv(ENV_FD), *dir = getenv(ENV_DIR);

	if (fd == NULL || dir == NULL)
		return;
	pin_one_cpu();
	limit_phase(&r);
	workload(&r);
	e2e_serve(dir, atoi(fd), &r, sizeof(r));
}

static char dir[] = "/tmp/memstat_e2e_mbuf.XXXXXX";

/* In the forked child: re-execute this program as the child. */
static void
exec_child(int fd, void *arg)
{
	char fdbuf[16];

	snprintf(fdbuf, sizeof(fdbuf), "%d", fd);
	test_tunables_add("kern.ipc.nmbclusters=128");
	setenv(ENV_FD, fdbuf, 1);
	setenv(ENV_DIR, dir, 1);
	execl("/proc/self/exe", "e2e_mbuf_child", (char *)NULL);
	_exit(127);
}

static pid_t
start(struct report *r, char *sock, size_t len)
{
	return (e2e_start(dir, exec_child, NULL, r, sizeof(*r), sock, len));
}

/* Every number in the text is sane: no wrapped difference. */
static void
check_no_huge(const char *text)
{
	for (const char *s = text; *s != '\0'; s++)
		if (*s >= '0' && *s <= '9' && (s == text || s[-1] < '0' ||
		    s[-1] > '9'))
			CHECK(strtoull(s, NULL, 10) < 1000000000ull);
}

static void
want_line(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fprintf(stderr, "want \"%s\" in:\n%s", line, text);
	CHECK(strstr(text, line) != NULL);
}

UMA_TEST(e2e_umastat_netstat_m_exact)
{
	char sock[256], line[256], *text, *json, *zones;
	unsigned long long mbfree, pkfree, clfree, mbcur, clcache, bytes;
	struct report r;
	pid_t pid = start(&r, sock, sizeof(sock));

	/* At the limit every cluster was the workload's: none cached. */
	CHECK_EQ(r.granted, LOW);
	CHECK_EQ(r.denied, MISSES + EXTRA_DENIED);
	CHECK_EQ(r.cl_denied, CL_DENIED);

	zones = e2e_umastat(sock, "-z --json");
	mbfree = json_num(zones, "mbuf", "free");
	pkfree = json_num(zones, "mbuf_packet", "free");
	clfree = json_num(zones, "mbuf_cluster", "free");
	CHECK_EQ(json_num(zones, "mbuf", "used"), r.mbufs);
	CHECK_EQ(json_num(zones, "mbuf_packet", "used"), r.packets);
	/* The cluster zone counts the packet zone's cached clusters used. */
	CHECK_EQ(json_num(zones, "mbuf_cluster", "used"), r.clusters + pkfree);
	CHECK(pkfree >= BURST);
	/* Each request counts once, in the zone that refused it. */
	CHECK_EQ(json_num(zones, "mbuf_cluster", "fail"), r.cl_denied);
	CHECK_EQ(json_num(zones, "mbuf_packet", "fail"), r.denied);
	CHECK_EQ(json_num(zones, "mbuf", "fail"), 0);

	mbcur = r.mbufs + r.packets;
	clcache = clfree + pkfree;
	bytes = mbcur * MSIZE + (unsigned long long)r.clusters * MCLBYTES;

	text = e2e_umastat(sock, "-n");
	check_no_huge(text);
	snprintf(line, sizeof(line), "%llu/%llu/%llu mbufs in use "
	    "(current/cache/total)\n", mbcur, mbfree + pkfree,
	    mbcur + mbfree + pkfree);
	CHECK(strncmp(text, line, strlen(line)) == 0);
	snprintf(line, sizeof(line), "\n%d/%llu/%llu/%d mbuf clusters in use "
	    "(current/cache/total/max)\n", r.clusters, clcache,
	    r.clusters + clcache, HIGH);
	want_line(text, line);
	snprintf(line, sizeof(line), "\n%d/%llu mbuf+clusters out of packet "
	    "secondary zone in use (current/cache)\n", r.packets, pkfree);
	want_line(text, line);
	snprintf(line, sizeof(line), "\n%lluK/", bytes / 1024);
	want_line(text, line);
	snprintf(line, sizeof(line), "\n0/%d/%d requests for mbufs denied "
	    "(mbufs/clusters/mbuf+clusters)\n", r.cl_denied, r.denied);
	want_line(text, line);
	want_line(text, "\n0/0/0 requests for mbufs delayed "
	    "(mbufs/clusters/mbuf+clusters)\n");

	json = e2e_umastat(sock, "-n --json");
	CHECK(strncmp(json, "{\"mbuf-statistics\":{", 20) == 0);
	CHECK_EQ(json_num(json, NULL, "mbuf-current"), mbcur);
	CHECK_EQ(json_num(json, NULL, "mbuf-cache"), mbfree + pkfree);
	CHECK_EQ(json_num(json, NULL, "mbuf-total"), mbcur + mbfree + pkfree);
	CHECK_EQ(json_num(json, NULL, "cluster-current"), r.clusters);
	CHECK_EQ(json_num(json, NULL, "cluster-cache"), clcache);
	CHECK_EQ(json_num(json, NULL, "cluster-total"), r.clusters + clcache);
	CHECK_EQ(json_num(json, NULL, "cluster-max"), HIGH);
	CHECK_EQ(json_num(json, NULL, "packet-count"), r.packets);
	CHECK_EQ(json_num(json, NULL, "packet-free"), pkfree);
	CHECK_EQ(json_num(json, NULL, "bytes-in-use"), bytes / 1024);
	CHECK_EQ(json_num(json, NULL, "mbuf-failures"), 0);
	CHECK_EQ(json_num(json, NULL, "cluster-failures"), r.cl_denied);
	CHECK_EQ(json_num(json, NULL, "packet-failures"), r.denied);
	CHECK_EQ(json_num(json, NULL, "cluster-sleeps"), 0);
	free(json);
	free(text);
	free(zones);
	e2e_stop(pid, dir);
}
