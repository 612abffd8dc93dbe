/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/gpup.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_GPUP_GEN_H
#define _LINUX_GPUP_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/gpup_netlink.h>

int gpup_nl_parent_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int gpup_nl_profile_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int gpup_nl_vf_get_doit(struct sk_buff *skb, struct genl_info *info);
int gpup_nl_vf_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int gpup_nl_vf_clear_stats_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	GPUP_NLGRP_MIG,
};

extern struct genl_family gpup_nl_family;

#endif /* _LINUX_GPUP_GEN_H */
