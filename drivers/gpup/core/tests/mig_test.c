// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the migration core over a fake backend: the 8x8 state
 * transition matrix, saving and resuming streams end to end, PRECOPY_INFO
 * arithmetic, compatibility refusal, resets, and the per-stream figures
 * management reports.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "../gpup_nl.h"

#define NPAGES		64
#define FAKE_VRAM	(NPAGES * GPUP_MIG_PAGE_SIZE)

/*
 * A second backend, written against the ops' contract alone, with device
 * state shaped nothing like gpup_sim's: an immutable state of two chunks
 * whose profile sits in the second, and multi-megabyte mutable state
 * (registers, then context images) that is not a whole number of chunks.
 */
#define FAKE_MAGIC		0x4b414546U	/* "FAKE" */
#define FAKE_IM_LEN		6000
#define FAKE_IM_PROFILE		5000		/* offset of the profile */
#define FAKE_MUT_LEN		(3 * SZ_1M + 123)
/* Room for a whole stream: VRAM, both states and their records */
#define STREAM_CAP		(FAKE_VRAM + 2 * FAKE_MUT_LEN)

struct fake {
	struct vfio_device vdev;
	struct gpup_mig mig;
	u8 vram[FAKE_VRAM];
	DECLARE_BITMAP(written, NPAGES);
	DECLARE_BITMAP(dirty, NPAGES);
	u32 profile;		/* in the immutable state */
	u32 regs[4];		/* the mutable state's first bytes */
	u8 *ctx;		/* and the rest: FAKE_MUT_LEN - sizeof(regs) */
	u32 staged[4];		/* a target's regs until the last chunk */
	u64 im_next, mut_next;	/* a target's next chunk offsets */
	bool quiesced;
	unsigned int vram_writes;
	int prepare_err;	/* what prepare() answers */
	unsigned int ends;	/* end() calls */
};

static struct fake *to_fake(struct gpup_mig *mig)
{
	return container_of(mig, struct fake, mig);
}

static int fake_prepare(struct gpup_mig *mig, bool source)
{
	struct fake *f = to_fake(mig);

	f->im_next = 0;
	f->mut_next = 0;
	return f->prepare_err;
}

static void fake_end(struct gpup_mig *mig)
{
	to_fake(mig)->ends++;
}

/* The immutable state, byte @i: a manifest with the profile inside */
static u8 fake_im_byte(struct fake *f, u64 i)
{
	__le32 magic = cpu_to_le32(FAKE_MAGIC), profile = cpu_to_le32(f->profile);

	if (i < sizeof(magic))
		return ((u8 *)&magic)[i];
	if (i >= FAKE_IM_PROFILE && i < FAKE_IM_PROFILE + sizeof(profile))
		return ((u8 *)&profile)[i - FAKE_IM_PROFILE];
	return i * 13;
}

static int fake_save_im(struct gpup_mig *mig, u64 off, void *buf, size_t *len)
{
	u8 *b = buf;
	size_t i;

	if (!buf) {
		*len = FAKE_IM_LEN;
		return 0;
	}
	if (off > FAKE_IM_LEN || *len > FAKE_IM_LEN - off)
		return -EIO;	/* the core must never ask for this */
	for (i = 0; i < *len; i++)
		b[i] = fake_im_byte(to_fake(mig), off + i);
	return 0;
}

static int fake_refuse(struct gpup_mig_why *why, const char *field, const char *msg)
{
	strscpy(why->field, field);
	strscpy(why->msg, msg);
	return -EINVAL;
}

static int fake_restore_im(struct gpup_mig *mig, const struct gpup_mig_chunk *c,
			   struct gpup_mig_why *why)
{
	struct fake *f = to_fake(mig);
	const u8 *b = c->data;
	size_t i;

	if (c->off != f->im_next || c->len > c->total - c->off)
		return -EIO;	/* the core must never hand these over */
	if (c->total != FAKE_IM_LEN)
		return fake_refuse(why, "", "immutable state of another size");
	for (i = 0; i < c->len; i++) {
		u64 at = c->off + i;

		if (b[i] == fake_im_byte(f, at))
			continue;
		if (at >= FAKE_IM_PROFILE && at < FAKE_IM_PROFILE + sizeof(u32))
			return fake_refuse(why, "profile", "profile differs");
		return fake_refuse(why, "manifest", "firmware manifest differs");
	}
	f->im_next += c->len;
	return 0;
}

