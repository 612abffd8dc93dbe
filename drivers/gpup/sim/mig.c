// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_sim as a backend of the migration core: the KMD migration DDIs of
 * a simulated VF.
 *
 * Immutable state: the PCI identity, profile, VRAM size, engines and the
 * register map, firmware and driver versions.  A target refuses a stream
 * whose immutable record differs in any of them, naming the field.
 * Mutable state: registers, ring, fences, interrupt state and config
 * space, then each engine's context image (256 KiB an engine, so over
 * 1 MiB for the large profile), captured with the engine quiesced.  The
 * core moves both in chunks; include/gpup/sim_state.h has the layouts,
 * whose version is in the immutable state.  VRAM moves through the core
 * from the VF's pages, tracked by the dirty bits of vram.c.
 *
 * Quiesce stops the engine between chunks of a command; a command cut
 * short has not retired (RING_HEAD still points at it) and runs again from
 * its start on the target, which is correct because FILL, COPY (of
 * non-overlapping ranges) and FENCE are idempotent.
 */
#include <linux/bitmap.h>
#include <linux/string.h>

#include "gpup_sim.h"

/* The VF's dirty bitmaps are in host pages, the stream's in 4 KiB ones */
static_assert(PAGE_SIZE == GPUP_MIG_PAGE_SIZE);

/* The device-state layouts are ABI: a size change needs a new stream major */
static_assert(sizeof(struct gpup_sim_immutable) == 48);
static_assert(sizeof(struct gpup_sim_mutable) == 336);

static struct gpup_vf *mig_to_vf(struct gpup_mig *mig)
{
	return container_of(mig, struct gpup_vf, mig);
}

/*
 * Dirty tracking is always on, so a source has nothing to switch.  A
 * target starts from empty VRAM: pages the stream does not carry were
 * never written on the source.  Its engine is quiesced (STOP).
 */
static int gpup_sim_prepare(struct gpup_mig *mig, bool source)
{
	struct gpup_vf *vf = mig_to_vf(mig);

	if (source)
		return 0;
	gpup_vram_clear(&vf->vram, false);
	/* what the engine did of a command here means nothing to the stream's */
	mutex_lock(&vf->lock);
	vf->eng.cur_valid = false;
	mutex_unlock(&vf->lock);
	return 0;
}

static void gpup_sim_end(struct gpup_mig *mig)
{
}

static void sim_immutable(struct gpup_vf *vf, struct gpup_sim_immutable *im)
{
	const struct gpup_profile *p = vf->profile;

	memset(im, 0, sizeof(*im));
	im->vendor_id = cpu_to_le16(GPUP_PCI_VENDOR_ID);
	im->device_id = cpu_to_le16(GPUP_PCI_DEVICE_ID);
	im->profile = cpu_to_le32(p->id);
	im->vram_size = cpu_to_le64(p->vram_size);
	im->engines = cpu_to_le32(p->engines);
	im->regmap_version = cpu_to_le32(GPUP_REGMAP_VERSION);
	im->fw_version = cpu_to_le32(GPUP_FW_VERSION);
	im->driver_version = cpu_to_le32(GPUP_DRIVER_VERSION);
	im->features = cpu_to_le32(gpup_regs_read(&vf->regs, p, GPUP_REG_FEATURES));
	im->page_size = cpu_to_le32(GPUP_MIG_PAGE_SIZE);
	im->state_version = cpu_to_le32(GPUP_SIM_STATE_VERSION);
	im->ctx_size = cpu_to_le32(GPUP_SIM_CTX_SIZE);
}

/* @len bytes at @off of @total, for the two-call pattern of the save DDIs */
static bool sim_save_range(u64 off, const size_t *len, size_t total)
{
	return off <= total && *len <= total - off;
}

static int gpup_sim_save_immutable(struct gpup_mig *mig, u64 off, void *buf,
				   size_t *len)
{
	struct gpup_sim_immutable im;

	if (!buf) {
		*len = sizeof(im);
		return 0;
	}
	if (!sim_save_range(off, len, sizeof(im)))
		return -EINVAL;
	sim_immutable(mig_to_vf(mig), &im);
	memcpy(buf, (u8 *)&im + off, *len);
	return 0;
}

/* One field of the immutable state: equal, or -EINVAL saying which */
static int im_check(struct gpup_mig_why *why, const char *field, u64 src, u64 dst)
{
	if (src == dst)
		return 0;
	strscpy(why->field, field);
	snprintf(why->msg, sizeof(why->msg), "%s: source %#llx, target %#llx",
		 field, src, dst);
	return -EINVAL;
}

