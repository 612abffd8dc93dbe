// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup_vf: the guest driver of a gpup GPU-P virtual function.
 *
 * The driver owns the VF's command ring, placed in the top GPUP_VF_RING_SIZE
 * bytes of VRAM, and its one interrupt (MSI, or INTx when MSI is not
 * available).  Programs submit batches of checked commands through the
 * character device (cdev.c); every batch ends with a fence, whose 64-bit
 * sequence number the interrupt handler derives from the 32-bit FENCE
 * register (ring.c).
 *
 * Two things stop the engine behind the programs' backs.  An engine error
 * halts it: the recovery work fails the fences in flight, resets the engine
 * and programs it again.  A function reset (the PCI core's, through
 * reset_prepare/reset_done) wipes the device: the same happens around it.
 * Either reset clears the VF's VRAM, as the device defines it, so a program
 * that sees INFO's recoveries move knows its VRAM content is gone.
 *
 * Removal may come with programs waiting, submitting or mapping VRAM: the
 * VF is marked gone, waiters are woken with -ENODEV, removal waits for
 * every ioctl to leave the device and zaps the VRAM mappings; the
 * structure lives on until the last file is closed.
 */
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "gpup_vf.h"

static bool msi = true;
module_param(msi, bool, 0444);
MODULE_PARM_DESC(msi, "use MSI when the VF offers it (default: true); false forces INTx");

static unsigned long long first_fence = 1;
module_param(first_fence, ullong, 0444);
MODULE_PARM_DESC(first_fence,
		 "first fence sequence number (default: 1); near 2^32 to test the FENCE register's wrap");

static DEFINE_IDA(gpup_vf_ida);

static u32 gpup_vf_rd(struct gpup_vf_dev *vf, enum gpup_reg reg)
{
	return readl(vf->regs + reg);
}

static void gpup_vf_wr(struct gpup_vf_dev *vf, enum gpup_reg reg, u32 val)
{
	writel(val, vf->regs + reg);
}

static void gpup_vf_release(struct kref *ref)
{
	kfree(container_of(ref, struct gpup_vf_dev, ref));
}

/**
 * gpup_vf_put() - drop a reference to a VF
 * @vf: the VF; freed with its last reference
 */
void gpup_vf_put(struct gpup_vf_dev *vf)
{
	kref_put(&vf->ref, gpup_vf_release);
}

static enum gpup_vf_state gpup_vf_get_state(struct gpup_vf_dev *vf)
{
	enum gpup_vf_state state;

	spin_lock_irq(&vf->fence_lock);
	state = vf->state;
	spin_unlock_irq(&vf->fence_lock);
	return state;
}

/* Any state but GONE, which is final */
static void gpup_vf_set_state(struct gpup_vf_dev *vf, enum gpup_vf_state state)
{
	spin_lock_irq(&vf->fence_lock);
	if (vf->state != GPUP_VF_GONE)
		vf->state = state;
	spin_unlock_irq(&vf->fence_lock);
	wake_up_all(&vf->wq);
}

/* What a submitter gets when the engine does not take commands */
static int gpup_vf_state_errno(enum gpup_vf_state state)
{
	switch (state) {
	case GPUP_VF_RUNNING:
		return 0;
	case GPUP_VF_GONE:
		return -ENODEV;
	default:
		return -EIO;
	}
}

/* CTRL_RESET: engine stopped, registers and VRAM at power-on */
static int gpup_vf_engine_reset(struct gpup_vf_dev *vf)
{
	u32 ctrl;
	int ret;

	gpup_vf_wr(vf, GPUP_REG_CTRL, GPUP_CTRL_RESET);
	ret = readl_poll_timeout(vf->regs + GPUP_REG_CTRL, ctrl,
				 !(ctrl & GPUP_CTRL_RESET), 10, USEC_PER_SEC);
	if (ret)
		pci_err(vf->pdev, "engine reset did not complete\n");
	return ret;
}

