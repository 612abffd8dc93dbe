// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup-work: a guest workload for a gpup VF, through /dev/gpup_vfN.
 *
 * It keeps a part of the VF's VRAM in a state it can always check: VRAM is
 * cut into regions, and each region's content is a function of one 64-bit
 * key (a pseudo-random pattern the CPU stores through the mmap, or a
 * 32-bit value the engine FILLs).  A COPY hands the source's key to the
 * destination.  Every engine job is read back and compared as soon as its
 * fence signals; "verify" compares every region written since the start.
 *
 * Output, one line each, all starting with "gpup-work: " (machine-parsable,
 * key=value):
 *   start dev=... vram=...MiB regions=N region=...KiB irq=msi|intx seed=S
 *   t=12.0 jobs=345 jobs/s=28.1 written=12.5MiB gap_ms=20 gap_max_ms=48
 *        mismatches=0 timeouts=0 errors=0          (once a second)
 *   verify ok REGIONS  |  verify FAILED BAD/REGIONS first=R offset=O
 *   busy start seconds=S copy=...MiB queue=2.5s scratch=0x...-0x...
 *   busy done copies=N bytes=B t=T drained=D rate=...MiB/s depth=N
 *        ok|FAILED mismatches=M errors=E
 *   summary jobs=N mismatches=0 stall_max_ms=M timeouts=0 errors=0
 *        recoveries=0 written=...MiB t=... result=ok|FAILED
 * Commands on stdin, one per line: verify, info, busy SECONDS [COPY_MIB],
 * busy stop, stop.  SIGTERM and SIGINT stop it too.  Exit status: 0 when nothing
 * failed, 1 when something did (a mismatch, a WAIT that timed out, an
 * engine error or recovery it did not cause, a failed ioctl, a busy run
 * refused), 2 for bad usage or a VF it cannot open.
 *
 * "busy" keeps the engine busy for SECONDS with long COPYs in the scratch
 * VRAM between the workload's regions and the ring, alongside the usual
 * jobs, so that there is always an engine command executing: what a
 * migration must stop and resume.  Two areas of COPY_MIB (default 8)
 * take turns: the first is FILLed once, with a CPU-stored stamp every 512
 * bytes, and each step rotates one area's content by BUSY_SHIFT into the
 * other with two COPYs.  Each step's result is the next step's input, so
 * a copy that did not run, ran in part or ran off its offsets shows in
 * the final content, read back word by word against the content computed
 * from the number of steps.  About BUSY_QUEUE_SEC of the engine's work
 * stays queued (its rate measured as it goes: "rate", and "depth" steps),
 * and one more step behind each batch of the workload, so that the ring
 * does not drain while this program is busy elsewhere or not scheduled;
 * "drained" counts the times it found every step done (the engine may
 * have idled).  A wrong word counts as a mismatch.  The run needs
 * 2 * COPY_MIB of scratch, and room in the ring for its steps and a
 * batch: without them it is refused as an error.  "busy stop" ends it
 * early: no more steps are queued, and it ends as when its time is up.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/gpup_vf.h>

#define MIB		(1024.0 * 1024.0)
#define BATCH_MAX	64

#define BUSY_QUEUE_SEC	2.5	/* engine time kept queued by a busy run */
#define BUSY_DEPTH_MIN	2	/* steps queued at least, */
#define BUSY_DEPTH_MAX	256	/* at most, */
#define BUSY_DEPTH_INIT	16	/* until the engine's rate is known */
#define BUSY_COPY_MIB	8	/* bytes a busy step copies, by default */
#define BUSY_STAMP	64	/* a CPU-stored word every 512 bytes */
#define BUSY_SHIFT	4096	/* bytes a step rotates the content by */

enum kind {
	K_UNKNOWN,	/* not written since the start, or lost */
	K_CPU,		/* the pattern of key, stored by the CPU */
	K_FILL,		/* the 32-bit value of key, FILLed by the engine */
};

