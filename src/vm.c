/*
 * vm.c - the page layer: one reserved arena, a first-fit map over it, the
 * page -> slab table, and the backend switch.
 *
 * Layer: the bottom.  Knows pages and slab pointers, nothing of zones.
 *
 * At start-up uma reserves a large range of address space with
 * MAP_NORESERVE (no memory is committed until a page is touched) and two
 * tables reserved the same way: one slab pointer per page, and one 32-bit
 * tag per page (its keg, the malloc class of its slab and the page's place
 * in it, for free() and the bucket checks).  Pages
 * given back are dropped with MADV_DONTNEED, so they cost nothing until
 * reused and read as zeros when they are: every run the backend hands out
 * is zero-filled.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sysctl_int.h"
#include "uma_int.h"
#include "vm.h"
#include "vmhash.h"
#include "vmmap.h"

uintptr_t uma_vm_base;
uintptr_t uma_vm_size;
void * _Atomic *uma_vm_slabtab;
_Atomic uint32_t *uma_vm_pagetag;

static struct {
	pthread_mutex_t	 lock;
	struct vmmap	 map;
	_Atomic uint64_t pages;		/* handed out by the backend */
	uintptr_t	 top;		/* highest end handed out (lock) */
	const struct uma__backend *backend;
} vm = { .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP };

/* A run was handed out (vm.lock held): the tables may be written to its end. */
static void
vm_top_locked(uintptr_t addr, size_t len)
{
	UMA_MTX_ASSERT(&vm.lock);
	if (addr + len > vm.top)
		vm.top = addr + len;
}

static void *
arena_alloc(size_t npages, int flags, void *arg)
{
	uintptr_t addr;
	int error;

	pthread_mutex_lock(&vm.lock);
	error = vmmap_alloc(&vm.map, npages * UMA_PAGE_SIZE, 0,
	    uma_vm_base, uma_vm_base + uma_vm_size, 0, &addr);
	if (error == 0)
		vm_top_locked(addr, npages * UMA_PAGE_SIZE);
	pthread_mutex_unlock(&vm.lock);
	if (error != 0)
		return (NULL);
	return ((void *)addr);
}

static void
arena_free(void *mem, size_t npages, void *arg)
{
	/* Drop the contents first: the range may be handed out at once. */
	if (madvise(mem, npages * UMA_PAGE_SIZE, MADV_DONTNEED) != 0)
		uma__panic("uma: madvise(%p, %zu pages): %s", mem, npages,
		    strerror(errno));
	pthread_mutex_lock(&vm.lock);
	if (vmmap_free(&vm.map, (uintptr_t)mem, npages * UMA_PAGE_SIZE) != 0)
		uma__panic("uma: page run %p (%zu pages) was not allocated",
		    mem, npages);
	pthread_mutex_unlock(&vm.lock);
}

static const struct uma__backend arena_backend = {
	.ub_alloc = arena_alloc,
	.ub_free = arena_free,
};

const struct uma__backend *
uma__backend_arena(void)
{
	return (&arena_backend);
}

void
uma__backend_set(const struct uma__backend *be)
{
	__atomic_store_n(&vm.backend, be != NULL ? be : &arena_backend,
	    __ATOMIC_RELEASE);
}

void *
uma__page_alloc(size_t npages, int flags)
{
	const struct uma__backend *be;
	void *mem;

	be = __atomic_load_n(&vm.backend, __ATOMIC_ACQUIRE);
	mem = be->ub_alloc(npages, flags, be->ub_arg);
	if (mem != NULL)
		atomic_fetch_add_explicit(&vm.pages, npages,
		    memory_order_relaxed);
	return (mem);
}

void
uma__page_free(void *mem, size_t npages)
{
	const struct uma__backend *be;

	be = __atomic_load_n(&vm.backend, __ATOMIC_ACQUIRE);
	atomic_fetch_sub_explicit(&vm.pages, npages, memory_order_relaxed);
	be->ub_free(mem, npages, be->ub_arg);
}

