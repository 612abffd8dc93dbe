// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer's custom mutator for the migration stream: libFuzzer's own
 * byte-level mutations, sometimes a record-level one (a record repeated,
 * dropped or swapped with the next), then the records re-sealed so that
 * most mutated inputs get past the CRC check to the code behind it.
 *
 * Only the fuzzing build links this file: the parser under test never
 * skips a CRC, the inputs the fuzzer saves are real streams with real
 * CRCs, and the replay build runs them as they are.  A few mutations are
 * left unsealed on purpose, for the CRC and END checks themselves.
 */
#include <stdlib.h>

#include "fuzz.h"

#define MAX_RECS	64

/* Copy record @r in front of itself: the stream grows by one record */
static size_t rec_repeat(u8 *data, size_t size, size_t max_size,
			 const struct gpup_fuzz_rec *r)
{
	size_t n = GPUP_REC_OVERHEAD + r->length;

	if (n > max_size - size)
		return size;
	memmove(data + r->off + n, data + r->off, size - r->off);
	return size + n;
}

static size_t rec_drop(u8 *data, size_t size, const struct gpup_fuzz_rec *r)
{
	size_t n = GPUP_REC_OVERHEAD + r->length;

	memmove(data + r->off, data + r->off + n, size - r->off - n);
	return size - n;
}

/* Swap records @a and @a + 1, which are adjacent */
static void rec_swap(u8 *data, const struct gpup_fuzz_rec *a)
{
	size_t na = GPUP_REC_OVERHEAD + a[0].length;
	size_t nb = GPUP_REC_OVERHEAD + a[1].length;
	u8 *tmp = malloc(na);

	if (!tmp)
		return;
	memcpy(tmp, data + a[0].off, na);
	memmove(data + a[0].off, data + a[1].off, nb);
	memcpy(data + a[0].off + nb, tmp, na);
	free(tmp);
}

static size_t mutate_records(u8 *data, size_t size, size_t max_size, u64 rnd)
{
	struct gpup_fuzz_rec recs[MAX_RECS];
	size_t n = gpup_fuzz_records(data, size, recs, MAX_RECS), i;

	if (!n)
		return size;
	i = (rnd >> 8) % n;
	switch (rnd % 3) {
	case 0:
		return rec_repeat(data, size, max_size, &recs[i]);
	case 1:
		return rec_drop(data, size, &recs[i]);
	default:
		if (i + 1 < n)
			rec_swap(data, &recs[i]);
		return size;
	}
}

/*
 * Make each record that fits self-consistent: a VRAM record's page count
 * from its length (sometimes), END's totals from the records before it,
 * and the CRC of each.
 */
static void seal(u8 *data, size_t size, u64 rnd)
{
	struct gpup_fuzz_rec recs[MAX_RECS];
	size_t n = gpup_fuzz_records(data, size, recs, MAX_RECS), i;
	u64 bytes = 0;
	u32 crc;

	for (i = 0; i < n; i++) {
		u8 *rec = data + recs[i].off, *pl = rec + sizeof(struct gpup_rec_hdr);
		u32 len = recs[i].length;

		if (recs[i].type == GPUP_REC_VRAM && len >= sizeof(struct gpup_rec_vram) &&
		    (rnd >> i) & 1)
			put_unaligned_le32((len - sizeof(struct gpup_rec_vram)) /
					   GPUP_MIG_PAGE_SIZE, pl + 8);
		if (recs[i].type == GPUP_REC_END && len >= sizeof(struct gpup_rec_end)) {
			put_unaligned_le32(i, pl);
			put_unaligned_le32(0, pl + 4);
			put_unaligned_le32(bytes, pl + 8);
			put_unaligned_le32(bytes >> 32, pl + 12);
		}
		crc = ~gpup_stream_crc(GPUP_CRC_SEED, rec, sizeof(struct gpup_rec_hdr) + len);
		put_unaligned_le32(crc, pl + len);
		bytes += GPUP_REC_OVERHEAD + len;
	}
}

size_t gpup_fuzz_mutator(u8 *data, size_t size, size_t max_size, unsigned int seed)
{
	struct gpup_fuzz_rng r;
	u64 how;

	gpup_fuzz_rng_seed(&r, seed);
	how = gpup_fuzz_rng_next(&r);

	if (how % 4 == 0)
		size = mutate_records(data, size, max_size, gpup_fuzz_rng_next(&r));
	else
		size = gpup_fuzz_mutate(data, size, max_size);
	if ((how >> 8) % 8)
		seal(data, size, gpup_fuzz_rng_next(&r));
	return size;
}
