// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: the VFIO migration state machine.
 *
 * The engine of the VF runs in RUNNING and PRE_COPY only; every other
 * state is quiesced.  The saving states PRE_COPY, PRE_COPY_P2P and
 * STOP_COPY share one data file: moving within them never ends or resets
 * it, and what PRE_COPY did not send is sent in STOP_COPY.
 *
 * Reset.  A device reset may come while another thread holds state_mutex
 * (VFIO_DEVICE_RESET runs under locks a state change may need), so the
 * backend brackets it with gpup_mig_reset_prepare() and _done().  Prepare
 * disables every data file before the device is touched, and files born
 * until done are born disabled: no read or write reaches the device once
 * its reset has begun, and a target never accepts a stream that a reset
 * cut.  Done records the reset and takes state_mutex if free; whoever
 * releases state_mutex applies it: files ended, state back to RUNNING.
 */
#include <kunit/visibility.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "gpup_nl.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static bool state_runs_engine(enum vfio_device_mig_state state)
{
	return state == VFIO_DEVICE_STATE_RUNNING ||
	       state == VFIO_DEVICE_STATE_PRE_COPY;
}

static void mig_set_state(struct gpup_mig *mig, enum vfio_device_mig_state state)
{
	enum vfio_device_mig_state old = mig->state;

	mig->state = state;
	if (old != state)
		gpup_nl_state(mig, old, state);
}

/*
 * The open files change under state_mutex and are published under
 * info_lock too, so management can take a reference to one without
 * state_mutex.  A file leaves its slot before the core drops its own
 * reference, so a reference taken under info_lock is never to a file
 * being freed.
 */
static void mig_publish(struct gpup_mig *mig, struct gpup_mig_file **slot,
			struct gpup_mig_file *migf)
{
	bool resetting;

	spin_lock(&mig->info_lock);
	*slot = migf;
	resetting = migf && mig->resetting;
	spin_unlock(&mig->info_lock);
	/* born during a reset: the device under it is not the stream's */
	if (resetting)
		gpup_mig_file_disable(migf);
}

/* Report how a stream ended, once: whoever claims the report first */
static void mig_report(struct gpup_mig *mig, struct gpup_mig_file *migf,
		       enum gpup_mig_result result)
{
	if (gpup_mig_file_claim_report(migf))
		gpup_nl_done(mig, migf == mig->saving ? GPUP_MIG_DIR_SAVE :
			     GPUP_MIG_DIR_RESUME, result);
}

/*
 * A file is disabled before it leaves its slot: a reset that no longer
 * finds it there must find it unable to reach the device.
 */
static void mig_end_file(struct gpup_mig *mig, struct gpup_mig_file **slot,
			 enum gpup_mig_result result)
{
	struct gpup_mig_file *migf = *slot;

	mig_report(mig, migf, result);
	gpup_mig_file_disable(migf);
	mig_publish(mig, slot, NULL);
	gpup_mig_file_put(migf);
}

/*
 * Why a resuming stream that stands as @end failed, unless the write that
 * failed already said so: a reset cut it, or it never reached its END
 * record.  A complete stream has nothing to say.
 */
static void mig_resume_why(struct gpup_mig *mig, enum gpup_mig_file_end end)
{
	if (gpup_mig_has_error(mig))
		return;
	if (end == GPUP_MIG_FILE_DISABLED)
		gpup_mig_set_error(mig, "", "device reset during the stream");
	else if (end == GPUP_MIG_FILE_SHORT)
		gpup_mig_set_error(mig, "", "incomplete stream: no end record");
}

/*
 * Drop the stream in progress, if any, and leave the migrating
 * configuration.  A stream not reported yet ended early: a saving one
 * was abandoned, a resuming one left its device half restored, and says
 * why before management hears of it (closed, re-opened or reset with the
 * stream unfinished).
 */
static void mig_end_files_locked(struct gpup_mig *mig)
{
	struct gpup_mig_file *saving = mig->saving, *resuming = mig->resuming;

	if (saving)
		mig_end_file(mig, &mig->saving, GPUP_MIG_RESULT_CANCELLED);
	if (resuming) {
		mig_resume_why(mig, gpup_mig_file_end(resuming));
		mig_end_file(mig, &mig->resuming, GPUP_MIG_RESULT_FAILED);
	}
	if (saving || resuming)
		mig->ops->end(mig);
}

