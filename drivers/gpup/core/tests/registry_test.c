// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the registry of parents and VFs behind the management
 * interface: ids, counts, and what registration refuses.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../gpup_nl.h"

static void fake_vram(struct gpup_parent *parent, u64 *total, u64 *free)
{
	*total = SZ_1G;
	*free = SZ_1G;
}

static int fake_profile(struct gpup_parent *parent, unsigned int idx,
			struct gpup_profile_info *info)
{
	return -ENOENT;
}

static const struct gpup_parent_ops fake_parent_ops = {
	.vram = fake_vram,
	.profile = fake_profile,
};

static void fake_info(struct gpup_mig *mig, struct gpup_vf_info *info)
{
}

static const struct gpup_mig_ops fake_vf_ops = { .info = fake_info, };
static const struct gpup_mig_ops fake_vf_ops_no_info = {};

static struct gpup_parent *new_parent(struct kunit *test)
{
	struct gpup_parent *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->dev = kunit_device_register(test, "gpup-registry-test");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p->dev);
	p->driver = "fake";
	p->ops = &fake_parent_ops;
	return p;
}

static void registry_parent_needs_ops(struct kunit *test)
{
	struct gpup_parent *p = new_parent(test);

	p->ops = NULL;
	KUNIT_EXPECT_EQ(test, gpup_parent_register(p), -EINVAL);
	KUNIT_EXPECT_EQ(test, p->id, 0);
}

static void registry_ids_are_not_reused_at_once(struct kunit *test)
{
	struct gpup_parent *p = new_parent(test);
	struct gpup_mig *a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	struct gpup_mig *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	u32 first;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	a->ops = &fake_vf_ops;
	b->ops = &fake_vf_ops;
	KUNIT_ASSERT_EQ(test, gpup_parent_register(p), 0);
	KUNIT_EXPECT_GT(test, p->id, 0);

	KUNIT_ASSERT_EQ(test, gpup_mig_register(a, p), 0);
	first = a->id;
	KUNIT_EXPECT_GT(test, first, 0);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&gpup_vfs, first), a);
	KUNIT_EXPECT_EQ(test, p->vfs, 1);
	gpup_mig_unregister(a);
	KUNIT_EXPECT_EQ(test, a->id, 0);
	KUNIT_EXPECT_NULL(test, xa_load(&gpup_vfs, first));
	KUNIT_EXPECT_EQ(test, p->vfs, 0);

	/* the next VF gets a new id, not the one that just went away */
	KUNIT_ASSERT_EQ(test, gpup_mig_register(b, p), 0);
	KUNIT_EXPECT_NE(test, b->id, first);
	gpup_mig_unregister(b);
	gpup_mig_unregister(b);		/* twice is harmless */
	gpup_parent_unregister(p);
	KUNIT_EXPECT_EQ(test, p->id, 0);
}

static void registry_vf_refusals(struct kunit *test)
{
	struct gpup_parent *p = new_parent(test);
	struct gpup_mig *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->ops = &fake_vf_ops;
	/* a parent that is not registered has no VFs */
	KUNIT_EXPECT_EQ(test, gpup_mig_register(m, p), -ENODEV);
	KUNIT_EXPECT_EQ(test, m->id, 0);

	KUNIT_ASSERT_EQ(test, gpup_parent_register(p), 0);
	m->ops = &fake_vf_ops_no_info;
	KUNIT_EXPECT_EQ(test, gpup_mig_register(m, p), -EINVAL);
	KUNIT_EXPECT_EQ(test, p->vfs, 0);
	gpup_parent_unregister(p);
}

static struct kunit_case gpup_registry_cases[] = {
	KUNIT_CASE(registry_parent_needs_ops),
	KUNIT_CASE(registry_ids_are_not_reused_at_once),
	KUNIT_CASE(registry_vf_refusals),
	{}
};

static struct kunit_suite gpup_registry_suite = {
	.name = "gpup_registry",
	.test_cases = gpup_registry_cases,
};

kunit_test_suite(gpup_registry_suite);
