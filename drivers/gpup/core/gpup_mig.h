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

/**
 * struct gpup_mig_why - why a backend refused device state from a stream
 * @field: the field at fault, "" when no single field is
 * @msg: one line for the user, without the field's name repeated
 *
 * The core reports both through the VF's last error (netlink, debugfs).
 */
struct gpup_mig_why {
	char field[32];
	char msg[96];
};

/**
 * struct gpup_mig_chunk - a piece of device state from a stream
 * @off: where @data starts within the state
 * @total: the state's size in bytes, the same for each of its chunks
 * @data: the bytes, already checked against the record's CRC
 * @len: their number, at least 1
 *
 * The chunks of a state reach the backend in order, back to back, from
 * @off 0; the last one has @off + @len == @total.
 */
struct gpup_mig_chunk {
	u64 off;
	u64 total;
	const void *data;
	size_t len;
};

/**
 * struct gpup_vf_info - what a backend tells of one VF, for management
 * @profile_id: the partition profile, as in the immutable state
 * @profile_name: its name
 * @vram_used: bytes of VRAM backed by memory
 * @engines: engines of the profile
 * @engine_state: idle, busy, quiesced or halted
 * @fence: value of the last FENCE
 * @engine_time_ns: time the VF's engines spent running its commands since
 *	the VF was created, on the host CPU or the device
 * @engine_throttled_ns: time work was pending but held back because the
 *	VF had used its engine budget
 * @engine_backlog: commands submitted and not yet retired
 * @engine_budget: share of one engine's time the VF may use, in percent
 *	(100: as much as it is given)
 */
struct gpup_vf_info {
	u32 profile_id;
	const char *profile_name;
	u64 vram_used;
	u32 engines;
	enum gpup_engine_state engine_state;
	u32 fence;
	u64 engine_time_ns;
	u64 engine_throttled_ns;
	u32 engine_backlog;
	u32 engine_budget;
};

/**
 * struct gpup_mig_ops - a backend's side of migration, after the KMD DDIs
 * @prepare: enter the migrating configuration, as the source (@source
 *	true) or the target; a target starts from empty VRAM.  Returns 0 or
 *	a negative errno, which fails the state change.
 *	(DxgkDdiPrepareLiveMigration)
 * @end: leave it, whatever happened (DxgkDdiEndLiveMigration)
 * @save_immutable: the state that never changes for the VF's lifetime,
 *	enough for a target to tell whether it can take this VF.  Two calls,
 *	as SaveImmutableGpup: with @buf NULL set *@len to the state's size
 *	(at least 1 byte, any size); otherwise copy *@len bytes of it, from
 *	byte @off, into @buf.  The core asks for the size once per stream,
 *	then for consecutive pieces of at most %GPUP_REC_STATE_CHUNK_MAX
 *	bytes, at any time while the stream is read.  Returns 0 or -errno.
 * @restore_immutable: check one chunk of a source's immutable state
 *	(RestoreImmutableGpup).  Chunks come in order; a backend checks
 *	@chunk->total at the first and what it can at each, and the whole at
 *	the last.  -EINVAL with @why filled refuses the source: the stream
 *	fails before any VRAM is written.
 * @save_mutable: the device state that changes (registers, rings,
 *	engine contexts, firmware state), as @save_immutable.  The size may
 *	be asked at any time, as an estimate for the data size reported to
 *	user space; the bytes only with the VF stopped and quiesced, when
 *	they do not change between calls, and the size asked then is the one
 *	the stream carries.  (SaveMutableGpup)
 * @restore_mutable: take one chunk of the mutable state, as
 *	@restore_immutable; the state takes effect with the last chunk.  The
 *	VF is in RESUMING, not running.  (RestoreMutableGpup)
 * @dirty_start: clear the dirty bitplane and arm tracking of VRAM writes
 * @dirty_query: move the dirty bits, a bit per %GPUP_MIG_PAGE_SIZE page,
 *	into @bitmap and re-arm; returns the pages dirty (QueryDirtyBitData)
 * @dirty_count: pages dirty now and not yet harvested, an estimate for the
 *	data size; optional
 * @populated: set in @bitmap the pages ever written (the first pass);
 *	returns their number
 * @vram_read: read @len bytes of VRAM at @off (page aligned) into @buf
 * @vram_page: optional, for VRAM backed by host memory: the page that
 *	holds VRAM page @idx with a reference the caller drops with
 *	put_page(), NULL for a page never written (it reads as zeros), or an
 *	ERR_PTR.  With it, read() copies VRAM straight to the user; without
 *	it, through @vram_read and a bounce page.
 * @vram_write: write @len bytes at @off of a target's VRAM; the core has
 *	checked the range against the VRAM size
 * @quiesce: no new engine work; work in flight stops at a point from which
 *	the target can restart it
 * @unquiesce: let the engines run again
 * @info: profile, VRAM in use and engine state, for management; may sleep
 *
 * The core makes a stream's calls (device state, dirty bits, VRAM) one at
 * a time, under the stream's lock, and state changes (@prepare, @end,
 * @quiesce, @unquiesce) under its state lock; the backend guards its
 * device against its other users.  The core never looks inside the device
 * state: its layout and version are the backend's, checked by the
 * backend's restore operations.
 */
