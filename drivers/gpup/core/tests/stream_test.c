// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of the migration stream encoder and parser */
#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/unaligned.h>

#include "../stream.h"

#define VRAM_SIZE	(16 * GPUP_MIG_PAGE_SIZE)
#define STREAM_MAX	(8 * GPUP_MIG_PAGE_SIZE)
#define STATE_MAX	(3 * GPUP_MIG_PAGE_SIZE)
#define IM_LEN		40
#define MUT_LEN		336

struct sink {
	u8 vram[VRAM_SIZE];
	u8 im[STATE_MAX], mut[STATE_MAX];	/* the states, reassembled */
	u64 im_len, mut_len;
	u16 types[16];
	unsigned int nrec;
	unsigned int vram_calls;
	int reject_type;	/* record() and state() refuse this type */
};

static int sink_record(void *ctx, u16 type, const void *payload, u32 len)
{
	struct sink *s = ctx;

	if (s->nrec < ARRAY_SIZE(s->types))
		s->types[s->nrec++] = type;
	return type == s->reject_type ? -EINVAL : 0;
}

static int sink_state(void *ctx, u16 type, u64 off, u64 total, const void *data,
		      u32 len)
{
	struct sink *s = ctx;
	u8 *dst = type == GPUP_REC_IMMUTABLE ? s->im : s->mut;
	u64 *got = type == GPUP_REC_IMMUTABLE ? &s->im_len : &s->mut_len;

	/* a state's first chunk names it once */
	if (!off && s->nrec < ARRAY_SIZE(s->types))
		s->types[s->nrec++] = type;
	if (off != *got || total > STATE_MAX || len > total - off)
		return -EIO;	/* the parser must never let this happen */
	memcpy(dst + off, data, len);
	*got += len;
	return type == s->reject_type ? -EINVAL : 0;
}

static int sink_vram(void *ctx, u64 off, const void *data, u32 len)
{
	struct sink *s = ctx;

	s->vram_calls++;
	if (off > VRAM_SIZE || len > VRAM_SIZE - off)
		return -EIO;	/* the parser must never let this happen */
	memcpy(s->vram + off, data, len);
	return 0;
}

static const struct gpup_parser_ops sink_ops = {
	.record = sink_record,
	.state = sink_state,
	.vram = sink_vram,
};

struct stream {
	u8 *buf;
	size_t len;
	u64 records;
	size_t rec_off[1024];	/* where each record starts */
};

static void put_rec(struct stream *st, u16 type, u16 flags, const void *p, u32 len)
{
	st->rec_off[st->records++] = st->len;
	st->len += gpup_rec_encode(st->buf + st->len, type, flags, p, len);
}

/* Device state @data of @len bytes, in chunks of @chunk bytes */
static void put_state(struct stream *st, u16 type, const u8 *data, size_t len,
		      size_t chunk)
{
	u8 rec[GPUP_REC_SMALL_MAX];
	struct gpup_rec_state *h = (void *)rec;
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = min(chunk, len - off);
		h->offset = cpu_to_le64(off);
		h->total = cpu_to_le64(len);
		memcpy(rec + sizeof(*h), data + off, n);
		put_rec(st, type, GPUP_REC_F_MANDATORY, rec, sizeof(*h) + n);
	}
}

/* A state of @len bytes that differ from each other's neighbours */
static u8 *state_bytes(struct kunit *test, size_t len, u8 seed)
{
	u8 *b = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	for (i = 0; i < len; i++)
		b[i] = seed + i * 7 + (i >> 8);
	return b;
}

/*
 * STREAM, IMMUTABLE, ROUND, VRAM (one page at @vram_page), MUTABLE, END,
 * the two states of @im_len and @mut_len bytes in chunks of @chunk.
 */
