// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpupctl stream inspect against streams made with the kernel's encoder
 * (gpup_rec_encode): a good stream, its device states cut in chunks of
 * every size, every truncation, every bit flipped, bad lengths, chunks out
 * of order, unknown records, trailing data, and a bounded random
 * mutation run that must never crash (built with ASan and UBSan) and
 * must refuse every stream it changed.  With the path of a gpupctl
 * binary as argument, also its exit codes for files and bad usage.
 * Prints TAP.  "-w FILE" writes the good stream to FILE instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>
#include "stream.h"
#include "gpupctl.h"

#define PAGE		GPUP_MIG_PAGE_SIZE
#define MAX_STREAM	(128 * PAGE)
#define MAX_RECS	8192
#define MUTATIONS	20000
/* the good stream's engines and their context images, small to keep it so */
#define ENGINES		2
#define CTX_SIZE	2048
#define MUT_LEN		(sizeof(struct gpup_sim_mutable) + ENGINES * CTX_SIZE)

enum {
	V_UNKNOWN_OPT	= 1 << 0,	/* an unknown optional record */
	V_UNKNOWN_MAND	= 1 << 1,	/* an unknown mandatory record */
	V_SMALL_VRAM	= 1 << 2,	/* IMMUTABLE declares 8 KiB of VRAM */
	V_BAD_END	= 1 << 3,	/* END counts one record too many */
	V_VRAM_BADLEN	= 1 << 4,	/* a VRAM record one page longer than its npages */
	V_CHUNK7	= 1 << 5,	/* the states in chunks of 7 bytes */
	V_CHUNK1	= 1 << 6,	/* the states in chunks of 1 byte */
	V_SWAP		= 1 << 7,	/* the mutable state's chunks 1 and 2 swapped */
	V_REAL_CTX	= 1 << 8,	/* one engine with gpup_sim's real context size */
	V_IM_LONG	= 1 << 9,	/* the immutable state a byte longer than gpup_sim's */
	V_IM_SHORT	= 1 << 10,	/* the immutable state of 20 bytes */
};

struct gen {
	u8 *buf;
	size_t len;
	u64 records;
	size_t off[MAX_RECS];	/* where each record starts */
	u16 type[MAX_RECS];
};

static unsigned int tests, failures;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tests++;
	failures += !cond;
	printf("%s %u - ", cond ? "ok" : "not ok", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* gpup_rec_encode() stores the header as a struct: encode aligned, then copy */
static void add(struct gen *g, u16 type, u16 flags, const void *payload, u32 len)
{
	static u8 rec[GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_vram) + 8 * PAGE] __aligned(8);
	size_t n = gpup_rec_encode(rec, type, flags, payload, len);

	if (g->records == MAX_RECS || g->len + n > MAX_STREAM) {
		fprintf(stderr, "inspect_test: stream too long\n");
		exit(1);
	}
	g->type[g->records] = type;
	g->off[g->records++] = g->len;
	memcpy(g->buf + g->len, rec, n);
	g->len += n;
}

/* A device state as chunks of @chunk bytes, the second and third swapped if @swap */
static void add_state(struct gen *g, u16 type, const u8 *data, size_t len, size_t chunk,
		      bool swap)
{
	static u8 rec[GPUP_REC_SMALL_MAX] __aligned(8);
	struct gpup_rec_state *h = (void *)rec;
	size_t nchunks = (len + chunk - 1) / chunk, i, k, off, n;

	for (i = 0; i < nchunks; i++) {
		k = swap && (i == 1 || i == 2) ? 3 - i : i;
		off = k * chunk;
		n = len - off < chunk ? len - off : chunk;
		h->offset = cpu_to_le64(off);
		h->total = cpu_to_le64(len);
		memcpy(rec + sizeof(*h), data + off, n);
		add(g, type, GPUP_REC_F_MANDATORY, rec, sizeof(*h) + n);
	}
}

static void add_vram(struct gen *g, u64 page, u32 npages, u32 extra)
{
	static u8 v[sizeof(struct gpup_rec_vram) + 4 * PAGE];
	struct gpup_rec_vram *vr = (void *)v;

	memset(v, 0x5a + page, sizeof(v));
	vr->offset = cpu_to_le64(page * PAGE);
	vr->npages = cpu_to_le32(npages);
	vr->reserved = 0;
	add(g, GPUP_REC_VRAM, GPUP_REC_F_MANDATORY, v,
	    sizeof(*vr) + (npages + extra) * PAGE);
}

