/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the migration stream code (drivers/gpup/core/stream.c) needs from
 * the kernel, for building it in user space: types, byte order, unaligned
 * access and CRC32C.
 */
#ifndef _GPUP_STREAM_USER_H_
#define _GPUP_STREAM_USER_H_

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include <linux/gpup.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define cpu_to_le16(x)	((__le16)htole16(x))
#define cpu_to_le32(x)	((__le32)htole32(x))
#define cpu_to_le64(x)	((__le64)htole64(x))
#define le16_to_cpu(x)	le16toh(x)
#define le32_to_cpu(x)	le32toh(x)
#define le64_to_cpu(x)	le64toh(x)

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline void put_unaligned_le32(u32 v, void *p)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

#define min_t(type, a, b)	({ type __a = (a); type __b = (b); __a < __b ? __a : __b; })
#define fallthrough		__attribute__((__fallthrough__))

/* The kernel's annotations, for stream.c and the programs built with it */
#define __aligned(x)		__attribute__((__aligned__(x)))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define __noreturn		__attribute__((__noreturn__))
/* Nothing to export: user space links stream.c into each program */
#define EXPORT_SYMBOL_GPL(sym)

/* CRC32C (Castagnoli), raw update: no inversion in or out */
u32 crc32c(u32 crc, const void *buf, size_t len);

#endif /* _GPUP_STREAM_USER_H_ */
