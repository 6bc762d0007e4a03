/*
 * export.c - the export endpoint: this process's sysctl tree served on a
 * Unix socket, for umastat -p PID.  The wire protocol is in <uma/stream.h>.
 *
 * Layer: above sysctl; reaches the tree only through sysctl_int.h.  One
 * thread, every signal blocked, polls a bounded set of non-blocking
 * clients; requests are answered in order on each connection.  What keeps
 * a client from hurting the program: peer credentials checked at accept,
 * requests bounded (UMA_EXPORT_MAXREQ) and read into fixed buffers, a
 * client stalled in the middle of a request or a response dropped after
 * UMA_EXPORT_TIMEOUT_MS (idle ones after UMA_EXPORT_IDLE_MS), the oldest
 * client evicted when a new one finds every slot taken, and requests run
 * without any lock a fast path takes (the stream takes only the zone
 * list's read lock).  No malloc: responses are built in mmap'ed buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uma/stream.h>
#include <uma/sysctl.h>

#include "export.h"
#include "kthread.h"
#include "sysctl_int.h"
#include "threads.h"

#define	EXPORT_MAXCLIENTS	16
#define	EXPORT_ACCEPTS		64	/* accepts per poll round */
#define	EXPORT_REQMAX		(sizeof(struct uma_export_req) + UMA_EXPORT_MAXREQ)
#define	EXPORT_CHUNK		65536	/* response buffers grow by this */

/* A response being built or sent: an mmap'ed buffer. */
struct xbuf {
	char		*xb_buf;
	size_t		 xb_len;	/* bytes in the buffer */
	size_t		 xb_cap;
	size_t		 xb_off;	/* bytes sent */
	int		 xb_error;	/* ENOMEM once growing failed */
};

struct client {
	int		 cl_fd;		/* -1: free slot */
	int64_t		 cl_last;	/* ms of the last progress */
	size_t		 cl_inlen;	/* request bytes received */
	bool		 cl_close;	/* close once the response is sent */
	bool		 cl_refused;	/* another uid: its request gets EACCES */
	struct xbuf	 cl_out;
	unsigned char	 cl_in[EXPORT_REQMAX];
};

static struct export {
	pthread_mutex_t	 ex_lock;	/* start/stop */
	pthread_mutex_t	 ex_path_lock;	/* ex_path (uma.export_path) */
	bool		 ex_running;
	bool		 ex_hooks;	/* atexit/atfork registered */
	pid_t		 ex_pid;	/* the process that owns the socket */
	pthread_t	 ex_thread;
	int		 ex_listen;
	int		 ex_wake[2];	/* a byte here stops the thread */
	char		 ex_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} ex = {
	.ex_lock = PTHREAD_MUTEX_INITIALIZER,
	.ex_path_lock = PTHREAD_MUTEX_INITIALIZER,
	.ex_listen = -1,
	.ex_wake = { -1, -1 },
};

/*
 * The clients (about 1 MiB of buffers) are zero-initialized, apart from ex:
 * in its initialized data they made the library's file 1 MiB larger, and
 * every program that loads it map more of that file.
 */
static struct client ex_clients[EXPORT_MAXCLIENTS] __bss_cold;

int uma_export_tunable;

static int
export_path_handler(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid)
{
	char path[sizeof(ex.ex_path)];

	pthread_mutex_lock(&ex.ex_path_lock);
	memcpy(path, ex.ex_path, sizeof(path));
	pthread_mutex_unlock(&ex.ex_path_lock);
	return (uma__sysctl_out(req, path, strlen(path) + 1));
}

UMA_SYSCTL_INT(sysctl_export, "uma.export", &uma_export_tunable,
    UMA_CTLFLAG_RDTUN, 0, 1,
    "Serve the sysctl tree on a Unix socket from startup");
