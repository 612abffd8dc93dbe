// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the kernel's incremental stream parser (stream.c).
 *
 * Each input is parsed in one piece, in pieces of sizes drawn from the
 * input, and (a small one) a byte at a time, and checked against a
 * reference: a second, whole-buffer reading of the format as
 * Documentation/gpup/migration.rst specifies it.  The parses must end
 * alike (verdict, reason, records and bytes counted, records and chunks of
 * device state handed over, VRAM written), the parser must accept exactly
 * the streams the reference
 * accepts, and it must refuse a bad one at the byte where the reference
 * does: in the piece that holds that byte, never earlier or later.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

#define VRAM_SIZE	(16 * GPUP_MIG_PAGE_SIZE)
#define REF_MAX_LEN	(sizeof(struct gpup_rec_vram) + \
			 GPUP_REC_VRAM_MAX_PAGES * GPUP_MIG_PAGE_SIZE)
/*
 * The device refuses a mutable state whose first chunk opens with
 * DEV_BAD_STATE (32 bits, which the fuzzer's comparison tracing can find),
 * a ROUND record of round DEV_BAD_STATE, and VRAM data that has
 * DEV_BAD_DATA at DEV_BAD_BYTE, having written the bytes before.
 */
#define DEV_BAD_STATE	GPUP_FUZZ_BAD_STATE
#define DEV_BAD_DATA	GPUP_FUZZ_BAD_DATA
#define DEV_BAD_BYTE	GPUP_FUZZ_BAD_BYTE
/* Inputs up to this size are also parsed a byte at a time */
#define BYTEWISE_MAX	1024

struct parse {
	struct gpup_parser p;
	const u8 *in;			/* the stream being parsed */
	int ret;
	size_t fail_lo, fail_hi;	/* the piece that failed the stream */
	u32 rec_crc;			/* of the records and chunks handed over */
	u16 st_type;			/* the state being handed over, 0 if none */
	u64 st_next, st_total;		/* where its next chunk starts; its size */
	u64 vram_next;			/* where the last VRAM data ended */
	size_t vram_lo, vram_hi;	/* the bytes written */
	u8 vram[VRAM_SIZE];
};

/* Encoding what the parser decoded gives back the bytes it read */
static void check_encode(struct parse *r, u16 type, const void *payload, u32 len)
{
	static u8 enc[GPUP_REC_OVERHEAD + GPUP_REC_SMALL_MAX];
	size_t n = gpup_rec_encode(enc, type, r->p.flags, payload, len);

	/* the record starts where the complete records before it end */
	gpup_fuzz_check(n == GPUP_REC_OVERHEAD + len && !memcmp(enc, r->in + r->p.bytes, n),
			"record type %u at %llu does not encode back to its bytes", type,
			(unsigned long long)r->p.bytes);
}

static int on_record(void *ctx, u16 type, const void *payload, u32 len)
{
	struct parse *r = ctx;

	gpup_fuzz_check(len <= GPUP_REC_SMALL_MAX && type != GPUP_REC_VRAM &&
			type != GPUP_REC_IMMUTABLE && type != GPUP_REC_MUTABLE,
			"record type %u of %u bytes handed over", type, len);
	gpup_fuzz_check(!r->st_type, "record type %u inside a device state", type);
	check_encode(r, type, payload, len);
	r->rec_crc = crc32c(r->rec_crc, &type, sizeof(type));
	r->rec_crc = crc32c(r->rec_crc, &len, sizeof(len));
	r->rec_crc = crc32c(r->rec_crc, payload, len);
	if (type == GPUP_REC_ROUND && get_unaligned_le32(payload) == DEV_BAD_STATE)
		return -EPERM;
	return 0;
}

/* A chunk comes in its state's order, and the chunks add up to the state */
static int on_state(void *ctx, u16 type, u64 off, u64 total, const void *data, u32 len)
{
	static u8 pl[GPUP_REC_SMALL_MAX] __aligned(8);
	struct gpup_rec_state *h = (void *)pl;
	struct parse *r = ctx;

	gpup_fuzz_check((type == GPUP_REC_IMMUTABLE || type == GPUP_REC_MUTABLE) &&
			len && len <= GPUP_REC_STATE_CHUNK_MAX && off <= total &&
			len <= total - off,
			"chunk type %u at %llu, %u bytes of %llu handed over", type,
			(unsigned long long)off, len, (unsigned long long)total);
	gpup_fuzz_check(r->st_type ? type == r->st_type && off == r->st_next &&
			total == r->st_total : !off,
			"chunk type %u at %llu of %llu after type %u up to %llu of %llu", type,
			(unsigned long long)off, (unsigned long long)total, r->st_type,
			(unsigned long long)r->st_next, (unsigned long long)r->st_total);
	h->offset = cpu_to_le64(off);
	h->total = cpu_to_le64(total);
	memcpy(pl + sizeof(*h), data, len);
	check_encode(r, type, pl, sizeof(*h) + len);
	r->st_type = off + len < total ? type : 0;
	r->st_next = off + len;
	r->st_total = total;
	r->rec_crc = crc32c(r->rec_crc, pl, sizeof(*h) + len);
	if (type == GPUP_REC_MUTABLE && !off && len >= 4 &&
	    get_unaligned_le32(data) == DEV_BAD_STATE)
		return -EPERM;
	return 0;
}

