/*
 * sysctl.c - the sysctl tree behaves as sysctlbyname(3): size probes,
 * ENOMEM with the size needed, ENOENT, EPERM, EINVAL with nothing changed;
 * zone nodes follow zones with FreeBSD's name mangling; every listed node
 * can be read; bad UMA_TUNABLES entries are reported and ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"
#include "stats.h"

static int
get_int(const char *name)
{
	int v = -12345;
	size_t len = sizeof(v);

	CHECK(uma_sysctlbyname(name, &v, &len, NULL, 0) == 0);
	CHECK_EQ(len, sizeof(v));
	return (v);
}

static uint64_t
get_u64(const char *name)
{
	uint64_t v = 0;
	size_t len = sizeof(v);

	CHECK(uma_sysctlbyname(name, &v, &len, NULL, 0) == 0);
	CHECK_EQ(len, sizeof(v));
	return (v);
}

static int
fails_with(int err, const char *name, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen)
{
	errno = 0;
	return (uma_sysctlbyname(name, oldp, oldlenp, newp, newlen) == -1 &&
	    errno == err);
}

UMA_TEST(sysctl_size_probe_and_short_buffer)
{
	uma_zone_t z = uma_zcreate("probe zone", 40, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);
	char name[8];
	size_t len = 0;

	CHECK(uma_sysctlbyname("vm.zone_count", NULL, &len, NULL, 0) == 0);
	CHECK_EQ(len, sizeof(int));
	CHECK(uma_sysctlbyname("vm.uma.probe_zone.keg.name", NULL, &len,
	    NULL, 0) == 0);
	CHECK_EQ(len, sizeof("probe zone"));
	len = sizeof(name);
	CHECK(fails_with(ENOMEM, "vm.uma.probe_zone.keg.name", name, &len,
	    NULL, 0));
	CHECK_EQ(len, sizeof("probe zone"));
	len = 2;
	CHECK(fails_with(ENOMEM, "vm.zone_count", name, &len, NULL, 0));
	CHECK_EQ(len, sizeof(int));
	CHECK_EQ(get_int("kern.smp.maxcpus"), uma__ncpus());
	CHECK_EQ(get_int("kern.smp.maxid"), uma__ncpus() - 1);
	CHECK_EQ(get_int("vm.zone_count"), uma__zone_count(1));
	CHECK_EQ(get_int("vm.uma.probe_zone.size"), 40);
	uma_zdestroy(z);
	CHECK(fails_with(ENOENT, "vm.uma.probe_zone.size", NULL, &len, NULL,
	    0));
}

/*
 * uma's CPU count is the kernel's possible CPUs (the largest number in
 * /sys/devices/system/cpu/possible, plus one), which covers every CPU
 * glibc counts as configured.
 */
UMA_TEST(sysctl_maxcpus_covers_every_possible_cpu)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int lo, hi, last = -1;
	char buf[256], *p;

	CHECK(uma__ncpus() >= get_nprocs_conf());
	if (f == NULL)
		SKIP("no /sys/devices/system/cpu/possible to compare with");
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	for (p = buf; p != NULL; p = strchr(p, ','), p = p ? p + 1 : p) {
		if (sscanf(p, "%d-%d", &lo, &hi) != 2) {
			CHECK(sscanf(p, "%d", &lo) == 1);
			hi = lo;
		}
		last = hi > last ? hi : last;
	}
	CHECK_EQ(uma__ncpus(), last + 1);
	CHECK_EQ(get_int("kern.smp.maxcpus"), last + 1);
}

UMA_TEST(sysctl_unknown_names_are_enoent)
{
	size_t len = 0;

	uma_zdestroy(uma_zcreate("z", 16, NULL, NULL, NULL, NULL, 0, 0));
	CHECK(fails_with(ENOENT, "vm.nope", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm.uma", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm.uma.", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm.uma.UMA_Zones", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm.uma.UMA_Zones.nope", NULL, &len, NULL,
	    0));
	CHECK(fails_with(ENOENT, "vm.uma.nozone.size", NULL, &len, NULL, 0));
	CHECK(fails_with(ENOENT, "vm.uma.UMA_Zones_1.size", NULL, &len, NULL,
	    0));
	CHECK(fails_with(ENOENT, "", NULL, &len, NULL, 0));
}

