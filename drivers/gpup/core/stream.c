// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gpup migration stream: encoding helpers and the incremental parser.
 *
 * The parser takes the stream in pieces of any size, down to one byte, and
 * never trusts a length: every record's length is checked against its type
 * before any byte of its payload is used, small payloads are gathered in a
 * fixed buffer, and VRAM data is passed through to its destination only
 * after the record's range is checked against the VRAM size.  The first
 * error sticks: the parser refuses every later byte.
 */
#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/crc32c.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#endif

#include "stream.h"

#define REC_BIT(type)	(1U << (type))

/* The wire layout is ABI: changing a size needs a new major version */
static_assert(sizeof(struct gpup_rec_hdr) == 8);
static_assert(sizeof(struct gpup_rec_stream) == 16);
static_assert(sizeof(struct gpup_rec_vram) == 16);
static_assert(sizeof(struct gpup_rec_round) == 8);
static_assert(sizeof(struct gpup_rec_end) == 16);
static_assert(sizeof(struct gpup_rec_state) + GPUP_REC_STATE_CHUNK_MAX ==
	      GPUP_REC_SMALL_MAX);

u32 gpup_stream_crc(u32 crc, const void *buf, size_t len)
{
	return crc32c(crc, buf, len);
}

void gpup_rec_hdr_encode(struct gpup_rec_hdr *hdr, u16 type, u16 flags, u32 len)
{
	hdr->type = cpu_to_le16(type);
	hdr->flags = cpu_to_le16(flags);
	hdr->length = cpu_to_le32(len);
}

/**
 * gpup_rec_encode() - encode one whole record
 * @out: where it goes, at any alignment: GPUP_REC_OVERHEAD + @len bytes
 * @type: enum gpup_rec_type, or an unknown type for an optional record
 * @flags: GPUP_REC_F_*
 * @payload: @len bytes
 * @len: the payload's length
 *
 * Return: the bytes written: header, payload and CRC.
 */
size_t gpup_rec_encode(void *out, u16 type, u16 flags, const void *payload,
		       u32 len)
{
	struct gpup_rec_hdr hdr;
	u8 *p = out;
	u32 crc;

	gpup_rec_hdr_encode(&hdr, type, flags, len);
	memcpy(p, &hdr, sizeof(hdr));
	memcpy(p + sizeof(struct gpup_rec_hdr), payload, len);
	crc = ~gpup_stream_crc(GPUP_CRC_SEED, p, sizeof(struct gpup_rec_hdr) + len);
	put_unaligned_le32(crc, p + sizeof(struct gpup_rec_hdr) + len);
	return GPUP_REC_OVERHEAD + len;
}
EXPORT_SYMBOL_GPL(gpup_rec_encode);

/**
 * gpup_parser_init() - start parsing a stream
 * @p: the parser, of any memory; its buffer is not cleared
 * @ops: where records, chunks of device state and VRAM data go
 * @ctx: passed to @ops
 * @vram_size: VRAM records must fall inside it
 */
void gpup_parser_init(struct gpup_parser *p, const struct gpup_parser_ops *ops,
		      void *ctx, u64 vram_size)
{
	memset(p, 0, offsetof(struct gpup_parser, buf));
	p->ops = ops;
	p->ctx = ctx;
	p->vram_size = vram_size;
	p->phase = GPUP_PARSE_HDR;
}
EXPORT_SYMBOL_GPL(gpup_parser_init);

static int parse_fail(struct gpup_parser *p, const char *why, int err)
{
	p->phase = GPUP_PARSE_FAILED;
	p->error = why;
	return err;
}

/*
 * The smallest payload each known record may have; newer minors may add.
 * IMMUTABLE and MUTABLE carry a chunk of the backend's state, at least a
 * byte, whose layout the backend checks.
 */
static u32 rec_min_len(u16 type)
{
	switch (type) {
	case GPUP_REC_STREAM:
		return sizeof(struct gpup_rec_stream);
	case GPUP_REC_IMMUTABLE:
	case GPUP_REC_MUTABLE:
		return sizeof(struct gpup_rec_state) + 1;
	case GPUP_REC_VRAM:
		return sizeof(struct gpup_rec_vram) + GPUP_MIG_PAGE_SIZE;
	case GPUP_REC_ROUND:
		return sizeof(struct gpup_rec_round);
	case GPUP_REC_END:
		return sizeof(struct gpup_rec_end);
	default:
		return 0;
	}
}

static bool rec_known(u16 type)
{
	return rec_min_len(type) != 0;
}

/* Largest payload: a VRAM record's pages, or the small-record buffer */
#define REC_MAX_LEN	(sizeof(struct gpup_rec_vram) + \
			 GPUP_REC_VRAM_MAX_PAGES * GPUP_MIG_PAGE_SIZE)

