// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of gpup_vf's ring, command checks and fence bookkeeping */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../gpup_vf.h"

#define LIMIT	(SZ_64M - GPUP_VF_RING_SIZE)	/* a small VF's usable VRAM */
#define SIZE	GPUP_VF_RING_SIZE

static void ring_space_empty_keeps_one_slot(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0, 0), SIZE - 32);
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0x400, 0x400), SIZE - 32);
}

static void ring_space_full(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0, SIZE - 32), 0);
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0x420, 0x400), 0);
}

static void ring_space_wraps(struct kunit *test)
{
	/* tail behind head: the gap between them, less one slot */
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0x800, 0x400), 0x3e0);
	/* tail ahead of head: the rest of the ring and its start */
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0x400, 0x800),
			SIZE - 0x400 - 32);
	KUNIT_EXPECT_EQ(test, gpup_vf_ring_space(SIZE, 0, SIZE - 64), 32);
}

static void ring_holds_the_largest_batch(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, gpup_vf_ring_space(SIZE, 0, 0),
			(GPUP_VF_BATCH_MAX + 1) * GPUP_VF_CMD_SIZE);
}

static void batch_slots_adds_a_closing_fence(struct kunit *test)
{
	struct gpup_vf_cmd cmds[3] = {
		{ .op = GPUP_VF_OP_FILL }, { .op = GPUP_VF_OP_FENCE },
		{ .op = GPUP_VF_OP_COPY },
	};

	KUNIT_EXPECT_EQ(test, gpup_vf_batch_slots(cmds, 3), 4);
	KUNIT_EXPECT_EQ(test, gpup_vf_batch_slots(cmds, 2), 2);
	KUNIT_EXPECT_EQ(test, gpup_vf_batch_slots(cmds, 1), 2);
}

static struct kunit_case gpup_vf_ring_cases[] = {
	KUNIT_CASE(ring_space_empty_keeps_one_slot),
	KUNIT_CASE(ring_space_full),
	KUNIT_CASE(ring_space_wraps),
	KUNIT_CASE(ring_holds_the_largest_batch),
	KUNIT_CASE(batch_slots_adds_a_closing_fence),
	{}
};

static struct kunit_suite gpup_vf_ring_suite = {
	.name = "gpup_vf_ring",
	.test_cases = gpup_vf_ring_cases,
};

struct check_case {
	const char *name;
	struct gpup_vf_cmd cmd;
	int expect;
};

#define FILL(d, l, v)	{ .op = GPUP_VF_OP_FILL, .dst = (d), .len = (l), .value = (v) }
#define COPY(d, s, l)	{ .op = GPUP_VF_OP_COPY, .dst = (d), .src = (s), .len = (l) }
#define FENCE		{ .op = GPUP_VF_OP_FENCE }

static const struct check_case check_cases[] = {
	{ "fill_ok", FILL(0x1000, 0x1000, 0xdeadbeef), 0 },
	{ "fill_up_to_ring", FILL(LIMIT - 4, 4, 1), 0 },
	{ "fill_into_ring", FILL(LIMIT - 4, 8, 1), -ERANGE },
	{ "fill_at_ring", FILL(LIMIT, 4, 1), -ERANGE },
	{ "fill_wraps_u64", FILL(~0ULL - 3, 8, 1), -ERANGE },
	{ "fill_huge_len", FILL(4, ~0ULL - 3, 1), -ERANGE },
	{ "fill_zero_len", FILL(0, 0, 1), -EINVAL },
	{ "fill_misaligned_dst", FILL(2, 8, 1), -EINVAL },
	{ "fill_misaligned_len", FILL(0, 6, 1), -EINVAL },
	{ "fill_src_set", { .op = GPUP_VF_OP_FILL, .len = 4, .src = 4 }, -EINVAL },
	{ "copy_ok", COPY(0, SZ_1M, SZ_1M), 0 },
	{ "copy_unaligned_ok", COPY(1, SZ_1M + 3, 5), 0 },
	{ "copy_adjacent_ok", COPY(0x100, 0, 0x100), 0 },
	{ "copy_overlap", COPY(0x100, 0x80, 0x100), -EINVAL },
	{ "copy_same", COPY(0x100, 0x100, 4), -EINVAL },
	{ "copy_zero_len", COPY(0, SZ_1M, 0), -EINVAL },
	{ "copy_from_ring", COPY(0, LIMIT, 32), -ERANGE },
	{ "copy_into_ring", COPY(LIMIT - 16, 0, 32), -ERANGE },
	{ "copy_len_wraps", COPY(0x1000, 0, ~0ULL), -ERANGE },
	{ "copy_value_set", { .op = GPUP_VF_OP_COPY, .len = 4, .dst = 8, .value = 1 }, -EINVAL },
	{ "fence_ok", FENCE, 0 },
	{ "fence_value_set", { .op = GPUP_VF_OP_FENCE, .value = 1 }, -EINVAL },
	{ "fence_len_set", { .op = GPUP_VF_OP_FENCE, .len = 4 }, -EINVAL },
	{ "op_zero", { .op = 0, .len = 4 }, -EINVAL },
	{ "op_unknown", { .op = 4, .len = 4 }, -EINVAL },
	{ "op_high_bits", { .op = 0x80000001, .len = 4 }, -EINVAL },
};

