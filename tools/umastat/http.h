/*
 * http.h - the exporter's HTTP/1.1 server (http.c): read-only, GET and
 * HEAD only, one thread, every limit fixed (see http.c).
 */
#ifndef _UMASTAT_HTTP_H_
#define	_UMASTAT_HTTP_H_

#include <stddef.h>

struct http_request {
	const char	*hr_path;	/* "/metrics" */
	const char	*hr_query;	/* after '?', or "" */
	const char	*hr_accept;	/* the Accept header, or "" */
};

struct http_response {
	int		 hs_status;	/* 200 unless the handler says */
	const char	*hs_type;	/* Content-Type */
	char		*hs_body;	/* malloc'ed; the server frees it */
	size_t		 hs_len;
};

typedef void http_handler(const struct http_request *,
    struct http_response *, void *);

struct http_server;

/*
 * Listen on `addr` ("HOST:PORT", "[V6]:PORT"; port 0 picks one).  Returns
 * the server, with the address bound in `bound`, or NULL with a message
 * in `err`.
 */
struct http_server *http_listen(const char *addr, char *bound, size_t blen,
	    char *err, size_t elen);
/* Serve until SIGINT or SIGTERM; returns 0 then. */
int	http_serve(struct http_server *hs, http_handler *fn, void *arg);
void	http_close(struct http_server *hs);

#endif /* !_UMASTAT_HTTP_H_ */
