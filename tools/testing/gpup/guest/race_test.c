// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device resets racing migrations, thousands of times.
 *
 * A VFIO_DEVICE_RESET may come from any thread at any moment of a stream:
 * while a writer feeds a whole stream to the target, while another thread
 * holds the state mutex in a state change, MIG_DATA_SIZE or PRECOPY_INFO,
 * while the source's stream is being read.  Whatever the timing, a target
 * must end either with exactly the source's device (the reset came first)
 * or as after power-on (the reset came during or after the stream): never
 * with part of a stream, and never with a stream that a reset cut short.
 *
 * Each iteration loads the source with a fresh pattern, races the threads
 * with the reset at a random point of the migration's measured length,
 * then checks the target bit-exact against one of the two outcomes.
 * GPUP_RACE_ITERATIONS sets the iterations of each case; a case goes on,
 * up to four times as long, until its resets have landed on both sides.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "gpup_vfio.h"
#include "tap.h"

#define PAGES		512		/* 2 MiB of VRAM in use */
#define PAGE		4096
/* the pages, their records and a medium VF's mutable state (512 KiB) */
#define STREAM_CAP	(PAGES * PAGE + 2 * 1024 * 1024)

static char uuid_a[40], uuid_b[40];
static struct gpup_dev A, B;		/* medium, medium */
static char *stream;
static unsigned int iterations = 700;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t word(uint32_t tag, unsigned int page, unsigned int i)
{
	return tag * 2654435761U ^ page << 12 ^ i;
}

/* Fresh content on @d: every page and SCRATCH2 depend on @tag */
static void load(struct gpup_dev *d, uint32_t tag)
{
	unsigned int p, i;

	for (p = 0; p < PAGES; p++) {
		uint32_t *w = (uint32_t *)(d->vram + (uint64_t)p * PAGE);

		for (i = 0; i < PAGE / 4; i++)
			w[i] = word(tag, p, i);
	}
	gpup_wr(d, GPUP_REG_SCRATCH2, tag);
}

enum outcome { SAME, POWER_ON, TORN };

static unsigned int last_same, last_zero;	/* pages of the last inspect() */

/* @d holds exactly @tag's content, or exactly nothing, or a mix */
static enum outcome inspect(struct gpup_dev *d, uint32_t tag, unsigned int *bad_page)
{
	unsigned int p, i, same = 0, zero = 0;

	for (p = 0; p < PAGES; p++) {
		const uint32_t *w = (const uint32_t *)(d->vram + (uint64_t)p * PAGE);
		bool s = true, z = true;

		for (i = 0; i < PAGE / 4 && (s || z); i++) {
			s = s && w[i] == word(tag, p, i);
			z = z && !w[i];
		}
		same += s;
		zero += z;
		if (!s && !z)
			*bad_page = p;
	}
	last_same = same;
	last_zero = zero;
	if (same == PAGES && gpup_rd(d, GPUP_REG_SCRATCH2) == tag)
		return SAME;
	if (zero == PAGES && !gpup_rd(d, GPUP_REG_SCRATCH2) && !gpup_rd(d, GPUP_REG_CTRL))
		return POWER_ON;
	return TORN;
}

/* The whole stream of @d, stopped: its length or -errno */
static long capture(struct gpup_dev *d)
{
	long len = 0;
	ssize_t n;
	int fd = -1, ret;

	/* -1: no data fd, as states but the first saving one have */
	ret = gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP);
	if (ret == -1) {
		fd = gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY);
		ret = fd;
	}
	if (ret < 0)
		return ret;
	while ((n = read(fd, stream + len, STREAM_CAP - len)) > 0)
		len += n;
	if (n < 0)
		len = -errno;
	else if (len == STREAM_CAP)
		len = -EFBIG;	/* a full buffer is not the stream's end */
	close(fd);
	ret = gpup_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING);
	return ret < -1 ? ret : len;
}

/*
 * The length of the race window, measured: random delays fall across it.
 * A reset takes a while itself (it frees the VF's VRAM): lead_ns, an
 * average of the last ones, starts it early enough that about a third
 * of the resets end before the stream begins, whatever the kernel's speed.
 */
static uint64_t window_ns, lead_ns;
static unsigned int seed = 1;

