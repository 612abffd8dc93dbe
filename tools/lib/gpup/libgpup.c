// SPDX-License-Identifier: GPL-2.0-only
/*
 * libgpup: the Windows IGPUPMigration contract over a VFIO device fd.
 *
 * The immutable state is the head of the device's migration stream: the
 * STREAM record and the IMMUTABLE chunks that a saving data fd hands out
 * first, at the start of the pre-copy initial bytes.  Saving it is a
 * pre-copy started and abandoned; restoring it is the start of a RESUMING
 * stream, which the target checks in write() and refuses before any VRAM
 * arrives.  Every byte the library hands to a target first goes through
 * the stream parser (drivers/gpup/core/stream.c, built here in user
 * space), so a damaged stream is refused here with the parser's reason,
 * and a refusal by the device can be placed in the stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>
#include <gpup/sim_state.h>

#include "libgpup.h"
#include "stream.h"

/* Largest immutable state the library takes: 16 chunks */
#define IM_CHUNKS	16
/* Largest stream head: STREAM and the immutable state at their largest */
#define HEAD_MAX	(GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_stream) + \
			 IM_CHUNKS * (GPUP_REC_OVERHEAD + GPUP_REC_SMALL_MAX))
/* read() and write() size of the whole-stream calls */
#define CHUNK		(1024 * 1024)
#define REC_BIT(type)	(1U << (type))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define HEAD_SEEN	(REC_BIT(GPUP_REC_STREAM) | REC_BIT(GPUP_REC_IMMUTABLE))

struct gpup_restore {
	int device_fd;
	int data_fd;			/* the RESUMING data fd, -1 once closed */
	uint32_t prev_state;		/* where the target goes back on failure */
	bool failed;			/* a piece was refused: only the end is left */
	struct gpup_parser parser;	/* everything written so far, checked */
};

static __thread char last_error[256];

/*
 * Record why a call fails; returns @err for "return fail(...)".  The
 * arguments may include last_error itself, to extend the reason.
 */