static void check_case_desc(const struct check_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(check, check_cases, check_case_desc);

static void cmd_check_matrix(struct kunit *test)
{
	const struct check_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, gpup_vf_cmd_check(&c->cmd, LIMIT), c->expect);
}

static void cmd_encode_fill(struct kunit *test)
{
	struct gpup_vf_cmd cmd = FILL(0x2000, 0x40, 0xa5a5a5a5);
	struct gpup_cmd out;

	memset(&out, 0xff, sizeof(out));
	gpup_vf_cmd_encode(&cmd, 7, &out);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(out.opcode), GPUP_CMD_FILL);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(out.value), 0xa5a5a5a5);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.dst), 0x2000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.src), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.len), 0x40);
}

static void cmd_encode_copy(struct kunit *test)
{
	struct gpup_vf_cmd cmd = COPY(0x3000, 0x100000001ULL, 5);
	struct gpup_cmd out;

	gpup_vf_cmd_encode(&cmd, 7, &out);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(out.opcode), GPUP_CMD_COPY);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.dst), 0x3000);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.src), 0x100000001ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(out.len), 5);
}

/* The device keeps the low 32 bits of the sequence number, nothing else */
static void cmd_encode_fence_keeps_low_bits(struct kunit *test)
{
	struct gpup_vf_cmd cmd = FENCE;
	struct gpup_cmd out;

	memset(&out, 0xff, sizeof(out));
	gpup_vf_cmd_encode(&cmd, 0x123456789ULL, &out);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(out.opcode), GPUP_CMD_FENCE);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(out.value), 0x23456789);
	KUNIT_EXPECT_EQ(test, out.dst, 0);
	KUNIT_EXPECT_EQ(test, out.src, 0);
	KUNIT_EXPECT_EQ(test, out.len, 0);
}

static struct kunit_case gpup_vf_cmd_cases[] = {
	KUNIT_CASE_PARAM(cmd_check_matrix, check_gen_params),
	KUNIT_CASE(cmd_encode_fill),
	KUNIT_CASE(cmd_encode_copy),
	KUNIT_CASE(cmd_encode_fence_keeps_low_bits),
	{}
};

static struct kunit_suite gpup_vf_cmd_suite = {
	.name = "gpup_vf_cmd",
	.test_cases = gpup_vf_cmd_cases,
};

static void fence_expand_same_epoch(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(5, 9), 5);
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(9, 9), 9);
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(3, 0x500000009ULL),
			0x500000003ULL);
}

static void fence_expand_across_wrap(struct kunit *test)
{
	/* submitted just past 2^32, the device still at the epoch before */
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(0xfffffffe, 0x100000002ULL),
			0xfffffffeULL);
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(0, 0x100000002ULL),
			0x100000000ULL);
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(0xffffffff, 0x700000000ULL),
			0x6ffffffffULL);
}

static void fence_expand_ahead_of_submitted(struct kunit *test)
{
	/* a value no fence handed out can have: nothing */
	KUNIT_EXPECT_EQ(test, gpup_vf_fence_expand(7, 5), 0);
}

