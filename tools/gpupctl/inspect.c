// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpupctl stream inspect: decode a saved migration stream with the parser
 * the kernel uses (drivers/gpup/core/stream.c, built in user space).
 *
 * The file is fed to the parser one piece of a record at a time (header,
 * a VRAM record's fixed part, payload chunks, CRC), so that a refusal is
 * placed at the exact offset of the piece that caused it, and a record is
 * printed only once its CRC is checked.  Nothing in the file is trusted:
 * the parser checks each length before a byte of the payload is read, and
 * the decoders here look only at payloads the parser accepted, at their
 * checked lengths.  VRAM records are checked against the VRAM size the
 * stream's own immutable state declares (gpup_sim's layout).
 *
 * Each device state comes as a run of chunks, cut anywhere by the writer:
 * a chunk is a line of its own, and the first bytes of the state, as many
 * as gpup_sim's layout has (and each engine's context header), are gathered
 * across the chunks and decoded with the chunk that completes them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>

#include "stream.h"
#include "gpupctl.h"

#define CHUNK		65536
/* where the CONTENT column starts, for continuation lines */
#define INDENT		43
#define ULL(x)		((unsigned long long)(x))

struct insp {
	FILE *in, *out, *err;
	const char *name;
	const struct gpup_inspect_opts *o;
	struct gpup_parser *p;
	struct gpup_json j;
	unsigned long long off;		/* file offset of the next byte fed */
	unsigned long long rec_off;		/* where the current record starts */
	unsigned long long nrec;		/* its index */
	bool have_hdr;		/* the current record's header was read */
	u16 type, flags;
	u32 length;
	u16 last_type;		/* of the last complete record */
	unsigned long long last_off;
	const u8 *payload;	/* a small record's payload, once checked */
	bool vram_known;	/* the immutable state gave the VRAM size */
	/* the current record's chunk of device state, once checked */
	u64 st_off, st_total;
	const u8 *st_data;
	u32 st_len;
	bool st_head;		/* the chunk completes the state's first bytes */
	/* what of the states gpup_sim's layouts decode, gathered across chunks */
	struct gpup_sim_immutable im;
	struct gpup_sim_mutable mut;
	struct gpup_sim_ctx ctx;	/* the context header under way */
	u32 engines, ctx_size;	/* of gpup_sim's immutable state, else 0 */
	/* totals */
	unsigned long long vram_records, vram_pages, unknown, rounds;
	/* the round being summarised (--rounds) */
	bool group_open;
	bool group_is_round;
	u32 round, announced;
	unsigned long long group_records, group_pages;
	/* the failure */
	bool failed;
	unsigned long long err_off;
	char why[256];
	u8 chunk[CHUNK];
};

static const char *rec_name(u16 type)
{
	static const char * const names[] = {
		[GPUP_REC_STREAM] = "STREAM", [GPUP_REC_IMMUTABLE] = "IMMUTABLE",
		[GPUP_REC_VRAM] = "VRAM", [GPUP_REC_ROUND] = "ROUND",
		[GPUP_REC_MUTABLE] = "MUTABLE", [GPUP_REC_END] = "END",
	};

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown";
}

static const char *profile_name(u32 profile)
{
	switch (profile) {
	case GPUP_PROFILE_SMALL:
		return "small";
	case GPUP_PROFILE_MEDIUM:
		return "medium";
	case GPUP_PROFILE_LARGE:
		return "large";
	case GPUP_PROFILE_XLARGE:
		return "xlarge";
	default:
		return "unknown";
	}
}