static void mig_set_quiesced(struct gpup_mig *mig, bool quiesced);

/* Release state_mutex, applying any reset that came meanwhile */
void gpup_mig_state_unlock(struct gpup_mig *mig)
{
again:
	spin_lock(&mig->reset_lock);
	if (mig->deferred_reset) {
		mig->deferred_reset = false;
		spin_unlock(&mig->reset_lock);
		mig_end_files_locked(mig);
		mig_set_state(mig, VFIO_DEVICE_STATE_RUNNING);
		/* whatever a racing transition did, the backend runs again */
		mig->quiesced = true;
		mig_set_quiesced(mig, false);
		goto again;
	}
	mutex_unlock(&mig->state_mutex);
	spin_unlock(&mig->reset_lock);
}

/**
 * gpup_mig_reset_prepare() - a reset of the device is about to begin
 * @mig: the VF's migration state
 *
 * Disables the VF's data files: a read() or write() in progress finishes
 * its current page, then every one fails with -ENODEV without touching the
 * device, and a stream that was resuming can no longer complete.  Files
 * created before gpup_mig_reset_done() are disabled as they are born.
 * Takes no state_mutex, so it may run while another thread holds it.
 *
 * Context: process context; sleeps.  Pair with gpup_mig_reset_done().
 */
void gpup_mig_reset_prepare(struct gpup_mig *mig)
{
	struct gpup_mig_file *files[2];
	struct file *filps[2] = {};
	int i;

	spin_lock(&mig->info_lock);
	mig->resetting++;
	files[0] = mig->saving;
	files[1] = mig->resuming;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i])
			filps[i] = gpup_mig_file_get(files[i]);
	spin_unlock(&mig->info_lock);

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (!filps[i])
			continue;
		gpup_mig_file_disable(files[i]);
		fput(filps[i]);
	}
}
EXPORT_SYMBOL_GPL(gpup_mig_reset_prepare);

/**
 * gpup_mig_reset_done() - the device has been reset
 * @mig: the VF's migration state
 *
 * Ends the migration the reset interrupted and puts the state machine back
 * in RUNNING with the engine unquiesced, now if state_mutex is free, or
 * else when its holder releases it.
 *
 * Context: process context; sleeps.  After gpup_mig_reset_prepare().
 */
void gpup_mig_reset_done(struct gpup_mig *mig)
{
	/*
	 * The reset stops disabling new files and becomes pending in one
	 * step.  Apart, a thread taking state_mutex between the two would
	 * start a stream on the reset device, live because the reset looked
	 * over, and release state_mutex with no reset to apply yet: the
	 * stream writes VRAM until the reset is applied, which then ends the
	 * stream but leaves its pages, and a target is neither power-on nor
	 * the source.  Together, whoever finds the reset over also finds it
	 * pending, and applies it before releasing state_mutex.
	 */
	spin_lock(&mig->reset_lock);
	mig->deferred_reset = true;
	spin_lock(&mig->info_lock);
	if (!WARN_ON(!mig->resetting))
		mig->resetting--;
	spin_unlock(&mig->info_lock);
	if (!mutex_trylock(&mig->state_mutex)) {
		spin_unlock(&mig->reset_lock);
		return;
	}
	spin_unlock(&mig->reset_lock);
	gpup_mig_state_unlock(mig);
}
EXPORT_SYMBOL_GPL(gpup_mig_reset_done);

static void mig_set_quiesced(struct gpup_mig *mig, bool quiesced)
{
	if (mig->quiesced == quiesced)
		return;
	if (quiesced)
		mig->ops->quiesce(mig);
	else
		mig->ops->unquiesce(mig);
	mig->quiesced = quiesced;
}

/* A new stream: its figures start from zero, its errors are its own */
static void mig_new_stream(struct gpup_mig *mig)
{
	spin_lock(&mig->info_lock);
	mig->stats.precopy_bytes = 0;
	mig->stats.stopcopy_bytes = 0;
	mig->stats.resume_bytes = 0;
	mig->stats.rounds = 0;
	mig->last_error[0] = 0;
	mig->error_field[0] = 0;
	spin_unlock(&mig->info_lock);
}

