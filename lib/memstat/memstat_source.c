/*
 * memstat_source.c - where sysctl values come from: this process (through
 * uma_sysctlbyname, looked up at run time so that libmemstat does not
 * link libuma), another process's export socket (<uma/stream.h> wire
 * protocol), or a file saved by memstat_save().
 *
 * Every read is bounded: streams over MEMSTAT_MAX_STREAM bytes, a server
 * that answers with a bad magic, or one that stalls for SOCK_TIMEOUT_S
 * give an error, never an endless wait or allocation.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uma/memguard.h>
#include <uma/sysctl.h>

#include "memstat_int.h"
#include "memstat_stream.h"

#define	SRC_SELF	1
#define	SRC_SOCKET	2
#define	SRC_FILE	3

#define	SOCK_TIMEOUT_S	5	/* per read or write on the socket */
#define	SELF_RETRIES	8	/* a stream that keeps growing (bug 15) */
#define	SAVE_MAGIC	"umastat-save 1\n"

typedef int (*sysctl_fn)(const char *, void *, size_t *, const void *,
    size_t);
typedef int (*list_fn)(int (*)(const struct uma_sysctl_info *, void *),
    void *);

struct memstat_source {
	int		 ms_kind;
	int		 ms_fd;		/* socket: -1 until connected */
	int		 ms_reused;	/* socket: served a request already */
	char		 ms_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned char	*ms_file;	/* file: its contents */
	size_t		 ms_filelen;
};

static struct memstat_source memstat_self = { .ms_kind = SRC_SELF };

int
_memstat_errno_error(int error)
{
	switch (error) {
	case ENOENT: case ECONNREFUSED: case ENOTDIR: case ENOSYS:
		return (MEMSTAT_ERROR_NOSOURCE);
	case EACCES: case EPERM:
		return (MEMSTAT_ERROR_PERMISSION);
	case ENOMEM:
		return (MEMSTAT_ERROR_NOMEMORY);
	case EBADMSG:
		return (MEMSTAT_ERROR_DATAERROR);
	case EBUSY:
		return (MEMSTAT_ERROR_BUSY);
	default:
		return (MEMSTAT_ERROR_IO);
	}
}

int
memstat_socket_path(pid_t pid, char *buf, size_t len)
{
	const char *dir = getenv("UMA_EXPORT_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (dir != NULL && *dir != '\0')
		n = snprintf(buf, len, "%s/%d.sock", dir, (int)pid);
	else if (xdg != NULL && *xdg != '\0')
		n = snprintf(buf, len, "%s/uma/%d.sock", xdg, (int)pid);
	else
		n = snprintf(buf, len, "/tmp/uma-%u/%d.sock",
		    (unsigned)getuid(), (int)pid);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

struct memstat_source *
memstat_source_self(void)
{
	return (&memstat_self);
}

struct memstat_source *
memstat_source_socket(const char *path)
{
	struct memstat_source *src;

	if (strlen(path) >= sizeof(src->ms_path)) {
		errno = ENAMETOOLONG;
		return (NULL);
	}
	src = calloc(1, sizeof(*src));
	if (src == NULL)
		return (NULL);
	src->ms_kind = SRC_SOCKET;
	src->ms_fd = -1;
	strcpy(src->ms_path, path);
	return (src);
}

struct memstat_source *
memstat_source_pid(pid_t pid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (memstat_socket_path(pid, path, sizeof(path)) != 0)
		return (NULL);
	return (memstat_source_socket(path));
}

void
memstat_source_close(struct memstat_source *src)
{
	if (src == NULL || src == &memstat_self)
		return;
	if (src->ms_kind == SRC_SOCKET && src->ms_fd >= 0)
		close(src->ms_fd);
	free(src->ms_file);
	free(src);
}

/* Socket transport. */
static int
io_full(int fd, void *buf, size_t len, int writing)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = writing ? send(fd, p, len, MSG_NOSIGNAL) :
		    recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EAGAIN ? ETIMEDOUT : errno);
		if (n == 0)
			return (ECONNRESET);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The server must run as us (or we are root): refuse a planted socket. */
static int
sock_check_peer(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return (errno);
	if (cred.uid != getuid() && cred.uid != 0 && getuid() != 0)
		return (EACCES);
	return (0);
}

static int
sock_connect(struct memstat_source *src)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = SOCK_TIMEOUT_S };
	int fd, error;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (errno);
	strcpy(sun.sun_path, src->ms_path);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		error = errno;
		close(fd);
		return (error);
	}
	if ((error = sock_check_peer(fd)) != 0) {
		close(fd);
		return (error);
	}
	src->ms_fd = fd;
	src->ms_reused = 0;
	return (0);
}

