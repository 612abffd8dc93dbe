/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * gpup_vf: the guest driver of a gpup GPU-P virtual function.
 *
 * Each VF the driver binds is a character device, /dev/gpup_vfN.  Through
 * it a program, inside the VM that holds the VF:
 *
 *   - submits batches of engine commands (GPUP_VF_IOC_SUBMIT), each batch
 *     closed by a fence whose sequence number the call returns;
 *   - waits for a fence (GPUP_VF_IOC_WAIT), woken by the VF's interrupt;
 *   - maps the VF's VRAM with mmap() (offset 0 is VRAM byte 0);
 *   - reads what the driver knows of the VF (GPUP_VF_IOC_INFO).
 *
 * The driver keeps its command ring in the top ring_size bytes of VRAM
 * (GPUP_VF_IOC_INFO says where): commands may not name those bytes and
 * mmap() covers only the VRAM below them, so no program can corrupt the
 * ring another program submits through.
 *
 * Fence sequence numbers are 64 bits, start at 1 and grow by one per fence
 * for as long as the driver is bound; the driver maps them onto the
 * device's 32-bit FENCE register.
 *
 * Every ioctl refuses what it does not understand: unknown flags, nonzero
 * reserved fields, ranges outside VRAM, empty or oversized batches.
 */
#ifndef _UAPI_LINUX_GPUP_VF_H
#define _UAPI_LINUX_GPUP_VF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Operations of struct gpup_vf_cmd */
enum gpup_vf_op {
	GPUP_VF_OP_FILL		= 1,	/* dst..dst+len = value (32-bit pattern) */
	GPUP_VF_OP_COPY		= 2,	/* dst = src, len bytes, no overlap */
	GPUP_VF_OP_FENCE	= 3,	/* the commands before it are done */
};

/* One command of a batch: VRAM byte offsets and lengths */
struct gpup_vf_cmd {
	__u32 op;		/* enum gpup_vf_op */
	__u32 value;		/* FILL: the pattern; otherwise 0 */
	__u64 dst;
	__u64 src;		/* COPY only; otherwise 0 */
	__u64 len;		/* FILL: multiple of 4, dst 4-byte aligned */
};

/* Most commands in one batch */
#define GPUP_VF_BATCH_MAX	1024

/*
 * GPUP_VF_IOC_SUBMIT: queue @count commands from @cmds.  The driver closes
 * the batch with a fence of its own unless the last command is one, and
 * returns that fence's sequence number in @fence.  Every FENCE command of
 * the batch takes a sequence number of its own.  Blocks while the ring
 * is full (-EINTR on a signal); -EIO while the engine is in error and not
 * yet recovered.  The batch is checked whole before any of it is queued:
 * -EINVAL for a bad count or flags, an unknown op, a nonzero field the op
 * does not use, a zero length, a misaligned FILL, overlapping COPY ranges;
 * -ERANGE for a range that does not end at or below ring_offset.
 */
struct gpup_vf_submit {
	__u64 cmds;		/* user pointer to struct gpup_vf_cmd[count] */
	__u32 count;		/* 1..GPUP_VF_BATCH_MAX */
	__u32 flags;		/* none defined: 0 */
	__u64 fence;		/* out: sequence number of the batch's fence */
};

/*
 * GPUP_VF_IOC_WAIT: wait until fence @fence has signalled.  0 when it did,
 * -ETIMEDOUT after @timeout_ns (0 polls), -EIO when the engine halted on
 * an error (or the VF was reset) before reaching it, -EINTR on a signal,
 * -EINVAL for a fence never handed out.
 *
 * Recovering from an engine error or a reset resets the VF, and the device
 * clears its VRAM when it resets: a program that sees
 * gpup_vf_info.recoveries move has lost its VRAM content.
 *
 * Once the VF is unbound, every ioctl and waiter gets -ENODEV and the VRAM
 * mappings are gone (SIGBUS); close the file.
 */
struct gpup_vf_wait {
	__u64 fence;
	__u64 timeout_ns;
	__u32 flags;		/* none defined: 0 */
	__u32 reserved;		/* 0 */
};

/* Engine states of struct gpup_vf_info */
enum gpup_vf_engine {
	GPUP_VF_ENGINE_IDLE	= 0,
	GPUP_VF_ENGINE_BUSY	= 1,
	GPUP_VF_ENGINE_ERROR	= 2,	/* halted; recovery under way */
};

/* Interrupt modes */
enum gpup_vf_irq {
	GPUP_VF_IRQ_MSI		= 1,
	GPUP_VF_IRQ_INTX	= 2,
};

/* GPUP_VF_IOC_INFO: what the driver knows of its VF */
struct gpup_vf_info {
	__u32 profile;		/* the device's profile ID */
	__u32 engines;
	__u64 vram_size;	/* bytes, the VF's whole VRAM */
	__u64 ring_offset;	/* the driver's ring: mmap() and commands stop here */
	__u32 ring_size;
	__u32 engine;		/* enum gpup_vf_engine */
	__u64 submitted;	/* last fence handed out */
	__u64 completed;	/* last fence signalled */
	__u32 last_error;	/* device error code of the last halt, 0 none */
	__u32 irq_mode;		/* enum gpup_vf_irq */
	__u64 irqs;		/* interrupts taken */
	__u64 recoveries;	/* engine errors and resets recovered from */
	__u64 reserved[4];	/* 0 */
};

#define GPUP_VF_IOC_MAGIC	'G'
#define GPUP_VF_IOC_INFO	_IOR(GPUP_VF_IOC_MAGIC, 0x00, struct gpup_vf_info)
#define GPUP_VF_IOC_SUBMIT	_IOWR(GPUP_VF_IOC_MAGIC, 0x01, struct gpup_vf_submit)
#define GPUP_VF_IOC_WAIT	_IOW(GPUP_VF_IOC_MAGIC, 0x02, struct gpup_vf_wait)

#endif /* _UAPI_LINUX_GPUP_VF_H */
