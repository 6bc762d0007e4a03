/*
 * vm.c - the page layer's arena: its window, its mapping in pieces, a
 * first-fit map over the part of it in use, and the page -> slab tables.
 *
 * Layer: the bottom.  Knows pages and slab pointers, nothing of zones.
 *
 * The arena is a window of address space, [uma_vm_base, uma_vm_base +
 * uma_vm_size), chosen at start-up, and two tables that cover all of it:
 * one slab pointer and one 32-bit tag per page (its keg, the malloc class
 * of its slab and the page's place in it, for free() and the bucket
 * checks).  Only the bottom of the window is mapped: the map (vmmap.c)
 * hands out pages below vm.end, and when it has no room the arena grows
 * at uma__vm.end by a piece (an eighth of its size, 2 MiB at least; just what
 * the request needs if the kernel refuses that); a free top of more than
 * VM_TRIM_MIN goes back.  The tables become writable along with the
 * pieces; elsewhere they are read-only zero pages: "no slab".
 *
 * Why pieces.  Every mapping counts against RLIMIT_AS, a writable private
 * one against RLIMIT_DATA, and with vm.overcommit_memory=2 it is charged:
 * a writable 64 GiB reservation made every program abort under `ulimit -v`
 * or `ulimit -d`.  So:
 *  - with no address-space limit the whole window is reserved PROT_NONE
 *    (that costs address space only) and pieces are made writable with
 *    mprotect, which applies the data limit and the charge;
 *  - under RLIMIT_AS even PROT_NONE counts, so nothing is reserved: the
 *    window, no larger than the limit, is put in the middle of the
 *    largest hole of the address space, far from the mmap area (which the
 *    kernel fills from its top down) and from the brk heap, and pieces are
 *    mapped there with MAP_FIXED_NOREPLACE.
 * A piece the kernel refuses is an ENOMEM for the request that needed it,
 * never an abort.
 *
 * Pages given back stay resident for a while, for the next run of any use
 * (vm_dirty.c), then are dropped with MADV_DONTNEED (or replaced by fresh
 * ones), so that they cost nothing until reused; a run the map hands out
 * is zero-filled only where the backend's caller asks (M_ZERO).
 *
 * The backend, the pages' count by use and the runs realloc moves are in
 * vm_run.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sysctl_int.h"
#include "uma_int.h"
#include "vm.h"
#include "vm_int.h"
#include "vmhash.h"
#include "vmmap.h"

#define	VM_PIECE_MIN	((size_t)2 << 20)	/* and the pieces' alignment */
#define	VM_TRIM_MIN	((size_t)32 << 20)
#define	VM_FIRST_MIN	((size_t)16 * UMA_PAGE_SIZE)
#define	rounddown2(x, y) ((x) & ~((uintptr_t)(y) - 1))

uintptr_t uma_vm_base;
uintptr_t uma_vm_size;
void * _Atomic *uma_vm_slabtab;
_Atomic uint32_t *uma_vm_pagetag;

/* See vm_int.h */
struct uma__vm uma__vm = { .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP };

/* A run was handed out: the tables may be written to its end. */
void
uma__vm_top_locked(uintptr_t addr, size_t len)
{
	UMA_MTX_ASSERT(&uma__vm.lock);
	if (addr + len > uma__vm.top)
		uma__vm.top = addr + len;
}

/* Drop the pages of part of a run: they read as zeros from now on. */
void
uma__vm_drop(void *mem, size_t len)
{
	if (madvise(mem, len, MADV_DONTNEED) != 0)
		uma__panic("uma: madvise(%p, %zu): %s", mem, len,
		    strerror(errno));
}

/* Make the bytes [from, to) of a table writable. */
static int
vm_table_commit(void *tab, size_t from, size_t to)
{
	uintptr_t lo = rounddown2((uintptr_t)tab + from, UMA_PAGE_SIZE);
	uintptr_t hi = roundup2((uintptr_t)tab + to, UMA_PAGE_SIZE);

	return (mprotect((void *)lo, hi - lo, VM_RW) == 0 ? 0 : ENOMEM);
}

