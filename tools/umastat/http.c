/*
 * http.c - the exporter's HTTP/1.1 server: GET and HEAD of a handler's
 * pages, nothing else (no body is ever read, so no request can change
 * anything).  One thread polls the listening socket and a fixed table of
 * connections.
 *
 * Our own rather than libmicrohttpd: the exporter needs two read-only
 * pages and hard limits, and a few hundred lines whose every limit is a
 * constant below are easier to review and to test than a library's
 * configuration of a general server (bodies, chunked uploads, threads).
 *
 * The limits: a request (line and headers) of HTTP_MAXREQ bytes and
 * HTTP_MAXHEADERS headers (431 beyond), HTTP_MAXCONN connections (when
 * full, a new one evicts the oldest that has not sent a whole request, or
 * else the longest idle), a request complete within HTTP_REQ_MS of its
 * first byte (a client that trickles bytes is dropped however slowly it
 * sends), a response sent within HTTP_WRITE_MS (however slowly it reads), a
 * keep-alive connection idle at most HTTP_IDLE_MS.  Anything malformed
 * gets 400 and the connection closes.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define	HTTP_MAXCONN	256
#define	HTTP_MAXREQ	8192
#define	HTTP_MAXHEADERS	64
#define	HTTP_ACCEPTS	64	/* accepts per poll round */
#define	HTTP_REQ_MS	5000
#define	HTTP_WRITE_MS	10000
#define	HTTP_IDLE_MS	60000

struct conn {
	int	 c_fd;		/* -1: free slot */
	int	 c_writing;	/* sending c_out */
	int	 c_served;	/* has had a whole request */
	int	 c_close;	/* close once c_out is sent */
	int64_t	 c_start;	/* the request's first byte, or the response's */
	int64_t	 c_last;	/* last progress */
	size_t	 c_inlen;
	size_t	 c_scanned;	/* bytes of c_in searched for the end */
	char	*c_out;
	size_t	 c_outlen, c_outoff;
	char	 c_in[HTTP_MAXREQ + 1];
};

struct http_server {
	int		 hs_fd;
	struct conn	*hs_conn;	/* HTTP_MAXCONN of them */
	http_handler	*hs_fn;
	void		*hs_arg;
};

static volatile sig_atomic_t http_stop;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct http_server *
http_listen(const char *addr, char *bound, size_t blen, char *err,
    size_t elen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE }, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256], serv[32];
	const char *colon = strrchr(addr, ':');
	struct http_server *hs;
	size_t hlen;
	int fd, one = 1, rc;

	if (colon == NULL || colon == addr || colon[1] == '\0' ||
	    (hlen = (size_t)(colon - addr)) >= sizeof(host)) {
		snprintf(err, elen, "%s: not ADDR:PORT", addr);
		return (NULL);
	}
	if (addr[0] == '[' && colon[-1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hlen - 2, addr + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hlen, addr);
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, elen, "%s: %s", addr, gai_strerror(rc));
		return (NULL);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(err, elen, "%s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return (NULL);
	}
	freeaddrinfo(ai);
	snprintf(bound, blen, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s",
	    host, serv);
	if ((hs = calloc(1, sizeof(*hs))) == NULL ||
	    (hs->hs_conn = calloc(HTTP_MAXCONN, sizeof(struct conn))) == NULL) {
		snprintf(err, elen, "%s", strerror(ENOMEM));
		free(hs);
		close(fd);
		return (NULL);
	}
	hs->hs_fd = fd;
	for (int i = 0; i < HTTP_MAXCONN; i++)
		hs->hs_conn[i].c_fd = -1;
	return (hs);
}

static void
conn_close(struct conn *c)
{
	if (c->c_fd >= 0)
		close(c->c_fd);
	free(c->c_out);
	c->c_fd = -1;
	c->c_out = NULL;
	c->c_writing = c->c_served = c->c_close = 0;
	c->c_inlen = c->c_scanned = 0;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 400: return ("Bad Request");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 431: return ("Request Header Fields Too Large");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Internal Server Error");
	}
}

