// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the gpup_vf guest driver, run inside a VM that holds a gpup VF
 * with gpup_vf bound to it (the L2 guest): the uAPI of /dev/gpup_vf0, its
 * errnos, interrupts, the ring filling up, the 64-bit fences, engine error
 * recovery and reset (through the driver's debugfs), and unbinding with
 * work in flight and the device open.
 *
 *   vf_guest_test [-t TEST]         kselftest harness, TAP output
 *   GPUP_VF_DEV=/dev/gpup_vf0 (default)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/gpup_vf.h>

#include "kselftest_harness.h"

#define MIB		(1024ULL * 1024)
#define SEC_NS		1000000000ULL
#define DEBUGFS		"/sys/kernel/debug/gpup_vf"
#define DRIVER		"/sys/bus/pci/drivers/gpup_vf"

static const char *dev_path(void)
{
	const char *p = getenv("GPUP_VF_DEV");

	return p ? p : "/dev/gpup_vf0";
}

static int vf_submit(int fd, struct gpup_vf_cmd *cmds, unsigned int n,
		     uint64_t *fence)
{
	struct gpup_vf_submit s = { .cmds = (uintptr_t)cmds, .count = n };
	int ret = ioctl(fd, GPUP_VF_IOC_SUBMIT, &s);

	if (!ret && fence)
		*fence = s.fence;
	return ret ? -errno : 0;
}

static int vf_wait(int fd, uint64_t fence, uint64_t timeout_ns)
{
	struct gpup_vf_wait w = { .fence = fence, .timeout_ns = timeout_ns };

	return ioctl(fd, GPUP_VF_IOC_WAIT, &w) ? -errno : 0;
}

static int vf_info(int fd, struct gpup_vf_info *info)
{
	return ioctl(fd, GPUP_VF_IOC_INFO, info) ? -errno : 0;
}

static struct gpup_vf_cmd fill(uint64_t dst, uint64_t len, uint32_t value)
{
	return (struct gpup_vf_cmd){ .op = GPUP_VF_OP_FILL, .dst = dst,
				     .len = len, .value = value };
}

static struct gpup_vf_cmd copy(uint64_t dst, uint64_t src, uint64_t len)
{
	return (struct gpup_vf_cmd){ .op = GPUP_VF_OP_COPY, .dst = dst,
				     .src = src, .len = len };
}

/* The PCI address of the device behind @fd's node, from sysfs */
static int pci_addr(char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *name = strrchr(dev_path(), '/') + 1;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/device", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int debugfs_poke(const char *file)
{
	char addr[64], path[PATH_MAX];

	if (pci_addr(addr, sizeof(addr)))
		return -ENODEV;
	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", addr, file);
	return write_file(path, "1");
}

FIXTURE(vf) {
	int fd;
	struct gpup_vf_info info;
	uint32_t *vram;
	size_t map_len;
};

FIXTURE_SETUP(vf)
{
	self->fd = open(dev_path(), O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev_path(), strerror(errno));
	ASSERT_EQ(0, vf_info(self->fd, &self->info));
	self->map_len = 8 * MIB;
	self->vram = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->vram);
}

FIXTURE_TEARDOWN(vf)
{
	if (self->vram != MAP_FAILED)
		munmap(self->vram, self->map_len);
	close(self->fd);
}

TEST_F(vf, info_fields)
{
	struct gpup_vf_info *i = &self->info;
	unsigned int r;

	ASSERT_GE(i->vram_size, 64 * MIB);
	EXPECT_EQ(i->ring_offset + i->ring_size, i->vram_size);
	EXPECT_EQ(0, i->ring_size & (i->ring_size - 1));
	EXPECT_GE(i->profile, 1);
	EXPECT_GE(i->engines, 1);
	EXPECT_EQ(GPUP_VF_IRQ_MSI, i->irq_mode);
	EXPECT_EQ(GPUP_VF_ENGINE_IDLE, i->engine);
	EXPECT_EQ(i->submitted, i->completed);
	for (r = 0; r < 4; r++)
		EXPECT_EQ(0, i->reserved[r]);
	TH_LOG("profile %u, %llu MiB, ring at %#llx, fences up to %llu",
	       i->profile, (unsigned long long)i->vram_size >> 20,
	       (unsigned long long)i->ring_offset,
	       (unsigned long long)i->submitted);
}

/* Every operation, in one batch, read back through the mmap; MSI delivers */
TEST_F(vf, batch_of_every_op)
{
	struct gpup_vf_cmd cmds[5] = {
		fill(0, 64 * 1024, 0x11223344),
		fill(64 * 1024, 64 * 1024, 0x55667788),
		{ .op = GPUP_VF_OP_FENCE },
		copy(128 * 1024 + 3, 5, 1000),
		copy(256 * 1024, 64 * 1024, 64 * 1024),
	};
	struct gpup_vf_info after;
	uint64_t fence;
	uint8_t *b = (uint8_t *)self->vram;
	unsigned int i;

	ASSERT_EQ(0, vf_submit(self->fd, cmds, 5, &fence));
	/* two fences: the batch's own FENCE and the closing one */
	EXPECT_EQ(self->info.submitted + 2, fence);
	ASSERT_EQ(0, vf_wait(self->fd, fence, 10 * SEC_NS));
	ASSERT_EQ(0, vf_wait(self->fd, fence - 1, 0));

	for (i = 0; i < 64 * 1024 / 4; i++) {
		ASSERT_EQ(0x11223344, self->vram[i]);
		ASSERT_EQ(0x55667788, self->vram[64 * 1024 / 4 + i]);
		ASSERT_EQ(0x55667788, self->vram[256 * 1024 / 4 + i]);
	}
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(b[5 + i], b[128 * 1024 + 3 + i]);

	ASSERT_EQ(0, vf_info(self->fd, &after));
	EXPECT_LT(self->info.irqs, after.irqs);
	EXPECT_EQ(fence, after.completed);
	EXPECT_EQ(self->info.recoveries, after.recoveries);
}

/* CPU stores through the mapping are what the engine copies */
TEST_F(vf, cpu_stores_then_copy)
{
	struct gpup_vf_cmd c = copy(MIB, 0, 4096);
	uint64_t fence;
	unsigned int i;

	for (i = 0; i < 1024; i++)
		self->vram[i] = 0xc0de0000 + i;
	ASSERT_EQ(0, vf_submit(self->fd, &c, 1, &fence));
	ASSERT_EQ(0, vf_wait(self->fd, fence, 10 * SEC_NS));
	for (i = 0; i < 1024; i++)
		ASSERT_EQ(0xc0de0000 + i, self->vram[MIB / 4 + i]);
}

struct bad_case {
	const char *name;
	struct gpup_vf_cmd cmd;
	int err;
};

TEST_F(vf, bad_commands)
{
	uint64_t ring = self->info.ring_offset;
	const struct bad_case cases[] = {
		{ "op 0", { .op = 0, .len = 4 }, -EINVAL },
		{ "op 4", { .op = 4, .len = 4 }, -EINVAL },
		{ "fill zero len", fill(0, 0, 1), -EINVAL },
		{ "fill misaligned dst", fill(2, 8, 1), -EINVAL },
		{ "fill misaligned len", fill(0, 6, 1), -EINVAL },
		{ "fill with src", { .op = GPUP_VF_OP_FILL, .len = 4, .src = 4 }, -EINVAL },
		{ "fill into ring", fill(ring - 4, 8, 1), -ERANGE },
		{ "fill past vram", fill(self->info.vram_size, 4, 1), -ERANGE },
		{ "fill wraps", fill(~0ULL - 3, 8, 1), -ERANGE },
		{ "copy overlap", copy(0x100, 0x80, 0x100), -EINVAL },
		{ "copy zero len", copy(0, 4096, 0), -EINVAL },
		{ "copy from ring", copy(0, ring, 32), -ERANGE },
		{ "copy len wraps", copy(4096, 0, ~0ULL), -ERANGE },
		{ "copy with value",
		  { .op = GPUP_VF_OP_COPY, .dst = 8, .len = 4, .value = 1 }, -EINVAL },
		{ "fence with value", { .op = GPUP_VF_OP_FENCE, .value = 1 }, -EINVAL },
	};
	struct gpup_vf_info after;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gpup_vf_cmd batch[2] = { fill(0, 4, 0), cases[i].cmd };

		/* a bad command anywhere refuses the whole batch */
		EXPECT_EQ(cases[i].err, vf_submit(self->fd, batch, 2, NULL))
			TH_LOG("%s", cases[i].name);
	}
	ASSERT_EQ(0, vf_info(self->fd, &after));
	EXPECT_EQ(self->info.submitted, after.submitted);
	EXPECT_EQ(GPUP_VF_ENGINE_IDLE, after.engine);
}

