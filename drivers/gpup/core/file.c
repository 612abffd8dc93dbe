// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: the saving and resuming data files.
 *
 * Saving.  read() produces the stream on demand, one record at a time,
 * never holding more than one record header and one VRAM page in kernel
 * memory, plus a bitmap of the pages still to send (a bit per 4 KiB page):
 *
 *   STREAM, IMMUTABLE...           the head: the first records of all
 *   ROUND 0, VRAM...               the first pass: every page ever written
 *   ROUND n, VRAM...               pages dirtied since the last harvest
 *   MUTABLE..., END                once the device is stopped and clean
 *
 * The head and the first pass are PRECOPY_INFO's initial bytes: user space
 * (QEMU with switchover-ack) does not stop the VM before they are all out,
 * so the VRAM a VM had at the start never waits for stop-copy, while a
 * target that cannot take the device still refuses it at the first record.
 *
 * Device state, immutable or mutable, is the backend's and of any size:
 * the core asks the backend for it a chunk at a time, as each record is
 * read out, and hands a target's backend each chunk as its record ends.
 *
 * A VRAM page goes from the device's own page to the user buffer in one
 * pass that also computes the record's CRC (crc.c), or, for backends
 * without host pages and for kernel readers, through a bounce page.
 *
 * A round ends when its pages are sent; the next one harvests the dirty
 * bits.  In PRE_COPY, with nothing dirty, read() returns -ENOMSG (a
 * temporary end); in STOP_COPY the device is stopped, so a final harvest
 * is followed by MUTABLE and END, and read() returns 0 after them.
 *
 * Resuming.  write() feeds the incremental parser with whatever pieces the
 * user sends.  Each chunk of the immutable state reaches the backend's
 * restore_immutable() as soon as its record is in, so a target that
 * cannot take this device refuses it during the source's pre-copy, before
 * a single VRAM byte is written.  VRAM data is written through to the
 * device as it arrives.
 *
 * Lifetime.  A file may outlive the device's open: close_device and reset
 * disable it under its lock, after which read() and write() fail with
 * -ENODEV without touching the device.
 *
 * Locking.  migf->lock covers the stream's state and every access to the
 * device, but never a fault on user memory: user copies made under it run
 * with page faults disabled, and a copy that faults drops the lock, faults
 * the user's pages in and tries again.  So disabling a file (STOP, reset,
 * close) waits for at most one page of a stream, however slow the user's
 * memory (a userfaultfd, a file on a stalled server) and however large the
 * read or write.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/unaligned.h>

#include "gpup_nl.h"
#include "trace.h"

enum gpup_save_stage {
	SAVE_IMMUTABLE,	/* after STREAM, the rest of the head */
	SAVE_VRAM,	/* rounds of VRAM pages */
	SAVE_MUTABLE,
	SAVE_END,
	SAVE_DONE,
};

/* The head of a record: a whole small one, or a VRAM record's header */
#define HEAD_MAX	(GPUP_REC_OVERHEAD + GPUP_REC_SMALL_MAX)

struct gpup_mig_file {
	struct file *filp;
	struct gpup_mig *mig;
	struct mutex write_lock;	/* one writer at a time: the page below */
	struct mutex lock;		/* everything below but page (writing) */
	bool disabled;			/* the device let go of this file */
	bool saving;
	bool reported;			/* its result went out to management */

	/* saving */
	bool stopped;			/* STOP_COPY: the end is final */
	enum gpup_save_stage stage;
	u8 *head;			/* encoded head of the current record */
	size_t head_len, head_pos;
	u64 initial_left;		/* initial bytes not yet read */
	u64 data_off;			/* VRAM offset of the current record */
	u32 data_len, data_pos;		/* its page data */
	u32 crc;			/* running CRC of a VRAM record */
	u8 crc_le[4];
	u32 crc_pos;			/* 4: no CRC pending */
	void *page;			/* bounce: a copy of a VRAM page */
	bool page_loaded;		/* page holds data_pos's VRAM page */
	unsigned long *pending;		/* pages left in this round */
	unsigned long next_page;
	u32 round;
	unsigned long first_pass;	/* pages of round 0, announced first */
	u64 records;			/* complete records read */
	u64 bytes;			/* bytes of them */
	size_t immutable_len;		/* the backend's device state, bytes */
	size_t mutable_len;		/* (an estimate until the device stopped) */
	size_t state_off;		/* of the state being sent */
	u32 progress_round;		/* round of the last progress report */
	unsigned long progress_at;	/* jiffies: next report due */

