// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-guest functional tests of gpup_sim through the VFIO uAPI, driving
 * VFs exactly as QEMU's vfio-pci would.  Output is TAP; the exit status is
 * non-zero when any test fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpup_vfio.h"
#include "tap.h"

#define RING_BASE	0x0
#define RING_SIZE	0x1000
#define DATA		0x10000		/* first VRAM byte after the ring */

/* Two VFs of two profiles, open for every test */
static char uuid_a[40], uuid_b[40];
static struct gpup_dev A, B;

static void fresh(struct gpup_dev *d)
{
	gpup_reset(d);
	gpup_ring_init(d, RING_BASE, RING_SIZE);
}

static void test_device_info(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (!CHECK(!ioctl(A.fd, VFIO_DEVICE_GET_INFO, &info), "%m"))
		return;
	if (!CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI, "flags %#x", info.flags))
		return;
	if (!CHECK(info.flags & VFIO_DEVICE_FLAGS_RESET, "flags %#x", info.flags))
		return;
	if (!CHECK(info.num_regions == VFIO_PCI_NUM_REGIONS, "%u", info.num_regions))
		return;
	if (!CHECK(A.region_size[VFIO_PCI_CONFIG_REGION_INDEX] == 256, "cfg size"))
		return;
	if (!CHECK(A.region_size[VFIO_PCI_BAR0_REGION_INDEX] == GPUP_REGS_SIZE, "bar0"))
		return;
	if (!CHECK(A.region_size[VFIO_PCI_BAR1_REGION_INDEX] == 0, "bar1"))
		return;
	if (!CHECK(A.vram_size == 64 * MIB, "small VRAM %llu", (unsigned long long)A.vram_size))
		return;
	if (!CHECK(B.vram_size == 256 * MIB, "medium VRAM"))
		return;
	if (!CHECK(A.region_flags[VFIO_PCI_BAR2_REGION_INDEX] & VFIO_REGION_INFO_FLAG_MMAP,
		   "BAR2 not mmap-able"))
		return;
	if (!CHECK(!(A.region_flags[VFIO_PCI_BAR0_REGION_INDEX] & VFIO_REGION_INFO_FLAG_MMAP),
		   "BAR0 must trap"))
		return;
}

static void test_config_space(void)
{
	uint8_t cfg[256];
	uint32_t bar, ones = 0xffffffff;
	uint16_t sub;

	if (!CHECK(!gpup_cfg_rd(&A, 0, cfg, sizeof(cfg)), "whole config read"))
		return;
	if (!CHECK(*(uint16_t *)&cfg[PCI_VENDOR_ID] == GPUP_PCI_VENDOR_ID, "vendor"))
		return;
	if (!CHECK(*(uint16_t *)&cfg[PCI_DEVICE_ID] == GPUP_PCI_DEVICE_ID, "device"))
		return;
	if (!CHECK(cfg[PCI_CAPABILITY_LIST] && cfg[cfg[PCI_CAPABILITY_LIST]] == PCI_CAP_ID_MSI,
		   "MSI capability"))
		return;
	if (!CHECK(!gpup_cfg_rd(&B, PCI_SUBSYSTEM_ID, &sub, 2) && sub == GPUP_PROFILE_MEDIUM,
		   "subsystem id %#x", sub))
		return;
	/* BAR sizing as firmware does it */
	if (!CHECK(!gpup_cfg_wr(&B, PCI_BASE_ADDRESS_2, &ones, 4), "write"))
		return;
	if (!CHECK(!gpup_cfg_rd(&B, PCI_BASE_ADDRESS_2, &bar, 4), "read"))
		return;
	if (!CHECK((bar & ~0xfU) == (uint32_t)~(256 * MIB - 1), "BAR2 mask %#x", bar))
		return;
	if (!CHECK((bar & 0xf) == (PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH),
		   "BAR2 flags %#x", bar))
		return;
	if (!CHECK(gpup_cfg_rd(&A, 255, cfg, 2) == -EINVAL, "read past config space"))
		return;
}

