// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpup migration core: VRAM data copied to the user and checksummed in one
 * pass.
 *
 * A VRAM record's CRC must cover exactly the bytes the user receives, while
 * the guest may still be storing into the page being sent.  Loading each
 * word of the page once, storing it to the user and folding the same
 * register into the CRC makes that hold by construction: no snapshot of the
 * page and no second pass over it.  A store that races with the copy leaves
 * the page dirty, so it goes out again in a later round.
 *
 * The CRC-32C is the same function as crc32c(), raw register in and out,
 * but computed inline, so that it can run inside a user-access section
 * between the load and the store: eight bytes at a time with lookup tables
 * built at module load ("slicing by 8"), or with the CPU's CRC32
 * instruction where that is faster.  Which is faster is measured at load,
 * as the xor and raid6 code does: on hardware the instruction is several
 * times faster than the tables, but under emulation (QEMU TCG) it can be
 * several times slower.  The crc_impl parameter overrides the choice.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>

#ifdef CONFIG_X86_64
#include <asm/cpufeature.h>
#endif

#include "gpup_mig.h"

static char *crc_impl = "auto";
module_param(crc_impl, charp, 0444);
MODULE_PARM_DESC(crc_impl, "CRC-32C of VRAM data: auto (the faster, measured at load), table or insn");

/* The CPU's CRC32 instruction instead of the tables */
static DEFINE_STATIC_KEY_FALSE(crc_by_insn);

/* CRC-32C (Castagnoli), reflected */
#define CRC32C_POLY_LE	0x82f63b78U

/* crc_tab[k][b]: byte @b followed by k zero bytes */
static u32 crc_tab[8][256] __ro_after_init;

static void __init crc_tables_init(void)
{
	unsigned int i, k;
	u32 c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? CRC32C_POLY_LE : 0);
		crc_tab[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			crc_tab[k][i] = (crc_tab[k - 1][i] >> 8) ^
					crc_tab[0][crc_tab[k - 1][i] & 0xff];
}

static __always_inline u32 crc_byte(u32 crc, u8 b)
{
	return (crc >> 8) ^ crc_tab[0][(crc ^ b) & 0xff];
}

/* Eight bytes, @w holding the first of them in its low byte */
static __always_inline u32 crc_word(u32 crc, u64 w)
{
	w ^= crc;
	return crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
	       crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
	       crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
	       crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
}

#ifdef CONFIG_X86_64
static __always_inline u32 crc_word_insn(u32 crc, u64 w)
{
	u64 c = crc;

	asm("crc32q %1, %0" : "+r" (c) : "rm" (w));
	return c;
}

static bool crc_insn_usable(void)
{
	return boot_cpu_has(X86_FEATURE_XMM4_2);
}
#else
static __always_inline u32 crc_word_insn(u32 crc, u64 w)
{
	return crc_word(crc, le64_to_cpu((__force __le64)w));
}

static bool crc_insn_usable(void)
{
	return false;
}
#endif

/* Eight bytes as loaded from memory, by whichever way was chosen */
static __always_inline u32 crc_mem64(u32 crc, u64 w)
{
	if (static_branch_unlikely(&crc_by_insn))
		return crc_word_insn(crc, w);
	return crc_word(crc, le64_to_cpu((__force __le64)w));
}

/* crc32c() of a kernel buffer, computed as the copy to the user does */
u32 gpup_crc(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	for (; len >= sizeof(u64); len -= sizeof(u64), p += sizeof(u64))
		crc = crc_mem64(crc, get_unaligned((const u64 *)p));
	for (; len; len--, p++)
		crc = crc_byte(crc, *p);
	return crc;
}

/*
 * Copy @len bytes from @src to the user's @dst and fold them into *@crc.
 * Every byte of @src is loaded once, and what is stored is what is summed,
 * even if @src changes meanwhile.  Returns 0, or -EFAULT with *@crc as it
 * was (the user may have received part of the bytes).
 */
int gpup_crc_copy_to_user(void __user *dst, const void *src, size_t len, u32 *crc)
{
	u8 __user *d = dst;
	const u8 *s = src;
	u32 c = *crc;

	might_fault();
	if (!user_access_begin(dst, len))
		return -EFAULT;
	for (; len >= sizeof(u64); len -= sizeof(u64)) {
		/* racing with the guest's stores is expected: see the top */
		u64 w = data_race(get_unaligned((const u64 *)s));

		/* the register, not a second load, is both stored and summed */
		OPTIMIZER_HIDE_VAR(w);
		unsafe_put_user(w, (u64 __user *)d, efault);
		c = crc_mem64(c, w);
		s += sizeof(u64);
		d += sizeof(u64);
	}
	for (; len; len--) {
		u8 b = READ_ONCE(*s);

		unsafe_put_user(b, d, efault);
		c = crc_byte(c, b);
		s++;
		d++;
	}
	user_access_end();
	*crc = c;
	return 0;

efault:
	user_access_end();
	return -EFAULT;
}

/* The measurement at load: a page of words, each way */
static u32 __init crc_page_tables(u32 crc, const u64 *w)
{
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		crc = crc_word(crc, le64_to_cpu((__force __le64)w[i]));
	return crc;
}

static u32 __init crc_page_insn(u32 crc, const u64 *w)
{
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		crc = crc_word_insn(crc, w[i]);
	return crc;
}

/* Where the measured CRCs go, so that the compiler keeps computing them */
static u32 crc_sink __initdata;

/* Nanoseconds for eight pages, the best of three runs */
static u64 __init crc_time(u32 (*fn)(u32 crc, const u64 *w), const u64 *page)
{
	u64 best = U64_MAX, t;
	u32 crc = 0;
	int run, i;

	for (run = 0; run < 3; run++) {
		t = ktime_get_ns();
		for (i = 0; i < 8; i++)
			crc = fn(crc, page);
		WRITE_ONCE(crc_sink, crc);
		best = min(best, ktime_get_ns() - t);
	}
	return best;
}

static bool __init crc_insn_faster(void)
{
	u64 *page = (u64 *)get_zeroed_page(GFP_KERNEL);
	u64 tables, insn;

	if (!page)
		return false;
	tables = crc_time(crc_page_tables, page);
	insn = crc_time(crc_page_insn, page);
	free_page((unsigned long)page);
	pr_info("CRC-32C of 32 KiB: %llu ns by tables, %llu ns by the CRC32 instruction\n",
		tables, insn);
	return insn < tables;
}

void __init gpup_crc_init(void)
{
	bool insn;

	crc_tables_init();
	if (!strcmp(crc_impl, "table"))
		insn = false;
	else if (!strcmp(crc_impl, "insn"))
		insn = crc_insn_usable();
	else
		insn = crc_insn_usable() && crc_insn_faster();
	if (insn)
		static_branch_enable(&crc_by_insn);
	pr_info("CRC-32C of VRAM data by %s\n", insn ? "the CRC32 instruction" : "tables");
}

#if IS_ENABLED(CONFIG_GPUP_KUNIT_TEST)
/*
 * For the tests: the CRC32 instruction (@on) or the tables from now on.
 * Returns the way in use before (1: the instruction), or -EOPNOTSUPP.
 */
int gpup_crc_use_insn(bool on)
{
	int was = static_key_enabled(&crc_by_insn);

	if (on && !crc_insn_usable())
		return -EOPNOTSUPP;
	if (on)
		static_branch_enable(&crc_by_insn);
	else
		static_branch_disable(&crc_by_insn);
	return was;
}
#endif
