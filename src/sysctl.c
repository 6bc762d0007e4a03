/*
 * sysctl.c - the sysctl tree: lookup, access checks, typed handlers, the
 * public uma_sysctlbyname()/uma_sysctl_list().
 *
 * Layer: a leaf: it knows nodes and handlers, nothing of what they read.
 * Each node is declared beside its data (sysctl_int.h), so a handler that
 * reads zones lives with the code that knows them.  Static nodes are kept
 * sorted by name in a static array, filled from the linker set the
 * UMA_SYSCTL_* macros make, at the first lookup; subtrees answer for their
 * prefix.  No malloc.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "sysctl_int.h"
#include "uma_int.h"

#define	SYSCTL_MAXOIDS	512

static const struct uma__sysctl_oid *oids[SYSCTL_MAXOIDS] __bss_cold; /* sorted */
static int noids;
static pthread_once_t oids_once = PTHREAD_ONCE_INIT;

/* The linker set (sysctl_int.h); weak: a program may link no node. */
extern const struct uma__sysctl_oid *const __start_uma_sysctl_set[]
    __attribute__((weak, visibility("hidden")));
extern const struct uma__sysctl_oid *const __stop_uma_sysctl_set[]
    __attribute__((weak, visibility("hidden")));

static void
oids_sort(void)
{
	const struct uma__sysctl_oid *const *p;
	const struct uma__sysctl_oid *oid;
	int i;

	for (p = __start_uma_sysctl_set; p < __stop_uma_sysctl_set; p++) {
		oid = *p;
		if (noids == SYSCTL_MAXOIDS)
			uma__panic("uma: more than %d sysctl nodes",
			    SYSCTL_MAXOIDS);
		for (i = noids; i > 0 && strcmp(oids[i - 1]->oid_name,
		    oid->oid_name) > 0; i--)
			oids[i] = oids[i - 1];
		oids[i] = oid;
		noids++;
	}
}

/* The nodes, sorted, from their first use on. */
static void
oids_ready(void)
{
	pthread_once(&oids_once, oids_sort);
}

