/*
 * packet_pipeline.c - threads pass packets through a queue, as a network
 * stack's layers do, and the program ends with netstat -m's view of the
 * mbuf zones.
 *
 * Two "drivers" receive packets: an mbuf with a 2k cluster from the
 * packet zone (m_getcl), a payload, an Ethernet-like header put in front
 * (M_PREPEND).  Every fourth packet is also "tapped": a copy that shares
 * the cluster (m_copym) goes down the same queue.  A "protocol" thread
 * takes packets off the queue (linked by m_nextpkt), makes the header
 * contiguous (m_pullup), checks it and frees the packet; the cluster goes
 * back when its last reference does.
 *
 * Only public headers: the counts come from the sysctl tree
 * (vm.uma.<zone>.stats.*, kern.ipc.nmbclusters).
 *
 *   cc packet_pipeline.c -luma -lpthread && ./a.out [packets per driver]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/mbuf.h>
#include <uma/sysctl.h>

#define	HDRLEN		14
#define	PAYLOAD		1400
#define	NDRIVERS	2
#define	QUEUE_MAX	1024	/* a driver ring: bounded, like a NIC's */

struct pktqueue {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cv;		/* packets arrived */
	pthread_cond_t	 room;		/* packets left */
	struct mbuf	*head, *tail;
	int		 len;
	int		 drivers_left;
};

static struct pktqueue q = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER, NULL, NULL, 0, NDRIVERS
};
static long npackets = 100000;

static void
enqueue(struct mbuf *m)
{
	pthread_mutex_lock(&q.lock);
	while (q.len >= QUEUE_MAX)
		pthread_cond_wait(&q.room, &q.lock);
	q.len++;
	m->m_nextpkt = NULL;
	if (q.tail != NULL)
		q.tail->m_nextpkt = m;
	else
		q.head = m;
	q.tail = m;
	pthread_cond_signal(&q.cv);
	pthread_mutex_unlock(&q.lock);
}

/* The next packet, or NULL when the queue is empty and drivers are done. */
static struct mbuf *
dequeue(void)
{
	struct mbuf *m;

	pthread_mutex_lock(&q.lock);
	while (q.head == NULL && q.drivers_left > 0)
		pthread_cond_wait(&q.cv, &q.lock);
	if ((m = q.head) != NULL) {
		q.head = m->m_nextpkt;
		if (q.head == NULL)
			q.tail = NULL;
		m->m_nextpkt = NULL;
		if (q.len-- == QUEUE_MAX)
			pthread_cond_broadcast(&q.room);
	}
	pthread_mutex_unlock(&q.lock);
	return (m);
}

static void *
driver(void *arg)
{
	unsigned char hdr[HDRLEN], payload[PAYLOAD];
	int id = (int)(intptr_t)arg;
	struct mbuf *m, *tap;

	memset(payload, 'a' + id, sizeof(payload));
	for (long i = 0; i < npackets; i++) {
		m = m_getcl(M_WAITOK, MT_DATA, M_PKTHDR);
		m->m_data += 64;	/* leave room for headers */
		m_append(m, PAYLOAD, payload);
		M_PREPEND(m, HDRLEN, M_NOWAIT);
		if (m == NULL)
			continue;
		memset(hdr, 0, sizeof(hdr));
		hdr[0] = (unsigned char)id;
		m_copyback(m, 0, HDRLEN, hdr);
		if (i % 4 == 0 &&
		    (tap = m_copym(m, 0, M_COPYALL, M_NOWAIT)) != NULL)
			enqueue(tap);
		enqueue(m);
	}
	pthread_mutex_lock(&q.lock);
	q.drivers_left--;
	pthread_cond_broadcast(&q.cv);
	pthread_mutex_unlock(&q.lock);
	return (NULL);
}

static void *
protocol(void *arg)
{
	long *count = arg, bad = 0;
	struct mbuf *m;

	while ((m = dequeue()) != NULL) {
		if ((m = m_pullup(m, HDRLEN)) == NULL)
			continue;
		if (mtod(m, unsigned char *)[0] >= NDRIVERS ||
		    m->m_pkthdr.len != HDRLEN + PAYLOAD)
			bad++;
		m_freem(m);
		(*count)++;
	}
	if (bad != 0)
		fprintf(stderr, "%ld malformed packets\n", bad);
	return (NULL);
}

/* A u64 leaf of a zone: vm.uma.<zone>.<leaf>. */
static uint64_t
zone_u64(const char *zone, const char *leaf)
{
	char name[128];
	uint64_t v = 0;
	size_t len = sizeof(v);

	snprintf(name, sizeof(name), "vm.uma.%s.%s", zone, leaf);
	if (uma_sysctlbyname(name, &v, &len, NULL, 0) != 0)
		return (0);
	return (v);
}

struct zcount {
	uint64_t	count, free, fails, sleeps, limit;
};

