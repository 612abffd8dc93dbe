/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup_vf: the guest driver of a gpup GPU-P virtual function.
 *
 * main.c   PCI probe and remove, interrupt, engine recovery and resets
 * ring.c   pure logic: ring space, command checks and encoding, fences
 * cdev.c   the character device: ioctls and the VRAM mmap
 * debugfs.c fault injection for the tests
 */
#ifndef _GPUP_VF_H
#define _GPUP_VF_H

#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <gpup/sim_hw.h>
#include <linux/gpup_vf.h>

#define GPUP_VF_NAME		"gpup_vf"

/* The driver's ring: 2048 commands, at the top of VRAM */
#define GPUP_VF_RING_SIZE	0x10000U
#define GPUP_VF_CMD_SIZE	sizeof(struct gpup_cmd)

/* Fence ranges a recovery failed that WAIT still reports as -EIO */
#define GPUP_VF_FAILED_RANGES	32

/* ring.c: pure logic, no device access, KUnit-tested */

/**
 * struct gpup_vf_fence_range - fences a recovery failed, first to last
 * @first: the first failed sequence number
 * @last: the last failed sequence number
 */
struct gpup_vf_fence_range {
	u64 first;
	u64 last;
};

/**
 * struct gpup_vf_fences - 64-bit fence bookkeeping
 * @first: the first sequence number the driver hands out
 * @submitted: last sequence number handed out
 * @completed: last sequence number signalled or failed
 * @failed: ranges of failed fences, oldest first
 * @nr_failed: entries used in @failed
 *
 * The caller serialises all access (gpup_vf_dev.fence_lock).
 */
struct gpup_vf_fences {
	u64 first;
	u64 submitted;
	u64 completed;
	struct gpup_vf_fence_range failed[GPUP_VF_FAILED_RANGES];
	unsigned int nr_failed;
};

u32 gpup_vf_ring_space(u32 size, u32 head, u32 tail);
u32 gpup_vf_batch_slots(const struct gpup_vf_cmd *cmds, u32 count);
int gpup_vf_cmd_check(const struct gpup_vf_cmd *cmd, u64 limit);
void gpup_vf_cmd_encode(const struct gpup_vf_cmd *cmd, u64 seqno,
			struct gpup_cmd *out);
void gpup_vf_fence_cmd(u64 seqno, struct gpup_cmd *out);
void gpup_vf_fences_init(struct gpup_vf_fences *f, u64 first);
u64 gpup_vf_fence_expand(u32 hw, u64 submitted);
bool gpup_vf_fences_signal(struct gpup_vf_fences *f, u32 hw);
void gpup_vf_fences_fail(struct gpup_vf_fences *f);
int gpup_vf_fences_status(const struct gpup_vf_fences *f, u64 seqno);

/* Engine states, as struct gpup_vf_info reports them (and removal) */
enum gpup_vf_state {
	GPUP_VF_RUNNING,
	GPUP_VF_RECOVERING,	/* engine halted, or a reset under way */
	GPUP_VF_GONE,		/* unbound: everything returns -ENODEV */
};

/*
 * Locking, outermost first: unplug_rwsem (device access against removal),
 * submit_lock (the ring), fence_lock (state and fences; the interrupt
 * handler takes it).  No user memory is accessed under unplug_rwsem: the
 * VRAM fault handler takes it, and a command array may live in VRAM.
 */

/**
 * struct gpup_vf_dev - one bound VF
 * @pdev: the PCI function; NULL once removed
 * @regs: BAR0, the registers
 * @ring: the driver's ring, mapped from BAR2
 * @vram_phys: bus address of BAR2, for the user mmap
 * @vram_size: the VF's VRAM in bytes
 * @ring_offset: VRAM offset of the ring: the end of the user's VRAM
 * @profile: profile register
 * @engines: engines register
 * @irq_mode: enum gpup_vf_irq
 * @misc: /dev/gpup_vfN
 * @name: the misc device's name
 * @id: N
 * @ref: the probe and every open file hold one
 * @unplug_rwsem: held for reading by each ioctl and VRAM fault while it
 *	touches the device, for writing by remove to wait them out
 * @submit_lock: serialises submitters, recovery and resets; protects
 *	@tail and the ring's contents
 * @tail: byte offset in the ring where the next command goes
 * @fence_lock: protects @state, @fences, @last_error, @irqs and
 *	@recoveries; taken in the interrupt handler
 * @state: enum gpup_vf_state
 * @fences: fence bookkeeping
 * @last_error: ERROR register at the last halt
 * @irqs: interrupts handled
 * @recoveries: engine errors and resets recovered from
 * @wq: waiters for fences, ring space, recovery and removal
 * @recover_work: recovers from an engine halt
 * @files: open files, for zapping their mappings at removal
 * @files_lock: protects @files
 * @debugfs: the device's debugfs folder
 */
struct gpup_vf_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	void __iomem *ring;
	phys_addr_t vram_phys;
	u64 vram_size;
	u64 ring_offset;
	u32 profile;
	u32 engines;
	u32 irq_mode;
	struct miscdevice misc;
	char name[24];
	int id;
	struct kref ref;

	struct rw_semaphore unplug_rwsem;	/* device access vs. removal */
	struct mutex submit_lock;	/* submitters, recovery, resets; @tail */
	u32 tail;

	spinlock_t fence_lock;		/* @state .. @recoveries; irq-safe */
	enum gpup_vf_state state;
	struct gpup_vf_fences fences;
	u32 last_error;
	u64 irqs;
	u64 recoveries;

	wait_queue_head_t wq;
	struct work_struct recover_work;
	struct list_head files;
	struct mutex files_lock;	/* @files */
	struct dentry *debugfs;
};

/**
 * struct gpup_vf_file - one open of /dev/gpup_vfN
 * @vf: the VF, referenced
 * @mapping: the file's address space, zapped at removal
 * @node: in gpup_vf_dev.files
 */
struct gpup_vf_file {
	struct gpup_vf_dev *vf;
	struct address_space *mapping;
	struct list_head node;
};

/* main.c */
void gpup_vf_put(struct gpup_vf_dev *vf);
int gpup_vf_submit(struct gpup_vf_dev *vf, const struct gpup_vf_cmd *cmds,
		   u32 count, u64 *fence);
int gpup_vf_wait(struct gpup_vf_dev *vf, u64 seqno, u64 timeout_ns);
void gpup_vf_get_info(struct gpup_vf_dev *vf, struct gpup_vf_info *info);
int gpup_vf_inject_error(struct gpup_vf_dev *vf);
int gpup_vf_dev_reset(struct gpup_vf_dev *vf);

/* cdev.c */
int gpup_vf_cdev_register(struct gpup_vf_dev *vf);
void gpup_vf_cdev_unregister(struct gpup_vf_dev *vf);
void gpup_vf_cdev_zap(struct gpup_vf_dev *vf);

/* debugfs.c */
#if IS_ENABLED(CONFIG_DEBUG_FS)
void gpup_vf_debugfs_init(void);
void gpup_vf_debugfs_exit(void);
void gpup_vf_debugfs_add(struct gpup_vf_dev *vf);
void gpup_vf_debugfs_remove(struct gpup_vf_dev *vf);
#else
static inline void gpup_vf_debugfs_init(void) { }
static inline void gpup_vf_debugfs_exit(void) { }
static inline void gpup_vf_debugfs_add(struct gpup_vf_dev *vf) { }
static inline void gpup_vf_debugfs_remove(struct gpup_vf_dev *vf) { }
#endif

#endif /* _GPUP_VF_H */
