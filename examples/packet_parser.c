/*
 * packet_parser.c - FreeBSD kernel style packet parsing on uma's mbufs:
 * what a network stack's input path does, as a user-space program.
 *
 * A "driver" receives frames (Ethernet, IPv4, UDP or TCP, a payload) into
 * chains of small receive buffers, the way a NIC with 128-byte buffers
 * leaves them (MGETHDR, MGET, ETHER_ALIGN).  The "stack" finds each header
 * with m_pulldown, which makes just the bytes it needs contiguous wherever
 * they fell, keeps per-flow counters in a table from mallocarray, gives a
 * "tap" a copy of every fifth packet (m_copypacket: the clusters are
 * shared, not copied), and "forwards" UDP to a transmitter that takes at
 * most TX_MAXSEGS segments (m_defrag).  Its counters are per CPU
 * (uma_zalloc_pcpu, zpcpu_get).  It checks its own work: every flow's
 * packets and payload sums must come out as the generator made them.
 *
 * The code is written as FreeBSD's would be: malloc(9)'s three-argument
 * malloc and two-argument free come through <uma/freebsd.h>, the one
 * opt-in header for the kernel names that libc has too (see mbuf.3).
 *
 *   cc packet_parser.c $(pkg-config --cflags --libs uma) && ./a.out [n]
 */
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/freebsd.h>

MALLOC_DEFINE(M_PARSER, "parser", "packet parser flow table");

#define	ETHER_ALIGN	2	/* puts the IP header on a 4-byte boundary */
#define	RX_BUFSIZE	128	/* a small receive buffer */
#define	NFLOWS		64
#define	TAP_EVERY	5
#define	TX_MAXSEGS	4
#define	FRAME_MAX	1514

struct flowstat {
	uint64_t	fs_packets;
	uint64_t	fs_bytes;
	uint32_t	fs_sum;		/* sum of payload bytes */
};

/*
 * The stack's counters, per CPU as a driver's are: one item of a
 * UMA_ZONE_PCPU zone is a copy for each CPU, and a packet counts in the
 * copy of the CPU it is handled on (zpcpu_get), with no cache line shared
 * between CPUs; the totals sum the copies.  A thread may move between
 * CPUs at any moment, so the adds are atomic (FreeBSD's kernel would add
 * in a critical section instead).
 */
struct stats {
	uint64_t	st_udp, st_tcp, st_bad;
	uint64_t	st_tapped, st_tap_bytes;
	uint64_t	st_defragged, st_tx, st_tx_drops;
};

#define	STAT_ADD(st, field, n)						\
	__atomic_fetch_add(&zpcpu_get(st)->field, (n), __ATOMIC_RELAXED)

/* The copies of every CPU, added up. */
static void
stats_sum(struct stats *pcpu, struct stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < uma_ncpus(); cpu++) {
		struct stats *c = zpcpu_get_cpu(pcpu, cpu);

		sum->st_udp += c->st_udp;
		sum->st_tcp += c->st_tcp;
		sum->st_bad += c->st_bad;
		sum->st_tapped += c->st_tapped;
		sum->st_tap_bytes += c->st_tap_bytes;
		sum->st_defragged += c->st_defragged;
		sum->st_tx += c->st_tx;
		sum->st_tx_drops += c->st_tx_drops;
	}
}

/* ---- the driver -------------------------------------------------------- */

/* Frame i of the test traffic: headers, then len payload bytes. */
static int
make_frame(uint8_t *f, long i, struct flowstat *expect)
{
	struct ether_header *eh = (struct ether_header *)f;
	struct ip *ip = (struct ip *)(f + ETHER_HDR_LEN);
	int tcp = i % 3 == 0, l4len, paylen = (int)((i * 37) % 1300);
	uint16_t dport = (uint16_t)(1000 + i % NFLOWS);
	uint8_t *pay;

	memset(f, 0, ETHER_HDR_LEN + sizeof(*ip) + sizeof(struct tcphdr));
	eh->ether_type = htons(ETHERTYPE_IP);
	ip->ip_v = 4;
	ip->ip_hl = sizeof(*ip) >> 2;
	ip->ip_p = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	if (tcp) {
		struct tcphdr *th = (struct tcphdr *)(ip + 1);

		th->th_dport = htons(dport);
		th->th_off = sizeof(*th) >> 2;
		l4len = sizeof(*th);
	} else {
		struct udphdr *uh = (struct udphdr *)(ip + 1);

		uh->uh_dport = htons(dport);
		uh->uh_ulen = htons((uint16_t)(sizeof(*uh) + paylen));
		l4len = sizeof(*uh);
	}
	ip->ip_len = htons((uint16_t)(sizeof(*ip) + l4len + paylen));
	pay = (uint8_t *)(ip + 1) + l4len;
	for (int j = 0; j < paylen; j++) {
		pay[j] = (uint8_t)(i + j * 7);
		expect[dport % NFLOWS].fs_sum += pay[j];
	}
	expect[dport % NFLOWS].fs_packets++;
	expect[dport % NFLOWS].fs_bytes += (uint64_t)paylen;
	return ((int)(pay - f) + paylen);
}

