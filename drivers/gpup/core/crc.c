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
 * The CRC-32C is computed eight bytes at a time with lookup tables built at
 * module load ("slicing by 8").  It is the same function as crc32c(), raw
 * register in and out; unlike a call to crc32c(), it can run inside a
 * user-access section, between the load and the store.
 */
#include <linux/init.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>

#include "gpup_mig.h"

/* CRC-32C (Castagnoli), reflected */
#define CRC32C_POLY_LE	0x82f63b78U

/* crc_tab[k][b]: byte @b followed by k zero bytes */
static u32 crc_tab[8][256] __ro_after_init;

void __init gpup_crc_init(void)
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

/* crc32c() of a kernel buffer, through the same tables */
u32 gpup_crc(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	for (; len >= sizeof(u64); len -= sizeof(u64), p += sizeof(u64))
		crc = crc_word(crc, get_unaligned_le64(p));
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

	if (!user_access_begin(dst, len))
		return -EFAULT;
	for (; len >= sizeof(u64); len -= sizeof(u64)) {
		u64 w = get_unaligned((const u64 *)s);

		/* the register, not a second load, is both stored and summed */
		OPTIMIZER_HIDE_VAR(w);
		unsafe_put_user(w, (u64 __user *)d, efault);
		c = crc_word(c, le64_to_cpu((__force __le64)w));
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
