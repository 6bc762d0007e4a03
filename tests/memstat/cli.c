/*
 * cli.c - umastat's views on saved files built by hand: FreeBSD 14's
 * vmstat -z, vmstat -m and netstat -m layouts and libxo JSON names byte
 * for byte, Prometheus (checked by promtool and by a strict line
 * checker), vmstat -m sizes from the file's size-class table, netstat -m
 * never printing a wrapped negative, and the file container refusing
 * damaged files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memstat.h>

#include "harness.h"
#include "stream_build.h"

static char tmpdir[] = "/tmp/memstat_cli.XXXXXX";

static struct uma_type_header
zone(const char *name, uint32_t size, uint32_t limit, uint64_t allocs,
    uint64_t frees, uint32_t kegfree, int secondary)
{
	struct uma_type_header uth;

	memset(&uth, 0, sizeof(uth));
	strncpy(uth.uth_name, name, sizeof(uth.uth_name) - 1);
	uth.uth_size = uth.uth_rsize = size;
	uth.uth_limit = limit;
	uth.uth_allocs = allocs;
	uth.uth_frees = frees;
	uth.uth_keg_free = kegfree;
	uth.uth_zone_flags = secondary ? UTH_ZONE_SECONDARY : 0;
	return (uth);
}

/*
 * The size-class table a saved file carries (vm.malloc.zone_sizes): here
 * that of a uma with 44 classes, before 1152, 2304, 4608 and 9216 came.
 * A saved file is read with its own table, whatever the reader's.
 */
static const int32_t uma_classes[44] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448,
	512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584,
	4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384, 20480,
	24576, 28672, 32768, 40960, 49152, 57344, 65536,
};

static void
save_section(FILE *f, const char *name, const void *buf, size_t len)
{
	fprintf(f, "%s %zu\n", name, len);
	fwrite(buf, 1, len, f);
	fputc('\n', f);
}

/* A saved file: the streams, and uma's size-class table with malloc. */
static void
save_file(const char *path, const struct sb *uma, const struct sb *mal)
{
	int32_t count = 44;
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	fprintf(f, "umastat-save 1\n");
	save_section(f, "vm.zone_stats", uma->buf, uma->len);
	if (mal != NULL) {
		save_section(f, "kern.malloc_stats", mal->buf, mal->len);
		save_section(f, "vm.malloc.zone_count", &count, sizeof(count));
		save_section(f, "vm.malloc.zone_sizes", uma_classes,
		    sizeof(uma_classes));
	}
	fclose(f);
}

/* Run umastat with `args`; its stdout in a malloc'ed string. */
static char *
run(const char *args, int *status)
{
	char cmd[1024], *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s", UMASTAT_PATH, args);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
	}
	*status = pclose(p);
	if (out == NULL)
		out = calloc(1, 1);
	out[len] = '\0';
	return (out);
}

static char *
setup(void)
{
	static char path[256];
	struct sb u, m;
	struct uma_type_header uth;
	struct malloc_type_stats s[2] = {
		{ .mts_memalloced = 4096, .mts_numallocs = 12,
		  .mts_numfrees = 2, .mts_size = (1 << 5) | (1 << 0) },
		{ 0 },
	};

	if (strstr(tmpdir, "XXXXXX") != NULL)
		CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(path, sizeof(path), "%s/save", tmpdir);
	sb_uma_start(&u, 2);
	uth = zone("mbuf_cluster", 2048, 25600, 3053398, 3050567, 511, 0);
	sb_zone(&u, &uth, NULL);
	uth = zone("we\"ird\\zone", 64, 0, 10, 4, 0, 0);
	sb_zone(&u, &uth, NULL);
	sb_malloc_start(&m, 2);
	sb_mtype(&m, "devbuf", s);
	sb_mtype(&m, "unused", NULL);
	save_file(path, &u, &m);
	free(u.buf);
	free(m.buf);
	return (path);
}

