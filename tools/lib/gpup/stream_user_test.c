// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migration stream code built in user space: a CRC32C test vector, a
 * stream encoded and parsed back in every split size, and refusals of a
 * corrupted and an out-of-range stream.  Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stream.h"

#define PAGE		GPUP_MIG_PAGE_SIZE
#define VRAM		(8 * PAGE)

static u8 vram[VRAM];
static unsigned int records;

static int on_record(void *ctx, u16 type, const void *payload, u32 len)
{
	records++;
	return 0;
}

static int on_vram(void *ctx, u64 off, const void *data, u32 len)
{
	if (off > VRAM || len > VRAM - off)
		return -EIO;
	memcpy(vram + off, data, len);
	return 0;
}

static const struct gpup_parser_ops ops = { on_record, on_vram };

static size_t build(u8 *out, u64 page)
{
	struct gpup_rec_stream st = {
		.magic = cpu_to_le64(GPUP_MIG_MAGIC),
		.major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR),
	};
	u8 im[8] = { 1 }, mut[8] = { 2 }, v[sizeof(struct gpup_rec_vram) + PAGE];
	struct gpup_rec_vram *vr = (void *)v;
	struct gpup_rec_end end;
	size_t len = 0;

	memset(v, 0xa5, sizeof(v));
	vr->offset = cpu_to_le64(page * PAGE);
	vr->npages = cpu_to_le32(1);
	vr->reserved = 0;
	len += gpup_rec_encode(out + len, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, &st, sizeof(st));
	len += gpup_rec_encode(out + len, GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, im, sizeof(im));
	len += gpup_rec_encode(out + len, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, v, sizeof(v));
	len += gpup_rec_encode(out + len, GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, mut, sizeof(mut));
	end.records = cpu_to_le64(4);
	end.bytes = cpu_to_le64(len);
	len += gpup_rec_encode(out + len, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
	return len;
}

static int parse(const u8 *s, size_t len, size_t split, struct gpup_parser *p)
{
	size_t off;
	int ret = 0;

	gpup_parser_init(p, &ops, NULL, VRAM);
	for (off = 0; off < len && !ret; off += split)
		ret = gpup_parser_feed(p, s + off, min_t(size_t, split, len - off));
	return ret;
}

int main(void)
{
	static u8 s[3 * PAGE];
	static struct gpup_parser p;
	size_t len = build(s, 2), split;
	int fail = 0, ok;

	printf("TAP version 13\n1..4\n");
	ok = ~crc32c(~0U, "123456789", 9) == 0xe3069283;
	printf("%s 1 - crc32c_check_value\n", ok ? "ok" : "not ok");
	fail += !ok;

	ok = 1;
	for (split = 1; split <= len && ok; split++) {
		memset(vram, 0, sizeof(vram));
		records = 0;
		ok = !parse(s, len, split, &p) && gpup_parser_done(&p) &&
		     vram[2 * PAGE] == 0xa5 && vram[3 * PAGE] == 0 && records == 4;
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

	printf("# stream-user: %d passed, %d failed\n", 4 - fail, fail);
	return fail ? 1 : 0;
}
