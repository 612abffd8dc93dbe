// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO glue of a gpup VF: the regions, interrupts and reset a VFIO user
 * (QEMU) sees.  Regions follow vfio-pci's layout so that QEMU's vfio-pci
 * device drives the VF unchanged: config space, BAR0 (trapped registers)
 * and BAR2 (mmap-able VRAM), each at its index shifted left by 40 bits.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "../core/gpup_compat.h"
#include "gpup_sim.h"
#include "trace.h"

static int gpup_vf_init(struct vfio_device *vdev)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	int ret;

	vf->profile = gpup_type_profile(mdev->type);
	vf->pool = gpup_type_pool_get(mdev->type);

	ret = gpup_pool_reserve(vf->pool, vf->profile->vram_size);
	if (ret) {
		dev_err(vdev->dev,
			"not enough VRAM in the pool for profile %s (%llu MiB needed)\n",
			vf->profile->name, vf->profile->vram_size >> 20);
		goto err_put;
	}

	vf->ctx = kvzalloc(gpup_ctx_bytes(vf->profile), GFP_KERNEL_ACCOUNT);
	if (!vf->ctx) {
		ret = -ENOMEM;
		goto err_pool;
	}
	ret = gpup_vram_init(&vf->vram, vf->profile->vram_size);
	if (ret)
		goto err_ctx;
	gpup_vram_set_mapping(&vf->vram, vdev->inode->i_mapping,
			      VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_BAR2_REGION_INDEX));

	ret = gpup_mig_init(&vf->mig, vdev, &gpup_sim_mig_ops, vf->profile->vram_size);
	if (ret)
		goto err_vram;
	vdev->mig_ops = &gpup_sim_mig_vfio_ops;
	gpup_sim_dma_log_init(vf);

	mutex_init(&vf->reset_lock);
	mutex_init(&vf->lock);
	gpup_cfg_init(&vf->cfg, vf->profile);
	gpup_regs_init(&vf->regs);
	gpup_engine_init(vf);
	vf->irq_index = -1;
	return 0;

err_vram:
	gpup_vram_destroy(&vf->vram);
err_ctx:
	kvfree(vf->ctx);
err_pool:
	gpup_pool_release(vf->pool, vf->profile->vram_size);
err_put:
	gpup_pool_put(vf->pool);
	return ret;
}

static void gpup_vf_release(struct vfio_device *vdev)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	gpup_mig_destroy(&vf->mig);
	gpup_vram_destroy(&vf->vram);
	kvfree(vf->ctx);
	gpup_pool_release(vf->pool, vf->profile->vram_size);
	gpup_pool_put(vf->pool);
	mutex_destroy(&vf->lock);
	mutex_destroy(&vf->reset_lock);
}

/*
 * An MSI is a memory write of the function's: it goes out only while the
 * function may master the bus, and one due meanwhile waits until it may.
 */
static void gpup_vf_msi_locked(struct gpup_vf *vf)
{
	if (vf->irq_index != VFIO_PCI_MSI_IRQ_INDEX)
		return;
	if (!(gpup_cfg_command(&vf->cfg) & PCI_COMMAND_MASTER)) {
		vf->msi_pending = true;
		return;
	}
	vf->msi_pending = false;
	trace_gpup_sim_irq(dev_name(vf->vdev.dev), vf->irq_index,
			   vf->regs.int_status);
	eventfd_signal(vf->msi_trigger);
}

void gpup_vf_update_irq_locked(struct gpup_vf *vf)
{
	bool pending = vf->regs.int_status & vf->regs.int_mask;

	lockdep_assert_held(&vf->lock);
	if (vf->irq_index == VFIO_PCI_MSI_IRQ_INDEX)
		pending = false;
	gpup_cfg_set_intx_pending(&vf->cfg, pending);

	/* INTx is level-triggered: signal once, then stay masked until unmask */
	if (pending && vf->intx_trigger && !vf->intx_masked &&
	    !gpup_cfg_intx_disabled(&vf->cfg)) {
		vf->intx_masked = true;
		trace_gpup_sim_irq(dev_name(vf->vdev.dev), vf->irq_index,
				   vf->regs.int_status);
		eventfd_signal(vf->intx_trigger);
	}
}

void gpup_vf_raise_locked(struct gpup_vf *vf, u32 int_bits)
{
	lockdep_assert_held(&vf->lock);
	vf->regs.int_status |= int_bits;
	if (!(int_bits & vf->regs.int_mask))
		return;

	if (vf->irq_index == VFIO_PCI_MSI_IRQ_INDEX)
		gpup_vf_msi_locked(vf);
	else
		gpup_vf_update_irq_locked(vf);
}

