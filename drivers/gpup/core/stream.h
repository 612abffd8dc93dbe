/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gpup migration stream: record encoding and an incremental parser.
 *
 * Pure C with no VFIO or device dependency: the kernel builds it into the
 * migration core, and user space (tools, fuzzers) can build it with a
 * stream_user.h that supplies the kernel types, byte order helpers and a
 * CRC32C.  The wire format is specified in uapi/linux/gpup.h and
 * Documentation/gpup/migration.rst.
 */
#ifndef _GPUP_STREAM_H_
#define _GPUP_STREAM_H_

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/gpup.h>
#else
#include "stream_user.h"
#endif

/* Bytes a record adds to its payload: header before, CRC after */
#define GPUP_REC_OVERHEAD	(sizeof(struct gpup_rec_hdr) + sizeof(__le32))

/* Stream bytes that @len bytes of device state take, in full chunks */
static inline u64 gpup_state_stream_bytes(size_t len)
{
	size_t chunks = (len + GPUP_REC_STATE_CHUNK_MAX - 1) / GPUP_REC_STATE_CHUNK_MAX;

	return len + (u64)chunks * (GPUP_REC_OVERHEAD + sizeof(struct gpup_rec_state));
}

u32 gpup_stream_crc(u32 crc, const void *buf, size_t len);
#define GPUP_CRC_SEED		0xffffffffU

size_t gpup_rec_encode(void *out, u16 type, u16 flags, const void *payload,
		       u32 len);
void gpup_rec_hdr_encode(struct gpup_rec_hdr *hdr, u16 type, u16 flags,
			 u32 len);

/*
 * What the parser hands to its user.  @record gets every complete record
 * but VRAM and device state once its CRC is checked; @state gets each
 * chunk of device state (@type GPUP_REC_IMMUTABLE or GPUP_REC_MUTABLE)
 * once its CRC is checked and its place in the state is, so chunks come
 * in order and the last one has @off + @len == @total; @vram gets VRAM
 * page data as it arrives, already checked against the VRAM size (the
 * record's CRC is checked when the record ends).  Each returns 0 or a
 * negative errno that fails the stream.
 */
struct gpup_parser_ops {
	int (*record)(void *ctx, u16 type, const void *payload, u32 len);
	int (*state)(void *ctx, u16 type, u64 off, u64 total, const void *data,
		     u32 len);
	int (*vram)(void *ctx, u64 offset, const void *data, u32 len);
};

enum gpup_parse_phase {
	GPUP_PARSE_HDR,
	GPUP_PARSE_BODY,
	GPUP_PARSE_CRC,
	GPUP_PARSE_DONE,	/* the end record arrived */
	GPUP_PARSE_FAILED,
};

struct gpup_parser {
	const struct gpup_parser_ops *ops;
	void *ctx;
	u64 vram_size;
	enum gpup_parse_phase phase;
	u16 type;
	u16 flags;
	u32 length;		/* payload bytes of the current record */
	u32 done;		/* of which consumed */
	u32 fill;		/* bytes gathered in buf */
	u32 crc;
	u64 vram_off;		/* where the next VRAM data byte goes */
	u64 records;		/* complete records */
	u64 bytes;		/* bytes of complete records */
	u32 seen;		/* BIT(type) of the records seen; of a state once complete */
	u16 state_type;		/* the device state under way, 0 if none */
	u64 state_off;		/* its bytes received */
	u64 state_total;	/* its size, as its first chunk says */
	const char *error;	/* why the stream failed */
	/* header, then a small payload; 8-byte aligned for the structs */
	u8 buf[GPUP_REC_SMALL_MAX] __aligned(8);
	u8 crc_buf[4];
};

void gpup_parser_init(struct gpup_parser *p, const struct gpup_parser_ops *ops,
		      void *ctx, u64 vram_size);
int gpup_parser_feed(struct gpup_parser *p, const void *data, size_t len);

static inline bool gpup_parser_done(const struct gpup_parser *p)
{
	return p->phase == GPUP_PARSE_DONE;
}

#endif /* _GPUP_STREAM_H_ */
