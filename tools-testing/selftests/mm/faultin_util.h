/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the faultin selftests. */
#ifndef __FAULTIN_UTIL_H
#define __FAULTIN_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

/*
 * A SKIP() in FIXTURE_SETUP does not keep older kselftest harnesses (6.1)
 * from running the TEST_F body, which then fails on the half-made fixture.
 * So setup records why with SETUP_SKIP() in the fixture's 'skip' field
 * (char skip[512]) and returns, and every TEST_F body starts with
 * SKIP_IF_SETUP_SKIPPED(). FIXTURE_TEARDOWN then runs on what setup made.
 */
#define SETUP_SKIP(statement, fmt, ...) do {				\
	snprintf(self->skip, sizeof(self->skip), fmt, ##__VA_ARGS__);	\
	statement;							\
} while (0)

#define SKIP_IF_SETUP_SKIPPED() do {					\
	if (self->skip[0])						\
		SKIP(return, "%s", self->skip);				\
} while (0)

/*
 * Find the scsi_debug disk (CONFIG_SCSI_DEBUG) and put its /dev node in
 * @path. Returns 0, or -1 if there is none.
 */
static inline int find_scsi_debug_disk(char *path, size_t len)
{
	char mpath[300], model[64];
	struct dirent *de;
	int found = -1;
	DIR *dir;
	FILE *f;

	dir = opendir("/sys/block");
	if (!dir)
		return -1;
	while (found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(mpath, sizeof(mpath), "/sys/block/%s/device/model",
			 de->d_name);
		f = fopen(mpath, "r");
		if (!f)
			continue;
		if (fgets(model, sizeof(model), f) &&
		    !strncmp(model, "scsi_debug", 10)) {
			snprintf(path, len, "/dev/%s", de->d_name);
			found = 0;
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

#endif /* __FAULTIN_UTIL_H */