TEST_F(vf, bad_ioctls)
{
	struct gpup_vf_cmd *many = calloc(GPUP_VF_BATCH_MAX + 1, sizeof(*many));
	struct gpup_vf_cmd one = fill(0, 4, 0);
	struct gpup_vf_submit s = { .cmds = (uintptr_t)&one, .count = 1 };
	struct gpup_vf_wait w = { .fence = self->info.submitted + 1 };
	unsigned int i;

	ASSERT_NE(NULL, many);
	for (i = 0; i <= GPUP_VF_BATCH_MAX; i++)
		many[i] = fill(0, 4, i);
	EXPECT_EQ(-EINVAL, vf_submit(self->fd, many, 0, NULL));
	EXPECT_EQ(-EINVAL, vf_submit(self->fd, many, GPUP_VF_BATCH_MAX + 1, NULL));
	EXPECT_EQ(0, vf_submit(self->fd, many, GPUP_VF_BATCH_MAX, NULL));
	free(many);
	EXPECT_EQ(-EFAULT, vf_submit(self->fd, (void *)8, 1, NULL));
	s.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GPUP_VF_IOC_SUBMIT, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, GPUP_VF_IOC_SUBMIT, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* a fence never handed out, and WAIT's flags and reserved */
	ASSERT_EQ(0, vf_info(self->fd, &self->info));
	EXPECT_EQ(-EINVAL, vf_wait(self->fd, self->info.submitted + 1, 0));
	EXPECT_EQ(-EINVAL, vf_wait(self->fd, 0, 0));
	w.fence = self->info.submitted;
	w.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GPUP_VF_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	w.flags = 0;
	w.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GPUP_VF_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(GPUP_VF_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(vf, bad_mmaps)
{
	size_t below = self->info.ring_offset;
	void *p;

	/* up to the ring: fine; one page more, a private map, past it: not */
	p = mmap(NULL, below, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, below);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, below + 4096, PROT_READ, MAP_SHARED,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd,
				   below));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
}

