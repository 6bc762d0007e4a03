/*
 * preload_text.c - a small program maps one 64 KiB window of
 * libuma-malloc.so's text, not all of it: the functions it runs sit
 * together at the head of the text (cmake/text_hot.ld), and the kernel
 * maps at most 64 KiB around a fault.  Strewn over the whole text, as
 * the linker places them by default, they made every process map all
 * 120 KiB.  A program that mallocs and frees a spread of sizes in a
 * second thread, reallocs, callocs and forks, then reads its own smaps.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define	WINDOW_KIB	64

/*
 * Resident KiB of the executable mapping of a library whose path ends
 * in `name`, or -1 if there is none.  The lines are read into a static
 * buffer; stdio's own buffer is malloc's, which is all right here.
 */
static long
text_rss_kib(const char *name)
{
	static char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	long rss = -1;
	int in = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		char perms[8], path[384] = "";
		unsigned long lo, hi;
		size_t len;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %383s", &lo, &hi,
		    perms, path) >= 3 && strchr(line, '-') < strchr(line,
		    ' ')) {
			len = strlen(path);
			in = strcmp(perms, "r-xp") == 0 &&
			    len >= strlen(name) &&
			    strcmp(path + len - strlen(name), name) == 0;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			in = 0;
	}
	fclose(f);
	return (rss);
}

static void *
churn(void *arg)
{
	enum { N = 2000 };
	void *p[N];
	unsigned s = 7;

	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < N; i++) {
			s = s * 1103515245 + 12345;
			p[i] = malloc(8 + (s >> 8) % 3000);
			CHECK(p[i] != NULL);
			memset(p[i], i, 8);
		}
		for (int i = 0; i < N; i += 2) {
			p[i] = realloc(p[i], 100 + (size_t)i * 8);
			CHECK(p[i] != NULL);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
	return (arg);
}

UMA_TEST(preload_text_small_program_maps_one_window)
{
	pthread_t t;
	void *big, *zeroed;
	pid_t pid;
	int status;
	long kib;

	CHECK(pthread_create(&t, NULL, churn, NULL) == 0);
	churn(NULL);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK((big = malloc(1 << 20)) != NULL);
	CHECK((zeroed = calloc(100, 40)) != NULL);
	free(zeroed);
	free(big);
	CHECK((pid = fork()) >= 0);
	if (pid == 0) {
		free(malloc(100));
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* -1: not preloaded, which ctest always does (CMakeLists.txt). */
	CHECK((kib = text_rss_kib("/libuma-malloc.so")) >= 0);
	printf("libuma-malloc.so text resident: %ld KiB\n", kib);
	CHECK(kib <= WINDOW_KIB);
}
