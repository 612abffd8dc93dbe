// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/gpup_vfN: the ioctls of uapi/linux/gpup_vf.h and the mmap of the
 * VRAM below the driver's ring.
 *
 * Everything from user space is copied and checked before the device is
 * touched, and no user memory is accessed with unplug_rwsem held: a
 * command array may live in the VRAM mapping, whose fault handler takes
 * that lock too.  VRAM pages are mapped one fault at a time, so that the
 * removal, once it has waited the faults out, can zap them for good.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "gpup_vf.h"

static_assert(sizeof(struct gpup_vf_cmd) == 32);
static_assert(sizeof(struct gpup_vf_submit) == 24);
static_assert(sizeof(struct gpup_vf_wait) == 24);
static_assert(sizeof(struct gpup_vf_info) == 104);

static struct gpup_vf_dev *gpup_vf_file_dev(struct file *file)
{
	return ((struct gpup_vf_file *)file->private_data)->vf;
}

/* Holds unplug_rwsem for reading unless the VF is gone */
static int gpup_vf_enter(struct gpup_vf_dev *vf)
{
	down_read(&vf->unplug_rwsem);
	if (READ_ONCE(vf->state) == GPUP_VF_GONE) {
		up_read(&vf->unplug_rwsem);
		return -ENODEV;
	}
	return 0;
}

static void gpup_vf_leave(struct gpup_vf_dev *vf)
{
	up_read(&vf->unplug_rwsem);
}

static int gpup_vf_ioc_info(struct gpup_vf_dev *vf, void __user *arg)
{
	struct gpup_vf_info info;

	if (READ_ONCE(vf->state) == GPUP_VF_GONE)
		return -ENODEV;
	gpup_vf_get_info(vf, &info);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int gpup_vf_check_batch(struct gpup_vf_dev *vf,
			       const struct gpup_vf_cmd *cmds, u32 count)
{
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		ret = gpup_vf_cmd_check(&cmds[i], vf->ring_offset);
		if (ret)
			return ret;
	}
	return 0;
}

static int gpup_vf_ioc_submit(struct gpup_vf_dev *vf, void __user *arg)
{
	struct gpup_vf_submit args;
	struct gpup_vf_cmd *cmds;
	u64 fence = 0;
	int ret;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.flags || !args.count || args.count > GPUP_VF_BATCH_MAX)
		return -EINVAL;
	cmds = vmemdup_array_user(u64_to_user_ptr(args.cmds), args.count,
				  sizeof(*cmds));
	if (IS_ERR(cmds))
		return PTR_ERR(cmds);

	ret = gpup_vf_check_batch(vf, cmds, args.count);
	if (ret)
		goto out;
	ret = gpup_vf_enter(vf);
	if (ret)
		goto out;
	ret = gpup_vf_submit(vf, cmds, args.count, &fence);
	gpup_vf_leave(vf);
	if (!ret && put_user(fence, (__u64 __user *)(arg +
			     offsetof(struct gpup_vf_submit, fence))))
		ret = -EFAULT;
out:
	kvfree(cmds);
	return ret;
}

static int gpup_vf_ioc_wait(struct gpup_vf_dev *vf, void __user *arg)
{
	struct gpup_vf_wait args;
	int ret;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved)
		return -EINVAL;
	ret = gpup_vf_enter(vf);
	if (ret)
		return ret;
	ret = gpup_vf_wait(vf, args.fence, args.timeout_ns);
	gpup_vf_leave(vf);
	return ret;
}

static long gpup_vf_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct gpup_vf_dev *vf = gpup_vf_file_dev(file);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case GPUP_VF_IOC_INFO:
		return gpup_vf_ioc_info(vf, uarg);
	case GPUP_VF_IOC_SUBMIT:
		return gpup_vf_ioc_submit(vf, uarg);
	case GPUP_VF_IOC_WAIT:
		return gpup_vf_ioc_wait(vf, uarg);
	default:
		return -ENOTTY;
	}
}

