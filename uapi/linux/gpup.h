/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * gpup: the migration stream of a GPU-P virtual function.
 *
 * The container the migration core (gpup_core) writes to and reads from a
 * VFIO migration data file, whatever the device: records, their CRC,
 * rounds of VRAM pages and the end.  The device state it carries
 * (GPUP_REC_IMMUTABLE, GPUP_REC_MUTABLE) is opaque here; its layout is the
 * backend's (include/gpup/sim_state.h for gpup_sim).
 */
#ifndef _UAPI_LINUX_GPUP_H
#define _UAPI_LINUX_GPUP_H

#include <linux/types.h>

/*
 * Migration stream.
 *
 * The data read from a VFIO migration data file is a sequence of records:
 *
 *   struct gpup_rec_hdr, payload (hdr.length bytes), __le32 CRC32C
 *
 * The CRC32C (Castagnoli, seed and final XOR 0xffffffff) covers the header
 * and the payload.  A stream opens with GPUP_REC_STREAM and the immutable
 * device state (the pre-copy "initial bytes"), carries GPUP_REC_VRAM
 * records while the VM runs and after it stops, then the mutable device
 * state, and closes with GPUP_REC_END.  A reader refuses an unknown record
 * type marked GPUP_REC_F_MANDATORY and skips an unknown optional one.
 * Within a major version, a newer minor version only adds optional records
 * or fields.
 *
 * Device state.  Each of the two states, immutable and mutable, is a byte
 * string of any length (at least one byte) whose layout is the backend's.
 * It travels as a run of GPUP_REC_IMMUTABLE or GPUP_REC_MUTABLE records
 * ("chunks"), each a struct gpup_rec_state and 1..GPUP_REC_STATE_CHUNK_MAX
 * bytes of the state: in order, back to back (a chunk's offset is the
 * bytes of the state before it), every one giving the same total, the last
 * ending at the total.  Nothing comes between two chunks of a state.  So a
 * reader needs no more memory than one chunk, whatever the state's size,
 * and knows from the first chunk how much is coming.
 */
#define GPUP_MIG_MAGIC			0x0047494d50555047ULL	/* "GPUPMIG\0" */
#define GPUP_MIG_VERSION_MAJOR		2
#define GPUP_MIG_VERSION_MINOR		0

struct gpup_rec_hdr {
	__le16 type;		/* enum gpup_rec_type */
	__le16 flags;		/* GPUP_REC_F_* */
	__le32 length;		/* payload bytes */
};

#define GPUP_REC_F_MANDATORY		0x0001

enum gpup_rec_type {
	GPUP_REC_STREAM		= 1,	/* struct gpup_rec_stream, first */
	GPUP_REC_IMMUTABLE	= 2,	/* gpup_rec_state + a chunk, after STREAM */
	GPUP_REC_VRAM		= 3,	/* struct gpup_rec_vram + page data */
	GPUP_REC_ROUND		= 4,	/* struct gpup_rec_round, optional */
	GPUP_REC_MUTABLE	= 5,	/* gpup_rec_state + a chunk, before END */
	GPUP_REC_END		= 6,	/* struct gpup_rec_end, last */
};

/* Largest payload of any record but GPUP_REC_VRAM */
#define GPUP_REC_SMALL_MAX		4096
/* Largest chunk of device state one record carries */
#define GPUP_REC_STATE_CHUNK_MAX	(GPUP_REC_SMALL_MAX - 16)
/* Pages of one GPUP_REC_VRAM record, and their size */
#define GPUP_REC_VRAM_MAX_PAGES		256
#define GPUP_MIG_PAGE_SIZE		4096

struct gpup_rec_stream {
	__le64 magic;		/* GPUP_MIG_MAGIC */
	__le16 major;		/* GPUP_MIG_VERSION_MAJOR */
	__le16 minor;		/* GPUP_MIG_VERSION_MINOR */
	__le32 flags;		/* none defined, zero */
};

struct gpup_rec_state {
	__le64 offset;		/* of this chunk's bytes within the state */
	__le64 total;		/* bytes of the whole state, in every chunk */
};

struct gpup_rec_vram {
	__le64 offset;		/* VRAM byte offset, page aligned */
	__le32 npages;		/* 1..GPUP_REC_VRAM_MAX_PAGES pages follow */
	__le32 reserved;	/* zero */
};

struct gpup_rec_round {
	__le32 round;		/* 0: the first full pass */
	__le32 pages;		/* pages this round sends */
};

struct gpup_rec_end {
	__le64 records;		/* records before this one */
	__le64 bytes;		/* stream bytes before this record */
};

#endif /* _UAPI_LINUX_GPUP_H */
