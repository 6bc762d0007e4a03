/*
 * memstat_kmem.c - the kmem report's records ("vm.kmem_stats",
 * "vm.kmem_stats_extended"): validation, and the opaque struct
 * memstat_kmem with its accessors.
 *
 * The records' fields come from <uma/kmem.h>'s X-macro lists, as do the
 * names and descriptions here; memstat.h numbers them (MEMSTAT_KMEM_*),
 * and the static assertions keep both in step.  Every field is read
 * without alignment assumptions; a record is accepted only if its version
 * is known and the buffer holds exactly what its sizes say.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <uma/kmem.h>

#include "memstat_int.h"

#define	KMEM_MAX_ZONES	(1u << 20)	/* a hostile count costs this much */

struct kmem_zone {
	char		kz_name[UMA_KMEM_MAX_NAME + 1];
	uint32_t	kz_flags;
	uint64_t	kz_field[MEMSTAT_KMEM_Z_NFIELDS];
};

struct memstat_kmem {
	int		 mk_error;
	int		 mk_extended;
	int64_t		 mk_field[MEMSTAT_KMEM_NFIELDS];
	size_t		 mk_nzones;
	struct kmem_zone *mk_zones;
};

/* Offsets, keys and descriptions of every figure, in MEMSTAT_KMEM_ order. */
#define	X(f, k, d)	offsetof(struct uma_kmem_stats, uks_##f),
static const size_t cheap_off[] = { UMA_KMEM_FIELDS(X) };
#undef X
#define	X(f, k, d)	offsetof(struct uma_kmem_stats_extended, ukx_##f),
static const size_t ext_off[] = { UMA_KMEM_EXT_FIELDS(X) };
#undef X
#define	X(f, k, d)	offsetof(struct uma_kmem_zone, ukz_##f),
static const size_t zone_off[] = { UMA_KMEM_ZONE_FIELDS(X) };
#undef X
#define	X(f, k, d)	k,
static const char *const names[] = { UMA_KMEM_FIELDS(X)
    UMA_KMEM_EXT_FIELDS(X) };
static const char *const zone_names[] = { UMA_KMEM_ZONE_FIELDS(X) };
#undef X
#define	X(f, k, d)	d,
static const char *const descrs[] = { UMA_KMEM_FIELDS(X)
    UMA_KMEM_EXT_FIELDS(X) };
#undef X

#define	NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
_Static_assert(NITEMS(cheap_off) == MEMSTAT_KMEM_FIRST_EXTENDED,
    "memstat.h numbers the cheap figures as <uma/kmem.h> lists them");
_Static_assert(NITEMS(names) == MEMSTAT_KMEM_NFIELDS, "figures");
_Static_assert(NITEMS(zone_off) == MEMSTAT_KMEM_Z_NFIELDS, "zone figures");
_Static_assert(offsetof(struct uma_kmem_stats, uks_other) ==
    offsetof(struct uma_kmem_stats, uks_reserved) + 8 * MEMSTAT_KMEM_OTHER,
    "MEMSTAT_KMEM_OTHER is the figure uks_other");

struct memstat_kmem *
memstat_kmem_alloc(void)
{
	return (calloc(1, sizeof(struct memstat_kmem)));
}

void
memstat_kmem_free(struct memstat_kmem *kmem)
{
	if (kmem == NULL)
		return;
	free(kmem->mk_zones);
	free(kmem);
}

int
memstat_kmem_geterror(const struct memstat_kmem *kmem)
{
	return (kmem->mk_error);
}

int
memstat_kmem_extended(const struct memstat_kmem *kmem)
{
	return (kmem->mk_extended);
}

static int
kmem_fail(struct memstat_kmem *kmem, int error)
{
	kmem->mk_error = error;
	return (-1);
}

/* A struct uma_kmem_stats at p (len bytes available): 0 or an error. */
static int
kmem_cheap(const unsigned char *p, size_t len, int64_t *field)
{
	if (len < 2 * sizeof(uint32_t))
		return (MEMSTAT_ERROR_DATAERROR);
	if (_memstat_u32(p, offsetof(struct uma_kmem_stats, uks_version)) !=
	    UMA_KMEM_STATS_VERSION)
		return (MEMSTAT_ERROR_VERSION);
	if (_memstat_u32(p, offsetof(struct uma_kmem_stats, uks_size)) !=
	    sizeof(struct uma_kmem_stats) || len < sizeof(struct uma_kmem_stats))
		return (MEMSTAT_ERROR_DATAERROR);
	for (size_t i = 0; i < NITEMS(cheap_off); i++)
		field[i] = (int64_t)_memstat_u64(p, cheap_off[i]);
	return (0);
}

static void
kmem_zone_parse(const unsigned char *p, struct kmem_zone *z)
{
	memcpy(z->kz_name, p + offsetof(struct uma_kmem_zone, ukz_name),
	    UMA_KMEM_MAX_NAME);
	z->kz_name[UMA_KMEM_MAX_NAME] = '\0';
	z->kz_flags = _memstat_u32(p, offsetof(struct uma_kmem_zone,
	    ukz_flags));
	for (size_t i = 0; i < NITEMS(zone_off); i++)
		z->kz_field[i] = _memstat_u64(p, zone_off[i]);
}