static void add_round(struct gen *g, u32 round, u32 pages)
{
	struct gpup_rec_round r = { cpu_to_le32(round), cpu_to_le32(pages) };

	add(g, GPUP_REC_ROUND, 0, &r, sizeof(r));
}

/* A stream the way a saving VF writes one, with the variant's change */
static size_t build(u8 *out, unsigned int variant, struct gen *g)
{
	struct gpup_rec_stream st = {
		.magic = cpu_to_le64(GPUP_MIG_MAGIC),
		.major = cpu_to_le16(GPUP_MIG_VERSION_MAJOR),
		.minor = cpu_to_le16(GPUP_MIG_VERSION_MINOR),
	};
	struct gpup_sim_immutable im = {
		.vendor_id = cpu_to_le16(GPUP_PCI_VENDOR_ID),
		.device_id = cpu_to_le16(GPUP_PCI_DEVICE_ID),
		.profile = cpu_to_le32(GPUP_PROFILE_SMALL),
		.vram_size = cpu_to_le64(64 << 20),
		.engines = cpu_to_le32(ENGINES),
		.regmap_version = cpu_to_le32(GPUP_REGMAP_VERSION),
		.fw_version = cpu_to_le32(GPUP_FW_VERSION),
		.driver_version = cpu_to_le32(GPUP_DRIVER_VERSION),
		.page_size = cpu_to_le32(PAGE),
		.state_version = cpu_to_le32(GPUP_SIM_STATE_VERSION),
		.ctx_size = cpu_to_le32(CTX_SIZE),
	};
	static u8 mut_buf[sizeof(struct gpup_sim_mutable) + GPUP_SIM_CTX_SIZE];
	static u8 im_buf[sizeof(im) + 1];
	struct gpup_sim_mutable *mut = (void *)mut_buf;
	size_t chunk = GPUP_REC_STATE_CHUNK_MAX, im_len = sizeof(im), mut_len = MUT_LEN, i;
	struct gpup_sim_ctx *ctx;
	struct gpup_rec_end end;
	u8 odd[10] = "optional";

	memset(g, 0, sizeof(*g));
	g->buf = out;
	if (variant & V_SMALL_VRAM)
		im.vram_size = cpu_to_le64(2 * PAGE);
	if (variant & V_REAL_CTX) {
		im.engines = cpu_to_le32(1);
		im.ctx_size = cpu_to_le32(GPUP_SIM_CTX_SIZE);
		mut_len = sizeof(*mut) + GPUP_SIM_CTX_SIZE;
	}
	if (variant & (V_CHUNK7 | V_CHUNK1))
		chunk = variant & V_CHUNK7 ? 7 : 1;
	if (variant & V_IM_LONG)
		im_len++;
	if (variant & V_IM_SHORT)
		im_len = 20;
	memset(im_buf, 0xee, sizeof(im_buf));
	memcpy(im_buf, &im, sizeof(im));
	/* registers, then a context image per engine: a header and its slots */
	memset(mut_buf, 0, sizeof(mut_buf));
	for (i = sizeof(*mut); i < mut_len; i++)
		mut_buf[i] = i * 7 + (i >> 8);
	for (i = 0; i < le32_to_cpu(im.engines); i++) {
		ctx = (void *)(mut_buf + sizeof(*mut) + i * le32_to_cpu(im.ctx_size));
		memset(ctx, 0, sizeof(*ctx));
		ctx->commands = cpu_to_le64(5 - i);
		ctx->bytes = cpu_to_le64(4096 << i);
		ctx->last_opcode = cpu_to_le32(1 + i);
		ctx->last_value = cpu_to_le32(0xabc0 + i);
	}
	mut->fence = cpu_to_le32(7);
	mut->cmd_count = cpu_to_le32(9);
	mut->config[0] = 0x34;
	mut->config[1] = 0x12;
	add(g, GPUP_REC_STREAM, GPUP_REC_F_MANDATORY, &st, sizeof(st));
	add_state(g, GPUP_REC_IMMUTABLE, im_buf, im_len, chunk, false);
	if (variant & V_UNKNOWN_OPT)
		add(g, 0x77, 0, odd, sizeof(odd));
	if (variant & V_UNKNOWN_MAND)
		add(g, 0x78, GPUP_REC_F_MANDATORY, odd, sizeof(odd));
	add_round(g, 0, 3);
	add_vram(g, 0, 1, variant & V_VRAM_BADLEN ? 1 : 0);
	add_vram(g, 4, 2, 0);
	add_round(g, 1, 1);
	add_vram(g, 4, 1, 0);
	add_state(g, GPUP_REC_MUTABLE, mut_buf, mut_len, chunk, variant & V_SWAP);
	end.records = cpu_to_le64(g->records + !!(variant & V_BAD_END));
	end.bytes = cpu_to_le64(g->len);
	add(g, GPUP_REC_END, GPUP_REC_F_MANDATORY, &end, sizeof(end));
	return g->len;
}