static int fake_save_mut(struct gpup_mig *mig, u64 off, void *buf, size_t *len)
{
	struct fake *f = to_fake(mig);
	size_t n, done = 0;

	if (!buf) {
		*len = FAKE_MUT_LEN;
		return 0;
	}
	/* the bytes only while stopped, and only those that exist */
	if (!f->quiesced || off > FAKE_MUT_LEN || *len > FAKE_MUT_LEN - off)
		return -EIO;
	if (off < sizeof(f->regs)) {
		n = min_t(size_t, *len, sizeof(f->regs) - off);
		memcpy(buf, (u8 *)f->regs + off, n);
		done = n;
	}
	memcpy(buf + done, f->ctx + off + done - sizeof(f->regs), *len - done);
	return 0;
}

/* Registers staged until the last chunk; context bytes straight in */
static int fake_restore_mut(struct gpup_mig *mig, const struct gpup_mig_chunk *c,
			    struct gpup_mig_why *why)
{
	struct fake *f = to_fake(mig);
	size_t n, done = 0;

	if (c->off != f->mut_next || c->len > c->total - c->off)
		return -EIO;
	if (c->total != FAKE_MUT_LEN)
		return fake_refuse(why, "", "mutable state of another size");
	if (c->off < sizeof(f->staged)) {
		n = min_t(size_t, c->len, sizeof(f->staged) - c->off);
		memcpy((u8 *)f->staged + c->off, c->data, n);
		done = n;
	}
	memcpy(f->ctx + c->off + done - sizeof(f->regs), c->data + done, c->len - done);
	f->mut_next += c->len;
	if (f->mut_next == c->total)
		memcpy(f->regs, f->staged, sizeof(f->regs));
	return 0;
}

static void fake_dirty_start(struct gpup_mig *mig)
{
	bitmap_zero(to_fake(mig)->dirty, NPAGES);
}

static unsigned long fake_dirty_query(struct gpup_mig *mig, unsigned long *bitmap)
{
	struct fake *f = to_fake(mig);

	bitmap_copy(bitmap, f->dirty, NPAGES);
	bitmap_zero(f->dirty, NPAGES);
	return bitmap_weight(bitmap, NPAGES);
}

static unsigned long fake_dirty_count(struct gpup_mig *mig)
{
	return bitmap_weight(to_fake(mig)->dirty, NPAGES);
}

static unsigned long fake_populated(struct gpup_mig *mig, unsigned long *bitmap)
{
	bitmap_copy(bitmap, to_fake(mig)->written, NPAGES);
	return bitmap_weight(bitmap, NPAGES);
}

static int fake_vram_read(struct gpup_mig *mig, u64 off, void *buf, size_t len)
{
	memcpy(buf, to_fake(mig)->vram + off, len);
	return 0;
}

static int fake_vram_write(struct gpup_mig *mig, u64 off, const void *buf, size_t len)
{
	struct fake *f = to_fake(mig);

	if (off > FAKE_VRAM || len > FAKE_VRAM - off)
		return -EIO;	/* the core must never ask for this */
	memcpy(f->vram + off, buf, len);
	f->vram_writes++;
	return 0;
}

static void fake_quiesce(struct gpup_mig *mig)
{
	to_fake(mig)->quiesced = true;
}

static void fake_unquiesce(struct gpup_mig *mig)
{
	to_fake(mig)->quiesced = false;
}

static const struct gpup_mig_ops fake_ops = {
	.prepare = fake_prepare,
	.end = fake_end,
	.save_immutable = fake_save_im,
	.restore_immutable = fake_restore_im,
	.save_mutable = fake_save_mut,
	.restore_mutable = fake_restore_mut,
	.dirty_start = fake_dirty_start,
	.dirty_query = fake_dirty_query,
	.dirty_count = fake_dirty_count,
	.populated = fake_populated,
	.vram_read = fake_vram_read,
	.vram_write = fake_vram_write,
	.quiesce = fake_quiesce,
	.unquiesce = fake_unquiesce,
};

KUNIT_DEFINE_ACTION_WRAPPER(kvfree_action, kvfree, const void *);

/* A zeroed buffer of any size, freed with the test */
static void *big_zalloc(struct kunit *test, size_t size)
{
	void *p = kvzalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kvfree_action, p), 0);
	return p;
}

/* The context images of a source: a pattern of @seed */
static void fake_fill_ctx(struct fake *f, u32 seed)
{
	size_t i;

	for (i = 0; i < FAKE_MUT_LEN - sizeof(f->regs); i++)
		f->ctx[i] = seed + i * 31 + (i >> 12);
}

