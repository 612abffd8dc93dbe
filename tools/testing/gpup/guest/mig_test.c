// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-guest migration tests: VFIO migration v2 between gpup VFs, driven as
 * QEMU drives it (PRE_COPY with PRECOPY_INFO, PRE_COPY_P2P, STOP_COPY on
 * the source; RESUMING, STOP, RUNNING on the target), with the source's
 * engine and a "vCPU" thread dirtying VRAM during pre-copy.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "gpup_vfio.h"
#include "tap.h"

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);	/* tools/lib/gpup */

#define DATA		0x10000ULL
#define CHUNK		(256 * 1024)

static char uuid_a[40], uuid_b[40], uuid_c[40], uuid_l[40];
static struct gpup_dev A, B, C, L;	/* medium, medium, small, large */
static char buf[CHUNK];

/* The guest of the source VM: engine jobs and CPU stores into VRAM */
struct workload {
	struct gpup_dev *d;
	int stop;		/* atomic: set by the test, read by the thread */
	unsigned int iterations;
	pthread_t thread;
};

static void *workload_fn(void *arg)
{
	struct workload *w = arg;
	unsigned int seed = 1;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t off = DATA + (rand_r(&seed) % 200) * 0x10000ULL;

		if (gpup_wait_idle(w->d, 5000))
			break;
		gpup_submit(w->d, GPUP_CMD_FILL, 0x1000 + w->iterations, off, 0, 0x10000);
		gpup_submit(w->d, GPUP_CMD_FENCE, w->iterations, 0, 0, 0);
		gpup_kick(w->d);
		w->d->vram[DATA + 220 * MIB / 16 + (rand_r(&seed) % 4096) * 4096] =
			w->iterations;
		w->iterations++;
		usleep(500);
	}
	gpup_wait_idle(w->d, 5000);
	return NULL;
}

/* Write @len bytes to @fd in pieces of @seg (0: one write) */
static int write_all(int fd, const char *p, size_t len, size_t seg)
{
	while (len) {
		size_t n = seg && seg < len ? seg : len;
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return -errno;
		p += w;
		len -= w;
	}
	return 0;
}

struct mig_result {
	uint64_t precopy_bytes, stopcopy_bytes, first_initial;
	unsigned int precopy_reads, temp_ends, info_calls;
	int info_flags_echo;		/* flags PRECOPY_INFO returned */
	int initial_rose;		/* initial_bytes ever went up */
	int write_err;			/* first target write error */
};

/*
 * Move @src to @dst.  With @w, the workload runs through pre-copy and stops
 * before the source does, as vCPUs would.  Leaves both in STOP.
 */
static int migrate(struct gpup_dev *src, struct gpup_dev *dst, struct workload *w,
		   bool precopy, size_t seg, struct mig_result *r)
{
	uint64_t initial = 0, dirty = 0, last_initial = ~0ULL;
	int sfd, dfd, ret = 0, i;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	dfd = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING);
	if (dfd < 0)
		return dfd;
	if (precopy) {
		sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY);
		if (sfd < 0) {
			close(dfd);
			return sfd;
		}
		/* QEMU's save_iterate: info, one read, until converged */
		for (i = 0; i < 200; i++) {
			r->info_flags_echo |= gpup_mig_precopy_info(sfd, &initial, &dirty);
			r->info_calls++;
			if (!i)
				r->first_initial = initial;
			if (initial > last_initial)
				r->initial_rose = 1;
			last_initial = initial;
			n = read(sfd, buf, sizeof(buf));
			if (n < 0 && errno == ENOMSG) {
				r->temp_ends++;
				if (r->temp_ends > 3 && !initial)
					break;
				usleep(2000);
				continue;
			}
			if (n <= 0) {
				ret = n < 0 ? -errno : -EPIPE;
				goto out;
			}
			r->precopy_reads++;
			r->precopy_bytes += n;
			ret = write_all(dfd, buf, n, seg);
			if (ret) {
				r->write_err = ret;
				goto out;
			}
			if (!initial && !dirty && r->temp_ends > 3)
				break;
		}
		if (w) {
			__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
			pthread_join(w->thread, NULL);
		}
		ret = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
		if (ret != -1) {
			ret = ret < 0 ? ret : -EBADF;
			goto out;
		}
	} else {
		sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
		if (sfd < 0) {
			close(dfd);
			return sfd;
		}
	}
	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		r->stopcopy_bytes += n;
		ret = write_all(dfd, buf, n, seg);
		if (ret) {
			r->write_err = ret;
			goto out;
		}
	}
	ret = n < 0 ? -errno : 0;
	if (!ret)
		ret = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP) == -1 ? 0 : -EIO;
	if (!ret)
		ret = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_STOP) == -1 ? 0 : -EIO;
out:
	close(sfd);
	close(dfd);
	return ret;
}

static const uint32_t compared_regs[] = {
	GPUP_REG_SCRATCH0, GPUP_REG_SCRATCH1, GPUP_REG_SCRATCH2, GPUP_REG_SCRATCH3,
	GPUP_REG_CTRL, GPUP_REG_STATUS, GPUP_REG_ERROR, GPUP_REG_ERROR_HEAD,
	GPUP_REG_INT_STATUS, GPUP_REG_INT_MASK, GPUP_REG_RING_BASE_LO,
	GPUP_REG_RING_SIZE, GPUP_REG_RING_HEAD, GPUP_REG_RING_TAIL, GPUP_REG_FENCE,
	GPUP_REG_FENCE_COUNT, GPUP_REG_CMD_COUNT,
};

/*
 * The engines' context images, part of the mutable state: equal, and not
 * the empty ones of a fresh VF when the source has run commands.
 */
static bool same_contexts(struct gpup_dev *a, struct gpup_dev *b)
{
	char ca[64] = "", cb[64] = "", e0[128] = "";

	gpup_debugfs_str(a->uuid, "contexts", "checksum", ca, sizeof(ca));
	gpup_debugfs_str(b->uuid, "contexts", "checksum", cb, sizeof(cb));
	gpup_debugfs_str(a->uuid, "contexts", "engine0", e0, sizeof(e0));
	if (!CHECK(ca[0] && !strcmp(ca, cb), "context images %s vs %s", ca, cb))
		return false;
	return CHECK(gpup_rd(a, GPUP_REG_CMD_COUNT) == 0 || !strstr(e0, "commands=0 "),
		     "commands ran, engine 0's context is empty: %s", e0);
}

