// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: the "gpup" generic netlink family.
 *
 * Documentation/netlink/specs/gpup.yaml is the specification.  The
 * family, its policies (exactly the request attributes the spec lists for
 * each operation, with its checks) and its table of operations are the
 * kernel's netlink generator's output from it, in gpup_nl_gen.c; the
 * handlers here are declared in gpup_nl_gen.h.  tools/testing/gpup/gpup-nlgen
 * regenerates both.  Operations run in parallel: gpup_registry_lock
 * serialises what must be.  Reading needs no privilege; vf-clear-stats
 * needs CAP_NET_ADMIN.  Every migration state change, progress report and
 * stream result goes to the "mig" multicast group.
 *
 * Dumps resume from the id after the last one sent, so a dump running
 * while VFs come and go sends each VF that lived throughout it exactly
 * once.
 */
#include <linux/device.h>
#include <net/genetlink.h>

#include "gpup_compat.h"
#include "gpup_nl.h"
#include "gpup_nl_gen.h"

/* Where a dump goes on in its next message */
struct gpup_nl_dump_ctx {
	unsigned long id;	/* next parent or VF id */
	unsigned int idx;	/* next profile of that parent */
};

static struct gpup_nl_dump_ctx *gpup_nl_dump_ctx(struct netlink_callback *cb)
{
	NL_ASSERT_CTX_FITS(struct gpup_nl_dump_ctx);
	return (struct gpup_nl_dump_ctx *)cb->ctx;
}

static u32 gpup_nl_dump_parent_filter(struct netlink_callback *cb, int attr)
{
	const struct genl_info *info = genl_info_dump(cb);

	return info->attrs && info->attrs[attr] ? nla_get_u32(info->attrs[attr]) : 0;
}

/* parent-get */

static int gpup_nl_parent_fill(struct sk_buff *skb, struct gpup_parent *parent,
			       const struct genl_info *info)
{
	u64 total, free;
	void *hdr;

	parent->ops->vram(parent, &total, &free);
	hdr = genlmsg_iput(skb, info);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, GPUP_A_PARENT_ID, parent->id) ||
	    nla_put_string(skb, GPUP_A_PARENT_NAME, dev_name(parent->dev)) ||
	    nla_put_string(skb, GPUP_A_PARENT_DRIVER, parent->driver) ||
	    nla_put_u64_64bit(skb, GPUP_A_PARENT_VRAM_TOTAL, total, GPUP_A_PARENT_PAD) ||
	    nla_put_u64_64bit(skb, GPUP_A_PARENT_VRAM_FREE, free, GPUP_A_PARENT_PAD) ||
	    nla_put_u32(skb, GPUP_A_PARENT_VFS, parent->vfs)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int gpup_nl_parent_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct gpup_nl_dump_ctx *ctx = gpup_nl_dump_ctx(cb);
	struct gpup_parent *parent;
	int err = 0;

	mutex_lock(&gpup_registry_lock);
	xa_for_each_start(&gpup_parents, ctx->id, parent, ctx->id) {
		err = gpup_nl_parent_fill(skb, parent, genl_info_dump(cb));
		if (err)
			break;
	}
	mutex_unlock(&gpup_registry_lock);
	return err == -EMSGSIZE && skb->len ? skb->len : err;
}

/* profile-get */

static int gpup_nl_profile_fill(struct sk_buff *skb, struct gpup_parent *parent,
				const struct gpup_profile_info *pi,
				const struct genl_info *info)
{
	void *hdr;

	hdr = genlmsg_iput(skb, info);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, GPUP_A_PROFILE_PARENT_ID, parent->id) ||
	    nla_put_u32(skb, GPUP_A_PROFILE_ID, pi->id) ||
	    nla_put_string(skb, GPUP_A_PROFILE_NAME, pi->name) ||
	    nla_put_u64_64bit(skb, GPUP_A_PROFILE_VRAM_SIZE, pi->vram_size,
			      GPUP_A_PROFILE_PAD) ||
	    nla_put_u32(skb, GPUP_A_PROFILE_ENGINES, pi->engines) ||
	    nla_put_u32(skb, GPUP_A_PROFILE_AVAILABLE, pi->available)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int gpup_nl_profiles_of(struct sk_buff *skb, struct gpup_parent *parent,
			       struct netlink_callback *cb, struct gpup_nl_dump_ctx *ctx)
{
	struct gpup_profile_info pi;
	int err;