static void fences_signal_moves_forward_only(struct kunit *test)
{
	struct gpup_vf_fences *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	gpup_vf_fences_init(f, 1);
	f->submitted = 10;
	KUNIT_EXPECT_TRUE(test, gpup_vf_fences_signal(f, 4));
	KUNIT_EXPECT_EQ(test, f->completed, 4);
	KUNIT_EXPECT_FALSE(test, gpup_vf_fences_signal(f, 3));
	KUNIT_EXPECT_FALSE(test, gpup_vf_fences_signal(f, 0));	/* reset value */
	KUNIT_EXPECT_EQ(test, f->completed, 4);
	KUNIT_EXPECT_TRUE(test, gpup_vf_fences_signal(f, 10));
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 10), 0);
}

/* 2^32 fences, one at a time: expand follows submitted across the wrap */
static void fences_signal_across_wrap(struct kunit *test)
{
	struct gpup_vf_fences *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	u64 seqno;

	KUNIT_ASSERT_NOT_NULL(test, f);
	gpup_vf_fences_init(f, 0xfffffff0ULL);
	for (seqno = 0xfffffff0ULL; seqno < 0x100000010ULL; seqno += 3) {
		f->submitted = seqno + 2;
		KUNIT_EXPECT_TRUE(test, gpup_vf_fences_signal(f, lower_32_bits(seqno)));
		KUNIT_EXPECT_EQ(test, f->completed, seqno);
		KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, seqno + 1), -EBUSY);
	}
}

static void fences_status_never_handed_out(struct kunit *test)
{
	struct gpup_vf_fences *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	gpup_vf_fences_init(f, 100);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 99), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 100), -EINVAL);
	f->submitted = 100;
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 100), -EBUSY);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 101), -EINVAL);
}

static void fences_fail_in_flight_only(struct kunit *test)
{
	struct gpup_vf_fences *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	gpup_vf_fences_init(f, 1);
	f->submitted = 10;
	gpup_vf_fences_signal(f, 6);
	gpup_vf_fences_fail(f);
	KUNIT_EXPECT_EQ(test, f->completed, 10);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 6), 0);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 7), -EIO);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 10), -EIO);
	/* nothing in flight: nothing fails */
	gpup_vf_fences_fail(f);
	KUNIT_EXPECT_EQ(test, f->nr_failed, 1);
	f->submitted = 12;
	gpup_vf_fences_signal(f, 12);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 11), 0);
}

/* A full table merges its oldest ranges: false failures, never false success */
static void fences_fail_table_full(struct kunit *test)
{
	struct gpup_vf_fences *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	gpup_vf_fences_init(f, 1);
	/* range i fails fence 3i + 2; fence 3i + 1 signals */
	for (i = 0; i <= GPUP_VF_FAILED_RANGES; i++) {
		f->submitted = 3 * i + 1;
		gpup_vf_fences_signal(f, 3 * i + 1);
		f->submitted = 3 * i + 2;
		gpup_vf_fences_fail(f);
		f->submitted = 3 * i + 3;
		gpup_vf_fences_signal(f, 3 * i + 3);
	}
	KUNIT_EXPECT_EQ(test, f->nr_failed, GPUP_VF_FAILED_RANGES);
	for (i = 0; i <= GPUP_VF_FAILED_RANGES; i++)
		KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 3 * i + 2), -EIO);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 3), -EIO);	/* merged */
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 1), 0);
	KUNIT_EXPECT_EQ(test, gpup_vf_fences_status(f, 6), 0);
}

static struct kunit_case gpup_vf_fence_cases[] = {
	KUNIT_CASE(fence_expand_same_epoch),
	KUNIT_CASE(fence_expand_across_wrap),
	KUNIT_CASE(fence_expand_ahead_of_submitted),
	KUNIT_CASE(fences_signal_moves_forward_only),
	KUNIT_CASE(fences_signal_across_wrap),
	KUNIT_CASE(fences_status_never_handed_out),
	KUNIT_CASE(fences_fail_in_flight_only),
	KUNIT_CASE(fences_fail_table_full),
	{}
};

static struct kunit_suite gpup_vf_fence_suite = {
	.name = "gpup_vf_fence",
	.test_cases = gpup_vf_fence_cases,
};

kunit_test_suites(&gpup_vf_ring_suite, &gpup_vf_cmd_suite, &gpup_vf_fence_suite);