/* Receive a frame into a chain of RX_BUFSIZE buffers. */
static struct mbuf *
rx_frame(const uint8_t *frame, int len)
{
	struct mbuf *m, *n, *last;
	int off = 0, chunk;

	MGETHDR(m, M_NOWAIT, MT_DATA);
	if (m == NULL)
		return (NULL);
	m->m_data += ETHER_ALIGN;
	chunk = RX_BUFSIZE - ETHER_ALIGN;
	for (last = m; off < len; last = n) {
		if (off == 0)
			n = m;
		else {
			MGET(n, M_NOWAIT, MT_DATA);
			if (n == NULL) {
				m_freem(m);
				return (NULL);
			}
			last->m_next = n;
			chunk = RX_BUFSIZE;
		}
		n->m_len = len - off < chunk ? len - off : chunk;
		memcpy(mtod(n, uint8_t *), frame + off, (size_t)n->m_len);
		off += n->m_len;
	}
	m->m_pkthdr.len = len;
	return (m);
}

/* ---- the stack --------------------------------------------------------- */

static int
sum_bytes(void *arg, void *data, u_int len)
{
	uint32_t *sum = arg;

	for (u_int i = 0; i < len; i++)
		*sum += ((uint8_t *)data)[i];
	return (0);
}

/* A tap (bpf-like): reads its copy, never writes it. */
static void
tap(struct mbuf *m, struct stats *st)
{
	uint8_t hdr[ETHER_HDR_LEN];

	m_copydata(m, 0, sizeof(hdr), hdr);
	if (((struct ether_header *)hdr)->ether_type == htons(ETHERTYPE_IP))
		STAT_ADD(st, st_tapped, 1);
	STAT_ADD(st, st_tap_bytes, (uint64_t)m->m_pkthdr.len);
	m_freem(m);
}

/* A transmitter whose DMA takes at most TX_MAXSEGS segments. */
static void
tx(struct mbuf *m, int paylen, uint32_t want_sum, struct stats *st)
{
	struct mbuf *n;
	uint32_t sum = 0;
	int nsegs = 0;

	for (n = m; n != NULL; n = n->m_next)
		nsegs++;
	if (nsegs > TX_MAXSEGS) {
		if ((n = m_defrag(m, M_NOWAIT)) == NULL) {
			STAT_ADD(st, st_tx_drops, 1);
			m_freem(m);
			return;
		}
		m = n;
		STAT_ADD(st, st_defragged, 1);
	}
	for (nsegs = 0, n = m; n != NULL; n = n->m_next)
		nsegs++;
	m_apply(m, m->m_pkthdr.len - paylen, paylen, sum_bytes, &sum);
	if (nsegs <= TX_MAXSEGS && sum == want_sum)
		STAT_ADD(st, st_tx, 1);
	else
		STAT_ADD(st, st_tx_drops, 1);
	m_freem(m);
}

/*
 * Parse one packet: each header is pulled down where it lies.  Consumes
 * the packet.  Returns 0, or EINVAL for a packet it drops.
 */
