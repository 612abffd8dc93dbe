// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpupctl netlink access: the "gpup" generic netlink family through
 * libnl-genl-3.  The attribute tables mirror
 * Documentation/netlink/specs/gpup.yaml; every attribute the kernel sends
 * is checked for its type's length before it is used, and unknown ones
 * are skipped, so a newer kernel adding attributes still works.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <linux/gpup_netlink.h>

#include "gpupctl.h"

static const char * const mig_state_names[] = {
	"error", "stop", "running", "stop-copy", "resuming", "running-p2p",
	"pre-copy", "pre-copy-p2p", NULL
};

static const char * const engine_state_names[] = {
	"idle", "busy", "halted", "quiesced", NULL
};

static const char * const mig_dir_names[] = { "save", "resume", NULL };
static const char * const mig_result_names[] = { "ok", "failed", "cancelled", NULL };

#define FIELD(a, k, t)		{ a, k, t, NULL }
/* an enum attribute with its value names */
#define ENUM(a, k, names)	{ a, k, GPUP_K_ENUM, names }

static const struct gpup_field parent_fields[] = {
	FIELD(GPUP_A_PARENT_ID, "id", GPUP_K_U32),
	FIELD(GPUP_A_PARENT_NAME, "name", GPUP_K_STR),
	FIELD(GPUP_A_PARENT_DRIVER, "driver", GPUP_K_STR),
	FIELD(GPUP_A_PARENT_VRAM_TOTAL, "vram_total", GPUP_K_U64),
	FIELD(GPUP_A_PARENT_VRAM_FREE, "vram_free", GPUP_K_U64),
	FIELD(GPUP_A_PARENT_VFS, "vfs", GPUP_K_U32),
};

static const struct gpup_field profile_fields[] = {
	FIELD(GPUP_A_PROFILE_PARENT_ID, "parent_id", GPUP_K_U32),
	FIELD(GPUP_A_PROFILE_ID, "id", GPUP_K_U32),
	FIELD(GPUP_A_PROFILE_NAME, "name", GPUP_K_STR),
	FIELD(GPUP_A_PROFILE_VRAM_SIZE, "vram_size", GPUP_K_U64),
	FIELD(GPUP_A_PROFILE_ENGINES, "engines", GPUP_K_U32),
	FIELD(GPUP_A_PROFILE_AVAILABLE, "available", GPUP_K_U32),
};

static const struct gpup_field vf_fields[] = {
	FIELD(GPUP_A_VF_ID, "id", GPUP_K_U32),
	FIELD(GPUP_A_VF_NAME, "name", GPUP_K_STR),
	FIELD(GPUP_A_VF_PARENT_ID, "parent_id", GPUP_K_U32),
	FIELD(GPUP_A_VF_PROFILE_ID, "profile_id", GPUP_K_U32),
	FIELD(GPUP_A_VF_PROFILE_NAME, "profile_name", GPUP_K_STR),
	FIELD(GPUP_A_VF_VRAM_SIZE, "vram_size", GPUP_K_U64),
	FIELD(GPUP_A_VF_VRAM_USED, "vram_used", GPUP_K_U64),
	FIELD(GPUP_A_VF_ENGINES, "engines", GPUP_K_U32),
	ENUM(GPUP_A_VF_ENGINE_STATE, "engine_state", engine_state_names),
	FIELD(GPUP_A_VF_FENCE, "fence", GPUP_K_U32),
	ENUM(GPUP_A_VF_MIG_STATE, "mig_state", mig_state_names),
	ENUM(GPUP_A_VF_OLD_MIG_STATE, "old_mig_state", mig_state_names),
	FIELD(GPUP_A_VF_PRECOPY_BYTES, "precopy_bytes", GPUP_K_U64),
	FIELD(GPUP_A_VF_STOPCOPY_BYTES, "stopcopy_bytes", GPUP_K_U64),
	FIELD(GPUP_A_VF_RESUME_BYTES, "resume_bytes", GPUP_K_U64),
	FIELD(GPUP_A_VF_PENDING_BYTES, "pending_bytes", GPUP_K_U64),
	FIELD(GPUP_A_VF_ROUNDS, "rounds", GPUP_K_U32),
	FIELD(GPUP_A_VF_MIGRATIONS, "migrations", GPUP_K_U32),
	FIELD(GPUP_A_VF_ERROR, "error", GPUP_K_STR),
	FIELD(GPUP_A_VF_ERROR_FIELD, "error_field", GPUP_K_STR),
	ENUM(GPUP_A_VF_DIRECTION, "direction", mig_dir_names),
	ENUM(GPUP_A_VF_RESULT, "result", mig_result_names),
	FIELD(GPUP_A_VF_ENGINE_TIME, "engine_time", GPUP_K_U64),
	FIELD(GPUP_A_VF_ENGINE_THROTTLED, "engine_throttled", GPUP_K_U64),
	FIELD(GPUP_A_VF_ENGINE_BACKLOG, "engine_backlog", GPUP_K_U32),
	FIELD(GPUP_A_VF_ENGINE_BUDGET, "engine_budget", GPUP_K_U32),
};

