/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup migration core: what crosses between the registry of parents and
 * VFs (registry.c), the "gpup" generic netlink family (netlink.c) and the
 * migration code that reports to it (mig.c, file.c).
 */
#ifndef _GPUP_NL_H_
#define _GPUP_NL_H_

#include <linux/mutex.h>
#include <linux/xarray.h>

#include "gpup_mig.h"

/* Parents and VFs by id; entries live while gpup_registry_lock is held */
extern struct mutex gpup_registry_lock;
extern struct xarray gpup_parents;
extern struct xarray gpup_vfs;

/* For netlink.c, from mig.c */
bool gpup_mig_pending(struct gpup_mig *mig, u64 *bytes);
int gpup_mig_clear_stats(struct gpup_mig *mig);

int gpup_nl_init(void);
void gpup_nl_exit(void);

/* Multicast reports; each costs nothing when nobody listens */
bool gpup_nl_listening(void);
void gpup_nl_state(struct gpup_mig *mig, enum vfio_device_mig_state old,
		   enum vfio_device_mig_state new);
void gpup_nl_progress(struct gpup_mig *mig, u64 pending);
void gpup_nl_done(struct gpup_mig *mig, enum gpup_mig_dir dir,
		  enum gpup_mig_result result);

#endif /* _GPUP_NL_H_ */
