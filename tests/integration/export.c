/*
 * export.c - the export endpoint: directory 0700 and socket 0600, the
 * protocol of <uma/stream.h> (GET, SET, LIST and their errors), a client
 * of another uid refused, and 1,000 garbage and half-open connections
 * survived while the program keeps allocating.  Public API only.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uma/stream.h>
#include <uma/sysctl.h>
#include <uma/uma.h>

#include "harness.h"

static char dir[64], sockpath[100];

static void
start_export(void)
{
	size_t len = sizeof(sockpath);

	snprintf(dir, sizeof(dir), "/tmp/uma-export-test-%d", (int)getpid());
	CHECK(uma_export_start(dir) == 0);
	CHECK(uma_sysctlbyname("uma.export_path", sockpath, &len, NULL, 0) ==
	    0);
}

static int
connect_sock(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		fd = -1;
	}
	return (fd);
}

/* Read exactly len bytes within 3 s; 0, or -1 on EOF/timeout. */
static int
read_full(int fd, void *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&pfd, 1, 3000) != 1)
			return (-1);
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	return (0);
}

/* One request; returns the error, the value in val (up to *vlen). */
static int
request(int fd, uint32_t op, const char *name, const void *v, size_t vl,
    void *val, size_t *vlen)
{
	struct uma_export_req rq = { UMA_EXPORT_MAGIC, op,
	    (uint32_t)strlen(name), (uint32_t)vl };
	struct uma_export_resp rs;
	char msg[4096], sink[4096];
	size_t n = sizeof(rq);

	memcpy(msg, &rq, sizeof(rq));
	memcpy(msg + n, name, rq.uer_namelen);
	n += rq.uer_namelen;
	if (vl > 0)
		memcpy(msg + n, v, vl);
	n += vl;
	CHECK(write(fd, msg, n) == (ssize_t)n);
	if (read_full(fd, &rs, sizeof(rs)) != 0)
		return (-1);
	CHECK_EQ(rs.ues_magic, UMA_EXPORT_MAGIC);
	if (val != NULL && rs.ues_len <= *vlen) {
		CHECK(read_full(fd, val, rs.ues_len) == 0);
		*vlen = rs.ues_len;
	} else
		for (size_t left = rs.ues_len; left > 0; ) {
			n = left < sizeof(sink) ? left : sizeof(sink);
			CHECK(read_full(fd, sink, n) == 0);
			left -= n;
		}
	return (rs.ues_error);
}

UMA_TEST(export_modes_and_protocol)
{
	uma_zone_t z = uma_zcreate("exported zone", 128, NULL, NULL, NULL,
	    NULL, 0, 0);
	static char big[1 << 20];
	struct stat st;
	uint64_t u;
	int fd, v, n;
	size_t len;
	char buf[256];

	start_export();
	CHECK(uma_export_start(dir) == EEXIST);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(sockpath, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 0777) == 0600);
	fd = connect_sock();
	CHECK(fd >= 0);
	len = sizeof(v);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_GET, "vm.uma.exported_zone.size",
	    NULL, 0, &v, &len), 0);
	CHECK_EQ(len, 4);
	CHECK_EQ(v, 128);
	len = sizeof(buf);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_GET,
	    "vm.uma.exported_zone.keg.name", NULL, 0, buf, &len), 0);
	CHECK(len == 13 && memcmp(buf, "exported zone", 13) == 0);
	u = 500;
	CHECK_EQ(request(fd, UMA_EXPORT_OP_SET,
	    "vm.uma.exported_zone.limit.max_items", &u, 8, NULL, NULL), 0);
	CHECK_EQ(uma_zone_get_max(z), 500);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_SET, "vm.zone_count", &v, 4, NULL,
	    NULL), EPERM);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_SET, "vm.zone_warnings", &u, 8,
	    NULL, NULL), EINVAL);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_GET, "vm.nope", NULL, 0, NULL,
	    NULL), ENOENT);
	CHECK_EQ(request(fd, 77, "vm.zone_count", NULL, 0, NULL, NULL),
	    EINVAL);
	len = sizeof(big);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_GET, "vm.zone_stats", NULL, 0, big,
	    &len), 0);
	CHECK(len > sizeof(struct uma_stream_header));
	len = sizeof(big) - 1;
	CHECK_EQ(request(fd, UMA_EXPORT_OP_LIST, "", NULL, 0, big, &len), 0);
	big[len] = '\0';
	CHECK(strstr(big, "vm.zone_stats\topaque\tRD\t") != NULL);
	CHECK(strstr(big, "vm.zone_warnings\tint\tRWTUN\t") != NULL);
	CHECK(strstr(big, "vm.uma_timeout\tint\tRDTUN\t") != NULL);
	CHECK(strstr(big, "vm.uma.exported_zone.limit.max_items\tu64\tRW\t")
	    != NULL);
	/* Oversized: E2BIG, then the server closes the connection. */
	struct uma_export_req rq = { UMA_EXPORT_MAGIC, UMA_EXPORT_OP_SET, 10,
	    UMA_EXPORT_MAXREQ };
	struct uma_export_resp rs;
	CHECK(write(fd, &rq, sizeof(rq)) == sizeof(rq));
	CHECK(read_full(fd, &rs, sizeof(rs)) == 0);
	CHECK_EQ(rs.ues_error, E2BIG);
	CHECK(read_full(fd, &rs, 1) == -1);
	close(fd);
	/* Bad magic: EINVAL and closed. */
	fd = connect_sock();
	rq.uer_magic = 0x12345678;
	CHECK(write(fd, &rq, sizeof(rq)) == sizeof(rq));
	CHECK(read_full(fd, &rs, sizeof(rs)) == 0);
	CHECK_EQ(rs.ues_error, EINVAL);
	close(fd);
	uma_export_stop();
	CHECK(stat(sockpath, &st) == -1 && errno == ENOENT);
	len = sizeof(buf);
	CHECK(uma_sysctlbyname("uma.export_path", buf, &len, NULL, 0) == 0);
	CHECK_EQ(len, 1);
	n = rmdir(dir);
	CHECK(n == 0);
	uma_zdestroy(z);
}

