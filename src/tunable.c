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
 * ignored.  UMA_EXPORT=1 is the shorthand of uma.export=1.
 *
 * Applying a tunable only stores a value: each knob is a variable with its
 * default, declared with its node beside the code that reads it, and that
 * code runs later in the start-up order (init.c).  Nothing here starts a
 * thread or opens a socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysctl_int.h"
#include "uma_int.h"

#define	TUNABLES_MAX	4096

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
	static char buf[TUNABLES_MAX] __bss_cold;
	const char *env;
	char *p, *next;

	if ((env = getenv("UMA_EXPORT")) != NULL && strcmp(env, "1") == 0) {
		strcpy(buf, "uma.export=1");
		tunable_entry(buf);
	}
	env = getenv("UMA_TUNABLES");
	if (env != NULL && strlen(env) >= sizeof(buf)) {
		fprintf(stderr, "uma: UMA_TUNABLES longer than %d bytes: "
		    "ignored\n", TUNABLES_MAX - 1);
		return;
	}
	if (env == NULL)
		return;
	strcpy(buf, env);
	for (p = buf; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if (*p != '\0')
			tunable_entry(p);
	}
}
