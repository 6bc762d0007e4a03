/*
 * e2e_kmem.c - libmemstat's kmem report accessors and `umastat -k`: the
 * figures read through libmemstat are the records' (this process, a
 * child's export socket, a saved file), every truncation or unknown
 * version of a record is refused, and umastat's text, JSON and Prometheus
 * views of both tiers carry the same figures, whose parts add up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memstat.h>
#include <uma/kmem.h>
#include <uma/uma.h>

#include "e2e.h"
#include "harness.h"

#define	NITEMS	5000

static char dir[] = "/tmp/memstat_e2e_kmem.XXXXXX";

/* A workload with items in use, cached and free in slabs. */
static void
workload(void)
{
	static void *p[NITEMS];
	uma_zone_t z = uma_zcreate("e2e_kmem", 200, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	for (int i = 0; i < NITEMS; i++)
		CHECK((p[i] = uma_zalloc(z, M_WAITOK)) != NULL);
	for (int i = 0; i < NITEMS; i += 2)
		uma_zfree(z, p[i]);
}

static void
child(int fd, void *arg)
{
	int ready = 1;

	workload();
	e2e_serve(dir, fd, &ready, sizeof(ready));
}

static int64_t
parts(const struct memstat_kmem *k)
{
	int64_t sum = 0;

	for (int f = MEMSTAT_KMEM_FIRST_PART; f <= MEMSTAT_KMEM_LAST_PART; f++)
		sum += memstat_kmem_get(k, f);
	return (sum);
}

UMA_TEST(memstat_kmem_reads_the_records)
{
	struct memstat_kmem *k = memstat_kmem_alloc();
	struct uma_kmem_stats uks;
	size_t len = sizeof(uks);

	test_tunables_add("vm.uma_timeout=86400,vm.uma_idle_pass_mb=0");
	workload();
	CHECK(memstat_kmem_read(k, memstat_source_self(), 0) == 0);
	CHECK(!memstat_kmem_extended(k));
	CHECK(uma_sysctlbyname("vm.kmem_stats", &uks, &len, NULL, 0) == 0);
	/* Quiet: the two reads agree. */
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_COMMITTED),
	    uks.uks_committed);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_INUSE_ZONES),
	    uks.uks_inuse_zones);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_FREE_KEGS),
	    uks.uks_free_kegs);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_METADATA), uks.uks_metadata);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_OTHER), 0);
	CHECK_EQ(parts(k), memstat_kmem_get(k, MEMSTAT_KMEM_COMMITTED));
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_RECLAIMABLE), 0);
	CHECK_EQ(memstat_kmem_zone_count(k), 0);

	CHECK(memstat_kmem_read(k, memstat_source_self(), 1) == 0);
	CHECK(memstat_kmem_extended(k));
	CHECK(memstat_kmem_get(k, MEMSTAT_KMEM_FRAGMENTATION) > 0);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_AVAILABLE),
	    memstat_kmem_get(k, MEMSTAT_KMEM_RECLAIMABLE) +
	    memstat_kmem_get(k, MEMSTAT_KMEM_FRAGMENTATION) +
	    memstat_kmem_get(k, MEMSTAT_KMEM_LOCKED));
	CHECK(memstat_kmem_zone_count(k) > 10);
	for (size_t i = 0; i < memstat_kmem_zone_count(k); i++)
		if (strcmp(memstat_kmem_zone_name(k, i), "e2e_kmem") == 0)
			CHECK_EQ(memstat_kmem_zone_get(k, i,
			    MEMSTAT_KMEM_Z_USED), NITEMS / 2);
	CHECK(strcmp(memstat_kmem_name(MEMSTAT_KMEM_COMMITTED),
	    "committed") == 0);
	CHECK(strcmp(memstat_kmem_name(MEMSTAT_KMEM_RECLAIM_PCPU),
	    "reclaim_pcpu") == 0);
	CHECK(memstat_kmem_name(MEMSTAT_KMEM_NFIELDS) == NULL);
	CHECK(strcmp(memstat_kmem_zone_field_name(MEMSTAT_KMEM_Z_PAGES),
	    "pages") == 0);
	memstat_kmem_free(k);
}

