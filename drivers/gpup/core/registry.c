// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: the registry of parents (partitioned GPUs) and VFs
 * that the management interface reports.
 *
 * Ids are allocated cyclically, so a monitor never mistakes a new VF for
 * one that just went away.  A backend unregisters a VF before it tears the
 * device down and a parent after its last VF: netlink calls the backends'
 * info operations under gpup_registry_lock only, so nothing is called once
 * unregistration returns.
 */
#include <linux/device.h>
#include <linux/module.h>

#include "gpup_nl.h"

/* the registry: both xarrays, parent->vfs and each mig->id/parent */
DEFINE_MUTEX(gpup_registry_lock);
DEFINE_XARRAY_ALLOC1(gpup_parents);
DEFINE_XARRAY_ALLOC1(gpup_vfs);
static u32 gpup_parent_next, gpup_vf_next;	/* under gpup_registry_lock */

/**
 * gpup_parent_register() - make a physical device known to management
 * @parent: filled by the backend: @parent->dev, ->driver and ->ops
 *
 * Context: process context; takes the registry lock.
 * Return: 0, -EINVAL when an op or the device is missing, or -ENOMEM /
 * -EBUSY when no id is left.
 */
int gpup_parent_register(struct gpup_parent *parent)
{
	int ret;

	if (!parent->dev || !parent->ops || !parent->ops->vram || !parent->ops->profile)
		return -EINVAL;
	mutex_lock(&gpup_registry_lock);
	parent->vfs = 0;
	ret = xa_alloc_cyclic(&gpup_parents, &parent->id, parent, xa_limit_31b,
			      &gpup_parent_next, GFP_KERNEL);
	mutex_unlock(&gpup_registry_lock);
	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_GPL(gpup_parent_register);

/**
 * gpup_parent_unregister() - forget a parent, after its last VF
 * @parent: as registered
 *
 * When it returns, management calls none of @parent's ops any more.
 * Context: process context; takes the registry lock.
 */
void gpup_parent_unregister(struct gpup_parent *parent)
{
	mutex_lock(&gpup_registry_lock);
	WARN_ON(parent->vfs);
	xa_erase(&gpup_parents, parent->id);
	parent->id = 0;
	mutex_unlock(&gpup_registry_lock);
}
EXPORT_SYMBOL_GPL(gpup_parent_unregister);

/**
 * gpup_mig_register() - list a VF under its parent for management
 * @mig: the VF's migration state, after gpup_mig_init(); its ops must
 *	have @info
 * @parent: a registered parent
 *
 * Context: process context; takes the registry lock.
 * Return: 0, -EINVAL without an info op, -ENODEV for a parent not
 * registered, or an error allocating the VF's id.
 */
int gpup_mig_register(struct gpup_mig *mig, struct gpup_parent *parent)
{
	u32 id;
	int ret;

	if (!mig->ops->info)
		return -EINVAL;
	mutex_lock(&gpup_registry_lock);
	if (!parent->id) {
		ret = -ENODEV;
		goto out;
	}
	ret = xa_alloc_cyclic(&gpup_vfs, &id, mig, xa_limit_31b, &gpup_vf_next,
			      GFP_KERNEL);
	if (ret < 0)
		goto out;
	WRITE_ONCE(mig->id, id);	/* notifications read it without the lock */
	mig->parent = parent;
	parent->vfs++;
	ret = 0;
out:
	mutex_unlock(&gpup_registry_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gpup_mig_register);

/**
 * gpup_mig_unregister() - take a VF off the management lists
 * @mig: registered or not
 *
 * Call it before the VF is torn down: when it returns, management calls
 * none of the VF's ops any more.
 * Context: process context; takes the registry lock.
 */
void gpup_mig_unregister(struct gpup_mig *mig)
{
	mutex_lock(&gpup_registry_lock);
	if (mig->id) {
		xa_erase(&gpup_vfs, mig->id);
		mig->parent->vfs--;
		mig->parent = NULL;
		WRITE_ONCE(mig->id, 0);
	}
	mutex_unlock(&gpup_registry_lock);
}
EXPORT_SYMBOL_GPL(gpup_mig_unregister);
