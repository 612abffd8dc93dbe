// SPDX-License-Identifier: GPL-2.0-only
/* User-space VFIO access to a gpup VF; see gpup_vfio.h */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "gpup_vfio.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

int gpup_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int gpup_vf_create_on(const char *parent, const char *profile, char *uuid, size_t len)
{
	char path[PATH_MAX];
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

	if (!f || !fgets(uuid, len, f)) {
		if (f)
			fclose(f);
		return -EIO;
	}
	fclose(f);
	uuid[strcspn(uuid, "\n")] = 0;
	snprintf(path, sizeof(path), "%s/mdev_supported_types/gpup-%s/create", parent, profile);
	return gpup_write_file(path, uuid);
}

int gpup_vf_create(const char *profile, char *uuid, size_t len)
{
	return gpup_vf_create_on(GPUP_PARENT, profile, uuid, len);
}

int gpup_vf_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return gpup_write_file(path, "1");
}

int gpup_available_on(const char *parent, const char *profile)
{
	char path[PATH_MAX];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/mdev_supported_types/gpup-%s/available_instances",
		 parent, profile);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

int gpup_available(const char *profile)
{
	return gpup_available_on(GPUP_PARENT, profile);
}

int gpup_open_group(const char *uuid)
{
	char link[PATH_MAX], target[PATH_MAX], dev[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	snprintf(dev, sizeof(dev), "/dev/vfio/%s", strrchr(target, '/') + 1);
	n = open(dev, O_RDWR);
	return n < 0 ? -errno : (int)n;
}

/* What pci_enable_device() and pci_set_master() do: decode, master */
int gpup_enable(struct gpup_dev *d)
{
	uint16_t cmd;
	int ret;

	ret = gpup_cfg_rd(d, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	cmd = htole16(le16toh(cmd) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return gpup_cfg_wr(d, PCI_COMMAND, &cmd, sizeof(cmd));
}

int gpup_open(struct gpup_dev *d, const char *uuid)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned int i;
	int ret;

	memset(d, 0, sizeof(*d));
	d->container = -1;
	d->group = -1;
	d->fd = -1;
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);

	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0)
		return -errno;
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EINVAL;
	ret = gpup_open_group(uuid);
	if (ret < 0)
		goto err;
	d->group = ret;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		goto err_errno;
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto err_errno;
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d->fd < 0)
		goto err_errno;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			goto err_errno;
		d->region_off[i] = ri.offset;
		d->region_size[i] = ri.size;
		d->region_flags[i] = ri.flags;
	}
	d->vram_size = d->region_size[VFIO_PCI_BAR2_REGION_INDEX];
	ret = gpup_enable(d);
	if (ret)
		goto err;
	d->vram = mmap(NULL, d->vram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fd, d->region_off[VFIO_PCI_BAR2_REGION_INDEX]);
	if (d->vram == MAP_FAILED) {
		d->vram = NULL;
		goto err_errno;
	}
	return 0;

err_errno:
	ret = -errno;
err:
	gpup_close(d);
	return ret;
}

void gpup_close(struct gpup_dev *d)
{
	if (d->vram)
		munmap((void *)d->vram, d->vram_size);
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->vram = NULL;
	d->fd = -1;
	d->group = -1;
	d->container = -1;
}

uint32_t gpup_rd(struct gpup_dev *d, uint32_t reg)
{
	uint32_t v = 0xffffffff;

	if (pread(d->fd, &v, 4, d->region_off[VFIO_PCI_BAR0_REGION_INDEX] + reg) != 4)
		return 0xffffffff;
	return v;
}

void gpup_wr(struct gpup_dev *d, uint32_t reg, uint32_t val)
{
	if (pwrite(d->fd, &val, 4, d->region_off[VFIO_PCI_BAR0_REGION_INDEX] + reg) != 4)
		fprintf(stderr, "# register write %#x failed: %m\n", reg);
}

int gpup_cfg_rd(struct gpup_dev *d, unsigned int off, void *buf, size_t len)
{
	ssize_t n = pread(d->fd, buf, len,
			  d->region_off[VFIO_PCI_CONFIG_REGION_INDEX] + off);

	return n == (ssize_t)len ? 0 : -errno;
}

int gpup_cfg_wr(struct gpup_dev *d, unsigned int off, const void *buf, size_t len)
{
	ssize_t n = pwrite(d->fd, buf, len,
			   d->region_off[VFIO_PCI_CONFIG_REGION_INDEX] + off);

	return n == (ssize_t)len ? 0 : -errno;
}