static void
sock_drop(struct memstat_source *src)
{
	if (src->ms_fd >= 0)
		close(src->ms_fd);
	src->ms_fd = -1;
}

/*
 * Sending failed (`error`): a server that refuses us (EACCES) or evicts us
 * (EBUSY) answers and closes without reading the rest, and our send then
 * fails with EPIPE.  Its answer is still there to read: return what the
 * server said rather than "Broken pipe".
 */
static int
sock_refusal(int fd, int error, int *srv)
{
	struct uma_export_resp resp;

	if ((error == EPIPE || error == ECONNRESET) &&
	    io_full(fd, &resp, sizeof(resp), 0) == 0 &&
	    resp.ues_magic == UMA_EXPORT_MAGIC && resp.ues_error > 0 &&
	    resp.ues_len == 0) {
		*srv = 1;
		return (resp.ues_error);
	}
	return (error);
}

/*
 * One request/response.  Returns 0 with the body in *outp (malloc'ed,
 * NULL if empty), the server's errno value, or a transport errno; a
 * transport failure drops the connection.
 */
static int
sock_once(struct memstat_source *src, uint32_t op, const char *name,
    const void *val, size_t vallen, void **outp, size_t *outlenp, int *srv)
{
	struct uma_export_req req = { .uer_magic = UMA_EXPORT_MAGIC,
	    .uer_op = op, .uer_namelen = (uint32_t)strlen(name),
	    .uer_vallen = (uint32_t)vallen };
	struct uma_export_resp resp;
	void *body = NULL;
	int error;

	*srv = 0;
	if ((error = io_full(src->ms_fd, &req, sizeof(req), 1)) != 0 ||
	    (error = io_full(src->ms_fd, (void *)(uintptr_t)name,
	    req.uer_namelen, 1)) != 0 ||
	    (error = io_full(src->ms_fd, (void *)(uintptr_t)val, vallen,
	    1)) != 0)
		return (sock_refusal(src->ms_fd, error, srv));
	if ((error = io_full(src->ms_fd, &resp, sizeof(resp), 0)) != 0)
		return (error);
	if (resp.ues_magic != UMA_EXPORT_MAGIC ||
	    resp.ues_len > MEMSTAT_MAX_STREAM)
		return (EBADMSG);
	if (resp.ues_len > 0) {
		if ((body = malloc(resp.ues_len)) == NULL)
			return (ENOMEM);
		if ((error = io_full(src->ms_fd, body, resp.ues_len, 0)) != 0) {
			free(body);
			return (error);
		}
	}
	*outp = body;
	*outlenp = resp.ues_len;
	*srv = 1;
	return (resp.ues_error);
}

/* A request, reconnecting once if an idle connection was dropped. */
static int
sock_request(struct memstat_source *src, uint32_t op, const char *name,
    const void *val, size_t vallen, void **outp, size_t *outlenp)
{
	int error, srv, tries = 0;

	if (strlen(name) > UMA_EXPORT_MAXNAME ||
	    vallen > UMA_EXPORT_MAXREQ - strlen(name))
		return (E2BIG);
	*outp = NULL;
	*outlenp = 0;
	for (;;) {
		if (src->ms_fd < 0 && (error = sock_connect(src)) != 0)
			return (error);
		error = sock_once(src, op, name, val, vallen, outp, outlenp,
		    &srv);
		if (srv) {
			/*
			 * A server error other than a refusal or an eviction
			 * keeps the link.  A link evicted while it was idle
			 * (it had served a request) is opened again once, as
			 * one the server dropped for idling.
			 */
			if (error == EACCES || error == E2BIG ||
			    error == EBUSY)
				sock_drop(src);
			if (error != EBUSY || !src->ms_reused || ++tries > 1) {
				src->ms_reused = error != EBUSY;
				return (error);
			}
			continue;
		}
		sock_drop(src);
		if (!src->ms_reused || ++tries > 1 || error == EBADMSG)
			return (error);
	}
}

