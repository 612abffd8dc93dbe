/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup_sim: a software GPU-P virtual function exposed as an mdev device.
 *
 * The pieces are split by concern: pool.c accounts VRAM across VFs,
 * config.c emulates PCI config space, regs.c decodes BAR0, vram.c backs
 * BAR2 with lazily allocated pages and tracks dirty pages, engine.c runs
 * the command ring, vfio.c is the VFIO glue, gpu.c a GPU (the mdev parent
 * and its types), pci.c GPUs on PCI functions and main.c the module.
 * config.c, regs.c, pool.c and the validation half of engine.c are pure
 * logic with KUnit tests in tests/.
 */
#ifndef _GPUP_SIM_H_
#define _GPUP_SIM_H_

#include <linux/eventfd.h>
#include <linux/kthread.h>
#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/gpup.h>
#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>

#include "../core/gpup_mig.h"

struct dentry;

/* A partition profile: what one mdev type hands to a VF */
struct gpup_profile {
	enum gpup_profile_id id;
	const char *name;		/* mdev type suffix */
	u64 vram_size;
	u32 engines;
};

/* gpu.c: one simulated GPU, its mdev types and its VRAM pool */
struct gpup_sim_gpu;
struct gpup_pool;

extern struct mdev_driver gpup_sim_mdev_driver;

struct gpup_sim_gpu *gpup_sim_gpu_add(struct device *dev, u64 vram);
void gpup_sim_gpu_remove(struct gpup_sim_gpu *gpu);
void gpup_sim_gpu_get(struct gpup_sim_gpu *gpu);
void gpup_sim_gpu_put(struct gpup_sim_gpu *gpu);
const struct gpup_profile *gpup_type_profile(struct mdev_type *mtype);
struct gpup_pool *gpup_type_pool(struct mdev_type *mtype);
struct gpup_pool *gpup_type_pool_get(struct mdev_type *mtype);
void gpup_pool_put(struct gpup_pool *pool);
struct gpup_parent *gpup_type_mgmt(struct mdev_type *mtype);

/* pci.c: PCI functions bound to gpup_sim as GPUs */
int gpup_sim_pci_register(unsigned int vram_mb);
void gpup_sim_pci_unregister(void);

/* pool.c: the parent's VRAM, shared by all its VFs */
struct gpup_pool {
	spinlock_t lock;		/* protects used */
	u64 total;
	u64 used;
};

void gpup_pool_init(struct gpup_pool *pool, u64 total);
int gpup_pool_reserve(struct gpup_pool *pool, u64 size);
void gpup_pool_release(struct gpup_pool *pool, u64 size);
unsigned int gpup_pool_available(struct gpup_pool *pool, u64 size);

/* config.c: PCI config space */
#define GPUP_CFG_SIZE		256
#define GPUP_CFG_MSI_CAP	0x40

struct gpup_cfg {
	u8 data[GPUP_CFG_SIZE];
	u8 wmask[GPUP_CFG_SIZE];	/* bits a config write may change */
};

void gpup_cfg_init(struct gpup_cfg *cfg, const struct gpup_profile *profile);
int gpup_cfg_read(const struct gpup_cfg *cfg, unsigned int off, void *buf,
		  unsigned int len);
int gpup_cfg_write(struct gpup_cfg *cfg, unsigned int off, const void *buf,
		   unsigned int len);
void gpup_cfg_set_intx_pending(struct gpup_cfg *cfg, bool pending);
bool gpup_cfg_intx_disabled(const struct gpup_cfg *cfg);
u16 gpup_cfg_command(const struct gpup_cfg *cfg);

/* regs.c: the BAR0 register file */
struct gpup_regs {
	u32 scratch[4];
	u32 ctrl;
	u32 status;
	u32 error;
	u32 error_head;
	u32 int_status;
	u32 int_mask;
	u64 ring_base;
	u32 ring_size;
	u32 ring_head;
	u32 ring_tail;
	u32 fence;
	u32 fence_count;
	u32 cmd_count;
};