/* Queue a response; `body` (malloc'ed, may be NULL) becomes ours. */
static void
conn_respond(struct conn *c, int status, const char *type, char *body,
    size_t len, int head)
{
	char hdr[512];
	int n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: %s\r\n\r\n", status, status_text(status), type, len,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    c->c_close ? "close" : "keep-alive");
	if (head)
		len = 0;
	free(c->c_out);
	if ((c->c_out = malloc((size_t)n + len)) == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	memcpy(c->c_out, hdr, (size_t)n);
	if (len > 0)
		memcpy(c->c_out + n, body, len);
	free(body);
	c->c_outlen = (size_t)n + len;
	c->c_outoff = 0;
	c->c_writing = 1;
	c->c_start = c->c_last = now_ms();
}

static void
conn_error(struct conn *c, int status)
{
	static const char text[] = "error\n";
	char *body = strdup(text);

	c->c_close = 1;
	conn_respond(c, status, "text/plain; charset=utf-8", body,
	    body != NULL ? strlen(body) : 0, 0);
}

/* RFC 9110 token characters (method and header names). */
static int
is_token(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return (0);
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] != '\0' && strchr(extra, s[i]) != NULL)))
			return (0);
	return (1);
}

/* A field value or target: visible characters, spaces and tabs only. */
static int
is_text(const char *s, int spaces)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && !(spaces && *s == '\t'))
			return (0);
		else if (*s == 0x7f || (!spaces && *s == ' '))
			return (0);
	return (1);
}

/* Cut line `p` at its end (LF or CRLF); returns the next line. */
static char *
line_cut(char *p)
{
	char *nl = strchr(p, '\n');

	if (nl > p && nl[-1] == '\r')
		nl[-1] = '\0';
	*nl = '\0';
	return (nl + 1);
}

struct parsed {
	char	*pa_method, *pa_target;
	int	 pa_http11, pa_host, pa_close, pa_keepalive, pa_body;
	int	 pa_nheaders;
	char	*pa_accept;
};

/* One header line; 0 or the status to answer. */
static int
parse_header(struct parsed *pa, char *line)
{
	char *colon = strchr(line, ':'), *v;
	size_t vlen;

	if (line[0] == ' ' || line[0] == '\t' || colon == NULL ||
	    !is_token(line, (size_t)(colon - line)))
		return (400);	/* folded, or not a header */
	if (++pa->pa_nheaders > HTTP_MAXHEADERS)
		return (431);
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (vlen = strlen(v); vlen > 0 && (v[vlen - 1] == ' ' ||
	    v[vlen - 1] == '\t'); vlen--)
		v[vlen - 1] = '\0';
	if (!is_text(v, 1))
		return (400);
	if (strcasecmp(line, "Host") == 0)
		pa->pa_host++;
	else if (strcasecmp(line, "Accept") == 0)
		pa->pa_accept = v;
	else if (strcasecmp(line, "Transfer-Encoding") == 0)
		pa->pa_body = 1;
	else if (strcasecmp(line, "Content-Length") == 0 &&
	    strcmp(v, "0") != 0)
		pa->pa_body = 1;
	else if (strcasecmp(line, "Connection") == 0) {
		if (strcasestr(v, "close") != NULL)
			pa->pa_close = 1;
		if (strcasestr(v, "keep-alive") != NULL)
			pa->pa_keepalive = 1;
	}
	return (0);
}