	/* resuming */
	struct gpup_parser *parser;
};

void gpup_mig_file_disable(struct gpup_mig_file *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	mutex_unlock(&migf->lock);
}

/* A reference for the user's fd; the core keeps its own until _put() */
struct file *gpup_mig_file_get(struct gpup_mig_file *migf)
{
	return get_file(migf->filp);
}

/* The core lets go: disable the file, drop its reference */
void gpup_mig_file_put(struct gpup_mig_file *migf)
{
	gpup_mig_file_disable(migf);
	fput(migf->filp);
}

/* PRE_COPY_P2P -> STOP_COPY: the same file goes on to the final end */
void gpup_mig_file_stop(struct gpup_mig_file *migf)
{
	mutex_lock(&migf->lock);
	migf->stopped = true;
	mutex_unlock(&migf->lock);
}

/*
 * How a stream stands when its device leaves the migration states: a file
 * that a reset disabled is never complete, whatever it had carried.
 */
enum gpup_mig_file_end gpup_mig_file_end(struct gpup_mig_file *migf)
{
	enum gpup_mig_file_end end;

	mutex_lock(&migf->lock);
	if (migf->parser && migf->parser->error)
		end = GPUP_MIG_FILE_REFUSED;
	else if (migf->disabled)
		end = GPUP_MIG_FILE_DISABLED;
	else if (migf->saving ? migf->stage == SAVE_DONE && !migf->head_len :
		 gpup_parser_done(migf->parser))
		end = GPUP_MIG_FILE_COMPLETE;
	else
		end = GPUP_MIG_FILE_SHORT;
	mutex_unlock(&migf->lock);
	return end;
}

/* True for the first caller only: the one that reports the result */
bool gpup_mig_file_claim_report(struct gpup_mig_file *migf)
{
	bool first;

	mutex_lock(&migf->lock);
	first = !migf->reported;
	migf->reported = true;
	mutex_unlock(&migf->lock);
	return first;
}

static int gpup_mig_file_release(struct inode *inode, struct file *filp)
{
	struct gpup_mig_file *migf = filp->private_data;

	kfree(migf->parser);
	kvfree(migf->pending);
	free_page((unsigned long)migf->page);
	kfree(migf->head);
	mutex_destroy(&migf->lock);
	mutex_destroy(&migf->write_lock);
	kfree(migf);
	return 0;
}

static void save_account(struct gpup_mig_file *migf, size_t n)
{
	struct gpup_mig *mig = migf->mig;

	spin_lock(&mig->info_lock);
	if (migf->stopped)
		mig->stats.stopcopy_bytes += n;
	else
		mig->stats.precopy_bytes += n;
	spin_unlock(&mig->info_lock);
}

/* Encode a small record as the whole head of the next read-out */
static void save_small(struct gpup_mig_file *migf, u16 type, u16 flags,
		       const void *payload, u32 len)
{
	migf->head_len = gpup_rec_encode(migf->head, type, flags, payload, len);
	migf->head_pos = 0;
	migf->data_len = 0;
	migf->data_pos = 0;
	migf->crc_pos = sizeof(migf->crc_le);
}

static void save_round(struct gpup_mig_file *migf, unsigned long pages)
{
	struct gpup_rec_round r = {
		.round = cpu_to_le32(migf->round),
		.pages = cpu_to_le32(pages),
	};

	trace_gpup_mig_round(dev_name(migf->mig->vdev->dev), migf->round, pages,
			     migf->bytes);
	save_small(migf, GPUP_REC_ROUND, 0, &r, sizeof(r));
}

/* A VRAM record for the next run of pending pages, or false if none */
static bool save_vram_record(struct gpup_mig_file *migf)
{
	unsigned long npages = migf->mig->npages, first, end;
	struct gpup_rec_vram v = {};
	struct gpup_rec_hdr *hdr = (void *)migf->head;

	first = find_next_bit(migf->pending, npages, migf->next_page);
	if (first >= npages)
		return false;
	end = find_next_zero_bit(migf->pending, npages, first);
	end = min(end, first + GPUP_REC_VRAM_MAX_PAGES);
	bitmap_clear(migf->pending, first, end - first);
	migf->next_page = end;

	v.offset = cpu_to_le64((u64)first * GPUP_MIG_PAGE_SIZE);
	v.npages = cpu_to_le32(end - first);
	migf->data_len = (end - first) * GPUP_MIG_PAGE_SIZE;
	gpup_rec_hdr_encode(hdr, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY,
			    sizeof(v) + migf->data_len);
	memcpy(migf->head + sizeof(*hdr), &v, sizeof(v));
	migf->head_len = sizeof(*hdr) + sizeof(v);
	migf->head_pos = 0;
	migf->data_off = (u64)first * GPUP_MIG_PAGE_SIZE;
	migf->data_pos = 0;
	migf->crc = gpup_stream_crc(GPUP_CRC_SEED, migf->head, migf->head_len);
	migf->crc_pos = 0;	/* filled when the data is done */
	return true;
}

