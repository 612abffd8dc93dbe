// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every allocation failure on the way of a migration, one at a time.
 *
 * For each syscall QEMU makes in a migration (device open, each state
 * change with a listener in gpup's "mig" netlink group, so that it sends
 * its events, the data fds' reads and writes, PRECOPY_INFO,
 * MIG_DATA_SIZE), for mdev create and for a netlink dump, fail-nth
 * fails the 1st, 2nd, 3rd ... allocation the call makes, until the call
 * goes through with none left to fail.  At every point the call either
 * fails with ENOMEM (ENOBUFS where netlink says so) and leaves a VF that
 * a reset brings back to a working engine, or succeeds and the migration
 * it is part of ends bit-exact; an error one call later is as good as
 * one at once, a wrong or lost byte is not.  Prints how many failure
 * points each call had.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and
 * FAULT_INJECTION_DEBUG_FS: the debug kernel's configuration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/gpup_netlink.h>

#include "gpup_vfio.h"
#include "tap.h"

#define PAGE		4096
#define PAGES		24
#define STREAM_CAP	(PAGES * PAGE + 1024 * 1024)
#define WALK_MAX	5000	/* a call with more failure points is a bug */

static char uuid_a[40], uuid_b[40];
static struct gpup_dev A, B;		/* small source, small target */
static char *stream;

/* [*start, *end) of a kernel function, from /proc/kallsyms */
static int kernel_function(const char *name, unsigned long long *start,
			   unsigned long long *end)
{
	unsigned long long addr, next = ~0ULL;
	char type, sym[256];
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	*start = 0;
	while (fscanf(f, "%llx %c %255s%*[^\n]", &addr, &type, sym) == 3)
		if (!strcmp(sym, name) && (type == 't' || type == 'T'))
			*start = addr;
	rewind(f);
	while (*start && fscanf(f, "%llx %c %255s%*[^\n]", &addr, &type, sym) == 3)
		if (addr > *start && addr < next)
			next = addr;
	fclose(f);
	*end = next;
	return *start && next != ~0ULL ? 0 : -ENOENT;
}

/*
 * VFIO core's vfio_create_group() puts a group that still holds its
 * iommu_group when one of its allocations fails, and the release of
 * that group WARNs (drivers/vfio/group.c, 6.12).  Not gpup's code: the
 * walks leave the allocations under that function alone.
 */
static int spare_vfio_create_group(void)
{
	static const char *const types[] = { "failslab", "fail_page_alloc" };
	unsigned long long start = 0, end = 0;
	char path[128], val[32];
	unsigned int i;
	int ret;

	ret = kernel_function("vfio_create_group", &start, &end);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(types) && !ret; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/reject-start", types[i]);
		snprintf(val, sizeof(val), "%#llx", start);
		ret = gpup_write_file(path, val);
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/reject-end", types[i]);
		snprintf(val, sizeof(val), "%#llx", end);
		ret = ret ?: gpup_write_file(path, val);
	}
	return ret;
}

/* --- the VFs: known content, a check that the engine still runs ----- */

static uint32_t word(uint32_t tag, unsigned int page, unsigned int i)
{
	return tag * 2246822519U ^ page << 16 ^ i;
}

static void load(struct gpup_dev *d, uint32_t tag)
{
	unsigned int p, i;

	for (p = 0; p < PAGES; p++) {
		uint32_t *w = (uint32_t *)(d->vram + (uint64_t)p * 3 * PAGE);

		for (i = 0; i < PAGE / 4; i++)
			w[i] = word(tag, p, i);
	}
	gpup_wr(d, GPUP_REG_SCRATCH2, tag);
}

/* The target holds the source's VRAM and SCRATCH2, every byte */
static bool same_device(struct gpup_dev *a, struct gpup_dev *b)
{
	return gpup_debugfs_vram(a->uuid, "checksum") == gpup_debugfs_vram(b->uuid, "checksum") &&
	       gpup_debugfs_vram(a->uuid, "pages_allocated") ==
	       gpup_debugfs_vram(b->uuid, "pages_allocated") &&
	       gpup_rd(a, GPUP_REG_SCRATCH2) == gpup_rd(b, GPUP_REG_SCRATCH2);
}

