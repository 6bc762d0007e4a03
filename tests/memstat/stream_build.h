/*
 * stream_build.h - builds vm.zone_stats and kern.malloc_stats streams by
 * hand for the libmemstat tests and the fuzzer's seeds.
 */
#ifndef _STREAM_BUILD_H_
#define	_STREAM_BUILD_H_

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/memstat/memstat_stream.h"

struct sb {
	unsigned char	*buf;
	size_t		 len;
	uint32_t	 maxcpus;
};

static inline void
sb_put(struct sb *sb, const void *p, size_t n)
{
	sb->buf = realloc(sb->buf, sb->len + n);
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
}

/* Start a stream: the count is patched by sb_zone / sb_mtype. */
static inline void
sb_uma_start(struct sb *sb, uint32_t maxcpus)
{
	struct uma_stream_header ush = { UMA_STREAM_VERSION, maxcpus, 0, 0 };

	memset(sb, 0, sizeof(*sb));
	sb->maxcpus = maxcpus;
	sb_put(sb, &ush, sizeof(ush));
}

static inline void
sb_zone(struct sb *sb, const struct uma_type_header *uth,
    const struct uma_percpu_stat *ups)
{
	struct uma_stream_header *ush = (void *)sb->buf;
	struct uma_percpu_stat zero = { 0 };

	ush->ush_count++;
	sb_put(sb, uth, sizeof(*uth));
	for (uint32_t i = 0; i < sb->maxcpus; i++)
		sb_put(sb, ups != NULL ? &ups[i] : &zero, sizeof(zero));
}

static inline void
sb_malloc_start(struct sb *sb, uint32_t maxcpus)
{
	struct malloc_type_stream_header h = { MALLOC_TYPE_STREAM_VERSION,
	    maxcpus, 0, 0 };

	memset(sb, 0, sizeof(*sb));
	sb->maxcpus = maxcpus;
	sb_put(sb, &h, sizeof(h));
}

static inline void
sb_mtype(struct sb *sb, const char *name, const struct malloc_type_stats *s)
{
	struct malloc_type_stream_header *h = (void *)sb->buf;
	struct malloc_type_header mth = { { 0 } };
	struct malloc_type_stats zero = { 0 };

	h->mtsh_count++;
	strncpy(mth.mth_name, name, sizeof(mth.mth_name) - 1);
	sb_put(sb, &mth, sizeof(mth));
	for (uint32_t i = 0; i < sb->maxcpus; i++)
		sb_put(sb, s != NULL ? &s[i] : &zero, sizeof(zero));
}

#endif
