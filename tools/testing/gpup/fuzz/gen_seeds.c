// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seed corpus of the stream fuzzers: valid streams of every gpup_sim
 * profile in a few shapes, encoded with the kernel's gpup_rec_encode(),
 * their device states cut in chunks of many sizes, down to a byte.  The
 * streams carry little VRAM (the format sends only the pages it names,
 * and the parser fuzzer's target has 16 pages) and engine context images
 * of SEED_CTX_SIZE bytes, which the immutable state declares, in place of
 * gpup_sim's 256 KiB: every seed fits the fuzzers' 16 KiB inputs.  Then
 * streams that stop at a header or a VRAM record's fixed part on either
 * side of a limit, which the replay of the corpus needs to tell a limit
 * from one off by one, streams whose chunks break each rule of a device
 * state, and three that parser_fuzz.c's device refuses.
 * Usage: gen_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>

#include "fuzz.h"

#define PAGE		GPUP_MIG_PAGE_SIZE
#define STREAM_MAX	(16 * 1024)
#define MAX_RECS	1024
#define SEED_CTX_SIZE	1024
#define MUT_MAX		(sizeof(struct gpup_sim_mutable) + 4 * SEED_CTX_SIZE)

enum shape {
	SHAPE_INITIAL,		/* the stream head only: STREAM, IMMUTABLE */
	SHAPE_MINIMAL,		/* no VRAM: nothing was ever written */
	SHAPE_PRECOPY,		/* two rounds of VRAM */
	SHAPE_OPTIONAL,		/* a newer minor: longer STREAM, unknown records */
	SHAPE_CHUNKED,		/* both states in several chunks */
	SHAPE_TINY,		/* the immutable state a byte a chunk, the mutable 7 bytes */
	SHAPE_COUNT,
};

static const char * const shape_names[] = {
	"initial", "minimal", "precopy", "optional", "chunked", "tiny",
};

struct seed {
	u8 buf[STREAM_MAX] __aligned(8);
	size_t len;
	u64 records;
	size_t off[MAX_RECS];	/* where each record starts */
	u16 type[MAX_RECS];
};

/* How a stream deviates from a good one */
struct opts {
	bool bad_state;		/* the mutable state opens with GPUP_FUZZ_BAD_STATE */
	bool second_mutable;	/* the mutable state twice */
	bool bad_round;		/* the second round is GPUP_FUZZ_BAD_STATE */
	bool bad_vram;		/* VRAM page 0 filled with GPUP_FUZZ_BAD_DATA */
};

static void put(struct seed *s, u16 type, u16 flags, const void *payload, u32 len)
{
	if (s->records == MAX_RECS ||
	    s->len + GPUP_REC_OVERHEAD + len > sizeof(s->buf)) {
		fprintf(stderr, "gen_seeds: a seed outgrew its buffer\n");
		exit(1);
	}
	s->off[s->records] = s->len;
	s->type[s->records++] = type;
	s->len += gpup_rec_encode(s->buf + s->len, type, flags, payload, len);
}

/* Device state @data of @len bytes as chunks of @chunk bytes */
static void put_state(struct seed *s, u16 type, const u8 *data, size_t len, size_t chunk)
{
	static u8 rec[GPUP_REC_SMALL_MAX] __aligned(8);
	struct gpup_rec_state *h = (void *)rec;
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		h->offset = cpu_to_le64(off);
		h->total = cpu_to_le64(len);
		memcpy(rec + sizeof(*h), data + off, n);
		put(s, type, GPUP_REC_F_MANDATORY, rec, sizeof(*h) + n);
	}
}

static void put_vram(struct seed *s, u64 page, u8 fill)
{
	static u8 v[sizeof(struct gpup_rec_vram) + PAGE];
	struct gpup_rec_vram *vr = (void *)v;

	memset(v, fill, sizeof(v));
	vr->offset = cpu_to_le64(page * PAGE);
	vr->npages = cpu_to_le32(1);
	vr->reserved = 0;
	put(s, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, v, sizeof(v));
}

static void put_round(struct seed *s, u32 round, u32 pages)
{
	struct gpup_rec_round r = { cpu_to_le32(round), cpu_to_le32(pages) };

	put(s, GPUP_REC_ROUND, 0, &r, sizeof(r));
}

static u32 engines(u32 profile)
{
	return 1 << (profile - 1);
}

