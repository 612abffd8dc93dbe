// SPDX-License-Identifier: GPL-2.0-only
/*
 * One simulated GPU: an mdev parent whose types are the partition profiles,
 * a VRAM pool its VFs are carved from, and its entry in the migration
 * core's management registry.
 *
 * The GPU stands on a device someone else owns: the module's own virtual
 * device, or a PCI function bound to gpup_sim (pci.c), as a real GPU-P
 * physical function would be.  The profiles are the same on every GPU; the
 * mdev types are per parent because the mdev core ties each type to one.
 *
 * Lifetime: the GPU is freed when it has been removed and its last VF is
 * released, because a VF returns its VRAM to the pool only at its final
 * release, which can come after the removal (the VF's character device may
 * hold the last reference).  The mdev core's kobjects (an mdev, its type)
 * dereference the parent and types in their releases, which run inside
 * mdev_unregister_parent() unless someone still holds one: the virtual
 * GPU's device, which every type pins, holds a reference of its own for
 * that; a GPU on a PCI function has no such hook in the mdev API, as for
 * every mdev driver whose types are not static.
 */
#include <linux/kref.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "gpup_sim.h"

static const struct gpup_profile gpup_profiles[] = {
	{ GPUP_PROFILE_SMALL, "small", SZ_64M, 1 },
	{ GPUP_PROFILE_MEDIUM, "medium", SZ_256M, 2 },
	{ GPUP_PROFILE_LARGE, "large", SZ_1G, 4 },
	{ GPUP_PROFILE_XLARGE, "xlarge", SZ_4G, 4 },
};

static const char * const gpup_pretty_names[] = {
	"GPU-P VF small (64 MiB VRAM, 1 engine)",
	"GPU-P VF medium (256 MiB VRAM, 2 engines)",
	"GPU-P VF large (1 GiB VRAM, 4 engines)",
	"GPU-P VF xlarge (4 GiB VRAM, 4 engines)",
};

#define GPUP_NR_PROFILES	ARRAY_SIZE(gpup_profiles)

struct gpup_type {
	struct mdev_type mtype;
	const struct gpup_profile *profile;
};

struct gpup_sim_gpu {
	struct kref ref;		/* the registration and each VF */
	struct mdev_parent parent;
	struct gpup_pool pool;
	struct gpup_parent mgmt;	/* as the migration core lists it */
	struct gpup_type types[GPUP_NR_PROFILES];
	struct mdev_type *mtypes[GPUP_NR_PROFILES];
};

static struct gpup_sim_gpu *mtype_gpu(struct mdev_type *mtype)
{
	return container_of(mtype->parent, struct gpup_sim_gpu, parent);
}

const struct gpup_profile *gpup_type_profile(struct mdev_type *mtype)
{
	return container_of(mtype, struct gpup_type, mtype)->profile;
}

struct gpup_pool *gpup_type_pool(struct mdev_type *mtype)
{
	return &mtype_gpu(mtype)->pool;
}

struct gpup_parent *gpup_type_mgmt(struct mdev_type *mtype)
{
	return &mtype_gpu(mtype)->mgmt;
}

/*
 * The pool of the GPU @mtype belongs to, with a reference that keeps the
 * GPU until gpup_pool_put(): taken when a VF is created.
 */
struct gpup_pool *gpup_type_pool_get(struct mdev_type *mtype)
{
	struct gpup_sim_gpu *gpu = mtype_gpu(mtype);

	gpup_sim_gpu_get(gpu);
	return &gpu->pool;
}

static void gpup_sim_gpu_free(struct kref *ref)
{
	kfree(container_of(ref, struct gpup_sim_gpu, ref));
}

void gpup_sim_gpu_get(struct gpup_sim_gpu *gpu)
{
	kref_get(&gpu->ref);
}

void gpup_sim_gpu_put(struct gpup_sim_gpu *gpu)
{
	kref_put(&gpu->ref, gpup_sim_gpu_free);
}

