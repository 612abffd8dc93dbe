// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer's custom mutator for the migration stream: libFuzzer's own
 * byte-level mutations, sometimes a record-level one (a record repeated,
 * dropped or swapped with the next, or a chunk of device state split in
 * two), then the records re-sealed so that most mutated inputs get past
 * the CRC check, and often the device state's chunk checks, to the code
 * behind them.
 *
 * Only the fuzzing build links this file: the parser under test never
 * skips a CRC, the inputs the fuzzer saves are real streams with real
 * CRCs, and the replay build runs them as they are.  A few mutations are
 * left unsealed on purpose, for the CRC and END checks themselves.
 */
#include <stdlib.h>

#include "fuzz.h"

#define MAX_RECS	2048	/* more than a 16 KiB input holds */

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

static bool rec_is_state(const struct gpup_fuzz_rec *r)
{
	return (r->type == GPUP_REC_IMMUTABLE || r->type == GPUP_REC_MUTABLE) &&
	       r->length > sizeof(struct gpup_rec_state);
}

/*
 * Cut a chunk of device state in two at @rnd: the second half becomes a
 * chunk of its own, with the offset after the first's (sealed later)
 */
static size_t rec_split(u8 *data, size_t size, size_t max_size,
			const struct gpup_fuzz_rec *r, u64 rnd)
{
	const size_t hdr = sizeof(struct gpup_rec_hdr), st = sizeof(struct gpup_rec_state);
	size_t extra = GPUP_REC_OVERHEAD + st, n = r->length - st, cut;
	u8 *rec = data + r->off, *second;

	if (!rec_is_state(r) || n < 2 || extra > max_size - size)
		return size;
	cut = 1 + rnd % (n - 1);
	/* room after the first half's data: its CRC, the second's header and state */
	memmove(rec + hdr + st + cut + extra, rec + hdr + st + cut, size - r->off - hdr - st - cut);
	second = rec + hdr + st + cut + 4;
	memcpy(second, rec, hdr + st);
	put_unaligned_le32(st + cut, rec + 4);
	put_unaligned_le32(st + n - cut, second + 4);
	put_unaligned_le32(get_unaligned_le32(rec + hdr) + cut, second + hdr);
	put_unaligned_le32(get_unaligned_le32(rec + hdr + 4) +
			   (get_unaligned_le32(rec + hdr) + (u64)cut > 0xffffffffULL),
			   second + hdr + 4);
	return size + extra;
}

static size_t mutate_records(u8 *data, size_t size, size_t max_size, u64 rnd)
{
	struct gpup_fuzz_rec recs[MAX_RECS];
	size_t n = gpup_fuzz_records(data, size, recs, MAX_RECS), i;

	if (!n)
		return size;
	i = (rnd >> 8) % n;
	switch (rnd % 4) {
	case 0:
		return rec_repeat(data, size, max_size, &recs[i]);
	case 1:
		return rec_drop(data, size, &recs[i]);
	case 2:
		return rec_split(data, size, max_size, &recs[i], rnd >> 24);
	default:
		if (i + 1 < n)
			rec_swap(data, &recs[i]);
		return size;
	}
}

/*
 * Each run of chunks of one state made one state again: offsets back to
 * back from 0, and the total where the run ends.
 */
static void seal_states(u8 *data, const struct gpup_fuzz_rec *recs, size_t n)
{
	size_t i, k;
	u64 off, total;

	for (i = 0; i < n; i = k) {
		total = 0;
		for (k = i; k < n && rec_is_state(&recs[k]) && recs[k].type == recs[i].type; k++)
			total += recs[k].length - sizeof(struct gpup_rec_state);
		off = 0;
		for (k = i; k < n && rec_is_state(&recs[k]) && recs[k].type == recs[i].type; k++) {
			u8 *st = data + recs[k].off + sizeof(struct gpup_rec_hdr);

			put_unaligned_le32(off, st);
			put_unaligned_le32(off >> 32, st + 4);
			put_unaligned_le32(total, st + 8);
			put_unaligned_le32(total >> 32, st + 12);
			off += recs[k].length - sizeof(struct gpup_rec_state);
		}
		if (k == i)
			k++;
	}
}

/*
 * Make each record that fits self-consistent: a VRAM record's page count
 * from its length (sometimes), the chunks of device state one state again
 * (sometimes), END's totals from the records before it, and the CRC of
 * each.
 */
static void seal(u8 *data, size_t size, u64 rnd)
{
	struct gpup_fuzz_rec recs[MAX_RECS];
	size_t n = gpup_fuzz_records(data, size, recs, MAX_RECS), i;
	u64 bytes = 0;
	u32 crc;

	if ((rnd >> 63) & 1)
		seal_states(data, recs, n);

	for (i = 0; i < n; i++) {
		u8 *rec = data + recs[i].off, *pl = rec + sizeof(struct gpup_rec_hdr);
		u32 len = recs[i].length;

		if (recs[i].type == GPUP_REC_VRAM && len >= sizeof(struct gpup_rec_vram) &&
		    (rnd >> i % 64) & 1)
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