static struct stream *build_chunked(struct kunit *test, u16 major, u64 vram_page,
				    size_t im_len, size_t mut_len, size_t chunk)
{
	struct stream *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct gpup_rec_stream s = {
		.magic = cpu_to_le64(GPUP_MIG_MAGIC), .major = cpu_to_le16(major),
		.minor = cpu_to_le16(7),
	};
	struct gpup_rec_round round = {};
	struct gpup_rec_end end;
	u8 *vram;
	struct gpup_rec_vram *v;
	size_t vlen = sizeof(*v) + GPUP_MIG_PAGE_SIZE;

	KUNIT_ASSERT_NOT_NULL(test, st);
	st->buf = kunit_kzalloc(test, STREAM_MAX, GFP_KERNEL);
	vram = kunit_kzalloc(test, vlen, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st->buf);
	KUNIT_ASSERT_NOT_NULL(test, vram);
	v = (void *)vram;
	v->offset = cpu_to_le64(vram_page * GPUP_MIG_PAGE_SIZE);
	v->npages = cpu_to_le32(1);
	memset(vram + sizeof(*v), 0x5a, GPUP_MIG_PAGE_SIZE);

	put_rec(st, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, &s, sizeof(s));
	/* device state is opaque to the core: any bytes of any layout */
	put_state(st, GPUP_REC_IMMUTABLE, state_bytes(test, im_len, 1), im_len, chunk);
	put_rec(st, GPUP_REC_ROUND, 0, &round, sizeof(round));
	put_rec(st, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, vram, vlen);
	put_state(st, GPUP_REC_MUTABLE, state_bytes(test, mut_len, 2), mut_len, chunk);
	end.records = cpu_to_le64(st->records);
	end.bytes = cpu_to_le64(st->len);
	put_rec(st, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
	return st;
}

/* Each state in one record: records 0-5 are STREAM ... END */
static struct stream *build(struct kunit *test, u16 major, u64 vram_page)
{
	return build_chunked(test, major, vram_page, IM_LEN, MUT_LEN,
			     GPUP_REC_STATE_CHUNK_MAX);
}

static struct sink *new_sink(struct kunit *test, struct gpup_parser **p)
{
	struct sink *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	*p = kunit_kzalloc(test, sizeof(**p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, *p);
	gpup_parser_init(*p, &sink_ops, s, VRAM_SIZE);
	return s;
}

/* Recompute the CRC of the record at @off after it was edited */
static void fix_crc(struct stream *st, size_t off)
{
	u32 len = get_unaligned_le32(st->buf + off + 4);
	size_t n = sizeof(struct gpup_rec_hdr) + len;

	put_unaligned_le32(~gpup_stream_crc(GPUP_CRC_SEED, st->buf + off, n),
			   st->buf + off + n);
}

static void stream_round_trip(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	static const u16 order[] = { GPUP_REC_IMMUTABLE, GPUP_REC_ROUND,
				     GPUP_REC_MUTABLE, GPUP_REC_END };
	struct gpup_parser *p;
	struct sink *s = new_sink(test, &p);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, gpup_parser_feed(p, st->buf, st->len), 0);
	KUNIT_EXPECT_TRUE(test, gpup_parser_done(p));
	KUNIT_EXPECT_EQ(test, p->records, st->records);
	/* STREAM is the parser's own; the rest reach the user in order */
	KUNIT_ASSERT_EQ(test, s->nrec, ARRAY_SIZE(order) + 1);
	for (i = 0; i < ARRAY_SIZE(order); i++)
		KUNIT_EXPECT_EQ(test, s->types[i + 1], order[i]);
	KUNIT_EXPECT_EQ(test, s->vram[3 * GPUP_MIG_PAGE_SIZE], 0x5a);
	KUNIT_EXPECT_EQ(test, s->vram[4 * GPUP_MIG_PAGE_SIZE - 1], 0x5a);
	KUNIT_EXPECT_EQ(test, s->vram[4 * GPUP_MIG_PAGE_SIZE], 0);
	/* nothing may follow the end */
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, 1), -EINVAL);
}

/* The same stream in every split size: same result */
static void stream_any_segmentation(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 9);
	size_t split, off;

	for (split = 1; split <= st->len; split++) {
		struct gpup_parser *p;
		struct sink *s = new_sink(test, &p);

		for (off = 0; off < st->len; off += split) {
			size_t n = min(split, st->len - off);

			KUNIT_ASSERT_EQ_MSG(test, gpup_parser_feed(p, st->buf + off, n), 0,
					    "split %zu at %zu: %s", split, off, p->error);
		}
		KUNIT_ASSERT_TRUE_MSG(test, gpup_parser_done(p), "split %zu", split);
		KUNIT_ASSERT_EQ(test, s->vram[9 * GPUP_MIG_PAGE_SIZE + 100], 0x5a);
		kunit_kfree(test, s);
		kunit_kfree(test, p);
	}
}