/* A header is complete: check it against the records seen so far */
static int parse_header(struct gpup_parser *p)
{
	const struct gpup_rec_hdr *hdr = (const void *)p->buf;
	u32 before = p->seen;

	p->type = le16_to_cpu(hdr->type);
	p->flags = le16_to_cpu(hdr->flags);
	p->length = le32_to_cpu(hdr->length);
	p->done = 0;
	p->crc = gpup_stream_crc(GPUP_CRC_SEED, p->buf, sizeof(*hdr));

	if (!(before & REC_BIT(GPUP_REC_STREAM)) && p->type != GPUP_REC_STREAM)
		return parse_fail(p, "stream does not open with a stream record", -EINVAL);
	/* a device state's chunks come back to back */
	if (p->state_type && p->type != p->state_type)
		return parse_fail(p, p->state_type == GPUP_REC_IMMUTABLE ?
				  "record inside the immutable state" :
				  "record inside the mutable state", -EINVAL);
	if (!rec_known(p->type)) {
		if (p->flags & GPUP_REC_F_MANDATORY)
			return parse_fail(p, "unknown mandatory record type", -EINVAL);
		if (p->length > REC_MAX_LEN)
			return parse_fail(p, "optional record too long", -EINVAL);
		/* nothing puts off the target's check of the immutable state */
		if (!(before & REC_BIT(GPUP_REC_IMMUTABLE)))
			return parse_fail(p, "record before the immutable record", -EINVAL);
		return 0;
	}
	if (p->length < rec_min_len(p->type))
		return parse_fail(p, "record shorter than its type", -EINVAL);
	if (p->type != GPUP_REC_VRAM && p->length > GPUP_REC_SMALL_MAX)
		return parse_fail(p, "record longer than allowed", -EINVAL);
	if (p->type == GPUP_REC_VRAM && p->length > REC_MAX_LEN)
		return parse_fail(p, "VRAM record longer than allowed", -EINVAL);

	switch (p->type) {
	case GPUP_REC_STREAM:
		if (before)
			return parse_fail(p, "second stream record", -EINVAL);
		return 0;
	case GPUP_REC_IMMUTABLE:
		if (before != REC_BIT(GPUP_REC_STREAM))
			return parse_fail(p, "immutable record out of place", -EINVAL);
		return 0;
	case GPUP_REC_MUTABLE:
		if (before & REC_BIT(GPUP_REC_MUTABLE))
			return parse_fail(p, "second mutable state", -EINVAL);
		fallthrough;
	default:
		if (!(before & REC_BIT(GPUP_REC_IMMUTABLE)))
			return parse_fail(p, "record before the immutable record", -EINVAL);
		if (p->type == GPUP_REC_END && !(before & REC_BIT(GPUP_REC_MUTABLE)))
			return parse_fail(p, "end record before the mutable record", -EINVAL);
		return 0;
	}
}

/* The fixed part of a VRAM record is in buf: check its range */
static int parse_vram_prefix(struct gpup_parser *p)
{
	const struct gpup_rec_vram *v = (const void *)p->buf;
	u64 off = le64_to_cpu(v->offset);
	u32 npages = le32_to_cpu(v->npages);
	u64 len = (u64)npages * GPUP_MIG_PAGE_SIZE;

	if (v->reserved || !npages || npages > GPUP_REC_VRAM_MAX_PAGES)
		return parse_fail(p, "VRAM record page count invalid", -EINVAL);
	if (p->length != sizeof(*v) + len)
		return parse_fail(p, "VRAM record length does not match its pages", -EINVAL);
	if (off % GPUP_MIG_PAGE_SIZE || off > p->vram_size || len > p->vram_size - off)
		return parse_fail(p, "VRAM record outside the target's VRAM", -EINVAL);
	p->vram_off = off;
	return 0;
}

static int parse_body(struct gpup_parser *p, const u8 *data, u32 n)
{
	int ret;

	p->crc = gpup_stream_crc(p->crc, data, n);
	if (!rec_known(p->type)) {
		p->done += n;
		return 0;
	}
	if (p->type == GPUP_REC_VRAM && p->done >= sizeof(struct gpup_rec_vram)) {
		ret = p->ops->vram(p->ctx, p->vram_off, data, n);
		if (ret)
			return parse_fail(p, "VRAM data rejected by the device", ret);
		p->vram_off += n;
		p->done += n;
		return 0;
	}
	memcpy(p->buf + p->done, data, n);
	p->done += n;
	if (p->type == GPUP_REC_VRAM && p->done == sizeof(struct gpup_rec_vram))
		return parse_vram_prefix(p);
	return 0;
}

static int check_small_record(struct gpup_parser *p)
{
	const struct gpup_rec_stream *s = (const void *)p->buf;
	const struct gpup_rec_end *e = (const void *)p->buf;

	switch (p->type) {
	case GPUP_REC_STREAM:
		if (le64_to_cpu(s->magic) != GPUP_MIG_MAGIC)
			return parse_fail(p, "not a gpup migration stream (bad magic)", -EINVAL);
		if (le16_to_cpu(s->major) != GPUP_MIG_VERSION_MAJOR)
			return parse_fail(p, "unsupported stream major version", -EINVAL);
		return 0;
	case GPUP_REC_END:
		if (le64_to_cpu(e->records) != p->records ||
		    le64_to_cpu(e->bytes) != p->bytes)
			return parse_fail(p, "end record does not match the stream", -EINVAL);
		return 0;
	default:
		return 0;
	}
}

