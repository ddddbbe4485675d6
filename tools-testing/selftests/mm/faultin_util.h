/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the faultin selftests. */
#ifndef __FAULTIN_UTIL_H
#define __FAULTIN_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <linux/types.h>

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

/*
 * Deadlines of the faultin tests, kept in one place. A call must return
 * within its bound, or the case fails; kselftest's harness stops a case
 * still running at HANG_S(its bound), which the case's TEST_F_TIMEOUT
 * gives, and reports a timeout: a kernel that retries forever. A bound is
 * 5 times the slowest pass measured under QEMU TCG (x86_64 and arm64
 * guests on 2 host cores, every test on the bases, the fixed kernels and
 * Debian's), rounded up to a whole second and at least 2 s; time a case
 * waits on purpose comes on top.
 */
#define HANG_S(bound_s)		((bound_s) + 1)
#define POPULATE_BOUND_S	5	/* populate_eio: slowest pass 0.88 s */
#define FAIL_BOUND_S		2	/* fault_fail: 0.35 s, 0.3 s of it a wait */
#define MOVE_BOUND_S		2	/* uffd_move: 0.06 s */

/*
 * A page just faulted in or read waits in its CPU's LRU batch, and
 * MADV_PAGEOUT drains only the batch of the CPU it runs on: it cannot
 * reclaim a page still held in another CPU's batch. A test that pages out
 * what it has just touched stays on the CPU it is running on.
 */