/*
 * A new stream, saving (@save; @stopped: from STOP) or resuming: the
 * backend prepares, then its data file is made and published.  A failed
 * prepare() fails the arc with the backend's own error, either way.
 */
static struct file *mig_start_stream(struct gpup_mig *mig, bool save, bool stopped)
{
	struct gpup_mig_file *migf;
	int ret;

	mig_new_stream(mig);
	ret = mig->ops->prepare(mig, save);
	if (ret)
		return ERR_PTR(ret);
	migf = save ? gpup_mig_save_file(mig, stopped) : gpup_mig_resume_file(mig);
	if (IS_ERR(migf)) {
		mig->ops->end(mig);
		return ERR_CAST(migf);
	}
	mig_publish(mig, save ? &mig->saving : &mig->resuming, migf);
	return gpup_mig_file_get(migf);
}

static void mig_end_saving(struct gpup_mig *mig)
{
	if (mig->saving && gpup_mig_file_end(mig->saving) == GPUP_MIG_FILE_COMPLETE) {
		spin_lock(&mig->info_lock);
		mig->stats.migrations++;
		spin_unlock(&mig->info_lock);
		mig_report(mig, mig->saving, GPUP_MIG_RESULT_OK);
	}
	mig_end_files_locked(mig);
}

/*
 * RESUMING -> STOP: the device runs only a stream that arrived whole.  A
 * half-restored device is unusable until reset, and says why.
 */
static struct file *mig_end_resuming(struct gpup_mig *mig)
{
	enum gpup_mig_file_end end = gpup_mig_file_end(mig->resuming);

	if (end == GPUP_MIG_FILE_COMPLETE) {
		mig_report(mig, mig->resuming, GPUP_MIG_RESULT_OK);
		mig_end_files_locked(mig);
		return NULL;
	}
	mig_resume_why(mig, end);
	mig_end_files_locked(mig);
	mig_set_state(mig, VFIO_DEVICE_STATE_ERROR);
	return ERR_PTR(-EINVAL);
}

/*
 * One arc of the state machine: each arc vfio_mig_get_next_state() can give
 * a device with STOP_COPY and P2P, with PRE_COPY or without it, from the
 * state the device is in.  The caller quiesces the engine before the arc and resumes it after,
 * as the states say.  Returns the new data file, NULL, or an ERR_PTR().
 */
static struct file *mig_step(struct gpup_mig *mig, enum vfio_device_mig_state new)
{
	enum vfio_device_mig_state cur = mig->state;

