// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corpus replay: runs a fuzz target's gpup_fuzz_one_input over every
 * file named on the command line, or in a directory named there, without
 * libFuzzer, so that any C compiler (gcc with ASan and UBSan in the test
 * command) can build it.  A sanitizer report or a failed invariant aborts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"

#define MAX_RECS	256

static unsigned int replayed, variants;

static void flip_run(u8 *buf, size_t size, size_t pos)
{
	buf[pos] ^= 1 << (pos % 8);
	gpup_fuzz_one_input(buf, size);
	buf[pos] ^= 1 << (pos % 8);
	variants++;
}

/* Flip a payload bit, then make the record's CRC match it again */
static void flip_sealed_run(u8 *buf, size_t size, const struct gpup_fuzz_rec *r, size_t pos)
{
	size_t n = sizeof(struct gpup_rec_hdr) + r->length;
	u8 *crc = buf + r->off + n, old[4];

	memcpy(old, crc, sizeof(old));
	buf[pos] ^= 1 << (pos % 8);
	put_unaligned_le32(~gpup_stream_crc(GPUP_CRC_SEED, buf + r->off, n), crc);
	gpup_fuzz_one_input(buf, size);
	buf[pos] ^= 1 << (pos % 8);
	memcpy(crc, old, sizeof(old));
	variants++;
}

static void replay_edges(u8 *buf, size_t size)
{
	static struct gpup_fuzz_rec recs[MAX_RECS];
	size_t n = gpup_fuzz_records(buf, size, recs, MAX_RECS), i, k;

	for (i = 0; i < n; i++) {
		size_t pl = recs[i].off + sizeof(struct gpup_rec_hdr), len = recs[i].length;

		for (k = 0; k < sizeof(struct gpup_rec_hdr); k++)
			flip_run(buf, size, recs[i].off + k);
		if (len) {
			flip_run(buf, size, pl);
			flip_sealed_run(buf, size, &recs[i], pl);
		}
		if (len > 1) {
			flip_run(buf, size, pl + len - 1);
			flip_sealed_run(buf, size, &recs[i], pl + len - 1);
		}
		for (k = 0; k < 4; k++)
			flip_run(buf, size, pl + len + k);
	}
}

static int replay_file(const char *path)
{
	u8 *buf = NULL;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END))
		goto fail;
	size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET))
		goto fail;
	/* one byte more than needed: malloc(0) may return NULL */
	buf = malloc(size + 1);
	if (!buf || fread(buf, 1, size, f) != (size_t)size)
		goto fail;
	fclose(f);
	gpup_fuzz_one_input(buf, size);
	replay_edges(buf, size);
	free(buf);
	replayed++;
	return 0;
fail:
	perror(path);
	free(buf);
	if (f)
		fclose(f);
	return -1;
}

static int replay_dir(const char *path)
{
	char file[4096];
	struct dirent *e;
	DIR *d = opendir(path);
	int ret = 0;

	if (!d) {
		perror(path);
		return -1;
	}
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		ret = replay_file(file);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, ret = 0;

	for (i = 1; i < argc && !ret; i++) {
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 1;
		}
		ret = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
	}
	printf("%s: replayed %u inputs and %u with a bit flipped%s\n", argv[0], replayed,
	       variants, ret ? ", then failed" : "");
	return ret ? 1 : 0;
}