/* Every prefix, a trailing byte, a wrong version: refused, kmem kept. */
static void
check_refused(const unsigned char *buf, size_t len, int extended)
{
	struct memstat_kmem *k = memstat_kmem_alloc();
	unsigned char *copy = malloc(len + 1);
	int64_t committed;

	CHECK(memstat_kmem_buf(k, buf, len, extended) == 0);
	committed = memstat_kmem_get(k, MEMSTAT_KMEM_COMMITTED);
	for (size_t n = 0; n < len; n++) {
		CHECK(memstat_kmem_buf(k, buf, n, extended) == -1);
		CHECK_EQ(memstat_kmem_geterror(k), MEMSTAT_ERROR_DATAERROR);
	}
	memcpy(copy, buf, len);
	copy[len] = 0;
	CHECK(memstat_kmem_buf(k, copy, len + 1, extended) == -1);
	CHECK_EQ(memstat_kmem_geterror(k), MEMSTAT_ERROR_DATAERROR);
	copy[0] = 2;			/* version 2: not known here */
	CHECK(memstat_kmem_buf(k, copy, len, extended) == -1);
	CHECK_EQ(memstat_kmem_geterror(k), MEMSTAT_ERROR_VERSION);
	/* The other tier's record is not this one. */
	CHECK(memstat_kmem_buf(k, buf, len, !extended) == -1);
	CHECK_EQ(memstat_kmem_get(k, MEMSTAT_KMEM_COMMITTED), committed);
	free(copy);
	memstat_kmem_free(k);
}

UMA_TEST(memstat_kmem_refuses_damaged_records)
{
	struct uma_kmem_stats uks;
	unsigned char *ext;
	size_t len = sizeof(uks);

	workload();
	CHECK(uma_sysctlbyname("vm.kmem_stats", &uks, &len, NULL, 0) == 0);
	check_refused((unsigned char *)&uks, len, 0);
	len = 0;
	CHECK(uma_sysctlbyname("vm.kmem_stats_extended", NULL, &len, NULL,
	    0) == 0);
	len += 4096;
	ext = malloc(len);
	CHECK(uma_sysctlbyname("vm.kmem_stats_extended", ext, &len, NULL,
	    0) == 0);
	check_refused(ext, len, 1);
	/* A zone count the buffer does not hold. */
	((struct uma_kmem_stats_extended *)ext)->ukx_nzones++;
	{
		struct memstat_kmem *k = memstat_kmem_alloc();

		CHECK(memstat_kmem_buf(k, ext, len, 1) == -1);
		CHECK_EQ(memstat_kmem_geterror(k), MEMSTAT_ERROR_DATAERROR);
		memstat_kmem_free(k);
	}
	free(ext);
}

/* umastat's output, which must succeed. */
static char *
umastat(const char *args)
{
	char cmd[512], *out = malloc(1 << 20);
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s", UMASTAT_PATH, args);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while ((n = fread(out + len, 1, (1 << 20) - 1 - len, p)) > 0)
		len += n;
	CHECK(pclose(p) == 0);
	out[len] = '\0';
	return (out);
}

/* The parts of committed in a JSON object of umastat -k add up. */
static void
check_json_parts(const char *json)
{
	static const char *const part[] = { "inuse_zones", "inuse_malloc",
	    "inuse_large", "inuse_contig", "free_pcpu", "free_buckets",
	    "free_kegs", "large_cache", "metadata", "waste", "other" };
	long long sum = 0;

	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		sum += (long long)json_num(json, NULL, part[i]);
	CHECK_EQ(sum, json_num(json, NULL, "committed"));
	CHECK(json_num(json, NULL, "committed") > 0);
}

