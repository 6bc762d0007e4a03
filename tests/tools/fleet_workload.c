/*
 * fleet_workload.c - a uma process that holds still: it allocates a known
 * number of items and buffers, serves its statistics (uma_export_start,
 * in $UMA_EXPORT_DIR), prints "ready" and then waits for its stdin to
 * close, so that whoever reads it sees exactly what it holds.
 *
 *   fleet_workload ITEMS BUFS [PACKETS]
 *
 * Zone fleet_big holds ITEMS items of FLEET_BIG_SIZE bytes, zone
 * fleet_aaa FLEET_AAA_ITEMS of 64 (less memory, first by name), malloc
 * type fleet_buf BUFS buffers of FLEET_BUF_SIZE bytes (a size class, so
 * its bytes are BUFS * FLEET_BUF_SIZE); with PACKETS, that many packets
 * (an mbuf and a 2k cluster each, m_getcl).  A line "churn N" on stdin
 * allocates and frees N items of fleet_aaa, then prints "done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uma/malloc.h>
#include <uma/mbuf.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "fleet.h"

MALLOC_DEFINE(M_FLEET, "fleet_buf", "fleet test buffers");

int
main(int argc, char **argv)
{
	uma_zone_t big, aaa;
	long items, bufs, packets;
	char line[128];
	int error;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fleet_workload ITEMS BUFS [PACKETS]\n");
		return (2);
	}
	items = atol(argv[1]);
	bufs = atol(argv[2]);
	packets = argc == 4 ? atol(argv[3]) : 0;
	big = uma_zcreate("fleet_big", FLEET_BIG_SIZE, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	aaa = uma_zcreate("fleet_aaa", 64, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	for (long i = 0; i < items; i++)
		if (uma_zalloc(big, M_WAITOK) == NULL)
			return (3);
	for (long i = 0; i < FLEET_AAA_ITEMS; i++)
		if (uma_zalloc(aaa, M_WAITOK) == NULL)
			return (3);
	for (long i = 0; i < bufs; i++)
		if (uma_malloc(FLEET_BUF_SIZE, M_FLEET, M_WAITOK) == NULL)
			return (3);
	if (packets > 0)
		mbuf_init();
	for (long i = 0; i < packets; i++)
		if (m_getcl(M_WAITOK, MT_DATA, M_PKTHDR) == NULL)
			return (3);
	if ((error = uma_export_start(NULL)) != 0) {
		fprintf(stderr, "fleet_workload: uma_export_start: %s\n",
		    strerror(error));
		return (4);
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		long n;

		if (sscanf(line, "churn %ld", &n) != 1)
			continue;
		for (long i = 0; i < n; i++)
			uma_zfree(aaa, uma_zalloc(aaa, M_WAITOK));
		printf("done\n");
		fflush(stdout);
	}
	return (0);
}