/* A state of @total bytes where @need are expected: refuse any other */
static int sim_check_total(struct gpup_mig_why *why, const char *what, u64 total,
			   size_t need)
{
	if (total == need)
		return 0;
	snprintf(why->msg, sizeof(why->msg), "%s state of %llu bytes, need %zu",
		 what, total, need);
	return -EINVAL;
}

static int sim_immutable_compare(const struct gpup_sim_immutable *s,
				 const struct gpup_sim_immutable *d,
				 struct gpup_mig_why *why)
{
	return im_check(why, "vendor_id", le16_to_cpu(s->vendor_id),
			le16_to_cpu(d->vendor_id)) ?:
	       im_check(why, "device_id", le16_to_cpu(s->device_id),
			le16_to_cpu(d->device_id)) ?:
	       im_check(why, "state_version", le32_to_cpu(s->state_version),
			le32_to_cpu(d->state_version)) ?:
	       im_check(why, "profile", le32_to_cpu(s->profile), le32_to_cpu(d->profile)) ?:
	       im_check(why, "vram_size", le64_to_cpu(s->vram_size),
			le64_to_cpu(d->vram_size)) ?:
	       im_check(why, "engines", le32_to_cpu(s->engines), le32_to_cpu(d->engines)) ?:
	       im_check(why, "regmap_version", le32_to_cpu(s->regmap_version),
			le32_to_cpu(d->regmap_version)) ?:
	       im_check(why, "fw_version", le32_to_cpu(s->fw_version),
			le32_to_cpu(d->fw_version)) ?:
	       im_check(why, "driver_version", le32_to_cpu(s->driver_version),
			le32_to_cpu(d->driver_version)) ?:
	       im_check(why, "features", le32_to_cpu(s->features),
			le32_to_cpu(d->features)) ?:
	       im_check(why, "page_size", le32_to_cpu(s->page_size),
			le32_to_cpu(d->page_size)) ?:
	       im_check(why, "ctx_size", le32_to_cpu(s->ctx_size),
			le32_to_cpu(d->ctx_size));
}

/*
 * The state is small, but a writer may cut it anywhere: gather it, then
 * compare it whole with the last chunk.
 */
static int gpup_sim_restore_immutable(struct gpup_mig *mig,
				      const struct gpup_mig_chunk *c,
				      struct gpup_mig_why *why)
{
	struct gpup_vf *vf = mig_to_vf(mig);
	struct gpup_sim_immutable d;
	int ret;

	ret = sim_check_total(why, "immutable", c->total, sizeof(d));
	if (ret)
		return ret;
	memcpy((u8 *)&vf->mig_im + c->off, c->data, c->len);
	if (c->off + c->len < c->total)
		return 0;
	sim_immutable(vf, &d);
	return sim_immutable_compare(&vf->mig_im, &d, why);
}

static void sim_mutable_encode(struct gpup_vf *vf, struct gpup_sim_mutable *m)
{
	const struct gpup_regs *r = &vf->regs;
	unsigned int i;

	lockdep_assert_held(&vf->lock);
	memset(m, 0, sizeof(*m));
	for (i = 0; i < ARRAY_SIZE(r->scratch); i++)
		m->scratch[i] = cpu_to_le32(r->scratch[i]);
	m->ctrl = cpu_to_le32(r->ctrl);
	m->status = cpu_to_le32(r->status);
	m->error = cpu_to_le32(r->error);
	m->error_head = cpu_to_le32(r->error_head);
	m->int_status = cpu_to_le32(r->int_status);
	m->int_mask = cpu_to_le32(r->int_mask);
	m->ring_base = cpu_to_le64(r->ring_base);
	m->ring_size = cpu_to_le32(r->ring_size);
	m->ring_head = cpu_to_le32(r->ring_head);
	m->ring_tail = cpu_to_le32(r->ring_tail);
	m->fence = cpu_to_le32(r->fence);
	m->fence_count = cpu_to_le32(r->fence_count);
	m->cmd_count = cpu_to_le32(r->cmd_count);
	m->irq_flags = cpu_to_le32((vf->intx_masked ? GPUP_SIM_IRQ_INTX_MASKED : 0) |
				   (vf->msi_pending ? GPUP_SIM_IRQ_MSI_PENDING : 0));
	gpup_cfg_read(&vf->cfg, 0, m->config, sizeof(m->config));
}

static size_t sim_mutable_len(struct gpup_vf *vf)
{
	return sizeof(struct gpup_sim_mutable) + gpup_ctx_bytes(vf->profile);
}

/*
 * Registers first, then the context images.  The core asks for the bytes
 * with the engine quiesced and the VM stopped, so nothing changes between
 * two chunks.
 */
