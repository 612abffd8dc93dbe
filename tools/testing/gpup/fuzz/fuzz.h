/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the stream fuzzers share: the libFuzzer entry points (the same
 * harness runs under libFuzzer with clang and under replay.c's main()
 * with gcc), a deterministic source of choices derived from the input,
 * and the re-sealing of records after a mutation.
 */
#ifndef _GPUP_FUZZ_H_
#define _GPUP_FUZZ_H_

#include "stream.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * libFuzzer's entry points; the Makefile maps these names to libFuzzer's
 * own on the command line.
 */
/* The target: one input, never trusted */
int gpup_fuzz_one_input(const u8 *data, size_t size);
/* libFuzzer's own mutations, and ours around them (mutator.c) */
size_t gpup_fuzz_mutate(u8 *data, size_t size, size_t max_size);
size_t gpup_fuzz_mutator(u8 *data, size_t size, size_t max_size, unsigned int seed);

/*
 * parser_fuzz.c's device refuses a mutable state that opens with
 * GPUP_FUZZ_BAD_STATE, a ROUND record of that round, and VRAM data with
 * GPUP_FUZZ_BAD_DATA at VRAM byte GPUP_FUZZ_BAD_BYTE (seeds of gen_seeds.c
 * have each)
 */
#define GPUP_FUZZ_BAD_STATE	0x2b1e75e1U
#define GPUP_FUZZ_BAD_DATA	0xee
#define GPUP_FUZZ_BAD_BYTE	1

/* Stop the run: libFuzzer and replay.c both report an abort */
#define gpup_fuzz_check(cond, ...)					\
	do {								\
		if (!(cond))						\
			gpup_fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);	\
	} while (0)

void __noreturn __printf(3, 4)
gpup_fuzz_fail(const char *file, int line, const char *fmt, ...);

/* xorshift64 seeded from the input: the same choices for the same bytes */
struct gpup_fuzz_rng {
	u64 s;
};

void gpup_fuzz_rng_seed(struct gpup_fuzz_rng *r, u64 seed);
void gpup_fuzz_rng_init(struct gpup_fuzz_rng *r, const u8 *data, size_t size);
u64 gpup_fuzz_rng_next(struct gpup_fuzz_rng *r);

/* A record's place in a buffer, if its header and length fit */
struct gpup_fuzz_rec {
	size_t off;
	u16 type;
	u32 length;
};

size_t gpup_fuzz_records(const u8 *data, size_t size, struct gpup_fuzz_rec *recs,
			 size_t max);

/* json_check.c: @s is one well-formed JSON value */
bool gpup_fuzz_json_ok(const char *s, size_t len);

#endif /* _GPUP_FUZZ_H_ */
