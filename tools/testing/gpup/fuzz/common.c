// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers of the stream fuzzers, built into both the libFuzzer and the
 * replay binaries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void gpup_fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gpup-fuzz: %s:%d: invariant failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* splitmix64's finalizer: every bit of @seed moves every bit of the state */
void gpup_fuzz_rng_seed(struct gpup_fuzz_rng *r, u64 seed)
{
	seed += 0x9e3779b97f4a7c15ULL;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
	r->s = (seed ^ (seed >> 31)) ?: 1;
}

/*
 * Seeded by the CRC of the whole input, so that a mutation anywhere in
 * it changes the choices too, and a saved input replays them exactly.
 */
void gpup_fuzz_rng_init(struct gpup_fuzz_rng *r, const u8 *data, size_t size)
{
	gpup_fuzz_rng_seed(r, (u64)crc32c(~0U, data, size) << 32 | (u32)size);
}

u64 gpup_fuzz_rng_next(struct gpup_fuzz_rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

/* The records whose header, payload and CRC all fit in the buffer */
size_t gpup_fuzz_records(const u8 *data, size_t size, struct gpup_fuzz_rec *recs,
			 size_t max)
{
	size_t off = 0, n = 0;

	while (n < max && size - off >= GPUP_REC_OVERHEAD) {
		u32 len = get_unaligned_le32(data + off + 4);

		if (len > size - off - GPUP_REC_OVERHEAD)
			break;
		recs[n].off = off;
		recs[n].type = data[off] | data[off + 1] << 8;
		recs[n].length = len;
		n++;
		off += GPUP_REC_OVERHEAD + len;
	}
	return n;
}