void gpup_pool_put(struct gpup_pool *pool)
{
	gpup_sim_gpu_put(container_of(pool, struct gpup_sim_gpu, pool));
}

static void gpup_sim_gpu_vram(struct gpup_parent *parent, u64 *total, u64 *free)
{
	struct gpup_pool *pool = &container_of(parent, struct gpup_sim_gpu, mgmt)->pool;

	spin_lock(&pool->lock);
	*total = pool->total;
	*free = pool->total - pool->used;
	spin_unlock(&pool->lock);
}

static int gpup_sim_gpu_profile(struct gpup_parent *parent, unsigned int idx,
				struct gpup_profile_info *info)
{
	struct gpup_sim_gpu *gpu = container_of(parent, struct gpup_sim_gpu, mgmt);
	const struct gpup_profile *p;

	if (idx >= GPUP_NR_PROFILES)
		return -ENOENT;
	p = &gpup_profiles[idx];
	info->id = p->id;
	info->name = p->name;
	info->vram_size = p->vram_size;
	info->engines = p->engines;
	info->available = gpup_pool_available(&gpu->pool, p->vram_size);
	return 0;
}

static const struct gpup_parent_ops gpup_sim_gpu_ops = {
	.vram = gpup_sim_gpu_vram,
	.profile = gpup_sim_gpu_profile,
};

/**
 * gpup_sim_gpu_add() - make a device a simulated GPU with VFs to create
 * @dev: the device its VFs' mdev types appear under; it must outlive the
 *	 call to gpup_sim_gpu_remove()
 * @vram: bytes of VRAM its VFs share
 *
 * Context: process context; takes the mdev core's and the registry's locks.
 * Return: the GPU, with the reference gpup_sim_gpu_remove() drops, or an
 * ERR_PTR: -ENOMEM, or what registering it with the migration core or the
 * mdev core returned.
 */
struct gpup_sim_gpu *gpup_sim_gpu_add(struct device *dev, u64 vram)
{
	struct gpup_sim_gpu *gpu;
	unsigned int i;
	int ret;

	gpu = kzalloc(sizeof(*gpu), GFP_KERNEL);
	if (!gpu)
		return ERR_PTR(-ENOMEM);
	kref_init(&gpu->ref);
	gpup_pool_init(&gpu->pool, vram);
	for (i = 0; i < GPUP_NR_PROFILES; i++) {
		gpu->types[i].mtype.sysfs_name = gpup_profiles[i].name;
		gpu->types[i].mtype.pretty_name = gpup_pretty_names[i];
		gpu->types[i].profile = &gpup_profiles[i];
		gpu->mtypes[i] = &gpu->types[i].mtype;
	}

	/* known to the core before any VF can be created on it */
	gpu->mgmt.dev = dev;
	gpu->mgmt.driver = KBUILD_MODNAME;
	gpu->mgmt.ops = &gpup_sim_gpu_ops;
	ret = gpup_parent_register(&gpu->mgmt);
	if (ret)
		goto err_free;

	ret = mdev_register_parent(&gpu->parent, dev, &gpup_sim_mdev_driver,
				   gpu->mtypes, GPUP_NR_PROFILES);
	if (ret)
		goto err_mgmt;
	return gpu;

err_mgmt:
	gpup_parent_unregister(&gpu->mgmt);
err_free:
	kfree(gpu);
	return ERR_PTR(ret);
}

/**
 * gpup_sim_gpu_remove() - remove a GPU's VFs and the GPU
 * @gpu: as gpup_sim_gpu_add() returned it
 *
 * Waits until every VF's users have let it go.  The memory goes with the
 * last VF's final release.
 */
void gpup_sim_gpu_remove(struct gpup_sim_gpu *gpu)
{
	mdev_unregister_parent(&gpu->parent);
	gpup_parent_unregister(&gpu->mgmt);
	gpup_sim_gpu_put(gpu);
}