/* Both stopped: VRAM, registers, config space and contexts must be the same */
static bool same_device_state(struct gpup_dev *a, struct gpup_dev *b)
{
	uint8_t ca[256], cb[256];
	long long sa = gpup_debugfs_vram(a->uuid, "checksum");
	long long sb = gpup_debugfs_vram(b->uuid, "checksum");
	unsigned int i;

	if (!CHECK(sa == sb, "VRAM checksum %#llx vs %#llx", sa, sb))
		return false;
	for (i = 0; i < ARRAY_SIZE(compared_regs); i++) {
		uint32_t ra = gpup_rd(a, compared_regs[i]), rb = gpup_rd(b, compared_regs[i]);

		if (!CHECK(ra == rb, "register %#x: %#x vs %#x", compared_regs[i], ra, rb))
			return false;
	}
	gpup_cfg_rd(a, 0, ca, sizeof(ca));
	gpup_cfg_rd(b, 0, cb, sizeof(cb));
	if (!CHECK(!memcmp(ca, cb, sizeof(ca)), "config space differs"))
		return false;
	return same_contexts(a, b);
}

/*
 * Known content, some registers set, a fence done: @fill bytes filled and
 * 3/8 of them copied to an offset off the page grid
 */
static void load_source_len(struct gpup_dev *d, uint32_t tag, uint64_t fill)
{
	gpup_reset(d);
	gpup_ring_init(d, 0, 0x1000);
	gpup_wr(d, GPUP_REG_SCRATCH2, tag);
	gpup_wr(d, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	gpup_submit(d, GPUP_CMD_FILL, tag, DATA, 0, fill);
	gpup_submit(d, GPUP_CMD_COPY, 0, DATA + 16 * MIB + 4, DATA + 12, fill / 8 * 3);
	gpup_submit(d, GPUP_CMD_FENCE, tag, 0, 0, 0);
	gpup_kick(d);
	gpup_wait_idle(d, 20000);
	memcpy(d->vram + 100 * MIB, "via mmap", 8);
}

static void load_source(struct gpup_dev *d, uint32_t tag)
{
	load_source_len(d, tag, 8 * MIB);
}

static void test_precopy_with_workload_bit_exact(void)
{
	struct workload w = { .d = &A };
	struct mig_result r;
	char rounds[32] = "";
	int ret;

	load_source(&A, 0xa11ce);
	gpup_reset(&B);
	if (!CHECK(!pthread_create(&w.thread, NULL, workload_fn, &w), "thread"))
		return;
	usleep(20000);
	ret = migrate(&A, &B, &w, true, 0, &r);
	if (!CHECK(!ret, "migration failed: %s", strerror(-ret)))
		return;
	printf("# pre-copy %llu bytes in %u reads, %u temporary ends; stop-copy %llu bytes;"
	       " workload %u jobs\n", (unsigned long long)r.precopy_bytes, r.precopy_reads,
	       r.temp_ends, (unsigned long long)r.stopcopy_bytes, w.iterations);
	gpup_debugfs_str(uuid_a, "migration", "rounds", rounds, sizeof(rounds));
	if (!CHECK(r.first_initial > 0 && !r.initial_rose, "initial_bytes %llu, rose %d",
		   (unsigned long long)r.first_initial, r.initial_rose))
		return;
	if (!CHECK(!r.info_flags_echo, "PRECOPY_INFO flags %#x", r.info_flags_echo))
		return;
	if (!CHECK(atoi(rounds) >= 2, "only %s dirty rounds", rounds))
		return;
	if (!CHECK(w.iterations > 5, "workload ran %u jobs", w.iterations))
		return;
	if (!same_device_state(&A, &B))
		return;
	/* the target runs on, including whatever the ring still held */
	if (!CHECK(gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING) == -1, "B running"))
		return;
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	B.tail = gpup_rd(&B, GPUP_REG_RING_TAIL);
	B.ring_base = 0;
	B.ring_size = 0x1000;
	if (!CHECK(!gpup_wait_idle(&B, 20000), "B's engine after migration"))
		return;
	gpup_submit(&B, GPUP_CMD_FENCE, 0xb0b, 0, 0, 0);
	gpup_kick(&B);
	if (!CHECK(!gpup_wait_idle(&B, 20000), "idle"))
		return;
	CHECK(gpup_rd(&B, GPUP_REG_FENCE) == 0xb0b && gpup_rd(&B, GPUP_REG_SCRATCH2) == 0xa11ce,
	      "B after resume: fence %#x", gpup_rd(&B, GPUP_REG_FENCE));
}

/*
 * The engine kept busy up to the stop, as a GPU is: a "guest" thread keeps
 * the ring fed with FILLs and COPYs between random areas and stores
 * through the mapping, and a second one reads those pages (its read
 * faults race with the first one's first stores), through pre-copy until
 * the source has harvested three dirty rounds.  When it stops (the vCPUs
 * stop) the ring still holds commands (checked: in at least one round),
 * and the engine runs on in PRE_COPY_P2P until STOP_COPY quiesces it.
 * Then source and target both run on, each finishing what the ring held,
 * and must end with the same VRAM and registers: a page written and not
 * sent, or a command lost or run twice out of order, shows.
 * GPUP_STRESS_ROUNDS migrations (default 4), back and forth.
 */
#define BUSY_RING	0x4000		/* 512 commands */
#define BUSY_BASE	(16 * MIB)
#define BUSY_AREA	(256 * 1024)
#define BUSY_AREAS	128
#define BUSY_QUEUED	96		/* commands kept in the ring at most */

struct busy_load {
	struct gpup_dev *d;
	int stop;		/* atomic: set by the test, read by the threads */
	unsigned int cmds, stores;
	int err;
	bool joined;
	pthread_t thread, reader;
};