static inline void stay_on_this_cpu(void)
{
	cpu_set_t cpus;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return;
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
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
 * The failing disk of populate_eio, populate_race and gup_pfnmap: reading
 * sectors EIO_SECTOR .. EIO_SECTOR + EIO_SECTORS - 1 fails, writing them
 * does not. It is a scsi_debug disk with opts=2 (a medium error on the
 * OPT_MEDIUM_ERR_NUM sectors at OPT_MEDIUM_ERR_ADDR): one that is there
 * already (built in, booted with scsi_debug.opts=2), or the module loaded
 * here (distribution kernels, CONFIG_SCSI_DEBUG=m). A kernel built without
 * scsi_debug (Debian's arm64 ones) gets a null_blk disk made in configfs
 * instead, with those sectors in its badblocks list. null_blk fails writes
 * of a bad sector too, so a test that writes there lifts the list first
 * (eio_disk_fail(disk, 0)). eio_disk_put() undoes what eio_disk_get() did.
 */
#define EIO_SECTOR		0x1234
#define EIO_SECTORS		10
#define EIO_DISK_MB		"8"

/* struct eio_disk.made: what eio_disk_get() set up */
#define EIO_MADE_SCSI_DEBUG	0x1	/* loaded the scsi_debug module */
#define EIO_MADE_NULL_BLK	0x2	/* loaded the null_blk module */
#define EIO_MADE_CONFIGFS	0x4	/* mounted configfs */
#define EIO_MADE_NULLB		0x8	/* made the null_blk disk */

struct eio_disk {
	char dev[300];
	int made;
};

#define SCSI_DEBUG_LOAD		"modprobe -q scsi_debug dev_size_mb=" EIO_DISK_MB " opts=2"
#define NULL_BLK_LOAD		"modprobe -q null_blk nr_devices=0"
#define CONFIGFS_DIR		"/sys/kernel/config"
#define NULLB_DIR		CONFIGFS_DIR "/nullb"
#define NULLB_NAME		"nullb_faultin"	/* its /dev and /sys/block name too */
#define NULLB_DISK		NULLB_DIR "/" NULLB_NAME
#define NULLB_DEV		"/dev/" NULLB_NAME
#define CONFIGFS_MOUNT		"mount -t configfs none " CONFIGFS_DIR
#define EIO_DISK_WAIT_MS	10000
#define NULLB_WAIT_MS		2000

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

/* Write @val to the attribute @attr of the null_blk disk; 0 or -1. */
static inline int nullb_set(const char *attr, const char *val)
{
	char path[128];
	ssize_t ret;
	int fd;

	snprintf(path, sizeof(path), NULLB_DISK "/%s", attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val));
	close(fd);
	return ret == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Make the null_blk disk: 0, or -1 with the reason in @why. null_blk names
 * a disk made in configfs after its directory; with devtmpfs the node is
 * there by the time the write of power returns.
 */
static inline int null_blk_get(struct eio_disk *d, char *why, size_t len)
{
	char bad[64];
	int ms;

	if (access("/sys/module/null_blk", F_OK)) {
		if (system(NULL_BLK_LOAD " 2>/dev/null")) {
			snprintf(why, len, "'%s' failed", NULL_BLK_LOAD);
			return -1;
		}
		d->made |= EIO_MADE_NULL_BLK;
	}
	if (access(NULLB_DIR, F_OK)) {
		if (system(CONFIGFS_MOUNT " 2>/dev/null")) {
			snprintf(why, len, "'%s' failed", CONFIGFS_MOUNT);
			return -1;
		}
		d->made |= EIO_MADE_CONFIGFS;
	}
	/* One that a case stopped in setup left behind, maybe swapped on. */
	if (!access(NULLB_DISK, F_OK)) {
		swapoff(NULLB_DEV);
		if (nullb_set("power", "0") || rmdir(NULLB_DISK)) {
			snprintf(why, len, "%s is there and cannot be removed",
				 NULLB_DISK);
			return -1;
		}
	}
	if (mkdir(NULLB_DISK, 0755)) {
		snprintf(why, len, "mkdir %s: %s", NULLB_DISK, strerror(errno));
		return -1;
	}
	d->made |= EIO_MADE_NULLB;
	snprintf(bad, sizeof(bad), "+%d-%d", EIO_SECTOR,
		 EIO_SECTOR + EIO_SECTORS - 1);
	if (nullb_set("size", EIO_DISK_MB) || nullb_set("blocksize", "512") ||
	    nullb_set("memory_backed", "1") || nullb_set("badblocks", bad) ||
	    nullb_set("power", "1")) {
		snprintf(why, len, "%s: setting it up failed", NULLB_DISK);
		return -1;
	}
	snprintf(d->dev, sizeof(d->dev), "%s", NULLB_DEV);
	for (ms = 0; ms < NULLB_WAIT_MS; ms += 100) {
		if (!access(d->dev, F_OK))
			return 0;
		usleep(100 * 1000);
	}
	snprintf(why, len, "%s did not appear in %d ms", NULLB_DEV, NULLB_WAIT_MS);
	return -1;
}

/* 0, or -1 with the reason (for a SKIP) in @why. */
static inline int eio_disk_get(struct eio_disk *d, char *why, size_t len)
{
	char nullb_why[256];
	int ms;

	d->made = 0;
	if (!find_scsi_debug_disk(d->dev, sizeof(d->dev)))
		return 0;
	if (!access("/sys/module/scsi_debug", F_OK)) {
		snprintf(why, len, "scsi_debug is %s but has no disk",
			 access("/sys/module/scsi_debug/initstate", F_OK) ?
			 "built in" : "loaded");
		return -1;
	}
	if (geteuid()) {
		snprintf(why, len,
			 "no scsi_debug disk, and loading scsi_debug or null_blk needs root");
		return -1;
	}
	if (system(SCSI_DEBUG_LOAD " 2>/dev/null")) {
		if (!null_blk_get(d, nullb_why, sizeof(nullb_why)))
			return 0;
		snprintf(why, len, "no scsi_debug disk, '%s' failed, and no null_blk disk: %s",
			 SCSI_DEBUG_LOAD, nullb_why);
		return -1;
	}
	d->made |= EIO_MADE_SCSI_DEBUG;
	for (ms = 0; ms < EIO_DISK_WAIT_MS; ms += 100) {
		if (!find_scsi_debug_disk(d->dev, sizeof(d->dev)))
			return 0;
		usleep(100 * 1000);
	}
	snprintf(why, len, "scsi_debug loaded, but no disk appeared in %d ms",
		 EIO_DISK_WAIT_MS);
	return -1;
}

/*
 * Make the bad sectors fail (@on) or not. Only a null_blk disk can be
 * told: scsi_debug fails only reads, so a write needs no change; 0 or -1.
 */
static inline int eio_disk_fail(struct eio_disk *d, int on)
{
	char bad[64];

	if (!(d->made & EIO_MADE_NULLB))
		return 0;
	snprintf(bad, sizeof(bad), "%c%d-%d", on ? '+' : '-', EIO_SECTOR,
		 EIO_SECTOR + EIO_SECTORS - 1);
	return nullb_set("badblocks", bad);
}

/* Undo what eio_disk_get() did; the disk must not be open or swapped on. */
static inline void eio_disk_put(struct eio_disk *d)
{
	if ((d->made & EIO_MADE_SCSI_DEBUG) &&
	    system("rmmod scsi_debug 2>/dev/null"))
		fprintf(stderr, "# could not remove scsi_debug\n");
	if ((d->made & EIO_MADE_NULLB) &&
	    (nullb_set("power", "0") || rmdir(NULLB_DISK)))
		fprintf(stderr, "# could not remove %s\n", NULLB_DISK);
	if ((d->made & EIO_MADE_NULL_BLK) &&
	    system("rmmod null_blk 2>/dev/null"))
		fprintf(stderr, "# could not remove null_blk\n");
	if ((d->made & EIO_MADE_CONFIGFS) &&
	    system("umount " CONFIGFS_DIR " 2>/dev/null"))
		fprintf(stderr, "# could not unmount %s\n", CONFIGFS_DIR);
	d->made = 0;
}

/*
 * gup_test's long-term pin (mm/gup_test.h; 6.2 and later), spelled out
 * here for the trees whose header lacks it.
 */
#define GUP_TEST_FILE	"/sys/kernel/debug/gup_test"

struct pin_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};

#define PIN_LONGTERM_TEST_START		_IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP		_IO('g', 8)
#define PIN_LONGTERM_TEST_FLAG_USE_FAST	2

#endif /* __FAULTIN_UTIL_H */
