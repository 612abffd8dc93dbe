/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libgpup: the Windows IGPUPMigration contract over a VFIO device fd.
 *
 * SaveImmutableGpup and RestoreImmutableGpup, and whole migration streams
 * saved to and restored from a file descriptor, built on the VFIO
 * migration v2 uAPI alone (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE and
 * VFIO_MIG_GET_PRECOPY_INFO): no gpup-private interface, so any VFIO device
 * whose data fd carries the gpup stream (uapi/linux/gpup.h) works.
 *
 * Every function returns 0 or a negative errno; gpup_hresult() maps it to
 * the HRESULT the Windows interface returns, gpup_strerror() describes it
 * and gpup_last_error() says what exactly failed.  Documentation/gpup/
 * libgpup.rst has the contract, the states each call leaves the device in
 * and the errno -> HRESULT table.
 */
#ifndef _LIBGPUP_H_
#define _LIBGPUP_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * SaveImmutableGpup: the stream's head (STREAM and IMMUTABLE records, the
 * pre-copy initial bytes) into @buf.  *@len is the size of @buf on entry
 * and the bytes written on return.  With @buf NULL or *@len too small,
 * sets *@len to the size needed and returns -ENOSPC: the size query of
 * the two-call pattern.  The device must be RUNNING, RUNNING_P2P or STOP
 * and is left in that state.
 */
int gpup_save_immutable(int device_fd, void *buf, uint64_t *len);

/* A restore in progress: the target's RESUMING data fd and its checks */
struct gpup_restore;

/*
 * RestoreImmutableGpup: put the target (RUNNING, RUNNING_P2P or STOP) in
 * RESUMING and write the @len bytes gpup_save_immutable() produced.  On
 * success *@out is the restore session through which the rest of the
 * stream follows.  A buffer that is not exactly a stream's head fails
 * with -EINVAL before the device is touched; a target that refuses the
 * head fails with -EMEDIUMTYPE, gpup_last_error() naming the field, and
 * is reset and returned to the state it was in.
 */
int gpup_restore_immutable(int device_fd, const void *buf, uint64_t len,
			   struct gpup_restore **out);

/*
 * The rest of the stream, in pieces of any size.  Each piece is checked
 * (records, CRCs, order) before it reaches the device: a bad one fails
 * with -EINVAL and the session can only be ended.
 */
int gpup_restore_write(struct gpup_restore *r, const void *buf, size_t len);

/* Leave the device RUNNING rather than STOP */
#define GPUP_RUN		0x1U

/*
 * End a session: RESUMING -> STOP, then RUNNING with GPUP_RUN.  A stream
 * that did not reach its end record, or that the device refused, fails
 * with -EINVAL; the target is then reset and returned to the state it was
 * in before gpup_restore_immutable().  Frees @r in every case.
 */
int gpup_restore_finish(struct gpup_restore *r, unsigned int flags);

/* Give up: reset the target, return it to its state before, free @r */
void gpup_restore_abort(struct gpup_restore *r);

struct gpup_save_opts {
	/*
	 * Pre-copy: stay in PRE_COPY, the device running, until the stream
	 * reached its temporary end (nothing dirty) this many times; 0 goes
	 * straight to STOP_COPY.  Needs a RUNNING device.
	 */
	unsigned int precopy_passes;
	/* and leave pre-copy anyway after this many bytes; 0: no limit */
	uint64_t precopy_max_bytes;
	unsigned int flags;		/* GPUP_RUN: leave the device RUNNING */
};

struct gpup_save_stats {
	uint64_t precopy_bytes;		/* read while the device ran */
	uint64_t stopcopy_bytes;	/* read with the device stopped */
	unsigned int precopy_passes;	/* temporary ends met */
};

/*
 * The device's whole stream into @out_fd (a file, pipe or socket), from
 * RUNNING or STOP.  Leaves the device STOP, or RUNNING with GPUP_RUN; on
 * failure returns it to the state it started in.  @opts and @stats may be
 * NULL.
 */
int gpup_save_stream(int device_fd, int out_fd, const struct gpup_save_opts *opts,
		     struct gpup_save_stats *stats);

/*
 * A stream saved by gpup_save_stream() from @in_fd into the target, read
 * to the end of the file: gpup_restore_immutable(), gpup_restore_write(),
 * gpup_restore_finish(@flags).  On failure the target is back in the
 * state it was in.
 */
int gpup_restore_stream(int device_fd, int in_fd, unsigned int flags);

/* HRESULT values gpup_hresult() returns */
#define GPUP_S_OK			((int32_t)0x00000000)
#define GPUP_E_NOTIMPL			((int32_t)0x80004001)
#define GPUP_E_POINTER			((int32_t)0x80004003)
#define GPUP_E_FAIL			((int32_t)0x80004005)
#define GPUP_E_ACCESSDENIED		((int32_t)0x80070005)
#define GPUP_E_HANDLE			((int32_t)0x80070006)
#define GPUP_E_OUTOFMEMORY		((int32_t)0x8007000E)
#define GPUP_E_NOT_READY		((int32_t)0x80070015)
#define GPUP_E_INVALIDARG		((int32_t)0x80070057)
#define GPUP_E_NOT_SUFFICIENT_BUFFER	((int32_t)0x8007007A)
#define GPUP_E_BUSY			((int32_t)0x800700AA)
#define GPUP_E_DEVICE_REMOVED		((int32_t)0x80070651)

/* The HRESULT for @err, 0 or an errno of either sign */
int32_t gpup_hresult(int err);

/* What @err (of either sign) means from this library; never NULL */
const char *gpup_strerror(int err);

/*
 * Why the calling thread's last failed call failed, one line (e.g.
 * "incompatible device: profile: source 0x2, target 0x1"), or "" if it
 * succeeded.  Valid until the thread's next call into the library.
 */
const char *gpup_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* _LIBGPUP_H_ */
