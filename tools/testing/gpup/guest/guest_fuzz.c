// SPDX-License-Identifier: GPL-2.0-only
/*
 * What an untrusted guest can do to its VF, at random, against what the
 * host must keep whatever it does.
 *
 * A guest reaches its VF through the VFIO device fd that QEMU holds for
 * it: config space, BAR0 (registers), BAR2 (VRAM, as a region and mapped),
 * the command engine, interrupts and resets.  Two threads do all of that
 * at random to two VFs (a small and a medium) at once; a third thread
 * samples each VF's host pages and the kernel log; a third VF nobody
 * fuzzes holds a canary.  What must hold:
 *
 *  - every syscall succeeds, or fails with an errno its operation allows
 *    (below); a BAR2 mmap access completes or raises SIGBUS (memory
 *    decode off), which is caught and counted per thread, never fatal;
 *  - no read of a fuzzed VF (region read, mmap load) returns the
 *    bystander's canary, and the bystander's VRAM checksum is unchanged;
 *  - a fuzzed VF's host pages never exceed its profile's VRAM pages;
 *  - afterwards VFIO_DEVICE_RESET returns promptly and leaves the engine
 *    idle, no page allocated and VRAM reading as zeros;
 *  - with cgroup v2, the fuzzer runs in a memory cgroup of its own, whose
 *    memory.current falls back to within 2 MiB of what it was before the
 *    fuzzed VFs were opened once they are closed;
 *  - the kernel log gets no BUG, WARNING, Oops, KASAN, UBSAN, lockdep,
 *    hung-task or soft lockup report from the start on.
 *
 * The outcomes each operation allows, from drivers/gpup/sim and the VFIO
 * core.  EIO is vfio-pci's answer to a BAR access while the command
 * register has memory decode off; whether a malformed BAR access is
 * refused for its shape or for the decode first is left open.
 *
 *   config region      1..256 bytes inside it: all of them; else EINVAL
 *   BAR0 region        an aligned 4-byte access below 64 KiB: 4 bytes or
 *                      EIO; anything else: EINVAL or EIO
 *   BAR2 region        inside VRAM: all the bytes (0 for none) or EIO;
 *                      past its end: EINVAL or EIO.  A user buffer in a
 *                      BAR2 mapping may fault too: a short count or EFAULT
 *   BAR1, BAR3-5, ROM, VGA
 *                      EINVAL or EIO; indexes past VGA: EINVAL
 *   mmap               BAR2, shared, inside VRAM: maps; else EINVAL
 *   GET_INFO, GET_REGION_INFO, GET_IRQ_INFO
 *                      argsz short of the fixed part or index out of
 *                      range: EINVAL; a bad pointer: EFAULT; else this
 *                      device's answer, checked
 *   SET_IRQS           malformed (argsz, flags, index, start, count, an
 *                      action the index has not): EINVAL; a bad pointer:
 *                      EFAULT; a trigger on INTx or MSI while the other
 *                      one is set: EBUSY; an fd that is no eventfd:
 *                      EINVAL, one that is not open: EBADF
 *   VFIO_DEVICE_RESET  success
 *   other ioctls       ENOTTY
 *
 * The seed is printed first; GPUP_FUZZ_SEED=N replays a run's operations
 * (not the threads' interleaving), GPUP_FUZZ_OPS=N sets their number.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/pci_regs.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "gpup_vfio.h"
#include "tap.h"

#define NVF		2
#define PAGE		4096ULL
#define KIB		1024ULL
#define BUF_SIZE	(2 * MIB)	/* per thread: region I/O, commands */
#define MAX_IO		MIB		/* the longest region access */
#define BACKLOG_MIN	4096		/* FILLs behind the one doorbell */
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_SLACK	(2 * MIB)
#define RESET_PROMPT_MS	5000
#define STUCK_S		300		/* no progress: a hang, not slowness */
#define DEFAULT_OPS	150000		/* about 75 s under the debug kernel */
#define NERR		134		/* errno slots of the counters */
#define E(e)		(1ULL << (e))
#define MSI_CAP		0x40		/* the capability list's one entry */

/* A VF under test, or the bystander */
struct fvf {
	const char *profile;
	uint32_t profile_id;
	char uuid[40];
	struct gpup_dev d;
	bool created, open;
	uint64_t pages;			/* the profile's VRAM pages */
	uint32_t ident[GPUP_REG_ENGINES / 4 + 1];	/* ID .. ENGINES at open */
	uint8_t msi_cap;
	long long max_pages;		/* most host pages seen allocated */
	unsigned long samples, backlogs;
};

static struct fvf vfs[NVF] = {
	{ .profile = "small", .profile_id = GPUP_PROFILE_SMALL },
	{ .profile = "medium", .profile_id = GPUP_PROFILE_MEDIUM },
};

/* The third VF, never fuzzed: it holds the canary */
static struct fvf bystander = { .profile = "small", .profile_id = GPUP_PROFILE_SMALL };

/* A fuzzing thread */
struct fz {
	unsigned int id;
	uint64_t rng;
	unsigned long ops, done;
	unsigned long backlog_at;
	int cur_op;
	struct fvf *cur_vf;
	int efd[3];			/* INTx, MSI, REQ */
	uint8_t *buf;			/* reads, commands */
	uint8_t *rnd;			/* random bytes to write */
	pthread_t thread;
};

enum op {
	OP_CFG_READ, OP_CFG_WRITE, OP_CFG_COMMAND, OP_CFG_MSI,
	OP_BAR0_READ, OP_BAR0_WRITE, OP_BAR0_BAD,
	OP_BAR2_READ, OP_BAR2_WRITE, OP_BAR2_MAPPED_BUF,
	OP_MMAP_LOAD, OP_MMAP_STORE, OP_MMAP_MAP, OP_OTHER_REGION,
	OP_RING_SETUP, OP_SUBMIT, OP_BACKLOG,
	OP_SET_IRQS, OP_SET_IRQS_BOGUS, OP_INFO, OP_BAD_IOCTL,
	OP_VFIO_RESET, OP_CTRL_RESET,
	NR_OPS
};

static const char *op_name(int op);

static uint64_t seed;
static unsigned long total_ops = DEFAULT_OPS;
static struct fz fzs[2];

/* Outcome counters: [op][0] successes, [op][errno] refusals */
static unsigned long stat_n[NR_OPS][NERR];
static unsigned long stat_sigbus[NR_OPS];
static unsigned int weight_total;
static unsigned long broken_count, canary_hits, bytes_scanned;
static uint64_t reset_max_ns;
static int stop_sampler;
/* The threads start before the cgroup's baseline and wait here; !go: home */
static pthread_barrier_t start_line;
static bool go;
static pthread_t sampler;

/* 16 bytes no fuzzed VF may ever read back */
static const uint8_t canary[16] = {
	0xc3, 0x5a, 0x17, 0xe9, 'g', 'p', 'u', 'p',
	0x80, 0x0d, 0xf0, 0x0c, 0x6b, 0x1e, 0xa4, 0x29,
};

static long long bystander_sum, bystander_pages;

static const uint8_t pci_id[4] = {
	GPUP_PCI_VENDOR_ID & 0xff, GPUP_PCI_VENDOR_ID >> 8,
	GPUP_PCI_DEVICE_ID & 0xff, GPUP_PCI_DEVICE_ID >> 8,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* xorshift64*: each thread's operations follow from the seed alone */
static uint64_t rnd(struct fz *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct fz *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct fz *t, unsigned int pct)
{
	return below(t, 100) < pct;
}

static uint64_t pick(struct fz *t, const uint64_t *set, size_t n)
{
	return set[below(t, n)];
}

#define PICK(t, ...) ({							\
	static const uint64_t _set[] = { __VA_ARGS__ };			\
	pick(t, _set, ARRAY_SIZE(_set));				\
})

/* ---- accounting -------------------------------------------------------- */

static void broken(struct fz *t, const char *fmt, ...)
{
	unsigned long n = __atomic_fetch_add(&broken_count, 1, __ATOMIC_RELAXED);
	char msg[256];
	va_list ap;

	if (n >= 20)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t)
		printf("# %s: thread %u, op %lu (%s, %s VF): %s\n", "invariant broken",
		       t->id, t->done, op_name(t->cur_op), t->cur_vf->profile, msg);
	else
		printf("# %s: %s\n", "invariant broken", msg);
}

/*
 * One syscall's outcome: @ret < 0 means it failed with errno.  A malformed
 * call (@must_fail) that succeeds breaks the rules, as does an errno
 * outside @ok.  Returns true when the call succeeded as it should.
 */
static bool judge(struct fz *t, long ret, bool must_fail, uint64_t ok, const char *fmt, ...)
{
	int err = ret < 0 ? errno : 0;
	char what[160];
	va_list ap;

	__atomic_fetch_add(&stat_n[t->cur_op][err < NERR ? err : NERR - 1], 1,
			   __ATOMIC_RELAXED);
	if (!err && !must_fail)
		return true;
	if (err && err < 64 && ok & E(err))
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err)
		broken(t, "%s: %s, not an allowed errno", what, strerror(err));
	else
		broken(t, "%s: succeeded (%ld), must fail", what, ret);
	return false;
}

static void scan(struct fz *t, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *hit = memmem(buf, len, canary, sizeof(canary));

	__atomic_fetch_add(&bytes_scanned, len, __ATOMIC_RELAXED);
	if (!hit)
		return;
	__atomic_fetch_add(&canary_hits, 1, __ATOMIC_RELAXED);
	broken(t, "VRAM at %#llx read back the bystander's canary",
	       (unsigned long long)(off + (hit - (const uint8_t *)buf)));
}

