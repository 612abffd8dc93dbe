// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: gpupctl stream inspect (tools/gpupctl/inspect.c), the
 * decoder a person runs on a stream file of unknown origin.
 *
 * Each input is inspected as a file, in text or JSON and with or without
 * --rounds (chosen from the input's bytes).  The exit code must agree
 * with the kernel's parser fed the same bytes, with the VRAM size taken
 * from the stream's own immutable state as inspect takes it (once complete,
 * and only if it has the size of gpup_sim's); JSON output must be one
 * well-formed document that says the same; text output must end with the
 * verdict, and a refusal must say where.  A stream accepted shows each
 * chunk of device state once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <gpup/sim_state.h>

#include "fuzz.h"
#include "gpupctl.h"

struct ref {
	struct gpup_parser p;
	struct gpup_sim_immutable im;	/* the immutable state, if gpup_sim's size */
	u64 chunks;			/* of device state */
};

static int on_record(void *ctx, u16 type, const void *payload, u32 len)
{
	return 0;
}

static int on_state(void *ctx, u16 type, u64 off, u64 total, const void *data, u32 len)
{
	struct ref *r = ctx;

	r->chunks++;
	if (type != GPUP_REC_IMMUTABLE || total != sizeof(r->im))
		return 0;
	memcpy((u8 *)&r->im + off, data, len);
	if (off + len == total)
		r->p.vram_size = le64_to_cpu(r->im.vram_size);
	return 0;
}

static int on_vram(void *ctx, u64 off, const void *data, u32 len)
{
	return 0;
}

static const struct gpup_parser_ops ops = {
	.record = on_record,
	.state = on_state,
	.vram = on_vram,
};

/* The parser's verdict: a complete stream with nothing after it */
static bool parser_accepts(struct ref *r, const u8 *data, size_t size)
{
	r->chunks = 0;
	gpup_parser_init(&r->p, &ops, r, UINT64_MAX);
	return !gpup_parser_feed(&r->p, data, size) && gpup_parser_done(&r->p);
}

static u64 count(const char *s, const char *what)
{
	u64 n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s++;
	}
	return n;
}

/* What inspect printed says what its exit code says */
static void check_output(const struct gpup_inspect_opts *o, int rc, const char *out,
			 size_t outlen, const char *err)
{
	const char *said = rc ? "gpupctl: fuzz: offset " : "";

	gpup_fuzz_check(!strncmp(err, said, strlen(said)) && (rc || !*err),
			"exit code %d, error output \"%.80s\"", rc, err);
	if (o->json) {
		gpup_fuzz_check(gpup_fuzz_json_ok(out, outlen), "malformed JSON: %.200s", out);
		gpup_fuzz_check(strstr(out, rc ? "\"ok\": false" : "\"ok\": true"),
				"JSON does not say ok is %s", rc ? "false" : "true");
	} else {
		gpup_fuzz_check(rc || strstr(out, "\nstream complete: "),
				"a good stream not said to be complete");
	}
}

int gpup_fuzz_one_input(const u8 *data, size_t size)
{
	static struct ref r;
	struct gpup_inspect_opts o;
	struct gpup_fuzz_rng rng;
	size_t outlen, errlen;
	char *out, *err;
	FILE *in, *fo, *fe;
	bool accepts;
	u8 empty = 0;
	u64 how;
	int rc;

	gpup_fuzz_rng_init(&rng, data, size);
	how = gpup_fuzz_rng_next(&rng);
	o.json = how & 1;
	o.rounds = how & 2;

	/* fmemopen refuses an empty buffer: one byte, read to its end */
	in = fmemopen(size ? (void *)data : &empty, size ? size : 1, "rb");
	fo = open_memstream(&out, &outlen);
	fe = open_memstream(&err, &errlen);
	gpup_fuzz_check(in && fo && fe, "cannot open memory streams");
	if (!size)
		fgetc(in);
	rc = gpup_inspect(in, "fuzz", fo, fe, &o);
	fclose(in);
	fclose(fo);
	fclose(fe);
	check_output(&o, rc, out, outlen, err);

	accepts = size && parser_accepts(&r, data, size);
	gpup_fuzz_check(rc == (accepts ? GPUP_EXIT_OK : GPUP_EXIT_ERROR),
			"inspect exits %d, the parser %s the stream", rc,
			accepts ? "accepts" : "refuses");
	/* nothing else inspect prints has these words */
	gpup_fuzz_check(!accepts || count(out, o.json ? "\"state\": {" : " chunk 0x") == r.chunks,
			"%llu chunks of device state, not each shown once",
			(unsigned long long)r.chunks);
	free(out);
	free(err);
	return 0;
}