static void test_registers(void)
{
	if (!CHECK(gpup_rd(&A, GPUP_REG_ID) == GPUP_ID_MAGIC, "magic"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_PROFILE) == GPUP_PROFILE_SMALL, "profile"))
		return;
	if (!CHECK(gpup_rd(&B, GPUP_REG_PROFILE) == GPUP_PROFILE_MEDIUM, "profile"))
		return;
	if (!CHECK(gpup_rd(&B, GPUP_REG_VRAM_SIZE_LO) == 256 * MIB, "vram size"))
		return;
	if (!CHECK(gpup_rd(&B, GPUP_REG_ENGINES) == 2, "engines"))
		return;
	gpup_wr(&A, GPUP_REG_SCRATCH0, 0x12345678);
	gpup_wr(&B, GPUP_REG_SCRATCH0, 0x9abcdef0);
	if (!CHECK(gpup_rd(&A, GPUP_REG_SCRATCH0) == 0x12345678, "scratch A"))
		return;
	if (!CHECK(gpup_rd(&B, GPUP_REG_SCRATCH0) == 0x9abcdef0, "scratch B"))
		return;
	gpup_wr(&A, GPUP_REG_ID, 0);
	if (!CHECK(gpup_rd(&A, GPUP_REG_ID) == GPUP_ID_MAGIC, "ID is read-only"))
		return;
}

static void test_register_bad_access(void)
{
	uint64_t bar0 = A.region_off[VFIO_PCI_BAR0_REGION_INDEX];
	uint16_t half;
	uint32_t v;

	errno = 0;
	if (!CHECK(pread(A.fd, &half, 2, bar0) < 0 && errno == EINVAL, "2-byte read"))
		return;
	errno = 0;
	if (!CHECK(pread(A.fd, &v, 4, bar0 + 2) < 0 && errno == EINVAL, "misaligned"))
		return;
	errno = 0;
	if (!CHECK(pwrite(A.fd, &v, 4, bar0 + GPUP_REGS_SIZE) < 0 && errno == EINVAL,
		   "past BAR0"))
		return;
	errno = 0;
	if (!CHECK(pread(A.fd, &v, 4, A.region_off[VFIO_PCI_BAR1_REGION_INDEX]) < 0 &&
		   errno == EINVAL, "BAR1 does not exist"))
		return;
}

static void test_vram_access_paths_agree(void)
{
	uint64_t bar2 = A.region_off[VFIO_PCI_BAR2_REGION_INDEX];
	char buf[64] = "written through pwrite", out[64];

	fresh(&A);
	if (!CHECK(pwrite(A.fd, buf, sizeof(buf), bar2 + 5 * 4096 - 10) == sizeof(buf), "%m"))
		return;
	if (!CHECK(!memcmp((void *)(A.vram + 5 * 4096 - 10), buf, sizeof(buf)), "mmap view"))
		return;
	memcpy((void *)(A.vram + A.vram_size - 16), "written via mmap", 16);
	if (!CHECK(pread(A.fd, out, 16, bar2 + A.vram_size - 16) == 16, "%m"))
		return;
	if (!CHECK(!memcmp(out, "written via mmap", 16), "pread view"))
		return;
	errno = 0;
	if (!CHECK(pread(A.fd, out, 32, bar2 + A.vram_size - 16) < 0 && errno == EINVAL,
		   "read past VRAM"))
		return;
}

static void test_vram_lazy_allocation(void)
{
	uint64_t bar2 = B.region_off[VFIO_PCI_BAR2_REGION_INDEX];
	static char buf[1 << 20];
	long long pages;

	gpup_reset(&B);
	if (!CHECK(gpup_debugfs_vram(uuid_b, "pages_allocated") == 0, "fresh VF has pages"))
		return;
	if (!CHECK(pread(B.fd, buf, sizeof(buf), bar2 + 100 * MIB) == sizeof(buf), "%m"))
		return;
	if (!CHECK(gpup_debugfs_vram(uuid_b, "pages_allocated") == 0, "reads allocate"))
		return;
	B.vram[200 * MIB] = 1;
	if (!CHECK(pwrite(B.fd, buf, 8192, bar2 + 8192) == 8192, "%m"))
		return;
	pages = gpup_debugfs_vram(uuid_b, "pages_allocated");
	if (!CHECK(pages == 3, "%lld pages after writing 3", pages))
		return;
}

