/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space access to a gpup VF through the VFIO uAPI, the way QEMU does
 * it: container (type1), group, device fd, region offsets, mmap of BAR2,
 * SET_IRQS with eventfds.  Shared by the in-guest tests and the demo.
 */
#ifndef GPUP_VFIO_H
#define GPUP_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>
#include <linux/gpup.h>
#include <gpup/sim_hw.h>
#include <gpup/sim_state.h>

#define GPUP_PARENT	"/sys/class/mdev_bus/gpup_sim"
#define GPUP_DEBUGFS	"/sys/kernel/debug/gpup_sim"

struct gpup_dev {
	char uuid[40];
	int container;
	int group;
	int fd;
	uint64_t region_off[VFIO_PCI_NUM_REGIONS];
	uint64_t region_size[VFIO_PCI_NUM_REGIONS];
	uint32_t region_flags[VFIO_PCI_NUM_REGIONS];
	uint8_t *vram;		/* BAR2 mmap */
	uint64_t vram_size;
	uint32_t ring_base, ring_size, tail;
};

int gpup_write_file(const char *path, const char *s);	/* 0 or -errno */
int gpup_vf_create(const char *profile, char *uuid, size_t len);
/* the same on another GPU: @parent is its /sys/class/mdev_bus/ directory */
int gpup_vf_create_on(const char *parent, const char *profile, char *uuid, size_t len);
int gpup_vf_remove(const char *uuid);
int gpup_available(const char *profile);
int gpup_available_on(const char *parent, const char *profile);

int gpup_open_group(const char *uuid);	/* /dev/vfio/N's fd or -errno */
/* opens the VF and enables memory decode and bus mastering */
int gpup_open(struct gpup_dev *d, const char *uuid);
int gpup_enable(struct gpup_dev *d);
void gpup_close(struct gpup_dev *d);

uint32_t gpup_rd(struct gpup_dev *d, uint32_t reg);
void gpup_wr(struct gpup_dev *d, uint32_t reg, uint32_t val);
int gpup_cfg_rd(struct gpup_dev *d, unsigned int off, void *buf, size_t len);
int gpup_cfg_wr(struct gpup_dev *d, unsigned int off, const void *buf, size_t len);
int gpup_reset(struct gpup_dev *d);

/* The command ring: set up at @base, submit, wait until drained */
void gpup_ring_init(struct gpup_dev *d, uint32_t base, uint32_t size);
void gpup_submit(struct gpup_dev *d, uint32_t opcode, uint32_t value,
		 uint64_t dst, uint64_t src, uint64_t len);
void gpup_kick(struct gpup_dev *d);
int gpup_wait_idle(struct gpup_dev *d, int timeout_ms);

/* Interrupts: an eventfd wired to INTx, MSI or REQ */
int gpup_irq_eventfd(struct gpup_dev *d, unsigned int index);
int gpup_irq_disable(struct gpup_dev *d, unsigned int index);
int gpup_irq_unmask(struct gpup_dev *d);
int gpup_eventfd_wait(int efd, int timeout_ms);

/* debugfs: a field of <vf>/vram, e.g. "pages_allocated" */
long long gpup_debugfs_vram(const char *uuid, const char *field);
/* a numeric field of <vf>/<file>, e.g. ("engine", "time_ns"); -1 if absent */
long long gpup_debugfs_num(const char *uuid, const char *file, const char *field);
/* a field of <vf>/<file> as text, e.g. ("migration", "last_error") */
int gpup_debugfs_str(const char *uuid, const char *file, const char *field,
		     char *out, size_t len);

/* VFIO_DEVICE_FEATURE with @len (at most 64) bytes of @data: 0 or -errno */
int gpup_device_feature(struct gpup_dev *d, uint32_t flags, void *data, size_t len);
/* whether the running kernel has @name (/proc/kallsyms) */
bool gpup_kernel_has(const char *name);
/*
 * Whether the running kernel has lockdep or kmemleak (a debug kernel, as
 * with KASAN): every system call and allocation costs several times more
 */
bool gpup_debug_kernel(void);

/* VFIO migration v2: returns the data fd (or -1 for none) or -errno */
int gpup_mig_set_state(struct gpup_dev *d, uint32_t state);
int gpup_mig_get_state(struct gpup_dev *d);
int gpup_mig_precopy_info(int data_fd, uint64_t *initial, uint64_t *dirty);
long long gpup_mig_data_size(struct gpup_dev *d);

/*
 * Fault injection, where the kernel has it: fail the calling thread's
 * @n-th allocation from now on; disarm says whether it was injected
 */
int gpup_fail_nth_setup(void);		/* 0, or -errno without it */
void gpup_fail_nth_arm(unsigned int n);
bool gpup_fail_nth_disarm(void);

#endif