struct region {
	enum kind kind;
	uint64_t key;
};

struct opts {
	const char *dev;
	unsigned int mib;
	unsigned int region_kib;
	unsigned int w_cpu, w_fill, w_copy;
	unsigned int batch;
	uint64_t once;
	uint64_t seed;
	unsigned int timeout_ms;
	double duration;
};

struct stats {
	uint64_t jobs;
	uint64_t mismatches;
	uint64_t timeouts;
	uint64_t errors;
	uint64_t recoveries;
	double written;
	double start, last_done, last_print;
	uint64_t jobs_at_print;
	double gap_sec, gap_max;
};

/* A busy run: long COPYs in the scratch VRAM beyond the regions */
struct busy {
	bool on;
	bool lost;		/* the engine recovered: the scratch is gone */
	double start, until;
	uint64_t base;		/* VRAM offset of area 0; area 1 follows */
	uint64_t len;		/* bytes an area */
	uint64_t *map;		/* both areas, mapped */
	size_t map_size;
	uint64_t key;		/* the stamps' key */
	uint64_t fence[BUSY_DEPTH_MAX + 2];	/* step k's at k % (MAX + 2) */
	uint64_t last_fence;	/* the newest step's fence */
	uint64_t submitted, completed;
	uint64_t drained;	/* polls that found every step done */
	unsigned int depth;	/* steps kept queued */
	double last_poll;	/* when, and how many steps were done then */
	uint64_t polled;
	double eng_time, eng_bytes;	/* engine busy all along: the rate */
	uint64_t mismatches, errors;
};

static struct opts opt = {
	.dev = "/dev/gpup_vf0", .mib = 8, .region_kib = 16,
	.w_cpu = 1, .w_fill = 2, .w_copy = 2, .batch = 4,
	.seed = 1, .timeout_ms = 10000,
};

static int fd = -1;
static uint64_t *vram;		/* the mapping: 64-bit loads and stores */
static struct region *regions;
static unsigned int nregions;
static size_t region_size;
static struct stats st;
static struct gpup_vf_info info0;
static uint64_t rng_state;
static struct busy busy;
static int stop_signal;		/* atomic: set by the signal handler */
static bool stdin_open = true;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
	rng_state = mix64(rng_state);
	return rng_state;
}

/* A key no region had: the seed, the region and a counter */
static uint64_t new_key(unsigned int r)
{
	static uint64_t counter;

	return mix64(opt.seed ^ ((uint64_t)r << 40) ^ ++counter);
}

static uint32_t fill_value(uint64_t key)
{
	return (uint32_t)(key >> 16);
}

/* The 64-bit word @i of a region whose content is (@kind, @key) */
static uint64_t expected_word(enum kind kind, uint64_t key, size_t i)
{
	uint64_t v;

	if (kind == K_FILL) {
		v = fill_value(key);
		return v | v << 32;
	}
	return mix64(key + i);
}

static uint64_t *region_ptr(unsigned int r)
{
	return vram + r * (region_size / 8);
}

static void cpu_store(unsigned int r)
{
	uint64_t *p = region_ptr(r);
	uint64_t key = new_key(r);
	size_t i;

	for (i = 0; i < region_size / 8; i++)
		p[i] = expected_word(K_CPU, key, i);
	regions[r].kind = K_CPU;
	regions[r].key = key;
	st.written += region_size;
}

/* Returns the offset of the first wrong word, or -1 */
static long check_region(unsigned int r)
{
	const struct region *reg = &regions[r];
	uint64_t *p = region_ptr(r);
	size_t i;

	if (reg->kind == K_UNKNOWN)
		return -1;
	for (i = 0; i < region_size / 8; i++)
		if (p[i] != expected_word(reg->kind, reg->key, i))
			return (long)(i * 8);
	return -1;
}

