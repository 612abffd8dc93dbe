// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ring and fence logic of gpup_vf, apart from the device so that KUnit
 * tests it: how much room the ring has, which user commands are valid and
 * how they become device commands, and how 64-bit fence sequence numbers
 * map onto the device's 32-bit FENCE register.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "gpup_vf.h"

/**
 * gpup_vf_ring_space() - bytes free in a ring
 * @size: ring bytes, a power of two
 * @head: where the engine reads next
 * @tail: where the driver writes next
 *
 * One command slot stays empty, so that head == tail means empty and never
 * full.
 *
 * Return: the bytes that may be written at @tail.
 */
u32 gpup_vf_ring_space(u32 size, u32 head, u32 tail)
{
	return (head - tail - GPUP_VF_CMD_SIZE) & (size - 1);
}

/**
 * gpup_vf_batch_slots() - ring slots a checked batch takes
 * @cmds: the batch, at least one command
 * @count: commands in @cmds
 *
 * Return: @count, plus one for the fence the driver closes the batch with
 * unless its last command is a fence.
 */
u32 gpup_vf_batch_slots(const struct gpup_vf_cmd *cmds, u32 count)
{
	return count + (cmds[count - 1].op != GPUP_VF_OP_FENCE);
}

/* A nonempty range below @limit, overflow-safe */
static bool gpup_vf_range_ok(u64 off, u64 len, u64 limit)
{
	return off <= limit && len <= limit - off;
}

/**
 * gpup_vf_cmd_check() - check one user command
 * @cmd: the command, in kernel memory
 * @limit: VRAM bytes a command may name (the ring starts there)
 *
 * Everything the device would refuse is refused here, so that no user
 * command ever halts the engine, and so is every field the operation does
 * not use unless it is zero, so that they can take a meaning later.
 *
 * Return: 0; -EINVAL for an unknown operation, a nonzero unused field, a
 * zero length, a misaligned FILL or overlapping COPY ranges; -ERANGE for
 * a range that does not lie below @limit.
 */
