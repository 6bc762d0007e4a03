/*
 * vmmap.c - the first-fit address-space map under the page layer.
 *
 * Owns the bookkeeping of which pages of an arena are handed out: an AVL
 * tree of allocated entries augmented with gap sizes (vmmap.h explains the
 * adj_free/max_free scheme), and the pool of mmap'd chunks the tree's nodes
 * live in.  It sits below vm.c; it must not touch the arena's memory, take
 * locks, or call malloc(3).
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"
#include "vmmap.h"

#define	VMMAP_CHUNK_SIZE	(64 * 1024)

/*
 * An allocated entry [vme_start, vme_end), or the sentinel (vme_start ==
 * vme_end == the arena start), which is always the leftmost node.
 * Invariants:
 *	vme_end + vme_adj_free == the successor's vme_start, or the arena end
 *	vme_max_free == max(vme_adj_free, the children's vme_max_free)
 *	vme_height == 1 + max(the children's heights), which differ by <= 1
 * Nodes on the pool's free list chain through vme_left.
 */
struct vmmap_entry {
	struct vmmap_entry	*vme_left;
	struct vmmap_entry	*vme_right;
	uintptr_t		 vme_start;
	uintptr_t		 vme_end;
	size_t			 vme_adj_free;
	size_t			 vme_max_free;
	int			 vme_height;
};

/*
 * One mmap'd chunk of nodes; the chunks form a list so fini can unmap them.
 * Nodes are carved from the newest chunk in order (vc_used), so that only
 * the pages holding nodes in use are ever touched.
 */
struct vmmap_chunk {
	struct vmmap_chunk	*vc_next;
	size_t			 vc_used;	/* nodes carved so far */
	struct vmmap_entry	 vc_nodes[];
};

#define	VMMAP_CHUNK_NODES						\
	((VMMAP_CHUNK_SIZE - offsetof(struct vmmap_chunk, vc_nodes)) /	\
	sizeof(struct vmmap_entry))

/* The constraints of one vmmap_alloc call, checked and clipped to the arena. */
struct vmmap_req {
	size_t		vr_len;
	size_t		vr_align;	/* power of 2, >= a page */
	size_t		vr_boundary;	/* power of 2 >= vr_len, or 0 */
	uintptr_t	vr_low;		/* [vr_low, vr_high) inside the arena */
	uintptr_t	vr_high;
};

static bool
powerof2(size_t x)
{

	return (x != 0 && (x & (x - 1)) == 0);
}

/*
 * The node pool.  Nodes are never given back to the system one by one: a
 * map's node count follows its entry count, and fini returns everything.
 */
