/*
 * vmhash.c - slabs on pages outside the arena: a hash of page numbers to
 * slab pointers (FreeBSD's UMA_ZFLAG_HASH, for its NOTPAGE kegs).
 *
 * Layer: pages, beside vm.c; knows pages and slab pointers, nothing of
 * kegs.  Open addressing with linear probing on a power-of-two table,
 * doubled when half full and mapped straight from the kernel (never from
 * uma: a lookup may come from inside the allocator).  A removal shifts
 * the entries after it back, so a probe stops at the first empty slot.
 * One reader-writer lock, a leaf: lookups read, slabs made and freed
 * write.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "uma_int.h"
#include "vmhash.h"

#define	VMHASH_MIN	256	/* entries of the first table */

struct vmhash_ent {
	uintptr_t	 ve_page;	/* page number + 1; 0: empty */
	void		*ve_slab;
};

static struct {
	pthread_rwlock_t lock;
	struct vmhash_ent *tab;
	size_t		 cap;		/* a power of 2, or 0 */
} vmh = { .lock = PTHREAD_RWLOCK_INITIALIZER };

_Atomic size_t uma_vmhash_pages;

static inline size_t
vmhash_slot(uintptr_t key, size_t cap)
{
	return ((size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1));
}

static inline uintptr_t
vmhash_key(const void *p)
{
	return (((uintptr_t)p >> UMA_PAGE_SHIFT) + 1);
}

/* Put (key, slab) in `tab` of `cap` entries (a slot is free). */
static void
vmhash_put(struct vmhash_ent *tab, size_t cap, uintptr_t key, void *slab)
{
	size_t i = vmhash_slot(key, cap);

	while (tab[i].ve_page != 0 && tab[i].ve_page != key)
		i = (i + 1) & (cap - 1);
	tab[i].ve_page = key;
	tab[i].ve_slab = slab;
}

/* Room for `more` entries at half load at most (lock held to write). */
static int
vmhash_reserve_locked(size_t more)
{
	size_t n = atomic_load(&uma_vmhash_pages), cap = vmh.cap;
	struct vmhash_ent *tab;

	if (cap != 0 && (n + more) * 2 <= cap)
		return (0);
	if (cap == 0)
		cap = VMHASH_MIN;
	while ((n + more) * 2 > cap)
		cap *= 2;
	tab = mmap(NULL, cap * sizeof(*tab), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tab == MAP_FAILED)
		return (ENOMEM);
	for (size_t i = 0; i < vmh.cap; i++)
		if (vmh.tab[i].ve_page != 0)
			vmhash_put(tab, cap, vmh.tab[i].ve_page,
			    vmh.tab[i].ve_slab);
	if (vmh.tab != NULL)
		munmap(vmh.tab, vmh.cap * sizeof(*vmh.tab));
	vmh.tab = tab;
	vmh.cap = cap;
	return (0);
}

/* See vmhash.h */
int
uma__vmhash_insert(void *mem, size_t npages, void *slab)
{
	int error;

	pthread_rwlock_wrlock(&vmh.lock);
	error = vmhash_reserve_locked(npages);
	if (error == 0) {
		for (size_t i = 0; i < npages; i++)
			vmhash_put(vmh.tab, vmh.cap, vmhash_key((char *)mem +
			    i * UMA_PAGE_SIZE), slab);
		atomic_fetch_add(&uma_vmhash_pages, npages);
	}
	pthread_rwlock_unlock(&vmh.lock);
	return (error);
}

/* Remove `key` and shift back what probed past it (lock held to write). */
static void
vmhash_del_locked(uintptr_t key)
{
	size_t mask = vmh.cap - 1, i = vmhash_slot(key, vmh.cap), j, home;

	while (vmh.tab[i].ve_page != key) {
		if (vmh.tab[i].ve_page == 0)
			uma__panic("uma: page %#jx of a foreign slab was not "
			    "entered", (uintmax_t)((key - 1) <<
			    UMA_PAGE_SHIFT));
		i = (i + 1) & mask;
	}
	vmh.tab[i].ve_page = 0;
	for (j = (i + 1) & mask; vmh.tab[j].ve_page != 0; j = (j + 1) & mask) {
		home = vmhash_slot(vmh.tab[j].ve_page, vmh.cap);
		/* An entry whose home is cyclically in (i, j] stays. */
		if (i < j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		vmh.tab[i] = vmh.tab[j];
		vmh.tab[j].ve_page = 0;
		i = j;
	}
}

/* See vmhash.h */
void
uma__vmhash_remove(void *mem, size_t npages)
{
	pthread_rwlock_wrlock(&vmh.lock);
	for (size_t i = 0; i < npages; i++)
		vmhash_del_locked(vmhash_key((char *)mem + i * UMA_PAGE_SIZE));
	atomic_fetch_sub(&uma_vmhash_pages, npages);
	pthread_rwlock_unlock(&vmh.lock);
}

/* See vmhash.h */
void *
uma__vmhash_lookup(const void *p)
{
	uintptr_t key = vmhash_key(p);
	void *slab = NULL;
	size_t i;

	pthread_rwlock_rdlock(&vmh.lock);
	if (vmh.cap != 0)
		for (i = vmhash_slot(key, vmh.cap); vmh.tab[i].ve_page != 0;
		    i = (i + 1) & (vmh.cap - 1))
			if (vmh.tab[i].ve_page == key) {
				slab = vmh.tab[i].ve_slab;
				break;
			}
	pthread_rwlock_unlock(&vmh.lock);
	return (slab);
}

/* fork: the lock must not be held by a thread that is gone. */
void
uma__vmhash_fork_prepare(void)
{
	pthread_rwlock_wrlock(&vmh.lock);
}

void
uma__vmhash_fork_parent(void)
{
	pthread_rwlock_unlock(&vmh.lock);
}

void
uma__vmhash_fork_child(void)
{
	pthread_rwlock_init(&vmh.lock, NULL);
}