static void report_mismatch(unsigned int r, long off, const char *what)
{
	const struct region *reg = &regions[r];
	uint64_t got = region_ptr(r)[off / 8];

	st.mismatches++;
	printf("gpup-work: mismatch %s region=%u offset=%ld kind=%d key=%#llx",
	       what, r, off, reg->kind, (unsigned long long)reg->key);
	printf(" want=%#llx got=%#llx\n",
	       (unsigned long long)expected_word(reg->kind, reg->key, off / 8),
	       (unsigned long long)got);
}

static int vf_info(struct gpup_vf_info *info)
{
	if (ioctl(fd, GPUP_VF_IOC_INFO, info)) {
		printf("gpup-work: error INFO: %s\n", strerror(errno));
		st.errors++;
		return -1;
	}
	return 0;
}

/* The driver recovered from something we did not cause: VRAM is gone */
static void check_recoveries(void)
{
	struct gpup_vf_info info;
	unsigned int r;

	if (vf_info(&info) || info.recoveries == info0.recoveries + st.recoveries)
		return;
	printf("gpup-work: error engine recovered %llu time(s), last_error=%u: VRAM lost\n",
	       (unsigned long long)(info.recoveries - info0.recoveries - st.recoveries),
	       info.last_error);
	st.recoveries = info.recoveries - info0.recoveries;
	st.errors++;
	for (r = 0; r < nregions; r++)
		regions[r].kind = K_UNKNOWN;
	busy.lost = true;
}

static void job_done(unsigned int n)
{
	double t = now();
	double gap = t - st.last_done;

	st.jobs += n;
	if (gap > st.gap_sec)
		st.gap_sec = gap;
	if (gap > st.gap_max)
		st.gap_max = gap;
	st.last_done = t;
}

/* Wait for @fence; retries after a signal, gives up after a timeout */
static int wait_fence(uint64_t fence)
{
	struct gpup_vf_wait w = {
		.fence = fence,
		.timeout_ns = (uint64_t)opt.timeout_ms * 1000000,
	};

	for (;;) {
		if (!ioctl(fd, GPUP_VF_IOC_WAIT, &w))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ETIMEDOUT) {
			st.timeouts++;
			printf("gpup-work: error WAIT fence=%llu timed out after %u ms\n",
			       (unsigned long long)fence, opt.timeout_ms);
		} else {
			st.errors++;
			printf("gpup-work: error WAIT fence=%llu: %s\n",
			       (unsigned long long)fence, strerror(errno));
		}
		return -1;
	}
}

static int submit(struct gpup_vf_cmd *cmds, unsigned int n, uint64_t *fence)
{
	struct gpup_vf_submit s = {
		.cmds = (uintptr_t)cmds,
		.count = n,
	};

	for (;;) {
		if (!ioctl(fd, GPUP_VF_IOC_SUBMIT, &s)) {
			*fence = s.fence;
			return 0;
		}
		if (errno != EINTR)
			break;
	}
	st.errors++;
	printf("gpup-work: error SUBMIT: %s\n", strerror(errno));
	return -1;
}

static unsigned int pick_region(void)
{
	return rnd() % nregions;
}

/* Word @i of the busy content before any step: FILLed, or a stamp */
static uint64_t busy_base_word(uint64_t i)
{
	uint64_t v;

	if (i % BUSY_STAMP == 0)
		return mix64(busy.key + i);
	v = fill_value(busy.key);
	return v | v << 32;
}

/* Word @i of the content after @steps rotations */
static uint64_t busy_word(uint64_t steps, uint64_t i)
{
	return busy_base_word((i + steps * (BUSY_SHIFT / 8)) % (busy.len / 8));
}

static uint64_t busy_offset(unsigned int area)
{
	return busy.base + area * busy.len;
}

static uint64_t *busy_ptr(unsigned int area)
{
	return busy.map + area * (busy.len / 8);
}