static void test_mmap_dirty_tracking(void)
{
	long long dirty;
	uint8_t sink = 0;
	int i;

	gpup_reset(&B);
	for (i = 0; i < 8; i++)
		sink += __atomic_load_n(&B.vram[(uint64_t)i * 4096 * 3],
					__ATOMIC_RELAXED);	/* read-only touches */
	dirty = gpup_debugfs_vram(uuid_b, "pages_dirty");
	if (!CHECK(dirty == 0, "reads (sum %u) dirtied %lld pages", sink, dirty))
		return;
	for (i = 0; i < 5; i++)
		B.vram[(uint64_t)i * 4096 * 3 + 7] = i;	/* first store after a read */
	B.vram[100 * MIB] = 1;				/* store to an unmapped page */
	dirty = gpup_debugfs_vram(uuid_b, "pages_dirty");
	if (!CHECK(dirty == 6, "%lld dirty pages, want 6", dirty))
		return;
}

static void test_engine_fill_copy_fence_intx(void)
{
	uint32_t word;
	uint64_t i;
	int efd;

	fresh(&A);
	efd = gpup_irq_eventfd(&A, VFIO_PCI_INTX_IRQ_INDEX);
	if (!CHECK(efd >= 0, "INTx eventfd: %s", strerror(-efd)))
		return;
	gpup_wr(&A, GPUP_REG_INT_MASK, GPUP_INT_ALL);
	gpup_submit(&A, GPUP_CMD_FILL, 0xa5a5f00d, DATA, 0, 2 * MIB);
	gpup_submit(&A, GPUP_CMD_COPY, 0, DATA + 4 * MIB + 2, DATA, MIB + 6);
	gpup_submit(&A, GPUP_CMD_FENCE, 0x1001, 0, 0, 0);
	gpup_kick(&A);
	if (!CHECK(gpup_eventfd_wait(efd, 20000) == 1, "no interrupt"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_FENCE) == 0x1001, "fence %#x", gpup_rd(&A, GPUP_REG_FENCE)))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_INT_STATUS) & GPUP_INT_FENCE, "int status"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_CMD_COUNT) == 3, "cmd count"))
		return;
	for (i = 0; i < 2 * MIB; i += 4096 + 4) {
		memcpy(&word, (void *)(A.vram + DATA + i), 4);
		if (!CHECK(word == 0xa5a5f00d, "fill at %#llx: %#x", (unsigned long long)i, word))
			return;
	}
	if (!CHECK(!memcmp(A.vram + DATA + 4 * MIB + 2, A.vram + DATA, MIB + 6),
		   "copy differs"))
		return;
	if (!CHECK(A.vram[DATA + 4 * MIB + 1] == 0 && A.vram[DATA + 5 * MIB + 8] == 0,
		   "copy overran"))
		return;
	/* level-triggered: acknowledge, unmask, next fence fires again */
	gpup_wr(&A, GPUP_REG_INT_STATUS, GPUP_INT_ALL);
	if (!CHECK(!gpup_irq_unmask(&A), "unmask"))
		return;
	gpup_submit(&A, GPUP_CMD_FENCE, 0x1002, 0, 0, 0);
	gpup_kick(&A);
	if (!CHECK(gpup_eventfd_wait(efd, 20000) == 1, "no second interrupt"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_FENCE) == 0x1002, "fence 2"))
		return;
	if (!CHECK(!gpup_irq_disable(&A, VFIO_PCI_INTX_IRQ_INDEX), "disable"))
		return;
	close(efd);
}