static_assert(GPUP_A_VF_MAX <= GPUP_OBJ_MAX_ATTR, "attributes fit the bitmap");

const struct gpup_set gpup_parent_set = { "parent", parent_fields, ARRAY_SIZE(parent_fields) };
const struct gpup_set gpup_profile_set = { "profile", profile_fields, ARRAY_SIZE(profile_fields) };
const struct gpup_set gpup_vf_set = { "vf", vf_fields, ARRAY_SIZE(vf_fields) };

void gpup_obj_free(struct gpup_obj *o)
{
	unsigned int i;

	for (i = 0; i <= GPUP_OBJ_MAX_ATTR; i++)
		free(o->str[i]);
	memset(o->str, 0, sizeof(o->str));
	o->present = 0;
}

void gpup_objs_free(struct gpup_objs *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		gpup_obj_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One attribute into @o; a malformed one is dropped, never trusted */
static int obj_put(struct gpup_obj *o, const struct nlattr *nla)
{
	const struct gpup_field *fl = gpup_set_field(o->set, nla_type(nla));
	int len = nla_len(nla), attr;
	const char *s;

	if (!fl)
		return 0;
	attr = fl->attr;
	switch (fl->kind) {
	case GPUP_K_U64:
		if (len < 8)
			return 0;
		o->num[attr] = nla_get_u64(nla);
		break;
	case GPUP_K_STR:
		s = nla_data(nla);
		if (len < 1 || !memchr(s, '\0', len))
			return 0;
		free(o->str[attr]);
		o->str[attr] = strdup(s);
		if (!o->str[attr])
			return -ENOMEM;
		break;
	default:
		if (len < 4)
			return 0;
		o->num[attr] = nla_get_u32(nla);
	}
	o->present |= 1U << attr;
	return 0;
}

static int obj_parse(struct gpup_obj *o, const struct gpup_set *set, struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *nla;
	int rem, ret;

	memset(o, 0, sizeof(*o));
	o->set = set;
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	nla_for_each_attr(nla, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		ret = obj_put(o, nla);
		if (ret) {
			gpup_obj_free(o);
			return ret;
		}
	}
	return 0;
}

struct gpup_nl {
	struct nl_sock *sk;
	int family;
	int err;		/* errno of the last request, negative */
	bool done;
	char msg[256];		/* the kernel's extended ack message */
	/* where the replies go */
	const struct gpup_set *set;
	struct gpup_objs *objs;
	struct gpup_obj *obj;
	gpup_ntf_cb ntf;
	void *ntf_ctx;
};

const char *gpup_nl_msg(const struct gpup_nl *nl)
{
	return nl->msg;
}

/* libnl's own error codes as errnos, for the ones a caller can act on */
static int nle_errno(int nle)
{
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INTR:
		return -EINTR;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

/* The extended ack attributes after an error or a dump's end */
static void nl_extack(struct gpup_nl *nl, const struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const char *s;
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      nlh->nlmsg_len - off, NULL) || !tb[NLMSGERR_ATTR_MSG])
		return;
	s = nla_data(tb[NLMSGERR_ATTR_MSG]);
	len = nla_len(tb[NLMSGERR_ATTR_MSG]);
	if (len < 1 || !memchr(s, '\0', len))
		return;
	snprintf(nl->msg, sizeof(nl->msg), "%s", s);
}