/* The request line and headers ending at `end`; 0 or a status. */
static int
parse_request(struct parsed *pa, char *buf)
{
	char *p = buf, *next, *sp1, *sp2;
	int status;

	next = line_cut(p);
	if ((sp1 = strchr(p, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' '))
		return (400);
	*sp1 = *sp2 = '\0';
	pa->pa_method = p;
	pa->pa_target = sp1 + 1;
	if (!is_token(p, strlen(p)) || pa->pa_target[0] != '/' ||
	    !is_text(pa->pa_target, 0))
		return (400);
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
		return (400);
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		pa->pa_http11 = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return (505);
	for (p = next; *p != '\0'; p = next) {
		next = line_cut(p);
		if (*p == '\0')
			break;
		if ((status = parse_header(pa, p)) != 0)
			return (status);
	}
	if (pa->pa_body)
		return (400);	/* no request carries a body here */
	if (pa->pa_http11 && pa->pa_host != 1)
		return (400);	/* RFC 9112: exactly one Host */
	return (0);
}

/* Where the headers end in c_in (just past the empty line), or 0. */
static size_t
request_end(struct conn *c)
{
	size_t from = c->c_scanned > 2 ? c->c_scanned - 2 : 0;

	c->c_scanned = c->c_inlen;
	for (size_t i = from; i + 1 < c->c_inlen; i++)
		if (c->c_in[i] == '\n' && (c->c_in[i + 1] == '\n' ||
		    (i + 2 < c->c_inlen && c->c_in[i + 1] == '\r' &&
		    c->c_in[i + 2] == '\n')))
			return (i + (c->c_in[i + 1] == '\n' ? 2 : 3));
	return (0);
}

/* Answer the parsed request (its strings point into c_in). */
static void
conn_answer(struct http_server *hs, struct conn *c, struct parsed *pa,
    int status)
{
	struct http_request rq;
	struct http_response rs = { .hs_status = 200,
	    .hs_type = "text/plain; charset=utf-8" };
	char *q;
	int head;

	if (status != 0) {
		conn_error(c, status);
		return;
	}
	c->c_close = pa->pa_close || (!pa->pa_http11 && !pa->pa_keepalive);
	head = strcmp(pa->pa_method, "HEAD") == 0;
	if (!head && strcmp(pa->pa_method, "GET") != 0) {
		conn_error(c, 405);
		return;
	}
	if ((q = strchr(pa->pa_target, '?')) != NULL)
		*q++ = '\0';
	rq.hr_path = pa->pa_target;
	rq.hr_query = q != NULL ? q : "";
	rq.hr_accept = pa->pa_accept;
	hs->hs_fn(&rq, &rs, hs->hs_arg);
	conn_respond(c, rs.hs_status, rs.hs_type, rs.hs_body, rs.hs_len,
	    head);
}

/* The request of `end` bytes at the head of c_in. */
static void
conn_request(struct http_server *hs, struct conn *c, size_t end)
{
	struct parsed pa = { .pa_accept = (char *)"" };
	char save = c->c_in[end];
	int status;

	c->c_in[end] = '\0';
	status = memchr(c->c_in, '\0', end) != NULL ? 400 :
	    parse_request(&pa, c->c_in);
	c->c_served = 1;
	conn_answer(hs, c, &pa, status);
	if (c->c_fd < 0)
		return;		/* closed: no memory for the response */
	c->c_in[end] = save;
	/* Pipelined requests wait in the buffer for their turn. */
	memmove(c->c_in, c->c_in + end, c->c_inlen - end);
	c->c_inlen -= end;
	c->c_scanned = 0;
}

/* A whole request waiting in c_in is answered; too long a one is 431. */
static void
conn_parse(struct http_server *hs, struct conn *c)
{
	size_t end;

	if ((end = request_end(c)) > 0)
		conn_request(hs, c, end);
	else if (c->c_inlen >= HTTP_MAXREQ)
		conn_error(c, 431);
}

static void
conn_read(struct http_server *hs, struct conn *c)
{
	ssize_t n;

	n = recv(c->c_fd, c->c_in + c->c_inlen, HTTP_MAXREQ - c->c_inlen,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->c_inlen == 0 && c->c_served)
		c->c_start = now_ms();
	c->c_inlen += (size_t)n;
	c->c_last = now_ms();
	conn_parse(hs, c);
}

static void
conn_write(struct http_server *hs, struct conn *c)
{
	ssize_t n;

	n = send(c->c_fd, c->c_out + c->c_outoff, c->c_outlen - c->c_outoff,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->c_outoff += (size_t)n;
	c->c_last = now_ms();
	if (c->c_outoff < c->c_outlen)
		return;
	if (c->c_close) {
		conn_close(c);
		return;
	}
	free(c->c_out);
	c->c_out = NULL;
	c->c_writing = 0;
	conn_parse(hs, c);	/* the next pipelined request, if whole */
}

/* A slot for a new connection: a free one, else an eviction, else NULL. */
static struct conn *
conn_slot(struct http_server *hs)
{
	struct conn *c, *fresh = NULL, *idle = NULL;

	for (int i = 0; i < HTTP_MAXCONN; i++) {
		c = &hs->hs_conn[i];
		if (c->c_fd < 0)
			return (c);
		if (c->c_writing)
			continue;
		if (c->c_inlen > 0 || !c->c_served) {
			if (fresh == NULL || c->c_start < fresh->c_start)
				fresh = c;
		} else if (idle == NULL || c->c_last < idle->c_last)
			idle = c;
	}
	c = fresh != NULL ? fresh : idle;
	if (c != NULL)
		conn_close(c);
	return (c);
}

static void
http_accept(struct http_server *hs)
{
	struct conn *c;
	int fd;

	for (int i = 0; i < HTTP_ACCEPTS; i++) {
		fd = accept4(hs->hs_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if ((c = conn_slot(hs)) == NULL) {
			close(fd);	/* every slot is sending */
			continue;
		}
		c->c_fd = fd;
		c->c_start = c->c_last = now_ms();
		/* A client's request is often there already. */
		conn_read(hs, c);
	}
}

static void
http_expire(struct http_server *hs)
{
	int64_t now = now_ms();
	struct conn *c;

	for (int i = 0; i < HTTP_MAXCONN; i++) {
		c = &hs->hs_conn[i];
		if (c->c_fd < 0)
			continue;
		if (c->c_writing ? now - c->c_start > HTTP_WRITE_MS :
		    c->c_inlen > 0 || !c->c_served ?
		    now - c->c_start > HTTP_REQ_MS :
		    now - c->c_last > HTTP_IDLE_MS)
			conn_close(c);
	}
}

static void
http_on_signal(int sig)
{
	(void)sig;
	http_stop = 1;
}

int
http_serve(struct http_server *hs, http_handler *fn, void *arg)
{
	struct sigaction sa = { .sa_handler = http_on_signal };
	struct pollfd *pfd;
	struct conn *c;

	if ((pfd = calloc(HTTP_MAXCONN + 1, sizeof(*pfd))) == NULL)
		return (-1);
	hs->hs_fn = fn;
	hs->hs_arg = arg;
	/* No SA_RESTART: poll returns at once on a signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!http_stop) {
		pfd[0] = (struct pollfd){ .fd = hs->hs_fd, .events = POLLIN };
		for (int i = 0; i < HTTP_MAXCONN; i++) {
			c = &hs->hs_conn[i];
			pfd[i + 1] = (struct pollfd){ .fd = c->c_fd,
			    .events = c->c_writing ? POLLOUT : POLLIN };
		}
		if (poll(pfd, HTTP_MAXCONN + 1, 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < HTTP_MAXCONN && !http_stop; i++) {
			c = &hs->hs_conn[i];
			if (c->c_fd < 0 || pfd[i + 1].fd != c->c_fd ||
			    pfd[i + 1].revents == 0)
				continue;
			if (c->c_writing)
				conn_write(hs, c);
			else
				conn_read(hs, c);
		}
		if (pfd[0].revents != 0)
			http_accept(hs);
		http_expire(hs);
	}
	free(pfd);
	return (0);
}

void
http_close(struct http_server *hs)
{
	if (hs == NULL)
		return;
	for (int i = 0; i < HTTP_MAXCONN; i++)
		conn_close(&hs->hs_conn[i]);
	close(hs->hs_fd);
	free(hs->hs_conn);
	free(hs);
}
