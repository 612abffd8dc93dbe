// SPDX-License-Identifier: GPL-2.0-only
/*
 * VRAM of a gpup VF: BAR2, backed by host pages.
 *
 * Pages live in an xarray and are allocated on first write (or first touch
 * through mmap), so a 1 GiB profile costs nothing until it is used.  Reads
 * of a page never written return zeros without allocating it.
 *
 * Dirty tracking.  Every page carries a dirty bit, set by every path that
 * writes VRAM: region writes, engine commands, and write faults on the
 * mmap.  The mmap is a shared PFN mapping with a pfn_mkwrite handler, so
 * the core maps pages read-only until their first write ("write notify"):
 * a read fault maps a page read-only, the first store to it faults again
 * and sets its bit.  Harvesting swaps the bitmap out and zaps the PTEs of
 * the pages found dirty, so their next write faults and sets the bit
 * again.  Cost: one minor fault per page per round in which it is written,
 * one unmap_mapping_range() per run of dirty pages per harvest, and a
 * bitmap of one bit per 4 KiB (32 KiB for 1 GiB).  Pages must be copied
 * after they are harvested: a store that lands between clearing a bit and
 * zapping its PTE is not lost, because the copy that follows sees it.
 * Harvest takes @lock for write, so a writer's set_bit and its store (or
 * writable PTE) never straddle a harvest: every path that sets a bit,
 * the first-store handler included, makes its write under @lock read.
 *
 * Page lifetime.  Pages are freed only by gpup_vram_clear() (reset) and
 * gpup_vram_destroy() (release), under @lock held for write, after every
 * PTE is zapped.  Lookups hold @lock for read, or take a page reference
 * under it (gpup_vram_get_page(), for the migration core's copy to the
 * user).  @lock is never held across a user copy: the user buffer could be
 * this very mapping.
 *
 * Charging.  A VF's pages are charged to the memory cgroup of its owner,
 * the user who opened it (the VM), whoever allocates them: the VM's vCPU
 * faulting, QEMU writing the region, the engine's thread running a FILL,
 * a migration writing a target.  The xarray's nodes are charged with them.
 * Without an owner, the allocating task pays, as for any kernel memory.
 *
 * Decoding.  BAR2 answers the VFIO user only while the PCI command
 * register enables memory, as a function's BARs do: with @decode clear
 * the region fails with -EIO and the mapping with SIGBUS, as vfio-pci's
 * BARs do.  The engine and a migration reach VRAM whatever the register.
 */
#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "gpup_sim.h"

/*
 * Past the owner's memory.max, an allocation for the engine, a region
 * access or a migration fails (the engine halts with NOMEM, the access
 * gets -ENOMEM) rather than wake the OOM killer; a fault of the VM's
 * mapping is handled like one of the VM's RAM.
 */
#define GPUP_VRAM_FAULT_GFP	(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT)
#define GPUP_VRAM_GFP		(GPUP_VRAM_FAULT_GFP | __GFP_RETRY_MAYFAIL)

int gpup_vram_init(struct gpup_vram *vram, u64 size)
{
	if (!size || !PAGE_ALIGNED(size))
		return -EINVAL;

	init_rwsem(&vram->lock);
	init_rwsem(&vram->decode_lock);
	xa_init_flags(&vram->pages, XA_FLAGS_ACCOUNT);
	vram->memcg = NULL;
	vram->decode = false;
	vram->size = size;
	vram->npages = size >> PAGE_SHIFT;
	vram->mapping = NULL;
	vram->map_offset = 0;
	atomic_long_set(&vram->allocated, 0);
	/* 128 KiB for 4 GiB: vmalloc'd when no such run is free */
	vram->dirty = kvcalloc(BITS_TO_LONGS(vram->npages), sizeof(unsigned long),
			       GFP_KERNEL);
	return vram->dirty ? 0 : -ENOMEM;
}

void gpup_vram_set_mapping(struct gpup_vram *vram,
			   struct address_space *mapping, loff_t offset)
{
	vram->mapping = mapping;
	vram->map_offset = offset;
}

static void vram_zap(struct gpup_vram *vram, unsigned long first,
		     unsigned long count)
{
	if (vram->mapping)
		unmap_mapping_range(vram->mapping,
				    vram->map_offset + ((loff_t)first << PAGE_SHIFT),
				    (loff_t)count << PAGE_SHIFT, 1);
}

/* Charge pages from now on to @memcg (a reference the VRAM takes over) */
void gpup_vram_set_owner(struct gpup_vram *vram, struct mem_cgroup *memcg)
{
	struct mem_cgroup *old;

	down_write(&vram->lock);
	old = vram->memcg;
	vram->memcg = memcg;
	up_write(&vram->lock);
	mem_cgroup_put(old);
}

