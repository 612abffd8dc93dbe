/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * gpup: the ABI of the simulated GPU-P virtual function.
 *
 * Everything a user-space program needs to drive a gpup VF through VFIO:
 * PCI identity, partition profiles, the BAR0 register map and the command
 * engine's ring format.  All multi-byte values are little-endian.
 */
#ifndef _UAPI_LINUX_GPUP_H
#define _UAPI_LINUX_GPUP_H

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

/*
 * Migration stream.
 *
 * The data read from a VFIO migration data file is a sequence of records:
 *
 *   struct gpup_rec_hdr, payload (hdr.length bytes), __le32 CRC32C
 *
 * The CRC32C (Castagnoli, seed and final XOR 0xffffffff) covers the header
 * and the payload.  A stream opens with GPUP_REC_STREAM and
 * GPUP_REC_IMMUTABLE (the pre-copy "initial bytes"), carries GPUP_REC_VRAM
 * records while the VM runs and after it stops, then GPUP_REC_MUTABLE, and
 * closes with GPUP_REC_END.  A reader refuses an unknown record type marked
 * GPUP_REC_F_MANDATORY and skips an unknown optional one.  Within a major
 * version, a newer minor version only adds optional records or fields.
 */
#define GPUP_MIG_MAGIC			0x0047494d50555047ULL	/* "GPUPMIG\0" */
#define GPUP_MIG_VERSION_MAJOR		1
#define GPUP_MIG_VERSION_MINOR		0

struct gpup_rec_hdr {
	__le16 type;		/* enum gpup_rec_type */
	__le16 flags;		/* GPUP_REC_F_* */
	__le32 length;		/* payload bytes */
};

#define GPUP_REC_F_MANDATORY		0x0001

enum gpup_rec_type {
	GPUP_REC_STREAM		= 1,	/* struct gpup_rec_stream, first */
	GPUP_REC_IMMUTABLE	= 2,	/* struct gpup_rec_immutable, second */
	GPUP_REC_VRAM		= 3,	/* struct gpup_rec_vram + page data */
	GPUP_REC_ROUND		= 4,	/* struct gpup_rec_round, optional */
	GPUP_REC_MUTABLE	= 5,	/* struct gpup_rec_mutable */
	GPUP_REC_END		= 6,	/* struct gpup_rec_end, last */
};

/* Largest payload of any record but GPUP_REC_VRAM */
#define GPUP_REC_SMALL_MAX		4096
/* Pages of one GPUP_REC_VRAM record, and their size */
#define GPUP_REC_VRAM_MAX_PAGES		256
#define GPUP_MIG_PAGE_SIZE		4096

struct gpup_rec_stream {
	__le64 magic;		/* GPUP_MIG_MAGIC */
	__le16 major;		/* GPUP_MIG_VERSION_MAJOR */
	__le16 minor;		/* GPUP_MIG_VERSION_MINOR */
	__le32 flags;		/* none defined, zero */
};

/*
 * What never changes for a VF's lifetime: enough for the target to refuse
 * a device that is not the same hardware, firmware and driver.
 */
struct gpup_rec_immutable {
	__le16 vendor_id;	/* PCI IDs of the VF */
	__le16 device_id;
	__le32 profile;		/* enum gpup_profile_id */
	__le64 vram_size;	/* bytes */
	__le32 engines;
	__le32 regmap_version;	/* GPUP_REGMAP_VERSION */
	__le32 fw_version;	/* GPUP_FW_VERSION */
	__le32 driver_version;	/* GPUP_DRIVER_VERSION */
	__le32 features;	/* GPUP_FEATURE_* */
	__le32 page_size;	/* GPUP_MIG_PAGE_SIZE */
};

#define GPUP_DRIVER_VERSION		0x00010000

struct gpup_rec_vram {
	__le64 offset;		/* VRAM byte offset, page aligned */
	__le32 npages;		/* 1..GPUP_REC_VRAM_MAX_PAGES pages follow */
	__le32 reserved;	/* zero */
};

struct gpup_rec_round {
	__le32 round;		/* 0: the first full pass */
	__le32 pages;		/* pages this round sends */
};

/* Device state captured with the VF stopped */
struct gpup_rec_mutable {
	__le32 scratch[4];
	__le32 ctrl;
	__le32 status;
	__le32 error;
	__le32 error_head;
	__le32 int_status;
	__le32 int_mask;
	__le64 ring_base;
	__le32 ring_size;
	__le32 ring_head;
	__le32 ring_tail;
	__le32 fence;
	__le32 fence_count;
	__le32 cmd_count;
	__le32 irq_flags;	/* GPUP_MIG_IRQ_* */
	__le32 reserved;	/* zero */
	__u8 config[256];	/* PCI config space */
};

#define GPUP_MIG_IRQ_INTX_MASKED	0x00000001U

struct gpup_rec_end {
	__le64 records;		/* records before this one */
	__le64 bytes;		/* stream bytes before this record */
};

#endif /* _UAPI_LINUX_GPUP_H */