/* The backend's save of the device state of record type @type */
static int save_state_call(struct gpup_mig *mig, u16 type, u64 off, void *buf,
			   size_t *len)
{
	if (type == GPUP_REC_IMMUTABLE)
		return mig->ops->save_immutable(mig, off, buf, len);
	return mig->ops->save_mutable(mig, off, buf, len);
}

/* The size of a device state, which a stream cannot carry empty */
static int save_state_len(struct gpup_mig *mig, u16 type, size_t *len)
{
	int ret;

	*len = 0;
	ret = save_state_call(mig, type, 0, NULL, len);
	if (!ret && !*len)
		ret = -EINVAL;
	return ret;
}

/* The next chunk of a device state of @total bytes, as a record */
static int save_state(struct gpup_mig_file *migf, u16 type, size_t total)
{
	struct gpup_rec_state *st = migf->page;
	size_t n = min_t(size_t, total - migf->state_off, GPUP_REC_STATE_CHUNK_MAX);
	size_t len = n;
	int ret;

	ret = save_state_call(migf->mig, type, migf->state_off,
			      migf->page + sizeof(*st), &len);
	if (ret)
		return ret;
	if (WARN_ON_ONCE(len != n))
		return -EIO;
	st->offset = cpu_to_le64(migf->state_off);
	st->total = cpu_to_le64(total);
	save_small(migf, type, GPUP_REC_F_MANDATORY, st, sizeof(*st) + n);
	migf->state_off += n;
	return 0;
}

/*
 * Set up the next record.  Returns 0, -ENOMSG when pre-copy has nothing
 * to send now, or a negative errno from the device.
 */
