// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI config space of a gpup VF.
 *
 * Every config write goes through one per-byte write mask built at reset:
 * BAR sizing, the command register and the MSI capability all reduce to
 * "these bits may change", so accesses of any size and alignment inside
 * the 256 bytes are handled the same way, as a real function would.
 */
#include <linux/errno.h>
#include <linux/pci_regs.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "gpup_sim.h"

static void cfg_set16(struct gpup_cfg *cfg, unsigned int off, u16 val, u16 wmask)
{
	put_unaligned_le16(val, &cfg->data[off]);
	put_unaligned_le16(wmask, &cfg->wmask[off]);
}

static void cfg_set32(struct gpup_cfg *cfg, unsigned int off, u32 val, u32 wmask)
{
	put_unaligned_le32(val, &cfg->data[off]);
	put_unaligned_le32(wmask, &cfg->wmask[off]);
}

/* A memory BAR of @size bytes (a power of two); 64-bit BARs take two slots */
static void cfg_set_bar(struct gpup_cfg *cfg, unsigned int off, u64 size,
			u32 flags)
{
	u64 mask = ~(size - 1);

	cfg_set32(cfg, off, flags, lower_32_bits(mask) & PCI_BASE_ADDRESS_MEM_MASK);
	if (flags & PCI_BASE_ADDRESS_MEM_TYPE_64)
		cfg_set32(cfg, off + 4, 0, upper_32_bits(mask));
}

void gpup_cfg_init(struct gpup_cfg *cfg, const struct gpup_profile *profile)
{
	const unsigned int msi = GPUP_CFG_MSI_CAP;

	memset(cfg, 0, sizeof(*cfg));

	cfg_set16(cfg, PCI_VENDOR_ID, GPUP_PCI_VENDOR_ID, 0);
	cfg_set16(cfg, PCI_DEVICE_ID, GPUP_PCI_DEVICE_ID, 0);
	cfg_set16(cfg, PCI_COMMAND, 0, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  PCI_COMMAND_INTX_DISABLE);
	cfg_set16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST, 0);
	cfg_set32(cfg, PCI_CLASS_REVISION,
		  GPUP_PCI_CLASS << 8 | GPUP_PCI_REVISION, 0);
	cfg->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	cfg->wmask[PCI_LATENCY_TIMER] = 0xff;
	cfg->data[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;

	cfg_set_bar(cfg, PCI_BASE_ADDRESS_0, GPUP_REGS_SIZE,
		    PCI_BASE_ADDRESS_MEM_TYPE_32);
	cfg_set_bar(cfg, PCI_BASE_ADDRESS_2, profile->vram_size,
		    PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);

	cfg_set16(cfg, PCI_SUBSYSTEM_VENDOR_ID, GPUP_PCI_VENDOR_ID, 0);
	cfg_set16(cfg, PCI_SUBSYSTEM_ID, profile->id, 0);
	cfg->data[PCI_CAPABILITY_LIST] = msi;
	cfg->data[PCI_INTERRUPT_LINE] = 0xff;
	cfg->wmask[PCI_INTERRUPT_LINE] = 0xff;
	cfg->data[PCI_INTERRUPT_PIN] = 1;	/* INTA# */

	/* MSI, one vector, 64-bit address, no per-vector masking */
	cfg->data[msi + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	cfg->data[msi + PCI_CAP_LIST_NEXT] = 0;
	cfg_set16(cfg, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT,
		  PCI_MSI_FLAGS_ENABLE);
	cfg_set32(cfg, msi + PCI_MSI_ADDRESS_LO, 0, 0xfffffffc);
	cfg_set32(cfg, msi + PCI_MSI_ADDRESS_HI, 0, 0xffffffff);
	cfg_set16(cfg, msi + PCI_MSI_DATA_64, 0, 0xffff);
}

static int cfg_check(unsigned int off, unsigned int len)
{
	if (!len || off >= GPUP_CFG_SIZE || len > GPUP_CFG_SIZE - off)
		return -EINVAL;
	return 0;
}

int gpup_cfg_read(const struct gpup_cfg *cfg, unsigned int off, void *buf,
		  unsigned int len)
{
	int ret = cfg_check(off, len);

	if (!ret)
		memcpy(buf, &cfg->data[off], len);
	return ret;
}

int gpup_cfg_write(struct gpup_cfg *cfg, unsigned int off, const void *buf,
		   unsigned int len)
{
	const u8 *src = buf;
	unsigned int i;
	int ret = cfg_check(off, len);

	if (ret)
		return ret;

	for (i = 0; i < len; i++) {
		u8 mask = cfg->wmask[off + i];

		cfg->data[off + i] = (cfg->data[off + i] & ~mask) | (src[i] & mask);
	}
	return 0;
}

/* The device drives the status bit that mirrors its INTx line */
void gpup_cfg_set_intx_pending(struct gpup_cfg *cfg, bool pending)
{
	u16 status = get_unaligned_le16(&cfg->data[PCI_STATUS]);

	if (pending)
		status |= PCI_STATUS_INTERRUPT;
	else
		status &= ~PCI_STATUS_INTERRUPT;
	put_unaligned_le16(status, &cfg->data[PCI_STATUS]);
}

u16 gpup_cfg_command(const struct gpup_cfg *cfg)
{
	return get_unaligned_le16(&cfg->data[PCI_COMMAND]);
}

bool gpup_cfg_intx_disabled(const struct gpup_cfg *cfg)
{
	return get_unaligned_le16(&cfg->data[PCI_COMMAND]) &
	       PCI_COMMAND_INTX_DISABLE;
}