/*
 * PCI memory decode switched: off, no mapping keeps a page.  A region
 * access in progress ends first, so that one is whole or refused, never
 * cut in the middle (vfio-pci's BARs behave alike).
 */
void gpup_vram_set_decode(struct gpup_vram *vram, bool decode)
{
	down_write(&vram->decode_lock);
	down_write(&vram->lock);
	vram->decode = decode;
	if (!decode)
		vram_zap(vram, 0, vram->npages);
	up_write(&vram->lock);
	up_write(&vram->decode_lock);
}

/*
 * Back to power-on: every page gone, reads return zeros again.  With
 * @mark_dirty the freed pages count as written (their contents changed to
 * zeros), so a migration in progress sends them again.
 */
void gpup_vram_clear(struct gpup_vram *vram, bool mark_dirty)
{
	struct page *page;
	unsigned long idx;

	down_write(&vram->lock);
	vram_zap(vram, 0, vram->npages);
	if (!mark_dirty)
		bitmap_zero(vram->dirty, vram->npages);
	xa_for_each(&vram->pages, idx, page) {
		xa_erase(&vram->pages, idx);
		__free_page(page);
		if (mark_dirty)
			set_bit(idx, vram->dirty);
		/* a GiB is 262144 pages: let others run */
		cond_resched();
	}
	atomic_long_set(&vram->allocated, 0);
	up_write(&vram->lock);
}

void gpup_vram_destroy(struct gpup_vram *vram)
{
	gpup_vram_clear(vram, false);
	xa_destroy(&vram->pages);
	kvfree(vram->dirty);
	vram->dirty = NULL;
	mem_cgroup_put(vram->memcg);
	vram->memcg = NULL;
}

/*
 * Caller holds vram->lock for read.  Returns NULL for an absent page when
 * @gfp is 0, allocates it with @gfp otherwise.
 */