static void test_engine_fence_msi(void)
{
	int efd, i;

	fresh(&B);
	efd = gpup_irq_eventfd(&B, VFIO_PCI_MSI_IRQ_INDEX);
	if (!CHECK(efd >= 0, "MSI eventfd: %s", strerror(-efd)))
		return;
	gpup_wr(&B, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	for (i = 1; i <= 3; i++) {
		gpup_submit(&B, GPUP_CMD_FILL, i, DATA, 0, 4096);
		gpup_submit(&B, GPUP_CMD_FENCE, 0x2000 + i, 0, 0, 0);
		gpup_kick(&B);
		if (!CHECK(gpup_eventfd_wait(efd, 20000) == 1, "no MSI for fence %d", i))
			return;
		if (!CHECK(gpup_rd(&B, GPUP_REG_FENCE) == 0x2000U + i, "fence"))
			return;
	}
	if (!CHECK(gpup_rd(&B, GPUP_REG_FENCE_COUNT) == 3, "fence count"))
		return;
	if (!CHECK(!gpup_irq_disable(&B, VFIO_PCI_MSI_IRQ_INDEX), "disable"))
		return;
	close(efd);
}

struct bad_cmd {
	const char *what;
	uint32_t opcode;
	uint64_t dst, src, len;
	uint32_t error;
};

static void test_engine_bad_commands(void)
{
	const struct bad_cmd bad[] = {
		{ "fill past VRAM", GPUP_CMD_FILL, 64 * MIB - 4, 0, 8, GPUP_ERR_BOUNDS },
		{ "fill wraps", GPUP_CMD_FILL, ~0ULL - 3, 0, 8, GPUP_ERR_BOUNDS },
		{ "copy from past VRAM", GPUP_CMD_COPY, DATA, 64 * MIB, 4096, GPUP_ERR_BOUNDS },
		{ "copy overlap", GPUP_CMD_COPY, DATA, DATA + 8, 64, GPUP_ERR_OVERLAP },
		{ "fill misaligned", GPUP_CMD_FILL, DATA + 1, 0, 8, GPUP_ERR_ALIGN },
		{ "zero length", GPUP_CMD_COPY, DATA, DATA + 4096, 0, GPUP_ERR_LENGTH },
		{ "bad opcode", 0x77, 0, 0, 0, GPUP_ERR_OPCODE },
	};
	long long csum_b;
	unsigned int i;
	uint32_t st;

	fresh(&B);
	gpup_submit(&B, GPUP_CMD_FILL, 0x5eed, DATA, 0, MIB);
	gpup_kick(&B);
	if (!CHECK(!gpup_wait_idle(&B, 20000), "B idle"))
		return;
	csum_b = gpup_debugfs_vram(uuid_b, "checksum");

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		long long pages;

		fresh(&A);
		gpup_wr(&A, GPUP_REG_INT_MASK, GPUP_INT_ALL);
		gpup_submit(&A, GPUP_CMD_NOP, 0, 0, 0, 0);
		gpup_submit(&A, bad[i].opcode, 0xffffffff, bad[i].dst, bad[i].src, bad[i].len);
		gpup_submit(&A, GPUP_CMD_FENCE, 1, 0, 0, 0);
		gpup_kick(&A);
		if (!CHECK(gpup_wait_idle(&A, 20000) == -EIO, "%s: no halt", bad[i].what))
			return;
		st = gpup_rd(&A, GPUP_REG_STATUS);
		if (!CHECK(st & GPUP_STATUS_HALTED, "%s: status %#x", bad[i].what, st))
			return;
		if (!CHECK(gpup_rd(&A, GPUP_REG_ERROR) == bad[i].error, "%s: error %u",
			   bad[i].what, gpup_rd(&A, GPUP_REG_ERROR)))
			return;
		if (!CHECK(gpup_rd(&A, GPUP_REG_ERROR_HEAD) == sizeof(struct gpup_cmd),
			   "%s: error head", bad[i].what))
			return;
		if (!CHECK(gpup_rd(&A, GPUP_REG_INT_STATUS) & GPUP_INT_ERROR, "%s: irq",
			   bad[i].what))
			return;
		if (!CHECK(gpup_rd(&A, GPUP_REG_FENCE_COUNT) == 0, "%s: ran past", bad[i].what))
			return;
		/* only the ring page was ever written */
		pages = gpup_debugfs_vram(uuid_a, "pages_allocated");
		if (!CHECK(pages == 1, "%s: %lld pages allocated", bad[i].what, pages))
			return;
		/* a doorbell does not restart a halted engine */
		gpup_wr(&A, GPUP_REG_DOORBELL, 1);
		if (!CHECK(gpup_wait_idle(&A, 1000) == -EIO, "%s: restarted", bad[i].what))
			return;
	}
	if (!CHECK(gpup_debugfs_vram(uuid_b, "checksum") == csum_b, "other VF's VRAM changed"))
		return;
}