struct racer {
	struct gpup_dev *d;
	uint64_t delay_ns, start, end;
	int ret;
	pthread_t thread;
};

static void spin_until(uint64_t t)
{
	while (now_ns() < t)
		;
}

static uint64_t go_time;

/* VFIO_DEVICE_RESET at go_time + delay */
static void *reset_fn(void *arg)
{
	struct racer *r = arg;

	spin_until(go_time + r->delay_ns);
	r->start = now_ns();
	r->ret = gpup_reset(r->d);
	r->end = now_ns();
	return NULL;
}

/* Takes and drops the state mutex until told to stop */
struct poker {
	struct gpup_dev *d;
	int stop;
	int data_fd;			/* PRECOPY_INFO too, when >= 0 */
	unsigned int calls;
	pthread_t thread;
};

static void *poke_fn(void *arg)
{
	struct poker *k = arg;
	uint64_t initial, dirty;

	spin_until(go_time);
	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		gpup_mig_data_size(k->d);
		gpup_mig_get_state(k->d);
		if (__atomic_load_n(&k->data_fd, __ATOMIC_ACQUIRE) >= 0)
			gpup_mig_precopy_info(k->data_fd, &initial, &dirty);
		k->calls++;
	}
	return NULL;
}

static void poker_start(struct poker *k, struct gpup_dev *d)
{
	k->d = d;
	k->stop = 0;
	k->data_fd = -1;
	pthread_create(&k->thread, NULL, poke_fn, k);
}

static void poker_stop(struct poker *k)
{
	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	pthread_join(k->thread, NULL);
}

/*
 * The target's side of a migration, as QEMU runs it: RESUMING, the whole
 * stream in one write(), STOP, RUNNING.  With @stop_delay_ns, STOP comes
 * from another thread at that time, whether the write is done or not.
 */
struct resumer {
	struct gpup_dev *d;
	long len;
	uint64_t resuming_at;		/* RESUMING entered */
	uint64_t stop_delay_ns;		/* 0: after the write */
	uint64_t stop_at, written_at;
	ssize_t written;
	int fd, write_err, stop_ret, run_ret;
	pthread_t thread;
};

static int set_state_ret(struct gpup_dev *d, uint32_t state)
{
	int ret = gpup_mig_set_state(d, state);

	return ret == -1 ? 0 : ret;	/* -1: success with no data fd */
}

static void *stop_fn(void *arg)
{
	struct resumer *w = arg;

	spin_until(w->resuming_at + w->stop_delay_ns);
	w->stop_at = now_ns();
	w->stop_ret = set_state_ret(w->d, VFIO_DEVICE_STATE_STOP);
	return NULL;
}

static void resume(struct gpup_dev *d, struct resumer *w)
{
	w->d = d;
	w->fd = gpup_mig_set_state(d, VFIO_DEVICE_STATE_RESUMING);
	w->resuming_at = now_ns();
	if (w->stop_delay_ns)
		pthread_create(&w->thread, NULL, stop_fn, w);
	w->written = w->fd < 0 ? w->fd : write(w->fd, stream, w->len);
	w->write_err = w->written < 0 ? errno : 0;
	w->written_at = now_ns();
	if (w->stop_delay_ns)
		pthread_join(w->thread, NULL);
	else
		w->stop_ret = set_state_ret(d, VFIO_DEVICE_STATE_STOP);
	w->run_ret = set_state_ret(d, VFIO_DEVICE_STATE_RUNNING);
	if (w->fd >= 0)
		close(w->fd);
}

/* Back to RUNNING, whatever a failed iteration left */
static bool recover(struct gpup_dev *d)
{
	if (gpup_mig_get_state(d) == VFIO_DEVICE_STATE_RUNNING)
		return true;
	return !gpup_reset(d) && gpup_mig_get_state(d) == VFIO_DEVICE_STATE_RUNNING;
}

static uint64_t measure_resume(long len)
{
	struct resumer w = { .len = len };
	uint64_t t = now_ns();

	resume(&B, &w);
	return now_ns() - t;
}

