// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command engine of a gpup VF.
 *
 * The guest writes 32-byte commands into a ring in its own VRAM, moves
 * RING_TAIL and rings the doorbell.  A work item then consumes commands
 * from RING_HEAD to RING_TAIL.  Each command is validated against the VF's
 * own VRAM before it runs; a bad one halts the engine with ERROR and
 * ERROR_HEAD set and raises GPUP_INT_ERROR, and only a reset restarts it.
 * Nothing a guest writes can make the engine touch memory outside its VF,
 * allocate more than its profile's VRAM, or run without yielding: long
 * commands run in chunks and the work item requeues itself after a batch.
 */
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include "gpup_sim.h"
#include "trace.h"

#define GPUP_ENGINE_CHUNK	SZ_1M	/* bytes between stop checks */
#define GPUP_ENGINE_BATCH	64	/* commands per work run */

static_assert(sizeof(struct gpup_cmd) == 32);
static_assert(sizeof(struct gpup_sim_ctx) == 64);
static_assert(sizeof(struct gpup_sim_ctx) + GPUP_SIM_CTX_SLOTS * 32 <=
	      GPUP_SIM_CTX_SIZE);

static bool range_ok(u64 off, u64 len, u64 size)
{
	return off <= size && len <= size - off;
}

enum gpup_engine_error gpup_ring_validate(const struct gpup_regs *regs,
					  u64 vram_size)
{
	u32 size = regs->ring_size;

	if (size < GPUP_RING_MIN_SIZE || size > GPUP_RING_MAX_SIZE ||
	    !is_power_of_2(size))
		return GPUP_ERR_RING;
	if (!IS_ALIGNED(regs->ring_base, GPUP_RING_ALIGN) ||
	    !range_ok(regs->ring_base, size, vram_size))
		return GPUP_ERR_RING;
	/* a head off the command grid would never meet the tail */
	if (regs->ring_tail >= size || regs->ring_head >= size ||
	    !IS_ALIGNED(regs->ring_tail | regs->ring_head, sizeof(struct gpup_cmd)))
		return GPUP_ERR_RING;
	return GPUP_ERR_NONE;
}

enum gpup_engine_error gpup_cmd_validate(const struct gpup_cmd *cmd,
					 u64 vram_size)
{
	u64 dst = le64_to_cpu(cmd->dst);
	u64 src = le64_to_cpu(cmd->src);
	u64 len = le64_to_cpu(cmd->len);

	switch (le32_to_cpu(cmd->opcode)) {
	case GPUP_CMD_NOP:
	case GPUP_CMD_FENCE:
		return GPUP_ERR_NONE;
	case GPUP_CMD_FILL:
		if (!len)
			return GPUP_ERR_LENGTH;
		if (!IS_ALIGNED(dst | len, sizeof(u32)))
			return GPUP_ERR_ALIGN;
		if (!range_ok(dst, len, vram_size))
			return GPUP_ERR_BOUNDS;
		return GPUP_ERR_NONE;
	case GPUP_CMD_COPY:
		if (!len)
			return GPUP_ERR_LENGTH;
		if (!range_ok(dst, len, vram_size) ||
		    !range_ok(src, len, vram_size))
			return GPUP_ERR_BOUNDS;
		if (dst < src + len && src < dst + len)
			return GPUP_ERR_OVERLAP;
		return GPUP_ERR_NONE;
	default:
		return GPUP_ERR_OPCODE;
	}
}

/* Runs without vf->lock; returns -EINTR when a reset stops the engine */
static int engine_exec(struct gpup_vf *vf, const struct gpup_cmd *cmd)
{
	u32 opcode = le32_to_cpu(cmd->opcode);
	u64 dst = le64_to_cpu(cmd->dst);
	u64 src = le64_to_cpu(cmd->src);
	u64 len = le64_to_cpu(cmd->len);
	u64 done, n;
	int ret = 0;

	if (opcode != GPUP_CMD_FILL && opcode != GPUP_CMD_COPY)
		return 0;

	for (done = 0; done < len && !ret; done += n) {
		if (READ_ONCE(vf->engine_stopped) || READ_ONCE(vf->quiesced))
			return -EINTR;
		n = min_t(u64, len - done, GPUP_ENGINE_CHUNK);
		if (opcode == GPUP_CMD_FILL)
			ret = gpup_vram_fill32(&vf->vram, dst + done, n,
					       le32_to_cpu(cmd->value));
		else
			ret = gpup_vram_copy(&vf->vram, dst + done, src + done, n);
		cond_resched();
	}
	return ret;
}

static bool engine_runnable_locked(struct gpup_vf *vf)
{
	const struct gpup_regs *regs = &vf->regs;

	return !vf->engine_stopped && !vf->quiesced &&
	       regs->ctrl & GPUP_CTRL_ENGINE_ENABLE &&
	       !(regs->status & GPUP_STATUS_HALTED) &&
	       regs->ring_head != regs->ring_tail;
}

static void engine_halt_locked(struct gpup_vf *vf, enum gpup_engine_error err,
			       u32 head)
{
	vf->regs.status |= GPUP_STATUS_HALTED;
	vf->regs.error = err;
	vf->regs.error_head = head;
	dev_dbg(vf->vdev.dev, "engine halted: error %u at ring offset %#x\n",
		err, head);
	gpup_vf_raise_locked(vf, GPUP_INT_ERROR);
}

/* All the context images of a VF of @profile */
size_t gpup_ctx_bytes(const struct gpup_profile *profile)
{
	return (size_t)profile->engines * GPUP_SIM_CTX_SIZE;
}

