// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: VRAM data copied to the user with its CRC-32C.
 *
 * A VRAM record's CRC must cover exactly the bytes the user receives, while
 * the guest may still be storing into the page being sent.  So each piece
 * of a page is loaded once, into a snapshot buffer of this CPU; the kernel's
 * crc32c() sums the snapshot and the snapshot is what the user receives.  A
 * store that races with the load leaves the page dirty, so it goes out again
 * in a later round.
 *
 * This file once folded each word into the CRC on its way to the user, in
 * one pass without the snapshot, through one chain of CRC32 instructions.
 * That is slower on hardware: the chain is bound by the instruction's
 * latency, while crc32c() runs several chains or carry-less multiplications
 * over the whole page.  tools/testing/gpup/crcbench times both
 * (Documentation/gpup/migration.rst has the figures).
 */
#include <linux/crc32c.h>
#include <linux/init.h>
#include <linux/local_lock.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include "gpup_mig.h"

/* A page's worth: crc32c() is at its fastest over long buffers */
struct crc_snap {
	local_lock_t lock;
	u8 buf[GPUP_MIG_PAGE_SIZE];
};

static struct crc_snap __percpu *crc_snaps;

/* crc32c(), for the bytes of the saving file's own copy of a page */
u32 gpup_crc(u32 crc, const void *buf, size_t len)
{
	return crc32c(crc, buf, len);
}

/* Up to a snapshot's worth of @src to the user's @dst, summed into *@crc */
static int crc_copy_piece(void __user *dst, const void *src, size_t len, u32 *crc)
{
	struct crc_snap *snap;
	int ret = 0;

	local_lock(&crc_snaps->lock);
	snap = this_cpu_ptr(crc_snaps);
	/* racing with the guest's stores is expected: see the top */
	data_race(memcpy(snap->buf, src, len));
	if (copy_to_user_nofault(dst, snap->buf, len))
		ret = -EFAULT;
	else
		*crc = crc32c(*crc, snap->buf, len);
	local_unlock(&crc_snaps->lock);
	return ret;
}

/**
 * gpup_crc_copy_to_user() - copy to the user and fold what was copied into a CRC
 * @dst: the user's buffer
 * @src: the bytes, which may change meanwhile
 * @len: how many
 * @crc: the running CRC-32C, raw as crc32c() takes and returns it
 *
 * Each byte of @src is loaded once, and the bytes the user receives are the
 * bytes summed, even if @src changes during the copy.  The copy does not
 * sleep and does not fault pages in: a user page that is not present fails
 * it, and the caller faults the buffer in and copies again.
 *
 * Return: 0, or -EFAULT with *@crc as it was (the user may have received
 * part of the bytes).
 */
int gpup_crc_copy_to_user(void __user *dst, const void *src, size_t len, u32 *crc)
{
	u32 c = *crc;
	size_t n;
	int ret;

	for (; len; len -= n, src += n, dst += n) {
		n = min_t(size_t, len, GPUP_MIG_PAGE_SIZE);
		ret = crc_copy_piece(dst, src, n, &c);
		if (ret)
			return ret;
	}
	*crc = c;
	return 0;
}

/**
 * gpup_crc_init() - allocate the snapshot buffers of gpup_crc_copy_to_user()
 *
 * Return: 0 or -ENOMEM.
 */
int __init gpup_crc_init(void)
{
	int cpu;

	crc_snaps = alloc_percpu(struct crc_snap);
	if (!crc_snaps)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		local_lock_init(&per_cpu_ptr(crc_snaps, cpu)->lock);
	return 0;
}

/**
 * gpup_crc_exit() - free what gpup_crc_init() allocated
 */
void gpup_crc_exit(void)
{
	free_percpu(crc_snaps);
}