/* A guest store: data and the dirty bit, as the backend would record it */
static void fake_store(struct fake *f, unsigned int page, u8 val)
{
	memset(f->vram + page * GPUP_MIG_PAGE_SIZE, val, 64);
	set_bit(page, f->written);
	set_bit(page, f->dirty);
}

static struct fake *new_fake(struct kunit *test, u32 profile)
{
	struct fake *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	char *name = kunit_kzalloc(test, 32, GFP_KERNEL);
	static atomic_t seq;
	struct device *dev;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_NOT_NULL(test, name);
	snprintf(name, 32, "gpup-fake-%d", atomic_inc_return(&seq));
	dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	f->vdev.dev = dev;
	f->profile = profile;
	f->ctx = big_zalloc(test, FAKE_MUT_LEN - sizeof(f->regs));
	KUNIT_ASSERT_EQ(test, gpup_mig_init(&f->mig, &f->vdev, &fake_ops, FAKE_VRAM), 0);
	gpup_mig_open(&f->mig);
	return f;
}

static void put_res(struct file *res)
{
	if (!IS_ERR_OR_NULL(res))
		fput(res);
}

#define S(x)	VFIO_DEVICE_STATE_##x

static ssize_t drain(struct file *filp, u8 *buf, size_t *len, size_t cap);

/* A complete stream of a fake with @profile into @f's resuming file */
static void feed_complete_stream(struct kunit *test, struct file *df, u32 profile)
{
	struct fake *src = new_fake(test, profile);
	size_t cap = STREAM_CAP, len = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf;
	loff_t pos = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fake_store(src, 5, 0x55);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&src->mig, S(STOP)));
	sf = gpup_mig_set_state(&src->mig, S(STOP_COPY));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	drain(sf, buf, &len, cap);
	KUNIT_ASSERT_EQ(test, kernel_write(df, buf, len, &pos), len);
	fput(sf);
	gpup_mig_close(&src->mig);
}

/*
 * Reach @state from RUNNING.  RESUMING gets a complete stream, so that
 * leaving it is legal; ERROR comes from leaving RESUMING without one.
 */
static void reach(struct kunit *test, struct fake *f, enum vfio_device_mig_state state)
{
	struct file *res;

	if (state == S(ERROR)) {
		put_res(gpup_mig_set_state(&f->mig, S(RESUMING)));
		KUNIT_ASSERT_EQ(test, PTR_ERR(gpup_mig_set_state(&f->mig, S(STOP))), -EINVAL);
	} else {
		res = gpup_mig_set_state(&f->mig, state);
		KUNIT_ASSERT_FALSE(test, IS_ERR(res));
		if (state == S(RESUMING))
			feed_complete_stream(test, res, f->profile);
		put_res(res);
	}
	KUNIT_ASSERT_EQ(test, gpup_mig_get_state(&f->mig), state);
}

struct arc {
	enum vfio_device_mig_state from, to;
};

/* Every arc of the 8x8 matrix, states by their uAPI numbers */
static struct arc arcs[64];

static int arcs_init(struct kunit_suite *suite)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(arcs); i++) {
		arcs[i].from = i / 8;
		arcs[i].to = i % 8;
	}
	return 0;
}

static void arc_desc(struct arc *a, char *desc)
{
	static const char *const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
		"PRE_COPY", "PRE_COPY_P2P",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s->%s", names[a->from], names[a->to]);
}

/* arc_gen_params(), with the generator's arguments of the running kernel */
KUNIT_ARRAY_PARAM(arc, arcs, arc_desc);

/* Legal per the VFIO uAPI: anything reachable, except out of ERROR, into ERROR,
 * and from STOP_COPY into the pre-copy states.
 */
static bool arc_legal(const struct arc *a)
{
	if (a->from == a->to)
		return true;
	if (a->from == S(ERROR) || a->to == S(ERROR))
		return false;
	return !(a->from == S(STOP_COPY) &&
		 (a->to == S(PRE_COPY) || a->to == S(PRE_COPY_P2P)));
}

static bool runs_engine(enum vfio_device_mig_state s)
{
	return s == S(RUNNING) || s == S(PRE_COPY);
}