/*
 * A retiring command leaves its mark in the context of the engine that
 * ran it: a count, the bytes it moved, and a copy in the history slots.
 */
void gpup_engine_ctx_record_locked(struct gpup_vf *vf, const struct gpup_cmd *cmd)
{
	unsigned int engine = vf->regs.cmd_count % vf->profile->engines;
	u8 *image = vf->ctx + (size_t)engine * GPUP_SIM_CTX_SIZE;
	struct gpup_sim_ctx *ctx = (void *)image;
	u64 commands = le64_to_cpu(ctx->commands);
	u32 opcode = le32_to_cpu(cmd->opcode);

	lockdep_assert_held(&vf->lock);
	ctx->commands = cpu_to_le64(commands + 1);
	if (opcode == GPUP_CMD_FILL || opcode == GPUP_CMD_COPY)
		le64_add_cpu(&ctx->bytes, le64_to_cpu(cmd->len));
	ctx->last_opcode = cmd->opcode;
	ctx->last_value = cmd->value;
	memcpy(image + sizeof(*ctx) + (commands % GPUP_SIM_CTX_SLOTS) * sizeof(*cmd),
	       cmd, sizeof(*cmd));
}

static void engine_retire_locked(struct gpup_vf *vf, const struct gpup_cmd *cmd)
{
	struct gpup_regs *regs = &vf->regs;

	gpup_engine_ctx_record_locked(vf, cmd);
	regs->ring_head = (regs->ring_head + sizeof(*cmd)) & (regs->ring_size - 1);
	regs->cmd_count++;
	if (le32_to_cpu(cmd->opcode) == GPUP_CMD_FENCE) {
		regs->fence = le32_to_cpu(cmd->value);
		regs->fence_count++;
		gpup_vf_raise_locked(vf, GPUP_INT_FENCE);
	}
}

/*
 * Fetch the command at RING_HEAD.  Returns false when there is nothing to
 * run; the ring registers are checked again for every command because the
 * guest may rewrite them at any time.
 */
static bool engine_fetch(struct gpup_vf *vf, struct gpup_cmd *cmd, u32 *head)
{
	u64 vram_size = vf->profile->vram_size;
	enum gpup_engine_error err;
	bool ok = false;

	mutex_lock(&vf->lock);
	if (!engine_runnable_locked(vf))
		goto out;

	*head = vf->regs.ring_head;
	err = gpup_ring_validate(&vf->regs, vram_size);
	if (!err && gpup_vram_read(&vf->vram, vf->regs.ring_base + *head, cmd,
				   sizeof(*cmd)))
		err = GPUP_ERR_RING;
	if (err)
		engine_halt_locked(vf, err, *head);
	else
		ok = true;
out:
	mutex_unlock(&vf->lock);
	return ok;
}

static void gpup_engine_work(struct work_struct *work)
{
	struct gpup_vf *vf = container_of(work, struct gpup_vf, engine_work);
	u64 vram_size = vf->profile->vram_size;
	unsigned int n;

	for (n = 0; n < GPUP_ENGINE_BATCH; n++) {
		enum gpup_engine_error err;
		struct gpup_cmd cmd;
		u32 head;
		int ret;

		if (!engine_fetch(vf, &cmd, &head))
			return;

		err = gpup_cmd_validate(&cmd, vram_size);
		if (!err) {
			ret = engine_exec(vf, &cmd);
			if (ret == -EINTR)
				return;
			if (ret)
				err = GPUP_ERR_NOMEM;
		}
		trace_gpup_sim_cmd(dev_name(vf->vdev.dev), head,
				   le32_to_cpu(cmd.opcode), le64_to_cpu(cmd.dst),
				   le64_to_cpu(cmd.src), le64_to_cpu(cmd.len), err);

		mutex_lock(&vf->lock);
		if (vf->engine_stopped || vf->quiesced) {
			mutex_unlock(&vf->lock);
			return;
		}
		if (err)
			engine_halt_locked(vf, err, head);
		else
			engine_retire_locked(vf, &cmd);
		mutex_unlock(&vf->lock);
		if (err)
			return;
	}
	/* Let other VFs' engines run before the next batch */
	queue_work(gpup_wq, &vf->engine_work);
}

void gpup_engine_init(struct gpup_vf *vf)
{
	INIT_WORK(&vf->engine_work, gpup_engine_work);
	vf->engine_stopped = false;
}

/* Caller holds vf->lock */
void gpup_engine_kick(struct gpup_vf *vf)
{
	lockdep_assert_held(&vf->lock);
	if (engine_runnable_locked(vf))
		queue_work(gpup_wq, &vf->engine_work);
}

/* Wait until no command runs; called without vf->lock */
void gpup_engine_stop(struct gpup_vf *vf)
{
	mutex_lock(&vf->lock);
	vf->engine_stopped = true;
	mutex_unlock(&vf->lock);
	cancel_work_sync(&vf->engine_work);
}

void gpup_engine_start(struct gpup_vf *vf)
{
	mutex_lock(&vf->lock);
	vf->engine_stopped = false;
	gpup_engine_kick(vf);
	mutex_unlock(&vf->lock);
}

/*
 * Migration: stop taking commands and wait until none runs; a command cut
 * short has not retired and runs again when the engine resumes.
 */
void gpup_engine_quiesce(struct gpup_vf *vf, bool quiesce)
{
	mutex_lock(&vf->lock);
	vf->quiesced = quiesce;
	if (!quiesce)
		gpup_engine_kick(vf);
	mutex_unlock(&vf->lock);
	if (quiesce)
		cancel_work_sync(&vf->engine_work);
}
