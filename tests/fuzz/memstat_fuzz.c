/*
 * memstat_fuzz.c - libFuzzer target for libmemstat's stream parsers.
 *
 * The first byte picks the parser (uma or malloc, or with bit 2 the kmem
 * report's cheap or extended record) and whether to parse into a fresh
 * list or refresh a list filled by the previous input, so the refresh
 * engine is fuzzed too.  Build and run: tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include <memstat.h>

static struct memory_type_list *kept;
static volatile uint64_t kmem_sink;	/* the reads are not optimized out */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A kmem record: every figure and zone read back must be safe. */
static int
kmem_one(const uint8_t *data, size_t size)
{
	struct memstat_kmem *k = memstat_kmem_alloc();
	uint64_t sum = 0;

	if (memstat_kmem_buf(k, data + 1, size - 1, data[0] & 1) == 0) {
		for (int f = -1; f <= MEMSTAT_KMEM_NFIELDS; f++)
			sum += (uint64_t)memstat_kmem_get(k, f);
		for (size_t z = 0; z <= memstat_kmem_zone_count(k); z++) {
			const char *name = memstat_kmem_zone_name(k, z);

			sum += name != NULL ? (uint64_t)name[0] : 0;
			for (int f = -1; f <= MEMSTAT_KMEM_Z_NFIELDS; f++)
				sum += memstat_kmem_zone_get(k, z, f);
		}
	}
	memstat_kmem_free(k);
	kmem_sink = sum;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memory_type_list *list;
	struct memory_type *mtp;
	uint64_t sum = 0;

	if (size < 1)
		return (0);
	if (data[0] & 4)
		return (kmem_one(data, size));
	if (kept == NULL)
		kept = memstat_mtl_alloc();
	list = (data[0] & 2) ? kept : memstat_mtl_alloc();
	if (data[0] & 1)
		(void)memstat_buf_malloc(list, data + 1, size - 1);
	else
		(void)memstat_buf_uma(list, data + 1, size - 1);
	for (mtp = memstat_mtl_first(list); mtp != NULL;
	    mtp = memstat_mtl_next(mtp)) {
		sum += memstat_get_free(mtp) + memstat_get_count(mtp);
		for (int cpu = -1; cpu <= memstat_get_maxcpus(mtp); cpu++)
			sum += memstat_get_percpu_free(mtp, cpu);
		memstat_set_percpu_caller_uint64(mtp, (int)(sum & 3), 1, sum);
	}
	if (list != kept)
		memstat_mtl_free(list);
	return (0);
}