/* Point the engine at an empty ring, unmask the interrupts and start it */
static void gpup_vf_engine_program(struct gpup_vf_dev *vf)
{
	lockdep_assert_held(&vf->submit_lock);
	vf->tail = 0;
	gpup_vf_wr(vf, GPUP_REG_RING_BASE_LO, lower_32_bits(vf->ring_offset));
	gpup_vf_wr(vf, GPUP_REG_RING_BASE_HI, upper_32_bits(vf->ring_offset));
	gpup_vf_wr(vf, GPUP_REG_RING_SIZE, GPUP_VF_RING_SIZE);
	gpup_vf_wr(vf, GPUP_REG_RING_TAIL, 0);
	gpup_vf_wr(vf, GPUP_REG_INT_STATUS, GPUP_INT_ALL);
	gpup_vf_wr(vf, GPUP_REG_INT_MASK, GPUP_INT_ALL);
	gpup_vf_wr(vf, GPUP_REG_CTRL, GPUP_CTRL_ENGINE_ENABLE);
}

static void gpup_vf_engine_stop(struct gpup_vf_dev *vf)
{
	gpup_vf_wr(vf, GPUP_REG_INT_MASK, 0);
	gpup_vf_wr(vf, GPUP_REG_CTRL, 0);
}

/*
 * After a halt or a reset: whatever the device still reports done counts,
 * the rest of the fences in flight fail, and the engine restarts on an
 * empty ring.  After a function reset the FENCE register holds its reset
 * value, which says nothing; the engine is reset all the same, since a
 * reset that failed would leave RING_HEAD anywhere.
 */
static void gpup_vf_restart(struct gpup_vf_dev *vf, bool device_was_reset)
{
	u32 hw = device_was_reset ? 0 : gpup_vf_rd(vf, GPUP_REG_FENCE);
	int ret;

	lockdep_assert_held(&vf->submit_lock);
	ret = gpup_vf_engine_reset(vf);

	spin_lock_irq(&vf->fence_lock);
	if (!device_was_reset)
		gpup_vf_fences_signal(&vf->fences, hw);
	gpup_vf_fences_fail(&vf->fences);
	vf->recoveries++;
	spin_unlock_irq(&vf->fence_lock);

	if (ret)
		return;		/* stays RECOVERING: submissions get -EIO */
	gpup_vf_engine_program(vf);
	gpup_vf_set_state(vf, GPUP_VF_RUNNING);
}

static void gpup_vf_recover_work(struct work_struct *work)
{
	struct gpup_vf_dev *vf = container_of(work, struct gpup_vf_dev,
					      recover_work);

	mutex_lock(&vf->submit_lock);
	/* a reset or the removal may have taken over since the interrupt */
	if (gpup_vf_get_state(vf) == GPUP_VF_RECOVERING) {
		pci_warn(vf->pdev, "engine halted: error %u at ring offset %#x, recovering\n",
			 gpup_vf_rd(vf, GPUP_REG_ERROR),
			 gpup_vf_rd(vf, GPUP_REG_ERROR_HEAD));
		gpup_vf_restart(vf, false);
	}
	mutex_unlock(&vf->submit_lock);
}

/* Called with fence_lock held: a halt found by the interrupt or a waiter */
static void gpup_vf_halted_locked(struct gpup_vf_dev *vf, u32 error)
{
	lockdep_assert_held(&vf->fence_lock);
	if (vf->state != GPUP_VF_RUNNING)
		return;
	vf->state = GPUP_VF_RECOVERING;
	vf->last_error = error;
	queue_work(system_wq, &vf->recover_work);
}

static irqreturn_t gpup_vf_irq(int irq, void *data)
{
	struct gpup_vf_dev *vf = data;
	u32 status, hw;
	bool wake;

	status = gpup_vf_rd(vf, GPUP_REG_INT_STATUS);
	if (!status || status == U32_MAX)	/* shared INTx, or no device */
		return IRQ_NONE;
	/* clear first: a fence that lands after the FENCE read interrupts again */
	gpup_vf_wr(vf, GPUP_REG_INT_STATUS, status);
	hw = gpup_vf_rd(vf, GPUP_REG_FENCE);

	spin_lock(&vf->fence_lock);
	vf->irqs++;
	wake = gpup_vf_fences_signal(&vf->fences, hw);
	if (status & GPUP_INT_ERROR) {
		gpup_vf_halted_locked(vf, gpup_vf_rd(vf, GPUP_REG_ERROR));
		wake = true;
	}
	spin_unlock(&vf->fence_lock);

	if (wake)
		wake_up_all(&vf->wq);
	return IRQ_HANDLED;
}