static int
parse(struct mbuf *m, struct flowstat *flows, struct stats *st, long i)
{
	struct ether_header *eh;
	struct mbuf *n;
	struct ip *ip;
	int off, hlen, l4len, paylen;
	uint16_t dport;
	uint32_t sum = 0;

	if ((n = m_pulldown(m, 0, ETHER_HDR_LEN, NULL)) == NULL)
		return (EINVAL);		/* m was freed */
	eh = mtod(n, struct ether_header *);
	if (eh->ether_type != htons(ETHERTYPE_IP))
		goto drop;
	n = m_pulldown(m, ETHER_HDR_LEN, sizeof(struct ip), &off);
	if (n == NULL)
		return (EINVAL);
	ip = (struct ip *)(mtod(n, uint8_t *) + off);
	hlen = ip->ip_hl << 2;
	if (ip->ip_p == IPPROTO_UDP) {
		n = m_pulldown(m, ETHER_HDR_LEN + hlen, sizeof(struct udphdr),
		    &off);
		if (n == NULL)
			return (EINVAL);
		dport = ntohs(((struct udphdr *)(mtod(n, uint8_t *) +
		    off))->uh_dport);
		l4len = sizeof(struct udphdr);
		STAT_ADD(st, st_udp, 1);
	} else if (ip->ip_p == IPPROTO_TCP) {
		n = m_pulldown(m, ETHER_HDR_LEN + hlen, sizeof(struct tcphdr),
		    &off);
		if (n == NULL)
			return (EINVAL);
		dport = ntohs(((struct tcphdr *)(mtod(n, uint8_t *) +
		    off))->th_dport);
		l4len = sizeof(struct tcphdr);
		STAT_ADD(st, st_tcp, 1);
	} else
		goto drop;
	paylen = m->m_pkthdr.len - ETHER_HDR_LEN - hlen - l4len;
	m_apply(m, ETHER_HDR_LEN + hlen + l4len, paylen, sum_bytes, &sum);
	flows[dport % NFLOWS].fs_packets++;
	flows[dport % NFLOWS].fs_bytes += (uint64_t)paylen;
	flows[dport % NFLOWS].fs_sum += sum;
	if (i % TAP_EVERY == 0 && (n = m_copypacket(m, M_NOWAIT)) != NULL)
		tap(n, st);
	if (l4len == sizeof(struct udphdr))
		tx(m, paylen, sum, st);
	else
		m_freem(m);
	return (0);
drop:
	STAT_ADD(st, st_bad, 1);
	m_freem(m);
	return (EINVAL);
}

int
main(int argc, char **argv)
{
	struct flowstat *flows, *expect;
	struct stats *pcpu, st;
	uma_zone_t stats_zone;
	uint8_t *buf, *frame;
	long npackets = argc > 1 ? atol(argv[1]) : 20000;
	int bad = 0, len;
	struct mbuf *m;

	stats_zone = uma_zcreate("parser_stats", sizeof(struct stats), NULL,
	    NULL, NULL, NULL, UMA_ALIGNOF(struct stats), UMA_ZONE_PCPU);
	if (stats_zone == NULL)
		return (1);
	pcpu = uma_zalloc_pcpu(stats_zone, M_WAITOK | M_ZERO);
	flows = mallocarray(NFLOWS, sizeof(*flows), M_PARSER,
	    M_WAITOK | M_ZERO);
	expect = mallocarray(NFLOWS, sizeof(*expect), M_PARSER,
	    M_WAITOK | M_ZERO);
	/* Frames are built ETHER_ALIGN into it too: IP header aligned. */
	buf = malloc(ETHER_ALIGN + FRAME_MAX, M_PARSER, M_WAITOK);
	frame = buf + ETHER_ALIGN;
	for (long i = 0; i < npackets; i++) {
		len = make_frame(frame, i, expect);
		if ((m = rx_frame(frame, len)) == NULL) {
			fprintf(stderr, "packet_parser: no mbufs\n");
			return (1);
		}
		if (parse(m, flows, pcpu, i) != 0)
			bad++;
	}
	stats_sum(pcpu, &st);
	for (int f = 0; f < NFLOWS; f++)
		if (flows[f].fs_packets != expect[f].fs_packets ||
		    flows[f].fs_bytes != expect[f].fs_bytes ||
		    flows[f].fs_sum != expect[f].fs_sum) {
			fprintf(stderr, "packet_parser: flow %d: %ju packets "
			    "%ju bytes, expected %ju and %ju\n", f,
			    (uintmax_t)flows[f].fs_packets,
			    (uintmax_t)flows[f].fs_bytes,
			    (uintmax_t)expect[f].fs_packets,
			    (uintmax_t)expect[f].fs_bytes);
			bad++;
		}
	printf("%ld packets: %ju UDP, %ju TCP, %ju dropped; %ju tapped "
	    "(%ju bytes); %ju sent, %ju of them defragmented, %ju not sent\n",
	    npackets, (uintmax_t)st.st_udp, (uintmax_t)st.st_tcp,
	    (uintmax_t)st.st_bad, (uintmax_t)st.st_tapped,
	    (uintmax_t)st.st_tap_bytes, (uintmax_t)st.st_tx,
	    (uintmax_t)st.st_defragged, (uintmax_t)st.st_tx_drops);
	if (st.st_tx_drops != 0 || st.st_udp + st.st_tcp != (uint64_t)npackets)
		bad++;
	free(buf, M_PARSER);
	free(flows, M_PARSER);
	free(expect, M_PARSER);
	uma_zfree_pcpu(stats_zone, pcpu);
	uma_zdestroy(stats_zone);
	printf("%s\n", bad == 0 ? "all flows as generated" : "MISMATCH");
	return (bad != 0);
}