/* What a register write asks of the device beyond storing a value */
#define GPUP_REG_ACT_KICK	BIT(0)	/* the engine may have work */
#define GPUP_REG_ACT_RESET	BIT(1)	/* function-level reset */
#define GPUP_REG_ACT_IRQ	BIT(2)	/* interrupt state changed */
#define GPUP_REG_ACT_EDGE	BIT(3)	/* a pending interrupt was unmasked */

void gpup_regs_init(struct gpup_regs *regs);
int gpup_regs_check_access(u64 off, size_t len);
u32 gpup_regs_read(const struct gpup_regs *regs,
		   const struct gpup_profile *profile, u32 off);
int gpup_regs_check_state(const struct gpup_regs *regs, const char **field);
unsigned int gpup_regs_write(struct gpup_regs *regs, u32 off, u32 val);

/* vram.c: BAR2, host pages allocated on first write */
struct gpup_vram {
	struct rw_semaphore lock;	/* page lifetime against faults */
	struct xarray pages;		/* page index -> struct page */
	struct mem_cgroup *memcg;	/* the owner's, charged for pages */
	struct rw_semaphore decode_lock;	/* a region access against @decode */
	bool decode;			/* BAR2 answers: PCI memory enabled */
	unsigned long *dirty;		/* a bit per page written */
	struct address_space *mapping;	/* of the VFIO device file */
	loff_t map_offset;		/* BAR2 offset in that file */
	u64 size;
	unsigned long npages;
	atomic_long_t allocated;	/* pages present */
};

int gpup_vram_init(struct gpup_vram *vram, u64 size);
void gpup_vram_destroy(struct gpup_vram *vram);
void gpup_vram_set_mapping(struct gpup_vram *vram,
			   struct address_space *mapping, loff_t offset);
void gpup_vram_clear(struct gpup_vram *vram, bool mark_dirty);
void gpup_vram_set_owner(struct gpup_vram *vram, struct mem_cgroup *memcg);
void gpup_vram_set_decode(struct gpup_vram *vram, bool decode);
struct page *gpup_vram_get_page(struct gpup_vram *vram, unsigned long idx);
int gpup_vram_read(struct gpup_vram *vram, u64 off, void *buf, size_t len);
int gpup_vram_write(struct gpup_vram *vram, u64 off, const void *buf,
		    size_t len);
ssize_t gpup_vram_rw_user(struct gpup_vram *vram, u64 off, char __user *buf,
			  size_t len, bool write);
int gpup_vram_fill32(struct gpup_vram *vram, u64 off, u64 len, u32 pattern);
int gpup_vram_copy(struct gpup_vram *vram, u64 dst, u64 src, u64 len);
int gpup_vram_mmap(struct gpup_vram *vram, struct vm_area_struct *vma);
unsigned long gpup_vram_dirty_harvest(struct gpup_vram *vram,
				      unsigned long *bitmap);
void gpup_vram_dirty_arm(struct gpup_vram *vram);
unsigned long gpup_vram_populated(struct gpup_vram *vram, unsigned long *bitmap);
u32 gpup_vram_checksum(struct gpup_vram *vram);

/* engine.c: the command engine, scheduled in time slices */
struct gpup_engine {
	struct kthread_worker *worker;	/* in the VF owner's cgroups */
	struct kthread_delayed_work work;
	/* a command cut short at the end of a slice, continued in the next */
	struct gpup_cmd cur;
	u32 cur_head;
	u64 cur_done;
	bool cur_valid;
	/* budget: at most budget percent of each period, under vf->lock */
	u32 budget;
	u64 period_start;
	u64 period_used;
	u64 throttled_at;		/* when held back, or 0 */
	/* accounting since the VF was created, under vf->lock */
	u64 time_ns;
	u64 throttled_ns;
	u64 slices;
	u64 throttles;
	u64 bytes;
};

#define GPUP_ENGINE_PERIOD_NS	(100 * NSEC_PER_MSEC)

enum gpup_engine_error gpup_ring_validate(const struct gpup_regs *regs,
					  u64 vram_size);
enum gpup_engine_error gpup_cmd_validate(const struct gpup_cmd *cmd,
					 u64 vram_size);