/*
 * The PCI command register changed from @old: memory decode gates BAR
 * access, bus mastering the engine and MSIs, INTx disable the line.
 */
void gpup_vf_command_changed_locked(struct gpup_vf *vf, u16 old)
{
	u16 cmd = gpup_cfg_command(&vf->cfg);

	lockdep_assert_held(&vf->lock);
	if ((old ^ cmd) & PCI_COMMAND_MEMORY)
		gpup_vram_set_decode(&vf->vram, cmd & PCI_COMMAND_MEMORY);
	if (~old & cmd & PCI_COMMAND_MASTER) {
		if (vf->msi_pending)
			gpup_vf_msi_locked(vf);
		gpup_engine_kick(vf);
	}
	gpup_vf_update_irq_locked(vf);
}

/*
 * Back to power-on as @kind says (enum gpup_reset_kind).  A reset the
 * guest asks for (CTRL) leaves a migration in progress going, so the pages
 * it frees count as dirty; a VFIO reset ends the migration (the caller
 * tells the core) and so also lifts its quiesce.
 */
void gpup_vf_reset(struct gpup_vf *vf, enum gpup_reset_kind kind)
{
	bool from_guest = kind == GPUP_RESET_ENGINE;
	unsigned long pages;
	u16 old;

	mutex_lock(&vf->reset_lock);
	gpup_engine_stop(vf);
	pages = atomic_long_read(&vf->vram.allocated);
	gpup_vram_clear(&vf->vram, from_guest);

	mutex_lock(&vf->lock);
	if (!from_guest)
		vf->quiesced = false;
	gpup_regs_init(&vf->regs);
	memset(vf->ctx, 0, gpup_ctx_bytes(vf->profile));
	vf->intx_masked = false;
	vf->msi_pending = false;
	old = gpup_cfg_command(&vf->cfg);
	if (kind == GPUP_RESET_POWER_ON)
		gpup_cfg_init(&vf->cfg, vf->profile);
	gpup_vf_command_changed_locked(vf, old);
	mutex_unlock(&vf->lock);

	gpup_engine_start(vf);
	mutex_unlock(&vf->reset_lock);
	trace_gpup_sim_reset(dev_name(vf->vdev.dev), pages);
}

static void irq_set_trigger(struct eventfd_ctx **slot, struct eventfd_ctx *ctx)
{
	if (*slot)
		eventfd_ctx_put(*slot);
	*slot = ctx;
}

static void gpup_vf_irqs_disable_locked(struct gpup_vf *vf)
{
	irq_set_trigger(&vf->intx_trigger, NULL);
	irq_set_trigger(&vf->msi_trigger, NULL);
	vf->irq_index = -1;
	vf->intx_masked = false;
}

static int gpup_vf_open(struct vfio_device *vdev)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	int ret;

	ret = gpup_engine_open(vf);
	if (ret)
		return ret;
	gpup_mig_open(&vf->mig);
	return 0;
}

static void gpup_vf_close(struct vfio_device *vdev)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	gpup_mig_close(&vf->mig);
	gpup_sim_dma_log_close(vf);
	mutex_lock(&vf->lock);
	gpup_vf_irqs_disable_locked(vf);
	irq_set_trigger(&vf->req_trigger, NULL);
	mutex_unlock(&vf->lock);
	/* The next user finds the VF as after power-on, as vfio-pci does */
	gpup_vf_reset(vf, GPUP_RESET_POWER_ON);
	gpup_engine_close(vf);
}

static ssize_t gpup_cfg_rw(struct gpup_vf *vf, char __user *buf, size_t count,
			   loff_t pos, bool write)
{
	u8 tmp[GPUP_CFG_SIZE];
	int ret;

	if (pos >= GPUP_CFG_SIZE || count > GPUP_CFG_SIZE - pos)
		return -EINVAL;
	if (write && copy_from_user(tmp, buf, count))
		return -EFAULT;

	mutex_lock(&vf->lock);
	if (write) {
		u16 old = gpup_cfg_command(&vf->cfg);

		ret = gpup_cfg_write(&vf->cfg, pos, tmp, count);
		gpup_vf_command_changed_locked(vf, old);
	} else {
		ret = gpup_cfg_read(&vf->cfg, pos, tmp, count);
	}
	mutex_unlock(&vf->lock);

	if (!ret && !write && copy_to_user(buf, tmp, count))
		ret = -EFAULT;
	return ret ? ret : count;
}

