// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-guest tests of libgpup (tools/lib/gpup): SaveImmutableGpup and
 * RestoreImmutableGpup over gpup_sim VFs through VFIO, whole streams
 * through a memfd, a /tmp file and a pipe, refusals of an incompatible
 * target and of damaged streams, and the errno -> HRESULT mapping.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "gpup_vfio.h"
#include "tap.h"
#include "libgpup.h"
#include "stream.h"

#define HEAD_MAX	(2 * (GPUP_REC_OVERHEAD + GPUP_REC_SMALL_MAX))
#define PATTERN_OFF	(1 * MIB)
#define PATTERN_LEN	(3 * MIB + 4096 + 100)
#define FILL_OFF	(40 * MIB)
#define FILL_LEN	(2 * MIB)

static char uuid_a[40], uuid_b[40], uuid_c[40];
static struct gpup_dev A, B, C;	/* medium source, medium target, small */

/* Known VRAM content: random bytes through the mmap, an engine FILL */
static void load_content(struct gpup_dev *d, uint32_t tag)
{
	unsigned int seed = tag;
	size_t i;

	gpup_reset(d);
	for (i = 0; i < PATTERN_LEN; i++)
		d->vram[PATTERN_OFF + i] = rand_r(&seed);
	gpup_ring_init(d, 0, 0x1000);
	gpup_submit(d, GPUP_CMD_FILL, tag, FILL_OFF, 0, FILL_LEN);
	gpup_submit(d, GPUP_CMD_FENCE, tag, 0, 0, 0);
	gpup_kick(d);
	gpup_wait_idle(d, 20000);
	gpup_wr(d, GPUP_REG_SCRATCH1, tag);
}

/* The target's VRAM (read through its BAR2 mmap) and registers are the source's */
static bool same_content(struct gpup_dev *a, struct gpup_dev *b)
{
	long long ca = gpup_debugfs_vram(a->uuid, "checksum");
	long long cb = gpup_debugfs_vram(b->uuid, "checksum");
	static const uint64_t untouched = 100 * MIB;

	if (!CHECK(!memcmp(a->vram + PATTERN_OFF, b->vram + PATTERN_OFF, PATTERN_LEN),
		   "pattern differs"))
		return false;
	if (!CHECK(!memcmp(a->vram + FILL_OFF, b->vram + FILL_OFF, FILL_LEN), "fill differs"))
		return false;
	if (!CHECK(!memcmp(a->vram + untouched, b->vram + untouched, 4096),
		   "an unwritten page differs"))
		return false;
	if (!CHECK(ca == cb && ca != -1, "VRAM checksum %#llx vs %#llx", ca, cb))
		return false;
	return CHECK(gpup_rd(a, GPUP_REG_SCRATCH1) == gpup_rd(b, GPUP_REG_SCRATCH1) &&
		     gpup_rd(a, GPUP_REG_FENCE) == gpup_rd(b, GPUP_REG_FENCE),
		     "registers differ");
}

/* The device runs commands: it came out of whatever happened usable */
static bool engine_runs(struct gpup_dev *d, uint32_t value)
{
	if (!CHECK(gpup_mig_get_state(d) == VFIO_DEVICE_STATE_RUNNING, "state %d",
		   gpup_mig_get_state(d)))
		return false;
	gpup_ring_init(d, 0, 0x1000);
	gpup_submit(d, GPUP_CMD_FENCE, value, 0, 0, 0);
	gpup_kick(d);
	return CHECK(!gpup_wait_idle(d, 20000) && gpup_rd(d, GPUP_REG_FENCE) == value,
		     "engine: fence %#x, status %#x", gpup_rd(d, GPUP_REG_FENCE),
		     gpup_rd(d, GPUP_REG_STATUS));
}

/* Two-call save of @d's immutable state into @buf; returns its length */
static uint64_t save_head(struct gpup_dev *d, uint8_t *buf)
{
	uint64_t len = 0;
	int ret = gpup_save_immutable(d->fd, NULL, &len);

	if (!CHECK(ret == -ENOSPC && len > 0 && len <= HEAD_MAX, "size query: %d, %llu",
		   ret, (unsigned long long)len))
		return 0;
	ret = gpup_save_immutable(d->fd, buf, &len);
	return CHECK(!ret, "fill: %d: %s", ret, gpup_last_error()) ? len : 0;
}

