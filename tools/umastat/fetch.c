/*
 * fetch.c - read sysctl values from many export endpoints at once, under
 * one deadline: for the exporter, top and -l, which read every uma
 * process of the host.
 *
 * libmemstat's transport reads one endpoint at a time and waits up to 5 s
 * for each read, which is right for `umastat -p` but would let one hung
 * process (stopped, deadlocked, or not uma at all) stall a scrape for
 * every process behind it.  Here every connection is non-blocking, the
 * requests of all endpoints go out at once (pipelined on each connection,
 * in the wire protocol of <uma/stream.h>), one poll loop reads every
 * answer, and whatever is not complete at the deadline is dropped with
 * ETIMEDOUT.  The values are then parsed by libmemstat (memstat_buf_*).
 *
 * What a server may make us do is bounded: a value over FETCH_MAXLEN
 * bytes or a bad magic ends that endpoint with EBADMSG, and a server that
 * does not run as the directory's owner (or root) is refused (EACCES),
 * as libmemstat refuses one that does not run as us.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uma/stream.h>

#include "umastat.h"

#define	FETCH_MAXLEN	(64u << 20)	/* bytes of one value */

_Static_assert(sizeof(((struct fetch *)0)->fe_hdr) ==
    sizeof(struct uma_export_resp), "fe_hdr holds a response header");

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
fetch_end(struct fetch *fe, int error)
{
	if (fe->fe_fd >= 0)
		close(fe->fe_fd);
	fe->fe_fd = -1;
	free(fe->fe_out);
	fe->fe_out = NULL;
	if (fe->fe_error == 0)
		fe->fe_error = error;
}

static const char *
fetch_name(int value, int want)
{
	static const char *const names[FETCH_NVALUES] = { "vm.zone_stats",
	    "kern.malloc_stats", "vm.kmem_stats" };

	if (value == FETCH_KMEM && (want & FETCH_EXTENDED))
		return ("vm.kmem_stats_extended");
	return (names[value]);
}

/* The first value wanted from `from` on, or FETCH_NVALUES. */
static int
fetch_next(int want, int from)
{
	while (from < FETCH_NVALUES && !(want & (1 << from)))
		from++;
	return (from);
}

/* The requests for every value wanted, back to back, in index order. */
static int
fetch_requests(struct fetch *fe)
{
	struct uma_export_req req = { .uer_magic = UMA_EXPORT_MAGIC,
	    .uer_op = UMA_EXPORT_OP_GET };
	const char *name;
	size_t len = 0;
	int v;

	for (v = fetch_next(fe->fe_want, 0); v < FETCH_NVALUES;
	    v = fetch_next(fe->fe_want, v + 1))
		len += sizeof(req) + strlen(fetch_name(v, fe->fe_want));
	if ((fe->fe_out = malloc(len)) == NULL)
		return (ENOMEM);
	for (v = fetch_next(fe->fe_want, 0); v < FETCH_NVALUES;
	    v = fetch_next(fe->fe_want, v + 1)) {
		name = fetch_name(v, fe->fe_want);
		req.uer_namelen = (uint32_t)strlen(name);
		memcpy(fe->fe_out + fe->fe_outlen, &req, sizeof(req));
		memcpy(fe->fe_out + fe->fe_outlen + sizeof(req), name,
		    req.uer_namelen);
		fe->fe_outlen += sizeof(req) + req.uer_namelen;
	}
	fe->fe_cur = fetch_next(fe->fe_want, 0);
	return (fe->fe_cur < FETCH_NVALUES ? 0 : EINVAL);
}

static int
fetch_connect(struct fetch *fe)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (errno);
	fe->fe_fd = fd;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    fe->fe_ep->ep_path);
	/* A Unix socket connects at once, or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		return (errno);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return (errno);
	if (cred.uid != fe->fe_ep->ep_uid && cred.uid != 0)
		return (EACCES);
	/* 0 when its pid namespace is not ours: keep the file's name. */
	fe->fe_pid = cred.pid > 0 ? cred.pid : fe->fe_ep->ep_pid;
	return (fetch_requests(fe));
}

static void
fetch_write(struct fetch *fe)
{
	ssize_t n;

	n = send(fe->fe_fd, fe->fe_out + fe->fe_outoff,
	    fe->fe_outlen - fe->fe_outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fetch_end(fe, n < 0 ? errno : ECONNRESET);
		return;
	}
	fe->fe_outoff += (size_t)n;
}

/* A response header is in: check it and make room for its body. */
static int
fetch_header(struct fetch *fe)
{
	struct uma_export_resp r;
	int i = fe->fe_cur;

	memcpy(&r, fe->fe_hdr, sizeof(r));
	if (r.ues_magic != UMA_EXPORT_MAGIC || r.ues_len > FETCH_MAXLEN ||
	    (r.ues_error != 0 && r.ues_len != 0))
		return (EBADMSG);
	/* A refused client is answered EACCES and dropped. */
	if (r.ues_error == EACCES)
		return (EACCES);
	fe->fe_srverr[i] = r.ues_error;
	fe->fe_len[i] = r.ues_len;
	if ((fe->fe_buf[i] = malloc(r.ues_len + 1)) == NULL)
		return (ENOMEM);
	return (0);
}

