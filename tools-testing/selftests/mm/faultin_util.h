/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the faultin selftests. */
#ifndef __FAULTIN_UTIL_H
#define __FAULTIN_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

/*
 * A SKIP() in FIXTURE_SETUP does not keep older kselftest harnesses (6.1)
 * from running the TEST_F body, which then fails on the half-made fixture.
 * So setup records why with SETUP_SKIP() in the fixture's 'skip' field
 * (char skip[512]) and returns, and every TEST_F body starts by skipping
 * with that reason if it is set. FIXTURE_TEARDOWN then runs on what setup
 * made.
 */
#define SETUP_SKIP(statement, fmt, ...) do {				\
	snprintf(self->skip, sizeof(self->skip), fmt, ##__VA_ARGS__);	\
	statement;							\
} while (0)

/* Kill and reap @pid if it is still there, so a failed case leaves none. */
static inline void reap(pid_t pid)
{
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Seconds on CLOCK_MONOTONIC, for timing a call against its bound. */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* kB of @key in /proc/meminfo, or -1. */
static inline long meminfo_kb(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long kb = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

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

/*
 * A scsi_debug disk that returns a medium error (opts=2) when sector
 * 0x1234 is read. If there is none and scsi_debug is a module, it is
 * loaded here with that option and removed again by scsi_debug_put(), so
 * the tests also run on distribution kernels (CONFIG_SCSI_DEBUG=m).
 */
struct scsi_debug {
	char dev[300];
	int loaded;
};

#define SCSI_DEBUG_LOAD "modprobe -q scsi_debug dev_size_mb=8 opts=2"
#define SCSI_DEBUG_WAIT_MS 10000

/* 0, or -1 with the reason (for a SKIP) in @why. */
static inline int scsi_debug_get(struct scsi_debug *sd, char *why, size_t len)
{
	int ms;

	sd->loaded = 0;
	if (!find_scsi_debug_disk(sd->dev, sizeof(sd->dev)))
		return 0;
	if (!access("/sys/module/scsi_debug", F_OK)) {
		snprintf(why, len, "scsi_debug is %s but has no disk",
			 access("/sys/module/scsi_debug/initstate", F_OK) ?
			 "built in" : "loaded");
		return -1;
	}
	if (geteuid()) {
		snprintf(why, len, "no scsi_debug disk, and loading scsi_debug needs root");
		return -1;
	}
	if (system(SCSI_DEBUG_LOAD " 2>/dev/null")) {
		snprintf(why, len, "no scsi_debug disk, and '%s' failed (CONFIG_SCSI_DEBUG=m)",
			 SCSI_DEBUG_LOAD);
		return -1;
	}
	sd->loaded = 1;
	for (ms = 0; ms < SCSI_DEBUG_WAIT_MS; ms += 100) {
		if (!find_scsi_debug_disk(sd->dev, sizeof(sd->dev)))
			return 0;
		usleep(100 * 1000);
	}
	snprintf(why, len, "scsi_debug loaded, but no disk appeared in %d ms",
		 SCSI_DEBUG_WAIT_MS);
	return -1;
}

/* Remove scsi_debug if scsi_debug_get() loaded it; close the disk first. */
static inline void scsi_debug_put(struct scsi_debug *sd)
{
	if (sd->loaded && system("rmmod scsi_debug 2>/dev/null"))
		fprintf(stderr, "# could not remove scsi_debug\n");
	sd->loaded = 0;
}

#endif /* __FAULTIN_UTIL_H */