/* More than the ring holds, never waiting: SUBMIT blocks until room */
TEST_F(vf, ring_full_blocks)
{
	struct gpup_vf_cmd *cmds = calloc(GPUP_VF_BATCH_MAX, sizeof(*cmds));
	uint64_t fence = 0, prev;
	unsigned int i, b;

	ASSERT_NE(NULL, cmds);
	for (b = 0; b < 8; b++) {
		for (i = 0; i < GPUP_VF_BATCH_MAX; i++)
			cmds[i] = fill(2 * MIB + 4096 * (i % 64), 4096, b << 16 | i);
		prev = fence;
		ASSERT_EQ(0, vf_submit(self->fd, cmds, GPUP_VF_BATCH_MAX, &fence));
		if (prev)
			EXPECT_EQ(prev + 1, fence);
	}
	ASSERT_EQ(0, vf_wait(self->fd, fence, 60 * SEC_NS));
	/* the last batch's last FILL of each page won */
	for (i = 0; i < 64; i++)
		EXPECT_EQ(7 << 16 | (GPUP_VF_BATCH_MAX - 64 + i),
			  self->vram[(2 * MIB + 4096 * i) / 4]);
	free(cmds);
}

/* Many small batches, one fence each, as the FENCE register wraps or not */
TEST_F(vf, fences_in_order)
{
	struct gpup_vf_cmd c = fill(3 * MIB, 4, 0);
	uint64_t fence = 0, first = 0;
	unsigned int i;

	for (i = 0; i < 200; i++) {
		c.value = i;
		ASSERT_EQ(0, vf_submit(self->fd, &c, 1, &fence));
		if (!first)
			first = fence;
		EXPECT_EQ(first + i, fence);
	}
	ASSERT_EQ(0, vf_wait(self->fd, fence, 30 * SEC_NS));
	for (i = 0; i < 200; i++)
		EXPECT_EQ(0, vf_wait(self->fd, first + i, 0));
	EXPECT_EQ(199, self->vram[3 * MIB / 4]);
	TH_LOG("fences %llu..%llu", (unsigned long long)first,
	       (unsigned long long)fence);
}

/*
 * An engine error: the fences before it signal, the one behind it fails
 * with -EIO, the driver recovers, and the next batch runs.
 */
TEST_F(vf, engine_error_recovery)
{
	struct gpup_vf_cmd c = fill(4 * MIB, 4096, 0xabcd);
	struct gpup_vf_info after;
	uint64_t before_err, lost, next;
	int ret;

	ASSERT_EQ(0, vf_submit(self->fd, &c, 1, &before_err));
	ret = debugfs_poke("inject_error");
	if (ret == -ENOENT)
		SKIP(return, "no debugfs");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vf_wait(self->fd, before_err, 10 * SEC_NS));
	ASSERT_EQ(0, vf_info(self->fd, &after));
	lost = after.submitted;	/* the fence behind the bad command */
	EXPECT_EQ(before_err + 1, lost);
	EXPECT_EQ(-EIO, vf_wait(self->fd, lost, 10 * SEC_NS));

	/* recovery runs in a work item: SUBMIT says -EIO until it is done */
	do {
		ret = vf_submit(self->fd, &c, 1, &next);
	} while (ret == -EIO && usleep(10000) == 0);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, vf_wait(self->fd, next, 10 * SEC_NS));
	EXPECT_EQ(0xabcd, self->vram[4 * MIB / 4]);
	ASSERT_EQ(0, vf_info(self->fd, &after));
	EXPECT_EQ(self->info.recoveries + 1, after.recoveries);
	EXPECT_EQ(3, after.last_error);	/* GPUP_ERR_ALIGN */
	EXPECT_EQ(-EIO, vf_wait(self->fd, lost, 0));	/* still failed */
}