static struct page *vram_page(struct gpup_vram *vram, unsigned long idx,
			      gfp_t gfp)
{
	struct mem_cgroup *memcg = NULL;
	struct page *page, *old;

	page = xa_load(&vram->pages, idx);
	if (page || !gfp)
		return page;

	if (vram->memcg)
		memcg = set_active_memcg(vram->memcg);
	page = alloc_page(gfp);
	old = page ? xa_cmpxchg(&vram->pages, idx, NULL, page,
				GFP_KERNEL | (gfp & __GFP_RETRY_MAYFAIL)) : NULL;
	if (vram->memcg)
		set_active_memcg(memcg);
	if (!page)
		return ERR_PTR(-ENOMEM);
	if (old) {
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic_long_inc(&vram->allocated);
	return page;
}

static int vram_check_range(struct gpup_vram *vram, u64 off, u64 len)
{
	if (off > vram->size || len > vram->size - off)
		return -EINVAL;
	return 0;
}

/*
 * Walk [off, off + len) a page at a time.  @fn gets the page (NULL for an
 * absent page when @alloc is false), the offset in it and the length.
 */
typedef void (*vram_chunk_fn)(struct page *page, unsigned int poff,
			      unsigned int len, void *ctx);

#define VRAM_ALLOC	BIT(0)	/* a write: allocate, mark dirty */

static int vram_walk(struct gpup_vram *vram, u64 off, u64 len,
		     unsigned int flags, vram_chunk_fn fn, void *ctx)
{
	bool alloc = flags & VRAM_ALLOC;
	int ret;

	ret = vram_check_range(vram, off, len);
	if (ret)
		return ret;

	down_read(&vram->lock);
	while (len) {
		unsigned long idx = off >> PAGE_SHIFT;
		unsigned int poff = offset_in_page(off);
		unsigned int n = min_t(u64, len, PAGE_SIZE - poff);
		struct page *page = vram_page(vram, idx, alloc ? GPUP_VRAM_GFP : 0);

		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		if (alloc)
			set_bit(idx, vram->dirty);
		fn(page, poff, n, ctx);
		off += n;
		len -= n;
	}
	up_read(&vram->lock);
	return ret;
}

static void chunk_read(struct page *page, unsigned int poff, unsigned int len,
		       void *ctx)
{
	u8 **dst = ctx;

	if (page)
		memcpy_from_page(*dst, page, poff, len);
	else
		memset(*dst, 0, len);
	*dst += len;
}

static void chunk_write(struct page *page, unsigned int poff, unsigned int len,
			void *ctx)
{
	const u8 **src = ctx;

	memcpy_to_page(page, poff, *src, len);
	*src += len;
}

/*
 * The page behind VRAM page @idx, with a reference, or NULL if it was never
 * written.  The reference keeps the memory valid if a reset frees the page
 * meanwhile: the holder then reads stale contents, which a reset during a
 * migration has marked dirty, so they are sent again.
 */
struct page *gpup_vram_get_page(struct gpup_vram *vram, unsigned long idx)
{
	struct page *page;

	if (idx >= vram->npages)
		return ERR_PTR(-EINVAL);
	down_read(&vram->lock);
	page = xa_load(&vram->pages, idx);
	if (page)
		get_page(page);
	up_read(&vram->lock);
	return page;
}

int gpup_vram_read(struct gpup_vram *vram, u64 off, void *buf, size_t len)
{
	u8 *cursor = buf;

	return vram_walk(vram, off, len, 0, chunk_read, &cursor);
}

int gpup_vram_write(struct gpup_vram *vram, u64 off, const void *buf,
		    size_t len)
{
	const u8 *cursor = buf;

	return vram_walk(vram, off, len, VRAM_ALLOC, chunk_write, &cursor);
}

/*
 * Region access from the VFIO user, bounced through a kernel page, while
 * BAR2 decodes: a page at a time, each a point to reschedule.
 */
ssize_t gpup_vram_rw_user(struct gpup_vram *vram, u64 off, char __user *buf,
			  size_t len, bool write)
{
	size_t done = 0;
	void *bounce;
	int ret;

	ret = vram_check_range(vram, off, len);
	if (ret)
		return ret;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	down_read(&vram->decode_lock);
	if (!vram->decode)
		ret = -EIO;
	while (!ret && done < len) {
		size_t n = min_t(size_t, len - done, PAGE_SIZE);

		if (write) {
			ret = copy_from_user(bounce, buf + done, n) ? -EFAULT :
			      gpup_vram_write(vram, off + done, bounce, n);
		} else {
			ret = gpup_vram_read(vram, off + done, bounce, n);
			if (!ret && copy_to_user(buf + done, bounce, n))
				ret = -EFAULT;
		}
		if (ret)
			break;
		done += n;
		cond_resched();
	}
	up_read(&vram->decode_lock);
	kfree(bounce);
	return done ? done : ret;
}

struct fill_ctx {
	__le32 pattern;
};

static void chunk_fill(struct page *page, unsigned int poff, unsigned int len,
		       void *ctx)
{
	struct fill_ctx *fill = ctx;
	u32 *p = kmap_local_page(page);

	memset32(p + poff / sizeof(u32), (__force u32)fill->pattern,
		 len / sizeof(u32));
	kunmap_local(p);
}

/* FILL: @off and @len are multiples of 4, checked by the caller */
int gpup_vram_fill32(struct gpup_vram *vram, u64 off, u64 len, u32 pattern)
{
	struct fill_ctx fill = { .pattern = cpu_to_le32(pattern) };

	return vram_walk(vram, off, len, VRAM_ALLOC, chunk_fill, &fill);
}

/* COPY of non-overlapping ranges, a page of the destination at a time */
int gpup_vram_copy(struct gpup_vram *vram, u64 dst, u64 src, u64 len)
{
	void *bounce;
	int ret;

	ret = vram_check_range(vram, src, len) ?: vram_check_range(vram, dst, len);
	if (ret)
		return ret;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (len && !ret) {
		size_t n = min_t(u64, len, PAGE_SIZE - offset_in_page(dst));

		ret = gpup_vram_read(vram, src, bounce, n) ?:
		      gpup_vram_write(vram, dst, bounce, n);
		src += n;
		dst += n;
		len -= n;
	}
	kfree(bounce);
	return ret;
}

static unsigned long vma_to_page(struct gpup_vram *vram, pgoff_t pgoff)
{
	return pgoff - (vram->map_offset >> PAGE_SHIFT);
}

static vm_fault_t gpup_vram_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct gpup_vram *vram = vma->vm_private_data;
	unsigned long idx = vma_to_page(vram, vmf->pgoff);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct page *page;
	pgprot_t prot;
	vm_fault_t ret;

	if (idx >= vram->npages)
		return VM_FAULT_SIGBUS;

	down_read(&vram->lock);
	if (!vram->decode) {
		up_read(&vram->lock);
		return VM_FAULT_SIGBUS;
	}
	page = vram_page(vram, idx, GPUP_VRAM_FAULT_GFP);
	if (IS_ERR(page)) {
		up_read(&vram->lock);
		return VM_FAULT_OOM;
	}
	/*
	 * vm_page_prot is read-only (write notify); map writable only when
	 * this fault is the write, and record it.
	 */
	if (write) {
		set_bit(idx, vram->dirty);
		prot = vm_get_page_prot(vma->vm_flags);
	} else {
		prot = vma->vm_page_prot;
	}
	ret = vmf_insert_pfn_prot(vma, vmf->address, page_to_pfn(page), prot);
	up_read(&vram->lock);
	return ret;
}