static void test_engine_bad_ring(void)
{
	fresh(&A);
	gpup_wr(&A, GPUP_REG_RING_SIZE, 0x3000);	/* not a power of two */
	gpup_wr(&A, GPUP_REG_RING_TAIL, 0x20);
	gpup_wr(&A, GPUP_REG_DOORBELL, 1);
	if (!CHECK(gpup_wait_idle(&A, 20000) == -EIO, "bad ring size accepted"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_ERROR) == GPUP_ERR_RING, "error"))
		return;

	fresh(&A);
	gpup_wr(&A, GPUP_REG_RING_BASE_LO, 64 * MIB - 0x1000);
	gpup_wr(&A, GPUP_REG_RING_SIZE, 0x2000);	/* runs past VRAM */
	gpup_wr(&A, GPUP_REG_RING_TAIL, 0x20);
	gpup_wr(&A, GPUP_REG_DOORBELL, 1);
	if (!CHECK(gpup_wait_idle(&A, 20000) == -EIO, "ring past VRAM accepted"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_ERROR) == GPUP_ERR_RING, "error"))
		return;
}

static void test_reset_restores_power_on(void)
{
	uint64_t bar2 = A.region_off[VFIO_PCI_BAR2_REGION_INDEX];
	uint32_t word = 0xdead;

	fresh(&A);
	gpup_wr(&A, GPUP_REG_SCRATCH1, 7);
	gpup_submit(&A, GPUP_CMD_FILL, 0x77777777, DATA, 0, MIB);
	gpup_submit(&A, GPUP_CMD_FENCE, 9, 0, 0, 0);
	gpup_kick(&A);
	if (!CHECK(!gpup_wait_idle(&A, 20000), "idle"))
		return;
	if (!CHECK(!gpup_reset(&A), "VFIO_DEVICE_RESET: %m"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_SCRATCH1) == 0, "scratch survived"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_FENCE) == 0, "fence survived"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_RING_SIZE) == 0, "ring survived"))
		return;
	if (!CHECK(gpup_debugfs_vram(uuid_a, "pages_allocated") == 0, "pages survived"))
		return;
	if (!CHECK(pread(A.fd, &word, 4, bar2 + DATA) == 4 && word == 0, "VRAM via pread"))
		return;
	if (!CHECK(A.vram[DATA + 4096] == 0, "VRAM via the old mmap"))
		return;

	/* the register reset does the same */
	fresh(&A);
	gpup_submit(&A, GPUP_CMD_FILL, 1, DATA, 0, 4096);
	gpup_kick(&A);
	if (!CHECK(!gpup_wait_idle(&A, 20000), "idle"))
		return;
	gpup_wr(&A, GPUP_REG_CTRL, GPUP_CTRL_RESET);
	if (!CHECK(A.vram[DATA] == 0, "CTRL.RESET kept VRAM"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_CTRL) == 0, "CTRL.RESET kept CTRL"))
		return;
}

static void test_reset_during_long_command(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		fresh(&B);
		gpup_submit(&B, GPUP_CMD_FILL, 0x11, 0x100000, 0, 200 * MIB);
		gpup_submit(&B, GPUP_CMD_COPY, 0, 0x100000, 0x8000000, 100 * MIB);
		gpup_kick(&B);
		usleep(1000 * i * 20);
		if (!CHECK(!gpup_reset(&B), "reset while busy"))
			return;
		if (!CHECK(gpup_debugfs_vram(uuid_b, "pages_allocated") == 0, "pages after reset"))
			return;
		if (!CHECK(!(gpup_rd(&B, GPUP_REG_STATUS) & GPUP_STATUS_BUSY), "busy after reset"))
			return;
	}
	/* and the engine still works */
	fresh(&B);
	gpup_submit(&B, GPUP_CMD_FILL, 0x22, DATA, 0, 4096);
	gpup_kick(&B);
	if (!CHECK(!gpup_wait_idle(&B, 20000), "engine dead after reset"))
		return;
	if (!CHECK(B.vram[DATA] == 0x22, "fill after reset"))
		return;
}

static void test_overcommit_refused(void)
{
	char extra[8][40];
	int avail = gpup_available("large"), n, ret = 0;

	if (!CHECK(avail >= 0 && avail < 8, "available_instances %d", avail))
		return;
	for (n = 0; n < avail; n++) {
		ret = gpup_vf_create("large", extra[n], sizeof(extra[n]));
		if (!CHECK(!ret, "create large #%d: %s", n, strerror(-ret)))
			return;
	}
	if (!CHECK(gpup_available("large") == 0, "still available"))
		return;
	ret = gpup_vf_create("large", extra[n], sizeof(extra[n]));
	if (!CHECK(ret == -ENOSPC, "over-commit gave %d", ret))
		return;
	while (n--)
		if (!CHECK(!gpup_vf_remove(extra[n]), "remove"))
			return;
	if (!CHECK(gpup_available("large") == avail, "capacity not returned"))
		return;
}

