/*
 * cli.c - umastat's views on saved files built by hand: the vmstat -z
 * layout byte for byte, JSON, Prometheus (checked by promtool and by a
 * strict line checker), vmstat -m sizes from the size-class table,
 * netstat -m never printing a wrapped negative, and the file container
 * refusing damaged files.
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

static void
save_file(const char *path, const struct sb *uma, const struct sb *mal)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	fprintf(f, "umastat-save 1\nvm.zone_stats %zu\n", uma->len);
	fwrite(uma->buf, 1, uma->len, f);
	fputc('\n', f);
	if (mal != NULL) {
		fprintf(f, "kern.malloc_stats %zu\n", mal->len);
		fwrite(mal->buf, 1, mal->len, f);
		fputc('\n', f);
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
    "FAILSLEEP XDOMAIN\n\n"
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
	CHECK(strstr(out, "         Type InUse MemUse HighUse Requests  "
	    "Size(s)\n") == out);
	CHECK(strstr(out, "       devbuf    10     4K       -       12  "
	    "16,384\n") != NULL);
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
	long len, boundary;

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
	/* A cut right after the uma section leaves a valid file. */
	boundary = (long)((char *)memmem(buf, (size_t)len, "kern.malloc_stats", 17) - buf);
	for (long cut = 0; cut < len; cut++) {
		if (cut == boundary)
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
