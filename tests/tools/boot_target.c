/*
 * boot_target.c - a uma program that never calls uma_export_start: its
 * endpoint comes from its environment alone (UMA_EXPORT=1 or
 * UMA_TUNABLES=uma.export=1), which uma reads in its start-up.  It makes
 * zone "boot_target" with ITEMS items, and with "fork" forks after that:
 * the child adds CHILD_ITEMS items of zone "boot_child" (so each side has
 * its own count to show), and both wait for their stdin to close.  It
 * prints its pid (and the child's) on stdout.
 *
 *   boot_target ITEMS [fork CHILD_ITEMS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/uma.h>

static void
hold(const char *name, long n)
{
	uma_zone_t z = uma_zcreate(name, 96, NULL, NULL, NULL, NULL,
	    UMA_ALIGN_PTR, 0);

	if (z == NULL)
		exit(3);
	for (long i = 0; i < n; i++)
		if (uma_zalloc(z, M_WAITOK) == NULL)
			exit(4);
}

static void
wait_stdin(void)
{
	char c;

	while (read(0, &c, 1) > 0)
		;
}

int
main(int argc, char **argv)
{
	pid_t child;
	int status;

	if (argc != 2 && argc != 4)
		return (2);
	hold("boot_target", atol(argv[1]));
	if (argc == 4 && strcmp(argv[2], "fork") == 0) {
		fflush(stdout);
		if ((child = fork()) < 0)
			return (5);
		if (child == 0) {
			hold("boot_child", atol(argv[3]));
			wait_stdin();
			_exit(0);
		}
		printf("%d %d\n", (int)getpid(), (int)child);
		fflush(stdout);
		wait_stdin();
		if (waitpid(child, &status, 0) != child || status != 0)
			return (6);
		return (0);
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	wait_stdin();
	return (0);
}
