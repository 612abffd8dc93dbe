// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of crc.c: its CRC-32C, by tables and by the CRC32
 * instruction, against the kernel's crc32c(), and the copy to the user
 * that computes it on the way.
 */
#include <kunit/test.h>
#include <linux/crc32c.h>
#include <linux/mman.h>
#include <linux/uaccess.h>

#include "../gpup_mig.h"

#define BUF_LEN		600

static u8 *pattern(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL);
	u32 x = 0x12345678;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;	/* any bytes, all 256 values */
		buf[i] = x >> 24;
	}
	return buf;
}

/* Each case runs with both ways of computing the CRC, as far as the CPU has them */
static const bool crc_ways[] = { false, true };

static void crc_way_desc(const bool *insn, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", *insn ? "insn" : "tables");
}

KUNIT_ARRAY_PARAM(crc_way, crc_ways, crc_way_desc);

static void crc_way_restore(void *was)
{
	gpup_crc_use_insn((uintptr_t)was);
}

static void crc_select_way(struct kunit *test)
{
	bool insn = *(const bool *)test->param_value;
	int was = gpup_crc_use_insn(insn);

	if (was < 0)
		kunit_skip(test, "no CRC32 instruction on this CPU");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, crc_way_restore,
							(void *)(uintptr_t)was), 0);
}

static void crc_check_value(struct kunit *test)
{
	crc_select_way(test);
	/* the CRC-32C check value, as the stream specification states it */
	KUNIT_EXPECT_EQ(test, ~gpup_crc(~0U, "123456789", 9), 0xe3069283U);
}

static void crc_matches_crc32c(struct kunit *test)
{
	u8 *buf = pattern(test, BUF_LEN);
	size_t off, len;

	crc_select_way(test);
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= BUF_LEN; len += len < 64 ? 1 : 61)
			KUNIT_EXPECT_EQ_MSG(test, gpup_crc(0xabcdef01, buf + off, len),
					    crc32c(0xabcdef01, buf + off, len),
					    "offset %zu length %zu", off, len);
}

/* A user mapping of @pages pages for this test's own mm */
static u8 __user *user_buf(struct kunit *test, size_t pages)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(addr))
		kunit_skip(test, "no user memory for this test");
	return (u8 __user *)addr;
}

static void crc_copy_to_user_same_bytes(struct kunit *test)
{
	u8 *src = pattern(test, BUF_LEN);
	u8 *back = kunit_kzalloc(test, BUF_LEN, GFP_KERNEL);
	u8 __user *user = user_buf(test, 1);
	size_t soff, doff, len;
	u32 crc;

	KUNIT_ASSERT_NOT_NULL(test, back);
	crc_select_way(test);
	for (soff = 0; soff < 8; soff++)
		for (doff = 0; doff < 8; doff += 3)
			for (len = 0; len + soff <= BUF_LEN - 8; len += len < 32 ? 1 : 37) {
				crc = 0x5a5a5a5a;
				KUNIT_ASSERT_EQ(test, gpup_crc_copy_to_user(user + doff,
									    src + soff,
									    len, &crc), 0);
				KUNIT_ASSERT_EQ(test, copy_from_user(back, user + doff, len), 0);
				KUNIT_EXPECT_MEMEQ(test, back, src + soff, len);
				KUNIT_EXPECT_EQ_MSG(test, crc, crc32c(0x5a5a5a5a, src + soff, len),
						    "source offset %zu length %zu", soff, len);
			}
}

/* A fault leaves the running CRC as it was, so the copy can be retried */
static void crc_copy_to_user_fault_keeps_crc(struct kunit *test)
{
	u8 *src = pattern(test, BUF_LEN);
	u8 __user *user = user_buf(test, 1);
	u32 crc = 0x1234;

	crc_select_way(test);
	/* past the end of the mapping: the first bytes land, then a fault */
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(user + PAGE_SIZE - 40, src, 100, &crc),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, crc, 0x1234U);
	/* not a user address at all */
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user((__force void __user *)src, src, 8, &crc),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, crc, 0x1234U);
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(user + PAGE_SIZE - 40, src, 40, &crc), 0);
	KUNIT_EXPECT_EQ(test, crc, crc32c(0x1234, src, 40));
}

static struct kunit_case gpup_crc_cases[] = {
	KUNIT_CASE_PARAM(crc_check_value, crc_way_gen_params),
	KUNIT_CASE_PARAM(crc_matches_crc32c, crc_way_gen_params),
	KUNIT_CASE_PARAM(crc_copy_to_user_same_bytes, crc_way_gen_params),
	KUNIT_CASE_PARAM(crc_copy_to_user_fault_keeps_crc, crc_way_gen_params),
	{}
};

static struct kunit_suite gpup_crc_suite = {
	.name = "gpup_crc",
	.test_cases = gpup_crc_cases,
};

kunit_test_suite(gpup_crc_suite);