	/* the engine's arcs: nothing to do here */
	if ((cur == VFIO_DEVICE_STATE_RUNNING && new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && new == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY && new == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P && new == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;

	if ((cur == VFIO_DEVICE_STATE_RUNNING && new == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && new == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return mig_start_stream(mig, true, false);

	/* pre-copy abandoned */
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY && new == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P && new == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		mig_end_saving(mig);
		return NULL;
	}

	/* the same stream goes on, to its end */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P && new == VFIO_DEVICE_STATE_STOP_COPY) {
		gpup_mig_file_stop(mig->saving);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_STOP_COPY)
		return mig_start_stream(mig, true, true);

	if (cur == VFIO_DEVICE_STATE_STOP_COPY && new == VFIO_DEVICE_STATE_STOP) {
		mig_end_saving(mig);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_RESUMING)
		return mig_start_stream(mig, false, false);

	if (cur == VFIO_DEVICE_STATE_RESUMING && new == VFIO_DEVICE_STATE_STOP)
		return mig_end_resuming(mig);

	/* vfio_mig_get_next_state() gives no other arc */
	WARN_ON(true);
	return ERR_PTR(-EINVAL);
}

VISIBLE_IF_KUNIT
struct file *mig_set_state_locked(struct gpup_mig *mig,
				  enum vfio_device_mig_state new_state)
{
	enum vfio_device_mig_state next, from;
	struct file *res = NULL;
	u64 start;
	int ret;

	/* only a reset leaves ERROR (and the VFIO helper would WARN) */
	if (mig->state == VFIO_DEVICE_STATE_ERROR && new_state != mig->state)
		return ERR_PTR(-EINVAL);
	while (mig->state != new_state) {
		ret = vfio_mig_get_next_state(mig->vdev, mig->state, new_state, &next);
		if (ret)
			return ERR_PTR(ret);
		from = mig->state;
		start = ktime_get_ns();
		/* quiesce before leaving the running states, resume after entering */
		if (!state_runs_engine(next))
			mig_set_quiesced(mig, true);
		res = mig_step(mig, next);
		if (IS_ERR(res)) {
			trace_gpup_mig_state(dev_name(mig->vdev->dev), from, next,
					     PTR_ERR(res), ktime_get_ns() - start);
			return res;
		}
		mig_set_state(mig, next);
		if (state_runs_engine(next))
			mig_set_quiesced(mig, false);
		trace_gpup_mig_state(dev_name(mig->vdev->dev), from, next, 0,
				     ktime_get_ns() - start);
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			return ERR_PTR(-EINVAL);
		}
	}
	return res;
}

/**
 * gpup_mig_set_state() - the VFIO migration_set_state operation
 * @mig: the VF's migration state
 * @new_state: where VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE asks to go
 *
 * Walks the arcs from the current state to @new_state, as VFIO's
 * vfio_mig_get_next_state() orders them, calling the backend's ops.
 *
 * Context: process context; sleeps (takes the state mutex).
 * Return: the new data file of a stream that starts on the way (saving or
 * resuming), NULL if none, or an ERR_PTR: -EINVAL for an arc the uAPI
 * forbids or a stream the target refused, or the backend's error.
 */
struct file *gpup_mig_set_state(struct gpup_mig *mig,
				enum vfio_device_mig_state new_state)
{
	struct file *res;

	mutex_lock(&mig->state_mutex);
	res = mig_set_state_locked(mig, new_state);
	gpup_mig_state_unlock(mig);
	return res;
}
EXPORT_SYMBOL_GPL(gpup_mig_set_state);

/**
 * gpup_mig_get_state() - the VFIO migration_get_state operation
 * @mig: the VF's migration state
 *
 * Context: process context; sleeps (takes the state mutex).
 * Return: the current state.
 */
enum vfio_device_mig_state gpup_mig_get_state(struct gpup_mig *mig)
{
	enum vfio_device_mig_state state;

