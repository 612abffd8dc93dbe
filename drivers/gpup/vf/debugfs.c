// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: what the tests need and no program should: an engine error on
 * purpose (the driver refuses every command the engine would) and a reset
 * through the driver's reset handlers (the VF has no PCI reset method).
 *
 *   /sys/kernel/debug/gpup_vf/<PCI address>/inject_error   write anything
 *   /sys/kernel/debug/gpup_vf/<PCI address>/reset          write anything
 */
#include <linux/debugfs.h>
#include <linux/fs.h>

#include "gpup_vf.h"

static struct dentry *gpup_vf_debugfs_root;

static ssize_t gpup_vf_debugfs_write(struct file *file, size_t count,
				     int (*action)(struct gpup_vf_dev *vf))
{
	struct gpup_vf_dev *vf = file->private_data;
	int ret;

	/* removal marks the VF gone before it removes these files */
	down_read(&vf->unplug_rwsem);
	ret = READ_ONCE(vf->state) == GPUP_VF_GONE ? -ENODEV : action(vf);
	up_read(&vf->unplug_rwsem);
	return ret ? ret : count;
}

static ssize_t gpup_vf_inject_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	return gpup_vf_debugfs_write(file, count, gpup_vf_inject_error);
}

static ssize_t gpup_vf_reset_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	return gpup_vf_debugfs_write(file, count, gpup_vf_dev_reset);
}

static const struct file_operations gpup_vf_inject_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= gpup_vf_inject_write,
};

static const struct file_operations gpup_vf_reset_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= gpup_vf_reset_write,
};

void gpup_vf_debugfs_init(void)
{
	gpup_vf_debugfs_root = debugfs_create_dir(GPUP_VF_NAME, NULL);
}

void gpup_vf_debugfs_exit(void)
{
	debugfs_remove(gpup_vf_debugfs_root);
}

void gpup_vf_debugfs_add(struct gpup_vf_dev *vf)
{
	vf->debugfs = debugfs_create_dir(pci_name(vf->pdev), gpup_vf_debugfs_root);
	debugfs_create_file("inject_error", 0200, vf->debugfs, vf,
			    &gpup_vf_inject_fops);
	debugfs_create_file("reset", 0200, vf->debugfs, vf, &gpup_vf_reset_fops);
}

/* Waits for the writers in the files to leave */
void gpup_vf_debugfs_remove(struct gpup_vf_dev *vf)
{
	debugfs_remove(vf->debugfs);
}
