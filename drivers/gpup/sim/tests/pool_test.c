// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of the VRAM pool accounting */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../gpup_sim.h"

static void pool_reserve_until_full(struct kunit *test)
{
	struct gpup_pool pool;

	gpup_pool_init(&pool, SZ_256M);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_64M), 4);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, SZ_64M), 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, SZ_128M), 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_64M), 1);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_128M), 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, SZ_64M), 0);
	KUNIT_EXPECT_EQ(test, pool.used, (u64)SZ_256M);
}

static void pool_rejects_overcommit(struct kunit *test)
{
	struct gpup_pool pool;

	gpup_pool_init(&pool, SZ_256M);
	KUNIT_ASSERT_EQ(test, gpup_pool_reserve(&pool, SZ_128M), 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, SZ_256M), -ENOSPC);
	KUNIT_EXPECT_EQ(test, pool.used, (u64)SZ_128M);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, SZ_1G), -ENOSPC);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_1G), 0);
}

static void pool_release_returns_capacity(struct kunit *test)
{
	struct gpup_pool pool;

	gpup_pool_init(&pool, SZ_128M);
	KUNIT_ASSERT_EQ(test, gpup_pool_reserve(&pool, SZ_128M), 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_64M), 0);
	gpup_pool_release(&pool, SZ_128M);
	KUNIT_EXPECT_EQ(test, pool.used, 0);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, SZ_64M), 2);
}

static void pool_rejects_zero_size(struct kunit *test)
{
	struct gpup_pool pool;

	gpup_pool_init(&pool, SZ_128M);
	KUNIT_EXPECT_EQ(test, gpup_pool_reserve(&pool, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_pool_available(&pool, 0), 0);
}

static struct kunit_case gpup_pool_cases[] = {
	KUNIT_CASE(pool_reserve_until_full),
	KUNIT_CASE(pool_rejects_overcommit),
	KUNIT_CASE(pool_release_returns_capacity),
	KUNIT_CASE(pool_rejects_zero_size),
	{}
};

static struct kunit_suite gpup_pool_suite = {
	.name = "gpup_pool",
	.test_cases = gpup_pool_cases,
};

kunit_test_suite(gpup_pool_suite);