/* Saved files: SAVE_MAGIC, then sections "<name> <len>\n<bytes>\n". */
static int
file_find(const struct memstat_source *src, const char *name,
    const unsigned char **valp, size_t *lenp)
{
	const unsigned char *p = src->ms_file + strlen(SAVE_MAGIC);
	const unsigned char *end = src->ms_file + src->ms_filelen;

	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *sp;
		unsigned long long len = 0;

		if (nl == NULL || (sp = memchr(p, ' ', (size_t)(nl - p))) ==
		    NULL || sp == p || sp + 1 == nl)
			return (EBADMSG);
		for (const unsigned char *d = sp + 1; d < nl; d++) {
			if (*d < '0' || *d > '9' || len > MEMSTAT_MAX_STREAM)
				return (EBADMSG);
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len + 2 > (unsigned long long)(end - nl) ||
		    nl[1 + len] != '\n')
			return (EBADMSG);
		if ((size_t)(sp - p) == strlen(name) &&
		    memcmp(p, name, (size_t)(sp - p)) == 0) {
			*valp = nl + 1;
			*lenp = (size_t)len;
			return (0);
		}
		p = nl + 2 + len;
	}
	return (ENOENT);
}

struct memstat_source *
memstat_source_file(const char *path)
{
	struct memstat_source *src;
	struct stat st;
	int fd, error = 0;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (NULL);
	src = calloc(1, sizeof(*src));
	if (src == NULL || fstat(fd, &st) != 0)
		error = src == NULL ? ENOMEM : errno;
	else if (st.st_size < (off_t)strlen(SAVE_MAGIC) ||
	    st.st_size > 4 * (off_t)MEMSTAT_MAX_STREAM)
		error = EBADMSG;
	else if ((src->ms_file = malloc((size_t)st.st_size)) == NULL)
		error = ENOMEM;
	else if ((n = read(fd, src->ms_file, (size_t)st.st_size)) !=
	    st.st_size)
		error = n < 0 ? errno : EBADMSG;
	else if (memcmp(src->ms_file, SAVE_MAGIC, strlen(SAVE_MAGIC)) != 0)
		error = EBADMSG;
	else {
		/* Walk every section: no name is empty, so this validates. */
		const unsigned char *val;
		size_t len;

		src->ms_filelen = (size_t)st.st_size;
		if (file_find(src, "", &val, &len) != ENOENT)
			error = EBADMSG;
	}
	close(fd);
	if (error != 0) {
		if (src != NULL)
			free(src->ms_file);
		free(src);
		errno = error;
		return (NULL);
	}
	src->ms_kind = SRC_FILE;
	src->ms_fd = -1;
	src->ms_filelen = (size_t)st.st_size;
	return (src);
}

/* Fetch a whole value into a malloc'ed buffer; 0 or an errno value. */
static int
self_fetch(const char *name, void **bufp, size_t *lenp)
{
	sysctl_fn fn = (sysctl_fn)dlsym(RTLD_DEFAULT, "uma_sysctlbyname");
	size_t size = 0, len;
	void *buf;

	if (fn == NULL)
		return (ENOSYS);
	if (fn(name, NULL, &size, NULL, 0) != 0)
		return (errno);
	for (int i = 0; i < SELF_RETRIES; i++) {
		size += size / 8 + 4096;
		if (size > MEMSTAT_MAX_STREAM || (buf = malloc(size)) == NULL)
			return (ENOMEM);
		len = size;
		if (fn(name, buf, &len, NULL, 0) == 0) {
			*bufp = buf;
			*lenp = len;
			return (0);
		}
		free(buf);
		if (errno != ENOMEM)
			return (errno);
		if (len > size)
			size = len;
	}
	return (ENOMEM);
}