int gpup_vf_cmd_check(const struct gpup_vf_cmd *cmd, u64 limit)
{
	switch (cmd->op) {
	case GPUP_VF_OP_FILL:
		if (cmd->src || !cmd->len ||
		    !IS_ALIGNED(cmd->dst | cmd->len, sizeof(u32)))
			return -EINVAL;
		return gpup_vf_range_ok(cmd->dst, cmd->len, limit) ? 0 : -ERANGE;
	case GPUP_VF_OP_COPY:
		if (cmd->value || !cmd->len)
			return -EINVAL;
		if (!gpup_vf_range_ok(cmd->dst, cmd->len, limit) ||
		    !gpup_vf_range_ok(cmd->src, cmd->len, limit))
			return -ERANGE;
		if (cmd->dst < cmd->src + cmd->len && cmd->src < cmd->dst + cmd->len)
			return -EINVAL;
		return 0;
	case GPUP_VF_OP_FENCE:
		if (cmd->value || cmd->dst || cmd->src || cmd->len)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/**
 * gpup_vf_fence_cmd() - encode the device command of a fence
 * @seqno: its sequence number; the device keeps the low 32 bits
 * @out: the device command
 */
void gpup_vf_fence_cmd(u64 seqno, struct gpup_cmd *out)
{
	memset(out, 0, sizeof(*out));
	out->opcode = cpu_to_le32(GPUP_CMD_FENCE);
	out->value = cpu_to_le32(lower_32_bits(seqno));
}

/**
 * gpup_vf_cmd_encode() - encode a checked user command for the device
 * @cmd: the command, checked by gpup_vf_cmd_check()
 * @seqno: the sequence number of a fence, unused otherwise
 * @out: the device command
 */
void gpup_vf_cmd_encode(const struct gpup_vf_cmd *cmd, u64 seqno,
			struct gpup_cmd *out)
{
	if (cmd->op == GPUP_VF_OP_FENCE) {
		gpup_vf_fence_cmd(seqno, out);
		return;
	}
	out->opcode = cpu_to_le32(cmd->op == GPUP_VF_OP_FILL ? GPUP_CMD_FILL :
							       GPUP_CMD_COPY);
	out->value = cpu_to_le32(cmd->value);
	out->dst = cpu_to_le64(cmd->dst);
	out->src = cpu_to_le64(cmd->src);
	out->len = cpu_to_le64(cmd->len);
}

/**
 * gpup_vf_fence_expand() - the sequence number a FENCE register value means
 * @hw: the FENCE register
 * @submitted: the last sequence number handed out
 *
 * The device keeps only the low 32 bits of a sequence number.  Fewer
 * fences than the ring has slots are ever in flight, far fewer than 2^32,
 * so @hw stands for the latest sequence number not after @submitted whose
 * low 32 bits it is.
 *
 * Return: that sequence number, or 0 when there is none.
 */
u64 gpup_vf_fence_expand(u32 hw, u64 submitted)
{
	u64 seqno = (submitted & ~(u64)U32_MAX) | hw;

	if (seqno <= submitted)
		return seqno;
	if (seqno < BIT_ULL(32))
		return 0;
	return seqno - BIT_ULL(32);
}

/**
 * gpup_vf_fences_init() - start the bookkeeping
 * @f: the bookkeeping
 * @first: the first sequence number to hand out, at least 1
 */
void gpup_vf_fences_init(struct gpup_vf_fences *f, u64 first)
{
	memset(f, 0, sizeof(*f));
	f->first = first;
	f->submitted = first - 1;
	f->completed = first - 1;
}

/**
 * gpup_vf_fences_signal() - take a FENCE register value
 * @f: the bookkeeping
 * @hw: the FENCE register
 *
 * Only a fence in flight moves @f->completed, and only forward: a stale or
 * reset register value changes nothing.
 *
 * Return: true when fences were signalled.
 */
bool gpup_vf_fences_signal(struct gpup_vf_fences *f, u32 hw)
{
	u64 seqno = gpup_vf_fence_expand(hw, f->submitted);

	if (seqno <= f->completed)
		return false;
	f->completed = seqno;
	return true;
}

/**
 * gpup_vf_fences_fail() - fail every fence in flight
 * @f: the bookkeeping
 *
 * After an engine halt or a reset, the fences in flight never signal:
 * they are recorded as failed and completed.  When the table of failed
 * ranges is full, its two oldest entries merge, so that a fence between
 * them reads as failed too: a waiter may see a false failure, never a
 * false success.
 */
void gpup_vf_fences_fail(struct gpup_vf_fences *f)
{
	struct gpup_vf_fence_range *r;

	if (f->completed == f->submitted)
		return;
	if (f->nr_failed == GPUP_VF_FAILED_RANGES) {
		f->failed[1].first = f->failed[0].first;
		memmove(&f->failed[0], &f->failed[1],
			(GPUP_VF_FAILED_RANGES - 1) * sizeof(*r));
		f->nr_failed--;
	}
	r = &f->failed[f->nr_failed++];
	r->first = f->completed + 1;
	r->last = f->submitted;
	f->completed = f->submitted;
}

/**
 * gpup_vf_fences_status() - where a fence stands
 * @f: the bookkeeping
 * @seqno: the fence
 *
 * Return: 0 when it signalled, -EBUSY while in flight, -EIO when it
 * failed, -EINVAL when it was never handed out.
 */
int gpup_vf_fences_status(const struct gpup_vf_fences *f, u64 seqno)
{
	unsigned int i;

	if (seqno < f->first || seqno > f->submitted)
		return -EINVAL;
	if (seqno > f->completed)
		return -EBUSY;
	for (i = 0; i < f->nr_failed; i++)
		if (seqno >= f->failed[i].first && seqno <= f->failed[i].last)
			return -EIO;
	return 0;
}
