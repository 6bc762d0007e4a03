/*
 * sysctl_int.h - how the layers put nodes in the sysctl tree (internal).
 *
 * Static nodes are declared where their data lives, with one macro each
 * (FreeBSD's SYSCTL_* macros).  Each macro puts a pointer to its node in
 * the linker set uma_sysctl_set (FreeBSD's SYSCTL_SET), which sysctl.c
 * reads at its first use: the tree is whole before any code runs, so that
 * boot tunables are checked against all of it even when uma starts before
 * its library's constructors have run (a preloaded libuma-malloc.so is
 * initialized after the program's libraries, whose constructors may
 * allocate).  sysctl.c declares the set's __start_/__stop_ symbols hidden,
 * so they stay out of the dynamic symbol table.  A node of a module that
 * is not linked in does not exist.
 *
 *   UMA_SYSCTL_INT(id, "vm.zone_warnings", &var, UMA_CTLFLAG_RWTUN, 0, 1,
 *       "Warn when a zone hits its limit");
 *   UMA_SYSCTL_U64(id, name, &u64var, flags, min, max, descr);
 *   UMA_SYSCTL_STRING(id, name, buf, sizeof(buf), flags, descr);
 *   UMA_SYSCTL_PROC(id, name, UMA_CTLTYPE_OPAQUE, UMA_CTLFLAG_RD,
 *       "S,malloc_type_ustats", handler, arg, descr);
 *
 * A handler writes the current value with uma__sysctl_out() and, when
 * req->newp is not NULL, validates and applies the new value: it returns 0
 * or an errno value and must change nothing when it fails.  INT/U64 nodes
 * refuse values outside [min, max] with EINVAL.  Writes reach a handler
 * only if the node is writable at run time (WR) or, at boot, a tunable
 * (TUN; req->boot is then set).  Handlers run without any uma lock held.
 *
 * A subtree (UMA_SYSCTL_SUBTREE) serves every name under a prefix from
 * its own functions: the per-zone vm.uma.<zone>.* nodes are generated from
 * the zone list at each request, so zones need no registration.
 */
#ifndef _UMA_SYSCTL_INT_H_
#define	_UMA_SYSCTL_INT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uma/sysctl.h>

/* One request: the caller's buffers and how far the handler got. */
struct uma__sysctl_req {
	void		*oldp;		/* NULL: size probe */
	size_t		 oldlen;	/* room at oldp */
	size_t		 oldidx;	/* bytes produced (or needed) so far */
	const void	*newp;		/* NULL: read only */
	size_t		 newlen;
	int		 boot;		/* set by UMA_TUNABLES at startup */
	int		 type;		/* out: the node's UMA_CTLTYPE_* */
};

struct uma__sysctl_oid;
typedef int uma__sysctl_handler_t(struct uma__sysctl_req *req,
    const struct uma__sysctl_oid *oid);

/* Serve `rest` (the name after "prefix.") or return ENOENT. */
typedef int uma__sysctl_subreq_t(const char *rest,
    struct uma__sysctl_req *req);
/* Call fn for every node of the subtree (as uma_sysctl_list). */
typedef int uma__sysctl_sublist_t(int (*fn)(const struct uma_sysctl_info *,
    void *), void *arg);

struct uma__sysctl_oid {
	const char	*oid_name;
	int		 oid_type;	/* UMA_CTLTYPE_*, 0 for a subtree */
	int		 oid_flags;	/* UMA_CTLFLAG_* */
	const char	*oid_descr;
	const char	*oid_fmt;	/* opaque nodes */
	uma__sysctl_handler_t *oid_handler;
	void		*oid_arg;	/* the variable, or the handler's */
	size_t		 oid_size;	/* STRING: room at oid_arg */
	int64_t		 oid_min;	/* INT/U64: accepted values */
	uint64_t	 oid_max;
	uma__sysctl_subreq_t *oid_subreq;
	uma__sysctl_sublist_t *oid_sublist;
};

#define	UMA__SYSCTL_SET(id)						\
	static const struct uma__sysctl_oid *const uma_sysctl_set_##id	\
	    __attribute__((section("uma_sysctl_set"), used,		\
	    aligned(sizeof(void *)))) = &(id)