/*
 * Map [end, end + len) of the window read-write, and its table entries.
 * Only the system calls: the caller moves the map's end.  0 or ENOMEM.
 */
static int
vm_map_locked(size_t len)
{
	size_t from = (uma__vm.tabend - uma_vm_base) >> UMA_PAGE_SHIFT;
	size_t to = (uma__vm.end + len - uma_vm_base) >> UMA_PAGE_SHIFT;
	void *at = (void *)uma__vm.end, *p;

	if (uma__vm.end + len > uma__vm.tabend) {
		if (vm_table_commit(uma_vm_slabtab, from * sizeof(void *),
		    to * sizeof(void *)) != 0 ||
		    vm_table_commit(uma_vm_pagetag, from * sizeof(uint32_t),
		    to * sizeof(uint32_t)) != 0 ||
		    vm_table_commit(uma__vm.dirty, from, to) != 0)
			return (ENOMEM);
		uma__vm.tabend = uma__vm.end + len;
	}
	if (uma__vm.reserved) {
		if (mprotect(at, len, VM_RW) != 0)
			return (ENOMEM);
	} else {
		p = mmap(at, len, VM_RW, VM_ANON | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return (ENOMEM);	/* EEXIST: a mapping not ours */
		if (p != at) {			/* before 4.17: a hint */
			munmap(p, len);
			return (ENOMEM);
		}
	}
	uma__vm.end += len;
	return (0);
}

/*
 * Map at least `need` more bytes at the arena's top: a piece of an eighth
 * of the arena (VM_PIECE_MIN at least), or only `need` if the kernel
 * refuses that (a limit close by).  0 or ENOMEM.
 */
int
uma__vm_grow_locked(size_t need)
{
	size_t room = uma_vm_base + uma_vm_size - uma__vm.end, len;

	need = roundup2(need, UMA_PAGE_SIZE);
	if (need == 0 || need > room)
		return (ENOMEM);
	len = roundup2((uma__vm.end - uma_vm_base) / 8, VM_PIECE_MIN);
	if (len < need)
		len = roundup2(need, VM_PIECE_MIN);
	if (len > room)
		len = room;
	if (vm_map_locked(len) != 0 &&
	    (len == need || vm_map_locked(need) != 0))
		return (ENOMEM);
	return (vmmap_set_end(&uma__vm.map, uma__vm.end));
}

/* Give back the free top of the arena but `keep` bytes; false: none. */
static bool
vm_release_locked(size_t keep)
{
	size_t tail = vmmap_tail_free(&uma__vm.map), len;
	uintptr_t top;

	if (tail <= keep)
		return (false);
	len = tail - keep;
	top = uma__vm.end - len;
	/* Freed pages kept there go first: PROT_NONE would keep them. */
	uma__vm_dirty_forget_locked(top, len);
	if ((uma__vm.reserved ? mprotect((void *)top, len, PROT_NONE) :
	    munmap((void *)top, len)) != 0)
		return (false);
	uma__vm.end = top;
	if (vmmap_set_end(&uma__vm.map, top) != 0)
		uma__panic("uma: the arena's top %p is in use", (void *)top);
	return (true);
}

/*
 * Give back the free top of the arena when it is VM_TRIM_MIN or more and
 * two pieces, keeping one piece: a program that frees and allocates at
 * the top does not map and unmap in turn.  Only the part above the
 * highest page kept for reuse (vm_dirty.c) goes: that one decays.
 */
void
uma__vm_trim_locked(void)
{
	size_t tail = vmmap_tail_free(&uma__vm.map), keep, clean = 0;
	size_t top = (uma__vm.end - uma_vm_base) >> UMA_PAGE_SHIFT;

	keep = roundup2((uma__vm.end - uma_vm_base) / 8, VM_PIECE_MIN);
	if (tail < VM_TRIM_MIN || tail < 2 * keep)
		return;
	while (clean < tail >> UMA_PAGE_SHIFT &&
	    uma__vm.dirty[top - clean - 1] == 0)
		clean++;
	clean <<= UMA_PAGE_SHIFT;
	if (clean >= VM_TRIM_MIN && clean >= 2 * keep)
		vm_release_locked(keep + tail - clean);
}

/*
 * vmmap_alloc, growing the arena while the request's window reaches past
 * its top.  Each growth adds the length and the alignment, so a request
 * without a boundary fits after one.  A map out of nodes under a limit
 * (its node chunks are mappings too) gets the free top's address space.
 */
int
uma__vm_alloc_locked(size_t len, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary, uintptr_t *addrp)
{
	size_t need;
	int error;

	for (;;) {
		error = vmmap_alloc(&uma__vm.map, len, align, low, high, boundary,
		    addrp);
		if (error == 0)
			uma__vm_top_locked(*addrp, len);
		if (error == EAGAIN && vm_release_locked(0))
			continue;
		if (error == EAGAIN)
			error = ENOMEM;
		if (error != ENOMEM || high <= uma__vm.end ||
		    low >= uma_vm_base + uma_vm_size)
			return (error);
		need = len + (align > UMA_PAGE_SIZE ? align : 0);
		if (need < len || uma__vm_grow_locked(need) != 0) {
			atomic_fetch_add_explicit(&uma__vm.fails, 1,
			    memory_order_relaxed);
			return (ENOMEM);
		}
	}
}

/*
 * Take a run out of the map and give it back: if `keep`, its pages stay as
 * they are, marked as freed (vm_dirty.c), until they are reused or given
 * back; else the caller dropped them.
 */
void
uma__vm_unmap_run(void *mem, size_t len, bool keep)
{
	pthread_mutex_lock(&uma__vm.lock);
	if (vmmap_free(&uma__vm.map, (uintptr_t)mem, len) != 0)
		uma__panic("uma: page run %p (%zu bytes) was not allocated",
		    mem, len);
	uma__vm_dirty_mark_locked((uintptr_t)mem, len, keep);
	uma__vm_trim_locked();
	pthread_mutex_unlock(&uma__vm.lock);
	if (keep)
		uma__vm_dirty_limit();
}


/* See vm.h */
size_t
uma__vm_limit(void)
{
	return (uma__vm.limit);
}

/* See vm.h */
uint64_t
uma__vm_fails(void)
{
	return (atomic_load_explicit(&uma__vm.fails, memory_order_relaxed));
}

/* See vm.h */
uint64_t
uma__vm_lost(void)
{
	return (atomic_load_explicit(&uma__vm.lost, memory_order_relaxed));
}

uint64_t
uma__vm_pages(void)
{
	return (atomic_load_explicit(&uma__vm.pages, memory_order_relaxed));
}

/* Resident bytes of [p, p + len), p page aligned (mincore, 1024 at a time). */
static uint64_t
vm_resident(const void *p, size_t len)
{
	unsigned char vec[1024];
	size_t n, npages = howmany(len, UMA_PAGE_SIZE);
	uint64_t bytes = 0;

	for (size_t i = 0; i < npages; i += n) {
		n = npages - i < sizeof(vec) ? npages - i : sizeof(vec);
		if (mincore((char *)p + i * UMA_PAGE_SIZE, n * UMA_PAGE_SIZE,
		    vec) != 0)
			return (bytes);
		for (size_t j = 0; j < n; j++)
			bytes += (vec[j] & 1) * UMA_PAGE_SIZE;
	}
	return (bytes);
}

/*
 * See vm.h.  A table entry is written only for a page of a run handed
 * out, so nothing above the highest such run's entries is resident.
 */
uint64_t
uma__vm_meta_bytes(void)
{
	size_t nodes, npages;

	if (!__atomic_load_n(&uma.ug_ready, __ATOMIC_ACQUIRE))
		return (0);
	pthread_mutex_lock(&uma__vm.lock);
	nodes = vmmap_node_bytes(&uma__vm.map);
	npages = uma__vm.top > uma_vm_base ? (uma__vm.top - uma_vm_base) >>
	    UMA_PAGE_SHIFT : 0;
	pthread_mutex_unlock(&uma__vm.lock);
	return (nodes + vm_resident((const void *)uma_vm_slabtab,
	    npages * sizeof(void *)) + vm_resident((const void *)uma_vm_pagetag,
	    npages * sizeof(uint32_t)));
}

/*
 * See vm.h.  A page's slab is set before its tag and its tag cleared
 * before its slab, so that a tag read as set has had a slab (readers still
 * test the slab: it may go between their two loads).
 */
void
uma__vtoslab_set(void *mem, size_t npages, void *slab, uint32_t tag)
{
	size_t idx = ((uintptr_t)mem - uma_vm_base) >> UMA_PAGE_SHIFT;

	if (tag != 0 && npages > 256)
		uma__panic("uma: a tagged slab of %zu pages (at most 256)",
		    npages);
	for (size_t i = 0; i < npages; i++) {
		if (slab == NULL)
			atomic_store_explicit(&uma_vm_pagetag[idx + i], 0,
			    memory_order_release);
		atomic_store_explicit(&uma_vm_slabtab[idx + i], slab,
		    memory_order_release);
		if (slab != NULL)
			atomic_store_explicit(&uma_vm_pagetag[idx + i],
			    tag == 0 ? 0 : tag | (uint32_t)i << 8,
			    memory_order_release);
	}
}

/* A hexadecimal digit's value, or -1. */
static int
vm_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/*
 * The largest hole between two mappings of the process, from the
 * "start-end ..." lines of /proc/self/maps (read with open/read: stdio
 * would allocate).  Addresses with the top bit set (x86-64's vsyscall
 * page) are the kernel's, not holes of ours.
 */
static bool
vm_largest_hole(uintptr_t *startp, uintptr_t *endp)
{
	uintptr_t v = 0, start = 0, prev = 0, best = 0;
	char buf[4096];
	int fd, d, field = 0;	/* 0: start, 1: end, 2: the rest */
	bool seen = false;
	ssize_t n;

	if ((fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) < 0)
		return (false);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (field < 2 && (d = vm_hexdigit(buf[i])) >= 0) {
				v = v << 4 | (uintptr_t)d;
				continue;
			}
			if (field == 0)
				start = v;
			else if (field == 1 && (start >> 63) == 0) {
				if (seen && start > prev && start - prev > best) {
					best = start - prev;
					*startp = prev;
					*endp = start;
				}
				if (!seen || v > prev)
					prev = v;
				seen = true;
			}
			if (field < 2)
				field++;
			v = 0;
			if (buf[i] == '\n')
				field = 0;
		}
	}
	close(fd);
	return (best != 0);
}