static void test_size_query_then_fill(void)
{
	uint8_t buf[HEAD_MAX], again[HEAD_MAX];
	uint64_t len = 0, len2 = sizeof(again);
	int ret;

	ret = gpup_save_immutable(A.fd, NULL, &len);
	if (!CHECK(ret == -ENOSPC && len > 2 * GPUP_REC_OVERHEAD && len <= HEAD_MAX,
		   "size query gave %d, %llu", ret, (unsigned long long)len))
		return;
	if (!CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING, "not RUNNING"))
		return;
	memset(buf, 0xee, sizeof(buf));
	ret = gpup_save_immutable(A.fd, buf, &len);
	if (!CHECK(!ret, "fill: %d %s", ret, gpup_last_error()))
		return;
	if (!CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING, "not RUNNING"))
		return;
	/* a larger buffer: the length written is the same */
	ret = gpup_save_immutable(A.fd, again, &len2);
	if (!CHECK(!ret && len2 == len && !memcmp(buf, again, len), "second save differs"))
		return;
	/* from STOP, through STOP_COPY: the same bytes, still STOP */
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP);
	len2 = sizeof(again);
	memset(again, 0, sizeof(again));
	ret = gpup_save_immutable(A.fd, again, &len2);
	CHECK(!ret && len2 == len && !memcmp(buf, again, len), "from STOP: %d %s", ret,
	      gpup_last_error());
	CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_STOP, "STOP not kept");
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	printf("# immutable state: %llu bytes\n", (unsigned long long)len);
}

static void test_too_small_buffer(void)
{
	uint8_t buf[HEAD_MAX];
	uint64_t need = 0, len;
	int ret;

	gpup_save_immutable(A.fd, NULL, &need);
	len = need - 1;
	memset(buf, 0x5a, sizeof(buf));
	ret = gpup_save_immutable(A.fd, buf, &len);
	if (!CHECK(ret == -ENOSPC && len == need, "gave %d, len %llu, need %llu", ret,
		   (unsigned long long)len, (unsigned long long)need))
		return;
	CHECK(buf[0] == 0x5a && buf[need - 2] == 0x5a, "a too small buffer was written");
	CHECK(gpup_hresult(ret) == GPUP_E_NOT_SUFFICIENT_BUFFER, "HRESULT %#x",
	      gpup_hresult(ret));
	CHECK(strstr(gpup_last_error(), "needs"), "reason: %s", gpup_last_error());
	CHECK(gpup_save_immutable(A.fd, buf, NULL) == -EINVAL, "NULL length accepted");
	CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING, "not RUNNING");
}

/* What the parser saw of a stream */
struct parsed {
	unsigned int records;
	uint16_t types[4];
	struct gpup_sim_immutable im;
	uint32_t im_len;
};

static int on_record(void *ctx, u16 type, const void *payload, u32 len)
{
	struct parsed *ps = ctx;

	if (ps->records < ARRAY_SIZE(ps->types))
		ps->types[ps->records] = type;
	ps->records++;
	return 0;
}

/* A chunk of device state: the immutable one is gathered */
static int on_state(void *ctx, u16 type, u64 off, u64 total, const void *data, u32 len)
{
	struct parsed *ps = ctx;

	on_record(ctx, type, data, len);
	if (type == GPUP_REC_IMMUTABLE) {
		ps->im_len = total;
		if (off < sizeof(ps->im))
			memcpy((uint8_t *)&ps->im + off, data,
			       len < sizeof(ps->im) - off ? len : sizeof(ps->im) - off);
	}
	return 0;
}

static int on_vram(void *ctx, u64 off, const void *data, u32 len)
{
	return -EIO;	/* a head carries no VRAM */
}

static const struct gpup_parser_ops parse_ops = {
	.record = on_record,
	.state = on_state,
	.vram = on_vram,
};

