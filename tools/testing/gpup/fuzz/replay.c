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

static unsigned int replayed;

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
	printf("%s: replayed %u inputs%s\n", argv[0], replayed, ret ? ", then failed" : "");
	return ret ? 1 : 0;
}