static int on_vram(void *ctx, u64 off, const void *data, u32 len)
{
	struct parse *r = ctx;
	int ret = 0;

	gpup_fuzz_check(!r->st_type, "VRAM data inside a device state");
	gpup_fuzz_check(len && off <= VRAM_SIZE && len <= VRAM_SIZE - off,
			"VRAM data at 0x%llx, %u bytes, outside the VRAM",
			(unsigned long long)off, len);
	/* a record's data arrives in order; a new record starts on a page */
	gpup_fuzz_check(off == r->vram_next || off % GPUP_MIG_PAGE_SIZE == 0,
			"VRAM data at 0x%llx after 0x%llx", (unsigned long long)off,
			(unsigned long long)r->vram_next);
	if (off <= DEV_BAD_BYTE && DEV_BAD_BYTE - off < len &&
	    ((const u8 *)data)[DEV_BAD_BYTE - off] == DEV_BAD_DATA) {
		len = DEV_BAD_BYTE - off;
		ret = -EIO;
	}
	memcpy(r->vram + off, data, len);
	r->vram_next = off + len;
	if (len && r->vram_lo > off)
		r->vram_lo = off;
	if (len && r->vram_hi < off + len)
		r->vram_hi = off + len;
	return ret;
}

static const struct gpup_parser_ops ops = {
	.record = on_record,
	.state = on_state,
	.vram = on_vram,
};

static void parse_init(struct parse *r)
{
	if (r->vram_hi > r->vram_lo)
		memset(r->vram + r->vram_lo, 0, r->vram_hi - r->vram_lo);
	r->vram_lo = VRAM_SIZE;
	r->vram_hi = 0;
	r->vram_next = 0;
	r->ret = 0;
	r->fail_lo = 0;
	r->fail_hi = 0;
	r->rec_crc = 0;
	r->st_type = 0;
	r->st_next = 0;
	r->st_total = 0;
	gpup_parser_init(&r->p, &ops, r, VRAM_SIZE);
}

/* One byte, a few, hundreds, or up to two pages: records cut everywhere */
static size_t piece(struct gpup_fuzz_rng *rng)
{
	u64 x = gpup_fuzz_rng_next(rng);

	switch (x % 4) {
	case 0:
		return 1;
	case 1:
		return 1 + (x >> 8) % 16;
	case 2:
		return 1 + (x >> 8) % 600;
	default:
		return 1 + (x >> 8) % (2 * GPUP_MIG_PAGE_SIZE);
	}
}

enum split { SPLIT_WHOLE, SPLIT_PIECES, SPLIT_BYTES };

static void parse_pieces(struct parse *r, const u8 *data, size_t size, enum split how)
{
	struct gpup_fuzz_rng rng;
	size_t off = 0, n;

	gpup_fuzz_rng_init(&rng, data, size);
	parse_init(r);
	r->in = data;
	while (off < size) {
		n = how == SPLIT_WHOLE ? size : how == SPLIT_BYTES ? 1 : piece(&rng);
		if (n > size - off)
			n = size - off;
		r->ret = gpup_parser_feed(&r->p, data + off, n);
		if (r->ret) {
			r->fail_lo = off;
			r->fail_hi = off + n;
			/* the first error sticks */
			gpup_fuzz_check(gpup_parser_feed(&r->p, data, 1) &&
					r->p.phase == GPUP_PARSE_FAILED,
					"a failed parser took more bytes");
			return;
		}
		off += n;
	}
}

/* The reference: where the stream fails, and whether it is complete */
struct ref {
	size_t fail_at;		/* the byte that fails the stream */
	bool failed, done;
	u64 records, bytes;
	u16 state;		/* the device state under way, 0 if none */
	u64 state_got, state_total;
};