/* A second vCPU reading the pages the first stores to: faults race */
static void *busy_read_fn(void *arg)
{
	struct busy_load *b = arg;
	unsigned int seed = 3;
	uint32_t sum = 0;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		uint64_t page = rand_r(&seed) % (BUSY_AREAS * BUSY_AREA / 4096);

		sum += __atomic_load_n((uint32_t *)(b->d->vram + BUSY_BASE + page * 4096),
				       __ATOMIC_RELAXED);
	}
	return (void *)(uintptr_t)sum;
}

static uint32_t ring_queued(struct gpup_dev *d)
{
	uint32_t head = gpup_rd(d, GPUP_REG_RING_HEAD);

	return ((d->tail - head) & (d->ring_size - 1)) / sizeof(struct gpup_cmd);
}

static void busy_one(struct busy_load *b, unsigned int *seed)
{
	uint64_t dst = rand_r(seed) % BUSY_AREAS, src = rand_r(seed) % BUSY_AREAS;
	uint64_t len = (1 + rand_r(seed) % 16) * (BUSY_AREA / 16);

	if (src == dst)
		src = (dst + 1) % BUSY_AREAS;
	if (rand_r(seed) % 3)
		gpup_submit(b->d, GPUP_CMD_FILL, b->cmds, BUSY_BASE + dst * BUSY_AREA, 0, len);
	else
		gpup_submit(b->d, GPUP_CMD_COPY, 0, BUSY_BASE + dst * BUSY_AREA,
			    BUSY_BASE + src * BUSY_AREA, len);
	b->cmds++;
}

static void *busy_fn(void *arg)
{
	struct busy_load *b = arg;
	unsigned int seed = b->d->tail + 7, i;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		if (gpup_rd(b->d, GPUP_REG_STATUS) & GPUP_STATUS_HALTED) {
			b->err = -EIO;
			break;
		}
		if (ring_queued(b->d) < BUSY_QUEUED - 8) {
			for (i = 0; i < 8; i++)
				busy_one(b, &seed);
			gpup_submit(b->d, GPUP_CMD_FENCE, b->cmds, 0, 0, 0);
			gpup_kick(b->d);
		}
		/* a vCPU's stores, between the engine's */
		for (i = 0; i < 16; i++) {
			uint64_t page = rand_r(&seed) % (BUSY_AREAS * BUSY_AREA / 4096);

			uint32_t *word = (uint32_t *)(b->d->vram + BUSY_BASE + page * 4096) +
					 rand_r(&seed) % 1024;

			__atomic_store_n(word, b->stores++, __ATOMIC_RELAXED);
		}
		usleep(200);
	}
	return NULL;
}

/* The "vCPUs" stop, once */
static void busy_stop(struct busy_load *b)
{
	if (b->joined)
		return;
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	pthread_join(b->thread, NULL);
	pthread_join(b->reader, NULL);
	b->joined = true;
}

/* Pre-copy as QEMU runs it, with the guest busy; returns 0 or -errno */
static int busy_precopy(int sfd, int dfd, unsigned int reads)
{
	uint64_t initial, dirty;
	unsigned int i;
	ssize_t n;
	int ret;

	for (i = 0; i < reads; i++) {
		gpup_mig_precopy_info(sfd, &initial, &dirty);
		n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == ENOMSG) {
			usleep(1000);
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		ret = write_all(dfd, buf, n, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Pre-copy until the source has harvested @want dirty rounds, so that the
 * load's stores race harvests and not only the first pass; -ETIMEDOUT if
 * it never gets there
 */
static int busy_precopy_rounds(struct gpup_dev *src, int sfd, int dfd, int want)
{
	unsigned int i;
	int ret;

	for (i = 0; i < 500; i++) {
		ret = busy_precopy(sfd, dfd, 8);
		if (ret)
			return ret;
		if (gpup_debugfs_num(src->uuid, "migration", "rounds") >= want)
			return 0;
	}
	return -ETIMEDOUT;
}

/* @src to @dst while @b runs until the vCPUs stop; both left in STOP */
static int busy_migrate(struct gpup_dev *src, struct gpup_dev *dst, struct busy_load *b)
{
	int sfd, dfd, ret;
	ssize_t n;

	dfd = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING);
	if (dfd < 0)
		return dfd;
	sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY);
	if (sfd < 0) {
		close(dfd);
		return sfd;
	}
	ret = busy_precopy_rounds(src, sfd, dfd, 3);
	/* the vCPUs stop; the engine runs on through the ring */
	busy_stop(b);
	if (!ret && gpup_mig_set_state(src, VFIO_DEVICE_STATE_PRE_COPY_P2P) != -1)
		ret = -EIO;
	if (!ret)
		ret = busy_precopy(sfd, dfd, 4);
	if (!ret && gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY) != -1)
		ret = -EIO;
	while (!ret && (n = read(sfd, buf, sizeof(buf))) != 0)
		ret = n < 0 ? -errno : write_all(dfd, buf, n, 0);
	if (!ret && gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP) != -1)
		ret = -EIO;
	if (!ret && gpup_mig_set_state(dst, VFIO_DEVICE_STATE_STOP) != -1)
		ret = -EIO;
	close(sfd);
	close(dfd);
	return ret;
}

/* Run on from the migrated state to an idle engine */
static int busy_finish(struct gpup_dev *d)
{
	if (gpup_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING) != -1)
		return -EIO;
	d->ring_base = 0;
	d->ring_size = BUSY_RING;
	d->tail = gpup_rd(d, GPUP_REG_RING_TAIL);
	return gpup_wait_idle(d, 60000);
}

/* Returns the commands still queued at the stop, or -1 on failure */
static int busy_round(struct gpup_dev *src, struct gpup_dev *dst, unsigned int round)
{
	struct busy_load b = { .d = src };
	unsigned int queued;
	long long rounds;
	int ret;

	gpup_reset(dst);
	if (!CHECK(!pthread_create(&b.thread, NULL, busy_fn, &b), "thread"))
		return -1;
	if (!CHECK(!pthread_create(&b.reader, NULL, busy_read_fn, &b), "reader")) {
		__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
		pthread_join(b.thread, NULL);
		return -1;
	}
	usleep(50000);
	ret = busy_migrate(src, dst, &b);
	busy_stop(&b);		/* also when the migration failed early */
	queued = ring_queued(src);
	rounds = gpup_debugfs_num(src->uuid, "migration", "rounds");
	if (!CHECK(!ret && !b.err, "round %u: migration: %s, load %d", round,
		   strerror(-ret), b.err))
		return -1;
	ret = busy_finish(src);
	if (!CHECK(!ret, "round %u: source after migration: %d", round, ret))
		return -1;
	ret = busy_finish(dst);
	if (!CHECK(!ret, "round %u: target after migration: %d", round, ret))
		return -1;
	printf("# round %u: %lld dirty rounds, %u commands, %u stores, %u queued at the stop\n",
	       round, rounds, b.cmds, b.stores, queued);
	return same_device_state(src, dst) ? (int)queued : -1;
}

