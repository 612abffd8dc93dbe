/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The programming interface of the simulated gpup VF (PCI 1234:6770).
 *
 * What a driver of the device builds against: PCI identity, partition
 * profiles, the BAR0 register map and the command engine's ring format.
 * It belongs to the device, not to the migration core: the host's device
 * model (gpup_sim), the guest's driver (gpup_vf) and the tests share it.
 * All multi-byte values are little-endian.
 */
#ifndef _GPUP_SIM_HW_H
#define _GPUP_SIM_HW_H

#include <linux/types.h>

/*
 * PCI identity.  0x1234 is the vendor ID emulators use for devices that
 * have no hardware counterpart; no real device, and none of QEMU's, uses
 * the device ID below, so a guest driver can never mistake a gpup VF for
 * hardware.  The subsystem device ID carries the profile.
 */
#define GPUP_PCI_VENDOR_ID		0x1234
#define GPUP_PCI_DEVICE_ID		0x6770
#define GPUP_PCI_REVISION		0x01
#define GPUP_PCI_CLASS			0x038000	/* display, other */

/* BARs: BAR0 holds the registers, BAR2/3 (64-bit, prefetchable) the VRAM */
#define GPUP_REGS_BAR			0
#define GPUP_VRAM_BAR			2
#define GPUP_REGS_SIZE			0x10000

/* Partition profiles: the mdev types of the parent device */
enum gpup_profile_id {
	GPUP_PROFILE_SMALL	= 1,	/*   64 MiB VRAM, 1 engine */
	GPUP_PROFILE_MEDIUM	= 2,	/*  256 MiB VRAM, 2 engines */
	GPUP_PROFILE_LARGE	= 3,	/* 1024 MiB VRAM, 4 engines */
	GPUP_PROFILE_XLARGE	= 4,	/* 4096 MiB VRAM, 4 engines */
};

/* Versions the device reports and a migration stream carries */
#define GPUP_ID_MAGIC			0x50555047	/* "GPUP" */
#define GPUP_REGMAP_VERSION		0x00010000	/* major << 16 | minor */
#define GPUP_FW_VERSION			0x00010000

/* BAR0 register map: 32-bit registers, 32-bit aligned accesses only */
enum gpup_reg {
	GPUP_REG_ID		= 0x000,	/* RO  GPUP_ID_MAGIC */
	GPUP_REG_VERSION	= 0x004,	/* RO  GPUP_REGMAP_VERSION */
	GPUP_REG_FW_VERSION	= 0x008,	/* RO  GPUP_FW_VERSION */
	GPUP_REG_PROFILE	= 0x00c,	/* RO  enum gpup_profile_id */
	GPUP_REG_VRAM_SIZE_LO	= 0x010,	/* RO  VRAM bytes, low half */
	GPUP_REG_VRAM_SIZE_HI	= 0x014,	/* RO  VRAM bytes, high half */
	GPUP_REG_ENGINES	= 0x018,	/* RO  engines in the profile */
	GPUP_REG_FEATURES	= 0x01c,	/* RO  GPUP_FEATURE_* */
	GPUP_REG_SCRATCH0	= 0x020,	/* RW  four scratch registers */
	GPUP_REG_SCRATCH1	= 0x024,
	GPUP_REG_SCRATCH2	= 0x028,
	GPUP_REG_SCRATCH3	= 0x02c,
	GPUP_REG_CTRL		= 0x040,	/* RW  GPUP_CTRL_* */
	GPUP_REG_STATUS		= 0x044,	/* RO  GPUP_STATUS_* */
	GPUP_REG_ERROR		= 0x048,	/* RO  enum gpup_engine_error */
	GPUP_REG_ERROR_HEAD	= 0x04c,	/* RO  ring offset of the bad command */
	GPUP_REG_INT_STATUS	= 0x050,	/* RW1C GPUP_INT_* */
	GPUP_REG_INT_MASK	= 0x054,	/* RW  GPUP_INT_*: 1 = enabled */
	GPUP_REG_RING_BASE_LO	= 0x060,	/* RW  ring VRAM offset, 4 KiB aligned */
	GPUP_REG_RING_BASE_HI	= 0x064,	/* RW */
	GPUP_REG_RING_SIZE	= 0x068,	/* RW  ring bytes, power of two */
	GPUP_REG_RING_HEAD	= 0x06c,	/* RO  next command the engine reads */
	GPUP_REG_RING_TAIL	= 0x070,	/* RW  end of the submitted commands */
	GPUP_REG_DOORBELL	= 0x074,	/* WO  any value: process to TAIL */
	GPUP_REG_FENCE		= 0x080,	/* RO  value of the last FENCE */
	GPUP_REG_FENCE_COUNT	= 0x084,	/* RO  FENCE commands completed */
	GPUP_REG_CMD_COUNT	= 0x088,	/* RO  commands completed */
};

#define GPUP_REG_LAST			GPUP_REG_CMD_COUNT

#define GPUP_FEATURE_ENGINE		0x00000001U
#define GPUP_FEATURE_MSI		0x00000002U
#define GPUP_FEATURE_DIRTY_TRACKING	0x00000004U

#define GPUP_CTRL_ENGINE_ENABLE		0x00000001U
#define GPUP_CTRL_RESET			0x80000000U	/* self-clearing */

#define GPUP_STATUS_BUSY		0x00000001U	/* commands pending */
#define GPUP_STATUS_HALTED		0x00000002U	/* stopped on an error */

#define GPUP_INT_FENCE			0x00000001U
#define GPUP_INT_ERROR			0x00000002U
#define GPUP_INT_ALL			(GPUP_INT_FENCE | GPUP_INT_ERROR)

/* Ring limits: the ring lives in the VF's own VRAM */
#define GPUP_RING_ALIGN			0x1000
#define GPUP_RING_MIN_SIZE		0x1000
#define GPUP_RING_MAX_SIZE		0x100000

/*
 * A command is 32 bytes.  dst, src and len are VRAM byte offsets and
 * lengths; every range must lie inside the VF's VRAM.
 */
struct gpup_cmd {
	__le32 opcode;		/* enum gpup_opcode */
	__le32 value;		/* FILL pattern, FENCE value */
	__le64 dst;
	__le64 src;
	__le64 len;
};

enum gpup_opcode {
	GPUP_CMD_NOP	= 0,
	GPUP_CMD_FILL	= 1,	/* dst..dst+len = value; 4-byte aligned */
	GPUP_CMD_COPY	= 2,	/* dst = src, len bytes; no overlap */
	GPUP_CMD_FENCE	= 3,	/* FENCE = value, raise GPUP_INT_FENCE */
};

enum gpup_engine_error {
	GPUP_ERR_NONE		= 0,
	GPUP_ERR_OPCODE		= 1,	/* unknown opcode */
	GPUP_ERR_BOUNDS		= 2,	/* range outside VRAM */
	GPUP_ERR_ALIGN		= 3,	/* misaligned FILL */
	GPUP_ERR_LENGTH		= 4,	/* zero length */
	GPUP_ERR_OVERLAP	= 5,	/* COPY ranges overlap */
	GPUP_ERR_RING		= 6,	/* ring base/size/tail invalid */
	GPUP_ERR_NOMEM		= 7,	/* host could not back the VRAM */
};

#endif /* _GPUP_SIM_HW_H */
