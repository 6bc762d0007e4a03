/*
 * tunable.c - boot tunables from the environment.
 *
 * UMA_TUNABLES="name=value,name=value" is read once, before the first
 * zone, as FreeBSD's loader reads its tunables.  An entry that is not
 * name=value is reported on stderr and ignored.  A value that is not a
 * number where a number is wanted is reported when it is looked up and the
 * default stands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uma_int.h"

#define	TUNABLES_MAX	4096

static char tunables[TUNABLES_MAX];

void
uma__tunables_load(void)
{
	const char *env = getenv("UMA_TUNABLES");
	char *p, *next;

	tunables[0] = '\0';
	if (env == NULL)
		return;
	if (strlen(env) >= sizeof(tunables)) {
		fprintf(stderr, "uma: UMA_TUNABLES longer than %d bytes: "
		    "ignored\n", TUNABLES_MAX - 1);
		return;
	}
	strcpy(tunables, env);
	for (p = tunables; *p != '\0'; p = next) {
		next = strchr(p, ',');
		next = next != NULL ? next + 1 : p + strlen(p);
		if (*p == ',')
			continue;
		if (strchr(p, '=') == NULL || strchr(p, '=') >= next - 1 ||
		    *p == '=')
			fprintf(stderr, "uma: UMA_TUNABLES entry \"%.*s\" is not "
			    "name=value: ignored\n", (int)(next - p -
			    (next[-1] == ',')), p);
	}
}

/* The value of tunable `name`, or NULL; *lenp gets its length. */
static const char *
tunable_find(const char *name, size_t *lenp)
{
	size_t nlen = strlen(name);
	const char *p = tunables, *end;

	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*lenp = (size_t)(end - p) - nlen - 1;
			return (p + nlen + 1);
		}
		p = *end == ',' ? end + 1 : end;
	}
	return (NULL);
}

int
uma__tunable_int(const char *name, int dflt)
{
	char buf[32], *end;
	const char *v;
	size_t len;
	long val;

	v = tunable_find(name, &len);
	if (v == NULL)
		return (dflt);
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	val = strtol(buf, &end, 0);
	if (errno != 0 || *end != '\0' || val < -2147483647L ||
	    val > 2147483647L)
		goto bad;
	return ((int)val);
bad:
	fprintf(stderr, "uma: tunable %s: \"%.*s\" is not an integer: using "
	    "%d\n", name, (int)len, v, dflt);
	return (dflt);
}