/* After a reset: RUNNING, and its engine fills a page */
static bool works(struct gpup_dev *d)
{
	const uint32_t data = 0x200000;

	if (gpup_reset(d) || gpup_mig_get_state(d) != VFIO_DEVICE_STATE_RUNNING)
		return false;
	gpup_ring_init(d, 0, 0x1000);
	gpup_submit(d, GPUP_CMD_FILL, 0x5a5a5a5a, data, 0, PAGE);
	gpup_kick(d);
	return !gpup_wait_idle(d, 20000) && *(uint32_t *)(d->vram + data) == 0x5a5a5a5a;
}

/* --- a migration, one call of it armed ------------------------------ */

enum step {
	S_PRE_COPY, S_PRECOPY_INFO, S_PRECOPY_READ, S_DATA_SIZE, S_STOP_COPY,
	S_STOPCOPY_READ, S_SRC_STOP, S_SRC_RUNNING, S_DST_STOP, S_RESUMING,
	S_WRITE, S_DST_LOAD, S_DST_RUNNING, NR_STEPS
};

static const char *const step_name[NR_STEPS] = {
	[S_PRE_COPY]		= "RUNNING->PRE_COPY",
	[S_PRECOPY_INFO]	= "VFIO_MIG_GET_PRECOPY_INFO",
	[S_PRECOPY_READ]	= "read() in PRE_COPY",
	[S_DATA_SIZE]		= "MIG_DATA_SIZE",
	[S_STOP_COPY]		= "PRE_COPY->STOP_COPY",
	[S_STOPCOPY_READ]	= "read() in STOP_COPY",
	[S_SRC_STOP]		= "STOP_COPY->STOP",
	[S_SRC_RUNNING]		= "STOP->RUNNING (source)",
	[S_DST_STOP]		= "RUNNING->STOP (target)",
	[S_RESUMING]		= "STOP->RESUMING",
	[S_WRITE]		= "write() of the stream",
	[S_DST_LOAD]		= "RESUMING->STOP",
	[S_DST_RUNNING]		= "STOP->RUNNING (target)",
};

struct mig {
	enum step armed;
	unsigned int nth;
	bool fired;
	enum step failed;		/* NR_STEPS: none */
	int err;
	int sfd, dfd;			/* data fds */
	long len, off;			/* stream bytes read, written */
};

static int state_ret(struct gpup_dev *d, uint32_t state, int *fd)
{
	int ret = gpup_mig_set_state(d, state);

	if (ret >= 0)
		*fd = ret;
	return ret == -1 ? 0 : ret;
}

static long read_ret(ssize_t n)
{
	return n < 0 ? -errno : n;
}

/* The one syscall of @s */
static long step_call(struct mig *m, enum step s)
{
	uint64_t initial, dirty;
	long long size;
	int unused;

	switch (s) {
	case S_PRE_COPY:
		return state_ret(&A, VFIO_DEVICE_STATE_PRE_COPY, &m->sfd);
	case S_PRECOPY_INFO:
		return gpup_mig_precopy_info(m->sfd, &initial, &dirty);
	case S_PRECOPY_READ:
	case S_STOPCOPY_READ:
		return read_ret(read(m->sfd, stream + m->len, STREAM_CAP - m->len));
	case S_DATA_SIZE:
		size = gpup_mig_data_size(&A);
		return size < 0 ? size : 0;
	case S_STOP_COPY:
		return state_ret(&A, VFIO_DEVICE_STATE_STOP_COPY, &unused);
	case S_SRC_STOP:
		return state_ret(&A, VFIO_DEVICE_STATE_STOP, &unused);
	case S_SRC_RUNNING:
		return state_ret(&A, VFIO_DEVICE_STATE_RUNNING, &unused);
	case S_DST_STOP:
		return state_ret(&B, VFIO_DEVICE_STATE_STOP, &unused);
	case S_RESUMING:
		return state_ret(&B, VFIO_DEVICE_STATE_RESUMING, &m->dfd);
	case S_WRITE:
		return read_ret(write(m->dfd, stream + m->off, m->len - m->off));
	case S_DST_LOAD:
		return state_ret(&B, VFIO_DEVICE_STATE_STOP, &unused);
	case S_DST_RUNNING:
		return state_ret(&B, VFIO_DEVICE_STATE_RUNNING, &unused);
	default:
		return -EINVAL;
	}
}

