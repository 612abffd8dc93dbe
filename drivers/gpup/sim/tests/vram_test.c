// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of VRAM backing, access and dirty tracking */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sizes.h>

#include "../gpup_sim.h"

#define VRAM	SZ_1M

static void vram_exit(void *data)
{
	gpup_vram_destroy(data);
}

static struct gpup_vram *new_vram(struct kunit *test)
{
	struct gpup_vram *vram = kunit_kzalloc(test, sizeof(*vram), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, vram);
	KUNIT_ASSERT_EQ(test, gpup_vram_init(vram, VRAM), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vram_exit, vram), 0);
	return vram;
}

/* A bitmap of a bit per page of the test VRAM */
static unsigned long *new_bitmap(struct kunit *test)
{
	unsigned long *bitmap = kunit_kcalloc(test, BITS_TO_LONGS(VRAM / SZ_4K),
					      sizeof(long), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, bitmap);
	return bitmap;
}

static void vram_reads_zero_without_allocating(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	u8 *buf = kunit_kmalloc(test, SZ_8K, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xaa, SZ_8K);
	KUNIT_EXPECT_EQ(test, gpup_vram_read(vram, 0x800, buf, SZ_8K), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, SZ_8K));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vram->allocated), 0);
}

static void vram_write_read_across_pages(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	u8 in[100], out[100];
	unsigned int i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = i + 1;
	KUNIT_EXPECT_EQ(test, gpup_vram_write(vram, SZ_4K - 50, in, sizeof(in)), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vram->allocated), 2);
	KUNIT_EXPECT_EQ(test, gpup_vram_read(vram, SZ_4K - 50, out, sizeof(out)), 0);
	KUNIT_EXPECT_MEMEQ(test, in, out, sizeof(in));
}

static void vram_rejects_out_of_range(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	u8 buf[8];

	KUNIT_EXPECT_EQ(test, gpup_vram_read(vram, VRAM - 4, buf, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vram_write(vram, VRAM, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vram_write(vram, ~0ULL - 2, buf, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vram_fill32(vram, 0, VRAM + 4, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_vram_copy(vram, 0, VRAM - 4, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vram->allocated), 0);
}

static void vram_fill_and_copy(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	__le32 words[4];

	KUNIT_ASSERT_EQ(test, gpup_vram_fill32(vram, SZ_4K - 8, 16, 0x11223344), 0);
	KUNIT_ASSERT_EQ(test, gpup_vram_copy(vram, SZ_64K + 2, SZ_4K - 8, 16), 0);
	KUNIT_ASSERT_EQ(test, gpup_vram_read(vram, SZ_64K + 2, words, 16), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(words[0]), 0x11223344);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(words[3]), 0x11223344);
	KUNIT_ASSERT_EQ(test, gpup_vram_read(vram, SZ_4K - 12, words, 4), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(words[0]), 0);
}

static void vram_dirty_harvest_rearms(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	unsigned long *bitmap = new_bitmap(test);
	u32 v = 1;

	gpup_vram_write(vram, 3 * SZ_4K, &v, sizeof(v));
	gpup_vram_fill32(vram, 10 * SZ_4K, 2 * SZ_4K, 5);
	KUNIT_EXPECT_EQ(test, gpup_vram_dirty_harvest(vram, bitmap), 3);
	KUNIT_EXPECT_TRUE(test, test_bit(3, bitmap));
	KUNIT_EXPECT_TRUE(test, test_bit(10, bitmap));
	KUNIT_EXPECT_TRUE(test, test_bit(11, bitmap));
	KUNIT_EXPECT_FALSE(test, test_bit(4, bitmap));
	/* reads do not dirty; a second harvest only sees new writes */
	gpup_vram_read(vram, 0, &v, sizeof(v));
	KUNIT_EXPECT_EQ(test, gpup_vram_dirty_harvest(vram, bitmap), 0);
	gpup_vram_write(vram, 11 * SZ_4K + 8, &v, sizeof(v));
	KUNIT_EXPECT_EQ(test, gpup_vram_dirty_harvest(vram, bitmap), 1);
	KUNIT_EXPECT_TRUE(test, test_bit(11, bitmap));
}

static void vram_checksum_follows_contents(struct kunit *test)
{
	struct gpup_vram *a = new_vram(test), *b = new_vram(test);
	u32 zero = 0, one = 1;

	KUNIT_EXPECT_EQ(test, gpup_vram_checksum(a), gpup_vram_checksum(b));
	/* an allocated page of zeros is the same as an absent page */
	gpup_vram_write(b, SZ_8K, &zero, sizeof(zero));
	KUNIT_EXPECT_EQ(test, gpup_vram_checksum(a), gpup_vram_checksum(b));
	gpup_vram_write(a, SZ_8K, &one, sizeof(one));
	KUNIT_EXPECT_NE(test, gpup_vram_checksum(a), gpup_vram_checksum(b));
	/* same data at another page differs */
	gpup_vram_write(b, SZ_4K, &one, sizeof(one));
	KUNIT_EXPECT_NE(test, gpup_vram_checksum(a), gpup_vram_checksum(b));
	gpup_vram_write(b, SZ_8K, &one, sizeof(one));
	gpup_vram_write(b, SZ_4K, &zero, sizeof(zero));
	KUNIT_EXPECT_EQ(test, gpup_vram_checksum(a), gpup_vram_checksum(b));
}

static void vram_clear_frees_everything(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	u32 v = 0x5a5a5a5a;

	gpup_vram_fill32(vram, 0, VRAM, 7);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vram->allocated), VRAM / SZ_4K);
	gpup_vram_clear(vram, false);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vram->allocated), 0);
	KUNIT_EXPECT_EQ(test, gpup_vram_read(vram, 0x100, &v, sizeof(v)), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
	KUNIT_EXPECT_EQ(test, bitmap_weight(vram->dirty, vram->npages), 0);
}

/* A reset the guest asks for mid-migration must resend the zeroed pages */
static void vram_clear_marks_freed_pages_dirty(struct kunit *test)
{
	struct gpup_vram *vram = new_vram(test);
	unsigned long *bitmap = new_bitmap(test);
	u32 v = 9;

	gpup_vram_write(vram, 5 * SZ_4K, &v, sizeof(v));
	gpup_vram_write(vram, 9 * SZ_4K, &v, sizeof(v));
	gpup_vram_dirty_arm(vram);
	gpup_vram_clear(vram, true);
	KUNIT_EXPECT_EQ(test, gpup_vram_dirty_harvest(vram, bitmap), 2);
	KUNIT_EXPECT_TRUE(test, test_bit(5, bitmap) && test_bit(9, bitmap));
	KUNIT_EXPECT_EQ(test, gpup_vram_populated(vram, bitmap), 0);
}

static struct kunit_case gpup_vram_cases[] = {
	KUNIT_CASE(vram_reads_zero_without_allocating),
	KUNIT_CASE(vram_write_read_across_pages),
	KUNIT_CASE(vram_rejects_out_of_range),
	KUNIT_CASE(vram_fill_and_copy),
	KUNIT_CASE(vram_dirty_harvest_rearms),
	KUNIT_CASE(vram_checksum_follows_contents),
	KUNIT_CASE(vram_clear_frees_everything),
	KUNIT_CASE(vram_clear_marks_freed_pages_dirty),
	{}
};

static struct kunit_suite gpup_vram_suite = {
	.name = "gpup_vram",
	.test_cases = gpup_vram_cases,
};

kunit_test_suite(gpup_vram_suite);
