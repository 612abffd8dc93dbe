// SPDX-License-Identifier: GPL-2.0-only
/* KUnit tests of the PCI config space emulation */
#include <kunit/test.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>

#include "../gpup_sim.h"

static const struct gpup_profile test_profile = {
	.id = GPUP_PROFILE_MEDIUM, .name = "medium",
	.vram_size = SZ_256M, .engines = 2,
};

static u32 cfg_rd(struct kunit *test, struct gpup_cfg *cfg, unsigned int off,
		  unsigned int len)
{
	u32 val = 0;

	KUNIT_ASSERT_EQ(test, gpup_cfg_read(cfg, off, &val, len), 0);
	return le32_to_cpu((__force __le32)val);
}

static void cfg_wr32(struct kunit *test, struct gpup_cfg *cfg, unsigned int off,
		     u32 val)
{
	__le32 le = cpu_to_le32(val);

	KUNIT_ASSERT_EQ(test, gpup_cfg_write(cfg, off, &le, 4), 0);
}

static struct gpup_cfg *new_cfg(struct kunit *test)
{
	struct gpup_cfg *cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, cfg);
	gpup_cfg_init(cfg, &test_profile);
	return cfg;
}

static void cfg_reports_identity(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);

	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_VENDOR_ID, 2), GPUP_PCI_VENDOR_ID);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_DEVICE_ID, 2), GPUP_PCI_DEVICE_ID);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_CLASS_REVISION, 4) >> 8,
			GPUP_PCI_CLASS);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_SUBSYSTEM_ID, 2),
			GPUP_PROFILE_MEDIUM);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_HEADER_TYPE, 1), 0);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_INTERRUPT_PIN, 1), 1);
}

static void cfg_identity_is_read_only(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);

	cfg_wr32(test, cfg, PCI_VENDOR_ID, 0xdeadbeef);
	cfg_wr32(test, cfg, PCI_CLASS_REVISION, 0);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_VENDOR_ID, 2), GPUP_PCI_VENDOR_ID);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_DEVICE_ID, 2), GPUP_PCI_DEVICE_ID);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_CLASS_REVISION, 4) >> 8,
			GPUP_PCI_CLASS);
}

static void cfg_bar0_sizes_as_32bit_mmio(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);

	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_0, 0xffffffff);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_0, 4),
			~(u32)(GPUP_REGS_SIZE - 1));
	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_0, 0xfe012345);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_0, 4), 0xfe010000);
	/* BAR1 is not implemented */
	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_1, 0xffffffff);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_1, 4), 0);
}

static void cfg_bar2_sizes_as_64bit_prefetch(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);
	u32 flags = PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;

	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_2, 0xffffffff);
	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_3, 0xffffffff);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_2, 4),
			~(u32)(SZ_256M - 1) | flags);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_2, 0x30000000);
	cfg_wr32(test, cfg, PCI_BASE_ADDRESS_3, 0x1);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_2, 4),
			0x30000000 | flags);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_BASE_ADDRESS_3, 4), 1);
}

static void cfg_command_keeps_only_writable_bits(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);

	cfg_wr32(test, cfg, PCI_COMMAND, 0xffff);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_COMMAND, 2),
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE);
	KUNIT_EXPECT_TRUE(test, gpup_cfg_intx_disabled(cfg));
	/* the status half of the dword is read-only */
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
}

static void cfg_msi_capability(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);
	unsigned int msi = cfg_rd(test, cfg, PCI_CAPABILITY_LIST, 1);

	KUNIT_ASSERT_EQ(test, msi, GPUP_CFG_MSI_CAP);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, msi + PCI_CAP_LIST_ID, 1),
			PCI_CAP_ID_MSI);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, msi + PCI_CAP_LIST_NEXT, 1), 0);
	/* enable sticks; multiple-message enable does not (one vector) */
	cfg_wr32(test, cfg, msi, 0xffff0000);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, msi + PCI_MSI_FLAGS, 2),
			PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE);
	cfg_wr32(test, cfg, msi + PCI_MSI_ADDRESS_LO, 0xfee00003);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, msi + PCI_MSI_ADDRESS_LO, 4),
			0xfee00000);
}

static void cfg_rejects_out_of_range(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);
	u8 buf[GPUP_CFG_SIZE];

	KUNIT_EXPECT_EQ(test, gpup_cfg_read(cfg, GPUP_CFG_SIZE - 1, buf, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_cfg_read(cfg, GPUP_CFG_SIZE, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_cfg_read(cfg, 0, buf, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_cfg_write(cfg, 0x100, buf, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_cfg_read(cfg, 0, buf, GPUP_CFG_SIZE), 0);
	KUNIT_EXPECT_EQ(test, buf[0], GPUP_PCI_VENDOR_ID & 0xff);
}

static void cfg_intx_pending_in_status(struct kunit *test)
{
	struct gpup_cfg *cfg = new_cfg(test);

	gpup_cfg_set_intx_pending(cfg, true);
	KUNIT_EXPECT_TRUE(test, cfg_rd(test, cfg, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	gpup_cfg_set_intx_pending(cfg, false);
	KUNIT_EXPECT_EQ(test, cfg_rd(test, cfg, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
}

static struct kunit_case gpup_cfg_cases[] = {
	KUNIT_CASE(cfg_reports_identity),
	KUNIT_CASE(cfg_identity_is_read_only),
	KUNIT_CASE(cfg_bar0_sizes_as_32bit_mmio),
	KUNIT_CASE(cfg_bar2_sizes_as_64bit_prefetch),
	KUNIT_CASE(cfg_command_keeps_only_writable_bits),
	KUNIT_CASE(cfg_msi_capability),
	KUNIT_CASE(cfg_rejects_out_of_range),
	KUNIT_CASE(cfg_intx_pending_in_status),
	{}
};

static struct kunit_suite gpup_cfg_suite = {
	.name = "gpup_config",
	.test_cases = gpup_cfg_cases,
};

kunit_test_suite(gpup_cfg_suite);