/* ---- BAR2 mapping accesses, SIGBUS caught per thread ------------------- */

static __thread sigjmp_buf bus_jmp;
/*
 * Set around a mapped access.  The handler reads it: every access is an
 * __atomic one with a signal fence, so the compiler neither drops nor moves
 * it across the access (what volatile would do).
 */
static __thread sig_atomic_t bus_armed;

static void bus_arm(sig_atomic_t on)
{
	__atomic_store_n(&bus_armed, on, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void on_sigbus(int sig)
{
	if (!__atomic_load_n(&bus_armed, __ATOMIC_RELAXED)) {
		/* not an access of ours: die of it, as the test must fail */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(bus_jmp, 1);
}

static void sigbus_count(struct fz *t)
{
	__atomic_fetch_add(&stat_sigbus[t->cur_op], 1, __ATOMIC_RELAXED);
}

/* memcpy with a BAR2 mapping on either side: false on SIGBUS */
static bool mapped_copy(struct fz *t, void *dst, const void *src, size_t len)
{
	if (sigsetjmp(bus_jmp, 1)) {
		bus_arm(0);
		sigbus_count(t);
		return false;
	}
	bus_arm(1);
	memcpy(dst, src, len);
	bus_arm(0);
	return true;
}

/* One load or store of 1, 2, 4 or 8 bytes at any alignment */
static bool mapped_access(struct fz *t, uint8_t *p, unsigned int size, bool store,
			  uint64_t val)
{
	if (sigsetjmp(bus_jmp, 1)) {
		bus_arm(0);
		sigbus_count(t);
		return false;
	}
	bus_arm(1);
	/* a compiler barrier around the copy: the access happens, at once */
	if (store) {
		memcpy(p, &val, size);
		__asm__ __volatile__("" : : : "memory");
	} else {
		memcpy(&val, p, size);
		__asm__ __volatile__("" : : "r" (val) : "memory");
	}
	bus_arm(0);
	return true;
}

/* ---- small helpers over the device fd ---------------------------------- */

static uint64_t region(struct fvf *v, unsigned int index)
{
	return v->d.region_off[index];
}

static bool reg_read(struct fz *t, struct fvf *v, uint32_t reg, uint32_t *val)
{
	ssize_t n = pread(v->d.fd, val, 4, region(v, VFIO_PCI_BAR0_REGION_INDEX) + reg);

	if (!judge(t, n, false, E(EIO), "BAR0 read %#x", reg))
		return false;
	if (n != 4) {
		broken(t, "BAR0 read %#x moved %zd bytes", reg, n);
		return false;
	}
	*val = le32toh(*val);
	return true;
}

static bool reg_write(struct fz *t, struct fvf *v, uint32_t reg, uint32_t val)
{
	uint32_t le = htole32(val);
	ssize_t n = pwrite(v->d.fd, &le, 4, region(v, VFIO_PCI_BAR0_REGION_INDEX) + reg);

	if (!judge(t, n, false, E(EIO), "BAR0 write %#x = %#x", reg, val))
		return false;
	if (n != 4) {
		broken(t, "BAR0 write %#x moved %zd bytes", reg, n);
		return false;
	}
	return true;
}

/* The command register, read-modify-write as a driver does */
static void cfg_command(struct fz *t, struct fvf *v, uint16_t set, uint16_t clear,
			unsigned int size)
{
	uint64_t off = region(v, VFIO_PCI_CONFIG_REGION_INDEX) + PCI_COMMAND;
	uint8_t b[4];
	uint16_t cmd;
	ssize_t n;

	n = pread(v->d.fd, b, 4, off);
	if (!judge(t, n, false, 0, "config read of the command register"))
		return;
	memcpy(&cmd, b, sizeof(cmd));
	cmd = htole16((le16toh(cmd) | set) & ~clear);
	memcpy(b, &cmd, sizeof(cmd));
	n = pwrite(v->d.fd, b, size, off);
	if (judge(t, n, false, 0, "config write of %u bytes to the command register",
		  size) && n != size)
		broken(t, "command register write moved %zd of %u bytes", n, size);
}

/* As a driver does after a reset: memory decode and bus mastering on */
static void enable(struct fz *t, struct fvf *v)
{
	cfg_command(t, v, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0, 2);
}

/* ---- config space ------------------------------------------------------ */

static const uint64_t cfg_lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255, 256, 257, 4096 };

static uint64_t cfg_off(struct fz *t)
{
	switch (below(t, 10)) {
	case 0:
		return chance(t, 80) ? 256 + below(t, 8192) : below(t, 1ULL << 40);
	case 1:
		return PCI_COMMAND + below(t, 4);
	case 2:
		return MSI_CAP + below(t, 16);
	default:
		return below(t, 256);
	}
}

static bool cfg_valid(uint64_t off, uint64_t len)
{
	return len && off < 256 && len <= 256 - off;
}

/* Bytes of the PCI ID in a read must be the ID, whatever else happens */
static void check_id(struct fz *t, const uint8_t *buf, uint64_t off, uint64_t len)
{
	uint64_t i;

	for (i = off; i < off + len && i < sizeof(pci_id); i++)
		if (buf[i - off] != pci_id[i]) {
			broken(t, "config byte %llu read %#x, the PCI ID has %#x",
			       (unsigned long long)i, buf[i - off], pci_id[i]);
			return;
		}
}

static void op_cfg_read(struct fz *t, struct fvf *v)
{
	uint64_t off = cfg_off(t), len = pick(t, cfg_lens, ARRAY_SIZE(cfg_lens));
	bool valid = cfg_valid(off, len);
	ssize_t n = pread(v->d.fd, t->buf, len,
			  region(v, VFIO_PCI_CONFIG_REGION_INDEX) + off);

	if (!judge(t, n, !valid, E(EINVAL), "config read %#llx+%llu",
		   (unsigned long long)off, (unsigned long long)len))
		return;
	if ((uint64_t)n != len)
		broken(t, "config read %#llx+%llu moved %zd bytes",
		       (unsigned long long)off, (unsigned long long)len, n);
	else
		check_id(t, t->buf, off, len);
}

static void op_cfg_write(struct fz *t, struct fvf *v)
{
	uint64_t off = cfg_off(t), len = pick(t, cfg_lens, ARRAY_SIZE(cfg_lens));
	bool valid = cfg_valid(off, len);
	uint8_t *src = t->rnd + below(t, BUF_SIZE - 4096);
	ssize_t n;

	/* mostly keep decode on, so that the BARs see traffic */
	if (valid && off <= PCI_COMMAND && off + len > PCI_COMMAND && chance(t, 70)) {
		memcpy(t->buf, src, len);
		t->buf[PCI_COMMAND - off] |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		src = t->buf;
	}
	n = pwrite(v->d.fd, src, len, region(v, VFIO_PCI_CONFIG_REGION_INDEX) + off);
	if (judge(t, n, !valid, E(EINVAL), "config write %#llx+%llu",
		  (unsigned long long)off, (unsigned long long)len) && (uint64_t)n != len)
		broken(t, "config write %#llx+%llu moved %zd bytes",
		       (unsigned long long)off, (unsigned long long)len, n);
}

static void op_cfg_command(struct fz *t, struct fvf *v)
{
	uint16_t on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, set = 0, clear = 0;

	if (chance(t, 85))
		set = on;
	else
		clear = PICK(t, PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER,
			     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (chance(t, 50))
		set |= PCI_COMMAND_INTX_DISABLE;
	else
		clear |= PCI_COMMAND_INTX_DISABLE;
	if (chance(t, 10))
		set |= rnd(t);		/* bits the device does not implement */
	set &= ~clear;
	cfg_command(t, v, set, clear, PICK(t, 2, 2, 2, 4));
}

static void op_cfg_msi(struct fz *t, struct fvf *v)
{
	static const uint64_t fields[] = {
		PCI_MSI_FLAGS, PCI_MSI_ADDRESS_LO, PCI_MSI_ADDRESS_HI, PCI_MSI_DATA_64,
	};
	uint64_t off = MSI_CAP + pick(t, fields, ARRAY_SIZE(fields));
	uint64_t len = PICK(t, 1, 2, 4, 4, 8);
	uint64_t val = rnd(t);
	ssize_t n;

	if (off == MSI_CAP + PCI_MSI_FLAGS)
		val = chance(t, 50) ? PCI_MSI_FLAGS_ENABLE : 0;
	n = pwrite(v->d.fd, &val, len, region(v, VFIO_PCI_CONFIG_REGION_INDEX) + off);
	if (judge(t, n, false, 0, "MSI write %#llx+%llu", (unsigned long long)off,
		  (unsigned long long)len) && (uint64_t)n != len)
		broken(t, "MSI write moved %zd of %llu bytes", n, (unsigned long long)len);
}

/* ---- BAR0 -------------------------------------------------------------- */

static const uint64_t regs[] = {
	GPUP_REG_ID, GPUP_REG_VERSION, GPUP_REG_FW_VERSION, GPUP_REG_PROFILE,
	GPUP_REG_VRAM_SIZE_LO, GPUP_REG_VRAM_SIZE_HI, GPUP_REG_ENGINES,
	GPUP_REG_FEATURES, GPUP_REG_SCRATCH0, GPUP_REG_SCRATCH1,
	GPUP_REG_SCRATCH2, GPUP_REG_SCRATCH3, GPUP_REG_CTRL, GPUP_REG_STATUS,
	GPUP_REG_ERROR, GPUP_REG_ERROR_HEAD, GPUP_REG_INT_STATUS,
	GPUP_REG_INT_MASK, GPUP_REG_RING_BASE_LO, GPUP_REG_RING_BASE_HI,
	GPUP_REG_RING_SIZE, GPUP_REG_RING_HEAD, GPUP_REG_RING_TAIL,
	GPUP_REG_DOORBELL, GPUP_REG_FENCE, GPUP_REG_FENCE_COUNT,
	GPUP_REG_CMD_COUNT, 0x030, 0x05c, 0x078, 0x08c, 0x100, 0xfffc,
};

static uint32_t pick_reg(struct fz *t)
{
	if (chance(t, 10))
		return below(t, GPUP_REGS_SIZE / 4) * 4;
	return pick(t, regs, ARRAY_SIZE(regs));
}

/* The registers that say what the VF is never change */
static void check_ident(struct fz *t, struct fvf *v, uint32_t reg, uint32_t val)
{
	uint32_t want;

	switch (reg) {
	case GPUP_REG_VERSION:		/* a minor version may come */
		want = v->ident[reg / 4] >> 16;
		val >>= 16;
		break;
	case GPUP_REG_ID:
	case GPUP_REG_PROFILE:
	case GPUP_REG_VRAM_SIZE_LO:
	case GPUP_REG_VRAM_SIZE_HI:
	case GPUP_REG_ENGINES:
		want = v->ident[reg / 4];
		break;
	default:
		return;
	}
	if (val != want)
		broken(t, "register %#x read %#x, it was %#x at open", reg, val, want);
}

static void op_bar0_read(struct fz *t, struct fvf *v)
{
	uint32_t reg = pick_reg(t), val;

	if (reg_read(t, v, reg, &val))
		check_ident(t, v, reg, val);
}

static uint32_t reg_value(struct fz *t, struct fvf *v, uint32_t reg)
{
	switch (reg) {
	case GPUP_REG_CTRL:
		return chance(t, 80) ? GPUP_CTRL_ENGINE_ENABLE : rnd(t) & ~GPUP_CTRL_RESET;
	case GPUP_REG_INT_STATUS:
	case GPUP_REG_INT_MASK:
		return chance(t, 80) ? below(t, 4) : rnd(t);
	case GPUP_REG_RING_BASE_LO:
		return chance(t, 80) ? below(t, v->pages) * PAGE : rnd(t);
	case GPUP_REG_RING_BASE_HI:
		return chance(t, 80) ? 0 : rnd(t);
	case GPUP_REG_RING_SIZE:
		return chance(t, 80) ? 0x1000U << below(t, 9) : rnd(t);
	case GPUP_REG_RING_TAIL:
		return chance(t, 80) ? below(t, 0x1000 / 32) * 32 : rnd(t);
	default:
		return rnd(t);
	}
}

static void op_bar0_write(struct fz *t, struct fvf *v)
{
	uint32_t reg = pick_reg(t);

	reg_write(t, v, reg, reg_value(t, v, reg));
}

/* Accesses the register file refuses: size, alignment, offset */
static void op_bar0_bad(struct fz *t, struct fvf *v)
{
	uint64_t off = pick_reg(t), len = 4;
	ssize_t n;

	switch (below(t, 3)) {
	case 0:
		len = PICK(t, 0, 1, 2, 3, 5, 8, 64);
		break;
	case 1:
		off += 1 + below(t, 3);
		break;
	default:
		off = PICK(t, GPUP_REGS_SIZE, GPUP_REGS_SIZE + 4, 0xfffffffc,
			   (1ULL << 40) - 4);
		break;
	}
	if (chance(t, 50))
		n = pread(v->d.fd, t->buf, len, region(v, VFIO_PCI_BAR0_REGION_INDEX) + off);
	else
		n = pwrite(v->d.fd, t->rnd, len, region(v, VFIO_PCI_BAR0_REGION_INDEX) + off);
	judge(t, n, true, E(EINVAL) | E(EIO), "BAR0 access %#llx+%llu",
	      (unsigned long long)off, (unsigned long long)len);
}

/* ---- BAR2 -------------------------------------------------------------- */

static uint64_t io_len(struct fz *t, uint64_t max)
{
	uint64_t len;

	switch (below(t, 20)) {
	case 0 ... 9:
		len = 1 + below(t, 4 * KIB);
		break;
	case 10 ... 16:
		len = 1 + below(t, 64 * KIB);
		break;
	default:
		len = 1 + below(t, MAX_IO);
		break;
	}
	if (chance(t, 50))
		len = (len + 3) & ~3ULL;
	return len < max ? len : max;
}

/* A VRAM range: mostly inside, some across or past the end, some empty */
static bool vram_range(struct fz *t, struct fvf *v, uint64_t *off, uint64_t *len)
{
	uint64_t size = v->d.vram_size;

	switch (below(t, 20)) {
	case 0:		/* across the end */
		*len = 2 + below(t, 64 * KIB);
		*off = size - 1 - below(t, *len - 1);
		break;
	case 1:		/* past it */
		*off = chance(t, 80) ? size + PICK(t, 0, 1, 4096, 1ULL << 30) :
		       (1ULL << 40) - 8;
		*len = below(t, 4096);
		break;
	case 2:		/* nothing */
		*off = below(t, size + 1);
		*len = 0;
		break;
	default:
		*len = io_len(t, size);
		*off = below(t, size - *len + 1);
		if (chance(t, 50))
			*off &= ~(PAGE - 1);
		break;
	}
	return *off <= size && *len <= size - *off;
}

static void op_bar2_read(struct fz *t, struct fvf *v)
{
	uint64_t off, len;
	bool valid = vram_range(t, v, &off, &len);
	ssize_t n = pread(v->d.fd, t->buf, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);

	if (!judge(t, n, !valid, valid ? E(EIO) : E(EINVAL) | E(EIO),
		   "BAR2 read %#llx+%llu", (unsigned long long)off, (unsigned long long)len))
		return;
	if ((uint64_t)n != len)
		broken(t, "BAR2 read %#llx+%llu moved %zd bytes", (unsigned long long)off,
		       (unsigned long long)len, n);
	scan(t, t->buf, n, off);
}

static void op_bar2_write(struct fz *t, struct fvf *v)
{
	uint64_t off, len;
	bool valid = vram_range(t, v, &off, &len);
	const uint8_t *src = t->rnd + below(t, BUF_SIZE - MAX_IO);
	ssize_t n = pwrite(v->d.fd, src, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);

	if (judge(t, n, !valid, valid ? E(EIO) : E(EINVAL) | E(EIO),
		  "BAR2 write %#llx+%llu", (unsigned long long)off, (unsigned long long)len) &&
	    (uint64_t)n != len)
		broken(t, "BAR2 write %#llx+%llu moved %zd bytes", (unsigned long long)off,
		       (unsigned long long)len, n);
}

/*
 * A region access whose user buffer is a BAR2 mapping, this VF's or the
 * other's: the copy faults on VRAM while the region access walks VRAM.
 */
static void op_bar2_mapped_buf(struct fz *t, struct fvf *v)
{
	struct fvf *w = &vfs[below(t, NVF)];
	uint64_t len = 1 + below(t, 64 * KIB);
	uint64_t off = below(t, v->d.vram_size - len + 1);
	uint8_t *buf = w->d.vram + below(t, w->d.vram_size - len + 1);
	bool write = chance(t, 50);
	ssize_t n;

	if (write)
		n = pwrite(v->d.fd, buf, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);
	else
		n = pread(v->d.fd, buf, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);
	if (judge(t, n, false, E(EIO) | E(EFAULT),
		  "BAR2 %s %#llx+%llu, buffer in the %s VF's mapping", write ? "write" : "read",
		  (unsigned long long)off, (unsigned long long)len, w->profile) &&
	    (n < 1 || (uint64_t)n > len))
		broken(t, "BAR2 access of %llu bytes with a mapped buffer moved %zd",
		       (unsigned long long)len, n);
}

static void op_mmap_load(struct fz *t, struct fvf *v)
{
	uint64_t len = chance(t, 70) ? PICK(t, 1, 2, 4, 8) : 16 + below(t, 64 * KIB);
	uint64_t off = below(t, v->d.vram_size - len + 1);

	if (len <= 8) {
		if (mapped_access(t, v->d.vram + off, len, false, 0))
			__atomic_fetch_add(&stat_n[t->cur_op][0], 1, __ATOMIC_RELAXED);
		return;
	}
	if (!mapped_copy(t, t->buf, v->d.vram + off, len))
		return;
	__atomic_fetch_add(&stat_n[t->cur_op][0], 1, __ATOMIC_RELAXED);
	scan(t, t->buf, len, off);
}

static void op_mmap_store(struct fz *t, struct fvf *v)
{
	uint64_t len = chance(t, 70) ? PICK(t, 1, 2, 4, 8) : 1 + below(t, 64 * KIB);
	uint64_t off = below(t, v->d.vram_size - len + 1);
	bool ok;

	if (len <= 8)
		ok = mapped_access(t, v->d.vram + off, len, true, rnd(t));
	else
		ok = mapped_copy(t, v->d.vram + off, t->rnd + below(t, BUF_SIZE - len), len);
	if (ok)
		__atomic_fetch_add(&stat_n[t->cur_op][0], 1, __ATOMIC_RELAXED);
}

/* mmap of the device fd: BAR2 maps, nothing else does */
static void op_mmap_map(struct fz *t, struct fvf *v)
{
	uint64_t pages = v->pages, first = below(t, pages), n;
	uint64_t off = region(v, VFIO_PCI_BAR2_REGION_INDEX);
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	bool valid = false;
	void *p;

	n = 1 + below(t, pages - first < 64 ? pages - first : 64);
	switch (below(t, 8)) {
	case 0:
		flags = MAP_PRIVATE;
		break;
	case 1:
		off = region(v, VFIO_PCI_BAR0_REGION_INDEX);
		first = 0;
		break;
	case 2:
		off = region(v, VFIO_PCI_CONFIG_REGION_INDEX);
		first = 0;
		break;
	case 3:		/* one page past the end */
		first = pages - n + 1;
		break;
	case 4:
		off = (uint64_t)PICK(t, VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX,
				     VFIO_PCI_NUM_REGIONS, 0x1000) << 40;
		first = 0;
		break;
	default:
		valid = true;
		if (chance(t, 30))
			prot = PROT_READ;
		break;
	}
	p = mmap(NULL, n * PAGE, prot, flags, v->d.fd, off + first * PAGE);
	if (!judge(t, p == MAP_FAILED ? -1 : 0, !valid, E(EINVAL),
		   "mmap of %llu pages at %#llx", (unsigned long long)n,
		   (unsigned long long)(off + first * PAGE))) {
		if (p != MAP_FAILED)
			munmap(p, n * PAGE);
		return;
	}
	mapped_access(t, (uint8_t *)p + below(t, n * PAGE - 8), 8, false, 0);
	munmap(p, n * PAGE);
}

/* The regions a gpup VF has not */
static void op_other_region(struct fz *t, struct fvf *v)
{
	uint64_t index = PICK(t, VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR3_REGION_INDEX,
			      VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX,
			      VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX,
			      VFIO_PCI_NUM_REGIONS, 200, 0x7fffff);
	uint64_t off = (index << 40) + below(t, 4096) * 4, len = PICK(t, 1, 4, 8, 4096);
	ssize_t n;

	if (chance(t, 50))
		n = pread(v->d.fd, t->buf, len, off);
	else
		n = pwrite(v->d.fd, t->rnd, len, off);
	judge(t, n, true, index < VFIO_PCI_NUM_REGIONS ? E(EINVAL) | E(EIO) : E(EINVAL),
	      "region %llu access", (unsigned long long)index);
}

/* ---- the command engine ------------------------------------------------ */

static uint64_t fill_len(struct fz *t, uint64_t size)
{
	switch (below(t, 20)) {
	case 0 ... 9:
		return 4 + below(t, 64 * KIB);
	case 10 ... 16:
		return 4 + below(t, 8 * MIB);
	default:
		return 4 + below(t, size - 4);
	}
}

/* Mostly valid commands, FILL and COPY of large ranges among them */
static void gen_cmd(struct fz *t, struct fvf *v, struct gpup_cmd *c)
{
	uint64_t size = v->d.vram_size, dst = 0, src = 0, len = 0, r = below(t, 100);
	uint32_t opcode, value = rnd(t);

	if (r < 30) {
		opcode = GPUP_CMD_FILL;
		len = fill_len(t, size) & ~3ULL;
		dst = below(t, size - len + 1) & ~3ULL;
	} else if (r < 50) {
		opcode = GPUP_CMD_COPY;
		len = 1 + below(t, chance(t, 70) ? 64 * KIB : size / 2);
		src = below(t, size / 2 - len + 1);
		dst = size / 2 + below(t, size / 2 - len + 1);
		if (chance(t, 50)) {
			uint64_t x = src;

			src = dst;
			dst = x;
		}
	} else if (r < 65) {
		opcode = GPUP_CMD_FENCE;
	} else if (r < 75) {
		opcode = GPUP_CMD_NOP;
	} else {
		opcode = GPUP_CMD_FILL;
		dst = below(t, size) & ~3ULL;
		len = 4 + (below(t, 1024) & ~3ULL);
		switch (below(t, 8)) {
		case 0:
			opcode = 4 + below(t, 1000);
			if (chance(t, 20))
				opcode = ~0U;
			break;
		case 1:
			dst |= 1 + below(t, 3);
			break;
		case 2:
			len = 0;
			break;
		case 3:
			dst = size - 4;
			len = 8;
			break;
		case 4:
			dst = ~0ULL - 3;
			len = 8;
			break;
		case 5:
			dst = 0;
			len = ~0ULL & ~3ULL;
			break;
		case 6:
			opcode = GPUP_CMD_COPY;
			src = dst;
			dst = src + len / 2;
			break;
		default:
			opcode = GPUP_CMD_COPY;
			src = size - 2;
			break;
		}
	}
	c->opcode = htole32(opcode);
	c->value = htole32(value);
	c->dst = htole64(dst);
	c->src = htole64(src);
	c->len = htole64(len);
}

/* A ring where the engine may find one, valid or not */
static void op_ring_setup(struct fz *t, struct fvf *v)
{
	uint64_t size = v->d.vram_size;
	uint32_t rsize = 0x1000 << below(t, 9), hi = 0, tail = 0;
	uint64_t base = below(t, (chance(t, 70) ? 4 * MIB : size - rsize) / PAGE + 1) * PAGE;

	switch (below(t, 10)) {
	case 0:
		rsize = chance(t, 50) ? rsize + 32 : rnd(t);
		break;
	case 1:
		base |= 32 << below(t, 7);
		break;
	case 2:
		base = size - (rsize > PAGE ? rsize / 2 : 0);
		break;
	case 3:
		hi = 1 + below(t, ~0U);
		break;
	case 4:
		tail = chance(t, 50) ? rsize : 1 + below(t, 31);
		break;
	default:
		break;
	}
	if (reg_write(t, v, GPUP_REG_RING_BASE_LO, base) &&
	    reg_write(t, v, GPUP_REG_RING_BASE_HI, hi) &&
	    reg_write(t, v, GPUP_REG_RING_SIZE, rsize) &&
	    reg_write(t, v, GPUP_REG_RING_TAIL, tail))
		reg_write(t, v, GPUP_REG_CTRL, chance(t, 90) ? GPUP_CTRL_ENGINE_ENABLE : 0);
}

/* Write @len bytes of commands at VRAM @off: through the mapping or the region */
static void put_cmds(struct fz *t, struct fvf *v, uint64_t off, const void *src, size_t len)
{
	ssize_t n;

	if (chance(t, 60)) {
		if (mapped_copy(t, v->d.vram + off, src, len))
			__atomic_fetch_add(&stat_n[t->cur_op][0], 1, __ATOMIC_RELAXED);
		return;
	}
	n = pwrite(v->d.fd, src, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);
	if (judge(t, n, false, E(EIO), "ring write %#llx+%zu", (unsigned long long)off, len) &&
	    (size_t)n != len)
		broken(t, "ring write of %zu bytes moved %zd", len, n);
}

/* Commands at RING_TAIL, TAIL moved past them, the doorbell */
static void op_submit(struct fz *t, struct fvf *v)
{
	uint32_t base, hi, size, tail, k, i, first;
	struct gpup_cmd *c = (void *)t->buf;

	if (!reg_read(t, v, GPUP_REG_RING_BASE_LO, &base) ||
	    !reg_read(t, v, GPUP_REG_RING_BASE_HI, &hi) ||
	    !reg_read(t, v, GPUP_REG_RING_SIZE, &size) ||
	    !reg_read(t, v, GPUP_REG_RING_TAIL, &tail))
		return;
	if (hi || size < GPUP_RING_MIN_SIZE || size > GPUP_RING_MAX_SIZE ||
	    size & (size - 1) || base % GPUP_RING_ALIGN ||
	    (uint64_t)base + size > v->d.vram_size ||
	    tail >= size || tail % 32) {
		/* no ring to write into: ring the bell on it anyway */
		reg_write(t, v, GPUP_REG_DOORBELL, rnd(t));
		return;
	}
	k = 1 + below(t, size / 32 - 1 < 64 ? size / 32 - 1 : 64);
	for (i = 0; i < k; i++)
		gen_cmd(t, v, &c[i]);
	first = (size - tail) / 32 < k ? (size - tail) / 32 : k;
	put_cmds(t, v, base + tail, c, first * 32);
	if (first < k)
		put_cmds(t, v, base, c + first, (k - first) * 32);
	__sync_synchronize();
	if (reg_write(t, v, GPUP_REG_RING_TAIL, (tail + k * 32) & (size - 1)) && chance(t, 90))
		reg_write(t, v, GPUP_REG_DOORBELL, rnd(t));
}

/*
 * One doorbell for thousands of big FILLs: far more work than the run
 * lasts.  Nothing waits for it; resets must cut it short.
 */
static void op_backlog(struct fz *t, struct fvf *v)
{
	uint64_t size = v->d.vram_size, ring = GPUP_RING_MAX_SIZE;
	struct gpup_cmd *c = (void *)t->buf;
	unsigned int n = BACKLOG_MIN + below(t, BACKLOG_MIN), i;
	ssize_t w;

	judge(t, ioctl(v->d.fd, VFIO_DEVICE_RESET), false, 0, "VFIO_DEVICE_RESET");
	enable(t, v);
	for (i = 0; i < n; i++) {
		uint64_t dst = ring + (below(t, size - ring - 4 * MIB) & ~3ULL);
		uint64_t len = 4 * MIB + (below(t, size - dst - 4 * MIB + 1) & ~3ULL);

		c[i] = (struct gpup_cmd){
			.opcode = htole32(GPUP_CMD_FILL), .value = htole32(rnd(t)),
			.dst = htole64(dst), .len = htole64(len),
		};
	}
	w = pwrite(v->d.fd, c, n * sizeof(*c), region(v, VFIO_PCI_BAR2_REGION_INDEX));
	if (!judge(t, w, false, E(EIO), "backlog ring write"))
		return;
	if (reg_write(t, v, GPUP_REG_RING_BASE_LO, 0) &&
	    reg_write(t, v, GPUP_REG_RING_BASE_HI, 0) &&
	    reg_write(t, v, GPUP_REG_RING_SIZE, ring) &&
	    reg_write(t, v, GPUP_REG_RING_TAIL, n * sizeof(*c)) &&
	    reg_write(t, v, GPUP_REG_CTRL, GPUP_CTRL_ENGINE_ENABLE) &&
	    reg_write(t, v, GPUP_REG_DOORBELL, 1))
		__atomic_fetch_add(&v->backlogs, 1, __ATOMIC_RELAXED);
}

/* ---- interrupts and the other ioctls ----------------------------------- */

static long set_irqs(struct fvf *v, uint32_t argsz, uint32_t flags, uint32_t index,
		     uint32_t start, uint32_t count, int32_t data)
{
	char buf[sizeof(struct vfio_irq_set) + 8] = {};
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = argsz;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	memcpy(set->data, &data, sizeof(data));
	return ioctl(v->d.fd, VFIO_DEVICE_SET_IRQS, set);
}

#define SET_ARGSZ(n)	(sizeof(struct vfio_irq_set) + (n))

static const uint64_t irq_indexes[] = {
	VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX,
};

/* What QEMU does with the interrupts: wire, tear down, mask, loop back */
static void op_set_irqs(struct fz *t, struct fvf *v)
{
	uint32_t index = pick(t, irq_indexes, ARRAY_SIZE(irq_indexes));
	uint32_t trig = VFIO_IRQ_SET_ACTION_TRIGGER, act;
	int slot = index == VFIO_PCI_REQ_IRQ_INDEX ? 2 : index;
	uint64_t busy = index == VFIO_PCI_REQ_IRQ_INDEX ? 0 : E(EBUSY);
	uint64_t val;
	long r;

	switch (below(t, 7)) {
	case 0:
	case 1:
		r = set_irqs(v, SET_ARGSZ(4), VFIO_IRQ_SET_DATA_EVENTFD | trig, index, 0, 1,
			     t->efd[slot]);
		judge(t, r, false, busy, "SET_IRQS eventfd on index %u", index);
		break;
	case 2:
		r = set_irqs(v, SET_ARGSZ(0), VFIO_IRQ_SET_DATA_NONE | trig, index, 0, 0, 0);
		judge(t, r, false, 0, "SET_IRQS teardown of index %u", index);
		break;
	case 3:
		r = set_irqs(v, SET_ARGSZ(4), VFIO_IRQ_SET_DATA_EVENTFD | trig, index, 0, 1, -1);
		judge(t, r, false, 0, "SET_IRQS fd -1 on index %u", index);
		break;
	case 4:
		act = chance(t, 50) ? VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK;
		if (chance(t, 50))
			r = set_irqs(v, SET_ARGSZ(0), VFIO_IRQ_SET_DATA_NONE | act,
				     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, 0);
		else
			r = set_irqs(v, SET_ARGSZ(1), VFIO_IRQ_SET_DATA_BOOL | act,
				     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, below(t, 2));
		judge(t, r, false, 0, "SET_IRQS INTx %s", act == VFIO_IRQ_SET_ACTION_MASK ?
		      "mask" : "unmask");
		break;
	case 5:		/* loopback: the REQ index has none */
		if (chance(t, 50))
			r = set_irqs(v, SET_ARGSZ(0), VFIO_IRQ_SET_DATA_NONE | trig, index,
				     0, 1, 0);
		else
			r = set_irqs(v, SET_ARGSZ(1), VFIO_IRQ_SET_DATA_BOOL | trig, index,
				     0, 1, below(t, 2));
		judge(t, r, index == VFIO_PCI_REQ_IRQ_INDEX, E(EINVAL),
		      "SET_IRQS loopback on index %u", index);
		break;
	default:	/* take what fired */
		for (slot = 0; slot < 3; slot++)
			if (read(t->efd[slot], &val, sizeof(val)) < 0 && errno != EAGAIN)
				broken(t, "eventfd read: %m");
		__atomic_fetch_add(&stat_n[t->cur_op][0], 1, __ATOMIC_RELAXED);
		break;
	}
}

/* SET_IRQS as no correct user calls it */
static void op_set_irqs_bogus(struct fz *t, struct fvf *v)
{
	uint32_t index = pick(t, irq_indexes, ARRAY_SIZE(irq_indexes));
	uint32_t evt = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	uint64_t ok = E(EINVAL);
	long r;

	switch (below(t, 10)) {
	case 0:
		r = set_irqs(v, below(t, SET_ARGSZ(0)), evt, index, 0, 1, t->efd[0]);
		break;
	case 1:
		index = PICK(t, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX,
			     VFIO_PCI_NUM_IRQS, 100, ~0U);
		r = set_irqs(v, SET_ARGSZ(4), evt, index, 0, below(t, 2), t->efd[0]);
		break;
	case 2:		/* unknown flags, two data types, none, two actions */
		r = set_irqs(v, SET_ARGSZ(4), chance(t, 50) ?
			     evt | PICK(t, 1 << 6, 1 << 10, 1U << 31, VFIO_IRQ_SET_DATA_NONE,
					VFIO_IRQ_SET_DATA_BOOL) :
			     PICK(t, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
				  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK |
				  VFIO_IRQ_SET_ACTION_TRIGGER), index, 0, 1, t->efd[0]);
		break;
	case 3:
		r = set_irqs(v, SET_ARGSZ(4), evt, index, PICK(t, 0, 1, 2, ~0U),
			     PICK(t, 2, 3, ~0U, ~0U - 1), t->efd[0]);
		break;
	case 4:		/* data promised, not given */
		r = set_irqs(v, SET_ARGSZ(0), evt, index, 0, 1, t->efd[0]);
		break;
	case 5:		/* an fd that is no eventfd */
		r = set_irqs(v, SET_ARGSZ(4), evt, index, 0, 1, v->d.fd);
		ok |= index == VFIO_PCI_REQ_IRQ_INDEX ? 0 : E(EBUSY);
		break;
	case 6:		/* one that is not open */
		r = set_irqs(v, SET_ARGSZ(4), evt, index, 0, 1, 1000000);
		ok = E(EBADF) | (index == VFIO_PCI_REQ_IRQ_INDEX ? 0 : E(EBUSY));
		break;
	case 7:		/* masking what cannot be masked, or with an eventfd */
		if (chance(t, 50))
			r = set_irqs(v, SET_ARGSZ(0), VFIO_IRQ_SET_DATA_NONE |
				     VFIO_IRQ_SET_ACTION_MASK,
				     PICK(t, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX),
				     0, 1, 0);
		else
			r = set_irqs(v, SET_ARGSZ(4), VFIO_IRQ_SET_DATA_EVENTFD |
				     VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX,
				     0, 1, t->efd[0]);
		break;
	default:	/* no header at all */
		r = ioctl(v->d.fd, VFIO_DEVICE_SET_IRQS, PICK(t, 0, 8, 4096));
		ok = E(EFAULT);
		break;
	}
	judge(t, r, true, ok, "bogus SET_IRQS on index %u", index);
}

static uint64_t region_size(struct fvf *v, uint32_t index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return 256;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return GPUP_REGS_SIZE;
	case VFIO_PCI_BAR2_REGION_INDEX:
		return v->pages * PAGE;
	default:
		return 0;
	}
}

static void check_region_info(struct fz *t, struct fvf *v, const struct vfio_region_info *ri)
{
	if (ri->offset != (uint64_t)ri->index << 40 || ri->size != region_size(v, ri->index))
		broken(t, "region %u: offset %#llx size %#llx", ri->index,
		       (unsigned long long)ri->offset, (unsigned long long)ri->size);
	else if (ri->index == VFIO_PCI_BAR2_REGION_INDEX &&
		 !(ri->flags & VFIO_REGION_INFO_FLAG_MMAP))
		broken(t, "BAR2 no longer mmap-able: flags %#x", ri->flags);
}

static void check_irq_info(struct fz *t, const struct vfio_irq_info *ii)
{
	bool one = ii->index == VFIO_PCI_INTX_IRQ_INDEX || ii->index == VFIO_PCI_MSI_IRQ_INDEX ||
		   ii->index == VFIO_PCI_REQ_IRQ_INDEX;

	if (ii->count != one)
		broken(t, "IRQ index %u: count %u", ii->index, ii->count);
}

/* GET_INFO, GET_REGION_INFO, GET_IRQ_INFO with any argsz and index */
static void op_info(struct fz *t, struct fvf *v)
{
	struct vfio_device_info *di = (void *)t->buf;
	struct vfio_region_info *ri = (void *)t->buf;
	struct vfio_irq_info *ii = (void *)t->buf;
	uint64_t argsz = PICK(t, 0, 4, 15, 16, 23, 24, 31, 32, 64, 4096);
	uint32_t index = chance(t, 80) ? below(t, 10) : PICK(t, 100, ~0U, 1U << 31);
	bool bad_ptr = chance(t, 5), bad_index = false;
	unsigned long cmd;
	size_t minsz;
	long r;

	memset(t->buf, 0, 64);
	switch (below(t, 3)) {
	case 0:
		cmd = VFIO_DEVICE_GET_INFO;
		minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(__u32);
		di->argsz = argsz;
		break;
	case 1:
		cmd = VFIO_DEVICE_GET_REGION_INFO;
		minsz = offsetof(struct vfio_region_info, offset) + sizeof(__u64);
		ri->argsz = argsz;
		ri->index = index;
		bad_index = index >= VFIO_PCI_NUM_REGIONS;
		break;
	default:
		cmd = VFIO_DEVICE_GET_IRQ_INFO;
		minsz = offsetof(struct vfio_irq_info, count) + sizeof(__u32);
		ii->argsz = argsz;
		ii->index = index;
		bad_index = index >= VFIO_PCI_NUM_IRQS;
		break;
	}
	r = ioctl(v->d.fd, cmd, bad_ptr ? (void *)PICK(t, 0, 1, 4096) : t->buf);
	if (!judge(t, r, bad_ptr || argsz < minsz || bad_index, bad_ptr ? E(EFAULT) : E(EINVAL),
		   "info ioctl %#lx, argsz %llu, index %u", cmd, (unsigned long long)argsz,
		   index))
		return;
	if (cmd == VFIO_DEVICE_GET_INFO &&
	    (!(di->flags & VFIO_DEVICE_FLAGS_RESET) || di->num_regions != VFIO_PCI_NUM_REGIONS ||
	     di->num_irqs != VFIO_PCI_NUM_IRQS))
		broken(t, "GET_INFO: flags %#x, %u regions, %u irqs", di->flags,
		       di->num_regions, di->num_irqs);
	else if (cmd == VFIO_DEVICE_GET_REGION_INFO)
		check_region_info(t, v, ri);
	else if (cmd == VFIO_DEVICE_GET_IRQ_INFO)
		check_irq_info(t, ii);
}

/* ioctls a VF does not have: vfio-pci's others, and made-up ones */
static void op_bad_ioctl(struct fz *t, struct fvf *v)
{
	unsigned long cmd = PICK(t, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
				 VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF,
				 VFIO_DEVICE_IOEVENTFD, 0, 1);

	if (cmd == 0)
		cmd = _IO(VFIO_TYPE, VFIO_BASE + 30 + below(t, 60));
	else if (cmd == 1)
		cmd = _IOWR('x', below(t, 256), uint64_t);
	memset(t->buf, 0, 64);
	judge(t, ioctl(v->d.fd, cmd, t->buf), true, E(ENOTTY), "ioctl %#lx", cmd);
}

/* ---- resets ------------------------------------------------------------ */

static void op_vfio_reset(struct fz *t, struct fvf *v)
{
	uint64_t t0 = now_ns(), dt;
	long r = ioctl(v->d.fd, VFIO_DEVICE_RESET);

	dt = now_ns() - t0;
	judge(t, r, false, 0, "VFIO_DEVICE_RESET");
	if (dt > __atomic_load_n(&reset_max_ns, __ATOMIC_RELAXED))
		__atomic_store_n(&reset_max_ns, dt, __ATOMIC_RELAXED);
	if (chance(t, 80))
		enable(t, v);
}

static void op_ctrl_reset(struct fz *t, struct fvf *v)
{
	reg_write(t, v, GPUP_REG_CTRL, GPUP_CTRL_RESET | (chance(t, 50) ? rnd(t) : 0));
	if (chance(t, 50))
		enable(t, v);
}

/* Operations and how often each comes: the backlog comes once a thread */
static const struct {
	const char *name;
	void (*fn)(struct fz *t, struct fvf *v);
	unsigned int weight;
} ops[NR_OPS] = {
	[OP_CFG_READ]		= { "cfg_read",		op_cfg_read,		60 },
	[OP_CFG_WRITE]		= { "cfg_write",	op_cfg_write,		40 },
	[OP_CFG_COMMAND]	= { "cfg_command",	op_cfg_command,		40 },
	[OP_CFG_MSI]		= { "cfg_msi",		op_cfg_msi,		20 },
	[OP_BAR0_READ]		= { "bar0_read",	op_bar0_read,		90 },
	[OP_BAR0_WRITE]		= { "bar0_write",	op_bar0_write,		90 },
	[OP_BAR0_BAD]		= { "bar0_bad",		op_bar0_bad,		20 },
	[OP_BAR2_READ]		= { "bar2_read",	op_bar2_read,		60 },
	[OP_BAR2_WRITE]		= { "bar2_write",	op_bar2_write,		60 },
	[OP_BAR2_MAPPED_BUF]	= { "bar2_mapped_buf",	op_bar2_mapped_buf,	20 },
	[OP_MMAP_LOAD]		= { "mmap_load",	op_mmap_load,		80 },
	[OP_MMAP_STORE]		= { "mmap_store",	op_mmap_store,		80 },
	[OP_MMAP_MAP]		= { "mmap_map",		op_mmap_map,		15 },
	[OP_OTHER_REGION]	= { "other_region",	op_other_region,	10 },
	[OP_RING_SETUP]		= { "ring_setup",	op_ring_setup,		40 },
	[OP_SUBMIT]		= { "submit",		op_submit,		80 },
	[OP_BACKLOG]		= { "backlog",		op_backlog,		0 },
	[OP_SET_IRQS]		= { "set_irqs",		op_set_irqs,		50 },
	[OP_SET_IRQS_BOGUS]	= { "set_irqs_bogus",	op_set_irqs_bogus,	30 },
	[OP_INFO]		= { "info",		op_info,		40 },
	[OP_BAD_IOCTL]		= { "bad_ioctl",	op_bad_ioctl,		10 },
	[OP_VFIO_RESET]		= { "vfio_reset",	op_vfio_reset,		5 },
	[OP_CTRL_RESET]		= { "ctrl_reset",	op_ctrl_reset,		4 },
};

static const char *op_name(int op)
{
	return ops[op].name;
}

static int pick_op(struct fz *t)
{
	unsigned int r = below(t, weight_total);
	int i;

	for (i = 0; r >= ops[i].weight; i++)
		r -= ops[i].weight;
	return i;
}

/* The stack a thread uses, faulted in before the cgroup's baseline */
static void touch_stack(void)
{
	char pad[256 * KIB];

	memset(pad, 0, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}

static bool wait_start(void)
{
	touch_stack();
	pthread_barrier_wait(&start_line);
	return __atomic_load_n(&go, __ATOMIC_ACQUIRE);
}

static void *fuzz_fn(void *arg)
{
	struct fz *t = arg;
	unsigned int i;

	if (!wait_start())
		return NULL;
	for (i = 0; i < 3; i++)
		t->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (t->done = 0; t->done < t->ops; __atomic_fetch_add(&t->done, 1, __ATOMIC_RELAXED)) {
		struct fvf *v = &vfs[below(t, NVF)];

		t->cur_op = pick_op(t);
		if (t->done == t->backlog_at) {
			/* each thread queues one on its own VF */
			t->cur_op = OP_BACKLOG;
			v = &vfs[t->id % NVF];
		}
		t->cur_vf = v;
		ops[t->cur_op].fn(t, v);
	}
	for (i = 0; i < 3; i++)
		close(t->efd[i]);
	return NULL;
}

/* ---- the kernel log ---------------------------------------------------- */

static int kmsg_fd = -1;
static unsigned long kmsg_reports;
static char kmsg_first[256];

static void kmsg_scan(void)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "possible circular locking",
		"inconsistent lock state", "hung_task", "blocked for more than",
		"soft lockup",
	};
	char rec[2048];
	unsigned int i;
	ssize_t n;

	while (kmsg_fd >= 0) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records lost to the ring: read on */
		if (n <= 0)
			return;
		rec[n] = 0;
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (!strstr(rec, bad[i]))
				continue;
			if (!kmsg_reports++)
				snprintf(kmsg_first, sizeof(kmsg_first), "%.*s",
					 (int)strcspn(rec, "\n"), rec);
			break;
		}
	}
}

