/*
 * tunable.c - boot tunables: UMA_TUNABLES="name=value,..." applied to the
 * sysctl tree once, before the first zone, as FreeBSD's loader sets its
 * tunables.
 *
 * Layer: between the environment and sysctl.c; runs inside uma's startup,
 * so it must not touch zones (the vm.uma.* subtree is never a tunable).
 * Every entry is checked against the tree: an entry that is not
 * name=value, names no node, names a node that is not a boot tunable, or
 * has a value the node refuses is reported on stderr with the reason and
 * ignored.  Also owns the tunables of layers that only read them once
 * (uma__tunable_int), so that the tree shows the values in force.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysctl_int.h"
#include "uma_int.h"

#define	TUNABLES_MAX	4096
#define	TUNABLES_SET	64

static const struct uma__sysctl_oid *tunables_set[TUNABLES_SET];
static int ntunables_set;

static int tun_rseq = 1;
static int tun_timeout = UMA_TIMEOUT;
static int tun_arena_gb = 64;

UMA_SYSCTL_INT(sysctl_uma_rseq, "vm.uma_rseq", &tun_rseq, UMA_CTLFLAG_RDTUN,
    0, 1, "Per-CPU caches on restartable sequences (0: per-CPU locks)");
UMA_SYSCTL_INT(sysctl_uma_timeout, "vm.uma_timeout", &tun_timeout,
    UMA_CTLFLAG_RDTUN, 1, 86400, "Seconds between periodic cache trims");
UMA_SYSCTL_INT(sysctl_uma_arena_gb, "vm.uma_arena_gb", &tun_arena_gb,
    UMA_CTLFLAG_RDTUN, 1, 65536, "Address space reserved for slabs, GiB");

/* Parse `val` for the node and set it; NULL or the reason it failed. */
static const char *
tunable_apply(const struct uma__sysctl_oid *oid, const char *val)
{
	struct uma__sysctl_req req = { .boot = 1 };
	char *end;
	long long ll;
	unsigned long long ull;
	int i;
	uint64_t u;

	errno = 0;
	switch (oid->oid_type) {
	case UMA_CTLTYPE_INT:
		ll = strtoll(val, &end, 0);
		if (*val == '\0' || *end != '\0')
			return ("not an integer");
		if (errno != 0 || ll < INT32_MIN || ll > INT32_MAX)
			return ("out of range");
		i = (int)ll;
		req.newp = &i;
		req.newlen = sizeof(i);
		break;
	case UMA_CTLTYPE_U64:
		ull = strtoull(val, &end, 0);
		if (*val == '\0' || *end != '\0' || strchr(val, '-') != NULL)
			return ("not an unsigned integer");
		if (errno != 0)
			return ("out of range");
		u = ull;
		req.newp = &u;
		req.newlen = sizeof(u);
		break;
	case UMA_CTLTYPE_STRING:
		req.newp = val;
		req.newlen = strlen(val);
		break;
	default:
		return ("not settable from the environment");
	}
	if (uma__sysctl_run(oid, &req) != 0)
		return (oid->oid_type == UMA_CTLTYPE_STRING ? "too long" :
		    "out of range");
	if (ntunables_set < TUNABLES_SET)
		tunables_set[ntunables_set++] = oid;
	return (NULL);
}

/* One "name=value" entry (NUL-terminated, may be modified). */
static void
tunable_entry(char *ent)
{
	const struct uma__sysctl_oid *oid;
	const char *why;
	char *eq = strchr(ent, '=');

	if (eq == NULL || eq == ent) {
		fprintf(stderr, "uma: UMA_TUNABLES entry \"%s\" is not "
		    "name=value: ignored\n", ent);
		return;
	}
	*eq = '\0';
	oid = uma__sysctl_find(ent);
	if (oid == NULL)
		why = "no such node";
	else if (!(oid->oid_flags & UMA_CTLFLAG_TUN))
		why = "not a boot tunable";
	else
		why = tunable_apply(oid, eq + 1);
	if (why != NULL)
		fprintf(stderr, "uma: UMA_TUNABLES entry \"%s=%s\": %s: "
		    "ignored\n", ent, eq + 1, why);
}

void
uma__tunables_load(void)
{
	static char buf[TUNABLES_MAX];
	const char *env = getenv("UMA_TUNABLES");
	char *p, *next;

	ntunables_set = 0;
	if (env != NULL && strlen(env) >= sizeof(buf))
		fprintf(stderr, "uma: UMA_TUNABLES longer than %d bytes: "
		    "ignored\n", TUNABLES_MAX - 1);
	else if (env != NULL) {
		strcpy(buf, env);
		for (p = buf; p != NULL; p = next) {
			if ((next = strchr(p, ',')) != NULL)
				*next++ = '\0';
			if (*p != '\0')
				tunable_entry(p);
		}
	}
	uma__export_boot();
}

static bool
tunable_was_set(const struct uma__sysctl_oid *oid)
{
	for (int i = 0; i < ntunables_set; i++)
		if (tunables_set[i] == oid)
			return (true);
	return (false);
}

/*
 * The value of int tunable `name`: the one UMA_TUNABLES set, else `dflt`,
 * which is then recorded in the node so that reading it shows the value
 * in force.
 */
int
uma__tunable_int(const char *name, int dflt)
{
	const struct uma__sysctl_oid *oid = uma__sysctl_find(name);
	struct uma__sysctl_req req = { 0 };
	int v;

	if (oid == NULL || oid->oid_type != UMA_CTLTYPE_INT)
		return (dflt);
	if (!tunable_was_set(oid)) {
		if (oid->oid_handler == uma__sysctl_handle_int)
			__atomic_store_n((int *)oid->oid_arg, dflt,
			    __ATOMIC_RELAXED);
		return (dflt);
	}
	req.oldp = &v;
	req.oldlen = sizeof(v);
	if (uma__sysctl_run(oid, &req) != 0)
		return (dflt);
	return (v);
}