	for (;; ctx->idx++) {
		memset(&pi, 0, sizeof(pi));
		err = parent->ops->profile(parent, ctx->idx, &pi);
		if (err == -ENOENT)
			break;
		if (err)
			return err;
		err = gpup_nl_profile_fill(skb, parent, &pi, genl_info_dump(cb));
		if (err)
			return err;
	}
	ctx->idx = 0;
	return 0;
}

int gpup_nl_profile_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	u32 only = gpup_nl_dump_parent_filter(cb, GPUP_A_PROFILE_PARENT_ID);
	struct gpup_nl_dump_ctx *ctx = gpup_nl_dump_ctx(cb);
	unsigned long resumed = ctx->id;
	struct gpup_parent *parent;
	int err = 0;

	mutex_lock(&gpup_registry_lock);
	xa_for_each_start(&gpup_parents, ctx->id, parent, ctx->id) {
		/* the parent the last message stopped in may have gone */
		if (ctx->id != resumed)
			ctx->idx = 0;
		if (only && parent->id != only)
			continue;
		err = gpup_nl_profiles_of(skb, parent, cb, ctx);
		if (err)
			break;
	}
	mutex_unlock(&gpup_registry_lock);
	return err == -EMSGSIZE && skb->len ? skb->len : err;
}

/* vf-get, vf-clear-stats */

/* The name is the VF's identity; an id that went away is not "found" */
static int gpup_nl_put_vf_id(struct sk_buff *skb, struct gpup_mig *mig)
{
	u32 id = READ_ONCE(mig->id);

	if (id && nla_put_u32(skb, GPUP_A_VF_ID, id))
		return -EMSGSIZE;
	return nla_put_string(skb, GPUP_A_VF_NAME, dev_name(mig->vdev->dev));
}

static int gpup_nl_put_stats(struct sk_buff *skb, const struct gpup_mig_stats *st,
			     const char *err, const char *field)
{
	if (nla_put_u64_64bit(skb, GPUP_A_VF_PRECOPY_BYTES, st->precopy_bytes,
			      GPUP_A_VF_PAD) ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_STOPCOPY_BYTES, st->stopcopy_bytes,
			      GPUP_A_VF_PAD) ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_RESUME_BYTES, st->resume_bytes,
			      GPUP_A_VF_PAD) ||
	    nla_put_u32(skb, GPUP_A_VF_ROUNDS, st->rounds))
		return -EMSGSIZE;
	if (err[0] && nla_put_string(skb, GPUP_A_VF_ERROR, err))
		return -EMSGSIZE;
	if (field[0] && nla_put_string(skb, GPUP_A_VF_ERROR_FIELD, field))
		return -EMSGSIZE;
	return 0;
}

/* What the VF's engines do, as the backend told it */
static int gpup_nl_put_engine(struct sk_buff *skb, const struct gpup_vf_info *vi)
{
	if (nla_put_u32(skb, GPUP_A_VF_ENGINES, vi->engines) ||
	    nla_put_u32(skb, GPUP_A_VF_ENGINE_STATE, vi->engine_state) ||
	    nla_put_u32(skb, GPUP_A_VF_FENCE, vi->fence) ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_ENGINE_TIME, vi->engine_time_ns,
			      GPUP_A_VF_PAD) ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_ENGINE_THROTTLED, vi->engine_throttled_ns,
			      GPUP_A_VF_PAD) ||
	    nla_put_u32(skb, GPUP_A_VF_ENGINE_BACKLOG, vi->engine_backlog) ||
	    nla_put_u32(skb, GPUP_A_VF_ENGINE_BUDGET, vi->engine_budget))
		return -EMSGSIZE;
	return 0;
}

static void gpup_nl_snapshot(struct gpup_mig *mig, struct gpup_mig_stats *st,
			     char *err, char *field)
{
	spin_lock(&mig->info_lock);
	*st = mig->stats;
	strscpy(err, mig->last_error, sizeof(mig->last_error));
	strscpy(field, mig->error_field, sizeof(mig->error_field));
	spin_unlock(&mig->info_lock);
}

