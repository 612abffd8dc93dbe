// SPDX-License-Identifier: GPL-2.0-only
/*
 * BAR0 register decode.
 *
 * Pure logic: reads and writes of the register file, and what a write asks
 * of the device (kick the engine, reset, re-evaluate the interrupt line).
 * The caller holds the VF lock and carries out those actions.  As on real
 * hardware, reserved offsets read as zero and writes to read-only
 * registers are dropped; only malformed accesses are refused.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "gpup_sim.h"

void gpup_regs_init(struct gpup_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
}

/* Registers are 32 bits wide and take naturally aligned 32-bit accesses */
int gpup_regs_check_access(u64 off, size_t len)
{
	if (len != sizeof(u32) || !IS_ALIGNED(off, sizeof(u32)) ||
	    off >= GPUP_REGS_SIZE)
		return -EINVAL;
	return 0;
}

/* Busy is derived: submitted commands remain and the engine has not halted */
static u32 gpup_regs_busy(const struct gpup_regs *regs)
{
	if (regs->status & GPUP_STATUS_HALTED || regs->ring_head == regs->ring_tail)
		return 0;
	return GPUP_STATUS_BUSY;
}

u32 gpup_regs_read(const struct gpup_regs *regs,
		   const struct gpup_profile *profile, u32 off)
{
	switch (off) {
	case GPUP_REG_ID:
		return GPUP_ID_MAGIC;
	case GPUP_REG_VERSION:
		return GPUP_REGMAP_VERSION;
	case GPUP_REG_FW_VERSION:
		return GPUP_FW_VERSION;
	case GPUP_REG_PROFILE:
		return profile->id;
	case GPUP_REG_VRAM_SIZE_LO:
		return lower_32_bits(profile->vram_size);
	case GPUP_REG_VRAM_SIZE_HI:
		return upper_32_bits(profile->vram_size);
	case GPUP_REG_ENGINES:
		return profile->engines;
	case GPUP_REG_FEATURES:
		return GPUP_FEATURE_ENGINE | GPUP_FEATURE_MSI |
		       GPUP_FEATURE_DIRTY_TRACKING;
	case GPUP_REG_SCRATCH0 ... GPUP_REG_SCRATCH3:
		return regs->scratch[(off - GPUP_REG_SCRATCH0) / sizeof(u32)];
	case GPUP_REG_CTRL:
		return regs->ctrl;
	case GPUP_REG_STATUS:
		return regs->status | gpup_regs_busy(regs);
	case GPUP_REG_ERROR:
		return regs->error;
	case GPUP_REG_ERROR_HEAD:
		return regs->error_head;
	case GPUP_REG_INT_STATUS:
		return regs->int_status;
	case GPUP_REG_INT_MASK:
		return regs->int_mask;
	case GPUP_REG_RING_BASE_LO:
		return lower_32_bits(regs->ring_base);
	case GPUP_REG_RING_BASE_HI:
		return upper_32_bits(regs->ring_base);
	case GPUP_REG_RING_SIZE:
		return regs->ring_size;
	case GPUP_REG_RING_HEAD:
		return regs->ring_head;
	case GPUP_REG_RING_TAIL:
		return regs->ring_tail;
	case GPUP_REG_FENCE:
		return regs->fence;
	case GPUP_REG_FENCE_COUNT:
		return regs->fence_count;
	case GPUP_REG_CMD_COUNT:
		return regs->cmd_count;
	default:
		return 0;	/* reserved, and the write-only doorbell */
	}
}

/* Returns the GPUP_REG_ACT_* the write asks for */
unsigned int gpup_regs_write(struct gpup_regs *regs, u32 off, u32 val)
{
	unsigned int act;

	switch (off) {
	case GPUP_REG_SCRATCH0 ... GPUP_REG_SCRATCH3:
		regs->scratch[(off - GPUP_REG_SCRATCH0) / sizeof(u32)] = val;
		return 0;
	case GPUP_REG_CTRL:
		if (val & GPUP_CTRL_RESET)
			return GPUP_REG_ACT_RESET;
		regs->ctrl = val & GPUP_CTRL_ENGINE_ENABLE;
		return regs->ctrl ? GPUP_REG_ACT_KICK : 0;
	case GPUP_REG_INT_STATUS:
		regs->int_status &= ~val;
		return GPUP_REG_ACT_IRQ;
	case GPUP_REG_INT_MASK:
		/* unmasking a cause already pending interrupts, as on hardware */
		act = GPUP_REG_ACT_IRQ;
		if (val & ~regs->int_mask & regs->int_status & GPUP_INT_ALL)
			act |= GPUP_REG_ACT_EDGE;
		regs->int_mask = val & GPUP_INT_ALL;
		return act;
	case GPUP_REG_RING_BASE_LO:
		regs->ring_base = (regs->ring_base & GENMASK_ULL(63, 32)) | val;
		return 0;
	case GPUP_REG_RING_BASE_HI:
		regs->ring_base = (u64)val << 32 | lower_32_bits(regs->ring_base);
		return 0;
	case GPUP_REG_RING_SIZE:
		regs->ring_size = val;
		return 0;
	case GPUP_REG_RING_TAIL:
		regs->ring_tail = val;
		return 0;
	case GPUP_REG_DOORBELL:
		return GPUP_REG_ACT_KICK;
	default:
		return 0;	/* read-only or reserved: dropped */
	}
}

/*
 * Whether @regs is a state this device can be in: a target restores
 * registers from a stream as strictly as a guest may write them, and the
 * registers only the device writes (STATUS, ERROR, ERROR_HEAD, RING_HEAD,
 * INT_STATUS) only to values the device itself produces.  Returns 0, or
 * -EINVAL with *@field naming the first register at fault.  FENCE_COUNT
 * against CMD_COUNT is not checked: both wrap, at different times.
 */
int gpup_regs_check_state(const struct gpup_regs *regs, const char **field)
{
	bool halted = regs->status & GPUP_STATUS_HALTED;

	if (regs->ctrl & ~GPUP_CTRL_ENGINE_ENABLE)
		*field = "ctrl";
	else if (regs->status & ~GPUP_STATUS_HALTED)
		*field = "status";
	else if (regs->error > GPUP_ERR_NOMEM || halted != !!regs->error)
		*field = "error";
	else if (!halted ? regs->error_head :
		 regs->error_head >= GPUP_RING_MAX_SIZE ||
		 !IS_ALIGNED(regs->error_head, sizeof(struct gpup_cmd)))
		*field = "error_head";
	else if (regs->int_status & ~GPUP_INT_ALL ||
		 (regs->int_status & GPUP_INT_ERROR && !halted))
		*field = "int_status";
	else if (regs->int_mask & ~GPUP_INT_ALL)
		*field = "int_mask";
	else if (regs->ring_head >= GPUP_RING_MAX_SIZE ||
		 !IS_ALIGNED(regs->ring_head, sizeof(struct gpup_cmd)))
		*field = "ring_head";
	else
		return 0;
	return -EINVAL;
}