UMA_TEST(export_refuses_unsafe_directory)
{
	char d[] = "/tmp/uma-unsafe-XXXXXX";

	CHECK(mkdtemp(d) != NULL);
	CHECK(chmod(d, 0755) == 0);
	CHECK_EQ(uma_export_start(d), EPERM);
	CHECK(rmdir(d) == 0);
}

UMA_TEST(export_refuses_other_uid)
{
	struct uma_export_resp rs;
	int status, fd;
	pid_t pid;
	char path[128];

	if (geteuid() != 0)
		SKIP("needs root to become another uid");
	start_export();
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The directory keeps uid 65534 out... */
		if (setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(2);
		if ((fd = connect_sock()) >= 0)
			_exit(3);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* ...and were it opened up, the peer check still refuses it. */
	CHECK(chmod(dir, 0711) == 0 && chmod(sockpath, 0666) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(2);
		if ((fd = connect_sock()) < 0)
			_exit(3);
		struct uma_export_req rq = { UMA_EXPORT_MAGIC,
		    UMA_EXPORT_OP_GET, 13, 0 };
		(void)send(fd, &rq, sizeof(rq), MSG_NOSIGNAL);
		(void)send(fd, "vm.zone_count", 13, MSG_NOSIGNAL);
		if (read_full(fd, &rs, sizeof(rs)) == 0 &&
		    rs.ues_error != EACCES)
			_exit(4);	/* answered */
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s", sockpath);
	CHECK(chmod(dir, 0700) == 0);
	uma_export_stop();
	CHECK(access(path, F_OK) != 0);
	CHECK(rmdir(dir) == 0);
}

static atomic_bool stop;
static atomic_ulong rounds;

static void *
alloc_main(void *arg)
{
	uma_zone_t z = arg;
	void *items[32];

	while (!atomic_load(&stop)) {
		for (int i = 0; i < 32; i++)
			items[i] = uma_zalloc(z, M_WAITOK);
		for (int i = 0; i < 32; i++)
			uma_zfree(z, items[i]);
		atomic_fetch_add(&rounds, 1);
	}
	return (NULL);
}

UMA_TEST(export_survives_garbage_and_half_open_clients)
{
	uma_zone_t z = uma_zcreate("busy", 96, NULL, NULL, NULL, NULL, 0, 0);
	unsigned seed = 12345;
	int held[64], nheld = 0, fd, v;
	unsigned char junk[512];
	unsigned long before;
	pthread_t td[2];
	size_t len;
	double t0;

	start_export();
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&td[i], NULL, alloc_main, z) == 0);
	t0 = test_now();
	for (int i = 0; i < 1000; i++) {
		if ((fd = connect_sock()) < 0)
			continue;	/* backlog full for a moment */
		switch (i % 4) {
		case 0:		/* connect and go */
			close(fd);
			continue;
		case 1:		/* random bytes */
			for (size_t j = 0; j < sizeof(junk); j++)
				junk[j] = (unsigned char)rand_r(&seed);
			if (i % 8 == 1)	/* with a valid magic */
				memcpy(junk, &(uint32_t){ UMA_EXPORT_MAGIC }, 4);
			(void)send(fd, junk, 1 + rand_r(&seed) % sizeof(junk),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		case 2:		/* half a header, then silence */
			(void)send(fd, "UMAS\1\0", 6, MSG_NOSIGNAL);
			break;
		case 3:		/* a header announcing a body never sent */
			(void)send(fd, &(struct uma_export_req){
			    UMA_EXPORT_MAGIC, UMA_EXPORT_OP_GET, 100, 0 },
			    sizeof(struct uma_export_req), MSG_NOSIGNAL);
			break;
		}
		if (nheld == 64) {
			close(held[0]);
			memmove(held, held + 1, sizeof(held[0]) * 63);
			nheld--;
		}
		held[nheld++] = fd;
	}
	before = atomic_load(&rounds);
	/* Good requests still get answers while the junk is open. */
	for (int tries = 0; ; tries++) {
		CHECK(tries < 50);
		if ((fd = connect_sock()) >= 0) {
			len = sizeof(v);
			if (request(fd, UMA_EXPORT_OP_GET, "vm.uma.busy.size",
			    NULL, 0, &v, &len) == 0) {
				close(fd);
				break;
			}
			close(fd);
		}
		usleep(100000);
	}
	CHECK_EQ(v, 96);
	while (atomic_load(&rounds) == before)
		sched_yield();
	fprintf(stderr, "1000 bad clients in %.2f s, allocator rounds %lu\n",
	    test_now() - t0, atomic_load(&rounds));
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(td[i], NULL);
	fd = connect_sock();
	len = sizeof(v);
	CHECK_EQ(request(fd, UMA_EXPORT_OP_GET, "vm.uma.busy.size", NULL, 0,
	    &v, &len), 0);
	close(fd);
	uma_export_stop();
	CHECK(rmdir(dir) == 0);
	uma_zdestroy(z);
}