static ssize_t gpup_regs_rw(struct gpup_vf *vf, char __user *buf, size_t count,
			    loff_t pos, bool write)
{
	unsigned int act = 0;
	__le32 val;
	int ret;

	ret = gpup_regs_check_access(pos, count);
	if (ret)
		return ret;
	if (write && copy_from_user(&val, buf, sizeof(val)))
		return -EFAULT;

	mutex_lock(&vf->lock);
	if (!(gpup_cfg_command(&vf->cfg) & PCI_COMMAND_MEMORY)) {
		/* BAR0 does not decode: what vfio-pci answers then */
		mutex_unlock(&vf->lock);
		return -EIO;
	}
	if (write) {
		act = gpup_regs_write(&vf->regs, pos, le32_to_cpu(val));
		if (act & GPUP_REG_ACT_EDGE)
			gpup_vf_msi_locked(vf);
		if (act & GPUP_REG_ACT_IRQ)
			gpup_vf_update_irq_locked(vf);
		if (act & GPUP_REG_ACT_KICK)
			gpup_engine_kick(vf);
	} else {
		val = cpu_to_le32(gpup_regs_read(&vf->regs, vf->profile, pos));
	}
	mutex_unlock(&vf->lock);

	if (act & GPUP_REG_ACT_RESET)
		gpup_vf_reset(vf, GPUP_RESET_ENGINE);
	if (!write && copy_to_user(buf, &val, sizeof(val)))
		return -EFAULT;
	return count;
}

static ssize_t gpup_vf_rw(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos, bool write)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	ssize_t ret;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = gpup_cfg_rw(vf, buf, count, pos, write);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = gpup_regs_rw(vf, buf, count, pos, write);
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		ret = gpup_vram_rw_user(&vf->vram, pos, buf, count, write);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t gpup_vf_read(struct vfio_device *vdev, char __user *buf,
			    size_t count, loff_t *ppos)
{
	return gpup_vf_rw(vdev, buf, count, ppos, false);
}

static ssize_t gpup_vf_write(struct vfio_device *vdev, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	return gpup_vf_rw(vdev, (char __user *)buf, count, ppos, true);
}

static int gpup_vf_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	if (VFIO_PCI_OFFSET_TO_INDEX((u64)vma->vm_pgoff << PAGE_SHIFT) !=
	    VFIO_PCI_BAR2_REGION_INDEX)
		return -EINVAL;
	return gpup_vram_mmap(&vf->vram, vma);
}

static u64 gpup_region_size(struct gpup_vf *vf, unsigned int index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return GPUP_CFG_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return GPUP_REGS_SIZE;
	case VFIO_PCI_BAR2_REGION_INDEX:
		return vf->profile->vram_size;
	default:
		return 0;
	}
}

/* VFIO_DEVICE_GET_REGION_INFO, once the core has copied the arguments in */
static int gpup_vf_region_info(struct vfio_device *vdev, struct vfio_region_info *info,
			       struct vfio_info_cap *caps)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	if (info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;

	info->offset = VFIO_PCI_INDEX_TO_OFFSET(info->index);
	info->size = gpup_region_size(vf, info->index);
	info->flags = 0;
	info->cap_offset = 0;
	if (info->size)
		info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (info->index == VFIO_PCI_BAR2_REGION_INDEX)
		info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	return 0;
}

static int gpup_ioctl_irq_info(void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info.flags = 0;
	info.count = 0;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX) {
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			     VFIO_IRQ_INFO_AUTOMASKED;
		info.count = 1;
	} else if (info.index == VFIO_PCI_MSI_IRQ_INDEX ||
		   info.index == VFIO_PCI_REQ_IRQ_INDEX) {
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		info.count = 1;
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int gpup_irq_count(unsigned int index)
{
	return index == VFIO_PCI_INTX_IRQ_INDEX ||
	       index == VFIO_PCI_MSI_IRQ_INDEX ||
	       index == VFIO_PCI_REQ_IRQ_INDEX ? 1 : 0;
}

/* The device request interrupt: independent of the INTx/MSI mode */
static int gpup_set_req_trigger_locked(struct gpup_vf *vf,
				       const struct vfio_irq_set *hdr,
				       const void *data)
{
	struct eventfd_ctx *ctx = NULL;
	s32 fd = -1;

	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD && hdr->count)
		fd = *(const s32 *)data;
	else if (hdr->count)
		return -EINVAL;

	if (fd >= 0) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	irq_set_trigger(&vf->req_trigger, ctx);
	return 0;
}