/* A chunk of device state is its offset and total, then at least a byte */
static u32 ref_min_len(u16 type)
{
	static const u32 min[] = { 0, 16, 17, 16 + GPUP_MIG_PAGE_SIZE, 8, 17, 16 };

	return type < ARRAY_SIZE(min) ? min[type] : 0;
}

/* The "place" column of the record table */
static bool ref_in_place(u16 type, u32 seen)
{
	const u32 stream = 1 << GPUP_REC_STREAM, imm = 1 << GPUP_REC_IMMUTABLE;

	switch (type) {
	case GPUP_REC_STREAM:
		return !seen;
	case GPUP_REC_IMMUTABLE:
		return seen == stream;
	case GPUP_REC_MUTABLE:
		return (seen & imm) && !(seen & 1 << GPUP_REC_MUTABLE);
	case GPUP_REC_END:
		return (seen & imm) && (seen & 1 << GPUP_REC_MUTABLE);
	default:
		return seen & imm;
	}
}

static bool ref_header_ok(u16 type, u16 flags, u32 len, u32 seen, u16 state)
{
	u32 min = ref_min_len(type);

	if (!(seen & 1 << GPUP_REC_STREAM) && type != GPUP_REC_STREAM)
		return false;
	/* nothing between two chunks of a state */
	if (state && type != state)
		return false;
	if (!min)
		return !(flags & GPUP_REC_F_MANDATORY) && len <= REF_MAX_LEN &&
		       (seen & 1 << GPUP_REC_IMMUTABLE);
	if (len < min || len > (type == GPUP_REC_VRAM ? REF_MAX_LEN : GPUP_REC_SMALL_MAX))
		return false;
	return ref_in_place(type, seen);
}

static u64 ref_le64(const u8 *b)
{
	return get_unaligned_le32(b) | (u64)get_unaligned_le32(b + 4) << 32;
}

static bool ref_vram_ok(const u8 *v, u32 len)
{
	u64 off = ref_le64(v);
	u32 npages = get_unaligned_le32(v + 8);

	if (get_unaligned_le32(v + 12) || !npages || npages > GPUP_REC_VRAM_MAX_PAGES)
		return false;
	if (len != 16 + (u64)npages * GPUP_MIG_PAGE_SIZE || off % GPUP_MIG_PAGE_SIZE)
		return false;
	return off <= VRAM_SIZE && (u64)npages * GPUP_MIG_PAGE_SIZE <= VRAM_SIZE - off;
}

static bool ref_fail(struct ref *f, size_t at)
{
	f->failed = true;
	f->fail_at = at;
	return false;
}

/* The device's refusal of VRAM data: at its byte, once it arrives */
static bool ref_vram_device_ok(struct ref *f, const u8 *d, size_t size, size_t o)
{
	u64 off = ref_le64(d + o + 8), len = get_unaligned_le32(d + o + 4) - 16;
	size_t at;

	if (off > DEV_BAD_BYTE || DEV_BAD_BYTE - off >= len)
		return true;
	at = o + 8 + 16 + (DEV_BAD_BYTE - off);
	if (at >= size)
		return false;
	if (d[at] == DEV_BAD_DATA)
		return ref_fail(f, at);
	return true;
}

/* The payload of a complete small record: what the reader checks in it */
static bool ref_payload_ok(u16 type, const u8 *pl, u32 len, const struct ref *f)
{
	switch (type) {
	case GPUP_REC_STREAM:
		return ref_le64(pl) == GPUP_MIG_MAGIC &&
		       (pl[8] | pl[9] << 8) == GPUP_MIG_VERSION_MAJOR;
	case GPUP_REC_END:
		return ref_le64(pl) == f->records &&
		       ref_le64(pl + 8) == f->bytes;
	case GPUP_REC_ROUND:
		return get_unaligned_le32(pl) != DEV_BAD_STATE;
	default:
		return true;
	}
}

/*
 * A chunk of device state, its CRC good: in its place in the state, and
 * what the device takes.  The state counts as seen once complete.
 */
static bool ref_chunk_ok(struct ref *f, u16 type, const u8 *pl, u32 len, u32 *seen)
{
	u64 off = ref_le64(pl), total = ref_le64(pl + 8), n = len - 16;

	if (!f->state) {
		f->state = type;
		f->state_got = 0;
		f->state_total = total;
	}
	if (off != f->state_got || total != f->state_total || n > total - off)
		return false;
	if (type == GPUP_REC_MUTABLE && !off && n >= 4 &&
	    get_unaligned_le32(pl + 16) == DEV_BAD_STATE)
		return false;
	f->state_got += n;
	if (f->state_got == total) {
		*seen |= 1 << type;
		f->state = 0;
	}
	return true;
}