static int save_next(struct gpup_mig_file *migf)
{
	struct gpup_mig *mig = migf->mig;
	unsigned long dirty;
	int ret;

	switch (migf->stage) {
	case SAVE_IMMUTABLE:
		if (migf->state_off < migf->immutable_len)
			return save_state(migf, GPUP_REC_IMMUTABLE, migf->immutable_len);
		migf->stage = SAVE_VRAM;
		fallthrough;
	case SAVE_VRAM:
		if (migf->first_pass != ULONG_MAX) {
			save_round(migf, migf->first_pass);
			migf->first_pass = ULONG_MAX;
			return 0;
		}
		if (save_vram_record(migf))
			return 0;
		dirty = mig->ops->dirty_query(mig, migf->pending);
		migf->next_page = 0;
		if (dirty) {
			migf->round++;
			spin_lock(&mig->info_lock);
			mig->stats.rounds++;
			spin_unlock(&mig->info_lock);
			save_round(migf, dirty);
			return 0;
		}
		if (!migf->stopped)
			return -ENOMSG;
		/* stopped and quiesced: the size now is the one to send */
		ret = save_state_len(mig, GPUP_REC_MUTABLE, &migf->mutable_len);
		if (ret)
			return ret;
		trace_gpup_mig_stream(dev_name(mig->vdev->dev), "mutable",
				      migf->records, migf->mutable_len);
		migf->stage = SAVE_MUTABLE;
		migf->state_off = 0;
		fallthrough;
	case SAVE_MUTABLE:
		if (migf->state_off < migf->mutable_len)
			return save_state(migf, GPUP_REC_MUTABLE, migf->mutable_len);
		migf->stage = SAVE_END;
		fallthrough;
	case SAVE_END: {
		struct gpup_rec_end end = {
			.records = cpu_to_le64(migf->records),
			.bytes = cpu_to_le64(migf->bytes),
		};

		save_small(migf, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
		trace_gpup_mig_stream(dev_name(mig->vdev->dev), "end", migf->records,
				      migf->bytes);
		migf->stage = SAVE_DONE;
		return 0;
	}
	default:
		return 0;
	}
}

static bool save_record_done(struct gpup_mig_file *migf)
{
	return migf->head_pos == migf->head_len && migf->data_pos == migf->data_len &&
	       migf->crc_pos == sizeof(migf->crc_le);
}

/*
 * VRAM data: @n bytes at @poff of the page of data_pos.  Either way, the
 * record's CRC takes exactly the bytes the user gets, each read once from
 * the device (or from a copy read once), and only once they are delivered:
 * a failed copy can be retried.  Pages are read when their bytes are about
 * to go out, after the harvest that reported them, so a store racing with
 * the copy dirties the page again and it goes out in a later round.
 */

/*
 * Copy to the user with migf->lock held: a fault fails the copy at once
 * (-EFAULT, the iterator where it was) instead of being waited for.
 */
static int copy_out_nofault(const void *src, size_t n, struct iov_iter *to)
{
	size_t copied;

	pagefault_disable();
	copied = copy_to_iter(src, n, to);
	pagefault_enable();
	if (copied == n)
		return 0;
	iov_iter_revert(to, copied);
	return -EFAULT;
}

/* Straight from the device's page to a user buffer, summed on the way */
static int save_copy_direct(struct gpup_mig_file *migf, struct iov_iter *to,
			    size_t poff, size_t n)
{
	struct gpup_mig *mig = migf->mig;
	u64 off = migf->data_off + migf->data_pos;
	struct page *page;
	void *src;
	int ret;

	page = mig->ops->vram_page(mig, off / GPUP_MIG_PAGE_SIZE);
	if (IS_ERR(page))
		return PTR_ERR(page);
	src = kmap_local_page(page ?: ZERO_PAGE(0));
	pagefault_disable();
	ret = gpup_crc_copy_to_user(iter_iov_addr(to), src + poff, n, &migf->crc);
	pagefault_enable();
	kunmap_local(src);
	if (page)
		put_page(page);
	if (ret)
		return ret;
	iov_iter_advance(to, n);
	return 0;
}

/* Through a copy of the page, for any iterator and any backend */
static int save_copy_bounce(struct gpup_mig_file *migf, struct iov_iter *to,
			    size_t poff, size_t n)
{
	struct gpup_mig *mig = migf->mig;
	u64 off = migf->data_off + migf->data_pos - poff;
	int ret;

	if (!migf->page_loaded) {
		ret = mig->ops->vram_read(mig, off, migf->page, GPUP_MIG_PAGE_SIZE);
		if (ret)
			return ret;
		migf->page_loaded = true;
	}
	ret = copy_out_nofault(migf->page + poff, n, to);
	if (ret)
		return ret;
	migf->crc = gpup_crc(migf->crc, migf->page + poff, n);
	return 0;
}

/* Copy out of the current record; returns bytes copied or -errno */
static ssize_t save_copy(struct gpup_mig_file *migf, struct iov_iter *to, size_t len)
{
	size_t n, poff;
	int ret;

	if (migf->head_pos < migf->head_len) {
		n = min(len, migf->head_len - migf->head_pos);
		ret = copy_out_nofault(migf->head + migf->head_pos, n, to);
		if (ret)
			return ret;
		migf->head_pos += n;
		return n;
	}
	if (migf->data_pos < migf->data_len) {
		poff = migf->data_pos % GPUP_MIG_PAGE_SIZE;
		n = min(len, GPUP_MIG_PAGE_SIZE - poff);
		/* the one-pass copy stores 8-byte words at any user alignment */
		if (IS_ENABLED(CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) &&
		    migf->mig->ops->vram_page && iter_is_ubuf(to))
			ret = save_copy_direct(migf, to, poff, n);
		else
			ret = save_copy_bounce(migf, to, poff, n);
		if (ret)
			return ret;
		migf->data_pos += n;
		if (poff + n == GPUP_MIG_PAGE_SIZE)
			migf->page_loaded = false;
		if (migf->data_pos == migf->data_len)
			put_unaligned_le32(~migf->crc, migf->crc_le);
		return n;
	}
	n = min_t(size_t, len, sizeof(migf->crc_le) - migf->crc_pos);
	ret = copy_out_nofault(migf->crc_le + migf->crc_pos, n, to);
	if (ret)
		return ret;
	migf->crc_pos += n;
	return n;
}

/* The current record has been read out entirely */
static void save_retire(struct gpup_mig_file *migf)
{
	migf->records++;
	migf->bytes += migf->head_len + migf->data_len +
		       (migf->data_len ? sizeof(migf->crc_le) : 0);
	migf->head_len = 0;
	migf->head_pos = 0;
	migf->data_len = 0;
	migf->data_pos = 0;
}

static u64 save_pending_locked(struct gpup_mig_file *migf);

/* Progress to management: at each new round, at most four times a second */
static void save_progress(struct gpup_mig_file *migf)
{
	if (migf->round == migf->progress_round &&
	    time_before(jiffies, migf->progress_at))
		return;
	migf->progress_round = migf->round;
	migf->progress_at = jiffies + HZ / 4;
	if (gpup_nl_listening())
		gpup_nl_progress(migf->mig, save_pending_locked(migf));
}

/*
 * Between two pieces of a read: let the device side in, and answer a
 * fatal signal.  Returns 0 or -EINTR.
 */
static int save_yield(struct gpup_mig_file *migf)
{
	mutex_unlock(&migf->lock);
	cond_resched();
	mutex_lock(&migf->lock);
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * A copy under the lock faulted: fault in up to @len bytes of the user's
 * buffer without the lock.  Returns how many are there now (0: none can
 * be), or -EINTR.
 */
static ssize_t save_fault_in(struct gpup_mig_file *migf, struct iov_iter *to,
			     size_t len)
{
	size_t left;

	mutex_unlock(&migf->lock);
	left = fault_in_iov_iter_writeable(to, len);
	mutex_lock(&migf->lock);
	if (fatal_signal_pending(current))
		return -EINTR;
	return len - left;
}

/*
 * Copy out as much of the stream as the user asked for.  @room is what the
 * user's buffer is known to take from where it stands: after a fault, the
 * next copy stops where the faulted-in part ends, so a buffer that runs
 * into unmapped memory gets every byte before it (a short read).
 */
static ssize_t gpup_save_read(struct kiocb *iocb, struct iov_iter *to)
{
	struct gpup_mig_file *migf = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(to), room = len;
	ssize_t done = 0, n = 0;

	mutex_lock(&migf->lock);
	while (done < len) {
		if (migf->disabled) {
			n = -ENODEV;
			break;
		}
		if (!migf->head_len) {
			if (migf->stage == SAVE_DONE)
				break;		/* the final end: read() returns 0 */
			n = save_next(migf);
			if (n)
				break;
			continue;
		}
		n = save_copy(migf, to, min(len - done, room));
		if (n == -EFAULT) {
			n = save_fault_in(migf, to, min_t(size_t, len - done, PAGE_SIZE));
			if (n <= 0) {
				n = n ?: -EFAULT;
				break;
			}
			room = n;
			continue;
		}
		if (n < 0)
			break;
		done += n;
		/* the initial bytes are the stream's first ones */
		migf->initial_left -= min_t(u64, migf->initial_left, n);
		room = room > n ? room - n : len - done;
		if (save_record_done(migf))
			save_retire(migf);
		if (need_resched() || fatal_signal_pending(current)) {
			n = save_yield(migf);
			if (n)
				break;
		}
	}
	/*
	 * Only while the file is live: faulting in and yielding drop the
	 * lock, and a file disabled meanwhile may have outlived its VF.
	 */
	if (done && !migf->disabled) {
		save_account(migf, done);
		save_progress(migf);
	}
	mutex_unlock(&migf->lock);
	return done ? done : n;
}

/* What is left to read of the record being read out, 0 between records */
static u64 save_record_left(struct gpup_mig_file *migf)
{
	if (!migf->head_len)
		return 0;
	return migf->head_len - migf->head_pos + migf->data_len - migf->data_pos +
	       sizeof(migf->crc_le) - migf->crc_pos;
}

/*
 * What a saving file still has to send: for PRECOPY_INFO (initial and
 * dirty bytes) and MIG_DATA_SIZE.  In pre-copy, an exhausted round takes
 * in the pages dirtied since, so the estimate follows the guest.
 */
static void save_remaining(struct gpup_mig_file *migf, u64 *initial, u64 *dirty,
			   bool refresh)
{
	struct gpup_mig *mig = migf->mig;
	unsigned long pages;

	*initial = migf->initial_left;
	*dirty = 0;
	/* the first pass is initial; only what comes after it is dirty */
	if (migf->initial_left || migf->stage > SAVE_VRAM)
		return;
	pages = bitmap_weight(migf->pending, mig->npages);
	if (refresh && !migf->stopped && !pages && !migf->head_len &&
	    save_next(migf) == 0)
		pages = bitmap_weight(migf->pending, mig->npages);
	*dirty = (u64)pages * GPUP_MIG_PAGE_SIZE + save_record_left(migf);
}

/* Stream bytes that @pages of VRAM take, records and their overhead included */
static u64 vram_stream_bytes(unsigned long pages)
{
	unsigned long records = DIV_ROUND_UP(pages, GPUP_REC_VRAM_MAX_PAGES);

	return (u64)pages * GPUP_MIG_PAGE_SIZE +
	       records * (GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_vram));
}

/* The VRAM records of the pending pages: one per run of up to 256 */
static u64 save_pending_vram_bytes(struct gpup_mig_file *migf)
{
	unsigned long start, end;
	u64 bytes = 0;

	for_each_set_bitrange(start, end, migf->pending, migf->mig->npages)
		bytes += vram_stream_bytes(end - start);
	return bytes;
}

/*
 * The stop-copy tail still to come: the mutable state's chunks (those not
 * yet sent: chunks are full but the last, so what is left chunks alike),
 * the end record, and what is left of the record being read out of them.
 */
static u64 save_tail_bytes(struct gpup_mig_file *migf)
{
	u64 end = GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_end);
	u64 cur = save_record_left(migf);

	switch (migf->stage) {
	case SAVE_IMMUTABLE:
	case SAVE_VRAM:
		return gpup_state_stream_bytes(migf->mutable_len) + end;
	case SAVE_MUTABLE:
		return cur + gpup_state_stream_bytes(migf->mutable_len -
						     migf->state_off) + end;
	case SAVE_END:
		return cur + end;
	default:
		return cur;
	}
}