static bool head_is(struct gpup_dev *d, uint32_t profile)
{
	static struct gpup_parser p;
	struct parsed ps = {};
	uint8_t buf[HEAD_MAX];
	uint64_t len = save_head(d, buf);
	int ret;

	if (!len)
		return false;
	gpup_parser_init(&p, &parse_ops, &ps, d->vram_size);
	ret = gpup_parser_feed(&p, buf, len);
	if (!CHECK(!ret && ps.records == 2 && p.phase == GPUP_PARSE_HDR && !p.fill,
		   "parse: %d (%s), %u records", ret, p.error ?: "", ps.records))
		return false;
	if (!CHECK(ps.types[0] == GPUP_REC_STREAM && ps.types[1] == GPUP_REC_IMMUTABLE,
		   "records %u, %u", ps.types[0], ps.types[1]))
		return false;
	return CHECK(ps.im_len == sizeof(ps.im) &&
		     le16toh(ps.im.vendor_id) == GPUP_PCI_VENDOR_ID &&
		     le16toh(ps.im.device_id) == GPUP_PCI_DEVICE_ID &&
		     le32toh(ps.im.profile) == profile &&
		     le64toh(ps.im.vram_size) == d->vram_size &&
		     le32toh(ps.im.page_size) == GPUP_MIG_PAGE_SIZE,
		     "immutable state: %u bytes, profile %u, VRAM %llu", ps.im_len,
		     le32toh(ps.im.profile), (unsigned long long)le64toh(ps.im.vram_size));
}

static void test_immutable_parses_as_stream_head(void)
{
	if (!head_is(&A, GPUP_PROFILE_MEDIUM))
		return;
	head_is(&C, GPUP_PROFILE_SMALL);
}

/* A whole stream of @d in a memfd (rewound); returns the fd */
static int stream_to_memfd(struct gpup_dev *d, const struct gpup_save_opts *o,
			   struct gpup_save_stats *st)
{
	int fd = memfd_create("gpup-stream", MFD_CLOEXEC), ret;

