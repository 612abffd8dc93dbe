// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_sim: software GPU-P physical functions whose partitions are mdev
 * devices.  Loading the module brings one GPU on a virtual device
 * ("gpup_sim"); each PCI function bound to it brings another (pci.c).  A
 * GPU's mdev types are the partition profiles (gpu.c), and each mdev
 * created from a type is a VF with the profile's VRAM carved out of that
 * GPU's pool.  This file is the module and the mdev driver of the VFs.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "gpup_sim.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

#define GPUP_SIM_NAME	"gpup_sim"

static unsigned int vram_pool_mb = 2048;
module_param(vram_pool_mb, uint, 0444);
MODULE_PARM_DESC(vram_pool_mb, "VRAM of each simulated GPU, shared by its VFs, in MiB (default 2048)");

/*
 * The GPU every load of the module brings: it stands on a device of class
 * "gpup" named gpup_sim, so its mdev types are gpup-<profile>.
 */
static struct device *gpup_sim_dev;
static struct gpup_sim_gpu *gpup_sim;

static const struct class gpup_class = {
	.name = "gpup",
};

static int gpup_sim_probe(struct mdev_device *mdev)
{
	struct gpup_vf *vf;
	int ret;

	vf = vfio_alloc_device(gpup_vf, vdev, &mdev->dev, &gpup_vf_ops);
	if (IS_ERR(vf))
		return PTR_ERR(vf);

	/*
	 * A set of its own, taken here: registration would take one too but
	 * ignores a failure to allocate it, leaving a device whose first
	 * open dereferences a NULL set.
	 */
	ret = vfio_assign_device_set(&vf->vdev, vf);
	if (ret)
		goto err_put;
	ret = vfio_register_emulated_iommu_dev(&vf->vdev);
	if (ret)
		goto err_put;
	ret = gpup_mig_register(&vf->mig, gpup_type_mgmt(mdev->type));
	if (ret)
		goto err_unregister;

	dev_set_drvdata(&mdev->dev, vf);
	gpup_debugfs_add_vf(vf);
	dev_info(&mdev->dev, "created %s VF, %llu MiB VRAM\n", vf->profile->name,
		 vf->profile->vram_size >> 20);
	return 0;

err_unregister:
	vfio_unregister_group_dev(&vf->vdev);
err_put:
	vfio_put_device(&vf->vdev);
	return ret;
}

/* The VF stays listed for management until its last user has let it go */
static void gpup_sim_remove(struct mdev_device *mdev)
{
	struct gpup_vf *vf = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&vf->vdev);
	gpup_mig_unregister(&vf->mig);
	gpup_debugfs_remove_vf(vf);
	vfio_put_device(&vf->vdev);
}

static unsigned int gpup_sim_get_available(struct mdev_type *mtype)
{
	return gpup_pool_available(gpup_type_pool(mtype),
				   gpup_type_profile(mtype)->vram_size);
}

static ssize_t gpup_sim_show_description(struct mdev_type *mtype, char *buf)
{
	const struct gpup_profile *p = gpup_type_profile(mtype);

	return sysfs_emit(buf, "profile=%s vram=%lluMiB engines=%u\n", p->name,
			  p->vram_size >> 20, p->engines);
}

struct mdev_driver gpup_sim_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = GPUP_SIM_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = gpup_vf_groups,
	},
	.probe = gpup_sim_probe,
	.remove = gpup_sim_remove,
	.get_available = gpup_sim_get_available,
	.show_description = gpup_sim_show_description,
};

/* After the last mdev type let the device go: then the GPU may go too */
static void gpup_sim_dev_release(struct device *dev)
{
	struct gpup_sim_gpu *gpu = dev_get_drvdata(dev);

	if (gpu)
		gpup_sim_gpu_put(gpu);
	kfree(dev);
}

static int gpup_sim_virtual_add(void)
{
	struct device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	device_initialize(dev);
	dev->class = &gpup_class;
	dev->release = gpup_sim_dev_release;
	ret = dev_set_name(dev, GPUP_SIM_NAME);
	if (ret)
		goto err_put;
	ret = device_add(dev);
	if (ret)
		goto err_put;

	gpup_sim = gpup_sim_gpu_add(dev, (u64)vram_pool_mb << 20);
	if (IS_ERR(gpup_sim)) {
		ret = PTR_ERR(gpup_sim);
		goto err_del;
	}
	gpup_sim_gpu_get(gpup_sim);	/* the device's, see its release */
	dev_set_drvdata(dev, gpup_sim);
	gpup_sim_dev = dev;
	return 0;

err_del:
	device_del(dev);
err_put:
	put_device(dev);	/* frees it */
	return ret;
}

static void gpup_sim_virtual_remove(void)
{
	gpup_sim_gpu_remove(gpup_sim);
	device_unregister(gpup_sim_dev);
}

static int __init gpup_sim_init(void)
{
	int ret;

	if (!vram_pool_mb || vram_pool_mb > SZ_1M) {
		pr_err(GPUP_SIM_NAME ": vram_pool_mb must be 1..%u\n", SZ_1M);
		return -EINVAL;
	}

	ret = class_register(&gpup_class);
	if (ret)
		return ret;

	ret = mdev_register_driver(&gpup_sim_mdev_driver);
	if (ret)
		goto err_class;

	gpup_debugfs_init();
	ret = gpup_sim_virtual_add();
	if (ret)
		goto err_driver;

	ret = gpup_sim_pci_register(vram_pool_mb);
	if (ret)
		goto err_virtual;

	pr_info(GPUP_SIM_NAME ": %u MiB VRAM pool\n", vram_pool_mb);
	return 0;

err_virtual:
	gpup_sim_virtual_remove();
err_driver:
	gpup_debugfs_exit();
	mdev_unregister_driver(&gpup_sim_mdev_driver);
err_class:
	class_unregister(&gpup_class);
	return ret;
}

static void __exit gpup_sim_exit(void)
{
	gpup_sim_pci_unregister();
	gpup_sim_virtual_remove();
	gpup_debugfs_exit();
	mdev_unregister_driver(&gpup_sim_mdev_driver);
	class_unregister(&gpup_class);
}

module_init(gpup_sim_init);
module_exit(gpup_sim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated GPU-P virtual functions as mdev devices");
MODULE_SOFTDEP("pre: vfio_iommu_type1");