/* Read what has come; returns 1 once every response is in. */
static int
fetch_read(struct fetch *fe)
{
	size_t hdr = sizeof(fe->fe_hdr), want;
	unsigned char *dst;
	ssize_t n;
	int error;

	for (;;) {
		int i = fe->fe_cur;

		if (fe->fe_inoff < hdr) {
			dst = fe->fe_hdr + fe->fe_inoff;
			want = hdr - fe->fe_inoff;
		} else {
			dst = (unsigned char *)fe->fe_buf[i] + fe->fe_inoff -
			    hdr;
			want = hdr + fe->fe_len[i] - fe->fe_inoff;
		}
		n = want == 0 ? 0 : recv(fe->fe_fd, dst, want, MSG_DONTWAIT);
		if (want > 0 && n < 0 && (errno == EAGAIN || errno == EINTR))
			return (0);
		if (want > 0 && n <= 0) {
			fetch_end(fe, n < 0 ? errno : ECONNRESET);
			return (0);
		}
		fe->fe_inoff += (size_t)n;
		if (fe->fe_inoff == hdr && fe->fe_buf[i] == NULL &&
		    (error = fetch_header(fe)) != 0) {
			fetch_end(fe, error);
			return (0);
		}
		if (fe->fe_inoff == hdr + fe->fe_len[i] &&
		    fe->fe_buf[i] != NULL) {
			((char *)fe->fe_buf[i])[fe->fe_len[i]] = '\0';
			fe->fe_inoff = 0;
			fe->fe_cur = fetch_next(fe->fe_want, fe->fe_cur + 1);
			if (fe->fe_cur == FETCH_NVALUES) {
				fetch_end(fe, 0);
				return (1);
			}
		}
	}
}

void
fetch_run(struct fetch *fe, size_t n, int want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, left;
	struct pollfd *pfd;
	size_t active = 0, k;
	int error;

	for (size_t i = 0; i < n; i++) {
		const struct endpoint *ep = fe[i].fe_ep;

		memset(&fe[i], 0, sizeof(fe[i]));
		fe[i].fe_ep = ep;
		fe[i].fe_fd = -1;
		fe[i].fe_want = want;
		if ((error = fetch_connect(&fe[i])) != 0)
			fetch_end(&fe[i], error);
		else
			active++;
	}
	if ((pfd = calloc(n + 1, sizeof(*pfd))) == NULL) {
		for (size_t i = 0; i < n; i++)
			fetch_end(&fe[i], ENOMEM);
		return;
	}
	while (active > 0 && (left = deadline - now_ms()) > 0) {
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (fe[i].fe_fd >= 0)
				pfd[k++] = (struct pollfd){ .fd = fe[i].fe_fd,
				    .events = fe[i].fe_outoff < fe[i].fe_outlen ?
				    POLLOUT : POLLIN };
		if (poll(pfd, k, (int)left) < 0 && errno != EINTR)
			break;
		k = 0;
		active = 0;
		for (size_t i = 0; i < n; i++) {
			if (fe[i].fe_fd < 0)
				continue;
			if (pfd[k++].revents != 0) {
				if (fe[i].fe_outoff < fe[i].fe_outlen)
					fetch_write(&fe[i]);
				else
					fetch_read(&fe[i]);
			}
			active += fe[i].fe_fd >= 0;
		}
	}
	free(pfd);
	for (size_t i = 0; i < n; i++)
		if (fe[i].fe_fd >= 0)
			fetch_end(&fe[i], ETIMEDOUT);
}

void
fetch_free(struct fetch *fe, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < FETCH_NVALUES; j++) {
			free(fe[i].fe_buf[j]);
			fe[i].fe_buf[j] = NULL;
		}
		fetch_end(&fe[i], 0);
	}
}

int
fetch_gone(const struct fetch *fe)
{
	return (fe->fe_error == ECONNREFUSED || fe->fe_error == ENOENT);
}

int
fetch_list(const struct fetch *fe, struct memory_type_list *list)
{
	if (fe->fe_error != 0 || fe->fe_srverr[FETCH_ZONES] != 0 ||
	    fe->fe_buf[FETCH_ZONES] == NULL)
		return (-1);
	if (memstat_buf_uma(list, fe->fe_buf[FETCH_ZONES],
	    fe->fe_len[FETCH_ZONES]) != 0)
		return (-1);
	/* A process without malloc types has no stream: not an error. */
	if (fe->fe_srverr[FETCH_MALLOC] == 0 &&
	    fe->fe_buf[FETCH_MALLOC] != NULL &&
	    memstat_buf_malloc(list, fe->fe_buf[FETCH_MALLOC],
	    fe->fe_len[FETCH_MALLOC]) != 0)
		return (-1);
	return (0);
}

int
fetch_kmem(const struct fetch *fe, struct memstat_kmem *k)
{
	if (fe->fe_error != 0 || fe->fe_srverr[FETCH_KMEM] != 0 ||
	    fe->fe_buf[FETCH_KMEM] == NULL)
		return (-1);
	return (memstat_kmem_buf(k, fe->fe_buf[FETCH_KMEM],
	    fe->fe_len[FETCH_KMEM], (fe->fe_want & FETCH_EXTENDED) != 0));
}