static void insp_fail(struct insp *s, unsigned long long at, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	s->err_off = at;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* Where the failure is, in words: the record and its place */
static void insp_where(struct insp *s, char *buf, size_t len)
{
	if (!s->have_hdr) {
		snprintf(buf, len, "record %llu (at offset %llu = 0x%llx)",
			 s->nrec, s->rec_off, s->rec_off);
		return;
	}
	snprintf(buf, len, "record %llu (%s, type %u, at offset %llu = 0x%llx)", s->nrec,
		 rec_name(s->type), s->type, s->rec_off, s->rec_off);
}

/* Feed one piece; a refusal is placed at the piece's offset */
static int insp_feed(struct insp *s, const void *buf, size_t n)
{
	char where[128];
	int ret;

	ret = gpup_parser_feed(s->p, buf, n);
	if (!ret) {
		s->off += n;
		return 0;
	}
	insp_where(s, where, sizeof(where));
	if (!s->p->error)
		insp_fail(s, s->off, "%s: %s", where, strerror(-ret));
	else if (!strcmp(s->p->error, "record CRC mismatch"))
		insp_fail(s, s->off, "%s: %s (stored 0x%08x, computed 0x%08x)", where,
			  s->p->error, get_unaligned_le32(buf), ~s->p->crc);
	else if (strstr(s->p->error, "outside") && s->vram_known)
		insp_fail(s, s->off, "%s: %s (VRAM size %llu in the immutable state)", where,
			  s->p->error, (unsigned long long)s->p->vram_size);
	else
		insp_fail(s, s->off, "%s: %s", where, s->p->error);
	return ret;
}

/* Read exactly @len bytes unless the file ends; *got says how many */
static int insp_read(struct insp *s, void *buf, size_t len, size_t *got)
{
	*got = fread(buf, 1, len, s->in);
	if (*got < len && ferror(s->in)) {
		insp_fail(s, s->off + *got, "read error: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* The file ended early: say inside what, from where the record starts */
static void insp_truncated(struct insp *s, const char *part)
{
	unsigned long long have = s->off - s->rec_off, want = sizeof(struct gpup_rec_hdr);
	char where[128];

	if (strcmp(part, "header")) {
		have -= want;
		want = s->length;
	}
	if (!strcmp(part, "CRC")) {
		have -= want;
		want = 4;
	}
	insp_where(s, where, sizeof(where));
	insp_fail(s, s->off, "truncated: the file ends inside the %s of %s, %llu of %llu bytes",
		  part, where, have, want);
}

/* Read and feed @want bytes in chunks; false when the file ended or failed */
static bool insp_pass(struct insp *s, const char *part, u64 want)
{
	u64 have = 0;
	size_t got;

	while (have < want) {
		size_t n = want - have < CHUNK ? want - have : CHUNK;

		if (insp_read(s, s->chunk, n, &got))
			return false;
		if (got && insp_feed(s, s->chunk, got))
			return false;
		have += got;
		if (got < n) {
			insp_truncated(s, part);
			return false;
		}
	}
	return true;
}

static int insp_record_cb(void *ctx, u16 type, const void *payload, u32 len)
{
	struct insp *s = ctx;

	s->payload = payload;
	return 0;
}

/*
 * Copy what the chunk [@off, @off + @len) holds of the range [@lo, @lo + @n)
 * to @dst; true when the chunk ends the range.  Chunks come in order, back
 * to back, so the range is then complete.
 */
static bool gather(void *dst, u64 lo, u64 n, u64 off, const u8 *data, u32 len)
{
	u64 a = lo > off ? lo : off, b = lo + n < off + len ? lo + n : off + len;

	if (a < b)
		memcpy((u8 *)dst + (a - lo), data + (a - off), b - a);
	return off < lo + n && lo + n <= off + len;
}

/* A chunk of device state, in place in its state (the parser checked it) */
static int insp_state_cb(void *ctx, u16 type, u64 off, u64 total, const void *data, u32 len)
{
	struct insp *s = ctx;
	bool im = type == GPUP_REC_IMMUTABLE;
	u64 head = im ? sizeof(s->im) : sizeof(s->mut);

	s->st_off = off;
	s->st_total = total;
	s->st_data = data;
	s->st_len = len;
	/* a state shorter than the layout is kept whole, for its hex dump */
	if (total < head)
		head = total;
	s->st_head = gather(im ? (void *)&s->im : (void *)&s->mut, 0, head, off, data, len) &&
		     head == (im ? sizeof(s->im) : sizeof(s->mut));
	/* gpup_sim's immutable state: its VRAM size bounds the VRAM records */
	if (im && off + len == total && total == sizeof(s->im)) {
		s->p->vram_size = le64_to_cpu(s->im.vram_size);
		s->vram_known = true;
		s->engines = le32_to_cpu(s->im.engines);
		s->ctx_size = le32_to_cpu(s->im.ctx_size);
		if (s->ctx_size < sizeof(struct gpup_sim_ctx))
			s->engines = 0;
	}
	return 0;
}

static int insp_vram_cb(void *ctx, u64 offset, const void *data, u32 len)
{
	return 0;
}

static const struct gpup_parser_ops insp_ops = {
	.record = insp_record_cb,
	.state = insp_state_cb,
	.vram = insp_vram_cb,
};

static void insp_hex(struct insp *s, const char *key, const u8 *b, size_t n)
{
	char hex[2 * 256 + 1];
	size_t i;

	for (i = 0; i < n && i < 256; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	gpup_json_strn(&s->j, key, hex, 2 * i);
}

static void decode_stream(struct insp *s, const struct gpup_rec_stream *st)
{
	char magic[24];

	if (s->o->json) {
		gpup_json_open(&s->j, "stream", '{');
		snprintf(magic, sizeof(magic), "0x%016llx", ULL(le64_to_cpu(st->magic)));
		gpup_json_str(&s->j, "magic", magic);
		gpup_json_u64(&s->j, "major", le16_to_cpu(st->major));
		gpup_json_u64(&s->j, "minor", le16_to_cpu(st->minor));
		gpup_json_u64(&s->j, "flags", le32_to_cpu(st->flags));
		gpup_json_close(&s->j, '}');
		return;
	}
	fprintf(s->out, "GPUPMIG version %u.%u, flags 0x%x", le16_to_cpu(st->major),
		le16_to_cpu(st->minor), le32_to_cpu(st->flags));
}

static void decode_immutable(struct insp *s, const struct gpup_sim_immutable *im)
{
	u32 profile = le32_to_cpu(im->profile);
	char mib[32];

	if (s->o->json) {
		gpup_json_open(&s->j, "immutable", '{');
		gpup_json_u64(&s->j, "vendor_id", le16_to_cpu(im->vendor_id));
		gpup_json_u64(&s->j, "device_id", le16_to_cpu(im->device_id));
		gpup_json_u64(&s->j, "profile", profile);
		gpup_json_str(&s->j, "profile_name", profile_name(profile));
		gpup_json_u64(&s->j, "vram_size", le64_to_cpu(im->vram_size));
		gpup_json_u64(&s->j, "engines", le32_to_cpu(im->engines));
		gpup_json_u64(&s->j, "regmap_version", le32_to_cpu(im->regmap_version));
		gpup_json_u64(&s->j, "fw_version", le32_to_cpu(im->fw_version));
		gpup_json_u64(&s->j, "driver_version", le32_to_cpu(im->driver_version));
		gpup_json_u64(&s->j, "features", le32_to_cpu(im->features));
		gpup_json_u64(&s->j, "page_size", le32_to_cpu(im->page_size));
		gpup_json_u64(&s->j, "state_version", le32_to_cpu(im->state_version));
		gpup_json_u64(&s->j, "ctx_size", le32_to_cpu(im->ctx_size));
		gpup_json_close(&s->j, '}');
		return;
	}
	fprintf(s->out, "PCI %04x:%04x, profile %u (%s), VRAM %s, %u engines,\n%*s",
		le16_to_cpu(im->vendor_id), le16_to_cpu(im->device_id), profile,
		profile_name(profile), gpup_mib(mib, sizeof(mib), le64_to_cpu(im->vram_size)),
		le32_to_cpu(im->engines), INDENT, "");
	fprintf(s->out, "regmap 0x%08x, firmware 0x%08x, driver 0x%08x, ",
		le32_to_cpu(im->regmap_version), le32_to_cpu(im->fw_version),
		le32_to_cpu(im->driver_version));
	fprintf(s->out, "features 0x%x, page %u,\n%*s", le32_to_cpu(im->features),
		le32_to_cpu(im->page_size), INDENT, "");
	fprintf(s->out, "state version %u, engine context %u bytes",
		le32_to_cpu(im->state_version), le32_to_cpu(im->ctx_size));
}

static void decode_mutable_json(struct insp *s, const struct gpup_sim_mutable *m)
{
	static const struct { const char *key; size_t off; } regs[] = {
#define REG(f)	{ #f, offsetof(struct gpup_sim_mutable, f) }
		REG(ctrl), REG(status), REG(error), REG(error_head), REG(int_status),
		REG(int_mask), REG(ring_size), REG(ring_head), REG(ring_tail), REG(fence),
		REG(fence_count), REG(cmd_count), REG(irq_flags), REG(reserved),
#undef REG
	};
	unsigned int i;

	gpup_json_open(&s->j, "mutable", '{');
	gpup_json_open(&s->j, "scratch", '[');
	for (i = 0; i < 4; i++)
		gpup_json_u64(&s->j, NULL, le32_to_cpu(m->scratch[i]));
	gpup_json_close(&s->j, ']');
	gpup_json_u64(&s->j, "ring_base", le64_to_cpu(m->ring_base));
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		gpup_json_u64(&s->j, regs[i].key, get_unaligned_le32((const u8 *)m + regs[i].off));
	insp_hex(s, "config", m->config, sizeof(m->config));
	gpup_json_close(&s->j, '}');
}

static void decode_mutable(struct insp *s, const struct gpup_sim_mutable *m)
{
	const u8 *c = m->config;

	if (s->o->json) {
		decode_mutable_json(s, m);
		return;
	}
	fprintf(s->out, "ctrl 0x%x, status 0x%x, error %u at 0x%x, ", le32_to_cpu(m->ctrl),
		le32_to_cpu(m->status), le32_to_cpu(m->error), le32_to_cpu(m->error_head));
	fprintf(s->out, "fence %u (%u fences, %u commands),\n%*s", le32_to_cpu(m->fence),
		le32_to_cpu(m->fence_count), le32_to_cpu(m->cmd_count), INDENT, "");
	fprintf(s->out, "ring 0x%llx size 0x%x head 0x%x tail 0x%x, ",
		ULL(le64_to_cpu(m->ring_base)), le32_to_cpu(m->ring_size),
		le32_to_cpu(m->ring_head), le32_to_cpu(m->ring_tail));
	fprintf(s->out, "int status 0x%x mask 0x%x, irq 0x%x,\n%*s", le32_to_cpu(m->int_status),
		le32_to_cpu(m->int_mask), le32_to_cpu(m->irq_flags), INDENT, "");
	fprintf(s->out, "scratch 0x%x 0x%x 0x%x 0x%x, ", le32_to_cpu(m->scratch[0]),
		le32_to_cpu(m->scratch[1]), le32_to_cpu(m->scratch[2]), le32_to_cpu(m->scratch[3]));
	fprintf(s->out, "config %02x%02x:%02x%02x command 0x%02x%02x",
		c[1], c[0], c[3], c[2], c[5], c[4]);
}

/* Engine @i's context header, complete */
static void decode_ctx(struct insp *s, u64 i)
{
	const struct gpup_sim_ctx *c = &s->ctx;

	if (s->o->json) {
		gpup_json_open(&s->j, NULL, '{');
		gpup_json_u64(&s->j, "engine", i);
		gpup_json_u64(&s->j, "commands", le64_to_cpu(c->commands));
		gpup_json_u64(&s->j, "bytes", le64_to_cpu(c->bytes));
		gpup_json_u64(&s->j, "last_opcode", le32_to_cpu(c->last_opcode));
		gpup_json_u64(&s->j, "last_value", le32_to_cpu(c->last_value));
		gpup_json_close(&s->j, '}');
		return;
	}
	fprintf(s->out, "\n%*sengine %llu context: %llu commands, %llu bytes, ", INDENT, "",
		ULL(i), ULL(le64_to_cpu(c->commands)), ULL(le64_to_cpu(c->bytes)));
	fprintf(s->out, "last opcode 0x%x value 0x%x", le32_to_cpu(c->last_opcode),
		le32_to_cpu(c->last_value));
}

/*
 * The context images after gpup_sim's mutable registers, one per engine of
 * the immutable state: each header the chunk completes, and what it holds
 * of the next one.  Header i ends at base + i * ctx_size + hdr, so the
 * chunk completes headers first to next - 1, and neither is over n: the
 * chunk ends at most at the total, base + n * ctx_size.
 */
static void decode_contexts(struct insp *s)
{
	const u64 base = sizeof(struct gpup_sim_mutable), hdr = sizeof(struct gpup_sim_ctx);
	u64 off = s->st_off, end = off + s->st_len, first, next, i;
	u64 n = s->engines, size = s->ctx_size;

	if (!n || s->st_total != base + n * size)
		return;
	first = off < base + hdr ? 0 : (off - base - hdr) / size + 1;
	next = end < base + hdr ? 0 : (end - base - hdr) / size + 1;
	if (first < next && s->o->json)
		gpup_json_open(&s->j, "contexts", '[');
	else if (first < next && !s->st_head)
		fputc(':', s->out);
	for (i = first; i < next; i++) {
		gather(&s->ctx, base + i * size, hdr, off, s->st_data, s->st_len);
		decode_ctx(s, i);
	}
	if (first < next && s->o->json)
		gpup_json_close(&s->j, ']');
	if (next < n)
		gather(&s->ctx, base + next * size, hdr, off, s->st_data, s->st_len);
}

/*
 * A chunk of device state: where it lies in its state, then what of
 * gpup_sim's layouts it completes.
 */
static void decode_state(struct insp *s)
{
	bool im = s->type == GPUP_REC_IMMUTABLE, last = s->st_off + s->st_len == s->st_total;
	u64 need = im ? sizeof(s->im) : sizeof(s->mut);

	if (s->o->json) {
		gpup_json_open(&s->j, "state", '{');
		gpup_json_u64(&s->j, "offset", s->st_off);
		gpup_json_u64(&s->j, "length", s->st_len);
		gpup_json_u64(&s->j, "total", s->st_total);
		gpup_json_close(&s->j, '}');
	} else {
		fprintf(s->out, "chunk 0x%llx+%u of %llu bytes", ULL(s->st_off), s->st_len,
			ULL(s->st_total));
	}
	if (s->st_head) {
		if (!s->o->json)
			fprintf(s->out, ":\n%*s", INDENT, "");
		if (im)
			decode_immutable(s, &s->im);
		else
			decode_mutable(s, &s->mut);
	} else if (last && s->st_total < need) {
		if (s->o->json)
			insp_hex(s, "payload", im ? (void *)&s->im : (void *)&s->mut, s->st_total);
		else
			fprintf(s->out, ", not gpup_sim's layout");
	}
	if (im && last && s->st_total > need && !s->o->json)
		fprintf(s->out, "\n%*snot gpup_sim's size (%llu bytes): VRAM not bounded",
			INDENT, "", ULL(need));
	if (!im)
		decode_contexts(s);
}

static void decode_small(struct insp *s)
{
	const void *pl = s->payload;
	const struct gpup_rec_round *r = pl;
	const struct gpup_rec_end *e = pl;

	switch (s->type) {
	case GPUP_REC_STREAM:
		decode_stream(s, pl);
		break;
	case GPUP_REC_ROUND:
		if (s->o->json) {
			gpup_json_open(&s->j, "round", '{');
			gpup_json_u64(&s->j, "round", le32_to_cpu(r->round));
			gpup_json_u64(&s->j, "pages", le32_to_cpu(r->pages));
			gpup_json_close(&s->j, '}');
		} else {
			fprintf(s->out, "round %u, %u pages", le32_to_cpu(r->round),
				le32_to_cpu(r->pages));
		}
		break;
	case GPUP_REC_END:
		if (s->o->json) {
			gpup_json_open(&s->j, "end", '{');
			gpup_json_u64(&s->j, "records", le64_to_cpu(e->records));
			gpup_json_u64(&s->j, "bytes", le64_to_cpu(e->bytes));
			gpup_json_close(&s->j, '}');
		} else {
			fprintf(s->out, "%llu records, %llu bytes before it",
				ULL(le64_to_cpu(e->records)), ULL(le64_to_cpu(e->bytes)));
		}
		break;
	}
}

/* A round's VRAM, as one line in place of its records (--rounds) */
static void group_close(struct insp *s)
{
	char mib[32];

	if (!s->group_open)
		return;
	s->group_open = false;
	if (!s->group_is_round && !s->group_records)
		return;
	if (s->o->json) {
		gpup_json_open(&s->j, NULL, '{');
		gpup_json_str(&s->j, "type", "round-summary");
		if (s->group_is_round) {
			gpup_json_u64(&s->j, "round", s->round);
			gpup_json_u64(&s->j, "announced_pages", s->announced);
		}
		gpup_json_u64(&s->j, "vram_records", s->group_records);
		gpup_json_u64(&s->j, "pages", s->group_pages);
		gpup_json_close(&s->j, '}');
		return;
	}
	fprintf(s->out, "%-12s%-11s%-11s%-9s", "", "(VRAM)", "", "");
	if (s->group_is_round)
		fprintf(s->out, "round %u: ", s->round);
	fprintf(s->out, "%llu records, %llu pages (%s)", s->group_records,
		s->group_pages, gpup_mib(mib, sizeof(mib), s->group_pages * GPUP_MIG_PAGE_SIZE));
	if (s->group_is_round && s->announced != s->group_pages)
		fprintf(s->out, ", %u announced", s->announced);
	fputc('\n', s->out);
}

static void group_account(struct insp *s, const struct gpup_rec_vram *v)
{
	const struct gpup_rec_round *r = (const void *)s->payload;

	if (s->type == GPUP_REC_VRAM) {
		if (!s->group_open) {
			s->group_open = true;
			s->group_is_round = false;
			s->group_records = 0;
			s->group_pages = 0;
		}
		s->group_records++;
		s->group_pages += le32_to_cpu(v->npages);
		return;
	}
	group_close(s);
	if (s->type == GPUP_REC_ROUND) {
		s->group_open = true;
		s->group_is_round = true;
		s->round = le32_to_cpu(r->round);
		s->announced = le32_to_cpu(r->pages);
		s->group_records = 0;
		s->group_pages = 0;
	}
}

/* A record passed every check: print it */
static void insp_print(struct insp *s, const struct gpup_rec_vram *v)
{
	bool known = strcmp(rec_name(s->type), "unknown");

	if (s->type == GPUP_REC_VRAM) {
		s->vram_records++;
		s->vram_pages += le32_to_cpu(v->npages);
	} else if (s->type == GPUP_REC_ROUND) {
		s->rounds++;
	} else if (!known) {
		s->unknown++;
	}
	if (s->o->rounds) {
		group_account(s, v);
		if (s->type == GPUP_REC_VRAM)
			return;
	}
	if (s->o->json) {
		gpup_json_open(&s->j, NULL, '{');
		gpup_json_u64(&s->j, "offset", s->rec_off);
		gpup_json_str(&s->j, "type", rec_name(s->type));
		gpup_json_u64(&s->j, "type_id", s->type);
		gpup_json_u64(&s->j, "flags", s->flags);
		gpup_json_bool(&s->j, "mandatory", s->flags & GPUP_REC_F_MANDATORY);
		gpup_json_u64(&s->j, "length", s->length);
		if (s->type == GPUP_REC_VRAM) {
			gpup_json_open(&s->j, "vram", '{');
			gpup_json_u64(&s->j, "offset", le64_to_cpu(v->offset));
			gpup_json_u64(&s->j, "npages", le32_to_cpu(v->npages));
			gpup_json_close(&s->j, '}');
		} else if (s->type == GPUP_REC_IMMUTABLE || s->type == GPUP_REC_MUTABLE) {
			decode_state(s);
		} else if (known) {
			decode_small(s);
		}
		gpup_json_close(&s->j, '}');
		return;
	}
	fprintf(s->out, "0x%08llx  %-9s  %-9s  %-7u  ", s->rec_off, rec_name(s->type),
		s->flags & GPUP_REC_F_MANDATORY ? "mandatory" : "optional", s->length);
	if (s->type == GPUP_REC_VRAM)
		fprintf(s->out, "offset 0x%llx, %u pages", ULL(le64_to_cpu(v->offset)),
			le32_to_cpu(v->npages));
	else if (s->type == GPUP_REC_IMMUTABLE || s->type == GPUP_REC_MUTABLE)
		decode_state(s);
	else if (known)
		decode_small(s);
	else
		fprintf(s->out, "type %u, skipped", s->type);
	fputc('\n', s->out);
}

/* One record: header, payload, CRC.  False at the end or on a failure. */
static bool insp_record(struct insp *s)
{
	const struct gpup_rec_hdr *hdr = (const void *)s->chunk;
	struct gpup_rec_vram v = { 0 };
	u8 head[sizeof(*hdr)], crc[4];
	u32 rest;
	size_t got;

	s->rec_off = s->off;
	s->have_hdr = false;
	if (insp_read(s, head, sizeof(head), &got))
		return false;
	if (!got)
		return false;
	memcpy(s->chunk, head, got);
	if (got < sizeof(head)) {
		insp_feed(s, head, got);
		insp_truncated(s, "header");
		return false;
	}
	s->have_hdr = true;
	s->type = le16_to_cpu(hdr->type);
	s->flags = le16_to_cpu(hdr->flags);
	s->length = le32_to_cpu(hdr->length);
	s->payload = NULL;
	if (insp_feed(s, head, sizeof(head)))
		return false;

	rest = s->length;
	if (s->type == GPUP_REC_VRAM) {
		/* the parser took the header: the fixed part is within the length */
		if (insp_read(s, &v, sizeof(v), &got) || (got && insp_feed(s, &v, got)))
			return false;
		if (got < sizeof(v)) {
			insp_truncated(s, "payload");
			return false;
		}
		rest -= sizeof(v);
	}
	if (!insp_pass(s, "payload", rest))
		return false;
	if (insp_read(s, crc, sizeof(crc), &got))
		return false;
	if (got < sizeof(crc)) {
		if (got)
			insp_feed(s, crc, got);
		insp_truncated(s, "CRC");
		return false;
	}
	if (insp_feed(s, crc, sizeof(crc)))
		return false;
	insp_print(s, &v);
	s->last_type = s->type;
	s->last_off = s->rec_off;
	s->nrec++;
	return !gpup_parser_done(s->p);
}

static void insp_summary(struct insp *s)
{
	char mib[32];

	gpup_mib(mib, sizeof(mib), s->vram_pages * GPUP_MIG_PAGE_SIZE);
	if (s->o->json) {
		gpup_json_open(&s->j, "summary", '{');
		gpup_json_u64(&s->j, "records", s->nrec);
		gpup_json_u64(&s->j, "bytes", s->off);
		gpup_json_u64(&s->j, "vram_records", s->vram_records);
		gpup_json_u64(&s->j, "vram_pages", s->vram_pages);
		gpup_json_u64(&s->j, "rounds", s->rounds);
		gpup_json_u64(&s->j, "unknown_records", s->unknown);
		gpup_json_bool(&s->j, "complete", gpup_parser_done(s->p));
		gpup_json_close(&s->j, '}');
		gpup_json_bool(&s->j, "ok", !s->failed);
		if (s->failed) {
			gpup_json_open(&s->j, "error", '{');
			gpup_json_u64(&s->j, "offset", s->err_off);
			gpup_json_u64(&s->j, "record", s->nrec);
			gpup_json_u64(&s->j, "record_offset", s->rec_off);
			gpup_json_str(&s->j, "reason", s->why);
			gpup_json_close(&s->j, '}');
		}
		return;
	}
	fprintf(s->out, "%llu records, %llu bytes: %llu VRAM records, %llu pages (%s), ",
		s->nrec, s->off, s->vram_records, s->vram_pages, mib);
	fprintf(s->out, "%llu rounds, %llu unknown records skipped\n", s->rounds, s->unknown);
	if (!s->failed)
		fprintf(s->out, "stream complete: every CRC good, the end record matches\n");
}

/*
 * Decode the stream in @in; print to @out, the failure (if any) to @err.
 * Returns GPUP_EXIT_OK for a complete, valid stream, GPUP_EXIT_ERROR
 * otherwise.
 */
int gpup_inspect(FILE *in, const char *name, FILE *out, FILE *err,
		 const struct gpup_inspect_opts *o)
{
	struct insp *s;
	int ret;
	u8 extra;

	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->p = calloc(1, sizeof(*s->p));
	if (!s->p)
		goto nomem;
	s->in = in;
	s->out = out;
	s->err = err;
	s->name = name;
	s->o = o;
	gpup_parser_init(s->p, &insp_ops, s, UINT64_MAX);

	if (o->json) {
		gpup_json_init(&s->j, out, true);
		gpup_json_open(&s->j, NULL, '{');
		gpup_json_str(&s->j, "file", name);
		gpup_json_open(&s->j, "records", '[');
	} else {
		fprintf(out, "%-12s%-11s%-11s%-9s%s\n", "OFFSET", "TYPE", "FLAGS", "LENGTH",
			"CONTENT");
	}

	while (insp_record(s))
		;
	if (s->o->rounds)
		group_close(s);
	if (!s->failed && gpup_parser_done(s->p)) {
		/* anything after END is refused, as the kernel refuses it */
		if (fread(&extra, 1, 1, in) == 1 && gpup_parser_feed(s->p, &extra, 1))
			insp_fail(s, s->off, "%s", s->p->error);
	} else if (!s->failed && !s->nrec) {
		insp_fail(s, 0, "empty file: not a gpup migration stream");
	} else if (!s->failed) {
		insp_fail(s, s->off, "truncated: no end record after record %llu (%s at %llu)",
			  s->nrec - 1, rec_name(s->last_type), s->last_off);
	}

	if (o->json) {
		gpup_json_close(&s->j, ']');
		insp_summary(s);
		gpup_json_close(&s->j, '}');
		gpup_json_end(&s->j);
	} else {
		insp_summary(s);
	}
	if (s->failed)
		fprintf(err, "gpupctl: %s: offset %llu (0x%llx): %s\n", name,
			s->err_off, s->err_off, s->why);
	fflush(out);
	ret = s->failed ? GPUP_EXIT_ERROR : GPUP_EXIT_OK;
	free(s->p);
	free(s);
	return ret;

nomem:
	if (s)
		free(s->p);
	free(s);
	fprintf(err, "gpupctl: %s: out of memory\n", name);
	return GPUP_EXIT_ERROR;
}