#define	UMA_SYSCTL_INT(id, name, ptr, flags, min, max, descr)		\
	static const struct uma__sysctl_oid id = { (name),		\
	    UMA_CTLTYPE_INT, (flags), (descr), "I", uma__sysctl_handle_int, \
	    (int *)(ptr), sizeof(int), (min), (uint64_t)(max) };	\
	UMA__SYSCTL_SET(id)

#define	UMA_SYSCTL_U64(id, name, ptr, flags, min, max, descr)		\
	static const struct uma__sysctl_oid id = { (name),		\
	    UMA_CTLTYPE_U64, (flags), (descr), "QU", uma__sysctl_handle_u64, \
	    (uint64_t *)(ptr), sizeof(uint64_t), (min), (max) };	\
	UMA__SYSCTL_SET(id)

#define	UMA_SYSCTL_STRING(id, name, buf, size, flags, descr)		\
	static const struct uma__sysctl_oid id = { (name),		\
	    UMA_CTLTYPE_STRING, (flags), (descr), "A",			\
	    uma__sysctl_handle_string, (buf), (size) };			\
	UMA__SYSCTL_SET(id)

#define	UMA_SYSCTL_PROC(id, name, type, flags, fmt, handler, arg, descr) \
	static const struct uma__sysctl_oid id = { (name), (type),	\
	    (flags), (descr), (fmt), (handler), (arg), 0, INT64_MIN,	\
	    UINT64_MAX };						\
	UMA__SYSCTL_SET(id)

#define	UMA_SYSCTL_SUBTREE(id, prefix, subreq, sublist)		\
	static const struct uma__sysctl_oid id = { (prefix), 0,	\
	    UMA_CTLFLAG_RD, NULL, NULL, NULL, NULL, 0, 0, 0,		\
	    (subreq), (sublist) };					\
	UMA__SYSCTL_SET(id)

/*
 * Append len bytes of the value.  With no room left it still counts them
 * (so oldidx ends as the size needed) and returns ENOMEM.
 */
int	uma__sysctl_out(struct uma__sysctl_req *req, const void *p,
	    size_t len);

/*
 * A scalar node's read and write: write the `size` bytes at v out and, if
 * the request carries a new value, check it has `size` bytes and copy it
 * over v (*takenp says whether it did).  Returns 0 or an errno value.
 */
int	uma__sysctl_scalar(struct uma__sysctl_req *req, void *v, size_t size,
	    bool *takenp);

/*
 * Typed helpers for handlers: write *val out and, for a write, check
 * newlen and [min, max] and store the new value in *val.  Return 0 or an
 * errno value; *val is unchanged on error.
 */
int	uma__sysctl_rw_int(struct uma__sysctl_req *req, int *val, int64_t min,
	    int64_t max);
int	uma__sysctl_rw_u64(struct uma__sysctl_req *req, uint64_t *val,
	    uint64_t min, uint64_t max);
int	uma__sysctl_rw_string(struct uma__sysctl_req *req, char *buf,
	    size_t size);

uma__sysctl_handler_t uma__sysctl_handle_int;
uma__sysctl_handler_t uma__sysctl_handle_u64;
uma__sysctl_handler_t uma__sysctl_handle_string;

/* The static node `name`, or NULL (subtrees are not searched). */
const struct uma__sysctl_oid *uma__sysctl_find(const char *name);

/* Run a request on a node (checks access; see uma_sysctlbyname). */
int	uma__sysctl_run(const struct uma__sysctl_oid *oid,
	    struct uma__sysctl_req *req);

/* Look `name` up (subtrees too) and run req on it: 0 or an errno value. */
int	uma__sysctl_request(const char *name, struct uma__sysctl_req *req);

/* The UMA_CTLFLAG_* combination as "RD", "RW", "RDTUN", "RWTUN". */
const char *uma__sysctl_access_name(int flags);
/* The UMA_CTLTYPE_* as "int", "u64", "string", "opaque". */
const char *uma__sysctl_type_name(int type);

/* tunable.c: apply UMA_TUNABLES (and UMA_EXPORT=1) to the tree, at boot. */
void	uma__tunables_load(void);

#endif /* !_UMA_SYSCTL_INT_H_ */