/* libmemstat's view: free = cached items (+ keg free on a primary). */
static struct zcount
zone_count(const char *zone, int primary)
{
	struct zcount z;
	uint64_t items;

	z.count = zone_u64(zone, "stats.current");
	items = zone_u64(zone, "limit.items");
	z.free = (items > z.count ? items - z.count : 0) +
	    (primary ? zone_u64(zone, "keg.free_items") : 0);
	z.fails = zone_u64(zone, "stats.fails");
	z.sleeps = zone_u64(zone, "stats.sleeps");
	z.limit = zone_u64(zone, "limit.max_items");
	return (z);
}

static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : 0);
}

/* The first lines of netstat -m (reference: FreeBSD's netstat/mbuf.c). */
static void
netstat_m(void)
{
	struct zcount mb = zone_count("mbuf", 1);
	struct zcount pk = zone_count("mbuf_packet", 0);
	struct zcount cl = zone_count("mbuf_cluster", 1);
	struct zcount jp = zone_count("mbuf_jumbo_page", 1);
	struct zcount j9 = zone_count("mbuf_jumbo_9k", 1);
	struct zcount j16 = zone_count("mbuf_jumbo_16k", 1);
	uint64_t cur, cache;

	printf("%ju/%ju/%ju mbufs in use (current/cache/total)\n",
	    (uintmax_t)(mb.count + pk.count), (uintmax_t)(mb.free + pk.free),
	    (uintmax_t)(mb.count + pk.count + mb.free + pk.free));
	printf("%ju/%ju/%ju/%ju mbuf clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)sub0(cl.count, pk.free),
	    (uintmax_t)(cl.free + pk.free), (uintmax_t)(cl.count + cl.free),
	    (uintmax_t)cl.limit);
	printf("%ju/%ju mbuf+clusters out of packet secondary zone in use "
	    "(current/cache)\n", (uintmax_t)pk.count, (uintmax_t)pk.free);
	printf("%ju/%ju/%ju/%ju %dk (page size) jumbo clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)jp.count,
	    (uintmax_t)jp.free, (uintmax_t)(jp.count + jp.free),
	    (uintmax_t)jp.limit, MJUMPAGESIZE / 1024);
	printf("%ju/%ju/%ju/%ju 9k jumbo clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)j9.count,
	    (uintmax_t)j9.free, (uintmax_t)(j9.count + j9.free),
	    (uintmax_t)j9.limit);
	printf("%ju/%ju/%ju/%ju 16k jumbo clusters in use "
	    "(current/cache/total/max)\n", (uintmax_t)j16.count,
	    (uintmax_t)j16.free, (uintmax_t)(j16.count + j16.free),
	    (uintmax_t)j16.limit);
	cur = mb.count * MSIZE + pk.count * (MSIZE + MCLBYTES) +
	    sub0(cl.count, pk.count + pk.free) * MCLBYTES +
	    jp.count * MJUMPAGESIZE + j9.count * MJUM9BYTES +
	    j16.count * MJUM16BYTES;
	cache = mb.free * MSIZE + pk.free * (MSIZE + MCLBYTES) +
	    cl.free * MCLBYTES + jp.free * MJUMPAGESIZE +
	    j9.free * MJUM9BYTES + j16.free * MJUM16BYTES;
	printf("%juK/%juK/%juK bytes allocated to network "
	    "(current/cache/total)\n", (uintmax_t)(cur / 1024),
	    (uintmax_t)(cache / 1024), (uintmax_t)((cur + cache) / 1024));
	printf("%ju/%ju/%ju requests for mbufs denied "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb.fails,
	    (uintmax_t)cl.fails, (uintmax_t)pk.fails);
	printf("%ju/%ju/%ju requests for mbufs delayed "
	    "(mbufs/clusters/mbuf+clusters)\n", (uintmax_t)mb.sleeps,
	    (uintmax_t)cl.sleeps, (uintmax_t)pk.sleeps);
	printf("%ju/%ju/%ju requests for jumbo clusters delayed "
	    "(4k/9k/16k)\n", (uintmax_t)jp.sleeps, (uintmax_t)j9.sleeps,
	    (uintmax_t)j16.sleeps);
	printf("%ju/%ju/%ju requests for jumbo clusters denied "
	    "(4k/9k/16k)\n", (uintmax_t)jp.fails, (uintmax_t)j9.fails,
	    (uintmax_t)j16.fails);
}

int
main(int argc, char **argv)
{
	pthread_t drv[NDRIVERS], proto;
	long received = 0;

	if (argc > 1)
		npackets = atol(argv[1]);
	mbuf_init();
	pthread_create(&proto, NULL, protocol, &received);
	for (int i = 0; i < NDRIVERS; i++)
		pthread_create(&drv[i], NULL, driver, (void *)(intptr_t)i);
	for (int i = 0; i < NDRIVERS; i++)
		pthread_join(drv[i], NULL);
	pthread_join(proto, NULL);
	printf("%ld packets received (%ld sent, a quarter of them tapped)\n\n",
	    received, NDRIVERS * npackets);
	netstat_m();
	return (0);
}