int gpup_reset(struct gpup_dev *d)
{
	d->tail = 0;
	return ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

void gpup_ring_init(struct gpup_dev *d, uint32_t base, uint32_t size)
{
	d->ring_base = base;
	d->ring_size = size;
	d->tail = gpup_rd(d, GPUP_REG_RING_HEAD);
	gpup_wr(d, GPUP_REG_RING_BASE_LO, base);
	gpup_wr(d, GPUP_REG_RING_BASE_HI, 0);
	gpup_wr(d, GPUP_REG_RING_SIZE, size);
	gpup_wr(d, GPUP_REG_RING_TAIL, d->tail);
	gpup_wr(d, GPUP_REG_CTRL, GPUP_CTRL_ENGINE_ENABLE);
}

void gpup_submit(struct gpup_dev *d, uint32_t opcode, uint32_t value,
		 uint64_t dst, uint64_t src, uint64_t len)
{
	struct gpup_cmd cmd = {
		.opcode = htole32(opcode), .value = htole32(value),
		.dst = htole64(dst), .src = htole64(src), .len = htole64(len),
	};

	memcpy((void *)(d->vram + d->ring_base + d->tail), &cmd, sizeof(cmd));
	d->tail = (d->tail + sizeof(cmd)) & (d->ring_size - 1);
}

void gpup_kick(struct gpup_dev *d)
{
	__sync_synchronize();
	gpup_wr(d, GPUP_REG_RING_TAIL, d->tail);
	gpup_wr(d, GPUP_REG_DOORBELL, 1);
}

int gpup_wait_idle(struct gpup_dev *d, int timeout_ms)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < timeout_ms; i++) {
		uint32_t st = gpup_rd(d, GPUP_REG_STATUS);

		if (st & GPUP_STATUS_HALTED)
			return -EIO;
		if (!(st & GPUP_STATUS_BUSY))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int gpup_irq_eventfd(struct gpup_dev *d, unsigned int index)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;
	int32_t efd = eventfd(0, EFD_CLOEXEC);

	if (efd < 0)
		return -errno;
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set)) {
		int err = -errno;

		close(efd);
		return err;
	}
	return efd;
}

int gpup_irq_disable(struct gpup_dev *d, unsigned int index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .index = index,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

int gpup_irq_unmask(struct gpup_dev *d)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* 1 when signalled (and consumed), 0 on timeout */
int gpup_eventfd_wait(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int n = poll(&p, 1, timeout_ms);

	if (n <= 0)
		return n < 0 ? -errno : 0;
	return read(efd, &v, sizeof(v)) == sizeof(v) ? 1 : -EIO;
}

long long gpup_debugfs_num(const char *uuid, const char *file, const char *field)
{
	char path[PATH_MAX], line[256], name[64];
	long long val = -1, v;
	FILE *f;

	snprintf(path, sizeof(path), GPUP_DEBUGFS "/%s/%s", uuid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lli", name, &v) == 2 && !strcmp(name, field))
			val = v;
	fclose(f);
	return val;
}

long long gpup_debugfs_vram(const char *uuid, const char *field)
{
	return gpup_debugfs_num(uuid, "vram", field);
}

int gpup_debugfs_str(const char *uuid, const char *file, const char *field,
		     char *out, size_t len)
{
	char path[PATH_MAX], line[512];
	size_t flen = strlen(field);
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), GPUP_DEBUGFS "/%s/%s", uuid, file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) || line[flen] != ' ')
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(out, len, "%s", line + flen + strspn(line + flen, " "));
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* VFIO_DEVICE_FEATURE with a payload of @len bytes, copied in and out */
int gpup_device_feature(struct gpup_dev *d, uint32_t flags, void *data, size_t len)
{
	char buf[sizeof(struct vfio_device_feature) + 64] = {};
	struct vfio_device_feature *feat = (void *)buf;

	if (len > 64)
		return -EINVAL;
	feat->argsz = sizeof(*feat) + len;
	feat->flags = flags;
	if (len)
		memcpy(feat->data, data, len);
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, feat))
		return -errno;
	if (len)
		memcpy(data, feat->data, len);
	return 0;
}

bool gpup_kernel_has(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", sym) == 1 && !strcmp(sym, name);
	if (f)
		fclose(f);
	return found;
}

bool gpup_debug_kernel(void)
{
	return !access("/proc/lockdep", F_OK) || !access("/sys/kernel/debug/kmemleak", F_OK);
}

int gpup_mig_set_state(struct gpup_dev *d, uint32_t state)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };
	int ret = gpup_device_feature(d, VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig, sizeof(mig));

	return ret ? ret : mig.data_fd;
}

int gpup_mig_get_state(struct gpup_dev *d)
{
	struct vfio_device_feature_mig_state mig = {};
	int ret = gpup_device_feature(d, VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig, sizeof(mig));

	return ret ? ret : (int)mig.device_state;
}

int gpup_mig_precopy_info(int data_fd, uint64_t *initial, uint64_t *dirty)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	if (ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, &info))
		return -errno;
	*initial = info.initial_bytes;
	*dirty = info.dirty_bytes;
	return info.flags;	/* always 0: never an echo of what went in */
}

long long gpup_mig_data_size(struct gpup_dev *d)
{
	struct vfio_device_feature_mig_data_size sz = {};
	int ret = gpup_device_feature(d, VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &sz, sizeof(sz));

	return ret ? ret : (long long)sz.stop_copy_length;
}

static int nth_fd = -1;

/*
 * By default both fault types spare allocations that may sleep, and
 * page allocations spare order 0: that is nearly all of gpup's.  Quiet,
 * as a stack dump per failure would bury the log.
 */
int gpup_fail_nth_setup(void)
{
	static const char *const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "0" },
	};
	char path[128];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", knobs[i][0]);
		ret = gpup_write_file(path, knobs[i][1]);
		if (ret)
			return ret;
	}
	if (nth_fd < 0)
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	return nth_fd < 0 ? -errno : 0;
}

/* Plain pwrite/pread: neither allocates, so they count for nothing */
void gpup_fail_nth_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(nth_fd, buf, len, 0) != len)
		abort();
}

bool gpup_fail_nth_disarm(void)
{
	char buf[16] = "";
	bool fired;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	fired = !strtoul(buf, NULL, 10);
	gpup_fail_nth_arm(0);
	return fired;
}
