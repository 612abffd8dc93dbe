// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seed corpus of the stream fuzzers: valid streams of every gpup_sim
 * profile in a few shapes, encoded with the kernel's gpup_rec_encode().
 * The streams carry little VRAM (the format sends only the pages it
 * names, and the parser fuzzer's target has 16 pages), so the corpus
 * stays small.  Then streams that stop at a header or a VRAM record's
 * fixed part on either side of a limit, which the replay of the corpus
 * needs to tell a limit from one off by one.  Usage: gen_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>

#include "fuzz.h"

#define PAGE		GPUP_MIG_PAGE_SIZE
#define STREAM_MAX	(4 * PAGE)

enum shape {
	SHAPE_INITIAL,		/* the pre-copy initial bytes only */
	SHAPE_MINIMAL,		/* no VRAM: nothing was ever written */
	SHAPE_PRECOPY,		/* two rounds of VRAM */
	SHAPE_OPTIONAL,		/* a newer minor: longer STREAM, unknown records */
	SHAPE_COUNT,
};

static const char * const shape_names[] = { "initial", "minimal", "precopy", "optional" };

struct seed {
	u8 buf[STREAM_MAX] __aligned(8);
	size_t len;
	u64 records;
};

static void put(struct seed *s, u16 type, u16 flags, const void *payload, u32 len)
{
	s->len += gpup_rec_encode(s->buf + s->len, type, flags, payload, len);
	s->records++;
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

static void put_head(struct seed *s, u32 profile, enum shape shape)
{
	u8 st_buf[sizeof(struct gpup_rec_stream) + 4] = { 0 };
	struct gpup_rec_stream *st = (void *)st_buf;
	struct gpup_sim_immutable im = {
		.vendor_id = cpu_to_le16(GPUP_PCI_VENDOR_ID),
		.device_id = cpu_to_le16(GPUP_PCI_DEVICE_ID),
		.profile = cpu_to_le32(profile),
		.vram_size = cpu_to_le64((u64)64 << 20 << 2 * (profile - 1)),
		.engines = cpu_to_le32(1 << (profile - 1)),
		.regmap_version = cpu_to_le32(GPUP_REGMAP_VERSION),
		.fw_version = cpu_to_le32(GPUP_FW_VERSION),
		.driver_version = cpu_to_le32(GPUP_DRIVER_VERSION),
		.features = cpu_to_le32(GPUP_FEATURE_ENGINE | GPUP_FEATURE_MSI |
					GPUP_FEATURE_DIRTY_TRACKING),
		.page_size = cpu_to_le32(PAGE),
	};
	bool newer = shape == SHAPE_OPTIONAL;

	st->magic = cpu_to_le64(GPUP_MIG_MAGIC);
	st->major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR);
	st->minor = cpu_to_le16(GPUP_MIG_VERSION_MINOR + newer);
	put(s, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, st_buf,
	    sizeof(*st) + (newer ? 4 : 0));
	if (newer)
		put(s, 0x40, 0, "an optional record", 18);
	put(s, GPUP_REC_IMMUTABLE, GPUP_REC_F_MANDATORY, &im, sizeof(im));
}

static void put_tail(struct seed *s, u32 profile)
{
	struct gpup_sim_mutable mut = {
		.ctrl = cpu_to_le32(1),
		.ring_base = cpu_to_le64(0x10000),
		.ring_size = cpu_to_le32(0x1000),
		.fence = cpu_to_le32(41 + profile),
		.fence_count = cpu_to_le32(3),
		.cmd_count = cpu_to_le32(9),
	};
	struct gpup_rec_end end;

	mut.config[0] = GPUP_PCI_VENDOR_ID & 0xff;
	mut.config[1] = GPUP_PCI_VENDOR_ID >> 8;
	mut.config[2] = GPUP_PCI_DEVICE_ID & 0xff;
	mut.config[3] = GPUP_PCI_DEVICE_ID >> 8;
	mut.config[4] = 0x06;
	put(s, GPUP_REC_MUTABLE, GPUP_REC_F_MANDATORY, &mut, sizeof(mut));
	end.records = cpu_to_le64(s->records);
	end.bytes = cpu_to_le64(s->len);
	put(s, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
}

static void build(struct seed *s, u32 profile, enum shape shape)
{
	memset(s, 0, sizeof(*s));
	put_head(s, profile, shape);
	if (shape == SHAPE_INITIAL)
		return;
	if (shape == SHAPE_PRECOPY) {
		put_round(s, 0, 1);
		put_vram(s, 15, 0x5a);		/* the last page the fuzzer's VF has */
		put_round(s, 1, 1);
		put_vram(s, 0, 0xa5);
	}
	if (shape == SHAPE_OPTIONAL)
		put_round(s, 0, 0);
	put_tail(s, profile);
}

#define VRAM_MAX_LEN	(sizeof(struct gpup_rec_vram) + \
			 GPUP_REC_VRAM_MAX_PAGES * PAGE)

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
	struct gpup_rec_hdr *hdr;
	struct gpup_rec_vram *v;

	memset(s, 0, sizeof(*s));
	put_head(s, GPUP_PROFILE_SMALL, SHAPE_MINIMAL);
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
			build(&s, profile, shape);
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
	return 0;
}