struct gpup_vf;
void gpup_engine_init(struct gpup_vf *vf);
void gpup_engine_kick(struct gpup_vf *vf);
void gpup_engine_stop(struct gpup_vf *vf);
void gpup_engine_start(struct gpup_vf *vf);
void gpup_engine_quiesce(struct gpup_vf *vf, bool quiesce);
int gpup_engine_open(struct gpup_vf *vf);
void gpup_engine_close(struct gpup_vf *vf);
u32 gpup_engine_backlog_locked(struct gpup_vf *vf);
u64 gpup_engine_throttled_locked(struct gpup_vf *vf);

/* The whole VF.  Locks nest reset_lock, lock, vram.lock. */
struct gpup_vf {
	struct vfio_device vdev;
	const struct gpup_profile *profile;
	struct gpup_pool *pool;
	struct mutex reset_lock;	/* serialises resets */
	struct mutex lock;		/* config, registers, irq triggers */
	struct gpup_cfg cfg;
	struct gpup_regs regs;
	struct gpup_vram vram;
	struct gpup_engine eng;
	bool engine_stopped;		/* set while reset drains the engine */
	bool quiesced;			/* migration: no engine work */
	int irq_index;			/* VFIO_PCI_*_IRQ_INDEX in use, or -1 */
	struct eventfd_ctx *intx_trigger;
	struct eventfd_ctx *msi_trigger;
	struct eventfd_ctx *req_trigger;	/* asks the user to release */
	bool intx_masked;
	bool msi_pending;		/* due while bus mastering was off */
	bool dma_logging;		/* the user started DMA dirty logging */
	u8 *ctx;			/* engines' context images, under lock */
	struct gpup_mig mig;		/* VFIO migration, via the core */
	/* a target's device state until its last chunk, under mig's locks */
	struct gpup_sim_immutable mig_im;
	struct gpup_sim_mutable mig_mut;
	struct dentry *debugfs;
};

static inline struct gpup_vf *vdev_to_vf(struct vfio_device *vdev)
{
	return container_of(vdev, struct gpup_vf, vdev);
}

/* engine.c: context images */
size_t gpup_ctx_bytes(const struct gpup_profile *profile);
void gpup_engine_ctx_record_locked(struct gpup_vf *vf, const struct gpup_cmd *cmd);

/* vfio.c */
extern const struct vfio_device_ops gpup_vf_ops;
void gpup_vf_raise_locked(struct gpup_vf *vf, u32 int_bits);
void gpup_vf_update_irq_locked(struct gpup_vf *vf);
void gpup_vf_command_changed_locked(struct gpup_vf *vf, u16 old);

/*
 * What a reset returns to power-on.  All stop the engine and empty VRAM,
 * the registers and the contexts.  GPUP_RESET_ENGINE (the guest's CTRL
 * reset) leaves a migration going; GPUP_RESET_FUNCTION (VFIO_DEVICE_RESET)
 * ends it but keeps the config space, which the host restores around a
 * function reset; GPUP_RESET_POWER_ON (release by the user) resets all.
 */
enum gpup_reset_kind {
	GPUP_RESET_ENGINE,
	GPUP_RESET_FUNCTION,
	GPUP_RESET_POWER_ON,
};

void gpup_vf_reset(struct gpup_vf *vf, enum gpup_reset_kind kind);

/* mig.c: the backend of the migration core */
extern const struct gpup_mig_ops gpup_sim_mig_ops;
extern const struct vfio_migration_ops gpup_sim_mig_vfio_ops;

/* dma_log.c */
void gpup_sim_dma_log_init(struct gpup_vf *vf);
void gpup_sim_dma_log_close(struct gpup_vf *vf);

/* debugfs.c */
void gpup_debugfs_init(void);
void gpup_debugfs_exit(void);
void gpup_debugfs_add_vf(struct gpup_vf *vf);
void gpup_debugfs_remove_vf(struct gpup_vf *vf);

/* sysfs.c */
extern const struct attribute_group *gpup_vf_groups[];

#endif /* _GPUP_SIM_H_ */