static int __printf(2, 3) fail(int err, const char *fmt, ...)
{
	char why[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	memcpy(last_error, why, sizeof(why));
	return err;
}

const char *gpup_last_error(void)
{
	return last_error;
}

static const char *state_name(uint32_t state)
{
	static const char * const names[] = {
		[VFIO_DEVICE_STATE_ERROR] = "ERROR",
		[VFIO_DEVICE_STATE_STOP] = "STOP",
		[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
		[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
		[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
		[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
		[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
		[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

/* The migration state feature, GET or SET; returns 0 or -errno */
static int mig_state_feature(int device_fd, uint32_t get_set,
			     struct vfio_device_feature_mig_state *mig)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + sizeof(*mig) + 7) / 8] = { 0 };
	struct vfio_device_feature *feat = (void *)buf;

	feat->argsz = sizeof(*feat) + sizeof(*mig);
	feat->flags = get_set | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	memcpy(feat->data, mig, sizeof(*mig));
	if (ioctl(device_fd, VFIO_DEVICE_FEATURE, feat))
		return -errno;
	memcpy(mig, feat->data, sizeof(*mig));
	return 0;
}

static int get_state(int device_fd, uint32_t *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = -1 };
	int ret = mig_state_feature(device_fd, VFIO_DEVICE_FEATURE_GET, &mig);

	if (ret)
		return fail(ret, "reading the device's migration state: %s", strerror(-ret));
	*state = mig.device_state;
	return 0;
}

/*
 * Move the device to @state.  With @data_fd, a data fd is required and
 * returned there; without, one that comes anyway is closed.
 */
static int set_state(int device_fd, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };
	int ret = mig_state_feature(device_fd, VFIO_DEVICE_FEATURE_SET, &mig);

	if (ret)
		return fail(ret, "device state %s: %s", state_name(state), strerror(-ret));
	if (!data_fd) {
		if (mig.data_fd >= 0)
			close(mig.data_fd);
		return 0;
	}
	if (mig.data_fd < 0)
		return fail(-EPROTO, "device state %s gave no data fd", state_name(state));
	*data_fd = mig.data_fd;
	return 0;
}

/* The states a call may start from and go back to */
static int check_start_state(int device_fd, uint32_t *state)
{
	int ret = get_state(device_fd, state);

	if (ret)
		return ret;
	switch (*state) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_RUNNING_P2P:
	case VFIO_DEVICE_STATE_STOP:
		return 0;
	case VFIO_DEVICE_STATE_ERROR:
		return fail(-EIO, "device is in ERROR: only VFIO_DEVICE_RESET leaves it");
	default:
		return fail(-EBUSY, "device is in %s: a migration is in progress",
			    state_name(*state));
	}
}

/* Exactly @len bytes, or fewer at the end of the file; returns the count or -errno */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int write_full(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static int check_record(void *ctx, u16 type, const void *payload, u32 len)
{
	return 0;
}

static int check_vram(void *ctx, u64 offset, const void *data, u32 len)
{
	return 0;
}

/* The immutable state, gathered when @ctx is a buffer of HEAD_MAX bytes */
static int check_state(void *ctx, u16 type, u64 off, u64 total, const void *data,
		       u32 len)
{
	if (ctx && type == GPUP_REC_IMMUTABLE && total <= HEAD_MAX)
		memcpy((u8 *)ctx + off, data, len);
	return 0;
}

/*
 * Structure, order and CRCs only: the device checks what the records say,
 * and the VRAM range against its own size, which is why the parser is
 * given no limit here.
 */
static const struct gpup_parser_ops check_ops = {
	.record = check_record,
	.state = check_state,
	.vram = check_vram,
};

/*
 * @buf must be exactly STREAM and the immutable state, whole and intact;
 * the state is gathered into @im (HEAD_MAX bytes) when it is not NULL.
 */
static int check_head(struct gpup_parser *p, const void *buf, uint64_t len, u8 *im)
{
	int ret;

	gpup_parser_init(p, &check_ops, im, UINT64_MAX);
	if (len > HEAD_MAX)
		return fail(-EINVAL, "%llu bytes: longer than a stream head can be (%zu)",
			    (unsigned long long)len, (size_t)HEAD_MAX);
	ret = gpup_parser_feed(p, buf, len);
	if (ret)
		return fail(-EINVAL, "not a stream head: record %llu at byte %llu: %s",
			    (unsigned long long)p->records, (unsigned long long)p->bytes,
			    p->error);
	if (p->seen != HEAD_SEEN || p->phase != GPUP_PARSE_HDR || p->fill)
		return fail(-EINVAL, "%llu bytes: not a whole stream head (STREAM, IMMUTABLE)",
			    (unsigned long long)len);
	return 0;
}

/*
 * The head's records: STREAM, then IMMUTABLE chunks up to the one that
 * ends at its total.  Given the record that starts at @buf (its header and
 * @avail bytes in all), returns 1 when it is the head's last, 0 when more
 * follow, or -EPROTO for what cannot be a head.  Only where the head ends
 * is found here; check_head() checks the rest.
 */
static int head_rec_last(const u8 *buf, size_t avail, unsigned int idx)
{
	struct gpup_rec_hdr h;
	struct gpup_rec_state st;
	u32 len;

	memcpy(&h, buf, sizeof(h));
	len = le32_to_cpu(h.length);
	if (le16_to_cpu(h.type) != (idx ? GPUP_REC_IMMUTABLE : GPUP_REC_STREAM) ||
	    len > GPUP_REC_SMALL_MAX || idx > IM_CHUNKS)
		return -EPROTO;
	if (!idx)
		return 0;
	if (len < sizeof(st) || avail < sizeof(h) + sizeof(st))
		return -EPROTO;
	memcpy(&st, buf + sizeof(h), sizeof(st));
	return le64_to_cpu(st.offset) + len - sizeof(st) >= le64_to_cpu(st.total);
}

/*
 * The head's end is found from its record headers, in either saving state:
 * STOP_COPY has no PRECOPY_INFO, and in pre-copy the initial bytes go on
 * past the head, through the first pass over VRAM.  Returns the bytes read
 * into @head or -errno.
 */
static ssize_t read_head(int data_fd, u8 *head)
{
	size_t off = 0;
	unsigned int i;
	int last = 0;

	for (i = 0; !last; i++) {
		struct gpup_rec_hdr h;
		ssize_t n = read_full(data_fd, head + off, sizeof(h));
		u32 len;

		if (n != sizeof(h))
			return n < 0 ? n : -EPROTO;
		memcpy(&h, head + off, sizeof(h));
		len = le32_to_cpu(h.length);
		if (len > GPUP_REC_SMALL_MAX)
			return -EPROTO;
		n = read_full(data_fd, head + off + sizeof(h), len + sizeof(__le32));
		if (n != (ssize_t)(len + sizeof(__le32)))
			return n < 0 ? n : -EPROTO;
		last = head_rec_last(head + off, sizeof(h) + n, i);
		if (last < 0)
			return last;
		off += sizeof(h) + n;
	}
	return off;
}

/*
 * The device's stream head into @head (HEAD_MAX bytes), the device left in
 * the state it is in, which must be one check_start_state() accepts.
 */
static ssize_t save_head(int device_fd, uint32_t state, u8 *head)
{
	uint32_t saving = state == VFIO_DEVICE_STATE_RUNNING ? VFIO_DEVICE_STATE_PRE_COPY :
			  state == VFIO_DEVICE_STATE_RUNNING_P2P ?
			  VFIO_DEVICE_STATE_PRE_COPY_P2P : VFIO_DEVICE_STATE_STOP_COPY;
	struct gpup_parser *p;
	int data_fd, ret;
	ssize_t n;

	p = malloc(sizeof(*p));
	if (!p)
		return fail(-ENOMEM, "out of memory");
	ret = set_state(device_fd, saving, &data_fd);
	if (ret)
		goto out;
	n = read_head(data_fd, head);
	close(data_fd);
	/* ends the saving stream: an abandoned pre-copy, or STOP_COPY -> STOP */
	ret = set_state(device_fd, state, NULL);
	if (n < 0) {
		ret = fail(n, "reading the stream head from %s: %s", state_name(saving),
			   n == -EPROTO ? "the device does not send one" : strerror(-n));
		goto out;
	}
	if (!ret) {
		ret = check_head(p, head, n, NULL);
		if (ret)
			fail(-EPROTO, "the device's %s", gpup_last_error());
		ret = ret ? -EPROTO : n;
	}
out:
	free(p);
	return ret;
}

int gpup_save_immutable(int device_fd, void *buf, uint64_t *len)
{
	uint32_t state;
	u8 *head;
	ssize_t n;

	last_error[0] = 0;
	if (!len)
		return fail(-EINVAL, "no length");
	head = malloc(HEAD_MAX);
	if (!head)
		return fail(-ENOMEM, "out of memory");
	n = check_start_state(device_fd, &state);
	if (!n)
		n = save_head(device_fd, state, head);
	if (n >= 0 && (!buf || *len < (uint64_t)n)) {
		*len = n;
		n = fail(-ENOSPC, "the immutable state needs %zd bytes", n);
	} else if (n >= 0) {
		memcpy(buf, head, n);
		*len = n;
		n = 0;
	}
	free(head);
	return n;
}

/* A little-endian field of struct gpup_sim_immutable, for the report */
struct im_field {
	const char *name;
	size_t off, size;
};

#define IM_OFF(f)	offsetof(struct gpup_sim_immutable, f)

/* In the order gpup_sim compares them, so both name the same field */
static const struct im_field im_fields[] = {
	{ "vendor_id", IM_OFF(vendor_id), 2 },
	{ "device_id", IM_OFF(device_id), 2 },
	{ "state_version", IM_OFF(state_version), 4 },
	{ "profile", IM_OFF(profile), 4 },
	{ "vram_size", IM_OFF(vram_size), 8 },
	{ "engines", IM_OFF(engines), 4 },
	{ "regmap_version", IM_OFF(regmap_version), 4 },
	{ "fw_version", IM_OFF(fw_version), 4 },
	{ "driver_version", IM_OFF(driver_version), 4 },
	{ "features", IM_OFF(features), 4 },
	{ "page_size", IM_OFF(page_size), 4 },
	{ "ctx_size", IM_OFF(ctx_size), 4 },
};

static_assert(sizeof(struct gpup_sim_immutable) == 48, "immutable layout changed");

static uint64_t le_field(const u8 *p, size_t size)
{
	uint64_t v = 0;

	while (size--)
		v = v << 8 | p[size];
	return v;
}

/*
 * Why a target refused the source's immutable record @src: the first
 * field that differs from the target's own @dst, in the layout of
 * uapi/linux/gpup.h, or where the bytes differ for another layout.
 */
static void explain_mismatch(const u8 *src, uint32_t slen, const u8 *dst, uint32_t dlen)
{
	const size_t im = sizeof(struct gpup_sim_immutable);
	unsigned int i;

	if (slen >= im && dlen >= im) {
		for (i = 0; i < ARRAY_SIZE(im_fields); i++) {
			const struct im_field *f = &im_fields[i];
			uint64_t s = le_field(src + f->off, f->size);
			uint64_t d = le_field(dst + f->off, f->size);

			if (s != d) {
				fail(-EMEDIUMTYPE,
				     "incompatible device: %s: source %#llx, target %#llx",
				     f->name, (unsigned long long)s, (unsigned long long)d);
				return;
			}
		}
	}
	if (slen != dlen) {
		fail(-EMEDIUMTYPE, "incompatible device: immutable record of %u bytes, target's %u",
		     slen, dlen);
		return;
	}
	for (i = 0; i < slen && src[i] == dst[i]; i++)
		;
	if (i < slen)
		fail(-EMEDIUMTYPE, "incompatible device: immutable state differs at byte %u", i);
	else
		fail(-EMEDIUMTYPE, "the target refused an immutable state equal to its own");
}

/*
 * Back to where the target was.  VFIO aborts a RESUMING session only by a
 * reset, and a stream that did not end well would take RESUMING -> STOP
 * into ERROR, which only a reset leaves too: so the target is reset
 * (to RUNNING) straight from where it is, then moved to its previous
 * state.
 */
static int rollback(struct gpup_restore *r)
{
	char why[sizeof(last_error)];
	int ret;

	memcpy(why, last_error, sizeof(why));
	if (r->data_fd >= 0)
		close(r->data_fd);
	r->data_fd = -1;
	if (ioctl(r->device_fd, VFIO_DEVICE_RESET)) {
		ret = -errno;
		return fail(ret, "%s; and resetting the target failed: %s", why, strerror(-ret));
	}
	ret = set_state(r->device_fd, r->prev_state, NULL);
	if (ret)
		return fail(ret, "%s; and after its reset: %s", why, gpup_last_error());
	memcpy(last_error, why, sizeof(why));
	return 0;
}

/* The immutable state of a head that check_head() took, and its size */
static uint32_t head_immutable(const u8 *head, size_t len, u8 *im)
{
	struct gpup_parser *p = malloc(sizeof(*p));
	uint32_t n = 0;

	if (p && !check_head(p, head, len, im))
		n = p->state_total;
	free(p);
	return n;
}

/* The target refused the head we wrote: reset it, then ask it for its own */
static int refused_head(struct gpup_restore *r, const u8 *head, size_t len, int err)
{
	uint32_t slen, dlen;
	u8 *own, *src, *dst;
	ssize_t n;
	int ret;

	fail(err, "the target refused the immutable state: %s", strerror(-err));
	ret = rollback(r);
	if (ret || err != -EINVAL)
		return ret ? ret : err;
	own = malloc(3 * HEAD_MAX);
	if (!own)
		return fail(-EMEDIUMTYPE, "incompatible device (no memory to say why)");
	src = own + HEAD_MAX;
	dst = src + HEAD_MAX;
	n = save_head(r->device_fd, r->prev_state, own);
	if (n < 0) {
		ret = fail(-EMEDIUMTYPE, "incompatible device (its own immutable state: %s)",
			   gpup_last_error());
	} else {
		slen = head_immutable(head, len, src);
		dlen = head_immutable(own, n, dst);
		explain_mismatch(src, slen, dst, dlen);
		ret = -EMEDIUMTYPE;
	}
	free(own);
	return ret;
}

static int restore_immutable(int device_fd, const void *buf, uint64_t len,
			     struct gpup_restore **out)
{
	struct gpup_restore *r;
	int ret;

	if (!buf || !out)
		return fail(-EINVAL, "no buffer");
	r = calloc(1, sizeof(*r));
	if (!r)
		return fail(-ENOMEM, "out of memory");
	r->device_fd = device_fd;
	r->data_fd = -1;
	/* the parser keeps going with the rest of the stream */
	ret = check_head(&r->parser, buf, len, NULL);
	if (!ret)
		ret = check_start_state(device_fd, &r->prev_state);
	if (ret)
		goto err;
	ret = set_state(device_fd, VFIO_DEVICE_STATE_RESUMING, &r->data_fd);
	if (ret) {
		/* it may have stopped on the way, or be in ERROR */
		ret = rollback(r) ?: ret;
		goto err;
	}
	ret = write_full(r->data_fd, buf, len);
	if (ret) {
		ret = refused_head(r, buf, len, ret);
		goto err;
	}
	*out = r;
	return 0;

err:
	free(r);
	return ret;
}

int gpup_restore_immutable(int device_fd, const void *buf, uint64_t len,
			   struct gpup_restore **out)
{
	last_error[0] = 0;
	return restore_immutable(device_fd, buf, len, out);
}

static int restore_write(struct gpup_restore *r, const void *buf, size_t len)
{
	struct gpup_parser *p = &r->parser;
	u64 at = p->bytes;
	int ret;

	if (r->failed)
		return fail(-EINVAL, "the stream was refused already: end the restore");
	ret = gpup_parser_feed(p, buf, len);
	if (ret) {
		r->failed = true;
		return fail(-EINVAL, "bad stream: record %llu at byte %llu: %s",
			    (unsigned long long)p->records, (unsigned long long)p->bytes,
			    p->error);
	}
	ret = write_full(r->data_fd, buf, len);
	if (ret) {
		r->failed = true;
		return fail(ret, "the target refused the stream after record %llu, byte %llu: %s",
			    (unsigned long long)p->records, (unsigned long long)at,
			    strerror(-ret));
	}
	return 0;
}

int gpup_restore_write(struct gpup_restore *r, const void *buf, size_t len)
{
	last_error[0] = 0;
	if (!r || (!buf && len))
		return fail(-EINVAL, "no session or no buffer");
	return restore_write(r, buf, len);
}

static int restore_finish(struct gpup_restore *r, unsigned int flags)
{
	struct gpup_parser *p = &r->parser;
	int ret;

	if (r->failed) {
		fail(-EINVAL, "the stream was refused: the target is reset");
		ret = rollback(r);
		return ret ? ret : -EINVAL;
	}
	if (!gpup_parser_done(p)) {
		fail(-EINVAL, "stream truncated: no end record after %llu records, %llu bytes",
		     (unsigned long long)p->records, (unsigned long long)p->bytes);
		ret = rollback(r);
		return ret ? ret : -EINVAL;
	}
	close(r->data_fd);
	r->data_fd = -1;
	/* the device's final check of the whole stream */
	ret = set_state(r->device_fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (ret) {
		fail(ret, "the target refused the complete stream: %s", strerror(-ret));
		return rollback(r) ?: ret;
	}
	if (flags & GPUP_RUN)
		return set_state(r->device_fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return 0;
}

int gpup_restore_finish(struct gpup_restore *r, unsigned int flags)
{
	int ret;

	last_error[0] = 0;
	if (!r)
		return fail(-EINVAL, "no session");
	ret = restore_finish(r, flags);
	free(r);
	return ret;
}

void gpup_restore_abort(struct gpup_restore *r)
{
	last_error[0] = 0;
	if (!r)
		return;
	rollback(r);
	free(r);
}

/* PRE_COPY until the wanted temporary ends or bytes; the device runs */
static int save_precopy(int data_fd, int out_fd, const struct gpup_save_opts *o,
			struct gpup_save_stats *st, u8 *buf)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	int ret;

	for (;;) {
		ssize_t n = read(data_fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ENOMSG)
			return fail(-errno, "reading the stream in PRE_COPY: %m");
		if (n > 0) {
			ret = write_full(out_fd, buf, n);
			if (ret)
				return fail(ret, "writing the stream out: %s", strerror(-ret));
			st->precopy_bytes += n;
		} else {
			/* -ENOMSG, or 0 from a device that reports it so */
			st->precopy_passes++;
		}
		/* the initial bytes always go before the device stops */
		if (ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, &info))
			return fail(-errno, "VFIO_MIG_GET_PRECOPY_INFO: %m");
		if (info.initial_bytes)
			continue;
		if (st->precopy_passes >= o->precopy_passes)
			return 0;
		if (o->precopy_max_bytes && st->precopy_bytes >= o->precopy_max_bytes)
			return 0;
	}
}

/* STOP_COPY to the final end: read() returns 0 */
static int save_stopcopy(int data_fd, int out_fd, struct gpup_save_stats *st, u8 *buf)
{
	int ret;

	for (;;) {
		ssize_t n = read(data_fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOMSG)
			return fail(-EPROTO, "the device returned ENOMSG in STOP_COPY");
		if (n < 0)
			return fail(-errno, "reading the stream in STOP_COPY: %m");
		if (!n)
			return 0;
		ret = write_full(out_fd, buf, n);
		if (ret)
			return fail(ret, "writing the stream out: %s", strerror(-ret));
		st->stopcopy_bytes += n;
	}
}

static int save_stream(int device_fd, int out_fd, const struct gpup_save_opts *o,
		       struct gpup_save_stats *st, u8 *buf)
{
	int data_fd = -1, ret;
	uint32_t state;

	ret = check_start_state(device_fd, &state);
	if (ret)
		return ret;
	if (o->precopy_passes && state != VFIO_DEVICE_STATE_RUNNING)
		return fail(-EINVAL, "pre-copy needs a RUNNING device, not %s",
			    state_name(state));
	if (o->precopy_passes) {
		ret = set_state(device_fd, VFIO_DEVICE_STATE_PRE_COPY, &data_fd);
		if (!ret)
			ret = save_precopy(data_fd, out_fd, o, st, buf);
		/* the same data fd goes on: PRE_COPY -> PRE_COPY_P2P -> STOP_COPY */
		if (!ret)
			ret = set_state(device_fd, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	} else {
		ret = set_state(device_fd, VFIO_DEVICE_STATE_STOP_COPY, &data_fd);
	}
	if (!ret)
		ret = save_stopcopy(data_fd, out_fd, st, buf);
	if (data_fd >= 0)
		close(data_fd);
	if (ret) {
		/* ends the saving stream, whichever state it reached */
		set_state(device_fd, state, NULL);
		return ret;
	}
	ret = set_state(device_fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (!ret && (o->flags & GPUP_RUN))
		ret = set_state(device_fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret;
}

int gpup_save_stream(int device_fd, int out_fd, const struct gpup_save_opts *opts,
		     struct gpup_save_stats *stats)
{
	struct gpup_save_opts none = { 0 };
	struct gpup_save_stats st = { 0 };
	u8 *buf;
	int ret;

	last_error[0] = 0;
	buf = malloc(CHUNK);
	if (!buf)
		return fail(-ENOMEM, "out of memory");
	ret = save_stream(device_fd, out_fd, opts ? opts : &none, &st, buf);
	free(buf);
	if (stats)
		*stats = st;
	return ret;
}

/* How long the head at the start of @buf is, from its record headers */
static ssize_t head_length(const u8 *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;
	int last = 0;

	for (i = 0; !last; i++) {
		struct gpup_rec_hdr h;

		if (len - off < sizeof(h) + sizeof(struct gpup_rec_state))
			return fail(-EINVAL, "stream truncated: %zu bytes, inside its head", len);
		memcpy(&h, buf + off, sizeof(h));
		last = head_rec_last(buf + off, len - off, i);
		if (last < 0)
			return fail(-EINVAL, "not a gpup stream head: record %u, type %u, %u bytes",
				    i, le16_to_cpu(h.type), le32_to_cpu(h.length));
		off += GPUP_REC_OVERHEAD + le32_to_cpu(h.length);
		if (off > len)
			return fail(-EINVAL, "stream truncated: %zu bytes, inside its head", len);
	}
	return off;
}

static int restore_stream(int device_fd, int in_fd, unsigned int flags, u8 *buf)
{
	struct gpup_restore *r;
	ssize_t n, head;
	int ret;

	n = read_full(in_fd, buf, CHUNK);
	if (n < 0)
		return fail(n, "reading the saved stream: %s", strerror(-n));
	head = head_length(buf, n);
	if (head < 0)
		return head;
	ret = restore_immutable(device_fd, buf, head, &r);
	if (ret)
		return ret;
	ret = restore_write(r, buf + head, n - head);
	while (!ret) {
		n = read_full(in_fd, buf, CHUNK);
		if (n <= 0)
			break;
		ret = restore_write(r, buf, n);
	}
	if (!ret && n < 0) {
		r->failed = true;
		ret = fail(n, "reading the saved stream: %s", strerror(-n));
	}
	if (ret) {
		rollback(r);
		free(r);
		return ret;
	}
	ret = restore_finish(r, flags);
	free(r);
	return ret;
}

int gpup_restore_stream(int device_fd, int in_fd, unsigned int flags)
{
	u8 *buf;
	int ret;

	last_error[0] = 0;
	buf = malloc(CHUNK);
	if (!buf)
		return fail(-ENOMEM, "out of memory");
	ret = restore_stream(device_fd, in_fd, flags, buf);
	free(buf);
	return ret;
}

int32_t gpup_hresult(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return GPUP_S_OK;
	case EINVAL:
	case EMEDIUMTYPE:	/* the KMD's STATUS_OBJECT_TYPE_MISMATCH */
		return GPUP_E_INVALIDARG;
	case ENOSPC:
		return GPUP_E_NOT_SUFFICIENT_BUFFER;
	case ENOMEM:
		return GPUP_E_OUTOFMEMORY;
	case EFAULT:
		return GPUP_E_POINTER;
	case EBADF:
		return GPUP_E_HANDLE;
	case EPERM:
	case EACCES:
		return GPUP_E_ACCESSDENIED;
	case EBUSY:
		return GPUP_E_BUSY;
	case EAGAIN:
		return GPUP_E_NOT_READY;
	case ENODEV:
	case ENXIO:
		return GPUP_E_DEVICE_REMOVED;
	case ENOTTY:
	case EOPNOTSUPP:
		return GPUP_E_NOTIMPL;
	default:
		return GPUP_E_FAIL;
	}
}

const char *gpup_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument, or a malformed or incomplete migration stream";
	case EMEDIUMTYPE:
		return "the target device is not compatible with the saved device";
	case ENOSPC:
		return "buffer too small: the length now holds the size needed";
	case ENOMEM:
		return "out of memory";
	case EBUSY:
		return "the device is in a migration state the call does not start from";
	case ENODEV:
		return "the device was reset or closed during the migration";
	case ENOTTY:
	case EOPNOTSUPP:
		return "the device does not support VFIO migration";
	case EPROTO:
		return "the device broke the VFIO migration protocol or stream format";
	case EIO:
		return "device error";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
