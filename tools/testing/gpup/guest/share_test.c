// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VF may take of its host, and how the host bounds it.
 *
 * A guest drives its VF through QEMU, and everything it does there runs
 * on the host: the engine's work, the VRAM pages it fills, the loops a
 * reset or a big region access runs.  These tests check that the host
 * charges and bounds it as Documentation/gpup/sim.rst says:
 *
 * - the engine runs in a thread of the VF's own, in the cgroups of the
 *   user who opened the VF, so the VM's cpu.max throttles it (6.12) and
 *   its cpu.stat counts it; two VFs on one CPU share it;
 * - VRAM pages are charged to that user's memory cgroup whoever allocates
 *   them, and an engine that hits memory.max halts with the NOMEM error
 *   instead of growing;
 * - the engine_budget sysfs attribute caps a VF's engine time per period;
 * - resets and region accesses of hundreds of MiB let other tasks of the
 *   same CPU run;
 * - the PCI command register gates BAR access (memory) and the engine and
 *   MSIs (bus master), and unmasking a pending interrupt delivers it.
 *
 * The cgroup cases need cgroup v2 with the cpu and memory controllers
 * (mounted here when nothing is); without them they are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "gpup_vfio.h"
#include "tap.h"

#define RING_BASE	0x0
#define RING_SIZE	0x1000
#define DATA		0x10000
#define CG		"/sys/fs/cgroup"
#define CG_A		CG "/gpup-share-a"
#define CG_B		CG "/gpup-share-b"

static bool have_cgroup;

/* One 32-bit access to the VRAM mapping, made at once */
static uint32_t mapped_rd(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	__asm__ __volatile__("" : : "r" (v) : "memory");
	return v;
}

static void mapped_wr(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
	__asm__ __volatile__("" : : : "memory");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* cgroup v2 with cpu and memory for the children of the root */
static bool cg_setup(void)
{
	if (access(CG "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG, "cgroup2", 0, NULL))
		return false;
	return !gpup_write_file(CG "/cgroup.subtree_control", "+cpu +memory");
}

static bool cg_enter(const char *cg)
{
	char path[256], pid[32];

	if (mkdir(cg, 0755) && errno != EEXIST)
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return !gpup_write_file(path, pid);
}

static void cg_leave(const char *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	gpup_write_file(CG "/cgroup.procs", pid);
	rmdir(cg);
}

static int cg_set(const char *cg, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return gpup_write_file(path, val);
}

/* @key's value in @file of @cg, or the file's first number for NULL */
static long long cg_num(const char *cg, const char *file, const char *key)
{
	char path[256], name[64];
	long long v, val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!key) {
		if (fscanf(f, "%lld", &v) == 1)
			val = v;
	} else {
		while (fscanf(f, "%63s %lld", name, &v) == 2)
			if (!strcmp(name, key))
				val = v;
	}
	fclose(f);
	return val;
}

/* CPU time a task has run, in ns (utime + stime of /proc/PID/stat) */
static long long task_cpu_ns(long long pid)
{
	unsigned long long utime, stime;
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* after the name in parentheses: state, then 10 fields, then the two */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &utime, &stime) != 2)
		return -1;
	return (long long)((utime + stime) * (1000000000ULL / sysconf(_SC_CLK_TCK)));
}

static bool task_in_cgroup(long long pid, const char *cg)
{
	char path[64], line[256], want[256];
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/cgroup", pid);
	snprintf(want, sizeof(want), "0::%s\n", cg + strlen(CG));
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		in |= !strcmp(line, want);
	fclose(f);
	return in;
}

/* A VF of @profile, open, with a ring: false (and a failure) if not */
static bool vf_up(struct gpup_dev *d, const char *profile)
{
	char uuid[40];

	if (!CHECK(!gpup_vf_create(profile, uuid, sizeof(uuid)), "create %s", profile))
		return false;
	if (!CHECK(!gpup_open(d, uuid), "open %s", uuid)) {
		gpup_vf_remove(uuid);
		return false;
	}
	gpup_ring_init(d, RING_BASE, RING_SIZE);
	return true;
}

static void vf_down(struct gpup_dev *d)
{
	char uuid[40];

	snprintf(uuid, sizeof(uuid), "%s", d->uuid);
	gpup_close(d);
	gpup_vf_remove(uuid);
}

static long long engine(struct gpup_dev *d, const char *field)
{
	return gpup_debugfs_num(d->uuid, "engine", field);
}

/* @n FILLs of @len bytes each over the same range: work that lasts */
static void hammer(struct gpup_dev *d, unsigned int n, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gpup_submit(d, GPUP_CMD_FILL, 0x01010101 * (i + 1), DATA, 0, len);
	gpup_kick(d);
}

static int budget_path(struct gpup_dev *d, char *path, size_t len)
{
	return snprintf(path, len, "/sys/bus/mdev/devices/%s/gpup/engine_budget",
			d->uuid);
}

static int set_budget(struct gpup_dev *d, const char *val)
{
	char path[128];

	budget_path(d, path, sizeof(path));
	return gpup_write_file(path, val);
}

