/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup migration core: VFIO migration v2 for a GPU VF, device-independent.
 *
 * The core owns the VFIO state machine, the saving and resuming data files
 * and the stream.  It reaches the device only through struct gpup_mig_ops,
 * whose operations follow the Windows KMD live-migration DDIs:
 *
 *   prepare / end                 DxgkDdiPrepareLiveMigration, ...EndLiveMigration
 *   save_immutable / restore_...  DxgkDdiSave/RestoreImmutableMigrationData
 *   save_mutable / restore_...    DxgkDdiSave/RestoreMutableMigrationData
 *   dirty_start / dirty_query     start dirty tracking / QueryDirtyBitData over
 *   populated / vram_read/write   the VRAM "memory basis", a bit per 4 KiB page
 *   quiesce / unquiesce           stop / restart the VF's engines (STOP, P2P)
 *
 * A backend embeds struct gpup_mig in its device, calls gpup_mig_init()
 * from its vfio_device init, gpup_mig_open()/gpup_mig_close() from
 * open_device/close_device, gpup_mig_reset_prepare() and _done() around
 * every device reset,
 * and its vfio_migration_ops call gpup_mig_set_state(), _get_state() and
 * _data_size() on that gpup_mig.
 *
 * Management.  A backend registers each physical device as a gpup_parent
 * (its VRAM and partition profiles) and each VF with gpup_mig_register(),
 * so the "gpup" generic netlink family can list them and report their
 * migrations (Documentation/netlink/specs/gpup.yaml).
 */
#ifndef _GPUP_MIG_H_
#define _GPUP_MIG_H_

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>
#include <linux/gpup.h>
#include <linux/gpup_netlink.h>

#include "stream.h"

struct gpup_mig;
struct gpup_mig_file;
struct gpup_parent;
struct seq_file;

/* Why a backend refused state from a stream: the field, and one line */
struct gpup_mig_why {
	char field[32];		/* "" when no single field is at fault */
	char msg[96];
};

/* What a backend tells of one VF, for management */
struct gpup_vf_info {
	u32 profile_id;
	const char *profile_name;
	u64 vram_used;		/* bytes backed by memory */
	u32 engines;
	enum gpup_engine_state engine_state;
	u32 fence;		/* value of the last FENCE */
};

struct gpup_mig_ops {
	/* Enter and leave the migrating configuration (source or target) */
	int (*prepare)(struct gpup_mig *mig, bool source);
	void (*end)(struct gpup_mig *mig);

	/*
	 * Two-call pattern: with @buf NULL, set *@len to the size needed;
	 * otherwise fill at most *@len bytes and set *@len to what was
	 * written (-ENOSPC when it does not fit).
	 */
	int (*save_immutable)(struct gpup_mig *mig, void *buf, size_t *len);
	int (*save_mutable)(struct gpup_mig *mig, void *buf, size_t *len);
	/* -EINVAL with the field and a one-line reason in @why */
	int (*restore_immutable)(struct gpup_mig *mig, const void *buf,
				 size_t len, struct gpup_mig_why *why);
	int (*restore_mutable)(struct gpup_mig *mig, const void *buf,
			       size_t len, struct gpup_mig_why *why);

	/* Clear the dirty bitplane and arm tracking */
	void (*dirty_start)(struct gpup_mig *mig);
	/* Move the dirty bits into @bitmap, re-arm; returns pages dirty */
	unsigned long (*dirty_query)(struct gpup_mig *mig, unsigned long *bitmap);
	/* Pages dirty now, not yet harvested (an estimate; may be NULL) */
	unsigned long (*dirty_count)(struct gpup_mig *mig);
	/* Pages ever written (the first pass); returns their number */
	unsigned long (*populated)(struct gpup_mig *mig, unsigned long *bitmap);
	int (*vram_read)(struct gpup_mig *mig, u64 off, void *buf, size_t len);
	/*
	 * Optional, for VRAM backed by host memory: the page that holds VRAM
	 * page @idx with a reference the caller drops with put_page(), NULL
	 * for a page never written (it reads as zeros), or an ERR_PTR.  With
	 * it, read() copies VRAM straight to the user; without it, through
	 * vram_read() and a bounce page.
	 */
	struct page *(*vram_page)(struct gpup_mig *mig, unsigned long idx);
	int (*vram_write)(struct gpup_mig *mig, u64 off, const void *buf,
			  size_t len);

	/* No new engine work, in-flight work stopped at a restartable point */
	void (*quiesce)(struct gpup_mig *mig);
	void (*unquiesce)(struct gpup_mig *mig);

	/* Management: profile, VRAM in use, engine state (may sleep) */
	void (*info)(struct gpup_mig *mig, struct gpup_vf_info *info);
};

/* Of the current (or last) stream, but migrations */
struct gpup_mig_stats {
	u64 precopy_bytes;	/* read while the VM ran */
	u64 stopcopy_bytes;	/* read after it stopped */
	u64 resume_bytes;	/* written on the target */
	u32 rounds;		/* dirty rounds after the first pass */
	u32 migrations;		/* saving streams completed, ever */
};