int
uma__vm_alloc_run(size_t len, size_t align, uintptr_t low, uintptr_t high,
    size_t boundary, void **memp)
{
	uintptr_t addr;
	int error;

	pthread_mutex_lock(&vm.lock);
	error = vmmap_alloc(&vm.map, len, align, low, high, boundary, &addr);
	if (error == 0)
		vm_top_locked(addr, len);
	pthread_mutex_unlock(&vm.lock);
	if (error != 0)
		return (error);
	atomic_fetch_add_explicit(&vm.pages, len >> UMA_PAGE_SHIFT,
	    memory_order_relaxed);
	*memp = (void *)addr;
	return (0);
}

void
uma__vm_free_run(void *mem, size_t len)
{
	atomic_fetch_sub_explicit(&vm.pages, len >> UMA_PAGE_SHIFT,
	    memory_order_relaxed);
	arena_free(mem, len >> UMA_PAGE_SHIFT, NULL);
}

int
uma__vm_split_run(void *mem, size_t len, size_t at)
{
	int error;

	pthread_mutex_lock(&vm.lock);
	error = vmmap_split(&vm.map, (uintptr_t)mem, len, at);
	pthread_mutex_unlock(&vm.lock);
	return (error);
}

void
uma__vm_merge_runs(void *mem, size_t len, size_t len2)
{
	int error;

	pthread_mutex_lock(&vm.lock);
	error = vmmap_merge(&vm.map, (uintptr_t)mem, len, len2);
	pthread_mutex_unlock(&vm.lock);
	if (error != 0)
		uma__panic("uma: runs %p+%zu and +%zu are not adjacent runs",
		    mem, len, len2);
}

uint64_t
uma__vm_pages(void)
{
	return (atomic_load_explicit(&vm.pages, memory_order_relaxed));
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
	pthread_mutex_lock(&vm.lock);
	nodes = vmmap_node_bytes(&vm.map);
	npages = vm.top > uma_vm_base ? (vm.top - uma_vm_base) >>
	    UMA_PAGE_SHIFT : 0;
	pthread_mutex_unlock(&vm.lock);
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

static void *
reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
}

/*
 * Reserve the arena: vm.uma_arena_gb GiB (default 64), halved until the
 * kernel agrees (strict overcommit, address-space limits).
 */
static int vm_arena_gb = 64;
UMA_SYSCTL_INT(sysctl_uma_arena_gb, "vm.uma_arena_gb", &vm_arena_gb,
    UMA_CTLFLAG_RDTUN, 1, 65536, "Address space reserved for slabs, GiB");

int
uma__vm_startup(void)
{
	size_t bytes = (size_t)vm_arena_gb << 30;
	void *base = NULL, *tab = NULL, *tags = NULL;

	vm.backend = &arena_backend;
	for (; bytes >= ((size_t)256 << 20); bytes /= 2) {
		base = reserve(bytes);
		if (base == NULL)
			continue;
		tab = reserve((bytes >> UMA_PAGE_SHIFT) * sizeof(void *));
		tags = reserve((bytes >> UMA_PAGE_SHIFT) * sizeof(uint32_t));
		if (tab != NULL && tags != NULL)
			break;
		if (tab != NULL)
			munmap(tab, (bytes >> UMA_PAGE_SHIFT) * sizeof(void *));
		if (tags != NULL)
			munmap(tags, (bytes >> UMA_PAGE_SHIFT) *
			    sizeof(uint32_t));
		munmap(base, bytes);
		base = NULL;
	}
	if (base == NULL)
		return (ENOMEM);
	/* Keep the first page unused: no item is ever at the arena base. */
	uma_vm_base = (uintptr_t)base;
	uma_vm_size = bytes;
	uma_vm_slabtab = tab;
	uma_vm_pagetag = tags;
	return (vmmap_init(&vm.map, uma_vm_base + UMA_PAGE_SIZE,
	    uma_vm_base + bytes));
}

/* fork: the map's lock must not be held by a thread that is gone. */
void
uma__vm_fork_prepare(void)
{
	pthread_mutex_lock(&vm.lock);
	uma__vmhash_fork_prepare();
}

void
uma__vm_fork_parent(void)
{
	uma__vmhash_fork_parent();
	pthread_mutex_unlock(&vm.lock);
}

void
uma__vm_fork_child(void)
{
	uma__vmhash_fork_child();
	uma__mutex_init(&vm.lock);
}
