/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the faultin selftests. */
#ifndef __FAULTIN_UTIL_H
#define __FAULTIN_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

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