/*
 * What follows a call, unarmed, as QEMU goes on: pre-copy reads to the
 * temporary end, stop-copy reads to the end, the rest of a short write.
 */
static long step_rest(struct mig *m, enum step s, long ret)
{
	switch (s) {
	case S_PRECOPY_READ:
		m->len += ret;
		while ((ret = step_call(m, s)) > 0)
			m->len += ret;
		return ret == -ENOMSG ? 0 : ret;
	case S_STOPCOPY_READ:
		m->len += ret;
		while ((ret = step_call(m, s)) > 0)
			m->len += ret;
		return ret;
	case S_WRITE:
		m->off += ret;
		while (m->off < m->len && (ret = step_call(m, s)) > 0)
			m->off += ret;
		return ret < 0 ? ret : 0;
	default:
		return 0;
	}
}

static int migrate(struct mig *m)
{
	enum step s;
	long ret;

	for (s = 0; s < NR_STEPS; s++) {
		if (s == m->armed)
			gpup_fail_nth_arm(m->nth);
		ret = step_call(m, s);
		if (s == m->armed)
			m->fired = gpup_fail_nth_disarm();
		if (ret >= 0)
			ret = step_rest(m, s, ret);
		if (ret < 0) {
			m->failed = s;
			m->err = -ret;
			return ret;
		}
	}
	m->failed = NR_STEPS;
	return 0;
}

static void mig_close(struct mig *m)
{
	if (m->sfd >= 0)
		close(m->sfd);
	if (m->dfd >= 0)
		close(m->dfd);
}

static int listener = -1;		/* subscribed to the "mig" events */

/* Events so far: read, or the socket would fill and drop them */
static void drain_events(void)
{
	static char buf[16384];

	while (listener >= 0 && recv(listener, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Counts of the walks, printed at the end */
static unsigned int points[NR_STEPS];

/*
 * One point: @m->armed's @m->nth-th allocation fails.  Returns 1 when
 * the call made fewer allocations (the walk of it is over), 0 to go on,
 * -1 on a failed check.
 */
static int one_point(struct mig *m, uint32_t tag)
{
	int ret, sa, sb;

	load(&A, tag);
	ret = migrate(m);
	sa = gpup_mig_get_state(&A);
	sb = gpup_mig_get_state(&B);
	mig_close(m);
	drain_events();
	if (!ret) {
		if (!CHECK(same_device(&A, &B),
			   "%s, allocation %u failed: the migration succeeded, the target differs",
			   step_name[m->armed], m->nth))
			return -1;
		return !m->fired;
	}
	/* only an injected failure may fail a call, at it or after it */
	if (!CHECK(m->fired && m->failed >= m->armed,
		   "%s, allocation %u: %s failed with %s, %s", step_name[m->armed], m->nth,
		   step_name[m->failed], strerror(m->err),
		   m->fired ? "before the failure" : "none injected"))
		return -1;
	if (!CHECK(m->err == ENOMEM, "%s, allocation %u: %s failed with %s, not ENOMEM",
		   step_name[m->armed], m->nth, step_name[m->failed], strerror(m->err)))
		return -1;
	/* a state is the one before the call, or ERROR; both come back */
	if (!CHECK(sa >= 0 && sb >= 0, "%s, allocation %u: state unreadable (%d, %d)",
		   step_name[m->armed], m->nth, sa, sb) ||
	    !CHECK(works(&A) && works(&B), "%s, allocation %u: a VF stuck after a reset",
		   step_name[m->armed], m->nth))
		return -1;
	return 0;
}

static void test_migration_syscalls(void)
{
	uint32_t tag = 0x100;
	enum step s;
	int ret;

	for (s = 0; s < NR_STEPS; s++) {
		struct mig m = { .armed = s };

		for (m.nth = 1; m.nth < WALK_MAX; m.nth++) {
			m = (struct mig){ .armed = s, .nth = m.nth, .sfd = -1, .dfd = -1 };
			if (!CHECK(works(&A) && works(&B), "VFs not usable before %s",
				   step_name[s]))
				return;
			ret = one_point(&m, tag++);
			if (ret < 0)
				return;
			if (ret)
				break;
		}
		if (!CHECK(m.nth < WALK_MAX, "%s: no end to its allocations", step_name[s]))
			return;
		points[s] = m.nth - 1;
		printf("# %-28s %3u failure points, all walked\n", step_name[s], points[s]);
	}
}

/* --- device open: VFIO_GROUP_GET_DEVICE_FD -------------------------- */

static char uuid_c[40];

/* A small VF's VRAM size through the open device, or -errno */
static long long vram_size(int fd)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR2_REGION_INDEX };

	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri) ? -errno : (long long)ri.size;
}

