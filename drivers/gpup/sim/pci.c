// SPDX-License-Identifier: GPL-2.0-only
/*
 * A PCI function as a simulated GPU: bound to gpup_sim, any PCI function no
 * other driver holds becomes a GPU-P physical function whose VFs appear
 * under it, /sys/bus/pci/devices/<bdf>/mdev_supported_types, as a real
 * GPU's partitions appear under its PF.  That is where management looks for
 * mdev parents: libvirt lists only PCI, CCW and AP devices as node devices
 * with mdev types, so only such a GPU can take `virsh nodedev-define`.
 *
 * The driver matches no ID: a function is bound on purpose, through
 * driver_override.  The function itself is never touched (no BAR is mapped
 * and bus mastering stays off): the simulation needs only its place in the
 * device tree.
 */
#include <linux/pci.h>

#include "gpup_sim.h"

/*
 * Named "gpup", as the virtual GPU's class is: the mdev core names a type
 * after its parent's driver, so the types are gpup-<profile> on every GPU.
 */
#define GPUP_SIM_PCI_NAME	"gpup"

static u64 gpup_sim_pci_vram;

static int gpup_sim_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct gpup_sim_gpu *gpu;

	gpu = gpup_sim_gpu_add(&pdev->dev, gpup_sim_pci_vram);
	if (IS_ERR(gpu))
		return dev_err_probe(&pdev->dev, PTR_ERR(gpu),
				     "cannot be a simulated GPU\n");
	pci_set_drvdata(pdev, gpu);
	pci_info(pdev, "simulated GPU, %llu MiB VRAM pool\n", gpup_sim_pci_vram >> 20);
	return 0;
}

static void gpup_sim_pci_remove(struct pci_dev *pdev)
{
	gpup_sim_gpu_remove(pci_get_drvdata(pdev));
}

static struct pci_driver gpup_sim_pci_driver = {
	.name = GPUP_SIM_PCI_NAME,
	.id_table = NULL,	/* driver_override only */
	.probe = gpup_sim_pci_probe,
	.remove = gpup_sim_pci_remove,
};

/**
 * gpup_sim_pci_register() - offer gpup_sim to PCI functions
 * @vram_mb: MiB of VRAM each GPU made of a PCI function gets
 *
 * Return: 0 or what pci_register_driver() returned.
 */
int gpup_sim_pci_register(unsigned int vram_mb)
{
	gpup_sim_pci_vram = (u64)vram_mb << 20;
	return pci_register_driver(&gpup_sim_pci_driver);
}

/**
 * gpup_sim_pci_unregister() - remove every GPU made of a PCI function
 */
void gpup_sim_pci_unregister(void)
{
	pci_unregister_driver(&gpup_sim_pci_driver);
}