static const char zones_expect[] =
    "ITEM                   SIZE  LIMIT     USED     FREE      REQ     "
    "FAILSLEEP XDOMAIN\n"
    "mbuf_cluster:          2048,  25600,    2831,     511, 3053398,"
    "   0,   0,   0\n";

UMA_TEST(umastat_zones_vmstat_format)
{
	char args[512], *out;
	int status;

	snprintf(args, sizeof(args), "-z -f %s", setup());
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK(strncmp(out, zones_expect, strlen(zones_expect)) == 0);
	CHECK(strstr(out, "we\"ird\\zone:") != NULL);
	free(out);
}

UMA_TEST(umastat_zones_json_keys)
{
	char args[512], *out;
	int status;

	snprintf(args, sizeof(args), "-z --json -f %s", setup());
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK(strstr(out, "{\"name\":\"mbuf_cluster\",\"size\":2048,"
	    "\"limit\":25600,\"used\":2831,\"free\":511,\"requests\":3053398,"
	    "\"fail\":0,\"sleep\":0,") != NULL);
	CHECK(strstr(out, "\"name\":\"we\\\"ird\\\\zone\"") != NULL);
	free(out);
}

/* Prometheus text format 0.0.4, strictly: HELP/TYPE before samples. */
static void
prom_strict(const char *text)
{
	char name[128] = "", *copy = strdup(text), *line, *save = NULL;
	int typed = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char metric[128], type[32];

		if (sscanf(line, "# HELP %127s", metric) == 1) {
			CHECK(strncmp(metric, "uma_", 4) == 0);
			snprintf(name, sizeof(name), "%s", metric);
			typed = 0;
		} else if (sscanf(line, "# TYPE %127s %31s", metric, type) ==
		    2) {
			CHECK(strcmp(metric, name) == 0);
			CHECK(strcmp(type, "gauge") == 0 ||
			    strcmp(type, "counter") == 0);
			if (strcmp(type, "counter") == 0)
				CHECK(strstr(metric, "_total") ==
				    metric + strlen(metric) - 6);
			typed = 1;
		} else {
			const char *v;

			CHECK(typed);
			CHECK(strncmp(line, name, strlen(name)) == 0);
			CHECK(line[strlen(name)] == '{');
			v = strrchr(line, ' ');
			CHECK(v != NULL && v[-1] == '}');
			CHECK(strspn(v + 1, "0123456789") == strlen(v + 1));
		}
	}
	free(copy);
}

UMA_TEST(umastat_prometheus_valid)
{
	char args[512], *out;
	int status;

	snprintf(args, sizeof(args), "-z --prometheus -f %s", setup());
	out = run(args, &status);
	CHECK_EQ(status, 0);
	prom_strict(out);
	CHECK(strstr(out, "uma_zone_requests_total{zone=\"mbuf_cluster\"} "
	    "3053398\n") != NULL);
	CHECK(strstr(out, "zone=\"we\\\"ird\\\\zone\"") != NULL);
	free(out);
	snprintf(args, sizeof(args), "-m --prometheus -f %s/save", tmpdir);
	out = run(args, &status);
	CHECK_EQ(status, 0);
	prom_strict(out);
	free(out);
}

UMA_TEST(umastat_prometheus_promtool_accepts)
{
	char cmd[1024];
	int status;

	snprintf(cmd, sizeof(cmd), "%s -z --prometheus -f %s | %s",
	    UMASTAT_PATH, setup(), PROMTOOL_CHECK);
	status = system(cmd);
	CHECK(WIFEXITED(status));
	if (WEXITSTATUS(status) == UMA_TEST_SKIP_CODE)
		SKIP("promtool is not installed (apt-get install prometheus)");
	CHECK_EQ(WEXITSTATUS(status), 0);
	snprintf(cmd, sizeof(cmd), "%s -m --prometheus -f %s/save | %s",
	    UMASTAT_PATH, tmpdir, PROMTOOL_CHECK);
	CHECK_EQ(system(cmd), 0);
}

