/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small TAP harness for the in-guest tests: CHECK() records a failure
 * with its reason and yields false, so a test returns at its first failed
 * check with "if (!CHECK(...)) return;".
 */
#ifndef GPUP_TAP_H
#define GPUP_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpup_vfio.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIB		0x100000ULL

static int tap_failed;
/* Set by a test that cannot run here: it reports "ok ... # SKIP why" */
static const char *tap_skip;

#define CHECK(cond, ...) tap_check(!!(cond), __func__, __LINE__, #cond, __VA_ARGS__)

static inline bool tap_check(bool ok, const char *fn, int line, const char *cond,
			     const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	printf("# %s:%d: failed: %s: ", fn, line, cond);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_failed = 1;
	return false;
}

struct tap_test {
	const char *name;
	void (*fn)(void);
};

static inline double tap_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Run @tests in order, each one's time in the log; returns the number that
 * failed.  GPUP_TAP_ONLY=name runs that test alone (to repeat it), the
 * others report a skip.
 */
static inline unsigned int tap_run(const char *suite, const struct tap_test *tests,
				   unsigned int n)
{
	const char *only = getenv("GPUP_TAP_ONLY");
	unsigned int i, nfail = 0, ran = 0;
	double start;

	for (i = 0; i < n; i++) {
		tap_failed = 0;
		tap_skip = NULL;
		start = tap_seconds();
		if (only && *only && strcmp(only, tests[i].name)) {
			tap_skip = "not selected (GPUP_TAP_ONLY)";
		} else {
			tests[i].fn();
			ran++;
		}
		printf("# %s: %.1f s\n", tests[i].name, tap_seconds() - start);
		if (tap_skip && !tap_failed)
			printf("ok %u - %s # SKIP %s\n", i + 1, tests[i].name, tap_skip);
		else
			printf("%s %u - %s\n", tap_failed ? "not ok" : "ok", i + 1,
			       tests[i].name);
		fflush(stdout);
		nfail += tap_failed;
	}
	if (only && *only && !ran) {
		printf("# GPUP_TAP_ONLY=%s: no such test\n", only);
		nfail++;
	}
	printf("# %s: %u passed, %u failed\n", suite, n - nfail, nfail);
	return nfail;
}

/* A VF a suite works on: created and opened before it, removed after */
struct tap_vf {
	const char *profile;
	char *uuid;		/* 40 bytes */
	struct gpup_dev *d;
};

/* The whole of a suite's main(): TAP plan, VFs, tests, clean-up */
static inline int tap_main(const char *suite, const struct tap_test *tests,
			   unsigned int n, const struct tap_vf *vfs, unsigned int nvfs)
{
	unsigned int i, nfail;
	int ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < nvfs && !ret; i++) {
		ret = gpup_vf_create(vfs[i].profile, vfs[i].uuid, 40);
		ret = ret ?: gpup_open(vfs[i].d, vfs[i].uuid);
	}
	if (ret) {
		printf("Bail out! cannot set up the VFs: %s\n", strerror(-ret));
		return 1;
	}
	nfail = tap_run(suite, tests, n);
	for (i = 0; i < nvfs; i++) {
		gpup_close(vfs[i].d);
		if (gpup_vf_remove(vfs[i].uuid)) {
			printf("# removing VF %s failed\n", vfs[i].uuid);
			nfail++;
		}
	}
	return nfail ? 1 : 0;
}

#endif