/*
 * MIG_DATA_SIZE while saving: what is left of this stream if the device
 * stopped now.  Pages dirtied since the last harvest count too.
 */
static u64 save_pending_locked(struct gpup_mig_file *migf)
{
	struct gpup_mig *mig = migf->mig;
	unsigned long dirty = 0;
	u64 initial = 0, left = 0;

	lockdep_assert_held(&migf->lock);
	if (migf->saving && !migf->disabled) {
		/* the first pass, its pending pages included, is initial */
		initial = migf->initial_left;
		if (migf->stage <= SAVE_VRAM && !initial)
			left += save_pending_vram_bytes(migf) + save_record_left(migf);
		if (mig->ops->dirty_count)
			dirty = mig->ops->dirty_count(mig);
	}
	/* pages dirty and not yet harvested go out in a round of their own */
	if (dirty)
		left += GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_round) +
			vram_stream_bytes(dirty);
	return initial + left + save_tail_bytes(migf);
}

/*
 * MIG_DATA_SIZE with no stream under way: a whole one, every page of VRAM
 * sent, with the device state as large as the backend says now.
 */
u64 gpup_mig_stream_max(struct gpup_mig *mig)
{
	size_t im = 0, mut = 0;

	if (save_state_len(mig, GPUP_REC_IMMUTABLE, &im) ||
	    save_state_len(mig, GPUP_REC_MUTABLE, &mut)) {
		im = 0;
		mut = 0;
	}
	return 2 * GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_stream) +
	       gpup_state_stream_bytes(im) + vram_stream_bytes(mig->npages) +
	       GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_round) +
	       gpup_state_stream_bytes(mut) + sizeof(struct gpup_rec_end);
}