static int gpup_sim_save_mutable(struct gpup_mig *mig, u64 off, void *buf,
				 size_t *len)
{
	struct gpup_vf *vf = mig_to_vf(mig);
	struct gpup_sim_mutable m;
	size_t hdr = sizeof(m), n = 0;

	if (!buf) {
		*len = sim_mutable_len(vf);
		return 0;
	}
	if (!sim_save_range(off, len, sim_mutable_len(vf)))
		return -EINVAL;

	mutex_lock(&vf->lock);
	if (off < hdr) {
		sim_mutable_encode(vf, &m);
		n = min_t(size_t, *len, hdr - off);
		memcpy(buf, (u8 *)&m + off, n);
	}
	memcpy(buf + n, vf->ctx + off + n - hdr, *len - n);
	mutex_unlock(&vf->lock);
	return 0;
}

static void sim_regs_decode(const struct gpup_sim_mutable *m, struct gpup_regs *r)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(r->scratch); i++)
		r->scratch[i] = le32_to_cpu(m->scratch[i]);
	r->ctrl = le32_to_cpu(m->ctrl);
	r->status = le32_to_cpu(m->status);
	r->error = le32_to_cpu(m->error);
	r->error_head = le32_to_cpu(m->error_head);
	r->int_status = le32_to_cpu(m->int_status);
	r->int_mask = le32_to_cpu(m->int_mask);
	r->ring_base = le64_to_cpu(m->ring_base);
	r->ring_size = le32_to_cpu(m->ring_size);
	r->ring_head = le32_to_cpu(m->ring_head);
	r->ring_tail = le32_to_cpu(m->ring_tail);
	r->fence = le32_to_cpu(m->fence);
	r->fence_count = le32_to_cpu(m->fence_count);
	r->cmd_count = le32_to_cpu(m->cmd_count);
}

/* The registers are all in: a state the device can be in, or why not */
static int sim_mutable_check(const struct gpup_sim_mutable *m, struct gpup_regs *regs,
			     struct gpup_mig_why *why)
{
	u32 irq_flags = le32_to_cpu(m->irq_flags);
	const char *field;

	if (m->reserved || irq_flags & ~GPUP_SIM_IRQ_FLAGS) {
		strscpy(why->field, m->reserved ? "reserved" : "irq_flags");
		strscpy(why->msg, "reserved bits set in the mutable record");
		return -EINVAL;
	}
	sim_regs_decode(m, regs);
	if (gpup_regs_check_state(regs, &field)) {
		strscpy(why->field, field);
		snprintf(why->msg, sizeof(why->msg),
			 "%s: not a state the device can be in", field);
		return -EINVAL;
	}
	return 0;
}

/*
 * Registers are gathered and checked once all are in, context bytes go
 * straight to the images (the VF is RESUMING: its engine does not run),
 * and the registers take effect with the last chunk.
 */
static int gpup_sim_restore_mutable(struct gpup_mig *mig,
				    const struct gpup_mig_chunk *c,
				    struct gpup_mig_why *why)
{
	struct gpup_vf *vf = mig_to_vf(mig);
	struct gpup_sim_mutable *m = &vf->mig_mut;
	size_t hdr = sizeof(*m), n = 0;
	struct gpup_regs regs;
	int ret;

	ret = sim_check_total(why, "mutable", c->total, sim_mutable_len(vf));
	if (ret)
		return ret;
	if (c->off < hdr) {
		n = min_t(size_t, c->len, hdr - c->off);
		memcpy((u8 *)m + c->off, c->data, n);
		if (c->off + n == hdr) {
			ret = sim_mutable_check(m, &regs, why);
			if (ret)
				return ret;
		}
	}
	mutex_lock(&vf->lock);
	memcpy(vf->ctx + c->off + n - hdr, c->data + n, c->len - n);
	if (c->off + c->len == c->total) {
		u32 irq_flags = le32_to_cpu(m->irq_flags);
		u16 old = gpup_cfg_command(&vf->cfg);

		sim_regs_decode(m, &vf->regs);
		vf->intx_masked = irq_flags & GPUP_SIM_IRQ_INTX_MASKED;
		/* an MSI held back by bus mastering off goes out when it is on */
		vf->msi_pending = irq_flags & GPUP_SIM_IRQ_MSI_PENDING;
		/* the target's read-only config stays; the guest-writable bits move */
		gpup_cfg_init(&vf->cfg, vf->profile);
		gpup_cfg_write(&vf->cfg, 0, m->config, sizeof(m->config));
		gpup_vf_command_changed_locked(vf, old);
	}
	mutex_unlock(&vf->lock);
	return 0;
}

static void gpup_sim_dirty_start(struct gpup_mig *mig)
{
	gpup_vram_dirty_arm(&mig_to_vf(mig)->vram);
}

