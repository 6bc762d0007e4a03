/*
 * debug.c - catching misuse: bad frees, writes after free, and panics.
 *
 * Layer: beside the zone layer; reads slabs and kegs, changes nothing but
 * the debug bitsets and the trash pattern.
 *
 * Always on: a free is checked against the arena and the page -> slab table
 * (foreign pointer, wrong zone), a free of the item on top of this CPU's
 * bucket and a free of an item the keg already holds are double frees.
 * UMA_DEBUG > 1 adds, as FreeBSD's INVARIANTS and uma_dbg.c do, a per-slab
 * bitset of items that users hold (every double free, at once) and trash:
 * freed items are filled with a pattern that is checked when they are
 * handed out again, which catches writes after free.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug.h"
#include "memguard.h"
#include "slab.h"
#include "vmhash.h"

#define	UMA_TRASH	0xdeadc0de

/* A user's mistake, reported against the zone the user named. */
void
uma__misuse(uma_zone_t zone, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uma__panic("uma: zone \"%s\": %s", zone->uz_name, msg);
}

int
uma__zero_init(void *mem, int size, int flags)
{
	memset(mem, 0, (size_t)size);
	return (0);
}

/* The name of a keg's primary zone, for messages. */
static const char *
keg_zone_name(uma_keg_t keg)
{
	uma_zone_t z = LIST_FIRST(&keg->uk_zones);

	return (z != NULL ? z->uz_name : keg->uk_name);
}

/*
 * Full validation of an item the user hands back to `zone`: it must be the
 * start of an item of a slab of the zone's keg that the keg does not hold.
 * Returns its slab; reports and aborts otherwise.  A cache zone's items
 * are the caller's business: NULL.
 */
uma_slab_t
uma__item_check(uma_zone_t zone, void *item)
{
	uma_keg_t keg = zone->uz_keg;
	uma_slab_t slab;
	size_t off;
	int idx;

	if (keg->uk_flags & UMA_ZFLAG_CACHE)
		return (NULL);		/* the caller's items */
	if (uma_memguard_contains(item))
		uma__memguard_misuse(item, zone->uz_name);
	if ((slab = uma_page_slab(item)) == NULL)
		uma__misuse(zone, "free of %p, which uma never allocated",
		    item);
	if (slab->us_keg != keg)
		uma__misuse(zone, "free of %p, which belongs to zone \"%s\"",
		    item, keg_zone_name(slab->us_keg));
	off = (size_t)((char *)item - slab->us_data);
	idx = (int)(off / keg->uk_rsize);
	if ((char *)item < slab->us_data || off % keg->uk_rsize != 0 ||
	    idx >= (int)keg->uk_ipers)
		uma__misuse(zone, "free of %p, which uma never allocated "
		    "(not the start of an item)", item);
	if (__atomic_load_n(&slab->us_free[idx / 64], __ATOMIC_RELAXED) &
	    (1ull << (idx % 64)))
		uma__misuse(zone, "double free of %p", item);
	return (slab);
}

/*
 * See debug.h.  Outside the arena: a cache zone's items are the caller's,
 * with nothing to check; a keg's own pages (allocf) are in the hash.
 */
bool
uma__item_plausible_outside(uma_zone_t zone, const void *item)
{
	uma_slab_t slab;

	if (zone->uz_keg->uk_flags & UMA_ZFLAG_CACHE)
		return (true);
	slab = uma_page_slab(item);
	return (slab != NULL && slab->us_keg == zone->uz_keg);
}

/* Fill a freed item with the trash pattern. */
void
uma__trash_fill(uma_zone_t zone, void *item)
{
	uint32_t *p = item;

	for (size_t i = 0; i < zone->uz_size / sizeof(*p); i++)
		p[i] = UMA_TRASH;
}

/*
 * Check the pattern of an item about to be handed out.  Items that never
 * went through a free (fresh from a slab: zeros) are not trashed yet.
 */
void
uma__trash_check(uma_zone_t zone, void *item)
{
	uint32_t *p = item;
	size_t n = zone->uz_size / sizeof(*p);

	if (n == 0 || (p[0] != UMA_TRASH && p[0] == 0 &&
	    memcmp(p, p + 1, (n - 1) * sizeof(*p)) == 0))
		return;
	for (size_t i = 0; i < n; i++)
		if (p[i] != UMA_TRASH)
			uma__misuse(zone, "memory modified after free %p(%u) "
			    "val=%x @ %p", item, zone->uz_size, p[i],
			    (void *)&p[i]);
}

/* Debug bitset: set while a user holds the item. */
void
uma__dbg_alloc(uma_zone_t zone, void *item)
{
	uma_keg_t keg = zone->uz_keg;
	uma_slab_t slab = uma_page_slab(item);
	int idx = uma__slab_item_index(keg, slab, item);
	uint64_t bit = 1ull << (idx % 64);

	if (__atomic_fetch_or(&uma__slab_dbg(keg, slab)[idx / 64], bit,
	    __ATOMIC_RELAXED) & bit)
		uma__misuse(zone, "item %p handed out twice", item);
}

void
uma__dbg_free(uma_zone_t zone, void *item)
{
	uma_keg_t keg = zone->uz_keg;
	uma_slab_t slab = uma_page_slab(item);
	int idx = uma__slab_item_index(keg, slab, item);
	uint64_t bit = 1ull << (idx % 64);

	if (!(__atomic_fetch_and(&uma__slab_dbg(keg, slab)[idx / 64], ~bit,
	    __ATOMIC_RELAXED) & bit))
		uma__misuse(zone, "double free of %p", item);
}