static vm_fault_t gpup_vf_vram_fault(struct vm_fault *vmf)
{
	struct gpup_vf_dev *vf = vmf->vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (gpup_vf_enter(vf))
		return VM_FAULT_SIGBUS;
	if (vmf->pgoff < vf->ring_offset >> PAGE_SHIFT)
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     PHYS_PFN(vf->vram_phys) + vmf->pgoff);
	gpup_vf_leave(vf);
	return ret;
}

static const struct vm_operations_struct gpup_vf_vm_ops = {
	.fault = gpup_vf_vram_fault,
};

/* Shared mappings of VRAM below the ring, offset 0 being VRAM byte 0 */
static int gpup_vf_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct gpup_vf_dev *vf = gpup_vf_file_dev(file);
	u64 pages = vma_pages(vma);
	u64 limit = vf->ring_offset >> PAGE_SHIFT;

	if (READ_ONCE(vf->state) == GPUP_VF_GONE)
		return -ENODEV;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > limit || pages > limit - vma->vm_pgoff)
		return -EINVAL;

	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	vma->vm_private_data = vf;
	vma->vm_ops = &gpup_vf_vm_ops;
	return 0;
}

static int gpup_vf_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx: the VF cannot go away under us */
	struct gpup_vf_dev *vf = container_of(file->private_data,
					      struct gpup_vf_dev, misc);
	struct gpup_vf_file *vfile;

	vfile = kzalloc(sizeof(*vfile), GFP_KERNEL);
	if (!vfile)
		return -ENOMEM;
	kref_get(&vf->ref);
	vfile->vf = vf;
	vfile->mapping = file->f_mapping;
	mutex_lock(&vf->files_lock);
	list_add(&vfile->node, &vf->files);
	mutex_unlock(&vf->files_lock);
	file->private_data = vfile;
	return 0;
}

static int gpup_vf_release(struct inode *inode, struct file *file)
{
	struct gpup_vf_file *vfile = file->private_data;
	struct gpup_vf_dev *vf = vfile->vf;

	mutex_lock(&vf->files_lock);
	list_del(&vfile->node);
	mutex_unlock(&vf->files_lock);
	kfree(vfile);
	gpup_vf_put(vf);
	return 0;
}

static const struct file_operations gpup_vf_fops = {
	.owner		= THIS_MODULE,
	.open		= gpup_vf_open,
	.release	= gpup_vf_release,
	.unlocked_ioctl	= gpup_vf_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= gpup_vf_mmap,
	.llseek		= noop_llseek,
};

/**
 * gpup_vf_cdev_register() - create /dev/gpup_vfN
 * @vf: the VF, named
 *
 * Return: 0 or the errno of misc_register().
 */
int gpup_vf_cdev_register(struct gpup_vf_dev *vf)
{
	vf->misc.minor = MISC_DYNAMIC_MINOR;
	vf->misc.name = vf->name;
	vf->misc.fops = &gpup_vf_fops;
	vf->misc.parent = &vf->pdev->dev;
	vf->misc.mode = 0600;
	return misc_register(&vf->misc);
}

/**
 * gpup_vf_cdev_unregister() - remove /dev/gpup_vfN; no open follows
 * @vf: the VF
 */
void gpup_vf_cdev_unregister(struct gpup_vf_dev *vf)
{
	misc_deregister(&vf->misc);
}

/**
 * gpup_vf_cdev_zap() - unmap VRAM from every open file's mappings
 * @vf: the VF, gone, its faults waited out
 *
 * The next access to a mapping faults and gets SIGBUS.
 */
void gpup_vf_cdev_zap(struct gpup_vf_dev *vf)
{
	struct gpup_vf_file *vfile;

	mutex_lock(&vf->files_lock);
	list_for_each_entry(vfile, &vf->files, node)
		unmap_mapping_range(vfile->mapping, 0, 0, 1);
	mutex_unlock(&vf->files_lock);
}