/* Check every word of @area against the content after @steps steps */
static void busy_compare(unsigned int area, uint64_t steps)
{
	const uint64_t *p = busy_ptr(area);
	uint64_t i, words = busy.len / 8, bad = 0, first = 0;

	for (i = 0; i < words; i++) {
		if (p[i] == busy_word(steps, i))
			continue;
		if (!bad++)
			first = i;
	}
	if (!bad)
		return;
	st.mismatches++;
	busy.mismatches++;
	printf("gpup-work: mismatch busy area=%u steps=%llu words=%llu offset=%#llx",
	       area, (unsigned long long)steps, (unsigned long long)bad,
	       (unsigned long long)first * 8);
	printf(" want=%#llx got=%#llx\n", (unsigned long long)busy_word(steps, first),
	       (unsigned long long)p[first]);
}

/*
 * Queue step busy.submitted: rotate the content of one area by BUSY_SHIFT
 * into the other, with two COPYs.  False when the SUBMIT failed.
 */
static bool busy_submit(void)
{
	uint64_t k = busy.submitted, *fence = &busy.fence[k % (BUSY_DEPTH_MAX + 2)];
	uint64_t src = busy_offset(k % 2), dst = busy_offset((k + 1) % 2);
	struct gpup_vf_cmd cmds[2] = {
		{ .op = GPUP_VF_OP_COPY, .dst = dst, .src = src + BUSY_SHIFT,
		  .len = busy.len - BUSY_SHIFT },
		{ .op = GPUP_VF_OP_COPY, .dst = dst + busy.len - BUSY_SHIFT,
		  .src = src, .len = BUSY_SHIFT },
	};

	if (submit(cmds, 2, fence)) {
		busy.errors++;
		return false;
	}
	busy.last_fence = *fence;
	busy.submitted++;
	return true;
}

/* Keep @depth steps queued, until the run's time is up */
static void busy_top_up(unsigned int depth)
{
	if (!busy.on || busy.lost || busy.errors || now() >= busy.until)
		return;
	while (busy.submitted - busy.completed < depth)
		if (!busy_submit())
			return;
}

/*
 * The engine's rate, from the intervals between two polls that found steps
 * still queued: the engine ran all along those.  Older intervals fade.
 * Keeps BUSY_QUEUE_SEC of its work queued.
 */
static void busy_rate(double t, bool queued)
{
	double rate;

	if (queued && busy.last_poll && t > busy.last_poll) {
		busy.eng_time += t - busy.last_poll;
		busy.eng_bytes += (double)(busy.completed - busy.polled) * busy.len;
		if (busy.eng_time > 10.0) {
			busy.eng_time /= 2;
			busy.eng_bytes /= 2;
		}
	}
	busy.last_poll = t;
	busy.polled = busy.completed;
	if (busy.eng_time < 1.0 || !busy.eng_bytes)
		return;
	rate = busy.eng_bytes / busy.eng_time;
	busy.depth = BUSY_QUEUE_SEC * rate / busy.len + 1;
	if (busy.depth < BUSY_DEPTH_MIN)
		busy.depth = BUSY_DEPTH_MIN;
	if (busy.depth > BUSY_DEPTH_MAX)
		busy.depth = BUSY_DEPTH_MAX;
}

/* The steps whose fences signalled */
static void busy_poll(void)
{
	struct gpup_vf_info i;
	double t = now();

	if (vf_info(&i)) {
		busy.errors++;
		return;
	}
	while (busy.completed < busy.submitted &&
	       busy.fence[busy.completed % (BUSY_DEPTH_MAX + 2)] <= i.completed)
		busy.completed++;
	busy_rate(t, busy.completed < busy.submitted);
	/* the engine may have run out of steps since the last poll */
	if (busy.completed == busy.submitted && t < busy.until)
		busy.drained++;
}