/* A struct uma_kmem_stats_extended and its zones: 0 or an error. */
static int
kmem_ext(const unsigned char *p, size_t len, int64_t *field,
    struct kmem_zone **zonesp, size_t *nzonesp)
{
	typedef struct uma_kmem_stats_extended ukx_t;
	const size_t zsize = sizeof(struct uma_kmem_zone);
	struct kmem_zone *zones;
	uint32_t n;
	int error;

	if (len < 4 * sizeof(uint32_t))
		return (MEMSTAT_ERROR_DATAERROR);
	if (_memstat_u32(p, offsetof(ukx_t, ukx_version)) !=
	    UMA_KMEM_STATS_VERSION)
		return (MEMSTAT_ERROR_VERSION);
	n = _memstat_u32(p, offsetof(ukx_t, ukx_nzones));
	if (_memstat_u32(p, offsetof(ukx_t, ukx_size)) != sizeof(ukx_t) ||
	    _memstat_u32(p, offsetof(ukx_t, ukx_zone_size)) != zsize ||
	    n > KMEM_MAX_ZONES || len != sizeof(ukx_t) + (size_t)n * zsize)
		return (MEMSTAT_ERROR_DATAERROR);
	if ((error = kmem_cheap(p + offsetof(ukx_t, ukx_stats),
	    sizeof(struct uma_kmem_stats), field)) != 0)
		return (error);
	for (size_t i = 0; i < NITEMS(ext_off); i++)
		field[MEMSTAT_KMEM_FIRST_EXTENDED + i] =
		    (int64_t)_memstat_u64(p, ext_off[i]);
	zones = calloc(n > 0 ? n : 1, sizeof(*zones));
	if (zones == NULL)
		return (MEMSTAT_ERROR_NOMEMORY);
	for (uint32_t i = 0; i < n; i++)
		kmem_zone_parse(p + sizeof(ukx_t) + (size_t)i * zsize,
		    &zones[i]);
	*zonesp = zones;
	*nzonesp = n;
	return (0);
}

int
memstat_kmem_buf(struct memstat_kmem *kmem, const void *buf, size_t len,
    int extended)
{
	int64_t field[MEMSTAT_KMEM_NFIELDS] = { 0 };
	struct kmem_zone *zones = NULL;
	size_t nzones = 0;
	int error;

	if (buf == NULL)
		return (kmem_fail(kmem, MEMSTAT_ERROR_DATAERROR));
	if (extended)
		error = kmem_ext(buf, len, field, &zones, &nzones);
	else if ((error = kmem_cheap(buf, len, field)) == 0 &&
	    len != sizeof(struct uma_kmem_stats))
		error = MEMSTAT_ERROR_DATAERROR;
	if (error != 0)
		return (kmem_fail(kmem, error));
	memcpy(kmem->mk_field, field, sizeof(field));
	free(kmem->mk_zones);
	kmem->mk_zones = zones;
	kmem->mk_nzones = nzones;
	kmem->mk_extended = extended != 0;
	kmem->mk_error = 0;
	return (0);
}

int
memstat_kmem_read(struct memstat_kmem *kmem, struct memstat_source *src,
    int extended)
{
	void *buf;
	size_t len;
	int error, err, ret;

	if (src == NULL)
		return (kmem_fail(kmem, MEMSTAT_ERROR_NOSOURCE));
	error = _memstat_fetch(src, extended ? "vm.kmem_stats_extended" :
	    "vm.kmem_stats", &buf, &len, &err);
	if (error != 0)
		return (kmem_fail(kmem, error));
	ret = memstat_kmem_buf(kmem, buf, len, extended);
	free(buf);
	return (ret);
}

int64_t
memstat_kmem_get(const struct memstat_kmem *kmem, int field)
{
	if (field < 0 || field >= MEMSTAT_KMEM_NFIELDS)
		return (0);
	return (kmem->mk_field[field]);
}

const char *
memstat_kmem_name(int field)
{
	return (field >= 0 && field < MEMSTAT_KMEM_NFIELDS ? names[field] :
	    NULL);
}

const char *
memstat_kmem_descr(int field)
{
	return (field >= 0 && field < MEMSTAT_KMEM_NFIELDS ? descrs[field] :
	    NULL);
}

size_t
memstat_kmem_zone_count(const struct memstat_kmem *kmem)
{
	return (kmem->mk_nzones);
}

const char *
memstat_kmem_zone_name(const struct memstat_kmem *kmem, size_t zone)
{
	return (zone < kmem->mk_nzones ? kmem->mk_zones[zone].kz_name : NULL);
}

uint32_t
memstat_kmem_zone_flags(const struct memstat_kmem *kmem, size_t zone)
{
	return (zone < kmem->mk_nzones ? kmem->mk_zones[zone].kz_flags : 0);
}

uint64_t
memstat_kmem_zone_get(const struct memstat_kmem *kmem, size_t zone,
    int field)
{
	if (zone >= kmem->mk_nzones || field < 0 ||
	    field >= MEMSTAT_KMEM_Z_NFIELDS)
		return (0);
	return (kmem->mk_zones[zone].kz_field[field]);
}

const char *
memstat_kmem_zone_field_name(int field)
{
	return (field >= 0 && field < MEMSTAT_KMEM_Z_NFIELDS ?
	    zone_names[field] : NULL);
}