static int
fetch(struct memstat_source *src, const char *name, void **bufp,
    size_t *lenp)
{
	const unsigned char *val;
	int error;

	*bufp = NULL;
	*lenp = 0;
	switch (src->ms_kind) {
	case SRC_SELF:
		return (self_fetch(name, bufp, lenp));
	case SRC_SOCKET:
		return (sock_request(src, UMA_EXPORT_OP_GET, name, NULL, 0,
		    bufp, lenp));
	default:
		if ((error = file_find(src, name, &val, lenp)) != 0)
			return (error);
		if ((*bufp = malloc(*lenp + 1)) == NULL)
			return (ENOMEM);
		memcpy(*bufp, val, *lenp);
		return (0);
	}
}

int
_memstat_fetch(struct memstat_source *src, const char *name, void **bufp,
    size_t *lenp, int *errnop)
{
	*errnop = fetch(src, name, bufp, lenp);
	if (*errnop == 0)
		return (0);
	return (_memstat_errno_error(*errnop));
}

static int
set_value(struct memstat_source *src, const char *name, const void *newp,
    size_t newlen)
{
	sysctl_fn fn;
	void *out = NULL;
	size_t outlen;
	int error;

	switch (src->ms_kind) {
	case SRC_SELF:
		fn = (sysctl_fn)dlsym(RTLD_DEFAULT, "uma_sysctlbyname");
		if (fn == NULL)
			return (ENOSYS);
		return (fn(name, NULL, NULL, newp, newlen) != 0 ? errno : 0);
	case SRC_SOCKET:
		error = sock_request(src, UMA_EXPORT_OP_SET, name, newp, newlen,
		    &out, &outlen);
		free(out);
		return (error);
	default:
		return (EPERM);
	}
}

