/*
 * prom.c - the Prometheus text that --prometheus and the exporter share
 * (tools/umastat/prom.c), on saved files built by hand: a name that is
 * not valid UTF-8 becomes U+FFFD (Prometheus would reject the whole
 * scrape), valid UTF-8 is kept, quotes and backslashes are escaped, the
 * n-th duplicate of a name is "_n", and -n --prometheus gives netstat
 * -m's figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stream_build.h"

static char prom_dir[] = "/tmp/uma_prom.XXXXXX";

static struct uma_type_header
zone(const char *name, uint32_t size, uint64_t allocs, uint64_t frees)
{
	struct uma_type_header uth;

	memset(&uth, 0, sizeof(uth));
	strncpy(uth.uth_name, name, sizeof(uth.uth_name) - 1);
	uth.uth_size = uth.uth_rsize = size;
	uth.uth_allocs = allocs;
	uth.uth_frees = frees;
	return (uth);
}

/* A saved file of these zones; its path. */
static const char *
save(const struct uma_type_header *uth, int n)
{
	static char path[256];
	struct sb u;
	FILE *f;

	if (strstr(prom_dir, "XXXXXX") != NULL)
		CHECK(mkdtemp(prom_dir) != NULL);
	snprintf(path, sizeof(path), "%s/save", prom_dir);
	sb_uma_start(&u, 1);
	for (int i = 0; i < n; i++)
		sb_zone(&u, &uth[i], NULL);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "umastat-save 1\nvm.zone_stats %zu\n", u.len);
	fwrite(u.buf, 1, u.len, f);
	fputc('\n', f);
	fclose(f);
	free(u.buf);
	return (path);
}

static char *
umastat(const char *args, const char *path)
{
	char cmd[512], *out = malloc(1 << 20);
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s -f %s", UMASTAT_PATH, args, path);
	p = popen(cmd, "r");
	CHECK(p != NULL && out != NULL);
	while ((n = fread(out + len, 1, (1 << 20) - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	CHECK_EQ(pclose(p), 0);
	return (out);
}

UMA_TEST(prom_label_invalid_utf8_becomes_replacement_character)
{
	struct uma_type_header z[4] = {
		zone("bad\xff\xfe", 8, 5, 1),		/* not UTF-8 */
		zone("over\xc0\xaflong", 8, 5, 1),	/* overlong '/' */
		zone("caf\xc3\xa9", 8, 6, 1),		/* valid: kept */
		zone("q\"b\\s", 8, 7, 1),
	};
	char *out = umastat("-z --prometheus", save(z, 4));

	CHECK(strstr(out, "uma_zone_used_items{zone=\"bad\xef\xbf\xbd"
	    "\xef\xbf\xbd\"} 4\n") != NULL);
	CHECK(strstr(out, "uma_zone_used_items{zone=\"over\xef\xbf\xbd"
	    "\xef\xbf\xbdlong\"} 4\n") != NULL);
	CHECK(strstr(out, "uma_zone_used_items{zone=\"caf\xc3\xa9\"} 5\n") !=
	    NULL);
	CHECK(strstr(out, "uma_zone_used_items{zone=\"q\\\"b\\\\s\"} 6\n") !=
	    NULL);
	CHECK(strchr(out, '\xff') == NULL && strstr(out, "\xc0\xaf") == NULL);
	free(out);
}

UMA_TEST(prom_duplicate_names_are_numbered)
{
	struct uma_type_header z[3] = {
		zone("twin", 16, 10, 0), zone("twin", 16, 20, 0),
		zone("twin", 16, 30, 0),
	};
	char *out = umastat("-z --prometheus", save(z, 3));

	CHECK(strstr(out, "uma_zone_requests_total{zone=\"twin\"} 10\n") !=
	    NULL);
	CHECK(strstr(out, "uma_zone_requests_total{zone=\"twin_1\"} 20\n") !=
	    NULL);
	CHECK(strstr(out, "uma_zone_requests_total{zone=\"twin_2\"} 30\n") !=
	    NULL);
	/* One HELP per family, however many zones. */
	CHECK(strstr(strstr(out, "# HELP uma_zone_requests_total ") + 1,
	    "# HELP uma_zone_requests_total ") == NULL);
	free(out);
}

UMA_TEST(prom_mbufs_are_netstat_m_figures)
{
	struct uma_type_header z[6] = {
		zone("mbuf", 256, 100, 60),		/* 40 plain mbufs */
		zone("mbuf_packet", 256, 50, 20),	/* 30 packets */
		zone("mbuf_cluster", 2048, 70, 0),	/* 30 + 40 alone */
		zone("mbuf_jumbo_page", 4096, 0, 0),
		zone("mbuf_jumbo_9k", 9216, 0, 0),
		zone("mbuf_jumbo_16k", 16384, 0, 0),
	};
	char *out;

	z[1].uth_zone_flags = UTH_ZONE_SECONDARY;
	out = umastat("-n --prometheus", save(z, 6));
	CHECK(strstr(out, "# TYPE uma_mbufs gauge\n") != NULL);
	CHECK(strstr(out, "uma_mbufs{state=\"in_use\"} 70\n") != NULL);
	CHECK(strstr(out, "uma_mbuf_clusters{state=\"in_use\"} 70\n") != NULL);
	/* 40 mbufs, 30 packets (mbuf and cluster), 40 lone clusters:
	 * 40 * 256 + 30 * (256 + 2048) + 40 * 2048. */
	CHECK(strstr(out, "uma_mbuf_bytes{state=\"in_use\"} 161280\n") !=
	    NULL);
	free(out);
}