	if (!CHECK(fd >= 0, "memfd: %m"))
		return -1;
	ret = gpup_save_stream(d->fd, fd, o, st);
	if (!CHECK(!ret, "save: %d: %s", ret, gpup_last_error())) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/*
 * RestoreImmutableGpup on a like target, then the rest of a stream of the
 * same source, whose head is the same bytes: bit-exact VRAM.
 */
static void test_restore_same_profile_then_stream(void)
{
	struct gpup_save_opts o = { .flags = GPUP_RUN };
	uint8_t head[HEAD_MAX], *s = MAP_FAILED;
	struct gpup_restore *r = NULL;
	uint64_t hlen;
	off_t slen;
	int fd, ret;

	load_content(&A, 0xace);
	gpup_reset(&B);
	hlen = save_head(&A, head);
	if (!hlen)
		return;
	ret = gpup_restore_immutable(B.fd, head, hlen, &r);
	if (!CHECK(!ret && r, "restore_immutable: %d: %s", ret, gpup_last_error()))
		return;
	CHECK(gpup_mig_get_state(&B) == VFIO_DEVICE_STATE_RESUMING, "B not RESUMING");
	fd = stream_to_memfd(&A, &o, NULL);
	if (fd < 0)
		goto abort;
	slen = lseek(fd, 0, SEEK_END);
	s = mmap(NULL, slen, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (!CHECK(s != MAP_FAILED && slen > (off_t)hlen, "stream of %lld bytes", (long long)slen))
		goto abort;
	if (!CHECK(!memcmp(s, head, hlen), "the stream's head is not the immutable state"))
		goto abort;
	/* the rest in uneven pieces */
	for (off_t off = hlen; off < slen && !ret; off += 99991)
		ret = gpup_restore_write(r, s + off, slen - off < 99991 ? slen - off : 99991);
	if (!CHECK(!ret, "restore_write: %d: %s", ret, gpup_last_error()))
		goto abort;
	ret = gpup_restore_finish(r, GPUP_RUN);
	r = NULL;
	if (!CHECK(!ret, "finish: %d: %s", ret, gpup_last_error()))
		goto out;
	CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING, "GPUP_RUN: A not RUNNING");
	if (!same_content(&A, &B))
		goto out;
	CHECK(gpup_rd(&B, GPUP_REG_SCRATCH1) == 0xace, "registers did not move: %#x",
	      gpup_rd(&B, GPUP_REG_SCRATCH1));
	engine_runs(&B, 0xb1);
	goto out;
abort:
	gpup_restore_abort(r);
out:
	if (s != MAP_FAILED)
		munmap(s, slen);
}

/*
 * RestoreImmutableGpup on a target of another profile: refused, the field
 * named, the target back in its state and usable.  A buffer that is not a
 * stream head is refused without touching the device at all.
 */
static void test_restore_other_profile_refused(void)
{
	uint8_t head[HEAD_MAX], junk[64];
	struct gpup_restore *r = NULL;
	uint64_t hlen, own = 0;
	int ret;

	gpup_reset(&C);
	hlen = save_head(&A, head);
	if (!hlen)
		return;
	ret = gpup_restore_immutable(C.fd, head, hlen, &r);
	printf("# refused: %s\n", gpup_last_error());
	if (!CHECK(ret == -EMEDIUMTYPE && !r, "gave %d", ret))
		return;
	if (!CHECK(strstr(gpup_last_error(), "profile") ||
		   strstr(gpup_last_error(), "vram_size"), "field not named: %s",
		   gpup_last_error()))
		return;
	CHECK(gpup_hresult(ret) == GPUP_E_INVALIDARG, "HRESULT %#x", gpup_hresult(ret));
	if (!engine_runs(&C, 0xc1))
		return;
	CHECK(gpup_save_immutable(C.fd, NULL, &own) == -ENOSPC && own, "C's own save");

	/* from STOP: refused, and STOP again */
	gpup_mig_set_state(&C, VFIO_DEVICE_STATE_STOP);
	ret = gpup_restore_immutable(C.fd, head, hlen, &r);
	CHECK(ret == -EMEDIUMTYPE && gpup_mig_get_state(&C) == VFIO_DEVICE_STATE_STOP,
	      "from STOP: %d, state %d", ret, gpup_mig_get_state(&C));
	gpup_mig_set_state(&C, VFIO_DEVICE_STATE_RUNNING);

	/* not a head: -EINVAL, and C is not even reset */
	gpup_wr(&C, GPUP_REG_SCRATCH0, 0x5eed);
	memset(junk, 0, sizeof(junk));
	ret = gpup_restore_immutable(C.fd, junk, sizeof(junk), &r);
	CHECK(ret == -EINVAL && gpup_rd(&C, GPUP_REG_SCRATCH0) == 0x5eed,
	      "junk: %d, scratch %#x", ret, gpup_rd(&C, GPUP_REG_SCRATCH0));
	ret = gpup_restore_immutable(C.fd, head, hlen - 1, &r);
	CHECK(ret == -EINVAL && gpup_rd(&C, GPUP_REG_SCRATCH0) == 0x5eed,
	      "short head: %d: %s", ret, gpup_last_error());
	CHECK(gpup_mig_get_state(&C) == VFIO_DEVICE_STATE_RUNNING, "C moved");
}

/* The stream to a memfd with pre-copy, into B from it; to a /tmp file */
static void test_stream_file_round_trip(void)
{
	struct gpup_save_opts o = { .precopy_passes = 2, .flags = GPUP_RUN };
	char path[] = "/tmp/gpup-stream-XXXXXX";
	struct gpup_save_stats st;
	int fd, ret;

	load_content(&A, 0xf11e);
	gpup_reset(&B);
	fd = stream_to_memfd(&A, &o, &st);
	if (fd < 0)
		return;
	printf("# pre-copy %llu bytes, %u passes; stop-copy %llu bytes\n",
	       (unsigned long long)st.precopy_bytes, st.precopy_passes,
	       (unsigned long long)st.stopcopy_bytes);
	CHECK(st.precopy_bytes > PATTERN_LEN && st.precopy_passes == 2 && st.stopcopy_bytes,
	      "the data did not go in pre-copy");
	CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING, "A not RUNNING");
	ret = gpup_restore_stream(B.fd, fd, GPUP_RUN);
	close(fd);
	if (!CHECK(!ret, "restore: %d: %s", ret, gpup_last_error()))
		return;
	if (!same_content(&A, &B) || !engine_runs(&B, 0xb2))
		return;