UMA_TEST(sysctl_readonly_is_eperm_bad_value_is_einval)
{
	uma_zone_t z = uma_zcreate("w", 64, NULL, NULL, NULL, NULL, 0, 0);
	int v = 3;
	uint64_t u = 7;

	CHECK(fails_with(EPERM, "vm.zone_count", NULL, NULL, &v, sizeof(v)));
	CHECK(fails_with(EPERM, "vm.uma_timeout", NULL, NULL, &v, sizeof(v)));
	CHECK(fails_with(EPERM, "vm.zone_stats", NULL, NULL, &v, sizeof(v)));
	CHECK(fails_with(EPERM, "vm.uma.w.stats.allocs", NULL, NULL, &u,
	    sizeof(u)));
	CHECK(fails_with(EPERM, "vm.uma.w.size", NULL, NULL, &v, sizeof(v)));

	CHECK_EQ(get_int("vm.zone_warnings"), 1);
	v = 5;
	CHECK(fails_with(EINVAL, "vm.zone_warnings", NULL, NULL, &v,
	    sizeof(v)));
	CHECK(fails_with(EINVAL, "vm.zone_warnings", NULL, NULL, &v, 2));
	CHECK_EQ(get_int("vm.zone_warnings"), 1);
	v = 0;
	CHECK(uma_sysctlbyname("vm.zone_warnings", NULL, NULL, &v,
	    sizeof(v)) == 0);
	CHECK_EQ(get_int("vm.zone_warnings"), 0);

	u = 1000;
	CHECK(uma_sysctlbyname("vm.uma.w.limit.max_items", NULL, NULL, &u,
	    sizeof(u)) == 0);
	CHECK_EQ(uma_zone_get_max(z), 1000);
	CHECK_EQ(get_u64("vm.uma.w.limit.max_items"), 1000);
	u = 1ull << 40;
	CHECK(fails_with(EINVAL, "vm.uma.w.limit.max_items", NULL, NULL, &u,
	    sizeof(u)));
	CHECK(fails_with(EINVAL, "vm.uma.w.limit.max_items", NULL, NULL, &u,
	    4));
	CHECK_EQ(uma_zone_get_max(z), 1000);
	uma_zdestroy(z);
}

UMA_TEST(sysctl_zone_names_mangled_and_deduplicated)
{
	uma_zone_t a = uma_zcreate("a.b", 16, NULL, NULL, NULL, NULL, 0, 0);
	uma_zone_t b = uma_zcreate("a b", 32, NULL, NULL, NULL, NULL, 0, 0);
	uma_zone_t c = uma_zcreate("a-b", 48, NULL, NULL, NULL, NULL, 0, 0);
	uma_zone_t d = uma_zcreate("a/b\\x", 64, NULL, NULL, NULL, NULL, 0, 0);
	void *p = uma_zalloc(b, M_WAITOK);

	CHECK_EQ(get_int("vm.uma.a_b.size"), 16);
	CHECK_EQ(get_int("vm.uma.a_b_1.size"), 32);
	CHECK_EQ(get_int("vm.uma.a_b_2.size"), 48);
	CHECK_EQ(get_int("vm.uma.a_b_x.size"), 64);
	CHECK_EQ(get_u64("vm.uma.a_b_1.stats.allocs"), 1);
	CHECK_EQ(get_u64("vm.uma.a_b_1.stats.current"), 1);
	CHECK_EQ(get_u64("vm.uma.a_b.stats.allocs"), 0);
	uma_zfree(b, p);
	CHECK_EQ(get_u64("vm.uma.a_b_1.stats.frees"), 1);
	uma_zdestroy(a);	/* "a b" is now the first: a_b */
	CHECK_EQ(get_int("vm.uma.a_b.size"), 32);
	uma_zdestroy(b);
	uma_zdestroy(c);
	uma_zdestroy(d);
}

struct list_ctx {
	int	nodes;
	int	zone_nodes;
	int	bad;
	int	seen_stats;
};

