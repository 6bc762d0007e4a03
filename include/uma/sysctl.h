/*
 * sysctl.h - uma's sysctl tree: named, typed statistics and knobs, read and
 * set by name as with sysctlbyname(3), listed as with `sysctl -a -d`.
 *
 * Names follow FreeBSD where FreeBSD has them (vm.zone_count,
 * vm.zone_stats, vm.uma.<zone>.stats.allocs, kern.smp.maxcpus, ...).  A
 * zone's nodes live under vm.uma.<name>, the name made safe as FreeBSD
 * does: every character other than a letter, digit or '_' becomes '_', and
 * the second, third ... zone with the same safe name gets "_1", "_2" ...
 *
 * Boot tunables (nodes with UMA_CTLFLAG_TUN) are read once, before the
 * first zone, from the environment:
 *   UMA_TUNABLES="vm.uma_timeout=5,vm.zone_warnings=0"
 * An entry that is not name=value, names no node, names a node that is not
 * a tunable, or carries a value the node refuses is reported on stderr,
 * with the reason, and ignored.
 */
#ifndef _UMA_SYSCTL_H_
#define	_UMA_SYSCTL_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Node types: the layout of a node's value. */
#define	UMA_CTLTYPE_INT		1	/* int */
#define	UMA_CTLTYPE_U64		2	/* uint64_t */
#define	UMA_CTLTYPE_STRING	3	/* NUL-terminated characters */
#define	UMA_CTLTYPE_OPAQUE	4	/* a binary record; see the format */

/* Access flags. */
#define	UMA_CTLFLAG_RD		0x1	/* readable */
#define	UMA_CTLFLAG_WR		0x2	/* writable at run time */
#define	UMA_CTLFLAG_TUN		0x4	/* settable at boot (UMA_TUNABLES) */
#define	UMA_CTLFLAG_RW		(UMA_CTLFLAG_RD | UMA_CTLFLAG_WR)
#define	UMA_CTLFLAG_RDTUN	(UMA_CTLFLAG_RD | UMA_CTLFLAG_TUN)
#define	UMA_CTLFLAG_RWTUN	(UMA_CTLFLAG_RW | UMA_CTLFLAG_TUN)

/* One node, as uma_sysctl_list() shows it. */
struct uma_sysctl_info {
	const char	*name;		/* "vm.uma.mbuf.stats.allocs" */
	int		 type;		/* UMA_CTLTYPE_* */
	int		 flags;		/* UMA_CTLFLAG_* */
	const char	*descr;		/* one line */
	const char	*fmt;		/* opaque nodes: "S,uma_type_header" */
};

/*
 * Read and/or set the node `name`, as sysctlbyname(3).
 *
 * Arguments:
 *   oldp, oldlenp  where the current value goes.  With oldp NULL only the
 *                  size is stored in *oldlenp.  Strings include their NUL.
 *   newp, newlen   the new value (NULL: no change): an int for INT nodes,
 *                  a uint64_t for U64 nodes, characters (NUL optional) for
 *                  STRING nodes.
 * Returns 0 (with *oldlenp the bytes stored), or -1 with errno:
 *   ENOENT  no such node;
 *   ENOMEM  the buffer is too short: *oldlenp is set to the size needed
 *           (FreeBSD stores the bytes copied instead) and nothing is set;
 *   EPERM   newp given for a node that is not writable at run time;
 *   EINVAL  newlen is not the node's size, or the node refused the value:
 *           nothing changed.
 * Discussion: opaque nodes such as vm.zone_stats are generated at each
 * call; the size probe is exact at that moment, so size a buffer with some
 * slack or retry on ENOMEM.
 */
int uma_sysctlbyname(const char *name, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen);

/*
 * Call fn for every node, static ones in name order, then each zone's.
 * The info and its strings are valid only during the call.  fn must not
 * create or destroy zones (the zone list is read-locked while zones are
 * listed).  Stops when fn returns non-zero and returns that value; 0 after
 * the last node.
 */
int uma_sysctl_list(int (*fn)(const struct uma_sysctl_info *info, void *arg),
    void *arg);

/*
 * Serve this process's sysctl tree on a Unix socket, so that
 * `umastat -p PID` can read it (protocol: <uma/stream.h>).
 *
 * Arguments:
 *   dir  the directory of the socket; NULL means $XDG_RUNTIME_DIR/uma, or
 *        /tmp/uma-<uid> without XDG_RUNTIME_DIR.  It is created with mode
 *        0700; an existing one must be a directory owned by this user that
 *        neither group nor others can access.
 * Returns 0, or an errno value (EEXIST if already serving, EPERM for an
 * unsafe directory, ENAMETOOLONG, or what socket(2)/bind(2) said).
 * Discussion: the socket is <dir>/<pid>.sock, mode 0600.  One thread, with
 * every signal blocked, serves a bounded number of clients; a client of
 * another uid (other than root) is refused.  The socket is removed by
 * uma_export_stop() and at exit.  The same starts at boot with
 * UMA_EXPORT=1 in the environment or the boot tunable uma.export=1 (the
 * directory then comes from UMA_EXPORT_DIR if set).
 */
int uma_export_start(const char *dir);

/* Stop serving and remove the socket.  No-op if not serving. */
void uma_export_stop(void);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif /* !_UMA_SYSCTL_H_ */
