/*
 * threads_named.h - how many threads of this process are named `name`
 * (their /proc comm), for tests that watch uma's own threads come and
 * go.  A header of one static function: the preload tests that use it
 * have a main of their own and do not link the harness.
 */
#ifndef _UMA_TEST_THREADS_NAMED_H_
#define	_UMA_TEST_THREADS_NAMED_H_

#include <dirent.h>
#include <stdio.h>
#include <string.h>

/* -1 if /proc/self/task cannot be read. */
static int
threads_named(const char *name)
{
	char path[300], comm[32];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	FILE *f;
	int n = 0;

	if (dir == NULL)
		return (-1);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n')
			n++;
		fclose(f);
	}
	closedir(dir);
	return (n);
}

#endif /* !_UMA_TEST_THREADS_NAMED_H_ */