/*
 * Under RLIMIT_AS: a window of *bytesp (less if no hole is twice that)
 * in the middle of the largest hole.  false: no such hole, or no
 * /proc/self/maps.
 */
static bool
vm_window_place(size_t *bytesp, uintptr_t *basep)
{
	uintptr_t hs, he, base;
	size_t bytes = *bytesp;

	if (!vm_largest_hole(&hs, &he))
		return (false);
	if (bytes > (he - hs) / 2)
		bytes = rounddown2((he - hs) / 2, VM_PIECE_MIN);
	if (bytes < VM_PIECE_MIN)
		return (false);
	base = roundup2(hs + (he - hs - bytes) / 2, VM_PIECE_MIN);
	if (base < hs || base + bytes > he)
		return (false);
	*bytesp = bytes;
	*basep = base;
	return (true);
}

/* The bytes of a table of `size`-byte entries for the window. */
static size_t
vm_table_bytes(size_t size)
{
	return (roundup2((uma_vm_size >> UMA_PAGE_SHIFT) * size,
	    UMA_PAGE_SIZE));
}

/* A table, read-only zero pages until vm_map_locked commits parts. */
static void *
vm_table_reserve(size_t size)
{
	void *p = mmap(NULL, vm_table_bytes(size), PROT_READ, VM_ANON, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
}

static int vm_arena_gb = 64;
UMA_SYSCTL_INT(sysctl_uma_arena_gb, "vm.uma_arena_gb", &vm_arena_gb,
    UMA_CTLFLAG_RDTUN, 1, 65536, "Address space reserved for slabs, GiB");

/*
 * Choose the window: vm.uma_arena_gb GiB (default 64), no more than the
 * address-space limit.  Without one (or without /proc under one: then
 * half the limit) the window is reserved, halved until the kernel agrees.
 */
static int
vm_window(size_t bytes)
{
	struct rlimit rl;
	uintptr_t base;
	void *p = MAP_FAILED;

	if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		uma__vm.limit = rl.rlim_cur;
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		if (uma__vm.limit == 0 || rl.rlim_cur < uma__vm.limit)
			uma__vm.limit = rl.rlim_cur;
		if (bytes > rl.rlim_cur)
			bytes = rounddown2(rl.rlim_cur, VM_PIECE_MIN);
		if (vm_window_place(&bytes, &base)) {
			uma_vm_base = base;
			uma_vm_size = bytes;
			return (0);
		}
		bytes = rounddown2(bytes / 2, VM_PIECE_MIN);
	}
	uma__vm.reserved = true;
	for (; p == MAP_FAILED; bytes /= 2) {
		if (bytes < VM_PIECE_MIN)
			return (ENOMEM);
		p = mmap(NULL, bytes, PROT_NONE, VM_ANON, -1, 0);
	}
	uma_vm_base = (uintptr_t)p;
	uma_vm_size = bytes * 2;	/* the loop halved it once more */
	return (0);
}