static void mig_transition_matrix(struct kunit *test)
{
	const struct arc *a = test->param_value;
	struct fake *f = new_fake(test, 1);
	struct file *res;

	reach(test, f, a->from);
	res = gpup_mig_set_state(&f->mig, a->to);
	if (arc_legal(a)) {
		KUNIT_EXPECT_FALSE(test, IS_ERR(res));
		KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), a->to);
		/* a data file comes out exactly when a stream starts */
		KUNIT_EXPECT_EQ(test, !IS_ERR_OR_NULL(res),
				a->from != a->to &&
				(a->to == S(RESUMING) ||
				 (a->to == S(STOP_COPY) && a->from != S(PRE_COPY) &&
				  a->from != S(PRE_COPY_P2P)) ||
				 ((a->to == S(PRE_COPY) || a->to == S(PRE_COPY_P2P)) &&
				  a->from != S(PRE_COPY) && a->from != S(PRE_COPY_P2P))));
		KUNIT_EXPECT_EQ(test, f->quiesced, !runs_engine(a->to));
	} else {
		KUNIT_EXPECT_EQ(test, PTR_ERR(res), -EINVAL);
		KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), a->from);
	}
	put_res(IS_ERR(res) ? NULL : res);
	gpup_mig_close(&f->mig);
}

/* Read the saving file until -ENOMSG or EOF; returns bytes, appends to buf */
static ssize_t drain(struct file *filp, u8 *buf, size_t *len, size_t cap)
{
	ssize_t n, total = 0;
	loff_t pos = 0;

	for (;;) {
		n = kernel_read(filp, buf + *len, min_t(size_t, cap - *len, 1000), &pos);
		if (n <= 0)
			return n == -ENOMSG || !n ? total : n;
		*len += n;
		total += n;
	}
}

/*
 * Write @len bytes of stream in pieces of sizes that cut records anywhere:
 * one byte, a few, across a chunk, more than a page.  Returns what was
 * taken, or the first error.
 */
static ssize_t write_pieces(struct file *df, const u8 *buf, size_t len)
{
	static const size_t sizes[] = { 1, 7, 4093, 65537, 12, 4096 };
	size_t done = 0, i = 0;
	loff_t pos = 0;
	ssize_t n;

	while (done < len) {
		size_t piece = min(sizes[i++ % ARRAY_SIZE(sizes)], len - done);

		n = kernel_write(df, buf + done, piece, &pos);
		if (n <= 0)
			return n ?: -EIO;
		done += n;
	}
	return done;
}

static void mig_round_trip_with_precopy(struct kunit *test)
{
	struct fake *src = new_fake(test, 7), *dst = new_fake(test, 7);
	size_t cap = STREAM_CAP, len = 0, sent = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf, *df;
	u64 initial, dirty, stop_size, first;
	loff_t pos = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fake_store(src, 1, 0x11);
	fake_store(src, 2, 0x22);
	fake_store(src, 40, 0x40);
	src->regs[2] = 0xfeed;
	fake_fill_ctx(src, 0xc7);

	sf = gpup_mig_set_state(&src->mig, S(PRE_COPY));
	df = gpup_mig_set_state(&dst->mig, S(RESUMING));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(df));

	/*
	 * initial bytes: the stream record, the immutable state's two chunks,
	 * round 0 and a VRAM record for each run of populated pages (1-2,
	 * 40), falling as they are read and ending with the first pass
	 */
	KUNIT_ASSERT_EQ(test, gpup_mig_precopy_info(sf->private_data, &initial, &dirty), 0);
	first = GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_stream) +
		2 * (GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_state)) + FAKE_IM_LEN +
		GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_round) +
		2 * (GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_vram)) + 3 * GPUP_MIG_PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, initial, first);
	KUNIT_EXPECT_EQ(test, dirty, 0);
	KUNIT_ASSERT_EQ(test, kernel_read(sf, buf, 5, &pos), 5);
	len = 5;
	KUNIT_ASSERT_EQ(test, gpup_mig_precopy_info(sf->private_data, &initial, &dirty), 0);
	KUNIT_EXPECT_EQ(test, initial, first - 5);
	KUNIT_ASSERT_EQ(test, kernel_read(sf, buf + len, first - 6, &pos), first - 6);
	len = first - 1;
	KUNIT_ASSERT_EQ(test, gpup_mig_precopy_info(sf->private_data, &initial, &dirty), 0);
	KUNIT_EXPECT_EQ(test, initial, 1);
	KUNIT_EXPECT_EQ(test, dirty, 0);

	/* the last byte of the first pass; nothing was dirtied since */
	KUNIT_EXPECT_EQ(test, drain(sf, buf, &len, cap), 1);
	KUNIT_ASSERT_EQ(test, gpup_mig_precopy_info(sf->private_data, &initial, &dirty), 0);
	KUNIT_EXPECT_EQ(test, initial + dirty, 0);

	/* the immutable state and the first pass reach the target in pre-copy */
	KUNIT_ASSERT_EQ(test, write_pieces(df, buf, len), len);
	KUNIT_EXPECT_EQ(test, dst->im_next, FAKE_IM_LEN);
	sent = len;
	KUNIT_EXPECT_EQ(test, memcmp(dst->vram, src->vram, FAKE_VRAM), 0);

	/* the guest dirties a page: a new round */
	fake_store(src, 2, 0x23);
	KUNIT_ASSERT_EQ(test, gpup_mig_precopy_info(sf->private_data, &initial, &dirty), 0);
	KUNIT_EXPECT_GE(test, dirty, (u64)GPUP_MIG_PAGE_SIZE);
	drain(sf, buf, &len, cap);

	/*
	 * stop: P2P quiesces, STOP_COPY sends the rest and ends for good.
	 * What the stream still carries is exactly the data size reported.
	 */
	KUNIT_EXPECT_NULL(test, gpup_mig_set_state(&src->mig, S(STOP_COPY)));
	KUNIT_EXPECT_TRUE(test, src->quiesced);
	fake_store(src, 50, 0x50);	/* the last store before the stop */
	stop_size = gpup_mig_data_size(&src->mig);
	KUNIT_EXPECT_EQ(test, (u64)drain(sf, buf, &len, cap), stop_size);
	KUNIT_EXPECT_EQ(test, kernel_read(sf, buf + len, 100, &pos), 0);
	KUNIT_ASSERT_EQ(test, write_pieces(df, buf + sent, len - sent), len - sent);

	KUNIT_EXPECT_NULL(test, gpup_mig_set_state(&dst->mig, S(STOP)));
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&dst->mig), S(STOP));
	KUNIT_EXPECT_EQ(test, memcmp(dst->vram, src->vram, FAKE_VRAM), 0);
	KUNIT_EXPECT_EQ(test, dst->regs[2], 0xfeed);
	KUNIT_EXPECT_EQ(test, dst->mut_next, FAKE_MUT_LEN);
	KUNIT_EXPECT_EQ(test, memcmp(dst->ctx, src->ctx, FAKE_MUT_LEN - sizeof(src->regs)), 0);
	KUNIT_EXPECT_GE(test, src->mig.stats.rounds, 2);
	fput(sf);
	fput(df);
	gpup_mig_close(&src->mig);
	gpup_mig_close(&dst->mig);
}