static void test_reset_races_resuming(void)
{
	unsigned int it, same = 0, power_on = 0, refused = 0, bad_page = 0;
	struct resumer w;
	struct racer r;
	struct poker k;
	long len;

	for (it = 0; it < iterations || (!(same && power_on) && it < 4 * iterations); it++) {
		uint32_t tag = 0x1000 + it;
		enum outcome o;

		load(&A, tag);
		len = capture(&A);
		if (!CHECK(len > PAGES * PAGE, "capture: %ld", len))
			return;
		if (!window_ns)
			window_ns = measure_resume(len);

		memset(&w, 0, sizeof(w));
		w.len = len;
		/* half the time, STOP waits on the writer holding the state mutex */
		if (it & 1)
			w.stop_delay_ns = 1 + rand_r(&seed) % window_ns;
		r = (struct racer){ .d = &B, .delay_ns = rand_r(&seed) % (window_ns * 3 / 2) };
		go_time = now_ns() + 2000000;
		poker_start(&k, &B);
		pthread_create(&r.thread, NULL, reset_fn, &r);
		/* the reset may land before the migration begins, too */
		spin_until(go_time + lead_ns + window_ns / 2);
		resume(&B, &w);
		pthread_join(r.thread, NULL);
		poker_stop(&k);
		lead_ns = lead_ns ? (3 * lead_ns + r.end - r.start) / 4 : r.end - r.start;

		if (!CHECK(!r.ret, "reset: %s", strerror(-r.ret)))
			return;
		if (gpup_mig_get_state(&B) != VFIO_DEVICE_STATE_RUNNING) {
			/* refused (STOP before the end, or the reset cut it) */
			refused++;
			if (!CHECK(w.stop_ret || w.run_ret, "iteration %u: in state %d unasked",
				   it, gpup_mig_get_state(&B)) ||
			    !CHECK(recover(&B), "iteration %u: target stuck in state %d", it,
				   gpup_mig_get_state(&B)))
				return;
			continue;
		}
		o = inspect(&B, tag, &bad_page);
		if (!CHECK(o != TORN,
			   "iteration %u: torn target: %u pages same, %u zero, page %u mixed, SCRATCH2 %#x CTRL %#x; from RESUMING: reset %+lld..%+lld us, write %zd (%s) done %+lld us, STOP %d at %+lld us",
			   it, last_same, last_zero, bad_page, gpup_rd(&B, GPUP_REG_SCRATCH2),
			   gpup_rd(&B, GPUP_REG_CTRL),
			   ((long long)r.start - (long long)w.resuming_at) / 1000,
			   ((long long)r.end - (long long)w.resuming_at) / 1000, w.written,
			   strerror(w.write_err),
			   ((long long)w.written_at - (long long)w.resuming_at) / 1000,
			   w.stop_ret, w.stop_delay_ns ?
			   ((long long)w.stop_at - (long long)w.resuming_at) / 1000 : 0))
			return;
		/* a reset that began once the stream existed must win */
		if (!CHECK(o == POWER_ON || r.start < w.resuming_at,
			   "iteration %u: reset %llu us after RESUMING, yet the stream survived (write %zd, STOP %d)",
			   it,
			   (unsigned long long)(r.start - w.resuming_at) / 1000, w.written,
			   w.stop_ret))
			return;
		same += o == SAME;
		power_on += o == POWER_ON;
	}
	printf("# %u races: %u restored bit-exact, %u power-on, %u refused; window %llu us\n",
	       it, same, power_on, refused, (unsigned long long)window_ns / 1000);
	CHECK(same && power_on, "the races never landed on both sides");
}

/* The source's side: PRE_COPY until a temporary end, then STOP_COPY */
struct saver {
	uint64_t precopy_at;		/* PRE_COPY entered */
	long len;
	int err;			/* errno of the read that ended it */
	bool complete;
	struct poker *k;
};