static void walk_open(int group)
{
	unsigned int n;
	bool fired;
	int fd, err;

	for (n = 1; n < WALK_MAX; n++) {
		gpup_fail_nth_arm(n);
		fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid_c);
		err = errno;
		fired = gpup_fail_nth_disarm();
		if (fd >= 0) {
			long long size = vram_size(fd);

			close(fd);
			if (!CHECK(size == 64 * MIB, "open, allocation %u failed: VRAM %lld",
				   n, size))
				return;
			if (!fired)
				break;
			continue;
		}
		if (!CHECK(fired && err == ENOMEM, "open, allocation %u: %s%s", n,
			   strerror(err), fired ? "" : ", none injected"))
			return;
	}
	printf("# %-28s %3u failure points, all walked\n", "VFIO_GROUP_GET_DEVICE_FD", n - 1);
}

static void test_device_open(void)
{
	int container = -1, group = -1;

	if (!CHECK(!gpup_vf_create("small", uuid_c, sizeof(uuid_c)), "create"))
		return;
	container = open("/dev/vfio/vfio", O_RDWR);
	group = gpup_open_group(uuid_c);
	if (CHECK(container >= 0 && group >= 0, "container %d, group %d", container, group) &&
	    CHECK(!ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) &&
		  !ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), "container: %s",
		  strerror(errno)))
		walk_open(group);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	CHECK(!gpup_vf_remove(uuid_c), "remove");
}

/* --- mdev create: the sysfs write ----------------------------------- */

static bool vf_exists(const char *uuid)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return !stat(path, &st);
}

static unsigned int lost_nodes;

/*
 * A VF that create said was made opens and runs its engine.  devtmpfs
 * makes a device's node on a best-effort basis: a node it could not
 * allocate is no fault of the VF (udev makes it from the uevent), so
 * that VF is opened through a node made here.
 */
static bool created_works(unsigned int n)
{
	char link[128], target[128], node[64], dev[128];
	unsigned int major, minor;
	struct gpup_dev d;
	struct stat st;
	ssize_t len;
	bool ok;
	FILE *f;

	snprintf(link, sizeof(link), "/sys/bus/mdev/devices/%s/iommu_group", uuid_c);
	len = readlink(link, target, sizeof(target) - 1);
	if (!CHECK(len > 0, "create, allocation %u: no iommu group", n))
		return false;
	target[len] = 0;
	snprintf(node, sizeof(node), "/dev/vfio/%s", strrchr(target, '/') + 1);
	if (stat(node, &st)) {
		snprintf(dev, sizeof(dev), "/sys/class/vfio/%s/dev", strrchr(target, '/') + 1);
		f = fopen(dev, "r");
		ok = f && fscanf(f, "%u:%u", &major, &minor) == 2 &&
		     !mknod(node, S_IFCHR | 0600, makedev(major, minor));
		if (f)
			fclose(f);
		if (!CHECK(ok, "create, allocation %u: no %s, nor its numbers", n, node))
			return false;
		lost_nodes++;
	}
	if (!CHECK(!gpup_open(&d, uuid_c), "create, allocation %u: the VF does not open", n))
		return false;
	ok = works(&d);
	gpup_close(&d);
	return ok;
}