static void test_engine_busy_to_the_stop_bit_exact(void)
{
	const char *env = getenv("GPUP_STRESS_ROUNDS");
	unsigned int rounds = env ? atoi(env) : 4, i;
	struct gpup_dev *d[2] = { &A, &B };
	int ret, busiest = 0;

	gpup_reset(&A);
	gpup_ring_init(&A, 0, BUSY_RING);
	gpup_wr(&A, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	for (i = 0; i < rounds; i++) {
		ret = busy_round(d[i % 2], d[(i + 1) % 2], i);
		if (ret < 0)
			break;
		if (ret > busiest)
			busiest = ret;
	}
	/* else the engine was idle at every stop and the test proved less */
	if (rounds && i == rounds)
		CHECK(busiest > 0, "the ring was empty at every stop");
	gpup_reset(&A);
	gpup_reset(&B);
}

static void test_incompatible_target_refused_in_precopy(void)
{
	char why[160] = "";
	uint64_t initial, dirty, want;
	int sfd, dfd, ret;
	ssize_t n;

	load_source(&A, 0xbad);
	gpup_reset(&C);
	dfd = gpup_mig_set_state(&C, VFIO_DEVICE_STATE_RESUMING);
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	if (!CHECK(dfd >= 0 && sfd >= 0, "fds %d %d", dfd, sfd))
		return;
	/* the initial bytes' first records are enough for the target */
	gpup_mig_precopy_info(sfd, &initial, &dirty);
	want = initial < sizeof(buf) ? initial : sizeof(buf);
	n = read(sfd, buf, want);
	ret = write_all(dfd, buf, n, 7);
	gpup_debugfs_str(uuid_c, "migration", "last_error", why, sizeof(why));
	printf("# target said: %s\n", why);
	close(dfd);
	if (!CHECK(n == (ssize_t)want && ret == -EINVAL, "write gave %d", ret))
		goto out;
	if (!CHECK(strstr(why, "profile"), "reason does not name the field: %s", why))
		goto out;
	if (!CHECK(gpup_debugfs_vram(uuid_c, "pages_allocated") == 0, "VRAM written"))
		goto out;
	/* the source never stopped: back to running, engine fine */
	if (!CHECK(gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING) == -1, "A running"))
		goto out;
	gpup_submit(&A, GPUP_CMD_FENCE, 0x600d, 0, 0, 0);
	gpup_kick(&A);
	CHECK(!gpup_wait_idle(&A, 20000) && gpup_rd(&A, GPUP_REG_FENCE) == 0x600d,
	      "source engine after refusal");
	if (!CHECK(gpup_mig_set_state(&C, VFIO_DEVICE_STATE_STOP) == -EINVAL,
		   "RESUMING -> STOP accepted a refused stream"))
		goto out;
	CHECK(gpup_mig_get_state(&C) == VFIO_DEVICE_STATE_ERROR, "C not in ERROR");
out:
	close(sfd);
	gpup_reset(&C);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
}

/*
 * Every byte of the stream a write of its own, so each record is cut at
 * each of its bytes.  A debug kernel takes some 30 us a write: there the
 * fill is 1 MiB, not 8 (still a whole VRAM record, and the copy a record
 * of a part), and the stream some 2 MB with the engines' context images.
 */
static void test_stop_copy_only_and_one_byte_writes(void)
{
	struct mig_result r;
	long long estimate;
	int ret;

	load_source_len(&A, 0x5107, gpup_debug_kernel() ? MIB : 8 * MIB);
	gpup_reset(&B);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP);
	estimate = gpup_mig_data_size(&A);
	ret = migrate(&A, &B, NULL, false, 1, &r);
	if (!CHECK(!ret, "migration failed: %s", strerror(-ret)))
		return;
	printf("# %llu bytes in one-byte writes\n", (unsigned long long)r.stopcopy_bytes);
	/* MIG_DATA_SIZE bounds what STOP_COPY then sends */
	if (!CHECK(estimate >= (long long)r.stopcopy_bytes, "MIG_DATA_SIZE %lld < %llu sent",
		   estimate, (unsigned long long)r.stopcopy_bytes))
		return;
	same_device_state(&A, &B);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
}

static int set_dirty_tracking(const char *uuid, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/gpup/dirty_tracking", uuid);
	return gpup_write_file(path, val);
}

static uint64_t mig_flags(struct gpup_dev *d)
{
	struct vfio_device_feature_migration m = {};

	if (gpup_device_feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
				&m, sizeof(m)))
		return 0;
	return m.flags;
}

/*
 * A VF without dirty tracking offers no PRE_COPY, as a device that cannot
 * track its VM's stores: user space stops the VM and every populated page
 * goes in STOP_COPY.  The switch is refused while a user has the VF open,
 * since VFIO users read the flags once, when they open it.
 */