u64 gpup_mig_file_pending(struct gpup_mig_file *migf)
{
	u64 pending;

	mutex_lock(&migf->lock);
	pending = save_pending_locked(migf);
	mutex_unlock(&migf->lock);
	return pending;
}

/* The same for management, unless a reader holds the file right now */
bool gpup_mig_file_pending_nowait(struct gpup_mig_file *migf, u64 *pending)
{
	if (!mutex_trylock(&migf->lock))
		return false;
	*pending = save_pending_locked(migf);
	mutex_unlock(&migf->lock);
	return true;
}

/*
 * VFIO_MIG_GET_PRECOPY_INFO without the user copies.  Only the file is
 * touched until it is known to be live: the fd may outlive its device.
 * A live saving file that is not stopped is exactly one in PRE_COPY or
 * PRE_COPY_P2P, the states this ioctl is defined for.
 */
int gpup_mig_precopy_info(struct gpup_mig_file *migf, u64 *initial, u64 *dirty)
{
	int ret = 0;

	mutex_lock(&migf->lock);
	if (migf->disabled)
		ret = -ENODEV;
	else if (!migf->saving || migf->stopped)
		ret = -EINVAL;
	else
		save_remaining(migf, initial, dirty, true);
	mutex_unlock(&migf->lock);
	return ret;
}

