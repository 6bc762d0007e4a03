/*
 * zone_hello.c - a zone of fixed-size objects, with a constructor.
 *
 *   cc zone_hello.c $(pkg-config --cflags --libs uma) -o zone_hello
 */
#include <stdio.h>
#include <string.h>

#include <uma/uma.h>

struct conn {
	int	fd;
	char	peer[56];
};

static int
conn_ctor(void *mem, int size, void *arg, int flags)
{
	struct conn *c = mem;

	(void)size;	/* the zone's item size: always sizeof(*c) here */
	(void)flags;	/* M_WAITOK or M_NOWAIT, as the caller passed */
	c->fd = -1;
	snprintf(c->peer, sizeof(c->peer), "%s", arg != NULL ? (char *)arg : "");
	return (0);
}

int
main(void)
{
	struct conn *conns[1000];
	uma_zone_t zone;

	zone = uma_zcreate("conn", sizeof(struct conn), conn_ctor, NULL, NULL,
	    NULL, UMA_ALIGN_CACHE, 0);
	if (zone == NULL) {
		perror("uma_zcreate");
		return (1);
	}
	for (int i = 0; i < 1000; i++)
		conns[i] = uma_zalloc_arg(zone, "198.51.100.7", M_WAITOK);
	printf("zone \"%s\": %d items in use, %zu bytes of slabs\n",
	    uma_zone_name(zone), uma_zone_get_cur(zone), uma_zone_memory(zone));
	for (int i = 0; i < 1000; i++)
		uma_zfree(zone, conns[i]);
	printf("after free: %d in use (items stay cached for reuse)\n",
	    uma_zone_get_cur(zone));
	uma_zone_reclaim(zone, UMA_RECLAIM_DRAIN);
	printf("after reclaim: %zu bytes of slabs\n", uma_zone_memory(zone));
	uma_zdestroy(zone);
	return (0);
}