static bool gpup_vf_has_space(struct gpup_vf_dev *vf, u32 bytes)
{
	u32 head = gpup_vf_rd(vf, GPUP_REG_RING_HEAD);

	return gpup_vf_ring_space(GPUP_VF_RING_SIZE, head, vf->tail) >= bytes;
}

static bool gpup_vf_space_or_stop(struct gpup_vf_dev *vf, u32 bytes)
{
	return gpup_vf_get_state(vf) != GPUP_VF_RUNNING ||
	       gpup_vf_has_space(vf, bytes);
}

/* Sleep until the ring holds @bytes more; fences wake us as it drains */
static int gpup_vf_wait_space(struct gpup_vf_dev *vf, u32 bytes)
{
	int ret;

	lockdep_assert_held(&vf->submit_lock);
	for (;;) {
		ret = gpup_vf_state_errno(gpup_vf_get_state(vf));
		if (ret || gpup_vf_has_space(vf, bytes))
			return ret;
		/* the timeout re-reads RING_HEAD, should a wake-up be missed */
		ret = wait_event_interruptible_timeout(vf->wq,
						       gpup_vf_space_or_stop(vf, bytes),
						       HZ);
		if (ret < 0)
			return -EINTR;
	}
}

static void gpup_vf_ring_write(struct gpup_vf_dev *vf, const struct gpup_cmd *cmd)
{
	lockdep_assert_held(&vf->submit_lock);
	memcpy_toio(vf->ring + vf->tail, cmd, sizeof(*cmd));
	vf->tail = (vf->tail + GPUP_VF_CMD_SIZE) & (GPUP_VF_RING_SIZE - 1);
}

/* Hand the commands written since the last kick to the engine */
static void gpup_vf_ring_kick(struct gpup_vf_dev *vf, u64 last_seqno)
{
	lockdep_assert_held(&vf->submit_lock);
	/* the commands must reach VRAM before the engine can see the tail */
	wmb();
	/* and the interrupt handler must know the fences before they signal */
	spin_lock_irq(&vf->fence_lock);
	vf->fences.submitted = last_seqno;
	spin_unlock_irq(&vf->fence_lock);
	gpup_vf_wr(vf, GPUP_REG_RING_TAIL, vf->tail);
	gpup_vf_wr(vf, GPUP_REG_DOORBELL, 1);
}

/**
 * gpup_vf_submit() - queue a batch of checked commands
 * @vf: the VF
 * @cmds: the batch, each command checked by gpup_vf_cmd_check()
 * @count: 1..GPUP_VF_BATCH_MAX
 * @fence: the sequence number of the batch's closing fence
 *
 * Context: process; caller holds @vf->unplug_rwsem for reading.  Sleeps
 * while the ring is full.
 * Return: 0, -EINTR on a signal, -EIO while the engine recovers, -ENODEV
 * once the VF is gone.
 */
int gpup_vf_submit(struct gpup_vf_dev *vf, const struct gpup_vf_cmd *cmds,
		   u32 count, u64 *fence)
{
	u32 slots = gpup_vf_batch_slots(cmds, count);
	struct gpup_cmd dcmd;
	u64 seqno;
	u32 i;
	int ret;

	if (mutex_lock_interruptible(&vf->submit_lock))
		return -EINTR;
	ret = gpup_vf_wait_space(vf, slots * GPUP_VF_CMD_SIZE);
	if (ret)
		goto out;

	/* only submitters move submitted, and they hold submit_lock */
	seqno = vf->fences.submitted;
	for (i = 0; i < count; i++) {
		if (cmds[i].op == GPUP_VF_OP_FENCE)
			seqno++;
		gpup_vf_cmd_encode(&cmds[i], seqno, &dcmd);
		gpup_vf_ring_write(vf, &dcmd);
	}
	if (slots > count) {
		gpup_vf_fence_cmd(++seqno, &dcmd);
		gpup_vf_ring_write(vf, &dcmd);
	}
	gpup_vf_ring_kick(vf, seqno);
	*fence = seqno;
out:
	mutex_unlock(&vf->submit_lock);
	return ret;
}