static void test_remove_while_open(void)
{
	char uuid[40], path[128];
	int req, status, ret, signalled, blocked;
	struct gpup_dev d;
	pid_t pid;

	ret = gpup_vf_create("small", uuid, sizeof(uuid));
	if (!CHECK(!ret, "create: %s", strerror(-ret)))
		return;
	ret = gpup_open(&d, uuid);
	if (!CHECK(!ret, "open: %s", strerror(-ret)))
		return;
	req = gpup_irq_eventfd(&d, VFIO_PCI_REQ_IRQ_INDEX);
	if (req < 0)
		gpup_close(&d);
	if (!CHECK(req >= 0, "REQ eventfd: %s", strerror(-req)))
		return;
	d.vram[0] = 1;

	/* the child must not hold the other VFs open through inherited fds */
	pid = fork();
	if (!pid) {
		gpup_close(&A);
		gpup_close(&B);
		gpup_close(&d);
		_exit(gpup_vf_remove(uuid) ? 1 : 0);
	}
	signalled = gpup_eventfd_wait(req, 20000);
	blocked = waitpid(pid, &status, WNOHANG) == 0;
	gpup_close(&d);
	close(req);
	ret = waitpid(pid, &status, 0);
	if (!CHECK(signalled == 1, "no release request"))
		return;
	if (!CHECK(blocked, "remove finished while the VF was open"))
		return;
	if (!CHECK(ret == pid && WIFEXITED(status) && !WEXITSTATUS(status), "remove failed"))
		return;
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	if (!CHECK(access(path, F_OK) < 0, "still there after close"))
		return;
}

static void test_two_profiles_run_concurrently(void)
{
	int i;

	fresh(&A);
	fresh(&B);
	for (i = 0; i < 32; i++) {
		gpup_submit(&A, GPUP_CMD_FILL, 0xa0 + i, DATA, 0, MIB);
		gpup_submit(&B, GPUP_CMD_FILL, 0xb0 + i, DATA, 0, MIB);
	}
	gpup_submit(&A, GPUP_CMD_FENCE, 0xa, 0, 0, 0);
	gpup_submit(&B, GPUP_CMD_FENCE, 0xb, 0, 0, 0);
	gpup_kick(&A);
	gpup_kick(&B);
	if (!CHECK(!gpup_wait_idle(&A, 60000) && !gpup_wait_idle(&B, 60000), "idle"))
		return;
	if (!CHECK(gpup_rd(&A, GPUP_REG_FENCE) == 0xa && gpup_rd(&B, GPUP_REG_FENCE) == 0xb,
		   "fences"))
		return;
	if (!CHECK(A.vram[DATA + 8] == 0xbf && B.vram[DATA + 8] == 0xcf, "last fill wins: %#x %#x",
		   A.vram[DATA + 8], B.vram[DATA + 8]))
		return;
}

/* VFIO_DEVICE_FEATURE_DMA_LOGGING_START on @d over [0, 1 MiB): 0 or -errno */
static int dma_log_start(struct gpup_dev *d, uint32_t probe)
{
	struct vfio_device_feature_dma_logging_range range = { .iova = 0, .length = MIB };
	struct vfio_device_feature_dma_logging_control ctl = {
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)&range,
	};

	return gpup_device_feature(d, probe | VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl, sizeof(ctl));
}

static int dma_log_report(struct gpup_dev *d, uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = 0, .length = MIB, .page_size = 4096, .bitmap = (uintptr_t)bitmap,
	};

	return gpup_device_feature(d, VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep, sizeof(rep));
}