UMA_SYSCTL_PROC(sysctl_export_path, "uma.export_path", UMA_CTLTYPE_STRING,
    UMA_CTLFLAG_RD, "A", export_path_handler, NULL,
    "Socket of the export endpoint (empty when not serving)");

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Make room for `need` bytes in all; 0 or ENOMEM. */
static int
xbuf_reserve(struct xbuf *xb, size_t need)
{
	size_t cap;
	void *p;

	if (need <= xb->xb_cap)
		return (0);
	if (xb->xb_error != 0 || need > UINT32_MAX)
		return (xb->xb_error = ENOMEM);
	cap = roundup2(need, EXPORT_CHUNK);
	p = xb->xb_buf == NULL ? mmap(NULL, cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
	    mremap(xb->xb_buf, xb->xb_cap, cap, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return (xb->xb_error = ENOMEM);
	xb->xb_buf = p;
	xb->xb_cap = cap;
	return (0);
}

static void
xbuf_free(struct xbuf *xb)
{
	if (xb->xb_buf != NULL)
		munmap(xb->xb_buf, xb->xb_cap);
	memset(xb, 0, sizeof(*xb));
}

static int
xbuf_append(struct xbuf *xb, const void *p, size_t len)
{
	if (xbuf_reserve(xb, xb->xb_len + len) != 0)
		return (ENOMEM);
	memcpy(xb->xb_buf + xb->xb_len, p, len);
	xb->xb_len += len;
	return (0);
}

/* Start a response: the header, to be completed by resp_finish. */
static void
resp_start(struct xbuf *xb)
{
	struct uma_export_resp r = { .ues_magic = UMA_EXPORT_MAGIC };

	xbuf_free(xb);
	xbuf_append(xb, &r, sizeof(r));
}

static void
resp_finish(struct xbuf *xb, int error)
{
	struct uma_export_resp r = { .ues_magic = UMA_EXPORT_MAGIC };

	if (error == 0 && xb->xb_error != 0)
		error = xb->xb_error;
	if (xb->xb_buf == NULL && xbuf_reserve(xb, sizeof(r)) != 0)
		return;		/* no memory: the client times out */
	if (error != 0)
		xb->xb_len = sizeof(r);
	r.ues_error = error;
	r.ues_len = (uint32_t)(xb->xb_len - sizeof(r));
	memcpy(xb->xb_buf, &r, sizeof(r));
	xb->xb_off = 0;
}

static int
op_get(struct xbuf *xb, const char *name)
{
	struct uma__sysctl_req req = { 0 };
	size_t hdr = sizeof(struct uma_export_resp);
	int error;

	if ((error = uma__sysctl_request(name, &req)) != 0)
		return (error);
	for (int tries = 0; tries < 4; tries++) {
		if (xbuf_reserve(xb, hdr + req.oldidx + req.oldidx / 8 + 256))
			return (ENOMEM);
		req = (struct uma__sysctl_req){ .oldp = xb->xb_buf + hdr,
		    .oldlen = xb->xb_cap - hdr };
		if ((error = uma__sysctl_request(name, &req)) != ENOMEM)
			break;
	}
	if (error != 0)
		return (error);
	if (req.type == UMA_CTLTYPE_STRING && req.oldidx > 0)
		req.oldidx--;		/* no NUL on the wire */
	xb->xb_len = hdr + req.oldidx;
	return (0);
}

static int
op_set(const char *name, const void *val, size_t vallen)
{
	struct uma__sysctl_req req = { .newp = val, .newlen = vallen };

	return (uma__sysctl_request(name, &req));
}

static int
op_list_one(const struct uma_sysctl_info *info, void *arg)
{
	struct xbuf *xb = arg;
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\n", info->name,
	    uma__sysctl_type_name(info->type),
	    uma__sysctl_access_name(info->flags),
	    info->descr != NULL ? info->descr : "");
	if (n >= (int)sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	return (xbuf_append(xb, line, (size_t)n));
}

/* A response with only an error, then close: the stream is lost. */
static void
client_fatal(struct client *cl, int error)
{
	resp_start(&cl->cl_out);
	resp_finish(&cl->cl_out, error);
	cl->cl_close = true;
	cl->cl_inlen = 0;
}

/* Answer the complete request in cl_in. */
static void
client_request(struct client *cl)
{
	struct uma_export_req rq;
	char name[UMA_EXPORT_MAXNAME + 1];
	const unsigned char *body = cl->cl_in + sizeof(rq);
	int error = 0;

	if (cl->cl_refused) {
		client_fatal(cl, EACCES);
		return;
	}
	memcpy(&rq, cl->cl_in, sizeof(rq));
	resp_start(&cl->cl_out);
	if (rq.uer_namelen > UMA_EXPORT_MAXNAME ||
	    memchr(body, '\0', rq.uer_namelen) != NULL)
		error = EINVAL;
	else {
		memcpy(name, body, rq.uer_namelen);
		name[rq.uer_namelen] = '\0';
	}
	if (error == 0) {
		switch (rq.uer_op) {
		case UMA_EXPORT_OP_GET:
			error = rq.uer_vallen != 0 ? EINVAL :
			    op_get(&cl->cl_out, name);
			break;
		case UMA_EXPORT_OP_SET:
			error = op_set(name, body + rq.uer_namelen,
			    rq.uer_vallen);
			break;
		case UMA_EXPORT_OP_LIST:
			error = rq.uer_namelen != 0 || rq.uer_vallen != 0 ?
			    EINVAL : uma_sysctl_list(op_list_one, &cl->cl_out);
			break;
		default:
			error = EINVAL;
		}
	}
	resp_finish(&cl->cl_out, error);
	cl->cl_inlen = 0;
}

static void
client_close(struct client *cl)
{
	if (cl->cl_fd >= 0)
		close(cl->cl_fd);
	cl->cl_fd = -1;
	cl->cl_inlen = 0;
	cl->cl_close = false;
	cl->cl_refused = false;
	xbuf_free(&cl->cl_out);
}

/*
 * Close a client to make room, telling it why: a response with EBUSY, in
 * place of the one to the request it is sending or waiting for (or ahead
 * of its next request, when idle).  One whose response is partly sent
 * cannot be told: its next read ends short.  Sent without waiting; a
 * full socket loses the notice, not the server's time.
 */
static void
client_evict(struct client *cl)
{
	struct uma_export_resp r = { .ues_magic = UMA_EXPORT_MAGIC,
	    .ues_error = EBUSY };

	if (cl->cl_out.xb_buf == NULL || cl->cl_out.xb_off == 0)
		(void)send(cl->cl_fd, &r, sizeof(r), MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	client_close(cl);
}

/* Bytes of the request in progress: the header, then what it announces. */
static size_t
client_need(const struct client *cl)
{
	struct uma_export_req rq;

	if (cl->cl_inlen < sizeof(rq))
		return (sizeof(rq));
	memcpy(&rq, cl->cl_in, sizeof(rq));
	return (sizeof(rq) + rq.uer_namelen + rq.uer_vallen);
}

/* Read what is there; answer a request once it is complete. */
static void
client_read(struct client *cl)
{
	struct uma_export_req rq;
	size_t need;
	ssize_t n;

	while (!cl->cl_close && cl->cl_out.xb_buf == NULL) {
		need = client_need(cl);
		n = recv(cl->cl_fd, cl->cl_in + cl->cl_inlen,
		    need - cl->cl_inlen, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(cl);	/* EOF or error */
			return;
		}
		if (n < 0)
			return;
		cl->cl_last = now_ms();
		cl->cl_inlen += (size_t)n;
		if (cl->cl_inlen == sizeof(rq)) {
			memcpy(&rq, cl->cl_in, sizeof(rq));
			if (rq.uer_magic != UMA_EXPORT_MAGIC)
				client_fatal(cl, cl->cl_refused ? EACCES :
				    EINVAL);
			else if ((uint64_t)rq.uer_namelen + rq.uer_vallen >
			    UMA_EXPORT_MAXREQ)
				client_fatal(cl, cl->cl_refused ? EACCES :
				    E2BIG);
		}
		if (!cl->cl_close && cl->cl_inlen == client_need(cl))
			client_request(cl);
	}
}

/* Send what the socket takes of the pending response. */
static void
client_write(struct client *cl)
{
	struct xbuf *xb = &cl->cl_out;
	ssize_t n;

	while (xb->xb_off < xb->xb_len) {
		n = send(cl->cl_fd, xb->xb_buf + xb->xb_off,
		    xb->xb_len - xb->xb_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(cl);
			return;
		}
		xb->xb_off += (size_t)n;
		cl->cl_last = now_ms();
	}
	xbuf_free(xb);
	if (cl->cl_close)
		client_close(cl);
}

/* Same user or root? */
static bool
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    len == sizeof(cred) && (cred.uid == 0 || cred.uid == geteuid()));
}

/*
 * A slot for a new client.  A peer of another uid (the directory keeps it
 * out unless someone opened it) takes only a free slot: it is read like
 * any client, so that its request is answered with EACCES rather than cut
 * off while it is sent, and it can evict no one.  Without a free slot it
 * gets EACCES at once and the door.  A peer of ours takes a free slot or
 * evicts the client that made progress least recently.
 */
static struct client *
export_slot(int fd, bool allowed)
{
	struct uma_export_resp r = { .ues_magic = UMA_EXPORT_MAGIC,
	    .ues_error = EACCES };
	struct client *cl, *victim = NULL;

	for (int j = 0; j < EXPORT_MAXCLIENTS; j++) {
		cl = &ex_clients[j];
		if (cl->cl_fd < 0)
			return (cl);
		if (victim == NULL || cl->cl_last < victim->cl_last)
			victim = cl;
	}
	if (!allowed) {
		(void)send(fd, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
		return (NULL);
	}
	client_evict(victim);
	return (victim);
}

static void
export_accept(void)
{
	struct client *cl;
	bool allowed;
	int fd;

	for (int i = 0; i < EXPORT_ACCEPTS; i++) {
		fd = accept4(ex.ex_listen, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		allowed = peer_allowed(fd);
		if ((cl = export_slot(fd, allowed)) == NULL) {
			close(fd);
			continue;
		}
		cl->cl_fd = fd;
		cl->cl_refused = !allowed;
		cl->cl_last = now_ms();
	}
}

/* Drop clients stalled mid-request or mid-response, and idle ones. */
static void
export_expire(void)
{
	struct client *cl;
	int64_t now = now_ms(), limit;

	for (int i = 0; i < EXPORT_MAXCLIENTS; i++) {
		cl = &ex_clients[i];
		if (cl->cl_fd < 0)
			continue;
		limit = cl->cl_inlen > 0 || cl->cl_out.xb_buf != NULL ?
		    UMA_EXPORT_TIMEOUT_MS : UMA_EXPORT_IDLE_MS;
		if (now - cl->cl_last > limit)
			client_close(cl);
	}
}

static void *
export_main(void *arg)
{
	struct pollfd pfd[EXPORT_MAXCLIENTS + 2];
	struct client *cl;
	int n;

	prctl(PR_SET_NAME, "uma-export");	/* as uma-trim (reclaim.c) */
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = ex.ex_wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ex.ex_listen, .events = POLLIN };
		for (n = 0; n < EXPORT_MAXCLIENTS; n++) {
			cl = &ex_clients[n];
			pfd[n + 2] = (struct pollfd){ .fd = cl->cl_fd,
			    .events = cl->cl_out.xb_buf != NULL ? POLLOUT :
			    POLLIN };
		}
		if (poll(pfd, EXPORT_MAXCLIENTS + 2, 100) < 0 &&
		    errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		for (n = 0; n < EXPORT_MAXCLIENTS; n++) {
			cl = &ex_clients[n];
			if (cl->cl_fd < 0 || pfd[n + 2].fd != cl->cl_fd ||
			    pfd[n + 2].revents == 0)
				continue;
			if (cl->cl_out.xb_buf == NULL)
				client_read(cl);
			if (cl->cl_fd >= 0 && cl->cl_out.xb_buf != NULL)
				client_write(cl);
		}
		if (pfd[1].revents != 0)
			export_accept();
		export_expire();
	}
	uma__kthread_exiting();
	return (NULL);
}

/* The directory: 0 if it is (now) ours alone, else an errno value. */
static int
export_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return (errno);
	if (lstat(dir, &st) != 0)
		return (errno);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return (EPERM);
	return (0);
}

static int
export_default_dir(char *buf, size_t size)
{
	const char *d;
	int n;

	if ((d = getenv("UMA_EXPORT_DIR")) != NULL && *d != '\0')
		n = snprintf(buf, size, "%s", d);
	else if ((d = getenv("XDG_RUNTIME_DIR")) != NULL && *d == '/')
		n = snprintf(buf, size, "%s/uma", d);
	else
		n = snprintf(buf, size, "/tmp/uma-%u", (unsigned)geteuid());
	return (n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0);
}

static void
export_atexit(void)
{
	if (ex.ex_running && ex.ex_pid == getpid())
		unlink(ex.ex_path);
}

/* The fork child has no server thread: forget the parent's endpoint. */
static void
export_fork_child(void)
{
	pthread_mutex_init(&ex.ex_lock, NULL);
	pthread_mutex_init(&ex.ex_path_lock, NULL);
	if (!ex.ex_running)
		return;
	close(ex.ex_listen);
	close(ex.ex_wake[0]);
	close(ex.ex_wake[1]);
	for (int i = 0; i < EXPORT_MAXCLIENTS; i++)
		client_close(&ex_clients[i]);
	ex.ex_listen = ex.ex_wake[0] = ex.ex_wake[1] = -1;
	ex.ex_path[0] = '\0';
	ex.ex_running = false;
}

/* Socket, bind, mode 0600, listen; 0 or an errno value. */
static int
export_listen(const char *dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n, fd, error;

	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%d.sock", dir,
	    (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return (ENAMETOOLONG);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return (errno);
	(void)unlink(sun.sun_path);	/* a dead process with our pid */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(sun.sun_path, 0600) != 0 || listen(fd, 64) != 0) {
		error = errno;
		(void)unlink(sun.sun_path);
		close(fd);
		return (error);
	}
	ex.ex_listen = fd;
	pthread_mutex_lock(&ex.ex_path_lock);
	memcpy(ex.ex_path, sun.sun_path, sizeof(ex.ex_path));
	pthread_mutex_unlock(&ex.ex_path_lock);
	return (0);
}

static void
export_teardown(void)
{
	if (ex.ex_listen >= 0)
		close(ex.ex_listen);
	for (int i = 0; i < 2; i++)
		if (ex.ex_wake[i] >= 0)
			close(ex.ex_wake[i]);
	ex.ex_listen = ex.ex_wake[0] = ex.ex_wake[1] = -1;
	for (int i = 0; i < EXPORT_MAXCLIENTS; i++)
		client_close(&ex_clients[i]);
	pthread_mutex_lock(&ex.ex_path_lock);
	if (ex.ex_path[0] != '\0')
		(void)unlink(ex.ex_path);
	ex.ex_path[0] = '\0';
	pthread_mutex_unlock(&ex.ex_path_lock);
}

static int
export_start_locked(const char *dir)
{
	char dbuf[PATH_MAX];
	int error;

	UMA_MTX_ASSERT(&ex.ex_lock);

	if (ex.ex_running)
		return (EEXIST);
	if (dir == NULL) {
		if ((error = export_default_dir(dbuf, sizeof(dbuf))) != 0)
			return (error);
		dir = dbuf;
	}
	for (int i = 0; i < EXPORT_MAXCLIENTS; i++)
		ex_clients[i].cl_fd = -1;
	if ((error = export_dir(dir)) != 0)
		return (error);
	if (pipe2(ex.ex_wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return (errno);
	if ((error = export_listen(dir)) != 0) {
		export_teardown();
		return (error);
	}
	uma__forks_register();	/* fork handlers before our first thread */
	error = uma__kthread_create(&ex.ex_thread, export_main, NULL, false);
	if (error != 0) {
		export_teardown();
		return (error);
	}
	ex.ex_pid = getpid();
	ex.ex_running = true;
	if (!ex.ex_hooks) {
		ex.ex_hooks = true;
		atexit(export_atexit);
		pthread_atfork(NULL, NULL, export_fork_child);
	}
	return (0);
}

/* See sysctl.h */
int
uma_export_start(const char *dir)
{
	int error;

	pthread_mutex_lock(&ex.ex_lock);
	error = export_start_locked(dir);
	pthread_mutex_unlock(&ex.ex_lock);
	return (error);
}

/* See sysctl.h */
void
uma_export_stop(void)
{
	char b = 0;

	pthread_mutex_lock(&ex.ex_lock);
	if (ex.ex_running) {
		if (pthread_equal(pthread_self(), ex.ex_thread))
			uma__panic("uma: uma_export_stop from the server");
		(void)write(ex.ex_wake[1], &b, 1);
		pthread_join(ex.ex_thread, NULL);
		export_teardown();
		ex.ex_running = false;
	}
	pthread_mutex_unlock(&ex.ex_lock);
}

/*
 * Serve if uma.export=1 (or UMA_EXPORT=1, its shorthand: tunable.c) and
 * not serving yet: from uma's start-up once it is complete, and in a fork
 * child at its first poll (threads.c), where the parent's endpoint is
 * gone and the child gets its own socket.
 */
void
uma__export_boot(void)
{
	int error;

	if (!uma_export_tunable)
		return;
	if ((error = uma_export_start(NULL)) != 0 && error != EEXIST)
		fprintf(stderr, "uma: export endpoint not started: %s\n",
		    strerror(error));
}