struct result {
	int rc;
	char *out, *err;
	size_t outlen, errlen;
};

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static struct result run(const u8 *s, size_t len, bool json, bool rounds)
{
	struct gpup_inspect_opts o = { .json = json, .rounds = rounds };
	struct result r;
	FILE *in, *out, *err;
	u8 dummy;

	/* fmemopen refuses a zero-sized buffer: a one-byte one read to its end */
	in = len ? fmemopen((void *)s, len, "rb") : fmemopen(&dummy, 1, "rb");
	if (!len)
		fgetc(in);
	out = open_memstream(&r.out, &r.outlen);
	err = open_memstream(&r.err, &r.errlen);
	if (!in || !out || !err) {
		perror("inspect_test");
		exit(1);
	}
	r.rc = gpup_inspect(in, "test", out, err, &o);
	fclose(in);
	fclose(out);
	fclose(err);
	return r;
}

/* Refused, with @why at exactly @off */
static bool refused_at(const struct result *r, u64 off, const char *why)
{
	char at[64];

	snprintf(at, sizeof(at), "offset %llu ", (unsigned long long)off);
	return r->rc == GPUP_EXIT_ERROR && strstr(r->err, at) && strstr(r->err, why);
}

/* How many times @needle is in @hay */
static unsigned int count(const char *hay, const char *needle)
{
	unsigned int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

/* Every one of @want is in @out */
static bool has_all(const char *out, const char * const *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strstr(out, want[i])) {
			printf("# missing: \"%s\"\n", want[i]);
			return false;
		}
	}
	return true;
}

static void test_good(u8 *s)
{
	static const char * const want[] = {
		"stream complete", "GPUPMIG version 2.0", "profile 1 (small)",
		"chunk 0x0+48 of 48 bytes:", "state version 2, engine context 2048 bytes",
		"offset 0x4000, 2 pages", "round 1, 1 pages", "chunk 0x0+4080 of 4432 bytes:",
		"fence 7", "chunk 0xff0+352 of 4432 bytes\n",
		"engine 0 context: 5 commands, 4096 bytes, last opcode 0x1 value 0xabc0",
		"engine 1 context: 4 commands, 8192 bytes, last opcode 0x2 value 0xabc1",
		"9 records, ", "10 records, ", "4 pages",
	};
	struct gen g;
	size_t len = build(s, 0, &g);
	struct result r = run(s, len, false, false);

	ok(r.rc == 0 && !r.errlen && has_all(r.out, want, ARRAY_SIZE(want)),
	   "good stream decoded, every record printed");
	if (r.rc)
		printf("# %s%s", r.out, r.err);
	result_free(&r);

	r = run(s, len, true, true);
	ok(r.rc == 0 && strstr(r.out, "\"ok\": true") && strstr(r.out, "\"complete\": true") &&
	   strstr(r.out, "\"round-summary\"") && strstr(r.out, "\"announced_pages\": 3") &&
	   strstr(r.out, "\"pages\": 3") && !strstr(r.out, "\"vram\":") &&
	   count(r.out, "\"state\": {") == 3 && strstr(r.out, "\"total\": 4432") &&
	   strstr(r.out, "\"ctx_size\": 2048") && count(r.out, "\"immutable\": {") == 1 &&
	   count(r.out, "\"mutable\": {") == 1 && count(r.out, "\"contexts\": [") == 1 &&
	   strstr(r.out, "\"last_value\": 43969"),
	   "good stream as JSON, a state object per chunk, VRAM summarised per round");
	result_free(&r);
}

/* The lines that go on under CONTENT: what the decoders print */
static char *decoded(const char *out)
{
	char *d = calloc(1, strlen(out) + 1), *p = d;
	const char *line, *nl;

	for (line = out; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (!strncmp(line, "                                           ", 43)) {
			memcpy(p, line, nl + 1 - line);
			p += nl + 1 - line;
		}
	}
	return d;
}

