/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpup: what differs between the kernels gpup builds against.
 *
 * The code is written against the newest kernel API it supports (Debian's
 * 7.3 kernel); this header gives older kernels (Debian's 6.12) that API.
 * It is the one place for such differences, so that the .c files read as
 * ordinary kernel code and a difference is dropped here, in one line, when
 * the oldest kernel no longer needs it.
 *
 * Each entry tests for the feature itself where the kernel lets it: a macro
 * that is defined or not, a Kconfig symbol.  LINUX_VERSION_CODE is the last
 * resort, for a change nothing else reveals (a function's arguments, a
 * structure's members), and then the entry names the release that made it.
 */
#ifndef _GPUP_COMPAT_H_
#define _GPUP_COMPAT_H_

#include <linux/netlink.h>

/**
 * NL_ASSERT_CTX_FITS() - fail the build if a dump's state outgrows cb->ctx
 * @type_name: the type kept in &struct netlink_callback's ctx
 *
 * Kernels after 6.12 have only this name; 6.12 calls the same check
 * NL_ASSERT_DUMP_CTX_FITS().
 */
#ifndef NL_ASSERT_CTX_FITS
#define NL_ASSERT_CTX_FITS(type_name) NL_ASSERT_DUMP_CTX_FITS(type_name)
#endif

#endif /* _GPUP_COMPAT_H_ */
