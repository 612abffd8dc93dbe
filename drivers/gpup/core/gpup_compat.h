/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup: what differs between the kernels gpup builds against.
 *
 * The code is written against the newest kernel API it supports (Debian's
 * 7.3 kernel); this header gives older kernels (Debian's 6.12) that API.
 * It is the one place for such differences, so that the .c files read as
 * ordinary kernel code and a difference is dropped here, in one line, when
 * the oldest kernel no longer needs it.
 *
 * Each entry tests for the feature itself where the kernel lets it: a macro
 * that is defined or not, a Kconfig symbol.  LINUX_VERSION_CODE is the last
 * resort, for a change nothing else reveals (a function's arguments, a
 * structure's members), and then the entry names the release that made it.
 */
#ifndef _GPUP_COMPAT_H_
#define _GPUP_COMPAT_H_

#include <linux/kthread.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>

/**
 * NL_ASSERT_CTX_FITS() - fail the build if a dump's state outgrows cb->ctx
 * @type_name: the type kept in &struct netlink_callback's ctx
 *
 * Kernels after 6.12 have only this name; 6.12 calls the same check
 * NL_ASSERT_DUMP_CTX_FITS().
 */
#ifndef NL_ASSERT_CTX_FITS
#define NL_ASSERT_CTX_FITS(type_name) NL_ASSERT_DUMP_CTX_FITS(type_name)
#endif

/*
 * VFIO_DEVICE_GET_REGION_INFO: since 6.19 the VFIO core answers it.  It
 * copies the arguments in and out and asks the driver's
 * vfio_device_ops.get_region_info_caps(); the command no longer reaches
 * the driver's .ioctl, and a driver without the op fails it with -EINVAL.
 * Before 6.19 the driver's .ioctl did it all.  No macro tells whether a
 * structure has a member: hence the version.
 *
 * A driver implements the op, lists it in its vfio_device_ops with
 * GPUP_VFIO_OPS_REGION_INFO(), and passes the command from its .ioctl to
 * gpup_compat_region_info(), which only older kernels ever call.
 */
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
#define GPUP_VFIO_OPS_REGION_INFO(fn)	.get_region_info_caps = (fn),
#else
#define GPUP_VFIO_OPS_REGION_INFO(fn)
#endif

/**
 * gpup_compat_region_info() - the VFIO core's part of GET_REGION_INFO
 * @vdev: the VFIO device
 * @arg: the user's struct vfio_region_info
 * @get: the driver's get_region_info_caps() op
 *
 * Copies the arguments in, calls @get, and copies its answer out, as the
 * core does from 6.19 on.  gpup's regions have no capabilities: @get adds
 * none.
 *
 * Context: process context; what @get needs.
 * Return: 0, or a negative errno from the copies or from @get.
 */
static inline long
gpup_compat_region_info(struct vfio_device *vdev, void __user *arg,
			int (*get)(struct vfio_device *vdev, struct vfio_region_info *info,
				   struct vfio_info_cap *caps))
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info = {};
	struct vfio_info_cap caps = {};
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = get(vdev, &info, &caps);
	if (!ret && WARN_ON_ONCE(caps.size))
		ret = -EINVAL;
	if (!ret && copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
	kfree(caps.buf);
	return ret;
}

/*
 * kthread_run_worker() - a kthread worker, created and woken.  Since 6.14
 * kthread_create_worker() leaves the thread asleep and this macro wakes
 * it; before, kthread_create_worker() woke it itself.
 */
#ifndef kthread_run_worker
#define kthread_run_worker(flags, namefmt, ...) \
	kthread_create_worker(flags, namefmt, ## __VA_ARGS__)
#endif

#endif /* _GPUP_COMPAT_H_ */