static int
list_one(const struct uma_sysctl_info *info, void *arg)
{
	struct list_ctx *lc = arg;
	char buf[256];
	size_t len = 0;

	lc->nodes++;
	if (strncmp(info->name, "vm.uma.listed_zone.", 19) == 0)
		lc->zone_nodes++;
	if (strcmp(info->name, "vm.zone_stats") == 0)
		lc->seen_stats = info->type == UMA_CTLTYPE_OPAQUE &&
		    strcmp(info->fmt, "S,uma_type_header") == 0;
	if (info->descr == NULL || info->type < UMA_CTLTYPE_INT ||
	    info->type > UMA_CTLTYPE_OPAQUE || !(info->flags & UMA_CTLFLAG_RD))
		lc->bad++;
	else if (uma_sysctlbyname(info->name, NULL, &len, NULL, 0) != 0)
		lc->bad++;
	else if (info->type != UMA_CTLTYPE_OPAQUE) {
		len = sizeof(buf);
		if (uma_sysctlbyname(info->name, buf, &len, NULL, 0) != 0 ||
		    len != (info->type == UMA_CTLTYPE_INT ? sizeof(int) :
		    info->type == UMA_CTLTYPE_U64 ? 8 : strlen(buf) + 1))
			lc->bad++;
	}
	return (0);
}

UMA_TEST(sysctl_every_listed_node_reads)
{
	uma_zone_t z = uma_zcreate("listed zone", 100, NULL, NULL, NULL, NULL,
	    0, 0);
	struct list_ctx lc = { 0 };

	CHECK(uma_sysctl_list(list_one, &lc) == 0);
	CHECK(lc.bad == 0);
	CHECK(lc.seen_stats);
	CHECK_EQ(lc.zone_nodes, 21);
	CHECK(lc.nodes >= 21 * uma__zone_count(1) + 10);
	uma_zdestroy(z);
}

/*
 * In a child: UMA_TUNABLES with good and bad entries, stderr to a file.
 * Exits 0 if the good entries took effect and the bad ones did not.
 */
static int
tunables_child(const char *tunables, const char *errpath)
{
	int v;
	size_t len = sizeof(v);

	if (freopen(errpath, "w", stderr) == NULL)
		return (2);
	setenv("UMA_TUNABLES", tunables, 1);
	uma_zdestroy(uma_zcreate("t", 16, NULL, NULL, NULL, NULL, 0, 0));
	fflush(stderr);
	if (uma_sysctlbyname("vm.uma_timeout", &v, &len, NULL, 0) != 0 ||
	    v != 7)
		return (3);
	if (uma_sysctlbyname("vm.zone_warnings", &v, &len, NULL, 0) != 0 ||
	    v != 0)
		return (4);
	if (uma_sysctlbyname("vm.uma_arena_gb", &v, &len, NULL, 0) != 0 ||
	    v != 64)
		return (5);
	if (uma_sysctlbyname("vm.uma_rseq", &v, &len, NULL, 0) != 0 ||
	    v != 1)
		return (6);
	return (0);
}

UMA_TEST(sysctl_bad_tunables_reported_and_ignored)
{
	char path[] = "/tmp/uma-tunables-XXXXXX", log[4096];
	const char *want[] = {
		"\"garbage\" is not name=value",
		"\"=5\" is not name=value",
		"\"no.such.node=1\": no such node",
		"\"vm.zone_count=3\": not a boot tunable",
		"\"vm.uma_rseq=2\": out of range",
		"\"vm.uma_arena_gb=abc\": not an integer",
		"\"vm.uma_arena_gb=99999999999\": out of range",
		"\"vm.uma.t.size=1\": no such node",
	};
	int fd = mkstemp(path), status;
	pid_t pid;
	ssize_t n;

	CHECK(fd >= 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(tunables_child("garbage,vm.uma_timeout=7,=5,"
		    "no.such.node=1,vm.zone_count=3,,vm.uma_rseq=2,"
		    "vm.uma_arena_gb=abc,vm.zone_warnings=0,"
		    "vm.uma_arena_gb=99999999999,vm.uma.t.size=1", path));
	CHECK(waitpid(pid, &status, 0) == pid);
	n = read(fd, log, sizeof(log) - 1);
	CHECK(n > 0);
	log[n] = '\0';
	close(fd);
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "child status %d, stderr:\n%s", status, log);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(log, want[i]) == NULL)
			fprintf(stderr, "missing \"%s\" in:\n%s", want[i], log);
		CHECK(strstr(log, want[i]) != NULL);
	}
	CHECK(strstr(log, "vm.uma_timeout") == NULL);
	CHECK(strstr(log, "vm.zone_warnings") == NULL);
}
