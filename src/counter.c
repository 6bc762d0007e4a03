/*
 * counter.c - counter(9) on a per-CPU zone: each counter is one item of
 * "pcpu-8" (UMA_ZONE_PCPU), a uint64_t per CPU; the add is inline in
 * <uma/counter.h>.
 *
 * Layer: above the zone's entry, through uma.h only.
 */
#include <pthread.h>
#include <stddef.h>

#include <uma/counter.h>

static uma_zone_t counter_zone;
static pthread_once_t counter_once = PTHREAD_ONCE_INIT;

static void
counter_startup(void)
{
	counter_zone = uma_zcreate("pcpu-8", sizeof(uint64_t), NULL, NULL,
	    NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_PCPU);
}

/* See counter.h */
counter_u64_t
counter_u64_alloc(int flags)
{
	pthread_once(&counter_once, counter_startup);
	if (counter_zone == NULL)
		return (NULL);
	return (uma_zalloc_pcpu(counter_zone, flags | M_ZERO));
}

/* See counter.h */
void
counter_u64_free(counter_u64_t c)
{
	if (c != NULL)
		uma_zfree_pcpu(counter_zone, c);
}

/* See counter.h */
uint64_t
counter_u64_fetch(counter_u64_t c)
{
	uint64_t sum = 0;
	int n = uma_ncpus();

	for (int cpu = 0; cpu < n; cpu++)
		sum += __atomic_load_n(zpcpu_get_cpu(c, cpu),
		    __ATOMIC_RELAXED);
	return (sum);
}

/* See counter.h */
void
counter_u64_zero(counter_u64_t c)
{
	int n = uma_ncpus();

	for (int cpu = 0; cpu < n; cpu++)
		__atomic_store_n(zpcpu_get_cpu(c, cpu), 0, __ATOMIC_RELAXED);
}