/* A writer may cut a state anywhere: inspect decodes it the same */
static void test_chunks(u8 *s)
{
	static const unsigned int variants[] = { V_CHUNK7, V_CHUNK1 };
	struct result r0, r;
	char *want, *got;
	struct gen g;
	size_t len = build(s, 0, &g);
	unsigned int i;
	bool same;

	r0 = run(s, len, false, false);
	want = decoded(r0.out);
	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		len = build(s, variants[i], &g);
		r = run(s, len, false, false);
		got = decoded(r.out);
		same = !strcmp(want, got);
		/* the chunks that complete the immutable state and the registers */
		ok(r.rc == 0 && same && count(r.out, "IMMUTABLE") == (i ? 48 : 7) &&
		   strstr(r.out, i ? "chunk 0x2f+1 of 48 bytes:" : "chunk 0x2a+6 of 48 bytes:") &&
		   strstr(r.out, i ? "chunk 0x14f+1 of 4432 bytes:" :
			  "chunk 0x149+7 of 4432 bytes:"),
		   "states in chunks of %u bytes: %zu records, decoded as in whole chunks",
		   i ? 1 : 7, (size_t)g.records);
		if (!same)
			printf("# want:\n%s# got:\n%s", want, got);
		free(got);
		result_free(&r);

		r = run(s, len, true, false);
		ok(r.rc == 0 && count(r.out, "\"immutable\": {") == 1 &&
		   count(r.out, "\"mutable\": {") == 1 && count(r.out, "\"contexts\": [") == 2,
		   "the same as JSON: each layout decoded once, with the chunk that completes it");
		result_free(&r);
	}
	free(want);
	result_free(&r0);

	/* gpup_sim's own sizes: 256 KiB of context, in 65 chunks */
	len = build(s, V_REAL_CTX, &g);
	r = run(s, len, false, false);
	ok(r.rc == 0 && count(r.out, "  MUTABLE ") == 65 &&
	   strstr(r.out, "chunk 0x3fc00+1360 of 262480 bytes\n") &&
	   count(r.out, "engine 0 context: 5 commands") == 1 && !strstr(r.out, "engine 1"),
	   "a mutable state of gpup_sim's size: 65 chunks, its one engine's context");
	result_free(&r);

	/* the second chunk of the mutable state where the first should end */
	len = build(s, V_CHUNK7 | V_SWAP, &g);
	for (i = 0; i < g.records && g.type[i] != GPUP_REC_MUTABLE; i++)
		;
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[i + 2] - 4, "device state chunk out of order") &&
	   strstr(r.out, "chunk 0x0+7 of 4432") && !strstr(r.out, "chunk 0xe+7 of 4432"),
	   "a chunk out of order refused at its CRC, the chunks before it shown");
	result_free(&r);

	len = build(s, V_IM_SHORT, &g);
	r = run(s, len, false, false);
	ok(r.rc == 0 && strstr(r.out, "chunk 0x0+20 of 20 bytes, not gpup_sim's layout\n") &&
	   !strstr(r.out, "engine 0 context"),
	   "an immutable state too short for gpup_sim's layout");
	result_free(&r);
	r = run(s, len, true, false);
	ok(r.rc == 0 && strstr(r.out, "\"payload\": \"34127067") &&
	   !strstr(r.out, "\"immutable\":"), "the same as JSON: its bytes in hex");
	result_free(&r);

	/* a VRAM size that is not gpup_sim's state's bounds nothing */
	len = build(s, V_IM_LONG | V_SMALL_VRAM, &g);
	r = run(s, len, false, false);
	ok(r.rc == 0 && strstr(r.out, "not gpup_sim's size (48 bytes): VRAM not bounded") &&
	   strstr(r.out, "VRAM 0.008 MiB"),
	   "an immutable state longer than gpup_sim's: decoded, its VRAM size not a bound");
	result_free(&r);
}

static void test_truncated(u8 *s)
{
	struct gen g;
	size_t len = build(s, 0, &g), cut, bad = 0;
	struct result r;

	for (cut = 0; cut < len; cut++) {
		r = run(s, cut, false, false);
		if (!refused_at(&r, cut, cut ? "truncated" : "empty file")) {
			if (!bad++)
				printf("# cut at %zu: rc %d: %s", cut, r.rc, r.err);
		}
		result_free(&r);
	}
	ok(!bad, "every truncation (%zu) refused at the offset where the file ends", len);
}