struct gpup_mig_ops {
	int (*prepare)(struct gpup_mig *mig, bool source);
	void (*end)(struct gpup_mig *mig);
	int (*save_immutable)(struct gpup_mig *mig, u64 off, void *buf, size_t *len);
	int (*restore_immutable)(struct gpup_mig *mig,
				 const struct gpup_mig_chunk *chunk,
				 struct gpup_mig_why *why);
	int (*save_mutable)(struct gpup_mig *mig, u64 off, void *buf, size_t *len);
	int (*restore_mutable)(struct gpup_mig *mig,
			       const struct gpup_mig_chunk *chunk,
			       struct gpup_mig_why *why);
	void (*dirty_start)(struct gpup_mig *mig);
	unsigned long (*dirty_query)(struct gpup_mig *mig, unsigned long *bitmap);
	unsigned long (*dirty_count)(struct gpup_mig *mig);
	unsigned long (*populated)(struct gpup_mig *mig, unsigned long *bitmap);
	int (*vram_read)(struct gpup_mig *mig, u64 off, void *buf, size_t len);
	struct page *(*vram_page)(struct gpup_mig *mig, unsigned long idx);
	int (*vram_write)(struct gpup_mig *mig, u64 off, const void *buf,
			  size_t len);
	void (*quiesce)(struct gpup_mig *mig);
	void (*unquiesce)(struct gpup_mig *mig);
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
	bool open;			/* between gpup_mig_open() and _close() */
	struct gpup_mig_file *saving;
	struct gpup_mig_file *resuming;
	spinlock_t reset_lock;		/* protects deferred_reset; before info_lock */
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

/**
 * struct gpup_profile_info - a partition profile of a parent, for management
 * @id: as the immutable state names it
 * @name: e.g. "medium"
 * @vram_size: bytes of VRAM a VF of it has
 * @engines: engines a VF of it has
 * @available: more VFs of it that fit now
 */
struct gpup_profile_info {
	u32 id;
	const char *name;
	u64 vram_size;
	u32 engines;
	u32 available;
};

/**
 * struct gpup_parent_ops - what management asks of a physical device
 * @vram: its VRAM in all, and how much no VF holds
 * @profile: profile number @idx into @info, or -ENOENT past the last
 *
 * Called under the core's registry lock, between gpup_parent_register()
 * and gpup_parent_unregister(); they may sleep.
 */
struct gpup_parent_ops {
	void (*vram)(struct gpup_parent *parent, u64 *total, u64 *free);
	int (*profile)(struct gpup_parent *parent, unsigned int idx,
		       struct gpup_profile_info *info);
};

/**
 * struct gpup_parent - a physical device whose VFs the core manages
 * @dev: the device, for its name
 * @driver: the backend's driver name
 * @ops: management's operations
 * @id: set by the core, under its registry lock: the netlink id
 * @vfs: set by the core: VFs registered under it
 */
struct gpup_parent {
	struct device *dev;
	const char *driver;
	const struct gpup_parent_ops *ops;
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
int gpup_mig_set_precopy(struct gpup_mig *mig, bool on);
bool gpup_mig_precopy(struct gpup_mig *mig);
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
u64 gpup_mig_stream_max(struct gpup_mig *mig);
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