static long gpup_save_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	u64 initial, dirty;
	int ret;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = gpup_mig_precopy_info(filp->private_data, &initial, &dirty);
	if (ret)
		return ret;

	/* never echo what the caller put in */
	memset(&info, 0, sizeof(info));
	info.argsz = minsz;
	info.initial_bytes = initial;
	info.dirty_bytes = dirty;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static const struct file_operations gpup_save_fops = {
	.owner = THIS_MODULE,
	.read_iter = gpup_save_read,
	.unlocked_ioctl = gpup_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = gpup_mig_file_release,
};

/* Resuming: parser callbacks */
static int resume_record(void *ctx, u16 type, const void *payload, u32 len)
{
	struct gpup_mig_file *migf = ctx;
	const struct gpup_rec_end *end = payload;

	/* STREAM, ROUND, END: the parser checked them */
	if (type == GPUP_REC_END)
		trace_gpup_mig_stream(dev_name(migf->mig->vdev->dev), "resumed",
				      le64_to_cpu(end->records), le64_to_cpu(end->bytes));
	return 0;
}

static int resume_state(void *ctx, u16 type, u64 off, u64 total,
			const void *data, u32 len)
{
	struct gpup_mig_file *migf = ctx;
	struct gpup_mig *mig = migf->mig;
	struct gpup_mig_chunk chunk = {
		.off = off, .total = total, .data = data, .len = len,
	};
	struct gpup_mig_why why = {};
	int ret;

	if (type == GPUP_REC_IMMUTABLE) {
		ret = mig->ops->restore_immutable(mig, &chunk, &why);
		if (ret)
			gpup_mig_set_error(mig, why.field, "incompatible device: %s",
					   why.msg[0] ? why.msg : "immutable state refused");
		return ret;
	}
	ret = mig->ops->restore_mutable(mig, &chunk, &why);
	if (ret)
		gpup_mig_set_error(mig, why.field, "mutable state refused: %s",
				   why.msg[0] ? why.msg : "invalid");
	return ret;
}

static int resume_vram(void *ctx, u64 off, const void *data, u32 len)
{
	struct gpup_mig_file *migf = ctx;

	return migf->mig->ops->vram_write(migf->mig, off, data, len);
}

static const struct gpup_parser_ops gpup_resume_parser_ops = {
	.record = resume_record,
	.state = resume_state,
	.vram = resume_vram,
};

/* The parser refused the stream: say why, once, and management hears it */
static void resume_refused(struct gpup_mig_file *migf)
{
	struct gpup_mig *mig = migf->mig;

	lockdep_assert_held(&migf->lock);
	if (!gpup_mig_has_error(mig))
		gpup_mig_set_error(mig, "", "bad stream: %s", migf->parser->error);
	if (!migf->reported) {
		migf->reported = true;
		gpup_nl_done(mig, GPUP_MIG_DIR_RESUME, GPUP_MIG_RESULT_FAILED);
	}
}

/* Counted as it goes, so that a long write shows its progress */
static void resume_account(struct gpup_mig *mig, size_t n)
{
	spin_lock(&mig->info_lock);
	mig->stats.resume_bytes += n;
	spin_unlock(&mig->info_lock);
}

/* One piece the writer copied into migf->page: to the parser and device */
static int resume_feed(struct gpup_mig_file *migf, size_t n, bool *refused)
{
	int ret;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
	} else {
		ret = gpup_parser_feed(migf->parser, migf->page, n);
		if (ret) {
			resume_refused(migf);
			*refused = true;
		} else {
			/* under the lock: a disabled file may have outlived its VF */
			resume_account(migf->mig, n);
		}
	}
	mutex_unlock(&migf->lock);
	return ret;
}

/*
 * The user's bytes are copied with only write_lock held, so a slow fault
 * never holds up the device side; each page is then fed under migf->lock.
 * A refused stream returns the parser's error, whatever came before.
 * Otherwise, as the VFS expects, a write cut short by a fault, a fatal
 * signal or a reset returns the bytes taken, and the next one the error.
 */