static int dma_log_stop(struct gpup_dev *d)
{
	return gpup_device_feature(d, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

/*
 * DMA dirty logging where the kernel can report it (CONFIG_IOMMUFD_DRIVER):
 * the VF writes no guest memory, so while its engine works every report is
 * empty; a second start is refused, and logging ends with the user's close
 */
static void test_dma_logging(void)
{
	bool expected = gpup_kernel_has("iova_bitmap_for_each");
	uint64_t bitmap[MIB / 4096 / 64];
	int ret, i;

	ret = dma_log_start(&A, VFIO_DEVICE_FEATURE_PROBE);
	if (!expected) {
		CHECK(ret == -ENOTTY, "kernel without iova_bitmap: probe gave %d", ret);
		return;
	}
	if (!CHECK(!ret, "probe: %s", strerror(-ret)))
		return;
	if (!CHECK(dma_log_report(&A, bitmap) == -EINVAL, "report before start"))
		return;
	if (!CHECK(!dma_log_start(&A, 0), "start") ||
	    !CHECK(dma_log_start(&A, 0) == -EBUSY, "second start not refused"))
		goto stop;
	fresh(&A);
	gpup_submit(&A, GPUP_CMD_FILL, 0x5a5a5a5a, DATA, 0, MIB);
	gpup_submit(&A, GPUP_CMD_COPY, 0, DATA + MIB, DATA, MIB);
	gpup_kick(&A);
	if (!CHECK(!gpup_wait_idle(&A, 60000), "engine idle"))
		goto stop;
	/* a report only sets bits, as QEMU expects: it starts from zeros */
	memset(bitmap, 0, sizeof(bitmap));
	if (!CHECK(!dma_log_report(&A, bitmap), "report"))
		goto stop;
	for (i = 0; i < (int)ARRAY_SIZE(bitmap); i++)
		if (!CHECK(!bitmap[i], "bits %#llx at word %d", (unsigned long long)bitmap[i], i))
			goto stop;
	if (!CHECK(!dma_log_stop(&A) && !dma_log_stop(&A), "stop, stop again"))
		return;
	if (!CHECK(dma_log_report(&A, bitmap) == -EINVAL, "report after stop"))
		return;

	/* a new user starts afresh */
	if (!CHECK(!dma_log_start(&A, 0), "start"))
		return;
	gpup_close(&A);
	if (!CHECK(!gpup_open(&A, uuid_a), "reopen"))
		return;
	CHECK(!dma_log_start(&A, 0), "start after the last user's close");
stop:
	dma_log_stop(&A);
}

/* The PCI function no driver holds that the test guest has (gpup-vm) */
static bool find_spare_function(char *bdf, size_t len)
{
	static const char *const dev = "/sys/bus/pci/devices/0000:00:10.0";
	char path[PATH_MAX], id[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/device", dev);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = 0;
		fclose(f);
	}
	snprintf(bdf, len, "%s", strrchr(dev, '/') + 1);
	return !strcmp(id, "0x0005\n");
}

static int pci_bind(const char *bdf, bool bind)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = gpup_write_file(path, bind ? "gpup" : "\n");
	if (ret)
		return ret;
	if (bind)
		return gpup_write_file("/sys/bus/pci/drivers_probe", bdf);
	return gpup_write_file("/sys/bus/pci/drivers/gpup/unbind", bdf);
}

static bool sysfs_exists(const char *fmt, const char *a, const char *b)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, a, b);
	return access(path, F_OK) == 0;
}

/*
 * A PCI function bound to gpup_sim is a GPU of its own: its VFs sit under
 * it, its pool is its own, and unbinding it removes them.  A migration
 * file of one of them still open across the unbinding reads ENODEV (under
 * KASAN: without touching the VF it outlived).
 */
