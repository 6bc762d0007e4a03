/*
 * sysctl.c - `umastat sysctl [-a] [-d] [name[=value] ...]`: read, set and
 * list the sysctl tree of this process or of the source given to umastat
 * (-p PID, --socket PATH, -f FILE), like sysctl(8).
 *
 * A name that is not a node but a prefix of nodes ("vm.uma.mbuf") shows
 * every node under it.  Types come from the tree's listing.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "umastat.h"

struct node {
	char	*n_name, *n_type, *n_access, *n_descr;
};

struct tree {
	struct node	*t_nodes;
	size_t		 t_count;
	char		*t_text;
};

/* Split the listing into nodes (the text is cut in place). */
static int
tree_load(struct memstat_source *src, struct tree *t)
{
	size_t len, cap = 0;
	char *line, *next;

	if (memstat_source_list(src, &t->t_text, &len) != 0)
		return (-1);
	for (line = t->t_text; line != NULL && *line != '\0'; line = next) {
		struct node n;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		n.n_name = strsep(&line, "\t");
		n.n_type = strsep(&line, "\t");
		n.n_access = strsep(&line, "\t");
		n.n_descr = line != NULL ? line : "";
		if (n.n_type == NULL || n.n_access == NULL)
			continue;
		if (t->t_count == cap) {
			cap = cap ? 2 * cap : 256;
			t->t_nodes = realloc(t->t_nodes, cap * sizeof(n));
			if (t->t_nodes == NULL)
				return (-1);
		}
		t->t_nodes[t->t_count++] = n;
	}
	return (0);
}

static void
value_print(struct memstat_source *src, const struct node *n)
{
	unsigned char buf[4096];
	size_t len = sizeof(buf);
	int32_t i32;
	uint64_t u64;

	if (strcmp(n->n_type, "opaque") == 0) {
		len = 0;
		if (memstat_source_sysctl(src, n->n_name, NULL, &len, NULL,
		    0) == 0)
			printf("<opaque, %zu bytes>", len);
		return;
	}
	if (memstat_source_sysctl(src, n->n_name, buf, &len, NULL, 0) != 0) {
		printf("<%s>", strerror(errno));
		return;
	}
	if (strcmp(n->n_type, "int") == 0 && len == sizeof(i32)) {
		memcpy(&i32, buf, sizeof(i32));
		printf("%" PRId32, i32);
	} else if (strcmp(n->n_type, "u64") == 0 && len == sizeof(u64)) {
		memcpy(&u64, buf, sizeof(u64));
		printf("%" PRIu64, u64);
	} else {
		while (len > 0 && buf[len - 1] == '\0')
			len--;
		printf("%.*s", (int)len, (const char *)buf);
	}
}

static void
node_show(struct memstat_source *src, const struct node *n, int descr)
{
	printf("%s: ", n->n_name);
	if (descr)
		printf("%s", n->n_descr);
	else
		value_print(src, n);
	printf("\n");
}

/* Encode `text` for node n; returns the length or -1 (EINVAL). */
static ssize_t
value_parse(const struct node *n, const char *text, void *buf, size_t size)
{
	char *end;

	errno = 0;
	if (strcmp(n->n_type, "int") == 0) {
		long v = strtol(text, &end, 0);
		int32_t i32 = (int32_t)v;

		if (errno != 0 || *text == '\0' || *end != '\0' ||
		    v < INT32_MIN || v > INT32_MAX)
			return (-1);
		memcpy(buf, &i32, sizeof(i32));
		return (sizeof(i32));
	}
	if (strcmp(n->n_type, "u64") == 0) {
		unsigned long long v = strtoull(text, &end, 0);
		uint64_t u64 = v;

		if (errno != 0 || *text == '\0' || *end != '\0' ||
		    *text == '-')
			return (-1);
		memcpy(buf, &u64, sizeof(u64));
		return (sizeof(u64));
	}
	if (strcmp(n->n_type, "string") == 0 && strlen(text) < size) {
		memcpy(buf, text, strlen(text));
		return ((ssize_t)strlen(text));
	}
	return (-1);
}

/* Why a set of node n to `val` failed with `error`, in words. */
static void
set_error(const struct node *n, const char *val, int error)
{
	fprintf(stderr, "umastat: %s=%s: ", n->n_name, val);
	if (error == EPERM && strcmp(n->n_access, "RDTUN") == 0)
		fprintf(stderr, "a boot tunable, read-only once the process "
		    "runs (set it at start: UMA_TUNABLES=%s=%s)\n", n->n_name,
		    val);
	else if (error == EPERM)
		fprintf(stderr, "read-only node (%s)\n", strerror(error));
	else if (error == EINVAL)
		fprintf(stderr, "value refused by the node (%s)\n",
		    strerror(error));
	else if (error == EACCES)
		fprintf(stderr, "permission denied: the process runs as "
		    "another user, and only that user or root may use its "
		    "endpoint\n");
	else
		fprintf(stderr, "%s\n", strerror(error));
}

static int
node_set(struct memstat_source *src, const struct node *n, const char *val)
{
	unsigned char buf[1024];
	ssize_t len = value_parse(n, val, buf, sizeof(buf));

	printf("%s: ", n->n_name);
	value_print(src, n);
	if (len < 0 || memstat_source_sysctl(src, n->n_name, NULL, NULL, buf,
	    (size_t)len) != 0) {
		int error = len < 0 ? EINVAL : errno;

		printf("\n");
		if (len < 0)
			fprintf(stderr, "umastat: %s=%s: not a value of type "
			    "%s\n", n->n_name, val, n->n_type);
		else
			set_error(n, val, error);
		return (1);
	}
	printf(" -> ");
	value_print(src, n);
	printf("\n");
	return (0);
}

static int
name_arg(struct memstat_source *src, struct tree *t, char *arg, int descr)
{
	char *eq = strchr(arg, '=');
	size_t len;
	int found = 0;

	if (eq != NULL)
		*eq = '\0';
	len = strlen(arg);
	for (size_t i = 0; i < t->t_count; i++) {
		const char *name = t->t_nodes[i].n_name;

		if (strcmp(name, arg) == 0) {
			if (eq != NULL)
				return (node_set(src, &t->t_nodes[i], eq + 1));
			node_show(src, &t->t_nodes[i], descr);
			return (0);
		}
		if (eq == NULL && strncmp(name, arg, len) == 0 &&
		    name[len] == '.') {
			node_show(src, &t->t_nodes[i], descr);
			found = 1;
		}
	}
	if (!found)
		fprintf(stderr, "umastat: unknown oid '%s'\n", arg);
	return (!found);
}

int
sysctl_main(struct memstat_source *src, int argc, char **argv)
{
	struct tree t = { 0 };
	int c, all = 0, descr = 0, status = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "ad")) != -1) {
		if (c == 'a')
			all = 1;
		else if (c == 'd')
			descr = 1;
		else
			return (2);
	}
	if (!all && optind == argc) {
		fprintf(stderr, "usage: umastat [-p pid] sysctl [-a] [-d] "
		    "[name[=value] ...]\n");
		return (2);
	}
	if (tree_load(src, &t) != 0) {
		fprintf(stderr, "umastat: cannot list the sysctl tree: %s\n",
		    strerror(errno));
		return (1);
	}
	if (all && optind == argc)
		for (size_t i = 0; i < t.t_count; i++)
			node_show(src, &t.t_nodes[i], descr);
	for (int i = optind; i < argc; i++)
		status |= name_arg(src, &t, argv[i], descr);
	free(t.t_nodes);
	free(t.t_text);
	return (status);
}
