// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: /sys/kernel/debug/gpup_sim/<vf>/{regs,vram,contexts,engine,
 * migration,fill}.
 * "vram" reports the pages backing the VF and a content checksum that is
 * equal on two VFs exactly when their VRAM contents are equal, which is
 * what migration tests compare.  "fill" writes VRAM from the host side as
 * the guest would, so a test can dirty a VF that QEMU owns.
 */
#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "gpup_sim.h"

static struct dentry *gpup_debugfs_root;

static const struct {
	const char *name;
	u32 off;
} gpup_debugfs_regs[] = {
	{ "ctrl", GPUP_REG_CTRL },
	{ "status", GPUP_REG_STATUS },
	{ "error", GPUP_REG_ERROR },
	{ "error_head", GPUP_REG_ERROR_HEAD },
	{ "int_status", GPUP_REG_INT_STATUS },
	{ "int_mask", GPUP_REG_INT_MASK },
	{ "ring_base_lo", GPUP_REG_RING_BASE_LO },
	{ "ring_base_hi", GPUP_REG_RING_BASE_HI },
	{ "ring_size", GPUP_REG_RING_SIZE },
	{ "ring_head", GPUP_REG_RING_HEAD },
	{ "ring_tail", GPUP_REG_RING_TAIL },
	{ "fence", GPUP_REG_FENCE },
	{ "fence_count", GPUP_REG_FENCE_COUNT },
	{ "cmd_count", GPUP_REG_CMD_COUNT },
};

static int regs_show(struct seq_file *s, void *unused)
{
	struct gpup_vf *vf = s->private;
	unsigned int i;

	mutex_lock(&vf->lock);
	for (i = 0; i < ARRAY_SIZE(gpup_debugfs_regs); i++)
		seq_printf(s, "%-12s %#010x\n", gpup_debugfs_regs[i].name,
			   gpup_regs_read(&vf->regs, vf->profile,
					  gpup_debugfs_regs[i].off));
	mutex_unlock(&vf->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(regs);

static int vram_show(struct seq_file *s, void *unused)
{
	struct gpup_vf *vf = s->private;
	struct gpup_vram *vram = &vf->vram;

	seq_printf(s, "size_bytes      %llu\n", vram->size);
	seq_printf(s, "pages_allocated %ld\n", atomic_long_read(&vram->allocated));
	seq_printf(s, "pages_dirty     %u\n",
		   bitmap_weight(vram->dirty, vram->npages));
	seq_printf(s, "checksum        %#010x\n", gpup_vram_checksum(vram));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vram);

/* Per engine: commands retired, bytes moved, and a CRC of the whole image */
static int contexts_show(struct seq_file *s, void *unused)
{
	struct gpup_vf *vf = s->private;
	u32 all = ~0U;
	unsigned int i;

	mutex_lock(&vf->lock);
	for (i = 0; i < vf->profile->engines; i++) {
		const u8 *image = vf->ctx + (size_t)i * GPUP_SIM_CTX_SIZE;
		const struct gpup_sim_ctx *ctx = (const void *)image;

		seq_printf(s, "engine%u commands=%llu bytes=%llu crc=%#010x\n", i,
			   le64_to_cpu(ctx->commands), le64_to_cpu(ctx->bytes),
			   ~crc32_le(~0U, image, GPUP_SIM_CTX_SIZE));
	}
	all = crc32_le(all, vf->ctx, gpup_ctx_bytes(vf->profile));
	mutex_unlock(&vf->lock);
	seq_printf(s, "checksum %#010x\n", ~all);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(contexts);

/* The engine's share: what it ran, what the budget held back, what waits */
static int engine_show(struct seq_file *s, void *unused)
{
	struct gpup_vf *vf = s->private;
	const struct gpup_engine *e = &vf->eng;

	mutex_lock(&vf->lock);
	seq_printf(s, "budget_pct   %u\n", e->budget);
	seq_printf(s, "time_ns      %llu\n", e->time_ns);
	seq_printf(s, "throttled_ns %llu\n", gpup_engine_throttled_locked(vf));
	seq_printf(s, "slices       %llu\n", e->slices);
	seq_printf(s, "throttles    %llu\n", e->throttles);
	seq_printf(s, "bytes        %llu\n", e->bytes);
	seq_printf(s, "backlog      %u\n", gpup_engine_backlog_locked(vf));
	seq_printf(s, "thread_pid   %d\n",
		   e->worker ? task_pid_nr(e->worker->task) : 0);
	mutex_unlock(&vf->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(engine);

static int migration_show(struct seq_file *s, void *unused)
{
	struct gpup_vf *vf = s->private;

	gpup_mig_show(&vf->mig, s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(migration);

/* "OFFSET LENGTH VALUE": fill VRAM with a 32-bit pattern, like FILL */
static ssize_t fill_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	struct gpup_vf *vf = file->private_data;
	u64 off, n;
	char buf[64];
	u32 val;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%llx %llx %x", &off, &n, &val) != 3 ||
	    !IS_ALIGNED(off | n, sizeof(u32)))
		return -EINVAL;
	/* a stopped VM writes nothing: refuse once migration quiesced the VF */
	mutex_lock(&vf->lock);
	ret = vf->quiesced ? -EBUSY : gpup_vram_fill32(&vf->vram, off, n, val);
	mutex_unlock(&vf->lock);
	return ret ? ret : len;
}

static const struct file_operations fill_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = fill_write,
	.llseek = default_llseek,
};

void gpup_debugfs_add_vf(struct gpup_vf *vf)
{
	vf->debugfs = debugfs_create_dir(dev_name(vf->vdev.dev),
					 gpup_debugfs_root);
	debugfs_create_file("regs", 0400, vf->debugfs, vf, &regs_fops);
	debugfs_create_file("vram", 0400, vf->debugfs, vf, &vram_fops);
	debugfs_create_file("migration", 0400, vf->debugfs, vf, &migration_fops);
	debugfs_create_file("contexts", 0400, vf->debugfs, vf, &contexts_fops);
	debugfs_create_file("engine", 0400, vf->debugfs, vf, &engine_fops);
	debugfs_create_file("fill", 0200, vf->debugfs, vf, &fill_fops);
}

void gpup_debugfs_remove_vf(struct gpup_vf *vf)
{
	debugfs_remove_recursive(vf->debugfs);
	vf->debugfs = NULL;
}

void gpup_debugfs_init(void)
{
	gpup_debugfs_root = debugfs_create_dir("gpup_sim", NULL);
}

void gpup_debugfs_exit(void)
{
	debugfs_remove_recursive(gpup_debugfs_root);
}