static void test_without_dirty_tracking_stop_copy_only(void)
{
	uint64_t pre_copy = VFIO_MIGRATION_PRE_COPY;
	struct mig_result r;
	int ret, reopen;

	ret = set_dirty_tracking(uuid_a, "0");
	if (!CHECK(ret == -EBUSY && (mig_flags(&A) & pre_copy), "open VF: %d, flags %#llx",
		   ret, (unsigned long long)mig_flags(&A)))
		return;
	gpup_close(&A);
	ret = set_dirty_tracking(uuid_a, "sometimes");
	CHECK(ret == -EINVAL, "'sometimes' gave %d", ret);
	ret = set_dirty_tracking(uuid_a, "0");
	reopen = gpup_open(&A, uuid_a);
	if (!CHECK(!ret && !reopen, "dirty_tracking 0: %d, reopen: %d", ret, reopen))
		goto out;
	if (!CHECK(mig_flags(&A) == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P),
		   "flags %#llx", (unsigned long long)mig_flags(&A)))
		goto out;
	CHECK(gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY) == -EINVAL,
	      "PRE_COPY accepted");
	load_source(&A, 0x5c0);
	gpup_reset(&B);
	ret = migrate(&A, &B, NULL, false, 0, &r);
	if (!CHECK(!ret, "migration failed: %s", strerror(-ret)))
		goto out;
	/* the whole fill and its copy, with the VM stopped */
	CHECK(r.stopcopy_bytes > 8 * MIB + 3 * MIB && !r.precopy_bytes,
	      "%llu bytes in stop-copy, %llu before",
	      (unsigned long long)r.stopcopy_bytes, (unsigned long long)r.precopy_bytes);
	same_device_state(&A, &B);
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
out:
	gpup_close(&A);
	ret = set_dirty_tracking(uuid_a, "1");
	reopen = gpup_open(&A, uuid_a);
	CHECK(!ret && !reopen && (mig_flags(&A) & pre_copy), "back on: %d, reopen %d",
	      ret, reopen);
}

/*
 * One read of a shape that cycles with @i: a byte, an odd size, a readv
 * (not a single buffer: the kernel's bounce path), a buffer that runs into
 * a PROT_NONE page at @guard (a short read, or -EFAULT), several pages and
 * a bit.  *@data is where the bytes went.
 */
static ssize_t odd_read(int fd, unsigned int i, char *guard, char **data)
{
	struct iovec iov[2] = { { buf, 5 }, { buf + 5, 6000 } };
	ssize_t n;

	*data = buf;
	switch (i % 6) {
	case 0:
		n = read(fd, buf, 1);
		break;
	case 1:
		n = read(fd, buf, 4093);
		break;
	case 2:
		n = readv(fd, iov, 2);
		break;
	case 3:
		*data = guard - 100;
		n = read(fd, guard - 100, 8192);
		break;
	case 4:
		n = read(fd, guard, 64);
		break;
	default:
		n = read(fd, buf, 3 * 4096 + 13);
		break;
	}
	return n < 0 ? -errno : n;
}

struct odd_stats {
	unsigned int reads, faults, short_at_guard;
};

/*
 * Source to target in odd reads until the final end, or in pre-copy until
 * a few temporary ends or a bounded number of reads, the guest writing on.
 */
static int odd_pump(int sfd, int dfd, char *guard, bool precopy, struct odd_stats *st)
{
	unsigned int temp_ends = 0, budget = 4000;
	char *data;
	ssize_t n;
	int ret;

	while (!precopy || budget--) {
		n = odd_read(sfd, st->reads, guard, &data);
		st->reads++;
		if (n == -EFAULT) {
			st->faults++;	/* nothing taken: the same bytes come next */
			continue;
		}
		if (precopy && n == -ENOMSG) {
			if (++temp_ends > 3)
				return 0;
			usleep(2000);
			continue;
		}
		if (n <= 0)
			return n;
		/* a read running into the guard takes every byte before it */
		if (data != buf && n == 100)
			st->short_at_guard++;
		ret = write_all(dfd, data, n, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * read() of any shape, while the guest writes during pre-copy, and reads
 * that fault part-way: every record's CRC still matches what the user got
 * (the target checks each one) and the target ends bit-exact.
 */
static void test_reads_of_any_shape_bit_exact(void)
{
	struct workload w = { .d = &A };
	struct odd_stats st = {};
	int sfd = -1, dfd = -1, ret;
	char *map;

	map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(map != MAP_FAILED && !mprotect(map + 2 * 4096, 4096, PROT_NONE), "guard"))
		return;
	load_source(&A, 0x0dd);
	gpup_reset(&B);
	dfd = gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RESUMING);
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	if (!CHECK(dfd >= 0 && sfd >= 0, "fds %d %d", dfd, sfd))
		goto out;
	if (!CHECK(!pthread_create(&w.thread, NULL, workload_fn, &w), "thread"))
		goto out;
	ret = odd_pump(sfd, dfd, map + 2 * 4096, true, &st);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(w.thread, NULL);
	if (!CHECK(!ret, "pre-copy: %s", strerror(-ret)))
		goto out;
	if (!CHECK(gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP_COPY) == -1, "STOP_COPY"))
		goto out;
	ret = odd_pump(sfd, dfd, map + 2 * 4096, false, &st);
	if (!CHECK(!ret, "stop-copy: %s", strerror(-ret)))
		goto out;
	printf("# %u reads, %u faulted, %u cut short by the guard page; workload %u jobs\n",
	       st.reads, st.faults, st.short_at_guard, w.iterations);
	if (!CHECK(st.faults && st.short_at_guard, "no read met the guard page"))
		goto out;
	if (!CHECK(gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP) == -1 &&
		   gpup_mig_set_state(&B, VFIO_DEVICE_STATE_STOP) == -1, "target refused"))
		goto out;
	same_device_state(&A, &B);
out:
	close(sfd);
	close(dfd);
	munmap(map, 3 * 4096);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
}

static void test_ping_pong(void)
{
	struct mig_result r;
	int ret, i;

	load_source(&A, 0x1010);
	for (i = 0; i < 2; i++) {
		struct gpup_dev *src = i ? &B : &A, *dst = i ? &A : &B;

		gpup_reset(dst);
		ret = migrate(src, dst, NULL, true, 4093, &r);
		if (!CHECK(!ret, "leg %d: %s", i, strerror(-ret)))
			return;
		if (!same_device_state(src, dst))
			return;
		gpup_mig_set_state(src, VFIO_DEVICE_STATE_RUNNING);
		gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING);
		if (!i) {
			/* B changes something before the VF goes back to A */
			gpup_wr(&B, GPUP_REG_SCRATCH3, 0x9000);
			B.vram[DATA + 4096] ^= 0xff;
		}
	}
	CHECK(gpup_rd(&A, GPUP_REG_SCRATCH3) == 0x9000 &&
	      A.vram[DATA + 4096] == (uint8_t)(0x10 ^ 0xff), "A lost B's changes");
}

