/*
 * e2e_malloc_sizes.c - libmemstat's malloc size classes are the source's:
 * all 50 of uma's classes, read live from this process and again from a
 * file saved from it, and printed by `umastat -f FILE -m`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memstat.h>
#include <uma/malloc.h>

#include "e2e.h"
#include "harness.h"
#include "malloc_classes_test.h"

MALLOC_DEFINE(M_SIZES, "e2e_sizes", "one item of every size class");

static char dir[] = "/tmp/memstat_e2e_sizes.XXXXXX";

/* Allocate (and keep) one item of every class: each is its class size. */
static void
use_every_class(void)
{
	for (int i = 0; i < NCLASSES; i++) {
		void *p = uma_malloc(classes[i], M_SIZES, M_WAITOK);

		CHECK(p != NULL);
		CHECK_EQ(uma_malloc_usable_size(p), classes[i]);
	}
}

/* The table libmemstat holds now, and the type's mask, are all 48. */
static void
check_table(struct memory_type_list *list)
{
	struct memory_type *mtp;

	CHECK_EQ(memstat_malloc_zone_get_count(), NCLASSES);
	for (int i = 0; i < NCLASSES; i++)
		CHECK_EQ(memstat_malloc_zone_get_size(i), classes[i]);
	CHECK_EQ(memstat_malloc_zone_get_size(NCLASSES), 0);
	mtp = memstat_mtl_find(list, ALLOCATOR_MALLOC, "e2e_sizes");
	CHECK(mtp != NULL);
	CHECK_EQ(memstat_get_sizemask(mtp), (1ull << NCLASSES) - 1);
	for (int i = 0; i < NCLASSES; i++)
		CHECK(memstat_malloc_zone_used(mtp, i));
	CHECK_EQ(memstat_get_count(mtp), NCLASSES);
}

UMA_TEST(memstat_malloc_sizes_are_the_sources_classes)
{
	struct memory_type_list *list = memstat_mtl_alloc();

	use_every_class();
	CHECK_EQ(memstat_malloc_zone_get_count(), 0);	/* nothing read yet */
	CHECK(memstat_sysctl_malloc(list, 0) == 0);
	check_table(list);
	memstat_mtl_free(list);
}

UMA_TEST(memstat_saved_file_gives_the_live_sizes)
{
	struct memory_type_list *list = memstat_mtl_alloc();
	char path[300], cmd[600], want[600], line[1024];
	int n = 0;
	FILE *p;

	use_every_class();
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/save", dir);
	CHECK(memstat_save(memstat_source_self(), path) == 0);
	CHECK(memstat_file_all(list, path, 0) == 0);
	check_table(list);

	/* umastat, another process, reads the same sizes from the file. */
	for (int i = 0; i < NCLASSES; i++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "%s%zu",
		    i ? "," : "", classes[i]);
	snprintf(cmd, sizeof(cmd), "%s -f %s -m", UMASTAT_PATH, path);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	n = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		unsigned inuse, memuse, requests;
		int end = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "    e2e_sizes %u %uK %u  %n", &inuse, &memuse,
		    &requests, &end) != 3 || end == 0)
			continue;
		CHECK_EQ(inuse, NCLASSES);
		CHECK_EQ(requests, NCLASSES);
		CHECK(strcmp(line + end, want) == 0);
		n++;
	}
	CHECK(pclose(p) == 0);
	CHECK_EQ(n, 1);
	unlink(path);
	rmdir(dir);
	memstat_mtl_free(list);
}