/**
 * gpup_vf_inject_error() - queue a command the engine refuses
 * @vf: the VF
 *
 * A FILL at a misaligned offset, then a fence: the engine halts on the
 * first, the fence fails, and the driver recovers.  For the tests: no user
 * command can halt the engine.
 *
 * Context: process; caller holds @vf->unplug_rwsem for reading.
 * Return: 0 or the errno of gpup_vf_submit().
 */
int gpup_vf_inject_error(struct gpup_vf_dev *vf)
{
	struct gpup_cmd bad = {
		.opcode = cpu_to_le32(GPUP_CMD_FILL),
		.dst = cpu_to_le64(1),
		.len = cpu_to_le64(sizeof(u32)),
	};
	struct gpup_cmd fence;
	int ret;

	mutex_lock(&vf->submit_lock);
	ret = gpup_vf_wait_space(vf, 2 * GPUP_VF_CMD_SIZE);
	if (!ret) {
		gpup_vf_ring_write(vf, &bad);
		gpup_vf_fence_cmd(vf->fences.submitted + 1, &fence);
		gpup_vf_ring_write(vf, &fence);
		gpup_vf_ring_kick(vf, vf->fences.submitted + 1);
	}
	mutex_unlock(&vf->submit_lock);
	return ret;
}

static int gpup_vf_fence_status(struct gpup_vf_dev *vf, u64 seqno)
{
	int ret;

	spin_lock_irq(&vf->fence_lock);
	if (vf->state == GPUP_VF_GONE)
		ret = -ENODEV;
	else
		ret = gpup_vf_fences_status(&vf->fences, seqno);
	spin_unlock_irq(&vf->fence_lock);
	return ret;
}

static bool gpup_vf_fence_done(struct gpup_vf_dev *vf, u64 seqno, int *status)
{
	*status = gpup_vf_fence_status(vf, seqno);
	return *status != -EBUSY;
}

/*
 * A fence that does not signal in time: if the device has lost the ring
 * the driver gave it, something reset it behind the driver's back (the
 * VMM, say).  Recover as from a halt, so that the next waits end.
 */
static void gpup_vf_check_lost(struct gpup_vf_dev *vf)
{
	u32 ctrl = gpup_vf_rd(vf, GPUP_REG_CTRL);
	u32 size = gpup_vf_rd(vf, GPUP_REG_RING_SIZE);

	if (ctrl & GPUP_CTRL_ENGINE_ENABLE && size == GPUP_VF_RING_SIZE)
		return;
	pci_warn(vf->pdev, "the VF lost its ring (CTRL %#x, RING_SIZE %#x): reset behind the driver\n",
		 ctrl, size);
	spin_lock_irq(&vf->fence_lock);
	gpup_vf_halted_locked(vf, GPUP_ERR_NONE);
	spin_unlock_irq(&vf->fence_lock);
}

/**
 * gpup_vf_wait() - wait for a fence
 * @vf: the VF
 * @seqno: the fence's sequence number
 * @timeout_ns: how long at most; 0 polls
 *
 * Context: process; caller holds @vf->unplug_rwsem for reading.
 * Return: 0 when the fence signalled, -ETIMEDOUT, -EIO when it failed,
 * -EINTR on a signal, -EINVAL for a fence never handed out, -ENODEV once
 * the VF is gone.
 */
