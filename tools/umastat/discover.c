/*
 * discover.c - which uma processes this user may read: the export
 * endpoints, <pid>.sock, in the directories where uma_export_start puts
 * them by default (src/export.c): $UMA_EXPORT_DIR alone when it is set
 * (as `umastat -p` does), else $XDG_RUNTIME_DIR/uma and /tmp/uma-<uid>;
 * as root, every user's /run/user/<uid>/uma and /tmp/uma-<uid> too.
 * Used by -l, the list shown when there is no source, top and the
 * exporter.
 *
 * A directory counts only if it is what the endpoint itself accepts: a
 * real directory of its user (the owner its name says), closed to
 * everyone else, so nobody else can plant a socket in it.  A socket whose
 * process is dead and that refuses connections is stale: skipped, and
 * removed from a directory of our own.  (A dead pid alone is not enough:
 * a process in another pid namespace shows its own pid in the name.)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "umastat.h"

#define	DISCOVER_MAXDIRS	64
/* Endpoints read at once (each a connection): no user can make more. */
#define	DISCOVER_MAX		4096

struct dirs {
	char	*d_path[DISCOVER_MAXDIRS];
	uid_t	 d_uid[DISCOVER_MAXDIRS];
	size_t	 d_n;
};

struct found {
	struct endpoint	*f_ep;
	size_t		 f_n, f_cap;
};

static void
dirs_add(struct dirs *d, const char *path, uid_t uid)
{
	if (d->d_n < DISCOVER_MAXDIRS &&
	    (d->d_path[d->d_n] = strdup(path)) != NULL)
		d->d_uid[d->d_n++] = uid;
}

/* A non-negative decimal number spelling all of s, or -1. */
static long
decimal(const char *s, const char *end)
{
	long v = 0;

	if (s == end)
		return (-1);
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s) || v > 100000000)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v);
}

/* Every user's directories: /tmp/uma-<uid> and /run/user/<uid>/uma. */
static void
dirs_everyone(struct dirs *d)
{
	char path[256];
	struct dirent *de;
	DIR *dp;
	long uid;

	if ((dp = opendir("/tmp")) != NULL) {
		while ((de = readdir(dp)) != NULL)
			if (strncmp(de->d_name, "uma-", 4) == 0 &&
			    (uid = decimal(de->d_name + 4, de->d_name +
			    strlen(de->d_name))) >= 0) {
				snprintf(path, sizeof(path), "/tmp/uma-%ld",
				    uid);
				dirs_add(d, path, (uid_t)uid);
			}
		closedir(dp);
	}
	if ((dp = opendir("/run/user")) != NULL) {
		while ((de = readdir(dp)) != NULL)
			if ((uid = decimal(de->d_name, de->d_name +
			    strlen(de->d_name))) >= 0) {
				snprintf(path, sizeof(path), "/run/user/%ld/uma",
				    uid);
				dirs_add(d, path, (uid_t)uid);
			}
		closedir(dp);
	}
}

static void
dirs_default(struct dirs *d)
{
	const char *env = getenv("UMA_EXPORT_DIR");
	char path[256];

	if (env != NULL && *env != '\0') {
		dirs_add(d, env, geteuid());
		return;
	}
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env == '/' &&
	    snprintf(path, sizeof(path), "%s/uma", env) < (int)sizeof(path))
		dirs_add(d, path, geteuid());
	snprintf(path, sizeof(path), "/tmp/uma-%u", (unsigned)geteuid());
	dirs_add(d, path, geteuid());
	if (geteuid() == 0)
		dirs_everyone(d);
}

/* Nobody listens at `path`: a connection is refused. */
static int
sock_refused(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, refused;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	refused = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 &&
	    errno == ECONNREFUSED;
	close(fd);
	return (refused);
}

static void
found_add(struct found *f, pid_t pid, uid_t uid, const char *path)
{
	struct endpoint *ep;

	if (f->f_n == DISCOVER_MAX)
		return;
	if (f->f_n == f->f_cap) {
		size_t cap = f->f_cap ? 2 * f->f_cap : 16;

		if ((ep = realloc(f->f_ep, cap * sizeof(*ep))) == NULL)
			return;
		f->f_ep = ep;
		f->f_cap = cap;
	}
	ep = &f->f_ep[f->f_n++];
	ep->ep_pid = pid;
	ep->ep_uid = uid;
	snprintf(ep->ep_path, sizeof(ep->ep_path), "%s", path);
}

static void
dir_scan(const char *dir, uid_t uid, struct found *f)
{
	char path[sizeof(((struct endpoint *)0)->ep_path)];
	struct dirent *de;
	struct stat st;
	const char *dot;
	long pid;
	DIR *dp;

	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != uid || (st.st_mode & 077) != 0 ||
	    (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if ((dot = strchr(de->d_name, '.')) == NULL ||
		    strcmp(dot, ".sock") != 0 ||
		    (pid = decimal(de->d_name, dot)) <= 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
		    sock_refused(path)) {
			if (uid == geteuid())
				(void)unlink(path);
			continue;
		}
		found_add(f, (pid_t)pid, uid, path);
	}
	closedir(dp);
}

static int
endpoint_cmp(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->ep_pid != y->ep_pid)
		return (x->ep_pid < y->ep_pid ? -1 : 1);
	return (strcmp(x->ep_path, y->ep_path));
}

int
discover(struct endpoint **epp, size_t *np)
{
	struct dirs d = { .d_n = 0 };
	struct found f = { NULL, 0, 0 };
	struct stat st[DISCOVER_MAXDIRS];
	int seen;

	dirs_default(&d);
	for (size_t i = 0; i < d.d_n; i++) {
		/* The same directory by two names is read once. */
		seen = stat(d.d_path[i], &st[i]) != 0;
		for (size_t j = 0; !seen && j < i; j++)
			seen = st[j].st_dev == st[i].st_dev &&
			    st[j].st_ino == st[i].st_ino;
		if (!seen)
			dir_scan(d.d_path[i], d.d_uid[i], &f);
		else
			st[i].st_ino = 0, st[i].st_dev = 0;
	}
	for (size_t i = 0; i < d.d_n; i++)
		free(d.d_path[i]);
	if (f.f_n > 1)
		qsort(f.f_ep, f.f_n, sizeof(*f.f_ep), endpoint_cmp);
	*epp = f.f_ep;
	*np = f.f_n;
	return (0);
}

void
proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *fp;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		n = fread(buf, 1, len - 1, fp);
		fclose(fp);
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '?';
	if (n == 0)
		snprintf(buf, len, "?");
}