/* A reset through reset_prepare/reset_done with work in flight */
TEST_F(vf, reset_with_work_in_flight)
{
	struct gpup_vf_cmd *cmds = calloc(64, sizeof(*cmds));
	struct gpup_vf_info after;
	uint64_t fence, next;
	unsigned int i;
	int ret;

	ASSERT_NE(NULL, cmds);
	for (i = 0; i < 64; i++)
		cmds[i] = fill(8 * MIB, 8 * MIB, i);
	ASSERT_EQ(0, vf_submit(self->fd, cmds, 64, &fence));
	/* 512 MiB of FILLs are not done in a millisecond, nor at once */
	EXPECT_EQ(-ETIMEDOUT, vf_wait(self->fd, fence, 0));
	EXPECT_EQ(-ETIMEDOUT, vf_wait(self->fd, fence, 1000000));
	ret = debugfs_poke("reset");
	if (ret == -ENOENT)
		SKIP(return, "no debugfs");
	ASSERT_EQ(0, ret);
	ret = vf_wait(self->fd, fence, 10 * SEC_NS);
	EXPECT_TRUE(ret == -EIO || ret == 0) TH_LOG("wait: %d", ret);
	ASSERT_EQ(0, vf_info(self->fd, &after));
	EXPECT_EQ(self->info.recoveries + 1, after.recoveries);
	EXPECT_EQ(GPUP_VF_ENGINE_IDLE, after.engine);
	ASSERT_EQ(0, vf_submit(self->fd, cmds, 1, &next));
	EXPECT_EQ(0, vf_wait(self->fd, next, 10 * SEC_NS));
	free(cmds);
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, sig);
}

static int bind_driver(const char *what, const char *addr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DRIVER "/%s", what);
	return write_file(path, addr);
}

/*
 * Unbind with a waiter, work in flight and the device open and mapped:
 * the waiter gets -ENODEV, every later ioctl too, the mapping SIGBUS; then
 * a rebind brings /dev/gpup_vf0 back, working.
 */
TEST_F(vf, unbind_in_flight_then_rebind)
{
	struct gpup_vf_cmd *cmds = calloc(GPUP_VF_BATCH_MAX, sizeof(*cmds));
	struct gpup_vf_info info;
	char addr[64];
	uint64_t fence;
	unsigned int i;
	int status, fd2;
	pid_t waiter;

	ASSERT_NE(NULL, cmds);
	ASSERT_EQ(0, pci_addr(addr, sizeof(addr)));
	for (i = 0; i < GPUP_VF_BATCH_MAX; i++)
		cmds[i] = fill(8 * MIB, 8 * MIB, i);
	ASSERT_EQ(0, vf_submit(self->fd, cmds, GPUP_VF_BATCH_MAX, &fence));
	self->vram[0] = 1;	/* mapped */

	waiter = fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0)
		_exit(vf_wait(self->fd, fence, 120 * SEC_NS) == -ENODEV ? 0 : 1);
	usleep(200000);
	ASSERT_EQ(0, bind_driver("unbind", addr));
	ASSERT_EQ(waiter, waitpid(waiter, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	EXPECT_EQ(-ENODEV, vf_info(self->fd, &info));
	EXPECT_EQ(-ENODEV, vf_submit(self->fd, cmds, 1, NULL));
	EXPECT_EQ(-ENODEV, vf_wait(self->fd, fence, 0));
	signal(SIGBUS, on_sigbus);
	if (!sigsetjmp(sigbus_jmp, 1)) {
		/* a load the compiler keeps: it must fault */
		(void)__atomic_load_n(self->vram, __ATOMIC_RELAXED);
		EXPECT_TRUE(0) TH_LOG("the mapping survived the unbind");
	}
	signal(SIGBUS, SIG_DFL);

	ASSERT_EQ(0, bind_driver("bind", addr));
	fd2 = open(dev_path(), O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vf_submit(fd2, cmds, 1, &fence));
	EXPECT_EQ(0, vf_wait(fd2, fence, 10 * SEC_NS));
	close(fd2);
	free(cmds);
}

TEST_HARNESS_MAIN