/* @src's whole stream from STOP_COPY into @buf, @dst RESUMING for it */
static void stop_copy_stream(struct kunit *test, struct fake *src, struct fake *dst,
			     struct file **sf, struct file **df, u8 *buf, size_t *len,
			     size_t cap)
{
	KUNIT_EXPECT_NULL(test, gpup_mig_set_state(&src->mig, S(STOP)));
	*sf = gpup_mig_set_state(&src->mig, S(STOP_COPY));
	*df = gpup_mig_set_state(&dst->mig, S(RESUMING));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(*sf));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(*df));
	drain(*sf, buf, len, cap);
}

static void mig_incompatible_refused_before_vram(struct kunit *test)
{
	struct fake *src = new_fake(test, 7), *dst = new_fake(test, 8);
	size_t cap = STREAM_CAP, len = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf, *df, *res;
	loff_t pos = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fake_store(src, 3, 0x33);
	stop_copy_stream(test, src, dst, &sf, &df, buf, &len, cap);
	KUNIT_EXPECT_EQ(test, kernel_write(df, buf, len, &pos), -EINVAL);
	KUNIT_EXPECT_EQ(test, dst->vram_writes, 0);
	KUNIT_EXPECT_NOT_NULL(test, strstr(dst->mig.last_error, "profile"));
	KUNIT_EXPECT_STREQ(test, dst->mig.error_field, "profile");
	/* RESUMING -> STOP refuses, the device is in ERROR until reset */
	res = gpup_mig_set_state(&dst->mig, S(STOP));
	KUNIT_EXPECT_EQ(test, PTR_ERR(res), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&dst->mig), S(ERROR));
	KUNIT_EXPECT_EQ(test, PTR_ERR(gpup_mig_set_state(&dst->mig, S(RUNNING))), -EINVAL);
	gpup_mig_reset_prepare(&dst->mig);
	gpup_mig_reset_done(&dst->mig);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&dst->mig), S(RUNNING));
	/* the old file is dead after the reset */
	KUNIT_EXPECT_EQ(test, kernel_write(df, buf, 1, &pos), -ENODEV);
	fput(sf);
	fput(df);
	gpup_mig_close(&src->mig);
	gpup_mig_close(&dst->mig);
}