static void test_reset_mid_stream(void)
{
	uint64_t initial, dirty;
	struct mig_result r;
	int sfd, dfd, ret;
	char b2[64];

	load_source(&A, 0x7e5e7);
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	dfd = gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RESUMING);
	if (!CHECK(sfd >= 0 && dfd >= 0, "fds"))
		return;
	gpup_mig_precopy_info(sfd, &initial, &dirty);
	ret = read(sfd, buf, 100);
	write_all(dfd, buf, ret, 0);
	gpup_reset(&A);
	gpup_reset(&B);
	errno = 0;
	ret = read(sfd, b2, sizeof(b2));
	CHECK(ret < 0 && errno == ENODEV, "read after reset: %d %m", ret);
	errno = 0;
	ret = write(dfd, buf, 10);
	CHECK(ret < 0 && errno == ENODEV, "write after reset: %d %m", ret);
	close(sfd);
	close(dfd);
	if (!CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING &&
		   gpup_mig_get_state(&B) == VFIO_DEVICE_STATE_RUNNING, "state after reset"))
		return;
	/* and a fresh migration goes through */
	load_source(&A, 0xf4e54);
	ret = migrate(&A, &B, NULL, true, 0, &r);
	if (!CHECK(!ret, "migration after reset: %s", strerror(-ret)))
		return;
	same_device_state(&A, &B);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
}

static void test_close_mid_stream_and_reopen(void)
{
	char uuid[40], why[128];
	int sfd, dfd, ret;

	snprintf(uuid, sizeof(uuid), "%s", uuid_c);
	load_source(&A, 0xc105e);
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	dfd = gpup_mig_set_state(&C, VFIO_DEVICE_STATE_RESUMING);
	if (!CHECK(sfd >= 0 && dfd >= 0, "fds"))
		return;
	gpup_close(&C);		/* the target's user goes away mid-stream */
	gpup_debugfs_str(uuid, "migration", "last_error", why, sizeof(why));
	CHECK(!strcmp(why, "incomplete stream: no end record"),
	      "a stream closed unfinished: last error '%s'", why);
	ret = read(sfd, buf, CHUNK);
	errno = 0;
	CHECK(write(dfd, buf, ret) < 0 && errno == ENODEV, "write to a closed device's file");
	close(dfd);
	ret = gpup_open(&C, uuid);
	if (!CHECK(!ret, "reopen: %s", strerror(-ret)))
		return;
	/* a re-opened device still checks compatibility */
	close(sfd);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	dfd = gpup_mig_set_state(&C, VFIO_DEVICE_STATE_RESUMING);
	ret = read(sfd, buf, CHUNK);
	errno = 0;
	CHECK(ret > 0 && write(dfd, buf, ret) < 0 && errno == EINVAL,
	      "re-opened target took an incompatible stream");
	close(sfd);
	close(dfd);
	gpup_reset(&C);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
}

static void test_precopy_info_only_in_precopy(void)
{
	uint64_t initial, dirty;
	int sfd, ret;

	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP_COPY);
	if (!CHECK(sfd >= 0, "STOP_COPY: %d", sfd))
		return;
	ret = gpup_mig_precopy_info(sfd, &initial, &dirty);
	CHECK(ret == -EINVAL, "PRECOPY_INFO in STOP_COPY gave %d", ret);
	CHECK(gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY) == -EINVAL,
	      "STOP_COPY -> PRE_COPY accepted");
	CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_STOP_COPY, "state moved");
	close(sfd);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
}

/* A whole STOP_COPY stream of @d into @out; returns its length or -errno */
static long capture_stream(struct gpup_dev *d, char *out, size_t cap)
{
	long len = 0;
	ssize_t n;
	int fd;

	gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP);
	fd = gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return fd;
	while ((n = read(fd, out + len, cap - len)) > 0)
		len += n;
	close(fd);
	gpup_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING);
	return n < 0 ? -errno : len;
}

/* Offset of the first record of @type in @s, or -1 */
static long find_record(const char *s, long len, uint16_t type)
{
	long off = 0;

	while (off + (long)sizeof(struct gpup_rec_hdr) <= len) {
		const struct gpup_rec_hdr *h = (const void *)(s + off);

		if (le16toh(h->type) == type)
			return off;
		off += sizeof(*h) + le32toh(h->length) + 4;
	}
	return -1;
}

/* Re-seal a record after editing its payload, as a forger would */
static void reseal(char *rec)
{
	const struct gpup_rec_hdr *h = (const void *)rec;
	size_t n = sizeof(*h) + le32toh(h->length);
	uint32_t crc = htole32(~crc32c(~0U, rec, n));

	memcpy(rec + n, &crc, sizeof(crc));
}

/* Feed @s to @dst; returns the write error, or the RESUMING -> STOP result */
static int resume_stream(struct gpup_dev *dst, const char *s, long len)
{
	int fd = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING), ret;

	if (fd < 0)
		return fd;
	ret = write_all(fd, s, len, 0);
	close(fd);
	if (ret)
		return ret;
	ret = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_STOP);
	return ret == -1 ? 0 : ret;
}

/*
 * A stream with a valid CRC but hostile device state: reserved bits are
 * refused; a ring head off the command grid is taken, and the engine
 * halts on it instead of spinning.
 */
/*
 * The stream with one 32-bit field of the mutable state at @field_off set
 * to @val is refused, naming @field; the record is left as it was.
 */
static bool refused_for(char *s, long len, long off, size_t field_off, uint32_t val,
			const char *field)
{
	uint32_t *p = (uint32_t *)(s + off + sizeof(struct gpup_rec_hdr) +
				   sizeof(struct gpup_rec_state) + field_off);
	uint32_t old = *p;
	char got[64] = "";
	int ret;

	*p = htole32(val);
	reseal(s + off);
	gpup_reset(&B);
	ret = resume_stream(&B, s, len);
	gpup_debugfs_str(uuid_b, "migration", "error_field", got, sizeof(got));
	*p = old;
	reseal(s + off);
	gpup_reset(&B);
	return CHECK(ret == -EINVAL && !strcmp(got, field), "%s = %#x: gave %d, field %s",
		     field, val, ret, got);
}