/* Wait for the queued steps, check both areas, report, unmap */
static void busy_end(void)
{
	double rate = busy.eng_time ? busy.eng_bytes / busy.eng_time : 0;
	uint64_t n;

	if (busy.submitted > busy.completed && !busy.lost &&
	    wait_fence(busy.last_fence))
		busy.errors++;
	check_recoveries();
	if (!busy.errors && !busy.lost)
		busy_poll();
	n = busy.completed;
	if (!busy.errors && !busy.lost) {
		/* the last step's result, and the one before it */
		busy_compare(n % 2, n);
		if (n)
			busy_compare((n + 1) % 2, n - 1);
	}
	if (busy.lost)
		busy.errors++;
	printf("gpup-work: busy done copies=%llu bytes=%llu t=%.1f drained=%llu",
	       (unsigned long long)n * 2, (unsigned long long)(n * busy.len),
	       now() - busy.start, (unsigned long long)busy.drained);
	printf(" rate=%.0fMiB/s depth=%u", rate / MIB, busy.depth);
	if (busy.mismatches || busy.errors)
		printf(" FAILED mismatches=%llu errors=%llu%s\n",
		       (unsigned long long)busy.mismatches,
		       (unsigned long long)busy.errors,
		       busy.lost ? " (VRAM lost)" : "");
	else
		printf(" ok\n");
	munmap(busy.map, busy.map_size);
	busy.on = false;
}

/* Between the workload's jobs: retire and queue steps */
static void busy_pump(void)
{
	if (!busy.on)
		return;
	busy_poll();
	busy_top_up(busy.depth);
	if (busy.errors || busy.lost ||
	    (now() >= busy.until && busy.completed == busy.submitted))
		busy_end();
}

/*
 * Before a WAIT for the workload's batch of fence @fence: a step queued
 * behind it, so the engine is not idle while the batch is checked.
 */
static void busy_follow(uint64_t fence)
{
	if (busy.on && busy.last_fence < fence)
		busy_top_up(busy.depth + 1);
}

/*
 * Set a busy run up: "busy SECONDS [COPY_MIB]".  Returns why it cannot
 * run, or NULL once it runs.
 */
static const char *busy_setup(const char *args)
{
	unsigned int ring_cmds = info0.ring_size / sizeof(struct gpup_vf_cmd);
	uint64_t end = info0.ring_offset, fence, i;
	unsigned int mib = BUSY_COPY_MIB;
	struct gpup_vf_cmd fill = { };
	static char why[200];
	double seconds;

	if (busy.on)
		return "a busy run is under way";
	if (sscanf(args, "%lf %u", &seconds, &mib) < 1 || seconds <= 0 || !mib)
		return "usage: busy SECONDS [COPY_MIB]";
	/* the queued steps and their fences, and a batch with its fence */
	if ((BUSY_DEPTH_MAX + 1) * 3 + opt.batch + 1 > ring_cmds - 1) {
		snprintf(why, sizeof(why),
			 "a ring of %u commands cannot hold %u steps and a batch of %u",
			 ring_cmds, BUSY_DEPTH_MAX + 1, opt.batch);
		return why;
	}
	memset(&busy, 0, sizeof(busy));
	busy.base = (uint64_t)opt.mib << 20;
	busy.len = (uint64_t)mib << 20;
	busy.map_size = 2 * busy.len;
	if (busy.base > end || end - busy.base < busy.map_size) {
		snprintf(why, sizeof(why),
			 "no scratch: 2 areas of %u MiB need %zu MiB between the workload's %u MiB and the ring at %llu MiB",
			 mib, busy.map_size >> 20, opt.mib, (unsigned long long)(end >> 20));
		return why;
	}
	busy.map = mmap(NULL, busy.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			fd, busy.base);
	if (busy.map == MAP_FAILED) {
		snprintf(why, sizeof(why), "mmap: %s", strerror(errno));
		return why;
	}

	/* area 0: FILLed by the engine, then stamped by the CPU */
	busy.key = new_key(nregions);
	fill.op = GPUP_VF_OP_FILL;
	fill.dst = busy_offset(0);
	fill.len = busy.len;
	fill.value = fill_value(busy.key);
	if (submit(&fill, 1, &fence) || wait_fence(fence)) {
		munmap(busy.map, busy.map_size);
		return "the FILL of area 0 failed";
	}
	for (i = 0; i < busy.len / 8; i += BUSY_STAMP)
		busy_ptr(0)[i] = busy_base_word(i);

	busy.on = true;
	busy.start = now();
	busy.until = busy.start + seconds;
	busy.depth = BUSY_DEPTH_INIT;
	busy_top_up(busy.depth);
	printf("gpup-work: busy start seconds=%g copy=%uMiB queue=%gs", seconds, mib,
	       BUSY_QUEUE_SEC);
	printf(" scratch=%#llx-%#llx\n", (unsigned long long)busy.base,
	       (unsigned long long)(busy.base + busy.map_size));
	return NULL;
}