/*
 * A source whose mutable state the target cannot take: every chunk says
 * another total (re-sealed, so the stream itself is sound).  The target
 * refuses at the first chunk, names it, and never goes back to RUNNING
 * with half a state.
 */
static void mig_mutable_state_refused(struct kunit *test)
{
	struct fake *src = new_fake(test, 7), *dst = new_fake(test, 7);
	size_t cap = STREAM_CAP, len = 0, off, rlen, chunks = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf, *df;
	loff_t pos = 0;

	stop_copy_stream(test, src, dst, &sf, &df, buf, &len, cap);
	for (off = 0; off < len; off += GPUP_REC_OVERHEAD + rlen) {
		struct gpup_rec_hdr *h = (void *)(buf + off);
		u8 *payload = buf + off + sizeof(*h);

		rlen = le32_to_cpu(h->length);
		if (le16_to_cpu(h->type) != GPUP_REC_MUTABLE)
			continue;
		put_unaligned_le64(FAKE_MUT_LEN + 1, payload + 8);
		put_unaligned_le32(~gpup_stream_crc(GPUP_CRC_SEED, buf + off,
						    sizeof(*h) + rlen),
				   payload + rlen);
		chunks++;
	}
	KUNIT_EXPECT_EQ(test, chunks, DIV_ROUND_UP(FAKE_MUT_LEN, GPUP_REC_STATE_CHUNK_MAX));
	KUNIT_EXPECT_EQ(test, kernel_write(df, buf, len, &pos), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(dst->mig.last_error, "mutable state refused"));
	KUNIT_EXPECT_EQ(test, dst->mut_next, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(gpup_mig_set_state(&dst->mig, S(STOP))), -EINVAL);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&dst->mig), S(ERROR));
	fput(sf);
	fput(df);
	gpup_mig_close(&src->mig);
	gpup_mig_close(&dst->mig);
}

/* Read the whole rest of the stream: its bytes must be what was reported */
static void expect_data_size_exact(struct kunit *test, struct fake *f, struct file *sf,
				   u8 *buf, size_t cap)
{
	u64 size = gpup_mig_data_size(&f->mig);
	size_t len = 0;

	KUNIT_EXPECT_EQ(test, (u64)drain(sf, buf, &len, cap), size);
}

/*
 * MIG_DATA_SIZE in STOP_COPY is exactly what read() still returns: a
 * stream stopped from the start (round 0 and its pages, both states), and
 * one whose pre-copy sent everything before the stop (the tail alone).
 */
static void mig_data_size_is_exact(struct kunit *test)
{
	struct fake *f = new_fake(test, 3);
	size_t cap = STREAM_CAP, len = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf;

	fake_store(f, 4, 0x44);
	fake_store(f, 9, 0x99);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP)));
	sf = gpup_mig_set_state(&f->mig, S(STOP_COPY));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	expect_data_size_exact(test, f, sf, buf, cap);
	fput(sf);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP)));
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(RUNNING)));

	sf = gpup_mig_set_state(&f->mig, S(PRE_COPY));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	drain(sf, buf, &len, cap);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP_COPY)));
	expect_data_size_exact(test, f, sf, buf, cap);
	fput(sf);
	gpup_mig_close(&f->mig);
}

static void mig_reset_while_state_locked_is_deferred(struct kunit *test)
{
	struct fake *f = new_fake(test, 1);
	struct file *sf = gpup_mig_set_state(&f->mig, S(PRE_COPY));
	u8 byte;
	loff_t pos = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	mutex_lock(&f->mig.state_mutex);
	gpup_mig_reset_prepare(&f->mig);
	/* the file is dead before the device is reset, mutex or not */
	KUNIT_EXPECT_EQ(test, kernel_read(sf, &byte, 1, &pos), -ENODEV);
	gpup_mig_reset_done(&f->mig);		/* cannot take the mutex: deferred */
	KUNIT_EXPECT_EQ(test, f->mig.state, S(PRE_COPY));
	gpup_mig_state_unlock(&f->mig);		/* applies it */
	KUNIT_EXPECT_EQ(test, f->mig.state, S(RUNNING));
	KUNIT_EXPECT_EQ(test, kernel_read(sf, &byte, 1, &pos), -ENODEV);
	fput(sf);
	gpup_mig_close(&f->mig);
}

/*
 * A reset while another thread holds state_mutex and a whole stream was
 * written: the target must not accept it, though every byte arrived.
 */
