// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_migrate: one VFIO migration between two VFs in this guest, driven
 * the way QEMU drives it, for tests that watch a migration from outside
 * (netlink monitors, management tools).
 *
 *   gpup_migrate [--fill MIB] [--pause MS] [--save FILE] SRC_UUID DST_UUID
 *   gpup_migrate --ping UUID
 *
 * --fill writes MIB MiB of the source's VRAM with its engine first, so
 * the stream carries data; --pause sleeps between pre-copy reads, so a
 * watcher sees the migration in flight; --save keeps a copy of the
 * stream in FILE.  Exits 0 when the target took the whole stream, 1 when
 * a step failed (the reason on stderr).  --ping only takes the VF to STOP
 * and back to RUNNING, for a watcher to see that it is listening.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpup_vfio.h"

#define CHUNK	(256 * 1024)

static char buf[CHUNK];
static FILE *save;		/* --save: a copy of the stream */

/* A state change that hands out no data fd returns -1, not an errno */
static bool step_failed(int ret)
{
	return ret < 0 && ret != -1;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "gpup_migrate: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* Move what the source has now to the target; 0 at a (temporary) end */
static int pump(int sfd, int dfd, long long *moved)
{
	ssize_t n, w, off;

	for (;;) {
		n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == ENOMSG)
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (save && fwrite(buf, 1, n, save) != (size_t)n)
			return -EIO;
		for (off = 0; off < n; off += w) {
			w = write(dfd, buf + off, n - off);
			if (w < 0)
				return -errno;
		}
		*moved += n;
	}
}

static int fill(struct gpup_dev *d, unsigned int mib)
{
	gpup_ring_init(d, 0, 0x1000);
	gpup_submit(d, GPUP_CMD_FILL, 0x5a5a5a5a, 0x100000, 0, (uint64_t)mib << 20);
	gpup_submit(d, GPUP_CMD_FENCE, 1, 0, 0, 0);
	gpup_kick(d);
	return gpup_wait_idle(d, 60000);
}

static int ping(const char *uuid)
{
	struct gpup_dev d;
	int ret;

	if (gpup_open(&d, uuid))
		return fail("open", EIO);
	ret = gpup_mig_set_state(&d, VFIO_DEVICE_STATE_STOP);
	if (!step_failed(ret))
		ret = gpup_mig_set_state(&d, VFIO_DEVICE_STATE_RUNNING);
	gpup_close(&d);
	return step_failed(ret) ? fail("ping", ret) : 0;
}

int main(int argc, char **argv)
{
	unsigned int mib = 0, pause_ms = 0;
	const char *save_path = NULL;
	struct gpup_dev src, dst;
	long long moved = 0;
	int sfd, dfd, ret, i;
	uint64_t initial, dirty;

	for (i = 1; i + 2 < argc; i += 2) {
		if (!strcmp(argv[i], "--fill"))
			mib = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--pause"))
			pause_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--save"))
			save_path = argv[i + 1];
		else
			break;
	}
	if (argc == 3 && !strcmp(argv[1], "--ping"))
		return ping(argv[2]);
	if (argc - i != 2) {
		fprintf(stderr, "usage: gpup_migrate [--fill MIB] [--pause MS] [--save FILE] %s\n",
			"SRC DST\n       gpup_migrate --ping VF");
		return 2;
	}
	if (save_path) {
		save = fopen(save_path, "wb");
		if (!save)
			return fail(save_path, errno);
	}
	if (gpup_open(&src, argv[i]) || gpup_open(&dst, argv[i + 1]))
		return fail("open", EIO);
	if (mib && fill(&src, mib))
		return fail("fill", ETIMEDOUT);

	sfd = gpup_mig_set_state(&src, VFIO_DEVICE_STATE_PRE_COPY);
	if (sfd < 0)
		return fail("source PRE_COPY", sfd);
	dfd = gpup_mig_set_state(&dst, VFIO_DEVICE_STATE_RESUMING);
	if (dfd < 0)
		return fail("target RESUMING", dfd);
	/* pre-copy: the initial bytes, then rounds until nothing is dirty */
	do {
		ret = pump(sfd, dfd, &moved);
		if (ret)
			return fail("pre-copy", ret);
		usleep(pause_ms * 1000);
		ret = gpup_mig_precopy_info(sfd, &initial, &dirty);
		if (ret < 0)
			return fail("PRECOPY_INFO", ret);
	} while (initial || dirty);

	ret = gpup_mig_set_state(&src, VFIO_DEVICE_STATE_STOP_COPY);
	if (step_failed(ret))
		return fail("source STOP_COPY", ret);
	ret = pump(sfd, dfd, &moved);
	if (ret)
		return fail("stop-copy", ret);
	ret = gpup_mig_set_state(&dst, VFIO_DEVICE_STATE_STOP);
	if (step_failed(ret))
		return fail("target STOP", ret);
	gpup_mig_set_state(&dst, VFIO_DEVICE_STATE_RUNNING);
	gpup_mig_set_state(&src, VFIO_DEVICE_STATE_STOP);
	close(sfd);
	close(dfd);
	if (save && fclose(save))
		return fail("--save", errno);
	printf("gpup_migrate: %lld bytes\n", moved);
	gpup_close(&src);
	gpup_close(&dst);
	return 0;
}