static void stream_truncated_is_not_done(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	size_t cut;

	for (cut = 1; cut < st->len; cut += 97) {
		struct gpup_parser *p;

		new_sink(test, &p);
		KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, cut), 0);
		KUNIT_EXPECT_FALSE(test, gpup_parser_done(p));
	}
}

/* Feed @st and expect it to fail with @why */
static void expect_refused(struct kunit *test, struct stream *st, const char *why)
{
	struct gpup_parser *p;

	new_sink(test, &p);
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, st->len), -EINVAL);
	KUNIT_EXPECT_FALSE(test, gpup_parser_done(p));
	KUNIT_ASSERT_NOT_NULL(test, p->error);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(p->error, why), "error: %s", p->error);
	/* and it stays refused */
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, 1), -EINVAL);
}

static void stream_rejects_bad_crc(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);

	st->buf[st->rec_off[4] + 20] ^= 1;	/* in MUTABLE */
	expect_refused(test, st, "CRC");
}

static void stream_rejects_bad_vram_crc_after_data(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);

	st->buf[st->rec_off[3] + 100] ^= 1;	/* in the page data */
	expect_refused(test, st, "CRC");
}

static void stream_rejects_wrong_major(struct kunit *test)
{
	expect_refused(test, build(test, GPUP_MIG_VERSION_MAJOR + 1, 3), "major");
}

static void stream_rejects_bad_magic(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);

	st->buf[sizeof(struct gpup_rec_hdr)] ^= 0xff;
	fix_crc(st, 0);
	expect_refused(test, st, "magic");
}

static void stream_rejects_vram_outside_target(struct kunit *test)
{
	struct gpup_parser *p;
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, VRAM_SIZE / GPUP_MIG_PAGE_SIZE);
	struct sink *s = new_sink(test, &p);

	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, st->len), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(p->error, "outside"));
	KUNIT_EXPECT_EQ(test, s->vram_calls, 0);
}

static void stream_rejects_bad_lengths(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	size_t v = st->rec_off[3];

	/* a VRAM record claiming two pages but carrying one */
	put_unaligned_le32(2, st->buf + v + sizeof(struct gpup_rec_hdr) + 8);
	fix_crc(st, v);
	expect_refused(test, st, "length does not match");

	st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	put_unaligned_le32(GPUP_REC_SMALL_MAX + 1, st->buf + st->rec_off[1] + 4);
	expect_refused(test, st, "longer");

	st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	put_unaligned_le32(4, st->buf + st->rec_off[0] + 4);	/* STREAM */
	expect_refused(test, st, "shorter");

	st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	put_unaligned_le32(0xffffffff, st->buf + st->rec_off[3] + 4);
	expect_refused(test, st, "longer");
}

static void stream_unknown_records(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	struct gpup_parser *p;
	u8 extra[64] = { 1, 2, 3 };
	size_t end = st->rec_off[5];
	size_t tail_len = st->len - end;
	u8 *tail = kunit_kmalloc(test, tail_len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, tail);
	memcpy(tail, st->buf + end, tail_len);

	/* an unknown optional record before END is skipped */
	st->len = end;
	st->records = 5;
	put_rec(st, 0x77, 0, extra, sizeof(extra));
	{
		struct gpup_rec_end e = {
			.records = cpu_to_le64(st->records),
			.bytes = cpu_to_le64(st->len),
		};

		put_rec(st, GPUP_REC_END, GPUP_REC_F_MANDATORY, &e, sizeof(e));
	}
	new_sink(test, &p);
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, st->len), 0);
	KUNIT_EXPECT_TRUE(test, gpup_parser_done(p));

	/* the same record marked mandatory is refused */
	st->len = end;
	st->records = 5;
	put_rec(st, 0x77, GPUP_REC_F_MANDATORY, extra, sizeof(extra));
	memcpy(st->buf + st->len, tail, tail_len);
	st->len += tail_len;
	expect_refused(test, st, "unknown mandatory");

	/* nor may an optional one put off the check of the immutable state */
	st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	tail_len = st->len - st->rec_off[1];
	tail = kunit_kmalloc(test, tail_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tail);
	memcpy(tail, st->buf + st->rec_off[1], tail_len);
	st->len = st->rec_off[1];
	st->records = 1;
	put_rec(st, 0x77, 0, extra, sizeof(extra));
	memcpy(st->buf + st->len, tail, tail_len);
	st->len += tail_len;
	expect_refused(test, st, "before the immutable record");
}