static int
pool_grow(struct vmmap *map)
{
	struct vmmap_chunk *chunk;
	void *p;

	p = mmap(NULL, VMMAP_CHUNK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return (ENOMEM);
	chunk = p;
	chunk->vc_next = map->vmm_chunks;
	chunk->vc_used = 0;
	map->vmm_chunks = chunk;
	return (0);
}

static struct vmmap_entry *
pool_get(struct vmmap *map)
{
	struct vmmap_chunk *c = map->vmm_chunks;
	struct vmmap_entry *e;

	if (map->vmm_freenodes == NULL) {
		if ((c == NULL || c->vc_used == VMMAP_CHUNK_NODES) &&
		    pool_grow(map) != 0)
			return (NULL);
		c = map->vmm_chunks;
		return (&c->vc_nodes[c->vc_used++]);	/* zero (mmap) */
	}
	e = map->vmm_freenodes;
	map->vmm_freenodes = e->vme_left;
	return (e);
}

static void
pool_put(struct vmmap *map, struct vmmap_entry *e)
{

	e->vme_left = map->vmm_freenodes;
	map->vmm_freenodes = e;
}

/*
 * AVL maintenance.  Every structural change ends in entry_update.  Inline
 * (the compiler kept entry_rebalance and entry_update as calls: 60% of
 * vmmap_alloc's instructions, callgrind, bench reuse): the walk up then
 * loads each child's height once for both the balance and the update.
 */
#define	VMMAP_INLINE	static inline __attribute__((always_inline))

VMMAP_INLINE int
entry_height(const struct vmmap_entry *e)
{

	return (e != NULL ? e->vme_height : 0);
}

VMMAP_INLINE size_t
entry_max_free(const struct vmmap_entry *e)
{

	return (e != NULL ? e->vme_max_free : 0);
}

/* The largest gap at or below e, from its own and its children's. */
VMMAP_INLINE size_t
entry_subtree_max_free(const struct vmmap_entry *e)
{
	size_t lm = entry_max_free(e->vme_left);
	size_t rm = entry_max_free(e->vme_right);
	size_t m = e->vme_adj_free;

	if (lm > m)
		m = lm;
	if (rm > m)
		m = rm;
	return (m);
}

VMMAP_INLINE void
entry_update(struct vmmap_entry *e)
{
	int lh = entry_height(e->vme_left), rh = entry_height(e->vme_right);

	e->vme_height = 1 + (lh > rh ? lh : rh);
	e->vme_max_free = entry_subtree_max_free(e);
}

static struct vmmap_entry *
entry_rotate_right(struct vmmap_entry *e)
{
	struct vmmap_entry *l = e->vme_left;

	e->vme_left = l->vme_right;
	l->vme_right = e;
	entry_update(e);
	entry_update(l);
	return (l);
}

static struct vmmap_entry *
entry_rotate_left(struct vmmap_entry *e)
{
	struct vmmap_entry *r = e->vme_right;

	e->vme_right = r->vme_left;
	r->vme_left = e;
	entry_update(e);
	entry_update(r);
	return (r);
}

/* Recompute e after a change below it; rotate if it leans by two. */
VMMAP_INLINE struct vmmap_entry *
entry_rebalance(struct vmmap_entry *e)
{
	int bf = entry_height(e->vme_left) - entry_height(e->vme_right);

	if (bf > 1) {
		if (entry_height(e->vme_left->vme_left) <
		    entry_height(e->vme_left->vme_right))
			e->vme_left = entry_rotate_left(e->vme_left);
		return (entry_rotate_right(e));
	}
	if (bf < -1) {
		if (entry_height(e->vme_right->vme_right) <
		    entry_height(e->vme_right->vme_left))
			e->vme_right = entry_rotate_right(e->vme_right);
		return (entry_rotate_left(e));
	}
	entry_update(e);
	return (e);
}

/*
 * Entries are ordered by start, then by end: only the sentinel and an entry
 * at the arena start share a start, and the sentinel (empty) comes first.
 */
static int
entry_cmp(uintptr_t start, uintptr_t end, const struct vmmap_entry *e)
{

	if (start != e->vme_start)
		return (start < e->vme_start ? -1 : 1);
	if (end != e->vme_end)
		return (end < e->vme_end ? -1 : 1);
	return (0);
}

/*
 * Insert n.  The caller has already changed `changed`'s adj_free (n's
 * predecessor, or NULL if nothing but n changed); the predecessor of a
 * new leaf is one of its ancestors, so the recomputation on the way back
 * up repairs its max_free along with everyone else's.
 *
 * Iterative, with the links of the path on a stack, in two stages: while
 * heights change, each node is rebalanced; from the first node whose
 * height holds (no rotation can happen above it) only max_free is
 * recomputed, and above `changed` the walk stops at the first node whose
 * max_free holds: every ancestor is then as it was.  A slab's page run
 * appended at the arena's top changes max_free all the way up (the top
 * gap is the root's), so the cheap stage is what most levels take.  The
 * recursion, with entry_rebalance and entry_update called at every level,
 * cost 1,160 instructions an allocation at 48,000 entries (callgrind,
 * bench small).
 */
#define	VMMAP_DEPTH	96	/* AVL: 1.44 log2(nodes) < 96 for any map */

static struct vmmap_entry *
tree_insert(struct vmmap_entry *root, struct vmmap_entry *n,
    const struct vmmap_entry *changed)
{
	struct vmmap_entry **path[VMMAP_DEPTH], **link = &root, *e, *r;
	bool above = changed == NULL;
	size_t m;
	int depth = 0, height;

	while ((e = *link) != NULL) {
		path[depth++] = link;
		link = entry_cmp(n->vme_start, n->vme_end, e) < 0 ?
		    &e->vme_left : &e->vme_right;
	}
	*link = n;
	while (depth > 0) {
		link = path[--depth];
		e = *link;
		height = e->vme_height;
		r = entry_rebalance(e);
		*link = r;
		if (e == changed)
			above = true;
		if (r == e && e->vme_height == height)
			break;
	}
	while (depth > 0) {
		e = *path[--depth];
		m = entry_subtree_max_free(e);
		if (e == changed)
			above = true;
		else if (above && m == e->vme_max_free)
			break;
		e->vme_max_free = m;
	}
	return (root);
}

static struct vmmap_entry *
tree_remove_max(struct vmmap_entry *e, struct vmmap_entry **maxp)
{

	if (e->vme_right == NULL) {
		*maxp = e;
		return (e->vme_left);
	}
	e->vme_right = tree_remove_max(e->vme_right, maxp);
	return (entry_rebalance(e));
}

/*
 * Unlink the entry with key [start, end), which exists.  The caller has
 * already grown the predecessor's adj_free.  The predecessor is either an
 * ancestor on the search path or the maximum of the removed node's left
 * subtree, which takes the removed node's place; both are recomputed here.
 */
static struct vmmap_entry *
tree_remove(struct vmmap_entry *e, uintptr_t start, uintptr_t end)
{
	struct vmmap_entry *left, *pred;
	int c = entry_cmp(start, end, e);

	if (c < 0)
		e->vme_left = tree_remove(e->vme_left, start, end);
	else if (c > 0)
		e->vme_right = tree_remove(e->vme_right, start, end);
	else {
		if (e->vme_left == NULL)
			return (e->vme_right);
		left = tree_remove_max(e->vme_left, &pred);
		pred->vme_left = left;
		pred->vme_right = e->vme_right;
		e = pred;
	}
	return (entry_rebalance(e));
}

/* Find the entry [start, end) and its in-order predecessor, or NULL. */
static struct vmmap_entry *
map_lookup(const struct vmmap *map, uintptr_t start, uintptr_t end,
    struct vmmap_entry **predp)
{
	struct vmmap_entry *e = map->vmm_root, *pred = NULL;
	int c;

	while (e != NULL && (c = entry_cmp(start, end, e)) != 0) {
		if (c > 0) {
			pred = e;
			e = e->vme_right;
		} else
			e = e->vme_left;
	}
	if (e != NULL && e->vme_left != NULL)
		for (pred = e->vme_left; pred->vme_right != NULL;)
			pred = pred->vme_right;
	*predp = pred;
	return (e);
}

/*
 * The unconstrained first fit: the leftmost node whose adj_free >= len.
 * max_free says which way to go, so this never backtracks: O(log n).
 */
static struct vmmap_entry *
map_find_first(const struct vmmap *map, size_t len)
{
	struct vmmap_entry *e = map->vmm_root;

	if (entry_max_free(e) < len)
		return (NULL);
	for (;;) {
		if (entry_max_free(e->vme_left) >= len)
			e = e->vme_left;
		else if (e->vme_adj_free >= len)
			return (e);
		else
			e = e->vme_right;
	}
}

/* The lowest address in the gap [gs, ge) that meets req, if any. */
static bool
gap_fit(uintptr_t gs, uintptr_t ge, const struct vmmap_req *req,
    uintptr_t *addrp)
{
	uintptr_t lo = gs > req->vr_low ? gs : req->vr_low;
	uintptr_t hi = ge < req->vr_high ? ge : req->vr_high;
	uintptr_t a, mask = req->vr_align - 1;

	if (lo >= hi || hi - lo < req->vr_len || lo > UINTPTR_MAX - mask)
		return (false);
	a = (lo + mask) & ~mask;
	if (a > hi || hi - a < req->vr_len)
		return (false);
	/*
	 * Crossing a boundary: every aligned start below the next multiple
	 * of it crosses too, and that multiple is itself aligned (align and
	 * boundary are powers of 2, and if align > boundary no aligned run
	 * of len <= boundary can cross).
	 */
	mask = req->vr_boundary - 1;
	if (req->vr_boundary != 0 &&
	    ((a ^ (a + req->vr_len - 1)) & ~mask) != 0) {
		if ((a | mask) == UINTPTR_MAX)
			return (false);
		a = (a | mask) + 1;
		if (a > hi || hi - a < req->vr_len)
			return (false);
	}
	*addrp = a;
	return (true);
}

/*
 * The constrained first fit: an in-order walk over the gaps of at least
 * vr_len bytes, skipping subtrees whose max_free is too small, and subtrees
 * outside the window: the gaps left of a node end by its start, so they
 * matter only if that start is at least vr_low + vr_len; the node's own gap
 * and those right of it start at its end or later, so once that end is past
 * vr_high - vr_len nothing further in address order can fit, and every
 * ancestor on the way back up stops at the same test.
 *
 * max_free cannot see alignment, boundaries or the window, so gaps big
 * enough by size may still be rejected by gap_fit.  Reaching the next
 * candidate gap costs O(log n): a call costs O(log n) per candidate gap
 * examined (as in FreeBSD's vm_map_find retry loop), not O(log n) overall.
 * Recursion depth is the tree height.
 */
static struct vmmap_entry *
map_find_constrained(struct vmmap_entry *e, const struct vmmap_req *req,
    uintptr_t *addrp)
{
	struct vmmap_entry *found;

	if (e == NULL || e->vme_max_free < req->vr_len)
		return (NULL);
	if (e->vme_start > req->vr_low &&
	    e->vme_start - req->vr_low >= req->vr_len &&
	    (found = map_find_constrained(e->vme_left, req, addrp)) != NULL)
		return (found);
	if (e->vme_end >= req->vr_high ||
	    req->vr_high - e->vme_end < req->vr_len)
		return (NULL);
	if (e->vme_adj_free >= req->vr_len && gap_fit(e->vme_end,
	    e->vme_end + e->vme_adj_free, req, addrp))
		return (e);
	return (map_find_constrained(e->vme_right, req, addrp));
}

/* Check vmmap_alloc's arguments and clip [low, high) to the arena. */
static int
req_init(struct vmmap_req *req, const struct vmmap *map, size_t len,
    size_t align, uintptr_t low, uintptr_t high, size_t boundary)
{

	if (len == 0 || (len & UMA_PAGE_MASK) != 0 || low >= high)
		return (EINVAL);
	if (align != 0 && !powerof2(align))
		return (EINVAL);
	if (boundary != 0 && (!powerof2(boundary) || boundary < len))
		return (EINVAL);
	req->vr_len = len;
	req->vr_align = align < UMA_PAGE_SIZE ? UMA_PAGE_SIZE : align;
	req->vr_boundary = boundary;
	req->vr_low = low > map->vmm_start ? low : map->vmm_start;
	req->vr_high = high < map->vmm_end ? high : map->vmm_end;
	return (0);
}

int
vmmap_init(struct vmmap *map, uintptr_t start, uintptr_t end)
{
	struct vmmap_entry *s;

	if (((start | end) & UMA_PAGE_MASK) != 0 || start >= end)
		return (EINVAL);
	map->vmm_root = NULL;
	map->vmm_freenodes = NULL;
	map->vmm_chunks = NULL;
	map->vmm_start = start;
	map->vmm_end = end;
	map->vmm_count = 0;
	map->vmm_allocated = 0;
	if ((s = pool_get(map)) == NULL)
		return (ENOMEM);
	s->vme_left = s->vme_right = NULL;
	s->vme_start = s->vme_end = start;
	s->vme_adj_free = end - start;
	entry_update(s);
	map->vmm_root = s;
	return (0);
}

void
vmmap_fini(struct vmmap *map)
{
	struct vmmap_chunk *c, *next;

	for (c = map->vmm_chunks; c != NULL; c = next) {
		next = c->vc_next;
		munmap(c, VMMAP_CHUNK_SIZE);
	}
	map->vmm_root = NULL;
	map->vmm_freenodes = NULL;
	map->vmm_chunks = NULL;
	map->vmm_count = 0;
	map->vmm_allocated = 0;
}

int
vmmap_alloc(struct vmmap *map, size_t len, size_t align, uintptr_t low,
    uintptr_t high, size_t boundary, uintptr_t *addrp)
{
	struct vmmap_req req;
	struct vmmap_entry *pred, *n;
	uintptr_t a, gap_end;
	int error;

	if (addrp == NULL)
		return (EINVAL);
	if ((error = req_init(&req, map, len, align, low, high, boundary)) != 0)
		return (error);
	if (req.vr_align == UMA_PAGE_SIZE && boundary == 0 &&
	    req.vr_low == map->vmm_start && req.vr_high == map->vmm_end) {
		if ((pred = map_find_first(map, len)) == NULL)
			return (ENOMEM);
		a = pred->vme_end;
	} else if (req.vr_low >= req.vr_high ||
	    (pred = map_find_constrained(map->vmm_root, &req, &a)) == NULL)
		return (ENOMEM);
	if ((n = pool_get(map)) == NULL)
		return (EAGAIN);
	gap_end = pred->vme_end + pred->vme_adj_free;
	n->vme_left = n->vme_right = NULL;
	n->vme_start = a;
	n->vme_end = a + len;
	n->vme_adj_free = gap_end - n->vme_end;
	entry_update(n);
	pred->vme_adj_free = a - pred->vme_end;
	map->vmm_root = tree_insert(map->vmm_root, n, pred);
	map->vmm_count++;
	map->vmm_allocated += len;
	*addrp = a;
	return (0);
}

int
vmmap_free(struct vmmap *map, uintptr_t addr, size_t len)
{
	struct vmmap_entry *e, *pred;

	if (len == 0 || ((addr | len) & UMA_PAGE_MASK) != 0 ||
	    addr > UINTPTR_MAX - len)
		return (EINVAL);
	if ((e = map_lookup(map, addr, addr + len, &pred)) == NULL)
		return (EINVAL);
	/* Only the sentinel has no predecessor, and it cannot match. */
	pred->vme_adj_free += len + e->vme_adj_free;
	map->vmm_root = tree_remove(map->vmm_root, addr, addr + len);
	pool_put(map, e);
	map->vmm_count--;
	map->vmm_allocated -= len;
	return (0);
}

int
vmmap_split(struct vmmap *map, uintptr_t addr, size_t len, size_t at)
{
	struct vmmap_entry *e, *pred, *n;

	if (at == 0 || at >= len || ((addr | len | at) & UMA_PAGE_MASK) != 0 ||
	    addr > UINTPTR_MAX - len)
		return (EINVAL);
	if ((e = map_lookup(map, addr, addr + len, &pred)) == NULL)
		return (EINVAL);
	if ((n = pool_get(map)) == NULL)
		return (EAGAIN);
	/*
	 * Out and back in as two leaves: the gap before e (pred's adj_free)
	 * does not change, e's trailing gap moves to n, and each insert
	 * recomputes the path above it.
	 */
	map->vmm_root = tree_remove(map->vmm_root, addr, addr + len);
	n->vme_left = n->vme_right = NULL;
	n->vme_start = addr + at;
	n->vme_end = addr + len;
	n->vme_adj_free = e->vme_adj_free;
	entry_update(n);
	e->vme_left = e->vme_right = NULL;
	e->vme_end = addr + at;
	e->vme_adj_free = 0;
	entry_update(e);
	map->vmm_root = tree_insert(map->vmm_root, e, NULL);
	map->vmm_root = tree_insert(map->vmm_root, n, NULL);
	map->vmm_count++;
	return (0);
}

int
vmmap_merge(struct vmmap *map, uintptr_t addr, size_t len, size_t len2)
{
	struct vmmap_entry *e, *n, *pred;
	uintptr_t mid = addr + len;

	if (len == 0 || len2 == 0 || ((addr | len | len2) & UMA_PAGE_MASK) !=
	    0 || addr > UINTPTR_MAX - len || mid > UINTPTR_MAX - len2)
		return (EINVAL);
	if ((e = map_lookup(map, addr, mid, &pred)) == NULL ||
	    (n = map_lookup(map, mid, mid + len2, &pred)) == NULL)
		return (EINVAL);
	/*
	 * e is n's predecessor (no gap between them): it takes n's range and
	 * trailing gap first, as tree_remove expects, and the removal
	 * recomputes the path.  e's key grows at its end only, so the tree
	 * stays ordered (entries never overlap).
	 */
	e->vme_end = mid + len2;
	e->vme_adj_free = n->vme_adj_free;
	map->vmm_root = tree_remove(map->vmm_root, mid, mid + len2);
	pool_put(map, n);
	map->vmm_count--;
	return (0);
}

/*
 * Recompute the nodes on the search path to the entry [start, end) after
 * its own fields changed (its key only at the end, which keeps the order:
 * entries never overlap).  The shape does not change.
 */
static void
tree_refresh(struct vmmap_entry *e, uintptr_t start, uintptr_t end)
{
	int c = entry_cmp(start, end, e);

	if (c < 0)
		tree_refresh(e->vme_left, start, end);
	else if (c > 0)
		tree_refresh(e->vme_right, start, end);
	entry_update(e);
}

/* The rightmost node, whose adj_free is the gap before the arena end. */
static struct vmmap_entry *
map_last(const struct vmmap *map)
{
	struct vmmap_entry *e = map->vmm_root;

	while (e->vme_right != NULL)
		e = e->vme_right;
	return (e);
}

int
vmmap_resize(struct vmmap *map, uintptr_t addr, size_t len, size_t newlen)
{
	struct vmmap_entry *e, *pred;

	if (len == 0 || newlen == 0 || ((addr | len | newlen) &
	    UMA_PAGE_MASK) != 0 || addr > UINTPTR_MAX - len)
		return (EINVAL);
	if ((e = map_lookup(map, addr, addr + len, &pred)) == NULL)
		return (EINVAL);
	if (newlen > len && newlen - len > e->vme_adj_free)
		return (ENOMEM);
	e->vme_adj_free = e->vme_adj_free + len - newlen;
	e->vme_end = addr + newlen;
	tree_refresh(map->vmm_root, addr, addr + newlen);
	map->vmm_allocated = map->vmm_allocated + newlen - len;
	return (0);
}

int
vmmap_set_end(struct vmmap *map, uintptr_t end)
{
	struct vmmap_entry *last;

	if ((end & UMA_PAGE_MASK) != 0 || end <= map->vmm_start)
		return (EINVAL);
	last = map_last(map);
	if (end < last->vme_end)
		return (EBUSY);
	last->vme_adj_free = end - last->vme_end;
	map->vmm_end = end;
	tree_refresh(map->vmm_root, last->vme_start, last->vme_end);
	return (0);
}

size_t
vmmap_tail_free(const struct vmmap *map)
{

	return (map_last(map)->vme_adj_free);
}

size_t
vmmap_count(const struct vmmap *map)
{

	return (map->vmm_count);
}

size_t
vmmap_allocated(const struct vmmap *map)
{

	return (map->vmm_allocated);
}

size_t
vmmap_largest_free(const struct vmmap *map)
{

	return (entry_max_free(map->vmm_root));
}

/* Nodes are carved in order from each chunk: its first pages are touched. */
size_t
vmmap_node_bytes(const struct vmmap *map)
{
	const struct vmmap_chunk *c;
	size_t bytes = 0;

	for (c = map->vmm_chunks; c != NULL; c = c->vc_next)
		bytes += (offsetof(struct vmmap_chunk, vc_nodes) +
		    c->vc_used * sizeof(struct vmmap_entry) + UMA_PAGE_MASK) &
		    ~UMA_PAGE_MASK;
	return (bytes);
}

/* The validity walker's state: the in-order predecessor and running sums. */
struct vmmap_walk {
	const struct vmmap		*vw_map;
	const struct vmmap_entry	*vw_prev;
	size_t				 vw_entries;	/* sentinel included */
	size_t				 vw_bytes;
};

/* The in-order checks of one entry against its predecessor. */
static bool
walk_entry(struct vmmap_walk *w, const struct vmmap_entry *e)
{
	const struct vmmap *map = w->vw_map;
	const struct vmmap_entry *p = w->vw_prev;

	if (p == NULL) {
		if (e->vme_start != map->vmm_start || e->vme_end != e->vme_start)
			return (false);
	} else if (e->vme_start != p->vme_end + p->vme_adj_free ||
	    e->vme_end <= e->vme_start)
		return (false);
	if (((e->vme_start | e->vme_end | e->vme_adj_free) &
	    UMA_PAGE_MASK) != 0 || e->vme_end > map->vmm_end ||
	    e->vme_adj_free > map->vmm_end - e->vme_end)
		return (false);
	w->vw_prev = e;
	w->vw_entries++;
	w->vw_bytes += e->vme_end - e->vme_start;
	return (true);
}

/* The subtree's height, or -1 if an invariant fails in it. */
static int
walk_subtree(struct vmmap_walk *w, const struct vmmap_entry *e)
{
	size_t m;
	int lh, rh;

	if (e == NULL)
		return (0);
	if ((lh = walk_subtree(w, e->vme_left)) < 0 || !walk_entry(w, e) ||
	    (rh = walk_subtree(w, e->vme_right)) < 0)
		return (-1);
	if (lh - rh > 1 || rh - lh > 1 ||
	    e->vme_height != 1 + (lh > rh ? lh : rh))
		return (-1);
	m = e->vme_adj_free;
	if (entry_max_free(e->vme_left) > m)
		m = entry_max_free(e->vme_left);
	if (entry_max_free(e->vme_right) > m)
		m = entry_max_free(e->vme_right);
	return (e->vme_max_free == m ? e->vme_height : -1);
}

int
vmmap_is_valid(const struct vmmap *map)
{
	struct vmmap_walk w = { .vw_map = map };

	if (map->vmm_root == NULL || walk_subtree(&w, map->vmm_root) < 0)
		return (0);
	return (w.vw_prev->vme_end + w.vw_prev->vme_adj_free == map->vmm_end &&
	    w.vw_entries == map->vmm_count + 1 &&
	    w.vw_bytes == map->vmm_allocated);
}