int gpup_vf_wait(struct gpup_vf_dev *vf, u64 seqno, u64 timeout_ns)
{
	unsigned long timeout = 0;
	long left;
	int ret;

	ret = gpup_vf_fence_status(vf, seqno);
	if (ret != -EBUSY)
		return ret;
	/* rounded up: never less than asked for */
	if (timeout_ns)
		timeout = min_t(u64, nsecs_to_jiffies64(timeout_ns) + 1,
				MAX_SCHEDULE_TIMEOUT - 1);
	left = wait_event_interruptible_timeout(vf->wq,
						gpup_vf_fence_done(vf, seqno, &ret),
						timeout);
	if (left < 0)
		return -EINTR;
	if (ret != -EBUSY)
		return ret;
	gpup_vf_check_lost(vf);
	return -ETIMEDOUT;
}

/**
 * gpup_vf_get_info() - what GPUP_VF_IOC_INFO reports
 * @vf: the VF
 * @info: filled in; reserved fields zero
 */
void gpup_vf_get_info(struct gpup_vf_dev *vf, struct gpup_vf_info *info)
{
	memset(info, 0, sizeof(*info));
	info->profile = vf->profile;
	info->engines = vf->engines;
	info->vram_size = vf->vram_size;
	info->ring_offset = vf->ring_offset;
	info->ring_size = GPUP_VF_RING_SIZE;
	info->irq_mode = vf->irq_mode;

	spin_lock_irq(&vf->fence_lock);
	if (vf->state != GPUP_VF_RUNNING)
		info->engine = GPUP_VF_ENGINE_ERROR;
	else if (vf->fences.completed != vf->fences.submitted)
		info->engine = GPUP_VF_ENGINE_BUSY;
	else
		info->engine = GPUP_VF_ENGINE_IDLE;
	info->submitted = vf->fences.submitted;
	info->completed = vf->fences.completed;
	info->last_error = vf->last_error;
	info->irqs = vf->irqs;
	info->recoveries = vf->recoveries;
	spin_unlock_irq(&vf->fence_lock);
}

/*
 * A reset is coming: submitters and waiters for ring space leave with -EIO,
 * the recovery work is done, and submit_lock is held until the reset is.
 */
static void gpup_vf_reset_prepare(struct pci_dev *pdev)
{
	struct gpup_vf_dev *vf = pci_get_drvdata(pdev);

	gpup_vf_set_state(vf, GPUP_VF_RECOVERING);
	cancel_work_sync(&vf->recover_work);
	mutex_lock(&vf->submit_lock);
	/* a recovery that ran meanwhile may have restarted the engine */
	gpup_vf_set_state(vf, GPUP_VF_RECOVERING);
	gpup_vf_engine_stop(vf);
}

/* The device is at power-on: its fences in flight are lost, start it again */
static void gpup_vf_reset_done(struct pci_dev *pdev)
{
	struct gpup_vf_dev *vf = pci_get_drvdata(pdev);

	gpup_vf_restart(vf, true);
	mutex_unlock(&vf->submit_lock);
	pci_info(pdev, "recovered from a function reset\n");
}

/**
 * gpup_vf_dev_reset() - reset the VF through the driver's reset handlers
 * @vf: the VF
 *
 * The VF offers the PCI core no reset method of its own (no FLR, no power
 * management), so this resets it through CTRL_RESET, bracketed by the same
 * reset_prepare/reset_done a PCI core reset runs.  For the tests.
 *
 * Context: process; caller holds @vf->unplug_rwsem for reading.
 * Return: 0, or -ENODEV once the VF is gone.
 */
int gpup_vf_dev_reset(struct gpup_vf_dev *vf)
{
	if (gpup_vf_get_state(vf) == GPUP_VF_GONE)
		return -ENODEV;
	gpup_vf_reset_prepare(vf->pdev);
	gpup_vf_engine_reset(vf);
	gpup_vf_reset_done(vf->pdev);
	return 0;
}