static void stream_rejects_out_of_order(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	struct gpup_parser *p;

	/* starting at IMMUTABLE: no stream record */
	new_sink(test, &p);
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf + st->rec_off[1],
					       st->len - st->rec_off[1]), -EINVAL);
	/* the END totals are checked */
	st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	put_unaligned_le64(99, st->buf + st->rec_off[5] + sizeof(struct gpup_rec_hdr));
	fix_crc(st, st->rec_off[5]);
	expect_refused(test, st, "does not match the stream");
}

static void stream_device_rejection_stops_it(struct kunit *test)
{
	struct stream *st = build(test, GPUP_MIG_VERSION_MAJOR, 3);
	struct gpup_parser *p;
	struct sink *s = new_sink(test, &p);

	s->reject_type = GPUP_REC_IMMUTABLE;
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, st->len), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->vram_calls, 0);
	KUNIT_EXPECT_FALSE(test, gpup_parser_done(p));
}

/* Two chunks of the immutable state and four of the mutable one */
#define CH_IM_LEN	(GPUP_REC_STATE_CHUNK_MAX + 100)
#define CH_MUT_LEN	(3 * GPUP_REC_STATE_CHUNK_MAX + 7)
#define CH_VRAM		4	/* the VRAM record */
#define CH_MUT		5	/* the first mutable chunk */
#define CH_END		9

static struct stream *build_ch(struct kunit *test)
{
	return build_chunked(test, GPUP_MIG_VERSION_MAJOR, 3, CH_IM_LEN, CH_MUT_LEN,
			     GPUP_REC_STATE_CHUNK_MAX);
}

/* Chunks of any size reach the user in order and add up to the states */
static void stream_state_chunks(struct kunit *test)
{
	static const size_t chunks[] = { 1, 7, 4000, GPUP_REC_STATE_CHUNK_MAX };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		bool tiny = chunks[i] < 100;
		size_t len = tiny ? 300 : CH_MUT_LEN;
		struct stream *st = build_chunked(test, GPUP_MIG_VERSION_MAJOR, 3,
						  tiny ? 200 : CH_IM_LEN, len, chunks[i]);
		struct gpup_parser *p;
		struct sink *s = new_sink(test, &p);

		KUNIT_ASSERT_EQ_MSG(test, gpup_parser_feed(p, st->buf, st->len), 0,
				    "chunk %zu: %s", chunks[i], p->error);
		KUNIT_EXPECT_TRUE(test, gpup_parser_done(p));
		KUNIT_EXPECT_EQ(test, s->mut_len, len);
		KUNIT_EXPECT_EQ(test, memcmp(s->mut, state_bytes(test, len, 2), len), 0);
		KUNIT_EXPECT_EQ(test, memcmp(s->im, state_bytes(test, s->im_len, 1),
					     s->im_len), 0);
		/* each state named once, in place */
		KUNIT_EXPECT_EQ(test, s->nrec, 5);
		KUNIT_EXPECT_EQ(test, s->types[1], GPUP_REC_IMMUTABLE);
		KUNIT_EXPECT_EQ(test, s->types[3], GPUP_REC_MUTABLE);
	}
}

/* Rewrite the offset and total of the chunk that is record @rec */
static void set_chunk(struct stream *st, unsigned int rec, u64 off, u64 total)
{
	u8 *h = st->buf + st->rec_off[rec] + sizeof(struct gpup_rec_hdr);

	put_unaligned_le64(off, h);
	put_unaligned_le64(total, h + 8);
	fix_crc(st, st->rec_off[rec]);
}