static void test_hostile_mutable_state(void)
{
	static char s[32 * MIB];
	struct gpup_sim_mutable *m;
	long len, off;
	char why[160] = "";
	int ret;

	load_source(&A, 0x4057);
	gpup_wr(&A, GPUP_REG_RING_TAIL, 0x40);	/* a command waits in the ring */
	len = capture_stream(&A, s, sizeof(s));
	if (!CHECK(len > 0 && len < (long)sizeof(s), "capture: %ld", len))
		return;
	off = find_record(s, len, GPUP_REC_MUTABLE);
	if (!CHECK(off > 0, "no mutable record"))
		return;
	/* the first chunk of the mutable state starts with the registers */
	m = (void *)(s + off + sizeof(struct gpup_rec_hdr) + sizeof(struct gpup_rec_state));

	m->irq_flags = htole32(0x80);
	reseal(s + off);
	gpup_reset(&B);
	ret = resume_stream(&B, s, len);
	gpup_debugfs_str(uuid_b, "migration", "last_error", why, sizeof(why));
	if (!CHECK(ret == -EINVAL && strstr(why, "reserved"), "gave %d: %s", ret, why))
		goto out;
	gpup_reset(&B);

	m->irq_flags = 0;
	if (!refused_for(s, len, off, offsetof(struct gpup_sim_mutable, error), 0xdeadbeef,
			 "error") ||
	    !refused_for(s, len, off, offsetof(struct gpup_sim_mutable, status),
			 GPUP_STATUS_HALTED, "error") ||
	    !refused_for(s, len, off, offsetof(struct gpup_sim_mutable, error_head), 0x40,
			 "error_head") ||
	    !refused_for(s, len, off, offsetof(struct gpup_sim_mutable, ring_head), 0x8,
			 "ring_head") ||
	    !refused_for(s, len, off, offsetof(struct gpup_sim_mutable, int_status),
			 GPUP_INT_ERROR, "int_status") ||
	    !refused_for(s, len, off, offsetof(struct gpup_sim_mutable, ctrl), 0x2, "ctrl"))
		goto out;

	/* a tail off the command grid is the guest's to write: the engine halts */
	m->ring_tail = htole32(0x48);
	reseal(s + off);
	ret = resume_stream(&B, s, len);
	if (!CHECK(!ret, "resume: %s", strerror(-ret)))
		goto out;
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
	CHECK(gpup_wait_idle(&B, 20000) == -EIO && gpup_rd(&B, GPUP_REG_ERROR) == GPUP_ERR_RING,
	      "engine status %#x error %u", gpup_rd(&B, GPUP_REG_STATUS),
	      gpup_rd(&B, GPUP_REG_ERROR));
out:
	gpup_reset(&B);
	gpup_reset(&A);
}

/*
 * Kernel memory a migration holds must not grow with the VRAM size.
 *
 * /proc/meminfo is opened once and re-read with pread(): opening it for
 * every sample would allocate and free a file, a seq_file and its buffer
 * per read() of the stream, and under KASAN those sit in the quarantine
 * and count as slab, growing with the stream's length.
 */
static int meminfo_fd = -1;

static long long meminfo_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	long long v = -1;

	if (p && p[strlen(key)] == ':')
		sscanf(p + strlen(key) + 1, "%lld", &v);
	return v;
}

static long long kernel_kb(void)
{
	static char text[8192];
	ssize_t n = pread(meminfo_fd, text, sizeof(text) - 1, 0);
	long long slab, vmalloc;

	if (n <= 0)
		return -1;
	text[n] = 0;
	slab = meminfo_kb(text, "\nSlab");
	vmalloc = meminfo_kb(text, "\nVmallocUsed");
	return slab < 0 || vmalloc < 0 ? -1 : slab + vmalloc;
}

/* Peak slab+vmalloc growth while @src's stream is read (not written) */
static long long stream_peak_kb(struct gpup_dev *src)
{
	long long base = kernel_kb(), peak = base, now;
	ssize_t n;
	int sfd;

	if (base < 0)
		return -1;
	sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
	if (sfd < 0)
		return -1;
	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		now = kernel_kb();
		if (now > peak)
			peak = now;
	}
	close(sfd);
	gpup_mig_set_state(src, VFIO_DEVICE_STATE_RUNNING);
	return peak - base;
}

static void test_kernel_memory_bounded(void)
{
	long long small, large;

	meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (!CHECK(meminfo_fd >= 0, "/proc/meminfo: %s", strerror(errno)))
		return;
	gpup_reset(&C);
	gpup_reset(&L);
	/* the same share of each VRAM written: 1/4 */
	memset(C.vram, 0x11, C.vram_size / 4);
	memset(L.vram, 0x22, L.vram_size / 4);
	small = stream_peak_kb(&C);
	large = stream_peak_kb(&L);
	printf("# peak slab+vmalloc growth: %lld KiB for 64 MiB, %lld KiB for 1 GiB\n",
	       small, large);
	CHECK(small >= 0 && large >= 0 && large < small + 2048,
	      "1 GiB stream held %lld KiB more than 64 MiB", large - small);
	close(meminfo_fd);
	gpup_reset(&C);
	gpup_reset(&L);
}

/*
 * An endless write: a stream's head, then the same 1 MiB VRAM record over
 * and over, 2 GiB in one writev().  It yields: a STOP from another thread
 * gets through and cuts it short, and a fatal signal ends it at once.
 */
#define ENDLESS_RECORDS		2
#define ENDLESS_IOVS		1024
#define BOUND_NS		3000000000LL	/* far above either's ms */

