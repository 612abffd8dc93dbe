// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_migrate: one migration between two VFs through the VFIO uAPI, for
 * tests that watch it from outside (gpupctl monitor, gpupctl show).
 *
 *   gpup_migrate SRC DST [FILE]   pre-copy with a dirty round, stop-copy,
 *                                 the target resumed and both running again;
 *                                 FILE keeps a copy of the stream
 *   gpup_migrate ping VF          STOP then RUNNING: one pair of state events
 *
 * Exits 0 when the target took the whole stream, 1 otherwise (a refusal
 * is expected when the target is of another profile).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpup_vfio.h"

#define CHUNK		(256 * 1024)
#define MIB		(1024 * 1024)

static char buf[CHUNK];

static int fail(const char *what, int err)
{
	fprintf(stderr, "gpup_migrate: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* Pass @n bytes of stream to the target and to the copy */
static int pass(int dfd, FILE *copy, ssize_t n)
{
	const char *p = buf;

	if (copy && fwrite(buf, 1, n, copy) != (size_t)n)
		return -EIO;
	while (n > 0) {
		ssize_t w = write(dfd, p, n);

		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

/* Pre-copy until the source has nothing left but what a stop would send */
static int precopy(struct gpup_dev *src, int sfd, int dfd, FILE *copy)
{
	uint64_t initial, dirty;
	int ends = 0, i, ret;
	bool redirtied = false;
	ssize_t n;

	for (i = 0; i < 1000 && ends < 3; i++) {
		if (gpup_mig_precopy_info(sfd, &initial, &dirty) < 0)
			return -errno;
		n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == ENOMSG) {
			/* the first pass is over: dirty 1 MiB for one more round */
			if (!redirtied) {
				memset(src->vram + 2 * MIB, 0x77, MIB);
				redirtied = true;
			}
			ends++;
			usleep(20000);
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		ret = pass(dfd, copy, n);
		if (ret)
			return ret;
	}
	return 0;
}

static int migrate(struct gpup_dev *src, struct gpup_dev *dst, FILE *copy)
{
	int sfd, dfd, ret;
	ssize_t n;

	memset(src->vram, 0x5a, 8 * MIB);
	dfd = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING);
	if (dfd < 0)
		return fail("target to RESUMING", dfd);
	sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY);
	if (sfd < 0)
		return fail("source to PRE_COPY", sfd);
	ret = precopy(src, sfd, dfd, copy);
	if (ret) {
		/* the target refused: the source runs on, as QEMU leaves it */
		fail("pre-copy", ret);
		close(sfd);
		gpup_mig_set_state(src, VFIO_DEVICE_STATE_RUNNING);
		close(dfd);
		gpup_mig_set_state(dst, VFIO_DEVICE_STATE_STOP);
		return 1;
	}
	ret = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
	if (ret != -1)
		return fail("source to STOP_COPY", ret < 0 ? ret : -EBADF);
	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		ret = pass(dfd, copy, n);
		if (ret)
			return fail("stop-copy", ret);
	}
	if (n < 0)
		return fail("stop-copy read", -errno);
	close(sfd);
	ret = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP);
	if (ret != -1)
		return fail("source to STOP", ret);
	close(dfd);
	ret = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_STOP);
	if (ret != -1)
		return fail("target to STOP", ret);
	ret = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING);
	if (ret != -1)
		return fail("target to RUNNING", ret);
	ret = gpup_mig_set_state(src, VFIO_DEVICE_STATE_RUNNING);
	if (ret != -1)
		return fail("source to RUNNING", ret);
	return 0;
}

int main(int argc, char **argv)
{
	struct gpup_dev src, dst;
	FILE *copy = NULL;
	int ret;

	if (argc == 3 && !strcmp(argv[1], "ping")) {
		ret = gpup_open(&src, argv[2]);
		if (ret)
			return fail(argv[2], ret);
		ret = gpup_mig_set_state(&src, VFIO_DEVICE_STATE_STOP);
		if (ret == -1)
			ret = gpup_mig_set_state(&src, VFIO_DEVICE_STATE_RUNNING);
		gpup_close(&src);
		return ret == -1 ? 0 : fail("ping", ret);
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: gpup_migrate SRC DST [FILE] | gpup_migrate ping VF\n");
		return 2;
	}
	ret = gpup_open(&src, argv[1]);
	if (ret)
		return fail(argv[1], ret);
	ret = gpup_open(&dst, argv[2]);
	if (ret)
		return fail(argv[2], ret);
	if (argc == 4) {
		copy = fopen(argv[3], "wb");
		if (!copy)
			return fail(argv[3], errno);
	}
	ret = migrate(&src, &dst, copy);
	if (copy && fclose(copy))
		ret = fail(argv[3], errno);
	gpup_close(&dst);
	gpup_close(&src);
	return ret;
}