	mutex_lock(&mig->state_mutex);
	state = mig->state;
	gpup_mig_state_unlock(mig);
	return state;
}
EXPORT_SYMBOL_GPL(gpup_mig_get_state);

/**
 * gpup_mig_data_size() - the VFIO migration_get_data_size operation
 * @mig: the VF's migration state
 *
 * Context: process context; sleeps (takes the state mutex).
 * Return: the bytes a saving stream still has to send if the device
 * stopped now, exact in STOP_COPY with nothing dirty after the stop; with
 * no stream, the largest a whole one can be.
 */
u64 gpup_mig_data_size(struct gpup_mig *mig)
{
	u64 size;

	mutex_lock(&mig->state_mutex);
	if (mig->saving)
		size = gpup_mig_file_pending(mig->saving);
	else
		size = gpup_mig_stream_max(mig);
	gpup_mig_state_unlock(mig);
	return size;
}
EXPORT_SYMBOL_GPL(gpup_mig_data_size);

/**
 * gpup_mig_init() - set up a VF's migration state
 * @mig: embedded in the backend's device
 * @vdev: the VF's vfio_device: its migration flags are set here
 * @ops: the backend's operations, all but @dirty_count and @vram_page
 *	required
 * @vram_size: bytes of VRAM, a non-zero multiple of %GPUP_MIG_PAGE_SIZE
 *
 * Call it from the vfio_device's init, then set vdev->mig_ops.
 * Return: 0, or -EINVAL for a VRAM size the stream cannot carry.
 */
int gpup_mig_init(struct gpup_mig *mig, struct vfio_device *vdev,
		  const struct gpup_mig_ops *ops, u64 vram_size)
{
	if (!vram_size || vram_size % GPUP_MIG_PAGE_SIZE)
		return -EINVAL;

	memset(mig, 0, sizeof(*mig));
	mig->vdev = vdev;
	mig->ops = ops;
	mig->vram_size = vram_size;
	mig->npages = vram_size / GPUP_MIG_PAGE_SIZE;
	mig->state = VFIO_DEVICE_STATE_RUNNING;
	mutex_init(&mig->state_mutex);
	spin_lock_init(&mig->reset_lock);
	spin_lock_init(&mig->info_lock);
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	return 0;
}
EXPORT_SYMBOL_GPL(gpup_mig_init);

/**
 * gpup_mig_set_precopy() - offer PRE_COPY to the VF's next user, or not
 * @mig: the VF's migration state
 * @on: false for a device that cannot track the pages its VM dirties
 *
 * Without PRE_COPY, user space stops the VM and the whole stream, every
 * populated VRAM page included, moves in STOP_COPY.  A backend whose
 * dirty tracking can be unavailable (firmware, another user of the
 * tracker, an administrator's choice) says so before the VF is opened:
 * VFIO reports the flags once per open, and the user plans its migration
 * on them.
 *
 * Context: process context; sleeps (takes the state mutex).
 * Return: 0, or -EBUSY while a user has the VF open.
 */
int gpup_mig_set_precopy(struct gpup_mig *mig, bool on)
{
	int ret = 0;

	mutex_lock(&mig->state_mutex);
	if (mig->open)
		ret = -EBUSY;
	else if (on)
		mig->vdev->migration_flags |= VFIO_MIGRATION_PRE_COPY;
	else
		mig->vdev->migration_flags &= ~VFIO_MIGRATION_PRE_COPY;
	gpup_mig_state_unlock(mig);
	return ret;
}
EXPORT_SYMBOL_GPL(gpup_mig_set_precopy);

/**
 * gpup_mig_precopy() - whether the VF offers PRE_COPY
 * @mig: the VF's migration state
 *
 * Return: true unless gpup_mig_set_precopy() turned it off.
 */
bool gpup_mig_precopy(struct gpup_mig *mig)
{
	return READ_ONCE(mig->vdev->migration_flags) & VFIO_MIGRATION_PRE_COPY;
}
EXPORT_SYMBOL_GPL(gpup_mig_precopy);

/**
 * gpup_mig_destroy() - undo gpup_mig_init(), from the vfio_device's release
 * @mig: the VF's migration state, closed
 */
void gpup_mig_destroy(struct gpup_mig *mig)
{
	mutex_destroy(&mig->state_mutex);
}
EXPORT_SYMBOL_GPL(gpup_mig_destroy);

/**
 * gpup_mig_open() - a user opened the VF, from open_device
 * @mig: the VF's migration state
 *
 * A new user finds the device RUNNING with no stream, whatever came
 * before.
 * Context: process context; sleeps.
 */
void gpup_mig_open(struct gpup_mig *mig)
{
	mutex_lock(&mig->state_mutex);
	mig_end_files_locked(mig);
	mig_set_state(mig, VFIO_DEVICE_STATE_RUNNING);
	mig->quiesced = false;
	mig->open = true;
	gpup_mig_state_unlock(mig);
}
EXPORT_SYMBOL_GPL(gpup_mig_open);

/**
 * gpup_mig_close() - the last user closed the VF, from close_device
 * @mig: the VF's migration state
 *
 * Ends any stream (its files fail with -ENODEV from then on, however long
 * the user keeps them), lifts a quiesce and goes back to RUNNING.
 * Context: process context; sleeps.
 */
void gpup_mig_close(struct gpup_mig *mig)
{
	mutex_lock(&mig->state_mutex);
	mig_end_files_locked(mig);
	mig_set_quiesced(mig, false);
	mig_set_state(mig, VFIO_DEVICE_STATE_RUNNING);
	mig->open = false;
	gpup_mig_state_unlock(mig);
}
EXPORT_SYMBOL_GPL(gpup_mig_close);

/* Record why a stream was refused, and the field at fault ("" if none) */
void gpup_mig_set_error(struct gpup_mig *mig, const char *field, const char *fmt, ...)
{
	char msg[sizeof(mig->last_error)];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	spin_lock(&mig->info_lock);
	strscpy(mig->last_error, msg);
	strscpy(mig->error_field, field);
	spin_unlock(&mig->info_lock);
	dev_err(mig->vdev->dev, "migration refused: %s\n", msg);
}

/* Whether the current stream has recorded why it was refused */
bool gpup_mig_has_error(struct gpup_mig *mig)
{
	bool has;

	spin_lock(&mig->info_lock);
	has = mig->last_error[0];
	spin_unlock(&mig->info_lock);
	return has;
}

/*
 * For management: what the stream in flight still has to send, if one is
 * and it can be told now.  Management takes neither state_mutex nor a
 * busy file: a reader may hold its file across a slow copy to user
 * memory, and whoever releases state_mutex carries out a deferred reset.
 */
bool gpup_mig_pending(struct gpup_mig *mig, u64 *bytes)
{
	struct gpup_mig_file *migf;
	struct file *filp = NULL;
	bool known;

	spin_lock(&mig->info_lock);
	migf = mig->saving;
	if (migf)
		filp = gpup_mig_file_get(migf);
	spin_unlock(&mig->info_lock);
	if (!filp)
		return false;
	known = gpup_mig_file_pending_nowait(migf, bytes);
	fput(filp);
	return known;
}

/* Forget the figures and the last error; not while a stream is open */
int gpup_mig_clear_stats(struct gpup_mig *mig)
{
	int ret = -EBUSY;

	spin_lock(&mig->info_lock);
	if (!mig->saving && !mig->resuming) {
		memset(&mig->stats, 0, sizeof(mig->stats));
		mig->last_error[0] = 0;
		mig->error_field[0] = 0;
		ret = 0;
	}
	spin_unlock(&mig->info_lock);
	return ret;
}

static const char *const gpup_mig_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "error",
	[VFIO_DEVICE_STATE_STOP] = "stop",
	[VFIO_DEVICE_STATE_RUNNING] = "running",
	[VFIO_DEVICE_STATE_STOP_COPY] = "stop_copy",
	[VFIO_DEVICE_STATE_RESUMING] = "resuming",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "running_p2p",
	[VFIO_DEVICE_STATE_PRE_COPY] = "pre_copy",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "pre_copy_p2p",
};