static void test_mdev_create(void)
{
	const char *create = GPUP_PARENT "/mdev_supported_types/gpup-small/create";
	int before = gpup_available("small");
	unsigned int n;
	ssize_t ret;
	bool fired;
	int fd, err;

	for (n = 1; n < WALK_MAX; n++) {
		snprintf(uuid_c, sizeof(uuid_c), "6c1d0000-0000-4000-8000-%012x", n);
		fd = open(create, O_WRONLY);
		if (!CHECK(fd >= 0, "open %s: %s", create, strerror(errno)))
			return;
		gpup_fail_nth_arm(n);
		ret = write(fd, uuid_c, strlen(uuid_c));
		err = errno;
		fired = gpup_fail_nth_disarm();
		close(fd);
		if (ret >= 0) {
			if (!CHECK(created_works(n),
				   "create, allocation %u failed: the VF does not work", n) ||
			    !CHECK(!gpup_vf_remove(uuid_c), "remove"))
				return;
			if (!fired)
				break;
			continue;
		}
		if (!CHECK(fired && err == ENOMEM, "create, allocation %u: %s%s", n,
			   strerror(err), fired ? "" : ", none injected") ||
		    !CHECK(!vf_exists(uuid_c), "create, allocation %u: refused, yet the VF exists",
			   n) ||
		    !CHECK(gpup_available("small") == before,
			   "create, allocation %u: refused, yet %d instances left, not %d",
			   n, gpup_available("small"), before))
			return;
	}
	CHECK(gpup_available("small") == before, "%d instances left, not %d",
	      gpup_available("small"), before);
	printf("# %-28s %3u failure points, all walked (%u device nodes lost by devtmpfs)\n",
	       "mdev create", n - 1, lost_nodes);
}

/* --- a netlink dump of the VFs -------------------------------------- */

struct nl_msg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[256];
};

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (s >= 0)
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static int nl_send(int s, uint16_t type, uint16_t flags, uint8_t cmd, const char *name)
{
	struct nl_msg m = {
		.n = { .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = 1 },
		.g = { .cmd = cmd, .version = 1 },
	};
	struct nlattr *a = (struct nlattr *)m.attrs;
	size_t len = NLMSG_LENGTH(GENL_HDRLEN);

	if (name) {
		a->nla_type = CTRL_ATTR_FAMILY_NAME;
		a->nla_len = NLA_HDRLEN + strlen(name) + 1;
		memcpy((char *)a + NLA_HDRLEN, name, strlen(name) + 1);
		len += NLA_ALIGN(a->nla_len);
	}
	m.n.nlmsg_len = len;
	return send(s, &m, len, 0) < 0 ? -errno : 0;
}

