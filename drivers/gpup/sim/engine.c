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
 * allocate more than its profile's VRAM, or take more of the host than its
 * share:
 *
 * - The engine runs in a kthread worker of the VF's own, which the user
 *   who opened the VF (QEMU) puts in its cgroups: the CPU time the engine
 *   takes is charged to that VM, and its cpu.weight bounds it, as does its
 *   cpu.max on 6.12.  Newer kernels (7.3) throttle a task for cpu.max on
 *   its return to user space, never a kernel thread: there the engine runs
 *   past cpu.max, and as its time is still charged to the VM, the VM's
 *   other threads (its vCPUs) are held back in its place.  The budget
 *   below bounds the engine on every kernel.  VRAM pages are charged to
 *   the owner's memory cgroup (vram.c).
 * - Work runs in time slices of at most 1 ms, 4 MiB moved or 64 commands,
 *   whichever comes first; a command longer than that continues in the
 *   next slice, and each slice ends with a reschedule point.
 * - A VF may run its engine for its budget (a percentage, sysfs
 *   engine_budget) of each 100 ms period; past it, work waits for the
 *   next period and the wait is counted as throttled time.
 * - The engine only runs while the function may master the bus (PCI
 *   command register), as DMA and MSI need that on hardware.
 */
#include <linux/cgroup.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/pci_regs.h>

#include "../core/gpup_compat.h"
#include "gpup_sim.h"
#include "trace.h"

#define GPUP_ENGINE_CHUNK	SZ_1M	/* bytes between stop checks */
#define GPUP_SLICE_NS		NSEC_PER_MSEC
#define GPUP_SLICE_BYTES	SZ_4M
#define GPUP_SLICE_CMDS		64

/* What one slice has done so far */
struct gpup_slice {
	u64 start;
	u64 bytes;
	unsigned int cmds;
};

/* Every slice does at least one chunk or one command, however slow */
static bool slice_over(const struct gpup_slice *s)
{
	if (!s->bytes && !s->cmds)
		return false;
	return s->bytes >= GPUP_SLICE_BYTES || s->cmds >= GPUP_SLICE_CMDS ||
	       ktime_get_ns() - s->start >= GPUP_SLICE_NS;
}

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

/*
 * FILL or COPY from byte *@done on, until the command ends (0), the slice
 * ends (-EAGAIN), a reset or migration stops the engine (-EINTR), or
 * memory runs out.  Runs without vf->lock; *@done says how far it got.
 */
static int engine_exec(struct gpup_vf *vf, const struct gpup_cmd *cmd,
		       u64 *done, struct gpup_slice *s)
{
	u32 opcode = le32_to_cpu(cmd->opcode);
	u64 dst = le64_to_cpu(cmd->dst);
	u64 src = le64_to_cpu(cmd->src);
	u64 len = le64_to_cpu(cmd->len);
	u64 n;
	int ret;

	if (opcode != GPUP_CMD_FILL && opcode != GPUP_CMD_COPY)
		return 0;

	while (*done < len) {
		if (READ_ONCE(vf->engine_stopped) || READ_ONCE(vf->quiesced))
			return -EINTR;
		if (slice_over(s))
			return -EAGAIN;
		n = min_t(u64, len - *done, GPUP_ENGINE_CHUNK);
		if (opcode == GPUP_CMD_FILL)
			ret = gpup_vram_fill32(&vf->vram, dst + *done, n,
					       le32_to_cpu(cmd->value));
		else
			ret = gpup_vram_copy(&vf->vram, dst + *done, src + *done, n);
		if (ret)
			return ret;
		*done += n;
		s->bytes += n;
		cond_resched();
	}
	return 0;
}

static bool bus_master(struct gpup_vf *vf)
{
	return gpup_cfg_command(&vf->cfg) & PCI_COMMAND_MASTER;
}