/*
 * A chunk of device state is in buf, its CRC checked: check its place in
 * the state, then hand it over.  The state is complete, and counts as
 * seen, when a chunk ends at its total.
 */
static int parse_state(struct gpup_parser *p)
{
	const struct gpup_rec_state *st = (const void *)p->buf;
	u64 off = le64_to_cpu(st->offset);
	u64 total = le64_to_cpu(st->total);
	u32 len = p->length - sizeof(*st);
	int ret;

	if (!p->state_type) {
		if (off)
			return parse_fail(p, "device state does not start at offset 0", -EINVAL);
		p->state_type = p->type;
		p->state_off = 0;
		p->state_total = total;
	}
	if (off != p->state_off)
		return parse_fail(p, "device state chunk out of order", -EINVAL);
	if (total != p->state_total)
		return parse_fail(p, "device state total changed", -EINVAL);
	if (len > total - off)
		return parse_fail(p, "device state chunk past its total", -EINVAL);
	ret = p->ops->state(p->ctx, p->type, off, total, p->buf + sizeof(*st), len);
	if (ret)
		return parse_fail(p, "record rejected by the device", ret);
	p->state_off += len;
	if (p->state_off == total) {
		p->seen |= REC_BIT(p->type);
		p->state_type = 0;
	}
	return 0;
}

/* The CRC is in buf: check it, then hand the record over */
static int parse_crc(struct gpup_parser *p)
{
	int ret;

	if (get_unaligned_le32(p->crc_buf) != ~p->crc)
		return parse_fail(p, "record CRC mismatch", -EINVAL);

	if (p->type == GPUP_REC_IMMUTABLE || p->type == GPUP_REC_MUTABLE) {
		ret = parse_state(p);
		if (ret)
			return ret;
	} else if (rec_known(p->type) && p->type != GPUP_REC_VRAM) {
		ret = check_small_record(p);
		if (ret)
			return ret;
		ret = p->ops->record(p->ctx, p->type, p->buf, p->length);
		if (ret)
			return parse_fail(p, "record rejected by the device", ret);
		p->seen |= REC_BIT(p->type);
	} else if (p->type == GPUP_REC_VRAM) {
		p->seen |= REC_BIT(p->type);
	}
	p->records++;
	p->bytes += GPUP_REC_OVERHEAD + p->length;
	p->phase = p->type == GPUP_REC_END ? GPUP_PARSE_DONE : GPUP_PARSE_HDR;
	p->fill = 0;
	return 0;
}

/* Gather up to @want bytes into @dst (filled to p->fill); true when full */
static bool gather(struct gpup_parser *p, u8 *dst, u32 want, const u8 **data,
		   size_t *len)
{
	u32 n = min_t(size_t, want - p->fill, *len);

	memcpy(dst + p->fill, *data, n);
	p->fill += n;
	*data += n;
	*len -= n;
	return p->fill == want;
}

/**
 * gpup_parser_feed() - take the next bytes of a stream
 * @p: an initialised parser
 * @data: the bytes, cut anywhere
 * @len: how many
 *
 * The first error sticks: every later call fails too.
 * Return: 0 when all were consumed, or the negative errno that failed the
 * stream (-EINVAL, or what an op returned), with @p->error saying why.
 */
int gpup_parser_feed(struct gpup_parser *p, const void *data, size_t len)
{
	const u8 *in = data;
	int ret = 0;

	while (len && !ret) {
		u32 n;

		switch (p->phase) {
		case GPUP_PARSE_HDR:
			if (!gather(p, p->buf, sizeof(struct gpup_rec_hdr), &in, &len))
				break;
			p->fill = 0;
			ret = parse_header(p);
			if (!ret)
				p->phase = p->length ? GPUP_PARSE_BODY : GPUP_PARSE_CRC;
			break;
		case GPUP_PARSE_BODY:
			n = min_t(size_t, p->length - p->done, len);
			/* stop at the end of a VRAM record's fixed part */
			if (p->type == GPUP_REC_VRAM && p->done < sizeof(struct gpup_rec_vram))
				n = min_t(u32, n, sizeof(struct gpup_rec_vram) - p->done);
			ret = parse_body(p, in, n);
			in += n;
			len -= n;
			if (!ret && p->done == p->length)
				p->phase = GPUP_PARSE_CRC;
			break;
		case GPUP_PARSE_CRC:
			if (gather(p, p->crc_buf, sizeof(p->crc_buf), &in, &len))
				ret = parse_crc(p);
			break;
		case GPUP_PARSE_DONE:
			return parse_fail(p, "data after the end record", -EINVAL);
		case GPUP_PARSE_FAILED:
			return -EINVAL;
		}
	}
	return ret;
}
EXPORT_SYMBOL_GPL(gpup_parser_feed);
