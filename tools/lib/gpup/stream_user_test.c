// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migration stream code built in user space: a CRC32C test vector, a
 * stream encoded and parsed back in every split size (its mutable state in
 * two chunks, put back together), and refusals of a corrupted stream, an
 * out-of-range one and one with a chunk of state out of order.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stream.h"

#define PAGE		GPUP_MIG_PAGE_SIZE
#define VRAM		(8 * PAGE)
/* the mutable state: a full chunk and part of another */
#define MUT_LEN		(GPUP_REC_STATE_CHUNK_MAX + 920)

static u8 vram[VRAM], mut[MUT_LEN], got[MUT_LEN];
static unsigned int records, chunks;
static u64 got_len;

static int on_record(void *ctx, u16 type, const void *payload, u32 len)
{
	records++;
	return 0;
}

/* The parser hands the chunks over in order: put the mutable state together */
static int on_state(void *ctx, u16 type, u64 off, u64 total, const void *data, u32 len)
{
	chunks++;
	if (type != GPUP_REC_MUTABLE)
		return 0;
	if (total != MUT_LEN || off != got_len || len > total - off)
		return -EIO;
	memcpy(got + off, data, len);
	got_len += len;
	return 0;
}

static int on_vram(void *ctx, u64 off, const void *data, u32 len)
{
	if (off > VRAM || len > VRAM - off)
		return -EIO;
	memcpy(vram + off, data, len);
	return 0;
}

static const struct gpup_parser_ops ops = { on_record, on_state, on_vram };

/* A device state as chunks of at most GPUP_REC_STATE_CHUNK_MAX bytes */
static size_t put_state(u8 *out, u16 type, const u8 *data, size_t len)
{
	static u8 rec[GPUP_REC_SMALL_MAX];
	struct gpup_rec_state *h = (void *)rec;
	size_t off, n, put = 0;

	for (off = 0; off < len; off += n) {
		n = min_t(size_t, GPUP_REC_STATE_CHUNK_MAX, len - off);
		h->offset = cpu_to_le64(off);
		h->total = cpu_to_le64(len);
		memcpy(rec + sizeof(*h), data + off, n);
		put += gpup_rec_encode(out + put, type, GPUP_REC_F_MANDATORY, rec, sizeof(*h) + n);
	}
	return put;
}

static size_t build(u8 *out, u64 page)
{
	struct gpup_rec_stream st = {
		.magic = cpu_to_le64(GPUP_MIG_MAGIC),
		.major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR),
	};
	u8 im[8] = { 1 }, v[sizeof(struct gpup_rec_vram) + PAGE];
	struct gpup_rec_vram *vr = (void *)v;
	struct gpup_rec_end end;
	size_t len = 0, i;

	for (i = 0; i < MUT_LEN; i++)
		mut[i] = i * 7 + (i >> 8);
	memset(v, 0xa5, sizeof(v));
	vr->offset = cpu_to_le64(page * PAGE);
	vr->npages = cpu_to_le32(1);
	vr->reserved = 0;
	len += gpup_rec_encode(out + len, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, &st, sizeof(st));
	len += put_state(out + len, GPUP_REC_IMMUTABLE, im, sizeof(im));
	len += gpup_rec_encode(out + len, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, v, sizeof(v));
	len += put_state(out + len, GPUP_REC_MUTABLE, mut, MUT_LEN);
	end.records = cpu_to_le64(5);
	end.bytes = cpu_to_le64(len);
	len += gpup_rec_encode(out + len, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
	return len;
}

static int parse(const u8 *s, size_t len, size_t split, struct gpup_parser *p)
{
	size_t off;
	int ret = 0;

	records = 0;
	chunks = 0;
	got_len = 0;
	gpup_parser_init(p, &ops, NULL, VRAM);
	for (off = 0; off < len && !ret; off += split)
		ret = gpup_parser_feed(p, s + off, min_t(size_t, split, len - off));
	return ret;
}

int main(void)
{
	static u8 s[5 * PAGE];
	static struct gpup_parser p;
	/* the payload of the mutable state's second chunk */
	const size_t last = sizeof(struct gpup_rec_state) + MUT_LEN - GPUP_REC_STATE_CHUNK_MAX;
	size_t len = build(s, 2), split, second;
	int fail = 0, ok;

	printf("TAP version 13\n1..5\n");
	ok = ~crc32c(~0U, "123456789", 9) == 0xe3069283;
	printf("%s 1 - crc32c_check_value\n", ok ? "ok" : "not ok");
	fail += !ok;

	ok = 1;
	for (split = 1; split <= len && ok; split++) {
		memset(vram, 0, sizeof(vram));
		memset(got, 0, sizeof(got));
		ok = !parse(s, len, split, &p) && gpup_parser_done(&p) &&
		     vram[2 * PAGE] == 0xa5 && vram[3 * PAGE] == 0 && records == 2 &&
		     chunks == 3 && got_len == MUT_LEN && !memcmp(got, mut, MUT_LEN);
	}
	printf("%s 2 - round_trip_every_split_size\n", ok ? "ok" : "not ok");
	fail += !ok;

	s[len / 2] ^= 0x40;
	ok = parse(s, len, 7, &p) == -EINVAL && p.error && strstr(p.error, "CRC");
	printf("%s 3 - corrupted_stream_refused # %s\n", ok ? "ok" : "not ok", p.error);
	fail += !ok;

	len = build(s, VRAM / PAGE);
	ok = parse(s, len, len, &p) == -EINVAL && strstr(p.error, "outside");
	printf("%s 4 - vram_outside_target_refused # %s\n", ok ? "ok" : "not ok", p.error);
	fail += !ok;

	/* the mutable state's second chunk (before END) a byte late, its CRC made good */
	len = build(s, 2);
	second = len - GPUP_REC_OVERHEAD - sizeof(struct gpup_rec_end) - GPUP_REC_OVERHEAD - last;
	s[second + sizeof(struct gpup_rec_hdr)]++;
	put_unaligned_le32(~gpup_stream_crc(GPUP_CRC_SEED, s + second,
					    sizeof(struct gpup_rec_hdr) + last),
			   s + second + sizeof(struct gpup_rec_hdr) + last);
	ok = parse(s, len, 1, &p) == -EINVAL && strstr(p.error, "out of order") &&
	     got_len == GPUP_REC_STATE_CHUNK_MAX;
	printf("%s 5 - state_chunk_out_of_order_refused # %s\n", ok ? "ok" : "not ok", p.error);
	fail += !ok;

	printf("# stream-user: %d passed, %d failed\n", 5 - fail, fail);
	return fail ? 1 : 0;
}