static bool engine_runnable_locked(struct gpup_vf *vf)
{
	const struct gpup_regs *regs = &vf->regs;

	return !vf->engine_stopped && !vf->quiesced && bus_master(vf) &&
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

/*
 * Where the command at @head starts: past what an earlier slice did of it
 * if it is the very command that slice left, from its start otherwise (the
 * guest rewrote the ring, or a reset came in between).
 */
static u64 engine_resume_point(struct gpup_engine *e, const struct gpup_cmd *cmd,
			       u32 head)
{
	if (e->cur_valid && e->cur_head == head && !memcmp(&e->cur, cmd, sizeof(*cmd)))
		return e->cur_done;
	return 0;
}

static void engine_save_point(struct gpup_engine *e, const struct gpup_cmd *cmd,
			      u32 head, u64 done)
{
	e->cur = *cmd;
	e->cur_head = head;
	e->cur_done = done;
	e->cur_valid = true;
}

enum gpup_step {
	GPUP_STEP_DONE,		/* a command retired */
	GPUP_STEP_PAUSED,	/* the slice ended inside a command */
	GPUP_STEP_IDLE,		/* nothing to run, halted or stopped */
};

/* Run the command at RING_HEAD, or as much of it as the slice allows */
static enum gpup_step engine_step(struct gpup_vf *vf, struct gpup_slice *s)
{
	struct gpup_engine *e = &vf->eng;
	enum gpup_engine_error err;
	struct gpup_cmd cmd;
	u64 done;
	u32 head;
	int ret;

	if (!engine_fetch(vf, &cmd, &head))
		return GPUP_STEP_IDLE;

	done = engine_resume_point(e, &cmd, head);
	err = gpup_cmd_validate(&cmd, vf->profile->vram_size);
	if (!err) {
		ret = engine_exec(vf, &cmd, &done, s);
		if (ret == -EAGAIN || ret == -EINTR) {
			engine_save_point(e, &cmd, head, done);
			return ret == -EAGAIN ? GPUP_STEP_PAUSED : GPUP_STEP_IDLE;
		}
		if (ret)
			err = GPUP_ERR_NOMEM;
	}
	e->cur_valid = false;
	s->cmds++;
	trace_gpup_sim_cmd(dev_name(vf->vdev.dev), head,
			   le32_to_cpu(cmd.opcode), le64_to_cpu(cmd.dst),
			   le64_to_cpu(cmd.src), le64_to_cpu(cmd.len), err);

	mutex_lock(&vf->lock);
	if (vf->engine_stopped || vf->quiesced) {
		/* not retired: it runs again, whole, when the engine resumes */
		mutex_unlock(&vf->lock);
		return GPUP_STEP_IDLE;
	}
	if (err)
		engine_halt_locked(vf, err, head);
	else
		engine_retire_locked(vf, &cmd);
	mutex_unlock(&vf->lock);
	return err ? GPUP_STEP_IDLE : GPUP_STEP_DONE;
}

static void engine_queue_locked(struct gpup_vf *vf, unsigned long delay)
{
	lockdep_assert_held(&vf->lock);
	if (vf->eng.worker)
		kthread_queue_delayed_work(vf->eng.worker, &vf->eng.work, delay);
}

/* Time held back by the budget, up to now */
u64 gpup_engine_throttled_locked(struct gpup_vf *vf)
{
	struct gpup_engine *e = &vf->eng;

	lockdep_assert_held(&vf->lock);
	return e->throttled_ns + (e->throttled_at ? ktime_get_ns() - e->throttled_at : 0);
}

static void engine_unthrottle_locked(struct gpup_engine *e, u64 now)
{
	if (e->throttled_at) {
		e->throttled_ns += now - e->throttled_at;
		e->throttled_at = 0;
	}
}

/*
 * How long the VF must wait before its next slice: 0 within its budget
 * for the current period (a new period starts when the last is over),
 * until the next period otherwise.
 */
static u64 engine_budget_wait_locked(struct gpup_engine *e, u64 now)
{
	if (now - e->period_start >= GPUP_ENGINE_PERIOD_NS) {
		e->period_start = now;
		e->period_used = 0;
	}
	if (e->budget >= 100 ||
	    e->period_used < div_u64(GPUP_ENGINE_PERIOD_NS * e->budget, 100))
		return 0;
	return e->period_start + GPUP_ENGINE_PERIOD_NS - now;
}

/*
 * Whether a slice may run now.  The check is made here, when the work
 * runs, rather than when it is queued: a doorbell queues the work at once
 * whatever the budget, and the work then waits out the period.
 */
static bool engine_slice_begin(struct gpup_vf *vf, u64 now)
{
	struct gpup_engine *e = &vf->eng;
	u64 wait;

	mutex_lock(&vf->lock);
	wait = engine_budget_wait_locked(e, now);
	if (wait) {
		if (!e->throttled_at) {
			e->throttled_at = now;
			e->throttles++;
		}
		if (engine_runnable_locked(vf))
			engine_queue_locked(vf, nsecs_to_jiffies(wait) ?: 1);
	} else {
		engine_unthrottle_locked(e, now);
	}
	mutex_unlock(&vf->lock);
	return !wait;
}

/* Account the slice and queue the next while there is work */
static void engine_slice_end(struct gpup_vf *vf, const struct gpup_slice *s)
{
	struct gpup_engine *e = &vf->eng;
	u64 ran = ktime_get_ns() - s->start;

	mutex_lock(&vf->lock);
	e->time_ns += ran;
	e->period_used += ran;
	e->bytes += s->bytes;
	if (s->cmds || s->bytes)
		e->slices++;
	if (engine_runnable_locked(vf))
		engine_queue_locked(vf, 0);
	mutex_unlock(&vf->lock);
}

static void gpup_engine_work(struct kthread_work *work)
{
	struct gpup_vf *vf = container_of(work, struct gpup_vf, eng.work.work);
	struct gpup_slice s = { .start = ktime_get_ns() };
	enum gpup_step step;

	if (!engine_slice_begin(vf, s.start))
		return;
	do {
		step = engine_step(vf, &s);
	} while (step == GPUP_STEP_DONE && !slice_over(&s));

	engine_slice_end(vf, &s);
}

void gpup_engine_init(struct gpup_vf *vf)
{
	struct gpup_engine *e = &vf->eng;

	memset(e, 0, sizeof(*e));
	kthread_init_delayed_work(&e->work, gpup_engine_work);
	/* a quarter of a host CPU per engine of the profile */
	e->budget = min(25 * vf->profile->engines, 100U);
	vf->engine_stopped = false;
}

/*
 * The VF's user opened it: its engine runs in a thread of its own, in the
 * cgroups of the user (the VM), and the VF's pages are charged to the
 * user's memory cgroup, whoever allocates them.
 */
int gpup_engine_open(struct gpup_vf *vf)
{
	struct kthread_worker *worker;
	struct mem_cgroup *memcg = NULL;
	int ret;

	worker = kthread_run_worker(0, "gpup-%s", dev_name(vf->vdev.dev));
	if (IS_ERR(worker))
		return PTR_ERR(worker);
	ret = cgroup_attach_task_all(current, worker->task);
	if (ret) {
		dev_err(vf->vdev.dev, "cannot put the engine in the user's cgroups: %d\n",
			ret);
		kthread_destroy_worker(worker);
		return ret;
	}
	if (current->mm)
		memcg = get_mem_cgroup_from_mm(current->mm);
	gpup_vram_set_owner(&vf->vram, memcg);

	mutex_lock(&vf->lock);
	vf->eng.worker = worker;
	mutex_unlock(&vf->lock);
	return 0;
}

/* The user let the VF go; called after the engine was reset */
void gpup_engine_close(struct gpup_vf *vf)
{
	struct kthread_worker *worker;

	gpup_engine_stop(vf);
	mutex_lock(&vf->lock);
	worker = vf->eng.worker;
	vf->eng.worker = NULL;
	mutex_unlock(&vf->lock);
	if (worker)
		kthread_destroy_worker(worker);
	/*
	 * A kthread work stays tied to the worker it was last queued on:
	 * forget the one just destroyed, for a cancel now and the next open's
	 * worker.  Nothing queues it without a worker.
	 */
	kthread_init_delayed_work(&vf->eng.work, gpup_engine_work);
	gpup_vram_set_owner(&vf->vram, NULL);
	gpup_engine_start(vf);
}

/* Caller holds vf->lock */
void gpup_engine_kick(struct gpup_vf *vf)
{
	lockdep_assert_held(&vf->lock);
	if (engine_runnable_locked(vf))
		engine_queue_locked(vf, 0);
}

/* Commands submitted and not retired; 0 while the ring is invalid */
u32 gpup_engine_backlog_locked(struct gpup_vf *vf)
{
	const struct gpup_regs *r = &vf->regs;

	lockdep_assert_held(&vf->lock);
	if (gpup_ring_validate(r, vf->profile->vram_size))
		return 0;
	return ((r->ring_tail - r->ring_head) & (r->ring_size - 1)) /
	       sizeof(struct gpup_cmd);
}

/*
 * Wait until no command runs; called without vf->lock.  A command cut
 * short is forgotten: after a reset its ring is gone.
 */
void gpup_engine_stop(struct gpup_vf *vf)
{
	mutex_lock(&vf->lock);
	vf->engine_stopped = true;
	mutex_unlock(&vf->lock);
	kthread_cancel_delayed_work_sync(&vf->eng.work);
	mutex_lock(&vf->lock);
	engine_unthrottle_locked(&vf->eng, ktime_get_ns());
	vf->eng.cur_valid = false;
	mutex_unlock(&vf->lock);
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
 * short has not retired and continues when the engine resumes here, or
 * runs again whole on a target.
 */
void gpup_engine_quiesce(struct gpup_vf *vf, bool quiesce)
{
	mutex_lock(&vf->lock);
	vf->quiesced = quiesce;
	if (!quiesce)
		gpup_engine_kick(vf);
	mutex_unlock(&vf->lock);
	if (quiesce) {
		kthread_cancel_delayed_work_sync(&vf->eng.work);
		mutex_lock(&vf->lock);
		engine_unthrottle_locked(&vf->eng, ktime_get_ns());
		mutex_unlock(&vf->lock);
	}
}