static struct nlattr *nla_next_attr(const struct nlattr *a)
{
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

static void *nla_payload(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

/* The id of the multicast group @name in a CTRL_ATTR_MCAST_GROUPS nest */
static uint32_t mcast_group(struct nlattr *nest, const char *name)
{
	struct nlattr *grp, *a, *end = nla_next_attr(nest);
	uint32_t id;
	bool match;

	for (grp = nla_payload(nest); grp < end; grp = nla_next_attr(grp)) {
		id = 0;
		match = false;
		for (a = nla_payload(grp); a < nla_next_attr(grp); a = nla_next_attr(a)) {
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				id = *(uint32_t *)nla_payload(a);
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				match = !strcmp(nla_payload(a), name);
		}
		if (match)
			return id;
	}
	return 0;
}

struct nl_family {
	uint16_t id;
	uint32_t mig_group;
};

/*
 * Messages of the reply until its end: how many carried @cmd, or -errno.
 * @fam gets the family's id and "mig" group from a CTRL_CMD_NEWFAMILY reply.
 */
static int nl_recv(int s, uint8_t cmd, struct nl_family *fam)
{
	static char buf[32768];
	int count = 0;

	for (;;) {
		ssize_t len = recv(s, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			return -errno;
		for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct genlmsghdr *g = NLMSG_DATA(h);
			struct nlattr *a;

			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: count;
			if (h->nlmsg_type == NLMSG_DONE)
				return *(int *)NLMSG_DATA(h) ?: count;
			count += g->cmd == cmd;
			if (!fam)
				continue;
			for (a = (void *)((char *)g + GENL_HDRLEN);
			     (char *)a < (char *)h + h->nlmsg_len; a = nla_next_attr(a)) {
				if (a->nla_type == CTRL_ATTR_FAMILY_ID)
					fam->id = *(uint16_t *)nla_payload(a);
				if (a->nla_type == CTRL_ATTR_MCAST_GROUPS)
					fam->mig_group = mcast_group(a, GPUP_MCGRP_MIG);
			}
			return count;
		}
	}
}

static int vf_dump(uint16_t family, unsigned int nth, bool *fired)
{
	int s = nl_open(), ret;

	*fired = false;
	if (s < 0)
		return -errno;
	gpup_fail_nth_arm(nth);
	ret = nl_send(s, family, NLM_F_DUMP, GPUP_CMD_VF_GET, NULL);
	if (!ret)
		ret = nl_recv(s, GPUP_CMD_VF_GET, NULL);
	*fired = gpup_fail_nth_disarm();
	close(s);
	return ret;
}

static int nl_resolve(struct nl_family *fam)
{
	int s = nl_open(), ret;

	if (s < 0)
		return -errno;
	ret = nl_send(s, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, GPUP_FAMILY_NAME);
	ret = ret ?: nl_recv(s, CTRL_CMD_NEWFAMILY, fam);
	close(s);
	return ret == 1 && fam->id && fam->mig_group ? 0 : ret < 0 ? ret : -ENOENT;
}

/* A socket in the "mig" group, so that state changes send events */
static int nl_listen(void)
{
	struct nl_family fam = {};
	int ret = nl_resolve(&fam);

	if (ret)
		return ret;
	listener = nl_open();
	if (listener < 0)
		return -errno;
	if (setsockopt(listener, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &fam.mig_group,
		       sizeof(fam.mig_group)))
		return -errno;
	return 0;
}

static void test_netlink_dump(void)
{
	struct nl_family fam = {};
	uint16_t family;
	int ret, vfs;
	unsigned int n;
	bool fired;

	ret = nl_resolve(&fam);
	if (!CHECK(!ret, "family %s: %s", GPUP_FAMILY_NAME, strerror(-ret)))
		return;
	family = fam.id;
	vfs = vf_dump(family, 0, &fired);
	if (!CHECK(vfs >= 2, "dump: %d VFs", vfs))
		return;
	for (n = 1; n < WALK_MAX; n++) {
		ret = vf_dump(family, n, &fired);
		if (ret >= 0) {
			if (!CHECK(ret == vfs, "dump, allocation %u failed: %d VFs, not %d", n,
				   ret, vfs))
				return;
			if (!fired)
				break;
			continue;
		}
		/* netlink reports a reply it could not allocate as ENOBUFS */
		if (!CHECK(fired && (ret == -ENOMEM || ret == -ENOBUFS),
			   "dump, allocation %u: %s%s", n, strerror(-ret),
			   fired ? "" : ", none injected"))
			return;
	}
	printf("# %-28s %3u failure points, all walked\n", "netlink dump of the VFs", n - 1);
}

/* --- and after all of it -------------------------------------------- */

static void test_later_migration_bit_exact(void)
{
	struct mig m = { .armed = NR_STEPS, .sfd = -1, .dfd = -1 };
	int ret;

	if (!CHECK(works(&A) && works(&B), "VFs not usable"))
		return;
	load(&A, 0xc0ffee);
	ret = migrate(&m);
	mig_close(&m);
	if (!CHECK(!ret, "%s failed: %s", step_name[m.failed], strerror(m.err)))
		return;
	CHECK(same_device(&A, &B), "the target differs from the source");
}

static const struct tap_test tests[] = {
	{ "migration_syscalls_fail_cleanly", test_migration_syscalls },
	{ "device_open_fails_cleanly", test_device_open },
	{ "mdev_create_fails_cleanly", test_mdev_create },
	{ "netlink_dump_fails_cleanly", test_netlink_dump },
	{ "later_migration_bit_exact", test_later_migration_bit_exact },
};

int main(void)
{
	const struct tap_vf vfs[] = { { "small", uuid_a, &A }, { "small", uuid_b, &B } };
	int ret;

	ret = gpup_fail_nth_setup();
	if (ret) {
		printf("1..0 # SKIP no fault injection: %s\n", strerror(-ret));
		return 0;
	}
	ret = nl_listen();
	if (ret) {
		printf("Bail out! cannot listen to gpup's events: %s\n", strerror(-ret));
		return 1;
	}
	ret = spare_vfio_create_group();
	if (ret) {
		printf("Bail out! cannot spare vfio_create_group(): %s\n", strerror(-ret));
		return 1;
	}
	stream = malloc(STREAM_CAP);
	if (stream)
		memset(stream, 0, STREAM_CAP);
	/*
	 * No page faults inside a walked call: they would take its failures.
	 * Not MCL_FUTURE: that would populate all of a VF's VRAM mmap.
	 */
	if (!stream || mlockall(MCL_CURRENT))
		return 1;
	return tap_main("fail-nth", tests, ARRAY_SIZE(tests), vfs, ARRAY_SIZE(vfs));
}
