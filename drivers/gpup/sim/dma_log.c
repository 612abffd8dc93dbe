// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA dirty logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*) for a device that
 * never writes guest memory.
 *
 * The VF's engine works on its own VRAM; its ring lives there too.  No
 * command makes it write to the guest's RAM, so the truthful dirty log of
 * any range is empty.  Offering that log lets QEMU migrate the VF as it
 * is (without enable-migration=on): QEMU 10 otherwise refuses a VFIO
 * device that has neither device nor IOMMU dirty tracking.
 *
 * The VFIO core builds its reports with the iova_bitmap helpers, which
 * exist only with CONFIG_IOMMUFD_DRIVER; without them every report would
 * fail, so the ops are offered only there.
 *
 * The core keeps no logging state, so the VF does: a second start without
 * a stop is refused, a report while not logging too, and a stop is always
 * accepted.  Logging ends when the user closes the device.
 */
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/vfio.h>

#include "gpup_sim.h"
#include "trace.h"

static int gpup_sim_log_start(struct vfio_device *vdev, struct rb_root_cached *ranges,
			      u32 nnodes, u64 *page_size)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	int ret = 0;

	/* the granule is the driver's to choose: any power of two from a page */
	if (*page_size < PAGE_SIZE || !is_power_of_2(*page_size))
		*page_size = PAGE_SIZE;
	mutex_lock(&vf->lock);
	if (vf->dma_logging)
		ret = -EBUSY;
	else
		vf->dma_logging = true;
	mutex_unlock(&vf->lock);
	trace_gpup_sim_dma_log(dev_name(vdev->dev), "start", nnodes, ret);
	return ret;
}

static int gpup_sim_log_stop(struct vfio_device *vdev)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);

	mutex_lock(&vf->lock);
	vf->dma_logging = false;
	mutex_unlock(&vf->lock);
	trace_gpup_sim_dma_log(dev_name(vdev->dev), "stop", 0, 0);
	return 0;
}

/* Nothing was written: @dirty is left with no bit set */
static int gpup_sim_log_read_and_clear(struct vfio_device *vdev, unsigned long iova,
				       unsigned long length, struct iova_bitmap *dirty)
{
	struct gpup_vf *vf = vdev_to_vf(vdev);
	bool logging;

	mutex_lock(&vf->lock);
	logging = vf->dma_logging;
	mutex_unlock(&vf->lock);
	return logging ? 0 : -EINVAL;
}

/*
 * DMA dirty logging of a VF that writes no guest memory: the vfio_device's
 * log_ops where the kernel has CONFIG_IOMMUFD_DRIVER.  Every report is
 * empty.
 */
static const struct vfio_log_ops gpup_sim_log_ops = {
	.log_start		= gpup_sim_log_start,
	.log_stop		= gpup_sim_log_stop,
	.log_read_and_clear	= gpup_sim_log_read_and_clear,
};

/**
 * gpup_sim_dma_log_init() - offer DMA dirty logging where reports work
 * @vf: the VF, from its vfio_device's init
 */
void gpup_sim_dma_log_init(struct gpup_vf *vf)
{
	if (IS_ENABLED(CONFIG_IOMMUFD_DRIVER))
		vf->vdev.log_ops = &gpup_sim_log_ops;
}

/**
 * gpup_sim_dma_log_close() - end the user's logging with the device's close
 * @vf: the VF being closed
 */
void gpup_sim_dma_log_close(struct gpup_vf *vf)
{
	mutex_lock(&vf->lock);
	vf->dma_logging = false;
	mutex_unlock(&vf->lock);
}