static void test_flipped(u8 *s)
{
	struct gen g;
	size_t len = build(s, 0, &g), i, rec = 0, bad = 0, crc_off;
	struct result r;

	for (i = 0; i < len; i++) {
		while (rec + 1 < g.records && i >= g.off[rec + 1])
			rec++;
		crc_off = (rec + 1 < g.records ? g.off[rec + 1] : len) - 4;
		s[i] ^= 1 << (i % 8);
		r = run(s, len, false, false);
		s[i] ^= 1 << (i % 8);
		/*
		 * Past the header a flip is caught by the CRC, but for a VRAM
		 * record's fixed part, whose range is checked first.
		 */
		if (r.rc != GPUP_EXIT_ERROR ||
		    (i >= g.off[rec] + 8 && !refused_at(&r, crc_off, "record CRC mismatch") &&
		     !(g.type[rec] == GPUP_REC_VRAM && i < g.off[rec] + 24 &&
		       refused_at(&r, g.off[rec] + 8, "VRAM record")))) {
			if (!bad++)
				printf("# flip at %zu: rc %d: %s", i, r.rc, r.err);
		}
		result_free(&r);
	}
	ok(!bad, "every flipped bit (%zu) refused, a payload's at its CRC", len);
}

static void test_lengths(u8 *s)
{
	struct gen g;
	size_t len = build(s, 0, &g);
	struct gpup_rec_hdr *hdr = (void *)(s + g.off[1]);
	struct result r;

	hdr->length = cpu_to_le32(GPUP_REC_SMALL_MAX + 1);
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[1], "record longer than allowed"),
	   "an IMMUTABLE record over 4096 bytes refused at its header");
	result_free(&r);

	hdr->length = cpu_to_le32(sizeof(struct gpup_rec_state));
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[1], "record shorter than its type"),
	   "an IMMUTABLE record without a byte of state refused at its header");
	result_free(&r);

	len = build(s, V_VRAM_BADLEN, &g);
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[3] + 8, "VRAM record length does not match its pages"),
	   "a VRAM record longer than its pages refused at its fixed part");
	result_free(&r);
}

static void test_variants(u8 *s)
{
	struct gen g;
	size_t len = build(s, V_UNKNOWN_OPT, &g);
	struct result r = run(s, len, false, false);

	ok(r.rc == 0 && strstr(r.out, "type 119, skipped") &&
	   strstr(r.out, "1 unknown records skipped"), "an unknown optional record is skipped");
	result_free(&r);

	len = build(s, V_UNKNOWN_MAND, &g);
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[2], "unknown mandatory record type"),
	   "an unknown mandatory record refused at its header");
	result_free(&r);

	len = build(s, V_SMALL_VRAM, &g);
	r = run(s, len, false, false);
	ok(refused_at(&r, g.off[4] + 8, "outside the target's VRAM (VRAM size 8192"),
	   "a VRAM record beyond the declared VRAM refused");
	result_free(&r);

	len = build(s, V_BAD_END, &g);
	r = run(s, len, true, false);
	ok(refused_at(&r, len - 4, "end record does not match the stream") &&
	   strstr(r.out, "\"ok\": false") && strstr(r.out, "\"reason\": "),
	   "an END record with wrong totals refused, the JSON says why");
	result_free(&r);

	len = build(s, 0, &g);
	s[len] = 0;
	r = run(s, len + 1, false, false);
	ok(refused_at(&r, len, "data after the end record"), "data after END refused");
	result_free(&r);
}

/* xorshift64: the same mutations on every run */
static u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static size_t mutate(u8 *m, size_t len, size_t cap)
{
	size_t pos = rnd() % len, n = 1 + rnd() % 16, i;
	u32 v;

	switch (rnd() % 6) {
	case 0:		/* flip a bit */
		m[pos] ^= 1 << (rnd() % 8);
		return len;
	case 1:		/* random bytes */
		for (i = pos; i < len && i < pos + n; i++)
			m[i] = rnd();
		return len;
	case 2:		/* a length field gone wild */
		v = rnd() % 3 ? rnd() % (2 * GPUP_REC_VRAM_MAX_PAGES * PAGE) : rnd();
		if (pos + 4 <= len)
			memcpy(m + pos, &v, 4);
		return len;
	case 3:		/* cut */
		return pos;
	case 4:		/* delete a range */
		n = n < len - pos ? n : len - pos;
		memmove(m + pos, m + pos + n, len - pos - n);
		return len - n;
	default:	/* insert random bytes */
		if (len + n > cap)
			return len;
		memmove(m + pos + n, m + pos, len - pos);
		for (i = 0; i < n; i++)
			m[pos + i] = rnd();
		return len + n;
	}
}