/* The device must be one this driver speaks to, with the VRAM it claims */
static int gpup_vf_check_device(struct gpup_vf_dev *vf)
{
	struct pci_dev *pdev = vf->pdev;
	u32 id = gpup_vf_rd(vf, GPUP_REG_ID);
	u32 version = gpup_vf_rd(vf, GPUP_REG_VERSION);

	if (id != GPUP_ID_MAGIC || version >> 16 != GPUP_REGMAP_VERSION >> 16) {
		pci_err(pdev, "not a gpup VF of register map 1.x (ID %#x, version %#x)\n",
			id, version);
		return -ENODEV;
	}
	vf->profile = gpup_vf_rd(vf, GPUP_REG_PROFILE);
	vf->engines = gpup_vf_rd(vf, GPUP_REG_ENGINES);
	vf->vram_size = (u64)gpup_vf_rd(vf, GPUP_REG_VRAM_SIZE_HI) << 32 |
			gpup_vf_rd(vf, GPUP_REG_VRAM_SIZE_LO);
	if (vf->vram_size < 2 * GPUP_VF_RING_SIZE ||
	    !IS_ALIGNED(vf->vram_size, GPUP_VF_RING_SIZE) ||
	    vf->vram_size > pci_resource_len(pdev, GPUP_VRAM_BAR)) {
		pci_err(pdev, "VRAM of %#llx bytes does not fit BAR2 of %#llx or the ring\n",
			vf->vram_size,
			(u64)pci_resource_len(pdev, GPUP_VRAM_BAR));
		return -ENODEV;
	}
	vf->ring_offset = vf->vram_size - GPUP_VF_RING_SIZE;
	return 0;
}

static int gpup_vf_map(struct gpup_vf_dev *vf)
{
	struct pci_dev *pdev = vf->pdev;
	int ret;

	if (pci_resource_len(pdev, GPUP_REGS_BAR) < GPUP_REGS_SIZE)
		return -ENODEV;
	vf->regs = pcim_iomap_region(pdev, GPUP_REGS_BAR, GPUP_VF_NAME);
	if (IS_ERR(vf->regs))
		return PTR_ERR(vf->regs);
	ret = gpup_vf_check_device(vf);
	if (ret)
		return ret;

	ret = pcim_request_region(pdev, GPUP_VRAM_BAR, GPUP_VF_NAME);
	if (ret)
		return ret;
	vf->ring = pcim_iomap_range(pdev, GPUP_VRAM_BAR, vf->ring_offset,
				    GPUP_VF_RING_SIZE);
	if (IS_ERR(vf->ring))
		return PTR_ERR(vf->ring);
	vf->vram_phys = pci_resource_start(pdev, GPUP_VRAM_BAR);
	return 0;
}

static int gpup_vf_setup_irq(struct gpup_vf_dev *vf)
{
	struct pci_dev *pdev = vf->pdev;
	unsigned int types = PCI_IRQ_INTX | (msi ? PCI_IRQ_MSI : 0);
	int ret;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, types);
	if (ret < 0)
		return ret;
	vf->irq_mode = pdev->msi_enabled ? GPUP_VF_IRQ_MSI : GPUP_VF_IRQ_INTX;
	ret = request_irq(pci_irq_vector(pdev, 0), gpup_vf_irq,
			  pdev->msi_enabled ? 0 : IRQF_SHARED, vf->name, vf);
	if (ret)
		pci_free_irq_vectors(pdev);
	return ret;
}

static void gpup_vf_teardown_irq(struct gpup_vf_dev *vf)
{
	free_irq(pci_irq_vector(vf->pdev, 0), vf);
	pci_free_irq_vectors(vf->pdev);
}

static struct gpup_vf_dev *gpup_vf_alloc(struct pci_dev *pdev)
{
	struct gpup_vf_dev *vf = kzalloc(sizeof(*vf), GFP_KERNEL);

	if (!vf)
		return NULL;
	vf->pdev = pdev;
	kref_init(&vf->ref);
	init_rwsem(&vf->unplug_rwsem);
	mutex_init(&vf->submit_lock);
	spin_lock_init(&vf->fence_lock);
	init_waitqueue_head(&vf->wq);
	INIT_WORK(&vf->recover_work, gpup_vf_recover_work);
	INIT_LIST_HEAD(&vf->files);
	mutex_init(&vf->files_lock);
	/* far from 2^64: sequence numbers never wrap */
	gpup_vf_fences_init(&vf->fences, clamp_val(first_fence, 1, BIT_ULL(62)));
	vf->id = -1;
	return vf;
}