/*
 * First store to a page mapped read-only.  The bit and the writable PTE
 * must come under @lock together: returning 0 here would let the core
 * make the PTE writable later, after a harvest may have taken the bit and
 * another thread's read fault put back an identical read-only PTE, and
 * the page would then be written with its bit clear until the next reset.
 * So the read-only PTE goes and a writable one replaces it, under the
 * lock, and the core retries the store.
 */
static vm_fault_t gpup_vram_pfn_mkwrite(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct gpup_vram *vram = vma->vm_private_data;
	unsigned long idx = vma_to_page(vram, vmf->pgoff);
	unsigned long addr = vmf->address & PAGE_MASK;
	struct page *page;
	vm_fault_t ret = VM_FAULT_NOPAGE;

	if (idx >= vram->npages)
		return VM_FAULT_SIGBUS;

	down_read(&vram->lock);
	vram_zap(vram, idx, 1);
	/* a reset or decode off since: the retry faults and finds out */
	page = vram->decode ? xa_load(&vram->pages, idx) : NULL;
	if (page) {
		set_bit(idx, vram->dirty);
		ret = vmf_insert_pfn_prot(vma, addr, page_to_pfn(page),
					  vm_get_page_prot(vma->vm_flags));
	}
	up_read(&vram->lock);
	return ret;
}

static const struct vm_operations_struct gpup_vram_vm_ops = {
	.fault = gpup_vram_fault,
	.pfn_mkwrite = gpup_vram_pfn_mkwrite,
};

int gpup_vram_mmap(struct gpup_vram *vram, struct vm_area_struct *vma)
{
	unsigned long first = vma_to_page(vram, vma->vm_pgoff);

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (first >= vram->npages || vma_pages(vma) > vram->npages - first)
		return -EINVAL;

	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &gpup_vram_vm_ops;
	vma->vm_private_data = vram;
	return 0;
}

/*
 * Move the dirty bits into @bitmap (vram->npages bits) and re-arm tracking
 * for those pages.  Returns the number of dirty pages.
 */
unsigned long gpup_vram_dirty_harvest(struct gpup_vram *vram,
				      unsigned long *bitmap)
{
	unsigned long i, start, end, count = 0;

	/*
	 * Writers set a page's bit and store (or map it writable) under the
	 * lock held for read: holding it for write here means no bit is
	 * cleared between a writer's set_bit and its store.
	 */
	down_write(&vram->lock);
	for (i = 0; i < BITS_TO_LONGS(vram->npages); i++) {
		bitmap[i] = xchg(&vram->dirty[i], 0);
		count += hweight_long(bitmap[i]);
	}
	for_each_set_bitrange(start, end, bitmap, vram->npages) {
		vram_zap(vram, start, end - start);
		cond_resched();
	}
	up_write(&vram->lock);
	return count;
}

/* Start a tracking session: no page dirty, every mapping write-protected */
void gpup_vram_dirty_arm(struct gpup_vram *vram)
{
	unsigned long i;

	down_write(&vram->lock);
	for (i = 0; i < BITS_TO_LONGS(vram->npages); i++)
		xchg(&vram->dirty[i], 0);
	vram_zap(vram, 0, vram->npages);
	up_write(&vram->lock);
}

/* Set in @bitmap the pages that hold data; returns their number */
unsigned long gpup_vram_populated(struct gpup_vram *vram, unsigned long *bitmap)
{
	unsigned long idx, count = 0;
	struct page *page;

	bitmap_zero(bitmap, vram->npages);
	down_read(&vram->lock);
	xa_for_each(&vram->pages, idx, page) {
		__set_bit(idx, bitmap);
		count++;
		cond_resched();
	}
	up_read(&vram->lock);
	return count;
}

/*
 * A checksum of the contents: CRC32 over (index, data) of every page that
 * holds a non-zero byte.  Absent and all-zero pages are alike, so two VFs
 * with the same contents match whichever pages each happened to allocate.
 */
u32 gpup_vram_checksum(struct gpup_vram *vram)
{
	struct page *page;
	unsigned long idx;
	u32 crc = ~0U;

	down_read(&vram->lock);
	xa_for_each(&vram->pages, idx, page) {
		__le64 key = cpu_to_le64(idx);
		void *p = kmap_local_page(page);

		if (memchr_inv(p, 0, PAGE_SIZE)) {
			crc = crc32_le(crc, (u8 *)&key, sizeof(key));
			crc = crc32_le(crc, p, PAGE_SIZE);
		}
		kunmap_local(p);
		cond_resched();
	}
	up_read(&vram->lock);
	return ~crc;
}
