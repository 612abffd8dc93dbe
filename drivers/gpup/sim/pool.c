// SPDX-License-Identifier: GPL-2.0-only
/*
 * VRAM pool accounting.
 *
 * The parent device stands for one physical GPU whose VRAM is partitioned
 * among its VFs.  A VF reserves its whole profile size when it is created,
 * even though its pages are only allocated as they are written: a VF must
 * never find its VRAM missing at run time, so over-commit is refused at
 * creation instead.
 */
#include <linux/errno.h>
#include <linux/math64.h>

#include "gpup_sim.h"

void gpup_pool_init(struct gpup_pool *pool, u64 total)
{
	spin_lock_init(&pool->lock);
	pool->total = total;
	pool->used = 0;
}

int gpup_pool_reserve(struct gpup_pool *pool, u64 size)
{
	int ret = -ENOSPC;

	if (!size)
		return -EINVAL;

	spin_lock(&pool->lock);
	if (size <= pool->total - pool->used) {
		pool->used += size;
		ret = 0;
	}
	spin_unlock(&pool->lock);
	return ret;
}

void gpup_pool_release(struct gpup_pool *pool, u64 size)
{
	spin_lock(&pool->lock);
	if (!WARN_ON(size > pool->used))
		pool->used -= size;
	spin_unlock(&pool->lock);
}

/* How many more VFs of @size bytes the pool can take */
unsigned int gpup_pool_available(struct gpup_pool *pool, u64 size)
{
	u64 avail;

	if (!size)
		return 0;

	spin_lock(&pool->lock);
	avail = div64_u64(pool->total - pool->used, size);
	spin_unlock(&pool->lock);
	return min_t(u64, avail, UINT_MAX);
}