	/* from STOP, no pre-copy, a file in /tmp; both ends left STOP */
	load_content(&A, 0x7e39);
	gpup_reset(&B);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_STOP);
	fd = mkstemp(path);
	if (!CHECK(fd >= 0, "mkstemp: %m"))
		return;
	unlink(path);
	ret = gpup_save_stream(A.fd, fd, NULL, &st);
	CHECK(!ret && !st.precopy_bytes && gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_STOP,
	      "save from STOP: %d: %s", ret, gpup_last_error());
	lseek(fd, 0, SEEK_SET);
	ret = gpup_restore_stream(B.fd, fd, 0);
	close(fd);
	if (!CHECK(!ret && gpup_mig_get_state(&B) == VFIO_DEVICE_STATE_STOP,
		   "restore: %d: %s", ret, gpup_last_error()))
		return;
	same_content(&A, &B);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);
}

/* A stream through a pipe in small uneven writes: short reads everywhere */
struct feeder {
	int fd;
	const uint8_t *s;
	size_t len;
};

static void *feed_pipe(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;

	while (off < f->len) {
		size_t n = f->len - off < 1237 ? f->len - off : 1237;
		ssize_t w = write(f->fd, f->s + off, n);

		if (w <= 0)
			break;
		off += w;
	}
	close(f->fd);
	return NULL;
}

static void test_restore_from_pipe(void)
{
	struct feeder f;
	pthread_t t;
	int fd, p[2], ret;
	off_t len;
	void *s;

	load_content(&A, 0x919e);
	gpup_reset(&B);
	fd = stream_to_memfd(&A, &(struct gpup_save_opts){ .flags = GPUP_RUN }, NULL);
	if (fd < 0)
		return;
	len = lseek(fd, 0, SEEK_END);
	s = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (!CHECK(s != MAP_FAILED && !pipe(p), "mmap or pipe: %m"))
		return;
	f = (struct feeder){ p[1], s, len };
	pthread_create(&t, NULL, feed_pipe, &f);
	ret = gpup_restore_stream(B.fd, p[0], GPUP_RUN);
	pthread_join(t, NULL);
	close(p[0]);
	munmap(s, len);
	if (!CHECK(!ret, "restore: %d: %s", ret, gpup_last_error()))
		return;
	same_content(&A, &B);
}

/* Restore @s (@len bytes) into B from a memfd; returns the result */
static int restore_bytes(const uint8_t *s, size_t len)
{
	int fd = memfd_create("gpup-bad", MFD_CLOEXEC), ret;

	if (fd < 0 || write(fd, s, len) != (ssize_t)len)
		return -EBADF;
	lseek(fd, 0, SEEK_SET);
	ret = gpup_restore_stream(B.fd, fd, GPUP_RUN);
	close(fd);
	return ret;
}

/* @what refused with -EINVAL and a reason holding @why; B untouched after */
static bool refused(const uint8_t *s, size_t len, const char *what, const char *why)
{
	int ret;

	ret = restore_bytes(s, len);
	printf("# %s: %s\n", what, gpup_last_error());
	if (!CHECK(ret == -EINVAL, "%s: gave %d", what, ret))
		return false;
	if (!CHECK(strstr(gpup_last_error(), why), "%s: reason \"%s\" lacks \"%s\"", what,
		   gpup_last_error(), why))
		return false;
	return engine_runs(&B, 0xbad);
}

