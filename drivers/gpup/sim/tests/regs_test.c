// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of the BAR0 register decode */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../gpup_sim.h"

static const struct gpup_profile test_profile = {
	.id = GPUP_PROFILE_LARGE, .name = "large",
	.vram_size = SZ_1G, .engines = 4,
};

static void regs_access_must_be_aligned_dwords(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REG_SCRATCH0, 4), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REGS_SIZE - 4, 4), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REG_SCRATCH0, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REG_SCRATCH0, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REG_SCRATCH0 + 1, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(GPUP_REGS_SIZE, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_regs_check_access(U64_MAX - 3, 4), -EINVAL);
}

static const char *state_fault(struct gpup_regs regs)
{
	const char *field = NULL;

	return gpup_regs_check_state(&regs, &field) ? field : "ok";
}

static void regs_check_state_refuses_impossible_states(struct kunit *test)
{
	struct gpup_regs r = {
		.ctrl = GPUP_CTRL_ENGINE_ENABLE, .int_mask = GPUP_INT_ALL,
		.ring_base = 0x1000, .ring_size = 0x1000, .ring_head = 0x40,
		.ring_tail = 0x44,	/* the guest's to write, however wrong */
		.fence_count = 9, .cmd_count = 3,	/* both wrap */
	}, h = r;

	h.status = GPUP_STATUS_HALTED;
	h.error = GPUP_ERR_BOUNDS;
	h.error_head = 0x20;
	h.int_status = GPUP_INT_ERROR;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "ok");
	KUNIT_EXPECT_STREQ(test, state_fault(h), "ok");

	r.ctrl = GPUP_CTRL_RESET;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "ctrl");
	r.ctrl = 0;
	r.status = GPUP_STATUS_BUSY;	/* derived, never stored */
	KUNIT_EXPECT_STREQ(test, state_fault(r), "status");
	r.status = GPUP_STATUS_HALTED;	/* halted with no error */
	KUNIT_EXPECT_STREQ(test, state_fault(r), "error");
	r.status = 0;
	r.error = GPUP_ERR_RING;	/* an error, not halted */
	KUNIT_EXPECT_STREQ(test, state_fault(r), "error");
	r.error = 0;
	r.error_head = 0x20;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "error_head");
	r.error_head = 0;
	r.int_status = GPUP_INT_ERROR;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "int_status");
	r.int_status = 0;
	r.ring_head = 0x8;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "ring_head");
	r.ring_head = GPUP_RING_MAX_SIZE;
	KUNIT_EXPECT_STREQ(test, state_fault(r), "ring_head");

	h.error = 0xdeadbeef;
	KUNIT_EXPECT_STREQ(test, state_fault(h), "error");
	h.error = GPUP_ERR_RING;
	h.error_head = GPUP_RING_MAX_SIZE;
	KUNIT_EXPECT_STREQ(test, state_fault(h), "error_head");
	h.error_head = 0x30;
	KUNIT_EXPECT_STREQ(test, state_fault(h), "error_head");
	h.error_head = 0;
	h.int_mask = 0x100;
	KUNIT_EXPECT_STREQ(test, state_fault(h), "int_mask");
}

static void regs_identity_from_profile(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_ID),
			GPUP_ID_MAGIC);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_PROFILE),
			GPUP_PROFILE_LARGE);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile,
					     GPUP_REG_VRAM_SIZE_LO), SZ_1G);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile,
					     GPUP_REG_VRAM_SIZE_HI), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_ENGINES), 4);
}

static void regs_read_only_writes_dropped(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_ID, 0), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_RING_HEAD, 0x40), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_FENCE, 7), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_ID),
			GPUP_ID_MAGIC);
	KUNIT_EXPECT_EQ(test, regs.ring_head, 0);
	KUNIT_EXPECT_EQ(test, regs.fence, 0);
	/* reserved offsets read as zero */
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, 0x800, 5), 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, 0x800), 0);
}