/* One record at @off; false when the stream failed or the data ran out */
static bool ref_record(struct ref *f, const u8 *d, size_t size, size_t *off, u32 *seen)
{
	size_t o = *off, left = size - o;
	u16 type, flags;
	u32 len;

	if (*seen & 1 << GPUP_REC_END)
		return ref_fail(f, o);
	if (left < 8)
		return false;
	type = d[o] | d[o + 1] << 8;
	flags = d[o + 2] | d[o + 3] << 8;
	len = get_unaligned_le32(d + o + 4);
	if (!ref_header_ok(type, flags, len, *seen, f->state))
		return ref_fail(f, o + 7);
	if (type == GPUP_REC_VRAM) {
		if (left < 8 + 16)
			return false;
		if (!ref_vram_ok(d + o + 8, len))
			return ref_fail(f, o + 8 + 15);
		if (!ref_vram_device_ok(f, d, size, o))
			return false;
	}
	if (left - 8 < (u64)len + 4)
		return false;
	if (get_unaligned_le32(d + o + 8 + len) !=
	    ~crc32c(~0U, d + o, 8 + len))
		return ref_fail(f, o + 8 + len + 3);
	if (ref_min_len(type) && !ref_payload_ok(type, d + o + 8, len, f))
		return ref_fail(f, o + 8 + len + 3);
	if (type == GPUP_REC_IMMUTABLE || type == GPUP_REC_MUTABLE) {
		if (!ref_chunk_ok(f, type, d + o + 8, len, seen))
			return ref_fail(f, o + 8 + len + 3);
	} else if (ref_min_len(type)) {
		*seen |= 1 << type;
	}
	f->records++;
	f->bytes += GPUP_REC_OVERHEAD + len;
	*off = o + GPUP_REC_OVERHEAD + len;
	return true;
}

static void ref_check(struct ref *f, const u8 *d, size_t size)
{
	size_t off = 0;
	u32 seen = 0;

	memset(f, 0, sizeof(*f));
	while (off < size && ref_record(f, d, size, &off, &seen))
		;
	f->done = !f->failed && (seen & 1 << GPUP_REC_END);
}

static void compare(const struct parse *a, const struct parse *b, const struct ref *f)
{
	const struct gpup_parser *p = &a->p, *q = &b->p;

	gpup_fuzz_check(a->ret == b->ret && p->error == q->error && p->phase == q->phase,
			"one piece: %d (%s), pieces: %d (%s)", a->ret, p->error ?: "-",
			b->ret, q->error ?: "-");
	gpup_fuzz_check(p->records == q->records && p->bytes == q->bytes &&
			p->seen == q->seen && a->rec_crc == b->rec_crc &&
			p->state_type == q->state_type && p->state_off == q->state_off,
			"one piece and pieces counted different records");
	gpup_fuzz_check(a->vram_lo == b->vram_lo && a->vram_hi == b->vram_hi &&
			(a->vram_hi <= a->vram_lo ||
			 !memcmp(a->vram + a->vram_lo, b->vram + b->vram_lo,
				 a->vram_hi - a->vram_lo)),
			"one piece and pieces wrote different VRAM");
	gpup_fuzz_check(!!a->ret == f->failed,
			"parser %s (%s), the reference %s at byte %zu",
			a->ret ? "refused" : "did not refuse", p->error ?: "-",
			f->failed ? "refuses" : "does not refuse", f->fail_at);
	gpup_fuzz_check(!f->failed || (b->fail_lo <= f->fail_at && f->fail_at < b->fail_hi),
			"refused (%s) in the piece %zu..%zu, the reference at byte %zu",
			q->error, b->fail_lo, b->fail_hi, f->fail_at);
	gpup_fuzz_check(gpup_parser_done(p) == f->done,
			"parser %s, the reference %s", gpup_parser_done(p) ? "done" : "not done",
			f->done ? "complete" : "incomplete");
	gpup_fuzz_check(f->failed || (p->records == f->records && p->bytes == f->bytes),
			"parser counted %llu records, the reference %llu",
			(unsigned long long)p->records, (unsigned long long)f->records);
}

int gpup_fuzz_one_input(const u8 *data, size_t size)
{
	static struct parse one, many;
	struct ref f;

	parse_pieces(&one, data, size, SPLIT_WHOLE);
	parse_pieces(&many, data, size, SPLIT_PIECES);
	ref_check(&f, data, size);
	compare(&one, &many, &f);
	if (size <= BYTEWISE_MAX) {
		parse_pieces(&many, data, size, SPLIT_BYTES);
		compare(&one, &many, &f);
	}
	return 0;
}