/* See uma_int.h.  The first piece is mapped now; 0 or ENOMEM. */
int
uma__vm_startup(void)
{
	size_t bytes = (size_t)vm_arena_gb << 30;
	int error;

	uma__vm.backend = uma__backend_arena();
	if (vm_window(bytes) != 0)
		return (ENOMEM);
	uma_vm_slabtab = vm_table_reserve(sizeof(void *));
	uma_vm_pagetag = vm_table_reserve(sizeof(uint32_t));
	uma__vm.dirty = vm_table_reserve(sizeof(uint8_t));
	uma__vm.epoch = 1;
	uma__vm.end = uma__vm.tabend = uma_vm_base;
	/* A first piece, or a few pages if a limit is that close. */
	error = uma_vm_slabtab == NULL || uma_vm_pagetag == NULL ||
	    uma__vm.dirty == NULL ? ENOMEM : vm_map_locked(uma_vm_size <
	    VM_PIECE_MIN ? uma_vm_size : VM_PIECE_MIN);
	if (error != 0 && uma_vm_slabtab != NULL && uma_vm_pagetag != NULL &&
	    uma__vm.dirty != NULL)
		error = vm_map_locked(VM_FIRST_MIN);
	/* Keep the first page unused: no item is ever at the arena base. */
	if (error == 0)
		error = vmmap_init(&uma__vm.map, uma_vm_base + UMA_PAGE_SIZE, uma__vm.end);
	if (error != 0) {
		if (uma_vm_slabtab != NULL)
			munmap(uma_vm_slabtab, vm_table_bytes(sizeof(void *)));
		if (uma_vm_pagetag != NULL)
			munmap(uma_vm_pagetag, vm_table_bytes(sizeof(uint32_t)));
		if (uma__vm.dirty != NULL)
			munmap(uma__vm.dirty, vm_table_bytes(sizeof(uint8_t)));
		munmap((void *)uma_vm_base, uma__vm.reserved ? uma_vm_size :
		    uma__vm.end - uma_vm_base);
		uma_vm_slabtab = NULL;
		uma_vm_pagetag = NULL;
		uma__vm.dirty = NULL;
		uma_vm_base = uma_vm_size = 0;
		return (ENOMEM);
	}
	return (0);
}

/* fork: the map's lock must not be held by a thread that is gone. */
void
uma__vm_fork_prepare(void)
{
	pthread_mutex_lock(&uma__vm.lock);
	uma__vmhash_fork_prepare();
}

void
uma__vm_fork_parent(void)
{
	uma__vmhash_fork_parent();
	pthread_mutex_unlock(&uma__vm.lock);
}

void
uma__vm_fork_child(void)
{
	uma__vmhash_fork_child();
	uma__mutex_init(&uma__vm.lock);
}
