// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of crc.c: the CRC-32C it takes from crc32c(), and the copy to
 * the user that sums what it copies.
 */
#include <kunit/test.h>
#include <linux/crc32c.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>

#include "../gpup_mig.h"

#define USER_PAGES	4
#define SRC_LEN		(3 * GPUP_MIG_PAGE_SIZE + 64)

/* Any bytes, all 256 values, the same on every run */
static u32 next_rnd(u32 *x)
{
	*x = *x * 1103515245 + 12345;
	return *x >> 8;
}

static u8 *pattern(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL);
	u32 x = 0x12345678;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < len; i++)
		buf[i] = next_rnd(&x) >> 16;
	return buf;
}

/* A user mapping of @pages pages for this test's own mm, not yet touched */
static u8 __user *user_buf(struct kunit *test, size_t pages)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(addr))
		kunit_skip(test, "no user memory for this test");
	return (u8 __user *)addr;
}

/* The same, its pages present: the copy does not fault pages in */
static u8 __user *user_buf_present(struct kunit *test, size_t pages)
{
	u8 __user *user = user_buf(test, pages);

	KUNIT_ASSERT_EQ(test, clear_user(user, pages * PAGE_SIZE), 0);
	return user;
}

/* Known answers: the CRC-32C (seeded with ~0, inverted) of 9 and of 32 bytes */
static const struct {
	const char *name;
	u8 data[32];
	size_t len;
	u32 crc;
} crc_vectors[] = {
	{ "check value", "123456789", 9, 0xe3069283 },
	{ "32 zeros", {}, 32, 0x8a9136aa },
	{ "32 x 0xff", { [0 ... 31] = 0xff }, 32, 0x62a8ab43 },
	{ "0 .. 31", { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
		       19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 }, 32, 0x46dd794e },
	{ "31 .. 0", { 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15,
		       14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 }, 32, 0x113fdb5c },
};

static void crc_known_answers(struct kunit *test)
{
	u8 __user *user = user_buf_present(test, 1);
	unsigned int i;
	u32 crc;

	for (i = 0; i < ARRAY_SIZE(crc_vectors); i++) {
		KUNIT_EXPECT_EQ_MSG(test, ~gpup_crc(~0U, crc_vectors[i].data, crc_vectors[i].len),
				    crc_vectors[i].crc, "%s", crc_vectors[i].name);
		crc = ~0U;
		KUNIT_ASSERT_EQ(test, gpup_crc_copy_to_user(user, crc_vectors[i].data,
							    crc_vectors[i].len, &crc), 0);
		KUNIT_EXPECT_EQ_MSG(test, ~crc, crc_vectors[i].crc, "%s, copied",
				    crc_vectors[i].name);
	}
}

/*
 * Lengths and alignments drawn at random, up to three pages: the bytes the
 * user gets are the source's, and the CRC is crc32c() of them, whatever
 * the pieces the copy takes.
 */
static void crc_copy_to_user_same_bytes(struct kunit *test)
{
	u8 *src = pattern(test, SRC_LEN);
	u8 *back = kunit_kzalloc(test, SRC_LEN, GFP_KERNEL);
	u8 __user *user = user_buf_present(test, USER_PAGES);
	size_t soff, doff, len;
	u32 x = 0xc0ffee, seed, crc;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, back);
	for (i = 0; i < 300; i++) {
		soff = next_rnd(&x) % 64;
		doff = next_rnd(&x) % 64;
		/* short ones often: the pieces' ends at every alignment */
		len = next_rnd(&x) % (i % 3 ? 3 * GPUP_MIG_PAGE_SIZE : 80);
		seed = next_rnd(&x);
		crc = seed;
		KUNIT_ASSERT_EQ(test, gpup_crc_copy_to_user(user + doff, src + soff, len, &crc),
				0);
		KUNIT_ASSERT_EQ(test, copy_from_user(back, user + doff, len), 0);
		KUNIT_EXPECT_MEMEQ(test, back, src + soff, len);
		KUNIT_EXPECT_EQ_MSG(test, crc, crc32c(seed, src + soff, len),
				    "source offset %zu user offset %zu length %zu", soff, doff,
				    len);
	}
}

/* A failed copy leaves the running CRC as it was, so it can be retried */
static void crc_copy_to_user_fault_keeps_crc(struct kunit *test)
{
	u8 *src = pattern(test, SRC_LEN);
	u8 __user *user = user_buf_present(test, 1);
	u8 __user *fresh;
	u32 crc = 0x1234;

	/* past the end of the mapping: the first bytes may land, then a fault */
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(user + PAGE_SIZE - 40, src, 100, &crc),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, crc, 0x1234U);
	/* not a user address at all */
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user((__force void __user *)src, src, 8, &crc),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, crc, 0x1234U);
	/* mapped but not present: the caller faults it in, then copies again */
	fresh = user_buf(test, 1);
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(fresh, src, 64, &crc), -EFAULT);
	KUNIT_EXPECT_EQ(test, crc, 0x1234U);
	KUNIT_ASSERT_EQ(test, fault_in_writeable((char __user *)fresh, 64), 0);
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(fresh, src, 64, &crc), 0);
	KUNIT_EXPECT_EQ(test, crc, crc32c(0x1234, src, 64));

	crc = 0x1234;
	KUNIT_EXPECT_EQ(test, gpup_crc_copy_to_user(user + PAGE_SIZE - 40, src, 40, &crc), 0);
	KUNIT_EXPECT_EQ(test, crc, crc32c(0x1234, src, 40));
}

static struct kunit_case gpup_crc_cases[] = {
	KUNIT_CASE(crc_known_answers),
	KUNIT_CASE(crc_copy_to_user_same_bytes),
	KUNIT_CASE(crc_copy_to_user_fault_keeps_crc),
	{}
};

static struct kunit_suite gpup_crc_suite = {
	.name = "gpup_crc",
	.test_cases = gpup_crc_cases,
};

kunit_test_suite(gpup_crc_suite);
