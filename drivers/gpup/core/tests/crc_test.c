// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of crc.c: the table-driven CRC-32C against the kernel's
 * crc32c(), and the copy to the user that computes it on the way.
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

static void crc_check_value(struct kunit *test)
{
	/* the CRC-32C check value, as the stream specification states it */
	KUNIT_EXPECT_EQ(test, ~gpup_crc(~0U, "123456789", 9), 0xe3069283U);
}

static void crc_matches_crc32c(struct kunit *test)
{
	u8 *buf = pattern(test, BUF_LEN);
	size_t off, len;

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
	KUNIT_CASE(crc_check_value),
	KUNIT_CASE(crc_matches_crc32c),
	KUNIT_CASE(crc_copy_to_user_same_bytes),
	KUNIT_CASE(crc_copy_to_user_fault_keeps_crc),
	{}
};

static struct kunit_suite gpup_crc_suite = {
	.name = "gpup_crc",
	.test_cases = gpup_crc_cases,
};

kunit_test_suite(gpup_crc_suite);