static int gpup_nl_vf_attrs(struct sk_buff *skb, struct gpup_mig *mig)
{
	char err[sizeof(mig->last_error)], field[sizeof(mig->error_field)];
	struct gpup_vf_info vi = {};
	struct gpup_mig_stats st;
	u64 pending;

	mig->ops->info(mig, &vi);
	gpup_nl_snapshot(mig, &st, err, field);
	if (gpup_nl_put_vf_id(skb, mig) ||
	    nla_put_u32(skb, GPUP_A_VF_PARENT_ID, mig->parent->id) ||
	    nla_put_u32(skb, GPUP_A_VF_PROFILE_ID, vi.profile_id) ||
	    nla_put_string(skb, GPUP_A_VF_PROFILE_NAME, vi.profile_name ?: "") ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_VRAM_SIZE, mig->vram_size, GPUP_A_VF_PAD) ||
	    nla_put_u64_64bit(skb, GPUP_A_VF_VRAM_USED, vi.vram_used, GPUP_A_VF_PAD) ||
	    gpup_nl_put_engine(skb, &vi) ||
	    nla_put_u32(skb, GPUP_A_VF_MIG_STATE, READ_ONCE(mig->state)) ||
	    gpup_nl_put_stats(skb, &st, err, field) ||
	    nla_put_u32(skb, GPUP_A_VF_MIGRATIONS, st.migrations))
		return -EMSGSIZE;
	if (gpup_mig_pending(mig, &pending) &&
	    nla_put_u64_64bit(skb, GPUP_A_VF_PENDING_BYTES, pending, GPUP_A_VF_PAD))
		return -EMSGSIZE;
	return 0;
}

static int gpup_nl_vf_fill(struct sk_buff *skb, struct gpup_mig *mig,
			   const struct genl_info *info)
{
	void *hdr;

	hdr = genlmsg_iput(skb, info);
	if (!hdr)
		return -EMSGSIZE;
	if (gpup_nl_vf_attrs(skb, mig)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* The VF a request names by id, name or both; gpup_registry_lock held */
static struct gpup_mig *gpup_nl_find_vf(struct genl_info *info)
{
	struct nlattr *id_attr = info->attrs[GPUP_A_VF_ID];
	struct nlattr *name_attr = info->attrs[GPUP_A_VF_NAME];
	struct gpup_mig *mig = NULL, *it;
	unsigned long id;

	lockdep_assert_held(&gpup_registry_lock);
	if (!id_attr && !name_attr) {
		NL_SET_ERR_MSG(info->extack, "name the VF by id or name");
		return ERR_PTR(-EINVAL);
	}
	if (id_attr) {
		mig = xa_load(&gpup_vfs, nla_get_u32(id_attr));
	} else {
		xa_for_each(&gpup_vfs, id, it) {
			if (!nla_strcmp(name_attr, dev_name(it->vdev->dev))) {
				mig = it;
				break;
			}
		}
	}
	if (!mig) {
		NL_SET_BAD_ATTR(info->extack, id_attr ?: name_attr);
		NL_SET_ERR_MSG(info->extack, "no such VF");
		return ERR_PTR(-ENODEV);
	}
	if (id_attr && name_attr && nla_strcmp(name_attr, dev_name(mig->vdev->dev))) {
		NL_SET_BAD_ATTR(info->extack, name_attr);
		NL_SET_ERR_MSG(info->extack, "id and name are of different VFs");
		return ERR_PTR(-EINVAL);
	}
	return mig;
}

int gpup_nl_vf_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct gpup_mig *mig;
	struct sk_buff *rsp;
	int err;

	rsp = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!rsp)
		return -ENOMEM;
	mutex_lock(&gpup_registry_lock);
	mig = gpup_nl_find_vf(info);
	err = IS_ERR(mig) ? PTR_ERR(mig) : gpup_nl_vf_fill(rsp, mig, info);
	mutex_unlock(&gpup_registry_lock);
	if (err) {
		nlmsg_free(rsp);
		return err;
	}
	return genlmsg_reply(rsp, info);
}

int gpup_nl_vf_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	u32 only = gpup_nl_dump_parent_filter(cb, GPUP_A_VF_PARENT_ID);
	struct gpup_nl_dump_ctx *ctx = gpup_nl_dump_ctx(cb);
	struct gpup_mig *mig;
	int err = 0;

	mutex_lock(&gpup_registry_lock);
	xa_for_each_start(&gpup_vfs, ctx->id, mig, ctx->id) {
		if (only && mig->parent->id != only)
			continue;
		err = gpup_nl_vf_fill(skb, mig, genl_info_dump(cb));
		if (err)
			break;
	}
	mutex_unlock(&gpup_registry_lock);
	return err == -EMSGSIZE && skb->len ? skb->len : err;
}