UMA_TEST(umastat_malloc_vmstat_m_sizes)
{
	char args[512], *out;
	int status;

	snprintf(args, sizeof(args), "-m -f %s", setup());
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK(strstr(out, "         Type InUse MemUse Requests  "
	    "Size(s)\n") == out);
	/* Bits 0 and 5 are uma's classes 16 and 96 (FreeBSD's 16, 384). */
	CHECK(strstr(out, "       devbuf    10     4K       12  "
	    "16,96\n") != NULL);
	CHECK(strstr(out, "unused") == NULL);
	free(out);
}

UMA_TEST(umastat_mbuf_never_negative)
{
	static const char *const names[] = { "mbuf", "mbuf_packet",
	    "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k",
	    "mbuf_jumbo_16k" };
	char path[300], args[512], *out;
	struct uma_type_header uth;
	struct sb u;
	int status;

	(void)setup();
	snprintf(path, sizeof(path), "%s/mbuf", tmpdir);
	sb_uma_start(&u, 1);
	for (int i = 0; i < 6; i++) {
		uth = zone(names[i], i == 2 ? 2048 : 256, 0, 10, 5, 0, i == 1);
		if (i == 1)
			uth.uth_zone_free = 100;   /* packet_free > clusters */
		sb_zone(&u, &uth, NULL);
	}
	save_file(path, &u, NULL);
	snprintf(args, sizeof(args), "-n -f %s", path);
	out = run(args, &status);
	CHECK_EQ(status, 0);
	CHECK(strstr(out, "0/100/5/0 mbuf clusters in use") != NULL);
	CHECK(strstr(out, "1844674") == NULL);
	free(out);
	free(u.buf);
	/* Without the mbuf zones: a message, not a crash. */
	snprintf(args, sizeof(args), "-n -f %s 2>&1", setup());
	out = run(args, &status);
	CHECK(status != 0);
	CHECK(strstr(out, "no mbuf allocator") != NULL);
	free(out);
}

UMA_TEST(umastat_file_roundtrip_and_damage)
{
	struct memory_type_list *list = memstat_mtl_alloc();
	const char *path = setup();
	char copy[300];
	FILE *f;
	char *buf;
	long len;

	CHECK(memstat_file_all(list, path, 0) == 0);
	CHECK(memstat_mtl_find(list, ALLOCATOR_UMA, "mbuf_cluster") != NULL);
	CHECK(memstat_mtl_find(list, ALLOCATOR_MALLOC, "devbuf") != NULL);
	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	snprintf(copy, sizeof(copy), "%s/cut", tmpdir);
	for (long cut = 0; cut < len; cut++) {
		/* A cut between sections after the uma one is a valid file. */
		if (cut > 0 && buf[cut - 1] == '\n' &&
		    (strncmp(buf + cut, "kern.", 5) == 0 ||
		    strncmp(buf + cut, "vm.malloc.", 10) == 0))
			continue;
		f = fopen(copy, "w");
		fwrite(buf, 1, (size_t)cut, f);
		fclose(f);
		CHECK(memstat_file_uma(list, copy, 0) == -1);
		CHECK(memstat_mtl_geterror(list) != 0);
	}
	CHECK(memstat_file_uma(list, "/nonexistent/file", 0) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_NOSOURCE);
	free(buf);
	memstat_mtl_free(list);
}

UMA_TEST(memstat_no_uma_in_process_is_nosource)
{
	struct memory_type_list *list = memstat_mtl_alloc();

	/* This test program does not link libuma. */
	CHECK(memstat_sysctl_uma(list, 0) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_NOSOURCE);
	CHECK(memstat_pid_uma(list, 999999999, 0) == -1);
	CHECK_EQ(memstat_mtl_geterror(list), MEMSTAT_ERROR_NOSOURCE);
	memstat_mtl_free(list);
}