static void regs_scratch_and_ring_base(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	gpup_regs_write(&regs, GPUP_REG_SCRATCH3, 0xcafef00d);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_SCRATCH3),
			0xcafef00d);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_SCRATCH0), 0);
	gpup_regs_write(&regs, GPUP_REG_RING_BASE_LO, 0x2000);
	gpup_regs_write(&regs, GPUP_REG_RING_BASE_HI, 0x1);
	KUNIT_EXPECT_EQ(test, regs.ring_base, 0x100002000ULL);
	gpup_regs_write(&regs, GPUP_REG_RING_BASE_LO, 0x3000);
	KUNIT_EXPECT_EQ(test, regs.ring_base, 0x100003000ULL);
}

static void regs_int_status_is_write_one_to_clear(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	regs.int_status = GPUP_INT_FENCE | GPUP_INT_ERROR;
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_STATUS,
					      GPUP_INT_FENCE), GPUP_REG_ACT_IRQ);
	KUNIT_EXPECT_EQ(test, regs.int_status, GPUP_INT_ERROR);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, ~0U),
			GPUP_REG_ACT_IRQ | GPUP_REG_ACT_EDGE);
	KUNIT_EXPECT_EQ(test, regs.int_mask, GPUP_INT_ALL);
}

/* Unmasking a pending cause interrupts; unmasking anything else does not */
static void regs_unmask_pending_is_an_edge(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, GPUP_INT_ALL),
			GPUP_REG_ACT_IRQ);
	regs.int_status = GPUP_INT_FENCE;
	/* already enabled: the edge went out when it was raised */
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, GPUP_INT_ALL),
			GPUP_REG_ACT_IRQ);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, 0),
			GPUP_REG_ACT_IRQ);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, GPUP_INT_ERROR),
			GPUP_REG_ACT_IRQ);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, GPUP_INT_ALL),
			GPUP_REG_ACT_IRQ | GPUP_REG_ACT_EDGE);
	/* bits beyond the causes never count */
	regs.int_mask = 0;
	regs.int_status = 0;
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_INT_MASK, ~0U),
			GPUP_REG_ACT_IRQ);
}

static void regs_ctrl_actions(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_CTRL, ~0U),
			GPUP_REG_ACT_RESET);
	KUNIT_EXPECT_EQ(test, regs.ctrl, 0);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_CTRL,
					      GPUP_CTRL_ENGINE_ENABLE | 0x10),
			GPUP_REG_ACT_KICK);
	KUNIT_EXPECT_EQ(test, regs.ctrl, GPUP_CTRL_ENGINE_ENABLE);
	KUNIT_EXPECT_EQ(test, gpup_regs_write(&regs, GPUP_REG_DOORBELL, 1),
			GPUP_REG_ACT_KICK);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_DOORBELL), 0);
}

static void regs_busy_follows_ring(struct kunit *test)
{
	struct gpup_regs regs;

	gpup_regs_init(&regs);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_STATUS), 0);
	gpup_regs_write(&regs, GPUP_REG_RING_TAIL, 0x20);
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_STATUS),
			GPUP_STATUS_BUSY);
	regs.status = GPUP_STATUS_HALTED;
	KUNIT_EXPECT_EQ(test, gpup_regs_read(&regs, &test_profile, GPUP_REG_STATUS),
			GPUP_STATUS_HALTED);
}

static struct kunit_case gpup_regs_cases[] = {
	KUNIT_CASE(regs_check_state_refuses_impossible_states),
	KUNIT_CASE(regs_access_must_be_aligned_dwords),
	KUNIT_CASE(regs_identity_from_profile),
	KUNIT_CASE(regs_read_only_writes_dropped),
	KUNIT_CASE(regs_scratch_and_ring_base),
	KUNIT_CASE(regs_int_status_is_write_one_to_clear),
	KUNIT_CASE(regs_unmask_pending_is_an_edge),
	KUNIT_CASE(regs_ctrl_actions),
	KUNIT_CASE(regs_busy_follows_ring),
	{}
};

static struct kunit_suite gpup_regs_suite = {
	.name = "gpup_regs",
	.test_cases = gpup_regs_cases,
};

kunit_test_suite(gpup_regs_suite);