static void test_damaged_stream_refused(void)
{
	uint8_t *s;
	off_t len;
	int fd;

	load_content(&A, 0xda);
	fd = stream_to_memfd(&A, &(struct gpup_save_opts){ .flags = GPUP_RUN }, NULL);
	if (fd < 0)
		return;
	len = lseek(fd, 0, SEEK_END);
	s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (!CHECK(s != MAP_FAILED, "mmap: %m"))
		return;
	if (!refused(s, len - 100, "cut before its end", "truncated"))
		goto out;
	if (!refused(s, len / 2, "cut in half", "truncated"))
		goto out;
	if (!refused(s, 30, "cut inside its head", "truncated"))
		goto out;
	if (!refused(s, 0, "empty", "truncated"))
		goto out;
	s[len / 2] ^= 0x10;
	if (!refused(s, len, "a flipped bit", "CRC"))
		goto out;
	s[len / 2] ^= 0x10;
	s[0] ^= 1;
	if (!refused(s, len, "not a gpup stream", "not a gpup stream"))
		goto out;
	s[0] ^= 1;
	/* and the same bytes undamaged go through */
	if (CHECK(!restore_bytes(s, len), "intact: %s", gpup_last_error()))
		same_content(&A, &B);
out:
	munmap(s, len);
}

/* A session ended early: finish refuses it, abort resets; busy states */
static void test_session_end_and_busy(void)
{
	uint8_t head[HEAD_MAX];
	struct gpup_restore *r;
	uint64_t hlen, len = sizeof(head);
	int ret, sfd;

	hlen = save_head(&A, head);
	if (!hlen)
		return;
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_STOP);
	ret = gpup_restore_immutable(B.fd, head, hlen, &r);
	if (!CHECK(!ret, "restore_immutable: %s", gpup_last_error()))
		return;
	ret = gpup_restore_finish(r, GPUP_RUN);
	CHECK(ret == -EINVAL && strstr(gpup_last_error(), "truncated") &&
	      gpup_mig_get_state(&B) == VFIO_DEVICE_STATE_STOP,
	      "finish of a head alone: %d: %s, state %d", ret, gpup_last_error(),
	      gpup_mig_get_state(&B));
	gpup_mig_set_state(&B, VFIO_DEVICE_STATE_RUNNING);

	ret = gpup_restore_immutable(B.fd, head, hlen, &r);
	if (!CHECK(!ret, "restore_immutable: %s", gpup_last_error()))
		return;
	gpup_restore_abort(r);
	if (!engine_runs(&B, 0xab0))
		return;

	/* a migration in progress is not disturbed */
	sfd = gpup_mig_set_state(&A, VFIO_DEVICE_STATE_PRE_COPY);
	ret = gpup_save_immutable(A.fd, head, &len);
	CHECK(ret == -EBUSY && gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_PRE_COPY,
	      "save in PRE_COPY: %d", ret);
	ret = gpup_save_stream(A.fd, sfd, NULL, NULL);
	CHECK(ret == -EBUSY, "stream in PRE_COPY: %d", ret);
	close(sfd);
	gpup_mig_set_state(&A, VFIO_DEVICE_STATE_RUNNING);
}