static void mig_reset_cuts_a_complete_stream(struct kunit *test)
{
	struct fake *src = new_fake(test, 1), *dst = new_fake(test, 1);
	size_t cap = STREAM_CAP, len = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf, *df, *res;
	loff_t pos = 0;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fake_store(src, 5, 0x55);
	put_res(gpup_mig_set_state(&src->mig, S(STOP)));
	sf = gpup_mig_set_state(&src->mig, S(STOP_COPY));
	df = gpup_mig_set_state(&dst->mig, S(RESUMING));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(df));
	drain(sf, buf, &len, cap);
	/* all but the last byte, then the reset, then the last byte */
	KUNIT_ASSERT_EQ(test, kernel_write(df, buf, len - 1, &pos), len - 1);
	mutex_lock(&dst->mig.state_mutex);
	gpup_mig_reset_prepare(&dst->mig);
	KUNIT_EXPECT_EQ(test, kernel_write(df, buf + len - 1, 1, &pos), -ENODEV);
	gpup_mig_reset_done(&dst->mig);
	/* the holder's RESUMING -> STOP refuses the cut stream */
	res = mig_set_state_locked(&dst->mig, S(STOP));
	KUNIT_EXPECT_EQ(test, PTR_ERR(res), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(dst->mig.last_error, "reset"));
	gpup_mig_state_unlock(&dst->mig);	/* applies the reset */
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&dst->mig), S(RUNNING));
	fput(sf);
	fput(df);
	gpup_mig_close(&src->mig);
	gpup_mig_close(&dst->mig);
}

/* A stream born during a reset is born dead */
static void mig_stream_born_during_reset_is_disabled(struct kunit *test)
{
	struct fake *f = new_fake(test, 1);
	struct file *sf;
	u8 byte;
	loff_t pos = 0;

	gpup_mig_reset_prepare(&f->mig);
	sf = gpup_mig_set_state(&f->mig, S(PRE_COPY));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	KUNIT_EXPECT_EQ(test, kernel_read(sf, &byte, 1, &pos), -ENODEV);
	gpup_mig_reset_done(&f->mig);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(RUNNING));
	fput(sf);
	gpup_mig_close(&f->mig);
}

struct reset_done_ctx {
	struct gpup_mig *mig;
	struct completion done;
};

static int reset_done_fn(void *arg)
{
	struct reset_done_ctx *ctx = arg;

	gpup_mig_reset_done(ctx->mig);
	complete(&ctx->done);
	return 0;
}

/*
 * A reset ends as one step: a thread that takes state_mutex while the
 * reset's end is under way either finds the reset still going (a stream
 * it starts is born disabled) or finds it to apply when it releases the
 * mutex.  Never neither: a stream started then would be live on the
 * reset device, and the reset applied later would end it but leave the
 * VRAM it wrote.  Holding reset_lock stops gpup_mig_reset_done() on
 * another CPU where it first needs reset_lock; what a state_mutex holder
 * would find then must be one of the two.
 */
static void mig_reset_end_is_one_step(struct kunit *test)
{
	struct fake *f = new_fake(test, 1);
	struct reset_done_ctx ctx = { .mig = &f->mig };
	unsigned long timeout;
	struct task_struct *task;
	bool contended, deferred;
	unsigned int resetting;
	int cpu;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs a second CPU");
	init_completion(&ctx.done);
	gpup_mig_reset_prepare(&f->mig);

	migrate_disable();
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	task = kthread_create(reset_done_fn, &ctx, "gpup_reset_done");
	if (IS_ERR(task)) {
		migrate_enable();
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(task));
		gpup_mig_reset_done(&f->mig);
		return;
	}
	kthread_bind(task, cpu);

	spin_lock(&f->mig.reset_lock);
	wake_up_process(task);
	timeout = jiffies + 10 * HZ;
	do {
		contended = spin_is_contended(&f->mig.reset_lock);
		cpu_relax();
	} while (!contended && time_before(jiffies, timeout));
	spin_lock(&f->mig.info_lock);
	resetting = f->mig.resetting;
	spin_unlock(&f->mig.info_lock);
	deferred = f->mig.deferred_reset;
	spin_unlock(&f->mig.reset_lock);
	migrate_enable();

	wait_for_completion(&ctx.done);
	KUNIT_ASSERT_TRUE_MSG(test, contended, "the reset's end never waited on reset_lock");
	KUNIT_EXPECT_TRUE_MSG(test, resetting || deferred,
			      "reset over but not pending: resetting %u, deferred %d",
			      resetting, deferred);
	KUNIT_EXPECT_EQ(test, f->mig.resetting, 0);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(RUNNING));
	gpup_mig_close(&f->mig);
}

