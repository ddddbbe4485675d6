// SPDX-License-Identifier: GPL-2.0
/*
 * Populating a file mapping across a page whose read fails must fail
 * cleanly: return an error within a bound, never re-issue the read forever.
 *
 * The failing page comes from a scsi_debug disk booted with
 * scsi_debug.opts=2 (medium error): reads of sector 0x1234 and the few
 * sectors after it fail. The test maps the disk from offset 0 to a little
 * past that sector, so every page before the failing one can be read.
 *
 * Bound: the call must return within POPULATE_BOUND_S seconds. Measured
 * under QEMU TCG it returns in about 1 s; a kernel that retries forever is
 * stopped by the harness timeout and reported as a timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define MEDIUM_ERR_SECTOR	0x1234	/* scsi_debug OPT_MEDIUM_ERR_ADDR */
#define SECTOR_SIZE		512
#define PAGES_PAST_BAD		16
#define POPULATE_BOUND_S	10
#define POPULATE_TIMEOUT_S	20

/* Find the scsi_debug disk; fill @path with its /dev node. */
static int find_scsi_debug_disk(char *path, size_t len)
{
	struct dirent *de;
	char model[64];
	DIR *dir;
	int found = -1;

	dir = opendir("/sys/block");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char mpath[512];
		FILE *f;

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
		if (!found)
			break;
	}
	closedir(dir);
	return found;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Does an O_DIRECT read of the page at @off fail? A medium error comes back
 * as ENODATA, other I/O errors as EIO: either will do.
 */
static int read_fails(const char *path, off_t off, size_t psize)
{
	void *buf;
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 0;
	if (posix_memalign(&buf, psize, psize)) {
		close(fd);
		return 0;
	}
	ret = pread(fd, buf, psize, off);
	free(buf);
	close(fd);
	return ret < 0;
}

FIXTURE(eio)
{
	int fd;
	size_t psize;
	size_t size;
	unsigned long bad_page;
	char *map;
};

FIXTURE_VARIANT(eio)
{
	int map_flags;
};

FIXTURE_VARIANT_ADD(eio, shared)
{
	.map_flags = MAP_SHARED,
};

FIXTURE_VARIANT_ADD(eio, private)
{
	.map_flags = MAP_PRIVATE,
};

FIXTURE_SETUP(eio)
{
	char dev[64];
	char *probe;

	self->fd = -1;
	self->map = MAP_FAILED;
	self->psize = getpagesize();

	probe = mmap(NULL, self->psize, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(probe, MAP_FAILED);
	if (madvise(probe, self->psize, MADV_POPULATE_READ) && errno == EINVAL)
		SKIP(return, "kernel lacks MADV_POPULATE_(READ|WRITE)");
	munmap(probe, self->psize);

	if (find_scsi_debug_disk(dev, sizeof(dev)))
		SKIP(return, "no scsi_debug disk (CONFIG_SCSI_DEBUG, scsi_debug.opts=2)");

	self->bad_page = (unsigned long)MEDIUM_ERR_SECTOR * SECTOR_SIZE /
			 self->psize;
	if (!read_fails(dev, self->bad_page * self->psize, self->psize))
		SKIP(return, "%s: reading sector %#x does not fail (boot with scsi_debug.opts=2)",
		     dev, MEDIUM_ERR_SECTOR);

	self->fd = open(dev, O_RDWR);
	ASSERT_GE(self->fd, 0);
	/* Start from a cold page cache so mincore() shows what we populated. */
	ASSERT_EQ(fsync(self->fd), 0);
	ASSERT_EQ(posix_fadvise(self->fd, 0, 0, POSIX_FADV_DONTNEED), 0);

	self->size = (self->bad_page + PAGES_PAST_BAD) * self->psize;
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 variant->map_flags, self->fd, 0);
	ASSERT_NE(self->map, MAP_FAILED);
}

FIXTURE_TEARDOWN(eio)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Populate the whole mapping with @advice; expect EFAULT within the bound
 * and every page before the failing one to be resident afterwards.
 */
static void populate_expect_efault(struct __test_metadata *_metadata,
				   FIXTURE_DATA(eio) *self, int advice,
				   const char *name)
{
	unsigned char *vec;
	unsigned long i;
	double t0, dt;
	int ret, err;

	t0 = now_s();
	ret = madvise(self->map, self->size, advice);
	err = errno;
	dt = now_s() - t0;
	TH_LOG("%s over bad page %lu: ret %d errno %d after %.2f s",
	       name, self->bad_page, ret, ret ? err : 0, dt);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, EFAULT);
	ASSERT_LT(dt, POPULATE_BOUND_S);

	vec = malloc(self->size / self->psize);
	ASSERT_NE(vec, NULL);
	ASSERT_EQ(mincore(self->map, self->size, vec), 0);
	for (i = 0; i < self->bad_page; i++)
		if (!(vec[i] & 1))
			break;
	free(vec);
	EXPECT_EQ(i, self->bad_page) {
		TH_LOG("page %lu before the bad page %lu is not resident",
		       i, self->bad_page);
	}
}

TEST_F_TIMEOUT(eio, madv_populate_read, POPULATE_TIMEOUT_S)
{
	populate_expect_efault(_metadata, self, MADV_POPULATE_READ,
			       "MADV_POPULATE_READ");
}

TEST_F_TIMEOUT(eio, madv_populate_write, POPULATE_TIMEOUT_S)
{
	populate_expect_efault(_metadata, self, MADV_POPULATE_WRITE,
			       "MADV_POPULATE_WRITE");
}

TEST_HARNESS_MAIN
