// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_job: run one engine job on a gpup VF through VFIO and report it.
 *
 *   gpup_job UUID [MiB]
 *
 * Fills MiB of VRAM with a pattern, copies it elsewhere, fences with an
 * MSI, then checks the copy through the BAR2 mmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpup_vfio.h"

#define MIB	0x100000ULL

static const char *const profile_names[] = { "?", "small", "medium", "large", "xlarge" };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 16, len, src, dst;
	uint32_t profile, fence = 0x600d0000 | (getpid() & 0xffff);
	struct gpup_dev d;
	double t0, t1;
	int efd, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s UUID [MiB]\n", argv[0]);
		return 2;
	}
	ret = gpup_open(&d, argv[1]);
	if (ret) {
		fprintf(stderr, "gpup_job: cannot open VF %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	len = mib * MIB;
	src = MIB;
	dst = src + len;
	if (!mib || dst + len > d.vram_size) {
		fprintf(stderr, "gpup_job: %llu MiB does not fit twice in %llu MiB of VRAM\n",
			(unsigned long long)mib, (unsigned long long)(d.vram_size / MIB));
		gpup_close(&d);
		return 1;
	}

	profile = gpup_rd(&d, GPUP_REG_PROFILE);
	gpup_reset(&d);
	gpup_ring_init(&d, 0, 0x1000);
	efd = gpup_irq_eventfd(&d, VFIO_PCI_MSI_IRQ_INDEX);
	gpup_wr(&d, GPUP_REG_INT_MASK, GPUP_INT_ALL);

	t0 = now_ms();
	gpup_submit(&d, GPUP_CMD_FILL, 0xc0ffee00 | profile, src, 0, len);
	gpup_submit(&d, GPUP_CMD_COPY, 0, dst, src, len);
	gpup_submit(&d, GPUP_CMD_FENCE, fence, 0, 0, 0);
	gpup_kick(&d);
	ret = efd >= 0 ? gpup_eventfd_wait(efd, 60000) : efd;
	t1 = now_ms();

	printf("VF %s  profile %-6s  VRAM %4llu MiB  engines %u\n", d.uuid,
	       profile_names[profile < sizeof(profile_names) / sizeof(*profile_names) ?
			     profile : 0],
	       (unsigned long long)(d.vram_size / MIB), gpup_rd(&d, GPUP_REG_ENGINES));
	printf("  job: FILL %llu MiB, COPY %llu MiB, FENCE %#x\n",
	       (unsigned long long)mib, (unsigned long long)mib, fence);
	if (ret != 1 || gpup_rd(&d, GPUP_REG_FENCE) != fence) {
		printf("  FAILED: interrupt %d, status %#x, error %u\n", ret,
		       gpup_rd(&d, GPUP_REG_STATUS), gpup_rd(&d, GPUP_REG_ERROR));
		gpup_close(&d);
		return 1;
	}
	ret = memcmp(d.vram + src, d.vram + dst, len);
	printf("  MSI after %.1f ms, %u commands retired, copy %s\n", t1 - t0,
	       gpup_rd(&d, GPUP_REG_CMD_COUNT), ret ? "DIFFERS" : "verified");
	printf("  host pages backing the VRAM: %lld (allocated on first write)\n",
	       gpup_debugfs_vram(d.uuid, "pages_allocated"));
	gpup_close(&d);
	return ret ? 1 : 0;
}