static ssize_t gpup_resume_write(struct kiocb *iocb, struct iov_iter *from)
{
	struct gpup_mig_file *migf = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from), done = 0;
	bool refused = false;
	int ret = 0;

	if (mutex_lock_killable(&migf->write_lock))
		return -EINTR;
	while (done < len) {
		size_t n = min_t(size_t, len - done, PAGE_SIZE);
		size_t got = copy_from_iter(migf->page, n, from);

		if (got) {
			ret = resume_feed(migf, got, &refused);
			if (ret)
				break;
			done += got;
		}
		if (got < n) {
			ret = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	mutex_unlock(&migf->write_lock);
	if (refused || !done)
		return ret;
	return done;
}

static const struct file_operations gpup_resume_fops = {
	.owner = THIS_MODULE,
	.write_iter = gpup_resume_write,
	.release = gpup_mig_file_release,
};

static struct gpup_mig_file *mig_file_alloc(struct gpup_mig *mig, bool saving)
{
	struct gpup_mig_file *migf;
	int ret = -ENOMEM;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	mutex_init(&migf->write_lock);
	migf->mig = mig;
	migf->saving = saving;
	migf->page = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
	if (!migf->page)
		goto err;

	migf->filp = anon_inode_getfile(saving ? "gpup_mig_save" : "gpup_mig_resume",
					saving ? &gpup_save_fops : &gpup_resume_fops,
					migf, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(migf->filp)) {
		ret = PTR_ERR(migf->filp);
		goto err;
	}
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;

err:
	free_page((unsigned long)migf->page);
	mutex_destroy(&migf->lock);
	mutex_destroy(&migf->write_lock);
	kfree(migf);
	return ERR_PTR(ret);
}

/* Resources are owned by the file once it exists: fput() frees them */
static struct gpup_mig_file *mig_file_fail(struct gpup_mig_file *migf, int err)
{
	fput(migf->filp);
	return ERR_PTR(err);
}

/*
 * STREAM as the first head; the immutable state's chunks follow one by
 * one.  The initial bytes start with them; the first pass adds its own
 * once the pages to send are known.
 */
static int save_initial(struct gpup_mig_file *migf)
{
	struct gpup_mig *mig = migf->mig;
	struct gpup_rec_stream st = {
		.magic = cpu_to_le64(GPUP_MIG_MAGIC),
		.major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR),
		.minor = cpu_to_le16(GPUP_MIG_VERSION_MINOR),
	};
	int ret;

	ret = save_state_len(mig, GPUP_REC_IMMUTABLE, &migf->immutable_len);
	if (ret)
		return ret;
	save_small(migf, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, &st, sizeof(st));
	migf->initial_left = migf->head_len +
			     gpup_state_stream_bytes(migf->immutable_len);
	migf->stage = SAVE_IMMUTABLE;
	return 0;
}

struct gpup_mig_file *gpup_mig_save_file(struct gpup_mig *mig, bool stopped)
{
	struct gpup_mig_file *migf;
	int ret;

	migf = mig_file_alloc(mig, true);
	if (IS_ERR(migf))
		return migf;
	migf->stopped = stopped;
	migf->progress_at = jiffies;	/* round 0 is reported from its start */
	migf->head = kmalloc(HEAD_MAX, GFP_KERNEL_ACCOUNT);
	/* 128 KiB for 4 GiB of VRAM: vmalloc'd when no such run is free */
	migf->pending = kvcalloc(BITS_TO_LONGS(mig->npages), sizeof(unsigned long),
				 GFP_KERNEL_ACCOUNT);
	if (!migf->head || !migf->pending)
		return mig_file_fail(migf, -ENOMEM);

	ret = save_initial(migf);
	if (!ret)
		ret = save_state_len(mig, GPUP_REC_MUTABLE, &migf->mutable_len);
	if (ret)
		return mig_file_fail(migf, ret);

	/* arm tracking first, so writes during the first pass are caught */
	mig->ops->dirty_start(mig);
	migf->first_pass = mig->ops->populated(mig, migf->pending);
	migf->initial_left += GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_round) +
			      save_pending_vram_bytes(migf);
	return migf;
}

struct gpup_mig_file *gpup_mig_resume_file(struct gpup_mig *mig)
{
	struct gpup_mig_file *migf;

	migf = mig_file_alloc(mig, false);
	if (IS_ERR(migf))
		return migf;
	migf->parser = kzalloc(sizeof(*migf->parser), GFP_KERNEL_ACCOUNT);
	if (!migf->parser)
		return mig_file_fail(migf, -ENOMEM);
	gpup_parser_init(migf->parser, &gpup_resume_parser_ops, migf, mig->vram_size);
	return migf;
}
