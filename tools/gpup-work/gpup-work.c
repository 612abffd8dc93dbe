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
 *   summary jobs=N mismatches=0 stall_max_ms=M timeouts=0 errors=0
 *        recoveries=0 written=...MiB t=... result=ok|FAILED
 * Commands on stdin, one per line: verify, info, stop.  SIGTERM and SIGINT
 * stop it too.  Exit status: 0 when nothing failed, 1 when something did
 * (a mismatch, a WAIT that timed out, an engine error or recovery it did
 * not cause, a failed ioctl), 2 for bad usage or a VF it cannot open.
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
	if (submit(cmds, n, &fence) || wait_fence(fence)) {
		for (i = 0; i < n; i++)
			regions[dst[i]].kind = K_UNKNOWN;
		check_recoveries();
		return;
	}
	job_done(n);
	st.written += (double)n * region_size;
	for (i = 0; i < n; i++) {
		off = check_region(dst[i]);
		if (off >= 0)
			report_mismatch(dst[i], off, "engine");
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
		"stdin: verify | info | stop.  Defaults: /dev/gpup_vf0, 8 MiB, 16 KiB\n"
		"regions, mix 1:2:2, batches of up to 4 commands, 10000 ms WAIT timeout.\n");
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