/* The chunk sizes of each shape: the immutable state's, then the mutable's */
static size_t im_chunk(enum shape shape)
{
	return shape == SHAPE_TINY ? 1 : shape == SHAPE_CHUNKED ? 16 :
	       GPUP_REC_STATE_CHUNK_MAX;
}

static size_t mut_chunk(enum shape shape)
{
	return shape == SHAPE_TINY ? 7 : shape == SHAPE_CHUNKED ? 1000 :
	       GPUP_REC_STATE_CHUNK_MAX;
}

static void put_head(struct seed *s, u32 profile, enum shape shape)
{
	u8 st_buf[sizeof(struct gpup_rec_stream) + 4] = { 0 };
	struct gpup_rec_stream *st = (void *)st_buf;
	struct gpup_sim_immutable im = {
		.vendor_id = cpu_to_le16(GPUP_PCI_VENDOR_ID),
		.device_id = cpu_to_le16(GPUP_PCI_DEVICE_ID),
		.profile = cpu_to_le32(profile),
		.vram_size = cpu_to_le64((u64)64 << 20 << 2 * (profile - 1)),
		.engines = cpu_to_le32(engines(profile)),
		.regmap_version = cpu_to_le32(GPUP_REGMAP_VERSION),
		.fw_version = cpu_to_le32(GPUP_FW_VERSION),
		.driver_version = cpu_to_le32(GPUP_DRIVER_VERSION),
		.features = cpu_to_le32(GPUP_FEATURE_ENGINE | GPUP_FEATURE_MSI |
					GPUP_FEATURE_DIRTY_TRACKING),
		.page_size = cpu_to_le32(PAGE),
		.state_version = cpu_to_le32(GPUP_SIM_STATE_VERSION),
		.ctx_size = cpu_to_le32(SEED_CTX_SIZE),
	};
	bool newer = shape == SHAPE_OPTIONAL;

	st->magic = cpu_to_le64(GPUP_MIG_MAGIC);
	st->major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR);
	st->minor = cpu_to_le16(GPUP_MIG_VERSION_MINOR + newer);
	put(s, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, st_buf,
	    sizeof(*st) + (newer ? 4 : 0));
	put_state(s, GPUP_REC_IMMUTABLE, (const u8 *)&im, sizeof(im), im_chunk(shape));
	if (newer)
		put(s, 0x40, 0, "an optional record", 18);
}

/* Registers, then each engine's context image: its header and a command */
static size_t mutable_state(u8 *b, u32 profile, const struct opts *o)
{
	struct gpup_sim_mutable *mut = (void *)b;
	size_t len = sizeof(*mut) + engines(profile) * SEED_CTX_SIZE;
	struct gpup_sim_ctx *ctx;
	u8 *slot;
	u32 i;

	memset(b, 0, len);
	mut->ctrl = cpu_to_le32(1);
	mut->ring_base = cpu_to_le64(0x10000);
	mut->ring_size = cpu_to_le32(0x1000);
	mut->fence = cpu_to_le32(41 + profile);
	mut->fence_count = cpu_to_le32(3);
	mut->cmd_count = cpu_to_le32(9);
	mut->config[0] = GPUP_PCI_VENDOR_ID & 0xff;
	mut->config[1] = GPUP_PCI_VENDOR_ID >> 8;
	mut->config[2] = GPUP_PCI_DEVICE_ID & 0xff;
	mut->config[3] = GPUP_PCI_DEVICE_ID >> 8;
	mut->config[4] = 0x06;
	if (o->bad_state)
		mut->scratch[0] = cpu_to_le32(GPUP_FUZZ_BAD_STATE);
	for (i = 0; i < engines(profile); i++) {
		ctx = (void *)(b + sizeof(*mut) + i * SEED_CTX_SIZE);
		ctx->commands = cpu_to_le64(9 / engines(profile) + (i < 9 % engines(profile)));
		ctx->bytes = cpu_to_le64(4096 * le64_to_cpu(ctx->commands));
		ctx->last_opcode = cpu_to_le32(1);
		ctx->last_value = cpu_to_le32(0x5a5a5a5a);
		slot = (u8 *)ctx + sizeof(*ctx);
		memset(slot, 0x11 * (i + 1), 32);
	}
	return len;
}