int gpup_nl_vf_clear_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct gpup_mig *mig;
	int err = 0;

	mutex_lock(&gpup_registry_lock);
	mig = gpup_nl_find_vf(info);
	if (IS_ERR(mig)) {
		err = PTR_ERR(mig);
		goto out;
	}
	err = gpup_mig_clear_stats(mig);
	if (err)
		NL_SET_ERR_MSG(info->extack, "a migration stream is open on the VF");
out:
	mutex_unlock(&gpup_registry_lock);
	return err;
}

/* Notifications */

bool gpup_nl_listening(void)
{
	return genl_has_listeners(&gpup_nl_family, &init_net, GPUP_NLGRP_MIG);
}

static struct sk_buff *gpup_nl_ntf_new(struct gpup_mig *mig, u8 cmd, void **hdr)
{
	struct sk_buff *skb;

	if (!gpup_nl_listening())
		return NULL;
	skb = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &gpup_nl_family, 0, cmd);
	if (!*hdr || gpup_nl_put_vf_id(skb, mig)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void gpup_nl_ntf_send(struct sk_buff *skb, void *hdr, int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&gpup_nl_family, skb, 0, GPUP_NLGRP_MIG, GFP_KERNEL);
}

void gpup_nl_state(struct gpup_mig *mig, enum vfio_device_mig_state old,
		   enum vfio_device_mig_state new)
{
	struct sk_buff *skb;
	void *hdr;

	skb = gpup_nl_ntf_new(mig, GPUP_CMD_MIG_STATE_NTF, &hdr);
	if (!skb)
		return;
	gpup_nl_ntf_send(skb, hdr, nla_put_u32(skb, GPUP_A_VF_MIG_STATE, new) ||
			 nla_put_u32(skb, GPUP_A_VF_OLD_MIG_STATE, old));
}

void gpup_nl_progress(struct gpup_mig *mig, u64 pending)
{
	struct gpup_mig_stats st;
	struct sk_buff *skb;
	void *hdr;

	skb = gpup_nl_ntf_new(mig, GPUP_CMD_MIG_PROGRESS_NTF, &hdr);
	if (!skb)
		return;
	spin_lock(&mig->info_lock);
	st = mig->stats;
	spin_unlock(&mig->info_lock);
	gpup_nl_ntf_send(skb, hdr,
			 nla_put_u32(skb, GPUP_A_VF_MIG_STATE, READ_ONCE(mig->state)) ||
			 nla_put_u32(skb, GPUP_A_VF_ROUNDS, st.rounds) ||
			 nla_put_u64_64bit(skb, GPUP_A_VF_PRECOPY_BYTES, st.precopy_bytes,
					   GPUP_A_VF_PAD) ||
			 nla_put_u64_64bit(skb, GPUP_A_VF_STOPCOPY_BYTES, st.stopcopy_bytes,
					   GPUP_A_VF_PAD) ||
			 nla_put_u64_64bit(skb, GPUP_A_VF_PENDING_BYTES, pending,
					   GPUP_A_VF_PAD));
}

void gpup_nl_done(struct gpup_mig *mig, enum gpup_mig_dir dir,
		  enum gpup_mig_result result)
{
	char err[sizeof(mig->last_error)], field[sizeof(mig->error_field)];
	struct gpup_mig_stats st;
	struct sk_buff *skb;
	void *hdr;

	skb = gpup_nl_ntf_new(mig, GPUP_CMD_MIG_DONE_NTF, &hdr);
	if (!skb)
		return;
	gpup_nl_snapshot(mig, &st, err, field);
	gpup_nl_ntf_send(skb, hdr, nla_put_u32(skb, GPUP_A_VF_DIRECTION, dir) ||
			 nla_put_u32(skb, GPUP_A_VF_RESULT, result) ||
			 gpup_nl_put_stats(skb, &st, err, field));
}

int gpup_nl_init(void)
{
	/*
	 * The generator makes every family it writes usable from any network
	 * namespace.  This one lives in the initial namespace only, as the
	 * devices are not per namespace (and its reports go there alone):
	 * said here, while the family is still writable (module init).
	 */
	gpup_nl_family.netnsok = false;
	return genl_register_family(&gpup_nl_family);
}

void gpup_nl_exit(void)
{
	genl_unregister_family(&gpup_nl_family);
}