/* ---- the sampler: host pages and the log, while the threads run ------- */

static void *sampler_fn(void *arg)
{
	/* each read of "vram" checksums the VF's VRAM under its lock: not too often */
	struct timespec ts = { 0, 250000000 };
	unsigned int i;

	(void)arg;
	if (!wait_start())
		return NULL;
	while (!__atomic_load_n(&stop_sampler, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < NVF; i++) {
			struct fvf *v = &vfs[i];
			long long p = gpup_debugfs_vram(v->uuid, "pages_allocated");

			if (p < 0) {
				broken(NULL, "%s VF: no pages_allocated in debugfs", v->profile);
				continue;
			}
			if (p > v->max_pages)
				v->max_pages = p;
			v->samples++;
			if ((unsigned long long)p > v->pages)
				broken(NULL, "%s VF: %lld host pages for %llu pages of VRAM",
				       v->profile, p, (unsigned long long)v->pages);
		}
		kmsg_scan();
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---- the memory cgroup -------------------------------------------------- */

static char cg_dir[64];
static bool cg_mounted;
static long long cg_base = -1;

static long long cg_current(void)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", cg_dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* memory.stat, to say what stayed */
#define CG_STATS	64
static char cg_stat_name[CG_STATS][32];
static long long cg_stat_base[CG_STATS];

static unsigned int cg_stat(long long *val)
{
	char path[128], name[32];
	unsigned int n = 0;
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg_dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < CG_STATS && fscanf(f, "%31s %lld", name, &v) == 2) {
		snprintf(cg_stat_name[n], sizeof(cg_stat_name[n]), "%s", name);
		val[n++] = v;
	}
	fclose(f);
	return n;
}

static void cg_stat_diff(void)
{
	long long now[CG_STATS];
	unsigned int i, n = cg_stat(now);

	for (i = 0; i < n; i++)
		if (llabs(now[i] - cg_stat_base[i]) >= 64 * 1024 &&
		    !strstr(cg_stat_name[i], "pg"))
			printf("# memory.stat %s: %lld KiB, %lld KiB before\n", cg_stat_name[i],
			       now[i] / 1024, cg_stat_base[i] / 1024);
}

static int write_str(const char *path, const char *s)
{
	return gpup_write_file(path, s);
}

/* Into a memory cgroup of our own; "" or why there is none */
static const char *cg_enter(void)
{
	static char why[160];
	char buf[256] = "", pid[16];
	struct statfs fs;
	FILE *f;

	if (statfs(CG_ROOT, &fs))
		return "no " CG_ROOT;
	if (fs.f_type != CGROUP2_SUPER_MAGIC) {
		if (fs.f_type != SYSFS_MAGIC)
			return "something other than cgroup v2 is mounted at " CG_ROOT;
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL)) {
			snprintf(why, sizeof(why), "cannot mount cgroup2: %s", strerror(errno));
			return why;
		}
		cg_mounted = true;
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	if (!strstr(buf, "memory"))
		return "cgroup v2 has no memory controller";
	if (write_str(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	snprintf(cg_dir, sizeof(cg_dir), CG_ROOT "/gpup-fuzz-%d", getpid());
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(buf, sizeof(buf), "%s/cgroup.procs", cg_dir);
	if (mkdir(cg_dir, 0755) || write_str(buf, pid)) {
		snprintf(why, sizeof(why), "cannot enter %s: %s", cg_dir, strerror(errno));
		rmdir(cg_dir);
		cg_dir[0] = 0;
		return why;
	}
	return "";
}

static void cg_leave(void)
{
	char pid[16];

	if (cg_dir[0]) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		write_str(CG_ROOT "/cgroup.procs", pid);
		rmdir(cg_dir);
		cg_dir[0] = 0;
	}
	if (cg_mounted)
		umount(CG_ROOT);
	cg_mounted = false;
}

/* ---- the tests ---------------------------------------------------------- */

static bool fuzz_ran;

static int open_vf(struct fvf *v)
{
	unsigned int i;
	int ret = gpup_open(&v->d, v->uuid);

	if (ret)
		return ret;
	v->open = true;
	v->pages = v->d.vram_size / PAGE;
	for (i = 0; i < ARRAY_SIZE(v->ident); i++)
		v->ident[i] = gpup_rd(&v->d, i * 4);
	return gpup_cfg_rd(&v->d, PCI_CAPABILITY_LIST, &v->msi_cap, 1);
}

static void close_vf(struct fvf *v)
{
	if (v->open)
		gpup_close(&v->d);
	v->open = false;
}

/* The bystander's whole VRAM, 16 bytes of canary after another */
static bool fill_canary(struct fvf *v, uint8_t *pat)
{
	uint64_t off;

	for (off = 0; off < v->d.vram_size; off += MIB)
		if (pwrite(v->d.fd, pat, MIB, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off) != MIB)
			return false;
	return true;
}

static void test_bystander_holds_canary(void)
{
	uint8_t *pat;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < NVF && !ret; i++) {
		ret = gpup_vf_create(vfs[i].profile, vfs[i].uuid, sizeof(vfs[i].uuid));
		vfs[i].created = !ret;
	}
	if (!ret) {
		ret = gpup_vf_create(bystander.profile, bystander.uuid, sizeof(bystander.uuid));
		bystander.created = !ret;
	}
	if (!CHECK(!ret, "creating the VFs: %s", strerror(-ret)))
		return;
	ret = open_vf(&bystander);
	if (!CHECK(!ret, "opening the bystander: %s", strerror(-ret)))
		return;

	/*
	 * Filled, reset (its pages go back to the host with the canary in
	 * them), filled again: a fuzzed VF must find it neither in the
	 * bystander nor in memory the host frees.  So must the pattern's
	 * own buffer, unmapped at the end.
	 */
	pat = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(pat != MAP_FAILED, "%m"))
		return;
	for (i = 0; i < MIB; i += sizeof(canary))
		memcpy(pat + i, canary, sizeof(canary));
	ret = fill_canary(&bystander, pat) && !gpup_reset(&bystander.d) &&
	      fill_canary(&bystander, pat);
	munmap(pat, MIB);
	if (!CHECK(ret, "filling the bystander: %m"))
		return;
	bystander_sum = gpup_debugfs_vram(bystander.uuid, "checksum");
	bystander_pages = gpup_debugfs_vram(bystander.uuid, "pages_allocated");
	CHECK(bystander_pages == (long long)bystander.pages,
	      "bystander: %lld pages allocated, %llu written", bystander_pages,
	      (unsigned long long)bystander.pages);
	printf("# bystander %s: %llu MiB of canary, checksum %#llx\n", bystander.uuid,
	       (unsigned long long)(bystander.d.vram_size / MIB), bystander_sum);
}