static void put_tail(struct seed *s, u32 profile, enum shape shape, const struct opts *o)
{
	static u8 mut[MUT_MAX];
	size_t len = mutable_state(mut, profile, o);
	struct gpup_rec_end end;

	put_state(s, GPUP_REC_MUTABLE, mut, len, mut_chunk(shape));
	if (o->second_mutable)
		put_state(s, GPUP_REC_MUTABLE, mut, len, mut_chunk(shape));
	end.records = cpu_to_le64(s->records);
	end.bytes = cpu_to_le64(s->len);
	put(s, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
}

static void build(struct seed *s, u32 profile, enum shape shape, const struct opts *o)
{
	memset(s, 0, sizeof(*s));
	put_head(s, profile, shape);
	if (shape == SHAPE_INITIAL)
		return;
	if (shape == SHAPE_PRECOPY) {
		put_round(s, 0, 1);
		put_vram(s, 15, 0x5a);		/* the last page the fuzzer's VF has */
		put_round(s, o->bad_round ? GPUP_FUZZ_BAD_STATE : 1, 1);
		put_vram(s, 0, o->bad_vram ? GPUP_FUZZ_BAD_DATA : 0xa5);
	}
	if (shape == SHAPE_OPTIONAL)
		put_round(s, 0, 0);
	put_tail(s, profile, shape, o);
}

#define VRAM_MAX_LEN	(sizeof(struct gpup_rec_vram) + \
			 GPUP_REC_VRAM_MAX_PAGES * PAGE)
#define STATE_MIN_LEN	(sizeof(struct gpup_rec_state) + 1)

/* A header, and a VRAM record's fixed part, at the edges of the limits */
static const struct edge {
	const char *name;
	u16 type, flags;
	u32 length;
	u32 npages, reserved;		/* VRAM only */
} edges[] = {
	{ "round-short", GPUP_REC_ROUND, 0, sizeof(struct gpup_rec_round) - 1, 0, 0 },
	{ "vram-short", GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, 16 + PAGE - 1, 0, 0 },
	{ "optional-max", 0x40, 0, VRAM_MAX_LEN, 0, 0 },
	{ "optional-over", 0x40, 0, VRAM_MAX_LEN + 1, 0, 0 },
	/* right after STREAM */
	{ "immutable-short", GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, STATE_MIN_LEN - 1, 0, 0 },
	{ "immutable-min", GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, STATE_MIN_LEN, 0, 0 },
	{ "immutable-max", GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, GPUP_REC_SMALL_MAX, 0, 0 },
	{ "immutable-over", GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, GPUP_REC_SMALL_MAX + 1,
	  0, 0 },
	{ "mutable-short", GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, STATE_MIN_LEN - 1, 0, 0 },
	{ "mutable-min", GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, STATE_MIN_LEN, 0, 0 },
	{ "mutable-max", GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, GPUP_REC_SMALL_MAX, 0, 0 },
	{ "mutable-over", GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, GPUP_REC_SMALL_MAX + 1, 0, 0 },
	{ "vram-max", GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, VRAM_MAX_LEN,
	  GPUP_REC_VRAM_MAX_PAGES, 0 },
	{ "vram-over", GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, VRAM_MAX_LEN + 1, 0, 0 },
	{ "vram-pages-over", GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, 16 + PAGE,
	  GPUP_REC_VRAM_MAX_PAGES + 1, 0 },
	{ "vram-reserved", GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, 16 + PAGE, 1, 1 },
};

static void build_edge(struct seed *s, const struct edge *e)
{
	static const struct opts good;
	struct gpup_rec_hdr *hdr;
	struct gpup_rec_vram *v;

	build(s, GPUP_PROFILE_SMALL, SHAPE_INITIAL, &good);
	if (e->type == GPUP_REC_IMMUTABLE)
		s->len = s->off[1];
	hdr = (void *)(s->buf + s->len);
	gpup_rec_hdr_encode(hdr, e->type, e->flags, e->length);
	s->len += sizeof(*hdr);
	if (e->type != GPUP_REC_VRAM || e->length < 16 + PAGE)
		return;
	v = (void *)(s->buf + s->len);
	v->offset = 0;
	v->npages = cpu_to_le32(e->npages);
	v->reserved = cpu_to_le32(e->reserved);
	s->len += sizeof(*v);
}

/* Rewrite the offset and total of the chunk that is record @rec, and its CRC */
static void set_chunk(struct seed *s, u64 rec, u64 off, u64 total)
{
	u8 *r = s->buf + s->off[rec], *h = r + sizeof(struct gpup_rec_hdr);
	u32 len = get_unaligned_le32(r + 4);

	/* struct gpup_rec_state, at any alignment */
	put_unaligned_le32(off, h);
	put_unaligned_le32(off >> 32, h + 4);
	put_unaligned_le32(total, h + 8);
	put_unaligned_le32(total >> 32, h + 12);
	put_unaligned_le32(~gpup_stream_crc(GPUP_CRC_SEED, r, sizeof(struct gpup_rec_hdr) + len),
			   r + sizeof(struct gpup_rec_hdr) + len);
}

