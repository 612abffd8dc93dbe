// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of ring and command validation */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../gpup_sim.h"

#define VRAM	SZ_64M

struct cmd_case {
	const char *name;
	u32 opcode;
	u64 dst, src, len;
	enum gpup_engine_error expect;
};

static const struct cmd_case cmd_cases[] = {
	{ "nop", GPUP_CMD_NOP, 0, 0, 0, GPUP_ERR_NONE },
	{ "fence", GPUP_CMD_FENCE, ~0ULL, ~0ULL, ~0ULL, GPUP_ERR_NONE },
	{ "fill_whole_vram", GPUP_CMD_FILL, 0, 0, VRAM, GPUP_ERR_NONE },
	{ "fill_last_dword", GPUP_CMD_FILL, VRAM - 4, 0, 4, GPUP_ERR_NONE },
	{ "fill_zero_length", GPUP_CMD_FILL, 0, 0, 0, GPUP_ERR_LENGTH },
	{ "fill_misaligned_dst", GPUP_CMD_FILL, 2, 0, 8, GPUP_ERR_ALIGN },
	{ "fill_misaligned_len", GPUP_CMD_FILL, 0, 0, 6, GPUP_ERR_ALIGN },
	{ "fill_past_end", GPUP_CMD_FILL, VRAM - 4, 0, 8, GPUP_ERR_BOUNDS },
	{ "fill_start_past_end", GPUP_CMD_FILL, VRAM, 0, 4, GPUP_ERR_BOUNDS },
	{ "fill_wraps_u64", GPUP_CMD_FILL, ~0ULL - 3, 0, 8, GPUP_ERR_BOUNDS },
	{ "copy_ok", GPUP_CMD_COPY, SZ_1M, 0, SZ_1M, GPUP_ERR_NONE },
	{ "copy_unaligned_ok", GPUP_CMD_COPY, 1, SZ_1M + 3, 5, GPUP_ERR_NONE },
	{ "copy_zero_length", GPUP_CMD_COPY, 0, SZ_1M, 0, GPUP_ERR_LENGTH },
	{ "copy_overlap", GPUP_CMD_COPY, 0x100, 0x80, 0x100, GPUP_ERR_OVERLAP },
	{ "copy_same", GPUP_CMD_COPY, 0x100, 0x100, 4, GPUP_ERR_OVERLAP },
	{ "copy_src_past_end", GPUP_CMD_COPY, 0, VRAM - 4, 8, GPUP_ERR_BOUNDS },
	{ "copy_dst_past_end", GPUP_CMD_COPY, VRAM - 4, 0, 8, GPUP_ERR_BOUNDS },
	{ "copy_len_wraps", GPUP_CMD_COPY, 0x1000, 0, ~0ULL, GPUP_ERR_BOUNDS },
	{ "unknown_opcode", 4, 0, 0, 4, GPUP_ERR_OPCODE },
	{ "opcode_high_bits", 0x80000001, 0, 0, 4, GPUP_ERR_OPCODE },
};

static void cmd_case_desc(const struct cmd_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cmd, cmd_cases, cmd_case_desc);

static void cmd_validate_matrix(struct kunit *test)
{
	const struct cmd_case *c = test->param_value;
	struct gpup_cmd cmd = {
		.opcode = cpu_to_le32(c->opcode),
		.dst = cpu_to_le64(c->dst),
		.src = cpu_to_le64(c->src),
		.len = cpu_to_le64(c->len),
	};

	KUNIT_EXPECT_EQ(test, gpup_cmd_validate(&cmd, VRAM), c->expect);
}

static void ring_regs(struct gpup_regs *regs, u64 base, u32 size, u32 tail)
{
	gpup_regs_init(regs);
	regs->ring_base = base;
	regs->ring_size = size;
	regs->ring_tail = tail;
}

static void ring_validate_accepts_good_ring(struct kunit *test)
{
	struct gpup_regs regs;

	ring_regs(&regs, 0, SZ_4K, 0x20);
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_NONE);
	ring_regs(&regs, VRAM - SZ_1M, SZ_1M, SZ_1M - 32);
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_NONE);
}

static void ring_validate_rejects_bad_rings(struct kunit *test)
{
	struct gpup_regs regs;

	ring_regs(&regs, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0, 0x3000, 0);		/* not a power of two */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0, SZ_2M, 0);		/* too large */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0x800, SZ_4K, 0);	/* misaligned base */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, VRAM, SZ_4K, 0);	/* outside VRAM */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, ~0ULL & ~0xfffULL, SZ_4K, 0);	/* wraps */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0, SZ_4K, SZ_4K);	/* tail past the ring */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0, SZ_4K, 0x10);	/* tail inside a command */
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
	ring_regs(&regs, 0, SZ_4K, 0x20);	/* head inside one (a hostile stream) */
	regs.ring_head = 0x8;
	KUNIT_EXPECT_EQ(test, gpup_ring_validate(&regs, VRAM), GPUP_ERR_RING);
}

static struct kunit_case gpup_engine_cases[] = {
	KUNIT_CASE_PARAM(cmd_validate_matrix, cmd_gen_params),
	KUNIT_CASE(ring_validate_accepts_good_ring),
	KUNIT_CASE(ring_validate_rejects_bad_rings),
	{}
};

static struct kunit_suite gpup_engine_suite = {
	.name = "gpup_engine",
	.test_cases = gpup_engine_cases,
};

kunit_test_suite(gpup_engine_suite);