UMA_TEST(umastat_kmem_from_a_process_and_a_saved_file)
{
	char sock[256], args[600], path[300], *out;
	struct memstat_kmem *live = memstat_kmem_alloc();
	struct memstat_kmem *saved = memstat_kmem_alloc();
	struct memstat_source *src;
	int ready;
	pid_t pid;

	test_tunables_add("vm.uma_timeout=86400,vm.uma_idle_pass_mb=0");
	pid = e2e_start(dir, child, NULL, &ready, sizeof(ready), sock,
	    sizeof(sock));
	out = e2e_umastat(sock, "-k --json");
	CHECK(strstr(out, "{\"kmem-statistics\":{\"tier\":\"cheap\",") ==
	    out);
	check_json_parts(out);
	free(out);
	out = e2e_umastat(sock, "-k -x --json");
	CHECK(strstr(out, "\"tier\":\"extended\"") != NULL);
	CHECK(strstr(out, "\"reclaimable\":") != NULL);
	check_json_parts(out);
	free(out);
	out = e2e_umastat(sock, "-k --extended");
	CHECK(strstr(out, "uma memory, extended tier") == out);
	CHECK(strstr(out, "\n  free_kegs ") != NULL);
	CHECK(strstr(out, "\nfragmentation ") != NULL);
	free(out);
	out = e2e_umastat(sock, "-k -x --prometheus");
	CHECK(strstr(out, "# TYPE uma_kmem_bytes gauge\n") != NULL);
	CHECK(strstr(out, "uma_kmem_bytes{state=\"committed\"} ") != NULL);
	CHECK(strstr(out, "uma_kmem_slabs{state=\"partial\"} ") != NULL);
	free(out);
	/* With -w, the second sample carries each figure's change a second. */
	out = e2e_umastat(sock, "-k --json -w 0.1 -c 2");
	CHECK(strstr(out, "\"rates\":") == NULL ||
	    strstr(out, "\"rates\":") > strchr(out, '\n'));
	CHECK(strstr(strchr(out, '\n'), "\"rates\":{\"reserved\":0.000,") !=
	    NULL);
	free(out);
	out = e2e_umastat(sock, "-k -w 0.1 -c 2");
	CHECK(strstr(out, "PER SECOND") != NULL);
	free(out);
	out = e2e_umastat(sock, "-z -x");
	CHECK(strstr(out, "\ne2e_kmem:") != NULL);
	free(out);
	for (int i = 0; i < 2; i++) {
		int status;

		snprintf(args, sizeof(args), "%s --socket %s %s --prometheus "
		    "| %s", UMASTAT_PATH, sock, i ? "-z -x" : "-k -x",
		    PROMTOOL_CHECK);
		status = system(args);
		if (WEXITSTATUS(status) == 77)
			printf("(promtool absent: not checked)\n");
		else
			CHECK_EQ(status, 0);
	}

	/* Saved, the records read back as they were saved. */
	snprintf(path, sizeof(path), "%s/save", dir);
	snprintf(args, sizeof(args), "--socket %s --save %s", sock, path);
	free(umastat(args));
	CHECK((src = memstat_source_socket(sock)) != NULL);
	CHECK(memstat_kmem_read(live, src, 0) == 0);
	memstat_source_close(src);
	CHECK((src = memstat_source_file(path)) != NULL);
	CHECK(memstat_kmem_read(saved, src, 0) == 0);
	CHECK(memstat_kmem_read(saved, src, 1) == 0);
	memstat_source_close(src);
	/* The child is quiet: its committed memory has not moved. */
	CHECK_EQ(memstat_kmem_get(saved, MEMSTAT_KMEM_COMMITTED),
	    memstat_kmem_get(live, MEMSTAT_KMEM_COMMITTED));
	CHECK_EQ(memstat_kmem_get(saved, MEMSTAT_KMEM_INUSE_ZONES),
	    memstat_kmem_get(live, MEMSTAT_KMEM_INUSE_ZONES));
	snprintf(args, sizeof(args), "-f %s -k -x --json", path);
	out = umastat(args);
	check_json_parts(out);
	free(out);
	memstat_kmem_free(live);
	memstat_kmem_free(saved);
	e2e_stop(pid, dir);
}