/* "busy stop": queue no more steps; the run ends once they are done */
static void busy_stop(void)
{
	if (!busy.on) {
		st.errors++;
		printf("gpup-work: error busy: no busy run to stop\n");
		return;
	}
	busy.until = now();
}

static void busy_begin(const char *args)
{
	const char *why = busy_setup(args);

	if (why) {
		st.errors++;
		printf("gpup-work: error busy: %s\n", why);
	}
}

/*
 * One engine batch of FILLs and COPYs.  The engine runs a batch in order,
 * so the model follows it command by command; once the fence signals,
 * every destination must hold what the model says.
 */
static void engine_batch(unsigned int n)
{
	struct gpup_vf_cmd cmds[BATCH_MAX];
	unsigned int dst[BATCH_MAX];
	unsigned int i, tries;
	uint64_t fence;
	long off;
	bool ok;

	memset(cmds, 0, sizeof(cmds));
	for (i = 0; i < n; i++) {
		unsigned int d = pick_region(), s;
		bool copy = rnd() % (opt.w_fill + opt.w_copy) >= opt.w_fill;

		dst[i] = d;
		cmds[i].dst = (uint64_t)d * region_size;
		cmds[i].len = region_size;
		for (tries = 0, s = d; copy && s == d && tries < 8; tries++)
			s = pick_region();
		if (copy && s != d) {
			cmds[i].op = GPUP_VF_OP_COPY;
			cmds[i].src = (uint64_t)s * region_size;
			regions[d] = regions[s];
		} else {
			regions[d].kind = K_FILL;
			regions[d].key = new_key(d);
			cmds[i].op = GPUP_VF_OP_FILL;
			cmds[i].value = fill_value(regions[d].key);
		}
	}
	ok = !submit(cmds, n, &fence);
	if (ok) {
		busy_follow(fence);
		ok = !wait_fence(fence);
	}
	if (!ok) {
		for (i = 0; i < n; i++)
			regions[dst[i]].kind = K_UNKNOWN;
		check_recoveries();
		return;
	}
	job_done(n);
	busy_pump();
	st.written += (double)n * region_size;
	for (i = 0; i < n; i++) {
		off = check_region(dst[i]);
		if (off >= 0)
			report_mismatch(dst[i], off, "engine");
		busy_pump();
	}
}

static void one_job(void)
{
	unsigned int total = opt.w_cpu + opt.w_fill + opt.w_copy;
	unsigned int n;

	if (rnd() % total < opt.w_cpu) {
		cpu_store(pick_region());
		job_done(1);
		return;
	}
	n = 1 + rnd() % opt.batch;
	engine_batch(n);
}

static void verify_all(void)
{
	unsigned int r, bad = 0, known = 0, first = 0;
	long off, first_off = -1;

	check_recoveries();
	for (r = 0; r < nregions; r++) {
		if (regions[r].kind == K_UNKNOWN)
			continue;
		known++;
		off = check_region(r);
		if (off < 0)
			continue;
		if (!bad++) {
			first = r;
			first_off = off;
			report_mismatch(r, off, "verify");
		} else {
			st.mismatches++;
		}
	}
	if (bad)
		printf("gpup-work: verify FAILED %u/%u first=%u offset=%ld\n",
		       bad, known, first, first_off);
	else
		printf("gpup-work: verify ok %u\n", known);
}