int
memstat_source_sysctl(struct memstat_source *src, const char *name,
    void *oldp, size_t *oldlenp, const void *newp, size_t newlen)
{
	void *buf = NULL;
	size_t len = 0;
	int error = 0;

	if (oldlenp != NULL) {
		if ((error = fetch(src, name, &buf, &len)) != 0)
			goto out;
		if (oldp != NULL && len > *oldlenp)
			error = ENOMEM;
		else if (oldp != NULL)
			memcpy(oldp, buf, len);
		*oldlenp = len;
		if (error != 0)
			goto out;
	}
	if (newp != NULL)
		error = set_value(src, name, newp, newlen);
out:
	free(buf);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

/* Listing this process: format uma_sysctl_list() as the wire LIST does. */
struct self_list {
	FILE	*sl_f;
};

static int
self_list_one(const struct uma_sysctl_info *info, void *arg)
{
	static const char *const types[] = { "?", "int", "u64", "string",
	    "opaque" };
	const char *access;
	int wr = (info->flags & UMA_CTLFLAG_WR) != 0;

	if (info->flags & UMA_CTLFLAG_TUN)
		access = wr ? "RWTUN" : "RDTUN";
	else
		access = wr ? "RW" : "RD";
	fprintf(((struct self_list *)arg)->sl_f, "%s\t%s\t%s\t%s\n",
	    info->name, info->type >= 1 && info->type <= 4 ?
	    types[info->type] : "?", access,
	    info->descr != NULL ? info->descr : "");
	return (0);
}

static int
self_list(char **textp, size_t *lenp)
{
	list_fn fn = (list_fn)dlsym(RTLD_DEFAULT, "uma_sysctl_list");
	struct self_list sl;

	if (fn == NULL)
		return (ENOSYS);
	if ((sl.sl_f = open_memstream(textp, lenp)) == NULL)
		return (errno);
	fn(self_list_one, &sl);
	if (fclose(sl.sl_f) != 0)
		return (ENOMEM);
	return (0);
}

/*
 * What memstat_save keeps: the streams, what a reader needs to make
 * sense of them offline (the malloc size classes: bit i of a size mask
 * means nothing without them), both tiers of the kmem report, and
 * MemGuard's settings, counters and live objects.
 * Optional ones may be missing from the source (an older uma).
 * file_list types the values by this table.
 */
static const struct save_node {
	const char	*sn_name;
	const char	*sn_type;
	int		 sn_optional;
} save_nodes[] = {
	{ "vm.zone_stats", "opaque", 0 },
	{ "kern.malloc_stats", "opaque", 1 },
	{ "vm.malloc.zone_count", "int", 1 },
	{ "vm.malloc.zone_sizes", "opaque", 1 },
	{ "vm.kmem_stats", "opaque", 1 },
	{ "vm.kmem_stats_extended", "opaque", 1 },
	{ "vm.memguard.desc", "string", 1 },
	{ "vm.memguard.frequency", "int", 1 },
	{ "vm.memguard.options", "int", 1 },
	{ "vm.memguard.mapsize", "u64", 1 },
	{ "vm.memguard.mapstart", "u64", 1 },
	{ "vm.memguard.phys_limit", "u64", 1 },
#define	X(name, descr)	{ "vm.memguard." #name, "u64", 1 },
	UMA_MEMGUARD_COUNTERS(X)
#undef X
	{ "vm.memguard.objects", "opaque", 1 },
};

static int
file_list(const struct memstat_source *src, char **textp, size_t *lenp)
{
	const unsigned char *val;
	size_t len;
	FILE *f;

	if ((f = open_memstream(textp, lenp)) == NULL)
		return (errno);
	for (size_t i = 0; i < sizeof(save_nodes) / sizeof(save_nodes[0]);
	    i++)
		if (file_find(src, save_nodes[i].sn_name, &val, &len) == 0)
			fprintf(f, "%s\t%s\tRD\tsaved value\n",
			    save_nodes[i].sn_name, save_nodes[i].sn_type);
	return (fclose(f) != 0 ? ENOMEM : 0);
}

int
memstat_source_list(struct memstat_source *src, char **textp, size_t *lenp)
{
	void *buf = NULL;
	int error;

	*textp = NULL;
	*lenp = 0;
	if (src->ms_kind == SRC_SELF)
		error = self_list(textp, lenp);
	else if (src->ms_kind == SRC_FILE)
		error = file_list(src, textp, lenp);
	else if ((error = sock_request(src, UMA_EXPORT_OP_LIST, "", NULL, 0,
	    &buf, lenp)) == 0) {
		/* NUL-terminate for the caller. */
		if ((*textp = realloc(buf, *lenp + 1)) == NULL) {
			free(buf);
			error = ENOMEM;
		} else
			(*textp)[*lenp] = '\0';
	} else
		free(buf);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

static int
save_section(FILE *f, struct memstat_source *src, const char *name,
    int optional)
{
	void *buf;
	size_t len;
	int error;

	if ((error = fetch(src, name, &buf, &len)) != 0)
		return (optional && error == ENOENT ? 0 : error);
	fprintf(f, "%s %zu\n", name, len);
	/* An empty node (no MemGuard object live) has no buffer. */
	if (len > 0)
		fwrite(buf, 1, len, f);
	fputc('\n', f);
	free(buf);
	return (0);
}

int
memstat_save(struct memstat_source *src, const char *path)
{
	FILE *f;
	int error;

	if ((f = fopen(path, "we")) == NULL)
		return (-1);
	fputs(SAVE_MAGIC, f);
	error = 0;
	for (size_t i = 0; error == 0 &&
	    i < sizeof(save_nodes) / sizeof(save_nodes[0]); i++)
		error = save_section(f, src, save_nodes[i].sn_name,
		    save_nodes[i].sn_optional);
	if (fclose(f) != 0 && error == 0)
		error = errno;
	if (error != 0) {
		unlink(path);
		errno = error;
		return (-1);
	}
	return (0);
}

int
_memstat_read_source(struct memory_type_list *list,
    struct memstat_source *src,
    int (*fn)(struct memory_type_list *, struct memstat_source *))
{
	int ret;

	if (src == NULL)
		return (_memstat_fail(list, _memstat_errno_error(errno)));
	ret = fn(list, src);
	memstat_source_close(src);
	return (ret);
}