static long long get_budget(struct gpup_dev *d)
{
	char path[128];
	long long v = -1;
	FILE *f;

	budget_path(d, path, sizeof(path));
	f = fopen(path, "r");
	if (f && fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* The engine's thread lives in the opener's cgroup, which pays its CPU */
static void test_engine_runs_in_owner_cgroup(void)
{
	long long pid, cpu0, cpu1, use0, use1;
	struct gpup_dev d;

	if (!have_cgroup) {
		printf("# SKIP no cgroup v2 with cpu and memory\n");
		return;
	}
	if (!CHECK(cg_enter(CG_A), "enter %s: %m", CG_A))
		return;
	if (!vf_up(&d, "small"))
		goto out;
	pid = engine(&d, "thread_pid");
	if (!CHECK(pid > 0, "no engine thread: %lld", pid))
		goto down;
	if (!CHECK(task_in_cgroup(pid, CG_A), "engine thread %lld not in %s", pid, CG_A))
		goto down;

	cpu0 = task_cpu_ns(pid);
	use0 = cg_num(CG_A, "cpu.stat", "usage_usec");
	hammer(&d, 8, 16 * MIB);
	if (!CHECK(!gpup_wait_idle(&d, 300000), "engine not idle"))
		goto down;
	cpu1 = task_cpu_ns(pid);
	use1 = cg_num(CG_A, "cpu.stat", "usage_usec");
	printf("# engine thread ran %lld ms, the cgroup was charged %lld ms\n",
	       (cpu1 - cpu0) / 1000000, (use1 - use0) / 1000);
	if (!CHECK(cpu1 - cpu0 > 0, "engine thread never ran"))
		goto down;
	CHECK((use1 - use0) * 1000 >= (cpu1 - cpu0) * 9 / 10,
	      "cgroup charged %lld us for %lld us of engine", use1 - use0,
	      (cpu1 - cpu0) / 1000);
down:
	vf_down(&d);
out:
	cg_leave(CG_A);
}

/*
 * cpu.max of the VM bounds its VF's engine, where the kernel throttles a
 * group's tasks where they run (6.12).  Newer kernels (7.3 here) throttle
 * a task by a task work run on its way back to user space
 * (throttle_cfs_rq_work()), which is never queued for a kernel thread: the
 * engine's worker is not throttled at all, and a busy engine ran 1500 ms
 * of 1501 under 10%.  engine_budget bounds it on every kernel
 * (budget_caps_engine).
 */
static void test_cpu_max_throttles_engine(void)
{
	long long pid, cpu0, cpu1, thr0, thr1;
	struct gpup_dev d;
	uint64_t t0, t1;

	if (!have_cgroup) {
		printf("# SKIP no cgroup v2 with cpu and memory\n");
		return;
	}
	if (gpup_kernel_has("throttle_cfs_rq_work")) {
		printf("# SKIP %s\n", "cpu.max throttles tasks on their return to user space here");
		return;
	}
	if (!CHECK(cg_enter(CG_A), "enter %s: %m", CG_A))
		return;
	if (!vf_up(&d, "small"))
		goto out;
	if (!CHECK(!set_budget(&d, "100"), "budget 100"))
		goto down;
	if (!CHECK(!cg_set(CG_A, "cpu.max", "10000 100000"), "cpu.max: %m"))
		goto down;
	pid = engine(&d, "thread_pid");
	thr0 = cg_num(CG_A, "cpu.stat", "nr_throttled");
	hammer(&d, 100, 64 * MIB - DATA);
	sleep_ms(200);
	t0 = now_ns();
	cpu0 = task_cpu_ns(pid);
	sleep_ms(1500);
	cpu1 = task_cpu_ns(pid);
	t1 = now_ns();
	thr1 = cg_num(CG_A, "cpu.stat", "nr_throttled");
	printf("# with cpu.max 10%%: engine thread ran %lld of %llu ms, %lld throttled periods\n",
	       (cpu1 - cpu0) / 1000000, (unsigned long long)(t1 - t0) / 1000000,
	       thr1 - thr0);
	if (!CHECK(thr1 > thr0, "the cgroup was never throttled"))
		goto down;
	CHECK((cpu1 - cpu0) * 10 <= (long long)(t1 - t0) * 4,
	      "engine ran %lld ns in %llu ns under a 10%% cpu.max", cpu1 - cpu0,
	      (unsigned long long)(t1 - t0));
down:
	gpup_reset(&d);
	cg_set(CG_A, "cpu.max", "max");
	vf_down(&d);
out:
	cg_leave(CG_A);
}

/* Engine FILLs, mmap stores and host-side writes all charge the owner */
static void test_vram_charged_to_owner(void)
{
	long long m0, m1, m2, m3;
	struct gpup_dev d;
	char cmd[64];
	pid_t child;
	int status;

	if (!have_cgroup) {
		printf("# SKIP no cgroup v2 with cpu and memory\n");
		return;
	}
	if (!CHECK(cg_enter(CG_A), "enter %s: %m", CG_A))
		return;
	if (!vf_up(&d, "small"))
		goto out;
	m0 = cg_num(CG_A, "memory.current", NULL);
	gpup_submit(&d, GPUP_CMD_FILL, 0x5a5a5a5a, DATA, 0, 48 * MIB);
	gpup_kick(&d);
	if (!CHECK(!gpup_wait_idle(&d, 300000), "engine not idle"))
		goto down;
	m1 = cg_num(CG_A, "memory.current", NULL);
	printf("# 48 MiB FILL by the engine: memory.current +%lld KiB\n", (m1 - m0) >> 10);
	if (!CHECK(m1 - m0 >= (long long)(47 * MIB), "engine pages charged %lld", m1 - m0))
		goto down;

	/* a writer outside the cgroup: the pages still go to the owner's */
	child = fork();
	if (child == 0) {
		char path[128];

		snprintf(path, sizeof(path), "%d", getpid());
		gpup_write_file(CG "/cgroup.procs", path);
		snprintf(path, sizeof(path), GPUP_DEBUGFS "/%s/fill", d.uuid);
		snprintf(cmd, sizeof(cmd), "%llx %llx 77", 50 * MIB, 8 * MIB);
		_exit(gpup_write_file(path, cmd) ? 1 : 0);
	}
	if (!CHECK(child > 0 && waitpid(child, &status, 0) == child &&
		   WIFEXITED(status) && !WEXITSTATUS(status), "host-side fill"))
		goto down;
	m2 = cg_num(CG_A, "memory.current", NULL);
	printf("# 8 MiB written from another cgroup: memory.current +%lld KiB\n",
	       (m2 - m1) >> 10);
	if (!CHECK(m2 - m1 >= (long long)(7 * MIB), "host-side pages charged %lld", m2 - m1))
		goto down;

	gpup_reset(&d);
	m3 = cg_num(CG_A, "memory.current", NULL);
	CHECK(m2 - m3 >= (long long)(55 * MIB), "reset returned only %lld", m2 - m3);
down:
	vf_down(&d);
out:
	cg_leave(CG_A);
}

/*
 * An engine that meets memory.max halts with NOMEM rather than wake the
 * OOM killer.  The VM is a child in a cgroup of its own: once its VRAM
 * fills the cgroup, any allocation of its own would be past the limit, so
 * it only waits, and this process watches from outside.
 */
static void test_memory_max_halts_engine(void)
{
	long long pages, kills, status_reg = 0, error;
	struct gpup_dev d;
	char uuid[40];
	int i, status;
	pid_t child;

	if (!have_cgroup) {
		printf("# SKIP no cgroup v2 with cpu and memory\n");
		return;
	}
	if (mkdir(CG_B, 0755) && errno != EEXIST)
		return (void)CHECK(0, "mkdir %s: %m", CG_B);
	if (!CHECK(!cg_set(CG_B, "memory.max", "33554432"), "memory.max: %m"))
		goto out;
	if (!CHECK(!gpup_vf_create("small", uuid, sizeof(uuid)), "create"))
		goto out;
	child = fork();
	if (child == 0) {
		if (!cg_enter(CG_B) || gpup_open(&d, uuid))
			_exit(1);
		gpup_ring_init(&d, RING_BASE, RING_SIZE);
		gpup_submit(&d, GPUP_CMD_FILL, 0x11111111, DATA, 0, 60 * MIB);
		gpup_kick(&d);
		for (;;)
			pause();
	}
	for (i = 0; i < 3000 && !(status_reg & GPUP_STATUS_HALTED); i++) {
		sleep_ms(100);
		status_reg = gpup_debugfs_num(uuid, "regs", "status");
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	pages = gpup_debugfs_vram(uuid, "pages_allocated");
	error = gpup_debugfs_num(uuid, "regs", "error");
	kills = cg_num(CG_B, "memory.events", "oom_kill");
	printf("# FILL of 60 MiB under a 32 MiB memory.max: status %#llx error %lld, ",
	       status_reg, error);
	printf("%lld KiB allocated\n", pages * 4);
	cg_set(CG_B, "memory.max", "max");
	if (child > 0 && kill(child, SIGKILL) == 0)
		waitpid(child, &status, 0);
	if (!CHECK(status_reg & GPUP_STATUS_HALTED, "engine did not halt"))
		goto down;
	if (!CHECK(error == GPUP_ERR_NOMEM, "error %lld", error))
		goto down;
	if (!CHECK(pages * 4096 <= 32 * (long long)MIB, "%lld pages past the limit", pages))
		goto down;
	if (!CHECK(kills == 0, "%lld tasks OOM-killed", kills))
		goto down;
	CHECK(gpup_debugfs_vram(uuid, "pages_allocated") == 0, "pages after the VM left");
down:
	gpup_vf_remove(uuid);
out:
	cg_set(CG_B, "memory.max", "max");
	rmdir(CG_B);
}

/* engine_budget: its defaults, its refusals, and the cap it sets */
static void test_budget_caps_engine(void)
{
	long long t0, t1, thr, backlog;
	struct gpup_dev s, m;
	uint64_t w0, w1;

	if (!vf_up(&s, "small"))
		return;
	if (!vf_up(&m, "medium"))
		goto down_s;
	if (!CHECK(get_budget(&s) == 25 && get_budget(&m) == 50,
		   "default budgets %lld %lld", get_budget(&s), get_budget(&m)))
		goto down;
	if (!CHECK(set_budget(&s, "0") == -ERANGE && set_budget(&s, "101") == -ERANGE &&
		   set_budget(&s, "ten") == -EINVAL, "bad budgets taken"))
		goto down;
	if (!CHECK(!set_budget(&s, "10") && get_budget(&s) == 10, "budget 10"))
		goto down;

	hammer(&s, 100, 64 * MIB - DATA);
	sleep_ms(200);
	w0 = now_ns();
	t0 = engine(&s, "time_ns");
	sleep_ms(1500);
	t1 = engine(&s, "time_ns");
	w1 = now_ns();
	thr = engine(&s, "throttled_ns");
	backlog = engine(&s, "backlog");
	printf("# budget 10%%: engine ran %lld of %llu ms, throttled %lld ms, backlog %lld\n",
	       (t1 - t0) / 1000000, (unsigned long long)(w1 - w0) / 1000000,
	       thr / 1000000, backlog);
	if (!CHECK(thr > 0 && engine(&s, "throttles") > 0, "never throttled"))
		goto down;
	if (!CHECK(backlog > 0, "no backlog while busy"))
		goto down;
	if (!CHECK((t1 - t0) * 10 <= (long long)(w1 - w0) * 4,
		   "engine ran %lld ns of %llu", t1 - t0, (unsigned long long)(w1 - w0)))
		goto down;
	gpup_reset(&s);
	CHECK(engine(&s, "backlog") == 0, "backlog after reset");
down:
	vf_down(&m);
down_s:
	vf_down(&s);
}

static bool pin(long long pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !sched_setaffinity(pid, sizeof(set), &set);
}

/* Two VFs' engines on one CPU: each gets a fair part of it */
static void test_two_engines_share_a_cpu(void)
{
	long long pa, pb, a0, a1, b0, b1, da, db;
	struct gpup_dev a, b;

	if (!vf_up(&a, "small"))
		return;
	if (!vf_up(&b, "small"))
		goto down_a;
	pa = engine(&a, "thread_pid");
	pb = engine(&b, "thread_pid");
	if (!CHECK(pa > 0 && pb > 0, "engine threads %lld %lld", pa, pb))
		goto down;
	if (!CHECK(pin(pa, 0) && pin(pb, 0), "pin engine threads: %m"))
		goto down;
	set_budget(&a, "100");
	set_budget(&b, "100");
	hammer(&a, 100, 64 * MIB - DATA);
	hammer(&b, 120, 32 * MIB);
	sleep_ms(200);
	a0 = task_cpu_ns(pa);
	b0 = task_cpu_ns(pb);
	sleep_ms(2000);
	a1 = task_cpu_ns(pa);
	b1 = task_cpu_ns(pb);
	da = a1 - a0;
	db = b1 - b0;
	if (!CHECK(engine(&a, "backlog") > 0 && engine(&b, "backlog") > 0,
		   "an engine ran out of work: the split says nothing"))
		goto down;
	printf("# one CPU, two engines: %lld ms and %lld ms\n", da / 1000000, db / 1000000);
	CHECK(da > 0 && db > 0 && da * 10 >= (da + db) * 3 && db * 10 >= (da + db) * 3,
	      "unfair split %lld / %lld", da, db);
down:
	gpup_reset(&b);
	vf_down(&b);
down_a:
	gpup_reset(&a);
	vf_down(&a);
}

/* A task on the CPU of a long kernel loop, noting its longest wait */
struct spinner {
	pthread_t thread;
	bool stop;		/* __atomic accesses: two threads */
	bool armed;
	uint64_t max_gap;
};

static void *spin(void *arg)
{
	struct spinner *s = arg;
	uint64_t last = now_ns(), t;

	pin(0, 0);
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		t = now_ns();
		if (__atomic_load_n(&s->armed, __ATOMIC_RELAXED) && t - last > s->max_gap)
			s->max_gap = t - last;
		last = t;
	}
	return NULL;
}

/* How long the longest wait of a task on our CPU was while @fn ran */
static uint64_t starved_while(void (*fn)(struct gpup_dev *d), struct gpup_dev *d,
			      uint64_t *took)
{
	struct spinner s = { 0 };
	uint64_t t0;

	pin(0, 0);
	pthread_create(&s.thread, NULL, spin, &s);
	sleep_ms(50);
	__atomic_store_n(&s.armed, true, __ATOMIC_RELAXED);
	t0 = now_ns();
	fn(d);
	*took = now_ns() - t0;
	__atomic_store_n(&s.armed, false, __ATOMIC_RELAXED);
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(s.thread, NULL);
	return s.max_gap;
}

static void do_reset(struct gpup_dev *d)
{
	gpup_reset(d);
}

static void do_region_read(struct gpup_dev *d)
{
	size_t len = 160 * MIB;
	char *buf = malloc(len);

	if (buf && pread(d->fd, buf, len, d->region_off[VFIO_PCI_BAR2_REGION_INDEX] +
			 DATA) != (ssize_t)len)
		fprintf(stderr, "# region read: %m\n");
	free(buf);
}

/* Freeing or reading 160 MiB of VRAM lets the CPU's other tasks run */
static void test_long_loops_reschedule(void)
{
	struct {
		const char *what;
		void (*fn)(struct gpup_dev *d);
	} loops[] = { { "region read", do_region_read }, { "reset", do_reset } };
	uint64_t gap, took;
	struct gpup_dev d;
	unsigned int i;
	cpu_set_t all;

	sched_getaffinity(0, sizeof(all), &all);
	if (!vf_up(&d, "medium"))
		return;
	set_budget(&d, "100");
	gpup_submit(&d, GPUP_CMD_FILL, 0x33333333, DATA, 0, 160 * MIB);
	gpup_kick(&d);
	if (!CHECK(!gpup_wait_idle(&d, 600000), "fill"))
		goto down;
	for (i = 0; i < ARRAY_SIZE(loops); i++) {
		gap = starved_while(loops[i].fn, &d, &took);
		printf("# %s of 160 MiB: %llu ms, longest wait of a task on its CPU %llu ms\n",
		       loops[i].what, (unsigned long long)took / 1000000,
		       (unsigned long long)gap / 1000000);
		if (took < 60000000ULL) {
			printf("# %s too short to tell\n", loops[i].what);
			continue;
		}
		if (!CHECK(gap * 2 < took, "%s held its CPU %llu of %llu ns", loops[i].what,
			   (unsigned long long)gap, (unsigned long long)took))
			break;
	}
down:
	sched_setaffinity(0, sizeof(all), &all);
	vf_down(&d);
}

static bool set_command(struct gpup_dev *d, uint16_t clear, uint16_t set)
{
	uint16_t cmd;

	if (gpup_cfg_rd(d, PCI_COMMAND, &cmd, 2))
		return false;
	cmd = (cmd & ~clear) | set;
	return !gpup_cfg_wr(d, PCI_COMMAND, &cmd, 2);
}

/* Memory decode off: BARs fail as vfio-pci's do, the mapping faults */
static void test_memory_decode_gates_bars(void)
{
	uint64_t bar0, bar2;
	struct gpup_dev d;
	uint32_t v = 0;
	int status;
	pid_t child;

	if (!vf_up(&d, "small"))
		return;
	bar0 = d.region_off[VFIO_PCI_BAR0_REGION_INDEX];
	bar2 = d.region_off[VFIO_PCI_BAR2_REGION_INDEX];
	gpup_wr(&d, GPUP_REG_SCRATCH0, 0x1234);
	mapped_wr(d.vram + DATA, 0xabcd);
	if (!CHECK(set_command(&d, PCI_COMMAND_MEMORY, 0), "clear memory"))
		goto down;
	if (!CHECK(pread(d.fd, &v, 4, bar0) < 0 && errno == EIO, "BAR0 read: %m"))
		goto down;
	if (!CHECK(pwrite(d.fd, &v, 4, bar0 + GPUP_REG_SCRATCH0) < 0 && errno == EIO,
		   "BAR0 write: %m"))
		goto down;
	if (!CHECK(pread(d.fd, &v, 4, bar2 + DATA) < 0 && errno == EIO, "BAR2 read: %m"))
		goto down;
	child = fork();
	if (child == 0)
		_exit(mapped_rd(d.vram + DATA) == 0xabcd ? 0 : 1);
	if (!CHECK(child > 0 && waitpid(child, &status, 0) == child &&
		   WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		   "mapping without decode: status %#x", status))
		goto down;
	if (!CHECK(set_command(&d, 0, PCI_COMMAND_MEMORY), "set memory"))
		goto down;
	if (!CHECK(gpup_rd(&d, GPUP_REG_SCRATCH0) == 0x1234, "scratch lost"))
		goto down;
	CHECK(mapped_rd(d.vram + DATA) == 0xabcd, "VRAM lost");
down:
	vf_down(&d);
}

/* Bus mastering off: the engine fetches nothing, MSIs wait for it */
static void test_bus_master_gates_engine_and_msi(void)
{
	struct gpup_dev d;
	int efd;

	if (!vf_up(&d, "small"))
		return;
	efd = gpup_irq_eventfd(&d, VFIO_PCI_MSI_IRQ_INDEX);
	if (!CHECK(efd >= 0, "MSI: %d", efd))
		goto down;
	gpup_wr(&d, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	if (!CHECK(set_command(&d, PCI_COMMAND_MASTER, 0), "clear master"))
		goto out;
	gpup_submit(&d, GPUP_CMD_FILL, 0x44444444, DATA, 0, MIB);
	gpup_submit(&d, GPUP_CMD_FENCE, 5, 0, 0, 0);
	gpup_kick(&d);
	sleep_ms(300);
	if (!CHECK(gpup_rd(&d, GPUP_REG_CMD_COUNT) == 0, "engine ran without bus master"))
		goto out;
	if (!CHECK(gpup_eventfd_wait(efd, 0) == 0, "MSI without bus master"))
		goto out;
	if (!CHECK(set_command(&d, 0, PCI_COMMAND_MASTER), "set master"))
		goto out;
	if (!CHECK(!gpup_wait_idle(&d, 60000), "engine idle"))
		goto out;
	if (!CHECK(gpup_rd(&d, GPUP_REG_FENCE) == 5, "fence"))
		goto out;
	CHECK(gpup_eventfd_wait(efd, 5000) == 1, "no MSI once mastering");
out:
	gpup_irq_disable(&d, VFIO_PCI_MSI_IRQ_INDEX);
	close(efd);
down:
	vf_down(&d);
}

/* A fence retires while its interrupt is masked: the cause is pending */
static bool fence_while_masked(struct gpup_dev *d)
{
	gpup_wr(d, GPUP_REG_INT_MASK, 0);
	gpup_submit(d, GPUP_CMD_FENCE, 1, 0, 0, 0);
	gpup_kick(d);
	return CHECK(!gpup_wait_idle(d, 60000), "idle") &&
	       CHECK(gpup_rd(d, GPUP_REG_INT_STATUS) & GPUP_INT_FENCE, "not pending");
}

/* A pending cause interrupts when unmasked, and not before */
static void test_unmask_delivers_pending_msi(void)
{
	struct gpup_dev d;
	int efd;

	if (!vf_up(&d, "small"))
		return;
	efd = gpup_irq_eventfd(&d, VFIO_PCI_MSI_IRQ_INDEX);
	if (!CHECK(efd >= 0, "MSI: %d", efd))
		goto down;
	if (!fence_while_masked(&d))
		goto out;
	if (!CHECK(gpup_eventfd_wait(efd, 200) == 0, "MSI while masked"))
		goto out;
	gpup_wr(&d, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	if (!CHECK(gpup_eventfd_wait(efd, 5000) == 1, "no MSI on unmask"))
		goto out;

	/* unmasked while the function may not master: sent once it may */
	gpup_wr(&d, GPUP_REG_INT_MASK, 0);
	if (!CHECK(set_command(&d, PCI_COMMAND_MASTER, 0), "clear master"))
		goto out;
	gpup_wr(&d, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	if (!CHECK(gpup_eventfd_wait(efd, 200) == 0, "MSI without bus master"))
		goto out;
	if (!CHECK(set_command(&d, 0, PCI_COMMAND_MASTER), "set master"))
		goto out;
	CHECK(gpup_eventfd_wait(efd, 5000) == 1, "held-back MSI never sent");
out:
	gpup_irq_disable(&d, VFIO_PCI_MSI_IRQ_INDEX);
	close(efd);
down:
	vf_down(&d);
}

/* @src's state into @dst through a stop-copy stream; both end RUNNING */
static bool move_state(struct gpup_dev *src, struct gpup_dev *dst)
{
	static char chunk[256 * 1024];
	int sfd, dfd, ok = 0;
	ssize_t n = -1;

	sfd = gpup_mig_set_state(src, VFIO_DEVICE_STATE_STOP_COPY);
	dfd = gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RESUMING);
	if (sfd >= 0 && dfd >= 0) {
		while ((n = read(sfd, chunk, sizeof(chunk))) > 0)
			if (write(dfd, chunk, n) != n)
				break;
		/* no data fd in RUNNING: -1 */
		ok = !n && gpup_mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING) == -1;
	}
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	gpup_mig_set_state(src, VFIO_DEVICE_STATE_RUNNING);
	return CHECK(ok, "stream: sfd %d dfd %d last read %zd", sfd, dfd, n);
}

/* An MSI held back while bus mastering is off moves with the VF */
static void test_held_msi_migrates(void)
{
	int sefd = -1, defd = -1;
	struct gpup_dev a, b;

	if (!vf_up(&a, "small"))
		return;
	if (!vf_up(&b, "small"))
		goto down_a;
	sefd = gpup_irq_eventfd(&a, VFIO_PCI_MSI_IRQ_INDEX);
	defd = gpup_irq_eventfd(&b, VFIO_PCI_MSI_IRQ_INDEX);
	if (!CHECK(sefd >= 0 && defd >= 0, "MSI: %d %d", sefd, defd))
		goto out;
	if (!fence_while_masked(&a))
		goto out;
	if (!CHECK(set_command(&a, PCI_COMMAND_MASTER, 0), "clear master"))
		goto out;
	gpup_wr(&a, GPUP_REG_INT_MASK, GPUP_INT_FENCE);
	if (!CHECK(gpup_eventfd_wait(sefd, 200) == 0, "MSI without bus master"))
		goto out;
	if (!move_state(&a, &b))
		goto out;
	if (!CHECK(gpup_eventfd_wait(defd, 200) == 0, "target's MSI without bus master"))
		goto out;
	if (!CHECK(set_command(&b, 0, PCI_COMMAND_MASTER), "set master"))
		goto out;
	CHECK(gpup_eventfd_wait(defd, 5000) == 1, "the held-back MSI was lost in migration");
out:
	if (sefd >= 0) {
		gpup_irq_disable(&a, VFIO_PCI_MSI_IRQ_INDEX);
		close(sefd);
	}
	if (defd >= 0) {
		gpup_irq_disable(&b, VFIO_PCI_MSI_IRQ_INDEX);
		close(defd);
	}
	vf_down(&b);
down_a:
	vf_down(&a);
}

/*
 * A function reset keeps the command register, as vfio-pci restores it;
 * a release and a new open give the engine a new thread
 */
static void test_resets_keep_command_register(void)
{
	const uint16_t on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	struct gpup_dev d;
	uint16_t cmd = 0;
	char uuid[40];

	if (!vf_up(&d, "small"))
		return;
	if (!CHECK(!gpup_reset(&d), "VFIO_DEVICE_RESET: %m"))
		goto down;
	if (!CHECK(!gpup_cfg_rd(&d, PCI_COMMAND, &cmd, 2) && (cmd & on) == on,
		   "command %#x after VFIO_DEVICE_RESET", cmd))
		goto down;
	gpup_wr(&d, GPUP_REG_CTRL, GPUP_CTRL_RESET);
	if (!CHECK(!gpup_cfg_rd(&d, PCI_COMMAND, &cmd, 2) && (cmd & on) == on,
		   "command %#x after CTRL.RESET", cmd))
		goto down;
	if (!CHECK(gpup_rd(&d, GPUP_REG_ID) == GPUP_ID_MAGIC, "BAR0 after resets"))
		goto down;

	/* released and opened again: a new engine thread takes the work */
	snprintf(uuid, sizeof(uuid), "%s", d.uuid);
	gpup_close(&d);
	if (!CHECK(!gpup_open(&d, uuid), "reopen"))
		return (void)gpup_vf_remove(uuid);
	gpup_ring_init(&d, RING_BASE, RING_SIZE);
	gpup_submit(&d, GPUP_CMD_FENCE, 3, 0, 0, 0);
	gpup_kick(&d);
	CHECK(!gpup_wait_idle(&d, 60000) && gpup_rd(&d, GPUP_REG_FENCE) == 3,
	      "engine after reopening");
down:
	vf_down(&d);
}

/*
 * --bench: two VMs (processes in cgroups of their own) hammer a VF each
 * for a few seconds; each VF's engine time against its budget or its
 * fair half, and the CPU time charged to the two VMs against what the
 * host spent, as ratios.
 */
struct bench_vm {
	const char *cg;
	const char *profile;
	const char *budget;	/* NULL: the profile's default */
	bool pin;
	char uuid[40];
	pid_t pid;
	int stop;		/* write end: closed to stop the VM */
	long long t0, t1;
};

/*
 * Engine time: the engine's own account, or its thread's CPU time when it
 * shares a CPU (its slices' wall time then includes the other's turns)
 */
static long long bench_vm_time(struct bench_vm *vm)
{
	if (vm->pin)
		return task_cpu_ns(gpup_debugfs_num(vm->uuid, "engine", "thread_pid"));
	return gpup_debugfs_num(vm->uuid, "engine", "time_ns");
}

/* The host's busy time in us, from the cpu line of /proc/stat */
static long long host_busy_us(void)
{
	unsigned long long v[8] = { 0 };
	long long busy;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = 0;
	fclose(f);
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return busy * (1000000 / sysconf(_SC_CLK_TCK));
}

/* The VM: its VF's engine always has work, until told to stop */
static void bench_vm_run(struct bench_vm *vm, int ready, int stop)
{
	struct pollfd p = { .fd = stop, .events = POLLIN };
	struct gpup_dev d;

	if (!cg_enter(vm->cg) || !vf_up(&d, vm->profile))
		_exit(1);
	if (vm->budget)
		set_budget(&d, vm->budget);
	if (vm->pin)
		pin(engine(&d, "thread_pid"), 0);
	if (write(ready, d.uuid, sizeof(d.uuid)) != sizeof(d.uuid))
		_exit(1);
	while (!poll(&p, 1, 0)) {
		if (!(gpup_rd(&d, GPUP_REG_STATUS) & GPUP_STATUS_BUSY))
			hammer(&d, 100, 32 * MIB);
		poll(&p, 1, 20);
	}
	gpup_reset(&d);
	vf_down(&d);
	_exit(0);
}

static bool bench_vm_start(struct bench_vm *vm)
{
	int ready[2], stop[2];

	if (pipe(ready) || pipe(stop))
		return false;
	vm->pid = fork();
	if (vm->pid == 0) {
		close(ready[0]);
		close(stop[1]);
		bench_vm_run(vm, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	vm->stop = stop[1];
	if (vm->pid < 0 || read(ready[0], vm->uuid, sizeof(vm->uuid)) != sizeof(vm->uuid)) {
		close(ready[0]);
		return false;
	}
	close(ready[0]);
	return true;
}

static void bench_vm_stop(struct bench_vm *vm)
{
	int status;

	/* a byte, not the close: the other VM holds a copy of this pipe */
	if (write(vm->stop, "", 1) != 1)
		kill(vm->pid, SIGKILL);
	close(vm->stop);
	if (vm->pid > 0)
		waitpid(vm->pid, &status, 0);
	rmdir(vm->cg);
}

static int bench_phase(struct bench_vm *vm, const char *what, unsigned int secs)
{
	long long u0 = 0, u1 = 0, h0, h1;
	uint64_t w0, w1;
	double wall;
	int i, ok = 0;

	for (i = 0; i < 2; i++)
		ok += bench_vm_start(&vm[i]);
	if (ok < 2) {
		printf("bench: failed: cannot start the VMs of %s\n", what);
		for (i = 0; i < 2; i++)
			bench_vm_stop(&vm[i]);
		return 1;
	}
	sleep_ms(500);
	w0 = now_ns();
	h0 = host_busy_us();
	for (i = 0; i < 2; i++) {
		vm[i].t0 = bench_vm_time(&vm[i]);
		u0 += cg_num(vm[i].cg, "cpu.stat", "usage_usec");
	}
	sleep_ms(secs * 1000);
	for (i = 0; i < 2; i++) {
		vm[i].t1 = bench_vm_time(&vm[i]);
		u1 += cg_num(vm[i].cg, "cpu.stat", "usage_usec");
	}
	h1 = host_busy_us();
	w1 = now_ns();
	for (i = 0; i < 2; i++)
		bench_vm_stop(&vm[i]);

	wall = (double)(w1 - w0);
	printf("bench: %s: engine time %s %.0f ms, %s %.0f ms in %.0f ms\n", what,
	       vm[0].profile, (vm[0].t1 - vm[0].t0) / 1e6, vm[1].profile,
	       (vm[1].t1 - vm[1].t0) / 1e6, wall / 1e6);
	for (i = 0; i < 2; i++) {
		double share = (vm[i].t1 - vm[i].t0) / wall;
		double want = vm[i].budget ? atoi(vm[i].budget) / 100.0 :
			      (vm[i].profile[0] == 's' ? 0.25 : 0.5);

		if (vm[i].pin)
			want = 0.5;
		printf("bench: %s: VF %d (%s) ran its engine %.1f%% of the time", what, i + 1,
		       vm[i].profile, share * 100);
		printf(" against %.0f%% due, ratio %.2f (target 0.80-1.20)\n", want * 100,
		       share / want);
	}
	printf("bench: %s: CPU charged to the two VMs %.0f ms", what, (u1 - u0) / 1e3);
	printf(" of %.0f ms the host spent, ratio %.2f (target >= 0.90)\n", (h1 - h0) / 1e3,
	       h1 > h0 ? (double)(u1 - u0) / (h1 - h0) : 0.0);
	return 0;
}

static int bench(unsigned int secs)
{
	struct bench_vm budgets[2] = {
		{ .cg = CG_A, .profile = "small" },
		{ .cg = CG_B, .profile = "medium" },
	};
	struct bench_vm one_cpu[2] = {
		{ .cg = CG_A, .profile = "small", .budget = "100", .pin = true },
		{ .cg = CG_B, .profile = "small", .budget = "100", .pin = true },
	};

	if (!cg_setup()) {
		printf("%s: failed: no cgroup v2 with cpu and memory\n", "bench");
		return 1;
	}
	return bench_phase(budgets, "default budgets", secs) |
	       bench_phase(one_cpu, "one CPU, budget 100%", secs);
}

static const struct tap_test tests[] = {
	{ "engine_runs_in_owner_cgroup", test_engine_runs_in_owner_cgroup },
	{ "cpu_max_throttles_engine", test_cpu_max_throttles_engine },
	{ "vram_charged_to_owner", test_vram_charged_to_owner },
	{ "memory_max_halts_engine", test_memory_max_halts_engine },
	{ "budget_caps_engine", test_budget_caps_engine },
	{ "two_engines_share_a_cpu", test_two_engines_share_a_cpu },
	{ "long_loops_reschedule", test_long_loops_reschedule },
	{ "memory_decode_gates_bars", test_memory_decode_gates_bars },
	{ "bus_master_gates_engine_and_msi", test_bus_master_gates_engine_and_msi },
	{ "unmask_delivers_pending_msi", test_unmask_delivers_pending_msi },
	{ "held_msi_migrates", test_held_msi_migrates },
	{ "resets_keep_command_register", test_resets_keep_command_register },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench(argc > 2 ? atoi(argv[2]) : 5);
	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE(tests));
	have_cgroup = cg_setup();
	if (!have_cgroup)
		printf("# no cgroup v2 with cpu and memory here: %m\n");
	return tap_run("share_test", tests, ARRAY_SIZE(tests)) ? 1 : 0;
}