const struct uma__sysctl_oid *
uma__sysctl_find(const char *name)
{
	int lo = 0, hi, mid, c;

	oids_ready();
	hi = noids - 1;
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		c = strcmp(name, oids[mid]->oid_name);
		if (c == 0)
			return (oids[mid]->oid_type != 0 ? oids[mid] : NULL);
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* The subtree whose prefix `name` extends, or NULL; *restp after "pfx.". */
static const struct uma__sysctl_oid *
sysctl_find_subtree(const char *name, const char **restp)
{
	size_t len;

	oids_ready();
	for (int i = 0; i < noids; i++) {
		if (oids[i]->oid_type != 0)
			continue;
		len = strlen(oids[i]->oid_name);
		if (strncmp(name, oids[i]->oid_name, len) == 0 &&
		    name[len] == '.' && name[len + 1] != '\0') {
			*restp = name + len + 1;
			return (oids[i]);
		}
	}
	return (NULL);
}

int
uma__sysctl_out(struct uma__sysctl_req *req, const void *p, size_t len)
{
	size_t idx = req->oldidx;

	req->oldidx += len;
	if (req->oldp == NULL)
		return (0);
	if (idx >= req->oldlen || req->oldlen - idx < len)
		return (ENOMEM);
	memcpy((char *)req->oldp + idx, p, len);
	return (0);
}

int
uma__sysctl_scalar(struct uma__sysctl_req *req, void *v, size_t size,
    bool *takenp)
{
	int error;

	*takenp = false;
	if ((error = uma__sysctl_out(req, v, size)) != 0 || req->newp == NULL)
		return (error);
	if (req->newlen != size)
		return (EINVAL);
	memcpy(v, req->newp, size);
	*takenp = true;
	return (0);
}

int
uma__sysctl_rw_int(struct uma__sysctl_req *req, int *val, int64_t min,
    int64_t max)
{
	int v = __atomic_load_n(val, __ATOMIC_RELAXED), error;
	bool taken;

	if ((error = uma__sysctl_scalar(req, &v, sizeof(v), &taken)) != 0 ||
	    !taken)
		return (error);
	if (v < min || v > max)
		return (EINVAL);
	__atomic_store_n(val, v, __ATOMIC_RELAXED);
	return (0);
}

int
uma__sysctl_rw_u64(struct uma__sysctl_req *req, uint64_t *val,
    uint64_t min, uint64_t max)
{
	uint64_t v = __atomic_load_n(val, __ATOMIC_RELAXED);
	bool taken;
	int error;

	if ((error = uma__sysctl_scalar(req, &v, sizeof(v), &taken)) != 0 ||
	    !taken)
		return (error);
	if (v < min || v > max)
		return (EINVAL);
	__atomic_store_n(val, v, __ATOMIC_RELAXED);
	return (0);
}

int
uma__sysctl_rw_string(struct uma__sysctl_req *req, char *buf, size_t size)
{
	const char *s = req->newp;
	size_t len = req->newlen;
	int error;

	if ((error = uma__sysctl_out(req, buf, strnlen(buf, size - 1) + 1)) !=
	    0 || req->newp == NULL)
		return (error);
	if (len > 0 && s[len - 1] == '\0')
		len--;		/* the NUL is optional */
	if (len >= size || memchr(s, '\0', len) != NULL)
		return (EINVAL);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (0);
}

int
uma__sysctl_handle_int(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	return (uma__sysctl_rw_int(req, oid->oid_arg, oid->oid_min,
	    (int64_t)oid->oid_max));
}

int
uma__sysctl_handle_u64(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	return (uma__sysctl_rw_u64(req, oid->oid_arg,
	    (uint64_t)oid->oid_min, oid->oid_max));
}

int
uma__sysctl_handle_string(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	return (uma__sysctl_rw_string(req, oid->oid_arg, oid->oid_size));
}

int
uma__sysctl_run(const struct uma__sysctl_oid *oid,
    struct uma__sysctl_req *req)
{
	int wr = req->boot ? UMA_CTLFLAG_TUN : UMA_CTLFLAG_WR;

	req->type = oid->oid_type;
	if (req->newp != NULL && !(oid->oid_flags & wr))
		return (EPERM);
	return (oid->oid_handler(req, oid));
}

const char *
uma__sysctl_access_name(int flags)
{
	static const char *const names[8] = { "", "RD", "WR", "RW", "TUN",
	    "RDTUN", "WRTUN", "RWTUN" };

	return (names[flags & 7]);
}

const char *
uma__sysctl_type_name(int type)
{
	static const char *const names[5] = { "node", "int", "u64", "string",
	    "opaque" };

	return (type >= 0 && type <= 4 ? names[type] : "?");
}

int
uma__sysctl_request(const char *name, struct uma__sysctl_req *req)
{
	const struct uma__sysctl_oid *oid;
	const char *rest;

	if ((oid = uma__sysctl_find(name)) != NULL)
		return (uma__sysctl_run(oid, req));
	if ((oid = sysctl_find_subtree(name, &rest)) != NULL)
		return (oid->oid_subreq(rest, req));
	return (ENOENT);
}

/* See sysctl.h */
int
uma_sysctlbyname(const char *name, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen)
{
	struct uma__sysctl_req req = {
		.oldp = oldlenp != NULL ? oldp : NULL,
		.oldlen = oldlenp != NULL ? *oldlenp : 0,
		.newp = newp, .newlen = newlen,
	};
	int error;

	error = name != NULL ? uma__sysctl_request(name, &req) : EINVAL;
	if ((error == 0 || error == ENOMEM) && oldlenp != NULL)
		*oldlenp = req.oldidx;
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

/* See sysctl.h */
int
uma_sysctl_list(int (*fn)(const struct uma_sysctl_info *, void *),
    void *arg)
{
	struct uma_sysctl_info info;
	const struct uma__sysctl_oid *oid;
	int error;

	oids_ready();
	for (int i = 0; i < noids; i++) {
		oid = oids[i];
		if (oid->oid_type == 0)
			continue;
		info = (struct uma_sysctl_info){ oid->oid_name, oid->oid_type,
		    oid->oid_flags, oid->oid_descr, oid->oid_fmt };
		if ((error = fn(&info, arg)) != 0)
			return (error);
	}
	for (int i = 0; i < noids; i++)
		if (oids[i]->oid_type == 0 &&
		    (error = oids[i]->oid_sublist(fn, arg)) != 0)
			return (error);
	return (0);
}
