/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/gpup.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_GPUP_NETLINK_H
#define _UAPI_LINUX_GPUP_NETLINK_H

#define GPUP_FAMILY_NAME	"gpup"
#define GPUP_FAMILY_VERSION	1

#define GPUP_NAME_MAX_LEN	63

/**
 * enum gpup_mig_state - VFIO migration state of a VF, with the values of enum
 *   vfio_device_mig_state.
 * @GPUP_MIG_STATE_ERROR: A transition failed; the VF needs a reset.
 * @GPUP_MIG_STATE_STOP: Stopped, its state neither read nor written.
 * @GPUP_MIG_STATE_RUNNING: Running normally.
 * @GPUP_MIG_STATE_STOP_COPY: Stopped, its state read by a saving stream.
 * @GPUP_MIG_STATE_RESUMING: Stopped, its state written by a resuming stream.
 * @GPUP_MIG_STATE_RUNNING_P2P: Running, starting no peer-to-peer DMA.
 * @GPUP_MIG_STATE_PRE_COPY: Running, its state already read by a saving
 *   stream.
 * @GPUP_MIG_STATE_PRE_COPY_P2P: As pre-copy, starting no peer-to-peer DMA.
 */
enum gpup_mig_state {
	GPUP_MIG_STATE_ERROR,
	GPUP_MIG_STATE_STOP,
	GPUP_MIG_STATE_RUNNING,
	GPUP_MIG_STATE_STOP_COPY,
	GPUP_MIG_STATE_RESUMING,
	GPUP_MIG_STATE_RUNNING_P2P,
	GPUP_MIG_STATE_PRE_COPY,
	GPUP_MIG_STATE_PRE_COPY_P2P,
};

/**
 * enum gpup_engine_state - What the VF's command engine is doing.
 * @GPUP_ENGINE_STATE_IDLE: Enabled with nothing to do, or disabled by the
 *   guest.
 * @GPUP_ENGINE_STATE_BUSY: Commands are pending.
 * @GPUP_ENGINE_STATE_HALTED: Stopped on a bad command until the guest resets
 *   it.
 * @GPUP_ENGINE_STATE_QUIESCED: Held by migration (a state other than running
 *   or pre-copy).
 */
enum gpup_engine_state {
	GPUP_ENGINE_STATE_IDLE,
	GPUP_ENGINE_STATE_BUSY,
	GPUP_ENGINE_STATE_HALTED,
	GPUP_ENGINE_STATE_QUIESCED,
};

/**
 * enum gpup_mig_dir - Which end of a migration a stream was.
 * @GPUP_MIG_DIR_SAVE: The source end, the VF's state read out.
 * @GPUP_MIG_DIR_RESUME: The target end, a state written into the VF.
 */
enum gpup_mig_dir {
	GPUP_MIG_DIR_SAVE,
	GPUP_MIG_DIR_RESUME,
};

/**
 * enum gpup_mig_result - How a migration stream ended.
 * @GPUP_MIG_RESULT_OK: The whole stream was read (source) or loaded and
 *   checked (target).
 * @GPUP_MIG_RESULT_FAILED: The target refused the stream (error and
 *   error-field say why) or the stream broke off; the VF needs a reset before
 *   it is used again.
 * @GPUP_MIG_RESULT_CANCELLED: The stream was abandoned before its end, the VF
 *   running on.
 */
enum gpup_mig_result {
	GPUP_MIG_RESULT_OK,
	GPUP_MIG_RESULT_FAILED,
	GPUP_MIG_RESULT_CANCELLED,
};

enum {
	GPUP_A_PARENT_PAD = 1,
	GPUP_A_PARENT_ID,
	GPUP_A_PARENT_NAME,
	GPUP_A_PARENT_DRIVER,
	GPUP_A_PARENT_VRAM_TOTAL,
	GPUP_A_PARENT_VRAM_FREE,
	GPUP_A_PARENT_VFS,

	__GPUP_A_PARENT_MAX,
	GPUP_A_PARENT_MAX = (__GPUP_A_PARENT_MAX - 1)
};

enum {
	GPUP_A_PROFILE_PAD = 1,
	GPUP_A_PROFILE_PARENT_ID,
	GPUP_A_PROFILE_ID,
	GPUP_A_PROFILE_NAME,
	GPUP_A_PROFILE_VRAM_SIZE,
	GPUP_A_PROFILE_ENGINES,
	GPUP_A_PROFILE_AVAILABLE,

	__GPUP_A_PROFILE_MAX,
	GPUP_A_PROFILE_MAX = (__GPUP_A_PROFILE_MAX - 1)
};

enum {
	GPUP_A_VF_PAD = 1,
	GPUP_A_VF_ID,
	GPUP_A_VF_NAME,
	GPUP_A_VF_PARENT_ID,
	GPUP_A_VF_PROFILE_ID,
	GPUP_A_VF_PROFILE_NAME,
	GPUP_A_VF_VRAM_SIZE,
	GPUP_A_VF_VRAM_USED,
	GPUP_A_VF_ENGINES,
	GPUP_A_VF_ENGINE_STATE,
	GPUP_A_VF_FENCE,
	GPUP_A_VF_MIG_STATE,
	GPUP_A_VF_OLD_MIG_STATE,
	GPUP_A_VF_PRECOPY_BYTES,
	GPUP_A_VF_STOPCOPY_BYTES,
	GPUP_A_VF_RESUME_BYTES,
	GPUP_A_VF_PENDING_BYTES,
	GPUP_A_VF_ROUNDS,
	GPUP_A_VF_MIGRATIONS,
	GPUP_A_VF_ERROR,
	GPUP_A_VF_ERROR_FIELD,
	GPUP_A_VF_DIRECTION,
	GPUP_A_VF_RESULT,
	GPUP_A_VF_ENGINE_TIME,
	GPUP_A_VF_ENGINE_THROTTLED,
	GPUP_A_VF_ENGINE_BACKLOG,
	GPUP_A_VF_ENGINE_BUDGET,

	__GPUP_A_VF_MAX,
	GPUP_A_VF_MAX = (__GPUP_A_VF_MAX - 1)
};

enum {
	GPUP_CMD_PARENT_GET = 1,
	GPUP_CMD_PROFILE_GET,
	GPUP_CMD_VF_GET,
	GPUP_CMD_VF_CLEAR_STATS,
	GPUP_CMD_MIG_STATE_NTF,
	GPUP_CMD_MIG_PROGRESS_NTF,
	GPUP_CMD_MIG_DONE_NTF,

	__GPUP_CMD_MAX,
	GPUP_CMD_MAX = (__GPUP_CMD_MAX - 1)
};

#define GPUP_MCGRP_MIG	"mig"

#endif /* _UAPI_LINUX_GPUP_NETLINK_H */
