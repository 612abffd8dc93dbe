/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The device state of a gpup_sim VF in a migration stream: what its
 * GPUP_REC_IMMUTABLE and GPUP_REC_MUTABLE chunks add up to.
 *
 * The stream container (uapi/linux/gpup.h) is the migration core's; these
 * layouts are the backend's.  The core never looks inside them: gpup_sim
 * produces and checks them, and user tools that decode a gpup_sim stream
 * (gpupctl stream inspect, libgpup's refusal report, the tests) read them.
 * All multi-byte values are little-endian.
 */
#ifndef _GPUP_SIM_STATE_H
#define _GPUP_SIM_STATE_H

#include <linux/types.h>

/*
 * What never changes for a VF's lifetime: enough for the target to refuse
 * a device that is not the same hardware, firmware and driver.
 */
struct gpup_sim_immutable {
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
	__le32 state_version;	/* GPUP_SIM_STATE_VERSION */
	__le32 ctx_size;	/* GPUP_SIM_CTX_SIZE */
};

#define GPUP_DRIVER_VERSION		0x00010000
/* The layouts of this file; a target takes only its own */
#define GPUP_SIM_STATE_VERSION		2

/*
 * The mutable state, captured with the VF stopped: struct
 * gpup_sim_mutable, then one context image of GPUP_SIM_CTX_SIZE bytes per
 * engine of the profile.
 */
struct gpup_sim_mutable {
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
	__le32 irq_flags;	/* GPUP_SIM_IRQ_* */
	__le32 reserved;	/* zero */
	__u8 config[256];	/* PCI config space */
};

#define GPUP_SIM_IRQ_INTX_MASKED	0x00000001U	/* INTx signalled, not unmasked */
#define GPUP_SIM_IRQ_MSI_PENDING	0x00000002U	/* MSI due, bus master off */
#define GPUP_SIM_IRQ_FLAGS		(GPUP_SIM_IRQ_INTX_MASKED | GPUP_SIM_IRQ_MSI_PENDING)

/*
 * An engine's context image: what the engine keeps of its own between
 * commands, saved and restored whole.  Command n of the VF (its cmd_count
 * before it retires) runs on engine n % engines, which counts it and
 * keeps a copy of it in slot (commands - 1) % GPUP_SIM_CTX_SLOTS.
 */
#define GPUP_SIM_CTX_SIZE		(256 * 1024)

struct gpup_sim_ctx {
	__le64 commands;	/* commands this engine retired */
	__le64 bytes;		/* bytes they filled or copied */
	__le32 last_opcode;
	__le32 last_value;
	__u8 reserved[40];	/* zero */
	/* then GPUP_SIM_CTX_SLOTS commands of 32 bytes */
};

#define GPUP_SIM_CTX_SLOTS		((GPUP_SIM_CTX_SIZE - 64) / 32)

#endif /* _GPUP_SIM_STATE_H */