/*
 * The mbuf zones and two malloc types with known figures, in a saved file
 * with uma's size-class table.  devbuf used uma's classes 112, 320, 640
 * and 5120 (bits 6, 12, 16, 28), which FreeBSD's table would print as
 * other sizes; mbuf_packet holds 240 of mbuf_cluster's 450 clusters.
 */
static const char *
formats_file(void)
{
	static const char *const names[6] = { "mbuf", "mbuf_packet",
	    "mbuf_cluster", "mbuf_jumbo_page", "mbuf_jumbo_9k",
	    "mbuf_jumbo_16k" };
	static const uint32_t size[6] = { 256, 256, 2048, 4096, 9216, 16384 };
	static const uint32_t limit[6] = { 0, 0, 25600, 12800, 6400, 3200 };
	static const uint64_t allocs[6] = { 1000, 300, 500, 8, 0, 1 };
	static const uint64_t frees[6] = { 400, 100, 50, 3, 0, 0 };
	static const uint32_t kegfree[6] = { 20, 0, 10, 2, 0, 0 };
	static const uint32_t zonefree[6] = { 30, 40, 0, 0, 0, 0 };
	static char path[300];
	struct malloc_type_stats tag = { .mts_memalloced = 96,
	    .mts_memfreed = 32, .mts_numallocs = 3, .mts_numfrees = 1,
	    .mts_size = 1 << 1 };
	struct malloc_type_stats dev = { .mts_memalloced = 112 + 320 + 640 +
	    5120, .mts_numallocs = 4, .mts_size = (1 << 6) | (1 << 12) |
	    (1 << 16) | (1 << 28) };
	struct uma_type_header uth;
	struct sb u, m;

	(void)setup();
	snprintf(path, sizeof(path), "%s/formats", tmpdir);
	sb_uma_start(&u, 1);
	for (int i = 0; i < 6; i++) {
		uth = zone(names[i], size[i], limit[i], allocs[i], frees[i],
		    kegfree[i], i == 1);
		uth.uth_zone_free = zonefree[i];
		if (i == 5) {
			uth.uth_fails = 2;
			uth.uth_sleeps = 1;
		}
		sb_zone(&u, &uth, NULL);
	}
	sb_malloc_start(&m, 1);
	sb_mtype(&m, "mbuf_tag", &tag);
	sb_mtype(&m, "devbuf", &dev);
	save_file(path, &u, &m);
	free(u.buf);
	free(m.buf);
	return (path);
}

/* umastat `view` on the formats file prints exactly `expect`. */
static void
check_output(const char *view, const char *expect)
{
	char args[512], *out;
	int status;

	snprintf(args, sizeof(args), "%s -f %s", view, formats_file());
	out = run(args, &status);
	CHECK_EQ(status, 0);
	if (strcmp(out, expect) != 0)
		fprintf(stderr, "umastat %s printed:\n%s\nwanted:\n%s\n", view,
		    out, expect);
	CHECK(strcmp(out, expect) == 0);
	free(out);
}

/* vmstat.c of FreeBSD 14: "%-20s %6s %6s %8s %8s %8s %8s%4s %4s\n". */
UMA_TEST(umastat_zones_is_freebsd14_vmstat_z)
{
	check_output("-z",
	    "ITEM                   SIZE  LIMIT     USED     FREE      REQ"
	    "     FAILSLEEP XDOMAIN\n"
	    "mbuf:                   256,      0,     600,      50,    1000,"
	    "   0,   0,   0\n"
	    "mbuf_packet:            256,      0,     200,      40,     300,"
	    "   0,   0,   0\n"
	    "mbuf_cluster:          2048,  25600,     450,      10,     500,"
	    "   0,   0,   0\n"
	    "mbuf_jumbo_page:       4096,  12800,       5,       2,       8,"
	    "   0,   0,   0\n"
	    "mbuf_jumbo_9k:         9216,   6400,       0,       0,       0,"
	    "   0,   0,   0\n"
	    "mbuf_jumbo_16k:       16384,   3200,       1,       0,       1,"
	    "   2,   1,   0\n");
}