/* Move record @from to the place of record @to (@to < @from) */
static void move_rec(struct kunit *test, struct stream *st, unsigned int from,
		     unsigned int to)
{
	size_t start = st->rec_off[from];
	size_t len = (from + 1 < st->records ? st->rec_off[from + 1] : st->len) - start;
	size_t dst = st->rec_off[to];
	u8 *rec = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, rec);
	memcpy(rec, st->buf + start, len);
	memmove(st->buf + dst + len, st->buf + dst, start - dst);
	memcpy(st->buf + dst, rec, len);
}

static void stream_state_chunk_rules(struct kunit *test)
{
	struct stream *st;
	struct gpup_parser *p;
	struct sink *s;

	st = build_ch(test);
	set_chunk(st, 2, GPUP_REC_STATE_CHUNK_MAX - 1, CH_IM_LEN);
	expect_refused(test, st, "out of order");

	st = build_ch(test);
	set_chunk(st, 1, 8, CH_IM_LEN);
	expect_refused(test, st, "does not start at offset 0");

	st = build_ch(test);
	set_chunk(st, CH_MUT + 1, GPUP_REC_STATE_CHUNK_MAX, CH_MUT_LEN + 1);
	expect_refused(test, st, "total changed");

	/* a last chunk longer than what its total leaves */
	st = build_ch(test);
	set_chunk(st, 1, 0, 10);
	expect_refused(test, st, "past its total");

	/* a total the chunks never reach: nothing else may follow */
	st = build_ch(test);
	set_chunk(st, 1, 0, CH_IM_LEN + 1);
	set_chunk(st, 2, GPUP_REC_STATE_CHUNK_MAX, CH_IM_LEN + 1);
	expect_refused(test, st, "inside the immutable state");

	/* VRAM between two chunks of the immutable state */
	st = build_ch(test);
	move_rec(test, st, CH_VRAM, 2);
	expect_refused(test, st, "inside the immutable state");

	/* END while the mutable state is under way */
	st = build_ch(test);
	move_rec(test, st, CH_END, CH_MUT + 2);
	expect_refused(test, st, "inside the mutable state");

	/* a second mutable state after the first is complete */
	st = build_ch(test);
	memcpy(st->buf + st->rec_off[CH_END], st->buf + st->rec_off[CH_MUT],
	       st->rec_off[CH_MUT + 1] - st->rec_off[CH_MUT]);
	expect_refused(test, st, "second mutable state");

	/* a chunk of the immutable state after it is complete */
	st = build_ch(test);
	memcpy(st->buf + st->rec_off[4], st->buf + st->rec_off[1],
	       st->rec_off[2] - st->rec_off[1]);
	expect_refused(test, st, "immutable record out of place");

	/* nothing reaches the device after a refused chunk */
	st = build_ch(test);
	s = new_sink(test, &p);
	s->reject_type = GPUP_REC_IMMUTABLE;
	KUNIT_EXPECT_EQ(test, gpup_parser_feed(p, st->buf, st->len), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->im_len, GPUP_REC_STATE_CHUNK_MAX);
	KUNIT_EXPECT_EQ(test, s->vram_calls, 0);
}

static struct kunit_case gpup_stream_cases[] = {
	KUNIT_CASE(stream_round_trip),
	KUNIT_CASE(stream_any_segmentation),
	KUNIT_CASE(stream_truncated_is_not_done),
	KUNIT_CASE(stream_rejects_bad_crc),
	KUNIT_CASE(stream_rejects_bad_vram_crc_after_data),
	KUNIT_CASE(stream_rejects_wrong_major),
	KUNIT_CASE(stream_rejects_bad_magic),
	KUNIT_CASE(stream_rejects_vram_outside_target),
	KUNIT_CASE(stream_rejects_bad_lengths),
	KUNIT_CASE(stream_unknown_records),
	KUNIT_CASE(stream_rejects_out_of_order),
	KUNIT_CASE(stream_device_rejection_stops_it),
	KUNIT_CASE(stream_state_chunks),
	KUNIT_CASE(stream_state_chunk_rules),
	{}
};

static struct kunit_suite gpup_stream_suite = {
	.name = "gpup_stream",
	.test_cases = gpup_stream_cases,
};

kunit_test_suite(gpup_stream_suite);