static void test_errno_to_hresult(void)
{
	static const struct { int err; uint32_t hr; } map[] = {
		{ 0, 0x00000000 }, { -EINVAL, 0x80070057 }, { EINVAL, 0x80070057 },
		{ -EMEDIUMTYPE, 0x80070057 }, { -ENOSPC, 0x8007007a },
		{ -ENOMEM, 0x8007000e }, { -EFAULT, 0x80004003 }, { -EBADF, 0x80070006 },
		{ -EACCES, 0x80070005 }, { -EBUSY, 0x800700aa }, { -ENODEV, 0x80070651 },
		{ -ENOTTY, 0x80004001 }, { -EIO, 0x80004005 }, { -EPROTO, 0x80004005 },
		{ -9999, 0x80004005 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		uint32_t hr = gpup_hresult(map[i].err);
		const char *s = gpup_strerror(map[i].err);

		CHECK(hr == map[i].hr, "errno %d: %#x, want %#x", map[i].err, hr, map[i].hr);
		CHECK(s && *s, "no text for errno %d", map[i].err);
	}
	CHECK(strcmp(gpup_strerror(-EMEDIUMTYPE), gpup_strerror(-EINVAL)), "same text");
	CHECK(!strcmp(gpup_strerror(ENOSPC), gpup_strerror(-ENOSPC)), "sign matters");
}

/*
 * Where the kernel injects faults: SaveImmutableGpup and
 * RestoreImmutableGpup with each of their kernel allocations failing in
 * turn answer E_OUTOFMEMORY and leave the VF RUNNING, as it was
 */
static unsigned int walk_save(void)
{
	uint8_t head[HEAD_MAX];
	unsigned int n, points = 0;
	uint64_t len;
	bool fired;
	int ret;

	for (n = 1; n < 1000; n++) {
		len = sizeof(head);
		gpup_fail_nth_arm(n);
		ret = gpup_save_immutable(A.fd, head, &len);
		fired = gpup_fail_nth_disarm();
		if (!fired)
			return CHECK(!ret, "save: %d", ret) ? points : 0;
		if (!CHECK(!ret || (ret == -ENOMEM && gpup_hresult(ret) == GPUP_E_OUTOFMEMORY),
			   "save, allocation %u: %d (%s), HRESULT %#x", n, ret,
			   gpup_last_error(), gpup_hresult(ret)) ||
		    !CHECK(gpup_mig_get_state(&A) == VFIO_DEVICE_STATE_RUNNING,
			   "save, allocation %u: left in state %d", n, gpup_mig_get_state(&A)))
			return 0;
		points += !!ret;
	}
	return 0;
}

static unsigned int walk_restore(const uint8_t *head, uint64_t len)
{
	unsigned int n, points = 0;
	struct gpup_restore *r;
	bool fired;
	int ret;

	for (n = 1; n < 1000; n++) {
		gpup_fail_nth_arm(n);
		ret = gpup_restore_immutable(B.fd, head, len, &r);
		fired = gpup_fail_nth_disarm();
		if (!ret)
			gpup_restore_abort(r);
		if (!fired)
			return CHECK(!ret, "restore: %d", ret) ? points : 0;
		if (!CHECK(!ret || (ret == -ENOMEM && gpup_hresult(ret) == GPUP_E_OUTOFMEMORY),
			   "restore, allocation %u: %d (%s), HRESULT %#x", n, ret,
			   gpup_last_error(), gpup_hresult(ret)) ||
		    !CHECK(gpup_mig_get_state(&B) == VFIO_DEVICE_STATE_RUNNING,
			   "restore, allocation %u: left in state %d", n, gpup_mig_get_state(&B)))
			return 0;
		points += !!ret;
	}
	return 0;
}

static void test_out_of_memory(void)
{
	uint8_t head[HEAD_MAX];
	unsigned int saves, restores;
	uint64_t len;

	if (gpup_fail_nth_setup()) {
		printf("# no fault injection in this kernel: nothing to walk\n");
		return;
	}
	saves = walk_save();
	len = save_head(&A, head);
	restores = len ? walk_restore(head, len) : 0;
	if (CHECK(saves && restores, "no failure point walked: %u, %u", saves, restores))
		printf("# E_OUTOFMEMORY at each of %u points of save, %u of restore\n",
		       saves, restores);
}

static const struct tap_test tests[] = {
	{ "size_query_then_fill", test_size_query_then_fill },
	{ "too_small_buffer", test_too_small_buffer },
	{ "immutable_parses_as_stream_head", test_immutable_parses_as_stream_head },
	{ "restore_same_profile_then_stream", test_restore_same_profile_then_stream },
	{ "restore_other_profile_refused", test_restore_other_profile_refused },
	{ "stream_file_round_trip", test_stream_file_round_trip },
	{ "restore_from_pipe", test_restore_from_pipe },
	{ "damaged_stream_refused", test_damaged_stream_refused },
	{ "session_end_and_busy", test_session_end_and_busy },
	{ "errno_to_hresult", test_errno_to_hresult },
	{ "out_of_memory", test_out_of_memory },
};

int main(void)
{
	const struct tap_vf vfs[] = {
		{ "medium", uuid_a, &A }, { "medium", uuid_b, &B }, { "small", uuid_c, &C },
	};

	return tap_main("libgpup", tests, ARRAY_SIZE(tests), vfs, ARRAY_SIZE(vfs));
}