static void print_info(void)
{
	struct gpup_vf_info i;

	if (vf_info(&i))
		return;
	printf("gpup-work: info profile=%u vram=%llu ring_offset=%#llx engine=%u",
	       i.profile, (unsigned long long)i.vram_size,
	       (unsigned long long)i.ring_offset, i.engine);
	printf(" submitted=%llu completed=%llu irqs=%llu irq=%s recoveries=%llu last_error=%u\n",
	       (unsigned long long)i.submitted, (unsigned long long)i.completed,
	       (unsigned long long)i.irqs,
	       i.irq_mode == GPUP_VF_IRQ_MSI ? "msi" : "intx",
	       (unsigned long long)i.recoveries, i.last_error);
}

static bool failed(void)
{
	return st.mismatches || st.timeouts || st.errors || st.recoveries;
}

static void print_progress(double t)
{
	double dt = t - st.last_print;
	double gap = st.gap_sec;

	/* a job still outstanding counts into the gap */
	if (t - st.last_done > gap)
		gap = t - st.last_done;
	printf("gpup-work: t=%.1f jobs=%llu jobs/s=%.1f written=%.1fMiB",
	       t - st.start, (unsigned long long)st.jobs,
	       (st.jobs - st.jobs_at_print) / dt, st.written / MIB);
	printf(" gap_ms=%.0f gap_max_ms=%.0f mismatches=%llu timeouts=%llu errors=%llu\n",
	       gap * 1000, st.gap_max * 1000, (unsigned long long)st.mismatches,
	       (unsigned long long)st.timeouts, (unsigned long long)st.errors);
	st.last_print = t;
	st.jobs_at_print = st.jobs;
	st.gap_sec = 0;
}

/* Returns true when told to stop */
static bool read_commands(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	static char line[256];
	static size_t len;
	ssize_t n;
	char *nl;

	if (!stdin_open || poll(&p, 1, 0) <= 0)
		return false;
	n = read(STDIN_FILENO, line + len, sizeof(line) - 1 - len);
	if (n <= 0) {
		stdin_open = false;	/* no more commands; run on */
		return false;
	}
	len += n;
	line[len] = '\0';
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!strcmp(line, "stop"))
			return true;
		if (!strcmp(line, "verify"))
			verify_all();
		else if (!strcmp(line, "info"))
			print_info();
		else if (!strcmp(line, "busy stop"))
			busy_stop();
		else if (!strncmp(line, "busy", 4) && (!line[4] || line[4] == ' '))
			busy_begin(line + 4);
		else if (line[0])
			printf("gpup-work: unknown command '%s'\n", line);
		len -= nl + 1 - line;
		memmove(line, nl + 1, len + 1);
	}
	if (len == sizeof(line) - 1)
		len = 0;	/* an overlong line: drop it */
	return false;
}

static void print_summary(void)
{
	printf("gpup-work: summary jobs=%llu mismatches=%llu stall_max_ms=%.0f",
	       (unsigned long long)st.jobs, (unsigned long long)st.mismatches,
	       st.gap_max * 1000);
	printf(" timeouts=%llu errors=%llu recoveries=%llu written=%.1fMiB t=%.1f result=%s\n",
	       (unsigned long long)st.timeouts, (unsigned long long)st.errors,
	       (unsigned long long)st.recoveries, st.written / MIB,
	       now() - st.start, failed() ? "FAILED" : "ok");
}

static void run(void)
{
	double t;

	st.start = now();
	st.last_done = st.start;
	st.last_print = st.start;
	while (!__atomic_load_n(&stop_signal, __ATOMIC_RELAXED)) {
		busy_pump();
		one_job();
		t = now();
		if (opt.once && st.jobs >= opt.once)
			break;
		if (opt.duration && t - st.start >= opt.duration)
			break;
		if (t - st.last_print >= 1.0) {
			check_recoveries();
			print_progress(t);
		}
		if (read_commands())
			break;
		fflush(stdout);
	}
	if (busy.on)
		busy_end();
	verify_all();
}