struct endless {
	struct iovec iov[ENDLESS_IOVS];
	long long total;
	char *recs;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A whole VRAM record of 256 pages at offset 0, sealed */
static void vram_record(char *rec, const struct gpup_rec_hdr *like)
{
	struct gpup_rec_hdr *h = (void *)rec;
	struct gpup_rec_vram *v = (void *)(h + 1);
	size_t data = GPUP_REC_VRAM_MAX_PAGES * GPUP_MIG_PAGE_SIZE;

	*h = *like;
	h->length = htole32(sizeof(*v) + data);
	*v = (struct gpup_rec_vram){ .npages = htole32(GPUP_REC_VRAM_MAX_PAGES) };
	memset(v + 1, 0x3c, data);
	reseal(rec);
}

static bool endless_build(struct endless *e, char *s, size_t cap)
{
	size_t rec_len = sizeof(struct gpup_rec_hdr) + sizeof(struct gpup_rec_vram) +
			 GPUP_REC_VRAM_MAX_PAGES * GPUP_MIG_PAGE_SIZE + 4;
	long len, head;
	int i;

	load_source(&A, 0xe4d1e55);
	len = capture_stream(&A, s, cap);
	head = len > 0 ? find_record(s, len, GPUP_REC_VRAM) : -1;
	e->recs = malloc(ENDLESS_RECORDS * rec_len);
	if (!CHECK(head > 0 && e->recs, "capture %ld, head %ld", len, head))
		return false;
	for (i = 0; i < ENDLESS_RECORDS; i++)
		vram_record(e->recs + i * rec_len, (const void *)(s + head));
	e->iov[0] = (struct iovec){ s, head };
	e->total = head;
	for (i = 1; i < ENDLESS_IOVS; i++) {
		e->iov[i] = (struct iovec){ e->recs, ENDLESS_RECORDS * rec_len };
		e->total += ENDLESS_RECORDS * rec_len;
	}
	return true;
}

struct endless_writer {
	struct endless *e;
	int fd;
	ssize_t ret;
	long long done_at;
	pthread_t thread;
};

static void *endless_write_fn(void *arg)
{
	struct endless_writer *w = arg;

	w->ret = writev(w->fd, w->e->iov, ENDLESS_IOVS);
	w->done_at = now_ns();
	return NULL;
}

/* Bytes B took of its stream so far, once it has taken some, or -1 */
static long long resumed_bytes(void)
{
	char v[32] = "";
	int i;

	for (i = 0; i < 5000; i++) {
		gpup_debugfs_str(uuid_b, "migration", "resume_bytes", v, sizeof(v));
		if (strtoll(v, NULL, 10) > 0)
			return strtoll(v, NULL, 10);
		usleep(1000);
	}
	return -1;
}

static void endless_stopped(struct endless *e)
{
	struct endless_writer w = { .e = e };
	long long t0, stop_ns;
	int ret;

	gpup_reset(&B);
	w.fd = gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RESUMING);
	if (!CHECK(w.fd >= 0, "RESUMING: %s", strerror(-w.fd)) ||
	    !CHECK(!pthread_create(&w.thread, NULL, endless_write_fn, &w), "thread"))
		return;
	resumed_bytes();
	t0 = now_ns();
	ret = gpup_mig_set_state(&B, VFIO_DEVICE_STATE_STOP);
	stop_ns = now_ns() - t0;
	pthread_join(w.thread, NULL);
	close(w.fd);
	printf("# STOP in %lld ms in a 2 GiB write, which ended %lld ms after it: %zd\n",
	       stop_ns / 1000000, (w.done_at - t0) / 1000000, w.ret);
	CHECK(ret == -EINVAL, "STOP on a stream cut short: %d", ret);
	CHECK(stop_ns < BOUND_NS && w.done_at - t0 < BOUND_NS,
	      "STOP waited %lld ms, the write %lld ms", stop_ns / 1000000,
	      (w.done_at - t0) / 1000000);
	CHECK(w.ret < e->total, "the write went on to its end after STOP");
}

static void endless_killed(struct endless *e)
{
	long long t0, taken, dead_ns;
	pid_t pid;
	int st, fd;

	gpup_reset(&B);
	pid = fork();
	if (!pid) {
		fd = gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RESUMING);
		_exit(fd < 0 || writev(fd, e->iov, ENDLESS_IOVS) < 0 ? 1 : 0);
	}
	if (!CHECK(pid > 0, "fork"))
		return;
	taken = resumed_bytes();
	t0 = now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	dead_ns = now_ns() - t0;
	printf("# SIGKILL ended a 2 GiB write in %lld ms, %lld MiB in\n", dead_ns / 1000000,
	       taken >> 20);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %#x", st);
	CHECK(taken > 0, "the write never began");
	CHECK(dead_ns < BOUND_NS, "the write died %lld ms after SIGKILL", dead_ns / 1000000);
	CHECK(resumed_bytes() < e->total, "the write went on to its end after SIGKILL");
}

static void test_endless_write_yields(void)
{
	static char s[32 * MIB];
	struct endless e = {};

	if (endless_build(&e, s, sizeof(s))) {
		endless_stopped(&e);
		endless_killed(&e);
	}
	free(e.recs);
	gpup_reset(&B);
	gpup_reset(&A);
}

static const struct tap_test tests[] = {
	{ "precopy_with_workload_bit_exact", test_precopy_with_workload_bit_exact },
	{ "engine_busy_to_the_stop_bit_exact", test_engine_busy_to_the_stop_bit_exact },
	{ "incompatible_target_refused_in_precopy",
	  test_incompatible_target_refused_in_precopy },
	{ "stop_copy_only_and_one_byte_writes", test_stop_copy_only_and_one_byte_writes },
	{ "without_dirty_tracking_stop_copy_only",
	  test_without_dirty_tracking_stop_copy_only },
	{ "reads_of_any_shape_bit_exact", test_reads_of_any_shape_bit_exact },
	{ "ping_pong", test_ping_pong },
	{ "reset_mid_stream", test_reset_mid_stream },
	{ "close_mid_stream_and_reopen", test_close_mid_stream_and_reopen },
	{ "precopy_info_only_in_precopy", test_precopy_info_only_in_precopy },
	{ "hostile_mutable_state", test_hostile_mutable_state },
	{ "kernel_memory_bounded", test_kernel_memory_bounded },
	{ "endless_write_yields", test_endless_write_yields },
};

int main(void)
{
	const struct tap_vf vfs[] = {
		{ "medium", uuid_a, &A }, { "medium", uuid_b, &B },
		{ "small", uuid_c, &C }, { "large", uuid_l, &L },
	};

	return tap_main("migration", tests, ARRAY_SIZE(tests), vfs, ARRAY_SIZE(vfs));
}