static void test_pci_function_as_gpu(void)
{
	int large = gpup_available("large"), pool_mb = -1, ret, fd = -1;
	char bdf[32], parent[PATH_MAX], uuid[40] = "";
	struct gpup_dev d;
	FILE *f;

	if (!CHECK(find_spare_function(bdf, sizeof(bdf)), "no pci-testdev at 0000:00:10.0"))
		return;
	if (!CHECK(!sysfs_exists("/sys/bus/pci/devices/%s/driver%s", bdf, ""),
		   "%s already has a driver", bdf))
		return;
	f = fopen("/sys/module/gpup_sim/parameters/vram_pool_mb", "r");
	if (f) {
		if (fscanf(f, "%d", &pool_mb) != 1)
			pool_mb = -1;
		fclose(f);
	}
	ret = pci_bind(bdf, true);
	if (!CHECK(!ret, "bind %s: %s", bdf, strerror(-ret)))
		return;
	snprintf(parent, sizeof(parent), "/sys/bus/pci/devices/%s", bdf);
	if (!CHECK(sysfs_exists("/sys/class/mdev_bus/%s%s", bdf, ""), "not an mdev parent"))
		goto unbind;
	if (!CHECK(gpup_available_on(parent, "large") == pool_mb / 1024 &&
		   gpup_available_on(parent, "small") == pool_mb / 64,
		   "a new GPU offers %d large, %d small (pool %d MiB)",
		   gpup_available_on(parent, "large"), gpup_available_on(parent, "small"), pool_mb))
		goto unbind;

	ret = gpup_vf_create_on(parent, "large", uuid, sizeof(uuid));
	if (!CHECK(!ret, "create: %s", strerror(-ret)))
		goto unbind;
	if (!CHECK(sysfs_exists("/sys/bus/pci/devices/%s/%s", bdf, uuid), "VF not under %s", bdf))
		goto unbind;
	if (!CHECK(gpup_available_on(parent, "large") == pool_mb / 1024 - 1 &&
		   gpup_available("large") == large,
		   "pools not separate: %d here, %d (was %d) on gpup_sim",
		   gpup_available_on(parent, "large"), gpup_available("large"), large))
		goto unbind;
	ret = gpup_open(&d, uuid);
	if (!CHECK(!ret, "open: %s", strerror(-ret)))
		goto unbind;
	d.vram[d.vram_size - 1] = 0x5a;
	if (!CHECK(gpup_rd(&d, GPUP_REG_ID) == GPUP_ID_MAGIC && d.vram_size == 1ULL << 30,
		   "a large VF: ID %#x, VRAM %llu", gpup_rd(&d, GPUP_REG_ID),
		   (unsigned long long)d.vram_size)) {
		gpup_close(&d);
		goto unbind;
	}
	/* no data fd for STOP: -1 is success there */
	ret = gpup_mig_set_state(&d, VFIO_DEVICE_STATE_STOP);
	fd = ret == -1 ? gpup_mig_set_state(&d, VFIO_DEVICE_STATE_STOP_COPY) : ret;
	gpup_close(&d);
	if (!CHECK(fd >= 0, "STOP, STOP_COPY: %s", strerror(-fd)))
		goto unbind;

unbind:
	ret = pci_bind(bdf, false);
	if (fd >= 0) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		int err = errno;

		close(fd);
		if (!CHECK(n == -1 && err == ENODEV, "read after the unbind: %zd, %s", n,
			   strerror(err)))
			return;
	}
	if (!CHECK(!ret, "unbind: %s", strerror(-ret)))
		return;
	CHECK(!sysfs_exists("/sys/class/mdev_bus/%s%s", bdf, "") &&
	      (!uuid[0] || !sysfs_exists("/sys/bus/mdev/devices/%s%s", uuid, "")),
	      "the GPU or its VF outlived the unbind");
}

static const struct tap_test tests[] = {
	{ "device_info_and_regions", test_device_info },
	{ "config_space_identity_and_bar_sizing", test_config_space },
	{ "registers_identity_and_scratch", test_registers },
	{ "register_bad_access_rejected", test_register_bad_access },
	{ "vram_pwrite_pread_and_mmap_agree", test_vram_access_paths_agree },
	{ "vram_allocated_on_first_write", test_vram_lazy_allocation },
	{ "mmap_stores_set_dirty_bits_reads_do_not", test_mmap_dirty_tracking },
	{ "engine_fill_copy_fence_intx", test_engine_fill_copy_fence_intx },
	{ "engine_fence_msi", test_engine_fence_msi },
	{ "engine_bad_commands_halt_and_touch_nothing", test_engine_bad_commands },
	{ "engine_bad_ring_halts", test_engine_bad_ring },
	{ "reset_restores_power_on_state", test_reset_restores_power_on },
	{ "reset_during_long_command", test_reset_during_long_command },
	{ "overcommit_refused", test_overcommit_refused },
	{ "remove_while_open", test_remove_while_open },
	{ "two_profiles_run_concurrently", test_two_profiles_run_concurrently },
	{ "dma_logging_reports_nothing", test_dma_logging },
	{ "pci_function_as_gpu", test_pci_function_as_gpu },
};

int main(void)
{
	const struct tap_vf vfs[] = {
		{ "small", uuid_a, &A }, { "medium", uuid_b, &B },
	};

	return tap_main("vfio", tests, ARRAY_SIZE(tests), vfs, ARRAY_SIZE(vfs));
}