struct gpup_mig {
	struct vfio_device *vdev;
	const struct gpup_mig_ops *ops;
	u64 vram_size;
	unsigned long npages;
	struct mutex state_mutex;	/* state, files, quiesced */
	enum vfio_device_mig_state state;
	bool quiesced;
	struct gpup_mig_file *saving;
	struct gpup_mig_file *resuming;
	spinlock_t reset_lock;		/* protects deferred_reset */
	bool deferred_reset;
	spinlock_t info_lock;		/* stats, errors, resetting; files for readers */
	unsigned int resetting;		/* device resets under way */
	struct gpup_mig_stats stats;
	char last_error[128];		/* why the last stream was refused */
	char error_field[32];		/* and the field at fault, if one */
	/* management, under the core's registry lock */
	u32 id;				/* 0 until registered */
	struct gpup_parent *parent;
};

/* A partition profile of a parent, for management */
struct gpup_profile_info {
	u32 id;				/* as in the immutable state */
	const char *name;
	u64 vram_size;
	u32 engines;
	u32 available;			/* more VFs of it that fit now */
};

struct gpup_parent_ops {
	void (*vram)(struct gpup_parent *parent, u64 *total, u64 *free);
	/* Profile number @idx, or -ENOENT past the last */
	int (*profile)(struct gpup_parent *parent, unsigned int idx,
		       struct gpup_profile_info *info);
};

/* A physical device whose VFs the core manages */
struct gpup_parent {
	struct device *dev;
	const char *driver;
	const struct gpup_parent_ops *ops;
	/* set by the core, under its registry lock */
	u32 id;
	unsigned int vfs;
};

int gpup_parent_register(struct gpup_parent *parent);
void gpup_parent_unregister(struct gpup_parent *parent);
int gpup_mig_register(struct gpup_mig *mig, struct gpup_parent *parent);
void gpup_mig_unregister(struct gpup_mig *mig);

int gpup_mig_init(struct gpup_mig *mig, struct vfio_device *vdev,
		  const struct gpup_mig_ops *ops, u64 vram_size);
void gpup_mig_destroy(struct gpup_mig *mig);
void gpup_mig_open(struct gpup_mig *mig);
void gpup_mig_close(struct gpup_mig *mig);
void gpup_mig_reset_prepare(struct gpup_mig *mig);
void gpup_mig_reset_done(struct gpup_mig *mig);
void gpup_mig_show(struct gpup_mig *mig, struct seq_file *s);

/* The VFIO entry points, callable without a registered vfio_device */
struct file *gpup_mig_set_state(struct gpup_mig *mig,
				enum vfio_device_mig_state new_state);
enum vfio_device_mig_state gpup_mig_get_state(struct gpup_mig *mig);
u64 gpup_mig_data_size(struct gpup_mig *mig);

/* Used between mig.c and file.c */
void gpup_mig_state_unlock(struct gpup_mig *mig);
struct gpup_mig_file *gpup_mig_save_file(struct gpup_mig *mig, bool stopped);
struct gpup_mig_file *gpup_mig_resume_file(struct gpup_mig *mig);
void gpup_mig_file_stop(struct gpup_mig_file *migf);
enum gpup_mig_file_end {
	GPUP_MIG_FILE_COMPLETE,		/* the whole stream went through */
	GPUP_MIG_FILE_REFUSED,		/* the parser or the backend refused it */
	GPUP_MIG_FILE_DISABLED,		/* cut by a reset */
	GPUP_MIG_FILE_SHORT,		/* not at its end yet */
};

enum gpup_mig_file_end gpup_mig_file_end(struct gpup_mig_file *migf);
bool gpup_mig_has_error(struct gpup_mig *mig);
void gpup_mig_file_disable(struct gpup_mig_file *migf);
struct file *gpup_mig_file_get(struct gpup_mig_file *migf);
void gpup_mig_file_put(struct gpup_mig_file *migf);
u64 gpup_mig_file_pending(struct gpup_mig_file *migf);
bool gpup_mig_file_pending_nowait(struct gpup_mig_file *migf, u64 *pending);
int gpup_mig_precopy_info(struct gpup_mig_file *migf, u64 *initial, u64 *dirty);
__printf(3, 4) void gpup_mig_set_error(struct gpup_mig *mig, const char *field,
				       const char *fmt, ...);
bool gpup_mig_file_claim_report(struct gpup_mig_file *migf);

/* crc.c: crc32c(), and the copy to the user that sums what it copies */
int gpup_crc_init(void);
void gpup_crc_exit(void);
u32 gpup_crc(u32 crc, const void *buf, size_t len);
int gpup_crc_copy_to_user(void __user *dst, const void *src, size_t len, u32 *crc);
#if IS_ENABLED(CONFIG_GPUP_KUNIT_TEST)
struct file *mig_set_state_locked(struct gpup_mig *mig,
				  enum vfio_device_mig_state new_state);
#endif

#endif /* _GPUP_MIG_H_ */