static void save(struct gpup_dev *d, struct saver *s)
{
	bool stopped = false;
	ssize_t n;
	int fd;

	fd = gpup_mig_set_state(d, VFIO_DEVICE_STATE_PRE_COPY);
	s->precopy_at = now_ns();
	if (fd < 0) {
		s->err = -fd;
		return;
	}
	__atomic_store_n(&s->k->data_fd, fd, __ATOMIC_RELEASE);
	for (;;) {
		if (s->len == STREAM_CAP) {
			s->err = EFBIG;	/* a full buffer is not the stream's end */
			break;
		}
		n = read(fd, stream + s->len, STREAM_CAP - s->len);
		if (n > 0) {
			s->len += n;
			continue;
		}
		if (n == 0) {
			s->complete = stopped;
			break;
		}
		if (errno != ENOMSG || stopped) {
			s->err = errno;
			break;
		}
		n = gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY);
		if (n >= 0) {
			/* the reset came first: RUNNING -> STOP_COPY, a new stream */
			close(n);
			s->err = ENODEV;
			break;
		}
		if (n != -1) {
			s->err = -n;
			break;
		}
		stopped = true;
	}
	__atomic_store_n(&s->k->data_fd, -1, __ATOMIC_RELEASE);
	gpup_mig_set_state(d, VFIO_DEVICE_STATE_STOP);
	gpup_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING);
	close(fd);
}

static void test_reset_races_saving(void)
{
	unsigned int it, complete = 0, cut = 0, before = 0, bad_page = 0;
	uint64_t window = 0;
	struct resumer w;
	struct saver s;
	struct racer r;
	struct poker k;

	for (it = 0; it < iterations || (!(complete > 1 && cut) && it < 4 * iterations); it++) {
		uint32_t tag = 0x5000 + it;
		enum outcome o;
		uint64_t t;

		load(&A, tag);
		memset(&s, 0, sizeof(s));
		s.k = &k;
		r = (struct racer){ .d = &A, .delay_ns = window ?
				    rand_r(&seed) % (window * 5 / 4) : ~0ULL >> 2 };
		go_time = now_ns() + 2000000;
		poker_start(&k, &A);
		if (window)
			pthread_create(&r.thread, NULL, reset_fn, &r);
		spin_until(go_time + window / 8);
		t = now_ns();
		save(&A, &s);
		if (!window) {
			window = now_ns() - t;
		} else {
			pthread_join(r.thread, NULL);
			CHECK(!r.ret, "reset: %s", strerror(-r.ret));
		}
		poker_stop(&k);
		if (!CHECK(recover(&A), "iteration %u: source stuck", it))
			return;
		if (!s.complete) {
			/* a cut stream: the file said so, and never took a target */
			if (!CHECK(s.err == ENODEV, "iteration %u: read ended with %s", it,
				   strerror(s.err)))
				return;
			cut++;
			continue;
		}
		/*
		 * A complete stream is one device, whole: the source before
		 * the reset, or after it if the reset came before PRE_COPY.
		 */
		memset(&w, 0, sizeof(w));
		w.len = s.len;
		resume(&B, &w);
		if (!CHECK(w.written == s.len && !w.stop_ret && !w.run_ret,
			   "iteration %u: complete stream refused: write %zd of %ld (%s), STOP %d",
			   it, w.written, s.len, strerror(w.write_err), w.stop_ret))
			return;
		o = inspect(&B, tag, &bad_page);
		if (!CHECK(o == SAME || (o == POWER_ON && window && r.start < s.precopy_at),
			   "iteration %u: target took a torn stream (%s, page %u), reset at %+lld us from PRE_COPY",
			   it, o == TORN ? "mixed" : "power-on",
			   bad_page, ((long long)r.start - (long long)s.precopy_at) / 1000))
			return;
		before += o == POWER_ON;
		complete++;
	}
	/* PRECOPY_INFO and MIG_DATA_SIZE raced too, throughout */
	printf("# %u races: %u complete and bit-exact (%u after the reset), %u cut by it\n",
	       it, complete, before, cut);
	CHECK(complete > 1 && cut, "the races never landed on both sides");
}

static const struct tap_test tests[] = {
	{ "reset_races_resuming", test_reset_races_resuming },
	{ "reset_races_saving", test_reset_races_saving },
};

int main(void)
{
	const struct tap_vf vfs[] = { { "medium", uuid_a, &A }, { "medium", uuid_b, &B } };
	const char *env = getenv("GPUP_RACE_ITERATIONS");

	if (env)
		iterations = strtoul(env, NULL, 0);
	seed = getpid();
	stream = malloc(STREAM_CAP);
	if (!stream)
		return 1;
	return tap_main("reset races", tests, ARRAY_SIZE(tests), vfs, ARRAY_SIZE(vfs));
}