/**
 * gpup_mig_show() - the migration state and its figures, for debugfs
 * @mig: the VF's migration state
 * @s: where to print, a line "key value" each
 */
void gpup_mig_show(struct gpup_mig *mig, struct seq_file *s)
{
	enum vfio_device_mig_state state = READ_ONCE(mig->state);
	struct gpup_mig_stats st;
	char err[sizeof(mig->last_error)], field[sizeof(mig->error_field)];

	spin_lock(&mig->info_lock);
	st = mig->stats;
	memcpy(err, mig->last_error, sizeof(err));
	memcpy(field, mig->error_field, sizeof(field));
	spin_unlock(&mig->info_lock);

	seq_printf(s, "state           %s\n", state < ARRAY_SIZE(gpup_mig_state_names) ?
		   gpup_mig_state_names[state] : "?");
	seq_printf(s, "precopy_bytes   %llu\n", st.precopy_bytes);
	seq_printf(s, "stopcopy_bytes  %llu\n", st.stopcopy_bytes);
	seq_printf(s, "resume_bytes    %llu\n", st.resume_bytes);
	seq_printf(s, "rounds          %u\n", st.rounds);
	seq_printf(s, "migrations      %u\n", st.migrations);
	seq_printf(s, "last_error      %s\n", err[0] ? err : "-");
	seq_printf(s, "error_field     %s\n", field[0] ? field : "-");
}
EXPORT_SYMBOL_GPL(gpup_mig_show);

static int __init gpup_core_init(void)
{
	int ret;

	ret = gpup_crc_init();
	if (ret)
		return ret;
	ret = gpup_nl_init();
	if (ret)
		gpup_crc_exit();
	return ret;
}

static void __exit gpup_core_exit(void)
{
	gpup_nl_exit();
	gpup_crc_exit();
}

module_init(gpup_core_init);
module_exit(gpup_core_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gpup: VFIO live migration core for GPU-P virtual functions");
