/*
 * memstat_all.c - both allocators at once, and the glue from a source to a
 * stream parser: fetch the stream's bytes, parse them into the list (with
 * a malloc stream, the source's size-class table too).
 */
#include <errno.h>
#include <stdlib.h>

#include "memstat_int.h"

int
_memstat_source_stream(struct memory_type_list *list,
    struct memstat_source *src, int allocator, int missing_ok)
{
	const char *name = allocator == ALLOCATOR_UMA ? "vm.zone_stats" :
	    "kern.malloc_stats";
	struct memstat_zone_table zt;
	void *buf;
	size_t len;
	int error, err, ret;

	if (src == NULL)
		return (_memstat_fail(list, MEMSTAT_ERROR_NOSOURCE));
	error = _memstat_fetch(src, name, &buf, &len, &err);
	if (error != 0) {
		if (missing_ok && err == ENOENT)
			return (0);
		return (_memstat_fail(list, error));
	}
	if (allocator == ALLOCATOR_UMA)
		ret = memstat_buf_uma(list, buf, len);
	else if ((error = _memstat_malloc_zones_read(src, &zt)) != 0)
		ret = _memstat_fail(list, error);
	else if ((ret = memstat_buf_malloc(list, buf, len)) == 0)
		_memstat_malloc_zones_set(&zt);
	free(buf);
	return (ret);
}

int
memstat_source_all(struct memory_type_list *list, struct memstat_source *src)
{
	if (_memstat_source_stream(list, src, ALLOCATOR_MALLOC, 1) != 0)
		return (-1);
	return (_memstat_source_stream(list, src, ALLOCATOR_UMA, 0));
}

int
memstat_sysctl_all(struct memory_type_list *list, int flags)
{
	return (_memstat_read_source(list, memstat_source_self(),
	    memstat_source_all));
}

int
memstat_pid_all(struct memory_type_list *list, pid_t pid, int flags)
{
	return (_memstat_read_source(list, memstat_source_pid(pid),
	    memstat_source_all));
}

int
memstat_socket_all(struct memory_type_list *list, const char *path,
    int flags)
{
	return (_memstat_read_source(list, memstat_source_socket(path),
	    memstat_source_all));
}

int
memstat_file_all(struct memory_type_list *list, const char *path, int flags)
{
	return (_memstat_read_source(list, memstat_source_file(path),
	    memstat_source_all));
}