static unsigned long gpup_sim_dirty_query(struct gpup_mig *mig,
					  unsigned long *bitmap)
{
	return gpup_vram_dirty_harvest(&mig_to_vf(mig)->vram, bitmap);
}

static unsigned long gpup_sim_dirty_count(struct gpup_mig *mig)
{
	struct gpup_vram *vram = &mig_to_vf(mig)->vram;

	return bitmap_weight(vram->dirty, vram->npages);
}

static unsigned long gpup_sim_populated(struct gpup_mig *mig,
					unsigned long *bitmap)
{
	return gpup_vram_populated(&mig_to_vf(mig)->vram, bitmap);
}

static int gpup_sim_vram_read(struct gpup_mig *mig, u64 off, void *buf,
			      size_t len)
{
	return gpup_vram_read(&mig_to_vf(mig)->vram, off, buf, len);
}

static struct page *gpup_sim_vram_page(struct gpup_mig *mig, unsigned long idx)
{
	return gpup_vram_get_page(&mig_to_vf(mig)->vram, idx);
}

static int gpup_sim_vram_write(struct gpup_mig *mig, u64 off, const void *buf,
			       size_t len)
{
	return gpup_vram_write(&mig_to_vf(mig)->vram, off, buf, len);
}

static void gpup_sim_quiesce(struct gpup_mig *mig)
{
	gpup_engine_quiesce(mig_to_vf(mig), true);
}

static void gpup_sim_unquiesce(struct gpup_mig *mig)
{
	gpup_engine_quiesce(mig_to_vf(mig), false);
}

static void gpup_sim_info(struct gpup_mig *mig, struct gpup_vf_info *info)
{
	struct gpup_vf *vf = mig_to_vf(mig);
	const struct gpup_regs *r = &vf->regs;

	info->profile_id = vf->profile->id;
	info->profile_name = vf->profile->name;
	info->engines = vf->profile->engines;
	info->vram_used = (u64)atomic_long_read(&vf->vram.allocated) * PAGE_SIZE;

	mutex_lock(&vf->lock);
	if (vf->quiesced)
		info->engine_state = GPUP_ENGINE_STATE_QUIESCED;
	else if (r->status & GPUP_STATUS_HALTED)
		info->engine_state = GPUP_ENGINE_STATE_HALTED;
	else if (r->ctrl & GPUP_CTRL_ENGINE_ENABLE && r->ring_head != r->ring_tail)
		info->engine_state = GPUP_ENGINE_STATE_BUSY;
	else
		info->engine_state = GPUP_ENGINE_STATE_IDLE;
	info->fence = r->fence;
	info->engine_time_ns = vf->eng.time_ns;
	info->engine_throttled_ns = gpup_engine_throttled_locked(vf);
	info->engine_backlog = gpup_engine_backlog_locked(vf);
	info->engine_budget = vf->eng.budget;
	mutex_unlock(&vf->lock);
}

const struct gpup_mig_ops gpup_sim_mig_ops = {
	.prepare = gpup_sim_prepare,
	.end = gpup_sim_end,
	.save_immutable = gpup_sim_save_immutable,
	.restore_immutable = gpup_sim_restore_immutable,
	.save_mutable = gpup_sim_save_mutable,
	.restore_mutable = gpup_sim_restore_mutable,
	.dirty_start = gpup_sim_dirty_start,
	.dirty_query = gpup_sim_dirty_query,
	.dirty_count = gpup_sim_dirty_count,
	.populated = gpup_sim_populated,
	.vram_read = gpup_sim_vram_read,
	.vram_page = gpup_sim_vram_page,
	.vram_write = gpup_sim_vram_write,
	.quiesce = gpup_sim_quiesce,
	.unquiesce = gpup_sim_unquiesce,
	.info = gpup_sim_info,
};

/* The VFIO side: thin wrappers onto the core */
static struct file *gpup_sim_set_state(struct vfio_device *vdev,
				       enum vfio_device_mig_state new_state)
{
	return gpup_mig_set_state(&vdev_to_vf(vdev)->mig, new_state);
}

static int gpup_sim_get_state(struct vfio_device *vdev,
			      enum vfio_device_mig_state *state)
{
	*state = gpup_mig_get_state(&vdev_to_vf(vdev)->mig);
	return 0;
}

static int gpup_sim_get_data_size(struct vfio_device *vdev,
				  unsigned long *stop_copy_length)
{
	*stop_copy_length = gpup_mig_data_size(&vdev_to_vf(vdev)->mig);
	return 0;
}

const struct vfio_migration_ops gpup_sim_mig_vfio_ops = {
	.migration_set_state = gpup_sim_set_state,
	.migration_get_state = gpup_sim_get_state,
	.migration_get_data_size = gpup_sim_get_data_size,
};