static void alloc_threads(void)
{
	unsigned int i;
	uint64_t j;

	for (i = 0; i < NR_OPS; i++)
		weight_total += ops[i].weight;
	for (i = 0; i < ARRAY_SIZE(fzs); i++) {
		struct fz *t = &fzs[i];

		t->id = i;
		t->rng = seed * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL + 1;
		t->ops = total_ops / ARRAY_SIZE(fzs) + (i < total_ops % ARRAY_SIZE(fzs));
		t->backlog_at = below(t, t->ops / 3 + 1);
		/* touched now, so that the cgroup's baseline has them */
		t->buf = calloc(1, BUF_SIZE);
		t->rnd = malloc(BUF_SIZE);
		if (!t->buf || !t->rnd)
			abort();
		memset(t->buf, 0, BUF_SIZE);
		for (j = 0; j < BUF_SIZE; j += 8) {
			uint64_t x = rnd(t);

			memcpy(t->rnd + j, &x, 8);
		}
	}
}

/* Fuzzing threads and the sampler, waiting at the start line */
static void start_threads(void)
{
	unsigned int i;

	pthread_barrier_init(&start_line, NULL, ARRAY_SIZE(fzs) + 2);
	pthread_create(&sampler, NULL, sampler_fn, NULL);
	for (i = 0; i < ARRAY_SIZE(fzs); i++)
		pthread_create(&fzs[i].thread, NULL, fuzz_fn, &fzs[i]);
}

