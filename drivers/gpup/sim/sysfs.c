// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs: /sys/bus/mdev/devices/<vf>/gpup/
 *
 *   engine_budget   the share of each 100 ms period the VF's engine may
 *                   run, in percent.  An administrator sets it as GPU-P
 *                   hosts set a partition's scheduling share; the VM's
 *                   cgroup (cpu.weight, and cpu.max on 6.12, not on 7.3:
 *                   see engine.c) bounds the same work from the host's side.
 *   dirty_tracking  1 (default): the VF tracks the VRAM pages its VM
 *                   writes and offers PRE_COPY; 0: it does not, and a
 *                   migration moves all VRAM with the VM stopped, as for a
 *                   device without dirty tracking.  Set while no user has
 *                   the VF open (-EBUSY otherwise).
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>

#include "gpup_sim.h"

static ssize_t engine_budget_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct gpup_vf *vf = dev_get_drvdata(dev);
	u32 budget;

	mutex_lock(&vf->lock);
	budget = vf->eng.budget;
	mutex_unlock(&vf->lock);
	return sysfs_emit(buf, "%u\n", budget);
}

static ssize_t engine_budget_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct gpup_vf *vf = dev_get_drvdata(dev);
	u32 budget;
	int ret;

	ret = kstrtou32(buf, 0, &budget);
	if (ret)
		return ret;
	if (!budget || budget > 100)
		return -ERANGE;

	mutex_lock(&vf->lock);
	vf->eng.budget = budget;
	mutex_unlock(&vf->lock);
	return count;
}
static DEVICE_ATTR_RW(engine_budget);

static ssize_t dirty_tracking_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct gpup_vf *vf = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", gpup_mig_precopy(&vf->mig));
}

static ssize_t dirty_tracking_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	struct gpup_vf *vf = dev_get_drvdata(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	ret = gpup_mig_set_precopy(&vf->mig, on);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(dirty_tracking);

static struct attribute *gpup_vf_attrs[] = {
	&dev_attr_engine_budget.attr,
	&dev_attr_dirty_tracking.attr,
	NULL,
};

static const struct attribute_group gpup_vf_group = {
	.name = "gpup",
	.attrs = gpup_vf_attrs,
};

const struct attribute_group *gpup_vf_groups[] = {
	&gpup_vf_group,
	NULL,
};