static int nl_on_error(struct sockaddr_nl *sa, struct nlmsgerr *e, void *arg)
{
	struct gpup_nl *nl = arg;
	/* libnl hands over the payload; the header sits right before it */
	const struct nlmsghdr *nlh = (const void *)((char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	nl->err = e->error > 0 ? -e->error : e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len > NLMSG_HDRLEN ? e->msg.nlmsg_len - NLMSG_HDRLEN : 0;
	nl_extack(nl, nlh, NLMSG_ALIGN(off));
	nl->done = true;
	return NL_STOP;
}

static int nl_on_ack(struct nl_msg *msg, void *arg)
{
	struct gpup_nl *nl = arg;

	nl->done = true;
	return NL_STOP;
}

/* A dump's NLMSG_DONE carries an errno when the dump failed midway */
static int nl_on_finish(struct nl_msg *msg, void *arg)
{
	struct gpup_nl *nl = arg;
	const struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0) {
			nl->err = err;
			nl_extack(nl, nlh, NLMSG_HDRLEN + sizeof(int));
		}
	}
	nl->done = true;
	return NL_STOP;
}

static int nl_on_valid(struct nl_msg *msg, void *arg)
{
	struct gpup_nl *nl = arg;
	struct gpup_obj *o;
	void *v;

	if (nl->obj) {
		gpup_obj_free(nl->obj);
		nl->err = obj_parse(nl->obj, nl->set, msg);
		return nl->err ? NL_STOP : NL_OK;
	}
	if (nl->objs->n == nl->objs->cap) {
		v = reallocarray(nl->objs->v, nl->objs->cap * 2 + 8, sizeof(*o));
		if (!v) {
			nl->err = -ENOMEM;
			return NL_STOP;
		}
		nl->objs->v = v;
		nl->objs->cap = nl->objs->cap * 2 + 8;
	}
	o = &nl->objs->v[nl->objs->n];
	nl->err = obj_parse(o, nl->set, msg);
	if (nl->err)
		return NL_STOP;
	nl->objs->n++;
	return NL_OK;
}

int gpup_nl_open(struct gpup_nl **nlp)
{
	struct gpup_nl *nl;
	int one = 1, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = genl_connect(nl->sk);
	if (ret) {
		ret = nle_errno(ret);
		goto err_sock;
	}
	/* the kernel's reason for a refusal, without the request echoed */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, GPUP_FAMILY_NAME);
	if (nl->family < 0) {
		ret = nle_errno(nl->family);
		goto err_sock;
	}
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, nl_on_valid, nl);
	nl_socket_modify_cb(nl->sk, NL_CB_ACK, NL_CB_CUSTOM, nl_on_ack, nl);
	nl_socket_modify_cb(nl->sk, NL_CB_FINISH, NL_CB_CUSTOM, nl_on_finish, nl);
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, nl_on_error, nl);
	*nlp = nl;
	return 0;

err_sock:
	nl_socket_free(nl->sk);
err_free:
	free(nl);
	return ret;
}