/* The first record of the mutable state */
static u64 first_mutable(const struct seed *s)
{
	u64 i;

	for (i = 0; i < s->records && s->type[i] != GPUP_REC_MUTABLE; i++)
		;
	return i;
}

/*
 * Streams of the chunked shape (the immutable state in chunks of 16 bytes,
 * the mutable one in chunks of 1000) that break a rule of device state:
 * refused at the CRC of the chunk that breaks it, or at the header of the
 * record that comes where no record may
 */
enum bad_state {
	BAD_START,		/* the immutable state starts at offset 1 */
	BAD_ORDER,		/* the mutable state's second chunk a byte late */
	BAD_TOTAL,		/* its total one more in the second chunk */
	BAD_PAST,		/* a chunk past its total */
	BAD_INSIDE,		/* the mutable state inside an unfinished immutable one */
	BAD_SECOND,		/* a second mutable state */
	BAD_DEVICE,		/* what the parser fuzzer's device refuses */
	BAD_ROUND,		/* a round the parser fuzzer's device refuses */
	BAD_VRAM,		/* VRAM data the parser fuzzer's device refuses */
	BAD_COUNT,
};

static const char * const bad_names[] = {
	"edge-state-start", "edge-state-order", "edge-state-total", "edge-state-past",
	"edge-state-inside", "edge-state-second", "parser-device-refuses-mutable",
	"parser-device-refuses-round", "parser-device-refuses-vram",
};

static void build_bad_state(struct seed *s, enum bad_state bad)
{
	const u32 profile = GPUP_PROFILE_MEDIUM;
	struct opts o = { .bad_state = bad == BAD_DEVICE, .second_mutable = bad == BAD_SECOND,
			  .bad_round = bad == BAD_ROUND, .bad_vram = bad == BAD_VRAM };
	u64 mut, total;

	build(s, profile, bad == BAD_DEVICE ? SHAPE_MINIMAL :
	      bad == BAD_ROUND || bad == BAD_VRAM ? SHAPE_PRECOPY : SHAPE_CHUNKED, &o);
	mut = first_mutable(s);
	total = sizeof(struct gpup_sim_mutable) + engines(profile) * SEED_CTX_SIZE;
	switch (bad) {
	case BAD_START:
		set_chunk(s, 1, 1, sizeof(struct gpup_sim_immutable));
		break;
	case BAD_ORDER:
		set_chunk(s, mut + 1, 1001, total);
		break;
	case BAD_TOTAL:
		set_chunk(s, mut + 1, 1000, total + 1);
		break;
	case BAD_PAST:
		set_chunk(s, mut, 0, 999);
		break;
	case BAD_INSIDE:
		set_chunk(s, 1, 0, sizeof(struct gpup_sim_immutable) + 1);
		set_chunk(s, 2, 16, sizeof(struct gpup_sim_immutable) + 1);
		set_chunk(s, 3, 32, sizeof(struct gpup_sim_immutable) + 1);
		break;
	default:
		break;
	}
}

static int write_seed(const struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct opts good;
	static struct seed s;
	unsigned int shape, i;
	char name[64];
	u32 profile;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (profile = GPUP_PROFILE_SMALL; profile <= GPUP_PROFILE_LARGE; profile++) {
		for (shape = 0; shape < SHAPE_COUNT; shape++) {
			/* hundreds of records: one profile is enough to replay */
			if (shape == SHAPE_TINY && profile != GPUP_PROFILE_SMALL)
				continue;
			build(&s, profile, shape, &good);
			snprintf(name, sizeof(name), "seed-%s-%u", shape_names[shape], profile);
			if (write_seed(&s, argv[1], name))
				return 1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(edges); i++) {
		build_edge(&s, &edges[i]);
		snprintf(name, sizeof(name), "edge-%s", edges[i].name);
		if (write_seed(&s, argv[1], name))
			return 1;
	}
	for (i = 0; i < BAD_COUNT; i++) {
		build_bad_state(&s, i);
		if (write_seed(&s, argv[1], bad_names[i]))
			return 1;
	}
	return 0;
}