static void on_signal(int sig)
{
	__atomic_store_n(&stop_signal, sig, __ATOMIC_RELAXED);
}

static int parse_mix(const char *s)
{
	return sscanf(s, "%u:%u:%u", &opt.w_cpu, &opt.w_fill, &opt.w_copy) == 3 &&
	       opt.w_cpu + opt.w_fill + opt.w_copy && opt.w_fill + opt.w_copy ? 0 : -1;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: gpup-work [--dev PATH] [--mib N] [--region-kib N] [--mix CPU:FILL:COPY]\n"
		"                 [--batch N] [--once JOBS] [--duration SEC] [--seed S]\n"
		"                 [--timeout-ms MS]\n"
		"Runs FILL/COPY jobs and CPU stores on a gpup VF and checks every result.\n"
		"stdin: verify | info | busy SECONDS [COPY_MIB] | busy stop | stop.\n"
		"Defaults: /dev/gpup_vf0, 8 MiB, 16 KiB regions, mix 1:2:2, batches of\n"
		"up to 4 commands, 10000 ms WAIT timeout.\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", 1, NULL, 'd' }, { "mib", 1, NULL, 'm' },
		{ "region-kib", 1, NULL, 'r' }, { "mix", 1, NULL, 'x' },
		{ "batch", 1, NULL, 'b' }, { "once", 1, NULL, 'o' },
		{ "duration", 1, NULL, 't' }, { "seed", 1, NULL, 's' },
		{ "timeout-ms", 1, NULL, 'w' }, { "help", 0, NULL, 'h' },
		{ }
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:m:r:x:b:o:t:s:w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt.dev = optarg;
			break;
		case 'm':
			opt.mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			opt.region_kib = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			if (parse_mix(optarg))
				print_usage();
			break;
		case 'b':
			opt.batch = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			opt.once = strtoull(optarg, NULL, 0);
			break;
		case 't':
			opt.duration = strtod(optarg, NULL);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			opt.timeout_ms = strtoul(optarg, NULL, 0);
			break;
		default:
			print_usage();
		}
	}
	if (optind != argc || !opt.mib || !opt.region_kib ||
	    !opt.batch || opt.batch > BATCH_MAX || !opt.timeout_ms)
		print_usage();
}

static int setup(void)
{
	size_t size = (size_t)opt.mib << 20;

	fd = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("gpup-work: error open %s: %s\n", opt.dev, strerror(errno));
		return -1;
	}
	if (ioctl(fd, GPUP_VF_IOC_INFO, &info0)) {
		printf("gpup-work: error INFO: %s\n", strerror(errno));
		return -1;
	}
	region_size = (size_t)opt.region_kib << 10;
	if (size > info0.ring_offset || region_size > size) {
		printf("gpup-work: error %u MiB, regions of %u KiB: not below the ring at %#llx\n",
		       opt.mib, opt.region_kib, (unsigned long long)info0.ring_offset);
		return -1;
	}
	nregions = size / region_size;
	vram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (vram == MAP_FAILED) {
		printf("gpup-work: error mmap: %s\n", strerror(errno));
		return -1;
	}
	regions = calloc(nregions, sizeof(*regions));
	if (!regions) {
		printf("gpup-work: error out of memory\n");
		return -1;
	}
	rng_state = opt.seed;
	printf("gpup-work: start dev=%s vram=%uMiB regions=%u region=%uKiB irq=%s seed=%llu\n",
	       opt.dev, opt.mib, nregions, opt.region_kib,
	       info0.irq_mode == GPUP_VF_IRQ_MSI ? "msi" : "intx",
	       (unsigned long long)opt.seed);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* no SA_RESTART: a blocked WAIT returns, and we stop at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (setup())
		return 2;
	run();
	print_summary();
	return failed() ? 1 : 0;
}