/* Figures are the current stream's; clearing them waits for no stream */
static void mig_stats_follow_the_stream(struct kunit *test)
{
	struct fake *f = new_fake(test, 1);
	size_t cap = STREAM_CAP, len = 0;
	u8 *buf = big_zalloc(test, cap);
	struct file *sf;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fake_store(f, 3, 0x33);
	sf = gpup_mig_set_state(&f->mig, S(PRE_COPY));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(sf));
	KUNIT_EXPECT_EQ(test, gpup_mig_clear_stats(&f->mig), -EBUSY);
	drain(sf, buf, &len, cap);
	KUNIT_EXPECT_EQ(test, f->mig.stats.precopy_bytes, len);
	put_res(gpup_mig_set_state(&f->mig, S(STOP_COPY)));
	drain(sf, buf, &len, cap);
	KUNIT_EXPECT_GT(test, f->mig.stats.stopcopy_bytes, 0);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP)));
	KUNIT_EXPECT_EQ(test, f->mig.stats.migrations, 1);
	fput(sf);

	/* a new stream starts its figures from zero, the count goes on */
	put_res(gpup_mig_set_state(&f->mig, S(STOP_COPY)));
	KUNIT_EXPECT_EQ(test, f->mig.stats.precopy_bytes, 0);
	KUNIT_EXPECT_EQ(test, f->mig.stats.stopcopy_bytes, 0);
	KUNIT_EXPECT_EQ(test, f->mig.stats.migrations, 1);
	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP)));

	KUNIT_EXPECT_EQ(test, gpup_mig_clear_stats(&f->mig), 0);
	KUNIT_EXPECT_EQ(test, f->mig.stats.migrations, 0);
	gpup_mig_close(&f->mig);
}

/*
 * A backend that cannot prepare fails the arc with its own error, saving
 * or resuming alike: the state stays, no file comes, no end() follows.
 */
static void mig_prepare_error_passed_on(struct kunit *test)
{
	struct fake *f = new_fake(test, 1);
	struct file *res;

	f->prepare_err = -EBUSY;
	KUNIT_EXPECT_EQ(test, PTR_ERR(gpup_mig_set_state(&f->mig, S(PRE_COPY))), -EBUSY);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(RUNNING));
	KUNIT_EXPECT_FALSE(test, f->quiesced);

	KUNIT_ASSERT_NULL(test, gpup_mig_set_state(&f->mig, S(STOP)));
	f->prepare_err = -ENOSPC;
	KUNIT_EXPECT_EQ(test, PTR_ERR(gpup_mig_set_state(&f->mig, S(STOP_COPY))), -ENOSPC);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(STOP));
	f->prepare_err = -EAGAIN;
	KUNIT_EXPECT_EQ(test, PTR_ERR(gpup_mig_set_state(&f->mig, S(RESUMING))), -EAGAIN);
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(STOP));
	KUNIT_EXPECT_NULL(test, f->mig.saving);
	KUNIT_EXPECT_NULL(test, f->mig.resuming);
	KUNIT_EXPECT_EQ(test, f->ends, 0);

	/* once the backend can, the same arc starts the stream */
	f->prepare_err = 0;
	res = gpup_mig_set_state(&f->mig, S(RESUMING));
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(res));
	KUNIT_EXPECT_EQ(test, gpup_mig_get_state(&f->mig), S(RESUMING));
	put_res(IS_ERR(res) ? NULL : res);
	gpup_mig_close(&f->mig);
}

static struct kunit_case gpup_mig_cases[] = {
	KUNIT_CASE_PARAM(mig_transition_matrix, arc_gen_params),
	KUNIT_CASE(mig_round_trip_with_precopy),
	KUNIT_CASE(mig_incompatible_refused_before_vram),
	KUNIT_CASE(mig_mutable_state_refused),
	KUNIT_CASE(mig_data_size_is_exact),
	KUNIT_CASE(mig_reset_while_state_locked_is_deferred),
	KUNIT_CASE(mig_reset_cuts_a_complete_stream),
	KUNIT_CASE(mig_stream_born_during_reset_is_disabled),
	KUNIT_CASE(mig_reset_end_is_one_step),
	KUNIT_CASE(mig_stats_follow_the_stream),
	KUNIT_CASE(mig_prepare_error_passed_on),
	{}
};

static struct kunit_suite gpup_mig_suite = {
	.name = "gpup_mig",
	.suite_init = arcs_init,
	.test_cases = gpup_mig_cases,
};

kunit_test_suite(gpup_mig_suite);