void gpup_nl_close(struct gpup_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

/* Send @msg and take replies until the ack, the error or the dump's end */
static int nl_request(struct gpup_nl *nl, struct nl_msg *msg)
{
	int ret;

	nl->err = 0;
	nl->done = false;
	nl->msg[0] = '\0';
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nle_errno(ret);
	while (!nl->done && !nl->err) {
		ret = nl_recvmsgs_default(nl->sk);
		if (ret < 0 && !nl->err)
			return nle_errno(ret);
	}
	return nl->err;
}

static struct nl_msg *nl_msg_new(struct gpup_nl *nl, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				flags | NLM_F_ACK, cmd, GPUP_FAMILY_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int gpup_nl_dump(struct gpup_nl *nl, int cmd, const struct gpup_set *set,
		 int filter_attr, uint32_t filter, struct gpup_objs *out)
{
	struct nl_msg *msg = nl_msg_new(nl, cmd, NLM_F_DUMP);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (filter_attr && nla_put_u32(msg, filter_attr, filter)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	memset(out, 0, sizeof(*out));
	nl->set = set;
	nl->objs = out;
	nl->obj = NULL;
	ret = nl_request(nl, msg);
	if (ret)
		gpup_objs_free(out);
	return ret;
}

int gpup_nl_vf_get(struct gpup_nl *nl, uint32_t id, const char *name, struct gpup_obj *out)
{
	struct nl_msg *msg = nl_msg_new(nl, GPUP_CMD_VF_GET, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (name ? nla_put_string(msg, GPUP_A_VF_NAME, name) :
		   nla_put_u32(msg, GPUP_A_VF_ID, id)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	memset(out, 0, sizeof(*out));
	out->set = &gpup_vf_set;
	nl->set = &gpup_vf_set;
	nl->obj = out;
	ret = nl_request(nl, msg);
	nl->obj = NULL;
	if (!ret && !gpup_has(out, GPUP_A_VF_ID))
		ret = -EBADMSG;		/* acked without a reply */
	if (ret)
		gpup_obj_free(out);
	return ret;
}

int gpup_nl_vf_clear_stats(struct gpup_nl *nl, uint32_t id)
{
	struct nl_msg *msg = nl_msg_new(nl, GPUP_CMD_VF_CLEAR_STATS, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, GPUP_A_VF_ID, id)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return nl_request(nl, msg);
}

static int nl_on_ntf(struct nl_msg *msg, void *arg)
{
	struct gpup_nl *nl = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh;
	struct gpup_obj o;

	if (!genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	gnlh = nlmsg_data(nlh);
	if (gnlh->cmd < GPUP_CMD_MIG_STATE_NTF || gnlh->cmd > GPUP_CMD_MIG_DONE_NTF)
		return NL_SKIP;
	if (obj_parse(&o, &gpup_vf_set, msg))
		return NL_SKIP;
	nl->ntf(nl->ntf_ctx, gnlh->cmd, &o);
	gpup_obj_free(&o);
	return NL_OK;
}

/*
 * Subscribe to the "mig" group and hand every notification to @cb until
 * @stop_fd (a signalfd) is readable.  A receive buffer overrun loses
 * events: @cb gets cmd 0 for it, and the monitor goes on.
 */
int gpup_nl_monitor(struct gpup_nl *nl, gpup_ntf_cb cb, void *ctx, int stop_fd)
{
	struct gpup_obj lost = { .set = &gpup_vf_set };
	struct pollfd pfd[2];
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, GPUP_FAMILY_NAME, GPUP_MCGRP_MIG);
	if (grp < 0)
		return nle_errno(grp);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret)
		return nle_errno(ret);
	nl_socket_disable_seq_check(nl->sk);
	nl->ntf = cb;
	nl->ntf_ctx = ctx;
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, nl_on_ntf, nl);
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 0);

	pfd[0].fd = nl_socket_get_fd(nl->sk);
	pfd[0].events = POLLIN;
	pfd[1].fd = stop_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		ret = poll(pfd, 2, -1);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		if (pfd[1].revents)
			return 0;
		ret = nl_recvmsgs_default(nl->sk);
		if (ret >= 0)
			continue;
		ret = nle_errno(ret);
		if (ret != -ENOMEM)
			return ret;
		cb(ctx, 0, &lost);	/* ENOBUFS: the socket overflowed */
	}
}
