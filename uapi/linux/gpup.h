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
 * and the payload.  A stream opens with GPUP_REC_STREAM and
 * GPUP_REC_IMMUTABLE (the pre-copy "initial bytes"), carries GPUP_REC_VRAM
 * records while the VM runs and after it stops, then GPUP_REC_MUTABLE, and
 * closes with GPUP_REC_END.  A reader refuses an unknown record type marked
 * GPUP_REC_F_MANDATORY and skips an unknown optional one.  Within a major
 * version, a newer minor version only adds optional records or fields.
 */
#define GPUP_MIG_MAGIC			0x0047494d50555047ULL	/* "GPUPMIG\0" */
#define GPUP_MIG_VERSION_MAJOR		1
#define GPUP_MIG_VERSION_MINOR		0

struct gpup_rec_hdr {
	__le16 type;		/* enum gpup_rec_type */
	__le16 flags;		/* GPUP_REC_F_* */
	__le32 length;		/* payload bytes */
};

#define GPUP_REC_F_MANDATORY		0x0001

enum gpup_rec_type {
	GPUP_REC_STREAM		= 1,	/* struct gpup_rec_stream, first */
	GPUP_REC_IMMUTABLE	= 2,	/* the backend's immutable state, second */
	GPUP_REC_VRAM		= 3,	/* struct gpup_rec_vram + page data */
	GPUP_REC_ROUND		= 4,	/* struct gpup_rec_round, optional */
	GPUP_REC_MUTABLE	= 5,	/* the backend's mutable state */
	GPUP_REC_END		= 6,	/* struct gpup_rec_end, last */
};

/* Largest payload of any record but GPUP_REC_VRAM */
#define GPUP_REC_SMALL_MAX		4096
/* Pages of one GPUP_REC_VRAM record, and their size */
#define GPUP_REC_VRAM_MAX_PAGES		256
#define GPUP_MIG_PAGE_SIZE		4096

struct gpup_rec_stream {
	__le64 magic;		/* GPUP_MIG_MAGIC */
	__le16 major;		/* GPUP_MIG_VERSION_MAJOR */
	__le16 minor;		/* GPUP_MIG_VERSION_MINOR */
	__le32 flags;		/* none defined, zero */
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