static int gpup_vf_start(struct gpup_vf_dev *vf)
{
	int ret;

	/* whatever a previous owner left in flight goes */
	ret = gpup_vf_engine_reset(vf);
	if (ret)
		return ret;
	mutex_lock(&vf->submit_lock);
	gpup_vf_engine_program(vf);
	mutex_unlock(&vf->submit_lock);
	return 0;
}

static int gpup_vf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct gpup_vf_dev *vf;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	vf = gpup_vf_alloc(pdev);
	if (!vf)
		return -ENOMEM;
	ret = gpup_vf_map(vf);
	if (ret)
		goto err_put;
	pci_set_master(pdev);

	vf->id = ida_alloc(&gpup_vf_ida, GFP_KERNEL);
	if (vf->id < 0) {
		ret = vf->id;
		goto err_put;
	}
	snprintf(vf->name, sizeof(vf->name), GPUP_VF_NAME "%d", vf->id);

	ret = gpup_vf_setup_irq(vf);
	if (ret)
		goto err_ida;
	ret = gpup_vf_start(vf);
	if (ret)
		goto err_irq;
	pci_set_drvdata(pdev, vf);
	ret = gpup_vf_cdev_register(vf);
	if (ret)
		goto err_stop;
	gpup_vf_debugfs_add(vf);

	pci_info(pdev, "/dev/%s: profile %u, %llu MiB VRAM, ring at %#llx, %s\n",
		 vf->name, vf->profile, vf->vram_size >> 20, vf->ring_offset,
		 vf->irq_mode == GPUP_VF_IRQ_MSI ? "MSI" : "INTx");
	return 0;

err_stop:
	gpup_vf_engine_stop(vf);
err_irq:
	gpup_vf_teardown_irq(vf);
err_ida:
	ida_free(&gpup_vf_ida, vf->id);
err_put:
	gpup_vf_put(vf);
	return ret;
}

static void gpup_vf_remove(struct pci_dev *pdev)
{
	struct gpup_vf_dev *vf = pci_get_drvdata(pdev);

	/* no new opens; then everyone in the driver leaves with -ENODEV */
	gpup_vf_cdev_unregister(vf);
	gpup_vf_set_state(vf, GPUP_VF_GONE);
	gpup_vf_debugfs_remove(vf);
	down_write(&vf->unplug_rwsem);
	up_write(&vf->unplug_rwsem);
	gpup_vf_cdev_zap(vf);

	/* the work sees GONE and leaves the device alone */
	cancel_work_sync(&vf->recover_work);
	gpup_vf_engine_stop(vf);
	gpup_vf_teardown_irq(vf);
	ida_free(&gpup_vf_ida, vf->id);
	pci_info(pdev, "/dev/%s removed\n", vf->name);
	gpup_vf_put(vf);
}

/* A function reset wipes the VF: stop submitters around it, restart after */
static const struct pci_error_handlers gpup_vf_err_handlers = {
	.reset_prepare	= gpup_vf_reset_prepare,
	.reset_done	= gpup_vf_reset_done,
};

static const struct pci_device_id gpup_vf_ids[] = {
	{ PCI_DEVICE(GPUP_PCI_VENDOR_ID, GPUP_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, gpup_vf_ids);

static struct pci_driver gpup_vf_driver = {
	.name		= GPUP_VF_NAME,
	.id_table	= gpup_vf_ids,
	.probe		= gpup_vf_probe,
	.remove		= gpup_vf_remove,
	.err_handler	= &gpup_vf_err_handlers,
};

static int __init gpup_vf_init(void)
{
	int ret;

	gpup_vf_debugfs_init();
	ret = pci_register_driver(&gpup_vf_driver);
	if (ret)
		gpup_vf_debugfs_exit();
	return ret;
}

static void __exit gpup_vf_exit(void)
{
	pci_unregister_driver(&gpup_vf_driver);
	gpup_vf_debugfs_exit();
}

module_init(gpup_vf_init);
module_exit(gpup_vf_exit);

MODULE_DESCRIPTION("Guest driver of a gpup GPU-P virtual function");
MODULE_LICENSE("GPL");