static void test_mutations(u8 *s)
{
	static u8 m[MAX_STREAM];
	struct gen g;
	size_t len = build(s, V_UNKNOWN_OPT, &g), mlen;
	unsigned int i, changed = 0, refused = 0, same_ok = 0, k;
	struct result r;

	for (i = 0; i < MUTATIONS; i++) {
		memcpy(m, s, len);
		mlen = len;
		for (k = 1 + rnd() % 3; k; k--)
			mlen = mutate(m, mlen ? mlen : 1, sizeof(m));
		r = run(m, mlen, i % 2, i % 3 == 0);
		if (mlen != len || memcmp(m, s, len)) {
			changed++;
			refused += r.rc == GPUP_EXIT_ERROR && r.errlen;
		} else {
			same_ok += r.rc == 0;
		}
		result_free(&r);
	}
	printf("# %u mutations: %u changed the stream, %u of them refused\n", MUTATIONS,
	       changed, refused);
	ok(refused == changed && changed > MUTATIONS * 9 / 10 && same_ok == MUTATIONS - changed,
	   "%u random mutations: no crash, every changed stream refused", MUTATIONS);
}

/* The command line: exit codes */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(const char *bin, u8 *s)
{
	char dir[] = "/tmp/gpupctl-test.XXXXXX", path[256];
	struct gen g;
	size_t len = build(s, 0, &g);
	FILE *f;

	if (!mkdtemp(dir)) {
		ok(0, "temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/good", dir);
	f = fopen(path, "wb");
	fwrite(s, 1, len, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/bad", dir);
	f = fopen(path, "wb");
	fwrite(s, 1, len - 1, f);
	fclose(f);

	ok(sh("%s stream inspect %s/good >/dev/null", bin, dir) == 0 &&
	   sh("%s stream inspect -j -r %s/good | grep -q '\"ok\": true'", bin, dir) == 0 &&
	   sh("%s stream inspect - < %s/good >/dev/null", bin, dir) == 0,
	   "gpupctl stream inspect: a good file exits 0 (file, JSON, standard input)");
	ok(sh("%s stream inspect %s/bad 2>&1 >/dev/null | grep -q 'offset %zu .*truncated'",
	      bin, dir, len - 1) == 0 &&
	   sh("%s stream inspect %s/bad >/dev/null 2>&1", bin, dir) == 1 &&
	   sh("%s stream inspect %s/none >/dev/null 2>&1", bin, dir) == 1,
	   "a damaged or missing file exits 1 and says where");
	ok(sh("%s >/dev/null 2>&1", bin) == 2 && sh("%s frob >/dev/null 2>&1", bin) == 2 &&
	   sh("%s stream inspect >/dev/null 2>&1", bin) == 2 &&
	   sh("%s show >/dev/null 2>&1", bin) == 2 &&
	   sh("%s --bogus list >/dev/null 2>&1", bin) == 2 &&
	   sh("%s list --rounds >/dev/null 2>&1", bin) == 2 &&
	   sh("%s --help | grep -q '^Usage: gpupctl'", bin) == 0 &&
	   sh("%s help | grep -q 'stream inspect FILE'", bin) == 0,
	   "bad usage exits 2; --help and help print the usage");
	/* no module is ever loaded on the build machine */
	ok(sh("%s list 2>&1 | grep -qx '%s'", bin,
	      "gpupctl: gpup: kernel module not loaded (modprobe gpup_sim)") == 0 &&
	   sh("%s list >/dev/null 2>&1", bin) == 1,
	   "without the module: says so and exits 1");
	sh("rm -rf %s", dir);
}

int main(int argc, char **argv)
{
	static u8 s[MAX_STREAM];
	struct gen g;
	FILE *f;

	/* -w FILE: write the good stream, for trying gpupctl by hand */
	if (argc == 3 && !strcmp(argv[1], "-w")) {
		f = fopen(argv[2], "wb");
		if (!f || fwrite(s, 1, build(s, V_UNKNOWN_OPT, &g), f) == 0 || fclose(f)) {
			perror(argv[2]);
			return 1;
		}
		return 0;
	}
	printf("TAP version 13\n");
	test_good(s);
	test_chunks(s);
	test_truncated(s);
	test_flipped(s);
	test_lengths(s);
	test_variants(s);
	test_mutations(s);
	if (argc > 1)
		test_cli(argv[1], s);
	printf("1..%u\n", tests);
	printf("# gpupctl stream inspect: %u passed, %u failed\n", tests - failures, failures);
	return failures ? 1 : 0;
}