/*
 * Also readies the threads: their stacks and buffers are the fuzzer's,
 * in the baseline, not something the VFs left.
 */
static void test_own_memory_cgroup(void)
{
	const char *why = cg_enter();

	alloc_threads();
	start_threads();
	usleep(200000);		/* their stacks touched */
	if (*why) {
		tap_skip = why;
		return;
	}
	cg_stat(cg_stat_base);
	cg_base = cg_current();
	if (!CHECK(cg_base >= 0, "no memory.current in %s", cg_dir))
		return;
	printf("# in %s, memory.current %lld KiB before the fuzzed VFs are opened\n", cg_dir,
	       cg_base / 1024);
}

static void print_stats(double secs)
{
	unsigned long ok = 0, refused = 0, bus = 0, errs[NERR] = {};
	unsigned int i, e;
	char line[512];
	int len;

	for (i = 0; i < NR_OPS; i++) {
		unsigned long n = stat_n[i][0] + stat_sigbus[i];

		for (e = 1; e < NERR; e++)
			n += stat_n[i][e];
		len = snprintf(line, sizeof(line), "# %-16s %7lu calls: %lu ok", ops[i].name, n,
			       stat_n[i][0]);
		for (e = 1; e < NERR; e++) {
			if (!stat_n[i][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, ", %s %lu",
					strerrorname_np(e) ?: "?", stat_n[i][e]);
			errs[e] += stat_n[i][e];
			refused += stat_n[i][e];
		}
		if (stat_sigbus[i])
			snprintf(line + len, sizeof(line) - len, ", SIGBUS %lu", stat_sigbus[i]);
		puts(line);
		ok += stat_n[i][0];
		bus += stat_sigbus[i];
	}
	printf("# fuzz: seed %llu: %lu ops in %.1f s, %.0f ops/s; ",
	       (unsigned long long)seed, total_ops, secs, total_ops / secs);
	printf("calls %lu ok, %lu refused (EINVAL %lu, EIO %lu, EFAULT %lu, ", ok, refused,
	       errs[EINVAL], errs[EIO], errs[EFAULT]);
	printf("EBUSY %lu, ENOTTY %lu, EBADF %lu), %lu SIGBUS\n", errs[EBUSY],
	       errs[ENOTTY], errs[EBADF], bus);
	printf("# fuzz: longest VFIO_DEVICE_RESET %.1f ms, ", reset_max_ns / 1e6);
	printf("%lu MiB of reads scanned for the canary, ", (unsigned long)(bytes_scanned / MIB));
	printf("backlogs queued %lu and %lu\n", vfs[0].backlogs, vfs[1].backlogs);
}

/* Waits for the threads; a thread that stops advancing is a hang */
static bool wait_threads(void)
{
	unsigned long last[ARRAY_SIZE(fzs)] = {}, pct = 0;
	time_t still[ARRAY_SIZE(fzs)];
	unsigned int i, running;

	for (i = 0; i < ARRAY_SIZE(fzs); i++)
		still[i] = time(NULL);
	do {
		unsigned long done = 0;

		sleep(1);
		running = 0;
		for (i = 0; i < ARRAY_SIZE(fzs); i++) {
			struct fz *t = &fzs[i];
			unsigned long d = __atomic_load_n(&t->done, __ATOMIC_RELAXED);

			done += d;
			if (d >= t->ops)
				continue;
			running++;
			if (d != last[i]) {
				last[i] = d;
				still[i] = time(NULL);
			} else if (time(NULL) - still[i] > STUCK_S) {
				printf("Bail out! thread %u stuck for %d s ", i, STUCK_S);
				printf("in op %lu (%s) on the %s VF\n", d, op_name(t->cur_op),
				       t->cur_vf->profile);
				return false;
			}
		}
		if (done * 10 / total_ops > pct) {
			pct = done * 10 / total_ops;
			printf("# fuzz: %lu0%%\n", pct);
		}
	} while (running);
	for (i = 0; i < ARRAY_SIZE(fzs); i++)
		pthread_join(fzs[i].thread, NULL);
	return true;
}

static void test_fuzz_two_vfs_from_two_threads(void)
{
	uint64_t t0;
	unsigned int i;
	int ret = vfs[NVF - 1].created ? 0 : -ENODEV;

	for (i = 0; i < NVF && !ret; i++) {
		ret = open_vf(&vfs[i]);
		if (!ret && (vfs[i].ident[GPUP_REG_ID / 4] != GPUP_ID_MAGIC ||
			     vfs[i].ident[GPUP_REG_PROFILE / 4] != vfs[i].profile_id ||
			     vfs[i].msi_cap != MSI_CAP))
			ret = -ENODEV;
	}
	__atomic_store_n(&go, !ret, __ATOMIC_RELEASE);
	pthread_barrier_wait(&start_line);
	if (!CHECK(!ret, "opening the %s VF: %s", vfs[i ? i - 1 : 0].profile, strerror(-ret))) {
		for (i = 0; i < ARRAY_SIZE(fzs); i++)
			pthread_join(fzs[i].thread, NULL);
		pthread_join(sampler, NULL);
		return;
	}
	t0 = now_ns();
	if (!wait_threads()) {
		fflush(stdout);
		_exit(1);
	}
	__atomic_store_n(&stop_sampler, 1, __ATOMIC_RELEASE);
	pthread_join(sampler, NULL);
	fuzz_ran = true;
	print_stats((now_ns() - t0) / 1e9);
	CHECK(!broken_count, "%lu broken invariants (the first ones above)", broken_count);
}

static void test_host_pages_within_profile(void)
{
	unsigned int i;

	if (!CHECK(fuzz_ran, "no run"))
		return;
	for (i = 0; i < NVF; i++) {
		struct fvf *v = &vfs[i];

		printf("# %s VF: at most %lld of %llu pages allocated, %lu samples\n", v->profile,
		       v->max_pages, (unsigned long long)v->pages, v->samples);
		CHECK(v->samples >= 2, "%s VF: only %lu samples", v->profile, v->samples);
		CHECK(v->max_pages <= (long long)v->pages, "%s VF: %lld pages", v->profile,
		      v->max_pages);
	}
}

static void test_bystander_untouched(void)
{
	long long sum = gpup_debugfs_vram(bystander.uuid, "checksum");
	long long pages = gpup_debugfs_vram(bystander.uuid, "pages_allocated");

	if (!CHECK(fuzz_ran, "no run"))
		return;
	CHECK(bytes_scanned > 0, "no read was scanned for the canary");
	CHECK(!canary_hits, "%lu reads returned the canary", canary_hits);
	CHECK(sum == bystander_sum && pages == bystander_pages,
	      "bystander: checksum %#llx, %lld pages; before %#llx, %lld pages", sum, pages,
	      bystander_sum, bystander_pages);
}

/* VRAM no one wrote since the reset reads as zeros, and allocates nothing */
static bool vram_zero(struct fvf *v, uint8_t *buf)
{
	unsigned int i;

	for (i = 0; i < 34; i++) {
		uint64_t len = 64 * KIB;
		uint64_t off = i == 0 ? 0 : i == 1 ? v->d.vram_size - len :
			       (((uint64_t)random() << 20) % (v->d.vram_size - len)) & ~3ULL;
		ssize_t n = pread(v->d.fd, buf, len, region(v, VFIO_PCI_BAR2_REGION_INDEX) + off);

		if (!CHECK(n == (ssize_t)len, "%s VF: reading %#llx: %zd, %m", v->profile,
			   (unsigned long long)off, n))
			return false;
		if (!CHECK(!buf[0] && !memcmp(buf, buf + 1, len - 1),
			   "%s VF: VRAM at %#llx not zero after the reset", v->profile,
			   (unsigned long long)off))
			return false;
	}
	return true;
}

/* A fuzzed VF after one more VFIO_DEVICE_RESET: idle, empty, zeros */
static void check_after_reset(struct fvf *v)
{
	uint16_t cmd = htole16(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	uint64_t t0 = now_ns(), ms;
	uint32_t st, head, tail, ctrl;
	int ret = gpup_reset(&v->d);

	ms = (now_ns() - t0) / 1000000;
	printf("# %s VF: VFIO_DEVICE_RESET took %llu ms\n", v->profile, (unsigned long long)ms);
	if (!CHECK(!ret, "%s VF: reset: %s", v->profile, strerror(-ret)) ||
	    !CHECK(ms < RESET_PROMPT_MS, "%s VF: reset took %llu ms", v->profile,
		   (unsigned long long)ms) ||
	    !CHECK(!gpup_cfg_wr(&v->d, PCI_COMMAND, &cmd, 2), "%s VF: enable: %m", v->profile))
		return;
	st = gpup_rd(&v->d, GPUP_REG_STATUS);
	head = gpup_rd(&v->d, GPUP_REG_RING_HEAD);
	tail = gpup_rd(&v->d, GPUP_REG_RING_TAIL);
	ctrl = gpup_rd(&v->d, GPUP_REG_CTRL);
	if (!CHECK(!(st & (GPUP_STATUS_BUSY | GPUP_STATUS_HALTED)) && !head && !tail && !ctrl,
		   "%s VF after reset: STATUS %#x RING_HEAD %#x RING_TAIL %#x CTRL %#x",
		   v->profile, st, head, tail, ctrl) ||
	    !CHECK(gpup_debugfs_vram(v->uuid, "pages_allocated") == 0,
		   "%s VF: %lld pages allocated after reset", v->profile,
		   gpup_debugfs_vram(v->uuid, "pages_allocated")) ||
	    !vram_zero(v, fzs[0].buf))
		return;
	CHECK(gpup_debugfs_vram(v->uuid, "pages_allocated") == 0,
	      "%s VF: reads allocated %lld pages", v->profile,
	      gpup_debugfs_vram(v->uuid, "pages_allocated"));
}

static void test_reset_leaves_vfs_idle_and_empty(void)
{
	unsigned int i;

	if (!CHECK(fuzz_ran, "no run"))
		return;
	for (i = 0; i < NVF; i++)
		check_after_reset(&vfs[i]);
}

static void test_memory_cgroup_back_after_close(void)
{
	long long now = -1;
	unsigned int i;

	for (i = 0; i < NVF; i++)
		close_vf(&vfs[i]);
	if (cg_base < 0) {
		tap_skip = "no memory cgroup";
		return;
	}
	/* what is freed after an RCU grace period needs a moment */
	for (i = 0; i < 50; i++) {
		now = cg_current();
		if (now >= 0 && now <= cg_base + (long long)CG_SLACK)
			break;
		usleep(100000);
	}
	printf("# memory.current %lld KiB after closing the VFs, %lld KiB before opening them\n",
	       now / 1024, cg_base / 1024);
	cg_stat_diff();
	CHECK(now >= 0 && now <= cg_base + (long long)CG_SLACK,
	      "memory.current %lld KiB after closing, %lld KiB before opening: %lld KiB stayed",
	      now / 1024, cg_base / 1024, (now - cg_base) / 1024);
}

static void test_no_kernel_report(void)
{
	if (!CHECK(kmsg_fd >= 0, "cannot read /dev/kmsg"))
		return;
	kmsg_scan();
	CHECK(!kmsg_reports, "%lu kernel reports, the first: %s", kmsg_reports, kmsg_first);
}

static const struct tap_test tests[] = {
	{ "bystander_holds_canary", test_bystander_holds_canary },
	{ "own_memory_cgroup", test_own_memory_cgroup },
	{ "fuzz_two_vfs_from_two_threads", test_fuzz_two_vfs_from_two_threads },
	{ "host_pages_within_profile", test_host_pages_within_profile },
	{ "bystander_untouched", test_bystander_untouched },
	{ "reset_leaves_vfs_idle_and_empty", test_reset_leaves_vfs_idle_and_empty },
	{ "memory_cgroup_back_after_close", test_memory_cgroup_back_after_close },
	{ "no_kernel_report", test_no_kernel_report },
};

int main(void)
{
	const char *s = getenv("GPUP_FUZZ_SEED"), *n = getenv("GPUP_FUZZ_OPS");
	struct fvf *all[] = { &vfs[0], &vfs[1], &bystander };
	unsigned int i, nfail;

	struct sigaction sa = { .sa_handler = on_sigbus };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	/*
	 * The fuzzer's own memory must not move under the cgroup's baseline:
	 * one malloc arena (threads' arenas would outlive the VFs), and no
	 * transparent huge pages (khugepaged collapsing its buffers later
	 * fills in pages it never touched)
	 */
	mallopt(M_ARENA_MAX, 1);
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) << 16 ^ getpid();
	if (n)
		total_ops = strtoul(n, NULL, 0);
	if (!total_ops)
		total_ops = 1;
	srandom(seed);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);

	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE(tests));
	printf("# seed %llu, %lu operations: GPUP_FUZZ_SEED=%llu GPUP_FUZZ_OPS=%lu replays them\n",
	       (unsigned long long)seed, total_ops, (unsigned long long)seed, total_ops);
	nfail = tap_run("guest fuzz", tests, ARRAY_SIZE(tests));

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		close_vf(all[i]);
		if (all[i]->created && gpup_vf_remove(all[i]->uuid)) {
			printf("# removing VF %s failed\n", all[i]->uuid);
			nfail++;
		}
	}
	cg_leave();
	return nfail ? 1 : 0;
}
