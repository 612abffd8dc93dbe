// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_sim: a software GPU-P physical function whose partitions are mdev
 * devices.  One parent device ("gpup_sim") stands for the GPU; its mdev
 * types are the partition profiles, and each mdev created from a type is a
 * VF with the profile's VRAM carved out of the parent's pool.
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
MODULE_PARM_DESC(vram_pool_mb, "VRAM of the simulated GPU shared by its VFs, in MiB (default 2048)");

struct gpup_type {
	struct mdev_type mtype;
	struct gpup_profile profile;
};

static struct gpup_type gpup_types[] = {
	{
		.mtype.sysfs_name = "small",
		.mtype.pretty_name = "GPU-P VF small (64 MiB VRAM, 1 engine)",
		.profile = { GPUP_PROFILE_SMALL, "small", SZ_64M, 1 },
	}, {
		.mtype.sysfs_name = "medium",
		.mtype.pretty_name = "GPU-P VF medium (256 MiB VRAM, 2 engines)",
		.profile = { GPUP_PROFILE_MEDIUM, "medium", SZ_256M, 2 },
	}, {
		.mtype.sysfs_name = "large",
		.mtype.pretty_name = "GPU-P VF large (1 GiB VRAM, 4 engines)",
		.profile = { GPUP_PROFILE_LARGE, "large", SZ_1G, 4 },
	},
};

static struct mdev_type *gpup_mdev_types[ARRAY_SIZE(gpup_types)];

/* The one simulated GPU; freed when the last reference to its device goes */
struct gpup_sim_parent {
	struct device dev;
	struct mdev_parent parent;
	struct gpup_pool pool;
	struct gpup_parent mgmt;	/* as the migration core lists it */
};

static struct gpup_sim_parent *gpup_sim;

static const struct class gpup_class = {
	.name = "gpup",
};

const struct gpup_profile *gpup_type_profile(struct mdev_type *mtype)
{
	return &container_of(mtype, struct gpup_type, mtype)->profile;
}

struct gpup_pool *gpup_type_pool(struct mdev_type *mtype)
{
	return &gpup_sim->pool;
}

static void gpup_sim_parent_vram(struct gpup_parent *parent, u64 *total, u64 *free)
{
	struct gpup_pool *pool = &gpup_sim->pool;

	spin_lock(&pool->lock);
	*total = pool->total;
	*free = pool->total - pool->used;
	spin_unlock(&pool->lock);
}

static int gpup_sim_parent_profile(struct gpup_parent *parent, unsigned int idx,
				   struct gpup_profile_info *info)
{
	const struct gpup_profile *p;

	if (idx >= ARRAY_SIZE(gpup_types))
		return -ENOENT;
	p = &gpup_types[idx].profile;
	info->id = p->id;
	info->name = p->name;
	info->vram_size = p->vram_size;
	info->engines = p->engines;
	info->available = gpup_pool_available(&gpup_sim->pool, p->vram_size);
	return 0;
}

static const struct gpup_parent_ops gpup_sim_parent_ops = {
	.vram = gpup_sim_parent_vram,
	.profile = gpup_sim_parent_profile,
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
	ret = gpup_mig_register(&vf->mig, &gpup_sim->mgmt);
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

static struct mdev_driver gpup_sim_driver = {
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

static void gpup_sim_parent_release(struct device *dev)
{
	kfree(container_of(dev, struct gpup_sim_parent, dev));
}

static int gpup_sim_parent_add(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(gpup_types); i++)
		gpup_mdev_types[i] = &gpup_types[i].mtype;

	gpup_sim = kzalloc(sizeof(*gpup_sim), GFP_KERNEL);
	if (!gpup_sim)
		return -ENOMEM;
	gpup_pool_init(&gpup_sim->pool, (u64)vram_pool_mb << 20);
	device_initialize(&gpup_sim->dev);
	gpup_sim->dev.class = &gpup_class;
	gpup_sim->dev.release = gpup_sim_parent_release;
	ret = dev_set_name(&gpup_sim->dev, GPUP_SIM_NAME);
	if (ret)
		goto err_put;
	ret = device_add(&gpup_sim->dev);
	if (ret)
		goto err_put;

	/* known to the core before any VF can be created on it */
	gpup_sim->mgmt.dev = &gpup_sim->dev;
	gpup_sim->mgmt.driver = GPUP_SIM_NAME;
	gpup_sim->mgmt.ops = &gpup_sim_parent_ops;
	ret = gpup_parent_register(&gpup_sim->mgmt);
	if (ret)
		goto err_del;

	ret = mdev_register_parent(&gpup_sim->parent, &gpup_sim->dev,
				   &gpup_sim_driver, gpup_mdev_types,
				   ARRAY_SIZE(gpup_mdev_types));
	if (ret)
		goto err_mgmt;
	return 0;

err_mgmt:
	gpup_parent_unregister(&gpup_sim->mgmt);
err_del:
	device_del(&gpup_sim->dev);
err_put:
	put_device(&gpup_sim->dev);	/* frees it */
	gpup_sim = NULL;
	return ret;
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

	ret = mdev_register_driver(&gpup_sim_driver);
	if (ret)
		goto err_class;

	gpup_debugfs_init();
	ret = gpup_sim_parent_add();
	if (ret)
		goto err_driver;

	pr_info(GPUP_SIM_NAME ": %u MiB VRAM pool\n", vram_pool_mb);
	return 0;

err_driver:
	gpup_debugfs_exit();
	mdev_unregister_driver(&gpup_sim_driver);
err_class:
	class_unregister(&gpup_class);
	return ret;
}

static void __exit gpup_sim_exit(void)
{
	mdev_unregister_parent(&gpup_sim->parent);
	gpup_parent_unregister(&gpup_sim->mgmt);
	device_unregister(&gpup_sim->dev);
	gpup_debugfs_exit();
	mdev_unregister_driver(&gpup_sim_driver);
	class_unregister(&gpup_class);
}

module_init(gpup_sim_init);
module_exit(gpup_sim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated GPU-P virtual functions as mdev devices");
MODULE_SOFTDEP("pre: vfio_iommu_type1");