/* vmstat.c of FreeBSD 13 and 14: no HighUse, sizes from the table. */
UMA_TEST(umastat_malloc_is_freebsd14_vmstat_m)
{
	check_output("-m",
	    "         Type InUse MemUse Requests  Size(s)\n"
	    "     mbuf_tag     2     1K        3  32\n"
	    "       devbuf     4     7K        4  112,320,640,5120\n");
	check_output("-m --json",
	    "{\"malloc-statistics\":{\"memory\":[\n"
	    "{\"type\":\"mbuf_tag\",\"in-use\":2,\"memory-use\":1,"
	    "\"requests\":3,\"size\":[32],\"frees\":1,\"bytes\":64},\n"
	    "{\"type\":\"devbuf\",\"in-use\":4,\"memory-use\":7,"
	    "\"requests\":4,\"size\":[112,320,640,5120],\"frees\":0,"
	    "\"bytes\":6192}\n]}}\n");
}

/* netstat/mbuf.c of FreeBSD 14, text and libxo names, in its order. */
UMA_TEST(umastat_mbuf_is_freebsd14_netstat_m)
{
	check_output("-n",
	    "800/90/890 mbufs in use (current/cache/total)\n"
	    "410/50/460/25600 mbuf clusters in use (current/cache/total/max)\n"
	    "200/40 mbuf+clusters out of packet secondary zone in use "
	    "(current/cache)\n"
	    "5/2/7/12800 4k (page size) jumbo clusters in use "
	    "(current/cache/total/max)\n"
	    "0/0/0/6400 9k jumbo clusters in use (current/cache/total/max)\n"
	    "1/0/1/3200 16k jumbo clusters in use (current/cache/total/max)\n"
	    "1056K/130K/1186K bytes allocated to network "
	    "(current/cache/total)\n"
	    "0/0/0 requests for mbufs denied (mbufs/clusters/mbuf+clusters)\n"
	    "0/0/0 requests for mbufs delayed (mbufs/clusters/mbuf+clusters)\n"
	    "0/0/1 requests for jumbo clusters delayed (4k/9k/16k)\n"
	    "0/0/2 requests for jumbo clusters denied (4k/9k/16k)\n");
	check_output("-n --json",
	    "{\"mbuf-statistics\":{\"mbuf-current\":800,\"mbuf-cache\":90,"
	    "\"mbuf-total\":890,\"cluster-current\":410,\"cluster-cache\":50,"
	    "\"cluster-total\":460,\"cluster-max\":25600,\"packet-count\":200,"
	    "\"packet-free\":40,\"jumbo-count\":5,\"jumbo-cache\":2,"
	    "\"jumbo-total\":7,\"jumbo-max\":12800,\"jumbo-page-size\":4,"
	    "\"jumbo9-count\":0,\"jumbo9-cache\":0,\"jumbo9-total\":0,"
	    "\"jumbo9-max\":6400,\"jumbo16-count\":1,\"jumbo16-cache\":0,"
	    "\"jumbo16-total\":1,\"jumbo16-limit\":3200,\"bytes-in-use\":1056,"
	    "\"bytes-in-cache\":130,\"bytes-total\":1186,\"mbuf-failures\":0,"
	    "\"cluster-failures\":0,\"packet-failures\":0,\"mbuf-sleeps\":0,"
	    "\"cluster-sleeps\":0,\"packet-sleeps\":0,\"jumbop-sleeps\":0,"
	    "\"jumbo9-sleeps\":0,\"jumbo16-sleeps\":1,\"jumbop-failures\":0,"
	    "\"jumbo9-failures\":0,\"jumbo16-failures\":2}}\n");
}