/* TRIGGER with an eventfd (or -1 / count 0 to tear it down) */
static int gpup_set_trigger_locked(struct gpup_vf *vf, unsigned int index,
				   const struct vfio_irq_set *hdr, const void *data)
{
	struct eventfd_ctx **slot = index == VFIO_PCI_INTX_IRQ_INDEX ?
				    &vf->intx_trigger : &vf->msi_trigger;
	struct eventfd_ctx *ctx = NULL;
	s32 fd = -1;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD && hdr->count)
		fd = *(const s32 *)data;

	if (!hdr->count || fd < 0) {
		if (vf->irq_index < 0 || vf->irq_index == index)
			gpup_vf_irqs_disable_locked(vf);
		return 0;
	}
	if (vf->irq_index >= 0 && vf->irq_index != index)
		return -EBUSY;	/* one interrupt mode at a time, as on PCI */

	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	irq_set_trigger(slot, ctx);
	vf->irq_index = index;
	gpup_vf_update_irq_locked(vf);
	return 0;
}

static int gpup_set_irqs_locked(struct gpup_vf *vf, struct vfio_irq_set *hdr,
				const void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	bool intx = hdr->index == VFIO_PCI_INTX_IRQ_INDEX;
	bool fire = hdr->flags & VFIO_IRQ_SET_DATA_NONE ||
		    (hdr->flags & VFIO_IRQ_SET_DATA_BOOL && hdr->count &&
		     *(const u8 *)data);

	switch (action) {
	case VFIO_IRQ_SET_ACTION_MASK:
	case VFIO_IRQ_SET_ACTION_UNMASK:
		if (!intx || hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
			return -EINVAL;
		if (fire && hdr->count) {
			vf->intx_masked = action == VFIO_IRQ_SET_ACTION_MASK;
			gpup_vf_update_irq_locked(vf);
		}
		return 0;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD || !hdr->count)
			return gpup_set_trigger_locked(vf, hdr->index, hdr, data);
		/* Loopback test of the trigger, as vfio-pci offers */
		if (fire) {
			struct eventfd_ctx *ctx = intx ? vf->intx_trigger :
						  vf->msi_trigger;

			if (ctx)
				eventfd_signal(ctx);
		}
		return 0;
	default:
		return -EINVAL;
	}
}

static int gpup_ioctl_set_irqs(struct gpup_vf *vf, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u8 *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;

	ret = vfio_set_irqs_validate_and_prepare(&hdr, gpup_irq_count(hdr.index),
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vf->lock);
	if (hdr.index == VFIO_PCI_REQ_IRQ_INDEX)
		ret = gpup_set_req_trigger_locked(vf, &hdr, data);
	else
		ret = gpup_set_irqs_locked(vf, &hdr, data);
	mutex_unlock(&vf->lock);
	kfree(data);
	return ret;
}

static int gpup_ioctl_device_info(void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long gpup_vf_ioctl(struct vfio_device *vdev, unsigned int cmd,
			  unsigned long arg)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return gpup_ioctl_device_info(uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return gpup_compat_region_info(vdev, uarg, gpup_vf_region_info);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return gpup_ioctl_irq_info(uarg);
	case VFIO_DEVICE_SET_IRQS:
		return gpup_ioctl_set_irqs(vf, uarg);
	case VFIO_DEVICE_RESET:
		/* no data file touches the VF from the reset's start on */
		gpup_mig_reset_prepare(&vf->mig);
		gpup_vf_reset(vf, GPUP_RESET_FUNCTION);
		gpup_mig_reset_done(&vf->mig);
		return 0;
	default:
		return -ENOTTY;
	}
}

/* The VF is being removed while open: ask the user to let it go */
static void gpup_vf_request(struct vfio_device *vdev, unsigned int count)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	mutex_lock(&vf->lock);
	if (vf->req_trigger) {
		if (!count)
			dev_notice(vdev->dev, "asking the user to release the VF\n");
		eventfd_signal(vf->req_trigger);
	} else if (!count) {
		dev_notice(vdev->dev, "removal waits for the user to close the VF\n");
	}
	mutex_unlock(&vf->lock);
}

const struct vfio_device_ops gpup_vf_ops = {
	.name		= "gpup-vf",
	.init		= gpup_vf_init,
	.release	= gpup_vf_release,
	.open_device	= gpup_vf_open,
	.close_device	= gpup_vf_close,
	.read		= gpup_vf_read,
	.write		= gpup_vf_write,
	.mmap		= gpup_vf_mmap,
	.ioctl		= gpup_vf_ioctl,
	GPUP_VFIO_OPS_REGION_INFO(gpup_vf_region_info)
	.request	= gpup_vf_request,
	.bind_iommufd	= vfio_iommufd_emulated_bind,
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
};
