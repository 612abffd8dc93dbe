// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/gpup.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "gpup_nl_gen.h"

#include <uapi/linux/gpup_netlink.h>

/* GPUP_CMD_PROFILE_GET - dump */
static const struct nla_policy gpup_profile_get_nl_policy[GPUP_A_PROFILE_PARENT_ID + 1] = {
	[GPUP_A_PROFILE_PARENT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* GPUP_CMD_VF_GET - do */
static const struct nla_policy gpup_vf_get_do_nl_policy[GPUP_A_VF_NAME + 1] = {
	[GPUP_A_VF_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[GPUP_A_VF_NAME] = { .type = NLA_NUL_STRING, .len = GPUP_NAME_MAX_LEN, },
};

/* GPUP_CMD_VF_GET - dump */
static const struct nla_policy gpup_vf_get_dump_nl_policy[GPUP_A_VF_PARENT_ID + 1] = {
	[GPUP_A_VF_PARENT_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* GPUP_CMD_VF_CLEAR_STATS - do */
static const struct nla_policy gpup_vf_clear_stats_nl_policy[GPUP_A_VF_NAME + 1] = {
	[GPUP_A_VF_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[GPUP_A_VF_NAME] = { .type = NLA_NUL_STRING, .len = GPUP_NAME_MAX_LEN, },
};

/* Ops table for gpup */
static const struct genl_split_ops gpup_nl_ops[] = {
	{
		.cmd	= GPUP_CMD_PARENT_GET,
		.dumpit	= gpup_nl_parent_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= GPUP_CMD_PROFILE_GET,
		.dumpit		= gpup_nl_profile_get_dumpit,
		.policy		= gpup_profile_get_nl_policy,
		.maxattr	= GPUP_A_PROFILE_PARENT_ID,
		.flags		= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= GPUP_CMD_VF_GET,
		.doit		= gpup_nl_vf_get_doit,
		.policy		= gpup_vf_get_do_nl_policy,
		.maxattr	= GPUP_A_VF_NAME,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= GPUP_CMD_VF_GET,
		.dumpit		= gpup_nl_vf_get_dumpit,
		.policy		= gpup_vf_get_dump_nl_policy,
		.maxattr	= GPUP_A_VF_PARENT_ID,
		.flags		= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= GPUP_CMD_VF_CLEAR_STATS,
		.doit		= gpup_nl_vf_clear_stats_doit,
		.policy		= gpup_vf_clear_stats_nl_policy,
		.maxattr	= GPUP_A_VF_NAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group gpup_nl_mcgrps[] = {
	[GPUP_NLGRP_MIG] = { "mig", },
};

struct genl_family gpup_nl_family __ro_after_init = {
	.name		= GPUP_FAMILY_NAME,
	.version	= GPUP_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= gpup_nl_ops,
	.n_split_ops	= ARRAY_SIZE(gpup_nl_ops),
	.mcgrps		= gpup_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(gpup_nl_mcgrps),
};
